/* slmbench kernel benchmarks: cases as data, a runner that checks each case against the ref
 * kernels before timing it, and the statistics a regression check needs.
 *
 * A case is (op, weight/KV format, shape, back end). Its FLOP and byte counts are functions of
 * the shape (bench_case_flops / bench_case_bytes), so GFLOP/s, GB/s, % of peak and the roofline
 * position all come from the same numbers. */
#ifndef SB_BENCH_H
#define SB_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "harness/hw.h"
#include "kernels/kernels.h"

typedef enum bench_op {
    BENCH_MATMUL,      /* Y[m×n] = X[m×k]·Wᵀ, W in `type`                             */
    BENCH_ATTENTION,   /* m queries at pos = ctx - m against ctx keys; K/V in `type`  */
    BENCH_RMSNORM,     /* m rows × n                                                  */
    BENCH_ROPE,        /* m tokens × n_head heads × head_dim (n = n_head·head_dim)    */
    BENCH_SOFTMAX,     /* m rows × n                                                  */
    BENCH_SILU_MUL,    /* n elements                                                  */
    BENCH_ADD,         /* n elements                                                  */
    BENCH_OP_COUNT
} bench_op;

typedef enum bench_backend { BENCH_REF, BENCH_CPU, BENCH_BLAS, BENCH_VULKAN, BENCH_BACKEND_COUNT } bench_backend;

typedef struct bench_case {
    bench_op op;
    sb_type type;
    int64_t m, n, k;          /* matmul; m, n for the row ops                              */
    int64_t ctx;              /* attention: keys                                           */
    int n_head, n_kv_head, head_dim;
} bench_case;

const char *bench_op_name(bench_op op);
const char *bench_backend_name(bench_backend b);
int bench_backend_from_name(const char *name, bench_backend *out);

/* FLOPs and bytes moved (inputs read once + outputs written once) of one call. */
double bench_case_flops(const bench_case *c);
double bench_case_bytes(const bench_case *c);
/* Stable case name without the back end, e.g. "matmul/q4_K/m1_n4096_k4096". */
void bench_case_name(const bench_case *c, char *buf, size_t len);
/* Whether a back end implements the case (blas: f32 matmul only). */
int bench_backend_supports(bench_backend b, const bench_case *c);

/* The cases of a suite ("quick", "standard", "full"); *n gets the count. NULL if unknown. */
const bench_case *bench_suite(const char *name, size_t *n);

typedef struct bench_opts {
    double min_time_s;        /* keep repeating until this much time was measured          */
    int min_reps;             /* and at least this many repetitions                        */
    int max_reps;
    int n_threads;
    sb_isa isa;               /* for the cpu back end                                      */
    size_t llc_bytes;         /* rotate inputs while the working set is under 4× this      */
    int counters;             /* read PAPI counters around the timed loop                  */
    int skip_check;           /* correctness already verified (later rounds of a suite)    */
    void *vk;                 /* sb_vk context for the vulkan back end (NULL: unavailable) */
    const char *vk_reason;    /* why vk is NULL                                            */
} bench_opts;

typedef struct bench_result {
    bench_case c;
    bench_backend backend;
    sb_isa isa;
    int threads;
    enum { BENCH_OK, BENCH_FAILED, BENCH_SKIPPED } status;
    char reason[160];
    double nmse;              /* against ref                                               */
    double *times_s;          /* per repetition, seconds per call (malloc'd)               */
    int n_times;
    int calls_per_rep;        /* calls timed together in one repetition (tiny cases)       */
    int n_buffers;            /* rotated input sets                                        */
    double median_s, p10_s, p90_s, cv, ci_lo_s, ci_hi_s, mean_s, stddev_s;
    double cpu_time_s;        /* process CPU time per call                                 */
    int device_timed;         /* vulkan: times_s are device time (timestamp queries)       */
    double host_median_s;     /* vulkan: median host time of a submitted batch             */
    long long counters[8];    /* per call; -1 unavailable                                  */
    const char *counter_names[8];
    int n_counters;
    double round_medians_s[16]; /* median of each round of the suite (run-to-run noise)      */
    int n_rounds;
} bench_result;

/* Runs one case: correctness against ref first (FAILED cases are not timed), then warm-up and
 * timed repetitions. Returns 0 when the case ran (r->status says how it went), -1 on
 * allocation failure. r->times_s must be freed with bench_result_free. */
int bench_run_case(const bench_case *c, bench_backend backend, const bench_opts *o, bench_result *r);
void bench_result_free(bench_result *r);

/* Per-format NMSE threshold for the correctness check. */
double bench_nmse_threshold(const bench_case *c);

/* The result as a JSON object of the results schema's bench.cases[] (ceilings may be NULL). */
cJSON *bench_result_json(const bench_result *r, const sb_ceilings *ceil);
/* Google Benchmark JSON (context + benchmarks[] with per-repetition and aggregate entries). */
cJSON *bench_gbench_json(const bench_result *rs, size_t n, const cJSON *machine);

#endif
