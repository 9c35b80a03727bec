#version 450
// Softmax of each row of x[rows][n], in place, max subtracted. One workgroup per row.
#extension GL_GOOGLE_include_directive : require
#define WG 256u
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer Xb { uint x[]; };
layout(push_constant) uniform P {
    uint rows, n;
    uint x_off; // words
} p;
shared float red[WG];
#include "reduce.glsl"

void main()
{
    uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (row >= p.rows) return;
    uint tid = gl_LocalInvocationID.x;
    uint xb = p.x_off + row * p.n;
    float mx = uintBitsToFloat(0xff800000u); // -inf
    for (uint i = tid; i < p.n; i += WG) mx = max(mx, uintBitsToFloat(x[xb + i]));
    mx = wg_max(mx);
    float s = 0.0;
    for (uint i = tid; i < p.n; i += WG) {
        float e = exp(uintBitsToFloat(x[xb + i]) - mx);
        x[xb + i] = floatBitsToUint(e);
        s += e;
    }
    s = wg_sum(s);
    float inv = 1.0 / s;
    for (uint i = tid; i < p.n; i += WG) x[xb + i] = floatBitsToUint(uintBitsToFloat(x[xb + i]) * inv);
}
