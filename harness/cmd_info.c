/* cmd_info.c — `gqla-eval info MODEL`: what a checkpoint holds, without
 * loading its weights: architecture, parameter count, dtypes, shape
 * constants, tokenizer, and the KV cache a token costs. */
#include <stdio.h>
#include <string.h>

#include "checkpoint.h"
#include "cli.h"
#include "gq_alloc.h"
#include "gguf.h"
#include "kvcache_table.h"
#include "model.h"

static const char *info_help =
    "Usage: gqla-eval info MODEL [--offline]\n"
    "\n"
    "Prints the architecture, parameter count, tensor dtypes and the quant mix (share of\n"
    "the parameters per dtype, tensors in parentheses, bits per weight, GGUF file type),\n"
    "layers, heads, KV heads,\n"
    "head dims, vocabulary, tokenizer, and the KV cache per token of every decoding\n"
    "path (elements and bf16/f32 bytes per layer and for the model, conversion.md §2.4).\n"
    "MODEL: a Hugging Face folder, a .gguf file, or a tokenizer-only folder.\n"
    "MODEL may also be a Hub id ORG/NAME[@REV][:FILE.gguf] (the huggingface_hub cache;\n"
    "downloads what is missing; --offline or HF_HUB_OFFLINE=1: the cache only).\n"
    "Every header field is validated; bad input exits 2 naming the file and place.\n";

/* llama.cpp's llama_ftype (general.file_type): the name llama-quantize was
 * given, e.g. Q4_K_M, which the tensor types alone do not spell out. */
static const char *gguf_file_type_name(int64_t ft)
{
    static const struct { int64_t v; const char *name; } names[] = {
        {0, "F32"},     {1, "F16"},     {2, "Q4_0"},    {3, "Q4_1"},    {7, "Q8_0"},    {8, "Q5_0"},
        {9, "Q5_1"},    {10, "Q2_K"},   {11, "Q3_K_S"}, {12, "Q3_K_M"}, {13, "Q3_K_L"}, {14, "Q4_K_S"},
        {15, "Q4_K_M"}, {16, "Q5_K_S"}, {17, "Q5_K_M"}, {18, "Q6_K"},   {21, "Q2_K_S"}, {32, "BF16"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].v == ft) return names[i].name;
    return NULL;
}

/* "quant mix: Q4_K 61.2 % (97 tensors), Q6_K ..." over the parameters, and
 * the bits per weight of the whole file. */
static void print_quant_mix(const gq_checkpoint *ck)
{
    uint64_t elems[GQ_DTYPE_COUNT] = {0}, tensors[GQ_DTYPE_COUNT] = {0}, total = 0, bytes = 0;
    size_t n = gq_checkpoint_tensor_count(ck);
    for (size_t i = 0; i < n; i++) {
        const gq_tensor_ref *t = gq_checkpoint_tensor(ck, i);
        if (t->dtype >= GQ_DTYPE_COUNT) continue;
        elems[t->dtype] += t->n_elems;
        tensors[t->dtype]++;
        total += t->n_elems;
        bytes += t->nbytes;
    }
    if (total == 0) return;
    printf("quant mix:          ");
    for (int pass = 0; pass < GQ_DTYPE_COUNT; pass++) { /* largest share first */
        int best = -1;
        for (int d = 0; d < GQ_DTYPE_COUNT; d++)
            if (elems[d] && (best < 0 || elems[d] > elems[best])) best = d;
        if (best < 0) break;
        printf("%s %s %.1f %% (%llu)", pass ? "," : "", gq_dtype_name((gq_dtype)best), 100.0 * elems[best] / total,
               (unsigned long long)tensors[best]);
        elems[best] = 0;
    }
    printf("; %.2f bits per weight", 8.0 * (double)bytes / (double)total);
    const struct gq_gguf *g = gq_checkpoint_gguf(ck);
    int64_t ft = -1;
    gq_error err = {0};
    if (g && gq_gguf_get_i64(g, "general.file_type", &ft, &err) == 1 && gguf_file_type_name(ft))
        printf("; file type %s", gguf_file_type_name(ft));
    printf("\n");
}

static void print_tokenizer(const gq_model *m)
{
    const gq_tokenizer *tok = gq_model_tokenizer(m);
    if (!tok) {
        printf("tokenizer:           none found\n");
        return;
    }
    printf("tokenizer:           %s (from %s), %zu tokens, bos %d, eos %d, adds bos: %s\n",
           gq_tokenizer_kind(tok), gq_model_tokenizer_source(m), gq_tokenizer_vocab_size(tok),
           (int)gq_tokenizer_bos(tok), (int)gq_tokenizer_eos(tok), gq_tokenizer_adds_bos(tok) ? "yes" : "no");
}

static int info_run(const char *path);

int cmd_info(int argc, char **argv)
{
    const char *path = NULL;
    int offline = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(info_help, stdout);
            return GQ_EXIT_OK;
        }
        if (!strcmp(argv[i], "--offline")) {
            offline = 1;
            continue;
        }
        if (argv[i][0] == '-') return cli_usage_error("info", "unknown option '%s'", argv[i]);
        if (path) return cli_usage_error("info", "one MODEL only (got '%s' and '%s')", path, argv[i]);
        path = argv[i];
    }
    if (!path) return cli_usage_error("info", "missing MODEL");
    gq_error err = {0};
    char *resolved = NULL;
    if (cli_model_resolve(path, offline, &resolved, &err) != GQ_OK) return cli_fail(&err);
    int rc = info_run(resolved);
    gq_free(resolved);
    return rc;
}

static int info_run(const char *path)
{
    gq_error err = {0};
    gq_model *m = NULL;
    gq_open_opts opts = {0};
    if (gq_model_open(&m, path, &opts, &err) != GQ_OK) return cli_fail(&err);

    printf("model:               %s\n", path);
    const gq_config *c = gq_model_config(m);
    if (!c) {
        printf("kind:                tokenizer only\n");
        print_tokenizer(m);
        gq_model_close(m);
        return GQ_EXIT_OK;
    }
    const gq_checkpoint *ck = gq_model_checkpoint(m);
    uint64_t params = 0;
    uint64_t by_dtype[GQ_DTYPE_COUNT] = {0};
    size_t n = gq_checkpoint_tensor_count(ck);
    for (size_t i = 0; i < n; i++) {
        const gq_tensor_ref *t = gq_checkpoint_tensor(ck, i);
        params += t->n_elems;
        if (t->dtype < GQ_DTYPE_COUNT) by_dtype[t->dtype]++;
    }
    printf("format:              %s\n", gq_checkpoint_format_of(ck) == GQ_CHECKPOINT_GGUF ? "gguf" : "safetensors");
    printf("architecture:        %s (model_type %s)\n", gq_arch_name(c->arch), c->model_type);
    printf("parameters:          %llu (%.1f M) in %zu tensors\n", (unsigned long long)params, params / 1e6, n);
    printf("dtypes:             ");
    for (int d = 0; d < GQ_DTYPE_COUNT; d++)
        if (by_dtype[d]) printf(" %s x%llu", gq_dtype_name((gq_dtype)d), (unsigned long long)by_dtype[d]);
    printf("\n");
    print_quant_mix(ck);
    printf("layers:              %lld\n", (long long)c->num_hidden_layers);
    printf("hidden size:         %lld\n", (long long)c->hidden_size);
    printf("intermediate size:   %lld\n", (long long)c->intermediate_size);
    printf("attention heads:     %lld\n", (long long)c->num_attention_heads);
    printf("kv heads:            %lld\n", (long long)c->num_key_value_heads);
    printf("head dim:            %lld\n", (long long)c->head_dim);
    printf("vocab size:          %lld\n", (long long)c->vocab_size);
    printf("rope theta:          %g%s\n", c->rope_theta,
           c->rope_scaling.type == GQ_ROPE_SCALING_LLAMA3 ? " (llama3 scaling)" : "");
    printf("rms norm eps:        %g\n", c->rms_norm_eps);
    printf("tied embeddings:     %s\n", c->tie_word_embeddings ? "yes" : "no");
    printf("attention bias:      %s\n", c->attention_bias ? "yes" : "no");
    if (c->arch == GQ_ARCH_DEEPSEEK_MLA || c->arch == GQ_ARCH_GQLA) {
        printf("rope:                %s pairs on d_r, softmax scale from (d_n+d_r)%s\n",
               c->rope_interleave ? "interleaved" : "rotate-half",
               c->rope_scaling.type == GQ_ROPE_SCALING_YARN ? " with yarn mscale" : "");
        printf("latent norms:        %s (eps %g)\n", c->qk_latent_layernorm ? "yes" : "no", c->latent_norm_eps);
        printf("decoding paths:      %s (default %s)\n",
               c->arch == GQ_ARCH_GQLA ? "gqa, absorb" : "absorb, expanded",
               gq_path_name(gq_config_default_path(c)));
    }
    kvcache_print_table(stdout, c);
    print_tokenizer(m);
    gq_model_close(m);
    return GQ_EXIT_OK;
}
