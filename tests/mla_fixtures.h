/* mla_fixtures.h — random MLA / GQLA checkpoints for the tests that write
 * their own (test_mla_paths.c, test_convert_mla.c).
 *
 * A tensor list draws every value from one xorshift64 stream (the test's
 * other random numbers may come from the same stream); matrices and biases
 * are Gaussian with a given std, norm gains uniform in [0.6, 1.4).
 * mlafix_add_model adds a DeepSeek-V3-layout dense model in a fixed order
 * (embed, norm, lm_head, then per layer: norms, q (low-rank or plain),
 * kv_a, kv_a norm, kv_b with `kv_heads` blocks, o, MLP); the caller writes
 * config.json itself (the tests differ there).
 */
#ifndef GQ_MLA_FIXTURES_H
#define GQ_MLA_FIXTURES_H

#include <stdint.h>

#include "safetensors.h"

#define MLAFIX_MAX_TENSORS 64
#define MLAFIX_MAX_LAYERS 4

typedef struct mlafix_tensors {
    gq_safetensors_entry e[MLAFIX_MAX_TENSORS];
    char names[MLAFIX_MAX_TENSORS][96];
    float *data[MLAFIX_MAX_TENSORS];   /* owned */
    int n;
    uint64_t rng;                      /* the stream; set a non-zero seed first */
} mlafix_tensors;

double mlafix_urand(mlafix_tensors *t);        /* uniform (0, 1) */
double mlafix_nrand(mlafix_tensors *t);        /* standard normal (Box-Muller) */
/* kind 0: Gaussian * std; kind 1: a norm gain.  cols 0: a vector.  NULL when full. */
float *mlafix_tensor(mlafix_tensors *t, const char *name, int rows, int cols, double std, int kind);
float *mlafix_layer_tensor(mlafix_tensors *t, int layer, const char *suffix, int rows, int cols, double std,
                           int kind);
/* Frees the tensors and empties the list; the stream goes on. */
void mlafix_clear(mlafix_tensors *t);

typedef struct mlafix_dims {
    int D, L, H, kv_heads, dn, dr, dv, r, rq, I, V;
    int bias, norms;
} mlafix_dims;

/* Where each tensor of a layer is (NULL when the shape has none). */
typedef struct mlafix_layer {
    float *in_norm, *post_norm, *wq, *bq, *wqa, *bqa, *qan, *wqb, *bqb, *wkva, *bkva, *kvan, *wkvb, *wo, *bo, *wg,
        *wu, *wd;
} mlafix_layer;

typedef struct mlafix_model {
    float *embed, *norm, *lm;
    mlafix_layer l[MLAFIX_MAX_LAYERS];
} mlafix_model;

/* Add the model's tensors to t (0, or -1 when the list or L overflows). */
int mlafix_add_model(mlafix_tensors *t, const mlafix_dims *d, mlafix_model *m);
/* dir/model.safetensors from the list (0 or -1, message on stderr). */
int mlafix_write(const mlafix_tensors *t, const char *dir);
/* dir/config.json of d's shape: a deepseek_v3 GQLA/MLA config (dense
 * layers, interleaved RoPE, theta 10000, BOS 0, EOS 1) with
 * max_position_embeddings = max_positions (0, or -1 on a write error). */
int mlafix_write_config(const mlafix_dims *d, int max_positions, const char *dir);

#endif
