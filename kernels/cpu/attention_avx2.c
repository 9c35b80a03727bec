/* Flash attention, AVX2 level: rows-in-lanes tiles of 3 vectors (24 rows), S micro-tiles of
 * 4 keys and O micro-tiles of 4 head dims (12 accumulators each, 16 registers in all). The
 * body is shared with the AVX-512 level: kernels/cpu/attention_body.h. */
#include <math.h>
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "kernels/ops_impl.h"
#include "kernels/cpu/simd_avx2.h"

enum { ATT_NV = 3, ATT_MRK = 4, ATT_MRD = 4, ATT_GR = 2 };
#include "kernels/cpu/attention_body.h"

int sb_attention_avx2(float *out, const float *Q, const void *K, const void *V,
                      const sb_attn_params *p, int n_threads)
{
    return flash_attention(out, Q, K, V, p, n_threads);
}
