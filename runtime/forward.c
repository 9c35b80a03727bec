/* Sessions and the forward pass of a llama/qwen2 transformer, in the spirit of llama2.c's
 * forward(): one readable story from token ids to logits, every step a kernels/ call.
 *
 * A batch of m tokens (positions pos .. pos+m-1) goes through each matmul at once (prefill);
 * decode is the same code with m = 1. The KV cache holds, per layer, K and V rows of every
 * position so far; attention reads it, so a prefix computed once is reused by later batches.
 */
#include "runtime/internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================ session */

static int set_err(sb_session *s, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int set_err(sb_session *s, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return code;
}

const char *sb_session_error(const sb_session *s) { return s ? s->err : "no session"; }
int64_t sb_session_pos(const sb_session *s) { return s ? s->pos : 0; }
int64_t sb_session_n_ctx(const sb_session *s) { return s ? s->n_ctx : 0; }

int sb_session_new(sb_model *m, int64_t n_ctx, sb_session **out, char *err, size_t errlen)
{
    if (!m || !out || n_ctx < 1) {
        if (err && errlen) snprintf(err, errlen, "sb_session_new: bad argument (n_ctx %lld)", (long long)n_ctx);
        return SB_MODEL_E_ARG;
    }
    *out = NULL;
    const sb_hparams *hp = &m->hp;
    uint64_t kv = sb_model_kv_bytes(m, n_ctx);
    if (kv == UINT64_MAX || kv / 2 > SIZE_MAX) {
        if (err && errlen) snprintf(err, errlen, "KV cache for %lld positions overflows", (long long)n_ctx);
        return SB_MODEL_E_HPARAMS;
    }
    sb_session *s = calloc(1, sizeof *s);
    if (!s) goto nomem;
    s->m = m;
    s->n_ctx = n_ctx;
    s->n_batch = n_ctx < SB_MAX_BATCH ? n_ctx : SB_MAX_BATCH;
    s->kv_es = m->kv_type == SB_TYPE_F16 ? 2 : 4;
    if (m->vk) { /* the cache and the activations live on the device */
        int rc = sb_vk_session_init(s, err, errlen);
        if (rc) { sb_session_free(s); return rc; }
        *out = s;
        return SB_MODEL_OK;
    }
    /* calloc: large zeroed blocks come from fresh pages, so an unused context costs no RAM. */
    s->k_cache = calloc(1, (size_t)(kv / 2));
    s->v_cache = calloc(1, (size_t)(kv / 2));
    size_t nb = (size_t)s->n_batch;
    size_t q_dim = (size_t)hp->n_head * (size_t)hp->head_dim;
    size_t kv_dim = (size_t)hp->n_head_kv * (size_t)hp->head_dim;
    s->x = malloc(nb * (size_t)hp->n_embd * sizeof(float));
    s->xb = malloc(nb * (size_t)hp->n_embd * sizeof(float));
    s->xb2 = malloc(nb * (size_t)hp->n_embd * sizeof(float));
    s->q = malloc(nb * q_dim * sizeof(float));
    s->att = malloc(nb * q_dim * sizeof(float));
    s->k = malloc(nb * kv_dim * sizeof(float));
    s->v = malloc(nb * kv_dim * sizeof(float));
    s->hb = malloc(nb * (size_t)hp->n_ff * sizeof(float));
    s->hb2 = malloc(nb * (size_t)hp->n_ff * sizeof(float));
    if (!s->k_cache || !s->v_cache || !s->x || !s->xb || !s->xb2 || !s->q || !s->att || !s->k ||
        !s->v || !s->hb || !s->hb2)
        goto nomem;
    *out = s;
    return SB_MODEL_OK;
nomem:
    sb_session_free(s);
    if (err && errlen) snprintf(err, errlen, "out of memory for a session of %lld positions", (long long)n_ctx);
    return SB_MODEL_E_NOMEM;
}

void sb_session_free(sb_session *s)
{
    if (!s) return;
    sb_vk_session_free(s);
    free(s->k_cache); free(s->v_cache);
    free(s->x); free(s->xb); free(s->xb2); free(s->q); free(s->att);
    free(s->k); free(s->v); free(s->hb); free(s->hb2);
    free(s);
}

int sb_session_truncate(sb_session *s, int64_t pos)
{
    if (!s) return SB_MODEL_E_ARG;
    if (pos < 0 || pos > s->pos)
        return set_err(s, SB_MODEL_E_ARG, "truncate to %lld: the cache holds %lld positions",
                       (long long)pos, (long long)s->pos);
    /* Positions >= pos are simply overwritten by the next eval: attention only reads 0 .. pos+i. */
    s->pos = pos;
    return SB_MODEL_OK;
}

/* ================================================================ the forward pass */

/* Every kernel call goes through TRY: a failure names the call and the layer. */
#define TRY(call) do { int rc_ = (call); \
        if (rc_) return set_err(s, SB_MODEL_E_KERNEL, "layer %d: %s failed: %s", l, #call, sb_kstatus_str(rc_)); \
    } while (0)

/* Y[m×n] = X[m×k]·Wᵀ for a weight of the model. */
static int matmul(const sb_kctx *kc, float *y, const float *x, const sb_weight *w, int64_t m)
{
    return sb_matmul(kc, y, x, w->data, w->type, m, w->rows, w->cols);
}

/* y_i[m×rows_i] = x · w_iᵀ for two or three weights of one input (q/k/v, gate/up; w3 may be
 * NULL): one kernel job, so decode pays one thread hand-off and one preparation of x, not three. */
static int matmul3(const sb_kctx *kc, const float *x, int64_t m, float *y1, const sb_weight *w1, float *y2,
                   const sb_weight *w2, float *y3, const sb_weight *w3)
{
    const sb_matmul_part parts[3] = {
        {y1, w1->data, w1->type, w1->rows},
        {y2, w2->data, w2->type, w2->rows},
        {y3, w3 ? w3->data : NULL, w3 ? w3->type : SB_TYPE_F32, w3 ? w3->rows : 0},
    };
    return sb_matmul_multi(kc, x, m, w1->cols, parts, w3 ? 3 : 2);
}

/* y[r] += b for each of m rows of n (qwen2's QKV biases). */
static int add_bias(const sb_kctx *kc, float *y, const float *b, int64_t m, int64_t n)
{
    for (int64_t r = 0; r < m; r++) {
        int rc = sb_add(kc, y + r * n, y + r * n, b, n);
        if (rc) return rc;
    }
    return SB_KOK;
}

/* x[i] = token_embd[tokens[i]] as f32. The kernels' gather may cover only some formats; the
 * others are dequantized row by row here (ids were range-checked by sb_session_eval). */
static int embed(const sb_kctx *kc, float *x, const sb_weight *e, const int32_t *tokens, int64_t m)
{
    int rc = sb_get_rows(kc, x, e->data, e->type, e->rows, e->cols, tokens, m);
    if (rc != SB_KERR_UNSUPPORTED) return rc;
    size_t rb;
    if ((rc = sb_row_bytes(e->type, e->cols, &rb))) return rc;
    for (int64_t i = 0; i < m; i++)
        if ((rc = sb_dequantize_row(e->type, (const char *)e->data + (size_t)tokens[i] * rb, x + i * e->cols, e->cols)))
            return rc;
    return SB_KOK;
}

/* Copies m rows of kv_dim floats into the cache of layer l at position pos (f32 or f16). */
static void cache_store(sb_session *s, void *cache, int l, const float *src, int64_t m, int64_t kv_dim)
{
    size_t row0 = ((size_t)l * (size_t)s->n_ctx + (size_t)s->pos) * (size_t)kv_dim;
    size_t n = (size_t)m * (size_t)kv_dim;
    if (s->kv_es == 4) {
        memcpy((float *)cache + row0, src, n * sizeof(float));
    } else {
        uint16_t *dst = (uint16_t *)cache + row0;
        for (size_t i = 0; i < n; i++) dst[i] = sb_fp32_to_fp16(src[i]);
    }
}

static const void *cache_layer(const sb_session *s, const void *cache, int l, int64_t kv_dim)
{
    return (const char *)cache + (size_t)l * (size_t)s->n_ctx * (size_t)kv_dim * s->kv_es;
}

/* Runs m tokens (m <= n_batch) at positions pos .. pos+m-1 and appends them to the cache.
 * logits: NULL (none), the last token's (n_vocab) or, with all_logits, every token's (m × n_vocab). */
static int forward(sb_session *s, const int32_t *tokens, int64_t m, float *logits, int all_logits)
{
    const sb_model *md = s->m;
    const sb_hparams *p = &md->hp;
    const sb_kctx *kc = &md->kctx;
    const int64_t embd = p->n_embd, ff = p->n_ff;
    const int64_t q_dim = (int64_t)p->n_head * p->head_dim;
    const int64_t kv_dim = (int64_t)p->n_head_kv * p->head_dim;
    const sb_rope_params rope = {
        .mode = (sb_rope_mode)p->rope_mode, .n_rot = p->n_rot, .freq_base = p->rope_freq_base,
        .freq_scale = p->rope_freq_scale, .freq_factors = md->freq_factors,
    };
    const sb_attn_params ap = {
        .m = m, .pos = s->pos, .n_kv = s->pos + m, .n_head = p->n_head, .n_kv_head = p->n_head_kv,
        .head_dim = p->head_dim, .scale = 1.0f / sqrtf((float)p->head_dim), .kv_type = md->kv_type,
    };
    int l = -1; /* layer, for error messages */

    /* token embeddings: x[i] = token_embd[tokens[i]] */
    TRY(embed(kc, s->x, &md->token_embd, tokens, m));

    for (l = 0; l < p->n_layer; l++) {
        const sb_layer *L = &md->layers[l];

        /* attention: q, k, v of every token of the batch */
        TRY(sb_rmsnorm(kc, s->xb, s->x, L->attn_norm, m, embd, p->rms_eps));
        TRY(matmul3(kc, s->xb, m, s->q, &L->wq, s->k, &L->wk, s->v, &L->wv));
        if (L->bq) TRY(add_bias(kc, s->q, L->bq, m, q_dim));
        if (L->bk) TRY(add_bias(kc, s->k, L->bk, m, kv_dim));
        if (L->bv) TRY(add_bias(kc, s->v, L->bv, m, kv_dim));

        /* rotate q and k by their positions, then append k and v to the cache */
        TRY(sb_rope(kc, s->q, m, p->n_head, p->head_dim, s->pos, &rope));
        TRY(sb_rope(kc, s->k, m, p->n_head_kv, p->head_dim, s->pos, &rope));
        cache_store(s, s->k_cache, l, s->k, m, kv_dim);
        cache_store(s, s->v_cache, l, s->v, m, kv_dim);

        /* causal attention over the cache (positions 0 .. pos+i), output projection, residual */
        TRY(sb_attention(kc, s->att, s->q, cache_layer(s, s->k_cache, l, kv_dim),
                         cache_layer(s, s->v_cache, l, kv_dim), &ap));
        TRY(matmul(kc, s->xb2, s->att, &L->wo, m));
        TRY(sb_add(kc, s->x, s->x, s->xb2, m * embd));

        /* feed-forward (SwiGLU): x += W_down · (silu(W_gate · xb) * (W_up · xb)) */
        TRY(sb_rmsnorm(kc, s->xb, s->x, L->ffn_norm, m, embd, p->rms_eps));
        TRY(matmul3(kc, s->xb, m, s->hb, &L->w_gate, s->hb2, &L->w_up, NULL, NULL));
        TRY(sb_silu_mul(kc, s->hb, s->hb, s->hb2, m * ff));
        TRY(matmul(kc, s->xb2, s->hb, &L->w_down, m));
        TRY(sb_add(kc, s->x, s->x, s->xb2, m * embd));
    }

    /* final norm and the classifier, for every token or the last one only */
    if (logits) {
        int64_t first = all_logits ? 0 : m - 1, rows = m - first;
        TRY(sb_rmsnorm(kc, s->xb, s->x + first * embd, md->output_norm, rows, embd, p->rms_eps));
        TRY(matmul(kc, logits, s->xb, &md->output, rows));
    }
    s->pos += m;
    return SB_MODEL_OK;
}
#undef TRY

int sb_session_eval(sb_session *s, const int32_t *tokens, int64_t n, float *logits, int all_logits)
{
    if (!s) return SB_MODEL_E_ARG;
    if (!tokens || n < 1) return set_err(s, SB_MODEL_E_ARG, "eval: no tokens");
    if (n > s->n_ctx - s->pos)
        return set_err(s, SB_MODEL_E_CONTEXT, "eval of %lld tokens at position %lld exceeds the "
                       "context of %lld", (long long)n, (long long)s->pos, (long long)s->n_ctx);
    const int32_t n_vocab = s->m->hp.n_vocab;
    for (int64_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= n_vocab)
            return set_err(s, SB_MODEL_E_ARG, "token %lld is id %d, outside the vocabulary [0, %d)",
                           (long long)i, tokens[i], n_vocab);
    /* Batches of at most n_batch tokens; only the last one's final row matters for last-token logits. */
    int64_t start = s->pos;
    for (int64_t off = 0; off < n; off += s->n_batch) {
        int64_t mc = n - off < s->n_batch ? n - off : s->n_batch;
        float *out = NULL;
        if (logits && all_logits) out = logits + off * (int64_t)n_vocab;
        else if (logits && off + mc == n) out = logits;
        int rc = s->vks ? sb_vk_forward(s, tokens + off, mc, out, all_logits)
                        : forward(s, tokens + off, mc, out, all_logits);
        if (rc) {
            s->pos = start; /* the cache holds only what it held before */
            return rc;
        }
    }
    return SB_MODEL_OK;
}
