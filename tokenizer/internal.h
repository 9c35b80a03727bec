/* Private structures shared by the tokenizer's source files (not part of the public API).
 *
 * Layout of a loaded vocabulary (n = n_vocab):
 *   text      arena of every token's bytes; token i is text[off[i] .. off[i] + len[i])
 *   score[n]  SentencePiece score (0 when the file has none)
 *   attr[n]   SB_TOK_ATTR_* bit set derived from tokenizer.ggml.token_type
 *   piece     arena of each token's decoded bytes (what decode emits), piece_off/piece_len[n]
 *   tok_map   open-addressing hash map: token text -> id
 *   merge_map open-addressing hash map: (left id, right id) -> (rank, merged id)   [gpt2 only]
 */
#ifndef SB_TOKENIZER_INTERNAL_H
#define SB_TOKENIZER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer/tokenizer.h"

enum tok_kind { TOK_SPM = 1, TOK_BPE = 2 };

/* Token attributes (bit set), as llama.cpp derives them from the GGUF token types. */
enum {
    ATTR_UNDEFINED = 0,
    ATTR_UNKNOWN = 1 << 0,
    ATTR_UNUSED = 1 << 1,
    ATTR_NORMAL = 1 << 2,
    ATTR_CONTROL = 1 << 3,
    ATTR_USER_DEFINED = 1 << 4,
    ATTR_BYTE = 1 << 5,
    ATTR_LSTRIP = 1 << 6,  /* special token swallows whitespace on its left  */
    ATTR_RSTRIP = 1 << 7,  /* ... and on its right                            */
};

/* Hash map from byte strings (the tokens' texts) to ids. */
typedef struct str_map {
    uint32_t cap;       /* power of two, > 2 * count                                */
    uint32_t *hash;     /* [cap] hash of the key in that slot                        */
    int32_t *id;        /* [cap] token id, -1 = empty                                */
} str_map;

/* Hash map from a pair of token ids to the merge's rank and the merged token's id. */
typedef struct pair_map {
    uint32_t cap;       /* power of two                                              */
    uint64_t *key;      /* [cap] (left << 32) | right; UINT64_MAX = empty            */
    int32_t *rank;      /* [cap] merge rank (position in tokenizer.ggml.merges)      */
    int32_t *merged;    /* [cap] id of left+right, or -1 when that text is no token  */
} pair_map;

#define SB_TOK_MAX_REGEX 6

struct sb_tokenizer {
    int kind;                       /* TOK_SPM or TOK_BPE                              */
    char model_name[16];            /* "llama" / "gpt2"                                 */
    char pre_name[64];              /* tokenizer.ggml.pre as given ("default" if none)  */

    int32_t n_vocab;
    char *text;                     /* token texts (arena)                              */
    size_t *off;                    /* [n_vocab]                                        */
    uint32_t *len;                  /* [n_vocab]                                        */
    float *score;                   /* [n_vocab]                                        */
    uint8_t *attr;                  /* [n_vocab] ATTR_* bits                            */
    uint8_t *ttype;                 /* [n_vocab] SB_TOK_TYPE_* as loaded                */
    char *piece;                    /* decoded pieces (arena)                           */
    size_t *piece_off;              /* [n_vocab]                                        */
    uint32_t *piece_len;            /* [n_vocab]                                        */
    str_map tok_map;
    pair_map merge_map;             /* gpt2 only                                        */
    int32_t n_merges;

    /* SPM: id of "<0xNN>" (or of the 1-byte token) for byte fallback, -1 if none.
     * BPE: id of the byte-to-unicode character of each byte, -1 if none.               */
    int32_t byte_tok[256];
    /* BPE fallback: id of the one-byte token string {b}, -1 if none.                   */
    int32_t single_tok[256];
    /* BPE: UTF-8 of the byte-to-unicode character of each byte (1 or 2 bytes).         */
    char byte_enc[256][2];
    uint8_t byte_enc_len[256];

    int32_t bos, eos, unk, pad, sep, eot, eom;
    int add_bos, add_eos, add_space_prefix, ignore_merges;
    /* SPM: every token is U+2581* followed by text without U+2581, so no merge can join a
     * character to a following U+2581: the text can be merged word by word (same result, small
     * heaps). 0 when some token breaks that rule (then the whole text is one merge run). */
    int spm_word_split;

    int32_t *special;               /* control/user-defined/unknown ids, longest first   */
    int32_t n_special;
    uint8_t *is_eog;                /* [n_vocab] end-of-generation tokens                */

    void *re[SB_TOK_MAX_REGEX];     /* pcre2_code_8 *, applied in sequence               */
    int n_re;
};

/* str_map helpers (tokenizer/vocab.c). */
uint32_t tok_hash(const char *s, size_t n);
int32_t tok_find(const sb_tokenizer *t, const char *s, size_t n);

/* Pre-tokenizer (tokenizer/pretok.c). */
typedef struct span { size_t start, len; } span;
/* Compiles the regexes for t->pre_name into t->re. SB_TOK_E_UNSUPPORTED when unknown. */
int pretok_setup(sb_tokenizer *t, char *err, size_t errlen);
void pretok_free(sb_tokenizer *t);
/* Splits text[0..len) (valid UTF-8) into words with the regexes applied in sequence.
 * *words is malloc'd. */
int pretok_split(const sb_tokenizer *t, const char *text, size_t len, span **words, size_t *n_words);
/* Replaces invalid UTF-8 sequences with U+FFFD (as llama.cpp does). *out is malloc'd. */
int utf8_sanitize(const char *s, size_t n, char **out, size_t *out_len);

/* Merge queue shared by the SPM and BPE algorithms: a binary heap of candidate merges of
 * adjacent symbols, best first (larger key, then smaller left index). */
typedef struct bigram { int64_t key; int32_t left, right; uint32_t size; } bigram;
typedef struct bigram_heap { bigram *v; size_t n, cap; } bigram_heap;
int heap_push(bigram_heap *h, bigram b);
bigram heap_pop(bigram_heap *h);

/* A symbol of the merge algorithms: bytes [start, start+n) of the text, in a linked list. */
typedef struct symbol { int32_t prev, next; uint32_t start, n; int32_t id; } symbol;

/* Growable id output. */
typedef struct id_vec { int32_t *v; size_t n, cap; } id_vec;
int id_push(id_vec *o, int32_t id);

/* Word -> ids cache of one encode call (tokenizer/cache.c). */
typedef struct wslot { const char *key; uint32_t len, hash, first, count; } wslot;
typedef struct wcache { wslot *slot; uint32_t cap, used; id_vec ids; } wcache;
int wcache_init(wcache *c, size_t text_len);
void wcache_free(wcache *c);
int wcache_emit(const wcache *c, const char *s, size_t n, id_vec *out);
int wcache_put(wcache *c, const char *s, size_t n, const int32_t *ids, size_t count);

/* Algorithms (tokenizer/spm.c, tokenizer/bpe.c): append ids for one text fragment. */
int spm_encode(const sb_tokenizer *t, const char *text, size_t len, id_vec *out);
int bpe_encode(const sb_tokenizer *t, const char *text, size_t len, id_vec *out);

/* Byte-level BPE's byte <-> unicode code point map (GPT-2). */
uint32_t bpe_byte_to_cpt(uint8_t b);
int bpe_cpt_to_byte(uint32_t cpt);   /* -1 when cpt is no mapped byte */

#endif
