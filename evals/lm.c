/* evals/lm.c — the scorer: log-likelihoods, greedy generation and perplexity chunks on a runtime
 * session, keeping the longest common token prefix with the previous request in the KV cache.
 *
 * Request i of an item shares its context with request i-1, so only the continuation (plus one
 * context token, whose logits predict the first continuation token) is evaluated again; a few-shot
 * header shared by every item of a task is computed once. With no_reuse every request starts from
 * position 0 (what a tool without prefix reuse does; the tests compare both). */
#include "evals/evals.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 512                 /* tokens per sb_session_eval call                            */
#define LOGITS_BUDGET (16u << 20) /* floats of the logits buffer (64 MiB)                       */

struct sb_lm {
    sb_model *m;
    const sb_tokenizer *tok;
    sb_session *s;
    int32_t *cache;               /* the tokens in the session's KV cache, in order              */
    int64_t n_cache, n_ctx;
    int32_t n_vocab;
    int no_reuse, add_bos;
    float *logits;                /* rows_max × n_vocab                                          */
    int64_t rows_max;
    int64_t n_eval, n_reused;
};

static int fail(char *err, size_t errlen, int code, const char *msg)
{
    if (err && errlen) snprintf(err, errlen, "%s", msg);
    return code;
}

int sb_lm_new(sb_model *m, const sb_lm_opts *o, sb_lm **out, char *err, size_t errlen)
{
    *out = NULL;
    sb_lm *lm = calloc(1, sizeof *lm);
    if (!lm) return fail(err, errlen, SB_MODEL_E_NOMEM, "out of memory");
    lm->m = m;
    lm->tok = sb_model_tokenizer(m);
    lm->n_vocab = sb_model_hparams(m)->n_vocab;
    lm->n_ctx = o && o->n_ctx > 0 ? o->n_ctx : 2048;
    lm->no_reuse = o ? o->no_reuse : 0;
    lm->add_bos = !o || o->add_bos < 0 ? sb_tok_add_bos(lm->tok) : o->add_bos;
    if (lm->add_bos && sb_tok_bos(lm->tok) < 0) lm->add_bos = 0;
    lm->rows_max = LOGITS_BUDGET / (uint64_t)(lm->n_vocab > 0 ? lm->n_vocab : 1);
    if (lm->rows_max > BATCH) lm->rows_max = BATCH;
    if (lm->rows_max < 1) lm->rows_max = 1;
    lm->logits = malloc((size_t)lm->rows_max * (size_t)lm->n_vocab * sizeof *lm->logits);
    lm->cache = malloc((size_t)lm->n_ctx * sizeof *lm->cache);
    if (!lm->logits || !lm->cache) { sb_lm_free(lm); return fail(err, errlen, SB_MODEL_E_NOMEM, "out of memory"); }
    int rc = sb_session_new(m, lm->n_ctx, &lm->s, err, errlen);
    if (rc) { sb_lm_free(lm); return rc; }
    *out = lm;
    return 0;
}

void sb_lm_free(sb_lm *lm)
{
    if (!lm) return;
    sb_session_free(lm->s);
    free(lm->logits);
    free(lm->cache);
    free(lm);
}

sb_session *sb_lm_session(sb_lm *lm) { return lm ? lm->s : NULL; }
int32_t sb_lm_bos(const sb_lm *lm) { return lm ? sb_tok_bos(lm->tok) : -1; }

void sb_lm_counters(const sb_lm *lm, int64_t *evaluated, int64_t *reused)
{
    if (evaluated) *evaluated = lm ? lm->n_eval : 0;
    if (reused) *reused = lm ? lm->n_reused : 0;
}

int sb_lm_tokenize(sb_lm *lm, const char *text, size_t len, int add_special, int32_t **ids, size_t *n)
{
    int32_t *raw = NULL;
    size_t nr = 0;
    /* Special tokens of the vocabulary's own add_special flags (an EOS after the context would
     * break the prefix rule) are not used: BOS is prepended here when the vocabulary adds it. */
    int rc = sb_tok_encode(lm->tok, text, len, 0, 0, &raw, &nr);
    if (rc) return rc;
    int bos = add_special && lm->add_bos;
    int32_t *outp = malloc((nr + 1) * sizeof *outp);
    if (!outp) { free(raw); return SB_TOK_E_NOMEM; }
    if (bos) outp[0] = sb_tok_bos(lm->tok);
    if (nr) memcpy(outp + bos, raw, nr * sizeof *raw);
    free(raw);
    *ids = outp;
    *n = nr + (size_t)bos;
    return 0;
}

/* Makes the cache hold ids[0..n): keeps the common prefix (at most `keep_max` tokens), evaluates
 * the rest without logits. */
static int feed(sb_lm *lm, const int32_t *ids, int64_t n, int64_t keep_max, char *err, size_t errlen)
{
    int64_t lcp = 0;
    if (!lm->no_reuse)
        while (lcp < lm->n_cache && lcp < n && lcp < keep_max && lm->cache[lcp] == ids[lcp]) lcp++;
    if (sb_session_truncate(lm->s, lcp)) return fail(err, errlen, SB_MODEL_E_ARG, sb_session_error(lm->s));
    lm->n_cache = lcp;
    lm->n_reused += lcp;
    for (int64_t p = lcp; p < n; p += BATCH) {
        int64_t k = n - p < BATCH ? n - p : BATCH;
        if (sb_session_eval(lm->s, ids + p, k, NULL, 0)) {
            lm->n_cache = 0;   /* the session's state is unknown now: start over next time */
            return fail(err, errlen, SB_MODEL_E_KERNEL, sb_session_error(lm->s));
        }
        memcpy(lm->cache + p, ids + p, (size_t)k * sizeof *ids);
        lm->n_cache = p + k;
        lm->n_eval += k;
    }
    return 0;
}

/* log-softmax of one row at `tok` in double; *is_max: tok is the (first) argmax. */
static double log_prob(const float *row, int32_t n_vocab, int32_t tok, int *is_max)
{
    float mx = row[0];
    int32_t arg = 0;
    for (int32_t v = 1; v < n_vocab; v++) if (row[v] > mx) { mx = row[v]; arg = v; }
    /* expf of a float difference (<= 0, exact in float) summed in double: relative error ~1e-7,
     * far below the differences between back ends, at a third of the cost of double exp. */
    double sum = 0;
    for (int32_t v = 0; v < n_vocab; v++) sum += (double)expf(row[v] - mx);
    if (is_max) *is_max = arg == tok;
    return (double)row[tok] - (double)mx - log(sum);
}

int sb_lm_loglik_tokens(sb_lm *lm, const int32_t *ids, int64_t n, int64_t cont_start, sb_loglik *out,
                        double *token_lp, char *err, size_t errlen)
{
    if (!lm || !ids || !out || cont_start < 1 || cont_start >= n)
        return fail(err, errlen, SB_MODEL_E_ARG, "loglik: need 1 <= cont_start < n");
    memset(out, 0, sizeof *out);
    /* Only ids[0..n-1) are evaluated; keep at most the last n_ctx of them (lm-eval cuts on the
     * left). The cut is rounded up to a multiple of 256 tokens so the choices of one item, whose
     * lengths differ by a few tokens, are cut alike and keep sharing their context's KV prefix. */
    if (n - 1 > lm->n_ctx) {
        int64_t cut = (n - 1 - lm->n_ctx + 255) / 256 * 256;
        if (cut > cont_start - 1) cut = n - 1 - lm->n_ctx;   /* never more than needed into the continuation */
        ids += cut;
        n -= cut;
        cont_start = cont_start - cut < 1 ? 1 : cont_start - cut;
    }
    for (int64_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= lm->n_vocab) return fail(err, errlen, SB_MODEL_E_ARG, "loglik: token id out of range");
    int rc = feed(lm, ids, cont_start - 1, cont_start - 1, err, errlen);
    if (rc) return rc;
    /* positions cont_start-1 .. n-2 with logits; row j predicts ids[cont_start + j] */
    out->greedy = 1;
    for (int64_t p = cont_start - 1; p < n - 1; p += lm->rows_max) {
        int64_t k = n - 1 - p < lm->rows_max ? n - 1 - p : lm->rows_max;
        if (sb_session_eval(lm->s, ids + p, k, lm->logits, 1)) {
            lm->n_cache = 0;
            return fail(err, errlen, SB_MODEL_E_KERNEL, sb_session_error(lm->s));
        }
        memcpy(lm->cache + p, ids + p, (size_t)k * sizeof *ids);
        lm->n_cache = p + k;
        lm->n_eval += k;
        for (int64_t j = 0; j < k; j++) {
            int is_max;
            double lp = log_prob(lm->logits + (size_t)j * (size_t)lm->n_vocab, lm->n_vocab, ids[p + j + 1], &is_max);
            if (token_lp) token_lp[p + j + 1 - cont_start] = lp;
            out->ll += lp;
            out->greedy &= is_max;
            out->n_tokens++;
        }
    }
    return 0;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

int sb_lm_loglik(sb_lm *lm, const char *ctx, const char *cont, sb_loglik *out, char *err, size_t errlen)
{
    size_t lc = strlen(ctx), lt = strlen(cont), nsp = 0;
    while (nsp < lc && is_ws(ctx[lc - 1 - nsp])) nsp++;   /* ctx.rstrip(): spaces move to cont */
    char *whole = malloc(lc + lt + 1);
    if (!whole) return fail(err, errlen, SB_MODEL_E_NOMEM, "out of memory");
    memcpy(whole, ctx, lc);
    memcpy(whole + lc, cont, lt + 1);
    int32_t *wi = NULL, *ci = NULL;
    size_t nw = 0, nc = 0;
    int rc = sb_lm_tokenize(lm, whole, lc + lt, 1, &wi, &nw);
    if (!rc) rc = sb_lm_tokenize(lm, ctx, lc - nsp, 1, &ci, &nc);
    free(whole);
    free(ci);
    if (rc) { free(wi); return fail(err, errlen, SB_MODEL_E_VOCAB, "tokenizer failed"); }
    int64_t start = (int64_t)nc;
    if (start == 0) {                 /* empty context and no BOS: lm-eval's prefix token */
        int32_t pre = sb_tok_bos(lm->tok) >= 0 ? sb_tok_bos(lm->tok) : sb_tok_eos(lm->tok);
        int32_t *w2 = malloc((nw + 1) * sizeof *w2);
        if (!w2) { free(wi); return fail(err, errlen, SB_MODEL_E_NOMEM, "out of memory"); }
        w2[0] = pre;
        memcpy(w2 + 1, wi, nw * sizeof *wi);
        free(wi);
        wi = w2;
        nw++;
        start = 1;
    }
    if ((int64_t)nw <= start) {       /* the continuation added no token */
        free(wi);
        memset(out, 0, sizeof *out);
        out->greedy = 1;
        return 0;
    }
    rc = sb_lm_loglik_tokens(lm, wi, (int64_t)nw, start, out, NULL, err, errlen);
    free(wi);
    return rc;
}

int sb_lm_generate(sb_lm *lm, const char *prompt, int max_tokens, const char *const *stops, char **out,
                   char *err, size_t errlen)
{
    *out = NULL;
    int32_t *ids = NULL;
    size_t n = 0;
    if (sb_lm_tokenize(lm, prompt, strlen(prompt), 1, &ids, &n)) return fail(err, errlen, SB_MODEL_E_VOCAB, "tokenizer failed");
    if (n == 0) { free(ids); return fail(err, errlen, SB_MODEL_E_ARG, "generate: empty prompt and no BOS"); }
    if (max_tokens < 1) max_tokens = 1;
    if (max_tokens > lm->n_ctx - 1) max_tokens = (int)(lm->n_ctx - 1);
    const int32_t *p = ids;
    if ((int64_t)n > lm->n_ctx - max_tokens) {   /* keep the end of the prompt (lm-eval) */
        p = ids + (n - (size_t)(lm->n_ctx - max_tokens));
        n = (size_t)(lm->n_ctx - max_tokens);
    }
    int32_t *gen = malloc((size_t)max_tokens * sizeof *gen);
    int rc = gen ? feed(lm, p, (int64_t)n - 1, (int64_t)n - 1, err, errlen) : fail(err, errlen, SB_MODEL_E_NOMEM, "out of memory");
    int32_t last = p[n - 1];
    free(ids);
    int ng = 0;
    char *text = NULL;
    int32_t eos = sb_tok_eos(lm->tok);
    while (!rc && ng < max_tokens) {
        if (sb_session_eval(lm->s, &last, 1, lm->logits, 0)) {
            lm->n_cache = 0;
            rc = fail(err, errlen, SB_MODEL_E_KERNEL, sb_session_error(lm->s));
            break;
        }
        if (lm->n_cache < lm->n_ctx) lm->cache[lm->n_cache++] = last;
        lm->n_eval++;
        int32_t best = 0;
        for (int32_t v = 1; v < lm->n_vocab; v++) if (lm->logits[v] > lm->logits[best]) best = v;
        if (best == eos) break;
        gen[ng++] = best;
        last = best;
        free(text);
        text = NULL;
        size_t tl;
        if (sb_tok_decode(lm->tok, gen, (size_t)ng, 0, 0, &text, &tl)) { rc = fail(err, errlen, SB_MODEL_E_VOCAB, "decode failed"); break; }
        int stop = 0;
        for (int i = 0; stops && stops[i]; i++) {
            char *hit = strstr(text, stops[i]);
            if (hit) { *hit = 0; stop = 1; }
        }
        if (stop) break;
    }
    if (!rc && !text) {
        size_t tl;
        if (ng == 0) text = strdup("");
        else if (sb_tok_decode(lm->tok, gen, (size_t)ng, 0, 0, &text, &tl)) text = NULL;
        if (!text) rc = fail(err, errlen, SB_MODEL_E_NOMEM, "decode failed");
    }
    free(gen);
    if (rc) { free(text); return rc; }
    *out = text;
    return 0;
}
