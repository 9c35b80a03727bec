/* Flash attention body shared by kernels/cpu/attention_avx2.c and attention_avx512.c.
 *
 * Included after simd_avx2.h or simd_avx512.h (vf, VL and the v* helpers) and after the file
 * defines ATT_NV (row vectors per tile), ATT_MRK (keys per S micro-tile) and ATT_MRD (head dims
 * per O micro-tile). It defines one static function, flash_attention(), with the contract of
 * sb_attention_fn (kernels/ops_impl.h).
 *
 * Work split: the rows of one KV head g are the (query, head) pairs of its group, numbered
 * L = i·ratio + hh (query i, head g·ratio + hh). A unit is a run of consecutive rows of one KV
 * head; units go to OpenMP threads, largest (latest queries) first. Each unit streams its K/V
 * once, in tiles of BK keys, with an online softmax (running max m, running sum l, output
 * rescaled by e^(m_old - m_new)); no score row longer than BK is ever stored.
 *
 * Two tile layouts:
 * - rows in lanes (prefill, many rows): a unit has up to RP = ATT_NV·VL rows. Scores are kept
 *   transposed, S^T[key][row], so the running max and sum are lane-wise vector ops, and both
 *   products are broadcast-FMA micro-kernels with no transposes in the key loop:
 *     S^T[j][r]  = Σ_d K[j][d] · Qt[d][r]         (Qt = scaled Q, transposed once per unit)
 *     O^T[d][r] = α[r]·O^T[d][r] + Σ_j V[j][d] · P^T[j][r]
 * - keys in lanes (decode, few rows): up to RS rows; per row a dot product per key, the BK
 *   probabilities exponentiated as vectors, and O[r][:] += p_j · V[j][:].
 */

enum { RP = ATT_NV * VL, BK = 64, RS = 8 };

typedef struct att_shape {
    int64_t m, pos, n_kv, kvs;  /* kvs: floats (or halves) between two positions in K and V */
    int n_head, n_kv_head, ratio, D, Dp;
    float scale;
    sb_type kv_type;
} att_shape;

typedef struct att_scratch {
    float *q;   /* small: [RS][Dp] scaled queries;   rows in lanes: Qt [D][RP] */
    float *o;   /* small: [RS][Dp] outputs;          rows in lanes: O^T [Dp][RP] */
    float *p;   /* small: [BK] probabilities;        rows in lanes: S^T then P^T [BK][RP] */
    float *kt;  /* [BK][Dp] converted / padded key tile   */
    float *vt;  /* [BK][Dp] converted / padded value tile */
} att_scratch;

/* Rows j < nk of a K or V tile as f32 with row stride *stride: straight from the cache when
 * it is f32, complete (full tile) and Dp == D; else converted/copied into buf, zero-padded to
 * BK rows and Dp columns. */
static const float *kv_tile(const att_shape *s, const void *base, int g, int64_t j0, int nk,
                            int need_full, float *buf, int64_t *stride)
{
    if (s->kv_type == SB_TYPE_F32 && s->Dp == s->D && (!need_full || nk == BK)) {
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
    if (need_full)
        for (int j = nk; j < BK; j++)
            for (int d = 0; d < s->Dp; d++) buf[(int64_t)j * s->Dp + d] = 0.0f;
    *stride = s->Dp;
    return buf;
}

/* Keys in lanes: rows L0 .. L0+R-1 (R <= RS) of KV head g. */
static void unit_small(const att_shape *s, float *out, const float *Q, const void *K, const void *V,
                       int g, int64_t L0, int R, att_scratch *w)
{
    const int D = s->D, Dp = s->Dp;
    float mrow[RS], lrow[RS];
    for (int r = 0; r < R; r++) {
        int64_t L = L0 + r, i = L / s->ratio;
        int h = g * s->ratio + (int)(L % s->ratio);
        const float *q = Q + (i * s->n_head + h) * D;
        float *qs = w->q + (int64_t)r * Dp, *o = w->o + (int64_t)r * Dp;
        for (int d = 0; d < D; d++) qs[d] = q[d] * s->scale;
        for (int d = D; d < Dp; d++) qs[d] = 0.0f;
        for (int d = 0; d < Dp; d++) o[d] = 0.0f;
        mrow[r] = -__builtin_inff();
        lrow[r] = 0.0f;
    }
    int64_t kend = s->pos + (L0 + R - 1) / s->ratio + 1;
    for (int64_t j0 = 0; j0 < kend; j0 += BK) {
        int nk = kend - j0 < BK ? (int)(kend - j0) : BK;
        int64_t ks, vs;
        const float *kp = kv_tile(s, K, g, j0, nk, 0, w->kt, &ks);
        const float *vp = kv_tile(s, V, g, j0, nk, 0, w->vt, &vs);
        for (int r = 0; r < R; r++) {
            int64_t lim = s->pos + (L0 + r) / s->ratio; /* last key this row sees */
            int valid = lim - j0 + 1 < nk ? (int)(lim - j0 + 1) : nk;
            if (valid <= 0) continue;
            const float *qs = w->q + (int64_t)r * Dp;
            float *pr = w->p, mx = -__builtin_inff();
            for (int j = 0; j < valid; j++) {
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
            float mnew = mrow[r] > mx ? mrow[r] : mx;
            float alpha = expf(mrow[r] - mnew);
            vf mv = vset1(mnew), sumv = vzero();
            int j = 0;
            for (; j + VL <= valid; j += VL) {
                vf e = vexp(vsub(vload(pr + j), mv));
                vstore(pr + j, e);
                sumv = vadd(sumv, e);
            }
            float sum = vhsum(sumv);
            for (; j < valid; j++) { pr[j] = expf(pr[j] - mnew); sum += pr[j]; }
            lrow[r] = lrow[r] * alpha + sum;
            mrow[r] = mnew;
            float *o = w->o + (int64_t)r * Dp;
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
    }
    for (int r = 0; r < R; r++) {
        int64_t L = L0 + r, i = L / s->ratio;
        int h = g * s->ratio + (int)(L % s->ratio);
        float *dst = out + (i * s->n_head + h) * D, inv = 1.0f / lrow[r];
        for (int d = 0; d < D; d++) dst[d] = w->o[(int64_t)r * Dp + d] * inv;
    }
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
    for (int d = 0; d < D; d++)
        for (int r = 0; r < RP; r++) {
            float x = 0.0f;
            if (r < R) {
                int64_t L = L0 + r, i = L / s->ratio;
                int h = g * s->ratio + (int)(L % s->ratio);
                x = Q[(i * s->n_head + h) * D + d] * s->scale;
            }
            w->q[(int64_t)d * RP + r] = x;
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
        const float *kp = kv_tile(s, K, g, j0, nk, 1, w->kt, &ks);
        float *pt = w->p;
        /* S^T[j][r] = Σ_d K[j][d] · Qt[d][r] */
        for (int j = 0; j < nkp; j += ATT_MRK) {
            vf acc[ATT_MRK][ATT_NV];
#pragma GCC unroll 8
            for (int jj = 0; jj < ATT_MRK; jj++)
#pragma GCC unroll 4
                for (int v = 0; v < ATT_NV; v++) acc[jj][v] = vzero();
            const float *kr = kp + j * ks;
            for (int d = 0; d < D; d++) {
                vf qv[ATT_NV];
#pragma GCC unroll 4
                for (int v = 0; v < ATT_NV; v++) qv[v] = vload(w->q + (int64_t)d * RP + v * VL);
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
                for (int v = 0; v < ATT_NV; v++) vstore(pt + (int64_t)(j + jj) * RP + v * VL, acc[jj][v]);
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
            alpha[v] = vexp(vsub(mv[v], mnew));
            vf sum = vzero();
            for (int j = 0; j < nkp; j++) {
                float *sp = pt + (int64_t)j * RP + v * VL;
                vf e = vexp(vsub(vload(sp), mnew));
                vstore(sp, e);
                sum = vadd(sum, e);
            }
            lv[v] = vfma(lv[v], alpha[v], sum);
            mv[v] = mnew;
        }
        /* O^T[d][r] = α[r]·O^T[d][r] + Σ_j V[j][d] · P^T[j][r] */
        const float *vp = kv_tile(s, V, g, j0, nk, 1, w->vt, &vs);
        for (int d = 0; d < Dp; d += ATT_MRD) {
            vf acc[ATT_MRD][ATT_NV];
#pragma GCC unroll 8
            for (int dd = 0; dd < ATT_MRD; dd++)
#pragma GCC unroll 4
                for (int v = 0; v < ATT_NV; v++)
                    acc[dd][v] = vmul(vload(w->o + (int64_t)(d + dd) * RP + v * VL), alpha[v]);
            for (int j = 0; j < nkp; j++) {
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

static int flash_attention(float *out, const float *Q, const void *K, const void *V,
                           const sb_attn_params *p, int n_threads)
{
    att_shape s = {
        .m = p->m, .pos = p->pos, .n_kv = p->n_kv, .kvs = (int64_t)p->n_kv_head * p->head_dim,
        .n_head = p->n_head, .n_kv_head = p->n_kv_head, .ratio = p->n_head / p->n_kv_head,
        .D = p->head_dim, .Dp = (p->head_dim + VL - 1) / VL * VL, .scale = p->scale,
        .kv_type = p->kv_type,
    };
    /* key positions are compared as floats in the rows-in-lanes mask: exact below 2^24 */
    if (p->pos + p->m > (1 << 24)) return SB_KERR_UNSUPPORTED;
    const int64_t rows = s.m * s.ratio; /* rows per KV head */
    const int small = rows < RP / 2;
    const int chunk = small ? RS : RP;
    const int64_t n_chunks = (rows + chunk - 1) / chunk, n_units = n_chunks * s.n_kv_head;
    const size_t per_thread = (size_t)2 * s.Dp * RP + (size_t)BK * RP + (size_t)2 * BK * s.Dp + 64;
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
                         base + (size_t)2 * s.Dp * RP + (size_t)BK * RP + (size_t)BK * s.Dp};
        int g = (int)(u % s.n_kv_head);
        int64_t c = n_chunks - 1 - u / s.n_kv_head; /* latest queries (most keys) first */
        int64_t L0 = c * chunk;
        int R = rows - L0 < chunk ? (int)(rows - L0) : chunk;
        if (small) unit_small(&s, out, Q, K, V, g, L0, R, &w);
        else unit_lanes(&s, out, Q, K, V, g, L0, R, &w);
    }
    free(scratch);
    return SB_KOK;
}
