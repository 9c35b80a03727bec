/* Small ops a llama-family model needs: rmsnorm, rope, softmax, silu·mul, add, mul, get_rows
 * (rows of any weight format, dequantized by sb_dequantize_row of kernels/quant.c).
 *
 * The public functions here validate their arguments and dispatch through the table of the
 * context's ISA level (kernels/ops_impl.h). The ref table below is the plain-C oracle; the SIMD
 * tables live in kernels/cpu/ops_avx2.c and ops_avx512.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/ops_impl.h"

/* ---------------------------------------------------------------- reference (plain C) */

static void ref_rmsnorm(float *y, const float *x, const float *w, int64_t rows, int64_t n, float eps)
{
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        double ss = 0;
        for (int64_t i = 0; i < n; i++) ss += (double)xr[i] * xr[i];
        float s = (float)(1.0 / sqrt(ss / (double)n + (double)eps));
        for (int64_t i = 0; i < n; i++) yr[i] = xr[i] * s * w[i];
    }
}

static void ref_softmax(float *x, int64_t rows, int64_t n)
{
    for (int64_t r = 0; r < rows; r++) {
        float *xr = x + r * n;
        float mx = xr[0];
        for (int64_t i = 1; i < n; i++) mx = xr[i] > mx ? xr[i] : mx;
        double sum = 0;
        for (int64_t i = 0; i < n; i++) { xr[i] = expf(xr[i] - mx); sum += xr[i]; }
        float inv = (float)(1.0 / sum);
        for (int64_t i = 0; i < n; i++) xr[i] *= inv;
    }
}

static void ref_silu_mul(float *y, const float *gate, const float *up, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        float g = gate[i];
        y[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

static void ref_add(float *y, const float *a, const float *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

static void ref_mul(float *y, const float *a, const float *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = a[i] * b[i];
}

static void ref_rope(float *x, int64_t m, int n_heads, int head_dim, int n_rot, sb_rope_mode mode,
                     const float *tab)
{
    int h = n_rot / 2;
    for (int64_t t = 0; t < m; t++) {
        const float *a = tab + t * 2 * n_rot, *b = a + n_rot;
        for (int hd = 0; hd < n_heads; hd++) {
            float *v = x + (t * n_heads + hd) * head_dim;
            for (int i = 0; i < h; i++) {
                /* the two members of pair i */
                int d0 = mode == SB_ROPE_NEOX ? i : 2 * i;
                int d1 = mode == SB_ROPE_NEOX ? i + h : 2 * i + 1;
                float x0 = v[d0], x1 = v[d1];
                v[d0] = x0 * a[d0] + x1 * b[d0];
                v[d1] = x1 * a[d1] + x0 * b[d1];
            }
        }
    }
}

const sb_ops_impl sb_ops_ref = {
    .rmsnorm = ref_rmsnorm,
    .softmax = ref_softmax,
    .silu_mul = ref_silu_mul,
    .add = ref_add,
    .mul = ref_mul,
    .rope = ref_rope,
};

/* ---------------------------------------------------------------- dispatch */

static const sb_ops_impl *ops_for(const sb_kctx *ctx)
{
    switch (ctx->isa) {
#if defined(__x86_64__)
    case SB_ISA_AVX2: return &sb_ops_avx2;
    case SB_ISA_AVX512: return &sb_ops_avx512;
#elif defined(__aarch64__)
    case SB_ISA_NEON: return &sb_ops_neon;
#endif
    default: return &sb_ops_ref;
    }
}

static int ctx_ok(const sb_kctx *ctx)
{
    return ctx && (unsigned)ctx->isa < SB_ISA_COUNT && sb_isa_supported(ctx->isa);
}

int sb_rmsnorm(const sb_kctx *ctx, float *y, const float *x, const float *w, int64_t rows,
               int64_t n, float eps)
{
    if (!ctx_ok(ctx) || !y || !x || !w || rows < 0 || n <= 0 || !(eps >= 0)) return SB_KERR_ARG;
    if (rows == 0) return SB_KOK;
    ops_for(ctx)->rmsnorm(y, x, w, rows, n, eps);
    return SB_KOK;
}

int sb_softmax(const sb_kctx *ctx, float *x, int64_t rows, int64_t n)
{
    if (!ctx_ok(ctx) || !x || rows < 0 || n <= 0) return SB_KERR_ARG;
    if (rows == 0) return SB_KOK;
    ops_for(ctx)->softmax(x, rows, n);
    return SB_KOK;
}

int sb_silu_mul(const sb_kctx *ctx, float *y, const float *gate, const float *up, int64_t n)
{
    if (!ctx_ok(ctx) || !y || !gate || !up || n < 0) return SB_KERR_ARG;
    if (n) ops_for(ctx)->silu_mul(y, gate, up, n);
    return SB_KOK;
}

int sb_add(const sb_kctx *ctx, float *y, const float *a, const float *b, int64_t n)
{
    if (!ctx_ok(ctx) || !y || !a || !b || n < 0) return SB_KERR_ARG;
    if (n) ops_for(ctx)->add(y, a, b, n);
    return SB_KOK;
}

int sb_mul(const sb_kctx *ctx, float *y, const float *a, const float *b, int64_t n)
{
    if (!ctx_ok(ctx) || !y || !a || !b || n < 0) return SB_KERR_ARG;
    if (n) ops_for(ctx)->mul(y, a, b, n);
    return SB_KOK;
}

/* floats of the per-thread cache of the last rope table (see sb_rope) */
#define ROPE_CACHE_FLOATS 2048

int sb_rope(const sb_kctx *ctx, float *x, int64_t m, int n_heads, int head_dim, int64_t pos0,
            const sb_rope_params *p)
{
    if (!ctx_ok(ctx) || !x || !p || m < 0 || n_heads <= 0 || head_dim <= 0 || pos0 < 0)
        return SB_KERR_ARG;
    if (p->n_rot <= 0 || p->n_rot % 2 || p->n_rot > head_dim || !(p->freq_base > 0) ||
        !(p->freq_scale > 0) || !isfinite(p->freq_base) || !isfinite(p->freq_scale) ||
        (p->mode != SB_ROPE_NORMAL && p->mode != SB_ROPE_NEOX))
        return SB_KERR_ARG;
    if (m == 0) return SB_KOK;
    int n_rot = p->n_rot, h = n_rot / 2;
    if (p->freq_factors)
        for (int i = 0; i < h; i++)
            if (!(p->freq_factors[i] > 0) || !isfinite(p->freq_factors[i])) return SB_KERR_ARG;
    size_t cells;
    if (__builtin_mul_overflow((size_t)m, (size_t)2 * (size_t)n_rot, &cells) ||
        cells > SIZE_MAX / sizeof(float))
        return SB_KERR_NOMEM;
    /* A decode step rotates q and k of every layer at one position: the table of the last call
     * is kept (per thread, small tables only) and reused when the call is the same, which saved
     * two pow + sincos per dimension per call (~60 calls per token of a 30-layer model). */
    static _Thread_local struct {
        int valid, n_rot;
        sb_rope_mode mode;
        int64_t pos0, m;
        double base, scale;
        float ff[ROPE_CACHE_FLOATS / 4];
        float tab[ROPE_CACHE_FLOATS];
    } last;
    const int cacheable = cells <= ROPE_CACHE_FLOATS && (size_t)h <= ROPE_CACHE_FLOATS / 4;
    if (cacheable && last.valid && last.pos0 == pos0 && last.m == m && last.n_rot == n_rot && last.mode == p->mode &&
        last.base == p->freq_base && last.scale == p->freq_scale &&
        (p->freq_factors ? !memcmp(last.ff, p->freq_factors, (size_t)h * sizeof(float))
                         : last.ff[0] == 0.0f)) {
        ops_for(ctx)->rope(x, m, n_heads, head_dim, n_rot, p->mode, last.tab);
        return SB_KOK;
    }
    float *tab = cacheable ? last.tab : malloc(cells * sizeof(float));
    double *inv_freq = malloc((size_t)h * sizeof(double));
    if (!tab || !inv_freq) {
        if (!cacheable) free(tab);
        free(inv_freq);
        return SB_KERR_NOMEM;
    }
    last.valid = 0;
    /* θi = pos · freq_scale · base^(-2i/n_rot) / freq_factors[i], in double so that large
     * positions keep their accuracy; the SIMD levels share this table. */
    for (int i = 0; i < h; i++) {
        inv_freq[i] = p->freq_scale * pow(p->freq_base, -2.0 * i / n_rot);
        if (p->freq_factors) inv_freq[i] /= p->freq_factors[i];
    }
    for (int64_t t = 0; t < m; t++) {
        float *a = tab + t * 2 * n_rot, *b = a + n_rot;
        double pos = (double)(pos0 + t);
        for (int i = 0; i < h; i++) {
            double theta = pos * inv_freq[i];
            float c = (float)cos(theta), s = (float)sin(theta);
            int d0 = p->mode == SB_ROPE_NEOX ? i : 2 * i;
            int d1 = p->mode == SB_ROPE_NEOX ? i + h : 2 * i + 1;
            a[d0] = c; a[d1] = c;
            b[d0] = -s; b[d1] = s;
        }
    }
    free(inv_freq);
    ops_for(ctx)->rope(x, m, n_heads, head_dim, n_rot, p->mode, tab);
    if (cacheable) {
        last.pos0 = pos0, last.m = m, last.n_rot = n_rot, last.mode = p->mode;
        last.base = p->freq_base, last.scale = p->freq_scale;
        if (p->freq_factors) memcpy(last.ff, p->freq_factors, (size_t)h * sizeof(float));
        else last.ff[0] = 0.0f; /* factors are > 0, so 0 marks "none" */
        last.valid = 1;
    } else {
        free(tab);
    }
    return SB_KOK;
}

int sb_get_rows(const sb_kctx *ctx, float *y, const void *table, sb_type t, int64_t n_rows,
                int64_t n_cols, const int32_t *ids, int64_t n_ids)
{
    if (!ctx_ok(ctx) || !y || !table || !ids || n_rows < 0 || n_cols <= 0 || n_ids < 0)
        return SB_KERR_ARG;
    for (int64_t i = 0; i < n_ids; i++)
        if (ids[i] < 0 || ids[i] >= n_rows) return SB_KERR_ARG;
    if (!sb_type_is_weight_format(t)) return SB_KERR_UNSUPPORTED;
    size_t row_bytes, total;
    int st = sb_row_bytes(t, n_cols, &row_bytes);
    if (st != SB_KOK) return st; /* n_cols not a multiple of the block: SB_KERR_SHAPE */
    if (__builtin_mul_overflow(row_bytes, (size_t)n_rows, &total)) return SB_KERR_ARG;
    for (int64_t i = 0; i < n_ids; i++) {
        const unsigned char *src = (const unsigned char *)table + (size_t)ids[i] * row_bytes;
        float *dst = y + i * n_cols;
        if (t == SB_TYPE_F32) memcpy(dst, src, row_bytes);
        else if ((st = sb_dequantize_row(t, src, dst, n_cols)) != SB_KOK) return st;
    }
    return SB_KOK;
}
