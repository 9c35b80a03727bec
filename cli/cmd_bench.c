/* slmbench bench — time the kernels of every back end, each checked against ref first. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/suite.h"
#include "cli/bench_opts.h"
#include "cli/commands.h"
#include "harness/results.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: slmbench bench [--suite quick|standard|full] [--backend ref,cpu,blas,vulkan] [--isa LIST]\n"
            "                      [--threads N] [--filter REGEX] [--min-time S] [--reps N] [--rounds N]\n"
            "                      [--json FILE] [--gbench-json FILE] [--ceilings HW.json] [--no-counters]\n\n"
            "Times matmul (every weight format), attention and the small ops. Each case is first checked\n"
            "against the ref kernels (a wrong kernel is reported FAILED, never timed, and the command exits 1),\n"
            "then warmed up and repeated until --min-time and --reps are both met, with input buffers rotated\n"
            "while the working set is under 4x the last-level cache. Reports median, p10/p90, CV, GFLOP/s,\n"
            "GB/s, %% of the FMA peak and memory bandwidth measured in the same run, the bounding roof, PAPI\n"
            "counters where they work, and the speed ratio to blas (else ref) for the same case.\n\n"
            "  --suite S        quick (CI, under a minute), standard (real LLM shapes), full (adds 70B-class)\n"
            "  --backend LIST   comma-separated back ends (default cpu,blas); blas = OpenBLAS, f32 matmul only\n"
            "  --isa LIST       ISA levels for the cpu back end (default: the best this CPU runs)\n"
            "  --threads N      threads (default: all online processors)\n"
            "  --filter REGEX   only cases whose name matches (POSIX extended), e.g. 'matmul/q4_K'\n"
            "  --min-time S     measured seconds per case at least (default 0.3)\n"
            "  --reps N         repetitions per case at least (default 10)\n"
            "  --rounds N       run the suite N times, interleaved, splitting --min-time and --reps; the\n"
            "                   round medians show run-to-run drift, which `check` then accounts for\n"
            "  --json FILE      results JSON (docs/results-schema.md), also what `slmbench check` reads\n"
            "  --gbench-json F  Google Benchmark JSON (compare.py, github-action-benchmark, Bencher)\n"
            "  --ceilings FILE  take the ceilings from `slmbench hw --json` output instead of measuring\n"
            "  --no-counters    do not read PAPI counters\n");
}

int sb_cmd_bench(int argc, char **argv)
{
    bench_suite_opts o;
    bench_cli cli;
    bench_cli_defaults(&o, &cli);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", bench_cli_options, NULL)) != -1) {
        int rc = bench_cli_parse(c, optarg, &o, &cli, "bench");
        if (rc == 1) { usage(stdout); return 0; }
        if (rc != 0) {
            if (rc == -2) fprintf(stderr, "slmbench bench: unknown or incomplete option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc || cli.baseline || cli.current) {
        fprintf(stderr, "slmbench bench: unexpected argument '%s'\n", optind < argc ? argv[optind] : "--baseline/--current");
        usage(stderr);
        return 2;
    }
    if (bench_cli_finish(&o, &cli, "bench") != 0) return 2;

    cJSON *doc = sb_results_new(argc, argv);
    bench_result *rs = NULL;
    size_t nr = 0;
    char err[512];
    int failed = bench_run_suite(&o, doc, stdout, &rs, &nr, err, sizeof err);
    if (failed < 0) { fprintf(stderr, "slmbench bench: %s\n", err); cJSON_Delete(doc); return 2; }
    int rc = failed ? 1 : 0;
    if (failed) fprintf(stderr, "slmbench bench: %d case(s) FAILED their correctness check\n", failed);
    if (cli.json && sb_results_write(doc, cli.json, err, sizeof err) != 0) { fprintf(stderr, "slmbench bench: %s\n", err); rc = 1; }
    if (cli.gbench) {
        cJSON *gb = bench_gbench_json(rs, nr, cJSON_GetObjectItem(doc, "machine"));
        char *text = cJSON_Print(gb);
        if (!text || sb_write_file_atomic(cli.gbench, text, strlen(text), err, sizeof err) != 0) {
            fprintf(stderr, "slmbench bench: %s\n", text ? err : "out of memory");
            rc = 1;
        }
        free(text);
        cJSON_Delete(gb);
    }
    bench_results_free(rs, nr);
    cJSON_Delete(doc);
    return rc;
}
