/* A small valid GGUF file built with the writer: a few metadata entries of every value type
 * (scalars, numeric arrays, a string array, an empty array) and four small tensors of
 * different types. About 1.5 KB, so sweeps over every byte stay fast. Used by the GGUF tests;
 * the expected values are the constants below.
 */
#ifndef SB_GGUF_FUZZ_SAMPLE_H
#define SB_GGUF_FUZZ_SAMPLE_H

#include <stdlib.h>
#include <string.h>

#include "gguf/gguf.h"

static const float sample_f32[12] = {0.5f, -1.0f, 2.25f, 3.0f, -4.5f, 5.0f, 6.0f, 7.125f, -8.0f, 9.0f, 10.0f, 11.5f};
static const uint16_t sample_f16[8] = {0x3c00, 0x4000, 0x4200, 0x4400, 0xbc00, 0x0000, 0x7bff, 0x3555};
static const int32_t sample_i32_arr[5] = {-2, -1, 0, 1, 2147483647};
static const double sample_f64_arr[3] = {1.5, -2.5e300, 3.0};
static const char *const sample_strs[4] = {"<unk>", "hello", "", "\xe2\x96\x81world"};

/* Fills tensor payloads (q8_0: 2 blocks = 68 B, q4_K: 1 block = 144 B) with a pattern. */
static inline void sample_pattern(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(i * 7 + seed);
}

static inline sb_gguf_writer *sample_writer(uint8_t q8[68], uint8_t q4k[144])
{
    sb_gguf_writer *w = sb_gguf_writer_new();
    if (!w) return NULL;
    sample_pattern(q8, 68, 3);
    sample_pattern(q4k, 144, 11);
    int rc = 0;
    rc |= sb_gguf_set_str(w, "general.architecture", "llama");
    rc |= sb_gguf_set_u8(w, "t.u8", 250);
    rc |= sb_gguf_set_i8(w, "t.i8", -120);
    rc |= sb_gguf_set_u16(w, "t.u16", 65000);
    rc |= sb_gguf_set_i16(w, "t.i16", -32000);
    rc |= sb_gguf_set_u32(w, "t.u32", 4000000000u);
    rc |= sb_gguf_set_i32(w, "t.i32", -2000000000);
    rc |= sb_gguf_set_u64(w, "t.u64", 18000000000000000000ull);
    rc |= sb_gguf_set_i64(w, "t.i64", -9000000000000000000ll);
    rc |= sb_gguf_set_f32(w, "t.f32", 1e-5f);
    rc |= sb_gguf_set_f64(w, "t.f64", -3.141592653589793);
    rc |= sb_gguf_set_bool(w, "t.bool", 1);
    rc |= sb_gguf_set_str(w, "t.str", "h\xc3\xa9llo");
    rc |= sb_gguf_set_arr(w, "t.arr_i32", SB_GGUF_INT32, sample_i32_arr, 5);
    rc |= sb_gguf_set_arr(w, "t.arr_f64", SB_GGUF_FLOAT64, sample_f64_arr, 3);
    rc |= sb_gguf_set_arr(w, "t.arr_empty", SB_GGUF_UINT8, NULL, 0);
    rc |= sb_gguf_set_arr_str(w, "t.arr_str", sample_strs, 4);
    rc |= sb_gguf_set_u32(w, "general.alignment", 64);
    int64_t ne_a[2] = {4, 3}, ne_b[1] = {8}, ne_c[2] = {32, 2}, ne_d[1] = {256};
    rc |= sb_gguf_add_tensor(w, "a.f32", 0, 2, ne_a, sample_f32, sizeof sample_f32);
    rc |= sb_gguf_add_tensor(w, "b.f16", 1, 1, ne_b, sample_f16, sizeof sample_f16);
    rc |= sb_gguf_add_tensor(w, "c.q8_0", 8, 2, ne_c, q8, 68);
    rc |= sb_gguf_add_tensor(w, "d.q4_K", 12, 1, ne_d, q4k, 144);
    if (rc) { sb_gguf_writer_free(w); return NULL; }
    return w;
}

/* The sample file in a malloc'd buffer; 0 on success. */
static inline int sample_build(void **buf, size_t *size)
{
    uint8_t q8[68], q4k[144];
    sb_gguf_writer *w = sample_writer(q8, q4k);
    if (!w) return -1;
    int rc = sb_gguf_writer_to_memory(w, buf, size, NULL);
    sb_gguf_writer_free(w);
    return rc;
}

#endif
