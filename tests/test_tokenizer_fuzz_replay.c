/* Replays the tokenizer fuzzer's saved corpus (every file in tokenizer/fuzz/corpus) through the
 * fuzz entry point, built with gcc, so each seed and each fixed crash reproducer stays a
 * regression test in `make test` (and under SAN=1). With arguments, replays those files. */
#include <dirent.h>
#include <stdlib.h>

#include "tests/test.h"
#include "tokenizer/fuzz/fuzz_tokenizer.c"

static const char *corpus_dir = "tokenizer/fuzz/corpus";
static int n_args;
static char **args;

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -2;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    /* An exact-size heap copy, so ASan sees any read past the end. */
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    int ok = buf && fread(buf, 1, (size_t)n, f) == (size_t)n;
    fclose(f);
    if (!ok) { free(buf); return -2; }
    int rc = fuzz_tokenizer_one(buf, (size_t)n);
    free(buf);
    return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void test_replay_corpus(void)
{
    char *names[4096];
    int n = 0;
    if (n_args > 0) {
        for (int i = 0; i < n_args && n < 4096; i++) names[n++] = strdup(args[i]);
    } else {
        DIR *d = opendir(corpus_dir);
        CHECK_MSG(d != NULL, "cannot open %s (run from the repository root)", corpus_dir);
        if (!d) return;
        for (struct dirent *de; (de = readdir(d)) && n < 4096;) {
            if (de->d_name[0] == '.') continue;
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", corpus_dir, de->d_name);
            names[n++] = strdup(path);
        }
        closedir(d);
    }
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    for (int i = 0; i < n; i++) {
        int rc = replay_file(names[i]);
        CHECK_MSG(rc == 0, "%s: %s", names[i], rc == -2 ? "cannot read" : "tokenizer broke its contract");
        free(names[i]);
    }
    printf("  replayed %d inputs\n", n);
    CHECK(n >= 10);
}

static void test_builtin_vocabularies_load(void)
{
    fz_init();
    for (int i = 0; i < 4; i++) CHECK_MSG(fz_builtin[i] != NULL, "built-in fuzz vocabulary %d failed to load", i);
}

int main(int argc, char **argv)
{
    n_args = argc - 1;
    args = argv + 1;
    RUN(test_builtin_vocabularies_load);
    RUN(test_replay_corpus);
    for (int i = 0; i < 4; i++) sb_tok_free(fz_builtin[i]);
    sb_tok_free(fz_env);
    return test_finish();
}
