/* slmbench check: is the current run slower than a baseline, beyond the threshold AND beyond
 * the noise?
 *
 * Per case: ratio = median(current) / median(baseline) (> 1 = slower). The difference counts as
 * real only when the Mann–Whitney U test on the repetitions gives p < alpha (0.01) AND the 95%
 * bootstrap interval of the ratio of medians excludes 1. Verdicts:
 *   regression   ratio > 1 + threshold and significant
 *   improvement  ratio < 1 − threshold and significant
 *   noisy        neither, but the interval reaches beyond ±threshold: the data cannot tell
 *   same         the interval lies within ±threshold, or no significant difference in a tight one
 *   refused      not comparable (different ISA level, threads, back end, or missing data)
 * Run-to-run drift: repetitions taken back to back share the machine's state of that moment, and
 * on shared VMs a case's speed drifts 10-25% between runs minutes apart, which such samples cannot
 * see. When both runs were made in several rounds (`bench --rounds N`: the whole suite N times,
 * interleaved), a regression must also hold across rounds: every current round median slower
 * than every baseline round median — an exact permutation test (p = 1/C(nb+nc, nc), 0.05 for 3
 * and 3 rounds). A within-run difference the rounds do not confirm is "noisy".
 * Same machine → times are compared. Different machine (host_id differs) → each sample is
 * normalized by its machine's ceiling for the roof that bounds the case (FMA peak or memory
 * bandwidth), i.e. efficiency is compared, and the report says so. */
#ifndef SB_BENCH_CHECK_H
#define SB_BENCH_CHECK_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

typedef enum check_verdict { CHECK_SAME, CHECK_REGRESSION, CHECK_IMPROVEMENT, CHECK_NOISY, CHECK_REFUSED } check_verdict;

typedef struct check_case_result {
    check_verdict verdict;
    double ratio, ci_lo, ci_hi, p_value;
} check_case_result;

const char *check_verdict_name(check_verdict v);

#define CHECK_ALPHA 0.01

/* Compares two sample sets (smaller = better). threshold e.g. 0.05. */
void check_compare_samples(const double *base, size_t nb, const double *cur, size_t nc, double threshold,
                           check_case_result *out);

/* Downgrades a regression/improvement to noisy unless the round medians separate completely in
 * its direction (see above). No-op when either side has fewer than 2 rounds. Returns 1 when the
 * rounds were used. */
int check_apply_rounds(check_case_result *r, const double *base_rounds, int nb, const double *cur_rounds, int nc);

/* Compares two results documents' bench sections. Fills *section with the results schema's
 * "check" object (caller owns it) and prints a table (regressions first) to `table` (may be
 * NULL). Returns the number of regressions, or -1 with err filled when the documents cannot be
 * compared at all (no bench section, ...). */
int check_documents(const cJSON *base, const cJSON *cur, double threshold, const char *baseline_name,
                    cJSON **section, FILE *table, char *err, size_t errlen);

#endif
