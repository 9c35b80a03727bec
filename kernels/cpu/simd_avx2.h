/* Vector helpers for the AVX2 + FMA kernels (included only by kernels/cpu/NAME_avx2.c). Same names
 * as simd_avx512.h; see there for the contracts. */
#ifndef SB_KERNELS_SIMD_AVX2_H
#define SB_KERNELS_SIMD_AVX2_H

#include <immintrin.h>
#include <stdint.h>

typedef __m256 vf;
enum { VL = 8 };

static inline vf vzero(void) { return _mm256_setzero_ps(); }
static inline vf vset1(float x) { return _mm256_set1_ps(x); }
static inline vf vload(const float *p) { return _mm256_loadu_ps(p); }
static inline void vstore(float *p, vf v) { _mm256_storeu_ps(p, v); }
static inline vf vadd(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf vsub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf vmul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf vdiv(vf a, vf b) { return _mm256_div_ps(a, b); }
static inline vf vmax(vf a, vf b) { return _mm256_max_ps(a, b); }
static inline vf vfma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
static inline float vhsum(vf v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
static inline float vhmax(vf v)
{
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
/* out[t] = the horizontal sum of a_t, four at once (see simd_avx512.h). */
static inline void vhsum4(vf a0, vf a1, vf a2, vf a3, float out[4])
{
    __m256 t0 = _mm256_add_ps(_mm256_unpacklo_ps(a0, a1), _mm256_unpackhi_ps(a0, a1));
    __m256 t1 = _mm256_add_ps(_mm256_unpacklo_ps(a2, a3), _mm256_unpackhi_ps(a2, a3));
    __m256 u = _mm256_add_ps(_mm256_shuffle_ps(t0, t1, _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm256_shuffle_ps(t0, t1, _MM_SHUFFLE(3, 2, 3, 2)));
    _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(u), _mm256_extractf128_ps(u, 1)));
}
static inline vf vsel_gt(vf a, vf b, vf fill, vf x) { return _mm256_blendv_ps(x, fill, _mm256_cmp_ps(a, b, _CMP_GT_OQ)); }
static inline __m256i part_mask(int n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
static inline vf vload_part(const float *p, int n) { return _mm256_maskload_ps(p, part_mask(n)); }
static inline void vstore_part(float *p, vf v, int n) { _mm256_maskstore_ps(p, part_mask(n), v); }
static inline vf vload_f16(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)p)); }
static inline vf vswap_pairs(vf v) { return _mm256_permute_ps(v, 0xB1); }

/* Transposes the 8×8 block r[0..8) of 32-bit elements in place: r[j][i] ← r[i][j]. */
static inline void vtranspose8(vf r[8])
{
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

/* isum + Σ over each int32 lane's 4 byte products u·x (u unsigned, x signed): AVX-VNNI's
 * vpdpbusd, written as assembly so that no file needs -mavxvnni (which would let the compiler
 * use it anywhere); call it only where the CPU has the flag (sb_cpu_has("avxvnni")). */
static inline __m256i vdpbusd_avxvnni(__m256i isum, __m256i u, __m256i x)
{
    __asm__("%{vex%} vpdpbusd %2, %1, %0" : "+x"(isum) : "x"(u), "x"(x));
    return isum;
}

#include "kernels/cpu/simd_exp.h"

static inline vf vexp(vf x)
{
    const vf log2e = vset1(1.44269504088896341f), ln2hi = vset1(0.693359375f), ln2lo = vset1(-2.12194440e-4f);
    vf xc = _mm256_min_ps(x, vset1(88.7228f));
    xc = _mm256_max_ps(xc, vset1(-87.3365f));
    vf n = _mm256_round_ps(_mm256_mul_ps(xc, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    vf r = _mm256_fnmadd_ps(n, ln2hi, xc);
    r = _mm256_fnmadd_ps(n, ln2lo, r);
    vf p = vexp_poly(r);
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    vf s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
    vf s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
    vf y = vmul(vmul(p, s1), s2);
    y = _mm256_blendv_ps(y, vzero(), _mm256_cmp_ps(x, vset1(-87.3365f), _CMP_LT_OQ));
    y = _mm256_blendv_ps(y, vset1(__builtin_inff()), _mm256_cmp_ps(x, vset1(88.7228f), _CMP_GT_OQ));
    return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

/* e^x for x <= 0 (softmax terms x - max, rescale factors m_old - m_new): the vexp polynomial
 * without the range blends. x < -87.3 (and -inf) gives 2^-126·e^r ≈ 1.2e-38 instead of 0, which
 * is negligible next to the row maximum's term 1; NaN propagates (the clamp keeps it). */
static inline vf vexp_neg(vf x)
{
    const vf log2e = vset1(1.44269504088896341f), ln2hi = vset1(0.693359375f), ln2lo = vset1(-2.12194440e-4f);
    vf xc = _mm256_max_ps(vset1(-87.3365f), x); /* returns x when x is NaN */
    vf n = _mm256_round_ps(vmul(xc, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    vf r = _mm256_fnmadd_ps(n, ln2hi, xc);
    r = _mm256_fnmadd_ps(n, ln2lo, r);
    vf p = vexp_poly(r);
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return vmul(p, _mm256_castsi256_ps(e));
}

#endif
