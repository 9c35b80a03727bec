/* SIMD small ops shared by kernels/cpu/ops_avx2.c and ops_avx512.c (included after the level's
 * simd_*.h). Same contracts as the ref table in kernels/ops.c; results differ from ref only by
 * f32 summation order and the polynomial e^x (rel. error < 2e-7). Tails use scalar code. */
#include <math.h>

static void simd_rmsnorm(float *y, const float *x, const float *w, int64_t rows, int64_t n, float eps)
{
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        vf a0 = vzero(), a1 = vzero();
        int64_t i = 0;
        for (; i + 2 * VL <= n; i += 2 * VL) {
            vf v0 = vload(xr + i), v1 = vload(xr + i + VL);
            a0 = vfma(v0, v0, a0);
            a1 = vfma(v1, v1, a1);
        }
        double ss = vhsum(vadd(a0, a1));
        for (; i < n; i++) ss += (double)xr[i] * xr[i];
        float s = (float)(1.0 / sqrt(ss / (double)n + (double)eps));
        vf sv = vset1(s);
        for (i = 0; i + VL <= n; i += VL) vstore(yr + i, vmul(vmul(vload(xr + i), sv), vload(w + i)));
        for (; i < n; i++) yr[i] = xr[i] * s * w[i];
    }
}

static void simd_softmax(float *x, int64_t rows, int64_t n)
{
    for (int64_t r = 0; r < rows; r++) {
        float *xr = x + r * n;
        vf mv = vset1(-__builtin_inff());
        int64_t i = 0;
        for (; i + VL <= n; i += VL) mv = vmax(mv, vload(xr + i));
        float mx = vhmax(mv);
        for (; i < n; i++) mx = xr[i] > mx ? xr[i] : mx;
        vf m = vset1(mx), sv = vzero();
        for (i = 0; i + VL <= n; i += VL) {
            vf e = vexp(vsub(vload(xr + i), m));
            vstore(xr + i, e);
            sv = vadd(sv, e);
        }
        double sum = vhsum(sv);
        for (; i < n; i++) { xr[i] = expf(xr[i] - mx); sum += xr[i]; }
        float inv = (float)(1.0 / sum);
        vf iv = vset1(inv);
        for (i = 0; i + VL <= n; i += VL) vstore(xr + i, vmul(vload(xr + i), iv));
        for (; i < n; i++) xr[i] *= inv;
    }
}

static void simd_silu_mul(float *y, const float *gate, const float *up, int64_t n)
{
    const vf one = vset1(1.0f), zero = vzero();
    int64_t i = 0;
    for (; i + VL <= n; i += VL) {
        vf g = vload(gate + i);
        vf sig = vdiv(g, vadd(one, vexp(vsub(zero, g))));
        vstore(y + i, vmul(sig, vload(up + i)));
    }
    for (; i < n; i++) {
        float g = gate[i];
        y[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

static void simd_add(float *y, const float *a, const float *b, int64_t n)
{
    int64_t i = 0;
    for (; i + VL <= n; i += VL) vstore(y + i, vadd(vload(a + i), vload(b + i)));
    for (; i < n; i++) y[i] = a[i] + b[i];
}

static void simd_mul(float *y, const float *a, const float *b, int64_t n)
{
    int64_t i = 0;
    for (; i + VL <= n; i += VL) vstore(y + i, vmul(vload(a + i), vload(b + i)));
    for (; i < n; i++) y[i] = a[i] * b[i];
}

/* Coefficient table as in kernels/ops_impl.h: y[d] = x[d]·a[d] + x[partner(d)]·b[d]. */
static void simd_rope(float *x, int64_t m, int n_heads, int head_dim, int n_rot, sb_rope_mode mode,
                      const float *tab)
{
    const int h = n_rot / 2;
    for (int64_t t = 0; t < m; t++) {
        const float *a = tab + t * 2 * n_rot, *b = a + n_rot;
        for (int hd = 0; hd < n_heads; hd++) {
            float *v = x + (t * n_heads + hd) * head_dim;
            int i = 0;
            if (mode == SB_ROPE_NORMAL) {
                for (; i + VL <= n_rot; i += VL) {
                    vf xv = vload(v + i);
                    vstore(v + i, vfma(xv, vload(a + i), vmul(vswap_pairs(xv), vload(b + i))));
                }
                for (; i < n_rot; i += 2) {
                    float x0 = v[i], x1 = v[i + 1];
                    v[i] = x0 * a[i] + x1 * b[i];
                    v[i + 1] = x1 * a[i + 1] + x0 * b[i + 1];
                }
            } else {
                for (; i + VL <= h; i += VL) {
                    vf x0 = vload(v + i), x1 = vload(v + i + h);
                    vstore(v + i, vfma(x0, vload(a + i), vmul(x1, vload(b + i))));
                    vstore(v + i + h, vfma(x1, vload(a + i + h), vmul(x0, vload(b + i + h))));
                }
                for (; i < h; i++) {
                    float x0 = v[i], x1 = v[i + h];
                    v[i] = x0 * a[i] + x1 * b[i];
                    v[i + h] = x1 * a[i + h] + x0 * b[i + h];
                }
            }
        }
    }
}
