/* slmbench tokenizers built from the vocabulary a GGUF file carries (tokenizer.ggml.* keys).
 *
 * - "llama": SentencePiece BPE with scores (space prefix, U+2581, highest-score merges,
 *   <0xNN> byte fallback, unknown token).
 * - "gpt2": byte-level BPE with merge ranks, pre-tokenized by PCRE2 regexes chosen by
 *   tokenizer.ggml.pre.
 * Token ids match llama.cpp's for the same vocabulary. Depends on gguf/ only.
 */
#ifndef SB_TOKENIZER_H
#define SB_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "gguf/gguf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sb_tok_status {
    SB_TOK_OK = 0,
    SB_TOK_E_VOCAB = 1,        /* G18: inconsistent or malformed vocabulary                  */
    SB_TOK_E_UNSUPPORTED = 2,  /* tokenizer model or pre-tokenizer we do not implement       */
    SB_TOK_E_NOMEM = 3,
    SB_TOK_E_ARG = 4,
    SB_TOK_E_INPUT = 5,        /* token id out of range on decode                            */
} sb_tok_status;

typedef struct sb_tokenizer sb_tokenizer;

/* Builds a tokenizer from g's tokenizer.ggml.* keys. err (may be NULL) gets a message naming
 * the file and the key. g may be closed afterwards (everything needed is copied). */
int sb_tok_load_gguf(const sb_gguf *g, sb_tokenizer **out, char *err, size_t errlen);
void sb_tok_free(sb_tokenizer *t);

/* Encodes len bytes of UTF-8 text. add_special: prepend BOS / append EOS per the vocabulary's
 * add_bos/add_eos flags. parse_special: text such as "<s>" becomes the special token instead of
 * being tokenized as plain text. *ids is malloc'd (caller frees). */
int sb_tok_encode(const sb_tokenizer *t, const char *text, size_t len, int add_special,
                  int parse_special, int32_t **ids, size_t *n_ids);
/* Decodes ids to UTF-8 bytes (byte tokens reassembled, SentencePiece's leading space removed
 * when the first piece starts a word and remove_leading_space is set). *out is malloc'd and
 * NUL-terminated; *out_len excludes the NUL. Special/control tokens render as nothing unless
 * render_special. */
int sb_tok_decode(const sb_tokenizer *t, const int32_t *ids, size_t n_ids, int remove_leading_space,
                  int render_special, char **out, size_t *out_len);
/* Text piece of one token as stored in the vocabulary (not NUL-terminated), NULL if out of range. */
const char *sb_tok_piece(const sb_tokenizer *t, int32_t id, size_t *len);

int32_t sb_tok_n_vocab(const sb_tokenizer *t);
int32_t sb_tok_bos(const sb_tokenizer *t);  /* -1 when none */
int32_t sb_tok_eos(const sb_tokenizer *t);
int32_t sb_tok_unk(const sb_tokenizer *t);
int32_t sb_tok_pad(const sb_tokenizer *t);
int sb_tok_add_bos(const sb_tokenizer *t);
int sb_tok_add_eos(const sb_tokenizer *t);
/* "llama" or "gpt2"; and the pre-tokenizer name ("default", "llama-bpe", ...). */
const char *sb_tok_model_name(const sb_tokenizer *t);
const char *sb_tok_pre_name(const sb_tokenizer *t);

#ifdef __cplusplus
}
#endif
#endif
