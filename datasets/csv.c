/* datasets/csv.c — RFC 4180 CSV reader, one row at a time.
 *
 * Fields may be quoted; a quoted field may hold commas, CR/LF and "" (an escaped quote). Rows end
 * with CRLF or LF (a file may mix them); a UTF-8 BOM at the start is skipped; a line with nothing
 * on it is skipped (files often end with an extra newline). Leniency: a '"' inside an unquoted field
 * is kept as data (as Python's csv does). Strictness: an unterminated quoted field, or anything but
 * a separator after a closing quote, is a quote error; a NUL byte or invalid UTF-8 is an encoding
 * error; a field over max_field bytes or a row over 4 × max_field bytes is a limit error; every row
 * must have as many fields as the first (or opts->n_fields). */
#include "datasets/datasets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sb_csv {
    FILE *f;
    char *path;
    size_t max_field, max_row;
    int max_fields, n_fields;
    long line;            /* physical line of the next byte (1-based)                          */
    long col;             /* column of the last byte read                                      */
    int at_start, failed;
    long n_rows;
    /* the row being built: bytes of all fields, each NUL-terminated, and their offsets */
    char *buf;
    size_t buf_len, buf_cap;
    size_t *off, *lens;
    char **fields;
    int cap_fields;
    sb_csv_row row;
};

int sb_csv_open(const char *path, const sb_csv_opts *opts, sb_csv **out, sb_ds_error *err)
{
    *out = NULL;
    if (!path) return sb_ds_fail(err, SB_DS_E_ARG, "", 0, 0, "no path");
    sb_csv *r = calloc(1, sizeof *r);
    if (!r) return sb_ds_fail(err, SB_DS_E_NOMEM, path, 0, 0, "out of memory");
    r->max_field = opts && opts->max_field ? opts->max_field : SB_DS_DEFAULT_MAX_FIELD;
    r->max_row = r->max_field * 4;
    r->max_fields = opts && opts->max_fields > 0 ? opts->max_fields : SB_DS_DEFAULT_MAX_FIELDS;
    r->n_fields = opts && opts->n_fields > 0 ? opts->n_fields : 0;
    r->path = strdup(path);
    if (!r->path) { free(r); return sb_ds_fail(err, SB_DS_E_NOMEM, path, 0, 0, "out of memory"); }
    r->f = fopen(path, "rb");
    if (!r->f) {
        int e = errno;
        sb_csv_close(r);
        return sb_ds_fail(err, SB_DS_E_IO, path, 0, 0, "cannot open: %s", strerror(e));
    }
    r->line = 1;
    r->at_start = 1;
    *out = r;
    return SB_DS_OK;
}

void sb_csv_close(sb_csv *r)
{
    if (!r) return;
    if (r->f) fclose(r->f);
    free(r->path);
    free(r->buf);
    free(r->off);
    free(r->lens);
    free(r->fields);
    free(r);
}

const char *sb_csv_path(const sb_csv *r) { return r ? r->path : ""; }

static int put_byte(sb_csv *r, char c)
{
    if (r->buf_len + 1 >= r->buf_cap) {
        size_t cap = r->buf_cap ? r->buf_cap * 2 : 4096;
        char *b = realloc(r->buf, cap);
        if (!b) return -1;
        r->buf = b;
        r->buf_cap = cap;
    }
    r->buf[r->buf_len++] = c;
    return 0;
}

/* Starts field number n at the current end of the buffer. */
static int start_field(sb_csv *r, int n)
{
    if (n >= r->cap_fields) {
        int cap = r->cap_fields ? r->cap_fields * 2 : 16;
        size_t *o = realloc(r->off, (size_t)cap * sizeof *o);
        if (!o) return -1;
        r->off = o;
        size_t *l = realloc(r->lens, (size_t)cap * sizeof *l);
        if (!l) return -1;
        r->lens = l;
        char **f = realloc(r->fields, (size_t)cap * sizeof *f);
        if (!f) return -1;
        r->fields = f;
        r->cap_fields = cap;
    }
    r->off[n] = r->buf_len;
    return 0;
}

static int rd(sb_csv *r)
{
    int c = getc_unlocked(r->f);
    if (c != EOF) r->col++;
    return c;
}

enum { ST_START, ST_UNQUOTED, ST_QUOTED, ST_QUOTE_SEEN };

int sb_csv_next(sb_csv *r, const sb_csv_row **row, sb_ds_error *err)
{
    if (!r || !row) return -sb_ds_fail(err, SB_DS_E_ARG, "", 0, 0, "bad argument");
    if (r->failed) return -sb_ds_fail(err, r->failed, r->path, r->line, 0, "reader stopped after an earlier error");
    if (r->at_start) {
        r->at_start = 0;
        int a = getc_unlocked(r->f), b = EOF, c = EOF;
        if (a == 0xEF) { b = getc_unlocked(r->f); if (b == 0xBB) c = getc_unlocked(r->f); }
        if (!(a == 0xEF && b == 0xBB && c == 0xBF)) {
            /* not a BOM: push back what was read (at most 3 bytes; ungetc guarantees one, so reopen) */
            if (a != EOF) {
                if (fseek(r->f, 0, SEEK_SET)) { r->failed = SB_DS_E_IO; return -sb_ds_fail(err, SB_DS_E_IO, r->path, 1, 0, "seek failed"); }
            }
        }
    }
    for (;;) {
        int n = 0, st = ST_START, c;
        long row_line = r->line, quote_line = 0, quote_col = 0;
        size_t field_start_len;
        int any = 0;  /* anything on this row at all (a quoted empty field counts) */
        r->buf_len = 0;
        if (start_field(r, 0)) goto nomem;
        field_start_len = 0;
        for (;;) {
            c = rd(r);
            if (c == 0) {
                r->failed = SB_DS_E_ENCODING;
                return -sb_ds_fail(err, SB_DS_E_ENCODING, r->path, r->line, r->col, "NUL byte");
            }
            if (c == EOF && ferror(r->f)) {
                r->failed = SB_DS_E_IO;
                return -sb_ds_fail(err, SB_DS_E_IO, r->path, r->line, 0, "read error");
            }
            int end_field = 0, end_row = 0;
            if (st == ST_QUOTED) {
                if (c == EOF) {
                    r->failed = SB_DS_E_QUOTE;
                    return -sb_ds_fail(err, SB_DS_E_QUOTE, r->path, quote_line, quote_col,
                                       "unterminated quoted field (opened here, end of file reached)");
                }
                if (c == '"') { st = ST_QUOTE_SEEN; continue; }
                if (c == '\n') { r->line++; r->col = 0; }
                if (put_byte(r, (char)c)) goto nomem;
            } else {
                if (c == '\r') {
                    int d = getc_unlocked(r->f);
                    if (d == '\n') c = '\n';
                    else if (d != EOF) ungetc(d, r->f);
                }
                if (c == EOF || c == '\n') {
                    if (c == '\n') { r->line++; r->col = 0; }
                    end_field = end_row = 1;
                } else if (c == ',') {
                    end_field = 1;
                    any = 1;
                } else if (st == ST_QUOTE_SEEN) {
                    if (c == '"') { if (put_byte(r, '"')) goto nomem; st = ST_QUOTED; continue; }
                    r->failed = SB_DS_E_QUOTE;
                    return -sb_ds_fail(err, SB_DS_E_QUOTE, r->path, r->line, r->col,
                                       "unexpected character after a closing quote");
                } else if (st == ST_START && c == '"') {
                    st = ST_QUOTED;
                    any = 1;
                    quote_line = r->line;
                    quote_col = r->col;
                    continue;
                } else {
                    st = ST_UNQUOTED;
                    any = 1;
                    if (put_byte(r, (char)c)) goto nomem;
                }
            }
            if (r->buf_len - field_start_len > r->max_field) {
                r->failed = SB_DS_E_FIELD_TOO_LONG;
                return -sb_ds_fail(err, SB_DS_E_FIELD_TOO_LONG, r->path, r->line, r->col,
                                   "field %d longer than the cap of %zu bytes", n + 1, r->max_field);
            }
            if (r->buf_len > r->max_row) {
                r->failed = SB_DS_E_FIELD_TOO_LONG;
                return -sb_ds_fail(err, SB_DS_E_FIELD_TOO_LONG, r->path, r->line, r->col,
                                   "row longer than the cap of %zu bytes", r->max_row);
            }
            if (end_field) {
                r->lens[n] = r->buf_len - r->off[n];
                if (put_byte(r, 0)) goto nomem;
                n++;
                if (!end_row) {
                    if (n >= r->max_fields) {
                        r->failed = SB_DS_E_FIELD_TOO_LONG;
                        return -sb_ds_fail(err, SB_DS_E_FIELD_TOO_LONG, r->path, r->line, r->col,
                                           "more than %d fields in a row", r->max_fields);
                    }
                    if (start_field(r, n)) goto nomem;
                    field_start_len = r->buf_len;
                    st = ST_START;
                }
            }
            if (end_row) break;
        }
        if (!any) {                      /* an empty line, or the end of the file */
            if (c == EOF) {
                if (r->n_rows == 0) return -sb_ds_fail(err, SB_DS_E_EMPTY, r->path, 0, 0, "no rows (empty dataset)");
                return 0;
            }
            continue;
        }
        for (int i = 0; i < n; i++) {
            size_t bad;
            r->fields[i] = r->buf + r->off[i];
            if (sb_ds_utf8_valid(r->fields[i], r->lens[i], &bad)) {
                r->failed = SB_DS_E_ENCODING;
                return -sb_ds_fail(err, SB_DS_E_ENCODING, r->path, row_line, 0,
                                   "invalid UTF-8 in field %d of the row", i + 1);
            }
        }
        if (r->n_fields == 0) r->n_fields = n;
        if (n != r->n_fields) {
            r->failed = SB_DS_E_RAGGED;
            return -sb_ds_fail(err, SB_DS_E_RAGGED, r->path, row_line, 0, "row has %d fields, expected %d",
                               n, r->n_fields);
        }
        r->n_rows++;
        r->row.n = n;
        r->row.field = r->fields;
        r->row.len = r->lens;
        r->row.line = row_line;
        *row = &r->row;
        return 1;
    }
nomem:
    r->failed = SB_DS_E_NOMEM;
    return -sb_ds_fail(err, SB_DS_E_NOMEM, r->path, r->line, 0, "out of memory");
}
