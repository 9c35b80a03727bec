/* tests/testlib.c — implementation of tests/test.h: counters, SKIP, shared-data lookup, temp dirs, helpers. */
#include "tests/test.h"

#include <dirent.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

static int n_passed, n_failed, n_skipped;
static int cur_failed, cur_skipped;
static const char *cur_name;
static char tmpdir[256];

void test_fail_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    if (!cur_failed) printf("FAIL %s\n", cur_name ? cur_name : "?");
    cur_failed++;
    if (cur_failed > 20) return; /* one broken loop must not flood the log */
    printf("  %s:%d: ", file, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

int test_failed_now(void) { return cur_failed; }

void test_skip(const char *fmt, ...)
{
    va_list ap;
    if (cur_skipped) return;
    cur_skipped = 1;
    printf("SKIP %s: ", cur_name ? cur_name : "?");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

void test_run(const char *name, void (*fn)(void))
{
    cur_name = name;
    cur_failed = 0;
    cur_skipped = 0;
    fn();
    if (cur_failed) n_failed++;
    else if (cur_skipped) n_skipped++;
    else { n_passed++; printf("PASS %s\n", name); }
    fflush(stdout);
    cur_name = NULL;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

int test_finish(void)
{
    if (tmpdir[0] && !getenv("SB_KEEP_TMP")) nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    printf("# RESULT %d %d %d\n", n_passed, n_failed, n_skipped);
    return n_failed ? 1 : 0;
}

const char *test_shared_path(const char *relative)
{
    static char slots[8][4096];
    static int next;
    const char *root = getenv("SB_SHARED");
    char *out = slots[next++ % 8];
    const char *candidates[3];
    int nc = 0;
    if (root && *root) candidates[nc++] = root;
    candidates[nc++] = "../shared";
    candidates[nc++] = "shared";
    for (int i = 0; i < nc; i++) {
        snprintf(out, sizeof slots[0], "%s/%s", candidates[i], relative);
        if (access(out, R_OK) == 0) return out;
    }
    return NULL;
}

const char *test_tmpdir(void)
{
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/sbtest.XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) { perror("mkdtemp"); exit(2); }
    }
    return tmpdir;
}

void test_fill_uniform(float *x, size_t n, float lo, float hi, uint64_t *seed)
{
    uint64_t s = *seed ? *seed : 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        x[i] = lo + (hi - lo) * (float)((s >> 40) * (1.0 / 16777216.0));
    }
    *seed = s;
}

double test_nmse(const float *a, const float *ref, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)ref[i];
        if (a[i] != a[i]) return INFINITY; /* NaN: an unwritten (poisoned) element */
        num += d * d;
        den += (double)ref[i] * ref[i];
    }
    return den > 0 ? num / den : num;
}

const char *test_slmbench_bin(void)
{
    static char path[4096];
    if (getenv("SB_BIN") && *getenv("SB_BIN")) return getenv("SB_BIN");
    if (!path[0]) {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
        char *slash;
        if (n <= 0) return "build/slmbench";
        path[n] = 0;
        if ((slash = strrchr(path, '/'))) *slash = 0;                  /* BUILD/tests    */
        if ((slash = strrchr(path, '/'))) strcpy(slash, "/slmbench");  /* BUILD/slmbench */
    }
    return path;
}

static int cmp_path(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int test_list_files(const char *dir, char ***paths)
{
    DIR *d = opendir(dir);
    *paths = NULL;
    if (!d) return -1;
    int n = 0, cap = 0;
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] == '.') continue;
        if (n == cap) {
            char **grown = realloc(*paths, (size_t)(cap = cap ? 2 * cap : 64) * sizeof *grown);
            if (!grown) break;
            *paths = grown;
        }
        size_t len = strlen(dir) + strlen(de->d_name) + 2;
        char *p = malloc(len);
        if (!p) break;
        snprintf(p, len, "%s/%s", dir, de->d_name);
        (*paths)[n++] = p;
    }
    closedir(d);
    if (n) qsort(*paths, (size_t)n, sizeof **paths, cmp_path);
    return n;
}

void test_free_list(char **paths, int n)
{
    for (int i = 0; i < n; i++) free(paths[i]);
    free(paths);
}

int test_read_exact(const char *path, uint8_t **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    *buf = NULL;
    if (!f) return -1;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return -1; }
    *buf = malloc(n > 0 ? (size_t)n : 1);
    int ok = *buf && fread(*buf, 1, (size_t)n, f) == (size_t)n;
    fclose(f);
    if (!ok) { free(*buf); *buf = NULL; return -1; }
    *len = (size_t)n;
    return 0;
}
