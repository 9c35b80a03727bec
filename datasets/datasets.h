/* slmbench dataset loaders: streaming readers for the native formats of eval datasets.
 *
 * Depends on nothing of slmbench (only cJSON). Three readers, each one record at a time, each with
 * caps so a hostile file cannot make them read or allocate without bound (../shared/BAD_INPUTS.md
 * rows J1–J8 and C1–C5):
 *   - sb_lines: text lines (LF or CRLF; BOM skipped; last line may lack its newline), UTF-8 checked.
 *   - sb_jsonl: one JSON object per line (blank lines skipped), parsed with cJSON after a nesting
 *     depth pre-scan, plus typed field getters that fail with a schema error naming field and line.
 *   - sb_csv:   RFC 4180 CSV (quoted fields with commas, newlines and "" escapes; CRLF, LF or a mix;
 *     BOM skipped; fully empty lines skipped; every row must have the same number of fields).
 *
 * Every failure fills an sb_ds_error: a code (sb_ds_status), the file, a 1-based line and column
 * (0 when not meaningful) and a message "file:line:col: what". Readers never exit or abort.
 */
#ifndef SB_DATASETS_H
#define SB_DATASETS_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sb_ds_status {
    SB_DS_OK = 0,
    SB_DS_E_IO = 1,            /* cannot open or read the file                               */
    SB_DS_E_EMPTY = 2,         /* J1: no records at all                                      */
    SB_DS_E_ENCODING = 3,      /* J3/C5: invalid UTF-8, a NUL byte, or \u0000 in a string    */
    SB_DS_E_LINE_TOO_LONG = 4, /* J4: a line longer than the cap                             */
    SB_DS_E_JSON = 5,          /* J5: malformed JSON, trailing garbage, top level not object */
    SB_DS_E_SCHEMA = 6,        /* J6/J8: field missing or wrong type, label outside choices  */
    SB_DS_E_DEPTH = 7,         /* J7: nesting deeper than the cap                            */
    SB_DS_E_QUOTE = 8,         /* C2: unterminated or misplaced quote                        */
    SB_DS_E_RAGGED = 9,        /* C3: row with a different number of fields                  */
    SB_DS_E_FIELD_TOO_LONG = 10, /* C5: one field (or one row) over the cap                  */
    SB_DS_E_NOMEM = 11,
    SB_DS_E_ARG = 12,
} sb_ds_status;

typedef struct sb_ds_error {
    int code;                  /* sb_ds_status                                               */
    char file[256];
    long line, col;            /* 1-based; 0 = not applicable                                */
    char msg[640];             /* "file:line:col: <kind> error: message"                     */
} sb_ds_error;

/* Short stable name of a status ("encoding", "schema", ...). */
const char *sb_ds_status_str(int code);
/* Fills e (may be NULL) and returns code. msg is printf-style. */
int sb_ds_fail(sb_ds_error *e, int code, const char *file, long line, long col, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Default caps. */
#define SB_DS_DEFAULT_MAX_LINE   (4u << 20)  /* bytes of one JSONL/text line                 */
#define SB_DS_DEFAULT_MAX_DEPTH  64          /* JSON nesting (objects + arrays)              */
#define SB_DS_DEFAULT_MAX_FIELD  (1u << 20)  /* bytes of one CSV field                       */
#define SB_DS_DEFAULT_MAX_FIELDS 1024        /* fields of one CSV row                        */

/* Checks that s[0..n) is well-formed UTF-8 without NUL bytes (no overlongs, no surrogates,
 * nothing above U+10FFFF). Returns 0, or -1 with *bad_offset (may be NULL) = first bad byte. */
int sb_ds_utf8_valid(const char *s, size_t n, size_t *bad_offset);

/* ---------------------------------------------------------------- text lines */

typedef struct sb_lines sb_lines;

/* Opens path for reading lines of at most max_line bytes (0 = default). Skips a UTF-8 BOM. */
int sb_lines_open(const char *path, size_t max_line, sb_lines **out, sb_ds_error *err);
void sb_lines_close(sb_lines *r);
/* Next line without its terminator (LF or CRLF): returns 1 with *line (NUL-terminated, owned by
 * the reader, valid until the next call) and *len; 0 at end of file; <0 = -status on error
 * (line too long: reading stops at the cap; invalid UTF-8 or NUL: encoding error). */
int sb_lines_next(sb_lines *r, const char **line, size_t *len, sb_ds_error *err);
/* 1-based number of the line last returned. */
long sb_lines_lineno(const sb_lines *r);
const char *sb_lines_path(const sb_lines *r);

/* ---------------------------------------------------------------- JSONL */

typedef struct sb_jsonl sb_jsonl;

typedef struct sb_jsonl_opts {
    size_t max_line;           /* 0 = SB_DS_DEFAULT_MAX_LINE                                 */
    int max_depth;             /* 0 = SB_DS_DEFAULT_MAX_DEPTH                                */
} sb_jsonl_opts;

int sb_jsonl_open(const char *path, const sb_jsonl_opts *opts, sb_jsonl **out, sb_ds_error *err);
void sb_jsonl_close(sb_jsonl *r);
/* Next record: returns 1 with *obj (a JSON object the caller frees with cJSON_Delete), 0 at the
 * end (SB_DS_E_EMPTY error instead when the file had no record at all), <0 = -status on error.
 * Blank lines (only spaces, tabs, CR) are skipped. */
int sb_jsonl_next(sb_jsonl *r, cJSON **obj, sb_ds_error *err);
long sb_jsonl_lineno(const sb_jsonl *r);
const char *sb_jsonl_path(const sb_jsonl *r);

/* Typed field getters for a record read at `line` of `file` (for the message). They return 0,
 * or SB_DS_E_SCHEMA naming the field (a dotted path is accepted: "question.stem") and the line.
 * Strings are borrowed from obj. */
int sb_ds_get_string(const cJSON *obj, const char *field, const char **out, const char *file,
                     long line, sb_ds_error *err);
int sb_ds_get_int(const cJSON *obj, const char *field, long long *out, const char *file, long line,
                  sb_ds_error *err);
/* An array field with at least min_items elements. */
int sb_ds_get_array(const cJSON *obj, const char *field, int min_items, const cJSON **out,
                    const char *file, long line, sb_ds_error *err);
/* J8: gold must be an index into n_choices (>= 1 choices). */
int sb_ds_check_label(long long gold, int n_choices, const char *field, const char *file, long line,
                      sb_ds_error *err);

/* ---------------------------------------------------------------- CSV (RFC 4180) */

typedef struct sb_csv sb_csv;

typedef struct sb_csv_opts {
    size_t max_field;          /* bytes of one field; 0 = SB_DS_DEFAULT_MAX_FIELD            */
    int max_fields;            /* fields per row; 0 = SB_DS_DEFAULT_MAX_FIELDS               */
    int n_fields;              /* expected fields per row; 0 = whatever the first row has    */
} sb_csv_opts;

typedef struct sb_csv_row {
    int n;                     /* number of fields                                           */
    char **field;              /* n NUL-terminated fields, owned by the reader               */
    size_t *len;               /* byte length of each field                                  */
    long line;                 /* 1-based line where the row starts                          */
} sb_csv_row;

int sb_csv_open(const char *path, const sb_csv_opts *opts, sb_csv **out, sb_ds_error *err);
void sb_csv_close(sb_csv *r);
/* Next row: 1 with *row (valid until the next call), 0 at end (SB_DS_E_EMPTY when the file had no
 * row at all), <0 = -status on error. */
int sb_csv_next(sb_csv *r, const sb_csv_row **row, sb_ds_error *err);
const char *sb_csv_path(const sb_csv *r);

#ifdef __cplusplus
}
#endif
#endif
