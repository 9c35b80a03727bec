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
#include <string.h>

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

/* Q8_0 / Q4_0 against X prepared as SB_ACT_Q8_0_OFF8 / _OFF128: signed quants, and per int32
 * lane (4 quants) the start value -offset·Σ(4 quants) and the block's f32 scale. The weights
 * enter vpdpbusd unsigned (Q4_0 nibbles as stored = w + 8; Q8_0 bytes with the sign bit flipped =
 * w + 128) and the start value cancels the offset exactly. Two blocks (64 elements) per 512-bit
 * register; a last odd block uses the 256-bit halves. */

/* 64 unsigned weights of blocks b, b+1 and their scales (lanes 0-7 block b, 8-15 block b+1). */
INLINE void load_pair(const void *w, int64_t b, int is_q4, __m512i *wv, __m512 *dw)
{
    __m128i d0, d1;
    if (is_q4) {
        const sb_block_q4_0 *wb = (const sb_block_q4_0 *)w + b;
        d0 = _mm_set1_epi16((short)wb[0].d), d1 = _mm_set1_epi16((short)wb[1].d);
        __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)wb[0].qs)),
                                               _mm_loadu_si128((const __m128i *)wb[1].qs), 1);
        /* [qs0, qs0, qs1, qs1]; the second copy of each shifted by 4: low nibbles then high */
        __m512i dup = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 1, 0, 1, 2, 3, 2, 3), _mm512_castsi256_si512(both));
        const __m512i shifts = _mm512_set_epi64(0x0004000400040004, 0x0004000400040004, 0, 0, 0x0004000400040004,
                                                0x0004000400040004, 0, 0);
        *wv = _mm512_and_si512(_mm512_srlv_epi16(dup, shifts), _mm512_set1_epi8(15));
    } else {
        const sb_block_q8_0 *wb = (const sb_block_q8_0 *)w + b;
        d0 = _mm_set1_epi16((short)wb[0].d), d1 = _mm_set1_epi16((short)wb[1].d);
        __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)wb[0].qs)),
                                       _mm256_loadu_si256((const __m256i *)wb[1].qs), 1);
        *wv = _mm512_xor_si512(v, _mm512_set1_epi8((char)0x80));
    }
    *dw = _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(d0), d1, 1));
}

INLINE __m256i load_one(const void *w, int64_t b, int is_q4, __m256 *dw)
{
    if (is_q4) {
        const sb_block_q4_0 *wb = (const sb_block_q4_0 *)w + b;
        *dw = _mm256_cvtph_ps(_mm_set1_epi16((short)wb->d));
        __m256i bytes = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)wb->qs));
        const __m256i shifts = _mm256_setr_epi16(0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4);
        return _mm256_and_si256(_mm256_srlv_epi16(bytes, shifts), _mm256_set1_epi8(15));
    }
    const sb_block_q8_0 *wb = (const sb_block_q8_0 *)w + b;
    *dw = _mm256_cvtph_ps(_mm_set1_epi16((short)wb->d));
    return _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)wb->qs), _mm256_set1_epi8((char)0x80));
}

INLINE void q8_0_rows(const void *w, const sb_act *x, int64_t r0, float *y, int64_t ldy, const int NR, int is_q4)
{
    const int64_t k = x->k, nb = k / 32;
    const int8_t *xq[SB_MR];
    const int32_t *xst[SB_MR];
    const float *xdx[SB_MR];
    __m512 acc[SB_MR][2];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        xq[r] = x->q + (r0 + r) * k;
        xst[r] = x->start + (r0 + r) * (k / 4);
        xdx[r] = x->dexp + (r0 + r) * (k / 4);
        acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    }
    int64_t b = 0;
    for (; b + 4 <= nb; b += 4) {
        for (int p = 0; p < 2; p++) {
            __m512i wv;
            __m512 dw;
            load_pair(w, b + 2 * p, is_q4, &wv, &dw);
#pragma GCC unroll 4
            for (int r = 0; r < NR; r++) {
                int64_t e = 32 * (b + 2 * p);
                __m512i dp = _mm512_dpbusd_epi32(_mm512_loadu_si512(xst[r] + e / 4), wv, _mm512_loadu_si512(xq[r] + e));
                __m512 dd = _mm512_mul_ps(dw, _mm512_loadu_ps(xdx[r] + e / 4));
                acc[r][p] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dp), dd, acc[r][p]);
            }
        }
    }
    for (; b < nb; b++) {
        __m256 dw;
        __m256i wv = load_one(w, b, is_q4, &dw);
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            __m256i dp = _mm256_dpbusd_epi32(_mm256_loadu_si256((const __m256i *)(xst[r] + 8 * b)), wv,
                                             _mm256_loadu_si256((const __m256i *)(xq[r] + 32 * b)));
            __m256 dd = _mm256_mul_ps(dw, _mm256_loadu_ps(xdx[r] + 8 * b));
            acc[r][0] = _mm512_add_ps(acc[r][0], _mm512_zextps256_ps512(_mm256_mul_ps(_mm256_cvtepi32_ps(dp), dd)));
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) y[r * ldy] = _mm512_reduce_add_ps(_mm512_add_ps(acc[r][0], acc[r][1]));
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

/* The 8 scales (bytes 0-7) and 8 mins (bytes 8-15) of a Q4_K/Q5_K block, unpacked from its 12
 * scale bytes a|b|c (3 little-endian words) with byte-parallel word arithmetic:
 *   sc 0-3 = a & 63, mn 0-3 = b & 63 (per byte);
 *   sc 4-7 = (c & 15) | (a >> 6) << 4, mn 4-7 = (c >> 4) | (b >> 6) << 4. */
INLINE __m128i k4_scales_mins(const uint8_t *s12)
{
    uint32_t a, b, c;
    memcpy(&a, s12, 4), memcpy(&b, s12 + 4, 4), memcpy(&c, s12 + 8, 4);
    uint32_t sc_lo = a & 0x3f3f3f3fu, mn_lo = b & 0x3f3f3f3fu;
    uint32_t sc_hi = (c & 0x0f0f0f0fu) | (((a >> 6) & 0x03030303u) << 4);
    uint32_t mn_hi = ((c >> 4) & 0x0f0f0f0fu) | (((b >> 6) & 0x03030303u) << 4);
    return _mm_setr_epi32((int)sc_lo, (int)sc_hi, (int)mn_lo, (int)mn_hi);
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
        __m128i scmn = k4_scales_mins(scales);
        /* scales as int16 lanes 0-7; mins repeated twice (sub-block j covers 16-sums 2j, 2j+1) */
        const __m512i sc16 = _mm512_castsi128_si512(_mm_cvtepu8_epi16(scmn));
        const __m256i mins = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(scmn, scmn));
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
            /* int16 lanes 0-15 = scale 2c, lanes 16-31 = scale 2c+1 */
            __m512i idx = _mm512_inserti64x4(_mm512_set1_epi16((int16_t)(2 * c)), _mm256_set1_epi16((int16_t)(2 * c + 1)), 1);
            __m512i q = join(lo, hi), s16 = _mm512_permutexvar_epi16(idx, sc16);
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
