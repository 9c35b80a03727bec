/* slmbench generate — run a GGUF model on a prompt, stream the text, report latency and memory. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "harness/measure.h"
#include "harness/results.h"
#include "runtime/model.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: slmbench generate -m FILE.gguf [-p PROMPT] [options]\n\n"
            "Runs the model on the prompt and streams the generated text to stdout, then prints to\n"
            "stderr: model load time, prompt tokens, time to first token, prefill tok/s, decode\n"
            "tok/s, peak RSS.\n\n"
            "  -m, --model FILE     GGUF model (llama or qwen2 architecture)\n"
            "  -p, --prompt TEXT    prompt (default: empty, generation starts from BOS)\n"
            "  -n, --n-predict N    tokens to generate (default 128)\n"
            "      --temp T         temperature; 0 = greedy (default 0)\n"
            "      --top-k K        keep the K most likely tokens (default 0 = off)\n"
            "      --top-p P        nucleus sampling mass (default 1 = off)\n"
            "      --seed S         sampler seed (default 42)\n"
            "      --threads N      kernel threads (default: all online processors)\n"
            "      --backend B      cpu (default), ref (plain-C oracle, 1 thread) or vulkan (the whole\n"
            "                       model on the Vulkan device; KV cache f32)\n"
            "      --ctx N          context size of the session (default: prompt + generated tokens)\n"
            "      --kv-f16         store the KV cache in f16 (default f32)\n"
            "      --n-prompt N     instead of a text prompt, use N synthetic prompt tokens (BOS and\n"
            "                       fixed ids), as llama-bench's ppN does\n"
            "      --ignore-eos     keep generating after the end-of-sequence token\n"
            "      --json FILE      also write the figures as a results document (section \"generate\")\n"
            "  -h, --help           this text\n");
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_float(const char *s, float lo, float hi, float *out)
{
    char *end;
    float v = strtof(s, &end);
    if (!*s || *end || !(v >= lo && v <= hi)) return -1;
    *out = v;
    return 0;
}

/* Writes the bytes of generated text not printed yet: the whole generation is decoded each time
 * (so multi-byte characters split over byte tokens come out whole), then the new suffix printed. */
static void stream_text(const sb_tokenizer *tok, const int32_t *ids, size_t n, int strip_space,
                        size_t *printed)
{
    char *text = NULL;
    size_t len = 0;
    if (!tok || sb_tok_decode(tok, ids, n, strip_space, 0, &text, &len)) return;
    if (len > *printed) {
        fwrite(text + *printed, 1, len - *printed, stdout);
        fflush(stdout);
        *printed = len;
    }
    free(text);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int sb_cmd_generate(int argc, char **argv)
{
    enum { O_TEMP = 1000, O_TOPK, O_TOPP, O_SEED, O_THREADS, O_BACKEND, O_CTX, O_KVF16, O_NPROMPT,
           O_IGNORE_EOS, O_JSON };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'}, {"prompt", required_argument, NULL, 'p'},
        {"n-predict", required_argument, NULL, 'n'}, {"temp", required_argument, NULL, O_TEMP},
        {"top-k", required_argument, NULL, O_TOPK}, {"top-p", required_argument, NULL, O_TOPP},
        {"seed", required_argument, NULL, O_SEED}, {"threads", required_argument, NULL, O_THREADS},
        {"backend", required_argument, NULL, O_BACKEND}, {"ctx", required_argument, NULL, O_CTX},
        {"kv-f16", no_argument, NULL, O_KVF16}, {"n-prompt", required_argument, NULL, O_NPROMPT},
        {"ignore-eos", no_argument, NULL, O_IGNORE_EOS}, {"json", required_argument, NULL, O_JSON},
        {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
    const char *model_path = NULL, *prompt = "", *json_path = NULL;
    long n_predict = 128, n_synth_prompt = 0, ctx = 0, threads = 0, top_k = 0, seed = 42;
    float temp = 0.0f, top_p = 1.0f;
    int ignore_eos = 0, c;
    sb_model_opts mo = sb_model_default_opts();
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "m:p:n:h", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'p': prompt = optarg; break;
        case 'n': bad = parse_long(optarg, 0, 1L << 30, &n_predict); break;
        case O_TEMP: bad = parse_float(optarg, 0.0f, 100.0f, &temp); break;
        case O_TOPK: bad = parse_long(optarg, 0, 1L << 30, &top_k); break;
        case O_TOPP: bad = parse_float(optarg, 1e-6f, 1.0f, &top_p); break;
        case O_SEED: bad = parse_long(optarg, 0, 0x7fffffffL, &seed); break;
        case O_THREADS: bad = parse_long(optarg, 1, 4096, &threads); break;
        case O_BACKEND: mo.backend = optarg; break;
        case O_CTX: bad = parse_long(optarg, 1, 1L << 30, &ctx); break;
        case O_KVF16: mo.kv_type = SB_TYPE_F16; break;
        case O_NPROMPT: bad = parse_long(optarg, 1, 1L << 30, &n_synth_prompt); break;
        case O_IGNORE_EOS: ignore_eos = 1; break;
        case O_JSON: json_path = optarg; break;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "slmbench generate: unknown or incomplete option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "slmbench generate: bad value '%s' for %s\n", optarg, argv[optind - 2]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "slmbench generate: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (!model_path) {
        fprintf(stderr, "slmbench generate: -m FILE.gguf is required\n");
        usage(stderr);
        return 2;
    }
    mo.n_threads = (int)threads;
    /* the memory check before loading needs the context: the one asked for, else an upper
     * bound of prompt + generated tokens (a text prompt has at most one token per byte + BOS) */
    mo.n_ctx = ctx ? ctx : (n_synth_prompt ? n_synth_prompt : (long)strlen(prompt) + 2) + n_predict;

    char err[1024];
    sb_model *m = NULL;
    sb_session *s = NULL;
    sb_sampler *smp = NULL;
    int32_t *ids = NULL;
    float *logits = NULL;
    double *itl = NULL;
    int rc = 1;
    double t_load = sb_now_s();
    int st = sb_model_load(model_path, &mo, &m, err, sizeof err);
    t_load = sb_now_s() - t_load;
    if (st) {
        fprintf(stderr, "slmbench generate: %s\n", err);
        return st == SB_MODEL_E_BACKEND || st == SB_MODEL_E_ARG ? 2 : 1;
    }
    const sb_hparams *hp = sb_model_hparams(m);
    const sb_tokenizer *tok = sb_model_tokenizer(m);

    /* the prompt as token ids */
    size_t n_prompt = 0;
    if (n_synth_prompt > 0) {
        n_prompt = (size_t)n_synth_prompt;
        ids = malloc(n_prompt * sizeof *ids);
        if (!ids) goto oom;
        int32_t bos = sb_tok_bos(tok);
        for (size_t i = 0; i < n_prompt; i++)
            ids[i] = (int32_t)((i * 7919 + 100) % (size_t)hp->n_vocab);
        if (bos >= 0) ids[0] = bos;
    } else {
        if (sb_tok_encode(tok, prompt, strlen(prompt), 1, 0, &ids, &n_prompt)) {
            fprintf(stderr, "slmbench generate: cannot tokenize the prompt\n");
            goto done;
        }
        if (n_prompt == 0) { /* no BOS in this vocabulary and an empty prompt */
            fprintf(stderr, "slmbench generate: the prompt is empty and the vocabulary has no BOS token\n");
            rc = 2;
            goto done;
        }
    }
    int64_t n_ctx = ctx ? ctx : (int64_t)n_prompt + (n_predict > 0 ? n_predict : 1);
    if ((int64_t)n_prompt > n_ctx) {
        fprintf(stderr, "slmbench generate: the prompt has %zu tokens, more than --ctx %lld\n", n_prompt,
                (long long)n_ctx);
        rc = 2;
        goto done;
    }
    if ((st = sb_session_new(m, n_ctx, &s, err, sizeof err))) {
        fprintf(stderr, "slmbench generate: %s\n", err);
        goto done;
    }
    sb_sampler_opts so = {.temperature = temp, .top_k = (int)top_k, .top_p = top_p, .seed = (uint64_t)seed};
    logits = malloc((size_t)hp->n_vocab * sizeof *logits);
    int32_t *all = realloc(ids, (n_prompt + (size_t)n_predict + 1) * sizeof *ids);
    itl = malloc(((size_t)n_predict + 1) * sizeof *itl);
    if (!all) goto oom;
    ids = all;
    if (!logits || !itl || sb_sampler_new(&so, hp->n_vocab, &smp)) goto oom;

    if (n_synth_prompt == 0) {
        fputs(prompt, stdout);
        fflush(stdout);
    }
    int strip_space = n_synth_prompt == 0 && prompt[0] == 0;
    size_t printed = 0;
    int32_t eos = sb_tok_eos(tok);

    /* prefill: the whole prompt in one batch, then the first token */
    double t0 = sb_now_s();
    if (sb_session_eval(s, ids, (int64_t)n_prompt, logits, 0)) {
        fprintf(stderr, "\nslmbench generate: %s\n", sb_session_error(s));
        goto done;
    }
    double t_prefill = sb_now_s() - t0;
    size_t n_gen = 0;
    double t_first = 0, t_decode = 0;
    if (n_predict > 0) {
        ids[n_prompt] = sb_sampler_sample(smp, logits);
        t_first = sb_now_s() - t0;
        n_gen = 1;
        /* decode: one token at a time through the KV cache */
        while ((long)n_gen < n_predict && (ignore_eos || ids[n_prompt + n_gen - 1] != eos)) {
            stream_text(tok, ids + n_prompt, n_gen, strip_space, &printed);
            if (sb_session_pos(s) >= n_ctx) {
                fprintf(stderr, "\n[context of %lld tokens full]\n", (long long)n_ctx);
                break;
            }
            double t1 = sb_now_s();
            if (sb_session_eval(s, &ids[n_prompt + n_gen - 1], 1, logits, 0)) {
                fprintf(stderr, "\nslmbench generate: %s\n", sb_session_error(s));
                goto done;
            }
            ids[n_prompt + n_gen] = sb_sampler_sample(smp, logits);
            itl[n_gen - 1] = sb_now_s() - t1;
            t_decode += itl[n_gen - 1];
            n_gen++;
        }
        stream_text(tok, ids + n_prompt, n_gen, strip_space, &printed);
    }
    printf("\n");
    fflush(stdout);

    /* summary */
    size_t n_dec = n_gen > 0 ? n_gen - 1 : 0;
    double pp = t_prefill > 0 ? (double)n_prompt / t_prefill : 0;
    double tg = t_decode > 0 ? (double)n_dec / t_decode : 0;
    uint64_t rss = sb_peak_rss_bytes(), wb = sb_model_weight_bytes(m), kvb = sb_model_kv_bytes(m, n_ctx);
    const sb_kctx *kc = sb_model_kctx(m);
    int n_threads_used = kc->isa == SB_ISA_REF ? 1 : threads > 0 ? (int)threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (!strcmp(sb_model_backend(m), "vulkan")) n_threads_used = 1; /* the host only records dispatches */
    char bdesc[300];
    sb_model_backend_desc(m, bdesc, sizeof bdesc);
    fprintf(stderr, "\nmodel: %s (%s, %.1f M params, %.1f MiB of weights), back end %s\n", model_path,
            hp->arch, (double)sb_model_n_params(m) / 1e6, (double)wb / 1048576.0, bdesc);
    fprintf(stderr, "prompt tokens: %zu, generated tokens: %zu, context %lld\n", n_prompt, n_gen,
            (long long)n_ctx);
    fprintf(stderr, "model load: %.2f ms (weights mapped and paged in)\n", t_load * 1e3);
    fprintf(stderr, "time to first token: %.2f ms\n", t_first * 1e3);
    fprintf(stderr, "prefill: %.2f tok/s (%zu tokens in %.2f ms)\n", pp, n_prompt, t_prefill * 1e3);
    fprintf(stderr, "decode:  %.2f tok/s (%zu tokens in %.2f ms; %.1f GB/s of weights read)\n", tg, n_dec,
            t_decode * 1e3, tg * (double)sb_model_decode_bytes(m) / 1e9);
    fprintf(stderr, "peak RSS: %.1f MiB (weights %.1f MiB + KV cache %.1f MiB; predicted %.1f MiB)\n",
            (double)rss / 1048576.0, (double)wb / 1048576.0, (double)kvb / 1048576.0,
            (double)sb_model_predict_ram(m, n_ctx) / 1048576.0);
    rc = 0;

    if (json_path) {
        cJSON *doc = sb_results_new(argc, argv);
        cJSON *g = sb_results_section(doc, "generate");
        cJSON_AddStringToObject(g, "path", model_path);
        cJSON_AddStringToObject(g, "arch", hp->arch);
        cJSON_AddNumberToObject(g, "params", (double)sb_model_n_params(m));
        cJSON_AddStringToObject(g, "backend", sb_model_backend(m));
        cJSON_AddStringToObject(g, "backend_desc", bdesc);
        if (strcmp(sb_model_backend(m), "vulkan")) cJSON_AddStringToObject(g, "isa", sb_isa_name(kc->isa));
        cJSON_AddNumberToObject(g, "threads", n_threads_used);
        cJSON_AddNumberToObject(g, "n_ctx", (double)n_ctx);
        cJSON_AddStringToObject(g, "kv_type", mo.kv_type == SB_TYPE_F16 ? "f16" : "f32");
        cJSON_AddNumberToObject(g, "prompt_tokens", (double)n_prompt);
        cJSON_AddNumberToObject(g, "generated_tokens", (double)n_gen);
        cJSON_AddNumberToObject(g, "load_ms", t_load * 1e3);
        cJSON_AddNumberToObject(g, "ttft_ms", t_first * 1e3);
        cJSON_AddNumberToObject(g, "prefill_tok_s", pp);
        cJSON_AddNumberToObject(g, "decode_tok_s", tg);
        cJSON_AddNumberToObject(g, "decode_weight_bytes", (double)sb_model_decode_bytes(m));
        cJSON_AddNumberToObject(g, "decode_gbs", tg * (double)sb_model_decode_bytes(m) / 1e9);
        if (n_dec > 0) {
            qsort(itl, n_dec, sizeof *itl, cmp_double);
            cJSON *q = cJSON_AddObjectToObject(g, "itl_ms");
            cJSON_AddNumberToObject(q, "p50", sb_percentile_sorted(itl, n_dec, 50) * 1e3);
            cJSON_AddNumberToObject(q, "p90", sb_percentile_sorted(itl, n_dec, 90) * 1e3);
            cJSON_AddNumberToObject(q, "p99", sb_percentile_sorted(itl, n_dec, 99) * 1e3);
        }
        cJSON *mem = cJSON_AddObjectToObject(g, "memory");
        cJSON_AddNumberToObject(mem, "peak_rss_bytes", (double)rss);
        cJSON_AddNumberToObject(mem, "weights_bytes", (double)wb);
        cJSON_AddNumberToObject(mem, "kv_bytes", (double)kvb);
        cJSON_AddNumberToObject(mem, "predicted_bytes", (double)sb_model_predict_ram(m, n_ctx));
        if (sb_results_write(doc, json_path, err, sizeof err)) {
            fprintf(stderr, "slmbench generate: %s\n", err);
            rc = 1;
        }
        cJSON_Delete(doc);
    }
    goto done;
oom:
    fprintf(stderr, "slmbench generate: out of memory\n");
done:
    free(itl);
    free(logits);
    free(ids);
    sb_sampler_free(smp);
    sb_session_free(s);
    sb_model_free(m);
    return rc;
}
