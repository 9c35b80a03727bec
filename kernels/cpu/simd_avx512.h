/* Vector helpers for the AVX-512 kernels (included only by kernels/cpu/NAME_avx512.c, which are
 * compiled with AVX-512 flags). The same names exist in simd_avx2.h, so the shared kernel
 * bodies (attention_body.h, ops_body.h) read the same for both levels. */
#ifndef SB_KERNELS_SIMD_AVX512_H
#define SB_KERNELS_SIMD_AVX512_H

#include <immintrin.h>
#include <stdint.h>

#include "kernels/kernels.h"

typedef __m512 vf;
enum { VL = 16 };

static inline vf vzero(void) { return _mm512_setzero_ps(); }
static inline vf vset1(float x) { return _mm512_set1_ps(x); }
static inline vf vload(const float *p) { return _mm512_loadu_ps(p); }
static inline void vstore(float *p, vf v) { _mm512_storeu_ps(p, v); }
static inline vf vadd(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf vsub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf vmul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf vdiv(vf a, vf b) { return _mm512_div_ps(a, b); }
static inline vf vmax(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline vf vfma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline float vhsum(vf v) { return _mm512_reduce_add_ps(v); }
static inline float vhmax(vf v) { return _mm512_reduce_max_ps(v); }
/* out[t] = the horizontal sum of a_t, four at once: pairs summed within 128-bit lanes, then the
 * four lanes (a shuffle tree shared by the four sums instead of four separate reductions). */
static inline void vhsum4(vf a0, vf a1, vf a2, vf a3, float out[4])
{
    __m512 t0 = _mm512_add_ps(_mm512_unpacklo_ps(a0, a1), _mm512_unpackhi_ps(a0, a1));
    __m512 t1 = _mm512_add_ps(_mm512_unpacklo_ps(a2, a3), _mm512_unpackhi_ps(a2, a3));
    __m512 u = _mm512_add_ps(_mm512_shuffle_ps(t0, t1, _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_ps(t0, t1, _MM_SHUFFLE(3, 2, 3, 2)));
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(u), _mm512_extractf32x8_ps(u, 1));
    _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
}
/* (a > b) ? fill : x, lane by lane */
static inline vf vsel_gt(vf a, vf b, vf fill, vf x)
{
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_GT_OQ), x, fill);
}
/* the first n (< VL) lanes from p, zeros after; stores of the first n lanes */
static inline vf vload_part(const float *p, int n) { return _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p); }
static inline void vstore_part(float *p, vf v, int n) { _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), v); }
/* VL halves → floats */
static inline vf vload_f16(const uint16_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)p)); }
/* 16 elements of type t (f32, f16 or bf16) from element i of w, widened to f32; lanes outside
 * mask read nothing and are 0 */
static inline __attribute__((always_inline)) vf vload_widen(const void *w, int64_t i, sb_type t, __mmask16 mask)
{
    if (t == SB_TYPE_F32) return _mm512_maskz_loadu_ps(mask, (const float *)w + i);
    __m256i h = _mm256_maskz_loadu_epi16(mask, (const uint16_t *)w + i);
    if (t == SB_TYPE_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
/* Transposes the 16×16 block r[0..16) of 32-bit elements in place: r[j][i] ← r[i][j]. Four shuffle stages:
 * pairs, quads (within 128-bit lanes), then 128-bit lanes across registers twice. */
static inline __attribute__((always_inline)) void vtranspose16(vf r[16])
{
    __m512 t[16], u[16];
#pragma GCC unroll 8
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 16; i += 4) {
        u[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
        u[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    /* u[4g + q], 128-bit lane L, holds column 4L + q of rows 4g .. 4g+3 */
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++) {
        __m512 w0 = _mm512_shuffle_f32x4(u[q], u[4 + q], 0x88);
        __m512 w1 = _mm512_shuffle_f32x4(u[q], u[4 + q], 0xDD);
        __m512 x0 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0x88);
        __m512 x1 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0xDD);
        r[q] = _mm512_shuffle_f32x4(w0, x0, 0x88);
        r[8 + q] = _mm512_shuffle_f32x4(w0, x0, 0xDD);
        r[4 + q] = _mm512_shuffle_f32x4(w1, x1, 0x88);
        r[12 + q] = _mm512_shuffle_f32x4(w1, x1, 0xDD);
    }
}

/* swaps lanes 2i and 2i+1 (rope NORMAL pairs) */
static inline vf vswap_pairs(vf v) { return _mm512_permute_ps(v, 0xB1); }

#include "kernels/cpu/simd_exp.h"

/* e^x for every lane, |rel err| < 2e-7 over the float range: x = n·ln2 + r, |r| <= ln2/2,
 * e^r by a degree-6 polynomial, 2^n through the exponent bits. x < -87.3 gives exactly 0
 * (also for -inf); x > 88.7 gives +inf; NaN stays NaN. */
static inline vf vexp(vf x)
{
    const vf log2e = vset1(1.44269504088896341f), ln2hi = vset1(0.693359375f), ln2lo = vset1(-2.12194440e-4f);
    vf xc = _mm512_min_ps(x, vset1(88.7228f));
    xc = _mm512_max_ps(xc, vset1(-87.3365f));
    vf n = _mm512_roundscale_ps(_mm512_mul_ps(xc, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    vf r = _mm512_fnmadd_ps(n, ln2hi, xc);
    r = _mm512_fnmadd_ps(n, ln2lo, r);
    vf p = vexp_poly(r);
    /* 2^n split in two factors so that n = 128 (x near 88.7) does not overflow the exponent */
    __m512i ni = _mm512_cvtps_epi32(n);
    __m512i n1 = _mm512_srai_epi32(ni, 1), n2 = _mm512_sub_epi32(ni, n1);
    vf s1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n1, _mm512_set1_epi32(127)), 23));
    vf s2 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n2, _mm512_set1_epi32(127)), 23));
    vf y = vmul(vmul(p, s1), s2);
    y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, vset1(-87.3365f), _CMP_LT_OQ), y, vzero());
    y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, vset1(88.7228f), _CMP_GT_OQ), y, vset1(__builtin_inff()));
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), y, x);
}

/* e^x for x <= 0 (softmax terms x - max, rescale factors m_old - m_new): the vexp polynomial
 * without the range blends. x < -87.3 (and -inf) gives 2^-126·e^r ≈ 1.2e-38 instead of 0, which
 * is negligible next to the row maximum's term 1; NaN propagates (the clamp keeps it). */
static inline vf vexp_neg(vf x)
{
    const vf log2e = vset1(1.44269504088896341f), ln2hi = vset1(0.693359375f), ln2lo = vset1(-2.12194440e-4f);
    vf xc = _mm512_max_ps(vset1(-87.3365f), x); /* returns x when x is NaN */
    vf n = _mm512_roundscale_ps(vmul(xc, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    vf r = _mm512_fnmadd_ps(n, ln2hi, xc);
    r = _mm512_fnmadd_ps(n, ln2lo, r);
    vf p = vexp_poly(r);
    __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return vmul(p, _mm512_castsi512_ps(e));
}

#endif
