/* config.h — every architectural constant of a model, parsed from the
 * checkpoint (config.json, or GGUF metadata).  Nothing here is hard-coded
 * elsewhere: the forward pass reads theta, eps, heads and ids from this.
 *
 * Shape letters used across engine/: D hidden size, I intermediate size,
 * L layers, H query heads, Hkv KV heads (= GQLA groups G), Dh head dim,
 * V vocabulary, T tokens in a sequence, B sequences in a batch.
 */
#ifndef GQ_CONFIG_H
#define GQ_CONFIG_H

#include <stdint.h>
#include "gq_error.h"

typedef enum {
    GQ_ARCH_LLAMA = 0,   /* llama, smollm-style llama */
    GQ_ARCH_MISTRAL,
    GQ_ARCH_QWEN2,       /* q/k/v biases */
    GQ_ARCH_DEEPSEEK_MLA,/* deepseek_v2 / deepseek_v3 (MLA): num_key_value_heads == H */
    GQ_ARCH_GQLA,        /* MLA with the KV up-projection per group: num_key_value_heads = G < H */
    GQ_ARCH_QWEN3,       /* qwen2 without biases, with q/k per-head RMSNorm (qk_norm) */
    GQ_ARCH_PHI3,        /* llama with fused qkv_proj / gate_up_proj (split into views at load) */
    GQ_ARCH_COUNT
} gq_arch;

const char *gq_arch_name(gq_arch a);

typedef enum {
    GQ_ROPE_SCALING_NONE = 0,
    GQ_ROPE_SCALING_LLAMA3,
    GQ_ROPE_SCALING_YARN,
    GQ_ROPE_SCALING_LINEAR
} gq_rope_scaling_type;

typedef struct gq_rope_scaling {
    gq_rope_scaling_type type;
    double factor;
    double low_freq_factor;      /* llama3 */
    double high_freq_factor;     /* llama3 */
    int64_t original_max_position_embeddings;
    double beta_fast, beta_slow; /* yarn */
    double mscale, mscale_all_dim;
} gq_rope_scaling;

typedef struct gq_config {
    gq_arch arch;
    char model_type[64];          /* config.json "model_type" or GGUF general.architecture */
    int64_t hidden_size;          /* D */
    int64_t intermediate_size;    /* I */
    int64_t num_hidden_layers;    /* L */
    int64_t num_attention_heads;  /* H */
    int64_t num_key_value_heads;  /* Hkv; defaults to H when absent */
    int64_t head_dim;             /* Dh; explicit, else D / H */
    int64_t vocab_size;           /* V */
    int64_t max_position_embeddings;
    double rms_norm_eps;
    double rope_theta;
    gq_rope_scaling rope_scaling;
    int tie_word_embeddings;      /* lm_head shares embed_tokens */
    int attention_bias;           /* q/k/v(/o) biases present (qwen2: always) */
    int qk_norm;                  /* qwen3: RMSNorm over each head of q and k (weights [Dh]) before RoPE */
    int64_t bos_token_id;         /* -1 when absent */
    int64_t eos_token_id;         /* -1 when absent; first id when a list */

    /* MLA / GQLA (conversion.md §1.4, §5.2); zero for GQA models. */
    int64_t q_lora_rank;          /* r_q; 0 = plain q_proj */
    int64_t kv_lora_rank;         /* r */
    int64_t qk_nope_head_dim;     /* d_n */
    int64_t qk_rope_head_dim;     /* d_r */
    int64_t v_head_dim;           /* d_v */
    int rope_interleave;          /* RoPE on the rope part in interleaved pairs (default true) */
    int qk_latent_layernorm;      /* q_a_layernorm / kv_a_layernorm exist (TransMLA key, default true) */
    double latent_norm_eps;       /* eps of the latent norms: "latent_norm_eps", else rms_norm_eps */
    int64_t first_k_dense_replace;/* layers below this index have a dense SwiGLU MLP */
    int64_t n_routed_experts;     /* 0 / null: no MoE layers */
    /* The GQA source of a converted checkpoint (gqla_meta.json "source"),
     * for cache accounting; 0 when not recorded. */
    int64_t source_num_kv_heads;
    int64_t source_head_dim;
} gq_config;

/* 1 when the config has MoE layers (layers >= first_k_dense_replace with
 * routed experts): the forward pass supports dense layers only. */
int gq_config_has_moe(const gq_config *cfg);

// ---------------------------------------------------------------------------
// decoding paths and their KV caches (conversion.md §2)

/* How attention is computed and what the KV cache holds, per token per layer:
 *   NATIVE    GQA models: k and v per KV head, 2*Hkv*Dh;
 *   GQA       GQLA: K^N_g and V_g per group plus one shared rotated k_pe,
 *             G*(d_n+d_v) + d_r (§2.1);
 *   ABSORB    MLA and GQLA: normalised latent c^ and rotated k_pe, r + d_r,
 *             W_UK absorbed into the query, W_UV into the output (§2.2);
 *   EXPANDED  MLA, as HF computes it: per head [K^N_h ; k_pe ; V_h],
 *             H*(d_n+d_r+d_v) (§1.4 "where the HF reference caches"). */
typedef enum gq_path {
    GQ_PATH_NATIVE = 0,
    GQ_PATH_GQA,
    GQ_PATH_ABSORB,
    GQ_PATH_EXPANDED,
    GQ_PATH_COUNT
} gq_path;

const char *gq_path_name(gq_path p);          /* "native", "gqa", "absorb", "expanded" */
/* Parse a path name; returns 0 and sets *out, or -1 for an unknown name. */
int gq_path_parse(const char *s, gq_path *out);
/* Whether a model of this config can run path p (GQA models: native; MLA:
 * absorb, expanded; GQLA: gqa, absorb). */
int gq_config_path_supported(const gq_config *cfg, gq_path p);
/* The path used when none is asked for: native for GQA models, absorb for
 * MLA and GQLA (the smallest cache). */
gq_path gq_config_default_path(const gq_config *cfg);
/* Cache elements per token per layer of path p for this config (§2.4),
 * whether or not the model supports it; 0 when meaningless (an MLA path for
 * a GQA model or the reverse).  EXPANDED is N*(d_n+d_r+d_v) with N the KV
 * heads: for a GQLA config that is the GQA path with k_pe stored per group. */
int64_t gq_config_path_cache_elems(const gq_config *cfg, gq_path p);
/* The GQA cache of the source model, 2*G*d (§2.4): for a GQA model its own;
 * for GQLA the recorded source (gqla_meta.json), else 2*G*d_n; 0 for MLA.
 * *recorded (if not NULL) is 1 when the source dims came from gqla_meta.json. */
int64_t gq_config_source_cache_elems(const gq_config *cfg, int *recorded);

/* Read "source": {"num_key_value_heads", "head_dim"} of a gqla_meta.json
 * (conversion.md §5.3) into cfg->source_*.  Missing keys leave them 0. */
int gq_config_load_source_meta(gq_config *cfg, const char *meta_path, gq_error *err);

/* Parse a Hugging Face config.json.  Required keys missing, wrong types or
 * impossible values (heads not dividing, non-positive sizes) give
 * GQ_ERR_INVALID naming the file and the key; bad JSON gives GQ_ERR_FORMAT
 * with line and column. */
int gq_config_load_json(gq_config *cfg, const char *path, gq_error *err);

/* Check the cross-field rules shared by every source (H % Hkv == 0 ...). */
int gq_config_validate(const gq_config *cfg, const char *source, gq_error *err);

/* KV-cache elements per token per layer for the model's native layout
 * (GQA: 2 * Hkv * Dh). */
int64_t gq_config_kv_elems_per_token_layer(const gq_config *cfg);

#endif
