/* GGUF names: status codes, metadata value types, and the ggml tensor type table.
 *
 * The tensor type table lists every type id ggml has ever written into GGUF files (ids 0..42,
 * without 4 and 5, which were removed from ggml before GGUF existed), so that any real file
 * can at least be listed. Block layouts are ggml's (ggml-common.h): elements per block and
 * bytes per block. A type being listed here says nothing about whether the kernels can compute
 * with it; the runtime decides that.
 */
#include "gguf/gguf.h"

#include <stddef.h>

static const char *const status_names[SB_GGUF_STATUS_COUNT] = {
    [SB_GGUF_OK] = "ok",
    [SB_GGUF_E_IO] = "I/O error",
    [SB_GGUF_E_TRUNCATED] = "truncated",
    [SB_GGUF_E_MAGIC] = "bad magic",
    [SB_GGUF_E_VERSION] = "version error",
    [SB_GGUF_E_COUNT] = "count error",
    [SB_GGUF_E_STRING] = "string error",
    [SB_GGUF_E_KEY] = "key error",
    [SB_GGUF_E_VALUE_TYPE] = "type error",
    [SB_GGUF_E_ARRAY] = "array error",
    [SB_GGUF_E_ALIGNMENT] = "alignment error",
    [SB_GGUF_E_NAME] = "name error",
    [SB_GGUF_E_DIMS] = "dims error",
    [SB_GGUF_E_SHAPE] = "shape error",
    [SB_GGUF_E_TENSOR_TYPE] = "tensor type error",
    [SB_GGUF_E_BOUNDS] = "bounds error",
    [SB_GGUF_E_NOMEM] = "out of memory",
    [SB_GGUF_E_NOT_FOUND] = "not found",
    [SB_GGUF_E_WRONG_TYPE] = "wrong type",
    [SB_GGUF_E_ARG] = "invalid argument",
};

const char *sb_gguf_status_name(int code)
{
    if (code < 0 || code >= SB_GGUF_STATUS_COUNT || !status_names[code]) return "unknown error";
    return status_names[code];
}

static const char *const vtype_names[SB_GGUF_VTYPE_COUNT] = {
    [SB_GGUF_UINT8] = "u8",    [SB_GGUF_INT8] = "i8",     [SB_GGUF_UINT16] = "u16",
    [SB_GGUF_INT16] = "i16",   [SB_GGUF_UINT32] = "u32",  [SB_GGUF_INT32] = "i32",
    [SB_GGUF_FLOAT32] = "f32", [SB_GGUF_BOOL] = "bool",   [SB_GGUF_STRING] = "str",
    [SB_GGUF_ARRAY] = "arr",   [SB_GGUF_UINT64] = "u64",  [SB_GGUF_INT64] = "i64",
    [SB_GGUF_FLOAT64] = "f64",
};

const char *sb_gguf_vtype_name(sb_gguf_vtype t)
{
    if ((unsigned)t >= SB_GGUF_VTYPE_COUNT) return "invalid";
    return vtype_names[t];
}

typedef struct type_info {
    const char *name;
    uint32_t block_elems;   /* elements per block                                 */
    uint32_t block_bytes;   /* bytes per block                                    */
} type_info;

/* Indexed by ggml type id. */
static const type_info types[] = {
    [0]  = {"f32", 1, 4},
    [1]  = {"f16", 1, 2},
    [2]  = {"q4_0", 32, 18},          /* f16 d + 16 B nibbles                           */
    [3]  = {"q4_1", 32, 20},          /* f16 d, m + 16 B                                */
    /* 4 (q4_2) and 5 (q4_3) were removed before GGUF existed. */
    [6]  = {"q5_0", 32, 22},          /* f16 d + 4 B high bits + 16 B                   */
    [7]  = {"q5_1", 32, 24},
    [8]  = {"q8_0", 32, 34},          /* f16 d + 32 int8                                */
    [9]  = {"q8_1", 32, 36},          /* f16 d, s + 32 int8                             */
    [10] = {"q2_K", 256, 84},
    [11] = {"q3_K", 256, 110},
    [12] = {"q4_K", 256, 144},
    [13] = {"q5_K", 256, 176},
    [14] = {"q6_K", 256, 210},
    [15] = {"q8_K", 256, 292},        /* f32 d + 256 int8 + 16 int16 sums               */
    [16] = {"iq2_xxs", 256, 66},
    [17] = {"iq2_xs", 256, 74},
    [18] = {"iq3_xxs", 256, 98},
    [19] = {"iq1_s", 256, 50},
    [20] = {"iq4_nl", 32, 18},
    [21] = {"iq3_s", 256, 110},
    [22] = {"iq2_s", 256, 82},
    [23] = {"iq4_xs", 256, 136},
    [24] = {"i8", 1, 1},
    [25] = {"i16", 1, 2},
    [26] = {"i32", 1, 4},
    [27] = {"i64", 1, 8},
    [28] = {"f64", 1, 8},
    [29] = {"iq1_m", 256, 56},
    [30] = {"bf16", 1, 2},
    [31] = {"q4_0_4x4", 32, 18},      /* 31-33, 36-38: repacked layouts ggml no longer   */
    [32] = {"q4_0_4x8", 32, 18},      /* writes, same block size as q4_0 / iq4_nl; old   */
    [33] = {"q4_0_8x8", 32, 18},      /* files with them still exist                     */
    [34] = {"tq1_0", 256, 54},
    [35] = {"tq2_0", 256, 66},
    [36] = {"iq4_nl_4x4", 32, 18},
    [37] = {"iq4_nl_4x8", 32, 18},
    [38] = {"iq4_nl_8x8", 32, 18},
    [39] = {"mxfp4", 32, 17},         /* e8m0 scale + 16 B nibbles                       */
    [40] = {"nvfp4", 64, 36},         /* 4 ue4m3 scales + 32 B nibbles                   */
    [41] = {"q1_0", 128, 18},         /* f16 d + 16 B sign bits                          */
    [42] = {"q2_0", 64, 18},          /* f16 d + 16 B of 2-bit values                    */
};

static const type_info *type_at(uint32_t t)
{
    if (t >= sizeof types / sizeof types[0] || !types[t].name) return NULL;
    return &types[t];
}

const char *sb_gguf_type_name(uint32_t ggml_type)
{
    const type_info *ti = type_at(ggml_type);
    return ti ? ti->name : NULL;
}

uint32_t sb_gguf_type_block_elems(uint32_t ggml_type)
{
    const type_info *ti = type_at(ggml_type);
    return ti ? ti->block_elems : 0;
}

uint32_t sb_gguf_type_block_bytes(uint32_t ggml_type)
{
    const type_info *ti = type_at(ggml_type);
    return ti ? ti->block_bytes : 0;
}

uint32_t sb_gguf_type_count(void)
{
    return (uint32_t)(sizeof types / sizeof types[0]);
}
