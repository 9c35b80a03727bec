/* reports/sections.c — the content of a report: which tables and charts each section of the
 * results documents gives, in reading order. Every section is left out when the inputs do not
 * have what it shows (a bench-only file gives a kernel report). Numbers are printed with the
 * precision stated under each table. */
#include "reports/internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIB 1048576.0
#define GIB 1073741824.0

/* ------------------------------------------------------------------ small helpers */

/* A set of strings in first-seen order. */
typedef struct strset { char **s; int n; } strset;

static int set_find(const strset *st, const char *s)
{
    for (int i = 0; i < st->n; i++) if (!strcmp(st->s[i], s)) return i;
    return -1;
}

static int set_add(strset *st, const char *s)
{
    int i = set_find(st, s);
    if (i >= 0) return i;
    char **n = realloc(st->s, (size_t)(st->n + 1) * sizeof *n);
    if (!n) return -1;
    st->s = n;
    if (!(st->s[st->n] = strdup(s))) return -1;
    return st->n++;
}

static void set_free(strset *st)
{
    for (int i = 0; i < st->n; i++) free(st->s[i]);
    free(st->s);
    st->s = NULL;
    st->n = 0;
}

/* v with dec decimals ("—" when NaN) in one of 16 rotating buffers: several F() may appear in
 * one printf. */
static const char *F(double v, int dec)
{
    static char bufs[16][48];
    static unsigned next;
    char *b = bufs[next++ % 16];
    return sb_rep_fmt(b, sizeof bufs[0], v, dec);
}

static double mib(double bytes) { return bytes / MIB; }

/* "" with one machine, "_m2" with several: file-name suffix of per-machine charts. */
static void mtag(const rep_ctx *c, int m, char *buf, size_t n)
{
    if (c->n_machines <= 1) { buf[0] = 0; return; }
    snprintf(buf, n, "_m%d", m + 1);
}

static const cJSON *section(const rep_ctx *c, int input, const char *name)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(c->in[input].doc, name);
    return cJSON_IsObject(s) ? s : NULL;
}

/* Name of a model entry, backend and thread count. */
static const char *mname(const rep_model *m)
{
    const char *n = sb_rep_strv(m->obj, "name");
    return n ? n : "(unnamed)";
}

static void series_key(const rep_model *m, char *buf, size_t n)
{
    const char *b = sb_rep_strv(m->obj, "backend");
    double t = sb_rep_num(m->obj, "threads");
    if (isnan(t)) snprintf(buf, n, "%s", b ? b : "?");
    else snprintf(buf, n, "%s %.0ft", b ? b : "?", t);
}

/* Slanted x labels (ending under their bar), with a left margin wide enough that the first
 * label is not cut: a label of `longest` characters reaches ~0.94 × its length to the left of its
 * tick, and the first tick is half a bar group from the axis. */
static void slanted_xtics(sbuf *b, size_t longest, int n, int width)
{
    /* At 10 pt a character is ~6.5 px; the plot is ~85% of the width. */
    double group_px = width * 0.85 / (n > 0 ? n : 1);
    double need_px = 0.94 * 6.5 * (double)longest - group_px / 2 + 12;
    double frac = need_px / width;
    if (frac < 0.1) frac = 0.1; /* room for the y label and tics */
    if (frac > 0.4) frac = 0.4;
    sb_rep_printf(b, "set xtics rotate by 20 right\nset lmargin at screen %.3f\n", frac);
}

/* A clustered bar chart: rows × series values (NaN = no bar), a value label above each bar. */
static void bar_chart(rep_ctx *c, const char *name, const char *title, const char *what, const char *ylabel,
                      const strset *rows, const strset *series, const double *v, int dec)
{
    int w = 1000, h = 560;
    rep_chart *ch = sb_rep_chart(c, name, title, what, w, h);
    if (!ch) return;
    sbuf *b = &ch->body, *d = &ch->dat;
    sb_rep_puts(d, "# row");
    for (int s = 0; s < series->n; s++) { sb_rep_puts(d, " "); sb_rep_dat_str(d, series->s[s]); }
    sb_rep_puts(d, "\n");
    size_t longest = 0;
    double lo = INFINITY, hi = 0;
    for (int i = 0; i < rows->n * series->n; i++)
        if (v[i] > 0) { lo = fmin(lo, v[i]); hi = fmax(hi, v[i]); }
    int logy = hi > 0 && hi / lo > 30; /* one tall bar would flatten the others */
    for (int r = 0; r < rows->n; r++) {
        if (strlen(rows->s[r]) > longest) longest = strlen(rows->s[r]);
        sb_rep_dat_str(d, rows->s[r]);
        for (int s = 0; s < series->n; s++) {
            double x = v[r * series->n + s];
            if (isnan(x)) sb_rep_puts(d, " NaN");
            else sb_rep_printf(d, " %.6g", x);
        }
        sb_rep_puts(d, "\n");
    }
    sb_rep_puts(b, "set title "); sb_rep_gp_quote(b, title);
    sb_rep_puts(b, " font ',13'\nset ylabel ");
    char *yl = sb_rep_strf("%s%s", ylabel, logy ? " (log scale)" : "");
    sb_rep_gp_quote(b, yl ? yl : ylabel);
    free(yl);
    if (logy) sb_rep_printf(b, "\nset logscale y\nset yrange [%.6g:*]", pow(10, floor(log10(lo / 1.5))));
    else sb_rep_puts(b, "\nset yrange [0:*]");
    sb_rep_printf(b, "\nset xrange [-0.5:%d.5]", rows->n - 1);
    sb_rep_puts(b, "\nset datafile missing 'NaN'\nset style data histograms\nset style histogram clustered gap 1\n"
                   "set style fill solid 0.85 border -1\nset boxwidth 0.95 relative\nset grid ytics lc rgb '#dddddd'\n"
                   "set offsets 0, 0, graph 0.12, 0\nset key top right box opaque width 1.5\n"
                   "set xtics nomirror\nset ytics nomirror\nset border 3\n"
                   "set linetype 1 lc rgb '#3465a4'\nset linetype 2 lc rgb '#f57900'\nset linetype 3 lc rgb '#4e9a06'\n"
                   "set linetype 4 lc rgb '#75507b'\nset linetype 5 lc rgb '#c4a000'\nset linetype 6 lc rgb '#cc0000'\n");
    if (longest > 12 || rows->n > 6) slanted_xtics(b, longest, rows->n, w);
    sb_rep_printf(b, "NS = %d\nplot ", series->n);
    for (int s = 0; s < series->n; s++) {
        sb_rep_printf(b, "%s'%s.dat' using %d%s title ", s ? ", \\\n     " : "", name, s + 2, s ? "" : ":xtic(1)");
        sb_rep_gp_quote(b, series->s[s]);
    }
    /* Bar s of row r is centred at r + (s - (NS-1)/2) / (NS + gap). */
    /* Value labels: the stated decimals for values >= 1, three significant digits below. */
    for (int s = 0; s < series->n; s++)
        sb_rep_printf(b, ", \\\n     '%s.dat' using ($0 + (%d - (NS-1)/2.0)/(NS+1)):%d:"
                         "(abs(column(%d)) >= 1 ? sprintf('%%.%df', column(%d)) : sprintf('%%.3g', column(%d))) "
                         "with labels offset 0,0.7 font ',8' notitle",
                      name, s, s + 2, s + 2, dec, s + 2, s + 2);
    sb_rep_puts(b, "\n");
}

/* ------------------------------------------------------------------ title and inputs */

static void sec_title(rep_ctx *c)
{
    const char *title = c->opts->title ? c->opts->title : "slmbench report";
    sb_rep_heading(c, 1, "top", title);
    char now[64];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
    sb_rep_text(c, "Generated by `slmbench report` at %s from %d results file%s (%d machine%s). "
                   "Every number below is read from those files; nothing is re-measured.",
                now, c->n_in, c->n_in == 1 ? "" : "s", c->n_machines, c->n_machines == 1 ? "" : "s");
    const char *h[] = {"file", "machine", "command", "time (UTC)", "git", "sections"};
    rep_table *t2 = sb_rep_table_new(6, h, "llllll");
    for (int i = 0; i < c->n_in; i++) {
        const cJSON *run = cJSON_GetObjectItemCaseSensitive(c->in[i].doc, "run");
        const char *p = strrchr(c->in[i].path, '/');
        sb_rep_cell(t2, "%s", p ? p + 1 : c->in[i].path);
        sb_rep_cell(t2, "%s", c->machines[c->in[i].machine].tag);
        const char *cmd = sb_rep_strv(run, "command"), *tm2 = sb_rep_strv(run, "time"), *git = sb_rep_strv(run, "git");
        sb_rep_cell(t2, "%s", cmd ? cmd : "—");
        sb_rep_cell(t2, "%s", tm2 ? tm2 : "—");
        sb_rep_cell(t2, "%s", git ? git : "—");
        sbuf s = {0};
        static const char *const secs[] = {"bench", "check", "eval"};
        for (int k = 0; k < 3; k++)
            if (section(c, i, secs[k])) sb_rep_printf(&s, "%s%s", s.len ? ", " : "", secs[k]);
        sb_rep_cell(t2, "%s", s.len ? s.s : "machine only");
        sb_rep_buf_free(&s);
    }
    t2->caption = strdup("Inputs");
    sb_rep_add_table(c, t2);
}

/* ------------------------------------------------------------------ machines */

static void caches_text(const cJSON *m, sbuf *s)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(m, "caches")) {
        double lvl = sb_rep_num(e, "level"), size = sb_rep_num(e, "size_bytes"), count = sb_rep_num(e, "count");
        const char *type = sb_rep_strv(e, "type");
        if (isnan(lvl) || isnan(size)) continue;
        if (s->len) sb_rep_puts(s, ", ");
        sb_rep_printf(s, "L%.0f%s ", lvl, type && !strcmp(type, "data") ? "d" : type && !strcmp(type, "instruction") ? "i" : "");
        if (size >= MIB) sb_rep_printf(s, "%g MiB", size / MIB);
        else sb_rep_printf(s, "%g KiB", size / 1024.0);
        if (!isnan(count) && count > 1) sb_rep_printf(s, " ×%.0f", count);
    }
}

static void sec_machines(rep_ctx *c)
{
    int any = 0;
    for (int m = 0; m < c->n_machines; m++) any |= c->machines[m].obj != NULL;
    if (!any) return;
    sb_rep_heading(c, 2, "machines", "Machines");
    sb_rep_text(c, "Runs are grouped by a normalized hardware identity: CPU model (trade marks and spacing removed) + "
                   "physical cores + RAM rounded to GiB, so several runs of one machine form one column whatever its "
                   "hostname. Ceilings are measured by `slmbench hw` in the run that wrote the file (1 thread and all threads).");
    const char **h = calloc((size_t)c->n_machines + 1, sizeof *h);
    char *align = calloc((size_t)c->n_machines + 2, 1);
    if (!h || !align) { free(h); free(align); c->oom = 1; return; }
    h[0] = "";
    align[0] = 'l';
    for (int m = 0; m < c->n_machines; m++) { h[m + 1] = c->machines[m].tag; align[m + 1] = 'l'; }
    rep_table *t = sb_rep_table_new(c->n_machines + 1, h, align);
    free(h);
    free(align);
    static const char *const rows[] = {"identity", "hostname", "host_id", "CPU", "cores / threads", "ISA (kernels use)",
                                       "caches", "RAM", "NUMA nodes", "Vulkan devices", "FMA peak, 1 thread", "FMA peak, all threads",
                                       "memory read, 1 thread", "memory read, all threads", "STREAM triad", "OS", "compiler",
                                       "results files", "price (from --prices)"};
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        if (r == 18 && !c->have_prices) continue;
        sb_rep_cell(t, "%s", rows[r]);
        for (int m = 0; m < c->n_machines; m++) {
            const rep_machine *mm = &c->machines[m];
            const cJSON *o = mm->obj, *ce = mm->ceilings;
            sbuf s = {0};
            switch (r) {
            case 0: sb_rep_puts(&s, mm->key); break;
            case 1: {
                strset hn = {0};
                for (int i = 0; i < c->n_in; i++) {
                    if (c->in[i].machine != m) continue;
                    const char *x = sb_rep_strv(cJSON_GetObjectItemCaseSensitive(c->in[i].doc, "machine"), "hostname");
                    if (x) set_add(&hn, x);
                }
                for (int i = 0; i < hn.n; i++) sb_rep_printf(&s, "%s%s", i ? ", " : "", hn.s[i]);
                set_free(&hn);
                break;
            }
            case 2: sb_rep_puts(&s, sb_rep_strv(o, "host_id") ? sb_rep_strv(o, "host_id") : "—"); break;
            case 3: {
                const char *model = sb_rep_strv(o, "cpu.model"), *vendor = sb_rep_strv(o, "cpu.vendor");
                sb_rep_printf(&s, "%s%s%s%s", model ? model : "—", vendor ? " (" : "", vendor ? vendor : "", vendor ? ")" : "");
                break;
            }
            case 4: sb_rep_printf(&s, "%s cores / %s PUs, %s package(s)", F(sb_rep_num(o, "cpu.cores"), 0),
                                  F(sb_rep_num(o, "cpu.pus"), 0), F(sb_rep_num(o, "cpu.packages"), 0));
                break;
            case 5: sb_rep_puts(&s, sb_rep_strv(o, "cpu.isa_level") ? sb_rep_strv(o, "cpu.isa_level") : "—"); break;
            case 6: caches_text(o, &s); if (!s.len) sb_rep_puts(&s, "—"); break;
            case 7: sb_rep_printf(&s, "%s GiB", F(sb_rep_num(o, "memory.total_bytes") / GIB, 1)); break;
            case 8:
                if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(o, "numa")))
                    sb_rep_printf(&s, "%d", cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "numa")));
                break;
            case 9: {
                const cJSON *vk = cJSON_GetObjectItemCaseSensitive(o, "vulkan"), *d;
                cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(vk, "devices")) {
                    const char *n = sb_rep_strv(d, "name"), *ty = sb_rep_strv(d, "type");
                    sb_rep_printf(&s, "%s%s (%s)", s.len ? "; " : "", n ? n : "?", ty ? ty : "?");
                }
                if (!s.len) {
                    const char *why = sb_rep_strv(vk, "reason");
                    sb_rep_printf(&s, "none%s%s", why ? ": " : "", why ? why : "");
                }
                break;
            }
            case 10: sb_rep_printf(&s, "%s GFLOP/s", F(sb_rep_num(ce, "fma_gflops_1t"), 1)); break;
            case 11: sb_rep_printf(&s, "%s GFLOP/s (%s threads)", F(sb_rep_num(ce, "fma_gflops_all"), 1), F(sb_rep_num(ce, "threads"), 0)); break;
            case 12: sb_rep_printf(&s, "%s GB/s", F(sb_rep_num(ce, "read_gbs_1t"), 1)); break;
            case 13: sb_rep_printf(&s, "%s GB/s", F(sb_rep_num(ce, "read_gbs"), 1)); break;
            case 14: sb_rep_printf(&s, "%s GB/s", F(sb_rep_num(ce, "triad_gbs"), 1)); break;
            case 15: {
                const char *sn = sb_rep_strv(o, "os.sysname"), *rel = sb_rep_strv(o, "os.release"), *ma = sb_rep_strv(o, "os.machine");
                sb_rep_printf(&s, "%s %s %s", sn ? sn : "—", rel ? rel : "", ma ? ma : "");
                break;
            }
            case 16: sb_rep_puts(&s, sb_rep_strv(o, "build.compiler") ? sb_rep_strv(o, "build.compiler") : "—"); break;
            case 17: sb_rep_printf(&s, "%d", mm->n_inputs); break;
            case 18:
                if (!mm->price_name) sb_rep_puts(&s, "no entry matches");
                else {
                    sb_rep_puts(&s, mm->price_name);
                    if (!isnan(mm->price_usd)) sb_rep_printf(&s, ", $%s", F(mm->price_usd, 0));
                    if (!isnan(mm->watts)) sb_rep_printf(&s, ", %s W", F(mm->watts, 0));
                    if (!isnan(mm->usd_per_hour)) sb_rep_printf(&s, ", $%s/hour", F(mm->usd_per_hour, 3));
                }
                break;
            }
            sb_rep_cell(t, "%s", s.len ? s.s : "—");
            sb_rep_buf_free(&s);
        }
    }
    sb_rep_add_table(c, t);
    sb_rep_text(c, "Precision: GFLOP/s and GB/s 1 decimal (GB = 1e9 bytes); RAM in GiB (2^30 bytes) 1 decimal.");
}

/* ------------------------------------------------------------------ accuracy */

static const cJSON *task_of(const rep_model *m, const char *task)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m->obj, "tasks"), task);
}

static void sec_accuracy(rep_ctx *c)
{
    strset tasks = {0};
    for (int i = 0; i < c->n_models; i++) {
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(c->models[i].obj, "tasks"))
            if (cJSON_IsObject(t) && t->string) set_add(&tasks, t->string);
    }
    if (!tasks.n) { set_free(&tasks); return; }
    sb_rep_heading(c, 2, "accuracy", "Accuracy");
    sb_rep_text(c, "Models × tasks: `acc` ± its standard error (perplexity tasks show `ppl` ± stderr; lower is better). "
                   "The per-task details and the paired comparisons follow.");
    const char **h = calloc((size_t)tasks.n + 1, sizeof *h);
    char *al = calloc((size_t)tasks.n + 2, 1);
    if (!h || !al) { free(h); free(al); set_free(&tasks); c->oom = 1; return; }
    h[0] = "model";
    al[0] = 'l';
    for (int k = 0; k < tasks.n; k++) { h[k + 1] = tasks.s[k]; al[k + 1] = 'r'; }
    rep_table *t = sb_rep_table_new(tasks.n + 1, h, al);
    free(h);
    free(al);
    for (int i = 0; i < c->n_models; i++) {
        sb_rep_cell(t, "%s", c->models[i].label);
        for (int k = 0; k < tasks.n; k++) {
            const cJSON *tk = task_of(&c->models[i], tasks.s[k]);
            double acc = sb_rep_num(tk, "acc"), ppl = sb_rep_num(tk, "ppl");
            if (!isnan(acc)) sb_rep_cell(t, "%s ± %s", F(acc, 3), F(sb_rep_num(tk, "acc_stderr"), 3));
            else if (!isnan(ppl)) sb_rep_cell(t, "ppl %s ± %s", F(ppl, 2), F(sb_rep_num(tk, "ppl_stderr"), 2));
            else sb_rep_cell(t, "—");
        }
    }
    sb_rep_add_table(c, t);

    const char *hd[] = {"model", "task", "n", "acc", "acc stderr", "acc 95% CI", "acc_norm", "acc_norm stderr", "ppl", "ppl stderr",
                        "few-shot", "time s", "items/s"};
    rep_table *d = sb_rep_table_new(13, hd, "llrrrrrrrrrrr");
    for (int i = 0; i < c->n_models; i++) {
        for (int k = 0; k < tasks.n; k++) {
            const cJSON *tk = task_of(&c->models[i], tasks.s[k]);
            if (!tk) continue;
            const cJSON *ci = cJSON_GetObjectItemCaseSensitive(tk, "acc_ci95");
            sb_rep_cell(d, "%s", c->models[i].label);
            sb_rep_cell(d, "%s", tasks.s[k]);
            double n = sb_rep_num(tk, "n");
            if (isnan(n)) n = sb_rep_num(tk, "n_chunks");
            sb_rep_cell(d, "%s", F(n, 0));
            sb_rep_cell(d, "%s", F(sb_rep_num(tk, "acc"), 4));
            sb_rep_cell(d, "%s", F(sb_rep_num(tk, "acc_stderr"), 4));
            if (cJSON_GetArraySize(ci) == 2 && cJSON_IsNumber(cJSON_GetArrayItem(ci, 0)) && cJSON_IsNumber(cJSON_GetArrayItem(ci, 1)))
                sb_rep_cell(d, "[%s, %s]", F(cJSON_GetArrayItem(ci, 0)->valuedouble, 4), F(cJSON_GetArrayItem(ci, 1)->valuedouble, 4));
            else sb_rep_cell(d, "—");
            sb_rep_cell(d, "%s", F(sb_rep_num(tk, "acc_norm"), 4));
            sb_rep_cell(d, "%s", F(sb_rep_num(tk, "acc_norm_stderr"), 4));
            sb_rep_cell(d, "%s", F(sb_rep_num(tk, "ppl"), 4));
            sb_rep_cell(d, "%s", F(sb_rep_num(tk, "ppl_stderr"), 4));
            sb_rep_cell(d, "%s", F(sb_rep_num(tk, "fewshot"), 0));
            sb_rep_cell(d, "%s", F(sb_rep_num(tk, "time_s"), 2));
            sb_rep_cell(d, "%s", F(sb_rep_num(tk, "items_per_s"), 2));
        }
    }
    d->caption = strdup("Per model and task");
    sb_rep_add_table(c, d);
    sb_rep_text(c, "Precision: in the models × tasks table acc and its stderr 3 decimals, ppl 2 decimals; in the details "
                   "acc, acc_norm, ppl and their stderr 4 decimals, times 2 decimals. n is the number of items "
                   "(perplexity: chunks).");

    /* Paired comparisons. */
    int nc = 0;
    for (int i = 0; i < c->n_in; i++) {
        const cJSON *cmp = cJSON_GetObjectItemCaseSensitive(section(c, i, "eval"), "comparisons");
        nc += cJSON_IsArray(cmp) ? cJSON_GetArraySize(cmp) : 0;
    }
    if (nc) {
        sb_rep_heading(c, 3, "comparisons", "Paired comparisons (same items)");
        sb_rep_text(c, "diff = acc(a) − acc(b) over the same n items; McNemar's exact test on the items where exactly one "
                       "model is right; the minimum detectable difference is the smallest diff this n resolves "
                       "(α = 0.05, power 0.8).");
        int files = 0;
        for (int i = 0; i < c->n_in; i++)
            files += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(section(c, i, "eval"), "comparisons")) > 0;
        /* With several files, the first column names the file and machine each comparison is from. */
        const char *hc[] = {"file", "task", "a", "b", "n", "diff (a − b)", "McNemar p", "min detectable diff", "significant (p < 0.05)"};
        int f1 = files > 1 ? 0 : 1;
        rep_table *ct = sb_rep_table_new(9 - f1, hc + f1, "llllrrrrl" + f1);
        for (int i = 0; i < c->n_in; i++) {
            const cJSON *e;
            cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(section(c, i, "eval"), "comparisons")) {
                const char *task = sb_rep_strv(e, "task"), *ma = sb_rep_strv(e, "a"), *mb = sb_rep_strv(e, "b");
                double p = sb_rep_num(e, "mcnemar_p");
                if (!f1) {
                    const char *fn = strrchr(c->in[i].path, '/');
                    sb_rep_cell(ct, "%s (%s)", fn ? fn + 1 : c->in[i].path, c->machines[c->in[i].machine].tag);
                }
                sb_rep_cell(ct, "%s", task ? task : "?");
                sb_rep_cell(ct, "%s", ma ? ma : "?");
                sb_rep_cell(ct, "%s", mb ? mb : "?");
                sb_rep_cell(ct, "%s", F(sb_rep_num(e, "n"), 0));
                sb_rep_cell(ct, "%s", F(sb_rep_num(e, "diff"), 4));
                sb_rep_cell(ct, "%s", F(p, 4));
                sb_rep_cell(ct, "%s", F(sb_rep_num(e, "min_detectable_diff"), 4));
                sb_rep_cell(ct, "%s", isnan(p) ? "—" : p < 0.05 ? "yes" : "no");
            }
        }
        sb_rep_add_table(c, ct);
        sb_rep_text(c, "Precision: diff, p and min detectable diff 4 decimals.");
    }
    set_free(&tasks);
}

/* ------------------------------------------------------------------ latency and memory */

static int has_obj(const cJSON *o, const char *k) { return cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o, k)); }

static void sec_latency(rep_ctx *c)
{
    strset ttft = {0}, depth = {0};
    int any = 0;
    for (int i = 0; i < c->n_models; i++) {
        const cJSON *lat = cJSON_GetObjectItemCaseSensitive(c->models[i].obj, "latency"), *e;
        if (!cJSON_IsObject(lat)) continue;
        any = 1;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(lat, "ttft_ms")) if (e->string) set_add(&ttft, e->string);
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(lat, "tg_at_depth")) if (e->string) set_add(&depth, e->string);
    }
    if (!any) { set_free(&ttft); set_free(&depth); return; }
    sb_rep_heading(c, 2, "latency", "Latency");
    int nc = 1 + ttft.n + 2 + 3 + depth.n;
    const char **h = calloc((size_t)nc, sizeof *h);
    char *al = calloc((size_t)nc + 1, 1);
    char **own = calloc((size_t)nc, sizeof *own);
    if (!h || !al || !own) { free(h); free(al); free(own); c->oom = 1; set_free(&ttft); set_free(&depth); return; }
    int k = 0;
    h[k++] = "model";
    for (int i = 0; i < ttft.n; i++, k++) h[k] = own[k] = sb_rep_strf("TTFT %s-token prompt, ms", ttft.s[i]);
    h[k++] = "prefill pp512 tok/s";
    h[k++] = "decode tg128 tok/s";
    h[k++] = "ITL p50 ms";
    h[k++] = "ITL p90 ms";
    h[k++] = "ITL p99 ms";
    for (int i = 0; i < depth.n; i++, k++) h[k] = own[k] = sb_rep_strf("decode tok/s at depth %s", depth.s[i]);
    for (int i = 0; i < nc; i++) { al[i] = i ? 'r' : 'l'; if (!h[i]) h[i] = "?"; }
    rep_table *t = sb_rep_table_new(nc, h, al);
    for (int i = 0; i < nc; i++) free(own[i]);
    free(own);
    free(h);
    free(al);
    char key[160];
    for (int i = 0; i < c->n_models; i++) {
        const cJSON *lat = cJSON_GetObjectItemCaseSensitive(c->models[i].obj, "latency");
        if (!cJSON_IsObject(lat)) continue;
        sb_rep_cell(t, "%s", c->models[i].label);
        for (int j = 0; j < ttft.n; j++) {
            snprintf(key, sizeof key, "ttft_ms.%s", ttft.s[j]);
            sb_rep_cell(t, "%s", F(sb_rep_num(lat, key), 2));
        }
        sb_rep_cell(t, "%s", F(sb_rep_num(lat, "pp512_tok_s"), 1));
        sb_rep_cell(t, "%s", F(sb_rep_num(lat, "tg128_tok_s"), 1));
        sb_rep_cell(t, "%s", F(sb_rep_num(lat, "itl_ms.p50"), 3));
        sb_rep_cell(t, "%s", F(sb_rep_num(lat, "itl_ms.p90"), 3));
        sb_rep_cell(t, "%s", F(sb_rep_num(lat, "itl_ms.p99"), 3));
        for (int j = 0; j < depth.n; j++) {
            snprintf(key, sizeof key, "tg_at_depth.%s", depth.s[j]);
            sb_rep_cell(t, "%s", F(sb_rep_num(lat, key), 1));
        }
    }
    sb_rep_add_table(c, t);
    sb_rep_text(c, "Precision: TTFT 2 decimals (ms), tok/s 1 decimal, inter-token latency (ITL) 3 decimals (ms). "
                   "Definitions are in \"How it was measured\".");
    set_free(&ttft);
    set_free(&depth);
}

static void sec_memory(rep_ctx *c)
{
    int any = 0;
    for (int i = 0; i < c->n_models; i++) any |= has_obj(c->models[i].obj, "memory");
    if (!any) return;
    sb_rep_heading(c, 2, "memory", "Memory");
    const char *h[] = {"model", "peak RSS MiB", "weights MiB", "KV cache MiB", "other MiB", "n_ctx", "predicted MiB",
                       "file MiB", "machine RAM GiB", "peak RSS % of RAM"};
    rep_table *t = sb_rep_table_new(10, h, "lrrrrrrrrr");
    for (int i = 0; i < c->n_models; i++) {
        const cJSON *mem = cJSON_GetObjectItemCaseSensitive(c->models[i].obj, "memory");
        if (!cJSON_IsObject(mem)) continue;
        double rss = sb_rep_num(mem, "peak_rss_bytes"), w = sb_rep_num(mem, "weights_bytes"), kv = sb_rep_num(mem, "kv_bytes");
        double ram = sb_rep_num(c->machines[c->models[i].machine].obj, "memory.total_bytes");
        sb_rep_cell(t, "%s", c->models[i].label);
        sb_rep_cell(t, "%s", F(mib(rss), 1));
        sb_rep_cell(t, "%s", F(mib(w), 1));
        sb_rep_cell(t, "%s", F(mib(kv), 1));
        sb_rep_cell(t, "%s", F(mib(rss - w - kv), 1));
        sb_rep_cell(t, "%s", F(sb_rep_num(mem, "n_ctx"), 0));
        sb_rep_cell(t, "%s", F(mib(sb_rep_num(mem, "predicted_bytes")), 1));
        sb_rep_cell(t, "%s", F(mib(sb_rep_num(c->models[i].obj, "file_bytes")), 1));
        sb_rep_cell(t, "%s", F(ram / GIB, 1));
        sb_rep_cell(t, "%s", F(100.0 * rss / ram, 2));
    }
    sb_rep_add_table(c, t);
    sb_rep_text(c, "Precision: MiB (2^20 bytes) 1 decimal, GiB 1 decimal, percentages 2 decimals. \"other\" = peak RSS − "
                   "weights − KV cache (code, activations, scratch buffers, allocator overhead).");
}

/* ------------------------------------------------------------------ model charts */

/* The runs that have both a decode speed and accuracies, with their mean acc over the tasks all
 * of them have (so the means compare), peak RSS, and whether each is on the Pareto front. */
typedef struct acc_speed {
    int np;          /* points */
    int *pts;        /* np model indices */
    double *x, *y, *r; /* decode tok/s, mean acc, peak RSS bytes (NaN when unknown) */
    int *front;      /* 1 = on the Pareto front */
    strset common;   /* the tasks the mean is over */
} acc_speed;

static void acc_speed_free(acc_speed *a)
{
    free(a->pts); free(a->x); free(a->y); free(a->r); free(a->front);
    set_free(&a->common);
    memset(a, 0, sizeof *a);
}

/* Fills a; returns a->np, 0 when no run qualifies or they share no task (a->pts then NULL). */
static int acc_speed_points(rep_ctx *c, acc_speed *a)
{
    memset(a, 0, sizeof *a);
    a->pts = calloc((size_t)c->n_models + 1, sizeof *a->pts);
    if (!a->pts) { c->oom = 1; return 0; }
    int np = 0;
    for (int i = 0; i < c->n_models; i++) {
        const cJSON *t;
        int has_acc = 0;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(c->models[i].obj, "tasks"))
            has_acc |= !isnan(sb_rep_num(t, "acc"));
        if (has_acc && !isnan(sb_rep_num(c->models[i].obj, "latency.tg128_tok_s"))) a->pts[np++] = i;
    }
    const cJSON *t;
    if (np) {
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(c->models[a->pts[0]].obj, "tasks")) {
            if (isnan(sb_rep_num(t, "acc")) || !t->string) continue;
            int all = 1;
            for (int j = 1; j < np; j++) all &= !isnan(sb_rep_num(task_of(&c->models[a->pts[j]], t->string), "acc"));
            if (all) set_add(&a->common, t->string);
        }
    }
    a->x = calloc((size_t)np + 1, sizeof *a->x);
    a->y = calloc((size_t)np + 1, sizeof *a->y);
    a->r = calloc((size_t)np + 1, sizeof *a->r);
    a->front = calloc((size_t)np + 1, sizeof *a->front);
    if (!a->x || !a->y || !a->r || !a->front) c->oom = 1;
    if (!np || !a->common.n || c->oom) { acc_speed_free(a); return 0; }
    for (int j = 0; j < np; j++) {
        const rep_model *m = &c->models[a->pts[j]];
        a->x[j] = sb_rep_num(m->obj, "latency.tg128_tok_s");
        a->y[j] = 0;
        for (int k = 0; k < a->common.n; k++) a->y[j] += sb_rep_num(task_of(m, a->common.s[k]), "acc");
        a->y[j] /= a->common.n;
        a->r[j] = sb_rep_num(m->obj, "memory.peak_rss_bytes");
    }
    /* Pareto front: no other point is at least as fast and as accurate, and better in one. */
    for (int j = 0; j < np; j++) {
        a->front[j] = 1;
        for (int k = 0; k < np && a->front[j]; k++)
            if (k != j && a->x[k] >= a->x[j] && a->y[k] >= a->y[j] && (a->x[k] > a->x[j] || a->y[k] > a->y[j])) a->front[j] = 0;
    }
    return a->np = np;
}

static void chart_acc_speed(rep_ctx *c)
{
    acc_speed as;
    if (!acc_speed_points(c, &as)) {
        int any = 0;
        for (int i = 0; i < c->n_models; i++) any |= !isnan(sb_rep_num(c->models[i].obj, "latency.tg128_tok_s")) && has_obj(c->models[i].obj, "tasks");
        if (any) sb_rep_text(c, "No accuracy-versus-speed chart: the runs with a decode speed share no task with an accuracy.");
        return;
    }
    int np = as.np, *pts = as.pts, *front = as.front;
    double *x = as.x, *y = as.y, *r = as.r;
    strset common = as.common;
    double rmax = 0;
    for (int j = 0; j < np; j++) if (!isnan(r[j]) && r[j] > rmax) rmax = r[j];
    sbuf tl = {0};
    for (int k = 0; k < common.n; k++) sb_rep_printf(&tl, "%s%s", k ? ", " : "", common.s[k]);
    char *what = sb_rep_strf("Each point is one model run (model · back end · threads%s); y is its mean acc over %s; "
                             "point area grows with peak RSS; the dashed line joins the Pareto front (no other run is both "
                             "faster and more accurate).", c->n_machines > 1 ? " · machine" : "", sb_rep_str(&tl));
    rep_chart *ch = sb_rep_chart(c, "acc_vs_speed", "Accuracy vs decode speed", what ? what : "", 1000, 620);
    free(what);
    if (!ch) { sb_rep_buf_free(&tl); goto out; }
    sbuf *b = &ch->body, *d = &ch->dat;
    double xmin = INFINITY, xmax = 0, ymin = INFINITY, ymax = -INFINITY;
    for (int j = 0; j < np; j++) {
        xmin = fmin(xmin, x[j]); xmax = fmax(xmax, x[j]);
        ymin = fmin(ymin, y[j]); ymax = fmax(ymax, y[j]);
    }
    int logx = xmin > 0 && xmax / xmin > 30;
    /* Labels that would sit on another label are left out of the chart (the data file keeps them
     * in the last column): Pareto points are labelled first. Positions are in fractions of the
     * plotted range; a label is about 0.22 wide and 0.05 high there. */
    int *show = calloc((size_t)np, sizeof *show);
    if (!show) { c->oom = 1; sb_rep_buf_free(&tl); goto out; }
    for (int pass = 0; pass < 2; pass++) {
        for (int j = 0; j < np; j++) {
            if (front[j] != !pass) continue;
            double fx = logx ? log10(x[j] / xmin) / fmax(log10(xmax / xmin), 1e-9) : (x[j] - xmin) / fmax(xmax - xmin, 1e-9);
            double fy = (y[j] - ymin) / fmax(ymax - ymin, 1e-9);
            show[j] = 1;
            for (int k = 0; k < np && show[j]; k++) {
                if (k == j || !show[k] || (front[k] == !pass && k > j)) continue;
                double gx = logx ? log10(x[k] / xmin) / fmax(log10(xmax / xmin), 1e-9) : (x[k] - xmin) / fmax(xmax - xmin, 1e-9);
                double gy = (y[k] - ymin) / fmax(ymax - ymin, 1e-9);
                if (fabs(fx - gx) < 0.22 && fabs(fy - gy) < 0.05) show[j] = 0;
            }
        }
    }
    /* One data block per machine, then the front. */
    for (int m = 0; m < c->n_machines; m++) {
        sb_rep_printf(d, "%s# index %d: runs on %s: decode_tok_s mean_acc peak_rss_MiB point_size \"label shown\" \"run\"\n",
                      m ? "\n\n" : "", m, c->machines[m].tag);
        for (int j = 0; j < np; j++) {
            const rep_model *md = &c->models[pts[j]];
            if (md->machine != m) continue;
            double ps = isnan(r[j]) || rmax <= 0 ? 1.5 : 1.0 + 4.0 * sqrt(r[j] / rmax);
            sb_rep_printf(d, "%.6g %.6g %.6g %.3f ", x[j], y[j], mib(r[j]), ps);
            sb_rep_dat_str(d, show[j] ? md->short_label : "");
            sb_rep_puts(d, " ");
            sb_rep_dat_str(d, md->label);
            sb_rep_puts(d, "\n");
        }
    }
    free(show);
    sb_rep_printf(d, "\n\n# index %d: Pareto front, by decode speed: decode_tok_s mean_acc\n", c->n_machines);
    /* Front points sorted by speed (selection sort: a handful of points). */
    int *used = calloc((size_t)np, sizeof *used);
    for (int n = 0; used; n++) {
        int best = -1;
        for (int j = 0; j < np; j++) if (front[j] && !used[j] && (best < 0 || x[j] < x[best])) best = j;
        if (best < 0) break;
        used[best] = 1;
        sb_rep_printf(d, "%.6g %.6g\n", x[best], y[best]);
    }
    free(used);
    sb_rep_puts(b, "set title 'Accuracy vs decode speed' font ',13'\n");
    sb_rep_puts(b, "set xlabel 'decode speed, tg128 (tokens/s)'\nset ylabel ");
    char *yl = sb_rep_strf("mean accuracy (fraction correct): %s", sb_rep_str(&tl));
    sb_rep_gp_quote(b, yl ? yl : "mean accuracy");
    free(yl);
    sb_rep_buf_free(&tl);
    sb_rep_puts(b, "\nset grid lc rgb '#dddddd'\nset key bottom right box opaque\nset offsets graph 0.08, graph 0.08, graph 0.15, graph 0.15\n");
    if (logx) sb_rep_puts(b, "set logscale x\n");
    static const char *const colors[] = {"#3465a4", "#f57900", "#4e9a06", "#75507b", "#c4a000", "#06989a"};
    sb_rep_puts(b, "plot ");
    int first = 1;
    for (int m = 0; m < c->n_machines; m++) {
        int any = 0;
        for (int j = 0; j < np; j++) any |= c->models[pts[j]].machine == m;
        if (!any) continue;
        sb_rep_printf(b, "%s'acc_vs_speed.dat' index %d using 1:2:4 with points pt 7 ps variable lc rgb '%s' title ",
                      first ? "" : ", \\\n     ", m, colors[m % 6]);
        char *kt = c->n_machines > 1 ? sb_rep_strf("runs on %s (area grows with peak RSS)", c->machines[m].tag) : NULL;
        sb_rep_gp_quote(b, kt ? kt : "model run (area grows with peak RSS)");
        free(kt);
        sb_rep_printf(b, ", \\\n     '' index %d using 1:2:5 with labels offset 0,1.8 font ',9' notitle", m);
        first = 0;
    }
    sb_rep_printf(b, ", \\\n     '' index %d using 1:2 with linespoints lw 2 dt 2 pt 6 ps 3.2 lc rgb '#cc0000' "
                     "title 'Pareto front (best accuracy for its speed)'\n", c->n_machines);
out:
    acc_speed_free(&as);
}

static void chart_speed_bars(rep_ctx *c, int m, const char *field, const char *stem, const char *what_metric)
{
    strset rows = {0}, series = {0};
    char key[128];
    for (int i = 0; i < c->n_models; i++) {
        if (c->models[i].machine != m || isnan(sb_rep_num(c->models[i].obj, field))) continue;
        set_add(&rows, mname(&c->models[i]));
        series_key(&c->models[i], key, sizeof key);
        set_add(&series, key);
    }
    if (rows.n && series.n) {
        double *v = malloc(sizeof *v * (size_t)rows.n * (size_t)series.n);
        if (v) {
            for (int i = 0; i < rows.n * series.n; i++) v[i] = NAN;
            for (int i = 0; i < c->n_models; i++) {
                if (c->models[i].machine != m) continue;
                double x = sb_rep_num(c->models[i].obj, field);
                if (isnan(x)) continue;
                series_key(&c->models[i], key, sizeof key);
                v[set_find(&rows, mname(&c->models[i])) * series.n + set_find(&series, key)] = x;
            }
            char name[64], sfx[16], title[256], what[512];
            mtag(c, m, sfx, sizeof sfx);
            snprintf(name, sizeof name, "%s%s", stem, sfx);
            snprintf(title, sizeof title, "%s per model and back end%s%s", what_metric, c->n_machines > 1 ? ", " : "",
                     c->n_machines > 1 ? c->machines[m].tag : "");
            snprintf(what, sizeof what, "Bars: %s (tokens/s, higher is better) for each model (groups) and back end with its "
                                        "thread count (colours), on %s.", what_metric, c->machines[m].label);
            bar_chart(c, name, title, what, "tokens per second", &rows, &series, v, 0);
            free(v);
        } else c->oom = 1;
    }
    set_free(&rows);
    set_free(&series);
}

static void chart_memory(rep_ctx *c, int m)
{
    int n = 0;
    double top = 0;
    for (int i = 0; i < c->n_models; i++) {
        if (c->models[i].machine != m || !has_obj(c->models[i].obj, "memory")) continue;
        n++;
        double rss = sb_rep_num(c->models[i].obj, "memory.peak_rss_bytes");
        double w = sb_rep_num(c->models[i].obj, "memory.weights_bytes"), kv = sb_rep_num(c->models[i].obj, "memory.kv_bytes");
        double s = fmax(isnan(rss) ? 0 : rss, (isnan(w) ? 0 : w) + (isnan(kv) ? 0 : kv));
        if (s > top) top = s;
    }
    if (!n) return;
    char name[64], sfx[16], title[256];
    mtag(c, m, sfx, sizeof sfx);
    snprintf(name, sizeof name, "memory%s", sfx);
    snprintf(title, sizeof title, "Memory per model%s%s", c->n_machines > 1 ? ", " : "", c->n_machines > 1 ? c->machines[m].tag : "");
    double ram = sb_rep_num(c->machines[m].obj, "memory.total_bytes");
    int off = !isnan(ram) && ram > 20 * top;
    char *what = sb_rep_strf("Stacked bars: weights, KV cache at the context used, and the rest of the peak RSS, in MiB; the dashed "
                             "line is the machine's RAM%s.", off ? " (here far above the bars: its value is in the legend)" : "");
    rep_chart *ch = sb_rep_chart(c, name, title, what ? what : "", 1000, 560);
    free(what);
    if (!ch) return;
    sbuf *b = &ch->body, *d = &ch->dat;
    sb_rep_puts(d, "# \"model\" weights_MiB kv_MiB other_MiB peak_rss_MiB\n");
    size_t longest = 0;
    for (int i = 0; i < c->n_models; i++) {
        if (c->models[i].machine != m || !has_obj(c->models[i].obj, "memory")) continue;
        const cJSON *mem = cJSON_GetObjectItemCaseSensitive(c->models[i].obj, "memory");
        double rss = sb_rep_num(mem, "peak_rss_bytes"), w = sb_rep_num(mem, "weights_bytes"), kv = sb_rep_num(mem, "kv_bytes");
        double w0 = isnan(w) ? 0 : w, kv0 = isnan(kv) ? 0 : kv;
        double other = isnan(rss) ? 0 : fmax(0, rss - w0 - kv0);
        const char *label = c->models[i].short_label;
        if (strlen(label) > longest) longest = strlen(label);
        sb_rep_dat_str(d, label);
        sb_rep_printf(d, " %.6g %.6g %.6g %.6g\n", mib(w0), mib(kv0), mib(other), mib(rss));
    }
    sb_rep_puts(b, "set title "); sb_rep_gp_quote(b, title);
    sb_rep_puts(b, " font ',13'\nset ylabel 'MiB (2^20 bytes)'\nset style data histograms\nset style histogram rowstacked\n"
                   "set style fill solid 0.85 border -1\nset boxwidth 0.6\nset grid ytics lc rgb '#dddddd'\n"
                   "set key inside top left box opaque width 1.5\nset xtics nomirror\nset border 3\nset ytics nomirror\n");
    if (longest > 12 || n > 6) slanted_xtics(b, longest, n, 1000);
    sb_rep_printf(b, "set xrange [-0.5:%d.5]\n", n - 1);
    if (isnan(ram)) sb_rep_puts(b, "RAM = NaN\n");
    else sb_rep_printf(b, "RAM = %.6g  # machine RAM, MiB\n", mib(ram));
    /* Head room above the bars (or the RAM line) for the legend. */
    if (off || isnan(ram)) sb_rep_printf(b, "set yrange [0:%.6g]\n", mib(top) * 1.4);
    else sb_rep_printf(b, "set yrange [0:%.6g]\n", mib(fmax(top, ram)) * 1.4);
    sb_rep_printf(b, "plot '%s.dat' using 2:xtic(1) title 'weights' lc rgb '#3465a4', '' using 3 title 'KV cache' lc rgb '#f57900', "
                     "'' using 4 title 'other (peak RSS - weights - KV)' lc rgb '#8ae234'", name);
    if (!isnan(ram))
        sb_rep_printf(b, ", \\\n     RAM with lines dt 2 lw 2 lc rgb '#cc0000' title sprintf('machine RAM %%.1f GiB%s', RAM/1024.0)",
                      off ? " (off the scale, above)" : "");
    sb_rep_puts(b, "\n");
}

/* ------------------------------------------------------------------ several machines */

static void sec_machines_compare(rep_ctx *c)
{
    if (c->n_machines < 2 && !c->have_prices) return;
    /* Rows: the same model (name · back end · threads) on each machine. */
    strset rows = {0}, mach = {0};
    char key[256];
    for (int i = 0; i < c->n_models; i++) {
        if (isnan(sb_rep_num(c->models[i].obj, "latency.tg128_tok_s"))) continue;
        char sk[128];
        series_key(&c->models[i], sk, sizeof sk);
        snprintf(key, sizeof key, "%s · %s", mname(&c->models[i]), sk);
        set_add(&rows, key);
    }
    for (int m = 0; m < c->n_machines; m++) set_add(&mach, c->machines[m].tag);
    if (!rows.n) { set_free(&rows); set_free(&mach); return; }
    sb_rep_heading(c, 2, "compare", c->n_machines > 1 ? "Several machines" : "Value for money");
    sb_rep_text(c, "The same model on each machine. tok/s per $1000 = decode tok/s ÷ (price in $ / 1000); tok/s per W = "
                   "decode tok/s ÷ the machine's watts (= tokens per joule); $ per million tokens (rent) = $/hour ÷ "
                   "(decode tok/s × 3600) × 1e6; (energy) = watts / 1000 × $/kWh ÷ (decode tok/s × 3600) × 1e6. "
                   "Prices, watts and $/hour come from --prices (docs/reports.md), not from a measurement.");
    const char *h[] = {"model", "machine", "decode tg128 tok/s", "prefill pp512 tok/s", "price $", "tok/s per $1000", "watts",
                       "tok/s per W", "$/hour", "$ per M tokens (rent)", "$ per M tokens (energy)"};
    int ncol = c->have_prices ? 11 : 4;
    rep_table *t = sb_rep_table_new(ncol, h, "llrrrrrrrrr");
    double *tg = malloc(sizeof *tg * (size_t)rows.n * (size_t)mach.n);
    double *pd = malloc(sizeof *pd * (size_t)rows.n * (size_t)mach.n);
    double *pw = malloc(sizeof *pw * (size_t)rows.n * (size_t)mach.n);
    double *cm = malloc(sizeof *cm * (size_t)rows.n * (size_t)mach.n);
    if (!tg || !pd || !pw || !cm) { c->oom = 1; goto out; }
    for (int i = 0; i < rows.n * mach.n; i++) tg[i] = pd[i] = pw[i] = cm[i] = NAN;
    for (int r = 0; r < rows.n; r++) {
        for (int m = 0; m < c->n_machines; m++) {
            for (int i = 0; i < c->n_models; i++) {
                const rep_model *md = &c->models[i];
                if (md->machine != m) continue;
                char sk[128];
                series_key(md, sk, sizeof sk);
                snprintf(key, sizeof key, "%s · %s", mname(md), sk);
                double x = sb_rep_num(md->obj, "latency.tg128_tok_s");
                if (strcmp(key, rows.s[r]) || isnan(x)) continue;
                const rep_machine *mm = &c->machines[m];
                double per_usd = x / (mm->price_usd / 1000.0), per_w = x / mm->watts;
                double rent = mm->usd_per_hour / (x * 3600.0) * 1e6;
                double energy = mm->watts / 1000.0 * c->usd_per_kwh / (x * 3600.0) * 1e6;
                if (mm->price_usd == 0) per_usd = NAN;
                if (mm->watts == 0) per_w = NAN;
                tg[r * mach.n + m] = x;
                pd[r * mach.n + m] = per_usd;
                pw[r * mach.n + m] = per_w;
                cm[r * mach.n + m] = isnan(rent) ? energy : rent;
                sb_rep_cell(t, "%s", rows.s[r]);
                sb_rep_cell(t, "%s", mm->label);
                sb_rep_cell(t, "%s", F(x, 1));
                sb_rep_cell(t, "%s", F(sb_rep_num(md->obj, "latency.pp512_tok_s"), 1));
                if (c->have_prices) {
                    sb_rep_cell(t, "%s", F(mm->price_usd, 0));
                    sb_rep_cell(t, "%s", F(per_usd, 2));
                    sb_rep_cell(t, "%s", F(mm->watts, 0));
                    sb_rep_cell(t, "%s", F(per_w, 3));
                    sb_rep_cell(t, "%s", F(mm->usd_per_hour, 3));
                    sb_rep_cell(t, "%s", F(rent, 4));
                    sb_rep_cell(t, "%s", F(energy, 4));
                }
                break; /* one run per model and machine in this table: the first */
            }
        }
    }
    sb_rep_add_table(c, t);
    t = NULL;
    sb_rep_text(c, "Precision: tok/s 1 decimal, tok/s per $1000 2 decimals, tok/s per W 3 decimals, $/hour 3 decimals, "
                   "$ per million tokens 4 decimals. When a model ran more than once on a machine, the first run is shown.");
    if (c->n_machines > 1)
        bar_chart(c, "machines_tg", "Decode speed of each model on each machine",
                  "Bars: decode tg128 tokens/s (higher is better) of the same model, back end and threads (groups) on each "
                  "machine (colours; machine tags as in the machine table).", "decode tokens per second", &rows, &mach, tg, 0);
    if (c->have_prices) {
        int any_d = 0, any_w = 0, any_c = 0;
        for (int i = 0; i < rows.n * mach.n; i++) { any_d |= !isnan(pd[i]); any_w |= !isnan(pw[i]); any_c |= !isnan(cm[i]); }
        if (any_d)
            bar_chart(c, "machines_per_usd", "Decode tok/s per $1000 of hardware",
                      "Bars: decode tokens/s divided by the machine's price in thousands of dollars (higher is better).",
                      "decode tokens/s per $1000", &rows, &mach, pd, 1);
        if (any_w)
            bar_chart(c, "machines_per_watt", "Decode tok/s per watt",
                      "Bars: decode tokens/s divided by the machine's watts from the prices file, i.e. tokens per joule "
                      "(higher is better).", "decode tokens/s per W", &rows, &mach, pw, 2);
        if (any_c)
            bar_chart(c, "machines_cost", "Cost per million decoded tokens",
                      "Bars: dollars per million decoded tokens from $/hour (rent), or from watts × $/kWh (energy only) "
                      "when the machine has no $/hour (lower is better).", "$ per million tokens", &rows, &mach, cm, 3);
    }
out:
    free(tg); free(pd); free(pw); free(cm);
    set_free(&rows);
    set_free(&mach);
}

/* ------------------------------------------------------------------ kernels (bench) */

/* The series a bench case belongs to: "type backend-isa Nt". */
static void case_series(const cJSON *e, char *buf, size_t n, int with_op)
{
    const char *op = sb_rep_strv(e, "op"), *ty = sb_rep_strv(e, "type"), *be = sb_rep_strv(e, "backend"), *isa = sb_rep_strv(e, "isa");
    double t = sb_rep_num(e, "threads");
    char thr[16] = "";
    if (!isnan(t)) snprintf(thr, sizeof thr, " %.0ft", t);
    snprintf(buf, n, "%s%s%s %s%s%s%s", with_op && op ? op : "", with_op && op ? " " : "", ty ? ty : "", be ? be : "?",
             isa ? "-" : "", isa ? isa : "", thr);
}

static int case_ok(const cJSON *e)
{
    const char *st = sb_rep_strv(e, "status");
    return (!st || !strcmp(st, "ok"));
}

static void chart_kernels(rep_ctx *c, int m, const strset *ops)
{
    const cJSON *ce = c->machines[m].ceilings;
    char sfx[16];
    mtag(c, m, sfx, sizeof sfx);
    for (int o = 0; o < ops->n; o++) {
        /* GFLOP/s when every timed case of the op counts flops, else GB/s. */
        int flops = 1, n = 0, all1t = 1;
        strset series = {0};
        char key[256];
        for (int i = 0; i < c->n_in; i++) {
            if (c->in[i].machine != m) continue;
            const cJSON *e;
            cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(section(c, i, "bench"), "cases")) {
                const char *op = sb_rep_strv(e, "op");
                if (!op || strcmp(op, ops->s[o]) || !case_ok(e)) continue;
                if (!(sb_rep_num(e, "flops") > 0) || isnan(sb_rep_num(e, "gflops"))) flops = 0;
                if (sb_rep_num(e, "threads") != 1) all1t = 0;
            }
        }
        /* Series: the cases with a point to plot (positive size and rate) in the chosen metric. */
        for (int i = 0; i < c->n_in; i++) {
            if (c->in[i].machine != m) continue;
            const cJSON *e;
            cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(section(c, i, "bench"), "cases")) {
                const char *op = sb_rep_strv(e, "op");
                if (!op || strcmp(op, ops->s[o]) || !case_ok(e)) continue;
                if (!(sb_rep_num(e, flops ? "flops" : "bytes") > 0) || !(sb_rep_num(e, flops ? "gflops" : "gbs") > 0)) continue;
                case_series(e, key, sizeof key, 0);
                set_add(&series, key);
                n++;
            }
        }
        if (!n) { set_free(&series); continue; }
        char name[96], title[256];
        snprintf(name, sizeof name, "kernel_%s%s", ops->s[o], sfx);
        for (char *p = name; *p; p++) if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-') *p = '_';
        double peak = flops ? sb_rep_num(ce, all1t ? "fma_gflops_1t" : "fma_gflops_all")
                            : sb_rep_num(ce, all1t ? "read_gbs_1t" : "read_gbs");
        snprintf(title, sizeof title, "Kernel %s: %s vs size%s%s", ops->s[o], flops ? "GFLOP/s" : "GB/s",
                 c->n_machines > 1 ? ", " : "", c->n_machines > 1 ? c->machines[m].tag : "");
        char *what = sb_rep_strf("One line per weight type, back end and threads; x is the work per call (%s), y the rate from the "
                                 "median time; the dashed line is the machine's measured %s (%s).",
                                 flops ? "floating-point operations" : "bytes moved",
                                 flops ? "FMA peak" : "memory read bandwidth", all1t ? "1 thread" : "all threads");
        rep_chart *ch = sb_rep_chart(c, name, title, what ? what : "", 1000, 600);
        free(what);
        if (!ch) { set_free(&series); return; }
        sbuf *b = &ch->body, *d = &ch->dat;
        for (int s = 0; s < series.n; s++) {
            sb_rep_printf(d, "%s# index %d: ", s ? "\n\n" : "", s);
            sb_rep_dat_str(d, series.s[s]);
            sb_rep_printf(d, " — %s rate \"case\"\n", flops ? "flops_per_call GFLOP/s" : "bytes_per_call GB/s");
            /* Points sorted by size (insertion order is the suite's; sort here). */
            double last = -1;
            for (;;) {
                double best = INFINITY, by = 0;
                const char *bn = NULL;
                for (int i = 0; i < c->n_in; i++) {
                    if (c->in[i].machine != m) continue;
                    const cJSON *e;
                    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(section(c, i, "bench"), "cases")) {
                        const char *op = sb_rep_strv(e, "op");
                        if (!op || strcmp(op, ops->s[o]) || !case_ok(e)) continue;
                        case_series(e, key, sizeof key, 0);
                        if (strcmp(key, series.s[s])) continue;
                        double x = sb_rep_num(e, flops ? "flops" : "bytes"), y = sb_rep_num(e, flops ? "gflops" : "gbs");
                        if (x > last && x < best && y > 0) { best = x; by = y; bn = sb_rep_strv(e, "name"); }
                    }
                }
                if (!isfinite(best)) break;
                sb_rep_printf(d, "%.6g %.6g ", best, by);
                sb_rep_dat_str(d, bn ? bn : "");
                sb_rep_puts(d, "\n");
                last = best;
            }
        }
        sb_rep_puts(b, "set title "); sb_rep_gp_quote(b, title);
        sb_rep_printf(b, " font ',13'\nset logscale x\nset logscale y\nset grid lc rgb '#dddddd'\nset key top left box opaque\n"
                         "set format x '%%.0s%%c'\nset offsets 0, 0, graph 0.25, 0\nset xlabel '%s'\nset ylabel '%s'\n",
                      flops ? "problem size: floating-point operations per call (k = 1e3, M = 1e6, G = 1e9)"
                            : "problem size: bytes moved per call (k = 1e3, M = 1e6, G = 1e9)",
                      flops ? "GFLOP/s (1e9 FLOP per second, median time)" : "GB/s (1e9 bytes per second, median time)");
        if (isnan(peak)) sb_rep_puts(b, "PEAK = NaN  # no ceiling measured in this run\n");
        else sb_rep_printf(b, "PEAK = %.6g  # measured %s\n", peak, flops ? "FMA peak, GFLOP/s" : "read bandwidth, GB/s");
        sb_rep_puts(b, "plot ");
        for (int s = 0; s < series.n; s++) {
            sb_rep_printf(b, "%s'%s.dat' index %d using 1:2 with linespoints lw 2 pt 7 title ", s ? ", \\\n     " : "", name, s);
            sb_rep_gp_quote(b, series.s[s]);
        }
        if (!isnan(peak))
            sb_rep_printf(b, ", \\\n     PEAK with lines dt 2 lw 2 lc rgb '#cc0000' title sprintf('measured %s %%.1f %s', PEAK)",
                          flops ? "FMA peak" : "read bandwidth", flops ? "GFLOP/s" : "GB/s");
        sb_rep_puts(b, "\n");
        set_free(&series);
    }
}

static void chart_roofline(rep_ctx *c, int m)
{
    const cJSON *ce = c->machines[m].ceilings;
    double P = sb_rep_num(ce, "fma_gflops_all"), B = sb_rep_num(ce, "read_gbs");
    strset series = {0};
    char key[256];
    double xmin = INFINITY, xmax = 0, ymin = INFINITY;
    for (int i = 0; i < c->n_in; i++) {
        if (c->in[i].machine != m) continue;
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(section(c, i, "bench"), "cases")) {
            double f = sb_rep_num(e, "flops"), by = sb_rep_num(e, "bytes"), g = sb_rep_num(e, "gflops");
            if (!case_ok(e) || !(f > 0) || !(by > 0) || !(g > 0)) continue;
            const char *op = sb_rep_strv(e, "op"), *be = sb_rep_strv(e, "backend");
            snprintf(key, sizeof key, "%s %s", op ? op : "?", be ? be : "?");
            set_add(&series, key);
            xmin = fmin(xmin, f / by);
            xmax = fmax(xmax, f / by);
            ymin = fmin(ymin, g);
        }
    }
    if (!series.n || isnan(P) || isnan(B)) {
        if (series.n) sb_rep_text(c, "No roofline for %s: its results have no measured ceilings (run `slmbench hw` without --quick).",
                                  c->machines[m].tag);
        set_free(&series);
        return;
    }
    double ridge = P / B;
    xmin = fmin(xmin, ridge) / 4;
    xmax = fmax(xmax, ridge) * 4;
    char name[64], sfx[16], title[256];
    mtag(c, m, sfx, sizeof sfx);
    snprintf(name, sizeof name, "roofline%s", sfx);
    snprintf(title, sizeof title, "Roofline%s%s", c->n_machines > 1 ? ", " : "", c->n_machines > 1 ? c->machines[m].tag : "");
    rep_chart *ch = sb_rep_chart(c, name, title,
                                 "Each timed kernel case at its arithmetic intensity (FLOP per byte moved, from the flops and "
                                 "bytes the benchmark declares per call) and its GFLOP/s; the roofs are the machine's measured FMA "
                                 "peak and memory read bandwidth (all threads). A case near the sloped roof is memory bound, near the "
                                 "flat roof compute bound.", 1000, 640);
    if (!ch) { set_free(&series); return; }
    sbuf *b = &ch->body, *d = &ch->dat;
    for (int s = 0; s < series.n; s++) {
        sb_rep_printf(d, "%s# index %d: ", s ? "\n\n" : "", s);
        sb_rep_dat_str(d, series.s[s]);
        sb_rep_puts(d, " — flop_per_byte GFLOP/s \"case\"\n");
        for (int i = 0; i < c->n_in; i++) {
            if (c->in[i].machine != m) continue;
            const cJSON *e;
            cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(section(c, i, "bench"), "cases")) {
                double f = sb_rep_num(e, "flops"), by = sb_rep_num(e, "bytes"), g = sb_rep_num(e, "gflops");
                if (!case_ok(e) || !(f > 0) || !(by > 0) || !(g > 0)) continue;
                const char *op = sb_rep_strv(e, "op"), *be = sb_rep_strv(e, "backend"), *nm = sb_rep_strv(e, "name");
                snprintf(key, sizeof key, "%s %s", op ? op : "?", be ? be : "?");
                if (strcmp(key, series.s[s])) continue;
                sb_rep_printf(d, "%.6g %.6g ", f / by, g);
                sb_rep_dat_str(d, nm ? nm : "");
                sb_rep_puts(d, "\n");
            }
        }
    }
    sb_rep_puts(b, "set title "); sb_rep_gp_quote(b, title);
    sb_rep_printf(b, " font ',13'\nset logscale x\nset logscale y\nset grid lc rgb '#dddddd'\nset key top left box opaque\n"
                     "set xlabel 'arithmetic intensity (FLOP per byte moved)'\nset ylabel 'GFLOP/s (1e9 FLOP per second)'\n"
                     "P = %.6g  # measured FMA peak, GFLOP/s, all threads\nB = %.6g  # measured memory read bandwidth, GB/s, all threads\n"
                     "roof(x) = (x * B < P) ? x * B : P\nset xrange [%.6g:%.6g]\nset yrange [%.6g:%.6g]\nset samples 400\n",
                  P, B, xmin, xmax, fmin(ymin, xmin * B) / 2, P * 2);
    sb_rep_puts(b, "plot roof(x) with lines lw 3 lc rgb '#2e3436' title sprintf('roofline: min(%.0f GFLOP/s, AI x %.1f GB/s)', P, B), \\\n"
                   "     x * B with lines dt 3 lc rgb '#3465a4' title 'bandwidth roof (memory bound)', \\\n"
                   "     P with lines dt 3 lc rgb '#cc0000' title 'FMA peak roof (compute bound)'");
    for (int s = 0; s < series.n; s++) {
        static const char *const pc[] = {"#f57900", "#3465a4", "#4e9a06", "#75507b", "#cc0000", "#06989a"};
        sb_rep_printf(b, ", \\\n     '%s.dat' index %d using 1:2 with points pt %d ps 1.4 lc rgb '%s' title ", name, s,
                      5 + 2 * (s % 4), pc[s % 6]);
        sb_rep_gp_quote(b, series.s[s]);
    }
    sb_rep_puts(b, "\n");
    set_free(&series);
}

static void sec_kernels(rep_ctx *c)
{
    int any = 0;
    for (int i = 0; i < c->n_in; i++) any |= section(c, i, "bench") != NULL;
    if (!any) return;
    sb_rep_heading(c, 2, "kernels", "Kernels");
    for (int m = 0; m < c->n_machines; m++) {
        strset ops = {0};
        int n = 0;
        for (int i = 0; i < c->n_in; i++) if (c->in[i].machine == m && section(c, i, "bench")) n++;
        if (!n) continue;
        if (c->n_machines > 1) sb_rep_heading(c, 3, NULL, c->machines[m].label);
        /* Vulkan cases also carry the device time from timestamp queries: a column when any has it. */
        int dev = 0;
        for (int i = 0; i < c->n_in; i++) {
            const cJSON *e;
            if (c->in[i].machine != m) continue;
            cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(section(c, i, "bench"), "cases"))
                dev |= !isnan(sb_rep_num(e, "device_time_s"));
        }
        const char *h[] = {"case", "status", "median µs", "p10–p90 µs", "cv", "GFLOP/s", "GB/s", "% FMA peak", "% bandwidth",
                           "bound", "nmse", "ratio vs", "device µs"};
        rep_table *t = sb_rep_table_new(12 + dev, h, "llrrrrrrrlrlr");
        for (int i = 0; i < c->n_in; i++) {
            if (c->in[i].machine != m) continue;
            const cJSON *e;
            cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(section(c, i, "bench"), "cases")) {
                const char *nm = sb_rep_strv(e, "name"), *st = sb_rep_strv(e, "status"), *why = sb_rep_strv(e, "reason");
                const char *op = sb_rep_strv(e, "op");
                if (op) set_add(&ops, op);
                sb_rep_cell(t, "%s", nm ? nm : "?");
                sb_rep_cell(t, "%s%s%s", st ? st : "ok", why ? ": " : "", why ? why : "");
                sb_rep_cell(t, "%s", F(sb_rep_num(e, "stats.median_s") * 1e6, 2));
                double lo = sb_rep_num(e, "stats.p10_s"), hi = sb_rep_num(e, "stats.p90_s");
                if (isnan(lo) || isnan(hi)) sb_rep_cell(t, "—");
                else sb_rep_cell(t, "%s–%s", F(lo * 1e6, 2), F(hi * 1e6, 2));
                sb_rep_cell(t, "%s", F(sb_rep_num(e, "stats.cv"), 3));
                sb_rep_cell(t, "%s", F(sb_rep_num(e, "gflops"), 2));
                sb_rep_cell(t, "%s", F(sb_rep_num(e, "gbs"), 2));
                sb_rep_cell(t, "%s", F(sb_rep_num(e, "pct_fma_peak"), 1));
                sb_rep_cell(t, "%s", F(sb_rep_num(e, "pct_bandwidth"), 1));
                const char *bound = sb_rep_strv(e, "bound");
                sb_rep_cell(t, "%s", bound ? bound : "—");
                double nmse = sb_rep_num(e, "nmse");
                if (isnan(nmse)) sb_rep_cell(t, "—");
                else sb_rep_cell(t, "%.2e", nmse);
                sbuf s = {0};
                const cJSON *r;
                cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(e, "ratio_vs"))
                    if (cJSON_IsNumber(r) && r->string) sb_rep_printf(&s, "%s%s %.2f×", s.len ? ", " : "", r->string, r->valuedouble);
                sb_rep_cell(t, "%s", s.len ? s.s : "—");
                sb_rep_buf_free(&s);
                if (dev) sb_rep_cell(t, "%s", F(sb_rep_num(e, "device_time_s") * 1e6, 2));
            }
        }
        sb_rep_add_table(c, t);
        sb_rep_text(c, "Precision: times in µs 2 decimals, cv 3 decimals, GFLOP/s and GB/s 2 decimals, percentages 1 decimal, "
                       "nmse 3 significant digits, speed ratios 2 decimals (>1 = ours faster). FAILED cases were wrong and "
                       "never timed.");
        chart_kernels(c, m, &ops);
        chart_roofline(c, m);
        set_free(&ops);
    }
}

/* ------------------------------------------------------------------ regression check */

static void sec_check(rep_ctx *c)
{
    int k = 0;
    for (int i = 0; i < c->n_in; i++) {
        const cJSON *chk = section(c, i, "check");
        if (!chk) continue;
        if (!k++) sb_rep_heading(c, 2, "check", "Regression check");
        const char *base = sb_rep_strv(chk, "baseline"), *mode = sb_rep_strv(chk, "mode"), *test = sb_rep_strv(chk, "test");
        const cJSON *gci = cJSON_GetObjectItemCaseSensitive(chk, "geomean_ci");
        double thr = sb_rep_num(chk, "threshold");
        double glo = cJSON_IsNumber(cJSON_GetArrayItem(gci, 0)) ? cJSON_GetArrayItem(gci, 0)->valuedouble : NAN;
        double ghi = cJSON_IsNumber(cJSON_GetArrayItem(gci, 1)) ? cJSON_GetArrayItem(gci, 1)->valuedouble : NAN;
        const char *p = strrchr(c->in[i].path, '/');
        sb_rep_text(c, "%s (%s): baseline %s, mode %s, test %s, threshold %s%%. Geometric mean of the ratios %s "
                       "(CI %s–%s); %s regression(s).",
                    p ? p + 1 : c->in[i].path, c->machines[c->in[i].machine].tag, base ? base : "—", mode ? mode : "—",
                    test ? test : "—", F(thr * 100, 1), F(sb_rep_num(chk, "geomean_ratio"), 3), F(glo, 3),
                    F(ghi, 3), F(sb_rep_num(chk, "regressions"), 0));
        const char *h[] = {"case", "verdict", "ratio", "CI low", "CI high", "p-value", "reason"};
        rep_table *t = sb_rep_table_new(7, h, "llrrrrl");
        strset verdicts = {0};
        int n = 0;
        size_t longest = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(chk, "cases")) {
            const char *nm = sb_rep_strv(e, "name"), *v = sb_rep_strv(e, "verdict"), *why = sb_rep_strv(e, "reason");
            const cJSON *ci = cJSON_GetObjectItemCaseSensitive(e, "ci");
            sb_rep_cell(t, "%s", nm ? nm : "?");
            sb_rep_cell(t, "%s", v ? v : "?");
            sb_rep_cell(t, "%s", F(sb_rep_num(e, "ratio"), 3));
            sb_rep_cell(t, "%s", F(cJSON_IsNumber(cJSON_GetArrayItem(ci, 0)) ? cJSON_GetArrayItem(ci, 0)->valuedouble : NAN, 3));
            sb_rep_cell(t, "%s", F(cJSON_IsNumber(cJSON_GetArrayItem(ci, 1)) ? cJSON_GetArrayItem(ci, 1)->valuedouble : NAN, 3));
            double pv = sb_rep_num(e, "p_value");
            if (isnan(pv)) sb_rep_cell(t, "—");
            else sb_rep_cell(t, "%.2e", pv);
            sb_rep_cell(t, "%s", why ? why : "");
            if (!isnan(sb_rep_num(e, "ratio"))) {
                set_add(&verdicts, v ? v : "?");
                n++;
                if (nm && strlen(nm) > longest) longest = strlen(nm);
            }
        }
        sb_rep_add_table(c, t);
        sb_rep_text(c, "Precision: ratios and their CI 3 decimals, p-values 3 significant digits. The ratio is the one "
                       "`slmbench check` wrote (1 = unchanged; its direction and the verdicts are defined by check).");
        if (!n) { set_free(&verdicts); continue; }
        char name[32], title[160];
        snprintf(name, sizeof name, k > 1 ? "check_%d" : "check", k);
        snprintf(title, sizeof title, "Regression check%s%s: ratio per case", k > 1 ? " " : "", k > 1 ? p ? p + 1 : c->in[i].path : "");
        int h2 = 160 + 26 * n;
        rep_chart *ch = sb_rep_chart(c, name, title,
                                     "Each case's ratio against the baseline with its confidence interval (error bars), coloured by "
                                     "check's verdict; the solid line is 1 (unchanged), the dashed lines 1 ± the threshold.",
                                     1100, h2 < 360 ? 360 : h2);
        if (!ch) { set_free(&verdicts); continue; }
        sbuf *bd = &ch->body, *d = &ch->dat;
        sb_rep_puts(bd, "set title "); sb_rep_gp_quote(bd, title);
        sb_rep_printf(bd, " font ',13'\nset xlabel 'ratio current / baseline as written by slmbench check (1 = unchanged), "
                          "with confidence interval'\nset grid xtics lc rgb '#dddddd'\nset key outside top center horizontal box\n"
                          "set yrange [%d.7:-0.7]  # first case at the top\nset ytics font ',9' nomirror\n"
                          "set offsets graph 0.05, graph 0.05, 0, 0\nT = %.6g  # threshold\n",
                      n - 1, isnan(thr) ? 0.0 : thr);
        sb_rep_puts(bd, "set arrow 1 from 1, graph 0 to 1, graph 1 nohead lw 2 lc rgb '#2e3436'\n"
                        "set arrow 2 from 1 + T, graph 0 to 1 + T, graph 1 nohead dt 2 lc rgb '#888888'\n"
                        "set arrow 3 from 1 - T, graph 0 to 1 - T, graph 1 nohead dt 2 lc rgb '#888888'\n");
        sb_rep_puts(bd, "set ytics (");
        int idx = 0;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(chk, "cases")) {
            if (isnan(sb_rep_num(e, "ratio"))) continue;
            const char *nm = sb_rep_strv(e, "name");
            sb_rep_printf(bd, "%s", idx ? ", " : "");
            sb_rep_gp_quote(bd, nm ? nm : "?");
            sb_rep_printf(bd, " %d", idx++);
        }
        sb_rep_puts(bd, ")\nplot ");
        for (int v = 0; v < verdicts.n; v++) {
            const char *col = !strcmp(verdicts.s[v], "regression") ? "#cc0000" : !strcmp(verdicts.s[v], "improvement") ? "#4e9a06"
                            : !strcmp(verdicts.s[v], "noisy") ? "#f57900" : !strcmp(verdicts.s[v], "same") ? "#3465a4" : "#75507b";
            sb_rep_printf(d, "%s# index %d: verdict ", v ? "\n\n" : "", v);
            sb_rep_dat_str(d, verdicts.s[v]);
            sb_rep_puts(d, " — row ratio ci_low ci_high \"case\"\n");
            idx = 0;
            cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(chk, "cases")) {
                double r = sb_rep_num(e, "ratio");
                if (isnan(r)) continue;
                const char *vv = sb_rep_strv(e, "verdict"), *nm = sb_rep_strv(e, "name");
                const cJSON *ci = cJSON_GetObjectItemCaseSensitive(e, "ci");
                if (!strcmp(vv ? vv : "?", verdicts.s[v])) {
                    double lo = cJSON_IsNumber(cJSON_GetArrayItem(ci, 0)) ? cJSON_GetArrayItem(ci, 0)->valuedouble : r;
                    double hi = cJSON_IsNumber(cJSON_GetArrayItem(ci, 1)) ? cJSON_GetArrayItem(ci, 1)->valuedouble : r;
                    sb_rep_printf(d, "%d %.6g %.6g %.6g ", idx, r, lo, hi);
                    sb_rep_dat_str(d, nm ? nm : "");
                    sb_rep_puts(d, "\n");
                }
                idx++;
            }
            sb_rep_printf(bd, "%s'%s.dat' index %d using 2:1:3:4 with xerrorbars pt 7 ps 1.3 lw 2 lc rgb '%s' title ",
                          v ? ", \\\n     " : "", name, v, col);
            sb_rep_gp_quote(bd, verdicts.s[v]);
        }
        sb_rep_puts(bd, "\n");
        set_free(&verdicts);
    }
}

/* ------------------------------------------------------------------ how it was measured */

static void sec_method(rep_ctx *c)
{
    sb_rep_heading(c, 2, "method", "How it was measured");
    sbuf s = {0};
    for (int i = 0; i < c->n_in; i++) {
        const cJSON *be = section(c, i, "bench");
        const char *p = strrchr(c->in[i].path, '/');
        p = p ? p + 1 : c->in[i].path;
        if (be) {
            const char *suite = sb_rep_strv(be, "suite");
            sb_rep_printf(&s, "%s (%s): kernel benchmark suite `%s`, %s thread(s), each case repeated for at least %s s and "
                              "at least %s repetitions; every repetition's time is kept.\n",
                          p, c->machines[c->in[i].machine].tag, suite ? suite : "?", F(sb_rep_num(be, "threads"), 0), F(sb_rep_num(be, "min_time_s"), 2),
                          F(sb_rep_num(be, "min_reps"), 0));
        }
    }
    for (int i = 0; i < c->n_models; i++) {
        const rep_model *m = &c->models[i];
        const cJSON *t;
        sbuf tl = {0};
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(m->obj, "tasks")) {
            double fs = sb_rep_num(t, "fewshot"), lim = sb_rep_num(t, "limit");
            sb_rep_printf(&tl, "%s%s", tl.len ? ", " : "", t->string ? t->string : "?");
            if (!isnan(fs) || !isnan(lim)) {
                sb_rep_puts(&tl, " (");
                if (!isnan(fs)) sb_rep_printf(&tl, "%.0f-shot", fs);
                if (!isnan(lim)) sb_rep_printf(&tl, "%slimit %.0f", isnan(fs) ? "" : ", ", lim);
                sb_rep_puts(&tl, ")");
            }
        }
        const char *path = sb_rep_strv(m->obj, "path");
        sb_rep_printf(&s, "%s: back end %s, %s thread(s), context %s, model file %s; tasks: %s.\n", m->label,
                      sb_rep_strv(m->obj, "backend") ? sb_rep_strv(m->obj, "backend") : "?",
                      F(sb_rep_num(m->obj, "threads"), 0), F(sb_rep_num(m->obj, "n_ctx"), 0), path ? path : "—",
                      tl.len ? tl.s : "none");
        sb_rep_buf_free(&tl);
    }
    if (s.len) {
        sb_rep_heading(c, 3, NULL, "Settings of these runs");
        s.s[s.len - 1] = 0;
        sb_rep_list(c, s.s);
    }
    sb_rep_buf_free(&s);
    if (c->n_models) {
        const char *h[] = {"model run", "arch", "parameters (M)", "file MiB", "weight types (tensors)", "back end", "threads", "n_ctx"};
        rep_table *t = sb_rep_table_new(8, h, "llrrlllr");
        for (int i = 0; i < c->n_models; i++) {
            const cJSON *o = c->models[i].obj, *w;
            const char *arch = sb_rep_strv(o, "arch"), *be = sb_rep_strv(o, "backend");
            sbuf wt = {0};
            cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(o, "weight_types"))
                if (cJSON_IsNumber(w) && w->string) sb_rep_printf(&wt, "%s%s ×%.0f", wt.len ? ", " : "", w->string, w->valuedouble);
            sb_rep_cell(t, "%s", c->models[i].label);
            sb_rep_cell(t, "%s", arch ? arch : "—");
            sb_rep_cell(t, "%s", F(sb_rep_num(o, "params") / 1e6, 3));
            sb_rep_cell(t, "%s", F(mib(sb_rep_num(o, "file_bytes")), 1));
            sb_rep_cell(t, "%s", wt.len ? wt.s : "—");
            sb_rep_cell(t, "%s", be ? be : "—");
            sb_rep_cell(t, "%s", F(sb_rep_num(o, "threads"), 0));
            sb_rep_cell(t, "%s", F(sb_rep_num(o, "n_ctx"), 0));
            sb_rep_buf_free(&wt);
        }
        t->caption = strdup("Models");
        sb_rep_add_table(c, t);
        sb_rep_text(c, "Precision: parameters in millions 3 decimals, file size MiB 1 decimal.");
    }
    /* Definitions of the metrics this report shows (and the ceilings, always). */
    int acc = 0, lat = 0, mem = 0, bench = 0, chk = 0;
    for (int i = 0; i < c->n_models; i++) {
        acc |= has_obj(c->models[i].obj, "tasks");
        lat |= has_obj(c->models[i].obj, "latency");
        mem |= has_obj(c->models[i].obj, "memory");
    }
    for (int i = 0; i < c->n_in; i++) {
        bench |= section(c, i, "bench") != NULL;
        chk |= section(c, i, "check") != NULL;
    }
    sbuf d = {0};
    if (acc)
        sb_rep_puts(&d,
            "acc: fraction of items where the choice with the highest summed log-likelihood of its continuation tokens (given "
            "the prompt) is the gold answer. acc_stderr is the standard error of that mean as lm-evaluation-harness computes it "
            "(sample standard deviation / sqrt(n)); acc 95% CI is the interval the eval wrote.\n"
            "acc_norm: the same, but each choice's summed log-likelihood is divided by the length of its continuation in "
            "characters (lm-evaluation-harness's acc_norm), so long answers are not penalised for having more tokens.\n"
            "ppl (perplexity): exp of the mean negative log-likelihood per token over the scored tokens (wikitext2: llama.cpp "
            "chunking, each chunk of n_ctx tokens scored on its second half).\n");
    if (lat)
        sb_rep_puts(&d,
            "TTFT (time to first token) for an N-token prompt: from the start of prefill of the already tokenized prompt to the "
            "first generated token being sampled; tokenization is excluded; prefill and the first sample are included.\n"
            "prefill tok/s (pp512): 512 prompt tokens ÷ the time to process them in one prefill (llama-bench's pp512).\n"
            "decode tok/s (tg128): 128 generated tokens ÷ the time to generate them one at a time after the prompt "
            "(llama-bench's tg128); decode tok/s at depth D: the same with D tokens already in the context.\n"
            "ITL (inter-token latency): the time between consecutive generated tokens over at least 128 tokens; p50/p90/p99 "
            "are percentiles of those intervals.\n");
    if (mem)
        sb_rep_puts(&d,
            "peak RSS: the maximum resident set size of a process that ran only that model (one child process per model). "
            "weights: bytes of the model's tensors as loaded; KV cache: bytes of the key/value cache at the context n_ctx; "
            "predicted: the RAM the eval predicted for that context.\n");
    if (bench)
        sb_rep_puts(&d,
            "kernel times: the median of the timed repetitions; GFLOP/s = declared FLOP per call ÷ median time ÷ 1e9, GB/s = "
            "declared bytes per call ÷ median time ÷ 1e9; % of peak against the ceilings measured in the same run; p10–p90 and "
            "cv (standard deviation ÷ mean) describe the spread.\n"
            "roofline: arithmetic intensity = FLOP ÷ bytes per call; the attainable rate is min(FMA peak, intensity × read "
            "bandwidth), both measured by `slmbench hw`.\n");
    if (chk)
        sb_rep_puts(&d,
            "check: ratio and confidence interval per case and the verdict as `slmbench check` computed them (Mann–Whitney "
            "test on the repetition times against the baseline's).\n");
    sb_rep_puts(&d,
        "ceilings: FMA peak = FP32 fused multiply-adds of many independent chains (2 FLOP each) per second, 1 thread and all "
        "threads; memory read = bytes read per second from an array far larger than the caches; STREAM triad counts bytes "
        "read and written. GB = 1e9 bytes, MiB = 2^20 bytes, GiB = 2^30 bytes.");
    if (d.oom) c->oom = 1;
    sb_rep_heading(c, 3, NULL, "Definitions");
    sb_rep_list(c, sb_rep_str(&d));
    sb_rep_buf_free(&d);
}

/* A few lines that answer the usual questions first; every figure is also in a table below. */
static void sec_summary(rep_ctx *c)
{
    sbuf s = {0};
    acc_speed as;
    if (acc_speed_points(c, &as)) {
        int best = 0, fast = 0;
        for (int j = 1; j < as.np; j++) {
            if (as.y[j] > as.y[best]) best = j;
            if (as.x[j] > as.x[fast]) fast = j;
        }
        sbuf tl = {0};
        for (int k = 0; k < as.common.n; k++) sb_rep_printf(&tl, "%s%s", k ? ", " : "", as.common.s[k]);
        sb_rep_printf(&s, "Most accurate: %s, mean acc %s over %s.\n", c->models[as.pts[best]].label, F(as.y[best], 3), sb_rep_str(&tl));
        sb_rep_printf(&s, "Fastest decode: %s, %s tok/s.\n", c->models[as.pts[fast]].label, F(as.x[fast], 1));
        sb_rep_puts(&s, "Pareto front (no other run is both faster and more accurate), fastest first: ");
        int *used = calloc((size_t)as.np, sizeof *used), n = 0;
        for (; used;) {
            int b = -1;
            for (int j = 0; j < as.np; j++) if (as.front[j] && !used[j] && (b < 0 || as.x[j] > as.x[b])) b = j;
            if (b < 0) break;
            used[b] = 1;
            sb_rep_printf(&s, "%s%s (%s tok/s, acc %s)", n++ ? "; " : "", c->models[as.pts[b]].label, F(as.x[b], 1), F(as.y[b], 3));
        }
        free(used);
        sb_rep_puts(&s, ".\n");
        sb_rep_buf_free(&tl);
        acc_speed_free(&as);
    }
    int low = -1;
    for (int i = 0; i < c->n_models; i++) {
        double r = sb_rep_num(c->models[i].obj, "memory.peak_rss_bytes");
        if (r > 0 && (low < 0 || r < sb_rep_num(c->models[low].obj, "memory.peak_rss_bytes"))) low = i;
    }
    if (low >= 0)
        sb_rep_printf(&s, "Smallest peak RSS: %s, %s MiB.\n", c->models[low].label,
                      F(mib(sb_rep_num(c->models[low].obj, "memory.peak_rss_bytes")), 1));
    for (int i = 0; i < c->n_in; i++) {
        const cJSON *be = section(c, i, "bench"), *e;
        if (!be) continue;
        int ok = 0, failed = 0, skipped = 0, best = 0;
        double bp = -1;
        const cJSON *bc = NULL;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(be, "cases")) {
            const char *st = sb_rep_strv(e, "status");
            if (st && !strcmp(st, "FAILED")) failed++;
            else if (st && !strcmp(st, "skipped")) skipped++;
            else ok++;
            double p = fmax(sb_rep_num(e, "pct_fma_peak"), sb_rep_num(e, "pct_bandwidth"));
            if (case_ok(e) && p > bp) { bp = p; bc = e; best = 1; }
        }
        const char *fn = strrchr(c->in[i].path, '/');
        sb_rep_printf(&s, "Kernels (%s, %s): %d cases timed, %d FAILED (wrong results), %d skipped", fn ? fn + 1 : c->in[i].path,
                      c->machines[c->in[i].machine].tag, ok, failed, skipped);
        if (best && sb_rep_strv(bc, "name"))
            sb_rep_printf(&s, "; closest to a ceiling: %s at %s%% of %s", sb_rep_strv(bc, "name"), F(bp, 1),
                          sb_rep_num(bc, "pct_fma_peak") >= sb_rep_num(bc, "pct_bandwidth") ? "the FMA peak" : "the bandwidth");
        sb_rep_puts(&s, ".\n");
    }
    for (int i = 0; i < c->n_in; i++) {
        const cJSON *chk = section(c, i, "check"), *e;
        if (!chk) continue;
        int n = 0, reg = 0, imp = 0;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(chk, "cases")) {
            const char *v = sb_rep_strv(e, "verdict");
            n++;
            reg += v && !strcmp(v, "regression");
            imp += v && !strcmp(v, "improvement");
        }
        const char *fn = strrchr(c->in[i].path, '/');
        sb_rep_printf(&s, "Regression check (%s): %d regression(s) and %d improvement(s) in %d cases; geometric mean ratio %s.\n",
                      fn ? fn + 1 : c->in[i].path, reg, imp, n, F(sb_rep_num(chk, "geomean_ratio"), 3));
    }
    if (s.len) {
        s.s[--s.len] = 0;
        sb_rep_heading(c, 2, "summary", "Summary");
        sb_rep_list(c, s.s);
    }
    if (s.oom) c->oom = 1;
    sb_rep_buf_free(&s);
}

void sb_rep_build(rep_ctx *c)
{
    sec_title(c);
    sec_summary(c);
    sec_machines(c);
    sec_accuracy(c);
    sec_latency(c);
    sec_memory(c);
    int charts = 0;
    for (int i = 0; i < c->n_models; i++) charts |= has_obj(c->models[i].obj, "latency") || has_obj(c->models[i].obj, "memory");
    if (charts) {
        sb_rep_heading(c, 2, "model-charts", "Speed, accuracy and memory charts");
        chart_acc_speed(c);
        for (int m = 0; m < c->n_machines; m++) {
            chart_speed_bars(c, m, "latency.tg128_tok_s", "tok_s_decode", "Decode speed (tg128)");
            chart_speed_bars(c, m, "latency.pp512_tok_s", "tok_s_prefill", "Prefill speed (pp512)");
            chart_memory(c, m);
        }
    }
    sec_machines_compare(c);
    sec_kernels(c);
    sec_check(c);
    sec_method(c);
}
