/* model_internal.h — the model struct, its weights and run state; shared by
 * model.c (open/close), weights.c (load), forward.c (the pass).  Not a
 * public header: harness/ sees only model.h and score.h. */
#ifndef GQ_MODEL_INTERNAL_H
#define GQ_MODEL_INTERNAL_H

#include <stddef.h>
#include "model.h"

/* One decoder layer's weights, float32, HF layout ([out, in] row-major).
 * Biases are NULL when the checkpoint has none. */
typedef struct gq_layer_weights {
    const float *attn_norm;  /* [D] input_layernorm */
    const float *wq;         /* [H*Dh, D] */
    const float *bq;         /* [H*Dh] or NULL */
    const float *wk;         /* [Hkv*Dh, D] */
    const float *bk;         /* [Hkv*Dh] or NULL */
    const float *wv;         /* [Hkv*Dh, D] */
    const float *bv;         /* [Hkv*Dh] or NULL */
    const float *wo;         /* [D, H*Dh] */
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
    float *q;                /* [T, H*Dh] */
    float *k;                /* [T, Hkv*Dh] */
    float *v;                /* [T, Hkv*Dh] */
    float *att_out;          /* [T, H*Dh] */
    float *hb;               /* [T, I] gate, then swiglu */
    float *hb2;              /* [T, I] up */
    float *logits;           /* [logit_rows, V] */
    int logit_rows;
    float *rope_cos;         /* [max_pos, Dh/2] */
    float *rope_sin;         /* [max_pos, Dh/2] */
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
