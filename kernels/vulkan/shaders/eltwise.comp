#version 450
// Element-wise y = a + b (OP_ADD), a * b (OP_MUL), silu(a) * b (OP_SILU_MUL, a = gate, b = up).
// b is indexed modulo b_n: b_n = n for plain element-wise ops, b_n = row length to broadcast one
// row of b over every row of a (biases). Grid-stride loop; y may alias a or b (each element read
// and written by one invocation).
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer Yb { uint y[]; };
layout(std430, binding = 1) readonly buffer Ab { uint a[]; };
layout(std430, binding = 2) readonly buffer Bb { uint b[]; };
layout(push_constant) uniform P {
    uint n, b_n;
    uint y_off, a_off, b_off; // words
} p;

void main()
{
    uint stride = gl_NumWorkGroups.x * 256u;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += stride) {
        float va = uintBitsToFloat(a[p.a_off + i]), vb = uintBitsToFloat(b[p.b_off + i % p.b_n]);
#if defined(OP_ADD)
        float r = va + vb;
#elif defined(OP_MUL)
        float r = va * vb;
#elif defined(OP_SILU_MUL)
        float r = va / (1.0 + exp(-va)) * vb;
#else
#error "define OP_ADD, OP_MUL or OP_SILU_MUL"
#endif
        y[p.y_off + i] = floatBitsToUint(r);
    }
}
