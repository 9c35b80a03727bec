/* Flash attention, AVX-512 level: rows-in-lanes tiles of 3 vectors (48 rows), S micro-tiles of
 * 8 keys and O micro-tiles of 8 head dims (24 accumulators each). The body is shared with the
 * AVX2 level: kernels/cpu/attention_body.h. */
#include <math.h>
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "kernels/ops_impl.h"
#include "kernels/cpu/simd_avx512.h"

enum { ATT_NV = 3, ATT_MRK = 8, ATT_MRD = 8, ATT_GR = 4 };
#include "kernels/cpu/attention_body.h"

int sb_attention_avx512(float *out, const float *Q, const void *K, const void *V,
                        const sb_attn_params *p, int n_threads)
{
    return flash_attention(out, Q, K, V, p, n_threads);
}
