/* AVX-512 row-dot kernels for sb_matmul (compiled with AVX-512 F/BW/VL/DQ + VNNI + BF16 flags;
 * matmul.c's table only picks the VNNI and BF16 kernels when CPUID reports those features).
 *
 * Same contract as the AVX2 file: one pass over a weight row serves NR ≤ SB_MR rows of X.
 *   f32 / f16 / bf16: 16-wide FMAs, f16 through vcvtph2ps, bf16 widened by a shift; masked tails;
 *   bf16 with m ≥ 2 (prefill): vdpbf16ps on X rounded to bf16 (32 products per instruction);
 *   Q8_0 / Q4_0: vpdpbusd with X stored unsigned (x + 128) and the weights signed; the +128 is
 *     removed by starting each block's accumulator at -128·Σw (computed once per weight block,
 *     shared by all rows of X), so each X row costs dpbusd + cvt + mul + fma per 32 elements;
 *   K-quants: unsigned quants · signed X with vpmaddubsw, then vpdpwssd by the 16-bit sub-block
 *     scales straight into an int32 accumulator (64 elements per pair of instructions); the mins
 *     (Q4_K/Q5_K) and the -32 offset (Q6_K) enter through the Q8_K 16-sums with one more vpdpwssd.
 */
#include <immintrin.h>

#include "kernels/matmul_impl.h"

#define INLINE static inline __attribute__((always_inline))

INLINE float half(uint16_t h)
{
    return _cvtsh_ss(h);
}

#define DISPATCH_NR(body)                                                                         \
    switch (nr) {                                                                                 \
    case 1: body(1); break;                                                                       \
    case 2: body(2); break;                                                                       \
    case 3: body(3); break;                                                                       \
    default: body(4); break;                                                                      \
    }

/* ---------------------------------------------------------------- float formats */

/* 16 weights as f32 (masked: lanes outside `mask` read nothing and are 0). */
INLINE __m512 load16(const void *w, int64_t i, sb_type t, __mmask16 mask)
{
    if (t == SB_TYPE_F32) return _mm512_maskz_loadu_ps(mask, (const float *)w + i);
    __m256i h = _mm256_maskz_loadu_epi16(mask, (const uint16_t *)w + i);
    if (t == SB_TYPE_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

INLINE void float_rows(const void *w, const sb_act *x, int64_t r0, float *y, int64_t ldy, const int NR, sb_type t)
{
    const int64_t k = x->k;
    const float *xr[SB_MR];
    __m512 acc[SB_MR][4];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        xr[r] = x->f32 + (r0 + r) * k;
        for (int u = 0; u < 4; u++) acc[r][u] = _mm512_setzero_ps();
    }
    int64_t i = 0;
    if (NR == 1) {
        for (; i + 64 <= k; i += 64)
#pragma GCC unroll 4
            for (int u = 0; u < 4; u++)
                acc[0][u] = _mm512_fmadd_ps(load16(w, i + 16 * u, t, 0xffff), _mm512_loadu_ps(xr[0] + i + 16 * u), acc[0][u]);
    } else {
        for (; i + 32 <= k; i += 32) {
            __m512 w0 = load16(w, i, t, 0xffff), w1 = load16(w, i + 16, t, 0xffff);
#pragma GCC unroll 4
            for (int r = 0; r < NR; r++) {
                acc[r][0] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(xr[r] + i), acc[r][0]);
                acc[r][1] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(xr[r] + i + 16), acc[r][1]);
            }
        }
    }
    for (; i < k; i += 16) {
        __mmask16 mask = k - i >= 16 ? 0xffff : (__mmask16)((1u << (k - i)) - 1);
        __m512 w0 = load16(w, i, t, mask);
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) acc[r][2] = _mm512_fmadd_ps(w0, _mm512_maskz_loadu_ps(mask, xr[r] + i), acc[r][2]);
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++)
        y[r * ldy] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[r][0], acc[r][1]), _mm512_add_ps(acc[r][2], acc[r][3])));
}

void sb_rowdot_f32_avx512(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) float_rows(w, x, r0, y, ldy, NR, SB_TYPE_F32)
    DISPATCH_NR(BODY)
#undef BODY
}

void sb_rowdot_f16_avx512(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) float_rows(w, x, r0, y, ldy, NR, SB_TYPE_F16)
    DISPATCH_NR(BODY)
#undef BODY
}

void sb_rowdot_bf16_avx512(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) float_rows(w, x, r0, y, ldy, NR, SB_TYPE_BF16)
    DISPATCH_NR(BODY)
#undef BODY
}

/* bf16 weights · bf16 X with vdpbf16ps: 32 products per instruction, two accumulators per row. */
INLINE void bf16dp_rows(const void *w, const sb_act *x, int64_t r0, float *y, int64_t ldy, const int NR)
{
    const int64_t k = x->k;
    const uint16_t *wr = w, *xr[SB_MR];
    __m512 acc[SB_MR][2];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        xr[r] = x->bf16 + (r0 + r) * k;
        acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    }
    int64_t i = 0;
    for (; i + 64 <= k; i += 64) {
        __m512bh w0 = (__m512bh)_mm512_loadu_si512(wr + i), w1 = (__m512bh)_mm512_loadu_si512(wr + i + 32);
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], w0, (__m512bh)_mm512_loadu_si512(xr[r] + i));
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], w1, (__m512bh)_mm512_loadu_si512(xr[r] + i + 32));
        }
    }
    for (; i < k; i += 32) {
        __mmask32 mask = k - i >= 32 ? 0xffffffffu : (__mmask32)((1u << (k - i)) - 1);
        __m512bh w0 = (__m512bh)_mm512_maskz_loadu_epi16(mask, wr + i);
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++)
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], w0, (__m512bh)_mm512_maskz_loadu_epi16(mask, xr[r] + i));
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) y[r * ldy] = _mm512_reduce_add_ps(_mm512_add_ps(acc[r][0], acc[r][1]));
}

void sb_rowdot_bf16dp_avx512(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) bf16dp_rows(w, x, r0, y, ldy, NR)
    DISPATCH_NR(BODY)
#undef BODY
}

/* ---------------------------------------------------------------- Q8_0 / Q4_0 (VNNI) */

/* One weight block against NR rows of X (SB_ACT_Q8_0U: bytes x + 128, f32 scale per block),
 * accumulating into acc[r][a]. */
INLINE void q8_0_block(const void *w, int64_t b, const uint8_t *const *xq, const float *const *xd, __m256 acc[][2],
                       const int a, const int NR, int is_q4)
{
    const __m256i u128 = _mm256_set1_epi8((char)0x80), zero = _mm256_setzero_si256();
    __m256i wv;
    __m256 dw;
    if (is_q4) {
        const sb_block_q4_0 *wb = (const sb_block_q4_0 *)w + b;
        dw = _mm256_set1_ps(half(wb->d));
        __m128i bytes = _mm_loadu_si128((const __m128i *)wb->qs);
        __m128i lo = _mm_and_si128(bytes, _mm_set1_epi8(15));
        __m128i hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), _mm_set1_epi8(15));
        wv = _mm256_sub_epi8(_mm256_set_m128i(hi, lo), _mm256_set1_epi8(8));
    } else {
        const sb_block_q8_0 *wb = (const sb_block_q8_0 *)w + b;
        dw = _mm256_set1_ps(half(wb->d));
        wv = _mm256_loadu_si256((const __m256i *)wb->qs);
    }
    /* -128 · Σw per lane: the start value that cancels X's +128 offset */
    __m256i start = _mm256_sub_epi32(zero, _mm256_dpbusd_epi32(zero, u128, wv));
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        __m256i dp = _mm256_dpbusd_epi32(start, _mm256_loadu_si256((const __m256i *)(xq[r] + 32 * b)), wv);
        __m256 dd = _mm256_mul_ps(dw, _mm256_set1_ps(xd[r][b]));
        acc[r][a] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dp), dd, acc[r][a]);
    }
}

INLINE void q8_0_rows(const void *w, const sb_act *x, int64_t r0, float *y, int64_t ldy, const int NR, int is_q4)
{
    const int64_t k = x->k, nb = k / 32;
    const uint8_t *xq[SB_MR];
    const float *xd[SB_MR];
    __m256 acc[SB_MR][2];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        xq[r] = (const uint8_t *)x->q + (r0 + r) * k;
        xd[r] = x->d + (r0 + r) * nb;
        acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    }
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        q8_0_block(w, b, xq, xd, acc, 0, NR, is_q4);
        q8_0_block(w, b + 1, xq, xd, acc, 1, NR, is_q4);
    }
    if (b < nb) q8_0_block(w, b, xq, xd, acc, 0, NR, is_q4);
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        __m256 s = _mm256_add_ps(acc[r][0], acc[r][1]);
        __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
        h = _mm_add_ps(h, _mm_movehl_ps(h, h));
        y[r * ldy] = _mm_cvtss_f32(_mm_add_ss(h, _mm_movehdup_ps(h)));
    }
}

void sb_rowdot_q8_0_avx512(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) q8_0_rows(w, x, r0, y, ldy, NR, 0)
    DISPATCH_NR(BODY)
#undef BODY
}

void sb_rowdot_q4_0_avx512(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) q8_0_rows(w, x, r0, y, ldy, NR, 1)
    DISPATCH_NR(BODY)
#undef BODY
}

/* ---------------------------------------------------------------- K-quants */

/* 64 weights = two sub-blocks: [lo 32 | hi 32] as one register matching 64 contiguous X bytes. */
INLINE __m512i join(__m256i lo, __m256i hi)
{
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/* 16-bit lanes 0-15 = a, 16-31 = b (the scales of the two sub-blocks in a 64-element register). */
INLINE __m512i scale_pair(int a, int b)
{
    return join(_mm256_set1_epi16((int16_t)a), _mm256_set1_epi16((int16_t)b));
}

/* Q4_K (has_high = 0) and Q5_K (has_high = 1). */
INLINE void q45_K_rows(const void *w, const sb_act *x, int64_t r0, float *y, int64_t ldy, const int NR, int has_high)
{
    const int64_t k = x->k, nb = k / SB_QK_K;
    const int8_t *xq[SB_MR];
    const float *xd[SB_MR];
    const int16_t *xs[SB_MR];
    __m512 acc[SB_MR];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        xq[r] = x->q + (r0 + r) * k;
        xd[r] = x->d + (r0 + r) * nb;
        xs[r] = x->s + (r0 + r) * (k / 16);
        acc[r] = _mm512_setzero_ps();
    }
    const __m256i m4 = _mm256_set1_epi8(15), one = _mm256_set1_epi8(1);
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *scales, *qs, *qh = NULL;
        float d, dmin;
        if (has_high) {
            const sb_block_q5_K *wb = (const sb_block_q5_K *)w + b;
            d = half(wb->d), dmin = half(wb->dmin), scales = wb->scales, qs = wb->qs, qh = wb->qh;
        } else {
            const sb_block_q4_K *wb = (const sb_block_q4_K *)w + b;
            d = half(wb->d), dmin = half(wb->dmin), scales = wb->scales, qs = wb->qs;
        }
        int sc[8];
        int16_t mn16[16];
        for (int j = 0; j < 8; j++) {
            int mn;
            sb_q4k_scale_min(j, scales, &sc[j], &mn);
            mn16[2 * j] = mn16[2 * j + 1] = (int16_t)mn; /* per 16-sum: sub-block j covers sums 2j, 2j+1 */
        }
        const __m256i mins = _mm256_loadu_si256((const __m256i *)mn16);
        __m256i hbits = has_high ? _mm256_loadu_si256((const __m256i *)qh) : _mm256_setzero_si256();
        __m512i iacc[SB_MR];
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) iacc[r] = _mm512_setzero_si512();
        for (int c = 0; c < 4; c++) {
            __m256i bytes = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
            __m256i lo = _mm256_and_si256(bytes, m4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), m4);
            if (has_high) {
                lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(hbits, one), 4));
                hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 1), one), 4));
                hbits = _mm256_srli_epi16(hbits, 2);
            }
            __m512i q = join(lo, hi), s16 = scale_pair(sc[2 * c], sc[2 * c + 1]);
#pragma GCC unroll 4
            for (int r = 0; r < NR; r++) {
                __m512i xv = _mm512_loadu_si512(xq[r] + b * SB_QK_K + 64 * c);
                iacc[r] = _mm512_dpwssd_epi32(iacc[r], _mm512_maddubs_epi16(q, xv), s16);
            }
        }
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            __m256i bs = _mm256_loadu_si256((const __m256i *)(xs[r] + 16 * b));
            __m256i imin = _mm256_madd_epi16(bs, mins);
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(iacc[r]), _mm512_set1_ps(d * xd[r][b]), acc[r]);
            acc[r] = _mm512_fnmadd_ps(_mm512_zextps256_ps512(_mm256_cvtepi32_ps(imin)),
                                      _mm512_set1_ps(dmin * xd[r][b]), acc[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) y[r * ldy] = _mm512_reduce_add_ps(acc[r]);
}

void sb_rowdot_q4_K_avx512(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) q45_K_rows(w, x, r0, y, ldy, NR, 0)
    DISPATCH_NR(BODY)
#undef BODY
}

void sb_rowdot_q5_K_avx512(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) q45_K_rows(w, x, r0, y, ldy, NR, 1)
    DISPATCH_NR(BODY)
#undef BODY
}

INLINE void q6_K_rows(const void *w, const sb_act *x, int64_t r0, float *y, int64_t ldy, const int NR)
{
    const int64_t k = x->k, nb = k / SB_QK_K;
    const int8_t *xq[SB_MR];
    const float *xd[SB_MR];
    const int16_t *xs[SB_MR];
    __m512 acc[SB_MR];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        xq[r] = x->q + (r0 + r) * k;
        xd[r] = x->d + (r0 + r) * nb;
        xs[r] = x->s + (r0 + r) * (k / 16);
        acc[r] = _mm512_setzero_ps();
    }
    const __m256i m4 = _mm256_set1_epi8(15), m2 = _mm256_set1_epi8(3);
    /* vpermw indices: 16-bit lane l of a 64-element register takes scale (l / 8) + base */
    const __m512i idx0 = _mm512_set_epi16(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0,
                                          0, 0, 0, 0, 0, 0);
    for (int64_t b = 0; b < nb; b++) {
        const sb_block_q6_K *wb = (const sb_block_q6_K *)w + b;
        float d = half(wb->d);
        /* the 16 scales as int16, and -32·scale for the offset term */
        __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)wb->scales));
        __m512i sc512 = _mm512_castsi256_si512(sc16);
        __m256i off16 = _mm256_slli_epi16(_mm256_sub_epi16(_mm256_setzero_si256(), sc16), 5);
        __m512i iacc[SB_MR];
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            /* Σ_s -32·scale_s·bsum_s, lane-wise (only the total over lanes matters) */
            __m256i bs = _mm256_loadu_si256((const __m256i *)(xs[r] + 16 * b));
            iacc[r] = _mm512_zextsi256_si512(_mm256_madd_epi16(bs, off16));
        }
        for (int h = 0; h < 2; h++) {
            __m256i l0 = _mm256_loadu_si256((const __m256i *)(wb->ql + 64 * h));
            __m256i l1 = _mm256_loadu_si256((const __m256i *)(wb->ql + 64 * h + 32));
            __m256i hb = _mm256_loadu_si256((const __m256i *)(wb->qh + 32 * h));
            __m256i q0 = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(hb, m2), 4));
            __m256i q1 = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m2), 4));
            __m256i q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m2), 4));
            __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m2), 4));
            /* elements 128h + 0..63 and 128h + 64..127, scales 8h + 0..3 and 8h + 4..7 */
            __m512i qa = join(q0, q1), qb = join(q2, q3);
            __m512i sa = _mm512_permutexvar_epi16(_mm512_add_epi16(idx0, _mm512_set1_epi16((int16_t)(8 * h))), sc512);
            __m512i sb = _mm512_permutexvar_epi16(_mm512_add_epi16(idx0, _mm512_set1_epi16((int16_t)(8 * h + 4))), sc512);
#pragma GCC unroll 4
            for (int r = 0; r < NR; r++) {
                const int8_t *xb = xq[r] + b * SB_QK_K + 128 * h;
                iacc[r] = _mm512_dpwssd_epi32(iacc[r], _mm512_maddubs_epi16(qa, _mm512_loadu_si512(xb)), sa);
                iacc[r] = _mm512_dpwssd_epi32(iacc[r], _mm512_maddubs_epi16(qb, _mm512_loadu_si512(xb + 64)), sb);
            }
        }
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++)
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(iacc[r]), _mm512_set1_ps(d * xd[r][b]), acc[r]);
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) y[r * ldy] = _mm512_reduce_add_ps(acc[r]);
}

void sb_rowdot_q6_K_avx512(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy)
{
#define BODY(NR) q6_K_rows(w, x, r0, y, ldy, NR)
    DISPATCH_NR(BODY)
#undef BODY
}
