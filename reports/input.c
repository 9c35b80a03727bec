/* reports/input.c — loads the results documents, groups them by machine (normalized hardware
 * identity), collects the eval model entries, and reads the optional prices file. */
#include "reports/internal.h"

#include <ctype.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/results.h"

#define MAX_INPUT_BYTES ((size_t)256 << 20)

/* Reads and parses one JSON file; NULL + err (file and byte offset of a syntax error). */
static cJSON *load_json(const char *path, char *err, size_t errlen)
{
    size_t len = 0;
    char *text = sb_read_file(path, MAX_INPUT_BYTES, &len, err, errlen);
    if (!text) return NULL;
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!doc) {
        long off = end ? (long)(end - text) : -1;
        const char *e = cJSON_GetErrorPtr();
        if (off < 0 && e >= text && e <= text + len) off = (long)(e - text);
        snprintf(err, errlen, "%s: not valid JSON (error near byte %ld)", path, off);
    }
    free(text);
    return doc;
}

char *sb_rep_machine_key(const cJSON *m)
{
    const char *model = sb_rep_strv(m, "cpu.model");
    double cores = sb_rep_num(m, "cpu.cores");
    double ram = sb_rep_num(m, "memory.total_bytes");
    if (!model && isnan(cores) && isnan(ram)) return strdup("unknown machine");
    /* CPU model: drop (R)/(TM) marks, collapse white space, trim. */
    sbuf b = {0};
    const char *p = model ? model : "unknown CPU";
    int space = 0;
    while (*p) {
        if (!strncasecmp(p, "(r)", 3)) { p += 3; continue; }
        if (!strncasecmp(p, "(tm)", 4)) { p += 4; continue; }
        if (isspace((unsigned char)*p)) { space = 1; p++; continue; }
        if (space && b.len) sb_rep_puts(&b, " ");
        space = 0;
        sb_rep_putn(&b, p++, 1);
    }
    if (!isnan(cores)) sb_rep_printf(&b, " · %.0f cores", cores);
    if (!isnan(ram)) sb_rep_printf(&b, " · %.0f GiB", round(ram / 1073741824.0));
    if (b.oom) { sb_rep_buf_free(&b); return NULL; }
    return b.s;
}

int sb_rep_load_inputs(rep_ctx *c, char *err, size_t errlen)
{
    const sb_report_opts *o = c->opts;
    c->in = calloc((size_t)o->n_inputs, sizeof *c->in);
    c->machines = calloc((size_t)o->n_inputs, sizeof *c->machines);
    if (!c->in || !c->machines) { snprintf(err, errlen, "out of memory"); return -1; }
    for (int i = 0; i < o->n_inputs; i++) {
        rep_input *in = &c->in[c->n_in];
        in->path = o->inputs[i];
        in->doc = sb_results_load(in->path, err, errlen);
        if (!in->doc) return -1;
        c->n_in++;

        const cJSON *mobj = cJSON_GetObjectItemCaseSensitive(in->doc, "machine");
        if (!cJSON_IsObject(mobj)) mobj = NULL;
        char *key = sb_rep_machine_key(mobj);
        if (!key) { snprintf(err, errlen, "out of memory"); return -1; }
        int m = 0;
        while (m < c->n_machines && strcmp(c->machines[m].key, key)) m++;
        if (m == c->n_machines) {
            rep_machine *mm = &c->machines[c->n_machines++];
            mm->key = key;
            mm->obj = mobj;
            mm->tag = sb_rep_strf("M%d", m + 1);
            mm->label = sb_rep_strf("M%d: %s", m + 1, key);
            mm->price_usd = mm->watts = mm->usd_per_hour = NAN;
            if (!mm->tag || !mm->label) { snprintf(err, errlen, "out of memory"); return -1; }
        } else {
            free(key);
            if (!c->machines[m].obj) c->machines[m].obj = mobj;
        }
        rep_machine *mm = &c->machines[m];
        mm->n_inputs++;
        const cJSON *ceil = mobj ? cJSON_GetObjectItemCaseSensitive(mobj, "ceilings") : NULL;
        if (!mm->ceilings && cJSON_IsObject(ceil)) mm->ceilings = ceil;
        in->machine = m;
    }

    /* Model entries of every input's eval section. */
    for (int i = 0; i < c->n_in; i++) {
        const cJSON *models = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c->in[i].doc, "eval"), "models");
        const cJSON *e;
        if (!cJSON_IsArray(models)) continue;
        cJSON_ArrayForEach(e, models) {
            if (!cJSON_IsObject(e)) continue;
            rep_model *nm = realloc(c->models, (size_t)(c->n_models + 1) * sizeof *nm);
            if (!nm) { snprintf(err, errlen, "out of memory"); return -1; }
            c->models = nm;
            rep_model *md = &c->models[c->n_models++];
            md->obj = e;
            md->input = i;
            md->machine = c->in[i].machine;
            const char *name = sb_rep_strv(e, "name");
            const char *backend = sb_rep_strv(e, "backend");
            double thr = sb_rep_num(e, "threads");
            char thrs[32] = "";
            if (!isnan(thr)) snprintf(thrs, sizeof thrs, " %.0ft", thr);
            md->label = NULL;
            md->dup_of_file = NULL;
            md->short_label = NULL;
            /* The machine tag is appended later, once we know whether there are several. */
            md->label = sb_rep_strf("%s · %s%s", name ? name : "(unnamed)", backend ? backend : "?", thrs);
            if (!md->label) { snprintf(err, errlen, "out of memory"); return -1; }
        }
    }
    /* Two runs of one model on one machine (several inputs): tell them apart by file name. */
    for (int i = 0; i < c->n_models; i++) {
        int dup = 0;
        for (int j = 0; j < c->n_models; j++)
            dup |= j != i && c->models[j].machine == c->models[i].machine && !strcmp(c->models[j].label, c->models[i].label);
        if (!dup) continue;
        for (int j = i; j < c->n_models; j++) {
            if (c->models[j].machine != c->models[i].machine || (j != i && strcmp(c->models[j].label, c->models[i].label))) continue;
            const char *f = strrchr(c->in[c->models[j].input].path, '/');
            c->models[j].dup_of_file = f ? f + 1 : c->in[c->models[j].input].path;
        }
    }
    for (int i = 0; i < c->n_models; i++) {
        if (!c->models[i].dup_of_file) continue;
        char *l = sb_rep_strf("%s (%s)", c->models[i].label, c->models[i].dup_of_file);
        if (!l) { snprintf(err, errlen, "out of memory"); return -1; }
        free(c->models[i].label);
        c->models[i].label = l;
    }
    for (int i = 0; i < c->n_models; i++)
        if (!(c->models[i].short_label = strdup(c->models[i].label))) { snprintf(err, errlen, "out of memory"); return -1; }
    if (c->n_machines > 1) {
        for (int i = 0; i < c->n_models; i++) {
            char *l = sb_rep_strf("%s · %s", c->models[i].label, c->machines[c->models[i].machine].tag);
            if (!l) { snprintf(err, errlen, "out of memory"); return -1; }
            free(c->models[i].label);
            c->models[i].label = l;
        }
    }
    return 0;
}

/* Optional non-negative number member of a prices entry: NaN when absent, -1 on a bad value. */
static int price_num(const cJSON *e, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, key);
    *out = NAN;
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || isinf(v->valuedouble)) return -1;
    *out = v->valuedouble;
    return 0;
}

static int matches(const char *pattern, const char *s)
{
    return s && (!strcmp(pattern, s) || fnmatch(pattern, s, FNM_CASEFOLD) == 0);
}

int sb_rep_load_prices(rep_ctx *c, const char *path, char *err, size_t errlen)
{
    cJSON *doc = load_json(path, err, errlen);
    if (!doc) return -1;
    int rc = -1;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "machines");
    if (!cJSON_IsObject(doc) || !cJSON_IsArray(list)) {
        snprintf(err, errlen, "%s: not a prices file: expected {\"machines\": [ … ]} (see docs/reports.md)", path);
        goto out;
    }
    double kwh;
    if (price_num(doc, "usd_per_kwh", &kwh)) {
        snprintf(err, errlen, "%s: \"usd_per_kwh\" must be a non-negative number", path);
        goto out;
    }
    c->usd_per_kwh = kwh;
    int idx = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, list) {
        const char *pat = sb_rep_strv(e, "match");
        double price, watts, hourly;
        if (!cJSON_IsObject(e) || !pat || !*pat) {
            snprintf(err, errlen, "%s: machines[%d]: needs a non-empty \"match\" string", path, idx);
            goto out;
        }
        const char *bad = price_num(e, "price_usd", &price) ? "price_usd"
                        : price_num(e, "watts", &watts) ? "watts"
                        : price_num(e, "usd_per_hour", &hourly) ? "usd_per_hour" : NULL;
        if (bad) {
            snprintf(err, errlen, "%s: machines[%d]: \"%s\" must be a non-negative number", path, idx, bad);
            goto out;
        }
        const char *name = sb_rep_strv(e, "name");
        for (int m = 0; m < c->n_machines; m++) {
            rep_machine *mm = &c->machines[m];
            if (mm->price_name) continue; /* the first matching entry wins */
            if (matches(pat, sb_rep_strv(mm->obj, "host_id")) || matches(pat, sb_rep_strv(mm->obj, "hostname")) ||
                matches(pat, sb_rep_strv(mm->obj, "cpu.model")) || matches(pat, mm->key)) {
                mm->price_name = strdup(name ? name : pat);
                if (!mm->price_name) { snprintf(err, errlen, "out of memory"); goto out; }
                mm->price_usd = price;
                mm->watts = watts;
                mm->usd_per_hour = hourly;
                c->have_prices = 1;
            }
        }
        idx++;
    }
    rc = 0;
out:
    cJSON_Delete(doc);
    return rc;
}

void sb_rep_free_inputs(rep_ctx *c)
{
    for (int i = 0; i < c->n_in; i++) cJSON_Delete(c->in[i].doc);
    for (int i = 0; i < c->n_machines; i++) {
        free(c->machines[i].key);
        free(c->machines[i].label);
        free(c->machines[i].tag);
        free(c->machines[i].price_name);
    }
    for (int i = 0; i < c->n_models; i++) {
        free(c->models[i].label);
        free(c->models[i].short_label);
    }
    free(c->in);
    free(c->machines);
    free(c->models);
}
