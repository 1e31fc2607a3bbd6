/* cmd_info.c — `gqla-eval info MODEL`: what a checkpoint holds, without
 * loading its weights: architecture, parameter count, dtypes, shape
 * constants, tokenizer, and the KV cache a token costs. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "kvcache_table.h"
#include "model.h"

static const char *info_help =
    "Usage: gqla-eval info MODEL\n"
    "\n"
    "Prints the architecture, parameter count, tensor dtypes, layers, heads, KV heads,\n"
    "head dims, vocabulary, tokenizer, and the KV cache per token of every decoding\n"
    "path (elements and bf16/f32 bytes per layer and for the model, conversion.md §2.4).\n"
    "MODEL: a Hugging Face folder, a .gguf file, or a tokenizer-only folder.\n"
    "Every header field is validated; bad input exits 2 naming the file and place.\n";

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

int cmd_info(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(info_help, stdout);
            return GQ_EXIT_OK;
        }
        if (argv[i][0] == '-') return cli_usage_error("info", "unknown option '%s'", argv[i]);
        if (path) return cli_usage_error("info", "one MODEL only (got '%s' and '%s')", path, argv[i]);
        path = argv[i];
    }
    if (!path) return cli_usage_error("info", "missing MODEL");

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
