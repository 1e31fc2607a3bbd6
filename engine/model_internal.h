/* model_internal.h — the model struct, its weights and run state; shared by
 * model.c (open/close), weights.c (load), forward.c (the pass).  Not a
 * public header: harness/ sees only model.h and score.h. */
#ifndef GQ_MODEL_INTERNAL_H
#define GQ_MODEL_INTERNAL_H

#include <stddef.h>
#include "backend.h"
#include "model.h"
#include "score.h"
#include "wmat.h"

/* One decoder layer's weights, HF layout ([out, in] row-major).  The
 * matrices (gq_wmat) stay in the checkpoint's encoding, unless the model was
 * opened with weights_f32; norms, biases and kv_b_proj are float32 always.
 * Biases are NULL (and absent matrices have data NULL) when the checkpoint
 * has none.  GQA models fill wq..bo;
 * MLA / GQLA models (conversion.md §1.4; Q = H*(d_n+d_r), N = num KV heads:
 * H for MLA, G for GQLA) fill wq/bq (when r_q is null) or wq_a..bq_b,
 * and wkv_a..wkv_b, wo, bo.
 * Under tensor parallelism (tp.h) the split tensors hold this rank's block
 * only (gq_tp_share): H, Hkv/N and I below are then the rank's counts, and
 * bo is NULL on every rank but 0 (it enters the all-reduced sum once). */
typedef struct gq_layer_weights {
    const float *attn_norm;  /* [D] input_layernorm */
    gq_wmat wq;              /* [H*Dh, D]; MLA: [Q, D], absent when q is low-rank */
    const float *bq;         /* [H*Dh] or NULL; MLA: [Q] or NULL */
    const float *q_norm;     /* [Dh] qwen3 per-head RMSNorm of q before RoPE, or NULL */
    const float *k_norm;     /* [Dh] likewise for k */
    gq_wmat wq_a;            /* MLA: [r_q, D] q_a_proj, or absent */
    const float *bq_a;       /* MLA: [r_q] or NULL */
    const float *q_a_norm;   /* MLA: [r_q] q_a_layernorm, or NULL */
    gq_wmat wq_b;            /* MLA: [Q, r_q] q_b_proj, or absent */
    const float *bq_b;       /* MLA: [Q] or NULL */
    gq_wmat wkv_a;           /* MLA: [r + d_r, D] kv_a_proj_with_mqa */
    const float *bkv_a;      /* MLA: [r + d_r] or NULL */
    const float *kv_a_norm;  /* MLA: [r] kv_a_layernorm, or NULL */
    const float *wkv_b;      /* MLA: [N*(d_n+d_v), r] kv_b_proj, block-major, K rows then V rows */
    gq_wmat wk;              /* [Hkv*Dh, D] */
    const float *bk;         /* [Hkv*Dh] or NULL */
    gq_wmat wv;              /* [Hkv*Dh, D] */
    const float *bv;         /* [Hkv*Dh] or NULL */
    gq_wmat wo;              /* [D, H*Dh]; MLA: [D, H*d_v] */
    const float *bo;         /* [D] or NULL */
    const float *mlp_norm;   /* [D] post_attention_layernorm */
    gq_wmat w_gate;          /* [I, D] */
    gq_wmat w_up;            /* [I, D] */
    gq_wmat w_down;          /* [D, I] */
} gq_layer_weights;

typedef struct gq_weights {
    float *arena;            /* the one allocation holding the float32 tensors (widened) */
    size_t arena_floats;
    unsigned char *owned;    /* stored-encoding copies that could not stay views (GGUF RoPE rows) */
    size_t owned_bytes;
    size_t mapped_bytes;     /* weight bytes read in place from the checkpoint's mapping */
    gq_wmat embed;           /* [V, D] */
    const float *final_norm; /* [D] */
    gq_wmat lm_head;         /* [V, D]; == embed when tied */
    gq_layer_weights *layers;/* [L] */
} gq_weights;

/* Activations for up to max_tokens rows, one allocation, carved at load. */
typedef struct gq_run_state {
    float *arena;
    size_t arena_floats;
    int max_tokens;          /* rows per forward chunk */
    int *ints;               /* one allocation for the three below */
    int32_t *tok;            /* [T] the chunk's token ids, where the backend reads them */
    int *pos;                /* [T] a tree batch's positions, likewise */
    int *seg;                /* [T] a tree batch's mask starts, likewise */
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
    float *rope_cos;         /* [max_pos, n/2], n the rotary width: Dh, MLA d_r */
    float *rope_sin;         /* [max_pos, n/2] (yarn: times its amplitude) */
    int rope_width;          /* n */
    float attn_scale;        /* softmax scale: 1/sqrt(Dh); MLA tau of conversion.md §1.4 */
    int rope_positions;      /* rows in the rope tables */
} gq_run_state;

/* This rank's share of the model under tensor parallelism (tp.h); the
 * whole model when tp.size is 1.  Heads follow their groups: group g's
 * heads are [g*gs, (g+1)*gs) with gs = H/G, so the local head -> group map
 * is gq_kv_head_of on the local counts. */
typedef struct gq_tp_share {
    int h0, nh;              /* query heads [h0, h0 + nh) */
    int g0, ng;              /* KV groups (KV heads; MLA: heads) [g0, g0 + ng) */
    int i0, ni;              /* MLP intermediate rows [i0, i0 + ni) */
} gq_tp_share;

/* A model moved onto a backend's memory (device.c): the allocations there.
 * While moved, every pointer in gq_weights and gq_run_state (the arenas
 * too) points into them, and the host copies are freed. */
typedef struct gq_device_copy {
    int moved;
    const gq_backend_ops *be;  /* whose alloc made these */
    void *weights;             /* the float32 arena, then the encoded copies, then the matrices that were views */
    size_t weight_bytes;
    void *activations;         /* the run state's arena and ints */
    size_t activation_bytes;
    char device_name[128];     /* "cuda:0 NVIDIA H100 80GB HBM3", or the backend's name */
} gq_device_copy;

struct gq_model {
    char *path;
    gq_checkpoint *ck;       /* NULL for a tokenizer-only folder */
    const gq_config *cfg;    /* owned by ck */
    gq_tokenizer *tok;
    const char *tok_source;
    int n_threads;
    int weights_loaded;
    int weights_f32;         /* every matrix widened to float32 (gq_open_opts.weights_f32) */
    gq_weights w;
    gq_run_state rs;
    gq_tp_comm tp;           /* size 1 without tensor parallelism */
    gq_tp_share share;       /* set by gq_model_load_weights */
    const gq_backend_ops *be;/* where the forward pass runs: the CPU, or where dev says */
    gq_device_copy dev;
};

/* One sequence (a document's tree) of a batched forward.  Its rows are
 * rows [row0, row0 + n_rows) of the batch; its cache rows start at `base`
 * (its position 0), and its first batch row is its cache row pos0 (cache
 * rows [base, base + pos0) were filled before: a reused prefix).  Row t of
 * it sees its cache rows [0, shared_end) and, with a tree mask, [seg[t],
 * own row] (seg relative to base, NULL: causal) — backend.h's attention_tree
 * on the sequence's own cache rows. */
typedef struct gq_batch_seq {
    int row0, n_rows;
    int base;
    int pos0;
    int shared_end;
    const int *seg;          /* [n_rows] or NULL */
} gq_batch_seq;

/* Feed a batch of T rows (T <= max_tokens) holding n_seq sequences into
 * cache rows len(c) .. len(c)+T-1: row t at RoPE position pos[t]; sequence
 * i's rows as seqs[i] says (base + pos0 == len(c) + row0).  Scores as
 * gq_forward (rows relative to the batch).  Afterwards the cache length is
 * `keep` (the rows worth keeping for the next batch). */
int gq_forward_batch(gq_model *m, gq_kv_cache *c, const int32_t *tokens, int T, const int *pos,
                     const gq_batch_seq *seqs, int n_seq, int keep, const int *rows, const int32_t *targets,
                     int n_score, gq_score *out, gq_error *err);

int gq_model_load_weights(gq_model *m, const gq_open_opts *opts, gq_error *err);
void gq_model_free_weights(gq_model *m);
/* Make every matrix float32 (w->f32 set), reloading the weights if they are
 * kept encoded: the converter's entry points call it.  Pointers into the
 * old weights or run state are invalid afterwards. */
int gq_model_widen_weights(gq_model *m, gq_error *err);
/* Move the loaded weights and run state into be's memory (device.c); the
 * forward pass then runs on be.  Checks the bytes against be's free memory
 * first (naming what is missing).  Not under tensor parallelism, not for
 * float32-widened (converter) weights. */
int gq_model_move_to(gq_model *m, const gq_backend_ops *be, const char *device_name, gq_error *err);
/* Release what gq_model_move_to allocated (gq_model_free_weights calls it). */
void gq_model_release_device(gq_model *m);
/* Open --device's backend (CUDA: the module libgqla_cuda.so, device.c) and
 * move the model there; GQ_OK without doing anything for the CPU. */
int gq_model_use_device(gq_model *m, const gq_open_opts *opts, gq_error *err);
/* Fill the RoPE cos/sin tables from the config (forward.c). */
int gq_forward_init_rope(gq_model *m, gq_error *err);

#endif
