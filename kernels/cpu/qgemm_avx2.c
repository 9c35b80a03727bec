/* AVX2 packing and micro-kernels of the int8 prefill GEMM (contract and panel layout in
 * kernels/qgemm_impl.h; the same panels as the AVX-512 level, read 8 weight rows per register).
 *
 * One tile call: up to QG_MR = 4 rows of X against one packed panel of QG_NP = 32 weight rows,
 * group by group; within a group the X rows go in pairs (2 rows × 4 registers of int32 sums,
 * the 4 weight registers of a step shared by both: 13 of the 16 registers), and each group's
 * sums are scaled into f32 accumulators that live in a small array (L1) across groups.
 *   AVX-VNNI (sb_qgemm_kernel_avx2vnni): vpdpbusd on 256 bits, 4 products per lane and op;
 *   plain AVX2 (sb_qgemm_kernel_avx2): vpmaddubsw (pairs to int16) + vpmaddwd + vpaddd. Its
 *   int16 pair sums hold for u <= 63 (2·63·127 = 16002): not Q8_0 (u up to 255), which
 *   sb_qgemm_kernel_for leaves to the row-dot kernels.
 */
#include <immintrin.h>
#include <string.h>

#include "kernels/cpu/simd_avx2.h"
#include "kernels/qgemm_impl.h"

#define INLINE static inline __attribute__((always_inline))

/* ---------------------------------------------------------------- packing */

/* One weight row of k elements in format t → u[k] unsigned quants (element order), S[g·ss] and,
 * for Q4_K/Q5_K, C[g·ss] for the groups g < k/G (see the table in qgemm_impl.h). */
static void unpack_row(sb_type t, const void *w, int64_t k, uint8_t *u, float *S, float *C, size_t ss)
{
    const __m256i m4 = _mm256_set1_epi8(15);
    if (t == SB_TYPE_Q4_0) {
        const sb_block_q4_0 *b = w;
        for (int64_t i = 0; i < k / 32; i++) {
            __m128i q = _mm_loadu_si128((const __m128i *)b[i].qs);
            __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(q), _mm_srli_epi16(q, 4), 1);
            _mm256_storeu_si256((__m256i *)(u + 32 * i), _mm256_and_si256(v, m4));
            S[i * ss] = _cvtsh_ss(b[i].d);
        }
    } else if (t == SB_TYPE_Q8_0) {
        const sb_block_q8_0 *b = w;
        for (int64_t i = 0; i < k / 32; i++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)b[i].qs);
            _mm256_storeu_si256((__m256i *)(u + 32 * i), _mm256_xor_si256(v, _mm256_set1_epi8((char)0x80)));
            S[i * ss] = _cvtsh_ss(b[i].d);
        }
    } else if (t == SB_TYPE_Q4_K || t == SB_TYPE_Q5_K) {
        /* chunk c of 64: its 32 qs bytes, low nibbles then high nibbles; Q5_K adds 16 where bit
         * 2c (low) or 2c+1 (high) of qh[l] is set */
        const int has_high = t == SB_TYPE_Q5_K;
        for (int64_t i = 0; i < k / SB_QK_K; i++) {
            const uint8_t *scales, *qs, *qh = NULL;
            float d, dmin;
            if (has_high) {
                const sb_block_q5_K *b = (const sb_block_q5_K *)w + i;
                scales = b->scales, qs = b->qs, qh = b->qh, d = _cvtsh_ss(b->d), dmin = _cvtsh_ss(b->dmin);
            } else {
                const sb_block_q4_K *b = (const sb_block_q4_K *)w + i;
                scales = b->scales, qs = b->qs, d = _cvtsh_ss(b->d), dmin = _cvtsh_ss(b->dmin);
            }
            for (int j = 0; j < 8; j++) {
                int sc, mn;
                sb_q4k_scale_min(j, scales, &sc, &mn);
                S[(8 * i + j) * ss] = d * (float)sc;
                C[(8 * i + j) * ss] = -dmin * (float)mn;
            }
            __m256i hb = qh ? _mm256_loadu_si256((const __m256i *)qh) : _mm256_setzero_si256();
            for (int c = 0; c < 4; c++) {
                __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
                __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
                if (qh) {
                    __m256i b0 = _mm256_set1_epi8((char)(1 << (2 * c))), b1 = _mm256_set1_epi8((char)(1 << (2 * c + 1)));
                    __m256i s16 = _mm256_set1_epi8(16);
                    lo = _mm256_add_epi8(lo, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hb, b0), b0), s16));
                    hi = _mm256_add_epi8(hi, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hb, b1), b1), s16));
                }
                _mm256_storeu_si256((__m256i *)(u + SB_QK_K * i + 64 * c), lo);
                _mm256_storeu_si256((__m256i *)(u + SB_QK_K * i + 64 * c + 32), hi);
            }
        }
    } else if (t == SB_TYPE_Q6_K) {
        /* half h: element l (l < 32) = low nibble of ql[l] | qh[l] bits 0-1 << 4, l+32: ql[l+32]
         * and bits 2-3, l+64: high nibble of ql[l] and bits 4-5, l+96: ql[l+32] and bits 6-7 */
        const sb_block_q6_K *b = w;
        const __m256i m30 = _mm256_set1_epi8(0x30);
        for (int64_t i = 0; i < k / SB_QK_K; i++) {
            float d = _cvtsh_ss(b[i].d);
            for (int s = 0; s < 16; s++) S[(16 * i + s) * ss] = d * (float)b[i].scales[s];
            for (int h = 0; h < 2; h++) {
                __m256i l0 = _mm256_loadu_si256((const __m256i *)(b[i].ql + 64 * h));
                __m256i l1 = _mm256_loadu_si256((const __m256i *)(b[i].ql + 64 * h + 32));
                __m256i hb = _mm256_loadu_si256((const __m256i *)(b[i].qh + 32 * h));
                uint8_t *o = u + SB_QK_K * i + 128 * h;
                _mm256_storeu_si256((__m256i *)o, _mm256_or_si256(_mm256_and_si256(l0, m4),
                                                                 _mm256_and_si256(_mm256_slli_epi16(hb, 4), m30)));
                _mm256_storeu_si256((__m256i *)(o + 32), _mm256_or_si256(_mm256_and_si256(l1, m4),
                                                                        _mm256_and_si256(_mm256_slli_epi16(hb, 2), m30)));
                _mm256_storeu_si256((__m256i *)(o + 64), _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                                                        _mm256_and_si256(hb, m30)));
                _mm256_storeu_si256((__m256i *)(o + 96), _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                                                        _mm256_and_si256(_mm256_srli_epi16(hb, 2), m30)));
            }
        }
    }
}

/* Row stride of the unpacked rows in scratch: k plus one cache line (k is often a power of two,
 * and the 8 rows a transpose reads should not share L1 sets). */
#define U_STRIDE(k) ((size_t)(k) + 64)

/* The panel's quants from the unpacked rows u: 32 elements (8 words of 4 quants) × 8 rows per
 * transpose; word w of the chunk at element e0 is step (e0 + 4w) % G / 4 of group (e0 + 4w) / G.
 * k is a multiple of 32. */
static void interleave(uint8_t *dst, size_t group_bytes, const uint8_t *u, int64_t k, int G)
{
    for (int64_t e0 = 0; e0 < k; e0 += 32)
        for (int h = 0; h < QG_NP / 8; h++) {
            vf v[8];
            for (int r = 0; r < 8; r++) v[r] = _mm256_loadu_ps((const float *)(u + (size_t)(8 * h + r) * U_STRIDE(k) + e0));
            vtranspose8(v);
            for (int wd = 0; wd < 8; wd++) {
                int64_t e = e0 + 4 * wd;
                _mm256_store_ps((float *)(dst + (size_t)(e / G) * group_bytes + (size_t)(e % G / 4) * 4 * QG_NP + 32 * h),
                                v[wd]);
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
    interleave(dst, p->group_bytes, scratch, k, G);
}

/* ---------------------------------------------------------------- micro-kernels */

INLINE __m256i broadcast4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

/* isum + Σ over each lane's 4 byte products u·x (u unsigned, x signed). */
INLINE __m256i dot4(__m256i isum, __m256i u, __m256i x, const int vnni)
{
    if (vnni) return vdpbusd_avxvnni(isum, u, x);
    return _mm256_add_epi32(isum, _mm256_madd_epi16(_mm256_maddubs_epi16(u, x), _mm256_set1_epi16(1)));
}

INLINE void tile(const sb_qgemm_panel *p, const sb_qgemm_act *x, int64_t r0, float *y, int64_t ldy, int ncols,
                 const int NR, const int G, const int has_min, const int vnni)
{
    const int64_t k = x->k, ng = x->n_groups;
    float acc[QG_MR][QG_NP] __attribute__((aligned(32)));
    memset(acc, 0, sizeof acc);
    const uint8_t *pg = p->data;
    for (int64_t g = 0; g < ng; g++, pg += p->group_bytes) {
        const float *sc = (const float *)(pg + G * QG_NP);
#pragma GCC unroll 2
        for (int r2 = 0; r2 < NR; r2 += 2) {
            const int n2 = NR - r2 < 2 ? 1 : 2;
            __m256i isum[2][4];
#pragma GCC unroll 2
            for (int r = 0; r < n2; r++) {
                const int32_t *go = x->goff ? x->goff + (r0 + r2 + r) * ng + g : NULL;
                isum[r][0] = isum[r][1] = isum[r][2] = isum[r][3] = _mm256_set1_epi32(go ? *go : 0);
            }
#pragma GCC unroll 8
            for (int s = 0; s < G / 4; s++) {
                __m256i b[4];
#pragma GCC unroll 4
                for (int v = 0; v < 4; v++) b[v] = _mm256_load_si256((const __m256i *)(pg + s * 4 * QG_NP + 32 * v));
#pragma GCC unroll 2
                for (int r = 0; r < n2; r++) {
                    __m256i a = broadcast4(x->q + (r0 + r2 + r) * k + g * G + 4 * s);
#pragma GCC unroll 4
                    for (int v = 0; v < 4; v++) isum[r][v] = dot4(isum[r][v], b[v], a, vnni);
                }
            }
#pragma GCC unroll 2
            for (int r = 0; r < n2; r++) {
                const int64_t row = r0 + r2 + r;
                __m256 dx = _mm256_set1_ps(x->gscale[row * ng + g]);
                __m256 mx = has_min ? _mm256_set1_ps(x->gmin[row * ng + g]) : _mm256_setzero_ps();
#pragma GCC unroll 4
                for (int v = 0; v < 4; v++) {
                    float *a = acc[r2 + r] + 8 * v;
                    __m256 t = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r][v]), _mm256_mul_ps(_mm256_load_ps(sc + 8 * v), dx),
                                               _mm256_load_ps(a));
                    if (has_min) t = _mm256_fmadd_ps(_mm256_load_ps(sc + QG_NP + 8 * v), mx, t);
                    _mm256_store_ps(a, t);
                }
            }
        }
    }
    for (int r = 0; r < NR; r++) memcpy(y + r * ldy, acc[r], (size_t)ncols * sizeof(float));
}

/* (G, has_min) pairs that occur: (32, 0) Q4_0/Q8_0, (32, 1) Q4_K/Q5_K, (16, 0) Q6_K. */
#define BY_FORMAT(NR, VNNI)                                                                               \
    do {                                                                                                  \
        if (p->group == 16) tile(p, x, r0, y, ldy, ncols, NR, 16, 0, VNNI);                               \
        else if (p->has_min) tile(p, x, r0, y, ldy, ncols, NR, 32, 1, VNNI);                              \
        else tile(p, x, r0, y, ldy, ncols, NR, 32, 0, VNNI);                                              \
    } while (0)

#define BY_ROWS(VNNI)                                                                                     \
    switch (nr) {                                                                                         \
    case 1: BY_FORMAT(1, VNNI); break;                                                                    \
    case 2: BY_FORMAT(2, VNNI); break;                                                                    \
    case 3: BY_FORMAT(3, VNNI); break;                                                                    \
    default: BY_FORMAT(4, VNNI); break;                                                                   \
    }

static void tile_avx2(const sb_qgemm_panel *p, const sb_qgemm_act *x, int64_t r0, int nr, float *y, int64_t ldy,
                      int ncols)
{
    BY_ROWS(0)
}

static void tile_avxvnni(const sb_qgemm_panel *p, const sb_qgemm_act *x, int64_t r0, int nr, float *y, int64_t ldy,
                         int ncols)
{
    BY_ROWS(1)
}

const sb_qgemm_kernel sb_qgemm_kernel_avx2 = {.pack = pack, .tile = tile_avx2};
const sb_qgemm_kernel sb_qgemm_kernel_avx2vnni = {.pack = pack, .tile = tile_avxvnni};
