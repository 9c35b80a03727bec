/* Writes the seed corpus of the GGUF fuzzer into a folder (make fuzz-seeds → gguf/fuzz/corpus):
 * small valid files made with the writer (every value type, every tensor type, alignment 1,
 * v2 and a hand-built v1) and a few refused ones (bad magic, byte-swapped version, truncated),
 * so the fuzzer starts from both sides of every check. Each is well under 8 KB. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/fuzz/sample.h"
#include "gguf/gguf.h"

static const char *dir;

static int save(const char *name, const void *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) { perror(path); return -1; }
    printf("%s: %zu bytes\n", path, n);
    return 0;
}

static int save_writer(const char *name, sb_gguf_writer *w)
{
    void *buf = NULL;
    size_t n = 0;
    sb_gguf_error e;
    int rc = sb_gguf_writer_to_memory(w, &buf, &n, &e);
    if (rc) { fprintf(stderr, "%s: %s\n", name, e.msg); return -1; }
    rc = save(name, buf, n);
    free(buf);
    return rc;
}

/* Little-endian helpers for the hand-built v1 file. */
static size_t put(uint8_t *b, size_t o, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) b[o + (size_t)i] = (uint8_t)(v >> (8 * i));
    return o + (size_t)n;
}
static size_t put_str4(uint8_t *b, size_t o, const char *s)
{
    size_t n = strlen(s);
    o = put(b, o, n, 4);
    memcpy(b + o, s, n);
    return o + n;
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: make_seeds DIR\n"); return 2; }
    dir = argv[1];
    int rc = 0;

    /* The sample (every value type, 4 tensors, alignment 64), and the same as v2. */
    void *buf = NULL;
    size_t n = 0;
    if (sample_build(&buf, &n)) return 1;
    rc |= save("sample_v3.gguf", buf, n);
    uint8_t *c = malloc(n);
    memcpy(c, buf, n);
    c[4] = 2;
    rc |= save("sample_v2.gguf", c, n);
    memcpy(c, buf, n);
    c[4] = 0; c[7] = 3;                                     /* big-endian version field */
    rc |= save("bad_swapped_version.gguf", c, n);
    memcpy(c, buf, n);
    memcpy(c, "GGUX", 4);
    rc |= save("bad_magic.gguf", c, n);
    rc |= save("bad_truncated.gguf", buf, n / 2);
    free(c);
    free(buf);

    /* Header only. */
    sb_gguf_writer *w = sb_gguf_writer_new();
    rc |= save_writer("empty_v3.gguf", w);
    sb_gguf_writer_free(w);

    /* Metadata only, with string arrays and every scalar type. */
    w = sb_gguf_writer_new();
    static const char *const toks[6] = {"<unk>", "<s>", "</s>", "<0x0A>", "\xe2\x96\x81the", "a b"};
    static const float scores[6] = {0, 0, 0, -1.5f, -2.0f, -3.25f};
    static const int32_t types[6] = {2, 3, 3, 6, 1, 1};
    sb_gguf_set_str(w, "general.architecture", "llama");
    sb_gguf_set_str(w, "tokenizer.ggml.model", "llama");
    sb_gguf_set_arr_str(w, "tokenizer.ggml.tokens", toks, 6);
    sb_gguf_set_arr(w, "tokenizer.ggml.scores", SB_GGUF_FLOAT32, scores, 6);
    sb_gguf_set_arr(w, "tokenizer.ggml.token_type", SB_GGUF_INT32, types, 6);
    sb_gguf_set_arr_str(w, "tokenizer.ggml.merges", toks + 3, 3);
    sb_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
    sb_gguf_set_bool(w, "tokenizer.ggml.add_bos_token", 1);
    sb_gguf_set_u64(w, "llama.context_length", 2048);
    sb_gguf_set_f64(w, "x.f64", 0.1);
    sb_gguf_set_i16(w, "x.i16", -7);
    rc |= save_writer("kv_only.gguf", w);
    sb_gguf_writer_free(w);

    /* One block of every tensor type. */
    w = sb_gguf_writer_new();
    static uint8_t payload[512];
    for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)(i * 13);
    for (uint32_t t = 0; t < sb_gguf_type_count(); t++) {
        if (!sb_gguf_type_block_elems(t)) continue;
        int64_t ne[2] = {sb_gguf_type_block_elems(t), 1};
        char name[32];
        snprintf(name, sizeof name, "%s", sb_gguf_type_name(t));
        sb_gguf_add_tensor(w, name, t, 2, ne, payload, sb_gguf_type_block_bytes(t));
    }
    sb_gguf_set_u32(w, "general.alignment", 8);
    rc |= save_writer("all_types.gguf", w);
    sb_gguf_writer_free(w);

    /* Alignment 1: tensors packed back to back. */
    w = sb_gguf_writer_new();
    int64_t ne3[1] = {3}, ne5[2] = {5, 2};
    sb_gguf_set_u32(w, "general.alignment", 1);
    sb_gguf_add_tensor(w, "a", 0, 1, ne3, payload, 12);
    sb_gguf_add_tensor(w, "b", 24, 2, ne5, payload, 10);
    sb_gguf_add_tensor(w, "c", 1, 1, ne3, payload, 6);
    rc |= save_writer("align1.gguf", w);
    sb_gguf_writer_free(w);

    /* GGUF v1: 32-bit counts, lengths and dimensions. */
    uint8_t v1[512];
    memset(v1, 0, sizeof v1);
    size_t o = 0;
    memcpy(v1, "GGUF", 4);
    o = put(v1, 4, 1, 4);
    o = put(v1, o, 2, 4);                                 /* tensors */
    o = put(v1, o, 3, 4);                                 /* kv */
    o = put_str4(v1, o, "general.architecture");
    o = put(v1, o, SB_GGUF_STRING, 4);
    o = put_str4(v1, o, "llama");
    o = put_str4(v1, o, "tokenizer.ggml.tokens");
    o = put(v1, o, SB_GGUF_ARRAY, 4);
    o = put(v1, o, SB_GGUF_STRING, 4);
    o = put(v1, o, 2, 4);
    o = put_str4(v1, o, "<unk>");
    o = put_str4(v1, o, "x");
    o = put_str4(v1, o, "llama.block_count");
    o = put(v1, o, SB_GGUF_UINT32, 4);
    o = put(v1, o, 1, 4);
    o = put_str4(v1, o, "w");
    o = put(v1, o, 2, 4);
    o = put(v1, o, 8, 4);
    o = put(v1, o, 2, 4);
    o = put(v1, o, 0, 4);                                 /* f32 */
    o = put(v1, o, 0, 8);
    o = put_str4(v1, o, "n");
    o = put(v1, o, 1, 4);
    o = put(v1, o, 8, 4);
    o = put(v1, o, 1, 4);                                 /* f16 */
    o = put(v1, o, 64, 8);
    o = (o + 31) / 32 * 32 + 64 + 16;
    rc |= save("v1.gguf", v1, o);
    return rc ? 1 : 0;
}
