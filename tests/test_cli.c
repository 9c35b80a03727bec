/* The slmbench command line: usage errors exit 2, --help exits 0, for every subcommand. */
#include <stdlib.h>
#include <sys/wait.h>

#include "tests/test.h"

static int run_cmd(const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s >/dev/null 2>&1", test_slmbench_bin(), args);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_no_args_is_usage_error(void) { CHECK_EQ_INT(run_cmd(""), 2); }
static void test_unknown_command_is_usage_error(void) { CHECK_EQ_INT(run_cmd("frobnicate"), 2); }
static void test_top_level_help_succeeds(void) { CHECK_EQ_INT(run_cmd("--help"), 0); }

static void test_every_command_has_help_and_rejects_unknown_options(void)
{
    /* The list the binary prints is the list we check, so new commands are covered too. */
    char cmd[1024], line[512];
    snprintf(cmd, sizeof cmd, "%s --help", test_slmbench_bin());
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    if (!p) return;
    int seen = 0, in_list = 0;
    while (fgets(line, sizeof line, p)) {
        if (!strncmp(line, "commands:", 9)) { in_list = 1; continue; }
        char name[64];
        if (in_list && sscanf(line, " %63s", name) == 1) {
            char a[128];
            seen++;
            snprintf(a, sizeof a, "%s --help", name);
            CHECK_MSG(run_cmd(a) == 0, "'%s --help' did not exit 0", name);
            snprintf(a, sizeof a, "%s --no-such-option-xyz", name);
            CHECK_MSG(run_cmd(a) == 2, "'%s --no-such-option-xyz' did not exit 2", name);
        }
    }
    pclose(p);
    CHECK(seen >= 2);
}

int main(void)
{
    RUN(test_no_args_is_usage_error);
    RUN(test_unknown_command_is_usage_error);
    RUN(test_top_level_help_succeeds);
    RUN(test_every_command_has_help_and_rejects_unknown_options);
    return test_finish();
}
