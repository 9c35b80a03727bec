/* GGUF reader and writer: round trip of every value type and tensor bytes, typed getters and
 * their errors, writer validation, atomic file writes (a failed write leaves the old file),
 * opening from a path (mmap) and from memory. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf/fuzz/walk.h"
#include "gguf/gguf.h"
#include "gguf/fuzz/sample.h"
#include "tests/test.h"

static int read_file(const char *path, void **buf, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *buf = malloc(n > 0 ? (size_t)n : 1);
    *size = (size_t)n;
    int ok = *buf && fread(*buf, 1, (size_t)n, f) == (size_t)n;
    fclose(f);
    return ok ? 0 : -1;
}

/* Checks the sample file's contents through every getter. */
static void check_sample(const sb_gguf *g, const void *file, size_t file_size)
{
    sb_gguf_error e;
    uint32_t u32;
    uint64_t u64;
    int64_t i64;
    float f;
    double d;
    int b;
    const char *s;
    size_t len;

    CHECK_EQ_INT(sb_gguf_version(g), 3);
    CHECK_EQ_INT(sb_gguf_n_kv(g), 18);
    CHECK_EQ_INT(sb_gguf_n_tensors(g), 4);
    CHECK_EQ_INT(sb_gguf_alignment(g), 64);
    CHECK_EQ_INT(sb_gguf_data_offset(g) % 64, 0);
    CHECK_EQ_INT(sb_gguf_file_size(g), file_size);

    /* Keys come back in the order written, with their types. */
    static const char *const keys[18] = {"general.architecture", "t.u8", "t.i8", "t.u16", "t.i16", "t.u32", "t.i32",
                                         "t.u64", "t.i64", "t.f32", "t.f64", "t.bool", "t.str", "t.arr_i32",
                                         "t.arr_f64", "t.arr_empty", "t.arr_str", "general.alignment"};
    static const sb_gguf_vtype types[18] = {SB_GGUF_STRING, SB_GGUF_UINT8, SB_GGUF_INT8, SB_GGUF_UINT16,
                                            SB_GGUF_INT16, SB_GGUF_UINT32, SB_GGUF_INT32, SB_GGUF_UINT64,
                                            SB_GGUF_INT64, SB_GGUF_FLOAT32, SB_GGUF_FLOAT64, SB_GGUF_BOOL,
                                            SB_GGUF_STRING, SB_GGUF_ARRAY, SB_GGUF_ARRAY, SB_GGUF_ARRAY,
                                            SB_GGUF_ARRAY, SB_GGUF_UINT32};
    for (int i = 0; i < 18; i++) {
        CHECK_STR(sb_gguf_kv_key(g, i), keys[i]);
        CHECK_EQ_INT(sb_gguf_kv_type(g, i), types[i]);
        CHECK_EQ_INT(sb_gguf_find_key(g, keys[i]), i);
    }

    CHECK_EQ_INT(sb_gguf_get_str(g, "general.architecture", &s, &len, &e), 0);
    CHECK(len == 5 && memcmp(s, "llama", 5) == 0);
    CHECK_EQ_INT(sb_gguf_get_u32(g, "t.u8", &u32, &e), 0);
    CHECK_EQ_INT(u32, 250);
    CHECK_EQ_INT(sb_gguf_get_i64(g, "t.i8", &i64, &e), 0);
    CHECK_EQ_INT(i64, -120);
    CHECK_EQ_INT(sb_gguf_get_u32(g, "t.u16", &u32, &e), 0);
    CHECK_EQ_INT(u32, 65000);
    CHECK_EQ_INT(sb_gguf_get_i64(g, "t.i16", &i64, &e), 0);
    CHECK_EQ_INT(i64, -32000);
    CHECK_EQ_INT(sb_gguf_get_u32(g, "t.u32", &u32, &e), 0);
    CHECK(u32 == 4000000000u);
    CHECK_EQ_INT(sb_gguf_get_i64(g, "t.i32", &i64, &e), 0);
    CHECK_EQ_INT(i64, -2000000000);
    CHECK_EQ_INT(sb_gguf_get_u64(g, "t.u64", &u64, &e), 0);
    CHECK(u64 == 18000000000000000000ull);
    CHECK_EQ_INT(sb_gguf_get_i64(g, "t.i64", &i64, &e), 0);
    CHECK(i64 == -9000000000000000000ll);
    CHECK_EQ_INT(sb_gguf_get_f32(g, "t.f32", &f, &e), 0);
    CHECK(f == 1e-5f);
    CHECK_EQ_INT(sb_gguf_get_f64(g, "t.f64", &d, &e), 0);
    CHECK(d == -3.141592653589793);
    CHECK_EQ_INT(sb_gguf_get_f32(g, "t.f64", &f, &e), 0);   /* f64 → f32 accepted */
    CHECK(f == (float)-3.141592653589793);
    CHECK_EQ_INT(sb_gguf_get_bool(g, "t.bool", &b, &e), 0);
    CHECK_EQ_INT(b, 1);
    CHECK_EQ_INT(sb_gguf_get_str(g, "t.str", &s, &len, &e), 0);
    CHECK(len == 6 && memcmp(s, "h\xc3\xa9llo", 6) == 0);

    sb_gguf_vtype et;
    uint64_t n;
    const void *data;
    CHECK_EQ_INT(sb_gguf_get_arr(g, "t.arr_i32", &et, &n, &data, &e), 0);
    CHECK_EQ_INT(et, SB_GGUF_INT32);
    CHECK_EQ_INT(n, 5);
    CHECK(memcmp(data, sample_i32_arr, sizeof sample_i32_arr) == 0);
    int64_t ki = sb_gguf_find_key(g, "t.arr_i32");
    CHECK_EQ_INT(sb_gguf_kv_arr_type(g, ki), SB_GGUF_INT32);
    CHECK_EQ_INT(sb_gguf_kv_arr_n(g, ki), 5);
    for (uint64_t j = 0; j < 5; j++) {
        sb_gguf_num v;
        CHECK_EQ_INT(sb_gguf_kv_num(g, ki, j, &v), 0);
        CHECK_EQ_INT(v.i, sample_i32_arr[j]);
    }
    CHECK_EQ_INT(sb_gguf_get_arr(g, "t.arr_f64", &et, &n, &data, &e), 0);
    CHECK(et == SB_GGUF_FLOAT64 && n == 3 && memcmp(data, sample_f64_arr, sizeof sample_f64_arr) == 0);
    CHECK_EQ_INT(sb_gguf_get_arr(g, "t.arr_empty", &et, &n, &data, &e), 0);
    CHECK(et == SB_GGUF_UINT8 && n == 0);
    CHECK_EQ_INT(sb_gguf_get_arr_str_n(g, "t.arr_str", &n, &e), 0);
    CHECK_EQ_INT(n, 4);
    for (uint64_t j = 0; j < 4; j++) {
        CHECK_EQ_INT(sb_gguf_get_arr_str(g, "t.arr_str", j, &s, &len, &e), 0);
        CHECK(len == strlen(sample_strs[j]) && memcmp(s, sample_strs[j], len) == 0);
    }

    /* Tensors: names, types, shapes, sizes, aligned offsets and identical bytes. */
    uint8_t q8[68], q4k[144];
    sample_pattern(q8, 68, 3);
    sample_pattern(q4k, 144, 11);
    static const char *const names[4] = {"a.f32", "b.f16", "c.q8_0", "d.q4_K"};
    static const uint32_t ttypes[4] = {0, 1, 8, 12};
    static const uint64_t sizes[4] = {48, 16, 68, 144};
    const void *bytes[4] = {sample_f32, sample_f16, q8, q4k};
    for (int i = 0; i < 4; i++) {
        const sb_gguf_tensor *t = sb_gguf_tensor_at(g, i);
        CHECK(t != NULL);
        if (!t) continue;
        CHECK_STR(t->name, names[i]);
        CHECK(sb_gguf_find_tensor(g, names[i]) == t);
        CHECK_EQ_INT(t->type, ttypes[i]);
        CHECK_EQ_INT(t->size, sizes[i]);
        CHECK_EQ_INT(t->offset % 64, 0);
        CHECK(memcmp(t->data, bytes[i], sizes[i]) == 0);
        const uint8_t *p = t->data, *base = file;
        CHECK(p >= base && p + t->size <= base + file_size);
    }
    const sb_gguf_tensor *a = sb_gguf_find_tensor(g, "a.f32"), *c = sb_gguf_find_tensor(g, "c.q8_0");
    CHECK(a && a->n_dims == 2 && a->ne[0] == 4 && a->ne[1] == 3 && a->ne[2] == 1 && a->ne[3] == 1);
    CHECK(c && c->n_dims == 2 && c->ne[0] == 32 && c->ne[1] == 2);
    CHECK(sb_gguf_find_tensor(g, "nope") == NULL);
    CHECK(sb_gguf_tensor_at(g, 4) == NULL && sb_gguf_tensor_at(g, -1) == NULL);
    CHECK(gguf_walk(g) >= 0);
}

static void test_round_trip_every_value_type_from_memory(void)
{
    void *buf = NULL;
    size_t size = 0;
    CHECK_EQ_INT(sample_build(&buf, &size), 0);
    sb_gguf *g = NULL;
    sb_gguf_error e;
    int rc = sb_gguf_open_memory(buf, size, "sample", &g, &e);
    CHECK_MSG(rc == 0, "open: %s", e.msg);
    if (g) check_sample(g, buf, size);
    sb_gguf_close(g);
    free(buf);
}

static void test_round_trip_through_a_file_is_byte_identical(void)
{
    uint8_t q8[68], q4k[144];
    sb_gguf_writer *w = sample_writer(q8, q4k);
    CHECK(w != NULL);
    if (!w) return;
    char path[512];
    snprintf(path, sizeof path, "%s/sample.gguf", test_tmpdir());
    sb_gguf_error e;
    CHECK_EQ_INT(sb_gguf_writer_write(w, path, &e), 0);
    void *mem = NULL, *disk = NULL;
    size_t msize = 0, dsize = 0;
    CHECK_EQ_INT(sb_gguf_writer_to_memory(w, &mem, &msize, &e), 0);
    CHECK_EQ_INT(read_file(path, &disk, &dsize), 0);
    CHECK(msize == dsize && memcmp(mem, disk, msize) == 0);
    sb_gguf *g = NULL;
    int rc = sb_gguf_open(path, &g, &e);
    CHECK_MSG(rc == 0, "open: %s", e.msg);
    if (g) {
        CHECK_STR(sb_gguf_path(g), path);
        check_sample(g, sb_gguf_base(g), dsize);
    }
    sb_gguf_close(g);
    sb_gguf_writer_free(w);
    free(mem);
    free(disk);
}

static void test_getter_errors_name_the_key(void)
{
    void *buf = NULL;
    size_t size = 0;
    CHECK_EQ_INT(sample_build(&buf, &size), 0);
    sb_gguf *g = NULL;
    sb_gguf_error e;
    CHECK_EQ_INT(sb_gguf_open_memory(buf, size, "sample", &g, &e), 0);
    if (!g) { free(buf); return; }
    uint32_t u32;
    int64_t i64;
    float f;
    int b;
    const char *s;
    size_t len;
    uint64_t n;
    sb_gguf_vtype et;
    const void *data;
    CHECK_EQ_INT(sb_gguf_get_u32(g, "no.such.key", &u32, &e), SB_GGUF_E_NOT_FOUND);
    CHECK(strstr(e.msg, "no.such.key") != NULL);
    CHECK_EQ_INT(sb_gguf_get_str(g, "t.u32", &s, &len, &e), SB_GGUF_E_WRONG_TYPE);
    CHECK(strstr(e.msg, "t.u32") != NULL);
    CHECK_EQ_INT(sb_gguf_get_u32(g, "t.str", &u32, &e), SB_GGUF_E_WRONG_TYPE);
    CHECK_EQ_INT(sb_gguf_get_u32(g, "t.u64", &u32, &e), SB_GGUF_E_WRONG_TYPE);     /* does not fit */
    CHECK_EQ_INT(sb_gguf_get_u32(g, "t.i8", &u32, &e), SB_GGUF_E_WRONG_TYPE);      /* negative */
    CHECK_EQ_INT(sb_gguf_get_i64(g, "t.u64", &i64, &e), SB_GGUF_E_WRONG_TYPE);     /* > INT64_MAX */
    uint64_t u64;
    CHECK_EQ_INT(sb_gguf_get_u64(g, "t.i8", &u64, &e), SB_GGUF_E_WRONG_TYPE);      /* negative */
    CHECK_EQ_INT(sb_gguf_get_u64(g, "t.i32", &u64, &e), SB_GGUF_E_WRONG_TYPE);
    CHECK_EQ_INT(sb_gguf_get_u64(g, "t.u16", &u64, &e), 0);
    CHECK_EQ_INT(u64, 65000);
    CHECK_EQ_INT(sb_gguf_get_u32(NULL, "t.u16", &u32, &e), SB_GGUF_E_ARG);
    CHECK_EQ_INT(sb_gguf_get_u32(g, "t.f32", &u32, &e), SB_GGUF_E_WRONG_TYPE);
    CHECK_EQ_INT(sb_gguf_get_u32(g, "t.bool", &u32, &e), SB_GGUF_E_WRONG_TYPE);
    CHECK_EQ_INT(sb_gguf_get_f32(g, "t.u32", &f, &e), SB_GGUF_E_WRONG_TYPE);
    CHECK_EQ_INT(sb_gguf_get_bool(g, "t.u8", &b, &e), SB_GGUF_E_WRONG_TYPE);
    CHECK_EQ_INT(sb_gguf_get_arr(g, "t.arr_str", &et, &n, &data, &e), SB_GGUF_E_WRONG_TYPE);
    CHECK_EQ_INT(sb_gguf_get_arr(g, "t.u8", &et, &n, &data, &e), SB_GGUF_E_WRONG_TYPE);
    CHECK_EQ_INT(sb_gguf_get_arr_str_n(g, "t.arr_i32", &n, &e), SB_GGUF_E_WRONG_TYPE);
    CHECK(strstr(e.msg, "array of i32") != NULL);
    CHECK_EQ_INT(sb_gguf_get_arr_str(g, "t.arr_str", 4, &s, &len, &e), SB_GGUF_E_ARG);
    CHECK_EQ_INT(sb_gguf_get_u32(g, "t.u8", &u32, NULL), 0);                         /* err optional */
    CHECK_EQ_INT(sb_gguf_get_u32(g, "missing", &u32, NULL), SB_GGUF_E_NOT_FOUND);
    sb_gguf_num v;
    CHECK_EQ_INT(sb_gguf_kv_num(g, sb_gguf_find_key(g, "t.str"), 0, &v), SB_GGUF_E_WRONG_TYPE);
    CHECK_EQ_INT(sb_gguf_kv_num(g, sb_gguf_find_key(g, "t.u8"), 1, &v), SB_GGUF_E_ARG);
    CHECK_EQ_INT(sb_gguf_kv_num(g, 99, 0, &v), SB_GGUF_E_ARG);
    CHECK(sb_gguf_kv_key(g, 18) == NULL && sb_gguf_kv_key(g, -1) == NULL);
    sb_gguf_close(g);
    free(buf);
}

static void test_writer_refuses_bad_input(void)
{
    sb_gguf_writer *w = sb_gguf_writer_new();
    float x[64] = {0};
    int64_t ne4[1] = {4}, ne5[5] = {1, 1, 1, 1, 1}, ne_q[1] = {16}, ne0[1] = {0};
    char long_name[65];
    memset(long_name, 'n', 64);
    long_name[64] = 0;
    CHECK_EQ_INT(sb_gguf_set_u32(w, "", 1), SB_GGUF_E_KEY);
    CHECK_EQ_INT(sb_gguf_set_u32(w, "bad\xff", 1), SB_GGUF_E_KEY);
    CHECK_EQ_INT(sb_gguf_set_arr(w, "k", SB_GGUF_STRING, x, 1), SB_GGUF_E_ARG);
    CHECK_EQ_INT(sb_gguf_set_arr(w, "k", SB_GGUF_ARRAY, x, 1), SB_GGUF_E_ARG);
    CHECK_EQ_INT(sb_gguf_add_tensor(w, "", 0, 1, ne4, x, 16), SB_GGUF_E_NAME);
    CHECK_EQ_INT(sb_gguf_add_tensor(w, long_name, 0, 1, ne4, x, 16), SB_GGUF_E_NAME);
    long_name[63] = 0;                                                    /* 63 bytes is fine */
    CHECK_EQ_INT(sb_gguf_add_tensor(w, long_name, 0, 1, ne4, x, 16), 0);
    CHECK_EQ_INT(sb_gguf_add_tensor(w, long_name, 0, 1, ne4, x, 16), SB_GGUF_E_NAME);  /* duplicate */
    CHECK_EQ_INT(sb_gguf_add_tensor(w, "t", 0, 1, ne4, x, 12), SB_GGUF_E_SHAPE);        /* wrong size */
    CHECK_EQ_INT(sb_gguf_add_tensor(w, "t", 4, 1, ne4, x, 16), SB_GGUF_E_TENSOR_TYPE);  /* q4_2: removed */
    CHECK_EQ_INT(sb_gguf_add_tensor(w, "t", 999, 1, ne4, x, 16), SB_GGUF_E_TENSOR_TYPE);
    CHECK_EQ_INT(sb_gguf_add_tensor(w, "t", 0, 5, ne5, x, 4), SB_GGUF_E_DIMS);
    CHECK_EQ_INT(sb_gguf_add_tensor(w, "t", 0, 0, ne4, x, 4), SB_GGUF_E_DIMS);
    CHECK_EQ_INT(sb_gguf_add_tensor(w, "t", 0, 1, ne0, x, 0), SB_GGUF_E_SHAPE);
    CHECK_EQ_INT(sb_gguf_add_tensor(w, "t", 8, 1, ne_q, x, 17), SB_GGUF_E_SHAPE);       /* 16 % 32 */
    /* Setting a key twice replaces the value and keeps one entry. */
    CHECK_EQ_INT(sb_gguf_set_u32(w, "k", 1), 0);
    CHECK_EQ_INT(sb_gguf_set_str(w, "k", "two"), 0);
    CHECK_EQ_INT(sb_gguf_set_u32(w, "general.alignment", 48), 0);           /* not a power of 2 */
    void *buf = NULL;
    size_t size = 0;
    sb_gguf_error e;
    CHECK_EQ_INT(sb_gguf_writer_to_memory(w, &buf, &size, &e), SB_GGUF_E_ALIGNMENT);
    CHECK_EQ_INT(sb_gguf_set_u32(w, "general.alignment", 16), 0);
    CHECK_EQ_INT(sb_gguf_writer_to_memory(w, &buf, &size, &e), 0);
    sb_gguf *g = NULL;
    CHECK_EQ_INT(sb_gguf_open_memory(buf, size, "w", &g, &e), 0);
    if (g) {
        const char *s;
        size_t len;
        CHECK_EQ_INT(sb_gguf_n_kv(g), 2);
        CHECK_EQ_INT(sb_gguf_get_str(g, "k", &s, &len, &e), 0);
        CHECK(len == 3 && memcmp(s, "two", 3) == 0);
        CHECK_EQ_INT(sb_gguf_alignment(g), 16);
        CHECK_EQ_INT(sb_gguf_n_tensors(g), 1);
    }
    sb_gguf_close(g);
    free(buf);
    sb_gguf_writer_free(w);
}

/* Every type of the table can be written and read back with the size the table implies. */
static void test_every_tensor_type_round_trips(void)
{
    sb_gguf_writer *w = sb_gguf_writer_new();
    static uint8_t payload[4096];
    int n_types = 0;
    sample_pattern(payload, sizeof payload, 5);
    for (uint32_t t = 0; t < sb_gguf_type_count(); t++) {
        uint32_t be = sb_gguf_type_block_elems(t), bb = sb_gguf_type_block_bytes(t);
        if (!be) { CHECK(sb_gguf_type_name(t) == NULL); continue; }
        CHECK(sb_gguf_type_name(t) != NULL && bb > 0);
        int64_t ne[2] = {2 * (int64_t)be, 3};
        uint64_t size;
        CHECK_EQ_INT(sb_gguf_tensor_nbytes(t, 2, ne, &size), 0);
        CHECK_EQ_INT(size, 6ull * bb);
        char name[32];
        snprintf(name, sizeof name, "t%u.%s", t, sb_gguf_type_name(t));
        CHECK_EQ_INT(sb_gguf_add_tensor(w, name, t, 2, ne, payload, size), 0);
        n_types++;
    }
    CHECK(n_types >= 39);
    CHECK(sb_gguf_type_name(4) == NULL && sb_gguf_type_name(5) == NULL && sb_gguf_type_name(1000) == NULL);
    CHECK_STR(sb_gguf_type_name(12), "q4_K");
    CHECK_EQ_INT(sb_gguf_type_block_bytes(14), 210);
    void *buf = NULL;
    size_t size = 0;
    sb_gguf_error e;
    CHECK_EQ_INT(sb_gguf_writer_to_memory(w, &buf, &size, &e), 0);
    sb_gguf *g = NULL;
    CHECK_EQ_INT(sb_gguf_open_memory(buf, size, "types", &g, &e), 0);
    if (g) {
        CHECK_EQ_INT(sb_gguf_n_tensors(g), n_types);
        for (int64_t i = 0; i < sb_gguf_n_tensors(g); i++) {
            const sb_gguf_tensor *t = sb_gguf_tensor_at(g, i);
            CHECK_EQ_INT(t->size, 6ull * sb_gguf_type_block_bytes(t->type));
            CHECK(memcmp(t->data, payload, (size_t)t->size) == 0);
        }
    }
    sb_gguf_close(g);
    free(buf);
    sb_gguf_writer_free(w);
}

static int count_dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return -1;
    for (struct dirent *de; (de = readdir(d));)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) n++;
    closedir(d);
    return n;
}

/* A write that fails part way (file size limit → EFBIG) leaves the previous file as it was and
 * no temporary file behind. */
static void test_failed_write_leaves_old_file_intact(void)
{
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/atomic", test_tmpdir());
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/model.gguf", dir);
    sb_gguf_writer *small = sb_gguf_writer_new();
    sb_gguf_set_str(small, "general.name", "old");
    sb_gguf_error e;
    CHECK_EQ_INT(sb_gguf_writer_write(small, path, &e), 0);
    void *before = NULL;
    size_t before_size = 0;
    CHECK_EQ_INT(read_file(path, &before, &before_size), 0);

    static float big[64 * 1024];                                   /* 256 KiB of tensor data */
    int64_t ne[1] = {64 * 1024};
    sb_gguf_writer *w = sb_gguf_writer_new();
    sb_gguf_set_str(w, "general.name", "new");
    CHECK_EQ_INT(sb_gguf_add_tensor(w, "big", 0, 1, ne, big, sizeof big), 0);

    struct rlimit old_lim, lim;
    getrlimit(RLIMIT_FSIZE, &old_lim);
    lim = old_lim;
    lim.rlim_cur = 64 * 1024;
    void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
    int set = setrlimit(RLIMIT_FSIZE, &lim);
    int rc = sb_gguf_writer_write(w, path, &e);
    setrlimit(RLIMIT_FSIZE, &old_lim);
    signal(SIGXFSZ, old_sig);
    if (set != 0) {
        test_skip("cannot lower RLIMIT_FSIZE: %s", strerror(errno));
    } else {
        CHECK_EQ_INT(rc, SB_GGUF_E_IO);
        CHECK(strstr(e.msg, "unchanged") != NULL);
        void *after = NULL;
        size_t after_size = 0;
        CHECK_EQ_INT(read_file(path, &after, &after_size), 0);
        CHECK(after_size == before_size && memcmp(after, before, before_size) == 0);
        CHECK_EQ_INT(count_dir_entries(dir), 1);
        free(after);
    }
    /* Without the limit the same write succeeds and replaces the file. */
    CHECK_EQ_INT(sb_gguf_writer_write(w, path, &e), 0);
    sb_gguf *g = NULL;
    CHECK_EQ_INT(sb_gguf_open(path, &g, &e), 0);
    if (g) {
        const char *s;
        size_t len;
        CHECK_EQ_INT(sb_gguf_get_str(g, "general.name", &s, &len, &e), 0);
        CHECK(len == 3 && memcmp(s, "new", 3) == 0);
        CHECK_EQ_INT(sb_gguf_n_tensors(g), 1);
    }
    sb_gguf_close(g);
    CHECK_EQ_INT(count_dir_entries(dir), 1);

    /* A directory that does not exist: an I/O error naming the path. */
    char bad[700];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.gguf", dir);
    CHECK_EQ_INT(sb_gguf_writer_write(w, bad, &e), SB_GGUF_E_IO);
    CHECK_STR(e.file, bad);
    free(before);
    sb_gguf_writer_free(w);
    sb_gguf_writer_free(small);
}

static void test_open_path_errors(void)
{
    sb_gguf *g = (sb_gguf *)1;
    sb_gguf_error e;
    char path[512], msg[700];
    snprintf(path, sizeof path, "%s/does-not-exist.gguf", test_tmpdir());
    CHECK_EQ_INT(sb_gguf_open(path, &g, &e), SB_GGUF_E_IO);
    CHECK(g == NULL);
    CHECK_STR(e.file, path);
    sb_gguf_error_format(&e, msg, sizeof msg);
    CHECK(strstr(msg, path) == msg && strstr(msg, ": at byte 0: ") != NULL);
    CHECK_EQ_INT(sb_gguf_open(test_tmpdir(), &g, &e), SB_GGUF_E_IO);          /* a directory */
    snprintf(path, sizeof path, "%s/empty.gguf", test_tmpdir());
    FILE *f = fopen(path, "wb");
    if (f) fclose(f);
    CHECK_EQ_INT(sb_gguf_open(path, &g, &e), SB_GGUF_E_TRUNCATED);
    CHECK_EQ_INT(sb_gguf_open(NULL, &g, &e), SB_GGUF_E_ARG);
    CHECK_EQ_INT(sb_gguf_open_memory(NULL, 0, "empty", &g, &e), SB_GGUF_E_TRUNCATED);
    CHECK_EQ_INT(sb_gguf_open_memory(NULL, 5, "null", &g, &e), SB_GGUF_E_ARG);
    CHECK_STR(sb_gguf_status_name(SB_GGUF_E_MAGIC), "bad magic");
    CHECK_STR(sb_gguf_status_name(-3), "unknown error");
    sb_gguf_close(NULL);
}

/* Many keys and tensors: every one found by name (sorted index), absent names not found. */
static void test_many_keys_and_tensors_lookup(void)
{
    sb_gguf_writer *w = sb_gguf_writer_new();
    static float x[4];
    int64_t ne[1] = {4};
    char name[64];
    for (int i = 0; i < 1500; i++) {
        int k = (i * 7919) % 1500;                       /* not in sorted order */
        snprintf(name, sizeof name, "key.%d", k);
        CHECK_EQ_INT(sb_gguf_set_u32(w, name, (uint32_t)k), 0);
        snprintf(name, sizeof name, "blk.%d.weight", k);
        CHECK_EQ_INT(sb_gguf_add_tensor(w, name, 0, 1, ne, x, sizeof x), 0);
    }
    void *buf = NULL;
    size_t size = 0;
    sb_gguf_error e;
    CHECK_EQ_INT(sb_gguf_writer_to_memory(w, &buf, &size, &e), 0);
    sb_gguf *g = NULL;
    CHECK_EQ_INT(sb_gguf_open_memory(buf, size, "many", &g, &e), 0);
    if (g) {
        int found = 0;
        for (int k = 0; k < 1500; k++) {
            uint32_t v = 0;
            snprintf(name, sizeof name, "key.%d", k);
            found += sb_gguf_get_u32(g, name, &v, NULL) == 0 && v == (uint32_t)k;
            snprintf(name, sizeof name, "blk.%d.weight", k);
            const sb_gguf_tensor *t = sb_gguf_find_tensor(g, name);
            found += t && !strcmp(t->name, name);
        }
        CHECK_EQ_INT(found, 3000);
        CHECK_EQ_INT(sb_gguf_find_key(g, "key.1500"), -1);
        CHECK_EQ_INT(sb_gguf_find_key(g, "key."), -1);
        CHECK_EQ_INT(sb_gguf_find_key(g, ""), -1);
        CHECK(sb_gguf_find_tensor(g, "blk.-1.weight") == NULL);
    }
    sb_gguf_close(g);
    free(buf);
    sb_gguf_writer_free(w);
}

/* Strings with explicit lengths (NUL inside), and copying entries from an open file. */
static void test_strn_and_set_from(void)
{
    sb_gguf_writer *w = sb_gguf_writer_new();
    static const char *const strs[3] = {"x\0y", "", "tail"};
    static const size_t lens[3] = {3, 0, 4};
    CHECK_EQ_INT(sb_gguf_set_strn(w, "s", "a\0b", 3), 0);
    CHECK_EQ_INT(sb_gguf_set_arr_strn(w, "arr", strs, lens, 3), 0);
    void *buf = NULL, *buf2 = NULL;
    size_t size = 0, size2 = 0;
    sb_gguf_error e;
    CHECK_EQ_INT(sb_gguf_writer_to_memory(w, &buf, &size, &e), 0);
    sb_gguf *g = NULL, *h = NULL;
    CHECK_EQ_INT(sb_gguf_open_memory(buf, size, "strn", &g, &e), 0);
    if (g) {
        const char *s;
        size_t len;
        CHECK_EQ_INT(sb_gguf_kv_offset(g, 0), 24);
        CHECK_EQ_INT(sb_gguf_get_str(g, "s", &s, &len, &e), 0);
        CHECK(len == 3 && memcmp(s, "a\0b", 3) == 0);
        CHECK_EQ_INT(sb_gguf_get_arr_str(g, "arr", 0, &s, &len, &e), 0);
        CHECK(len == 3 && memcmp(s, "x\0y", 3) == 0);
        /* Copy both entries into a new writer: the same bytes come out. */
        sb_gguf_writer *w2 = sb_gguf_writer_new();
        CHECK_EQ_INT(sb_gguf_set_from(w2, g, 0), 0);
        CHECK_EQ_INT(sb_gguf_set_from(w2, g, 1), 0);
        CHECK_EQ_INT(sb_gguf_set_from(w2, g, 2), SB_GGUF_E_ARG);
        CHECK_EQ_INT(sb_gguf_writer_to_memory(w2, &buf2, &size2, &e), 0);
        CHECK(size2 == size && memcmp(buf, buf2, size) == 0);
        CHECK_EQ_INT(sb_gguf_open_memory(buf2, size2, "copy", &h, &e), 0);
        CHECK(h && gguf_same_content(g, h));
        sb_gguf_writer_free(w2);
    }
    sb_gguf_close(g);
    sb_gguf_close(h);
    free(buf);
    free(buf2);
    sb_gguf_writer_free(w);
}

int main(void)
{
    RUN(test_round_trip_every_value_type_from_memory);
    RUN(test_round_trip_through_a_file_is_byte_identical);
    RUN(test_getter_errors_name_the_key);
    RUN(test_writer_refuses_bad_input);
    RUN(test_every_tensor_type_round_trips);
    RUN(test_failed_write_leaves_old_file_intact);
    RUN(test_open_path_errors);
    RUN(test_many_keys_and_tensors_lookup);
    RUN(test_strn_and_set_from);
    return test_finish();
}
