/* evals/latency.c — latency of one model on this machine: time to first token, prefill and decode
 * throughput, inter-token latency percentiles, decode at context depths. Prompts are random token
 * ids (seeded), so tokenization is not part of any figure; "sampling" is a greedy argmax over the
 * logits and is included where stated. */
#include "evals/evals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/measure.h"

#define DEPTH_GEN 32   /* decode steps timed at each depth */

static int fail(char *err, size_t errlen, sb_session *s)
{
    if (err && errlen) snprintf(err, errlen, "latency: %s", s ? sb_session_error(s) : "out of memory");
    return SB_MODEL_E_KERNEL;
}

static int32_t argmax(const float *x, int32_t n)
{
    int32_t b = 0;
    for (int32_t i = 1; i < n; i++) if (x[i] > x[b]) b = i;
    return b;
}

/* Prefill n tokens from position 0 in batches of 512; logits of the last token into `logits`. */
static int prefill(sb_session *s, const int32_t *ids, int64_t n, float *logits)
{
    if (sb_session_truncate(s, 0)) return -1;
    for (int64_t p = 0; p < n; p += 512) {
        int64_t k = n - p < 512 ? n - p : 512;
        if (sb_session_eval(s, ids + p, k, p + k == n ? logits : NULL, 0)) return -1;
    }
    return 0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *x, int n)
{
    qsort(x, (size_t)n, sizeof *x, cmp_d);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

int sb_eval_latency(sb_model *m, const sb_latency_opts *o, cJSON **out, char *err, size_t errlen)
{
    *out = NULL;
    const sb_hparams *hp = sb_model_hparams(m);
    int reps = o && o->reps > 0 ? o->reps : 3, n_gen = o && o->n_gen > 0 ? o->n_gen : 128;
    int64_t L = hp->n_ctx_train > 0 ? hp->n_ctx_train : 2048;
    if (L > 4096 + DEPTH_GEN + 1) L = 4096 + DEPTH_GEN + 1;
    int32_t V = hp->n_vocab;
    uint64_t seed = o && o->seed ? o->seed : 42;
    int32_t *ids = malloc((size_t)L * sizeof *ids);
    float *logits = malloc((size_t)V * sizeof *logits);
    double *t = malloc((size_t)(reps > n_gen ? reps : n_gen) * sizeof *t);
    sb_session *s = NULL;
    if (!ids || !logits || !t) { free(ids); free(logits); free(t); return fail(err, errlen, NULL); }
    for (int64_t i = 0; i < L; i++) {   /* xorshift ids in [3, V): no BOS/EOS/UNK in the prompt */
        seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
        ids[i] = V > 4 ? 3 + (int32_t)(seed % (uint64_t)(V - 3)) : 0;
    }
    int rc = sb_session_new(m, L, &s, err, errlen);
    if (rc) { free(ids); free(logits); free(t); return rc; }
    cJSON *lat = cJSON_CreateObject();
    cJSON *defs = cJSON_AddObjectToObject(lat, "definitions");
    cJSON_AddStringToObject(defs, "ttft_ms", "prompt of N random token ids, from an empty KV cache: prefill + greedy pick of the first token; tokenization excluded; median of reps after one warm-up");
    cJSON_AddStringToObject(defs, "pp512_tok_s", "512 / prefill time of a 512-token prompt (as llama-bench pp512; no sampling)");
    cJSON_AddStringToObject(defs, "tg128_tok_s", "128 / time of 128 single-token decode steps from a 1-token context, each step = eval + greedy argmax (llama-bench tg128 excludes the argmax)");
    cJSON_AddStringToObject(defs, "itl_ms", "per-step times of the tg128 run: percentiles p50/p90/p99 (linear interpolation)");
    cJSON_AddStringToObject(defs, "tg_at_depth_tok_s", "32 decode steps after a prefilled context of D random tokens (D + 32 within the model's training context)");
    cJSON_AddNumberToObject(lat, "reps", reps);
    cJSON_AddNumberToObject(lat, "session_ctx", (double)L);

    /* TTFT and pp512 */
    cJSON *ttft = cJSON_AddObjectToObject(lat, "ttft_ms");
    static const int64_t sizes[2] = {128, 512};
    for (int k = 0; k < 2; k++) {
        int64_t N = sizes[k];
        if (N >= L) continue;
        double *pp = malloc((size_t)reps * sizeof *pp);
        if (!pp) { rc = fail(err, errlen, NULL); goto out; }
        for (int r = -1; r < reps; r++) {
            double t0 = sb_now_s();
            if (prefill(s, ids, N, logits)) { free(pp); rc = fail(err, errlen, s); goto out; }
            double t1 = sb_now_s();
            volatile int32_t first = argmax(logits, V);
            (void)first;
            double t2 = sb_now_s();
            if (r >= 0) { t[r] = (t2 - t0) * 1e3; pp[r] = t1 - t0; }
        }
        char key[24];
        snprintf(key, sizeof key, "%lld", (long long)N);
        cJSON_AddNumberToObject(ttft, key, median(t, reps));
        if (N == 512) cJSON_AddNumberToObject(lat, "pp512_tok_s", 512.0 / median(pp, reps));
        if (N == 128) cJSON_AddNumberToObject(lat, "pp128_tok_s", 128.0 / median(pp, reps));
        free(pp);
    }

    /* tg128 and inter-token latency */
    if (n_gen + 2 <= L) {
        if (prefill(s, ids, 1, logits)) { rc = fail(err, errlen, s); goto out; }
        int32_t tok = argmax(logits, V);
        double total = 0;
        for (int i = 0; i < n_gen; i++) {
            double t0 = sb_now_s();
            if (sb_session_eval(s, &tok, 1, logits, 0)) { rc = fail(err, errlen, s); goto out; }
            tok = argmax(logits, V);
            t[i] = sb_now_s() - t0;
            total += t[i];
        }
        char key[32];
        snprintf(key, sizeof key, "tg%d_tok_s", n_gen);
        cJSON_AddNumberToObject(lat, key, n_gen / total);
        sb_stats st;
        for (int i = 0; i < n_gen; i++) t[i] *= 1e3;
        if (!sb_stats_compute(t, (size_t)n_gen, &st)) {
            cJSON *itl = cJSON_AddObjectToObject(lat, "itl_ms");
            cJSON_AddNumberToObject(itl, "p50", st.median);
            cJSON_AddNumberToObject(itl, "p90", st.p90);
            cJSON_AddNumberToObject(itl, "p99", st.p99);
            cJSON_AddNumberToObject(itl, "n", n_gen);
        }
    }

    /* decode at depths */
    cJSON *dep = cJSON_AddObjectToObject(lat, "tg_at_depth_tok_s");
    static const int64_t depths[3] = {0, 1024, 4096};
    for (int k = 0; k < 3; k++) {
        int64_t D = depths[k];
        if (D + DEPTH_GEN + 1 > L) continue;
        if (prefill(s, ids, D > 0 ? D : 1, logits)) { rc = fail(err, errlen, s); goto out; }
        int32_t tok = argmax(logits, V);
        double t0 = sb_now_s();
        for (int i = 0; i < DEPTH_GEN; i++) {
            if (sb_session_eval(s, &tok, 1, logits, 0)) { rc = fail(err, errlen, s); goto out; }
            tok = argmax(logits, V);
        }
        char key[24];
        snprintf(key, sizeof key, "%lld", (long long)D);
        cJSON_AddNumberToObject(dep, key, DEPTH_GEN / (sb_now_s() - t0));
    }
out:
    sb_session_free(s);
    free(ids);
    free(logits);
    free(t);
    if (rc) { cJSON_Delete(lat); return rc; }
    *out = lat;
    return 0;
}
