/* gguf_llama.c — a llama-architecture GGUF file seen as a Hugging Face LLaMA
 * checkpoint: gq_config from the llama.* metadata, GGUF -> HF tensor names,
 * and which tensors llama.cpp's converter permuted for its interleaved RoPE.
 *
 * The permutation (convert_hf_to_gguf.py, LlamaModel): for q_proj with H
 * heads and k_proj with Hkv heads, head h's d = Dh rows [first half | second
 * half] are interleaved, so GGUF row h*d + 2j + η holds HF row h*d + η*d/2 + j
 * (j < d/2, η in {0,1}).  gq_tensor_load_f32 (tensor_load.c) undoes it when a
 * tensor ref says rope_unpermute_heads > 0; this file only says how many heads.
 *
 * Not here: other architectures (qwen2, mistral GGUFs say so and are
 * refused), partial rotary, llama3-style rope_freqs.  Tested by
 * tests/test_gguf.c (tiny fixture and SmolLM2-135M).
 */
#include "gguf_llama.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

// ---------------------------------------------------------------- config

/* An integer key: returns 1 found, 0 absent (error if required), <0 error.
 * Found values must be > 0. */
static int get_pos_int(const gq_gguf *g, const char *key, int required, int64_t *out, gq_error *err)
{
    int rc = gq_gguf_get_i64(g, key, out, err);
    if (rc < 0) return rc;
    if (rc == 0) {
        if (required)
            return gq_error_set(err, GQ_ERR_INVALID, "%s: metadata key '%s' is missing, expected a positive integer",
                                gq_gguf_path(g), key);
        return 0;
    }
    if (*out <= 0)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: metadata key '%s' is %" PRId64 ", expected a positive integer",
                            gq_gguf_path(g), key, *out);
    return 1;
}

static int get_token_id(const gq_gguf *g, const char *key, int64_t *out, gq_error *err)
{
    int rc = gq_gguf_get_i64(g, key, out, err);
    if (rc < 0) return rc;
    if (rc == 0) *out = -1;
    else if (*out < 0)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: metadata key '%s' is %" PRId64 ", expected a token id >= 0",
                            gq_gguf_path(g), key, *out);
    return GQ_OK;
}

static int get_rope_scaling(const gq_gguf *g, gq_config *cfg, gq_error *err)
{
    const char *path = gq_gguf_path(g), *type = NULL;
    int rc = gq_gguf_get_str(g, "llama.rope.scaling.type", &type, err);
    if (rc < 0) return rc;
    cfg->rope_scaling.type = GQ_ROPE_SCALING_NONE;
    cfg->rope_scaling.factor = 1.0;

    if (gq_gguf_find(g, "rope_freqs.weight"))
        return gq_error_set(err, GQ_ERR_UNSUPPORTED,
                            "%s: tensor 'rope_freqs.weight' (llama3-style RoPE frequency factors) is not supported "
                            "--> HINT: use the Hugging Face checkpoint, whose config.json has rope_scaling",
                            path);
    if (rc == 0 || strcmp(type, "none") == 0) return GQ_OK;

    if (strcmp(type, "linear") == 0) cfg->rope_scaling.type = GQ_ROPE_SCALING_LINEAR;
    else if (strcmp(type, "yarn") == 0) cfg->rope_scaling.type = GQ_ROPE_SCALING_YARN;
    else
        return gq_error_set(err, GQ_ERR_UNSUPPORTED,
                            "%s: metadata key 'llama.rope.scaling.type' is '%.64s', expected none, linear or yarn",
                            path, type);
    double factor = 0;
    rc = gq_gguf_get_f64(g, "llama.rope.scaling.factor", &factor, err);
    if (rc < 0) return rc;
    if (rc == 0 || !(factor > 0))
        return gq_error_set(err, GQ_ERR_INVALID,
                            "%s: metadata key 'llama.rope.scaling.factor' is missing or not positive, expected "
                            "a factor > 0 for %s scaling", path, type);
    cfg->rope_scaling.factor = factor;
    int64_t orig = 0;
    rc = get_pos_int(g, "llama.rope.scaling.original_context_length", 0, &orig, err);
    if (rc < 0) return rc;
    cfg->rope_scaling.original_max_position_embeddings = rc ? orig : 0;
    return GQ_OK;
}

int gq_gguf_llama_config(const gq_gguf *g, gq_config *cfg, gq_error *err)
{
    const char *path = gq_gguf_path(g), *arch = NULL;
    int64_t v = 0;
    int rc;

    memset(cfg, 0, sizeof *cfg);
    rc = gq_gguf_get_str(g, "general.architecture", &arch, err);
    if (rc < 0) goto fail;
    if (rc == 0) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: metadata key 'general.architecture' is missing, expected 'llama'",
                          path);
        goto fail;
    }
    if (strcmp(arch, "llama") != 0) {
        rc = gq_error_set(err, GQ_ERR_UNSUPPORTED,
                          "%s: general.architecture is '%.64s'; gqla-eval reads GGUF files of the llama "
                          "architecture only --> HINT: use the Hugging Face safetensors checkpoint",
                          path, arch);
        goto fail;
    }
    cfg->arch = GQ_ARCH_LLAMA;
    snprintf(cfg->model_type, sizeof cfg->model_type, "llama");

    if ((rc = get_pos_int(g, "llama.block_count", 1, &cfg->num_hidden_layers, err)) < 0) goto fail;
    if ((rc = get_pos_int(g, "llama.embedding_length", 1, &cfg->hidden_size, err)) < 0) goto fail;
    if ((rc = get_pos_int(g, "llama.feed_forward_length", 1, &cfg->intermediate_size, err)) < 0) goto fail;
    if ((rc = get_pos_int(g, "llama.attention.head_count", 1, &cfg->num_attention_heads, err)) < 0) goto fail;
    if ((rc = get_pos_int(g, "llama.attention.head_count_kv", 0, &v, err)) < 0) goto fail;
    cfg->num_key_value_heads = rc ? v : cfg->num_attention_heads;

    const int64_t H = cfg->num_attention_heads, Hkv = cfg->num_key_value_heads, D = cfg->hidden_size;
    if (H % Hkv != 0) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: llama.attention.head_count %" PRId64
                          " is not a multiple of head_count_kv %" PRId64, path, H, Hkv);
        goto fail;
    }
    if ((rc = get_pos_int(g, "llama.attention.key_length", 0, &v, err)) < 0) goto fail;
    if (rc) {
        cfg->head_dim = v;
    } else if (D % H != 0) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: llama.embedding_length %" PRId64 " is not a multiple of "
                          "head_count %" PRId64 " and llama.attention.key_length is absent", path, D, H);
        goto fail;
    } else {
        cfg->head_dim = D / H;
    }
    if (cfg->head_dim % 2 != 0) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: head dimension %" PRId64 " is odd, expected an even size for RoPE",
                          path, cfg->head_dim);
        goto fail;
    }
    if ((rc = get_pos_int(g, "llama.attention.value_length", 0, &v, err)) < 0) goto fail;
    if (rc && v != cfg->head_dim) {
        rc = gq_error_set(err, GQ_ERR_UNSUPPORTED, "%s: llama.attention.value_length %" PRId64
                          " differs from the key length %" PRId64, path, v, cfg->head_dim);
        goto fail;
    }
    if ((rc = get_pos_int(g, "llama.rope.dimension_count", 0, &v, err)) < 0) goto fail;
    if (rc && v != cfg->head_dim) {
        rc = gq_error_set(err, GQ_ERR_UNSUPPORTED, "%s: llama.rope.dimension_count %" PRId64
                          " differs from the head dimension %" PRId64 " (partial rotary is not supported)",
                          path, v, cfg->head_dim);
        goto fail;
    }
    if ((rc = get_pos_int(g, "llama.context_length", 0, &v, err)) < 0) goto fail;
    cfg->max_position_embeddings = rc ? v : 2048; /* HF LlamaConfig's default */

    rc = gq_gguf_get_f64(g, "llama.attention.layer_norm_rms_epsilon", &cfg->rms_norm_eps, err);
    if (rc < 0) goto fail;
    if (rc == 0 || !(cfg->rms_norm_eps > 0)) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: metadata key 'llama.attention.layer_norm_rms_epsilon' is %s, "
                          "expected a positive float", path, rc == 0 ? "missing" : "not positive");
        goto fail;
    }
    rc = gq_gguf_get_f64(g, "llama.rope.freq_base", &cfg->rope_theta, err);
    if (rc < 0) goto fail;
    if (rc == 0) cfg->rope_theta = 10000.0; /* llama.cpp's and HF's default */
    if (!(cfg->rope_theta > 0)) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: llama.rope.freq_base is not positive", path);
        goto fail;
    }
    if ((rc = get_rope_scaling(g, cfg, err)) < 0) goto fail;

    /* Vocabulary: the explicit key, else the token list, else the embedding. */
    const gq_tensor_ref *emb = gq_gguf_find(g, "token_embd.weight");
    if ((rc = get_pos_int(g, "llama.vocab_size", 0, &v, err)) < 0) goto fail;
    if (rc) {
        cfg->vocab_size = v;
    } else {
        const char *const *toks;
        size_t n_toks = 0;
        rc = gq_gguf_get_str_array(g, "tokenizer.ggml.tokens", &toks, NULL, &n_toks, err);
        if (rc < 0) goto fail;
        if (rc && n_toks > 0) cfg->vocab_size = (int64_t)n_toks;
        else if (emb && emb->n_dims == 2) cfg->vocab_size = emb->shape[0];
        else {
            rc = gq_error_set(err, GQ_ERR_INVALID, "%s: cannot tell the vocabulary size: no llama.vocab_size, "
                              "no tokenizer.ggml.tokens and no 2-D token_embd.weight", path);
            goto fail;
        }
    }
    if (emb && (emb->n_dims != 2 || emb->shape[0] != cfg->vocab_size || emb->shape[1] != D)) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: tensor 'token_embd.weight' has shape [%" PRId64 ", %" PRId64
                          "] (%d dims), expected [vocab %" PRId64 ", hidden %" PRId64 "]", path, emb->shape[0],
                          emb->shape[1], emb->n_dims, cfg->vocab_size, D);
        goto fail;
    }

    if ((rc = get_token_id(g, "tokenizer.ggml.bos_token_id", &cfg->bos_token_id, err)) < 0) goto fail;
    if ((rc = get_token_id(g, "tokenizer.ggml.eos_token_id", &cfg->eos_token_id, err)) < 0) goto fail;
    cfg->tie_word_embeddings = gq_gguf_find(g, "output.weight") == NULL;
    cfg->attention_bias = gq_gguf_find(g, "blk.0.attn_q.bias") != NULL;
    return GQ_OK;

fail:
    memset(cfg, 0, sizeof *cfg);
    return rc;
}

// ---------------------------------------------------------------- names

typedef struct name_pair {
    const char *gguf, *hf;
} name_pair;

int gq_gguf_llama_hf_name(const char *gguf_name, char *out, size_t out_size)
{
    static const name_pair top[] = {{"token_embd.weight", "model.embed_tokens.weight"},
                                    {"output_norm.weight", "model.norm.weight"},
                                    {"output.weight", "lm_head.weight"}};
    /* Per layer; norms carry weights only, projections weights or biases. */
    static const struct {
        const char *gguf, *hf;
        int may_have_bias;
    } blk[] = {{"attn_norm", "input_layernorm", 0},      {"ffn_norm", "post_attention_layernorm", 0},
               {"attn_q", "self_attn.q_proj", 1},       {"attn_k", "self_attn.k_proj", 1},
               {"attn_v", "self_attn.v_proj", 1},       {"attn_output", "self_attn.o_proj", 1},
               {"ffn_gate", "mlp.gate_proj", 1},        {"ffn_up", "mlp.up_proj", 1},
               {"ffn_down", "mlp.down_proj", 1}};
    int n;

    if (!gguf_name || !out || out_size == 0) return 0;
    out[0] = '\0';
    for (size_t k = 0; k < sizeof top / sizeof top[0]; k++) {
        if (strcmp(gguf_name, top[k].gguf) == 0) {
            n = snprintf(out, out_size, "%s", top[k].hf);
            return n >= 0 && (size_t)n < out_size;
        }
    }
    if (strncmp(gguf_name, "blk.", 4) != 0) return 0;

    /* blk.<layer>.<part>.<weight|bias>; layer in decimal, no leading zeros. */
    const char *p = gguf_name + 4, *digits = p;
    long layer = 0;
    while (*p >= '0' && *p <= '9') {
        if (p - digits >= 9) return 0;
        layer = layer * 10 + (*p - '0');
        p++;
    }
    if (p == digits || *p != '.' || (digits[0] == '0' && p - digits > 1)) return 0;
    p++;
    const char *dot = strchr(p, '.');
    if (!dot) return 0;
    size_t part_len = (size_t)(dot - p);
    const char *suffix = dot + 1;
    int is_bias = strcmp(suffix, "bias") == 0;
    if (!is_bias && strcmp(suffix, "weight") != 0) return 0;
    for (size_t k = 0; k < sizeof blk / sizeof blk[0]; k++) {
        if (strlen(blk[k].gguf) == part_len && strncmp(p, blk[k].gguf, part_len) == 0) {
            if (is_bias && !blk[k].may_have_bias) return 0;
            n = snprintf(out, out_size, "model.layers.%ld.%s.%s", layer, blk[k].hf, suffix);
            if (n < 0 || (size_t)n >= out_size) {
                out[0] = '\0';
                return 0;
            }
            return 1;
        }
    }
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int gq_gguf_llama_rope_permuted_heads(const gq_config *cfg, const char *hf_name)
{
    if (!cfg || !hf_name || strncmp(hf_name, "model.layers.", 13) != 0) return 0;
    if (ends_with(hf_name, ".self_attn.q_proj.weight") || ends_with(hf_name, ".self_attn.q_proj.bias"))
        return (int)cfg->num_attention_heads;
    if (ends_with(hf_name, ".self_attn.k_proj.weight") || ends_with(hf_name, ".self_attn.k_proj.bias"))
        return (int)cfg->num_key_value_heads;
    return 0;
}
