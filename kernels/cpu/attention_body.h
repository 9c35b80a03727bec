/* Flash attention body shared by kernels/cpu/attention_avx2.c and attention_avx512.c.
 *
 * Included after simd_avx2.h or simd_avx512.h (vf, VL and the v* helpers) and after the file
 * defines ATT_NV (row vectors per tile), ATT_MRK (keys per S micro-tile) and ATT_MRD (head dims
 * per O micro-tile). It defines one static function, flash_attention(), with the contract of
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
 *   exponentiated as vectors, and O[r][:] += p_j · V[j][:]. Here threads split the keys
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
    float *p;   /* keys in lanes: [BK] probabilities; rows in lanes: S^T then P^T [BK][RP] */
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

/* One row's update with one tile of keys (keys in lanes): scores s_j = q·K_j for j < valid,
 * running max m and sum l, o = o·e^(m_old - m_new) + Σ_j e^(s_j - m_new) V_j. pr: BK floats. */
static void row_tile(const float *qs, float *o, float *m, float *l, const float *kp, int64_t ks,
                     const float *vp, int64_t vs, int valid, int Dp, float *pr)
{
    float mx = -__builtin_inff();
    int j0 = 0;
    /* four keys at a time, one chain each, reduced together (the reduction cost more than the
     * FMAs of a 64-wide head) */
    for (; j0 + 4 <= valid; j0 += 4) {
        const float *kr = kp + j0 * ks;
        vf a[4] = {vzero(), vzero(), vzero(), vzero()};
        for (int d = 0; d < Dp; d += VL) {
            vf q = vload(qs + d);
            for (int t = 0; t < 4; t++) a[t] = vfma(q, vload(kr + t * ks + d), a[t]);
        }
        vhsum4(a[0], a[1], a[2], a[3], pr + j0);
        for (int t = 0; t < 4; t++) mx = pr[j0 + t] > mx ? pr[j0 + t] : mx;
    }
    for (int j = j0; j < valid; j++) {
        const float *kr = kp + j * ks;
        vf a0 = vzero(), a1 = vzero();
        int d = 0;
        for (; d + 2 * VL <= Dp; d += 2 * VL) {
            a0 = vfma(vload(qs + d), vload(kr + d), a0);
            a1 = vfma(vload(qs + d + VL), vload(kr + d + VL), a1);
        }
        if (d < Dp) a0 = vfma(vload(qs + d), vload(kr + d), a0);
        pr[j] = vhsum(vadd(a0, a1));
        mx = pr[j] > mx ? pr[j] : mx;
    }
    float mnew = *m > mx ? *m : mx;
    float alpha = expf(*m - mnew);
    vf mv = vset1(mnew), sumv = vzero();
    int j = 0;
    for (; j + VL <= valid; j += VL) {
        vf e = vexp_neg(vsub(vload(pr + j), mv));
        vstore(pr + j, e);
        sumv = vadd(sumv, e);
    }
    float sum = vhsum(sumv);
    for (; j < valid; j++) { pr[j] = expf(pr[j] - mnew); sum += pr[j]; }
    *l = *l * alpha + sum;
    *m = mnew;
    vf av = vset1(alpha);
    for (int d = 0; d < Dp; d += 4 * VL) {
        int nv = (Dp - d) / VL < 4 ? (Dp - d) / VL : 4;
        vf acc[4];
        for (int v = 0; v < nv; v++) acc[v] = vmul(vload(o + d + v * VL), av);
        if (nv == 4) {
            for (int jj = 0; jj < valid; jj++) {
                vf pj = vset1(pr[jj]);
                const float *vr = vp + jj * vs + d;
                acc[0] = vfma(pj, vload(vr), acc[0]);
                acc[1] = vfma(pj, vload(vr + VL), acc[1]);
                acc[2] = vfma(pj, vload(vr + 2 * VL), acc[2]);
                acc[3] = vfma(pj, vload(vr + 3 * VL), acc[3]);
            }
        } else {
            for (int jj = 0; jj < valid; jj++) {
                vf pj = vset1(pr[jj]);
                for (int v = 0; v < nv; v++) acc[v] = vfma(pj, vload(vp + jj * vs + d + v * VL), acc[v]);
            }
        }
        for (int v = 0; v < nv; v++) vstore(o + d + v * VL, acc[v]);
    }
}

/* Keys in lanes (decode, few rows): keys kb .. ke-1 for every KV head and every row. The tile
 * loop is outside the head loop so that the K/V bytes of BK positions (all heads, contiguous in
 * the cache) are read once and in order. State per (g, r) = g·rows + r: scaled query qs, output
 * o (unnormalized), running max m and sum l; the caller merges the key ranges. */
static void part_small(const att_shape *s, const float *Q, const void *K, const void *V,
                       int64_t kb, int64_t ke, int64_t rows, float *qs, float *o, float *m,
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
    /* f32 with Dp == D is used in place; f16 with Dp == D is converted a whole tile (all heads,
     * one contiguous sweep, BK × kvs floats in w->kt / w->vt) at a time: converting per head
     * read each position's slice 2·kvs bytes apart and ran at a quarter of the f32 speed.
     * Odd head sizes go through kv_tile's per-head zero-padded copies. */
    const int whole = Dp == D;
    const int64_t kvs = s->kvs;
    for (int64_t j0 = kb; j0 < ke; j0 += BK) {
        int nk = ke - j0 < BK ? (int)(ke - j0) : BK;
        const float *kall = NULL, *vall = NULL;
        if (whole && s->kv_type == SB_TYPE_F32) {
            kall = (const float *)K + j0 * kvs;
            vall = (const float *)V + j0 * kvs;
        } else if (whole && s->kv_type == SB_TYPE_F16) {
            const uint16_t *k16 = (const uint16_t *)K + j0 * kvs, *v16 = (const uint16_t *)V + j0 * kvs;
            int64_t c = 0, total = (int64_t)nk * kvs;
            for (; c + VL <= total; c += VL) {
                __builtin_prefetch((const char *)(k16 + c) + 2048); /* two streams, */
                __builtin_prefetch((const char *)(v16 + c) + 2048); /* kept ahead  */
                vstore(w->kt + c, vload_f16(k16 + c));
                vstore(w->vt + c, vload_f16(v16 + c));
            }
            for (; c < total; c++) w->kt[c] = sb_fp16_to_fp32(k16[c]), w->vt[c] = sb_fp16_to_fp32(v16[c]);
            kall = w->kt;
            vall = w->vt;
        }
        for (int g = 0; g < s->n_kv_head; g++) {
            int64_t ks = kvs, vs = kvs;
            const float *kp, *vp;
            if (kall) {
                kp = kall + (int64_t)g * D;
                vp = vall + (int64_t)g * D;
            } else {
                kp = kv_tile(s, K, g, j0, nk, w->kt, &ks);
                vp = kv_tile(s, V, g, j0, nk, w->vt, &vs);
            }
            for (int64_t r = 0; r < rows; r++) {
                int64_t lim = s->pos + r / s->ratio, st = g * rows + r; /* last key row r sees */
                int valid = lim - j0 + 1 < nk ? (int)(lim - j0 + 1) : nk;
                if (valid > 0)
                    row_tile(qs + st * Dp, o + st * Dp, m + st, l + st, kp, ks, vp, vs, valid, Dp, w->p);
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
 *   M = max_p m_p,  out = Σ_p e^(m_p - M) o_p / Σ_p e^(m_p - M) l_p. */
static int flash_small(const att_shape *s, float *out, const float *Q, const void *K, const void *V,
                       int n_threads)
{
    const int64_t rows = s->m * s->ratio, kend = s->pos + s->m, tiles = (kend + BK - 1) / BK;
    const int64_t states = rows * s->n_kv_head;
    int parts = n_threads < 1 ? 1 : n_threads;
    if (parts > tiles) parts = (int)tiles;
    /* per part: qs, o (states × Dp), m, l (states), p (BK), kt, vt (BK × Dp, or BK × kvs for
     * whole-tile f16 conversion) */
    const size_t tile = (size_t)BK * (size_t)(s->kvs > s->Dp ? s->kvs : s->Dp);
    const size_t per_part = (size_t)states * (2 * (size_t)s->Dp + 2) + BK + 2 * tile + 64;
    float *buf = aligned_alloc(64, (per_part * sizeof(float) * (size_t)parts + 63) & ~(size_t)63);
    if (!buf) return SB_KERR_NOMEM;
#pragma omp parallel for num_threads(parts) schedule(static, 1) if (parts > 1)
    for (int part = 0; part < parts; part++) {
        float *b = buf + per_part * (size_t)part;
        float *qs = b, *o = qs + states * s->Dp, *m = o + states * s->Dp, *l = m + states;
        float *kt = l + states + BK, *vt = kt + tile;
        att_scratch w = {NULL, NULL, l + states, kt, vt};
        int64_t kb = tiles * part / parts * BK, ke = tiles * (part + 1) / parts * BK;
        if (ke > kend) ke = kend;
        part_small(s, Q, K, V, kb, ke, rows, qs, o, m, l, &w);
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
