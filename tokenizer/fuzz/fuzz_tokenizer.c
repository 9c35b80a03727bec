/* libFuzzer target for the tokenizers: encode then decode arbitrary bytes, and load arbitrary
 * GGUF bytes as a vocabulary.
 *
 * Input layout: byte 0 selects the case, the rest is the text (or the GGUF file):
 *   bit 7      the rest is a GGUF file: load it as a vocabulary (G18 checks), then encode and
 *              decode a sample text with it when it is accepted
 *   bit 6      use the vocabulary of the file named by $SB_FUZZ_VOCAB (when set) instead of a
 *              built-in one; only "no crash, ids in range" is checked then
 *   bits 0-1   built-in vocabulary: 0 SentencePiece, 1 BPE gpt-2, 2 BPE llama-bpe, 3 BPE deepseek-llm
 *   bit 2      parse_special;  bit 3  add_special
 * Checked on the built-in vocabularies: every call succeeds, ids are in range, and without
 * add_special decode(encode(text)) gives the text back (byte-level BPE: after invalid UTF-8 is
 * replaced by U+FFFD; SentencePiece: exactly, when special tokens are not parsed).
 *
 *   make fuzz-tokenizer                          clang -fsanitize=fuzzer,address,undefined, run
 *   build/tests/test_tokenizer_fuzz_replay [FILE...]   replay the saved corpus (or FILEs), gcc
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf.h"
#include "tokenizer/internal.h"
#include "tokenizer/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sb_tokenizer *fz_builtin[4];
static sb_tokenizer *fz_env;
static int fz_ready;

/* SentencePiece: <unk> <s> </s>, the 256 byte tokens, a few scored pieces. */
static sb_tokenizer *fz_build_spm(void)
{
    static const char *const pieces[] = {
        "\xe2\x96\x81", "a", "b", "c", "e", "h", "l", "o", "ab", "he", "ll", "hell", "hello",
        "\xe2\x96\x81" "a", "\xe2\x96\x81" "hello", "\xe2\x96\x81\xe2\x96\x81", "\xe2\x96\x81\xe2\x96\x81\xe2\x96\x81",
        "\xc3\xa9", "\xe2\x96\x81\xc3\xa9t\xc3\xa9",
    };
    enum { NP = sizeof pieces / sizeof *pieces, N = 3 + 256 + NP };
    static char bytes[256][8];
    const char *tok[N];
    float score[N];
    int32_t type[N];
    tok[0] = "<unk>"; tok[1] = "<s>"; tok[2] = "</s>";
    type[0] = SB_TOK_TYPE_UNKNOWN; type[1] = type[2] = SB_TOK_TYPE_CONTROL;
    score[0] = score[1] = score[2] = 0;
    for (int b = 0; b < 256; b++) {
        snprintf(bytes[b], sizeof bytes[b], "<0x%02X>", b);
        tok[3 + b] = bytes[b];
        type[3 + b] = SB_TOK_TYPE_BYTE;
        score[3 + b] = 0;
    }
    for (int i = 0; i < NP; i++) {
        tok[3 + 256 + i] = pieces[i];
        type[3 + 256 + i] = SB_TOK_TYPE_NORMAL;
        score[3 + 256 + i] = -(float)(i % 7) - 1.0f;
    }
    sb_tok_vocab_desc d;
    sb_tok_vocab_desc_init(&d);
    d.name = "fuzz-spm";
    d.model = "llama";
    d.tokens = tok;
    d.n_tokens = N;
    d.scores = score;
    d.n_scores = N;
    d.types = type;
    d.n_types = N;
    sb_tokenizer *t = NULL;
    return sb_tok_load_desc(&d, &t, NULL, 0) == SB_TOK_OK ? t : NULL;
}

/* Byte-level BPE: the 256 byte characters (id = byte), merged pieces, two specials. Every merge
 * result is a token except "xy", whose fallback ("x" "y") is still lossless; a non-token result
 * of non-ASCII bytes would be dropped (as llama.cpp does) and break the round-trip check. */
static sb_tokenizer *fz_build_bpe(const char *pre)
{
    static const char *const merged[] = {"\xc4\xa0t", "he", "\xc4\xa0the", "ll", "llo", "\xc4\xa0w", "or", "12", "123", "\xc4\xa0\xc4\xa0", "\xc4\x8a\xc4\x8a"};
    static const char *const merges[] = {"\xc4\xa0 t", "h e", "\xc4\xa0t he", "l l", "ll o", "\xc4\xa0 w", "o r",
                                         "1 2", "12 3", "\xc4\xa0 \xc4\xa0", "x y", "\xc4\x8a \xc4\x8a"};
    enum { NM = sizeof merged / sizeof *merged, N = 256 + NM + 2 };
    static char chars[256][4];
    const char *tok[N];
    int32_t type[N];
    for (int b = 0; b < 256; b++) {
        uint32_t c = bpe_byte_to_cpt((uint8_t)b);
        if (c < 0x80) { chars[b][0] = (char)c; chars[b][1] = 0; }
        else { chars[b][0] = (char)(0xc0 | (c >> 6)); chars[b][1] = (char)(0x80 | (c & 0x3f)); chars[b][2] = 0; }
        tok[b] = chars[b];
        type[b] = SB_TOK_TYPE_NORMAL;
    }
    for (int i = 0; i < NM; i++) { tok[256 + i] = merged[i]; type[256 + i] = SB_TOK_TYPE_NORMAL; }
    tok[256 + NM] = "<|endoftext|>";
    type[256 + NM] = SB_TOK_TYPE_CONTROL;
    tok[256 + NM + 1] = "<|user|>";
    type[256 + NM + 1] = SB_TOK_TYPE_USER_DEFINED;
    sb_tok_vocab_desc d;
    sb_tok_vocab_desc_init(&d);
    d.name = "fuzz-bpe";
    d.model = "gpt2";
    d.pre = pre;
    d.tokens = tok;
    d.n_tokens = N;
    d.types = type;
    d.n_types = N;
    d.merges = merges;
    d.n_merges = sizeof merges / sizeof *merges;
    d.bos = d.eos = 256 + NM;
    sb_tokenizer *t = NULL;
    return sb_tok_load_desc(&d, &t, NULL, 0) == SB_TOK_OK ? t : NULL;
}

static void fz_init(void)
{
    if (fz_ready) return;
    fz_ready = 1;
    fz_builtin[0] = fz_build_spm();
    fz_builtin[1] = fz_build_bpe("gpt-2");
    fz_builtin[2] = fz_build_bpe("llama-bpe");
    fz_builtin[3] = fz_build_bpe("deepseek-llm");
    const char *path = getenv("SB_FUZZ_VOCAB");
    if (path) {
        sb_gguf *g = NULL;
        if (sb_gguf_open(path, &g, NULL) == 0) sb_tok_load_gguf(g, &fz_env, NULL, 0);
        sb_gguf_close(g);
    }
}

/* Encodes and decodes; 0 when the tokenizer behaved, -1 when it broke its contract. */
static int fz_roundtrip(const sb_tokenizer *t, const char *text, size_t len, int add_special, int parse_special,
                        int check_text)
{
    int32_t *ids = NULL;
    size_t n = 0;
    if (sb_tok_encode(t, text, len, add_special, parse_special, &ids, &n) != SB_TOK_OK || !ids) return -1;
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= sb_tok_n_vocab(t)) { free(ids); return -1; }
    char *out = NULL;
    size_t out_len = 0;
    int rc = sb_tok_decode(t, ids, n, 1, 1, &out, &out_len);
    free(ids);
    if (rc != SB_TOK_OK || !out || out[out_len] != 0) { free(out); return -1; }
    int bad = 0;
    if (check_text) {
        if (!strcmp(sb_tok_model_name(t), "gpt2")) {
            char *clean = NULL;
            size_t cl = 0;
            if (utf8_sanitize(text, len, &clean, &cl) != SB_TOK_OK) { free(out); return -1; }
            bad = cl != out_len || memcmp(clean, out, cl) != 0;
            free(clean);
        } else {
            bad = len != out_len || memcmp(text, out, len) != 0;
        }
    }
    free(out);
    return bad ? -1 : 0;
}

static int fuzz_tokenizer_one(const uint8_t *data, size_t size)
{
    fz_init();
    if (size == 0) return 0;
    uint8_t mode = data[0];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (mode & 0x80) {
        sb_gguf *g = NULL;
        if (sb_gguf_open_memory(text, len, "fuzz.gguf", &g, NULL) != 0) return 0;
        sb_tokenizer *t = NULL;
        char err[512];
        int rc = sb_tok_load_gguf(g, &t, err, sizeof err);
        sb_gguf_close(g);  /* the tokenizer must not depend on the file any more */
        if (rc != SB_TOK_OK) return t == NULL && err[0] && rc > 0 && rc <= SB_TOK_E_INPUT ? 0 : -1;
        if (!t) return -1;
        static const char sample[] = " Hello  world!\n\t<s>1234 \xc3\xa9t\xc3\xa9 \xf0\x9f\xa6\x99 \xff.";
        int r = fz_roundtrip(t, sample, sizeof sample - 1, 1, 1, 0);
        if (r == 0) r = fz_roundtrip(t, sample, sizeof sample - 1, 0, 0, 0);
        sb_tok_free(t);
        return r;
    }
    int parse_special = (mode >> 2) & 1, add_special = (mode >> 3) & 1;
    if ((mode & 0x40) && fz_env) return fz_roundtrip(fz_env, text, len, add_special, parse_special, 0);
    const sb_tokenizer *t = fz_builtin[mode & 3];
    if (!t) return -1;
    int spm = (mode & 3) == 0;
    /* SentencePiece is lossy for a typed U+2581 (it decodes to a space), as SentencePiece is. */
    int check = !add_special && !(spm && (parse_special || memmem(text, len, "\xe2\x96\x81", 3)));
    return fz_roundtrip(t, text, len, add_special, parse_special, check);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fuzz_tokenizer_one(data, size) != 0) __builtin_trap();
    return 0;
}
