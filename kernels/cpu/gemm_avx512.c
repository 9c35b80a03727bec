/* F32 GEMM micro-kernel for AVX-512: 14×32 (28 accumulators of 16 floats; per k step 2 B
 * loads and 14 broadcasts feed 28 FMAs). Packing reuses the AVX2 8×8-transpose routine.
 * Contracts: kernels/gemm_impl.h. */
#include <immintrin.h>

#include "kernels/gemm_impl.h"

enum { MR = 14, NR = 32 };

void sb_gemm_pack_avx2(float *dst, const float *src, int64_t ld, int rows, int R, int64_t kc);

static void ukernel_14x32(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int beta)
{
    __m512 c0[MR], c1[MR];
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++) {
        c0[i] = c1[i] = _mm512_setzero_ps();
        /* the C tile is needed only at the end: start fetching it now (2-3 lines per row) */
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + NR - 1), _MM_HINT_T0);
    }
    for (int64_t p = 0; p < kc; p++) {
        _mm_prefetch((const char *)(a + 16 * MR), _MM_HINT_T0); /* the A stream, 16 steps ahead */
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 14
        for (int i = 0; i < MR; i++) {
            __m512 ai = _mm512_set1_ps(a[i]);
            c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
            c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
        }
        a += MR;
        b += NR;
    }
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++) {
        float *ci = c + i * ldc;
        if (beta) {
            c0[i] = _mm512_add_ps(c0[i], _mm512_loadu_ps(ci));
            c1[i] = _mm512_add_ps(c1[i], _mm512_loadu_ps(ci + 16));
        }
        _mm512_storeu_ps(ci, c0[i]);
        _mm512_storeu_ps(ci + 16, c1[i]);
    }
}

const sb_gemm_kernel sb_gemm_kernel_avx512 = {
    .mr = MR,
    .nr = NR,
    .ukernel = ukernel_14x32,
    .pack = sb_gemm_pack_avx2,
};
