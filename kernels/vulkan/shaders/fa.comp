#version 450
// Flash attention (causal, grouped-query heads), prefill and decode alike: one workgroup of 64
// invocations per (head h, query i). Keys are visited in tiles of 64 (one key per invocation for
// the score), with an online softmax: running max M and sum L, the output accumulator rescaled by
// exp(M_old - M_new) at each tile; no score matrix beyond one tile. K/V in f32 (KV_F32) or f16
// (KV_F16, two halves per word). head_dim <= 256 (each invocation owns head_dim/64 output dims).
//   Q, out [m][n_head][head_dim] f32; K, V [n_kv][n_kv_head][head_dim]
// -DSPLIT (flash-decoding, for few queries × heads over a long cache): workgroup z takes keys
// [z·chunk, (z+1)·chunk) only and writes its partial state {M, L, acc[head_dim]} to
// out[((i·n_head + h)·nsplit + z)·(head_dim + 2)]; fa_combine.comp merges the parts.
#extension GL_GOOGLE_include_directive : require
#define WG 64u
#define HD_MAX 256u
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer Ob { uint o[]; };
layout(std430, binding = 1) readonly buffer Qb { uint q[]; };
layout(std430, binding = 2) readonly buffer Kb { uint kc[]; };
layout(std430, binding = 3) readonly buffer Vb { uint vc[]; };
layout(push_constant) uniform P {
    uint m, pos, n_kv, n_head, n_kv_head, head_dim;
    uint o_off, q_off, k_off, v_off; // words
    float scale;
    uint chunk, nsplit;              // SPLIT: keys per part, parts
} p;
shared float qs[HD_MAX];
shared float ps[WG];
shared float red[WG];
#include "reduce.glsl"

#if defined(KV_F32)
float kval(uint e) { return uintBitsToFloat(kc[p.k_off + e]); }
float vval(uint e) { return uintBitsToFloat(vc[p.v_off + e]); }
#elif defined(KV_F16)
float kval(uint e) { return unpackHalf2x16(kc[p.k_off + (e >> 1)])[e & 1u]; }
float vval(uint e) { return unpackHalf2x16(vc[p.v_off + (e >> 1)])[e & 1u]; }
#else
#error "define KV_F32 or KV_F16"
#endif

void main()
{
    uint tid = gl_LocalInvocationID.x;
    uint h = gl_WorkGroupID.x, qi = gl_WorkGroupID.y;
    uint hd = p.head_dim;
    uint kvh = h / (p.n_head / p.n_kv_head);
    uint kv_stride = p.n_kv_head * hd; // elements per position
    uint qb = p.q_off + (qi * p.n_head + h) * hd;
    for (uint d = tid; d < hd; d += WG) qs[d] = uintBitsToFloat(q[qb + d]);
    barrier();

    float acc[HD_MAX / WG];
    for (uint u = 0u; u < HD_MAX / WG; u++) acc[u] = 0.0;
    float M = uintBitsToFloat(0xff800000u), L = 0.0;
    uint t_end = p.pos + qi + 1u; // causal: keys 0 .. pos+qi
#if defined(SPLIT)
    uint t_beg = gl_WorkGroupID.z * p.chunk;
    t_end = min(t_end, t_beg + p.chunk);
#else
    uint t_beg = 0u;
#endif
    for (uint t0 = t_beg; t0 < t_end; t0 += WG) {
        uint t = t0 + tid;
        float s = uintBitsToFloat(0xff800000u);
        if (t < t_end) {
            uint kb = t * kv_stride + kvh * hd;
            float dot = 0.0;
            for (uint d = 0u; d < hd; d++) dot = fma(qs[d], kval(kb + d), dot);
            s = dot * p.scale;
        }
        float mt = wg_max(s);
        float mn = max(M, mt);
        float pt = t < t_end ? exp(s - mn) : 0.0;
        ps[tid] = pt;
        float lt = wg_sum(pt); // its barriers also publish ps[]
        float alpha = exp(M - mn);
        L = L * alpha + lt;
        M = mn;
        uint nt = min(WG, t_end - t0);
        for (uint u = 0u; u < HD_MAX / WG; u++) {
            uint d = tid + u * WG;
            if (d >= hd) break;
            float a = acc[u] * alpha;
            for (uint j = 0u; j < nt; j++) a = fma(ps[j], vval((t0 + j) * kv_stride + kvh * hd + d), a);
            acc[u] = a;
        }
        barrier(); // ps[] is rewritten by the next tile
    }
#if defined(SPLIT)
    uint ob = p.o_off + ((qi * p.n_head + h) * p.nsplit + gl_WorkGroupID.z) * (hd + 2u);
    if (tid == 0u) {
        o[ob] = floatBitsToUint(M); // -inf with L = 0 when the part has no keys
        o[ob + 1u] = floatBitsToUint(L);
    }
    for (uint u = 0u; u < HD_MAX / WG; u++) {
        uint d = tid + u * WG;
        if (d < hd) o[ob + 2u + d] = floatBitsToUint(acc[u]);
    }
#else
    uint ob = p.o_off + (qi * p.n_head + h) * hd;
    for (uint u = 0u; u < HD_MAX / WG; u++) {
        uint d = tid + u * WG;
        if (d < hd) o[ob + d] = floatBitsToUint(acc[u] / L);
    }
#endif
}
