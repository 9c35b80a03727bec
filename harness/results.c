/* Results JSON: creation, loading with a schema check, sections, atomic writes. */
#include "harness/results.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness/version.h"

#ifndef SB_GIT_DESCRIBE
#define SB_GIT_DESCRIBE "unknown"
#endif

void sb_iso8601_now(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

cJSON *sb_results_new(int argc, char **argv)
{
    cJSON *doc = cJSON_CreateObject();
    if (!doc) return NULL;
    cJSON_AddNumberToObject(doc, "schema_version", SB_RESULTS_SCHEMA_VERSION);
    cJSON *run = cJSON_AddObjectToObject(doc, "run");
    char when[32];
    sb_iso8601_now(when, sizeof when);
    cJSON_AddStringToObject(run, "time", when);
    size_t need = 1;
    for (int i = 0; i < argc; i++) need += strlen(argv[i]) + 1;
    char *cmd = calloc(1, need + 16);
    if (cmd) {
        strcpy(cmd, "slmbench");
        for (int i = 0; i < argc; i++) { strcat(cmd, " "); strcat(cmd, argv[i]); }
        cJSON_AddStringToObject(run, "command", cmd);
        free(cmd);
    }
    cJSON_AddStringToObject(run, "git", SB_GIT_DESCRIBE);
    cJSON_AddStringToObject(run, "version", SB_VERSION);
    return doc;
}

char *sb_read_file(const char *path, size_t max_bytes, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(err, errlen, "%s: %s", path, strerror(errno)); return NULL; }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        fclose(f);
        return NULL;
    }
    if ((uint64_t)st.st_size > max_bytes) {
        snprintf(err, errlen, "%s: %lld bytes is over the limit of %zu", path, (long long)st.st_size, max_bytes);
        fclose(f);
        return NULL;
    }
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf) { snprintf(err, errlen, "%s: out of memory", path); fclose(f); return NULL; }
    size_t got = fread(buf, 1, n, f);
    if (got != n || ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

cJSON *sb_results_load(const char *path, char *err, size_t errlen)
{
    size_t len;
    char *text = sb_read_file(path, (size_t)1 << 30, &len, err, errlen);
    if (!text) return NULL;
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!doc) {
        size_t off = end ? (size_t)(end - text) : 0;
        snprintf(err, errlen, "%s: not valid JSON (near byte %zu)", path, off);
        free(text);
        return NULL;
    }
    free(text);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "schema_version");
    if (!cJSON_IsObject(doc) || !cJSON_IsNumber(v)) {
        snprintf(err, errlen, "%s: not an slmbench results file (no schema_version)", path);
        cJSON_Delete(doc);
        return NULL;
    }
    if (v->valueint != SB_RESULTS_SCHEMA_VERSION) {
        snprintf(err, errlen, "%s: results schema version %d, this slmbench reads version %d",
                 path, v->valueint, SB_RESULTS_SCHEMA_VERSION);
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

cJSON *sb_results_section(cJSON *doc, const char *name)
{
    cJSON *s = cJSON_GetObjectItemCaseSensitive(doc, name);
    if (cJSON_IsObject(s)) return s;
    if (s) cJSON_DeleteItemFromObjectCaseSensitive(doc, name);
    return cJSON_AddObjectToObject(doc, name);
}

int sb_write_file_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    if (!tmp) { snprintf(err, errlen, "%s: out of memory", path); return -1; }
    snprintf(tmp, plen + 32, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
            close(fd); unlink(tmp); free(tmp);
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || fchmod(fd, 0644) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        close(fd); unlink(tmp); free(tmp);
        return -1;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp); free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

int sb_results_write(const cJSON *doc, const char *path, char *err, size_t errlen)
{
    char *text = cJSON_Print(doc);
    if (!text) { snprintf(err, errlen, "%s: out of memory serializing results", path); return -1; }
    size_t n = strlen(text);
    text[n] = '\n'; /* cJSON_Print allocates the NUL; reuse it for a final newline */
    int rc = sb_write_file_atomic(path, text, n + 1, err, errlen);
    free(text);
    return rc;
}
