/* slmbench report: from small results files written here (one machine with bench + eval + check;
 * two machines with prices; bench only), every expected file exists, PNGs are PNGs, SVGs are
 * well-formed, the HTML holds every table and only inline content, and the numbers in report.md
 * equal those in the JSON. Also: no gnuplot, another schema_version, bad inputs, and (when
 * chromium is installed) the HTML renders headless without console errors. */
#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "tests/test.h"

/* ------------------------------------------------------------------ fixtures */

static cJSON *machine_obj(const char *hostname, const char *model, int cores, double ram_gib, double fma, double bw)
{
    cJSON *m = cJSON_CreateObject();
    char hid[256];
    snprintf(hid, sizeof hid, "%s|%d|%.0f", model, cores, ram_gib);
    cJSON_AddStringToObject(m, "host_id", hid);
    cJSON_AddStringToObject(m, "hostname", hostname);
    cJSON *cpu = cJSON_AddObjectToObject(m, "cpu");
    cJSON_AddStringToObject(cpu, "model", model);
    cJSON_AddStringToObject(cpu, "vendor", "AuthenticAMD");
    cJSON_AddNumberToObject(cpu, "packages", 1);
    cJSON_AddNumberToObject(cpu, "cores", cores);
    cJSON_AddNumberToObject(cpu, "pus", cores);
    cJSON_AddStringToObject(cpu, "isa_level", "avx512");
    cJSON *caches = cJSON_AddArrayToObject(m, "caches");
    const double sizes[3] = {32768, 1048576, 33554432};
    for (int l = 0; l < 3; l++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddNumberToObject(c, "level", l + 1);
        cJSON_AddStringToObject(c, "type", l ? "unified" : "data");
        cJSON_AddNumberToObject(c, "size_bytes", sizes[l]);
        cJSON_AddNumberToObject(c, "line_bytes", 64);
        cJSON_AddNumberToObject(c, "count", l < 2 ? cores : 1);
        cJSON_AddItemToArray(caches, c);
    }
    cJSON *mem = cJSON_AddObjectToObject(m, "memory");
    cJSON_AddNumberToObject(mem, "total_bytes", ram_gib * 1073741824.0);
    cJSON_AddNumberToObject(mem, "available_bytes", ram_gib * 0.8 * 1073741824.0);
    cJSON *os = cJSON_AddObjectToObject(m, "os");
    cJSON_AddStringToObject(os, "sysname", "Linux");
    cJSON_AddStringToObject(os, "release", "6.1.0-test");
    cJSON_AddStringToObject(os, "machine", "x86_64");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(m, "build"), "compiler", "gcc 12.2.0");
    cJSON *vk = cJSON_AddObjectToObject(m, "vulkan");
    cJSON_AddBoolToObject(vk, "available", 1);
    cJSON *dev = cJSON_CreateObject();
    cJSON_AddStringToObject(dev, "name", "llvmpipe (LLVM 15.0.6, 256 bits)");
    cJSON_AddStringToObject(dev, "type", "cpu");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(vk, "devices"), dev);
    cJSON *ce = cJSON_AddObjectToObject(m, "ceilings");
    cJSON_AddNumberToObject(ce, "fma_gflops_1t", fma / 2);
    cJSON_AddNumberToObject(ce, "fma_gflops_all", fma);
    cJSON_AddNumberToObject(ce, "threads", cores);
    cJSON_AddNumberToObject(ce, "read_gbs", bw);
    cJSON_AddNumberToObject(ce, "read_gbs_1t", bw * 0.8);
    cJSON_AddNumberToObject(ce, "triad_gbs", bw * 0.95);
    return m;
}

static cJSON *doc_new(const char *command)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "schema_version", 1);
    cJSON *run = cJSON_AddObjectToObject(d, "run");
    cJSON_AddStringToObject(run, "time", "2026-11-21T15:00:00Z");
    cJSON_AddStringToObject(run, "command", command);
    cJSON_AddStringToObject(run, "git", "v0.1.0-test");
    cJSON_AddStringToObject(run, "version", "0.1.0");
    return d;
}

static void add_case(cJSON *cases, const char *op, const char *type, int m, int n, int k, const char *backend,
                     double bytes_per_w, double gflops, const char *status)
{
    cJSON *c = cJSON_CreateObject();
    char name[256];
    snprintf(name, sizeof name, "%s/%s/m=%d/n=%d/k=%d/%s", op, type, m, n, k, backend);
    cJSON_AddStringToObject(c, "name", name);
    cJSON_AddStringToObject(c, "op", op);
    cJSON_AddStringToObject(c, "type", type);
    cJSON *sh = cJSON_AddObjectToObject(c, "shape");
    cJSON_AddNumberToObject(sh, "m", m);
    cJSON_AddNumberToObject(sh, "n", n);
    cJSON_AddNumberToObject(sh, "k", k);
    cJSON_AddStringToObject(c, "backend", strncmp(backend, "cpu", 3) ? backend : "cpu");
    if (!strncmp(backend, "cpu-", 4)) cJSON_AddStringToObject(c, "isa", backend + 4);
    cJSON_AddNumberToObject(c, "threads", 2);
    cJSON_AddStringToObject(c, "status", status);
    if (strcmp(status, "ok")) {
        cJSON_AddStringToObject(c, "reason", "nmse 3.1e-02 above 1e-05");
        cJSON_AddItemToArray(cases, c);
        return;
    }
    double flops = 2.0 * m * n * k, bytes = bytes_per_w * n * k + 4.0 * m * (n + k);
    double t = flops / (gflops * 1e9);
    cJSON_AddNumberToObject(c, "nmse", 1.25e-7);
    cJSON_AddNumberToObject(c, "flops", flops);
    cJSON_AddNumberToObject(c, "bytes", bytes);
    cJSON *st = cJSON_AddObjectToObject(c, "stats");
    cJSON_AddNumberToObject(st, "median_s", t);
    cJSON_AddNumberToObject(st, "p10_s", t * 0.97);
    cJSON_AddNumberToObject(st, "p90_s", t * 1.06);
    cJSON_AddNumberToObject(st, "cv", 0.031);
    cJSON_AddNumberToObject(c, "gflops", gflops);
    cJSON_AddNumberToObject(c, "gbs", bytes / t / 1e9);
    cJSON_AddNumberToObject(c, "pct_fma_peak", 100.0 * gflops / 230.0);
    cJSON_AddNumberToObject(c, "pct_bandwidth", 100.0 * bytes / t / 1e9 / 31.0);
    cJSON_AddStringToObject(c, "bound", flops / bytes < 230.0 / 31.0 ? "memory" : "compute");
    if (!strcmp(type, "f32")) cJSON_AddNumberToObject(cJSON_AddObjectToObject(c, "ratio_vs"), "blas", 0.93);
    if (!strcmp(backend, "vulkan")) cJSON_AddNumberToObject(c, "device_time_s", t * 0.91);
    cJSON_AddItemToArray(cases, c);
}

static void add_bench(cJSON *d)
{
    cJSON *b = cJSON_AddObjectToObject(d, "bench");
    cJSON_AddStringToObject(b, "suite", "quick");
    cJSON_AddNumberToObject(b, "threads", 2);
    cJSON_AddNumberToObject(b, "min_time_s", 0.2);
    cJSON_AddNumberToObject(b, "min_reps", 5);
    cJSON *cases = cJSON_AddArrayToObject(b, "cases");
    const int sz[4] = {512, 1024, 2048, 4096};
    for (int i = 0; i < 4; i++) {
        add_case(cases, "matmul", "q4_K", 1, sz[i], sz[i], "cpu-avx512", 0.5625, 40.0 + 12.0 * i, "ok");
        add_case(cases, "matmul", "f32", 64, sz[i], sz[i], "cpu-avx512", 4.0, 120.0 + 20.0 * i, "ok");
        add_case(cases, "matmul", "f32", 64, sz[i], sz[i], "vulkan", 4.0, 1.5 + 0.3 * i, "ok");
    }
    add_case(cases, "matmul", "q6_K", 1, 4096, 4096, "cpu-avx2", 0.8203, 0, "FAILED");
    for (int i = 0; i < 3; i++) add_case(cases, "attention", "f16", 1, 64 << i, 4096, "cpu-avx512", 2.0, 18.0 + 3 * i, "ok");
}

static void add_check(cJSON *d)
{
    cJSON *c = cJSON_AddObjectToObject(d, "check");
    cJSON_AddStringToObject(c, "baseline", "bench/baselines/quick.json");
    cJSON_AddNumberToObject(c, "threshold", 0.05);
    cJSON_AddStringToObject(c, "test", "mann-whitney");
    cJSON_AddStringToObject(c, "mode", "time");
    cJSON_AddNumberToObject(c, "geomean_ratio", 1.0142);
    cJSON *g = cJSON_AddArrayToObject(c, "geomean_ci");
    cJSON_AddItemToArray(g, cJSON_CreateNumber(0.9921));
    cJSON_AddItemToArray(g, cJSON_CreateNumber(1.0388));
    cJSON *cases = cJSON_AddArrayToObject(c, "cases");
    const char *names[5] = {"matmul/q4_K/m=1/n=4096/k=4096/cpu-avx512", "matmul/f32/m=64/n=1024/k=1024/cpu-avx512",
                            "matmul/f32/m=64/n=1024/k=1024/vulkan", "attention/f16/m=1/n=256/k=4096/cpu-avx512",
                            "matmul/q4_K/m=1/n=1024/k=1024/cpu-avx512"};
    const char *verdict[5] = {"regression", "same", "noisy", "improvement", "same"};
    const double ratio[5] = {1.1234, 1.004, 1.09, 0.912, 0.998};
    for (int i = 0; i < 5; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", names[i]);
        cJSON_AddStringToObject(e, "verdict", verdict[i]);
        cJSON_AddNumberToObject(e, "ratio", ratio[i]);
        cJSON *ci = cJSON_AddArrayToObject(e, "ci");
        double w = i == 2 ? 0.15 : 0.03;
        cJSON_AddItemToArray(ci, cJSON_CreateNumber(ratio[i] - w));
        cJSON_AddItemToArray(ci, cJSON_CreateNumber(ratio[i] + w));
        cJSON_AddNumberToObject(e, "p_value", i == 0 ? 0.0012 : 0.41);
        cJSON_AddItemToArray(cases, e);
    }
    cJSON_AddNumberToObject(c, "regressions", 1);
}

static cJSON *add_model(cJSON *models, const char *name, const char *backend, double scale, double speed, double weights_mib)
{
    cJSON *m = cJSON_CreateObject();
    char path[256];
    snprintf(path, sizeof path, "/models/%s.gguf", name);
    cJSON_AddStringToObject(m, "path", path);
    cJSON_AddStringToObject(m, "name", name);
    cJSON_AddStringToObject(m, "arch", "llama");
    cJSON_AddNumberToObject(m, "params", weights_mib * 262144);
    cJSON_AddNumberToObject(m, "file_bytes", weights_mib * 1048576 * 1.01);
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(m, "weight_types"), weights_mib > 100 ? "q4_0" : "f32", 201);
    cJSON_AddStringToObject(m, "backend", backend);
    cJSON_AddNumberToObject(m, "threads", 2);
    cJSON_AddNumberToObject(m, "n_ctx", 2048);
    cJSON *tasks = cJSON_AddObjectToObject(m, "tasks");
    const char *tn[3] = {"arc_easy", "hellaswag", "piqa"};
    for (int i = 0; i < 3; i++) {
        cJSON *t = cJSON_AddObjectToObject(tasks, tn[i]);
        double acc = 0.25 + scale * (0.1 + 0.05 * i);
        cJSON_AddNumberToObject(t, "n", 100);
        cJSON_AddNumberToObject(t, "acc", acc);
        cJSON_AddNumberToObject(t, "acc_stderr", 0.0433 + 0.001 * i);
        cJSON *ci = cJSON_AddArrayToObject(t, "acc_ci95");
        cJSON_AddItemToArray(ci, cJSON_CreateNumber(acc - 0.085));
        cJSON_AddItemToArray(ci, cJSON_CreateNumber(acc + 0.085));
        cJSON_AddNumberToObject(t, "acc_norm", acc + 0.0123);
        cJSON_AddNumberToObject(t, "acc_norm_stderr", 0.0441);
        cJSON_AddNumberToObject(t, "time_s", 12.345 / speed * 100);
        cJSON_AddNumberToObject(t, "items_per_s", speed / 12.3);
        cJSON_AddNumberToObject(t, "fewshot", 0);
        cJSON_AddNumberToObject(t, "limit", 100);
    }
    cJSON *w = cJSON_AddObjectToObject(tasks, "wikitext2");
    cJSON_AddNumberToObject(w, "ppl", 60.0 / (1 + scale));
    cJSON_AddNumberToObject(w, "ppl_stderr", 0.4321);
    cJSON_AddNumberToObject(w, "n_chunks", 10);
    cJSON_AddNumberToObject(w, "n_ctx", 512);
    cJSON *lat = cJSON_AddObjectToObject(m, "latency");
    cJSON *tt = cJSON_AddObjectToObject(lat, "ttft_ms");
    cJSON_AddNumberToObject(tt, "128", 128000.0 / (speed * 3.1));
    cJSON_AddNumberToObject(tt, "512", 512000.0 / (speed * 2.9));
    cJSON_AddNumberToObject(lat, "pp512_tok_s", speed * 2.9);
    cJSON_AddNumberToObject(lat, "tg128_tok_s", speed);
    cJSON *itl = cJSON_AddObjectToObject(lat, "itl_ms");
    cJSON_AddNumberToObject(itl, "p50", 1000.0 / speed);
    cJSON_AddNumberToObject(itl, "p90", 1100.0 / speed);
    cJSON_AddNumberToObject(itl, "p99", 1375.0 / speed);
    cJSON *mem = cJSON_AddObjectToObject(m, "memory");
    cJSON_AddNumberToObject(mem, "peak_rss_bytes", (weights_mib * 1.12 + 35) * 1048576);
    cJSON_AddNumberToObject(mem, "weights_bytes", weights_mib * 1048576);
    cJSON_AddNumberToObject(mem, "kv_bytes", weights_mib * 0.05 * 1048576);
    cJSON_AddNumberToObject(mem, "n_ctx", 2048);
    cJSON_AddNumberToObject(mem, "predicted_bytes", (weights_mib * 1.1 + 33) * 1048576);
    cJSON_AddItemToArray(models, m);
    return m;
}

static void add_eval(cJSON *d, double speed_factor)
{
    cJSON *ev = cJSON_AddObjectToObject(d, "eval");
    cJSON *models = cJSON_AddArrayToObject(ev, "models");
    add_model(models, "stories260K", "cpu", 0.05, 5273.4 * speed_factor, 1.1);
    add_model(models, "stories260K", "vulkan", 0.05, 25.37 * speed_factor, 1.1);
    add_model(models, "tinyllama-1.1b-q4_0", "cpu", 1.0, 45.51 * speed_factor, 606.5);
    add_model(models, "qwen2.5-0.5b-q8_0", "cpu", 0.6, 61.25 * speed_factor, 506.2);
    cJSON *cmp = cJSON_AddArrayToObject(ev, "comparisons");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "task", "arc_easy");
    cJSON_AddStringToObject(c, "a", "tinyllama-1.1b-q4_0");
    cJSON_AddStringToObject(c, "b", "stories260K");
    cJSON_AddNumberToObject(c, "n", 100);
    cJSON_AddNumberToObject(c, "diff", 0.095);
    cJSON_AddNumberToObject(c, "mcnemar_p", 0.0213);
    cJSON_AddNumberToObject(c, "min_detectable_diff", 0.0812);
    cJSON_AddItemToArray(cmp, c);
}

static char *write_doc(cJSON *d, const char *name)
{
    static char paths[8][512];
    static int slot;
    char *p = paths[slot++ % 8];
    snprintf(p, 512, "%s/%s", test_tmpdir(), name);
    char *s = cJSON_Print(d);
    FILE *f = fopen(p, "w");
    if (f) { fputs(s, f); fclose(f); }
    free(s);
    return p;
}

/* The documents: A (bench + eval + check), A2 (same hardware, other hostname, spacing and (R)),
 * B (another machine, eval only), bench only, schema 2. Built once. */
static cJSON *docA, *docA2, *docB;
static const char *pathA, *pathA2, *pathB, *pathBench, *pathV2, *pathPrices;

static void make_fixtures(void)
{
    if (docA) return;
    docA = doc_new("slmbench eval -m stories260K.gguf --tasks arc_easy,hellaswag,piqa,wikitext2");
    cJSON_AddItemToObject(docA, "machine", machine_obj("build-a", "AMD EPYC 9R14 96-Core Processor", 2, 24, 230, 31));
    add_bench(docA);
    add_check(docA);
    add_eval(docA, 1.0);
    pathA = write_doc(docA, "a.json");

    docA2 = doc_new("slmbench eval (second run)");
    cJSON_AddItemToObject(docA2, "machine", machine_obj("build-a-clone", "AMD(R) EPYC  9R14 96-Core Processor ", 2, 24.2, 228, 30));
    add_eval(docA2, 0.97);
    pathA2 = write_doc(docA2, "a2.json");

    docB = doc_new("slmbench eval");
    cJSON_AddItemToObject(docB, "machine", machine_obj("laptop-b", "Intel(R) Core(TM) i7-1165G7 @ 2.80GHz", 4, 16, 340, 45));
    add_eval(docB, 1.6);
    pathB = write_doc(docB, "b.json");

    cJSON *bo = doc_new("slmbench bench --suite quick");
    cJSON_AddItemToObject(bo, "machine", machine_obj("build-a", "AMD EPYC 9R14 96-Core Processor", 2, 24, 230, 31));
    add_bench(bo);
    pathBench = write_doc(bo, "bench_only.json");
    cJSON_Delete(bo);

    cJSON *v2 = doc_new("slmbench from the future");
    cJSON_SetNumberValue(cJSON_GetObjectItem(v2, "schema_version"), 2);
    pathV2 = write_doc(v2, "future_v2.json");
    cJSON_Delete(v2);

    cJSON *pr = cJSON_CreateObject();
    cJSON_AddNumberToObject(pr, "usd_per_kwh", 0.30);
    cJSON *ms = cJSON_AddArrayToObject(pr, "machines");
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "match", "*EPYC*");
    cJSON_AddStringToObject(e, "name", "cloud 2-vCPU EPYC");
    cJSON_AddNumberToObject(e, "price_usd", 2400);
    cJSON_AddNumberToObject(e, "watts", 45);
    cJSON_AddNumberToObject(e, "usd_per_hour", 0.0864);
    cJSON_AddItemToArray(ms, e);
    e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "match", "laptop-b");
    cJSON_AddStringToObject(e, "name", "laptop");
    cJSON_AddNumberToObject(e, "price_usd", 1100);
    cJSON_AddNumberToObject(e, "watts", 28);
    cJSON_AddItemToArray(ms, e);
    pathPrices = write_doc(pr, "prices.json");
    cJSON_Delete(pr);
}

/* ------------------------------------------------------------------ helpers */

static const char *bin(void) { return test_slmbench_bin(); }

/* Runs `env slmbench report ARGS`, stderr into DIR.stderr; returns the exit status. */
static int report(const char *env, const char *args, const char *errfile)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s report %s >/dev/null 2>%s", env ? env : "", bin(), args, errfile);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) { free(s); s = NULL; }
    if (s) s[n] = 0;
    fclose(f);
    if (len) *len = (size_t)n;
    return s;
}

static int exists(const char *dir, const char *name)
{
    char p[1024];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0 && st.st_size > 0;
}

/* A PNG: signature, first chunk IHDR of length 13, non-zero size, and more than 1 KB in all. */
static void check_png(const char *dir, const char *stem)
{
    char p[1024];
    size_t n = 0;
    snprintf(p, sizeof p, "%s/%s.png", dir, stem);
    unsigned char *s = (unsigned char *)slurp(p, &n);
    CHECK_MSG(s != NULL, "%s missing", p);
    if (!s) return;
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    CHECK_MSG(n > 1024, "%s: only %zu bytes", p, n);
    if (n >= 33) {
        CHECK_MSG(!memcmp(s, sig, 8), "%s: no PNG signature", p);
        CHECK_MSG(!memcmp(s + 8, "\0\0\0\rIHDR", 8), "%s: first chunk is not IHDR", p);
        unsigned w = (unsigned)s[16] << 24 | (unsigned)s[17] << 16 | (unsigned)s[18] << 8 | s[19];
        unsigned h = (unsigned)s[20] << 24 | (unsigned)s[21] << 16 | (unsigned)s[22] << 8 | s[23];
        CHECK_MSG(w >= 300 && w <= 4000 && h >= 200 && h <= 6000, "%s: implausible size %ux%u", p, w, h);
    }
    free(s);
}

/* Well-formed enough: every element closed in order, one root <svg>, no text outside it.
 * Handles the XML declaration, comments, CDATA, self-closing tags and quoted attributes. */
static int xml_balanced(const char *s, char *why, size_t wn)
{
    char stack[64][64];
    int depth = 0, roots = 0;
    const char *p = s;
    while (*p) {
        if (*p != '<') {
            if (!depth && !isspace((unsigned char)*p)) { snprintf(why, wn, "text outside the root at %ld", (long)(p - s)); return 0; }
            p++;
            continue;
        }
        if (!strncmp(p, "<?", 2)) { p = strstr(p, "?>"); if (!p) { snprintf(why, wn, "open <?"); return 0; } p += 2; continue; }
        if (!strncmp(p, "<!--", 4)) { p = strstr(p, "-->"); if (!p) { snprintf(why, wn, "open comment"); return 0; } p += 3; continue; }
        if (!strncmp(p, "<![CDATA[", 9)) { p = strstr(p, "]]>"); if (!p) { snprintf(why, wn, "open CDATA"); return 0; } p += 3; continue; }
        if (!strncmp(p, "<!", 2)) { p = strchr(p, '>'); if (!p) { snprintf(why, wn, "open <!"); return 0; } p++; continue; }
        int closing = p[1] == '/';
        const char *q = p + 1 + closing;
        char name[64];
        size_t n = 0;
        while (*q && !isspace((unsigned char)*q) && *q != '>' && *q != '/' && n < sizeof name - 1) name[n++] = *q++;
        name[n] = 0;
        if (!n) { snprintf(why, wn, "empty tag name at %ld", (long)(p - s)); return 0; }
        char quote = 0;
        while (*q && (quote || *q != '>')) {
            if (quote) { if (*q == quote) quote = 0; }
            else if (*q == '"' || *q == '\'') quote = *q;
            q++;
        }
        if (!*q) { snprintf(why, wn, "unterminated <%s", name); return 0; }
        int self = q[-1] == '/';
        if (closing) {
            if (!depth || strcmp(stack[depth - 1], name)) {
                snprintf(why, wn, "</%s> closes <%s>", name, depth ? stack[depth - 1] : "(nothing)");
                return 0;
            }
            depth--;
        } else if (!self) {
            if (!depth) roots++;
            if (depth == 64) { snprintf(why, wn, "nesting deeper than 64"); return 0; }
            snprintf(stack[depth++], 64, "%s", name);
        } else if (!depth) roots++;
        p = q + 1;
    }
    if (depth) { snprintf(why, wn, "<%s> never closed", stack[depth - 1]); return 0; }
    if (roots != 1) { snprintf(why, wn, "%d root elements", roots); return 0; }
    return 1;
}

static void check_svg(const char *dir, const char *stem)
{
    char p[1024], why[256] = "";
    snprintf(p, sizeof p, "%s/%s.svg", dir, stem);
    char *s = slurp(p, NULL);
    CHECK_MSG(s != NULL, "%s missing", p);
    if (!s) return;
    CHECK_MSG(strstr(s, "<svg") != NULL, "%s: no <svg>", p);
    CHECK_MSG(xml_balanced(s, why, sizeof why), "%s: not well-formed: %s", p, why);
    free(s);
}

/* Every chart stem: its script, data, PNG and SVG exist and are valid. */
static void check_chart(const char *dir, const char *stem)
{
    char f[256];
    const char *ext[2] = {"gp", "dat"};
    for (int i = 0; i < 2; i++) {
        snprintf(f, sizeof f, "%s.%s", stem, ext[i]);
        CHECK_MSG(exists(dir, f), "%s/%s missing", dir, f);
    }
    check_png(dir, stem);
    check_svg(dir, stem);
}

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

/* The HTML: no scripts, every src/href is an in-page anchor, no url() to anything, one <table>
 * per Markdown table, and every chart that exists as SVG is inlined. */
static void check_html(const char *dir)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/report.html", dir);
    char *h = slurp(p, NULL), *md;
    snprintf(p, sizeof p, "%s/report.md", dir);
    md = slurp(p, NULL);
    CHECK(h && md);
    if (!h || !md) { free(h); free(md); return; }
    CHECK(strstr(h, "<!DOCTYPE html>") == h);
    CHECK_MSG(!strstr(h, "<script") && !strstr(h, "<SCRIPT"), "report.html has a script");
    CHECK_MSG(!strstr(h, "<link") && !strstr(h, "<img") && !strstr(h, "@import") && !strstr(h, "@font-face"),
              "report.html loads something");
    CHECK_MSG(!strstr(h, "src="), "report.html has a src= attribute");
    for (const char *q = h; (q = strstr(q, "href=")); q += 5) {
        char quote = q[5];
        CHECK_MSG((quote == '"' || quote == '\'') && q[6] == '#', "report.html links outside itself: %.60s", q);
    }
    for (const char *q = h; (q = strstr(q, "url(")); q += 4) CHECK_MSG(q[4] == '#', "report.html url() outside itself: %.40s", q);
    /* Tables: Markdown tables have a |---…| separator line. */
    int md_tables = 0;
    for (const char *q = md; (q = strstr(q, "\n|---")); q += 5) md_tables++;
    CHECK_MSG(md_tables > 0 && count(h, "<table>") == md_tables, "tables: %d in report.md, %d in report.html", md_tables,
              count(h, "<table>"));
    CHECK_EQ_INT(count(h, "<table>"), count(h, "</table>"));
    /* Charts: as many inline <svg as drawn charts (the .svg files in dir). */
    int svgs = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > 4 && !strcmp(e->d_name + n - 4, ".svg")) svgs++;
    }
    if (d) closedir(d);
    CHECK_MSG(count(h, "<svg") == svgs, "%d inline <svg> for %d SVG files", count(h, "<svg"), svgs);
    free(h);
    free(md);
}

/* ------------------------------------------------------------------ report.md numbers */

/* Splits a Markdown table line "| a | b |" into trimmed cells; returns the count. */
static int split_row(const char *line, char cells[][256], int max)
{
    int n = 0;
    const char *p = line;
    if (*p != '|') return 0;
    p++;
    while (*p && *p != '\n' && n < max) {
        const char *e = p;
        while (*e && *e != '\n' && !(*e == '|' && e[-1] != '\\')) e++;
        if (*e != '|') break;
        const char *a = p, *b = e;
        while (a < b && *a == ' ') a++;
        while (b > a && b[-1] == ' ') b--;
        snprintf(cells[n++], 256, "%.*s", (int)(b - a), a);
        p = e + 1;
    }
    return n;
}

/* The cell in column `col` of the first table row whose first cell is row (and second cell
 * row2 when given), in a table that has that column; NULL when none. */
static const char *md_cell(const char *md, const char *col, const char *row, const char *row2)
{
    static char out[256];
    char head[40][256], cells[40][256];
    const char *line = md;
    while (line && *line) {
        const char *next = strchr(line, '\n');
        next = next ? next + 1 : NULL;
        if (*line == '|' && next && !strncmp(next, "|---", 4)) {
            int nh = split_row(line, head, 40), ci = -1;
            for (int i = 0; i < nh; i++) if (!strcmp(head[i], col)) ci = i;
            const char *r = strchr(next, '\n');
            r = r ? r + 1 : NULL;
            while (r && *r == '|') {
                int nc = split_row(r, cells, 40);
                if (ci >= 0 && nc > ci && !strcmp(cells[0], row) && (!row2 || (nc > 1 && !strcmp(cells[1], row2)))) {
                    snprintf(out, sizeof out, "%s", cells[ci]);
                    return out;
                }
                r = strchr(r, '\n');
                r = r ? r + 1 : NULL;
            }
            next = r;
        }
        line = next;
    }
    return NULL;
}

/* The number in a report.md cell equals the JSON value to the printed precision. */
static void check_num(const char *md, const char *col, const char *row, const char *row2, double want, int decimals)
{
    const char *cell = md_cell(md, col, row, row2);
    CHECK_MSG(cell != NULL, "report.md: no cell [%s | %s | %s]", row, row2 ? row2 : "", col);
    if (!cell) return;
    char *end;
    double got = strtod(cell, &end);
    CHECK_MSG(end != cell, "report.md: cell [%s | %s] is '%s', not a number", row, col, cell);
    double tol = 0.5 * pow(10, -decimals) * 1.0001 + 1e-12;
    CHECK_MSG(fabs(got - want) <= tol, "report.md [%s | %s | %s] = %s, JSON %.10g (%d decimals)", row, row2 ? row2 : "", col,
              cell, want, decimals);
}

static double jnum(const cJSON *o, const char *a, const char *b, const char *c)
{
    const cJSON *v = cJSON_GetObjectItem(o, a);
    if (b) v = cJSON_GetObjectItem(v, b);
    if (c) v = cJSON_GetObjectItem(v, c);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static char *make_dir(const char *name)
{
    static char dirs[8][512];
    static int slot;
    char *d = dirs[slot++ % 8];
    snprintf(d, 512, "%s/%s", test_tmpdir(), name);
    return d;
}

/* ------------------------------------------------------------------ tests */

static void test_one_machine_full_report(void)
{
    make_fixtures();
    const char *dir = make_dir("one");
    char args[2048], errf[600];
    snprintf(args, sizeof args, "%s -o %s --title 'One machine'", pathA, dir);
    snprintf(errf, sizeof errf, "%s.stderr", dir);
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) { test_skip("gnuplot not installed"); return; }
    CHECK_EQ_INT(report(NULL, args, errf), 0);
    CHECK(exists(dir, "report.md"));
    CHECK(exists(dir, "report.html"));
    static const char *const charts[] = {"acc_vs_speed", "tok_s_decode", "tok_s_prefill", "memory", "kernel_matmul",
                                         "kernel_attention", "roofline", "check"};
    for (size_t i = 0; i < sizeof charts / sizeof charts[0]; i++) check_chart(dir, charts[i]);
    CHECK(!exists(dir, "machines_tg.gp")); /* one machine: no comparison across machines */
    check_html(dir);

    char p[1024];
    snprintf(p, sizeof p, "%s/report.md", dir);
    char *md = slurp(p, NULL);
    CHECK(md != NULL);
    if (!md) return;
    CHECK(strstr(md, "# One machine") == md);
    static const char *const sections[] = {"## Summary", "## Machines", "## Accuracy", "### Paired comparisons", "## Latency", "## Memory",
                                           "## Kernels", "## Regression check", "## How it was measured"};
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) CHECK_MSG(strstr(md, sections[i]), "no %s", sections[i]);
    /* Summary: the fastest run and the Pareto front, from the fixture's numbers. */
    CHECK(strstr(md, "Fastest decode: stories260K · cpu 2t, 5273.4 tok/s.") != NULL);
    CHECK(strstr(md, "fastest first: stories260K · cpu 2t (5273.4 tok/s, acc 0.258); qwen2.5-0.5b-q8_0 · cpu 2t (61.2 tok/s, "
                     "acc 0.340); tinyllama-1.1b-q4_0 · cpu 2t (45.5 tok/s, acc 0.400).") != NULL);
    CHECK_MSG(strstr(md, "TTFT (time to first token)") && strstr(md, "acc_norm: the same") && strstr(md, "tg128"),
              "definitions missing");

    /* Numbers against the JSON. */
    const cJSON *models = cJSON_GetObjectItem(cJSON_GetObjectItem(docA, "eval"), "models"), *m;
    int checked = 0;
    cJSON_ArrayForEach(m, models) {
        char label[256];
        snprintf(label, sizeof label, "%s · %s 2t", cJSON_GetObjectItem(m, "name")->valuestring,
                 cJSON_GetObjectItem(m, "backend")->valuestring);
        const cJSON *tasks = cJSON_GetObjectItem(m, "tasks");
        check_num(md, "acc", label, "arc_easy", jnum(tasks, "arc_easy", "acc", NULL), 4);
        check_num(md, "acc stderr", label, "hellaswag", jnum(tasks, "hellaswag", "acc_stderr", NULL), 4);
        check_num(md, "acc_norm", label, "piqa", jnum(tasks, "piqa", "acc_norm", NULL), 4);
        check_num(md, "ppl", label, "wikitext2", jnum(tasks, "wikitext2", "ppl", NULL), 4);
        check_num(md, "arc_easy", label, NULL, jnum(tasks, "arc_easy", "acc", NULL), 3);
        const cJSON *lat = cJSON_GetObjectItem(m, "latency"), *mem = cJSON_GetObjectItem(m, "memory");
        check_num(md, "decode tg128 tok/s", label, NULL, jnum(lat, "tg128_tok_s", NULL, NULL), 1);
        check_num(md, "prefill pp512 tok/s", label, NULL, jnum(lat, "pp512_tok_s", NULL, NULL), 1);
        check_num(md, "TTFT 128-token prompt, ms", label, NULL, jnum(lat, "ttft_ms", "128", NULL), 2);
        check_num(md, "ITL p99 ms", label, NULL, jnum(lat, "itl_ms", "p99", NULL), 3);
        check_num(md, "peak RSS MiB", label, NULL, jnum(mem, "peak_rss_bytes", NULL, NULL) / 1048576.0, 1);
        check_num(md, "weights MiB", label, NULL, jnum(mem, "weights_bytes", NULL, NULL) / 1048576.0, 1);
        check_num(md, "KV cache MiB", label, NULL, jnum(mem, "kv_bytes", NULL, NULL) / 1048576.0, 1);
        check_num(md, "parameters (M)", label, NULL, jnum(m, "params", NULL, NULL) / 1e6, 3);
        checked++;
    }
    CHECK_EQ_INT(checked, 4);
    const cJSON *cmp = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(docA, "eval"), "comparisons"), 0);
    check_num(md, "diff (a − b)", "arc_easy", "tinyllama-1.1b-q4_0", jnum(cmp, "diff", NULL, NULL), 4);
    check_num(md, "McNemar p", "arc_easy", "tinyllama-1.1b-q4_0", jnum(cmp, "mcnemar_p", NULL, NULL), 4);
    const cJSON *ce = cJSON_GetObjectItem(cJSON_GetObjectItem(docA, "machine"), "ceilings");
    check_num(md, "M1", "FMA peak, 1 thread", NULL, jnum(ce, "fma_gflops_1t", NULL, NULL), 1);
    check_num(md, "M1", "memory read, all threads", NULL, jnum(ce, "read_gbs", NULL, NULL), 1);
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(cJSON_GetObjectItem(docA, "bench"), "cases")) {
        const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
        if (strcmp(cJSON_GetObjectItem(c, "status")->valuestring, "ok")) {
            const char *cell = md_cell(md, "status", name, NULL);
            CHECK_MSG(cell && !strncmp(cell, "FAILED", 6), "FAILED case shown as %s", cell ? cell : "(none)");
            continue;
        }
        check_num(md, "GFLOP/s", name, NULL, jnum(c, "gflops", NULL, NULL), 2);
        check_num(md, "GB/s", name, NULL, jnum(c, "gbs", NULL, NULL), 2);
        check_num(md, "median µs", name, NULL, jnum(c, "stats", "median_s", NULL) * 1e6, 2);
        if (strstr(name, "vulkan")) check_num(md, "device µs", name, NULL, jnum(c, "device_time_s", NULL, NULL) * 1e6, 2);
    }
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(cJSON_GetObjectItem(docA, "check"), "cases")) {
        const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
        check_num(md, "ratio", name, NULL, jnum(c, "ratio", NULL, NULL), 3);
        check_num(md, "CI high", name, NULL, cJSON_GetArrayItem(cJSON_GetObjectItem(c, "ci"), 1)->valuedouble, 3);
        CHECK_STR(md_cell(md, "verdict", name, NULL), cJSON_GetObjectItem(c, "verdict")->valuestring);
    }
    free(md);
}

static void test_two_machines_with_prices(void)
{
    make_fixtures();
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) { test_skip("gnuplot not installed"); return; }
    const char *dir = make_dir("two");
    char args[2048], errf[600];
    snprintf(args, sizeof args, "%s %s %s -o %s --prices %s", pathA, pathB, pathA2, dir, pathPrices);
    snprintf(errf, sizeof errf, "%s.stderr", dir);
    CHECK_EQ_INT(report(NULL, args, errf), 0);
    static const char *const charts[] = {"acc_vs_speed", "tok_s_decode_m1", "tok_s_decode_m2", "tok_s_prefill_m1", "memory_m1",
                                         "memory_m2", "machines_tg", "machines_per_usd", "machines_per_watt", "machines_cost",
                                         "kernel_matmul_m1", "roofline_m1", "check"};
    for (size_t i = 0; i < sizeof charts / sizeof charts[0]; i++) check_chart(dir, charts[i]);
    CHECK(!exists(dir, "tok_s_decode_m3.gp")); /* A and A2 are one machine */
    CHECK(!exists(dir, "roofline_m2.gp"));     /* B has no bench section */
    check_html(dir);

    char p[1024];
    snprintf(p, sizeof p, "%s/report.md", dir);
    char *md = slurp(p, NULL);
    CHECK(md != NULL);
    if (!md) return;
    /* The machine table has exactly two machine columns, and M1 holds both runs of machine A. */
    CHECK(strstr(md, "|  | M1 | M2 |\n") != NULL);
    CHECK_STR(md_cell(md, "M1", "results files", NULL), "2");
    CHECK_STR(md_cell(md, "M2", "results files", NULL), "1");
    const char *hosts = md_cell(md, "M1", "hostname", NULL);
    CHECK(hosts && strstr(hosts, "build-a") && strstr(hosts, "build-a-clone"));
    CHECK(strstr(md, "## Several machines") != NULL);

    /* Value for money, from the JSON and the prices file. */
    const cJSON *ma = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(docA, "eval"), "models"), 2);
    const cJSON *mb = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(docB, "eval"), "models"), 2);
    double tga = jnum(ma, "latency", "tg128_tok_s", NULL), tgb = jnum(mb, "latency", "tg128_tok_s", NULL);
    const char *row = "tinyllama-1.1b-q4_0 · cpu 2t";
    char la[256], lb[256];
    snprintf(la, sizeof la, "M1: AMD EPYC 9R14 96-Core Processor · 2 cores · 24 GiB");
    snprintf(lb, sizeof lb, "M2: Intel Core i7-1165G7 @ 2.80GHz · 4 cores · 16 GiB");
    check_num(md, "decode tg128 tok/s", row, la, tga, 1);
    check_num(md, "decode tg128 tok/s", row, lb, tgb, 1);
    check_num(md, "tok/s per $1000", row, la, tga / 2.4, 2);
    check_num(md, "tok/s per $1000", row, lb, tgb / 1.1, 2);
    check_num(md, "tok/s per W", row, la, tga / 45, 3);
    check_num(md, "$ per M tokens (rent)", row, la, 0.0864 / (tga * 3600) * 1e6, 4);
    check_num(md, "$ per M tokens (energy)", row, lb, 0.028 * 0.30 / (tgb * 3600) * 1e6, 4);
    CHECK_STR(md_cell(md, "$ per M tokens (rent)", row, lb), "—"); /* the laptop has no $/hour */
    free(md);
}

static void test_bench_only_is_a_kernel_report(void)
{
    make_fixtures();
    const char *dir = make_dir("bench");
    char args[2048], errf[600], p[1024];
    snprintf(args, sizeof args, "%s -o %s", pathBench, dir);
    snprintf(errf, sizeof errf, "%s.stderr", dir);
    CHECK_EQ_INT(report("SB_GNUPLOT=/nonexistent/gnuplot", args, errf), 0);
    snprintf(p, sizeof p, "%s/report.md", dir);
    char *md = slurp(p, NULL);
    CHECK(md != NULL);
    if (!md) return;
    CHECK(strstr(md, "## Kernels") && strstr(md, "## Machines"));
    CHECK(!strstr(md, "## Accuracy") && !strstr(md, "## Latency") && !strstr(md, "## Memory") && !strstr(md, "## Regression"));
    CHECK(exists(dir, "roofline.gp") && exists(dir, "kernel_matmul.dat"));
    CHECK(!exists(dir, "acc_vs_speed.gp") && !exists(dir, "memory.gp"));
    free(md);
}

static void test_missing_gnuplot_still_writes_report(void)
{
    make_fixtures();
    const char *dir = make_dir("nognuplot");
    char args[2048], errf[600], p[1024];
    snprintf(args, sizeof args, "%s %s -o %s --prices %s", pathA, pathB, dir, pathPrices);
    snprintf(errf, sizeof errf, "%s.stderr", dir);
    CHECK_EQ_INT(report("SB_GNUPLOT=/nonexistent/gnuplot", args, errf), 0);
    CHECK(exists(dir, "report.md") && exists(dir, "report.html"));
    int gp = 0, png = 0, svg = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > 3 && !strcmp(e->d_name + n - 3, ".gp")) {
            gp++;
            char dat[300];
            snprintf(dat, sizeof dat, "%.*s.dat", (int)(n - 3), e->d_name);
            CHECK_MSG(exists(dir, dat), "%s without its data file", e->d_name);
        }
        if (n > 4 && !strcmp(e->d_name + n - 4, ".png")) png++;
        if (n > 4 && !strcmp(e->d_name + n - 4, ".svg")) svg++;
    }
    if (d) closedir(d);
    CHECK(gp >= 10);
    CHECK_EQ_INT(png, 0);
    CHECK_EQ_INT(svg, 0);
    snprintf(p, sizeof p, "%s/report.md", dir);
    char *md = slurp(p, NULL);
    snprintf(p, sizeof p, "%s/report.html", dir);
    char *html = slurp(p, NULL);
    CHECK(md && html);
    if (md && html) {
        CHECK_EQ_INT(count(md, "Chart not drawn"), gp);
        CHECK_EQ_INT(count(html, "Chart not drawn"), gp);
        CHECK(strstr(md, "gnuplot was not found") != NULL);
        CHECK(strstr(md, "](") == NULL); /* no image links to files that do not exist */
    }
    free(md);
    free(html);
    char *err = slurp(errf, NULL);
    CHECK(err && strstr(err, "gnuplot not found"));
    free(err);
    check_html(dir);

    /* The same with gnuplot absent from PATH (and no SB_GNUPLOT). */
    const char *dir2 = make_dir("nopath");
    snprintf(args, sizeof args, "%s -o %s", pathA, dir2);
    CHECK_EQ_INT(report("env -u SB_GNUPLOT PATH=/nonexistent-dir", args, errf), 0);
    CHECK(exists(dir2, "report.md") && exists(dir2, "report.html") && exists(dir2, "roofline.gp"));
    CHECK(!exists(dir2, "roofline.png") && !exists(dir2, "roofline.svg"));
    snprintf(p, sizeof p, "%s/report.md", dir2);
    md = slurp(p, NULL);
    CHECK(md && strstr(md, "looked for 'gnuplot' on PATH"));
    free(md);
}

static void test_other_schema_version_is_refused(void)
{
    make_fixtures();
    const char *dir = make_dir("v2");
    char args[2048], errf[600];
    snprintf(args, sizeof args, "%s %s -o %s", pathA, pathV2, dir);
    snprintf(errf, sizeof errf, "%s.stderr", dir);
    CHECK_EQ_INT(report(NULL, args, errf), 1);
    char *err = slurp(errf, NULL);
    CHECK_MSG(err && strstr(err, pathV2) && strstr(err, "version 2"), "stderr: %s", err ? err : "(none)");
    free(err);
    CHECK(!exists(dir, "report.md"));
}

static void test_bad_inputs_and_usage(void)
{
    make_fixtures();
    const char *dir = make_dir("bad");
    char args[2048], errf[600], bad[600];
    snprintf(errf, sizeof errf, "%s.stderr", dir);
    /* Not JSON: exit 1, the file and the byte offset named. */
    snprintf(bad, sizeof bad, "%s/broken.json", test_tmpdir());
    FILE *f = fopen(bad, "w");
    if (f) { fputs("{\"schema_version\": 1, \"run\": {", f); fclose(f); }
    snprintf(args, sizeof args, "%s -o %s", bad, dir);
    CHECK_EQ_INT(report(NULL, args, errf), 1);
    char *err = slurp(errf, NULL);
    CHECK_MSG(err && strstr(err, bad) && strstr(err, "byte"), "stderr: %s", err ? err : "(none)");
    free(err);
    /* JSON but not a results document. */
    f = fopen(bad, "w");
    if (f) { fputs("[1, 2, 3]", f); fclose(f); }
    CHECK_EQ_INT(report(NULL, args, errf), 1);
    /* Missing file. */
    snprintf(args, sizeof args, "%s/nope.json -o %s", test_tmpdir(), dir);
    CHECK_EQ_INT(report(NULL, args, errf), 1);
    /* A prices file with a negative price: exit 1 naming the entry. */
    f = fopen(bad, "w");
    if (f) { fputs("{\"machines\": [{\"match\": \"*\", \"price_usd\": -5}]}", f); fclose(f); }
    snprintf(args, sizeof args, "%s -o %s --prices %s", pathA, dir, bad);
    CHECK_EQ_INT(report("SB_GNUPLOT=/nonexistent", args, errf), 1);
    err = slurp(errf, NULL);
    CHECK_MSG(err && strstr(err, "machines[0]") && strstr(err, "price_usd"), "stderr: %s", err ? err : "(none)");
    free(err);
    /* Usage errors. */
    CHECK_EQ_INT(report(NULL, "", errf), 2);
    snprintf(args, sizeof args, "%s", pathA);
    CHECK_EQ_INT(report(NULL, args, errf), 2); /* no -o */
    snprintf(args, sizeof args, "%s -o %s --frobnicate", pathA, dir);
    CHECK_EQ_INT(report(NULL, args, errf), 2);
    CHECK_EQ_INT(report(NULL, "--help", errf), 0);
}

/* Members of the wrong type everywhere (strings for numbers, arrays for objects, objects for
 * arrays, nulls) are ignored or shown as "—": the report is still written, nothing crashes. */
static void test_wrong_types_are_survived(void)
{
    make_fixtures();
    const char *dir = make_dir("types");
    char path[600], args[2048], errf[600];
    snprintf(path, sizeof path, "%s/types.json", test_tmpdir());
    FILE *f = fopen(path, "w");
    if (!f) { test_fail_at(__FILE__, __LINE__, "cannot write %s", path); return; }
    fputs("{\"schema_version\": 1, \"run\": [1], \"machine\": {\"cpu\": \"x\", \"caches\": {\"a\": 1},"
          " \"memory\": {\"total_bytes\": \"lots\"}, \"vulkan\": {\"devices\": [null, 3, {\"name\": 5}]},"
          " \"ceilings\": {\"fma_gflops_all\": \"fast\", \"read_gbs\": null}, \"numa\": 7},"
          " \"bench\": {\"cases\": [null, 1, \"s\", {\"name\": 3, \"op\": \"matmul\", \"flops\": \"many\"},"
          " {\"op\": \"x/y\", \"flops\": 10, \"bytes\": 0, \"gflops\": 1, \"ratio_vs\": [1, 2]},"
          " {\"op\": \"x_y\", \"flops\": 10, \"bytes\": 5, \"gflops\": 1, \"gbs\": 2, \"stats\": [1]}]},"
          " \"check\": {\"cases\": {\"a\": {\"ratio\": 1.1, \"ci\": \"wide\", \"verdict\": 7}}, \"geomean_ci\": 3},"
          " \"eval\": {\"models\": [null, {\"name\": 1, \"tasks\": [1, {\"acc\": 0.5}], \"latency\": {\"ttft_ms\": [5],"
          " \"tg128_tok_s\": \"fast\", \"itl_ms\": 2}, \"memory\": {\"peak_rss_bytes\": -1}},"
          " {\"name\": \"m\", \"tasks\": {\"t\": {\"acc\": 0.5, \"acc_ci95\": [\"a\", null]}},"
          " \"latency\": {\"tg128_tok_s\": 10}, \"memory\": {\"peak_rss_bytes\": 1e6}}],"
          " \"comparisons\": {\"x\": {\"task\": 5}}}}", f);
    fclose(f);
    snprintf(args, sizeof args, "%s -o %s", path, dir);
    snprintf(errf, sizeof errf, "%s.stderr", dir);
    int rc = report(NULL, args, errf);
    CHECK_MSG(rc == 0, "exit %d", rc);
    CHECK(exists(dir, "report.md") && exists(dir, "report.html"));
    /* The ops "x/y" and "x_y" sanitize to the same file name: both charts are kept. */
    CHECK(exists(dir, "kernel_x_y.gp") && exists(dir, "kernel_x_y_2.gp"));
}

/* Headless Chromium renders the page without console messages; the screenshot is kept for a
 * person to look at when SB_KEEP_TMP is set. */
static void test_html_renders_in_chromium(void)
{
    make_fixtures();
    const char *browser = NULL;
    if (system("command -v chromium >/dev/null 2>&1") == 0) browser = "chromium";
    else if (system("command -v chromium-browser >/dev/null 2>&1") == 0) browser = "chromium-browser";
    else if (system("command -v google-chrome >/dev/null 2>&1") == 0) browser = "google-chrome";
    if (!browser) { test_skip("chromium not installed (apt-get install chromium to run this check)"); return; }
    const char *dir = make_dir("chromium");
    char args[2048], errf[600], cmd[8192], shot[600], log[600], prof[600];
    snprintf(args, sizeof args, "%s %s %s -o %s --prices %s", pathA, pathB, pathA2, dir, pathPrices);
    snprintf(errf, sizeof errf, "%s.stderr", dir);
    CHECK_EQ_INT(report(NULL, args, errf), 0);
    snprintf(shot, sizeof shot, "%s/screenshot.png", test_tmpdir());
    snprintf(log, sizeof log, "%s/chromium.log", test_tmpdir());
    snprintf(prof, sizeof prof, "%s/chromium-profile", test_tmpdir());
    char abs[4096];
    if (!realpath(dir, abs)) { test_fail_at(__FILE__, __LINE__, "realpath %s", dir); return; }
    snprintf(cmd, sizeof cmd,
             "timeout 120 %s --headless --no-sandbox --disable-gpu --disable-background-networking "
             "--disable-component-update --disable-sync --no-first-run --disable-dev-shm-usage "
             "--enable-logging=stderr --v=0 --user-data-dir=%s --screenshot=%s --window-size=1200,3000 "
             "file://%s/report.html >%s 2>&1",
             browser, prof, shot, abs, log);
    int st = system(cmd);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "chromium exited with %d (log %s)", WIFEXITED(st) ? WEXITSTATUS(st) : -1, log);
    check_png(test_tmpdir(), "screenshot");
    char *l = slurp(log, NULL);
    CHECK(l != NULL);
    if (l) {
        /* Page console messages appear as "CONSOLE(line)" or ":CONSOLE:" in Chromium's log. */
        const char *c = strstr(l, "CONSOLE");
        CHECK_MSG(!c, "console message: %.300s", c);
        CHECK_MSG(!strstr(l, "Failed to load resource"), "a resource failed to load");
    }
    free(l);
}

int main(void)
{
    RUN(test_one_machine_full_report);
    RUN(test_two_machines_with_prices);
    RUN(test_bench_only_is_a_kernel_report);
    RUN(test_missing_gnuplot_still_writes_report);
    RUN(test_other_schema_version_is_refused);
    RUN(test_bad_inputs_and_usage);
    RUN(test_wrong_types_are_survived);
    RUN(test_html_renders_in_chromium);
    cJSON_Delete(docA);
    cJSON_Delete(docA2);
    cJSON_Delete(docB);
    return test_finish();
}
