#version 450
// Flash attention (causal, grouped-query heads), prefill and decode alike: one workgroup of 64
// invocations per (head h, query i). Keys are visited in tiles of 64 (one key per invocation for
// the score), with an online softmax: running max M and sum L, the output accumulator rescaled by
// exp(M_old - M_new) at each tile; no score matrix beyond one tile. K/V in f32 (KV_F32) or f16
// (KV_F16, two halves per word). head_dim <= 256 (each invocation owns head_dim/64 output dims).
//   Q, out [m][n_head][head_dim] f32; K, V [n_kv][n_kv_head][head_dim]
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
    uint last = p.pos + qi; // inclusive: causal
    for (uint t0 = 0u; t0 <= last; t0 += WG) {
        uint t = t0 + tid;
        float s = uintBitsToFloat(0xff800000u);
        if (t <= last) {
            uint kb = t * kv_stride + kvh * hd;
            float dot = 0.0;
            for (uint d = 0u; d < hd; d++) dot = fma(qs[d], kval(kb + d), dot);
            s = dot * p.scale;
        }
        float mt = wg_max(s);
        float mn = max(M, mt);
        float pt = t <= last ? exp(s - mn) : 0.0;
        ps[tid] = pt;
        float lt = wg_sum(pt); // its barriers also publish ps[]
        float alpha = exp(M - mn);
        L = L * alpha + lt;
        M = mn;
        uint nt = min(WG, last + 1u - t0);
        for (uint u = 0u; u < HD_MAX / WG; u++) {
            uint d = tid + u * WG;
            if (d >= hd) break;
            float a = acc[u] * alpha;
            for (uint j = 0u; j < nt; j++) a = fma(ps[j], vval((t0 + j) * kv_stride + kvh * hd + d), a);
            acc[u] = a;
        }
        barrier(); // ps[] is rewritten by the next tile
    }
    uint ob = p.o_off + (qi * p.n_head + h) * hd;
    for (uint u = 0u; u < HD_MAX / WG; u++) {
        uint d = tid + u * WG;
        if (d < hd) o[ob + d] = floatBitsToUint(acc[u] / L);
    }
}
