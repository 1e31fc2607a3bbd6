/* model.h — the engine's face toward the rest of gqla-eval.
 *
 * A gq_model is a checkpoint (config + tensors, engine/checkpoint.h), its
 * tokenizer, and — when opened with load_weights — float32 weights and the
 * run state of a backend.  Callers: open, tokenize, score, close.
 * Ownership: whoever opens closes; gq_model_close accepts NULL.
 * Also opens a tokenizer-only folder (tokenizer.json without config.json):
 * then gq_model_config() returns NULL and only tokenizing works.
 */
#ifndef GQ_MODEL_H
#define GQ_MODEL_H

#include <stdint.h>
#include "checkpoint.h"
#include "config.h"
#include "gq_error.h"
#include "tokenizer.h"
#include "tp.h"

typedef struct gq_model gq_model;

typedef struct gq_open_opts {
    int load_weights;   /* 0: config + tokenizer only (info, tokenize) */
    int n_threads;      /* 0: all cores */
    int max_tokens;     /* rows one forward chunk may hold; 0: default 512 */
    int weights_f32;    /* 1: widen every matrix to float32 at load (the converter's decompositions
                           need that); 0: keep them in the checkpoint's encoding (wmat.h) */
    const gq_tp_comm *tp; /* tensor parallelism (tp.h): this rank's share of the model; NULL or
                             size 1: the whole model.  Copied; tp->ctx must outlive the model */
    int device;         /* GQ_DEVICE_CPU (0, the default) or GQ_DEVICE_CUDA: where the weights,
                           the run state and the KV caches live and the forward pass runs */
    int device_index;   /* cuda:N */
} gq_open_opts;

enum { GQ_DEVICE_CPU = 0, GQ_DEVICE_CUDA = 1 };

/* "cpu", or "cuda:0 NVIDIA H100 80GB HBM3": where the model runs. */
const char *gq_model_device(const gq_model *m);
/* Bytes the model holds on its device (weights, activations); 0 on the CPU. */
size_t gq_model_device_weight_bytes(const gq_model *m);
size_t gq_model_device_activation_bytes(const gq_model *m);

int gq_model_open(gq_model **out, const char *path, const gq_open_opts *opts, gq_error *err);
void gq_model_close(gq_model *m);

const char *gq_model_path(const gq_model *m);
const gq_config *gq_model_config(const gq_model *m);           /* NULL: tokenizer only */
const gq_checkpoint *gq_model_checkpoint(const gq_model *m);   /* NULL: tokenizer only */
const gq_tokenizer *gq_model_tokenizer(const gq_model *m);     /* NULL: none found */
/* Where the tokenizer came from: "tokenizer.json", "gguf", or "none". */
const char *gq_model_tokenizer_source(const gq_model *m);

/* Tokenize with the model's tokenizer; add_special as gq_tokenizer_encode. */
int gq_tokenize(const gq_model *m, const char *text, int add_special, gq_tokens *out, gq_error *err);

/* --device cuda[:index] before a model opens: GQ_ERR_DEVICE with the CUDA
 * runtime's message when no device is usable ("no CUDA device is
 * available (...)"), or when this build has no CUDA backend, or the index
 * is past the last device.  GQ_OK when device `index` can be used. */
int gq_device_check_cuda(int index, gq_error *err);

#endif
