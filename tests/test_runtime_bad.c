/* Bad models (../shared/BAD_INPUTS.md G15–G19): each gives its status and a message naming the
 * key or tensor. Every model is built in memory by a small generator with one defect, written
 * with the GGUF writer, and loaded. */
#include <stdlib.h>

#include "gguf/gguf.h"
#include "runtime/model.h"
#include "tests/test.h"

/* A small valid llama: vocab 260 (<unk> <s> </s> + 257 byte-ish tokens), embd 32, 1 block,
 * 4 heads / 2 KV heads (head_dim 8), ff 64. The fields below plant one defect. */
typedef struct spec {
    const char *arch;
    int64_t embd, layers, heads, heads_kv, ff, ctx;
    const char *drop_key;       /* leave this key out                                  */
    const char *string_key;     /* write this key as a string (type confusion)         */
    const char *drop_tensor;    /* leave this tensor out                               */
    const char *wrong_tensor;   /* give this tensor one row too many                    */
    int64_t vocab_key;          /* write llama.vocab_size with this value (-1: absent)  */
    const char *rope_scaling;   /* llama.rope.scaling.type                              */
    int bad_scores;             /* scores array one shorter than tokens (G18)           */
    int n_tokens;               /* tokenizer tokens (0: 260)                             */
} spec;

static spec base(void)
{
    spec s = {.arch = "llama", .embd = 32, .layers = 1, .heads = 4, .heads_kv = 2, .ff = 64,
              .ctx = 256, .vocab_key = -1};
    return s;
}

#define N_VOCAB 260

static void set_int(sb_gguf_writer *w, const spec *s, const char *key, int64_t v)
{
    if (s->drop_key && !strcmp(s->drop_key, key)) return;
    if (s->string_key && !strcmp(s->string_key, key)) { sb_gguf_set_str(w, key, "12"); return; }
    sb_gguf_set_u32(w, key, (uint32_t)v);
}

static void add_t(sb_gguf_writer *w, const spec *s, const char *name, int64_t ne0, int64_t ne1, float *data)
{
    if (s->drop_tensor && !strcmp(s->drop_tensor, name)) return;
    if (s->wrong_tensor && !strcmp(s->wrong_tensor, name)) {
        if (ne1) ne1++;
        else ne0++;
    }
    int64_t ne[2] = {ne0, ne1 ? ne1 : 1};
    sb_gguf_add_tensor(w, name, SB_TYPE_F32, ne1 ? 2 : 1, ne, data, (uint64_t)(ne0 * ne[1]) * 4);
}

/* Writes the model of spec s to a temp file; returns its path (static buffer). */
static const char *write_model(const spec *s, const char *name)
{
    static char path[512];
    static float zeros[1 << 16]; /* enough for the largest tensor (261 × 32) */
    snprintf(path, sizeof path, "%s/%s.gguf", test_tmpdir(), name);
    sb_gguf_writer *w = sb_gguf_writer_new();
    char key[128];
    sb_gguf_set_str(w, "general.architecture", s->arch);
#define K(x) (snprintf(key, sizeof key, "%s.%s", s->arch, x), key)
    set_int(w, s, K("context_length"), s->ctx);
    set_int(w, s, K("embedding_length"), s->embd);
    set_int(w, s, K("block_count"), s->layers);
    set_int(w, s, K("feed_forward_length"), s->ff);
    set_int(w, s, K("attention.head_count"), s->heads);
    set_int(w, s, K("attention.head_count_kv"), s->heads_kv);
    if (!(s->drop_key && !strcmp(s->drop_key, K("attention.layer_norm_rms_epsilon"))))
        sb_gguf_set_f32(w, K("attention.layer_norm_rms_epsilon"), 1e-5f);
    if (s->vocab_key >= 0) sb_gguf_set_u32(w, K("vocab_size"), (uint32_t)s->vocab_key);
    if (s->rope_scaling) sb_gguf_set_str(w, K("rope.scaling.type"), s->rope_scaling);
#undef K
    /* tokenizer: SentencePiece with <unk> <s> </s> and byte tokens */
    int nt = s->n_tokens ? s->n_tokens : N_VOCAB;
    char **toks = calloc((size_t)nt, sizeof *toks);
    float *scores = calloc((size_t)nt, sizeof *scores);
    int32_t *types = calloc((size_t)nt, sizeof *types);
    for (int i = 0; i < nt; i++) {
        toks[i] = malloc(16);
        if (i < 3) snprintf(toks[i], 16, "%s", i == 0 ? "<unk>" : i == 1 ? "<s>" : "</s>");
        else if (i < 259) snprintf(toks[i], 16, "<0x%02X>", i - 3);
        else snprintf(toks[i], 16, "tok%d", i);
        types[i] = i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1;
    }
    sb_gguf_set_str(w, "tokenizer.ggml.model", "llama");
    sb_gguf_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)toks, (uint64_t)nt);
    sb_gguf_set_arr(w, "tokenizer.ggml.scores", SB_GGUF_FLOAT32, scores, (uint64_t)(nt - (s->bad_scores ? 1 : 0)));
    sb_gguf_set_arr(w, "tokenizer.ggml.token_type", SB_GGUF_INT32, types, (uint64_t)nt);
    sb_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
    sb_gguf_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
    sb_gguf_set_u32(w, "tokenizer.ggml.unknown_token_id", 0);
    for (int i = 0; i < nt; i++) free(toks[i]);
    free(toks); free(scores); free(types);

    /* tensors, all zeros: the loader checks shapes, not values */
    int64_t hd = s->heads ? s->embd / s->heads : 1, q = s->heads * hd, kv = s->heads_kv * hd;
    add_t(w, s, "token_embd.weight", s->embd, N_VOCAB, zeros);
    add_t(w, s, "output_norm.weight", s->embd, 0, zeros);
    for (int64_t l = 0; l < s->layers && l < 4; l++) {
        char n[64];
#define T(x) (snprintf(n, sizeof n, "blk.%d.%s", (int)l, x), n)
        add_t(w, s, T("attn_norm.weight"), s->embd, 0, zeros);
        add_t(w, s, T("attn_q.weight"), s->embd, q, zeros);
        add_t(w, s, T("attn_k.weight"), s->embd, kv, zeros);
        add_t(w, s, T("attn_v.weight"), s->embd, kv, zeros);
        add_t(w, s, T("attn_output.weight"), q, s->embd, zeros);
        add_t(w, s, T("ffn_norm.weight"), s->embd, 0, zeros);
        add_t(w, s, T("ffn_gate.weight"), s->embd, s->ff, zeros);
        add_t(w, s, T("ffn_up.weight"), s->embd, s->ff, zeros);
        add_t(w, s, T("ffn_down.weight"), s->ff, s->embd, zeros);
#undef T
    }
    sb_gguf_error ge;
    int rc = sb_gguf_writer_write(w, path, &ge);
    sb_gguf_writer_free(w);
    CHECK_MSG(rc == 0, "writing %s: %s", path, ge.msg);
    return path;
}

/* Loads the model of spec s and checks the status and that the message contains `needle`. */
static void expect(const spec *s, const char *name, int want, const char *needle, int64_t n_ctx)
{
    const char *path = write_model(s, name);
    sb_model_opts o = sb_model_default_opts();
    o.backend = "ref";
    o.n_ctx = n_ctx;
    char err[1024] = "";
    sb_model *m = NULL;
    int rc = sb_model_load(path, &o, &m, err, sizeof err);
    CHECK_MSG(rc == want, "%s: status %d, expected %d (%s)", name, rc, want, err);
    printf("  %-22s -> %s\n", name, rc ? err : "loaded");
    if (needle) CHECK_MSG(strstr(err, needle) != NULL, "%s: message \"%s\" does not name \"%s\"", name, err, needle);
    if (rc == 0) CHECK(m != NULL);
    else CHECK(m == NULL);
    sb_model_free(m);
}

static void test_valid_model_loads(void)
{
    spec s = base();
    expect(&s, "valid", SB_MODEL_OK, NULL, 0);
}

/* G15: required key or tensor missing; key of the wrong type */
static void test_g15_missing_key(void)
{
    spec s = base();
    s.drop_key = "llama.embedding_length";
    expect(&s, "g15-missing-key", SB_MODEL_E_META, "llama.embedding_length", 0);
    s = base();
    s.drop_key = "llama.attention.layer_norm_rms_epsilon";
    expect(&s, "g15-missing-eps", SB_MODEL_E_META, "layer_norm_rms_epsilon", 0);
}

static void test_g15_wrong_key_type(void)
{
    spec s = base();
    s.string_key = "llama.block_count";
    expect(&s, "g15-wrong-type", SB_MODEL_E_META, "llama.block_count", 0);
}

static void test_g15_missing_tensor(void)
{
    spec s = base();
    s.drop_tensor = "blk.0.ffn_up.weight";
    expect(&s, "g15-missing-tensor", SB_MODEL_E_META, "blk.0.ffn_up.weight", 0);
    s = base();
    s.drop_tensor = "token_embd.weight";
    expect(&s, "g15-missing-embd", SB_MODEL_E_META, "token_embd.weight", 0);
}

/* G16: absurd or inconsistent hyperparameters */
static void test_g16_hparams(void)
{
    spec s = base();
    s.heads = 0;
    expect(&s, "g16-heads-0", SB_MODEL_E_HPARAMS, "head_count", 0);
    s = base();
    s.embd = 30; /* 30 / 4 heads */
    expect(&s, "g16-embd-indivisible", SB_MODEL_E_HPARAMS, "embedding_length", 0);
    s = base();
    s.heads_kv = 3; /* 4 heads / 3 KV heads */
    expect(&s, "g16-kv-indivisible", SB_MODEL_E_HPARAMS, "head_count_kv", 0);
    s = base();
    s.layers = 100000000;
    expect(&s, "g16-absurd-layers", SB_MODEL_E_HPARAMS, "block_count", 0);
    s = base();
    s.vocab_key = 0;
    expect(&s, "g16-vocab-0", SB_MODEL_E_HPARAMS, "vocab_size", 0);
    s = base();
    s.rope_scaling = "yarn";
    expect(&s, "g16-rope-scaling", SB_MODEL_E_HPARAMS, "rope.scaling.type", 0);
}

/* G16: a context whose KV cache size overflows 64 bits */
static void test_g16_kv_overflow(void)
{
    spec s = base();
    expect(&s, "g16-kv-overflow", SB_MODEL_E_HPARAMS, "overflows", INT64_MAX / 4);
}

/* G17: a tensor whose shape differs from what the hyperparameters imply */
static void test_g17_shape_mismatch(void)
{
    spec s = base();
    s.wrong_tensor = "blk.0.attn_k.weight";
    expect(&s, "g17-attn-k", SB_MODEL_E_SHAPE, "blk.0.attn_k.weight", 0);
    s = base();
    s.wrong_tensor = "blk.0.ffn_norm.weight";
    expect(&s, "g17-norm", SB_MODEL_E_SHAPE, "blk.0.ffn_norm.weight", 0);
    s = base();
    s.vocab_key = 300; /* the key says 300, token_embd has 260 rows */
    expect(&s, "g17-vocab", SB_MODEL_E_SHAPE, "token_embd.weight", 0);
}

/* G18: vocabulary inconsistent with itself or with the model */
static void test_g18_vocab(void)
{
    spec s = base();
    s.bad_scores = 1;
    expect(&s, "g18-scores", SB_MODEL_E_VOCAB, "tokenizer", 0);
    s = base();
    s.n_tokens = 300; /* more tokens than embedding rows */
    expect(&s, "g18-too-many-tokens", SB_MODEL_E_VOCAB, "300", 0);
}

/* G19: refused before loading, saying how much is needed */
static void test_g19_memory(void)
{
    spec s = base();
    /* 2^40 positions × 16 floats × 2 (K, V) × 4 bytes = 128 TiB of KV cache */
    expect(&s, "g19-memory", SB_MODEL_E_MEMORY, "needs", (int64_t)1 << 40);
    /* the opt-out lets a caller that knows better load it (no session is created here) */
    const char *path = write_model(&s, "g19-skip");
    sb_model_opts o = sb_model_default_opts();
    o.n_ctx = (int64_t)1 << 40;
    o.skip_memory_check = 1;
    char err[512];
    sb_model *m = NULL;
    CHECK_EQ_INT(sb_model_load(path, &o, &m, err, sizeof err), SB_MODEL_OK);
    if (m) CHECK(sb_model_predict_ram(m, (int64_t)1 << 40) > ((uint64_t)1 << 46));
    sb_model_free(m);
}

static void test_unsupported_arch_and_backend(void)
{
    spec s = base();
    s.arch = "gemma";
    expect(&s, "arch", SB_MODEL_E_ARCH, "gemma", 0);
    s = base();
    const char *path = write_model(&s, "backend");
    char err[512];
    sb_model *m = NULL;
    sb_model_opts o = sb_model_default_opts();
    o.backend = "vulkan";
    o.kv_type = SB_TYPE_F16; /* the device keeps the cache in f32 only */
    CHECK_EQ_INT(sb_model_load(path, &o, &m, err, sizeof err), SB_MODEL_E_BACKEND);
    CHECK(strstr(err, "vulkan") != NULL);
    o.kv_type = SB_TYPE_F32;
    o.backend = "tpu";
    CHECK_EQ_INT(sb_model_load(path, &o, &m, err, sizeof err), SB_MODEL_E_BACKEND);
    CHECK(strstr(err, "tpu") != NULL);
}

static void test_not_a_gguf(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/junk.gguf", test_tmpdir());
    FILE *f = fopen(path, "wb");
    fputs("definitely not a model", f);
    fclose(f);
    char err[512];
    sb_model *m = NULL;
    CHECK_EQ_INT(sb_model_load(path, NULL, &m, err, sizeof err), SB_MODEL_E_FILE);
    CHECK(strstr(err, "junk.gguf") != NULL);
}

/* Session misuse: eval past the context, ids outside the vocabulary, truncate forward. */
static void test_session_limits(void)
{
    spec s = base();
    const char *path = write_model(&s, "session");
    char err[512];
    sb_model *m = NULL;
    sb_model_opts o = sb_model_default_opts();
    o.backend = "ref";
    if (sb_model_load(path, &o, &m, err, sizeof err)) { test_fail_at(__FILE__, __LINE__, "%s", err); return; }
    sb_session *ss;
    CHECK_EQ_INT(sb_session_new(m, 4, &ss, err, sizeof err), SB_MODEL_OK);
    int32_t ids[5] = {1, 5, 6, 7, 8};
    CHECK_EQ_INT(sb_session_eval(ss, ids, 5, NULL, 0), SB_MODEL_E_CONTEXT);
    CHECK_EQ_INT(sb_session_pos(ss), 0);
    int32_t bad = N_VOCAB;
    CHECK_EQ_INT(sb_session_eval(ss, &bad, 1, NULL, 0), SB_MODEL_E_ARG);
    CHECK(strstr(sb_session_error(ss), "vocabulary") != NULL);
    CHECK_EQ_INT(sb_session_eval(ss, ids, 3, NULL, 0), SB_MODEL_OK);
    CHECK_EQ_INT(sb_session_truncate(ss, 4), SB_MODEL_E_ARG);
    CHECK_EQ_INT(sb_session_truncate(ss, 1), SB_MODEL_OK);
    CHECK_EQ_INT(sb_session_pos(ss), 1);
    sb_session_free(ss);
    CHECK_EQ_INT(sb_session_new(m, 0, &ss, err, sizeof err), SB_MODEL_E_ARG);
    sb_model_free(m);
}

/* Every byte of stories260K's metadata and tensor table flipped (and truncations): the loader
 * returns some status, never crashes or reads out of bounds (run under make SAN=1), and a model
 * that still loads runs a few tokens. */
static void test_flip_sweep_over_header(void)
{
    const char *path = test_shared_path("models/stories260K.gguf");
    if (!path) { test_skip("stories260K.gguf not in ../shared"); return; }
    FILE *f = fopen(path, "rb");
    if (!f) { test_fail_at(__FILE__, __LINE__, "open %s", path); return; }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *orig = malloc((size_t)size), *buf = malloc((size_t)size);
    CHECK(fread(orig, 1, (size_t)size, f) == (size_t)size);
    fclose(f);
    /* the data section starts after the tensor table: find it with a clean load */
    char err[1024];
    sb_model *m = NULL;
    sb_model_opts o = sb_model_default_opts();
    o.backend = "ref";
    CHECK_EQ_INT(sb_model_load_memory(orig, (size_t)size, "stories260K", &o, &m, err, sizeof err), 0);
    sb_model_free(m);
    sb_gguf *g;
    sb_gguf_error ge;
    CHECK(sb_gguf_open_memory(orig, (size_t)size, "stories260K", &g, &ge) == 0);
    long header = (long)sb_gguf_data_offset(g); /* bytes past it are weights */
    sb_gguf_close(g);
    int loaded = 0, refused = 0;
    for (long i = 0; i < header && i < size; i += 5) {
        memcpy(buf, orig, (size_t)size);
        buf[i] ^= (unsigned char)(i & 1 ? 0xff : 0x80);
        m = NULL;
        int rc = sb_model_load_memory(buf, (size_t)size, "flipped", &o, &m, err, sizeof err);
        if (rc == 0) {
            loaded++;
            sb_session *s;
            if (sb_session_new(m, 4, &s, err, sizeof err) == 0) {
                int32_t ids[2] = {1, 300};
                float *logits = malloc((size_t)sb_model_hparams(m)->n_vocab * sizeof(float));
                (void)sb_session_eval(s, ids, 2, logits, 0);
                free(logits);
                sb_session_free(s);
            }
            sb_model_free(m);
        } else {
            refused++;
            CHECK(m == NULL);
            CHECK(err[0] != 0);
        }
    }
    for (long len = 0; len < size; len += len < 4096 ? 61 : 40961) {
        m = NULL;
        int rc = sb_model_load_memory(orig, (size_t)len, "truncated", &o, &m, err, sizeof err);
        CHECK_MSG(rc != 0, "truncated at %ld loaded", len);
        sb_model_free(m);
    }
    printf("  %d flipped files refused, %d loaded and ran\n", refused, loaded);
    CHECK(refused > 0);
    free(orig);
    free(buf);
}

int main(void)
{
    RUN(test_valid_model_loads);
    RUN(test_g15_missing_key);
    RUN(test_g15_wrong_key_type);
    RUN(test_g15_missing_tensor);
    RUN(test_g16_hparams);
    RUN(test_g16_kv_overflow);
    RUN(test_g17_shape_mismatch);
    RUN(test_g18_vocab);
    RUN(test_g19_memory);
    RUN(test_unsupported_arch_and_backend);
    RUN(test_not_a_gguf);
    RUN(test_session_limits);
    RUN(test_flip_sweep_over_header);
    return test_finish();
}
