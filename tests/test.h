/* Minimal test framework shared by every tests/test_*.c binary.
 *
 * Each binary runs its TESTs in order and prints one line per test ("PASS name", "FAIL name",
 * "SKIP name: reason"), failing checks with file:line, then a machine line
 * "# RESULT <passed> <failed> <skipped>" that tests/run_tests.sh sums into the closing line
 * "N passed, N failed, N skipped". A binary exits 0 when nothing failed.
 *
 *   static void test_stats_median(void) { CHECK_NEAR(median, 2.0, 1e-12); }
 *   int main(int argc, char **argv) { RUN(test_stats_median); return test_finish(); }
 *
 * Tests that need ../shared data call test_shared_path(); when it returns NULL they SKIP with
 * the reason. Tests never assert on wall-clock time.
 */
#ifndef SB_TEST_H
#define SB_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

void test_run(const char *name, void (*fn)(void));
int test_finish(void);
void test_fail_at(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Marks the current test skipped with a reason; the test function should return after it. */
void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Path of a file under the shared test data folder ($SB_SHARED, else ../shared next to the
 * repository), or NULL when it is absent. The returned string is static per call slot (8 slots). */
const char *test_shared_path(const char *relative);
/* The slmbench binary of this build: BUILD/slmbench beside BUILD/tests/test_x (so `make SAN=1
 * test` runs the sanitized command); $SB_BIN overrides. */
const char *test_slmbench_bin(void);
/* Sorted paths "dir/name" of the entries of dir whose names do not start with '.'; returns the
 * count (-1 when dir cannot be opened). Free with test_free_list. */
int test_list_files(const char *dir, char ***paths);
void test_free_list(char **paths, int n);
/* A whole file as an exact-size heap buffer (so ASan sees any read past its end). 0 ok, -1 not. */
int test_read_exact(const char *path, uint8_t **buf, size_t *len);
/* A fresh temporary directory for this test binary (created once, removed at exit). */
const char *test_tmpdir(void);
/* Fills x[0..n) with uniform values in [lo, hi) from a seeded xorshift generator. */
void test_fill_uniform(float *x, size_t n, float lo, float hi, uint64_t *seed);
/* Normalized mean squared error: sum (a-b)^2 / sum b^2 (b is the reference). */
double test_nmse(const float *a, const float *ref, size_t n);
int test_failed_now(void);

#define RUN(fn) test_run(#fn, fn)
#define CHECK(cond) do { if (!(cond)) { test_fail_at(__FILE__, __LINE__, "CHECK(%s)", #cond); } } while (0)
#define CHECK_MSG(cond, ...) do { if (!(cond)) { test_fail_at(__FILE__, __LINE__, __VA_ARGS__); } } while (0)
#define CHECK_EQ_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ != b_) test_fail_at(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_); } while (0)
#define CHECK_NEAR(a, b, tol) do { double a_ = (double)(a), b_ = (double)(b); \
    if (!(fabs(a_ - b_) <= (tol))) test_fail_at(__FILE__, __LINE__, "%s ~= %s: %.9g vs %.9g (tol %g)", #a, #b, a_, b_, (double)(tol)); } while (0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) test_fail_at(__FILE__, __LINE__, "%s == %s: \"%s\" vs \"%s\"", #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)

#endif
