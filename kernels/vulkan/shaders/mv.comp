#version 450
// Matrix-vector for decode: Y[m×n] = X[m×k] · Wᵀ with m <= 4. A workgroup of 128 invocations
// computes 4 W rows (output columns), 32 invocations per row. Each invocation takes 32-element
// chunks c = lane, lane+32, ... of its row, dequantizes a chunk at once (deq32: block scales
// decoded once per chunk) and multiplies it with all m activation rows; f32/f16/bf16 rows whose
// k is not a multiple of 32 finish with a per-element tail. The 32 partial sums of a row are then
// added: -DSUBGROUP with subgroupAdd (the host picks this variant only when the subgroup size
// divides 32, so a subgroup never spans two rows), else a shared-memory tree.
// Workgroups are laid out 2-D (x + y * num_x) so n/4 may exceed 65535.
#extension GL_GOOGLE_include_directive : require
#if defined(SUBGROUP)
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
layout(local_size_x = 128) in;
layout(std430, binding = 0) buffer Yb { uint y[]; };
layout(std430, binding = 1) readonly buffer Xb { uint x[]; };
layout(std430, binding = 2) readonly buffer Wb { uint w[]; };
layout(push_constant) uniform P {
    uint m, n, k, ldy;      // ldy: row stride of Y (n, or more when W is split in parts)
    uint y_off, x_off;      // words
    uint w_off, row_bytes;  // bytes
} p;
#include "dequant.glsl"

shared float red[4][128]; // [activation row][invocation], or [row][subgroup] with SUBGROUP

void main()
{
    uint tid = gl_LocalInvocationID.x;
    uint lane = tid & 31u, g = tid >> 5;
    uint j = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * 4u + g;
    float acc[4] = float[4](0.0, 0.0, 0.0, 0.0);
    if (j < p.n) { // no return: every invocation must reach the barriers below
        uint rb = p.w_off + j * p.row_bytes;
#if defined(WT_F32) || defined(WT_F16) || defined(WT_BF16)
        uint nc = 0u; // element-wise below: neighbouring lanes read neighbouring words (coalesced)
#else
        uint nc = p.k / 32u;
#endif
        float v[32];
        for (uint c = lane; c < nc; c += 32u) {
            deq32(rb, c, v);
            for (uint r = 0u; r < 4u; r++) {
                if (r >= p.m) break;
                uint xb = p.x_off + r * p.k + 32u * c;
                float s = 0.0;
                for (uint l = 0u; l < 32u; l++) s = fma(v[l], uintBitsToFloat(x[xb + l]), s);
                acc[r] += s;
            }
        }
        for (uint i = 32u * nc + lane; i < p.k; i += 32u) { // f32/f16/bf16
            float wv = wval(rb, i);
            for (uint r = 0u; r < 4u; r++)
                if (r < p.m) acc[r] = fma(wv, uintBitsToFloat(x[p.x_off + r * p.k + i]), acc[r]);
        }
    }
#if defined(SUBGROUP)
    for (uint r = 0u; r < 4u; r++) {
        float s = subgroupAdd(acc[r]);
        if (subgroupElect()) red[r][gl_SubgroupID] = s;
    }
    barrier();
    uint per_row = 32u / gl_SubgroupSize; // subgroups per row
    if (lane < p.m && j < p.n) {
        float s = 0.0;
        for (uint i = 0u; i < per_row; i++) s += red[lane][g * per_row + i];
        y[p.y_off + lane * p.ldy + j] = floatBitsToUint(s);
    }
#else
    for (uint r = 0u; r < 4u; r++) red[r][tid] = acc[r];
    barrier();
    for (uint s = 16u; s > 0u; s >>= 1) {
        if (lane < s)
            for (uint r = 0u; r < 4u; r++) red[r][tid] += red[r][tid + s];
        barrier();
    }
    if (lane < p.m && j < p.n) y[p.y_off + lane * p.ldy + j] = floatBitsToUint(red[lane][g * 32u]);
#endif
}
