/* Flash attention body shared by kernels/cpu/attention_avx2.c and attention_avx512.c.
 *
 * Included after simd_avx2.h or simd_avx512.h (vf, VL and the v* helpers) and after the file
 * defines ATT_NV (row vectors per tile), ATT_MRK (keys per S micro-tile), ATT_MRD (head dims
 * per O micro-tile) and ATT_GR (rows sharing each K/V load in decode, 1-4: bounded by
 * registers). It defines one static function, flash_attention(), with the contract of
 * sb_attention_fn (kernels/ops_impl.h).
 *
 * Rows: the rows of one KV head g are the (query, head) pairs of its group, numbered
 * L = i·ratio + hh (query i, head g·ratio + hh), so the heads of a group share every K/V load.
 * K/V are streamed in tiles of BK keys with an online softmax (running max m, running sum l,
 * output rescaled by e^(m_old - m_new)); no score row longer than BK is ever stored.
 *
 * Two tile layouts, chosen by the number of rows per KV head (m·ratio < RP/2: keys in lanes):
 * - rows in lanes (prefill, many rows): a unit is a run of up to RP = ATT_NV·VL consecutive rows
 *   of one KV head; units go to OpenMP threads dynamically, latest queries (most keys) first,
 *   and each streams its keys 0 .. last once. Scores are kept
 *   transposed, S^T[key][row], so the running max and sum are lane-wise vector ops, and both
 *   products are broadcast-FMA micro-kernels with no transposes in the key loop:
 *     S^T[j][r]  = Σ_d K[j][d] · Qt[d][r]         (Qt = scaled Q, transposed once per unit)
 *     O^T[d][r] = α[r]·O^T[d][r] + Σ_j V[j][d] · P^T[j][r]
 * - keys in lanes (decode, few rows): per row a dot product per key, the BK probabilities
 *   exponentiated as vectors, and O[r][:] += p_j · V[j][:], the heads of a group sharing each
 *   K/V vector load (f16 converted in registers). Here threads split the keys
 *   (flash-decoding): each reads a contiguous range of the cache for all KV heads, in order,
 *   and the partial softmax states are merged at the end.
 */

enum { RP = ATT_NV * VL, BK = 64 };

typedef struct att_shape {
    int64_t m, pos, n_kv, kvs;  /* kvs: floats (or halves) between two positions in K and V */
    int n_head, n_kv_head, ratio, D, Dp;
    float scale;
    sb_type kv_type;
} att_shape;

typedef struct att_scratch {
    float *q;   /* rows in lanes: Qt [D][RP]   (unused by the keys-in-lanes path) */
    float *o;   /* rows in lanes: O^T [Dp][RP] (unused by the keys-in-lanes path) */
    float *p;   /* keys in lanes: [ATT_GR][BK] probabilities; rows in lanes: S^T then P^T [BK][RP] */
    float *kt;  /* [BK + ATT_MRK][Dp] converted key tile, then a zero-padded last key group */
    float *vt;  /* [BK][Dp] converted / padded value tile */
} att_scratch;

/* Rows j < nk of a K or V tile as f32 with row stride *stride: straight from the cache when
 * it is f32 and Dp == D, else converted/copied into buf (BK × Dp, zero-padded columns). */
static const float *kv_tile(const att_shape *s, const void *base, int g, int64_t j0, int nk,
                            float *buf, int64_t *stride)
{
    if (s->kv_type == SB_TYPE_F32 && s->Dp == s->D) {
        *stride = s->kvs;
        return (const float *)base + j0 * s->kvs + (int64_t)g * s->D;
    }
    for (int j = 0; j < nk; j++) {
        float *dst = buf + (int64_t)j * s->Dp;
        int d = 0;
        if (s->kv_type == SB_TYPE_F16) {
            const uint16_t *src = (const uint16_t *)base + (j0 + j) * s->kvs + (int64_t)g * s->D;
            for (; d + VL <= s->D; d += VL) vstore(dst + d, vload_f16(src + d));
            for (; d < s->D; d++) dst[d] = sb_fp16_to_fp32(src[d]);
        } else {
            const float *src = (const float *)base + (j0 + j) * s->kvs + (int64_t)g * s->D;
            for (; d < s->D; d++) dst[d] = src[d];
        }
        for (; d < s->Dp; d++) dst[d] = 0.0f;
    }
    *stride = s->Dp;
    return buf;
}

/* Lines still to prefetch: n lines from byte offset at of both k and v */
typedef struct pf_lines {
    const char *k, *v;
    int64_t at, n;
} pf_lines;

/* A K or V row element as f32: the cache holds f32 or f16 (is_f16 is a constant after inlining) */
#define KV_LOAD(base, idx, is_f16) \
    ((is_f16) ? vload_f16((const uint16_t *)(base) + (idx)) : vload((const float *)(base) + (idx)))

/* R rows of one query sharing one KV head, updated with one tile of keys (keys in lanes):
 * scores s_j = q_r·K_j for j < valid, running max m_r and sum l_r,
 * o_r = o_r·e^(m_old - m_new) + Σ_j e^(s_j - m_new) V_j.
 * Rows are qs/o + r·Dp; K_j, V_j at kp/vp + j·ks elements (f32, or f16 converted in registers).
 * Every K and V vector is loaded once for the R rows (the heads of a GQA group): with one load
 * per FMA decode attention was load bound at a third of its speed in L2. pr: R × BK floats. */
static inline __attribute__((always_inline)) void
group_tile(const int R, const int is_f16, const float *qs, float *o, float *m, float *l,
           const void *kp, const void *vp, int64_t ks, int valid, int Dp, float *pr, pf_lines *pf)
{
    /* the prefetches are spread over the score loop: issued in one burst they waited for fill
     * buffers instead of overlapping the arithmetic */
    const char *pk = pf->k + pf->at, *pv = pf->v + pf->at;
    int64_t pn = pf->n;
    const int64_t pf_per_step = valid >= 4 ? (pn + valid / 4 - 1) / (valid / 4) : pn;
    pf->at += 64 * pn;
    pf->n = 0;
    int j0 = 0;
    /* four keys at a time per row, one chain each, reduced together by vhsum4 */
    for (; j0 + 4 <= valid; j0 += 4) {
        for (int64_t c = 0; c < pf_per_step && pn > 0; c++, pn--, pk += 64, pv += 64) {
            __builtin_prefetch(pk, 0, 2);
            __builtin_prefetch(pv, 0, 2);
        }
        vf a[ATT_GR][4];
        #pragma GCC unroll 4
        for (int r = 0; r < R; r++)
            #pragma GCC unroll 4
            for (int t = 0; t < 4; t++) a[r][t] = vzero();
        for (int d = 0; d < Dp; d += VL) {
            vf k[4];
            #pragma GCC unroll 4
            for (int t = 0; t < 4; t++) k[t] = KV_LOAD(kp, (j0 + t) * ks + d, is_f16);
            #pragma GCC unroll 4
            for (int r = 0; r < R; r++) {
                vf q = vload(qs + r * Dp + d);
                #pragma GCC unroll 4
                for (int t = 0; t < 4; t++) a[r][t] = vfma(q, k[t], a[r][t]);
            }
        }
        #pragma GCC unroll 4
        for (int r = 0; r < R; r++) vhsum4(a[r][0], a[r][1], a[r][2], a[r][3], pr + r * BK + j0);
    }
    for (int j = j0; j < valid; j++) {
        vf a[ATT_GR];
        #pragma GCC unroll 4
        for (int r = 0; r < R; r++) a[r] = vzero();
        for (int d = 0; d < Dp; d += VL) {
            vf k = KV_LOAD(kp, j * ks + d, is_f16);
            #pragma GCC unroll 4
            for (int r = 0; r < R; r++) a[r] = vfma(vload(qs + r * Dp + d), k, a[r]);
        }
        #pragma GCC unroll 4
        for (int r = 0; r < R; r++) pr[r * BK + j] = vhsum(a[r]);
    }
    for (; pn > 0; pn--, pk += 64, pv += 64) {
        __builtin_prefetch(pk, 0, 2);
        __builtin_prefetch(pv, 0, 2);
    }
    float alpha[ATT_GR];
    #pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        float *p = pr + r * BK;
        vf mxv = vset1(-__builtin_inff());
        int j = 0;
        for (; j + VL <= valid; j += VL) mxv = vmax(mxv, vload(p + j));
        float mx = vhmax(mxv);
        for (; j < valid; j++) mx = p[j] > mx ? p[j] : mx;
        float mnew = m[r] > mx ? m[r] : mx;
        alpha[r] = expf(m[r] - mnew);
        vf mv = vset1(mnew), sumv = vzero();
        for (j = 0; j + VL <= valid; j += VL) {
            vf e = vexp_neg(vsub(vload(p + j), mv));
            vstore(p + j, e);
            sumv = vadd(sumv, e);
        }
        float sum = vhsum(sumv);
        for (; j < valid; j++) { p[j] = expf(p[j] - mnew); sum += p[j]; }
        l[r] = l[r] * alpha[r] + sum;
        m[r] = mnew;
    }
    int d = 0;
    for (; d + 4 * VL <= Dp; d += 4 * VL) {
        vf acc[ATT_GR][4];
        #pragma GCC unroll 4
        for (int r = 0; r < R; r++)
            #pragma GCC unroll 4
            for (int v = 0; v < 4; v++) acc[r][v] = vmul(vload(o + r * Dp + d + v * VL), vset1(alpha[r]));
        for (int jj = 0; jj < valid; jj++) {
            vf v0 = KV_LOAD(vp, jj * ks + d, is_f16), v1 = KV_LOAD(vp, jj * ks + d + VL, is_f16);
            vf v2 = KV_LOAD(vp, jj * ks + d + 2 * VL, is_f16), v3 = KV_LOAD(vp, jj * ks + d + 3 * VL, is_f16);
            #pragma GCC unroll 4
            for (int r = 0; r < R; r++) {
                vf pj = vset1(pr[r * BK + jj]);
                acc[r][0] = vfma(pj, v0, acc[r][0]);
                acc[r][1] = vfma(pj, v1, acc[r][1]);
                acc[r][2] = vfma(pj, v2, acc[r][2]);
                acc[r][3] = vfma(pj, v3, acc[r][3]);
            }
        }
        #pragma GCC unroll 4
        for (int r = 0; r < R; r++)
            #pragma GCC unroll 4
            for (int v = 0; v < 4; v++) vstore(o + r * Dp + d + v * VL, acc[r][v]);
    }
    /* the last 1-3 vectors of the head (Dp not a multiple of 4·VL), one at a time */
    for (; d < Dp; d += VL) {
        vf acc[ATT_GR];
        #pragma GCC unroll 4
        for (int r = 0; r < R; r++) acc[r] = vmul(vload(o + r * Dp + d), vset1(alpha[r]));
        for (int jj = 0; jj < valid; jj++) {
            vf vv = KV_LOAD(vp, jj * ks + d, is_f16);
            #pragma GCC unroll 4
            for (int r = 0; r < R; r++) acc[r] = vfma(vset1(pr[r * BK + jj]), vv, acc[r]);
        }
        #pragma GCC unroll 4
        for (int r = 0; r < R; r++) vstore(o + r * Dp + d, acc[r]);
    }
}

/* group_tile with R (1 .. ATT_GR) and the cache type as constants */
#define GROUP_TILE_CASES(is_f16)                                                                  \
    switch (R) {                                                                                 \
    case 1: group_tile(1, is_f16, qs, o, m, l, kp, vp, ks, valid, Dp, pr, pf); break;            \
    case 2: group_tile(2, is_f16, qs, o, m, l, kp, vp, ks, valid, Dp, pr, pf); break;            \
    case 3: /* R <= ATT_GR: only reached when ATT_GR >= 3 */                                 \
        group_tile(ATT_GR >= 3 ? 3 : ATT_GR, is_f16, qs, o, m, l, kp, vp, ks, valid, Dp, pr, pf); break; \
    default: group_tile(ATT_GR, is_f16, qs, o, m, l, kp, vp, ks, valid, Dp, pr, pf); break;      \
    }
static void rows_tile(int R, int is_f16, const float *qs, float *o, float *m, float *l, const void *kp,
                      const void *vp, int64_t ks, int valid, int Dp, float *pr, pf_lines *pf)
{
    if (is_f16) GROUP_TILE_CASES(1) else GROUP_TILE_CASES(0)
}

/* Keys in lanes (decode, few rows): keys kb .. ke-1 for every KV head and every row. The tile
 * loop is outside the head loop so that the K/V bytes of BK positions (all heads, contiguous in
 * the cache) are read once; while a head works, its share of the next tile's bytes is
 * prefetched in address order (the heads' own slices, 2·D bytes every kvs, defeat the hardware
 * prefetcher: 1 thread at ctx 32768 ran at 4.8 against 6.5-7.1 GB/s). State
 * per (g, r) = g·rows + r: scaled query qs, output o (unnormalized), running max m and sum l;
 * the caller merges the key ranges. Rows of one query (the heads of a group) go through
 * rows_tile up to ATT_GR at a time. Only KV heads g0 .. g1-1 are computed (the states of the
 * others stay empty, l = 0, which the merge skips). */
static void part_small(const att_shape *s, const float *Q, const void *K, const void *V,
                       int64_t kb, int64_t ke, int g0, int g1, int64_t rows, float *qs, float *o, float *m,
                       float *l, att_scratch *w)
{
    const int D = s->D, Dp = s->Dp;
    for (int g = 0; g < s->n_kv_head; g++)
        for (int64_t r = 0; r < rows; r++) {
            int64_t i = r / s->ratio, st = g * rows + r;
            const float *q = Q + (i * s->n_head + g * s->ratio + r % s->ratio) * D;
            float *qr = qs + st * Dp, *orow = o + st * Dp;
            for (int d = 0; d < D; d++) qr[d] = q[d] * s->scale;
            for (int d = D; d < Dp; d++) qr[d] = 0.0f;
            for (int d = 0; d < Dp; d++) orow[d] = 0.0f;
            m[st] = -__builtin_inff();
            l[st] = 0.0f;
        }
    /* f32 or f16 with Dp == D is read in place; odd head sizes go through kv_tile's per-head
     * zero-padded f32 copies */
    const int direct = Dp == D, is_f16 = direct && s->kv_type == SB_TYPE_F16;
    const int es = s->kv_type == SB_TYPE_F16 ? 2 : 4;
    for (int64_t j0 = kb; j0 < ke; j0 += BK) {
        int nk = ke - j0 < BK ? (int)(ke - j0) : BK;
        for (int g = g0; g < g1; g++) {
            int64_t ks = s->kvs;
            const void *kp, *vp;
            pf_lines pf = {K, V, 0, 0}; /* head g's share of the next tile, to L2 */
            if (j0 + BK < ke && g1 - g0 == s->n_kv_head) {
                int64_t next = ke - (j0 + BK) < BK ? ke - (j0 + BK) : BK;
                int64_t lines = (next * s->kvs * es + 63) / 64, share = lines / s->n_kv_head;
                pf.k = (const char *)K + (j0 + BK) * s->kvs * es;
                pf.v = (const char *)V + (j0 + BK) * s->kvs * es;
                pf.at = g * share * 64;
                pf.n = g == s->n_kv_head - 1 ? lines - g * share : share;
            }
            if (direct) {
                kp = (const char *)K + (j0 * s->kvs + (int64_t)g * D) * es;
                vp = (const char *)V + (j0 * s->kvs + (int64_t)g * D) * es;
            } else {
                int64_t vs;
                kp = kv_tile(s, K, g, j0, nk, w->kt, &ks);
                vp = kv_tile(s, V, g, j0, nk, w->vt, &vs);
            }
            for (int64_t r = 0; r < rows;) {
                /* rows r .. r+R-1: heads of one query, so one key limit */
                int64_t hh = r % s->ratio, lim = s->pos + r / s->ratio, st = g * rows + r;
                int R = s->ratio - hh < ATT_GR ? (int)(s->ratio - hh) : ATT_GR;
                int valid = lim - j0 + 1 < nk ? (int)(lim - j0 + 1) : nk;
                if (valid > 0)
                    rows_tile(R, is_f16, qs + st * Dp, o + st * Dp, m + st, l + st, kp, vp, ks, valid,
                              Dp, w->p, &pf);
                r += R;
            }
        }
    }
}

/* S micro-tile: st[jj][r] = Σ_{d<D} kr[jj·ks + d] · qt[d][r] for ATT_MRK keys × RP rows
 * (ATT_MRK × ATT_NV accumulators; per d, ATT_NV loads of Qt and ATT_MRK broadcasts of K). */
static inline void s_group(const float *kr, int64_t ks, const float *qt, int D, float *st)
{
    vf acc[ATT_MRK][ATT_NV];
#pragma GCC unroll 8
    for (int jj = 0; jj < ATT_MRK; jj++)
#pragma GCC unroll 4
        for (int v = 0; v < ATT_NV; v++) acc[jj][v] = vzero();
    for (int d = 0; d < D; d++) {
        vf qv[ATT_NV];
#pragma GCC unroll 4
        for (int v = 0; v < ATT_NV; v++) qv[v] = vload(qt + (int64_t)d * RP + v * VL);
#pragma GCC unroll 8
        for (int jj = 0; jj < ATT_MRK; jj++) {
            vf kb = vset1(kr[jj * ks + d]);
#pragma GCC unroll 4
            for (int v = 0; v < ATT_NV; v++) acc[jj][v] = vfma(kb, qv[v], acc[jj][v]);
        }
    }
#pragma GCC unroll 8
    for (int jj = 0; jj < ATT_MRK; jj++)
#pragma GCC unroll 4
        for (int v = 0; v < ATT_NV; v++) vstore(st + (int64_t)jj * RP + v * VL, acc[jj][v]);
}

/* Rows in lanes: rows L0 .. L0+R-1 (R <= RP) of KV head g. */
static void unit_lanes(const att_shape *s, float *out, const float *Q, const void *K, const void *V,
                       int g, int64_t L0, int R, att_scratch *w)
{
    const int D = s->D, Dp = s->Dp;
    float limf[RP];
    for (int r = 0; r < RP; r++) {
        int64_t L = L0 + (r < R ? r : R - 1);
        limf[r] = r < R ? (float)(s->pos + L / s->ratio) : 3e38f; /* pad lanes: never masked */
    }
    for (int r = 0; r < RP; r++) {
        float *qt = w->q + r;
        if (r >= R) {
            for (int d = 0; d < D; d++) qt[(int64_t)d * RP] = 0.0f;
            continue;
        }
        int64_t L = L0 + r, i = L / s->ratio;
        const float *q = Q + (i * s->n_head + g * s->ratio + L % s->ratio) * D;
        for (int d = 0; d < D; d++) qt[(int64_t)d * RP] = q[d] * s->scale;
    }
    for (int64_t c = 0; c < (int64_t)Dp * RP; c++) w->o[c] = 0.0f;
    vf mv[ATT_NV], lv[ATT_NV], limv[ATT_NV];
    for (int v = 0; v < ATT_NV; v++) {
        mv[v] = vset1(-__builtin_inff());
        lv[v] = vzero();
        limv[v] = vload(limf + v * VL);
    }
    const int64_t lim_min = s->pos + L0 / s->ratio;
    const int64_t kend = s->pos + (L0 + R - 1) / s->ratio + 1;
    const vf ninf = vset1(-__builtin_inff());
    for (int64_t j0 = 0; j0 < kend; j0 += BK) {
        int nk = kend - j0 < BK ? (int)(kend - j0) : BK;
        int nkp = (nk + ATT_MRK - 1) / ATT_MRK * ATT_MRK;
        int64_t ks, vs;
        const float *kp = kv_tile(s, K, g, j0, nk, w->kt, &ks);
        float *pt = w->p;
        /* S^T[j][r] = Σ_d K[j][d] · Qt[d][r]; a last group of fewer than ATT_MRK keys comes
         * from a zero-padded copy (the rows past nk may not exist) */
        int nfull = nk / ATT_MRK * ATT_MRK;
        for (int j = 0; j < nfull; j += ATT_MRK) s_group(kp + j * ks, ks, w->q, D, pt + (int64_t)j * RP);
        if (nfull < nk) {
            float *tail = w->kt + (int64_t)BK * Dp; /* ATT_MRK × Dp spare rows after the tile */
            for (int jj = 0; jj < ATT_MRK; jj++)
                for (int d = 0; d < D; d++) tail[(int64_t)jj * Dp + d] = nfull + jj < nk ? kp[(nfull + jj) * ks + d] : 0.0f;
            s_group(tail, Dp, w->q, D, pt + (int64_t)nfull * RP);
        }
        /* causal mask (and the padded keys past kend) only where the tile crosses it */
        if (j0 + nkp - 1 > lim_min)
            for (int j = 0; j < nkp; j++) {
                vf key = vset1((float)(j0 + j));
                for (int v = 0; v < ATT_NV; v++) {
                    float *sp = pt + (int64_t)j * RP + v * VL;
                    vstore(sp, vsel_gt(key, limv[v], ninf, vload(sp)));
                }
            }
        /* online softmax, lane-wise */
        vf alpha[ATT_NV];
        for (int v = 0; v < ATT_NV; v++) {
            vf mx = ninf;
            for (int j = 0; j < nkp; j++) mx = vmax(mx, vload(pt + (int64_t)j * RP + v * VL));
            vf mnew = vmax(mv[v], mx);
            alpha[v] = vexp_neg(vsub(mv[v], mnew));
            vf sum = vzero();
            for (int j = 0; j < nkp; j++) {
                float *sp = pt + (int64_t)j * RP + v * VL;
                vf e = vexp_neg(vsub(vload(sp), mnew));
                vstore(sp, e);
                sum = vadd(sum, e);
            }
            lv[v] = vfma(lv[v], alpha[v], sum);
            mv[v] = mnew;
        }
        /* O^T[d][r] = α[r]·O^T[d][r] + Σ_j V[j][d] · P^T[j][r] */
        const float *vp = kv_tile(s, V, g, j0, nk, w->vt, &vs);
        for (int d = 0; d < Dp; d += ATT_MRD) {
            vf acc[ATT_MRD][ATT_NV];
#pragma GCC unroll 8
            for (int dd = 0; dd < ATT_MRD; dd++)
#pragma GCC unroll 4
                for (int v = 0; v < ATT_NV; v++)
                    acc[dd][v] = vmul(vload(w->o + (int64_t)(d + dd) * RP + v * VL), alpha[v]);
            for (int j = 0; j < nk; j++) {
                vf pv[ATT_NV];
#pragma GCC unroll 4
                for (int v = 0; v < ATT_NV; v++) pv[v] = vload(pt + (int64_t)j * RP + v * VL);
                const float *vr = vp + j * vs + d;
#pragma GCC unroll 8
                for (int dd = 0; dd < ATT_MRD; dd++) {
                    vf vb = vset1(vr[dd]);
#pragma GCC unroll 4
                    for (int v = 0; v < ATT_NV; v++) acc[dd][v] = vfma(vb, pv[v], acc[dd][v]);
                }
            }
#pragma GCC unroll 8
            for (int dd = 0; dd < ATT_MRD; dd++)
#pragma GCC unroll 4
                for (int v = 0; v < ATT_NV; v++) vstore(w->o + (int64_t)(d + dd) * RP + v * VL, acc[dd][v]);
        }
    }
    float lf[RP];
    for (int v = 0; v < ATT_NV; v++) vstore(lf + v * VL, lv[v]);
    for (int r = 0; r < R; r++) {
        int64_t L = L0 + r, i = L / s->ratio;
        int h = g * s->ratio + (int)(L % s->ratio);
        float *dst = out + (i * s->n_head + h) * D, inv = 1.0f / lf[r];
        for (int d = 0; d < D; d++) dst[d] = w->o[(int64_t)d * RP + r] * inv;
    }
}

/* Keys-in-lanes driver: the keys 0 .. pos+m-1 are split into nt contiguous ranges (whole BK
 * tiles), one per thread; the partial (m, l, o) of each range are merged per row:
 *   M = max_p m_p,  out = Σ_p e^(m_p - M) o_p / Σ_p e^(m_p - M) l_p.
 * With fewer tiles than threads (the first tokens of a decode) the threads split the KV heads
 * instead, each over all keys; the same merge then only normalizes. */
static int flash_small(const att_shape *s, float *out, const float *Q, const void *K, const void *V,
                       int n_threads)
{
    const int64_t rows = s->m * s->ratio, kend = s->pos + s->m, tiles = (kend + BK - 1) / BK;
    const int64_t states = rows * s->n_kv_head;
    int parts = n_threads < 1 ? 1 : n_threads;
    /* heads split when the keys are too few to split, if the work pays for waking a thread
     * (~256 K multiply-adds, as for a matmul) */
    const double madds = 2.0 * (double)s->m * s->n_head * s->D * (double)kend;
    const int by_heads = parts > tiles && s->n_kv_head > 1 && madds >= 256.0 * 1024.0;
    if (by_heads) parts = parts < s->n_kv_head ? parts : s->n_kv_head;
    else if (parts > tiles) parts = (int)tiles;
    /* per part: qs, o (states × Dp), m, l (states), p (ATT_GR × BK), kt, vt (BK × Dp) */
    const size_t tile = (size_t)BK * (size_t)s->Dp;
    const size_t per_part = (size_t)states * (2 * (size_t)s->Dp + 2) + ATT_GR * BK + 2 * tile + 64;
    float *buf = aligned_alloc(64, (per_part * sizeof(float) * (size_t)parts + 63) & ~(size_t)63);
    if (!buf) return SB_KERR_NOMEM;
#pragma omp parallel for num_threads(parts) schedule(static, 1) if (parts > 1)
    for (int part = 0; part < parts; part++) {
        float *b = buf + per_part * (size_t)part;
        float *qs = b, *o = qs + states * s->Dp, *m = o + states * s->Dp, *l = m + states;
        float *kt = l + states + ATT_GR * BK, *vt = kt + tile;
        att_scratch w = {NULL, NULL, l + states, kt, vt};
        int64_t kb = 0, ke = kend;
        int g0 = 0, g1 = s->n_kv_head;
        if (by_heads) {
            g0 = s->n_kv_head * part / parts;
            g1 = s->n_kv_head * (part + 1) / parts;
        } else {
            kb = tiles * part / parts * BK;
            ke = tiles * (part + 1) / parts * BK;
            if (ke > kend) ke = kend;
        }
        part_small(s, Q, K, V, kb, ke, g0, g1, rows, qs, o, m, l, &w);
    }
    for (int g = 0; g < s->n_kv_head; g++)
        for (int64_t r = 0; r < rows; r++) {
            int64_t st = g * rows + r, i = r / s->ratio;
            float M = -__builtin_inff(), L = 0.0f;
            for (int part = 0; part < parts; part++) {
                const float *m = buf + per_part * (size_t)part + states * 2 * s->Dp;
                if (m[st] > M) M = m[st];
            }
            float *dst = out + (i * s->n_head + g * s->ratio + r % s->ratio) * s->D;
            for (int d = 0; d < s->D; d++) dst[d] = 0.0f;
            for (int part = 0; part < parts; part++) {
                const float *o = buf + per_part * (size_t)part + states * s->Dp;
                const float *m = o + states * s->Dp, *l = m + states;
                if (l[st] == 0.0f) continue; /* this range held no key of the row */
                float c = expf(m[st] - M);
                L += c * l[st];
                for (int d = 0; d < s->D; d++) dst[d] += c * o[st * s->Dp + d];
            }
            float inv = 1.0f / L;
            for (int d = 0; d < s->D; d++) dst[d] *= inv;
        }
    free(buf);
    return SB_KOK;
}

static int flash_attention(float *out, const float *Q, const void *K, const void *V,
                           const sb_attn_params *p, int n_threads)
{
    att_shape s = {
        .m = p->m, .pos = p->pos, .n_kv = p->n_kv, .kvs = (int64_t)p->n_kv_head * p->head_dim,
        .n_head = p->n_head, .n_kv_head = p->n_kv_head, .ratio = p->n_head / p->n_kv_head,
        .D = p->head_dim, .Dp = (p->head_dim + VL - 1) / VL * VL, .scale = p->scale,
        .kv_type = p->kv_type,
    };
    const int64_t rows = s.m * s.ratio; /* rows per KV head */
    if (rows < RP / 2) return flash_small(&s, out, Q, K, V, n_threads);
    /* key positions are compared as floats in the rows-in-lanes mask: exact below 2^24 */
    if (p->pos + p->m > (1 << 24)) return SB_KERR_UNSUPPORTED;
    const int64_t n_chunks = (rows + RP - 1) / RP, n_units = n_chunks * s.n_kv_head;
    const size_t per_thread = (size_t)2 * s.Dp * RP + (size_t)BK * RP + (size_t)(2 * BK + ATT_MRK) * s.Dp + 64;
    int nt = n_threads < 1 ? 1 : n_threads;
    if (nt > n_units) nt = (int)n_units;
    float *scratch = aligned_alloc(64, (per_thread * sizeof(float) * (size_t)nt + 63) & ~(size_t)63);
    if (!scratch) return SB_KERR_NOMEM;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1)
    for (int64_t u = 0; u < n_units; u++) {
#ifdef _OPENMP
        int t = omp_get_thread_num();
#else
        int t = 0;
#endif
        float *base = scratch + per_thread * (size_t)t;
        att_scratch w = {base, base + (size_t)s.Dp * RP, base + (size_t)2 * s.Dp * RP,
                         base + (size_t)2 * s.Dp * RP + (size_t)BK * RP,
                         base + (size_t)2 * s.Dp * RP + (size_t)BK * RP + (size_t)(BK + ATT_MRK) * s.Dp};
        int g = (int)(u % s.n_kv_head);
        int64_t c = n_chunks - 1 - u / s.n_kv_head; /* latest queries (most keys) first */
        int64_t L0 = c * RP;
        int R = rows - L0 < RP ? (int)(rows - L0) : RP;
        unit_lanes(&s, out, Q, K, V, g, L0, R, &w);
    }
    free(scratch);
    return SB_KOK;
}
