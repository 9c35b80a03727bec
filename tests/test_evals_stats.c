/* Eval statistics against values computed by hand (and with scipy/statsmodels formulas). */
#include "evals/evals.h"
#include "tests/test.h"

static void test_stderr_matches_lm_eval(void)
{
    /* acc over 0,1,1,1: mean 0.75, sample sd sqrt(0.25) = 0.5, stderr 0.5/2 = 0.25 */
    double x[4] = {0, 1, 1, 1}, m;
    CHECK_NEAR(sb_eval_stderr(x, 4, &m), 0.25, 1e-12);
    CHECK_NEAR(m, 0.75, 1e-12);
    /* 3 of 10 right: sd = sqrt(10/9 * 0.21) = 0.48305, stderr = 0.152753 */
    double y[10] = {1, 1, 1, 0, 0, 0, 0, 0, 0, 0};
    CHECK_NEAR(sb_eval_stderr(y, 10, &m), 0.15275252316519466, 1e-12);
    CHECK_NEAR(sb_eval_stderr(y, 1, &m), 0, 0);
}

static void test_wilson_interval(void)
{
    double lo, hi;
    /* 8/10: Wilson 95% = [0.490162, 0.943318] (score interval, z = 1.959964) */
    sb_eval_wilson95(8, 10, &lo, &hi);
    CHECK_NEAR(lo, 0.49016247, 1e-6);
    CHECK_NEAR(hi, 0.94331792, 1e-6);
    sb_eval_wilson95(0, 20, &lo, &hi);
    CHECK_NEAR(lo, 0, 1e-12);
    CHECK_NEAR(hi, 0.16112515, 1e-6);
}

static void test_mcnemar_exact(void)
{
    /* b=1, c=5: p = 2 * (C(6,0)+C(6,1)) / 64 = 2*7/64 = 0.21875 */
    CHECK_NEAR(sb_eval_mcnemar_p(1, 5), 0.21875, 1e-12);
    CHECK_NEAR(sb_eval_mcnemar_p(5, 1), 0.21875, 1e-12);
    /* b=0, c=10: 2/1024 */
    CHECK_NEAR(sb_eval_mcnemar_p(0, 10), 2.0 / 1024, 1e-12);
    CHECK_NEAR(sb_eval_mcnemar_p(0, 0), 1.0, 0);
    CHECK_NEAR(sb_eval_mcnemar_p(3, 3), 1.0, 0);
    /* b=10, c=25: 2 * sum_{i<=10} C(35,i) / 2^35 = 0.0166738478 */
    CHECK_NEAR(sb_eval_mcnemar_p(10, 25), 0.01667384780, 1e-9);
    /* large counts stay finite */
    double p = sb_eval_mcnemar_p(4000, 4200);
    CHECK(p > 0 && p < 1);
}

static void test_min_detectable_difference(void)
{
    /* 100 items, 20 discordant: 2.80159 * sqrt(0.2/100) = 0.125291 */
    CHECK_NEAR(sb_eval_min_detectable_diff(100, 20, 0.5), 2.8015852181 * sqrt(0.002), 1e-9);
    CHECK_NEAR(sb_eval_min_detectable_diff(100, 20, 0.5), 0.12529, 1e-4);
    /* none discordant: unpaired bound with p = 0.5: 2.80159 * sqrt(0.5/100) = 0.198102 */
    CHECK_NEAR(sb_eval_min_detectable_diff(100, 0, 0.5), 0.19810, 1e-4);
    CHECK(isnan(sb_eval_min_detectable_diff(0, 0, 0.5)));
    /* all right or all wrong on both: the worst case p = 0.5, never 0 */
    CHECK_NEAR(sb_eval_min_detectable_diff(100, 0, 1.0), 0.19810, 1e-4);
}

int main(void)
{
    RUN(test_stderr_matches_lm_eval);
    RUN(test_wilson_interval);
    RUN(test_mcnemar_exact);
    RUN(test_min_detectable_difference);
    return test_finish();
}
