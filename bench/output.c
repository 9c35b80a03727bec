/* Bench results as JSON: our results schema (bench.cases[]) and Google Benchmark's format. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "harness/results.h"

/* Whether a result's arithmetic is int8 dot products: quantized weights with more than one X
 * row on the AVX-512 level, which runs them through vpdpbusd (the int8 GEMM, or the row-dot
 * kernels). Its compute roof is then the measured int8 peak, not the FP32 FMA peak. */
static int int8_arith(const bench_result *r, const sb_ceilings *ceil)
{
    sb_type t = r->c.type;
    int quantized = t == SB_TYPE_Q8_0 || t == SB_TYPE_Q4_0 || t == SB_TYPE_Q4_K || t == SB_TYPE_Q5_K || t == SB_TYPE_Q6_K;
    return ceil && ceil->int8_gops_all > 0 && r->c.op == BENCH_MATMUL && quantized && r->c.m > 1 &&
           r->backend == BENCH_CPU && r->isa == SB_ISA_AVX512;
}

/* The compute peak of the threads a result used (the 1-thread peak for one thread). */
static double compute_peak(const bench_result *r, const sb_ceilings *ceil)
{
    if (int8_arith(r, ceil)) return r->threads == 1 ? ceil->int8_gops_1t : ceil->int8_gops_all;
    return r->threads == 1 ? ceil->fma_gflops_1t : ceil->fma_gflops_all;
}

/* The roof that bounds a case: memory when its arithmetic intensity (flop/byte) is below the
 * ridge point peak/bandwidth. */
static const char *roof(const bench_result *r, const sb_ceilings *ceil)
{
    if (!ceil || ceil->read_gbs <= 0) return "unknown";
    double ai = bench_case_flops(&r->c) / bench_case_bytes(&r->c);
    double peak = int8_arith(r, ceil) ? ceil->int8_gops_all : ceil->fma_gflops_all;
    return ai < peak / ceil->read_gbs ? "memory" : "compute";
}

static void full_name(const bench_result *r, char *buf, size_t len)
{
    char base[160];
    bench_case_name(&r->c, base, sizeof base);
    snprintf(buf, len, "%s/%s", base, bench_backend_name(r->backend));
}

cJSON *bench_result_json(const bench_result *r, const sb_ceilings *ceil)
{
    cJSON *o = cJSON_CreateObject();
    char name[200];
    full_name(r, name, sizeof name);
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "op", bench_op_name(r->c.op));
    cJSON_AddStringToObject(o, "type", sb_type_name(r->c.type));
    cJSON *shape = cJSON_AddObjectToObject(o, "shape");
    if (r->c.op == BENCH_ATTENTION) {
        cJSON_AddNumberToObject(shape, "m", (double)r->c.m);
        cJSON_AddNumberToObject(shape, "ctx", (double)r->c.ctx);
        cJSON_AddNumberToObject(shape, "n_head", r->c.n_head);
        cJSON_AddNumberToObject(shape, "n_kv_head", r->c.n_kv_head);
        cJSON_AddNumberToObject(shape, "head_dim", r->c.head_dim);
    } else {
        cJSON_AddNumberToObject(shape, "m", (double)r->c.m);
        cJSON_AddNumberToObject(shape, "n", (double)r->c.n);
        if (r->c.op == BENCH_MATMUL) cJSON_AddNumberToObject(shape, "k", (double)r->c.k);
    }
    cJSON_AddStringToObject(o, "backend", bench_backend_name(r->backend));
    cJSON_AddStringToObject(o, "isa", r->backend == BENCH_CPU || r->backend == BENCH_REF ? sb_isa_name(r->isa) : bench_backend_name(r->backend));
    cJSON_AddNumberToObject(o, "threads", r->threads);
    cJSON_AddStringToObject(o, "status", r->status == BENCH_OK ? "ok" : r->status == BENCH_FAILED ? "FAILED" : "skipped");
    if (r->status != BENCH_OK) { cJSON_AddStringToObject(o, "reason", r->reason); return o; }
    double flops = bench_case_flops(&r->c), bytes = bench_case_bytes(&r->c);
    cJSON_AddNumberToObject(o, "nmse", r->nmse);
    cJSON_AddNumberToObject(o, "flops", flops);
    cJSON_AddNumberToObject(o, "bytes", bytes);
    cJSON_AddNumberToObject(o, "calls_per_rep", r->calls_per_rep);
    cJSON_AddNumberToObject(o, "rotated_buffers", r->n_buffers);
    cJSON *times = cJSON_AddArrayToObject(o, "times_s");
    for (int i = 0; i < r->n_times; i++) cJSON_AddItemToArray(times, cJSON_CreateNumber(r->times_s[i]));
    if (r->n_rounds > 1) cJSON_AddItemToObject(o, "round_medians_s", cJSON_CreateDoubleArray(r->round_medians_s, r->n_rounds));
    cJSON *st = cJSON_AddObjectToObject(o, "stats");
    cJSON_AddNumberToObject(st, "median_s", r->median_s);
    cJSON_AddNumberToObject(st, "p10_s", r->p10_s);
    cJSON_AddNumberToObject(st, "p90_s", r->p90_s);
    cJSON_AddNumberToObject(st, "mean_s", r->mean_s);
    cJSON_AddNumberToObject(st, "cv", r->cv);
    cJSON_AddNumberToObject(st, "ci_lo_s", r->ci_lo_s);
    cJSON_AddNumberToObject(st, "ci_hi_s", r->ci_hi_s);
    cJSON_AddNumberToObject(st, "cpu_time_s", r->cpu_time_s);
    double gflops = flops / r->median_s * 1e-9, gbs = bytes / r->median_s * 1e-9;
    cJSON_AddNumberToObject(o, "gflops", gflops);
    cJSON_AddNumberToObject(o, "gbs", gbs);
    if (ceil && ceil->fma_gflops_all > 0) {
        /* The peak of the threads actually used: 1-thread peak for one thread. Int8 work is
         * measured against the int8 dot-product peak ("pct_int8_peak"), float work against the
         * FP32 FMA peak ("pct_fma_peak"). */
        double peak = compute_peak(r, ceil);
        double bw = r->threads == 1 ? ceil->read_gbs_1t : ceil->read_gbs;
        cJSON_AddNumberToObject(o, int8_arith(r, ceil) ? "pct_int8_peak" : "pct_fma_peak", 100 * gflops / peak);
        cJSON_AddNumberToObject(o, "pct_bandwidth", 100 * gbs / bw);
    }
    cJSON_AddStringToObject(o, "bound", roof(r, ceil));
    if (r->backend == BENCH_VULKAN) {
        cJSON_AddStringToObject(o, "time_source", r->device_timed ? "device timestamps" : "host");
        if (r->device_timed) cJSON_AddNumberToObject(o, "device_time_s", r->median_s);
        cJSON_AddNumberToObject(o, "host_time_s", r->host_median_s);
    }
    if (r->n_counters) {
        cJSON *cj = cJSON_AddObjectToObject(o, "counters");
        for (int i = 0; i < r->n_counters; i++)
            if (r->counters[i] >= 0) cJSON_AddNumberToObject(cj, r->counter_names[i], (double)r->counters[i]);
    }
    return o;
}

/* One Google Benchmark entry; times in the unit chosen for the whole case. */
static cJSON *gb_entry(const char *name, const char *run_name, int family, int reps, int rep_index,
                       const char *aggregate, double real, double cpu, const char *unit, long iterations,
                       double bytes_per_s, double items_per_s, int threads)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "name", name);
    cJSON_AddNumberToObject(b, "family_index", family);
    cJSON_AddNumberToObject(b, "per_family_instance_index", 0);
    cJSON_AddStringToObject(b, "run_name", run_name);
    cJSON_AddStringToObject(b, "run_type", aggregate ? "aggregate" : "iteration");
    cJSON_AddNumberToObject(b, "repetitions", reps);
    cJSON_AddNumberToObject(b, "threads", threads);
    if (aggregate) {
        cJSON_AddStringToObject(b, "aggregate_name", aggregate);
        cJSON_AddStringToObject(b, "aggregate_unit", strcmp(aggregate, "cv") ? "time" : "percentage");
    } else {
        cJSON_AddNumberToObject(b, "repetition_index", rep_index);
    }
    cJSON_AddNumberToObject(b, "iterations", (double)iterations);
    cJSON_AddNumberToObject(b, "real_time", real);
    cJSON_AddNumberToObject(b, "cpu_time", cpu);
    cJSON_AddStringToObject(b, "time_unit", unit);
    cJSON_AddNumberToObject(b, "bytes_per_second", bytes_per_s);
    cJSON_AddNumberToObject(b, "items_per_second", items_per_s);
    return b;
}

cJSON *bench_gbench_json(const bench_result *rs, size_t n, const cJSON *machine)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *ctx = cJSON_AddObjectToObject(root, "context");
    char when[40], host[256] = "unknown";
    sb_iso8601_now(when, sizeof when);
    gethostname(host, sizeof host - 1);
    cJSON_AddStringToObject(ctx, "date", when);
    cJSON_AddStringToObject(ctx, "host_name", host);
    cJSON_AddStringToObject(ctx, "executable", "slmbench bench");
    cJSON_AddNumberToObject(ctx, "num_cpus", (double)sysconf(_SC_NPROCESSORS_ONLN));
    cJSON_AddNumberToObject(ctx, "mhz_per_cpu", 0);
    cJSON_AddBoolToObject(ctx, "cpu_scaling_enabled", 0);
    cJSON_AddStringToObject(ctx, "library_build_type", "release");
    cJSON *caches = cJSON_AddArrayToObject(ctx, "caches");
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(machine, "caches")) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "type", cJSON_GetStringValue(cJSON_GetObjectItem(c, "type")) ? cJSON_GetStringValue(cJSON_GetObjectItem(c, "type")) : "unified");
        cJSON_AddNumberToObject(e, "level", cJSON_GetObjectItem(c, "level") ? cJSON_GetObjectItem(c, "level")->valuedouble : 0);
        cJSON_AddNumberToObject(e, "size", cJSON_GetObjectItem(c, "size_bytes") ? cJSON_GetObjectItem(c, "size_bytes")->valuedouble : 0);
        cJSON_AddNumberToObject(e, "num_sharing", cJSON_GetObjectItem(c, "shared_by_pus") ? cJSON_GetObjectItem(c, "shared_by_pus")->valuedouble : 1);
        cJSON_AddItemToArray(caches, e);
    }
    cJSON *list = cJSON_AddArrayToObject(root, "benchmarks");
    int family = 0;
    for (size_t i = 0; i < n; i++) {
        const bench_result *r = &rs[i];
        if (r->status != BENCH_OK) continue;
        char name[200];
        full_name(r, name, sizeof name);
        /* Pick a unit that keeps the numbers readable; compare.py reads time_unit. */
        const char *unit = r->median_s < 1e-3 ? "us" : "ms";
        double scale = r->median_s < 1e-3 ? 1e6 : 1e3;
        double bytes = bench_case_bytes(&r->c), flops = bench_case_flops(&r->c);
        double cpu_ratio = r->mean_s > 0 ? r->cpu_time_s / r->mean_s : 1;
        for (int k = 0; k < r->n_times; k++) {
            double t = r->times_s[k];
            cJSON_AddItemToArray(list, gb_entry(name, name, family, r->n_times, k, NULL, t * scale, t * cpu_ratio * scale,
                                                unit, r->calls_per_rep, bytes / t, flops / t, r->threads));
        }
        struct { const char *agg; double v; } aggs[] = {{"mean", r->mean_s}, {"median", r->median_s}, {"stddev", r->stddev_s}};
        for (int a = 0; a < 3; a++) {
            char an[240];
            snprintf(an, sizeof an, "%s_%s", name, aggs[a].agg);
            double v = aggs[a].v;
            cJSON_AddItemToArray(list, gb_entry(an, name, family, r->n_times, 0, aggs[a].agg, v * scale, v * cpu_ratio * scale,
                                                unit, r->n_times, v > 0 && a < 2 ? bytes / v : 0, v > 0 && a < 2 ? flops / v : 0, r->threads));
        }
        char an[240];
        snprintf(an, sizeof an, "%s_cv", name);
        cJSON_AddItemToArray(list, gb_entry(an, name, family, r->n_times, 0, "cv", r->cv, r->cv, unit, r->n_times, 0, 0, r->threads));
        family++;
    }
    return root;
}
