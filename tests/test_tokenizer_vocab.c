/* Tokenizer behaviour on small vocabularies built in memory with the GGUF writer: G18 vocabulary
 * errors (../shared/BAD_INPUTS.md) with exact codes and messages, unsupported models and
 * pre-tokenizers, special tokens (BOS/EOS flags, parse_special, user-defined tokens), byte
 * fallback, decode rules, and the GPT-2 byte-to-unicode map. Needs no shared data. */
#include <stdlib.h>

#include "gguf/gguf.h"
#include "tests/test.h"
#include "tokenizer/internal.h"
#include "tokenizer/tokenizer.h"

/* ---- a small SentencePiece vocabulary ------------------------------------------------------ */

#define SPM_BASE 3  /* <unk> <s> </s>, then 256 byte tokens, then the pieces below */
static const char *const spm_pieces[] = {
    "\xe2\x96\x81", "a", "b", "c", "h", "e", "l", "o", "ab", "\xe2\x96\x81" "a", "\xe2\x96\x81" "ab",
    "he", "ll", "hell", "hello", "\xe2\x96\x81" "hello", "\xe2\x96\x81\xe2\x96\x81",
};
static const float spm_scores[] = {-1, -2, -2, -2, -2, -2, -2, -2, -3, -3, -4, -3, -3, -4, -5, -6, -1};

typedef struct vocab_arrays {
    char *tok[400];
    const char *tokp[400];
    float score[400];
    int32_t type[400];
    uint64_t n;
} vocab_arrays;

static void spm_arrays(vocab_arrays *v)
{
    memset(v, 0, sizeof *v);
    static const char *const head[] = {"<unk>", "<s>", "</s>"};
    static const int32_t head_type[] = {SB_TOK_TYPE_UNKNOWN, SB_TOK_TYPE_CONTROL, SB_TOK_TYPE_CONTROL};
    for (int i = 0; i < 3; i++) { v->tok[v->n] = strdup(head[i]); v->type[v->n] = head_type[i]; v->n++; }
    for (int b = 0; b < 256; b++) {
        char s[8];
        snprintf(s, sizeof s, "<0x%02X>", b);
        v->tok[v->n] = strdup(s);
        v->type[v->n] = SB_TOK_TYPE_BYTE;
        v->n++;
    }
    for (size_t i = 0; i < sizeof spm_pieces / sizeof *spm_pieces; i++) {
        v->tok[v->n] = strdup(spm_pieces[i]);
        v->score[v->n] = spm_scores[i];
        v->type[v->n] = SB_TOK_TYPE_NORMAL;
        v->n++;
    }
    for (uint64_t i = 0; i < v->n; i++) v->tokp[i] = v->tok[i];
}

static void free_arrays(vocab_arrays *v)
{
    for (uint64_t i = 0; i < v->n; i++) free(v->tok[i]);
}

static int32_t piece_id(const char *s)
{
    for (size_t i = 0; i < sizeof spm_pieces / sizeof *spm_pieces; i++)
        if (!strcmp(spm_pieces[i], s)) return (int32_t)(SPM_BASE + 256 + i);
    return -1;
}

/* Writes v as a "llama" vocabulary (plus the edits a test makes to w) and loads it. */
static int load_from_writer(sb_gguf_writer *w, sb_tokenizer **t, char *err, size_t errlen)
{
    void *buf = NULL;
    size_t size = 0;
    sb_gguf_error ge;
    int rc = sb_gguf_writer_to_memory(w, &buf, &size, &ge);
    CHECK_EQ_INT(rc, 0);
    sb_gguf *g = NULL;
    rc = sb_gguf_open_memory(buf, size, "vocab.gguf", &g, &ge);
    CHECK_MSG(rc == 0, "%s", ge.msg);
    *t = NULL;
    rc = g ? sb_tok_load_gguf(g, t, err, errlen) : -1;
    sb_gguf_close(g);
    free(buf);
    return rc;
}

static sb_gguf_writer *spm_writer(vocab_arrays *v)
{
    spm_arrays(v);
    sb_gguf_writer *w = sb_gguf_writer_new();
    sb_gguf_set_str(w, "general.architecture", "llama");
    sb_gguf_set_str(w, "tokenizer.ggml.model", "llama");
    sb_gguf_set_arr_str(w, "tokenizer.ggml.tokens", v->tokp, v->n);
    sb_gguf_set_arr(w, "tokenizer.ggml.scores", SB_GGUF_FLOAT32, v->score, v->n);
    sb_gguf_set_arr(w, "tokenizer.ggml.token_type", SB_GGUF_INT32, v->type, v->n);
    sb_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
    sb_gguf_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
    sb_gguf_set_u32(w, "tokenizer.ggml.unknown_token_id", 0);
    return w;
}

static sb_tokenizer *spm_tok(void)
{
    vocab_arrays v;
    sb_gguf_writer *w = spm_writer(&v);
    sb_tokenizer *t = NULL;
    char err[512];
    int rc = load_from_writer(w, &t, err, sizeof err);
    CHECK_MSG(rc == 0, "%s", err);
    sb_gguf_writer_free(w);
    free_arrays(&v);
    return t;
}

/* Expects loading to fail with code and a message containing every string of want[]. */
static void expect_load_error(sb_gguf_writer *w, int code, const char *want1, const char *want2)
{
    sb_tokenizer *t = NULL;
    char err[512] = "";
    int rc = load_from_writer(w, &t, err, sizeof err);
    CHECK_MSG(rc == code, "code %d (%s), want %d: %s", rc, sb_tok_status_name(rc), code, err);
    CHECK(t == NULL);
    CHECK_MSG(strstr(err, "vocab.gguf") != NULL, "message does not name the file: %s", err);
    if (want1) CHECK_MSG(strstr(err, want1) != NULL, "message lacks '%s': %s", want1, err);
    if (want2) CHECK_MSG(strstr(err, want2) != NULL, "message lacks '%s': %s", want2, err);
    sb_tok_free(t);
    sb_gguf_writer_free(w);
}

/* ---- G18 ------------------------------------------------------------------------------------ */

static void test_g18_scores_length_differs(void)
{
    vocab_arrays v;
    sb_gguf_writer *w = spm_writer(&v);
    sb_gguf_set_arr(w, "tokenizer.ggml.scores", SB_GGUF_FLOAT32, v.score, v.n - 1);
    expect_load_error(w, SB_TOK_E_VOCAB, "tokenizer.ggml.scores", "entries");
    free_arrays(&v);
}

static void test_g18_types_length_differs(void)
{
    vocab_arrays v;
    sb_gguf_writer *w = spm_writer(&v);
    sb_gguf_set_arr(w, "tokenizer.ggml.token_type", SB_GGUF_INT32, v.type, v.n + 0 - 5);
    expect_load_error(w, SB_TOK_E_VOCAB, "tokenizer.ggml.token_type", "entries");
    free_arrays(&v);
}

static void test_g18_special_id_out_of_range(void)
{
    static const char *const keys[] = {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                                       "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id",
                                       "tokenizer.ggml.eot_token_id", "tokenizer.ggml.fim_pre_token_id"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        vocab_arrays v;
        sb_gguf_writer *w = spm_writer(&v);
        sb_gguf_set_u32(w, keys[k], (uint32_t)v.n);  /* one past the end */
        expect_load_error(w, SB_TOK_E_VOCAB, keys[k], "outside the vocabulary");
        free_arrays(&v);
    }
    vocab_arrays v;
    sb_gguf_writer *w = spm_writer(&v);
    sb_gguf_set_u64(w, "tokenizer.ggml.eos_token_id", (uint64_t)1 << 40);
    expect_load_error(w, SB_TOK_E_VOCAB, "eos_token_id", NULL);
    free_arrays(&v);
    w = spm_writer(&v);
    sb_gguf_set_u32(w, "tokenizer.ggml.eos_token_id", 0xfffffffe);
    expect_load_error(w, SB_TOK_E_VOCAB, "eos_token_id", "outside the vocabulary");
    free_arrays(&v);
    w = spm_writer(&v);
    sb_gguf_set_i32(w, "tokenizer.ggml.eos_token_id", -5);
    expect_load_error(w, SB_TOK_E_VOCAB, "eos_token_id", "negative");
    free_arrays(&v);
}

/* 0xFFFFFFFF (and -1) mean "no such token", as llama2.c-converted files write for padding. */
static void test_special_id_none_markers(void)
{
    vocab_arrays v;
    sb_gguf_writer *w = spm_writer(&v);
    sb_gguf_set_u32(w, "tokenizer.ggml.padding_token_id", 0xffffffff);
    sb_gguf_set_i32(w, "tokenizer.ggml.eot_token_id", -1);
    sb_tokenizer *t = NULL;
    char err[512];
    CHECK_EQ_INT(load_from_writer(w, &t, err, sizeof err), 0);
    CHECK_EQ_INT(sb_tok_pad(t), -1);
    CHECK_EQ_INT(sb_tok_eot(t), -1);
    sb_tok_free(t);
    sb_gguf_writer_free(w);
    free_arrays(&v);
}

static void test_g18_malformed_byte_token(void)
{
    static const char *const bad[] = {"<0xZZ>", "<0x4>", "0x41", "<0x411>", "<0X41>", "<0x4G>"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        vocab_arrays v;
        sb_gguf_writer *w = spm_writer(&v);
        free(v.tok[SPM_BASE + 0x41]);
        v.tok[SPM_BASE + 0x41] = strdup(bad[k]);
        v.tokp[SPM_BASE + 0x41] = v.tok[SPM_BASE + 0x41];
        sb_gguf_set_arr_str(w, "tokenizer.ggml.tokens", v.tokp, v.n);
        expect_load_error(w, SB_TOK_E_VOCAB, "type BYTE", "<0xNN>");
        free_arrays(&v);
    }
}

static void test_g18_duplicate_token(void)
{
    vocab_arrays v;
    sb_gguf_writer *w = spm_writer(&v);
    free(v.tok[v.n - 1]);
    v.tok[v.n - 1] = strdup("hello");
    v.tokp[v.n - 1] = v.tok[v.n - 1];
    sb_gguf_set_arr_str(w, "tokenizer.ggml.tokens", v.tokp, v.n);
    expect_load_error(w, SB_TOK_E_VOCAB, "'hello' appears twice", NULL);
    free_arrays(&v);
}

static void test_g18_wrong_key_types(void)
{
    vocab_arrays v;
    sb_gguf_writer *w = spm_writer(&v);
    sb_gguf_set_str(w, "tokenizer.ggml.scores", "not an array");
    expect_load_error(w, SB_TOK_E_VOCAB, "tokenizer.ggml.scores", NULL);
    free_arrays(&v);

    w = spm_writer(&v);
    sb_gguf_set_arr(w, "tokenizer.ggml.tokens", SB_GGUF_INT32, v.type, v.n);
    expect_load_error(w, SB_TOK_E_VOCAB, "tokenizer.ggml.tokens", NULL);
    free_arrays(&v);

    w = spm_writer(&v);
    sb_gguf_set_arr(w, "tokenizer.ggml.token_type", SB_GGUF_FLOAT32, v.score, v.n);
    expect_load_error(w, SB_TOK_E_VOCAB, "tokenizer.ggml.token_type", NULL);
    free_arrays(&v);

    w = spm_writer(&v);
    sb_gguf_set_str(w, "tokenizer.ggml.bos_token_id", "1");
    expect_load_error(w, SB_TOK_E_VOCAB, "bos_token_id", "not an integer");
    free_arrays(&v);

    w = sb_gguf_writer_new();
    sb_gguf_set_str(w, "tokenizer.ggml.model", "llama");
    expect_load_error(w, SB_TOK_E_VOCAB, "tokenizer.ggml.tokens", "missing");
    w = sb_gguf_writer_new();
    sb_gguf_set_u32(w, "general.alignment", 32);
    expect_load_error(w, SB_TOK_E_VOCAB, "tokenizer.ggml.model", "missing");
}

static void test_unsupported_models_are_named(void)
{
    vocab_arrays v;
    sb_gguf_writer *w = spm_writer(&v);
    sb_gguf_set_str(w, "tokenizer.ggml.model", "bert");
    expect_load_error(w, SB_TOK_E_UNSUPPORTED, "'bert'", "WordPiece");
    free_arrays(&v);
    w = spm_writer(&v);
    sb_gguf_set_str(w, "tokenizer.ggml.model", "t5-unigram-xyz");
    expect_load_error(w, SB_TOK_E_UNSUPPORTED, "'t5-unigram-xyz'", "not supported");
    free_arrays(&v);
}

/* ---- a small byte-level BPE vocabulary ----------------------------------------------------- */

/* 256 byte characters (in byte order, id = byte), then merged pieces, then specials. */
static const char *const bpe_merged[] = {"\xc4\xa0t", "he", "\xc4\xa0the", "ll", "llo", "\xc4\xa0w", "or"};
static const char *const bpe_merges[] = {"\xc4\xa0 t", "h e", "\xc4\xa0t he", "l l", "ll o", "\xc4\xa0 w", "o r", "x y"};

typedef struct bpe_arrays {
    char *tok[300];
    const char *tokp[300];
    int32_t type[300];
    uint64_t n;
} bpe_arrays;

static void bpe_build(bpe_arrays *v)
{
    memset(v, 0, sizeof *v);
    for (int b = 0; b < 256; b++) {
        char u[4];
        uint32_t c = bpe_byte_to_cpt((uint8_t)b);
        size_t l = 0;
        if (c < 0x80) u[l++] = (char)c;
        else { u[l++] = (char)(0xc0 | (c >> 6)); u[l++] = (char)(0x80 | (c & 0x3f)); }
        u[l] = 0;
        v->tok[v->n] = strdup(u);
        v->type[v->n++] = SB_TOK_TYPE_NORMAL;
    }
    for (size_t i = 0; i < sizeof bpe_merged / sizeof *bpe_merged; i++) {
        v->tok[v->n] = strdup(bpe_merged[i]);
        v->type[v->n++] = SB_TOK_TYPE_NORMAL;
    }
    v->tok[v->n] = strdup("<|endoftext|>");
    v->type[v->n++] = SB_TOK_TYPE_CONTROL;
    v->tok[v->n] = strdup("<|user|>");
    v->type[v->n++] = SB_TOK_TYPE_USER_DEFINED;
    for (uint64_t i = 0; i < v->n; i++) v->tokp[i] = v->tok[i];
}

static sb_gguf_writer *bpe_writer_ids(bpe_arrays *v, const char *pre, int with_ids)
{
    bpe_build(v);
    sb_gguf_writer *w = sb_gguf_writer_new();
    sb_gguf_set_str(w, "tokenizer.ggml.model", "gpt2");
    if (pre) sb_gguf_set_str(w, "tokenizer.ggml.pre", pre);
    sb_gguf_set_arr_str(w, "tokenizer.ggml.tokens", v->tokp, v->n);
    sb_gguf_set_arr(w, "tokenizer.ggml.token_type", SB_GGUF_INT32, v->type, v->n);
    sb_gguf_set_arr_str(w, "tokenizer.ggml.merges", bpe_merges, sizeof bpe_merges / sizeof *bpe_merges);
    if (with_ids) {
        sb_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)v->n - 2);
        sb_gguf_set_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)v->n - 2);
    }
    return w;
}

static sb_gguf_writer *bpe_writer(bpe_arrays *v, const char *pre) { return bpe_writer_ids(v, pre, 1); }

static void free_bpe(bpe_arrays *v)
{
    for (uint64_t i = 0; i < v->n; i++) free(v->tok[i]);
}

static void test_g18_merges_name_unknown_tokens(void)
{
    static const char *const bad[][2] = {{"h zz", "'h zz'"}, {"qq e", "'qq e'"}};
    for (int k = 0; k < 2; k++) {
        bpe_arrays v;
        sb_gguf_writer *w = bpe_writer(&v, "gpt-2");
        const char *m[] = {"h e", bad[k][0]};
        sb_gguf_set_arr_str(w, "tokenizer.ggml.merges", m, 2);
        expect_load_error(w, SB_TOK_E_VOCAB, "tokenizer.ggml.merges[1]", bad[k][1]);
        free_bpe(&v);
    }
    bpe_arrays v;
    sb_gguf_writer *w = bpe_writer(&v, "gpt-2");
    const char *m[] = {"he"};
    sb_gguf_set_arr_str(w, "tokenizer.ggml.merges", m, 1);
    expect_load_error(w, SB_TOK_E_VOCAB, "tokenizer.ggml.merges[0]", "left right");
    free_bpe(&v);
}

static void test_gpt2_needs_merges_and_known_pre(void)
{
    bpe_arrays v;
    sb_gguf_writer *w = sb_gguf_writer_new();
    bpe_build(&v);
    sb_gguf_set_str(w, "tokenizer.ggml.model", "gpt2");
    sb_gguf_set_arr_str(w, "tokenizer.ggml.tokens", v.tokp, v.n);
    expect_load_error(w, SB_TOK_E_VOCAB, "tokenizer.ggml.merges", "missing");
    free_bpe(&v);

    w = bpe_writer(&v, "frobnicate-9");
    expect_load_error(w, SB_TOK_E_UNSUPPORTED, "tokenizer.ggml.pre 'frobnicate-9'", "not supported");
    free_bpe(&v);

    /* chatglm-bpe has no BOS by default: asking to add one is a vocabulary error */
    w = bpe_writer_ids(&v, "chatglm-bpe", 0);
    sb_gguf_set_bool(w, "tokenizer.ggml.add_bos_token", 1);
    expect_load_error(w, SB_TOK_E_VOCAB, "add_bos_token", "no BOS");
    free_bpe(&v);
}

/* ---- behaviour ------------------------------------------------------------------------------ */

static void check_ids(const int32_t *got, size_t n, const int32_t *want, size_t wn, const char *what)
{
    int same = n == wn && (n == 0 || memcmp(got, want, n * sizeof *got) == 0);
    if (!same) {
        char g[256] = "", w[256] = "";
        size_t o = 0;
        for (size_t i = 0; i < n && o < 240; i++) o += (size_t)snprintf(g + o, sizeof g - o, " %d", got[i]);
        o = 0;
        for (size_t i = 0; i < wn && o < 240; i++) o += (size_t)snprintf(w + o, sizeof w - o, " %d", want[i]);
        test_fail_at(__FILE__, __LINE__, "%s: got%s, want%s", what, g, w);
    }
}

static void test_spm_merges_by_score_with_byte_fallback(void)
{
    sb_tokenizer *t = spm_tok();
    if (!t) return;
    CHECK_STR(sb_tok_model_name(t), "llama");
    CHECK_EQ_INT(sb_tok_add_bos(t), 1);  /* llama.cpp's default for SentencePiece */
    CHECK_EQ_INT(sb_tok_add_eos(t), 0);
    int32_t *ids = NULL;
    size_t n = 0;
    /* "hello ab" -> "▁hello▁ab": both words are whole tokens */
    CHECK_EQ_INT(sb_tok_encode(t, "hello ab", 8, 0, 0, &ids, &n), SB_TOK_OK);
    int32_t w1[] = {piece_id("\xe2\x96\x81hello"), piece_id("\xe2\x96\x81" "ab")};
    check_ids(ids, n, w1, 2, "hello ab");
    free(ids);
    /* "z" is no token: "▁" then the byte token <0x7A> */
    CHECK_EQ_INT(sb_tok_encode(t, "z", 1, 1, 0, &ids, &n), SB_TOK_OK);
    int32_t w2[] = {1, piece_id("\xe2\x96\x81"), SPM_BASE + 'z'};
    check_ids(ids, n, w2, 3, "z with BOS");
    char *s = NULL;
    size_t sl = 0;
    CHECK_EQ_INT(sb_tok_decode(t, ids, n, 1, 0, &s, &sl), SB_TOK_OK);
    CHECK_STR(s, "z");
    free(s);
    CHECK_EQ_INT(sb_tok_decode(t, ids, n, 0, 1, &s, &sl), SB_TOK_OK);
    CHECK_STR(s, "<s> z");
    free(s);
    free(ids);
    /* a multi-byte character outside the vocabulary: three byte tokens that decode back */
    CHECK_EQ_INT(sb_tok_encode(t, "\xe2\x82\xac", 3, 0, 0, &ids, &n), SB_TOK_OK);
    int32_t w3[] = {piece_id("\xe2\x96\x81"), SPM_BASE + 0xe2, SPM_BASE + 0x82, SPM_BASE + 0xac};
    check_ids(ids, n, w3, 4, "euro sign");
    CHECK_EQ_INT(sb_tok_decode(t, ids, n, 1, 0, &s, &sl), SB_TOK_OK);
    CHECK_STR(s, "\xe2\x82\xac");
    free(s);
    free(ids);
    /* empty text: nothing, or just BOS */
    CHECK_EQ_INT(sb_tok_encode(t, "", 0, 0, 0, &ids, &n), SB_TOK_OK);
    CHECK_EQ_INT(n, 0);
    free(ids);
    CHECK_EQ_INT(sb_tok_encode(t, NULL, 0, 1, 0, &ids, &n), SB_TOK_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(ids[0], 1);
    free(ids);
    sb_tok_free(t);
}

static void test_spm_parse_special_and_flags(void)
{
    vocab_arrays v;
    sb_gguf_writer *w = spm_writer(&v);
    sb_gguf_set_bool(w, "tokenizer.ggml.add_eos_token", 1);
    sb_gguf_set_bool(w, "tokenizer.ggml.add_bos_token", 0);
    sb_tokenizer *t = NULL;
    char err[512];
    CHECK_EQ_INT(load_from_writer(w, &t, err, sizeof err), 0);
    sb_gguf_writer_free(w);
    free_arrays(&v);
    if (!t) return;
    int32_t *ids = NULL;
    size_t n = 0;
    /* as plain text "<s>" is characters; parsed it is BOS, and the text after it gets the prefix */
    CHECK_EQ_INT(sb_tok_encode(t, "ab<s>ab", 7, 1, 1, &ids, &n), SB_TOK_OK);
    int32_t w1[] = {piece_id("\xe2\x96\x81" "ab"), 1, piece_id("\xe2\x96\x81" "ab"), 2};
    check_ids(ids, n, w1, 4, "parse_special with EOS added");
    free(ids);
    CHECK_EQ_INT(sb_tok_encode(t, "ab<s>", 5, 0, 0, &ids, &n), SB_TOK_OK);
    CHECK(n > 2);
    for (size_t i = 0; i < n; i++) CHECK(ids[i] != 1);
    char *s = NULL;
    size_t sl;
    CHECK_EQ_INT(sb_tok_decode(t, ids, n, 1, 0, &s, &sl), SB_TOK_OK);
    CHECK_STR(s, "ab<s>");
    free(s);
    free(ids);
    int32_t bad = sb_tok_n_vocab(t);
    CHECK_EQ_INT(sb_tok_decode(t, &bad, 1, 0, 0, &s, &sl), SB_TOK_E_INPUT);
    bad = -1;
    CHECK_EQ_INT(sb_tok_decode(t, &bad, 1, 0, 0, &s, &sl), SB_TOK_E_INPUT);
    CHECK(sb_tok_is_special(t, 1));
    CHECK(sb_tok_is_eog(t, 2));
    CHECK(!sb_tok_is_eog(t, 1));
    CHECK_EQ_INT(sb_tok_token_type(t, 3), SB_TOK_TYPE_BYTE);
    CHECK(sb_tok_piece(t, sb_tok_n_vocab(t), NULL) == NULL);
    sb_tok_free(t);
}

static void test_bpe_merges_specials_and_fallback(void)
{
    bpe_arrays v;
    sb_gguf_writer *w = bpe_writer(&v, "gpt-2");
    sb_tokenizer *t = NULL;
    char err[512];
    int rc = load_from_writer(w, &t, err, sizeof err);
    CHECK_MSG(rc == 0, "%s", err);
    sb_gguf_writer_free(w);
    if (!t) { free_bpe(&v); return; }
    int32_t eot = (int32_t)v.n - 2, user = (int32_t)v.n - 1;
    CHECK_EQ_INT(sb_tok_add_bos(t), 0);
    CHECK_EQ_INT(sb_tok_eos(t), eot);
    int32_t *ids = NULL;
    size_t n = 0;
    const char *s = "hello the world<|user|>xy<|endoftext|>";
    CHECK_EQ_INT(sb_tok_encode(t, s, strlen(s), 1, 0, &ids, &n), SB_TOK_OK);
    /* words: "hello" " the" " world" | <|user|> (user-defined: always split) | "xy" (merge to a
     * non-token: falls back to "x" "y") | "<|endoftext|>" as text */
    int32_t he = 256 + 1, the = 256 + 2, llo = 256 + 4, sp_w = 256 + 5, orr = 256 + 6;
    CHECK(n > 8);
    int32_t head[] = {he, llo, the, sp_w, orr, 'l', 'd', user, 'x', 'y', '<'};
    check_ids(ids, n < 11 ? n : 11, head, 11, "bpe head");
    char *d = NULL;
    size_t dl;
    CHECK_EQ_INT(sb_tok_decode(t, ids, n, 1, 0, &d, &dl), SB_TOK_OK);
    CHECK_STR(d, s);  /* lossless, and no space stripping for byte-level BPE */
    free(d);
    free(ids);
    CHECK_EQ_INT(sb_tok_encode(t, s, strlen(s), 0, 1, &ids, &n), SB_TOK_OK);
    CHECK(n > 0 && ids[n - 1] == eot);
    CHECK_EQ_INT(sb_tok_decode(t, ids, n, 0, 0, &d, &dl), SB_TOK_OK);
    CHECK_STR(d, "hello the world<|user|>xy");  /* control tokens hidden unless render_special */
    free(d);
    CHECK_EQ_INT(sb_tok_decode(t, ids, n, 0, 1, &d, &dl), SB_TOK_OK);
    CHECK_STR(d, s);
    free(d);
    free(ids);
    /* invalid UTF-8 becomes U+FFFD (as llama.cpp), bytes \xc4\xa0 survive as characters */
    CHECK_EQ_INT(sb_tok_encode(t, "a\xff" "b", 3, 0, 0, &ids, &n), SB_TOK_OK);
    CHECK_EQ_INT(sb_tok_decode(t, ids, n, 0, 0, &d, &dl), SB_TOK_OK);
    CHECK_STR(d, "a\xef\xbf\xbd" "b");
    free(d);
    free(ids);
    sb_tok_free(t);
    free_bpe(&v);
}

static void test_llama3_pre_adds_bos_and_ignores_merges(void)
{
    bpe_arrays v;
    sb_gguf_writer *w = bpe_writer(&v, "llama-bpe");
    sb_tokenizer *t = NULL;
    char err[512];
    CHECK_EQ_INT(load_from_writer(w, &t, err, sizeof err), 0);
    sb_gguf_writer_free(w);
    if (!t) { free_bpe(&v); return; }
    CHECK_EQ_INT(sb_tok_add_bos(t), 1);
    CHECK_STR(sb_tok_pre_name(t), "llama-bpe");
    int32_t *ids = NULL;
    size_t n = 0;
    /* digits in groups of at most three (\p{N}{1,3}) */
    CHECK_EQ_INT(sb_tok_encode(t, "12345", 5, 0, 0, &ids, &n), SB_TOK_OK);
    int32_t want[] = {'1', '2', '3', '4', '5'};
    check_ids(ids, n, want, 5, "digits");
    free(ids);
    sb_tok_free(t);
    free_bpe(&v);
}

static void test_byte_to_unicode_map(void)
{
    CHECK_EQ_INT(bpe_byte_to_cpt(' '), 0x120);   /* 'Ġ' */
    CHECK_EQ_INT(bpe_byte_to_cpt('\n'), 0x10a);  /* 'Ċ' */
    CHECK_EQ_INT(bpe_byte_to_cpt('A'), 'A');
    CHECK_EQ_INT(bpe_byte_to_cpt(0xad), 0x143);
    CHECK_EQ_INT(bpe_byte_to_cpt(0), 0x100);
    int seen[512] = {0};
    for (int b = 0; b < 256; b++) {
        uint32_t c = bpe_byte_to_cpt((uint8_t)b);
        CHECK(c < 512);
        if (c < 512) seen[c]++;
        CHECK_EQ_INT(bpe_cpt_to_byte(c), b);
    }
    for (int c = 0; c < 512; c++) CHECK(seen[c] <= 1);
    CHECK_EQ_INT(bpe_cpt_to_byte(0x144), -1);
    CHECK_EQ_INT(bpe_cpt_to_byte(' '), -1);
}

static void test_desc_loader_checks_lengths(void)
{
    const char *tokens[] = {"<unk>", "<s>", "</s>", "a"};
    float scores[] = {0, 0, 0};
    sb_tok_vocab_desc d;
    sb_tok_vocab_desc_init(&d);
    d.name = "arrays";
    d.model = "llama";
    d.tokens = tokens;
    d.n_tokens = 4;
    d.scores = scores;
    d.n_scores = 3;
    sb_tokenizer *t = NULL;
    char err[256];
    CHECK_EQ_INT(sb_tok_load_desc(&d, &t, err, sizeof err), SB_TOK_E_VOCAB);
    CHECK(strstr(err, "arrays") && strstr(err, "scores"));
    d.scores = NULL;
    d.n_scores = 0;
    CHECK_EQ_INT(sb_tok_load_desc(&d, &t, err, sizeof err), SB_TOK_OK);
    CHECK_EQ_INT(sb_tok_unk(t), 0);
    CHECK_EQ_INT(sb_tok_bos(t), 1);
    sb_tok_free(t);
    d.bos = -7;
    CHECK_EQ_INT(sb_tok_load_desc(&d, &t, err, sizeof err), SB_TOK_E_VOCAB);
    CHECK_EQ_INT(sb_tok_load_desc(NULL, &t, err, sizeof err), SB_TOK_E_ARG);
}


/* Splits text with the pre-tokenizer `pre` and compares the words with want ("|"-separated). */
static void check_split(const char *pre, const char *text, const char *want)
{
    bpe_arrays v;
    sb_gguf_writer *w = bpe_writer(&v, pre);
    sb_tokenizer *t = NULL;
    char err[512];
    int rc = load_from_writer(w, &t, err, sizeof err);
    CHECK_MSG(rc == 0, "%s: %s", pre, err);
    sb_gguf_writer_free(w);
    free_bpe(&v);
    if (!t) return;
    span *words = NULL;
    size_t n = 0;
    CHECK_EQ_INT(pretok_split(t, text, strlen(text), &words, &n), SB_TOK_OK);
    char got[512];
    size_t o = 0;
    for (size_t i = 0; i < n && o + words[i].len + 2 < sizeof got; i++) {
        if (i) got[o++] = '|';
        memcpy(got + o, text + words[i].start, words[i].len);
        o += words[i].len;
    }
    got[o] = 0;
    CHECK_MSG(!strcmp(got, want), "pre %s: \"%s\" split as \"%s\", want \"%s\"", pre, text, got, want);
    free(words);
    sb_tok_free(t);
}

static void test_pre_tokenizer_splits(void)
{
    check_split("gpt-2", "12345 I've  a   b", "12345| I|'ve| | a|  | b");
    check_split("llama-bpe", "12345 I've\n\nworld", "123|45| I|'ve|\n\n|world");
    check_split("llama3", "I'VE 1234567", "I|'VE| |123|456|7");
    check_split("qwen2", "12345 I've", "1|2|3|4|5| I|'ve");
    check_split("starcoder", "x12 I've", "x|1|2| I|'ve");
    check_split("smollm", "x12 I've", "x|1|2| I|'ve");
    check_split("refact", "a1", "a|1");
    check_split("mpt", "hello  world", "hello| | world");
    check_split("falcon", "a+b==1234!", "a|+|b|==|123|4|!");
    check_split("deepseek-coder", "ab 12\nc", "ab| |1|2|\n|c");
    check_split("deepseek-llm", "Hello, 12 \xe6\x88\x91\xe6\x83\xb3", "Hello|,| |12| |\xe6\x88\x91\xe6\x83\xb3");
    check_split("default", "a,b 1234", "a|,|b| |123|4");
}

int main(void)
{
    RUN(test_g18_scores_length_differs);
    RUN(test_g18_types_length_differs);
    RUN(test_g18_special_id_out_of_range);
    RUN(test_special_id_none_markers);
    RUN(test_g18_malformed_byte_token);
    RUN(test_g18_duplicate_token);
    RUN(test_g18_merges_name_unknown_tokens);
    RUN(test_g18_wrong_key_types);
    RUN(test_unsupported_models_are_named);
    RUN(test_gpt2_needs_merges_and_known_pre);
    RUN(test_spm_merges_by_score_with_byte_fallback);
    RUN(test_spm_parse_special_and_flags);
    RUN(test_bpe_merges_specials_and_fallback);
    RUN(test_llama3_pre_adds_bos_and_ignores_merges);
    RUN(test_byte_to_unicode_map);
    RUN(test_pre_tokenizer_splits);
    RUN(test_desc_loader_checks_lengths);
    return test_finish();
}
