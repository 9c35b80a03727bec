/* reports/ internals shared by its files: a growing string buffer, the document model (headings,
 * paragraphs, tables, charts) that is rendered both to Markdown and to HTML, the loaded inputs
 * grouped by machine, and the chart writer. Nothing here is used outside reports/. */
#ifndef SB_REPORTS_INTERNAL_H
#define SB_REPORTS_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "reports/report.h"

/* ------------------------------------------------------------------ string buffer */

typedef struct sbuf {
    char *s;      /* NUL-terminated when len > 0 or after any append */
    size_t len;   /* bytes used, without the NUL */
    size_t cap;   /* bytes allocated */
    int oom;      /* set once an allocation failed; later appends are dropped */
} sbuf;

void sb_rep_puts(sbuf *b, const char *s);
void sb_rep_putn(sbuf *b, const char *s, size_t n);
void sb_rep_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_rep_vprintf(sbuf *b, const char *fmt, va_list ap);
void sb_rep_buf_free(sbuf *b);
/* The buffer's string (never NULL: "" when empty). */
const char *sb_rep_str(const sbuf *b);
/* A malloc'd formatted string, NULL when out of memory. */
char *sb_rep_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Appends s with & < > " ' escaped for HTML text and attribute values. */
void sb_rep_html_escape(sbuf *b, const char *s);

/* Number of a JSON member (or of a dotted path "a.b.c"), NaN when absent or not a number. */
double sb_rep_num(const cJSON *obj, const char *path);
/* String member (dotted path), NULL when absent or not a string. */
const char *sb_rep_strv(const cJSON *obj, const char *path);
/* v with `decimals` digits after the point, or "—" when v is NaN. Returns buf. */
const char *sb_rep_fmt(char *buf, size_t n, double v, int decimals);

/* ------------------------------------------------------------------ document model */

/* A table: ncols headers, cells appended row by row (row r, column c is cells[r * ncols + c]). */
typedef struct rep_table {
    int ncols;
    char **head;     /* ncols header strings */
    char *align;     /* ncols chars: 'l' or 'r' */
    char **cells;    /* n cells, n / ncols rows when complete */
    int n, cap;
    char *caption;   /* optional, printed above the table */
} rep_table;

/* A chart: NAME.gp (script), NAME.dat (data), NAME.png and NAME.svg drawn by gnuplot. */
typedef struct rep_chart {
    char *name;      /* file stem, [a-z0-9_-] */
    char *title;
    char *what;      /* one sentence saying what it shows, under the chart */
    int width, height; /* pixels of the PNG; the SVG has the same view box */
    sbuf body;       /* gnuplot commands after the terminal/output lines (settings + plot) */
    sbuf dat;        /* the data file */
    int status;      /* 0 not drawn yet, 1 drawn, -1 gnuplot failed, -2 no gnuplot */
    char *note;      /* why it was not drawn */
} rep_chart;

typedef enum { RB_HEADING, RB_TEXT, RB_TABLE, RB_CHART, RB_LIST } rep_block_kind;

typedef struct rep_block {
    rep_block_kind kind;
    int level;         /* headings: 1..3 */
    char *text;        /* heading or paragraph text (plain, rendered escaped); list: items joined by '\n' */
    char *anchor;      /* headings: id for the HTML table of contents */
    rep_table *table;
    int chart;         /* index into ctx->charts */
} rep_block;

/* ------------------------------------------------------------------ inputs */

typedef struct rep_input {
    const char *path;
    cJSON *doc;
    int machine;       /* index into ctx->machines, -1 when the document has no machine */
} rep_input;

/* One machine: the inputs whose normalized hardware identity is the same. */
typedef struct rep_machine {
    char *key;          /* "cpu model · N cores · M GiB" (normalized) */
    char *label;        /* short label for tables and charts: "M1 (AMD EPYC 9R14, 2 cores, 24 GiB)" */
    char *tag;          /* "M1", "M2", … : file names and chart keys */
    const cJSON *obj;   /* the machine object of its first input */
    const cJSON *ceilings; /* ceilings of the first input that has them, or NULL */
    int n_inputs;
    char *price_name;   /* name of the matching prices entry, NULL when none */
    double price_usd, watts, usd_per_hour; /* NaN when not given */
} rep_machine;

/* One eval.models[] entry of one input. */
typedef struct rep_model {
    const cJSON *obj;
    int input, machine;
    char *label;        /* "name · backend Nt", "(file)" when one machine has the same run twice, " · M2" with several machines */
    char *short_label;  /* the label without the machine tag: for per-machine charts */
    const char *dup_of_file; /* file name of its input when the label needed it, else NULL */
} rep_model;

typedef struct rep_ctx {
    const sb_report_opts *opts;
    rep_input *in;
    int n_in;
    rep_machine *machines;
    int n_machines;
    rep_model *models;
    int n_models;
    double usd_per_kwh;  /* prices file top level, NaN when absent */
    int have_prices;

    rep_block *blocks;
    int n_blocks, cap_blocks;
    rep_chart *charts;
    int n_charts, cap_charts;
    int oom;
} rep_ctx;

/* Document building; every function copies its strings. */
void sb_rep_heading(rep_ctx *c, int level, const char *anchor, const char *text);
void sb_rep_text(rep_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_rep_list(rep_ctx *c, const char *items_nl);
rep_table *sb_rep_table_new(int ncols, const char *const *head, const char *align);
void sb_rep_cell(rep_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_rep_table_free(rep_table *t);
/* Appends the table to the document, which then owns it. */
void sb_rep_add_table(rep_ctx *c, rep_table *t);
/* A new chart placed at this point of the document; the caller fills body and dat. NULL on OOM. */
rep_chart *sb_rep_chart(rep_ctx *c, const char *name, const char *title, const char *what, int width, int height);

/* Renders the document. */
void sb_rep_render_md(const rep_ctx *c, sbuf *out);
void sb_rep_render_html(const rep_ctx *c, const char *dir, sbuf *out);

/* Writes NAME.gp and NAME.dat of every chart into dir; runs gnuplot on each when found.
 * Returns -1 (err) only when a file cannot be written. */
int sb_rep_charts_write(rep_ctx *c, const char *dir, const char *gnuplot, sb_report_summary *sum, char *err, size_t errlen);

/* Appends s as a gnuplot single-quoted string ('' inside). */
void sb_rep_gp_quote(sbuf *b, const char *s);
/* Appends s as a data-file column: "double-quoted", with " and newlines replaced. */
void sb_rep_dat_str(sbuf *b, const char *s);

/* Inputs (input.c). */
int sb_rep_load_inputs(rep_ctx *c, char *err, size_t errlen);
int sb_rep_load_prices(rep_ctx *c, const char *path, char *err, size_t errlen);
void sb_rep_free_inputs(rep_ctx *c);
/* Normalized hardware identity of a machine object into a malloc'd string (NULL on OOM). */
char *sb_rep_machine_key(const cJSON *machine);

/* Content (sections.c): appends every section the inputs allow. */
void sb_rep_build(rep_ctx *c);

#endif
