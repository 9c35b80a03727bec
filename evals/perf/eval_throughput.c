/* eval_throughput — items/s of a multiple-choice task with KV prefix reuse against the same
 * scorer recomputing every request from position 0 (what a scorer without prefix reuse does:
 * each choice costs its whole context), on the same items in the same run, and the ratio.
 *
 *   build/perf/eval_throughput [-m MODEL.gguf] [-t TASK] [-n ITEMS] [--threads N] [--reps R]
 *                              [--data-dir DIR]
 *
 * Defaults: ../shared/models/stories260K.gguf, hellaswag, 200 items, 2 threads. The two passes
 * alternate (reuse, recompute, reuse, recompute, … R times, default 2) and the best run of each is kept,
 * so drift of a shared machine hits both alike. It also checks that both give the same
 * predictions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evals/evals.h"
#include "harness/measure.h"

static int pass(sb_model *m, sb_eval_task *t, int no_reuse, double *secs, int64_t *evald, double *acc, char *err, size_t errlen)
{
    sb_lm_opts lo = {.n_ctx = 2048, .no_reuse = no_reuse, .add_bos = -1};
    const sb_hparams *hp = sb_model_hparams(m);
    if (hp->n_ctx_train > 0 && hp->n_ctx_train < lo.n_ctx) lo.n_ctx = hp->n_ctx_train;
    sb_lm *lm;
    int rc = sb_lm_new(m, &lo, &lm, err, errlen);
    if (rc) return rc;
    cJSON *res = NULL;
    double t0 = sb_now_s();
    rc = sb_eval_run_task(lm, t, NULL, &res, NULL, err, errlen);
    *secs = sb_now_s() - t0;
    sb_lm_counters(lm, evald, NULL);
    if (!rc) *acc = cJSON_GetObjectItem(res, "acc")->valuedouble;
    cJSON_Delete(res);
    sb_lm_free(lm);
    return rc;
}

int main(int argc, char **argv)
{
    const char *model = "../shared/models/stories260K.gguf", *task = "hellaswag", *data = "../shared/datasets";
    long n = 200;
    int threads = 2, reps = 2;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-m")) model = argv[i + 1];
        else if (!strcmp(argv[i], "-t")) task = argv[i + 1];
        else if (!strcmp(argv[i], "-n")) n = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--data-dir")) data = argv[i + 1];
        else if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]);
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    char err[1024];
    sb_model_opts mo = sb_model_default_opts();
    mo.n_threads = threads;
    sb_model *m;
    if (sb_model_load(model, &mo, &m, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    sb_eval_load_opts lo = {.data_dir = data, .limit = n, .fewshot = -1};
    sb_eval_task *t;
    if (sb_eval_task_load(task, &lo, &t, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    double best[2] = {1e30, 1e30}, acc[2] = {0, 0};
    int64_t ev[2] = {0, 0};
    for (int rep = 0; rep < reps; rep++)
        for (int k = 0; k < 2; k++) {
            double s;
            if (pass(m, t, k, &s, &ev[k], &acc[k], err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
            if (s < best[k]) best[k] = s;
            fprintf(stderr, "  pass %d %-9s %.2f s\n", rep, k ? "recompute" : "reuse", s);
        }
    printf("model %s, task %s, %zu items, %d threads\n", model, task, t->n_items, threads);
    printf("  KV prefix reuse : %8.2f items/s  (%lld tokens evaluated, acc %.4f)\n", t->n_items / best[0], (long long)ev[0], acc[0]);
    printf("  recompute       : %8.2f items/s  (%lld tokens evaluated, acc %.4f)\n", t->n_items / best[1], (long long)ev[1], acc[1]);
    printf("  speed-up        : %8.2fx  (tokens ratio %.2fx)%s\n", best[1] / best[0], (double)ev[1] / (double)ev[0],
           acc[0] == acc[1] ? "" : "  WARNING: accuracies differ");
    sb_eval_task_free(t);
    sb_model_free(m);
    return 0;
}
