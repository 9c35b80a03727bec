/* SentencePiece BPE ("llama" vocabularies) and the merge queue shared with byte-level BPE.
 *
 * SPM: the text (already prefixed with a space where the model wants one, spaces replaced by
 * U+2581) is split into UTF-8 characters; repeatedly the adjacent pair whose concatenation is a
 * vocabulary token with the highest score is merged (leftmost on a tie); what is left and is no
 * token falls back to <0xNN> byte tokens, else to the unknown token. Candidate merges live in a
 * binary heap; stale entries (a side already merged away) are skipped when popped, so the whole
 * run is O(n log n) in the text length.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/internal.h"

int id_push(id_vec *o, int32_t id)
{
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 256;
        int32_t *nv = realloc(o->v, nc * sizeof *nv);
        if (!nv) return SB_TOK_E_NOMEM;
        o->v = nv;
        o->cap = nc;
    }
    o->v[o->n++] = id;
    return SB_TOK_OK;
}

static int better(const bigram *a, const bigram *b)
{
    return a->key > b->key || (a->key == b->key && a->left < b->left);
}

int heap_push(bigram_heap *h, bigram b)
{
    if (h->n == h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 256;
        bigram *nv = realloc(h->v, nc * sizeof *nv);
        if (!nv) return SB_TOK_E_NOMEM;
        h->v = nv;
        h->cap = nc;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!better(&b, &h->v[p])) break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = b;
    return SB_TOK_OK;
}

bigram heap_pop(bigram_heap *h)
{
    bigram top = h->v[0], last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && better(&h->v[c + 1], &h->v[c])) c++;
        if (!better(&h->v[c], &last)) break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n) h->v[i] = last;
    return top;
}

/* Order-preserving map of a float score to an integer key (larger score -> larger key). */
static int64_t score_key(float s)
{
    if (s == 0.0f) s = 0.0f;  /* -0 ties with +0 */
    uint32_t u;
    memcpy(&u, &s, sizeof u);
    u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    return (int64_t)u;
}

/* Length of the character starting at s[0] (n bytes left): the length its lead byte announces,
 * as llama.cpp counts it (stray continuation bytes 1, 0xF8.. 4), but cut before the first byte
 * that is no continuation byte. llama.cpp does not cut, so an incomplete sequence swallows the
 * next character (a space's U+2581 included) and the text no longer round-trips; for valid UTF-8
 * both agree. */
static uint32_t char_len(const unsigned char *s, size_t n)
{
    static const uint8_t lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    uint32_t l = lookup[s[0] >> 4];
    if (l > n) l = (uint32_t)n;
    for (uint32_t k = 1; k < l; k++)
        if ((s[k] & 0xc0) != 0x80) return k;
    return l;
}

static int try_add(const sb_tokenizer *t, const char *text, const symbol *sym, int32_t l, int32_t r, bigram_heap *h)
{
    if (l < 0 || r < 0) return SB_TOK_OK;
    uint32_t size = sym[l].n + sym[r].n;
    int32_t id = tok_find(t, text + sym[l].start, size);
    if (id < 0) return SB_TOK_OK;
    bigram b = {score_key(t->score[id]), l, r, size};
    return heap_push(h, b);
}

static int is_space_sym(const char *text, const symbol *s)
{
    return s->n == 3 && memcmp(text + s->start, "\xe2\x96\x81", 3) == 0;
}

/* Merges symbols [s0, s1) (already linked among themselves) and appends their ids. */
static int merge_run(const sb_tokenizer *t, const char *text, symbol *sym, int32_t s0, int32_t s1, bigram_heap *h,
                     id_vec *out)
{
    h->n = 0;
    for (int32_t i = s0 + 1; i < s1; i++)
        if (try_add(t, text, sym, i - 1, i, h)) return SB_TOK_E_NOMEM;
    while (h->n) {
        bigram b = heap_pop(h);
        symbol *L = &sym[b.left], *R = &sym[b.right];
        if (L->n == 0 || R->n == 0 || L->n + R->n != b.size) continue;  /* stale */
        L->n += R->n;
        R->n = 0;
        L->next = R->next;
        if (R->next >= 0) sym[R->next].prev = b.left;
        if (try_add(t, text, sym, L->prev, b.left, h)) return SB_TOK_E_NOMEM;
        if (try_add(t, text, sym, b.left, L->next, h)) return SB_TOK_E_NOMEM;
    }
    for (int32_t i = s0; i != -1; i = sym[i].next) {
        int32_t id = tok_find(t, text + sym[i].start, sym[i].n);
        if (id >= 0) {
            if (id_push(out, id)) return SB_TOK_E_NOMEM;
            continue;
        }
        for (uint32_t k = 0; k < sym[i].n; k++) {
            int32_t bt = t->byte_tok[(unsigned char)text[sym[i].start + k]];
            if (bt < 0) bt = t->unk;
            if (bt >= 0 && id_push(out, bt)) return SB_TOK_E_NOMEM;
        }
    }
    return SB_TOK_OK;
}

int spm_encode(const sb_tokenizer *t, const char *text, size_t len, id_vec *out)
{
    if (len == 0) return SB_TOK_OK;
    if (len > UINT32_MAX / 2) return SB_TOK_E_INPUT;
    symbol *sym = malloc(len * sizeof *sym);
    bigram_heap h = {0};
    wcache cache = {0};
    int rc = SB_TOK_E_NOMEM;
    if (!sym) goto out;
    int32_t n = 0;
    for (uint32_t o = 0; o < len;) {
        uint32_t l = char_len((const unsigned char *)text + o, len - o);
        sym[n].start = o;
        sym[n].n = l;
        sym[n].id = -1;
        o += l;
        n++;
    }
    /* Runs of symbols that can be merged independently: with spm_word_split, a run ends before
     * a U+2581 that follows another character; otherwise the whole text is one run. */
    if (t->spm_word_split && (rc = wcache_init(&cache, len))) goto out;
    int32_t s0 = 0;
    for (int32_t i = 0; i <= n; i++) {
        int cut = i == n || (i > s0 && t->spm_word_split && is_space_sym(text, &sym[i]) && !is_space_sym(text, &sym[i - 1]));
        if (!cut) continue;
        const char *word = text + sym[s0].start;
        size_t wlen = (i == n ? len : sym[i].start) - sym[s0].start;
        int hit = t->spm_word_split ? wcache_emit(&cache, word, wlen, out) : 0;
        if (hit < 0) { rc = SB_TOK_E_NOMEM; goto out; }
        if (!hit) {
            size_t before = out->n;
            for (int32_t k = s0; k < i; k++) {
                sym[k].prev = k == s0 ? -1 : k - 1;
                sym[k].next = k + 1 == i ? -1 : k + 1;
            }
            if ((rc = merge_run(t, text, sym, s0, i, &h, out))) goto out;
            if (t->spm_word_split && (rc = wcache_put(&cache, word, wlen, out->v + before, out->n - before))) goto out;
        }
        s0 = i;
    }
    rc = SB_TOK_OK;
out:
    free(sym);
    free(h.v);
    wcache_free(&cache);
    return rc;
}
