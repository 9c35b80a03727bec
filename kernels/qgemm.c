/* The int8 prefill GEMM for quantized weights (the math and the panel layout are in
 * kernels/qgemm_impl.h; measured in the header of kernels/cpu/qgemm_avx512.c).
 *
 * Why: the row-dot kernels (kernels/cpu/matmul_avx512.c) reduce each output horizontally and
 * unpack every weight block once per 4 X rows; for prefill that caps them far below what
 * vpdpbusd can do. Here each thread unpacks a panel of QG_NP weight rows once into u8 quants
 * laid out for vpdpbusd (lane = weight row) plus f32 group scales, then runs every X row
 * against it while it sits in L2: the unpacking is paid once per panel instead of once per
 * 4 X rows, and the inner loop is loads, broadcasts and vpdpbusd.
 */
#include <stdlib.h>

#include "kernels/qgemm_impl.h"

/* ---------------------------------------------------------------- driver */

const sb_qgemm_kernel *sb_qgemm_kernel_for(sb_isa isa, sb_type t)
{
#if defined(__x86_64__)
    if (t != SB_TYPE_Q4_0 && t != SB_TYPE_Q8_0 && t != SB_TYPE_Q4_K && t != SB_TYPE_Q5_K && t != SB_TYPE_Q6_K)
        return NULL;
    if (isa == SB_ISA_AVX512 && sb_cpu_has("avx512vnni")) return &sb_qgemm_kernel_avx512;
    if (isa != SB_ISA_AVX512 && isa != SB_ISA_AVX2) return NULL;
    if (sb_cpu_has("avxvnni")) return &sb_qgemm_kernel_avx2vnni;
    return t == SB_TYPE_Q8_0 ? NULL : &sb_qgemm_kernel_avx2;
#else
    (void)isa, (void)t;
    return NULL; /* the packing and micro-kernels are x86 (kernels/cpu/qgemm_avx*.c) */
#endif
}

int sb_qgemm(const sb_qgemm_kernel *kr, float *Y, const sb_act *act, const void *W, sb_type t, int64_t m, int64_t n,
             size_t wrow_bytes, int nt)
{
    const int64_t k = act->k;
    const int is_k = t == SB_TYPE_Q4_K || t == SB_TYPE_Q5_K || t == SB_TYPE_Q6_K;
    sb_qgemm_panel proto = {NULL, t == SB_TYPE_Q6_K ? 16 : 32, t == SB_TYPE_Q4_K || t == SB_TYPE_Q5_K, 0};
    proto.group_bytes = (size_t)proto.group * QG_NP + 4 * QG_NP * (1 + (size_t)proto.has_min);
    const int G = proto.group;
    const int64_t ng = k / G;

    /* per (row, group) activation terms */
    float *gscale = malloc((size_t)(m * ng) * sizeof(float));
    int32_t *goff = proto.has_min ? NULL : malloc((size_t)(m * ng) * sizeof(int32_t));
    float *gmin = proto.has_min ? malloc((size_t)(m * ng) * sizeof(float)) : NULL;
    if (!gscale || (!goff && !gmin)) {
        free(gscale), free(goff), free(gmin);
        return SB_KERR_NOMEM;
    }
    const int32_t offset = t == SB_TYPE_Q4_0 ? 8 : t == SB_TYPE_Q8_0 ? 128 : 32;
    for (int64_t r = 0; r < m; r++)
        for (int64_t g = 0; g < ng; g++) {
            int64_t i = r * ng + g;
            if (!is_k) { /* Q8_0 activations: group = block, s = block sums */
                gscale[i] = act->d[i];
                goff[i] = -offset * act->s[i];
            } else if (G == 16) { /* Q6_K: s = 16-sums */
                gscale[i] = act->d[r * (k / SB_QK_K) + g / 16];
                goff[i] = -offset * act->s[r * (k / 16) + g];
            } else {
                float dx = act->d[r * (k / SB_QK_K) + g / 8];
                gscale[i] = dx;
                gmin[i] = dx * (float)(act->s[r * (k / 16) + 2 * g] + act->s[r * (k / 16) + 2 * g + 1]);
            }
        }
    sb_qgemm_act xa = {k, ng, act->q, gscale, goff, gmin};

    const size_t panel_bytes = (size_t)ng * proto.group_bytes;
    const size_t scratch_bytes = (size_t)QG_NP * ((size_t)k + 64);
    const int64_t n_panels = (n + QG_NP - 1) / QG_NP;
    int status = SB_KOK;
    #pragma omp parallel num_threads(nt) if (nt > 1)
    {
        uint8_t *panel = aligned_alloc(64, (panel_bytes + 63) / 64 * 64);
        uint8_t *scratch = aligned_alloc(64, (scratch_bytes + 63) / 64 * 64);
        if (!panel || !scratch) {
            #pragma omp atomic write
            status = SB_KERR_NOMEM;
        }
        sb_qgemm_panel p = proto;
        p.data = panel;
        #pragma omp for schedule(dynamic, 1)
        for (int64_t pi = 0; pi < n_panels; pi++) {
            if (!panel || !scratch) continue;
            int64_t j0 = pi * QG_NP;
            int rows = n - j0 < QG_NP ? (int)(n - j0) : QG_NP;
            kr->pack(panel, &p, t, (const uint8_t *)W + (size_t)j0 * wrow_bytes, wrow_bytes, rows, k, scratch);
            for (int64_t r0 = 0; r0 < m; r0 += QG_MR) {
                int nr = m - r0 < QG_MR ? (int)(m - r0) : QG_MR;
                kr->tile(&p, &xa, r0, nr, Y + r0 * n + j0, n, rows);
            }
        }
        free(panel);
        free(scratch);
    }
    free(gscale), free(goff), free(gmin);
    return status;
}
