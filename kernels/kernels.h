/* slmbench kernels — the compute library (public API).
 *
 * Depends on nothing else of slmbench. Everything here works on host memory; the Vulkan back end
 * (kernels/vulkan/vk.h) offers the same operations on device buffers.
 *
 * Conventions
 * - All matrices are row-major. Sizes are int64_t element counts; byte sizes are size_t.
 * - Weights W are stored as GGUF/ggml stores them: n rows of k elements, each row a sequence of
 *   blocks of the weight format (bit-exact with ggml's block structs, so a tensor of a GGUF file
 *   is used in place). k must be a multiple of the format's block size (32 or 256), else
 *   SB_KERR_SHAPE.
 * - Every function returns SB_KOK (0) or a negative sb_kstatus; none aborts or exits.
 * - A kernel context (sb_kctx) picks the implementation (ISA level) and the thread count. The
 *   `ref` level is plain C, single-threaded, and is the oracle every optimized kernel is tested
 *   against.
 */
#ifndef SB_KERNELS_H
#define SB_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- types and formats */

/* Weight formats; the values are ggml's type ids (as stored in GGUF tensor infos). */
typedef enum sb_type {
    SB_TYPE_F32  = 0,
    SB_TYPE_F16  = 1,
    SB_TYPE_Q4_0 = 2,   /* 32 elems: f16 d, 16 bytes of nibbles; x = d * (q - 8)            */
    SB_TYPE_Q8_0 = 8,   /* 32 elems: f16 d, 32 int8;              x = d * q                 */
    SB_TYPE_Q4_K = 12,  /* 256 elems: f16 d, dmin, 12 bytes of 6-bit scales/mins, 128 bytes */
    SB_TYPE_Q5_K = 13,  /* 256 elems: as Q4_K plus 32 bytes of high bits                    */
    SB_TYPE_Q6_K = 14,  /* 256 elems: 128 low-nibble bytes, 64 high-2-bit bytes, 16 int8 scales, f16 d */
    SB_TYPE_Q8_K = 15,  /* 256 elems: f32 d, 256 int8, 16 int16 block sums (activations only) */
    SB_TYPE_BF16 = 30,
} sb_type;

typedef enum sb_kstatus {
    SB_KOK = 0,
    SB_KERR_ARG = -1,         /* NULL pointer, negative size, bad parameter                  */
    SB_KERR_SHAPE = -2,       /* k not a multiple of the block size, inconsistent shapes     */
    SB_KERR_UNSUPPORTED = -3, /* type or operation not supported by this implementation      */
    SB_KERR_NOMEM = -4,
    SB_KERR_DEVICE = -5,      /* a device back end failed (lost, out of device memory, ...)  */
} sb_kstatus;

const char *sb_kstatus_str(int status);

/* Format facts. Unknown types: name "?", sizes 0. */
const char *sb_type_name(sb_type t);           /* "f32", "q4_K", ... as ggml names them       */
int sb_type_from_name(const char *name, sb_type *out); /* case-insensitive; 0 ok, SB_KERR_ARG  */
int64_t sb_type_block_elems(sb_type t);        /* 1 for f32/f16/bf16, 32 or 256 otherwise     */
size_t sb_type_block_bytes(sb_type t);         /* bytes of one block                          */
/* Bytes of one row of k elements; SB_KERR_SHAPE when k is not a multiple of the block size. */
int sb_row_bytes(sb_type t, int64_t k, size_t *bytes);
/* Whether matmul/dequantize/quantize support this weight type (f32 f16 bf16 q8_0 q4_0 q4_K q5_K q6_K). */
int sb_type_is_weight_format(sb_type t);

/* Half-precision conversions (round to nearest even), usable anywhere. */
uint16_t sb_fp32_to_fp16(float f);
float sb_fp16_to_fp32(uint16_t h);
uint16_t sb_fp32_to_bf16(float f);
float sb_bf16_to_fp32(uint16_t h);

/* Reference quantizer / dequantizer of one row of k elements (k a multiple of the block).
 * quantize writes sb_row_bytes(t, k) bytes. Both are the plain-C oracles. */
int sb_quantize_row(sb_type t, const float *x, void *dst, int64_t k);
int sb_dequantize_row(sb_type t, const void *src, float *dst, int64_t k);

/* ---------------------------------------------------------------- implementations */

typedef enum sb_isa {
    SB_ISA_REF = 0,     /* plain C oracle, single thread                                       */
    SB_ISA_AVX2 = 1,    /* AVX2 + FMA + F16C                                                   */
    SB_ISA_AVX512 = 2,  /* AVX-512 F/BW/VL (+ VNNI, BF16 where the CPU has them)               */
    SB_ISA_NEON = 3,    /* aarch64 NEON                                                        */
    SB_ISA_COUNT
} sb_isa;

const char *sb_isa_name(sb_isa isa);                /* "ref", "avx2", "avx512", "neon"         */
int sb_isa_from_name(const char *name, sb_isa *out);
/* Whether this CPU can run the level (CPUID / HWCAP, OS support for the register state). */
int sb_isa_supported(sb_isa isa);
/* Whether this CPU has one feature beyond what a level guarantees: "avx2", "fma", "f16c",
 * "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512vnni", "avx512bf16", "avx512vbmi", "gfni",
 * "avxvnni" (x86), "neon", "dotprod" (aarch64). 1 or 0; unknown names are 0. SB_CPU_DISABLE=a,b
 * in the environment (read at the first call) hides features: the kernels then use their
 * fallbacks. */
int sb_cpu_has(const char *feature);
/* The best supported level, unless SB_ISA=ref|avx2|avx512|neon in the environment forces one
 * (a forced level the CPU lacks falls back to the best supported and says so on stderr once). */
sb_isa sb_isa_default(void);

/* Kernel context: which implementation and how many threads (OpenMP). n_threads <= 0 means
 * all online processors. The ref level ignores n_threads. */
typedef struct sb_kctx {
    sb_isa isa;
    int n_threads;
} sb_kctx;

/* ---------------------------------------------------------------- operations */

/* Y[m×n] = X[m×k] · Wᵀ, W = n rows of k elements in format wtype.
 * X is f32, quantized on the fly to the activation format the dot product needs (Q8_0 for
 * q4_0/q8_0, Q8_K for the K-quants). Y may not alias X. ldy = n, ldx = k. */
int sb_matmul(const sb_kctx *ctx, float *Y, const float *X, const void *W, sb_type wtype,
              int64_t m, int64_t n, int64_t k);

/* Several products of one X: Y_i[m×n_i] = X[m×k] · W_iᵀ for i < count (count <= SB_MATMUL_PARTS),
 * e.g. a layer's q, k and v projections. Results equal count sb_matmul calls bit for bit; in
 * decode (m <= 4) they run as one job: X is prepared once per activation format and the threads
 * share out the rows of all the weights in one parallel region, with one join instead of count.
 * No Y_i may alias X or another Y_i. Errors as sb_matmul, checked for every part before any runs. */
enum { SB_MATMUL_PARTS = 4 };
typedef struct sb_matmul_part {
    float *Y;
    const void *W;
    sb_type wtype;
    int64_t n;
} sb_matmul_part;
int sb_matmul_multi(const sb_kctx *ctx, const float *X, int64_t m, int64_t k, const sb_matmul_part *parts,
                    int count);

/* Causal scaled-dot-product attention with grouped-query heads.
 *   Q   [m][n_head][head_dim] f32: queries at positions pos .. pos+m-1
 *   K,V [n_kv][n_kv_head][head_dim] in kv_type (f32 or f16): the cache, position-major; n_kv >= pos+m
 *   out [m][n_head][head_dim] f32
 * Query i (position pos+i) attends to keys 0 .. pos+i. Head h uses KV head h / (n_head/n_kv_head).
 * Scores are scaled by `scale` (usually 1/sqrt(head_dim)); softmax is max-subtracted. */
typedef struct sb_attn_params {
    int64_t m, pos, n_kv;
    int n_head, n_kv_head, head_dim;
    float scale;
    sb_type kv_type;
} sb_attn_params;
int sb_attention(const sb_kctx *ctx, float *out, const float *Q, const void *K, const void *V,
                 const sb_attn_params *p);

/* y[r][:] = x[r][:] / sqrt(mean(x[r]^2) + eps) * w[:], rows × n. y may alias x. */
int sb_rmsnorm(const sb_kctx *ctx, float *y, const float *x, const float *w, int64_t rows,
               int64_t n, float eps);

/* Rotary position embedding, in place, on x[m][n_heads][head_dim] for positions pos0 .. pos0+m-1.
 * Only the first n_rot dims of each head rotate. theta_i = pos * freq_scale * base^(-2i/n_rot)
 * / freq_factors[i] (freq_factors may be NULL; Llama-3 rope scaling supplies them).
 * NORMAL pairs (2i, 2i+1) as llama/ggml mode 0; NEOX pairs (i, i + n_rot/2) as qwen2/neox. */
typedef enum sb_rope_mode { SB_ROPE_NORMAL = 0, SB_ROPE_NEOX = 2 } sb_rope_mode;
typedef struct sb_rope_params {
    sb_rope_mode mode;
    int n_rot;
    float freq_base;
    float freq_scale;
    const float *freq_factors; /* n_rot/2 entries or NULL */
} sb_rope_params;
int sb_rope(const sb_kctx *ctx, float *x, int64_t m, int n_heads, int head_dim, int64_t pos0,
            const sb_rope_params *p);

/* Softmax of each row of x[rows][n], in place, numerically safe (max subtracted). */
int sb_softmax(const sb_kctx *ctx, float *x, int64_t rows, int64_t n);
/* y = silu(gate) * up, n elements (SwiGLU). y may alias gate or up. */
int sb_silu_mul(const sb_kctx *ctx, float *y, const float *gate, const float *up, int64_t n);
/* y = a + b and y = a * b, n elements; y may alias a or b. */
int sb_add(const sb_kctx *ctx, float *y, const float *a, const float *b, int64_t n);
int sb_mul(const sb_kctx *ctx, float *y, const float *a, const float *b, int64_t n);
/* Embedding gather: y[i][:] = dequantize(table row ids[i]), table = n_rows rows of n_cols
 * elements in format t. An id outside [0, n_rows) is SB_KERR_ARG (nothing read out of bounds). */
int sb_get_rows(const sb_kctx *ctx, float *y, const void *table, sb_type t, int64_t n_rows,
                int64_t n_cols, const int32_t *ids, int64_t n_ids);

#ifdef __cplusplus
}
#endif
#endif
