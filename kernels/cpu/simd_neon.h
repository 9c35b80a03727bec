/* Vector helpers for the aarch64 NEON kernels (included only by kernels/cpu/NAME_neon.c). Same
 * names as simd_avx512.h; see there for the contracts. Four floats per vector. */
#ifndef SB_KERNELS_SIMD_NEON_H
#define SB_KERNELS_SIMD_NEON_H

#include <arm_neon.h>
#include <stdint.h>

typedef float32x4_t vf;
enum { VL = 4 };

static inline vf vzero(void) { return vdupq_n_f32(0.0f); }
static inline vf vset1(float x) { return vdupq_n_f32(x); }
static inline vf vload(const float *p) { return vld1q_f32(p); }
static inline void vstore(float *p, vf v) { vst1q_f32(p, v); }
static inline vf vadd(vf a, vf b) { return vaddq_f32(a, b); }
static inline vf vsub(vf a, vf b) { return vsubq_f32(a, b); }
static inline vf vmul(vf a, vf b) { return vmulq_f32(a, b); }
static inline vf vdiv(vf a, vf b) { return vdivq_f32(a, b); }
static inline vf vmax(vf a, vf b) { return vmaxq_f32(a, b); }
static inline vf vfma(vf a, vf b, vf c) { return vfmaq_f32(c, a, b); } /* a·b + c */
static inline float vhsum(vf v) { return vaddvq_f32(v); }
static inline float vhmax(vf v) { return vmaxvq_f32(v); }
/* out[t] = the horizontal sum of a_t, four at once (pairwise adds) */
static inline void vhsum4(vf a0, vf a1, vf a2, vf a3, float out[4])
{
    vst1q_f32(out, vpaddq_f32(vpaddq_f32(a0, a1), vpaddq_f32(a2, a3)));
}
static inline vf vsel_gt(vf a, vf b, vf fill, vf x) { return vbslq_f32(vcgtq_f32(a, b), fill, x); }
/* no masked loads on NEON: the first n (< 4) lanes through a zeroed copy */
static inline vf vload_part(const float *p, int n)
{
    float t[4] = {0, 0, 0, 0};
    for (int i = 0; i < n; i++) t[i] = p[i];
    return vld1q_f32(t);
}
static inline void vstore_part(float *p, vf v, int n)
{
    float t[4];
    vst1q_f32(t, v);
    for (int i = 0; i < n; i++) p[i] = t[i];
}
static inline vf vload_f16(const uint16_t *p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
static inline vf vswap_pairs(vf v) { return vrev64q_f32(v); }

#include "kernels/cpu/simd_exp.h"

/* e^x: n = round(x·log2 e), r = x − n·ln 2 (two-part ln 2), a degree-6 polynomial, scaled by
 * 2^n in two halves (so that n = 128 does not overflow the exponent); ±range and NaN as vexp in
 * simd_avx2.h. */
static inline vf vexp(vf x)
{
    const vf log2e = vset1(1.44269504088896341f), ln2hi = vset1(0.693359375f), ln2lo = vset1(-2.12194440e-4f);
    vf xc = vmaxq_f32(vminq_f32(x, vset1(88.7228f)), vset1(-87.3365f));
    vf n = vrndnq_f32(vmul(xc, log2e));
    vf r = vfmsq_f32(xc, n, ln2hi);
    r = vfmsq_f32(r, n, ln2lo);
    vf p = vexp_poly(r);
    int32x4_t ni = vcvtq_s32_f32(n);
    int32x4_t n1 = vshrq_n_s32(ni, 1), n2 = vsubq_s32(ni, n1);
    vf s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n1, vdupq_n_s32(127)), 23));
    vf s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n2, vdupq_n_s32(127)), 23));
    vf y = vmul(vmul(p, s1), s2);
    y = vbslq_f32(vcltq_f32(x, vset1(-87.3365f)), vzero(), y);
    y = vbslq_f32(vcgtq_f32(x, vset1(88.7228f)), vset1(__builtin_inff()), y);
    return vbslq_f32(vceqq_f32(x, x), y, x); /* NaN in, NaN out */
}

/* e^x for x <= 0, without the range blends (see simd_avx2.h). */
static inline vf vexp_neg(vf x)
{
    const vf log2e = vset1(1.44269504088896341f), ln2hi = vset1(0.693359375f), ln2lo = vset1(-2.12194440e-4f);
    vf xc = vmaxq_f32(vset1(-87.3365f), x); /* FMAX: NaN stays NaN */
    vf n = vrndnq_f32(vmul(xc, log2e));
    vf r = vfmsq_f32(xc, n, ln2hi);
    r = vfmsq_f32(r, n, ln2lo);
    vf p = vexp_poly(r);
    int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
    return vmul(p, vreinterpretq_f32_s32(e));
}

#endif
