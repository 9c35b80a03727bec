/* Sampler: greedy is the argmax; top-k 1 and a tiny top-p reduce to it; a seed reproduces a
 * sequence; temperature-1 draws follow the softmax. */
#include <stdlib.h>

#include "runtime/model.h"
#include "tests/test.h"

static int32_t draw(sb_sampler *s, const float *logits, int n)
{
    float tmp[64];
    memcpy(tmp, logits, (size_t)n * sizeof(float));
    return sb_sampler_sample(s, tmp);
}

static void test_greedy_is_argmax(void)
{
    float l[6] = {0.1f, 2.0f, -1.0f, 3.5f, 3.4f, 0.0f};
    sb_sampler_opts o = {.temperature = 0, .top_k = 0, .top_p = 1, .seed = 1};
    sb_sampler *s;
    CHECK_EQ_INT(sb_sampler_new(&o, 6, &s), 0);
    CHECK_EQ_INT(draw(s, l, 6), 3);
    sb_sampler_free(s);
}

static void test_top_k_1_and_tiny_top_p_are_greedy(void)
{
    float l[6] = {0.1f, 2.0f, -1.0f, 3.5f, 3.4f, 0.0f};
    sb_sampler_opts o = {.temperature = 1.5f, .top_k = 1, .top_p = 1, .seed = 9};
    sb_sampler *s;
    CHECK_EQ_INT(sb_sampler_new(&o, 6, &s), 0);
    for (int i = 0; i < 50; i++) CHECK_EQ_INT(draw(s, l, 6), 3);
    sb_sampler_free(s);
    o.top_k = 0;
    o.top_p = 0.01f;
    CHECK_EQ_INT(sb_sampler_new(&o, 6, &s), 0);
    for (int i = 0; i < 50; i++) CHECK_EQ_INT(draw(s, l, 6), 3);
    sb_sampler_free(s);
}

static void test_top_k_2_keeps_two(void)
{
    float l[6] = {0.1f, 2.0f, -1.0f, 3.5f, 3.4f, 0.0f};
    sb_sampler_opts o = {.temperature = 1.0f, .top_k = 2, .top_p = 1, .seed = 5};
    sb_sampler *s;
    CHECK_EQ_INT(sb_sampler_new(&o, 6, &s), 0);
    int seen[6] = {0};
    for (int i = 0; i < 400; i++) seen[draw(s, l, 6)]++;
    CHECK(seen[3] > 0 && seen[4] > 0);
    CHECK_EQ_INT(seen[0] + seen[1] + seen[2] + seen[5], 0);
    sb_sampler_free(s);
}

static void test_seed_reproduces(void)
{
    float l[8] = {1, 1.2f, 0.8f, 1.1f, 0.9f, 1.05f, 1.0f, 0.95f};
    sb_sampler_opts o = {.temperature = 1.0f, .top_k = 0, .top_p = 0.9f, .seed = 1234};
    sb_sampler *a, *b, *c;
    CHECK_EQ_INT(sb_sampler_new(&o, 8, &a), 0);
    CHECK_EQ_INT(sb_sampler_new(&o, 8, &b), 0);
    o.seed = 1235;
    CHECK_EQ_INT(sb_sampler_new(&o, 8, &c), 0);
    int same_ab = 1, same_ac = 1;
    for (int i = 0; i < 64; i++) {
        int32_t x = draw(a, l, 8), y = draw(b, l, 8), z = draw(c, l, 8);
        same_ab &= x == y;
        same_ac &= x == z;
    }
    CHECK(same_ab);
    CHECK(!same_ac);
    sb_sampler_free(a);
    sb_sampler_free(b);
    sb_sampler_free(c);
}

/* Frequencies of 20000 draws at temperature 1 within 4 standard errors of the softmax. */
static void test_temperature_follows_softmax(void)
{
    float l[4] = {0.0f, 1.0f, 2.0f, 0.5f};
    double p[4], z = 0;
    for (int i = 0; i < 4; i++) z += exp(l[i]);
    for (int i = 0; i < 4; i++) p[i] = exp(l[i]) / z;
    sb_sampler_opts o = {.temperature = 1.0f, .top_k = 0, .top_p = 1, .seed = 77};
    sb_sampler *s;
    CHECK_EQ_INT(sb_sampler_new(&o, 4, &s), 0);
    enum { N = 20000 };
    int cnt[4] = {0};
    for (int i = 0; i < N; i++) cnt[draw(s, l, 4)]++;
    for (int i = 0; i < 4; i++) {
        double f = (double)cnt[i] / N, se = sqrt(p[i] * (1 - p[i]) / N);
        CHECK_MSG(fabs(f - p[i]) < 4 * se, "token %d: frequency %.4f vs p %.4f", i, f, p[i]);
    }
    sb_sampler_free(s);
}

static void test_bad_options(void)
{
    sb_sampler *s;
    sb_sampler_opts o = {.temperature = -1, .top_k = 0, .top_p = 1, .seed = 0};
    CHECK(sb_sampler_new(&o, 4, &s) != 0);
    o.temperature = 1;
    o.top_p = 0;
    CHECK(sb_sampler_new(&o, 4, &s) != 0);
    o.top_p = 1;
    CHECK(sb_sampler_new(&o, 0, &s) != 0);
}

int main(void)
{
    RUN(test_greedy_is_argmax);
    RUN(test_top_k_1_and_tiny_top_p_are_greedy);
    RUN(test_top_k_2_keeps_two);
    RUN(test_seed_reproduces);
    RUN(test_temperature_follows_softmax);
    RUN(test_bad_options);
    return test_finish();
}
