/* The polynomial behind vexp / vexp_neg of every simd_*.h (each includes this after defining vf,
 * vset1, vfma, vmul and vadd): e^r ≈ 1 + r + r²·p(r) for |r| <= ln 2 / 2, p of degree 5 (the
 * Cephes expf coefficients), about 1 ulp. The callers reduce x = n·ln 2 + r and scale by 2^n. */
#ifndef SB_KERNELS_SIMD_EXP_H
#define SB_KERNELS_SIMD_EXP_H

static inline vf vexp_poly(vf r)
{
    vf p = vset1(1.9875691500e-4f);
    p = vfma(p, r, vset1(1.3981999507e-3f));
    p = vfma(p, r, vset1(8.3334519073e-3f));
    p = vfma(p, r, vset1(4.1665795894e-2f));
    p = vfma(p, r, vset1(1.6666665459e-1f));
    p = vfma(p, r, vset1(5.0000001201e-1f));
    return vfma(p, vmul(r, r), vadd(r, vset1(1.0f)));
}

#endif
