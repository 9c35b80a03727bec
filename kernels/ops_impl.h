/* Private to kernels/: the per-ISA tables behind the small ops (kernels/ops.c) and attention
 * (kernels/attention.c).
 *
 * kernels/ops.c validates arguments, then calls the table of ctx->isa (a level without a table
 * uses the ref one). The tables are plain data: one per file, no registration code.
 */
#ifndef SB_KERNELS_OPS_IMPL_H
#define SB_KERNELS_OPS_IMPL_H

#include "kernels/internal.h"

/* Rope coefficients for one position: y[d] = x[d]·a[d] + x[partner(d)]·b[d] over d < n_rot,
 * where partner(d) = d^1 for NORMAL (pairs 2i, 2i+1) and d ± n_rot/2 for NEOX.
 * NORMAL: a[2i] = a[2i+1] = cos θi, b[2i] = -sin θi, b[2i+1] = +sin θi.
 * NEOX:   a[i] = a[i+h] = cos θi,  b[i] = -sin θi,   b[i+h] = +sin θi   (h = n_rot/2).
 * The caller (ops.c) fills tab[m][2][n_rot] (a then b per position) in double precision. */
typedef struct sb_ops_impl {
    /* Validated shapes: rows, n >= 1. */
    void (*rmsnorm)(float *y, const float *x, const float *w, int64_t rows, int64_t n, float eps);
    void (*softmax)(float *x, int64_t rows, int64_t n);
    void (*silu_mul)(float *y, const float *gate, const float *up, int64_t n);
    void (*add)(float *y, const float *a, const float *b, int64_t n);
    void (*mul)(float *y, const float *a, const float *b, int64_t n);
    /* x[m][n_heads][head_dim] in place, coefficient table as above. */
    void (*rope)(float *x, int64_t m, int n_heads, int head_dim, int n_rot, sb_rope_mode mode,
                 const float *tab);
} sb_ops_impl;

extern const sb_ops_impl sb_ops_ref;
extern const sb_ops_impl sb_ops_avx2;
extern const sb_ops_impl sb_ops_avx512;
extern const sb_ops_impl sb_ops_neon;

/* Flash attention of one ISA level; arguments already validated by kernels/attention.c
 * (kv_type f32 or f16, n_head % n_kv_head == 0, n_kv >= pos + m). n_threads >= 1.
 * SB_KERR_UNSUPPORTED: the kernel declines the shape (many query rows past position 2^24);
 * kernels/attention.c then runs the reference. */
typedef int (*sb_attention_fn)(float *out, const float *Q, const void *K, const void *V,
                               const sb_attn_params *p, int n_threads);
int sb_attention_avx2(float *out, const float *Q, const void *K, const void *V,
                      const sb_attn_params *p, int n_threads);
int sb_attention_avx512(float *out, const float *Q, const void *K, const void *V,
                        const sb_attn_params *p, int n_threads);
int sb_attention_neon(float *out, const float *Q, const void *K, const void *V, const sb_attn_params *p,
                      int n_threads);

#endif
