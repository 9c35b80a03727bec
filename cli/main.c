/* slmbench — entry point: dispatch to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

/* One row per subcommand, in the order `slmbench --help` lists them: models first, then kernels,
 * reports, and the tools around them. */
static const command commands[] = {
    {"eval",     sb_cmd_eval,     "accuracy, latency and memory of GGUF models on eval datasets; compares models (McNemar)"},
    {"generate", sb_cmd_generate, "run a GGUF model on a prompt: streamed text, time to first token, prefill/decode tok/s, peak RSS"},
    {"synth",    sb_cmd_synth,    "write a random-weight GGUF model at the shape of a real one (latency/RAM before downloading)"},
    {"bench",    sb_cmd_bench,    "time the kernels of every back end (checked against ref first), with % of peak"},
    {"check",    sb_cmd_check,    "regression gate: compare bench results with a baseline, noise-aware; exit 1 on regression"},
    {"report",   sb_cmd_report,   "write report.md, a self-contained report.html and gnuplot charts from results JSON files"},
    {"hw",       sb_cmd_hw,       "probe this machine: topology, ISA, Vulkan, PAPI, measured FMA peak and memory bandwidth"},
    {"inspect",  sb_cmd_inspect,  "validate a GGUF file and list its metadata, tensors, parameter count and bytes per type"},
    {"tokenize", sb_cmd_tokenize, "print the token ids (and pieces) of a text with a GGUF file's tokenizer"},
    {"version",  sb_cmd_version,  "print the version and how this binary was built"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: slmbench <command> [options]   (slmbench <command> --help for its options)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) return sb_cmd_version(1, argv + 1);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "slmbench: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
