/* reports/doc.c — the document model and its two renderings: GitHub-flavoured Markdown and one
 * self-contained HTML file (inline CSS, the charts' SVG inlined, no scripts, no external URLs). */
#include "reports/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/results.h"


/* ------------------------------------------------------------------ building */

static rep_block *new_block(rep_ctx *c, rep_block_kind kind)
{
    if (c->n_blocks == c->cap_blocks) {
        int cap = c->cap_blocks ? c->cap_blocks * 2 : 64;
        rep_block *b = realloc(c->blocks, (size_t)cap * sizeof *b);
        if (!b) { c->oom = 1; return NULL; }
        c->blocks = b;
        c->cap_blocks = cap;
    }
    rep_block *b = &c->blocks[c->n_blocks++];
    memset(b, 0, sizeof *b);
    b->kind = kind;
    b->chart = -1;
    return b;
}

void sb_rep_heading(rep_ctx *c, int level, const char *anchor, const char *text)
{
    rep_block *b = new_block(c, RB_HEADING);
    if (!b) return;
    b->level = level;
    b->text = strdup(text);
    b->anchor = anchor ? strdup(anchor) : NULL;
    if (!b->text || (anchor && !b->anchor)) c->oom = 1;
}

void sb_rep_text(rep_ctx *c, const char *fmt, ...)
{
    sbuf s = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_rep_vprintf(&s, fmt, ap);
    va_end(ap);
    if (s.oom) { c->oom = 1; sb_rep_buf_free(&s); return; }
    rep_block *b = new_block(c, RB_TEXT);
    if (!b) { sb_rep_buf_free(&s); return; }
    b->text = s.s ? s.s : strdup("");
}

void sb_rep_list(rep_ctx *c, const char *items_nl)
{
    rep_block *b = new_block(c, RB_LIST);
    if (!b) return;
    b->text = strdup(items_nl);
    if (!b->text) c->oom = 1;
}

rep_table *sb_rep_table_new(int ncols, const char *const *head, const char *align)
{
    rep_table *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->ncols = ncols;
    t->head = calloc((size_t)ncols, sizeof *t->head);
    t->align = calloc((size_t)ncols + 1, 1);
    if (!t->head || !t->align) { sb_rep_table_free(t); return NULL; }
    for (int i = 0; i < ncols; i++) {
        t->head[i] = strdup(head[i]);
        t->align[i] = align && align[i] == 'r' ? 'r' : 'l';
        if (!t->head[i]) { sb_rep_table_free(t); return NULL; }
    }
    return t;
}

void sb_rep_cell(rep_table *t, const char *fmt, ...)
{
    if (!t) return;
    if (t->n == t->cap) {
        int cap = t->cap ? t->cap * 2 : 64;
        char **cells = realloc(t->cells, (size_t)cap * sizeof *cells);
        if (!cells) return;
        t->cells = cells;
        t->cap = cap;
    }
    sbuf s = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_rep_vprintf(&s, fmt, ap);
    va_end(ap);
    t->cells[t->n++] = s.s ? s.s : strdup("");
}

void sb_rep_table_free(rep_table *t)
{
    if (!t) return;
    for (int i = 0; i < t->n; i++) free(t->cells[i]);
    if (t->head) for (int i = 0; i < t->ncols; i++) free(t->head[i]);
    free(t->cells);
    free(t->head);
    free(t->align);
    free(t->caption);
    free(t);
}

void sb_rep_add_table(rep_ctx *c, rep_table *t)
{
    if (!t) { c->oom = 1; return; }
    rep_block *b = new_block(c, RB_TABLE);
    if (!b) { sb_rep_table_free(t); return; }
    b->table = t;
}

rep_chart *sb_rep_chart(rep_ctx *c, const char *name, const char *title, const char *what, int width, int height)
{
    if (c->n_charts == c->cap_charts) {
        int cap = c->cap_charts ? c->cap_charts * 2 : 16;
        rep_chart *ch = realloc(c->charts, (size_t)cap * sizeof *ch);
        if (!ch) { c->oom = 1; return NULL; }
        c->charts = ch;
        c->cap_charts = cap;
    }
    rep_block *b = new_block(c, RB_CHART);
    if (!b) return NULL;
    rep_chart *ch = &c->charts[c->n_charts];
    memset(ch, 0, sizeof *ch);
    /* Two charts must not share files: a second "x" becomes "x_2". */
    int taken = 0;
    for (int i = 0; i < c->n_charts; i++) taken |= !strcmp(c->charts[i].name, name);
    for (int k = 2; taken; k++) {
        free(ch->name);
        ch->name = sb_rep_strf("%s_%d", name, k);
        taken = 0;
        for (int i = 0; ch->name && i < c->n_charts; i++) taken |= !strcmp(c->charts[i].name, ch->name);
    }
    if (!ch->name) ch->name = strdup(name);
    ch->title = strdup(title);
    ch->what = strdup(what ? what : "");
    ch->width = width;
    ch->height = height;
    if (!ch->name || !ch->title || !ch->what) {
        free(ch->name); free(ch->title); free(ch->what);
        c->oom = 1;
        c->n_blocks--;
        return NULL;
    }
    b->chart = c->n_charts++;
    return ch;
}

/* ------------------------------------------------------------------ Markdown */

static void md_cell(sbuf *o, const char *s)
{
    for (const char *p = s; *p; p++) {
        if (*p == '|') sb_rep_puts(o, "\\|");
        else if (*p == '\n') sb_rep_puts(o, " ");
        else sb_rep_putn(o, p, 1);
    }
}

static void md_table(sbuf *o, const rep_table *t)
{
    if (t->caption) sb_rep_printf(o, "*%s*\n\n", t->caption);
    sb_rep_puts(o, "|");
    for (int i = 0; i < t->ncols; i++) { sb_rep_puts(o, " "); md_cell(o, t->head[i]); sb_rep_puts(o, " |"); }
    sb_rep_puts(o, "\n|");
    for (int i = 0; i < t->ncols; i++) sb_rep_puts(o, t->align[i] == 'r' ? "---:|" : "---|");
    sb_rep_puts(o, "\n");
    for (int r = 0; r + t->ncols <= t->n; r += t->ncols) {
        sb_rep_puts(o, "|");
        for (int i = 0; i < t->ncols; i++) { sb_rep_puts(o, " "); md_cell(o, t->cells[r + i]); sb_rep_puts(o, " |"); }
        sb_rep_puts(o, "\n");
    }
    sb_rep_puts(o, "\n");
}

void sb_rep_render_md(const rep_ctx *c, sbuf *o)
{
    for (int i = 0; i < c->n_blocks; i++) {
        const rep_block *b = &c->blocks[i];
        switch (b->kind) {
        case RB_HEADING:
            for (int l = 0; l < b->level; l++) sb_rep_puts(o, "#");
            sb_rep_printf(o, " %s\n\n", b->text);
            break;
        case RB_TEXT:
            sb_rep_printf(o, "%s\n\n", b->text);
            break;
        case RB_LIST: {
            const char *p = b->text;
            while (*p) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) : strlen(p);
                sb_rep_puts(o, "- ");
                sb_rep_putn(o, p, n);
                sb_rep_puts(o, "\n");
                p += n + (nl ? 1 : 0);
            }
            sb_rep_puts(o, "\n");
            break;
        }
        case RB_TABLE:
            md_table(o, b->table);
            break;
        case RB_CHART: {
            const rep_chart *ch = &c->charts[b->chart];
            if (ch->status == 1)
                sb_rep_printf(o, "![%s](%s.png)\n\n*%s* — %s Vector: [%s.svg](%s.svg); script and data: "
                              "`%s.gp`, `%s.dat`.\n\n",
                              ch->title, ch->name, ch->title, ch->what, ch->name, ch->name, ch->name, ch->name);
            else
                sb_rep_printf(o, "> **Chart not drawn: %s** — %s (%s) Its script and data are `%s.gp` and "
                              "`%s.dat` in this folder: run `gnuplot %s.gp` there to draw `%s.png` and `%s.svg`.\n\n",
                              ch->title, ch->note ? ch->note : "not drawn", ch->what, ch->name, ch->name,
                              ch->name, ch->name, ch->name);
            break;
        }
        }
    }
}

/* ------------------------------------------------------------------ HTML */

static const char *css =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;margin:0;"
    "color:#1d2330;background:#fff;line-height:1.45}\n"
    "main{max-width:1180px;margin:0 auto;padding:1.5rem 2rem 4rem}\n"
    "h1{font-size:1.8rem;border-bottom:3px solid #3465a4;padding-bottom:.3rem}\n"
    "h2{font-size:1.35rem;margin-top:2.2rem;border-bottom:1px solid #ccd;padding-bottom:.2rem}\n"
    "h3{font-size:1.1rem;margin-top:1.6rem}\n"
    "nav{background:#f3f5f9;border:1px solid #dde;padding:.6rem 1rem;border-radius:6px;font-size:.92rem}\n"
    "nav a{margin-right:1.1rem;color:#3465a4;text-decoration:none}\n"
    ".tw{overflow-x:auto;margin:.6rem 0 1.2rem}\n"
    "table{border-collapse:collapse;font-size:.88rem}\n"
    "caption{caption-side:top;text-align:left;font-style:italic;padding:.2rem 0}\n"
    "th,td{border:1px solid #d5d9e2;padding:.25rem .55rem;vertical-align:top}\n"
    "th{background:#eef1f7;text-align:left}\n"
    "tbody tr:nth-child(even){background:#fafbfd}\n"
    "td.r{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "figure{margin:1rem 0 1.6rem;border:1px solid #e3e6ee;border-radius:6px;padding:.5rem}\n"
    "figure svg{width:100%;height:auto;display:block}\n"
    "figcaption{font-size:.88rem;color:#445;padding:.3rem .2rem 0}\n"
    ".missing{background:#fff6e0;border:1px dashed #d9a400;padding:.8rem 1rem;border-radius:6px;"
    "margin:1rem 0;font-size:.92rem}\n"
    "code{background:#f1f3f7;padding:0 .25rem;border-radius:3px}\n";

/* Copies a gnuplot SVG into o with every id, #reference and url(#…) prefixed by `prefix`, so the
 * charts inlined in one page do not share ids (each gnuplot SVG defines the same ids). */
static void inline_svg(sbuf *o, const char *svg, const char *prefix, const char *title)
{
    const char *p = strstr(svg, "<svg");
    if (!p) return;
    static const char *const pats[] = {" id='", " id=\"", "href='#", "href=\"#", "url(#"};
    while (*p) {
        /* The page promises no scripts: drop any an SVG terminal option might have added. */
        if (!strncmp(p, "<script", 7)) {
            const char *end = strstr(p, "</script>");
            p = end ? end + 9 : p + strlen(p);
            continue;
        }
        if (!strncmp(p, "<title>", 7)) {
            const char *end = strstr(p, "</title>");
            if (end) {
                sb_rep_puts(o, "<title>");
                sb_rep_html_escape(o, title);
                sb_rep_puts(o, "</title>");
                p = end + 8;
                continue;
            }
        }
        int hit = 0;
        for (size_t k = 0; k < sizeof pats / sizeof pats[0]; k++) {
            size_t n = strlen(pats[k]);
            if (!strncmp(p, pats[k], n)) {
                sb_rep_putn(o, p, n);
                sb_rep_puts(o, prefix);
                p += n;
                hit = 1;
                break;
            }
        }
        if (!hit) sb_rep_putn(o, p++, 1);
    }
}

static void html_table(sbuf *o, const rep_table *t)
{
    sb_rep_puts(o, "<div class=\"tw\"><table>\n");
    if (t->caption) {
        sb_rep_puts(o, "<caption>");
        sb_rep_html_escape(o, t->caption);
        sb_rep_puts(o, "</caption>\n");
    }
    sb_rep_puts(o, "<thead><tr>");
    for (int i = 0; i < t->ncols; i++) {
        sb_rep_puts(o, "<th>");
        sb_rep_html_escape(o, t->head[i]);
        sb_rep_puts(o, "</th>");
    }
    sb_rep_puts(o, "</tr></thead>\n<tbody>\n");
    for (int r = 0; r + t->ncols <= t->n; r += t->ncols) {
        sb_rep_puts(o, "<tr>");
        for (int i = 0; i < t->ncols; i++) {
            sb_rep_puts(o, t->align[i] == 'r' ? "<td class=\"r\">" : "<td>");
            sb_rep_html_escape(o, t->cells[r + i]);
            sb_rep_puts(o, "</td>");
        }
        sb_rep_puts(o, "</tr>\n");
    }
    sb_rep_puts(o, "</tbody></table></div>\n");
}

/* Inline `code` spans of a plain text: backquoted parts become <code>, the rest is escaped. */
static void html_text(sbuf *o, const char *s)
{
    sbuf part = {0};
    int in_code = 0;
    for (const char *p = s;; p++) {
        if (*p == '`' || !*p) {
            if (in_code) sb_rep_puts(o, "<code>");
            sb_rep_html_escape(o, sb_rep_str(&part));
            if (in_code) sb_rep_puts(o, "</code>");
            part.len = 0;
            if (part.s) part.s[0] = 0;
            if (!*p) break;
            in_code = !in_code;
        } else {
            sb_rep_putn(&part, p, 1);
        }
    }
    if (part.oom) o->oom = 1;
    sb_rep_buf_free(&part);
}

/* Links to the level-2 headings. */
static void html_toc(const rep_ctx *c, sbuf *o)
{
    int n = 0;
    for (int i = 0; i < c->n_blocks; i++) {
        const rep_block *b = &c->blocks[i];
        if (b->kind != RB_HEADING || b->level != 2 || !b->anchor) continue;
        if (!n++) sb_rep_puts(o, "<nav>");
        sb_rep_printf(o, "<a href=\"#%s\">", b->anchor);
        sb_rep_html_escape(o, b->text);
        sb_rep_puts(o, "</a>");
    }
    if (n) sb_rep_puts(o, "</nav>\n");
}

void sb_rep_render_html(const rep_ctx *c, const char *dir, sbuf *o)
{
    const char *title = c->opts->title ? c->opts->title : "slmbench report";
    sb_rep_puts(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    sb_rep_html_escape(o, title);
    sb_rep_printf(o, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n", css);

    int first_heading = 1;
    for (int i = 0; i < c->n_blocks; i++) {
        const rep_block *b = &c->blocks[i];
        switch (b->kind) {
        case RB_HEADING:
            if (b->anchor) sb_rep_printf(o, "<h%d id=\"%s\">", b->level, b->anchor);
            else sb_rep_printf(o, "<h%d>", b->level);
            sb_rep_html_escape(o, b->text);
            sb_rep_printf(o, "</h%d>\n", b->level);
            /* The table of contents goes under the title. */
            if (first_heading && b->level == 1) html_toc(c, o);
            first_heading = 0;
            break;
        case RB_TEXT:
            sb_rep_puts(o, "<p>");
            html_text(o, b->text);
            sb_rep_puts(o, "</p>\n");
            break;
        case RB_LIST: {
            sb_rep_puts(o, "<ul>\n");
            const char *p = b->text;
            while (*p) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) : strlen(p);
                char *item = strndup(p, n);
                sb_rep_puts(o, "<li>");
                if (item) html_text(o, item);
                sb_rep_puts(o, "</li>\n");
                free(item);
                p += n + (nl ? 1 : 0);
            }
            sb_rep_puts(o, "</ul>\n");
            break;
        }
        case RB_TABLE:
            html_table(o, b->table);
            break;
        case RB_CHART: {
            const rep_chart *ch = &c->charts[b->chart];
            char *svg = NULL;
            if (ch->status == 1) {
                char path[4096], err[256];
                snprintf(path, sizeof path, "%s/%s.svg", dir, ch->name);
                svg = sb_read_file(path, 64u << 20, NULL, err, sizeof err);
            }
            if (svg) {
                char prefix[32];
                snprintf(prefix, sizeof prefix, "c%d-", b->chart);
                sb_rep_printf(o, "<figure id=\"chart-%s\">\n", ch->name);
                inline_svg(o, svg, prefix, ch->title);
                sb_rep_puts(o, "\n<figcaption><b>");
                sb_rep_html_escape(o, ch->title);
                sb_rep_puts(o, "</b> — ");
                html_text(o, ch->what);
                sb_rep_printf(o, " Files: <code>%s.png</code>, <code>%s.svg</code>, <code>%s.gp</code>, "
                                 "<code>%s.dat</code>.</figcaption>\n</figure>\n", ch->name, ch->name, ch->name, ch->name);
                free(svg);
            } else {
                sb_rep_printf(o, "<div class=\"missing\" id=\"chart-%s\"><b>Chart not drawn: ", ch->name);
                sb_rep_html_escape(o, ch->title);
                sb_rep_puts(o, "</b> — ");
                sb_rep_html_escape(o, ch->status == 1 ? "its SVG could not be read back" : ch->note ? ch->note : "not drawn");
                sb_rep_puts(o, " (");
                html_text(o, ch->what);
                sb_rep_printf(o, ") Its script and data are <code>%s.gp</code> and <code>%s.dat</code> in the "
                                 "report folder: run <code>gnuplot %s.gp</code> there.</div>\n",
                              ch->name, ch->name, ch->name);
            }
            break;
        }
        }
    }
    sb_rep_puts(o, "</main>\n</body>\n</html>\n");
}
