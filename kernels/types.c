/* Weight-format facts (names and block sizes as ggml defines them), status strings, and the
 * scalar half-precision conversions every part of the suite may use. */
#include <string.h>
#include <strings.h>

#include "kernels/matmul_impl.h"

/* ---------------------------------------------------------------- format table */

typedef struct type_info {
    sb_type type;
    const char *name;     /* ggml's name                                  */
    int64_t block_elems;  /* elements per block                           */
    size_t block_bytes;   /* bytes per block (sizeof the ggml block struct) */
    int weight_format;    /* matmul / quantize / dequantize support it      */
} type_info;

static const type_info type_table[] = {
    {SB_TYPE_F32, "f32", 1, 4, 1},
    {SB_TYPE_F16, "f16", 1, 2, 1},
    {SB_TYPE_BF16, "bf16", 1, 2, 1},
    {SB_TYPE_Q8_0, "q8_0", SB_QK8_0, sizeof(sb_block_q8_0), 1},
    {SB_TYPE_Q4_0, "q4_0", SB_QK4_0, sizeof(sb_block_q4_0), 1},
    {SB_TYPE_Q4_K, "q4_K", SB_QK_K, sizeof(sb_block_q4_K), 1},
    {SB_TYPE_Q5_K, "q5_K", SB_QK_K, sizeof(sb_block_q5_K), 1},
    {SB_TYPE_Q6_K, "q6_K", SB_QK_K, sizeof(sb_block_q6_K), 1},
    {SB_TYPE_Q8_K, "q8_K", SB_QK_K, sizeof(sb_block_q8_K), 0},
};

static const type_info *find_type(sb_type t)
{
    for (size_t i = 0; i < sizeof type_table / sizeof type_table[0]; i++)
        if (type_table[i].type == t) return &type_table[i];
    return NULL;
}

const char *sb_type_name(sb_type t)
{
    const type_info *ti = find_type(t);
    return ti ? ti->name : "?";
}

int sb_type_from_name(const char *name, sb_type *out)
{
    if (!name || !out) return SB_KERR_ARG;
    for (size_t i = 0; i < sizeof type_table / sizeof type_table[0]; i++)
        if (!strcasecmp(name, type_table[i].name)) {
            *out = type_table[i].type;
            return SB_KOK;
        }
    return SB_KERR_ARG;
}

int64_t sb_type_block_elems(sb_type t)
{
    const type_info *ti = find_type(t);
    return ti ? ti->block_elems : 0;
}

size_t sb_type_block_bytes(sb_type t)
{
    const type_info *ti = find_type(t);
    return ti ? ti->block_bytes : 0;
}

int sb_row_bytes(sb_type t, int64_t k, size_t *bytes)
{
    const type_info *ti = find_type(t);
    if (!ti || !bytes || k < 0) return SB_KERR_ARG;
    if (k % ti->block_elems) return SB_KERR_SHAPE;
    size_t r;
    if (__builtin_mul_overflow((uint64_t)(k / ti->block_elems), ti->block_bytes, &r)) return SB_KERR_ARG;
    *bytes = r;
    return SB_KOK;
}

int sb_type_is_weight_format(sb_type t)
{
    const type_info *ti = find_type(t);
    return ti ? ti->weight_format : 0;
}

const char *sb_kstatus_str(int status)
{
    switch (status) {
    case SB_KOK: return "ok";
    case SB_KERR_ARG: return "invalid argument";
    case SB_KERR_SHAPE: return "shape mismatch (k not a multiple of the block size?)";
    case SB_KERR_UNSUPPORTED: return "not supported by this implementation";
    case SB_KERR_NOMEM: return "out of memory";
    case SB_KERR_DEVICE: return "device back end failed";
    default: return "unknown kernel status";
    }
}

/* ---------------------------------------------------------------- half precision */

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* IEEE binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits. Round to nearest even;
 * overflow goes to ±inf, NaN stays a (quiet) NaN, tiny values become subnormals or ±0. */
uint16_t sb_fp32_to_fp16(float f)
{
    uint32_t u = f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t exp = (u >> 23) & 0xffu;
    uint32_t man = u & 0x7fffffu;

    if (exp == 0xff) /* inf or NaN */
        return (uint16_t)(sign | 0x7c00u | (man ? 0x200u | (man >> 13) : 0));
    int32_t e = (int32_t)exp - 127 + 15; /* binary16 biased exponent */
    if (e >= 31) return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        /* subnormal half (or zero): value = man16 * 2^-24 */
        if (e < -10) return sign; /* below half the smallest subnormal */
        uint32_t m = man | 0x800000u;      /* implicit 1: 24 significant bits */
        uint32_t shift = (uint32_t)(14 - e); /* bits to drop: 13 + (1 - e)  */
        uint32_t h = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1);
        uint32_t half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) h++;
        return (uint16_t)(sign | h); /* a carry into bit 10 correctly makes the smallest normal */
    }
    uint32_t h = ((uint32_t)e << 10) | (man >> 13);
    uint32_t rem = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++; /* a carry may round up to inf: correct */
    return (uint16_t)(sign | h);
}

float sb_fp16_to_fp32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    if (exp == 0x1f) return bits_f32(sign | 0x7f800000u | (man << 13));
    if (exp == 0) {
        /* zero or subnormal: man * 2^-24, exact in f32 */
        float v = (float)man * 0x1p-24f;
        return sign ? -v : v;
    }
    return bits_f32(sign | ((exp - 15 + 127) << 23) | (man << 13));
}

/* bfloat16 is the top half of an f32. Round to nearest even; NaN stays a quiet NaN. */
uint16_t sb_fp32_to_bf16(float f)
{
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float sb_bf16_to_fp32(uint16_t h)
{
    return bits_f32((uint32_t)h << 16);
}
