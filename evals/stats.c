/* evals/stats.c — the statistics of eval results: stderr as lm-eval, Wilson interval, exact
 * McNemar test, minimum detectable difference. */
#include "evals/evals.h"

#include <math.h>

#define Z_975 1.959963984540054   /* two-sided 95%          */
#define Z_80  0.8416212335729143  /* one-sided, power 0.8   */

double sb_eval_stderr(const double *x, size_t n, double *mean)
{
    double m = 0, ss = 0;
    if (!x || n == 0) { if (mean) *mean = NAN; return NAN; }
    for (size_t i = 0; i < n; i++) m += x[i];
    m /= (double)n;
    if (mean) *mean = m;
    if (n < 2) return 0;
    for (size_t i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m);
    return sqrt(ss / (double)(n - 1)) / sqrt((double)n);
}

void sb_eval_wilson95(double k, double n, double *lo, double *hi)
{
    if (n <= 0) { *lo = 0; *hi = 1; return; }
    double p = k / n, z2 = Z_975 * Z_975;
    double denom = 1 + z2 / n;
    double center = (p + z2 / (2 * n)) / denom;
    double half = Z_975 * sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom;
    *lo = fmax(0, center - half);
    *hi = fmin(1, center + half);
}

double sb_eval_mcnemar_p(long b, long c)
{
    if (b < 0 || c < 0) return NAN;
    long n = b + c, k = b < c ? b : c;
    if (n == 0) return 1.0;
    /* P(X <= k), X ~ Binomial(n, 1/2), summed in log space so large n does not overflow */
    double sum = 0;
    for (long i = 0; i <= k; i++)
        sum += exp(lgamma((double)n + 1) - lgamma((double)i + 1) - lgamma((double)(n - i) + 1) - (double)n * M_LN2);
    double p = 2 * sum;
    return p > 1 ? 1 : p;
}

double sb_eval_min_detectable_diff(long n, long n_discordant, double p_pooled)
{
    if (n <= 0) return NAN;
    double z = Z_975 + Z_80;
    if (n_discordant > 0) return z * sqrt((double)n_discordant / (double)n / (double)n);
    if (!(p_pooled > 0 && p_pooled < 1)) p_pooled = 0.5;   /* degenerate: the worst case */
    return z * sqrt(2 * p_pooled * (1 - p_pooled) / (double)n);
}
