/* GGUF reader: parse and validate a whole file, then answer queries from the parsed tables.
 *
 * The parser walks the file once with a bounds-checked cursor. Every length, count, dimension,
 * offset and size read from the file is checked against the bytes that remain, with
 * overflow-checked arithmetic, before it is used to allocate or to read; the first problem found
 * is reported with its code, the file name, the byte offset of the offending field and a message,
 * and the handle is not created. Allocations are proportional to what the file actually contains
 * (a count is only believed once the bytes left could hold that many minimal entries) and are
 * accounted against a cap.
 *
 * Versions: v2 and v3 (64-bit counts and lengths) and, on purpose, v1 (the August 2023 layout,
 * identical except that counts, string lengths, array lengths and tensor dimensions are 32-bit).
 * Only little-endian files: a byte-swapped version field is recognised and refused by name.
 */
#include "gguf/gguf.h"
#include "gguf/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------ */
/* Internal tables                                                                             */

typedef struct kv {
    char *key;            /* NUL-terminated copy (validated: non-empty UTF-8 without NUL)     */
    uint32_t type;        /* sb_gguf_vtype                                                   */
    uint32_t arr_type;    /* element type for arrays                                         */
    uint64_t arr_n;       /* element count for arrays                                        */
    uint64_t key_off;     /* file offset of the key's length field                           */
    uint64_t val_off;     /* file offset of the value: scalar bytes, string length field, or  */
                          /* (arrays) the first element                                      */
    uint64_t str_len;     /* string values: length in bytes                                  */
    uint64_t *str_offs;   /* string arrays: file offset of each element's length field       */
} kv;

typedef struct tinfo {
    sb_gguf_tensor pub;   /* what callers see; pub.name points at name                       */
    char name[SB_GGUF_MAX_NAME + 1];
    uint64_t info_off;    /* file offset of the tensor's entry in the tensor table           */
    uint64_t offset_off;  /* file offset of its data-offset field                            */
} tinfo;

/* Entry numbers sorted by name (ties by entry number): duplicate detection by comparing
 * neighbours and lookups by binary search, O(n log n) and O(log n) whatever the names are
 * (a hash table could be flooded with crafted colliding names). */
typedef struct str_index {
    int64_t *order;       /* n entry numbers, sorted by name                                  */
    int64_t n;
} str_index;

struct sb_gguf {
    const uint8_t *base;  /* the file's bytes (mapping or caller's buffer)                    */
    uint64_t size;
    void *map;            /* mmap'd region when opened from a path, else NULL                 */
    size_t map_len;
    char *name;           /* path or caller-given name                                       */
    uint32_t version;
    uint32_t len_width;   /* bytes of a count / string length: 4 (v1) or 8                    */
    uint64_t alignment;
    uint64_t data_offset;
    int64_t n_kv;
    kv *kvs;
    int64_t n_tensors;
    tinfo *tensors;
    str_index kv_index, t_index;
    uint64_t alloc_total; /* bytes allocated for this handle, checked against alloc_cap       */
    uint64_t alloc_cap;
};

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                      */

static void set_error(sb_gguf_error *err, int code, const char *file, uint64_t off,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void set_error(sb_gguf_error *err, int code, const char *file, uint64_t off,
                      const char *fmt, ...)
{
    if (!err) return;
    va_list ap;
    err->code = code;
    err->offset = off;
    snprintf(err->file, sizeof err->file, "%s", file ? file : "(memory)");
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

static void clear_error(sb_gguf_error *err)
{
    if (!err) return;
    err->code = SB_GGUF_OK;
    err->offset = 0;
    err->file[0] = 0;
    err->msg[0] = 0;
}

void sb_gguf_error_format(const sb_gguf_error *e, char *buf, size_t len)
{
    if (!buf || len == 0) return;
    if (!e) { snprintf(buf, len, "(no error)"); return; }
    snprintf(buf, len, "%s: at byte %llu: %s", e->file[0] ? e->file : "(memory)",
             (unsigned long long)e->offset, e->msg);
}

/* ------------------------------------------------------------------------------------------ */
/* Little helpers                                                                              */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32); }

static uint64_t rdlen(const sb_gguf *g, uint64_t off)
{
    return g->len_width == 4 ? rd32(g->base + off) : rd64(g->base + off);
}

/* Size in bytes of one scalar of type t; 0 for string, array and invalid types. */
static uint64_t scalar_size(uint32_t t)
{
    switch (t) {
    case SB_GGUF_UINT8: case SB_GGUF_INT8: case SB_GGUF_BOOL: return 1;
    case SB_GGUF_UINT16: case SB_GGUF_INT16: return 2;
    case SB_GGUF_UINT32: case SB_GGUF_INT32: case SB_GGUF_FLOAT32: return 4;
    case SB_GGUF_UINT64: case SB_GGUF_INT64: case SB_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

/* See gguf/internal.h. */
int sb_gguf_valid_utf8_no_nul(const uint8_t *s, uint64_t n)
{
    uint64_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c == 0) return 0;
        if (c < 0x80) { i++; continue; }
        uint64_t k;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) { k = 1; cp = c & 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { k = 2; cp = c & 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { k = 3; cp = c & 0x07; min = 0x10000; }
        else return 0;
        if (k > n - i - 1) return 0;
        for (uint64_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += k + 1;
    }
    return 1;
}

/* Allocation accounted against the handle's cap; NULL when over the cap or out of memory. */
static void *acct_calloc(sb_gguf *g, uint64_t n, uint64_t elem)
{
    uint64_t bytes;
    if (__builtin_mul_overflow(n, elem, &bytes)) return NULL;
    if (bytes == 0) bytes = 1;
    if (bytes > g->alloc_cap || g->alloc_total > g->alloc_cap - bytes) return NULL;
    if (bytes > SIZE_MAX) return NULL;
    void *p = calloc(1, (size_t)bytes);
    if (p) g->alloc_total += bytes;
    return p;
}

/* ------------------------------------------------------------------------------------------ */
/* String index                                                                                */

typedef const char *(*name_of_fn)(const sb_gguf *g, int64_t i);

typedef struct sort_ctx {
    const sb_gguf *g;
    name_of_fn name_of;
} sort_ctx;

static int cmp_names(const void *a, const void *b, void *arg)
{
    const sort_ctx *c = arg;
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    int r = strcmp(c->name_of(c->g, x), c->name_of(c->g, y));
    if (r) return r;
    return x < y ? -1 : x > y;
}

/* Builds the sorted index of n entries. Returns -1 on allocation failure, else the entry
 * number of the earliest (in file order) entry whose name repeats an earlier one, or n when
 * all names are distinct. */
static int64_t index_build(sb_gguf *g, str_index *ix, int64_t n, name_of_fn name_of);

static int64_t index_find(const sb_gguf *g, const str_index *ix, name_of_fn name_of, const char *s)
{
    int64_t lo = 0, hi = ix->n;                          /* search [lo, hi) */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int r = strcmp(s, name_of(g, ix->order[mid]));
        if (r == 0) return ix->order[mid];
        if (r < 0) hi = mid;
        else lo = mid + 1;
    }
    return -1;
}

static const char *kv_name_of(const sb_gguf *g, int64_t i) { return g->kvs[i].key; }
static const char *t_name_of(const sb_gguf *g, int64_t i) { return g->tensors[i].name; }

static int64_t index_build(sb_gguf *g, str_index *ix, int64_t n, name_of_fn name_of)
{
    ix->order = acct_calloc(g, (uint64_t)n, sizeof(int64_t));
    if (!ix->order) return -1;
    for (int64_t i = 0; i < n; i++) ix->order[i] = i;
    sort_ctx c = {g, name_of};
    qsort_r(ix->order, (size_t)n, sizeof(int64_t), cmp_names, &c);
    ix->n = n;
    int64_t dup = n;
    for (int64_t i = 1; i < n; i++)
        if (strcmp(name_of(g, ix->order[i - 1]), name_of(g, ix->order[i])) == 0 && ix->order[i] < dup)
            dup = ix->order[i];                          /* the later of the equal pair */
    return dup;
}

/* ------------------------------------------------------------------------------------------ */
/* Parser                                                                                      */

typedef struct parser {
    sb_gguf *g;
    uint64_t pos;         /* cursor: next byte to read                                       */
    sb_gguf_error *err;
} parser;

#define FAIL(ps, code, off, ...) \
    (set_error((ps)->err, (code), (ps)->g->name, (off), __VA_ARGS__), (code))

static uint64_t left(const parser *ps) { return ps->g->size - ps->pos; }

/* Reads a fixed-size little-endian field of `n` bytes; a short file is "truncated". */
static int take(parser *ps, uint64_t n, const char *what, const uint8_t **p)
{
    if (n > left(ps))
        return FAIL(ps, SB_GGUF_E_TRUNCATED, ps->pos, "file ends inside %s (%llu bytes needed, %llu left)",
                    what, (unsigned long long)n, (unsigned long long)left(ps));
    *p = ps->g->base + ps->pos;
    ps->pos += n;
    return 0;
}

static int take_u32(parser *ps, const char *what, uint32_t *v)
{
    const uint8_t *p;
    int rc = take(ps, 4, what, &p);
    if (!rc) *v = rd32(p);
    return rc;
}

static int take_u64(parser *ps, const char *what, uint64_t *v)
{
    const uint8_t *p;
    int rc = take(ps, 8, what, &p);
    if (!rc) *v = rd64(p);
    return rc;
}

/* A count or string length: 32-bit in v1, 64-bit later. */
static int take_len(parser *ps, const char *what, uint64_t *v)
{
    if (ps->g->len_width == 4) {
        uint32_t x = 0;
        int rc = take_u32(ps, what, &x);
        *v = x;
        return rc;
    }
    return take_u64(ps, what, v);
}

/* Reads a string's length and checks its bytes are present and under `cap`; the bytes are not
 * copied. *off gets the file offset of the length field, *s the first byte. */
static int take_string(parser *ps, const char *what, uint64_t cap, int cap_code,
                       const uint8_t **s, uint64_t *len, uint64_t *off)
{
    *off = ps->pos;
    int rc = take_len(ps, what, len);
    if (rc) return rc;
    if (*len > cap)
        return FAIL(ps, cap_code, *off, "%s length %llu is over the cap of %llu bytes", what,
                    (unsigned long long)*len, (unsigned long long)cap);
    if (*len > left(ps))
        return FAIL(ps, SB_GGUF_E_STRING, *off, "%s length %llu runs past the end of the file (%llu bytes left)",
                    what, (unsigned long long)*len, (unsigned long long)left(ps));
    *s = ps->g->base + ps->pos;
    ps->pos += *len;
    return 0;
}

/* Smallest encodings, used to refuse counts the remaining bytes could not possibly hold. */
static uint64_t min_kv_bytes(const sb_gguf *g)     /* key length + 1 key byte + type + u8 value */
{
    return g->len_width + 1 + 4 + 1;
}
static uint64_t min_tensor_bytes(const sb_gguf *g) /* name length + 1 byte + n_dims + 1 dim + type + offset */
{
    return g->len_width + 1 + 4 + g->len_width + 4 + 8;
}

static int parse_header(parser *ps)
{
    sb_gguf *g = ps->g;
    const uint8_t *p;
    if (g->size < 4)
        return FAIL(ps, SB_GGUF_E_TRUNCATED, 0, "file is %llu bytes, too short for a GGUF header",
                    (unsigned long long)g->size);
    p = g->base;
    if (memcmp(p, "GGUF", 4) != 0) {
        if (memcmp(p, "FUGG", 4) == 0)
            return FAIL(ps, SB_GGUF_E_MAGIC, 0, "magic is 'FUGG', 'GGUF' byte-swapped: a big-endian file; only little-endian GGUF is supported");
        return FAIL(ps, SB_GGUF_E_MAGIC, 0, "bad magic %02x %02x %02x %02x (expected 'GGUF')", p[0], p[1], p[2], p[3]);
    }
    ps->pos = 4;
    uint32_t version;
    int rc = take_u32(ps, "the version", &version);
    if (rc) return rc;
    if (version == 0 || version > 3) {
        uint32_t swapped = __builtin_bswap32(version);
        if (swapped >= 1 && swapped <= 3)
            return FAIL(ps, SB_GGUF_E_VERSION, 4,
                        "version field reads %u little-endian = %u byte-swapped: a big-endian GGUF v%u file; only little-endian files are supported",
                        version, swapped, swapped);
        return FAIL(ps, SB_GGUF_E_VERSION, 4, "unsupported GGUF version %u (supported: 1, 2, 3)", version);
    }
    g->version = version;
    g->len_width = version == 1 ? 4 : 8;

    uint64_t n_tensors, n_kv, off_t_count = ps->pos, off_kv_count;
    if ((rc = take_len(ps, "the tensor count", &n_tensors))) return rc;
    off_kv_count = ps->pos;
    if ((rc = take_len(ps, "the metadata count", &n_kv))) return rc;

    if (n_tensors > SB_GGUF_MAX_TENSORS)
        return FAIL(ps, SB_GGUF_E_COUNT, off_t_count, "tensor count %llu is over the cap of %u",
                    (unsigned long long)n_tensors, (unsigned)SB_GGUF_MAX_TENSORS);
    if (n_kv > SB_GGUF_MAX_KV)
        return FAIL(ps, SB_GGUF_E_COUNT, off_kv_count, "metadata count %llu is over the cap of %u",
                    (unsigned long long)n_kv, (unsigned)SB_GGUF_MAX_KV);
    /* Both counts are capped (< 2^21), so these products cannot overflow. */
    uint64_t need_kv = n_kv * min_kv_bytes(g), need_t = n_tensors * min_tensor_bytes(g);
    if (need_kv > left(ps))
        return FAIL(ps, SB_GGUF_E_COUNT, off_kv_count,
                    "metadata count %llu needs at least %llu bytes, only %llu left in the file",
                    (unsigned long long)n_kv, (unsigned long long)need_kv, (unsigned long long)left(ps));
    if (need_t > left(ps) - need_kv)
        return FAIL(ps, SB_GGUF_E_COUNT, off_t_count,
                    "tensor count %llu needs at least %llu bytes, only %llu left in the file",
                    (unsigned long long)n_tensors, (unsigned long long)(need_t + need_kv),
                    (unsigned long long)left(ps));
    g->n_kv = (int64_t)n_kv;
    g->n_tensors = (int64_t)n_tensors;
    return 0;
}

static int parse_kv(parser *ps, int64_t idx)
{
    sb_gguf *g = ps->g;
    kv *e = &g->kvs[idx];
    const uint8_t *s;
    uint64_t len, off;
    int rc = take_string(ps, "key", SB_GGUF_MAX_KEY, SB_GGUF_E_STRING, &s, &len, &off);
    if (rc) return rc;
    e->key_off = off;
    if (len == 0) return FAIL(ps, SB_GGUF_E_KEY, off, "metadata key %lld is empty", (long long)idx);
    if (!sb_gguf_valid_utf8_no_nul(s, len))
        return FAIL(ps, SB_GGUF_E_KEY, off, "metadata key %lld is not valid UTF-8 (or contains NUL)", (long long)idx);
    e->key = acct_calloc(g, len + 1, 1);
    if (!e->key) return FAIL(ps, SB_GGUF_E_NOMEM, off, "out of memory for a key of %llu bytes", (unsigned long long)len);
    memcpy(e->key, s, (size_t)len);

    uint64_t type_off = ps->pos;
    if ((rc = take_u32(ps, "a value type", &e->type))) return rc;
    if (e->type >= SB_GGUF_VTYPE_COUNT)
        return FAIL(ps, SB_GGUF_E_VALUE_TYPE, type_off, "key '%s': value type %u is out of range (0..%d)",
                    e->key, e->type, SB_GGUF_VTYPE_COUNT - 1);
    e->val_off = ps->pos;

    if (e->type == SB_GGUF_STRING) {
        if ((rc = take_string(ps, "string value", SB_GGUF_MAX_STRING, SB_GGUF_E_STRING, &s, &e->str_len, &off)))
            return rc;
        return 0;
    }
    if (e->type != SB_GGUF_ARRAY) {
        const uint8_t *p;
        return take(ps, scalar_size(e->type), "a metadata value", &p);
    }

    /* Array: element type, count, elements. */
    uint64_t at_off = ps->pos, n_off;
    if ((rc = take_u32(ps, "an array element type", &e->arr_type))) return rc;
    if (e->arr_type == SB_GGUF_ARRAY)
        return FAIL(ps, SB_GGUF_E_VALUE_TYPE, at_off, "key '%s': arrays of arrays are not supported", e->key);
    if (e->arr_type >= SB_GGUF_VTYPE_COUNT)
        return FAIL(ps, SB_GGUF_E_VALUE_TYPE, at_off, "key '%s': array element type %u is out of range (0..%d)",
                    e->key, e->arr_type, SB_GGUF_VTYPE_COUNT - 1);
    n_off = ps->pos;
    if ((rc = take_len(ps, "an array count", &e->arr_n))) return rc;
    e->val_off = ps->pos;
    if (e->arr_type != SB_GGUF_STRING) {
        uint64_t bytes;
        if (__builtin_mul_overflow(e->arr_n, scalar_size(e->arr_type), &bytes))
            return FAIL(ps, SB_GGUF_E_ARRAY, n_off, "key '%s': array of %llu %s overflows", e->key,
                        (unsigned long long)e->arr_n, sb_gguf_vtype_name(e->arr_type));
        if (bytes > left(ps))
            return FAIL(ps, SB_GGUF_E_ARRAY, n_off,
                        "key '%s': array of %llu %s needs %llu bytes, only %llu left in the file",
                        e->key, (unsigned long long)e->arr_n, sb_gguf_vtype_name(e->arr_type),
                        (unsigned long long)bytes, (unsigned long long)left(ps));
        ps->pos += bytes;
        return 0;
    }
    /* String array: each element takes at least its length field. */
    if (e->arr_n > left(ps) / g->len_width)
        return FAIL(ps, SB_GGUF_E_ARRAY, n_off,
                    "key '%s': array of %llu strings needs at least %llu bytes, only %llu left in the file",
                    e->key, (unsigned long long)e->arr_n,
                    (unsigned long long)(e->arr_n > UINT64_MAX / g->len_width ? UINT64_MAX : e->arr_n * g->len_width),
                    (unsigned long long)left(ps));
    e->str_offs = acct_calloc(g, e->arr_n, sizeof(uint64_t));
    if (!e->str_offs)
        return FAIL(ps, SB_GGUF_E_NOMEM, n_off, "key '%s': out of memory (or over the allocation cap) for %llu strings",
                    e->key, (unsigned long long)e->arr_n);
    for (uint64_t i = 0; i < e->arr_n; i++) {
        if ((rc = take_string(ps, "string array element", SB_GGUF_MAX_STRING, SB_GGUF_E_STRING, &s, &len, &off)))
            return rc;
        e->str_offs[i] = off;
    }
    return 0;
}

static int parse_tensor(parser *ps, int64_t idx)
{
    sb_gguf *g = ps->g;
    tinfo *t = &g->tensors[idx];
    const uint8_t *s;
    uint64_t len, off;
    int rc;
    t->info_off = ps->pos;
    if ((rc = take_string(ps, "tensor name", SB_GGUF_MAX_NAME, SB_GGUF_E_NAME, &s, &len, &off))) return rc;
    if (len == 0) return FAIL(ps, SB_GGUF_E_NAME, off, "tensor %lld has an empty name", (long long)idx);
    if (!sb_gguf_valid_utf8_no_nul(s, len))
        return FAIL(ps, SB_GGUF_E_NAME, off, "tensor %lld: name is not valid UTF-8 (or contains NUL)", (long long)idx);
    memcpy(t->name, s, (size_t)len);
    t->name[len] = 0;
    t->pub.name = t->name;

    uint64_t nd_off = ps->pos;
    uint32_t n_dims;
    if ((rc = take_u32(ps, "a tensor's n_dims", &n_dims))) return rc;
    if (n_dims == 0 || n_dims > 4)
        return FAIL(ps, SB_GGUF_E_DIMS, nd_off, "tensor '%s': n_dims %u (must be 1..4)", t->name, n_dims);
    t->pub.n_dims = n_dims;
    int64_t nelem = 1;
    for (int d = 0; d < 4; d++) t->pub.ne[d] = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        uint64_t doff = ps->pos, v;
        if ((rc = take_len(ps, "a tensor dimension", &v))) return rc;
        if (v == 0 || v > (uint64_t)INT64_MAX)
            return FAIL(ps, SB_GGUF_E_SHAPE, doff, "tensor '%s': dimension %u is %lld (must be > 0)", t->name, d,
                        (long long)v);
        t->pub.ne[d] = (int64_t)v;
        if (__builtin_mul_overflow(nelem, (int64_t)v, &nelem))
            return FAIL(ps, SB_GGUF_E_SHAPE, doff, "tensor '%s': element count overflows at dimension %u", t->name, d);
    }
    uint64_t type_off = ps->pos;
    if ((rc = take_u32(ps, "a tensor type", &t->pub.type))) return rc;
    uint32_t be = sb_gguf_type_block_elems(t->pub.type), bb = sb_gguf_type_block_bytes(t->pub.type);
    if (be == 0)
        return FAIL(ps, SB_GGUF_E_TENSOR_TYPE, type_off, "tensor '%s': unknown or unsupported ggml type %u", t->name,
                    t->pub.type);
    if (t->pub.ne[0] % be != 0)
        return FAIL(ps, SB_GGUF_E_SHAPE, t->info_off + g->len_width + len + 4,
                    "tensor '%s': row length %lld is not a multiple of the %s block size %u", t->name,
                    (long long)t->pub.ne[0], sb_gguf_type_name(t->pub.type), be);
    uint64_t size;
    if (__builtin_mul_overflow((uint64_t)nelem / be, (uint64_t)bb, &size))
        return FAIL(ps, SB_GGUF_E_SHAPE, t->info_off, "tensor '%s': byte size overflows", t->name);
    t->pub.size = size;
    t->offset_off = ps->pos;
    if ((rc = take_u64(ps, "a tensor offset", &t->pub.offset))) return rc;
    return 0;
}

static int cmp_by_offset(const void *a, const void *b, void *ctx)
{
    const tinfo *ts = ctx;
    const tinfo *x = &ts[*(const int64_t *)a], *y = &ts[*(const int64_t *)b];
    if (x->pub.offset != y->pub.offset) return x->pub.offset < y->pub.offset ? -1 : 1;
    return 0;
}

/* Alignment from general.alignment (u32, a power of two, 1..SB_GGUF_MAX_ALIGNMENT). */
static int read_alignment(parser *ps)
{
    sb_gguf *g = ps->g;
    g->alignment = SB_GGUF_DEFAULT_ALIGNMENT;
    int64_t i = sb_gguf_find_key(g, "general.alignment");
    if (i < 0) return 0;
    const kv *e = &g->kvs[i];
    if (e->type != SB_GGUF_UINT32)
        return FAIL(ps, SB_GGUF_E_ALIGNMENT, e->key_off, "general.alignment has type %s (must be u32)",
                    sb_gguf_vtype_name(e->type));
    uint32_t a = rd32(g->base + e->val_off);
    if (a == 0 || (a & (a - 1)) != 0)
        return FAIL(ps, SB_GGUF_E_ALIGNMENT, e->val_off, "general.alignment %u is not a power of two", a);
    if (a > SB_GGUF_MAX_ALIGNMENT)
        return FAIL(ps, SB_GGUF_E_ALIGNMENT, e->val_off, "general.alignment %u is over the cap of %u", a,
                    (unsigned)SB_GGUF_MAX_ALIGNMENT);
    g->alignment = a;
    return 0;
}

/* Tensor data: aligned, inside the file, no two tensors overlapping. */
static int check_tensor_data(parser *ps)
{
    sb_gguf *g = ps->g;
    uint64_t data_off;
    /* alignment <= 2^20 and pos <= size, so this cannot overflow for any real size_t buffer */
    if (__builtin_add_overflow(ps->pos, g->alignment - 1, &data_off))
        return FAIL(ps, SB_GGUF_E_BOUNDS, ps->pos, "data section offset overflows");
    data_off -= data_off % g->alignment;
    g->data_offset = data_off;
    if (g->n_tensors == 0) return 0;
    if (data_off > g->size)
        return FAIL(ps, SB_GGUF_E_TRUNCATED, ps->pos, "file ends before the data section at byte %llu",
                    (unsigned long long)data_off);
    uint64_t data_size = g->size - data_off;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        tinfo *t = &g->tensors[i];
        uint64_t end;
        if (t->pub.offset % g->alignment != 0)
            return FAIL(ps, SB_GGUF_E_BOUNDS, t->offset_off, "tensor '%s': data offset %llu is not a multiple of the alignment %llu",
                        t->name, (unsigned long long)t->pub.offset, (unsigned long long)g->alignment);
        if (__builtin_add_overflow(t->pub.offset, t->pub.size, &end))
            return FAIL(ps, SB_GGUF_E_BOUNDS, t->offset_off, "tensor '%s': offset %llu + size %llu overflows",
                        t->name, (unsigned long long)t->pub.offset, (unsigned long long)t->pub.size);
        if (end > data_size)
            return FAIL(ps, SB_GGUF_E_BOUNDS, t->offset_off,
                        "tensor '%s': data [%llu, %llu) of the data section runs past the end of the file (data section is %llu bytes)",
                        t->name, (unsigned long long)t->pub.offset, (unsigned long long)end,
                        (unsigned long long)data_size);
        t->pub.data = g->base + data_off + t->pub.offset;
    }
    int64_t *order = acct_calloc(g, (uint64_t)g->n_tensors, sizeof(int64_t));
    if (!order) return FAIL(ps, SB_GGUF_E_NOMEM, ps->pos, "out of memory for the tensor order");
    for (int64_t i = 0; i < g->n_tensors; i++) order[i] = i;
    qsort_r(order, (size_t)g->n_tensors, sizeof(int64_t), cmp_by_offset, g->tensors);
    int rc = 0;
    for (int64_t i = 1; i < g->n_tensors && !rc; i++) {
        const tinfo *a = &g->tensors[order[i - 1]], *b = &g->tensors[order[i]];
        if (a->pub.offset + a->pub.size > b->pub.offset)
            rc = FAIL(ps, SB_GGUF_E_BOUNDS, b->offset_off, "tensor '%s' at data offset %llu overlaps tensor '%s' [%llu, %llu)",
                      b->name, (unsigned long long)b->pub.offset, a->name, (unsigned long long)a->pub.offset,
                      (unsigned long long)(a->pub.offset + a->pub.size));
    }
    free(order);
    g->alloc_total -= (uint64_t)g->n_tensors * sizeof(int64_t);
    return rc;
}

static int parse_all(parser *ps)
{
    sb_gguf *g = ps->g;
    int rc;
    if ((rc = parse_header(ps))) return rc;
    g->kvs = acct_calloc(g, (uint64_t)g->n_kv, sizeof(kv));
    g->tensors = acct_calloc(g, (uint64_t)g->n_tensors, sizeof(tinfo));
    if (!g->kvs || !g->tensors)
        return FAIL(ps, SB_GGUF_E_NOMEM, 8, "out of memory for %lld keys and %lld tensors", (long long)g->n_kv,
                    (long long)g->n_tensors);
    for (int64_t i = 0; i < g->n_kv; i++)
        if ((rc = parse_kv(ps, i))) return rc;
    int64_t dup = index_build(g, &g->kv_index, g->n_kv, kv_name_of);
    if (dup < 0) return FAIL(ps, SB_GGUF_E_NOMEM, 16, "out of memory for the key index");
    if (dup < g->n_kv)
        return FAIL(ps, SB_GGUF_E_KEY, g->kvs[dup].key_off, "duplicate metadata key '%s'", g->kvs[dup].key);
    if ((rc = read_alignment(ps))) return rc;
    /* Recheck the tensor count against what is left now that the metadata is read. */
    if ((uint64_t)g->n_tensors > left(ps) / min_tensor_bytes(g))
        return FAIL(ps, SB_GGUF_E_COUNT, 8,
                    "tensor count %lld needs at least %llu bytes after the metadata, only %llu left",
                    (long long)g->n_tensors, (unsigned long long)((uint64_t)g->n_tensors * min_tensor_bytes(g)),
                    (unsigned long long)left(ps));
    for (int64_t i = 0; i < g->n_tensors; i++)
        if ((rc = parse_tensor(ps, i))) return rc;
    dup = index_build(g, &g->t_index, g->n_tensors, t_name_of);
    if (dup < 0) return FAIL(ps, SB_GGUF_E_NOMEM, 8, "out of memory for the tensor index");
    if (dup < g->n_tensors)
        return FAIL(ps, SB_GGUF_E_NAME, g->tensors[dup].info_off, "duplicate tensor name '%s'", g->tensors[dup].name);
    return check_tensor_data(ps);
}

/* ------------------------------------------------------------------------------------------ */
/* Open / close                                                                                */

static sb_gguf *new_handle(const char *name, uint64_t size)
{
    sb_gguf *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->name = strdup(name ? name : "(memory)");
    if (!g->name) { free(g); return NULL; }
    /* Everything we allocate is linear in what the file holds (entries are believed only
     * once the bytes for them are present); 16 bytes per file byte + 1 MiB bounds it all. */
    g->alloc_cap = (size > (UINT64_MAX - (1u << 20)) / 16) ? UINT64_MAX : size * 16 + (1u << 20);
    return g;
}

static int open_parsed(sb_gguf *g, sb_gguf **out, sb_gguf_error *err)
{
    parser ps = {g, 0, err};
    int rc = parse_all(&ps);
    if (rc) {
        sb_gguf_close(g);
        *out = NULL;
        return rc;
    }
    clear_error(err);
    *out = g;
    return SB_GGUF_OK;
}

int sb_gguf_open_memory(const void *data, size_t size, const char *name, sb_gguf **out,
                        sb_gguf_error *err)
{
    if (!out || (!data && size)) {
        set_error(err, SB_GGUF_E_ARG, name, 0, "sb_gguf_open_memory: NULL argument");
        return SB_GGUF_E_ARG;
    }
    *out = NULL;
    sb_gguf *g = new_handle(name, size);
    if (!g) { set_error(err, SB_GGUF_E_NOMEM, name, 0, "out of memory"); return SB_GGUF_E_NOMEM; }
    static const uint8_t empty[1] = {0};
    g->base = data ? data : empty;
    g->size = size;
    return open_parsed(g, out, err);
}

int sb_gguf_open(const char *path, sb_gguf **out, sb_gguf_error *err)
{
    if (!out || !path) {
        set_error(err, SB_GGUF_E_ARG, path, 0, "sb_gguf_open: NULL argument");
        return SB_GGUF_E_ARG;
    }
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_error(err, SB_GGUF_E_IO, path, 0, "cannot open: %s", strerror(errno));
        return SB_GGUF_E_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        set_error(err, SB_GGUF_E_IO, path, 0, "cannot stat: %s", strerror(errno));
        close(fd);
        return SB_GGUF_E_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        set_error(err, SB_GGUF_E_IO, path, 0, "not a regular file");
        close(fd);
        return SB_GGUF_E_IO;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size > SIZE_MAX) {
        set_error(err, SB_GGUF_E_IO, path, 0, "file too large to map");
        close(fd);
        return SB_GGUF_E_IO;
    }
    sb_gguf *g = new_handle(path, size);
    if (!g) {
        set_error(err, SB_GGUF_E_NOMEM, path, 0, "out of memory");
        close(fd);
        return SB_GGUF_E_NOMEM;
    }
    static const uint8_t empty[1] = {0};
    g->base = empty;
    if (size > 0) {
        void *m = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            set_error(err, SB_GGUF_E_IO, path, 0, "cannot mmap %llu bytes: %s", (unsigned long long)size,
                      strerror(errno));
            close(fd);
            sb_gguf_close(g);
            return SB_GGUF_E_IO;
        }
        g->map = m;
        g->map_len = (size_t)size;
        g->base = m;
    }
    g->size = size;
    close(fd);
    return open_parsed(g, out, err);
}

void sb_gguf_prefault(const sb_gguf *g)
{
    if (!g || !g->map) return;
    long page = sysconf(_SC_PAGESIZE);
    uint64_t off = g->data_offset;
    if (page <= 0 || off >= g->map_len) return;
    off -= off % (uint64_t)page;
    char *start = (char *)g->map + off;
    size_t len = g->map_len - (size_t)off;
#ifdef MADV_POPULATE_READ
    if (madvise(start, len, MADV_POPULATE_READ) == 0) return;
#endif
    madvise(start, len, MADV_WILLNEED);
}

void sb_gguf_close(sb_gguf *g)
{
    if (!g) return;
    if (g->kvs)
        for (int64_t i = 0; i < g->n_kv; i++) { free(g->kvs[i].key); free(g->kvs[i].str_offs); }
    free(g->kvs);
    free(g->tensors);
    free(g->kv_index.order);
    free(g->t_index.order);
    if (g->map) munmap(g->map, g->map_len);
    free(g->name);
    free(g);
}

/* ------------------------------------------------------------------------------------------ */
/* Queries                                                                                     */

uint32_t sb_gguf_version(const sb_gguf *g) { return g ? g->version : 0; }
const char *sb_gguf_path(const sb_gguf *g) { return g ? g->name : NULL; }
uint64_t sb_gguf_file_size(const sb_gguf *g) { return g ? g->size : 0; }
uint64_t sb_gguf_alignment(const sb_gguf *g) { return g ? g->alignment : 0; }
uint64_t sb_gguf_data_offset(const sb_gguf *g) { return g ? g->data_offset : 0; }
const void *sb_gguf_base(const sb_gguf *g) { return g ? g->base : NULL; }

int64_t sb_gguf_n_kv(const sb_gguf *g) { return g ? g->n_kv : 0; }

int64_t sb_gguf_find_key(const sb_gguf *g, const char *key)
{
    if (!g || !key) return -1;
    return index_find(g, &g->kv_index, kv_name_of, key);
}

static const kv *kv_at(const sb_gguf *g, int64_t i)
{
    if (!g || i < 0 || i >= g->n_kv) return NULL;
    return &g->kvs[i];
}

const char *sb_gguf_kv_key(const sb_gguf *g, int64_t i)
{
    const kv *e = kv_at(g, i);
    return e ? e->key : NULL;
}

sb_gguf_vtype sb_gguf_kv_type(const sb_gguf *g, int64_t i)
{
    const kv *e = kv_at(g, i);
    return e ? (sb_gguf_vtype)e->type : SB_GGUF_VTYPE_COUNT;
}

sb_gguf_vtype sb_gguf_kv_arr_type(const sb_gguf *g, int64_t i)
{
    const kv *e = kv_at(g, i);
    return e && e->type == SB_GGUF_ARRAY ? (sb_gguf_vtype)e->arr_type : SB_GGUF_VTYPE_COUNT;
}

uint64_t sb_gguf_kv_arr_n(const sb_gguf *g, int64_t i)
{
    const kv *e = kv_at(g, i);
    return e && e->type == SB_GGUF_ARRAY ? e->arr_n : 0;
}

uint64_t sb_gguf_kv_offset(const sb_gguf *g, int64_t i)
{
    const kv *e = kv_at(g, i);
    return e ? e->key_off : 0;
}

/* Reads one numeric scalar at p of type t into a signed/unsigned integer or a double. */
typedef struct num {
    int is_int, is_signed, is_float;
    uint64_t u;
    int64_t i;
    double f;
} num;

static num read_num(uint32_t t, const uint8_t *p)
{
    num n = {0};
    switch (t) {
    case SB_GGUF_UINT8: n.is_int = 1; n.u = p[0]; break;
    case SB_GGUF_INT8: n.is_int = n.is_signed = 1; n.i = (int8_t)p[0]; break;
    case SB_GGUF_UINT16: n.is_int = 1; n.u = rd16(p); break;
    case SB_GGUF_INT16: n.is_int = n.is_signed = 1; n.i = (int16_t)rd16(p); break;
    case SB_GGUF_UINT32: n.is_int = 1; n.u = rd32(p); break;
    case SB_GGUF_INT32: n.is_int = n.is_signed = 1; n.i = (int32_t)rd32(p); break;
    case SB_GGUF_UINT64: n.is_int = 1; n.u = rd64(p); break;
    case SB_GGUF_INT64: n.is_int = n.is_signed = 1; n.i = (int64_t)rd64(p); break;
    case SB_GGUF_FLOAT32: { uint32_t b = rd32(p); float f; memcpy(&f, &b, 4); n.is_float = 1; n.f = f; break; }
    case SB_GGUF_FLOAT64: { uint64_t b = rd64(p); double f; memcpy(&f, &b, 8); n.is_float = 1; n.f = f; break; }
    default: break;
    }
    return n;
}

/* Looks up key; fills err and returns NOT_FOUND when absent. */
static int lookup(const sb_gguf *g, const char *key, const kv **e, sb_gguf_error *err)
{
    if (!g || !key) {
        set_error(err, SB_GGUF_E_ARG, g ? g->name : NULL, 0, "NULL argument");
        return SB_GGUF_E_ARG;
    }
    int64_t i = sb_gguf_find_key(g, key);
    if (i < 0) {
        set_error(err, SB_GGUF_E_NOT_FOUND, g->name, 0, "key '%s' not found", key);
        return SB_GGUF_E_NOT_FOUND;
    }
    *e = &g->kvs[i];
    return 0;
}

static int wrong_type(const sb_gguf *g, const kv *e, const char *wanted, sb_gguf_error *err)
{
    if (e->type == SB_GGUF_ARRAY)
        set_error(err, SB_GGUF_E_WRONG_TYPE, g->name, e->key_off, "key '%s' is an array of %s, expected %s",
                  e->key, sb_gguf_vtype_name(e->arr_type), wanted);
    else
        set_error(err, SB_GGUF_E_WRONG_TYPE, g->name, e->key_off, "key '%s' has type %s, expected %s", e->key,
                  sb_gguf_vtype_name(e->type), wanted);
    return SB_GGUF_E_WRONG_TYPE;
}

/* Integer value of key as a signed 128-bit-free pair: fits [lo, hi] checked by the caller. */
static int get_int(const sb_gguf *g, const char *key, num *n, const kv **ep, const char *wanted,
                   sb_gguf_error *err)
{
    const kv *e;
    int rc = lookup(g, key, &e, err);
    if (rc) return rc;
    *ep = e;
    if (e->type == SB_GGUF_STRING || e->type == SB_GGUF_ARRAY || e->type == SB_GGUF_BOOL ||
        e->type == SB_GGUF_FLOAT32 || e->type == SB_GGUF_FLOAT64)
        return wrong_type(g, e, wanted, err);
    *n = read_num(e->type, g->base + e->val_off);
    return 0;
}

int sb_gguf_get_u32(const sb_gguf *g, const char *key, uint32_t *out, sb_gguf_error *err)
{
    num n = {0};
    const kv *e;
    int rc = get_int(g, key, &n, &e, "an integer", err);
    if (rc) return rc;
    if ((n.is_signed && (n.i < 0 || n.i > (int64_t)UINT32_MAX)) || (!n.is_signed && n.u > UINT32_MAX)) {
        set_error(err, SB_GGUF_E_WRONG_TYPE, g->name, e->val_off, "key '%s': value %s%llu does not fit u32", key,
                  n.is_signed && n.i < 0 ? "-" : "",
                  (unsigned long long)(n.is_signed ? (n.i < 0 ? 0 - (uint64_t)n.i : (uint64_t)n.i) : n.u));
        return SB_GGUF_E_WRONG_TYPE;
    }
    *out = n.is_signed ? (uint32_t)n.i : (uint32_t)n.u;
    return 0;
}

int sb_gguf_get_u64(const sb_gguf *g, const char *key, uint64_t *out, sb_gguf_error *err)
{
    num n = {0};
    const kv *e;
    int rc = get_int(g, key, &n, &e, "an integer", err);
    if (rc) return rc;
    if (n.is_signed && n.i < 0) {
        set_error(err, SB_GGUF_E_WRONG_TYPE, g->name, e->val_off, "key '%s': value %lld does not fit u64", key,
                  (long long)n.i);
        return SB_GGUF_E_WRONG_TYPE;
    }
    *out = n.is_signed ? (uint64_t)n.i : n.u;
    return 0;
}

int sb_gguf_get_i64(const sb_gguf *g, const char *key, int64_t *out, sb_gguf_error *err)
{
    num n = {0};
    const kv *e;
    int rc = get_int(g, key, &n, &e, "an integer", err);
    if (rc) return rc;
    if (!n.is_signed && n.u > (uint64_t)INT64_MAX) {
        set_error(err, SB_GGUF_E_WRONG_TYPE, g->name, e->val_off, "key '%s': value %llu does not fit i64", key,
                  (unsigned long long)n.u);
        return SB_GGUF_E_WRONG_TYPE;
    }
    *out = n.is_signed ? n.i : (int64_t)n.u;
    return 0;
}

int sb_gguf_get_f32(const sb_gguf *g, const char *key, float *out, sb_gguf_error *err)
{
    const kv *e;
    int rc = lookup(g, key, &e, err);
    if (rc) return rc;
    if (e->type != SB_GGUF_FLOAT32 && e->type != SB_GGUF_FLOAT64) return wrong_type(g, e, "f32 or f64", err);
    *out = (float)read_num(e->type, g->base + e->val_off).f;
    return 0;
}

int sb_gguf_get_f64(const sb_gguf *g, const char *key, double *out, sb_gguf_error *err)
{
    const kv *e;
    int rc = lookup(g, key, &e, err);
    if (rc) return rc;
    if (e->type != SB_GGUF_FLOAT32 && e->type != SB_GGUF_FLOAT64) return wrong_type(g, e, "f32 or f64", err);
    *out = read_num(e->type, g->base + e->val_off).f;
    return 0;
}

int sb_gguf_get_bool(const sb_gguf *g, const char *key, int *out, sb_gguf_error *err)
{
    const kv *e;
    int rc = lookup(g, key, &e, err);
    if (rc) return rc;
    if (e->type != SB_GGUF_BOOL) return wrong_type(g, e, "bool", err);
    *out = g->base[e->val_off] != 0;
    return 0;
}

int sb_gguf_get_str(const sb_gguf *g, const char *key, const char **s, size_t *len, sb_gguf_error *err)
{
    const kv *e;
    int rc = lookup(g, key, &e, err);
    if (rc) return rc;
    if (e->type != SB_GGUF_STRING) return wrong_type(g, e, "str", err);
    *s = (const char *)g->base + e->val_off + g->len_width;
    *len = (size_t)e->str_len;
    return 0;
}

int sb_gguf_get_arr(const sb_gguf *g, const char *key, sb_gguf_vtype *elem_type, uint64_t *n,
                    const void **data, sb_gguf_error *err)
{
    const kv *e;
    int rc = lookup(g, key, &e, err);
    if (rc) return rc;
    if (e->type != SB_GGUF_ARRAY || e->arr_type == SB_GGUF_STRING)
        return wrong_type(g, e, "a numeric or bool array", err);
    if (elem_type) *elem_type = (sb_gguf_vtype)e->arr_type;
    if (n) *n = e->arr_n;
    if (data) *data = g->base + e->val_off;
    return 0;
}

int sb_gguf_get_arr_str_n(const sb_gguf *g, const char *key, uint64_t *n, sb_gguf_error *err)
{
    const kv *e;
    int rc = lookup(g, key, &e, err);
    if (rc) return rc;
    if (e->type != SB_GGUF_ARRAY || e->arr_type != SB_GGUF_STRING) return wrong_type(g, e, "a string array", err);
    *n = e->arr_n;
    return 0;
}

int sb_gguf_get_arr_str(const sb_gguf *g, const char *key, uint64_t i, const char **s, size_t *len,
                        sb_gguf_error *err)
{
    const kv *e;
    int rc = lookup(g, key, &e, err);
    if (rc) return rc;
    if (e->type != SB_GGUF_ARRAY || e->arr_type != SB_GGUF_STRING) return wrong_type(g, e, "a string array", err);
    if (i >= e->arr_n) {
        set_error(err, SB_GGUF_E_ARG, g->name, e->key_off, "key '%s': index %llu out of range (%llu strings)", key,
                  (unsigned long long)i, (unsigned long long)e->arr_n);
        return SB_GGUF_E_ARG;
    }
    uint64_t off = e->str_offs[i];
    *len = (size_t)rdlen(g, off);
    *s = (const char *)g->base + off + g->len_width;
    return 0;
}

/* Index-based access, for listing every key without knowing its name. */
int sb_gguf_kv_str(const sb_gguf *g, int64_t i, const char **s, size_t *len)
{
    const kv *e = kv_at(g, i);
    if (!e || e->type != SB_GGUF_STRING) return SB_GGUF_E_ARG;
    *s = (const char *)g->base + e->val_off + g->len_width;
    *len = (size_t)e->str_len;
    return 0;
}

int sb_gguf_kv_arr_str(const sb_gguf *g, int64_t i, uint64_t j, const char **s, size_t *len)
{
    const kv *e = kv_at(g, i);
    if (!e || e->type != SB_GGUF_ARRAY || e->arr_type != SB_GGUF_STRING || j >= e->arr_n) return SB_GGUF_E_ARG;
    uint64_t off = e->str_offs[j];
    *len = (size_t)rdlen(g, off);
    *s = (const char *)g->base + off + g->len_width;
    return 0;
}

const void *sb_gguf_kv_data(const sb_gguf *g, int64_t i)
{
    const kv *e = kv_at(g, i);
    if (!e || e->type == SB_GGUF_STRING || (e->type == SB_GGUF_ARRAY && e->arr_type == SB_GGUF_STRING)) return NULL;
    return g->base + e->val_off;
}

int sb_gguf_kv_num(const sb_gguf *g, int64_t i, uint64_t j, sb_gguf_num *out)
{
    const kv *e = kv_at(g, i);
    if (!e || !out) return SB_GGUF_E_ARG;
    uint32_t t = e->type;
    uint64_t off = e->val_off;
    if (t == SB_GGUF_ARRAY) {
        t = e->arr_type;
        if (j >= e->arr_n) return SB_GGUF_E_ARG;
        off += j * scalar_size(t);           /* j < arr_n and arr_n * size was checked */
    } else if (j != 0) {
        return SB_GGUF_E_ARG;
    }
    if (scalar_size(t) == 0) return SB_GGUF_E_WRONG_TYPE;
    num n = read_num(t, g->base + off);
    out->type = (sb_gguf_vtype)t;
    if (t == SB_GGUF_BOOL) { out->u = g->base[off] != 0; out->i = (int64_t)out->u; out->f = (double)out->u; }
    else if (n.is_float) { out->f = n.f; out->i = 0; out->u = 0; }
    else if (n.is_signed) { out->i = n.i; out->u = (uint64_t)n.i; out->f = (double)n.i; }
    else { out->u = n.u; out->i = (int64_t)n.u; out->f = (double)n.u; }
    return 0;
}

int64_t sb_gguf_n_tensors(const sb_gguf *g) { return g ? g->n_tensors : 0; }

const sb_gguf_tensor *sb_gguf_tensor_at(const sb_gguf *g, int64_t i)
{
    if (!g || i < 0 || i >= g->n_tensors) return NULL;
    return &g->tensors[i].pub;
}

const sb_gguf_tensor *sb_gguf_find_tensor(const sb_gguf *g, const char *name)
{
    if (!g || !name) return NULL;
    int64_t i = index_find(g, &g->t_index, t_name_of, name);
    return i < 0 ? NULL : &g->tensors[i].pub;
}

int sb_gguf_tensor_nbytes(uint32_t ggml_type, uint32_t n_dims, const int64_t *ne, uint64_t *out)
{
    uint32_t be = sb_gguf_type_block_elems(ggml_type), bb = sb_gguf_type_block_bytes(ggml_type);
    if (be == 0) return SB_GGUF_E_TENSOR_TYPE;
    if (n_dims == 0 || n_dims > 4 || !ne) return SB_GGUF_E_DIMS;
    int64_t nelem = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        if (ne[d] <= 0 || __builtin_mul_overflow(nelem, ne[d], &nelem)) return SB_GGUF_E_SHAPE;
    }
    if (ne[0] % be != 0) return SB_GGUF_E_SHAPE;
    uint64_t size;
    if (__builtin_mul_overflow((uint64_t)nelem / be, (uint64_t)bb, &size)) return SB_GGUF_E_SHAPE;
    if (out) *out = size;
    return 0;
}
