/* Sampling a token from logits: greedy, or temperature → top-k → softmax → top-p → draw, with a
 * seeded generator so that a run is reproducible.
 */
#include "runtime/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct cand {
    float p;     /* logit, then probability */
    int32_t id;
} cand;

struct sb_sampler {
    sb_sampler_opts o;
    int32_t n_vocab;
    uint64_t rng;    /* xorshift64* state, never 0 */
    cand *c;         /* (n_vocab) candidates */
};

int sb_sampler_new(const sb_sampler_opts *o, int32_t n_vocab, sb_sampler **out)
{
    if (!o || !out || n_vocab < 1 || !(o->temperature >= 0) || o->top_k < 0 ||
        !(o->top_p > 0 && o->top_p <= 1))
        return SB_MODEL_E_ARG;
    sb_sampler *s = calloc(1, sizeof *s);
    if (!s) return SB_MODEL_E_NOMEM;
    s->c = malloc((size_t)n_vocab * sizeof *s->c);
    if (!s->c) { free(s); return SB_MODEL_E_NOMEM; }
    s->o = *o;
    s->n_vocab = n_vocab;
    /* splitmix64 of the seed, so that seeds 0, 1, 2 ... give unrelated streams */
    uint64_t z = o->seed + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    s->rng = (z ^ (z >> 31)) | 1;
    *out = s;
    return SB_MODEL_OK;
}

void sb_sampler_free(sb_sampler *s)
{
    if (!s) return;
    free(s->c);
    free(s);
}

/* Uniform float in [0, 1) from xorshift64*. */
static float rand_f32(sb_sampler *s)
{
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return (float)((s->rng * 0x2545F4914F6CDD1Dull) >> 40) / 16777216.0f;
}

static int32_t argmax(const float *x, int32_t n)
{
    int32_t best = 0;
    for (int32_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static int cmp_desc(const void *a, const void *b)
{
    float pa = ((const cand *)a)->p, pb = ((const cand *)b)->p;
    if (pa > pb) return -1;
    if (pa < pb) return 1;
    return ((const cand *)a)->id - ((const cand *)b)->id;
}

/* Keeps the k largest candidates of c[0..n) in c[0..k), in descending order: a min-heap of k
 * over one pass (n log k, fine for vocabularies of 150k). */
static void sift_down(cand *h, int32_t k, int32_t i)
{
    for (;;) {
        int32_t l = 2 * i + 1, r = l + 1, min = i;
        if (l < k && cmp_desc(&h[l], &h[min]) > 0) min = l;
        if (r < k && cmp_desc(&h[r], &h[min]) > 0) min = r;
        if (min == i) return;
        cand t = h[i]; h[i] = h[min]; h[min] = t;
        i = min;
    }
}

static void top_k(cand *c, int32_t n, int32_t k)
{
    for (int32_t i = k / 2 - 1; i >= 0; i--) sift_down(c, k, i);
    for (int32_t i = k; i < n; i++)
        if (cmp_desc(&c[i], &c[0]) < 0) { /* larger than the smallest kept */
            c[0] = c[i];
            sift_down(c, k, 0);
        }
    qsort(c, (size_t)k, sizeof *c, cmp_desc);
}

int32_t sb_sampler_sample(sb_sampler *s, float *logits)
{
    if (!s || !logits) return -1;
    const int32_t n_vocab = s->n_vocab;
    if (s->o.temperature == 0.0f) return argmax(logits, n_vocab);

    int32_t n = n_vocab;
    for (int32_t i = 0; i < n; i++) {
        s->c[i].p = logits[i] / s->o.temperature;
        s->c[i].id = i;
    }
    int sorted = 0;
    if (s->o.top_k > 0 && s->o.top_k < n) {
        top_k(s->c, n, s->o.top_k);
        n = s->o.top_k;
        sorted = 1;
    }
    /* softmax over the candidates */
    float max = s->c[0].p;
    for (int32_t i = 1; i < n; i++)
        if (s->c[i].p > max) max = s->c[i].p;
    double sum = 0;
    for (int32_t i = 0; i < n; i++) {
        s->c[i].p = expf(s->c[i].p - max);
        sum += s->c[i].p;
    }
    for (int32_t i = 0; i < n; i++) s->c[i].p = (float)(s->c[i].p / sum);

    /* top-p: the smallest prefix of the sorted candidates whose mass reaches top_p. Tokens below
     * (1 - top_p) / (n - 1) cannot be in it (llama2.c's trick), so only the rest is sorted. */
    double mass = 1.0;
    if (s->o.top_p < 1.0f) {
        if (!sorted) {
            float cutoff = (1.0f - s->o.top_p) / (float)(n > 1 ? n - 1 : 1);
            int32_t kept = 0;
            for (int32_t i = 0; i < n; i++)
                if (s->c[i].p >= cutoff) s->c[kept++] = s->c[i];
            n = kept;
            qsort(s->c, (size_t)n, sizeof *s->c, cmp_desc);
        }
        double cum = 0;
        int32_t last = n - 1;
        for (int32_t i = 0; i < n; i++) {
            cum += s->c[i].p;
            if (cum >= s->o.top_p) { last = i; break; }
        }
        n = last + 1;
        mass = cum;
    } else {
        mass = 0;
        for (int32_t i = 0; i < n; i++) mass += s->c[i].p;
    }
    /* draw */
    double r = rand_f32(s) * mass, cum = 0;
    for (int32_t i = 0; i < n; i++) {
        cum += s->c[i].p;
        if (r < cum) return s->c[i].id;
    }
    return s->c[n - 1].id;
}
