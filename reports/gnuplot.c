/* reports/gnuplot.c — writes each chart's gnuplot script and data file into the report folder and
 * runs gnuplot on the script as a child process (working directory = the report folder, so the
 * script names its files relatively and a user can restyle and rerun it there). One script draws
 * the PNG (pngcairo) and then the SVG (svg terminal, `replot`). */
#include "reports/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/results.h"

void sb_rep_gp_quote(sbuf *b, const char *s)
{
    sb_rep_puts(b, "'");
    for (const char *p = s; *p; p++) {
        if (*p == '\'') sb_rep_puts(b, "''");
        else if (*p == '\n') sb_rep_puts(b, " ");
        else sb_rep_putn(b, p, 1);
    }
    sb_rep_puts(b, "'");
}

void sb_rep_dat_str(sbuf *b, const char *s)
{
    sb_rep_puts(b, "\"");
    for (const char *p = s; *p; p++) {
        if (*p == '"') sb_rep_puts(b, "'");
        else if (*p == '\n' || *p == '\r' || *p == '\t') sb_rep_puts(b, " ");
        else sb_rep_putn(b, p, 1);
    }
    sb_rep_puts(b, "\"");
}

/* Finds the gnuplot binary: a name with a slash must be executable; a bare name is looked up in
 * PATH. Returns 1 when found. */
static int find_binary(const char *name, char *found, size_t n)
{
    if (strchr(name, '/')) {
        snprintf(found, n, "%s", name);
        return access(name, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    if (!path) return 0;
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t len = colon ? (size_t)(colon - path) : strlen(path);
        if (len > 0 && (size_t)snprintf(found, n, "%.*s/%s", (int)len, path, name) < n) {
            struct stat st;
            if (stat(found, &st) == 0 && S_ISREG(st.st_mode) && access(found, X_OK) == 0) return 1;
        }
        path += len + (colon ? 1 : 0);
    }
    return 0;
}

/* Runs `gnuplot NAME.gp` in dir with stdin from /dev/null and stdout+stderr to NAME.log.
 * Returns the exit status, or -1 when it could not be started. */
static int run_gnuplot(const char *bin, const char *dir, const char *name)
{
    char script[512], log[512];
    snprintf(script, sizeof script, "%s.gp", name);
    snprintf(log, sizeof log, "%s.log", name);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (chdir(dir) != 0) _exit(126);
        int in = open("/dev/null", O_RDONLY);
        int out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0) _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        execl(bin, bin, script, (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static int file_size_ok(const char *dir, const char *name, const char *ext)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext);
    return stat(path, &st) == 0 && st.st_size > 0;
}

int sb_rep_charts_write(rep_ctx *c, const char *dir, const char *gnuplot, sb_report_summary *sum, char *err, size_t errlen)
{
    char bin[4096];
    const char *want = gnuplot;
    if (!want) want = getenv("SB_GNUPLOT");
    if (!want || !*want) want = "gnuplot";
    int have = find_binary(want, bin, sizeof bin);

    for (int i = 0; i < c->n_charts; i++) {
        rep_chart *ch = &c->charts[i];
        sbuf gp = {0};
        sb_rep_printf(&gp, "# slmbench report chart: %s\n# Data: %s.dat. Restyle freely, then run `gnuplot %s.gp` in this folder:\n"
                           "# it draws %s.png (pngcairo) and %s.svg (svg).\n",
                      ch->title, ch->name, ch->name, ch->name, ch->name);
        sb_rep_printf(&gp, "set encoding utf8\nset terminal pngcairo size %d,%d noenhanced font 'Sans,10' background rgb 'white'\n"
                           "set output '%s.png'\n",
                      ch->width, ch->height, ch->name);
        sb_rep_puts(&gp, sb_rep_str(&ch->body));
        sb_rep_printf(&gp, "\nset terminal svg size %d,%d dynamic noenhanced font 'Sans,10' background rgb 'white'\n"
                           "set output '%s.svg'\nreplot\nunset output\n",
                      ch->width, ch->height, ch->name);
        char path[4096];
        int rc = 0;
        snprintf(path, sizeof path, "%s/%s.gp", dir, ch->name);
        if (gp.oom || ch->body.oom || ch->dat.oom) {
            snprintf(err, errlen, "%s: out of memory", path);
            rc = -1;
        }
        if (!rc) rc = sb_write_file_atomic(path, gp.s, gp.len, err, errlen);
        sb_rep_buf_free(&gp);
        if (!rc) {
            snprintf(path, sizeof path, "%s/%s.dat", dir, ch->name);
            rc = sb_write_file_atomic(path, sb_rep_str(&ch->dat), ch->dat.len, err, errlen);
        }
        if (rc) return -1;
        if (sum) sum->n_charts++;

        if (!have) {
            ch->status = -2;
            ch->note = sb_rep_strf("gnuplot was not found (looked for '%s'%s; set SB_GNUPLOT or install gnuplot).",
                                   want, strchr(want, '/') ? "" : " on PATH");
            if (sum) sum->gnuplot_missing = 1;
            continue;
        }
        int st = run_gnuplot(bin, dir, ch->name);
        snprintf(path, sizeof path, "%s/%s.log", dir, ch->name);
        if (st == 0 && file_size_ok(dir, ch->name, "png") && file_size_ok(dir, ch->name, "svg")) {
            struct stat lst;
            if (stat(path, &lst) == 0 && lst.st_size == 0) unlink(path); /* keep only logs that say something */
            ch->status = 1;
            if (sum) sum->n_drawn++;
        } else {
            ch->status = -1;
            ch->note = sb_rep_strf("gnuplot (%s) failed with status %d; its messages are in %s.log.", bin, st, ch->name);
            if (sum) sum->n_chart_errors++;
        }
    }
    return 0;
}
