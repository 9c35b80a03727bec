/* Random-weight models at the shapes of real ones (see runtime/synth.h).
 *
 * Speed: a 1B model has ~1.2e9 weights; quantizing all of them with the reference K-quant
 * quantizer would take minutes. Timing and memory do not depend on the values, so each kind of
 * matrix (q, k, v, o, gate, up, down, embedding, output) is built from a pool of POOL_ROWS
 * distinct random rows quantized once (OpenMP), its rows picked from the pool by a hash, and one
 * buffer per kind serves every layer (the writer references, not copies, tensor data). The file
 * still holds every tensor in full, so loading and running it moves the same bytes as a real model.
 */
#include "runtime/synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gguf/gguf.h"
#include "runtime/internal.h"

/* ================================================================ shapes */

/* Numbers from each model's config.json on its Hugging Face page (hidden_size, num_hidden_layers,
 * num_attention_heads, num_key_value_heads, intermediate_size, vocab_size, rms_norm_eps,
 * rope_theta, tie_word_embeddings, rope_scaling, max_position_embeddings). The "test-*" shapes
 * are small ones for the test suite. */
static const sb_synth_shape shapes[] = {
    {"smollm2-135m", "llama", 49152, 576, 30, 9, 3, 1536, 8192, 1e-5f, 100000.0f, 1, 0,
     "HuggingFaceTB/SmolLM2-135M"},
    {"qwen2.5-0.5b", "qwen2", 151936, 896, 24, 14, 2, 4864, 32768, 1e-6f, 1000000.0f, 1, 0,
     "Qwen/Qwen2.5-0.5B"},
    {"llama-3.2-1b", "llama", 128256, 2048, 16, 32, 8, 8192, 131072, 1e-5f, 500000.0f, 1, 32.0f,
     "meta-llama/Llama-3.2-1B"},
    {"tinyllama-1.1b", "llama", 32000, 2048, 22, 32, 4, 5632, 2048, 1e-5f, 10000.0f, 0, 0,
     "TinyLlama/TinyLlama-1.1B-Chat-v1.0 (the shape of ANCHORS.md's llama-bench figures)"},
    {"stories15m", "llama", 32000, 288, 6, 6, 6, 768, 256, 1e-5f, 10000.0f, 0, 0,
     "karpathy/tinyllamas stories15M (llama2.c), output separate as converted to GGUF (ANCHORS.md)"},
    {"stories110m", "llama", 32000, 768, 12, 12, 12, 2048, 1024, 1e-5f, 10000.0f, 0, 0,
     "karpathy/tinyllamas stories110M (llama2.c), output separate as converted to GGUF (ANCHORS.md)"},
    {"qwen2.5-1.5b", "qwen2", 151936, 1536, 28, 12, 2, 8960, 32768, 1e-6f, 1000000.0f, 1, 0,
     "Qwen/Qwen2.5-1.5B"},
    {"llama-3.2-3b", "llama", 128256, 3072, 28, 24, 8, 8192, 131072, 1e-5f, 500000.0f, 1, 32.0f,
     "meta-llama/Llama-3.2-3B"},
    {"llama-3.1-8b", "llama", 128256, 4096, 32, 32, 8, 14336, 131072, 1e-5f, 500000.0f, 0, 8.0f,
     "meta-llama/Llama-3.1-8B"},
    {"mistral-7b", "llama", 32000, 4096, 32, 32, 8, 14336, 32768, 1e-5f, 10000.0f, 0, 0,
     "mistralai/Mistral-7B-v0.1"},
    {"test-tiny", "llama", 1280, 256, 2, 4, 2, 512, 512, 1e-5f, 10000.0f, 0, 0,
     "slmbench tests: a small llama (GQA, separate output)"},
    {"test-tiny-qwen2", "qwen2", 1280, 256, 2, 4, 2, 512, 512, 1e-6f, 1000000.0f, 1, 0,
     "slmbench tests: a small qwen2 (QKV biases, tied output)"},
    {"test-tiny-llama3", "llama", 1280, 256, 2, 4, 2, 512, 512, 1e-5f, 500000.0f, 1, 32.0f,
     "slmbench tests: a small llama with Llama-3 rope scaling"},
};

const sb_synth_shape *sb_synth_shapes(size_t *n)
{
    if (n) *n = sizeof shapes / sizeof shapes[0];
    return shapes;
}

const sb_synth_shape *sb_synth_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof shapes / sizeof shapes[0]; i++)
        if (!strcasecmp(shapes[i].name, name)) return &shapes[i];
    return NULL;
}

/* ================================================================ helpers */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [-a, a). */
static float uniform(uint64_t *s, float a)
{
    return a * (2.0f * (float)(splitmix64(s) >> 40) / 16777216.0f - 1.0f);
}

/* The format a matrix with rows of `cols` elements gets: the requested one when its block
 * divides the row, else what converters fall back to. */
static sb_type fit_type(sb_type want, int64_t cols)
{
    if (cols % sb_type_block_elems(want) == 0) return want;
    if (sb_type_block_elems(want) == 256 && cols % 32 == 0) return SB_TYPE_Q8_0;
    return SB_TYPE_F16;
}

/* Everything the writer references must outlive sb_gguf_writer_write: kept in this list. */
typedef struct arena {
    void **p;
    size_t n, cap;
} arena;

static void *arena_keep(arena *a, void *p)
{
    if (!p) return NULL;
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 64;
        void **np = realloc(a->p, cap * sizeof *np);
        if (!np) { free(p); return NULL; }
        a->p = np;
        a->cap = cap;
    }
    a->p[a->n++] = p;
    return p;
}

static void arena_free(arena *a)
{
    for (size_t i = 0; i < a->n; i++) free(a->p[i]);
    free(a->p);
}

#define POOL_ROWS 64

/* A rows × cols matrix of random values in [-scale, scale) in format t: POOL_ROWS rows
 * quantized once, then copied to every row (row r takes pool row hash(r) % POOL_ROWS).
 * Returns the buffer (kept in the arena) and its size, or NULL. */
static void *random_matrix(arena *a, sb_type t, int64_t rows, int64_t cols, float scale,
                           uint64_t seed, uint64_t *size)
{
    size_t rb;
    if (sb_row_bytes(t, cols, &rb)) return NULL;
    uint64_t total;
    if (__builtin_mul_overflow((uint64_t)rb, (uint64_t)rows, &total) || total > SIZE_MAX) return NULL;
    int64_t np = rows < POOL_ROWS ? rows : POOL_ROWS;
    char *pool = malloc((size_t)np * rb);
    char *buf = arena_keep(a, malloc((size_t)total));
    if (!pool || !buf) { free(pool); return NULL; }
    int bad = 0;
    #pragma omp parallel for schedule(dynamic, 1) reduction(|:bad)
    for (int64_t r = 0; r < np; r++) {
        float *x = malloc((size_t)cols * sizeof *x);
        if (!x) { bad = 1; continue; }
        uint64_t s = seed * 1000003u + (uint64_t)r;
        for (int64_t i = 0; i < cols; i++) x[i] = uniform(&s, scale);
        if (sb_quantize_row(t, x, pool + (size_t)r * rb, cols)) bad = 1;
        free(x);
    }
    if (bad) { free(pool); return NULL; }
    #pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        uint64_t h = (uint64_t)r * 0x9E3779B97F4A7C15ull + seed;
        memcpy(buf + (size_t)r * rb, pool + (size_t)((h >> 32) % (uint64_t)np) * rb, rb);
    }
    free(pool);
    *size = total;
    return buf;
}

static float *const_vector(arena *a, int64_t n, float v)
{
    float *x = arena_keep(a, malloc((size_t)n * sizeof *x));
    for (int64_t i = 0; x && i < n; i++) x[i] = v;
    return x;
}

static float *random_vector(arena *a, int64_t n, float scale, uint64_t seed)
{
    float *x = arena_keep(a, malloc((size_t)n * sizeof *x));
    for (int64_t i = 0; x && i < n; i++) x[i] = uniform(&seed, scale);
    return x;
}

/* ================================================================ vocabulary */

enum { TOK_NORMAL = 1, TOK_UNKNOWN = 2, TOK_CONTROL = 3, TOK_UNUSED = 5, TOK_BYTE = 6 };

/* Token lists under construction: NUL-terminated copies, scores and types. */
typedef struct vocab {
    char **tok;
    float *score;
    int32_t *type;
    int64_t n, cap;
} vocab;

static int vocab_add(vocab *v, const char *s, size_t len, float score, int32_t type)
{
    if (v->n == v->cap) {
        int64_t cap = v->cap ? 2 * v->cap : 1024;
        char **t = realloc(v->tok, (size_t)cap * sizeof *t);
        if (!t) return -1;
        v->tok = t;
        float *sc = realloc(v->score, (size_t)cap * sizeof *sc);
        if (!sc) return -1;
        v->score = sc;
        int32_t *ty = realloc(v->type, (size_t)cap * sizeof *ty);
        if (!ty) return -1;
        v->type = ty;
        v->cap = cap;
    }
    char *c = malloc(len + 1);
    if (!c) return -1;
    memcpy(c, s, len);
    c[len] = 0;
    v->tok[v->n] = c;
    v->score[v->n] = score;
    v->type[v->n] = type;
    v->n++;
    return 0;
}

static void vocab_free(vocab *v)
{
    for (int64_t i = 0; i < v->n; i++) free(v->tok[i]);
    free(v->tok);
    free(v->score);
    free(v->type);
}

/* The built-in SentencePiece vocabulary (documented in synth.h). Scores favour longer pieces
 * so that pairs merge. */
static int builtin_vocab(vocab *v)
{
    char buf[16];
    int rc = vocab_add(v, "<unk>", 5, 0, TOK_UNKNOWN) | vocab_add(v, "<s>", 3, 0, TOK_CONTROL) |
             vocab_add(v, "</s>", 4, 0, TOK_CONTROL);
    for (int b = 0; b < 256; b++) {
        snprintf(buf, sizeof buf, "<0x%02X>", b);
        rc |= vocab_add(v, buf, 6, 0, TOK_BYTE);
    }
    rc |= vocab_add(v, "\xe2\x96\x81", 3, -1, TOK_NORMAL); /* U+2581, SentencePiece's space */
    for (int c = 0x21; c < 0x7f; c++) {
        buf[0] = (char)c;
        rc |= vocab_add(v, buf, 1, -2, TOK_NORMAL);
    }
    for (int c = 'a'; c <= 'z'; c++) {
        memcpy(buf, "\xe2\x96\x81", 3);
        buf[3] = (char)c;
        rc |= vocab_add(v, buf, 4, -3, TOK_NORMAL);
    }
    for (int c1 = 'a'; c1 <= 'z'; c1++)
        for (int c2 = 'a'; c2 <= 'z'; c2++) {
            buf[0] = (char)c1;
            buf[1] = (char)c2;
            rc |= vocab_add(v, buf, 2, -4.0f - 0.001f * (float)((c1 - 'a') * 26 + (c2 - 'a')), TOK_NORMAL);
        }
    return rc ? -1 : 0;
}

static int set_builtin_tokenizer(sb_gguf_writer *w, const vocab *v)
{
    return sb_gguf_set_str(w, "tokenizer.ggml.model", "llama") |
           sb_gguf_set_str(w, "tokenizer.ggml.pre", "default") |
           sb_gguf_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)v->tok, (uint64_t)v->n) |
           sb_gguf_set_arr(w, "tokenizer.ggml.scores", SB_GGUF_FLOAT32, v->score, (uint64_t)v->n) |
           sb_gguf_set_arr(w, "tokenizer.ggml.token_type", SB_GGUF_INT32, v->type, (uint64_t)v->n) |
           sb_gguf_set_u32(w, "tokenizer.ggml.unknown_token_id", 0) |
           sb_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", 1) |
           sb_gguf_set_u32(w, "tokenizer.ggml.eos_token_id", 2) |
           sb_gguf_set_bool(w, "tokenizer.ggml.add_bos_token", 1) |
           sb_gguf_set_bool(w, "tokenizer.ggml.add_eos_token", 0);
}

/* Copies one scalar or numeric-array key of g to w. */
static int copy_key(sb_gguf_writer *w, const sb_gguf *g, int64_t i)
{
    const char *key = sb_gguf_kv_key(g, i);
    sb_gguf_vtype t = sb_gguf_kv_type(g, i);
    switch (t) {
    case SB_GGUF_STRING: {
        const char *s;
        size_t len;
        if (sb_gguf_get_str(g, key, &s, &len, NULL)) return -1;
        char *c = strndup(s, len);
        if (!c) return -1;
        int rc = sb_gguf_set_str(w, key, c);
        free(c);
        return rc;
    }
    case SB_GGUF_FLOAT32: case SB_GGUF_FLOAT64: {
        float f;
        return sb_gguf_get_f32(g, key, &f, NULL) || sb_gguf_set_f32(w, key, f);
    }
    case SB_GGUF_BOOL: {
        int b;
        return sb_gguf_get_bool(g, key, &b, NULL) || sb_gguf_set_bool(w, key, b);
    }
    case SB_GGUF_ARRAY: {
        if (sb_gguf_kv_arr_type(g, i) == SB_GGUF_STRING) {
            uint64_t n;
            char **strs = NULL;
            int r = sb_gguf_get_arr_str_n(g, key, &n, NULL);
            if (!r && n && !(strs = calloc((size_t)n, sizeof *strs))) r = -1;
            for (uint64_t j = 0; !r && j < n; j++) {
                const char *s;
                size_t len;
                r = sb_gguf_get_arr_str(g, key, j, &s, &len, NULL);
                if (!r && !(strs[j] = strndup(s, len))) r = -1;
            }
            if (!r) r = sb_gguf_set_arr_str(w, key, (const char *const *)strs, n);
            for (uint64_t j = 0; strs && j < n; j++) free(strs[j]);
            free(strs);
            return r;
        }
        sb_gguf_vtype et;
        uint64_t n;
        const void *d;
        if (sb_gguf_get_arr(g, key, &et, &n, &d, NULL)) return -1;
        return sb_gguf_set_arr(w, key, et, d, n);
    }
    default: {
        int64_t v;
        if (sb_gguf_get_i64(g, key, &v, NULL)) return -1;
        if (t == SB_GGUF_UINT64 || t == SB_GGUF_INT64) return sb_gguf_set_i64(w, key, v);
        if (v < INT32_MIN || v > UINT32_MAX) return -1;
        return v < 0 ? sb_gguf_set_i32(w, key, (int32_t)v) : sb_gguf_set_u32(w, key, (uint32_t)v);
    }
    }
}

/* Copies the tokenizer.ggml.* keys of a vocabulary GGUF, padding tokens, scores and types to
 * n_vocab entries. */
static int copy_tokenizer(sb_gguf_writer *w, const char *path, int32_t n_vocab, char *err, size_t errlen)
{
    sb_gguf *g;
    sb_gguf_error ge;
    if (sb_gguf_open(path, &g, &ge)) {
        char msg[600];
        sb_gguf_error_format(&ge, msg, sizeof msg);
        return sb_rt_fail(err, errlen, SB_MODEL_E_FILE, "%s", msg);
    }
    int rc = SB_MODEL_OK;
    uint64_t n_tok = 0;
    vocab v = {0};
    if (sb_gguf_get_arr_str_n(g, "tokenizer.ggml.tokens", &n_tok, NULL)) {
        rc = sb_rt_fail(err, errlen, SB_MODEL_E_VOCAB, "%s: no tokenizer.ggml.tokens", path);
        goto done;
    }
    if (n_tok > (uint64_t)n_vocab) {
        rc = sb_rt_fail(err, errlen, SB_MODEL_E_VOCAB, "%s: %llu tokens, more than the shape's vocabulary "
                        "of %d", path, (unsigned long long)n_tok, n_vocab);
        goto done;
    }
    for (int64_t i = 0; i < sb_gguf_n_kv(g); i++) {
        const char *key = sb_gguf_kv_key(g, i);
        if (strncmp(key, "tokenizer.ggml.", 15)) continue;
        if (!strcmp(key, "tokenizer.ggml.tokens") || !strcmp(key, "tokenizer.ggml.scores") ||
            !strcmp(key, "tokenizer.ggml.token_type"))
            continue; /* rebuilt below, padded */
        int r = copy_key(w, g, i);
        if (r) {
            rc = sb_rt_fail(err, errlen, SB_MODEL_E_VOCAB, "%s: cannot copy key '%s'", path, key);
            goto done;
        }
    }
    /* tokens, scores and types, padded with <unused_N> */
    sb_gguf_vtype et;
    uint64_t ns = 0, nt = 0;
    const void *scores = NULL, *types = NULL;
    if (sb_gguf_get_arr(g, "tokenizer.ggml.scores", &et, &ns, &scores, NULL) || et != SB_GGUF_FLOAT32)
        scores = NULL, ns = 0;
    if (sb_gguf_get_arr(g, "tokenizer.ggml.token_type", &et, &nt, &types, NULL) || et != SB_GGUF_INT32)
        types = NULL, nt = 0;
    for (uint64_t j = 0; j < (uint64_t)n_vocab; j++) {
        float sc = 0;
        int32_t ty = TOK_NORMAL;
        if (j < ns) memcpy(&sc, (const char *)scores + 4 * j, 4);
        if (j < nt) memcpy(&ty, (const char *)types + 4 * j, 4);
        int r;
        if (j < n_tok) {
            const char *s;
            size_t len;
            r = sb_gguf_get_arr_str(g, "tokenizer.ggml.tokens", j, &s, &len, NULL) ||
                vocab_add(&v, s, len, sc, ty);
        } else {
            char buf[32];
            snprintf(buf, sizeof buf, "<unused_%llu>", (unsigned long long)(j - n_tok));
            r = vocab_add(&v, buf, strlen(buf), -1e9f, TOK_UNUSED);
        }
        if (r) { rc = sb_rt_fail(err, errlen, SB_MODEL_E_NOMEM, "out of memory"); goto done; }
    }
    if (sb_gguf_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)v.tok, (uint64_t)v.n) ||
        (ns && sb_gguf_set_arr(w, "tokenizer.ggml.scores", SB_GGUF_FLOAT32, v.score, (uint64_t)v.n)) ||
        (nt && sb_gguf_set_arr(w, "tokenizer.ggml.token_type", SB_GGUF_INT32, v.type, (uint64_t)v.n)))
        rc = sb_rt_fail(err, errlen, SB_MODEL_E_NOMEM, "cannot set the tokenizer keys");
done:
    vocab_free(&v);
    sb_gguf_close(g);
    return rc;
}

/* ================================================================ the model */

/* llama.cpp's general.file_type for a "mostly <type>" file. */
static uint32_t file_type_of(sb_type t)
{
    switch (t) {
    case SB_TYPE_F32: return 0;
    case SB_TYPE_F16: return 1;
    case SB_TYPE_Q4_0: return 2;
    case SB_TYPE_Q8_0: return 7;
    case SB_TYPE_Q4_K: return 14; /* Q4_K_S: every matrix q4_K */
    case SB_TYPE_Q5_K: return 16;
    case SB_TYPE_Q6_K: return 18;
    case SB_TYPE_BF16: return 32;
    default: return 0;
    }
}

/* One kind of matrix: a shared buffer for every layer. */
typedef struct mat {
    const void *data;
    sb_type type;
    uint64_t size;
    int64_t ne[2];
} mat;

static int make_mat(arena *a, mat *m, sb_type want, int64_t rows, int64_t cols, float scale, uint64_t seed)
{
    m->type = fit_type(want, cols);
    m->ne[0] = cols;
    m->ne[1] = rows;
    m->data = random_matrix(a, m->type, rows, cols, scale, seed, &m->size);
    return m->data ? 0 : -1;
}

static int add_mat(sb_gguf_writer *w, const char *name, const mat *m)
{
    return sb_gguf_add_tensor(w, name, (uint32_t)m->type, 2, m->ne, m->data, m->size);
}

static int add_vec(sb_gguf_writer *w, const char *name, const float *x, int64_t n)
{
    return sb_gguf_add_tensor(w, name, SB_TYPE_F32, 1, &n, x, (uint64_t)n * 4);
}

int sb_synth_write(const sb_synth_opts *o, const char *path, char *err, size_t errlen)
{
    if (!o || !path) return sb_rt_fail(err, errlen, SB_MODEL_E_ARG, "sb_synth_write: NULL argument");
    const sb_synth_shape *sh = sb_synth_find(o->shape);
    if (!sh) return sb_rt_fail(err, errlen, SB_MODEL_E_ARG, "unknown shape '%s'", o->shape ? o->shape : "(null)");
    if (!sb_type_is_weight_format(o->type))
        return sb_rt_fail(err, errlen, SB_MODEL_E_ARG, "type %s is not a weight format", sb_type_name(o->type));
    if (o->n_layer < 0 || o->n_layer > 1024)
        return sb_rt_fail(err, errlen, SB_MODEL_E_ARG, "layers %d out of range", o->n_layer);

    const char *arch = sh->arch;
    const int n_layer = o->n_layer ? o->n_layer : sh->n_layer;
    const int64_t embd = sh->n_embd, ff = sh->n_ff, vocab_n = sh->n_vocab;
    const int head_dim = sh->n_embd / sh->n_head;
    const int64_t q_dim = (int64_t)sh->n_head * head_dim, kv_dim = (int64_t)sh->n_head_kv * head_dim;
    const int qwen2 = !strcmp(arch, "qwen2");
    uint64_t seed = o->seed;

    sb_gguf_writer *w = sb_gguf_writer_new();
    arena a = {0};
    vocab v = {0};
    int rc = SB_MODEL_OK;
    if (!w) return sb_rt_fail(err, errlen, SB_MODEL_E_NOMEM, "out of memory");

    /* metadata */
    char key[128], name[128];
#define KEY(suffix) (snprintf(key, sizeof key, "%s.%s", arch, suffix), key)
    snprintf(name, sizeof name, "synthetic %s (random weights, %s)", sh->name, sb_type_name(o->type));
    int r = sb_gguf_set_str(w, "general.architecture", arch) | sb_gguf_set_str(w, "general.name", name) |
            sb_gguf_set_u32(w, "general.file_type", file_type_of(o->type)) |
            sb_gguf_set_u32(w, "general.alignment", 32) |
            sb_gguf_set_str(w, "slmbench.synth.shape", sh->name) |
            sb_gguf_set_str(w, "slmbench.synth.source", sh->source) |
            sb_gguf_set_u32(w, KEY("context_length"), (uint32_t)sh->n_ctx) |
            sb_gguf_set_u32(w, KEY("embedding_length"), (uint32_t)embd) |
            sb_gguf_set_u32(w, KEY("block_count"), (uint32_t)n_layer) |
            sb_gguf_set_u32(w, KEY("feed_forward_length"), (uint32_t)ff) |
            sb_gguf_set_u32(w, KEY("attention.head_count"), (uint32_t)sh->n_head) |
            sb_gguf_set_u32(w, KEY("attention.head_count_kv"), (uint32_t)sh->n_head_kv) |
            sb_gguf_set_u32(w, KEY("rope.dimension_count"), (uint32_t)head_dim) |
            sb_gguf_set_f32(w, KEY("rope.freq_base"), sh->rope_base) |
            sb_gguf_set_f32(w, KEY("attention.layer_norm_rms_epsilon"), sh->rms_eps) |
            sb_gguf_set_u32(w, KEY("vocab_size"), (uint32_t)vocab_n);
#undef KEY
    if (r) { rc = sb_rt_fail(err, errlen, SB_MODEL_E_NOMEM, "cannot set metadata"); goto done; }
    if (o->vocab_path) {
        if ((rc = copy_tokenizer(w, o->vocab_path, sh->n_vocab, err, errlen))) goto done;
    } else {
        if (builtin_vocab(&v)) { rc = sb_rt_fail(err, errlen, SB_MODEL_E_NOMEM, "out of memory"); goto done; }
        if (v.n > vocab_n) {
            rc = sb_rt_fail(err, errlen, SB_MODEL_E_VOCAB, "shape %s: vocabulary %lld is smaller than the "
                            "built-in tokenizer's %lld tokens", sh->name, (long long)vocab_n, (long long)v.n);
            goto done;
        }
        const int64_t n_real = v.n;
        for (int64_t j = n_real; j < vocab_n; j++) {
            char buf[32];
            snprintf(buf, sizeof buf, "<unused_%lld>", (long long)(j - n_real));
            if (vocab_add(&v, buf, strlen(buf), -1e9f, TOK_UNUSED)) {
                rc = sb_rt_fail(err, errlen, SB_MODEL_E_NOMEM, "out of memory");
                goto done;
            }
        }
        if (set_builtin_tokenizer(w, &v)) {
            rc = sb_rt_fail(err, errlen, SB_MODEL_E_NOMEM, "cannot set tokenizer");
            goto done;
        }
    }

    /* weights: uniform in ±sqrt(3/k) gives each output unit variance for unit-variance input */
    mat emb, out, wq, wk, wv, wo, wg, wu, wd;
    float s_embd = sqrtf(3.0f / (float)embd), s_q = sqrtf(3.0f / (float)q_dim), s_ff = sqrtf(3.0f / (float)ff);
    if (make_mat(&a, &emb, o->type, vocab_n, embd, 1.0f, seed + 1) ||
        (!sh->tied && make_mat(&a, &out, o->type, vocab_n, embd, s_embd, seed + 2)) ||
        make_mat(&a, &wq, o->type, q_dim, embd, s_embd, seed + 3) ||
        make_mat(&a, &wk, o->type, kv_dim, embd, s_embd, seed + 4) ||
        make_mat(&a, &wv, o->type, kv_dim, embd, s_embd, seed + 5) ||
        make_mat(&a, &wo, o->type, embd, q_dim, s_q, seed + 6) ||
        make_mat(&a, &wg, o->type, ff, embd, s_embd, seed + 7) ||
        make_mat(&a, &wu, o->type, ff, embd, s_embd, seed + 8) ||
        make_mat(&a, &wd, o->type, embd, ff, s_ff, seed + 9)) {
        rc = sb_rt_fail(err, errlen, SB_MODEL_E_NOMEM, "out of memory (or quantizer failure) building weights");
        goto done;
    }
    float *ones = const_vector(&a, embd, 1.0f);
    float *bq = qwen2 ? random_vector(&a, q_dim, 0.1f, seed + 10) : NULL;
    float *bk = qwen2 ? random_vector(&a, kv_dim, 0.1f, seed + 11) : NULL;
    float *bv = qwen2 ? random_vector(&a, kv_dim, 0.1f, seed + 12) : NULL;
    float *freqs = sh->llama3_factor > 0 ? arena_keep(&a, malloc((size_t)(head_dim / 2) * sizeof(float))) : NULL;
    if (!ones || (qwen2 && (!bq || !bk || !bv)) || (sh->llama3_factor > 0 && !freqs)) {
        rc = sb_rt_fail(err, errlen, SB_MODEL_E_NOMEM, "out of memory");
        goto done;
    }
    r = add_mat(w, "token_embd.weight", &emb) | add_vec(w, "output_norm.weight", ones, embd);
    if (!sh->tied) r |= add_mat(w, "output.weight", &out);
    if (freqs) {
        /* Llama-3 rope scaling as llama.cpp's converter stores it: a rope_freqs tensor */
        sb_rope_llama3_factors(sh->rope_base, head_dim, sh->llama3_factor, 1.0f, 4.0f, 8192, freqs);
        r |= add_vec(w, "rope_freqs.weight", freqs, head_dim / 2);
    }
    for (int l = 0; l < n_layer && !r; l++) {
#define T(suffix) (snprintf(name, sizeof name, "blk.%d.%s", l, suffix), name)
        r |= add_vec(w, T("attn_norm.weight"), ones, embd) | add_mat(w, T("attn_q.weight"), &wq) |
             add_mat(w, T("attn_k.weight"), &wk) | add_mat(w, T("attn_v.weight"), &wv) |
             add_mat(w, T("attn_output.weight"), &wo) | add_vec(w, T("ffn_norm.weight"), ones, embd) |
             add_mat(w, T("ffn_gate.weight"), &wg) | add_mat(w, T("ffn_up.weight"), &wu) |
             add_mat(w, T("ffn_down.weight"), &wd);
        if (qwen2)
            r |= add_vec(w, T("attn_q.bias"), bq, q_dim) | add_vec(w, T("attn_k.bias"), bk, kv_dim) |
                 add_vec(w, T("attn_v.bias"), bv, kv_dim);
#undef T
    }
    if (r) { rc = sb_rt_fail(err, errlen, SB_MODEL_E_ARG, "cannot add tensors"); goto done; }

    sb_gguf_error ge;
    if (sb_gguf_writer_write(w, path, &ge)) {
        char msg[600];
        sb_gguf_error_format(&ge, msg, sizeof msg);
        rc = sb_rt_fail(err, errlen, SB_MODEL_E_FILE, "%s", msg);
    }
done:
    vocab_free(&v);
    arena_free(&a);
    sb_gguf_writer_free(w);
    return rc;
}

/* ================================================================ requantize */

int sb_model_requantize(const char *src, const char *dst, sb_type type, int *n_quantized, char *err,
                        size_t errlen)
{
    if (!src || !dst) return sb_rt_fail(err, errlen, SB_MODEL_E_ARG, "sb_model_requantize: NULL argument");
    if (!sb_type_is_weight_format(type))
        return sb_rt_fail(err, errlen, SB_MODEL_E_ARG, "type %s is not a weight format", sb_type_name(type));
    sb_gguf *g;
    sb_gguf_error ge;
    char msg[600];
    if (sb_gguf_open(src, &g, &ge)) {
        sb_gguf_error_format(&ge, msg, sizeof msg);
        return sb_rt_fail(err, errlen, SB_MODEL_E_FILE, "%s", msg);
    }
    sb_gguf_writer *w = sb_gguf_writer_new();
    arena a = {0};
    int rc = SB_MODEL_OK, nq = 0;
    float *row = NULL;
    if (!w) { rc = sb_rt_fail(err, errlen, SB_MODEL_E_NOMEM, "out of memory"); goto done; }
    for (int64_t i = 0; i < sb_gguf_n_kv(g); i++) {
        const char *key = sb_gguf_kv_key(g, i);
        if (!strcmp(key, "general.alignment") || !strcmp(key, "general.file_type")) continue;
        if (copy_key(w, g, i)) {
            rc = sb_rt_fail(err, errlen, SB_MODEL_E_FILE, "%s: cannot copy key '%s'", src, key);
            goto done;
        }
    }
    sb_gguf_set_u32(w, "general.file_type", file_type_of(type));
    for (int64_t i = 0; i < sb_gguf_n_tensors(g); i++) {
        const sb_gguf_tensor *t = sb_gguf_tensor_at(g, i);
        const void *data = t->data;
        uint32_t ttype = t->type;
        uint64_t size = t->size;
        int64_t k = t->ne[0], rows = t->ne[1] * t->ne[2] * t->ne[3];
        /* matrices (2-D and up) whose rows the block divides, from a format we can read */
        if (t->n_dims >= 2 && (sb_type)t->type != type && sb_type_is_weight_format((sb_type)t->type) &&
            k % sb_type_block_elems(type) == 0) {
            size_t irb, orb;
            if (sb_row_bytes((sb_type)t->type, k, &irb) || sb_row_bytes(type, k, &orb)) {
                rc = sb_rt_fail(err, errlen, SB_MODEL_E_SHAPE, "%s: tensor '%s': bad row length", src, t->name);
                goto done;
            }
            char *buf = arena_keep(&a, malloc(orb * (size_t)rows));
            float *nrow = realloc(row, (size_t)k * sizeof *row);
            if (!buf || !nrow) { rc = sb_rt_fail(err, errlen, SB_MODEL_E_NOMEM, "out of memory"); goto done; }
            row = nrow;
            for (int64_t r = 0; r < rows; r++)
                if (sb_dequantize_row((sb_type)t->type, (const char *)t->data + (size_t)r * irb, row, k) ||
                    sb_quantize_row(type, row, buf + (size_t)r * orb, k)) {
                    rc = sb_rt_fail(err, errlen, SB_MODEL_E_KERNEL, "%s: cannot convert tensor '%s'", src, t->name);
                    goto done;
                }
            data = buf;
            ttype = (uint32_t)type;
            size = orb * (uint64_t)rows;
            nq++;
        }
        if (sb_gguf_add_tensor(w, t->name, ttype, t->n_dims, t->ne, data, size)) {
            rc = sb_rt_fail(err, errlen, SB_MODEL_E_FILE, "cannot add tensor '%s'", t->name);
            goto done;
        }
    }
    if (sb_gguf_writer_write(w, dst, &ge)) {
        sb_gguf_error_format(&ge, msg, sizeof msg);
        rc = sb_rt_fail(err, errlen, SB_MODEL_E_FILE, "%s", msg);
    }
    if (n_quantized) *n_quantized = nq;
done:
    free(row);
    arena_free(&a);
    sb_gguf_writer_free(w);
    sb_gguf_close(g);
    return rc;
}
