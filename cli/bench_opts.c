/* Shared option parsing of bench and check. */
#include "cli/bench_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { OPT_SUITE = 256, OPT_BACKEND, OPT_ISA, OPT_THREADS, OPT_FILTER, OPT_MIN_TIME, OPT_REPS, OPT_JSON, OPT_GBENCH,
       OPT_CEILINGS, OPT_NO_COUNTERS, OPT_BASELINE, OPT_CURRENT, OPT_THRESHOLD, OPT_ROUNDS };

const struct option bench_cli_options[] = {
    {"suite", required_argument, NULL, OPT_SUITE}, {"backend", required_argument, NULL, OPT_BACKEND},
    {"isa", required_argument, NULL, OPT_ISA}, {"threads", required_argument, NULL, OPT_THREADS},
    {"filter", required_argument, NULL, OPT_FILTER}, {"min-time", required_argument, NULL, OPT_MIN_TIME},
    {"reps", required_argument, NULL, OPT_REPS}, {"json", required_argument, NULL, OPT_JSON},
    {"gbench-json", required_argument, NULL, OPT_GBENCH}, {"ceilings", required_argument, NULL, OPT_CEILINGS},
    {"no-counters", no_argument, NULL, OPT_NO_COUNTERS}, {"baseline", required_argument, NULL, OPT_BASELINE},
    {"current", required_argument, NULL, OPT_CURRENT}, {"threshold", required_argument, NULL, OPT_THRESHOLD},
    {"rounds", required_argument, NULL, OPT_ROUNDS},
    {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};

void bench_cli_defaults(bench_suite_opts *o, bench_cli *cli)
{
    memset(o, 0, sizeof *o);
    memset(cli, 0, sizeof *cli);
    o->suite = "quick";
    o->run.min_time_s = 0.3;
    o->run.min_reps = 10;
    o->run.max_reps = 1000;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    o->run.n_threads = n > 0 ? (int)n : 1;
    long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
    o->run.llc_bytes = l3 > 0 ? (size_t)l3 : (size_t)32 << 20;
    o->run.counters = 1;
    o->measure_ceilings = 1;
    o->rounds = 1;
    cli->backends = "cpu,blas";
    cli->threshold = 0.05;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || (*end && strcmp(end, "%")) || !(v >= lo && v <= hi)) return -1;
    *out = *end == '%' ? v / 100 : v;
    return 0;
}

int bench_cli_parse(int c, const char *arg, bench_suite_opts *o, bench_cli *cli, const char *cmd)
{
    double v;
    switch (c) {
    case OPT_SUITE: o->suite = arg; return 0;
    case OPT_BACKEND: cli->backends = arg; return 0;
    case OPT_ISA: cli->isas = arg; return 0;
    case OPT_THREADS:
        if (parse_double(arg, 1, 4096, &v) || v != (int)v) { fprintf(stderr, "slmbench %s: --threads needs a positive integer\n", cmd); return -1; }
        o->run.n_threads = (int)v;
        return 0;
    case OPT_FILTER: o->filter = arg; return 0;
    case OPT_MIN_TIME:
        if (parse_double(arg, 0, 3600, &v)) { fprintf(stderr, "slmbench %s: --min-time needs seconds (e.g. 0.5)\n", cmd); return -1; }
        o->run.min_time_s = v;
        return 0;
    case OPT_REPS:
        if (parse_double(arg, 2, 100000, &v) || v != (int)v) { fprintf(stderr, "slmbench %s: --reps needs an integer >= 2\n", cmd); return -1; }
        o->run.min_reps = (int)v;
        if (o->run.max_reps < o->run.min_reps) o->run.max_reps = o->run.min_reps;
        return 0;
    case OPT_ROUNDS:
        if (parse_double(arg, 1, 16, &v) || v != (int)v) { fprintf(stderr, "slmbench %s: --rounds needs an integer 1..16\n", cmd); return -1; }
        o->rounds = (int)v;
        return 0;
    case OPT_JSON: cli->json = arg; return 0;
    case OPT_GBENCH: cli->gbench = arg; return 0;
    case OPT_CEILINGS: o->ceilings_from = arg; return 0;
    case OPT_NO_COUNTERS: o->run.counters = 0; return 0;
    case OPT_BASELINE: cli->baseline = arg; return 0;
    case OPT_CURRENT: cli->current = arg; return 0;
    case OPT_THRESHOLD:
        /* "5%" or "0.05" */
        if (parse_double(arg, 0, 100, &v) || (!strchr(arg, '%') && v >= 1)) {
            fprintf(stderr, "slmbench %s: --threshold needs a fraction (0.05) or a percentage (5%%)\n", cmd);
            return -1;
        }
        cli->threshold = v;
        return 0;
    case 'h': return 1;
    default: return -2;
    }
}

int bench_cli_finish(bench_suite_opts *o, bench_cli *cli, const char *cmd)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", cli->backends);
    o->n_backends = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        bench_backend b;
        if (bench_backend_from_name(t, &b) != 0) { fprintf(stderr, "slmbench %s: unknown back end '%s' (ref, cpu, blas, vulkan)\n", cmd, t); return -1; }
        if (o->n_backends < BENCH_BACKEND_COUNT) o->backends[o->n_backends++] = b;
    }
    o->n_isas = 0;
    if (cli->isas) {
        snprintf(buf, sizeof buf, "%s", cli->isas);
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            sb_isa isa;
            if (sb_isa_from_name(t, &isa) != 0) { fprintf(stderr, "slmbench %s: unknown ISA level '%s' (ref, avx2, avx512, neon)\n", cmd, t); return -1; }
            if (!sb_isa_supported(isa)) { fprintf(stderr, "slmbench %s: this CPU cannot run ISA level '%s'\n", cmd, t); return -1; }
            if (o->n_isas < SB_ISA_COUNT) o->isas[o->n_isas++] = isa;
        }
    } else {
        o->isas[o->n_isas++] = sb_isa_default();
    }
    size_t n;
    if (!bench_suite(o->suite, &n)) { fprintf(stderr, "slmbench %s: unknown suite '%s' (quick, standard, full)\n", cmd, o->suite); return -1; }
    return 0;
}
