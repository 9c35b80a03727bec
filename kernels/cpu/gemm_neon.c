/* F32 GEMM pieces for aarch64 NEON: an 8×12 micro-kernel (24 accumulators of 4 floats, of the 32
 * vector registers; per k step 3 B loads, 2 A loads and 24 FMAs by lane) and plain packing
 * (a strided gather the compiler keeps simple; packing is O(k·(m+n)) against the kernel's
 * O(m·n·k)). Contracts: kernels/gemm_impl.h. */
#include <arm_neon.h>
#include <string.h>

#include "kernels/gemm_impl.h"

enum { MR = 8, NR = 12 };

static inline float widen(const void *src, int64_t i, sb_type t)
{
    if (t == SB_TYPE_F32) return ((const float *)src)[i];
    uint16_t h;
    memcpy(&h, (const uint16_t *)src + i, 2);
    return t == SB_TYPE_F16 ? sb_fp16_to_fp32(h) : sb_bf16_to_fp32(h);
}

/* dst[p·R + r] = src[r·ld + p] (rows r < rows, else 0), p < kc; f32 or f16/bf16 widened. Row by
 * row, so that each source row is read sequentially. */
static inline __attribute__((always_inline)) void pack_any(float *dst, const void *src, int64_t ld, int rows,
                                                           int R, int64_t kc, sb_type t)
{
    for (int r = 0; r < R; r++) {
        if (r >= rows) {
            for (int64_t p = 0; p < kc; p++) dst[p * R + r] = 0.0f;
            continue;
        }
        for (int64_t p = 0; p < kc; p++) dst[p * R + r] = widen(src, (int64_t)r * ld + p, t);
    }
}

static void pack_f32(float *dst, const float *src, int64_t ld, int rows, int R, int64_t kc)
{
    pack_any(dst, src, ld, rows, R, kc, SB_TYPE_F32);
}

static void pack_half(float *dst, const uint16_t *src, int64_t ld, int rows, int R, int64_t kc, int bf16)
{
    if (bf16) pack_any(dst, src, ld, rows, R, kc, SB_TYPE_BF16);
    else pack_any(dst, src, ld, rows, R, kc, SB_TYPE_F16);
}

static void ukernel_8x12(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int beta)
{
    float32x4_t acc[MR][3];
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = acc[i][2] = vdupq_n_f32(0.0f);
    for (int64_t p = 0; p < kc; p++) {
        float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8);
        float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
#define ROW(i, av, lane)                                                                                \
    acc[i][0] = vfmaq_laneq_f32(acc[i][0], b0, av, lane);                                              \
    acc[i][1] = vfmaq_laneq_f32(acc[i][1], b1, av, lane);                                              \
    acc[i][2] = vfmaq_laneq_f32(acc[i][2], b2, av, lane);
        ROW(0, a0, 0) ROW(1, a0, 1) ROW(2, a0, 2) ROW(3, a0, 3)
        ROW(4, a1, 0) ROW(5, a1, 1) ROW(6, a1, 2) ROW(7, a1, 3)
#undef ROW
        a += MR;
        b += NR;
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
        float *ci = c + i * ldc;
#pragma GCC unroll 3
        for (int v = 0; v < 3; v++) {
            float32x4_t r = acc[i][v];
            if (beta) r = vaddq_f32(r, vld1q_f32(ci + 4 * v));
            vst1q_f32(ci + 4 * v, r);
        }
    }
}

const sb_gemm_kernel sb_gemm_kernel_neon = {
    .mr = MR,
    .nr = NR,
    .ukernel = ukernel_8x12,
    .pack = pack_f32,
    .pack_half = pack_half,
};
