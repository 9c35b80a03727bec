/* F32 GEMM pieces for AVX2 + FMA: a 6×16 micro-kernel (12 accumulators of 8 floats, 2 B loads
 * and 6 broadcasts per k step) and the 8×8-transpose packing routine the AVX-512 level reuses.
 * Contracts: kernels/gemm_impl.h. */
#include <immintrin.h>
#include <string.h>

#include "kernels/cpu/simd_avx2.h"
#include "kernels/gemm_impl.h"

enum { MR = 6, NR = 16 };

/* 8 elements of type t from p widened to f32 (f16 through F16C, bf16 by a shift). */
static inline __attribute__((always_inline)) __m256 load8(const void *p, sb_type t)
{
    if (t == SB_TYPE_F32) return _mm256_loadu_ps(p);
    __m128i h = _mm_loadu_si128((const __m128i *)p);
    if (t == SB_TYPE_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

/* Packing (contract in gemm_impl.h): groups of 8 source rows are read 8 elements at a time,
 * transposed in registers and stored as 8-float runs (masked when R is not a multiple of 8).
 * `t` (a constant after inlining) is the source type: f32, or f16/bf16 widened on load. */
static inline __attribute__((always_inline)) void pack_any(float *dst, const void *src, int64_t ld, int rows, int R,
                                                           int64_t kc, sb_type t)
{
    const int64_t kc8 = kc - kc % 8;
    const int es = t == SB_TYPE_F32 ? 4 : 2; /* bytes per source element */
    for (int r0 = 0; r0 < R; r0 += 8) {
        int width = R - r0 < 8 ? R - r0 : 8;
        int valid = rows - r0 < 0 ? 0 : rows - r0 > 8 ? 8 : rows - r0;
        __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(width), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        const char *s = (const char *)src + (int64_t)r0 * ld * es;
        for (int64_t p = 0; p < kc8; p += 8) {
            __m256 v[8];
            for (int i = 0; i < 8; i++) v[i] = i < valid ? load8(s + (i * ld + p) * es, t) : _mm256_setzero_ps();
            vtranspose8(v);
            float *d = dst + p * R + r0;
            if (width == 8)
                for (int j = 0; j < 8; j++) _mm256_storeu_ps(d + j * R, v[j]);
            else
                for (int j = 0; j < 8; j++) _mm256_maskstore_ps(d + j * R, mask, v[j]);
        }
        for (int64_t p = kc8; p < kc; p++)
            for (int i = 0; i < width; i++) {
                const char *e = s + (i * ld + p) * es;
                float v = 0.0f;
                if (i < valid) {
                    uint16_t h;
                    if (t != SB_TYPE_F32) memcpy(&h, e, 2);
                    v = t == SB_TYPE_F32 ? *(const float *)(const void *)e : t == SB_TYPE_F16 ? sb_fp16_to_fp32(h) : sb_bf16_to_fp32(h);
                }
                dst[p * R + r0 + i] = v;
            }
    }
}

void sb_gemm_pack_avx2(float *dst, const float *src, int64_t ld, int rows, int R, int64_t kc);
void sb_gemm_pack_avx2(float *dst, const float *src, int64_t ld, int rows, int R, int64_t kc)
{
    pack_any(dst, src, ld, rows, R, kc, SB_TYPE_F32);
}

static void pack_half_avx2(float *dst, const uint16_t *src, int64_t ld, int rows, int R, int64_t kc, int bf16)
{
    if (bf16) pack_any(dst, src, ld, rows, R, kc, SB_TYPE_BF16);
    else pack_any(dst, src, ld, rows, R, kc, SB_TYPE_F16);
}

static void ukernel_6x16(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int beta)
{
    __m256 c0[MR], c1[MR];
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) c0[i] = c1[i] = _mm256_setzero_ps();
    for (int64_t p = 0; p < kc; p++) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
        for (int i = 0; i < MR; i++) {
            __m256 ai = _mm256_broadcast_ss(a + i);
            c0[i] = _mm256_fmadd_ps(ai, b0, c0[i]);
            c1[i] = _mm256_fmadd_ps(ai, b1, c1[i]);
        }
        a += MR;
        b += NR;
    }
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
        float *ci = c + i * ldc;
        if (beta) {
            c0[i] = _mm256_add_ps(c0[i], _mm256_loadu_ps(ci));
            c1[i] = _mm256_add_ps(c1[i], _mm256_loadu_ps(ci + 8));
        }
        _mm256_storeu_ps(ci, c0[i]);
        _mm256_storeu_ps(ci + 8, c1[i]);
    }
}

const sb_gemm_kernel sb_gemm_kernel_avx2 = {
    .mr = MR,
    .nr = NR,
    .ukernel = ukernel_6x16,
    .pack = sb_gemm_pack_avx2,
    .pack_half = pack_half_avx2,
};
