/* slmbench hw — placeholder until the probe lands (same commit series). */
#include <stdio.h>
#include "cli/commands.h"
int sb_cmd_hw(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "slmbench hw: not built yet\n"); return 1; }
