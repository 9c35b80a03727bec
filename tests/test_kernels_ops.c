/* Small ops (kernels/ops.c, kernels/cpu/ops_*.c): every op at every supported level against the
 * ref level at awkward sizes, with outputs poisoned with NaN; the ref level against hand-worked
 * values; rope in both layouts with freq_factors; softmax on huge values; get_rows bounds.
 *
 * Error measure: NMSE against ref. SIMD versions differ from ref by summation order and the
 * polynomial e^x (rel. error < 2e-7): NMSE ~1e-14. Threshold 1e-11. */
#include <stdlib.h>

#include "kernels/kernels.h"
#include "tests/test.h"

#define NMSE_MAX 1e-11

static const int64_t sizes[] = {1, 3, 7, 17, 31, 33, 65, 127, 255, 4097};
enum { N_SIZES = sizeof sizes / sizeof sizes[0] };

static void poison(float *y, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = NAN;
}

static sb_kctx ref_ctx(void) { sb_kctx c = {SB_ISA_REF, 1}; return c; }

#define FOR_EACH_LEVEL(ctx)                                                           \
    for (int isa_ = SB_ISA_AVX2; isa_ < SB_ISA_COUNT; isa_++)                          \
        if (sb_isa_supported((sb_isa)isa_))                                            \
            for (sb_kctx ctx = {(sb_isa)isa_, 2}; ctx.n_threads; ctx.n_threads = 0)

static void expect_close(const float *y, const float *ref, int64_t n, const char *what, sb_isa isa, int64_t size)
{
    double e = test_nmse(y, ref, (size_t)n);
    CHECK_MSG(e < NMSE_MAX, "%s %s n=%lld: NMSE %g", what, sb_isa_name(isa), (long long)size, e);
}

static void test_elementwise_ops_match_ref(void)
{
    uint64_t seed = 1;
    sb_kctx rc = ref_ctx();
    for (int si = 0; si < N_SIZES; si++) {
        int64_t n = sizes[si];
        float *a = malloc(sizeof(float) * (size_t)n), *b = malloc(sizeof(float) * (size_t)n);
        float *ref = malloc(sizeof(float) * (size_t)n), *y = malloc(sizeof(float) * (size_t)n);
        test_fill_uniform(a, (size_t)n, -12, 12, &seed);
        test_fill_uniform(b, (size_t)n, -3, 3, &seed);
        FOR_EACH_LEVEL(ctx) {
            poison(ref, n); poison(y, n);
            CHECK_EQ_INT(sb_add(&rc, ref, a, b, n), SB_KOK);
            CHECK_EQ_INT(sb_add(&ctx, y, a, b, n), SB_KOK);
            expect_close(y, ref, n, "add", ctx.isa, n);
            poison(ref, n); poison(y, n);
            CHECK_EQ_INT(sb_mul(&rc, ref, a, b, n), SB_KOK);
            CHECK_EQ_INT(sb_mul(&ctx, y, a, b, n), SB_KOK);
            expect_close(y, ref, n, "mul", ctx.isa, n);
            poison(ref, n); poison(y, n);
            CHECK_EQ_INT(sb_silu_mul(&rc, ref, a, b, n), SB_KOK);
            CHECK_EQ_INT(sb_silu_mul(&ctx, y, a, b, n), SB_KOK);
            expect_close(y, ref, n, "silu_mul", ctx.isa, n);
        }
        /* aliasing: y == a */
        memcpy(y, a, sizeof(float) * (size_t)n);
        sb_kctx dc = {sb_isa_default(), 1};
        CHECK_EQ_INT(sb_add(&dc, y, y, b, n), SB_KOK);
        for (int64_t i = 0; i < n; i++) CHECK(y[i] == a[i] + b[i]);
        free(a); free(b); free(ref); free(y);
    }
}

static void test_silu_ref_values(void)
{
    sb_kctx rc = ref_ctx();
    float g[4] = {0, 1, -100, 100}, u[4] = {2, 2, 2, 2}, y[4];
    CHECK_EQ_INT(sb_silu_mul(&rc, y, g, u, 4), SB_KOK);
    CHECK_NEAR(y[0], 0.0, 0);
    CHECK_NEAR(y[1], 2.0 / (1.0 + exp(-1.0)), 1e-6);
    CHECK_NEAR(y[2], 0.0, 1e-30);
    CHECK_NEAR(y[3], 200.0, 1e-4);
    FOR_EACH_LEVEL(ctx) {
        float z[4];
        CHECK_EQ_INT(sb_silu_mul(&ctx, z, g, u, 4), SB_KOK);
        for (int i = 0; i < 4; i++) CHECK_NEAR(z[i], y[i], 1e-5);
    }
}

static void test_rmsnorm_and_softmax_match_ref(void)
{
    uint64_t seed = 2;
    sb_kctx rc = ref_ctx();
    for (int si = 0; si < N_SIZES; si++) {
        int64_t n = sizes[si], rows = 3, cells = rows * n;
        float *x = malloc(sizeof(float) * (size_t)cells), *w = malloc(sizeof(float) * (size_t)n);
        float *ref = malloc(sizeof(float) * (size_t)cells), *y = malloc(sizeof(float) * (size_t)cells);
        test_fill_uniform(x, (size_t)cells, -5, 5, &seed);
        test_fill_uniform(w, (size_t)n, 0.5f, 1.5f, &seed);
        poison(ref, cells);
        CHECK_EQ_INT(sb_rmsnorm(&rc, ref, x, w, rows, n, 1e-5f), SB_KOK);
        FOR_EACH_LEVEL(ctx) {
            poison(y, cells);
            CHECK_EQ_INT(sb_rmsnorm(&ctx, y, x, w, rows, n, 1e-5f), SB_KOK);
            expect_close(y, ref, cells, "rmsnorm", ctx.isa, n);
        }
        memcpy(ref, x, sizeof(float) * (size_t)cells);
        CHECK_EQ_INT(sb_softmax(&rc, ref, rows, n), SB_KOK);
        FOR_EACH_LEVEL(ctx) {
            memcpy(y, x, sizeof(float) * (size_t)cells);
            CHECK_EQ_INT(sb_softmax(&ctx, y, rows, n), SB_KOK);
            expect_close(y, ref, cells, "softmax", ctx.isa, n);
        }
        for (int64_t r = 0; r < rows; r++) {
            double s = 0;
            for (int64_t i = 0; i < n; i++) s += ref[r * n + i];
            CHECK_NEAR(s, 1.0, 1e-5);
        }
        free(x); free(w); free(ref); free(y);
    }
}

static void test_rmsnorm_ref_values(void)
{
    sb_kctx rc = ref_ctx();
    float x[2] = {3, 4}, w[2] = {1, 2}, y[2];
    CHECK_EQ_INT(sb_rmsnorm(&rc, y, x, w, 1, 2, 0.0f), SB_KOK);
    CHECK_NEAR(y[0], 3 / sqrt(12.5), 1e-6);
    CHECK_NEAR(y[1], 8 / sqrt(12.5), 1e-6);
    /* in place */
    CHECK_EQ_INT(sb_rmsnorm(&rc, x, x, w, 1, 2, 0.0f), SB_KOK);
    CHECK_NEAR(x[1], 8 / sqrt(12.5), 1e-6);
}

static void test_softmax_huge_values_stay_finite(void)
{
    float base[37];
    for (int i = 0; i < 37; i++) base[i] = (i % 3 == 0) ? 3e38f : (i % 3 == 1 ? -3e38f : 1e30f);
    sb_kctx rc = ref_ctx();
    for (int isa = SB_ISA_REF; isa < SB_ISA_COUNT; isa++) {
        if (!sb_isa_supported((sb_isa)isa)) continue;
        sb_kctx ctx = {(sb_isa)isa, 1};
        float x[37];
        memcpy(x, base, sizeof x);
        CHECK_EQ_INT(sb_softmax(isa == SB_ISA_REF ? &rc : &ctx, x, 1, 37), SB_KOK);
        double s = 0;
        for (int i = 0; i < 37; i++) {
            CHECK_MSG(isfinite(x[i]), "%s x[%d] = %g", sb_isa_name((sb_isa)isa), i, x[i]);
            s += x[i];
        }
        CHECK_NEAR(s, 1.0, 1e-6);
        CHECK_NEAR(x[0], 1.0 / 13, 1e-6); /* 13 entries hold the max 3e38 */
        CHECK_NEAR(x[1], 0.0, 0);
    }
}

/* Direct θ computation for one element pair, independent of ops.c's table. */
static void rope_expect(const float *x0, float *out, int head_dim, int n_rot, sb_rope_mode mode,
                        double pos, double base, double scale, const float *ff)
{
    memcpy(out, x0, sizeof(float) * (size_t)head_dim);
    for (int i = 0; i < n_rot / 2; i++) {
        double theta = pos * scale * pow(base, -2.0 * i / n_rot) / (ff ? ff[i] : 1.0);
        int d0 = mode == SB_ROPE_NEOX ? i : 2 * i, d1 = mode == SB_ROPE_NEOX ? i + n_rot / 2 : 2 * i + 1;
        out[d0] = (float)(x0[d0] * cos(theta) - x0[d1] * sin(theta));
        out[d1] = (float)(x0[d0] * sin(theta) + x0[d1] * cos(theta));
    }
}

static void test_rope_both_modes(void)
{
    uint64_t seed = 3;
    const int n_heads = 3;
    static const int dims[][2] = {{64, 64}, {128, 96}, {6, 4}, {80, 80}, {34, 34}};
    for (int mode_i = 0; mode_i < 2; mode_i++) {
        sb_rope_mode mode = mode_i ? SB_ROPE_NEOX : SB_ROPE_NORMAL;
        for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++) {
            int hd = dims[di][0], n_rot = dims[di][1];
            int64_t m = 5, pos0 = 1000, cells = m * n_heads * hd;
            float ff[64];
            for (int i = 0; i < n_rot / 2; i++) ff[i] = 1.0f + (float)i * 0.25f;
            sb_rope_params p = {mode, n_rot, 500000.0f, 0.5f, di % 2 ? ff : NULL};
            float *x = malloc(sizeof(float) * (size_t)cells), *ref = malloc(sizeof(float) * (size_t)cells);
            float *y = malloc(sizeof(float) * (size_t)cells), *want = malloc(sizeof(float) * (size_t)hd);
            test_fill_uniform(x, (size_t)cells, -1, 1, &seed);
            memcpy(ref, x, sizeof(float) * (size_t)cells);
            sb_kctx rc = ref_ctx();
            CHECK_EQ_INT(sb_rope(&rc, ref, m, n_heads, hd, pos0, &p), SB_KOK);
            for (int64_t t = 0; t < m; t++)
                for (int h = 0; h < n_heads; h++) {
                    rope_expect(x + (t * n_heads + h) * hd, want, hd, n_rot, mode, (double)(pos0 + t),
                                500000.0, 0.5, p.freq_factors);
                    for (int d = 0; d < hd; d++)
                        CHECK_NEAR(ref[(t * n_heads + h) * hd + d], want[d], 1e-5);
                }
            FOR_EACH_LEVEL(ctx) {
                memcpy(y, x, sizeof(float) * (size_t)cells);
                CHECK_EQ_INT(sb_rope(&ctx, y, m, n_heads, hd, pos0, &p), SB_KOK);
                expect_close(y, ref, cells, mode ? "rope neox" : "rope normal", ctx.isa, hd);
            }
            free(x); free(ref); free(y); free(want);
        }
    }
}

/* Consecutive calls that differ in one thing only (as a decode step's q and k calls do not):
 * sb_rope keeps the last table, and each call must still match the direct computation, including
 * when the caller changes its freq_factors array in place. */
static void test_rope_repeated_calls(void)
{
    uint64_t seed = 8;
    const int hd = 64, n_rot = 64, n_heads = 2;
    float ff[32], x[2 * 64], y[2 * 64], want[64];
    for (int i = 0; i < 32; i++) ff[i] = 1.0f + (float)i * 0.5f;
    test_fill_uniform(x, 2 * 64, -1, 1, &seed);
    struct { int64_t pos; float base, scale; int mode, with_ff; float ff0; } calls[] = {
        {7, 10000.0f, 1.0f, SB_ROPE_NORMAL, 0, 1.0f}, {7, 10000.0f, 1.0f, SB_ROPE_NORMAL, 0, 1.0f},
        {8, 10000.0f, 1.0f, SB_ROPE_NORMAL, 0, 1.0f}, {8, 500000.0f, 1.0f, SB_ROPE_NORMAL, 0, 1.0f},
        {8, 500000.0f, 0.25f, SB_ROPE_NORMAL, 0, 1.0f}, {8, 500000.0f, 0.25f, SB_ROPE_NEOX, 0, 1.0f},
        {8, 500000.0f, 0.25f, SB_ROPE_NEOX, 1, 1.0f}, {8, 500000.0f, 0.25f, SB_ROPE_NEOX, 1, 3.0f},
        {8, 500000.0f, 0.25f, SB_ROPE_NEOX, 0, 3.0f},
    };
    FOR_EACH_LEVEL(ctx) {
        for (size_t c = 0; c < sizeof calls / sizeof calls[0]; c++) {
            ff[0] = calls[c].ff0; /* the same array, changed in place */
            sb_rope_params p = {(sb_rope_mode)calls[c].mode, n_rot, calls[c].base, calls[c].scale,
                                calls[c].with_ff ? ff : NULL};
            memcpy(y, x, sizeof y);
            CHECK_EQ_INT(sb_rope(&ctx, y, 1, n_heads, hd, calls[c].pos, &p), SB_KOK);
            for (int h = 0; h < n_heads; h++) {
                rope_expect(x + h * hd, want, hd, n_rot, p.mode, (double)calls[c].pos, calls[c].base,
                            calls[c].scale, p.freq_factors);
                for (int d = 0; d < hd; d++)
                    CHECK_MSG(fabsf(y[h * hd + d] - want[d]) < 1e-5f, "%s call %zu: element %d is %g, want %g",
                              sb_isa_name(ctx.isa), c, h * hd + d, y[h * hd + d], want[d]);
            }
        }
    }
}

static void test_rope_position_zero_is_identity_and_bad_params(void)
{
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[8];
    memcpy(y, x, sizeof x);
    sb_kctx ctx = {sb_isa_default(), 1};
    sb_rope_params p = {SB_ROPE_NORMAL, 8, 10000.0f, 1.0f, NULL};
    CHECK_EQ_INT(sb_rope(&ctx, y, 1, 1, 8, 0, &p), SB_KOK);
    for (int i = 0; i < 8; i++) CHECK(y[i] == x[i]);
    p.n_rot = 7;
    CHECK_EQ_INT(sb_rope(&ctx, y, 1, 1, 8, 0, &p), SB_KERR_ARG);
    p.n_rot = 10;
    CHECK_EQ_INT(sb_rope(&ctx, y, 1, 1, 8, 0, &p), SB_KERR_ARG);
    p.n_rot = 8;
    p.freq_base = 0;
    CHECK_EQ_INT(sb_rope(&ctx, y, 1, 1, 8, 0, &p), SB_KERR_ARG);
    p.freq_base = 10000.0f;
    p.mode = (sb_rope_mode)1;
    CHECK_EQ_INT(sb_rope(&ctx, y, 1, 1, 8, 0, &p), SB_KERR_ARG);
}

static void test_get_rows(void)
{
    enum { ROWS = 5, COLS = 37 };
    float table[ROWS * COLS];
    uint16_t table_h[ROWS * COLS];
    for (int i = 0; i < ROWS * COLS; i++) {
        table[i] = (float)i * 0.5f - 20.0f; /* exact in half precision */
        table_h[i] = sb_fp32_to_fp16(table[i]);
    }
    int32_t ids[4] = {4, 0, 2, 4};
    float y[4 * COLS];
    for (int isa = SB_ISA_REF; isa < SB_ISA_COUNT; isa++) {
        if (!sb_isa_supported((sb_isa)isa)) continue;
        sb_kctx ctx = {(sb_isa)isa, 1};
        for (int t = 0; t < 2; t++) {
            poison(y, 4 * COLS);
            CHECK_EQ_INT(sb_get_rows(&ctx, y, t ? (const void *)table_h : table, t ? SB_TYPE_F16 : SB_TYPE_F32,
                                     ROWS, COLS, ids, 4), SB_KOK);
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < COLS; j++) CHECK(y[i * COLS + j] == table[ids[i] * COLS + j]);
        }
        int32_t bad[2] = {1, ROWS};
        CHECK_EQ_INT(sb_get_rows(&ctx, y, table, SB_TYPE_F32, ROWS, COLS, bad, 2), SB_KERR_ARG);
        bad[1] = -1;
        CHECK_EQ_INT(sb_get_rows(&ctx, y, table, SB_TYPE_F32, ROWS, COLS, bad, 2), SB_KERR_ARG);
        CHECK_EQ_INT(sb_get_rows(&ctx, y, table, SB_TYPE_F32, ROWS, COLS, NULL, 2), SB_KERR_ARG);
    }
}

/* Quantized tables: each gathered row equals sb_dequantize_row of that row. */
static void test_get_rows_quantized(void)
{
    static const sb_type types[] = {SB_TYPE_BF16, SB_TYPE_Q8_0, SB_TYPE_Q4_0, SB_TYPE_Q4_K, SB_TYPE_Q5_K, SB_TYPE_Q6_K};
    enum { ROWS = 3, COLS = 512 };
    uint64_t seed = 8;
    float src[ROWS * COLS], want[COLS], y[2 * COLS];
    test_fill_uniform(src, ROWS * COLS, -1, 1, &seed);
    sb_kctx ctx = {sb_isa_default(), 1};
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        size_t rb = 0;
        CHECK_EQ_INT(sb_row_bytes(types[ti], COLS, &rb), SB_KOK);
        unsigned char *q = malloc(rb * ROWS);
        for (int r = 0; r < ROWS; r++) CHECK_EQ_INT(sb_quantize_row(types[ti], src + r * COLS, q + rb * r, COLS), SB_KOK);
        int32_t ids[2] = {2, 0};
        poison(y, 2 * COLS);
        CHECK_EQ_INT(sb_get_rows(&ctx, y, q, types[ti], ROWS, COLS, ids, 2), SB_KOK);
        for (int i = 0; i < 2; i++) {
            CHECK_EQ_INT(sb_dequantize_row(types[ti], q + rb * (size_t)ids[i], want, COLS), SB_KOK);
            CHECK_MSG(memcmp(want, y + i * COLS, sizeof want) == 0, "%s row %d", sb_type_name(types[ti]), ids[i]);
        }
        free(q);
    }
    /* 100 columns is not a whole number of 32-element blocks */
    int32_t id0 = 0;
    CHECK_EQ_INT(sb_get_rows(&ctx, y, src, SB_TYPE_Q8_0, 1, 100, &id0, 1), SB_KERR_SHAPE);
    CHECK_EQ_INT(sb_get_rows(&ctx, y, src, SB_TYPE_Q8_K, 1, 256, &id0, 1), SB_KERR_UNSUPPORTED);
}

static void test_bad_args(void)
{
    float x[4] = {0};
    sb_kctx ctx = {sb_isa_default(), 1};
    CHECK_EQ_INT(sb_rmsnorm(&ctx, x, x, NULL, 1, 4, 1e-5f), SB_KERR_ARG);
    CHECK_EQ_INT(sb_rmsnorm(&ctx, x, x, x, 1, 0, 1e-5f), SB_KERR_ARG);
    CHECK_EQ_INT(sb_rmsnorm(&ctx, x, x, x, 1, 4, -1.0f), SB_KERR_ARG);
    CHECK_EQ_INT(sb_softmax(&ctx, x, -1, 4), SB_KERR_ARG);
    CHECK_EQ_INT(sb_softmax(NULL, x, 1, 4), SB_KERR_ARG);
    CHECK_EQ_INT(sb_add(&ctx, x, x, NULL, 4), SB_KERR_ARG);
    CHECK_EQ_INT(sb_mul(&ctx, x, x, x, -4), SB_KERR_ARG);
    CHECK_EQ_INT(sb_silu_mul(&ctx, NULL, x, x, 4), SB_KERR_ARG);
    sb_kctx bad = {(sb_isa)99, 1};
    CHECK_EQ_INT(sb_add(&bad, x, x, x, 4), SB_KERR_ARG);
}

static void test_cpu_has(void)
{
    CHECK_EQ_INT(sb_cpu_has(NULL), 0);
    CHECK_EQ_INT(sb_cpu_has("no-such-feature"), 0);
    /* a level implies its features */
    if (sb_isa_supported(SB_ISA_AVX2)) CHECK(sb_cpu_has("avx2") && sb_cpu_has("fma") && sb_cpu_has("f16c"));
    if (sb_isa_supported(SB_ISA_AVX512)) CHECK(sb_cpu_has("avx512f") && sb_cpu_has("avx512bw"));
    int v = sb_cpu_has("avx512vnni");
    CHECK(v == 0 || v == 1);
}

int main(void)
{
    RUN(test_elementwise_ops_match_ref);
    RUN(test_silu_ref_values);
    RUN(test_rmsnorm_and_softmax_match_ref);
    RUN(test_rmsnorm_ref_values);
    RUN(test_softmax_huge_values_stay_finite);
    RUN(test_rope_both_modes);
    RUN(test_rope_repeated_calls);
    RUN(test_rope_position_zero_is_identity_and_bad_params);
    RUN(test_get_rows);
    RUN(test_get_rows_quantized);
    RUN(test_bad_args);
    RUN(test_cpu_has);
    return test_finish();
}
