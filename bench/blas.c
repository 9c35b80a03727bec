/* OpenBLAS loaded on first use (see bench/blas.h for why). The library is looked for where
 * pkg-config found it at build time (SB_OPENBLAS_LIBDIR), then by its soname. */
#include "bench/blas.h"

#include <cblas.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#ifndef SB_OPENBLAS_LIBDIR
#define SB_OPENBLAS_LIBDIR ""
#endif

typedef void (*sgemv_fn)(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, blasint, blasint, float, const float *, blasint,
                         const float *, blasint, float, float *, blasint);
typedef void (*sgemm_fn)(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, blasint, blasint, blasint, float,
                         const float *, blasint, const float *, blasint, float, float *, blasint);
typedef void (*set_threads_fn)(int);

static sgemv_fn p_sgemv;
static sgemm_fn p_sgemm;
static set_threads_fn p_set_threads;
static char load_error[256];
static bench_blas blas;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void sgemv(int n, int k, const float *W, const float *x, float *y)
{
    p_sgemv(CblasRowMajor, CblasNoTrans, n, k, 1.0f, W, k, x, 1, 0.0f, y, 1);
}

static void sgemm(int m, int n, int k, const float *X, const float *W, float *Y)
{
    p_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, X, k, W, k, 0.0f, Y, n);
}

static void load(void)
{
    static const char *const names[] = {SB_OPENBLAS_LIBDIR "/libopenblas.so.0", "libopenblas.so.0"};
    void *h = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !h; i++)
        if (names[i][0] != '/' || SB_OPENBLAS_LIBDIR[0]) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(load_error, sizeof load_error, "OpenBLAS not loadable: %s", dlerror());
        return;
    }
    p_sgemv = (sgemv_fn)dlsym(h, "cblas_sgemv");
    p_sgemm = (sgemm_fn)dlsym(h, "cblas_sgemm");
    p_set_threads = (set_threads_fn)dlsym(h, "openblas_set_num_threads");
    if (!p_sgemv || !p_sgemm || !p_set_threads) {
        snprintf(load_error, sizeof load_error, "OpenBLAS lacks cblas_sgemv, cblas_sgemm or openblas_set_num_threads");
        dlclose(h);
        return;
    }
    blas = (bench_blas){sgemv, sgemm, p_set_threads};
}

const bench_blas *bench_blas_get(char *why, size_t whylen)
{
    pthread_once(&once, load);
    if (blas.sgemv) return &blas;
    if (why && whylen) snprintf(why, whylen, "%s", load_error);
    return NULL;
}
