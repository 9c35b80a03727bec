/* Flash attention, NEON level (aarch64): rows-in-lanes tiles of 4 vectors (16 rows), S
 * micro-tiles of 4 keys and O micro-tiles of 4 head dims (16 accumulators each, of NEON's 32
 * registers). The body is shared with the x86 levels: kernels/cpu/attention_body.h. */
#include <math.h>
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "kernels/ops_impl.h"
#include "kernels/cpu/simd_neon.h"

enum { ATT_NV = 4, ATT_MRK = 4, ATT_MRD = 4, ATT_GR = 4 };
#include "kernels/cpu/attention_body.h"

int sb_attention_neon(float *out, const float *Q, const void *K, const void *V, const sb_attn_params *p,
                      int n_threads)
{
    return flash_attention(out, Q, K, V, p, n_threads);
}
