/* Tokenizer speed on WikiText-2's test file (1.3 MB) with every shared vocabulary: load time,
 * encode and decode time (best of REPS, wall and process CPU time), tokens per second, and a
 * round-trip check (decode(encode(text)) == text). Not a test: it asserts nothing about time.
 * The budget is "well under a second" per encode; the last column is the fraction of
 * that second the best encode used.
 *
 *   make perf && build/perf/tok_perf [TEXTFILE]      (needs ../shared or $SB_SHARED)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

#define REPS 3

static double now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    fclose(f);
    if (b) { b[n] = 0; *len = (size_t)n; }
    return b;
}

int main(int argc, char **argv)
{
    const char *shared = getenv("SB_SHARED") ? getenv("SB_SHARED") : "../shared";
    char path[1024];
    snprintf(path, sizeof path, "%s/datasets/wikitext2/wiki.test.raw", shared);
    const char *text_path = argc > 1 ? argv[1] : path;
    size_t len = 0;
    char *text = read_file(text_path, &len);
    if (!text) { fprintf(stderr, "tok_perf: cannot read %s (set SB_SHARED)\n", text_path); return 1; }
    static const char *const vocabs[] = {"llama-spm", "phi-3", "baichuan", "gpt-2", "gpt-neox", "mpt", "falcon", "starcoder",
                                         "refact", "deepseek-llm", "deepseek-coder"};
    printf("text: %s, %zu bytes; best of %d runs; times in ms (wall / cpu)\n", text_path, len, REPS);
    printf("%-15s %-16s %8s %8s %15s %15s %9s %8s %6s\n", "vocab", "model/pre", "load", "tokens", "encode", "decode",
           "MB/s", "Mtok/s", "of 1s");
    for (size_t v = 0; v < sizeof vocabs / sizeof *vocabs; v++) {
        snprintf(path, sizeof path, "%s/models/vocab/ggml-vocab-%s.gguf", shared, vocabs[v]);
        double t0 = now(CLOCK_MONOTONIC);
        sb_gguf *g = NULL;
        if (sb_gguf_open(path, &g, NULL)) { printf("%-15s (missing)\n", vocabs[v]); continue; }
        sb_tokenizer *t = NULL;
        char err[512];
        int rc = sb_tok_load_gguf(g, &t, err, sizeof err);
        sb_gguf_close(g);
        double load_ms = (now(CLOCK_MONOTONIC) - t0) * 1e3;
        if (rc) { printf("%-15s %s\n", vocabs[v], err); continue; }
        double enc_wall = 1e30, enc_cpu = 1e30, dec_wall = 1e30, dec_cpu = 1e30;
        size_t n = 0;
        int same = 0;
        for (int r = 0; r < REPS; r++) {
            int32_t *ids = NULL;
            double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
            rc = sb_tok_encode(t, text, len, 0, 0, &ids, &n);
            double w1 = now(CLOCK_MONOTONIC), c1 = now(CLOCK_PROCESS_CPUTIME_ID);
            if (rc) { printf("%-15s encode failed: %s\n", vocabs[v], sb_tok_status_name(rc)); break; }
            char *out = NULL;
            size_t out_len = 0;
            rc = sb_tok_decode(t, ids, n, 1, 0, &out, &out_len);
            double w2 = now(CLOCK_MONOTONIC), c2 = now(CLOCK_PROCESS_CPUTIME_ID);
            same = rc == 0 && out_len == len && memcmp(out, text, len) == 0;
            free(out);
            free(ids);
            if (w1 - w0 < enc_wall) enc_wall = w1 - w0;
            if (c1 - c0 < enc_cpu) enc_cpu = c1 - c0;
            if (w2 - w1 < dec_wall) dec_wall = w2 - w1;
            if (c2 - c1 < dec_cpu) dec_cpu = c2 - c1;
        }
        char mp[40], enc[32], dec[32];
        snprintf(mp, sizeof mp, "%s/%s", sb_tok_model_name(t), sb_tok_pre_name(t));
        snprintf(enc, sizeof enc, "%.1f / %.1f", enc_wall * 1e3, enc_cpu * 1e3);
        snprintf(dec, sizeof dec, "%.1f / %.1f", dec_wall * 1e3, dec_cpu * 1e3);
        printf("%-15s %-16s %8.1f %8zu %15s %15s %9.2f %8.2f %6.2f%s\n", vocabs[v], mp, load_ms, n, enc, dec,
               (double)len / 1e6 / enc_cpu, (double)n / 1e6 / enc_cpu, enc_cpu, same ? "" : "  (round trip differs)");
        sb_tok_free(t);
    }
    free(text);
    return 0;
}
