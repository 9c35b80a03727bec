/* Ceiling loops for avx512 (compiled with its flags by harness/module.mk). See harness/ceilings.h. */
#include <immintrin.h>

#include "harness/ceilings.h"


float sb_fma_loop_avx512(int64_t iters)
{
    __m512 a0 = _mm512_set1_ps(1.0f), a1 = _mm512_set1_ps(1.1f), a2 = _mm512_set1_ps(1.2f), a3 = _mm512_set1_ps(1.3f);
    __m512 a4 = _mm512_set1_ps(1.4f), a5 = _mm512_set1_ps(1.5f), a6 = _mm512_set1_ps(1.6f), a7 = _mm512_set1_ps(1.7f);
    __m512 a8 = _mm512_set1_ps(1.8f), a9 = _mm512_set1_ps(1.9f), a10 = _mm512_set1_ps(2.0f), a11 = _mm512_set1_ps(2.1f);
    const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int64_t i = 0; i < iters; i++) {
        a0 = _mm512_fmadd_ps(a0, m, c); a1 = _mm512_fmadd_ps(a1, m, c); a2 = _mm512_fmadd_ps(a2, m, c); a3 = _mm512_fmadd_ps(a3, m, c);
        a4 = _mm512_fmadd_ps(a4, m, c); a5 = _mm512_fmadd_ps(a5, m, c); a6 = _mm512_fmadd_ps(a6, m, c); a7 = _mm512_fmadd_ps(a7, m, c);
        a8 = _mm512_fmadd_ps(a8, m, c); a9 = _mm512_fmadd_ps(a9, m, c); a10 = _mm512_fmadd_ps(a10, m, c); a11 = _mm512_fmadd_ps(a11, m, c);
    }
    __m512 s0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)), _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    s0 = _mm512_add_ps(s0, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
    return _mm512_reduce_add_ps(s0);
}

float sb_read_avx512(const float *x, size_t n)
{
    /* Eight streams (eighths of the array) with a software prefetch 1 KiB ahead: the loads of
     * eight pages are in flight at once, as in fast decode kernels that read several weight
     * rows. Measured here: 1 stream ~16 GB/s, 4 streams ~27, 8 streams + prefetch ~31 (2 threads). */
    size_t q = n / 8;
    __m512 s[8];
    for (int k = 0; k < 8; k++) s[k] = _mm512_setzero_ps();
    for (size_t i = 0; i + 16 <= q; i += 16)
        for (int k = 0; k < 8; k++) {
            _mm_prefetch((const char *)(x + (size_t)k * q + i + 256), _MM_HINT_T0);
            s[k] = _mm512_add_ps(s[k], _mm512_load_ps(x + (size_t)k * q + i));
        }
    for (int k = 1; k < 8; k++) s[0] = _mm512_add_ps(s[0], s[k]);
    return _mm512_reduce_add_ps(s[0]);
}

void sb_triad_avx512(float *a, const float *b, const float *c, float s, size_t n)
{
    const __m512 vs = _mm512_set1_ps(s);
    for (size_t i = 0; i + 16 <= n; i += 16) _mm512_stream_ps(a + i, _mm512_fmadd_ps(vs, _mm512_load_ps(c + i), _mm512_load_ps(b + i)));
    _mm_sfence();
}

/* vpdpbusd needs ~6 cycles of latency and issues up to twice per cycle here: 16 chains (8 left
 * it at ~3.7 G/s where 16 reach ~5). */
__attribute__((target("avx512vnni"))) int32_t sb_vnni_loop_avx512(int64_t iters)
{
    __m512i a[SB_VNNI_CHAINS];
    const __m512i u = _mm512_set1_epi8(3), s = _mm512_set1_epi8(-5);
    for (int i = 0; i < SB_VNNI_CHAINS; i++) a[i] = _mm512_set1_epi32(i);
    for (int64_t it = 0; it < iters; it++)
#pragma GCC unroll 16
        for (int i = 0; i < SB_VNNI_CHAINS; i++) a[i] = _mm512_dpbusd_epi32(a[i], u, s);
    __m512i t = a[0];
    for (int i = 1; i < SB_VNNI_CHAINS; i++) t = _mm512_add_epi32(t, a[i]); /* wraps: defined */
    /* one lane is enough to keep the work; _mm512_reduce_add_epi32 adds in C ints (UB on overflow) */
    return _mm_cvtsi128_si32(_mm512_castsi512_si128(t));
}
