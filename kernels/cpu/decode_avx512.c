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

#include "kernels/matmul_impl.h"

#define INLINE static inline __attribute__((always_inline))

/* Bytes ahead of the current position each stream prefetches (a few lines, per stream). */
#define STREAM_AHEAD 1024

INLINE __m512 load16(const void *w, int64_t i, sb_type t, __mmask16 mask)
{
    if (t == SB_TYPE_F32) return _mm512_maskz_loadu_ps(mask, (const float *)w + i);
    __m256i h = _mm256_maskz_loadu_epi16(mask, (const uint16_t *)w + i);
    if (t == SB_TYPE_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

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
            acc[c][0] = _mm512_fmadd_ps(load16(wr[c], i, t, 0xffff), x0, acc[c][0]);
            acc[c][1] = _mm512_fmadd_ps(load16(wr[c], i + 16, t, 0xffff), x1, acc[c][1]);
        }
    }
    for (; i < k; i += 16) {
        __mmask16 mask = k - i >= 16 ? 0xffff : (__mmask16)((1u << (k - i)) - 1);
        __m512 xv = _mm512_maskz_loadu_ps(mask, xr + i);
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) acc[c][0] = _mm512_fmadd_ps(load16(wr[c], i, t, mask), xv, acc[c][0]);
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
