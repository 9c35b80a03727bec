/* slmbench generate and synth end to end: the streamed text of stories260K, the summary on
 * stderr, the --json document, a synthesized model that generate runs, and the usage errors. */
#include <stdlib.h>
#include <sys/wait.h>

#include "tests/test.h"

static const char *bin(void) { return getenv("SB_BIN") ? getenv("SB_BIN") : "build/slmbench"; }

/* Runs `slmbench ARGS`, stdout into out (NUL-terminated, truncated to cap), stderr into err. */
static int run(const char *args, char *out, size_t cap, char *err, size_t ecap)
{
    char cmd[2048], epath[600];
    snprintf(epath, sizeof epath, "%s/stderr.txt", test_tmpdir());
    snprintf(cmd, sizeof cmd, "%s %s 2>%s", bin(), args, epath);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    FILE *f = fopen(epath, "rb");
    n = f ? fread(err, 1, ecap - 1, f) : 0;
    err[n] = 0;
    if (f) fclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char out[1 << 16], err[1 << 16];

static void test_generate_stories260k_text(void)
{
    const char *m = test_shared_path("models/stories260K.gguf");
    if (!m) { test_skip("stories260K.gguf not in ../shared"); return; }
    char args[1024];
    snprintf(args, sizeof args, "generate -m %s -n 40 --json %s/gen.json", m, test_tmpdir());
    CHECK_EQ_INT(run(args, out, sizeof out, err, sizeof err), 0);
    /* the manifest's reference text, decoded by the tokenizer from the greedy ids */
    CHECK_MSG(strncmp(out, "Once upon a time, there was a little girl named Lily.", 53) == 0, "stdout: %s", out);
    CHECK(strstr(err, "prompt tokens: 1") != NULL);
    CHECK(strstr(err, "time to first token") != NULL);
    CHECK(strstr(err, "decode:") != NULL);
    CHECK(strstr(err, "peak RSS") != NULL);
    char path[600];
    snprintf(path, sizeof path, "%s/gen.json", test_tmpdir());
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (f) {
        char j[8192];
        size_t n = fread(j, 1, sizeof j - 1, f);
        j[n] = 0;
        fclose(f);
        CHECK(strstr(j, "\"generated_tokens\":\t40") != NULL);
        CHECK(strstr(j, "\"decode_tok_s\"") != NULL);
    }
}

static void test_generate_with_prompt(void)
{
    const char *m = test_shared_path("models/stories260K.gguf");
    if (!m) { test_skip("stories260K.gguf not in ../shared"); return; }
    char args[1024];
    snprintf(args, sizeof args, "generate -m %s -p \"Once upon a time\" -n 8 --backend ref --temp 0.7 --seed 5", m);
    CHECK_EQ_INT(run(args, out, sizeof out, err, sizeof err), 0);
    CHECK(strncmp(out, "Once upon a time", 16) == 0);
    CHECK(strlen(out) > 17); /* something was generated after the prompt */
}

static void test_synth_then_generate(void)
{
    char args[1024];
    snprintf(args, sizeof args, "synth --shape test-tiny-qwen2 --type q8_0 --layers 1 -o %s/s.gguf", test_tmpdir());
    CHECK_EQ_INT(run(args, out, sizeof out, err, sizeof err), 0);
    snprintf(args, sizeof args, "generate -m %s/s.gguf -p \"hello there\" -n 6 --ignore-eos --threads 2", test_tmpdir());
    CHECK_EQ_INT(run(args, out, sizeof out, err, sizeof err), 0);
    CHECK(strncmp(out, "hello there", 11) == 0);
    CHECK(strstr(err, "generated tokens: 6") != NULL);
    CHECK_EQ_INT(run("synth --list-shapes", out, sizeof out, err, sizeof err), 0);
    CHECK(strstr(out, "llama-3.2-1b") != NULL && strstr(out, "mistral-7b") != NULL);
}

static void test_usage_errors(void)
{
    CHECK_EQ_INT(run("generate", out, sizeof out, err, sizeof err), 2);                     /* no -m */
    CHECK_EQ_INT(run("generate -m x.gguf --temp -1", out, sizeof out, err, sizeof err), 2);
    CHECK_EQ_INT(run("synth --shape nope --type q4_K -o x.gguf", out, sizeof out, err, sizeof err), 2);
    CHECK_EQ_INT(run("synth --shape test-tiny --type q3_K -o x.gguf", out, sizeof out, err, sizeof err), 2);
    CHECK_EQ_INT(run("generate -m /nonexistent.gguf", out, sizeof out, err, sizeof err), 1);
    CHECK(strstr(err, "/nonexistent.gguf") != NULL);
    const char *m = test_shared_path("models/stories260K.gguf");
    if (m) {
        char args[1024];
        snprintf(args, sizeof args, "generate -m %s --backend tpu", m);
        CHECK_EQ_INT(run(args, out, sizeof out, err, sizeof err), 2);
        CHECK(strstr(err, "tpu") != NULL);
    }
}

int main(void)
{
    RUN(test_generate_stories260k_text);
    RUN(test_generate_with_prompt);
    RUN(test_synth_then_generate);
    RUN(test_usage_errors);
    return test_finish();
}
