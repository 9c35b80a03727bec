/* F32 GEMM pieces for AVX-512: a 14×32 micro-kernel (28 accumulators of 16 floats; per k step
 * 2 B loads and 14 broadcasts feed 28 FMAs) and a packing routine built on 16×16 transposes.
 * Contracts: kernels/gemm_impl.h. */
#include <immintrin.h>

#include "kernels/cpu/simd_avx512.h"
#include "kernels/gemm_impl.h"

enum { MR = 14, NR = 32 };

/* Packing (contract in gemm_impl.h): groups of 16 source rows are read 16 elements at a time,
 * transposed in registers and stored as 16-float runs, masked to the R - r0 lanes of the group.
 * `t` (a constant after inlining) is the source element type: f32, or f16/bf16 widened on load. */

static inline __attribute__((always_inline)) void pack_any(float *dst, const void *src, int64_t ld, int rows, int R,
                                                           int64_t kc, sb_type t)
{
    const int64_t kc16 = kc - kc % 16;
    const int es = t == SB_TYPE_F32 ? 4 : 2; /* bytes per source element */
    for (int r0 = 0; r0 < R; r0 += 16) {
        int width = R - r0 < 16 ? R - r0 : 16;
        int valid = rows - r0 < 0 ? 0 : rows - r0 > 16 ? 16 : rows - r0;
        __mmask16 wm = (__mmask16)((1u << width) - 1);
        const char *s = (const char *)src + (int64_t)r0 * ld * es;
        /* rows past the edge load as zeros: a masked-off load reads (and faults on) nothing */
        __mmask16 rm[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; i++) rm[i] = i < valid ? 0xFFFF : 0;
        for (int64_t p = 0; p < kc16; p += 16) {
            __m512 v[16];
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++) {
                v[i] = vload_widen(s + i * ld * es, p, t, rm[i]);
                _mm_prefetch(s + (i * ld + p + 512) * es, _MM_HINT_T1); /* 512 elements ahead into L2 */
            }
            vtranspose16(v);
            float *d = dst + p * R + r0;
#pragma GCC unroll 16
            for (int j = 0; j < 16; j++) _mm512_mask_storeu_ps(d + j * R, wm, v[j]);
        }
        if (kc16 < kc) { /* the last kc % 16 columns: masked loads of the remaining elements */
            __mmask16 cm = (__mmask16)((1u << (kc - kc16)) - 1);
            __m512 v[16];
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++) v[i] = vload_widen(s + i * ld * es, kc16, t, rm[i] & cm);
            vtranspose16(v);
            float *d = dst + kc16 * R + r0;
            for (int j = 0; j < kc - kc16; j++) _mm512_mask_storeu_ps(d + j * R, wm, v[j]);
        }
    }
}

static void pack_16x16(float *dst, const float *src, int64_t ld, int rows, int R, int64_t kc)
{
    pack_any(dst, src, ld, rows, R, kc, SB_TYPE_F32);
}

static void pack_16x16_half(float *dst, const uint16_t *src, int64_t ld, int rows, int R, int64_t kc, int bf16)
{
    if (bf16) pack_any(dst, src, ld, rows, R, kc, SB_TYPE_BF16);
    else pack_any(dst, src, ld, rows, R, kc, SB_TYPE_F16);
}

/* One k step of the 14×32 tile: 2 loads of B, 14 broadcasts of A, 28 FMAs. Always inlined,
 * so the accumulator arrays stay in registers. */
static inline __attribute__((always_inline)) void step(const float *a, const float *b, __m512 c0[MR],
                                                        __m512 c1[MR])
{
    _mm_prefetch((const char *)(b + 8 * NR), _MM_HINT_T0);
    _mm_prefetch((const char *)(b + 8 * NR + 16), _MM_HINT_T0);
    __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++) {
        __m512 ai = _mm512_set1_ps(a[i]);
        c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
        c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
    }
}

static void ukernel_14x32(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int beta)
{
    __m512 c0[MR], c1[MR];
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++) c0[i] = c1[i] = _mm512_setzero_ps();
    /* B streams from L2 (prefetched 8 steps ahead). The C tile is fetched for writing only
     * for the last steps, so that the B stream does not evict it again before the stores. */
    int64_t tail = kc < 24 ? kc : 24;
    for (int64_t p = 0; p < kc - tail; p++, a += MR, b += NR) step(a, b, c0, c1);
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_ET0);
        _mm_prefetch((const char *)(c + i * ldc + NR - 1), _MM_HINT_ET0);
    }
    for (int64_t p = 0; p < tail; p++, a += MR, b += NR) step(a, b, c0, c1);
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++) {
        float *ci = c + i * ldc;
        if (beta) {
            c0[i] = _mm512_add_ps(c0[i], _mm512_loadu_ps(ci));
            c1[i] = _mm512_add_ps(c1[i], _mm512_loadu_ps(ci + 16));
        }
        _mm512_storeu_ps(ci, c0[i]);
        _mm512_storeu_ps(ci + 16, c1[i]);
    }
}

const sb_gemm_kernel sb_gemm_kernel_avx512 = {
    .mr = MR,
    .nr = NR,
    .ukernel = ukernel_14x32,
    .pack = pack_16x16,
    .pack_half = pack_16x16_half,
};
