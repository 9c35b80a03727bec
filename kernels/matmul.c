/* sb_matmul: Y[m×n] = X[m×k] · Wᵀ for every weight format.
 *
 * Two halves:
 * - the reference (plain C, the oracle): per output element, the dot product of a weight row
 *   with an X row. Float formats dequantize the weight row and dot in f32; Q8_0/Q4_0 dot their
 *   integer quants with X quantized to Q8_0, the K-quants with X quantized to Q8_K, as ggml does;
 * - the optimized levels: X is prepared once per call (kept f32, rounded to bf16, or quantized
 *   with per-block sums, identical to the reference's quantization), then OpenMP threads split
 *   the weight rows and call a per-ISA row-dot kernel on up to SB_MR rows of X per pass over one
 *   weight row (or two, where the level has a two-row kernel). Decode (m <= SB_MR) streams the
 *   weights once; prefill walks tiles of N_TILE weight rows, each tile reused by every block of
 *   SB_MR X rows while it sits in L2. Which kernel serves which (level, format) is the data in
 *   `kernel_table`. Three routes bypass the row-dot kernels for prefill: F32 weights with m > 1
 *   go to the F32 GEMM (sb_gemm_f32), F16/BF16 with m >= GEMM_MIN_M through it (widened while
 *   it packs them, sb_gemm_half), and the quantized formats with m >= QGEMM_MIN_M on x86 to the
 *   packed int8 GEMM (kernels/qgemm.c; AVX-512 VNNI, AVX-VNNI or AVX2). Decode (m = 1) uses
 *   four-row kernels where a level has them (kernels/cpu/decode_avx512.c; decode_avx2.c for
 *   the float formats). Small products run on one thread.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/qgemm_impl.h"

/* ---------------------------------------------------------------- reference */

static float dot_f32(const float *a, const float *b, int64_t k)
{
    float s = 0;
    for (int64_t i = 0; i < k; i++) s += a[i] * b[i];
    return s;
}

/* Σ_blocks d_w * d_x * Σ_i qw_i * qx_i for Q8_0 weights against Q8_0 activations. */
static float dot_q8_0_ref(const sb_block_q8_0 *w, const sb_block_q8_0 *x, int64_t nb)
{
    float s = 0;
    for (int64_t b = 0; b < nb; b++) {
        int isum = 0;
        for (int i = 0; i < SB_QK8_0; i++) isum += w[b].qs[i] * x[b].qs[i];
        s += sb_fp16_to_fp32(w[b].d) * sb_fp16_to_fp32(x[b].d) * (float)isum;
    }
    return s;
}

static float dot_q4_0_ref(const sb_block_q4_0 *w, const sb_block_q8_0 *x, int64_t nb)
{
    float s = 0;
    for (int64_t b = 0; b < nb; b++) {
        int isum = 0;
        for (int j = 0; j < SB_QK4_0 / 2; j++) {
            isum += ((w[b].qs[j] & 15) - 8) * x[b].qs[j];
            isum += ((w[b].qs[j] >> 4) - 8) * x[b].qs[j + 16];
        }
        s += sb_fp16_to_fp32(w[b].d) * sb_fp16_to_fp32(x[b].d) * (float)isum;
    }
    return s;
}

/* K-quants: per super-block, with integer sums per sub-block j of 32 elements,
 *   dot = d_x * (d * Σ_j sc_j Σ_i q_i x_i  -  dmin * Σ_j mn_j Σ_i x_i). */
static float dot_q4_K_ref(const sb_block_q4_K *w, const sb_block_q8_K *x, int64_t nb)
{
    float s = 0;
    for (int64_t b = 0; b < nb; b++) {
        int64_t iscaled = 0, imins = 0;
        for (int j = 0; j < 8; j++) {
            int sc, mn, isum = 0;
            sb_q4k_scale_min(j, w[b].scales, &sc, &mn);
            for (int i = 0; i < 32; i++) {
                int e = 32 * j + i, c = e / 64, hi = (e % 64) >= 32, l = e % 32;
                int q = hi ? w[b].qs[32 * c + l] >> 4 : w[b].qs[32 * c + l] & 15;
                isum += q * x[b].qs[e];
            }
            iscaled += (int64_t)sc * isum;
            imins += (int64_t)mn * (x[b].bsums[2 * j] + x[b].bsums[2 * j + 1]);
        }
        float d = sb_fp16_to_fp32(w[b].d), dmin = sb_fp16_to_fp32(w[b].dmin);
        s += x[b].d * (d * (float)iscaled - dmin * (float)imins);
    }
    return s;
}

static float dot_q5_K_ref(const sb_block_q5_K *w, const sb_block_q8_K *x, int64_t nb)
{
    float s = 0;
    for (int64_t b = 0; b < nb; b++) {
        int64_t iscaled = 0, imins = 0;
        for (int j = 0; j < 8; j++) {
            int sc, mn, isum = 0;
            sb_q4k_scale_min(j, w[b].scales, &sc, &mn);
            for (int i = 0; i < 32; i++) {
                int e = 32 * j + i, c = e / 64, hi = (e % 64) >= 32, l = e % 32;
                int q = hi ? w[b].qs[32 * c + l] >> 4 : w[b].qs[32 * c + l] & 15;
                q += ((w[b].qh[l] >> (2 * c + hi)) & 1) << 4;
                isum += q * x[b].qs[e];
            }
            iscaled += (int64_t)sc * isum;
            imins += (int64_t)mn * (x[b].bsums[2 * j] + x[b].bsums[2 * j + 1]);
        }
        float d = sb_fp16_to_fp32(w[b].d), dmin = sb_fp16_to_fp32(w[b].dmin);
        s += x[b].d * (d * (float)iscaled - dmin * (float)imins);
    }
    return s;
}

/* Q6_K: dot = d_x * d * Σ_s scale_s Σ_i (q_i - 32) x_i over the 16 sub-blocks of 16. */
static float dot_q6_K_ref(const sb_block_q6_K *w, const sb_block_q8_K *x, int64_t nb)
{
    float s = 0;
    for (int64_t b = 0; b < nb; b++) {
        int64_t iscaled = 0;
        for (int e0 = 0; e0 < SB_QK_K; e0 += 16) {
            int isum = 0;
            for (int e = e0; e < e0 + 16; e++) {
                int h = e / 128, r = e % 128, quarter = r / 32, l = r % 32;
                const uint8_t *ql = w[b].ql + 64 * h, *qh = w[b].qh + 32 * h;
                int lo = (quarter & 1) ? ql[l + 32] : ql[l];
                lo = quarter >= 2 ? lo >> 4 : lo & 15;
                int q = (lo | (((qh[l] >> (2 * quarter)) & 3) << 4)) - 32;
                isum += q * x[b].qs[e];
            }
            iscaled += (int64_t)w[b].scales[e0 / 16] * isum;
        }
        s += x[b].d * sb_fp16_to_fp32(w[b].d) * (float)iscaled;
    }
    return s;
}

/* The oracle. One thread; scratch for one dequantized weight row or one quantized X row. */
static int matmul_ref(float *Y, const float *X, const void *W, sb_type t, int64_t m, int64_t n, int64_t k,
                      size_t wrow_bytes)
{
    const uint8_t *w = W;
    if (t == SB_TYPE_F32 || t == SB_TYPE_F16 || t == SB_TYPE_BF16) {
        float *wf = malloc((size_t)(k > 0 ? k : 1) * sizeof(float));
        if (!wf) return SB_KERR_NOMEM;
        for (int64_t j = 0; j < n; j++) {
            sb_dequantize_row(t, w + (size_t)j * wrow_bytes, wf, k);
            for (int64_t i = 0; i < m; i++) Y[i * n + j] = dot_f32(X + i * k, wf, k);
        }
        free(wf);
        return SB_KOK;
    }
    sb_type at = (t == SB_TYPE_Q8_0 || t == SB_TYPE_Q4_0) ? SB_TYPE_Q8_0 : SB_TYPE_Q8_K;
    size_t xrow_bytes;
    int st = sb_row_bytes(at, k, &xrow_bytes);
    if (st != SB_KOK) return st;
    void *xq = malloc(xrow_bytes ? xrow_bytes : 1);
    if (!xq) return SB_KERR_NOMEM;
    int64_t nb = k / sb_type_block_elems(t);
    for (int64_t i = 0; i < m; i++) {
        sb_quantize_row(at, X + i * k, xq, k);
        for (int64_t j = 0; j < n; j++) {
            const void *wr = w + (size_t)j * wrow_bytes;
            float v = 0;
            switch (t) {
            case SB_TYPE_Q8_0: v = dot_q8_0_ref(wr, xq, nb); break;
            case SB_TYPE_Q4_0: v = dot_q4_0_ref(wr, xq, nb); break;
            case SB_TYPE_Q4_K: v = dot_q4_K_ref(wr, xq, nb); break;
            case SB_TYPE_Q5_K: v = dot_q5_K_ref(wr, xq, nb); break;
            case SB_TYPE_Q6_K: v = dot_q6_K_ref(wr, xq, nb); break;
            default: break;
            }
            Y[i * n + j] = v;
        }
    }
    free(xq);
    return SB_KOK;
}

/* ---------------------------------------------------------------- kernel table */

/* CPU features an entry needs beyond its level (bits; sb_cpu_has names in cpu_has below) */
enum { FEAT_NONE = 0, FEAT_VNNI = 1, FEAT_BF16 = 2, FEAT_VBMI = 4, FEAT_GFNI = 8, FEAT_DOTPROD = 16, FEAT_AVXVNNI = 32 };

typedef struct kernel_entry {
    sb_isa isa;
    sb_type type;
    int needs;          /* CPU features beyond the level itself (FEAT_* bits)      */
    int min_m;          /* use this entry only when m >= min_m                       */
    sb_act_kind act;    /* how X is prepared                                         */
    sb_rowdot_fn dot;   /* one weight row × up to SB_MR X rows                        */
    sb_rowdot2_fn dot2; /* two weight rows × up to SB_MR X rows (prefill), optional   */
    sb_rowdot4_fn dot4; /* four distant weight rows × one X row (decode), optional    */
} kernel_entry;

/* First matching entry wins; a level without an entry for a format falls back to the level
 * below it (avx512 → avx2 → ref). */
static const kernel_entry kernel_table[] = {
#if defined(__x86_64__)
    {SB_ISA_AVX512, SB_TYPE_F32, FEAT_NONE, 1, SB_ACT_F32, sb_rowdot_f32_avx512, sb_rowdot2_f32_avx512, sb_rowdot4_f32_avx512},
    {SB_ISA_AVX512, SB_TYPE_F16, FEAT_NONE, 1, SB_ACT_F32, sb_rowdot_f16_avx512, sb_rowdot2_f16_avx512, sb_rowdot4_f16_avx512},
    {SB_ISA_AVX512, SB_TYPE_BF16, FEAT_BF16, 2, SB_ACT_BF16, sb_rowdot_bf16dp_avx512, sb_rowdot2_bf16dp_avx512, NULL},
    {SB_ISA_AVX512, SB_TYPE_BF16, FEAT_NONE, 1, SB_ACT_F32, sb_rowdot_bf16_avx512, sb_rowdot2_bf16_avx512, sb_rowdot4_bf16_avx512},
    {SB_ISA_AVX512, SB_TYPE_Q8_0, FEAT_VNNI | FEAT_VBMI | FEAT_GFNI, 1, SB_ACT_Q8_0_OFF128_QUADS, sb_rowdot_q8_0_avx512, sb_rowdot2_q8_0_avx512,
     sb_rowdot4_q8_0_avx512vbmi},
    {SB_ISA_AVX512, SB_TYPE_Q8_0, FEAT_VNNI, 1, SB_ACT_Q8_0_OFF128, sb_rowdot_q8_0_avx512, sb_rowdot2_q8_0_avx512, NULL},
    {SB_ISA_AVX512, SB_TYPE_Q4_0, FEAT_VNNI | FEAT_VBMI | FEAT_GFNI, 1, SB_ACT_Q8_0_OFF8_QUADS, sb_rowdot_q4_0_avx512, sb_rowdot2_q4_0_avx512,
     sb_rowdot4_q4_0_avx512vbmi},
    {SB_ISA_AVX512, SB_TYPE_Q4_0, FEAT_VNNI, 1, SB_ACT_Q8_0_OFF8, sb_rowdot_q4_0_avx512, sb_rowdot2_q4_0_avx512, NULL},
    {SB_ISA_AVX512, SB_TYPE_Q4_K, FEAT_VNNI | FEAT_VBMI | FEAT_GFNI, 1, SB_ACT_Q8_K, sb_rowdot_q4_K_avx512, sb_rowdot2_q4_K_avx512,
     sb_rowdot4_q4_K_avx512vbmi},
    {SB_ISA_AVX512, SB_TYPE_Q4_K, FEAT_VNNI, 1, SB_ACT_Q8_K, sb_rowdot_q4_K_avx512, sb_rowdot2_q4_K_avx512, sb_rowdot4_q4_K_avx512},
    {SB_ISA_AVX512, SB_TYPE_Q5_K, FEAT_VNNI | FEAT_VBMI | FEAT_GFNI, 1, SB_ACT_Q8_K, sb_rowdot_q5_K_avx512, sb_rowdot2_q5_K_avx512,
     sb_rowdot4_q5_K_avx512vbmi},
    {SB_ISA_AVX512, SB_TYPE_Q5_K, FEAT_VNNI, 1, SB_ACT_Q8_K, sb_rowdot_q5_K_avx512, sb_rowdot2_q5_K_avx512, sb_rowdot4_q5_K_avx512},
    {SB_ISA_AVX512, SB_TYPE_Q6_K, FEAT_VNNI | FEAT_VBMI | FEAT_GFNI, 1, SB_ACT_Q8_K, sb_rowdot_q6_K_avx512, sb_rowdot2_q6_K_avx512,
     sb_rowdot4_q6_K_avx512vbmi},
    {SB_ISA_AVX512, SB_TYPE_Q6_K, FEAT_VNNI, 1, SB_ACT_Q8_K, sb_rowdot_q6_K_avx512, sb_rowdot2_q6_K_avx512, sb_rowdot4_q6_K_avx512},
    {SB_ISA_AVX2, SB_TYPE_F32, FEAT_NONE, 1, SB_ACT_F32, sb_rowdot_f32_avx2, NULL, sb_rowdot4_f32_avx2},
    {SB_ISA_AVX2, SB_TYPE_F16, FEAT_NONE, 1, SB_ACT_F32, sb_rowdot_f16_avx2, NULL, sb_rowdot4_f16_avx2},
    {SB_ISA_AVX2, SB_TYPE_BF16, FEAT_NONE, 1, SB_ACT_F32, sb_rowdot_bf16_avx2, NULL, sb_rowdot4_bf16_avx2},
    {SB_ISA_AVX2, SB_TYPE_Q8_0, FEAT_NONE, 1, SB_ACT_Q8_0, sb_rowdot_q8_0_avx2, NULL, NULL},
    {SB_ISA_AVX2, SB_TYPE_Q4_0, FEAT_AVXVNNI, 1, SB_ACT_Q8_0_OFF8_QUADS, sb_rowdot_q4_0_avx2vnni, NULL, NULL},
    {SB_ISA_AVX2, SB_TYPE_Q4_0, FEAT_NONE, 1, SB_ACT_Q8_0_OFF8_QUADS, sb_rowdot_q4_0_avx2, NULL, NULL},
    {SB_ISA_AVX2, SB_TYPE_Q4_K, FEAT_NONE, 1, SB_ACT_Q8_K, sb_rowdot_q4_K_avx2, NULL, NULL},
    {SB_ISA_AVX2, SB_TYPE_Q5_K, FEAT_NONE, 1, SB_ACT_Q8_K, sb_rowdot_q5_K_avx2, NULL, NULL},
    {SB_ISA_AVX2, SB_TYPE_Q6_K, FEAT_NONE, 1, SB_ACT_Q8_K, sb_rowdot_q6_K_avx2, NULL, NULL},
#elif defined(__aarch64__)
    {SB_ISA_NEON, SB_TYPE_F32, FEAT_NONE, 1, SB_ACT_F32, sb_rowdot_f32_neon, NULL, NULL},
    {SB_ISA_NEON, SB_TYPE_F16, FEAT_NONE, 1, SB_ACT_F32, sb_rowdot_f16_neon, NULL, NULL},
    {SB_ISA_NEON, SB_TYPE_BF16, FEAT_NONE, 1, SB_ACT_F32, sb_rowdot_bf16_neon, NULL, NULL},
    {SB_ISA_NEON, SB_TYPE_Q8_0, FEAT_DOTPROD, 1, SB_ACT_Q8_0, sb_rowdot_q8_0_neon, NULL, NULL},
    {SB_ISA_NEON, SB_TYPE_Q4_0, FEAT_DOTPROD, 1, SB_ACT_Q8_0, sb_rowdot_q4_0_neon, NULL, NULL},
    {SB_ISA_NEON, SB_TYPE_Q4_K, FEAT_DOTPROD, 1, SB_ACT_Q8_K, sb_rowdot_q4_K_neon, NULL, NULL},
    {SB_ISA_NEON, SB_TYPE_Q5_K, FEAT_DOTPROD, 1, SB_ACT_Q8_K, sb_rowdot_q5_K_neon, NULL, NULL},
    {SB_ISA_NEON, SB_TYPE_Q6_K, FEAT_DOTPROD, 1, SB_ACT_Q8_K, sb_rowdot_q6_K_neon, NULL, NULL},
#endif
    {SB_ISA_REF, SB_TYPE_F32, FEAT_NONE, 0, SB_ACT_F32, NULL, NULL, NULL}, /* sentinel, never matched */
};

/* The FEAT_* bits this CPU has, through sb_cpu_has (so SB_CPU_DISABLE applies): probed on the
 * first call and again after sb_cpu_features_reload, a bit test otherwise (this runs on every
 * matmul). */
static int cpu_features(void)
{
    static int mask = -1, generation = -1; /* relaxed atomics: racing callers store the same values */
    int g = sb_cpu_features_generation();
    int m0 = __atomic_load_n(&mask, __ATOMIC_RELAXED);
    if (m0 < 0 || __atomic_load_n(&generation, __ATOMIC_RELAXED) != g) {
        int m = FEAT_NONE;
        static const struct { int bit; const char *name; } names[] = {
            {FEAT_VNNI, "avx512vnni"}, {FEAT_BF16, "avx512bf16"}, {FEAT_VBMI, "avx512vbmi"},
            {FEAT_GFNI, "gfni"},       {FEAT_DOTPROD, "dotprod"}, {FEAT_AVXVNNI, "avxvnni"},
        };
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (sb_cpu_has(names[i].name)) m |= names[i].bit;
        __atomic_store_n(&generation, g, __ATOMIC_RELAXED);
        __atomic_store_n(&mask, m, __ATOMIC_RELAXED);
        return m;
    }
    return m0;
}

/* Whether the CPU has every feature bit in `needs`. */
static int cpu_has(int needs)
{
    return (cpu_features() & needs) == needs;
}

static const kernel_entry *find_kernel(sb_isa isa, sb_type t, int64_t m)
{
    for (int level = (int)isa; level > SB_ISA_REF; level--) {
        for (size_t i = 0; i < sizeof kernel_table / sizeof kernel_table[0]; i++) {
            const kernel_entry *e = &kernel_table[i];
            if ((int)e->isa == level && e->type == t && e->dot && m >= e->min_m && cpu_has(e->needs))
                return e;
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- optimized driver */

/* The quad layout of one X row (SB_ACT_Q8_0_OFF*_QUADS, see sb_act) from its Q8_0_OFF* arrays. */
static void regroup_quads(const int8_t *q, const int32_t *start, const float *d, int64_t n_quads, int8_t *quad_q,
                          int32_t *quad_start, float *quad_d)
{
    for (int64_t u = 0; u < n_quads; u++)
        for (int j = 0; j < 4; j++) {
            int64_t b = 4 * u + j; /* block */
            memcpy(quad_q + 128 * u + 16 * j, q + 32 * b, 16);
            memcpy(quad_q + 128 * u + 64 + 16 * j, q + 32 * b + 16, 16);
            for (int i = 0; i < 4; i++) {
                quad_start[16 * u + 4 * j + i] = start[8 * b + i] + start[8 * b + 4 + i];
                quad_d[16 * u + 4 * j + i] = d[b];
            }
        }
}

/* Activation arrays up to this size live in a per-thread buffer kept between calls: decode
 * prepares X for every matmul (~150 per token of a 1B model, ~200 of a 135M one), and eight
 * mallocs and frees per call showed as ~3 % of a small model's decode. Larger ones (prefill)
 * get a block of their own. */
#define ACT_CACHE_BYTES ((size_t)4 << 20)

static _Thread_local void *act_cache; /* ACT_CACHE_BYTES, from the thread's first quantized matmul */
static pthread_key_t act_cache_key;      /* frees it when the thread exits */
static pthread_once_t act_cache_once = PTHREAD_ONCE_INIT;

static void act_cache_key_init(void)
{
    pthread_key_create(&act_cache_key, free);
}

/* Fill the sb_act arrays X needs for `kind`, threads splitting the rows. `simd`: use the AVX2
 * activation quantizers (same results as the reference ones, only faster). All arrays come from
 * one block (a->mem when owned, else the thread's cache), each 64-byte aligned. slot < 0: the
 * whole cache; slot 0 .. SB_MATMUL_PARTS-1: its share of it, so that the activations of one
 * sb_matmul_multi call can live side by side. */
static int prepare_act(sb_act *a, sb_act_kind kind, const float *X, int64_t m, int64_t k, int nt, int simd,
                       int slot)
{
    memset(a, 0, sizeof *a);
    a->k = k;
    a->f32 = X;
    if (kind == SB_ACT_F32) return SB_KOK;
    const size_t mk = (size_t)m * (size_t)k;
    const int bf16 = kind == SB_ACT_BF16, is_q8_0 = kind != SB_ACT_Q8_K && !bf16;
    const int quads = kind == SB_ACT_Q8_0_OFF8_QUADS || kind == SB_ACT_Q8_0_OFF128_QUADS;
    const int32_t offset = kind == SB_ACT_Q8_0_OFF8 || kind == SB_ACT_Q8_0_OFF8_QUADS       ? 8
                           : kind == SB_ACT_Q8_0_OFF128 || kind == SB_ACT_Q8_0_OFF128_QUADS ? 128
                                                                                            : 0;
    const int64_t nd = is_q8_0 ? k / SB_QK8_0 : k / SB_QK_K;
    const int64_t ns = is_q8_0 ? k / SB_QK8_0 : k / 16;
    const size_t nq = (size_t)m * (size_t)(k / 128); /* whole quads of Q8_0 blocks, all rows */
    /* bytes of each array (0: not used by this kind), then their offsets in the block */
    enum { BF16, Q, D, S, START, DEXP, QUAD_Q, QUAD_START, QUAD_D, N_ARRAYS };
    size_t bytes[N_ARRAYS] = {0}, off[N_ARRAYS], total = 0;
    if (bf16) {
        bytes[BF16] = mk * sizeof(uint16_t);
    } else {
        bytes[Q] = mk;
        bytes[D] = (size_t)(m * nd + 1) * sizeof(float);
        bytes[S] = (size_t)(m * ns + 1) * sizeof(int16_t);
        if (offset) bytes[START] = bytes[DEXP] = (mk / 4) * 4;
        if (quads) bytes[QUAD_Q] = nq * 128, bytes[QUAD_START] = bytes[QUAD_D] = nq * 16 * 4;
    }
    for (int i = 0; i < N_ARRAYS; i++) off[i] = total, total += (bytes[i] + 63) / 64 * 64;
    char *base;
    const size_t share = slot < 0 ? ACT_CACHE_BYTES : ACT_CACHE_BYTES / SB_MATMUL_PARTS;
    if (total <= share) {
        if (!act_cache) {
            act_cache = aligned_alloc(64, ACT_CACHE_BYTES);
            if (!act_cache) return SB_KERR_NOMEM;
            pthread_once(&act_cache_once, act_cache_key_init);
            pthread_setspecific(act_cache_key, act_cache);
        }
        base = (char *)act_cache + (slot < 0 ? 0 : (size_t)slot * share);
    } else {
        a->mem = aligned_alloc(64, total);
        if (!a->mem) return SB_KERR_NOMEM;
        base = a->mem;
    }
    if (bf16) {
        a->bf16 = (uint16_t *)(void *)(base + off[BF16]);
        #pragma omp parallel for if (nt > 1) num_threads(nt) schedule(static)
        for (int64_t i = 0; i < (int64_t)mk; i++) a->bf16[i] = sb_fp32_to_bf16(X[i]);
        return SB_KOK;
    }
    a->q = (int8_t *)(base + off[Q]);
    a->d = (float *)(void *)(base + off[D]);
    a->s = (int16_t *)(void *)(base + off[S]);
    if (offset) {
        a->start = (int32_t *)(void *)(base + off[START]);
        a->dexp = (float *)(void *)(base + off[DEXP]);
    }
    if (quads) {
        a->quad_q = (int8_t *)(base + off[QUAD_Q]);
        a->quad_start = (int32_t *)(void *)(base + off[QUAD_START]);
        a->quad_d = (float *)(void *)(base + off[QUAD_D]);
    }
    const int64_t nqr = k / 128; /* quads per row */
    #pragma omp parallel for if (m > 1 && nt > 1) num_threads(nt) schedule(static)
    for (int64_t i = 0; i < m; i++) {
        const float *xr = X + i * k;
        int8_t *q = a->q + i * k;
        float *d = a->d + i * nd;
        int16_t *s = a->s + i * ns;
        int32_t *start = offset ? a->start + i * (k / 4) : NULL;
        float *dexp = offset ? a->dexp + i * (k / 4) : NULL;
#if defined(__x86_64__)
        if (simd && is_q8_0) sb_quantize_act_q8_0_avx2(xr, nd, q, d, s, start, dexp, offset);
        else if (simd) sb_quantize_act_q8_K_avx2(xr, nd, q, d, s);
        else
#endif
        for (int64_t b = 0; b < nd; b++) {
            if (is_q8_0) {
                int8_t *qb = q + b * SB_QK8_0;
                d[b] = sb_fp16_to_fp32(sb_quantize_block_q8_0(xr + b * SB_QK8_0, qb));
                int sum = 0;
                for (int e = 0; e < SB_QK8_0; e++) sum += qb[e];
                s[b] = (int16_t)sum;
                for (int e = 0; offset && e < SB_QK8_0; e += 4) {
                    int64_t lane = (b * SB_QK8_0 + e) / 4;
                    start[lane] = -offset * (qb[e] + qb[e + 1] + qb[e + 2] + qb[e + 3]);
                    dexp[lane] = d[b];
                }
            } else {
                d[b] = sb_quantize_block_q8_K(xr + b * SB_QK_K, q + b * SB_QK_K, s + b * 16);
            }
        }
        if (quads)
            regroup_quads(q, start, d, nqr, a->quad_q + i * nqr * 128, a->quad_start + i * nqr * 16,
                          a->quad_d + i * nqr * 16);
    }
    return SB_KOK;
}

static void free_act(sb_act *a)
{
    free(a->mem); /* NULL when the arrays came from the thread's cache */
}

/* Weight rows per tile: a tile of weight rows stays in L2 while every block of SB_MR X rows
 * passes over it (prefill); for m <= SB_MR it is one pass over the weights (decode). */
#define N_TILE 32

/* Decode with a one-row kernel (levels without a four-row one, e.g. AVX2): the same four
 * streams a quarter of the matrix apart, taken a chunk of elements at a time in turn (the
 * kernel runs on a view of X and of each row from `off` on), each prefetched SB_STREAM_AHEAD
 * bytes ahead. AVX2 decode, 4096×14336, 2 threads, GB/s: f16 20–21 → 35, f32 24 → 31–32, q8_0
 * 18 → 32 (one stream per thread with a prefetch of its own: f16 ~25); Q4_0 and Q4_K, bound by
 * unpacking on AVX2 at 11–15 GB/s, stay where they were. */
#define DECODE_CHUNK 512 /* elements: a multiple of every block size (32, 256) */

/* The chunk for weight type t and rows of k elements: DECODE_CHUNK grown while it holds under
 * 1 KB of weights (fewer calls and horizontal sums for the dense formats) and four chunks still
 * fit in a row, so that the streams do interleave. */
static int64_t decode_chunk(sb_type t, int64_t k)
{
    size_t bytes;
    sb_row_bytes(t, DECODE_CHUNK, &bytes);
    int64_t chunk = DECODE_CHUNK;
    while ((size_t)(chunk / DECODE_CHUNK) * bytes < 1024 && 4 * chunk <= k) chunk += DECODE_CHUNK;
    return chunk;
}

static sb_act act_view(const sb_act *x, sb_act_kind kind, int64_t off, int64_t len)
{
    sb_act v = *x;
    v.k = len;
    v.f32 += off;
    if (v.bf16) v.bf16 += off;
    if (v.q) {
        int q8k = kind == SB_ACT_Q8_K;
        v.q += off;
        v.d += off / (q8k ? SB_QK_K : SB_QK8_0);
        v.s += off / (q8k ? 16 : SB_QK8_0);
    }
    if (v.start) v.start += off / 4, v.dexp += off / 4;
    if (v.quad_q) v.quad_q += off, v.quad_start += off / 8, v.quad_d += off / 8; /* off: whole quads */
    return v;
}

/* y[c] = dot(weight row w + c·ws bytes, X row 0), c < 4, with the entry's one-row kernel. */
static void rowdot4_chunked(const kernel_entry *e, int64_t chunk, const uint8_t *w, size_t ws, const sb_act *x,
                            float y[4])
{
    const int64_t k = x->k;
    for (int c = 0; c < 4; c++) y[c] = 0;
    for (int64_t off = 0; off < k; off += chunk) {
        int64_t len = k - off < chunk ? k - off : chunk;
        size_t boff, blen; /* off and len are whole blocks */
        sb_row_bytes(e->type, off, &boff);
        sb_row_bytes(e->type, len, &blen);
        sb_act v = act_view(x, e->act, off, len);
        for (int c = 0; c < 4; c++) {
            const uint8_t *p = w + (size_t)c * ws + boff;
            for (size_t l = 0; l < blen; l += 64) __builtin_prefetch(p + SB_STREAM_AHEAD + l);
            float t;
            e->dot(p, &v, 0, 1, &t, 1);
            y[c] += t;
        }
    }
}

/* Decode (m <= SB_MR): each weight row read once. Several streams per thread: this machine's
 * memory needs them to reach its bandwidth (2 threads: one stream each reads ~16 GB/s, four
 * ~27). A four-row kernel (m = 1) reads rows a quarter of the matrix apart; a two-row kernel
 * rows half of it apart. A plan cuts the rows into q steps of `streams` rows; the caller's loop
 * over the steps is the parallel one. */
typedef struct decode_plan {
    const kernel_entry *e;
    const sb_act *act;
    const uint8_t *w;
    size_t wrow_bytes;
    float *Y;
    int64_t m, n, q, chunk;
    int streams;
} decode_plan;

static decode_plan plan_decode(const kernel_entry *e, const sb_act *act, float *Y, const void *W, int64_t m,
                               int64_t n, int64_t k, size_t wrow_bytes)
{
    decode_plan d = {e, act, W, wrow_bytes, Y, m, n, 0, 0, 1};
    int has4 = m == 1 && e->dot4;
    d.chunk = m == 1 && !has4 && k >= 2 * DECODE_CHUNK ? decode_chunk(e->type, k) : 0;
    d.streams = has4 || d.chunk ? 4 : e->dot2 ? 2 : 1;
    d.q = (n + d.streams - 1) / d.streams;
    return d;
}

/* Step j < d->q: rows j, j + q, j + 2q, ... */
static void decode_step(const decode_plan *d, int64_t j)
{
    const kernel_entry *e = d->e;
    const int64_t m = d->m, n = d->n, q = d->q;
    const int streams = d->streams;
    const uint8_t *w = d->w + (size_t)j * d->wrow_bytes;
    if (j + (streams - 1) * q < n && streams > 1) {
        float ys[4 * SB_MR];
        if (m == 1 && e->dot4) e->dot4(w, (size_t)q * d->wrow_bytes, d->act, ys);
        else if (d->chunk) rowdot4_chunked(e, d->chunk, w, (size_t)q * d->wrow_bytes, d->act, ys);
        else e->dot2(w, (size_t)q * d->wrow_bytes, d->act, 0, (int)m, ys, streams);
        for (int64_t r = 0; r < m; r++)
            for (int c = 0; c < streams; c++) d->Y[r * n + j + c * q] = ys[r * streams + c];
    } else {
        for (int64_t jj = j; jj < n; jj += q)
            e->dot(d->w + (size_t)jj * d->wrow_bytes, d->act, 0, (int)m, d->Y + jj, n);
    }
}

static int matmul_kernel(const kernel_entry *e, float *Y, const float *X, const void *W, int64_t m,
                         int64_t n, int64_t k, size_t wrow_bytes, int nt)
{
    sb_act act;
    int st = prepare_act(&act, e->act, X, m, k, nt, e->isa == SB_ISA_AVX2 || e->isa == SB_ISA_AVX512, -1);
    if (st != SB_KOK) {
        free_act(&act);
        return st;
    }
    const uint8_t *w = W;
    int64_t n_tiles = (n + N_TILE - 1) / N_TILE;
    sb_rowdot_fn dot = e->dot;
    sb_rowdot2_fn dot2 = e->dot2;
    if (m <= SB_MR) {
        /* Guided chunks: big ones first (few hand-offs: a small model's 576-wide matvec took
         * 20 µs with chunks of 8 rows, 15 with guided), shrinking so that a thread the OS
         * descheduled on a shared machine does not hold up the call. */
        decode_plan d = plan_decode(e, &act, Y, W, m, n, k, wrow_bytes);
        #pragma omp parallel for if (nt > 1) num_threads(nt) schedule(guided, 4)
        for (int64_t j = 0; j < d.q; j++) decode_step(&d, j);
    } else {
        #pragma omp parallel for if (nt > 1) num_threads(nt) schedule(dynamic, 1)
        for (int64_t t = 0; t < n_tiles; t++) {
            int64_t j0 = t * N_TILE, j1 = j0 + N_TILE < n ? j0 + N_TILE : n;
            for (int64_t i = 0; i < m; i += SB_MR) {
                int nr = m - i < SB_MR ? (int)(m - i) : SB_MR;
                int64_t j = j0;
                for (; dot2 && j + 2 <= j1; j += 2)
                    dot2(w + (size_t)j * wrow_bytes, wrow_bytes, &act, i, nr, Y + i * n + j, n);
                for (; j < j1; j++) dot(w + (size_t)j * wrow_bytes, &act, i, nr, Y + i * n + j, n);
            }
        }
    }
    free_act(&act);
    return SB_KOK;
}

/* Prefill with f16 or bf16 weights goes through the F32 GEMM (register-blocked over both X and W
 * rows, and exact in X, where vdpbf16ps would round X to bf16): sb_gemm_half widens W while it
 * packs it (2048×5632, m = 512, 2 threads: ~215 GFLOP/s against ~180 for widening tiles into a
 * buffer first; the row-dot kernels reached 22–33). */
#define GEMM_MIN_M 32

/* Prefill with quantized weights on x86: the packed int8 GEMM (kernels/qgemm.c). X is
 * quantized exactly as the reference does (Q8_0 or Q8_K). Below QGEMM_MIN_M rows the packing of
 * each weight panel is not paid back and the row-dot kernels serve (2048×5632, 2 threads, this
 * machine: even at m = 8, qgemm ahead by 1.3–1.6× at m = 12–16). */
#define QGEMM_MIN_M 12

static int matmul_qgemm(const sb_qgemm_kernel *qk, float *Y, const float *X, const void *W, sb_type t, int64_t m,
                        int64_t n, int64_t k, size_t wrow_bytes, int nt)
{
    sb_act act;
    sb_act_kind kind = (t == SB_TYPE_Q4_0 || t == SB_TYPE_Q8_0) ? SB_ACT_Q8_0 : SB_ACT_Q8_K;
    int st = prepare_act(&act, kind, X, m, k, nt, 1, -1);
    if (st == SB_KOK) st = sb_qgemm(qk, Y, &act, W, t, m, n, wrow_bytes, nt);
    free_act(&act);
    return st;
}

/* ---------------------------------------------------------------- public */

/* sb_matmul runs on one thread when the product has fewer multiply-adds than SMALL_WORK and
 * fewer weight bytes than SMALL_BYTES (the cost of waking a thread team is a few µs; reading
 * 128 KB takes one thread ~7). By multiply-adds alone, a 288×288 f32 matvec (331 KB) ran on one
 * thread: stories15M decoded at 364 tok/s against 413 with the byte bound (medians of 9
 * alternating runs, 8 of 9 pairs ahead). */
#define SMALL_WORK (256.0 * 1024.0)
#define SMALL_BYTES (128.0 * 1024.0)

/* Threads for a product of `work` multiply-adds over `bytes` of weights. */
static int threads_for(const sb_kctx *ctx, double work, double bytes)
{
    return work < SMALL_WORK && bytes < SMALL_BYTES ? 1 : sb_kctx_threads(ctx);
}

/* The argument checks of sb_matmul; *wrow_bytes: bytes per weight row. */
static int check_matmul(const sb_kctx *ctx, const float *Y, const float *X, const void *W, sb_type wtype,
                        int64_t m, int64_t n, int64_t k, size_t *wrow_bytes)
{
    if (!ctx || !Y || !X || !W || m < 0 || n < 0 || k < 0) return SB_KERR_ARG;
    if ((unsigned)ctx->isa >= SB_ISA_COUNT || !sb_type_is_weight_format(wtype)) return SB_KERR_ARG;
    size_t wbytes, xbytes, ybytes;
    int st = sb_row_bytes(wtype, k, wrow_bytes);
    if (st != SB_KOK) return st;
    if (__builtin_mul_overflow((size_t)n, *wrow_bytes, &wbytes) ||
        __builtin_mul_overflow((size_t)m, (size_t)k * sizeof(float), &xbytes) ||
        __builtin_mul_overflow((size_t)m, (size_t)n * sizeof(float), &ybytes) || (size_t)k > SIZE_MAX / 8 ||
        (size_t)n > SIZE_MAX / 8)
        return SB_KERR_ARG;
    if (ctx->isa != SB_ISA_REF && !sb_isa_supported(ctx->isa)) return SB_KERR_UNSUPPORTED;
    return SB_KOK;
}

/* Y[m×n] = X[m×k]·Wᵀ (see kernels.h). Validates arguments (SB_KERR_ARG for NULL pointers,
 * negative sizes, sizes whose products overflow, an unknown ISA level or a non-weight format;
 * SB_KERR_SHAPE when k is not a multiple of the format's block; SB_KERR_UNSUPPORTED for a level
 * this CPU cannot run), then runs ctx->isa's kernel for the format, falling back to a lower
 * level where a level has none. */
int sb_matmul(const sb_kctx *ctx, float *Y, const float *X, const void *W, sb_type wtype, int64_t m,
              int64_t n, int64_t k)
{
    size_t wrow_bytes;
    int st = check_matmul(ctx, Y, X, W, wtype, m, n, k, &wrow_bytes);
    if (st != SB_KOK) return st;
    if (m == 0 || n == 0) return SB_KOK;
    if (k == 0) {
        memset(Y, 0, (size_t)m * (size_t)n * sizeof(float));
        return SB_KOK;
    }
    if (ctx->isa == SB_ISA_REF) return matmul_ref(Y, X, W, wtype, m, n, k, wrow_bytes);
    /* Small products (a tiny model's layers) cost less than waking a thread team: one thread. */
    int nt = threads_for(ctx, (double)m * (double)n * (double)k, (double)n * (double)wrow_bytes);
    if (wtype == SB_TYPE_F32 && m > 1) return sb_gemm_f32(ctx, Y, X, W, m, n, k);
    if ((wtype == SB_TYPE_F16 || wtype == SB_TYPE_BF16) && m >= GEMM_MIN_M)
        return sb_gemm_half(ctx, Y, X, W, wtype, m, n, k);
    const sb_qgemm_kernel *qk = m >= QGEMM_MIN_M ? sb_qgemm_kernel_for(ctx->isa, wtype) : NULL;
    if (qk) return matmul_qgemm(qk, Y, X, W, wtype, m, n, k, wrow_bytes, nt);
    const kernel_entry *e = find_kernel(ctx->isa, wtype, m);
    if (!e) return matmul_ref(Y, X, W, wtype, m, n, k, wrow_bytes);
    return matmul_kernel(e, Y, X, W, m, n, k, wrow_bytes, nt);
}

/* Several weights times one X (see kernels.h). In decode every part whose sb_matmul would take
 * the row-dot path (matmul_kernel with m <= SB_MR) joins one parallel loop over the steps of
 * all their plans; X is prepared once per activation kind. Anything else (prefill, the ref
 * level, a format without a kernel) is done part by part with sb_matmul. */
int sb_matmul_multi(const sb_kctx *ctx, const float *X, int64_t m, int64_t k, const sb_matmul_part *parts,
                    int count)
{
    if (!parts || count < 0 || count > SB_MATMUL_PARTS) return SB_KERR_ARG;
    size_t wrow_bytes[SB_MATMUL_PARTS];
    for (int i = 0; i < count; i++) {
        int st = check_matmul(ctx, parts[i].Y, X, parts[i].W, parts[i].wtype, m, parts[i].n, k, &wrow_bytes[i]);
        if (st != SB_KOK) return st;
    }
    const kernel_entry *e[SB_MATMUL_PARTS];
    int fused = count > 1 && m >= 1 && m <= SB_MR && k > 0 && ctx->isa != SB_ISA_REF;
    double work = 0, bytes = 0;
    for (int i = 0; fused && i < count; i++) {
        e[i] = parts[i].wtype == SB_TYPE_F32 && m > 1 ? NULL : find_kernel(ctx->isa, parts[i].wtype, m);
        fused = e[i] != NULL;
        work += (double)m * (double)parts[i].n * (double)k;
        bytes += (double)parts[i].n * (double)wrow_bytes[i];
    }
    if (!fused) {
        for (int i = 0; i < count; i++) {
            int st = sb_matmul(ctx, parts[i].Y, X, parts[i].W, parts[i].wtype, m, parts[i].n, k);
            if (st != SB_KOK) return st;
        }
        return SB_KOK;
    }
    int nt = threads_for(ctx, work, bytes);
    /* one prepared X per activation kind, in slot i of the first part i that needs it */
    sb_act act[SB_MATMUL_PARTS];
    int act_of[SB_MATMUL_PARTS], n_act = 0, st = SB_KOK;
    for (int i = 0; i < count && st == SB_KOK; i++) {
        act_of[i] = -1;
        for (int j = 0; j < i; j++)
            if (e[j]->act == e[i]->act) act_of[i] = act_of[j];
        if (act_of[i] >= 0) continue;
        st = prepare_act(&act[n_act], e[i]->act, X, m, k, nt, e[i]->isa == SB_ISA_AVX2 || e[i]->isa == SB_ISA_AVX512,
                         n_act);
        act_of[i] = n_act++;
    }
    if (st == SB_KOK) {
        decode_plan d[SB_MATMUL_PARTS];
        int64_t first[SB_MATMUL_PARTS + 1] = {0}; /* part i owns steps first[i] .. first[i+1]-1 */
        for (int i = 0; i < count; i++) {
            d[i] = plan_decode(e[i], &act[act_of[i]], parts[i].Y, parts[i].W, m, parts[i].n, k, wrow_bytes[i]);
            first[i + 1] = first[i] + d[i].q;
        }
        #pragma omp parallel for if (nt > 1) num_threads(nt) schedule(guided, 4)
        for (int64_t j = 0; j < first[count]; j++) {
            int i = 0;
            while (j >= first[i + 1]) i++;
            decode_step(&d[i], j - first[i]);
        }
    }
    for (int i = 0; i < n_act; i++) free_act(&act[i]);
    return st;
}
