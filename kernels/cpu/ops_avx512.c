/* Small ops, avx512 level: the shared SIMD bodies of kernels/cpu/ops_body.h on avx512 vectors. */
#include "kernels/ops_impl.h"
#include "kernels/cpu/simd_avx512.h"
#include "kernels/cpu/ops_body.h"

const sb_ops_impl sb_ops_avx512 = {
    .rmsnorm = simd_rmsnorm,
    .softmax = simd_softmax,
    .silu_mul = simd_silu_mul,
    .add = simd_add,
    .mul = simd_mul,
    .rope = simd_rope,
};
