/* config.c — Hugging Face config.json into a gq_config, and the cross-field
 * rules every source (config.json, GGUF metadata) must satisfy.
 *
 * What it is: a strict reader.  Required keys missing, keys of the wrong JSON
 * type and impossible values are errors naming the file and the key; optional
 * keys take the defaults of the matching transformers config class
 * (LlamaConfig, MistralConfig, Qwen2Config, DeepseekV2/V3Config).
 * Accepted model_type: llama (also SmolLM), mistral, qwen2 (attention bias
 * always on), qwen3 (q/k norms), phi3 (fused qkv / gate_up, split by
 * checkpoint.c; full rotary only), deepseek_v2 / deepseek_v3 (MLA, or GQLA when
 * num_key_value_heads < num_attention_heads) and gqla.  RoPE scaling is read
 * from "rope_scaling" (HF 4.x) or "rope_parameters" (HF 5.x, which also holds
 * rope_theta); "type" is an old alias of "rope_type".
 * What it is not: GGUF metadata (gguf_llama.c fills the same struct and calls
 * gq_config_validate), tensor checks (checkpoint.c).
 * Tests: tests/test_checkpoint.c (cases valid, config_*, rope_*).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json_util.h"

/* Upper bound for every size in a config: keeps products of two sizes (the
 * element count of any weight matrix) far inside int64_t. */
#define GQ_CONFIG_MAX_DIM ((int64_t)1 << 24)
/* JSON numbers are doubles: integers beyond 2^53 are not exact. */
#define GQ_CONFIG_MAX_JSON_INT 9007199254740992.0

const char *gq_arch_name(gq_arch a)
{
    switch (a) {
    case GQ_ARCH_LLAMA: return "llama";
    case GQ_ARCH_MISTRAL: return "mistral";
    case GQ_ARCH_QWEN2: return "qwen2";
    case GQ_ARCH_DEEPSEEK_MLA: return "deepseek-mla";
    case GQ_ARCH_GQLA: return "gqla";
    case GQ_ARCH_QWEN3: return "qwen3";
    case GQ_ARCH_PHI3: return "phi3";
    case GQ_ARCH_COUNT: break;
    }
    return "?";
}

// ---------------------------------------------------------------------------
// typed key access with messages

/* Where a key lives, for messages: the file and an optional prefix such as
 * "rope_scaling." for nested keys. */
typedef struct cfg_src {
    const char *path;
    const char *prefix;
} cfg_src;

static int missing_key(const cfg_src *s, const char *key, gq_error *err)
{
    return gq_error_set(err, GQ_ERR_INVALID,
                        "%s: missing required key '%s%s'; is this a Hugging Face config.json of a "
                        "llama, mistral, qwen2 or deepseek model?",
                        s->path, s->prefix, key);
}

static int wrong_type(const cfg_src *s, const char *key, const char *expected, const cJSON *v,
                      gq_error *err)
{
    return gq_error_set(err, GQ_ERR_INVALID, "%s: key '%s%s' must be %s, found %s", s->path,
                        s->prefix, key, expected, gq_json_kind(v));
}

static int json_is_int(const cJSON *v, int64_t *out)
{
    if (!cJSON_IsNumber(v)) return 0;
    double d = v->valuedouble;
    if (!(fabs(d) <= GQ_CONFIG_MAX_JSON_INT) || floor(d) != d) return 0;
    *out = (int64_t)d;
    return 1;
}

/* Integer key.  Absent: error if required, else dflt.  null counts as
 * absent for optional keys (HF writes "head_dim": null). */
static int get_int(const cJSON *obj, const cfg_src *s, const char *key, int required, int64_t dflt,
                   int64_t *out, gq_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || (cJSON_IsNull(v) && !required)) {
        if (required && !v) return missing_key(s, key, err);
        *out = dflt;
        return GQ_OK;
    }
    if (!json_is_int(v, out)) return wrong_type(s, key, "an integer", v, err);
    return GQ_OK;
}

static int get_double(const cJSON *obj, const cfg_src *s, const char *key, int required, double dflt,
                      double *out, gq_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || (cJSON_IsNull(v) && !required)) {
        if (required && !v) return missing_key(s, key, err);
        *out = dflt;
        return GQ_OK;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return wrong_type(s, key, "a number", v, err);
    *out = v->valuedouble;
    return GQ_OK;
}

static int get_bool(const cJSON *obj, const cfg_src *s, const char *key, int dflt, int *out,
                    gq_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        *out = dflt;
        return GQ_OK;
    }
    if (!cJSON_IsBool(v)) return wrong_type(s, key, "true or false", v, err);
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return GQ_OK;
}

/* bos/eos: an integer, a list of integers (the first one counts) or null. */
static int get_token_id(const cJSON *obj, const cfg_src *s, const char *key, int64_t *out,
                        gq_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = -1;
    if (!v || cJSON_IsNull(v)) return GQ_OK;
    if (cJSON_IsArray(v)) {
        const cJSON *first = cJSON_GetArrayItem(v, 0);
        if (!first) return GQ_OK;
        if (json_is_int(first, out)) return GQ_OK;
        return wrong_type(s, key, "an integer, a list of integers or null", first, err);
    }
    if (json_is_int(v, out)) return GQ_OK;
    return wrong_type(s, key, "an integer, a list of integers or null", v, err);
}

// ---------------------------------------------------------------------------
// model type

typedef struct arch_entry {
    const char *model_type;
    const char *architecture; /* "architectures" entry, when model_type is absent */
    gq_arch arch;
    int64_t max_pos_default;  /* the transformers config class's default */
} arch_entry;

static const arch_entry arch_table[] = {
    {"llama", "LlamaForCausalLM", GQ_ARCH_LLAMA, 2048},
    {"mistral", "MistralForCausalLM", GQ_ARCH_MISTRAL, 131072},
    {"qwen2", "Qwen2ForCausalLM", GQ_ARCH_QWEN2, 32768},
    {"qwen3", "Qwen3ForCausalLM", GQ_ARCH_QWEN3, 40960},
    {"phi3", "Phi3ForCausalLM", GQ_ARCH_PHI3, 4096},
    {"deepseek_v2", "DeepseekV2ForCausalLM", GQ_ARCH_DEEPSEEK_MLA, 2048},
    {"deepseek_v3", "DeepseekV3ForCausalLM", GQ_ARCH_DEEPSEEK_MLA, 4096},
    {"gqla", NULL, GQ_ARCH_GQLA, 4096},
};

static int parse_model_type(const cJSON *root, const cfg_src *s, gq_config *cfg,
                            const arch_entry **found, gq_error *err)
{
    const size_t n_arch = sizeof arch_table / sizeof arch_table[0];
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
    *found = NULL;
    if (mt) {
        if (!cJSON_IsString(mt)) return wrong_type(s, "model_type", "a string", mt, err);
        for (size_t i = 0; i < n_arch; i++)
            if (strcmp(mt->valuestring, arch_table[i].model_type) == 0) *found = &arch_table[i];
        if (!*found)
            return gq_error_set(err, GQ_ERR_UNSUPPORTED,
                                "%s: model_type '%s' is not supported (llama, mistral, qwen2, qwen3, "
                                "phi3, deepseek_v2, deepseek_v3, gqla are)",
                                s->path, mt->valuestring);
    } else {
        /* Old or hand-written configs: fall back to "architectures". */
        const cJSON *archs = cJSON_GetObjectItemCaseSensitive(root, "architectures");
        const cJSON *a0 = cJSON_IsArray(archs) ? cJSON_GetArrayItem(archs, 0) : NULL;
        for (size_t i = 0; i < n_arch && cJSON_IsString(a0); i++)
            if (arch_table[i].architecture && strcmp(a0->valuestring, arch_table[i].architecture) == 0)
                *found = &arch_table[i];
        if (!*found) return missing_key(s, "model_type", err);
    }
    cfg->arch = (*found)->arch;
    snprintf(cfg->model_type, sizeof cfg->model_type, "%s", (*found)->model_type);
    return GQ_OK;
}

// ---------------------------------------------------------------------------
// RoPE

static int parse_rope(const cJSON *root, const char *path, gq_config *cfg, gq_error *err)
{
    cfg_src top = {path, ""};
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(root, "rope_scaling");
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(root, "rope_parameters");
    int rc;

    if (rs && !cJSON_IsNull(rs) && !cJSON_IsObject(rs))
        return wrong_type(&top, "rope_scaling", "an object or null", rs, err);
    if (rp && !cJSON_IsNull(rp) && !cJSON_IsObject(rp))
        return wrong_type(&top, "rope_parameters", "an object or null", rp, err);
    if (!cJSON_IsObject(rp)) rp = NULL;

    /* rope_theta: top level (HF 4.x), else inside rope_parameters (HF 5.x). */
    const cJSON *theta_holder = root;
    cfg_src theta_src = top;
    if (!cJSON_GetObjectItemCaseSensitive(root, "rope_theta") && rp) {
        theta_holder = rp;
        theta_src.prefix = "rope_parameters.";
    }
    rc = get_double(theta_holder, &theta_src, "rope_theta", 0, 10000.0, &cfg->rope_theta, err);
    if (rc != GQ_OK) return rc;

    /* The scaling block: rope_scaling when it is set, else rope_parameters. */
    const cJSON *blk = cJSON_IsObject(rs) ? rs : rp;
    cfg_src s = {path, blk == rs ? "rope_scaling." : "rope_parameters."};
    gq_rope_scaling *sc = &cfg->rope_scaling;
    memset(sc, 0, sizeof *sc);
    sc->type = GQ_ROPE_SCALING_NONE;
    sc->factor = 1.0;
    if (!blk) return GQ_OK;

    const char *tkey = "rope_type";
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(blk, "rope_type");
    if (!t || cJSON_IsNull(t)) {
        tkey = "type";
        t = cJSON_GetObjectItemCaseSensitive(blk, "type");
    }
    if (!t || cJSON_IsNull(t)) return GQ_OK;
    if (!cJSON_IsString(t)) return wrong_type(&s, tkey, "a string", t, err);
    const char *ty = t->valuestring;

    if (strcmp(ty, "default") == 0) return GQ_OK;
    if (strcmp(ty, "linear") == 0) {
        sc->type = GQ_ROPE_SCALING_LINEAR;
        return get_double(blk, &s, "factor", 1, 1.0, &sc->factor, err);
    }
    if (strcmp(ty, "llama3") == 0) {
        int64_t omax = 0;
        sc->type = GQ_ROPE_SCALING_LLAMA3;
        if ((rc = get_double(blk, &s, "factor", 1, 1.0, &sc->factor, err)) != GQ_OK) return rc;
        if ((rc = get_double(blk, &s, "low_freq_factor", 1, 1.0, &sc->low_freq_factor, err)) != GQ_OK)
            return rc;
        if ((rc = get_double(blk, &s, "high_freq_factor", 1, 4.0, &sc->high_freq_factor, err)) != GQ_OK)
            return rc;
        rc = get_int(blk, &s, "original_max_position_embeddings", 1, 0, &omax, err);
        sc->original_max_position_embeddings = omax;
        return rc;
    }
    if (strcmp(ty, "yarn") == 0) {
        int64_t omax = 0;
        sc->type = GQ_ROPE_SCALING_YARN;
        if ((rc = get_double(blk, &s, "factor", 1, 1.0, &sc->factor, err)) != GQ_OK) return rc;
        /* HF: absent means max_position_embeddings. */
        rc = get_int(blk, &s, "original_max_position_embeddings", 0, cfg->max_position_embeddings,
                     &omax, err);
        if (rc != GQ_OK) return rc;
        sc->original_max_position_embeddings = omax;
        /* Defaults as in DeepSeek's and HF's yarn code (conversion.md §1.2). */
        if ((rc = get_double(blk, &s, "beta_fast", 0, 32.0, &sc->beta_fast, err)) != GQ_OK) return rc;
        if ((rc = get_double(blk, &s, "beta_slow", 0, 1.0, &sc->beta_slow, err)) != GQ_OK) return rc;
        if ((rc = get_double(blk, &s, "mscale", 0, 1.0, &sc->mscale, err)) != GQ_OK) return rc;
        return get_double(blk, &s, "mscale_all_dim", 0, 0.0, &sc->mscale_all_dim, err);
    }
    return gq_error_set(err, GQ_ERR_UNSUPPORTED,
                        "%s: %s%s '%s' is not supported (default, linear, llama3 and yarn are)", path,
                        s.prefix, tkey, ty);
}

// ---------------------------------------------------------------------------
// config.json

int gq_config_load_json(gq_config *cfg, const char *path, gq_error *err)
{
    cJSON *root = NULL;
    const arch_entry *ae = NULL;
    cfg_src s = {path, ""};
    int rc;

    memset(cfg, 0, sizeof *cfg);
    rc = gq_json_load_file(&root, path, err);
    if (rc != GQ_OK) goto fail;
    if (!cJSON_IsObject(root)) {
        rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: expected a JSON object at the top level, found %s",
                          path, gq_json_kind(root));
        goto fail;
    }
    rc = parse_model_type(root, &s, cfg, &ae, err);
    if (rc != GQ_OK) goto fail;

    /* Required sizes. */
    if ((rc = get_int(root, &s, "hidden_size", 1, 0, &cfg->hidden_size, err)) != GQ_OK) goto fail;
    if ((rc = get_int(root, &s, "intermediate_size", 1, 0, &cfg->intermediate_size, err)) != GQ_OK)
        goto fail;
    if ((rc = get_int(root, &s, "num_hidden_layers", 1, 0, &cfg->num_hidden_layers, err)) != GQ_OK)
        goto fail;
    if ((rc = get_int(root, &s, "num_attention_heads", 1, 0, &cfg->num_attention_heads, err)) != GQ_OK)
        goto fail;
    if ((rc = get_int(root, &s, "vocab_size", 1, 0, &cfg->vocab_size, err)) != GQ_OK) goto fail;
    if (cfg->num_attention_heads <= 0) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: num_attention_heads must be positive, found %lld",
                          path, (long long)cfg->num_attention_heads);
        goto fail;
    }

    /* Optional, with the transformers defaults. */
    rc = get_int(root, &s, "num_key_value_heads", 0, cfg->num_attention_heads,
                 &cfg->num_key_value_heads, err);
    if (rc != GQ_OK) goto fail;
    rc = get_int(root, &s, "max_position_embeddings", 0, ae->max_pos_default,
                 &cfg->max_position_embeddings, err);
    if (rc != GQ_OK) goto fail;
    if ((rc = get_double(root, &s, "rms_norm_eps", 0, 1e-6, &cfg->rms_norm_eps, err)) != GQ_OK) goto fail;
    if ((rc = get_bool(root, &s, "tie_word_embeddings", 0, &cfg->tie_word_embeddings, err)) != GQ_OK)
        goto fail;
    if ((rc = get_bool(root, &s, "attention_bias", 0, &cfg->attention_bias, err)) != GQ_OK) goto fail;
    /* Qwen2 always has q/k/v biases; Mistral never has any (HF ignores the key). */
    if (cfg->arch == GQ_ARCH_QWEN2) cfg->attention_bias = 1;
    if (cfg->arch == GQ_ARCH_MISTRAL) cfg->attention_bias = 0;
    cfg->qk_norm = cfg->arch == GQ_ARCH_QWEN3;
    if (cfg->arch == GQ_ARCH_PHI3) {
        /* Phi3Config: rotary over partial_rotary_factor of each head (default 1). */
        double prf = 1.0;
        if ((rc = get_double(root, &s, "partial_rotary_factor", 0, 1.0, &prf, err)) != GQ_OK) goto fail;
        if (prf != 1.0) {
            rc = gq_error_set(err, GQ_ERR_UNSUPPORTED, "%s: partial_rotary_factor %g: partial rotary is not "
                              "supported (1.0 is)", path, prf);
            goto fail;
        }
    }
    if ((rc = get_token_id(root, &s, "bos_token_id", &cfg->bos_token_id, err)) != GQ_OK) goto fail;
    if ((rc = get_token_id(root, &s, "eos_token_id", &cfg->eos_token_id, err)) != GQ_OK) goto fail;
    if ((rc = parse_rope(root, path, cfg, err)) != GQ_OK) goto fail;

    /* MLA keys: required for the MLA model types, parsed whenever present.
     * q_lora_rank must be written out (null = plain q_proj): the HF default
     * when it is absent (1536) is not something to guess. */
    int mla = cfg->arch == GQ_ARCH_DEEPSEEK_MLA || cfg->arch == GQ_ARCH_GQLA;
    if (mla && !cJSON_GetObjectItemCaseSensitive(root, "q_lora_rank")) {
        rc = missing_key(&s, "q_lora_rank", err);
        goto fail;
    }
    if ((rc = get_int(root, &s, "q_lora_rank", 0, 0, &cfg->q_lora_rank, err)) != GQ_OK) goto fail;
    if ((rc = get_int(root, &s, "kv_lora_rank", mla, 0, &cfg->kv_lora_rank, err)) != GQ_OK) goto fail;
    if ((rc = get_int(root, &s, "qk_nope_head_dim", mla, 0, &cfg->qk_nope_head_dim, err)) != GQ_OK)
        goto fail;
    if ((rc = get_int(root, &s, "qk_rope_head_dim", mla, 0, &cfg->qk_rope_head_dim, err)) != GQ_OK)
        goto fail;
    if ((rc = get_int(root, &s, "v_head_dim", mla, 0, &cfg->v_head_dim, err)) != GQ_OK) goto fail;
    /* Defaults of HF's DeepseekV3Config (rope_interleave true) and TransMLA
     * (absent qk_latent_layernorm means the norms exist). */
    if ((rc = get_bool(root, &s, "rope_interleave", 1, &cfg->rope_interleave, err)) != GQ_OK) goto fail;
    if ((rc = get_bool(root, &s, "qk_latent_layernorm", 1, &cfg->qk_latent_layernorm, err)) != GQ_OK) goto fail;
    /* conversion.md §1.4: latent norms use latent_norm_eps, else rms_norm_eps. */
    rc = get_double(root, &s, "latent_norm_eps", 0, cfg->rms_norm_eps, &cfg->latent_norm_eps, err);
    if (rc != GQ_OK) goto fail;
    /* Dense vs MoE layers: HF DeepseekV3Config defaults (3 dense layers,
     * 256 routed experts); DeepseekV2Config: 0 and none.  gqla writes both. */
    int v3 = strcmp(cfg->model_type, "deepseek_v3") == 0;
    rc = get_int(root, &s, "first_k_dense_replace", 0, mla ? (v3 ? 3 : 0) : cfg->num_hidden_layers,
                 &cfg->first_k_dense_replace, err);
    if (rc != GQ_OK) goto fail;
    rc = get_int(root, &s, "n_routed_experts", 0, mla && v3 ? 256 : 0, &cfg->n_routed_experts, err);
    if (rc != GQ_OK) goto fail;
    /* DeepSeek V2/V3 with fewer KV heads than query heads is GQLA (conversion.md §5.2). */
    if (cfg->arch == GQ_ARCH_DEEPSEEK_MLA && cfg->kv_lora_rank > 0 &&
        cfg->num_key_value_heads < cfg->num_attention_heads)
        cfg->arch = GQ_ARCH_GQLA;

    /* head_dim: explicit, else D / H for GQA; for MLA HF's DeepseekV3Config
     * convention is the rotary width qk_rope_head_dim. */
    const cJSON *hd = cJSON_GetObjectItemCaseSensitive(root, "head_dim");
    if (hd && !cJSON_IsNull(hd)) {
        if (!json_is_int(hd, &cfg->head_dim)) {
            rc = wrong_type(&s, "head_dim", "an integer or null", hd, err);
            goto fail;
        }
    } else if (mla) {
        cfg->head_dim = cfg->qk_rope_head_dim;
    } else {
        if (cfg->hidden_size % cfg->num_attention_heads != 0) {
            rc = gq_error_set(err, GQ_ERR_INVALID,
                              "%s: no head_dim, and hidden_size (%lld) is not a multiple of "
                              "num_attention_heads (%lld); add \"head_dim\" to the config",
                              path, (long long)cfg->hidden_size, (long long)cfg->num_attention_heads);
            goto fail;
        }
        cfg->head_dim = cfg->hidden_size / cfg->num_attention_heads;
    }

    rc = gq_config_validate(cfg, path, err);

fail:
    cJSON_Delete(root);
    return rc;
}

// ---------------------------------------------------------------------------
// cross-field rules

static int check_dim(const char *source, const char *key, int64_t v, int64_t lo, gq_error *err)
{
    if (v < lo || v > GQ_CONFIG_MAX_DIM)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: %s = %lld is out of range (expected %lld..%lld)",
                            source, key, (long long)v, (long long)lo, (long long)GQ_CONFIG_MAX_DIM);
    return GQ_OK;
}

int gq_config_validate(const gq_config *cfg, const char *source, gq_error *err)
{
    int rc;
    const struct {
        const char *key;
        int64_t v;
    } dims[] = {
        {"hidden_size", cfg->hidden_size},
        {"intermediate_size", cfg->intermediate_size},
        {"num_hidden_layers", cfg->num_hidden_layers},
        {"num_attention_heads", cfg->num_attention_heads},
        {"num_key_value_heads", cfg->num_key_value_heads},
        {"head_dim", cfg->head_dim},
        {"vocab_size", cfg->vocab_size},
        {"max_position_embeddings", cfg->max_position_embeddings},
    };
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
        if ((rc = check_dim(source, dims[i].key, dims[i].v, 1, err)) != GQ_OK) return rc;

    if ((int)cfg->arch < 0 || cfg->arch >= GQ_ARCH_COUNT)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: unknown architecture %d", source, (int)cfg->arch);
    if (cfg->num_attention_heads % cfg->num_key_value_heads != 0)
        return gq_error_set(err, GQ_ERR_INVALID,
                            "%s: num_attention_heads (%lld) is not a multiple of num_key_value_heads "
                            "(%lld); every KV head must serve the same number of query heads",
                            source, (long long)cfg->num_attention_heads,
                            (long long)cfg->num_key_value_heads);
    if (cfg->head_dim % 2 != 0)
        return gq_error_set(err, GQ_ERR_INVALID,
                            "%s: head_dim = %lld is odd; RoPE rotates pairs and needs an even width",
                            source, (long long)cfg->head_dim);
    if (!(cfg->rms_norm_eps > 0.0) || !isfinite(cfg->rms_norm_eps))
        return gq_error_set(err, GQ_ERR_INVALID, "%s: rms_norm_eps = %g must be a positive number",
                            source, cfg->rms_norm_eps);
    if (!(cfg->rope_theta > 0.0) || !isfinite(cfg->rope_theta))
        return gq_error_set(err, GQ_ERR_INVALID, "%s: rope_theta = %g must be a positive number",
                            source, cfg->rope_theta);

    const gq_rope_scaling *sc = &cfg->rope_scaling;
    if (sc->type != GQ_ROPE_SCALING_NONE) {
        if (!(sc->factor > 0.0) || !isfinite(sc->factor))
            return gq_error_set(err, GQ_ERR_INVALID, "%s: RoPE scaling factor = %g must be positive",
                                source, sc->factor);
        if ((sc->type == GQ_ROPE_SCALING_LLAMA3 || sc->type == GQ_ROPE_SCALING_YARN) &&
            sc->original_max_position_embeddings <= 0)
            return gq_error_set(err, GQ_ERR_INVALID,
                                "%s: RoPE scaling original_max_position_embeddings = %lld must be "
                                "positive",
                                source, (long long)sc->original_max_position_embeddings);
        if (sc->type == GQ_ROPE_SCALING_LLAMA3 &&
            !(sc->high_freq_factor > sc->low_freq_factor && sc->low_freq_factor > 0.0))
            return gq_error_set(err, GQ_ERR_INVALID,
                                "%s: llama3 RoPE scaling needs 0 < low_freq_factor (%g) < "
                                "high_freq_factor (%g)",
                                source, sc->low_freq_factor, sc->high_freq_factor);
    }

    for (int which = 0; which < 2; which++) {
        int64_t id = which ? cfg->eos_token_id : cfg->bos_token_id;
        if (id < -1 || id >= cfg->vocab_size)
            return gq_error_set(err, GQ_ERR_INVALID,
                                "%s: %s = %lld is outside the vocabulary (vocab_size %lld)", source,
                                which ? "eos_token_id" : "bos_token_id", (long long)id,
                                (long long)cfg->vocab_size);
    }

    if (cfg->arch == GQ_ARCH_DEEPSEEK_MLA || cfg->arch == GQ_ARCH_GQLA) {
        if ((rc = check_dim(source, "kv_lora_rank", cfg->kv_lora_rank, 1, err)) != GQ_OK) return rc;
        if ((rc = check_dim(source, "qk_rope_head_dim", cfg->qk_rope_head_dim, 2, err)) != GQ_OK) return rc;
        if ((rc = check_dim(source, "qk_nope_head_dim", cfg->qk_nope_head_dim, 0, err)) != GQ_OK) return rc;
        if ((rc = check_dim(source, "v_head_dim", cfg->v_head_dim, 1, err)) != GQ_OK) return rc;
        if ((rc = check_dim(source, "q_lora_rank", cfg->q_lora_rank, 0, err)) != GQ_OK) return rc;
        if (cfg->qk_rope_head_dim % 2 != 0)
            return gq_error_set(err, GQ_ERR_INVALID,
                                "%s: qk_rope_head_dim = %lld is odd; RoPE needs an even width", source,
                                (long long)cfg->qk_rope_head_dim);
        if (!(cfg->latent_norm_eps > 0.0) || !isfinite(cfg->latent_norm_eps))
            return gq_error_set(err, GQ_ERR_INVALID, "%s: latent_norm_eps = %g must be a positive number",
                                source, cfg->latent_norm_eps);
        if (cfg->first_k_dense_replace < 0 || cfg->n_routed_experts < 0)
            return gq_error_set(err, GQ_ERR_INVALID,
                                "%s: first_k_dense_replace (%lld) and n_routed_experts (%lld) must not be "
                                "negative",
                                source, (long long)cfg->first_k_dense_replace, (long long)cfg->n_routed_experts);
    }
    return GQ_OK;
}

int gq_config_has_moe(const gq_config *cfg)
{
    int mla = cfg->arch == GQ_ARCH_DEEPSEEK_MLA || cfg->arch == GQ_ARCH_GQLA;
    return mla && cfg->n_routed_experts > 0 && cfg->first_k_dense_replace < cfg->num_hidden_layers;
}

// ---------------------------------------------------------------------------
// decoding paths and cache accounting (conversion.md §2.4)

static const char *const path_names[GQ_PATH_COUNT] = {"native", "gqa", "absorb", "expanded"};

const char *gq_path_name(gq_path p) { return (int)p >= 0 && p < GQ_PATH_COUNT ? path_names[p] : "?"; }

int gq_path_parse(const char *s, gq_path *out)
{
    for (int i = 0; i < GQ_PATH_COUNT; i++)
        if (s && strcmp(s, path_names[i]) == 0) {
            *out = (gq_path)i;
            return 0;
        }
    return -1;
}

int gq_config_path_supported(const gq_config *cfg, gq_path p)
{
    switch (cfg->arch) {
    case GQ_ARCH_DEEPSEEK_MLA: return p == GQ_PATH_ABSORB || p == GQ_PATH_EXPANDED;
    case GQ_ARCH_GQLA: return p == GQ_PATH_GQA || p == GQ_PATH_ABSORB;
    default: return p == GQ_PATH_NATIVE;
    }
}

gq_path gq_config_default_path(const gq_config *cfg)
{
    return cfg->arch == GQ_ARCH_DEEPSEEK_MLA || cfg->arch == GQ_ARCH_GQLA ? GQ_PATH_ABSORB : GQ_PATH_NATIVE;
}

int64_t gq_config_path_cache_elems(const gq_config *cfg, gq_path p)
{
    int mla = cfg->arch == GQ_ARCH_DEEPSEEK_MLA || cfg->arch == GQ_ARCH_GQLA;
    int64_t N = cfg->num_key_value_heads, dn = cfg->qk_nope_head_dim, dr = cfg->qk_rope_head_dim;
    int64_t dv = cfg->v_head_dim, r = cfg->kv_lora_rank;
    switch (p) {
    case GQ_PATH_NATIVE: return mla ? 0 : 2 * N * cfg->head_dim;     /* §1.3 */
    case GQ_PATH_GQA: return mla ? N * (dn + dv) + dr : 0;          /* §2.1 */
    case GQ_PATH_ABSORB: return mla ? r + dr : 0;                   /* §2.2 */
    case GQ_PATH_EXPANDED: return mla ? N * (dn + dr + dv) : 0;     /* HF's expanded cache */
    case GQ_PATH_COUNT: break;
    }
    return 0;
}

int64_t gq_config_source_cache_elems(const gq_config *cfg, int *recorded)
{
    if (recorded) *recorded = 0;
    if (cfg->arch == GQ_ARCH_DEEPSEEK_MLA) return 0;
    if (cfg->arch != GQ_ARCH_GQLA) return 2 * cfg->num_key_value_heads * cfg->head_dim;
    if (cfg->source_head_dim > 0) {
        if (recorded) *recorded = 1;
        int64_t G = cfg->source_num_kv_heads > 0 ? cfg->source_num_kv_heads : cfg->num_key_value_heads;
        return 2 * G * cfg->source_head_dim;
    }
    /* A GQA source converted by TransGQLA has d_n = d (§5.2). */
    return 2 * cfg->num_key_value_heads * cfg->qk_nope_head_dim;
}

int gq_config_load_source_meta(gq_config *cfg, const char *meta_path, gq_error *err)
{
    cJSON *root = NULL;
    int rc = gq_json_load_file(&root, meta_path, err);
    if (rc != GQ_OK) return rc;
    cfg_src s = {meta_path, "source."};
    const cJSON *src = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "source") : NULL;
    if (src && cJSON_IsObject(src)) {
        rc = get_int(src, &s, "num_key_value_heads", 0, 0, &cfg->source_num_kv_heads, err);
        if (rc == GQ_OK) rc = get_int(src, &s, "head_dim", 0, 0, &cfg->source_head_dim, err);
        if (rc == GQ_OK && (cfg->source_head_dim < 0 || cfg->source_num_kv_heads < 0 ||
                            cfg->source_head_dim > GQ_CONFIG_MAX_DIM || cfg->source_num_kv_heads > GQ_CONFIG_MAX_DIM))
            rc = gq_error_set(err, GQ_ERR_INVALID, "%s: source.head_dim / source.num_key_value_heads out of range",
                              meta_path);
    }
    cJSON_Delete(root);
    return rc;
}

int64_t gq_config_kv_elems_per_token_layer(const gq_config *cfg)
{
    switch (cfg->arch) {
    case GQ_ARCH_DEEPSEEK_MLA:
    case GQ_ARCH_GQLA:
        /* Native MLA layout: the latent c plus the shared RoPE key k_pe
         * (the MQA-absorb cache, conversion.md §2.2). */
        return cfg->kv_lora_rank + cfg->qk_rope_head_dim;
    default:
        return 2 * cfg->num_key_value_heads * cfg->head_dim; /* k and v per KV head (§1.3) */
    }
}
