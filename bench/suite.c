/* Suite runner: cases × back ends, ceilings, ratios, the table and the results JSON. */
#include "bench/suite.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/measure.h"
#include "harness/results.h"
#include "kernels/vulkan/vk.h"

void bench_results_free(bench_result *rs, size_t n)
{
    for (size_t i = 0; i < n; i++) bench_result_free(&rs[i]);
    free(rs);
}

static int load_ceilings(const char *path, sb_ceilings *c, char *err, size_t errlen)
{
    cJSON *doc = sb_results_load(path, err, errlen);
    if (!doc) return -1;
    const cJSON *ce = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "machine"), "ceilings");
    if (!ce) { snprintf(err, errlen, "%s: no machine.ceilings (write it with `slmbench hw --json`)", path); cJSON_Delete(doc); return -1; }
#define GET(f) c->f = cJSON_GetObjectItem(ce, #f) ? cJSON_GetObjectItem(ce, #f)->valuedouble : 0
    GET(fma_gflops_1t); GET(fma_gflops_all); GET(read_gbs); GET(read_gbs_1t); GET(triad_gbs);
    GET(int8_gops_1t); GET(int8_gops_all);
#undef GET
    c->threads = cJSON_GetObjectItem(ce, "threads") ? cJSON_GetObjectItem(ce, "threads")->valueint : 0;
    c->isa = "loaded";
    cJSON_Delete(doc);
    return 0;
}

static void ceilings_json(cJSON *machine, const sb_ceilings *c, const char *source)
{
    cJSON_DeleteItemFromObject(machine, "ceilings");
    cJSON *cj = cJSON_AddObjectToObject(machine, "ceilings");
    cJSON_AddNumberToObject(cj, "fma_gflops_1t", c->fma_gflops_1t);
    cJSON_AddNumberToObject(cj, "fma_gflops_all", c->fma_gflops_all);
    cJSON_AddNumberToObject(cj, "threads", c->threads);
    cJSON_AddStringToObject(cj, "isa", c->isa ? c->isa : "?");
    cJSON_AddNumberToObject(cj, "read_gbs", c->read_gbs);
    cJSON_AddNumberToObject(cj, "read_gbs_1t", c->read_gbs_1t);
    cJSON_AddNumberToObject(cj, "triad_gbs", c->triad_gbs);
    if (c->int8_gops_all > 0) {
        cJSON_AddNumberToObject(cj, "int8_gops_1t", c->int8_gops_1t);
        cJSON_AddNumberToObject(cj, "int8_gops_all", c->int8_gops_all);
    }
    cJSON_AddStringToObject(cj, "source", source);
}

/* Appends a later round's samples to the case and recomputes its statistics. */
static void merge_round(bench_result *r, const bench_result *more)
{
    double *t = realloc(r->times_s, (size_t)(r->n_times + more->n_times) * sizeof *t);
    if (!t) return;
    memcpy(t + r->n_times, more->times_s, (size_t)more->n_times * sizeof *t);
    r->times_s = t;
    r->n_times += more->n_times;
    if (r->n_rounds < 16) r->round_medians_s[r->n_rounds++] = more->median_s;
    sb_stats st;
    if (sb_stats_compute(r->times_s, (size_t)r->n_times, &st) != 0) return;
    r->median_s = st.median; r->p10_s = st.p10; r->p90_s = st.p90; r->cv = st.cv;
    r->ci_lo_s = st.ci_lo; r->ci_hi_s = st.ci_hi; r->mean_s = st.mean; r->stddev_s = st.stddev;
    r->cpu_time_s = (r->cpu_time_s + more->cpu_time_s) / 2;
}

static void fmt_time(double s, char *buf, size_t len)
{
    if (s < 1e-3) snprintf(buf, len, "%.2f us", s * 1e6);
    else if (s < 1) snprintf(buf, len, "%.3f ms", s * 1e3);
    else snprintf(buf, len, "%.3f s", s);
}

int bench_run_suite(const bench_suite_opts *o, cJSON *doc, FILE *table, bench_result **results_out,
                    size_t *n_out, char *err, size_t errlen)
{
    size_t ncases;
    const bench_case *cases = bench_suite(o->suite, &ncases);
    if (!cases) { snprintf(err, errlen, "unknown suite '%s' (quick, standard, full)", o->suite); return -1; }
    regex_t re;
    if (o->filter && regcomp(&re, o->filter, REG_EXTENDED | REG_NOSUB) != 0) {
        snprintf(err, errlen, "--filter: '%s' is not a valid regular expression", o->filter);
        return -1;
    }

    /* The machine, and the ceilings the percentages divide by. */
    cJSON *machine = sb_hw_probe_json(0, o->run.n_threads);
    sb_ceilings ceil = {0};
    int have_ceil = 0;
    if (o->ceilings_from) {
        if (load_ceilings(o->ceilings_from, &ceil, err, errlen) != 0) { cJSON_Delete(machine); if (o->filter) regfree(&re); return -1; }
        have_ceil = 1;
        ceilings_json(machine, &ceil, o->ceilings_from);
    } else if (o->measure_ceilings) {
        if (sb_progress_enabled()) fprintf(stderr, "measuring the machine's ceilings...\n");
        if (sb_hw_measure_ceilings(o->run.n_threads, &ceil) == 0) { have_ceil = 1; ceilings_json(machine, &ceil, "measured in this run"); }
    }
    cJSON_DeleteItemFromObject(doc, "machine");
    cJSON_AddItemToObject(doc, "machine", machine);

    /* The Vulkan device, opened once for the whole suite when asked for. */
    sb_vk *vk = NULL;
    char vk_reason[256] = "";
    bench_suite_opts oo = *o;
    for (int b = 0; b < o->n_backends; b++)
        if (o->backends[b] == BENCH_VULKAN && !vk) {
            sb_vk_options vo = {.device_index = -1, .validation = 0};
            if (sb_vk_open(&vo, &vk, vk_reason, sizeof vk_reason) != 0) vk = NULL;
            else if (table) fprintf(table, "vulkan device: %s\n", sb_vk_device(vk)->name);
        }
    oo.run.vk = vk;
    oo.run.vk_reason = vk_reason;
    o = &oo;

    /* Jobs: every selected case on every back end (cpu once per ISA level). */
    size_t max_jobs = ncases * (size_t)(o->n_backends + o->n_isas);
    bench_result *rs = calloc(max_jobs ? max_jobs : 1, sizeof *rs);
    if (!rs) { snprintf(err, errlen, "out of memory"); if (o->filter) regfree(&re); return -1; }
    size_t nr = 0;
    int failed = 0;
    size_t total = 0;
    for (size_t i = 0; i < ncases; i++) {
        char name[160];
        bench_case_name(&cases[i], name, sizeof name);
        if (o->filter && regexec(&re, name, 0, NULL, 0) != 0) continue;
        for (int b = 0; b < o->n_backends; b++) total += bench_backend_supports(o->backends[b], &cases[i]) ? 1 : 0;
    }
    size_t done = 0;
    int progress = sb_progress_enabled();
    int rounds = o->rounds < 1 ? 1 : o->rounds > 16 ? 16 : o->rounds;
    for (int round = 0; round < rounds; round++) {
        size_t job = 0;
        for (size_t i = 0; i < ncases; i++) {
            char name[160];
            bench_case_name(&cases[i], name, sizeof name);
            if (o->filter && regexec(&re, name, 0, NULL, 0) != 0) continue;
            for (int b = 0; b < o->n_backends; b++) {
                if (!bench_backend_supports(o->backends[b], &cases[i])) continue; /* e.g. blas: f32 matmul only */
                int n_variants = o->backends[b] == BENCH_CPU ? o->n_isas : 1;
                for (int v = 0; v < n_variants; v++, job++) {
                    bench_opts ro = o->run;
                    if (o->backends[b] == BENCH_CPU) ro.isa = o->isas[v];
                    ro.min_time_s /= rounds;
                    ro.min_reps = (ro.min_reps + rounds - 1) / rounds;
                    if (ro.min_reps < 2) ro.min_reps = 2;
                    if (progress)
                        fprintf(stderr, "\r\033[K[%zu/%zu] %s/%s%s", done + 1, total * (size_t)rounds, name,
                                bench_backend_name(o->backends[b]), rounds > 1 ? " (round)" : "");
                    if (round == 0) {
                        if (bench_run_case(&cases[i], o->backends[b], &ro, &rs[nr]) != 0) {
                            snprintf(rs[nr].reason, sizeof rs[nr].reason, "out of memory");
                            rs[nr].status = BENCH_SKIPPED;
                        }
                        if (rs[nr].status == BENCH_FAILED) failed++;
                        if (rs[nr].status == BENCH_OK) rs[nr].round_medians_s[rs[nr].n_rounds++] = rs[nr].median_s;
                        nr++;
                    } else if (rs[job].status == BENCH_OK) {
                        /* Later rounds: correctness is known; add the samples and the round median. */
                        bench_result more;
                        ro.skip_check = 1;
                        if (bench_run_case(&cases[i], o->backends[b], &ro, &more) == 0 && more.status == BENCH_OK) {
                            merge_round(&rs[job], &more);
                        }
                        bench_result_free(&more);
                    }
                    done++;
                }
            }
        }
    }
    if (progress) fprintf(stderr, "\r\033[K");
    if (o->filter) regfree(&re);

    /* JSON, with ratios against blas (else ref) for the same case. */
    cJSON *bench = sb_results_section(doc, "bench");
    cJSON_AddStringToObject(bench, "suite", o->suite);
    cJSON_AddNumberToObject(bench, "threads", o->run.n_threads);
    cJSON_AddNumberToObject(bench, "min_time_s", o->run.min_time_s);
    cJSON_AddNumberToObject(bench, "min_reps", o->run.min_reps);
    cJSON_AddNumberToObject(bench, "rounds", rounds);
    cJSON *blist = cJSON_AddArrayToObject(bench, "backends");
    for (int b = 0; b < o->n_backends; b++) cJSON_AddItemToArray(blist, cJSON_CreateString(bench_backend_name(o->backends[b])));
    cJSON *arr = cJSON_AddArrayToObject(bench, "cases");
    if (table) {
        fprintf(table, "%-44s %-12s %11s %6s %9s %8s %6s %6s %-7s %s\n", "case", "backend", "median", "cv", "GFLOP/s", "GB/s",
                "%peak", "%bw", "bound", "ratio");
    }
    for (size_t i = 0; i < nr; i++) {
        cJSON *cj = bench_result_json(&rs[i], have_ceil ? &ceil : NULL);
        const bench_result *ref = NULL;
        const char *ref_name = NULL;
        if (rs[i].status == BENCH_OK && rs[i].backend != BENCH_BLAS && rs[i].backend != BENCH_REF) {
            for (size_t j = 0; j < nr; j++)
                if (rs[j].status == BENCH_OK && !memcmp(&rs[j].c, &rs[i].c, sizeof rs[i].c) && rs[j].backend == BENCH_BLAS) { ref = &rs[j]; ref_name = "blas"; }
            if (!ref)
                for (size_t j = 0; j < nr; j++)
                    if (rs[j].status == BENCH_OK && !memcmp(&rs[j].c, &rs[i].c, sizeof rs[i].c) && rs[j].backend == BENCH_REF) { ref = &rs[j]; ref_name = "ref"; }
        }
        double ratio = ref ? ref->median_s / rs[i].median_s : 0;
        if (ref) {
            cJSON *rv = cJSON_AddObjectToObject(cj, "ratio_vs");
            cJSON_AddNumberToObject(rv, ref_name, ratio);
        }
        cJSON_AddItemToArray(arr, cj);
        if (!table) continue;
        char name[160], be[40], t[32];
        bench_case_name(&rs[i].c, name, sizeof name);
        snprintf(be, sizeof be, "%s%s%s", bench_backend_name(rs[i].backend), rs[i].backend == BENCH_CPU ? "-" : "",
                 rs[i].backend == BENCH_CPU ? sb_isa_name(rs[i].isa) : "");
        if (rs[i].status != BENCH_OK) {
            fprintf(table, "%-44s %-12s %s: %s\n", name, be, rs[i].status == BENCH_FAILED ? "FAILED" : "skipped", rs[i].reason);
            continue;
        }
        fmt_time(rs[i].median_s, t, sizeof t);
        double gf = bench_case_flops(&rs[i].c) / rs[i].median_s * 1e-9, gb = bench_case_bytes(&rs[i].c) / rs[i].median_s * 1e-9;
        const cJSON *pp = cJSON_GetObjectItem(cj, "pct_fma_peak"), *pb = cJSON_GetObjectItem(cj, "pct_bandwidth");
        if (!pp) pp = cJSON_GetObjectItem(cj, "pct_int8_peak"); /* int8 work: % of the int8 peak */
        fprintf(table, "%-44s %-12s %11s %5.1f%% %9.1f %8.2f %5.0f%% %5.0f%% %-7s", name, be, t, 100 * rs[i].cv, gf, gb,
                pp ? pp->valuedouble : 0, pb ? pb->valuedouble : 0, cJSON_GetStringValue(cJSON_GetObjectItem(cj, "bound")));
        if (ref) fprintf(table, " %.2fx %s", ratio, ref_name);
        fprintf(table, "\n");
    }
    if (table && have_ceil) {
        fprintf(table, "ceilings (%s): FMA %.1f GFLOP/s (%d threads), %.1f (1 thread); read %.1f GB/s, %.1f (1 thread)\n",
                o->ceilings_from ? o->ceilings_from : "measured in this run", ceil.fma_gflops_all, ceil.threads, ceil.fma_gflops_1t,
                ceil.read_gbs, ceil.read_gbs_1t);
        if (ceil.int8_gops_all > 0)
            fprintf(table, "int8 dot-product peak %.1f GOP/s (%d threads), %.1f (1 thread): the %%peak of quantized matmul "
                           "with m > 1 on avx512\n", ceil.int8_gops_all, ceil.threads, ceil.int8_gops_1t);
    }
    if (vk) sb_vk_close(vk);
    if (results_out) { *results_out = rs; *n_out = nr; }
    else bench_results_free(rs, nr);
    return failed;
}
