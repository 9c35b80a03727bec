/* AVX2 four-stream decode kernels for the float formats (sb_matmul with one X row, m = 1).
 *
 * The same scheme as kernels/cpu/decode_avx512.c: rows w, w + ws, w + 2ws, w + 3ws (the driver
 * makes ws a quarter of the matrix) are read side by side, each with its own software prefetch,
 * so that one thread keeps four read streams in flight (one stream per thread reaches about half
 * of this machine's bandwidth). Per 16 elements, two f32 X loads feed eight FMAs (two chains
 * per weight row); f16 widened with vcvtph2ps, bf16 with a shift. */
#include <immintrin.h>
#include <stddef.h>
#include <string.h>

#include "kernels/cpu/simd_avx2.h"
#include "kernels/matmul_impl.h"

#define INLINE static inline __attribute__((always_inline))

/* 8 elements of type t from element i of w, widened to f32 */
INLINE __m256 load8(const uint8_t *w, int64_t i, sb_type t)
{
    if (t == SB_TYPE_F32) return _mm256_loadu_ps((const float *)(const void *)w + i);
    __m128i h = _mm_loadu_si128((const __m128i *)(const void *)(w + 2 * i));
    if (t == SB_TYPE_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

/* element i of w as f32 (the tail past the last whole 16) */
INLINE float load1(const uint8_t *w, int64_t i, sb_type t)
{
    if (t == SB_TYPE_F32) return ((const float *)(const void *)w)[i];
    uint16_t h;
    memcpy(&h, w + 2 * i, 2);
    return t == SB_TYPE_F16 ? sb_fp16_to_fp32(h) : sb_bf16_to_fp32(h);
}

INLINE void float4(const void *w, size_t ws, const sb_act *x, float y[4], sb_type t)
{
    const int64_t k = x->k;
    const int es = t == SB_TYPE_F32 ? 4 : 2; /* bytes per weight */
    const uint8_t *wr[4];
    __m256 acc[4][2];
    for (int c = 0; c < 4; c++) {
        wr[c] = (const uint8_t *)w + c * ws;
        acc[c][0] = acc[c][1] = _mm256_setzero_ps();
    }
    const float *xr = x->f32;
    int64_t i = 0;
    for (; i + 16 <= k; i += 16) {
        /* 16 elements are 64 bytes of f32 (one line) or 32 of f16/bf16 (every other step) */
        if (es == 4 || i % 32 == 0) {
#pragma GCC unroll 4
            for (int c = 0; c < 4; c++) _mm_prefetch((const char *)(wr[c] + i * es + SB_STREAM_AHEAD), _MM_HINT_T0);
        }
        __m256 x0 = _mm256_loadu_ps(xr + i), x1 = _mm256_loadu_ps(xr + i + 8);
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            acc[c][0] = _mm256_fmadd_ps(load8(wr[c], i, t), x0, acc[c][0]);
            acc[c][1] = _mm256_fmadd_ps(load8(wr[c], i + 8, t), x1, acc[c][1]);
        }
    }
    float tail[4] = {0, 0, 0, 0};
    for (; i < k; i++)
        for (int c = 0; c < 4; c++) tail[c] += load1(wr[c], i, t) * xr[i];
    vhsum4(_mm256_add_ps(acc[0][0], acc[0][1]), _mm256_add_ps(acc[1][0], acc[1][1]),
           _mm256_add_ps(acc[2][0], acc[2][1]), _mm256_add_ps(acc[3][0], acc[3][1]), y);
    for (int c = 0; c < 4; c++) y[c] += tail[c];
}

void sb_rowdot4_f32_avx2(const void *w, size_t ws, const sb_act *x, float y[4])
{
    float4(w, ws, x, y, SB_TYPE_F32);
}

void sb_rowdot4_f16_avx2(const void *w, size_t ws, const sb_act *x, float y[4])
{
    float4(w, ws, x, y, SB_TYPE_F16);
}

void sb_rowdot4_bf16_avx2(const void *w, size_t ws, const sb_act *x, float y[4])
{
    float4(w, ws, x, y, SB_TYPE_BF16);
}
