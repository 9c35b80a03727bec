/* Private to kernels/: ggml block layouts, the activation layout the SIMD dot kernels read, and
 * the per-ISA row-dot kernels sb_matmul dispatches to (kernels/matmul.c holds the table).
 *
 * Block layouts are bit-exact with ggml's block structs (GGUF tensors are used in place). Every
 * "half" is an IEEE binary16 bit pattern; every multi-byte field is little-endian (x86/aarch64).
 */
#ifndef SB_KERNELS_MATMUL_IMPL_H
#define SB_KERNELS_MATMUL_IMPL_H

#include "kernels/internal.h"

#define SB_QK4_0 32
#define SB_QK8_0 32
#define SB_QK_K 256

/* Q4_0: x[i] = d * (nibble - 8); element j in the low nibble of qs[j], element j+16 in the
 * high nibble of qs[j] (j < 16). 18 bytes. */
typedef struct sb_block_q4_0 {
    uint16_t d;
    uint8_t qs[SB_QK4_0 / 2];
} sb_block_q4_0;

/* Q8_0: x[i] = d * qs[i]. 34 bytes. */
typedef struct sb_block_q8_0 {
    uint16_t d;
    int8_t qs[SB_QK8_0];
} sb_block_q8_0;

/* Q4_K: 256 elements in 8 sub-blocks of 32, each with a 6-bit scale sc and 6-bit min mn
 * (packed in scales[12], see sb_q4k_scale_min); x = d*sc * q - dmin*mn, q a 4-bit quant.
 * qs holds 4 chunks of 64 elements: chunk c, byte l (0..31): element 64c+l in the low nibble,
 * element 64c+32+l in the high nibble. 144 bytes. */
typedef struct sb_block_q4_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[12];
    uint8_t qs[SB_QK_K / 2];
} sb_block_q4_K;

/* Q5_K: Q4_K plus a fifth bit: element 64c+l takes bit 2c of qh[l], element 64c+32+l takes
 * bit 2c+1 of qh[l]; q = nibble + 16*bit in 0..31. 176 bytes. */
typedef struct sb_block_q5_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[12];
    uint8_t qh[SB_QK_K / 8];
    uint8_t qs[SB_QK_K / 2];
} sb_block_q5_K;

/* Q6_K: 256 elements in 16 sub-blocks of 16 with int8 scales; x = d * scales[s] * (q - 32),
 * q 6 bits. Two halves of 128: half h, l in 0..31 (ql += 64h, qh += 32h, element base 128h):
 *   element l    : low nibble of ql[l]    | bits 0-1 of qh[l] << 4
 *   element l+32 : low nibble of ql[l+32] | bits 2-3 of qh[l] << 4
 *   element l+64 : high nibble of ql[l]   | bits 4-5 of qh[l] << 4
 *   element l+96 : high nibble of ql[l+32]| bits 6-7 of qh[l] << 4
 * Element e uses scales[e / 16]. 210 bytes. */
typedef struct sb_block_q6_K {
    uint8_t ql[SB_QK_K / 2];
    uint8_t qh[SB_QK_K / 4];
    int8_t scales[SB_QK_K / 16];
    uint16_t d;
} sb_block_q6_K;

/* Q8_K (activations): x = d * qs, d an f32; bsums[j] = sum of qs[16j .. 16j+15]. 292 bytes. */
typedef struct sb_block_q8_K {
    float d;
    int8_t qs[SB_QK_K];
    int16_t bsums[SB_QK_K / 16];
} sb_block_q8_K;

_Static_assert(sizeof(sb_block_q4_0) == 18, "q4_0 block");
_Static_assert(sizeof(sb_block_q8_0) == 34, "q8_0 block");
_Static_assert(sizeof(sb_block_q4_K) == 144, "q4_K block");
_Static_assert(sizeof(sb_block_q5_K) == 176, "q5_K block");
_Static_assert(sizeof(sb_block_q6_K) == 210, "q6_K block");
_Static_assert(sizeof(sb_block_q8_K) == 292, "q8_K block");

/* The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block, from its scales[12]:
 * j < 4: sc = scales[j] & 63, mn = scales[j+4] & 63;
 * j ≥ 4: sc = (scales[j+4] & 15) | (scales[j-4] >> 6) << 4, mn = (scales[j+4] >> 4) | (scales[j] >> 6) << 4. */
static inline void sb_q4k_scale_min(int j, const uint8_t *scales, int *sc, int *mn)
{
    if (j < 4) {
        *sc = scales[j] & 63;
        *mn = scales[j + 4] & 63;
    } else {
        *sc = (scales[j + 4] & 15) | ((scales[j - 4] >> 6) << 4);
        *mn = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4);
    }
}

/* Quantize one block of activations the way the dot products need them (shared by the ref
 * oracle and the SIMD preparation, so both see identical integers):
 *   Q8_0: d = amax/127 rounded to f16 (returned as bits), q = round(x * 127/amax);
 *   Q8_K: d = amax/127 (f32), q = round(x / d), bsums of 16. Quants lie in [-127, 127]. */
uint16_t sb_quantize_block_q8_0(const float *x, int8_t *q);
float sb_quantize_block_q8_K(const float *x, int8_t *q, int16_t *bsums);

/* ---------------------------------------------------------------- activation layout */

/* How X is prepared for a kernel, once per sb_matmul call. */
typedef enum sb_act_kind {
    SB_ACT_F32 = 0, /* X as given                                          */
    SB_ACT_BF16,    /* X rounded to bf16 (for vdpbf16ps)                   */
    SB_ACT_Q8_0,    /* per 32: f32 scale, sum of quants, int8 quants       */
    SB_ACT_Q8_0_OFF8,   /* as Q8_0, plus start values for vpdpbusd against weights + 8   */
    SB_ACT_Q8_0_OFF128, /* as Q8_0, plus start values for vpdpbusd against weights + 128 */
    SB_ACT_Q8_0_OFF8_QUADS,   /* as Q8_0_OFF8, plus the same regrouped by quads of blocks   */
    SB_ACT_Q8_0_OFF128_QUADS, /* as Q8_0_OFF128, plus the same regrouped by quads of blocks */
    SB_ACT_Q8_K,    /* per 256: f32 scale; per 16: sum of quants; int8     */
} sb_act_kind;

/* X[m×k] prepared for the dot kernels. Row r of each array starts at r × (its per-row count). */
typedef struct sb_act {
    int64_t k;
    const float *f32; /* m × k, the caller's X                                         */
    uint16_t *bf16;   /* m × k (SB_ACT_BF16)                                            */
    int8_t *q;        /* m × k quants (SB_ACT_Q8_0 / Q8_K)                              */
    float *d;         /* m × k/32 (Q8_0) or m × k/256 (Q8_K) scales                     */
    int16_t *s;       /* m × k/32 (Q8_0) or m × k/16 (Q8_K) sums of quants              */
    int32_t *start;   /* m × k/4 (Q8_0_OFF*): -offset · (sum of quants 4i .. 4i+3)      */
    float *dexp;      /* m × k/4 (Q8_0_OFF*): the scale of the block holding quant 4i    */
    /* Q8_0_OFF*_QUADS: X by quads of four blocks (128 quants; only whole quads, k/128 per row) as
     * the Q4_0/Q8_0 decode kernel reads a quad of weights: 16-quant groups (elements 0-15 of blocks 0..3,
     * then elements 16-31 of blocks 0..3), and per int32 lane j of the pair of groups j/4 (the
     * quants 4(j%4).. of block j/4 in both halves) the summed start value and the block's scale. */
    int8_t *quad_q;      /* m × k/128 × 128                                          */
    int32_t *quad_start; /* m × k/128 × 16                                           */
    float *quad_d;       /* m × k/128 × 16                                           */
    void *mem;           /* the block the arrays above live in, when the call owns one */
} sb_act;

/* Decode streams (four per thread, see below): bytes ahead of its current position each stream
 * prefetches. TinyLlama-shape decode, 2 threads: 256 B was ~15 % slower than 768–3072; 2048
 * best for Q4_0 by a few %, neutral for Q8_0/F16. */
#define SB_STREAM_AHEAD 2048

/* Most X rows one kernel call handles (rows of X sharing one pass over a weight row). */
#define SB_MR 4

/* body(NR) with NR = nr as a compile-time constant (1..SB_MR): the row-dot entry points' switch,
 * so that each always-inline body keeps its per-row accumulators in registers. */
#define SB_DISPATCH_NR(body)                                                                      \
    switch (nr) {                                                                                 \
    case 1: body(1); break;                                                                       \
    case 2: body(2); break;                                                                       \
    case 3: body(3); break;                                                                       \
    default: body(4); break;                                                                      \
    }

/* y[r * ldy] = dot(weight row w, X row r0 + r) for r in [0, nr), 1 <= nr <= SB_MR. */
typedef void (*sb_rowdot_fn)(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);

/* The same for two weight rows, w and w + ws bytes: y[r * ldy + c], c = 0, 1 (prefill). */
typedef void (*sb_rowdot2_fn)(const void *w, size_t ws, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);

/* Decode (one X row): y[c] = dot(weight row w + c·ws bytes, X row 0), c < 4. The driver makes
 * the four rows a quarter of the matrix apart, so that one thread reads four streams at once. */
typedef void (*sb_rowdot4_fn)(const void *w, size_t ws, const sb_act *x, float y[4]);

/* Per-ISA kernels (kernels/cpu/matmul_avx2.c, matmul_avx512.c, decode_avx512.c, matmul_neon*.c). */
void sb_rowdot_f32_avx2(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot_f16_avx2(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot_bf16_avx2(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot_q8_0_avx2(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot_q4_0_avx2(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot_q4_0_avx2vnni(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy); /* + AVX-VNNI */
void sb_rowdot_q4_K_avx2(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot_q5_K_avx2(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot_q6_K_avx2(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);

/* Activation quantizers for one row of nb blocks (identical results to the reference ones);
 * q8_0 also fills start/dexp (k/4 entries each) when offset != 0. */
void sb_quantize_act_q8_0_avx2(const float *x, int64_t nb, int8_t *q, float *d, int16_t *s, int32_t *start,
                               float *dexp, int offset);
void sb_quantize_act_q8_K_avx2(const float *x, int64_t nb, int8_t *q, float *d, int16_t *bsums);

/* aarch64 (kernels/cpu/matmul_neon.c; the quantized ones in matmul_neondot.c need the
 * dot-product extension). */
void sb_rowdot_f32_neon(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot_f16_neon(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot_bf16_neon(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot_q8_0_neon(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot_q4_0_neon(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot_q4_K_neon(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot_q5_K_neon(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot_q6_K_neon(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);

void sb_rowdot_f32_avx512(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot_f16_avx512(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot_bf16_avx512(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot_bf16dp_avx512(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot_q8_0_avx512(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot_q4_0_avx512(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot_q4_K_avx512(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot_q5_K_avx512(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot_q6_K_avx512(const void *w, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);

void sb_rowdot2_f32_avx512(const void *w, size_t ws, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot2_f16_avx512(const void *w, size_t ws, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot2_bf16_avx512(const void *w, size_t ws, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot2_bf16dp_avx512(const void *w, size_t ws, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot2_q8_0_avx512(const void *w, size_t ws, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot2_q4_0_avx512(const void *w, size_t ws, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot2_q4_K_avx512(const void *w, size_t ws, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot2_q5_K_avx512(const void *w, size_t ws, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);
void sb_rowdot2_q6_K_avx512(const void *w, size_t ws, const sb_act *x, int64_t r0, int nr, float *y, int64_t ldy);

void sb_rowdot4_f32_avx2(const void *w, size_t ws, const sb_act *x, float y[4]);
void sb_rowdot4_f16_avx2(const void *w, size_t ws, const sb_act *x, float y[4]);
void sb_rowdot4_bf16_avx2(const void *w, size_t ws, const sb_act *x, float y[4]);
void sb_rowdot4_f32_avx512(const void *w, size_t ws, const sb_act *x, float y[4]);
void sb_rowdot4_f16_avx512(const void *w, size_t ws, const sb_act *x, float y[4]);
void sb_rowdot4_bf16_avx512(const void *w, size_t ws, const sb_act *x, float y[4]);
void sb_rowdot4_q4_K_avx512vbmi(const void *w, size_t ws, const sb_act *x, float y[4]);
void sb_rowdot4_q5_K_avx512vbmi(const void *w, size_t ws, const sb_act *x, float y[4]);
void sb_rowdot4_q4_K_avx512(const void *w, size_t ws, const sb_act *x, float y[4]);
void sb_rowdot4_q5_K_avx512(const void *w, size_t ws, const sb_act *x, float y[4]);
void sb_rowdot4_q6_K_avx512(const void *w, size_t ws, const sb_act *x, float y[4]);
void sb_rowdot4_q6_K_avx512vbmi(const void *w, size_t ws, const sb_act *x, float y[4]);
void sb_rowdot4_q8_0_avx512vbmi(const void *w, size_t ws, const sb_act *x, float y[4]); /* + VNNI, VBMI, GFNI */
void sb_rowdot4_q4_0_avx512vbmi(const void *w, size_t ws, const sb_act *x, float y[4]);

#endif
