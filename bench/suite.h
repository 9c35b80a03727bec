/* Running a whole suite: the shared engine of `slmbench bench` and `slmbench check`. */
#ifndef SB_BENCH_SUITE_H
#define SB_BENCH_SUITE_H

#include <stdio.h>

#include "bench/bench.h"

typedef struct bench_suite_opts {
    const char *suite;                 /* quick | standard | full | tiny                       */
    bench_backend backends[BENCH_BACKEND_COUNT];
    int n_backends;
    sb_isa isas[SB_ISA_COUNT];          /* cpu back end: each level listed runs                 */
    int n_isas;
    const char *filter;                /* POSIX extended regex on case names, or NULL          */
    bench_opts run;
    const char *ceilings_from;         /* results/hw JSON with machine.ceilings, or NULL (measure now) */
    int measure_ceilings;              /* 0: no ceilings (tests)                               */
    int rounds;                        /* run the whole suite this many times, interleaved, so the
                                        * samples of a case span the run and round medians show
                                        * run-to-run drift (1..16; each round gets min_time/rounds) */
} bench_suite_opts;

/* Runs the suite; adds "machine" and "bench" to doc; prints the table to `table`. Returns the
 * number of FAILED cases (wrong results), or -1 on a usage/input error (err filled). *results
 * and *n_results (may be NULL) receive the raw results (free with bench_results_free). */
int bench_run_suite(const bench_suite_opts *o, cJSON *doc, FILE *table, bench_result **results,
                    size_t *n_results, char *err, size_t errlen);
void bench_results_free(bench_result *rs, size_t n);

#endif
