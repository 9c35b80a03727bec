/* Private to kernels/: the per-ISA pieces of the BLIS-style F32 GEMM (kernels/gemm.c runs the
 * loops, kernels/cpu/gemm_avx2.c and gemm_avx512.c supply a micro-kernel and a packing routine).
 *
 * Y[m×n] = X[m×k] · Wᵀ with W row-major n×k. In BLIS terms A = X (MR rows per micro-panel) and
 * B = Wᵀ (NR columns per micro-panel, i.e. NR rows of W).
 *
 * Micro-kernel contract
 *   ukernel(kc, a, b, c, ldc, beta):
 *     C[i][j] = (beta ? C[i][j] : 0) + Σ_{p<kc} a[p·MR + i] · b[p·NR + j],  i < MR, j < NR
 *   a: packed A micro-panel, MR floats per p (rows past the matrix edge are zero).
 *   b: packed B micro-panel, NR floats per p (W rows past the edge are zero).
 *   c: row-major, row stride ldc floats; the whole MR×NR tile is written (gemm.c points edge
 *      tiles at a scratch tile). kc >= 1; a and b are 64-byte aligned.
 *
 * Packing contract
 *   pack(dst, src, ld, rows, R, kc): dst[p·R + r] = src[r·ld + p] for r < rows, p < kc, and 0 for
 *   rows <= r < R. (A transpose of a rows×kc slab into R-wide micro-panel order.) R is MR or NR,
 *   rows <= R; dst is 64-byte aligned and may be written up to 16 floats past R·kc.
 *
 * Half-precision packing
 *   pack_half(dst, src, ld, rows, R, kc, bf16): the same from f16 (bf16 != 0: bf16) elements,
 *   widened to f32 exactly on the way, so F16/BF16 weights need no converted copy.
 */
#ifndef SB_KERNELS_GEMM_IMPL_H
#define SB_KERNELS_GEMM_IMPL_H

#include "kernels/internal.h"

typedef struct sb_gemm_kernel {
    int mr, nr;
    void (*ukernel)(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int beta);
    void (*pack)(float *dst, const float *src, int64_t ld, int rows, int R, int64_t kc);
    void (*pack_half)(float *dst, const uint16_t *src, int64_t ld, int rows, int R, int64_t kc, int bf16);
} sb_gemm_kernel;

extern const sb_gemm_kernel sb_gemm_kernel_avx2;
extern const sb_gemm_kernel sb_gemm_kernel_avx512;
extern const sb_gemm_kernel sb_gemm_kernel_neon;

#endif
