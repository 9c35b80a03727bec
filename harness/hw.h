/* slmbench hardware probe: topology (hwloc), ISA (CPUID/HWCAP), memory, OS and build, Vulkan
 * devices, PAPI, and the measured ceilings (FMA peak, memory bandwidth) that every "% of peak"
 * in the suite divides by. */
#ifndef SB_HW_H
#define SB_HW_H

#include <stdint.h>
#include <cjson/cJSON.h>

typedef struct sb_ceilings {
    double fma_gflops_1t;       /* FP32 FMA peak, one thread, GFLOP/s                         */
    double fma_gflops_all;      /* all cores                                                  */
    double read_gbs;            /* memory read bandwidth, all cores, GB/s (1e9 bytes)          */
    double read_gbs_1t;
    double triad_gbs;           /* STREAM triad, bytes read + written, all cores              */
    double int8_gops_1t;        /* int8 dot products (vpdpbusd), one thread, 2 ops per multiply-add,
                                   GOP/s; 0 where the CPU has no AVX-512 VNNI (not measured)     */
    double int8_gops_all;
    int threads;                /* threads used for the _all figures                          */
    const char *isa;            /* ISA level the FMA loop used                                */
} sb_ceilings;

/* Measures the ceilings in a few seconds (n_threads <= 0: all cores). 0 on success. */
int sb_hw_measure_ceilings(int n_threads, sb_ceilings *out);
/* The FP32 FMA peak alone (the loop sb_hw_measure_ceilings uses), GFLOP/s over `threads`
 * threads, 512-bit (avx512) or 256-bit vectors; cpu_time with one thread: per second of that
 * thread's CPU time, for figures taken on a shared machine. The caller checks the ISA. */
double sb_hw_fma_peak_gflops(int threads, int avx512, int cpu_time);
/* The whole probe as a JSON object (the results' "machine" section). measure=0 skips the
 * ceilings (--quick). Never fails: what cannot be probed is marked as such. */
cJSON *sb_hw_probe_json(int measure, int n_threads);
/* Human-readable summary of a probe JSON object to f. */
void sb_hw_print_summary(const cJSON *machine, void *file);

#endif
