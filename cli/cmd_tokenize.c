/* slmbench tokenize: token ids (and pieces) of a text with the tokenizer a GGUF file carries,
 * for comparing with other tools (llama.cpp's llama-tokenize prints the same ids). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: slmbench tokenize -m FILE.gguf [--ids] [--no-special] [--parse-special] [--stats] (-f TEXTFILE | TEXT)\n"
            "\n"
            "Tokenizes TEXT (or the contents of TEXTFILE) with the vocabulary in FILE.gguf and prints one\n"
            "token per line: the id and the piece it decodes to (non-printable bytes escaped).\n"
            "\n"
            "  -m FILE.gguf      model or vocab-only GGUF file (tokenizer.ggml.* keys)\n"
            "  -f TEXTFILE       read the text from a file instead of the command line\n"
            "  --ids             print only the ids, space-separated, on one line\n"
            "  --no-special      do not add BOS/EOS (by default they are added as the vocabulary says)\n"
            "  --parse-special   text like \"<s>\" becomes the special token instead of plain text\n"
            "  --stats           print the token count, byte count and encode time to stderr\n");
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    while (b) {
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
        if (n == cap) {
            if (cap > ((size_t)1 << 30)) { free(b); b = NULL; errno = EFBIG; break; }
            char *nb = realloc(b, cap * 2);
            if (!nb) { free(b); b = NULL; break; }
            b = nb;
            cap *= 2;
        }
    }
    if (b && ferror(f)) { free(b); b = NULL; }
    fclose(f);
    *len = n;
    return b;
}

static void print_escaped(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') fputs("\\n", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c == '\r') fputs("\\r", stdout);
        else if (c == '\\') fputs("\\\\", stdout);
        else if (c == '\'') fputs("\\'", stdout);
        else if (c < 0x20 || c == 0x7f) printf("\\x%02x", c);
        else putchar(c);
    }
}

int sb_cmd_tokenize(int argc, char **argv)
{
    const char *model = NULL, *file = NULL, *text = NULL;
    int ids_only = 0, add_special = 1, parse_special = 0, stats = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        if (!strcmp(a, "-m") || !strcmp(a, "-f")) {
            if (i + 1 >= argc) { fprintf(stderr, "slmbench tokenize: %s needs a value\n", a); usage(stderr); return 2; }
            if (a[1] == 'm') model = argv[++i];
            else file = argv[++i];
        } else if (!strcmp(a, "--ids")) ids_only = 1;
        else if (!strcmp(a, "--no-special")) add_special = 0;
        else if (!strcmp(a, "--parse-special")) parse_special = 1;
        else if (!strcmp(a, "--stats")) stats = 1;
        else if (!strcmp(a, "--")) { if (i + 1 < argc && !text) text = argv[++i]; }
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "slmbench tokenize: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (!text) text = a;
        else { fprintf(stderr, "slmbench tokenize: more than one text given\n"); usage(stderr); return 2; }
    }
    if (!model) { fprintf(stderr, "slmbench tokenize: -m FILE.gguf is required\n"); usage(stderr); return 2; }
    if (!!file == !!text) { fprintf(stderr, "slmbench tokenize: give either -f TEXTFILE or a TEXT\n"); usage(stderr); return 2; }

    char *buf = NULL;
    size_t len;
    if (file) {
        buf = read_file(file, &len);
        if (!buf) { fprintf(stderr, "slmbench tokenize: %s: %s\n", file, strerror(errno)); return 2; }
    } else len = strlen(text);

    sb_gguf *g = NULL;
    sb_gguf_error ge;
    char err[768];
    if (sb_gguf_open(model, &g, &ge)) {
        sb_gguf_error_format(&ge, err, sizeof err);
        fprintf(stderr, "slmbench tokenize: %s\n", err);
        free(buf);
        return 1;
    }
    sb_tokenizer *t = NULL;
    int rc = sb_tok_load_gguf(g, &t, err, sizeof err);
    sb_gguf_close(g);
    if (rc) {
        fprintf(stderr, "slmbench tokenize: %s (%s)\n", err, sb_tok_status_name(rc));
        free(buf);
        return 1;
    }

    int32_t *ids = NULL;
    size_t n = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = sb_tok_encode(t, file ? buf : text, len, add_special, parse_special, &ids, &n);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc) {
        fprintf(stderr, "slmbench tokenize: encode failed: %s\n", sb_tok_status_name(rc));
        sb_tok_free(t);
        free(buf);
        return 1;
    }
    if (ids_only) {
        for (size_t i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
        putchar('\n');
    } else {
        for (size_t i = 0; i < n; i++) {
            char *piece = NULL;
            size_t pl = 0;
            if (sb_tok_decode(t, &ids[i], 1, 0, 1, &piece, &pl) == SB_TOK_OK) {
                printf("%6d '", ids[i]);
                print_escaped(piece, pl);
                printf("'\n");
            }
            free(piece);
        }
    }
    if (stats) {
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        fprintf(stderr, "%zu tokens from %zu bytes in %.1f ms (%.2f MB/s), tokenizer %s/%s, %d tokens in vocab\n", n, len, ms,
                ms > 0 ? (double)len / 1e3 / ms : 0.0, sb_tok_model_name(t), sb_tok_pre_name(t), sb_tok_n_vocab(t));
    }
    free(ids);
    sb_tok_free(t);
    free(buf);
    return 0;
}
