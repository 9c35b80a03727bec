/* evals/samples.c — the per-item samples log: one JSON object per line, appended and fsync'd as
 * each item finishes, so a run killed at any point (SIGINT, SIGTERM, kill -9) keeps every finished
 * item; on resume the records are read back (a torn last line is cut off) and looked up by
 * (model, task, doc id). */
#include "evals/evals.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct slot { char *key; cJSON *rec; } slot;

struct sb_samples {
    int fd;
    char *path;
    slot *tab;                 /* open addressing, power-of-two size                         */
    size_t cap, n;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) { h ^= (unsigned char)*s; h *= 0x100000001b3ull; }
    return h;
}

static char *make_key(const char *model, const char *task, const char *doc)
{
    size_t n = strlen(model) + strlen(task) + strlen(doc) + 3;
    char *k = malloc(n);
    if (k) snprintf(k, n, "%s\x1f%s\x1f%s", model, task, doc);
    return k;
}

static int put(sb_samples *s, char *key, cJSON *rec)
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 1024;
        slot *t = calloc(nc, sizeof *t);
        if (!t) return -1;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->tab[i].key) continue;
            size_t h = (size_t)fnv1a(s->tab[i].key) & (nc - 1);
            while (t[h].key) h = (h + 1) & (nc - 1);
            t[h] = s->tab[i];
        }
        free(s->tab);
        s->tab = t;
        s->cap = nc;
    }
    size_t h = (size_t)fnv1a(key) & (s->cap - 1);
    while (s->tab[h].key) {
        if (!strcmp(s->tab[h].key, key)) {   /* a later line wins (cannot happen unless edited) */
            cJSON_Delete(s->tab[h].rec);
            free(s->tab[h].key);
            s->tab[h].key = key;
            s->tab[h].rec = rec;
            return 0;
        }
        h = (h + 1) & (s->cap - 1);
    }
    s->tab[h].key = key;
    s->tab[h].rec = rec;
    s->n++;
    return 0;
}

static int errf(char *err, size_t errlen, const char *path, const char *what)
{
    if (err && errlen) snprintf(err, errlen, "%s: %s: %s", path, what, strerror(errno));
    return -1;
}

/* Reads the existing records; cuts a torn (unterminated) last line off the file. */
static int load_existing(sb_samples *s, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(s->fd, &st)) return errf(err, errlen, s->path, "stat");
    if (st.st_size == 0) return 0;
    FILE *f = fopen(s->path, "rb");
    if (!f) return errf(err, errlen, s->path, "open");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    off_t good = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] != '\n') break;           /* torn by a kill during the write */
        good += len;
        cJSON *rec = cJSON_ParseWithLength(line, (size_t)len);
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(rec, "model");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(rec, "task");
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(rec, "doc_id");
        if (!cJSON_IsString(m) || !cJSON_IsString(t) || !cJSON_IsString(d)) { cJSON_Delete(rec); continue; }
        char *key = make_key(m->valuestring, t->valuestring, d->valuestring);
        if (!key || put(s, key, rec)) { free(key); cJSON_Delete(rec); free(line); fclose(f); errno = ENOMEM; return errf(err, errlen, s->path, "read"); }
    }
    free(line);
    fclose(f);
    if (good < st.st_size && ftruncate(s->fd, good)) return errf(err, errlen, s->path, "cutting a torn last line");
    return 0;
}

int sb_samples_open(const char *path, int resume, sb_samples **out, char *err, size_t errlen)
{
    *out = NULL;
    sb_samples *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) { free(s); if (err) snprintf(err, errlen, "out of memory"); return -1; }
    s->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | (resume ? 0 : O_TRUNC), 0644);
    if (s->fd < 0) { errf(err, errlen, path, "cannot open the samples file"); free(s->path); free(s); return -1; }
    if (resume && load_existing(s, err, errlen)) { sb_samples_close(s); return -1; }
    *out = s;
    return 0;
}

void sb_samples_close(sb_samples *s)
{
    if (!s) return;
    if (s->fd >= 0) close(s->fd);
    for (size_t i = 0; i < s->cap; i++) { free(s->tab[i].key); cJSON_Delete(s->tab[i].rec); }
    free(s->tab);
    free(s->path);
    free(s);
}

size_t sb_samples_count(const sb_samples *s) { return s ? s->n : 0; }

const cJSON *sb_samples_find(sb_samples *s, const char *model, const char *task_key, const char *doc_id)
{
    if (!s || !s->cap) return NULL;
    char *key = make_key(model, task_key, doc_id);
    if (!key) return NULL;
    size_t h = (size_t)fnv1a(key) & (s->cap - 1);
    const cJSON *r = NULL;
    while (s->tab[h].key) {
        if (!strcmp(s->tab[h].key, key)) { r = s->tab[h].rec; break; }
        h = (h + 1) & (s->cap - 1);
    }
    free(key);
    return r;
}

int sb_samples_append(sb_samples *s, const char *model, const char *task_key, cJSON *rec, char *err, size_t errlen)
{
    if (!s) return 0;
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "model");
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "task");
    cJSON_AddStringToObject(rec, "model", model);
    cJSON_AddStringToObject(rec, "task", task_key);
    char *txt = cJSON_PrintUnformatted(rec);
    if (!txt) { if (err) snprintf(err, errlen, "out of memory"); return -1; }
    size_t n = strlen(txt);
    txt[n] = '\n';                        /* replaces the NUL: written as one line, one write() */
    size_t off = 0;
    while (off < n + 1) {
        ssize_t w = write(s->fd, txt + off, n + 1 - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) { free(txt); return errf(err, errlen, s->path, "write"); }
        off += (size_t)w;
    }
    free(txt);
    if (fdatasync(s->fd)) return errf(err, errlen, s->path, "fsync");
    return 0;
}
