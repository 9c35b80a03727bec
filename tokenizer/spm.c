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

/* Length of the UTF-8 sequence a lead byte announces, as llama.cpp counts it (no validation:
 * stray continuation bytes count 1, 0xF8.. count 4; clipped at the end of the text). */
static uint32_t lead_len(unsigned char c)
{
    static const uint8_t lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lookup[c >> 4];
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

int spm_encode(const sb_tokenizer *t, const char *text, size_t len, id_vec *out)
{
    if (len == 0) return SB_TOK_OK;
    if (len > UINT32_MAX / 2) return SB_TOK_E_INPUT;
    symbol *sym = malloc(len * sizeof *sym);
    bigram_heap h = {0};
    int rc = SB_TOK_E_NOMEM;
    if (!sym) goto out;
    int32_t n = 0;
    for (uint32_t o = 0; o < len;) {
        uint32_t l = lead_len((unsigned char)text[o]);
        if (l > len - o) l = (uint32_t)(len - o);
        sym[n].start = o;
        sym[n].n = l;
        sym[n].prev = n - 1;
        o += l;
        sym[n].next = o == len ? -1 : n + 1;
        sym[n].id = -1;
        n++;
    }
    for (int32_t i = 1; i < n; i++)
        if (try_add(t, text, sym, i - 1, i, &h)) goto out;
    while (h.n) {
        bigram b = heap_pop(&h);
        symbol *L = &sym[b.left], *R = &sym[b.right];
        if (L->n == 0 || R->n == 0 || L->n + R->n != b.size) continue;  /* stale */
        L->n += R->n;
        R->n = 0;
        L->next = R->next;
        if (R->next >= 0) sym[R->next].prev = b.left;
        if (try_add(t, text, sym, L->prev, b.left, &h)) goto out;
        if (try_add(t, text, sym, b.left, L->next, &h)) goto out;
    }
    for (int32_t i = 0; i != -1; i = sym[i].next) {
        int32_t id = tok_find(t, text + sym[i].start, sym[i].n);
        if (id >= 0) {
            if (id_push(out, id)) goto out;
            continue;
        }
        for (uint32_t k = 0; k < sym[i].n; k++) {
            int32_t bt = t->byte_tok[(unsigned char)text[sym[i].start + k]];
            if (bt < 0) bt = t->unk;
            if (bt >= 0 && id_push(out, bt)) goto out;
        }
    }
    rc = SB_TOK_OK;
out:
    free(sym);
    free(h.v);
    return rc;
}
