/* Replays the tokenizer fuzzer's saved corpus (every file in tokenizer/fuzz/corpus) through the
 * fuzz entry point, built with gcc, so each seed and each fixed crash reproducer stays a
 * regression test in `make test` (and under SAN=1). With arguments, replays those files. */
#include <stdlib.h>

#include "tests/test.h"
#include "tokenizer/fuzz/fuzz_tokenizer.c"

static const char *corpus_dir = "tokenizer/fuzz/corpus";
static int n_args;
static char **args;

static int replay_file(const char *path)
{
    uint8_t *buf;
    size_t n;
    if (test_read_exact(path, &buf, &n) != 0) return -2;
    int rc = fuzz_tokenizer_one(buf, n);
    free(buf);
    return rc;
}

static void test_replay_corpus(void)
{
    char **names;
    int n = n_args > 0 ? n_args : test_list_files(corpus_dir, &names);
    if (n_args > 0) names = args;
    CHECK_MSG(n >= 0, "cannot open %s (run from the repository root)", corpus_dir);
    if (n < 0) return;
    for (int i = 0; i < n; i++) {
        int rc = replay_file(names[i]);
        CHECK_MSG(rc == 0, "%s: %s", names[i], rc == -2 ? "cannot read" : "tokenizer broke its contract");
    }
    if (n_args == 0) test_free_list(names, n);
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
