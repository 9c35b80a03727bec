/* F32 GEMM, organised like BLIS: Y[m×n] = X[m×k] · Wᵀ (W row-major n×k).
 *
 * A = X (the broadcast side, MR rows per micro-panel), B = Wᵀ (the vector side, NR rows of W
 * per micro-panel). The loops:
 *   ic over m in MC steps       the A block (MC × k, every KC slice) is packed micro-panel by
 *                               micro-panel by the first thread that needs each one; MC is
 *                               sized so the packed block fits in half of L3
 *    (the block's Y rows × all columns are cut into slabs of whole micro-tiles that threads
 *     take dynamically)
 *    jc over n in NC steps      the B panel (KC × NC, or the slab's width) is packed by the
 *     pc over k in KC steps     thread working on the slab and lives in L2
 *      ir over MR micro-panels  the A micro-panel (MR × KC) stays in L1 while ...
 *       jr over NR micro-panels ... the micro-kernel streams the B panel from L2
 * This is the order of BLIS's Skylake-X sgemm (small broadcast panel in L1, wide vector panel
 * from L2). Packing A once per MC block instead of once per (jc, pc) step keeps the packing
 * cost at one pass over X and one over W in the common case (m·k·4 bytes <= L3/2).
 * The micro-kernel and the packing routine are per ISA (kernels/gemm_impl.h states their
 * contract). KC, NC and MC come from the cache sizes the OS reports.
 */
#include <sched.h>
#include <stdatomic.h>
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
    int64_t kc_max = (int64_t)(l1 / 2) / ((int64_t)kr->mr * 4);
    kc_max = kc_max < 64 ? 64 : kc_max > 1024 ? 1024 : kc_max;
    /* equal slices of at most kc_max (512 → 2 × 256 rather than 432 + 80) */
    int64_t slices = (k + kc_max - 1) / kc_max;
    b.kc = (k + slices - 1) / slices;
    b.kc = (b.kc + 15) / 16 * 16;
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
#if defined(__x86_64__)
    case SB_ISA_AVX2: return &sb_gemm_kernel_avx2;
    case SB_ISA_AVX512: return &sb_gemm_kernel_avx512;
#elif defined(__aarch64__)
    case SB_ISA_NEON: return &sb_gemm_kernel_neon;
#endif
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
    const float *X;
    const void *W;  /* n × k elements of type wt: f32, or f16/bf16 widened while B is packed */
    sb_type wt;
    int64_t m, n, k;
} gemm_job;

/* The packed A micro-panel (slice pc, rows ir .. ir+MR of the block). Panels are packed on
 * first use by whichever thread needs one first; flag: 0 unpacked, 1 being packed, 2 ready.
 * (A barrier after a joint packing pass would make every thread wait for the slowest one to
 * be scheduled: on shared cores that costs whole time slices.) */
static const float *a_panel(const gemm_job *j, float *ap, atomic_int *flags, int64_t ic, int64_t mc,
                            int64_t pc, int64_t ir, int64_t kc)
{
    const int MR = j->kr->mr;
    const int64_t panels = (mc + MR - 1) / MR, mp = panels * MR;
    float *a = ap + pc * mp + ir * kc;
    atomic_int *f = flags + pc / j->bl.kc * panels + ir / MR;
    if (atomic_load_explicit(f, memory_order_acquire) == 2) return a;
    int expected = 0;
    if (atomic_compare_exchange_strong_explicit(f, &expected, 1, memory_order_acq_rel, memory_order_acquire)) {
        int rows = mc - ir < MR ? (int)(mc - ir) : MR;
        j->kr->pack(a, j->X + (ic + ir) * j->k + pc, j->k, rows, MR, kc);
        atomic_store_explicit(f, 2, memory_order_release);
        return a;
    }
    while (atomic_load_explicit(f, memory_order_acquire) != 2) sched_yield(); /* rare: see gemm_slab */
    return a;
}

/* One thread's slab of the block: Y rows ic+r0 .. ic+r1 (r0, r1 multiples of MR within the
 * block, r1 clipped to mc) × columns n0 .. n1. bbuf holds a KC × NC B panel. */
static void gemm_slab(const gemm_job *j, float *ap, atomic_int *flags, int64_t ic, int64_t mc,
                      int64_t r0, int64_t r1, int64_t n0, int64_t n1, float *bbuf, int t, int nt)
{
    const sb_gemm_kernel *kr = j->kr;
    const int MR = kr->mr, NR = kr->nr;
    const int64_t n = j->n, k = j->k;
    float *Y = j->Y;
    float ct[16 * 64] __attribute__((aligned(64))); /* scratch tile for edges, MR*NR <= 1024 */
    for (int64_t jc = n0; jc < n1; jc += j->bl.nc) {
        int64_t nc = n1 - jc < j->bl.nc ? n1 - jc : j->bl.nc;
        for (int64_t pc = 0; pc < k; pc += j->bl.kc) {
            int64_t kc = k - pc < j->bl.kc ? k - pc : j->bl.kc;
            int beta = pc > 0;
            for (int64_t jr = 0; jr < nc; jr += NR) {
                int rows = nc - jr < NR ? (int)(nc - jr) : NR;
                int64_t off = (jc + jr) * k + pc;
                if (j->wt == SB_TYPE_F32) kr->pack(bbuf + jr * kc, (const float *)j->W + off, k, rows, NR, kc);
                else kr->pack_half(bbuf + jr * kc, (const uint16_t *)j->W + off, k, rows, NR, kc, j->wt == SB_TYPE_BF16);
            }
            /* thread t starts its sweep t/nt of the way down, so threads working on slabs side
             * by side pack different A panels first instead of waiting for each other */
            const int64_t np = (r1 - r0 + MR - 1) / MR, start = np * t / nt;
            for (int64_t q = 0; q < np; q++) {
                int64_t ir = r0 + (q + start) % np * MR;
                int mi = r1 - ir < MR ? (int)(r1 - ir) : MR;
                const float *a = a_panel(j, ap, flags, ic, mc, pc, ir, kc);
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

static int gemm_run(const sb_kctx *ctx, const sb_gemm_kernel *kr, float *Y, const float *X, const void *W, sb_type wt,
                    int64_t m, int64_t n, int64_t k);

/* Both entry points: W of type wt (f32, f16 or bf16). Argument checks, the empty cases, then
 * the level's kernel; f32 on the ref level runs the plain loop. */
static int gemm_any(const sb_kctx *ctx, float *Y, const float *X, const void *W, sb_type wt, int64_t m, int64_t n,
                    int64_t k)
{
    if (!ctx || (unsigned)ctx->isa >= SB_ISA_COUNT || !sb_isa_supported(ctx->isa) || !Y || !X || !W || m < 0 ||
        n < 0 || k < 0 || (wt != SB_TYPE_F32 && wt != SB_TYPE_F16 && wt != SB_TYPE_BF16))
        return SB_KERR_ARG;
    const sb_gemm_kernel *kr = kernel_for(ctx->isa);
    if (wt != SB_TYPE_F32 && (!kr || !kr->pack_half)) return SB_KERR_UNSUPPORTED;
    if (m == 0 || n == 0) return SB_KOK;
    if (k == 0) {
        memset(Y, 0, sizeof(float) * (size_t)m * (size_t)n);
        return SB_KOK;
    }
    if (!kr) { /* ref */
        gemm_ref(Y, X, W, m, n, k);
        return SB_KOK;
    }
    return gemm_run(ctx, kr, Y, X, W, wt, m, n, k);
}

int sb_gemm_f32(const sb_kctx *ctx, float *Y, const float *X, const float *W, int64_t m, int64_t n,
                int64_t k)
{
    return gemm_any(ctx, Y, X, W, SB_TYPE_F32, m, n, k);
}

int sb_gemm_half(const sb_kctx *ctx, float *Y, const float *X, const void *W, sb_type wt, int64_t m, int64_t n,
                 int64_t k)
{
    if (wt != SB_TYPE_F16 && wt != SB_TYPE_BF16) return SB_KERR_ARG;
    return gemm_any(ctx, Y, X, W, wt, m, n, k);
}

static int gemm_run(const sb_kctx *ctx, const sb_gemm_kernel *kr, float *Y, const float *X, const void *W, sb_type wt,
                    int64_t m, int64_t n, int64_t k)
{
    gemm_job job = {kr, blocking_for(kr, m, k), Y, X, W, wt, m, n, k};
    int nt = sb_kctx_threads(ctx);
    /* Small products do not pay for waking threads (~2 MFLOP per thread is a few µs). */
    double flops = 2.0 * (double)m * (double)n * (double)k;
    if (flops < 2e6 * nt) nt = (int)(flops / 2e6) + 1;
    /* Work units: slabs of whole micro-tiles of each block, along n (W rows) when there are
     * enough NR tiles, else along m; about 8 per thread, taken dynamically, so a thread that the
     * OS preempts (the cores may be shared) holds up the others for one slab at most. */
    int64_t tiles_n = (n + kr->nr - 1) / kr->nr, tiles_mc = (job.bl.mc + kr->mr - 1) / kr->mr;
    int split_n = tiles_n >= 2 * nt || tiles_n >= tiles_mc;
    int64_t tiles = split_n ? tiles_n : tiles_mc;
    if (nt > tiles) nt = (int)tiles;
    if (nt < 1) nt = 1;
    int64_t per_unit = nt == 1 ? tiles : (tiles + 8 * nt - 1) / (8 * nt);
    if (split_n && per_unit * kr->nr > job.bl.nc) per_unit = job.bl.nc / kr->nr;
    int64_t bmax = split_n ? per_unit * kr->nr : job.bl.nc;
    if (bmax > tiles_n * kr->nr) bmax = tiles_n * kr->nr;
    size_t abytes = ((size_t)job.bl.mc * (size_t)k + 16) * sizeof(float);
    size_t bbytes = ((size_t)bmax * (size_t)job.bl.kc + 16) * sizeof(float);
    abytes = (abytes + 63) & ~(size_t)63;
    bbytes = (bbytes + 63) & ~(size_t)63;
    float *buf = aligned_alloc(64, abytes + bbytes * (size_t)nt);
    const int64_t flags_per_block = (k + job.bl.kc - 1) / job.bl.kc * ((job.bl.mc + kr->mr - 1) / kr->mr);
    atomic_int *flag_buf = calloc((size_t)(flags_per_block * ((m + job.bl.mc - 1) / job.bl.mc)), sizeof(atomic_int));
    if (!buf || !flag_buf) {
        free(buf);
        free(flag_buf);
        return SB_KERR_NOMEM;
    }
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
            int64_t tiles_m = (mc + kr->mr - 1) / kr->mr;
            atomic_int *flags = flag_buf + ic / job.bl.mc * flags_per_block;
            int64_t units = ((split_n ? tiles_n : tiles_m) + per_unit - 1) / per_unit;
#pragma omp for schedule(dynamic, 1) nowait
            for (int64_t u = 0; u < units; u++) {
                int64_t r0 = 0, r1 = mc, n0 = 0, n1 = n;
                if (split_n) {
                    n0 = u * per_unit * kr->nr;
                    n1 = n0 + per_unit * kr->nr < n ? n0 + per_unit * kr->nr : n;
                } else {
                    r0 = u * per_unit * kr->mr;
                    r1 = r0 + per_unit * kr->mr < mc ? r0 + per_unit * kr->mr : mc;
                }
                gemm_slab(&job, ap, flags, ic, mc, r0, r1, n0, n1, bbuf, t, nt);
            }
            /* the next block is packed into the same buffer: wait until nobody reads this one */
            if (ic + job.bl.mc < m) {
#pragma omp barrier
            }
        }
    }
    free(buf);
    free(flag_buf);
    return SB_KOK;
}
