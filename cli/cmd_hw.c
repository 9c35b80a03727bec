/* slmbench hw — probe this machine and measure its ceilings. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "harness/hw.h"
#include "harness/measure.h"
#include "harness/results.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: slmbench hw [--json FILE] [--quick] [--threads N]\n\n"
            "Probes this machine: CPU and ISA (CPUID), topology and caches (hwloc), memory, OS,\n"
            "build, Vulkan devices, PAPI counters, and measures the ceilings every \"%% of peak\"\n"
            "divides by: FP32 FMA peak (1 thread and all threads) and memory bandwidth (read, triad).\n\n"
            "  --json FILE   also write the probe as a results document (schema: docs/results-schema.md)\n"
            "  --quick       skip the measurements (a fraction of a second instead of a few seconds)\n"
            "  --threads N   threads for the all-core figures (default: all online processors)\n"
            "  -h, --help    this text\n");
}

int sb_cmd_hw(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", required_argument, NULL, 'j'}, {"quick", no_argument, NULL, 'q'},
        {"threads", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
    const char *json_path = NULL;
    int quick = 0, threads = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json_path = optarg; break;
        case 'q': quick = 1; break;
        case 't': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 4096) { fprintf(stderr, "slmbench hw: --threads needs a positive integer\n"); return 2; }
            threads = (int)v;
            break;
        }
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "slmbench hw: unknown or incomplete option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) { fprintf(stderr, "slmbench hw: unexpected argument '%s'\n", argv[optind]); usage(stderr); return 2; }

    if (!quick && sb_progress_enabled()) fprintf(stderr, "measuring FMA peak and memory bandwidth (a few seconds)...\n");
    cJSON *machine = sb_hw_probe_json(!quick, threads);
    sb_hw_print_summary(machine, stdout);
    int rc = 0;
    if (json_path) {
        cJSON *doc = sb_results_new(argc, argv);
        cJSON_AddItemToObject(doc, "machine", machine);
        char err[512];
        if (sb_results_write(doc, json_path, err, sizeof err) != 0) {
            fprintf(stderr, "slmbench hw: %s\n", err);
            rc = 1;
        } else {
            printf("wrote %s\n", json_path);
        }
        cJSON_Delete(doc);
    } else {
        cJSON_Delete(machine);
    }
    return rc;
}
