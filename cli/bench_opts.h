/* Options shared by `slmbench bench` and `slmbench check` (which runs the suite itself when no
 * --current file is given). */
#ifndef SB_CLI_BENCH_OPTS_H
#define SB_CLI_BENCH_OPTS_H

#include <getopt.h>

#include "bench/suite.h"

typedef struct bench_cli {
    const char *json, *gbench, *baseline, *current, *backends, *isas;
    double threshold;
} bench_cli;

extern const struct option bench_cli_options[];
void bench_cli_defaults(bench_suite_opts *o, bench_cli *cli);
/* 0 parsed, 1 --help, -1 bad value (message printed), -2 unknown option. */
int bench_cli_parse(int c, const char *arg, bench_suite_opts *o, bench_cli *cli, const char *cmd);
/* Resolves the back end and ISA lists; 0 ok, -1 bad (message printed). */
int bench_cli_finish(bench_suite_opts *o, bench_cli *cli, const char *cmd);

#endif
