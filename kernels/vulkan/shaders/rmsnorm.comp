#version 450
// y[r][:] = x[r][:] / sqrt(mean(x[r]^2) + eps) * w[:]. One workgroup per row (2-D workgroup grid).
// y may alias x: each element is read and written by the same invocation.
#extension GL_GOOGLE_include_directive : require
#define WG 256u
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer Yb { uint y[]; };
layout(std430, binding = 1) readonly buffer Xb { uint x[]; };
layout(std430, binding = 2) readonly buffer Wb { uint w[]; };
layout(push_constant) uniform P {
    uint rows, n;
    uint y_off, x_off, w_off; // words
    float eps;
} p;
shared float red[WG];
#include "reduce.glsl"

void main()
{
    uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (row >= p.rows) return;
    uint tid = gl_LocalInvocationID.x;
    uint xb = p.x_off + row * p.n, yb = p.y_off + row * p.n;
    float ss = 0.0;
    for (uint i = tid; i < p.n; i += WG) {
        float v = uintBitsToFloat(x[xb + i]);
        ss = fma(v, v, ss);
    }
    ss = wg_sum(ss);
    float inv = 1.0 / sqrt(ss / float(p.n) + p.eps);
    for (uint i = tid; i < p.n; i += WG)
        y[yb + i] = floatBitsToUint(uintBitsToFloat(x[xb + i]) * inv * uintBitsToFloat(w[p.w_off + i]));
}
