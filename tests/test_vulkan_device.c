/* Vulkan back end infrastructure: device listing, no device (a child process with
 * VK_ICD_FILENAMES=/nonexistent must SKIP every Vulkan test and crash nowhere), buffers and the
 * sub-allocator, both memory paths (mapped and staging), batches of several dispatches with
 * timing, automatic flush of long batches, argument errors, zero validation errors. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernels/vulkan/vk_internal.h" /* test_validation_counts makes an invalid call on purpose */
#include "tests/test_vulkan.h"

static void test_list_devices(void)
{
    sb_vk_device_info d[8];
    int n = -1;
    char reason[256];
    int st = sb_vk_list_devices(d, 8, &n, reason, sizeof reason);
    if (st == SB_KERR_UNSUPPORTED) {
        CHECK(reason[0] != '\0');
        CHECK_EQ_INT(n, 0);
        test_skip("Vulkan unavailable: %s", reason);
        return;
    }
    CHECK_EQ_INT(st, SB_KOK);
    CHECK(n >= 1);
    for (int i = 0; i < n && i < 8; i++) {
        CHECK_EQ_INT(d[i].index, i);
        CHECK(d[i].name[0] != '\0');
        CHECK(d[i].type != NULL);
        CHECK(d[i].n_heaps >= 1);
        CHECK(d[i].heap_bytes[0] > 0);
        CHECK(d[i].max_workgroup_invocations >= 128);
        CHECK(d[i].api_major == 1);
        if (getenv("SB_TEST_VERBOSE"))
            printf("  device %d: %s (%s) vendor %04x driver %s api %u.%u.%u subgroup %u shared %u unified %d\n", i,
                   d[i].name, d[i].type, d[i].vendor_id, d[i].driver_name, d[i].api_major, d[i].api_minor,
                   d[i].api_patch, d[i].subgroup_size, d[i].max_shared_memory, d[i].unified_memory);
    }
    /* cap 0 only counts */
    int n2 = -1;
    CHECK_EQ_INT(sb_vk_list_devices(NULL, 0, &n2, NULL, 0), SB_KOK);
    CHECK_EQ_INT(n2, n);
    /* explicit index: that device */
    sb_vk *v0 = NULL;
    sb_vk_options o0 = {.device_index = n - 1, .validation = 0};
    CHECK_EQ_INT(sb_vk_open(&o0, &v0, NULL, 0), SB_KOK);
    if (v0) {
        CHECK_EQ_INT(sb_vk_device(v0)->index, n - 1);
        CHECK_STR(sb_vk_device(v0)->name, d[n - 1].name);
        CHECK_EQ_INT(sb_vk_validation_enabled(v0), 0);
        sb_vk_close(v0);
    }
    /* out-of-range index → error with a reason, no crash */
    sb_vk *vk = NULL;
    char err[256];
    sb_vk_options opt = {.device_index = n + 5, .validation = 0};
    CHECK_EQ_INT(sb_vk_open(&opt, &vk, err, sizeof err), SB_KERR_ARG);
    CHECK(vk == NULL);
    CHECK(strstr(err, "requested") != NULL);
}

/* Runs this binary again with no Vulkan driver: every test must pass or SKIP, none fail. */
static void test_no_device_child(void)
{
    if (getenv("SB_VK_CHILD")) {
        test_skip("already the no-device child");
        return;
    }
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        setenv("SB_VK_CHILD", "1", 1);
        setenv("VK_ICD_FILENAMES", "/nonexistent", 1);
        setenv("VK_DRIVER_FILES", "/nonexistent", 1);
        execl("/proc/self/exe", "test_vulkan_device", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    static char out[65536];
    size_t len = 0;
    ssize_t r;
    while ((r = read(fds[0], out + len, sizeof out - 1 - len)) > 0) len += (size_t)r;
    out[len] = '\0';
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d; output:\n%s", status, out);
    int p = -1, f = -1, s = -1;
    const char *res = strstr(out, "# RESULT");
    CHECK_MSG(res && sscanf(res, "# RESULT %d %d %d", &p, &f, &s) == 3, "no result line:\n%s", out);
    CHECK_EQ_INT(f, 0);
    CHECK_MSG(s >= 4, "expected the Vulkan tests to skip, got %d skips:\n%s", s, out);
    CHECK_MSG(strstr(out, "SKIP test_list_devices: Vulkan unavailable") != NULL, "no reason given:\n%s", out);
    if (getenv("SB_TEST_VERBOSE")) printf("%s", out);
}

static void test_buffers_and_allocator(void)
{
    sb_vk *vk = tv_get();
    if (!vk) return;
    uint64_t blocks0, bytes0;
    sb_vk_memory_usage(vk, &blocks0, &bytes0);
    enum { N = 200 };
    sb_vk_buf *b[N];
    for (int i = 0; i < N; i++) {
        CHECK_EQ_INT(sb_vk_buf_create(vk, (size_t)(i * 97 + 3), &b[i]), SB_KOK);
        CHECK_EQ_INT(sb_vk_buf_size(b[i]), i * 97 + 3);
    }
    uint64_t blocks1, bytes1;
    sb_vk_memory_usage(vk, &blocks1, &bytes1);
    CHECK(blocks1 == blocks0); /* 200 small buffers fit in the existing block: sub-allocated */
    CHECK(bytes1 > bytes0);
    /* Round trip of distinct contents through every other buffer. */
    for (int i = 0; i < N; i += 2) {
        size_t n = sb_vk_buf_size(b[i]);
        unsigned char *src = malloc(n), *dst = malloc(n);
        for (size_t j = 0; j < n; j++) src[j] = (unsigned char)(i * 31 + j * 7);
        memset(dst, 0xAA, n);
        CHECK_EQ_INT(sb_vk_buf_upload(vk, b[i], 0, src, n), SB_KOK);
        CHECK_EQ_INT(sb_vk_buf_download(vk, b[i], 0, dst, n), SB_KOK);
        CHECK(memcmp(src, dst, n) == 0);
        free(src);
        free(dst);
    }
    /* Out of range: error, no write. */
    char tmp[16] = {0};
    CHECK_EQ_INT(sb_vk_buf_upload(vk, b[0], 1, tmp, 3), SB_KERR_ARG);
    CHECK_EQ_INT(sb_vk_buf_download(vk, b[5], sb_vk_buf_size(b[5]), tmp, 1), SB_KERR_ARG);
    for (int i = 0; i < N; i += 2) sb_vk_buf_free(vk, b[i]);
    for (int i = 1; i < N; i += 2) sb_vk_buf_free(vk, b[i]);
    uint64_t blocks2, bytes2;
    sb_vk_memory_usage(vk, &blocks2, &bytes2);
    CHECK_EQ_INT(bytes2, bytes0);
    /* After coalescing, one buffer of most of a block fits again without a new block. */
    sb_vk_buf *big;
    CHECK_EQ_INT(sb_vk_buf_create(vk, (size_t)48 << 20, &big), SB_KOK);
    sb_vk_memory_usage(vk, &blocks2, NULL);
    CHECK_EQ_INT(blocks2, blocks1);
    sb_vk_buf_free(vk, big);
    /* Larger than one allocation may be: unsupported, not a crash. */
    uint64_t max_alloc = sb_vk_device(vk)->max_allocation;
    if (max_alloc && max_alloc < SIZE_MAX) {
        sb_vk_buf *huge = (sb_vk_buf *)1;
        CHECK_EQ_INT(sb_vk_buf_create(vk, (size_t)max_alloc + 1, &huge), SB_KERR_UNSUPPORTED);
        CHECK(huge == NULL);
        CHECK(strstr(sb_vk_last_error(vk), "maxMemoryAllocationSize") != NULL);
    }
    tv_check_validation();
}

/* A chain y = W·silu(rmsnorm(x)·…) recorded as one batch on resident device buffers, two tensors
 * sharing one buffer at offsets, against the same chain of ref kernels. */
static void run_chain(sb_vk *vk)
{
    const int64_t m = 5, n = 40, k = 64;
    uint64_t seed = 7;
    float *x = malloc(sizeof(float) * m * k), *w = malloc(sizeof(float) * k), *wg = malloc(sizeof(float) * n * k);
    float *t1 = malloc(sizeof(float) * m * k), *t2 = malloc(sizeof(float) * m * n), *t3 = malloc(sizeof(float) * m * n);
    float *got = malloc(sizeof(float) * m * n);
    test_fill_uniform(x, (size_t)(m * k), -1, 1, &seed);
    test_fill_uniform(w, (size_t)k, 0.5f, 1.5f, &seed);
    test_fill_uniform(wg, (size_t)(n * k), -1, 1, &seed);
    /* ref: t1 = rmsnorm(x); t2 = t1·Wᵀ; t3 = silu(t2)*t2; t3 = t3 + t2 */
    sb_rmsnorm(&tv_ref, t1, x, w, m, k, 1e-5f);
    sb_matmul(&tv_ref, t2, t1, wg, SB_TYPE_F32, m, n, k);
    sb_silu_mul(&tv_ref, t3, t2, t2, m * n);
    sb_add(&tv_ref, t3, t3, t2, m * n);

    sb_vk_buf *weights, *act;
    size_t w_off = 256; /* norm weight at 0, matrix at 256 */
    CHECK_EQ_INT(sb_vk_buf_create(vk, w_off + sizeof(float) * n * k, &weights), SB_KOK);
    CHECK_EQ_INT(sb_vk_buf_create(vk, sizeof(float) * (m * k * 2 + m * n * 2), &act), SB_KOK);
    CHECK_EQ_INT(sb_vk_buf_upload(vk, weights, 0, w, sizeof(float) * k), SB_KOK);
    CHECK_EQ_INT(sb_vk_buf_upload(vk, weights, w_off, wg, sizeof(float) * n * k), SB_KOK);
    CHECK_EQ_INT(sb_vk_buf_upload(vk, act, 0, x, sizeof(float) * m * k), SB_KOK);
    sb_vk_ref rx = {act, 0}, r1 = {act, sizeof(float) * m * k}, r2 = {act, sizeof(float) * m * k * 2},
              r3 = {act, sizeof(float) * (m * k * 2 + m * n)};
    sb_vk_ref rw = {weights, 0}, rg = {weights, w_off};
    for (int rep = 0; rep < 2; rep++) { /* weights stay; the second batch reuses them */
        float poison = NAN;
        for (int64_t i = 0; i < m * n; i++) CHECK_EQ_INT(sb_vk_buf_upload(vk, act, r3.off + 4 * i, &poison, 4), SB_KOK);
        sb_vk_timing tm = {-1, -1, -1};
        CHECK_EQ_INT(sb_vk_begin(vk), SB_KOK);
        CHECK_EQ_INT(sb_vk_op_rmsnorm(vk, r1, rx, rw, m, k, 1e-5f), SB_KOK);
        CHECK_EQ_INT(sb_vk_op_matmul(vk, r2, r1, rg, SB_TYPE_F32, m, n, k), SB_KOK);
        CHECK_EQ_INT(sb_vk_op_silu_mul(vk, r3, r2, r2, m * n), SB_KOK);
        CHECK_EQ_INT(sb_vk_op_add(vk, r3, r3, r2, m * n), SB_KOK);
        CHECK_EQ_INT(sb_vk_submit(vk, &tm), SB_KOK);
        CHECK_EQ_INT(tm.dispatches, 4);
        CHECK(tm.host_s > 0);
        CHECK(tm.device_s >= 0);
        CHECK_EQ_INT(sb_vk_buf_download(vk, act, r3.off, got, sizeof(float) * m * n), SB_KOK);
        double e = test_nmse(got, t3, (size_t)(m * n));
        CHECK_MSG(tv_all_finite(got, (size_t)(m * n)) && e < 1e-10, "chain nmse %g", e);
    }
    sb_vk_buf_free(vk, weights);
    sb_vk_buf_free(vk, act);
    free(x); free(w); free(wg); free(t1); free(t2); free(t3); free(got);
}

static void test_batch_chain(void)
{
    sb_vk *vk = tv_get();
    if (!vk) return;
    run_chain(vk);
    tv_check_validation();
}

/* The device-local + staging path (what a discrete GPU uses), forced on this device. */
static void test_staging_path(void)
{
    if (!tv_get()) return;
    setenv("SB_VK_STAGING", "1", 1);
    sb_vk *vk = NULL;
    char err[256];
    int st = sb_vk_open(NULL, &vk, err, sizeof err);
    unsetenv("SB_VK_STAGING");
    CHECK_MSG(st == SB_KOK, "open: %s", err);
    if (!vk) return;
    run_chain(vk);
    /* A transfer larger than the 8 MiB staging buffer goes in chunks. */
    size_t n = (size_t)9 << 20;
    unsigned char *src = malloc(n), *dst = malloc(n);
    for (size_t i = 0; i < n; i++) src[i] = (unsigned char)(i * 13 + (i >> 20));
    sb_vk_buf *b;
    CHECK_EQ_INT(sb_vk_buf_create(vk, n + 8, &b), SB_KOK);
    CHECK_EQ_INT(sb_vk_buf_upload(vk, b, 8, src, n), SB_KOK);
    CHECK_EQ_INT(sb_vk_buf_download(vk, b, 8, dst, n), SB_KOK);
    CHECK(memcmp(src, dst, n) == 0);
    free(src);
    free(dst);
    CHECK_EQ_INT(sb_vk_validation_errors(vk), 0);
    sb_vk_close(vk);
}

/* More dispatches than descriptor sets per batch: the batch flushes itself and stays correct. */
static void test_long_batch(void)
{
    sb_vk *vk = tv_get();
    if (!vk) return;
    const int64_t n = 37;
    const int reps = 700;
    float a[37], one[37], got[37];
    for (int i = 0; i < n; i++) { a[i] = (float)i; one[i] = 1.0f; }
    sb_vk_buf *b;
    CHECK_EQ_INT(sb_vk_buf_create(vk, sizeof a * 2, &b), SB_KOK);
    CHECK_EQ_INT(sb_vk_buf_upload(vk, b, 0, a, sizeof a), SB_KOK);
    CHECK_EQ_INT(sb_vk_buf_upload(vk, b, sizeof a, one, sizeof one), SB_KOK);
    sb_vk_ref ra = {b, 0}, r1 = {b, sizeof a};
    sb_vk_timing tm;
    CHECK_EQ_INT(sb_vk_begin(vk), SB_KOK);
    for (int r = 0; r < reps; r++) CHECK_EQ_INT(sb_vk_op_add(vk, ra, ra, r1, n), SB_KOK);
    CHECK_EQ_INT(sb_vk_submit(vk, &tm), SB_KOK);
    CHECK_EQ_INT(tm.dispatches, reps);
    CHECK_EQ_INT(sb_vk_buf_download(vk, b, 0, got, sizeof got), SB_KOK);
    for (int i = 0; i < n; i++) CHECK_NEAR(got[i], (float)(i + reps), 0);
    sb_vk_buf_free(vk, b);
    tv_check_validation();
}

static void test_argument_errors(void)
{
    sb_vk *vk = tv_get();
    if (!vk) return;
    sb_vk_buf *b;
    CHECK_EQ_INT(sb_vk_buf_create(vk, 4096, &b), SB_KOK);
    sb_vk_ref r = {b, 0};
    /* outside a batch */
    CHECK_EQ_INT(sb_vk_op_add(vk, r, r, r, 4), SB_KERR_ARG);
    CHECK_EQ_INT(sb_vk_submit(vk, NULL), SB_KERR_ARG);
    CHECK_EQ_INT(sb_vk_begin(vk), SB_KOK);
    CHECK_EQ_INT(sb_vk_begin(vk), SB_KERR_ARG);
    /* upload inside a batch */
    CHECK_EQ_INT(sb_vk_buf_upload(vk, b, 0, "abcd", 4), SB_KERR_ARG);
    /* tensor larger than its buffer; misaligned offset */
    CHECK_EQ_INT(sb_vk_op_add(vk, r, r, r, 1025), SB_KERR_ARG);
    CHECK(strstr(sb_vk_last_error(vk), "do not fit") != NULL);
    CHECK_EQ_INT(sb_vk_op_add(vk, (sb_vk_ref){b, 2}, r, r, 4), SB_KERR_ARG);
    /* k not a multiple of the block; unsupported type */
    CHECK_EQ_INT(sb_vk_op_matmul(vk, r, r, r, SB_TYPE_Q4_0, 1, 1, 48), SB_KERR_SHAPE);
    CHECK_EQ_INT(sb_vk_op_matmul(vk, r, r, r, SB_TYPE_Q8_K, 1, 1, 256), SB_KERR_UNSUPPORTED);
    /* get_rows with an id out of range */
    int32_t ids[3] = {0, 5, 2};
    CHECK_EQ_INT(sb_vk_op_get_rows(vk, r, r, SB_TYPE_F32, 5, 4, ids, 3), SB_KERR_ARG);
    ids[1] = -1;
    CHECK_EQ_INT(sb_vk_op_get_rows(vk, r, r, SB_TYPE_F32, 5, 4, ids, 3), SB_KERR_ARG);
    /* attention: head_dim too large, bad group, short cache, f32-only types */
    sb_attn_params p = {.m = 1, .pos = 0, .n_kv = 1, .n_head = 1, .n_kv_head = 1, .head_dim = 300, .scale = 1, .kv_type = SB_TYPE_F32};
    CHECK_EQ_INT(sb_vk_op_attention(vk, r, r, r, r, &p), SB_KERR_UNSUPPORTED);
    p.head_dim = 8; p.n_head = 3; p.n_kv_head = 2;
    CHECK_EQ_INT(sb_vk_op_attention(vk, r, r, r, r, &p), SB_KERR_SHAPE);
    p.n_head = 2; p.pos = 1;
    CHECK_EQ_INT(sb_vk_op_attention(vk, r, r, r, r, &p), SB_KERR_SHAPE);
    p.pos = 0; p.scale = NAN;
    CHECK_EQ_INT(sb_vk_op_attention(vk, r, r, r, r, &p), SB_KERR_ARG);
    p.scale = 1;
    /* n <= 0 for the row ops, as the ref kernels */
    CHECK_EQ_INT(sb_vk_op_rmsnorm(vk, r, r, r, 1, 0, 1e-5f), SB_KERR_ARG);
    CHECK_EQ_INT(sb_vk_op_softmax(vk, r, 1, 0), SB_KERR_ARG);
    p.kv_type = SB_TYPE_Q8_0;
    CHECK_EQ_INT(sb_vk_op_attention(vk, r, r, r, r, &p), SB_KERR_UNSUPPORTED);
    /* rope: odd n_rot */
    sb_rope_params rp = {.mode = SB_ROPE_NORMAL, .n_rot = 3, .freq_base = 10000, .freq_scale = 1};
    CHECK_EQ_INT(sb_vk_op_rope(vk, r, 1, 1, 4, 0, &rp), SB_KERR_ARG);
    /* a valid op still works in the same batch after the rejected ones */
    CHECK_EQ_INT(sb_vk_op_add(vk, r, r, r, 4), SB_KOK);
    CHECK_EQ_INT(sb_vk_submit(vk, NULL), SB_KOK);
    /* k = 0: Y = 0 (as ref), for both shaders */
    float z[12];
    for (int mm = 2; mm <= 6; mm += 4) {
        tv_poison(z, 12);
        CHECK_EQ_INT(sb_vk_matmul(vk, z, z, z, SB_TYPE_F32, mm, 2, 0, NULL), SB_KOK);
        for (int i = 0; i < mm * 2; i++) CHECK(z[i] == 0.0f);
    }
    /* host API arguments */
    float y[4];
    CHECK_EQ_INT(sb_vk_matmul(vk, y, NULL, y, SB_TYPE_F32, 1, 1, 1, NULL), SB_KERR_ARG);
    CHECK_EQ_INT(sb_vk_matmul(vk, y, y, y, SB_TYPE_F32, -1, 1, 1, NULL), SB_KERR_ARG);
    sb_vk_buf_free(vk, b);
    tv_check_validation();
}

/* The zero-validation-error checks are not vacuous: an invalid call (a buffer of size 0) on a
 * separate context is counted. */
static void test_validation_counts(void)
{
    if (!tv_get()) return;
    sb_vk_options opt = {.device_index = -1, .validation = 1};
    sb_vk *vk = NULL;
    char err[256];
    CHECK_EQ_INT(sb_vk_open(&opt, &vk, err, sizeof err), SB_KOK);
    if (!vk) return;
    if (!sb_vk_validation_enabled(vk)) {
        sb_vk_close(vk);
        test_skip("VK_LAYER_KHRONOS_validation not installed");
        return;
    }
    CHECK_EQ_INT(sb_vk_validation_errors(vk), 0);
    fprintf(stderr, "(an intentional validation error follows)\n");
    VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = 0,
                              .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT};
    VkBuffer buf = VK_NULL_HANDLE;
    if (vk->fn.vkCreateBuffer(vk->device, &bci, NULL, &buf) == VK_SUCCESS && buf)
        vk->fn.vkDestroyBuffer(vk->device, buf, NULL);
    CHECK(sb_vk_validation_errors(vk) >= 1);
    sb_vk_close(vk);
}

/* Buffers larger than one binding window (maxStorageBufferRange; lowered to 64 KiB here with
 * SB_VK_RANGE_LIMIT so the data stay small): tensors at offsets beyond the window, a matmul whose
 * W spans several windows (split by rows), get_rows from such a table (row by row), and a single
 * tensor larger than a window (unsupported, named). */
static void test_large_buffers(void)
{
    if (!tv_get()) return;
    setenv("SB_VK_RANGE_LIMIT", "65536", 1);
    sb_vk *vk = NULL;
    char err[256];
    int st = sb_vk_open(NULL, &vk, err, sizeof err);
    unsetenv("SB_VK_RANGE_LIMIT");
    CHECK_MSG(st == SB_KOK, "open: %s", err);
    if (!vk) return;
    const sb_kctx ref = {SB_ISA_REF, 1};
    uint64_t seed = 9;
    for (int mi = 0; mi < 2; mi++) {
        /* q8_0 W: 300 rows × 272 bytes = 81600 bytes; q4_0: 300 × 144 = 43200 bytes at an
         * offset that makes the windows start mid-tensor (rows of 144 bytes, 18-byte blocks) */
        const sb_type wt = mi ? SB_TYPE_Q4_0 : SB_TYPE_Q8_0;
        const int64_t m = mi ? 6 : 2, n = 300, k = 256;
        size_t rb = 0;
        sb_row_bytes(wt, k, &rb);
        size_t wbytes = rb * (size_t)n;
        uint8_t *W = malloc(wbytes);
        float row[256], X[6 * 256], Y[6 * 300], want[6 * 300];
        for (int64_t j = 0; j < n; j++) {
            test_fill_uniform(row, 256, -1, 1, &seed);
            sb_quantize_row(wt, row, W + (size_t)j * rb, k);
        }
        test_fill_uniform(X, (size_t)(m * k), -1, 1, &seed);
        sb_vk_buf *big;
        size_t w_off = mi ? 60002 + 2 : 100000, x_off = 200000, y_off = 240000; /* beyond the first window */
        CHECK_EQ_INT(sb_vk_buf_create(vk, 300000, &big), SB_KOK);
        CHECK_EQ_INT(sb_vk_buf_upload(vk, big, w_off, W, wbytes), SB_KOK);
        CHECK_EQ_INT(sb_vk_buf_upload(vk, big, x_off, X, sizeof(float) * (size_t)(m * k)), SB_KOK);
        CHECK_EQ_INT(sb_vk_begin(vk), SB_KOK);
        CHECK_EQ_INT(sb_vk_op_matmul(vk, (sb_vk_ref){big, y_off}, (sb_vk_ref){big, x_off}, (sb_vk_ref){big, w_off},
                                     wt, m, n, k), SB_KOK);
        sb_vk_timing tm;
        CHECK_EQ_INT(sb_vk_submit(vk, &tm), SB_KOK);
        if (!mi) CHECK(tm.dispatches >= 2); /* split */
        tv_poison(Y, (size_t)(m * n));
        CHECK_EQ_INT(sb_vk_buf_download(vk, big, y_off, Y, sizeof(float) * (size_t)(m * n)), SB_KOK);
        sb_matmul(&ref, want, X, W, wt, m, n, k);
        double e = test_nmse(Y, want, (size_t)(m * n));
        CHECK_MSG(tv_all_finite(Y, (size_t)(m * n)) && e <= 1e-4, "split matmul m %lld: nmse %g", (long long)m, e);
        /* get_rows from the same table, row by row */
        int32_t ids[4] = {299, 0, 150, 151};
        float g[4 * 256], gw[4 * 256];
        CHECK_EQ_INT(sb_vk_begin(vk), SB_KOK);
        CHECK_EQ_INT(sb_vk_op_get_rows(vk, (sb_vk_ref){big, y_off}, (sb_vk_ref){big, w_off}, wt, n, k, ids, 4), SB_KOK);
        CHECK_EQ_INT(sb_vk_submit(vk, NULL), SB_KOK);
        tv_poison(g, 4 * 256);
        CHECK_EQ_INT(sb_vk_buf_download(vk, big, y_off, g, sizeof g), SB_KOK);
        for (int i = 0; i < 4; i++) sb_dequantize_row(wt, W + (size_t)ids[i] * rb, gw + i * 256, 256);
        CHECK(test_nmse(g, gw, 4 * 256) == 0);
        /* one tensor larger than a window */
        CHECK_EQ_INT(sb_vk_begin(vk), SB_KOK);
        CHECK_EQ_INT(sb_vk_op_add(vk, (sb_vk_ref){big, 0}, (sb_vk_ref){big, 0}, (sb_vk_ref){big, 0}, 20000), SB_KERR_UNSUPPORTED);
        CHECK(strstr(sb_vk_last_error(vk), "maxStorageBufferRange") != NULL);
        CHECK_EQ_INT(sb_vk_submit(vk, NULL), SB_KOK);
        sb_vk_buf_free(vk, big);
        free(W);
    }
    { /* q4_0 with k = 32: 18-byte rows, so split parts and gathered rows start at offsets ≡ 2 mod 4 */
        const int64_t n = 4001, k = 32, m = 3;
        uint8_t *W = malloc(18 * (size_t)n);
        float row[32], X[3 * 32], *Y = malloc(sizeof(float) * (size_t)(m * n)), *want = malloc(sizeof(float) * (size_t)(m * n));
        for (int64_t j = 0; j < n; j++) {
            test_fill_uniform(row, 32, -1, 1, &seed);
            sb_quantize_row(SB_TYPE_Q4_0, row, W + 18 * j, k);
        }
        test_fill_uniform(X, 96, -1, 1, &seed);
        sb_vk_buf *wb, *ab;
        CHECK_EQ_INT(sb_vk_buf_create(vk, 18 * (size_t)n, &wb), SB_KOK);
        CHECK_EQ_INT(sb_vk_buf_create(vk, sizeof(float) * (size_t)(m * n + 96), &ab), SB_KOK);
        CHECK_EQ_INT(sb_vk_buf_upload(vk, wb, 0, W, 18 * (size_t)n), SB_KOK);
        CHECK_EQ_INT(sb_vk_buf_upload(vk, ab, 0, X, sizeof X), SB_KOK);
        int32_t ids[3] = {1, 3999, 4000};
        CHECK_EQ_INT(sb_vk_begin(vk), SB_KOK);
        CHECK_EQ_INT(sb_vk_op_matmul(vk, (sb_vk_ref){ab, sizeof X}, (sb_vk_ref){ab, 0}, (sb_vk_ref){wb, 0}, SB_TYPE_Q4_0, m, n, k), SB_KOK);
        CHECK_EQ_INT(sb_vk_submit(vk, NULL), SB_KOK);
        tv_poison(Y, (size_t)(m * n));
        CHECK_EQ_INT(sb_vk_buf_download(vk, ab, sizeof X, Y, sizeof(float) * (size_t)(m * n)), SB_KOK);
        sb_matmul(&ref, want, X, W, SB_TYPE_Q4_0, m, n, k);
        double e = test_nmse(Y, want, (size_t)(m * n));
        CHECK_MSG(tv_all_finite(Y, (size_t)(m * n)) && e <= 1e-4, "split q4_0 matmul: nmse %g", e);
        CHECK_EQ_INT(sb_vk_begin(vk), SB_KOK);
        CHECK_EQ_INT(sb_vk_op_get_rows(vk, (sb_vk_ref){ab, 0}, (sb_vk_ref){wb, 0}, SB_TYPE_Q4_0, n, k, ids, 3), SB_KOK);
        CHECK_EQ_INT(sb_vk_submit(vk, NULL), SB_KOK);
        float g[96], gw[96];
        tv_poison(g, 96);
        CHECK_EQ_INT(sb_vk_buf_download(vk, ab, 0, g, sizeof g), SB_KOK);
        for (int i = 0; i < 3; i++) sb_dequantize_row(SB_TYPE_Q4_0, W + 18 * (size_t)ids[i], gw + 32 * i, 32);
        CHECK(test_nmse(g, gw, 96) == 0);
        sb_vk_buf_free(vk, wb);
        sb_vk_buf_free(vk, ab);
        free(W); free(Y); free(want);
    }
    CHECK_EQ_INT(sb_vk_validation_errors(vk), 0);
    sb_vk_close(vk);
}

int main(void)
{
    tv_init();
    RUN(test_list_devices);
    RUN(test_no_device_child);
    RUN(test_buffers_and_allocator);
    RUN(test_batch_chain);
    RUN(test_staging_path);
    RUN(test_long_batch);
    RUN(test_large_buffers);
    RUN(test_argument_errors);
    RUN(test_validation_counts);
    tv_finish();
    return test_finish();
}
