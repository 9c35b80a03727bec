/* slmbench eval end to end on stories260K with a user task file: results JSON, samples log,
 * resume without duplicates, two-model comparison, usage and input errors. */
#include <stdlib.h>
#include <sys/wait.h>

#include "harness/results.h"
#include "tests/test.h"

static int sh(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const char *bin(void) { return test_slmbench_bin(); }

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f) { fputs(text, f); fclose(f); }
}

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    int n = 0, c;
    while ((c = fgetc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

static cJSON *load(const char *path)
{
    char err[256];
    cJSON *d = sb_results_load(path, err, sizeof err);
    CHECK_MSG(d != NULL, "%s", err);
    return d;
}

static void test_eval_user_task_results_and_resume(void)
{
    const char *model = test_shared_path("models/stories260K.gguf");
    if (!model) { test_skip("../shared/models/stories260K.gguf not present"); return; }
    char task[512], data[512], out[512], samples[512], cmd[4096];
    const char *d = test_tmpdir();
    snprintf(data, sizeof data, "%s/items.jsonl", d);
    snprintf(task, sizeof task, "%s/story.json", d);
    snprintf(out, sizeof out, "%s/r.json", d);
    snprintf(samples, sizeof samples, "%s/s.jsonl", d);
    write_file(data, "{\"text\":\"Once upon a time, there was a little girl named\",\"options\":[\"Lily\",\"Zqx\"],\"answer\":0}\n"
                     "{\"text\":\"The dog wagged its\",\"options\":[\"xyzzy\",\"tail\"],\"answer\":1}\n"
                     "{\"text\":\"She went to the\",\"options\":[\"park\",\"qqq\"],\"answer\":0}\n");
    write_file(task, "{\"name\":\"story\",\"data\":\"items.jsonl\",\"prompt\":\"{text}\",\"choices\":\"options\",\"gold\":\"answer\"}");
    snprintf(cmd, sizeof cmd, "%s eval -m %s -m %s --tasks %s --ctx 256 --threads 2 --no-latency -o %s --log-samples %s >/dev/null 2>&1",
             bin(), model, model, task, out, samples);
    CHECK_EQ_INT(sh(cmd), 0);
    CHECK_EQ_INT(count_lines(samples), 6);      /* 3 items × 2 models */
    cJSON *doc = load(out);
    if (!doc) return;
    cJSON *eval = cJSON_GetObjectItem(doc, "eval");
    cJSON *models = cJSON_GetObjectItem(eval, "models");
    CHECK_EQ_INT(cJSON_GetArraySize(models), 2);
    cJSON *m0 = cJSON_GetArrayItem(models, 0), *m1 = cJSON_GetArrayItem(models, 1);
    CHECK_STR(cJSON_GetObjectItem(m0, "name")->valuestring, "stories260K.gguf");
    CHECK_STR(cJSON_GetObjectItem(m1, "name")->valuestring, "stories260K.gguf#2");
    cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(m0, "tasks"), "story");
    CHECK(t != NULL);
    if (t) {
        CHECK_EQ_INT(cJSON_GetObjectItem(t, "n")->valuedouble, 3);
        CHECK_NEAR(cJSON_GetObjectItem(t, "acc")->valuedouble, 1.0, 0);
    }
    cJSON *mem = cJSON_GetObjectItem(m0, "memory");
    CHECK(mem && cJSON_GetObjectItem(mem, "peak_rss_bytes")->valuedouble > cJSON_GetObjectItem(mem, "weights_bytes")->valuedouble);
    CHECK(cJSON_GetObjectItem(m0, "_correct") == NULL);
    cJSON *cmp = cJSON_GetArrayItem(cJSON_GetObjectItem(eval, "comparisons"), 0);
    CHECK(cmp != NULL);
    if (cmp) {
        CHECK_NEAR(cJSON_GetObjectItem(cmp, "diff")->valuedouble, 0, 0);
        CHECK_NEAR(cJSON_GetObjectItem(cmp, "mcnemar_p")->valuedouble, 1, 0);
    }
    CHECK(cJSON_IsObject(cJSON_GetObjectItem(doc, "machine")));
    cJSON_Delete(doc);
    /* resume: nothing redone, nothing duplicated, same metrics */
    snprintf(cmd, sizeof cmd, "%s eval -m %s --tasks %s --ctx 256 --threads 2 --no-latency --no-memory -o %s --log-samples %s --resume >/dev/null 2>&1",
             bin(), model, task, out, samples);
    CHECK_EQ_INT(sh(cmd), 0);
    CHECK_EQ_INT(count_lines(samples), 6);
    doc = load(out);
    if (!doc) return;
    t = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "eval"), "models"), 0), "tasks"), "story");
    CHECK(t && cJSON_GetObjectItem(t, "n_resumed")->valuedouble == 3);
    CHECK(t && cJSON_GetObjectItem(t, "acc")->valuedouble == 1.0);
    cJSON_Delete(doc);
}

/* --kv-f16: the same answers, half the KV bytes, and the type in the results */
static void test_eval_kv_f16(void)
{
    const char *model = test_shared_path("models/stories260K.gguf");
    if (!model) { test_skip("../shared/models/stories260K.gguf not present"); return; }
    char task[512], data[512], out[2][512], cmd[4096];
    const char *d = test_tmpdir();
    snprintf(data, sizeof data, "%s/kv_items.jsonl", d);
    snprintf(task, sizeof task, "%s/kv_story.json", d);
    write_file(data, "{\"text\":\"Once upon a time, there was a little girl named\",\"options\":[\"Lily\",\"Zqx\"],\"answer\":0}\n"
                     "{\"text\":\"The dog wagged its\",\"options\":[\"xyzzy\",\"tail\"],\"answer\":1}\n");
    write_file(task, "{\"name\":\"kv_story\",\"data\":\"kv_items.jsonl\",\"prompt\":\"{text}\",\"choices\":\"options\",\"gold\":\"answer\"}");
    double kv[2] = {0, 0}, acc[2] = {-1, -1};
    for (int f16 = 0; f16 < 2; f16++) {
        snprintf(out[f16], sizeof out[f16], "%s/kv%d.json", d, f16);
        snprintf(cmd, sizeof cmd, "%s eval -m %s --tasks %s --ctx 256 --threads 2 --no-latency %s -o %s >/dev/null 2>&1",
                 bin(), model, task, f16 ? "--kv-f16" : "", out[f16]);
        CHECK_EQ_INT(sh(cmd), 0);
        cJSON *doc = load(out[f16]);
        if (!doc) return;
        cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "eval"), "models"), 0);
        const cJSON *kt = cJSON_GetObjectItem(m0, "kv_type");
        CHECK(kt && cJSON_IsString(kt) && !strcmp(kt->valuestring, f16 ? "f16" : "f32"));
        const cJSON *mem = cJSON_GetObjectItem(m0, "memory"), *t = cJSON_GetObjectItem(cJSON_GetObjectItem(m0, "tasks"), "kv_story");
        if (mem) kv[f16] = cJSON_GetObjectItem(mem, "kv_bytes")->valuedouble;
        if (t) acc[f16] = cJSON_GetObjectItem(t, "acc")->valuedouble;
        cJSON_Delete(doc);
    }
    CHECK(kv[0] > 0 && kv[1] * 2 == kv[0]);
    CHECK(acc[0] == 1.0 && acc[1] == 1.0);
}

static void test_eval_usage_and_input_errors(void)
{
    char cmd[2048];
    const char *model = test_shared_path("models/stories260K.gguf");
    snprintf(cmd, sizeof cmd, "%s eval --tasks arc_easy >/dev/null 2>&1", bin());
    CHECK_EQ_INT(sh(cmd), 2);                                   /* no model */
    snprintf(cmd, sizeof cmd, "%s eval -m x.gguf --resume >/dev/null 2>&1", bin());
    CHECK_EQ_INT(sh(cmd), 2);                                   /* --resume without a log */
    snprintf(cmd, sizeof cmd, "%s eval -m x.gguf --limit -3 >/dev/null 2>&1", bin());
    CHECK_EQ_INT(sh(cmd), 2);
    snprintf(cmd, sizeof cmd, "%s eval -m %s/missing.gguf --no-latency >/dev/null 2>&1", bin(), test_tmpdir());
    CHECK_EQ_INT(sh(cmd), 2);                                   /* unreadable model: input error */
    if (!model) return;
    char task[512], log[512];
    snprintf(task, sizeof task, "%s/bad.json", test_tmpdir());
    snprintf(log, sizeof log, "%s/err.txt", test_tmpdir());
    write_file(task, "{\"name\":\"bad\",\"data\":\"nope.jsonl\",\"prompt\":\"{q}\",\"choices\":\"c\",\"gold\":\"g\"}");
    snprintf(cmd, sizeof cmd, "%s eval -m %s --tasks %s --no-latency --no-memory 2>%s >/dev/null", bin(), model, task, log);
    CHECK_EQ_INT(sh(cmd), 2);
    FILE *f = fopen(log, "r");
    char buf[1024] = {0};
    if (f) { size_t n = fread(buf, 1, sizeof buf - 1, f); buf[n] = 0; fclose(f); }
    CHECK_MSG(strstr(buf, "nope.jsonl") != NULL, "stderr: %s", buf);
}

int main(void)
{
    RUN(test_eval_user_task_results_and_resume);
    RUN(test_eval_kv_f16);
    RUN(test_eval_usage_and_input_errors);
    return test_finish();
}
