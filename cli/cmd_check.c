/* slmbench check — the CI regression gate: compare a run against a baseline, noise-aware. */
#include <getopt.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/check.h"
#include "bench/suite.h"
#include "cli/bench_opts.h"
#include "cli/commands.h"
#include "harness/results.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: slmbench check --baseline OLD.json [--current NEW.json] [--threshold 5%%] [--json OUT.json]\n"
            "                      [bench options: --suite --backend --isa --threads --filter --min-time --reps --rounds]\n\n"
            "Compares bench results with a baseline and exits 0 (no regression), 1 (regression or a kernel\n"
            "that FAILED its correctness check) or 2 (usage or input error). Without --current it runs the\n"
            "suite now (the baseline's back ends unless --backend is given).\n\n"
            "A case regresses only when it is slower by more than the threshold AND the difference is\n"
            "statistically significant: Mann-Whitney U on the repetitions (p < 0.01) and a 95%% bootstrap\n"
            "interval of the ratio of medians that excludes 1. Differences the noise cannot confirm are\n"
            "reported as 'noisy'. When both runs have rounds (--rounds), every current round must also be\n"
            "slower than every baseline round (run-to-run drift). Same machine: times are compared. Different machine: efficiency (time x\n"
            "the machine's measured roof for the bound of the case). Different ISA level or thread count:\n"
            "that case is refused with the reason. A baseline of another schema version is refused.\n\n"
            "  --baseline FILE  results JSON of an earlier `slmbench bench --json` (e.g. bench/baselines/quick.json)\n"
            "  --current FILE   compare this file instead of running now\n"
            "  --threshold T    smallest slowdown that matters: 5%% or 0.05 (default 5%%)\n"
            "  --json FILE      write the current bench results plus the check section\n");
}

int sb_cmd_check(int argc, char **argv)
{
    bench_suite_opts o;
    bench_cli cli;
    bench_cli_defaults(&o, &cli);
    optind = 1;
    opterr = 0;
    int c, backend_given = 0;
    while ((c = getopt_long(argc, argv, "h", bench_cli_options, NULL)) != -1) {
        int rc = bench_cli_parse(c, optarg, &o, &cli, "check");
        if (rc == 1) { usage(stdout); return 0; }
        if (rc != 0) {
            if (rc == -2) fprintf(stderr, "slmbench check: unknown or incomplete option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return 2;
        }
        if (!strcmp(argv[optind - 1], "--backend") || !strncmp(argv[optind - 1], "--backend=", 10)) backend_given = 1;
    }
    if (optind < argc) { fprintf(stderr, "slmbench check: unexpected argument '%s'\n", argv[optind]); usage(stderr); return 2; }
    if (!cli.baseline) { fprintf(stderr, "slmbench check: --baseline FILE is required\n"); usage(stderr); return 2; }

    char err[512];
    cJSON *base = sb_results_load(cli.baseline, err, sizeof err);
    if (!base) { fprintf(stderr, "slmbench check: baseline %s\n", err); return 2; }
    cJSON *cur = NULL;
    int failed = 0;
    if (cli.current) {
        cur = sb_results_load(cli.current, err, sizeof err);
        if (!cur) { fprintf(stderr, "slmbench check: %s\n", err); cJSON_Delete(base); return 2; }
    } else {
        const cJSON *bb = cJSON_GetObjectItem(base, "bench");
        const char *suite = cJSON_GetStringValue(cJSON_GetObjectItem(bb, "suite"));
        if (suite && !strcmp(o.suite, "quick")) o.suite = suite;
        static char blist[128];
        if (!backend_given && cJSON_IsArray(cJSON_GetObjectItem(bb, "backends"))) {
            blist[0] = 0;
            const cJSON *b;
            cJSON_ArrayForEach(b, cJSON_GetObjectItem(bb, "backends")) {
                if (!cJSON_IsString(b)) continue;
                if (blist[0]) strncat(blist, ",", sizeof blist - strlen(blist) - 1);
                strncat(blist, b->valuestring, sizeof blist - strlen(blist) - 1);
            }
            if (blist[0]) cli.backends = blist;
        }
        const cJSON *rounds = cJSON_GetObjectItem(bb, "rounds");
        if (cJSON_IsNumber(rounds) && rounds->valueint > 1 && o.rounds == 1) o.rounds = rounds->valueint;
        const cJSON *th = cJSON_GetObjectItem(bb, "threads");
        if (cJSON_IsNumber(th) && th->valueint > 0 && o.run.n_threads == (int)sysconf(_SC_NPROCESSORS_ONLN)) o.run.n_threads = th->valueint;
        if (bench_cli_finish(&o, &cli, "check") != 0) { cJSON_Delete(base); return 2; }
        cur = sb_results_new(argc, argv);
        failed = bench_run_suite(&o, cur, stdout, NULL, NULL, err, sizeof err);
        if (failed < 0) { fprintf(stderr, "slmbench check: %s\n", err); cJSON_Delete(base); cJSON_Delete(cur); return 2; }
        printf("\n");
    }
    cJSON *section = NULL;
    int regressions = check_documents(base, cur, cli.threshold, cli.baseline, &section, stdout, err, sizeof err);
    int rc;
    if (regressions < 0) { fprintf(stderr, "slmbench check: %s\n", err); rc = 2; }
    else rc = (regressions > 0 || failed > 0) ? 1 : 0;
    if (section) {
        cJSON_DeleteItemFromObject(cur, "check");
        cJSON_AddItemToObject(cur, "check", section);
    }
    if (cli.json && sb_results_write(cur, cli.json, err, sizeof err) != 0) { fprintf(stderr, "slmbench check: %s\n", err); if (rc == 0) rc = 2; }
    cJSON_Delete(base);
    cJSON_Delete(cur);
    return rc;
}
