/* slmbench version: the version, git describe, compiler and flags of this binary. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "harness/version.h"

#ifndef SB_GIT_DESCRIBE
#define SB_GIT_DESCRIBE "unknown"
#endif
#ifndef SB_BUILD_CFLAGS
#define SB_BUILD_CFLAGS ""
#endif

int sb_cmd_version(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: slmbench version\n\nPrints the slmbench version, the git revision it was built from,\n"
                   "and the compiler and flags of this binary.\n");
            return 0;
        }
        fprintf(stderr, "slmbench version: unknown option '%s'\nusage: slmbench version\n", argv[i]);
        return 2;
    }
    printf("slmbench %s (%s)\ncompiler: %s\ncflags: %s\n", SB_VERSION, SB_GIT_DESCRIBE, __VERSION__,
           SB_BUILD_CFLAGS);
    return 0;
}
