/* Per-call cache of word -> token ids for the merge algorithms.
 *
 * Natural text repeats words, and a word's tokens depend only on its bytes (a BPE pre-tokenized
 * word, an SPM run between word starts), so each distinct word is merged once per encode call.
 * Keys point into the caller's text buffer, which outlives the cache. The table has a fixed
 * capacity sized from the text length; once half full, new words are no longer added.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/internal.h"

int wcache_init(wcache *c, size_t text_len)
{
    memset(c, 0, sizeof *c);
    uint32_t cap = 64;
    while (cap < 65536 && cap < text_len / 4) cap <<= 1;
    c->cap = cap;
    c->slot = malloc(sizeof *c->slot * cap);
    if (!c->slot) return SB_TOK_E_NOMEM;
    for (uint32_t i = 0; i < cap; i++) c->slot[i].key = NULL;
    return SB_TOK_OK;
}

void wcache_free(wcache *c)
{
    free(c->slot);
    free(c->ids.v);
    memset(c, 0, sizeof *c);
}

/* Appends the cached ids of s[0..n) to out; 1 when found, 0 when not, <0 on error. */
int wcache_emit(const wcache *c, const char *s, size_t n, id_vec *out)
{
    uint32_t h = tok_hash(s, n), mask = c->cap - 1;
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        const wslot *e = &c->slot[i];
        if (!e->key) return 0;
        if (e->hash == h && e->len == n && memcmp(e->key, s, n) == 0) {
            for (uint32_t k = 0; k < e->count; k++)
                if (id_push(out, c->ids.v[e->first + k])) return -1;
            return 1;
        }
    }
}

/* Remembers that s[0..n) encodes to ids[0..count). Silently skipped when the table is half full. */
int wcache_put(wcache *c, const char *s, size_t n, const int32_t *ids, size_t count)
{
    if (c->used * 2 >= c->cap || n > UINT32_MAX || count > UINT32_MAX || c->ids.n > UINT32_MAX - count) return SB_TOK_OK;
    uint32_t h = tok_hash(s, n), mask = c->cap - 1;
    uint32_t i = h & mask;
    while (c->slot[i].key) i = (i + 1) & mask;
    uint32_t first = (uint32_t)c->ids.n;
    for (size_t k = 0; k < count; k++)
        if (id_push(&c->ids, ids[k])) return SB_TOK_E_NOMEM;
    wslot *e = &c->slot[i];
    e->key = s;
    e->len = (uint32_t)n;
    e->hash = h;
    e->first = first;
    e->count = (uint32_t)count;
    c->used++;
    return SB_TOK_OK;
}
