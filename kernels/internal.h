/* Private interface between the parts of kernels/ (not for other modules).
 *
 * kernels/quant.c, matmul.c  — formats, quantizers, sb_matmul dispatch, matvec for every format
 * kernels/gemm*.c            — F32 GEMM (BLIS-style packing + MR×NR micro-kernel + cache blocking)
 * kernels/attention*.c       — reference and flash attention
 * kernels/ops*.c             — small ops (rmsnorm, rope, softmax, silu·mul, add, mul, get_rows)
 * kernels/cpu/NAME_avx2.c, NAME_avx512.c, NAME_neon*.c — per-ISA code, compiled with its own flags
 *                            (kernels/cpu/module.mk); a build compiles only its target's files
 */
#ifndef SB_KERNELS_INTERNAL_H
#define SB_KERNELS_INTERNAL_H

#include "kernels/kernels.h"

/* Y[m×n] = X[m×k] · Wᵀ with f32 W (n×k row-major), optimized level ctx->isa, ctx->n_threads
 * (kernels/gemm.c). Y may not alias X or W. The ref level runs the plain triple loop. Returns
 * SB_KOK; SB_KERR_ARG for NULL pointers, negative sizes or a level this CPU lacks; SB_KERR_NOMEM
 * when the packing buffers cannot be allocated. */
int sb_gemm_f32(const sb_kctx *ctx, float *Y, const float *X, const float *W, int64_t m, int64_t n,
                int64_t k);

/* The same with f16 or bf16 W, widened to f32 (exactly) while the GEMM packs it: no converted
 * copy of W. SB_KERR_UNSUPPORTED on a level without a GEMM kernel (ref); otherwise as
 * sb_gemm_f32. */
int sb_gemm_half(const sb_kctx *ctx, float *Y, const float *X, const void *W, sb_type wt, int64_t m, int64_t n,
                 int64_t k);

/* Re-reads SB_CPU_DISABLE (sb_cpu_has reads it once): for tests that hide CPU features. Each
 * reload (the first read included) advances the generation, so that callers caching what
 * sb_cpu_has answered know to ask again. */
void sb_cpu_features_reload(void);
int sb_cpu_features_generation(void);

/* Threads to use for a context: n_threads <= 0 → all online processors; ref → 1. */
int sb_kctx_threads(const sb_kctx *ctx);

#endif
