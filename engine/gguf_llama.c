/* gguf_llama.c — a GGUF file of the llama family seen as a Hugging Face
 * checkpoint: gq_config from the <arch>.* metadata, GGUF -> HF tensor names,
 * and which tensors llama.cpp's converter permuted for its interleaved RoPE.
 *
 * Architectures (general.architecture -> the HF twin whose forward pass runs):
 *   llama  LlamaForCausalLM and MistralForCausalLM (llama.cpp writes Mistral
 *          as llama), SmolLM; q/k rows permuted (below);
 *   qwen2  Qwen2ForCausalLM: q/k/v biases; no permutation;
 *   qwen3  Qwen3ForCausalLM: attn_q_norm / attn_k_norm (per-head RMSNorm of
 *          q and k before RoPE), explicit key_length; no permutation;
 *   phi3   Phi3ForCausalLM: fused attn_qkv [(H+2Hkv)Dh, D] and ffn_up =
 *          gate_up [2I, D] (gate rows first), split into row views by
 *          checkpoint.c; no permutation; LongRoPE factor tensors refused.
 * gemma2 is refused with what the forward pass lacks (see below).
 *
 * The permutation (convert_hf_to_gguf.py, LlamaModel): for q_proj with H
 * heads and k_proj with Hkv heads, head h's d = Dh rows [first half | second
 * half] are interleaved, so GGUF row h*d + 2j + η holds HF row h*d + η*d/2 + j
 * (j < d/2, η in {0,1}).  gq_tensor_load_f32 (tensor_load.c) undoes it when a
 * tensor ref says rope_unpermute_heads > 0; this file only says how many heads.
 *
 * Not here: partial rotary, llama3-style rope_freqs, sliding-window attention
 * (phi3's <arch>.attention.sliding_window is not applied: exact only for
 * sequences shorter than the window).  Tested by tests/test_gguf.c (tiny
 * fixture and SmolLM2-135M) and tests/test_gguf_arch.c (llama.cpp-converted
 * tiny models of each architecture against transformers).
 */
#include "gguf_llama.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

// ---------------------------------------------------------------- config

typedef struct gguf_arch {
    const char *name;        /* general.architecture, also the metadata key prefix */
    gq_arch arch;
    int rope_permuted;       /* llama.cpp permuted q/k rows (LlamaModel only) */
    int64_t ctx_default;     /* the HF config class's max_position_embeddings */
} gguf_arch;

static const gguf_arch gguf_archs[] = {
    {"llama", GQ_ARCH_LLAMA, 1, 2048},
    {"qwen2", GQ_ARCH_QWEN2, 0, 32768},
    {"qwen3", GQ_ARCH_QWEN3, 0, 40960},
    {"phi3", GQ_ARCH_PHI3, 0, 4096},
};

/* "<arch>.<rest>" into buf. */
static const char *akey(char *buf, size_t n, const char *arch, const char *rest)
{
    snprintf(buf, n, "%s.%s", arch, rest);
    return buf;
}

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

static int get_rope_scaling(const gq_gguf *g, const char *arch, gq_config *cfg, gq_error *err)
{
    const char *path = gq_gguf_path(g), *type = NULL;
    char k[128];
    int rc = gq_gguf_get_str(g, akey(k, sizeof k, arch, "rope.scaling.type"), &type, err);
    if (rc < 0) return rc;
    cfg->rope_scaling.type = GQ_ROPE_SCALING_NONE;
    cfg->rope_scaling.factor = 1.0;

    if (gq_gguf_find(g, "rope_freqs.weight"))
        return gq_error_set(err, GQ_ERR_UNSUPPORTED,
                            "%s: tensor 'rope_freqs.weight' (llama3-style RoPE frequency factors) is not supported "
                            "--> HINT: use the Hugging Face checkpoint, whose config.json has rope_scaling",
                            path);
    if (gq_gguf_find(g, "rope_factors_long.weight") || gq_gguf_find(g, "rope_factors_short.weight"))
        return gq_error_set(err, GQ_ERR_UNSUPPORTED,
                            "%s: tensors 'rope_factors_long/short.weight' (phi3 LongRoPE) are not supported; "
                            "gqla-eval runs plain RoPE (no scaling) or llama3 scaling only", path);
    if (rc == 0 || strcmp(type, "none") == 0) return GQ_OK;

    if (strcmp(type, "linear") == 0) cfg->rope_scaling.type = GQ_ROPE_SCALING_LINEAR;
    else if (strcmp(type, "yarn") == 0) cfg->rope_scaling.type = GQ_ROPE_SCALING_YARN;
    else
        return gq_error_set(err, GQ_ERR_UNSUPPORTED,
                            "%s: metadata key '%s' is '%.64s', expected none, linear or yarn",
                            path, k, type);
    double factor = 0;
    rc = gq_gguf_get_f64(g, akey(k, sizeof k, arch, "rope.scaling.factor"), &factor, err);
    if (rc < 0) return rc;
    if (rc == 0 || !(factor > 0))
        return gq_error_set(err, GQ_ERR_INVALID,
                            "%s: metadata key '%s' is missing or not positive, expected "
                            "a factor > 0 for %s scaling", path, k, type);
    cfg->rope_scaling.factor = factor;
    int64_t orig = 0;
    rc = get_pos_int(g, akey(k, sizeof k, arch, "rope.scaling.original_context_length"), 0, &orig, err);
    if (rc < 0) return rc;
    cfg->rope_scaling.original_max_position_embeddings = rc ? orig : 0;
    return GQ_OK;
}

int gq_gguf_llama_config(const gq_gguf *g, gq_config *cfg, gq_error *err)
{
    const char *path = gq_gguf_path(g), *arch = NULL;
    const gguf_arch *ga = NULL;
    char k[128];
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
    for (size_t i = 0; i < sizeof gguf_archs / sizeof gguf_archs[0]; i++)
        if (strcmp(arch, gguf_archs[i].name) == 0) ga = &gguf_archs[i];
    if (!ga && (strcmp(arch, "gemma2") == 0 || strcmp(arch, "gemma3") == 0 || strcmp(arch, "gemma") == 0)) {
        rc = gq_error_set(err, GQ_ERR_UNSUPPORTED,
                          "%s: general.architecture is '%.64s'; the forward pass lacks what Gemma needs: "
                          "embeddings scaled by sqrt(hidden), RMSNorm with (1 + w) and post-attention / "
                          "post-feed-forward norms, GeLU-tanh MLP, attention-logit and final-logit soft-capping "
                          "and alternating sliding-window layers --> HINT: gqla-eval reads llama, mistral "
                          "(as llama), qwen2, qwen3 and phi3 GGUF files",
                          path, arch);
        goto fail;
    }
    if (!ga) {
        rc = gq_error_set(err, GQ_ERR_UNSUPPORTED,
                          "%s: general.architecture is '%.64s'; gqla-eval reads GGUF files of the llama "
                          "(also mistral), qwen2, qwen3 and phi3 architectures --> HINT: use the Hugging Face "
                          "safetensors checkpoint",
                          path, arch);
        goto fail;
    }
    cfg->arch = ga->arch;
    snprintf(cfg->model_type, sizeof cfg->model_type, "%s", ga->name);
    arch = ga->name;

    if ((rc = get_pos_int(g, akey(k, sizeof k, arch, "block_count"), 1, &cfg->num_hidden_layers, err)) < 0) goto fail;
    if ((rc = get_pos_int(g, akey(k, sizeof k, arch, "embedding_length"), 1, &cfg->hidden_size, err)) < 0) goto fail;
    if ((rc = get_pos_int(g, akey(k, sizeof k, arch, "feed_forward_length"), 1, &cfg->intermediate_size, err)) < 0) goto fail;
    if ((rc = get_pos_int(g, akey(k, sizeof k, arch, "attention.head_count"), 1, &cfg->num_attention_heads, err)) < 0) goto fail;
    if ((rc = get_pos_int(g, akey(k, sizeof k, arch, "attention.head_count_kv"), 0, &v, err)) < 0) goto fail;
    cfg->num_key_value_heads = rc ? v : cfg->num_attention_heads;

    const int64_t H = cfg->num_attention_heads, Hkv = cfg->num_key_value_heads, D = cfg->hidden_size;
    if (H % Hkv != 0) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: %s.attention.head_count %" PRId64
                          " is not a multiple of head_count_kv %" PRId64, path, arch, H, Hkv);
        goto fail;
    }
    if ((rc = get_pos_int(g, akey(k, sizeof k, arch, "attention.key_length"), 0, &v, err)) < 0) goto fail;
    if (rc) {
        cfg->head_dim = v;
    } else if (D % H != 0) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: %s.embedding_length %" PRId64 " is not a multiple of "
                          "head_count %" PRId64 " and %s.attention.key_length is absent", path, arch, D, H, arch);
        goto fail;
    } else {
        cfg->head_dim = D / H;
    }
    if (cfg->head_dim % 2 != 0) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: head dimension %" PRId64 " is odd, expected an even size for RoPE",
                          path, cfg->head_dim);
        goto fail;
    }
    if ((rc = get_pos_int(g, akey(k, sizeof k, arch, "attention.value_length"), 0, &v, err)) < 0) goto fail;
    if (rc && v != cfg->head_dim) {
        rc = gq_error_set(err, GQ_ERR_UNSUPPORTED, "%s: %s.attention.value_length %" PRId64
                          " differs from the key length %" PRId64, path, arch, v, cfg->head_dim);
        goto fail;
    }
    if ((rc = get_pos_int(g, akey(k, sizeof k, arch, "rope.dimension_count"), 0, &v, err)) < 0) goto fail;
    if (rc && v != cfg->head_dim) {
        rc = gq_error_set(err, GQ_ERR_UNSUPPORTED, "%s: %s.rope.dimension_count %" PRId64
                          " differs from the head dimension %" PRId64 " (partial rotary is not supported)",
                          path, arch, v, cfg->head_dim);
        goto fail;
    }
    if ((rc = get_pos_int(g, akey(k, sizeof k, arch, "context_length"), 0, &v, err)) < 0) goto fail;
    cfg->max_position_embeddings = rc ? v : ga->ctx_default;

    rc = gq_gguf_get_f64(g, akey(k, sizeof k, arch, "attention.layer_norm_rms_epsilon"), &cfg->rms_norm_eps, err);
    if (rc < 0) goto fail;
    if (rc == 0 || !(cfg->rms_norm_eps > 0)) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: metadata key '%s.attention.layer_norm_rms_epsilon' is %s, "
                          "expected a positive float", path, arch, rc == 0 ? "missing" : "not positive");
        goto fail;
    }
    rc = gq_gguf_get_f64(g, akey(k, sizeof k, arch, "rope.freq_base"), &cfg->rope_theta, err);
    if (rc < 0) goto fail;
    if (rc == 0) cfg->rope_theta = 10000.0; /* llama.cpp's and HF's default */
    if (!(cfg->rope_theta > 0)) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: %s.rope.freq_base is not positive", path, arch);
        goto fail;
    }
    if ((rc = get_rope_scaling(g, arch, cfg, err)) < 0) goto fail;

    /* Vocabulary: the explicit key, else the token list, else the embedding. */
    const gq_tensor_ref *emb = gq_gguf_find(g, "token_embd.weight");
    if ((rc = get_pos_int(g, akey(k, sizeof k, arch, "vocab_size"), 0, &v, err)) < 0) goto fail;
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
            rc = gq_error_set(err, GQ_ERR_INVALID, "%s: cannot tell the vocabulary size: no %s.vocab_size, "
                              "no tokenizer.ggml.tokens and no 2-D token_embd.weight", path, arch);
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
    if (cfg->arch == GQ_ARCH_QWEN2) cfg->attention_bias = 1; /* as config.c: Qwen2 always has them */
    cfg->qk_norm = cfg->arch == GQ_ARCH_QWEN3;
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
               {"ffn_down", "mlp.down_proj", 1},        {"attn_q_norm", "self_attn.q_norm", 0},
               {"attn_k_norm", "self_attn.k_norm", 0},  {"attn_qkv", "self_attn.qkv_proj", 1}};
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
    if (cfg->arch != GQ_ARCH_LLAMA) return 0; /* only LlamaModel's converter permutes */
    if (ends_with(hf_name, ".self_attn.q_proj.weight") || ends_with(hf_name, ".self_attn.q_proj.bias"))
        return (int)cfg->num_attention_heads;
    if (ends_with(hf_name, ".self_attn.k_proj.weight") || ends_with(hf_name, ".self_attn.k_proj.bias"))
        return (int)cfg->num_key_value_heads;
    return 0;
}
