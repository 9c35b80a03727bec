/* The regression decision on synthetic sample sets, and whole-document comparisons. */
#include <math.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "bench/check.h"
#include "harness/results.h"
#include "tests/test.h"

/* Deterministic noisy samples: base * (1 + noise * u), u uniform in [-1, 1). */
static void samples(double *x, int n, double base, double noise, uint64_t seed)
{
    for (int i = 0; i < n; i++) {
        seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
        double u = (double)(seed >> 11) / (double)(1ull << 53) * 2 - 1;
        x[i] = base * (1 + noise * u);
    }
}

static void test_planted_slowdown_small_noise_is_regression(void)
{
    double a[20], b[20];
    samples(a, 20, 1.0e-3, 0.01, 1);
    samples(b, 20, 1.1e-3, 0.01, 2);
    check_case_result r;
    check_compare_samples(a, 20, b, 20, 0.05, &r);
    CHECK_STR(check_verdict_name(r.verdict), "regression");
    CHECK_NEAR(r.ratio, 1.1, 0.02);
    CHECK(r.p_value < 0.01);
    CHECK(r.ci_lo > 1.05);
}

static void test_equal_distributions_large_noise_not_regression(void)
{
    for (uint64_t seed = 1; seed < 20; seed++) {
        double a[15], b[15];
        samples(a, 15, 1.0e-3, 0.4, seed);
        samples(b, 15, 1.0e-3, 0.4, seed * 7919);
        check_case_result r;
        check_compare_samples(a, 15, b, 15, 0.05, &r);
        CHECK_MSG(r.verdict != CHECK_REGRESSION && r.verdict != CHECK_IMPROVEMENT,
                  "seed %llu: equal distributions called %s (ratio %.3f, p %.3g)", (unsigned long long)seed,
                  check_verdict_name(r.verdict), r.ratio, r.p_value);
    }
}

static void test_planted_slowdown_in_large_noise_is_noisy(void)
{
    double a[10], b[10];
    samples(a, 10, 1.0e-3, 0.5, 11);
    samples(b, 10, 1.1e-3, 0.5, 12);
    check_case_result r;
    check_compare_samples(a, 10, b, 10, 0.05, &r);
    CHECK_STR(check_verdict_name(r.verdict), "noisy");
}

static void test_improvement_and_same(void)
{
    double a[20], b[20], c[20];
    samples(a, 20, 1.0e-3, 0.01, 3);
    samples(b, 20, 0.8e-3, 0.01, 4);
    samples(c, 20, 1.0e-3, 0.005, 5);
    check_case_result r;
    check_compare_samples(a, 20, b, 20, 0.05, &r);
    CHECK_STR(check_verdict_name(r.verdict), "improvement");
    check_compare_samples(a, 20, c, 20, 0.05, &r);
    CHECK_STR(check_verdict_name(r.verdict), "same");
}

static void test_rounds_must_confirm_a_change(void)
{
    /* Within-run samples say 10% slower with tiny noise, but the rounds overlap (drift between
     * rounds is larger than the change): noisy, not a regression. */
    double a[20], b[20];
    samples(a, 20, 1.0e-3, 0.01, 1);
    samples(b, 20, 1.1e-3, 0.01, 2);
    check_case_result r;
    check_compare_samples(a, 20, b, 20, 0.05, &r);
    CHECK_STR(check_verdict_name(r.verdict), "regression");
    const double base_rounds[] = {0.90e-3, 1.00e-3, 1.20e-3}, cur_overlap[] = {1.00e-3, 1.10e-3, 1.30e-3};
    CHECK_EQ_INT(check_apply_rounds(&r, base_rounds, 3, cur_overlap, 3), 1);
    CHECK_STR(check_verdict_name(r.verdict), "noisy");
    /* Every current round slower than every baseline round: the regression stands. */
    check_compare_samples(a, 20, b, 20, 0.05, &r);
    const double cur_separated[] = {1.25e-3, 1.30e-3, 1.35e-3};
    check_apply_rounds(&r, base_rounds, 3, cur_separated, 3);
    CHECK_STR(check_verdict_name(r.verdict), "regression");
    /* One round on either side: the rule does not apply. */
    check_compare_samples(a, 20, b, 20, 0.05, &r);
    CHECK_EQ_INT(check_apply_rounds(&r, base_rounds, 1, cur_overlap, 3), 0);
    CHECK_STR(check_verdict_name(r.verdict), "regression");
}

/* A results document with one bench case of n samples. */
static cJSON *doc_with(const char *host_id, double fma, double bw, const char *isa, int threads, const char *bound,
                       double base, double noise, uint64_t seed)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "schema_version", SB_RESULTS_SCHEMA_VERSION);
    cJSON *m = cJSON_AddObjectToObject(d, "machine");
    cJSON_AddStringToObject(m, "host_id", host_id);
    cJSON *ce = cJSON_AddObjectToObject(m, "ceilings");
    cJSON_AddNumberToObject(ce, "fma_gflops_all", fma);
    cJSON_AddNumberToObject(ce, "fma_gflops_1t", fma / 2);
    cJSON_AddNumberToObject(ce, "read_gbs", bw);
    cJSON_AddNumberToObject(ce, "read_gbs_1t", bw / 2);
    cJSON *cases = cJSON_AddArrayToObject(cJSON_AddObjectToObject(d, "bench"), "cases");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "name", "matmul/q4_K/m1_n4096_k4096/cpu");
    cJSON_AddStringToObject(c, "status", "ok");
    cJSON_AddStringToObject(c, "isa", isa);
    cJSON_AddNumberToObject(c, "threads", threads);
    cJSON_AddStringToObject(c, "bound", bound);
    double x[20];
    samples(x, 20, base, noise, seed);
    cJSON_AddItemToObject(c, "times_s", cJSON_CreateDoubleArray(x, 20));
    cJSON_AddItemToArray(cases, c);
    return d;
}

static int compare(cJSON *a, cJSON *b, const char **verdict, const char **mode)
{
    static char v[32], md[32];
    cJSON *sec = NULL;
    char err[256];
    int n = check_documents(a, b, 0.05, "base", &sec, NULL, err, sizeof err);
    v[0] = md[0] = 0;
    if (sec) {
        const cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(sec, "cases"), 0);
        snprintf(v, sizeof v, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(c0, "verdict")));
        snprintf(md, sizeof md, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(sec, "mode")));
        cJSON_Delete(sec);
    }
    *verdict = v;
    *mode = md;
    return n;
}

static void test_cross_machine_uses_efficiency(void)
{
    /* Machine B has twice the bandwidth and the memory-bound kernel runs in half the time:
     * same efficiency, so no regression although the times differ by 2x. */
    cJSON *a = doc_with("A", 200, 30, "avx512", 2, "memory", 2.0e-3, 0.01, 1);
    cJSON *b = doc_with("B", 200, 60, "avx512", 2, "memory", 1.0e-3, 0.01, 2);
    const char *verdict, *mode;
    CHECK_EQ_INT(compare(a, b, &verdict, &mode), 0);
    CHECK_STR(mode, "efficiency");
    CHECK_STR(verdict, "same");
    /* Same times on the faster machine = half the efficiency: a regression. */
    cJSON *c = doc_with("B", 200, 60, "avx512", 2, "memory", 2.0e-3, 0.01, 3);
    CHECK_EQ_INT(compare(a, c, &verdict, &mode), 1);
    CHECK_STR(verdict, "regression");
    cJSON_Delete(a); cJSON_Delete(b); cJSON_Delete(c);
}

static void test_same_machine_compares_time(void)
{
    cJSON *a = doc_with("A", 200, 30, "avx512", 2, "memory", 1.0e-3, 0.01, 1);
    cJSON *b = doc_with("A", 200, 30, "avx512", 2, "memory", 1.1e-3, 0.01, 2);
    const char *verdict, *mode;
    CHECK_EQ_INT(compare(a, b, &verdict, &mode), 1);
    CHECK_STR(mode, "time");
    CHECK_STR(verdict, "regression");
    cJSON_Delete(a); cJSON_Delete(b);
}

static void test_mismatched_isa_is_refused(void)
{
    cJSON *a = doc_with("A", 200, 30, "avx512", 2, "memory", 1.0e-3, 0.01, 1);
    cJSON *b = doc_with("A", 200, 30, "avx2", 2, "memory", 2.0e-3, 0.01, 2);
    const char *verdict, *mode;
    CHECK_EQ_INT(compare(a, b, &verdict, &mode), 0);
    CHECK_STR(verdict, "refused");
    cJSON *c = doc_with("A", 200, 30, "avx512", 1, "memory", 2.0e-3, 0.01, 2);
    CHECK_EQ_INT(compare(a, c, &verdict, &mode), 0);
    CHECK_STR(verdict, "refused");
    cJSON_Delete(a); cJSON_Delete(b); cJSON_Delete(c);
}

/* The command's exit codes: 0 none, 1 regression, 2 usage / unreadable or other-schema input. */
static int run_check(const char *base, const char *cur)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s check --baseline '%s' --current '%s' >/dev/null 2>&1", test_slmbench_bin(), base, cur);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_check_exit_codes(void)
{
    char pa[512], pb[512], pc[512], pold[512], err[256];
    const char *t = test_tmpdir();
    snprintf(pa, sizeof pa, "%s/a.json", t);
    snprintf(pb, sizeof pb, "%s/b.json", t);
    snprintf(pc, sizeof pc, "%s/c.json", t);
    snprintf(pold, sizeof pold, "%s/old.json", t);
    cJSON *a = doc_with("A", 200, 30, "avx512", 2, "memory", 1.0e-3, 0.01, 1);
    cJSON *b = doc_with("A", 200, 30, "avx512", 2, "memory", 1.0e-3, 0.01, 2);
    cJSON *c = doc_with("A", 200, 30, "avx512", 2, "memory", 1.2e-3, 0.01, 3);
    CHECK_EQ_INT(sb_results_write(a, pa, err, sizeof err), 0);
    CHECK_EQ_INT(sb_results_write(b, pb, err, sizeof err), 0);
    CHECK_EQ_INT(sb_results_write(c, pc, err, sizeof err), 0);
    cJSON_ReplaceItemInObject(a, "schema_version", cJSON_CreateNumber(0));
    CHECK_EQ_INT(sb_results_write(a, pold, err, sizeof err), 0);
    CHECK_EQ_INT(run_check(pa, pb), 0);
    CHECK_EQ_INT(run_check(pa, pc), 1);
    CHECK_EQ_INT(run_check(pold, pb), 2);      /* older schema: refused, not compared */
    CHECK_EQ_INT(run_check("/nonexistent.json", pb), 2);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s check --current x.json >/dev/null 2>&1", test_slmbench_bin()); /* no --baseline */
    int st = system(cmd);
    CHECK_EQ_INT(WEXITSTATUS(st), 2);
    cJSON_Delete(a); cJSON_Delete(b); cJSON_Delete(c);
}

int main(void)
{
    RUN(test_planted_slowdown_small_noise_is_regression);
    RUN(test_equal_distributions_large_noise_not_regression);
    RUN(test_planted_slowdown_in_large_noise_is_noisy);
    RUN(test_improvement_and_same);
    RUN(test_rounds_must_confirm_a_change);
    RUN(test_cross_machine_uses_efficiency);
    RUN(test_same_machine_compares_time);
    RUN(test_mismatched_isa_is_refused);
    RUN(test_check_exit_codes);
    return test_finish();
}
