/* F32 GEMM entry. SCAFFOLD: a plain triple loop until the BLIS-style implementation lands
 * (kernels helper K2 replaces this file). Correct, not fast. */
#include "kernels/internal.h"

int sb_gemm_f32(const sb_kctx *ctx, float *Y, const float *X, const float *W, int64_t m, int64_t n,
                int64_t k)
{
    (void)ctx;
    if (!Y || !X || !W || m < 0 || n < 0 || k < 0) return SB_KERR_ARG;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            float acc = 0;
            for (int64_t p = 0; p < k; p++) acc += X[i * k + p] * W[j * k + p];
            Y[i * n + j] = acc;
        }
    return SB_KOK;
}
