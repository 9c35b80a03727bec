/* AVX2 + FMA + F16C row-dot kernels for sb_matmul (compiled with -mavx2 -mfma -mf16c).
 *
 * Each kernel computes the dots of one weight row with NR ≤ SB_MR rows of X in one pass over the
 * weight row, so prefill reads each weight row once per NR rows of X and decode (NR = 1) streams
 * the weights once. NR is a compile-time constant inside the always-inline bodies (the switch in
 * each entry point), so the per-row accumulators stay in registers.
 *
 * Integer formats use the Q8 activations prepared by matmul.c (identical to the reference's):
 *   Q8_0 weights: |w| (unsigned) · sign(x, w) with maddubs, as 16-bit pairs → madd → int32;
 *   Q4_0 weights: nibbles 0..15 (unsigned) · x by quads of blocks (q4_0_quads), the −8 offset
 *   through start values; a last 1-3 blocks one at a time, minus 8·Σx per block;
 *   K-quants: unsigned quants · x with maddubs, then madd by the sub-block scale, integer sums
 *   per super-block, the mins (Q4_K/Q5_K) or the -32 offset (Q6_K) through the 16-sums bsums.
 * maddubs saturates at ±32767: the largest pair here is 2·63·127 = 16002, and 2·128·127 = 32512
 * for Q8_0's |w| = 128, so nothing saturates.
 */
#include <immintrin.h>

#include "kernels/cpu/simd_avx2.h"
#include "kernels/matmul_impl.h"

#define INLINE static inline __attribute__((always_inline))

INLINE float hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

INLINE float half(uint16_t h)
{
    return _cvtsh_ss(h);
}

/* ---------------------------------------------------------------- float formats */

/* 8 weights of a row as f32, for f32 / f16 / bf16 rows. */
INLINE __m256 load8(const void *w, int64_t i, sb_type t)
{
    if (t == SB_TYPE_F32) return _mm256_loadu_ps((const float *)w + i);
    __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)w + i));
    if (t == SB_TYPE_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

INLINE float scalar_w(const void *w, int64_t i, sb_type t)
{
    if (t == SB_TYPE_F32) return ((const float *)w)[i];
    if (t == SB_TYPE_F16) return half(((const uint16_t *)w)[i]);
    return sb_bf16_to_fp32(((const uint16_t *)w)[i]);
}

/* Two 8-wide accumulators per X row (four when NR = 1: decode wants more loads in flight). */
INLINE void float_rows(const void *w, const sb_act *x, int64_t r0, float *y, int64_t ldy, const int NR, sb_type t)
{
    const int64_t k = x->k;
    const float *xr[SB_MR];
    __m256 acc[SB_MR][4];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        xr[r] = x->f32 + (r0 + r) * k;
        for (int u = 0; u < 4; u++) acc[r][u] = _mm256_setzero_ps();
    }
    int64_t i = 0;
    if (NR == 1) {
        for (; i + 32 <= k; i += 32)
#pragma GCC unroll 4
            for (int u = 0; u < 4; u++)
                acc[0][u] = _mm256_fmadd_ps(load8(w, i + 8 * u, t), _mm256_loadu_ps(xr[0] + i + 8 * u), acc[0][u]);
    } else {
        for (; i + 16 <= k; i += 16) {
            __m256 w0 = load8(w, i, t), w1 = load8(w, i + 8, t);
#pragma GCC unroll 4
            for (int r = 0; r < NR; r++) {
                acc[r][0] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xr[r] + i), acc[r][0]);
                acc[r][1] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xr[r] + i + 8), acc[r][1]);
            }
        }
    }
    for (; i + 8 <= k; i += 8) {
        __m256 w0 = load8(w, i, t);
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) acc[r][0] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xr[r] + i), acc[r][0]);
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        float s = hsum256(_mm256_add_ps(_mm256_add_ps(acc[r][0], acc[r][1]), _mm256_add_ps(acc[r][2], acc[r][3])));
        for (int64_t j = i; j < k; j++) s += scalar_w(w, j, t) * xr[r][j];
        y[r * ldy] = s;
    }
}

void sb_rowdot_f32_avx2(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) float_rows(w, x, r0, y, ldy, NR, SB_TYPE_F32)
    SB_DISPATCH_NR(BODY)
#undef BODY
}

void sb_rowdot_f16_avx2(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) float_rows(w, x, r0, y, ldy, NR, SB_TYPE_F16)
    SB_DISPATCH_NR(BODY)
#undef BODY
}

void sb_rowdot_bf16_avx2(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) float_rows(w, x, r0, y, ldy, NR, SB_TYPE_BF16)
    SB_DISPATCH_NR(BODY)
#undef BODY
}

/* ---------------------------------------------------------------- Q8_0 / Q4_0 */

/* Σ over 32 lanes of u (unsigned) · s (signed) as 8 int32 lanes. */
INLINE __m256i dot_us8(__m256i u, __m256i s)
{
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

/* Q4_0 by quads of four blocks against X prepared as SB_ACT_Q8_0_OFF8_QUADS (kernels/matmul_impl.h),
 * as two pairs of blocks per register: lanes 0-3 belong to the first block of the pair, 4-7 to
 * the second, in every register, so the products of the low nibbles (elements 0-15) and of the
 * high ones (16-31) are added as int16 (|sum| <= 2·2·15·127), widened once, and each pair is
 * converted and scaled once; the −8 offset comes in through the start values. Per pair and X row
 * that is 2 vpmaddubsw, vpaddw, vpmaddwd, vpaddd (or, with AVX-VNNI, 2 vpdpbusd), convert, FMA,
 * where the block-at-a-time loop spent a conversion, a scale broadcast and a scalar correction
 * per block. Returns the first block not done; the acc[r] it adds to are the caller's. */
INLINE int64_t q4_0_quads(const void *w, const sb_act *x, int64_t r0, const int NR, __m256 acc[SB_MR],
                          const int vnni)
{
    const int64_t k = x->k, nb = k / 32, nq = k / 128;
    const __m256i m4 = _mm256_set1_epi8(15), ones = _mm256_set1_epi16(1);
    /* f16 scale words 0, 1 (2, 3) of a quad, each to four lanes */
    const __m128i rep_ab = _mm_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3);
    const __m128i rep_cd = _mm_setr_epi8(4, 5, 4, 5, 4, 5, 4, 5, 6, 7, 6, 7, 6, 7, 6, 7);
    __m256 acc2[SB_MR];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) acc2[r] = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 4 <= nb; b += 4) {
        const sb_block_q4_0 *q = (const sb_block_q4_0 *)w + b;
        __m256i ab = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)q[0].qs)),
                                             _mm_loadu_si128((const __m128i *)q[1].qs), 1);
        __m256i cd = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)q[2].qs)),
                                             _mm_loadu_si128((const __m128i *)q[3].qs), 1);
        __m256i lo0 = _mm256_and_si256(ab, m4), hi0 = _mm256_and_si256(_mm256_srli_epi16(ab, 4), m4);
        __m256i lo1 = _mm256_and_si256(cd, m4), hi1 = _mm256_and_si256(_mm256_srli_epi16(cd, 4), m4);
        __m128i d4 = _mm_setr_epi16((short)q[0].d, (short)q[1].d, (short)q[2].d, (short)q[3].d, 0, 0, 0, 0);
        __m256 dw0 = _mm256_cvtph_ps(_mm_shuffle_epi8(d4, rep_ab)), dw1 = _mm256_cvtph_ps(_mm_shuffle_epi8(d4, rep_cd));
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            const int8_t *xq = x->quad_q + ((r0 + r) * nq + b / 4) * 128;
            const int32_t *st = x->quad_start + ((r0 + r) * nq + b / 4) * 16;
            const float *dx = x->quad_d + ((r0 + r) * nq + b / 4) * 16;
            __m256i xl0 = _mm256_loadu_si256((const __m256i *)xq);
            __m256i xl1 = _mm256_loadu_si256((const __m256i *)(xq + 32));
            __m256i xh0 = _mm256_loadu_si256((const __m256i *)(xq + 64));
            __m256i xh1 = _mm256_loadu_si256((const __m256i *)(xq + 96));
            __m256i s0 = _mm256_loadu_si256((const __m256i *)st), s1 = _mm256_loadu_si256((const __m256i *)(st + 8));
            if (vnni) {
                s0 = vdpbusd_avxvnni(vdpbusd_avxvnni(s0, lo0, xl0), hi0, xh0);
                s1 = vdpbusd_avxvnni(vdpbusd_avxvnni(s1, lo1, xl1), hi1, xh1);
            } else {
                __m256i p0 = _mm256_add_epi16(_mm256_maddubs_epi16(lo0, xl0), _mm256_maddubs_epi16(hi0, xh0));
                __m256i p1 = _mm256_add_epi16(_mm256_maddubs_epi16(lo1, xl1), _mm256_maddubs_epi16(hi1, xh1));
                s0 = _mm256_add_epi32(_mm256_madd_epi16(p0, ones), s0);
                s1 = _mm256_add_epi32(_mm256_madd_epi16(p1, ones), s1);
            }
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0), _mm256_mul_ps(dw0, _mm256_loadu_ps(dx)), acc[r]);
            acc2[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1), _mm256_mul_ps(dw1, _mm256_loadu_ps(dx + 8)), acc2[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) acc[r] = _mm256_add_ps(acc[r], acc2[r]);
    return b;
}

INLINE void q8_0_rows(const void *w, const sb_act *x, int64_t r0, float *y, int64_t ldy, const int NR, int is_q4,
                      const int vnni)
{
    const int64_t k = x->k, nb = k / 32;
    const int8_t *xq[SB_MR];
    const float *xd[SB_MR];
    const int16_t *xs[SB_MR];
    __m256 acc[SB_MR];
    float corr[SB_MR];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        xq[r] = x->q + (r0 + r) * k;
        xd[r] = x->d + (r0 + r) * nb;
        xs[r] = x->s + (r0 + r) * nb;
        acc[r] = _mm256_setzero_ps();
        corr[r] = 0;
    }
    int64_t b = 0;
    if (is_q4) b = q4_0_quads(w, x, r0, NR, acc, vnni);
    for (; b < nb; b++) {
        float dw;
        __m256i wv;
        if (is_q4) {
            const sb_block_q4_0 *wb = (const sb_block_q4_0 *)w + b;
            dw = half(wb->d);
            __m128i bytes = _mm_loadu_si128((const __m128i *)wb->qs);
            __m128i lo = _mm_and_si128(bytes, _mm_set1_epi8(15));
            __m128i hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), _mm_set1_epi8(15));
            wv = _mm256_set_m128i(hi, lo); /* elements 0..31, values 0..15 */
        } else {
            const sb_block_q8_0 *wb = (const sb_block_q8_0 *)w + b;
            dw = half(wb->d);
            wv = _mm256_loadu_si256((const __m256i *)wb->qs);
        }
        __m256i wabs = is_q4 ? wv : _mm256_sign_epi8(wv, wv);
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            __m256i xv = _mm256_loadu_si256((const __m256i *)(xq[r] + 32 * b));
            if (!is_q4) xv = _mm256_sign_epi8(xv, wv);
            float dd = dw * xd[r][b];
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_us8(wabs, xv)), _mm256_set1_ps(dd), acc[r]);
            if (is_q4) corr[r] += dd * (float)xs[r][b];
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) y[r * ldy] = hsum256(acc[r]) - 8.0f * corr[r];
}

void sb_rowdot_q8_0_avx2(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) q8_0_rows(w, x, r0, y, ldy, NR, 0, 0)
    SB_DISPATCH_NR(BODY)
#undef BODY
}

void sb_rowdot_q4_0_avx2(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) q8_0_rows(w, x, r0, y, ldy, NR, 1, 0)
    SB_DISPATCH_NR(BODY)
#undef BODY
}

void sb_rowdot_q4_0_avx2vnni(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) q8_0_rows(w, x, r0, y, ldy, NR, 1, 1)
    SB_DISPATCH_NR(BODY)
#undef BODY
}

/* ---------------------------------------------------------------- K-quants */

/* Σ_pairs u·s scaled by a 16-bit scale per int16 lane, as 8 int32 lanes. */
INLINE __m256i dot_us8_scaled(__m256i u, __m256i s, __m256i scale16)
{
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), scale16);
}

/* vpshufb index that broadcasts 16-bit word j of each 128-bit lane: bytes 2j, 2j+1 */
INLINE short word_index(int j)
{
    return (short)(0x0100 + 0x0202 * j);
}

/* The 8 scales and 8 mins of a Q4_K/Q5_K block from its header (16 bytes: d, dmin, scales[12];
 * the packing is in sb_q4k_scale_min) as bytes sc0..7, mn0..7, with dwords a|b|c = scale bytes
 * 0-3, 4-7, 8-11: sc 0-3 = a & 63, mn 0-3 = b & 63, sc 4-7 = (c & 15) | (a >> 6) << 4,
 * mn 4-7 = (c >> 4) | (b >> 6) << 4. A dozen SSE operations, where the scalar decode took ~60. */
INLINE __m128i q4k_scales_mins(const void *header)
{
    const __m128i h = _mm_loadu_si128((const __m128i *)header);
    const __m128i ab = _mm_shuffle_epi32(h, _MM_SHUFFLE(2, 1, 2, 1)), cc = _mm_shuffle_epi32(h, _MM_SHUFFLE(3, 3, 3, 3));
    __m128i first4 = _mm_and_si128(ab, _mm_set1_epi8(0x3f));
    __m128i last4 = _mm_or_si128(_mm_and_si128(_mm_srlv_epi32(cc, _mm_setr_epi32(0, 4, 0, 4)), _mm_set1_epi8(15)),
                                 _mm_slli_epi32(_mm_and_si128(_mm_srli_epi32(ab, 6), _mm_set1_epi8(3)), 4));
    return _mm_unpacklo_epi32(first4, last4); /* sc0-3, sc4-7, mn0-3, mn4-7 */
}

/* Q4_K (has_high = 0) and Q5_K (has_high = 1). Per block: the header decoded in vector registers;
 * the two sub-block scales of each 64-element chunk taken from it by vpshufb; the min terms
 * Σ_j mn_j·(16-sums 2j, 2j+1 of X) as one vpmaddwd into a separate f32 accumulator. */
INLINE void q45_K_rows(const void *w, const sb_act *x, int64_t r0, float *y, int64_t ldy, const int NR, int has_high)
{
    const int64_t k = x->k, nb = k / SB_QK_K;
    const int8_t *xq[SB_MR];
    const float *xd[SB_MR];
    const int16_t *xs[SB_MR];
    __m256 acc[SB_MR], macc[SB_MR];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        xq[r] = x->q + (r0 + r) * k;
        xd[r] = x->d + (r0 + r) * nb;
        xs[r] = x->s + (r0 + r) * (k / 16);
        acc[r] = macc[r] = _mm256_setzero_ps();
    }
    const __m256i m4 = _mm256_set1_epi8(15), one = _mm256_set1_epi8(1);
    /* mins 0..7 (bytes 8..15 of the decoded header), each twice, for the 16-sums */
    const __m128i mn_pairs = _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *qs, *qh = NULL;
        float d, dmin;
        if (has_high) {
            const sb_block_q5_K *wb = (const sb_block_q5_K *)w + b;
            d = half(wb->d), dmin = half(wb->dmin), qs = wb->qs, qh = wb->qh;
        } else {
            const sb_block_q4_K *wb = (const sb_block_q4_K *)w + b;
            d = half(wb->d), dmin = half(wb->dmin), qs = wb->qs;
        }
        /* both formats start with the same 16-byte header */
        const size_t block_bytes = has_high ? sizeof(sb_block_q5_K) : sizeof(sb_block_q4_K);
        const __m128i scmn = q4k_scales_mins((const uint8_t *)w + (size_t)b * block_bytes);
        /* int16 scales sc0..7 in both 128-bit halves: chunk c takes words 2c (low) and 2c+1 (high) */
        const __m256i sc16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(scmn));
        const __m256i mn16 = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(scmn, mn_pairs));
        __m256i hbits = has_high ? _mm256_loadu_si256((const __m256i *)qh) : _mm256_setzero_si256();
        __m256i iacc[SB_MR];
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) iacc[r] = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            __m256i bytes = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
            __m256i lo = _mm256_and_si256(bytes, m4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), m4);
            if (has_high) {
                lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(hbits, one), 4));
                hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 1), one), 4));
                hbits = _mm256_srli_epi16(hbits, 2);
            }
            __m256i s_lo = _mm256_shuffle_epi8(sc16, _mm256_set1_epi16(word_index(2 * c)));
            __m256i s_hi = _mm256_shuffle_epi8(sc16, _mm256_set1_epi16(word_index(2 * c + 1)));
#pragma GCC unroll 4
            for (int r = 0; r < NR; r++) {
                __m256i x0 = _mm256_loadu_si256((const __m256i *)(xq[r] + b * SB_QK_K + 64 * c));
                __m256i x1 = _mm256_loadu_si256((const __m256i *)(xq[r] + b * SB_QK_K + 64 * c + 32));
                iacc[r] = _mm256_add_epi32(iacc[r], _mm256_add_epi32(dot_us8_scaled(lo, x0, s_lo), dot_us8_scaled(hi, x1, s_hi)));
            }
        }
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            __m256i imin = _mm256_madd_epi16(mn16, _mm256_loadu_si256((const __m256i *)(xs[r] + 16 * b)));
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(iacc[r]), _mm256_set1_ps(d * xd[r][b]), acc[r]);
            macc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(imin), _mm256_set1_ps(dmin * xd[r][b]), macc[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) y[r * ldy] = hsum256(_mm256_sub_ps(acc[r], macc[r]));
}

void sb_rowdot_q4_K_avx2(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) q45_K_rows(w, x, r0, y, ldy, NR, 0)
    SB_DISPATCH_NR(BODY)
#undef BODY
}

void sb_rowdot_q5_K_avx2(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) q45_K_rows(w, x, r0, y, ldy, NR, 1)
    SB_DISPATCH_NR(BODY)
#undef BODY
}

/* Q6_K: quants 0..63 = (q - 32) + 32; the -32 goes through the bsums. */
INLINE void q6_K_rows(const void *w, const sb_act *x, int64_t r0, float *y, int64_t ldy, const int NR)
{
    const int64_t k = x->k, nb = k / SB_QK_K;
    const int8_t *xq[SB_MR];
    const float *xd[SB_MR];
    const int16_t *xs[SB_MR];
    __m256 acc[SB_MR];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        xq[r] = x->q + (r0 + r) * k;
        xd[r] = x->d + (r0 + r) * nb;
        xs[r] = x->s + (r0 + r) * (k / 16);
        acc[r] = _mm256_setzero_ps();
    }
    const __m256i m4 = _mm256_set1_epi8(15), m2 = _mm256_set1_epi8(3);
    for (int64_t b = 0; b < nb; b++) {
        const sb_block_q6_K *wb = (const sb_block_q6_K *)w + b;
        float d = half(wb->d);
        /* the 16 scales as int16; each half's 8 in both 128-bit lanes, for vpshufb */
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)wb->scales));
        const __m256i sc_half[2] = {_mm256_permute2x128_si256(sc16, sc16, 0x00),
                                    _mm256_permute2x128_si256(sc16, sc16, 0x11)};
        __m256i iacc[SB_MR];
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) { /* −32·Σ_s scale_s·(16-sum of X)_s, lane-wise */
            __m256i off = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)(xs[r] + 16 * b)));
            iacc[r] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(off, 5));
        }
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m256i l0 = _mm256_loadu_si256((const __m256i *)(wb->ql + 64 * h));
            __m256i l1 = _mm256_loadu_si256((const __m256i *)(wb->ql + 64 * h + 32));
            __m256i hb = _mm256_loadu_si256((const __m256i *)(wb->qh + 32 * h));
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(hb, m2), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m2), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m2), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m2), 4));
#pragma GCC unroll 4
            for (int g = 0; g < 4; g++) {
                /* 32 elements = sub-blocks 8h+2g (int16 lanes 0-7) and 8h+2g+1 (lanes 8-15) */
                __m256i s16 = _mm256_shuffle_epi8(sc_half[h], _mm256_set_m128i(_mm_set1_epi16(word_index(2 * g + 1)),
                                                                                _mm_set1_epi16(word_index(2 * g))));
#pragma GCC unroll 4
                for (int r = 0; r < NR; r++) {
                    __m256i xv = _mm256_loadu_si256((const __m256i *)(xq[r] + b * SB_QK_K + 128 * h + 32 * g));
                    iacc[r] = _mm256_add_epi32(iacc[r], dot_us8_scaled(q[g], xv, s16));
                }
            }
        }
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++)
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(iacc[r]), _mm256_set1_ps(d * xd[r][b]), acc[r]);
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) y[r * ldy] = hsum256(acc[r]);
}

void sb_rowdot_q6_K_avx2(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) q6_K_rows(w, x, r0, y, ldy, NR)
    SB_DISPATCH_NR(BODY)
#undef BODY
}

/* ---------------------------------------------------------------- activation quantizers */

/* The same integers and scales as sb_quantize_block_q8_0 / _q8_K (quant.c): amax by exact max,
 * d = amax/127 (f16-rounded for Q8_0), q = round-to-nearest-even(x · (1/d)) — vcvtps2dq rounds
 * to nearest even like lrintf — so the optimized paths see exactly what the reference sees. */

INLINE float hmax256(__m256 v)
{
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

INLINE int hsum256i(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

/* 32 floats → 32 int8 (in order) of round(x · id), plus the four 8-lane int32 vectors. */
INLINE __m256i quant32(const float *x, __m256 id, __m256i out[4])
{
    for (int u = 0; u < 4; u++) {
        __m256i v = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * u), id));
        out[u] = _mm256_max_epi32(_mm256_min_epi32(v, _mm256_set1_epi32(127)), _mm256_set1_epi32(-127));
    }
    __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(out[0], out[1]), _mm256_packs_epi32(out[2], out[3]));
    return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

INLINE __m256 amax_abs(const float *x, int n)
{
    const __m256 nosign = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 m = _mm256_setzero_ps();
    for (int i = 0; i < n; i += 8) m = _mm256_max_ps(m, _mm256_and_ps(_mm256_loadu_ps(x + i), nosign));
    return m;
}

void sb_quantize_act_q8_0_avx2(const float *x, int64_t nb, int8_t *q, float *d, int16_t *s, int32_t *start,
                               float *dexp, int offset)
{
    for (int64_t b = 0; b < nb; b++) {
        const float *xb = x + 32 * b;
        float amax = hmax256(amax_abs(xb, 32));
        float db = amax / 127.0f;
        float id = db != 0 ? 1.0f / db : 0.0f;
        d[b] = _cvtsh_ss(_cvtss_sh(db, _MM_FROUND_TO_NEAREST_INT));
        __m256i v[4];
        __m256i qv = quant32(xb, _mm256_set1_ps(id), v);
        _mm256_storeu_si256((__m256i *)(q + 32 * b), qv);
        s[b] = (int16_t)hsum256i(_mm256_add_epi32(_mm256_add_epi32(v[0], v[1]), _mm256_add_epi32(v[2], v[3])));
        if (offset) {
            /* Σ of each 4 consecutive quants, times -offset */
            __m256i s4 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), qv), _mm256_set1_epi16(1));
            _mm256_storeu_si256((__m256i *)(start + 8 * b), _mm256_mullo_epi32(s4, _mm256_set1_epi32(-offset)));
            _mm256_storeu_ps(dexp + 8 * b, _mm256_set1_ps(d[b]));
        }
    }
}

void sb_quantize_act_q8_K_avx2(const float *x, int64_t nb, int8_t *q, float *d, int16_t *bsums)
{
    for (int64_t b = 0; b < nb; b++) {
        const float *xb = x + SB_QK_K * b;
        float amax = hmax256(amax_abs(xb, SB_QK_K));
        float db = amax / 127.0f;
        float id = db != 0 ? 1.0f / db : 0.0f;
        d[b] = db;
        for (int c = 0; c < SB_QK_K / 32; c++) {
            __m256i v[4];
            _mm256_storeu_si256((__m256i *)(q + SB_QK_K * b + 32 * c), quant32(xb + 32 * c, _mm256_set1_ps(id), v));
            bsums[16 * b + 2 * c] = (int16_t)hsum256i(_mm256_add_epi32(v[0], v[1]));
            bsums[16 * b + 2 * c + 1] = (int16_t)hsum256i(_mm256_add_epi32(v[2], v[3]));
        }
    }
}

