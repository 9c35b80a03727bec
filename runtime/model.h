/* slmbench model runtime: load a GGUF language model and run it on the kernels.
 *
 * Architectures: llama (Llama 2/3, TinyLlama, SmolLM, Mistral) and qwen2. Weights are used in
 * place from the mmap (no copy, no dequantized copy). One sb_model holds the weights; any number
 * of sb_session (a KV cache + activations for one sequence) run on it.
 *
 * Typical use:
 *   sb_model_opts o = sb_model_default_opts();
 *   sb_model *m; if (sb_model_load(path, &o, &m, err, sizeof err)) { ...print err... }
 *   sb_session *s; sb_session_new(m, 2048, &s, err, sizeof err);
 *   sb_session_eval(s, ids, n, logits, 0);   // logits of the last token only: vocab floats
 *   ...
 *   sb_session_free(s); sb_model_free(m);
 */
#ifndef SB_MODEL_H
#define SB_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/kernels.h"
#include "tokenizer/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sb_model_status {
    SB_MODEL_OK = 0,
    SB_MODEL_E_FILE = 1,      /* GGUF structure error (message from the reader)              */
    SB_MODEL_E_META = 2,      /* G15: required key/tensor missing or of the wrong type       */
    SB_MODEL_E_HPARAMS = 3,   /* G16 */
    SB_MODEL_E_SHAPE = 4,     /* G17: tensor shape differs from the hyperparameters          */
    SB_MODEL_E_VOCAB = 5,     /* G18 */
    SB_MODEL_E_MEMORY = 6,    /* G19: would not fit in available memory (message says how much) */
    SB_MODEL_E_ARCH = 7,      /* unsupported architecture (named)                            */
    SB_MODEL_E_BACKEND = 8,   /* unknown or unavailable back end                             */
    SB_MODEL_E_NOMEM = 9,
    SB_MODEL_E_ARG = 10,
    SB_MODEL_E_CONTEXT = 11,  /* eval past the session's context                             */
    SB_MODEL_E_KERNEL = 12,   /* a kernel returned an error                                  */
} sb_model_status;

typedef struct sb_hparams {
    char arch[32];            /* "llama" | "qwen2"                                           */
    int32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_ctx_train, n_rot;
    float rms_eps, rope_freq_base, rope_freq_scale;
    int rope_mode;            /* sb_rope_mode                                                */
    int tied_output;          /* output projection reuses token_embd                         */
} sb_hparams;

typedef struct sb_model_opts {
    const char *backend;      /* "cpu" (default), "ref", "vulkan" (whole model on the device) */
    int n_threads;            /* <= 0: all online processors                                 */
    int64_t n_ctx;            /* context the caller intends to use (for the memory check); 0 = 2048 or train ctx if smaller */
    sb_type kv_type;          /* SB_TYPE_F32 (default) or SB_TYPE_F16                        */
    int skip_memory_check;    /* 1: do not refuse models that would not fit                  */
} sb_model_opts;

sb_model_opts sb_model_default_opts(void);

typedef struct sb_model sb_model;
typedef struct sb_session sb_session;

/* Loads a model: validates hyperparameters (G15/G16) and tensor shapes (G17), refuses what would
 * not fit in MemAvailable (G19, unless opts->skip_memory_check), builds the tokenizer (G18).
 * opts may be NULL (defaults). Returns SB_MODEL_OK or an sb_model_status with err naming the
 * file and the key or tensor; *out is NULL on failure. */
int sb_model_load(const char *path, const sb_model_opts *opts, sb_model **out, char *err,
                  size_t errlen);
/* The same from a GGUF image in memory (not copied: it must outlive the model); name is used in
 * messages. */
int sb_model_load_memory(const void *data, size_t size, const char *name, const sb_model_opts *opts,
                         sb_model **out, char *err, size_t errlen);
void sb_model_free(sb_model *m);
const sb_hparams *sb_model_hparams(const sb_model *m);
const sb_tokenizer *sb_model_tokenizer(const sb_model *m);
uint64_t sb_model_weight_bytes(const sb_model *m);          /* bytes of all tensors          */
/* Bytes of a KV cache for n_ctx positions with this model and kv type. */
uint64_t sb_model_kv_bytes(const sb_model *m, int64_t n_ctx);
/* Predicted resident memory for a session of n_ctx: weights + KV + activations + overhead. */
uint64_t sb_model_predict_ram(const sb_model *m, int64_t n_ctx);
/* Weight bytes one decode step reads: every tensor except the embedding table, which is only
 * gathered (a tied output matrix is the table and is read in full, so it counts then). */
uint64_t sb_model_decode_bytes(const sb_model *m);
/* Elements of all tensors (parameters). */
uint64_t sb_model_n_params(const sb_model *m);
/* Back end the model runs on ("cpu", "ref") and its kernel context (implementation, threads). */
const char *sb_model_backend(const sb_model *m);
const sb_kctx *sb_model_kctx(const sb_model *m);
/* One line for reports: "cpu (avx512, 2 threads)", "ref (1 thread)", "vulkan (DEVICE NAME)". */
void sb_model_backend_desc(const sb_model *m, char *buf, size_t len);

/* A sequence: KV cache sized to n_ctx positions and activation buffers. */
int sb_session_new(sb_model *m, int64_t n_ctx, sb_session **out, char *err, size_t errlen);
void sb_session_free(sb_session *s);
int64_t sb_session_pos(const sb_session *s);     /* tokens in the cache                       */
int64_t sb_session_n_ctx(const sb_session *s);
/* Drops cached positions >= pos (pos <= current): the KV prefix [0, pos) is kept and reused,
 * so several continuations of one context are scored without recomputing it. */
int sb_session_truncate(sb_session *s, int64_t pos);
/* Runs n tokens at positions pos .. pos+n-1 as one batch (prefill) and appends them to the cache.
 * logits: if all_logits, n × n_vocab floats (one row per token); otherwise n_vocab floats for the
 * last token. logits may be NULL (cache only). */
int sb_session_eval(sb_session *s, const int32_t *tokens, int64_t n, float *logits, int all_logits);
/* Message of the last failed call on this session. */
const char *sb_session_error(const sb_session *s);

/* ---- sampling ---- */
typedef struct sb_sampler_opts {
    float temperature;        /* 0 = greedy                                                  */
    int top_k;                /* 0 = off                                                     */
    float top_p;              /* 1 = off                                                     */
    uint64_t seed;
} sb_sampler_opts;
typedef struct sb_sampler sb_sampler;
int sb_sampler_new(const sb_sampler_opts *o, int32_t n_vocab, sb_sampler **out);
void sb_sampler_free(sb_sampler *s);
/* Picks a token from n_vocab logits (logits may be modified). */
int32_t sb_sampler_sample(sb_sampler *s, float *logits);

#ifdef __cplusplus
}
#endif
#endif
