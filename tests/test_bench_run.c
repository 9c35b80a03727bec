/* A bench run on tiny sizes: every case passes its correctness check, the results JSON and the
 * Google Benchmark JSON have the fields other tools read. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "bench/suite.h"
#include "harness/results.h"
#include "tests/test.h"

static bench_suite_opts tiny_opts(void)
{
    bench_suite_opts o = {.suite = "tiny", .n_backends = 2, .backends = {BENCH_REF, BENCH_CPU}, .n_isas = 1};
    o.isas[0] = sb_isa_default();
    o.run.min_time_s = 0.001;
    o.run.min_reps = 3;
    o.run.max_reps = 5;
    o.run.n_threads = 2;
    o.run.llc_bytes = 0;
    o.measure_ceilings = 0;
    return o;
}

static void test_tiny_suite_every_case_correct(void)
{
    bench_suite_opts o = tiny_opts();
    char a0[] = "bench";
    char *argv[] = {a0};
    cJSON *doc = sb_results_new(1, argv);
    bench_result *rs;
    size_t n;
    char err[256];
    int failed = bench_run_suite(&o, doc, NULL, &rs, &n, err, sizeof err);
    CHECK_EQ_INT(failed, 0);
    size_t ncases;
    bench_suite("tiny", &ncases);
    CHECK_EQ_INT(n, 2 * ncases);
    for (size_t i = 0; i < n; i++) {
        char name[160];
        bench_case_name(&rs[i].c, name, sizeof name);
        CHECK_MSG(rs[i].status == BENCH_OK, "%s on %s: %s", name, bench_backend_name(rs[i].backend), rs[i].reason);
        CHECK_MSG(rs[i].n_times >= 3, "%s: %d repetitions", name, rs[i].n_times);
        CHECK(rs[i].median_s > 0);
    }
    /* The results section lists each case with its samples. */
    const cJSON *cases = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "bench"), "cases");
    CHECK_EQ_INT(cJSON_GetArraySize(cases), (int)n);
    const cJSON *c0 = cJSON_GetArrayItem(cases, 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(c0, "status")), "ok");
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(c0, "times_s")) >= 3);
    CHECK(cJSON_GetObjectItem(c0, "flops") && cJSON_GetObjectItem(c0, "bytes"));

    /* Google Benchmark JSON: context + benchmarks[] with the fields compare.py reads. */
    cJSON *gb = bench_gbench_json(rs, n, cJSON_GetObjectItem(doc, "machine"));
    CHECK(cJSON_IsObject(cJSON_GetObjectItem(gb, "context")));
    const cJSON *list = cJSON_GetObjectItem(gb, "benchmarks"), *b;
    CHECK(cJSON_GetArraySize(list) > 0);
    int iterations = 0, aggregates = 0, medians = 0;
    static const char *const fields[] = {"name", "run_type", "real_time", "cpu_time", "time_unit", "iterations",
                                         "bytes_per_second", "items_per_second", "run_name", "repetitions"};
    cJSON_ArrayForEach(b, list) {
        for (size_t f = 0; f < sizeof fields / sizeof *fields; f++)
            CHECK_MSG(cJSON_GetObjectItem(b, fields[f]) != NULL, "benchmark entry lacks %s", fields[f]);
        const char *rt = cJSON_GetStringValue(cJSON_GetObjectItem(b, "run_type"));
        CHECK(rt && (!strcmp(rt, "iteration") || !strcmp(rt, "aggregate")));
        if (rt && !strcmp(rt, "aggregate")) {
            aggregates++;
            const char *an = cJSON_GetStringValue(cJSON_GetObjectItem(b, "aggregate_name"));
            CHECK(an != NULL);
            if (an && !strcmp(an, "median")) medians++;
        } else {
            iterations++;
            CHECK(cJSON_GetObjectItem(b, "repetition_index") != NULL);
        }
        const char *unit = cJSON_GetStringValue(cJSON_GetObjectItem(b, "time_unit"));
        CHECK(unit && (!strcmp(unit, "us") || !strcmp(unit, "ms") || !strcmp(unit, "ns") || !strcmp(unit, "s")));
    }
    CHECK_EQ_INT(medians, (int)n);
    CHECK(iterations >= 3 * (int)n);
    CHECK(aggregates == 4 * (int)n);
    cJSON_Delete(gb);
    bench_results_free(rs, n);
    cJSON_Delete(doc);
}

/* OpenBLAS is loaded when the blas back end first runs, not at start-up (its thread pool spun on
 * our cores), and its f32 matmul cases pass the same correctness check as ours. */
static int openblas_mapped(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[1024];
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f)) found = strstr(line, "libopenblas") != NULL;
    if (f) fclose(f);
    return found;
}

static void test_blas_backend_loaded_on_demand(void)
{
    CHECK(!openblas_mapped());
    bench_suite_opts o = tiny_opts();
    o.n_backends = 1;
    o.backends[0] = BENCH_BLAS;
    char a0[] = "bench";
    char *argv[] = {a0};
    cJSON *doc = sb_results_new(1, argv);
    bench_result *rs;
    size_t n;
    char err[256];
    CHECK_EQ_INT(bench_run_suite(&o, doc, NULL, &rs, &n, err, sizeof err), 0);
    int ok = 0, m1 = 0;
    for (size_t i = 0; i < n; i++) {
        char name[160];
        bench_case_name(&rs[i].c, name, sizeof name);
        if (rs[i].c.op == BENCH_MATMUL && rs[i].c.type == SB_TYPE_F32) {
            CHECK_MSG(rs[i].status == BENCH_OK, "%s on blas: %s", name, rs[i].reason);
            ok += rs[i].status == BENCH_OK;
            m1 += rs[i].status == BENCH_OK && rs[i].c.m == 1;
        } else {
            CHECK_MSG(rs[i].status == BENCH_SKIPPED, "%s on blas: not skipped", name);
        }
    }
    CHECK(ok >= 2 && m1 >= 1); /* sgemv and sgemm both ran and matched the reference */
    CHECK(openblas_mapped());
    bench_results_free(rs, n);
    cJSON_Delete(doc);
}

static void test_flop_and_byte_counts(void)
{
    bench_case mm = {.op = BENCH_MATMUL, .type = SB_TYPE_Q8_0, .m = 1, .n = 4096, .k = 4096};
    CHECK_NEAR(bench_case_flops(&mm), 2.0 * 4096 * 4096, 0);
    /* q8_0: 34 bytes per 32 weights, plus x (4 KiB f32... 4096*4) and y (4096*4) */
    CHECK_NEAR(bench_case_bytes(&mm), 4096.0 * 4096 / 32 * 34 + 4096 * 4 + 4096 * 4, 0);
    /* Causal decode of 1 query against 10 keys, 2 heads of 4 dims: 4 * 10 * 4 * 2 flops. */
    bench_case at = {.op = BENCH_ATTENTION, .type = SB_TYPE_F32, .m = 1, .ctx = 10, .n_head = 2, .n_kv_head = 1, .head_dim = 4};
    CHECK_NEAR(bench_case_flops(&at), 4.0 * 10 * 4 * 2, 0);
    /* Prefill of 2 queries at positions 8, 9 sees 9 + 10 keys. */
    at.m = 2;
    CHECK_NEAR(bench_case_flops(&at), 4.0 * 19 * 4 * 2, 0);
}

static void test_cli_bench_writes_both_json_files(void)
{
    char cmd[2048], p1[512], p2[512], err[256];
    snprintf(p1, sizeof p1, "%s/b.json", test_tmpdir());
    snprintf(p2, sizeof p2, "%s/gb.json", test_tmpdir());
    snprintf(cmd, sizeof cmd,
             "%s bench --suite tiny --backend ref --filter 'matmul/(f32|q4_0)' --min-time 0.001 --reps 3 "
             "--ceilings /nonexistent/hw.json --json %s >/dev/null 2>&1", test_slmbench_bin(), p1);
    int st = system(cmd);
    CHECK_EQ_INT(WEXITSTATUS(st), 2); /* a ceilings file that does not exist is an input error */
    snprintf(cmd, sizeof cmd,
             "%s bench --suite tiny --backend ref --filter 'matmul/(f32|q4_0)' --min-time 0.001 --reps 3 "
             "--json %s --gbench-json %s >/dev/null 2>&1", test_slmbench_bin(), p1, p2);
    st = system(cmd);
    CHECK_EQ_INT(WEXITSTATUS(st), 0);
    cJSON *doc = sb_results_load(p1, err, sizeof err);
    CHECK_MSG(doc != NULL, "%s", err);
    if (doc) {
        const cJSON *cases = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "bench"), "cases");
        CHECK_EQ_INT(cJSON_GetArraySize(cases), 3); /* two f32 shapes and one q4_0 */
        /* ceilings were measured in this run, so % of peak is present */
        CHECK(cJSON_GetObjectItem(cJSON_GetArrayItem(cases, 0), "pct_fma_peak") != NULL);
        CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "machine"), "ceilings") != NULL);
        cJSON_Delete(doc);
    }
    char *gb = sb_read_file(p2, 1 << 24, NULL, err, sizeof err);
    CHECK(gb != NULL && strstr(gb, "\"benchmarks\"") != NULL);
    free(gb);
}

static void test_vulkan_cases_checked_and_device_timed(void)
{
    char cmd[2048], p1[512], err[256];
    snprintf(p1, sizeof p1, "%s/vk.json", test_tmpdir());
    snprintf(cmd, sizeof cmd,
             "%s bench --suite tiny --backend vulkan --filter 'matmul/(q4_K|f16)|attention/f16|softmax' --min-time 0.001 "
             "--reps 3 --no-counters --json %s >/dev/null 2>&1", test_slmbench_bin(), p1);
    int st = system(cmd);
    CHECK_EQ_INT(WEXITSTATUS(st), 0); /* a wrong Vulkan result would be FAILED and exit 1 */
    cJSON *doc = sb_results_load(p1, err, sizeof err);
    CHECK_MSG(doc != NULL, "%s", err);
    if (!doc) return;
    const cJSON *c, *cases = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "bench"), "cases");
    int ok = 0, skipped = 0;
    const char *reason = NULL;
    cJSON_ArrayForEach(c, cases) {
        const char *status = cJSON_GetStringValue(cJSON_GetObjectItem(c, "status"));
        if (status && !strcmp(status, "skipped")) { skipped++; reason = cJSON_GetStringValue(cJSON_GetObjectItem(c, "reason")); continue; }
        CHECK_STR(status, "ok");
        CHECK(cJSON_GetObjectItem(c, "host_time_s") != NULL);
        ok++;
    }
    if (ok == 0 && skipped > 0) test_skip("%s", reason ? reason : "Vulkan unavailable");
    else CHECK_EQ_INT(ok, 5);
    cJSON_Delete(doc);
}

int main(void)
{
    RUN(test_flop_and_byte_counts);
    RUN(test_blas_backend_loaded_on_demand);
    RUN(test_tiny_suite_every_case_correct);
    RUN(test_cli_bench_writes_both_json_files);
    RUN(test_vulkan_cases_checked_and_device_timed);
    return test_finish();
}
