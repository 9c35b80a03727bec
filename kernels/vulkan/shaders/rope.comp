#version 450
// Rotary position embedding in place on x[m][n_heads][head_dim], positions pos0 .. pos0+m-1.
// One invocation per rotated pair (m × n_heads × n_rot/2, grid-stride). Pair i of a head rotates by
// theta = pos * freq_scale * base^(-2i/n_rot) / ff[i]. mode 0 (normal) pairs (2i, 2i+1); mode 2
// (neox) pairs (i, i + n_rot/2). Dims >= n_rot are untouched.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer Xb { uint x[]; };
layout(std430, binding = 1) readonly buffer Fb { uint ff[]; };
layout(push_constant) uniform P {
    uint m, n_heads, head_dim, n_rot;
    uint pos0, mode, has_ff;
    uint x_off, ff_off; // words
    float freq_base, freq_scale;
} p;

void main()
{
    uint half_rot = p.n_rot / 2u;
    uint total = p.m * p.n_heads * half_rot;
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint e = gl_GlobalInvocationID.x; e < total; e += stride) {
        uint i = e % half_rot, rh = e / half_rot; // rh = row * n_heads + head
        uint r = rh / p.n_heads;
        float inv_freq = pow(p.freq_base, -float(2u * i) / float(p.n_rot));
        if (p.has_ff != 0u) inv_freq /= uintBitsToFloat(ff[p.ff_off + i]);
        float theta = float(p.pos0 + r) * p.freq_scale * inv_freq;
        float c = cos(theta), s = sin(theta);
        uint base = p.x_off + rh * p.head_dim;
        uint i0 = p.mode == 2u ? i : 2u * i;
        uint i1 = p.mode == 2u ? i + half_rot : 2u * i + 1u;
        float x0 = uintBitsToFloat(x[base + i0]), x1 = uintBitsToFloat(x[base + i1]);
        x[base + i0] = floatBitsToUint(x0 * c - x1 * s);
        x[base + i1] = floatBitsToUint(x0 * s + x1 * c);
    }
}
