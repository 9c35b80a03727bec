/* Per-ISA loops that find the machine's ceilings (private to harness/hw.c).
 * FMA loops: `iters` iterations of 12 independent FMA chains on full-width vectors, so the
 * FMA pipes never wait on a dependency (latency 4 × 2 pipes needs ≥ 8 chains). They return a
 * value derived from the accumulators so the compiler cannot drop the work.
 * Read loops: sum n floats (n a multiple of 128) from 8 interleaved streams with full-width loads.
 * Triad: a[i] = b[i] + s * c[i]. */
#ifndef SB_HARNESS_CEILINGS_H
#define SB_HARNESS_CEILINGS_H
#include <stddef.h>
#include <stdint.h>

#define SB_FMA_CHAINS 12

float sb_fma_loop_avx512(int64_t iters);   /* 12 chains × 16 lanes × 2 flops per iteration */
float sb_fma_loop_avx2(int64_t iters);     /* 12 chains × 8 lanes × 2 flops per iteration  */
float sb_read_avx512(const float *x, size_t n);
float sb_read_avx2(const float *x, size_t n);
void sb_triad_avx512(float *a, const float *b, const float *c, float s, size_t n);
void sb_triad_avx2(float *a, const float *b, const float *c, float s, size_t n);
/* int8 dot products (vpdpbusd, AVX-512 VNNI): SB_VNNI_CHAINS independent chains per iteration,
 * each 16 lanes × 4 multiply-adds = 128 ops. Only called when CPUID reports avx512vnni. */
#define SB_VNNI_CHAINS 16
int32_t sb_vnni_loop_avx512(int64_t iters);
#endif
