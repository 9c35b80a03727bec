/* Vulkan back end: loader, instance, validation messenger, devices, context open/close, errors.
 * The loader is dlopen'ed so that a machine without Vulkan gets a status, not a failed exec. */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/vulkan/vk_internal.h"

/* ---------------------------------------------------------------- errors */

const char *sb_vk_result_str(VkResult r)
{
    switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_INCOMPLETE: return "VK_INCOMPLETE";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_FORMAT_NOT_SUPPORTED: return "VK_ERROR_FORMAT_NOT_SUPPORTED";
    case VK_ERROR_FRAGMENTED_POOL: return "VK_ERROR_FRAGMENTED_POOL";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    case VK_ERROR_INVALID_EXTERNAL_HANDLE: return "VK_ERROR_INVALID_EXTERNAL_HANDLE";
    case VK_ERROR_FRAGMENTATION: return "VK_ERROR_FRAGMENTATION";
    case VK_ERROR_UNKNOWN: return "VK_ERROR_UNKNOWN";
    default: return "VkResult(unknown)";
    }
}

int sb_vk_errf(sb_vk *vk, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(vk->err, sizeof vk->err, fmt, ap);
    va_end(ap);
    return status;
}

int sb_vk_fail(sb_vk *vk, VkResult r, const char *call)
{
    snprintf(vk->err, sizeof vk->err, "%s failed: %s (%d)", call, sb_vk_result_str(r), (int)r);
    if (r == VK_ERROR_DEVICE_LOST) vk->lost = 1;
    if (r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_OUT_OF_DEVICE_MEMORY) return SB_KERR_NOMEM;
    return SB_KERR_DEVICE;
}

static void set_reason(char *reason, size_t len, const char *msg)
{
    if (reason && len) snprintf(reason, len, "%s", msg);
}

/* ---------------------------------------------------------------- loader and instance */

/* Opens libvulkan and returns vkGetInstanceProcAddr, or NULL with the reason in vk->err. */
static PFN_vkGetInstanceProcAddr load_loader(sb_vk *vk)
{
    vk->lib = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!vk->lib) vk->lib = dlopen("libvulkan.so", RTLD_NOW | RTLD_LOCAL);
    if (!vk->lib) {
        const char *e = dlerror();
        sb_vk_errf(vk, 0, "Vulkan loader not found (dlopen libvulkan.so.1: %s)", e ? e : "?");
        return NULL;
    }
    PFN_vkGetInstanceProcAddr gipa;
    *(void **)&gipa = dlsym(vk->lib, "vkGetInstanceProcAddr");
    if (!gipa) sb_vk_errf(vk, 0, "libvulkan.so.1 has no vkGetInstanceProcAddr");
    return gipa;
}

static VKAPI_ATTR VkBool32 VKAPI_CALL on_debug_message(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT types,
    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user)
{
    sb_vk *vk = user;
    if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) {
        vk->validation_errors++;
        fprintf(stderr, "vulkan validation error: %s\n", data && data->pMessage ? data->pMessage : "?");
    } else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
        fprintf(stderr, "vulkan validation warning: %s\n", data && data->pMessage ? data->pMessage : "?");
    }
    return VK_FALSE;
}

static int has_layer(PFN_vkEnumerateInstanceLayerProperties enum_layers, const char *name)
{
    uint32_t n = 0;
    if (!enum_layers || enum_layers(&n, NULL) != VK_SUCCESS || n == 0) return 0;
    VkLayerProperties *p = calloc(n, sizeof *p);
    if (!p) return 0;
    int found = 0;
    if (enum_layers(&n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n; i++)
            if (strcmp(p[i].layerName, name) == 0) found = 1;
    free(p);
    return found;
}

static int has_instance_ext(PFN_vkEnumerateInstanceExtensionProperties enum_ext, const char *layer,
                            const char *name)
{
    uint32_t n = 0;
    if (!enum_ext || enum_ext(layer, &n, NULL) != VK_SUCCESS || n == 0) return 0;
    VkExtensionProperties *p = calloc(n, sizeof *p);
    if (!p) return 0;
    int found = 0;
    if (enum_ext(layer, &n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n; i++)
            if (strcmp(p[i].extensionName, name) == 0) found = 1;
    free(p);
    return found;
}

static const char *VALIDATION_LAYER = "VK_LAYER_KHRONOS_validation";

/* Loads the loader, creates the instance (with the validation layer when asked and installed)
 * and the entry points. Returns SB_KOK or SB_KERR_UNSUPPORTED/DEVICE with vk->err set. */
static int create_instance(sb_vk *vk, int want_validation)
{
    PFN_vkGetInstanceProcAddr gipa = load_loader(vk);
    if (!gipa) return SB_KERR_UNSUPPORTED;
    PFN_vkCreateInstance create = (PFN_vkCreateInstance)gipa(NULL, "vkCreateInstance");
    PFN_vkEnumerateInstanceVersion enum_version =
        (PFN_vkEnumerateInstanceVersion)gipa(NULL, "vkEnumerateInstanceVersion");
    PFN_vkEnumerateInstanceLayerProperties enum_layers =
        (PFN_vkEnumerateInstanceLayerProperties)gipa(NULL, "vkEnumerateInstanceLayerProperties");
    PFN_vkEnumerateInstanceExtensionProperties enum_ext =
        (PFN_vkEnumerateInstanceExtensionProperties)gipa(NULL, "vkEnumerateInstanceExtensionProperties");
    if (!create) return sb_vk_errf(vk, SB_KERR_UNSUPPORTED, "Vulkan loader lacks vkCreateInstance");

    uint32_t version = VK_API_VERSION_1_0;
    if (enum_version && enum_version(&version) != VK_SUCCESS) version = VK_API_VERSION_1_0;
    if (version < VK_API_VERSION_1_1)
        return sb_vk_errf(vk, SB_KERR_UNSUPPORTED, "Vulkan 1.1 needed, the loader offers %u.%u",
                          VK_API_VERSION_MAJOR(version), VK_API_VERSION_MINOR(version));
    if (version > VK_API_VERSION_1_3) version = VK_API_VERSION_1_3;

    const char *layers[1];
    const char *exts[2];
    uint32_t n_layers = 0, n_exts = 0;
    int sync_validation = 0;
    if (want_validation && has_layer(enum_layers, VALIDATION_LAYER) &&
        has_instance_ext(enum_ext, NULL, VK_EXT_DEBUG_UTILS_EXTENSION_NAME)) {
        layers[n_layers++] = VALIDATION_LAYER;
        exts[n_exts++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
        if (has_instance_ext(enum_ext, VALIDATION_LAYER, VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME)) {
            exts[n_exts++] = VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME;
            sync_validation = 1;
        }
        vk->validation = 1;
    }

    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "slmbench",
        .applicationVersion = 1,
        .pEngineName = "slmbench-kernels",
        .engineVersion = 1,
        .apiVersion = version,
    };
    VkDebugUtilsMessengerCreateInfoEXT dbg = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT,
        .pfnUserCallback = on_debug_message,
        .pUserData = vk,
    };
    VkValidationFeatureEnableEXT enables[] = {
        VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT,
    };
    VkValidationFeaturesEXT features = {
        .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
        .pNext = &dbg,
        .enabledValidationFeatureCount = 1,
        .pEnabledValidationFeatures = enables,
    };
    VkInstanceCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pNext = vk->validation ? (sync_validation ? (const void *)&features : (const void *)&dbg) : NULL,
        .pApplicationInfo = &app,
        .enabledLayerCount = n_layers,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = n_exts,
        .ppEnabledExtensionNames = exts,
    };
    VkResult r = create(&ci, NULL, &vk->instance);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER || r == VK_ERROR_INITIALIZATION_FAILED)
        return sb_vk_errf(vk, SB_KERR_UNSUPPORTED, "no Vulkan driver: vkCreateInstance failed: %s",
                          sb_vk_result_str(r));
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkCreateInstance");

#define SB_VK_LOAD(name) vk->fn.name = (PFN_##name)gipa(vk->instance, #name);
    SB_VK_FUNCS(SB_VK_LOAD)
#undef SB_VK_LOAD
#define SB_VK_CHECKFN(name) \
    if (!vk->fn.name && strstr(#name, "EXT") == NULL) \
        return sb_vk_errf(vk, SB_KERR_UNSUPPORTED, "Vulkan entry point %s missing", #name);
    SB_VK_FUNCS(SB_VK_CHECKFN)
#undef SB_VK_CHECKFN

    if (vk->validation) {
        if (!vk->fn.vkCreateDebugUtilsMessengerEXT)
            return sb_vk_errf(vk, SB_KERR_DEVICE, "vkCreateDebugUtilsMessengerEXT missing");
        r = vk->fn.vkCreateDebugUtilsMessengerEXT(vk->instance, &dbg, NULL, &vk->messenger);
        if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkCreateDebugUtilsMessengerEXT");
    }
    return SB_KOK;
}

static void destroy_instance(sb_vk *vk)
{
    if (vk->instance) {
        if (vk->messenger && vk->fn.vkDestroyDebugUtilsMessengerEXT)
            vk->fn.vkDestroyDebugUtilsMessengerEXT(vk->instance, vk->messenger, NULL);
        vk->fn.vkDestroyInstance(vk->instance, NULL);
    }
    vk->instance = VK_NULL_HANDLE;
    vk->messenger = VK_NULL_HANDLE;
    if (vk->lib) dlclose(vk->lib);
    vk->lib = NULL;
}

/* ---------------------------------------------------------------- devices */

static const char *type_name(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
    }
}

/* Preference when no index is given: discrete > integrated > virtual > cpu > other. */
static int type_rank(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 1;
    default: return 0;
    }
}

/* The compute queue family, or -1. */
static int compute_family(sb_vk *vk, VkPhysicalDevice pd, uint32_t *ts_bits)
{
    uint32_t n = 0;
    vk->fn.vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
    if (n == 0) return -1;
    VkQueueFamilyProperties *q = calloc(n, sizeof *q);
    if (!q) return -1;
    vk->fn.vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, q);
    int found = -1;
    for (uint32_t i = 0; i < n && found < 0; i++)
        if (q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
            found = (int)i;
            if (ts_bits) *ts_bits = q[i].timestampValidBits;
        }
    free(q);
    return found;
}

static void fill_info(sb_vk *vk, VkPhysicalDevice pd, int index, sb_vk_device_info *d)
{
    memset(d, 0, sizeof *d);
    VkPhysicalDeviceProperties props;
    vk->fn.vkGetPhysicalDeviceProperties(pd, &props);
    uint32_t api = props.apiVersion;

    VkPhysicalDeviceSubgroupProperties sub = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceMaintenance3Properties m3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES, .pNext = &sub};
    if (api >= VK_API_VERSION_1_2) sub.pNext = &drv;
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &m3};
    vk->fn.vkGetPhysicalDeviceProperties2(pd, &p2);

    VkPhysicalDevice16BitStorageFeatures s16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    if (api >= VK_API_VERSION_1_2) s16.pNext = &f12;
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &s16};
    vk->fn.vkGetPhysicalDeviceFeatures2(pd, &f2);

    VkPhysicalDeviceMemoryProperties mp;
    vk->fn.vkGetPhysicalDeviceMemoryProperties(pd, &mp);

    d->index = index;
    snprintf(d->name, sizeof d->name, "%s", props.deviceName);
    d->type = type_name(props.deviceType);
    d->vendor_id = props.vendorID;
    d->device_id = props.deviceID;
    if (api >= VK_API_VERSION_1_2) {
        snprintf(d->driver_name, sizeof d->driver_name, "%s", drv.driverName);
        snprintf(d->driver_info, sizeof d->driver_info, "%s", drv.driverInfo);
    }
    d->driver_version = props.driverVersion;
    d->api_major = VK_API_VERSION_MAJOR(api);
    d->api_minor = VK_API_VERSION_MINOR(api);
    d->api_patch = VK_API_VERSION_PATCH(api);
    d->n_heaps = (int)(mp.memoryHeapCount < SB_VK_MAX_HEAPS ? mp.memoryHeapCount : SB_VK_MAX_HEAPS);
    for (int i = 0; i < d->n_heaps; i++) {
        d->heap_bytes[i] = mp.memoryHeaps[i].size;
        d->heap_device_local[i] = (mp.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0;
    }
    for (uint32_t i = 0; i < mp.memoryTypeCount; i++) {
        VkMemoryPropertyFlags f = mp.memoryTypes[i].propertyFlags;
        if ((f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) && (f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
            (f & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) && mp.memoryTypes[i].heapIndex < mp.memoryHeapCount &&
            (mp.memoryHeaps[mp.memoryTypes[i].heapIndex].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)) {
            /* A small host-visible window of device memory (e.g. 256 MiB BAR on a discrete GPU)
             * is not unified memory: require the type to cover the largest device-local heap. */
            uint64_t heap = mp.memoryHeaps[mp.memoryTypes[i].heapIndex].size, biggest = 0;
            for (uint32_t h = 0; h < mp.memoryHeapCount; h++)
                if ((mp.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) && mp.memoryHeaps[h].size > biggest)
                    biggest = mp.memoryHeaps[h].size;
            if (heap >= biggest) d->unified_memory = 1;
        }
    }
    for (int i = 0; i < 3; i++) d->max_workgroup_size[i] = props.limits.maxComputeWorkGroupSize[i];
    d->max_workgroup_invocations = props.limits.maxComputeWorkGroupInvocations;
    d->max_shared_memory = props.limits.maxComputeSharedMemorySize;
    d->max_storage_buffer_range = props.limits.maxStorageBufferRange;
    d->min_storage_offset_align = (uint32_t)props.limits.minStorageBufferOffsetAlignment;
    d->max_allocation = m3.maxMemoryAllocationSize;
    d->subgroup_size = sub.subgroupSize;
    d->subgroup_arithmetic = (sub.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                             (sub.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) &&
                             (sub.supportedOperations & VK_SUBGROUP_FEATURE_BASIC_BIT);
    if (api >= VK_API_VERSION_1_2) {
        d->shader_fp16 = f12.shaderFloat16 != 0;
        d->shader_int8 = f12.shaderInt8 != 0;
        d->storage_8bit = f12.storageBuffer8BitAccess != 0;
    }
    d->storage_16bit = s16.storageBuffer16BitAccess != 0;
    uint32_t ts_bits = 0;
    if (compute_family(vk, pd, &ts_bits) >= 0)
        d->timestamps = ts_bits > 0 && props.limits.timestampPeriod > 0;
    d->timestamp_period_ns = props.limits.timestampPeriod;
}

/* Enumerates the physical devices; *out is malloc'ed (caller frees). */
static int enumerate(sb_vk *vk, VkPhysicalDevice **out, uint32_t *n)
{
    *out = NULL;
    *n = 0;
    VkResult r = vk->fn.vkEnumeratePhysicalDevices(vk->instance, n, NULL);
    if (r == VK_ERROR_INITIALIZATION_FAILED)
        return sb_vk_errf(vk, SB_KERR_UNSUPPORTED, "no Vulkan device (vkEnumeratePhysicalDevices: %s)",
                          sb_vk_result_str(r));
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkEnumeratePhysicalDevices");
    if (*n == 0) return sb_vk_errf(vk, SB_KERR_UNSUPPORTED, "no Vulkan device found (is a driver installed? VK_ICD_FILENAMES?)");
    *out = calloc(*n, sizeof **out);
    if (!*out) return sb_vk_errf(vk, SB_KERR_NOMEM, "out of memory");
    r = vk->fn.vkEnumeratePhysicalDevices(vk->instance, n, *out);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        free(*out);
        *out = NULL;
        return sb_vk_fail(vk, r, "vkEnumeratePhysicalDevices");
    }
    return SB_KOK;
}

int sb_vk_list_devices(sb_vk_device_info *out, int cap, int *n, char *reason, size_t reason_len)
{
    if (n) *n = 0;
    if (!n || (cap > 0 && !out)) return SB_KERR_ARG;
    sb_vk *vk = calloc(1, sizeof *vk);
    if (!vk) return SB_KERR_NOMEM;
    int st = create_instance(vk, 0);
    VkPhysicalDevice *pds = NULL;
    uint32_t count = 0;
    if (st == SB_KOK) st = enumerate(vk, &pds, &count);
    if (st == SB_KOK) {
        for (uint32_t i = 0; i < count && (int)i < cap; i++) fill_info(vk, pds[i], (int)i, &out[i]);
        *n = (int)count;
        set_reason(reason, reason_len, "");
    } else {
        set_reason(reason, reason_len, vk->err);
    }
    free(pds);
    destroy_instance(vk);
    free(vk);
    return st == SB_KOK ? SB_KOK : (st == SB_KERR_NOMEM ? st : SB_KERR_UNSUPPORTED);
}

/* ---------------------------------------------------------------- context */

static int env_int(const char *name, int dflt)
{
    const char *s = getenv(name);
    if (!s || !*s) return dflt;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || v < -1 || v > 1000000) return dflt;
    return (int)v;
}

static int create_device(sb_vk *vk)
{
    uint32_t ts_bits = 0;
    int fam = compute_family(vk, vk->phys, &ts_bits);
    if (fam < 0) return sb_vk_errf(vk, SB_KERR_UNSUPPORTED, "device %s has no compute queue", vk->info.name);
    vk->queue_family = (uint32_t)fam;
    vk->ts_mask = ts_bits >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << ts_bits) - 1;
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = vk->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &prio,
    };
    VkDeviceCreateInfo dci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &qci,
    };
    VkResult r = vk->fn.vkCreateDevice(vk->phys, &dci, NULL, &vk->device);
    if (r != VK_SUCCESS) return sb_vk_fail(vk, r, "vkCreateDevice");
    vk->fn.vkGetDeviceQueue(vk->device, vk->queue_family, 0, &vk->queue);
    return SB_KOK;
}

int sb_vk_open(const sb_vk_options *opt, sb_vk **out, char *err, size_t err_len)
{
    if (!out) return SB_KERR_ARG;
    *out = NULL;
    int want_index = opt ? opt->device_index : -1;
    int want_validation = opt ? opt->validation : -1;
    if (want_index < 0) want_index = env_int("SB_VK_DEVICE", -1);
    if (want_validation < 0) want_validation = env_int("SB_VK_VALIDATION", 0) > 0;

    sb_vk *vk = calloc(1, sizeof *vk);
    if (!vk) {
        set_reason(err, err_len, "out of memory");
        return SB_KERR_NOMEM;
    }
    int st = create_instance(vk, want_validation);
    VkPhysicalDevice *pds = NULL;
    uint32_t count = 0;
    if (st == SB_KOK) st = enumerate(vk, &pds, &count);
    if (st == SB_KOK) {
        int pick = -1;
        if (want_index >= 0) {
            if ((uint32_t)want_index >= count)
                st = sb_vk_errf(vk, SB_KERR_ARG, "Vulkan device %d requested, %u present", want_index, count);
            else
                pick = want_index;
        } else {
            int best_rank = -1;
            for (uint32_t i = 0; i < count; i++) {
                VkPhysicalDeviceProperties p;
                vk->fn.vkGetPhysicalDeviceProperties(pds[i], &p);
                if (p.apiVersion < VK_API_VERSION_1_1) continue;
                if (type_rank(p.deviceType) > best_rank) {
                    best_rank = type_rank(p.deviceType);
                    pick = (int)i;
                }
            }
            if (pick < 0) st = sb_vk_errf(vk, SB_KERR_UNSUPPORTED, "no Vulkan 1.1 device among %u", count);
        }
        if (st == SB_KOK) {
            vk->phys = pds[pick];
            fill_info(vk, vk->phys, pick, &vk->info);
            if (vk->info.api_major == 1 && vk->info.api_minor < 1)
                st = sb_vk_errf(vk, SB_KERR_UNSUPPORTED, "device %s offers only Vulkan 1.0", vk->info.name);
            else if (vk->info.max_workgroup_invocations < 256 || vk->info.max_workgroup_size[0] < 256 ||
                     vk->info.max_shared_memory < 16384)
                st = sb_vk_errf(vk, SB_KERR_UNSUPPORTED,
                                "device %s: workgroups of 256 invocations and 16 KiB shared memory needed",
                                vk->info.name);
        }
    }
    free(pds);
    if (st == SB_KOK) st = create_device(vk);
    if (st == SB_KOK) st = sb_vk_mem_init(vk);
    if (st == SB_KOK) st = sb_vk_ops_init(vk);
    if (st != SB_KOK) {
        set_reason(err, err_len, vk->err);
        sb_vk_close(vk);
        return st;
    }
    set_reason(err, err_len, "");
    *out = vk;
    return SB_KOK;
}

void sb_vk_close(sb_vk *vk)
{
    if (!vk) return;
    if (vk->device) {
        vk->fn.vkDeviceWaitIdle(vk->device);
        sb_vk_ops_free(vk);
        sb_vk_mem_free_all(vk);
        vk->fn.vkDestroyDevice(vk->device, NULL);
    }
    destroy_instance(vk);
    free(vk);
}

const sb_vk_device_info *sb_vk_device(const sb_vk *vk) { return vk ? &vk->info : NULL; }
const char *sb_vk_last_error(const sb_vk *vk) { return vk ? vk->err : "no context"; }
int sb_vk_validation_errors(const sb_vk *vk) { return vk ? vk->validation_errors : 0; }
int sb_vk_validation_enabled(const sb_vk *vk) { return vk ? vk->validation : 0; }
int sb_vk_uses_subgroups(const sb_vk *vk) { return vk ? vk->use_subgroup : 0; }
