/* Benchmark cases and suites: data, not code. FLOP and byte counts per op. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bench/bench.h"

static const char *const op_names[BENCH_OP_COUNT] = {"matmul", "attention", "rmsnorm", "rope", "softmax", "silu_mul", "add"};
static const char *const backend_names[BENCH_BACKEND_COUNT] = {"ref", "cpu", "blas", "vulkan"};

const char *bench_op_name(bench_op op) { return (unsigned)op < BENCH_OP_COUNT ? op_names[op] : "?"; }
const char *bench_backend_name(bench_backend b) { return (unsigned)b < BENCH_BACKEND_COUNT ? backend_names[b] : "?"; }

int bench_backend_from_name(const char *name, bench_backend *out)
{
    for (int i = 0; i < BENCH_BACKEND_COUNT; i++)
        if (!strcasecmp(name, backend_names[i])) { *out = (bench_backend)i; return 0; }
    return -1;
}

/* Bytes of a tensor of `elems` elements in format t (weights as stored, blocks included). */
static double type_bytes(sb_type t, double elems)
{
    return elems / (double)sb_type_block_elems(t) * (double)sb_type_block_bytes(t);
}

double bench_case_flops(const bench_case *c)
{
    switch (c->op) {
    case BENCH_MATMUL: return 2.0 * (double)c->m * (double)c->n * (double)c->k;
    case BENCH_ATTENTION: {
        /* Causal: query i at position pos+i sees pos+i+1 keys; QKᵀ and PV are 2 flops per
         * (key, dim) each. */
        double keys = 0, pos = (double)(c->ctx - c->m);
        for (int64_t i = 0; i < c->m; i++) keys += pos + (double)i + 1;
        return 4.0 * keys * c->head_dim * c->n_head;
    }
    case BENCH_RMSNORM: return 4.0 * (double)c->m * (double)c->n;   /* square+add, scale, weight */
    case BENCH_ROPE: return 6.0 * (double)c->m * (double)c->n / 2;   /* per pair: 4 mul + 2 add   */
    case BENCH_SOFTMAX: return 5.0 * (double)c->m * (double)c->n;    /* max, sub, exp~1, sum, div */
    case BENCH_SILU_MUL: return 5.0 * (double)c->n;
    case BENCH_ADD: return (double)c->n;
    default: return 0;
    }
}

double bench_case_bytes(const bench_case *c)
{
    switch (c->op) {
    case BENCH_MATMUL:
        return type_bytes(c->type, (double)c->n * (double)c->k) + 4.0 * (double)c->m * (double)c->k +
               4.0 * (double)c->m * (double)c->n;
    case BENCH_ATTENTION: {
        double kv = 2 * type_bytes(c->type, (double)c->ctx * c->n_kv_head * c->head_dim);
        return kv + 2 * 4.0 * (double)c->m * c->n_head * c->head_dim;
    }
    case BENCH_RMSNORM: return 4.0 * ((double)c->m * (double)c->n * 2 + (double)c->n);
    case BENCH_ROPE:
    case BENCH_SOFTMAX: return 4.0 * 2 * (double)c->m * (double)c->n;
    case BENCH_SILU_MUL:
    case BENCH_ADD: return 4.0 * 3 * (double)c->n;
    default: return 0;
    }
}

void bench_case_name(const bench_case *c, char *buf, size_t len)
{
    switch (c->op) {
    case BENCH_MATMUL:
        snprintf(buf, len, "matmul/%s/m%lld_n%lld_k%lld", sb_type_name(c->type), (long long)c->m, (long long)c->n, (long long)c->k);
        break;
    case BENCH_ATTENTION:
        snprintf(buf, len, "attention/%s/m%lld_ctx%lld_h%d_kv%d_d%d", sb_type_name(c->type), (long long)c->m,
                 (long long)c->ctx, c->n_head, c->n_kv_head, c->head_dim);
        break;
    case BENCH_SILU_MUL:
    case BENCH_ADD: snprintf(buf, len, "%s/f32/n%lld", bench_op_name(c->op), (long long)c->n); break;
    default: snprintf(buf, len, "%s/f32/m%lld_n%lld", bench_op_name(c->op), (long long)c->m, (long long)c->n); break;
    }
}

int bench_backend_supports(bench_backend b, const bench_case *c)
{
    if (b == BENCH_BLAS) return c->op == BENCH_MATMUL && c->type == SB_TYPE_F32;
    return 1;
}

#define MM(t, M, N, K) {.op = BENCH_MATMUL, .type = (t), .m = (M), .n = (N), .k = (K)}
#define ATT(t, M, CTX, H, KVH, D) {.op = BENCH_ATTENTION, .type = (t), .m = (M), .ctx = (CTX), .n_head = (H), .n_kv_head = (KVH), .head_dim = (D)}
#define ROW(o, M, N) {.op = (o), .type = SB_TYPE_F32, .m = (M), .n = (N)}
#define VEC(o, N) {.op = (o), .type = SB_TYPE_F32, .m = 1, .n = (N)}
#define FORMATS(M, N, K) MM(SB_TYPE_F32, M, N, K), MM(SB_TYPE_F16, M, N, K), MM(SB_TYPE_BF16, M, N, K), \
    MM(SB_TYPE_Q8_0, M, N, K), MM(SB_TYPE_Q4_0, M, N, K), MM(SB_TYPE_Q4_K, M, N, K), MM(SB_TYPE_Q5_K, M, N, K), MM(SB_TYPE_Q6_K, M, N, K)

/* quick: what CI runs; under a minute here with cpu + blas. */
static const bench_case quick[] = {
    MM(SB_TYPE_F32, 256, 256, 256), MM(SB_TYPE_F32, 512, 512, 512),
    FORMATS(1, 2048, 2048),
    MM(SB_TYPE_Q4_K, 64, 2048, 2048), MM(SB_TYPE_Q8_0, 64, 2048, 2048),
    ATT(SB_TYPE_F16, 1, 2048, 32, 8, 64), ATT(SB_TYPE_F32, 128, 512, 8, 2, 64),
    ROW(BENCH_RMSNORM, 64, 2048), ROW(BENCH_ROPE, 64, 2048), ROW(BENCH_SOFTMAX, 64, 4096),
    VEC(BENCH_SILU_MUL, 1 << 16), VEC(BENCH_ADD, 1 << 16),
};

/* standard: real LLM shapes (Llama-3-8B-like projections), prefill m = 512, attention sweeps. */
static const bench_case standard[] = {
    MM(SB_TYPE_F32, 256, 256, 256), MM(SB_TYPE_F32, 512, 512, 512), MM(SB_TYPE_F32, 1024, 1024, 1024),
    MM(SB_TYPE_F32, 2048, 2048, 2048),
    FORMATS(1, 2048, 2048), FORMATS(1, 4096, 4096), FORMATS(1, 14336, 4096), FORMATS(1, 4096, 14336),
    FORMATS(512, 4096, 4096),
    ATT(SB_TYPE_F16, 512, 512, 32, 8, 128), ATT(SB_TYPE_F16, 512, 2048, 32, 8, 128), ATT(SB_TYPE_F16, 512, 4096, 32, 8, 128),
    ATT(SB_TYPE_F16, 1, 512, 32, 8, 128), ATT(SB_TYPE_F16, 1, 4096, 32, 8, 128), ATT(SB_TYPE_F16, 1, 32768, 32, 8, 128),
    ROW(BENCH_RMSNORM, 512, 4096), ROW(BENCH_ROPE, 512, 4096), ROW(BENCH_SOFTMAX, 512, 4096),
    VEC(BENCH_SILU_MUL, 14336 * 64), VEC(BENCH_ADD, 4096 * 512),
};

/* full: standard plus the largest decode shape (70B-class FFN). */
static const bench_case full[] = {
    MM(SB_TYPE_F32, 256, 256, 256), MM(SB_TYPE_F32, 512, 512, 512), MM(SB_TYPE_F32, 1024, 1024, 1024),
    MM(SB_TYPE_F32, 2048, 2048, 2048), MM(SB_TYPE_F32, 4096, 4096, 4096),
    FORMATS(1, 2048, 2048), FORMATS(1, 4096, 4096), FORMATS(1, 14336, 4096), FORMATS(1, 4096, 14336),
    FORMATS(1, 28672, 8192), FORMATS(512, 4096, 4096), FORMATS(512, 14336, 4096),
    ATT(SB_TYPE_F16, 512, 512, 32, 8, 128), ATT(SB_TYPE_F16, 512, 2048, 32, 8, 128), ATT(SB_TYPE_F16, 512, 4096, 32, 8, 128),
    ATT(SB_TYPE_F16, 1, 512, 32, 8, 128), ATT(SB_TYPE_F16, 1, 4096, 32, 8, 128), ATT(SB_TYPE_F16, 1, 16384, 32, 8, 128),
    ATT(SB_TYPE_F16, 1, 32768, 32, 8, 128),
    ROW(BENCH_RMSNORM, 512, 4096), ROW(BENCH_ROPE, 512, 4096), ROW(BENCH_SOFTMAX, 512, 4096),
    VEC(BENCH_SILU_MUL, 14336 * 64), VEC(BENCH_ADD, 4096 * 512),
};

/* tiny: every op and format at small sizes, for tests with the ref back end. */
static const bench_case tiny[] = {
    MM(SB_TYPE_F32, 3, 17, 64), FORMATS(1, 33, 256), MM(SB_TYPE_Q4_K, 5, 7, 512),
    ATT(SB_TYPE_F32, 3, 20, 4, 2, 16), ATT(SB_TYPE_F16, 1, 33, 4, 1, 16),
    ROW(BENCH_RMSNORM, 3, 64), ROW(BENCH_ROPE, 3, 64), ROW(BENCH_SOFTMAX, 3, 100),
    VEC(BENCH_SILU_MUL, 1000), VEC(BENCH_ADD, 1000),
};

const bench_case *bench_suite(const char *name, size_t *n)
{
#define SUITE(s) do { *n = sizeof s / sizeof s[0]; return s; } while (0)
    if (!strcmp(name, "quick")) SUITE(quick);
    if (!strcmp(name, "standard")) SUITE(standard);
    if (!strcmp(name, "full")) SUITE(full);
    if (!strcmp(name, "tiny")) SUITE(tiny);
#undef SUITE
    *n = 0;
    return NULL;
}
