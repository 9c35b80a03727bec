/* Scoring on the real stories260K model: log-likelihoods against a direct log-softmax of the
 * logits, ref vs cpu back ends, KV reuse vs recomputing, a user task file end to end, and resume
 * after kill -9 (R1). */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evals/evals.h"
#include "tests/test.h"

static sb_model *load_model(const char *backend)
{
    const char *p = test_shared_path("models/stories260K.gguf");
    if (!p) return NULL;
    sb_model_opts o = sb_model_default_opts();
    o.backend = backend;
    o.n_threads = 2;
    o.n_ctx = 512;
    sb_model *m = NULL;
    char err[512];
    int rc = sb_model_load(p, &o, &m, err, sizeof err);
    CHECK_MSG(rc == 0, "load: %s", err);
    return m;
}

static sb_lm *new_lm(sb_model *m, int no_reuse)
{
    sb_lm_opts lo = {.n_ctx = 512, .no_reuse = no_reuse, .add_bos = -1};
    sb_lm *lm = NULL;
    char err[512];
    int rc = sb_lm_new(m, &lo, &lm, err, sizeof err);
    CHECK_MSG(rc == 0, "lm: %s", err);
    return lm;
}

static const char *data_dir(void)
{
    static char dir[4096];
    const char *p = test_shared_path("datasets/MANIFEST.md");
    if (!p) return NULL;
    snprintf(dir, sizeof dir, "%.*s", (int)(strlen(p) - strlen("/MANIFEST.md")), p);
    return dir;
}

/* The continuation's log-likelihood computed by hand: BOS + tok(ctx + cont) through one
 * all-logits eval on a fresh session, log-softmax of each row in double, summed over the
 * continuation tokens tok(ctx+cont)[len(tok(ctx)):]. */
static void test_loglik_equals_log_softmax_of_logits(void)
{
    sb_model *m = load_model("cpu");
    if (!m) { if (!test_failed_now()) test_skip("../shared/models/stories260K.gguf not present"); return; }
    const char *ctx = "Once upon a time, there was a little girl named", *cont = " Lily. She liked to play";
    sb_lm *lm = new_lm(m, 0);
    sb_loglik r;
    char err[512], whole[256];
    CHECK_EQ_INT(sb_lm_loglik(lm, ctx, cont, &r, err, sizeof err), 0);
    const sb_tokenizer *tok = sb_model_tokenizer(m);
    int32_t *wi, *ci;
    size_t nw, nc;
    snprintf(whole, sizeof whole, "%s%s", ctx, cont);
    CHECK_EQ_INT(sb_tok_encode(tok, whole, strlen(whole), 0, 0, &wi, &nw), 0);
    CHECK_EQ_INT(sb_tok_encode(tok, ctx, strlen(ctx), 0, 0, &ci, &nc), 0);
    int32_t ids[256];
    ids[0] = sb_tok_bos(tok);
    memcpy(ids + 1, wi, nw * sizeof *wi);
    int64_t n = (int64_t)nw + 1, start = (int64_t)nc + 1;
    int32_t V = sb_model_hparams(m)->n_vocab;
    float *logits = malloc((size_t)n * (size_t)V * sizeof *logits);
    sb_session *s;
    CHECK_EQ_INT(sb_session_new(m, 512, &s, err, sizeof err), 0);
    CHECK_EQ_INT(sb_session_eval(s, ids, n, logits, 1), 0);
    double ll = 0;
    int greedy = 1;
    for (int64_t p = start; p < n; p++) {
        const float *row = logits + (size_t)(p - 1) * (size_t)V;
        double mx = row[0], sum = 0;
        int arg = 0;
        for (int v = 1; v < V; v++) if (row[v] > mx) { mx = row[v]; arg = v; }
        for (int v = 0; v < V; v++) sum += exp(row[v] - mx);
        ll += row[ids[p]] - mx - log(sum);
        greedy &= arg == ids[p];
    }
    CHECK_EQ_INT(r.n_tokens, n - start);
    CHECK(r.n_tokens >= 4);
    CHECK_NEAR(r.ll, ll, 1e-4);
    CHECK_EQ_INT(r.greedy, greedy);
    CHECK(r.ll < 0);
    /* the story model prefers its own name to gibberish */
    sb_loglik a, b;
    CHECK_EQ_INT(sb_lm_loglik(lm, ctx, " Lily", &a, err, sizeof err), 0);
    CHECK_EQ_INT(sb_lm_loglik(lm, ctx, " Zqx", &b, err, sizeof err), 0);
    CHECK(a.ll > b.ll);
    sb_session_free(s);
    free(logits);
    free(wi);
    free(ci);
    sb_lm_free(lm);
    sb_model_free(m);
}

/* Per-choice log-likelihoods of arc_easy items on two scorers. */
static int collect(sb_lm *lm, const sb_eval_task *t, double *out, int max)
{
    int k = 0;
    char err[512];
    for (size_t i = 0; i < t->n_items; i++)
        for (int c = 0; c < t->items[i].n_choices && k < max; c++) {
            sb_loglik r;
            if (sb_lm_loglik(lm, t->items[i].ctx[c], t->items[i].cont[c], &r, err, sizeof err)) return -1;
            out[k++] = r.ll;
        }
    return k;
}

static sb_eval_task *arc(long limit)
{
    if (!data_dir()) return NULL;
    sb_eval_load_opts o = {.data_dir = data_dir(), .limit = limit, .fewshot = -1};
    sb_eval_task *t = NULL;
    char err[512];
    CHECK_MSG(sb_eval_task_load("arc_easy", &o, &t, err, sizeof err) == 0, "%s", err);
    return t;
}

/* Tolerance: |a - b| <= 1e-3 + 1e-4 |b| per choice (sums of ~5-40 token log-probs from float32
 * forward passes whose kernels differ in summation order). */
static void test_ref_and_cpu_backends_agree(void)
{
    sb_model *mr = load_model("ref"), *mc = load_model("cpu");
    sb_eval_task *t = arc(8);
    if (!mr || !mc || !t) {
        if (!test_failed_now()) test_skip("stories260K or datasets not present");
        sb_model_free(mr); sb_model_free(mc); sb_eval_task_free(t);
        return;
    }
    sb_lm *a = new_lm(mr, 0), *b = new_lm(mc, 0);
    double la[64], lb[64];
    int na = collect(a, t, la, 64), nb = collect(b, t, lb, 64);
    CHECK_EQ_INT(na, nb);
    CHECK(na >= 24);
    double worst = 0;
    for (int i = 0; i < na && i < nb; i++) {
        double d = fabs(la[i] - lb[i]);
        if (d > worst) worst = d;
        CHECK_MSG(d <= 1e-3 + 1e-4 * fabs(la[i]), "choice %d: ref %.6f cpu %.6f", i, la[i], lb[i]);
    }
    printf("  ref vs cpu: %d choices, max |diff| %.3g nats\n", na, worst);
    sb_lm_free(a); sb_lm_free(b);
    sb_model_free(mr); sb_model_free(mc);
    sb_eval_task_free(t);
}

static void test_kv_reuse_equals_recompute(void)
{
    sb_model *m = load_model("cpu");
    sb_eval_task *t = arc(8);
    if (!m || !t) { if (!test_failed_now()) test_skip("stories260K or datasets not present"); sb_model_free(m); sb_eval_task_free(t); return; }
    sb_lm *a = new_lm(m, 0), *b = new_lm(m, 1);
    double la[64], lb[64];
    int na = collect(a, t, la, 64), nb = collect(b, t, lb, 64);
    CHECK_EQ_INT(na, nb);
    for (int i = 0; i < na && i < nb; i++) CHECK_NEAR(la[i], lb[i], 1e-4 + 1e-5 * fabs(lb[i]));
    int64_t ev_a, re_a, ev_b, re_b;
    sb_lm_counters(a, &ev_a, &re_a);
    sb_lm_counters(b, &ev_b, &re_b);
    CHECK(re_a > 0);
    CHECK_EQ_INT(re_b, 0);
    CHECK(ev_a < ev_b);           /* reuse evaluates fewer tokens */
    printf("  tokens evaluated: reuse %lld, recompute %lld\n", (long long)ev_a, (long long)ev_b);
    sb_lm_free(a); sb_lm_free(b);
    sb_model_free(m);
    sb_eval_task_free(t);
}

static const char *write_file(const char *name, const char *text)
{
    static char path[4][512];
    static int slot;
    char *p = path[slot++ % 4];
    snprintf(p, 512, "%s/%s", test_tmpdir(), name);
    FILE *f = fopen(p, "wb");
    if (f) { fputs(text, f); fclose(f); }
    return p;
}

static void test_user_task_file_end_to_end(void)
{
    sb_model *m = load_model("cpu");
    if (!m) { if (!test_failed_now()) test_skip("stories260K not present"); return; }
    write_file("story.jsonl",
               "{\"text\":\"Once upon a time, there was a little girl named\",\"options\":[\"Lily\",\"Zqx\"],\"answer\":0}\n"
               "{\"text\":\"The dog wagged its\",\"options\":[\"xyzzy\",\"tail\"],\"answer\":\"tail\"}\n"
               "{\"text\":\"She went to the\",\"options\":[\"park\",\"qqq\",\"zzv\"],\"answer\":\"A\"}\n");
    const char *spec = write_file("story.json", "{\"name\":\"story\",\"data\":\"story.jsonl\",\"format\":\"jsonl\","
                                  "\"type\":\"multiple_choice\",\"prompt\":\"{text}\",\"choices\":\"options\",\"gold\":\"answer\","
                                  "\"metric\":[\"acc\",\"acc_norm\"]}");
    char err[512];
    sb_eval_task *t;
    CHECK_EQ_INT(sb_eval_task_load(spec, NULL, &t, err, sizeof err), 0);
    if (test_failed_now()) { sb_model_free(m); return; }
    sb_lm *lm = new_lm(m, 0);
    cJSON *res = NULL;
    signed char *correct = NULL;
    CHECK_EQ_INT(sb_eval_run_task(lm, t, NULL, &res, &correct, err, sizeof err), 0);
    if (res) {
        CHECK_EQ_INT(cJSON_GetObjectItem(res, "n")->valuedouble, 3);
        double acc = cJSON_GetObjectItem(res, "acc")->valuedouble;
        CHECK_NEAR(acc, 1.0, 0);        /* each gold is the only real word */
        CHECK(cJSON_GetObjectItem(res, "acc_norm") != NULL);
        CHECK(cJSON_GetObjectItem(res, "acc_stderr") != NULL);
        CHECK_EQ_INT(correct[0] + correct[1] + correct[2], 3);
    }
    cJSON_Delete(res);
    free(correct);
    sb_eval_task_free(t);
    sb_lm_free(lm);
    sb_model_free(m);
}

/* ---------------------------------------------------------------- resume after kill -9 */

static void block_after(void *ud, size_t done, size_t total)
{
    (void)total;
    if (done == *(size_t *)ud) for (;;) pause();   /* the parent kills us here */
}

static int run_task(const char *samples_path, int resume, size_t stop_at, cJSON **res)
{
    sb_model *m = load_model("cpu");
    sb_eval_task *t = arc(24);
    if (!m || !t) return -1;
    sb_lm *lm = new_lm(m, 0);
    sb_samples *s = NULL;
    char err[512];
    int rc = sb_samples_open(samples_path, resume, &s, err, sizeof err);
    sb_eval_run_opts o = {.model_key = "stories260K.gguf", .samples = s, .on_item = stop_at ? block_after : NULL, .ud = &stop_at};
    if (!rc) rc = sb_eval_run_task(lm, t, &o, res, NULL, err, sizeof err);
    if (rc) printf("  run_task: %s\n", err);
    sb_samples_close(s);
    sb_lm_free(lm);
    sb_eval_task_free(t);
    sb_model_free(m);
    return rc;
}

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    int n = 0, c;
    while ((c = fgetc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

static void test_resume_after_kill9(void)
{
    if (!test_shared_path("models/stories260K.gguf") || !data_dir()) { test_skip("stories260K or datasets not present"); return; }
    char killed[512], clean[512];
    snprintf(killed, sizeof killed, "%s/killed.jsonl", test_tmpdir());
    snprintf(clean, sizeof clean, "%s/clean.jsonl", test_tmpdir());
    fflush(stdout);
    /* The child re-executes this binary: GNU OpenMP's thread pool (used by earlier tests) does
     * not survive fork(), so a forked child running the model would hang in its first parallel
     * region. */
    pid_t pid = fork();
    if (pid == 0) {
        execl("/proc/self/exe", "test_evals_scoring", "--resume-child", killed, (char *)NULL);
        _exit(127);
    }
    CHECK(pid > 0);
    /* poll the samples file until 10 items are in it, then kill -9 */
    int lines = 0, st = 0, exited = 0;
    for (int i = 0; i < 12000 && (lines = count_lines(killed)) < 10; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid) { exited = 1; break; }   /* failed early */
        usleep(10000);
    }
    CHECK_EQ_INT(lines, 10);
    kill(pid, SIGKILL);
    if (!exited) waitpid(pid, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    /* a torn half line, as a kill during write() would leave */
    FILE *f = fopen(killed, "ab");
    fputs("{\"doc_id\":\"Mercury_", f);
    fclose(f);

    cJSON *resumed = NULL, *full = NULL;
    CHECK_EQ_INT(run_task(killed, 1, 0, &resumed), 0);
    CHECK_EQ_INT(run_task(clean, 0, 0, &full), 0);
    if (!resumed || !full) { cJSON_Delete(resumed); cJSON_Delete(full); return; }
    CHECK_EQ_INT(cJSON_GetObjectItem(resumed, "n_resumed")->valuedouble, 10);
    CHECK_EQ_INT(cJSON_GetObjectItem(full, "n_resumed")->valuedouble, 0);
    CHECK_EQ_INT(count_lines(killed), 24);
    /* each item exactly once, and the same items as the clean run */
    FILE *a = fopen(killed, "rb");
    char line[65536];
    int seen = 0, bad = 0;
    char ids[24][64];
    while (a && fgets(line, sizeof line, a)) {
        cJSON *rec = cJSON_Parse(line);
        const cJSON *d = cJSON_GetObjectItem(rec, "doc_id");
        if (!cJSON_IsString(d)) bad++;
        else {
            for (int i = 0; i < seen; i++) if (!strcmp(ids[i], d->valuestring)) bad++;
            if (seen < 24) snprintf(ids[seen++], 64, "%s", d->valuestring);
        }
        cJSON_Delete(rec);
    }
    if (a) fclose(a);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(seen, 24);
    static const char *const keys[] = {"n", "acc", "acc_norm", "acc_stderr", "acc_norm_stderr"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        CHECK_NEAR(cJSON_GetObjectItem(resumed, keys[k])->valuedouble, cJSON_GetObjectItem(full, keys[k])->valuedouble, 0);
    cJSON_Delete(resumed);
    cJSON_Delete(full);
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--resume-child")) {
        cJSON *r = NULL;
        run_task(argv[2], 0, 10, &r);          /* blocks after 10 items until killed */
        return 3;
    }
    RUN(test_loglik_equals_log_softmax_of_logits);
    RUN(test_ref_and_cpu_backends_agree);
    RUN(test_kv_reuse_equals_recompute);
    RUN(test_user_task_file_end_to_end);
    RUN(test_resume_after_kill9);
    return test_finish();
}
