/* Task definitions: item counts of the real datasets, exact lm-eval prompts, few-shot headers,
 * answer extraction, and user task files (JSONL and CSV) including their schema errors. */
#include <stdlib.h>

#include "datasets/datasets.h"
#include "evals/evals.h"
#include "tests/test.h"

static const char *data_dir(void)
{
    static char dir[4096];
    const char *p = test_shared_path("datasets/MANIFEST.md");
    if (!p) return NULL;
    snprintf(dir, sizeof dir, "%.*s", (int)(strlen(p) - strlen("/MANIFEST.md")), p);
    return dir;
}

static sb_eval_task *load(const char *spec, long limit, int fewshot)
{
    char err[1024];
    sb_eval_load_opts o = {.data_dir = data_dir(), .limit = limit, .fewshot = fewshot};
    sb_eval_task *t = NULL;
    int rc = sb_eval_task_load(spec, &o, &t, err, sizeof err);
    CHECK_MSG(rc == 0, "%s: %s", spec, err);
    return t;
}

static void test_builtin_item_counts(void)
{
    if (!data_dir()) { test_skip("../shared/datasets not present"); return; }
    static const struct { const char *spec; size_t n; } want[] = {
        {"hellaswag", 10042}, {"arc_easy", 2376}, {"arc_challenge", 1172}, {"piqa", 1838},
        {"winogrande", 1267}, {"boolq", 3270}, {"mmlu", 14042}, {"lambada_openai", 5153},
        {"gsm8k", 1314} /* 1319 minus the 5 exemplars */, {"gsm8k:0", 1319},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        sb_eval_task *t = load(want[i].spec, 0, -1);
        if (!t) continue;
        CHECK_MSG(t->n_items == want[i].n, "%s: %zu items, want %zu", want[i].spec, t->n_items, want[i].n);
        for (size_t k = 0; k < t->n_items; k++) {
            const sb_eval_item *it = &t->items[k];
            if (t->kind == SB_EVAL_MC && !(it->gold >= 0 && it->gold < it->n_choices)) {
                CHECK_MSG(0, "%s item %s gold %d of %d", want[i].spec, it->doc_id, it->gold, it->n_choices);
                break;
            }
        }
        sb_eval_task_free(t);
    }
}

static void test_prompts_are_lm_eval(void)
{
    if (!data_dir()) { test_skip("../shared/datasets not present"); return; }
    sb_eval_task *t = load("arc_challenge", 1, -1);
    if (t) {
        const sb_eval_item *it = &t->items[0];
        CHECK(!strncmp(it->ctx[0], "Question: ", 10));
        CHECK(strstr(it->ctx[0], "\nAnswer:") && !strcmp(strstr(it->ctx[0], "\nAnswer:"), "\nAnswer:"));
        CHECK(it->cont[0][0] == ' ' && it->cont[0][1] != ' ');
        CHECK_EQ_INT(it->norm_len[0], (long long)strlen(it->cont[0]) - 1);
        sb_eval_task_free(t);
    }
    t = load("hellaswag", 1, -1);
    if (t) {
        CHECK_STR(t->items[0].ctx[0], "Roof shingle removal: A man is sitting on a roof. he");
        CHECK_STR(t->items[0].cont[3], " starts pulling up roofing on a roof.");
        CHECK_EQ_INT(t->items[0].gold, 3);
        sb_eval_task_free(t);
    }
    t = load("winogrande", 1, -1);
    if (t) {
        /* "Sarah was a much better surgeon than Maria so _ always got the easier cases." */
        CHECK_STR(t->items[0].ctx[0], "Sarah was a much better surgeon than Maria so Sarah");
        CHECK_STR(t->items[0].ctx[1], "Sarah was a much better surgeon than Maria so Maria");
        CHECK_STR(t->items[0].cont[0], " always got the easier cases.");
        CHECK_EQ_INT(t->items[0].gold, 1);
        sb_eval_task_free(t);
    }
    t = load("boolq", 0, -1);
    if (t) {
        const char *c = t->items[0].ctx[0];
        CHECK(strncmp(c, "Passage: ", 9) != 0);
        CHECK(strstr(c, "\nQuestion: ") && strlen(c) > 9 && !strcmp(c + strlen(c) - 9, "?\nAnswer:"));
        CHECK_STR(t->items[0].cont[0], " no");
        CHECK_STR(t->items[0].cont[1], " yes");
        sb_eval_task_free(t);
    }
    t = load("lambada_openai", 2, -1);
    if (t) {
        CHECK_EQ_INT(t->kind, SB_EVAL_LOGLIK);
        CHECK(t->items[0].cont[0][0] == ' ' && !strchr(t->items[0].cont[0] + 1, ' '));
        sb_eval_task_free(t);
    }
}

static void test_mmlu_fewshot_and_limit_per_subject(void)
{
    if (!data_dir()) { test_skip("../shared/datasets not present"); return; }
    sb_eval_task *t = load("mmlu", 2, 5);
    if (!t) return;
    CHECK_EQ_INT(t->n_groups, 57);
    CHECK_EQ_INT(t->n_items, 114);
    CHECK_STR(t->key, "mmlu@5");
    const sb_eval_item *it = &t->items[0];
    CHECK_STR(t->groups[it->group], "abstract_algebra");
    const char *hdr = "The following are multiple choice questions (with answers) about abstract algebra.\n\n";
    CHECK(!strncmp(it->ctx[0], hdr, strlen(hdr)));
    /* five answered exemplars, then the query ending in "Answer:" */
    int n = 0;
    for (const char *p = it->ctx[0]; (p = strstr(p, "\nAnswer: ")); p++) n++;
    CHECK_EQ_INT(n, 5);
    CHECK(!strcmp(it->ctx[0] + strlen(it->ctx[0]) - 8, "\nAnswer:"));
    CHECK_STR(it->cont[2], " C");
    sb_eval_task_free(t);
    t = load("mmlu:0", 1, -1);
    if (t) {
        CHECK(strstr(t->items[0].ctx[0], "\nAnswer: ") == NULL);
        sb_eval_task_free(t);
    }
}

static void test_seeded_subset_is_deterministic(void)
{
    if (!data_dir()) { test_skip("../shared/datasets not present"); return; }
    char err[512];
    sb_eval_load_opts o = {.data_dir = data_dir(), .limit = 10, .seed = 7};
    sb_eval_task *a, *b;
    CHECK_EQ_INT(sb_eval_task_load("piqa", &o, &a, err, sizeof err), 0);
    CHECK_EQ_INT(sb_eval_task_load("piqa", &o, &b, err, sizeof err), 0);
    CHECK_EQ_INT(a->n_items, 10);
    int differs_from_first = 0;
    for (size_t i = 0; i < 10; i++) {
        CHECK_STR(a->items[i].doc_id, b->items[i].doc_id);
        if (atoi(a->items[i].doc_id) != (int)i) differs_from_first = 1;
    }
    CHECK(differs_from_first);
    sb_eval_task_free(a);
    sb_eval_task_free(b);
}

static void test_gsm8k_answer_extraction(void)
{
    char *s;
    s = sb_eval_gsm8k_normalize("Janet sells 9 duck eggs.\n#### 1,018"); CHECK_STR(s, "1018"); free(s);
    s = sb_eval_gsm8k_extract_strict("so 5+5=10.\n#### 10\n\nQuestion"); CHECK_STR(s, "10"); free(s);
    s = sb_eval_gsm8k_extract_strict("no final answer 42"); CHECK_STR(s, "[invalid]"); free(s);
    s = sb_eval_gsm8k_extract_flexible("She pays $1,200 and then -3 more, so 7."); CHECK_STR(s, "7."); free(s);
    s = sb_eval_gsm8k_normalize("7."); CHECK_STR(s, "7"); free(s);
    s = sb_eval_gsm8k_extract_flexible("total -5"); CHECK_STR(s, "-5"); free(s);
    s = sb_eval_gsm8k_extract_flexible("none"); CHECK_STR(s, "[invalid]"); free(s);
    if (!data_dir()) return;
    sb_eval_task *t = load("gsm8k", 1, -1);
    if (t) {
        CHECK_EQ_INT(t->kind, SB_EVAL_GENERATE);
        CHECK_STR(t->items[0].doc_id, "5");
        int n = 0;
        for (const char *p = t->items[0].ctx[0]; (p = strstr(p, "Question: ")); p++) n++;
        CHECK_EQ_INT(n, 6);
        sb_eval_task_free(t);
    }
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

static void test_user_task_jsonl_and_csv(void)
{
    write_file("u.jsonl", "{\"q\":\"2+2?\",\"opts\":[\"3\",\"4\"],\"label\":1}\n{\"q\":\"Sky?\",\"opts\":[\"blue\",\"red\"],\"label\":\"blue\"}\n");
    const char *spec = write_file("u.json", "{\"name\":\"mine\",\"data\":\"u.jsonl\",\"format\":\"jsonl\","
        "\"prompt\":\"Q: {q}\\nA:\",\"choices\":\"opts\",\"gold\":\"label\",\"metric\":[\"acc\",\"acc_norm\"]}");
    char err[1024];
    sb_eval_task *t;
    CHECK_EQ_INT(sb_eval_task_load(spec, NULL, &t, err, sizeof err), 0);
    if (!test_failed_now()) {
        CHECK_STR(t->name, "mine");
        CHECK_EQ_INT(t->n_items, 2);
        CHECK_STR(t->items[0].ctx[0], "Q: 2+2?\nA:");
        CHECK_STR(t->items[0].cont[1], " 4");
        CHECK_EQ_INT(t->items[0].gold, 1);
        CHECK_EQ_INT(t->items[1].gold, 0);
        sb_eval_task_free(t);
    }
    write_file("u.csv", "question,A,B,answer\n\"x, y?\",yes,no,B\n");
    spec = write_file("uc.json", "{\"name\":\"mine_csv\",\"data\":\"u.csv\",\"format\":\"csv\",\"csv_header\":true,"
        "\"prompt\":\"{question}\",\"choices\":[\"A\",\"B\"],\"gold\":\"answer\"}");
    CHECK_EQ_INT(sb_eval_task_load(spec, NULL, &t, err, sizeof err), 0);
    if (!test_failed_now()) {
        CHECK_EQ_INT(t->n_items, 1);
        CHECK_STR(t->items[0].ctx[0], "x, y?");
        CHECK_STR(t->items[0].cont[0], " yes");
        CHECK_EQ_INT(t->items[0].gold, 1);
        sb_eval_task_free(t);
    }
    /* J8 through a user task: label outside the choices */
    write_file("bad.jsonl", "{\"q\":\"a\",\"opts\":[\"x\",\"y\"],\"label\":0}\n{\"q\":\"b\",\"opts\":[\"x\",\"y\"],\"label\":5}\n");
    spec = write_file("bad.json", "{\"name\":\"bad\",\"data\":\"bad.jsonl\",\"prompt\":\"{q}\",\"choices\":\"opts\",\"gold\":\"label\"}");
    CHECK_EQ_INT(sb_eval_task_load(spec, NULL, &t, err, sizeof err), SB_DS_E_SCHEMA);
    CHECK(strstr(err, "bad.jsonl:2") && strstr(err, "outside"));
    /* J6: a template field missing */
    spec = write_file("bad2.json", "{\"name\":\"bad\",\"data\":\"bad.jsonl\",\"prompt\":\"{question}\",\"choices\":\"opts\",\"gold\":\"label\"}");
    CHECK_EQ_INT(sb_eval_task_load(spec, NULL, &t, err, sizeof err), SB_DS_E_SCHEMA);
    CHECK(strstr(err, "\"question\"") && strstr(err, "bad.jsonl:1"));
    /* the task file itself malformed */
    spec = write_file("bad3.json", "{\"name\": \"x\",\n \"data\": }");
    CHECK_EQ_INT(sb_eval_task_load(spec, NULL, &t, err, sizeof err), SB_DS_E_JSON);
    CHECK(strstr(err, "bad3.json:2:") != NULL);
    /* loglikelihood type */
    write_file("ll.jsonl", "{\"c\":\"The cat sat on the\",\"t\":\" mat\"}\n");
    spec = write_file("ll.json", "{\"name\":\"ll\",\"data\":\"ll.jsonl\",\"type\":\"loglikelihood\",\"context\":\"{c}\",\"continuation\":\"{t}\"}");
    CHECK_EQ_INT(sb_eval_task_load(spec, NULL, &t, err, sizeof err), 0);
    if (!test_failed_now()) {
        CHECK_EQ_INT(t->kind, SB_EVAL_LOGLIK);
        CHECK_STR(t->items[0].cont[0], " mat");
        sb_eval_task_free(t);
    }
}

static void test_unknown_task_and_bad_fewshot(void)
{
    char err[512];
    sb_eval_task *t;
    CHECK_EQ_INT(sb_eval_task_load("nope", NULL, &t, err, sizeof err), SB_DS_E_ARG);
    CHECK(strstr(err, "unknown task") != NULL);
    CHECK_EQ_INT(sb_eval_task_load("mmlu:x", NULL, &t, err, sizeof err), SB_DS_E_ARG);
    sb_eval_load_opts o = {.data_dir = "/nonexistent"};
    CHECK_EQ_INT(sb_eval_task_load("arc_easy", &o, &t, err, sizeof err), SB_DS_E_IO);
    CHECK(strstr(err, "/nonexistent/arc/ARC-Easy-Test.jsonl") != NULL);
}

int main(void)
{
    RUN(test_builtin_item_counts);
    RUN(test_prompts_are_lm_eval);
    RUN(test_mmlu_fewshot_and_limit_per_subject);
    RUN(test_seeded_subset_is_deterministic);
    RUN(test_gsm8k_answer_extraction);
    RUN(test_user_task_jsonl_and_csv);
    RUN(test_unknown_task_and_bad_fewshot);
    return test_finish();
}
