/* F32 GEMM, organised like BLIS: Y[m×n] = X[m×k] · Wᵀ (W row-major n×k).
 *
 * Loops (per thread, over its share of Y):
 *   jc over n in NC steps       B panel  = W rows jc..jc+NC, KC deep, packed  (L3 / L2)
 *    pc over k in KC steps      pack B panel into NR-wide micro-panels
 *     ic over m in MC steps     pack A block (X rows) into MR-high micro-panels (L2)
 *      jr over NR micro-panels  B micro-panel stays in L1 while ...
 *       ir over MR micro-panels ... the micro-kernel sweeps the A block
 * The micro-kernel and the packing routine are per ISA (kernels/gemm_impl.h states their
 * contract). KC, MC and NC come from the cache sizes the OS reports.
 * Threads (OpenMP, ctx->n_threads) split Y into slabs of whole micro-tiles along n when it has
 * enough of them, else along m; each thread packs its own panels, so no barriers inside.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "kernels/gemm_impl.h"

/* The oracle: a plain triple loop, one thread. */
static void gemm_ref(float *Y, const float *X, const float *W, int64_t m, int64_t n, int64_t k)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            float acc = 0;
            for (int64_t p = 0; p < k; p++) acc += X[i * k + p] * W[j * k + p];
            Y[i * n + j] = acc;
        }
}

typedef struct blocking { int64_t kc, mc, nc; } blocking;

static long cache_bytes(int name, long fallback)
{
    long v = sysconf(name);
    return v > 0 ? v : fallback;
}

/* KC: the B micro-panel (KC × NR floats, the one the micro-kernel reuses across the ir loop)
 * fills about 2/3 of L1, leaving room for the A stream and the C tile. MC: the A block (MC × KC,
 * swept once per jr step) takes about half of L2. NC: the B panel is only streamed (each of its
 * micro-panels is loaded into L1 once per ic step), so it is limited by L3 only; a large NC
 * means fewer repacks of A. */
static blocking blocking_for(const sb_gemm_kernel *kr, int64_t k)
{
    long l1 = cache_bytes(_SC_LEVEL1_DCACHE_SIZE, 32 << 10);
    long l2 = cache_bytes(_SC_LEVEL2_CACHE_SIZE, 512 << 10);
    long l3 = cache_bytes(_SC_LEVEL3_CACHE_SIZE, 8 << 20);
    blocking b;
    b.kc = (int64_t)(l1 * 2 / 3) / ((int64_t)kr->nr * 4);
    b.kc = b.kc < 64 ? 64 : b.kc > 768 ? 768 : b.kc;
    b.kc -= b.kc % 16;
    if (k <= b.kc + b.kc / 2) b.kc = k;      /* one k step when k is only a bit larger */
    int64_t kc_eff = b.kc < 16 ? 16 : b.kc;
    b.mc = (int64_t)(l2 / 2) / (kc_eff * 4);
    b.mc -= b.mc % kr->mr;
    if (b.mc < kr->mr) b.mc = kr->mr;
    if (l3 > (64L << 20)) l3 = 64L << 20;   /* a huge shared L3 is not all ours */
    b.nc = (int64_t)(l3 / 8) / (kc_eff * 4);
    b.nc = b.nc > 4096 ? 4096 : b.nc;
    b.nc -= b.nc % kr->nr;
    if (b.nc < kr->nr) b.nc = kr->nr;
    if (getenv("SB_GEMM_KC")) b.kc = atoi(getenv("SB_GEMM_KC"));
    if (getenv("SB_GEMM_MC")) b.mc = atoi(getenv("SB_GEMM_MC"));
    if (getenv("SB_GEMM_NC")) b.nc = atoi(getenv("SB_GEMM_NC"));
    return b;
}

static const sb_gemm_kernel *kernel_for(sb_isa isa)
{
    switch (isa) {
    case SB_ISA_AVX2: return &sb_gemm_kernel_avx2;
    case SB_ISA_AVX512: return &sb_gemm_kernel_avx512;
    default: return NULL;
    }
}

/* One thread's share: Y rows [m0,m1) × columns [n0,n1). abuf holds MC×KC, bbuf KC×NC floats
 * (plus the 16-float slack the packing contract allows). */
static void gemm_slab(const sb_gemm_kernel *kr, const blocking *bl, float *Y, const float *X,
                      const float *W, int64_t n, int64_t k, int64_t m0, int64_t m1, int64_t n0,
                      int64_t n1, float *abuf, float *bbuf)
{
    const int MR = kr->mr, NR = kr->nr;
    float ct[16 * 64] __attribute__((aligned(64))); /* scratch tile for edges, MR*NR <= 1024 */
    for (int64_t jc = n0; jc < n1; jc += bl->nc) {
        int64_t nc = n1 - jc < bl->nc ? n1 - jc : bl->nc;
        for (int64_t pc = 0; pc < k; pc += bl->kc) {
            int64_t kc = k - pc < bl->kc ? k - pc : bl->kc;
            int beta = pc > 0;
            for (int64_t jr = 0; jr < nc; jr += NR) {
                int rows = nc - jr < NR ? (int)(nc - jr) : NR;
                kr->pack(bbuf + jr * kc, W + (jc + jr) * k + pc, k, rows, NR, kc);
            }
            for (int64_t ic = m0; ic < m1; ic += bl->mc) {
                int64_t mc = m1 - ic < bl->mc ? m1 - ic : bl->mc;
                for (int64_t ir = 0; ir < mc; ir += MR) {
                    int rows = mc - ir < MR ? (int)(mc - ir) : MR;
                    kr->pack(abuf + ir * kc, X + (ic + ir) * k + pc, k, rows, MR, kc);
                }
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    int nj = nc - jr < NR ? (int)(nc - jr) : NR;
                    const float *bp = bbuf + jr * kc;
                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        int mi = mc - ir < MR ? (int)(mc - ir) : MR;
                        float *c = Y + (ic + ir) * n + jc + jr;
                        const float *ap = abuf + ir * kc;
                        if (mi == MR && nj == NR) {
                            kr->ukernel(kc, ap, bp, c, n, beta);
                            continue;
                        }
                        kr->ukernel(kc, ap, bp, ct, NR, 0);
                        for (int i = 0; i < mi; i++)
                            for (int j = 0; j < nj; j++)
                                c[i * n + j] = (beta ? c[i * n + j] : 0.0f) + ct[i * NR + j];
                    }
                }
            }
        }
    }
}

/* Start of part t of `units` whole units split into nt near-equal parts. */
static int64_t part_start(int64_t units, int nt, int t) { return units * t / nt; }

int sb_gemm_f32(const sb_kctx *ctx, float *Y, const float *X, const float *W, int64_t m, int64_t n,
                int64_t k)
{
    if (!ctx || !Y || !X || !W || m < 0 || n < 0 || k < 0) return SB_KERR_ARG;
    if (m == 0 || n == 0) return SB_KOK;
    if (k == 0) {
        memset(Y, 0, sizeof(float) * (size_t)m * (size_t)n);
        return SB_KOK;
    }
    const sb_gemm_kernel *kr = kernel_for(ctx->isa);
    if (!kr || !sb_isa_supported(ctx->isa)) {
        gemm_ref(Y, X, W, m, n, k);
        return SB_KOK;
    }
    blocking bl = blocking_for(kr, k);
    int nt = sb_kctx_threads(ctx);
    int64_t tiles_m = (m + kr->mr - 1) / kr->mr, tiles_n = (n + kr->nr - 1) / kr->nr;
    /* Small products do not pay for waking threads (~2 MFLOP per thread is a few µs). */
    double flops = 2.0 * (double)m * (double)n * (double)k;
    if (flops < 2e6 * nt) nt = (int)(flops / 2e6) + 1;
    int split_n = tiles_n >= 2 * nt || tiles_n >= tiles_m;
    int64_t units = split_n ? tiles_n : tiles_m;
    if (nt > units) nt = (int)units;
    if (nt < 1) nt = 1;
    int64_t amax = bl.mc < tiles_m * kr->mr ? bl.mc : tiles_m * kr->mr;
    int64_t bmax = bl.nc < tiles_n * kr->nr ? bl.nc : tiles_n * kr->nr;
    size_t abytes = ((size_t)amax * (size_t)bl.kc + 16) * sizeof(float);
    size_t bbytes = ((size_t)bmax * (size_t)bl.kc + 16) * sizeof(float);
    abytes = (abytes + 63) & ~(size_t)63;
    bbytes = (bbytes + 63) & ~(size_t)63;
    float *buf = aligned_alloc(64, (abytes + bbytes) * (size_t)nt);
    if (!buf) return SB_KERR_NOMEM;

#pragma omp parallel num_threads(nt) if (nt > 1)
    {
#ifdef _OPENMP
        int t = omp_get_thread_num();
#else
        int t = 0;
#endif
        int64_t u0 = part_start(units, nt, t), u1 = part_start(units, nt, t + 1);
        int64_t m0 = 0, m1 = m, n0 = 0, n1 = n;
        if (split_n) {
            n0 = u0 * kr->nr;
            n1 = u1 * kr->nr < n ? u1 * kr->nr : n;
        } else {
            m0 = u0 * kr->mr;
            m1 = u1 * kr->mr < m ? u1 * kr->mr : m;
        }
        float *abuf = (float *)(void *)((char *)buf + (size_t)t * (abytes + bbytes));
        float *bbuf = (float *)(void *)((char *)abuf + abytes);
        if (m0 < m1 && n0 < n1) gemm_slab(kr, &bl, Y, X, W, n, k, m0, m1, n0, n1, abuf, bbuf);
    }
    free(buf);
    return SB_KOK;
}
