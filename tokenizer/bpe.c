/* Byte-level BPE ("gpt2" vocabularies).
 *
 * The text is made valid UTF-8 (invalid bytes -> U+FFFD, as llama.cpp does), split into words by
 * the pre-tokenizer, and each word's bytes become symbols whose ids are the tokens of their
 * byte-to-unicode characters. Adjacent symbols are merged lowest merge rank first (leftmost on a
 * tie) through the (left id, right id) -> rank hash map; symbols that end up as no token emit the
 * one-byte tokens of their encoded characters where those exist (llama.cpp's fallback).
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/internal.h"

static int32_t merge_lookup(const pair_map *m, int32_t a, int32_t b, int32_t *merged)
{
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    uint64_t x = key;
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33;
    uint32_t mask = m->cap - 1;
    for (uint32_t i = (uint32_t)x & mask;; i = (i + 1) & mask) {
        if (m->key[i] == key) { *merged = m->merged[i]; return m->rank[i]; }
        if (m->key[i] == UINT64_MAX) return -1;
    }
}

static int try_add(const sb_tokenizer *t, const symbol *sym, int32_t l, int32_t r, bigram_heap *h)
{
    if (l < 0 || r < 0 || sym[l].id < 0 || sym[r].id < 0) return SB_TOK_OK;
    int32_t merged;
    int32_t rank = merge_lookup(&t->merge_map, sym[l].id, sym[r].id, &merged);
    if (rank < 0) return SB_TOK_OK;
    bigram b = {-(int64_t)rank, l, r, sym[l].n + sym[r].n};
    return heap_push(h, b);
}

typedef struct bpe_work {
    symbol *sym;
    size_t sym_cap;
    bigram_heap heap;
    char *enc;        /* encoded word (ignore_merges lookups) */
    size_t enc_cap;
} bpe_work;

static int encode_word(const sb_tokenizer *t, const unsigned char *w, size_t n, bpe_work *wk, id_vec *out)
{
    if (n == 0) return SB_TOK_OK;
    if (t->ignore_merges) {
        /* Llama 3 style: a word that is a token is emitted whole. */
        if (wk->enc_cap < 2 * n) {
            char *ne = realloc(wk->enc, 2 * n);
            if (!ne) return SB_TOK_E_NOMEM;
            wk->enc = ne;
            wk->enc_cap = 2 * n;
        }
        size_t e = 0;
        for (size_t i = 0; i < n; i++) {
            memcpy(wk->enc + e, t->byte_enc[w[i]], t->byte_enc_len[w[i]]);
            e += t->byte_enc_len[w[i]];
        }
        int32_t id = tok_find(t, wk->enc, e);
        if (id >= 0) return id_push(out, id);
    }
    if (wk->sym_cap < n) {
        symbol *ns = realloc(wk->sym, n * sizeof *ns);
        if (!ns) return SB_TOK_E_NOMEM;
        wk->sym = ns;
        wk->sym_cap = n;
    }
    symbol *sym = wk->sym;
    for (size_t i = 0; i < n; i++) {
        sym[i].start = (uint32_t)i;
        sym[i].n = 1;
        sym[i].prev = (int32_t)i - 1;
        sym[i].next = i + 1 == n ? -1 : (int32_t)i + 1;
        sym[i].id = t->byte_tok[w[i]];
    }
    bigram_heap *h = &wk->heap;
    h->n = 0;
    for (size_t i = 1; i < n; i++)
        if (try_add(t, sym, (int32_t)i - 1, (int32_t)i, h)) return SB_TOK_E_NOMEM;
    while (h->n) {
        bigram b = heap_pop(h);
        symbol *L = &sym[b.left], *R = &sym[b.right];
        if (L->n == 0 || R->n == 0 || L->n + R->n != b.size) continue;  /* stale */
        int32_t merged;
        merge_lookup(&t->merge_map, L->id, R->id, &merged);
        L->id = merged;
        L->n += R->n;
        R->n = 0;
        L->next = R->next;
        if (R->next >= 0) sym[R->next].prev = b.left;
        if (try_add(t, sym, L->prev, b.left, h)) return SB_TOK_E_NOMEM;
        if (try_add(t, sym, b.left, L->next, h)) return SB_TOK_E_NOMEM;
    }
    for (int32_t i = 0; i != -1; i = sym[i].next) {
        if (sym[i].id >= 0) {
            if (id_push(out, sym[i].id)) return SB_TOK_E_NOMEM;
            continue;
        }
        for (uint32_t k = 0; k < sym[i].n; k++) {
            unsigned char b = w[sym[i].start + k];
            for (int j = 0; j < t->byte_enc_len[b]; j++) {
                int32_t id = t->single_tok[(unsigned char)t->byte_enc[b][j]];
                if (id >= 0 && id_push(out, id)) return SB_TOK_E_NOMEM;
            }
        }
    }
    return SB_TOK_OK;
}

int bpe_encode(const sb_tokenizer *t, const char *text, size_t len, id_vec *out)
{
    if (len == 0) return SB_TOK_OK;
    if (len > UINT32_MAX / 4) return SB_TOK_E_INPUT;
    char *clean = NULL;
    size_t clean_len = 0;
    span *words = NULL;
    size_t n_words = 0;
    bpe_work wk = {0};
    wcache cache = {0};
    int rc = utf8_sanitize(text, len, &clean, &clean_len);
    if (rc) goto out;
    rc = pretok_split(t, clean, clean_len, &words, &n_words);
    if (rc) goto out;
    if ((rc = wcache_init(&cache, clean_len))) goto out;
    for (size_t i = 0; i < n_words && !rc; i++) {
        const char *w = clean + words[i].start;
        int hit = wcache_emit(&cache, w, words[i].len, out);
        if (hit < 0) { rc = SB_TOK_E_NOMEM; break; }
        if (hit) continue;
        size_t before = out->n;
        rc = encode_word(t, (const unsigned char *)w, words[i].len, &wk, out);
        if (!rc) rc = wcache_put(&cache, w, words[i].len, out->v + before, out->n - before);
    }
out:
    wcache_free(&cache);
    free(clean);
    free(words);
    free(wk.sym);
    free(wk.heap.v);
    free(wk.enc);
    return rc;
}
