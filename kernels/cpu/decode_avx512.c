/* AVX-512 four-stream decode kernels for sb_matmul with one X row (m = 1, memory bound).
 *
 * Why four rows far apart: this machine's memory reaches its bandwidth only with several
 * concurrent read streams per thread (2 threads: one stream each ~16 GB/s, four ~27, eight with
 * prefetch ~31; harness/ceilings_avx512.c). A call takes weight rows w, w + ws, w + 2ws, w + 3ws
 * (the driver makes ws a quarter of the matrix) and reads them side by side, each with its own
 * software prefetch a few cache lines ahead, so one thread keeps four streams in flight.
 *
 * Float formats: per 16 elements, one f32 X load feeds four FMAs (one per weight row); weights
 * widened from f16 (vcvtph2ps) or bf16 (shift) on load. Two chains per row hide FMA latency.
 * Q4_0 / Q8_0 / Q4_K / Q5_K / Q6_K (VNNI + VBMI + GFNI): the quantized formats are bound by
 * unpacking, not memory, on one core (Q4_0 decodes 36 bytes per 64 weights), so their kernels
 * count instructions per byte: vpermb and GF(2) affines place the quants, X is regrouped once
 * per call where that saves work per row (Q4_0/Q8_0 quads), and what the four rows share (X,
 * the K-quants' header decode) is done once.
 */
#include <immintrin.h>
#include <stddef.h>

#include "kernels/cpu/simd_avx512.h"
#include "kernels/matmul_impl.h"

#define INLINE static inline __attribute__((always_inline))

#define STREAM_AHEAD SB_STREAM_AHEAD


INLINE void float4(const void *w, size_t ws, const sb_act *x, float y[4], sb_type t)
{
    const int64_t k = x->k;
    const int es = t == SB_TYPE_F32 ? 4 : 2; /* bytes per weight */
    const uint8_t *wr[4];
    __m512 acc[4][2];
    for (int c = 0; c < 4; c++) {
        wr[c] = (const uint8_t *)w + c * ws;
        acc[c][0] = acc[c][1] = _mm512_setzero_ps();
    }
    const float *xr = x->f32;
    int64_t i = 0;
    for (; i + 32 <= k; i += 32) {
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            _mm_prefetch((const char *)(wr[c] + i * es + STREAM_AHEAD), _MM_HINT_T0);
            if (es == 4) _mm_prefetch((const char *)(wr[c] + i * es + STREAM_AHEAD + 64), _MM_HINT_T0);
        }
        __m512 x0 = _mm512_loadu_ps(xr + i), x1 = _mm512_loadu_ps(xr + i + 16);
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            acc[c][0] = _mm512_fmadd_ps(vload_widen(wr[c], i, t, 0xffff), x0, acc[c][0]);
            acc[c][1] = _mm512_fmadd_ps(vload_widen(wr[c], i + 16, t, 0xffff), x1, acc[c][1]);
        }
    }
    for (; i < k; i += 16) {
        __mmask16 mask = k - i >= 16 ? 0xffff : (__mmask16)((1u << (k - i)) - 1);
        __m512 xv = _mm512_maskz_loadu_ps(mask, xr + i);
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) acc[c][0] = _mm512_fmadd_ps(vload_widen(wr[c], i, t, mask), xv, acc[c][0]);
    }
    for (int c = 0; c < 4; c++) y[c] = _mm512_reduce_add_ps(_mm512_add_ps(acc[c][0], acc[c][1]));
}

void sb_rowdot4_f32_avx512(const void *w, size_t ws, const sb_act *x, float y[4])
{
    float4(w, ws, x, y, SB_TYPE_F32);
}

void sb_rowdot4_f16_avx512(const void *w, size_t ws, const sb_act *x, float y[4])
{
    float4(w, ws, x, y, SB_TYPE_F16);
}

void sb_rowdot4_bf16_avx512(const void *w, size_t ws, const sb_act *x, float y[4])
{
    float4(w, ws, x, y, SB_TYPE_BF16);
}

/* ---------------------------------------------------------------- Q4_0 / Q8_0 (VNNI + VBMI + GFNI) */

/* X prepared as SB_ACT_Q8_0_OFF8 / _OFF128 (kernels/matmul_impl.h): int8 quants, and per int32
 * lane (4 quants) the start value -offset·Σ(4 quants) and the block's f32 scale. Each weight
 * row enters vpdpbusd unsigned (Q4_0 nibbles as stored = w + 8; Q8_0 with the sign bit flipped
 * = w + 128); the start value cancels the offset exactly, as in matmul_avx512.c.
 *
 * A pair of blocks (64 elements) of one row comes from one 64-byte window (Q4_0: 36 bytes used)
 * or two (Q8_0: 68 bytes): vpermb lays the quant bytes out in X order and vpermw picks the two
 * f16 scales (Q4_0: one GF(2) affine then splits the nibbles), so the unpacking is 2–3
 * operations instead of a chain of broadcasts and inserts. Per pair and row: unpack, vpdpbusd, convert, scale, FMA. The X side (quants, start
 * values, scales) is loaded once per pair for the four rows. */

typedef struct q80_pair {
    __m512i q;  /* 64 unsigned quants, X order                         */
    __m512 d;   /* lanes 0-7: scale of block b, lanes 8-15: block b+1  */
} q80_pair;

/* Bytes [0, n) of a window at p (n < 64: masked, so nothing past the row is read). The VBMI/GFNI
 * functions carry their own target attribute: the rest of the file must not need them. */
__attribute__((target("avx512vbmi"))) INLINE __m512i window(const uint8_t *p, int n)
{
    return n >= 64 ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi8((1ull << n) - 1, p);
}

/* GF(2) bit matrices for vgf2p8affineqb (the row for output bit k in byte 7-k): x & 15, x >> 4 */
#define GF2_LOW_NIBBLE 0x0102040800000000ll
#define GF2_HIGH_NIBBLE 0x1020408000000000ll

/* The 64 quants of two Q4_0 blocks from a window at the first one (d0 @0, qs0 @2..17, d1 @18,
 * qs1 @20..35), in X order: vpermb lays out qs0, qs0, qs1, qs1 and one GF(2) affine per byte
 * keeps the low nibbles of the first and third copies and shifts the high ones down in the
 * others (a matrix per 64-bit lane). */
__attribute__((target("avx512vbmi,gfni"))) INLINE __m512i q4_nibbles(__m512i raw)
{
    const __m512i idx = _mm512_set_epi8(35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 35, 34, 33, 32,
                                        31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 17, 16, 15, 14, 13, 12, 11, 10,
                                        9, 8, 7, 6, 5, 4, 3, 2, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2);
    const __m512i nibble = _mm512_set_epi64(GF2_HIGH_NIBBLE, GF2_HIGH_NIBBLE, GF2_LOW_NIBBLE, GF2_LOW_NIBBLE,
                                            GF2_HIGH_NIBBLE, GF2_HIGH_NIBBLE, GF2_LOW_NIBBLE, GF2_LOW_NIBBLE);
    return _mm512_gf2p8affine_epi64_epi8(_mm512_permutexvar_epi8(idx, raw), nibble, 0);
}

/* Blocks b, b+1 of a Q4_0 (is_q4) or Q8_0 row at p = the first byte of block b; avail = bytes of
 * the row from p on (the window is clipped to it; a missing block b+1 comes out as zeros). */
__attribute__((target("avx512vbmi,gfni"))) INLINE q80_pair unpack_pair(const uint8_t *p,
                                                                                                  int64_t avail, int is_q4)
{
    q80_pair r;
    if (is_q4) {
        const __m512i widx = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9, 0, 0,
                                              0, 0, 0, 0, 0, 0);
        __m512i raw = window(p, avail < 64 ? (int)avail : 64);
        r.q = q4_nibbles(raw);
        r.d = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(widx, raw)));
    } else {
        /* d0 @0, qs0 @2..33, d1 @34, qs1 @36..67 */
        const __m512i idx = _mm512_set_epi8(67, 66, 65, 64, 63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48,
                                            47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 33, 32, 31, 30, 29, 28, 27,
                                            26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7,
                                            6, 5, 4, 3, 2);
        const __m512i widx = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 17, 17, 17, 17, 17, 17, 17,
                                              17, 0, 0, 0, 0, 0, 0, 0, 0);
        __m512i raw0 = window(p, avail < 64 ? (int)avail : 64);
        __m512i raw1 = avail > 64 ? window(p + 64, avail - 64 < 64 ? (int)(avail - 64) : 64) : _mm512_setzero_si512();
        __m512i v = _mm512_permutex2var_epi8(raw0, idx, raw1);
        r.q = _mm512_xor_si512(v, _mm512_set1_epi8((char)0x80));
        r.d = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(widx, raw0)));
    }
    return r;
}

/* Q4_0 or Q8_0, a quad of four blocks (72 or 136 bytes) of each row per step, against X
 * prepared as SB_ACT_Q8_0_OFF8_QUADS / _OFF128_QUADS; returns the first block not done. Lane j
 * of the int32 sums belongs to block j/4 of the quad in every register, so the products of
 * elements 0-15 and 16-31 of the blocks accumulate into one vpdpbusd chain and are converted and
 * scaled once, with no reduction between blocks. Per row and quad:
 *   Q4_0: two vpermb gather the 64 quant bytes (block j/16 in bytes 16(j/16).., from loads at 0
 *         and 8), vpand keeps the low nibbles (elements 0-15), one GF(2) affine the high ones;
 *   Q8_0: two vpermb each gather elements 0-15 (loads at 0, 64) and 16-31 (loads at 8, 72) of
 *         the four blocks, sign bits flipped by vpxor;
 * then two vpdpbusd, vpermw for the four f16 scales (each to 4 lanes), convert, scale, FMA.
 * (One vpermt2b instead of two vpermb: ~5 % slower on this machine.) */
__attribute__((target("avx512vbmi,gfni"))) INLINE int64_t q80_quads(const uint8_t *wr[4], const sb_act *x,
                                                                     __m512 acc[4], int64_t nb, int is_q4)
{
    const int64_t quad_bytes = 4 * (is_q4 ? (int64_t)sizeof(sb_block_q4_0) : (int64_t)sizeof(sb_block_q8_0));
    const __mmask64 upper16 = 0xffffull << 48, upper32 = 0xffffffffull << 32;
    /* Q4_0: quant bytes of block j at 18j + 2 (blocks 0-2 from the load at 0, block 3 from the
     * one at 8: index & 63 = byte - 8); scales at 18j (words 0, 9, 18, 27 of the load at 0) */
    const __m512i q4_idx = _mm512_set_epi8(63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 53, 52, 51,
                                           50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 35, 34, 33, 32, 31, 30,
                                           29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8,
                                           7, 6, 5, 4, 3, 2);
    const __m512i q4_didx = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 27, 27, 27, 27, 18, 18, 18,
                                             18, 9, 9, 9, 9, 0, 0, 0, 0);
    /* Q8_0: block j at 34j (scale) and 34j + 2 (32 quants). Elements 0-15: blocks 0, 1 from the
     * load at 0 (2.., 36..), blocks 2, 3 from the one at 64 (70 - 64, 104 - 64); elements 16-31:
     * blocks 0, 1 from the load at 8 (18 - 8, 52 - 8), 2, 3 from the one at 72 (86 - 72, 120 - 72).
     * Scales: words 0, 17 of the load at 0, words 2, 19 of the one at 64. */
    const __m512i q8_lo = _mm512_set_epi8(55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 21, 20, 19, 18,
                                          17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 51, 50, 49, 48, 47, 46, 45, 44,
                                          43, 42, 41, 40, 39, 38, 37, 36, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5,
                                          4, 3, 2);
    const __m512i q8_hi = _mm512_set_epi8(63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 29, 28, 27, 26,
                                          25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 59, 58, 57, 56, 55, 54, 53, 52,
                                          51, 50, 49, 48, 47, 46, 45, 44, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14,
                                          13, 12, 11, 10);
    const __m512i q8_didx = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 19, 19, 19, 19, 2, 2, 2, 2,
                                             17, 17, 17, 17, 0, 0, 0, 0);
    const __m512i low4 = _mm512_set1_epi8(0x0f), high4 = _mm512_set1_epi64(GF2_HIGH_NIBBLE);
    const __m512i sign = _mm512_set1_epi8((char)0x80);
    int64_t b = 0;
    for (; b + 4 <= nb; b += 4) {
        const int64_t off = b / 4 * quad_bytes;
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            _mm_prefetch((const char *)(wr[c] + off + STREAM_AHEAD), _MM_HINT_T0);
            _mm_prefetch((const char *)(wr[c] + off + STREAM_AHEAD + 64), _MM_HINT_T0);
            if (!is_q4) _mm_prefetch((const char *)(wr[c] + off + STREAM_AHEAD + 128), _MM_HINT_T0);
        }
        __m512i xlo = _mm512_loadu_si512(x->quad_q + 32 * b), xhi = _mm512_loadu_si512(x->quad_q + 32 * b + 64);
        __m512i st = _mm512_loadu_si512(x->quad_start + 4 * b);
        __m512 dx = _mm512_loadu_ps(x->quad_d + 4 * b);
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            const uint8_t *p = wr[c] + off;
            __m512i lo, hi, dw16;
            if (is_q4) {
                __m512i raw0 = _mm512_loadu_si512(p), raw8 = _mm512_loadu_si512(p + 8);
                __m512i qs = _mm512_mask_permutexvar_epi8(_mm512_permutexvar_epi8(q4_idx, raw0), upper16, q4_idx, raw8);
                lo = _mm512_and_si512(qs, low4);
                hi = _mm512_gf2p8affine_epi64_epi8(qs, high4, 0);
                dw16 = _mm512_permutexvar_epi16(q4_didx, raw0);
            } else {
                __m512i raw0 = _mm512_loadu_si512(p), raw8 = _mm512_loadu_si512(p + 8);
                __m512i raw64 = _mm512_loadu_si512(p + 64), raw72 = _mm512_loadu_si512(p + 72);
                lo = _mm512_mask_permutexvar_epi8(_mm512_permutexvar_epi8(q8_lo, raw0), upper32, q8_lo, raw64);
                hi = _mm512_mask_permutexvar_epi8(_mm512_permutexvar_epi8(q8_hi, raw8), upper32, q8_hi, raw72);
                lo = _mm512_xor_si512(lo, sign);
                hi = _mm512_xor_si512(hi, sign);
                dw16 = _mm512_mask_permutexvar_epi16(_mm512_permutexvar_epi16(q8_didx, raw0), 0xff00, q8_didx, raw64);
            }
            __m512i dp = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(st, lo, xlo), hi, xhi);
            __m512 dw = _mm512_cvtph_ps(_mm512_castsi512_si256(dw16));
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dp), _mm512_mul_ps(dw, dx), acc[c]);
        }
    }
    return b;
}

__attribute__((target("avx512vbmi,gfni"))) INLINE void q80_4(const void *w, size_t ws,
                                                                                         const sb_act *x, float y[4],
                                                                                         int is_q4)
{
    const int64_t k = x->k, nb = k / 32;
    const int bb = is_q4 ? (int)sizeof(sb_block_q4_0) : (int)sizeof(sb_block_q8_0);
    const int64_t row_bytes = nb * bb;
    const uint8_t *wr[4];
    __m512 acc[4];
    for (int c = 0; c < 4; c++) {
        wr[c] = (const uint8_t *)w + c * ws;
        acc[c] = _mm512_setzero_ps();
    }
    int64_t b = q80_quads(wr, x, acc, nb, is_q4);
    /* full pairs whose windows lie inside the row (Q4_0 reads 64 bytes, Q8_0 128, per pair) */
    const int64_t win = is_q4 ? 64 : 128;
    for (; b + 2 <= nb && (b * bb + win) <= row_bytes; b += 2) {
        const int64_t off = b * bb;
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) _mm_prefetch((const char *)(wr[c] + off + STREAM_AHEAD), _MM_HINT_T0);
        __m512i xv = _mm512_loadu_si512(x->q + 32 * b);
        __m512i st = _mm512_loadu_si512(x->start + 8 * b);
        __m512 dx = _mm512_loadu_ps(x->dexp + 8 * b);
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            q80_pair pr = unpack_pair(wr[c] + off, win, is_q4);
            __m512i dp = _mm512_dpbusd_epi32(st, pr.q, xv);
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dp), _mm512_mul_ps(pr.d, dx), acc[c]);
        }
    }
    /* the last pair or single block: windows clipped to the row, X lanes past k masked */
    for (; b < nb; b += 2) {
        const int64_t off = b * bb;
        const int one = b + 1 == nb;
        __m512i xv = _mm512_maskz_loadu_epi8(one ? 0xffffffffull : ~0ull, x->q + 32 * b);
        __m512i st = _mm512_maskz_loadu_epi32(one ? 0x00ff : 0xffff, x->start + 8 * b);
        __m512 dx = _mm512_maskz_loadu_ps(one ? 0x00ff : 0xffff, x->dexp + 8 * b);
        for (int c = 0; c < 4; c++) {
            q80_pair pr = unpack_pair(wr[c] + off, row_bytes - off, is_q4);
            __m512i dp = _mm512_dpbusd_epi32(st, pr.q, xv);
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dp), _mm512_mul_ps(pr.d, dx), acc[c]);
        }
    }
    for (int c = 0; c < 4; c++) y[c] = _mm512_reduce_add_ps(acc[c]);
}

__attribute__((target("avx512vbmi,gfni"))) void sb_rowdot4_q8_0_avx512vbmi(
    const void *w, size_t ws, const sb_act *x, float y[4])
{
    q80_4(w, ws, x, y, 0);
}

__attribute__((target("avx512vbmi,gfni"))) void sb_rowdot4_q4_0_avx512vbmi(
    const void *w, size_t ws, const sb_act *x, float y[4])
{
    q80_4(w, ws, x, y, 1);
}

/* ---------------------------------------------------------------- Q4_K / Q5_K (VNNI + VBMI + GFNI) */

/* X prepared as SB_ACT_Q8_K: int8 quants, per super-block an f32 scale xd and sixteen 16-sums.
 * Row c of a super-block: Σ_j (d_c·sc_j·Σ q·x − dmin_c·mn_j·Σ x) · xd over its 8 sub-blocks j.
 *
 * What the four rows share is done once for all of them: their 16-byte headers (d, dmin, the 12
 * packed scale bytes) sit in one register, one row per 128-bit lane, and are decoded in a dozen
 * vector operations (scales then mins, 8 bytes each, per lane) instead of a scalar sequence per
 * row; the min terms of two rows take one vpmaddwd against the 16-sums. Per 64-element chunk and
 * row: the 32 quant bytes broadcast to both halves (upper half shifted by 4: high nibbles), one
 * vpermb for the two sub-block scales, vpmaddubsw (quants · X) and vpdpwssd (· scales). */

/* lanes 0-15 word value 0, lanes 16-31 value 1: the two sub-blocks of a chunk */
#define HALVES _mm512_set_epi16(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

__attribute__((target("avx512vbmi,gfni"))) INLINE void k45_4(const void *w, size_t ws, const sb_act *x, float y[4],
                                                          int has_high)
{
    const int64_t nb = x->k / SB_QK_K;
    const size_t bs = has_high ? sizeof(sb_block_q5_K) : sizeof(sb_block_q4_K);
    const size_t qs_at = has_high ? offsetof(sb_block_q5_K, qs) : offsetof(sb_block_q4_K, qs);
    const uint8_t *wr[4];
    __m512 acc[4], macc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
    for (int c = 0; c < 4; c++) {
        wr[c] = (const uint8_t *)w + c * ws;
        acc[c] = _mm512_setzero_ps();
    }
    const __m512i m3f = _mm512_set1_epi8(0x3f), m0f = _mm512_set1_epi8(0x0f), m03 = _mm512_set1_epi8(3);
    const __m512i c_shift = _mm512_set4_epi32(4, 0, 4, 0);
    /* x & 15 in the lower half of a chunk register, x >> 4 in the upper */
    const __m512i nibble = _mm512_set_epi64(GF2_HIGH_NIBBLE, GF2_HIGH_NIBBLE, GF2_HIGH_NIBBLE, GF2_HIGH_NIBBLE,
                                            GF2_LOW_NIBBLE, GF2_LOW_NIBBLE, GF2_LOW_NIBBLE, GF2_LOW_NIBBLE);
    /* words 0..7: d, dmin of rows 0..3 (words 8c, 8c+1 of the header register) */
    const __m512i dm_idx = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 25,
                                            24, 17, 16, 9, 8, 1, 0);
    /* mins of rows 2p, 2p+1 as int16, each twice (sub-block j covers 16-sums 2j and 2j+1): byte
     * 16·row + 8 + j of the decoded scales */
    const __m512i mn_pat = _mm512_set_epi16(23, 23, 22, 22, 21, 21, 20, 20, 19, 19, 18, 18, 17, 17, 16, 16, 7, 7, 6, 6,
                                            5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    const __m512i mn_idx[2] = {_mm512_add_epi16(mn_pat, _mm512_set1_epi16(8)),
                               _mm512_add_epi16(mn_pat, _mm512_set1_epi16(40))};
    const __mmask64 even = 0x5555555555555555ull; /* low bytes of int16 lanes */
    for (int64_t b = 0; b < nb; b++) {
        const size_t off = (size_t)b * bs;
        /* a block spans 2.25 (Q4_K) or 2.75 (Q5_K) lines: prefetch at 0, 64, 128 leaves no line
         * out, as consecutive blocks' prefetches are at most 64 bytes apart */
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++)
#pragma GCC unroll 3
            for (int l = 0; l < 3; l++) _mm_prefetch((const char *)(wr[c] + off + STREAM_AHEAD + 64 * l), _MM_HINT_T0);
        __m512i h = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(wr[0] + off)));
        h = _mm512_inserti32x4(h, _mm_loadu_si128((const __m128i *)(wr[1] + off)), 1);
        h = _mm512_inserti32x4(h, _mm_loadu_si128((const __m128i *)(wr[2] + off)), 2);
        h = _mm512_inserti32x4(h, _mm_loadu_si128((const __m128i *)(wr[3] + off)), 3);
        /* per lane, dwords a|b|c = scale bytes 0-3, 4-7, 8-11 (header dwords 1, 2, 3):
         *   sc 0-3 = a & 63, mn 0-3 = b & 63;
         *   sc 4-7 = (c & 15) | (a >> 6) << 4, mn 4-7 = (c >> 4) | (b >> 6) << 4 */
        __m512i ab = _mm512_shuffle_epi32(h, _MM_PERM_CBCB), cc = _mm512_shuffle_epi32(h, _MM_PERM_DDDD);
        __m512i first4 = _mm512_and_si512(ab, m3f);
        __m512i last4 = _mm512_or_si512(_mm512_and_si512(_mm512_srlv_epi32(cc, c_shift), m0f),
                                     _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(ab, 6), m03), 4));
        __m512i scmn = _mm512_unpacklo_epi32(first4, last4); /* per lane: sc0..7, mn0..7 (bytes) */
        __m256 dm = _mm256_mul_ps(_mm256_cvtph_ps(_mm512_castsi512_si128(_mm512_permutexvar_epi16(dm_idx, h))),
                                  _mm256_set1_ps(x->d[b]));
        __m512 dm512 = _mm512_castps256_ps512(dm); /* d·xd, dmin·xd of rows 0..3 */

        /* min terms, two rows per register: lanes 0-7 row 2p, 8-15 row 2p+1 */
        __m512i bsum = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(x->s + 16 * b)));
#pragma GCC unroll 2
        for (int p = 0; p < 2; p++) {
            __m512i mn = _mm512_maskz_permutexvar_epi8(even, mn_idx[p], scmn);
            __m512 dmin = _mm512_permutexvar_ps(
                _mm512_inserti64x4(_mm512_set1_epi32(4 * p + 1), _mm256_set1_epi32(4 * p + 3), 1), dm512);
            macc[p] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_madd_epi16(mn, bsum)), dmin, macc[p]);
        }

        __m512i iacc[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                           _mm512_setzero_si512()};
        __m512i hbits[4];
        if (has_high)
            for (int c = 0; c < 4; c++)
                hbits[c] = _mm512_broadcast_i64x4(
                    _mm256_loadu_si256((const __m256i *)(wr[c] + off + offsetof(sb_block_q5_K, qh))));
#pragma GCC unroll 4
        for (int ch = 0; ch < 4; ch++) {
            __m512i xv = _mm512_loadu_si512(x->q + b * SB_QK_K + 64 * ch);
#pragma GCC unroll 4
            for (int c = 0; c < 4; c++) {
                __m512i bytes = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(wr[c] + off + qs_at + 32 * ch)));
                __m512i q = _mm512_gf2p8affine_epi64_epi8(bytes, nibble, 0);
                if (has_high) {
                    /* byte l of qh: bit 2ch for element 64ch + l, bit 2ch+1 for 64ch + 32 + l */
                    __m512i bit = _mm512_inserti64x4(_mm512_set1_epi8((char)(1 << (2 * ch))),
                                                     _mm256_set1_epi8((char)(1 << (2 * ch + 1))), 1);
                    q = _mm512_mask_add_epi8(q, _mm512_test_epi8_mask(hbits[c], bit), q, _mm512_set1_epi8(16));
                }
                __m512i s16 = _mm512_maskz_permutexvar_epi8(
                    even, _mm512_add_epi16(HALVES, _mm512_set1_epi16((short)(16 * c + 2 * ch))), scmn);
                iacc[c] = _mm512_dpwssd_epi32(iacc[c], _mm512_maddubs_epi16(q, xv), s16);
            }
        }
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++)
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(iacc[c]), _mm512_permutexvar_ps(_mm512_set1_epi32(2 * c), dm512),
                                     acc[c]);
    }
    for (int c = 0; c < 4; c++)
        y[c] = _mm512_reduce_add_ps(acc[c]) - _mm512_mask_reduce_add_ps((c & 1) ? 0xff00 : 0x00ff, macc[c / 2]);
}
#undef HALVES

__attribute__((target("avx512vbmi,gfni"))) void sb_rowdot4_q4_K_avx512vbmi(
    const void *w, size_t ws, const sb_act *x, float y[4])
{
    k45_4(w, ws, x, y, 0);
}

__attribute__((target("avx512vbmi,gfni"))) void sb_rowdot4_q5_K_avx512vbmi(
    const void *w, size_t ws, const sb_act *x, float y[4])
{
    k45_4(w, ws, x, y, 1);
}

/* ---------------------------------------------------------------- Q6_K (VNNI + VBMI + GFNI) */

/* X prepared as SB_ACT_Q8_K. Per super-block and row: Σ_s scale_s · Σ (q − 32)·x over its 16
 * sub-blocks, times d·xd; the −32 terms come from X's 16-sums (one vpmaddwd).
 *
 * The quants of a half (128 elements) as two 64-byte registers, as in matmul_avx512.c's
 * q6_half, but with the top bits placed by GF(2) affines (a bit matrix per 256-bit half: qh
 * bits 0-1 | 2-3 for elements 0-63, bits 4-5 | 6-7 for elements 64-127, each moved to bits 4-5),
 * the high nibbles of ql moved down by vpmultishiftqb and each merge one vpternlog: 5 operations
 * per half instead of 10, and two int32 chains per row. 1 thread, in L2: 21.5 → 24.3 GB/s. */
#define GF2_QH_01 0x0000000001020000ll /* x bits 0-1 to bits 4-5 */
#define GF2_QH_23 0x0000000004080000ll
#define GF2_QH_45 0x0000000010200000ll
#define GF2_QH_67 0x0000000040800000ll

__attribute__((target("avx512vbmi,gfni"))) void sb_rowdot4_q6_K_avx512vbmi(const void *w, size_t ws,
                                                                            const sb_act *x, float y[4])
{
    const int64_t nb = x->k / SB_QK_K;
    const uint8_t *wr[4];
    __m512 acc[4];
    for (int c = 0; c < 4; c++) {
        wr[c] = (const uint8_t *)w + c * ws;
        acc[c] = _mm512_setzero_ps();
    }
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    /* vpmultishiftqb: byte i of a qword takes bits 8i+4 .. 8i+11 (its high nibble in bits 0-3) */
    const __m512i nibble_hi = _mm512_set1_epi64(0x3C342C241C140C04ll);
    const __m512i top_a = _mm512_set_epi64(GF2_QH_23, GF2_QH_23, GF2_QH_23, GF2_QH_23, GF2_QH_01, GF2_QH_01,
                                           GF2_QH_01, GF2_QH_01);
    const __m512i top_b = _mm512_set_epi64(GF2_QH_67, GF2_QH_67, GF2_QH_67, GF2_QH_67, GF2_QH_45, GF2_QH_45,
                                           GF2_QH_45, GF2_QH_45);
    /* int16 lane l of a 64-quant register takes scale l / 8 of its four */
    const __m512i sidx = _mm512_set_epi16(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0,
                                          0, 0, 0, 0, 0);
    for (int64_t b = 0; b < nb; b++) {
        const size_t off = (size_t)b * sizeof(sb_block_q6_K);
        /* 210 bytes: lines at 0, 64, 128, 192 ahead leave none out (blocks are < 256 apart) */
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++)
#pragma GCC unroll 4
            for (int l = 0; l < 4; l++) _mm_prefetch((const char *)(wr[c] + off + STREAM_AHEAD + 64 * l), _MM_HINT_T0);
        const __m256i bsum = _mm256_loadu_si256((const __m256i *)(x->s + 16 * b));
        const int8_t *xq = x->q + b * SB_QK_K;
        const float xd = x->d[b];
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            const sb_block_q6_K *blk = (const sb_block_q6_K *)(wr[c] + off);
            __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)blk->scales));
            __m512i sc = _mm512_castsi256_si512(sc16);
            /* Σ_s −32·scale_s·(16-sum of X)_s, lane-wise (only the total matters) */
            __m512i iacc[2] = {_mm512_zextsi256_si512(_mm256_madd_epi16(
                                   bsum, _mm256_slli_epi16(_mm256_sub_epi16(_mm256_setzero_si256(), sc16), 5))),
                               _mm512_setzero_si512()};
#pragma GCC unroll 2
            for (int h = 0; h < 2; h++) {
                __m512i l = _mm512_loadu_si512(blk->ql + 64 * h);
                __m512i hb = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(blk->qh + 32 * h)));
                /* (l & 15) | top bits; (l >> 4) | top bits */
                __m512i q0 = _mm512_ternarylogic_epi32(l, _mm512_gf2p8affine_epi64_epi8(hb, top_a, 0), low4, 0xEC);
                __m512i q1 = _mm512_ternarylogic_epi32(_mm512_multishift_epi64_epi8(nibble_hi, l),
                                                       _mm512_gf2p8affine_epi64_epi8(hb, top_b, 0), low4, 0xEC);
                __m512i s0 = _mm512_permutexvar_epi16(_mm512_add_epi16(sidx, _mm512_set1_epi16((short)(8 * h))), sc);
                __m512i s1 = _mm512_permutexvar_epi16(_mm512_add_epi16(sidx, _mm512_set1_epi16((short)(8 * h + 4))), sc);
                iacc[h] = _mm512_dpwssd_epi32(iacc[h], _mm512_maddubs_epi16(q0, _mm512_loadu_si512(xq + 128 * h)), s0);
                iacc[h] = _mm512_dpwssd_epi32(iacc[h], _mm512_maddubs_epi16(q1, _mm512_loadu_si512(xq + 128 * h + 64)), s1);
            }
            __m512 dd = _mm512_set1_ps(_cvtsh_ss(blk->d) * xd);
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(iacc[0], iacc[1])), dd, acc[c]);
        }
    }
    for (int c = 0; c < 4; c++) y[c] = _mm512_reduce_add_ps(acc[c]);
}
