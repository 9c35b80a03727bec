/* Vulkan flash attention and small ops against the ref kernels on the device (lavapipe here), at
 * awkward sizes, outputs poisoned with NaN.
 *
 * Error thresholds (NMSE against ref):
 * - attention, f32 and f16 K/V: 1e-10. The ref accumulates in double; the shader in f32 with an
 *   online softmax (exp of f32 differences, rescaling per tile of 64 keys). f16 K/V are widened to
 *   f32 exactly (unpackHalf2x16), so no fp16 arithmetic is involved.
 * - rmsnorm, softmax, silu_mul: 1e-10 (f32 arithmetic, different summation order / exp).
 * - add, mul: exact (NMSE 0). rope: 1e-12 (the same cos/sin table as ref, computed on the host in
 *   double; only the f32 rotation remains, possibly fused differently). */
#include <stdlib.h>

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

int main(void)
{
    tv_init();
    RUN(test_attention_decode);
    RUN(test_attention_prefill);
    RUN(test_rmsnorm_softmax);
    RUN(test_rope);
    RUN(test_eltwise);
    tv_finish();
    return test_finish();
}
