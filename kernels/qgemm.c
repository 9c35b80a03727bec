/* The int8 prefill GEMM for quantized weights (the math and the panel layout are in
 * kernels/qgemm_impl.h).
 *
 * Why: the row-dot kernels (kernels/cpu/matmul_avx512.c) reduce each output horizontally and
 * unpack every weight block once per 4 X rows; for prefill that caps them far below what
 * vpdpbusd can do. Here each thread unpacks a panel of QG_NP weight rows once into u8 quants
 * laid out for vpdpbusd (lane = weight row) plus f32 group scales, then runs every X row
 * against it while it sits in L2: the unpacking is paid once per panel instead of once per
 * 4 X rows, and the inner loop is loads, broadcasts and vpdpbusd.
 */
#include <stdlib.h>
#include <string.h>

#include "kernels/qgemm_impl.h"

/* ---------------------------------------------------------------- unpacking one weight row */

/* Row of k elements of format t → u[k] (u8 quants), S[k/G], C[k/G] (C only for Q4_K/Q5_K). */
static void unpack_row(sb_type t, const void *w, int64_t k, uint8_t *u, float *S, float *C)
{
    switch (t) {
    case SB_TYPE_Q4_0: {
        const sb_block_q4_0 *b = w;
        for (int64_t i = 0; i < k / 32; i++, u += 32) {
            S[i] = sb_fp16_to_fp32(b[i].d);
            for (int j = 0; j < 16; j++) u[j] = b[i].qs[j] & 15, u[j + 16] = b[i].qs[j] >> 4;
        }
        break;
    }
    case SB_TYPE_Q8_0: {
        const sb_block_q8_0 *b = w;
        for (int64_t i = 0; i < k / 32; i++, u += 32) {
            S[i] = sb_fp16_to_fp32(b[i].d);
            for (int j = 0; j < 32; j++) u[j] = (uint8_t)(b[i].qs[j] ^ 0x80);
        }
        break;
    }
    case SB_TYPE_Q4_K:
    case SB_TYPE_Q5_K: {
        const int has_high = t == SB_TYPE_Q5_K;
        for (int64_t i = 0; i < k / SB_QK_K; i++, u += SB_QK_K) {
            const uint8_t *scales, *qs, *qh = NULL;
            float d, dmin;
            if (has_high) {
                const sb_block_q5_K *b = (const sb_block_q5_K *)w + i;
                scales = b->scales, qs = b->qs, qh = b->qh, d = sb_fp16_to_fp32(b->d), dmin = sb_fp16_to_fp32(b->dmin);
            } else {
                const sb_block_q4_K *b = (const sb_block_q4_K *)w + i;
                scales = b->scales, qs = b->qs, d = sb_fp16_to_fp32(b->d), dmin = sb_fp16_to_fp32(b->dmin);
            }
            for (int j = 0; j < 8; j++) {
                int sc, mn;
                sb_q4k_scale_min(j, scales, &sc, &mn);
                S[8 * i + j] = d * (float)sc;
                C[8 * i + j] = -dmin * (float)mn;
            }
            for (int c = 0; c < 4; c++)
                for (int l = 0; l < 32; l++) {
                    uint8_t lo = qs[32 * c + l] & 15, hi = qs[32 * c + l] >> 4;
                    if (qh) lo |= ((qh[l] >> (2 * c)) & 1) << 4, hi |= ((qh[l] >> (2 * c + 1)) & 1) << 4;
                    u[64 * c + l] = lo, u[64 * c + 32 + l] = hi;
                }
        }
        break;
    }
    case SB_TYPE_Q6_K: {
        const sb_block_q6_K *b = w;
        for (int64_t i = 0; i < k / SB_QK_K; i++, u += SB_QK_K) {
            float d = sb_fp16_to_fp32(b[i].d);
            for (int s = 0; s < 16; s++) S[16 * i + s] = d * (float)b[i].scales[s];
            for (int h = 0; h < 2; h++) {
                const uint8_t *ql = b[i].ql + 64 * h, *qh = b[i].qh + 32 * h;
                uint8_t *o = u + 128 * h;
                for (int l = 0; l < 32; l++) {
                    o[l] = (uint8_t)((ql[l] & 15) | ((qh[l] & 3) << 4));
                    o[l + 32] = (uint8_t)((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4));
                    o[l + 64] = (uint8_t)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
                    o[l + 96] = (uint8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
                }
            }
        }
        break;
    }
    default: break;
    }
}

/* Panel of weight rows j0 .. j0+rows-1 (rows <= QG_NP) into dst (see qgemm_impl.h); scratch
 * holds k bytes + 2·(k/G) floats. */
static void pack_panel(uint8_t *dst, const sb_qgemm_panel *p, sb_type t, const uint8_t *w, size_t wrow_bytes, int64_t j0,
                       int rows, int64_t k, uint8_t *u, float *S, float *C)
{
    const int G = p->group;
    const int64_t ng = k / G;
    if (rows < QG_NP) memset(dst, 0, (size_t)ng * p->group_bytes);
    for (int c = 0; c < rows; c++) {
        unpack_row(t, w + (size_t)(j0 + c) * wrow_bytes, k, u, S, C);
        for (int64_t g = 0; g < ng; g++) {
            uint8_t *pg = dst + (size_t)g * p->group_bytes;
            for (int s = 0; s < G / 4; s++) memcpy(pg + (size_t)s * 4 * QG_NP + 4 * c, u + g * G + 4 * s, 4);
            float *sc = (float *)(pg + G * QG_NP);
            sc[c] = S[g];
            if (p->has_min) sc[QG_NP + c] = C[g];
        }
    }
}

/* ---------------------------------------------------------------- driver */

int sb_qgemm_supported(sb_type t)
{
    return t == SB_TYPE_Q4_0 || t == SB_TYPE_Q8_0 || t == SB_TYPE_Q4_K || t == SB_TYPE_Q5_K || t == SB_TYPE_Q6_K;
}

int sb_qgemm(float *Y, const sb_act *act, const void *W, sb_type t, int64_t m, int64_t n, size_t wrow_bytes, int nt)
{
    const int64_t k = act->k;
    const int is_k = t == SB_TYPE_Q4_K || t == SB_TYPE_Q5_K || t == SB_TYPE_Q6_K;
    sb_qgemm_panel proto = {NULL, t == SB_TYPE_Q6_K ? 16 : 32, t == SB_TYPE_Q4_K || t == SB_TYPE_Q5_K, 0};
    proto.group_bytes = (size_t)proto.group * QG_NP + 4 * QG_NP * (1 + (size_t)proto.has_min);
    const int G = proto.group;
    const int64_t ng = k / G;

    /* per (row, group) activation terms */
    float *gscale = malloc((size_t)(m * ng) * sizeof(float));
    int32_t *goff = proto.has_min ? NULL : malloc((size_t)(m * ng) * sizeof(int32_t));
    float *gmin = proto.has_min ? malloc((size_t)(m * ng) * sizeof(float)) : NULL;
    if (!gscale || (!goff && !gmin)) {
        free(gscale), free(goff), free(gmin);
        return SB_KERR_NOMEM;
    }
    const int32_t offset = t == SB_TYPE_Q4_0 ? 8 : t == SB_TYPE_Q8_0 ? 128 : 32;
    for (int64_t r = 0; r < m; r++)
        for (int64_t g = 0; g < ng; g++) {
            int64_t i = r * ng + g;
            if (!is_k) { /* Q8_0 activations: group = block, s = block sums */
                gscale[i] = act->d[i];
                goff[i] = -offset * act->s[i];
            } else if (G == 16) { /* Q6_K: s = 16-sums */
                gscale[i] = act->d[r * (k / SB_QK_K) + g / 16];
                goff[i] = -offset * act->s[r * (k / 16) + g];
            } else {
                float dx = act->d[r * (k / SB_QK_K) + g / 8];
                gscale[i] = dx;
                gmin[i] = dx * (float)(act->s[r * (k / 16) + 2 * g] + act->s[r * (k / 16) + 2 * g + 1]);
            }
        }
    sb_qgemm_act xa = {k, ng, act->q, gscale, goff, gmin};

    const size_t panel_bytes = (size_t)ng * proto.group_bytes;
    const size_t scratch_bytes = (size_t)k + 2 * (size_t)ng * sizeof(float) + 64;
    const int64_t n_panels = (n + QG_NP - 1) / QG_NP;
    int status = SB_KOK;
    #pragma omp parallel num_threads(nt) if (nt > 1)
    {
        uint8_t *panel = aligned_alloc(64, (panel_bytes + 63) / 64 * 64);
        uint8_t *scratch = aligned_alloc(64, (scratch_bytes + 63) / 64 * 64);
        if (!panel || !scratch) {
            #pragma omp atomic write
            status = SB_KERR_NOMEM;
        }
        float *S = scratch ? (float *)(scratch + (k + 63) / 64 * 64) : NULL, *C = S ? S + ng : NULL;
        sb_qgemm_panel p = proto;
        p.data = panel;
        #pragma omp for schedule(dynamic, 1)
        for (int64_t pi = 0; pi < n_panels; pi++) {
            if (!panel || !scratch) continue;
            int64_t j0 = pi * QG_NP;
            int rows = n - j0 < QG_NP ? (int)(n - j0) : QG_NP;
            pack_panel(panel, &p, t, W, wrow_bytes, j0, rows, k, scratch, S, C);
            for (int64_t r0 = 0; r0 < m; r0 += QG_MR) {
                int nr = m - r0 < QG_MR ? (int)(m - r0) : QG_MR;
                sb_qgemm_tile_avx512(&p, &xa, r0, nr, Y + r0 * n + j0, n, rows);
            }
        }
        free(panel);
        free(scratch);
    }
    free(gscale), free(goff), free(gmin);
    return status;
}
