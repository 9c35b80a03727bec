/* Replays the GGUF fuzzer's saved corpus (every file in gguf/fuzz/corpus) through the fuzz entry point,
 * built with gcc, so every seed and every fixed crash reproducer stays a regression test in
 * `make test` (and under SAN=1). With arguments, replays those files instead. */
#include <stdlib.h>

#include "gguf/fuzz/fuzz_gguf.c"
#include "tests/test.h"

static const char *corpus_dir = "gguf/fuzz/corpus";
static int n_args;
static char **args;

static int replay_file(const char *path, int *accepted)
{
    uint8_t *buf;
    size_t n;
    if (test_read_exact(path, &buf, &n) != 0) return -2;
    int rc = fuzz_gguf_one(buf, n);
    sb_gguf *g = NULL;
    *accepted = sb_gguf_open_memory(buf, n, path, &g, NULL) == 0;
    sb_gguf_close(g);
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
    int accepted_total = 0;
    for (int i = 0; i < n; i++) {
        int accepted = 0;
        int rc = replay_file(names[i], &accepted);
        CHECK_MSG(rc == 0, "%s: %s", names[i], rc == -2 ? "cannot read" : "reader broke its contract");
        accepted_total += accepted;
        /* Seeds named bad_* must be refused; the writer-made and v1 seeds must be accepted. */
        const char *base = strrchr(names[i], '/') ? strrchr(names[i], '/') + 1 : names[i];
        if (!strncmp(base, "bad_", 4)) CHECK_MSG(!accepted, "%s accepted", names[i]);
        if (!strncmp(base, "sample_", 7) || !strcmp(base, "v1.gguf") || !strcmp(base, "all_types.gguf") ||
            !strcmp(base, "kv_only.gguf") || !strcmp(base, "align1.gguf") || !strcmp(base, "empty_v3.gguf"))
            CHECK_MSG(accepted, "%s refused", names[i]);
    }
    printf("  replayed %d inputs (%d accepted, %d refused)\n", n, accepted_total, n - accepted_total);
    if (n_args == 0) CHECK(n >= 10);
    if (n_args == 0) test_free_list(names, n);
}

int main(int argc, char **argv)
{
    n_args = argc - 1;
    args = argv + 1;
    RUN(test_replay_corpus);
    return test_finish();
}
