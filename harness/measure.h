/* slmbench measuring core: clock, statistics over samples, memory, used by bench/ and evals/. */
#ifndef SB_MEASURE_H
#define SB_MEASURE_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic clock (CLOCK_MONOTONIC_RAW where available), seconds and nanoseconds. */
double sb_now_s(void);
uint64_t sb_now_ns(void);
/* CPU time of this process (all threads), seconds. */
double sb_cpu_time_s(void);
/* CPU time of the calling thread, seconds: with one thread it counts only the time the work
 * actually ran, so it is robust to other processes sharing the cores (wall time is not). */
double sb_thread_cpu_time_s(void);

/* Summary statistics of n samples. Percentiles interpolate linearly between order statistics
 * (numpy's default, "linear"); stddev is the sample standard deviation (n-1); MAD is the median
 * absolute deviation (unscaled); cv = stddev / mean. ci_lo/ci_hi: 95% bootstrap percentile
 * interval of the median (2000 resamples, fixed seed, so the same samples give the same CI). */
typedef struct sb_stats {
    size_t n;
    double min, max, mean, stddev, median, p10, p90, p99, mad, cv;
    double ci_lo, ci_hi;
} sb_stats;

/* 0 on success; -1 when n == 0 or x is NULL. x is not modified. */
int sb_stats_compute(const double *x, size_t n, sb_stats *out);
/* Median of n samples (x unchanged); NaN when n == 0 or x is NULL. */
double sb_median(const double *x, size_t n);
/* Percentile p in [0,100] of ascending-sorted data (linear interpolation). */
double sb_percentile_sorted(const double *sorted, size_t n, double p);
/* Bootstrap percentile CI of the median at confidence conf (e.g. 0.95). Deterministic for a seed. */
int sb_bootstrap_median_ci(const double *x, size_t n, double conf, int n_resamples, uint64_t seed,
                           double *lo, double *hi);
/* Mann–Whitney U test (two-sided, normal approximation with tie correction). Returns the p-value
 * in [0,1]; *u_out (may be NULL) gets U of sample a. */
double sb_mann_whitney_p(const double *a, size_t na, const double *b, size_t nb, double *u_out);

/* Peak resident set size of this process (VmHWM) and of waited-for children (getrusage), bytes. */
uint64_t sb_peak_rss_bytes(void);
uint64_t sb_peak_rss_children_bytes(void);
/* Current resident set size, bytes (VmRSS). */
uint64_t sb_current_rss_bytes(void);
/* MemAvailable and MemTotal from /proc/meminfo, bytes (0 when unknown). */
uint64_t sb_mem_available_bytes(void);
uint64_t sb_mem_total_bytes(void);

/* True when fd 2 is a terminal: progress lines go to stderr only then. */
int sb_progress_enabled(void);

#endif
