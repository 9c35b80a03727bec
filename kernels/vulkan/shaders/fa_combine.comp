#version 450
// Merges the partial states of split flash attention (fa.comp -DSPLIT): for query i, head h,
// out = Σ_z exp(M_z − M) acc_z / Σ_z exp(M_z − M) L_z with M = max_z M_z. Parts without keys
// have M_z = −inf and L_z = 0 and drop out. One workgroup of 64 per (head, query).
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer Ob { uint o[]; };
layout(std430, binding = 1) readonly buffer Pb { uint part[]; };
layout(push_constant) uniform P {
    uint n_head, head_dim, nsplit;
    uint o_off, p_off; // words
} p;

void main()
{
    uint tid = gl_LocalInvocationID.x;
    uint h = gl_WorkGroupID.x, qi = gl_WorkGroupID.y;
    uint hd = p.head_dim, stride = hd + 2u;
    uint pb = p.p_off + (qi * p.n_head + h) * p.nsplit * stride;
    float M = uintBitsToFloat(0xff800000u);
    for (uint z = 0u; z < p.nsplit; z++) M = max(M, uintBitsToFloat(part[pb + z * stride]));
    float L = 0.0;
    for (uint z = 0u; z < p.nsplit; z++) {
        float mz = uintBitsToFloat(part[pb + z * stride]);
        if (mz > uintBitsToFloat(0xff800000u)) L += exp(mz - M) * uintBitsToFloat(part[pb + z * stride + 1u]);
    }
    uint ob = p.o_off + (qi * p.n_head + h) * hd;
    for (uint d = tid; d < hd; d += 64u) {
        float a = 0.0;
        for (uint z = 0u; z < p.nsplit; z++) {
            float mz = uintBitsToFloat(part[pb + z * stride]);
            if (mz > uintBitsToFloat(0xff800000u)) a += exp(mz - M) * uintBitsToFloat(part[pb + z * stride + 2u + d]);
        }
        o[ob + d] = floatBitsToUint(a / L);
    }
}
