/* ISA levels: names, CPU support (CPUID through the compiler's cpu-feature builtins, which also
 * check that the OS saves the vector registers), and the default level for this process. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

#include "kernels/internal.h"

static const char *const isa_names[SB_ISA_COUNT] = {"ref", "avx2", "avx512", "neon"};

const char *sb_isa_name(sb_isa isa)
{
    return (unsigned)isa < SB_ISA_COUNT ? isa_names[isa] : "?";
}

int sb_isa_from_name(const char *name, sb_isa *out)
{
    if (!name || !out) return SB_KERR_ARG;
    for (int i = 0; i < SB_ISA_COUNT; i++)
        if (!strcasecmp(name, isa_names[i])) { *out = (sb_isa)i; return SB_KOK; }
    return SB_KERR_ARG;
}

int sb_isa_supported(sb_isa isa)
{
    switch (isa) {
    case SB_ISA_REF: return 1;
#if defined(__x86_64__) || defined(__i386__)
    case SB_ISA_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
               __builtin_cpu_supports("f16c");
    case SB_ISA_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#endif
#if defined(__aarch64__)
    case SB_ISA_NEON: return 1;
#endif
    default: return 0;
    }
}

/* SB_CPU_DISABLE (comma-separated feature names), read once: sb_cpu_has runs on every matmul,
 * so the environment is not searched each time. Tests that change it call
 * sb_cpu_features_reload. */
static char disabled_list[256];
static pthread_once_t disabled_once = PTHREAD_ONCE_INIT;

static int features_generation;

void sb_cpu_features_reload(void)
{
    const char *e = getenv("SB_CPU_DISABLE");
    snprintf(disabled_list, sizeof disabled_list, "%s", e ? e : "");
    __atomic_add_fetch(&features_generation, 1, __ATOMIC_RELEASE);
}

int sb_cpu_features_generation(void)
{
    return __atomic_load_n(&features_generation, __ATOMIC_ACQUIRE);
}

static int disabled(const char *feature)
{
    pthread_once(&disabled_once, sb_cpu_features_reload);
    size_t n = strlen(feature);
    for (const char *p = disabled_list; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ','))
        if (strcspn(p, ",") == n && !strncmp(p, feature, n)) return 1;
    return 0;
}

/* CPU features by name, for code that needs more than a level guarantees (AVX-512 VNNI / BF16
 * inside the avx512 level, F16C, ...). __builtin_cpu_supports takes only string literals, hence
 * one comparison per name. */
int sb_cpu_has(const char *feature)
{
    if (!feature || disabled(feature)) return 0;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (!strcmp(feature, "avx2")) return !!__builtin_cpu_supports("avx2");
    if (!strcmp(feature, "fma")) return !!__builtin_cpu_supports("fma");
    if (!strcmp(feature, "f16c")) return !!__builtin_cpu_supports("f16c");
    if (!strcmp(feature, "avx512f")) return !!__builtin_cpu_supports("avx512f");
    if (!strcmp(feature, "avx512bw")) return !!__builtin_cpu_supports("avx512bw");
    if (!strcmp(feature, "avx512vl")) return !!__builtin_cpu_supports("avx512vl");
    if (!strcmp(feature, "avx512dq")) return !!__builtin_cpu_supports("avx512dq");
    if (!strcmp(feature, "avx512vnni")) return !!__builtin_cpu_supports("avx512vnni");
    if (!strcmp(feature, "avx512bf16")) return !!__builtin_cpu_supports("avx512bf16");
    if (!strcmp(feature, "avxvnni")) return !!__builtin_cpu_supports("avxvnni");
    if (!strcmp(feature, "avx512vbmi")) return !!__builtin_cpu_supports("avx512vbmi");
    if (!strcmp(feature, "gfni")) return !!__builtin_cpu_supports("gfni");
#endif
#if defined(__aarch64__)
    if (!strcmp(feature, "neon")) return 1;
    if (!strcmp(feature, "dotprod")) return !!(getauxval(AT_HWCAP) & HWCAP_ASIMDDP);
#endif
    return 0;
}

static sb_isa best_supported(void)
{
    if (sb_isa_supported(SB_ISA_AVX512)) return SB_ISA_AVX512;
    if (sb_isa_supported(SB_ISA_AVX2)) return SB_ISA_AVX2;
    if (sb_isa_supported(SB_ISA_NEON)) return SB_ISA_NEON;
    return SB_ISA_REF;
}

sb_isa sb_isa_default(void)
{
    static int cached = -1;
    if (cached >= 0) return (sb_isa)cached;
    sb_isa isa = best_supported();
    const char *forced = getenv("SB_ISA");
    if (forced && *forced) {
        sb_isa want;
        if (sb_isa_from_name(forced, &want) != SB_KOK)
            fprintf(stderr, "slmbench: SB_ISA=%s is not one of ref, avx2, avx512, neon; using %s\n", forced, sb_isa_name(isa));
        else if (!sb_isa_supported(want))
            fprintf(stderr, "slmbench: SB_ISA=%s is not supported by this CPU; using %s\n", forced, sb_isa_name(isa));
        else
            isa = want;
    }
    cached = (int)isa;
    return isa;
}

int sb_kctx_threads(const sb_kctx *ctx)
{
    if (!ctx || ctx->isa == SB_ISA_REF) return 1;
    if (ctx->n_threads > 0) return ctx->n_threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
