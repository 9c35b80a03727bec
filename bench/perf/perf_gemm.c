/* perf_gemm — F32 GEMM throughput against OpenBLAS and the FMA peak, measured in one run.
 *
 *   build/perf/perf_gemm [--threads N] [--isa avx2|avx512] [--reps R] [--sizes 512,1024,2048]
 *
 * For each square size N: Y = X·Wᵀ (m = n = k = N) with sb_gemm_f32, and cblas_sgemm(RowMajor,
 * NoTrans, Trans) computing the same product, alternating blocks of repetitions so both see the
 * same machine load. GFLOP/s = 2·N³ / time, two ways:
 *   - with N threads (default 2), wall clock: median and best of the repetitions;
 *   - with 1 thread, the thread's CPU time (best): on a machine shared with other jobs this
 *     counts only the time the kernel ran, so the ratio is stable when wall clock is not.
 * The FMA peak is measured in the same run by the harness's loop (`slmbench hw`'s, 12 independent
 * FMA chains per thread) at the vector width of the level (wall clock for N threads, CPU time
 * for 1). Nothing here asserts
 * a time; the figures are printed.
 *
 * On cores shared with other jobs, libgomp's default spin-waiting at the end of each parallel
 * region holds a core that the other (preempted) thread of the team needs: run with
 * OMP_WAIT_POLICY=passive there (it is read at program start, so it must be in the environment).
 * OpenBLAS's own thread pool is not affected by it.
 */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/hw.h"
#include "harness/measure.h"
#include "kernels/internal.h"

void openblas_set_num_threads(int num_threads);

/* Both libraries' idle worker threads busy-wait for a while after a call (OpenBLAS for ~2^28
 * cycles, OpenMP for its spin count), which would steal the cores from the other library's
 * next block. A pause between blocks lets them go to sleep first; each block then starts with
 * an untimed call that wakes its own pool, so the timed calls see a warm pool as back-to-back
 * calls in a model do. */
static void idle_pause(void)
{
    struct timespec ts = {0, 150 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

static void usage(void)
{
    fprintf(stderr, "usage: perf_gemm [--threads N] [--isa avx2|avx512] [--reps R] [--sizes N,N,...]\n");
}

int main(int argc, char **argv)
{
    int threads = 2, reps = 10;
    sb_isa isa = sb_isa_default();
    int sizes[16] = {512, 1024, 2048}, n_sizes = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--isa") && i + 1 < argc) {
            if (sb_isa_from_name(argv[++i], &isa) != SB_KOK || !sb_isa_supported(isa) || isa == SB_ISA_REF) {
                fprintf(stderr, "perf_gemm: level %s not usable here\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--sizes") && i + 1 < argc) {
            n_sizes = 0;
            for (char *s = strtok(argv[++i], ","); s && n_sizes < 16; s = strtok(NULL, ","))
                sizes[n_sizes++] = atoi(s);
        } else if (!strcmp(argv[i], "--help")) {
            usage();
            return 0;
        } else {
            usage();
            return 2;
        }
    }
    if (threads < 1 || reps < 1 || isa == SB_ISA_REF) { usage(); return 2; }
    double peak = sb_hw_fma_peak_gflops(threads, isa == SB_ISA_AVX512, 0);
    double peak1 = sb_hw_fma_peak_gflops(1, isa == SB_ISA_AVX512, 1);
    printf("F32 GEMM, Y = X*W^T (cblas_sgemm RowMajor NoTrans x Trans), %s, %d reps per figure, "
           "alternating blocks of 2\n", sb_isa_name(isa), reps);
    printf("FMA peak (%d-bit, 12 chains/thread, best of 4): %d threads %.1f GFLOP/s wall; 1 thread "
           "%.1f GFLOP/s per CPU-second\n", isa == SB_ISA_AVX512 ? 512 : 256, threads, peak, peak1);
    printf("%5s | %-44s | %-44s | %-30s\n", "", "threads=N, wall clock, median (best)", "",
           "1 thread, thread CPU time, best");
    printf("%5s | %9s %9s %6s %7s %7s | %9s %9s %6s %7s | %8s %8s %6s %6s\n", "N", "ours", "OpenBLAS", "ratio",
           "ours%pk", "blas%pk", "ours best", "blas best", "ratio", "ours%pk", "ours", "OpenBLAS", "ratio",
           "%pk1");
    for (int si = 0; si < n_sizes; si++) {
        int64_t N = sizes[si];
        if (N < 1) continue;
        size_t cells = (size_t)N * (size_t)N;
        float *X = aligned_alloc(64, cells * 4), *W = aligned_alloc(64, cells * 4);
        float *Y = aligned_alloc(64, cells * 4), *Yb = aligned_alloc(64, cells * 4);
        double *to = malloc(sizeof(double) * (size_t)reps), *tb = malloc(sizeof(double) * (size_t)reps);
        if (!X || !W || !Y || !Yb || !to || !tb) { fprintf(stderr, "perf_gemm: out of memory\n"); return 1; }
        uint64_t s = 42;
        for (size_t i = 0; i < cells; i++) {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            X[i] = (float)(s >> 40) / 16777216.0f - 0.5f;
            W[i] = (float)((s >> 16) & 0xffffff) / 16777216.0f - 0.5f;
        }
        double g[2][3]; /* [threads, 1][ours median, blas median, ...] */
        double best_o = 0, best_b = 0;
        for (int pass = 0; pass < 2; pass++) {
            int nt = pass == 0 ? threads : 1;
            sb_kctx ctx = {isa, nt};
            openblas_set_num_threads(nt);
            double (*clock_fn)(void) = pass == 0 ? sb_now_s : sb_thread_cpu_time_s;
            sb_gemm_f32(&ctx, Y, X, W, N, N, N); /* warm-up both */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)N, (int)N, 1.0f, X, (int)N, W, (int)N, 0.0f, Yb, (int)N);
            int io = 0, ib = 0;
            while (io < reps || ib < reps) {
                idle_pause();
                sb_gemm_f32(&ctx, Y, X, W, N, N, N); /* untimed: wake the thread pool */
                for (int r = 0; r < 2 && io < reps; r++) {
                    double t0 = clock_fn();
                    sb_gemm_f32(&ctx, Y, X, W, N, N, N);
                    to[io++] = clock_fn() - t0;
                }
                idle_pause();
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)N, (int)N, 1.0f, X, (int)N, W, (int)N, 0.0f, Yb, (int)N);
                for (int r = 0; r < 2 && ib < reps; r++) {
                    double t0 = clock_fn();
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)N, (int)N, 1.0f, X, (int)N, W, (int)N, 0.0f, Yb, (int)N);
                    tb[ib++] = clock_fn() - t0;
                }
            }
            double flop = 2.0 * (double)N * N * N;
            g[pass][0] = flop / sb_median(to, reps) / 1e9;
            g[pass][1] = flop / sb_median(tb, reps) / 1e9;
            double min_o = to[0], min_b = tb[0];
            for (int i = 1; i < reps; i++) min_o = to[i] < min_o ? to[i] : min_o, min_b = tb[i] < min_b ? tb[i] : min_b;
            if (pass == 0) {
                best_o = flop / min_o / 1e9;
                best_b = flop / min_b / 1e9;
            } else {
                g[1][0] = flop / min_o / 1e9;
                g[1][1] = flop / min_b / 1e9;
            }
        }
        /* validate after timing: both must agree */
        double num = 0, den = 0;
        for (size_t i = 0; i < cells; i++) {
            double d = (double)Y[i] - Yb[i];
            num += d * d;
            den += (double)Yb[i] * Yb[i];
        }
        printf("%5lld | %9.1f %9.1f %6.3f %6.1f%% %6.1f%% | %9.1f %9.1f %6.3f %6.1f%% | %8.1f %8.1f %6.3f %5.1f%%  NMSE %.0e\n",
               (long long)N, g[0][0], g[0][1], g[0][0] / g[0][1], 100 * g[0][0] / peak, 100 * g[0][1] / peak,
               best_o, best_b, best_o / best_b, 100 * best_o / peak, g[1][0], g[1][1], g[1][0] / g[1][1],
               100 * g[1][0] / peak1, num / den);
        free(X); free(W); free(Y); free(Yb); free(to); free(tb);
    }
    printf("FMA peak again after the runs: %.1f GFLOP/s (%d threads), %.1f (1 thread, CPU time)\n",
           sb_hw_fma_peak_gflops(threads, isa == SB_ISA_AVX512, 0), threads,
           sb_hw_fma_peak_gflops(1, isa == SB_ISA_AVX512, 1));
    return 0;
}
