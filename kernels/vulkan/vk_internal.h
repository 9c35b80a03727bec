/* Private interface between the parts of the Vulkan back end (not for other modules).
 *
 * vk.c       — loader (dlopen), instance, validation messenger, device enumeration/selection,
 *              context open/close, error reporting
 * vk_mem.c   — sub-allocator over large VkDeviceMemory blocks, buffers, staging upload/download
 * vk_ops.c   — pipelines (created once per shader variant), batches (one command buffer, barriers,
 *              timestamps), the device operations and the host API
 * spirv.c    — generated at build time by kernels/vulkan/embed.sh: the SPIR-V of every shader
 *              variant as uint32_t arrays (kernels/vulkan/module.mk)
 */
#ifndef SB_KERNELS_VULKAN_INTERNAL_H
#define SB_KERNELS_VULKAN_INTERNAL_H

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include "kernels/vulkan/vk.h"

/* The Vulkan entry points we use, loaded per context through vkGetInstanceProcAddr. */
#define SB_VK_FUNCS(X) \
    X(vkDestroyInstance) X(vkEnumeratePhysicalDevices) X(vkGetPhysicalDeviceProperties) \
    X(vkGetPhysicalDeviceProperties2) X(vkGetPhysicalDeviceFeatures2) \
    X(vkGetPhysicalDeviceMemoryProperties) X(vkGetPhysicalDeviceQueueFamilyProperties) \
    X(vkEnumerateDeviceExtensionProperties) \
    X(vkCreateDevice) X(vkDestroyDevice) X(vkGetDeviceQueue) X(vkDeviceWaitIdle) \
    X(vkAllocateMemory) X(vkFreeMemory) X(vkMapMemory) X(vkUnmapMemory) \
    X(vkFlushMappedMemoryRanges) X(vkInvalidateMappedMemoryRanges) \
    X(vkCreateBuffer) X(vkDestroyBuffer) X(vkGetBufferMemoryRequirements) X(vkBindBufferMemory) \
    X(vkCreateShaderModule) X(vkDestroyShaderModule) \
    X(vkCreateDescriptorSetLayout) X(vkDestroyDescriptorSetLayout) \
    X(vkCreatePipelineLayout) X(vkDestroyPipelineLayout) \
    X(vkCreateComputePipelines) X(vkDestroyPipeline) \
    X(vkCreateDescriptorPool) X(vkDestroyDescriptorPool) X(vkResetDescriptorPool) \
    X(vkAllocateDescriptorSets) X(vkUpdateDescriptorSets) \
    X(vkCreateCommandPool) X(vkDestroyCommandPool) X(vkResetCommandPool) \
    X(vkAllocateCommandBuffers) X(vkBeginCommandBuffer) X(vkEndCommandBuffer) \
    X(vkCmdBindPipeline) X(vkCmdBindDescriptorSets) X(vkCmdPushConstants) X(vkCmdDispatch) \
    X(vkCmdPipelineBarrier) X(vkCmdCopyBuffer) X(vkCmdUpdateBuffer) \
    X(vkCmdWriteTimestamp) X(vkCmdResetQueryPool) \
    X(vkCreateQueryPool) X(vkDestroyQueryPool) X(vkGetQueryPoolResults) \
    X(vkCreateFence) X(vkDestroyFence) X(vkResetFences) X(vkWaitForFences) X(vkQueueSubmit) \
    X(vkCreateDebugUtilsMessengerEXT) X(vkDestroyDebugUtilsMessengerEXT)

typedef struct sb_vk_fn {
#define SB_VK_DECL(name) PFN_##name name;
    SB_VK_FUNCS(SB_VK_DECL)
#undef SB_VK_DECL
} sb_vk_fn;

/* One large VkDeviceMemory block; buffers are bound at offsets inside it. Free space is a sorted
 * list of [off, off+size) ranges, coalesced on free. */
typedef struct vk_range { uint64_t off, size; } vk_range;
typedef struct vk_block {
    VkDeviceMemory mem;
    uint32_t type;      /* memory type index */
    uint64_t size;
    void *map;          /* persistent mapping when host-visible, else NULL */
    vk_range *free;     /* sorted by off */
    int n_free, cap_free;
} vk_block;

struct sb_vk_buf {
    VkBuffer buffer;
    size_t size;        /* bytes the caller asked for */
    uint64_t vksize;    /* size of the VkBuffer (size rounded up to 16) */
    int block;          /* index into vk->blocks */
    uint64_t off, span; /* the range of the block this buffer holds */
    sb_vk_buf *next;    /* list of live buffers, freed at close */
    sb_vk_buf *prev;
};

#define SB_VK_NBIND 4            /* storage buffers per dispatch (unused ones get a dummy) */
#define SB_VK_PUSH_BYTES 128     /* push constants per dispatch (the guaranteed minimum)   */
#define SB_VK_MAX_SETS 512       /* descriptor sets per batch before an automatic flush    */
#define SB_VK_MAX_PIPES 96

typedef struct vk_pipe {
    const char *name;
    VkPipeline pipeline;
} vk_pipe;

struct sb_vk {
    sb_vk_fn fn;
    void *lib;                   /* dlopen handle of libvulkan */
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    int validation;              /* layer enabled */
    int validation_errors;
    VkPhysicalDevice phys;
    sb_vk_device_info info;
    VkDevice device;
    uint32_t queue_family;
    VkQueue queue;
    int lost;                    /* device lost or a submit failed: every later call fails */
    int use_subgroup;            /* pick the -sg shader variants (subgroup arithmetic) */
    uint64_t range_limit;        /* bytes of one descriptor window (maxStorageBufferRange) */
    uint64_t ts_mask;            /* timestampValidBits of the queue family, as a mask */
    char err[512];

    /* memory */
    VkPhysicalDeviceMemoryProperties memprops;
    uint32_t mem_type;           /* type of the buffers' blocks */
    int mem_host_visible;        /* 1: buffers are mapped and written directly */
    uint32_t staging_type;       /* host-visible type of the staging buffer */
    vk_block *blocks;
    int n_blocks, cap_blocks;
    sb_vk_buf *bufs;             /* live buffers */
    sb_vk_buf *staging;          /* separate-memory path: a host-visible staging buffer */
    VkCommandPool xfer_pool;     /* separate-memory path: transfer command buffer and fence */
    VkCommandBuffer xfer_cmd;
    VkFence xfer_fence;
    sb_vk_buf *dummy;            /* bound to unused descriptor slots */
    uint64_t buffer_bytes;

    /* pipelines */
    VkDescriptorSetLayout dsl;
    VkPipelineLayout layout;
    vk_pipe pipes[SB_VK_MAX_PIPES];
    int n_pipes;

    /* batch */
    VkCommandPool cmd_pool;
    VkCommandBuffer cmd;
    VkDescriptorPool desc_pool;
    VkQueryPool query_pool;
    VkFence fence;
    int recording;
    int n_sets;                  /* descriptor sets used in this batch */
    int n_dispatch;              /* dispatches in this batch */
    int n_dispatch_total;        /* across automatic flushes inside one begin/submit */
    double batch_t0;             /* host clock at sb_vk_begin */
    double device_s_accum;       /* device time of automatic flushes */
    sb_vk_buf **temps;           /* buffers freed when the batch completes */
    int n_temps, cap_temps;
};

/* Records "<call> failed: <VkResult name>" as the context error and returns the status the caller
 * sees: SB_KERR_NOMEM for out-of-memory, SB_KERR_DEVICE otherwise (and marks a lost device). */
int sb_vk_fail(sb_vk *vk, VkResult r, const char *call);
/* Formats the context error (printf style) and returns `status`. */
int sb_vk_errf(sb_vk *vk, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *sb_vk_result_str(VkResult r);

/* vk_mem.c */
int sb_vk_mem_init(sb_vk *vk);
void sb_vk_mem_free_all(sb_vk *vk);

/* vk_ops.c */
int sb_vk_ops_init(sb_vk *vk);
void sb_vk_ops_free(sb_vk *vk);

/* spirv.c (generated) */
typedef struct sb_vk_spirv {
    const char *name;      /* "mm-q4_K", "rmsnorm", ... */
    const uint32_t *code;
    size_t bytes;
} sb_vk_spirv;
extern const sb_vk_spirv sb_vk_spirv_table[];
extern const int sb_vk_spirv_count;

#endif
