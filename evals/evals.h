/* slmbench evals: accuracy, perplexity, latency and memory of a model on standard datasets.
 *
 * Pieces, in the order a run uses them:
 *   - Statistics (sb_eval_stderr, sb_eval_wilson95, sb_eval_mcnemar_p, sb_eval_min_detectable_diff).
 *   - Tasks (sb_eval_task_load): a dataset read through datasets/ and turned into items with the
 *     prompts of lm-evaluation-harness (see docs/evals.md for each task's prompt and metric).
 *   - The scorer (sb_lm): log-likelihood of a continuation given a context, greedy generation and
 *     perplexity chunks, on a runtime session whose KV cache keeps the longest common token prefix
 *     with the previous request (so a context is computed once for all of its choices, and a
 *     few-shot header once per task).
 *   - The runner (sb_eval_run_task): scores every item, appends one JSON line per finished item to
 *     the samples log (flushed + fsync'd), skips items already in the log on resume, and computes
 *     the task's metrics from the per-item records.
 *   - Latency (sb_eval_latency): TTFT, pp512, tg128, inter-token latency, decode at depths.
 */
#ifndef SB_EVALS_H
#define SB_EVALS_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "runtime/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- statistics */

/* Standard error of the mean of n values as lm-eval computes it: sample standard deviation
 * (n-1 denominator) / sqrt(n). 0 when n < 2. *mean (may be NULL) gets the mean. */
double sb_eval_stderr(const double *x, size_t n, double *mean);
/* 95% Wilson score interval of a proportion k/n. n == 0 gives [0, 1]. */
void sb_eval_wilson95(double k, double n, double *lo, double *hi);
/* Two-sided exact McNemar test (binomial on the discordant pairs): b = items only A got right,
 * c = items only B got right. p in [0, 1]; 1 when b + c == 0. */
double sb_eval_mcnemar_p(long b, long c);
/* Smallest accuracy difference a paired comparison of n items detects with a two-sided test at
 * alpha = 0.05 and power 0.8: (z_0.975 + z_0.8) · sqrt(p_disc / n), p_disc the fraction of
 * discordant items; when none are discordant, the unpaired bound with the pooled accuracy p:
 * (z_0.975 + z_0.8) · sqrt(2 p (1-p) / n), with p = 0.5 (the worst case) when p is 0 or 1.
 * NaN when n == 0. */
double sb_eval_min_detectable_diff(long n, long n_discordant, double p_pooled);

/* ---------------------------------------------------------------- tasks */

typedef enum sb_eval_kind {
    SB_EVAL_MC = 0,        /* choices scored by log-likelihood: acc (+ acc_norm)              */
    SB_EVAL_LOGLIK = 1,    /* one context/continuation: acc = greedy match, ppl               */
    SB_EVAL_GENERATE = 2,  /* greedy generation + answer extraction: exact match              */
    SB_EVAL_PERPLEXITY = 3,/* rolling perplexity over a whole text (llama.cpp chunking)       */
} sb_eval_kind;

typedef struct sb_eval_item {
    const char *doc_id;    /* stable id within the task (line number or dataset id)           */
    int n_choices;         /* MC: >= 1; LOGLIK / GENERATE: 1                                  */
    const char **ctx;      /* n_choices contexts (usually the same string)                    */
    const char **cont;     /* n_choices continuations (with the leading target delimiter)     */
    int *norm_len;         /* n_choices: code points of the choice text, for acc_norm         */
    int gold;              /* index of the right choice; -1 when not applicable               */
    const char *target;    /* GENERATE: the reference answer (normalized)                      */
    int group;             /* index into the task's groups (MMLU subject); -1                 */
} sb_eval_item;

typedef struct sb_eval_task {
    char name[64];         /* "arc_easy", "mmlu", or the user task's name                     */
    char key[96];          /* name + "@" + fewshot: identifies the task in the samples log    */
    sb_eval_kind kind;
    int fewshot;
    int has_acc_norm;
    int n_items_total;     /* items in the dataset before --limit                             */
    long limit;            /* the --limit asked (PERPLEXITY applies it to chunks)              */
    sb_eval_item *items;
    size_t n_items;
    char **groups;         /* MMLU: subject names                                              */
    int n_groups;
    /* GENERATE */
    int max_gen_tokens;
    const char *stops[4];  /* generation stops at the first of these strings (NULL-ended)     */
    /* PERPLEXITY: the whole text; items are chunks, made once the text is tokenized         */
    char *text;
    size_t text_len;
    int64_t chunk_ctx;     /* tokens per chunk (llama.cpp's n_ctx)                             */
    char source[1024];     /* data files read, for the results                                 */
    char prompt_note[256]; /* how the prompt differs from lm-eval, when it does               */
    struct sb_arena *arena;
} sb_eval_task;

typedef struct sb_eval_load_opts {
    const char *data_dir;  /* folder holding arc/, mmlu/, ... (the layout of ../shared/datasets) */
    long limit;            /* items per task (per subject for MMLU); <= 0: all                 */
    int fewshot;           /* < 0: the task's default (0; gsm8k 5)                             */
    uint64_t seed;         /* 0: the first `limit` items; else a seeded random subset          */
    int64_t ppl_ctx;       /* wikitext2 chunk length in tokens; <= 0: 512                      */
} sb_eval_load_opts;

/* Names of the built-in tasks, NULL-terminated. */
extern const char *const sb_eval_task_names[];

/* Loads a task. spec: a built-in name, optionally with ":K" for K-shot ("mmlu:5"), or the path of
 * a user task file (*.json; see docs/evals.md). Returns 0, or a dataset status (sb_ds_status) with
 * err naming the file, line and field. */
int sb_eval_task_load(const char *spec, const sb_eval_load_opts *o, sb_eval_task **out, char *err,
                      size_t errlen);
void sb_eval_task_free(sb_eval_task *t);

/* GSM8K answers. normalize: lm-eval's exact_match with regexes_to_ignore [",", "\\$",
 * "(?s).*#### ", "\\.$"] and ignore_case (drop up to the last "#### ", commas, dollars, one
 * trailing '.', lower-case). extract_strict: the number after "#### " ("[invalid]" when none);
 * extract_flexible: the last match of "(-?[$0-9.,]{2,})|(-?[0-9]+)". All malloc'd. */
char *sb_eval_gsm8k_normalize(const char *s);
char *sb_eval_gsm8k_extract_strict(const char *s);
char *sb_eval_gsm8k_extract_flexible(const char *s);

/* ---------------------------------------------------------------- scorer */

typedef struct sb_lm sb_lm;

typedef struct sb_lm_opts {
    int64_t n_ctx;         /* session context (tokens); longer requests are cut on the left    */
    int no_reuse;          /* 1: recompute every request from position 0 (tests)                */
    int add_bos;           /* -1: as the vocabulary says; 0/1 force                           */
} sb_lm_opts;

int sb_lm_new(sb_model *m, const sb_lm_opts *o, sb_lm **out, char *err, size_t errlen);
void sb_lm_free(sb_lm *lm);

typedef struct sb_loglik {
    double ll;             /* sum of log p(continuation token | prefix), natural log          */
    int greedy;            /* every continuation token is the argmax of its distribution       */
    int n_tokens;          /* continuation tokens scored                                       */
} sb_loglik;

/* Log-likelihood of cont after ctx, with lm-eval's rule: trailing spaces of ctx move to cont,
 * tokens of cont = tok(ctx + cont)[len(tok(ctx)):], BOS first when the vocabulary adds it. */
int sb_lm_loglik(sb_lm *lm, const char *ctx, const char *cont, sb_loglik *out, char *err, size_t errlen);
/* The same on token ids: scores ids[cont_start..n) given ids[0..cont_start) (cont_start >= 1).
 * token_lp (may be NULL) gets n - cont_start per-token log-probs. */
int sb_lm_loglik_tokens(sb_lm *lm, const int32_t *ids, int64_t n, int64_t cont_start, sb_loglik *out,
                        double *token_lp, char *err, size_t errlen);
/* Greedy generation of at most max_tokens after prompt; stops at EOS or when the text produced
 * contains one of stops (NULL-terminated list; the stop string and what follows are cut).
 * *out is malloc'd. */
int sb_lm_generate(sb_lm *lm, const char *prompt, int max_tokens, const char *const *stops, char **out,
                   char *err, size_t errlen);
/* Tokenizes text (add_special per the vocabulary). *ids malloc'd. */
int sb_lm_tokenize(sb_lm *lm, const char *text, size_t len, int add_special, int32_t **ids, size_t *n);
sb_session *sb_lm_session(sb_lm *lm);
int32_t sb_lm_bos(const sb_lm *lm);
/* Total tokens evaluated by the model and tokens served from the KV prefix, since creation. */
void sb_lm_counters(const sb_lm *lm, int64_t *evaluated, int64_t *reused);

/* ---------------------------------------------------------------- runner */

typedef struct sb_samples sb_samples;

/* Opens the samples log (JSON lines). resume: read the records already there (a torn last line
 * from a killed run is cut off) and append after them; else the file is truncated. */
int sb_samples_open(const char *path, int resume, sb_samples **out, char *err, size_t errlen);
void sb_samples_close(sb_samples *s);
/* Record of (model, task key, doc id) from the file, or NULL. Borrowed. */
const cJSON *sb_samples_find(sb_samples *s, const char *model, const char *task_key, const char *doc_id);
/* Appends rec (adds "model" and "task") as one line, flushed and fsync'd before returning. */
int sb_samples_append(sb_samples *s, const char *model, const char *task_key, cJSON *rec, char *err,
                      size_t errlen);
size_t sb_samples_count(const sb_samples *s);

typedef struct sb_eval_run_opts {
    const char *model_key; /* identifies the model in the samples log (file name)              */
    sb_samples *samples;   /* may be NULL                                                      */
    int progress;          /* progress line with ETA on stderr                                 */
    /* Called after each finished item (tests use it to stop a run at a known point). */
    void (*on_item)(void *ud, size_t done, size_t total);
    void *ud;
} sb_eval_run_opts;

/* Runs one task on lm. *result gets the metrics object (n, acc, acc_stderr, acc_ci95, ...,
 * time_s, items_per_s); *correct (may be NULL) gets a malloc'd array of n_items 0/1 per item
 * (acc; exact match for GENERATE; -1 for PERPLEXITY) for paired comparisons. */
int sb_eval_run_task(sb_lm *lm, sb_eval_task *t, const sb_eval_run_opts *o, cJSON **result,
                     signed char **correct, char *err, size_t errlen);

/* ---------------------------------------------------------------- latency */

typedef struct sb_latency_opts {
    int64_t n_ctx;         /* the session context; depths beyond it are skipped                */
    int reps;              /* repetitions of TTFT/pp (median reported); <= 0: 3                */
    uint64_t seed;         /* random prompt tokens                                             */
    int n_gen;             /* tokens for tg / ITL; <= 0: 128                                    */
} sb_latency_opts;

/* Measures latency on a fresh session of m; *out gets the "latency" object of the results. */
int sb_eval_latency(sb_model *m, const sb_latency_opts *o, cJSON **out, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
