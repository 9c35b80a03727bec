/* F32 GEMM (kernels/gemm.c + per-ISA micro-kernels): every supported ISA level, 1 and 2 threads,
 * awkward shapes, against the ref level, which itself is checked against a double-precision
 * triple loop. Outputs are poisoned with NaN before each call so an unwritten element fails.
 *
 * Error measure: NMSE = Σ(y-ref)² / Σref². F32 sums of k products carry ~k·2⁻²⁴ relative
 * rounding at worst, so for k <= 1100 any correct order of summation stays below 1e-9; a wrong
 * element (missed k block, stale tile) gives NMSE of order 1e-3 or more. Threshold 1e-9. */
#include <stdlib.h>

#include "kernels/internal.h"
#include "tests/test.h"

#define NMSE_MAX 1e-9

static const int64_t awkward[] = {1, 3, 7, 17, 31, 33, 65, 127, 255};
enum { N_AWK = sizeof awkward / sizeof awkward[0] };

static void fill_nan(float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = NAN;
}

/* Runs every supported optimized level with 1 and 2 threads on one shape; ref is the oracle. */
static void check_shape(int64_t m, int64_t n, int64_t k, uint64_t *seed)
{
    size_t ny = (size_t)m * (size_t)n;
    float *X = malloc(sizeof(float) * (size_t)(m * k)), *W = malloc(sizeof(float) * (size_t)(n * k));
    float *ref = malloc(sizeof(float) * ny), *Y = malloc(sizeof(float) * ny);
    CHECK(X && W && ref && Y);
    if (!X || !W || !ref || !Y) goto done;
    test_fill_uniform(X, (size_t)(m * k), -1, 1, seed);
    test_fill_uniform(W, (size_t)(n * k), -1, 1, seed);
    fill_nan(ref, ny);
    sb_kctx rc = {SB_ISA_REF, 1};
    CHECK_EQ_INT(sb_gemm_f32(&rc, ref, X, W, m, n, k), SB_KOK);
    for (int isa = SB_ISA_AVX2; isa < SB_ISA_COUNT; isa++) {
        if (!sb_isa_supported((sb_isa)isa)) continue;
        for (int threads = 1; threads <= 2; threads++) {
            sb_kctx ctx = {(sb_isa)isa, threads};
            fill_nan(Y, ny);
            CHECK_EQ_INT(sb_gemm_f32(&ctx, Y, X, W, m, n, k), SB_KOK);
            double e = test_nmse(Y, ref, ny);
            CHECK_MSG(e < NMSE_MAX, "%s threads=%d m=%lld n=%lld k=%lld: NMSE %g", sb_isa_name((sb_isa)isa),
                      threads, (long long)m, (long long)n, (long long)k, e);
        }
    }
done:
    free(X); free(W); free(ref); free(Y);
}

/* The ref level against a double-precision triple loop. */
static void test_gemm_ref_matches_double_loop(void)
{
    uint64_t seed = 11;
    int64_t m = 17, n = 33, k = 65;
    float X[17 * 65], W[33 * 65], Y[17 * 33];
    test_fill_uniform(X, sizeof X / 4, -1, 1, &seed);
    test_fill_uniform(W, sizeof W / 4, -1, 1, &seed);
    fill_nan(Y, sizeof Y / 4);
    sb_kctx rc = {SB_ISA_REF, 1};
    CHECK_EQ_INT(sb_gemm_f32(&rc, Y, X, W, m, n, k), SB_KOK);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double acc = 0;
            for (int64_t p = 0; p < k; p++) acc += (double)X[i * k + p] * W[j * k + p];
            CHECK_NEAR(Y[i * n + j], acc, 1e-4);
        }
}

/* Every awkward size on the diagonal, then a deterministic sample of mixed triples. */
static void test_gemm_awkward_sizes(void)
{
    uint64_t seed = 1234;
    for (int i = 0; i < N_AWK; i++) check_shape(awkward[i], awkward[i], awkward[i], &seed);
    uint64_t pick = 99;
    for (int t = 0; t < 40 && !test_failed_now(); t++) {
        pick ^= pick << 13; pick ^= pick >> 7; pick ^= pick << 17;
        int64_t m = awkward[pick % N_AWK], n = awkward[(pick >> 8) % N_AWK], k = awkward[(pick >> 16) % N_AWK];
        check_shape(m, n, k, &seed);
    }
    /* skinny shapes: one row (decode), one column, k = 1 */
    check_shape(1, 255, 127, &seed);
    check_shape(255, 1, 127, &seed);
    check_shape(65, 127, 1, &seed);
}

/* Larger than one cache block in every direction (k > KC, n > NC per thread, m > MC on
 * typical caches) with non-multiple edges. */
static void test_gemm_larger_than_blocks(void)
{
    uint64_t seed = 77;
    check_shape(1100, 1500, 1031, &seed);
}

static void test_gemm_zero_k_and_empty(void)
{
    float Y[6];
    float X[1] = {1}, W[1] = {1};
    fill_nan(Y, 6);
    sb_kctx ctx = {sb_isa_default(), 2};
    CHECK_EQ_INT(sb_gemm_f32(&ctx, Y, X, W, 2, 3, 0), SB_KOK);
    for (int i = 0; i < 6; i++) CHECK(Y[i] == 0.0f);
    CHECK_EQ_INT(sb_gemm_f32(&ctx, Y, X, W, 0, 3, 5), SB_KOK);
    CHECK_EQ_INT(sb_gemm_f32(&ctx, NULL, X, W, 2, 3, 1), SB_KERR_ARG);
    CHECK_EQ_INT(sb_gemm_f32(&ctx, Y, X, W, -1, 3, 1), SB_KERR_ARG);
    CHECK_EQ_INT(sb_gemm_f32(NULL, Y, X, W, 1, 1, 1), SB_KERR_ARG);
    sb_kctx bad = {(sb_isa)99, 1};
    CHECK_EQ_INT(sb_gemm_f32(&bad, Y, X, W, 1, 1, 1), SB_KERR_ARG);
}

int main(void)
{
    RUN(test_gemm_ref_matches_double_loop);
    RUN(test_gemm_awkward_sizes);
    RUN(test_gemm_larger_than_blocks);
    RUN(test_gemm_zero_k_and_empty);
    return test_finish();
}
