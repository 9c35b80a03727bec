/* slmbench Vulkan back end — the operations of kernels/kernels.h as Vulkan compute shaders.
 *
 * Depends on nothing else of slmbench but kernels/kernels.h (types, status codes). The Vulkan
 * loader (libvulkan.so.1) is opened at run time with dlopen, so a machine without a loader, without
 * a driver, or with VK_ICD_FILENAMES pointing nowhere gets SB_KERR_UNSUPPORTED and a reason from
 * sb_vk_open / sb_vk_list_devices, never a crash; everything else keeps running.
 *
 * Two levels of API:
 *  1. Host API (sb_vk_matmul, sb_vk_attention, ...): the same arguments as kernels.h on host
 *     pointers; each call uploads its inputs, records and submits the dispatches, waits, downloads
 *     the outputs. Simple and slow (weights travel on every call); for tests and one-off use.
 *  2. Device API: buffers that live on the device (sb_vk_buf, sub-allocated from large
 *     VkDeviceMemory blocks), and operations recorded into one command buffer between
 *     sb_vk_begin and sb_vk_submit, with a memory barrier between consecutive dispatches. Weights
 *     are uploaded once with sb_vk_buf_upload and stay; activations stay on the device between
 *     operations and batches. This is what the bench and a whole-model runtime use.
 *
 * Tensors on the device are named by (buffer, byte offset): sb_vk_ref. Offsets must be multiples of
 * 4 bytes (the shaders address storage as uint words; quantized blocks are byte-addressed inside
 * those words, so weight rows of any byte length work). A buffer may be larger than the device's
 * maxStorageBufferRange (128 MiB on lavapipe): each dispatch binds a window of it around the
 * tensors it touches. A matmul whose W exceeds the window is split by rows of W, and get_rows
 * from such a table gathers row by row; any other single tensor larger than
 * maxStorageBufferRange is SB_KERR_UNSUPPORTED.
 *
 * Environment: SB_VK_DEVICE=N selects device N (see sb_vk_list_devices; default: prefer a discrete
 * GPU, then integrated, virtual, CPU); SB_VK_VALIDATION=1 enables VK_LAYER_KHRONOS_validation with
 * synchronization validation when the layer is installed, counting the errors it reports
 * (sb_vk_validation_errors); SB_VK_STAGING=1 forces the device-local + staging-copy memory path
 * even on unified-memory devices (to test that path on lavapipe); SB_VK_SUBGROUP=0 forces the
 * portable shader variants (no subgroup operations); SB_VK_RANGE_LIMIT=bytes lowers the binding
 * window below maxStorageBufferRange (tests use it to exercise the splitting with small data).
 *
 * Not thread-safe: one sb_vk per thread.
 */
#ifndef SB_KERNELS_VULKAN_VK_H
#define SB_KERNELS_VULKAN_VK_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- devices */

#define SB_VK_MAX_HEAPS 16

/* What the hw probe shows about one Vulkan physical device. */
typedef struct sb_vk_device_info {
    int index;                       /* position in vkEnumeratePhysicalDevices order           */
    char name[256];
    const char *type;                /* "discrete", "integrated", "virtual", "cpu", "other"    */
    uint32_t vendor_id, device_id;
    char driver_name[256];           /* e.g. "llvmpipe" (VkPhysicalDeviceDriverProperties)      */
    char driver_info[256];
    uint32_t driver_version;         /* vendor-encoded                                          */
    uint32_t api_major, api_minor, api_patch;
    int n_heaps;
    uint64_t heap_bytes[SB_VK_MAX_HEAPS];
    int heap_device_local[SB_VK_MAX_HEAPS];
    int unified_memory;              /* a memory type is both device-local and host-visible     */
    uint32_t max_workgroup_size[3];
    uint32_t max_workgroup_invocations;
    uint32_t max_shared_memory;      /* bytes per workgroup                                     */
    uint32_t max_storage_buffer_range; /* bytes                                                  */
    uint32_t min_storage_offset_align; /* minStorageBufferOffsetAlignment, bytes                   */
    uint64_t max_allocation;         /* bytes of one VkDeviceMemory (0 if unknown)              */
    uint32_t subgroup_size;          /* 0 if unknown                                            */
    int subgroup_arithmetic;         /* subgroupAdd etc. in compute shaders                     */
    int shader_fp16, shader_int8;    /* shaderFloat16 / shaderInt8 features                     */
    int storage_16bit, storage_8bit; /* 16/8-bit storage buffer access                          */
    int timestamps;                  /* timestamp queries on compute queues                     */
    float timestamp_period_ns;
} sb_vk_device_info;

/* Lists the Vulkan devices into out[0 .. min(*n, cap)), *n = number of devices found.
 * Returns SB_KOK, or SB_KERR_UNSUPPORTED when Vulkan is unavailable (no loader, no driver, no
 * device) with the reason in `reason` (may be NULL). Never crashes. */
int sb_vk_list_devices(sb_vk_device_info *out, int cap, int *n, char *reason, size_t reason_len);

/* ---------------------------------------------------------------- context */

typedef struct sb_vk sb_vk;

typedef struct sb_vk_options {
    int device_index; /* -1: SB_VK_DEVICE from the environment, else the preferred device */
    int validation;   /* -1: SB_VK_VALIDATION from the environment; 0 off; 1 on when installed */
} sb_vk_options;

/* Opens a context on one device. opt may be NULL (both fields -1). On failure *out is NULL and
 * `err` holds the reason: SB_KERR_UNSUPPORTED when Vulkan or the device is unavailable,
 * SB_KERR_DEVICE / SB_KERR_NOMEM when a Vulkan call failed (named in the message). */
int sb_vk_open(const sb_vk_options *opt, sb_vk **out, char *err, size_t err_len);
/* Waits for the device to go idle and frees everything of the context, buffers included. NULL ok. */
void sb_vk_close(sb_vk *vk);

/* The device the context runs on. */
const sb_vk_device_info *sb_vk_device(const sb_vk *vk);
/* The last error message of the context ("" if none), naming the failing Vulkan call. */
const char *sb_vk_last_error(const sb_vk *vk);
/* Validation-layer messages of severity error seen so far (0 when validation is off), and
 * whether the layer is actually enabled on this context. */
int sb_vk_validation_errors(const sb_vk *vk);
int sb_vk_validation_enabled(const sb_vk *vk);
/* Whether the reductions use the subgroup-arithmetic shader variants (devices that have it, unless
 * SB_VK_SUBGROUP=0 in the environment at sb_vk_open); otherwise the portable shared-memory path. */
int sb_vk_uses_subgroups(const sb_vk *vk);
/* Bytes of device memory this context holds in VkDeviceMemory blocks, and in live buffers. */
void sb_vk_memory_usage(const sb_vk *vk, uint64_t *block_bytes, uint64_t *buffer_bytes);

/* ---------------------------------------------------------------- device buffers */

typedef struct sb_vk_buf sb_vk_buf;

/* A tensor on the device: a buffer and a byte offset into it (multiple of 4). */
typedef struct sb_vk_ref {
    sb_vk_buf *buf;
    size_t off;
} sb_vk_ref;

/* Creates a device buffer of `bytes` bytes (at most maxMemoryAllocationSize), sub-allocated from a
 * large memory block, or a block of its own when larger than one (host-visible
 * where the device has unified memory, device-local otherwise). Contents are undefined. */
int sb_vk_buf_create(sb_vk *vk, size_t bytes, sb_vk_buf **out);
/* Frees a buffer (NULL ok). Not while an open batch uses it. */
void sb_vk_buf_free(sb_vk *vk, sb_vk_buf *b);
size_t sb_vk_buf_size(const sb_vk_buf *b);
/* Copies host bytes to the buffer at byte offset `off` (direct write on unified memory, through a
 * staging buffer otherwise), and back. Must not be called between sb_vk_begin and sb_vk_submit. */
int sb_vk_buf_upload(sb_vk *vk, sb_vk_buf *b, size_t off, const void *src, size_t bytes);
int sb_vk_buf_download(sb_vk *vk, const sb_vk_buf *b, size_t off, void *dst, size_t bytes);

/* ---------------------------------------------------------------- batches and timing */

typedef struct sb_vk_timing {
    double host_s;    /* wall time of the whole call as the host saw it (record+submit+wait, and
                         uploads/downloads for the host API)                                     */
    double device_s;  /* time between the timestamps around the dispatches (0 if unsupported)   */
    int dispatches;   /* number of dispatches recorded                                          */
} sb_vk_timing;

/* Starts recording a batch of operations into the context's command buffer. */
int sb_vk_begin(sb_vk *vk);
/* Ends the batch, submits it, waits for it (timeout: SB_KERR_DEVICE), fills *t (may be NULL).
 * After an error the batch is discarded; a lost device makes every later call SB_KERR_DEVICE. */
int sb_vk_submit(sb_vk *vk, sb_vk_timing *t);

/* Device operations: the semantics, shapes, layouts and statuses of kernels/kernels.h, on device
 * tensors. They record dispatches into the open batch (SB_KERR_ARG when none is open) and check
 * every size against the buffers (SB_KERR_ARG when a tensor does not fit in its buffer); a rejected
 * call records nothing, so the batch stays usable. Outputs may alias inputs where kernels.h allows
 * it. Arithmetic is f32 (f16/bf16 are storage only).
 *
 * matmul: m <= 4 runs the matvec shader, larger m the tiled one. Unlike the CPU kernels, X is not
 * rounded to 8 bits for quantized W: the result is the f32 product of X and the dequantized W
 * (it differs from sb_matmul by the CPU's activation rounding, NMSE ~1e-5). */
int sb_vk_op_matmul(sb_vk *vk, sb_vk_ref Y, sb_vk_ref X, sb_vk_ref W, sb_type wtype, int64_t m,
                    int64_t n, int64_t k);
/* K, V: the cache [n_kv][n_kv_head][head_dim] in p->kv_type (f32 or f16); head_dim <= 256. */
int sb_vk_op_attention(sb_vk *vk, sb_vk_ref out, sb_vk_ref Q, sb_vk_ref K, sb_vk_ref V,
                       const sb_attn_params *p);
int sb_vk_op_rmsnorm(sb_vk *vk, sb_vk_ref y, sb_vk_ref x, sb_vk_ref w, int64_t rows, int64_t n,
                     float eps);
/* The rotation table (cos/sin per position and pair, m·n_rot floats) is computed on the host in
 * double exactly as the ref kernel does and recorded into the command buffer; p->freq_factors is a
 * host array (n_rot/2) or NULL. */
int sb_vk_op_rope(sb_vk *vk, sb_vk_ref x, int64_t m, int n_heads, int head_dim, int64_t pos0,
                  const sb_rope_params *p);
int sb_vk_op_softmax(sb_vk *vk, sb_vk_ref x, int64_t rows, int64_t n);
int sb_vk_op_silu_mul(sb_vk *vk, sb_vk_ref y, sb_vk_ref gate, sb_vk_ref up, int64_t n);
int sb_vk_op_add(sb_vk *vk, sb_vk_ref y, sb_vk_ref a, sb_vk_ref b, int64_t n);
int sb_vk_op_mul(sb_vk *vk, sb_vk_ref y, sb_vk_ref a, sb_vk_ref b, int64_t n);
/* y[r][:] = a[r][:] + b[:] for rows × n (one row b broadcast over every row: qwen2's biases). */
int sb_vk_op_add_row(sb_vk *vk, sb_vk_ref y, sb_vk_ref a, sb_vk_ref b, int64_t rows, int64_t n);
/* ids are host integers, checked here (outside [0, n_rows) → SB_KERR_ARG) and recorded into the
 * command buffer (vkCmdUpdateBuffer), so they need no buffer of the caller's. */
int sb_vk_op_get_rows(sb_vk *vk, sb_vk_ref y, sb_vk_ref table, sb_type t, int64_t n_rows,
                      int64_t n_cols, const int32_t *ids, int64_t n_ids);

/* dst[0..n) = src[0..n) (not overlapping): f32 source, destination in dst_type f32 or f16
 * (rounded to nearest even where the device's packHalf2x16 does so; lavapipe does, checked
 * against sb_fp32_to_fp16 in the tests). For writing K/V rows into a cache. */
int sb_vk_op_copy(sb_vk *vk, sb_vk_ref dst, sb_type dst_type, sb_vk_ref src, int64_t n);

/* ---------------------------------------------------------------- host API */

/* The operations of kernels.h on host memory: upload inputs, one batch, download outputs.
 * t may be NULL. Weights are uploaded on every call (use the device API to keep them). */
int sb_vk_matmul(sb_vk *vk, float *Y, const float *X, const void *W, sb_type wtype, int64_t m,
                 int64_t n, int64_t k, sb_vk_timing *t);
int sb_vk_attention(sb_vk *vk, float *out, const float *Q, const void *K, const void *V,
                    const sb_attn_params *p, sb_vk_timing *t);
int sb_vk_rmsnorm(sb_vk *vk, float *y, const float *x, const float *w, int64_t rows, int64_t n,
                  float eps, sb_vk_timing *t);
int sb_vk_rope(sb_vk *vk, float *x, int64_t m, int n_heads, int head_dim, int64_t pos0,
               const sb_rope_params *p, sb_vk_timing *t);
int sb_vk_softmax(sb_vk *vk, float *x, int64_t rows, int64_t n, sb_vk_timing *t);
int sb_vk_silu_mul(sb_vk *vk, float *y, const float *gate, const float *up, int64_t n,
                   sb_vk_timing *t);
int sb_vk_add(sb_vk *vk, float *y, const float *a, const float *b, int64_t n, sb_vk_timing *t);
int sb_vk_mul(sb_vk *vk, float *y, const float *a, const float *b, int64_t n, sb_vk_timing *t);
int sb_vk_get_rows(sb_vk *vk, float *y, const void *table, sb_type t, int64_t n_rows,
                   int64_t n_cols, const int32_t *ids, int64_t n_ids, sb_vk_timing *tm);

#ifdef __cplusplus
}
#endif
#endif
