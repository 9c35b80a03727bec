/* Runs one benchmark case on one back end: correctness against ref, then timed repetitions
 * with rotated input buffers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/blas.h"
#include "harness/counters.h"
#include "harness/measure.h"
#include "kernels/vulkan/vk.h"

/* Inputs of one case; `copies` sets for rotation, each set contiguous per tensor. */
typedef struct inputs {
    int copies;
    size_t w_bytes, x_elems, y_elems, k_bytes; /* per copy                                   */
    uint8_t *w;       /* matmul: W (n×k in type); attention: K then V; rmsnorm: weight (f32) */
    float *x;         /* matmul: X; attention: Q; row ops: x (and b for add/silu_mul)       */
    float *y;         /* output (not rotated)                                               */
    float *x2;        /* silu_mul/add: second operand (per copy)                            */
} inputs;

static uint64_t rng_state = 0x853C49E6748FEA9Bull;
static float frand(void)
{
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

static void free_inputs(inputs *in)
{
    free(in->w); free(in->x); free(in->y); free(in->x2);
    memset(in, 0, sizeof *in);
}

/* Fills a tensor of `rows` rows × `cols` f32 randoms converted to type t. */
static int fill_typed(uint8_t *dst, sb_type t, int64_t rows, int64_t cols)
{
    size_t row_bytes;
    if (sb_row_bytes(t, cols, &row_bytes) != SB_KOK) return -1;
    float *tmp = malloc((size_t)cols * sizeof *tmp);
    if (!tmp) return -1;
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t i = 0; i < cols; i++) tmp[i] = frand();
        if (sb_quantize_row(t, tmp, dst + (size_t)r * row_bytes, cols) != SB_KOK) { free(tmp); return -1; }
    }
    free(tmp);
    return 0;
}

static int alloc_inputs(const bench_case *c, int copies, inputs *in)
{
    memset(in, 0, sizeof *in);
    in->copies = copies;
    size_t row_bytes = 0;
    switch (c->op) {
    case BENCH_MATMUL:
        if (sb_row_bytes(c->type, c->k, &row_bytes) != SB_KOK) return -1;
        in->w_bytes = row_bytes * (size_t)c->n;
        in->x_elems = (size_t)(c->m * c->k);
        in->y_elems = (size_t)(c->m * c->n);
        break;
    case BENCH_ATTENTION:
        if (sb_row_bytes(c->type, (int64_t)c->n_kv_head * c->head_dim, &row_bytes) != SB_KOK) return -1;
        in->k_bytes = row_bytes * (size_t)c->ctx;
        in->w_bytes = 2 * in->k_bytes;
        in->x_elems = (size_t)c->m * (size_t)c->n_head * (size_t)c->head_dim;
        in->y_elems = in->x_elems;
        break;
    case BENCH_RMSNORM:
        in->w_bytes = (size_t)c->n * sizeof(float);
        in->x_elems = in->y_elems = (size_t)(c->m * c->n);
        break;
    case BENCH_ROPE:
    case BENCH_SOFTMAX:
        in->x_elems = in->y_elems = (size_t)(c->m * c->n);
        break;
    case BENCH_SILU_MUL:
    case BENCH_ADD:
        in->x_elems = in->y_elems = (size_t)c->n;
        in->x2 = malloc((size_t)copies * in->x_elems * sizeof(float));
        if (!in->x2) return -1;
        for (size_t i = 0; i < (size_t)copies * in->x_elems; i++) in->x2[i] = frand();
        break;
    default: return -1;
    }
    if (in->w_bytes) {
        in->w = malloc((size_t)copies * in->w_bytes);
        if (!in->w) { free_inputs(in); return -1; }
        for (int cp = 0; cp < copies; cp++) {
            uint8_t *w = in->w + (size_t)cp * in->w_bytes;
            int rc = 0;
            if (c->op == BENCH_MATMUL) rc = fill_typed(w, c->type, c->n, c->k);
            else if (c->op == BENCH_ATTENTION) rc = fill_typed(w, c->type, 2 * c->ctx, (int64_t)c->n_kv_head * c->head_dim);
            else for (int64_t i = 0; i < c->n; i++) ((float *)w)[i] = 1.0f + 0.1f * frand();
            if (rc) { free_inputs(in); return -1; }
        }
    }
    in->x = malloc((size_t)copies * in->x_elems * sizeof(float));
    in->y = malloc(in->y_elems * sizeof(float));
    if (!in->x || !in->y) { free_inputs(in); return -1; }
    for (size_t i = 0; i < (size_t)copies * in->x_elems; i++) in->x[i] = frand();
    return 0;
}

typedef struct runner {
    bench_backend backend;
    sb_kctx ctx;
    int threads;
    sb_vk *vk;
    const bench_blas *blas; /* the blas back end */
} runner;

static sb_attn_params attn_params(const bench_case *c)
{
    sb_attn_params p = {.m = c->m, .pos = c->ctx - c->m, .n_kv = c->ctx, .n_head = c->n_head,
                        .n_kv_head = c->n_kv_head, .head_dim = c->head_dim,
                        .scale = 1.0f / sqrtf((float)c->head_dim), .kv_type = c->type};
    return p;
}

/* Rope of the bench: heads of 128 dims (Llama), or one head when the row is shorter. */
static sb_rope_params rope_params(const bench_case *c, int *head_dim)
{
    *head_dim = c->n >= 128 ? 128 : (int)c->n;
    sb_rope_params p = {.mode = SB_ROPE_NORMAL, .n_rot = *head_dim, .freq_base = 500000.0f, .freq_scale = 1.0f};
    return p;
}

/* The Vulkan back end through its host API (upload, run, download): the correctness check. */
static int call_case_vk_host(sb_vk *vk, const bench_case *c, inputs *in, const float *x, const uint8_t *w, int cp, float *y)
{
    switch (c->op) {
    case BENCH_MATMUL: return sb_vk_matmul(vk, y, x, w, c->type, c->m, c->n, c->k, NULL);
    case BENCH_ATTENTION: {
        sb_attn_params p = attn_params(c);
        return sb_vk_attention(vk, y, x, w, w + in->k_bytes, &p, NULL);
    }
    case BENCH_RMSNORM: return sb_vk_rmsnorm(vk, y, x, (const float *)w, c->m, c->n, 1e-5f, NULL);
    case BENCH_ROPE: {
        int hd;
        sb_rope_params p = rope_params(c, &hd);
        memcpy(y, x, in->x_elems * sizeof *y);
        return sb_vk_rope(vk, y, c->m, (int)(c->n / hd), hd, 17, &p, NULL);
    }
    case BENCH_SOFTMAX:
        memcpy(y, x, in->x_elems * sizeof *y);
        return sb_vk_softmax(vk, y, c->m, c->n, NULL);
    case BENCH_SILU_MUL: return sb_vk_silu_mul(vk, y, x, in->x2 + (size_t)cp * in->x_elems, c->n, NULL);
    case BENCH_ADD: return sb_vk_add(vk, y, x, in->x2 + (size_t)cp * in->x_elems, c->n, NULL);
    default: return SB_KERR_UNSUPPORTED;
    }
}

/* One call of the case on input copy `cp`, writing y. Row ops that work in place run on y
 * after copying x there (the copy is part of the measured work for rope/softmax: 1 read + 1
 * write, as bench_case_bytes counts). */
static int call_case(const runner *rn, const bench_case *c, inputs *in, int cp, float *y)
{
    const float *x = in->x + (size_t)cp * in->x_elems;
    const uint8_t *w = in->w ? in->w + (size_t)cp * in->w_bytes : NULL;
    if (rn->backend == BENCH_VULKAN) return call_case_vk_host(rn->vk, c, in, x, w, cp, y);
    switch (c->op) {
    case BENCH_MATMUL:
        if (rn->backend == BENCH_BLAS) {
            if (c->m == 1) rn->blas->sgemv((int)c->n, (int)c->k, (const float *)w, x, y);
            else rn->blas->sgemm((int)c->m, (int)c->n, (int)c->k, x, (const float *)w, y);
            return 0;
        }
        return sb_matmul(&rn->ctx, y, x, w, c->type, c->m, c->n, c->k);
    case BENCH_ATTENTION: {
        sb_attn_params p = attn_params(c);
        return sb_attention(&rn->ctx, y, x, w, w + in->k_bytes, &p);
    }
    case BENCH_RMSNORM: return sb_rmsnorm(&rn->ctx, y, x, (const float *)w, c->m, c->n, 1e-5f);
    case BENCH_ROPE: {
        memcpy(y, x, in->x_elems * sizeof *y);
        int hd;
        sb_rope_params p = rope_params(c, &hd);
        return sb_rope(&rn->ctx, y, c->m, (int)(c->n / hd), hd, 17, &p);
    }
    case BENCH_SOFTMAX:
        memcpy(y, x, in->x_elems * sizeof *y);
        return sb_softmax(&rn->ctx, y, c->m, c->n);
    case BENCH_SILU_MUL: return sb_silu_mul(&rn->ctx, y, x, in->x2 + (size_t)cp * in->x_elems, c->n);
    case BENCH_ADD: return sb_add(&rn->ctx, y, x, in->x2 + (size_t)cp * in->x_elems, c->n);
    default: return SB_KERR_UNSUPPORTED;
    }
}

double bench_nmse_threshold(const bench_case *c)
{
    if (c->op != BENCH_MATMUL) return c->type == SB_TYPE_F16 ? 1e-5 : 1e-8;
    /* Quantized and half formats are compared against ref with the same weights, so only the
     * activation quantization and summation order differ. */
    switch (c->type) {
    case SB_TYPE_F32: return 1e-9;
    case SB_TYPE_F16: case SB_TYPE_BF16: return 1e-5;
    default: return 1e-3;
    }
}

/* Rows of the output checked against ref: all of them when m is small, else 4 spread rows. */
static int check_rows(int64_t m, int64_t *rows)
{
    if (m <= 8) { for (int64_t i = 0; i < m; i++) rows[i] = i; return (int)m; }
    rows[0] = 0; rows[1] = m / 3; rows[2] = 2 * m / 3; rows[3] = m - 1;
    return 4;
}

/* Correctness: compare the back end's output with ref computed on the same inputs. For matmul
 * and attention with many rows, ref runs on sampled rows only (each row is independent). */
static int check_case(const runner *rn, const bench_case *c, inputs *in, double *nmse_out, char *why, size_t whylen)
{
    runner ref = {.backend = BENCH_REF, .ctx = {.isa = SB_ISA_REF, .n_threads = 1}, .threads = 1};
    float *y = malloc(in->y_elems * sizeof *y), *yr = malloc(in->y_elems * sizeof *yr);
    if (!y || !yr) { free(y); free(yr); snprintf(why, whylen, "out of memory"); return -1; }
    for (size_t i = 0; i < in->y_elems; i++) y[i] = yr[i] = NAN; /* unwritten outputs fail */
    int rc = call_case(rn, c, in, 0, y);
    if (rc != 0) { snprintf(why, whylen, "kernel returned %s", sb_kstatus_str(rc)); free(y); free(yr); return -1; }
    size_t row_len = c->op == BENCH_MATMUL ? (size_t)c->n : c->op == BENCH_ATTENTION ? (size_t)c->n_head * c->head_dim : in->y_elems;
    double num = 0, den = 0;
    if ((c->op == BENCH_MATMUL || c->op == BENCH_ATTENTION) && c->m > 8) {
        int64_t rows[8];
        int nr = check_rows(c->m, rows);
        for (int r = 0; r < nr; r++) {
            bench_case one = *c;
            one.m = 1;
            inputs view = *in;
            view.x = in->x + (size_t)rows[r] * (c->op == BENCH_MATMUL ? (size_t)c->k : row_len);
            view.x_elems = in->x_elems; /* copy 0 only */
            if (c->op == BENCH_ATTENTION) one.ctx = c->ctx - c->m + rows[r] + 1; /* keys it sees */
            rc = call_case(&ref, &one, &view, 0, yr + (size_t)rows[r] * row_len);
            if (rc != 0) { snprintf(why, whylen, "ref returned %s", sb_kstatus_str(rc)); free(y); free(yr); return -1; }
            for (size_t j = 0; j < row_len; j++) {
                double d = (double)y[rows[r] * row_len + j] - yr[rows[r] * row_len + j];
                num += d * d;
                den += (double)yr[rows[r] * row_len + j] * yr[rows[r] * row_len + j];
            }
        }
    } else {
        rc = call_case(&ref, c, in, 0, yr);
        if (rc != 0) { snprintf(why, whylen, "ref returned %s", sb_kstatus_str(rc)); free(y); free(yr); return -1; }
        for (size_t j = 0; j < in->y_elems; j++) {
            double d = (double)y[j] - yr[j];
            num += d * d;
            den += (double)yr[j] * yr[j];
        }
    }
    free(y);
    free(yr);
    double nmse = den > 0 ? num / den : num;
    if (isnan(nmse)) nmse = INFINITY;
    *nmse_out = nmse;
    if (!(nmse <= bench_nmse_threshold(c))) {
        snprintf(why, whylen, "wrong result: NMSE %.3g against ref (threshold %.1g)", nmse, bench_nmse_threshold(c));
        return -1;
    }
    return 0;
}

/* Records one call of the case into the current Vulkan batch, on device buffers. */
static int record_vk(sb_vk *vk, const bench_case *c, sb_vk_buf *w, size_t k_bytes, sb_vk_buf *x, sb_vk_buf *x2, sb_vk_buf *y)
{
    sb_vk_ref W = {w, 0}, X = {x, 0}, X2 = {x2, 0}, Y = {y, 0};
    switch (c->op) {
    case BENCH_MATMUL: return sb_vk_op_matmul(vk, Y, X, W, c->type, c->m, c->n, c->k);
    case BENCH_ATTENTION: {
        sb_attn_params p = attn_params(c);
        sb_vk_ref V = {w, k_bytes};
        return sb_vk_op_attention(vk, Y, X, W, V, &p);
    }
    case BENCH_RMSNORM: return sb_vk_op_rmsnorm(vk, Y, X, W, c->m, c->n, 1e-5f);
    case BENCH_ROPE: {
        int hd;
        sb_rope_params p = rope_params(c, &hd);
        return sb_vk_op_rope(vk, X, c->m, (int)(c->n / hd), hd, 17, &p);
    }
    case BENCH_SOFTMAX: return sb_vk_op_softmax(vk, X, c->m, c->n);
    case BENCH_SILU_MUL: return sb_vk_op_silu_mul(vk, Y, X, X2, c->n);
    case BENCH_ADD: return sb_vk_op_add(vk, Y, X, X2, c->n);
    default: return SB_KERR_UNSUPPORTED;
    }
}

/* Vulkan timing: inputs uploaded once and kept on the device (as a runtime keeps weights), each
 * repetition one batch of calls_per_rep dispatches; the sample is the device time between
 * timestamps (host time when the device has no timestamps). */
static int time_vk(sb_vk *vk, const bench_case *c, inputs *in, const bench_opts *o, bench_result *r)
{
    sb_vk_buf *w = NULL, *x = NULL, *x2 = NULL, *y = NULL;
    int rc = 0;
    size_t xb = in->x_elems * sizeof(float);
    if ((in->w_bytes && (rc = sb_vk_buf_create(vk, in->w_bytes, &w))) || (rc = sb_vk_buf_create(vk, xb, &x)) ||
        (in->x2 && (rc = sb_vk_buf_create(vk, xb, &x2))) || (rc = sb_vk_buf_create(vk, in->y_elems * sizeof(float), &y)))
        goto out;
    if ((w && (rc = sb_vk_buf_upload(vk, w, 0, in->w, in->w_bytes))) || (rc = sb_vk_buf_upload(vk, x, 0, in->x, xb)) ||
        (x2 && (rc = sb_vk_buf_upload(vk, x2, 0, in->x2, xb))))
        goto out;
    double host[1000];
    int max_reps = o->max_reps > 0 && o->max_reps < 1000 ? o->max_reps : 1000;
    r->calls_per_rep = 1;
    double measured = 0;
    for (int rep = -1; (measured < o->min_time_s || r->n_times < o->min_reps) && r->n_times < max_reps; rep++) {
        sb_vk_timing t;
        if ((rc = sb_vk_begin(vk)) != 0) goto out;
        for (int i = 0; i < r->calls_per_rep; i++)
            if ((rc = record_vk(vk, c, w, in->k_bytes, x, x2, y)) != 0) { sb_vk_submit(vk, &t); goto out; }
        if ((rc = sb_vk_submit(vk, &t)) != 0) goto out;
        if (rep < 0) { /* warm-up; batch enough dispatches to last >= 50 us */
            double one = t.device_s > 0 ? t.device_s : t.host_s;
            r->calls_per_rep = one > 50e-6 ? 1 : (int)fmin(256, ceil(50e-6 / fmax(one, 1e-9)));
            continue;
        }
        r->device_timed = t.device_s > 0;
        double sample = (r->device_timed ? t.device_s : t.host_s) / r->calls_per_rep;
        host[r->n_times] = t.host_s / r->calls_per_rep;
        r->times_s[r->n_times++] = sample;
        measured += t.host_s;
    }
    sb_stats st;
    if (sb_stats_compute(host, (size_t)r->n_times, &st) == 0) r->host_median_s = st.median;
out:
    sb_vk_buf_free(vk, w); sb_vk_buf_free(vk, x); sb_vk_buf_free(vk, x2); sb_vk_buf_free(vk, y);
    return rc;
}

void bench_result_free(bench_result *r)
{
    free(r->times_s);
    r->times_s = NULL;
    r->n_times = 0;
}

/* The summary statistics of r's per-call times; the case is then OK. */
static int finish_ok(bench_result *r)
{
    sb_stats st;
    sb_stats_compute(r->times_s, (size_t)r->n_times, &st);
    r->median_s = st.median; r->p10_s = st.p10; r->p90_s = st.p90; r->cv = st.cv;
    r->ci_lo_s = st.ci_lo; r->ci_hi_s = st.ci_hi; r->mean_s = st.mean; r->stddev_s = st.stddev;
    r->status = BENCH_OK;
    return 0;
}

int bench_run_case(const bench_case *c, bench_backend backend, const bench_opts *o, bench_result *r)
{
    memset(r, 0, sizeof *r);
    r->c = *c;
    r->backend = backend;
    runner rn = {.backend = backend, .ctx = {.isa = backend == BENCH_REF ? SB_ISA_REF : o->isa, .n_threads = o->n_threads}};
    rn.threads = backend == BENCH_REF ? 1 : o->n_threads;
    r->isa = rn.ctx.isa;
    r->threads = rn.threads;
    for (int i = 0; i < 8; i++) r->counters[i] = -1;
    if (!bench_backend_supports(backend, c)) {
        r->status = BENCH_SKIPPED;
        snprintf(r->reason, sizeof r->reason, "%s does not implement this case", bench_backend_name(backend));
        return 0;
    }
    if (backend == BENCH_VULKAN && !o->vk) {
        r->status = BENCH_SKIPPED;
        snprintf(r->reason, sizeof r->reason, "Vulkan unavailable: %s", o->vk_reason ? o->vk_reason : "not opened");
        return 0;
    }
    rn.vk = o->vk;
    if (backend == BENCH_BLAS) {
        if (!(rn.blas = bench_blas_get(r->reason, sizeof r->reason))) {
            r->status = BENCH_SKIPPED;
            return 0;
        }
        rn.blas->set_threads(rn.threads);
    }

    /* Rotate input copies while one set is small against the last-level cache, so repeated calls
     * do not find their inputs in cache (capped at 64 copies and 1 GiB). Host back ends only: the
     * Vulkan path keeps one set on the device, as a runtime keeps its weights. */
    inputs probe;
    if (alloc_inputs(c, 1, &probe) != 0) return -1;
    double ws = (double)probe.w_bytes + (double)probe.x_elems * 4 + (double)probe.y_elems * 4;
    free_inputs(&probe);
    int copies = 1;
    if (o->llc_bytes && ws < 4.0 * (double)o->llc_bytes && backend != BENCH_VULKAN) {
        double want = ceil(4.0 * (double)o->llc_bytes / ws);
        double cap = floor((double)(1u << 30) / ws);
        copies = (int)fmax(1, fmin(fmin(want, 64), cap));
    }
    inputs in;
    if (alloc_inputs(c, copies, &in) != 0) return -1;
    r->n_buffers = copies;

    if (!o->skip_check && check_case(&rn, c, &in, &r->nmse, r->reason, sizeof r->reason) != 0) {
        r->status = BENCH_FAILED;
        free_inputs(&in);
        return 0;
    }

    if (backend == BENCH_VULKAN) {
        int max_reps = o->max_reps > 0 ? o->max_reps : 1000;
        r->times_s = malloc((size_t)max_reps * sizeof *r->times_s);
        int rc = r->times_s ? time_vk(o->vk, c, &in, o, r) : SB_KERR_NOMEM;
        free_inputs(&in);
        if (rc != 0 || r->n_times == 0) {
            r->status = BENCH_SKIPPED;
            snprintf(r->reason, sizeof r->reason, "Vulkan: %s", rc ? sb_kstatus_str(rc) : "no samples");
            return 0;
        }
        return finish_ok(r);
    }

    /* Warm-up, and how many calls make one repetition last ≥ 50 µs (timer resolution). */
    double t0 = sb_now_s();
    call_case(&rn, c, &in, 0, in.y);
    double one = sb_now_s() - t0;
    t0 = sb_now_s();
    call_case(&rn, c, &in, copies > 1 ? 1 : 0, in.y);
    one = fmin(one, sb_now_s() - t0);
    r->calls_per_rep = one > 50e-6 ? 1 : (int)ceil(50e-6 / fmax(one, 1e-9));
    int max_reps = o->max_reps > 0 ? o->max_reps : 1000;
    r->times_s = malloc((size_t)max_reps * sizeof *r->times_s);
    if (!r->times_s) { free_inputs(&in); return -1; }

    sb_counters ctr;
    int ctr_on = o->counters ? sb_counters_start(&ctr, sb_counters_default_events, sb_counters_default_n) : 0;
    double cpu0 = sb_cpu_time_s(), measured = 0;
    int cp = 0;
    long total_calls = 0;
    while ((measured < o->min_time_s || r->n_times < o->min_reps) && r->n_times < max_reps) {
        double s = sb_now_s();
        for (int i = 0; i < r->calls_per_rep; i++) {
            call_case(&rn, c, &in, cp, in.y);
            cp = (cp + 1) % copies;
        }
        double dt = sb_now_s() - s;
        measured += dt;
        total_calls += r->calls_per_rep;
        r->times_s[r->n_times++] = dt / r->calls_per_rep;
    }
    r->cpu_time_s = (sb_cpu_time_s() - cpu0) / (double)total_calls;
    if (o->counters) {
        if (ctr_on) sb_counters_stop(&ctr);
        r->n_counters = o->counters && ctr_on ? ctr.n : 0;
        for (int i = 0; i < r->n_counters; i++) {
            r->counter_names[i] = ctr.names[i];
            r->counters[i] = ctr.values[i] >= 0 ? ctr.values[i] / total_calls : -1;
        }
    }
    free_inputs(&in);

    return finish_ok(r);
}
