/* Helpers shared by the tests/test_vulkan_*.c binaries (header-only, static inline).
 *
 * Every Vulkan test binary runs with the Khronos validation layer (SB_VK_VALIDATION=1 unless the
 * environment says otherwise) and checks after each test that it reported no error. Without a
 * Vulkan device the tests SKIP with the reason sb_vk_open gave. */
#ifndef SB_TEST_VULKAN_H
#define SB_TEST_VULKAN_H

#include <dlfcn.h>
#include <stdlib.h>

#include "kernels/kernels.h"
#include "kernels/vulkan/vk.h"
#include "tests/test.h"

static sb_vk *tv_ctx;
static int tv_tried;
static char tv_reason[512];
static int tv_seen_errors;

#if defined(__SANITIZE_ADDRESS__)
/* The validation layer leaks a few C++ objects per instance (not ours). Under ASan the layer is
 * pinned in memory (RTLD_NODELETE) so those frames keep its module name and LeakSanitizer can be
 * told to ignore exactly that library. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libVkLayer_khronos_validation.so\n"; }
#endif

/* Call first in main: validation on by default in tests. */
static inline void tv_init(void)
{
    setenv("SB_VK_VALIDATION", "1", 0);
#if defined(__SANITIZE_ADDRESS__)
    dlopen("libVkLayer_khronos_validation.so", RTLD_NOW | RTLD_NODELETE);
#endif
}

/* The shared context, or NULL after test_skip() with the reason. */
static inline sb_vk *tv_get(void)
{
    if (!tv_tried) {
        tv_tried = 1;
        int st = sb_vk_open(NULL, &tv_ctx, tv_reason, sizeof tv_reason);
        if (st != SB_KOK) tv_ctx = NULL;
    }
    if (!tv_ctx) test_skip("Vulkan unavailable: %s", tv_reason);
    return tv_ctx;
}

/* Fails the current test when the validation layer reported errors since the last call. */
static inline void tv_check_validation(void)
{
    if (!tv_ctx) return;
    int now = sb_vk_validation_errors(tv_ctx);
    CHECK_MSG(now == tv_seen_errors, "%d validation error(s) (see stderr)", now - tv_seen_errors);
    tv_seen_errors = now;
}

static inline void tv_finish(void)
{
    if (tv_ctx)
        printf("# vulkan device %s, %s reductions, validation %s, %d validation errors\n", sb_vk_device(tv_ctx)->name,
               sb_vk_uses_subgroups(tv_ctx) ? "subgroup" : "portable",
               sb_vk_validation_enabled(tv_ctx) ? "on" : "off", sb_vk_validation_errors(tv_ctx));
    sb_vk_close(tv_ctx);
    tv_ctx = NULL;
}

/* When the context used the subgroup shader variants, closes it so that the next tv_get() opens
 * one on the portable variants (SB_VK_SUBGROUP=0); returns whether it did. Tests run after it
 * cover the other path. */
static inline int tv_switch_to_portable(void)
{
    if (!tv_ctx || !sb_vk_uses_subgroups(tv_ctx)) return 0;
    tv_finish();
    setenv("SB_VK_SUBGROUP", "0", 1);
    tv_tried = 0;
    tv_seen_errors = 0;
    return 1;
}

static inline void tv_poison(float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = NAN;
}

static inline int tv_all_finite(const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(y[i])) return 0;
    return 1;
}

static const sb_kctx tv_ref = {SB_ISA_REF, 1};

#endif
