/* AVX-512 VNNI micro-kernel of the int8 prefill GEMM (contract and panel layout in
 * kernels/qgemm_impl.h).
 *
 * One call: up to QG_MR = 4 rows of X against one packed panel of QG_NP = 32 weight rows. Lanes
 * are weight rows, so nothing is reduced horizontally: for each step of 4 elements, two 64-byte
 * loads give the 32 rows' quants, each X row's 4 quants are broadcast, and vpdpbusd adds 4
 * products per lane (2·MR = 8 independent int32 chains). At the end of each group of G elements
 * the int32 sums are converted once and scaled into f32 accumulators:
 *   acc += f32(isum) · (S · dx)   [+ C · (dx·Σqx) for Q4_K/Q5_K]
 * Per group of 32 that is 8 vpdpbusd per (X row, 16 weight rows) against 3–4 float operations.
 */
#include <immintrin.h>
#include <string.h>

#include "kernels/qgemm_impl.h"

#define INLINE static inline __attribute__((always_inline))

INLINE __m512i broadcast4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

INLINE void tile(const sb_qgemm_panel *p, const sb_qgemm_act *x, int64_t r0, float *y, int64_t ldy, int ncols,
                 const int NR, const int G, const int has_min)
{
    const int64_t k = x->k, ng = x->n_groups;
    const int8_t *xq[QG_MR];
    const float *gs[QG_MR], *gm[QG_MR];
    const int32_t *go[QG_MR];
    __m512 acc[QG_MR][2];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        xq[r] = x->q + (r0 + r) * k;
        gs[r] = x->gscale + (r0 + r) * ng;
        go[r] = x->goff ? x->goff + (r0 + r) * ng : NULL;
        gm[r] = has_min ? x->gmin + (r0 + r) * ng : NULL;
        acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    }
    const uint8_t *pg = p->data;
    for (int64_t g = 0; g < ng; g++, pg += p->group_bytes) {
        __m512i isum[QG_MR][2];
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) isum[r][0] = isum[r][1] = go[r] ? _mm512_set1_epi32(go[r][g]) : _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int s = 0; s < G / 4; s++) {
            __m512i b0 = _mm512_load_si512(pg + s * 4 * QG_NP), b1 = _mm512_load_si512(pg + s * 4 * QG_NP + 64);
#pragma GCC unroll 4
            for (int r = 0; r < NR; r++) {
                __m512i a = broadcast4(xq[r] + g * G + 4 * s);
                isum[r][0] = _mm512_dpbusd_epi32(isum[r][0], b0, a);
                isum[r][1] = _mm512_dpbusd_epi32(isum[r][1], b1, a);
            }
        }
        const float *sc = (const float *)(pg + G * QG_NP);
        __m512 s0 = _mm512_load_ps(sc), s1 = _mm512_load_ps(sc + 16);
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            __m512 dx = _mm512_set1_ps(gs[r][g]);
            acc[r][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[r][0]), _mm512_mul_ps(s0, dx), acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[r][1]), _mm512_mul_ps(s1, dx), acc[r][1]);
        }
        if (has_min) {
            __m512 c0 = _mm512_load_ps(sc + QG_NP), c1 = _mm512_load_ps(sc + QG_NP + 16);
#pragma GCC unroll 4
            for (int r = 0; r < NR; r++) {
                __m512 mx = _mm512_set1_ps(gm[r][g]);
                acc[r][0] = _mm512_fmadd_ps(c0, mx, acc[r][0]);
                acc[r][1] = _mm512_fmadd_ps(c1, mx, acc[r][1]);
            }
        }
    }
    __mmask16 m0 = ncols >= 16 ? 0xffff : (__mmask16)((1u << ncols) - 1);
    __mmask16 m1 = ncols >= 32 ? 0xffff : ncols <= 16 ? 0 : (__mmask16)((1u << (ncols - 16)) - 1);
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        _mm512_mask_storeu_ps(y + r * ldy, m0, acc[r][0]);
        _mm512_mask_storeu_ps(y + r * ldy + 16, m1, acc[r][1]);
    }
}

/* (G, has_min) pairs that occur: (32, 0) Q4_0/Q8_0, (32, 1) Q4_K/Q5_K, (16, 0) Q6_K. */
#define BY_FORMAT(NR)                                                                                     \
    do {                                                                                                  \
        if (p->group == 16) tile(p, x, r0, y, ldy, ncols, NR, 16, 0);                                     \
        else if (p->has_min) tile(p, x, r0, y, ldy, ncols, NR, 32, 1);                                    \
        else tile(p, x, r0, y, ldy, ncols, NR, 32, 0);                                                    \
    } while (0)

void sb_qgemm_tile_avx512(const sb_qgemm_panel *p, const sb_qgemm_act *x, int64_t r0, int nr, float *y,
                          int64_t ldy, int ncols)
{
    switch (nr) {
    case 1: BY_FORMAT(1); break;
    case 2: BY_FORMAT(2); break;
    case 3: BY_FORMAT(3); break;
    default: BY_FORMAT(4); break;
    }
}
