/* slmbench report — turn results JSON files into report.md, report.html and gnuplot charts. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "reports/report.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: slmbench report RESULTS.json... -o DIR [--prices prices.json] [--title T]\n"
            "\n"
            "Reads slmbench results files (schema_version 1) and writes into DIR:\n"
            "  report.md      GitHub-flavoured Markdown tables and the charts as images\n"
            "  report.html    one self-contained page (inline CSS and SVG, no scripts, no external files)\n"
            "  NAME.png/.svg  every chart, drawn by gnuplot; NAME.gp and NAME.dat beside them to restyle it\n"
            "\n"
            "options:\n"
            "  -o, --output DIR       output folder (created when absent)\n"
            "  -p, --prices FILE      machine prices, watts and $/hour for the value-for-money view\n"
            "                         (format in docs/reports.md)\n"
            "  -t, --title TEXT       report title (default: slmbench report)\n"
            "  -h, --help             this help\n"
            "\n"
            "gnuplot is found on PATH, or at $SB_GNUPLOT; without it the report is written with a note\n"
            "where each chart would be. Exit status: 0 written, 1 an input could not be used or a chart\n"
            "failed, 2 usage error.\n");
}

int sb_cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"prices", required_argument, NULL, 'p'},
        {"title", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    sb_report_opts o;
    memset(&o, 0, sizeof o);
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "+o:p:t:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'o': o.out_dir = optarg; break;
        case 'p': o.prices_path = optarg; break;
        case 't': o.title = optarg; break;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "slmbench report: unknown option or missing value: %s\n\n", argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    /* Options may also follow the input files: parse the rest in a second pass. */
    const char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
    if (!inputs) return 1;
    int n = 0;
    while (optind < argc) {
        if (argv[optind][0] == '-' && argv[optind][1]) {
            ch = getopt_long(argc, argv, "+o:p:t:h", longopts, NULL);
            if (ch == 'o') o.out_dir = optarg;
            else if (ch == 'p') o.prices_path = optarg;
            else if (ch == 't') o.title = optarg;
            else if (ch == 'h') { usage(stdout); free(inputs); return 0; }
            else {
                fprintf(stderr, "slmbench report: unknown option or missing value: %s\n\n", argv[optind - 1]);
                usage(stderr);
                free(inputs);
                return 2;
            }
            continue;
        }
        inputs[n++] = argv[optind++];
    }
    if (!n || !o.out_dir) {
        fprintf(stderr, "slmbench report: %s\n\n", !n ? "no results file given" : "no output folder given (-o DIR)");
        usage(stderr);
        free(inputs);
        return 2;
    }
    o.inputs = inputs;
    o.n_inputs = n;
    char err[1024];
    sb_report_summary sum;
    int rc = sb_report_run(&o, &sum, err, sizeof err);
    free(inputs);
    if (rc) {
        fprintf(stderr, "slmbench report: %s\n", err);
        return 1;
    }
    if (sum.gnuplot_missing)
        fprintf(stderr, "slmbench report: gnuplot not found: wrote %d chart scripts and data files but no images; "
                        "the report says where each chart would be\n", sum.n_charts);
    if (sum.n_chart_errors)
        fprintf(stderr, "slmbench report: gnuplot failed on %d of %d charts (see the .log files in %s)\n", sum.n_chart_errors,
                sum.n_charts, o.out_dir);
    printf("%s/report.md\n%s/report.html\n%d charts (%d drawn)\n", o.out_dir, o.out_dir, sum.n_charts, sum.n_drawn);
    return sum.n_chart_errors ? 1 : 0;
}
