/* perf_vulkan — the Vulkan back end's matmul, matvec and attention against the CPU kernels.
 *
 *   build/perf/perf_vulkan [--device N] [--reps N] [--n N] [--k N] [--quick]
 *
 * Prints, in one run: the device; F32/F16 square matmul N×N×N (default 512) GFLOP/s from device
 * timestamps and from host time (record + submit + wait), and the CPU sb_matmul (best ISA, all
 * threads) at the same shape; decode matvec (m = 1) at k×k (default 4096) for every weight format
 * in GB/s of weight bytes per call, device and CPU; flash-attention decode (32/8 heads, head_dim
 * 128, f16 K/V, ctx 1024) in GB/s of K/V read. Weights are resident on the device (uploaded once);
 * each timed call is one batch of one dispatch. Medians of --reps calls after one warm-up call
 * (which also compiles the pipeline). On lavapipe these figures only show the path works: the
 * "GPU" is this CPU running LLVM-compiled shaders. Nothing here asserts a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/measure.h"
#include "kernels/kernels.h"
#include "kernels/vulkan/vk.h"

static void fill(float *x, size_t n, uint64_t *seed)
{
    for (size_t i = 0; i < n; i++) {
        *seed ^= *seed << 13, *seed ^= *seed >> 7, *seed ^= *seed << 17;
        x[i] = (float)((*seed >> 40) * 0x1p-24) * 2.0f - 1.0f;
    }
}

static void *quantize_matrix(sb_type t, int64_t n, int64_t k, uint64_t *seed, size_t *bytes)
{
    size_t rb = 0;
    if (sb_row_bytes(t, k, &rb) != SB_KOK) return NULL;
    uint8_t *w = malloc(rb * (size_t)n);
    float *row = malloc(sizeof(float) * (size_t)k);
    if (!w || !row) {
        free(w);
        free(row);
        return NULL;
    }
    for (int64_t j = 0; j < n; j++) {
        fill(row, (size_t)k, seed);
        sb_quantize_row(t, row, w + (size_t)j * rb, k);
    }
    free(row);
    *bytes = rb * (size_t)n;
    return w;
}

typedef struct timing3 { double dev, host, cpu; } timing3;

/* One operation to time: rec records it into an open batch, cpu runs the CPU kernel. */
typedef struct timed_op {
    int (*rec)(sb_vk *vk, void *arg);
    int (*cpu)(void *arg);
    void *arg;
} timed_op;

/* Medians in seconds over reps calls after one warm-up call each: device timestamps, host time
 * (record + submit + wait), and the CPU kernel. */
static int time_op(sb_vk *vk, const timed_op *op, int reps, timing3 *out)
{
    double *v = calloc(3 * (size_t)reps, sizeof(double));
    if (!v) return SB_KERR_NOMEM;
    double *dv = v, *hv = v + reps, *cv = v + 2 * (size_t)reps;
    int st = SB_KOK;
    for (int r = 0; r <= reps && !st; r++) {
        sb_vk_timing tm;
        st = sb_vk_begin(vk);
        if (!st) st = op->rec(vk, op->arg);
        if (!st) st = sb_vk_submit(vk, &tm);
        if (!st && r > 0) dv[r - 1] = tm.device_s, hv[r - 1] = tm.host_s;
    }
    for (int r = 0; r <= reps && !st; r++) {
        double t0 = sb_now_s();
        st = op->cpu(op->arg);
        if (r > 0) cv[r - 1] = sb_now_s() - t0;
    }
    if (!st) *out = (timing3){sb_median(dv, reps), sb_median(hv, reps), sb_median(cv, reps)};
    free(v);
    return st;
}

/* Y = X·Wᵀ with W resident on the device */
typedef struct matmul_case {
    sb_type t;
    int64_t m, n, k;
    const void *W;
    const float *X;
    float *Y;
    sb_vk_buf *bw, *bx, *by;
} matmul_case;

static int matmul_rec(sb_vk *vk, void *arg)
{
    matmul_case *c = arg;
    return sb_vk_op_matmul(vk, (sb_vk_ref){c->by, 0}, (sb_vk_ref){c->bx, 0}, (sb_vk_ref){c->bw, 0}, c->t, c->m, c->n, c->k);
}

static int matmul_cpu(void *arg)
{
    matmul_case *c = arg;
    sb_kctx cpu = {sb_isa_default(), 0};
    return sb_matmul(&cpu, c->Y, c->X, c->W, c->t, c->m, c->n, c->k);
}

static int time_matmul(sb_vk *vk, sb_type t, int64_t m, int64_t n, int64_t k, int reps, timing3 *out, size_t *wbytes)
{
    uint64_t seed = 1;
    size_t wb = 0;
    matmul_case c = {t, m, n, k, NULL, NULL, NULL, NULL, NULL, NULL};
    void *W = quantize_matrix(t, n, k, &seed, &wb);
    float *X = malloc(sizeof(float) * (size_t)(m * k)), *Y = malloc(sizeof(float) * (size_t)(m * n));
    int st = W && X && Y ? SB_KOK : SB_KERR_NOMEM;
    if (!st) {
        fill(X, (size_t)(m * k), &seed);
        c.W = W, c.X = X, c.Y = Y;
        st = sb_vk_buf_create(vk, wb, &c.bw);
    }
    if (!st) st = sb_vk_buf_create(vk, sizeof(float) * (size_t)(m * k), &c.bx);
    if (!st) st = sb_vk_buf_create(vk, sizeof(float) * (size_t)(m * n), &c.by);
    if (!st) st = sb_vk_buf_upload(vk, c.bw, 0, W, wb);
    if (!st) st = sb_vk_buf_upload(vk, c.bx, 0, X, sizeof(float) * (size_t)(m * k));
    timed_op op = {matmul_rec, matmul_cpu, &c};
    if (!st) st = time_op(vk, &op, reps, out);
    if (!st) *wbytes = wb;
    sb_vk_buf_free(vk, c.bw);
    sb_vk_buf_free(vk, c.bx);
    sb_vk_buf_free(vk, c.by);
    free(W); free(X); free(Y);
    return st;
}

/* decode attention: one query (its 32 heads) against ctx cached f16 keys, all on the device */
typedef struct attention_case {
    sb_attn_params p;
    float q[32 * 128], o[32 * 128];
    const uint16_t *K, *V;
    sb_vk_buf *bk, *bv, *bq; /* bq: q, then o */
} attention_case;

static int attention_rec(sb_vk *vk, void *arg)
{
    attention_case *c = arg;
    return sb_vk_op_attention(vk, (sb_vk_ref){c->bq, sizeof c->q}, (sb_vk_ref){c->bq, 0}, (sb_vk_ref){c->bk, 0},
                              (sb_vk_ref){c->bv, 0}, &c->p);
}

static int attention_cpu(void *arg)
{
    attention_case *c = arg;
    sb_kctx cpu = {sb_isa_default(), 0};
    return sb_attention(&cpu, c->o, c->q, c->K, c->V, &c->p);
}

static int time_attention(sb_vk *vk, int64_t ctx, int reps, timing3 *out, size_t *kv_bytes)
{
    const int n_head = 32, n_kv_head = 8, hd = 128;
    size_t nkv = (size_t)(ctx * n_kv_head * hd);
    uint64_t seed = 2;
    attention_case *c = calloc(1, sizeof *c);
    float *tmp = malloc(sizeof(float) * nkv);
    uint16_t *K = malloc(2 * nkv), *V = malloc(2 * nkv);
    int st = c && tmp && K && V ? SB_KOK : SB_KERR_NOMEM;
    if (!st) {
        fill(tmp, nkv, &seed);
        for (size_t i = 0; i < nkv; i++) K[i] = sb_fp32_to_fp16(tmp[i]);
        fill(tmp, nkv, &seed);
        for (size_t i = 0; i < nkv; i++) V[i] = sb_fp32_to_fp16(tmp[i]);
        fill(c->q, sizeof c->q / sizeof c->q[0], &seed);
        c->p = (sb_attn_params){.m = 1, .pos = ctx - 1, .n_kv = ctx, .n_head = n_head, .n_kv_head = n_kv_head,
                                .head_dim = hd, .scale = 0.088f, .kv_type = SB_TYPE_F16};
        c->K = K, c->V = V;
        st = sb_vk_buf_create(vk, 2 * nkv, &c->bk);
    }
    if (!st) st = sb_vk_buf_create(vk, 2 * nkv, &c->bv);
    if (!st) st = sb_vk_buf_create(vk, 2 * sizeof c->q, &c->bq);
    if (!st) st = sb_vk_buf_upload(vk, c->bk, 0, K, 2 * nkv);
    if (!st) st = sb_vk_buf_upload(vk, c->bv, 0, V, 2 * nkv);
    if (!st) st = sb_vk_buf_upload(vk, c->bq, 0, c->q, sizeof c->q);
    timed_op op = {attention_rec, attention_cpu, c};
    if (!st) st = time_op(vk, &op, reps, out);
    if (!st) *kv_bytes = 4 * nkv; /* K and V, 2 bytes per element each */
    if (c) {
        sb_vk_buf_free(vk, c->bk);
        sb_vk_buf_free(vk, c->bv);
        sb_vk_buf_free(vk, c->bq);
    }
    free(c); free(tmp); free(K); free(V);
    return st;
}

static int usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [--device N] [--reps N] [--n N] [--k N] [--quick]\n", argv0);
    return 2;
}

int main(int argc, char **argv)
{
    int reps = 5, dev = -1;
    int64_t nsq = 512, kmv = 4096, ctx = 1024;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--device") && i + 1 < argc) dev = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--n") && i + 1 < argc) nsq = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--k") && i + 1 < argc) kmv = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--quick")) { nsq = 256; kmv = 1024; ctx = 256; reps = 3; }
        else if (!strcmp(argv[i], "--help")) { usage(argv[0]); return 0; }
        else return usage(argv[0]);
    }
    if (reps < 1 || nsq < 1 || kmv < 256 || kmv % 256) return usage(argv[0]);
    sb_vk_options opt = {.device_index = dev, .validation = 0};
    sb_vk *vk = NULL;
    char err[512];
    if (sb_vk_open(&opt, &vk, err, sizeof err) != SB_KOK) {
        printf("Vulkan unavailable: %s\n", err);
        return 0;
    }
    const sb_vk_device_info *d = sb_vk_device(vk);
    printf("device %d: %s (%s, driver %s, Vulkan %u.%u), %s reductions; CPU: %s, all threads\n", d->index, d->name,
           d->type, d->driver_name, d->api_major, d->api_minor, sb_vk_uses_subgroups(vk) ? "subgroup" : "portable",
           sb_isa_name(sb_isa_default()));
    printf("medians of %d calls; device = timestamps, host = record+submit+wait\n\n", reps);

    printf("matmul %lld^3        dev GFLOP/s  host GFLOP/s  cpu GFLOP/s  dev/cpu\n", (long long)nsq);
    sb_type sq[] = {SB_TYPE_F32, SB_TYPE_F16};
    for (int i = 0; i < 2; i++) {
        timing3 t;
        size_t wb;
        int st = time_matmul(vk, sq[i], nsq, nsq, nsq, reps, &t, &wb);
        if (st) { printf("  %s: error %s (%s)\n", sb_type_name(sq[i]), sb_kstatus_str(st), sb_vk_last_error(vk)); continue; }
        double fl = 2.0 * (double)nsq * (double)nsq * (double)nsq;
        printf("  %-6s            %10.2f  %12.2f  %11.2f  %7.3f\n", sb_type_name(sq[i]), t.dev > 0 ? fl / t.dev * 1e-9 : 0,
               fl / t.host * 1e-9, fl / t.cpu * 1e-9, t.dev > 0 ? t.cpu / t.dev : 0);
    }
    printf("\nmatvec m=1, %lldx%lld  dev GB/s     host GB/s     cpu GB/s     dev/cpu\n", (long long)kmv, (long long)kmv);
    sb_type all[] = {SB_TYPE_F32, SB_TYPE_F16, SB_TYPE_BF16, SB_TYPE_Q8_0, SB_TYPE_Q4_0, SB_TYPE_Q4_K, SB_TYPE_Q5_K, SB_TYPE_Q6_K};
    for (int i = 0; i < 8; i++) {
        timing3 t;
        size_t wb;
        int st = time_matmul(vk, all[i], 1, kmv, kmv, reps, &t, &wb);
        if (st) { printf("  %s: error %s (%s)\n", sb_type_name(all[i]), sb_kstatus_str(st), sb_vk_last_error(vk)); continue; }
        printf("  %-6s            %10.2f  %12.2f  %11.2f  %7.3f\n", sb_type_name(all[i]), t.dev > 0 ? (double)wb / t.dev * 1e-9 : 0,
               (double)wb / t.host * 1e-9, (double)wb / t.cpu * 1e-9, t.dev > 0 ? t.cpu / t.dev : 0);
    }
    timing3 t;
    size_t kvb = 0;
    int st = time_attention(vk, ctx, reps, &t, &kvb);
    printf("\nattention decode ctx %lld, 32/8 heads, hd 128, f16 K/V:\n", (long long)ctx);
    if (st) printf("  error %s (%s)\n", sb_kstatus_str(st), sb_vk_last_error(vk));
    else
        printf("  dev %.2f GB/s  host %.2f GB/s  cpu %.2f GB/s (K+V bytes; cpu = sb_attention at %s)\n",
               t.dev > 0 ? (double)kvb / t.dev * 1e-9 : 0, (double)kvb / t.host * 1e-9, (double)kvb / t.cpu * 1e-9,
               sb_isa_name(sb_isa_default()));
    sb_vk_close(vk);
    return 0;
}
