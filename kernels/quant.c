/* Reference quantizers and dequantizers of one row, for every weight format (and Q8_K, the
 * activation format of the K-quant dot products).
 *
 * Dequantizers follow ggml's meaning exactly, including the order of the float operations
 * (e.g. Q4_K: (d*sc)*q - dmin*mn), because real model files are read with them. Quantizers are
 * simple and deterministic (amax / min-max scale searches, no importance weighting): they are
 * used to make test data and to quantize activations, not to make model files of ggml quality.
 */
#include <math.h>
#include <string.h>

#include "kernels/matmul_impl.h"

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* nearest integer, ties to even (the default rounding mode) */
static int nearest(float v)
{
    return (int)lrintf(v);
}

/* ---------------------------------------------------------------- Q8_0 / Q8_K */

/* Both round to nearest even (ggml's Q8_0 rounds halves away from zero; the two differ only at
 * exact ties) so that vector code (vcvtps2dq) reproduces them bit for bit. */

uint16_t sb_quantize_block_q8_0(const float *x, int8_t *q)
{
    float amax = 0;
    for (int i = 0; i < SB_QK8_0; i++) amax = fmaxf(amax, fabsf(x[i]));
    float d = amax / 127.0f;
    float id = d != 0 ? 1.0f / d : 0.0f;
    for (int i = 0; i < SB_QK8_0; i++) q[i] = (int8_t)clampi(nearest(x[i] * id), -127, 127);
    return sb_fp32_to_fp16(d);
}

float sb_quantize_block_q8_K(const float *x, int8_t *q, int16_t *bsums)
{
    float amax = 0;
    for (int i = 0; i < SB_QK_K; i++) amax = fmaxf(amax, fabsf(x[i]));
    float d = amax / 127.0f;
    float id = d != 0 ? 1.0f / d : 0.0f;
    for (int i = 0; i < SB_QK_K; i++) q[i] = (int8_t)clampi(nearest(x[i] * id), -127, 127);
    for (int j = 0; j < SB_QK_K / 16; j++) {
        int s = 0;
        for (int i = 0; i < 16; i++) s += q[16 * j + i];
        bsums[j] = (int16_t)s;
    }
    return d;
}

static void quantize_q8_0(const float *x, sb_block_q8_0 *y, int64_t nb)
{
    for (int64_t b = 0; b < nb; b++) y[b].d = sb_quantize_block_q8_0(x + b * SB_QK8_0, y[b].qs);
}

static void dequantize_q8_0(const sb_block_q8_0 *x, float *y, int64_t nb)
{
    for (int64_t b = 0; b < nb; b++) {
        float d = sb_fp16_to_fp32(x[b].d);
        for (int i = 0; i < SB_QK8_0; i++) y[b * SB_QK8_0 + i] = x[b].qs[i] * d;
    }
}

static void quantize_q8_K(const float *x, sb_block_q8_K *y, int64_t nb)
{
    for (int64_t b = 0; b < nb; b++) y[b].d = sb_quantize_block_q8_K(x + b * SB_QK_K, y[b].qs, y[b].bsums);
}

static void dequantize_q8_K(const sb_block_q8_K *x, float *y, int64_t nb)
{
    for (int64_t b = 0; b < nb; b++)
        for (int i = 0; i < SB_QK_K; i++) y[b * SB_QK_K + i] = x[b].d * x[b].qs[i];
}

/* ---------------------------------------------------------------- Q4_0 */

/* The scale maps the element of largest magnitude to quant 0 (value -8*d), so the sign of d
 * follows that element and the full range -8..7 is used. */
static void quantize_q4_0(const float *x, sb_block_q4_0 *y, int64_t nb)
{
    for (int64_t b = 0; b < nb; b++) {
        const float *xb = x + b * SB_QK4_0;
        float amax = 0, max = 0;
        for (int i = 0; i < SB_QK4_0; i++)
            if (fabsf(xb[i]) > amax) { amax = fabsf(xb[i]); max = xb[i]; }
        float d = max / -8.0f;
        float id = d != 0 ? 1.0f / d : 0.0f;
        y[b].d = sb_fp32_to_fp16(d);
        for (int j = 0; j < SB_QK4_0 / 2; j++) {
            int q0 = clampi((int)floorf(xb[j] * id + 8.5f), 0, 15);
            int q1 = clampi((int)floorf(xb[j + 16] * id + 8.5f), 0, 15);
            y[b].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

static void dequantize_q4_0(const sb_block_q4_0 *x, float *y, int64_t nb)
{
    for (int64_t b = 0; b < nb; b++) {
        float d = sb_fp16_to_fp32(x[b].d);
        for (int j = 0; j < SB_QK4_0 / 2; j++) {
            y[b * SB_QK4_0 + j] = ((x[b].qs[j] & 15) - 8) * d;
            y[b * SB_QK4_0 + j + 16] = ((x[b].qs[j] >> 4) - 8) * d;
        }
    }
}

/* ---------------------------------------------------------------- Q4_K / Q5_K */

/* Pack 8 six-bit scales and mins into the 12 bytes sb_q4k_scale_min reads. */
static void pack_scale_min(uint8_t scales[12], const int sc[8], const int mn[8])
{
    memset(scales, 0, 12);
    for (int j = 0; j < 4; j++) {
        scales[j] = (uint8_t)(sc[j] & 63);
        scales[j + 4] = (uint8_t)(mn[j] & 63);
    }
    for (int j = 4; j < 8; j++) {
        scales[j + 4] = (uint8_t)((sc[j] & 15) | ((mn[j] & 15) << 4));
        scales[j - 4] |= (uint8_t)((sc[j] >> 4) << 6);
        scales[j] |= (uint8_t)((mn[j] >> 4) << 6);
    }
}

/* One 256-element super-block of an asymmetric K-quant with quants 0..qmax:
 * x ≈ d*sc[j]*q - dmin*mn[j] per sub-block j of 32. Sub-block scale = (max - min)/qmax with the
 * min clamped to ≤ 0 (the format stores -min as a non-negative mn). Writes d, dmin, scales and
 * the quants q[256]. */
static void quantize_k_superblock(const float *x, int qmax, uint16_t *d_out, uint16_t *dmin_out,
                                  uint8_t scales[12], uint8_t q[SB_QK_K])
{
    float sub_scale[8], sub_min[8], max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; j++) {
        float lo = 0, hi = -INFINITY;
        for (int i = 0; i < 32; i++) {
            lo = fminf(lo, x[32 * j + i]);
            hi = fmaxf(hi, x[32 * j + i]);
        }
        sub_min[j] = -lo;
        sub_scale[j] = hi > lo ? (hi - lo) / (float)qmax : 0.0f;
        max_scale = fmaxf(max_scale, sub_scale[j]);
        max_min = fmaxf(max_min, sub_min[j]);
    }
    *d_out = sb_fp32_to_fp16(max_scale / 63.0f);
    *dmin_out = sb_fp32_to_fp16(max_min / 63.0f);
    float d = sb_fp16_to_fp32(*d_out), dmin = sb_fp16_to_fp32(*dmin_out);
    int sc[8], mn[8];
    for (int j = 0; j < 8; j++) {
        sc[j] = d > 0 ? clampi(nearest(sub_scale[j] / d), 0, 63) : 0;
        /* round the min up so that the smallest element stays reachable with q >= 0 */
        mn[j] = dmin > 0 ? clampi((int)ceilf(sub_min[j] / dmin), 0, 63) : 0;
    }
    pack_scale_min(scales, sc, mn);
    for (int j = 0; j < 8; j++) {
        float ds = d * (float)sc[j], m = dmin * (float)mn[j];
        for (int i = 0; i < 32; i++)
            q[32 * j + i] = (uint8_t)(ds > 0 ? clampi(nearest((x[32 * j + i] + m) / ds), 0, qmax) : 0);
    }
}

static void quantize_q4_K(const float *x, sb_block_q4_K *y, int64_t nb)
{
    uint8_t q[SB_QK_K];
    for (int64_t b = 0; b < nb; b++) {
        quantize_k_superblock(x + b * SB_QK_K, 15, &y[b].d, &y[b].dmin, y[b].scales, q);
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++)
                y[b].qs[32 * c + l] = (uint8_t)(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
    }
}

static void dequantize_q4_K(const sb_block_q4_K *x, float *y, int64_t nb)
{
    for (int64_t b = 0; b < nb; b++) {
        float d = sb_fp16_to_fp32(x[b].d), dmin = sb_fp16_to_fp32(x[b].dmin);
        const uint8_t *qs = x[b].qs;
        float *yb = y + b * SB_QK_K;
        for (int c = 0; c < 4; c++) {
            int sc0, mn0, sc1, mn1;
            sb_q4k_scale_min(2 * c, x[b].scales, &sc0, &mn0);
            sb_q4k_scale_min(2 * c + 1, x[b].scales, &sc1, &mn1);
            float d0 = d * sc0, m0 = dmin * mn0, d1 = d * sc1, m1 = dmin * mn1;
            for (int l = 0; l < 32; l++) {
                yb[64 * c + l] = d0 * (qs[32 * c + l] & 15) - m0;
                yb[64 * c + 32 + l] = d1 * (qs[32 * c + l] >> 4) - m1;
            }
        }
    }
}

static void quantize_q5_K(const float *x, sb_block_q5_K *y, int64_t nb)
{
    uint8_t q[SB_QK_K];
    for (int64_t b = 0; b < nb; b++) {
        quantize_k_superblock(x + b * SB_QK_K, 31, &y[b].d, &y[b].dmin, y[b].scales, q);
        memset(y[b].qh, 0, sizeof y[b].qh);
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) {
                int lo = q[64 * c + l], hi = q[64 * c + 32 + l];
                y[b].qs[32 * c + l] = (uint8_t)((lo & 15) | ((hi & 15) << 4));
                y[b].qh[l] |= (uint8_t)(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
            }
    }
}

static void dequantize_q5_K(const sb_block_q5_K *x, float *y, int64_t nb)
{
    for (int64_t b = 0; b < nb; b++) {
        float d = sb_fp16_to_fp32(x[b].d), dmin = sb_fp16_to_fp32(x[b].dmin);
        const uint8_t *qs = x[b].qs, *qh = x[b].qh;
        float *yb = y + b * SB_QK_K;
        for (int c = 0; c < 4; c++) {
            int sc0, mn0, sc1, mn1;
            sb_q4k_scale_min(2 * c, x[b].scales, &sc0, &mn0);
            sb_q4k_scale_min(2 * c + 1, x[b].scales, &sc1, &mn1);
            float d0 = d * sc0, m0 = dmin * mn0, d1 = d * sc1, m1 = dmin * mn1;
            for (int l = 0; l < 32; l++) {
                int q0 = (qs[32 * c + l] & 15) + (((qh[l] >> (2 * c)) & 1) << 4);
                int q1 = (qs[32 * c + l] >> 4) + (((qh[l] >> (2 * c + 1)) & 1) << 4);
                yb[64 * c + l] = d0 * q0 - m0;
                yb[64 * c + 32 + l] = d1 * q1 - m1;
            }
        }
    }
}

/* ---------------------------------------------------------------- Q6_K */

/* Symmetric: per sub-block of 16 a scale amax/31 (quants -32..31 around 32), the scales stored
 * as int8 relative to the super-block d = max scale / 127. */
static void quantize_q6_K(const float *x, sb_block_q6_K *y, int64_t nb)
{
    for (int64_t b = 0; b < nb; b++) {
        const float *xb = x + b * SB_QK_K;
        float sub_scale[16], max_scale = 0;
        for (int s = 0; s < 16; s++) {
            float amax = 0;
            for (int i = 0; i < 16; i++) amax = fmaxf(amax, fabsf(xb[16 * s + i]));
            sub_scale[s] = amax / 31.0f;
            max_scale = fmaxf(max_scale, sub_scale[s]);
        }
        y[b].d = sb_fp32_to_fp16(max_scale / 127.0f);
        float d = sb_fp16_to_fp32(y[b].d);
        uint8_t q[SB_QK_K];
        for (int s = 0; s < 16; s++) {
            int sc = d > 0 ? clampi(nearest(sub_scale[s] / d), -127, 127) : 0;
            y[b].scales[s] = (int8_t)sc;
            float ds = d * (float)sc;
            for (int i = 0; i < 16; i++)
                q[16 * s + i] = (uint8_t)(ds != 0 ? clampi(nearest(xb[16 * s + i] / ds), -32, 31) + 32 : 32);
        }
        memset(y[b].qh, 0, sizeof y[b].qh);
        for (int h = 0; h < 2; h++) {
            uint8_t *ql = y[b].ql + 64 * h, *qh = y[b].qh + 32 * h;
            const uint8_t *qq = q + 128 * h;
            for (int l = 0; l < 32; l++) {
                ql[l] = (uint8_t)((qq[l] & 15) | ((qq[l + 64] & 15) << 4));
                ql[l + 32] = (uint8_t)((qq[l + 32] & 15) | ((qq[l + 96] & 15) << 4));
                qh[l] = (uint8_t)((qq[l] >> 4) | ((qq[l + 32] >> 4) << 2) | ((qq[l + 64] >> 4) << 4) |
                                  ((qq[l + 96] >> 4) << 6));
            }
        }
    }
}

static void dequantize_q6_K(const sb_block_q6_K *x, float *y, int64_t nb)
{
    for (int64_t b = 0; b < nb; b++) {
        float d = sb_fp16_to_fp32(x[b].d);
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = x[b].ql + 64 * h, *qh = x[b].qh + 32 * h;
            const int8_t *sc = x[b].scales + 8 * h;
            float *yb = y + b * SB_QK_K + 128 * h;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int q1 = ((ql[l] & 15) | (((qh[l] >> 0) & 3) << 4)) - 32;
                int q2 = ((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32;
                int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                yb[l] = d * sc[is + 0] * q1;
                yb[l + 32] = d * sc[is + 2] * q2;
                yb[l + 64] = d * sc[is + 4] * q3;
                yb[l + 96] = d * sc[is + 6] * q4;
            }
        }
    }
}

/* ---------------------------------------------------------------- public entry points */

/* Quantize one row of k elements of x into dst (sb_row_bytes(t, k) bytes). Returns SB_KOK,
 * SB_KERR_ARG (NULL, k < 0, type without a quantizer) or SB_KERR_SHAPE (k not a multiple of
 * the block). Q8_K is accepted too (activation format). */
int sb_quantize_row(sb_type t, const float *x, void *dst, int64_t k)
{
    size_t bytes;
    if (!x || !dst || k < 0) return SB_KERR_ARG;
    if (!sb_type_is_weight_format(t) && t != SB_TYPE_Q8_K) return SB_KERR_ARG;
    int st = sb_row_bytes(t, k, &bytes);
    if (st != SB_KOK) return st;
    int64_t nb = k / sb_type_block_elems(t);
    switch (t) {
    case SB_TYPE_F32: memcpy(dst, x, bytes); break;
    case SB_TYPE_F16:
        for (int64_t i = 0; i < k; i++) ((uint16_t *)dst)[i] = sb_fp32_to_fp16(x[i]);
        break;
    case SB_TYPE_BF16:
        for (int64_t i = 0; i < k; i++) ((uint16_t *)dst)[i] = sb_fp32_to_bf16(x[i]);
        break;
    case SB_TYPE_Q8_0: quantize_q8_0(x, dst, nb); break;
    case SB_TYPE_Q4_0: quantize_q4_0(x, dst, nb); break;
    case SB_TYPE_Q4_K: quantize_q4_K(x, dst, nb); break;
    case SB_TYPE_Q5_K: quantize_q5_K(x, dst, nb); break;
    case SB_TYPE_Q6_K: quantize_q6_K(x, dst, nb); break;
    case SB_TYPE_Q8_K: quantize_q8_K(x, dst, nb); break;
    default: return SB_KERR_ARG;
    }
    return SB_KOK;
}

/* Dequantize one row of k elements of src (sb_row_bytes(t, k) bytes) into dst, exactly as ggml
 * decodes it. Same status codes as sb_quantize_row. */
int sb_dequantize_row(sb_type t, const void *src, float *dst, int64_t k)
{
    size_t bytes;
    if (!src || !dst || k < 0) return SB_KERR_ARG;
    if (!sb_type_is_weight_format(t) && t != SB_TYPE_Q8_K) return SB_KERR_ARG;
    int st = sb_row_bytes(t, k, &bytes);
    if (st != SB_KOK) return st;
    int64_t nb = k / sb_type_block_elems(t);
    switch (t) {
    case SB_TYPE_F32: memcpy(dst, src, bytes); break;
    case SB_TYPE_F16:
        for (int64_t i = 0; i < k; i++) dst[i] = sb_fp16_to_fp32(((const uint16_t *)src)[i]);
        break;
    case SB_TYPE_BF16:
        for (int64_t i = 0; i < k; i++) dst[i] = sb_bf16_to_fp32(((const uint16_t *)src)[i]);
        break;
    case SB_TYPE_Q8_0: dequantize_q8_0(src, dst, nb); break;
    case SB_TYPE_Q4_0: dequantize_q4_0(src, dst, nb); break;
    case SB_TYPE_Q4_K: dequantize_q4_K(src, dst, nb); break;
    case SB_TYPE_Q5_K: dequantize_q5_K(src, dst, nb); break;
    case SB_TYPE_Q6_K: dequantize_q6_K(src, dst, nb); break;
    case SB_TYPE_Q8_K: dequantize_q8_K(src, dst, nb); break;
    default: return SB_KERR_ARG;
    }
    return SB_KOK;
}
