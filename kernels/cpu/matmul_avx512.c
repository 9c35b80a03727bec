/* AVX-512 row-dot kernels for sb_matmul (compiled with AVX-512 F/BW/VL/DQ + VNNI + BF16 flags;
 * matmul.c's table only picks the VNNI and BF16 kernels when CPUID reports those features).
 *
 * Same contract as the AVX2 file: one pass over a weight row serves NR ≤ SB_MR rows of X; the
 * "rowdot2" entries take two weight rows at once (NW = 2) for prefill, so that each X load
 * feeds two weight rows and each weight load NR rows of X; the K-quants' "rowdot4" entries take
 * four distant weight rows and one X row for decode (four memory streams per thread, see
 * decode_avx512.c, which has the four-row kernels of the other formats, and faster Q4_K/Q5_K ones
 * for CPUs with VBMI and GFNI; those here serve CPUs without). With quantized weights
 * and m >= 12, prefill does not come here but goes to the int8 GEMM (qgemm_avx512.c).
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

#include "kernels/cpu/simd_avx512.h"
#include "kernels/matmul_impl.h"

#define INLINE static inline __attribute__((always_inline))

INLINE float half(uint16_t h)
{
    return _cvtsh_ss(h);
}

/* Entry points: NR (X rows) becomes a compile-time constant through this switch; "rowdot"
 * entries take one weight row, "rowdot2" entries two (w and w + ws bytes), writing y[r·ldy + c]. */
#define DISPATCH_NR(body, NW)                                                                     \
    switch (nr) {                                                                                 \
    case 1: body(1, NW); break;                                                                   \
    case 2: body(2, NW); break;                                                                   \
    case 3: body(3, NW); break;                                                                   \
    default: body(4, NW); break;                                                                  \
    }

#define ENTRY(name, body_fn)                                                                 \
    void sb_rowdot_##name##_avx512(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy) \
    {                                                                                             \
        const size_t ws = 0;                                                                      \
        DISPATCH_NR(body_fn, 1)                                                                   \
    }                                                                                             \
    void sb_rowdot2_##name##_avx512(const void *w, size_t ws, const sb_act *x, int64_t r0, int nr, float *y, \
                                    int64_t ldy)                                                  \
    {                                                                                             \
        DISPATCH_NR(body_fn, 2)                                                                   \
    }

/* Decode (NR = 1) reads each weight byte once and does enough work per byte that the hardware
 * prefetcher alone falls behind: fetch `bytes` of the row PREFETCH_AHEAD bytes ahead of p.
 * (Llama-3.2-1B-shape Q4_K decode, four streams per thread: 1536 B 35–38 tok/s, 3072 B 37–38,
 * 6144 B 25–32.) */
#define PREFETCH_AHEAD 3072
INLINE void prefetch_ahead(const void *p, int bytes)
{
    for (int o = 0; o < bytes; o += 64) _mm_prefetch((const char *)p + PREFETCH_AHEAD + o, _MM_HINT_T0);
}

/* ---------------------------------------------------------------- float formats */


/* Decode (NR = NW = 1): four accumulators to keep loads in flight. Otherwise one accumulator
 * per (X row, weight row): NR·NW independent FMA chains. */
INLINE void float_rows(const void *w, size_t ws, const sb_act *x, int64_t r0, float *y, int64_t ldy, const int NR,
                       const int NW, sb_type t)
{
    const int64_t k = x->k;
    const float *xr[SB_MR];
    const uint8_t *wr[2] = {w, (const uint8_t *)w + ws};
    __m512 acc[SB_MR][4];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        xr[r] = x->f32 + (r0 + r) * k;
        for (int u = 0; u < 4; u++) acc[r][u] = _mm512_setzero_ps();
    }
    int64_t i = 0;
    if (NR == 1 && NW == 1) {
        for (; i + 64 <= k; i += 64)
#pragma GCC unroll 4
            for (int u = 0; u < 4; u++)
                acc[0][u] = _mm512_fmadd_ps(vload_widen(w, i + 16 * u, t, 0xffff), _mm512_loadu_ps(xr[0] + i + 16 * u), acc[0][u]);
    }
    for (; i < k; i += 16) {
        __mmask16 mask = k - i >= 16 ? 0xffff : (__mmask16)((1u << (k - i)) - 1);
        __m512 wv[2];
#pragma GCC unroll 2
        for (int c = 0; c < NW; c++) wv[c] = vload_widen(wr[c], i, t, mask);
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            __m512 xv = _mm512_maskz_loadu_ps(mask, xr[r] + i);
#pragma GCC unroll 2
            for (int c = 0; c < NW; c++) acc[r][c] = _mm512_fmadd_ps(wv[c], xv, acc[r][c]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        if (NW == 1) {
            y[r * ldy] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[r][0], acc[r][1]), _mm512_add_ps(acc[r][2], acc[r][3])));
        } else {
            y[r * ldy] = _mm512_reduce_add_ps(acc[r][0]);
            y[r * ldy + 1] = _mm512_reduce_add_ps(acc[r][1]);
        }
    }
}

#define F32_BODY(NR, NW) float_rows(w, ws, x, r0, y, ldy, NR, NW, SB_TYPE_F32)
#define F16_BODY(NR, NW) float_rows(w, ws, x, r0, y, ldy, NR, NW, SB_TYPE_F16)
#define BF16_BODY(NR, NW) float_rows(w, ws, x, r0, y, ldy, NR, NW, SB_TYPE_BF16)

/* bf16 weights · bf16 X with vdpbf16ps: 32 products per instruction. NW = 1: two accumulators
 * per row; NW = 2: one per (row, weight row). */
INLINE void bf16dp_rows(const void *w, size_t ws, const sb_act *x, int64_t r0, float *y, int64_t ldy, const int NR,
                        const int NW)
{
    const int64_t k = x->k;
    const uint16_t *wr[2] = {w, (const uint16_t *)((const uint8_t *)w + ws)}, *xr[SB_MR];
    __m512 acc[SB_MR][2];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        xr[r] = x->bf16 + (r0 + r) * k;
        acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    }
    int64_t i = 0;
    if (NW == 1) {
        for (; i + 64 <= k; i += 64) {
            __m512bh w0 = (__m512bh)_mm512_loadu_si512(wr[0] + i), w1 = (__m512bh)_mm512_loadu_si512(wr[0] + i + 32);
#pragma GCC unroll 4
            for (int r = 0; r < NR; r++) {
                acc[r][0] = _mm512_dpbf16_ps(acc[r][0], w0, (__m512bh)_mm512_loadu_si512(xr[r] + i));
                acc[r][1] = _mm512_dpbf16_ps(acc[r][1], w1, (__m512bh)_mm512_loadu_si512(xr[r] + i + 32));
            }
        }
    }
    for (; i < k; i += 32) {
        __mmask32 mask = k - i >= 32 ? 0xffffffffu : (__mmask32)((1u << (k - i)) - 1);
        __m512bh wv[2];
#pragma GCC unroll 2
        for (int c = 0; c < NW; c++) wv[c] = (__m512bh)_mm512_maskz_loadu_epi16(mask, wr[c] + i);
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            __m512bh xv = (__m512bh)_mm512_maskz_loadu_epi16(mask, xr[r] + i);
            if (NW == 1) acc[r][0] = _mm512_dpbf16_ps(acc[r][0], wv[0], xv);
            else
#pragma GCC unroll 2
                for (int c = 0; c < NW; c++) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], wv[c], xv);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        if (NW == 1) {
            y[r * ldy] = _mm512_reduce_add_ps(_mm512_add_ps(acc[r][0], acc[r][1]));
        } else {
            y[r * ldy] = _mm512_reduce_add_ps(acc[r][0]);
            y[r * ldy + 1] = _mm512_reduce_add_ps(acc[r][1]);
        }
    }
}

#define BF16DP_BODY(NR, NW) bf16dp_rows(w, ws, x, r0, y, ldy, NR, NW)

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

/* Accumulators: acc[r][c][p], c = weight row, p = alternating block pair (NW = 1 only, to keep
 * two chains per row in decode). */
INLINE void q8_0_rows(const void *w, size_t ws, const sb_act *x, int64_t r0, float *y, int64_t ldy, const int NR,
                      const int NW, int is_q4)
{
    const int64_t k = x->k, nb = k / 32;
    const uint8_t *wr[2] = {w, (const uint8_t *)w + ws};
    const int8_t *xq[SB_MR];
    const int32_t *xst[SB_MR];
    const float *xdx[SB_MR];
    __m512 acc[SB_MR][2][2];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        xq[r] = x->q + (r0 + r) * k;
        xst[r] = x->start + (r0 + r) * (k / 4);
        xdx[r] = x->dexp + (r0 + r) * (k / 4);
        acc[r][0][0] = acc[r][0][1] = acc[r][1][0] = acc[r][1][1] = _mm512_setzero_ps();
    }
    int64_t b = 0;
    for (; b + 4 <= nb; b += 4) {
        if (NR == 1)
#pragma GCC unroll 2
            for (int c = 0; c < NW; c++) prefetch_ahead(wr[c] + b * (is_q4 ? sizeof(sb_block_q4_0) : sizeof(sb_block_q8_0)), is_q4 ? 128 : 192);
#pragma GCC unroll 2
        for (int p = 0; p < 2; p++) {
            const int pa = NW == 1 ? p : 0; /* NW = 2 already has two chains per row */
            __m512i wv[2];
            __m512 dw[2];
#pragma GCC unroll 2
            for (int c = 0; c < NW; c++) load_pair(wr[c], b + 2 * p, is_q4, &wv[c], &dw[c]);
            int64_t e = 32 * (b + 2 * p);
#pragma GCC unroll 4
            for (int r = 0; r < NR; r++) {
                __m512i st = _mm512_loadu_si512(xst[r] + e / 4), xv = _mm512_loadu_si512(xq[r] + e);
                __m512 dx = _mm512_loadu_ps(xdx[r] + e / 4);
#pragma GCC unroll 2
                for (int c = 0; c < NW; c++) {
                    __m512i dp = _mm512_dpbusd_epi32(st, wv[c], xv);
                    acc[r][c][pa] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dp), _mm512_mul_ps(dw[c], dx), acc[r][c][pa]);
                }
            }
        }
    }
    for (; b < nb; b++) {
#pragma GCC unroll 2
        for (int c = 0; c < NW; c++) {
            __m256 dw;
            __m256i wv = load_one(wr[c], b, is_q4, &dw);
#pragma GCC unroll 4
            for (int r = 0; r < NR; r++) {
                __m256i dp = _mm256_dpbusd_epi32(_mm256_loadu_si256((const __m256i *)(xst[r] + 8 * b)), wv,
                                                 _mm256_loadu_si256((const __m256i *)(xq[r] + 32 * b)));
                __m256 dd = _mm256_mul_ps(dw, _mm256_loadu_ps(xdx[r] + 8 * b));
                acc[r][c][0] = _mm512_add_ps(acc[r][c][0], _mm512_zextps256_ps512(_mm256_mul_ps(_mm256_cvtepi32_ps(dp), dd)));
            }
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++)
#pragma GCC unroll 2
        for (int c = 0; c < NW; c++) y[r * ldy + c] = _mm512_reduce_add_ps(_mm512_add_ps(acc[r][c][0], acc[r][c][1]));
}

#define Q8_0_BODY(NR, NW) q8_0_rows(w, ws, x, r0, y, ldy, NR, NW, 0)
#define Q4_0_BODY(NR, NW) q8_0_rows(w, ws, x, r0, y, ldy, NR, NW, 1)

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

/* One Q4_K/Q5_K super-block's unpacked parts. */
typedef struct k4_block {
    float d, dmin;
    __m512i sc16;  /* int16 lanes 0-7: the 8 scales                              */
    __m256i mins;  /* int16: each min twice (sub-block j covers 16-sums 2j, 2j+1) */
    __m512i hbits; /* Q5_K: the 32 high-bit bytes in both halves                  */
    const uint8_t *qs;
} k4_block;

INLINE k4_block k4_load(const void *w, int64_t b, int has_high)
{
    k4_block kb;
    const uint8_t *scales;
    if (has_high) {
        const sb_block_q5_K *wb = (const sb_block_q5_K *)w + b;
        kb.d = half(wb->d), kb.dmin = half(wb->dmin), scales = wb->scales, kb.qs = wb->qs;
        kb.hbits = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)wb->qh));
    } else {
        const sb_block_q4_K *wb = (const sb_block_q4_K *)w + b;
        kb.d = half(wb->d), kb.dmin = half(wb->dmin), scales = wb->scales, kb.qs = wb->qs;
        kb.hbits = _mm512_setzero_si512();
    }
    __m128i scmn = k4_scales_mins(scales);
    kb.sc16 = _mm512_castsi128_si512(_mm_cvtepu8_epi16(scmn));
    kb.mins = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(scmn, scmn));
    return kb;
}

/* Chunk c (elements 64c .. 64c+63) of a super-block: the 64 unsigned quants and the scales
 * (int16 lanes 0-15 = scale 2c, lanes 16-31 = scale 2c+1). The 32 quant bytes go to both
 * halves of a register; the upper half is shifted right by 4 (per 16-bit lane), so one AND
 * leaves the low nibbles (elements 64c..64c+31) below the high ones (64c+32..64c+63).
 * Q5_K: byte l of the high bits holds bit 2c for element 64c+l and bit 2c+1 for 64c+32+l;
 * a test against those bits selects the lanes that get +16. */
INLINE __m512i k4_chunk(const k4_block *kb, int c, int has_high, __m512i *s16)
{
    const __m512i shifts = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
    __m512i bytes = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(kb->qs + 32 * c)));
    __m512i q = _mm512_and_si512(_mm512_srlv_epi16(bytes, shifts), _mm512_set1_epi8(15));
    if (has_high) {
        __m512i bit = _mm512_inserti64x4(_mm512_set1_epi8((char)(1 << (2 * c))), _mm256_set1_epi8((char)(1 << (2 * c + 1))), 1);
        __mmask64 set = _mm512_test_epi8_mask(kb->hbits, bit);
        q = _mm512_mask_add_epi8(q, set, q, _mm512_set1_epi8(16));
    }
    __m512i idx = _mm512_inserti64x4(_mm512_set1_epi16((int16_t)(2 * c)), _mm256_set1_epi16((int16_t)(2 * c + 1)), 1);
    *s16 = _mm512_permutexvar_epi16(idx, kb->sc16);
    return q;
}

/* Q4_K (has_high = 0) and Q5_K (has_high = 1). */
INLINE void q45_K_rows(const void *w, size_t ws, const sb_act *x, int64_t r0, float *y, int64_t ldy, const int NR,
                       const int NW, int has_high)
{
    const int64_t k = x->k, nb = k / SB_QK_K;
    const uint8_t *wr[4] = {w, (const uint8_t *)w + ws, (const uint8_t *)w + 2 * ws, (const uint8_t *)w + 3 * ws};
    const int8_t *xq[SB_MR];
    const float *xd[SB_MR];
    const int16_t *xs[SB_MR];
    __m512 acc[SB_MR][4];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        xq[r] = x->q + (r0 + r) * k;
        xd[r] = x->d + (r0 + r) * nb;
        xs[r] = x->s + (r0 + r) * (k / 16);
        acc[r][0] = acc[r][1] = acc[r][2] = acc[r][3] = _mm512_setzero_ps();
    }
    for (int64_t b = 0; b < nb; b++) {
        k4_block kb[4];
#pragma GCC unroll 4
        for (int c = 0; c < NW; c++) {
            if (NR == 1) prefetch_ahead(wr[c] + b * (has_high ? sizeof(sb_block_q5_K) : sizeof(sb_block_q4_K)), 192);
            kb[c] = k4_load(wr[c], b, has_high);
        }
        __m512i iacc[SB_MR][4];
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) iacc[r][0] = iacc[r][1] = iacc[r][2] = iacc[r][3] = _mm512_setzero_si512();
        for (int ch = 0; ch < 4; ch++) {
            __m512i q[4], s16[4];
#pragma GCC unroll 4
            for (int c = 0; c < NW; c++) q[c] = k4_chunk(&kb[c], ch, has_high, &s16[c]);
#pragma GCC unroll 4
            for (int r = 0; r < NR; r++) {
                __m512i xv = _mm512_loadu_si512(xq[r] + b * SB_QK_K + 64 * ch);
#pragma GCC unroll 4
                for (int c = 0; c < NW; c++) iacc[r][c] = _mm512_dpwssd_epi32(iacc[r][c], _mm512_maddubs_epi16(q[c], xv), s16[c]);
            }
        }
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            __m256i bs = _mm256_loadu_si256((const __m256i *)(xs[r] + 16 * b));
#pragma GCC unroll 4
            for (int c = 0; c < NW; c++) {
                __m256i imin = _mm256_madd_epi16(bs, kb[c].mins);
                acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(iacc[r][c]), _mm512_set1_ps(kb[c].d * xd[r][b]), acc[r][c]);
                acc[r][c] = _mm512_fnmadd_ps(_mm512_zextps256_ps512(_mm256_cvtepi32_ps(imin)),
                                             _mm512_set1_ps(kb[c].dmin * xd[r][b]), acc[r][c]);
            }
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++)
#pragma GCC unroll 4
        for (int c = 0; c < NW; c++) y[r * ldy + c] = _mm512_reduce_add_ps(acc[r][c]);
}

#define Q4_K_BODY(NR, NW) q45_K_rows(w, ws, x, r0, y, ldy, NR, NW, 0)
#define Q5_K_BODY(NR, NW) q45_K_rows(w, ws, x, r0, y, ldy, NR, NW, 1)

/* Q6_K: the 128-element half h of a super-block as two 64-quant registers (elements 128h + 0..63,
 * 128h + 64..127) with their scales as int16 lanes (8 lanes = 16 elements per scale).
 * ql[64h .. 64h+63] holds the low nibbles of elements 0..63 and the high nibbles of 64..127 (of
 * this half); qh byte l holds the two top bits of elements l, l+32, l+64, l+96 at bits 0-1, 2-3,
 * 4-5, 6-7. With qh in both register halves, a per-half shift moves the right pair to bits 4-5. */
INLINE void q6_half(const sb_block_q6_K *wb, int h, __m512i sc512, __m512i q[2], __m512i s[2])
{
    const __m512i m4 = _mm512_set1_epi8(15), m30 = _mm512_set1_epi8(0x30);
    const __m512i shl_a = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1); /* bits 0-1, 2-3 → 4-5 */
    const __m512i shr_b = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1); /* bits 4-5, 6-7 → 4-5 */
    /* vpermw indices: 16-bit lane l takes scale l / 8 (+ base) */
    const __m512i idx0 = _mm512_set_epi16(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0,
                                          0, 0, 0, 0, 0, 0);
    __m512i l = _mm512_loadu_si512(wb->ql + 64 * h);
    __m512i hb = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(wb->qh + 32 * h)));
    q[0] = _mm512_or_si512(_mm512_and_si512(l, m4), _mm512_and_si512(_mm512_sllv_epi16(hb, shl_a), m30));
    q[1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4), _mm512_and_si512(_mm512_srlv_epi16(hb, shr_b), m30));
    s[0] = _mm512_permutexvar_epi16(_mm512_add_epi16(idx0, _mm512_set1_epi16((int16_t)(8 * h))), sc512);
    s[1] = _mm512_permutexvar_epi16(_mm512_add_epi16(idx0, _mm512_set1_epi16((int16_t)(8 * h + 4))), sc512);
}

INLINE void q6_K_rows(const void *w, size_t ws, const sb_act *x, int64_t r0, float *y, int64_t ldy, const int NR,
                      const int NW)
{
    const int64_t k = x->k, nb = k / SB_QK_K;
    const uint8_t *wr[4] = {w, (const uint8_t *)w + ws, (const uint8_t *)w + 2 * ws, (const uint8_t *)w + 3 * ws};
    const int8_t *xq[SB_MR];
    const float *xd[SB_MR];
    const int16_t *xs[SB_MR];
    __m512 acc[SB_MR][4];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        xq[r] = x->q + (r0 + r) * k;
        xd[r] = x->d + (r0 + r) * nb;
        xs[r] = x->s + (r0 + r) * (k / 16);
        acc[r][0] = acc[r][1] = acc[r][2] = acc[r][3] = _mm512_setzero_ps();
    }
    for (int64_t b = 0; b < nb; b++) {
        const sb_block_q6_K *wb[4];
        __m512i sc512[4];
        __m256i off16[4];
        float d[4];
#pragma GCC unroll 4
        for (int c = 0; c < NW; c++) {
            wb[c] = (const sb_block_q6_K *)wr[c] + b;
            if (NR == 1) prefetch_ahead(wb[c], 256);
            d[c] = half(wb[c]->d);
            /* the 16 scales as int16, and -32·scale for the offset term */
            __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)wb[c]->scales));
            sc512[c] = _mm512_castsi256_si512(sc16);
            off16[c] = _mm256_slli_epi16(_mm256_sub_epi16(_mm256_setzero_si256(), sc16), 5);
        }
        __m512i iacc[SB_MR][4];
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            /* Σ_s -32·scale_s·bsum_s, lane-wise (only the total over lanes matters) */
            __m256i bs = _mm256_loadu_si256((const __m256i *)(xs[r] + 16 * b));
#pragma GCC unroll 4
            for (int c = 0; c < NW; c++) iacc[r][c] = _mm512_zextsi256_si512(_mm256_madd_epi16(bs, off16[c]));
        }
        for (int h = 0; h < 2; h++) {
            __m512i q[4][2], s[4][2];
#pragma GCC unroll 4
            for (int c = 0; c < NW; c++) q6_half(wb[c], h, sc512[c], q[c], s[c]);
#pragma GCC unroll 4
            for (int r = 0; r < NR; r++) {
                const int8_t *xb = xq[r] + b * SB_QK_K + 128 * h;
                __m512i x0 = _mm512_loadu_si512(xb), x1 = _mm512_loadu_si512(xb + 64);
#pragma GCC unroll 4
                for (int c = 0; c < NW; c++) {
                    iacc[r][c] = _mm512_dpwssd_epi32(iacc[r][c], _mm512_maddubs_epi16(q[c][0], x0), s[c][0]);
                    iacc[r][c] = _mm512_dpwssd_epi32(iacc[r][c], _mm512_maddubs_epi16(q[c][1], x1), s[c][1]);
                }
            }
        }
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++)
#pragma GCC unroll 4
            for (int c = 0; c < NW; c++)
                acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(iacc[r][c]), _mm512_set1_ps(d[c] * xd[r][b]), acc[r][c]);
    }
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++)
#pragma GCC unroll 4
        for (int c = 0; c < NW; c++) y[r * ldy + c] = _mm512_reduce_add_ps(acc[r][c]);
}

#define Q6_K_BODY(NR, NW) q6_K_rows(w, ws, x, r0, y, ldy, NR, NW)

/* ---------------------------------------------------------------- entry points */

/* Decode with four distant weight rows (w + c·ws, c < 4) and one X row: y[c]. */
#define ENTRY4(name, body_fn)                                                                          \
    void sb_rowdot4_##name##_avx512(const void *w, size_t ws, const sb_act *x, float y[4])              \
    {                                                                                                  \
        const int64_t r0 = 0, ldy = 0;                                                                 \
        body_fn(1, 4);                                                                                 \
    }

ENTRY(f32, F32_BODY)
ENTRY(f16, F16_BODY)
ENTRY(bf16, BF16_BODY)
ENTRY(bf16dp, BF16DP_BODY)
ENTRY(q8_0, Q8_0_BODY)
ENTRY(q4_0, Q4_0_BODY)
ENTRY(q4_K, Q4_K_BODY)
ENTRY(q5_K, Q5_K_BODY)
ENTRY(q6_K, Q6_K_BODY)
ENTRY4(q4_K, Q4_K_BODY)
ENTRY4(q5_K, Q5_K_BODY)
ENTRY4(q6_K, Q6_K_BODY)
