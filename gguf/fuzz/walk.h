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

#endif
