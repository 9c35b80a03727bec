/* Measuring core, results JSON and hardware probe. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/counters.h"
#include "harness/hw.h"
#include "harness/measure.h"
#include "harness/results.h"
#include "kernels/kernels.h"
#include "tests/test.h"

static void test_stats_hand_computed(void)
{
    /* Samples 1..5 plus an outlier 100: values worked out by hand.
     * sorted 1 2 3 4 5 100; mean 115/6; median (3+4)/2; p10 at rank 0.5 -> 1.5;
     * p90 at rank 4.5 -> (5+100)/2; |x - 3.5| = 2.5 1.5 .5 .5 1.5 96.5 -> MAD 1.5. */
    const double x[] = {5, 3, 100, 1, 4, 2};
    sb_stats s;
    CHECK_EQ_INT(sb_stats_compute(x, 6, &s), 0);
    CHECK_EQ_INT(s.n, 6);
    CHECK_NEAR(s.min, 1, 0);
    CHECK_NEAR(s.max, 100, 0);
    CHECK_NEAR(s.mean, 115.0 / 6, 1e-12);
    CHECK_NEAR(s.median, 3.5, 1e-12);
    CHECK_NEAR(s.p10, 1.5, 1e-12);
    CHECK_NEAR(s.p90, 52.5, 1e-12);
    CHECK_NEAR(s.mad, 1.5, 1e-12);
    /* sample stddev: sum of squared deviations / 5 */
    double m = 115.0 / 6, ss = 0;
    for (int i = 0; i < 6; i++) ss += (x[i] - m) * (x[i] - m);
    CHECK_NEAR(s.stddev, sqrt(ss / 5), 1e-9);
    CHECK(s.ci_lo <= s.median && s.median <= s.ci_hi);
    CHECK(s.ci_lo >= 1 && s.ci_hi <= 100);
}

static void test_stats_rejects_empty(void)
{
    sb_stats s;
    double x = 1;
    CHECK(sb_stats_compute(NULL, 3, &s) != 0);
    CHECK(sb_stats_compute(&x, 0, &s) != 0);
}

static void test_percentile_endpoints(void)
{
    const double x[] = {10, 20, 30, 40};
    CHECK_NEAR(sb_percentile_sorted(x, 4, 0), 10, 0);
    CHECK_NEAR(sb_percentile_sorted(x, 4, 100), 40, 0);
    CHECK_NEAR(sb_percentile_sorted(x, 4, 50), 25, 1e-12);
    CHECK_NEAR(sb_percentile_sorted(x, 4, 99), 39.7, 1e-9);
}

static void test_median_leaves_input_alone(void)
{
    double x[] = {5, 1, 4, 2, 3}, y[] = {4, 1, 3, 2};
    CHECK_NEAR(sb_median(x, 5), 3, 0);
    CHECK_NEAR(x[0], 5, 0); /* not sorted in place */
    CHECK_NEAR(sb_median(y, 4), 2.5, 1e-12);
    CHECK(isnan(sb_median(NULL, 3)) && isnan(sb_median(x, 0)));
}

static void test_bootstrap_ci_deterministic_and_shrinks(void)
{
    double x[200], lo1, hi1, lo2, hi2;
    uint64_t s = 42;
    for (int i = 0; i < 200; i++) { s = s * 6364136223846793005ull + 1; x[i] = 10 + (double)(s >> 40) / (1 << 24); }
    CHECK_EQ_INT(sb_bootstrap_median_ci(x, 200, 0.95, 1000, 7, &lo1, &hi1), 0);
    CHECK_EQ_INT(sb_bootstrap_median_ci(x, 200, 0.95, 1000, 7, &lo2, &hi2), 0);
    CHECK_NEAR(lo1, lo2, 0);
    CHECK_NEAR(hi1, hi2, 0);
    double lo20, hi20;
    CHECK_EQ_INT(sb_bootstrap_median_ci(x, 20, 0.95, 1000, 7, &lo20, &hi20), 0);
    CHECK_MSG(hi1 - lo1 < hi20 - lo20, "CI of 200 samples (%g) should be narrower than of 20 (%g)", hi1 - lo1, hi20 - lo20);
}

static void test_mann_whitney(void)
{
    /* Fully separated samples of 8 and 8: U = 0, p (normal approx., continuity corrected) ≈ 0.00095. */
    const double a[] = {1, 2, 3, 4, 5, 6, 7, 8}, b[] = {11, 12, 13, 14, 15, 16, 17, 18};
    double u;
    double p = sb_mann_whitney_p(a, 8, b, 8, &u);
    CHECK_NEAR(u, 0, 0);
    CHECK_NEAR(p, 0.000952, 0.0002);
    /* Identical samples: no evidence. */
    CHECK(sb_mann_whitney_p(a, 8, a, 8, NULL) > 0.9);
    /* Interleaved: no evidence. */
    const double c[] = {1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5};
    CHECK(sb_mann_whitney_p(a, 8, c, 8, NULL) > 0.5);
}

static void test_clock_monotonic(void)
{
    uint64_t t0 = sb_now_ns(), t1 = sb_now_ns();
    CHECK(t1 >= t0);
}

static void test_rss_plausible(void)
{
    uint64_t before = sb_peak_rss_bytes();
    size_t n = 64u << 20;
    /* volatile: the compiler may otherwise drop a buffer that is written and freed unread */
    volatile char *p = malloc(n);
    CHECK(p != NULL);
    if (!p) return;
    for (size_t i = 0; i < n; i += 4096) p[i] = 1;
    uint64_t after = sb_peak_rss_bytes();
    CHECK_MSG(after >= before + n / 2, "peak RSS grew by %llu for a 64 MiB touch", (unsigned long long)(after - before));
    CHECK(sb_current_rss_bytes() > 0);
    CHECK(sb_mem_total_bytes() > 0);
    free((void *)p);
}

static void test_results_round_trip(void)
{
    char a0[] = "bench", a1[] = "--suite", a2[] = "quick";
    char *argv[] = {a0, a1, a2};
    cJSON *doc = sb_results_new(3, argv);
    cJSON *bench = sb_results_section(doc, "bench");
    cJSON_AddNumberToObject(bench, "threads", 2);
    cJSON_AddStringToObject(bench, "suite", "quick");
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/r.json", test_tmpdir());
    CHECK_EQ_INT(sb_results_write(doc, path, err, sizeof err), 0);
    cJSON *back = sb_results_load(path, err, sizeof err);
    CHECK_MSG(back != NULL, "load: %s", err);
    if (back) {
        CHECK(cJSON_Compare(doc, back, 1));
        const cJSON *run = cJSON_GetObjectItem(back, "run");
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(run, "command")), "slmbench bench --suite quick");
        cJSON_Delete(back);
    }
    cJSON_Delete(doc);
}

static void test_results_refuses_other_schema(void)
{
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/old.json", test_tmpdir());
    const char *text = "{\"schema_version\": 99, \"run\": {}}";
    CHECK_EQ_INT(sb_write_file_atomic(path, text, strlen(text), err, sizeof err), 0);
    CHECK(sb_results_load(path, err, sizeof err) == NULL);
    CHECK_MSG(strstr(err, "99") != NULL, "error should name the version: %s", err);
    const char *notjson = "{\"schema_version\": 1,";
    CHECK_EQ_INT(sb_write_file_atomic(path, notjson, strlen(notjson), err, sizeof err), 0);
    CHECK(sb_results_load(path, err, sizeof err) == NULL);
}

static char *slurp(const char *path)
{
    char err[256];
    return sb_read_file(path, 1 << 20, NULL, err, sizeof err);
}

static void test_atomic_write_failure_keeps_old_file(void)
{
    char dir[512], path[600], err[512];
    snprintf(dir, sizeof dir, "%s/ro", test_tmpdir());
    CHECK_EQ_INT(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/results.json", dir);
    const char *old = "old contents\n";
    CHECK_EQ_INT(sb_write_file_atomic(path, old, strlen(old), err, sizeof err), 0);

    /* 1. Read-only directory (root ignores permission bits, so only as a normal user). */
    if (geteuid() != 0) {
        CHECK_EQ_INT(chmod(dir, 0555), 0);
        CHECK(sb_write_file_atomic(path, "new", 3, err, sizeof err) != 0);
        CHECK_MSG(strstr(err, path) != NULL, "error should name the file: %s", err);
        chmod(dir, 0755);
        char *now = slurp(path);
        CHECK_STR(now, old);
        free(now);
    }
    /* 2. Disk full mid-write (file size limit: write fails with EFBIG), any user. */
    struct rlimit saved, small = {.rlim_cur = 4096, .rlim_max = RLIM_INFINITY};
    getrlimit(RLIMIT_FSIZE, &saved);
    small.rlim_max = saved.rlim_max;
    signal(SIGXFSZ, SIG_IGN);
    CHECK_EQ_INT(setrlimit(RLIMIT_FSIZE, &small), 0);
    char *big = malloc(1 << 16);
    memset(big, 'x', 1 << 16);
    int rc = sb_write_file_atomic(path, big, 1 << 16, err, sizeof err);
    setrlimit(RLIMIT_FSIZE, &saved);
    free(big);
    CHECK(rc != 0);
    char *now = slurp(path);
    CHECK_STR(now, old);
    free(now);
    /* No temp file left behind. */
    char cmd[700];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 1", dir);
    CHECK_MSG(system(cmd) == 0, "temp files left in %s", dir);
    /* 3. A directory where no file can be created at all. */
    CHECK(sb_write_file_atomic("/proc/self/slmbench-results.json", "x", 1, err, sizeof err) != 0);
}

static void test_hw_probe_counts_and_ceilings(void)
{
    cJSON *m = sb_hw_probe_json(1, 0);
    CHECK(m != NULL);
    if (!m) return;
    const cJSON *cpu = cJSON_GetObjectItem(m, "cpu");
    CHECK_EQ_INT(cJSON_GetObjectItem(cpu, "pus")->valueint, sysconf(_SC_NPROCESSORS_ONLN));
    CHECK(cJSON_GetObjectItem(cpu, "cores")->valueint >= 1);
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(m, "caches")) {
        CHECK(cJSON_GetObjectItem(c, "size_bytes")->valuedouble > 0);
        CHECK(cJSON_GetObjectItem(c, "line_bytes")->valueint > 0);
        n++;
    }
    CHECK(n >= 2);
    const cJSON *ce = cJSON_GetObjectItem(m, "ceilings");
    if (!ce) {
        test_skip("no AVX2/AVX-512 ceiling loops for this CPU");
    } else {
        double f1 = cJSON_GetObjectItem(ce, "fma_gflops_1t")->valuedouble;
        double fa = cJSON_GetObjectItem(ce, "fma_gflops_all")->valuedouble;
        CHECK(f1 > 0 && fa > 0);
        CHECK(cJSON_GetObjectItem(ce, "read_gbs")->valuedouble > 0);
        CHECK(cJSON_GetObjectItem(ce, "triad_gbs")->valuedouble > 0);
        /* the int8 peak appears exactly when the CPU has AVX-512 VNNI, and is then positive */
        const cJSON *i8 = cJSON_GetObjectItem(ce, "int8_gops_all");
#if defined(__x86_64__)
        CHECK((i8 != NULL) == (sb_isa_supported(SB_ISA_AVX512) && __builtin_cpu_supports("avx512vnni")));
#endif
        CHECK(!i8 || i8->valuedouble > 0);
    }
    const cJSON *vk = cJSON_GetObjectItem(m, "vulkan");
    CHECK(cJSON_IsBool(cJSON_GetObjectItem(vk, "available")));
    cJSON_Delete(m);
}

static void test_counters_report_unavailable_instead_of_failing(void)
{
    const char *names[] = {"PAPI_NO_SUCH_EVENT", "perf::TASK-CLOCK"};
    sb_counters c;
    int got = sb_counters_start(&c, names, 2);
    volatile double x = 0;
    for (int i = 0; i < 1000000; i++) x += i;
    sb_counters_stop(&c);
    CHECK_EQ_INT(c.available[0], 0);
    CHECK(c.values[0] == -1);
    if (got == 0) { test_skip("PAPI counts nothing on this machine (perf_event unavailable)"); return; }
    CHECK(c.available[1]);
    CHECK_MSG(c.values[1] > 0, "task clock counted %lld ns", c.values[1]);
}

int main(void)
{
    RUN(test_stats_hand_computed);
    RUN(test_stats_rejects_empty);
    RUN(test_percentile_endpoints);
    RUN(test_median_leaves_input_alone);
    RUN(test_bootstrap_ci_deterministic_and_shrinks);
    RUN(test_mann_whitney);
    RUN(test_clock_monotonic);
    RUN(test_rss_plausible);
    RUN(test_results_round_trip);
    RUN(test_results_refuses_other_schema);
    RUN(test_atomic_write_failure_keeps_old_file);
    RUN(test_hw_probe_counts_and_ceilings);
    RUN(test_counters_report_unavailable_instead_of_failing);
    return test_finish();
}
