/* reports/buf.c — growing string buffer, escaping, number formatting, JSON getters. */
#include "reports/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(sbuf *b, size_t extra)
{
    if (b->oom) return -1;
    size_t need;
    if (__builtin_add_overflow(b->len, extra, &need) || __builtin_add_overflow(need, 1, &need)) {
        b->oom = 1;
        return -1;
    }
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (__builtin_mul_overflow(cap, 2, &cap)) { b->oom = 1; return -1; }
    }
    char *s = realloc(b->s, cap);
    if (!s) { b->oom = 1; return -1; }
    b->s = s;
    b->cap = cap;
    return 0;
}

void sb_rep_putn(sbuf *b, const char *s, size_t n)
{
    if (reserve(b, n)) return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void sb_rep_puts(sbuf *b, const char *s) { sb_rep_putn(b, s, strlen(s)); }

void sb_rep_vprintf(sbuf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || reserve(b, (size_t)n)) return;
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void sb_rep_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_rep_vprintf(b, fmt, ap);
    va_end(ap);
}

void sb_rep_buf_free(sbuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

const char *sb_rep_str(const sbuf *b) { return b->s ? b->s : ""; }

char *sb_rep_strf(const char *fmt, ...)
{
    sbuf b = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_rep_vprintf(&b, fmt, ap);
    va_end(ap);
    if (b.oom) { free(b.s); return NULL; }
    if (!b.s) return strdup("");
    return b.s;
}

void sb_rep_html_escape(sbuf *b, const char *s)
{
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&': sb_rep_puts(b, "&amp;"); break;
        case '<': sb_rep_puts(b, "&lt;"); break;
        case '>': sb_rep_puts(b, "&gt;"); break;
        case '"': sb_rep_puts(b, "&quot;"); break;
        case '\'': sb_rep_puts(b, "&#39;"); break;
        default: sb_rep_putn(b, p, 1);
        }
    }
}

/* Follows a dotted path of object members ("latency.itl_ms.p50"). */
static const cJSON *member_path(const cJSON *obj, const char *path)
{
    char key[128];
    const char *p = path;
    while (obj && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof key) return NULL;
        memcpy(key, p, n);
        key[n] = 0;
        if (!cJSON_IsObject(obj)) return NULL;
        obj = cJSON_GetObjectItemCaseSensitive(obj, key);
        p = dot ? dot + 1 : p + n;
    }
    return obj;
}

double sb_rep_num(const cJSON *obj, const char *path)
{
    const cJSON *v = member_path(obj, path);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

const char *sb_rep_strv(const cJSON *obj, const char *path)
{
    const cJSON *v = member_path(obj, path);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *sb_rep_fmt(char *buf, size_t n, double v, int decimals)
{
    if (isnan(v)) snprintf(buf, n, "—");
    else if (isinf(v)) snprintf(buf, n, v > 0 ? "inf" : "-inf");
    else snprintf(buf, n, "%.*f", decimals, v);
    return buf;
}

