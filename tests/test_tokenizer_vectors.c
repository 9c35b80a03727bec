/* Tokenizers against llama.cpp's reference vectors: every ../shared/models/vocab/ggml-vocab-*.gguf
 * with .inp/.out files must give exactly the reference ids for all 46 strings (no BOS/EOS), and
 * decode(encode(s)) must give s back. The Llama 2 tokenizer inside llama-2-tiny-random.gguf must
 * give the llama-spm vectors. Each test SKIPs when the shared data is absent. */
#include <stdlib.h>

#include "gguf/gguf.h"
#include "tests/test.h"
#include "tokenizer/tokenizer.h"

#define SEP "\n__ggml_vocab_test__\n"
#define MAX_CASES 64

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    if (b) { b[n] = 0; *len = (size_t)n; }
    fclose(f);
    return b;
}

typedef struct vectors {
    char *inp, *outp;
    const char *str[MAX_CASES];
    size_t str_len[MAX_CASES];
    int32_t *ids[MAX_CASES];
    size_t n_ids[MAX_CASES];
    int n;
} vectors;

/* Parses the .inp (strings separated by SEP, each followed by it) and .out (one line of ids per
 * string). Returns 0 and records a failure when they do not agree. */
static int load_vectors(const char *inp_path, const char *out_path, vectors *v)
{
    memset(v, 0, sizeof *v);
    size_t il, ol;
    v->inp = read_all(inp_path, &il);
    v->outp = read_all(out_path, &ol);
    if (!v->inp || !v->outp) { test_fail_at(__FILE__, __LINE__, "cannot read %s / %s", inp_path, out_path); return 0; }
    char *p = v->inp, *end = v->inp + il;
    while (p < end && v->n < MAX_CASES) {
        char *s = memmem(p, (size_t)(end - p), SEP, strlen(SEP));
        if (!s) break;
        v->str[v->n] = p;
        v->str_len[v->n] = (size_t)(s - p);
        *s = 0;
        v->n++;
        p = s + strlen(SEP);
    }
    char *line = v->outp;
    for (int i = 0; i < v->n; i++) {
        char *nl = strchr(line, '\n');
        if (!nl) { test_fail_at(__FILE__, __LINE__, "%s: only %d lines for %d strings", out_path, i, v->n); return 0; }
        *nl = 0;
        size_t cap = 16, k = 0;
        int32_t *ids = malloc(cap * sizeof *ids);
        for (char *q = line; *q;) {
            char *e;
            long x = strtol(q, &e, 10);
            if (e == q) break;
            if (k == cap) ids = realloc(ids, (cap *= 2) * sizeof *ids);
            ids[k++] = (int32_t)x;
            q = e;
        }
        v->ids[i] = ids;
        v->n_ids[i] = k;
        line = nl + 1;
    }
    return 1;
}

static void free_vectors(vectors *v)
{
    for (int i = 0; i < v->n; i++) free(v->ids[i]);
    free(v->inp);
    free(v->outp);
}

static sb_tokenizer *load_tok(const char *path, int *rc_out, char *err, size_t errlen)
{
    sb_gguf *g = NULL;
    sb_gguf_error e;
    int rc = sb_gguf_open(path, &g, &e);
    if (rc) {
        sb_gguf_error_format(&e, err, errlen);
        *rc_out = -1;
        return NULL;
    }
    sb_tokenizer *t = NULL;
    *rc_out = sb_tok_load_gguf(g, &t, err, errlen);
    sb_gguf_close(g);
    return t;
}

/* Checks every vector of `vec_name` with the tokenizer in `gguf_rel`; prints the pass count. */
static void check_vocab(const char *vec_name, const char *gguf_rel)
{
    char rel_inp[256], rel_out[256];
    snprintf(rel_inp, sizeof rel_inp, "models/vocab/ggml-vocab-%s.gguf.inp", vec_name);
    snprintf(rel_out, sizeof rel_out, "models/vocab/ggml-vocab-%s.gguf.out", vec_name);
    const char *gpath = test_shared_path(gguf_rel);
    const char *ipath = test_shared_path(rel_inp);
    const char *opath = test_shared_path(rel_out);
    if (!gpath || !ipath || !opath) { test_skip("../shared/%s or its vectors not found (set SB_SHARED)", gguf_rel); return; }
    char gp[1024], ip[1024], op[1024];  /* test_shared_path slots are reused */
    snprintf(gp, sizeof gp, "%s", gpath);
    snprintf(ip, sizeof ip, "%s", ipath);
    snprintf(op, sizeof op, "%s", opath);

    vectors v;
    if (!load_vectors(ip, op, &v)) { free_vectors(&v); return; }
    CHECK_EQ_INT(v.n, 46);
    char err[512];
    int rc;
    sb_tokenizer *t = load_tok(gp, &rc, err, sizeof err);
    CHECK_MSG(t != NULL, "%s: %s", gp, err);
    if (!t) { free_vectors(&v); return; }
    int pass = 0, round = 0;
    for (int i = 0; i < v.n; i++) {
        int32_t *ids = NULL;
        size_t n = 0;
        rc = sb_tok_encode(t, v.str[i], v.str_len[i], 0, 0, &ids, &n);
        CHECK_EQ_INT(rc, SB_TOK_OK);
        int same = rc == 0 && n == v.n_ids[i] && (n == 0 || memcmp(ids, v.ids[i], n * sizeof *ids) == 0);
        if (same) pass++;
        else {
            char got[512] = "", want[512] = "";
            size_t o = 0;
            for (size_t k = 0; k < n && o < sizeof got - 12; k++) o += (size_t)snprintf(got + o, sizeof got - o, " %d", ids[k]);
            o = 0;
            for (size_t k = 0; k < v.n_ids[i] && o < sizeof want - 12; k++)
                o += (size_t)snprintf(want + o, sizeof want - o, " %d", v.ids[i][k]);
            test_fail_at(__FILE__, __LINE__, "%s string %d \"%.60s\": got%s, want%s", vec_name, i, v.str[i], got, want);
        }
        /* Round trip through the reference ids, so that it holds for the exact ids llama.cpp
         * produces, and through ours. */
        char *text = NULL;
        size_t tl = 0;
        rc = sb_tok_decode(t, v.ids[i], v.n_ids[i], 1, 0, &text, &tl);
        int ok = rc == 0 && tl == v.str_len[i] && memcmp(text, v.str[i], tl) == 0;
        CHECK_MSG(ok, "%s string %d: decode(reference ids) = \"%.60s\", want \"%.60s\"", vec_name, i, text ? text : "",
                  v.str[i]);
        free(text);
        round += ok;
        free(ids);
    }
    printf("  %s with %s: %d/%d strings exact, %d/%d round trips (model %s, pre %s)\n", vec_name, gguf_rel, pass, v.n,
           round, v.n, sb_tok_model_name(t), sb_tok_pre_name(t));
    sb_tok_free(t);
    free_vectors(&v);
}

#define VOCAB_TEST(fn, name) static void fn(void) { check_vocab(name, "models/vocab/ggml-vocab-" name ".gguf"); }
VOCAB_TEST(test_vectors_llama_spm, "llama-spm")
VOCAB_TEST(test_vectors_phi_3, "phi-3")
VOCAB_TEST(test_vectors_gpt_2, "gpt-2")
VOCAB_TEST(test_vectors_deepseek_llm, "deepseek-llm")
VOCAB_TEST(test_vectors_deepseek_coder, "deepseek-coder")
VOCAB_TEST(test_vectors_falcon, "falcon")
VOCAB_TEST(test_vectors_mpt, "mpt")
VOCAB_TEST(test_vectors_refact, "refact")
VOCAB_TEST(test_vectors_starcoder, "starcoder")

static void test_vectors_llama2_tiny_random_model(void)
{
    check_vocab("llama-spm", "models/llama-2-tiny-random.gguf");
}

static void test_bert_is_declared_unsupported(void)
{
    const char *p = test_shared_path("models/vocab/ggml-vocab-bert-bge.gguf");
    if (!p) { test_skip("../shared/models/vocab/ggml-vocab-bert-bge.gguf not found"); return; }
    char err[512];
    int rc;
    sb_tokenizer *t = load_tok(p, &rc, err, sizeof err);
    CHECK(t == NULL);
    CHECK_EQ_INT(rc, SB_TOK_E_UNSUPPORTED);
    CHECK_MSG(strstr(err, "bert") && strstr(err, "WordPiece"), "message: %s", err);
    sb_tok_free(t);
}

/* The vocabularies without vectors still load, and encode/decode round-trip a sample. */
static void test_vocabs_without_vectors_load(void)
{
    static const char *const names[] = {"baichuan", "gpt-neox"};
    int seen = 0;
    for (size_t i = 0; i < 2; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "models/vocab/ggml-vocab-%s.gguf", names[i]);
        const char *p = test_shared_path(rel);
        if (!p) continue;
        seen++;
        char err[512];
        int rc;
        sb_tokenizer *t = load_tok(p, &rc, err, sizeof err);
        CHECK_MSG(t != NULL, "%s: %s", rel, err);
        if (!t) continue;
        const char *s = "Hello world, this is a test: 1234 \xc3\xa9t\xc3\xa9";
        int32_t *ids = NULL;
        size_t n = 0;
        CHECK_EQ_INT(sb_tok_encode(t, s, strlen(s), 0, 0, &ids, &n), SB_TOK_OK);
        char *back = NULL;
        size_t bl = 0;
        CHECK_EQ_INT(sb_tok_decode(t, ids, n, 1, 0, &back, &bl), SB_TOK_OK);
        CHECK_STR(back, s);
        free(back);
        free(ids);
        sb_tok_free(t);
    }
    if (!seen) test_skip("no baichuan/gpt-neox vocab in ../shared");
}

int main(void)
{
    RUN(test_vectors_llama_spm);
    RUN(test_vectors_phi_3);
    RUN(test_vectors_gpt_2);
    RUN(test_vectors_deepseek_llm);
    RUN(test_vectors_deepseek_coder);
    RUN(test_vectors_falcon);
    RUN(test_vectors_mpt);
    RUN(test_vectors_refact);
    RUN(test_vectors_starcoder);
    RUN(test_vectors_llama2_tiny_random_model);
    RUN(test_bert_is_declared_unsupported);
    RUN(test_vocabs_without_vectors_load);
    return test_finish();
}
