/* Small ops, NEON level (aarch64): the shared SIMD bodies of kernels/cpu/ops_body.h on NEON
 * vectors. */
#include "kernels/ops_impl.h"
#include "kernels/cpu/simd_neon.h"
#include "kernels/cpu/ops_body.h"

const sb_ops_impl sb_ops_neon = {
    .rmsnorm = simd_rmsnorm,
    .softmax = simd_softmax,
    .silu_mul = simd_silu_mul,
    .add = simd_add,
    .mul = simd_mul,
    .rope = simd_rope,
};
