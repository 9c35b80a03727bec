/* GGUF reader on the real files in ../shared/models: the llama.cpp CI model stories260K, a
 * Llama-2-shaped random model with the real 32000-token tokenizer, every llama.cpp vocab-only
 * file, and the same stories260K model in the legacy GGUF v1 layout (supported on purpose: its
 * 48 tensors must be byte-identical to the v3 file's). Each SKIPs when the data is absent. */
#include <stdlib.h>

#include "gguf/fuzz/walk.h"
#include "gguf/gguf.h"
#include "tests/test.h"

static sb_gguf *open_shared(const char *rel)
{
    const char *path = test_shared_path(rel);
    if (!path) { test_skip("../shared/%s not found (set SB_SHARED)", rel); return NULL; }
    sb_gguf *g = NULL;
    sb_gguf_error e;
    char msg[700];
    int rc = sb_gguf_open(path, &g, &e);
    sb_gguf_error_format(&e, msg, sizeof msg);
    CHECK_MSG(rc == 0, "%s", msg);
    return g;
}

static uint32_t get_u32(const sb_gguf *g, const char *key)
{
    uint32_t v = 0xdeadbeef;
    sb_gguf_error e;
    CHECK_MSG(sb_gguf_get_u32(g, key, &v, &e) == 0, "%s", e.msg);
    return v;
}

static int str_is(const sb_gguf *g, const char *key, const char *want)
{
    const char *s;
    size_t len;
    if (sb_gguf_get_str(g, key, &s, &len, NULL)) return 0;
    return len == strlen(want) && memcmp(s, want, len) == 0;
}

static int tok_is(const sb_gguf *g, uint64_t i, const char *want)
{
    const char *s;
    size_t len;
    if (sb_gguf_get_arr_str(g, "tokenizer.ggml.tokens", i, &s, &len, NULL)) return 0;
    return len == strlen(want) && memcmp(s, want, len) == 0;
}

/* Sum of the tensors' element counts; also checks that the data, padded to the alignment,
 * tiles the data section exactly up to the end of the file. */
static int64_t count_params(const sb_gguf *g)
{
    int64_t total = 0;
    uint64_t end = 0;
    for (int64_t i = 0; i < sb_gguf_n_tensors(g); i++) {
        const sb_gguf_tensor *t = sb_gguf_tensor_at(g, i);
        total += t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
        uint64_t e = t->offset + t->size;
        if (e > end) end = e;
    }
    uint64_t a = sb_gguf_alignment(g);
    end = (end + a - 1) / a * a;
    CHECK(sb_gguf_data_offset(g) + end >= sb_gguf_file_size(g));
    CHECK(sb_gguf_data_offset(g) + end - sb_gguf_file_size(g) < a);
    return total;
}

static void test_stories260k(void)
{
    sb_gguf *g = open_shared("models/stories260K.gguf");
    if (!g) return;
    CHECK_EQ_INT(sb_gguf_version(g), 3);
    CHECK_EQ_INT(sb_gguf_n_tensors(g), 48);
    CHECK_EQ_INT(sb_gguf_n_kv(g), 19);
    CHECK_EQ_INT(sb_gguf_alignment(g), 32);
    CHECK(str_is(g, "general.architecture", "llama"));
    CHECK(str_is(g, "tokenizer.ggml.model", "llama"));
    CHECK_EQ_INT(get_u32(g, "llama.embedding_length"), 64);
    CHECK_EQ_INT(get_u32(g, "llama.block_count"), 5);
    CHECK_EQ_INT(get_u32(g, "llama.feed_forward_length"), 172);
    CHECK_EQ_INT(get_u32(g, "llama.attention.head_count"), 8);
    CHECK_EQ_INT(get_u32(g, "llama.attention.head_count_kv"), 4);
    CHECK_EQ_INT(get_u32(g, "llama.rope.dimension_count"), 8);
    CHECK_EQ_INT(get_u32(g, "llama.context_length"), 2048);
    CHECK_EQ_INT(get_u32(g, "tokenizer.ggml.bos_token_id"), 1);
    float eps = 0;
    CHECK_EQ_INT(sb_gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", &eps, NULL), 0);
    CHECK_NEAR(eps, 1e-5, 1e-12);
    CHECK_EQ_INT(sb_gguf_find_key(g, "llama.rope.freq_base"), -1);
    uint64_t n = 0;
    CHECK_EQ_INT(sb_gguf_get_arr_str_n(g, "tokenizer.ggml.tokens", &n, NULL), 0);
    CHECK_EQ_INT(n, 512);
    CHECK(tok_is(g, 0, "<unk>") && tok_is(g, 1, "<s>") && tok_is(g, 2, "</s>") && tok_is(g, 3, "<0x00>"));
    sb_gguf_vtype et;
    const void *d;
    CHECK_EQ_INT(sb_gguf_get_arr(g, "tokenizer.ggml.scores", &et, &n, &d, NULL), 0);
    CHECK(et == SB_GGUF_FLOAT32 && n == 512);
    for (int64_t i = 0; i < 48; i++) CHECK_EQ_INT(sb_gguf_tensor_at(g, i)->type, 0);
    const sb_gguf_tensor *t = sb_gguf_find_tensor(g, "token_embd.weight");
    CHECK(t && t->n_dims == 2 && t->ne[0] == 64 && t->ne[1] == 512 && t->size == 64 * 512 * 4);
    CHECK(sb_gguf_find_tensor(g, "output.weight") != NULL);
    CHECK(sb_gguf_find_tensor(g, "blk.4.ffn_down.weight") != NULL);
    CHECK_EQ_INT(count_params(g), 292800);
    CHECK(gguf_walk(g) >= 0);
    CHECK_EQ_INT(gguf_rewrite_check(g), 0);      /* the writer reproduces the whole model */
    sb_gguf_close(g);
}

static void test_llama2_tiny_random(void)
{
    sb_gguf *g = open_shared("models/llama-2-tiny-random.gguf");
    if (!g) return;
    CHECK_EQ_INT(sb_gguf_version(g), 3);
    CHECK_EQ_INT(sb_gguf_n_tensors(g), 12);
    CHECK_EQ_INT(sb_gguf_n_kv(g), 18);
    CHECK_EQ_INT(get_u32(g, "llama.embedding_length"), 8);
    CHECK_EQ_INT(get_u32(g, "llama.context_length"), 4096);
    CHECK_EQ_INT(get_u32(g, "general.file_type"), 1);
    uint64_t n = 0;
    CHECK_EQ_INT(sb_gguf_get_arr_str_n(g, "tokenizer.ggml.tokens", &n, NULL), 0);
    CHECK_EQ_INT(n, 32000);
    CHECK(tok_is(g, 1, "<s>") && tok_is(g, 2, "</s>"));
    int f16 = 0, f32 = 0;
    for (int64_t i = 0; i < sb_gguf_n_tensors(g); i++) {
        const sb_gguf_tensor *t = sb_gguf_tensor_at(g, i);
        if (t->type == 1) { f16++; CHECK(t->n_dims == 2); }
        else if (t->type == 0) { f32++; CHECK(t->n_dims == 1); }
    }
    CHECK_EQ_INT(f16 + f32, 12);
    CHECK(f16 >= 7 && f32 >= 2);
    const sb_gguf_tensor *t = sb_gguf_find_tensor(g, "token_embd.weight");
    CHECK(t && t->type == 1 && t->ne[0] == 8 && t->ne[1] == 32000 && t->size == 8 * 32000 * 2);
    count_params(g);
    CHECK(gguf_walk(g) >= 0);
    CHECK_EQ_INT(gguf_rewrite_check(g), 0);
    sb_gguf_close(g);
}

/* llama.cpp's vocab-only files: GGUF v3, no tensors, tokens/merges as the manifest lists. */
static void test_every_vocab_file(void)
{
    static const struct { const char *file, *arch, *model; uint64_t n_vocab, n_merges; } v[] = {
        {"baichuan", "baichuan", "llama", 64000, 0},      {"bert-bge", "bert", "bert", 30522, 0},
        {"deepseek-coder", "llama", "gpt2", 32256, 31757}, {"deepseek-llm", "llama", "gpt2", 102400, 99757},
        {"falcon", "falcon", "gpt2", 65024, 64784},        {"gpt-2", "gpt2", "gpt2", 50257, 50000},
        {"gpt-neox", "gptneox", "gpt2", 50432, 50009},     {"llama-spm", "llama", "llama", 32000, 0},
        {"mpt", "mpt", "gpt2", 50432, 50009},              {"phi-3", "phi3", "llama", 32064, 0},
        {"refact", "refact", "gpt2", 49216, 48891},        {"starcoder", "starcoder2", "gpt2", 49152, 48872},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "models/vocab/ggml-vocab-%s.gguf", v[i].file);
        sb_gguf *g = open_shared(rel);
        if (!g) return;
        CHECK_MSG(sb_gguf_version(g) == 3 && sb_gguf_n_tensors(g) == 0, "%s", rel);
        CHECK_MSG(str_is(g, "general.architecture", v[i].arch), "%s: architecture", rel);
        CHECK_MSG(str_is(g, "tokenizer.ggml.model", v[i].model), "%s: tokenizer model", rel);
        uint64_t n = 0;
        CHECK_MSG(sb_gguf_get_arr_str_n(g, "tokenizer.ggml.tokens", &n, NULL) == 0 && n == v[i].n_vocab,
                  "%s: %llu tokens, expected %llu", rel, (unsigned long long)n, (unsigned long long)v[i].n_vocab);
        n = 0;
        int rc = sb_gguf_get_arr_str_n(g, "tokenizer.ggml.merges", &n, NULL);
        CHECK_MSG(v[i].n_merges ? (rc == 0 && n == v[i].n_merges) : (rc == SB_GGUF_E_NOT_FOUND || n == 0),
                  "%s: %llu merges, expected %llu", rel, (unsigned long long)n, (unsigned long long)v[i].n_merges);
        CHECK_MSG(gguf_walk(g) >= 0, "%s", rel);
        CHECK_MSG(gguf_rewrite_check(g) == 0, "%s: rewrite differs", rel);
        sb_gguf_close(g);
    }
}

/* GGUF v1 is supported on purpose: the legacy file is the same model as stories260K.gguf and
 * every tensor must come out with the same shape and the same bytes. */
static void test_gguf_v1_legacy_file(void)
{
    sb_gguf *g1 = open_shared("models/legacy/tinyllamas-stories-260k-f32.ggufv1.gguf");
    if (!g1) return;
    sb_gguf *g3 = open_shared("models/stories260K.gguf");
    if (!g3) { sb_gguf_close(g1); return; }
    CHECK_EQ_INT(sb_gguf_version(g1), 1);
    CHECK_EQ_INT(sb_gguf_n_tensors(g1), 48);
    CHECK_EQ_INT(sb_gguf_n_kv(g1), 18);
    CHECK_EQ_INT(sb_gguf_alignment(g1), 32);
    CHECK(str_is(g1, "general.name", "tinyllamas-stories-260k"));
    CHECK_EQ_INT(get_u32(g1, "llama.context_length"), 512);
    uint64_t n = 0;
    CHECK_EQ_INT(sb_gguf_get_arr_str_n(g1, "tokenizer.ggml.tokens", &n, NULL), 0);
    CHECK_EQ_INT(n, 512);
    CHECK(tok_is(g1, 0, "<unk>") && tok_is(g1, 3, "<0x00>"));
    int same = 0;
    for (int64_t i = 0; i < 48; i++) {
        const sb_gguf_tensor *a = sb_gguf_tensor_at(g1, i), *b = sb_gguf_find_tensor(g3, a->name);
        CHECK_MSG(b != NULL, "%s missing from the v3 file", a->name);
        if (!b) continue;
        if (a->type == b->type && a->n_dims == b->n_dims && memcmp(a->ne, b->ne, sizeof a->ne) == 0 &&
            a->size == b->size && memcmp(a->data, b->data, (size_t)a->size) == 0)
            same++;
    }
    CHECK_EQ_INT(same, 48);
    CHECK_EQ_INT(count_params(g1), 292800);
    CHECK(gguf_walk(g1) >= 0);
    CHECK_EQ_INT(gguf_rewrite_check(g1), 0);     /* v1 → v3 conversion keeps everything */
    sb_gguf_close(g1);
    sb_gguf_close(g3);
}

/* Opening the same bytes from memory gives the same tables as the mmap'd path. */
static void test_memory_and_path_agree(void)
{
    const char *path = test_shared_path("models/stories260K.gguf");
    if (!path) { test_skip("../shared/models/stories260K.gguf not found"); return; }
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f) return;
    fseek(f, 0, SEEK_END);
    size_t size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc(size);
    CHECK(buf && fread(buf, 1, size, f) == size);
    fclose(f);
    sb_gguf *a = NULL, *b = NULL;
    sb_gguf_error e;
    CHECK_EQ_INT(sb_gguf_open(path, &a, &e), 0);
    CHECK_EQ_INT(sb_gguf_open_memory(buf, size, "stories260K (memory)", &b, &e), 0);
    if (a && b) {
        CHECK_EQ_INT(sb_gguf_data_offset(a), sb_gguf_data_offset(b));
        CHECK_EQ_INT(gguf_walk(a), gguf_walk(b));
        CHECK_STR(sb_gguf_path(b), "stories260K (memory)");
        const sb_gguf_tensor *t = sb_gguf_tensor_at(b, 0);
        CHECK((const uint8_t *)t->data == (const uint8_t *)buf + sb_gguf_data_offset(b) + t->offset);
    }
    sb_gguf_close(a);
    sb_gguf_close(b);
    free(buf);
}

int main(void)
{
    RUN(test_stories260k);
    RUN(test_llama2_tiny_random);
    RUN(test_every_vocab_file);
    RUN(test_gguf_v1_legacy_file);
    RUN(test_memory_and_path_agree);
    return test_finish();
}
