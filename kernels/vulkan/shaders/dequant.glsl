// Element access to GGUF/ggml weight rows, byte-addressed inside the uint array `w` that the
// including shader declares. row_byte: byte offset of the row's first block; i: element index in
// the row. One element at a time: simple and format-exact (the layouts of kernels/kernels.h).
// Every f16 field of these blocks sits at an even byte offset, so a 16-bit read never straddles
// a word.

uint w_u8(uint b) { return (w[b >> 2] >> ((b & 3u) * 8u)) & 0xffu; }
uint w_u16(uint b) { return (w[b >> 2] >> ((b & 2u) * 8u)) & 0xffffu; }
float w_f16(uint b) { return unpackHalf2x16(w_u16(b)).x; }
int w_i8(uint b) { return bitfieldExtract(int(w_u8(b)), 0, 8); }

#if defined(WT_Q4_K) || defined(WT_Q5_K)
// 6-bit scale and min of sub-block j (0..7) from the 12 scale bytes at byte `s` (ggml get_scale_min_k4).
void scale_min_k4(uint s, uint j, out float sc, out float mn)
{
    if (j < 4u) {
        sc = float(w_u8(s + j) & 63u);
        mn = float(w_u8(s + j + 4u) & 63u);
    } else {
        sc = float((w_u8(s + j + 4u) & 15u) | ((w_u8(s + j - 4u) >> 6) << 4));
        mn = float((w_u8(s + j + 4u) >> 4) | ((w_u8(s + j) >> 6) << 4));
    }
}
#endif

#if defined(WT_F32)
#define W_BLOCK_ELEMS 1u
#define W_BLOCK_BYTES 4u
float wval(uint row_byte, uint i) { return uintBitsToFloat(w[(row_byte >> 2) + i]); }
#elif defined(WT_F16)
#define W_BLOCK_ELEMS 1u
#define W_BLOCK_BYTES 2u
float wval(uint row_byte, uint i) { return w_f16(row_byte + 2u * i); }
#elif defined(WT_BF16)
#define W_BLOCK_ELEMS 1u
#define W_BLOCK_BYTES 2u
float wval(uint row_byte, uint i) { return uintBitsToFloat(w_u16(row_byte + 2u * i) << 16); }
#elif defined(WT_Q8_0)
// block: f16 d, int8 q[32]; x = d * q
#define W_BLOCK_ELEMS 32u
#define W_BLOCK_BYTES 34u
float wval(uint row_byte, uint i)
{
    uint blk = row_byte + (i >> 5) * 34u;
    return w_f16(blk) * float(w_i8(blk + 2u + (i & 31u)));
}
#elif defined(WT_Q4_0)
// block: f16 d, 16 bytes; element j < 16 is the low nibble of byte j, j >= 16 the high nibble of
// byte j-16; x = d * (q - 8)
#define W_BLOCK_ELEMS 32u
#define W_BLOCK_BYTES 18u
float wval(uint row_byte, uint i)
{
    uint blk = row_byte + (i >> 5) * 18u;
    uint j = i & 31u;
    uint b = w_u8(blk + 2u + (j & 15u));
    uint q = j < 16u ? (b & 15u) : (b >> 4);
    return w_f16(blk) * (float(q) - 8.0);
}
#elif defined(WT_Q4_K)
// block (144 bytes): f16 d, f16 dmin, 12 bytes scales/mins, 128 bytes nibbles. Elements come in
// 64-element chunks c: 32 low nibbles (sub-block 2c) then 32 high nibbles (sub-block 2c+1) of
// bytes 32c .. 32c+31. x = d*sc*q - dmin*m
#define W_BLOCK_ELEMS 256u
#define W_BLOCK_BYTES 144u
float wval(uint row_byte, uint i)
{
    uint blk = row_byte + (i >> 8) * 144u;
    uint e = i & 255u, c = e >> 6, hi = (e >> 5) & 1u, l = e & 31u;
    float sc, mn;
    scale_min_k4(blk + 4u, 2u * c + hi, sc, mn);
    uint b = w_u8(blk + 16u + 32u * c + l);
    uint q = hi != 0u ? (b >> 4) : (b & 15u);
    return w_f16(blk) * sc * float(q) - w_f16(blk + 2u) * mn;
}
#elif defined(WT_Q5_K)
// block (176 bytes): f16 d, f16 dmin, 12 bytes scales/mins, 32 bytes high bits, 128 bytes nibbles.
// As Q4_K, plus bit (2c+hi) of qh[l] adds 16.
#define W_BLOCK_ELEMS 256u
#define W_BLOCK_BYTES 176u
float wval(uint row_byte, uint i)
{
    uint blk = row_byte + (i >> 8) * 176u;
    uint e = i & 255u, c = e >> 6, hi = (e >> 5) & 1u, l = e & 31u;
    uint sb = 2u * c + hi;
    float sc, mn;
    scale_min_k4(blk + 4u, sb, sc, mn);
    uint b = w_u8(blk + 48u + 32u * c + l);
    uint q = (hi != 0u ? (b >> 4) : (b & 15u)) + (((w_u8(blk + 16u + l) >> sb) & 1u) << 4);
    return w_f16(blk) * sc * float(q) - w_f16(blk + 2u) * mn;
}
#elif defined(WT_Q6_K)
// block (210 bytes): 128 bytes low nibbles ql, 64 bytes 2-bit highs qh, 16 int8 scales, f16 d.
// Two halves h of 128 elements, each four quarters qd of 32: low nibble source
// ql[64h + l + 32(qd&1)] (high nibble when qd >= 2), high bits (qh[32h + l] >> 2qd) & 3,
// scale sc[8h + l/16 + 2qd]; x = d * sc * (q - 32)
#define W_BLOCK_ELEMS 256u
#define W_BLOCK_BYTES 210u
float wval(uint row_byte, uint i)
{
    uint blk = row_byte + (i >> 8) * 210u;
    uint e = i & 255u, h = e >> 7, qd = (e >> 5) & 3u, l = e & 31u;
    uint lb = w_u8(blk + 64u * h + l + 32u * (qd & 1u));
    uint lo = qd >= 2u ? (lb >> 4) : (lb & 15u);
    uint hb = (w_u8(blk + 128u + 32u * h + l) >> (2u * qd)) & 3u;
    int q = int(lo | (hb << 4)) - 32;
    float sc = float(w_i8(blk + 192u + 8u * h + (l >> 4) + 2u * qd));
    return w_f16(blk + 208u) * sc * float(q);
}
#else
#error "define one weight type WT_*"
#endif

// deq32: the 32 elements 32c .. 32c+31 of a row at once, decoding each block's scales once (the
// matvec path). For f32/f16/bf16 the caller handles a tail of k % 32 elements with wval().
#if defined(WT_F32) || defined(WT_F16) || defined(WT_BF16)
void deq32(uint row_byte, uint c, out float v[32])
{
    for (uint l = 0u; l < 32u; l++) v[l] = wval(row_byte, 32u * c + l);
}
#elif defined(WT_Q8_0)
void deq32(uint row_byte, uint c, out float v[32])
{
    uint blk = row_byte + 34u * c;
    float d = w_f16(blk);
    for (uint l = 0u; l < 32u; l++) v[l] = d * float(w_i8(blk + 2u + l));
}
#elif defined(WT_Q4_0)
void deq32(uint row_byte, uint c, out float v[32])
{
    uint blk = row_byte + 18u * c;
    float d = w_f16(blk);
    for (uint l = 0u; l < 16u; l++) {
        uint b = w_u8(blk + 2u + l);
        v[l] = d * (float(b & 15u) - 8.0);
        v[l + 16u] = d * (float(b >> 4) - 8.0);
    }
}
#elif defined(WT_Q4_K) || defined(WT_Q5_K)
void deq32(uint row_byte, uint c, out float v[32])
{
#if defined(WT_Q4_K)
    uint blk = row_byte + 144u * (c >> 3), qs = blk + 16u;
#else
    uint blk = row_byte + 176u * (c >> 3), qs = blk + 48u;
#endif
    uint sub = c & 7u, cc = sub >> 1, hi = sub & 1u;
    float sc, mn;
    scale_min_k4(blk + 4u, sub, sc, mn);
    float d = w_f16(blk) * sc, m = w_f16(blk + 2u) * mn;
    for (uint l = 0u; l < 32u; l++) {
        uint b = w_u8(qs + 32u * cc + l);
        uint q = hi != 0u ? (b >> 4) : (b & 15u);
#if defined(WT_Q5_K)
        q += ((w_u8(blk + 16u + l) >> sub) & 1u) << 4;
#endif
        v[l] = d * float(q) - m;
    }
}
#elif defined(WT_Q6_K)
void deq32(uint row_byte, uint c, out float v[32])
{
    uint blk = row_byte + 210u * (c >> 3);
    uint sub = c & 7u, h = sub >> 2, qd = sub & 3u;
    float d = w_f16(blk + 208u);
    float s0 = d * float(w_i8(blk + 192u + 8u * h + 2u * qd));      // l < 16
    float s1 = d * float(w_i8(blk + 192u + 8u * h + 1u + 2u * qd)); // l >= 16
    for (uint l = 0u; l < 32u; l++) {
        uint lb = w_u8(blk + 64u * h + l + 32u * (qd & 1u));
        uint lo = qd >= 2u ? (lb >> 4) : (lb & 15u);
        uint hb = (w_u8(blk + 128u + 32u * h + l) >> (2u * qd)) & 3u;
        v[l] = (l < 16u ? s0 : s1) * float(int(lo | (hb << 4)) - 32);
    }
}
#endif
