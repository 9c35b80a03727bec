/* libFuzzer target for the GGUF reader (and writer): open the input from memory and, when it is
 * accepted, walk everything the handle exposes and copy it through the writer, which must give
 * a file with the same content (gguf/fuzz/walk.h); when it is refused, the error must be
 * consistent (code matches, offset inside the input, message and file name set).
 *
 *   make fuzz                       build with clang -fsanitize=fuzzer,address,undefined and run
 *   build/tests/test_gguf_fuzz_replay [FILE...]   replay the saved corpus (or FILEs), gcc build
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gguf/fuzz/walk.h"
#include "gguf/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 0 when the reader behaved, -1 when it broke its contract. */
static int fuzz_gguf_one(const uint8_t *data, size_t size)
{
    sb_gguf *g = NULL;
    sb_gguf_error e;
    memset(&e, 0, sizeof e);
    int rc = sb_gguf_open_memory(data, size, "fuzz", &g, &e);
    if (rc == 0) {
        int64_t h = g ? gguf_walk(g) : -1;
        int same = h >= 0 ? gguf_rewrite_check(g) : -1;
        sb_gguf_close(g);
        return h < 0 || same != 0 ? -1 : 0;
    }
    if (g || rc < 0 || rc >= SB_GGUF_STATUS_COUNT || e.code != rc || e.offset > size || !e.msg[0] ||
        strcmp(e.file, "fuzz") != 0)
        return -1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fuzz_gguf_one(data, size) != 0) __builtin_trap();
    return 0;
}
