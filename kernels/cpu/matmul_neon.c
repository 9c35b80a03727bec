/* aarch64 NEON row-dot kernels for sb_matmul, float weight formats (baseline ARMv8-A; the
 * quantized formats, which need the dot-product extension, are in matmul_neondot.c).
 *
 * As on x86, a kernel computes the dots of one weight row with NR <= SB_MR rows of X in one pass
 * over the weight row; NR is a compile-time constant inside the always-inline body. f16 is
 * widened with FCVTL, bf16 by a 16-bit left shift. */
#include <arm_neon.h>

#include "kernels/matmul_impl.h"

#define INLINE static inline __attribute__((always_inline))

/* 4 weights of a row as f32, for f32 / f16 / bf16 rows. */
INLINE float32x4_t load4(const void *w, int64_t i, sb_type t)
{
    if (t == SB_TYPE_F32) return vld1q_f32((const float *)w + i);
    uint16x4_t h = vld1_u16((const uint16_t *)w + i);
    if (t == SB_TYPE_F16) return vcvt_f32_f16(vreinterpret_f16_u16(h));
    return vreinterpretq_f32_u32(vshll_n_u16(h, 16));
}

INLINE float scalar_w(const void *w, int64_t i, sb_type t)
{
    if (t == SB_TYPE_F32) return ((const float *)w)[i];
    if (t == SB_TYPE_F16) return sb_fp16_to_fp32(((const uint16_t *)w)[i]);
    return sb_bf16_to_fp32(((const uint16_t *)w)[i]);
}

/* Four 4-wide accumulators per X row (FMA latency × throughput needs about that many). */
INLINE void float_rows(const void *w, const sb_act *x, int64_t r0, float *y, int64_t ldy, const int NR, sb_type t)
{
    const int64_t k = x->k;
    const float *xr[SB_MR];
    float32x4_t acc[SB_MR][4];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        xr[r] = x->f32 + (r0 + r) * k;
        for (int u = 0; u < 4; u++) acc[r][u] = vdupq_n_f32(0.0f);
    }
    int64_t i = 0;
    for (; i + 16 <= k; i += 16) {
        float32x4_t wv[4];
#pragma GCC unroll 4
        for (int u = 0; u < 4; u++) wv[u] = load4(w, i + 4 * u, t);
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++)
#pragma GCC unroll 4
            for (int u = 0; u < 4; u++) acc[r][u] = vfmaq_f32(acc[r][u], wv[u], vld1q_f32(xr[r] + i + 4 * u));
    }
    for (; i + 4 <= k; i += 4) {
        float32x4_t w0 = load4(w, i, t);
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) acc[r][0] = vfmaq_f32(acc[r][0], w0, vld1q_f32(xr[r] + i));
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        float s = vaddvq_f32(vaddq_f32(vaddq_f32(acc[r][0], acc[r][1]), vaddq_f32(acc[r][2], acc[r][3])));
        for (int64_t j = i; j < k; j++) s += scalar_w(w, j, t) * xr[r][j];
        y[r * ldy] = s;
    }
}

void sb_rowdot_f32_neon(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) float_rows(w, x, r0, y, ldy, NR, SB_TYPE_F32)
    SB_DISPATCH_NR(BODY)
#undef BODY
}

void sb_rowdot_f16_neon(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) float_rows(w, x, r0, y, ldy, NR, SB_TYPE_F16)
    SB_DISPATCH_NR(BODY)
#undef BODY
}

void sb_rowdot_bf16_neon(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) float_rows(w, x, r0, y, ldy, NR, SB_TYPE_BF16)
    SB_DISPATCH_NR(BODY)
#undef BODY
}
