/* reports/report.c — sb_report_run: load the inputs, build the document, write the charts' files
 * and draw them, then write report.md and report.html. */
#include "reports/internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/results.h"

static void free_doc(rep_ctx *c)
{
    for (int i = 0; i < c->n_blocks; i++) {
        free(c->blocks[i].text);
        free(c->blocks[i].anchor);
        sb_rep_table_free(c->blocks[i].table);
    }
    for (int i = 0; i < c->n_charts; i++) {
        rep_chart *ch = &c->charts[i];
        free(ch->name);
        free(ch->title);
        free(ch->what);
        free(ch->note);
        sb_rep_buf_free(&ch->body);
        sb_rep_buf_free(&ch->dat);
    }
    free(c->blocks);
    free(c->charts);
}

static int write_out(const char *dir, const char *name, const sbuf *b, char *err, size_t errlen)
{
    char path[4096];
    if (b->oom) {
        snprintf(err, errlen, "%s/%s: out of memory", dir, name);
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return sb_write_file_atomic(path, sb_rep_str(b), b->len, err, errlen);
}

int sb_report_run(const sb_report_opts *opts, sb_report_summary *summary, char *err, size_t errlen)
{
    sb_report_summary local;
    if (!summary) summary = &local;
    memset(summary, 0, sizeof *summary);
    if (!opts || opts->n_inputs < 1 || !opts->inputs || !opts->out_dir) {
        snprintf(err, errlen, "report: no input files or no output folder");
        return -1;
    }
    rep_ctx c;
    memset(&c, 0, sizeof c);
    c.opts = opts;
    c.usd_per_kwh = NAN;
    int rc = -1;
    if (sb_rep_load_inputs(&c, err, errlen)) goto out;
    if (opts->prices_path && sb_rep_load_prices(&c, opts->prices_path, err, errlen)) goto out;
    if (mkdir(opts->out_dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create the output folder: %s", opts->out_dir, strerror(errno));
        goto out;
    }
    struct stat st;
    if (stat(opts->out_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a folder", opts->out_dir);
        goto out;
    }

    sb_rep_build(&c);
    if (c.oom) {
        snprintf(err, errlen, "report: out of memory");
        goto out;
    }
    if (sb_rep_charts_write(&c, opts->out_dir, opts->gnuplot, summary, err, errlen)) goto out;

    sbuf md = {0}, html = {0};
    sb_rep_render_md(&c, &md);
    sb_rep_render_html(&c, opts->out_dir, &html);
    rc = write_out(opts->out_dir, "report.md", &md, err, errlen);
    if (!rc) rc = write_out(opts->out_dir, "report.html", &html, err, errlen);
    sb_rep_buf_free(&md);
    sb_rep_buf_free(&html);
out:
    free_doc(&c);
    sb_rep_free_inputs(&c);
    return rc;
}
