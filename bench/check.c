/* Regression decisions. See bench/check.h. */
#include "bench/check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/measure.h"

const char *check_verdict_name(check_verdict v)
{
    static const char *const names[] = {"same", "regression", "improvement", "noisy", "refused"};
    return (unsigned)v <= CHECK_REFUSED ? names[v] : "?";
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(const double *x, size_t n, double *scratch)
{
    memcpy(scratch, x, n * sizeof *x);
    qsort(scratch, n, sizeof *scratch, cmp_double);
    return sb_percentile_sorted(scratch, n, 50);
}

static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* 95% bootstrap percentile interval of median(cur)/median(base): both samples resampled. */
static void ratio_ci(const double *base, size_t nb, const double *cur, size_t nc, double *lo, double *hi)
{
    enum { R = 2000 };
    size_t nmax = nb > nc ? nb : nc;
    double *rb = malloc(nb * sizeof *rb), *rc = malloc(nc * sizeof *rc), *scratch = malloc(nmax * sizeof *scratch);
    double *ratios = malloc(R * sizeof *ratios);
    if (!rb || !rc || !scratch || !ratios) { *lo = 0; *hi = INFINITY; goto out; }
    uint64_t s = 0xC0FFEE;
    for (int r = 0; r < R; r++) {
        for (size_t i = 0; i < nb; i++) rb[i] = base[next_rand(&s) % nb];
        for (size_t i = 0; i < nc; i++) rc[i] = cur[next_rand(&s) % nc];
        ratios[r] = median_of(rc, nc, scratch) / median_of(rb, nb, scratch);
    }
    qsort(ratios, R, sizeof *ratios, cmp_double);
    *lo = sb_percentile_sorted(ratios, R, 2.5);
    *hi = sb_percentile_sorted(ratios, R, 97.5);
out:
    free(rb); free(rc); free(scratch); free(ratios);
}

void check_compare_samples(const double *base, size_t nb, const double *cur, size_t nc, double threshold,
                           check_case_result *out)
{
    memset(out, 0, sizeof *out);
    if (!base || !cur || nb < 2 || nc < 2) { out->verdict = CHECK_REFUSED; return; }
    size_t nmax = nb > nc ? nb : nc;
    double *scratch = malloc(nmax * sizeof *scratch);
    if (!scratch) { out->verdict = CHECK_REFUSED; return; }
    out->ratio = median_of(cur, nc, scratch) / median_of(base, nb, scratch);
    free(scratch);
    out->p_value = sb_mann_whitney_p(base, nb, cur, nc, NULL);
    ratio_ci(base, nb, cur, nc, &out->ci_lo, &out->ci_hi);
    int significant = out->p_value < CHECK_ALPHA && (out->ci_lo > 1 || out->ci_hi < 1);
    if (significant && out->ratio > 1 + threshold) out->verdict = CHECK_REGRESSION;
    else if (significant && out->ratio < 1 - threshold) out->verdict = CHECK_IMPROVEMENT;
    else if (out->ci_hi > 1 + threshold || out->ci_lo < 1 - threshold) out->verdict = CHECK_NOISY;
    else out->verdict = CHECK_SAME;
}

int check_apply_rounds(check_case_result *r, const double *base_rounds, int nb, const double *cur_rounds, int nc)
{
    if (nb < 2 || nc < 2) return 0;
    double bmin = base_rounds[0], bmax = base_rounds[0], cmin = cur_rounds[0], cmax = cur_rounds[0];
    for (int i = 1; i < nb; i++) { bmin = fmin(bmin, base_rounds[i]); bmax = fmax(bmax, base_rounds[i]); }
    for (int i = 1; i < nc; i++) { cmin = fmin(cmin, cur_rounds[i]); cmax = fmax(cmax, cur_rounds[i]); }
    if (r->verdict == CHECK_REGRESSION && !(cmin > bmax)) r->verdict = CHECK_NOISY;
    if (r->verdict == CHECK_IMPROVEMENT && !(cmax < bmin)) r->verdict = CHECK_NOISY;
    return 1;
}

/* Round medians of a case (at most 16). */
static int rounds_of(const cJSON *c, double scale, double *out)
{
    int n = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(c, "round_medians_s"))
        if (cJSON_IsNumber(v) && n < 16) out[n++] = v->valuedouble * scale;
    return n;
}

/* ------------------------------------------------------------------ documents */

static const char *jstr(const cJSON *o, const char *k)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
    return s ? s : "";
}

static double jnum(const cJSON *o, const char *k, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static const cJSON *find_case(const cJSON *cases, const char *name)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) if (!strcmp(jstr(c, "name"), name)) return c;
    return NULL;
}

/* Samples of a case, each multiplied by `scale` (1, or the machine's roof for efficiency). */
static double *samples(const cJSON *c, double scale, size_t *n)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "times_s");
    int k = cJSON_GetArraySize(t);
    *n = 0;
    if (k <= 0) return NULL;
    double *x = malloc((size_t)k * sizeof *x);
    if (!x) return NULL;
    const cJSON *v;
    cJSON_ArrayForEach(v, t) if (cJSON_IsNumber(v) && v->valuedouble > 0) x[(*n)++] = v->valuedouble * scale;
    return x;
}

/* Roof of a case on a machine: GFLOP/s peak when compute-bound, GB/s when memory-bound. A
 * sample time × roof is proportional to 1/efficiency, comparable across machines. */
static double roof_of(const cJSON *machine, const cJSON *c)
{
    const cJSON *ce = cJSON_GetObjectItemCaseSensitive(machine, "ceilings");
    int one_thread = jnum(c, "threads", 0) == 1;
    if (!strcmp(jstr(c, "bound"), "compute")) {
        if (cJSON_GetObjectItemCaseSensitive(c, "pct_int8_peak")) /* int8 work: the int8 roof */
            return jnum(ce, one_thread ? "int8_gops_1t" : "int8_gops_all", 0);
        return jnum(ce, one_thread ? "fma_gflops_1t" : "fma_gflops_all", 0);
    }
    return jnum(ce, one_thread ? "read_gbs_1t" : "read_gbs", 0);
}

typedef struct row { const char *name; check_case_result r; char reason[200]; } row;

static int verdict_rank(check_verdict v)
{
    switch (v) {
    case CHECK_REGRESSION: return 0;
    case CHECK_NOISY: return 1;
    case CHECK_IMPROVEMENT: return 2;
    case CHECK_REFUSED: return 3;
    default: return 4;
    }
}

static int cmp_rows(const void *a, const void *b)
{
    const row *x = a, *y = b;
    int d = verdict_rank(x->r.verdict) - verdict_rank(y->r.verdict);
    if (d) return d;
    return (y->r.ratio > x->r.ratio) - (y->r.ratio < x->r.ratio);
}

int check_documents(const cJSON *base, const cJSON *cur, double threshold, const char *baseline_name,
                    cJSON **section, FILE *table, char *err, size_t errlen)
{
    const cJSON *bb = cJSON_GetObjectItemCaseSensitive(base, "bench"), *cb = cJSON_GetObjectItemCaseSensitive(cur, "bench");
    const cJSON *bcases = cJSON_GetObjectItemCaseSensitive(bb, "cases"), *ccases = cJSON_GetObjectItemCaseSensitive(cb, "cases");
    if (!cJSON_IsArray(bcases)) { snprintf(err, errlen, "the baseline has no bench results"); return -1; }
    if (!cJSON_IsArray(ccases)) { snprintf(err, errlen, "the current results have no bench results"); return -1; }
    const cJSON *bm = cJSON_GetObjectItemCaseSensitive(base, "machine"), *cm = cJSON_GetObjectItemCaseSensitive(cur, "machine");
    int same_machine = !strcmp(jstr(bm, "host_id"), jstr(cm, "host_id"));
    int can_normalize = cJSON_GetObjectItemCaseSensitive(bm, "ceilings") && cJSON_GetObjectItemCaseSensitive(cm, "ceilings");

    int n = cJSON_GetArraySize(bcases), nrows = 0, regressions = 0, rounds_used = 0;
    row *rows = calloc((size_t)(n > 0 ? n : 1), sizeof *rows);
    double *logs = calloc((size_t)(n > 0 ? n : 1), sizeof *logs);
    int nlogs = 0;
    if (!rows || !logs) { free(rows); free(logs); snprintf(err, errlen, "out of memory"); return -1; }
    const cJSON *b;
    cJSON_ArrayForEach(b, bcases) {
        if (strcmp(jstr(b, "status"), "ok")) continue;
        row *rw = &rows[nrows++];
        rw->name = jstr(b, "name");
        rw->r.verdict = CHECK_REFUSED;
        const cJSON *c = find_case(ccases, rw->name);
        if (!c) { snprintf(rw->reason, sizeof rw->reason, "not in the current run"); continue; }
        if (strcmp(jstr(c, "status"), "ok")) {
            snprintf(rw->reason, sizeof rw->reason, "current run: %s %s", jstr(c, "status"), jstr(c, "reason"));
            /* A kernel that now computes the wrong result is the worst regression of all. */
            if (!strcmp(jstr(c, "status"), "FAILED")) {
                rw->r.verdict = CHECK_REGRESSION;
                regressions++;
            }
            continue;
        }
        if (strcmp(jstr(b, "isa"), jstr(c, "isa"))) { snprintf(rw->reason, sizeof rw->reason, "ISA level differs (%s vs %s)", jstr(b, "isa"), jstr(c, "isa")); continue; }
        if (jnum(b, "threads", -1) != jnum(c, "threads", -2)) { snprintf(rw->reason, sizeof rw->reason, "thread count differs (%g vs %g)", jnum(b, "threads", 0), jnum(c, "threads", 0)); continue; }
        double sb = 1, sc = 1;
        if (!same_machine) {
            if (!can_normalize) { snprintf(rw->reason, sizeof rw->reason, "different machine and no measured ceilings to normalize by"); continue; }
            sb = roof_of(bm, b);
            sc = roof_of(cm, c);
            if (sb <= 0 || sc <= 0) { snprintf(rw->reason, sizeof rw->reason, "different machine and a ceiling is missing"); continue; }
        }
        size_t nb, nc;
        double *xb = samples(b, sb, &nb), *xc = samples(c, sc, &nc);
        if (nb < 2 || nc < 2) snprintf(rw->reason, sizeof rw->reason, "fewer than 2 repetitions");
        else {
            check_compare_samples(xb, nb, xc, nc, threshold, &rw->r);
            double rb[16], rc[16];
            int nrb = rounds_of(b, sb, rb), nrc = rounds_of(c, sc, rc);
            if (check_apply_rounds(&rw->r, rb, nrb, rc, nrc)) rounds_used++;
            if (rw->r.verdict == CHECK_REGRESSION) regressions++;
            if (rw->r.ratio > 0) logs[nlogs++] = log(rw->r.ratio);
        }
        free(xb);
        free(xc);
    }
    qsort(rows, (size_t)nrows, sizeof *rows, cmp_rows);

    /* Geometric mean of the ratios, 95% interval by resampling cases. */
    double gm = NAN, gm_lo = NAN, gm_hi = NAN;
    if (nlogs > 0) {
        double s = 0;
        for (int i = 0; i < nlogs; i++) s += logs[i];
        gm = exp(s / nlogs);
        enum { R = 2000 };
        double *means = malloc(R * sizeof *means);
        if (means) {
            uint64_t st = 0xBEEF;
            for (int r = 0; r < R; r++) {
                double m = 0;
                for (int i = 0; i < nlogs; i++) m += logs[next_rand(&st) % (uint64_t)nlogs];
                means[r] = m / nlogs;
            }
            qsort(means, R, sizeof *means, cmp_double);
            gm_lo = exp(sb_percentile_sorted(means, R, 2.5));
            gm_hi = exp(sb_percentile_sorted(means, R, 97.5));
            free(means);
        }
    }

    cJSON *sec = cJSON_CreateObject();
    cJSON_AddStringToObject(sec, "baseline", baseline_name ? baseline_name : "");
    cJSON_AddNumberToObject(sec, "threshold", threshold);
    cJSON_AddStringToObject(sec, "test", "mann-whitney p<0.01 and bootstrap 95% CI of the median ratio excluding 1");
    cJSON_AddStringToObject(sec, "mode", same_machine ? "time" : "efficiency");
    cJSON_AddNumberToObject(sec, "cases_with_rounds", rounds_used);
    if (nlogs > 0) {
        cJSON_AddNumberToObject(sec, "geomean_ratio", gm);
        cJSON *ci = cJSON_AddArrayToObject(sec, "geomean_ci");
        cJSON_AddItemToArray(ci, cJSON_CreateNumber(gm_lo));
        cJSON_AddItemToArray(ci, cJSON_CreateNumber(gm_hi));
    }
    cJSON *arr = cJSON_AddArrayToObject(sec, "cases");
    for (int i = 0; i < nrows; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", rows[i].name);
        cJSON_AddStringToObject(o, "verdict", check_verdict_name(rows[i].r.verdict));
        if (rows[i].reason[0]) cJSON_AddStringToObject(o, "reason", rows[i].reason);
        else {
            cJSON_AddNumberToObject(o, "ratio", rows[i].r.ratio);
            cJSON *ci = cJSON_AddArrayToObject(o, "ci");
            cJSON_AddItemToArray(ci, cJSON_CreateNumber(rows[i].r.ci_lo));
            cJSON_AddItemToArray(ci, cJSON_CreateNumber(rows[i].r.ci_hi));
            cJSON_AddNumberToObject(o, "p_value", rows[i].r.p_value);
        }
        cJSON_AddItemToArray(arr, o);
    }
    cJSON_AddNumberToObject(sec, "regressions", regressions);

    if (table) {
        fprintf(table, "comparing against %s: %s (threshold %.1f%%; a change counts when Mann-Whitney p < %.2g and the 95%% CI of the ratio excludes 1)\n",
                baseline_name ? baseline_name : "baseline",
                same_machine ? "same machine, comparing times" : "different machine, comparing efficiency (time x the machine's measured roof)",
                threshold * 100, CHECK_ALPHA);
        if (rounds_used == 0)
            fprintf(table, "note: the runs have no rounds (bench --rounds N), so run-to-run drift is not measured; on a shared machine, expect false alarms\n");
        else
            fprintf(table, "run-to-run drift: a change must also hold across rounds (every round slower, or faster) in %d case(s)\n", rounds_used);
        fprintf(table, "%-12s %-52s %8s %19s %9s\n", "verdict", "case", "ratio", "95% CI", "p");
        for (int i = 0; i < nrows; i++) {
            if (rows[i].reason[0]) fprintf(table, "%-12s %-52s %s\n", check_verdict_name(rows[i].r.verdict), rows[i].name, rows[i].reason);
            else fprintf(table, "%-12s %-52s %8.3f   [%6.3f, %6.3f] %9.2g\n", check_verdict_name(rows[i].r.verdict), rows[i].name,
                         rows[i].r.ratio, rows[i].r.ci_lo, rows[i].r.ci_hi, rows[i].r.p_value);
        }
        if (nlogs > 0) fprintf(table, "geometric mean ratio %.3f (95%% CI %.3f-%.3f) over %d cases; %d regression(s)\n", gm, gm_lo, gm_hi, nlogs, regressions);
        else fprintf(table, "no comparable cases; %d regression(s)\n", regressions);
    }
    free(rows);
    free(logs);
    *section = sec;
    return regressions;
}
