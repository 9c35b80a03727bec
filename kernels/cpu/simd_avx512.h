/* Vector helpers for the AVX-512 kernels (included only by kernels/cpu/NAME_avx512.c, which are
 * compiled with AVX-512 flags). The same names exist in simd_avx2.h, so the shared kernel
 * bodies (attention_body.h, ops_body.h) read the same for both levels. */
#ifndef SB_KERNELS_SIMD_AVX512_H
#define SB_KERNELS_SIMD_AVX512_H

#include <immintrin.h>
#include <stdint.h>

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
/* swaps lanes 2i and 2i+1 (rope NORMAL pairs) */
static inline vf vswap_pairs(vf v) { return _mm512_permute_ps(v, 0xB1); }

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
    vf p = vset1(1.9875691500e-4f);
    p = vfma(p, r, vset1(1.3981999507e-3f));
    p = vfma(p, r, vset1(8.3334519073e-3f));
    p = vfma(p, r, vset1(4.1665795894e-2f));
    p = vfma(p, r, vset1(1.6666665459e-1f));
    p = vfma(p, r, vset1(5.0000001201e-1f));
    p = vfma(p, vmul(r, r), vadd(r, vset1(1.0f)));
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
    vf p = vset1(1.9875691500e-4f);
    p = vfma(p, r, vset1(1.3981999507e-3f));
    p = vfma(p, r, vset1(8.3334519073e-3f));
    p = vfma(p, r, vset1(4.1665795894e-2f));
    p = vfma(p, r, vset1(1.6666665459e-1f));
    p = vfma(p, r, vset1(5.0000001201e-1f));
    p = vfma(p, vmul(r, r), vadd(r, vset1(1.0f)));
    __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return vmul(p, _mm512_castsi512_ps(e));
}

#endif
