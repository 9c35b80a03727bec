/* sb_matmul: argument checks, the reference against an f64 product of the dequantized weights,
 * and every optimized (format, ISA level, thread count) against the reference at awkward sizes
 * with NaN-poisoned outputs.
 *
 * Error thresholds (NMSE against the reference, stated per format):
 * - optimized vs ref: f32/f16 1e-10 (only the summation order differs); bf16 1e-5 (the AVX-512
 *   BF16 row-dot path, used for 2 <= m < 32, rounds X to bf16: relative error ≤ 2^-9 per element,
 *   NMSE ≈ 1e-6);
 *   q8_0/q4_0/q4_K/q5_K/q6_K 1e-9 (both quantize X identically and sum the same integers; only
 *   the float accumulation order differs).
 * - ref vs f64 product of dequantized weights and exact X: f32/f16/bf16 1e-10 (f32
 *   accumulation); quantized formats 1e-4 (X quantized to 8 bits: NMSE ≈ (1/127)²/4·spread). */
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/matmul_impl.h" /* white-box: the SIMD activation quantizers */
#include "tests/test.h"

static const sb_type all_types[] = {SB_TYPE_F32,  SB_TYPE_F16,  SB_TYPE_BF16, SB_TYPE_Q8_0,
                                    SB_TYPE_Q4_0, SB_TYPE_Q4_K, SB_TYPE_Q5_K, SB_TYPE_Q6_K};

static double opt_threshold(sb_type t)
{
    switch (t) {
    case SB_TYPE_F32:
    case SB_TYPE_F16: return 1e-10;
    case SB_TYPE_BF16: return 1e-5;
    default: return 1e-9;
    }
}

/* A random n×k weight matrix in format t (quantized from uniform [-1, 1) values). */
static void *make_weights(sb_type t, int64_t n, int64_t k, uint64_t *seed)
{
    size_t rb = 0;
    if (sb_row_bytes(t, k, &rb) != SB_KOK) return NULL;
    uint8_t *w = malloc(rb * (size_t)n + 1);
    float *row = malloc((size_t)k * sizeof(float) + 1);
    for (int64_t j = 0; j < n; j++) {
        test_fill_uniform(row, (size_t)k, -1, 1, seed);
        sb_quantize_row(t, row, w + (size_t)j * rb, k);
    }
    free(row);
    return w;
}

static void poison(float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = NAN;
}

static int all_finite(const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(y[i])) return 0;
    return 1;
}

/* ---------------------------------------------------------------- arguments */

static void test_matmul_bad_args(void)
{
    sb_kctx ctx = {SB_ISA_REF, 1};
    float x[512] = {0}, y[64];
    uint8_t w[4096] = {0};
    CHECK_EQ_INT(sb_matmul(NULL, y, x, w, SB_TYPE_F32, 1, 1, 32), SB_KERR_ARG);
    CHECK_EQ_INT(sb_matmul(&ctx, NULL, x, w, SB_TYPE_F32, 1, 1, 32), SB_KERR_ARG);
    CHECK_EQ_INT(sb_matmul(&ctx, y, NULL, w, SB_TYPE_F32, 1, 1, 32), SB_KERR_ARG);
    CHECK_EQ_INT(sb_matmul(&ctx, y, x, NULL, SB_TYPE_F32, 1, 1, 32), SB_KERR_ARG);
    CHECK_EQ_INT(sb_matmul(&ctx, y, x, w, SB_TYPE_F32, -1, 1, 32), SB_KERR_ARG);
    CHECK_EQ_INT(sb_matmul(&ctx, y, x, w, SB_TYPE_F32, 1, -1, 32), SB_KERR_ARG);
    CHECK_EQ_INT(sb_matmul(&ctx, y, x, w, SB_TYPE_Q8_K, 1, 1, 256), SB_KERR_ARG); /* activation format */
    CHECK_EQ_INT(sb_matmul(&ctx, y, x, w, (sb_type)3, 1, 1, 32), SB_KERR_ARG);
    CHECK_EQ_INT(sb_matmul(&ctx, y, x, w, SB_TYPE_F32, INT64_MAX / 2, INT64_MAX / 2, 32), SB_KERR_ARG);
    sb_kctx bad = {(sb_isa)77, 1};
    CHECK_EQ_INT(sb_matmul(&bad, y, x, w, SB_TYPE_F32, 1, 1, 32), SB_KERR_ARG);
    for (int isa = 0; isa < SB_ISA_COUNT; isa++) {
        sb_kctx c = {(sb_isa)isa, 2};
        if (!sb_isa_supported((sb_isa)isa)) {
            CHECK_EQ_INT(sb_matmul(&c, y, x, w, SB_TYPE_F32, 1, 1, 32), SB_KERR_UNSUPPORTED);
            continue;
        }
        CHECK_EQ_INT(sb_matmul(&c, y, x, w, SB_TYPE_Q4_0, 1, 1, 33), SB_KERR_SHAPE);
        CHECK_EQ_INT(sb_matmul(&c, y, x, w, SB_TYPE_Q8_0, 3, 2, 48), SB_KERR_SHAPE);
        CHECK_EQ_INT(sb_matmul(&c, y, x, w, SB_TYPE_Q4_K, 1, 1, 32), SB_KERR_SHAPE);
        CHECK_EQ_INT(sb_matmul(&c, y, x, w, SB_TYPE_Q6_K, 1, 1, 257), SB_KERR_SHAPE);
        /* empty shapes succeed; k = 0 gives zeros */
        y[0] = NAN;
        CHECK_EQ_INT(sb_matmul(&c, y, x, w, SB_TYPE_Q4_0, 0, 5, 32), SB_KOK);
        CHECK(isnan(y[0]));
        poison(y, 6);
        CHECK_EQ_INT(sb_matmul(&c, y, x, w, SB_TYPE_F16, 2, 3, 0), SB_KOK);
        for (int i = 0; i < 6; i++) CHECK(y[i] == 0.0f);
    }
}

/* ---------------------------------------------------------------- reference */

/* ref against Y = X · dequant(W)ᵀ computed in double. */
static void test_matmul_ref_vs_dequantized(void)
{
    uint64_t seed = 11;
    const int64_t m = 5, n = 19, k = 512;
    float *x = malloc(m * k * sizeof(float)), *y = malloc(m * n * sizeof(float));
    float *wf = malloc(n * k * sizeof(float));
    test_fill_uniform(x, (size_t)(m * k), -1, 1, &seed);
    sb_kctx ref = {SB_ISA_REF, 1};
    for (size_t ti = 0; ti < sizeof all_types / sizeof all_types[0]; ti++) {
        sb_type t = all_types[ti];
        uint8_t *w = make_weights(t, n, k, &seed);
        size_t rb;
        sb_row_bytes(t, k, &rb);
        for (int64_t j = 0; j < n; j++) sb_dequantize_row(t, w + j * rb, wf + j * k, k);
        poison(y, (size_t)(m * n));
        CHECK_EQ_INT(sb_matmul(&ref, y, x, w, t, m, n, k), SB_KOK);
        float *want = malloc(m * n * sizeof(float));
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double s = 0;
                for (int64_t p = 0; p < k; p++) s += (double)x[i * k + p] * wf[j * k + p];
                want[i * n + j] = (float)s;
            }
        double e = test_nmse(y, want, (size_t)(m * n));
        double bound = (t == SB_TYPE_F32 || t == SB_TYPE_F16 || t == SB_TYPE_BF16) ? 1e-10 : 1e-4;
        CHECK_MSG(all_finite(y, (size_t)(m * n)) && e <= bound, "%s: nmse %.3g > %.3g", sb_type_name(t), e, bound);
        free(want);
        free(w);
    }
    free(x), free(y), free(wf);
}

/* A hand-checkable case: X = 127 everywhere (Q8_0 scale exactly 1); weight row 0 has 127 in its
 * first 32 elements (scale 1), row 1 is -63.5 everywhere (scale 0.5): every product is exact. */
static void test_matmul_ref_known(void)
{
    const int64_t k = 64;
    float x[64], wrow[64], y[2] = {NAN, NAN};
    uint8_t w[2 * 68];
    for (int i = 0; i < k; i++) x[i] = 127.0f, wrow[i] = (i < 32) ? 127.0f : 0.0f;
    sb_quantize_row(SB_TYPE_Q8_0, wrow, w, k);
    for (int i = 0; i < k; i++) wrow[i] = -63.5f;
    sb_quantize_row(SB_TYPE_Q8_0, wrow, w + 68, k);
    for (int isa = 0; isa < SB_ISA_COUNT; isa++) {
        if (!sb_isa_supported((sb_isa)isa)) continue;
        sb_kctx ctx = {(sb_isa)isa, 2};
        y[0] = y[1] = NAN;
        CHECK_EQ_INT(sb_matmul(&ctx, y, x, w, SB_TYPE_Q8_0, 1, 2, k), SB_KOK);
        CHECK(y[0] == 32.0f * 127 * 127);
        CHECK(y[1] == -64.0f * 127 * 63.5f);
    }
}

/* ---------------------------------------------------------------- optimized vs reference */

/* Every optimized level on this CPU with nt threads against `want` (the reference's Y[m×n]);
 * `what` names the case in failure messages. */
static void check_levels(sb_type t, const float *x, const void *w, const float *want, int64_t m, int64_t n, int64_t k,
                         int nt, const char *what)
{
    float *got = malloc((size_t)(m * n) * sizeof(float));
    for (int isa = SB_ISA_REF + 1; isa < SB_ISA_COUNT; isa++) {
        if (!sb_isa_supported((sb_isa)isa)) continue;
        sb_kctx ctx = {(sb_isa)isa, nt};
        poison(got, (size_t)(m * n));
        int st = sb_matmul(&ctx, got, x, w, t, m, n, k);
        double e = test_nmse(got, want, (size_t)(m * n));
        CHECK_MSG(st == SB_KOK && all_finite(got, (size_t)(m * n)) && e <= opt_threshold(t),
                  "%s %s%s threads %d m %lld n %lld k %lld: status %d nmse %.3g", sb_type_name(t),
                  sb_isa_name((sb_isa)isa), what, nt, (long long)m, (long long)n, (long long)k, st, e);
    }
    free(got);
}

static void test_matmul_levels_vs_ref(void)
{
    /* 7: row-dot prefill path; 14, 17, 35: the int8 GEMM (m >= 12) with 2, 1 and 3 rows in the last
     * micro-tile */
    static const int64_t ms[] = {1, 3, 7, 14, 17, 35};
    static const int64_t ns[] = {1, 3, 7, 17, 31, 33, 65, 127, 255};
    int any_level = 0;
    for (int isa = SB_ISA_REF + 1; isa < SB_ISA_COUNT; isa++) any_level |= sb_isa_supported((sb_isa)isa);
    if (!any_level) {
        test_skip("no optimized ISA level on this CPU");
        return;
    }
    uint64_t seed = 2024;
    sb_kctx ref = {SB_ISA_REF, 1};
    for (size_t ti = 0; ti < sizeof all_types / sizeof all_types[0]; ti++) {
        sb_type t = all_types[ti];
        int64_t be = sb_type_block_elems(t);
        /* k values: block multiples; 4097 for the float formats; 256·k for the K-quants */
        int64_t ks[3];
        if (be == 1) ks[0] = 4097, ks[1] = 96, ks[2] = 1;
        else if (be == 32) ks[0] = 32, ks[1] = 96, ks[2] = 4096 + 32;
        else ks[0] = 256, ks[1] = 768, ks[2] = 2048;
        int combo = 0;
        for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; mi++)
            for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++, combo++) {
                int64_t m = ms[mi], n = ns[ni], k = ks[combo % 3];
                /* keep each case under ~0.4M multiply-adds (the reference is plain C): the big k
                 * values are paired with the small m·n */
                if (m * n * k > 400000) k = ks[1];
                if (m * n * k > 400000) k = be == 1 ? 1 : be;
                float *x = malloc((size_t)(m * k) * sizeof(float));
                float *want = malloc((size_t)(m * n) * sizeof(float));
                test_fill_uniform(x, (size_t)(m * k), -1, 1, &seed);
                uint8_t *w = make_weights(t, n, k, &seed);
                CHECK_EQ_INT(sb_matmul(&ref, want, x, w, t, m, n, k), SB_KOK);
                for (int nt = 1; nt <= 2; nt++) check_levels(t, x, w, want, m, n, k, nt, "");
                free(x), free(want), free(w);
                if (test_failed_now() > 5) return;
            }
    }
}

/* Larger decode and prefill shapes (several weight tiles, uneven thread split, and enough work
 * that sb_matmul really uses two threads). */
static void test_matmul_levels_larger(void)
{
    uint64_t seed = 99;
    sb_kctx ref = {SB_ISA_REF, 1};
    const int64_t m_list[] = {1, 21}, n = 520, k = 1024; /* above the one-thread cutoff */
    for (size_t ti = 0; ti < sizeof all_types / sizeof all_types[0]; ti++) {
        sb_type t = all_types[ti];
        uint8_t *w = make_weights(t, n, k, &seed);
        for (int mi = 0; mi < 2; mi++) {
            int64_t m = m_list[mi];
            float *x = malloc((size_t)(m * k) * sizeof(float));
            float *want = malloc((size_t)(m * n) * sizeof(float));
            test_fill_uniform(x, (size_t)(m * k), -2, 2, &seed);
            CHECK_EQ_INT(sb_matmul(&ref, want, x, w, t, m, n, k), SB_KOK);
            check_levels(t, x, w, want, m, n, k, 2, "");
            free(x), free(want);
        }
        free(w);
    }
}

/* The AVX2 activation quantizers must produce exactly the reference's integers and scales
 * (a single differing quant would change results by far less than the NMSE thresholds). */
/* The fallback kernels for CPUs without some feature of this one (e.g. AVX-512 without VBMI/GFNI,
 * AVX2 without AVX-VNNI), with the feature hidden through SB_CPU_DISABLE: decode (m = 1, 3),
 * and prefill through the int8 GEMM (m = 14), every format and level against the reference. */
static void test_matmul_fallback_kernels(void)
{
    static const char *const hidden[] = {"avx512vbmi", "gfni", "avx512vnni", "avxvnni", "avx512vnni,avxvnni,avx512bf16"};
    static const int64_t ms[] = {1, 3, 14};
    const int64_t n = 67;
    uint64_t seed = 7;
    sb_kctx ref = {SB_ISA_REF, 1};
    for (size_t ti = 0; ti < sizeof all_types / sizeof all_types[0]; ti++) {
        sb_type t = all_types[ti];
        int64_t be = sb_type_block_elems(t);
        int64_t k = be == 1 ? 259 : be == 32 ? 416 : 768; /* Q4_0/Q8_0: 3 quads and a pair */
        uint8_t *w = make_weights(t, n, k, &seed);
        for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; mi++) {
            int64_t m = ms[mi];
            float *x = malloc((size_t)(m * k) * sizeof(float));
            float *want = malloc((size_t)(m * n) * sizeof(float));
            test_fill_uniform(x, (size_t)(m * k), -1, 1, &seed);
            CHECK_EQ_INT(sb_matmul(&ref, want, x, w, t, m, n, k), SB_KOK);
            for (size_t hi = 0; hi < sizeof hidden / sizeof hidden[0]; hi++) {
                char what[64];
                snprintf(what, sizeof what, " without %s", hidden[hi]);
                setenv("SB_CPU_DISABLE", hidden[hi], 1);
                sb_cpu_features_reload();
                check_levels(t, x, w, want, m, n, k, 2, what);
                unsetenv("SB_CPU_DISABLE");
                sb_cpu_features_reload();
            }
            free(x), free(want);
        }
        free(w);
    }
    /* the switch itself: listed names read as absent, and only whole names match */
    int had_avx2 = sb_cpu_has("avx2");
    int cpu_gfni = sb_cpu_has("gfni");
    setenv("SB_CPU_DISABLE", "gfni,avx512vnni,avx2x", 1);
    sb_cpu_features_reload();
    CHECK(!sb_cpu_has("avx512vnni") && !sb_cpu_has("gfni"));
    CHECK_EQ_INT(sb_cpu_has("avx2"), had_avx2);
    unsetenv("SB_CPU_DISABLE");
    sb_cpu_features_reload();
    CHECK_EQ_INT(sb_cpu_has("gfni"), cpu_gfni);
}

/* sb_matmul_multi equals one sb_matmul per part bit for bit (the same kernel computes every
 * element), at every level and thread count, for decode (m <= 4: one fused job, X prepared once
 * per activation kind, kinds mixed within a call) and beyond (part by part); bad arguments in any
 * part are refused before anything is written. */
static void test_matmul_multi(void)
{
    static const struct { int64_t k; sb_type t[4]; int64_t n[4]; int count; } sets[] = {
        {416, {SB_TYPE_Q4_0, SB_TYPE_Q8_0, SB_TYPE_Q4_0}, {67, 3, 17}, 3},
        {768, {SB_TYPE_Q4_K, SB_TYPE_Q6_K, SB_TYPE_Q5_K, SB_TYPE_Q8_0}, {33, 1, 255, 31}, 4},
        {768, {SB_TYPE_F16, SB_TYPE_F32, SB_TYPE_BF16}, {65, 7, 127}, 3},
        {4096, {SB_TYPE_Q4_0, SB_TYPE_Q4_0}, {1024, 256}, 2}, /* above the one-thread size */
    };
    static const int64_t ms[] = {1, 3, 4, 9};
    uint64_t seed = 17;
    for (size_t si = 0; si < sizeof sets / sizeof sets[0] && !test_failed_now(); si++) {
        const int64_t k = sets[si].k;
        const int count = sets[si].count;
        void *w[4];
        for (int i = 0; i < count; i++) w[i] = make_weights(sets[si].t[i], sets[si].n[i], k, &seed);
        for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; mi++) {
            const int64_t m = ms[mi];
            float *x = malloc((size_t)(m * k) * sizeof(float)), *got[4], *want[4];
            test_fill_uniform(x, (size_t)(m * k), -1, 1, &seed);
            sb_matmul_part parts[4];
            for (int i = 0; i < count; i++) {
                size_t ny = (size_t)(m * sets[si].n[i]);
                got[i] = malloc(ny * sizeof(float));
                want[i] = malloc(ny * sizeof(float));
                parts[i] = (sb_matmul_part){got[i], w[i], sets[si].t[i], sets[si].n[i]};
            }
            for (int isa = 0; isa < SB_ISA_COUNT; isa++) {
                if (!sb_isa_supported((sb_isa)isa)) continue;
                for (int threads = 1; threads <= 2; threads++) {
                    sb_kctx c = {(sb_isa)isa, threads};
                    for (int i = 0; i < count; i++) {
                        size_t ny = (size_t)(m * sets[si].n[i]);
                        poison(got[i], ny);
                        poison(want[i], ny);
                        CHECK_EQ_INT(sb_matmul(&c, want[i], x, w[i], sets[si].t[i], m, sets[si].n[i], k), SB_KOK);
                    }
                    CHECK_EQ_INT(sb_matmul_multi(&c, x, m, k, parts, count), SB_KOK);
                    for (int i = 0; i < count; i++) {
                        size_t ny = (size_t)(m * sets[si].n[i]);
                        CHECK_MSG(all_finite(got[i], ny) && !memcmp(got[i], want[i], ny * sizeof(float)),
                                  "set %zu part %d (%s) m=%lld %s %d threads: differs from sb_matmul", si, i,
                                  sb_type_name(sets[si].t[i]), (long long)m, sb_isa_name((sb_isa)isa), threads);
                    }
                }
            }
            /* a bad last part: refused, the first part's output untouched */
            sb_kctx c = {sb_isa_default(), 2};
            poison(got[0], (size_t)(m * sets[si].n[0]));
            parts[count - 1].Y = NULL;
            CHECK_EQ_INT(sb_matmul_multi(&c, x, m, k, parts, count), SB_KERR_ARG);
            CHECK(isnan(got[0][0]));
            for (int i = 0; i < count; i++) free(got[i]), free(want[i]);
            free(x);
        }
        for (int i = 0; i < count; i++) free(w[i]);
    }
    sb_kctx c = {SB_ISA_REF, 1};
    float x[32] = {0};
    sb_matmul_part many[SB_MATMUL_PARTS + 1] = {{0}};
    CHECK_EQ_INT(sb_matmul_multi(&c, x, 1, 32, many, SB_MATMUL_PARTS + 1), SB_KERR_ARG);
    CHECK_EQ_INT(sb_matmul_multi(&c, x, 1, 32, NULL, 1), SB_KERR_ARG);
    CHECK_EQ_INT(sb_matmul_multi(&c, x, 1, 32, many, 0), SB_KOK);
}

static void test_act_quantizers_match_ref(void)
{
#if defined(__x86_64__)
    if (!sb_isa_supported(SB_ISA_AVX2)) {
        test_skip("no AVX2");
        return;
    }
    enum { K = 1024 };
    static float x[K];
    static int8_t q[K], qr[K];
    static float d[K / 32], dexp[K / 4];
    static int16_t s[K / 16], bs[16];
    static int32_t start[K / 4];
    uint64_t seed = 5;
    for (int trial = 0; trial < 4; trial++) {
        test_fill_uniform(x, K, -3, 3, &seed);
        if (trial == 1) /* exact ties at the rounding point: amax 127 makes id = 1 */
            for (int i = 0; i < K; i++) x[i] = (i % 32 == 0) ? 127.0f : (float)(i % 9) * 0.5f - 2.0f;
        if (trial == 2) memset(x, 0, sizeof x);
        if (trial == 3) for (int i = 0; i < K; i++) x[i] *= 1e-30f; /* tiny: f16 scale underflows */
        sb_quantize_act_q8_0_avx2(x, K / 32, q, d, s, start, dexp, 8);
        for (int b = 0; b < K / 32; b++) {
            uint16_t h = sb_quantize_block_q8_0(x + 32 * b, qr + 32 * b);
            CHECK_MSG(d[b] == sb_fp16_to_fp32(h), "trial %d q8_0 d[%d]", trial, b);
            int sum = 0;
            for (int e = 0; e < 32; e++) sum += qr[32 * b + e];
            CHECK_EQ_INT(s[b], sum);
            for (int l = 0; l < 8; l++) {
                const int8_t *g = qr + 32 * b + 4 * l;
                CHECK_EQ_INT(start[8 * b + l], -8 * (g[0] + g[1] + g[2] + g[3]));
                CHECK(dexp[8 * b + l] == d[b]);
            }
        }
        CHECK_MSG(!memcmp(q, qr, K), "trial %d: q8_0 quants differ", trial);
        sb_quantize_act_q8_K_avx2(x, K / 256, q, d, s);
        for (int b = 0; b < K / 256; b++) {
            float dr = sb_quantize_block_q8_K(x + 256 * b, qr + 256 * b, bs);
            CHECK_MSG(d[b] == dr, "trial %d q8_K d[%d]", trial, b);
            CHECK(!memcmp(s + 16 * b, bs, sizeof bs));
        }
        CHECK_MSG(!memcmp(q, qr, K), "trial %d: q8_K quants differ", trial);
    }
#else
    test_skip("x86-64 only");
#endif
}

int main(void)
{
    RUN(test_act_quantizers_match_ref);
    RUN(test_matmul_bad_args);
    RUN(test_matmul_ref_known);
    RUN(test_matmul_ref_vs_dequantized);
    RUN(test_matmul_levels_vs_ref);
    RUN(test_matmul_levels_larger);
    RUN(test_matmul_fallback_kernels);
    RUN(test_matmul_multi);
    return test_finish();
}
