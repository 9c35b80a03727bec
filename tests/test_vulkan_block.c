/* Two llama-style transformer layers on the Vulkan device API, the way a model runtime would run
 * them: quantized weights uploaded once into one buffer (tensors at offsets), activations and an
 * f16 KV cache resident on the device, each eval (a prefill of 5 tokens, then 2 decode steps)
 * recorded as one batch. Compared with the same computation on the host through the ref kernels.
 *
 * Threshold: NMSE 1e-8 on the final hidden states. The host side multiplies with the
 * ref-dequantized weights in f32 (sb_dequantize_row + sb_matmul f32), because the CPU quantized
 * matmul also rounds activations to 8 bits (an intended ~1e-5 difference that would swamp the
 * comparison); both sides round K/V to f16 identically (round to nearest even). What remains is f32
 * summation order through 2 layers (~1e-12), plus the occasional K/V element whose f32 value sits
 * at an f16 rounding boundary and rounds one ulp apart (measured up to ~1e-9 after 3 evals). */
#include <stdlib.h>
#include <string.h>

#include "tests/test_vulkan.h"

enum { EMBD = 256, NH = 4, NKV = 2, HD = 64, FF = 512, NL = 2, CTX = 16, MAXM = 5 };
#define QD (NH * HD)
#define KVD (NKV * HD)

typedef struct wt { sb_type t; int64_t rows, cols; size_t off; void *q; float *f; } wt;
typedef struct layer { float attn_norm[EMBD], ffn_norm[EMBD]; wt wq, wk, wv, wo, gate, up, down; } layer;

static size_t add_weight(wt *w, sb_type t, int64_t rows, int64_t cols, size_t off, uint64_t *seed)
{
    size_t rb = 0;
    sb_row_bytes(t, cols, &rb);
    w->t = t, w->rows = rows, w->cols = cols, w->off = off;
    w->q = malloc(rb * (size_t)rows);
    w->f = malloc(sizeof(float) * (size_t)(rows * cols));
    float *row = malloc(sizeof(float) * (size_t)cols);
    for (int64_t j = 0; j < rows; j++) {
        test_fill_uniform(row, (size_t)cols, -0.2f, 0.2f, seed);
        sb_quantize_row(t, row, (char *)w->q + (size_t)j * rb, cols);
        sb_dequantize_row(t, (char *)w->q + (size_t)j * rb, w->f + j * cols, cols);
    }
    free(row);
    return (off + rb * (size_t)rows + 255) / 256 * 256;
}

/* ---------------------------------------------------------------- host reference */

typedef struct host {
    float x[MAXM * EMBD], xb[MAXM * EMBD], xb2[MAXM * EMBD], q[MAXM * QD], k[MAXM * KVD], v[MAXM * KVD];
    float att[MAXM * QD], hb[MAXM * FF], hb2[MAXM * FF];
    uint16_t kc[NL][CTX * KVD], vc[NL][CTX * KVD];
} host;

static void host_eval(host *h, const layer *L, const float *in, int64_t m, int64_t pos, const sb_rope_params *rp,
                      const sb_attn_params *ap)
{
    const sb_kctx *r = &tv_ref;
    memcpy(h->x, in, sizeof(float) * (size_t)(m * EMBD));
    for (int l = 0; l < NL; l++) {
        sb_rmsnorm(r, h->xb, h->x, L[l].attn_norm, m, EMBD, 1e-5f);
        sb_matmul(r, h->q, h->xb, L[l].wq.f, SB_TYPE_F32, m, QD, EMBD);
        sb_matmul(r, h->k, h->xb, L[l].wk.f, SB_TYPE_F32, m, KVD, EMBD);
        sb_matmul(r, h->v, h->xb, L[l].wv.f, SB_TYPE_F32, m, KVD, EMBD);
        sb_rope(r, h->q, m, NH, HD, pos, rp);
        sb_rope(r, h->k, m, NKV, HD, pos, rp);
        for (int64_t i = 0; i < m * KVD; i++) {
            h->kc[l][pos * KVD + i] = sb_fp32_to_fp16(h->k[i]);
            h->vc[l][pos * KVD + i] = sb_fp32_to_fp16(h->v[i]);
        }
        sb_attention(r, h->att, h->q, h->kc[l], h->vc[l], ap);
        sb_matmul(r, h->xb2, h->att, L[l].wo.f, SB_TYPE_F32, m, EMBD, QD);
        sb_add(r, h->x, h->x, h->xb2, m * EMBD);
        sb_rmsnorm(r, h->xb, h->x, L[l].ffn_norm, m, EMBD, 1e-5f);
        sb_matmul(r, h->hb, h->xb, L[l].gate.f, SB_TYPE_F32, m, FF, EMBD);
        sb_matmul(r, h->hb2, h->xb, L[l].up.f, SB_TYPE_F32, m, FF, EMBD);
        sb_silu_mul(r, h->hb, h->hb, h->hb2, m * FF);
        sb_matmul(r, h->xb2, h->hb, L[l].down.f, SB_TYPE_F32, m, EMBD, FF);
        sb_add(r, h->x, h->x, h->xb2, m * EMBD);
    }
}

/* ---------------------------------------------------------------- device */

/* Activation buffer layout (byte offsets) and the cache buffers. */
enum { A_X = 0, A_XB = A_X + 4 * MAXM * EMBD, A_XB2 = A_XB + 4 * MAXM * EMBD, A_Q = A_XB2 + 4 * MAXM * EMBD,
       A_K = A_Q + 4 * MAXM * QD, A_V = A_K + 4 * MAXM * KVD, A_ATT = A_V + 4 * MAXM * KVD,
       A_HB = A_ATT + 4 * MAXM * QD, A_HB2 = A_HB + 4 * MAXM * FF, A_END = A_HB2 + 4 * MAXM * FF };

typedef struct dev { sb_vk_buf *w, *a, *kc, *vc; } dev;

static int mm(sb_vk *vk, dev *d, size_t y, size_t x, const wt *w, int64_t m)
{
    return sb_vk_op_matmul(vk, (sb_vk_ref){d->a, y}, (sb_vk_ref){d->a, x}, (sb_vk_ref){d->w, w->off}, w->t, m, w->rows,
                           w->cols);
}

static int dev_eval(sb_vk *vk, dev *d, const layer *L, size_t norm_off[NL][2], int64_t m, int64_t pos,
                    const sb_rope_params *rp, const sb_attn_params *ap, sb_vk_timing *tm)
{
    int st = sb_vk_begin(vk);
    sb_vk_ref a = {d->a, 0};
    for (int l = 0; l < NL && !st; l++) {
        size_t kc_l = (size_t)l * CTX * KVD * 2, row = (size_t)pos * KVD * 2;
        sb_vk_ref an = {d->w, norm_off[l][0]}, fn = {d->w, norm_off[l][1]};
        if ((st = sb_vk_op_rmsnorm(vk, (sb_vk_ref){d->a, A_XB}, (sb_vk_ref){d->a, A_X}, an, m, EMBD, 1e-5f)) ||
            (st = mm(vk, d, A_Q, A_XB, &L[l].wq, m)) || (st = mm(vk, d, A_K, A_XB, &L[l].wk, m)) ||
            (st = mm(vk, d, A_V, A_XB, &L[l].wv, m)) ||
            (st = sb_vk_op_rope(vk, (sb_vk_ref){d->a, A_Q}, m, NH, HD, pos, rp)) ||
            (st = sb_vk_op_rope(vk, (sb_vk_ref){d->a, A_K}, m, NKV, HD, pos, rp)) ||
            (st = sb_vk_op_copy(vk, (sb_vk_ref){d->kc, kc_l + row}, SB_TYPE_F16, (sb_vk_ref){d->a, A_K}, m * KVD)) ||
            (st = sb_vk_op_copy(vk, (sb_vk_ref){d->vc, kc_l + row}, SB_TYPE_F16, (sb_vk_ref){d->a, A_V}, m * KVD)) ||
            (st = sb_vk_op_attention(vk, (sb_vk_ref){d->a, A_ATT}, (sb_vk_ref){d->a, A_Q}, (sb_vk_ref){d->kc, kc_l},
                                     (sb_vk_ref){d->vc, kc_l}, ap)) ||
            (st = mm(vk, d, A_XB2, A_ATT, &L[l].wo, m)) ||
            (st = sb_vk_op_add(vk, a, a, (sb_vk_ref){d->a, A_XB2}, m * EMBD)) ||
            (st = sb_vk_op_rmsnorm(vk, (sb_vk_ref){d->a, A_XB}, a, fn, m, EMBD, 1e-5f)) ||
            (st = mm(vk, d, A_HB, A_XB, &L[l].gate, m)) || (st = mm(vk, d, A_HB2, A_XB, &L[l].up, m)) ||
            (st = sb_vk_op_silu_mul(vk, (sb_vk_ref){d->a, A_HB}, (sb_vk_ref){d->a, A_HB}, (sb_vk_ref){d->a, A_HB2}, m * FF)) ||
            (st = mm(vk, d, A_XB2, A_HB, &L[l].down, m)) ||
            (st = sb_vk_op_add(vk, a, a, (sb_vk_ref){d->a, A_XB2}, m * EMBD)))
            break;
    }
    int st2 = sb_vk_submit(vk, tm);
    return st ? st : st2;
}

static void test_two_layers(void)
{
    sb_vk *vk = tv_get();
    if (!vk) return;
    uint64_t seed = 31;
    layer *L = calloc(NL, sizeof *L);
    host *h = calloc(1, sizeof *h);
    size_t off = 0, norm_off[NL][2];
    for (int l = 0; l < NL; l++) {
        test_fill_uniform(L[l].attn_norm, EMBD, 0.5f, 1.5f, &seed);
        test_fill_uniform(L[l].ffn_norm, EMBD, 0.5f, 1.5f, &seed);
        norm_off[l][0] = off, off += 4 * EMBD;
        norm_off[l][1] = off, off += 4 * EMBD;
        off = add_weight(&L[l].wq, SB_TYPE_Q4_K, QD, EMBD, off, &seed);
        off = add_weight(&L[l].wk, SB_TYPE_Q4_K, KVD, EMBD, off, &seed);
        off = add_weight(&L[l].wv, SB_TYPE_Q6_K, KVD, EMBD, off, &seed);
        off = add_weight(&L[l].wo, SB_TYPE_Q4_0, EMBD, QD, off, &seed);
        off = add_weight(&L[l].gate, SB_TYPE_Q5_K, FF, EMBD, off, &seed);
        off = add_weight(&L[l].up, SB_TYPE_Q8_0, FF, EMBD, off, &seed);
        off = add_weight(&L[l].down, SB_TYPE_F16, EMBD, FF, off, &seed);
    }
    dev d = {0};
    CHECK_EQ_INT(sb_vk_buf_create(vk, off, &d.w), SB_KOK);
    CHECK_EQ_INT(sb_vk_buf_create(vk, A_END, &d.a), SB_KOK);
    CHECK_EQ_INT(sb_vk_buf_create(vk, (size_t)NL * CTX * KVD * 2, &d.kc), SB_KOK);
    CHECK_EQ_INT(sb_vk_buf_create(vk, (size_t)NL * CTX * KVD * 2, &d.vc), SB_KOK);
    if (test_failed_now()) return;
    /* weights: uploaded once */
    for (int l = 0; l < NL; l++) {
        CHECK_EQ_INT(sb_vk_buf_upload(vk, d.w, norm_off[l][0], L[l].attn_norm, 4 * EMBD), SB_KOK);
        CHECK_EQ_INT(sb_vk_buf_upload(vk, d.w, norm_off[l][1], L[l].ffn_norm, 4 * EMBD), SB_KOK);
        wt *ws[7] = {&L[l].wq, &L[l].wk, &L[l].wv, &L[l].wo, &L[l].gate, &L[l].up, &L[l].down};
        for (int i = 0; i < 7; i++) {
            size_t rb = 0;
            sb_row_bytes(ws[i]->t, ws[i]->cols, &rb);
            CHECK_EQ_INT(sb_vk_buf_upload(vk, d.w, ws[i]->off, ws[i]->q, rb * (size_t)ws[i]->rows), SB_KOK);
        }
    }
    sb_rope_params rp = {.mode = SB_ROPE_NEOX, .n_rot = HD, .freq_base = 10000, .freq_scale = 1};
    int64_t pos = 0;
    const int64_t steps[3] = {5, 1, 1};
    float in[MAXM * EMBD], got[MAXM * EMBD];
    for (int s = 0; s < 3; s++) {
        int64_t m = steps[s];
        test_fill_uniform(in, (size_t)(m * EMBD), -1, 1, &seed);
        sb_attn_params ap = {.m = m, .pos = pos, .n_kv = pos + m, .n_head = NH, .n_kv_head = NKV, .head_dim = HD,
                             .scale = 0.125f, .kv_type = SB_TYPE_F16};
        host_eval(h, L, in, m, pos, &rp, &ap);
        CHECK_EQ_INT(sb_vk_buf_upload(vk, d.a, A_X, in, sizeof(float) * (size_t)(m * EMBD)), SB_KOK);
        sb_vk_timing tm;
        int st = dev_eval(vk, &d, L, norm_off, m, pos, &rp, &ap, &tm);
        CHECK_MSG(st == SB_KOK, "eval %d: %s (%s)", s, sb_kstatus_str(st), sb_vk_last_error(vk));
        CHECK_EQ_INT(tm.dispatches, NL * 17); /* 17 operations per layer */
        tv_poison(got, (size_t)(m * EMBD));
        CHECK_EQ_INT(sb_vk_buf_download(vk, d.a, A_X, got, sizeof(float) * (size_t)(m * EMBD)), SB_KOK);
        double e = test_nmse(got, h->x, (size_t)(m * EMBD));
        CHECK_MSG(tv_all_finite(got, (size_t)(m * EMBD)) && e <= 1e-8, "eval %d (m %lld at pos %lld): nmse %g", s,
                  (long long)m, (long long)pos, e);
        if (getenv("SB_TEST_VERBOSE"))
            printf("  eval m %lld pos %lld: nmse %.2g, %d dispatches, host %.2f ms device %.2f ms\n", (long long)m,
                   (long long)pos, e, tm.dispatches, tm.host_s * 1e3, tm.device_s * 1e3);
        pos += m;
    }
    sb_vk_buf_free(vk, d.w); sb_vk_buf_free(vk, d.a); sb_vk_buf_free(vk, d.kc); sb_vk_buf_free(vk, d.vc);
    for (int l = 0; l < NL; l++) {
        wt *ws[7] = {&L[l].wq, &L[l].wk, &L[l].wv, &L[l].wo, &L[l].gate, &L[l].up, &L[l].down};
        for (int i = 0; i < 7; i++) { free(ws[i]->q); free(ws[i]->f); }
    }
    free(L);
    free(h);
    tv_check_validation();
}

int main(void)
{
    tv_init();
    RUN(test_two_layers);
    tv_finish();
    return test_finish();
}
