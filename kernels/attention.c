/* Causal grouped-query attention: argument checks, the naive reference, and dispatch to the
 * flash-style kernels of kernels/cpu/attention_avx2.c and attention_avx512.c.
 *
 * Layouts (kernels.h): Q and out [m][n_head][head_dim]; K and V [n_kv][n_kv_head][head_dim].
 * Query i sits at position pos+i and sees keys 0 .. pos+i.
 */
#include <math.h>
#include <stdlib.h>

#include "kernels/ops_impl.h"

static float kv_at(const void *base, sb_type t, int64_t idx)
{
    if (t == SB_TYPE_F16) return sb_fp16_to_fp32(((const uint16_t *)base)[idx]);
    return ((const float *)base)[idx];
}

/* Naive reference: for every (query, head) the full score row, a max-subtracted softmax and
 * the weighted sum of V, accumulated in double. Memory: n_kv + head_dim doubles. */
static int attention_ref(float *out, const float *Q, const void *K, const void *V,
                         const sb_attn_params *p)
{
    const int64_t D = p->head_dim, group = p->n_head / p->n_kv_head;
    const int64_t kv_stride = (int64_t)p->n_kv_head * D; /* elements between positions */
    double *s = malloc(sizeof(double) * (size_t)(p->n_kv + D));
    if (!s) return SB_KERR_NOMEM;
    double *acc = s + p->n_kv;
    for (int64_t i = 0; i < p->m; i++) {
        int64_t last = p->pos + i; /* keys 0 .. last */
        for (int64_t h = 0; h < p->n_head; h++) {
            const float *q = Q + (i * p->n_head + h) * D;
            int64_t g = h / group;
            double mx = -INFINITY;
            for (int64_t j = 0; j <= last; j++) {
                double dot = 0;
                for (int64_t d = 0; d < D; d++)
                    dot += (double)q[d] * kv_at(K, p->kv_type, j * kv_stride + g * D + d);
                s[j] = dot * p->scale;
                if (s[j] > mx) mx = s[j];
            }
            double sum = 0;
            for (int64_t d = 0; d < D; d++) acc[d] = 0;
            for (int64_t j = 0; j <= last; j++) {
                double w = exp(s[j] - mx);
                sum += w;
                for (int64_t d = 0; d < D; d++)
                    acc[d] += w * kv_at(V, p->kv_type, j * kv_stride + g * D + d);
            }
            float *o = out + (i * p->n_head + h) * D;
            for (int64_t d = 0; d < D; d++) o[d] = (float)(acc[d] / sum);
        }
    }
    free(s);
    return SB_KOK;
}

int sb_attention(const sb_kctx *ctx, float *out, const float *Q, const void *K, const void *V,
                 const sb_attn_params *p)
{
    if (!ctx || (unsigned)ctx->isa >= SB_ISA_COUNT || !sb_isa_supported(ctx->isa) || !out || !Q ||
        !K || !V || !p)
        return SB_KERR_ARG;
    if (p->m < 0 || p->pos < 0 || p->n_kv < 0 || p->n_head <= 0 || p->n_kv_head <= 0 ||
        p->head_dim <= 0 || !isfinite(p->scale))
        return SB_KERR_ARG;
    if (p->kv_type != SB_TYPE_F32 && p->kv_type != SB_TYPE_F16) return SB_KERR_UNSUPPORTED;
    if (p->n_head % p->n_kv_head || p->n_kv < p->pos + p->m || p->pos > INT64_MAX - p->m)
        return SB_KERR_SHAPE;
    /* Every index below is < n_kv·n_kv_head·head_dim or m·n_head·head_dim; make sure those fit. */
    int64_t cells;
    if (__builtin_mul_overflow(p->n_kv, (int64_t)p->n_kv_head * p->head_dim, &cells) ||
        __builtin_mul_overflow(p->m, (int64_t)p->n_head * p->head_dim, &cells) ||
        p->n_kv > (int64_t)(SIZE_MAX / sizeof(double)) - p->head_dim)
        return SB_KERR_ARG;
    if (p->m == 0) return SB_KOK;
    int st = SB_KERR_UNSUPPORTED;
    switch (ctx->isa) {
#if defined(__x86_64__)
    case SB_ISA_AVX2: st = sb_attention_avx2(out, Q, K, V, p, sb_kctx_threads(ctx)); break;
    case SB_ISA_AVX512: st = sb_attention_avx512(out, Q, K, V, p, sb_kctx_threads(ctx)); break;
#elif defined(__aarch64__)
    case SB_ISA_NEON: st = sb_attention_neon(out, Q, K, V, p, sb_kctx_threads(ctx)); break;
#endif
    default: break;
    }
    /* the reference covers what a flash kernel declines (prefill past 2^24 positions) */
    return st == SB_KERR_UNSUPPORTED ? attention_ref(out, Q, K, V, p) : st;
}
