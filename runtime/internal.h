/* Private interface between the parts of runtime/ (not for other modules).
 *
 * runtime/model.c   — load: hyperparameters, tensor table, validation (G15–G17, G19)
 * runtime/forward.c — sessions (KV cache, activations) and the forward pass
 * runtime/sampler.c — sampling
 * runtime/synth.c   — random-weight models of real shapes
 *
 * Shapes below use the math convention: a weight matrix "n×k" has n rows of k elements (the
 * GGUF/ggml tensor has ne[0] = k, ne[1] = n) and Y[m×n] = X[m×k]·Wᵀ (kernels' sb_matmul).
 */
#ifndef SB_RUNTIME_INTERNAL_H
#define SB_RUNTIME_INTERNAL_H

#include "gguf/gguf.h"
#include "runtime/model.h"

/* One weight matrix, used in place from the mapping. */
typedef struct sb_weight {
    const void *data;   /* rows × cols elements in `type`, row-major (ggml layout)            */
    sb_type type;
    int64_t rows, cols; /* n, k                                                               */
} sb_weight;

/* The weights of one transformer block. q_dim = n_head·head_dim, kv_dim = n_head_kv·head_dim. */
typedef struct sb_layer {
    const float *attn_norm;   /* (n_embd)                                                     */
    sb_weight wq;             /* (q_dim × n_embd)                                             */
    sb_weight wk;             /* (kv_dim × n_embd)                                            */
    sb_weight wv;             /* (kv_dim × n_embd)                                            */
    const float *bq, *bk, *bv;/* (q_dim), (kv_dim), (kv_dim): qwen2 only, else NULL            */
    sb_weight wo;             /* (n_embd × q_dim)                                             */
    const float *ffn_norm;    /* (n_embd)                                                     */
    sb_weight w_gate;         /* (n_ff × n_embd)                                              */
    sb_weight w_up;           /* (n_ff × n_embd)                                              */
    sb_weight w_down;         /* (n_embd × n_ff)                                              */
} sb_layer;

struct sb_model {
    sb_hparams hp;
    sb_gguf *gguf;            /* owns the mapping every weight points into                   */
    sb_tokenizer *tok;
    sb_weight token_embd;     /* (n_vocab × n_embd)                                           */
    const float *output_norm; /* (n_embd)                                                     */
    sb_weight output;         /* (n_vocab × n_embd): token_embd itself when tied              */
    float *freq_factors;      /* (n_rot/2) Llama-3 rope scaling, or NULL                       */
    sb_layer *layers;         /* (n_layer)                                                    */
    float **owned;            /* small vectors converted to f32 at load (norms stored as f16)  */
    int n_owned;
    uint64_t weight_bytes;    /* bytes of all tensors in the file                             */
    uint64_t n_params;        /* elements of all tensors                                      */
    sb_kctx kctx;             /* back end: implementation + threads                           */
    sb_type kv_type;
    char backend[16];
};

/* Activations are sized for this many tokens per batch; longer evals run in chunks. */
#define SB_MAX_BATCH 512

/* Bytes of the activation buffers of a session (per batch of n_batch tokens). */
uint64_t sb_model_activation_bytes(const sb_model *m, int64_t n_batch);

/* Llama-3 rope scaling: n_rot/2 frequency divisors from the rope.scaling parameters. */
void sb_rope_llama3_factors(float freq_base, int n_rot, float factor, float low_freq_factor,
                            float high_freq_factor, int32_t orig_ctx, float *out);

#endif
