/* slmbench inspect: text and JSON listings of a GGUF file, errors as "FILE: at byte N: ..."
 * with exit 1, usage errors with exit 2. Runs the slmbench of the test's own build. */
#include <stdlib.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>

#include "gguf/gguf.h"
#include "gguf/fuzz/sample.h"
#include "tests/test.h"

static const char *bin(void) { return test_slmbench_bin(); }

/* Runs `slmbench inspect ARGS`, stdout to out_path, stderr to err_path; returns the exit status. */
static int run_inspect(const char *args, const char *out_path, const char *err_path)
{
    char cmd[2048];
    if (snprintf(cmd, sizeof cmd, "%s inspect %s >%s 2>%s", bin(), args, out_path, err_path) >= (int)sizeof cmd) return -1;
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) { free(s); s = NULL; }
    if (s) s[n] = 0;
    fclose(f);
    return s;
}

static void paths(char *file, char *out, char *err, char *json, size_t len)
{
    snprintf(file, len, "%s/sample.gguf", test_tmpdir());
    snprintf(out, len, "%s/out.txt", test_tmpdir());
    snprintf(err, len, "%s/err.txt", test_tmpdir());
    snprintf(json, len, "%s/out.json", test_tmpdir());
}

static int write_sample(const char *path)
{
    uint8_t q8[68], q4k[144];
    sb_gguf_writer *w = sample_writer(q8, q4k);
    if (!w) return -1;
    sb_gguf_set_str(w, "t.bad_utf8", "ok\xff\xfe" "end");   /* values need not be UTF-8 */
    sb_gguf_set_u8(w, "t.ctl\n\x1b[31m", 1);                  /* control bytes in a key */
    int rc = sb_gguf_writer_write(w, path, NULL);
    sb_gguf_writer_free(w);
    return rc;
}

static const cJSON *find_meta(const cJSON *doc, const char *key)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(doc, "metadata"))
        if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "key")), key)) return e;
    return NULL;
}

static void test_text_listing(void)
{
    char file[512], out[512], err[512], json[512], args[1200];
    paths(file, out, err, json, sizeof file);
    CHECK_EQ_INT(write_sample(file), 0);
    snprintf(args, sizeof args, "%s", file);
    CHECK_EQ_INT(run_inspect(args, out, err), 0);
    char *text = slurp(out);
    CHECK(text != NULL);
    if (!text) return;
    CHECK(strstr(text, "GGUF version 3, alignment 64") != NULL);
    CHECK(strstr(text, "metadata: 20 entries") != NULL);
    CHECK(strstr(text, "t.ctl\\x0a\\x1b[31m") != NULL && strchr(text, 0x1b) == NULL);
    CHECK(strstr(text, "arr[str]  4: [\"<unk>\", \"hello\", \"\", \"\xe2\x96\x81world\"]") != NULL);
    CHECK(strstr(text, "arr[i32]  5: [-2, -1, 0, 1, 2147483647]") != NULL);
    CHECK(strstr(text, "\"ok\\xff\\xfeend\"") == NULL);      /* printed raw: bytes >= 0x80 kept */
    CHECK(strstr(text, "tensors: 4") != NULL);
    CHECK(strstr(text, "c.q8_0") && strstr(text, "q8_0") && strstr(text, "[32, 2]"));
    CHECK(strstr(text, "total: 340 parameters, 276 bytes") != NULL);
    CHECK(strstr(text, "q4_K") != NULL);
    free(text);
    /* Arrays are summarized to --max-elems elements. */
    snprintf(args, sizeof args, "%s --max-elems 2", file);
    CHECK_EQ_INT(run_inspect(args, out, err), 0);
    text = slurp(out);
    CHECK(text && strstr(text, "arr[i32]  5: [-2, -1, ...]") != NULL);
    free(text);
}

static void test_json_listing(void)
{
    char file[512], out[512], err[512], json[512], args[1200];
    paths(file, out, err, json, sizeof file);
    CHECK_EQ_INT(write_sample(file), 0);
    snprintf(args, sizeof args, "%s --json %s --max-elems 3", file, json);
    CHECK_EQ_INT(run_inspect(args, out, err), 0);
    char *text = slurp(json);
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    CHECK_MSG(doc != NULL, "output is not JSON");
    if (doc) {
        CHECK_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(doc, "version")), 3);
        CHECK_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(doc, "n_tensors")), 4);
        CHECK_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(doc, "n_kv")), 20);
        CHECK_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(doc, "total_params")), 340);
        CHECK_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(doc, "total_bytes")), 276);
        CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "by_type")), 4);
        const cJSON *arr = find_meta(doc, "t.arr_str");
        CHECK(arr && cJSON_GetNumberValue(cJSON_GetObjectItem(arr, "count")) == 4);
        CHECK(arr && cJSON_GetArraySize(cJSON_GetObjectItem(arr, "head")) == 3);
        const cJSON *u64 = find_meta(doc, "t.u64");                  /* > 2^53: a string */
        CHECK(u64 && cJSON_IsString(cJSON_GetObjectItem(u64, "value")));
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(u64, "value")), "18000000000000000000");
        const cJSON *bad = find_meta(doc, "t.bad_utf8");             /* invalid bytes → U+FFFD */
        CHECK_STR(bad ? cJSON_GetStringValue(cJSON_GetObjectItem(bad, "value")) : NULL,
                  "ok\xef\xbf\xbd\xef\xbf\xbd" "end");
        const cJSON *t0 = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "tensors"), 2);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(t0, "type")), "q8_0");
        CHECK_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(t0, "bytes")), 68);
        CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(t0, "shape")), 2);
    }
    cJSON_Delete(doc);
    free(text);
    /* --json without a file: JSON on stdout. */
    snprintf(args, sizeof args, "--json %s", file);
    CHECK_EQ_INT(run_inspect(args, out, err), 0);
    text = slurp(out);
    doc = text ? cJSON_Parse(text) : NULL;
    CHECK(doc && cJSON_GetNumberValue(cJSON_GetObjectItem(doc, "n_tensors")) == 4);
    cJSON_Delete(doc);
    free(text);
}

static void test_real_model_json(void)
{
    const char *model = test_shared_path("models/stories260K.gguf");
    if (!model) { test_skip("../shared/models/stories260K.gguf not found"); return; }
    char file[512], out[512], err[512], json[512], args[1200];
    paths(file, out, err, json, sizeof file);
    snprintf(args, sizeof args, "%s --json", model);
    CHECK_EQ_INT(run_inspect(args, out, err), 0);
    char *text = slurp(out);
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    CHECK(doc != NULL);
    if (doc) {
        CHECK_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(doc, "total_params")), 292800);
        CHECK_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(doc, "n_tensors")), 48);
        CHECK_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(doc, "alignment")), 32);
        const cJSON *toks = find_meta(doc, "tokenizer.ggml.tokens");
        CHECK(toks && cJSON_GetNumberValue(cJSON_GetObjectItem(toks, "count")) == 512);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(toks, "head"), 1)), "<s>");
    }
    cJSON_Delete(doc);
    free(text);
}

static void test_bad_file_and_usage_errors(void)
{
    char file[512], out[512], err[512], json[512], args[1200];
    paths(file, out, err, json, sizeof file);
    char bad[600];
    snprintf(bad, sizeof bad, "%s/bad.gguf", test_tmpdir());
    FILE *f = fopen(bad, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fwrite("GGUF\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff", 1, 24, f);
    fclose(f);
    snprintf(args, sizeof args, "%s", bad);
    CHECK_EQ_INT(run_inspect(args, out, err), 1);
    char *msg = slurp(err), want[700];
    snprintf(want, sizeof want, "%s: at byte 16: ", bad);
    CHECK_MSG(msg && strstr(msg, want) == msg, "stderr: %s", msg ? msg : "(none)");
    free(msg);
    snprintf(args, sizeof args, "%s/missing.gguf", test_tmpdir());
    CHECK_EQ_INT(run_inspect(args, out, err), 1);
    CHECK_EQ_INT(run_inspect("", out, err), 2);
    CHECK_EQ_INT(run_inspect("--bogus x.gguf", out, err), 2);
    CHECK_EQ_INT(run_inspect("a.gguf b.gguf", out, err), 2);
    CHECK_EQ_INT(run_inspect("--max-elems -1 a.gguf", out, err), 2);
    CHECK_EQ_INT(run_inspect("--help", out, err), 0);
}

int main(void)
{
    RUN(test_text_listing);
    RUN(test_json_listing);
    RUN(test_real_model_json);
    RUN(test_bad_file_and_usage_errors);
    return test_finish();
}
