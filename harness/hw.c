/* slmbench hardware probe. See harness/hw.h.
 *
 * Sections: CPU identity and ISA (CPUID / HWCAP), topology and caches (hwloc), memory, OS and
 * build, Vulkan devices (the loader), PAPI (components, which counters really count), and the
 * measured ceilings (FMA peak, read and triad bandwidth). Whatever cannot be probed is marked
 * in the JSON with a reason; nothing here fails the probe. The probe sits on top of the measuring
 * core: it asks the kernels which ISA level and Vulkan devices they would use. */
#include "harness/hw.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <hwloc.h>
#include <papi.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__aarch64__)
#include <sys/auxv.h>
#endif

#include "harness/ceilings.h"
#include "harness/measure.h"
#include "harness/version.h"
#include "kernels/kernels.h"
#include "kernels/vulkan/vk.h"

#ifndef SB_GIT_DESCRIBE
#define SB_GIT_DESCRIBE "unknown"
#endif
#ifndef SB_BUILD_CFLAGS
#define SB_BUILD_CFLAGS ""
#endif

/* ------------------------------------------------------------------ ISA */

static void probe_isa(cJSON *cpu)
{
    cJSON *isa = cJSON_AddObjectToObject(cpu, "isa");
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    unsigned c1 = 0, b7 = 0, c7 = 0, d7 = 0, a71 = 0;
    char vendor[13] = {0};
    if (__get_cpuid(0, &a, &b, &c, &d)) {
        memcpy(vendor, &b, 4); memcpy(vendor + 4, &d, 4); memcpy(vendor + 8, &c, 4);
    }
    if (__get_cpuid(1, &a, &b, &c, &d)) c1 = c;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) { b7 = b; c7 = c; d7 = d; }
    if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) a71 = a;
    /* The OS must save the wider registers (XCR0), or the instructions fault. */
    unsigned long long xcr0 = 0;
    if (c1 & (1u << 27)) { unsigned lo, hi; __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0)); xcr0 = ((unsigned long long)hi << 32) | lo; }
    int os_avx = (xcr0 & 6) == 6, os_avx512 = os_avx && (xcr0 & 0xE0) == 0xE0;
    int os_amx = (xcr0 & (3ull << 17)) == (3ull << 17);
    cJSON_AddStringToObject(cpu, "vendor", vendor);
    cJSON_AddBoolToObject(isa, "sse4_2", (c1 >> 20) & 1);
    cJSON_AddBoolToObject(isa, "avx", os_avx && ((c1 >> 28) & 1));
    cJSON_AddBoolToObject(isa, "avx2", os_avx && ((b7 >> 5) & 1));
    cJSON_AddBoolToObject(isa, "fma", os_avx && ((c1 >> 12) & 1));
    cJSON_AddBoolToObject(isa, "f16c", os_avx && ((c1 >> 29) & 1));
    cJSON_AddBoolToObject(isa, "avx512f", os_avx512 && ((b7 >> 16) & 1));
    cJSON_AddBoolToObject(isa, "avx512bw", os_avx512 && ((b7 >> 30) & 1));
    cJSON_AddBoolToObject(isa, "avx512vl", os_avx512 && ((b7 >> 31) & 1));
    cJSON_AddBoolToObject(isa, "avx512_vnni", os_avx512 && ((c7 >> 11) & 1));
    cJSON_AddBoolToObject(isa, "avx512_bf16", os_avx512 && ((a71 >> 5) & 1));
    cJSON_AddBoolToObject(isa, "amx", os_amx && ((d7 >> 24) & 1));
#elif defined(__aarch64__)
    unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
    cJSON_AddBoolToObject(isa, "neon", (hw >> 1) & 1);   /* HWCAP_ASIMD */
    cJSON_AddBoolToObject(isa, "dotprod", (hw >> 20) & 1); /* HWCAP_ASIMDDP */
    cJSON_AddBoolToObject(isa, "sve", (hw >> 22) & 1);   /* HWCAP_SVE */
    cJSON_AddBoolToObject(isa, "i8mm", (hw2 >> 13) & 1); /* HWCAP2_I8MM */
#endif
    cJSON_AddStringToObject(cpu, "isa_level", sb_isa_name(sb_isa_default()));
}

/* ------------------------------------------------------------------ topology (hwloc) */

static const char *cache_type_name(hwloc_obj_cache_type_t t)
{
    switch (t) {
    case HWLOC_OBJ_CACHE_DATA: return "data";
    case HWLOC_OBJ_CACHE_INSTRUCTION: return "instruction";
    default: return "unified";
    }
}

static void probe_topology(cJSON *m, cJSON *cpu, char *model_out, size_t model_len)
{
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) != 0 || hwloc_topology_load(topo) != 0) {
        cJSON_AddStringToObject(m, "topology_error", "hwloc could not load the topology");
        return;
    }
    cJSON_AddNumberToObject(cpu, "packages", hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE));
    cJSON_AddNumberToObject(cpu, "cores", hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE));
    cJSON_AddNumberToObject(cpu, "pus", hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU));
    hwloc_obj_t pkg = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PACKAGE, 0);
    const char *model = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUModel") : NULL;
    if (!model) model = hwloc_obj_get_info_by_name(hwloc_get_root_obj(topo), "CPUModel");
    snprintf(model_out, model_len, "%s", model ? model : "unknown");
    cJSON_AddStringToObject(cpu, "model", model_out);

    int nkinds = hwloc_cpukinds_get_nr(topo, 0);
    if (nkinds > 1) {
        cJSON *kinds = cJSON_AddArrayToObject(cpu, "core_kinds");
        for (int k = 0; k < nkinds; k++) {
            hwloc_bitmap_t set = hwloc_bitmap_alloc();
            int eff = -1;
            unsigned nr = 0;
            struct hwloc_info_s *infos = NULL;
            if (hwloc_cpukinds_get_info(topo, (unsigned)k, set, &eff, &nr, &infos, 0) == 0) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddNumberToObject(o, "efficiency", eff);
                cJSON_AddNumberToObject(o, "pus", hwloc_bitmap_weight(set));
                for (unsigned i = 0; i < nr; i++)
                    if (!strcmp(infos[i].name, "CoreType")) cJSON_AddStringToObject(o, "type", infos[i].value);
                cJSON_AddItemToArray(kinds, o);
            }
            hwloc_bitmap_free(set);
        }
    }

    /* Caches: one entry per (level, type), with how many there are and how many PUs share one. */
    cJSON *caches = cJSON_AddArrayToObject(m, "caches");
    for (int depth = 0; depth < hwloc_topology_get_depth(topo); depth++) {
        hwloc_obj_t o = hwloc_get_obj_by_depth(topo, depth, 0);
        if (!o || !hwloc_obj_type_is_cache(o->type) || !o->attr) continue;
        cJSON *c = cJSON_CreateObject();
        cJSON_AddNumberToObject(c, "level", o->attr->cache.depth);
        cJSON_AddStringToObject(c, "type", cache_type_name(o->attr->cache.type));
        cJSON_AddNumberToObject(c, "size_bytes", (double)o->attr->cache.size);
        cJSON_AddNumberToObject(c, "line_bytes", o->attr->cache.linesize);
        cJSON_AddNumberToObject(c, "shared_by_pus", o->cpuset ? hwloc_bitmap_weight(o->cpuset) : 1);
        cJSON_AddNumberToObject(c, "count", hwloc_get_nbobjs_by_depth(topo, (unsigned)depth));
        cJSON_AddItemToArray(caches, c);
    }

    cJSON *numa = cJSON_AddArrayToObject(m, "numa");
    int nn = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
    for (int i = 0; i < nn; i++) {
        hwloc_obj_t o = hwloc_get_obj_by_type(topo, HWLOC_OBJ_NUMANODE, (unsigned)i);
        cJSON *n = cJSON_CreateObject();
        cJSON_AddNumberToObject(n, "node", o->os_index);
        cJSON_AddNumberToObject(n, "memory_bytes", (double)(o->attr ? o->attr->numanode.local_memory : 0));
        cJSON_AddItemToArray(numa, n);
    }
    hwloc_topology_destroy(topo);
}

/* ------------------------------------------------------------------ Vulkan */

/* The same device list the Vulkan back end selects from (kernels/vulkan). */
static void probe_vulkan(cJSON *m)
{
    cJSON *vk = cJSON_AddObjectToObject(m, "vulkan");
    enum { CAP = 16 };
    sb_vk_device_info *devs = calloc(CAP, sizeof *devs);
    char reason[256] = "";
    int n = 0;
    if (!devs || sb_vk_list_devices(devs, CAP, &n, reason, sizeof reason) != SB_KOK || n == 0) {
        cJSON_AddBoolToObject(vk, "available", 0);
        cJSON_AddStringToObject(vk, "reason", devs ? (reason[0] ? reason : "no Vulkan device") : "out of memory");
        free(devs);
        return;
    }
    cJSON_AddBoolToObject(vk, "available", 1);
    cJSON *list = cJSON_AddArrayToObject(vk, "devices");
    for (int i = 0; i < n && i < CAP; i++) {
        const sb_vk_device_info *d = &devs[i];
        cJSON *o = cJSON_CreateObject();
        char buf[600];
        cJSON_AddNumberToObject(o, "index", d->index);
        cJSON_AddStringToObject(o, "name", d->name);
        cJSON_AddStringToObject(o, "type", d->type);
        cJSON_AddNumberToObject(o, "vendor_id", d->vendor_id);
        cJSON_AddNumberToObject(o, "device_id", d->device_id);
        snprintf(buf, sizeof buf, "%s %s", d->driver_name, d->driver_info);
        cJSON_AddStringToObject(o, "driver", buf);
        snprintf(buf, sizeof buf, "%u.%u.%u", d->api_major, d->api_minor, d->api_patch);
        cJSON_AddStringToObject(o, "api_version", buf);
        cJSON *heaps = cJSON_AddArrayToObject(o, "heaps");
        for (int h = 0; h < d->n_heaps && h < SB_VK_MAX_HEAPS; h++) {
            cJSON *ho = cJSON_CreateObject();
            cJSON_AddNumberToObject(ho, "size_bytes", (double)d->heap_bytes[h]);
            cJSON_AddBoolToObject(ho, "device_local", d->heap_device_local[h]);
            cJSON_AddItemToArray(heaps, ho);
        }
        cJSON_AddBoolToObject(o, "unified_memory", d->unified_memory);
        cJSON *wg = cJSON_AddArrayToObject(o, "max_workgroup_size");
        for (int k = 0; k < 3; k++) cJSON_AddItemToArray(wg, cJSON_CreateNumber(d->max_workgroup_size[k]));
        cJSON_AddNumberToObject(o, "max_invocations", d->max_workgroup_invocations);
        cJSON_AddNumberToObject(o, "shared_memory_bytes", d->max_shared_memory);
        cJSON_AddNumberToObject(o, "subgroup_size", d->subgroup_size);
        cJSON_AddBoolToObject(o, "fp16", d->shader_fp16);
        cJSON_AddBoolToObject(o, "int8", d->shader_int8 && d->storage_8bit);
        cJSON_AddBoolToObject(o, "timestamps", d->timestamps);
        cJSON_AddItemToArray(list, o);
    }
    free(devs);
}

/* ------------------------------------------------------------------ PAPI */

static void probe_papi(cJSON *m)
{
    cJSON *pj = cJSON_AddObjectToObject(m, "papi");
    int rv = PAPI_library_init(PAPI_VER_CURRENT);
    if (rv != PAPI_VER_CURRENT) {
        cJSON_AddBoolToObject(pj, "available", 0);
        cJSON_AddStringToObject(pj, "reason", rv > 0 ? "PAPI version mismatch" : PAPI_strerror(rv));
        return;
    }
    cJSON_AddBoolToObject(pj, "available", 1);
    cJSON *comps = cJSON_AddArrayToObject(pj, "components");
    cJSON *disabled = cJSON_AddArrayToObject(pj, "disabled_components");
    for (int i = 0; i < PAPI_num_components(); i++) {
        const PAPI_component_info_t *ci = PAPI_get_component_info(i);
        if (!ci) continue;
        cJSON_AddItemToArray(ci->disabled ? disabled : comps, cJSON_CreateString(ci->name));
    }
    /* An event "works" when it can be added, started and read, not merely named. */
    static const char *const hw_events[] = {"PAPI_TOT_CYC", "PAPI_TOT_INS", "PAPI_L1_DCM", "PAPI_L2_TCM", "PAPI_L3_TCM", "PAPI_BR_MSP"};
    static const char *const sw_events[] = {"perf::TASK-CLOCK", "perf::PAGE-FAULTS", "perf::CONTEXT-SWITCHES", "perf::CPU-MIGRATIONS"};
    cJSON *hw = cJSON_AddArrayToObject(pj, "hw_counters");
    cJSON *sw = cJSON_AddArrayToObject(pj, "sw_events");
    for (int pass = 0; pass < 2; pass++) {
        const char *const *names = pass ? sw_events : hw_events;
        size_t count = pass ? sizeof sw_events / sizeof *sw_events : sizeof hw_events / sizeof *hw_events;
        for (size_t i = 0; i < count; i++) {
            int code, set = PAPI_NULL;
            long long v = 0;
            if (PAPI_event_name_to_code(names[i], &code) != PAPI_OK) continue;
            if (PAPI_create_eventset(&set) != PAPI_OK) continue;
            int ok = PAPI_add_event(set, code) == PAPI_OK && PAPI_start(set) == PAPI_OK;
            if (ok) ok = PAPI_stop(set, &v) == PAPI_OK;
            PAPI_cleanup_eventset(set);
            PAPI_destroy_eventset(&set);
            if (ok) cJSON_AddItemToArray(pass ? sw : hw, cJSON_CreateString(names[i]));
        }
    }
    if (cJSON_GetArraySize(hw) == 0)
        cJSON_AddStringToObject(pj, "note", "no hardware counters available (common on VMs); software events only");
}

/* ------------------------------------------------------------------ ceilings */

static size_t last_level_cache_bytes(void)
{
    long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE), l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    long c = l3 > 0 ? l3 : l2 > 0 ? l2 : 32L << 20;
    return (size_t)c;
}

/* Compute peak over `threads` threads, in G operations per second: FP32 FMAs (2 flops each;
 * avx512 or avx2 loop) or, with int8 set, vpdpbusd int8 multiply-adds (2 ops each). Each thread
 * runs the loop; the slowest thread's time bounds the aggregate rate (cpu_time with one thread:
 * the thread's CPU time instead of the wall clock). Best of 4 after a first repetition that
 * ramps the clock. */
static double peak_gops_clock(int threads, int avx512, int int8, int cpu_time)
{
    double (*now)(void) = cpu_time && threads == 1 ? sb_thread_cpu_time_s : sb_now_s;
    const int64_t iters = int8 ? 10 * 1000 * 1000 : 20 * 1000 * 1000;
    const double ops_per_thread =
        int8 ? (double)iters * SB_VNNI_CHAINS * 16 * 4 * 2 : (double)iters * SB_FMA_CHAINS * (avx512 ? 16 : 8) * 2;
    double best = 0;
    volatile float sink = 0;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
        sink += int8 ? (float)sb_vnni_loop_avx512(iters) : avx512 ? sb_fma_loop_avx512(iters) : sb_fma_loop_avx2(iters);
        double g = ops_per_thread * threads / (now() - t0) * 1e-9;
        if (rep > 0 && g > best) best = g;
    }
    (void)sink;
    return best;
}

static double peak_gops(int threads, int avx512, int int8)
{
    return peak_gops_clock(threads, avx512, int8, 0);
}

double sb_hw_fma_peak_gflops(int threads, int avx512, int cpu_time)
{
    return peak_gops_clock(threads < 1 ? 1 : threads, avx512, 0, cpu_time);
}

static float *alloc_big(size_t bytes)
{
    void *p = NULL;
    if (posix_memalign(&p, 2 << 20, bytes) != 0) return NULL;
    madvise(p, bytes, MADV_HUGEPAGE);
    return p;
}

/* Median over reps of the read rate, first repetition skipped (page faults, clock ramp). */
static double read_gbs(const float *x, size_t n, int threads, int avx512)
{
    double rates[9];
    int nr = 0;
    volatile float sink = 0;
    for (int rep = 0; rep < 10; rep++) {
        double t0 = sb_now_s();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
        {
            int t = omp_get_thread_num(), nt = omp_get_num_threads();
            size_t chunk = n / (size_t)nt / 256 * 256;
            const float *p = x + (size_t)t * chunk;
            sink += avx512 ? sb_read_avx512(p, chunk) : sb_read_avx2(p, chunk);
        }
        double dt = sb_now_s() - t0;
        if (rep > 0) rates[nr++] = (double)(n / 256 * 256) * sizeof(float) / dt * 1e-9;
    }
    (void)sink;
    sb_stats st;
    sb_stats_compute(rates, (size_t)nr, &st);
    return st.median;
}

static double triad_gbs(float *a, const float *b, const float *c, size_t n, int threads, int avx512)
{
    double rates[9];
    int nr = 0;
    for (int rep = 0; rep < 10; rep++) {
        double t0 = sb_now_s();
#pragma omp parallel num_threads(threads)
        {
            int t = omp_get_thread_num(), nt = omp_get_num_threads();
            size_t chunk = n / (size_t)nt / 64 * 64, off = (size_t)t * chunk;
            if (avx512) sb_triad_avx512(a + off, b + off, c + off, 3.0f, chunk);
            else sb_triad_avx2(a + off, b + off, c + off, 3.0f, chunk);
        }
        double dt = sb_now_s() - t0;
        if (rep > 0) rates[nr++] = 3.0 * (double)(n / 64 * 64) * sizeof(float) / dt * 1e-9;
    }
    sb_stats st;
    sb_stats_compute(rates, (size_t)nr, &st);
    return st.median;
}

int sb_hw_measure_ceilings(int n_threads, sb_ceilings *out)
{
    memset(out, 0, sizeof *out);
    int threads = n_threads > 0 ? n_threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1) threads = 1;
    int avx512 = sb_isa_supported(SB_ISA_AVX512), avx2 = sb_isa_supported(SB_ISA_AVX2);
    if (!avx512 && !avx2) return -1; /* the ceilings loops are x86 SIMD; other CPUs: not measured */
    out->threads = threads;
    out->isa = avx512 ? "avx512" : "avx2";
    out->fma_gflops_1t = peak_gops(1, avx512, 0);
    out->fma_gflops_all = threads > 1 ? peak_gops(threads, avx512, 0) : out->fma_gflops_1t;
#if defined(__x86_64__)
    if (avx512 && __builtin_cpu_supports("avx512vnni")) {
        out->int8_gops_1t = peak_gops(1, 1, 1);
        out->int8_gops_all = threads > 1 ? peak_gops(threads, 1, 1) : out->int8_gops_1t;
    }
#endif

    /* Arrays of at least 4× the last-level cache (and ≥ 256 MiB) so no pass hits in cache. */
    size_t bytes = last_level_cache_bytes() * 4;
    if (bytes < ((size_t)256 << 20)) bytes = (size_t)256 << 20;
    size_t n = bytes / sizeof(float);
    float *a = alloc_big(bytes), *b = alloc_big(bytes), *c = alloc_big(bytes);
    if (!a || !b || !c) { free(a); free(b); free(c); return -1; }
    /* First touch by the threads that will read, so pages land on their NUMA node. */
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t i = 0; i < n; i++) { a[i] = 0; b[i] = 1.0f; c[i] = 2.0f; }
    out->read_gbs_1t = read_gbs(b, n, 1, avx512);
    out->read_gbs = read_gbs(b, n, threads, avx512);
    out->triad_gbs = triad_gbs(a, b, c, n, threads, avx512);
    free(a); free(b); free(c);
    return 0;
}

/* ------------------------------------------------------------------ the whole probe */

cJSON *sb_hw_probe_json(int measure, int n_threads)
{
    cJSON *m = cJSON_CreateObject();
    char host[256] = "unknown", model[256] = "unknown";
    gethostname(host, sizeof host - 1);
    cJSON *cpu = cJSON_CreateObject();
    probe_isa(cpu);
    probe_topology(m, cpu, model, sizeof model);

    uint64_t total = sb_mem_total_bytes();
    /* Hardware identity: CPU model, cores and RAM rounded to GiB, so runs of one machine group. */
    char id[400];
    const cJSON *cores = cJSON_GetObjectItem(cpu, "cores");
    snprintf(id, sizeof id, "%s | %d cores | %.0f GiB", model, cores ? cores->valueint : 0,
             round((double)total / (1024.0 * 1024 * 1024)));
    cJSON_AddStringToObject(m, "host_id", id);
    cJSON_AddStringToObject(m, "hostname", host);
    cJSON_AddItemToObject(m, "cpu", cpu);
    /* Move topology outputs after cpu for a readable order. */
    cJSON *caches = cJSON_DetachItemFromObject(m, "caches"), *numa = cJSON_DetachItemFromObject(m, "numa");
    if (caches) cJSON_AddItemToObject(m, "caches", caches);
    if (numa) cJSON_AddItemToObject(m, "numa", numa);

    cJSON *mem = cJSON_AddObjectToObject(m, "memory");
    cJSON_AddNumberToObject(mem, "total_bytes", (double)total);
    cJSON_AddNumberToObject(mem, "available_bytes", (double)sb_mem_available_bytes());

    struct utsname u;
    cJSON *os = cJSON_AddObjectToObject(m, "os");
    if (uname(&u) == 0) {
        cJSON_AddStringToObject(os, "sysname", u.sysname);
        cJSON_AddStringToObject(os, "release", u.release);
        cJSON_AddStringToObject(os, "machine", u.machine);
    }
    cJSON *build = cJSON_AddObjectToObject(m, "build");
    cJSON_AddStringToObject(build, "compiler", "gcc-compatible " __VERSION__);
    cJSON_AddStringToObject(build, "cflags", SB_BUILD_CFLAGS);
    cJSON_AddStringToObject(build, "git", SB_GIT_DESCRIBE);
    cJSON_AddStringToObject(build, "version", SB_VERSION);

    probe_vulkan(m);
    probe_papi(m);

    if (measure) {
        sb_ceilings c;
        if (sb_hw_measure_ceilings(n_threads, &c) == 0) {
            cJSON *cj = cJSON_AddObjectToObject(m, "ceilings");
            cJSON_AddNumberToObject(cj, "fma_gflops_1t", c.fma_gflops_1t);
            cJSON_AddNumberToObject(cj, "fma_gflops_all", c.fma_gflops_all);
            cJSON_AddNumberToObject(cj, "threads", c.threads);
            cJSON_AddStringToObject(cj, "isa", c.isa);
            cJSON_AddNumberToObject(cj, "read_gbs", c.read_gbs);
            cJSON_AddNumberToObject(cj, "read_gbs_1t", c.read_gbs_1t);
            cJSON_AddNumberToObject(cj, "triad_gbs", c.triad_gbs);
            if (c.int8_gops_all > 0) {
                cJSON_AddNumberToObject(cj, "int8_gops_1t", c.int8_gops_1t);
                cJSON_AddNumberToObject(cj, "int8_gops_all", c.int8_gops_all);
            }
        } else {
            cJSON_AddStringToObject(m, "ceilings_error", "ceilings not measured (no AVX2/AVX-512 loops for this CPU, or out of memory)");
        }
    }
    return m;
}

/* ------------------------------------------------------------------ summary */

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "?";
}

static void human_bytes(double b, char *buf, size_t len)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (b >= 1024 && i < 4) { b /= 1024; i++; }
    snprintf(buf, len, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

void sb_hw_print_summary(const cJSON *m, void *file)
{
    FILE *f = file;
    const cJSON *cpu = cJSON_GetObjectItem(m, "cpu");
    char b1[32], b2[32];
    fprintf(f, "CPU      %s (%s)\n", str(cpu, "model"), str(cpu, "vendor"));
    fprintf(f, "         %d package(s), %d cores, %d PUs; kernels use %s\n", (int)num(cpu, "packages"),
            (int)num(cpu, "cores"), (int)num(cpu, "pus"), str(cpu, "isa_level"));
    const cJSON *isa = cJSON_GetObjectItem(cpu, "isa"), *it;
    fprintf(f, "ISA     ");
    cJSON_ArrayForEach(it, isa) if (cJSON_IsTrue(it)) fprintf(f, " %s", it->string);
    fprintf(f, "\n");
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(m, "caches")) {
        human_bytes(num(it, "size_bytes"), b1, sizeof b1);
        fprintf(f, "Cache    L%d %-11s %9s  line %d B, shared by %d PU(s), x%d\n", (int)num(it, "level"),
                str(it, "type"), b1, (int)num(it, "line_bytes"), (int)num(it, "shared_by_pus"), (int)num(it, "count"));
    }
    const cJSON *mem = cJSON_GetObjectItem(m, "memory");
    human_bytes(num(mem, "total_bytes"), b1, sizeof b1);
    human_bytes(num(mem, "available_bytes"), b2, sizeof b2);
    fprintf(f, "Memory   %s total, %s available\n", b1, b2);
    const cJSON *os = cJSON_GetObjectItem(m, "os");
    fprintf(f, "OS       %s %s %s\n", str(os, "sysname"), str(os, "release"), str(os, "machine"));
    const cJSON *vk = cJSON_GetObjectItem(m, "vulkan");
    if (cJSON_IsTrue(cJSON_GetObjectItem(vk, "available"))) {
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(vk, "devices"))
            fprintf(f, "Vulkan   [%d] %s (%s), API %s, subgroup %d, shared mem %d B, fp16 %s, int8 %s\n",
                    (int)num(it, "index"), str(it, "name"), str(it, "type"), str(it, "api_version"),
                    (int)num(it, "subgroup_size"), (int)num(it, "shared_memory_bytes"),
                    cJSON_IsTrue(cJSON_GetObjectItem(it, "fp16")) ? "yes" : "no",
                    cJSON_IsTrue(cJSON_GetObjectItem(it, "int8")) ? "yes" : "no");
    } else {
        fprintf(f, "Vulkan   none: %s\n", str(vk, "reason"));
    }
    const cJSON *papi = cJSON_GetObjectItem(m, "papi");
    if (cJSON_IsTrue(cJSON_GetObjectItem(papi, "available"))) {
        fprintf(f, "PAPI     hw counters:");
        int n = 0;
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(papi, "hw_counters")) { fprintf(f, " %s", it->valuestring); n++; }
        if (!n) fprintf(f, " none (VM?)");
        fprintf(f, "; software events:");
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(papi, "sw_events")) fprintf(f, " %s", it->valuestring);
        fprintf(f, "\n");
    } else {
        fprintf(f, "PAPI     unavailable: %s\n", str(papi, "reason"));
    }
    const cJSON *c = cJSON_GetObjectItem(m, "ceilings");
    if (c) {
        fprintf(f, "Peak     FP32 FMA %.1f GFLOP/s (1 thread), %.1f GFLOP/s (%d threads), %s\n",
                num(c, "fma_gflops_1t"), num(c, "fma_gflops_all"), (int)num(c, "threads"), str(c, "isa"));
        if (num(c, "int8_gops_all") > 0)
            fprintf(f, "Peak     int8 dot (vpdpbusd) %.1f GOP/s (1 thread), %.1f GOP/s (%d threads)\n",
                    num(c, "int8_gops_1t"), num(c, "int8_gops_all"), (int)num(c, "threads"));
        fprintf(f, "Memory   read %.1f GB/s (1 thread), %.1f GB/s (%d threads); triad %.1f GB/s\n",
                num(c, "read_gbs_1t"), num(c, "read_gbs"), (int)num(c, "threads"), num(c, "triad_gbs"));
    } else {
        fprintf(f, "Peak     not measured (--quick)\n");
    }
}
