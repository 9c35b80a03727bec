/* slmbench reports: turn one or more results JSON documents (docs/results-schema.md) into what a
 * person reads — report.md, a self-contained report.html, and gnuplot charts (PNG + SVG, with their
 * scripts and data kept beside them). The module only reads results JSON; it depends on nothing of
 * ours except harness/results.h. The prices file format is documented in docs/reports.md. */
#ifndef SB_REPORT_H
#define SB_REPORT_H

#include <stddef.h>

typedef struct sb_report_opts {
    const char *const *inputs; /* results JSON paths, n_inputs of them (>= 1) */
    int n_inputs;
    const char *out_dir;       /* created when absent (one level) */
    const char *prices_path;   /* NULL: no purchasing view */
    const char *title;         /* NULL: "slmbench report" */
    const char *gnuplot;       /* NULL: $SB_GNUPLOT when set, else "gnuplot" on PATH */
} sb_report_opts;

typedef struct sb_report_summary {
    int n_charts;        /* charts whose script and data were written */
    int n_drawn;         /* charts gnuplot drew (PNG and SVG) */
    int gnuplot_missing; /* 1 when no gnuplot binary was found: no chart drawn, notes in the report */
    int n_chart_errors;  /* charts for which gnuplot ran and failed (its log is kept as NAME.log) */
} sb_report_summary;

/* Reads every input, writes report.md, report.html, and per chart NAME.gp, NAME.dat (data) and,
 * when gnuplot is available, NAME.png and NAME.svg into opts->out_dir.
 * Returns 0 on success (also when gnuplot is missing: the report then says where each chart would
 * be), -1 when an input cannot be used (unreadable, not JSON, another schema_version, a bad prices
 * file) or an output cannot be written; err then names the file and, for JSON, the reason.
 * Chart failures of an installed gnuplot are counted in *summary (may be NULL), not returned. */
int sb_report_run(const sb_report_opts *opts, sb_report_summary *summary, char *err, size_t errlen);

#endif
