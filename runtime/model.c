/* Model load: hyperparameters from the `<arch>.*` keys, the tensor table checked against them,
 * and a memory check before anything large is touched.
 *
 * Order of a load, so that a bad or too-large file is refused cheaply:
 *   1. open the GGUF (structure validated by the reader, tensors mmap'd, nothing read yet)
 *   2. hyperparameters: required keys present with the right type (G15), values sane (G16)
 *   3. tensor table: every tensor the architecture needs, with the shape the hyperparameters
 *      imply (G17); weights are pointers into the mapping
 *   4. memory: weights + KV cache + activations vs MemAvailable (G19)
 *   5. tokenizer (G18) and back end
 */
#include "runtime/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ================================================================ small helpers */

/* Declared in runtime/internal.h: the runtime's one way to report an error. */
int sb_rt_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

static double gib(uint64_t bytes) { return (double)bytes / (1024.0 * 1024.0 * 1024.0); }

sb_model_opts sb_model_default_opts(void)
{
    sb_model_opts o;
    memset(&o, 0, sizeof o);
    o.backend = "cpu";
    o.n_threads = 0;
    o.n_ctx = 0;
    o.kv_type = SB_TYPE_F32;
    o.skip_memory_check = 0;
    return o;
}

/* MemAvailable from /proc/meminfo in bytes; 0 when unknown (then the check is skipped). */
static uint64_t mem_available_bytes(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return 0;
    char line[256];
    uint64_t kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %" SCNu64 " kB", &kb) == 1) break;
    fclose(f);
    return kb * 1024;
}

/* ================================================================ hyperparameters (G15, G16) */

/* The G15 error for a key the getter refused (rc != 0): missing, of another type than
 * `expected`, or unreadable; each message names the file and the key. */
static int key_error(const sb_gguf *g, const char *key, int rc, const char *expected, char *err, size_t errlen)
{
    if (rc == SB_GGUF_E_NOT_FOUND)
        return sb_rt_fail(err, errlen, SB_MODEL_E_META, "%s: required key '%s' is missing", sb_gguf_path(g), key);
    if (rc == SB_GGUF_E_WRONG_TYPE)
        return sb_rt_fail(err, errlen, SB_MODEL_E_META, "%s: key '%s' has type %s, expected %s", sb_gguf_path(g), key,
                          sb_gguf_vtype_name(sb_gguf_kv_type(g, sb_gguf_find_key(g, key))), expected);
    return sb_rt_fail(err, errlen, SB_MODEL_E_META, "%s: key '%s' unreadable (%s)", sb_gguf_path(g), key,
                      sb_gguf_status_name(rc));
}

/* Reads an integer key `<arch>.<name>` into *out. Missing: *out = dflt when optional, else an
 * error naming the key. Wrong type or out of [lo, hi]: an error naming the key. */
static int read_int(const sb_gguf *g, const char *arch, const char *name, int required,
                    int64_t dflt, int64_t lo, int64_t hi, int32_t *out, char *err, size_t errlen)
{
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, name);
    int64_t v;
    int rc = sb_gguf_get_i64(g, key, &v, NULL);
    if (rc == SB_GGUF_E_NOT_FOUND && !required) { *out = (int32_t)dflt; return SB_MODEL_OK; }
    if (rc) return key_error(g, key, rc, "an integer", err, errlen);
    if (v < lo || v > hi)
        return sb_rt_fail(err, errlen, SB_MODEL_E_HPARAMS, "%s: %s = %" PRId64 " is out of range [%" PRId64
                          ", %" PRId64 "]", sb_gguf_path(g), key, v, lo, hi);
    *out = (int32_t)v;
    return SB_MODEL_OK;
}

/* The same for a float key; the value must be finite and in (lo, hi]. */
static int read_float(const sb_gguf *g, const char *arch, const char *name, int required,
                      float dflt, float lo, float hi, float *out, char *err, size_t errlen)
{
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, name);
    float v;
    int rc = sb_gguf_get_f32(g, key, &v, NULL);
    if (rc == SB_GGUF_E_NOT_FOUND && !required) { *out = dflt; return SB_MODEL_OK; }
    if (rc) return key_error(g, key, rc, "a float", err, errlen);
    if (!isfinite(v) || !(v > lo) || v > hi)
        return sb_rt_fail(err, errlen, SB_MODEL_E_HPARAMS, "%s: %s = %g is out of range (%g, %g]",
                          sb_gguf_path(g), key, (double)v, (double)lo, (double)hi);
    *out = v;
    return SB_MODEL_OK;
}

/* Optional string key `<arch>.<name>` into buf ("" when absent). */
static int read_str(const sb_gguf *g, const char *arch, const char *name, char *buf, size_t buflen,
                    char *err, size_t errlen)
{
    char key[128];
    if (arch) snprintf(key, sizeof key, "%s.%s", arch, name);
    else snprintf(key, sizeof key, "%s", name);
    const char *s;
    size_t len;
    buf[0] = 0;
    int rc = sb_gguf_get_str(g, key, &s, &len, NULL);
    if (rc == SB_GGUF_E_NOT_FOUND) return SB_MODEL_OK;
    if (rc) return key_error(g, key, rc, "a string", err, errlen);
    if (len >= buflen) len = buflen - 1;
    memcpy(buf, s, len);
    buf[len] = 0;
    return SB_MODEL_OK;
}

/* Limits well above any real model, so that absurd values are refused before they size
 * anything (G16). */
#define MAX_LAYERS 1024
#define MAX_EMBD (1 << 17)
#define MAX_HEADS 4096
#define MAX_FF (1 << 20)
#define MAX_VOCAB (1 << 23)
#define MAX_HEAD_DIM 1024

/* Llama-3 rope scaling parameters (rope.scaling.type = "llama3"). */
typedef struct rope_scaling {
    char type[32];
    float factor, low_freq_factor, high_freq_factor;
    int32_t orig_ctx;
} rope_scaling;

static int read_hparams(const sb_gguf *g, sb_hparams *hp, rope_scaling *rs, char *err, size_t errlen)
{
    memset(hp, 0, sizeof *hp);
    memset(rs, 0, sizeof *rs);
    int rc;
    char arch[64];
    if ((rc = read_str(g, NULL, "general.architecture", arch, sizeof arch, err, errlen))) return rc;
    if (!arch[0])
        return sb_rt_fail(err, errlen, SB_MODEL_E_META, "%s: required key 'general.architecture' is missing",
                          sb_gguf_path(g));
    if (strcmp(arch, "llama") && strcmp(arch, "qwen2"))
        return sb_rt_fail(err, errlen, SB_MODEL_E_ARCH,
                          "%s: architecture '%s' is not supported (supported: llama, qwen2)",
                          sb_gguf_path(g), arch);
    snprintf(hp->arch, sizeof hp->arch, "%.31s", arch);

    if ((rc = read_int(g, arch, "context_length", 1, 0, 1, INT32_MAX, &hp->n_ctx_train, err, errlen)) ||
        (rc = read_int(g, arch, "embedding_length", 1, 0, 1, MAX_EMBD, &hp->n_embd, err, errlen)) ||
        (rc = read_int(g, arch, "block_count", 1, 0, 1, MAX_LAYERS, &hp->n_layer, err, errlen)) ||
        (rc = read_int(g, arch, "feed_forward_length", 1, 0, 1, MAX_FF, &hp->n_ff, err, errlen)) ||
        (rc = read_int(g, arch, "attention.head_count", 1, 0, 1, MAX_HEADS, &hp->n_head, err, errlen)) ||
        (rc = read_int(g, arch, "attention.head_count_kv", 0, hp->n_head, 1, MAX_HEADS,
                       &hp->n_head_kv, err, errlen)) ||
        (rc = read_float(g, arch, "attention.layer_norm_rms_epsilon", 1, 0, 0.0f, 1.0f, &hp->rms_eps,
                         err, errlen)) ||
        (rc = read_float(g, arch, "rope.freq_base", 0, 10000.0f, 0.0f, 1e12f, &hp->rope_freq_base,
                         err, errlen)))
        return rc;
    if (hp->n_head % hp->n_head_kv)
        return sb_rt_fail(err, errlen, SB_MODEL_E_HPARAMS,
                          "%s: %s.attention.head_count (%d) is not divisible by head_count_kv (%d)",
                          sb_gguf_path(g), arch, hp->n_head, hp->n_head_kv);
    /* head_dim: explicit key_length, else n_embd / n_head (which must then divide). */
    char key[128];
    snprintf(key, sizeof key, "%s.attention.key_length", arch);
    if (sb_gguf_find_key(g, key) >= 0) {
        if ((rc = read_int(g, arch, "attention.key_length", 1, 0, 1, MAX_HEAD_DIM, &hp->head_dim,
                           err, errlen)))
            return rc;
        int32_t vlen;
        if ((rc = read_int(g, arch, "attention.value_length", 0, hp->head_dim, 1, MAX_HEAD_DIM,
                           &vlen, err, errlen)))
            return rc;
        if (vlen != hp->head_dim)
            return sb_rt_fail(err, errlen, SB_MODEL_E_HPARAMS, "%s: %s.attention.value_length %d != key_length %d",
                              sb_gguf_path(g), arch, vlen, hp->head_dim);
    } else {
        if (hp->n_embd % hp->n_head)
            return sb_rt_fail(err, errlen, SB_MODEL_E_HPARAMS,
                              "%s: %s.embedding_length (%d) is not divisible by attention.head_count (%d)",
                              sb_gguf_path(g), arch, hp->n_embd, hp->n_head);
        hp->head_dim = hp->n_embd / hp->n_head;
        if (hp->head_dim > MAX_HEAD_DIM)
            return sb_rt_fail(err, errlen, SB_MODEL_E_HPARAMS, "%s: head dimension %d is over %d",
                              sb_gguf_path(g), hp->head_dim, MAX_HEAD_DIM);
    }
    if ((rc = read_int(g, arch, "rope.dimension_count", 0, hp->head_dim, 2, hp->head_dim,
                       &hp->n_rot, err, errlen)))
        return rc;
    if (hp->n_rot % 2)
        return sb_rt_fail(err, errlen, SB_MODEL_E_HPARAMS, "%s: %s.rope.dimension_count %d is odd",
                          sb_gguf_path(g), arch, hp->n_rot);
    if ((rc = read_int(g, arch, "vocab_size", 0, 0, 1, MAX_VOCAB, &hp->n_vocab, err, errlen)))
        return rc;
    hp->rope_mode = strcmp(arch, "qwen2") == 0 ? SB_ROPE_NEOX : SB_ROPE_NORMAL;

    /* Rope scaling: none, linear (positions scaled) or llama3 (per-frequency factors). */
    hp->rope_freq_scale = 1.0f;
    if ((rc = read_str(g, arch, "rope.scaling.type", rs->type, sizeof rs->type, err, errlen)))
        return rc;
    if ((rc = read_float(g, arch, "rope.scaling.factor", 0, 1.0f, 0.0f, 1e6f, &rs->factor, err, errlen)) ||
        (rc = read_float(g, arch, "rope.scaling.low_freq_factor", 0, 1.0f, 0.0f, 1e6f,
                         &rs->low_freq_factor, err, errlen)) ||
        (rc = read_float(g, arch, "rope.scaling.high_freq_factor", 0, 4.0f, 0.0f, 1e6f,
                         &rs->high_freq_factor, err, errlen)) ||
        (rc = read_int(g, arch, "rope.scaling.original_context_length", 0, 8192, 1, INT32_MAX,
                       &rs->orig_ctx, err, errlen)))
        return rc;
    float scale_linear = 1.0f; /* older files: <arch>.rope.scale_linear */
    if ((rc = read_float(g, arch, "rope.scale_linear", 0, 1.0f, 0.0f, 1e6f, &scale_linear, err, errlen)))
        return rc;
    if (!rs->type[0] || !strcmp(rs->type, "none")) {
        hp->rope_freq_scale = 1.0f / scale_linear;
    } else if (!strcmp(rs->type, "linear")) {
        hp->rope_freq_scale = 1.0f / rs->factor;
    } else if (!strcmp(rs->type, "llama3")) {
        if (!(rs->high_freq_factor > rs->low_freq_factor))
            return sb_rt_fail(err, errlen, SB_MODEL_E_HPARAMS,
                              "%s: rope scaling high_freq_factor %g must exceed low_freq_factor %g",
                              sb_gguf_path(g), (double)rs->high_freq_factor, (double)rs->low_freq_factor);
    } else {
        return sb_rt_fail(err, errlen, SB_MODEL_E_HPARAMS, "%s: %s.rope.scaling.type '%s' is not supported "
                          "(none, linear, llama3)", sb_gguf_path(g), arch, rs->type);
    }
    return SB_MODEL_OK;
}

/* Llama-3 per-frequency rope factors (as Meta's reference and llama.cpp's converter compute
 * them): long wavelengths are stretched by `factor`, short ones kept, a smooth blend between.
 * out: n_rot/2 divisors of the rotation frequencies. */
void sb_rope_llama3_factors(float freq_base, int n_rot, float factor, float low_freq_factor,
                            float high_freq_factor, int32_t orig_ctx, float *out)
{
    const double pi = 3.14159265358979323846;
    double low_wavelen = orig_ctx / low_freq_factor;
    double high_wavelen = orig_ctx / high_freq_factor;
    for (int i = 0; i < n_rot / 2; i++) {
        double freq = 1.0 / pow(freq_base, (2.0 * i) / n_rot);
        double wavelen = 2 * pi / freq;
        if (wavelen < high_wavelen) {
            out[i] = 1.0f;
        } else if (wavelen > low_wavelen) {
            out[i] = factor;
        } else {
            double smooth = (orig_ctx / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor);
            out[i] = (float)(1.0 / ((1 - smooth) / factor + smooth));
        }
    }
}

/* ================================================================ tensors (G15, G17) */

static void shape_str(const int64_t *ne, uint32_t n_dims, char *buf, size_t len)
{
    size_t o = 0;
    o += (size_t)snprintf(buf + o, len - o, "[");
    for (uint32_t d = 0; d < n_dims && o < len; d++)
        o += (size_t)snprintf(buf + o, len - o, d ? ", %" PRId64 : "%" PRId64, ne[d]);
    if (o < len) snprintf(buf + o, len - o, "]");
}

/* Finds tensor `name` and checks its shape is [ne0] (ne1 == 0) or [ne0, ne1]. NULL tensor
 * (optional and absent) → *out = NULL and OK. `what` explains the expected shape. */
static int find_checked(const sb_model *m, const char *name, int required, int64_t ne0, int64_t ne1,
                        const char *what, const sb_gguf_tensor **out, char *err, size_t errlen)
{
    const sb_gguf_tensor *t = sb_gguf_find_tensor(m->gguf, name);
    *out = t;
    if (!t) {
        if (!required) return SB_MODEL_OK;
        return sb_rt_fail(err, errlen, SB_MODEL_E_META, "%s: required tensor '%s' is missing",
                          sb_gguf_path(m->gguf), name);
    }
    uint32_t want_dims = ne1 ? 2 : 1;
    int ok = t->ne[0] == ne0 && (ne1 ? t->ne[1] == ne1 : t->ne[1] == 1) && t->ne[2] == 1 && t->ne[3] == 1;
    if (!ok) {
        char got[96], want[96];
        int64_t w[2] = {ne0, ne1};
        shape_str(t->ne, t->n_dims ? t->n_dims : 1, got, sizeof got);
        shape_str(w, want_dims, want, sizeof want);
        return sb_rt_fail(err, errlen, SB_MODEL_E_SHAPE,
                          "%s: tensor '%s' has shape %s, expected %s (%s)", sb_gguf_path(m->gguf), name,
                          got, want, what);
    }
    if (((uintptr_t)t->data) % 4)
        return sb_rt_fail(err, errlen, SB_MODEL_E_FILE, "%s: tensor '%s' data is not 4-byte aligned",
                          sb_gguf_path(m->gguf), name);
    return SB_MODEL_OK;
}

/* A weight matrix of rows × cols in a format the kernels support. */
static int load_matrix(sb_model *m, const char *name, int64_t rows, int64_t cols, const char *what,
                       sb_weight *w, char *err, size_t errlen)
{
    const sb_gguf_tensor *t;
    int rc = find_checked(m, name, 1, cols, rows, what, &t, err, errlen);
    if (rc) return rc;
    if (!sb_type_is_weight_format((sb_type)t->type)) {
        const char *tn = sb_gguf_type_name(t->type);
        return sb_rt_fail(err, errlen, SB_MODEL_E_META, "%s: tensor '%s' has type %s, which the kernels "
                          "do not support", sb_gguf_path(m->gguf), name, tn ? tn : "?");
    }
    w->data = t->data;
    w->type = (sb_type)t->type;
    w->rows = rows;
    w->cols = cols;
    return SB_MODEL_OK;
}

/* A vector of n floats: used in place when stored f32, else converted once into a buffer the
 * model owns (some converters store norms as f16). Optional and absent → *out = NULL. */
static int load_vector(sb_model *m, const char *name, int required, int64_t n, const char *what,
                       const float **out, char *err, size_t errlen)
{
    const sb_gguf_tensor *t;
    int rc = find_checked(m, name, required, n, 0, what, &t, err, errlen);
    *out = NULL;
    if (rc || !t) return rc;
    if (t->type == SB_TYPE_F32) {
        *out = (const float *)t->data;
        return SB_MODEL_OK;
    }
    if (!sb_type_is_weight_format((sb_type)t->type) || sb_type_block_elems((sb_type)t->type) != 1)
        return sb_rt_fail(err, errlen, SB_MODEL_E_META, "%s: tensor '%s' has type %s, expected f32/f16/bf16",
                          sb_gguf_path(m->gguf), name, sb_gguf_type_name(t->type) ? sb_gguf_type_name(t->type) : "?");
    float **owned = realloc(m->owned, (size_t)(m->n_owned + 1) * sizeof *owned);
    if (!owned) return sb_rt_fail(err, errlen, SB_MODEL_E_NOMEM, "out of memory");
    m->owned = owned;
    float *v = malloc((size_t)n * sizeof *v);
    if (!v) return sb_rt_fail(err, errlen, SB_MODEL_E_NOMEM, "out of memory");
    m->owned[m->n_owned++] = v;
    if (sb_dequantize_row((sb_type)t->type, t->data, v, n))
        return sb_rt_fail(err, errlen, SB_MODEL_E_KERNEL, "%s: cannot convert tensor '%s'", sb_gguf_path(m->gguf),
                          name);
    *out = v;
    return SB_MODEL_OK;
}

static int load_tensors(sb_model *m, const rope_scaling *rs, char *err, size_t errlen)
{
    sb_hparams *hp = &m->hp;
    const int64_t embd = hp->n_embd, ff = hp->n_ff;
    const int64_t q_dim = (int64_t)hp->n_head * hp->head_dim;
    const int64_t kv_dim = (int64_t)hp->n_head_kv * hp->head_dim;
    const int qwen2 = !strcmp(hp->arch, "qwen2");
    int rc;

    /* The vocabulary size comes from the key when present, else from the embedding table. */
    const sb_gguf_tensor *te = sb_gguf_find_tensor(m->gguf, "token_embd.weight");
    if (!te) return sb_rt_fail(err, errlen, SB_MODEL_E_META, "%s: required tensor 'token_embd.weight' is missing",
                               sb_gguf_path(m->gguf));
    if (hp->n_vocab == 0) {
        if (te->ne[1] < 1 || te->ne[1] > MAX_VOCAB)
            return sb_rt_fail(err, errlen, SB_MODEL_E_HPARAMS, "%s: vocabulary size %" PRId64 " (rows of "
                              "token_embd.weight) is out of range", sb_gguf_path(m->gguf), te->ne[1]);
        hp->n_vocab = (int32_t)te->ne[1];
    }
    if ((rc = load_matrix(m, "token_embd.weight", hp->n_vocab, embd, "n_embd × n_vocab",
                          &m->token_embd, err, errlen)) ||
        (rc = load_vector(m, "output_norm.weight", 1, embd, "n_embd", &m->output_norm, err, errlen)))
        return rc;
    if (sb_gguf_find_tensor(m->gguf, "output.weight")) {
        if ((rc = load_matrix(m, "output.weight", hp->n_vocab, embd, "n_embd × n_vocab", &m->output,
                              err, errlen)))
            return rc;
        hp->tied_output = 0;
    } else {
        m->output = m->token_embd;
        hp->tied_output = 1;
    }

    /* Llama-3 rope: a rope_freqs tensor (what llama.cpp's converter writes) or computed. */
    const float *ff_tensor;
    if ((rc = load_vector(m, "rope_freqs.weight", 0, hp->n_rot / 2, "n_rot / 2", &ff_tensor, err, errlen)))
        return rc;
    if (ff_tensor || !strcmp(rs->type, "llama3")) {
        m->freq_factors = malloc((size_t)(hp->n_rot / 2) * sizeof(float));
        if (!m->freq_factors) return sb_rt_fail(err, errlen, SB_MODEL_E_NOMEM, "out of memory");
        if (ff_tensor) memcpy(m->freq_factors, ff_tensor, (size_t)(hp->n_rot / 2) * sizeof(float));
        else sb_rope_llama3_factors(hp->rope_freq_base, hp->n_rot, rs->factor, rs->low_freq_factor,
                                    rs->high_freq_factor, rs->orig_ctx, m->freq_factors);
        for (int i = 0; i < hp->n_rot / 2; i++)
            if (!isfinite(m->freq_factors[i]) || !(m->freq_factors[i] > 0))
                return sb_rt_fail(err, errlen, SB_MODEL_E_HPARAMS, "%s: rope frequency factor %d is %g",
                                  sb_gguf_path(m->gguf), i, (double)m->freq_factors[i]);
    }

    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers) return sb_rt_fail(err, errlen, SB_MODEL_E_NOMEM, "out of memory");
    for (int l = 0; l < hp->n_layer; l++) {
        sb_layer *L = &m->layers[l];
        char n[96];
#define NAME(suffix) (snprintf(n, sizeof n, "blk.%d.%s", l, suffix), n)
        if ((rc = load_vector(m, NAME("attn_norm.weight"), 1, embd, "n_embd", &L->attn_norm, err, errlen)) ||
            (rc = load_matrix(m, NAME("attn_q.weight"), q_dim, embd, "n_embd × n_head·head_dim", &L->wq, err, errlen)) ||
            (rc = load_matrix(m, NAME("attn_k.weight"), kv_dim, embd, "n_embd × n_head_kv·head_dim", &L->wk, err, errlen)) ||
            (rc = load_matrix(m, NAME("attn_v.weight"), kv_dim, embd, "n_embd × n_head_kv·head_dim", &L->wv, err, errlen)) ||
            (rc = load_matrix(m, NAME("attn_output.weight"), embd, q_dim, "n_head·head_dim × n_embd", &L->wo, err, errlen)) ||
            (rc = load_vector(m, NAME("attn_q.bias"), qwen2, q_dim, "n_head·head_dim", &L->bq, err, errlen)) ||
            (rc = load_vector(m, NAME("attn_k.bias"), qwen2, kv_dim, "n_head_kv·head_dim", &L->bk, err, errlen)) ||
            (rc = load_vector(m, NAME("attn_v.bias"), qwen2, kv_dim, "n_head_kv·head_dim", &L->bv, err, errlen)) ||
            (rc = load_vector(m, NAME("ffn_norm.weight"), 1, embd, "n_embd", &L->ffn_norm, err, errlen)) ||
            (rc = load_matrix(m, NAME("ffn_gate.weight"), ff, embd, "n_embd × n_ff", &L->w_gate, err, errlen)) ||
            (rc = load_matrix(m, NAME("ffn_up.weight"), ff, embd, "n_embd × n_ff", &L->w_up, err, errlen)) ||
            (rc = load_matrix(m, NAME("ffn_down.weight"), embd, ff, "n_ff × n_embd", &L->w_down, err, errlen)))
            return rc;
#undef NAME
    }

    m->weight_bytes = 0;
    m->n_params = 0;
    for (int64_t i = 0; i < sb_gguf_n_tensors(m->gguf); i++) {
        const sb_gguf_tensor *t = sb_gguf_tensor_at(m->gguf, i);
        m->weight_bytes += t->size;
        m->n_params += (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
    }
    return SB_MODEL_OK;
}

/* ================================================================ memory (G19) */

uint64_t sb_model_weight_bytes(const sb_model *m) { return m ? m->weight_bytes : 0; }

/* KV bytes = 2 (K and V) · n_layer · n_ctx · n_head_kv · head_dim · element size, overflow-checked
 * (UINT64_MAX when it overflows, so a check against available memory refuses it). */
static uint64_t kv_bytes(const sb_hparams *hp, sb_type kv_type, int64_t n_ctx)
{
    uint64_t es = kv_type == SB_TYPE_F16 ? 2 : 4, b;
    if (n_ctx < 0) return UINT64_MAX;
    if (__builtin_mul_overflow((uint64_t)n_ctx, (uint64_t)hp->n_head_kv * (uint64_t)hp->head_dim, &b) ||
        __builtin_mul_overflow(b, 2 * es * (uint64_t)hp->n_layer, &b))
        return UINT64_MAX;
    return b;
}

uint64_t sb_model_kv_bytes(const sb_model *m, int64_t n_ctx)
{
    return m ? kv_bytes(&m->hp, m->kv_type, n_ctx) : 0;
}

/* Activation floats for a batch of n tokens: x, xb, xb2 (n_embd), q and attention out (q_dim),
 * k, v (kv_dim), gate, up (n_ff); plus one row of logits. */
static uint64_t activation_bytes(const sb_hparams *hp, int64_t n)
{
    uint64_t q_dim = (uint64_t)hp->n_head * (uint64_t)hp->head_dim;
    uint64_t kv_dim = (uint64_t)hp->n_head_kv * (uint64_t)hp->head_dim;
    uint64_t per_tok = 3 * (uint64_t)hp->n_embd + 2 * q_dim + 2 * kv_dim + 2 * (uint64_t)hp->n_ff;
    return 4 * ((uint64_t)n * per_tok + (uint64_t)hp->n_vocab);
}

uint64_t sb_model_activation_bytes(const sb_model *m, int64_t n_batch)
{
    return m ? activation_bytes(&m->hp, n_batch) : 0;
}

/* Weights + KV + activations + 32 MiB for code, tokenizer and kernel scratch. */
static uint64_t predict_ram(const sb_hparams *hp, sb_type kv_type, uint64_t weights, int64_t n_ctx)
{
    uint64_t kv = kv_bytes(hp, kv_type, n_ctx), total;
    int64_t n_batch = n_ctx < SB_MAX_BATCH ? n_ctx : SB_MAX_BATCH;
    if (__builtin_add_overflow(weights, kv, &total) ||
        __builtin_add_overflow(total, activation_bytes(hp, n_batch) + (32u << 20), &total))
        return UINT64_MAX;
    return total;
}

uint64_t sb_model_predict_ram(const sb_model *m, int64_t n_ctx)
{
    return m ? predict_ram(&m->hp, m->kv_type, m->weight_bytes, n_ctx) : 0;
}

static int memory_check(const sb_model *m, int64_t n_ctx, char *err, size_t errlen)
{
    uint64_t kv = kv_bytes(&m->hp, m->kv_type, n_ctx);
    if (kv == UINT64_MAX)
        return sb_rt_fail(err, errlen, SB_MODEL_E_HPARAMS, "%s: the KV cache size for a context of %" PRId64
                          " positions overflows", sb_gguf_path(m->gguf), n_ctx);
    uint64_t need = predict_ram(&m->hp, m->kv_type, m->weight_bytes, n_ctx);
    uint64_t avail = mem_available_bytes();
    if (avail && need > avail)
        return sb_rt_fail(err, errlen, SB_MODEL_E_MEMORY,
                          "%s: needs %.2f GiB (weights %.2f GiB + KV cache %.2f GiB for %" PRId64
                          " positions + activations) but only %.2f GiB is available",
                          sb_gguf_path(m->gguf), gib(need), gib(m->weight_bytes), gib(kv), n_ctx, gib(avail));
    return SB_MODEL_OK;
}

/* ================================================================ load / free */

/* Context the caller intends to use: opts->n_ctx, else 2048 or the training context if smaller. */
static int64_t intended_ctx(const sb_hparams *hp, const sb_model_opts *o)
{
    if (o->n_ctx > 0) return o->n_ctx;
    return hp->n_ctx_train < 2048 ? hp->n_ctx_train : 2048;
}

static int pick_backend(sb_model *m, const sb_model_opts *o, char *err, size_t errlen)
{
    const char *b = o->backend && o->backend[0] ? o->backend : "cpu";
    if (!strcmp(b, "ref")) {
        m->kctx.isa = SB_ISA_REF;
    } else if (!strcmp(b, "cpu")) {
        m->kctx.isa = sb_isa_default();
    } else if (!strcmp(b, "vulkan")) {
        m->kctx.isa = SB_ISA_REF; /* host-side helpers only; the pass runs on the device */
        if (o->kv_type != SB_TYPE_F32)
            return sb_rt_fail(err, errlen, SB_MODEL_E_BACKEND, "back end 'vulkan' keeps the KV cache in f32 only");
    } else {
        return sb_rt_fail(err, errlen, SB_MODEL_E_BACKEND, "unknown back end '%s' (cpu, ref, vulkan)", b);
    }
    m->kctx.n_threads = o->n_threads;
    snprintf(m->backend, sizeof m->backend, "%s", b);
    return SB_MODEL_OK;
}

/* The load proper, on an opened file (path: NULL) or a buffer (data, size, name). */
static int load(const char *path, const void *data, size_t size, const char *name,
                const sb_model_opts *opts, sb_model **out, char *err, size_t errlen)
{
    if (err && errlen) err[0] = 0;
    if (!out || (!path && !data)) return sb_rt_fail(err, errlen, SB_MODEL_E_ARG, "sb_model_load: NULL argument");
    *out = NULL;
    sb_model_opts o = opts ? *opts : sb_model_default_opts();
    if (o.kv_type != SB_TYPE_F32 && o.kv_type != SB_TYPE_F16)
        return sb_rt_fail(err, errlen, SB_MODEL_E_ARG, "KV cache type must be f32 or f16");

    sb_model *m = calloc(1, sizeof *m);
    if (!m) return sb_rt_fail(err, errlen, SB_MODEL_E_NOMEM, "out of memory");
    m->kv_type = o.kv_type;
    int rc;
    sb_gguf_error ge;
    if ((rc = path ? sb_gguf_open(path, &m->gguf, &ge)
                   : sb_gguf_open_memory(data, size, name ? name : "(memory)", &m->gguf, &ge))) {
        char msg[600];
        sb_gguf_error_format(&ge, msg, sizeof msg);
        rc = sb_rt_fail(err, errlen, SB_MODEL_E_FILE, "%s", msg);
        goto fail;
    }
    rope_scaling rs;
    if ((rc = pick_backend(m, &o, err, errlen)) ||
        (rc = read_hparams(m->gguf, &m->hp, &rs, err, errlen)) ||
        (rc = load_tensors(m, &rs, err, errlen)))
        goto fail;
    if (!o.skip_memory_check && (rc = memory_check(m, intended_ctx(&m->hp, &o), err, errlen)))
        goto fail;
    sb_gguf_prefault(m->gguf); /* the page faults belong to the load, not to the first token */

    char terr[512];
    if (sb_tok_load_gguf(m->gguf, &m->tok, terr, sizeof terr)) {
        rc = sb_rt_fail(err, errlen, SB_MODEL_E_VOCAB, "tokenizer: %s", terr);
        goto fail;
    }
    if (sb_tok_n_vocab(m->tok) > m->hp.n_vocab) {
        rc = sb_rt_fail(err, errlen, SB_MODEL_E_VOCAB, "%s: the tokenizer has %d tokens but the model only "
                        "%d embedding rows", sb_gguf_path(m->gguf), sb_tok_n_vocab(m->tok), m->hp.n_vocab);
        goto fail;
    }
    if (!strcmp(m->backend, "vulkan") && (rc = sb_vk_model_init(m, err, errlen))) goto fail;
    *out = m;
    return SB_MODEL_OK;
fail:
    sb_model_free(m);
    return rc;
}

int sb_model_load(const char *path, const sb_model_opts *opts, sb_model **out, char *err,
                  size_t errlen)
{
    if (!path) return sb_rt_fail(err, errlen, SB_MODEL_E_ARG, "sb_model_load: NULL path");
    return load(path, NULL, 0, NULL, opts, out, err, errlen);
}

int sb_model_load_memory(const void *data, size_t size, const char *name, const sb_model_opts *opts,
                         sb_model **out, char *err, size_t errlen)
{
    if (!data) return sb_rt_fail(err, errlen, SB_MODEL_E_ARG, "sb_model_load_memory: NULL data");
    return load(NULL, data, size, name, opts, out, err, errlen);
}

void sb_model_free(sb_model *m)
{
    if (!m) return;
    sb_vk_model_free(m);
    for (int i = 0; i < m->n_owned; i++) free(m->owned[i]);
    free(m->owned);
    free(m->layers);
    free(m->freq_factors);
    sb_tok_free(m->tok);
    sb_gguf_close(m->gguf);
    free(m);
}

const sb_hparams *sb_model_hparams(const sb_model *m) { return m ? &m->hp : NULL; }
const sb_tokenizer *sb_model_tokenizer(const sb_model *m) { return m ? m->tok : NULL; }
uint64_t sb_model_n_params(const sb_model *m) { return m ? m->n_params : 0; }

uint64_t sb_model_decode_bytes(const sb_model *m)
{
    if (!m) return 0;
    if (m->hp.tied_output) return m->weight_bytes;
    size_t rb = 0;
    if (sb_row_bytes(m->token_embd.type, m->token_embd.cols, &rb)) return m->weight_bytes;
    return m->weight_bytes - (uint64_t)rb * (uint64_t)m->token_embd.rows;
}
const char *sb_model_backend(const sb_model *m) { return m ? m->backend : ""; }
const sb_kctx *sb_model_kctx(const sb_model *m) { return m ? &m->kctx : NULL; }

void sb_model_backend_desc(const sb_model *m, char *buf, size_t len)
{
    if (!m) { snprintf(buf, len, "none"); return; }
    if (m->vk) {
        snprintf(buf, len, "vulkan (%s)", sb_vk_model_device(m));
    } else if (m->kctx.isa == SB_ISA_REF) {
        snprintf(buf, len, "ref (1 thread)");
    } else {
        long n = m->kctx.n_threads > 0 ? m->kctx.n_threads : sysconf(_SC_NPROCESSORS_ONLN);
        snprintf(buf, len, "cpu (%s, %ld thread%s)", sb_isa_name(m->kctx.isa), n, n == 1 ? "" : "s");
    }
}
