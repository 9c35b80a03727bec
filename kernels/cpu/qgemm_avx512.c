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
 * Measured here (4096×14336, m = 512, 2 threads): 470–590 GOP/s, about half of the vpdpbusd peak
 * `slmbench hw` measures; removing the per-group float work lifted it by only ~7 %, and 6 or 8
 * X rows per call (12 or 16 int32 chains) or k slices sized for L1 changed nothing measurable. */
#include <immintrin.h>
#include <string.h>

#include "kernels/cpu/simd_avx512.h"
#include "kernels/qgemm_impl.h"

#define INLINE static inline __attribute__((always_inline))

/* ---------------------------------------------------------------- packing */

INLINE float half(uint16_t h)
{
    return _cvtsh_ss(h);
}

/* One weight row of k elements in format t → u[k] unsigned quants (element order), S[g·ss] and,
 * for Q4_K/Q5_K, C[g·ss] for the groups g < k/G (see the table in qgemm_impl.h): the scales go
 * straight to their places in the panel. 64 quants per register. */
static void unpack_row(sb_type t, const void *w, int64_t k, uint8_t *u, float *S, float *C, size_t ss)
{
    const __m512i m4 = _mm512_set1_epi8(15);
    if (t == SB_TYPE_Q4_0) {
        /* a pair of blocks: [qs0, qs0 >> 4, qs1, qs1 >> 4] per 128-bit lane, masked to nibbles */
        const sb_block_q4_0 *b = w;
        const int64_t nb = k / 32;
        const __m512i shifts = _mm512_set_epi64(4, 4, 0, 0, 4, 4, 0, 0);
        const __m512i dup = _mm512_setr_epi64(0, 1, 0, 1, 2, 3, 2, 3);
        int64_t i = 0;
        for (; i + 2 <= nb; i += 2) {
            __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)b[i].qs)),
                                                   _mm_loadu_si128((const __m128i *)b[i + 1].qs), 1);
            __m512i v = _mm512_permutexvar_epi64(dup, _mm512_castsi256_si512(both));
            _mm512_storeu_si512(u + 32 * i, _mm512_and_si512(_mm512_srlv_epi64(v, shifts), m4));
            S[(i) * ss] = half(b[i].d), S[(i + 1) * ss] = half(b[i + 1].d);
        }
        for (; i < nb; i++) {
            S[(i) * ss] = half(b[i].d);
            for (int j = 0; j < 16; j++) u[32 * i + j] = b[i].qs[j] & 15, u[32 * i + j + 16] = b[i].qs[j] >> 4;
        }
    } else if (t == SB_TYPE_Q8_0) {
        const sb_block_q8_0 *b = w;
        for (int64_t i = 0; i < k / 32; i++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)b[i].qs);
            _mm256_storeu_si256((__m256i *)(u + 32 * i), _mm256_xor_si256(v, _mm256_set1_epi8((char)0x80)));
            S[(i) * ss] = half(b[i].d);
        }
    } else if (t == SB_TYPE_Q4_K || t == SB_TYPE_Q5_K) {
        /* chunk c of 64: its 32 qs bytes in both halves, the upper half shifted by 4 */
        const int has_high = t == SB_TYPE_Q5_K;
        const __m512i shifts = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
        for (int64_t i = 0; i < k / SB_QK_K; i++) {
            const uint8_t *scales, *qs, *qh = NULL;
            float d, dmin;
            if (has_high) {
                const sb_block_q5_K *b = (const sb_block_q5_K *)w + i;
                scales = b->scales, qs = b->qs, qh = b->qh, d = half(b->d), dmin = half(b->dmin);
            } else {
                const sb_block_q4_K *b = (const sb_block_q4_K *)w + i;
                scales = b->scales, qs = b->qs, d = half(b->d), dmin = half(b->dmin);
            }
            for (int j = 0; j < 8; j++) {
                int sc, mn;
                sb_q4k_scale_min(j, scales, &sc, &mn);
                S[(8 * i + j) * ss] = d * (float)sc;
                C[(8 * i + j) * ss] = -dmin * (float)mn;
            }
            __m512i hb = qh ? _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)qh)) : _mm512_setzero_si512();
            for (int c = 0; c < 4; c++) {
                __m512i v = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(qs + 32 * c)));
                __m512i q = _mm512_and_si512(_mm512_srlv_epi16(v, shifts), m4);
                if (qh) {
                    __m512i bit = _mm512_inserti64x4(_mm512_set1_epi8((char)(1 << (2 * c))),
                                                     _mm256_set1_epi8((char)(1 << (2 * c + 1))), 1);
                    q = _mm512_mask_add_epi8(q, _mm512_test_epi8_mask(hb, bit), q, _mm512_set1_epi8(16));
                }
                _mm512_storeu_si512(u + SB_QK_K * i + 64 * c, q);
            }
        }
    } else if (t == SB_TYPE_Q6_K) {
        /* half h: ql[64h..] low nibbles = elements 0..63, high nibbles = 64..127; qh byte l holds
         * the top bits of elements l, l+32, l+64, l+96 at bits 0-1, 2-3, 4-5, 6-7 */
        const sb_block_q6_K *b = w;
        const __m512i m30 = _mm512_set1_epi8(0x30);
        const __m512i shl_a = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
        const __m512i shr_b = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
        for (int64_t i = 0; i < k / SB_QK_K; i++) {
            float d = half(b[i].d);
            for (int s = 0; s < 16; s++) S[(16 * i + s) * ss] = d * (float)b[i].scales[s];
            for (int h = 0; h < 2; h++) {
                __m512i l = _mm512_loadu_si512(b[i].ql + 64 * h);
                __m512i hb = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(b[i].qh + 32 * h)));
                __m512i q0 = _mm512_or_si512(_mm512_and_si512(l, m4), _mm512_and_si512(_mm512_sllv_epi16(hb, shl_a), m30));
                __m512i q1 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4),
                                             _mm512_and_si512(_mm512_srlv_epi16(hb, shr_b), m30));
                _mm512_storeu_si512(u + SB_QK_K * i + 128 * h, q0);
                _mm512_storeu_si512(u + SB_QK_K * i + 128 * h + 64, q1);
            }
        }
    }
}


/* Row stride of the unpacked rows in scratch: k plus one cache line, so that the 16 rows one
 * transpose reads do not all fall into the same few L1 sets (k is often a power of two). */
#define U_STRIDE(k) ((size_t)(k) + 64)

/* The panel's quants from the unpacked rows u (QG_NP rows, U_STRIDE(k) apart); G a constant. 64 elements (16 words)
 * × 16 rows per transpose; word w of the chunk at element e0 is step (e0 + 4w) % G / 4 of group
 * (e0 + 4w) / G. */
INLINE void interleave(uint8_t *dst, size_t group_bytes, const uint8_t *u, int64_t k, const int G)
{
    for (int64_t e0 = 0; e0 < k; e0 += 64) {
        int words = k - e0 >= 64 ? 16 : (int)(k - e0) / 4; /* k is a multiple of 32 */
        __mmask16 mask = (__mmask16)((1u << words) - 1);
        for (int h = 0; h < QG_NP / 16; h++) {
            vf v[16]; /* 16 rows × 16 words of 4 quants, transposed as 32-bit elements */
            for (int r = 0; r < 16; r++) v[r] = _mm512_maskz_loadu_ps(mask, u + (size_t)(16 * h + r) * U_STRIDE(k) + e0);
            vtranspose16(v);
            uint8_t *base = dst + (size_t)(e0 / G) * group_bytes + 64 * h;
            for (int wd = 0; wd < words; wd++)
                _mm512_store_ps(base + (size_t)(4 * wd / G) * group_bytes + (size_t)(4 * wd % G / 4) * 4 * QG_NP, v[wd]);
        }
    }
}

static void pack(uint8_t *dst, const sb_qgemm_panel *p, sb_type t, const uint8_t *w, size_t wrow_bytes, int rows,
                 int64_t k, uint8_t *scratch)
{
    const int G = p->group;
    const size_t ss = p->group_bytes / sizeof(float); /* panel stride of one row's scales */
    float *S = (float *)(dst + (size_t)G * QG_NP), *C = S + QG_NP;
    if (rows < QG_NP) memset(dst, 0, (size_t)(k / G) * p->group_bytes); /* zero rows add nothing */
    for (int c = 0; c < QG_NP; c++) {
        if (c < rows) unpack_row(t, w + (size_t)c * wrow_bytes, k, scratch + (size_t)c * U_STRIDE(k), S + c, C + c, ss);
        else memset(scratch + (size_t)c * U_STRIDE(k), 0, (size_t)k);
    }
    if (G == 16) interleave(dst, p->group_bytes, scratch, k, 16);
    else interleave(dst, p->group_bytes, scratch, k, 32);
}

/* ---------------------------------------------------------------- micro-kernel */

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

static void tile_any(const sb_qgemm_panel *p, const sb_qgemm_act *x, int64_t r0, int nr, float *y,
                     int64_t ldy, int ncols)
{
    switch (nr) {
    case 1: BY_FORMAT(1); break;
    case 2: BY_FORMAT(2); break;
    case 3: BY_FORMAT(3); break;
    default: BY_FORMAT(4); break;
    }
}

const sb_qgemm_kernel sb_qgemm_kernel_avx512 = {.pack = pack, .tile = tile_any};
