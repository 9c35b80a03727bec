/* evals/tasks.c — the built-in tasks and user task files: datasets read through datasets/ and
 * turned into scored items with the prompts of lm-evaluation-harness (docs/evals.md).
 *
 * Every string of a task lives in one arena freed with the task. Errors come back as the dataset
 * status (sb_ds_status) with a message naming the file, line and field. */
#include "evals/evals.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/datasets.h"
#include "harness/results.h"

/* ---------------------------------------------------------------- arena */

typedef struct arena_blk { struct arena_blk *next; size_t used, cap; char data[]; } arena_blk;
struct sb_arena { arena_blk *head; };

static void *aalloc(struct sb_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > (1u << 20) ? n : (1u << 20);   /* >= 1 MiB: mmap'd, returned to the OS on free */
        arena_blk *b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += n;
    return p;
}

static char *astrndup(struct sb_arena *a, const char *s, size_t n)
{
    char *p = aalloc(a, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}
static char *astrdup(struct sb_arena *a, const char *s) { return astrndup(a, s, strlen(s)); }

__attribute__((format(printf, 2, 3)))
static char *aprintf(struct sb_arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = n < 0 ? NULL : aalloc(a, (size_t)n + 1);
    if (p) vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

static void arena_free(struct sb_arena *a)
{
    if (!a) return;
    for (arena_blk *b = a->head, *n; b; b = n) { n = b->next; free(b); }
    free(a);
}

/* ---------------------------------------------------------------- helpers */

const char *const sb_eval_task_names[] = {
    "hellaswag", "arc_easy", "arc_challenge", "piqa", "winogrande", "mmlu", "boolq",
    "lambada_openai", "gsm8k", "wikitext2", NULL,
};

static int utf8_len(const char *s)
{
    int n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Copies s without leading/trailing ASCII whitespace into the arena. */
static char *astrip(struct sb_arena *a, const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
    return astrndup(a, s, n);
}

static int fail(char *err, size_t errlen, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
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
#define NOMEM() fail(err, errlen, SB_DS_E_NOMEM, "out of memory")

static sb_eval_item *new_item(sb_eval_task *t, size_t *cap)
{
    if (t->n_items == *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        sb_eval_item *p = realloc(t->items, nc * sizeof *p);
        if (!p) return NULL;
        t->items = p;
        *cap = nc;
    }
    sb_eval_item *it = &t->items[t->n_items++];
    memset(it, 0, sizeof *it);
    it->gold = -1;
    it->group = -1;
    return it;
}

/* A multiple-choice item: one context, continuations " " + choice. */
static int add_mc(sb_eval_task *t, size_t *cap, const char *doc_id, const char *ctx,
                  const char *const *choices, int n, int gold, int group)
{
    struct sb_arena *a = t->arena;
    sb_eval_item *it = new_item(t, cap);
    if (!it) return -1;
    it->doc_id = astrdup(a, doc_id);
    it->n_choices = n;
    it->ctx = aalloc(a, (size_t)n * sizeof *it->ctx);
    it->cont = aalloc(a, (size_t)n * sizeof *it->cont);
    it->norm_len = aalloc(a, (size_t)n * sizeof *it->norm_len);
    const char *c = astrdup(a, ctx);
    if (!it->doc_id || !it->ctx || !it->cont || !it->norm_len || !c) return -1;
    for (int i = 0; i < n; i++) {
        it->ctx[i] = c;
        it->cont[i] = aprintf(a, " %s", choices[i]);
        it->norm_len[i] = utf8_len(choices[i]);
        if (!it->cont[i]) return -1;
    }
    it->gold = gold;
    it->group = group;
    return 0;
}

static void data_path(char *out, size_t n, const sb_eval_load_opts *o, const char *rel)
{
    snprintf(out, n, "%s/%s", o->data_dir && *o->data_dir ? o->data_dir : ".", rel);
}

static void add_source(sb_eval_task *t, const char *path)
{
    size_t L = strlen(t->source);
    snprintf(t->source + L, sizeof t->source - L, "%s%s", L ? ";" : "", path);
}

/* Copies a dataset error into err and returns its code. */
static int ds_err(const sb_ds_error *e, char *err, size_t errlen)
{
    return fail(err, errlen, e->code ? e->code : SB_DS_E_IO, "%s", e->msg);
}

/* One row of a JSONL dataset: adds its item(s) to t (cap: t->items capacity); 0, or a status
 * with e filled in (file, line, field). */
typedef int (*jsonl_row_fn)(sb_eval_task *t, size_t *cap, const cJSON *obj, const char *path, long line,
                            sb_ds_error *e, void *user);

/* Runs row() on every row of the JSONL file at path; stops at the first error. */
static int jsonl_each(sb_eval_task *t, const char *path, jsonl_row_fn row, void *user, char *err, size_t errlen)
{
    sb_jsonl *r;
    sb_ds_error e;
    if (sb_jsonl_open(path, NULL, &r, &e)) return ds_err(&e, err, errlen);
    size_t cap = 0;
    cJSON *obj;
    int rc = 0, st = 0;
    while (!st && (rc = sb_jsonl_next(r, &obj, &e)) == 1) {
        st = row(t, &cap, obj, path, sb_jsonl_lineno(r), &e, user);
        cJSON_Delete(obj);
    }
    sb_jsonl_close(r);
    if (st || rc < 0) return ds_err(&e, err, errlen);
    return 0;
}

#define OOM(e, path, line) sb_ds_fail((e), SB_DS_E_NOMEM, (path), (line), 0, "out of memory")

/* ---------------------------------------------------------------- hellaswag */

static int load_hellaswag(sb_eval_task *t, const sb_eval_load_opts *o, char *err, size_t errlen)
{
    char path[4096];
    data_path(path, sizeof path, o, "hellaswag/hellaswag_val_full.txt");
    add_source(t, path);
    snprintf(t->prompt_note, sizeof t->prompt_note,
             "llama.cpp text file: ctx_b not capitalized (lm-eval capitalizes it), klosax's cleaning");
    t->has_acc_norm = 1;
    sb_lines *r;
    sb_ds_error e;
    if (sb_lines_open(path, 0, &r, &e)) return ds_err(&e, err, errlen);
    size_t cap = 0;
    const char *line;
    size_t len;
    int rc, k = 0, task = 0;
    char *ctx = NULL, *endings[4] = {0};
    long gold = -1, ctx_line = 0;
    while ((rc = sb_lines_next(r, &line, &len, &e)) == 1) {
        if (k == 0) { ctx = astrdup(t->arena, line); ctx_line = sb_lines_lineno(r); }
        else if (k == 1) {
            char *end;
            gold = strtol(line, &end, 10);
            if (end == line || *end || gold < 0 || gold > 3) {
                sb_lines_close(r);
                return fail(err, errlen, SB_DS_E_SCHEMA, "%s:%ld: schema error: gold label \"%s\" is not 0..3", path,
                            sb_lines_lineno(r), line);
            }
        } else endings[k - 2] = astrdup(t->arena, line);
        if (++k == 6) {
            char id[32];
            snprintf(id, sizeof id, "%d", task++);
            if (!ctx || add_mc(t, &cap, id, ctx, (const char *const *)endings, 4, (int)gold, -1)) { sb_lines_close(r); return NOMEM(); }
            k = 0;
        }
    }
    sb_lines_close(r);
    if (rc < 0) return ds_err(&e, err, errlen);
    if (k != 0)
        return fail(err, errlen, SB_DS_E_SCHEMA, "%s:%ld: schema error: task starting here has %d of its 6 lines",
                    path, ctx_line, k);
    if (t->n_items == 0) return fail(err, errlen, SB_DS_E_EMPTY, "%s: empty dataset", path);
    return 0;
}

/* ---------------------------------------------------------------- ARC */

static int arc_row(sb_eval_task *t, size_t *cap, const cJSON *obj, const char *path, long line, sb_ds_error *e,
                   void *user)
{
    (void)user;
    const char *id, *stem, *key, *texts[16];
    const cJSON *choices, *c;
    int n = 0, gold = -1, st;
    if ((st = sb_ds_get_string(obj, "id", &id, path, line, e)) ||
        (st = sb_ds_get_string(obj, "question.stem", &stem, path, line, e)) ||
        (st = sb_ds_get_string(obj, "answerKey", &key, path, line, e)) ||
        (st = sb_ds_get_array(obj, "question.choices", 1, &choices, path, line, e)))
        return st;
    cJSON_ArrayForEach(c, choices) {
        const char *text, *label;
        if (n == 16) return sb_ds_fail(e, SB_DS_E_SCHEMA, path, line, 0, "more than 16 choices");
        if ((st = sb_ds_get_string(c, "text", &text, path, line, e)) ||
            (st = sb_ds_get_string(c, "label", &label, path, line, e)))
            return st;
        if (!strcmp(label, key)) gold = n;
        texts[n++] = text;
    }
    if (gold < 0)
        return sb_ds_fail(e, SB_DS_E_SCHEMA, path, line, 0, "field \"answerKey\": label \"%s\" is not among the choices", key);
    if (add_mc(t, cap, id, aprintf(t->arena, "Question: %s\nAnswer:", stem), texts, n, gold, -1)) return OOM(e, path, line);
    return 0;
}

static int load_arc(sb_eval_task *t, const sb_eval_load_opts *o, const char *file, char *err, size_t errlen)
{
    char path[4096];
    data_path(path, sizeof path, o, file);
    add_source(t, path);
    t->has_acc_norm = 1;
    return jsonl_each(t, path, arc_row, NULL, err, errlen);
}

/* ---------------------------------------------------------------- PIQA */

/* PIQA keeps its labels in a separate file, one per line, read in step with the questions. */
typedef struct piqa_labels { sb_lines *lr; const char *lpath; } piqa_labels;

static int piqa_row(sb_eval_task *t, size_t *cap, const cJSON *obj, const char *path, long line, sb_ds_error *e,
                    void *user)
{
    piqa_labels *pl = user;
    const char *goal, *sol[2], *lab;
    size_t llen;
    int st, lrc;
    if ((st = sb_ds_get_string(obj, "goal", &goal, path, line, e)) ||
        (st = sb_ds_get_string(obj, "sol1", &sol[0], path, line, e)) ||
        (st = sb_ds_get_string(obj, "sol2", &sol[1], path, line, e)))
        return st;
    if ((lrc = sb_lines_next(pl->lr, &lab, &llen, e)) != 1)
        return lrc == 0 ? sb_ds_fail(e, SB_DS_E_SCHEMA, pl->lpath, sb_lines_lineno(pl->lr) + 1, 0,
                                     "fewer labels than questions (%s has more lines)", path)
                        : -lrc;
    if (strcmp(lab, "0") && strcmp(lab, "1"))
        return sb_ds_fail(e, SB_DS_E_SCHEMA, pl->lpath, sb_lines_lineno(pl->lr), 0, "label \"%s\" outside the 2 choices", lab);
    char id[32];
    snprintf(id, sizeof id, "%ld", line - 1);
    if (add_mc(t, cap, id, aprintf(t->arena, "Question: %s\nAnswer:", goal), sol, 2, lab[0] - '0', -1))
        return OOM(e, path, line);
    return 0;
}

static int load_piqa(sb_eval_task *t, const sb_eval_load_opts *o, char *err, size_t errlen)
{
    char path[4096], lpath[4096];
    data_path(path, sizeof path, o, "piqa/valid.jsonl");
    data_path(lpath, sizeof lpath, o, "piqa/valid-labels.lst");
    add_source(t, path);
    add_source(t, lpath);
    t->has_acc_norm = 1;
    piqa_labels pl = {NULL, lpath};
    sb_ds_error e;
    if (sb_lines_open(lpath, 64, &pl.lr, &e)) return ds_err(&e, err, errlen);
    int st = jsonl_each(t, path, piqa_row, &pl, err, errlen);
    sb_lines_close(pl.lr);
    return st;
}

/* ---------------------------------------------------------------- WinoGrande */

static int winogrande_row(sb_eval_task *t, size_t *cap, const cJSON *obj, const char *path, long line,
                          sb_ds_error *e, void *user)
{
    (void)user;
    struct sb_arena *a = t->arena;
    const char *id, *sent, *opt[2], *ans;
    int st;
    if ((st = sb_ds_get_string(obj, "qID", &id, path, line, e)) ||
        (st = sb_ds_get_string(obj, "sentence", &sent, path, line, e)) ||
        (st = sb_ds_get_string(obj, "option1", &opt[0], path, line, e)) ||
        (st = sb_ds_get_string(obj, "option2", &opt[1], path, line, e)) ||
        (st = sb_ds_get_string(obj, "answer", &ans, path, line, e)))
        return st;
    const char *us = strchr(sent, '_');
    if (!us) return sb_ds_fail(e, SB_DS_E_SCHEMA, path, line, 0, "field \"sentence\" has no '_' blank");
    if (strcmp(ans, "1") && strcmp(ans, "2"))
        return sb_ds_fail(e, SB_DS_E_SCHEMA, path, line, 0, "field \"answer\": label \"%s\" outside the 2 choices", ans);
    /* lm-eval: contexts sentence[:idx] + option, shared continuation " " + sentence[idx+1:].strip() */
    sb_eval_item *it = new_item(t, cap);
    char *rest = it ? astrip(a, us + 1) : NULL;
    if (!it || !rest) return OOM(e, path, line);
    it->doc_id = astrdup(a, id);
    it->n_choices = 2;
    it->ctx = aalloc(a, 2 * sizeof *it->ctx);
    it->cont = aalloc(a, 2 * sizeof *it->cont);
    it->norm_len = aalloc(a, 2 * sizeof *it->norm_len);
    const char *cont = aprintf(a, " %s", rest);
    if (!it->doc_id || !it->ctx || !it->cont || !it->norm_len || !cont) return OOM(e, path, line);
    for (int i = 0; i < 2; i++) {
        it->ctx[i] = aprintf(a, "%.*s%s", (int)(us - sent), sent, opt[i]);
        if (!it->ctx[i]) return OOM(e, path, line);
        it->cont[i] = cont;
        it->norm_len[i] = utf8_len(rest);
    }
    it->gold = ans[0] - '1';
    return 0;
}

static int load_winogrande(sb_eval_task *t, const sb_eval_load_opts *o, char *err, size_t errlen)
{
    char path[4096];
    data_path(path, sizeof path, o, "winogrande/dev.jsonl");
    add_source(t, path);
    return jsonl_each(t, path, winogrande_row, NULL, err, errlen);
}

/* ---------------------------------------------------------------- BoolQ */

static int boolq_row(sb_eval_task *t, size_t *cap, const cJSON *obj, const char *path, long line, sb_ds_error *e,
                     void *user)
{
    (void)user;
    static const char *const yn[2] = {"no", "yes"};
    const char *q;
    long long gold;
    int st;
    if ((st = sb_ds_get_string(obj, "query", &q, path, line, e)) || (st = sb_ds_get_int(obj, "gold", &gold, path, line, e)) ||
        (st = sb_ds_check_label(gold, 2, "gold", path, line, e)))
        return st;
    /* "Passage: <passage>\nQuestion: <question>?" split on the LAST "\nQuestion: " */
    const char *qpos = NULL;
    for (const char *p = strstr(q, "\nQuestion: "); p; p = strstr(p + 1, "\nQuestion: ")) qpos = p;
    if (strncmp(q, "Passage: ", 9) || !qpos)
        return sb_ds_fail(e, SB_DS_E_SCHEMA, path, line, 0, "field \"query\" is not \"Passage: ...\\nQuestion: ...\"");
    char id[32];
    snprintf(id, sizeof id, "%ld", line - 1);
    const char *ctx = aprintf(t->arena, "%.*s\nQuestion: %s\nAnswer:", (int)(qpos - (q + 9)), q + 9, qpos + 11);
    if (!ctx || add_mc(t, cap, id, ctx, yn, 2, (int)gold, -1)) return OOM(e, path, line);
    return 0;
}

static int load_boolq(sb_eval_task *t, const sb_eval_load_opts *o, char *err, size_t errlen)
{
    char path[4096];
    data_path(path, sizeof path, o, "boolq/boolq_dev_llmfoundry.jsonl");
    add_source(t, path);
    snprintf(t->prompt_note, sizeof t->prompt_note,
             "llm-foundry copy: passage title dropped; question already ends with '?'");
    return jsonl_each(t, path, boolq_row, NULL, err, errlen);
}

/* ---------------------------------------------------------------- MMLU */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* "{question.strip()}\nA. {A}\nB. {B}\nC. {C}\nD. {D}\nAnswer:" */
static char *mmlu_question(struct sb_arena *a, const sb_csv_row *row)
{
    char *q = astrip(a, row->field[0]);
    return q ? aprintf(a, "%s\nA. %s\nB. %s\nC. %s\nD. %s\nAnswer:", q, row->field[1], row->field[2],
                       row->field[3], row->field[4]) : NULL;
}

static int load_mmlu(sb_eval_task *t, const sb_eval_load_opts *o, char *err, size_t errlen)
{
    char dir[4096];
    data_path(dir, sizeof dir, o, "mmlu/test");
    add_source(t, dir);
    DIR *d = opendir(dir);
    if (!d) return fail(err, errlen, SB_DS_E_IO, "%s: cannot open the MMLU test folder", dir);
    char *names[128];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 128) {
        size_t L = strlen(de->d_name);
        if (L > 9 && !strcmp(de->d_name + L - 9, "_test.csv")) names[n++] = astrndup(t->arena, de->d_name, L - 9);
    }
    closedir(d);
    if (n == 0) return fail(err, errlen, SB_DS_E_EMPTY, "%s: no *_test.csv files", dir);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    t->groups = aalloc(t->arena, (size_t)n * sizeof *t->groups);
    if (!t->groups) return NOMEM();
    t->n_groups = n;
    static const char *const letters[4] = {"A", "B", "C", "D"};
    size_t cap = 0;
    for (int s = 0; s < n; s++) {
        t->groups[s] = names[s];
        char subject[256], path[4400];
        snprintf(subject, sizeof subject, "%s", names[s]);
        for (char *p = subject; *p; p++) if (*p == '_') *p = ' ';
        /* header with the k dev exemplars, each answered: "...\nAnswer: B\n\n" */
        char *header = aprintf(t->arena, "The following are multiple choice questions (with answers) about %s.\n\n", subject);
        if (!header) return NOMEM();
        sb_csv_opts co = {.n_fields = 6};
        sb_csv *r;
        sb_ds_error e;
        const sb_csv_row *row;
        int rc = 0;
        if (t->fewshot > 0) {
            snprintf(path, sizeof path, "%s/../dev/%s_dev.csv", dir, names[s]);
            if (sb_csv_open(path, &co, &r, &e)) return ds_err(&e, err, errlen);
            int k = 0;
            while (k < t->fewshot && (rc = sb_csv_next(r, &row, &e)) == 1) {
                char *q = mmlu_question(t->arena, row);
                header = q ? aprintf(t->arena, "%s%s %s\n\n", header, q, row->field[5]) : NULL;
                if (!header) { sb_csv_close(r); return NOMEM(); }
                k++;
            }
            sb_csv_close(r);
            if (k < t->fewshot) {
                if (rc < 0) return ds_err(&e, err, errlen);
                return fail(err, errlen, SB_DS_E_SCHEMA, "%s: only %d dev rows for %d-shot", path, k, t->fewshot);
            }
        }
        snprintf(path, sizeof path, "%s/%s_test.csv", dir, names[s]);
        if (sb_csv_open(path, &co, &r, &e)) return ds_err(&e, err, errlen);
        int i = 0, st = 0;
        while ((rc = sb_csv_next(r, &row, &e)) == 1) {
            const char *ans = row->field[5];
            if (row->len[5] != 1 || ans[0] < 'A' || ans[0] > 'D') {
                st = sb_ds_fail(&e, SB_DS_E_SCHEMA, path, row->line, 0, "answer \"%s\" outside the choices A-D", ans);
                break;
            }
            char *q = mmlu_question(t->arena, row);
            char id[300];
            snprintf(id, sizeof id, "%s/%d", names[s], i++);
            if (!q || add_mc(t, &cap, id, aprintf(t->arena, "%s%s", header, q), letters, 4, ans[0] - 'A', s)) {
                st = sb_ds_fail(&e, SB_DS_E_NOMEM, path, row->line, 0, "out of memory");
                break;
            }
        }
        sb_csv_close(r);
        if (st || rc < 0) return ds_err(&e, err, errlen);
    }
    return 0;
}

/* ---------------------------------------------------------------- LAMBADA (OpenAI) */

/* An item with one continuation: LAMBADA's scored last word (gold 0), or GSM8K's generation with
 * an exact-match target (gold -1, no choices to pick from). */
static int add_single(sb_eval_task *t, size_t *cap, long line, const char *ctx, const char *cont, int gold,
                      const char *target)
{
    struct sb_arena *a = t->arena;
    sb_eval_item *it = new_item(t, cap);
    if (!it) return -1;
    char id[32];
    snprintf(id, sizeof id, "%ld", line - 1);
    it->doc_id = astrdup(a, id);
    it->n_choices = 1;
    it->ctx = aalloc(a, sizeof *it->ctx);
    it->cont = aalloc(a, sizeof *it->cont);
    if (!it->doc_id || !it->ctx || !it->cont) return -1;
    it->ctx[0] = ctx;
    it->cont[0] = cont;
    it->gold = gold;
    if (target && !(it->target = astrdup(a, target))) return -1;
    return 0;
}

static int lambada_row(sb_eval_task *t, size_t *cap, const cJSON *obj, const char *path, long line, sb_ds_error *e,
                       void *user)
{
    (void)user;
    const char *text;
    int st;
    if ((st = sb_ds_get_string(obj, "text", &text, path, line, e))) return st;
    const char *sp = strrchr(text, ' ');
    if (!sp || sp == text || !sp[1])
        return sb_ds_fail(e, SB_DS_E_SCHEMA, path, line, 0, "field \"text\" has no last word after a space");
    const char *ctx = astrndup(t->arena, text, (size_t)(sp - text)), *cont = astrdup(t->arena, sp);
    if (!ctx || !cont || add_single(t, cap, line, ctx, cont, 0, NULL)) return OOM(e, path, line);
    return 0;
}

static int load_lambada(sb_eval_task *t, const sb_eval_load_opts *o, char *err, size_t errlen)
{
    char path[4096];
    data_path(path, sizeof path, o, "lambada/lambada_test.jsonl");
    add_source(t, path);
    return jsonl_each(t, path, lambada_row, NULL, err, errlen);
}

/* ---------------------------------------------------------------- GSM8K */

char *sb_eval_gsm8k_normalize(const char *s)
{
    const char *h = NULL;
    for (const char *p = strstr(s, "#### "); p; p = strstr(p + 1, "#### ")) h = p;
    if (h) s = h + 5;
    size_t n = strlen(s), k = 0;
    char *out = malloc(n + 1);
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++)
        if (s[i] != ',' && s[i] != '$') out[k++] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
    if (k && out[k - 1] == '.') k--;
    out[k] = 0;
    return out;
}

char *sb_eval_gsm8k_extract_strict(const char *s)
{
    for (const char *p = strstr(s, "#### "); p; p = strstr(p + 1, "#### ")) {
        const char *q = p + 5, *b = q;
        if (*q == '-') q++;
        while ((*q >= '0' && *q <= '9') || *q == '.' || *q == ',') q++;
        if (q > b + (*b == '-')) return strndup(b, (size_t)(q - b));
    }
    return strdup("[invalid]");
}

static int flex_class(char c) { return (c >= '0' && c <= '9') || c == '$' || c == '.' || c == ','; }

char *sb_eval_gsm8k_extract_flexible(const char *s)
{
    const char *best = NULL;
    size_t best_len = 0, n = strlen(s), i = 0;
    while (i < n) {
        size_t neg = s[i] == '-', run = 0, dig = 0;
        while (i + neg + run < n && flex_class(s[i + neg + run])) run++;
        while (i + neg + dig < n && s[i + neg + dig] >= '0' && s[i + neg + dig] <= '9') dig++;
        size_t m = run >= 2 ? neg + run : dig >= 1 ? neg + dig : 0;
        if (m) { best = s + i; best_len = m; i += m; }
        else i++;
    }
    return best ? strndup(best, best_len) : strdup("[invalid]");
}

/* The first t->fewshot rows become the exemplar header ("Question: q\nAnswer: a\n\n" each). */
typedef struct gsm8k_state { char *header; int k; } gsm8k_state;

static int gsm8k_row(sb_eval_task *t, size_t *cap, const cJSON *obj, const char *path, long line, sb_ds_error *e,
                     void *user)
{
    gsm8k_state *gs = user;
    struct sb_arena *a = t->arena;
    const char *q, *ans;
    int st;
    if ((st = sb_ds_get_string(obj, "question", &q, path, line, e)) ||
        (st = sb_ds_get_string(obj, "answer", &ans, path, line, e)))
        return st;
    if (!strstr(ans, "#### "))
        return sb_ds_fail(e, SB_DS_E_SCHEMA, path, line, 0, "field \"answer\" has no \"#### \" final answer");
    if (gs->k < t->fewshot) {
        gs->header = gs->header ? aprintf(a, "%sQuestion: %s\nAnswer: %s\n\n", gs->header, q, ans) : NULL;
        gs->k++;
        return gs->header ? 0 : OOM(e, path, line);
    }
    char *norm = sb_eval_gsm8k_normalize(ans);
    const char *ctx = gs->header ? aprintf(a, "%sQuestion: %s\nAnswer:", gs->header, q) : NULL;
    st = !norm || !ctx || add_single(t, cap, line, ctx, "", -1, norm) ? OOM(e, path, line) : 0;
    free(norm);
    return st;
}

static int load_gsm8k(sb_eval_task *t, const sb_eval_load_opts *o, char *err, size_t errlen)
{
    char path[4096];
    data_path(path, sizeof path, o, "gsm8k/test.jsonl");
    add_source(t, path);
    snprintf(t->prompt_note, sizeof t->prompt_note,
             "few-shot exemplars are the first K test items (excluded from scoring); lm-eval draws them from train");
    t->max_gen_tokens = 256;
    t->stops[0] = "Question:";
    t->stops[1] = "</s>";
    t->stops[2] = "<|im_end|>";
    gsm8k_state gs = {astrdup(t->arena, ""), 0};
    return jsonl_each(t, path, gsm8k_row, &gs, err, errlen);
}

/* ---------------------------------------------------------------- WikiText-2 */

static int load_wikitext(sb_eval_task *t, const sb_eval_load_opts *o, char *err, size_t errlen)
{
    char path[4096], e2[512];
    data_path(path, sizeof path, o, "wikitext2/wiki.test.raw");
    add_source(t, path);
    t->chunk_ctx = o->ppl_ctx > 0 ? o->ppl_ctx : 512;
    size_t len;
    t->text = sb_read_file(path, 256u << 20, &len, e2, sizeof e2);
    if (!t->text) return fail(err, errlen, SB_DS_E_IO, "%s: %s", path, e2);
    t->text_len = len;
    size_t bad;
    if (len == 0) return fail(err, errlen, SB_DS_E_EMPTY, "%s: empty dataset", path);
    if (sb_ds_utf8_valid(t->text, len, &bad)) {
        long line = 1;
        for (size_t i = 0; i < bad; i++) line += t->text[i] == '\n';
        return fail(err, errlen, SB_DS_E_ENCODING, "%s:%ld: encoding error: invalid UTF-8 or NUL (byte %zu)", path, line, bad);
    }
    return 0;
}

/* ---------------------------------------------------------------- user task files */

/* Expands "{field}" from a JSON record (strings, numbers, booleans) or a CSV row (header names,
 * else column numbers from 0). "{{" and "}}" are literal braces. */
typedef struct rec_view { const cJSON *obj; const sb_csv_row *row; char **header; int n_header; } rec_view;

static const char *rec_field(const rec_view *v, const char *name, char *num, size_t numlen)
{
    if (v->obj) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(v->obj, name);
        if (cJSON_IsString(f)) return f->valuestring;
        if (cJSON_IsNumber(f)) {
            if (f->valuedouble == (double)(long long)f->valuedouble) snprintf(num, numlen, "%lld", (long long)f->valuedouble);
            else snprintf(num, numlen, "%.17g", f->valuedouble);
            return num;
        }
        if (cJSON_IsBool(f)) return cJSON_IsTrue(f) ? "true" : "false";
        return NULL;
    }
    for (int i = 0; i < v->n_header; i++)
        if (!strcmp(v->header[i], name)) return i < v->row->n ? v->row->field[i] : NULL;
    if (!v->n_header) {
        char *end;
        long k = strtol(name, &end, 10);
        if (end != name && !*end && k >= 0 && k < v->row->n) return v->row->field[k];
    }
    return NULL;
}

static char *expand(struct sb_arena *a, const char *tmpl, const rec_view *v, const char *file, long line,
                    sb_ds_error *e)
{
    size_t cap = 256, n = 0;
    char *out = malloc(cap);
    if (!out) { sb_ds_fail(e, SB_DS_E_NOMEM, file, line, 0, "out of memory"); return NULL; }
    for (const char *p = tmpl; *p;) {
        const char *piece = p;
        size_t plen = 1;
        char name[128], num[64];
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) { plen = 1; p += 2; }
        else if (p[0] == '{') {
            const char *close = strchr(p, '}');
            size_t L = close ? (size_t)(close - p - 1) : 0;
            if (!close || L == 0 || L >= sizeof name) {
                free(out);
                sb_ds_fail(e, SB_DS_E_SCHEMA, file, 0, 0, "template: bad placeholder at \"%.20s\"", p);
                return NULL;
            }
            memcpy(name, p + 1, L);
            name[L] = 0;
            piece = rec_field(v, name, num, sizeof num);
            if (!piece) {
                free(out);
                sb_ds_fail(e, SB_DS_E_SCHEMA, file, line, 0, "field \"%s\" (used by the template) missing or not a scalar", name);
                return NULL;
            }
            plen = strlen(piece);
            p = close + 1;
        } else p++;
        if (n + plen + 1 > cap) {
            while (n + plen + 1 > cap) cap *= 2;
            char *q = realloc(out, cap);
            if (!q) { free(out); sb_ds_fail(e, SB_DS_E_NOMEM, file, line, 0, "out of memory"); return NULL; }
            out = q;
        }
        memcpy(out + n, piece, plen);
        n += plen;
    }
    out[n] = 0;
    char *r = astrndup(a, out, n);
    free(out);
    if (!r) sb_ds_fail(e, SB_DS_E_NOMEM, file, line, 0, "out of memory");
    return r;
}

/* Gold from a field: an integer index, a digit string, a single letter A-Z, or a choice's text. */
static int parse_gold(const rec_view *v, const char *field, const char *const *choices, int n, const char *file,
                      long line, int *gold, sb_ds_error *e)
{
    char num[64];
    const char *s = rec_field(v, field, num, sizeof num);
    if (!s) return sb_ds_fail(e, SB_DS_E_SCHEMA, file, line, 0, "field \"%s\" missing or not a scalar", field);
    long long g = -1;
    char *end;
    long long k = strtoll(s, &end, 10);
    if (end != s && !*end) g = k;
    else if (s[0] >= 'A' && s[0] <= 'Z' && !s[1]) g = s[0] - 'A';
    else {
        for (int i = 0; i < n; i++) if (!strcmp(s, choices[i])) g = i;
        if (g < 0) return sb_ds_fail(e, SB_DS_E_SCHEMA, file, line, 0, "field \"%s\": \"%s\" is none of the choices", field, s);
    }
    int st = sb_ds_check_label(g, n, field, file, line, e);
    if (!st) *gold = (int)g;
    return st;
}

static int load_user(sb_eval_task *t, const char *spec, const sb_eval_load_opts *o, char *err, size_t errlen)
{
    char e2[512];
    size_t len;
    char *txt = sb_read_file(spec, 1u << 20, &len, e2, sizeof e2);
    if (!txt) return fail(err, errlen, SB_DS_E_IO, "%s: %s", spec, e2);
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(txt, len + 1, &end, 1);
    if (!j || !cJSON_IsObject(j)) {
        long line = 1, col = 1;
        for (const char *p = txt; end && p < end; p++) { if (*p == '\n') { line++; col = 1; } else col++; }
        free(txt);
        cJSON_Delete(j);
        return fail(err, errlen, SB_DS_E_JSON, "%s:%ld:%ld: json error: task file is not a JSON object", spec, line, col);
    }
    free(txt);
    int st = 0;
    sb_ds_error e = {0};
    const char *name = NULL, *data = NULL, *format = "jsonl", *type = "multiple_choice", *prompt = NULL,
               *gold_f = NULL, *delim = " ", *ctx_t = NULL, *cont_t = NULL;
    const cJSON *choices = NULL, *metric = cJSON_GetObjectItemCaseSensitive(j, "metric");
    if ((st = sb_ds_get_string(j, "name", &name, spec, 0, &e)) || (st = sb_ds_get_string(j, "data", &data, spec, 0, &e)))
        goto out;
    if (cJSON_GetObjectItemCaseSensitive(j, "format") && (st = sb_ds_get_string(j, "format", &format, spec, 0, &e))) goto out;
    if (cJSON_GetObjectItemCaseSensitive(j, "type") && (st = sb_ds_get_string(j, "type", &type, spec, 0, &e))) goto out;
    if (cJSON_GetObjectItemCaseSensitive(j, "target_delimiter") &&
        (st = sb_ds_get_string(j, "target_delimiter", &delim, spec, 0, &e))) goto out;
    int is_mc = !strcmp(type, "multiple_choice"), is_ll = !strcmp(type, "loglikelihood");
    if (!is_mc && !is_ll) { st = sb_ds_fail(&e, SB_DS_E_SCHEMA, spec, 0, 0, "field \"type\" must be \"multiple_choice\" or \"loglikelihood\""); goto out; }
    if (strcmp(format, "jsonl") && strcmp(format, "csv")) { st = sb_ds_fail(&e, SB_DS_E_SCHEMA, spec, 0, 0, "field \"format\" must be \"jsonl\" or \"csv\""); goto out; }
    if (is_mc) {
        if ((st = sb_ds_get_string(j, "prompt", &prompt, spec, 0, &e)) || (st = sb_ds_get_string(j, "gold", &gold_f, spec, 0, &e))) goto out;
        choices = cJSON_GetObjectItemCaseSensitive(j, "choices");
        if (!cJSON_IsString(choices) && !(cJSON_IsArray(choices) && cJSON_GetArraySize(choices) >= 1)) {
            st = sb_ds_fail(&e, SB_DS_E_SCHEMA, spec, 0, 0, "field \"choices\" must name an array field or list the choice fields (or templates)");
            goto out;
        }
        t->kind = SB_EVAL_MC;
        t->has_acc_norm = 1;
    } else {
        if ((st = sb_ds_get_string(j, "context", &ctx_t, spec, 0, &e)) || (st = sb_ds_get_string(j, "continuation", &cont_t, spec, 0, &e))) goto out;
        t->kind = SB_EVAL_LOGLIK;
    }
    if (metric && cJSON_IsArray(metric)) {
        const cJSON *m;
        int norm = 0;
        cJSON_ArrayForEach(m, metric) if (cJSON_IsString(m) && !strcmp(m->valuestring, "acc_norm")) norm = 1;
        if (is_mc) t->has_acc_norm = norm;
    }
    snprintf(t->name, sizeof t->name, "%s", name);
    char path[4096];
    if (data[0] == '/') snprintf(path, sizeof path, "%s", data);
    else {
        const char *slash = strrchr(spec, '/');
        snprintf(path, sizeof path, "%.*s%s", slash ? (int)(slash - spec + 1) : 0, spec, data);
    }
    add_source(t, spec);
    add_source(t, path);
    size_t cap = 0;
    int csv = !strcmp(format, "csv");
    int header = 0;
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "csv_header");
    if (h) header = cJSON_IsTrue(h);
    sb_jsonl *jr = NULL;
    sb_csv *cr = NULL;
    char **hdr = NULL;
    int n_hdr = 0, rc;
    if (csv ? sb_csv_open(path, NULL, &cr, &e) : sb_jsonl_open(path, NULL, &jr, &e)) { st = e.code; goto out; }
    long idx = 0;
    for (;;) {
        cJSON *obj = NULL;
        const sb_csv_row *row = NULL;
        long line;
        if (csv) { rc = sb_csv_next(cr, &row, &e); line = row && rc == 1 ? row->line : 0; }
        else { rc = sb_jsonl_next(jr, &obj, &e); line = sb_jsonl_lineno(jr); }
        if (rc <= 0) { if (rc < 0) st = -rc; break; }
        if (csv && header && !hdr) {
            hdr = aalloc(t->arena, (size_t)row->n * sizeof *hdr);
            if (!hdr) { st = sb_ds_fail(&e, SB_DS_E_NOMEM, path, line, 0, "out of memory"); break; }
            for (int i = 0; i < row->n; i++) hdr[i] = astrdup(t->arena, row->field[i]);
            n_hdr = row->n;
            continue;
        }
        rec_view v = {.obj = obj, .row = row, .header = hdr, .n_header = n_hdr};
        char id[32];
        snprintf(id, sizeof id, "%ld", idx++);
        if (is_mc) {
            const char *ch[64];
            int n = 0;
            const char *ctx = expand(t->arena, prompt, &v, path, line, &e);
            if (!ctx) { st = e.code; cJSON_Delete(obj); break; }
            if (cJSON_IsString(choices)) {     /* an array field of the record (JSONL) */
                const cJSON *arr = NULL;
                if (!obj) st = sb_ds_fail(&e, SB_DS_E_SCHEMA, spec, 0, 0, "\"choices\" as an array field needs JSONL; list the columns for CSV");
                else if (!(st = sb_ds_get_array(obj, choices->valuestring, 1, &arr, path, line, &e))) {
                    const cJSON *c;
                    cJSON_ArrayForEach(c, arr) {
                        if (n == 64 || !cJSON_IsString(c)) { st = sb_ds_fail(&e, SB_DS_E_SCHEMA, path, line, 0, "field \"%s\": choices must be at most 64 strings", choices->valuestring); break; }
                        ch[n++] = c->valuestring;
                    }
                }
            } else {                            /* a list of templates ("{A}", "{option1}") or field names */
                const cJSON *c;
                cJSON_ArrayForEach(c, choices) {
                    if (n == 64 || !cJSON_IsString(c)) { st = sb_ds_fail(&e, SB_DS_E_SCHEMA, spec, 0, 0, "\"choices\" must list at most 64 strings"); break; }
                    char tmp[160];
                    const char *tpl = c->valuestring;
                    if (!strchr(tpl, '{')) { snprintf(tmp, sizeof tmp, "{%s}", tpl); tpl = tmp; }
                    if (!(ch[n++] = expand(t->arena, tpl, &v, path, line, &e))) { st = e.code; break; }
                }
            }
            int gold = -1;
            if (!st) st = n ? parse_gold(&v, gold_f, ch, n, path, line, &gold, &e)
                            : sb_ds_fail(&e, SB_DS_E_SCHEMA, path, line, 0, "empty choices");
            if (!st) {
                const char *conts[64];
                for (int i = 0; i < n; i++) conts[i] = ch[i];
                if (add_mc(t, &cap, id, ctx, conts, n, gold, -1)) st = sb_ds_fail(&e, SB_DS_E_NOMEM, path, line, 0, "out of memory");
                else if (strcmp(delim, " ")) /* a delimiter other than lm-eval's " " */
                    for (int i = 0; i < n; i++) t->items[t->n_items - 1].cont[i] = aprintf(t->arena, "%s%s", delim, ch[i]);
            }
        } else {
            sb_eval_item *it = new_item(t, &cap);
            if (!it) { st = sb_ds_fail(&e, SB_DS_E_NOMEM, path, line, 0, "out of memory"); cJSON_Delete(obj); break; }
            it->doc_id = astrdup(t->arena, id);
            it->n_choices = 1;
            it->ctx = aalloc(t->arena, sizeof *it->ctx);
            it->cont = aalloc(t->arena, sizeof *it->cont);
            it->gold = 0;
            if (!it->doc_id || !it->ctx || !it->cont) st = sb_ds_fail(&e, SB_DS_E_NOMEM, path, line, 0, "out of memory");
            else if (!(it->ctx[0] = expand(t->arena, ctx_t, &v, path, line, &e)) ||
                     !(it->cont[0] = expand(t->arena, cont_t, &v, path, line, &e))) st = e.code;
            else if (!it->cont[0][0]) st = sb_ds_fail(&e, SB_DS_E_SCHEMA, path, line, 0, "empty continuation");
        }
        cJSON_Delete(obj);
        if (st) break;
    }
    sb_jsonl_close(jr);
    sb_csv_close(cr);
    if (!st && t->n_items == 0) st = sb_ds_fail(&e, SB_DS_E_EMPTY, path, 0, 0, "no records (empty dataset)");
out:
    cJSON_Delete(j);
    if (st) return fail(err, errlen, st, "%s", e.msg[0] ? e.msg : "task file error");
    return 0;
}

/* ---------------------------------------------------------------- limit, load, free */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Keeps `limit` items per group (or overall): the first ones, or a seeded random subset kept in
 * dataset order. */
static int apply_limit(sb_eval_task *t, long limit, uint64_t seed)
{
    if (limit <= 0) return 0;
    int ng = t->n_groups > 0 ? t->n_groups : 1;
    char *keep = calloc(t->n_items ? t->n_items : 1, 1);
    size_t *idx = malloc((t->n_items ? t->n_items : 1) * sizeof *idx);
    if (!keep || !idx) { free(keep); free(idx); return -1; }
    for (int g = 0; g < ng; g++) {
        size_t m = 0;
        for (size_t i = 0; i < t->n_items; i++)
            if (t->n_groups == 0 || t->items[i].group == g) idx[m++] = i;
        if (seed) {
            uint64_t s = seed + (uint64_t)g;
            for (size_t i = m; i > 1; i--) {
                size_t j = (size_t)(splitmix(&s) % i);
                size_t tmp = idx[i - 1]; idx[i - 1] = idx[j]; idx[j] = tmp;
            }
        }
        for (size_t i = 0; i < m && i < (size_t)limit; i++) keep[idx[i]] = 1;
    }
    size_t k = 0;
    for (size_t i = 0; i < t->n_items; i++) if (keep[i]) t->items[k++] = t->items[i];
    t->n_items = k;
    free(keep);
    free(idx);
    return 0;
}

int sb_eval_task_load(const char *spec, const sb_eval_load_opts *o, sb_eval_task **out, char *err, size_t errlen)
{
    *out = NULL;
    sb_eval_load_opts dflt = {0};
    if (!o) o = &dflt;
    sb_eval_task *t = calloc(1, sizeof *t);
    if (!t || !(t->arena = calloc(1, sizeof *t->arena))) { free(t); return NOMEM(); }
    char name[64];
    int fewshot = o->fewshot;
    const char *colon = strrchr(spec, ':');
    size_t L = strlen(spec);
    int is_file = L > 5 && !strcmp(spec + L - 5, ".json");
    if (!is_file && colon) {
        char *end;
        long k = strtol(colon + 1, &end, 10);
        if (end == colon + 1 || *end || k < 0 || k > 64) {
            sb_eval_task_free(t);
            return fail(err, errlen, SB_DS_E_ARG, "task \"%s\": few-shot count after ':' must be 0..64", spec);
        }
        fewshot = (int)k;
        L = (size_t)(colon - spec);
    }
    snprintf(name, sizeof name, "%.*s", (int)(L < 63 ? L : 63), spec);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->kind = SB_EVAL_MC;
    t->fewshot = fewshot < 0 ? (!strcmp(name, "gsm8k") ? 5 : 0) : fewshot;
    int rc;
    if (is_file) { t->fewshot = 0; rc = load_user(t, spec, o, err, errlen); }
    else if (!strcmp(name, "hellaswag")) rc = load_hellaswag(t, o, err, errlen);
    else if (!strcmp(name, "arc_easy")) rc = load_arc(t, o, "arc/ARC-Easy-Test.jsonl", err, errlen);
    else if (!strcmp(name, "arc_challenge")) rc = load_arc(t, o, "arc/ARC-Challenge-Test.jsonl", err, errlen);
    else if (!strcmp(name, "piqa")) rc = load_piqa(t, o, err, errlen);
    else if (!strcmp(name, "winogrande")) rc = load_winogrande(t, o, err, errlen);
    else if (!strcmp(name, "boolq")) rc = load_boolq(t, o, err, errlen);
    else if (!strcmp(name, "mmlu")) rc = load_mmlu(t, o, err, errlen);
    else if (!strcmp(name, "lambada_openai")) { t->kind = SB_EVAL_LOGLIK; rc = load_lambada(t, o, err, errlen); }
    else if (!strcmp(name, "gsm8k")) { t->kind = SB_EVAL_GENERATE; rc = load_gsm8k(t, o, err, errlen); }
    else if (!strcmp(name, "wikitext2")) { t->kind = SB_EVAL_PERPLEXITY; rc = load_wikitext(t, o, err, errlen); }
    else rc = fail(err, errlen, SB_DS_E_ARG, "unknown task \"%s\" (built-in: hellaswag arc_easy arc_challenge piqa "
                   "winogrande mmlu boolq lambada_openai gsm8k wikitext2, or a task file *.json)", name);
    if (!rc && (t->fewshot > 0 && t->kind != SB_EVAL_GENERATE && strcmp(name, "mmlu")))
        rc = fail(err, errlen, SB_DS_E_ARG, "task \"%s\" is 0-shot only (few-shot: mmlu, gsm8k)", name);
    if (rc) { sb_eval_task_free(t); return rc; }
    snprintf(t->key, sizeof t->key, "%s@%d", t->name, t->fewshot);
    t->n_items_total = (int)t->n_items;
    t->limit = o->limit;
    if (apply_limit(t, o->limit, o->seed)) { sb_eval_task_free(t); return NOMEM(); }
    *out = t;
    return 0;
}

void sb_eval_task_free(sb_eval_task *t)
{
    if (!t) return;
    free(t->items);
    free(t->text);
    arena_free(t->arena);
    free(t);
}
