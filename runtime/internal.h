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

/* Writes the printf-style message into err (errlen bytes; nothing when err is NULL) and returns
 * code: `return sb_rt_fail(err, errlen, SB_MODEL_E_..., "...", ...);`. */
int sb_rt_fail(char *err, size_t errlen, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

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
    struct sb_vk_model *vk;   /* weights on the Vulkan device when backend is "vulkan", else NULL */
    sb_type kv_type;
    char backend[16];
};

struct sb_session {
    sb_model *m;
    int64_t n_ctx;     /* positions the cache holds                                           */
    int64_t pos;       /* positions filled                                                     */
    int64_t n_batch;   /* rows of the activation buffers                                      */
    size_t kv_es;      /* bytes per cache element (4 for f32, 2 for f16)                       */
    void *k_cache;     /* (n_layer, n_ctx, n_head_kv·head_dim) in kv_type                      */
    void *v_cache;     /* (n_layer, n_ctx, n_head_kv·head_dim) in kv_type                      */
    /* activations, one row per token of the batch */
    float *x;          /* (n_batch, n_embd) the residual stream                                */
    float *xb;         /* (n_batch, n_embd) normalized input of a block                        */
    float *xb2;        /* (n_batch, n_embd) output of a block, added to x                      */
    float *q;          /* (n_batch, n_head·head_dim)                                           */
    float *k, *v;      /* (n_batch, n_head_kv·head_dim) this batch's keys and values           */
    float *att;        /* (n_batch, n_head·head_dim) attention output                          */
    float *hb, *hb2;   /* (n_batch, n_ff) FFN gate and up                                      */
    struct sb_vk_session *vks; /* device buffers when the model runs on Vulkan, else NULL   */
    char err[512];
};

/* Activations are sized for this many tokens per batch; longer evals run in chunks. */
#define SB_MAX_BATCH 512

/* Bytes of the activation buffers of a session (per batch of n_batch tokens). */
uint64_t sb_model_activation_bytes(const sb_model *m, int64_t n_batch);

/* The Vulkan back end (runtime/forward_vk.c): weights uploaded once at load, KV cache and
 * activations kept on the device, one command-buffer batch per forward pass. */
int sb_vk_model_init(sb_model *m, char *err, size_t errlen);
void sb_vk_model_free(sb_model *m);
const char *sb_vk_model_device(const sb_model *m); /* device name */
int sb_vk_session_init(sb_session *s, char *err, size_t errlen);
void sb_vk_session_free(sb_session *s);
int sb_vk_forward(sb_session *s, const int32_t *tokens, int64_t m, float *logits, int all_logits);

/* Llama-3 rope scaling: n_rot/2 frequency divisors from the rope.scaling parameters. */
void sb_rope_llama3_factors(float freq_base, int n_rot, float factor, float low_freq_factor,
                            float high_freq_factor, int32_t orig_ctx, float *out);

#endif
