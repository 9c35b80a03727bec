/* Vocabulary loading and validation (G18): plain arrays -> sb_tokenizer.
 *
 * Everything from the file is copied into the tokenizer, validated first: array lengths agree,
 * special ids are in range, byte tokens are "<0xNN>", merges name known tokens, token texts are
 * unique. Defaults follow llama.cpp (llama-vocab.cpp) so that ids match it.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/internal.h"

/* ------------------------------------------------------------------------------------------ */
/* errors                                                                                      */

static int fail(int code, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(int code, char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Printable, bounded rendering of a token text for messages. */
static void show(char *dst, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') dst[o++] = (char)c;
        else o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", c);
        if (i + 1 < n && o + 5 >= cap) { dst[o++] = '.'; dst[o++] = '.'; break; }
    }
    dst[o < cap ? o : cap - 1] = 0;
}

const char *sb_tok_status_name(int code)
{
    switch (code) {
    case SB_TOK_OK: return "ok";
    case SB_TOK_E_VOCAB: return "vocab error";
    case SB_TOK_E_UNSUPPORTED: return "unsupported";
    case SB_TOK_E_NOMEM: return "out of memory";
    case SB_TOK_E_ARG: return "bad argument";
    case SB_TOK_E_INPUT: return "bad input";
    default: return "unknown status";
    }
}

/* ------------------------------------------------------------------------------------------ */
/* hash maps                                                                                   */

/* FNV-1a, 32 bit: simple and good enough for token strings. */
uint32_t tok_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) { h ^= (unsigned char)s[i]; h *= 16777619u; }
    return h;
}

int32_t tok_find(const sb_tokenizer *t, const char *s, size_t n)
{
    const str_map *m = &t->tok_map;
    uint32_t h = tok_hash(s, n), mask = m->cap - 1;
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        int32_t id = m->id[i];
        if (id < 0) return -1;
        if (m->hash[i] == h && t->len[id] == n && memcmp(t->text + t->off[id], s, n) == 0) return id;
    }
}

static uint32_t pow2_at_least(uint64_t n)
{
    uint32_t c = 16;
    while (c < n) c <<= 1;
    return c;
}

/* Inserts every token; returns the id of an earlier token with the same text, or -1. */
static int build_tok_map(sb_tokenizer *t, int32_t *dup_first, int32_t *dup_second)
{
    str_map *m = &t->tok_map;
    m->cap = pow2_at_least((uint64_t)t->n_vocab * 2 + 1);
    m->hash = malloc(sizeof *m->hash * m->cap);
    m->id = malloc(sizeof *m->id * m->cap);
    if (!m->hash || !m->id) return SB_TOK_E_NOMEM;
    memset(m->id, 0xff, sizeof *m->id * m->cap);
    uint32_t mask = m->cap - 1;
    for (int32_t id = 0; id < t->n_vocab; id++) {
        const char *s = t->text + t->off[id];
        uint32_t h = tok_hash(s, t->len[id]);
        for (uint32_t i = h & mask;; i = (i + 1) & mask) {
            int32_t o = m->id[i];
            if (o < 0) { m->id[i] = id; m->hash[i] = h; break; }
            if (m->hash[i] == h && t->len[o] == t->len[id] && memcmp(t->text + t->off[o], s, t->len[id]) == 0) {
                *dup_first = o;
                *dup_second = id;
                return SB_TOK_E_VOCAB;
            }
        }
    }
    return SB_TOK_OK;
}

static uint32_t pair_slot(uint64_t key, uint32_t mask)
{
    key ^= key >> 33; key *= 0xff51afd7ed558ccdULL; key ^= key >> 33;  /* murmur3 finalizer */
    return (uint32_t)key & mask;
}

/* Inserts (left,right) unless present: the first listed merge keeps its rank (as llama.cpp). */
static void pair_insert(pair_map *m, int32_t left, int32_t right, int32_t rank, int32_t merged)
{
    uint64_t key = ((uint64_t)(uint32_t)left << 32) | (uint32_t)right;
    uint32_t mask = m->cap - 1;
    for (uint32_t i = pair_slot(key, mask);; i = (i + 1) & mask) {
        if (m->key[i] == key) return;
        if (m->key[i] == UINT64_MAX) { m->key[i] = key; m->rank[i] = rank; m->merged[i] = merged; return; }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* GPT-2 byte <-> unicode map: printable Latin-1 bytes map to themselves, the other 68 bytes to
 * U+0100.. in byte order, so that every byte is a visible character in the vocabulary. */

static int byte_is_printable(int b) { return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae); }

uint32_t bpe_byte_to_cpt(uint8_t b)
{
    if (byte_is_printable(b)) return b;
    uint32_t n = 0;
    for (int c = 0; c < b; c++) n += !byte_is_printable(c);
    return 256 + n;
}

int bpe_cpt_to_byte(uint32_t cpt)
{
    if (cpt < 256) return byte_is_printable((int)cpt) ? (int)cpt : -1;
    if (cpt >= 256 + 68) return -1;
    /* the (cpt - 256)-th non-printable byte: 0x00-0x20 (33), 0x7f-0xa0 (34), 0xad (1) */
    uint32_t n = cpt - 256;
    if (n < 33) return (int)n;
    if (n < 67) return (int)(0x7f + n - 33);
    return 0xad;
}

static size_t utf8_put(char *dst, uint32_t cpt)
{
    if (cpt < 0x80) { dst[0] = (char)cpt; return 1; }
    if (cpt < 0x800) { dst[0] = (char)(0xc0 | (cpt >> 6)); dst[1] = (char)(0x80 | (cpt & 0x3f)); return 2; }
    if (cpt < 0x10000) {
        dst[0] = (char)(0xe0 | (cpt >> 12)); dst[1] = (char)(0x80 | ((cpt >> 6) & 0x3f));
        dst[2] = (char)(0x80 | (cpt & 0x3f)); return 3;
    }
    dst[0] = (char)(0xf0 | (cpt >> 18)); dst[1] = (char)(0x80 | ((cpt >> 12) & 0x3f));
    dst[2] = (char)(0x80 | ((cpt >> 6) & 0x3f)); dst[3] = (char)(0x80 | (cpt & 0x3f)); return 4;
}

/* Strict decoder for one UTF-8 sequence: code point and length, or 0 when invalid. */
static size_t utf8_get(const unsigned char *s, size_t n, uint32_t *cpt)
{
    if (n == 0) return 0;
    unsigned char c = s[0];
    if (c < 0x80) { *cpt = c; return 1; }
    size_t len;
    uint32_t v, min;
    if ((c & 0xe0) == 0xc0) { len = 2; v = c & 0x1f; min = 0x80; }
    else if ((c & 0xf0) == 0xe0) { len = 3; v = c & 0x0f; min = 0x800; }
    else if ((c & 0xf8) == 0xf0) { len = 4; v = c & 0x07; min = 0x10000; }
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    *cpt = v;
    return len;
}

int utf8_sanitize(const char *s, size_t n, char **out, size_t *out_len)
{
    /* Worst case: every byte becomes U+FFFD (3 bytes). */
    size_t cap;
    if (__builtin_mul_overflow(n, (size_t)3, &cap) || __builtin_add_overflow(cap, (size_t)1, &cap))
        return SB_TOK_E_NOMEM;
    char *o = malloc(cap);
    if (!o) return SB_TOK_E_NOMEM;
    size_t j = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t l = utf8_get(u + i, n - i, &c);
        if (l) { memcpy(o + j, s + i, l); j += l; i += l; }
        else { memcpy(o + j, "\xef\xbf\xbd", 3); j += 3; i += 1; }
    }
    o[j] = 0;
    *out = o;
    *out_len = j;
    return SB_TOK_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* loading                                                                                     */

void sb_tok_vocab_desc_init(sb_tok_vocab_desc *d)
{
    memset(d, 0, sizeof *d);
    d->bos = d->eos = d->unk = d->pad = d->sep = d->eot = d->eom = -1;
    d->add_bos = d->add_eos = d->add_space_prefix = -1;
}

void sb_tok_free(sb_tokenizer *t)
{
    if (!t) return;
    pretok_free(t);
    free(t->text); free(t->off); free(t->len); free(t->score); free(t->attr); free(t->ttype);
    free(t->piece); free(t->piece_off); free(t->piece_len);
    free(t->tok_map.hash); free(t->tok_map.id);
    free(t->merge_map.key); free(t->merge_map.rank); free(t->merge_map.merged);
    free(t->special); free(t->is_eog);
    free(t);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Byte value of a "<0xNN>" text, or -1 when the text has another form. */
static int byte_token_value(const char *s, size_t n)
{
    if (n != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>') return -1;
    int hi = hexval((unsigned char)s[3]), lo = hexval((unsigned char)s[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

static int32_t find_cstr(const sb_tokenizer *t, const char *s) { return tok_find(t, s, strlen(s)); }

/* Texts llama.cpp treats as end of generation (and forces to control type). */
static const char *const eog_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<end_of_turn>", "<|endoftext|>",
    "<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>",
    "<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>",  /* DeepSeek <｜end▁of▁sentence｜> */
};
/* EOT candidates, first found wins when the file names none. */
static const char *const eot_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>",
    "_<EOT>", "<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>", "<end_of_utterance>",
};
/* Fill-in-the-middle and file-separator tokens llama.cpp forces to control type. */
static const char *const fim_texts[] = {
    "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<PRE>", "\xe2\x96\x81<PRE>",
    "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<SUF>", "\xe2\x96\x81<SUF>",
    "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<MID>", "\xe2\x96\x81<MID>",
    "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>",
    "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>",
    "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "hole\xef\xbd\x9c>",
    "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>",
};

static int cmp_special(const void *a, const void *b, void *ctx)
{
    const sb_tokenizer *t = ctx;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (t->len[x] != t->len[y]) return t->len[x] > t->len[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* Decoded bytes of each token: what sb_tok_decode emits for it. */
static int build_pieces(sb_tokenizer *t)
{
    size_t total = 0;
    for (int32_t i = 0; i < t->n_vocab; i++) total += t->len[i];  /* pieces never grow */
    t->piece = malloc(total + 1);
    t->piece_off = malloc(sizeof *t->piece_off * (size_t)t->n_vocab);
    t->piece_len = malloc(sizeof *t->piece_len * (size_t)t->n_vocab);
    if (!t->piece || !t->piece_off || !t->piece_len) return SB_TOK_E_NOMEM;
    size_t o = 0;
    for (int32_t i = 0; i < t->n_vocab; i++) {
        const char *s = t->text + t->off[i];
        size_t n = t->len[i], start = o;
        uint8_t a = t->attr[i];
        t->piece_off[i] = o;
        if (a & (ATTR_UNKNOWN | ATTR_CONTROL | ATTR_USER_DEFINED)) {
            memcpy(t->piece + o, s, n);
            o += n;
        } else if (a & ATTR_NORMAL) {
            if (t->kind == TOK_SPM) {
                /* U+2581 (3 bytes) -> ' ' */
                for (size_t k = 0; k < n;) {
                    if (k + 3 <= n && memcmp(s + k, "\xe2\x96\x81", 3) == 0) { t->piece[o++] = ' '; k += 3; }
                    else t->piece[o++] = s[k++];
                }
            } else {
                /* byte-level: each character maps back to one byte; characters outside the map
                 * (not produced by the GPT-2 mapping) are kept as they are. */
                const unsigned char *u = (const unsigned char *)s;
                for (size_t k = 0; k < n;) {
                    uint32_t c;
                    size_t l = utf8_get(u + k, n - k, &c);
                    int b = l ? bpe_cpt_to_byte(c) : -1;
                    if (b >= 0) { t->piece[o++] = (char)b; k += l; }
                    else if (l) { memcpy(t->piece + o, s + k, l); o += l; k += l; }
                    else t->piece[o++] = s[k++];
                }
            }
        } else if (a & ATTR_BYTE) {
            t->piece[o++] = (char)byte_token_value(s, n);
        }
        t->piece_len[i] = (uint32_t)(o - start);
    }
    return SB_TOK_OK;
}

int sb_tok_load_desc(const sb_tok_vocab_desc *d, sb_tokenizer **out, char *err, size_t errlen)
{
    if (err && errlen) err[0] = 0;
    if (!d || !out) return fail(SB_TOK_E_ARG, err, errlen, "sb_tok_load_desc: NULL argument");
    *out = NULL;
    const char *name = d->name ? d->name : "(vocabulary)";
    if (!d->model) return fail(SB_TOK_E_VOCAB, err, errlen, "%s: tokenizer.ggml.model missing", name);

    int kind;
    if (!strcmp(d->model, "llama")) kind = TOK_SPM;
    else if (!strcmp(d->model, "gpt2")) kind = TOK_BPE;
    else if (!strcmp(d->model, "bert"))
        return fail(SB_TOK_E_UNSUPPORTED, err, errlen,
                    "%s: tokenizer.ggml.model 'bert' (WordPiece) is not supported; supported: llama, gpt2", name);
    else {
        char m[64];
        show(m, sizeof m, d->model, strlen(d->model));
        return fail(SB_TOK_E_UNSUPPORTED, err, errlen,
                    "%s: tokenizer.ggml.model '%s' is not supported; supported: llama, gpt2", name, m);
    }

    uint64_t n = d->n_tokens;
    if (n == 0 || !d->tokens) return fail(SB_TOK_E_VOCAB, err, errlen, "%s: tokenizer.ggml.tokens is empty or missing", name);
    if (n > (uint64_t)INT32_MAX / 2)
        return fail(SB_TOK_E_VOCAB, err, errlen, "%s: tokenizer.ggml.tokens has %llu entries (limit %d)", name,
                    (unsigned long long)n, INT32_MAX / 2);
    if (d->scores && d->n_scores != n)
        return fail(SB_TOK_E_VOCAB, err, errlen, "%s: tokenizer.ggml.scores has %llu entries but tokenizer.ggml.tokens has %llu",
                    name, (unsigned long long)d->n_scores, (unsigned long long)n);
    if (d->types && d->n_types != n)
        return fail(SB_TOK_E_VOCAB, err, errlen, "%s: tokenizer.ggml.token_type has %llu entries but tokenizer.ggml.tokens has %llu",
                    name, (unsigned long long)d->n_types, (unsigned long long)n);
    if (d->n_merges && !d->merges) return fail(SB_TOK_E_ARG, err, errlen, "%s: merges count without merges", name);
    if (d->n_merges > (uint64_t)INT32_MAX / 2)
        return fail(SB_TOK_E_VOCAB, err, errlen, "%s: tokenizer.ggml.merges has %llu entries", name, (unsigned long long)d->n_merges);
    if (kind == TOK_BPE && d->n_merges == 0)
        return fail(SB_TOK_E_VOCAB, err, errlen, "%s: tokenizer.ggml.merges missing (required for gpt2)", name);

    sb_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return fail(SB_TOK_E_NOMEM, err, errlen, "%s: out of memory", name);
    int rc = SB_TOK_E_NOMEM;
    t->kind = kind;
    t->n_vocab = (int32_t)n;
    snprintf(t->model_name, sizeof t->model_name, "%s", d->model);
    snprintf(t->pre_name, sizeof t->pre_name, "%s", kind == TOK_SPM ? "default" : d->pre ? d->pre : "default");
    if (kind == TOK_BPE && d->pre && strlen(d->pre) >= sizeof t->pre_name) {
        char p[64];
        show(p, sizeof p, d->pre, strlen(d->pre));
        rc = fail(SB_TOK_E_UNSUPPORTED, err, errlen, "%s: tokenizer.ggml.pre '%s' is not supported", name, p);
        goto out;
    }

    /* ---- token texts ---- */
    size_t total = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (!d->tokens[i]) { rc = fail(SB_TOK_E_ARG, err, errlen, "%s: token %llu is NULL", name, (unsigned long long)i); goto out; }
        size_t l = d->token_lens ? d->token_lens[i] : strlen(d->tokens[i]);
        if (l == 0) l = 32;  /* "[EMPTY_i]" */
        if (l > UINT32_MAX / 2 || __builtin_add_overflow(total, l, &total)) {
            rc = fail(SB_TOK_E_VOCAB, err, errlen, "%s: tokenizer.ggml.tokens: token %llu too long", name, (unsigned long long)i);
            goto out;
        }
    }
    t->text = malloc(total + 1);
    t->off = malloc(sizeof *t->off * n);
    t->len = malloc(sizeof *t->len * n);
    t->score = calloc(n, sizeof *t->score);
    t->attr = malloc(n);
    t->ttype = malloc(n);
    t->is_eog = calloc(n, 1);
    if (!t->text || !t->off || !t->len || !t->score || !t->attr || !t->ttype || !t->is_eog) goto nomem;
    size_t o = 0;
    for (uint64_t i = 0; i < n; i++) {
        size_t l = d->token_lens ? d->token_lens[i] : strlen(d->tokens[i]);
        t->off[i] = o;
        if (l == 0) l = (size_t)snprintf(t->text + o, 32, "[EMPTY_%llu]", (unsigned long long)i);  /* as llama.cpp */
        else memcpy(t->text + o, d->tokens[i], l);
        t->len[i] = (uint32_t)l;
        o += l;
        if (d->scores) t->score[i] = d->scores[i];
    }
    for (uint64_t i = 0; i < n; i++) {
        int ty = d->types ? d->types[i] : SB_TOK_TYPE_NORMAL;
        uint8_t a;
        switch (ty) {
        case SB_TOK_TYPE_NORMAL: a = ATTR_NORMAL; break;
        case SB_TOK_TYPE_UNKNOWN: a = ATTR_UNKNOWN; break;
        case SB_TOK_TYPE_CONTROL: a = ATTR_CONTROL; break;
        case SB_TOK_TYPE_USER_DEFINED: a = ATTR_USER_DEFINED; break;
        case SB_TOK_TYPE_UNUSED: a = ATTR_UNUSED; break;
        case SB_TOK_TYPE_BYTE: a = ATTR_BYTE; break;
        default: a = ATTR_UNDEFINED; ty = SB_TOK_TYPE_UNDEFINED; break;
        }
        t->attr[i] = a;
        t->ttype[i] = (uint8_t)ty;
        if (a == ATTR_BYTE && byte_token_value(t->text + t->off[i], t->len[i]) < 0) {
            char s[64];
            show(s, sizeof s, t->text + t->off[i], t->len[i]);
            rc = fail(SB_TOK_E_VOCAB, err, errlen, "%s: tokenizer.ggml.tokens[%llu] = '%s' has type BYTE but is not of the form <0xNN>",
                      name, (unsigned long long)i, s);
            goto out;
        }
    }
    int32_t dup1 = -1, dup2 = -1;
    rc = build_tok_map(t, &dup1, &dup2);
    if (rc == SB_TOK_E_VOCAB) {
        char s[64];
        show(s, sizeof s, t->text + t->off[dup1], t->len[dup1]);
        rc = fail(SB_TOK_E_VOCAB, err, errlen, "%s: tokenizer.ggml.tokens: '%s' appears twice (ids %d and %d)", name, s, dup1, dup2);
        goto out;
    }
    if (rc) goto nomem;

    /* ---- model defaults (llama.cpp), pre-tokenizer, then the file's keys ---- */
    if (kind == TOK_SPM) {
        t->bos = 1; t->eos = 2; t->unk = 0;
        t->add_bos = 1; t->add_eos = 0; t->add_space_prefix = 1;
    } else {
        t->bos = 11; t->eos = 11; t->unk = -1;
        t->add_bos = 0; t->add_eos = 0; t->add_space_prefix = 0;
    }
    t->pad = t->sep = t->eot = t->eom = -1;
    if (kind == TOK_BPE) {
        rc = pretok_setup(t, err, errlen);
        if (rc) {
            if (err && errlen) {
                char tmp[512];
                snprintf(tmp, sizeof tmp, "%s: %s", name, err);
                snprintf(err, errlen, "%s", tmp);
            }
            goto out;
        }
    }
    int32_t *ids[] = {&t->bos, &t->eos, &t->unk, &t->pad, &t->sep, &t->eot, &t->eom};
    const int64_t given[] = {d->bos, d->eos, d->unk, d->pad, d->sep, d->eot, d->eom};
    static const char *const keys[] = {"bos_token_id", "eos_token_id", "unknown_token_id", "padding_token_id",
                                       "seperator_token_id", "eot_token_id", "eom_token_id"};
    for (int k = 0; k < 7; k++) {
        if (*ids[k] >= t->n_vocab) *ids[k] = -1;  /* a default out of range is disabled */
        if (given[k] == -1) continue;
        if (given[k] < 0 || given[k] >= (int64_t)n) {
            rc = fail(SB_TOK_E_VOCAB, err, errlen, "%s: tokenizer.ggml.%s = %lld is outside the vocabulary (%llu tokens)",
                      name, keys[k], (long long)given[k], (unsigned long long)n);
            goto out;
        }
        *ids[k] = (int32_t)given[k];
    }
    if (d->add_bos >= 0) t->add_bos = d->add_bos != 0;
    if (d->add_eos >= 0) t->add_eos = d->add_eos != 0;
    if (d->add_space_prefix >= 0) t->add_space_prefix = d->add_space_prefix != 0;
    if (t->add_bos && t->bos < 0) {
        rc = fail(SB_TOK_E_VOCAB, err, errlen, "%s: tokenizer.ggml.add_bos_token is true but there is no BOS token", name);
        goto out;
    }
    if (t->add_eos && t->eos < 0) {
        rc = fail(SB_TOK_E_VOCAB, err, errlen, "%s: tokenizer.ggml.add_eos_token is true but there is no EOS token", name);
        goto out;
    }

    /* ---- merges ---- */
    if (kind == TOK_BPE) {
        pair_map *m = &t->merge_map;
        m->cap = pow2_at_least(d->n_merges * 2 + 1);
        m->key = malloc(sizeof *m->key * m->cap);
        m->rank = malloc(sizeof *m->rank * m->cap);
        m->merged = malloc(sizeof *m->merged * m->cap);
        if (!m->key || !m->rank || !m->merged) goto nomem;
        memset(m->key, 0xff, sizeof *m->key * m->cap);
        char *cat = NULL;
        size_t cat_cap = 0;
        for (uint64_t i = 0; i < d->n_merges; i++) {
            const char *s = d->merges[i];
            size_t l = s ? (d->merge_lens ? d->merge_lens[i] : strlen(s)) : 0;
            const char *sp = l > 1 ? memchr(s + 1, ' ', l - 1) : NULL;  /* first space after byte 0 */
            char shown[64];
            show(shown, sizeof shown, s ? s : "", l);
            if (!sp) {
                free(cat);
                rc = fail(SB_TOK_E_VOCAB, err, errlen, "%s: tokenizer.ggml.merges[%llu] = '%s' is not \"left right\"",
                          name, (unsigned long long)i, shown);
                goto out;
            }
            size_t ll = (size_t)(sp - s), rl = l - ll - 1;
            int32_t a = tok_find(t, s, ll), b = tok_find(t, sp + 1, rl);
            if (a < 0 || b < 0) {
                free(cat);
                rc = fail(SB_TOK_E_VOCAB, err, errlen, "%s: tokenizer.ggml.merges[%llu] = '%s' names a token that is not in the vocabulary",
                          name, (unsigned long long)i, shown);
                goto out;
            }
            if (ll + rl > cat_cap) {
                cat_cap = (ll + rl) * 2;
                char *nc = realloc(cat, cat_cap);
                if (!nc) { free(cat); goto nomem; }
                cat = nc;
            }
            memcpy(cat, s, ll);
            memcpy(cat + ll, sp + 1, rl);
            pair_insert(m, a, b, (int32_t)i, tok_find(t, cat, ll + rl));
        }
        free(cat);
        t->n_merges = (int32_t)d->n_merges;
    }

    /* ---- byte tokens ---- */
    for (int b = 0; b < 256; b++) {
        char c = (char)b;
        t->single_tok[b] = tok_find(t, &c, 1);
        if (kind == TOK_SPM) {
            char hex[8];
            snprintf(hex, sizeof hex, "<0x%02X>", b);
            int32_t id = find_cstr(t, hex);
            t->byte_tok[b] = id >= 0 ? id : t->single_tok[b];
        } else {
            char u[4];
            size_t ul = utf8_put(u, bpe_byte_to_cpt((uint8_t)b));  /* U+0021..U+0143: 1 or 2 bytes */
            t->byte_tok[b] = tok_find(t, u, ul);
            memcpy(t->byte_enc[b], u, ul);
            t->byte_enc_len[b] = (uint8_t)ul;
        }
    }

    /* ---- end-of-generation and control tokens detected by text (llama.cpp's lists) ---- */
    if (t->eot < 0)
        for (size_t k = 0; k < sizeof eot_texts / sizeof *eot_texts && t->eot < 0; k++) t->eot = find_cstr(t, eot_texts[k]);
    for (size_t k = 0; k < sizeof eog_texts / sizeof *eog_texts; k++) {
        int32_t id = find_cstr(t, eog_texts[k]);
        if (id >= 0) { t->is_eog[id] = 1; t->attr[id] |= ATTR_CONTROL; }
    }
    for (size_t k = 0; k < sizeof fim_texts / sizeof *fim_texts; k++) {
        int32_t id = find_cstr(t, fim_texts[k]);
        if (id >= 0) t->attr[id] |= ATTR_CONTROL;
    }
    if (t->eot >= 0) { t->is_eog[t->eot] = 1; t->attr[t->eot] |= ATTR_CONTROL; }
    if (t->eos >= 0) t->is_eog[t->eos] = 1;
    if (t->eom >= 0) t->is_eog[t->eom] = 1;

    /* ---- special tokens, longest first: split out of the text before tokenizing ---- */
    int32_t ns = 0;
    for (int32_t i = 0; i < t->n_vocab; i++) ns += (t->attr[i] & (ATTR_CONTROL | ATTR_USER_DEFINED | ATTR_UNKNOWN)) != 0;
    t->special = malloc(sizeof *t->special * (size_t)(ns ? ns : 1));
    if (!t->special) goto nomem;
    for (int32_t i = 0; i < t->n_vocab; i++)
        if (t->attr[i] & (ATTR_CONTROL | ATTR_USER_DEFINED | ATTR_UNKNOWN)) t->special[t->n_special++] = i;
    qsort_r(t->special, (size_t)t->n_special, sizeof *t->special, cmp_special, t);

    /* Phi-3: special tokens swallow the whitespace after them (llama.cpp's per-model attributes). */
    if (d->general_name) {
        char low[256];
        size_t k = 0;
        for (; d->general_name[k] && k + 1 < sizeof low; k++) low[k] = (char)tolower((unsigned char)d->general_name[k]);
        low[k] = 0;
        if (strstr(low, "phi-3") || strstr(low, "phi3")) {
            for (int32_t i = 0; i < t->n_special; i++) t->attr[t->special[i]] |= ATTR_RSTRIP;
            int32_t id = find_cstr(t, "</s>");
            if (id >= 0) t->attr[id] |= ATTR_RSTRIP;
            static const char *const keep[] = {"<unk>", "<s>", "<|endoftext|>"};
            for (int j = 0; j < 3; j++)
                if ((id = find_cstr(t, keep[j])) >= 0) t->attr[id] &= (uint8_t)~ATTR_RSTRIP;
        }
    }

    if (kind == TOK_SPM) {
        t->spm_word_split = 1;
        for (int32_t i = 0; i < t->n_vocab && t->spm_word_split; i++) {
            const char *s = t->text + t->off[i];
            size_t l = t->len[i], k = 0;
            while (k + 3 <= l && memcmp(s + k, "\xe2\x96\x81", 3) == 0) k += 3;
            if (l > k && memmem(s + k, l - k, "\xe2\x96\x81", 3)) t->spm_word_split = 0;
        }
    }
    if (build_pieces(t)) goto nomem;
    *out = t;
    return SB_TOK_OK;

nomem:
    rc = fail(SB_TOK_E_NOMEM, err, errlen, "%s: out of memory while loading the vocabulary", name);
out:
    sb_tok_free(t);
    return rc;
}
