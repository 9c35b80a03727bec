/* Writes the tokenizer fuzzer's seed corpus into DIR: texts for each built-in vocabulary and
 * mode (byte 0 = mode, see fuzz_tokenizer.c) and small GGUF vocabularies made with the writer,
 * valid and broken per G18. Run by `make fuzz-tokenizer-seeds`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

static const char *dir;

static void put(const char *name, unsigned char mode, const void *data, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(1); }
    fputc(mode, f);
    fwrite(data, 1, n, f);
    fclose(f);
}

static void put_gguf(const char *name, sb_gguf_writer *w)
{
    void *buf = NULL;
    size_t n = 0;
    if (sb_gguf_writer_to_memory(w, &buf, &n, NULL)) { fprintf(stderr, "writer failed for %s\n", name); exit(1); }
    put(name, 0x80, buf, n);
    free(buf);
    sb_gguf_writer_free(w);
}

static sb_gguf_writer *spm(int n_scores, int bad_byte, int bos)
{
    static char bytes[256][8];
    const char *tok[262];
    float score[262] = {0};
    int32_t type[262];
    tok[0] = "<unk>"; tok[1] = "<s>"; tok[2] = "</s>";
    type[0] = 2; type[1] = type[2] = 3;
    for (int b = 0; b < 256; b++) {
        snprintf(bytes[b], sizeof bytes[b], "<0x%02X>", b);
        tok[3 + b] = bytes[b];
        type[3 + b] = 6;
    }
    if (bad_byte) tok[3 + 'A'] = "<0xG1>";
    tok[259] = "\xe2\x96\x81"; tok[260] = "a"; tok[261] = "\xe2\x96\x81" "a";
    type[259] = type[260] = type[261] = 1;
    score[261] = -1;
    sb_gguf_writer *w = sb_gguf_writer_new();
    sb_gguf_set_str(w, "tokenizer.ggml.model", "llama");
    sb_gguf_set_arr_str(w, "tokenizer.ggml.tokens", tok, 262);
    sb_gguf_set_arr(w, "tokenizer.ggml.scores", SB_GGUF_FLOAT32, score, (uint64_t)n_scores);
    sb_gguf_set_arr(w, "tokenizer.ggml.token_type", SB_GGUF_INT32, type, 262);
    sb_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)bos);
    return w;
}

static sb_gguf_writer *bpe(const char *pre, const char *merge2)
{
    static char chars[256][4];
    const char *tok[260];
    for (int b = 0; b < 256; b++) {
        int printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
        unsigned c = (unsigned)b;
        if (!printable) {
            unsigned k = 0;
            for (int x = 0; x < b; x++) k += !((x >= 0x21 && x <= 0x7e) || (x >= 0xa1 && x <= 0xac) || x >= 0xae);
            c = 256 + k;
        }
        if (c < 0x80) { chars[b][0] = (char)c; chars[b][1] = 0; }
        else { chars[b][0] = (char)(0xc0 | (c >> 6)); chars[b][1] = (char)(0x80 | (c & 0x3f)); chars[b][2] = 0; }
        tok[b] = chars[b];
    }
    tok[256] = "he"; tok[257] = "\xc4\xa0t"; tok[258] = "<|endoftext|>"; tok[259] = "<|user|>";
    int32_t type[260];
    for (int i = 0; i < 260; i++) type[i] = 1;
    type[258] = 3;
    type[259] = 4;
    const char *merges[] = {"h e", merge2};
    sb_gguf_writer *w = sb_gguf_writer_new();
    sb_gguf_set_str(w, "tokenizer.ggml.model", "gpt2");
    sb_gguf_set_str(w, "tokenizer.ggml.pre", pre);
    sb_gguf_set_arr_str(w, "tokenizer.ggml.tokens", tok, 260);
    sb_gguf_set_arr(w, "tokenizer.ggml.token_type", SB_GGUF_INT32, type, 260);
    sb_gguf_set_arr_str(w, "tokenizer.ggml.merges", merges, 2);
    sb_gguf_set_u32(w, "tokenizer.ggml.eos_token_id", 258);
    return w;
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: make_seeds DIR\n"); return 2; }
    dir = argv[1];
    static const char *const texts[] = {
        "Hello world",
        " this is \xf0\x9f\xa6\x99.cpp",
        "    Hello\n    Hello",
        "hello<s>there</s><|endoftext|><|user|>x",
        "\xe2\x96\x81\xe2\x96\x81 a \xe2\x96\x81",
        "123 4567 89012345 3.3 3...3",
        "\xff\xfe\xc3\x28\xe2\x82\xf0\x9f\x98 \xed\xa0\x80 \xc0\xaf",
        "\xd0\xbd\xd0\xb5\xd1\x89\xd0\xbe \xe6\x88\x91\xe6\x83\xb3 \xea\xb0\x80 \xe1\x9e\x80\xe1\x9e\xb6",
        "I've 'RE you sure? We'Ve a'lL\r\n\r\n\t \t",
        "",
    };
    const char *modes = "0123";  /* built-in vocabulary in bits 0-1 */
    int k = 0;
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        for (int m = 0; m < 4; m++) {
            char name[64];
            unsigned char mode = (unsigned char)(m | ((i % 2) ? 0x04 : 0) | ((i % 3) == 2 ? 0x08 : 0));
            snprintf(name, sizeof name, "text-%02zu-%c", i, modes[m]);
            put(name, mode, texts[i], strlen(texts[i]));
            k++;
        }
    }
    put_gguf("vocab-spm", spm(262, 0, 1));
    put_gguf("vocab-spm-bad-scores", spm(261, 0, 1));
    put_gguf("vocab-spm-bad-byte", spm(262, 1, 1));
    put_gguf("vocab-spm-bad-bos", spm(262, 0, 262));
    put_gguf("vocab-bpe-gpt2", bpe("gpt-2", "\xc4\xa0 t"));
    put_gguf("vocab-bpe-qwen2", bpe("qwen2", "\xc4\xa0 t"));
    put_gguf("vocab-bpe-falcon", bpe("falcon", "\xc4\xa0 t"));
    put_gguf("vocab-bpe-bad-merge", bpe("gpt-2", "\xc4\xa0 zz"));
    put_gguf("vocab-bpe-bad-pre", bpe("no-such-pre", "\xc4\xa0 t"));
    printf("wrote %d text seeds and 9 vocabulary seeds to %s\n", k, dir);
    return 0;
}
