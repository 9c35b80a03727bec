#version 450
// Rotary position embedding in place on x[m][n_heads][head_dim]. The host computes the rotation
// of every (row r, pair i) in double, as the ref kernel does — cs[2(r·n_rot/2 + i)] = cos θ,
// cs[.. + 1] = sin θ with θ = pos·freq_scale·base^(-2i/n_rot)/freq_factors[i] — because GPU sin/cos
// are only specified on [-π, π] and f32 θ loses accuracy at large positions. One invocation per
// rotated pair (grid-stride). mode 0 (normal) pairs (2i, 2i+1); mode 2 (neox) pairs
// (i, i + n_rot/2). Dims >= n_rot are untouched.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer Xb { uint x[]; };
layout(std430, binding = 1) readonly buffer Cb { uint cs[]; };
layout(push_constant) uniform P {
    uint m, n_heads, head_dim, n_rot, mode;
    uint x_off; // words
} p;

void main()
{
    uint half_rot = p.n_rot / 2u;
    uint total = p.m * p.n_heads * half_rot;
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint e = gl_GlobalInvocationID.x; e < total; e += stride) {
        uint i = e % half_rot, rh = e / half_rot; // rh = row * n_heads + head
        uint r = rh / p.n_heads;
        uint t = 2u * (r * half_rot + i);
        float c = uintBitsToFloat(cs[t]), s = uintBitsToFloat(cs[t + 1u]);
        uint base = p.x_off + rh * p.head_dim;
        uint i0 = p.mode == 2u ? i : 2u * i;
        uint i1 = p.mode == 2u ? i + half_rot : 2u * i + 1u;
        float x0 = uintBitsToFloat(x[base + i0]), x1 = uintBitsToFloat(x[base + i1]);
        x[base + i0] = floatBitsToUint(x0 * c - x1 * s);
        x[base + i1] = floatBitsToUint(x0 * s + x1 * c);
    }
}
