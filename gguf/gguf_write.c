/* GGUF v3 writer: collect metadata and tensors, then emit the file in one pass.
 *
 * Metadata values are serialized when set (the bytes that follow the value-type field in the
 * file), so emitting is a plain concatenation. Tensor data is referenced, not copied, and is
 * streamed to the file at write time. Layout: header, metadata in insertion order (a replaced
 * key keeps its place), tensor table in insertion order, padding to the alignment, then each
 * tensor's data padded to the alignment (as ggml writes it). The alignment is 32 unless the
 * caller sets general.alignment (u32, a power of two).
 */
#include "gguf/gguf.h"
#include "gguf/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct wkv {
    char *key;
    uint32_t type;        /* sb_gguf_vtype                                                   */
    uint8_t *val;         /* serialized value: the bytes after the type field in the file    */
    size_t val_len;
} wkv;

typedef struct wtensor {
    char name[SB_GGUF_MAX_NAME + 1];
    uint32_t type, n_dims;
    int64_t ne[4];
    const void *data;     /* caller's bytes, `size` of them                                  */
    uint64_t size;
} wtensor;

struct sb_gguf_writer {
    wkv *kvs;
    size_t n_kv, cap_kv;
    wtensor *ts;
    size_t n_t, cap_t;
    uint64_t data_bytes;  /* sum of tensor sizes, each padded to SB_GGUF_MAX_ALIGNMENT: an  */
                          /* upper bound on the data section that must not overflow          */
};

sb_gguf_writer *sb_gguf_writer_new(void)
{
    return calloc(1, sizeof(sb_gguf_writer));
}

void sb_gguf_writer_free(sb_gguf_writer *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) { free(w->kvs[i].key); free(w->kvs[i].val); }
    free(w->kvs);
    free(w->ts);
    free(w);
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Stores key → (type, serialized value), taking ownership of val. */
static int set_kv(sb_gguf_writer *w, const char *key, uint32_t type, uint8_t *val, size_t val_len)
{
    if (!w || !key) { free(val); return SB_GGUF_E_ARG; }
    size_t kl = strlen(key);
    if (kl == 0 || kl > SB_GGUF_MAX_KEY || !sb_gguf_valid_utf8_no_nul((const uint8_t *)key, kl)) { free(val); return SB_GGUF_E_KEY; }
    for (size_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kvs[i].key, key) == 0) {
            free(w->kvs[i].val);
            w->kvs[i].type = type;
            w->kvs[i].val = val;
            w->kvs[i].val_len = val_len;
            return 0;
        }
    }
    if (w->n_kv >= SB_GGUF_MAX_KV) { free(val); return SB_GGUF_E_COUNT; }
    if (w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? w->cap_kv * 2 : 16;
        wkv *n = realloc(w->kvs, cap * sizeof *n);
        if (!n) { free(val); return SB_GGUF_E_NOMEM; }
        w->kvs = n;
        w->cap_kv = cap;
    }
    char *k = strdup(key);
    if (!k) { free(val); return SB_GGUF_E_NOMEM; }
    w->kvs[w->n_kv++] = (wkv){k, type, val, val_len};
    return 0;
}

static int set_scalar(sb_gguf_writer *w, const char *key, uint32_t type, uint64_t bits, int n)
{
    uint8_t *v = malloc((size_t)n);
    if (!v) return SB_GGUF_E_NOMEM;
    put_le(v, bits, n);
    return set_kv(w, key, type, v, (size_t)n);
}

int sb_gguf_set_u8(sb_gguf_writer *w, const char *key, uint8_t v) { return set_scalar(w, key, SB_GGUF_UINT8, v, 1); }
int sb_gguf_set_i8(sb_gguf_writer *w, const char *key, int8_t v) { return set_scalar(w, key, SB_GGUF_INT8, (uint8_t)v, 1); }
int sb_gguf_set_u16(sb_gguf_writer *w, const char *key, uint16_t v) { return set_scalar(w, key, SB_GGUF_UINT16, v, 2); }
int sb_gguf_set_i16(sb_gguf_writer *w, const char *key, int16_t v) { return set_scalar(w, key, SB_GGUF_INT16, (uint16_t)v, 2); }
int sb_gguf_set_u32(sb_gguf_writer *w, const char *key, uint32_t v) { return set_scalar(w, key, SB_GGUF_UINT32, v, 4); }
int sb_gguf_set_i32(sb_gguf_writer *w, const char *key, int32_t v) { return set_scalar(w, key, SB_GGUF_INT32, (uint32_t)v, 4); }
int sb_gguf_set_u64(sb_gguf_writer *w, const char *key, uint64_t v) { return set_scalar(w, key, SB_GGUF_UINT64, v, 8); }
int sb_gguf_set_i64(sb_gguf_writer *w, const char *key, int64_t v) { return set_scalar(w, key, SB_GGUF_INT64, (uint64_t)v, 8); }
int sb_gguf_set_bool(sb_gguf_writer *w, const char *key, int v) { return set_scalar(w, key, SB_GGUF_BOOL, v != 0, 1); }

int sb_gguf_set_f32(sb_gguf_writer *w, const char *key, float v)
{
    uint32_t b;
    memcpy(&b, &v, 4);
    return set_scalar(w, key, SB_GGUF_FLOAT32, b, 4);
}

int sb_gguf_set_f64(sb_gguf_writer *w, const char *key, double v)
{
    uint64_t b;
    memcpy(&b, &v, 8);
    return set_scalar(w, key, SB_GGUF_FLOAT64, b, 8);
}

int sb_gguf_set_str(sb_gguf_writer *w, const char *key, const char *v)
{
    if (!v) return SB_GGUF_E_ARG;
    return sb_gguf_set_strn(w, key, v, strlen(v));
}

int sb_gguf_set_strn(sb_gguf_writer *w, const char *key, const char *v, size_t n)
{
    if (!v && n) return SB_GGUF_E_ARG;
    if (n > SB_GGUF_MAX_STRING) return SB_GGUF_E_STRING;
    uint8_t *b = malloc(8 + n);
    if (!b) return SB_GGUF_E_NOMEM;
    put_le(b, n, 8);
    if (n) memcpy(b + 8, v, n);
    return set_kv(w, key, SB_GGUF_STRING, b, 8 + n);
}

static size_t elem_size(sb_gguf_vtype t)
{
    switch (t) {
    case SB_GGUF_UINT8: case SB_GGUF_INT8: case SB_GGUF_BOOL: return 1;
    case SB_GGUF_UINT16: case SB_GGUF_INT16: return 2;
    case SB_GGUF_UINT32: case SB_GGUF_INT32: case SB_GGUF_FLOAT32: return 4;
    case SB_GGUF_UINT64: case SB_GGUF_INT64: case SB_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

int sb_gguf_set_arr(sb_gguf_writer *w, const char *key, sb_gguf_vtype elem_type, const void *data, uint64_t n)
{
    size_t es = elem_size(elem_type), bytes, total;
    if (es == 0 || (!data && n)) return SB_GGUF_E_ARG;
    if (__builtin_mul_overflow(n, es, &bytes) || __builtin_add_overflow(bytes, (size_t)12, &total))
        return SB_GGUF_E_ARRAY;
    uint8_t *b = malloc(total);
    if (!b) return SB_GGUF_E_NOMEM;
    put_le(b, (uint32_t)elem_type, 4);
    put_le(b + 4, n, 8);
    if (bytes) memcpy(b + 12, data, bytes);
    return set_kv(w, key, SB_GGUF_ARRAY, b, total);
}

int sb_gguf_set_arr_str(sb_gguf_writer *w, const char *key, const char *const *strs, uint64_t n)
{
    return sb_gguf_set_arr_strn(w, key, strs, NULL, n);
}

int sb_gguf_set_arr_strn(sb_gguf_writer *w, const char *key, const char *const *strs, const size_t *lens,
                         uint64_t n)
{
    if (!strs && n) return SB_GGUF_E_ARG;
    size_t total = 12;
    for (uint64_t i = 0; i < n; i++) {
        size_t l = lens ? lens[i] : (strs[i] ? strlen(strs[i]) : 0);
        if (!strs[i] && l) return SB_GGUF_E_ARG;
        if (!lens && !strs[i]) return SB_GGUF_E_ARG;
        if (l > SB_GGUF_MAX_STRING) return SB_GGUF_E_STRING;
        if (__builtin_add_overflow(total, l + 8, &total)) return SB_GGUF_E_ARRAY;
    }
    uint8_t *b = malloc(total), *p = b;
    if (!b) return SB_GGUF_E_NOMEM;
    put_le(p, SB_GGUF_STRING, 4);
    put_le(p + 4, n, 8);
    p += 12;
    for (uint64_t i = 0; i < n; i++) {
        size_t l = lens ? lens[i] : strlen(strs[i]);
        put_le(p, l, 8);
        if (l) memcpy(p + 8, strs[i], l);
        p += 8 + l;
    }
    return set_kv(w, key, SB_GGUF_ARRAY, b, total);
}

int sb_gguf_set_from(sb_gguf_writer *w, const sb_gguf *g, int64_t i)
{
    const char *key = sb_gguf_kv_key(g, i);
    if (!w || !key) return SB_GGUF_E_ARG;
    sb_gguf_vtype t = sb_gguf_kv_type(g, i);
    const char *s;
    size_t len;
    if (t == SB_GGUF_STRING) {
        if (sb_gguf_kv_str(g, i, &s, &len)) return SB_GGUF_E_ARG;
        return sb_gguf_set_strn(w, key, s, len);
    }
    if (t != SB_GGUF_ARRAY) {
        const uint8_t *p = sb_gguf_kv_data(g, i);
        size_t es = elem_size(t);
        if (!p || !es) return SB_GGUF_E_ARG;
        uint64_t bits = 0;
        for (size_t k = 0; k < es; k++) bits |= (uint64_t)p[k] << (8 * k);
        return set_scalar(w, key, t, bits, (int)es);
    }
    sb_gguf_vtype et = sb_gguf_kv_arr_type(g, i);
    uint64_t n = sb_gguf_kv_arr_n(g, i);
    if (et != SB_GGUF_STRING) return sb_gguf_set_arr(w, key, et, sb_gguf_kv_data(g, i), n);
    /* n strings are backed by at least n length fields in the file, so n fits a size_t. */
    if (n > SIZE_MAX / sizeof(char *)) return SB_GGUF_E_NOMEM;
    const char **strs = malloc((n ? n : 1) * sizeof *strs);
    size_t *lens = malloc((n ? n : 1) * sizeof *lens);
    int rc = 0;
    if (!strs || !lens) rc = SB_GGUF_E_NOMEM;
    for (uint64_t j = 0; j < n && !rc; j++)
        if (sb_gguf_kv_arr_str(g, i, j, &strs[j], &lens[j])) rc = SB_GGUF_E_ARG;
    if (!rc) rc = sb_gguf_set_arr_strn(w, key, strs, lens, n);
    free(strs);
    free(lens);
    return rc;
}

int sb_gguf_add_tensor(sb_gguf_writer *w, const char *name, uint32_t ggml_type, uint32_t n_dims,
                       const int64_t *ne, const void *data, uint64_t size)
{
    if (!w || !name || !ne) return SB_GGUF_E_ARG;
    size_t nl = strlen(name);
    if (nl == 0 || nl > SB_GGUF_MAX_NAME || !sb_gguf_valid_utf8_no_nul((const uint8_t *)name, nl)) return SB_GGUF_E_NAME;
    for (size_t i = 0; i < w->n_t; i++)
        if (strcmp(w->ts[i].name, name) == 0) return SB_GGUF_E_NAME;
    uint64_t want;
    int rc = sb_gguf_tensor_nbytes(ggml_type, n_dims, ne, &want);
    if (rc) return rc;
    if (want != size) return SB_GGUF_E_SHAPE;
    if (!data) return SB_GGUF_E_ARG;
    if (w->n_t >= SB_GGUF_MAX_TENSORS) return SB_GGUF_E_COUNT;
    uint64_t padded, total;
    if (__builtin_add_overflow(size, (uint64_t)SB_GGUF_MAX_ALIGNMENT, &padded) ||
        __builtin_add_overflow(w->data_bytes, padded, &total))
        return SB_GGUF_E_SHAPE;
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? w->cap_t * 2 : 16;
        wtensor *n = realloc(w->ts, cap * sizeof *n);
        if (!n) return SB_GGUF_E_NOMEM;
        w->ts = n;
        w->cap_t = cap;
    }
    wtensor *t = &w->ts[w->n_t++];
    memset(t, 0, sizeof *t);
    memcpy(t->name, name, nl);
    t->type = ggml_type;
    t->n_dims = n_dims;
    for (int d = 0; d < 4; d++) t->ne[d] = d < (int)n_dims ? ne[d] : 1;
    t->data = data;
    t->size = size;
    w->data_bytes = total;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Emitting                                                                                    */

/* A byte sink: counting only (buf NULL, fd < 0), into a buffer, or buffered into a file. */
typedef struct sink {
    uint8_t *buf;         /* destination buffer (memory mode) or staging buffer (file mode)  */
    size_t cap, len;      /* memory mode: capacity and bytes written; file mode: staged      */
    int fd;
    uint64_t total;       /* bytes emitted so far                                            */
    int err_no;           /* first write error                                               */
} sink;

static void sink_flush(sink *s)
{
    size_t done = 0;
    while (done < s->len && !s->err_no) {
        ssize_t r = write(s->fd, s->buf + done, s->len - done);
        if (r < 0) { if (errno == EINTR) continue; s->err_no = errno; break; }
        done += (size_t)r;
    }
    s->len = 0;
}

static void put(sink *s, const void *p, uint64_t n)
{
    const uint8_t *src = p;
    s->total += n;
    if (s->err_no || n == 0) return;
    if (s->fd < 0) {
        if (!s->buf) return;                       /* counting pass */
        if (n > s->cap - s->len) { s->err_no = EOVERFLOW; return; }
        memcpy(s->buf + s->len, src, (size_t)n);
        s->len += (size_t)n;
        return;
    }
    while (n > 0 && !s->err_no) {
        size_t chunk = s->cap - s->len;
        if (chunk > n) chunk = (size_t)n;
        memcpy(s->buf + s->len, src, chunk);
        s->len += chunk;
        src += chunk;
        n -= chunk;
        if (s->len == s->cap) sink_flush(s);
    }
}

static void put_uint(sink *s, uint64_t v, int n)
{
    uint8_t b[8];
    put_le(b, v, n);
    put(s, b, (uint64_t)n);
}

static void put_zeros(sink *s, uint64_t n)
{
    static const uint8_t zeros[64];
    while (n > 0) {
        uint64_t k = n < sizeof zeros ? n : sizeof zeros;
        put(s, zeros, k);
        n -= k;
    }
}

/* Alignment the file will use: general.alignment when set (must be a valid u32), else 32. */
static int writer_alignment(const sb_gguf_writer *w, uint64_t *align, sb_gguf_error *err, const char *name)
{
    *align = SB_GGUF_DEFAULT_ALIGNMENT;
    for (size_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kvs[i].key, "general.alignment") != 0) continue;
        uint32_t a = 0;
        if (w->kvs[i].type == SB_GGUF_UINT32) {
            const uint8_t *p = w->kvs[i].val;
            a = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
        }
        if (w->kvs[i].type != SB_GGUF_UINT32 || a == 0 || (a & (a - 1)) || a > SB_GGUF_MAX_ALIGNMENT) {
            if (err) {
                err->code = SB_GGUF_E_ALIGNMENT;
                err->offset = 0;
                snprintf(err->file, sizeof err->file, "%s", name);
                snprintf(err->msg, sizeof err->msg, "general.alignment must be a u32 power of two <= %u",
                         (unsigned)SB_GGUF_MAX_ALIGNMENT);
            }
            return SB_GGUF_E_ALIGNMENT;
        }
        *align = a;
    }
    return 0;
}

static uint64_t pad_to(uint64_t x, uint64_t a) { return (a - x % a) % a; }

/* Emits the whole file into s. Sizes were validated when tensors were added; the running
 * total is a uint64 and cannot overflow for anything that fits in memory. */
static void emit(const sb_gguf_writer *w, uint64_t align, sink *s)
{
    put(s, "GGUF", 4);
    put_uint(s, 3, 4);
    put_uint(s, w->n_t, 8);
    put_uint(s, w->n_kv, 8);
    for (size_t i = 0; i < w->n_kv; i++) {
        size_t kl = strlen(w->kvs[i].key);
        put_uint(s, kl, 8);
        put(s, w->kvs[i].key, kl);
        put_uint(s, w->kvs[i].type, 4);
        put(s, w->kvs[i].val, w->kvs[i].val_len);
    }
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->ts[i];
        size_t nl = strlen(t->name);
        put_uint(s, nl, 8);
        put(s, t->name, nl);
        put_uint(s, t->n_dims, 4);
        for (uint32_t d = 0; d < t->n_dims; d++) put_uint(s, (uint64_t)t->ne[d], 8);
        put_uint(s, t->type, 4);
        put_uint(s, off, 8);
        off += t->size + pad_to(t->size, align);
    }
    if (w->n_t == 0) return;
    put_zeros(s, pad_to(s->total, align));
    for (size_t i = 0; i < w->n_t; i++) {
        put(s, w->ts[i].data, w->ts[i].size);
        put_zeros(s, pad_to(w->ts[i].size, align));
    }
}

static int werr(sb_gguf_error *err, int code, const char *file, const char *msg)
{
    if (err) {
        err->code = code;
        err->offset = 0;
        snprintf(err->file, sizeof err->file, "%s", file);
        snprintf(err->msg, sizeof err->msg, "%s", msg);
    }
    return code;
}

int sb_gguf_writer_to_memory(sb_gguf_writer *w, void **buf, size_t *size, sb_gguf_error *err)
{
    if (!w || !buf || !size) return werr(err, SB_GGUF_E_ARG, "(memory)", "NULL argument");
    *buf = NULL;
    *size = 0;
    uint64_t align;
    int rc = writer_alignment(w, &align, err, "(memory)");
    if (rc) return rc;
    sink count = {NULL, 0, 0, -1, 0, 0};
    emit(w, align, &count);
    if (count.total > SIZE_MAX) return werr(err, SB_GGUF_E_NOMEM, "(memory)", "file too large for memory");
    uint8_t *b = malloc(count.total ? (size_t)count.total : 1);
    if (!b) return werr(err, SB_GGUF_E_NOMEM, "(memory)", "out of memory");
    sink s = {b, (size_t)count.total, 0, -1, 0, 0};
    emit(w, align, &s);
    if (s.err_no || s.len != count.total) {
        free(b);
        return werr(err, SB_GGUF_E_IO, "(memory)", "internal size mismatch");
    }
    *buf = b;
    *size = s.len;
    if (err) { err->code = 0; err->msg[0] = 0; }
    return 0;
}

int sb_gguf_writer_write(sb_gguf_writer *w, const char *path, sb_gguf_error *err)
{
    if (!w || !path) return werr(err, SB_GGUF_E_ARG, path ? path : "(null)", "NULL argument");
    uint64_t align;
    int rc = writer_alignment(w, &align, err, path);
    if (rc) return rc;
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= sizeof tmp)
        return werr(err, SB_GGUF_E_ARG, path, "path too long");
    int fd = mkstemp(tmp);
    if (fd < 0) {
        char msg[200];
        snprintf(msg, sizeof msg, "cannot create a temporary file beside it: %s", strerror(errno));
        return werr(err, SB_GGUF_E_IO, path, msg);
    }
    (void)fchmod(fd, 0644);
    enum { STAGE = 1 << 20 };
    uint8_t *stage = malloc(STAGE);
    if (!stage) {
        close(fd);
        unlink(tmp);
        return werr(err, SB_GGUF_E_NOMEM, path, "out of memory");
    }
    sink s = {stage, STAGE, 0, fd, 0, 0};
    emit(w, align, &s);
    sink_flush(&s);
    free(stage);
    const char *step = "write";
    int e = s.err_no;
    if (!e && fsync(fd) != 0) { e = errno; step = "fsync"; }
    if (close(fd) != 0 && !e) { e = errno; step = "close"; }
    if (!e && rename(tmp, path) != 0) { e = errno; step = "rename"; }
    if (e) {
        unlink(tmp);
        char msg[200];
        snprintf(msg, sizeof msg, "%s failed: %s (the previous file, if any, is unchanged)", step, strerror(e));
        return werr(err, SB_GGUF_E_IO, path, msg);
    }
    /* Make the rename itself durable: fsync the directory (best effort). */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) { if (slash == dir) slash[1] = 0; else *slash = 0; } else snprintf(dir, sizeof dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { (void)fsync(dfd); close(dfd); }
    if (err) { err->code = 0; err->msg[0] = 0; }
    return 0;
}
