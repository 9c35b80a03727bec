#version 450
// Matrix-vector for decode: Y[m×n] = X[m×k] · Wᵀ with m <= 4. One workgroup of 128 threads per W
// row (output column j): each thread walks the row with stride 128, dequantizing each weight once
// and multiplying it with all m activation rows; a shared-memory tree sums the partial dots.
// Workgroups are laid out 2-D (x + y * num_x) so n may exceed 65535. -DSUBGROUP: the partial
// dots are summed with subgroupAdd first (devices with subgroup arithmetic).
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
    uint m, n, k;
    uint y_off, x_off;      // words
    uint w_off, row_bytes;  // bytes
} p;
#include "dequant.glsl"

shared float red[4][128];

void main()
{
    uint tid = gl_LocalInvocationID.x;
    uint j = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (j >= p.n) return; // whole workgroup leaves together: no barrier is skipped by a part of it
    uint rb = p.w_off + j * p.row_bytes;
    float acc[4] = float[4](0.0, 0.0, 0.0, 0.0);
    for (uint i = tid; i < p.k; i += 128u) {
        float wv = wval(rb, i);
        for (uint r = 0u; r < 4u; r++)
            if (r < p.m) acc[r] = fma(wv, uintBitsToFloat(x[p.x_off + r * p.k + i]), acc[r]);
    }
#if defined(SUBGROUP)
    for (uint r = 0u; r < 4u; r++) {
        float v = subgroupAdd(acc[r]);
        if (subgroupElect()) red[r][gl_SubgroupID] = v;
    }
    barrier();
    if (tid < p.m) {
        float sum = 0.0;
        for (uint i = 0u; i < gl_NumSubgroups; i++) sum += red[tid][i];
        y[p.y_off + tid * p.n + j] = floatBitsToUint(sum);
    }
#else
    for (uint r = 0u; r < 4u; r++) red[r][tid] = acc[r];
    barrier();
    for (uint s = 64u; s > 0u; s >>= 1) {
        if (tid < s)
            for (uint r = 0u; r < 4u; r++) red[r][tid] += red[r][tid + s];
        barrier();
    }
    if (tid < p.m) y[p.y_off + tid * p.n + j] = floatBitsToUint(red[tid][0]);
#endif
}
