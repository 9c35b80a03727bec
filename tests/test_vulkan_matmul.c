/* Vulkan matmul (tiled mm for m > 4, matvec for m <= 4) and get_rows for every weight format on
 * the device (lavapipe here), against the ref kernels, at awkward sizes, outputs poisoned with NaN.
 *
 * Error thresholds (NMSE), stated per comparison:
 * - vs an f64 product of the ref-dequantized weights (sb_dequantize_row) and the exact X: 1e-10
 *   for every format. The shaders dequantize W exactly (the f16 scales and integer quants are
 *   exact in f32) and multiply with the f32 X in f32 FMAs; only the summation order differs
 *   (k·2^-24 relative per sum). No fp16 arithmetic is used.
 * - vs sb_matmul at the ref level: f32/f16/bf16 1e-10; quantized formats 1e-4 — the CPU kernels
 *   quantize X to 8 bits on the fly (Q8_0 / Q8_K), the shaders do not, so they differ by the
 *   activation-quantization error (the threshold the CPU test uses for that same gap).
 * - get_rows: exact (the same dequantization, bit for bit), checked as NMSE 0. */
#include <stdlib.h>

#include "tests/test_vulkan.h"

static const sb_type all_types[] = {SB_TYPE_F32,  SB_TYPE_F16,  SB_TYPE_BF16, SB_TYPE_Q8_0,
                                    SB_TYPE_Q4_0, SB_TYPE_Q4_K, SB_TYPE_Q5_K, SB_TYPE_Q6_K};

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

/* f64 product of X and the dequantized W. */
static void exact_product(float *Y, const float *X, const void *W, sb_type t, int64_t m, int64_t n, int64_t k)
{
    size_t rb = 0;
    sb_row_bytes(t, k, &rb);
    float *row = malloc(sizeof(float) * (size_t)k + 1);
    for (int64_t j = 0; j < n; j++) {
        sb_dequantize_row(t, (const uint8_t *)W + (size_t)j * rb, row, k);
        for (int64_t i = 0; i < m; i++) {
            double acc = 0;
            for (int64_t p = 0; p < k; p++) acc += (double)X[i * k + p] * row[p];
            Y[i * n + j] = (float)acc;
        }
    }
    free(row);
}

static void check_matmul(sb_vk *vk, sb_type t, int64_t m, int64_t n, int64_t k, uint64_t *seed)
{
    void *W = make_weights(t, n, k, seed);
    float *X = malloc(sizeof(float) * (size_t)(m * k) + 1);
    float *Y = malloc(sizeof(float) * (size_t)(m * n) + 1);
    float *Ye = malloc(sizeof(float) * (size_t)(m * n) + 1);
    float *Yr = malloc(sizeof(float) * (size_t)(m * n) + 1);
    test_fill_uniform(X, (size_t)(m * k), -1, 1, seed);
    exact_product(Ye, X, W, t, m, n, k);
    CHECK_EQ_INT(sb_matmul(&tv_ref, Yr, X, W, t, m, n, k), SB_KOK);
    tv_poison(Y, (size_t)(m * n));
    sb_vk_timing tm;
    int st = sb_vk_matmul(vk, Y, X, W, t, m, n, k, &tm);
    double e1 = test_nmse(Y, Ye, (size_t)(m * n)), e2 = test_nmse(Y, Yr, (size_t)(m * n));
    double b2 = (t == SB_TYPE_F32 || t == SB_TYPE_F16 || t == SB_TYPE_BF16) ? 1e-10 : 1e-4;
    CHECK_MSG(st == SB_KOK && tv_all_finite(Y, (size_t)(m * n)) && e1 <= 1e-10 && e2 <= b2,
              "%s m %lld n %lld k %lld: status %d (%s) nmse vs exact %.3g, vs ref %.3g", sb_type_name(t),
              (long long)m, (long long)n, (long long)k, st, sb_vk_last_error(vk), e1, e2);
    if (getenv("SB_TEST_VERBOSE"))
        printf("  %-5s m %3lld n %3lld k %4lld: nmse exact %.2g ref %.2g, host %.2f ms device %.2f ms\n", sb_type_name(t),
               (long long)m, (long long)n, (long long)k, e1, e2, tm.host_s * 1e3, tm.device_s * 1e3);
    free(W); free(X); free(Y); free(Ye); free(Yr);
}

/* Awkward k per block size: f32-like formats any k; 32-blocks 32, 96, 288; 256-blocks 256, 768. */
static int64_t pick_k(sb_type t, int which)
{
    static const int64_t k1[] = {1, 7, 33, 127, 255}, k32[] = {32, 96, 288, 160, 32}, k256[] = {256, 768, 512, 256, 768};
    int64_t be = sb_type_block_elems(t);
    return be == 1 ? k1[which % 5] : be == 32 ? k32[which % 5] : k256[which % 5];
}

static void test_matmul_matvec(void)
{
    sb_vk *vk = tv_get();
    if (!vk) return;
    uint64_t seed = 11;
    static const int64_t ms[] = {1, 3, 4}, ns[] = {1, 7, 33, 65, 127};
    for (size_t ti = 0; ti < sizeof all_types / sizeof all_types[0]; ti++)
        for (int c = 0; c < 5; c++)
            check_matmul(vk, all_types[ti], ms[c % 3], ns[(c + ti) % 5], pick_k(all_types[ti], c), &seed);
    tv_check_validation();
}

static void test_matmul_tiled(void)
{
    sb_vk *vk = tv_get();
    if (!vk) return;
    uint64_t seed = 12;
    static const int64_t ms[] = {5, 17, 65, 31}, ns[] = {1, 33, 65, 127};
    for (size_t ti = 0; ti < sizeof all_types / sizeof all_types[0]; ti++)
        for (int c = 0; c < 3; c++)
            check_matmul(vk, all_types[ti], ms[(c + ti) % 4], ns[(c + 2 * ti) % 4], pick_k(all_types[ti], c + 1), &seed);
    tv_check_validation();
}

static void test_get_rows(void)
{
    sb_vk *vk = tv_get();
    if (!vk) return;
    uint64_t seed = 13;
    for (size_t ti = 0; ti < sizeof all_types / sizeof all_types[0]; ti++) {
        sb_type t = all_types[ti];
        int64_t n_rows = 9, n_cols = pick_k(t, 2), n_ids = 6;
        void *table = make_weights(t, n_rows, n_cols, &seed);
        int32_t ids[6] = {8, 0, 3, 3, 7, 1};
        float *y = malloc(sizeof(float) * (size_t)(n_ids * n_cols)), *want = malloc(sizeof(float) * (size_t)(n_ids * n_cols));
        size_t rb = 0;
        sb_row_bytes(t, n_cols, &rb);
        for (int64_t i = 0; i < n_ids; i++)
            sb_dequantize_row(t, (const uint8_t *)table + (size_t)ids[i] * rb, want + i * n_cols, n_cols);
        tv_poison(y, (size_t)(n_ids * n_cols));
        int st = sb_vk_get_rows(vk, y, table, t, n_rows, n_cols, ids, n_ids, NULL);
        double e = test_nmse(y, want, (size_t)(n_ids * n_cols));
        CHECK_MSG(st == SB_KOK && tv_all_finite(y, (size_t)(n_ids * n_cols)) && e == 0, "%s: status %d nmse %g",
                  sb_type_name(t), st, e);
        ids[2] = 9;
        CHECK_EQ_INT(sb_vk_get_rows(vk, y, table, t, n_rows, n_cols, ids, n_ids, NULL), SB_KERR_ARG);
        free(table); free(y); free(want);
    }
    tv_check_validation();
}

/* Weights resident in one buffer at offsets (as a model file's tensors would be), several
 * matmuls of different formats in one batch. */
static void test_resident_weights(void)
{
    sb_vk *vk = tv_get();
    if (!vk) return;
    uint64_t seed = 14;
    const int64_t m = 6, n = 19, k = 256;
    sb_type ts[3] = {SB_TYPE_Q4_K, SB_TYPE_Q6_K, SB_TYPE_Q4_0};
    void *W[3];
    size_t off[3], total = 0;
    for (int i = 0; i < 3; i++) {
        size_t rb = 0;
        sb_row_bytes(ts[i], k, &rb);
        W[i] = make_weights(ts[i], n, k, &seed);
        off[i] = total;
        total += (rb * (size_t)n + 3) / 4 * 4; /* offsets stay multiples of 4 */
    }
    sb_vk_buf *wb, *ab;
    CHECK_EQ_INT(sb_vk_buf_create(vk, total, &wb), SB_KOK);
    CHECK_EQ_INT(sb_vk_buf_create(vk, sizeof(float) * (size_t)(m * k + 3 * m * n), &ab), SB_KOK);
    for (int i = 0; i < 3; i++) {
        size_t rb = 0;
        sb_row_bytes(ts[i], k, &rb);
        CHECK_EQ_INT(sb_vk_buf_upload(vk, wb, off[i], W[i], rb * (size_t)n), SB_KOK);
    }
    float *X = malloc(sizeof(float) * (size_t)(m * k)), *Y = malloc(sizeof(float) * (size_t)(m * n)),
          *Ye = malloc(sizeof(float) * (size_t)(m * n));
    test_fill_uniform(X, (size_t)(m * k), -1, 1, &seed);
    CHECK_EQ_INT(sb_vk_buf_upload(vk, ab, 0, X, sizeof(float) * (size_t)(m * k)), SB_KOK);
    CHECK_EQ_INT(sb_vk_begin(vk), SB_KOK);
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(sb_vk_op_matmul(vk, (sb_vk_ref){ab, sizeof(float) * (size_t)(m * k + i * m * n)},
                                     (sb_vk_ref){ab, 0}, (sb_vk_ref){wb, off[i]}, ts[i], m, n, k), SB_KOK);
    CHECK_EQ_INT(sb_vk_submit(vk, NULL), SB_KOK);
    for (int i = 0; i < 3; i++) {
        tv_poison(Y, (size_t)(m * n));
        CHECK_EQ_INT(sb_vk_buf_download(vk, ab, sizeof(float) * (size_t)(m * k + i * m * n), Y, sizeof(float) * (size_t)(m * n)), SB_KOK);
        exact_product(Ye, X, W[i], ts[i], m, n, k);
        double e = test_nmse(Y, Ye, (size_t)(m * n));
        CHECK_MSG(tv_all_finite(Y, (size_t)(m * n)) && e <= 1e-10, "%s at offset %zu: nmse %g", sb_type_name(ts[i]), off[i], e);
        free(W[i]);
    }
    sb_vk_buf_free(vk, wb);
    sb_vk_buf_free(vk, ab);
    free(X); free(Y); free(Ye);
    tv_check_validation();
}

int main(void)
{
    tv_init();
    RUN(test_matmul_matvec);
    RUN(test_matmul_tiled);
    RUN(test_get_rows);
    RUN(test_resident_weights);
    if (tv_switch_to_portable()) { /* the same decode-path checks without subgroup operations */
        printf("# again on the portable (shared-memory) shader variants\n");
        RUN(test_matmul_matvec);
    }
    tv_finish();
    return test_finish();
}
