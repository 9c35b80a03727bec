/* The forward pass on the Vulkan back end (kernels/vulkan/vk.h device API).
 *
 * The same story as forward() in runtime/forward.c, step for step, on device tensors: the
 * weights are uploaded once when the model loads, the KV cache and the activations live on the
 * device, and one forward pass is recorded as one batch of dispatches (the device API flushes
 * long batches by itself); only the token ids go up and the logits come down.
 *
 * Limits: the KV cache is f32 (the device API has no f32→f16 store); every tensor must fit in
 * one device buffer (maxStorageBufferRange, 128 MiB on lavapipe), so large vocabularies or long
 * contexts are refused with the tensor named.
 */
#include "runtime/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/vulkan/vk.h"

/* One weight on the device. */
typedef struct vk_weight {
    sb_vk_buf *buf;
    sb_type type;
    int64_t rows, cols;
} vk_weight;

typedef struct vk_layer {
    sb_vk_buf *attn_norm, *ffn_norm;          /* (n_embd) f32                               */
    sb_vk_buf *bq, *bk, *bv;                  /* qwen2 biases or NULL                       */
    vk_weight wq, wk, wv, wo, w_gate, w_up, w_down;
} vk_layer;

struct sb_vk_model {
    sb_vk *vk;
    vk_weight token_embd, output;
    sb_vk_buf *output_norm;
    vk_layer *layers;
};

struct sb_vk_session {
    sb_vk_buf *k_cache, *v_cache; /* per layer: (n_layer) buffers of (n_ctx, kv_dim) f32      */
    sb_vk_buf **k, **v;
    sb_vk_buf *x, *xb, *xb2, *q, *att, *hb, *hb2; /* (n_batch, ·) as in the host session     */
    sb_vk_buf *logits;            /* (n_batch, n_vocab)                                        */
};

static sb_vk_ref at(sb_vk_buf *b, size_t off) { return (sb_vk_ref){b, off}; }

/* ================================================================ model: upload the weights */

static int upload(sb_vk *vk, const char *what, const void *data, size_t bytes, sb_vk_buf **out,
                  char *err, size_t errlen)
{
    *out = NULL;
    if (!data) return SB_MODEL_OK;
    if (sb_vk_buf_create(vk, bytes, out) || sb_vk_buf_upload(vk, *out, 0, data, bytes))
        return sb_rt_fail(err, errlen, SB_MODEL_E_BACKEND, "vulkan: cannot place %s (%.1f MiB) on the device: %s",
                          what, (double)bytes / 1048576.0, sb_vk_last_error(vk));
    return SB_MODEL_OK;
}

static int upload_weight(sb_vk *vk, const char *what, const sb_weight *w, vk_weight *out, char *err, size_t errlen)
{
    size_t rb;
    if (sb_row_bytes(w->type, w->cols, &rb))
        return sb_rt_fail(err, errlen, SB_MODEL_E_SHAPE, "%s: bad row length", what);
    out->type = w->type;
    out->rows = w->rows;
    out->cols = w->cols;
    return upload(vk, what, w->data, rb * (size_t)w->rows, &out->buf, err, errlen);
}

int sb_vk_model_init(sb_model *m, char *err, size_t errlen)
{
    struct sb_vk_model *v = calloc(1, sizeof *v);
    if (!v) return sb_rt_fail(err, errlen, SB_MODEL_E_NOMEM, "out of memory");
    m->vk = v;
    char verr[512];
    int rc = sb_vk_open(NULL, &v->vk, verr, sizeof verr);
    if (rc) return sb_rt_fail(err, errlen, SB_MODEL_E_BACKEND, "back end 'vulkan' is not available: %s", verr);
    const sb_hparams *hp = &m->hp;
    const size_t e4 = (size_t)hp->n_embd * 4;
    const size_t q4 = (size_t)hp->n_head * (size_t)hp->head_dim * 4, kv4 = (size_t)hp->n_head_kv * (size_t)hp->head_dim * 4;
    if ((rc = upload_weight(v->vk, "token_embd.weight", &m->token_embd, &v->token_embd, err, errlen)) ||
        (rc = upload(v->vk, "output_norm.weight", m->output_norm, e4, &v->output_norm, err, errlen)))
        return rc;
    if (hp->tied_output) v->output = v->token_embd;
    else if ((rc = upload_weight(v->vk, "output.weight", &m->output, &v->output, err, errlen))) return rc;
    v->layers = calloc((size_t)hp->n_layer, sizeof *v->layers);
    if (!v->layers) return sb_rt_fail(err, errlen, SB_MODEL_E_NOMEM, "out of memory");
    for (int l = 0; l < hp->n_layer; l++) {
        const sb_layer *L = &m->layers[l];
        vk_layer *D = &v->layers[l];
        char n[64];
        snprintf(n, sizeof n, "block %d", l);
        if ((rc = upload(v->vk, n, L->attn_norm, e4, &D->attn_norm, err, errlen)) ||
            (rc = upload(v->vk, n, L->ffn_norm, e4, &D->ffn_norm, err, errlen)) ||
            (rc = upload(v->vk, n, L->bq, q4, &D->bq, err, errlen)) ||
            (rc = upload(v->vk, n, L->bk, kv4, &D->bk, err, errlen)) ||
            (rc = upload(v->vk, n, L->bv, kv4, &D->bv, err, errlen)) ||
            (rc = upload_weight(v->vk, n, &L->wq, &D->wq, err, errlen)) ||
            (rc = upload_weight(v->vk, n, &L->wk, &D->wk, err, errlen)) ||
            (rc = upload_weight(v->vk, n, &L->wv, &D->wv, err, errlen)) ||
            (rc = upload_weight(v->vk, n, &L->wo, &D->wo, err, errlen)) ||
            (rc = upload_weight(v->vk, n, &L->w_gate, &D->w_gate, err, errlen)) ||
            (rc = upload_weight(v->vk, n, &L->w_up, &D->w_up, err, errlen)) ||
            (rc = upload_weight(v->vk, n, &L->w_down, &D->w_down, err, errlen)))
            return rc;
    }
    return SB_MODEL_OK;
}

const char *sb_vk_model_device(const sb_model *m)
{
    return m && m->vk && m->vk->vk ? sb_vk_device(m->vk->vk)->name : "";
}

void sb_vk_model_free(sb_model *m)
{
    if (!m || !m->vk) return;
    sb_vk_close(m->vk->vk); /* frees every buffer of the context */
    free(m->vk->layers);
    free(m->vk);
    m->vk = NULL;
}

/* ================================================================ session: cache and activations */

int sb_vk_session_init(sb_session *s, char *err, size_t errlen)
{
    const sb_model *m = s->m;
    const sb_hparams *hp = &m->hp;
    sb_vk *vk = m->vk->vk;
    if (m->kv_type != SB_TYPE_F32)
        return sb_rt_fail(err, errlen, SB_MODEL_E_ARG, "the vulkan back end keeps the KV cache in f32 only");
    struct sb_vk_session *d = calloc(1, sizeof *d);
    if (!d) return sb_rt_fail(err, errlen, SB_MODEL_E_NOMEM, "out of memory");
    s->vks = d;
    /* the logits of a batch must fit one device buffer */
    uint64_t range = sb_vk_device(vk)->max_storage_buffer_range;
    uint64_t row = (uint64_t)hp->n_vocab * 4;
    if (range && row * (uint64_t)s->n_batch > range) s->n_batch = (int64_t)(range / row);
    if (s->n_batch < 1)
        return sb_rt_fail(err, errlen, SB_MODEL_E_BACKEND, "vulkan: one row of logits (%d floats) exceeds the "
                          "device's buffer range", hp->n_vocab);
    const size_t nb = (size_t)s->n_batch;
    const size_t q_dim = (size_t)hp->n_head * (size_t)hp->head_dim, kv_dim = (size_t)hp->n_head_kv * (size_t)hp->head_dim;
    d->k = calloc((size_t)hp->n_layer, sizeof *d->k);
    d->v = calloc((size_t)hp->n_layer, sizeof *d->v);
    if (!d->k || !d->v) return sb_rt_fail(err, errlen, SB_MODEL_E_NOMEM, "out of memory");
    const size_t cache_bytes = (size_t)s->n_ctx * kv_dim * 4;
    for (int l = 0; l < hp->n_layer; l++)
        if (sb_vk_buf_create(vk, cache_bytes, &d->k[l]) || sb_vk_buf_create(vk, cache_bytes, &d->v[l]))
            return sb_rt_fail(err, errlen, SB_MODEL_E_MEMORY, "vulkan: cannot place the KV cache of layer %d "
                              "(2 × %.1f MiB for %lld positions) on the device: %s", l,
                              (double)cache_bytes / 1048576.0, (long long)s->n_ctx, sb_vk_last_error(vk));
    if (sb_vk_buf_create(vk, nb * (size_t)hp->n_embd * 4, &d->x) ||
        sb_vk_buf_create(vk, nb * (size_t)hp->n_embd * 4, &d->xb) ||
        sb_vk_buf_create(vk, nb * (size_t)hp->n_embd * 4, &d->xb2) ||
        sb_vk_buf_create(vk, nb * q_dim * 4, &d->q) || sb_vk_buf_create(vk, nb * q_dim * 4, &d->att) ||
        sb_vk_buf_create(vk, nb * (size_t)hp->n_ff * 4, &d->hb) ||
        sb_vk_buf_create(vk, nb * (size_t)hp->n_ff * 4, &d->hb2) ||
        sb_vk_buf_create(vk, nb * (size_t)hp->n_vocab * 4, &d->logits))
        return sb_rt_fail(err, errlen, SB_MODEL_E_MEMORY, "vulkan: cannot place the activations on the device: %s",
                          sb_vk_last_error(vk));
    return SB_MODEL_OK;
}

void sb_vk_session_free(sb_session *s)
{
    if (!s || !s->vks) return;
    struct sb_vk_session *d = s->vks;
    sb_vk *vk = s->m->vk ? s->m->vk->vk : NULL;
    if (vk) {
        for (int l = 0; l < s->m->hp.n_layer; l++) {
            if (d->k) sb_vk_buf_free(vk, d->k[l]);
            if (d->v) sb_vk_buf_free(vk, d->v[l]);
        }
        sb_vk_buf *bufs[] = {d->x, d->xb, d->xb2, d->q, d->att, d->hb, d->hb2, d->logits};
        for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) sb_vk_buf_free(vk, bufs[i]);
    }
    free(d->k);
    free(d->v);
    free(d);
    s->vks = NULL;
}

/* ================================================================ the forward pass */

#define TRY(call) do { int rc_ = (call); if (rc_) { rc = rc_; what = #call; goto fail; } } while (0)

static int vk_matmul(sb_vk *vk, sb_vk_ref y, sb_vk_ref x, const vk_weight *w, int64_t m)
{
    return sb_vk_op_matmul(vk, y, x, at(w->buf, 0), w->type, m, w->rows, w->cols);
}

/* y[r] += b for m rows of n floats starting at y (qwen2's biases). */
static int vk_add_bias(sb_vk *vk, sb_vk_ref y, sb_vk_buf *b, int64_t m, int64_t n)
{
    return sb_vk_op_add_row(vk, y, y, at(b, 0), m, n);
}

int sb_vk_forward(sb_session *s, const int32_t *tokens, int64_t m, float *logits, int all_logits)
{
    const sb_model *md = s->m;
    const sb_hparams *p = &md->hp;
    const struct sb_vk_model *W = md->vk;
    struct sb_vk_session *d = s->vks;
    sb_vk *vk = W->vk;
    const int64_t embd = p->n_embd, ff = p->n_ff;
    const int64_t q_dim = (int64_t)p->n_head * p->head_dim, kv_dim = (int64_t)p->n_head_kv * p->head_dim;
    const size_t here = (size_t)(s->pos * kv_dim) * 4; /* this batch's rows in the caches */
    const sb_rope_params rope = {
        .mode = (sb_rope_mode)p->rope_mode, .n_rot = p->n_rot, .freq_base = p->rope_freq_base,
        .freq_scale = p->rope_freq_scale, .freq_factors = md->freq_factors,
    };
    const sb_attn_params ap = {
        .m = m, .pos = s->pos, .n_kv = s->pos + m, .n_head = p->n_head, .n_kv_head = p->n_head_kv,
        .head_dim = p->head_dim, .scale = 1.0f / sqrtf((float)p->head_dim), .kv_type = SB_TYPE_F32,
    };
    int rc = 0, l = -1;
    const char *what = "";
    int64_t first = all_logits ? 0 : m - 1, rows = m - first;

    TRY(sb_vk_begin(vk));
    /* token embeddings */
    TRY(sb_vk_op_get_rows(vk, at(d->x, 0), at(W->token_embd.buf, 0), W->token_embd.type, p->n_vocab, embd, tokens, m));
    for (l = 0; l < p->n_layer; l++) {
        const vk_layer *L = &W->layers[l];
        sb_vk_ref k_new = at(d->k[l], here), v_new = at(d->v[l], here);

        /* attention: q, and k, v straight into the cache rows of this batch */
        TRY(sb_vk_op_rmsnorm(vk, at(d->xb, 0), at(d->x, 0), at(L->attn_norm, 0), m, embd, p->rms_eps));
        TRY(vk_matmul(vk, at(d->q, 0), at(d->xb, 0), &L->wq, m));
        TRY(vk_matmul(vk, k_new, at(d->xb, 0), &L->wk, m));
        TRY(vk_matmul(vk, v_new, at(d->xb, 0), &L->wv, m));
        if (L->bq) TRY(vk_add_bias(vk, at(d->q, 0), L->bq, m, q_dim));
        if (L->bk) TRY(vk_add_bias(vk, k_new, L->bk, m, kv_dim));
        if (L->bv) TRY(vk_add_bias(vk, v_new, L->bv, m, kv_dim));
        TRY(sb_vk_op_rope(vk, at(d->q, 0), m, p->n_head, p->head_dim, s->pos, &rope));
        TRY(sb_vk_op_rope(vk, k_new, m, p->n_head_kv, p->head_dim, s->pos, &rope));
        TRY(sb_vk_op_attention(vk, at(d->att, 0), at(d->q, 0), at(d->k[l], 0), at(d->v[l], 0), &ap));
        TRY(vk_matmul(vk, at(d->xb2, 0), at(d->att, 0), &L->wo, m));
        TRY(sb_vk_op_add(vk, at(d->x, 0), at(d->x, 0), at(d->xb2, 0), m * embd));

        /* feed-forward (SwiGLU) */
        TRY(sb_vk_op_rmsnorm(vk, at(d->xb, 0), at(d->x, 0), at(L->ffn_norm, 0), m, embd, p->rms_eps));
        TRY(vk_matmul(vk, at(d->hb, 0), at(d->xb, 0), &L->w_gate, m));
        TRY(vk_matmul(vk, at(d->hb2, 0), at(d->xb, 0), &L->w_up, m));
        TRY(sb_vk_op_silu_mul(vk, at(d->hb, 0), at(d->hb, 0), at(d->hb2, 0), m * ff));
        TRY(vk_matmul(vk, at(d->xb2, 0), at(d->hb, 0), &L->w_down, m));
        TRY(sb_vk_op_add(vk, at(d->x, 0), at(d->x, 0), at(d->xb2, 0), m * embd));
    }
    l = -1;
    if (logits) {
        TRY(sb_vk_op_rmsnorm(vk, at(d->xb, 0), at(d->x, (size_t)(first * embd) * 4), at(W->output_norm, 0),
                             rows, embd, p->rms_eps));
        TRY(vk_matmul(vk, at(d->logits, 0), at(d->xb, 0), &W->output, rows));
    }
    TRY(sb_vk_submit(vk, NULL));
    if (logits) TRY(sb_vk_buf_download(vk, d->logits, 0, logits, (size_t)(rows * p->n_vocab) * 4));
    s->pos += m;
    return SB_MODEL_OK;
fail:
    {
        char msg[256];
        snprintf(msg, sizeof msg, "%.255s", sb_vk_last_error(vk));
        sb_vk_submit(vk, NULL); /* closes a batch left open by the failure (no-op error otherwise) */
        snprintf(s->err, sizeof s->err, "vulkan, layer %d: %.60s failed: %.40s (%.255s)", l, what, sb_kstatus_str(rc), msg);
    }
    return SB_MODEL_E_KERNEL;
}
#undef TRY
