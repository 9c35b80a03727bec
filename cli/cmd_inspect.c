/* slmbench inspect FILE.gguf [--json [OUT]] [--max-elems N]
 *
 * The first thing a user runs on a downloaded model: GGUF version, alignment, every metadata
 * entry (long arrays summarized as type, count and the first few elements), every tensor with
 * its type, shape, size and offset, and the totals: parameter count and bytes per tensor type.
 * The file is validated in full by the reader first; a bad file prints
 * "FILE: at byte N: message" on stderr and exits 1.
 *
 * JSON (--json): {"file", "version", "alignment", "data_offset", "file_bytes", "n_kv",
 * "n_tensors", "metadata": [{"key", "type", "value"} | arrays: {"key", "type": "arr",
 * "elem_type", "count", "value": [...all] or "head": [...first N]}], "tensors": [{"name",
 * "type", "shape": [ne0, ...], "n_elements", "bytes", "offset"}], "total_params",
 * "total_bytes", "by_type": [{"type", "tensors", "params", "bytes"}]}. Integers beyond 2^53 and
 * non-finite floats are written as strings; invalid UTF-8 in strings becomes U+FFFD.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/commands.h"
#include "gguf/gguf.h"

#define DEFAULT_MAX_ELEMS 8
#define TEXT_MAX_STRING 120     /* bytes of a string value shown in the text listing */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: slmbench inspect FILE.gguf [--json [OUT.json]] [--max-elems N]\n\n"
            "Validates a GGUF file and lists its version, alignment, metadata and tensors\n"
            "(type, shape, bytes, offset), the total parameter count and bytes per tensor type.\n\n"
            "  --json [OUT]     write a JSON object instead of text: to OUT when given after the\n"
            "                   input file (or as --json=OUT), else to stdout\n"
            "  --max-elems N    array elements shown per metadata array (default %d)\n"
            "  -h, --help       this help\n\n"
            "Exit status: 0 valid file, 1 invalid or unreadable file, 2 usage error.\n",
            DEFAULT_MAX_ELEMS);
}

/* ---- text helpers ----------------------------------------------------------------------- */

/* Prints s (len bytes, not NUL-terminated) quoted, escaping control bytes, quotes and
 * backslashes; at most max bytes, then "..." and the full length. */
static void print_quoted(FILE *f, const char *s, size_t len, size_t max)
{
    size_t n = len < max ? len : max;
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f) fprintf(f, "\\x%02x", c);
        else fputc(c, f);
    }
    fputc('"', f);
    if (n < len) fprintf(f, "... (%zu bytes)", len);
}

/* Keys and tensor names are UTF-8 but may hold control characters: escape those so a crafted
 * file cannot drive the terminal. Pads with spaces to `width` columns (bytes). */
static void print_name(FILE *f, const char *s, int width)
{
    int n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) n += fprintf(f, "\\x%02x", *p);
        else { fputc(*p, f); n++; }
    }
    for (; n < width; n++) fputc(' ', f);
}

static void print_num(FILE *f, const sb_gguf_num *v)
{
    switch (v->type) {
    case SB_GGUF_FLOAT32: fprintf(f, "%.9g", v->f); break;
    case SB_GGUF_FLOAT64: fprintf(f, "%.17g", v->f); break;
    case SB_GGUF_BOOL: fputs(v->u ? "true" : "false", f); break;
    case SB_GGUF_INT8: case SB_GGUF_INT16: case SB_GGUF_INT32: case SB_GGUF_INT64:
        fprintf(f, "%lld", (long long)v->i); break;
    default: fprintf(f, "%llu", (unsigned long long)v->u); break;
    }
}

static void fmt_shape(const sb_gguf_tensor *t, char *buf, size_t len)
{
    size_t o = 0;
    o += (size_t)snprintf(buf + o, len - o, "[");
    for (uint32_t d = 0; d < t->n_dims && o < len; d++)
        o += (size_t)snprintf(buf + o, len - o, "%s%lld", d ? ", " : "", (long long)t->ne[d]);
    if (o < len) snprintf(buf + o, len - o, "]");
}

static int64_t n_elements(const sb_gguf_tensor *t)
{
    return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];   /* validated by the reader: no overflow */
}

/* Per-type totals; the type table has fewer than 64 entries. */
typedef struct type_total { int64_t tensors, params; uint64_t bytes; } type_total;

static void totals(const sb_gguf *g, type_total *by_type, size_t n_types, int64_t *params, uint64_t *bytes)
{
    *params = 0;
    *bytes = 0;
    memset(by_type, 0, n_types * sizeof *by_type);
    for (int64_t i = 0; i < sb_gguf_n_tensors(g); i++) {
        const sb_gguf_tensor *t = sb_gguf_tensor_at(g, i);
        int64_t ne = n_elements(t);
        *params += ne;
        *bytes += t->size;
        if (t->type < n_types) {
            by_type[t->type].tensors++;
            by_type[t->type].params += ne;
            by_type[t->type].bytes += t->size;
        }
    }
}

static void print_text(FILE *f, const sb_gguf *g, uint64_t max_elems)
{
    fprintf(f, "file: %s\n", sb_gguf_path(g));
    fprintf(f, "GGUF version %u, alignment %llu, data section at byte %llu, file size %llu bytes\n",
            sb_gguf_version(g), (unsigned long long)sb_gguf_alignment(g),
            (unsigned long long)sb_gguf_data_offset(g), (unsigned long long)sb_gguf_file_size(g));

    int64_t n_kv = sb_gguf_n_kv(g);
    size_t kw = 3;
    for (int64_t i = 0; i < n_kv; i++) {
        size_t l = strlen(sb_gguf_kv_key(g, i));
        if (l > kw) kw = l;
    }
    if (kw > 60) kw = 60;
    fprintf(f, "\nmetadata: %lld entries\n", (long long)n_kv);
    for (int64_t i = 0; i < n_kv; i++) {
        sb_gguf_vtype t = sb_gguf_kv_type(g, i);
        const char *s;
        size_t len;
        fputs("  ", f);
        print_name(f, sb_gguf_kv_key(g, i), (int)kw);
        fputc(' ', f);
        if (t == SB_GGUF_STRING) {
            fprintf(f, "%-9s ", "str");
            sb_gguf_kv_str(g, i, &s, &len);
            print_quoted(f, s, len, TEXT_MAX_STRING);
        } else if (t == SB_GGUF_ARRAY) {
            sb_gguf_vtype et = sb_gguf_kv_arr_type(g, i);
            uint64_t n = sb_gguf_kv_arr_n(g, i), show = n < max_elems ? n : max_elems;
            char tn[16];
            snprintf(tn, sizeof tn, "arr[%s]", sb_gguf_vtype_name(et));
            fprintf(f, "%-9s %llu: [", tn, (unsigned long long)n);
            for (uint64_t j = 0; j < show; j++) {
                if (j) fputs(", ", f);
                if (et == SB_GGUF_STRING) {
                    sb_gguf_kv_arr_str(g, i, j, &s, &len);
                    print_quoted(f, s, len, 40);
                } else {
                    sb_gguf_num v;
                    sb_gguf_kv_num(g, i, j, &v);
                    print_num(f, &v);
                }
            }
            fputs(show < n ? ", ...]" : "]", f);
        } else {
            sb_gguf_num v;
            sb_gguf_kv_num(g, i, 0, &v);
            fprintf(f, "%-9s ", sb_gguf_vtype_name(t));
            print_num(f, &v);
        }
        fputc('\n', f);
    }

    int64_t n_t = sb_gguf_n_tensors(g);
    size_t nw = 4;
    for (int64_t i = 0; i < n_t; i++) {
        size_t l = strlen(sb_gguf_tensor_at(g, i)->name);
        if (l > nw) nw = l;
    }
    fprintf(f, "\ntensors: %lld\n", (long long)n_t);
    if (n_t > 0)
        fprintf(f, "  %-*s %-10s %-24s %14s %14s %14s\n", (int)nw, "name", "type", "shape", "elements", "bytes",
                "offset");
    for (int64_t i = 0; i < n_t; i++) {
        const sb_gguf_tensor *t = sb_gguf_tensor_at(g, i);
        char shape[128];
        fmt_shape(t, shape, sizeof shape);
        fputs("  ", f);
        print_name(f, t->name, (int)nw);
        fprintf(f, " %-10s %-24s %14lld %14llu %14llu\n", sb_gguf_type_name(t->type), shape,
                (long long)n_elements(t), (unsigned long long)t->size, (unsigned long long)t->offset);
    }

    type_total by_type[64];
    int64_t params;
    uint64_t bytes;
    size_t n_types = sb_gguf_type_count() < 64 ? sb_gguf_type_count() : 64;
    totals(g, by_type, n_types, &params, &bytes);
    fprintf(f, "\ntotal: %lld parameters, %llu bytes of tensor data (%.3f MiB)\n", (long long)params,
            (unsigned long long)bytes, (double)bytes / (1024.0 * 1024.0));
    for (size_t t = 0; t < n_types; t++) {
        if (!by_type[t].tensors) continue;
        fprintf(f, "  %-10s %6lld tensors %14lld parameters %14llu bytes (%.3f bits/param)\n",
                sb_gguf_type_name((uint32_t)t), (long long)by_type[t].tensors, (long long)by_type[t].params,
                (unsigned long long)by_type[t].bytes, 8.0 * (double)by_type[t].bytes / (double)by_type[t].params);
    }
}

/* ---- JSON ------------------------------------------------------------------------------- */

/* A cJSON string from bytes that may be invalid UTF-8 or hold NUL: invalid bytes and NUL
 * become U+FFFD, so the output is always valid JSON. */
static cJSON *json_string(const char *s, size_t len)
{
    char *out = malloc(len * 3 + 1), *o = out;
    if (!out) return cJSON_CreateNull();
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        size_t k = 0;
        uint32_t cp = 0, min = 0;
        if (c >= 0x01 && c < 0x80) { *o++ = (char)c; i++; continue; }
        if ((c & 0xE0) == 0xC0) { k = 1; cp = c & 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { k = 2; cp = c & 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { k = 3; cp = c & 0x07; min = 0x10000; }
        int ok = k > 0 && k < len - i;
        for (size_t j = 1; ok && j <= k; j++) {
            if (((unsigned char)s[i + j] & 0xC0) != 0x80) ok = 0;
            else cp = (cp << 6) | ((unsigned char)s[i + j] & 0x3F);
        }
        if (ok && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = 0;
        if (ok) {
            memcpy(o, s + i, k + 1);
            o += k + 1;
            i += k + 1;
        } else {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    *o = 0;
    cJSON *j = cJSON_CreateString(out);
    free(out);
    return j;
}

/* Integers beyond 2^53 do not survive a JSON double: they are written as strings. */
static cJSON *json_num(const sb_gguf_num *v)
{
    const double exact = 9007199254740992.0;
    switch (v->type) {
    case SB_GGUF_FLOAT32: case SB_GGUF_FLOAT64:
        if (v->f != v->f || v->f > 1.7976931348623157e308 || v->f < -1.7976931348623157e308) {
            char b[32];
            snprintf(b, sizeof b, "%g", v->f);
            return cJSON_CreateString(b);                 /* nan / inf are not JSON numbers */
        }
        return cJSON_CreateNumber(v->f);
    case SB_GGUF_BOOL: return cJSON_CreateBool(v->u != 0);
    case SB_GGUF_INT8: case SB_GGUF_INT16: case SB_GGUF_INT32: case SB_GGUF_INT64:
        if ((double)v->i > exact || (double)v->i < -exact) {
            char b[32];
            snprintf(b, sizeof b, "%lld", (long long)v->i);
            return cJSON_CreateString(b);
        }
        return cJSON_CreateNumber((double)v->i);
    default:
        if ((double)v->u > exact) {
            char b[32];
            snprintf(b, sizeof b, "%llu", (unsigned long long)v->u);
            return cJSON_CreateString(b);
        }
        return cJSON_CreateNumber((double)v->u);
    }
}

static cJSON *to_json(const sb_gguf *g, uint64_t max_elems)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "file", sb_gguf_path(g));
    cJSON_AddNumberToObject(root, "version", sb_gguf_version(g));
    cJSON_AddNumberToObject(root, "alignment", (double)sb_gguf_alignment(g));
    cJSON_AddNumberToObject(root, "data_offset", (double)sb_gguf_data_offset(g));
    cJSON_AddNumberToObject(root, "file_bytes", (double)sb_gguf_file_size(g));
    cJSON_AddNumberToObject(root, "n_kv", (double)sb_gguf_n_kv(g));
    cJSON_AddNumberToObject(root, "n_tensors", (double)sb_gguf_n_tensors(g));

    cJSON *meta = cJSON_AddArrayToObject(root, "metadata");
    for (int64_t i = 0; i < sb_gguf_n_kv(g); i++) {
        cJSON *e = cJSON_CreateObject();
        sb_gguf_vtype t = sb_gguf_kv_type(g, i);
        const char *s;
        size_t len;
        cJSON_AddStringToObject(e, "key", sb_gguf_kv_key(g, i));
        cJSON_AddStringToObject(e, "type", sb_gguf_vtype_name(t));
        if (t == SB_GGUF_STRING) {
            sb_gguf_kv_str(g, i, &s, &len);
            cJSON_AddItemToObject(e, "value", json_string(s, len));
        } else if (t == SB_GGUF_ARRAY) {
            sb_gguf_vtype et = sb_gguf_kv_arr_type(g, i);
            uint64_t n = sb_gguf_kv_arr_n(g, i), show = n < max_elems ? n : max_elems;
            cJSON_AddStringToObject(e, "elem_type", sb_gguf_vtype_name(et));
            cJSON_AddNumberToObject(e, "count", (double)n);
            cJSON *head = cJSON_AddArrayToObject(e, n > show ? "head" : "value");
            for (uint64_t j = 0; j < show; j++) {
                if (et == SB_GGUF_STRING) {
                    sb_gguf_kv_arr_str(g, i, j, &s, &len);
                    cJSON_AddItemToArray(head, json_string(s, len));
                } else {
                    sb_gguf_num v;
                    sb_gguf_kv_num(g, i, j, &v);
                    cJSON_AddItemToArray(head, json_num(&v));
                }
            }
        } else {
            sb_gguf_num v;
            sb_gguf_kv_num(g, i, 0, &v);
            cJSON_AddItemToObject(e, "value", json_num(&v));
        }
        cJSON_AddItemToArray(meta, e);
    }

    cJSON *tensors = cJSON_AddArrayToObject(root, "tensors");
    for (int64_t i = 0; i < sb_gguf_n_tensors(g); i++) {
        const sb_gguf_tensor *t = sb_gguf_tensor_at(g, i);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", t->name);
        cJSON_AddStringToObject(e, "type", sb_gguf_type_name(t->type));
        cJSON *shape = cJSON_AddArrayToObject(e, "shape");
        for (uint32_t d = 0; d < t->n_dims; d++) cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->ne[d]));
        cJSON_AddNumberToObject(e, "n_elements", (double)n_elements(t));
        cJSON_AddNumberToObject(e, "bytes", (double)t->size);
        cJSON_AddNumberToObject(e, "offset", (double)t->offset);
        cJSON_AddItemToArray(tensors, e);
    }

    type_total by_type[64];
    int64_t params;
    uint64_t bytes;
    size_t n_types = sb_gguf_type_count() < 64 ? sb_gguf_type_count() : 64;
    totals(g, by_type, n_types, &params, &bytes);
    cJSON_AddNumberToObject(root, "total_params", (double)params);
    cJSON_AddNumberToObject(root, "total_bytes", (double)bytes);
    cJSON *bt = cJSON_AddArrayToObject(root, "by_type");
    for (size_t t = 0; t < n_types; t++) {
        if (!by_type[t].tensors) continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "type", sb_gguf_type_name((uint32_t)t));
        cJSON_AddNumberToObject(e, "tensors", (double)by_type[t].tensors);
        cJSON_AddNumberToObject(e, "params", (double)by_type[t].params);
        cJSON_AddNumberToObject(e, "bytes", (double)by_type[t].bytes);
        cJSON_AddItemToArray(bt, e);
    }
    return root;
}

/* Writes text atomically: temp file beside path, fsync, rename. 0 or -1 with errno. */
static int write_atomic(const char *path, const char *text)
{
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= sizeof tmp) { errno = ENAMETOOLONG; return -1; }
    int fd = mkstemp(tmp);
    if (fd < 0) return -1;
    size_t len = strlen(text), done = 0;
    while (done < len) {
        ssize_t r = write(fd, text + done, len - done);
        if (r < 0) { if (errno == EINTR) continue; break; }
        done += (size_t)r;
    }
    int e = done == len ? 0 : errno;
    if (!e && fchmod(fd, 0644) != 0) e = errno;
    if (!e && fsync(fd) != 0) e = errno;
    if (close(fd) != 0 && !e) e = errno;
    if (!e && rename(tmp, path) != 0) e = errno;
    if (e) { unlink(tmp); errno = e; return -1; }
    return 0;
}

int sb_cmd_inspect(int argc, char **argv)
{
    const char *input = NULL, *json_out = NULL;
    int json = 0;
    long long max_elems = DEFAULT_MAX_ELEMS;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        if (!strcmp(a, "--json")) {
            json = 1;
            /* `--json OUT` after the input file; `--json` alone (or before it) is stdout. */
            if (input && i + 1 < argc && argv[i + 1][0] != '-') json_out = argv[++i];
            continue;
        }
        if (!strncmp(a, "--json=", 7)) { json = 1; json_out = a + 7; continue; }
        if (!strcmp(a, "--max-elems") || !strncmp(a, "--max-elems=", 12)) {
            const char *v = a[11] == '=' ? a + 12 : (i + 1 < argc ? argv[++i] : NULL);
            char *end = NULL;
            max_elems = v ? strtoll(v, &end, 10) : -1;
            if (!v || !*v || *end || max_elems < 0) {
                fprintf(stderr, "slmbench inspect: --max-elems needs a count >= 0\n");
                usage(stderr);
                return 2;
            }
            continue;
        }
        if (a[0] == '-' && a[1] != 0) {
            fprintf(stderr, "slmbench inspect: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
        if (input) {
            fprintf(stderr, "slmbench inspect: one file at a time ('%s' and '%s')\n", input, a);
            usage(stderr);
            return 2;
        }
        input = a;
    }
    if (!input) {
        fprintf(stderr, "slmbench inspect: no GGUF file given\n");
        usage(stderr);
        return 2;
    }
    if (json_out && !strcmp(json_out, "-")) json_out = NULL;

    sb_gguf *g = NULL;
    sb_gguf_error err;
    if (sb_gguf_open(input, &g, &err) != 0) {
        char msg[700];
        sb_gguf_error_format(&err, msg, sizeof msg);
        fprintf(stderr, "%s\n", msg);
        return 1;
    }
    int rc = 0;
    if (!json) {
        print_text(stdout, g, (uint64_t)max_elems);
    } else {
        cJSON *doc = to_json(g, (uint64_t)max_elems);
        char *text = doc ? cJSON_Print(doc) : NULL;
        if (!text) {
            fprintf(stderr, "slmbench inspect: out of memory building the JSON\n");
            rc = 1;
        } else if (!json_out) {
            printf("%s\n", text);
        } else {
            size_t n = strlen(text);
            char *withnl = malloc(n + 2);
            if (withnl) { memcpy(withnl, text, n); withnl[n] = '\n'; withnl[n + 1] = 0; }
            if (!withnl || write_atomic(json_out, withnl) != 0) {
                fprintf(stderr, "%s: cannot write: %s\n", json_out, strerror(errno));
                rc = 1;
            }
            free(withnl);
        }
        free(text);
        cJSON_Delete(doc);
    }
    sb_gguf_close(g);
    return rc;
}
