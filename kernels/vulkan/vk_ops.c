/* Vulkan back end: pipelines (one per shader variant, created on first use and cached), batches
 * (one command buffer, a global memory barrier before each dispatch, timestamps around the whole
 * batch), the device operations and the host API. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/vulkan/vk_internal.h"

#define FENCE_TIMEOUT_NS ((uint64_t)120 * 1000000000u)
#define MAX_GROUPS 65535u   /* the guaranteed minimum of maxComputeWorkGroupCount per dimension */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---------------------------------------------------------------- formats (local table) */

/* Weight formats the shaders read: name suffix of the variants, block elements and bytes. */
typedef struct wfmt { sb_type t; const char *name; uint32_t elems, bytes; } wfmt;
static const wfmt WFMTS[] = {
    {SB_TYPE_F32, "f32", 1, 4},      {SB_TYPE_F16, "f16", 1, 2},     {SB_TYPE_BF16, "bf16", 1, 2},
    {SB_TYPE_Q8_0, "q8_0", 32, 34},  {SB_TYPE_Q4_0, "q4_0", 32, 18}, {SB_TYPE_Q4_K, "q4_K", 256, 144},
    {SB_TYPE_Q5_K, "q5_K", 256, 176}, {SB_TYPE_Q6_K, "q6_K", 256, 210},
};

static const wfmt *find_wfmt(sb_type t)
{
    for (size_t i = 0; i < sizeof WFMTS / sizeof WFMTS[0]; i++)
        if (WFMTS[i].t == t) return &WFMTS[i];
    return NULL;
}

/* ---------------------------------------------------------------- init / free */

int sb_vk_ops_init(sb_vk *vk)
{
    /* SB_VK_RANGE_LIMIT=bytes lowers the binding window (tests use it to exercise the splitting
     * of tensors larger than a window with small data). */
    vk->range_limit = vk->info.max_storage_buffer_range / 4 * 4;
    const char *rl = getenv("SB_VK_RANGE_LIMIT");
    if (rl && atoll(rl) >= 4096 && (uint64_t)atoll(rl) < vk->range_limit) vk->range_limit = (uint64_t)atoll(rl) / 4 * 4;
    const char *sg = getenv("SB_VK_SUBGROUP");
    /* The matvec shader's subgroup variant needs subgroups that divide its 32-invocation rows. */
    vk->use_subgroup = vk->info.subgroup_arithmetic && vk->info.subgroup_size >= 1 && vk->info.subgroup_size <= 32 &&
                       !(sg && strcmp(sg, "0") == 0);
    VkDescriptorSetLayoutBinding binds[SB_VK_NBIND];
    for (uint32_t i = 0; i < SB_VK_NBIND; i++)
        binds[i] = (VkDescriptorSetLayoutBinding){.binding = i,
                                                  .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                                  .descriptorCount = 1,
                                                  .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    VkDescriptorSetLayoutCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                           .bindingCount = SB_VK_NBIND, .pBindings = binds};
    VkResult r = vk->fn.vkCreateDescriptorSetLayout(vk->device, &dci, NULL, &vk->dsl);
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkCreateDescriptorSetLayout");
    VkPushConstantRange pcr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = SB_VK_PUSH_BYTES};
    VkPipelineLayoutCreateInfo lci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                      .setLayoutCount = 1, .pSetLayouts = &vk->dsl,
                                      .pushConstantRangeCount = 1, .pPushConstantRanges = &pcr};
    r = vk->fn.vkCreatePipelineLayout(vk->device, &lci, NULL, &vk->layout);
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkCreatePipelineLayout");

    VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                   .flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT,
                                   .queueFamilyIndex = vk->queue_family};
    r = vk->fn.vkCreateCommandPool(vk->device, &pci, NULL, &vk->cmd_pool);
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkCreateCommandPool");
    VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                      .commandPool = vk->cmd_pool, .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                      .commandBufferCount = 1};
    r = vk->fn.vkAllocateCommandBuffers(vk->device, &ai, &vk->cmd);
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkAllocateCommandBuffers");

    VkDescriptorPoolSize ps = {.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = SB_VK_MAX_SETS * SB_VK_NBIND};
    VkDescriptorPoolCreateInfo dpi = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                      .maxSets = SB_VK_MAX_SETS, .poolSizeCount = 1, .pPoolSizes = &ps};
    r = vk->fn.vkCreateDescriptorPool(vk->device, &dpi, NULL, &vk->desc_pool);
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkCreateDescriptorPool");

    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    r = vk->fn.vkCreateFence(vk->device, &fci, NULL, &vk->fence);
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkCreateFence");

    if (vk->info.timestamps) {
        VkQueryPoolCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                     .queryType = VK_QUERY_TYPE_TIMESTAMP, .queryCount = 2};
        r = vk->fn.vkCreateQueryPool(vk->device, &qci, NULL, &vk->query_pool);
        if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkCreateQueryPool");
    }
    return sb_vk_buf_create(vk, 16, &vk->dummy);
}

static void free_temps(sb_vk *vk)
{
    for (int i = 0; i < vk->n_temps; i++) sb_vk_buf_free(vk, vk->temps[i]);
    vk->n_temps = 0;
}

void sb_vk_ops_free(sb_vk *vk)
{
    free_temps(vk);
    free(vk->temps);
    vk->temps = NULL;
    for (int i = 0; i < vk->n_pipes; i++) vk->fn.vkDestroyPipeline(vk->device, vk->pipes[i].pipeline, NULL);
    vk->n_pipes = 0;
    if (vk->query_pool) vk->fn.vkDestroyQueryPool(vk->device, vk->query_pool, NULL);
    if (vk->fence) vk->fn.vkDestroyFence(vk->device, vk->fence, NULL);
    if (vk->desc_pool) vk->fn.vkDestroyDescriptorPool(vk->device, vk->desc_pool, NULL);
    if (vk->cmd_pool) vk->fn.vkDestroyCommandPool(vk->device, vk->cmd_pool, NULL);
    if (vk->layout) vk->fn.vkDestroyPipelineLayout(vk->device, vk->layout, NULL);
    if (vk->dsl) vk->fn.vkDestroyDescriptorSetLayout(vk->device, vk->dsl, NULL);
}

/* ---------------------------------------------------------------- pipelines */

/* The pipeline of variant `name` (its "-sg" subgroup version where the device has subgroup
 * arithmetic and one was built), created from the embedded SPIR-V on first use. */
static int get_pipe(sb_vk *vk, const char *base, VkPipeline *out)
{
    char name[64];
    snprintf(name, sizeof name, "%s", base);
    if (vk->use_subgroup) {
        char sg[64];
        snprintf(sg, sizeof sg, "%s-sg", base);
        for (int i = 0; i < sb_vk_spirv_count; i++)
            if (strcmp(sb_vk_spirv_table[i].name, sg) == 0) snprintf(name, sizeof name, "%s", sg);
    }
    for (int i = 0; i < vk->n_pipes; i++)
        if (strcmp(vk->pipes[i].name, name) == 0) {
            *out = vk->pipes[i].pipeline;
            return SB_KOK;
        }
    const sb_vk_spirv *sp = NULL;
    for (int i = 0; i < sb_vk_spirv_count; i++)
        if (strcmp(sb_vk_spirv_table[i].name, name) == 0) sp = &sb_vk_spirv_table[i];
    if (!sp) return sb_vk_errf(vk, SB_KERR_UNSUPPORTED, "no embedded shader variant \"%s\"", name);
    if (vk->n_pipes == SB_VK_MAX_PIPES) return sb_vk_errf(vk, SB_KERR_NOMEM, "pipeline cache full");
    VkShaderModuleCreateInfo sci = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                    .codeSize = sp->bytes, .pCode = sp->code};
    VkShaderModule mod;
    VkResult r = vk->fn.vkCreateShaderModule(vk->device, &sci, NULL, &mod);
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkCreateShaderModule");
    VkComputePipelineCreateInfo cpi = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                  .stage = VK_SHADER_STAGE_COMPUTE_BIT, .module = mod, .pName = "main"},
        .layout = vk->layout,
    };
    VkPipeline pipe;
    r = vk->fn.vkCreateComputePipelines(vk->device, VK_NULL_HANDLE, 1, &cpi, NULL, &pipe);
    vk->fn.vkDestroyShaderModule(vk->device, mod, NULL);
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkCreateComputePipelines");
    vk->pipes[vk->n_pipes++] = (vk_pipe){sp->name, pipe};
    *out = pipe;
    return SB_KOK;
}

/* ---------------------------------------------------------------- batches */

static void full_barrier(sb_vk *vk)
{
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                           VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT};
    VkPipelineStageFlags st = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    vk->fn.vkCmdPipelineBarrier(vk->cmd, st, st, 0, 1, &mb, 0, NULL, 0, NULL);
}

static int begin_cmd(sb_vk *vk)
{
    VkResult r = vk->fn.vkResetCommandPool(vk->device, vk->cmd_pool, 0);
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkResetCommandPool");
    r = vk->fn.vkResetDescriptorPool(vk->device, vk->desc_pool, 0);
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkResetDescriptorPool");
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    r = vk->fn.vkBeginCommandBuffer(vk->cmd, &bi);
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkBeginCommandBuffer");
    if (vk->query_pool) {
        vk->fn.vkCmdResetQueryPool(vk->cmd, vk->query_pool, 0, 2);
        vk->fn.vkCmdWriteTimestamp(vk->cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, vk->query_pool, 0);
    }
    vk->n_sets = 0;
    vk->n_dispatch = 0;
    vk->recording = 1;
    return SB_KOK;
}

/* Ends, submits and waits for the command buffer; adds its device time to device_s_accum. */
static int end_submit_wait(sb_vk *vk)
{
    vk->recording = 0;
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    vk->fn.vkCmdPipelineBarrier(vk->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                                VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
    if (vk->query_pool)
        vk->fn.vkCmdWriteTimestamp(vk->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, vk->query_pool, 1);
    VkResult r = vk->fn.vkEndCommandBuffer(vk->cmd);
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkEndCommandBuffer");
    r = vk->fn.vkResetFences(vk->device, 1, &vk->fence);
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkResetFences");
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &vk->cmd};
    r = vk->fn.vkQueueSubmit(vk->queue, 1, &si, vk->fence);
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkQueueSubmit");
    r = vk->fn.vkWaitForFences(vk->device, 1, &vk->fence, VK_TRUE, FENCE_TIMEOUT_NS);
    if (r == VK_TIMEOUT) {
        vk->lost = 1; /* the command buffer may still run: nothing of this context is safe to reuse */
        return sb_vk_errf(vk, SB_KERR_DEVICE, "vkWaitForFences: batch did not finish in %d s",
                          (int)(FENCE_TIMEOUT_NS / 1000000000u));
    }
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkWaitForFences");
    if (vk->query_pool) {
        uint64_t ts[2] = {0, 0};
        r = vk->fn.vkGetQueryPoolResults(vk->device, vk->query_pool, 0, 2, sizeof ts, ts, sizeof ts[0],
                                         VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
        if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkGetQueryPoolResults");
        /* Only timestampValidBits bits count; the difference modulo that wraps correctly. */
        vk->device_s_accum += (double)((ts[1] - ts[0]) & vk->ts_mask) * vk->info.timestamp_period_ns * 1e-9;
    }
    return SB_KOK;
}

int sb_vk_begin(sb_vk *vk)
{
    if (!vk) return SB_KERR_ARG;
    if (vk->lost) return sb_vk_errf(vk, SB_KERR_DEVICE, "device lost earlier");
    if (vk->recording) return sb_vk_errf(vk, SB_KERR_ARG, "sb_vk_begin: a batch is already open");
    vk->batch_t0 = now_s();
    vk->n_dispatch_total = 0;
    vk->device_s_accum = 0;
    return begin_cmd(vk);
}

int sb_vk_submit(sb_vk *vk, sb_vk_timing *t)
{
    if (!vk) return SB_KERR_ARG;
    if (!vk->recording) return sb_vk_errf(vk, SB_KERR_ARG, "sb_vk_submit: no batch open");
    int st = end_submit_wait(vk);
    if (st != SB_KOK && !vk->lost) vk->fn.vkDeviceWaitIdle(vk->device);
    free_temps(vk);
    if (t) {
        t->host_s = now_s() - vk->batch_t0;
        t->device_s = vk->device_s_accum;
        t->dispatches = vk->n_dispatch_total;
    }
    return st;
}

/* Abandons an open batch after an error while recording (the command buffer is reset at the next
 * begin). */
static void abandon(sb_vk *vk)
{
    if (!vk->recording) return;
    vk->fn.vkEndCommandBuffer(vk->cmd);
    vk->recording = 0;
    free_temps(vk);
}

static int add_temp(sb_vk *vk, size_t bytes, sb_vk_buf **out)
{
    if (vk->n_temps == vk->cap_temps) {
        int cap = vk->cap_temps ? vk->cap_temps * 2 : 16;
        sb_vk_buf **nt = realloc(vk->temps, (size_t)cap * sizeof *nt);
        if (!nt) return sb_vk_errf(vk, SB_KERR_NOMEM, "out of host memory");
        vk->temps = nt;
        vk->cap_temps = cap;
    }
    int st = sb_vk_buf_create(vk, bytes, out);
    if (st == SB_KOK) vk->temps[vk->n_temps++] = *out;
    return st;
}

/* A window of a buffer bound to one descriptor: [base, base + range), base a multiple of
 * minStorageBufferOffsetAlignment, range <= maxStorageBufferRange. buf NULL: the dummy buffer. */
typedef struct vk_win {
    sb_vk_buf *buf;
    uint64_t base, range;
} vk_win;

/* The window of r's buffer that holds the `len` bytes at r.off; *rel = r.off - base, the offset
 * the shader sees. SB_KERR_UNSUPPORTED when the tensor alone exceeds the window limit. */
static int window(sb_vk *vk, sb_vk_ref r, uint64_t len, vk_win *w, uint32_t *rel)
{
    uint64_t align = vk->info.min_storage_offset_align > 4 ? vk->info.min_storage_offset_align : 4;
    uint64_t base = r.off / align * align;
    if (r.off - base + len > vk->range_limit)
        return sb_vk_errf(vk, SB_KERR_UNSUPPORTED, "tensor of %llu bytes exceeds maxStorageBufferRange (%llu)",
                          (unsigned long long)len, (unsigned long long)vk->range_limit);
    w->buf = r.buf;
    w->base = base;
    w->range = r.buf->vksize - base < vk->range_limit ? r.buf->vksize - base : vk->range_limit;
    *rel = (uint32_t)(r.off - base);
    return SB_KOK;
}

/* Records one dispatch of variant `name` with up to SB_VK_NBIND buffer windows and `push_bytes`
 * of push constants. A batch that ran out of descriptor sets is submitted, waited for and
 * restarted transparently. */
static int dispatch(sb_vk *vk, const char *name, const vk_win win[SB_VK_NBIND], const void *push,
                    uint32_t push_bytes, uint32_t gx, uint32_t gy, uint32_t gz)
{
    if (gx == 0 || gy == 0 || gz == 0) return SB_KOK;
    VkPipeline pipe = VK_NULL_HANDLE;
    int st = get_pipe(vk, name, &pipe);
    if (st) return st;
    if (vk->n_sets == SB_VK_MAX_SETS) {
        st = end_submit_wait(vk);
        if (st == SB_KOK) st = begin_cmd(vk);
        if (st) return st;
    }
    VkDescriptorSetAllocateInfo dai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                       .descriptorPool = vk->desc_pool, .descriptorSetCount = 1,
                                       .pSetLayouts = &vk->dsl};
    VkDescriptorSet set;
    VkResult r = vk->fn.vkAllocateDescriptorSets(vk->device, &dai, &set);
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkAllocateDescriptorSets");
    vk->n_sets++;
    VkDescriptorBufferInfo bi[SB_VK_NBIND];
    VkWriteDescriptorSet wr[SB_VK_NBIND];
    for (uint32_t i = 0; i < SB_VK_NBIND; i++) {
        if (win[i].buf)
            bi[i] = (VkDescriptorBufferInfo){.buffer = win[i].buf->buffer, .offset = win[i].base, .range = win[i].range};
        else
            bi[i] = (VkDescriptorBufferInfo){.buffer = vk->dummy->buffer, .offset = 0, .range = VK_WHOLE_SIZE};
        wr[i] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = set,
                                       .dstBinding = i, .descriptorCount = 1,
                                       .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                       .pBufferInfo = &bi[i]};
    }
    vk->fn.vkUpdateDescriptorSets(vk->device, SB_VK_NBIND, wr, 0, NULL);
    uint8_t pc[SB_VK_PUSH_BYTES] = {0};
    memcpy(pc, push, push_bytes);
    full_barrier(vk);
    vk->fn.vkCmdBindPipeline(vk->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipe);
    vk->fn.vkCmdBindDescriptorSets(vk->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, vk->layout, 0, 1, &set, 0, NULL);
    vk->fn.vkCmdPushConstants(vk->cmd, vk->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, SB_VK_PUSH_BYTES, pc);
    vk->fn.vkCmdDispatch(vk->cmd, gx, gy, gz);
    vk->n_dispatch++;
    vk->n_dispatch_total++;
    return SB_KOK;
}

/* ---------------------------------------------------------------- argument checks */

static int ready(sb_vk *vk)
{
    if (!vk) return SB_KERR_ARG;
    if (vk->lost) return sb_vk_errf(vk, SB_KERR_DEVICE, "device lost earlier");
    if (!vk->recording) return sb_vk_errf(vk, SB_KERR_ARG, "device operation outside sb_vk_begin/sb_vk_submit");
    return SB_KOK;
}

/* Checks that tensor `what` of `bytes` bytes lies inside its buffer at a 4-byte-aligned offset. */
static int need(sb_vk *vk, sb_vk_ref r, uint64_t bytes, const char *what)
{
    if (!r.buf) return sb_vk_errf(vk, SB_KERR_ARG, "%s: no buffer", what);
    if (r.off % 4) return sb_vk_errf(vk, SB_KERR_ARG, "%s: offset %zu not a multiple of 4", what, r.off);
    if (r.off > r.buf->size || bytes > r.buf->size - r.off)
        return sb_vk_errf(vk, SB_KERR_ARG, "%s: %llu bytes at offset %zu do not fit in a buffer of %zu bytes",
                          what, (unsigned long long)bytes, r.off, r.buf->size);
    return SB_KOK;
}

/* a*b*c*4 bytes with overflow and uint32 element-count checks; SB_KERR_ARG on overflow. */
static int f32_bytes(sb_vk *vk, int64_t a, int64_t b, int64_t c, uint64_t *bytes)
{
    if (a < 0 || b < 0 || c < 0) return sb_vk_errf(vk, SB_KERR_ARG, "negative size");
    uint64_t e;
    if (__builtin_mul_overflow((uint64_t)a, (uint64_t)b, &e) || __builtin_mul_overflow(e, (uint64_t)c, &e) ||
        e > UINT32_MAX)
        return sb_vk_errf(vk, SB_KERR_ARG, "tensor of %lld×%lld×%lld elements too large", (long long)a,
                          (long long)b, (long long)c);
    *bytes = e * 4;
    return SB_KOK;
}

static int row_bytes(sb_vk *vk, sb_type t, int64_t k, uint64_t *out)
{
    const wfmt *f = find_wfmt(t);
    if (!f) return sb_vk_errf(vk, SB_KERR_UNSUPPORTED, "weight type %d not supported by the Vulkan back end", (int)t);
    if (k < 0 || k > UINT32_MAX) return sb_vk_errf(vk, SB_KERR_ARG, "bad row length %lld", (long long)k);
    if (k % f->elems) return sb_vk_errf(vk, SB_KERR_SHAPE, "k = %lld is not a multiple of the %s block (%u)",
                                        (long long)k, f->name, f->elems);
    *out = (uint64_t)k / f->elems * f->bytes;
    return SB_KOK;
}


/* Lays `n` workgroups out as x × y with x <= 65535. */
static void grid2(uint64_t n, uint32_t *gx, uint32_t *gy)
{
    *gx = n < MAX_GROUPS ? (uint32_t)n : MAX_GROUPS;
    *gy = *gx ? (uint32_t)((n + *gx - 1) / *gx) : 0;
}

/* ---------------------------------------------------------------- device operations */

/* One dispatch of the matmul shaders over W rows [j0, j0+nj) (Y columns j0 ..). */
static int matmul_part(sb_vk *vk, sb_vk_ref Y, sb_vk_ref X, sb_vk_ref W, sb_type wtype, int64_t m, int64_t n,
                       int64_t k, uint64_t rb, int64_t j0, int64_t nj)
{
    vk_win w[SB_VK_NBIND] = {{0}};
    uint32_t yr, xr, wr;
    sb_vk_ref Yj = {Y.buf, Y.off + (size_t)j0 * 4}, Wj = {W.buf, W.off + (size_t)((uint64_t)j0 * rb)};
    int st;
    if ((st = window(vk, Yj, ((uint64_t)(m - 1) * (uint64_t)n + (uint64_t)nj) * 4, &w[0], &yr)) ||
        (st = window(vk, X, (uint64_t)m * (uint64_t)k * 4, &w[1], &xr)) ||
        (st = window(vk, Wj, (uint64_t)nj * rb, &w[2], &wr)))
        return st;
    struct { uint32_t m, n, k, ldy, y_off, x_off, w_off, row_bytes; } pc = {
        (uint32_t)m, (uint32_t)nj, (uint32_t)k, (uint32_t)n, yr / 4, xr / 4, wr, (uint32_t)rb};
    char name[32];
    if (m <= 4) {
        uint32_t gx, gy;
        grid2(((uint64_t)nj + 3) / 4, &gx, &gy); /* 4 W rows per workgroup */
        snprintf(name, sizeof name, "mv-%s", find_wfmt(wtype)->name);
        return dispatch(vk, name, w, &pc, sizeof pc, gx, gy, 1);
    }
    uint64_t gx = ((uint64_t)nj + 63) / 64, gy = ((uint64_t)m + 63) / 64;
    if (gx > MAX_GROUPS || gy > MAX_GROUPS) return sb_vk_errf(vk, SB_KERR_UNSUPPORTED, "matmul too large for one dispatch");
    snprintf(name, sizeof name, "mm-%s", find_wfmt(wtype)->name);
    return dispatch(vk, name, w, &pc, sizeof pc, (uint32_t)gx, (uint32_t)gy, 1);
}

int sb_vk_op_matmul(sb_vk *vk, sb_vk_ref Y, sb_vk_ref X, sb_vk_ref W, sb_type wtype, int64_t m, int64_t n,
                    int64_t k)
{
    int st = ready(vk);
    if (st) return st;
    uint64_t rb, yb, xb, wb;
    if ((st = row_bytes(vk, wtype, k, &rb))) return st;
    if ((st = f32_bytes(vk, m, n, 1, &yb)) || (st = f32_bytes(vk, m, k, 1, &xb))) return st;
    if (__builtin_mul_overflow(rb, (uint64_t)n, &wb)) return sb_vk_errf(vk, SB_KERR_ARG, "W too large");
    if ((st = need(vk, Y, yb, "matmul Y")) || (st = need(vk, X, xb, "matmul X")) || (st = need(vk, W, wb, "matmul W")))
        return st;
    if (m == 0 || n == 0) return SB_KOK;
    /* W rows per dispatch: all of them when W fits in one binding window, else as many as fit
     * (a window starts up to one alignment unit before the rows it holds). */
    uint64_t fit = (vk->range_limit - 256) / (rb ? rb : 1);
    if (fit == 0) return sb_vk_errf(vk, SB_KERR_UNSUPPORTED, "matmul: one W row exceeds maxStorageBufferRange");
    for (int64_t j0 = 0; j0 < n && st == SB_KOK; j0 += (int64_t)fit) {
        int64_t nj = (uint64_t)(n - j0) < fit ? n - j0 : (int64_t)fit;
        st = matmul_part(vk, Y, X, W, wtype, m, n, k, rb, j0, nj);
    }
    return st;
}

int sb_vk_op_attention(sb_vk *vk, sb_vk_ref out, sb_vk_ref Q, sb_vk_ref K, sb_vk_ref V, const sb_attn_params *p)
{
    int st = ready(vk);
    if (st) return st;
    if (!p) return sb_vk_errf(vk, SB_KERR_ARG, "attention: NULL params");
    /* The same statuses as sb_attention: ARG for bad values, SHAPE for inconsistent shapes. */
    if (p->m < 0 || p->pos < 0 || p->n_kv < 0 || p->n_head <= 0 || p->n_kv_head <= 0 || p->head_dim <= 0 ||
        !isfinite(p->scale))
        return sb_vk_errf(vk, SB_KERR_ARG, "attention: bad parameters (m %lld pos %lld n_kv %lld heads %d/%d dim %d)",
                          (long long)p->m, (long long)p->pos, (long long)p->n_kv, p->n_head, p->n_kv_head, p->head_dim);
    if (p->n_head % p->n_kv_head != 0 || p->pos > INT64_MAX - p->m || p->n_kv < p->pos + p->m)
        return sb_vk_errf(vk, SB_KERR_SHAPE, "attention: %d heads over %d KV heads, %lld queries at %lld, cache of %lld",
                          p->n_head, p->n_kv_head, (long long)p->m, (long long)p->pos, (long long)p->n_kv);
    if (p->head_dim > 256) return sb_vk_errf(vk, SB_KERR_UNSUPPORTED, "attention: head_dim %d > 256", p->head_dim);
    if (p->kv_type != SB_TYPE_F32 && p->kv_type != SB_TYPE_F16)
        return sb_vk_errf(vk, SB_KERR_UNSUPPORTED, "attention: K/V type %d (f32 or f16 only)", (int)p->kv_type);
    uint64_t qb, kvb;
    if ((st = f32_bytes(vk, p->m, p->n_head, p->head_dim, &qb)) ||
        (st = f32_bytes(vk, p->n_kv, p->n_kv_head, p->head_dim, &kvb)))
        return st;
    if (p->kv_type == SB_TYPE_F16) kvb /= 2;
    if ((st = need(vk, out, qb, "attention out")) || (st = need(vk, Q, qb, "attention Q")) ||
        (st = need(vk, K, kvb, "attention K")) || (st = need(vk, V, kvb, "attention V")))
        return st;
    if ((uint64_t)p->pos + (uint64_t)p->m > UINT32_MAX) return sb_vk_errf(vk, SB_KERR_ARG, "attention: position too large");
    if (p->m == 0) return SB_KOK;
    vk_win w[SB_VK_NBIND] = {{0}};
    uint32_t orl, qrl, krl, vrl;
    if ((st = window(vk, out, qb, &w[0], &orl)) || (st = window(vk, Q, qb, &w[1], &qrl)) ||
        (st = window(vk, K, kvb, &w[2], &krl)) || (st = window(vk, V, kvb, &w[3], &vrl)))
        return st;
    /* Few (query, head) pairs over a long cache leave most of a GPU idle: split the keys into
     * parts of `chunk` (a multiple of the 64-key tile) and merge them (flash-decoding). */
    uint32_t nsplit = 1, chunk = 0;
    if (p->m * p->n_head < 64 && p->n_kv >= 512 && p->m <= MAX_GROUPS) {
        nsplit = (uint32_t)((p->n_kv + 255) / 256);
        if (nsplit > 32) nsplit = 32;
        chunk = (uint32_t)(((p->n_kv + nsplit - 1) / nsplit + 63) / 64 * 64);
        nsplit = (uint32_t)((p->n_kv + chunk - 1) / chunk);
    }
    if (nsplit > 1) {
        sb_vk_buf *parts;
        uint64_t pbytes = (uint64_t)p->m * (uint64_t)p->n_head * nsplit * (uint64_t)(p->head_dim + 2) * 4;
        vk_win pw[SB_VK_NBIND] = {{0}}, cw[SB_VK_NBIND] = {{0}};
        uint32_t prl, crl;
        if ((st = add_temp(vk, (size_t)pbytes, &parts)) || (st = window(vk, (sb_vk_ref){parts, 0}, pbytes, &pw[0], &prl)))
            return st;
        pw[1] = w[1], pw[2] = w[2], pw[3] = w[3];
        struct { uint32_t m, pos, n_kv, n_head, n_kv_head, head_dim, o_off, q_off, k_off, v_off; float scale; uint32_t chunk, nsplit; } pc = {
            (uint32_t)p->m, (uint32_t)p->pos, (uint32_t)p->n_kv, (uint32_t)p->n_head, (uint32_t)p->n_kv_head,
            (uint32_t)p->head_dim, prl / 4, qrl / 4, krl / 4, vrl / 4, p->scale, chunk, nsplit};
        st = dispatch(vk, p->kv_type == SB_TYPE_F16 ? "fa-f16-split" : "fa-f32-split", pw, &pc, sizeof pc,
                      (uint32_t)p->n_head, (uint32_t)p->m, nsplit);
        cw[0] = w[0];
        if (st || (st = window(vk, (sb_vk_ref){parts, 0}, pbytes, &cw[1], &crl))) return st;
        struct { uint32_t n_head, head_dim, nsplit, o_off, p_off; } cc = {
            (uint32_t)p->n_head, (uint32_t)p->head_dim, nsplit, orl / 4, crl / 4};
        return dispatch(vk, "fa-combine", cw, &cc, sizeof cc, (uint32_t)p->n_head, (uint32_t)p->m, 1);
    }
    const char *name = p->kv_type == SB_TYPE_F16 ? "fa-f16" : "fa-f32";
    /* One workgroup per (head, query); queries beyond 65535 go in further dispatches. */
    for (int64_t i0 = 0; i0 < p->m && st == SB_KOK; i0 += MAX_GROUPS) {
        int64_t mi = p->m - i0 < MAX_GROUPS ? p->m - i0 : MAX_GROUPS;
        uint32_t row_words = (uint32_t)(i0 * p->n_head * p->head_dim);
        struct { uint32_t m, pos, n_kv, n_head, n_kv_head, head_dim, o_off, q_off, k_off, v_off; float scale; uint32_t chunk, nsplit; } pc = {
            (uint32_t)mi, (uint32_t)(p->pos + i0), (uint32_t)p->n_kv, (uint32_t)p->n_head, (uint32_t)p->n_kv_head,
            (uint32_t)p->head_dim, orl / 4 + row_words, qrl / 4 + row_words, krl / 4, vrl / 4, p->scale, 0, 1};
        st = dispatch(vk, name, w, &pc, sizeof pc, (uint32_t)p->n_head, (uint32_t)mi, 1);
    }
    return st;
}

int sb_vk_op_rmsnorm(sb_vk *vk, sb_vk_ref y, sb_vk_ref x, sb_vk_ref w, int64_t rows, int64_t n, float eps)
{
    int st = ready(vk);
    if (st) return st;
    if (!(eps >= 0) || n <= 0) return sb_vk_errf(vk, SB_KERR_ARG, "rmsnorm: eps %g, n %lld", (double)eps, (long long)n);
    uint64_t xb, wb;
    if ((st = f32_bytes(vk, rows, n, 1, &xb)) || (st = f32_bytes(vk, n, 1, 1, &wb))) return st;
    if ((st = need(vk, y, xb, "rmsnorm y")) || (st = need(vk, x, xb, "rmsnorm x")) || (st = need(vk, w, wb, "rmsnorm w")))
        return st;
    if (n == 0 || rows == 0) return SB_KOK;
    vk_win win[SB_VK_NBIND] = {{0}};
    uint32_t yr, xr, wr;
    if ((st = window(vk, y, xb, &win[0], &yr)) || (st = window(vk, x, xb, &win[1], &xr)) ||
        (st = window(vk, w, wb, &win[2], &wr)))
        return st;
    struct { uint32_t rows, n, y_off, x_off, w_off; float eps; } pc = {(uint32_t)rows, (uint32_t)n, yr / 4, xr / 4, wr / 4, eps};
    uint32_t gx, gy;
    grid2((uint64_t)rows, &gx, &gy);
    return dispatch(vk, "rmsnorm", win, &pc, sizeof pc, gx, gy, 1);
}

/* Records `bytes` of host data into a fresh batch-temporary buffer (vkCmdUpdateBuffer takes at
 * most 65536 bytes per call). */
static int record_data(sb_vk *vk, const void *src, size_t bytes, sb_vk_buf **out)
{
    if (bytes % 4) return sb_vk_errf(vk, SB_KERR_ARG, "record_data: %zu bytes, not whole words", bytes);
    int st = add_temp(vk, bytes, out);
    if (st) return st;
    full_barrier(vk);
    for (size_t i = 0; i < bytes; i += 65536) {
        size_t c = bytes - i < 65536 ? bytes - i : 65536;
        vk->fn.vkCmdUpdateBuffer(vk->cmd, (*out)->buffer, i, c, (const char *)src + i);
    }
    return SB_KOK;
}

int sb_vk_op_rope(sb_vk *vk, sb_vk_ref x, int64_t m, int n_heads, int head_dim, int64_t pos0,
                  const sb_rope_params *p)
{
    int st = ready(vk);
    if (st) return st;
    if (!p || n_heads <= 0 || head_dim <= 0 || pos0 < 0 || m < 0 || p->n_rot <= 0 || p->n_rot % 2 ||
        p->n_rot > head_dim || !(p->freq_base > 0) || !(p->freq_scale > 0) || !isfinite(p->freq_base) ||
        !isfinite(p->freq_scale) || (p->mode != SB_ROPE_NORMAL && p->mode != SB_ROPE_NEOX) ||
        pos0 > INT64_MAX - m)
        return sb_vk_errf(vk, SB_KERR_ARG, "rope: bad parameters");
    int h = p->n_rot / 2;
    if (p->freq_factors)
        for (int i = 0; i < h; i++)
            if (!(p->freq_factors[i] > 0) || !isfinite(p->freq_factors[i]))
                return sb_vk_errf(vk, SB_KERR_ARG, "rope: freq_factors[%d] not a positive number", i);
    uint64_t xb, tb;
    if ((st = f32_bytes(vk, m, n_heads, head_dim, &xb)) || (st = f32_bytes(vk, m, p->n_rot, 1, &tb))) return st;
    if ((st = need(vk, x, xb, "rope x"))) return st;
    if (m == 0) return SB_KOK;
    vk_win w[SB_VK_NBIND] = {{0}};
    uint32_t xr, tr;
    if ((st = window(vk, x, xb, &w[0], &xr))) return st;
    float *tab = malloc((size_t)tb);
    if (!tab) return sb_vk_errf(vk, SB_KERR_NOMEM, "out of host memory");
    /* The same θ as the ref kernel (kernels/ops.c), in double. */
    for (int64_t t = 0; t < m; t++) {
        double pos = (double)(pos0 + t);
        for (int i = 0; i < h; i++) {
            double theta = pos * p->freq_scale * pow(p->freq_base, -2.0 * i / p->n_rot);
            if (p->freq_factors) theta /= p->freq_factors[i];
            tab[2 * (t * h + i)] = (float)cos(theta);
            tab[2 * (t * h + i) + 1] = (float)sin(theta);
        }
    }
    sb_vk_buf *tbuf;
    st = record_data(vk, tab, (size_t)tb, &tbuf);
    free(tab);
    if (st || (st = window(vk, (sb_vk_ref){tbuf, 0}, tb, &w[1], &tr))) return st;
    struct { uint32_t m, n_heads, head_dim, n_rot, mode, x_off; } pc = {
        (uint32_t)m, (uint32_t)n_heads, (uint32_t)head_dim, (uint32_t)p->n_rot, (uint32_t)p->mode, xr / 4};
    uint64_t groups = ((uint64_t)m * (uint64_t)n_heads * (uint64_t)h + 255) / 256;
    return dispatch(vk, "rope", w, &pc, sizeof pc, groups < MAX_GROUPS ? (uint32_t)groups : MAX_GROUPS, 1, 1);
}

int sb_vk_op_softmax(sb_vk *vk, sb_vk_ref x, int64_t rows, int64_t n)
{
    int st = ready(vk);
    if (st) return st;
    uint64_t xb;
    if (n <= 0) return sb_vk_errf(vk, SB_KERR_ARG, "softmax: n %lld", (long long)n);
    if ((st = f32_bytes(vk, rows, n, 1, &xb)) || (st = need(vk, x, xb, "softmax x"))) return st;
    if (n == 0 || rows == 0) return SB_KOK;
    vk_win w[SB_VK_NBIND] = {{0}};
    uint32_t xr;
    if ((st = window(vk, x, xb, &w[0], &xr))) return st;
    struct { uint32_t rows, n, x_off; } pc = {(uint32_t)rows, (uint32_t)n, xr / 4};
    uint32_t gx, gy;
    grid2((uint64_t)rows, &gx, &gy);
    return dispatch(vk, "softmax", w, &pc, sizeof pc, gx, gy, 1);
}

/* y = a op b over n elements, b of b_n elements indexed modulo b_n (b_n divides n). */
static int eltwise(sb_vk *vk, const char *name, sb_vk_ref y, sb_vk_ref a, sb_vk_ref b, int64_t n, int64_t b_n)
{
    int st = ready(vk);
    if (st) return st;
    uint64_t bytes, bbytes;
    if ((st = f32_bytes(vk, n, 1, 1, &bytes)) || (st = f32_bytes(vk, b_n, 1, 1, &bbytes))) return st;
    if ((st = need(vk, y, bytes, "eltwise y")) || (st = need(vk, a, bytes, "eltwise a")) ||
        (st = need(vk, b, bbytes, "eltwise b")))
        return st;
    if (n == 0) return SB_KOK;
    if (b_n == 0 || n % b_n) return sb_vk_errf(vk, SB_KERR_SHAPE, "%s: %lld elements, b of %lld", name, (long long)n, (long long)b_n);
    vk_win w[SB_VK_NBIND] = {{0}};
    uint32_t yr, ar, br;
    if ((st = window(vk, y, bytes, &w[0], &yr)) || (st = window(vk, a, bytes, &w[1], &ar)) ||
        (st = window(vk, b, bbytes, &w[2], &br)))
        return st;
    struct { uint32_t n, b_n, y_off, a_off, b_off; } pc = {(uint32_t)n, (uint32_t)b_n, yr / 4, ar / 4, br / 4};
    uint64_t groups = ((uint64_t)n + 255) / 256;
    return dispatch(vk, name, w, &pc, sizeof pc, groups < MAX_GROUPS ? (uint32_t)groups : MAX_GROUPS, 1, 1);
}

int sb_vk_op_silu_mul(sb_vk *vk, sb_vk_ref y, sb_vk_ref gate, sb_vk_ref up, int64_t n)
{
    return eltwise(vk, "silu_mul", y, gate, up, n, n);
}
int sb_vk_op_add(sb_vk *vk, sb_vk_ref y, sb_vk_ref a, sb_vk_ref b, int64_t n) { return eltwise(vk, "add", y, a, b, n, n); }
int sb_vk_op_mul(sb_vk *vk, sb_vk_ref y, sb_vk_ref a, sb_vk_ref b, int64_t n) { return eltwise(vk, "mul", y, a, b, n, n); }

int sb_vk_op_add_row(sb_vk *vk, sb_vk_ref y, sb_vk_ref a, sb_vk_ref b, int64_t rows, int64_t n)
{
    if (rows < 0 || n < 0 || (n > 0 && rows > INT64_MAX / n)) return vk ? sb_vk_errf(vk, SB_KERR_ARG, "add_row: bad shape") : SB_KERR_ARG;
    if (rows == 0 || n == 0) return ready(vk);
    return eltwise(vk, "add", y, a, b, rows * n, n);
}

/* One get_rows dispatch: ids[ids_off ..+n_ids) of the ids buffer, rows of the table window. */
static int get_rows_part(sb_vk *vk, const char *name, sb_vk_ref y, sb_vk_ref table, uint64_t table_bytes,
                         sb_vk_buf *idb, uint32_t ids_off, int64_t n_ids, int64_t n_cols, uint64_t rb)
{
    vk_win w[SB_VK_NBIND] = {{0}};
    uint32_t yr, ir, tr;
    uint64_t yb = (uint64_t)n_ids * (uint64_t)n_cols * 4;
    int st;
    if ((st = window(vk, y, yb, &w[0], &yr)) || (st = window(vk, (sb_vk_ref){idb, 0}, idb->size, &w[1], &ir)) ||
        (st = window(vk, table, table_bytes, &w[2], &tr)))
        return st;
    struct { uint32_t n_ids, n_cols, y_off, ids_off, w_off, row_bytes; } pc = {
        (uint32_t)n_ids, (uint32_t)n_cols, yr / 4, ir / 4 + ids_off, tr, (uint32_t)rb};
    uint64_t groups = (yb / 4 + 255) / 256;
    return dispatch(vk, name, w, &pc, sizeof pc, groups < MAX_GROUPS ? (uint32_t)groups : MAX_GROUPS, 1, 1);
}

int sb_vk_op_get_rows(sb_vk *vk, sb_vk_ref y, sb_vk_ref table, sb_type t, int64_t n_rows, int64_t n_cols,
                      const int32_t *ids, int64_t n_ids)
{
    int st = ready(vk);
    if (st) return st;
    uint64_t rb, yb, tb;
    if (n_cols <= 0 || n_ids < 0) return sb_vk_errf(vk, SB_KERR_ARG, "get_rows: n_cols %lld, n_ids %lld", (long long)n_cols, (long long)n_ids);
    if ((st = row_bytes(vk, t, n_cols, &rb)) || (st = f32_bytes(vk, n_ids, n_cols, 1, &yb))) return st;
    if (n_rows < 0 || __builtin_mul_overflow(rb, (uint64_t)n_rows, &tb))
        return sb_vk_errf(vk, SB_KERR_ARG, "get_rows: bad table size");
    if ((st = need(vk, y, yb, "get_rows y")) || (st = need(vk, table, tb, "get_rows table"))) return st;
    if (n_ids > 0 && !ids) return sb_vk_errf(vk, SB_KERR_ARG, "get_rows: NULL ids");
    for (int64_t i = 0; i < n_ids; i++)
        if (ids[i] < 0 || ids[i] >= n_rows)
            return sb_vk_errf(vk, SB_KERR_ARG, "get_rows: id %d at %lld outside [0, %lld)", ids[i], (long long)i,
                              (long long)n_rows);
    if (n_ids == 0 || n_cols == 0) return SB_KOK;
    char name[32];
    snprintf(name, sizeof name, "getrows-%s", find_wfmt(t)->name);
    sb_vk_buf *idb;
    if (tb + 256 <= vk->range_limit) { /* the whole table in one window: one dispatch */
        if ((st = record_data(vk, ids, (size_t)n_ids * 4, &idb))) return st;
        return get_rows_part(vk, name, y, table, tb, idb, 0, n_ids, n_cols, rb);
    }
    /* A table larger than a window: one dispatch per id, the window at that row (id 0 in it). */
    static const int32_t zero = 0;
    if ((st = record_data(vk, &zero, 4, &idb))) return st;
    for (int64_t i = 0; i < n_ids && st == SB_KOK; i++) {
        sb_vk_ref yi = {y.buf, y.off + (size_t)((uint64_t)i * (uint64_t)n_cols * 4)};
        sb_vk_ref row = {table.buf, table.off + (size_t)((uint64_t)ids[i] * rb)};
        /* row.off may be any even byte offset (e.g. 18-byte q4_0 rows): the window starts at the
         * aligned offset below it and the shader's byte offset covers the rest. */
        st = get_rows_part(vk, name, yi, row, rb, idb, 0, 1, n_cols, rb);
    }
    return st;
}

int sb_vk_op_copy(sb_vk *vk, sb_vk_ref dst, sb_type dst_type, sb_vk_ref src, int64_t n)
{
    int st = ready(vk);
    if (st) return st;
    if (dst_type != SB_TYPE_F32 && dst_type != SB_TYPE_F16)
        return sb_vk_errf(vk, SB_KERR_UNSUPPORTED, "copy: destination type %d (f32 or f16 only)", (int)dst_type);
    uint64_t sb;
    if ((st = f32_bytes(vk, n, 1, 1, &sb))) return st;
    uint64_t db = dst_type == SB_TYPE_F16 ? sb / 2 : sb;
    if ((st = need(vk, src, sb, "copy src")) || (st = need(vk, dst, db, "copy dst"))) return st;
    if (n == 0) return SB_KOK;
    vk_win w[SB_VK_NBIND] = {{0}};
    uint32_t dr, sr;
    if ((st = window(vk, dst, (db + 3) / 4 * 4, &w[0], &dr)) || (st = window(vk, src, sb, &w[1], &sr))) return st;
    struct { uint32_t n, d_off, s_off; } pc = {(uint32_t)n, dr / 4, sr / 4};
    uint64_t items = dst_type == SB_TYPE_F16 ? ((uint64_t)n + 1) / 2 : (uint64_t)n;
    uint64_t groups = (items + 255) / 256;
    return dispatch(vk, dst_type == SB_TYPE_F16 ? "copy-f16" : "copy-f32", w, &pc, sizeof pc,
                    groups < MAX_GROUPS ? (uint32_t)groups : MAX_GROUPS, 1, 1);
}

/* ---------------------------------------------------------------- host API */

/* Up to 5 temporary buffers of one host call. */
typedef struct host_call {
    sb_vk *vk;
    double t0;
    sb_vk_buf *b[5];
    int n;
} host_call;

static int hc_buf(host_call *hc, const void *src, size_t bytes, sb_vk_ref *out)
{
    sb_vk_buf *b;
    int st = sb_vk_buf_create(hc->vk, bytes, &b);
    if (st) return st;
    hc->b[hc->n++] = b;
    if (src && bytes) st = sb_vk_buf_upload(hc->vk, b, 0, src, bytes);
    *out = (sb_vk_ref){b, 0};
    return st;
}

static int hc_begin(host_call *hc, sb_vk *vk)
{
    memset(hc, 0, sizeof *hc);
    hc->vk = vk;
    hc->t0 = now_s();
    if (!vk) return SB_KERR_ARG;
    if (vk->recording) return sb_vk_errf(vk, SB_KERR_ARG, "host call inside an open batch");
    return SB_KOK;
}

/* Frees the call's buffers, fills the timing; passes `st` through. */
static int hc_end(host_call *hc, int st, sb_vk_timing *t, const sb_vk_timing *bt)
{
    if (hc->vk && hc->vk->recording) abandon(hc->vk);
    for (int i = 0; i < hc->n; i++) sb_vk_buf_free(hc->vk, hc->b[i]);
    if (t) {
        t->host_s = now_s() - hc->t0;
        t->device_s = bt ? bt->device_s : 0;
        t->dispatches = bt ? bt->dispatches : 0;
    }
    return st;
}

static int host_size(sb_vk *vk, int64_t a, int64_t b, int64_t c, size_t *bytes)
{
    uint64_t v;
    int st = f32_bytes(vk, a, b, c, &v);
    *bytes = (size_t)v;
    return st;
}

int sb_vk_matmul(sb_vk *vk, float *Y, const float *X, const void *W, sb_type wtype, int64_t m, int64_t n,
                 int64_t k, sb_vk_timing *t)
{
    host_call hc;
    sb_vk_timing bt = {0};
    int st = hc_begin(&hc, vk);
    if (st) return st;
    if (!Y || !X || !W) return hc_end(&hc, sb_vk_errf(vk, SB_KERR_ARG, "matmul: NULL pointer"), t, NULL);
    uint64_t rb;
    size_t yb = 0, xb = 0;
    sb_vk_ref ry, rx, rw;
    if ((st = row_bytes(vk, wtype, k, &rb)) || (st = host_size(vk, m, n, 1, &yb)) || (st = host_size(vk, m, k, 1, &xb)))
        return hc_end(&hc, st, t, NULL);
    if (n < 0 || (n > 0 && rb > SIZE_MAX / (uint64_t)n)) return hc_end(&hc, sb_vk_errf(vk, SB_KERR_ARG, "W too large"), t, NULL);
    if ((st = hc_buf(&hc, NULL, yb, &ry)) || (st = hc_buf(&hc, X, xb, &rx)) ||
        (st = hc_buf(&hc, W, (size_t)(rb * (uint64_t)n), &rw)) || (st = sb_vk_begin(vk)) ||
        (st = sb_vk_op_matmul(vk, ry, rx, rw, wtype, m, n, k)) || (st = sb_vk_submit(vk, &bt)) ||
        (st = sb_vk_buf_download(vk, ry.buf, 0, Y, yb)))
        return hc_end(&hc, st, t, &bt);
    return hc_end(&hc, SB_KOK, t, &bt);
}

int sb_vk_attention(sb_vk *vk, float *out, const float *Q, const void *K, const void *V, const sb_attn_params *p,
                    sb_vk_timing *t)
{
    host_call hc;
    sb_vk_timing bt = {0};
    int st = hc_begin(&hc, vk);
    if (st) return st;
    if (!out || !Q || !K || !V || !p) return hc_end(&hc, sb_vk_errf(vk, SB_KERR_ARG, "attention: NULL pointer"), t, NULL);
    size_t qb = 0, kvb = 0;
    if ((st = host_size(vk, p->m, p->n_head, p->head_dim, &qb)) ||
        (st = host_size(vk, p->n_kv, p->n_kv_head, p->head_dim, &kvb)))
        return hc_end(&hc, st, t, NULL);
    if (p->kv_type == SB_TYPE_F16) kvb /= 2;
    sb_vk_ref ro, rq, rk, rv;
    if ((st = hc_buf(&hc, NULL, qb, &ro)) || (st = hc_buf(&hc, Q, qb, &rq)) || (st = hc_buf(&hc, K, kvb, &rk)) ||
        (st = hc_buf(&hc, V, kvb, &rv)) || (st = sb_vk_begin(vk)) || (st = sb_vk_op_attention(vk, ro, rq, rk, rv, p)) ||
        (st = sb_vk_submit(vk, &bt)) || (st = sb_vk_buf_download(vk, ro.buf, 0, out, qb)))
        return hc_end(&hc, st, t, &bt);
    return hc_end(&hc, SB_KOK, t, &bt);
}

int sb_vk_rmsnorm(sb_vk *vk, float *y, const float *x, const float *w, int64_t rows, int64_t n, float eps,
                  sb_vk_timing *t)
{
    host_call hc;
    sb_vk_timing bt = {0};
    int st = hc_begin(&hc, vk);
    if (st) return st;
    if (!y || !x || !w) return hc_end(&hc, sb_vk_errf(vk, SB_KERR_ARG, "rmsnorm: NULL pointer"), t, NULL);
    size_t xb = 0, wb = 0;
    if ((st = host_size(vk, rows, n, 1, &xb)) || (st = host_size(vk, n, 1, 1, &wb))) return hc_end(&hc, st, t, NULL);
    sb_vk_ref rx, rw;
    if ((st = hc_buf(&hc, x, xb, &rx)) || (st = hc_buf(&hc, w, wb, &rw)) || (st = sb_vk_begin(vk)) ||
        (st = sb_vk_op_rmsnorm(vk, rx, rx, rw, rows, n, eps)) || (st = sb_vk_submit(vk, &bt)) ||
        (st = sb_vk_buf_download(vk, rx.buf, 0, y, xb)))
        return hc_end(&hc, st, t, &bt);
    return hc_end(&hc, SB_KOK, t, &bt);
}

int sb_vk_rope(sb_vk *vk, float *x, int64_t m, int n_heads, int head_dim, int64_t pos0, const sb_rope_params *p,
               sb_vk_timing *t)
{
    host_call hc;
    sb_vk_timing bt = {0};
    int st = hc_begin(&hc, vk);
    if (st) return st;
    if (!x || !p) return hc_end(&hc, sb_vk_errf(vk, SB_KERR_ARG, "rope: NULL pointer"), t, NULL);
    size_t xb = 0;
    sb_vk_ref rx;
    if ((st = host_size(vk, m, n_heads, head_dim, &xb)) || (st = hc_buf(&hc, x, xb, &rx)) || (st = sb_vk_begin(vk)) ||
        (st = sb_vk_op_rope(vk, rx, m, n_heads, head_dim, pos0, p)) || (st = sb_vk_submit(vk, &bt)) ||
        (st = sb_vk_buf_download(vk, rx.buf, 0, x, xb)))
        return hc_end(&hc, st, t, &bt);
    return hc_end(&hc, SB_KOK, t, &bt);
}

int sb_vk_softmax(sb_vk *vk, float *x, int64_t rows, int64_t n, sb_vk_timing *t)
{
    host_call hc;
    sb_vk_timing bt = {0};
    int st = hc_begin(&hc, vk);
    if (st) return st;
    if (!x) return hc_end(&hc, sb_vk_errf(vk, SB_KERR_ARG, "softmax: NULL pointer"), t, NULL);
    size_t xb = 0;
    sb_vk_ref rx;
    if ((st = host_size(vk, rows, n, 1, &xb)) || (st = hc_buf(&hc, x, xb, &rx)) || (st = sb_vk_begin(vk)) ||
        (st = sb_vk_op_softmax(vk, rx, rows, n)) || (st = sb_vk_submit(vk, &bt)) ||
        (st = sb_vk_buf_download(vk, rx.buf, 0, x, xb)))
        return hc_end(&hc, st, t, &bt);
    return hc_end(&hc, SB_KOK, t, &bt);
}

static int host_eltwise(sb_vk *vk, int (*op)(sb_vk *, sb_vk_ref, sb_vk_ref, sb_vk_ref, int64_t), float *y,
                        const float *a, const float *b, int64_t n, sb_vk_timing *t)
{
    host_call hc;
    sb_vk_timing bt = {0};
    int st = hc_begin(&hc, vk);
    if (st) return st;
    if (!y || !a || !b) return hc_end(&hc, sb_vk_errf(vk, SB_KERR_ARG, "NULL pointer"), t, NULL);
    size_t bytes = 0;
    sb_vk_ref ra, rb;
    if ((st = host_size(vk, n, 1, 1, &bytes)) || (st = hc_buf(&hc, a, bytes, &ra)) || (st = hc_buf(&hc, b, bytes, &rb)) ||
        (st = sb_vk_begin(vk)) || (st = op(vk, ra, ra, rb, n)) || (st = sb_vk_submit(vk, &bt)) ||
        (st = sb_vk_buf_download(vk, ra.buf, 0, y, bytes)))
        return hc_end(&hc, st, t, &bt);
    return hc_end(&hc, SB_KOK, t, &bt);
}

int sb_vk_silu_mul(sb_vk *vk, float *y, const float *gate, const float *up, int64_t n, sb_vk_timing *t)
{
    return host_eltwise(vk, sb_vk_op_silu_mul, y, gate, up, n, t);
}
int sb_vk_add(sb_vk *vk, float *y, const float *a, const float *b, int64_t n, sb_vk_timing *t)
{
    return host_eltwise(vk, sb_vk_op_add, y, a, b, n, t);
}
int sb_vk_mul(sb_vk *vk, float *y, const float *a, const float *b, int64_t n, sb_vk_timing *t)
{
    return host_eltwise(vk, sb_vk_op_mul, y, a, b, n, t);
}

int sb_vk_get_rows(sb_vk *vk, float *y, const void *table, sb_type t, int64_t n_rows, int64_t n_cols,
                   const int32_t *ids, int64_t n_ids, sb_vk_timing *tm)
{
    host_call hc;
    sb_vk_timing bt = {0};
    int st = hc_begin(&hc, vk);
    if (st) return st;
    if (!y || !table || (n_ids > 0 && !ids)) return hc_end(&hc, sb_vk_errf(vk, SB_KERR_ARG, "get_rows: NULL pointer"), tm, NULL);
    uint64_t rb;
    size_t yb = 0;
    if ((st = row_bytes(vk, t, n_cols, &rb)) || (st = host_size(vk, n_ids, n_cols, 1, &yb))) return hc_end(&hc, st, tm, NULL);
    if (n_rows < 0 || (n_rows > 0 && rb > SIZE_MAX / (uint64_t)n_rows))
        return hc_end(&hc, sb_vk_errf(vk, SB_KERR_ARG, "get_rows: bad table size"), tm, NULL);
    sb_vk_ref ry, rt;
    if ((st = hc_buf(&hc, NULL, yb, &ry)) || (st = hc_buf(&hc, table, (size_t)(rb * (uint64_t)n_rows), &rt)) ||
        (st = sb_vk_begin(vk)) || (st = sb_vk_op_get_rows(vk, ry, rt, t, n_rows, n_cols, ids, n_ids)) ||
        (st = sb_vk_submit(vk, &bt)) || (st = sb_vk_buf_download(vk, ry.buf, 0, y, yb)))
        return hc_end(&hc, st, tm, &bt);
    return hc_end(&hc, SB_KOK, tm, &bt);
}
