/* slmbench synth — write a random-weight GGUF model at the shape of a real one. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "harness/measure.h"
#include "runtime/model.h"
#include "runtime/synth.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: slmbench synth --shape NAME --type FORMAT -o FILE.gguf [--vocab VOCAB.gguf]\n"
            "                      [--layers N] [--seed S]\n"
            "       slmbench synth --list-shapes\n\n"
            "Writes a model with random weights at the shape of a real one (from its config.json),\n"
            "so its latency and memory can be measured before downloading it.\n\n"
            "  --shape NAME     model shape (--list-shapes)\n"
            "  --type FORMAT    weight format: f32 f16 bf16 q8_0 q4_0 q4_K q5_K q6_K (norms stay f32;\n"
            "                   a matrix whose rows the block does not divide falls back to q8_0/f16)\n"
            "  -o FILE          output GGUF (written atomically)\n"
            "  --vocab FILE     copy the tokenizer (tokenizer.ggml.* keys) of this GGUF, padded to the\n"
            "                   shape's vocabulary; default: a built-in byte-level SentencePiece vocabulary\n"
            "  --layers N       number of blocks (default: the shape's)\n"
            "  --seed S         random seed (default 1)\n"
            "  --list-shapes    print the known shapes\n"
            "  -h, --help       this text\n");
}

static void list_shapes(void)
{
    size_t n;
    const sb_synth_shape *s = sb_synth_shapes(&n);
    printf("%-18s %-6s %7s %6s %6s %5s %4s %6s %9s  %s\n", "name", "arch", "vocab", "embd", "layers",
           "heads", "kv", "ff", "params", "source");
    for (size_t i = 0; i < n; i++) {
        int64_t hd = s[i].n_embd / s[i].n_head;
        int64_t per_layer = 2 * (int64_t)s[i].n_embd * s[i].n_head * hd +
                            2 * (int64_t)s[i].n_embd * s[i].n_head_kv * hd + 3 * (int64_t)s[i].n_embd * s[i].n_ff;
        int64_t total = per_layer * s[i].n_layer + (int64_t)s[i].n_vocab * s[i].n_embd * (s[i].tied ? 1 : 2);
        printf("%-18s %-6s %7d %6d %6d %5d %4d %6d %8.2fB  %s\n", s[i].name, s[i].arch, s[i].n_vocab,
               s[i].n_embd, s[i].n_layer, s[i].n_head, s[i].n_head_kv, s[i].n_ff, (double)total / 1e9,
               s[i].source);
    }
}

int sb_cmd_synth(int argc, char **argv)
{
    enum { O_SHAPE = 1000, O_TYPE, O_VOCAB, O_LAYERS, O_SEED, O_LIST };
    static const struct option opts[] = {
        {"shape", required_argument, NULL, O_SHAPE}, {"type", required_argument, NULL, O_TYPE},
        {"vocab", required_argument, NULL, O_VOCAB}, {"layers", required_argument, NULL, O_LAYERS},
        {"seed", required_argument, NULL, O_SEED}, {"list-shapes", no_argument, NULL, O_LIST},
        {"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
    sb_synth_opts so = {.shape = NULL, .type = SB_TYPE_F32, .vocab_path = NULL, .n_layer = 0, .seed = 1};
    const char *out = NULL, *type_name = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case O_SHAPE: so.shape = optarg; break;
        case O_TYPE: type_name = optarg; break;
        case O_VOCAB: so.vocab_path = optarg; break;
        case O_LAYERS: {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 1024) { fprintf(stderr, "slmbench synth: --layers needs 1..1024\n"); return 2; }
            so.n_layer = (int)v;
            break;
        }
        case O_SEED: {
            unsigned long long v = strtoull(optarg, &end, 10);
            if (*end || !*optarg) { fprintf(stderr, "slmbench synth: bad --seed\n"); return 2; }
            so.seed = v;
            break;
        }
        case O_LIST: list_shapes(); return 0;
        case 'o': out = optarg; break;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "slmbench synth: unknown or incomplete option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) { fprintf(stderr, "slmbench synth: unexpected argument '%s'\n", argv[optind]); return 2; }
    if (!so.shape || !type_name || !out) {
        fprintf(stderr, "slmbench synth: --shape, --type and -o are required\n");
        usage(stderr);
        return 2;
    }
    if (!sb_synth_find(so.shape)) {
        fprintf(stderr, "slmbench synth: unknown shape '%s' (--list-shapes)\n", so.shape);
        return 2;
    }
    sb_type t;
    if (sb_type_from_name(type_name, &t) || !sb_type_is_weight_format(t)) {
        fprintf(stderr, "slmbench synth: '%s' is not a weight format (f32 f16 bf16 q8_0 q4_0 q4_K q5_K q6_K)\n", type_name);
        return 2;
    }
    so.type = t;
    char err[1024];
    double t0 = sb_now_s();
    int rc = sb_synth_write(&so, out, err, sizeof err);
    if (rc) {
        fprintf(stderr, "slmbench synth: %s\n", err);
        return rc == SB_MODEL_E_ARG ? 2 : 1;
    }
    struct stat st;
    double mb = stat(out, &st) == 0 ? (double)st.st_size / 1e6 : 0;
    fprintf(stderr, "wrote %s: %s, %s, %.1f MB in %.2f s\n", out, so.shape, sb_type_name(t), mb, sb_now_s() - t0);
    return 0;
}
