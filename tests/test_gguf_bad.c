/* GGUF reader against hostile files: every row G1-G14 of ../shared/BAD_INPUTS.md as a file
 * crafted in memory, each with its exact error code (and where it matters the byte offset and
 * message), plus sweeps over small valid files (v3 from the writer, v1 by hand): every
 * truncation length and every byte flipped to several values must give an error or a file
 * whose every accessor works, never a crash or an out-of-bounds read (run under SAN=1 too). */
#include <stdlib.h>

#include "gguf/fuzz/walk.h"
#include "gguf/gguf.h"
#include "gguf/fuzz/sample.h"
#include "tests/test.h"

/* ---- a byte builder for crafted files ------------------------------------------------------ */

typedef struct bb {
    uint8_t buf[8192];
    size_t n;
    int w;               /* width of counts and lengths: 8 (v2/v3) or 4 (v1) */
} bb;

static void b_raw(bb *b, const void *p, size_t n)
{
    if (n > sizeof b->buf - b->n) { test_fail_at(__FILE__, __LINE__, "builder overflow"); return; }
    memcpy(b->buf + b->n, p, n);
    b->n += n;
}
static void b_uint(bb *b, uint64_t v, int n)
{
    uint8_t t[8];
    for (int i = 0; i < n; i++) t[i] = (uint8_t)(v >> (8 * i));
    b_raw(b, t, (size_t)n);
}
static void b_u32(bb *b, uint32_t v) { b_uint(b, v, 4); }
static void b_u64(bb *b, uint64_t v) { b_uint(b, v, 8); }
static void b_len(bb *b, uint64_t v) { b_uint(b, v, b->w); }
static void b_strn(bb *b, const char *s, size_t n) { b_len(b, n); b_raw(b, s, n); }
static void b_str(bb *b, const char *s) { b_strn(b, s, strlen(s)); }

static void hdr(bb *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
    b->n = 0;
    b->w = version == 1 ? 4 : 8;
    b_raw(b, "GGUF", 4);
    b_u32(b, version);
    b_len(b, n_tensors);
    b_len(b, n_kv);
}
static void kv_u32(bb *b, const char *key, uint32_t v) { b_str(b, key); b_u32(b, SB_GGUF_UINT32); b_u32(b, v); }
static void kv_str(bb *b, const char *key, const char *v) { b_str(b, key); b_u32(b, SB_GGUF_STRING); b_str(b, v); }
static void tinfo(bb *b, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type, uint64_t offset)
{
    b_str(b, name);
    b_u32(b, n_dims);
    for (uint32_t d = 0; d < n_dims; d++) b_len(b, ne[d]);
    b_u32(b, type);
    b_u64(b, offset);
}
/* Pads to `align` and appends n bytes of tensor data. */
static void data(bb *b, size_t align, size_t n)
{
    while (b->n % align) b_uint(b, 0, 1);
    for (size_t i = 0; i < n; i++) b_uint(b, i & 0xff, 1);
}

/* Opens b's bytes and checks the code; off (unless UINT64_MAX) and msg_part (unless NULL) too.
 * Returns the code so callers can add checks. */
static int expect_at(int line, const bb *b, int code, uint64_t off, const char *msg_part)
{
    sb_gguf *g = NULL;
    sb_gguf_error e;
    memset(&e, 0, sizeof e);
    int rc = sb_gguf_open_memory(b->buf, b->n, "crafted.gguf", &g, &e);
    char full[700];
    sb_gguf_error_format(&e, full, sizeof full);
    if (rc != code)
        test_fail_at(__FILE__, line, "expected %s, got %s: %s", sb_gguf_status_name(code), sb_gguf_status_name(rc), full);
    else if (code != 0) {
        if (strcmp(e.file, "crafted.gguf") != 0) test_fail_at(__FILE__, line, "error does not name the file: %s", full);
        if (off != UINT64_MAX && e.offset != off)
            test_fail_at(__FILE__, line, "expected byte %llu: %s", (unsigned long long)off, full);
        if (msg_part && !strstr(e.msg, msg_part)) test_fail_at(__FILE__, line, "expected '%s' in: %s", msg_part, full);
        if (g) test_fail_at(__FILE__, line, "handle returned with an error");
    }
    sb_gguf_close(g);
    return rc;
}
#define EXPECT(b, code) expect_at(__LINE__, (b), (code), UINT64_MAX, NULL)
#define EXPECT_AT(b, code, off, msg) expect_at(__LINE__, (b), (code), (off), (msg))

static const uint64_t ne_4[1] = {4};

/* A valid baseline: one key, one f32 tensor of 4 elements. */
static void baseline(bb *b)
{
    hdr(b, 3, 1, 1);
    kv_str(b, "general.architecture", "llama");
    tinfo(b, "w", 1, ne_4, 0, 0);
    data(b, 32, 16);
}

static void test_baseline_is_valid(void)
{
    bb b;
    baseline(&b);
    EXPECT(&b, SB_GGUF_OK);
    hdr(&b, 2, 0, 0);                     /* v2 with nothing in it */
    EXPECT(&b, SB_GGUF_OK);
    hdr(&b, 1, 0, 0);                     /* v1 (32-bit counts): 16 bytes */
    CHECK_EQ_INT(b.n, 16);
    EXPECT(&b, SB_GGUF_OK);
}

static void test_g1_truncated(void)
{
    bb b;
    baseline(&b);
    bb t = b;
    for (size_t n = 0; n < 24; n++) {
        t.n = n;
        EXPECT(&t, SB_GGUF_E_TRUNCATED);
    }
    /* A fixed-size field cut short is "truncated"; a declared count, length or offset that
     * points past the end gets its own code (G4, G5, G8, G14), as the sweeps below check. */
    hdr(&t, 3, 0, 1);
    kv_u32(&t, "a", 7);
    t.n -= 1;
    EXPECT_AT(&t, SB_GGUF_E_TRUNCATED, 37, "file ends inside a metadata value");
    /* Cut in the tensor data: that is a tensor running past the end of the file. */
    t = b;
    t.n = b.n - 1;
    EXPECT(&t, SB_GGUF_E_BOUNDS);
}

static void test_g2_bad_magic(void)
{
    bb b;
    baseline(&b);
    memcpy(b.buf, "GGUX", 4);
    EXPECT_AT(&b, SB_GGUF_E_MAGIC, 0, "bad magic");
    memcpy(b.buf, "FUGG", 4);
    EXPECT_AT(&b, SB_GGUF_E_MAGIC, 0, "big-endian");
    memcpy(b.buf, "\x7f" "ELF", 4);
    EXPECT(&b, SB_GGUF_E_MAGIC);
    b.n = 5;                              /* short but with a wrong magic: the magic is reported */
    EXPECT(&b, SB_GGUF_E_MAGIC);
}

static void test_g3_version(void)
{
    static const uint32_t bad[] = {0, 4, 5, 0xffffffffu, 0x00010000u};
    bb b;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        baseline(&b);
        memcpy(b.buf + 4, &bad[i], 4);                /* little-endian host */
        EXPECT_AT(&b, SB_GGUF_E_VERSION, 4, "unsupported GGUF version");
    }
    /* A big-endian file: version 3 (or 2) byte-swapped; named as such. */
    baseline(&b);
    b.buf[4] = 0; b.buf[7] = 3;
    EXPECT_AT(&b, SB_GGUF_E_VERSION, 4, "big-endian GGUF v3");
    b.buf[7] = 2;
    EXPECT_AT(&b, SB_GGUF_E_VERSION, 4, "big-endian");
}

static void test_g4_counts(void)
{
    bb b;
    hdr(&b, 3, 0, 1000);                  /* 1000 entries cannot fit in what is left */
    kv_u32(&b, "a", 1);
    EXPECT_AT(&b, SB_GGUF_E_COUNT, 16, "metadata count 1000");
    hdr(&b, 3, 1000, 1);
    kv_u32(&b, "a", 1);
    EXPECT_AT(&b, SB_GGUF_E_COUNT, 8, "tensor count 1000");
    hdr(&b, 3, UINT64_MAX, 0);
    EXPECT_AT(&b, SB_GGUF_E_COUNT, 8, "cap");
    hdr(&b, 3, 0, UINT64_MAX);
    EXPECT_AT(&b, SB_GGUF_E_COUNT, 16, "cap");
    hdr(&b, 3, 0, (uint64_t)1 << 62);     /* × 14 bytes would wrap: refused by the cap first */
    EXPECT(&b, SB_GGUF_E_COUNT);
    hdr(&b, 1, 0, 0xffffffffu);           /* v1: 32-bit count */
    EXPECT_AT(&b, SB_GGUF_E_COUNT, 12, NULL);
    /* Tensor count that fits the header check but not what is left after the metadata. */
    hdr(&b, 3, 2, 1);
    kv_str(&b, "k", "a string long enough to make room for two minimal tensor entries......");
    EXPECT(&b, SB_GGUF_E_COUNT);
}

static void test_g5_strings(void)
{
    bb b;
    hdr(&b, 3, 0, 1);
    b_u64(&b, UINT64_MAX);                /* key length: pos + len + 1 would wrap */
    b_raw(&b, "abcdefghijklmnop", 16);
    EXPECT_AT(&b, SB_GGUF_E_STRING, 24, NULL);
    hdr(&b, 3, 0, 1);
    b_u64(&b, 100);                       /* past the end of the file, under the key cap */
    b_raw(&b, "abcdefghijklmnop", 16);
    EXPECT_AT(&b, SB_GGUF_E_STRING, 24, "past the end");
    hdr(&b, 3, 0, 1);
    b_u64(&b, SB_GGUF_MAX_KEY + 1);       /* over the key cap */
    b_raw(&b, "abcdefghijklmnop", 16);
    EXPECT_AT(&b, SB_GGUF_E_STRING, 24, "cap");
    hdr(&b, 3, 0, 1);                     /* a string value: huge, past the end, over the cap */
    b_str(&b, "k");
    b_u32(&b, SB_GGUF_STRING);
    size_t at = b.n;
    b_u64(&b, UINT64_MAX);
    b_raw(&b, "abcdefgh", 8);
    EXPECT_AT(&b, SB_GGUF_E_STRING, at, NULL);
    memcpy(b.buf + at, "\x09\x00\x00\x00\x00\x00\x00\x00", 8);
    EXPECT_AT(&b, SB_GGUF_E_STRING, at, "past the end");
    uint64_t over = (uint64_t)SB_GGUF_MAX_STRING + 1;
    memcpy(b.buf + at, &over, 8);
    EXPECT_AT(&b, SB_GGUF_E_STRING, at, "cap");
    memcpy(b.buf + at, "\x08\x00\x00\x00\x00\x00\x00\x00", 8);   /* exact fit: valid */
    EXPECT(&b, SB_GGUF_OK);
    /* An element of a string array past the end. */
    hdr(&b, 3, 0, 1);
    b_str(&b, "toks");
    b_u32(&b, SB_GGUF_ARRAY);
    b_u32(&b, SB_GGUF_STRING);
    b_u64(&b, 2);
    b_str(&b, "ok");
    at = b.n;
    b_u64(&b, 1u << 20);
    b_raw(&b, "xy", 2);
    EXPECT_AT(&b, SB_GGUF_E_STRING, at, NULL);
    /* v1: 32-bit lengths. */
    hdr(&b, 1, 0, 1);
    b_u32(&b, 0xffffffffu);
    b_raw(&b, "abcdefghijklmnop", 16);
    EXPECT_AT(&b, SB_GGUF_E_STRING, 16, NULL);
}

static void test_g6_keys(void)
{
    bb b;
    hdr(&b, 3, 0, 1);
    kv_u32(&b, "", 1);
    EXPECT_AT(&b, SB_GGUF_E_KEY, 24, "empty");
    hdr(&b, 3, 0, 2);
    kv_u32(&b, "general.name", 1);
    size_t second = b.n;
    kv_u32(&b, "general.name", 2);
    EXPECT_AT(&b, SB_GGUF_E_KEY, second, "duplicate");
    hdr(&b, 3, 0, 4);                     /* the earliest repeat in file order is reported */
    kv_u32(&b, "b", 1);
    kv_u32(&b, "a", 1);
    second = b.n;
    kv_u32(&b, "b", 2);
    kv_u32(&b, "a", 2);
    EXPECT_AT(&b, SB_GGUF_E_KEY, second, "duplicate metadata key 'b'");
    static const char *const bad_utf8[] = {"\xff\xfe", "a\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ab\xe2\x82",
                                           "\x80"};
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
        hdr(&b, 3, 0, 1);
        kv_u32(&b, bad_utf8[i], 1);
        EXPECT_AT(&b, SB_GGUF_E_KEY, 24, "UTF-8");
    }
    hdr(&b, 3, 0, 1);                     /* an embedded NUL would make the key ambiguous */
    b_strn(&b, "ab\0cd", 5);
    b_u32(&b, SB_GGUF_UINT8);
    b_uint(&b, 1, 1);
    EXPECT(&b, SB_GGUF_E_KEY);
    hdr(&b, 3, 0, 1);                     /* valid multi-byte UTF-8 is fine */
    kv_u32(&b, "cl\xc3\xa9.\xe2\x96\x81.\xf0\x9f\x98\x80", 1);
    EXPECT(&b, SB_GGUF_OK);
}

static void test_g7_value_types(void)
{
    bb b;
    hdr(&b, 3, 0, 1);
    b_str(&b, "k");
    b_u32(&b, 13);
    b_u64(&b, 0);
    EXPECT_AT(&b, SB_GGUF_E_VALUE_TYPE, 33, "out of range");
    hdr(&b, 3, 0, 1);
    b_str(&b, "k");
    b_u32(&b, 0xffffffffu);
    b_u64(&b, 0);
    EXPECT(&b, SB_GGUF_E_VALUE_TYPE);
    hdr(&b, 3, 0, 1);                     /* array of arrays */
    b_str(&b, "k");
    b_u32(&b, SB_GGUF_ARRAY);
    b_u32(&b, SB_GGUF_ARRAY);
    b_u64(&b, 1);
    b_u32(&b, SB_GGUF_UINT8);
    b_u64(&b, 1);
    b_uint(&b, 7, 1);
    EXPECT_AT(&b, SB_GGUF_E_VALUE_TYPE, 37, "arrays of arrays");
    hdr(&b, 3, 0, 1);                     /* array element type out of range */
    b_str(&b, "k");
    b_u32(&b, SB_GGUF_ARRAY);
    b_u32(&b, 99);
    b_u64(&b, 0);
    EXPECT_AT(&b, SB_GGUF_E_VALUE_TYPE, 37, NULL);
}

static void test_g8_arrays(void)
{
    bb b;
    hdr(&b, 3, 0, 1);                     /* count × 8 overflows 64 bits */
    b_str(&b, "k");
    b_u32(&b, SB_GGUF_ARRAY);
    b_u32(&b, SB_GGUF_UINT64);
    b_u64(&b, ((uint64_t)1 << 61) + 1);
    b_u64(&b, 0);
    EXPECT_AT(&b, SB_GGUF_E_ARRAY, 41, "overflows");
    hdr(&b, 3, 0, 1);                     /* fits 64 bits but not the file */
    b_str(&b, "k");
    b_u32(&b, SB_GGUF_ARRAY);
    b_u32(&b, SB_GGUF_UINT32);
    b_u64(&b, 1000);
    b_u64(&b, 0);
    EXPECT_AT(&b, SB_GGUF_E_ARRAY, 41, "only 8 left");
    hdr(&b, 3, 0, 1);                     /* string array count no file could hold */
    b_str(&b, "k");
    b_u32(&b, SB_GGUF_ARRAY);
    b_u32(&b, SB_GGUF_STRING);
    b_u64(&b, UINT64_MAX);
    b_u64(&b, 0);
    EXPECT_AT(&b, SB_GGUF_E_ARRAY, 41, NULL);
    hdr(&b, 1, 0, 1);                     /* v1: 32-bit count of strings, each >= 4 bytes */
    b_str(&b, "k");
    b_u32(&b, SB_GGUF_ARRAY);
    b_u32(&b, SB_GGUF_STRING);
    b_u32(&b, 3);
    b_u32(&b, 0);
    b_u32(&b, 0);
    EXPECT(&b, SB_GGUF_E_ARRAY);
    b_u32(&b, 0);                         /* now three empty strings: valid */
    EXPECT(&b, SB_GGUF_OK);
}

static void test_g9_alignment(void)
{
    bb b;
    static const uint32_t bad[] = {0, 3, 48, 1u << 31, 1u << 21};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hdr(&b, 3, 1, 1);
        kv_u32(&b, "general.alignment", bad[i]);
        tinfo(&b, "w", 1, ne_4, 0, 0);
        data(&b, 32, 16);
        EXPECT_AT(&b, SB_GGUF_E_ALIGNMENT, 24 + 8 + 17 + 4, NULL);
    }
    hdr(&b, 3, 0, 1);                     /* wrong type */
    b_str(&b, "general.alignment");
    b_u32(&b, SB_GGUF_UINT64);
    b_u64(&b, 32);
    EXPECT_AT(&b, SB_GGUF_E_ALIGNMENT, 24, "must be u32");
    hdr(&b, 3, 0, 1);
    kv_str(&b, "general.alignment", "32");
    EXPECT(&b, SB_GGUF_E_ALIGNMENT);
    /* 1 and 4096 are fine; offsets must then follow them. */
    hdr(&b, 3, 1, 1);
    kv_u32(&b, "general.alignment", 4096);
    tinfo(&b, "w", 1, ne_4, 0, 0);
    data(&b, 4096, 16);
    CHECK_EQ_INT(b.n, 4096 + 16);
    EXPECT(&b, SB_GGUF_OK);
    hdr(&b, 3, 2, 1);
    kv_u32(&b, "general.alignment", 1);
    tinfo(&b, "w", 1, ne_4, 0, 0);
    tinfo(&b, "v", 1, ne_4, 24, 16);
    data(&b, 1, 32);
    EXPECT(&b, SB_GGUF_OK);
}

static void test_g10_names(void)
{
    char n64[65], n63[64];
    memset(n64, 'x', 64); n64[64] = 0;
    memset(n63, 'x', 63); n63[63] = 0;
    bb b;
    hdr(&b, 3, 1, 0);
    tinfo(&b, "", 1, ne_4, 0, 0);
    data(&b, 32, 16);
    EXPECT_AT(&b, SB_GGUF_E_NAME, 24, "empty");
    hdr(&b, 3, 1, 0);
    tinfo(&b, n64, 1, ne_4, 0, 0);
    data(&b, 32, 16);
    EXPECT_AT(&b, SB_GGUF_E_NAME, 24, "cap");
    hdr(&b, 3, 1, 0);
    tinfo(&b, n63, 1, ne_4, 0, 0);
    data(&b, 32, 16);
    EXPECT(&b, SB_GGUF_OK);
    hdr(&b, 3, 2, 0);
    tinfo(&b, "w", 1, ne_4, 0, 0);
    size_t second = b.n;
    tinfo(&b, "w", 1, ne_4, 0, 32);
    data(&b, 32, 48);
    EXPECT_AT(&b, SB_GGUF_E_NAME, second, "duplicate");
    hdr(&b, 3, 1, 0);
    tinfo(&b, "w\xff", 1, ne_4, 0, 0);
    data(&b, 32, 16);
    EXPECT(&b, SB_GGUF_E_NAME);
    hdr(&b, 3, 1, 0);                     /* a name past the end of the file */
    b_u64(&b, 40);
    b_raw(&b, "abc", 3);
    EXPECT(&b, SB_GGUF_E_COUNT);          /* the count check sees too few bytes first */
}

static void test_g11_dims(void)
{
    bb b;
    static const uint64_t ne5[5] = {1, 1, 1, 1, 1};
    hdr(&b, 3, 1, 0);
    tinfo(&b, "w", 5, ne5, 0, 0);
    data(&b, 32, 16);
    EXPECT_AT(&b, SB_GGUF_E_DIMS, 33, "n_dims 5");
    /* Huge n_dims in a file far too short to hold that many: dims error, not truncation —
     * the count is checked before any dimension is read or stored. */
    hdr(&b, 3, 1, 0);
    b_str(&b, "w");
    b_u32(&b, 0xffffffffu);
    b_u64(&b, 4);
    b_u32(&b, 0);
    b_u64(&b, 0);
    b_u64(&b, 0);
    EXPECT_AT(&b, SB_GGUF_E_DIMS, 33, NULL);
    hdr(&b, 3, 1, 0);
    tinfo(&b, "w", 0, ne_4, 0, 0);
    data(&b, 32, 16);
    EXPECT(&b, SB_GGUF_E_DIMS);
}

static void test_g12_shapes(void)
{
    bb b;
    uint64_t ne[4];
    ne[0] = 4; ne[1] = 0;                 /* a zero dimension */
    hdr(&b, 3, 1, 0);
    tinfo(&b, "w", 2, ne, 0, 0);
    data(&b, 32, 16);
    EXPECT_AT(&b, SB_GGUF_E_SHAPE, 45, "must be > 0");
    ne[1] = UINT64_MAX;                   /* -1 as int64 */
    hdr(&b, 3, 1, 0);
    tinfo(&b, "w", 2, ne, 0, 0);
    data(&b, 32, 16);
    EXPECT_AT(&b, SB_GGUF_E_SHAPE, 45, NULL);
    ne[0] = (uint64_t)1 << 63;            /* INT64_MIN */
    hdr(&b, 3, 1, 0);
    tinfo(&b, "w", 1, ne, 0, 0);
    data(&b, 32, 16);
    EXPECT_AT(&b, SB_GGUF_E_SHAPE, 37, NULL);
    ne[0] = (uint64_t)1 << 32; ne[1] = (uint64_t)1 << 32;   /* element count 2^64 */
    hdr(&b, 3, 1, 0);
    tinfo(&b, "w", 2, ne, 0, 0);
    data(&b, 32, 16);
    EXPECT_AT(&b, SB_GGUF_E_SHAPE, 45, "element count overflows");
    ne[0] = (uint64_t)1 << 62;            /* 2^62 f32 = 2^64 bytes */
    hdr(&b, 3, 1, 0);
    tinfo(&b, "w", 1, ne, 0, 0);
    data(&b, 32, 16);
    EXPECT_AT(&b, SB_GGUF_E_SHAPE, 24, "byte size overflows");
    ne[0] = 33;                           /* q4_0 rows must be multiples of 32 */
    hdr(&b, 3, 1, 0);
    tinfo(&b, "w", 1, ne, 2, 0);
    data(&b, 32, 18);
    EXPECT_AT(&b, SB_GGUF_E_SHAPE, 37, "not a multiple");
    ne[0] = 256; ne[1] = 3;               /* q6_K 256 × 3 is fine */
    hdr(&b, 3, 1, 0);
    tinfo(&b, "w", 2, ne, 14, 0);
    data(&b, 32, 3 * 210);
    EXPECT(&b, SB_GGUF_OK);
}

static void test_g13_tensor_types(void)
{
    static const uint32_t bad[] = {4, 5, 43, 1000, 0xffffffffu};
    bb b;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hdr(&b, 3, 1, 0);
        tinfo(&b, "w", 1, ne_4, bad[i], 0);
        data(&b, 32, 16);
        EXPECT_AT(&b, SB_GGUF_E_TENSOR_TYPE, 45, "unknown");
    }
}

static void test_g14_bounds(void)
{
    bb b;
    hdr(&b, 3, 1, 0);                     /* unaligned */
    tinfo(&b, "w", 1, ne_4, 0, 4);
    data(&b, 32, 32);
    EXPECT_AT(&b, SB_GGUF_E_BOUNDS, 49, "not a multiple of the alignment");
    hdr(&b, 3, 2, 0);                     /* overlapping: second starts inside the first */
    static const uint64_t ne16[1] = {16};
    tinfo(&b, "a", 1, ne16, 0, 0);
    size_t second = b.n;
    tinfo(&b, "b", 1, ne_4, 0, 32);
    data(&b, 32, 96);
    EXPECT_AT(&b, SB_GGUF_E_BOUNDS, second + 8 + 1 + 4 + 8 + 4, "overlaps");
    hdr(&b, 3, 2, 0);                     /* same offset */
    tinfo(&b, "a", 1, ne_4, 0, 0);
    tinfo(&b, "b", 1, ne_4, 0, 0);
    data(&b, 32, 16);
    EXPECT(&b, SB_GGUF_E_BOUNDS);
    hdr(&b, 3, 1, 0);                     /* past the end */
    tinfo(&b, "w", 1, ne_4, 0, 1024);
    data(&b, 32, 16);
    EXPECT_AT(&b, SB_GGUF_E_BOUNDS, 49, "past the end");
    hdr(&b, 3, 1, 0);                     /* offset + size overflows */
    static const uint64_t ne_big[1] = {16};
    tinfo(&b, "w", 1, ne_big, 0, UINT64_MAX - 31);
    data(&b, 32, 16);
    EXPECT_AT(&b, SB_GGUF_E_BOUNDS, 49, "overflows");
    hdr(&b, 3, 1, 0);                     /* the data section itself starts past the end */
    tinfo(&b, "w", 1, ne_4, 0, 0);
    EXPECT(&b, SB_GGUF_E_TRUNCATED);
    hdr(&b, 3, 2, 0);                     /* back to back, in reverse table order: fine */
    tinfo(&b, "a", 1, ne_4, 0, 32);
    tinfo(&b, "b", 1, ne_4, 0, 0);
    data(&b, 32, 48);
    EXPECT(&b, SB_GGUF_OK);
}

/* ---- sweeps ---------------------------------------------------------------------------------- */

/* A small valid v1 file, built by hand (the writer only writes v3). */
static void v1_sample(bb *b)
{
    static const uint64_t ne[2] = {8, 2};
    hdr(b, 1, 2, 4);
    kv_str(b, "general.architecture", "llama");
    kv_u32(b, "llama.block_count", 1);
    b_str(b, "tokenizer.ggml.tokens");
    b_u32(b, SB_GGUF_ARRAY);
    b_u32(b, SB_GGUF_STRING);
    b_u32(b, 3);
    b_str(b, "<unk>");
    b_str(b, "a");
    b_str(b, "");
    b_str(b, "tokenizer.ggml.scores");
    b_u32(b, SB_GGUF_ARRAY);
    b_u32(b, SB_GGUF_FLOAT32);
    b_u32(b, 3);
    b_u64(b, 0);
    b_u32(b, 0);
    tinfo(b, "a", 2, ne, 0, 0);
    tinfo(b, "b", 1, ne, 1, 64);
    data(b, 32, 64 + 16);
}

typedef struct sweep_stats { int accepted, rejected, bad_errors; } sweep_stats;

static void try_bytes(const uint8_t *p, size_t n, sweep_stats *st)
{
    sb_gguf *g = NULL;
    sb_gguf_error e;
    memset(&e, 0, sizeof e);
    int rc = sb_gguf_open_memory(p, n, "sweep", &g, &e);
    if (rc == 0) {
        st->accepted++;
        if (gguf_walk(g) < 0 || gguf_rewrite_check(g) != 0) st->bad_errors++;
        sb_gguf_close(g);
    } else {
        st->rejected++;
        if (g || rc <= 0 || rc >= SB_GGUF_STATUS_COUNT || e.code != rc || e.msg[0] == 0 ||
            strcmp(e.file, "sweep") != 0 || e.offset > n)
            st->bad_errors++;
    }
}

/* Truncation at every length: an error for each length short of the last tensor's data end
 * (G1 truncated for 0-23 bytes), a fully working handle otherwise. Each copy is exactly n bytes
 * so ASan sees any read past the end. */
static void sweep_truncations(const uint8_t *file, size_t size, size_t needed)
{
    sweep_stats st = {0, 0, 0};
    for (size_t n = 0; n <= size; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, file, n);
        sb_gguf *g = NULL;
        sb_gguf_error e;
        int rc = sb_gguf_open_memory(copy, n, "sweep", &g, &e);
        if (n < needed) CHECK_MSG(rc != 0, "truncated to %zu of %zu bytes but accepted", n, size);
        if (n >= needed) CHECK_MSG(rc == 0, "%zu bytes: %s", n, e.msg);
        if (n < 16) CHECK_EQ_INT(rc, SB_GGUF_E_TRUNCATED);
        /* Running out of bytes is reported as truncated, or by the code of the count, string,
         * array or offset that points past the end. */
        if (rc)
            CHECK_MSG(rc == SB_GGUF_E_TRUNCATED || rc == SB_GGUF_E_COUNT || rc == SB_GGUF_E_STRING ||
                      rc == SB_GGUF_E_ARRAY || rc == SB_GGUF_E_BOUNDS || rc == SB_GGUF_E_NAME,
                      "%zu bytes: %s: %s", n, sb_gguf_status_name(rc), e.msg);
        sb_gguf_close(g);
        try_bytes(copy, n, &st);
        free(copy);
    }
    CHECK_EQ_INT(st.bad_errors, 0);
}

static void sweep_flips(const uint8_t *file, size_t size, const char *what)
{
    static const int mode[4] = {0, 1, 2, 3};
    sweep_stats st = {0, 0, 0};
    uint8_t *copy = malloc(size);
    for (size_t i = 0; i < size; i++) {
        for (int m = 0; m < 4; m++) {
            memcpy(copy, file, size);
            uint8_t v = file[i];
            switch (mode[m]) {
            case 0: v ^= 0x01; break;
            case 1: v ^= 0x80; break;
            case 2: v = 0x00; break;
            default: v = 0xff; break;
            }
            if (v == file[i]) continue;
            copy[i] = v;
            try_bytes(copy, size, &st);
        }
    }
    free(copy);
    CHECK_EQ_INT(st.bad_errors, 0);
    CHECK(st.rejected > 0 && st.accepted > 0);
    printf("  %s: %zu bytes x 4 flips: %d accepted, %d rejected\n", what, size, st.accepted, st.rejected);
}

static size_t data_end(const uint8_t *p, size_t n)
{
    sb_gguf *g = NULL;
    size_t end = 0;
    if (sb_gguf_open_memory(p, n, "x", &g, NULL) != 0) return 0;
    for (int64_t i = 0; i < sb_gguf_n_tensors(g); i++) {
        const sb_gguf_tensor *t = sb_gguf_tensor_at(g, i);
        size_t e = (size_t)(sb_gguf_data_offset(g) + t->offset + t->size);
        if (e > end) end = e;
    }
    sb_gguf_close(g);
    return end;
}

static void test_sweep_truncations_v3(void)
{
    void *buf = NULL;
    size_t size = 0;
    CHECK_EQ_INT(sample_build(&buf, &size), 0);
    size_t need = data_end(buf, size);
    CHECK(need > 0 && need <= size);
    sweep_truncations(buf, size, need);
    free(buf);
}

static void test_sweep_truncations_v1(void)
{
    bb b;
    v1_sample(&b);
    size_t need = data_end(b.buf, b.n);
    CHECK_EQ_INT(need, b.n);
    sweep_truncations(b.buf, b.n, need);
}

static void test_sweep_byte_flips_v3(void)
{
    void *buf = NULL;
    size_t size = 0;
    CHECK_EQ_INT(sample_build(&buf, &size), 0);
    sweep_flips(buf, size, "v3 sample");
    free(buf);
}

static void test_sweep_byte_flips_v1(void)
{
    bb b;
    v1_sample(&b);
    sweep_flips(b.buf, b.n, "v1 sample");
}

int main(void)
{
    RUN(test_baseline_is_valid);
    RUN(test_g1_truncated);
    RUN(test_g2_bad_magic);
    RUN(test_g3_version);
    RUN(test_g4_counts);
    RUN(test_g5_strings);
    RUN(test_g6_keys);
    RUN(test_g7_value_types);
    RUN(test_g8_arrays);
    RUN(test_g9_alignment);
    RUN(test_g10_names);
    RUN(test_g11_dims);
    RUN(test_g12_shapes);
    RUN(test_g13_tensor_types);
    RUN(test_g14_bounds);
    RUN(test_sweep_truncations_v3);
    RUN(test_sweep_truncations_v1);
    RUN(test_sweep_byte_flips_v3);
    RUN(test_sweep_byte_flips_v1);
    return test_finish();
}
