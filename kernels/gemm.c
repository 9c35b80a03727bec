/* F32 GEMM, organised like BLIS: Y[m×n] = X[m×k] · Wᵀ (W row-major n×k).
 *
 * A = X (the broadcast side, MR rows per micro-panel), B = Wᵀ (the vector side, NR rows of W
 * per micro-panel). The loops:
 *   ic over m in MC steps       all threads pack the A block (MC × k, every KC slice) together;
 *                               MC is sized so the packed block fits in half of L3
 *    (threads split the block's Y rows × all columns into slabs of whole micro-tiles)
 *    jc over n in NC steps      the B panel (KC × NC) is packed by each thread for its slab and
 *     pc over k in KC steps     lives in L2
 *      ir over MR micro-panels  the A micro-panel (MR × KC) stays in L1 while ...
 *       jr over NR micro-panels ... the micro-kernel streams the B panel from L2
 * This is the order of BLIS's Skylake-X sgemm (small broadcast panel in L1, wide vector panel
 * from L2). Packing A once per MC block instead of once per (jc, pc) step keeps the packing
 * cost at one pass over X and one over W in the common case (m·k·4 bytes <= L3/2).
 * The micro-kernel and the packing routine are per ISA (kernels/gemm_impl.h states their
 * contract). KC, NC and MC come from the cache sizes the OS reports.
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

/* KC: the A micro-panel (MR × KC floats, reused across the whole jr loop) takes about half of
 * L1, leaving room for the B stream and the C tile. NC: the B panel (KC × NC) takes about half
 * of L2. MC: the packed A block (MC × k) takes at most half of L3 (capped at 32 MiB: a large L3
 * is shared with other tenants). */
static blocking blocking_for(const sb_gemm_kernel *kr, int64_t m, int64_t k)
{
    long l1 = cache_bytes(_SC_LEVEL1_DCACHE_SIZE, 32 << 10);
    long l2 = cache_bytes(_SC_LEVEL2_CACHE_SIZE, 512 << 10);
    long l3 = cache_bytes(_SC_LEVEL3_CACHE_SIZE, 8 << 20);
    if (l3 > (64L << 20)) l3 = 64L << 20;
    blocking b;
    b.kc = (int64_t)(l1 / 2) / ((int64_t)kr->mr * 4);
    b.kc = b.kc < 64 ? 64 : b.kc > 1024 ? 1024 : b.kc;
    b.kc -= b.kc % 16;
    if (k <= b.kc + b.kc / 2) b.kc = k;      /* one k step when k is only a bit larger */
    int64_t kc_eff = b.kc < 16 ? 16 : b.kc;
    b.nc = (int64_t)(l2 / 2) / (kc_eff * 4);
    b.nc -= b.nc % kr->nr;
    if (b.nc < kr->nr) b.nc = kr->nr;
    b.mc = (int64_t)(l3 / 2) / (k * 4);
    b.mc -= b.mc % kr->mr;
    if (b.mc < kr->mr) b.mc = kr->mr;
    if (b.mc > m) b.mc = (m + kr->mr - 1) / kr->mr * kr->mr;
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

/* Packed A block layout: for each KC slice starting at pc, mp × kc floats (mp = MC rounded up
 * to MR), micro-panel ir (a row offset, multiple of MR) at ir·kc within the slice; the slice
 * starts at pc·mp. */
typedef struct gemm_job {
    const sb_gemm_kernel *kr;
    blocking bl;
    float *Y;
    const float *X, *W;
    int64_t m, n, k;
} gemm_job;

/* Packs X rows ic .. ic+mc (all of k) into ap; the (slice, panel) pairs are split over threads. */
static void pack_a_block(const gemm_job *j, float *ap, int64_t ic, int64_t mc)
{
    const int MR = j->kr->mr;
    const int64_t panels = (mc + MR - 1) / MR, mp = panels * MR;
    const int64_t slices = (j->k + j->bl.kc - 1) / j->bl.kc;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < slices * panels; t++) {
        int64_t pc = t / panels * j->bl.kc, ir = t % panels * MR;
        int64_t kc = j->k - pc < j->bl.kc ? j->k - pc : j->bl.kc;
        int rows = mc - ir < MR ? (int)(mc - ir) : MR;
        j->kr->pack(ap + pc * mp + ir * kc, j->X + (ic + ir) * j->k + pc, j->k, rows, MR, kc);
    }
}

/* One thread's slab of the block: Y rows ic+r0 .. ic+r1 (r0, r1 multiples of MR within the
 * block, r1 clipped to mc) × columns n0 .. n1. bbuf holds a KC × NC B panel. */
static void gemm_slab(const gemm_job *j, const float *ap, int64_t ic, int64_t mc, int64_t r0,
                      int64_t r1, int64_t n0, int64_t n1, float *bbuf)
{
    const sb_gemm_kernel *kr = j->kr;
    const int MR = kr->mr, NR = kr->nr;
    const int64_t n = j->n, k = j->k, mp = (mc + MR - 1) / MR * MR;
    float *Y = j->Y;
    float ct[16 * 64] __attribute__((aligned(64))); /* scratch tile for edges, MR*NR <= 1024 */
    for (int64_t jc = n0; jc < n1; jc += j->bl.nc) {
        int64_t nc = n1 - jc < j->bl.nc ? n1 - jc : j->bl.nc;
        for (int64_t pc = 0; pc < k; pc += j->bl.kc) {
            int64_t kc = k - pc < j->bl.kc ? k - pc : j->bl.kc;
            int beta = pc > 0;
            for (int64_t jr = 0; jr < nc; jr += NR) {
                int rows = nc - jr < NR ? (int)(nc - jr) : NR;
                kr->pack(bbuf + jr * kc, j->W + (jc + jr) * k + pc, k, rows, NR, kc);
            }
            for (int64_t ir = r0; ir < r1; ir += MR) {
                int mi = r1 - ir < MR ? (int)(r1 - ir) : MR;
                const float *a = ap + pc * mp + ir * kc;
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    int nj = nc - jr < NR ? (int)(nc - jr) : NR;
                    float *c = Y + (ic + ir) * n + jc + jr;
                    const float *b = bbuf + jr * kc;
                    if (mi == MR && nj == NR) {
                        kr->ukernel(kc, a, b, c, n, beta);
                        continue;
                    }
                    kr->ukernel(kc, a, b, ct, NR, 0);
                    for (int i = 0; i < mi; i++)
                        for (int jj = 0; jj < nj; jj++)
                            c[i * n + jj] = (beta ? c[i * n + jj] : 0.0f) + ct[i * NR + jj];
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
    gemm_job job = {kr, blocking_for(kr, m, k), Y, X, W, m, n, k};
    int nt = sb_kctx_threads(ctx);
    /* Small products do not pay for waking threads (~2 MFLOP per thread is a few µs). */
    double flops = 2.0 * (double)m * (double)n * (double)k;
    if (flops < 2e6 * nt) nt = (int)(flops / 2e6) + 1;
    /* Split each block along n (W rows) when there are enough NR tiles, else along m. */
    int64_t tiles_n = (n + kr->nr - 1) / kr->nr, tiles_mc = (job.bl.mc + kr->mr - 1) / kr->mr;
    int split_n = tiles_n >= 2 * nt || tiles_n >= tiles_mc;
    int64_t units = split_n ? tiles_n : tiles_mc;
    if (nt > units) nt = (int)units;
    if (nt < 1) nt = 1;
    int64_t bmax = job.bl.nc < tiles_n * kr->nr ? job.bl.nc : tiles_n * kr->nr;
    size_t abytes = ((size_t)job.bl.mc * (size_t)k + 16) * sizeof(float);
    size_t bbytes = ((size_t)bmax * (size_t)job.bl.kc + 16) * sizeof(float);
    abytes = (abytes + 63) & ~(size_t)63;
    bbytes = (bbytes + 63) & ~(size_t)63;
    float *buf = aligned_alloc(64, abytes + bbytes * (size_t)nt);
    if (!buf) return SB_KERR_NOMEM;
    float *ap = buf;

#pragma omp parallel num_threads(nt) if (nt > 1)
    {
#ifdef _OPENMP
        int t = omp_get_thread_num();
#else
        int t = 0;
#endif
        float *bbuf = (float *)(void *)((char *)buf + abytes + (size_t)t * bbytes);
        for (int64_t ic = 0; ic < m; ic += job.bl.mc) {
            int64_t mc = m - ic < job.bl.mc ? m - ic : job.bl.mc;
            pack_a_block(&job, ap, ic, mc); /* ends with a barrier */
            int64_t tiles_m = (mc + kr->mr - 1) / kr->mr;
            int64_t u0, u1, r0 = 0, r1 = mc, n0 = 0, n1 = n;
            if (split_n) {
                u0 = part_start(tiles_n, nt, t);
                u1 = part_start(tiles_n, nt, t + 1);
                n0 = u0 * kr->nr;
                n1 = u1 * kr->nr < n ? u1 * kr->nr : n;
            } else {
                u0 = part_start(tiles_m, nt, t);
                u1 = part_start(tiles_m, nt, t + 1);
                r0 = u0 * kr->mr;
                r1 = u1 * kr->mr < mc ? u1 * kr->mr : mc;
            }
            if (r0 < r1 && n0 < n1) gemm_slab(&job, ap, ic, mc, r0, r1, n0, n1, bbuf);
#pragma omp barrier
        }
    }
    free(buf);
    return SB_KOK;
}
