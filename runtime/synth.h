/* Synthetic models: GGUF files with random weights at the shapes of real models, so latency and
 * memory of a model can be measured before downloading it (speed does not depend on weight
 * values). The tokenizer is real: copied from a vocabulary GGUF, or a built-in byte-level one.
 */
#ifndef SB_SYNTH_H
#define SB_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A model shape, from the model's published config.json. */
typedef struct sb_synth_shape {
    const char *name;         /* "llama-3.2-1b", ...                                          */
    const char *arch;         /* "llama" | "qwen2"                                            */
    int32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx;
    float rms_eps, rope_base;
    int tied;                 /* output projection = token embedding                         */
    float llama3_factor;      /* Llama-3 rope scaling factor (0: none); low 1, high 4, orig 8192 */
    const char *source;       /* where the numbers come from                                  */
} sb_synth_shape;

/* The table of known shapes (n entries). */
const sb_synth_shape *sb_synth_shapes(size_t *n);
/* Shape by name (case-insensitive), NULL when unknown. */
const sb_synth_shape *sb_synth_find(const char *name);

typedef struct sb_synth_opts {
    const char *shape;        /* a name of sb_synth_shapes()                                  */
    sb_type type;             /* format of the weight matrices (norms stay f32)               */
    const char *vocab_path;   /* GGUF whose tokenizer.ggml.* keys are copied; NULL: built-in  */
    int n_layer;              /* 0: the shape's; else this many blocks                         */
    uint64_t seed;
} sb_synth_opts;

/* Writes a random-weight model to path (atomically). Matrices whose row length is not a
 * multiple of the format's block fall back as converters do: K-quants → q8_0, then → f16.
 * The built-in vocabulary (when vocab_path is NULL) is a SentencePiece ("llama") vocabulary:
 * <unk> <s> </s>, the 256 byte tokens <0xNN>, the printable ASCII characters, "▁", "▁a".."▁z",
 * the 676 lowercase letter pairs, padded with <unused_N> to the shape's vocabulary size.
 * A copied vocabulary larger than the shape's is refused; a smaller one is padded the same way.
 * Returns 0 or an sb_model_status, err saying why. */
int sb_synth_write(const sb_synth_opts *o, const char *path, char *err, size_t errlen);

/* Copies the model src to dst with its matrices converted to `type` (as llama-quantize does):
 * every tensor of 2 or more dimensions whose row length the format's block divides is
 * dequantized and requantized with the reference quantizer; the others (norms, rows of odd
 * length) are copied unchanged. *n_quantized (may be NULL) gets the number converted. */
int sb_model_requantize(const char *src, const char *dst, sb_type type, int *n_quantized, char *err,
                        size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
