/* Attention (kernels/attention.c, kernels/cpu/attention_*.c): every supported optimized level,
 * 1 and 2 threads, against the naive reference — decode at sampled KV lengths 1 … 4096, prefill
 * with sampled m = 1 … 512 at pos 0 and pos > 0, GQA ratios 1, 2 and 4, K/V in f32 and f16.
 * Outputs are poisoned with NaN first.
 *
 * Error measure: NMSE against the reference (which accumulates in double). The flash kernels
 * sum in f32 in another order and use a polynomial e^x (rel. error < 2e-7), so their NMSE sits
 * near 1e-13; a wrong mask, a lost tile or a bad rescale gives 1e-4 or more. Threshold 1e-10. */
#include <stdlib.h>

#include "kernels/kernels.h"
#include "tests/test.h"

#define NMSE_MAX 1e-10

/* Builds random Q, K, V for p, runs ref and every optimized level, compares. */
static void check_case(sb_attn_params p, uint64_t *seed)
{
    int64_t nq = p.m * p.n_head * p.head_dim, nkv = p.n_kv * p.n_kv_head * p.head_dim;
    float *Q = malloc(sizeof(float) * (size_t)nq), *Kf = malloc(sizeof(float) * (size_t)nkv);
    float *Vf = malloc(sizeof(float) * (size_t)nkv);
    uint16_t *Kh = malloc(2 * (size_t)nkv), *Vh = malloc(2 * (size_t)nkv);
    float *ref = malloc(sizeof(float) * (size_t)nq), *y = malloc(sizeof(float) * (size_t)nq);
    CHECK(Q && Kf && Vf && Kh && Vh && ref && y);
    if (!Q || !Kf || !Vf || !Kh || !Vh || !ref || !y) goto done;
    test_fill_uniform(Q, (size_t)nq, -2, 2, seed);
    test_fill_uniform(Kf, (size_t)nkv, -2, 2, seed);
    test_fill_uniform(Vf, (size_t)nkv, -1, 1, seed);
    for (int64_t i = 0; i < nkv; i++) {
        /* f16 data: values exactly representable, so f32 and f16 runs see the same numbers */
        Kh[i] = sb_fp32_to_fp16(Kf[i]);
        Vh[i] = sb_fp32_to_fp16(Vf[i]);
        Kf[i] = sb_fp16_to_fp32(Kh[i]);
        Vf[i] = sb_fp16_to_fp32(Vh[i]);
    }
    for (int f16 = 0; f16 <= 1; f16++) {
        p.kv_type = f16 ? SB_TYPE_F16 : SB_TYPE_F32;
        const void *K = f16 ? (const void *)Kh : Kf, *V = f16 ? (const void *)Vh : Vf;
        for (int64_t i = 0; i < nq; i++) ref[i] = NAN;
        sb_kctx rc = {SB_ISA_REF, 1};
        CHECK_EQ_INT(sb_attention(&rc, ref, Q, K, V, &p), SB_KOK);
        for (int isa = SB_ISA_AVX2; isa < SB_ISA_COUNT; isa++) {
            if (!sb_isa_supported((sb_isa)isa)) continue;
            for (int threads = 1; threads <= 2; threads++) {
                sb_kctx ctx = {(sb_isa)isa, threads};
                for (int64_t i = 0; i < nq; i++) y[i] = NAN;
                CHECK_EQ_INT(sb_attention(&ctx, y, Q, K, V, &p), SB_KOK);
                double e = test_nmse(y, ref, (size_t)nq);
                CHECK_MSG(e < NMSE_MAX, "%s t=%d %s m=%lld pos=%lld n_kv=%lld heads %d/%d D=%d: NMSE %g",
                          sb_isa_name((sb_isa)isa), threads, f16 ? "f16" : "f32", (long long)p.m,
                          (long long)p.pos, (long long)p.n_kv, p.n_head, p.n_kv_head, p.head_dim, e);
            }
        }
    }
done:
    free(Q); free(Kf); free(Vf); free(Kh); free(Vh); free(ref); free(y);
}

static sb_attn_params params(int64_t m, int64_t pos, int64_t n_kv, int n_head, int n_kv_head, int D)
{
    sb_attn_params p = {.m = m, .pos = pos, .n_kv = n_kv, .n_head = n_head, .n_kv_head = n_kv_head,
                        .head_dim = D, .scale = 1.0f / sqrtf((float)D), .kv_type = SB_TYPE_F32};
    return p;
}

static void test_attention_decode_lengths(void)
{
    static const int64_t lens[] = {1, 2, 3, 17, 63, 64, 65, 200, 1000, 4096};
    static const int ratios[] = {1, 2, 4};
    uint64_t seed = 5;
    for (size_t i = 0; i < sizeof lens / sizeof lens[0] && !test_failed_now(); i++)
        for (int r = 0; r < 3; r++) {
            int n_kv_head = lens[i] > 1000 ? 1 : 2;
            /* decode: one query at position len-1, cache of exactly len (or a few more) keys */
            check_case(params(1, lens[i] - 1, lens[i] + (int64_t)(i % 2) * 5, n_kv_head * ratios[r], n_kv_head,
                              i % 3 == 0 ? 64 : 128), &seed);
        }
}

static void test_attention_prefill(void)
{
    static const int64_t ms[] = {1, 2, 5, 16, 33, 100, 512};
    static const int ratios[] = {1, 2, 4};
    uint64_t seed = 9;
    for (size_t i = 0; i < sizeof ms / sizeof ms[0] && !test_failed_now(); i++)
        for (int r = 0; r < 3; r++) {
            int64_t m = ms[i], pos = (i + (size_t)r) % 2 ? 37 : 0;
            int n_kv_head = m >= 512 ? 1 : 2;
            check_case(params(m, pos, pos + m, n_kv_head * ratios[r], n_kv_head, 64), &seed);
        }
}

/* head_dim not a multiple of the vector width, ratio 8, and a cache longer than pos + m */
static void test_attention_odd_shapes(void)
{
    uint64_t seed = 21;
    check_case(params(7, 3, 40, 8, 1, 40), &seed);
    check_case(params(50, 10, 70, 6, 3, 20), &seed);
    check_case(params(1, 99, 128, 8, 1, 72), &seed);
    check_case(params(30, 0, 30, 8, 8, 8), &seed);
    /* few rows (keys-in-lanes path, keys split over threads) where some rows have no key in
     * the second thread's range: their partial state must be skipped in the merge */
    check_case(params(20, 50, 70, 2, 2, 64), &seed);
    check_case(params(10, 58, 68, 2, 2, 64), &seed);
}

/* Decode and short prefill (the keys-in-lanes path) at the GQA ratios of real models (3:
 * SmolLM2/Llama-3.2-3B, 7: Qwen2.5-0.5B, 8: TinyLlama), whose heads are taken up to four at a time
 * sharing each K/V load, at head sizes that are and are not a multiple of four vectors
 * (48, 80: a tail of one to three vectors read in place). m = 2 gives two queries per group with
 * different key limits; the caches span several 64-key tiles so the next-tile prefetch runs. */
static void test_attention_gqa_groups(void)
{
    static const int ratios[] = {3, 7, 8};
    static const int dims[] = {48, 64, 80, 128};
    uint64_t seed = 33;
    for (int r = 0; r < 3 && !test_failed_now(); r++)
        for (int d = 0; d < 4; d++) {
            int64_t m = d % 2 ? 2 : 1, n_kv = 130 + 61 * d;
            check_case(params(m, n_kv - m, n_kv, 2 * ratios[r], 2, dims[d]), &seed);
        }
    /* fewer than two 64-key tiles but work enough for two threads: they split the KV heads
     * (8 of them evenly, 3 unevenly) instead of the keys */
    check_case(params(1, 39, 40, 32, 8, 128), &seed);
    check_case(params(3, 47, 50, 21, 3, 64), &seed);
}

/* Large scores (peaked softmax) must stay finite and match. */
static void test_attention_large_scores(void)
{
    uint64_t seed = 3;
    sb_attn_params p = params(20, 5, 25, 4, 2, 32);
    p.scale = 30.0f;
    check_case(p, &seed);
}

static void test_attention_bad_args(void)
{
    float buf[64] = {0};
    sb_kctx ctx = {sb_isa_default(), 1};
    sb_attn_params p = params(1, 0, 1, 2, 1, 8);
    CHECK_EQ_INT(sb_attention(&ctx, buf, buf, buf, buf, &p), SB_KOK);
    p.n_kv = 0;
    CHECK_EQ_INT(sb_attention(&ctx, buf, buf, buf, buf, &p), SB_KERR_SHAPE);
    p = params(1, 0, 1, 3, 2, 8);
    CHECK_EQ_INT(sb_attention(&ctx, buf, buf, buf, buf, &p), SB_KERR_SHAPE);
    p = params(1, 0, 1, 2, 1, 8);
    p.kv_type = SB_TYPE_Q8_0;
    CHECK_EQ_INT(sb_attention(&ctx, buf, buf, buf, buf, &p), SB_KERR_UNSUPPORTED);
    p = params(1, -1, 1, 2, 1, 8);
    CHECK_EQ_INT(sb_attention(&ctx, buf, buf, buf, buf, &p), SB_KERR_ARG);
    p = params(1, 0, 1, 2, 1, 8);
    CHECK_EQ_INT(sb_attention(&ctx, NULL, buf, buf, buf, &p), SB_KERR_ARG);
}

int main(void)
{
    RUN(test_attention_bad_args);
    RUN(test_attention_decode_lengths);
    RUN(test_attention_prefill);
    RUN(test_attention_odd_shapes);
    RUN(test_attention_gqa_groups);
    RUN(test_attention_large_scores);
    return test_finish();
}
