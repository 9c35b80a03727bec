/* Private to kernels/: the int8 GEMM that serves prefill (m ≥ QGEMM_MIN_M X rows) for the
 * quantized weight formats Q8_0, Q4_0, Q4_K, Q5_K, Q6_K (kernels/qgemm.c drives it, the packing
 * and micro-kernel are per ISA: kernels/cpu/qgemm_avx512.c, qgemm_avx2.c).
 *
 * Every one of those formats can be written, per group g of G consecutive elements of a weight
 * row j, as  w = S[j][g] · u + C[j][g]  with u an unsigned 8-bit quant:
 *   Q4_0 (G = 32): u = nibble,        S = d,          C = -8·d
 *   Q8_0 (G = 32): u = q + 128,       S = d,          C = -128·d
 *   Q4_K (G = 32): u = nibble,        S = d·sc_g,     C = -dmin·mn_g
 *   Q5_K (G = 32): u = nibble + 16·h, S = d·sc_g,     C = -dmin·mn_g
 *   Q6_K (G = 16): u = q (0..63),     S = d·scale_g,  C = -32·d·scale_g
 * and X row r is quantized exactly as the reference does (Q8_0 for Q4_0/Q8_0, Q8_K for the
 * K-quants): x = dx · qx. So one output is
 *   Y[r][j] = Σ_g dx_g · (S[j][g] · Σ_{e∈g} u_e·qx_e + C[j][g] · Σ_{e∈g} qx_e)
 * with the inner sum an exact int32 (vpdpbusd: u8 × s8). Where C = -offset·S (Q4_0, Q8_0,
 * Q6_K) the C term is folded into the integer sum as a start value -offset·Σqx ("goff");
 * otherwise (Q4_K, Q5_K) it is a separate f32 term ("gmin" = dx·Σqx).
 *
 * Packed weight panel: QG_NP weight rows (rows past the matrix edge are zero), group by group:
 *   quants  G/4 steps × QG_NP rows × 4 bytes   (step s holds elements 4s..4s+3 of each row,
 *                                                 the layout vpdpbusd wants: lane = weight row)
 *   S       QG_NP floats
 *   C       QG_NP floats (only when the format has a separate min term)
 * Packing is a transient copy of one panel per thread (like the F32 GEMM's B panel); the model
 * weights themselves are never copied.
 */
#ifndef SB_KERNELS_QGEMM_IMPL_H
#define SB_KERNELS_QGEMM_IMPL_H

#include "kernels/matmul_impl.h"

#define QG_NP 32 /* weight rows per panel (two 16-lane vectors) */
#define QG_MR 4  /* X rows per micro-kernel call                */

/* X quantized, plus per (row, group) terms; arrays indexed [row · n_groups + g]. */
typedef struct sb_qgemm_act {
    int64_t k, n_groups;
    const int8_t *q;      /* m × k quants                                           */
    const float *gscale;  /* dx of the activation block holding group g              */
    const int32_t *goff;  /* -offset · Σ qx over g (NULL when the format has none)     */
    const float *gmin;    /* dx · Σ qx over g (NULL when the format has no min term)    */
} sb_qgemm_act;

typedef struct sb_qgemm_panel {
    const uint8_t *data;
    int group;          /* G: 32 or 16                                          */
    int has_min;        /* C stored per group                                   */
    size_t group_bytes; /* G·QG_NP + 4·QG_NP·(1 + has_min)                       */
} sb_qgemm_panel;

/* One ISA's packing routine and micro-kernel. */
typedef struct sb_qgemm_kernel {
    /* Packs weight rows w, w + wrow_bytes, … (rows of them, 1..QG_NP) of format t into dst (the
     * panel layout above; rows past `rows` are zero). scratch: QG_NP·(k + 64) bytes. dst 64-byte
     * aligned. */
    void (*pack)(uint8_t *dst, const sb_qgemm_panel *p, sb_type t, const uint8_t *w, size_t wrow_bytes, int rows,
                 int64_t k, uint8_t *scratch);
    /* Y[r·ldy + c] = row (r0 + r) of X times panel row c, r < nr (1..QG_MR), c < ncols (1..QG_NP). */
    void (*tile)(const sb_qgemm_panel *p, const sb_qgemm_act *x, int64_t r0, int nr, float *y, int64_t ldy,
                 int ncols);
} sb_qgemm_kernel;

extern const sb_qgemm_kernel sb_qgemm_kernel_avx512;   /* AVX-512 VNNI                              */
extern const sb_qgemm_kernel sb_qgemm_kernel_avx2vnni; /* AVX2 + AVX-VNNI (vpdpbusd on 256 bits)      */
extern const sb_qgemm_kernel sb_qgemm_kernel_avx2;     /* AVX2: vpmaddubsw; not Q8_0 (u up to 255 would
                                                          saturate its 16-bit pair sums)              */

/* The kernel for weight format t at level isa on this CPU, or NULL (then the row-dot kernels
 * serve prefill). */
const sb_qgemm_kernel *sb_qgemm_kernel_for(sb_isa isa, sb_type t);

/* Y[m×n] = X · Wᵀ with kernel kr (from sb_qgemm_kernel_for), X already prepared by sb_matmul as
 * SB_ACT_Q8_0 (Q4_0, Q8_0) or SB_ACT_Q8_K (K-quants), nt threads splitting the panels. SB_KOK,
 * or SB_KERR_NOMEM. */
int sb_qgemm(const sb_qgemm_kernel *kr, float *Y, const sb_act *act, const void *W, sb_type t, int64_t m, int64_t n,
             size_t wrow_bytes, int nt);

#endif
