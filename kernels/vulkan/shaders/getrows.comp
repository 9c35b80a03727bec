#version 450
// Embedding gather: y[r][c] = dequantize(table row ids[r])[c]. ids were range-checked on the host.
// Grid-stride over the n_ids × n_cols outputs.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer Yb { uint y[]; };
layout(std430, binding = 1) readonly buffer Ib { uint ids[]; };
layout(std430, binding = 2) readonly buffer Wb { uint w[]; };
layout(push_constant) uniform P {
    uint n_ids, n_cols;
    uint y_off, ids_off;    // words
    uint w_off, row_bytes;  // bytes
} p;
#include "dequant.glsl"

void main()
{
    uint total = p.n_ids * p.n_cols;
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint e = gl_GlobalInvocationID.x; e < total; e += stride) {
        uint r = e / p.n_cols, c = e - r * p.n_cols;
        uint id = ids[p.ids_off + r];
        y[p.y_off + e] = floatBitsToUint(wval(p.w_off + id * p.row_bytes, c));
    }
}
