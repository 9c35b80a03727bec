#version 450
// Y[m×n] = X[m×k] · Wᵀ, W n rows of k elements in format WT_* (dequant.glsl). Tiled: each
// workgroup computes a 64×64 tile of Y with 256 threads (4×4 outputs each, strided by 16 so
// neighbouring threads touch neighbouring shared-memory words), staging 16-deep slices of X and of
// the dequantized W in shared memory (8 KiB). Portable path: no subgroup or cooperative-matrix ops.
#extension GL_GOOGLE_include_directive : require
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer Yb { uint y[]; };
layout(std430, binding = 1) readonly buffer Xb { uint x[]; };
layout(std430, binding = 2) readonly buffer Wb { uint w[]; };
layout(push_constant) uniform P {
    uint m, n, k, ldy;      // ldy: row stride of Y (n, or more when W is split in parts)
    uint y_off, x_off;      // words
    uint w_off, row_bytes;  // bytes
} p;
#include "dequant.glsl"

#define BM 64u
#define BN 64u
#define BK 16u
shared float xs[BK][BM];
shared float ws[BK][BN];

void main()
{
    uint tid = gl_LocalInvocationID.x;
    uint tx = tid & 15u, ty = tid >> 4;
    uint j0 = gl_WorkGroupID.x * BN, i0 = gl_WorkGroupID.y * BM;
    float acc[4][4];
    for (uint r = 0u; r < 4u; r++)
        for (uint c = 0u; c < 4u; c++) acc[r][c] = 0.0;

    for (uint k0 = 0u; k0 < p.k; k0 += BK) {
        for (uint q = 0u; q < 4u; q++) {
            uint e = tid + 256u * q;
            uint row = e >> 4, kk = e & 15u;
            uint kg = k0 + kk;
            uint i = i0 + row, j = j0 + row;
            xs[kk][row] = (i < p.m && kg < p.k) ? uintBitsToFloat(x[p.x_off + i * p.k + kg]) : 0.0;
            ws[kk][row] = (j < p.n && kg < p.k) ? wval(p.w_off + j * p.row_bytes, kg) : 0.0;
        }
        barrier();
        for (uint kk = 0u; kk < BK; kk++) {
            float a[4], b[4];
            for (uint r = 0u; r < 4u; r++) a[r] = xs[kk][ty + 16u * r];
            for (uint c = 0u; c < 4u; c++) b[c] = ws[kk][tx + 16u * c];
            for (uint r = 0u; r < 4u; r++)
                for (uint c = 0u; c < 4u; c++) acc[r][c] = fma(a[r], b[c], acc[r][c]);
        }
        barrier();
    }
    for (uint r = 0u; r < 4u; r++) {
        uint i = i0 + ty + 16u * r;
        if (i >= p.m) continue;
        for (uint c = 0u; c < 4u; c++) {
            uint j = j0 + tx + 16u * c;
            if (j < p.n) y[p.y_off + i * p.ldy + j] = floatBitsToUint(acc[r][c]);
        }
    }
}
