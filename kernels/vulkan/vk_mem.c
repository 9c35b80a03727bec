/* Vulkan back end: device memory. Buffers are sub-allocated from large VkDeviceMemory blocks
 * (first fit, free ranges coalesced), so a model's hundreds of tensors take a handful of
 * allocations. On unified memory the blocks are host-visible and persistently mapped: uploads and
 * downloads are memcpy. Otherwise the blocks are device-local and data moves through a
 * host-visible staging buffer with vkCmdCopyBuffer. */
#include <stdlib.h>
#include <string.h>

#include "kernels/vulkan/vk_internal.h"

#define BLOCK_BYTES ((uint64_t)64 << 20)    /* default block size                    */
#define STAGING_BYTES ((size_t)8 << 20)     /* staging buffer (separate memory only) */
#define BUF_USAGE (VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | \
                   VK_BUFFER_USAGE_TRANSFER_DST_BIT)

static int find_type(const VkPhysicalDeviceMemoryProperties *mp, uint32_t bits, VkMemoryPropertyFlags want,
                     VkMemoryPropertyFlags avoid)
{
    for (uint32_t i = 0; i < mp->memoryTypeCount; i++)
        if ((bits & (1u << i)) && (mp->memoryTypes[i].propertyFlags & want) == want &&
            (mp->memoryTypes[i].propertyFlags & avoid) == 0)
            return (int)i;
    return -1;
}

/* Memory type bits a storage buffer accepts (probed with a tiny buffer). */
static int probe_type_bits(sb_vk *vk, uint32_t *bits)
{
    VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = 256,
                              .usage = BUF_USAGE, .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VkBuffer b;
    VkResult r = vk->fn.vkCreateBuffer(vk->device, &bci, NULL, &b);
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkCreateBuffer");
    VkMemoryRequirements req;
    vk->fn.vkGetBufferMemoryRequirements(vk->device, b, &req);
    vk->fn.vkDestroyBuffer(vk->device, b, NULL);
    *bits = req.memoryTypeBits;
    return SB_KOK;
}

static int block_new(sb_vk *vk, uint32_t type, uint64_t size)
{
    if (vk->n_blocks == vk->cap_blocks) {
        int cap = vk->cap_blocks ? vk->cap_blocks * 2 : 8;
        vk_block *nb = realloc(vk->blocks, (size_t)cap * sizeof *nb);
        if (!nb) return sb_vk_errf(vk, SB_KERR_NOMEM, "out of host memory");
        vk->blocks = nb;
        vk->cap_blocks = cap;
    }
    vk_block *b = &vk->blocks[vk->n_blocks];
    memset(b, 0, sizeof *b);
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = size,
                               .memoryTypeIndex = type};
    VkResult r = vk->fn.vkAllocateMemory(vk->device, &ai, NULL, &b->mem);
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkAllocateMemory");
    b->size = size;
    b->type = type;
    if (vk->memprops.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
        r = vk->fn.vkMapMemory(vk->device, b->mem, 0, VK_WHOLE_SIZE, 0, &b->map);
        if (r != VK_SUCCESS) {
            vk->fn.vkFreeMemory(vk->device, b->mem, NULL);
            return sb_vk_fail(vk, r, "vkMapMemory");
        }
    }
    b->free = malloc(8 * sizeof *b->free);
    if (!b->free) {
        vk->fn.vkFreeMemory(vk->device, b->mem, NULL);
        return sb_vk_errf(vk, SB_KERR_NOMEM, "out of host memory");
    }
    b->cap_free = 8;
    b->n_free = 1;
    b->free[0] = (vk_range){0, size};
    vk->n_blocks++;
    return SB_KOK;
}

/* Takes an aligned range of `size` bytes from block bi; 1 on success. */
static int block_take(vk_block *b, uint64_t size, uint64_t align, uint64_t *off)
{
    for (int i = 0; i < b->n_free; i++) {
        vk_range *f = &b->free[i];
        uint64_t start = (f->off + align - 1) / align * align;
        if (start < f->off || start - f->off > f->size || f->size - (start - f->off) < size) continue;
        uint64_t end = start + size, fend = f->off + f->size;
        /* Keep the head [f->off, start) and the tail [end, fend) free. The head is < align, so it is
         * kept only to be coalesced back later. */
        if (start > f->off && end < fend) {
            if (b->n_free == b->cap_free) return 0; /* caller grows and retries */
            memmove(&b->free[i + 2], &b->free[i + 1], (size_t)(b->n_free - i - 1) * sizeof *f);
            b->free[i + 1] = (vk_range){end, fend - end};
            f->size = start - f->off;
            b->n_free++;
        } else if (start > f->off) {
            f->size = start - f->off;
        } else if (end < fend) {
            f->off = end;
            f->size = fend - end;
        } else {
            memmove(f, f + 1, (size_t)(b->n_free - i - 1) * sizeof *f);
            b->n_free--;
        }
        *off = start;
        return 1;
    }
    return 0;
}

static int block_grow_free(sb_vk *vk, vk_block *b)
{
    if (b->n_free < b->cap_free) return SB_KOK;
    vk_range *nf = realloc(b->free, (size_t)b->cap_free * 2 * sizeof *nf);
    if (!nf) return sb_vk_errf(vk, SB_KERR_NOMEM, "out of host memory");
    b->free = nf;
    b->cap_free *= 2;
    return SB_KOK;
}

/* Returns [off, off+size) to the block's free list, coalescing with neighbours. */
static int block_give(sb_vk *vk, vk_block *b, uint64_t off, uint64_t size)
{
    int st = block_grow_free(vk, b);
    if (st) return st;
    int i = 0;
    while (i < b->n_free && b->free[i].off < off) i++;
    memmove(&b->free[i + 1], &b->free[i], (size_t)(b->n_free - i) * sizeof *b->free);
    b->free[i] = (vk_range){off, size};
    b->n_free++;
    if (i + 1 < b->n_free && b->free[i].off + b->free[i].size == b->free[i + 1].off) {
        b->free[i].size += b->free[i + 1].size;
        memmove(&b->free[i + 1], &b->free[i + 2], (size_t)(b->n_free - i - 2) * sizeof *b->free);
        b->n_free--;
    }
    if (i > 0 && b->free[i - 1].off + b->free[i - 1].size == b->free[i].off) {
        b->free[i - 1].size += b->free[i].size;
        memmove(&b->free[i], &b->free[i + 1], (size_t)(b->n_free - i - 1) * sizeof *b->free);
        b->n_free--;
    }
    return SB_KOK;
}

static int buf_create_type(sb_vk *vk, size_t bytes, uint32_t type, sb_vk_buf **out)
{
    *out = NULL;
    if (vk->lost) return sb_vk_errf(vk, SB_KERR_DEVICE, "device lost earlier");
    if (vk->info.max_allocation && bytes > vk->info.max_allocation - 16)
        return sb_vk_errf(vk, SB_KERR_UNSUPPORTED, "buffer of %zu bytes exceeds maxMemoryAllocationSize %llu",
                          bytes, (unsigned long long)vk->info.max_allocation);
    size_t size = bytes < 16 ? 16 : (bytes + 15) / 16 * 16;
    sb_vk_buf *b = calloc(1, sizeof *b);
    if (!b) return sb_vk_errf(vk, SB_KERR_NOMEM, "out of host memory");
    VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size,
                              .usage = BUF_USAGE, .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VkResult r = vk->fn.vkCreateBuffer(vk->device, &bci, NULL, &b->buffer);
    if (r != VK_SUCCESS) {
        free(b);
        return sb_vk_fail(vk, r, "vkCreateBuffer");
    }
    VkMemoryRequirements req;
    vk->fn.vkGetBufferMemoryRequirements(vk->device, b->buffer, &req);
    uint64_t align = req.alignment < 64 ? 64 : req.alignment;
    uint64_t span = (req.size + 63) / 64 * 64;
    int st = SB_KOK, bi = -1;
    uint64_t off = 0;
    for (int i = 0; i < vk->n_blocks && bi < 0; i++) {
        if (vk->blocks[i].type != type) continue;
        if ((st = block_grow_free(vk, &vk->blocks[i])) != SB_KOK) break;
        if (block_take(&vk->blocks[i], span, align, &off)) bi = i;
    }
    if (bi < 0 && st == SB_KOK) {
        uint64_t bsize = span > BLOCK_BYTES ? span : BLOCK_BYTES;
        if (vk->info.max_allocation && bsize > vk->info.max_allocation) bsize = span;
        st = block_new(vk, type, bsize);
        if (st == SB_KOK) {
            bi = vk->n_blocks - 1;
            if (!block_take(&vk->blocks[bi], span, align, &off)) st = sb_vk_errf(vk, SB_KERR_NOMEM, "allocator: fresh block too small");
        }
    }
    if (st == SB_KOK) {
        r = vk->fn.vkBindBufferMemory(vk->device, b->buffer, vk->blocks[bi].mem, off);
        if (r != VK_SUCCESS) {
            block_give(vk, &vk->blocks[bi], off, span);
            st = sb_vk_fail(vk, r, "vkBindBufferMemory");
        }
    }
    if (st != SB_KOK) {
        vk->fn.vkDestroyBuffer(vk->device, b->buffer, NULL);
        free(b);
        return st;
    }
    b->size = bytes;
    b->vksize = size;
    b->block = bi;
    b->off = off;
    b->span = span;
    b->next = vk->bufs;
    if (vk->bufs) vk->bufs->prev = b;
    vk->bufs = b;
    vk->buffer_bytes += span;
    *out = b;
    return SB_KOK;
}

int sb_vk_buf_create(sb_vk *vk, size_t bytes, sb_vk_buf **out)
{
    if (!vk || !out) return SB_KERR_ARG;
    return buf_create_type(vk, bytes, vk->mem_type, out);
}

void sb_vk_buf_free(sb_vk *vk, sb_vk_buf *b)
{
    if (!vk || !b) return;
    vk->fn.vkDestroyBuffer(vk->device, b->buffer, NULL);
    block_give(vk, &vk->blocks[b->block], b->off, b->span);
    if (b->prev) b->prev->next = b->next; else vk->bufs = b->next;
    if (b->next) b->next->prev = b->prev;
    vk->buffer_bytes -= b->span;
    free(b);
}

size_t sb_vk_buf_size(const sb_vk_buf *b) { return b ? b->size : 0; }

void sb_vk_memory_usage(const sb_vk *vk, uint64_t *block_bytes, uint64_t *buffer_bytes)
{
    uint64_t total = 0;
    for (int i = 0; vk && i < vk->n_blocks; i++) total += vk->blocks[i].size;
    if (block_bytes) *block_bytes = total;
    if (buffer_bytes) *buffer_bytes = vk ? vk->buffer_bytes : 0;
}

/* Runs one transfer command (staging path): copy src→dst of `bytes`, with barriers that order it
 * after earlier compute/transfer work and make the result visible to later shaders and the host. */
static int xfer_copy(sb_vk *vk, VkBuffer src, VkDeviceSize src_off, VkBuffer dst, VkDeviceSize dst_off,
                     VkDeviceSize bytes)
{
    VkResult r = vk->fn.vkResetCommandPool(vk->device, vk->xfer_pool, 0);
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkResetCommandPool");
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    r = vk->fn.vkBeginCommandBuffer(vk->xfer_cmd, &bi);
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkBeginCommandBuffer");
    VkMemoryBarrier before = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                              .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                              .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT};
    vk->fn.vkCmdPipelineBarrier(vk->xfer_cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                                VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &before, 0, NULL, 0, NULL);
    VkBufferCopy region = {.srcOffset = src_off, .dstOffset = dst_off, .size = bytes};
    vk->fn.vkCmdCopyBuffer(vk->xfer_cmd, src, dst, 1, &region);
    VkMemoryBarrier after = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                             .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                             .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                              VK_ACCESS_HOST_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                                              VK_ACCESS_TRANSFER_WRITE_BIT};
    vk->fn.vkCmdPipelineBarrier(vk->xfer_cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                                VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_HOST_BIT |
                                    VK_PIPELINE_STAGE_TRANSFER_BIT,
                                0, 1, &after, 0, NULL, 0, NULL);
    r = vk->fn.vkEndCommandBuffer(vk->xfer_cmd);
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkEndCommandBuffer");
    r = vk->fn.vkResetFences(vk->device, 1, &vk->xfer_fence);
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkResetFences");
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                       .pCommandBuffers = &vk->xfer_cmd};
    r = vk->fn.vkQueueSubmit(vk->queue, 1, &si, vk->xfer_fence);
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkQueueSubmit");
    r = vk->fn.vkWaitForFences(vk->device, 1, &vk->xfer_fence, VK_TRUE, (uint64_t)60 * 1000000000u);
    if (r == VK_TIMEOUT) {
        vk->lost = 1;
        return sb_vk_errf(vk, SB_KERR_DEVICE, "vkWaitForFences: transfer did not finish in 60 s");
    }
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkWaitForFences");
    return SB_KOK;
}

static int check_range(sb_vk *vk, const sb_vk_buf *b, size_t off, size_t bytes, const void *p)
{
    if (!b || (bytes && !p)) return sb_vk_errf(vk, SB_KERR_ARG, "NULL buffer or pointer");
    if (off > b->size || bytes > b->size - off)
        return sb_vk_errf(vk, SB_KERR_ARG, "range [%zu, +%zu) outside buffer of %zu bytes", off, bytes, b->size);
    if (vk->recording) return sb_vk_errf(vk, SB_KERR_ARG, "upload/download inside a batch");
    if (vk->lost) return sb_vk_errf(vk, SB_KERR_DEVICE, "device lost earlier");
    return SB_KOK;
}

int sb_vk_buf_upload(sb_vk *vk, sb_vk_buf *b, size_t off, const void *src, size_t bytes)
{
    if (!vk) return SB_KERR_ARG;
    int st = check_range(vk, b, off, bytes, src);
    if (st || bytes == 0) return st;
    if (vk->mem_host_visible) {
        memcpy((char *)vk->blocks[b->block].map + b->off + off, src, bytes);
        return SB_KOK;
    }
    /* vkCmdCopyBuffer needs no alignment, but keep chunks a multiple of 4 for tidiness. */
    size_t done = 0;
    while (done < bytes) {
        size_t chunk = bytes - done < STAGING_BYTES ? bytes - done : STAGING_BYTES;
        memcpy((char *)vk->blocks[vk->staging->block].map + vk->staging->off, (const char *)src + done, chunk);
        st = xfer_copy(vk, vk->staging->buffer, 0, b->buffer, off + done, chunk);
        if (st) return st;
        done += chunk;
    }
    return SB_KOK;
}

int sb_vk_buf_download(sb_vk *vk, const sb_vk_buf *b, size_t off, void *dst, size_t bytes)
{
    if (!vk) return SB_KERR_ARG;
    int st = check_range(vk, b, off, bytes, dst);
    if (st || bytes == 0) return st;
    if (vk->mem_host_visible) {
        memcpy(dst, (const char *)vk->blocks[b->block].map + b->off + off, bytes);
        return SB_KOK;
    }
    size_t done = 0;
    while (done < bytes) {
        size_t chunk = bytes - done < STAGING_BYTES ? bytes - done : STAGING_BYTES;
        st = xfer_copy(vk, b->buffer, off + done, vk->staging->buffer, 0, chunk);
        if (st) return st;
        memcpy((char *)dst + done, (const char *)vk->blocks[vk->staging->block].map + vk->staging->off, chunk);
        done += chunk;
    }
    return SB_KOK;
}

int sb_vk_mem_init(sb_vk *vk)
{
    vk->fn.vkGetPhysicalDeviceMemoryProperties(vk->phys, &vk->memprops);
    uint32_t bits = 0;
    int st = probe_type_bits(vk, &bits);
    if (st) return st;
    const VkMemoryPropertyFlags dl = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
    const VkMemoryPropertyFlags hv = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    const char *force = getenv("SB_VK_STAGING");
    int t = -1;
    if (vk->info.unified_memory && !(force && strcmp(force, "1") == 0)) {
        t = find_type(&vk->memprops, bits, dl | hv, 0);
        if (t >= 0) vk->mem_host_visible = 1;
    }
    if (t < 0) {
        t = find_type(&vk->memprops, bits, dl, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
        if (t < 0) t = find_type(&vk->memprops, bits, dl, 0);
        if (t < 0) t = find_type(&vk->memprops, bits, 0, 0);
        if (t < 0) return sb_vk_errf(vk, SB_KERR_UNSUPPORTED, "no memory type for storage buffers");
        int s = find_type(&vk->memprops, bits, hv | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, 0);
        if (s < 0) s = find_type(&vk->memprops, bits, hv, 0);
        if (s < 0) return sb_vk_errf(vk, SB_KERR_UNSUPPORTED, "no host-visible coherent memory type for staging");
        vk->staging_type = (uint32_t)s;
    }
    vk->mem_type = (uint32_t)t;
    if (!vk->mem_host_visible) {
        st = buf_create_type(vk, STAGING_BYTES, vk->staging_type, &vk->staging);
        if (st) return st;
        VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                       .flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT,
                                       .queueFamilyIndex = vk->queue_family};
        VkResult r = vk->fn.vkCreateCommandPool(vk->device, &pci, NULL, &vk->xfer_pool);
        if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkCreateCommandPool");
        VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                          .commandPool = vk->xfer_pool,
                                          .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                          .commandBufferCount = 1};
        r = vk->fn.vkAllocateCommandBuffers(vk->device, &ai, &vk->xfer_cmd);
        if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkAllocateCommandBuffers");
        VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        r = vk->fn.vkCreateFence(vk->device, &fci, NULL, &vk->xfer_fence);
        if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkCreateFence");
    }
    return SB_KOK;
}

void sb_vk_mem_free_all(sb_vk *vk)
{
    while (vk->bufs) sb_vk_buf_free(vk, vk->bufs);
    vk->staging = NULL;
    vk->dummy = NULL;
    if (vk->xfer_fence) vk->fn.vkDestroyFence(vk->device, vk->xfer_fence, NULL);
    if (vk->xfer_pool) vk->fn.vkDestroyCommandPool(vk->device, vk->xfer_pool, NULL);
    for (int i = 0; i < vk->n_blocks; i++) {
        if (vk->blocks[i].map) vk->fn.vkUnmapMemory(vk->device, vk->blocks[i].mem);
        vk->fn.vkFreeMemory(vk->device, vk->blocks[i].mem, NULL);
        free(vk->blocks[i].free);
    }
    free(vk->blocks);
    vk->blocks = NULL;
    vk->n_blocks = vk->cap_blocks = 0;
}
