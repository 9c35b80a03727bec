/* datasets/jsonl.c — JSON Lines reader: one object per line, checked before and after cJSON.
 *
 * Before cJSON sees a line we scan it once: nesting depth (cJSON recurses per level; its own limit
 * CJSON_NESTING_LIMIT is 1000, far above what a dataset needs, so we refuse at max_depth first and
 * say so with the column) and "\u0000" escapes, which cJSON would turn into a string cut short.
 * The line reader has already checked UTF-8 and the length cap. */
#include "datasets/datasets.h"

#include <stdlib.h>
#include <string.h>

struct sb_jsonl {
    sb_lines *lines;
    int max_depth;
    long n_records;
};

int sb_jsonl_open(const char *path, const sb_jsonl_opts *opts, sb_jsonl **out, sb_ds_error *err)
{
    *out = NULL;
    sb_jsonl *r = calloc(1, sizeof *r);
    if (!r) return sb_ds_fail(err, SB_DS_E_NOMEM, path, 0, 0, "out of memory");
    r->max_depth = opts && opts->max_depth > 0 ? opts->max_depth : SB_DS_DEFAULT_MAX_DEPTH;
    int rc = sb_lines_open(path, opts ? opts->max_line : 0, &r->lines, err);
    if (rc) { free(r); return rc; }
    *out = r;
    return SB_DS_OK;
}

void sb_jsonl_close(sb_jsonl *r)
{
    if (!r) return;
    sb_lines_close(r->lines);
    free(r);
}

long sb_jsonl_lineno(const sb_jsonl *r) { return r ? sb_lines_lineno(r->lines) : 0; }
const char *sb_jsonl_path(const sb_jsonl *r) { return r ? sb_lines_path(r->lines) : ""; }

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return 0;
    return 1;
}

/* Depth and \u0000 scan. Returns 0 or the status, with *col the 1-based column. */
static int prescan(const char *s, size_t n, int max_depth, long *col)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\') {
                if (i + 1 < n && s[i + 1] == 'u' && i + 5 < n && !memcmp(s + i + 2, "0000", 4)) {
                    *col = (long)i + 1;
                    return SB_DS_E_ENCODING;
                }
                i++; /* skip the escaped character */
            } else if (c == '"') {
                in_str = 0;
            }
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth) { *col = (long)i + 1; return SB_DS_E_DEPTH; }
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 0;
}

int sb_jsonl_next(sb_jsonl *r, cJSON **obj, sb_ds_error *err)
{
    if (!r || !obj) return -sb_ds_fail(err, SB_DS_E_ARG, "", 0, 0, "bad argument");
    *obj = NULL;
    const char *path = sb_lines_path(r->lines);
    for (;;) {
        const char *line;
        size_t len;
        int rc = sb_lines_next(r->lines, &line, &len, err);
        if (rc < 0) return rc;
        if (rc == 0) {
            if (r->n_records == 0)
                return -sb_ds_fail(err, SB_DS_E_EMPTY, path, 0, 0, "no records (empty dataset)");
            return 0;
        }
        if (is_blank(line, len)) continue;
        long lineno = sb_lines_lineno(r->lines), col = 0;
        int st = prescan(line, len, r->max_depth, &col);
        if (st == SB_DS_E_DEPTH)
            return -sb_ds_fail(err, st, path, lineno, col, "nesting deeper than %d levels", r->max_depth);
        if (st == SB_DS_E_ENCODING)
            return -sb_ds_fail(err, st, path, lineno, col, "\\u0000 (NUL) in a string");
        const char *end = NULL;
        /* length + 1: the NUL terminator must be in range for cJSON's trailing-garbage check. */
        cJSON *v = cJSON_ParseWithLengthOpts(line, len + 1, &end, 1);
        if (!v) {
            long c = end && end >= line ? (long)(end - line) + 1 : 1;
            return -sb_ds_fail(err, SB_DS_E_JSON, path, lineno, c, "malformed JSON or trailing garbage");
        }
        if (!cJSON_IsObject(v)) {
            cJSON_Delete(v);
            return -sb_ds_fail(err, SB_DS_E_JSON, path, lineno, 1, "top level is not an object");
        }
        r->n_records++;
        *obj = v;
        return 1;
    }
}

/* Looks up a dotted path ("question.stem"). */
static const cJSON *lookup(const cJSON *obj, const char *field)
{
    char part[128];
    const cJSON *cur = obj;
    const char *p = field;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof part) return NULL;
        memcpy(part, p, n);
        part[n] = 0;
        cur = cJSON_IsObject(cur) ? cJSON_GetObjectItemCaseSensitive(cur, part) : NULL;
        p += n + (dot ? 1 : 0);
    }
    return cur;
}

int sb_ds_get_string(const cJSON *obj, const char *field, const char **out, const char *file,
                     long line, sb_ds_error *err)
{
    const cJSON *v = lookup(obj, field);
    if (!v) return sb_ds_fail(err, SB_DS_E_SCHEMA, file, line, 0, "field \"%s\" missing", field);
    if (!cJSON_IsString(v) || !v->valuestring)
        return sb_ds_fail(err, SB_DS_E_SCHEMA, file, line, 0, "field \"%s\" is not a string", field);
    *out = v->valuestring;
    return 0;
}

int sb_ds_get_int(const cJSON *obj, const char *field, long long *out, const char *file, long line,
                  sb_ds_error *err)
{
    const cJSON *v = lookup(obj, field);
    if (!v) return sb_ds_fail(err, SB_DS_E_SCHEMA, file, line, 0, "field \"%s\" missing", field);
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long long)v->valuedouble || v->valuedouble > 9e15 ||
        v->valuedouble < -9e15)
        return sb_ds_fail(err, SB_DS_E_SCHEMA, file, line, 0, "field \"%s\" is not an integer", field);
    *out = (long long)v->valuedouble;
    return 0;
}

int sb_ds_get_array(const cJSON *obj, const char *field, int min_items, const cJSON **out,
                    const char *file, long line, sb_ds_error *err)
{
    const cJSON *v = lookup(obj, field);
    if (!v) return sb_ds_fail(err, SB_DS_E_SCHEMA, file, line, 0, "field \"%s\" missing", field);
    if (!cJSON_IsArray(v))
        return sb_ds_fail(err, SB_DS_E_SCHEMA, file, line, 0, "field \"%s\" is not an array", field);
    int n = cJSON_GetArraySize(v);
    if (n < min_items)
        return sb_ds_fail(err, SB_DS_E_SCHEMA, file, line, 0, "field \"%s\" has %d items, needs at least %d",
                          field, n, min_items);
    *out = v;
    return 0;
}

int sb_ds_check_label(long long gold, int n_choices, const char *field, const char *file, long line,
                      sb_ds_error *err)
{
    if (n_choices < 1)
        return sb_ds_fail(err, SB_DS_E_SCHEMA, file, line, 0, "empty choices");
    if (gold < 0 || gold >= n_choices)
        return sb_ds_fail(err, SB_DS_E_SCHEMA, file, line, 0, "field \"%s\": label %lld outside the %d choices",
                          field, gold, n_choices);
    return 0;
}
