/* Measuring core: clock, statistics, Mann–Whitney U, memory figures. See harness/measure.h. */
#include "harness/measure.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

uint64_t sb_now_ns(void)
{
    struct timespec ts;
#ifdef CLOCK_MONOTONIC_RAW
    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
#else
    clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double sb_now_s(void) { return (double)sb_now_ns() * 1e-9; }

double sb_cpu_time_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double sb_thread_cpu_time_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double sb_percentile_sorted(const double *sorted, size_t n, double p)
{
    if (!sorted || n == 0) return NAN;
    if (p <= 0) return sorted[0];
    if (p >= 100) return sorted[n - 1];
    double rank = p / 100.0 * (double)(n - 1);
    size_t lo = (size_t)rank;
    double frac = rank - (double)lo;
    if (lo + 1 >= n) return sorted[n - 1];
    return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

double sb_median(const double *x, size_t n)
{
    if (!x || n == 0) return NAN;
    double *s = malloc(n * sizeof *s);
    if (!s) return NAN;
    memcpy(s, x, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    double m = sb_percentile_sorted(s, n, 50);
    free(s);
    return m;
}

/* splitmix64: small, seedable, good enough for resampling indices. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int sb_bootstrap_median_ci(const double *x, size_t n, double conf, int n_resamples, uint64_t seed,
                           double *lo, double *hi)
{
    if (!x || n == 0 || n_resamples <= 0 || conf <= 0 || conf >= 1) return -1;
    double *medians = malloc((size_t)n_resamples * sizeof *medians);
    double *sample = malloc(n * sizeof *sample);
    if (!medians || !sample) { free(medians); free(sample); return -1; }
    uint64_t state = seed;
    for (int r = 0; r < n_resamples; r++) {
        for (size_t i = 0; i < n; i++) sample[i] = x[splitmix64(&state) % n];
        qsort(sample, n, sizeof *sample, cmp_double);
        medians[r] = sb_percentile_sorted(sample, n, 50);
    }
    qsort(medians, (size_t)n_resamples, sizeof *medians, cmp_double);
    double tail = (1 - conf) / 2 * 100;
    *lo = sb_percentile_sorted(medians, (size_t)n_resamples, tail);
    *hi = sb_percentile_sorted(medians, (size_t)n_resamples, 100 - tail);
    free(medians);
    free(sample);
    return 0;
}

int sb_stats_compute(const double *x, size_t n, sb_stats *out)
{
    if (!x || n == 0 || !out) return -1;
    double *s = malloc(n * sizeof *s);
    if (!s) return -1;
    memcpy(s, x, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    memset(out, 0, sizeof *out);
    out->n = n;
    out->min = s[0];
    out->max = s[n - 1];
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += s[i];
    out->mean = sum / (double)n;
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (s[i] - out->mean) * (s[i] - out->mean);
    out->stddev = n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
    out->cv = out->mean != 0 ? out->stddev / out->mean : 0;
    out->median = sb_percentile_sorted(s, n, 50);
    out->p10 = sb_percentile_sorted(s, n, 10);
    out->p90 = sb_percentile_sorted(s, n, 90);
    out->p99 = sb_percentile_sorted(s, n, 99);
    for (size_t i = 0; i < n; i++) s[i] = fabs(x[i] - out->median);
    qsort(s, n, sizeof *s, cmp_double);
    out->mad = sb_percentile_sorted(s, n, 50);
    free(s);
    if (sb_bootstrap_median_ci(x, n, 0.95, 2000, 0x5EEDull, &out->ci_lo, &out->ci_hi) != 0)
        out->ci_lo = out->ci_hi = out->median;
    return 0;
}

typedef struct ranked { double v; int group; } ranked;

static int cmp_ranked(const void *a, const void *b)
{
    return cmp_double(&((const ranked *)a)->v, &((const ranked *)b)->v);
}

double sb_mann_whitney_p(const double *a, size_t na, const double *b, size_t nb, double *u_out)
{
    if (!a || !b || na == 0 || nb == 0) return NAN;
    size_t n = na + nb;
    ranked *r = malloc(n * sizeof *r);
    if (!r) return NAN;
    for (size_t i = 0; i < na; i++) r[i] = (ranked){a[i], 0};
    for (size_t i = 0; i < nb; i++) r[na + i] = (ranked){b[i], 1};
    qsort(r, n, sizeof *r, cmp_ranked);
    /* Average ranks over ties; accumulate the tie correction sum (t^3 - t). */
    double rank_sum_a = 0, tie_term = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && r[j + 1].v == r[i].v) j++;
        double avg_rank = ((double)i + (double)j) / 2.0 + 1.0;
        double t = (double)(j - i + 1);
        tie_term += t * t * t - t;
        for (size_t k = i; k <= j; k++)
            if (r[k].group == 0) rank_sum_a += avg_rank;
        i = j + 1;
    }
    free(r);
    double dna = (double)na, dnb = (double)nb, dn = (double)n;
    double u = rank_sum_a - dna * (dna + 1) / 2;
    if (u_out) *u_out = u;
    double mean_u = dna * dnb / 2;
    double var_u = dna * dnb / 12.0 * ((dn + 1) - tie_term / (dn * (dn - 1)));
    if (var_u <= 0) return 1.0; /* all values tied: no evidence of a difference */
    double z = (fabs(u - mean_u) - 0.5) / sqrt(var_u); /* continuity correction */
    if (z < 0) z = 0;
    return erfc(z / sqrt(2.0));
}

/* The kB figure of the "field:" line of a /proc file such as /proc/self/status; 0 if absent. */
static uint64_t proc_field_kb(const char *path, const char *field)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[256];
    size_t flen = strlen(field);
    uint64_t kb = 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, field, flen) && line[flen] == ':') { kb = strtoull(line + flen + 1, NULL, 10); break; }
    fclose(f);
    return kb;
}

uint64_t sb_peak_rss_bytes(void)
{
    uint64_t kb = proc_field_kb("/proc/self/status", "VmHWM");
    if (!kb) {
        struct rusage ru;
        if (getrusage(RUSAGE_SELF, &ru) == 0) kb = (uint64_t)ru.ru_maxrss;
    }
    return kb * 1024;
}

uint64_t sb_peak_rss_children_bytes(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) != 0) return 0;
    return (uint64_t)ru.ru_maxrss * 1024;
}

uint64_t sb_current_rss_bytes(void) { return proc_field_kb("/proc/self/status", "VmRSS") * 1024; }

uint64_t sb_mem_available_bytes(void) { return proc_field_kb("/proc/meminfo", "MemAvailable") * 1024; }
uint64_t sb_mem_total_bytes(void) { return proc_field_kb("/proc/meminfo", "MemTotal") * 1024; }

int sb_progress_enabled(void) { return isatty(2); }
