/* evals/run.c — runs a task: every item scored (or taken from the samples log on resume), one
 * record per item, and the task's metrics computed from the records. */
#include "evals/evals.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/measure.h"

__attribute__((format(printf, 4, 5)))
static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

static void prompt_hash(const sb_eval_item *it, char out[17])
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < it->n_choices; i++) {
        const char *parts[2] = {it->ctx[i], it->cont[i]};
        for (int k = 0; k < 2; k++) {
            for (const char *s = parts[k]; *s; s++) { h ^= (unsigned char)*s; h *= 0x100000001b3ull; }
            h ^= 0x1f;
            h *= 0x100000001b3ull;
        }
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static void progress(const char *name, size_t done, size_t total, double t0, double *last)
{
    double now = sb_now_s();
    if (done != total && now - *last < 0.25) return;
    *last = now;
    double rate = done ? done / (now - t0 + 1e-9) : 0, eta = rate > 0 ? (total - done) / rate : 0;
    fprintf(stderr, "\r%-16s %6zu/%-6zu %8.1f items/s  ETA %3dm%02ds ", name, done, total, rate, (int)(eta / 60),
            (int)eta % 60);
    if (done == total) fprintf(stderr, "\n");
}

/* ---------------------------------------------------------------- scoring one item */

static int score_mc(sb_lm *lm, const sb_eval_task *t, const sb_eval_item *it, cJSON *rec, char *err, size_t errlen)
{
    cJSON *lls = cJSON_AddArrayToObject(rec, "ll");
    int pred = 0, pred_norm = 0;
    double best = -INFINITY, best_norm = -INFINITY;
    for (int c = 0; c < it->n_choices; c++) {
        sb_loglik r;
        int rc = sb_lm_loglik(lm, it->ctx[c], it->cont[c], &r, err, errlen);
        if (rc) return rc;
        cJSON_AddItemToArray(lls, cJSON_CreateNumber(r.ll));
        if (r.ll > best) { best = r.ll; pred = c; }
        double nl = r.ll / (it->norm_len[c] > 0 ? it->norm_len[c] : 1);
        if (nl > best_norm) { best_norm = nl; pred_norm = c; }
    }
    cJSON_AddNumberToObject(rec, "pred", pred);
    cJSON_AddNumberToObject(rec, "gold", it->gold);
    cJSON_AddNumberToObject(rec, "acc", pred == it->gold);
    if (t->has_acc_norm) {
        cJSON_AddNumberToObject(rec, "pred_norm", pred_norm);
        cJSON_AddNumberToObject(rec, "acc_norm", pred_norm == it->gold);
    }
    if (it->group >= 0) cJSON_AddStringToObject(rec, "group", t->groups[it->group]);
    return 0;
}

static int score_loglik(sb_lm *lm, const sb_eval_item *it, cJSON *rec, char *err, size_t errlen)
{
    sb_loglik r;
    int rc = sb_lm_loglik(lm, it->ctx[0], it->cont[0], &r, err, errlen);
    if (rc) return rc;
    cJSON_AddNumberToObject(rec, "ll", r.ll);
    cJSON_AddNumberToObject(rec, "n_tokens", r.n_tokens);
    cJSON_AddNumberToObject(rec, "acc", r.greedy);
    return 0;
}

static int score_generate(sb_lm *lm, const sb_eval_task *t, const sb_eval_item *it, cJSON *rec, char *err, size_t errlen)
{
    char *gen = NULL;
    int rc = sb_lm_generate(lm, it->ctx[0], t->max_gen_tokens, t->stops, &gen, err, errlen);
    if (rc) return rc;
    char *strict = sb_eval_gsm8k_extract_strict(gen), *flex = sb_eval_gsm8k_extract_flexible(gen);
    char *ns = strict ? sb_eval_gsm8k_normalize(strict) : NULL, *nf = flex ? sb_eval_gsm8k_normalize(flex) : NULL;
    if (!ns || !nf) rc = fail(err, errlen, SB_MODEL_E_NOMEM, "%s", "out of memory");
    else {
        cJSON_AddStringToObject(rec, "generated", gen);
        cJSON_AddStringToObject(rec, "strict", strict);
        cJSON_AddStringToObject(rec, "flexible", flex);
        cJSON_AddStringToObject(rec, "target", it->target);
        cJSON_AddNumberToObject(rec, "exact_match", !strcmp(ns, it->target));
        cJSON_AddNumberToObject(rec, "exact_match_flexible", !strcmp(nf, it->target));
    }
    free(gen); free(strict); free(flex); free(ns); free(nf);
    return rc;
}

/* ---------------------------------------------------------------- metrics */

static double num(const cJSON *rec, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Adds name, name_stderr, name_ci95 for a 0/1 metric over recs. */
static void add_prop(cJSON *res, const char *name, const cJSON *const *recs, size_t n, double *scratch)
{
    double mean, k = 0, lo, hi;
    for (size_t i = 0; i < n; i++) { scratch[i] = num(recs[i], name); k += scratch[i]; }
    double se = sb_eval_stderr(scratch, n, &mean);
    sb_eval_wilson95(k, (double)n, &lo, &hi);
    char key[96];
    cJSON_AddNumberToObject(res, name, mean);
    snprintf(key, sizeof key, "%s_stderr", name);
    cJSON_AddNumberToObject(res, key, se);
    snprintf(key, sizeof key, "%s_ci95", name);
    cJSON *ci = cJSON_AddArrayToObject(res, key);
    cJSON_AddItemToArray(ci, cJSON_CreateNumber(lo));
    cJSON_AddItemToArray(ci, cJSON_CreateNumber(hi));
}

static void metrics(const sb_eval_task *t, const cJSON *const *recs, size_t n, cJSON *res, double *scratch)
{
    cJSON_AddNumberToObject(res, "n", (double)n);
    if (n == 0) return;
    if (t->kind == SB_EVAL_MC) {
        add_prop(res, "acc", recs, n, scratch);
        if (t->has_acc_norm) add_prop(res, "acc_norm", recs, n, scratch);
        if (t->n_groups > 0) {   /* MMLU: per subject; the group acc above is weighted by size */
            cJSON *g = cJSON_AddObjectToObject(res, "groups");
            for (int s = 0; s < t->n_groups; s++) {
                double k = 0, m = 0;
                for (size_t i = 0; i < n; i++) {
                    const cJSON *gv = cJSON_GetObjectItemCaseSensitive(recs[i], "group");
                    if (cJSON_IsString(gv) && !strcmp(gv->valuestring, t->groups[s])) { k += num(recs[i], "acc"); m++; }
                }
                if (m == 0) continue;
                cJSON *o = cJSON_AddObjectToObject(g, t->groups[s]);
                cJSON_AddNumberToObject(o, "n", m);
                cJSON_AddNumberToObject(o, "acc", k / m);
            }
            cJSON_AddStringToObject(res, "aggregation", "mean over items (subjects weighted by size, lm-eval weight_by_size)");
        }
    } else if (t->kind == SB_EVAL_LOGLIK) {
        add_prop(res, "acc", recs, n, scratch);
        double mean, toks = 0, sum = 0;
        for (size_t i = 0; i < n; i++) { scratch[i] = num(recs[i], "ll"); sum += scratch[i]; toks += num(recs[i], "n_tokens"); }
        double se = sb_eval_stderr(scratch, n, &mean);
        cJSON_AddNumberToObject(res, "ppl", exp(-mean));
        cJSON_AddNumberToObject(res, "ppl_stderr", exp(-mean) * se);   /* delta method */
        cJSON_AddNumberToObject(res, "ppl_token", toks > 0 ? exp(-sum / toks) : NAN);
    } else if (t->kind == SB_EVAL_GENERATE) {
        add_prop(res, "exact_match", recs, n, scratch);
        add_prop(res, "exact_match_flexible", recs, n, scratch);
    } else {
        double nll = 0, nll2 = 0, cnt = 0;
        for (size_t i = 0; i < n; i++) { nll += num(recs[i], "nll"); nll2 += num(recs[i], "nll2"); cnt += num(recs[i], "count"); }
        double mean = nll / cnt, var = nll2 / cnt - mean * mean, ppl = exp(mean);
        cJSON_AddNumberToObject(res, "ppl", ppl);
        cJSON_AddNumberToObject(res, "ppl_stderr", cnt > 1 && var > 0 ? ppl * sqrt(var / (cnt - 1)) : 0);
        cJSON_AddNumberToObject(res, "n_chunks", (double)n);
        cJSON_AddNumberToObject(res, "n_tokens_scored", cnt);
        cJSON_AddNumberToObject(res, "n_ctx", (double)t->chunk_ctx);
    }
}

/* ---------------------------------------------------------------- the run */

int sb_eval_run_task(sb_lm *lm, sb_eval_task *t, const sb_eval_run_opts *o, cJSON **result,
                     signed char **correct, char *err, size_t errlen)
{
    *result = NULL;
    if (correct) *correct = NULL;
    sb_eval_run_opts dflt = {.model_key = "model"};
    if (!o) o = &dflt;
    const char *mkey = o->model_key ? o->model_key : "model";
    double t0 = sb_now_s(), compute_s = 0, last = 0;
    int rc = 0;

    /* PERPLEXITY: the text is tokenized once (BOS first) and cut into chunks of chunk_ctx. */
    int32_t *toks = NULL;
    size_t n_toks = 0, n = t->n_items;
    int64_t chunk = t->chunk_ctx;
    double *lp = NULL;
    if (t->kind == SB_EVAL_PERPLEXITY) {
        if (chunk > sb_session_n_ctx(sb_lm_session(lm))) chunk = sb_session_n_ctx(sb_lm_session(lm));
        if (chunk < 4) return fail(err, errlen, SB_MODEL_E_ARG, "%s: perplexity context under 4 tokens", t->name);
        t->chunk_ctx = chunk;
        if (sb_lm_tokenize(lm, t->text, t->text_len, 1, &toks, &n_toks))
            return fail(err, errlen, SB_MODEL_E_VOCAB, "%s: tokenizing the text failed", t->name);
        n = n_toks / (size_t)chunk;
        if (n == 0) { free(toks); return fail(err, errlen, SB_MODEL_E_ARG, "%s: text shorter than one chunk", t->name); }
        if (t->limit > 0 && (size_t)t->limit < n) n = (size_t)t->limit;
        lp = malloc((size_t)chunk * sizeof *lp);
    }
    const cJSON **recs = calloc(n ? n : 1, sizeof *recs);
    cJSON **owned = calloc(n ? n : 1, sizeof *owned);
    double *scratch = malloc((n ? n : 1) * sizeof *scratch);
    if (!recs || !owned || !scratch || (t->kind == SB_EVAL_PERPLEXITY && !lp)) {
        rc = fail(err, errlen, SB_MODEL_E_NOMEM, "%s", "out of memory");
        goto out;
    }
    size_t n_resumed = 0, n_computed = 0;
    for (size_t i = 0; i < n; i++) {
        char id[32], hash[17];
        const char *doc_id;
        if (t->kind == SB_EVAL_PERPLEXITY) {
            snprintf(id, sizeof id, "chunk%zu", i);
            doc_id = id;
            snprintf(hash, sizeof hash, "%016llx", (unsigned long long)(n_toks * 1315423911u + (size_t)chunk));
        } else {
            doc_id = t->items[i].doc_id;
            prompt_hash(&t->items[i], hash);
        }
        const cJSON *old = sb_samples_find(o->samples, mkey, t->key, doc_id);
        const cJSON *oh = old ? cJSON_GetObjectItemCaseSensitive(old, "prompt_hash") : NULL;
        if (old && cJSON_IsString(oh) && !strcmp(oh->valuestring, hash)) {
            recs[i] = old;
            n_resumed++;
        } else {
            double ts = sb_now_s();
            cJSON *rec = cJSON_CreateObject();
            if (!rec) { rc = fail(err, errlen, SB_MODEL_E_NOMEM, "%s", "out of memory"); goto out; }
            owned[i] = rec;
            cJSON_AddStringToObject(rec, "doc_id", doc_id);
            cJSON_AddStringToObject(rec, "prompt_hash", hash);
            if (t->kind == SB_EVAL_MC) rc = score_mc(lm, t, &t->items[i], rec, err, errlen);
            else if (t->kind == SB_EVAL_LOGLIK) rc = score_loglik(lm, &t->items[i], rec, err, errlen);
            else if (t->kind == SB_EVAL_GENERATE) rc = score_generate(lm, t, &t->items[i], rec, err, errlen);
            else {
                /* llama.cpp: BOS replaces the chunk's first token; positions first..n_ctx-2 predict
                 * the second half (first = n_ctx/2). */
                int32_t *c = toks + i * (size_t)chunk;
                int32_t saved = c[0], bos = sb_lm_bos(lm);
                if (bos >= 0) c[0] = bos;
                int64_t first = chunk / 2;
                sb_loglik r;
                rc = sb_lm_loglik_tokens(lm, c, chunk, first + 1, &r, lp, err, errlen);
                c[0] = saved;
                double s1 = 0, s2 = 0;
                for (int k = 0; !rc && k < r.n_tokens; k++) { s1 -= lp[k]; s2 += lp[k] * lp[k]; }
                cJSON_AddNumberToObject(rec, "nll", s1);
                cJSON_AddNumberToObject(rec, "nll2", s2);
                cJSON_AddNumberToObject(rec, "count", r.n_tokens);
            }
            if (rc) goto out;
            if (o->samples && sb_samples_append(o->samples, mkey, t->key, rec, err, errlen)) { rc = SB_MODEL_E_ARG; goto out; }
            recs[i] = rec;
            n_computed++;
            compute_s += sb_now_s() - ts;
        }
        if (o->progress) progress(t->name, i + 1, n, t0, &last);
        if (o->on_item) o->on_item(o->ud, i + 1, n);
    }
    cJSON *res = cJSON_CreateObject();
    metrics(t, recs, n, res, scratch);
    cJSON_AddNumberToObject(res, "fewshot", t->fewshot);
    if (t->limit > 0) cJSON_AddNumberToObject(res, "limit", (double)t->limit);
    cJSON_AddNumberToObject(res, "n_total", t->kind == SB_EVAL_PERPLEXITY ? (double)(n_toks / (size_t)chunk) : t->n_items_total);
    cJSON_AddNumberToObject(res, "n_resumed", (double)n_resumed);
    cJSON_AddNumberToObject(res, "time_s", sb_now_s() - t0);
    cJSON_AddNumberToObject(res, "items_per_s", n_computed && compute_s > 0 ? n_computed / compute_s : 0);
    cJSON_AddStringToObject(res, "source", t->source);
    if (t->prompt_note[0]) cJSON_AddStringToObject(res, "prompt_note", t->prompt_note);
    if (correct) {
        signed char *c = malloc(n ? n : 1);
        if (c) {
            const char *m = t->kind == SB_EVAL_GENERATE ? "exact_match" : "acc";
            for (size_t i = 0; i < n; i++) c[i] = t->kind == SB_EVAL_PERPLEXITY ? -1 : (signed char)(num(recs[i], m) == 1);
        }
        *correct = c;
    }
    *result = res;
out:
    for (size_t i = 0; owned && i < n; i++) cJSON_Delete(owned[i]);
    free(owned);
    free(recs);
    free(scratch);
    free(toks);
    free(lp);
    return rc;
}
