/* slmbench tokenizers built from the vocabulary a GGUF file carries (tokenizer.ggml.* keys).
 *
 * - "llama": SentencePiece BPE with scores (space prefix, U+2581, highest-score merges,
 *   <0xNN> byte fallback, unknown token).
 * - "gpt2": byte-level BPE with merge ranks, pre-tokenized by PCRE2 regexes chosen by
 *   tokenizer.ggml.pre (default, gpt-2, llama-bpe/llama3, qwen2, deepseek-llm, deepseek-coder,
 *   falcon, starcoder, refact, mpt, smollm, command-r, olmo, dbrx, chatglm-bpe, stablelm2,
 *   poro-chat, bloom and their aliases in llama.cpp). Other pre-tokenizers, and the "bert"
 *   (WordPiece), "t5" (Unigram) and other models, are refused with SB_TOK_E_UNSUPPORTED.
 * Token ids match llama.cpp's (src/llama-vocab.cpp) for the same vocabulary and options; the
 * reference vectors of ../shared/models/vocab pass exactly. Known differences, all on input
 * llama.cpp mishandles: an incomplete UTF-8 sequence in SentencePiece text ends at the next
 * non-continuation byte (llama.cpp swallows the following character); for byte-level BPE,
 * overlong forms, surrogates and code points above U+10FFFF become U+FFFD like other invalid
 * bytes (llama.cpp keeps some of them). Explicit special-token ids outside the vocabulary are
 * errors (llama.cpp warns and ignores them). Decode does not apply llama.cpp's
 * clean_up_tokenization_spaces, so decode(encode(s)) == s for valid UTF-8.
 * Encode and decode only read the tokenizer: one tokenizer may be used from several threads.
 * Depends on gguf/ only.
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

/* ---- extensions (tok helper) ---- */

/* "ok", "vocab error", "unsupported", ... */
const char *sb_tok_status_name(int code);

/* GGUF token types (tokenizer.ggml.token_type values). */
enum {
    SB_TOK_TYPE_UNDEFINED = 0, SB_TOK_TYPE_NORMAL = 1, SB_TOK_TYPE_UNKNOWN = 2,
    SB_TOK_TYPE_CONTROL = 3, SB_TOK_TYPE_USER_DEFINED = 4, SB_TOK_TYPE_UNUSED = 5,
    SB_TOK_TYPE_BYTE = 6,
};

/* A vocabulary given as plain arrays, the same content as the tokenizer.ggml.* keys.
 * Lengths are separate so that inconsistent input can be described (and refused). */
typedef struct sb_tok_vocab_desc {
    const char *name;               /* used in error messages (file name)                  */
    const char *model;              /* "llama" (SentencePiece) or "gpt2" (byte-level BPE)   */
    const char *pre;                /* pre-tokenizer name; NULL = "default"                 */
    const char *general_name;       /* general.name (phi-3 special-token quirk); may be NULL */
    uint64_t n_tokens;
    const char *const *tokens;      /* [n_tokens] texts (may contain NUL bytes)             */
    const size_t *token_lens;       /* [n_tokens] lengths; NULL = strlen                    */
    const float *scores;            /* [n_scores] or NULL                                   */
    uint64_t n_scores;
    const int32_t *types;           /* [n_types] SB_TOK_TYPE_* or NULL (all normal)         */
    uint64_t n_types;
    const char *const *merges;      /* [n_merges] "left right" strings (gpt2)              */
    const size_t *merge_lens;       /* [n_merges] or NULL = strlen                          */
    uint64_t n_merges;
    /* Special ids: -1 = key absent (model default applies). Values < -1 or >= n_tokens
     * are refused. */
    int64_t bos, eos, unk, pad, sep, eot, eom;
    int add_bos, add_eos, add_space_prefix;   /* -1 = key absent (model default)         */
} sb_tok_vocab_desc;

/* Sets every field of d to "absent" (ids and flags -1, pointers NULL, counts 0). */
void sb_tok_vocab_desc_init(sb_tok_vocab_desc *d);
/* Builds a tokenizer from d (everything copied). Same errors as sb_tok_load_gguf. */
int sb_tok_load_desc(const sb_tok_vocab_desc *d, sb_tokenizer **out, char *err, size_t errlen);

/* 1 when id ends generation (EOS, EOT, EOM and the end-of-text tokens llama.cpp lists). */
int sb_tok_is_eog(const sb_tokenizer *t, int32_t id);
/* 1 for control and unknown tokens (rendered by decode only with render_special). */
int sb_tok_is_special(const sb_tokenizer *t, int32_t id);
/* SB_TOK_TYPE_* of a token (the GGUF type it was loaded with); -1 if out of range. */
int sb_tok_token_type(const sb_tokenizer *t, int32_t id);
int32_t sb_tok_eot(const sb_tokenizer *t);  /* -1 when none */

#ifdef __cplusplus
}
#endif
#endif
