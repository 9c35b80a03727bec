/* Tokenizers on real text (../shared WikiText-2, first 64 KB): the shortcuts taken for speed give
 * the same ids as the plain algorithm (SentencePiece merged word by word vs over the whole text;
 * the per-call word cache vs none), decode(encode(text)) == text for every vocabulary, and the
 * `slmbench tokenize` command prints the reference ids; stories260K's tokenizer gives its reference
 * story. SKIPs when the shared data is absent. */
#include <stdlib.h>
#include <sys/wait.h>

#include "gguf/gguf.h"
#include "tests/test.h"
#include "tokenizer/internal.h"
#include "tokenizer/tokenizer.h"

#define SAMPLE_BYTES (64 * 1024)

static char *read_prefix(const char *rel, size_t max, size_t *len)
{
    const char *p = test_shared_path(rel);
    if (!p) return NULL;
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    char *b = malloc(max + 1);
    *len = b ? fread(b, 1, max, f) : 0;
    fclose(f);
    if (b) b[*len] = 0;
    return b;
}

static sb_tokenizer *load_vocab(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "models/vocab/ggml-vocab-%s.gguf", name);
    const char *p = test_shared_path(rel);
    if (!p) return NULL;
    sb_gguf *g = NULL;
    if (sb_gguf_open(p, &g, NULL)) return NULL;
    sb_tokenizer *t = NULL;
    char err[512];
    int rc = sb_tok_load_gguf(g, &t, err, sizeof err);
    CHECK_MSG(rc == 0, "%s: %s", name, err);
    sb_gguf_close(g);
    return t;
}

static void test_spm_word_runs_match_whole_text_merge(void)
{
    size_t len = 0;
    char *text = read_prefix("datasets/wikitext2/wiki.test.raw", SAMPLE_BYTES, &len);
    sb_tokenizer *t = text ? load_vocab("llama-spm") : NULL;
    if (!text || !t) { test_skip("WikiText-2 or the llama-spm vocab not in ../shared"); free(text); sb_tok_free(t); return; }
    CHECK_EQ_INT(t->spm_word_split, 1);  /* Llama 2's vocabulary allows it */
    int32_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    CHECK_EQ_INT(sb_tok_encode(t, text, len, 1, 0, &a, &na), SB_TOK_OK);
    t->spm_word_split = 0;  /* the plain algorithm: one merge queue over the whole text */
    CHECK_EQ_INT(sb_tok_encode(t, text, len, 1, 0, &b, &nb), SB_TOK_OK);
    CHECK_EQ_INT(na, nb);
    CHECK(na == nb && memcmp(a, b, na * sizeof *a) == 0);
    CHECK(na > len / 8);
    free(a);
    free(b);
    free(text);
    sb_tok_free(t);
}

static void test_every_vocab_round_trips_wikitext(void)
{
    size_t len = 0;
    char *text = read_prefix("datasets/wikitext2/wiki.test.raw", SAMPLE_BYTES, &len);
    if (!text) { test_skip("WikiText-2 not in ../shared"); return; }
    static const char *const names[] = {"llama-spm", "phi-3", "baichuan", "gpt-2", "gpt-neox", "mpt", "falcon",
                                        "starcoder", "refact", "deepseek-llm", "deepseek-coder"};
    int seen = 0;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        sb_tokenizer *t = load_vocab(names[i]);
        if (!t) continue;
        seen++;
        int32_t *ids = NULL;
        size_t n = 0;
        CHECK_EQ_INT(sb_tok_encode(t, text, len, 0, 0, &ids, &n), SB_TOK_OK);
        char *back = NULL;
        size_t bl = 0;
        CHECK_EQ_INT(sb_tok_decode(t, ids, n, 1, 0, &back, &bl), SB_TOK_OK);
        CHECK_MSG(bl == len && memcmp(back, text, len) == 0, "%s: decode(encode(wikitext)) differs", names[i]);
        free(back);
        free(ids);
        sb_tok_free(t);
    }
    if (!seen) test_skip("no vocab in ../shared/models/vocab");
    free(text);
}

static void test_cli_prints_reference_ids(void)
{
    const char *p = test_shared_path("models/vocab/ggml-vocab-llama-spm.gguf");
    if (!p) { test_skip("../shared/models/vocab/ggml-vocab-llama-spm.gguf not found"); return; }
    const char *bin = test_slmbench_bin();
    char cmd[2048], out[256] = "";
    /* "Hello world" -> 15043 3186 in the llama-spm vectors; BOS (1) first unless --no-special */
    snprintf(cmd, sizeof cmd, "%s tokenize -m '%s' --ids 'Hello world'", bin, p);
    FILE *f = popen(cmd, "r");
    CHECK(f != NULL);
    if (!f) return;
    if (!fgets(out, sizeof out, f)) out[0] = 0;
    CHECK_EQ_INT(WEXITSTATUS(pclose(f)), 0);
    CHECK_STR(out, "1 15043 3186\n");
    snprintf(cmd, sizeof cmd, "%s tokenize -m '%s' --ids --no-special --parse-special 'Hello</s>'", bin, p);
    f = popen(cmd, "r");
    if (!fgets(out, sizeof out, f)) out[0] = 0;
    pclose(f);
    CHECK_STR(out, "15043 2\n");
    snprintf(cmd, sizeof cmd, "%s tokenize -m /nonexistent.gguf x >/dev/null 2>&1", bin);
    CHECK_EQ_INT(WEXITSTATUS(system(cmd)), 1);
    snprintf(cmd, sizeof cmd, "%s tokenize 'no model' >/dev/null 2>&1", bin);
    CHECK_EQ_INT(WEXITSTATUS(system(cmd)), 2);
}


/* stories260K (and its GGUF v1 copy): the first 100 greedy ids of ../shared/models/MANIFEST.md
 * decode to the reference story, and encoding that text gives the same ids back. */
static void check_stories(const char *rel, int32_t want_pad)
{
    static const int32_t ids[100] = {
        403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337,
        410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261, 370, 432, 352,
        266, 268, 388, 426, 338, 391, 266, 267, 337, 335, 312, 432, 398, 312, 286, 267, 414, 270, 333, 415,
        426, 13, 438, 310, 439, 419, 357, 336, 432, 313, 438, 310, 432, 278, 316, 439, 419, 298, 414, 267,
        265, 282, 295, 433, 426, 436, 317, 286, 296, 418, 269, 279, 292, 416, 439, 413, 409, 416, 327, 263};
    static const char want[] =
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
        "One day, she saw a big, red ball. She wanted to play with it, but it was too high.\n"
        "Lily's mom said, \"Lily, let's go to the park.\" Lily was sad and didn't know w";
    const char *p = test_shared_path(rel);
    if (!p) { test_skip("../shared/%s not found", rel); return; }
    sb_gguf *g = NULL;
    CHECK_EQ_INT(sb_gguf_open(p, &g, NULL), 0);
    if (!g) return;
    sb_tokenizer *t = NULL;
    char err[512];
    int rc = sb_tok_load_gguf(g, &t, err, sizeof err);
    sb_gguf_close(g);
    CHECK_MSG(rc == 0, "%s", err);
    if (!t) return;
    CHECK_EQ_INT(sb_tok_n_vocab(t), 512);
    CHECK_EQ_INT(sb_tok_bos(t), 1);
    CHECK_EQ_INT(sb_tok_eos(t), 2);
    CHECK_EQ_INT(sb_tok_pad(t), want_pad);
    char *text = NULL;
    size_t tl = 0;
    CHECK_EQ_INT(sb_tok_decode(t, ids, 100, 1, 0, &text, &tl), SB_TOK_OK);
    CHECK_STR(text, want);
    int32_t *back = NULL;
    size_t n = 0;
    CHECK_EQ_INT(sb_tok_encode(t, text, tl, 0, 0, &back, &n), SB_TOK_OK);
    CHECK_EQ_INT(n, 100);
    CHECK(n == 100 && memcmp(back, ids, sizeof ids) == 0);
    free(back);
    free(text);
    sb_tok_free(t);
}

static void test_stories260k_reference_story(void) { check_stories("models/stories260K.gguf", -1); } /* pad 0xFFFFFFFF */
static void test_stories260k_gguf_v1(void) { check_stories("models/legacy/tinyllamas-stories-260k-f32.ggufv1.gguf", 0); }

int main(void)
{
    RUN(test_spm_word_runs_match_whole_text_merge);
    RUN(test_every_vocab_round_trips_wikitext);
    RUN(test_cli_prints_reference_ids);
    RUN(test_stories260k_reference_story);
    RUN(test_stories260k_gguf_v1);
    return test_finish();
}
