/* model_internal.h — the model struct, its weights and run state; shared by
 * model.c (open/close), weights.c (load), forward.c (the pass).  Not a
 * public header: harness/ sees only model.h and score.h. */
#ifndef GQ_MODEL_INTERNAL_H
#define GQ_MODEL_INTERNAL_H

#include <stddef.h>
#include "model.h"

/* One decoder layer's weights, float32, HF layout ([out, in] row-major).
 * Biases are NULL when the checkpoint has none.  GQA models fill wq..bo;
 * MLA / GQLA models (conversion.md §1.4; Q = H*(d_n+d_r), N = num KV heads:
 * H for MLA, G for GQLA) fill wq/bq (when r_q is null) or wq_a..bq_b,
 * and wkv_a..wkv_b, wo, bo. */
typedef struct gq_layer_weights {
    const float *attn_norm;  /* [D] input_layernorm */
    const float *wq;         /* [H*Dh, D]; MLA: [Q, D] or NULL when q is low-rank */
    const float *bq;         /* [H*Dh] or NULL; MLA: [Q] or NULL */
    const float *q_norm;     /* [Dh] qwen3 per-head RMSNorm of q before RoPE, or NULL */
    const float *k_norm;     /* [Dh] likewise for k */
    const float *wq_a;       /* MLA: [r_q, D] q_a_proj, or NULL */
    const float *bq_a;       /* MLA: [r_q] or NULL */
    const float *q_a_norm;   /* MLA: [r_q] q_a_layernorm, or NULL */
    const float *wq_b;       /* MLA: [Q, r_q] q_b_proj, or NULL */
    const float *bq_b;       /* MLA: [Q] or NULL */
    const float *wkv_a;      /* MLA: [r + d_r, D] kv_a_proj_with_mqa */
    const float *bkv_a;      /* MLA: [r + d_r] or NULL */
    const float *kv_a_norm;  /* MLA: [r] kv_a_layernorm, or NULL */
    const float *wkv_b;      /* MLA: [N*(d_n+d_v), r] kv_b_proj, block-major, K rows then V rows */
    const float *wk;         /* [Hkv*Dh, D] */
    const float *bk;         /* [Hkv*Dh] or NULL */
    const float *wv;         /* [Hkv*Dh, D] */
    const float *bv;         /* [Hkv*Dh] or NULL */
    const float *wo;         /* [D, H*Dh]; MLA: [D, H*d_v] */
    const float *bo;         /* [D] or NULL */
    const float *mlp_norm;   /* [D] post_attention_layernorm */
    const float *w_gate;     /* [I, D] */
    const float *w_up;       /* [I, D] */
    const float *w_down;     /* [D, I] */
} gq_layer_weights;

typedef struct gq_weights {
    float *arena;            /* the one allocation holding every tensor below */
    size_t arena_floats;
    const float *embed;      /* [V, D] */
    const float *final_norm; /* [D] */
    const float *lm_head;    /* [V, D]; == embed when tied */
    gq_layer_weights *layers;/* [L] */
} gq_weights;

/* Activations for up to max_tokens rows, one allocation, carved at load. */
typedef struct gq_run_state {
    float *arena;
    int max_tokens;          /* rows per forward chunk */
    float *x;                /* [T, D] residual stream */
    float *xb;               /* [T, D] normed input / attention output proj */
    float *q;                /* [T, H*Dh]; MLA: [T, H*(d_n+d_r)] */
    float *k;                /* [T, Hkv*Dh] (GQA only) */
    float *v;                /* [T, Hkv*Dh] (GQA only) */
    float *qa;               /* MLA: [T, r_q] q_a_proj output (NULL without r_q) */
    float *kva;              /* MLA: [T, r + d_r] kv_a_proj_with_mqa output [c ; k_pe] */
    float *lat;              /* MLA: [T, r] normalised latent c^ */
    float *att_out;          /* [T, H*Dh]; MLA: [T, H*d_v] */
    float *hb;               /* [T, I] gate, then swiglu */
    float *hb2;              /* [T, I] up */
    float *logits;           /* [logit_rows, V] */
    int logit_rows;
    float *rope_cos;         /* [max_pos, n/2], n the rotary width: Dh, MLA d_r */
    float *rope_sin;         /* [max_pos, n/2] (yarn: times its amplitude) */
    int rope_width;          /* n */
    float attn_scale;        /* softmax scale: 1/sqrt(Dh); MLA tau of conversion.md §1.4 */
    int rope_positions;      /* rows in the rope tables */
} gq_run_state;

struct gq_model {
    char *path;
    gq_checkpoint *ck;       /* NULL for a tokenizer-only folder */
    const gq_config *cfg;    /* owned by ck */
    gq_tokenizer *tok;
    const char *tok_source;
    int n_threads;
    int weights_loaded;
    gq_weights w;
    gq_run_state rs;
};

int gq_model_load_weights(gq_model *m, const gq_open_opts *opts, gq_error *err);
void gq_model_free_weights(gq_model *m);
/* Fill the RoPE cos/sin tables from the config (forward.c). */
int gq_forward_init_rope(gq_model *m, gq_error *err);

#endif
