/* Vulkan flash attention and small ops against the ref kernels on the device (lavapipe here), at
 * awkward sizes, outputs poisoned with NaN.
 *
 * Error thresholds (NMSE against ref):
 * - attention, f32 and f16 K/V: 1e-10. The ref accumulates in double; the shader in f32 with an
 *   online softmax (exp of f32 differences, rescaling per tile of 64 keys; long caches with few
 *   query×heads are split into parts merged by fa_combine). f16 K/V are widened to f32 exactly
 *   (unpackHalf2x16), so no fp16 arithmetic is involved.
 * - rmsnorm, softmax, silu_mul: 1e-10 (f32 arithmetic, different summation order / exp).
 * - add, mul: exact (NMSE 0). rope: 1e-12 (the same cos/sin table as ref, computed on the host in
 *   double; only the f32 rotation remains, possibly fused differently). */
#include <stdlib.h>
#include <string.h>

#include "tests/test_vulkan.h"

static uint16_t *to_f16(const float *x, size_t n)
{
    uint16_t *h = malloc(n * 2 + 2);
    for (size_t i = 0; i < n; i++) h[i] = sb_fp32_to_fp16(x[i]);
    return h;
}

static void check_attention(sb_vk *vk, int64_t m, int64_t pos, int64_t n_kv, int n_head, int n_kv_head, int hd,
                            sb_type kvt, uint64_t *seed)
{
    sb_attn_params p = {.m = m, .pos = pos, .n_kv = n_kv, .n_head = n_head, .n_kv_head = n_kv_head,
                        .head_dim = hd, .scale = 1.0f / sqrtf((float)hd), .kv_type = kvt};
    size_t nq = (size_t)(m * n_head * hd), nkv = (size_t)(n_kv * n_kv_head * hd);
    float *Q = malloc(nq * 4), *K = malloc(nkv * 4), *V = malloc(nkv * 4), *out = malloc(nq * 4), *want = malloc(nq * 4);
    test_fill_uniform(Q, nq, -2, 2, seed);
    test_fill_uniform(K, nkv, -2, 2, seed);
    test_fill_uniform(V, nkv, -1, 1, seed);
    const void *Kp = K, *Vp = V;
    uint16_t *Kh = NULL, *Vh = NULL;
    if (kvt == SB_TYPE_F16) {
        Kp = Kh = to_f16(K, nkv);
        Vp = Vh = to_f16(V, nkv);
    }
    CHECK_EQ_INT(sb_attention(&tv_ref, want, Q, Kp, Vp, &p), SB_KOK);
    tv_poison(out, nq);
    sb_vk_timing tm;
    int st = sb_vk_attention(vk, out, Q, Kp, Vp, &p, &tm);
    double e = test_nmse(out, want, nq);
    CHECK_MSG(st == SB_KOK && tv_all_finite(out, nq) && e <= 1e-10,
              "%s m %lld pos %lld n_kv %lld heads %d/%d hd %d: status %d (%s) nmse %.3g", sb_type_name(kvt), (long long)m,
              (long long)pos, (long long)n_kv, n_head, n_kv_head, hd, st, sb_vk_last_error(vk), e);
    if (getenv("SB_TEST_VERBOSE"))
        printf("  %s m %lld pos %lld n_kv %lld heads %d/%d hd %d: nmse %.2g host %.2f ms device %.2f ms\n", sb_type_name(kvt),
               (long long)m, (long long)pos, (long long)n_kv, n_head, n_kv_head, hd, e, tm.host_s * 1e3, tm.device_s * 1e3);
    free(Q); free(K); free(V); free(out); free(want); free(Kh); free(Vh);
}

static void test_attention_decode(void)
{
    sb_vk *vk = tv_get();
    if (!vk) return;
    uint64_t seed = 21;
    /* KV lengths around the 64-key tile: 1, 63, 64, 65, 200, 1000 (cache longer than needed too) */
    static const int64_t kv[] = {1, 63, 64, 65, 200, 1000};
    for (int i = 0; i < 6; i++) {
        sb_type t = i % 2 ? SB_TYPE_F16 : SB_TYPE_F32;
        check_attention(vk, 1, kv[i] - 1, kv[i] + (i == 4 ? 7 : 0), 4, i < 3 ? 4 : 2, i == 5 ? 128 : 64 + 8 * i, t, &seed);
    }
    check_attention(vk, 1, 99, 100, 2, 1, 256, SB_TYPE_F16, &seed); /* widest head */
    /* split-K (flash-decoding) path: few query×heads over >= 512 keys; parts end mid-tile, and
     * with a cache longer than the positions in use some parts hold no keys at all */
    check_attention(vk, 1, 2999, 3000, 2, 1, 64, SB_TYPE_F32, &seed);
    check_attention(vk, 2, 300, 1000, 4, 2, 40, SB_TYPE_F16, &seed);
    check_attention(vk, 3, 600, 700, 8, 4, 32, SB_TYPE_F32, &seed);
    check_attention(vk, 1, 30, 31, 3, 3, 7, SB_TYPE_F32, &seed);    /* odd head_dim */
    tv_check_validation();
}

static void test_attention_prefill(void)
{
    sb_vk *vk = tv_get();
    if (!vk) return;
    uint64_t seed = 22;
    check_attention(vk, 17, 0, 17, 4, 2, 32, SB_TYPE_F32, &seed);
    check_attention(vk, 65, 0, 65, 2, 1, 64, SB_TYPE_F16, &seed);
    check_attention(vk, 33, 40, 80, 6, 2, 48, SB_TYPE_F32, &seed); /* continuing after a cached prefix */
    check_attention(vk, 3, 127, 130, 8, 8, 16, SB_TYPE_F16, &seed);
    tv_check_validation();
}

static void test_rmsnorm_softmax(void)
{
    sb_vk *vk = tv_get();
    if (!vk) return;
    uint64_t seed = 23;
    static const int64_t rows[] = {1, 3, 7, 65}, ns[] = {1, 33, 255, 4097};
    for (int c = 0; c < 4; c++) {
        int64_t r = rows[c], n = ns[(c + 1) % 4];
        size_t cnt = (size_t)(r * n);
        float *x = malloc(cnt * 4), *w = malloc((size_t)n * 4), *y = malloc(cnt * 4), *want = malloc(cnt * 4);
        test_fill_uniform(x, cnt, -3, 3, &seed);
        test_fill_uniform(w, (size_t)n, -1, 1, &seed);
        CHECK_EQ_INT(sb_rmsnorm(&tv_ref, want, x, w, r, n, 1e-6f), SB_KOK);
        tv_poison(y, cnt);
        int st = sb_vk_rmsnorm(vk, y, x, w, r, n, 1e-6f, NULL);
        double e = test_nmse(y, want, cnt);
        CHECK_MSG(st == SB_KOK && tv_all_finite(y, cnt) && e <= 1e-10, "rmsnorm %lld×%lld: status %d nmse %g", (long long)r,
                  (long long)n, st, e);
        memcpy(want, x, cnt * 4);
        memcpy(y, x, cnt * 4);
        CHECK_EQ_INT(sb_softmax(&tv_ref, want, r, n), SB_KOK);
        st = sb_vk_softmax(vk, y, r, n, NULL);
        e = test_nmse(y, want, cnt);
        CHECK_MSG(st == SB_KOK && tv_all_finite(y, cnt) && e <= 1e-10, "softmax %lld×%lld: status %d nmse %g", (long long)r,
                  (long long)n, st, e);
        free(x); free(w); free(y); free(want);
    }
    tv_check_validation();
}

static void test_rope(void)
{
    sb_vk *vk = tv_get();
    if (!vk) return;
    uint64_t seed = 24;
    float ff[32];
    for (int i = 0; i < 32; i++) ff[i] = 1.0f + 0.25f * (float)(i % 5);
    struct { int64_t m, pos0; int n_heads, head_dim, n_rot; sb_rope_mode mode; float base, scale; const float *ff; } cs[] = {
        {1, 0, 1, 2, 2, SB_ROPE_NORMAL, 10000, 1, NULL},
        {3, 5, 4, 64, 64, SB_ROPE_NORMAL, 10000, 1, NULL},
        {7, 1000, 3, 64, 64, SB_ROPE_NEOX, 1000000, 1, NULL},
        {5, 4090, 2, 128, 64, SB_ROPE_NEOX, 500000, 0.25f, ff},  /* partial rotation, scaling, factors */
        {17, 30, 5, 48, 32, SB_ROPE_NORMAL, 10000, 1, ff},
    };
    for (size_t c = 0; c < sizeof cs / sizeof cs[0]; c++) {
        sb_rope_params p = {.mode = cs[c].mode, .n_rot = cs[c].n_rot, .freq_base = cs[c].base,
                            .freq_scale = cs[c].scale, .freq_factors = cs[c].ff};
        size_t cnt = (size_t)(cs[c].m * cs[c].n_heads * cs[c].head_dim);
        float *x = malloc(cnt * 4), *want = malloc(cnt * 4);
        test_fill_uniform(x, cnt, -1, 1, &seed);
        memcpy(want, x, cnt * 4);
        CHECK_EQ_INT(sb_rope(&tv_ref, want, cs[c].m, cs[c].n_heads, cs[c].head_dim, cs[c].pos0, &p), SB_KOK);
        int st = sb_vk_rope(vk, x, cs[c].m, cs[c].n_heads, cs[c].head_dim, cs[c].pos0, &p, NULL);
        double e = test_nmse(x, want, cnt);
        CHECK_MSG(st == SB_KOK && tv_all_finite(x, cnt) && e <= 1e-12, "rope case %zu: status %d (%s) nmse %g", c, st,
                  sb_vk_last_error(vk), e);
        free(x); free(want);
    }
    tv_check_validation();
}

static void test_eltwise(void)
{
    sb_vk *vk = tv_get();
    if (!vk) return;
    uint64_t seed = 25;
    static const int64_t ns[] = {1, 7, 255, 4097, 70001};
    for (int c = 0; c < 5; c++) {
        int64_t n = ns[c];
        float *a = malloc((size_t)n * 4), *b = malloc((size_t)n * 4), *y = malloc((size_t)n * 4), *want = malloc((size_t)n * 4);
        test_fill_uniform(a, (size_t)n, -6, 6, &seed);
        test_fill_uniform(b, (size_t)n, -2, 2, &seed);
        for (int op = 0; op < 3; op++) {
            int st;
            tv_poison(y, (size_t)n);
            if (op == 0) {
                sb_add(&tv_ref, want, a, b, n);
                st = sb_vk_add(vk, y, a, b, n, NULL);
            } else if (op == 1) {
                sb_mul(&tv_ref, want, a, b, n);
                st = sb_vk_mul(vk, y, a, b, n, NULL);
            } else {
                sb_silu_mul(&tv_ref, want, a, b, n);
                st = sb_vk_silu_mul(vk, y, a, b, n, NULL);
            }
            double e = test_nmse(y, want, (size_t)n);
            CHECK_MSG(st == SB_KOK && tv_all_finite(y, (size_t)n) && e <= (op == 2 ? 1e-10 : 0),
                      "op %d n %lld: status %d nmse %g", op, (long long)n, st, e);
        }
        free(a); free(b); free(y); free(want);
    }
    tv_check_validation();
}

/* A bias row broadcast over rows, in place, against sb_add row by row. */
static void test_add_row(void)
{
    sb_vk *vk = tv_get();
    if (!vk) return;
    uint64_t seed = 28;
    const int64_t rows = 7, n = 129;
    float x[7 * 129], bias[129], want[7 * 129], got[7 * 129];
    test_fill_uniform(x, (size_t)(rows * n), -1, 1, &seed);
    test_fill_uniform(bias, (size_t)n, -1, 1, &seed);
    for (int64_t r = 0; r < rows; r++) sb_add(&tv_ref, want + r * n, x + r * n, bias, n);
    sb_vk_buf *b;
    CHECK_EQ_INT(sb_vk_buf_create(vk, sizeof x + sizeof bias, &b), SB_KOK);
    CHECK_EQ_INT(sb_vk_buf_upload(vk, b, 0, x, sizeof x), SB_KOK);
    CHECK_EQ_INT(sb_vk_buf_upload(vk, b, sizeof x, bias, sizeof bias), SB_KOK);
    CHECK_EQ_INT(sb_vk_begin(vk), SB_KOK);
    CHECK_EQ_INT(sb_vk_op_add_row(vk, (sb_vk_ref){b, 0}, (sb_vk_ref){b, 0}, (sb_vk_ref){b, sizeof x}, rows, n), SB_KOK);
    CHECK_EQ_INT(sb_vk_op_add_row(vk, (sb_vk_ref){b, 0}, (sb_vk_ref){b, 0}, (sb_vk_ref){b, sizeof x}, rows + 2, n), SB_KERR_ARG);
    CHECK_EQ_INT(sb_vk_submit(vk, NULL), SB_KOK);
    tv_poison(got, (size_t)(rows * n));
    CHECK_EQ_INT(sb_vk_buf_download(vk, b, 0, got, sizeof got), SB_KOK);
    CHECK(test_nmse(got, want, (size_t)(rows * n)) == 0);
    sb_vk_buf_free(vk, b);
    tv_check_validation();
}

/* f32 → f16/f32 copies at offsets, odd lengths; the neighbouring halves stay untouched. */
static void test_copy(void)
{
    sb_vk *vk = tv_get();
    if (!vk) return;
    uint64_t seed = 26;
    const int64_t n = 333;
    float src[333];
    test_fill_uniform(src, (size_t)n, -70000, 70000, &seed); /* beyond the f16 range too */
    src[0] = 1.0f / 3.0f; src[1] = 65519.0f; src[2] = -0.0f; src[3] = 6e-8f;
    uint16_t want[340], got[340];
    for (int i = 0; i < 340; i++) want[i] = 0xBEEF;
    for (int64_t i = 0; i < n; i++) want[2 + i] = sb_fp32_to_fp16(src[i]);
    sb_vk_buf *b;
    CHECK_EQ_INT(sb_vk_buf_create(vk, 8192, &b), SB_KOK);
    uint16_t fill[340];
    for (int i = 0; i < 340; i++) fill[i] = 0xBEEF;
    CHECK_EQ_INT(sb_vk_buf_upload(vk, b, 0, fill, sizeof fill), SB_KOK);
    CHECK_EQ_INT(sb_vk_buf_upload(vk, b, 2048, src, sizeof src), SB_KOK);
    CHECK_EQ_INT(sb_vk_begin(vk), SB_KOK);
    CHECK_EQ_INT(sb_vk_op_copy(vk, (sb_vk_ref){b, 4}, SB_TYPE_F16, (sb_vk_ref){b, 2048}, n), SB_KOK);
    CHECK_EQ_INT(sb_vk_op_copy(vk, (sb_vk_ref){b, 4096}, SB_TYPE_F32, (sb_vk_ref){b, 2048}, n), SB_KOK);
    CHECK_EQ_INT(sb_vk_op_copy(vk, (sb_vk_ref){b, 1024}, SB_TYPE_Q8_0, (sb_vk_ref){b, 2048}, n), SB_KERR_UNSUPPORTED);
    CHECK_EQ_INT(sb_vk_submit(vk, NULL), SB_KOK);
    CHECK_EQ_INT(sb_vk_buf_download(vk, b, 0, got, sizeof got), SB_KOK);
    int bad = 0;
    for (int i = 0; i < 340; i++)
        if (got[i] != want[i] && bad++ < 5) CHECK_MSG(0, "half %d: got %04x want %04x", i, got[i], want[i]);
    float back[333];
    CHECK_EQ_INT(sb_vk_buf_download(vk, b, 4096, back, sizeof back), SB_KOK);
    CHECK(memcmp(back, src, sizeof src) == 0);
    sb_vk_buf_free(vk, b);
    tv_check_validation();
}

/* One decode step as a runtime would record it: write the new K/V row into an f16 cache on the
 * device, then attend, in one batch; against ref on the same f16 cache. */
static void test_decode_step(void)
{
    sb_vk *vk = tv_get();
    if (!vk) return;
    uint64_t seed = 27;
    const int n_head = 4, n_kv_head = 2, hd = 32;
    const int64_t ctx = 50, pos = 37, row = n_kv_head * hd;
    float *K = malloc(sizeof(float) * ctx * row), *V = malloc(sizeof(float) * ctx * row), q[4 * 32], out[4 * 32], want[4 * 32];
    test_fill_uniform(K, (size_t)(ctx * row), -1, 1, &seed);
    test_fill_uniform(V, (size_t)(ctx * row), -1, 1, &seed);
    test_fill_uniform(q, (size_t)(n_head * hd), -1, 1, &seed);
    uint16_t *Kh = to_f16(K, (size_t)(ctx * row)), *Vh = to_f16(V, (size_t)(ctx * row));
    sb_vk_buf *kc, *vc, *act;
    CHECK_EQ_INT(sb_vk_buf_create(vk, (size_t)(ctx * row * 2), &kc), SB_KOK);
    CHECK_EQ_INT(sb_vk_buf_create(vk, (size_t)(ctx * row * 2), &vc), SB_KOK);
    CHECK_EQ_INT(sb_vk_buf_create(vk, sizeof(float) * (size_t)(2 * row + 2 * n_head * hd), &act), SB_KOK);
    /* the cache holds rows 0..pos-1; row pos arrives as f32 activations */
    CHECK_EQ_INT(sb_vk_buf_upload(vk, kc, 0, Kh, (size_t)(pos * row * 2)), SB_KOK);
    CHECK_EQ_INT(sb_vk_buf_upload(vk, vc, 0, Vh, (size_t)(pos * row * 2)), SB_KOK);
    CHECK_EQ_INT(sb_vk_buf_upload(vk, act, 0, K + pos * row, sizeof(float) * (size_t)row), SB_KOK);
    CHECK_EQ_INT(sb_vk_buf_upload(vk, act, sizeof(float) * (size_t)row, V + pos * row, sizeof(float) * (size_t)row), SB_KOK);
    size_t q_off = sizeof(float) * (size_t)(2 * row), o_off = q_off + sizeof(float) * (size_t)(n_head * hd);
    CHECK_EQ_INT(sb_vk_buf_upload(vk, act, q_off, q, sizeof q), SB_KOK);
    sb_attn_params p = {.m = 1, .pos = pos, .n_kv = pos + 1, .n_head = n_head, .n_kv_head = n_kv_head, .head_dim = hd,
                        .scale = 1.0f / sqrtf((float)hd), .kv_type = SB_TYPE_F16};
    CHECK_EQ_INT(sb_vk_begin(vk), SB_KOK);
    CHECK_EQ_INT(sb_vk_op_copy(vk, (sb_vk_ref){kc, (size_t)(pos * row * 2)}, SB_TYPE_F16, (sb_vk_ref){act, 0}, row), SB_KOK);
    CHECK_EQ_INT(sb_vk_op_copy(vk, (sb_vk_ref){vc, (size_t)(pos * row * 2)}, SB_TYPE_F16,
                               (sb_vk_ref){act, sizeof(float) * (size_t)row}, row), SB_KOK);
    CHECK_EQ_INT(sb_vk_op_attention(vk, (sb_vk_ref){act, o_off}, (sb_vk_ref){act, q_off}, (sb_vk_ref){kc, 0},
                                    (sb_vk_ref){vc, 0}, &p), SB_KOK);
    CHECK_EQ_INT(sb_vk_submit(vk, NULL), SB_KOK);
    tv_poison(out, (size_t)(n_head * hd));
    CHECK_EQ_INT(sb_vk_buf_download(vk, act, o_off, out, sizeof out), SB_KOK);
    CHECK_EQ_INT(sb_attention(&tv_ref, want, q, Kh, Vh, &p), SB_KOK);
    double e = test_nmse(out, want, (size_t)(n_head * hd));
    CHECK_MSG(tv_all_finite(out, (size_t)(n_head * hd)) && e <= 1e-10, "decode step nmse %g", e);
    sb_vk_buf_free(vk, kc); sb_vk_buf_free(vk, vc); sb_vk_buf_free(vk, act);
    free(K); free(V); free(Kh); free(Vh);
    tv_check_validation();
}

int main(void)
{
    tv_init();
    RUN(test_attention_decode);
    RUN(test_attention_prefill);
    RUN(test_rmsnorm_softmax);
    RUN(test_rope);
    RUN(test_eltwise);
    RUN(test_add_row);
    RUN(test_copy);
    RUN(test_decode_step);
    if (tv_switch_to_portable()) {
        printf("# again on the portable (shared-memory) shader variants\n");
        RUN(test_attention_decode);
        RUN(test_attention_prefill);
        RUN(test_rmsnorm_softmax);
    }
    tv_finish();
    return test_finish();
}
