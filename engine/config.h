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
    GQ_ARCH_DEEPSEEK_MLA,/* deepseek_v2 / deepseek_v3 (MLA), later issue */
    GQ_ARCH_GQLA,        /* MLA with KV up-projection per group, later issue */
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
    int64_t bos_token_id;         /* -1 when absent */
    int64_t eos_token_id;         /* -1 when absent; first id when a list */

    /* MLA / GQLA (later issue); zero for GQA models. */
    int64_t q_lora_rank;          /* 0 = plain q_proj */
    int64_t kv_lora_rank;
    int64_t qk_nope_head_dim;
    int64_t qk_rope_head_dim;
    int64_t v_head_dim;
} gq_config;

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
