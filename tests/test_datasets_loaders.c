/* Dataset loaders against every bad-input row J1–J8 and C1–C5 of ../shared/BAD_INPUTS.md, with
 * the exact error code, line and column; and the real MMLU CSVs (CRLF, quoted newlines). */
#include <dirent.h>
#include <stdlib.h>

#include "datasets/datasets.h"
#include "tests/test.h"

static const char *write_tmp(const char *name, const char *data, size_t len)
{
    static char path[8][512];
    static int slot;
    char *p = path[slot++ % 8];
    snprintf(p, 512, "%s/%s", test_tmpdir(), name);
    FILE *f = fopen(p, "wb");
    if (!f) return p;
    fwrite(data, 1, len, f);
    fclose(f);
    return p;
}
#define WRITE(name, lit) write_tmp(name, lit, sizeof(lit) - 1)

/* Reads every record; returns 0 on clean end, else the error code; *n = records read. */
static int read_jsonl(const char *path, const sb_jsonl_opts *o, int *n, sb_ds_error *e)
{
    sb_jsonl *r;
    *n = 0;
    memset(e, 0, sizeof *e);
    int rc = sb_jsonl_open(path, o, &r, e);
    if (rc) return rc;
    cJSON *obj;
    while ((rc = sb_jsonl_next(r, &obj, e)) == 1) { (*n)++; cJSON_Delete(obj); }
    sb_jsonl_close(r);
    return rc < 0 ? -rc : 0;
}

static int read_csv(const char *path, const sb_csv_opts *o, int *n, sb_ds_error *e)
{
    sb_csv *r;
    *n = 0;
    memset(e, 0, sizeof *e);
    int rc = sb_csv_open(path, o, &r, e);
    if (rc) return rc;
    const sb_csv_row *row;
    while ((rc = sb_csv_next(r, &row, e)) == 1) (*n)++;
    sb_csv_close(r);
    return rc < 0 ? -rc : 0;
}

static void test_j1_empty_file(void)
{
    int n; sb_ds_error e;
    CHECK_EQ_INT(read_jsonl(WRITE("j1.jsonl", ""), NULL, &n, &e), SB_DS_E_EMPTY);
    CHECK(strstr(e.msg, "j1.jsonl") != NULL);
    /* only blank lines is empty too */
    CHECK_EQ_INT(read_jsonl(WRITE("j1b.jsonl", "\n  \r\n\n"), NULL, &n, &e), SB_DS_E_EMPTY);
}

static void test_j2_blank_crlf_bom_no_final_newline(void)
{
    int n; sb_ds_error e;
    const char *p = WRITE("j2.jsonl", "\xEF\xBB\xBF{\"a\":1}\r\n\r\n\n{\"a\":2}\n   \n{\"a\":3}");
    CHECK_EQ_INT(read_jsonl(p, NULL, &n, &e), 0);
    CHECK_EQ_INT(n, 3);
    sb_jsonl *r;
    cJSON *o;
    CHECK_EQ_INT(sb_jsonl_open(p, NULL, &r, &e), 0);
    CHECK_EQ_INT(sb_jsonl_next(r, &o, &e), 1);
    CHECK_EQ_INT(sb_jsonl_lineno(r), 1);
    cJSON_Delete(o);
    CHECK_EQ_INT(sb_jsonl_next(r, &o, &e), 1);
    CHECK_EQ_INT(sb_jsonl_lineno(r), 4);
    long long v = 0;
    CHECK_EQ_INT(sb_ds_get_int(o, "a", &v, p, 4, &e), 0);
    CHECK_EQ_INT(v, 2);
    cJSON_Delete(o);
    sb_jsonl_close(r);
}

static void test_j3_invalid_utf8_and_nul_escape(void)
{
    int n; sb_ds_error e;
    CHECK_EQ_INT(read_jsonl(WRITE("j3a.jsonl", "{\"a\":\"ok\"}\n{\"a\":\"x\xC3\x28\"}\n"), NULL, &n, &e), SB_DS_E_ENCODING);
    CHECK_EQ_INT(e.line, 2);
    CHECK_EQ_INT(e.col, 8);
    CHECK_EQ_INT(read_jsonl(WRITE("j3b.jsonl", "{\"a\":\"\xED\xA0\x80\"}\n"), NULL, &n, &e), SB_DS_E_ENCODING); /* surrogate */
    CHECK_EQ_INT(read_jsonl(WRITE("j3c.jsonl", "{\"a\":\"\xC0\xAF\"}\n"), NULL, &n, &e), SB_DS_E_ENCODING);     /* overlong */
    CHECK_EQ_INT(read_jsonl(WRITE("j3d.jsonl", "{\"a\":1}\n{\"a\":\"b\\u0000c\"}\n"), NULL, &n, &e), SB_DS_E_ENCODING);
    CHECK_EQ_INT(e.line, 2);
    CHECK_EQ_INT(e.col, 8);
    /* a raw NUL byte */
    CHECK_EQ_INT(read_jsonl(write_tmp("j3e.jsonl", "{\"a\":\"b\0c\"}\n", 12), NULL, &n, &e), SB_DS_E_ENCODING);
    /* an escaped backslash followed by u0000 text is fine */
    CHECK_EQ_INT(read_jsonl(WRITE("j3f.jsonl", "{\"a\":\"b\\\\u0000c\"}\n"), NULL, &n, &e), 0);
}

static void test_j4_line_over_cap(void)
{
    size_t len = 100000;
    char *big = malloc(len + 16);
    memcpy(big, "{\"a\":\"", 6);
    memset(big + 6, 'x', len);
    memcpy(big + 6 + len, "\"}\n", 3);
    const char *p = write_tmp("j4.jsonl", big, len + 9);
    free(big);
    sb_jsonl_opts o = {.max_line = 4096};
    int n; sb_ds_error e;
    CHECK_EQ_INT(read_jsonl(p, &o, &n, &e), SB_DS_E_LINE_TOO_LONG);
    CHECK_EQ_INT(e.line, 1);
    CHECK_EQ_INT(e.col, 4097);
    /* the default cap accepts it */
    CHECK_EQ_INT(read_jsonl(p, NULL, &n, &e), 0);
}

static void test_j5_malformed_trailing_nonobject(void)
{
    int n; sb_ds_error e;
    CHECK_EQ_INT(read_jsonl(WRITE("j5a.jsonl", "{\"a\":1}\n{\"a\":,}\n"), NULL, &n, &e), SB_DS_E_JSON);
    CHECK_EQ_INT(e.line, 2);
    CHECK_EQ_INT(e.col, 6);
    CHECK(strstr(e.msg, "j5a.jsonl:2:6") != NULL);
    CHECK_EQ_INT(read_jsonl(WRITE("j5b.jsonl", "{\"a\":1} xyz\n"), NULL, &n, &e), SB_DS_E_JSON);
    CHECK_EQ_INT(e.line, 1);
    CHECK_EQ_INT(e.col, 9); /* the x */
    CHECK_EQ_INT(read_jsonl(WRITE("j5c.jsonl", "[1,2]\n"), NULL, &n, &e), SB_DS_E_JSON);
    CHECK_EQ_INT(read_jsonl(WRITE("j5d.jsonl", "\"str\"\n"), NULL, &n, &e), SB_DS_E_JSON);
    CHECK_EQ_INT(read_jsonl(WRITE("j5e.jsonl", "{\"a\":1\n"), NULL, &n, &e), SB_DS_E_JSON);
    CHECK_EQ_INT(read_jsonl(WRITE("j5f.jsonl", "{\"a\":1}{\"b\":2}\n"), NULL, &n, &e), SB_DS_E_JSON);
}

static void test_j6_missing_or_wrong_type_field(void)
{
    sb_ds_error e;
    cJSON *o = cJSON_Parse("{\"question\":{\"stem\":\"why\"},\"n\":\"3\",\"choices\":\"x\"}");
    const char *s;
    long long v;
    const cJSON *arr;
    CHECK_EQ_INT(sb_ds_get_string(o, "question.stem", &s, "f.jsonl", 7, &e), 0);
    CHECK_STR(s, "why");
    CHECK_EQ_INT(sb_ds_get_string(o, "answerKey", &s, "f.jsonl", 7, &e), SB_DS_E_SCHEMA);
    CHECK(strstr(e.msg, "answerKey") && strstr(e.msg, "f.jsonl:7"));
    CHECK_EQ_INT(e.line, 7);
    CHECK_EQ_INT(sb_ds_get_int(o, "n", &v, "f.jsonl", 7, &e), SB_DS_E_SCHEMA);
    CHECK(strstr(e.msg, "\"n\"") && strstr(e.msg, "not an integer"));
    CHECK_EQ_INT(sb_ds_get_array(o, "choices", 1, &arr, "f.jsonl", 7, &e), SB_DS_E_SCHEMA);
    CHECK(strstr(e.msg, "choices") && strstr(e.msg, "not an array"));
    CHECK_EQ_INT(sb_ds_get_string(o, "question.stem.x", &s, "f.jsonl", 7, &e), SB_DS_E_SCHEMA);
    cJSON_Delete(o);
}

static void test_j7_deep_nesting(void)
{
    size_t depth = 100000;
    char *buf = malloc(2 * depth + 16);
    size_t k = 0;
    buf[k++] = '{'; memcpy(buf + k, "\"a\":", 4); k += 4;
    for (size_t i = 0; i < depth; i++) buf[k++] = '[';
    for (size_t i = 0; i < depth; i++) buf[k++] = ']';
    buf[k++] = '}'; buf[k++] = '\n';
    const char *p = write_tmp("j7.jsonl", buf, k);
    free(buf);
    int n; sb_ds_error e;
    CHECK_EQ_INT(read_jsonl(p, NULL, &n, &e), SB_DS_E_DEPTH);
    CHECK_EQ_INT(e.line, 1);
    CHECK_EQ_INT(e.col, 5 + SB_DS_DEFAULT_MAX_DEPTH);
    /* brackets inside strings do not count */
    CHECK_EQ_INT(read_jsonl(WRITE("j7b.jsonl", "{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}\n"),
                            NULL, &n, &e), 0);
}

static void test_j8_label_outside_choices(void)
{
    sb_ds_error e;
    CHECK_EQ_INT(sb_ds_check_label(2, 2, "answer", "w.jsonl", 3, &e), SB_DS_E_SCHEMA);
    CHECK(strstr(e.msg, "outside") && strstr(e.msg, "w.jsonl:3"));
    CHECK_EQ_INT(sb_ds_check_label(-1, 4, "answer", "w.jsonl", 3, &e), SB_DS_E_SCHEMA);
    CHECK_EQ_INT(sb_ds_check_label(0, 0, "answer", "w.jsonl", 3, &e), SB_DS_E_SCHEMA);
    CHECK(strstr(e.msg, "empty choices") != NULL);
    CHECK_EQ_INT(sb_ds_check_label(3, 4, "answer", "w.jsonl", 3, &e), 0);
}

static void test_c1_quoted_commas_newlines_quotes(void)
{
    const char *p = WRITE("c1.csv", "\"a, b\",\"line1\nline2\",\"say \"\"hi\"\"\"\nx,,\"\"\n");
    sb_csv *r; sb_ds_error e; const sb_csv_row *row;
    CHECK_EQ_INT(sb_csv_open(p, NULL, &r, &e), 0);
    CHECK_EQ_INT(sb_csv_next(r, &row, &e), 1);
    CHECK_EQ_INT(row->n, 3);
    CHECK_STR(row->field[0], "a, b");
    CHECK_STR(row->field[1], "line1\nline2");
    CHECK_STR(row->field[2], "say \"hi\"");
    CHECK_EQ_INT(row->line, 1);
    CHECK_EQ_INT(sb_csv_next(r, &row, &e), 1);
    CHECK_EQ_INT(row->n, 3);
    CHECK_STR(row->field[0], "x");
    CHECK_STR(row->field[1], "");
    CHECK_STR(row->field[2], "");
    CHECK_EQ_INT(row->line, 3);
    CHECK_EQ_INT(sb_csv_next(r, &row, &e), 0);
    sb_csv_close(r);
}

static void test_c2_unterminated_quote(void)
{
    int n; sb_ds_error e;
    CHECK_EQ_INT(read_csv(WRITE("c2.csv", "a,b\nc,\"d\ne,f\n"), NULL, &n, &e), SB_DS_E_QUOTE);
    CHECK_EQ_INT(e.line, 2);
    CHECK_EQ_INT(e.col, 3);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(read_csv(WRITE("c2b.csv", "\"a\"x,b\n"), NULL, &n, &e), SB_DS_E_QUOTE);
}

static void test_c3_ragged_row(void)
{
    int n; sb_ds_error e;
    CHECK_EQ_INT(read_csv(WRITE("c3.csv", "a,b,c\n1,2,3\n4,5\n"), NULL, &n, &e), SB_DS_E_RAGGED);
    CHECK_EQ_INT(e.line, 3);
    CHECK(strstr(e.msg, "2 fields, expected 3") != NULL);
    sb_csv_opts o = {.n_fields = 6};
    CHECK_EQ_INT(read_csv(WRITE("c3b.csv", "a,b,c\n"), &o, &n, &e), SB_DS_E_RAGGED);
    CHECK_EQ_INT(e.line, 1);
}

static void test_c4_mixed_line_ends_and_bom(void)
{
    int n; sb_ds_error e;
    const char *p = WRITE("c4.csv", "\xEF\xBB\xBF" "a,b\r\nc,d\ne,\"f\r\ng\"\r\nh,i");
    CHECK_EQ_INT(read_csv(p, NULL, &n, &e), 0);
    CHECK_EQ_INT(n, 4);
    sb_csv *r; const sb_csv_row *row;
    CHECK_EQ_INT(sb_csv_open(p, NULL, &r, &e), 0);
    CHECK_EQ_INT(sb_csv_next(r, &row, &e), 1);
    CHECK_STR(row->field[0], "a");      /* BOM not part of the first field */
    CHECK_STR(row->field[1], "b");      /* CR not part of the last field */
    CHECK_EQ_INT(sb_csv_next(r, &row, &e), 1);
    CHECK_EQ_INT(sb_csv_next(r, &row, &e), 1);
    CHECK_STR(row->field[1], "f\r\ng"); /* line ends inside quotes are data, kept as written */
    CHECK_EQ_INT(sb_csv_next(r, &row, &e), 1);
    CHECK_EQ_INT(row->line, 5);
    CHECK_STR(row->field[1], "i");
    sb_csv_close(r);
    /* a trailing empty line (the winogrande CSV) is not a row */
    CHECK_EQ_INT(read_csv(WRITE("c4b.csv", "a,b\n\n"), NULL, &n, &e), 0);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(read_csv(WRITE("c4c.csv", ""), NULL, &n, &e), SB_DS_E_EMPTY);
}

static void test_c5_nul_and_field_over_cap(void)
{
    int n; sb_ds_error e;
    CHECK_EQ_INT(read_csv(write_tmp("c5.csv", "a,b\nc,d\0e\n", 10), NULL, &n, &e), SB_DS_E_ENCODING);
    CHECK_EQ_INT(e.line, 2);
    CHECK_EQ_INT(e.col, 4);
    size_t len = 50000;
    char *big = malloc(len + 8);
    memcpy(big, "a,\"", 3);
    memset(big + 3, 'x', len);
    memcpy(big + 3 + len, "\"\n", 2);
    const char *p = write_tmp("c5b.csv", big, len + 5);
    free(big);
    sb_csv_opts o = {.max_field = 1000};
    CHECK_EQ_INT(read_csv(p, &o, &n, &e), SB_DS_E_FIELD_TOO_LONG);
    CHECK_EQ_INT(e.line, 1);
    CHECK(strstr(e.msg, "field 2") != NULL);
    CHECK_EQ_INT(read_csv(p, NULL, &n, &e), 0);
    CHECK_EQ_INT(read_csv(WRITE("c5c.csv", "a,\"\xFF\"\n"), NULL, &n, &e), SB_DS_E_ENCODING);
}

static void test_lines_reader(void)
{
    const char *p = WRITE("l.txt", "\xEF\xBB\xBFone\r\ntwo\n\nthree");
    sb_lines *r; sb_ds_error e; const char *s; size_t len;
    CHECK_EQ_INT(sb_lines_open(p, 0, &r, &e), 0);
    CHECK_EQ_INT(sb_lines_next(r, &s, &len, &e), 1); CHECK_STR(s, "one");
    CHECK_EQ_INT(sb_lines_next(r, &s, &len, &e), 1); CHECK_STR(s, "two");
    CHECK_EQ_INT(sb_lines_next(r, &s, &len, &e), 1); CHECK_EQ_INT(len, 0);
    CHECK_EQ_INT(sb_lines_next(r, &s, &len, &e), 1); CHECK_STR(s, "three");
    CHECK_EQ_INT(sb_lines_lineno(r), 4);
    CHECK_EQ_INT(sb_lines_next(r, &s, &len, &e), 0);
    sb_lines_close(r);
    CHECK_EQ_INT(sb_lines_open("/nonexistent/x", 0, &r, &e), SB_DS_E_IO);
    CHECK(strstr(e.msg, "/nonexistent/x") != NULL);
}

/* The real MMLU CSVs: 18 test files with CRLF and a last row without terminator, fields with
 * quoted newlines. Row counts: 14042 test, 285 dev, 1531 val (MANIFEST). */
static void count_split(const char *split, int want_files, int want_rows)
{
    char rel[64];
    snprintf(rel, sizeof rel, "datasets/mmlu/%s", split);
    const char *dir = test_shared_path(rel);
    if (!dir) { test_skip("../shared/datasets/mmlu not present"); return; }
    char dpath[4096];
    snprintf(dpath, sizeof dpath, "%s", dir);
    DIR *d = opendir(dpath);
    CHECK(d != NULL);
    if (!d) return;
    struct dirent *de;
    int files = 0, rows = 0, quoted_nl = 0;
    while ((de = readdir(d))) {
        size_t L = strlen(de->d_name);
        if (L < 5 || strcmp(de->d_name + L - 4, ".csv")) continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dpath, de->d_name);
        sb_csv_opts o = {.n_fields = 6};
        sb_csv *r; sb_ds_error e; const sb_csv_row *row;
        CHECK_EQ_INT(sb_csv_open(path, &o, &r, &e), 0);
        int rc;
        while ((rc = sb_csv_next(r, &row, &e)) == 1) {
            rows++;
            for (int i = 0; i < row->n; i++) if (memchr(row->field[i], '\n', row->len[i])) quoted_nl++;
            const char *a = row->field[5];
            CHECK_MSG(row->len[5] == 1 && a[0] >= 'A' && a[0] <= 'D', "%s:%ld answer '%s'", path, row->line, a);
            CHECK_MSG(row->len[5] == 1 || 0, "%s:%ld: answer field has CR", path, row->line);
        }
        CHECK_MSG(rc == 0, "%s: %s", path, e.msg);
        sb_csv_close(r);
        files++;
    }
    closedir(d);
    CHECK_EQ_INT(files, want_files);
    CHECK_EQ_INT(rows, want_rows);
    if (!strcmp(split, "test")) CHECK(quoted_nl > 0);
}

static void test_mmlu_test_csvs_row_counts(void) { count_split("test", 57, 14042); }
static void test_mmlu_dev_csvs_row_counts(void) { count_split("dev", 57, 285); }
static void test_mmlu_val_csvs_row_counts(void) { count_split("val", 57, 1531); }

/* Every truncation and every single-byte change of small valid files: the readers end cleanly
 * or with one of their error codes (run under ASan/UBSan with make SAN=1 test). */
static void sweep(const char *name, const char *valid, int csv)
{
    size_t n = strlen(valid);
    char *buf = malloc(n + 1);
    int bad_code = 0, runs = 0;
    static const unsigned char flips[] = {0x00, '"', ',', '\n', '\r', '{', '}', '[', '\\', 0xFF, 0xC3, 'x'};
    for (size_t cut = 0; cut <= n; cut++) {
        for (size_t f = 0; f <= sizeof flips; f++) {
            size_t len = cut;
            memcpy(buf, valid, n);
            if (f < sizeof flips) {          /* a changed byte at position cut of the full file */
                if (cut == n) continue;
                buf[cut] = (char)flips[f];
                len = n;
            } else if (f != sizeof flips) continue;
            const char *p = write_tmp(name, buf, len);
            int rows; sb_ds_error e;
            int rc = csv ? read_csv(p, NULL, &rows, &e) : read_jsonl(p, NULL, &rows, &e);
            runs++;
            if (rc < 0 || rc > SB_DS_E_ARG) bad_code++;
            if (rc && !e.msg[0]) bad_code++;
        }
    }
    free(buf);
    CHECK_EQ_INT(bad_code, 0);
    CHECK(runs > 100);
}

static void test_jsonl_truncation_and_byte_flip_sweep(void)
{
    sweep("sweep.jsonl", "{\"id\":\"a\",\"q\":{\"stem\":\"x\\u00e9\",\"choices\":[{\"t\":1},{\"t\":[2,3]}]},\"k\":\"B\"}\r\n\n"
                         "{\"id\":\"b\",\"s\":\"caf\xc3\xa9 \\\"q\\\"\"}\n", 0);
}

static void test_csv_truncation_and_byte_flip_sweep(void)
{
    sweep("sweep.csv", "\xEF\xBB\xBFq,\"a, b\",\"line1\nline2\",\"say \"\"hi\"\"\",D\r\nx,y,z,w,A\n", 1);
}

int main(void)
{
    RUN(test_j1_empty_file);
    RUN(test_j2_blank_crlf_bom_no_final_newline);
    RUN(test_j3_invalid_utf8_and_nul_escape);
    RUN(test_j4_line_over_cap);
    RUN(test_j5_malformed_trailing_nonobject);
    RUN(test_j6_missing_or_wrong_type_field);
    RUN(test_j7_deep_nesting);
    RUN(test_j8_label_outside_choices);
    RUN(test_c1_quoted_commas_newlines_quotes);
    RUN(test_c2_unterminated_quote);
    RUN(test_c3_ragged_row);
    RUN(test_c4_mixed_line_ends_and_bom);
    RUN(test_c5_nul_and_field_over_cap);
    RUN(test_lines_reader);
    RUN(test_jsonl_truncation_and_byte_flip_sweep);
    RUN(test_csv_truncation_and_byte_flip_sweep);
    RUN(test_mmlu_test_csvs_row_counts);
    RUN(test_mmlu_dev_csvs_row_counts);
    RUN(test_mmlu_val_csvs_row_counts);
    return test_finish();
}
