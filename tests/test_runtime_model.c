/* Model runtime on real models: greedy generation reproduces the reference token ids of
 * ../shared/models/MANIFEST.md on the ref and cpu back ends; batched prefill equals token-by-token
 * decode; cpu logits match ref for every weight format (quantized variants made with our own
 * quantizer). */
#include <stdlib.h>

#include "runtime/model.h"
#include "runtime/synth.h"
#include "tests/test.h"

/* Reads the first backtick-quoted list of integers after `marker` in the models manifest, so
 * the reference ids come from the manifest itself, not from a copy in this file. */
static int manifest_ids(const char *marker, int32_t *ids, int max)
{
    const char *path = test_shared_path("models/MANIFEST.md");
    if (!path) return -1;
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strstr(buf, marker);
    if (!p || !(p = strchr(p, '`'))) return -1;
    p++;
    int k = 0;
    while (k < max && *p && *p != '`') {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p) break;
        ids[k++] = (int32_t)v;
        p = end;
    }
    return k;
}

/* Greedy generation of n tokens from BOS (1), one token per eval, as llama2.c `run -t 0` does. */
static int greedy_from_bos(const char *path, const char *backend, int n, int32_t *out)
{
    sb_model_opts o = sb_model_default_opts();
    o.backend = backend;
    o.n_threads = 2;
    char err[512];
    sb_model *m;
    sb_session *s;
    int lrc = sb_model_load(path, &o, &m, err, sizeof err);
    if (lrc == SB_MODEL_E_BACKEND && strstr(err, "not available")) {
        test_skip("%s", err); /* no Vulkan device here */
        return -1;
    }
    if (lrc) {
        test_fail_at(__FILE__, __LINE__, "load %s: %s", path, err);
        return -1;
    }
    if (sb_session_new(m, n + 1, &s, err, sizeof err)) {
        test_fail_at(__FILE__, __LINE__, "session: %s", err);
        sb_model_free(m);
        return -1;
    }
    const int32_t n_vocab = sb_model_hparams(m)->n_vocab;
    float *logits = malloc((size_t)n_vocab * sizeof *logits);
    sb_sampler_opts so = {.temperature = 0, .top_k = 0, .top_p = 1, .seed = 0};
    sb_sampler *smp;
    int rc = sb_sampler_new(&so, n_vocab, &smp);
    int32_t tok = 1;
    for (int i = 0; !rc && i < n; i++) {
        rc = sb_session_eval(s, &tok, 1, logits, 0);
        if (rc) { test_fail_at(__FILE__, __LINE__, "eval: %s", sb_session_error(s)); break; }
        tok = out[i] = sb_sampler_sample(smp, logits);
    }
    sb_sampler_free(smp);
    free(logits);
    sb_session_free(s);
    sb_model_free(m);
    return rc;
}

static void check_greedy(const char *model, const char *marker, int n, const char *backend)
{
    const char *path = test_shared_path(model);
    int32_t want[128], got[128];
    if (!path) { test_skip("%s not in ../shared", model); return; }
    int k = manifest_ids(marker, want, n);
    CHECK_EQ_INT(k, n);
    if (k != n || greedy_from_bos(path, backend, n, got)) return;
    int first_diff = -1;
    for (int i = 0; i < n && first_diff < 0; i++)
        if (got[i] != want[i]) first_diff = i;
    CHECK_MSG(first_diff < 0, "%s on %s: token %d is %d, the manifest says %d", model, backend,
              first_diff, first_diff >= 0 ? got[first_diff] : 0, first_diff >= 0 ? want[first_diff] : 0);
}

static void test_stories260k_greedy_ref(void)
{
    check_greedy("models/stories260K.gguf", "First 100 greedy token ids", 100, "ref");
}
static void test_stories260k_greedy_cpu(void)
{
    check_greedy("models/stories260K.gguf", "First 100 greedy token ids", 100, "cpu");
}
/* The whole model on the Vulkan back end (lavapipe here): weights on the device, one batch of
 * dispatches per token. */
static void test_stories260k_greedy_vulkan(void)
{
    check_greedy("models/stories260K.gguf", "First 100 greedy token ids", 100, "vulkan");
}
static void test_tiny_random_greedy_vulkan(void)
{
    check_greedy("models/llama-2-tiny-random.gguf", "First 16 greedy ids", 16, "vulkan");
}
static void test_tiny_random_greedy_ref(void)
{
    check_greedy("models/llama-2-tiny-random.gguf", "First 16 greedy ids", 16, "ref");
}
static void test_tiny_random_greedy_cpu(void)
{
    check_greedy("models/llama-2-tiny-random.gguf", "First 16 greedy ids", 16, "cpu");
}

/* Logits of a prompt (every position) on a back end. */
static float *prompt_logits(const char *path, const char *backend, const int32_t *ids, int n, int32_t *n_vocab)
{
    sb_model_opts o = sb_model_default_opts();
    o.backend = backend;
    o.n_threads = 2;
    char err[512];
    sb_model *m;
    sb_session *s;
    int lrc = sb_model_load(path, &o, &m, err, sizeof err);
    if (lrc == SB_MODEL_E_BACKEND && strstr(err, "not available")) {
        test_skip("%s", err);
        return NULL;
    }
    if (lrc) {
        test_fail_at(__FILE__, __LINE__, "load %s: %s", path, err);
        return NULL;
    }
    if (sb_session_new(m, 64, &s, err, sizeof err)) {
        test_fail_at(__FILE__, __LINE__, "session: %s", err);
        sb_model_free(m);
        return NULL;
    }
    *n_vocab = sb_model_hparams(m)->n_vocab;
    float *logits = malloc((size_t)n * (size_t)*n_vocab * sizeof *logits);
    if (sb_session_eval(s, ids, n, logits, 1)) {
        test_fail_at(__FILE__, __LINE__, "eval: %s", sb_session_error(s));
        free(logits);
        logits = NULL;
    }
    sb_session_free(s);
    sb_model_free(m);
    return logits;
}

/* A back end vs ref on one file: NMSE of all logits of a 24-token prompt below bound. */
static void check_vs_ref(const char *backend, const char *path, const char *what, double bound)
{
    int32_t ids[24];
    for (int i = 0; i < 24; i++) ids[i] = i == 0 ? 1 : (int32_t)(3 + (i * 37) % 250);
    int32_t nv1 = 0, nv2 = 0;
    float *ref = prompt_logits(path, "ref", ids, 24, &nv1);
    float *cpu = prompt_logits(path, backend, ids, 24, &nv2);
    if (ref && cpu) {
        double e = test_nmse(cpu, ref, (size_t)24 * (size_t)nv1);
        printf("  %-28s %s vs ref logits NMSE %.3g (bound %.0e)\n", what, backend, e, bound);
        CHECK_MSG(e < bound, "%s on %s: NMSE %g >= %g", what, backend, e, bound);
    }
    free(ref);
    free(cpu);
}

static void check_cpu_vs_ref(const char *path, const char *what, double bound)
{
    check_vs_ref("cpu", path, what, bound);
}

/* Bounds on the NMSE of cpu vs ref logits. f32/f16: only summation order differs. bf16: the
 * AVX-512 prefill rounds activations to bf16 (vdpbf16ps), ~1e-6 per matmul. Quantized formats
 * quantize the activations (Q8_0 / Q8_K) on both sides, identically for identical inputs; but
 * the SIMD small ops and flash attention feed them inputs that differ in the last bits, so now
 * and then one activation rounds to the neighbouring step, and that propagates through the
 * layers. A random-weight model (synth) amplifies such differences more than a trained one
 * (measured: q4_0 3.6e-6 on stories260K, 1.6e-4 on test-tiny). */
static double bound_for(sb_type t, int random_weights)
{
    if (t == SB_TYPE_F32 || t == SB_TYPE_F16) return 1e-8;
    if (t == SB_TYPE_BF16) return 1e-4;
    return random_weights ? 1e-3 : 1e-4;
}

static const sb_type formats[] = {SB_TYPE_F32, SB_TYPE_F16, SB_TYPE_BF16, SB_TYPE_Q8_0,
                                  SB_TYPE_Q4_0, SB_TYPE_Q4_K, SB_TYPE_Q5_K, SB_TYPE_Q6_K};

/* stories260K requantized: matrices with 64-element rows (all but ffn_down, 172) take the
 * 32-block formats; K-quants (256) fit none of its matrices, so they are covered below. */
static void test_stories260k_cpu_vs_ref_per_format(void)
{
    const char *src = test_shared_path("models/stories260K.gguf");
    if (!src) { test_skip("stories260K.gguf not in ../shared"); return; }
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        if (sb_type_block_elems(formats[i]) == 256) continue;
        char path[512], err[512], what[64];
        snprintf(path, sizeof path, "%s/stories260K-%s.gguf", test_tmpdir(), sb_type_name(formats[i]));
        int n_quant = 0;
        int rc = sb_model_requantize(src, path, formats[i], &n_quant, err, sizeof err);
        CHECK_MSG(rc == 0, "requantize %s: %s", sb_type_name(formats[i]), err);
        if (rc) continue;
        /* per block 6 matrices of 64-element rows, plus ffn_down (172) for f16/bf16; embd, output */
        if (formats[i] != SB_TYPE_F32)
            CHECK_EQ_INT(n_quant, 5 * (sb_type_block_elems(formats[i]) == 1 ? 7 : 6) + 2);
        snprintf(what, sizeof what, "stories260K %s", sb_type_name(formats[i]));
        check_cpu_vs_ref(path, what, bound_for(formats[i], 0));
    }
}

/* A synthesized small llama (rows of 256 and 512) in every format, K-quants included. */
static void test_synth_cpu_vs_ref_per_format(void)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        char path[512], err[512], what[64];
        snprintf(path, sizeof path, "%s/tiny-%s.gguf", test_tmpdir(), sb_type_name(formats[i]));
        sb_synth_opts so = {.shape = "test-tiny", .type = formats[i], .vocab_path = NULL, .n_layer = 2, .seed = 7};
        int rc = sb_synth_write(&so, path, err, sizeof err);
        CHECK_MSG(rc == 0, "synth %s: %s", sb_type_name(formats[i]), err);
        if (rc) continue;
        snprintf(what, sizeof what, "synth test-tiny %s", sb_type_name(formats[i]));
        check_cpu_vs_ref(path, what, bound_for(formats[i], 1));
    }
}

/* One batch of n tokens gives the same logits as n evals of one token (prefill = decode). */
static void test_batched_prefill_equals_decode(void)
{
    const char *path = test_shared_path("models/stories260K.gguf");
    if (!path) { test_skip("stories260K.gguf not in ../shared"); return; }
    char err[512];
    sb_model *m;
    sb_model_opts o = sb_model_default_opts();
    o.n_threads = 2;
    if (sb_model_load(path, &o, &m, err, sizeof err)) { test_fail_at(__FILE__, __LINE__, "%s", err); return; }
    enum { N = 20 };
    int32_t ids[N];
    for (int i = 0; i < N; i++) ids[i] = i == 0 ? 1 : (int32_t)(100 + 13 * i);
    const int32_t nv = sb_model_hparams(m)->n_vocab;
    float *batch = malloc((size_t)N * (size_t)nv * sizeof(float));
    float *step = malloc((size_t)N * (size_t)nv * sizeof(float));
    sb_session *a, *b;
    CHECK(sb_session_new(m, 64, &a, err, sizeof err) == 0);
    CHECK(sb_session_new(m, 64, &b, err, sizeof err) == 0);
    CHECK(sb_session_eval(a, ids, N, batch, 1) == 0);
    for (int i = 0; i < N; i++) CHECK(sb_session_eval(b, &ids[i], 1, step + (size_t)i * (size_t)nv, 0) == 0);
    CHECK_EQ_INT(sb_session_pos(a), N);
    double e = test_nmse(batch, step, (size_t)N * (size_t)nv);
    CHECK_MSG(e < 1e-10, "batched vs step NMSE %g", e);
    sb_session_free(a);
    sb_session_free(b);
    free(batch);
    free(step);
    sb_model_free(m);
}

/* Vulkan vs ref for the formats the device kernels take, on the synthesized small llama and
 * qwen2 (whole prompt in one batch: the device's matmul and flash-attention prefill paths). */
static void test_vulkan_vs_ref(void)
{
    static const sb_type vf[] = {SB_TYPE_F16, SB_TYPE_Q8_0, SB_TYPE_Q4_K, SB_TYPE_Q6_K};
    for (size_t i = 0; i < sizeof vf / sizeof vf[0]; i++) {
        char path[512], err[512], what[64];
        const char *shape = i % 2 ? "test-tiny-qwen2" : "test-tiny";
        snprintf(path, sizeof path, "%s/vk-%s.gguf", test_tmpdir(), sb_type_name(vf[i]));
        sb_synth_opts so = {.shape = shape, .type = vf[i], .vocab_path = NULL, .n_layer = 2, .seed = 11};
        CHECK_MSG(sb_synth_write(&so, path, err, sizeof err) == 0, "%s", err);
        snprintf(what, sizeof what, "%s %s", shape, sb_type_name(vf[i]));
        check_vs_ref("vulkan", path, what, bound_for(vf[i], 1));
        if (test_failed_now()) return;
    }
}

int main(void)
{
    RUN(test_stories260k_greedy_ref);
    RUN(test_stories260k_greedy_cpu);
    RUN(test_stories260k_greedy_vulkan);
    RUN(test_tiny_random_greedy_ref);
    RUN(test_tiny_random_greedy_cpu);
    RUN(test_tiny_random_greedy_vulkan);
    RUN(test_batched_prefill_equals_decode);
    RUN(test_stories260k_cpu_vs_ref_per_format);
    RUN(test_synth_cpu_vs_ref_per_format);
    RUN(test_vulkan_vs_ref);
    return test_finish();
}
