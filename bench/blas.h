/* OpenBLAS as the comparison point of the kernel benchmarks, loaded on first use.
 *
 * Linked into the slmbench command, its pthread pool (one thread per core, started when the
 * library loads) spun for ~75 ms after start-up on the cores our own threads were using: a 1B
 * model's first token in `slmbench generate` took 95-117 ms instead of 23-25. So only what
 * compares against it loads it, with dlopen; the perf drivers still link it. */
#ifndef SB_BENCH_BLAS_H
#define SB_BENCH_BLAS_H

#include <stddef.h>

typedef struct bench_blas {
    /* Y[n] = W[n×k] · x, W row-major (cblas_sgemv RowMajor NoTrans, alpha 1, beta 0) */
    void (*sgemv)(int n, int k, const float *W, const float *x, float *y);
    /* Y[m×n] = X[m×k] · W[n×k]ᵀ (cblas_sgemm RowMajor NoTrans × Trans, alpha 1, beta 0) */
    void (*sgemm)(int m, int n, int k, const float *X, const float *W, float *Y);
    void (*set_threads)(int n);
} bench_blas;

/* The loaded library, or NULL with the reason in why. Thread-safe; loads once. */
const bench_blas *bench_blas_get(char *why, size_t whylen);

#endif
