#version 450
// dst[i] = src[i] for n f32 elements, dst in f32 (DST_F32) or f16 (DST_F16: two elements per word,
// one invocation per word so no two invocations write the same word; an odd tail keeps the other
// half of its word). Used to write K/V rows into a cache of either type. Grid-stride.
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer Db { uint d[]; };
layout(std430, binding = 1) readonly buffer Sb { uint s[]; };
layout(push_constant) uniform P {
    uint n;
    uint d_off, s_off; // words
} p;

void main()
{
    uint stride = gl_NumWorkGroups.x * 256u;
#if defined(DST_F32)
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) d[p.d_off + i] = s[p.s_off + i];
#elif defined(DST_F16)
    uint nw = (p.n + 1u) / 2u;
    for (uint wi = gl_GlobalInvocationID.x; wi < nw; wi += stride) {
        float a = uintBitsToFloat(s[p.s_off + 2u * wi]);
        if (2u * wi + 1u < p.n) {
            d[p.d_off + wi] = packHalf2x16(vec2(a, uintBitsToFloat(s[p.s_off + 2u * wi + 1u])));
        } else {
            d[p.d_off + wi] = (d[p.d_off + wi] & 0xffff0000u) | (packHalf2x16(vec2(a, 0.0)) & 0xffffu);
        }
    }
#else
#error "define DST_F32 or DST_F16"
#endif
}
