/* Weight formats: type facts, half-precision conversions, hand-built blocks decoded to known
 * values (the proof that the block layouts are ggml's), and quantize → dequantize round trips
 * within each format's error bound. */
#include <stdlib.h>

#include "kernels/kernels.h"
#include "tests/test.h"

/* ---------------------------------------------------------------- helpers */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v & 0xff);
    p[1] = (uint8_t)(v >> 8);
}

static void put_f32(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(u >> (8 * i));
}

/* Write the 8 (scale, min) 6-bit pairs of a Q4_K/Q5_K block into its 12 scale bytes, spelled out
 * as the format describes them: bytes 0-3 carry scales 0-3 (low 6 bits) and the top 2 bits of
 * scales 4-7; bytes 4-7 carry mins 0-3 and the top 2 bits of mins 4-7; bytes 8-11 carry the low
 * 4 bits of scale j+4 (low nibble) and min j+4 (high nibble). */
static void pack_k_scales(uint8_t s[12], const int sc[8], const int mn[8])
{
    for (int j = 0; j < 4; j++) {
        s[j] = (uint8_t)(sc[j] | ((sc[j + 4] >> 4) << 6));
        s[j + 4] = (uint8_t)(mn[j] | ((mn[j + 4] >> 4) << 6));
        s[j + 8] = (uint8_t)((sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4));
    }
}

/* ---------------------------------------------------------------- type facts */

static void test_type_facts(void)
{
    static const struct { sb_type t; const char *name; int64_t be; size_t bb; int weight; } facts[] = {
        {SB_TYPE_F32, "f32", 1, 4, 1},      {SB_TYPE_F16, "f16", 1, 2, 1},
        {SB_TYPE_BF16, "bf16", 1, 2, 1},    {SB_TYPE_Q8_0, "q8_0", 32, 34, 1},
        {SB_TYPE_Q4_0, "q4_0", 32, 18, 1},  {SB_TYPE_Q4_K, "q4_K", 256, 144, 1},
        {SB_TYPE_Q5_K, "q5_K", 256, 176, 1}, {SB_TYPE_Q6_K, "q6_K", 256, 210, 1},
        {SB_TYPE_Q8_K, "q8_K", 256, 292, 0},
    };
    for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++) {
        CHECK_STR(sb_type_name(facts[i].t), facts[i].name);
        CHECK_EQ_INT(sb_type_block_elems(facts[i].t), facts[i].be);
        CHECK_EQ_INT(sb_type_block_bytes(facts[i].t), facts[i].bb);
        CHECK_EQ_INT(sb_type_is_weight_format(facts[i].t), facts[i].weight);
        sb_type back;
        CHECK_EQ_INT(sb_type_from_name(facts[i].name, &back), SB_KOK);
        CHECK_EQ_INT(back, facts[i].t);
        size_t rb = 0;
        CHECK_EQ_INT(sb_row_bytes(facts[i].t, 4096, &rb), SB_KOK);
        CHECK_EQ_INT(rb, 4096 / facts[i].be * (int64_t)facts[i].bb);
        if (facts[i].be > 1) CHECK_EQ_INT(sb_row_bytes(facts[i].t, facts[i].be + 1, &rb), SB_KERR_SHAPE);
    }
    sb_type t;
    CHECK_EQ_INT(sb_type_from_name("Q4_k", &t), SB_KOK);
    CHECK_EQ_INT(t, SB_TYPE_Q4_K);
    CHECK_EQ_INT(sb_type_from_name("q3_K", &t), SB_KERR_ARG);
    CHECK_EQ_INT(sb_type_from_name(NULL, &t), SB_KERR_ARG);
    CHECK_STR(sb_type_name((sb_type)99), "?");
    CHECK_EQ_INT(sb_type_block_bytes((sb_type)99), 0);
    size_t rb;
    CHECK_EQ_INT(sb_row_bytes((sb_type)99, 32, &rb), SB_KERR_ARG);
    CHECK_EQ_INT(sb_row_bytes(SB_TYPE_F32, -1, &rb), SB_KERR_ARG);
    CHECK_EQ_INT(sb_row_bytes(SB_TYPE_Q4_0, INT64_MAX / 2 / 32 * 32, &rb), SB_KOK); /* fits */
    CHECK(sb_kstatus_str(SB_KERR_SHAPE)[0] != 0);
    CHECK(strcmp(sb_kstatus_str(SB_KERR_SHAPE), sb_kstatus_str(SB_KERR_ARG)) != 0);
}

/* ---------------------------------------------------------------- half precision */

static void test_fp16_known_values(void)
{
    CHECK_EQ_INT(sb_fp32_to_fp16(0.0f), 0x0000);
    CHECK_EQ_INT(sb_fp32_to_fp16(-0.0f), 0x8000);
    CHECK_EQ_INT(sb_fp32_to_fp16(1.0f), 0x3c00);
    CHECK_EQ_INT(sb_fp32_to_fp16(-2.0f), 0xc000);
    CHECK_EQ_INT(sb_fp32_to_fp16(65504.0f), 0x7bff);      /* largest finite */
    CHECK_EQ_INT(sb_fp32_to_fp16(65519.0f), 0x7bff);      /* rounds down    */
    CHECK_EQ_INT(sb_fp32_to_fp16(65520.0f), 0x7c00);      /* tie → even = inf */
    CHECK_EQ_INT(sb_fp32_to_fp16(INFINITY), 0x7c00);
    CHECK_EQ_INT(sb_fp32_to_fp16(0x1p-14f), 0x0400);      /* smallest normal */
    CHECK_EQ_INT(sb_fp32_to_fp16(0x1p-24f), 0x0001);      /* smallest subnormal */
    CHECK_EQ_INT(sb_fp32_to_fp16(0x1p-25f), 0x0000);      /* tie → even = 0 */
    CHECK_EQ_INT(sb_fp32_to_fp16(0x1.8p-24f), 0x0002);    /* 1.5 ulp tie → even 2 */
    CHECK_EQ_INT(sb_fp32_to_fp16(1.0f + 0x1p-11f), 0x3c00); /* tie → even */
    CHECK_EQ_INT(sb_fp32_to_fp16(1.0f + 0x1.8p-10f), 0x3c02); /* 1.5 ulp tie → even */
    CHECK_EQ_INT(sb_fp32_to_fp16(0x1.ffcp-15f), 0x0400);  /* subnormal rounding up into normal */
    uint16_t nan = sb_fp32_to_fp16(NAN);
    CHECK((nan & 0x7c00) == 0x7c00 && (nan & 0x3ff) != 0);
    CHECK(isnan(sb_fp16_to_fp32(0x7e00)));
    CHECK_EQ_INT(sb_fp16_to_fp32(0x3555) == 0x1.554p-2f, 1);
    CHECK_EQ_INT(sb_fp16_to_fp32(0x0001) == 0x1p-24f, 1);
    CHECK_EQ_INT(sb_fp16_to_fp32(0xfc00) == -INFINITY, 1);
}

/* Every half converts to f32 and back to itself (NaNs stay NaNs); random f32 values convert
 * like the compiler's correctly rounded _Float16 conversion. */
static void test_fp16_exhaustive(void)
{
    for (uint32_t h = 0; h < 65536; h++) {
        float f = sb_fp16_to_fp32((uint16_t)h);
        uint16_t back = sb_fp32_to_fp16(f);
        int is_nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
        if (is_nan) CHECK_MSG(isnan(f) && (back & 0x7c00) == 0x7c00 && (back & 0x3ff), "nan %04x", h);
        else CHECK_MSG(back == h, "half %04x -> %g -> %04x", h, (double)f, back);
    }
#if defined(__FLT16_MAX__)
    uint64_t seed = 7;
    for (int i = 0; i < 1000000; i++) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        uint32_t u = (uint32_t)seed;
        /* concentrate on the half range: exponents 100..150 */
        u = (u & 0x807fffffu) | ((100u + (uint32_t)(seed >> 40) % 51u) << 23);
        float f;
        memcpy(&f, &u, 4);
        _Float16 hf = (_Float16)f;
        uint16_t want;
        memcpy(&want, &hf, 2);
        if (sb_fp32_to_fp16(f) != want) {
            CHECK_MSG(0, "%a: got %04x want %04x", (double)f, sb_fp32_to_fp16(f), want);
            break;
        }
    }
#endif
}

static void test_bf16(void)
{
    CHECK_EQ_INT(sb_fp32_to_bf16(1.0f), 0x3f80);
    CHECK_EQ_INT(sb_fp32_to_bf16(-2.0f), 0xc000);
    CHECK_EQ_INT(sb_fp32_to_bf16(1.0f + 0x1p-8f), 0x3f80);   /* tie → even (down) */
    CHECK_EQ_INT(sb_fp32_to_bf16(1.0f + 0x1.8p-7f), 0x3f82); /* tie → even (up)   */
    CHECK_EQ_INT(sb_fp32_to_bf16(1.0f + 0x1.2p-8f), 0x3f81); /* above the tie     */
    CHECK_EQ_INT(sb_fp32_to_bf16(INFINITY), 0x7f80);
    CHECK_EQ_INT(sb_fp32_to_bf16(0x1.fffffep127f), 0x7f80); /* overflows to inf */
    uint16_t nan = sb_fp32_to_bf16(NAN);
    CHECK((nan & 0x7f80) == 0x7f80 && (nan & 0x7f) != 0);
    CHECK(sb_bf16_to_fp32(0x4049) == 3.140625f);
    for (uint32_t h = 0; h < 65536; h++) {
        if ((h & 0x7f80) == 0x7f80 && (h & 0x7f)) continue;
        CHECK_MSG(sb_fp32_to_bf16(sb_bf16_to_fp32((uint16_t)h)) == h, "bf16 %04x", h);
    }
}

/* ---------------------------------------------------------------- known blocks */

static void test_dequant_f16_bf16_known(void)
{
    uint8_t b[8];
    float y[4];
    put16(b, 0x3c00), put16(b + 2, 0xc000), put16(b + 4, 0x3555), put16(b + 6, 0x0001);
    CHECK_EQ_INT(sb_dequantize_row(SB_TYPE_F16, b, y, 4), SB_KOK);
    CHECK(y[0] == 1.0f && y[1] == -2.0f && y[2] == 0x1.554p-2f && y[3] == 0x1p-24f);
    put16(b, 0x3f80), put16(b + 2, 0xc000), put16(b + 4, 0x4049), put16(b + 6, 0x0001);
    CHECK_EQ_INT(sb_dequantize_row(SB_TYPE_BF16, b, y, 4), SB_KOK);
    CHECK(y[0] == 1.0f && y[1] == -2.0f && y[2] == 3.140625f && y[3] == 0x1p-133f);
}

/* Q4_0: bytes 0-1 f16 d, bytes 2-17 nibbles; element j low nibble of byte 2+j, element j+16 the
 * high nibble; x = d * (q - 8). Two blocks, the second checks the 18-byte stride. */
static void test_dequant_q4_0_known(void)
{
    uint8_t b[36];
    put16(b, 0x3800); /* 0.5 */
    for (int j = 0; j < 16; j++) b[2 + j] = (uint8_t)(j | ((15 - j) << 4));
    put16(b + 18, 0xc000); /* -2 */
    for (int j = 0; j < 16; j++) b[20 + j] = (uint8_t)(((j * 5) & 15) | ((j & 3) << 4));
    float y[64];
    CHECK_EQ_INT(sb_dequantize_row(SB_TYPE_Q4_0, b, y, 64), SB_KOK);
    for (int j = 0; j < 16; j++) {
        CHECK(y[j] == 0.5f * (j - 8));
        CHECK(y[j + 16] == 0.5f * (7 - j));
        CHECK(y[32 + j] == -2.0f * (((j * 5) & 15) - 8));
        CHECK(y[48 + j] == -2.0f * ((j & 3) - 8));
    }
}

/* Q8_0: bytes 0-1 f16 d, bytes 2-33 int8; x = d * q. */
static void test_dequant_q8_0_known(void)
{
    uint8_t b[68];
    put16(b, 0x3400); /* 0.25 */
    for (int i = 0; i < 32; i++) b[2 + i] = (uint8_t)(int8_t)(i * 8 - 128);
    put16(b + 34, 0xbc00); /* -1 */
    for (int i = 0; i < 32; i++) b[36 + i] = (uint8_t)(int8_t)(127 - i);
    float y[64];
    CHECK_EQ_INT(sb_dequantize_row(SB_TYPE_Q8_0, b, y, 64), SB_KOK);
    for (int i = 0; i < 32; i++) {
        CHECK(y[i] == 0.25f * (i * 8 - 128));
        CHECK(y[32 + i] == -(float)(127 - i));
    }
}

/* Q4_K: bytes 0-1 d, 2-3 dmin, 4-15 scales, 16-143 quants; chunk c (64 elements) uses bytes
 * 16+32c .. 16+32c+31, low nibbles for its first 32 elements (sub-block 2c), high nibbles for
 * the next 32 (sub-block 2c+1); x = d*sc*q - dmin*mn. */
static const int k_sc[8] = {1, 2, 3, 4, 40, 50, 60, 63};
static const int k_mn[8] = {5, 6, 7, 8, 33, 17, 48, 0};

static void test_dequant_q4_K_known(void)
{
    uint8_t b[144];
    put16(b, 0x4000);     /* d = 2 */
    put16(b + 2, 0x3800); /* dmin = 0.5 */
    pack_k_scales(b + 4, k_sc, k_mn);
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) b[16 + 32 * c + l] = (uint8_t)(((l + c) & 15) | (((3 * l + c) & 15) << 4));
    float y[256];
    CHECK_EQ_INT(sb_dequantize_row(SB_TYPE_Q4_K, b, y, 256), SB_KOK);
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) {
            int lo = (l + c) & 15, hi = (3 * l + c) & 15;
            CHECK_MSG(y[64 * c + l] == 2.0f * k_sc[2 * c] * lo - 0.5f * k_mn[2 * c], "c %d l %d", c, l);
            CHECK_MSG(y[64 * c + 32 + l] == 2.0f * k_sc[2 * c + 1] * hi - 0.5f * k_mn[2 * c + 1], "c %d l %d", c, l);
        }
}

/* Q5_K: bytes 0-1 d, 2-3 dmin, 4-15 scales, 16-47 qh, 48-175 nibbles (as Q4_K); element 64c+l
 * adds 16 when bit 2c of qh[l] is set, element 64c+32+l when bit 2c+1 is. */
static void test_dequant_q5_K_known(void)
{
    uint8_t b[176];
    put16(b, 0x3c00);     /* d = 1 */
    put16(b + 2, 0x4000); /* dmin = 2 */
    pack_k_scales(b + 4, k_sc, k_mn);
    for (int l = 0; l < 32; l++) b[16 + l] = (uint8_t)(l * 37 + 11);
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) b[48 + 32 * c + l] = (uint8_t)(((l + c) & 15) | (((3 * l + c) & 15) << 4));
    float y[256];
    CHECK_EQ_INT(sb_dequantize_row(SB_TYPE_Q5_K, b, y, 256), SB_KOK);
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) {
            int qh = (uint8_t)(l * 37 + 11);
            int lo = ((l + c) & 15) + 16 * ((qh >> (2 * c)) & 1);
            int hi = ((3 * l + c) & 15) + 16 * ((qh >> (2 * c + 1)) & 1);
            CHECK_MSG(y[64 * c + l] == 1.0f * k_sc[2 * c] * lo - 2.0f * k_mn[2 * c], "c %d l %d", c, l);
            CHECK_MSG(y[64 * c + 32 + l] == 1.0f * k_sc[2 * c + 1] * hi - 2.0f * k_mn[2 * c + 1], "c %d l %d", c, l);
        }
}

/* Q6_K: bytes 0-127 ql, 128-191 qh, 192-207 int8 scales, 208-209 d. Element e: half h = e/128,
 * r = e%128, quarter g = r/32, l = r%32: low 4 bits from byte 64h + l + 32*(g&1) (low nibble for
 * g < 2, high for g >= 2), high 2 bits from bits 2g..2g+1 of qh byte 32h + l; x = d*sc[e/16]*(q-32). */
static void test_dequant_q6_K_known(void)
{
    uint8_t b[210];
    memset(b, 0, sizeof b);
    int q[256];
    for (int e = 0; e < 256; e++) {
        q[e] = (e * 7 + 3) % 64;
        int h = e / 128, r = e % 128, g = r / 32, l = r % 32;
        int lb = 64 * h + l + 32 * (g & 1);
        b[lb] |= (uint8_t)(g < 2 ? (q[e] & 15) : (q[e] & 15) << 4);
        b[128 + 32 * h + l] |= (uint8_t)((q[e] >> 4) << (2 * g));
    }
    for (int s = 0; s < 16; s++) b[192 + s] = (uint8_t)(int8_t)(s * 9 - 70);
    put16(b + 208, 0x3800); /* 0.5 */
    float y[256];
    CHECK_EQ_INT(sb_dequantize_row(SB_TYPE_Q6_K, b, y, 256), SB_KOK);
    for (int e = 0; e < 256; e++)
        CHECK_MSG(y[e] == 0.5f * (float)((e / 16) * 9 - 70) * (float)(q[e] - 32), "e %d: %g", e, (double)y[e]);
}

/* Q8_K: bytes 0-3 f32 d, 4-259 int8, 260-291 int16 bsums (not used to decode). */
static void test_dequant_q8_K_known(void)
{
    uint8_t b[292];
    memset(b, 0, sizeof b);
    put_f32(b, 0.125f);
    for (int i = 0; i < 256; i++) b[4 + i] = (uint8_t)(int8_t)(i - 128);
    float y[256];
    CHECK_EQ_INT(sb_dequantize_row(SB_TYPE_Q8_K, b, y, 256), SB_KOK);
    for (int i = 0; i < 256; i++) CHECK(y[i] == 0.125f * (i - 128));
    /* the quantizer writes bsums = sums of 16 quants */
    float x[256];
    uint64_t seed = 3;
    test_fill_uniform(x, 256, -1, 1, &seed);
    CHECK_EQ_INT(sb_quantize_row(SB_TYPE_Q8_K, x, b, 256), SB_KOK);
    for (int j = 0; j < 16; j++) {
        int s = 0;
        for (int i = 0; i < 16; i++) s += (int8_t)b[4 + 16 * j + i];
        int16_t bs;
        memcpy(&bs, b + 260 + 2 * j, 2);
        CHECK_EQ_INT(bs, s);
    }
}

/* ---------------------------------------------------------------- round trips */

/* NMSE bounds for uniform [-1, 1) data: a uniform quantizer with step Δ has error variance
 * Δ²/12 against signal variance 1/3, i.e. NMSE ≈ Δ²/4. Bounds below allow for the rounding of
 * the scales and for the K-quant sub-block scales being shared through 6-bit codes.
 *   f16 Δ≈2^-11·|x| → ~1e-7; bf16 Δ≈2^-8·|x| → ~5e-6; q8_0/q8_K Δ = 1/127 → 1.6e-5;
 *   q6_K Δ ≈ 1/31 → 2.6e-4; q5_K Δ ≈ 2/31 → 1.0e-3; q4_0 Δ = 1/8 → 3.9e-3; q4_K Δ ≈ 2/15 → 4.4e-3. */
static void test_round_trip_nmse(void)
{
    static const struct { sb_type t; double bound; } cases[] = {
        {SB_TYPE_F32, 0},       {SB_TYPE_F16, 2e-7},    {SB_TYPE_BF16, 1e-5},  {SB_TYPE_Q8_0, 3e-5},
        {SB_TYPE_Q8_K, 3e-5},   {SB_TYPE_Q6_K, 5e-4},   {SB_TYPE_Q5_K, 2e-3},  {SB_TYPE_Q4_0, 6e-3},
        {SB_TYPE_Q4_K, 8e-3},
    };
    const int64_t k = 4096;
    float *x = malloc(k * sizeof(float)), *y = malloc(k * sizeof(float));
    void *q = malloc(k * 4);
    uint64_t seed = 42;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int dist = 0; dist < 2; dist++) {
            test_fill_uniform(x, (size_t)k, -1, 1, &seed);
            if (dist == 1) /* a shifted, scaled row with a few outliers, like real weights */
                for (int64_t i = 0; i < k; i++) x[i] = 0.02f * x[i] + 0.005f + (i % 97 == 0 ? 0.2f : 0.0f);
            for (int64_t i = 0; i < k; i++) y[i] = NAN;
            CHECK_EQ_INT(sb_quantize_row(cases[c].t, x, q, k), SB_KOK);
            CHECK_EQ_INT(sb_dequantize_row(cases[c].t, q, y, k), SB_KOK);
            double e = test_nmse(y, x, (size_t)k);
            /* Outlier rows: a block's step follows its amax, and amax/rms is ~9.4 here against
             * 1.7 for uniform data, so the NMSE bound scales by up to (9.4/1.7)² ≈ 30. */
            double bound = cases[c].bound * (dist == 1 ? 30 : 1);
            CHECK_MSG(e <= bound, "%s dist %d: nmse %.3g > %.3g", sb_type_name(cases[c].t), dist, e, bound);
            if (getenv("SB_TEST_VERBOSE")) printf("  %s dist %d nmse %.3g\n", sb_type_name(cases[c].t), dist, e);
        }
    }
    /* all-zero rows quantize to zeros, not NaN */
    memset(x, 0, k * sizeof(float));
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        CHECK_EQ_INT(sb_quantize_row(cases[c].t, x, q, k), SB_KOK);
        CHECK_EQ_INT(sb_dequantize_row(cases[c].t, q, y, k), SB_KOK);
        int ok = 1;
        for (int64_t i = 0; i < k; i++) ok &= y[i] == 0.0f;
        CHECK_MSG(ok, "%s: zero row does not decode to zeros", sb_type_name(cases[c].t));
    }
    free(x), free(y), free(q);
}

static void test_quant_bad_args(void)
{
    float x[512] = {0}, y[512];
    uint8_t q[2048];
    CHECK_EQ_INT(sb_quantize_row(SB_TYPE_Q4_0, x, q, 33), SB_KERR_SHAPE);
    CHECK_EQ_INT(sb_dequantize_row(SB_TYPE_Q4_K, q, y, 255), SB_KERR_SHAPE);
    CHECK_EQ_INT(sb_quantize_row(SB_TYPE_Q6_K, x, q, 257), SB_KERR_SHAPE);
    CHECK_EQ_INT(sb_quantize_row(SB_TYPE_F16, x, q, 7), SB_KOK); /* any k for float formats */
    CHECK_EQ_INT(sb_quantize_row(SB_TYPE_Q4_0, NULL, q, 32), SB_KERR_ARG);
    CHECK_EQ_INT(sb_dequantize_row(SB_TYPE_Q4_0, q, NULL, 32), SB_KERR_ARG);
    CHECK_EQ_INT(sb_quantize_row(SB_TYPE_Q4_0, x, q, -32), SB_KERR_ARG);
    CHECK_EQ_INT(sb_quantize_row((sb_type)3, x, q, 32), SB_KERR_ARG); /* q4_1: not supported */
    CHECK_EQ_INT(sb_dequantize_row((sb_type)99, q, y, 32), SB_KERR_ARG);
    CHECK_EQ_INT(sb_quantize_row(SB_TYPE_Q8_0, x, q, 0), SB_KOK);
}

int main(void)
{
    RUN(test_type_facts);
    RUN(test_fp16_known_values);
    RUN(test_fp16_exhaustive);
    RUN(test_bf16);
    RUN(test_dequant_f16_bf16_known);
    RUN(test_dequant_q4_0_known);
    RUN(test_dequant_q8_0_known);
    RUN(test_dequant_q4_K_known);
    RUN(test_dequant_q5_K_known);
    RUN(test_dequant_q6_K_known);
    RUN(test_dequant_q8_K_known);
    RUN(test_round_trip_nmse);
    RUN(test_quant_bad_args);
    return test_finish();
}
