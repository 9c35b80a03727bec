/* aarch64 NEON row-dot kernels for the quantized weight formats (compiled with the ARMv8.2
 * dot-product extension; kernels/matmul.c uses them only when the CPU reports it).
 *
 * SDOT multiplies signed bytes, so the weights are unpacked to signed int8 first: Q4_0 nibbles
 * minus 8, Q6_K quants minus 32 (−32..31), Q8_0 as stored. Q4_K/Q5_K quants (0..31) stay
 * unsigned-valued in signed bytes and their mins go through X's 16-sums, as in the reference.
 * Each weight block is unpacked once and dotted with NR <= SB_MR rows of X (Q8_0 activations
 * for Q8_0/Q4_0, Q8_K for the K-quants; kernels/matmul_impl.h). Integer sums per sub-block are
 * scaled in int32 lanes (vmlaq_n_s32) and reduced once per block. */
#include <arm_neon.h>

#include "kernels/matmul_impl.h"

#define INLINE static inline __attribute__((always_inline))

/* Σ a·b over 32 signed bytes, as 4 int32 lanes. */
INLINE int32x4_t dot32(int8x16_t a0, int8x16_t a1, const int8_t *b)
{
    return vdotq_s32(vdotq_s32(vdupq_n_s32(0), a0, vld1q_s8(b)), a1, vld1q_s8(b + 16));
}

/* ---------------------------------------------------------------- Q8_0 / Q4_0 */

INLINE void q8_0_rows(const void *w, const sb_act *x, int64_t r0, float *y, int64_t ldy, const int NR, int is_q4)
{
    const int64_t k = x->k, nb = k / 32;
    float32x4_t acc[SB_MR];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) acc[r] = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < nb; b++) {
        int8x16_t q0, q1;
        float dw;
        if (is_q4) {
            const sb_block_q4_0 *blk = (const sb_block_q4_0 *)w + b;
            uint8x16_t raw = vld1q_u8(blk->qs);
            q0 = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(raw, vdupq_n_u8(15))), vdupq_n_s8(8)); /* elements 0-15  */
            q1 = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(raw, 4)), vdupq_n_s8(8));            /* elements 16-31 */
            dw = sb_fp16_to_fp32(blk->d);
        } else {
            const sb_block_q8_0 *blk = (const sb_block_q8_0 *)w + b;
            q0 = vld1q_s8(blk->qs);
            q1 = vld1q_s8(blk->qs + 16);
            dw = sb_fp16_to_fp32(blk->d);
        }
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            int32x4_t s = dot32(q0, q1, x->q + (r0 + r) * k + 32 * b);
            acc[r] = vfmaq_n_f32(acc[r], vcvtq_f32_s32(s), dw * x->d[(r0 + r) * nb + b]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) y[r * ldy] = vaddvq_f32(acc[r]);
}

void sb_rowdot_q8_0_neon(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) q8_0_rows(w, x, r0, y, ldy, NR, 0)
    SB_DISPATCH_NR(BODY)
#undef BODY
}

void sb_rowdot_q4_0_neon(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) q8_0_rows(w, x, r0, y, ldy, NR, 1)
    SB_DISPATCH_NR(BODY)
#undef BODY
}

/* ---------------------------------------------------------------- Q4_K / Q5_K */

/* Per super-block: q[16] = the 256 quants (0..31) as signed bytes in element order; chunk c
 * (64 elements) is qs[32c .. 32c+31], low nibbles for sub-block 2c, high for 2c+1; Q5_K adds
 * bit 2c (low) or 2c+1 (high) of qh[l] as 16. */
INLINE void q45_K_rows(const void *w, const sb_act *x, int64_t r0, float *y, int64_t ldy, const int NR,
                       int has_high)
{
    const int64_t k = x->k, nb = k / SB_QK_K;
    float acc[SB_MR] = {0};
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *qs, *scales;
        uint16_t dh, dminh;
        uint8x16_t qh[2] = {vdupq_n_u8(0), vdupq_n_u8(0)};
        if (has_high) {
            const sb_block_q5_K *blk = (const sb_block_q5_K *)w + b;
            qs = blk->qs, scales = blk->scales, dh = blk->d, dminh = blk->dmin;
            qh[0] = vld1q_u8(blk->qh);
            qh[1] = vld1q_u8(blk->qh + 16);
        } else {
            const sb_block_q4_K *blk = (const sb_block_q4_K *)w + b;
            qs = blk->qs, scales = blk->scales, dh = blk->d, dminh = blk->dmin;
        }
        int sc[8], mn[8];
        for (int j = 0; j < 8; j++) sb_q4k_scale_min(j, scales, &sc[j], &mn[j]);
        int8x16_t q[16];
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++)
#pragma GCC unroll 2
            for (int u = 0; u < 2; u++) {
                uint8x16_t raw = vld1q_u8(qs + 32 * c + 16 * u);
                uint8x16_t lo = vandq_u8(raw, vdupq_n_u8(15)), hi = vshrq_n_u8(raw, 4);
                if (has_high) { /* bit 2c → 16 (shift 4 − 2c), bit 2c+1 → 16 (shift 3 − 2c) */
                    lo = vorrq_u8(lo, vandq_u8(vshlq_u8(qh[u], vdupq_n_s8((int8_t)(4 - 2 * c))), vdupq_n_u8(16)));
                    hi = vorrq_u8(hi, vandq_u8(vshlq_u8(qh[u], vdupq_n_s8((int8_t)(3 - 2 * c))), vdupq_n_u8(16)));
                }
                q[4 * c + u] = vreinterpretq_s8_u8(lo);     /* elements 64c + 16u ..      */
                q[4 * c + 2 + u] = vreinterpretq_s8_u8(hi); /* elements 64c + 32 + 16u .. */
            }
        const float d = sb_fp16_to_fp32(dh), dmin = sb_fp16_to_fp32(dminh);
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            const int8_t *xq = x->q + (r0 + r) * k + b * SB_QK_K;
            const int16_t *bs = x->s + (r0 + r) * (k / 16) + 16 * b;
            int32x4_t iacc = vdupq_n_s32(0);
            int imins = 0;
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++) {
                iacc = vmlaq_n_s32(iacc, dot32(q[2 * j], q[2 * j + 1], xq + 32 * j), sc[j]);
                imins += mn[j] * (bs[2 * j] + bs[2 * j + 1]);
            }
            acc[r] += x->d[(r0 + r) * nb + b] * (d * (float)vaddvq_s32(iacc) - dmin * (float)imins);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) y[r * ldy] = acc[r];
}

void sb_rowdot_q4_K_neon(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) q45_K_rows(w, x, r0, y, ldy, NR, 0)
    SB_DISPATCH_NR(BODY)
#undef BODY
}

void sb_rowdot_q5_K_neon(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) q45_K_rows(w, x, r0, y, ldy, NR, 1)
    SB_DISPATCH_NR(BODY)
#undef BODY
}

/* ---------------------------------------------------------------- Q6_K */

/* Half h (128 elements; ql + 64h, qh + 32h), quarter t (32 elements l + 32t, l < 32): low bits
 * from ql[l + 32(t & 1)] (low nibble for t < 2, high for t >= 2), top bits 2t, 2t+1 of qh[l]. */
INLINE void q6_K_rows(const void *w, const sb_act *x, int64_t r0, float *y, int64_t ldy, const int NR)
{
    const int64_t k = x->k, nb = k / SB_QK_K;
    float acc[SB_MR] = {0};
    for (int64_t b = 0; b < nb; b++) {
        const sb_block_q6_K *blk = (const sb_block_q6_K *)w + b;
        int8x16_t q[16]; /* sub-block s (16 elements) = q[s] */
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++)
#pragma GCC unroll 2
            for (int u = 0; u < 2; u++) { /* elements l = 16u .. 16u+15 of each quarter */
                uint8x16_t l0 = vld1q_u8(blk->ql + 64 * h + 16 * u), l1 = vld1q_u8(blk->ql + 64 * h + 32 + 16 * u);
                uint8x16_t hb = vld1q_u8(blk->qh + 32 * h + 16 * u);
                uint8x16_t low[4] = {vandq_u8(l0, vdupq_n_u8(15)), vandq_u8(l1, vdupq_n_u8(15)), vshrq_n_u8(l0, 4),
                                     vshrq_n_u8(l1, 4)};
#pragma GCC unroll 4
                for (int t = 0; t < 4; t++) {
                    /* bits 2t, 2t+1 of qh to bits 4, 5: shift by 4 − 2t */
                    uint8x16_t top = vandq_u8(vshlq_u8(hb, vdupq_n_s8((int8_t)(4 - 2 * t))), vdupq_n_u8(0x30));
                    q[8 * h + 2 * t + u] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(low[t], top)), vdupq_n_s8(32));
                }
            }
        const float d = sb_fp16_to_fp32(blk->d);
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            const int8_t *xq = x->q + (r0 + r) * k + b * SB_QK_K;
            int32x4_t iacc = vdupq_n_s32(0);
#pragma GCC unroll 16
            for (int s = 0; s < 16; s++)
                iacc = vmlaq_n_s32(iacc, vdotq_s32(vdupq_n_s32(0), q[s], vld1q_s8(xq + 16 * s)), blk->scales[s]);
            acc[r] += x->d[(r0 + r) * nb + b] * d * (float)vaddvq_s32(iacc);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) y[r * ldy] = acc[r];
}

void sb_rowdot_q6_K_neon(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) q6_K_rows(w, x, r0, y, ldy, NR)
    SB_DISPATCH_NR(BODY)
#undef BODY
}
