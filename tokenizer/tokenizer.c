/* Tokenizer front end: loading from GGUF metadata, special-token splitting, encode, decode.
 *
 * Encode follows llama.cpp's llama_vocab::impl::tokenize: special tokens are cut out of the text
 * first (longest first; user-defined tokens always, control/unknown ones only with
 * parse_special), then every remaining text fragment goes through the SPM or BPE algorithm.
 * SPM puts a space in front of a fragment that starts the text or follows a special token
 * (tokenizer.ggml.add_space_prefix, default on).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/internal.h"

/* Largest text encode accepts (bytes): keeps every index in 32 bits with room to spare. */
#define MAX_TEXT ((size_t)512 << 20)

/* ------------------------------------------------------------------------------------------ */
/* loading from GGUF                                                                           */

static int gguf_fail(int code, char *err, size_t errlen, const char *file, const char *key, const char *what)
{
    if (err && errlen) snprintf(err, errlen, "%s: %s: %s", file, key, what);
    return code;
}

/* Reads an optional integer key into *v (-1 stays when absent). -1 and 0xFFFFFFFF (-1 stored as
 * u32, which converters such as llama2.c's write for "no such token") also mean absent. */
static int opt_id(const sb_gguf *g, const char *key, int64_t *v, char *err, size_t errlen)
{
    int64_t x;
    int rc = sb_gguf_get_i64(g, key, &x, NULL);
    if (rc == SB_GGUF_E_NOT_FOUND) return SB_TOK_OK;
    if (rc) return gguf_fail(SB_TOK_E_VOCAB, err, errlen, sb_gguf_path(g), key, "not an integer");
    if (x == -1 || x == (int64_t)UINT32_MAX) return SB_TOK_OK;
    if (x < 0) {
        if (err && errlen) snprintf(err, errlen, "%s: %s = %lld is negative", sb_gguf_path(g), key, (long long)x);
        return SB_TOK_E_VOCAB;
    }
    *v = x;
    return SB_TOK_OK;
}

static int opt_bool(const sb_gguf *g, const char *key, int *v, char *err, size_t errlen)
{
    int x;
    int rc = sb_gguf_get_bool(g, key, &x, NULL);
    if (rc == SB_GGUF_E_NOT_FOUND) return SB_TOK_OK;
    if (rc) return gguf_fail(SB_TOK_E_VOCAB, err, errlen, sb_gguf_path(g), key, "not a bool");
    *v = x != 0;
    return SB_TOK_OK;
}

/* Copies a string key into buf (NUL-terminated); 1 when present, 0 when absent, <0 on error. */
static int opt_str(const sb_gguf *g, const char *key, char *buf, size_t cap)
{
    const char *s;
    size_t n;
    int rc = sb_gguf_get_str(g, key, &s, &n, NULL);
    if (rc == SB_GGUF_E_NOT_FOUND) return 0;
    if (rc) return -1;
    if (n >= cap) n = cap - 1;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (strlen(buf) != n) return -1;  /* embedded NUL */
    return 1;
}

/* Reads a string array into pointer/length arrays (pointers into the file). */
static int read_str_array(const sb_gguf *g, const char *key, const char ***strs, size_t **lens, uint64_t *n,
                          char *err, size_t errlen)
{
    *strs = NULL;
    *lens = NULL;
    *n = 0;
    int rc = sb_gguf_get_arr_str_n(g, key, n, NULL);
    if (rc == SB_GGUF_E_NOT_FOUND) return SB_TOK_OK;
    if (rc) return gguf_fail(SB_TOK_E_VOCAB, err, errlen, sb_gguf_path(g), key, "not an array of strings");
    if (*n == 0) return SB_TOK_OK;
    if (*n > (uint64_t)INT32_MAX) return gguf_fail(SB_TOK_E_VOCAB, err, errlen, sb_gguf_path(g), key, "too many entries");
    *strs = malloc(sizeof **strs * *n);
    *lens = malloc(sizeof **lens * *n);
    if (!*strs || !*lens) return gguf_fail(SB_TOK_E_NOMEM, err, errlen, sb_gguf_path(g), key, "out of memory");
    for (uint64_t i = 0; i < *n; i++)
        if (sb_gguf_get_arr_str(g, key, i, &(*strs)[i], &(*lens)[i], NULL))
            return gguf_fail(SB_TOK_E_VOCAB, err, errlen, sb_gguf_path(g), key, "unreadable entry");
    return SB_TOK_OK;
}

int sb_tok_load_gguf(const sb_gguf *g, sb_tokenizer **out, char *err, size_t errlen)
{
    if (err && errlen) err[0] = 0;
    if (!g || !out) return SB_TOK_E_ARG;
    *out = NULL;
    const char *file = sb_gguf_path(g) ? sb_gguf_path(g) : "(gguf)";
    sb_tok_vocab_desc d;
    sb_tok_vocab_desc_init(&d);
    d.name = file;

    char model[64], pre[128], gname[256];
    int r = opt_str(g, "tokenizer.ggml.model", model, sizeof model);
    if (r <= 0) return gguf_fail(SB_TOK_E_VOCAB, err, errlen, file, "tokenizer.ggml.model", r ? "not a string" : "missing");
    d.model = model;
    r = opt_str(g, "tokenizer.ggml.pre", pre, sizeof pre);
    if (r < 0) return gguf_fail(SB_TOK_E_VOCAB, err, errlen, file, "tokenizer.ggml.pre", "not a string");
    if (r > 0) d.pre = pre;
    if (opt_str(g, "general.name", gname, sizeof gname) > 0) d.general_name = gname;

    const char **tokens = NULL, **merges = NULL;
    size_t *token_lens = NULL, *merge_lens = NULL;
    float *scores = NULL;
    int32_t *types = NULL;
    int rc = read_str_array(g, "tokenizer.ggml.tokens", &tokens, &token_lens, &d.n_tokens, err, errlen);
    if (rc) goto out;
    if (d.n_tokens == 0) { rc = gguf_fail(SB_TOK_E_VOCAB, err, errlen, file, "tokenizer.ggml.tokens", "missing or empty"); goto out; }
    d.tokens = tokens;
    d.token_lens = token_lens;
    rc = read_str_array(g, "tokenizer.ggml.merges", &merges, &merge_lens, &d.n_merges, err, errlen);
    if (rc) goto out;
    d.merges = merges;
    d.merge_lens = merge_lens;

    sb_gguf_vtype et;
    uint64_t n;
    const void *data;
    int grc = sb_gguf_get_arr(g, "tokenizer.ggml.scores", &et, &n, &data, NULL);
    if (grc == SB_GGUF_OK) {
        if (et != SB_GGUF_FLOAT32 && et != SB_GGUF_INT32) {
            rc = gguf_fail(SB_TOK_E_VOCAB, err, errlen, file, "tokenizer.ggml.scores", "not an array of f32 or i32");
            goto out;
        }
        scores = malloc(sizeof *scores * (n ? n : 1));
        if (!scores) { rc = gguf_fail(SB_TOK_E_NOMEM, err, errlen, file, "tokenizer.ggml.scores", "out of memory"); goto out; }
        for (uint64_t i = 0; i < n; i++) {
            if (et == SB_GGUF_FLOAT32) memcpy(&scores[i], (const char *)data + 4 * i, 4);
            else { int32_t v; memcpy(&v, (const char *)data + 4 * i, 4); scores[i] = (float)v; }
        }
        d.scores = scores;
        d.n_scores = n;
    } else if (grc != SB_GGUF_E_NOT_FOUND) {
        rc = gguf_fail(SB_TOK_E_VOCAB, err, errlen, file, "tokenizer.ggml.scores", "not a numeric array");
        goto out;
    }
    grc = sb_gguf_get_arr(g, "tokenizer.ggml.token_type", &et, &n, &data, NULL);
    if (grc == SB_GGUF_OK) {
        if (et != SB_GGUF_INT32 && et != SB_GGUF_UINT32) {
            rc = gguf_fail(SB_TOK_E_VOCAB, err, errlen, file, "tokenizer.ggml.token_type", "not an array of i32");
            goto out;
        }
        types = malloc(sizeof *types * (n ? n : 1));
        if (!types) { rc = gguf_fail(SB_TOK_E_NOMEM, err, errlen, file, "tokenizer.ggml.token_type", "out of memory"); goto out; }
        memcpy(types, data, 4 * n);
        d.types = types;
        d.n_types = n;
    } else if (grc != SB_GGUF_E_NOT_FOUND) {
        rc = gguf_fail(SB_TOK_E_VOCAB, err, errlen, file, "tokenizer.ggml.token_type", "not a numeric array");
        goto out;
    }

    struct { const char *key; int64_t *v; } ids[] = {
        {"tokenizer.ggml.bos_token_id", &d.bos}, {"tokenizer.ggml.eos_token_id", &d.eos},
        {"tokenizer.ggml.unknown_token_id", &d.unk}, {"tokenizer.ggml.padding_token_id", &d.pad},
        {"tokenizer.ggml.seperator_token_id", &d.sep}, {"tokenizer.ggml.eot_token_id", &d.eot},
        {"tokenizer.ggml.eom_token_id", &d.eom},
    };
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
        if ((rc = opt_id(g, ids[i].key, ids[i].v, err, errlen))) goto out;
    /* Other special ids are only checked for range (G18). */
    static const char *const more_ids[] = {
        "tokenizer.ggml.mask_token_id", "tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.fim_suf_token_id",
        "tokenizer.ggml.fim_mid_token_id", "tokenizer.ggml.fim_pad_token_id", "tokenizer.ggml.fim_rep_token_id",
        "tokenizer.ggml.fim_sep_token_id", "tokenizer.ggml.prefix_token_id", "tokenizer.ggml.suffix_token_id",
        "tokenizer.ggml.middle_token_id",
    };
    for (size_t i = 0; i < sizeof more_ids / sizeof *more_ids; i++) {
        int64_t v = -1;
        if ((rc = opt_id(g, more_ids[i], &v, err, errlen))) goto out;
        if (v >= (int64_t)d.n_tokens) {
            if (err && errlen)
                snprintf(err, errlen, "%s: %s = %lld is outside the vocabulary (%llu tokens)", file, more_ids[i],
                         (long long)v, (unsigned long long)d.n_tokens);
            rc = SB_TOK_E_VOCAB;
            goto out;
        }
    }
    if ((rc = opt_bool(g, "tokenizer.ggml.add_bos_token", &d.add_bos, err, errlen))) goto out;
    if ((rc = opt_bool(g, "tokenizer.ggml.add_eos_token", &d.add_eos, err, errlen))) goto out;
    if ((rc = opt_bool(g, "tokenizer.ggml.add_space_prefix", &d.add_space_prefix, err, errlen))) goto out;

    rc = sb_tok_load_desc(&d, out, err, errlen);
out:
    free(tokens); free(token_lens); free(merges); free(merge_lens); free(scores); free(types);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* encode                                                                                      */

/* A piece of the input: a special token (token >= 0) or raw text [start, start + len). */
typedef struct frag { int32_t token; size_t start, len; } frag;
typedef struct frag_vec { frag *v; size_t n, cap; } frag_vec;

static int frag_push(frag_vec *f, int32_t token, size_t start, size_t len)
{
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 16;
        frag *nv = realloc(f->v, nc * sizeof *nv);
        if (!nv) return SB_TOK_E_NOMEM;
        f->v = nv;
        f->cap = nc;
    }
    f->v[f->n].token = token;
    f->v[f->n].start = start;
    f->v[f->n].len = len;
    f->n++;
    return SB_TOK_OK;
}

static int special_active(const sb_tokenizer *t, int32_t id, int parse_special)
{
    return parse_special || !(t->attr[id] & (ATTR_CONTROL | ATTR_UNKNOWN));
}

/* Marks occurs[k] = 1 for each active special token t->special[k] found anywhere in text.
 * Tokens of equal length (t->special is sorted by length) are searched together with a rolling
 * hash, so a vocabulary with thousands of added tokens costs one pass per distinct length. */
static int find_occurring(const sb_tokenizer *t, const char *text, size_t len, int parse_special, uint8_t *occurs)
{
    const uint64_t B = 0x100000001b3ULL;  /* odd multiplier, arithmetic mod 2^64 */
    for (int32_t g0 = 0, g1; g0 < t->n_special; g0 = g1) {
        size_t L = t->len[t->special[g0]];
        int32_t n_active = 0;
        for (g1 = g0; g1 < t->n_special && t->len[t->special[g1]] == L; g1++)
            n_active += special_active(t, t->special[g1], parse_special);
        if (n_active == 0 || L > len) continue;
        if (n_active == 1) {
            for (int32_t k = g0; k < g1; k++)
                if (special_active(t, t->special[k], parse_special))
                    occurs[k] = memmem(text, len, t->text + t->off[t->special[k]], L) != NULL;
            continue;
        }
        /* open-addressing table of the group's hashes -> index k */
        uint32_t cap = 16;
        while (cap < (uint32_t)n_active * 2) cap <<= 1;
        uint64_t *hv = malloc(sizeof *hv * cap);
        int32_t *hk = malloc(sizeof *hk * cap);
        if (!hv || !hk) { free(hv); free(hk); return SB_TOK_E_NOMEM; }
        memset(hk, 0xff, sizeof *hk * cap);
        for (int32_t k = g0; k < g1; k++) {
            if (!special_active(t, t->special[k], parse_special)) continue;
            const unsigned char *s = (const unsigned char *)t->text + t->off[t->special[k]];
            uint64_t h = 0;
            for (size_t i = 0; i < L; i++) h = h * B + s[i];
            uint32_t j = (uint32_t)(h ^ (h >> 29)) & (cap - 1);
            while (hk[j] >= 0) j = (j + 1) & (cap - 1);
            hv[j] = h;
            hk[j] = k;
        }
        uint64_t pw = 1;  /* B^(L-1) */
        for (size_t i = 1; i < L; i++) pw *= B;
        const unsigned char *u = (const unsigned char *)text;
        uint64_t h = 0;
        for (size_t i = 0; i < L; i++) h = h * B + u[i];
        for (size_t p = 0;; p++) {
            for (uint32_t j = (uint32_t)(h ^ (h >> 29)) & (cap - 1); hk[j] >= 0; j = (j + 1) & (cap - 1))
                if (hv[j] == h && !occurs[hk[j]] && memcmp(t->text + t->off[t->special[hk[j]]], text + p, L) == 0)
                    occurs[hk[j]] = 1;
            if (p + L >= len) break;
            h = (h - u[p] * pw) * B + u[p + L];
        }
        free(hv);
        free(hk);
    }
    return SB_TOK_OK;
}

/* Cuts every occurrence of each special token out of the raw fragments, longest token first
 * (llama.cpp's tokenizer_st_partition, including the lstrip/rstrip attributes). Only tokens
 * that occur in the text are searched for fragment by fragment. */
static int partition(const sb_tokenizer *t, const char *text, size_t len, int parse_special, frag_vec *out)
{
    frag_vec cur = {0}, next = {0};
    uint8_t *occurs = NULL;
    if (len && frag_push(&cur, -1, 0, len)) return SB_TOK_E_NOMEM;
    if (len && t->n_special) {
        occurs = calloc((size_t)t->n_special, 1);
        if (!occurs || find_occurring(t, text, len, parse_special, occurs)) goto nomem;
    }
    for (int32_t k = 0; k < t->n_special && cur.n; k++) {
        int32_t id = t->special[k];
        uint8_t a = t->attr[id];
        if (!occurs[k]) continue;
        const char *st = t->text + t->off[id];
        size_t sl = t->len[id];
        next.n = 0;
        for (size_t i = 0; i < cur.n; i++) {
            frag f = cur.v[i];
            if (f.token >= 0) {
                if (frag_push(&next, f.token, 0, 0)) goto nomem;
                continue;
            }
            size_t base = f.start, blen = f.len;
            for (;;) {
                const char *m = blen >= sl ? memmem(text + base, blen, st, sl) : NULL;
                if (!m) break;
                size_t mpos = (size_t)(m - text);
                size_t left = mpos - base;
                if (a & ATTR_LSTRIP)
                    while (left > 0 && isspace((unsigned char)text[base + left - 1])) left--;
                if (left > 0 && frag_push(&next, -1, base, left)) goto nomem;
                if (frag_push(&next, id, 0, 0)) goto nomem;
                size_t rstart = mpos + sl, rlen = base + blen - rstart;
                if (a & ATTR_RSTRIP)
                    while (rlen > 0 && isspace((unsigned char)text[rstart])) { rstart++; rlen--; }
                base = rstart;
                blen = rlen;
            }
            if (blen > 0 && frag_push(&next, -1, base, blen)) goto nomem;
        }
        frag_vec tmp = cur;
        cur = next;
        next = tmp;
    }
    free(next.v);
    free(occurs);
    *out = cur;
    return SB_TOK_OK;
nomem:
    free(cur.v);
    free(next.v);
    free(occurs);
    return SB_TOK_E_NOMEM;
}

/* SPM input for one fragment: optional leading space, every ' ' replaced by U+2581. */
static int spm_fragment(const sb_tokenizer *t, const char *s, size_t n, int prefix, id_vec *out)
{
    size_t spaces = prefix ? 1 : 0;
    for (size_t i = 0; i < n; i++) spaces += s[i] == ' ';
    size_t total = n + (prefix ? 1 : 0) + 2 * spaces;  /* each space grows by 2 bytes */
    char *buf = malloc(total ? total : 1);
    if (!buf) return SB_TOK_E_NOMEM;
    size_t o = 0;
    if (prefix) { memcpy(buf, "\xe2\x96\x81", 3); o = 3; }
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ') { memcpy(buf + o, "\xe2\x96\x81", 3); o += 3; }
        else buf[o++] = s[i];
    }
    int rc = spm_encode(t, buf, o, out);
    free(buf);
    return rc;
}

int sb_tok_encode(const sb_tokenizer *t, const char *text, size_t len, int add_special, int parse_special,
                  int32_t **ids, size_t *n_ids)
{
    if (!t || !ids || !n_ids || (!text && len)) return SB_TOK_E_ARG;
    *ids = NULL;
    *n_ids = 0;
    if (len > MAX_TEXT) return SB_TOK_E_INPUT;
    frag_vec frags = {0};
    id_vec out = {0};
    int rc = partition(t, text, len, parse_special, &frags);
    if (rc) return rc;
    if (add_special && t->add_bos && (rc = id_push(&out, t->bos))) goto fail;
    int prev_special = 1;  /* SPM: the first fragment gets the space prefix */
    for (size_t i = 0; i < frags.n; i++) {
        const frag *f = &frags.v[i];
        if (f->token >= 0) {
            if ((rc = id_push(&out, f->token))) goto fail;
            prev_special = 1;
            continue;
        }
        if (t->kind == TOK_SPM) rc = spm_fragment(t, text + f->start, f->len, t->add_space_prefix && prev_special, &out);
        else rc = bpe_encode(t, text + f->start, f->len, &out);
        if (rc) goto fail;
        prev_special = 0;
    }
    if (add_special && t->add_eos && (rc = id_push(&out, t->eos))) goto fail;
    free(frags.v);
    if (!out.v && !(out.v = malloc(sizeof *out.v))) return SB_TOK_E_NOMEM;  /* never NULL on success */
    *ids = out.v;
    *n_ids = out.n;
    return SB_TOK_OK;
fail:
    free(frags.v);
    free(out.v);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* decode                                                                                      */

int sb_tok_decode(const sb_tokenizer *t, const int32_t *ids, size_t n_ids, int remove_leading_space,
                  int render_special, char **out, size_t *out_len)
{
    if (!t || !out || !out_len || (!ids && n_ids)) return SB_TOK_E_ARG;
    *out = NULL;
    *out_len = 0;
    size_t total = 0;
    for (size_t i = 0; i < n_ids; i++) {
        if (ids[i] < 0 || ids[i] >= t->n_vocab) return SB_TOK_E_INPUT;
        if (__builtin_add_overflow(total, (size_t)t->piece_len[ids[i]], &total)) return SB_TOK_E_NOMEM;
    }
    char *buf = malloc(total + 1);
    if (!buf) return SB_TOK_E_NOMEM;
    int strip = remove_leading_space && t->add_space_prefix;
    size_t o = 0;
    for (size_t i = 0; i < n_ids; i++) {
        int32_t id = ids[i];
        if (!render_special && (t->attr[id] & (ATTR_CONTROL | ATTR_UNKNOWN))) continue;
        const char *p = t->piece + t->piece_off[id];
        size_t l = t->piece_len[id];
        if (l == 0) continue;
        if (strip) {
            if (p[0] == ' ') { p++; l--; }
            strip = 0;
        }
        memcpy(buf + o, p, l);
        o += l;
    }
    buf[o] = 0;
    *out = buf;
    *out_len = o;
    return SB_TOK_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* accessors                                                                                   */

const char *sb_tok_piece(const sb_tokenizer *t, int32_t id, size_t *len)
{
    if (!t || id < 0 || id >= t->n_vocab) return NULL;
    if (len) *len = t->len[id];
    return t->text + t->off[id];
}

int32_t sb_tok_n_vocab(const sb_tokenizer *t) { return t ? t->n_vocab : 0; }
int32_t sb_tok_bos(const sb_tokenizer *t) { return t ? t->bos : -1; }
int32_t sb_tok_eos(const sb_tokenizer *t) { return t ? t->eos : -1; }
int32_t sb_tok_unk(const sb_tokenizer *t) { return t ? t->unk : -1; }
int32_t sb_tok_pad(const sb_tokenizer *t) { return t ? t->pad : -1; }
int32_t sb_tok_eot(const sb_tokenizer *t) { return t ? t->eot : -1; }
int sb_tok_add_bos(const sb_tokenizer *t) { return t ? t->add_bos : 0; }
int sb_tok_add_eos(const sb_tokenizer *t) { return t ? t->add_eos : 0; }
const char *sb_tok_model_name(const sb_tokenizer *t) { return t ? t->model_name : ""; }
const char *sb_tok_pre_name(const sb_tokenizer *t) { return t ? t->pre_name : ""; }

int sb_tok_is_eog(const sb_tokenizer *t, int32_t id)
{
    return t && id >= 0 && id < t->n_vocab && t->is_eog[id];
}

int sb_tok_is_special(const sb_tokenizer *t, int32_t id)
{
    return t && id >= 0 && id < t->n_vocab && (t->attr[id] & (ATTR_CONTROL | ATTR_UNKNOWN)) != 0;
}

int sb_tok_token_type(const sb_tokenizer *t, int32_t id)
{
    return t && id >= 0 && id < t->n_vocab ? t->ttype[id] : -1;
}
