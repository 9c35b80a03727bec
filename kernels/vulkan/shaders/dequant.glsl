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
