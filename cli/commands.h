/* The slmbench subcommands. Each lives in cli/cmd_<name>.c, parses its own options (with
 * --help), and returns the process exit status: 0 success, 1 failure of the job (a regression,
 * a failed check, a bad input file), 2 usage error. Only main() exits. */
#ifndef SB_CLI_COMMANDS_H
#define SB_CLI_COMMANDS_H

int sb_cmd_version(int argc, char **argv);
int sb_cmd_hw(int argc, char **argv);
int sb_cmd_eval(int argc, char **argv);

int sb_cmd_generate(int argc, char **argv);
int sb_cmd_synth(int argc, char **argv);
int sb_cmd_inspect(int argc, char **argv);
int sb_cmd_tokenize(int argc, char **argv);
int sb_cmd_report(int argc, char **argv);
int sb_cmd_bench(int argc, char **argv);
int sb_cmd_check(int argc, char **argv);

#endif
