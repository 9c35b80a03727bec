/* datasets/common.c — errors, UTF-8 validation and the capped line reader shared by the loaders. */
#include "datasets/datasets.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sb_ds_status_str(int code)
{
    switch (code) {
    case SB_DS_OK: return "ok";
    case SB_DS_E_IO: return "io";
    case SB_DS_E_EMPTY: return "empty dataset";
    case SB_DS_E_ENCODING: return "encoding";
    case SB_DS_E_LINE_TOO_LONG: return "line too long";
    case SB_DS_E_JSON: return "json";
    case SB_DS_E_SCHEMA: return "schema";
    case SB_DS_E_DEPTH: return "depth";
    case SB_DS_E_QUOTE: return "quote";
    case SB_DS_E_RAGGED: return "ragged row";
    case SB_DS_E_FIELD_TOO_LONG: return "field too long";
    case SB_DS_E_NOMEM: return "out of memory";
    case SB_DS_E_ARG: return "bad argument";
    default: return "?";
    }
}

int sb_ds_fail(sb_ds_error *e, int code, const char *file, long line, long col, const char *fmt, ...)
{
    if (!e) return code;
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    e->code = code;
    snprintf(e->file, sizeof e->file, "%s", file ? file : "");
    e->line = line;
    e->col = col;
    if (line > 0 && col > 0)
        snprintf(e->msg, sizeof e->msg, "%s:%ld:%ld: %s error: %s", e->file, line, col, sb_ds_status_str(code), what);
    else if (line > 0)
        snprintf(e->msg, sizeof e->msg, "%s:%ld: %s error: %s", e->file, line, sb_ds_status_str(code), what);
    else
        snprintf(e->msg, sizeof e->msg, "%s: %s error: %s", e->file, sb_ds_status_str(code), what);
    return code;
}

int sb_ds_utf8_valid(const char *s, size_t n, size_t *bad_offset)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t need;
        unsigned cp, min;
        if (c == 0) goto bad;
        if (c < 0x80) { i++; continue; }
        if ((c & 0xE0) == 0xC0) { need = 1; cp = c & 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { need = 2; cp = c & 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { need = 3; cp = c & 0x07; min = 0x10000; }
        else goto bad;
        if (n - i <= need) goto bad;
        for (size_t k = 1; k <= need; k++) {
            if ((p[i + k] & 0xC0) != 0x80) goto bad;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) goto bad;
        i += need + 1;
    }
    return 0;
bad:
    if (bad_offset) *bad_offset = i;
    return -1;
}

/* ---------------------------------------------------------------- line reader */

struct sb_lines {
    FILE *f;
    char *path;
    char *buf;        /* max_line + 1 bytes                                                  */
    size_t max_line;
    long lineno;
    int failed;       /* an error stops the reader: the position in the file is unknown    */
    int at_start;
};

int sb_lines_open(const char *path, size_t max_line, sb_lines **out, sb_ds_error *err)
{
    *out = NULL;
    if (!path) return sb_ds_fail(err, SB_DS_E_ARG, "", 0, 0, "no path");
    if (max_line == 0) max_line = SB_DS_DEFAULT_MAX_LINE;
    sb_lines *r = calloc(1, sizeof *r);
    if (!r) return sb_ds_fail(err, SB_DS_E_NOMEM, path, 0, 0, "out of memory");
    r->path = strdup(path);
    r->max_line = max_line;
    r->buf = malloc(max_line + 1);
    if (!r->path || !r->buf) { sb_lines_close(r); return sb_ds_fail(err, SB_DS_E_NOMEM, path, 0, 0, "out of memory"); }
    r->f = fopen(path, "rb");
    if (!r->f) {
        int e = errno;
        sb_lines_close(r);
        return sb_ds_fail(err, SB_DS_E_IO, path, 0, 0, "cannot open: %s", strerror(e));
    }
    r->at_start = 1;
    *out = r;
    return SB_DS_OK;
}

void sb_lines_close(sb_lines *r)
{
    if (!r) return;
    if (r->f) fclose(r->f);
    free(r->buf);
    free(r->path);
    free(r);
}

long sb_lines_lineno(const sb_lines *r) { return r ? r->lineno : 0; }
const char *sb_lines_path(const sb_lines *r) { return r ? r->path : ""; }

int sb_lines_next(sb_lines *r, const char **line, size_t *len, sb_ds_error *err)
{
    if (!r || !line || !len) return -sb_ds_fail(err, SB_DS_E_ARG, "", 0, 0, "bad argument");
    if (r->failed) return -sb_ds_fail(err, r->failed, r->path, r->lineno, 0, "reader stopped after an earlier error");
    size_t n = 0;
    int c = 0, got = 0;
    while ((c = getc_unlocked(r->f)) != EOF) {
        got = 1;
        if (c == '\n') break;
        if (n == r->max_line) {
            r->failed = SB_DS_E_LINE_TOO_LONG;
            return -sb_ds_fail(err, SB_DS_E_LINE_TOO_LONG, r->path, r->lineno + 1, (long)n + 1,
                               "line longer than the cap of %zu bytes", r->max_line);
        }
        r->buf[n++] = (char)c;
    }
    if (ferror(r->f)) {
        r->failed = SB_DS_E_IO;
        return -sb_ds_fail(err, SB_DS_E_IO, r->path, r->lineno + 1, 0, "read error");
    }
    if (!got) return 0;
    r->lineno++;
    if (n > 0 && r->buf[n - 1] == '\r') n--;
    r->buf[n] = 0;
    const char *p = r->buf;
    if (r->at_start) {
        r->at_start = 0;
        if (n >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF) {
            p += 3;
            n -= 3;
        }
    }
    size_t bad;
    if (sb_ds_utf8_valid(p, n, &bad)) {
        r->failed = SB_DS_E_ENCODING;
        if (p[bad] == 0)
            return -sb_ds_fail(err, SB_DS_E_ENCODING, r->path, r->lineno, (long)bad + 1, "NUL byte");
        return -sb_ds_fail(err, SB_DS_E_ENCODING, r->path, r->lineno, (long)bad + 1,
                           "invalid UTF-8 (byte 0x%02x)", (unsigned char)p[bad]);
    }
    *line = p;
    *len = n;
    return 1;
}
