/* perf_matvec — decode matvec (m = 1) and prefill matmul (m = 512) for every weight format.
 *
 *   build/perf/perf_matvec [--threads N] [--reps N] [--quick]
 *
 * Prints, in one run (so the ratios compare like with like on a noisy shared machine):
 * - the read bandwidth of this machine now, measured as `slmbench hw` does (harness/hw.h: eight
 *   streams per thread with prefetch; one plain stream per thread reaches only about half of it
 *   here), the ceiling every "%" divides by;
 * - decode: weights k×n (k = row length) 4096×4096, 4096×14336, 14336×4096 per format and ISA
 *   level: GB/s of weight bytes read per call, and % of the measured read bandwidth; for f32 the
 *   OpenBLAS sgemv figure at the same shape, measured here;
 * - prefill m = 512 at 4096×14336 per format and level: GFLOP/s (2·m·n·k per call); for f32 the
 *   OpenBLAS sgemm figure.
 * Medians of --reps calls. When a format's weights fit in cache, the driver rotates through
 * enough copies that every call reads them from memory. Nothing here asserts a time.
 */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/hw.h"
#include "harness/measure.h"
#include "kernels/kernels.h"

static void fill(float *x, size_t n, uint64_t *seed)
{
    for (size_t i = 0; i < n; i++) {
        *seed ^= *seed << 13, *seed ^= *seed >> 7, *seed ^= *seed << 17;
        x[i] = (float)((*seed >> 40) * 0x1p-24) * 2.0f - 1.0f;
    }
}

/* Read bandwidth now, all nt threads: the harness's measurement (the figure `slmbench hw` prints). */
static double read_bandwidth(int nt)
{
    sb_ceilings c;
    return sb_hw_measure_ceilings(nt, &c) == 0 ? c.read_gbs : 0;
}

/* n rows of k elements in format t, made of 64 quantized random rows repeated (quantizing the
 * full 58M-element matrices would take longer than the measurement). */
static void *make_weights(sb_type t, int64_t n, int64_t k, size_t *bytes, uint64_t *seed)
{
    size_t rb;
    sb_row_bytes(t, k, &rb);
    *bytes = rb * (size_t)n;
    uint8_t *w = aligned_alloc(64, (*bytes + 63) / 64 * 64);
    float *row = malloc((size_t)k * sizeof(float));
    if (!w || !row) {
        free(w), free(row);
        return NULL;
    }
    int64_t base = n < 64 ? n : 64;
    for (int64_t j = 0; j < base; j++) {
        fill(row, (size_t)k, seed);
        sb_quantize_row(t, row, w + (size_t)j * rb, k);
    }
    for (int64_t j = base; j < n; j++) memcpy(w + (size_t)j * rb, w + (size_t)(j % base) * rb, rb);
    free(row);
    return w;
}

/* The 1-minute load average: how busy the shared machine was while measuring. */
static double loadavg(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = -1;
        fclose(f);
    }
    return l;
}

typedef struct shape { int64_t k, n; } shape;

static const sb_type types[] = {SB_TYPE_F32,  SB_TYPE_F16,  SB_TYPE_BF16, SB_TYPE_Q8_0,
                                SB_TYPE_Q4_0, SB_TYPE_Q4_K, SB_TYPE_Q5_K, SB_TYPE_Q6_K};

int main(int argc, char **argv)
{
    int nt = 2, reps = 15, quick = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) nt = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quick")) quick = 1;
        else {
            fprintf(stderr, "usage: perf_matvec [--threads N] [--reps N] [--quick]\n");
            return 2;
        }
    }
    if (reps < 3) reps = 3;
    if (reps > 100) reps = 100;
    openblas_set_num_threads(nt);
    sb_isa levels[2];
    int nlev = 0;
    if (sb_isa_supported(SB_ISA_AVX2)) levels[nlev++] = SB_ISA_AVX2;
    if (sb_isa_supported(SB_ISA_AVX512)) levels[nlev++] = SB_ISA_AVX512;
    if (!nlev) levels[nlev++] = SB_ISA_REF;

    double bw = read_bandwidth(nt);
    printf("threads %d, reps %d (median); load average %.1f; read bandwidth now: %.1f GB/s\n\n", nt, reps,
           loadavg(), bw);

    /* ------------------------------------------------------------ decode */
    static const shape shapes[] = {{4096, 4096}, {4096, 14336}, {14336, 4096}};
    int nshapes = quick ? 1 : 3;
    printf("decode matvec (m = 1): GB/s of weight bytes, %% of read bandwidth\n");
    printf("%-6s %-12s", "format", "k x n");
    for (int l = 0; l < nlev; l++) printf(" %14s", sb_isa_name(levels[l]));
    printf(" %14s\n", "openblas sgemv");
    uint64_t seed = 1;
    for (int si = 0; si < nshapes; si++) {
        int64_t k = shapes[si].k, n = shapes[si].n;
        float *x = malloc((size_t)k * sizeof(float)), *y = malloc((size_t)n * sizeof(float));
        fill(x, (size_t)k, &seed);
        for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
            sb_type t = types[ti];
            size_t bytes;
            void *w0 = make_weights(t, n, k, &bytes, &seed);
            if (!w0) { fprintf(stderr, "out of memory\n"); return 1; }
            /* copies so that the rotation exceeds ~4x the 32 MB L3 */
            int ncopy = (int)((256u << 20) / bytes) + 1;
            if (ncopy > 64) ncopy = 64;
            void **w = malloc((size_t)ncopy * sizeof *w);
            w[0] = w0;
            for (int c = 1; c < ncopy; c++) {
                w[c] = aligned_alloc(64, (bytes + 63) / 64 * 64);
                memcpy(w[c], w0, bytes);
            }
            printf("%-6s %5lldx%-6lld", sb_type_name(t), (long long)k, (long long)n);
            double times[100];
            for (int l = 0; l < nlev; l++) {
                sb_kctx ctx = {levels[l], nt};
                for (int rep = -2; rep < reps; rep++) {
                    int c = (rep + 2) % ncopy;
                    double t0 = sb_now_s();
                    sb_matmul(&ctx, y, x, w[c], t, 1, n, k);
                    if (rep >= 0) times[rep] = sb_now_s() - t0;
                }
                double gbs = (double)bytes / sb_median(times, reps) / 1e9;
                printf(" %6.1f (%3.0f%%)", gbs, 100 * gbs / bw);
            }
            if (t == SB_TYPE_F32) {
                for (int rep = -2; rep < reps; rep++) {
                    int c = (rep + 2) % ncopy;
                    double t0 = sb_now_s();
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)k, 1.0f, w[c], (int)k, x, 1, 0.0f, y, 1);
                    if (rep >= 0) times[rep] = sb_now_s() - t0;
                }
                double gbs = (double)bytes / sb_median(times, reps) / 1e9;
                printf(" %6.1f (%3.0f%%)", gbs, 100 * gbs / bw);
            }
            printf("\n");
            fflush(stdout);
            for (int c = 0; c < ncopy; c++) free(w[c]);
            free(w);
        }
        free(x), free(y);
    }

    /* ------------------------------------------------------------ prefill */
    const int64_t m = 512, k = 4096, n = quick ? 4096 : 14336;
    int preps = reps > 5 ? 5 : reps;
    printf("\nprefill matmul m = %lld, k x n = %lldx%lld: GFLOP/s\n", (long long)m, (long long)k, (long long)n);
    printf("%-6s", "format");
    for (int l = 0; l < nlev; l++) printf(" %9s", sb_isa_name(levels[l]));
    printf(" %14s\n", "openblas sgemm");
    float *x = malloc((size_t)(m * k) * sizeof(float)), *y = malloc((size_t)(m * n) * sizeof(float));
    fill(x, (size_t)(m * k), &seed);
    double flop = 2.0 * (double)m * (double)n * (double)k;
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        sb_type t = types[ti];
        size_t bytes;
        void *w = make_weights(t, n, k, &bytes, &seed);
        printf("%-6s", sb_type_name(t));
        double times[100];
        for (int l = 0; l < nlev; l++) {
            sb_kctx ctx = {levels[l], nt};
            int done = 0;
            for (int rep = -1; rep < preps; rep++) {
                double t0 = sb_now_s();
                sb_matmul(&ctx, y, x, w, t, m, n, k);
                double dt = sb_now_s() - t0;
                if (rep >= 0) times[done++] = dt;
                if (dt > 5.0) { /* a slow path: one timed call is enough */
                    if (!done) times[done++] = dt;
                    break;
                }
            }
            printf(" %9.1f", flop / sb_median(times, done) / 1e9);
        }
        if (t == SB_TYPE_F32) {
            for (int rep = -1; rep < preps; rep++) {
                double t0 = sb_now_s();
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1.0f, x, (int)k, w, (int)k,
                            0.0f, y, (int)n);
                if (rep >= 0) times[rep] = sb_now_s() - t0;
            }
            printf(" %14.1f", flop / sb_median(times, preps) / 1e9);
        }
        printf("\n");
        fflush(stdout);
        free(w);
    }
    free(x), free(y);
    printf("\nload average at the end: %.1f; read bandwidth at the end: %.1f GB/s\n", loadavg(), read_bandwidth(nt));
    return 0;
}
