/* perf_attention — flash attention against the naive reference, measured in one run.
 *
 *   build/perf/perf_attention [--threads N] [--isa avx2|avx512] [--reps R] [--quick]
 *
 * Prefill: m = 2048 queries at positions 0..2047 (causal), 32 heads / 8 KV heads, head_dim 128.
 *   FLOP = 4·head_dim·n_head·m(m+1)/2 (QKᵀ and PV, causal half). Flash is timed with N threads
 *   (wall clock, median) and with 1 thread (its CPU time, best of 2: robust when other jobs share
 *   the cores). The naive reference is timed (1 thread, CPU time) on the same shape with 4 heads
 *   / 1 KV head (1/8 of the work; heads are independent) and reported as GFLOP/s, so the ratio
 *   is per FLOP, 1 thread against 1 thread.
 * Decode: one query at position ctx-1 against ctx = 4096 … 32768 cached keys, same heads.
 *   Bytes = K + V of the 8 KV heads (f16 or f32). To keep the cache out of L3 the driver
 *   rotates over enough copies of K/V to span >= 512 MiB. The read bandwidth of this machine is
 *   measured in the same run (the harness's ceiling, as `slmbench hw` prints it) for the % column.
 * Nothing is asserted; the figures are printed.
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/hw.h"
#include "harness/measure.h"
#include "kernels/kernels.h"

static void fill(void *p, size_t bytes)
{
    /* small random halves / floats: the bit patterns of uniform values in about [-1, 1] */
    uint64_t s = 0x1234567;
    if (bytes % 4 == 0) {
        float *f = p;
        for (size_t i = 0; i < bytes / 4; i++) {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            f[i] = (float)(s >> 40) / 8388608.0f - 1.0f;
        }
    }
}

static void fill_half(uint16_t *h, size_t n)
{
    uint64_t s = 99;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        /* sign, exponent 14..15 (values in ±[0.5, 2)), random mantissa */
        h[i] = (uint16_t)(((s >> 20) & 0x8000u) | ((14u + ((s >> 30) & 1u)) << 10) | ((s >> 40) & 0x3ffu));
    }
}

/* The read ceilings now, as `slmbench hw` measures them (harness/hw.h: several streams per
 * thread with prefetch; a plain one-stream sum reads only about half of it on this machine). */
static sb_ceilings ceilings_now(int threads)
{
    sb_ceilings c = {0};
    sb_hw_measure_ceilings(threads, &c);
    return c;
}

int main(int argc, char **argv)
{
    int threads = 2, reps = 5, quick = 0;
    sb_isa isa = sb_isa_default();
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--isa") && i + 1 < argc) {
            if (sb_isa_from_name(argv[++i], &isa) != SB_KOK || !sb_isa_supported(isa) || isa == SB_ISA_REF) {
                fprintf(stderr, "perf_attention: level %s not usable here\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "usage: perf_attention [--threads N] [--isa avx2|avx512] [--reps R] [--quick]\n");
            return strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    if (threads < 1 || reps < 1 || isa == SB_ISA_REF) return 2;
    const int n_head = 32, n_kv_head = 8, D = 128;
    sb_kctx ctx = {isa, threads}, rc = {SB_ISA_REF, 1};
    printf("attention, %s, %d threads, 32 heads / 8 KV heads, head_dim 128, median of %d reps\n",
           sb_isa_name(isa), threads, reps);

    /* ---- prefill */
    int64_t m = quick ? 512 : 2048;
    for (int f16 = 0; f16 <= 1; f16++) {
        size_t kv_elems = (size_t)m * n_kv_head * D, esz = f16 ? 2 : 4;
        float *Q = malloc(sizeof(float) * (size_t)m * n_head * D), *O = malloc(sizeof(float) * (size_t)m * n_head * D);
        void *K = malloc(kv_elems * esz), *V = malloc(kv_elems * esz);
        if (!Q || !O || !K || !V) return 1;
        fill(Q, sizeof(float) * (size_t)m * n_head * D);
        if (f16) { fill_half(K, kv_elems); fill_half(V, kv_elems); }
        else { fill(K, kv_elems * 4); fill(V, kv_elems * 4); }
        sb_attn_params p = {.m = m, .pos = 0, .n_kv = m, .n_head = n_head, .n_kv_head = n_kv_head,
                            .head_dim = D, .scale = 1.0f / sqrtf((float)D), .kv_type = f16 ? SB_TYPE_F16 : SB_TYPE_F32};
        double flop = 4.0 * D * n_head * (double)m * (double)(m + 1) / 2;
        double *t = malloc(sizeof(double) * (size_t)reps), best1 = 1e30;
        sb_attention(&ctx, O, Q, K, V, &p); /* warm-up */
        for (int r = 0; r < reps; r++) {
            double t0 = sb_now_s();
            sb_attention(&ctx, O, Q, K, V, &p);
            t[r] = sb_now_s() - t0;
        }
        sb_kctx one = {isa, 1};
        for (int r = 0; r < 2; r++) {
            double t0 = sb_thread_cpu_time_s();
            sb_attention(&one, O, Q, K, V, &p);
            double dt = sb_thread_cpu_time_s() - t0;
            if (dt < best1) best1 = dt;
        }
        double ours = flop / sb_median(t, reps) / 1e9, ours1 = flop / best1 / 1e9;
        /* reference on 4 heads / 1 KV head: the first KV head's group (Q heads 0..3) */
        sb_attn_params pr = p;
        pr.n_head = 4; pr.n_kv_head = 1;
        /* repack the first group's Q and K/V rows into the smaller layout */
        float *Qr = malloc(sizeof(float) * (size_t)m * 4 * D);
        void *Kr = malloc((size_t)m * D * esz), *Vr = malloc((size_t)m * D * esz);
        float *Or = malloc(sizeof(float) * (size_t)m * 4 * D);
        if (!Qr || !Kr || !Vr || !Or) return 1;
        for (int64_t i = 0; i < m; i++) {
            memcpy(Qr + i * 4 * D, Q + i * n_head * D, sizeof(float) * 4 * D);
            memcpy((char *)Kr + (size_t)i * D * esz, (char *)K + (size_t)i * n_kv_head * D * esz, D * esz);
            memcpy((char *)Vr + (size_t)i * D * esz, (char *)V + (size_t)i * n_kv_head * D * esz, D * esz);
        }
        double t0 = sb_thread_cpu_time_s();
        sb_attention(&rc, Or, Qr, Kr, Vr, &pr);
        double tref = sb_thread_cpu_time_s() - t0;
        double ref = flop / 8 / tref / 1e9;
        /* validate: group 0 of the full run against the reference */
        double num = 0, den = 0;
        for (int64_t i = 0; i < m; i++)
            for (int c = 0; c < 4 * D; c++) {
                double a = O[i * n_head * D + c], b = Or[i * 4 * D + c];
                num += (a - b) * (a - b);
                den += b * b;
            }
        printf("prefill m=%lld %s K/V: flash %d threads %.1f GFLOP/s (%.1f ms wall, median); "
               "1 thread %.1f GFLOP/s (CPU time); naive ref %.2f GFLOP/s (1 thread, CPU time); "
               "1-thread ratio %.0fx; NMSE %.1e\n", (long long)m, f16 ? "f16" : "f32", threads, ours,
               sb_median(t, reps) * 1e3, ours1, ref, ours1 / ref, num / den);
        free(Q); free(O); free(K); free(V); free(Qr); free(Kr); free(Vr); free(Or); free(t);
    }

    /* ---- decode */
    sb_ceilings ceil = ceilings_now(threads);
    double bw = ceil.read_gbs, bw1 = ceil.read_gbs_1t;
    printf("read bandwidth (slmbench hw ceiling): %.1f GB/s with %d threads, %.1f GB/s with 1\n", bw, threads, bw1);
    printf("%7s %4s | %-36s | %-30s | %s\n", "", "", "flash, threads=N, wall clock, median", "flash, 1 thread, CPU time, best",
           "naive ref (1 thread, CPU time)");
    printf("%7s %4s | %8s %8s %9s | %8s %9s | %8s %8s\n", "ctx", "kv", "GB/s", "GFLOP/s", "% of read", "GB/s",
           "% of read", "GB/s", "ratio(1t)");
    for (int64_t c = 4096; c <= (quick ? 8192 : 32768); c *= 2) {
        for (int f16 = 1; f16 >= 0; f16--) {
            size_t esz = f16 ? 2 : 4, kv_bytes = (size_t)c * n_kv_head * D * esz;
            int copies = (int)((512u << 20) / (2 * kv_bytes)) + 1;
            void **K = calloc((size_t)copies, sizeof *K), **V = calloc((size_t)copies, sizeof *V);
            float *Q = malloc(sizeof(float) * n_head * D), *O = malloc(sizeof(float) * n_head * D);
            if (!K || !V || !Q || !O) return 1;
            for (int k = 0; k < copies; k++) {
                K[k] = malloc(kv_bytes);
                V[k] = malloc(kv_bytes);
                if (!K[k] || !V[k]) return 1;
                if (f16) { fill_half(K[k], kv_bytes / 2); fill_half(V[k], kv_bytes / 2); }
                else { fill(K[k], kv_bytes); fill(V[k], kv_bytes); }
            }
            fill(Q, sizeof(float) * n_head * D);
            sb_attn_params p = {.m = 1, .pos = c - 1, .n_kv = c, .n_head = n_head, .n_kv_head = n_kv_head,
                                .head_dim = D, .scale = 1.0f / sqrtf((float)D), .kv_type = f16 ? SB_TYPE_F16 : SB_TYPE_F32};
            int nr = reps * 4;
            double *t = malloc(sizeof(double) * (size_t)nr), best1 = 1e30, bestr = 1e30;
            for (int r = 0; r < nr; r++) {
                int k = r % copies;
                double t0 = sb_now_s();
                sb_attention(&ctx, O, Q, K[k], V[k], &p);
                t[r] = sb_now_s() - t0;
            }
            sb_kctx one = {isa, 1};
            for (int r = 0; r < nr; r++) {
                int k = r % copies;
                double t0 = sb_thread_cpu_time_s();
                sb_attention(&one, O, Q, K[k], V[k], &p);
                double dt = sb_thread_cpu_time_s() - t0;
                if (dt < best1) best1 = dt;
            }
            for (int r = 0; r < 2; r++) {
                int k = (r + 1) % copies;
                double t0 = sb_thread_cpu_time_s();
                sb_attention(&rc, O, Q, K[k], V[k], &p);
                double dt = sb_thread_cpu_time_s() - t0;
                if (dt < bestr) bestr = dt;
            }
            double bytes = 2.0 * (double)kv_bytes, flop = 4.0 * D * n_head * (double)c;
            double tm = sb_median(t, nr);
            printf("%7lld %4s | %8.1f %8.1f %8.0f%% | %8.1f %8.0f%% | %8.2f %8.0fx\n", (long long)c, f16 ? "f16" : "f32",
                   bytes / tm / 1e9, flop / tm / 1e9, 100 * bytes / tm / 1e9 / bw, bytes / best1 / 1e9,
                   100 * bytes / best1 / 1e9 / bw1, bytes / bestr / 1e9, bestr / best1);
            for (int k = 0; k < copies; k++) { free(K[k]); free(V[k]); }
            free(K); free(V); free(Q); free(O); free(t);
        }
    }
    return 0;
}
