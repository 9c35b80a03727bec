/* Visit everything an opened GGUF handle exposes, touching every byte it points to.
 *
 * Shared by the libFuzzer target (gguf/fuzz/fuzz_gguf.c), its replay test and the sweep tests:
 * after a file is accepted, every getter must work on it and every pointer it hands out must
 * stay inside the file (the sanitizers catch a stray read). Returns a checksum of what it read
 * so the compiler cannot drop the reads, or -1 when an accessor disagrees with the table
 * (a bug in the reader).
 */
#ifndef SB_GGUF_FUZZ_WALK_H
#define SB_GGUF_FUZZ_WALK_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf.h"

static inline uint64_t walk_bytes(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = n;
    for (size_t i = 0; i < n; i++) h = h * 31 + b[i];
    return h;
}

static inline int64_t gguf_walk(const sb_gguf *g)
{
    uint64_t h = sb_gguf_version(g) + sb_gguf_alignment(g) + sb_gguf_data_offset(g);
    for (int64_t i = 0; i < sb_gguf_n_kv(g); i++) {
        const char *key = sb_gguf_kv_key(g, i);
        if (!key || sb_gguf_find_key(g, key) != i) return -1;
        h += walk_bytes(key, strlen(key));
        sb_gguf_vtype t = sb_gguf_kv_type(g, i);
        const char *s;
        size_t len;
        if (t == SB_GGUF_STRING) {
            if (sb_gguf_get_str(g, key, &s, &len, NULL) || sb_gguf_kv_str(g, i, &s, &len)) return -1;
            h += walk_bytes(s, len);
        } else if (t == SB_GGUF_ARRAY && sb_gguf_kv_arr_type(g, i) == SB_GGUF_STRING) {
            uint64_t n;
            if (sb_gguf_get_arr_str_n(g, key, &n, NULL) || n != sb_gguf_kv_arr_n(g, i)) return -1;
            for (uint64_t j = 0; j < n; j++) {
                if (sb_gguf_get_arr_str(g, key, j, &s, &len, NULL)) return -1;
                h += walk_bytes(s, len);
            }
        } else if (t == SB_GGUF_ARRAY) {
            sb_gguf_vtype et;
            uint64_t n;
            const void *d;
            if (sb_gguf_get_arr(g, key, &et, &n, &d, NULL)) return -1;
            for (uint64_t j = 0; j < n; j++) {
                sb_gguf_num v;
                if (sb_gguf_kv_num(g, i, j, &v)) return -1;
                h += v.u;
            }
        } else {
            sb_gguf_num v;
            uint32_t u32;
            int64_t i64;
            float f;
            int b;
            if (sb_gguf_kv_num(g, i, 0, &v)) return -1;
            h += v.u;
            if (!sb_gguf_get_u32(g, key, &u32, NULL)) h += u32;
            if (!sb_gguf_get_i64(g, key, &i64, NULL)) h += (uint64_t)i64;
            if (!sb_gguf_get_f32(g, key, &f, NULL)) h += (uint64_t)(f == f);
            if (!sb_gguf_get_bool(g, key, &b, NULL)) h += (uint64_t)b;
        }
    }
    for (int64_t i = 0; i < sb_gguf_n_tensors(g); i++) {
        const sb_gguf_tensor *t = sb_gguf_tensor_at(g, i);
        if (!t || sb_gguf_find_tensor(g, t->name) != t) return -1;
        if (!t->data || t->size == 0) return -1;
        const uint8_t *d = t->data;
        h += d[0] + d[t->size - 1] + walk_bytes(t->name, strlen(t->name));
    }
    return (int64_t)(h & INT64_MAX);
}

/* 1 when a and b hold the same metadata (keys, types, value bytes, in order) and the same
 * tensors (names, types, shapes, data bytes, in order); version, alignment and offsets may
 * differ. */
static inline int gguf_same_content(const sb_gguf *a, const sb_gguf *b)
{
    if (sb_gguf_n_kv(a) != sb_gguf_n_kv(b) || sb_gguf_n_tensors(a) != sb_gguf_n_tensors(b)) return 0;
    for (int64_t i = 0; i < sb_gguf_n_kv(a); i++) {
        sb_gguf_vtype t = sb_gguf_kv_type(a, i);
        if (strcmp(sb_gguf_kv_key(a, i), sb_gguf_kv_key(b, i)) || t != sb_gguf_kv_type(b, i)) return 0;
        const char *s1, *s2;
        size_t l1, l2;
        if (t == SB_GGUF_STRING) {
            if (sb_gguf_kv_str(a, i, &s1, &l1) || sb_gguf_kv_str(b, i, &s2, &l2)) return 0;
            if (l1 != l2 || memcmp(s1, s2, l1)) return 0;
            continue;
        }
        if (t != SB_GGUF_ARRAY) {
            sb_gguf_num x, y;
            if (sb_gguf_kv_num(a, i, 0, &x) || sb_gguf_kv_num(b, i, 0, &y) || x.u != y.u) return 0;
            if ((t == SB_GGUF_FLOAT32 || t == SB_GGUF_FLOAT64) && memcmp(&x.f, &y.f, sizeof x.f)) return 0;
            continue;
        }
        sb_gguf_vtype et = sb_gguf_kv_arr_type(a, i);
        uint64_t n = sb_gguf_kv_arr_n(a, i);
        if (et != sb_gguf_kv_arr_type(b, i) || n != sb_gguf_kv_arr_n(b, i)) return 0;
        for (uint64_t j = 0; j < n; j++) {
            if (et == SB_GGUF_STRING) {
                if (sb_gguf_kv_arr_str(a, i, j, &s1, &l1) || sb_gguf_kv_arr_str(b, i, j, &s2, &l2)) return 0;
                if (l1 != l2 || memcmp(s1, s2, l1)) return 0;
            } else {
                sb_gguf_num x, y;
                if (sb_gguf_kv_num(a, i, j, &x) || sb_gguf_kv_num(b, i, j, &y) || x.u != y.u) return 0;
                if ((et == SB_GGUF_FLOAT32 || et == SB_GGUF_FLOAT64) && memcmp(&x.f, &y.f, sizeof x.f)) return 0;
            }
        }
    }
    for (int64_t i = 0; i < sb_gguf_n_tensors(a); i++) {
        const sb_gguf_tensor *x = sb_gguf_tensor_at(a, i), *y = sb_gguf_tensor_at(b, i);
        if (strcmp(x->name, y->name) || x->type != y->type || x->n_dims != y->n_dims ||
            memcmp(x->ne, y->ne, sizeof x->ne) || x->size != y->size || memcmp(x->data, y->data, (size_t)x->size))
            return 0;
    }
    return 1;
}

/* Copies an accepted file through the writer (every entry with sb_gguf_set_from, every tensor
 * referenced) and reads the result back: 0 when it opens and has the same content, -1 if not. */
static inline int gguf_rewrite_check(const sb_gguf *g)
{
    sb_gguf_writer *w = sb_gguf_writer_new();
    int rc = w ? 0 : -1;
    for (int64_t i = 0; i < sb_gguf_n_kv(g) && !rc; i++) rc = sb_gguf_set_from(w, g, i);
    for (int64_t i = 0; i < sb_gguf_n_tensors(g) && !rc; i++) {
        const sb_gguf_tensor *t = sb_gguf_tensor_at(g, i);
        rc = sb_gguf_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data, t->size);
    }
    void *buf = NULL;
    size_t size = 0;
    if (!rc) rc = sb_gguf_writer_to_memory(w, &buf, &size, NULL);
    sb_gguf *h = NULL;
    if (!rc) rc = sb_gguf_open_memory(buf, size, "rewrite", &h, NULL);
    if (!rc && (!gguf_same_content(g, h) || sb_gguf_version(h) != 3 || sb_gguf_alignment(h) != sb_gguf_alignment(g)))
        rc = -1;
    sb_gguf_close(h);
    free(buf);
    sb_gguf_writer_free(w);
    return rc ? -1 : 0;
}

#endif
