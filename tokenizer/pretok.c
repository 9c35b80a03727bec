/* Pre-tokenizers of byte-level BPE vocabularies: PCRE2 regexes chosen by tokenizer.ggml.pre.
 *
 * The regexes are the ones llama.cpp (src/llama-vocab.cpp, llm_tokenizer_bpe) lists for each
 * pre-tokenizer, which come from the models' tokenizer.json. Several are applied in sequence:
 * each one splits every piece left by the previous one into its matches and the text between
 * matches (which stays a piece of its own), exactly as llama.cpp's unicode_regex_split does.
 * A piece is a subject of its own: `$` and lookaheads see the end of the piece.
 *
 * Compiled with PCRE2_UTF | PCRE2_UCP (Unicode properties for \p{..}, \s, ...), JIT when the
 * library has it. llama.cpp counts U+0085 (NEL) as whitespace and PCRE2's \s may not, so \s
 * and \S are widened to include it before compiling.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/internal.h"

/* ---- the regexes ---------------------------------------------------------------------------- */

#define RE_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
#define RE_LLAMA3 "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}" \
                  "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_QWEN2 "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}" \
                 "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
/* DeepSeek LLM's cased-letter class (Lu/Ll/Lt ranges of its tokenizer.json), as code points. */
#define RE_DEEPSEEK_LETTERS                                                                          \
    "\\s?[A-Za-z\\x{b5}\\x{c0}-\\x{d6}\\x{d8}-\\x{f6}\\x{f8}-\\x{1ba}\\x{1bc}-\\x{1bf}\\x{1c4}-\\x{293}"  \
    "\\x{295}-\\x{2af}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37b}-\\x{37d}\\x{37f}\\x{386}\\x{388}-\\x{38a}"  \
    "\\x{38c}\\x{38e}-\\x{3a1}\\x{3a3}-\\x{3f5}\\x{3f7}-\\x{481}\\x{48a}-\\x{52f}\\x{531}-\\x{556}"        \
    "\\x{10a0}-\\x{10c5}\\x{13a0}-\\x{13f5}\\x{13f8}-\\x{13fd}\\x{1c90}-\\x{1cba}\\x{1cbd}-\\x{1cbf}"       \
    "\\x{1d00}-\\x{1d2b}\\x{1d6b}-\\x{1d77}\\x{1d79}-\\x{1d9a}\\x{1e00}-\\x{1f15}\\x{1f18}-\\x{1f1d}"       \
    "\\x{1f20}-\\x{1f45}\\x{1f48}-\\x{1f4d}\\x{1f50}-\\x{1f57}\\x{1f59}\\x{1f5b}\\x{1f5d}"                 \
    "\\x{1f5f}-\\x{1f7d}\\x{1f80}-\\x{1fb4}\\x{1fb6}-\\x{1fbc}\\x{1fbe}\\x{1fc2}-\\x{1fc4}"                \
    "\\x{1fc6}-\\x{1fcc}\\x{1fd0}-\\x{1fd3}\\x{1fd6}-\\x{1fdb}\\x{1fe0}-\\x{1fec}\\x{1ff2}-\\x{1ff4}"       \
    "\\x{1ff6}-\\x{1ffc}\\x{2102}\\x{2107}\\x{210a}-\\x{2113}\\x{2115}\\x{2119}-\\x{211d}\\x{2124}"         \
    "\\x{2126}\\x{2128}\\x{212a}-\\x{212d}\\x{212f}-\\x{2134}\\x{2139}\\x{213c}-\\x{213f}"                 \
    "\\x{2145}-\\x{2149}\\x{214e}\\x{2183}\\x{2184}\\x{2c00}-\\x{2c7b}\\x{2c7e}-\\x{2ce4}"                 \
    "\\x{2ceb}-\\x{2cee}\\x{2cf2}\\x{2cf3}\\x{a640}-\\x{a66d}\\x{a680}-\\x{a69b}\\x{a722}-\\x{a76f}"        \
    "\\x{a771}-\\x{a787}\\x{a78b}-\\x{a78e}\\x{ab70}-\\x{abbf}\\x{fb00}-\\x{fb06}\\x{fb13}-\\x{fb17}"       \
    "\\x{ff21}-\\x{ff3a}\\x{ff41}-\\x{ff5a}\\x{10400}-\\x{1044f}\\x{104b0}-\\x{104d3}"                      \
    "\\x{104d8}-\\x{104fb}\\x{10c80}-\\x{10cb2}\\x{10cc0}-\\x{10cf2}\\x{118a0}-\\x{118df}"                  \
    "\\x{1e900}-\\x{1e943}]+"
/* CJK ideographs 一-龥, U+0800-U+4E00 and Hangul 가-퟿. */
#define RE_CJK "[\\x{4e00}-\\x{9fa5}\\x{800}-\\x{4e00}\\x{ac00}-\\x{d7ff}]+"

enum { PRE_ADD_BOS = 1, PRE_IGNORE_MERGES = 2, PRE_NO_BOS = 4 };

typedef struct pre_def {
    const char *names;                      /* '|'-separated tokenizer.ggml.pre values        */
    unsigned flags;                         /* PRE_*                                          */
    const char *re[SB_TOK_MAX_REGEX];       /* applied in this order, NULL-terminated         */
} pre_def;

static const pre_def pre_defs[] = {
    {"default", 0, {"[\\p{P}\\$\\+<=>\\^~\\|]+", RE_GPT2, "\\p{N}+", "[0-9][0-9][0-9]"}},
    {"llama3|llama-v3|llama-bpe|falcon3|falcon-h1|pixtral|midm-2.0|lfm2", PRE_ADD_BOS | PRE_IGNORE_MERGES, {RE_LLAMA3}},
    {"dbrx|smaug-bpe", 0, {RE_LLAMA3}},
    {"glm4|chatglm-bpe", PRE_NO_BOS, {RE_LLAMA3}},
    {"deepseek-llm", 0, {"[\r\n]", RE_DEEPSEEK_LETTERS,
                         "\\s?[!-/:-~\\x{ff01}-\\x{ff0f}\\x{ff1a}-\\x{ff5e}\\x{2018}-\\x{201f}\\x{3000}-\\x{3002}]+",
                         "\\s+$", RE_CJK, "\\p{N}+"}},
    {"deepseek-coder", 0, {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", RE_CJK, "\\p{N}"}},
    {"falcon", 0, {"[\\p{P}\\$\\+<=>\\^~\\|`]+", RE_GPT2, "[0-9][0-9][0-9]"}},
    {"starcoder|refact|command-r|smollm|codeshell|exaone|minerva-7b", 0, {"\\p{N}", RE_GPT2}},
    {"gpt-2|phi-2|jina-es|jina-de|gigachat|jina-v2-es|jina-v2-de|mpt|olmo|jais|trillion|exaone4|"
     "jina-v1-en|jina-v2-code|roberta-bpe", 0, {RE_GPT2}},
    {"qwen2|deepseek-r1-qwen|megrez|stablelm2", 0, {RE_QWEN2}},
    {"poro-chat|bloom|gpt3-finnish", 0, {" ?[^(\\s|.,!?\\x{2026}\\x{3002}\\x{ff0c}\\x{3001}\\x{964}\\x{6d4}\\x{60c})]+"}},
};

static int name_in(const char *names, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = names; *p;) {
        const char *e = strchr(p, '|');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && memcmp(p, name, n) == 0) return 1;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

/* Rewrites \s as [\s\x{85}] (inside a class: \s\x{85}) and \S as [^\s\x{85}]; the other escapes
 * are copied. out must hold 6 * strlen(re) + 1 bytes (\S, 2 bytes, becomes 11). */
static void widen_space(const char *re, char *out)
{
    int in_class = 0;
    size_t o = 0;
    for (size_t i = 0; re[i]; i++) {
        char c = re[i];
        if (c == '\\' && re[i + 1]) {
            char e = re[++i];
            if (e == 's') {
                const char *r = in_class ? "\\s\\x{85}" : "[\\s\\x{85}]";
                memcpy(out + o, r, strlen(r)); o += strlen(r);
            } else if (e == 'S' && !in_class) {
                memcpy(out + o, "[^\\s\\x{85}]", 11); o += 11;
            } else {
                out[o++] = '\\'; out[o++] = e;
            }
            continue;
        }
        if (c == '[' && !in_class) {
            in_class = 1;
            out[o++] = c;
            if (re[i + 1] == '^') out[o++] = re[++i];
            continue;
        }
        if (c == ']' && in_class) in_class = 0;
        out[o++] = c;
    }
    out[o] = 0;
}

int pretok_setup(sb_tokenizer *t, char *err, size_t errlen)
{
    const pre_def *def = NULL;
    for (size_t i = 0; i < sizeof pre_defs / sizeof *pre_defs && !def; i++)
        if (name_in(pre_defs[i].names, t->pre_name)) def = &pre_defs[i];
    if (!def) {
        if (err && errlen) {
            char shown[80];
            size_t o = 0;
            for (size_t i = 0; t->pre_name[i] && o + 5 < sizeof shown; i++) {
                unsigned char c = (unsigned char)t->pre_name[i];
                if (c >= 0x20 && c < 0x7f) shown[o++] = (char)c;
                else o += (size_t)snprintf(shown + o, sizeof shown - o, "\\x%02x", c);
            }
            shown[o] = 0;
            snprintf(err, errlen, "tokenizer.ggml.pre '%s' (pre-tokenizer) is not supported; supported: default, gpt-2, "
                     "llama-bpe/llama3, qwen2, deepseek-llm, deepseek-coder, falcon, starcoder, refact, mpt, smollm, "
                     "command-r, olmo, dbrx, chatglm-bpe, stablelm2, poro-chat, bloom and aliases", shown);
        }
        return SB_TOK_E_UNSUPPORTED;
    }
    if (def->flags & PRE_ADD_BOS) t->add_bos = 1;
    if (def->flags & PRE_IGNORE_MERGES) t->ignore_merges = 1;
    if (def->flags & PRE_NO_BOS) t->bos = -1;

    uint32_t has_jit = 0;
    pcre2_config(PCRE2_CONFIG_JIT, &has_jit);
    for (int i = 0; i < SB_TOK_MAX_REGEX && def->re[i]; i++) {
        char *pat = malloc(strlen(def->re[i]) * 6 + 1);
        if (!pat) return SB_TOK_E_NOMEM;
        widen_space(def->re[i], pat);
        int ec;
        PCRE2_SIZE eo;
        pcre2_code *code = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                                         PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &ec, &eo, NULL);
        free(pat);
        if (!code) {
            PCRE2_UCHAR msg[160];
            pcre2_get_error_message(ec, msg, sizeof msg);
            if (err && errlen)
                snprintf(err, errlen, "pre-tokenizer '%s': regex %d does not compile at offset %zu: %s",
                         t->pre_name, i, (size_t)eo, (const char *)msg);
            return SB_TOK_E_UNSUPPORTED;
        }
        if (has_jit) pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  /* falls back to the interpreter */
        t->re[t->n_re++] = code;
    }
    return SB_TOK_OK;
}

void pretok_free(sb_tokenizer *t)
{
    for (int i = 0; i < t->n_re; i++) pcre2_code_free((pcre2_code *)t->re[i]);
    t->n_re = 0;
}

/* ---- splitting ------------------------------------------------------------------------------ */

typedef struct span_vec { span *v; size_t n, cap; } span_vec;

static int span_push(span_vec *s, size_t start, size_t len)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        span *nv = realloc(s->v, nc * sizeof *nv);
        if (!nv) return SB_TOK_E_NOMEM;
        s->v = nv;
        s->cap = nc;
    }
    s->v[s->n].start = start;
    s->v[s->n].len = len;
    s->n++;
    return SB_TOK_OK;
}

static size_t utf8_char_len(unsigned char c)
{
    return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

int pretok_split(const sb_tokenizer *t, const char *text, size_t len, span **words, size_t *n_words)
{
    *words = NULL;
    *n_words = 0;
    span_vec cur = {0}, next = {0};
    int rc = SB_TOK_OK;
    if (len == 0) return SB_TOK_OK;
    if (span_push(&cur, 0, len)) return SB_TOK_E_NOMEM;

    pcre2_match_context *mctx = pcre2_match_context_create(NULL);
    pcre2_jit_stack *jstack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, NULL);
    pcre2_match_data *md = pcre2_match_data_create(4, NULL);
    if (!mctx || !md) { rc = SB_TOK_E_NOMEM; goto out; }
    if (jstack) pcre2_jit_stack_assign(mctx, NULL, jstack);
    pcre2_set_match_limit(mctx, 10u * 1000 * 1000);  /* bounds pathological backtracking */

    for (int r = 0; r < t->n_re; r++) {
        const pcre2_code *code = t->re[r];
        next.n = 0;
        for (size_t k = 0; k < cur.n; k++) {
            const char *subj = text + cur.v[k].start;
            size_t n = cur.v[k].len, pos = 0, last = 0;
            while (pos < n) {
                int m = pcre2_match(code, (PCRE2_SPTR)subj, n, pos, PCRE2_NO_UTF_CHECK, md, mctx);
                if (m == PCRE2_ERROR_NOMATCH) break;
                if (m < 0) { rc = SB_TOK_E_INPUT; goto out; }  /* match or JIT-stack limit hit */
                PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
                size_t ms = ov[0], me = ov[1];
                if (ms > last && span_push(&next, cur.v[k].start + last, ms - last)) { rc = SB_TOK_E_NOMEM; goto out; }
                if (me > ms) {
                    if (span_push(&next, cur.v[k].start + ms, me - ms)) { rc = SB_TOK_E_NOMEM; goto out; }
                    pos = me;
                } else {
                    /* empty match: nothing to emit, step over one character */
                    pos = ms + utf8_char_len((unsigned char)subj[ms]);
                    if (pos > n) pos = n;
                }
                last = me > ms ? me : ms;
            }
            if (last < n && span_push(&next, cur.v[k].start + last, n - last)) { rc = SB_TOK_E_NOMEM; goto out; }
        }
        span_vec tmp = cur;
        cur = next;
        next = tmp;
    }
    *words = cur.v;
    *n_words = cur.n;
    cur.v = NULL;
out:
    free(cur.v);
    free(next.v);
    pcre2_match_data_free(md);
    pcre2_match_context_free(mctx);
    if (jstack) pcre2_jit_stack_free(jstack);
    return rc;
}
