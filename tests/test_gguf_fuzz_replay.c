/* Replays the GGUF fuzzer's saved corpus (every file in gguf/fuzz/corpus) through the fuzz entry point,
 * built with gcc, so every seed and every fixed crash reproducer stays a regression test in
 * `make test` (and under SAN=1). With arguments, replays those files instead. */
#include <dirent.h>
#include <stdlib.h>

#include "gguf/fuzz/fuzz_gguf.c"
#include "tests/test.h"

static const char *corpus_dir = "gguf/fuzz/corpus";
static int n_args;
static char **args;

static int replay_file(const char *path, int *accepted)
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
    int rc = fuzz_gguf_one(buf, (size_t)n);
    sb_gguf *g = NULL;
    *accepted = sb_gguf_open_memory(buf, (size_t)n, path, &g, NULL) == 0;
    sb_gguf_close(g);
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
    for (int i = 0; i < n; i++) free(names[i]);
}

int main(int argc, char **argv)
{
    n_args = argc - 1;
    args = argv + 1;
    RUN(test_replay_corpus);
    return test_finish();
}
