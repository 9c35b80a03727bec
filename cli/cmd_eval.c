/* slmbench eval — accuracy, latency and memory of one or more GGUF models on eval datasets.
 *
 * Each model runs in its own child process (fork), so the peak RSS measured is that model's alone
 * and a crash of one model does not lose the others. The child writes its results object to a
 * temporary file; the parent gathers them, adds the paired comparisons (McNemar) between models,
 * the machine section, writes the results JSON and prints a summary table. Per-item records go to
 * the samples log as each item finishes; --resume continues from it. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/commands.h"
#include "datasets/datasets.h"
#include "evals/evals.h"
#include "harness/hw.h"
#include "harness/measure.h"
#include "harness/results.h"

#define MAX_MODELS 16
#define MAX_TASKS 64

static void usage(FILE *f)
{
    fprintf(f,
            "usage: slmbench eval -m A.gguf [-m B.gguf ...] --tasks LIST [options]\n\n"
            "Evaluates each model (in its own process) on the tasks, then measures its latency and\n"
            "memory; with two or more models, compares them item by item (McNemar test).\n\n"
            "  -m, --model FILE       GGUF model; repeat for several (at most %d)\n"
            "  -t, --tasks LIST       comma-separated: hellaswag arc_easy arc_challenge piqa winogrande\n"
            "                         mmlu boolq lambada_openai gsm8k wikitext2, NAME:K for K-shot\n"
            "                         (mmlu:5, gsm8k:8), or a user task file *.json (docs/evals.md)\n"
            "      --data-dir DIR     datasets folder (layout of ../shared/datasets); default:\n"
            "                         $SB_DATA_DIR, else ../shared/datasets\n"
            "      --limit N          items per task (per subject for mmlu; chunks for wikitext2)\n"
            "      --fewshot K        few-shot examples for mmlu and gsm8k (default: mmlu 0, gsm8k 5)\n"
            "      --seed S           with --limit: a random subset of items drawn with seed S\n"
            "                         (default 0: the first N items, as lm-eval's --limit); also the\n"
            "                         latency prompts\n"
            "      --threads N        kernel threads (default: all online processors)\n"
            "      --backend B        cpu (default), ref or vulkan\n"
            "      --ctx N            context of the eval session (default: 2048 or the model's\n"
            "                         training context if smaller); wikitext2 chunk length (default 512)\n"
            "      --kv-f16           KV cache in f16 (default f32; llama.cpp's default is f16): halves\n"
            "                         the KV memory and the bytes decode at depth reads\n"
            "  -o, --output FILE      results JSON (section \"eval\", docs/results-schema.md)\n"
            "      --log-samples FILE one JSON line per finished item (fsync'd as it finishes)\n"
            "      --resume           continue from --log-samples: items already there are not redone\n"
            "      --no-latency       skip the latency suite (TTFT, pp512, tg128, ITL, depths)\n"
            "      --no-memory        skip the memory section (peak RSS, KV, predicted RAM)\n"
            "  -h, --help             this text\n\n"
            "Exit status: 0 done, 1 a model or task failed, 2 usage or input error, 130 interrupted\n"
            "(finished items stay in the samples log; rerun with --resume).\n", MAX_MODELS);
}

typedef struct eval_cfg {
    const char *models[MAX_MODELS];
    char keys[MAX_MODELS][256];
    int n_models;
    const char *tasks[MAX_TASKS];
    int n_tasks;
    char data_dir[4096];
    long limit;
    int fewshot, threads, no_latency, no_memory, resume, kv_f16;
    uint64_t seed;
    const char *backend, *output, *samples;
    long ctx;
} eval_cfg;

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* ---------------------------------------------------------------- child: one model */

static void add_task_result(cJSON *tasks, cJSON *corr, const sb_eval_task *t, cJSON *res, const signed char *c)
{
    char key[96];
    int dflt = !strcmp(t->name, "gsm8k") ? 5 : 0;
    if (t->fewshot == dflt) snprintf(key, sizeof key, "%s", t->name);
    else snprintf(key, sizeof key, "%s:%d", t->name, t->fewshot);
    cJSON_AddItemToObject(tasks, key, res);
    if (!c) return;
    int n = (int)cJSON_GetObjectItem(res, "n")->valuedouble;
    char *bits = malloc((size_t)n + 1);
    if (!bits) return;
    for (int i = 0; i < n; i++) bits[i] = c[i] < 0 ? '-' : c[i] ? '1' : '0';
    bits[n] = 0;
    cJSON_AddStringToObject(corr, key, bits);
    free(bits);
}

static int run_model(const eval_cfg *cfg, int mi, const char *out_path)
{
    const char *path = cfg->models[mi];
    char err[1024];
    sb_model_opts mo = sb_model_default_opts();
    mo.backend = cfg->backend;
    mo.n_threads = cfg->threads;
    mo.n_ctx = cfg->ctx;
    mo.kv_type = cfg->kv_f16 ? SB_TYPE_F16 : SB_TYPE_F32;
    sb_model *m = NULL;
    int rc = sb_model_load(path, &mo, &m, err, sizeof err);
    if (rc) { fprintf(stderr, "slmbench eval: %s\n", err); return rc == SB_MODEL_E_MEMORY || rc == SB_MODEL_E_BACKEND ? 1 : 2; }
    const sb_hparams *hp = sb_model_hparams(m);
    int64_t n_ctx = cfg->ctx > 0 ? cfg->ctx : (hp->n_ctx_train > 0 && hp->n_ctx_train < 2048 ? hp->n_ctx_train : 2048);

    cJSON *mj = cJSON_CreateObject();
    cJSON_AddStringToObject(mj, "path", path);
    cJSON_AddStringToObject(mj, "name", cfg->keys[mi]);
    cJSON_AddStringToObject(mj, "arch", hp->arch);
    cJSON_AddNumberToObject(mj, "params", (double)sb_model_n_params(m));
    struct stat st;
    if (!stat(path, &st)) cJSON_AddNumberToObject(mj, "file_bytes", (double)st.st_size);
    cJSON_AddStringToObject(mj, "backend", sb_model_backend(m));
    const sb_kctx *kc = sb_model_kctx(m);
    cJSON_AddNumberToObject(mj, "threads", kc && kc->n_threads > 0 ? kc->n_threads : (double)sysconf(_SC_NPROCESSORS_ONLN));
    cJSON_AddNumberToObject(mj, "n_ctx", (double)n_ctx);
    cJSON_AddNumberToObject(mj, "n_ctx_train", hp->n_ctx_train);
    cJSON_AddStringToObject(mj, "kv_type", cfg->kv_f16 ? "f16" : "f32");
    cJSON *tasks = cJSON_AddObjectToObject(mj, "tasks");
    cJSON *corr = cJSON_AddObjectToObject(mj, "_correct");

    int status = 0;
    sb_lm *lm = NULL;
    sb_lm_opts lo = {.n_ctx = n_ctx, .add_bos = -1};
    if ((rc = sb_lm_new(m, &lo, &lm, err, sizeof err))) {
        fprintf(stderr, "slmbench eval: %s: %s\n", path, err);
        cJSON_Delete(mj);
        sb_model_free(m);
        return 1;
    }
    if (!cfg->no_memory) {
        /* Memory probe before any dataset is loaded: fill the whole context (every KV position and
         * the largest activation batch touched), then read the peak RSS of this process, which so
         * far holds only the model, its session and the scorer. */
        int32_t *ids = malloc((size_t)n_ctx * sizeof *ids);
        sb_session *s = sb_lm_session(lm);
        int ok = ids && !sb_session_truncate(s, 0);
        for (int64_t i = 0; ids && i < n_ctx; i++) ids[i] = (int32_t)(3 + (uint64_t)i * 2654435761u % (uint64_t)(hp->n_vocab > 4 ? hp->n_vocab - 3 : 1));
        for (int64_t p = 0; ok && p < n_ctx; p += 512)
            ok = !sb_session_eval(s, ids + p, n_ctx - p < 512 ? n_ctx - p : 512, NULL, 0);
        if (ok) ok = !sb_session_truncate(s, 0);
        free(ids);
        cJSON *mem = cJSON_AddObjectToObject(mj, "memory");
        cJSON_AddNumberToObject(mem, "peak_rss_bytes", ok ? (double)sb_peak_rss_bytes() : NAN);
        cJSON_AddNumberToObject(mem, "weights_bytes", (double)sb_model_weight_bytes(m));
        cJSON_AddNumberToObject(mem, "kv_bytes", (double)sb_model_kv_bytes(m, n_ctx));
        cJSON_AddNumberToObject(mem, "n_ctx", (double)n_ctx);
        cJSON_AddNumberToObject(mem, "predicted_bytes", (double)sb_model_predict_ram(m, n_ctx));
        cJSON_AddStringToObject(mem, "definitions",
            "peak_rss_bytes: VmHWM of the model's own process after loading it and filling all n_ctx positions "
            "(before any dataset is read); predicted_bytes: sb_model_predict_ram(n_ctx) = weights + KV + activations "
            "+ overhead (the scorer's logits buffer, <= 64 MiB, is not in it); peak_rss_eval_bytes: VmHWM after the "
            "tasks (adds the datasets held in memory); peak_rss_process_bytes: the whole process including the "
            "latency suite's session (wait4 ru_maxrss)");
    }
    sb_samples *samples = NULL;
    if (cfg->samples && sb_samples_open(cfg->samples, 1, &samples, err, sizeof err)) {
        fprintf(stderr, "slmbench eval: %s\n", err);
        status = 1;
    }
    sb_eval_load_opts lopt = {.data_dir = cfg->data_dir, .limit = cfg->limit, .fewshot = cfg->fewshot,
                              .seed = cfg->seed, .ppl_ctx = cfg->ctx > 0 ? cfg->ctx : 512};
    for (int i = 0; !status && i < cfg->n_tasks; i++) {
        sb_eval_task *t = NULL;
        if ((rc = sb_eval_task_load(cfg->tasks[i], &lopt, &t, err, sizeof err))) {
            fprintf(stderr, "slmbench eval: %s\n", err);
            status = 2;
            break;
        }
        if (sb_progress_enabled()) fprintf(stderr, "%s: %s (%zu items)\n", cfg->keys[mi], t->key, t->n_items);
        sb_eval_run_opts ro = {.model_key = cfg->keys[mi], .samples = samples, .progress = sb_progress_enabled()};
        cJSON *res = NULL;
        signed char *c = NULL;
        if ((rc = sb_eval_run_task(lm, t, &ro, &res, &c, err, sizeof err))) {
            fprintf(stderr, "slmbench eval: %s: task %s: %s\n", path, t->name, err);
            status = 1;
        } else {
            cJSON_AddNumberToObject(res, "n_ctx", (double)(t->kind == SB_EVAL_PERPLEXITY ? t->chunk_ctx : n_ctx));
            add_task_result(tasks, corr, t, res, c);
        }
        free(c);
        sb_eval_task_free(t);
    }
    sb_samples_close(samples);
    int64_t evald, reused;
    sb_lm_counters(lm, &evald, &reused);
    cJSON_AddNumberToObject(mj, "tokens_evaluated", (double)evald);
    cJSON_AddNumberToObject(mj, "tokens_reused_from_kv", (double)reused);
    cJSON *mem = cJSON_GetObjectItem(mj, "memory");
    if (mem) cJSON_AddNumberToObject(mem, "peak_rss_eval_bytes", (double)sb_peak_rss_bytes());
    sb_lm_free(lm);
    if (!status && !cfg->no_latency) {
        sb_latency_opts lat = {.n_ctx = n_ctx, .seed = cfg->seed};
        cJSON *lj = NULL;
        if (sb_progress_enabled()) fprintf(stderr, "%s: latency\n", cfg->keys[mi]);
        if (sb_eval_latency(m, &lat, &lj, err, sizeof err)) { fprintf(stderr, "slmbench eval: %s: %s\n", path, err); status = 1; }
        else cJSON_AddItemToObject(mj, "latency", lj);
    }
    char *txt = cJSON_PrintUnformatted(mj);
    if (!txt || sb_write_file_atomic(out_path, txt, strlen(txt), err, sizeof err)) {
        fprintf(stderr, "slmbench eval: %s\n", txt ? err : "out of memory");
        if (!status) status = 1;
    }
    free(txt);
    cJSON_Delete(mj);
    sb_model_free(m);
    return status;
}

/* ---------------------------------------------------------------- parent */

static volatile sig_atomic_t child_pid, interrupted;

static void on_signal(int sig)
{
    interrupted = sig;
    if (child_pid > 0) kill((pid_t)child_pid, sig);
}

static double jnum(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void comparisons(cJSON *models, cJSON *out)
{
    int n = cJSON_GetArraySize(models);
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++) {
            cJSON *ma = cJSON_GetArrayItem(models, a), *mb = cJSON_GetArrayItem(models, b);
            cJSON *ca = cJSON_GetObjectItem(ma, "_correct"), *cb = cJSON_GetObjectItem(mb, "_correct");
            cJSON *ta;
            cJSON_ArrayForEach(ta, ca) {
                cJSON *tb = cJSON_GetObjectItemCaseSensitive(cb, ta->string);
                if (!cJSON_IsString(ta) || !cJSON_IsString(tb)) continue;
                const char *x = ta->valuestring, *y = tb->valuestring;
                size_t len = strlen(x);
                if (len != strlen(y) || len == 0 || x[0] == '-') continue;
                long bb = 0, cc = 0, ka = 0, kb = 0;
                for (size_t i = 0; i < len; i++) {
                    int ra = x[i] == '1', rb = y[i] == '1';
                    ka += ra; kb += rb;
                    bb += ra && !rb;
                    cc += !ra && rb;
                }
                cJSON *c = cJSON_CreateObject();
                cJSON_AddStringToObject(c, "task", ta->string);
                cJSON_AddStringToObject(c, "a", cJSON_GetObjectItem(ma, "name")->valuestring);
                cJSON_AddStringToObject(c, "b", cJSON_GetObjectItem(mb, "name")->valuestring);
                cJSON_AddNumberToObject(c, "n", (double)len);
                cJSON_AddNumberToObject(c, "acc_a", (double)ka / (double)len);
                cJSON_AddNumberToObject(c, "acc_b", (double)kb / (double)len);
                cJSON_AddNumberToObject(c, "diff", (double)(ka - kb) / (double)len);
                cJSON_AddNumberToObject(c, "only_a_right", (double)bb);
                cJSON_AddNumberToObject(c, "only_b_right", (double)cc);
                cJSON_AddNumberToObject(c, "mcnemar_p", sb_eval_mcnemar_p(bb, cc));
                cJSON_AddNumberToObject(c, "min_detectable_diff",
                                        sb_eval_min_detectable_diff((long)len, bb + cc, (double)(ka + kb) / (2.0 * (double)len)));
                cJSON_AddItemToArray(out, c);
            }
        }
}

static void print_summary(const cJSON *eval)
{
    const cJSON *models = cJSON_GetObjectItem(eval, "models"), *m;
    printf("\n%-22s %-16s %6s %8s %8s %8s %10s %9s\n", "model", "task", "n", "metric", "value", "stderr", "acc_norm", "items/s");
    cJSON_ArrayForEach(m, models) {
        const char *name = cJSON_GetObjectItem(m, "name")->valuestring;
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItem(m, "tasks")) {
            const char *metric = cJSON_GetObjectItem(t, "ppl") && !cJSON_GetObjectItem(t, "acc") ? "ppl"
                               : cJSON_GetObjectItem(t, "exact_match") ? "exact_match" : "acc";
            const char *se = !strcmp(metric, "ppl") ? "ppl_stderr" : !strcmp(metric, "acc") ? "acc_stderr" : "exact_match_stderr";
            double an = jnum(t, "acc_norm");
            char anb[16] = "-";
            if (!isnan(an)) snprintf(anb, sizeof anb, "%.4f", an);
            printf("%-22.22s %-16.16s %6.0f %8.8s %8.4f %8.4f %10s %9.1f\n", name, t->string, jnum(t, "n"),
                   !strcmp(metric, "exact_match") ? "em" : metric, jnum(t, metric), jnum(t, se), anb, jnum(t, "items_per_s"));
            if (cJSON_GetObjectItem(t, "ppl") && cJSON_GetObjectItem(t, "acc"))
                printf("%-22s %-16s %6s %8s %8.3f %8.3f\n", "", "", "", "ppl", jnum(t, "ppl"), jnum(t, "ppl_stderr"));
        }
    }
    int any = 0;
    cJSON_ArrayForEach(m, models) {
        const cJSON *l = cJSON_GetObjectItem(m, "latency");
        if (!l) continue;
        if (!any++) printf("\n%-22s %11s %11s %10s %10s %20s %s\n", "latency", "ttft128 ms", "ttft512 ms", "pp512 t/s",
                           "tg128 t/s", "itl p50/p90/p99 ms", "tg t/s at depth 0/1024/4096");
        const cJSON *tt = cJSON_GetObjectItem(l, "ttft_ms"), *itl = cJSON_GetObjectItem(l, "itl_ms"),
                    *d = cJSON_GetObjectItem(l, "tg_at_depth_tok_s");
        char ib[64], db[64];
        snprintf(ib, sizeof ib, "%.2f/%.2f/%.2f", jnum(itl, "p50"), jnum(itl, "p90"), jnum(itl, "p99"));
        db[0] = 0;
        static const char *const dk[3] = {"0", "1024", "4096"};
        for (int k = 0; k < 3; k++) {
            size_t L = strlen(db);
            double v = jnum(d, dk[k]);
            if (isnan(v)) snprintf(db + L, sizeof db - L, "%s-", k ? "/" : "");
            else snprintf(db + L, sizeof db - L, "%s%.1f", k ? "/" : "", v);
        }
        printf("%-22.22s %11.2f %11.2f %10.1f %10.1f %20s %s\n", cJSON_GetObjectItem(m, "name")->valuestring,
               jnum(tt, "128"), jnum(tt, "512"), jnum(l, "pp512_tok_s"), jnum(l, "tg128_tok_s"), ib, db);
    }
    any = 0;
    cJSON_ArrayForEach(m, models) {
        const cJSON *mem = cJSON_GetObjectItem(m, "memory");
        if (!mem) continue;
        if (!any++) printf("\n%-22s %10s %9s %6s %10s %10s %7s %12s %12s\n", "memory (MiB)", "weights", "KV", "ctx", "predicted",
                           "peak RSS", "ratio", "after tasks", "process peak");
        printf("%-22.22s %10.1f %9.1f %6.0f %10.1f %10.1f %7.2f %12.1f %12.1f\n", cJSON_GetObjectItem(m, "name")->valuestring,
               jnum(mem, "weights_bytes") / 1048576, jnum(mem, "kv_bytes") / 1048576, jnum(mem, "n_ctx"),
               jnum(mem, "predicted_bytes") / 1048576, jnum(mem, "peak_rss_bytes") / 1048576,
               jnum(mem, "peak_rss_bytes") / jnum(mem, "predicted_bytes"),
               jnum(mem, "peak_rss_eval_bytes") / 1048576, jnum(mem, "peak_rss_process_bytes") / 1048576);
    }
    const cJSON *c;
    any = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(eval, "comparisons")) {
        if (!any++) printf("\n%-16s %-18s %-18s %6s %8s %10s %10s\n", "comparison", "a", "b", "n", "a-b", "McNemar p", "min diff");
        printf("%-16.16s %-18.18s %-18.18s %6.0f %+8.4f %10.4g %10.4f\n", cJSON_GetObjectItem(c, "task")->valuestring,
               cJSON_GetObjectItem(c, "a")->valuestring, cJSON_GetObjectItem(c, "b")->valuestring, jnum(c, "n"),
               jnum(c, "diff"), jnum(c, "mcnemar_p"), jnum(c, "min_detectable_diff"));
    }
}

static int parse_args(int argc, char **argv, eval_cfg *c)
{
    enum { O_DATA = 256, O_LIMIT, O_FEWSHOT, O_SEED, O_THREADS, O_BACKEND, O_CTX, O_SAMPLES, O_RESUME, O_NOLAT, O_NOMEM, O_KVF16 };
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"tasks", required_argument, 0, 't'},
        {"data-dir", required_argument, 0, O_DATA}, {"limit", required_argument, 0, O_LIMIT},
        {"fewshot", required_argument, 0, O_FEWSHOT}, {"seed", required_argument, 0, O_SEED},
        {"threads", required_argument, 0, O_THREADS}, {"backend", required_argument, 0, O_BACKEND},
        {"ctx", required_argument, 0, O_CTX}, {"output", required_argument, 0, 'o'},
        {"log-samples", required_argument, 0, O_SAMPLES}, {"resume", no_argument, 0, O_RESUME},
        {"no-latency", no_argument, 0, O_NOLAT}, {"no-memory", no_argument, 0, O_NOMEM},
        {"kv-f16", no_argument, 0, O_KVF16},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
    };
    memset(c, 0, sizeof *c);
    c->fewshot = -1;
    c->backend = "cpu";
    static char taskbuf[8192];
    taskbuf[0] = 0;
    const char *data = NULL;
    long v;
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":m:t:o:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'm':
            if (c->n_models == MAX_MODELS) { fprintf(stderr, "slmbench eval: at most %d models\n", MAX_MODELS); return 2; }
            c->models[c->n_models++] = optarg;
            break;
        case 't':
            if (strlen(taskbuf) + strlen(optarg) + 2 > sizeof taskbuf) { fprintf(stderr, "slmbench eval: --tasks too long\n"); return 2; }
            if (taskbuf[0]) strcat(taskbuf, ",");
            strcat(taskbuf, optarg);
            break;
        case 'o': c->output = optarg; break;
        case 'h': usage(stdout); return -1;
        case O_DATA: data = optarg; break;
        case O_LIMIT: if (parse_long(optarg, 1, 100000000, &v)) goto bad; c->limit = v; break;
        case O_FEWSHOT: if (parse_long(optarg, 0, 64, &v)) goto bad; c->fewshot = (int)v; break;
        case O_SEED: if (parse_long(optarg, 0, 0x7fffffffL, &v)) goto bad; c->seed = (uint64_t)v; break;
        case O_THREADS: if (parse_long(optarg, 1, 1024, &v)) goto bad; c->threads = (int)v; break;
        case O_BACKEND: c->backend = optarg; break;
        case O_CTX: if (parse_long(optarg, 16, 1 << 20, &v)) goto bad; c->ctx = v; break;
        case O_SAMPLES: c->samples = optarg; break;
        case O_RESUME: c->resume = 1; break;
        case O_NOLAT: c->no_latency = 1; break;
        case O_NOMEM: c->no_memory = 1; break;
        case O_KVF16: c->kv_f16 = 1; break;
        case ':': fprintf(stderr, "slmbench eval: option '%s' needs a value\n", argv[optind - 1]); usage(stderr); return 2;
        default: fprintf(stderr, "slmbench eval: unknown option '%s'\n", argv[optind - 1]); usage(stderr); return 2;
        }
        continue;
    bad:
        fprintf(stderr, "slmbench eval: bad value '%s' for %s\n", optarg, argv[optind - 1]);
        return 2;
    }
    if (optind < argc) { fprintf(stderr, "slmbench eval: unexpected argument '%s'\n", argv[optind]); usage(stderr); return 2; }
    if (c->n_models == 0) { fprintf(stderr, "slmbench eval: no model (-m FILE.gguf)\n"); usage(stderr); return 2; }
    if (c->resume && !c->samples) { fprintf(stderr, "slmbench eval: --resume needs --log-samples FILE\n"); return 2; }
    for (char *p = strtok(taskbuf, ","); p; p = strtok(NULL, ",")) {
        if (!*p) continue;
        if (c->n_tasks == MAX_TASKS) { fprintf(stderr, "slmbench eval: at most %d tasks\n", MAX_TASKS); return 2; }
        c->tasks[c->n_tasks++] = p;
    }
    if (c->n_tasks == 0 && c->no_latency && c->no_memory) { fprintf(stderr, "slmbench eval: nothing to do (no --tasks, latency and memory off)\n"); return 2; }
    if (!data) data = getenv("SB_DATA_DIR");
    if (!data || !*data) data = "../shared/datasets";
    snprintf(c->data_dir, sizeof c->data_dir, "%s", data);
    /* names in the samples log: the file name, made unique */
    for (int i = 0; i < c->n_models; i++) {
        const char *b = strrchr(c->models[i], '/');
        b = b ? b + 1 : c->models[i];
        snprintf(c->keys[i], sizeof c->keys[i], "%s", b);
        int dup = 1;
        for (int j = 0; j < i; j++) if (!strcmp(c->keys[j], b)) dup++;
        if (dup > 1) snprintf(c->keys[i], sizeof c->keys[i], "%.200s#%d", b, dup);
    }
    return 0;
}

int sb_cmd_eval(int argc, char **argv)
{
    eval_cfg cfg;
    int rc = parse_args(argc, argv, &cfg);
    if (rc) return rc < 0 ? 0 : rc;
    char err[1024];
    if (cfg.samples && !cfg.resume) {   /* a fresh log; children then append to it */
        FILE *f = fopen(cfg.samples, "wb");
        if (!f) { fprintf(stderr, "slmbench eval: %s: %s\n", cfg.samples, strerror(errno)); return 1; }
        fclose(f);
    }
    char tmpl[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(tmpl, sizeof tmpl, "%s/slmbench-eval.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(tmpl)) { fprintf(stderr, "slmbench eval: cannot create a temporary folder: %s\n", strerror(errno)); return 1; }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    cJSON *doc = sb_results_new(argc, argv);
    cJSON *eval = sb_results_section(doc, "eval");
    cJSON *models = cJSON_AddArrayToObject(eval, "models");
    int status = 0;
    for (int i = 0; i < cfg.n_models && !interrupted; i++) {
        char out[700];
        snprintf(out, sizeof out, "%s/model%d.json", tmpl, i);
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) { fprintf(stderr, "slmbench eval: fork: %s\n", strerror(errno)); status = 1; break; }
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);   /* dies with the parent (kill -9 included) */
            signal(SIGINT, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
            _exit(run_model(&cfg, i, out));
        }
        child_pid = pid;
        int st = 0;
        struct rusage ru;
        memset(&ru, 0, sizeof ru);
        while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR) {}
        child_pid = 0;
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
        if (WIFSIGNALED(st) && !interrupted)
            fprintf(stderr, "slmbench eval: %s: the model's process died (signal %d)\n", cfg.models[i], WTERMSIG(st));
        if (code == 2) { status = 2; }
        else if (code != 0 && status == 0) status = 1;
        char *txt = sb_read_file(out, 256u << 20, NULL, err, sizeof err);
        cJSON *mj = txt ? cJSON_Parse(txt) : NULL;
        free(txt);
        unlink(out);
        if (!mj) continue;
        cJSON *mem = cJSON_GetObjectItem(mj, "memory");
        if (mem) cJSON_AddNumberToObject(mem, "peak_rss_process_bytes", (double)ru.ru_maxrss * 1024.0);
        cJSON_AddItemToArray(models, mj);
        if (code == 2) break;   /* an input error (bad task file, bad model) would repeat */
    }
    rmdir(tmpl);
    if (interrupted) {
        fprintf(stderr, "slmbench eval: interrupted%s\n", cfg.samples ? "; finished items are in the samples log (rerun with --resume)" : "");
        cJSON_Delete(doc);
        return 130;
    }
    comparisons(models, cJSON_AddArrayToObject(eval, "comparisons"));
    cJSON *m;
    cJSON_ArrayForEach(m, models) cJSON_DeleteItemFromObject(m, "_correct");
    cJSON_AddStringToObject(eval, "data_dir", cfg.data_dir);
    cJSON_AddNumberToObject(eval, "limit", (double)cfg.limit);
    cJSON_AddNumberToObject(eval, "seed", (double)cfg.seed);
    cJSON_AddStringToObject(eval, "scoring", "lm-eval conventions: summed log-likelihood of ' '+choice, tokens tok(ctx+cont)[len(tok(ctx)):], BOS prepended when the vocabulary adds it; acc_norm divides by the choice's characters; stderr = sample sd / sqrt(n); ci95 = Wilson; comparisons: exact McNemar, min_detectable_diff at alpha 0.05, power 0.8");
    if (cJSON_GetArraySize(models) > 0) {
        cJSON_DeleteItemFromObject(doc, "machine");
        cJSON_AddItemToObject(doc, "machine", sb_hw_probe_json(0, cfg.threads));
        print_summary(eval);
    }
    if (cfg.output && sb_results_write(doc, cfg.output, err, sizeof err)) {
        fprintf(stderr, "slmbench eval: %s\n", err);
        if (!status) status = 1;
    }
    cJSON_Delete(doc);
    return status;
}
