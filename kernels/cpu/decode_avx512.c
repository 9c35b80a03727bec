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
 */
#include <immintrin.h>

#include "kernels/cpu/simd_avx512.h"
#include "kernels/matmul_impl.h"

#define INLINE static inline __attribute__((always_inline))

/* Bytes ahead of the current position each stream prefetches. TinyLlama-shape decode, 2 threads:
 * 256 B was ~15 % slower than 768–3072; 2048 best for Q4_0 by a few %, neutral for Q8_0/F16. */
#define STREAM_AHEAD 2048


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
        for (int c = 0; c < 4; c++) _mm_prefetch((const char *)(wr[c] + i * es + STREAM_AHEAD), _MM_HINT_T0);
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

/* ---------------------------------------------------------------- Q4_0 / Q8_0 (VNNI + VBMI) */

/* X prepared as SB_ACT_Q8_0_OFF8 / _OFF128 (kernels/matmul_impl.h): int8 quants, and per int32
 * lane (4 quants) the start value -offset·Σ(4 quants) and the block's f32 scale. Each weight
 * row enters vpdpbusd unsigned (Q4_0 nibbles as stored = w + 8; Q8_0 with the sign bit flipped
 * = w + 128); the start value cancels the offset exactly, as in matmul_avx512.c.
 *
 * A pair of blocks (64 elements) of one row comes from one 64-byte window (Q4_0: 36 bytes used)
 * or two (Q8_0: 68 bytes): vpermb lays the quant bytes out in X order and vpermw picks the two
 * f16 scales, so the unpacking is 3 shuffle/shift operations instead of a chain of broadcasts and
 * inserts. Per pair and row: unpack, vpdpbusd, convert, scale, FMA. The X side (quants, start
 * values, scales) is loaded once per pair for the four rows. */

typedef struct q80_pair {
    __m512i q;  /* 64 unsigned quants, X order                         */
    __m512 d;   /* lanes 0-7: scale of block b, lanes 8-15: block b+1  */
} q80_pair;

/* Bytes [0, n) of a window at p (n < 64: masked, so nothing past the row is read). The VBMI
 * functions carry their own target attribute: the rest of the file must not need VBMI. */
__attribute__((target("avx512vbmi"))) INLINE __m512i window(const uint8_t *p, int n)
{
    return n >= 64 ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi8((1ull << n) - 1, p);
}

/* Blocks b, b+1 of a Q4_0 (is_q4) or Q8_0 row at p = the first byte of block b; avail = bytes of
 * the row from p on (the window is clipped to it; a missing block b+1 comes out as zeros). */
__attribute__((target("avx512vbmi"))) INLINE q80_pair unpack_pair(const uint8_t *p,
                                                                                                  int64_t avail, int is_q4)
{
    q80_pair r;
    if (is_q4) {
        /* d0 @0, qs0 @2..17, d1 @18, qs1 @20..35; output bytes: qs0, qs0, qs1, qs1, then the
         * second and fourth copies shifted right by 4 (high nibbles) */
        const __m512i idx = _mm512_set_epi8(35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 35, 34, 33, 32,
                                            31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 17, 16, 15, 14, 13, 12, 11,
                                            10, 9, 8, 7, 6, 5, 4, 3, 2, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4,
                                            3, 2);
        const __m512i widx = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9, 0, 0,
                                              0, 0, 0, 0, 0, 0);
        __m512i raw = window(p, avail < 64 ? (int)avail : 64);
        __m512i v = _mm512_permutexvar_epi8(idx, raw);
        v = _mm512_mask_srli_epi16(v, 0xff00ff00u, v, 4);
        r.q = _mm512_and_si512(v, _mm512_set1_epi8(15));
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

__attribute__((target("avx512vbmi"))) INLINE void q80_4(const void *w, size_t ws,
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
    int64_t b = 0;
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

__attribute__((target("avx512vbmi"))) void sb_rowdot4_q8_0_avx512vbmi(
    const void *w, size_t ws, const sb_act *x, float y[4])
{
    q80_4(w, ws, x, y, 0);
}

__attribute__((target("avx512vbmi"))) void sb_rowdot4_q4_0_avx512vbmi(
    const void *w, size_t ws, const sb_act *x, float y[4])
{
    q80_4(w, ws, x, y, 1);
}
