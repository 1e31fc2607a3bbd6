/* checkpoint.h — a model checkpoint on disk, whatever its format, seen as a
 * config plus named tensors in Hugging Face naming and layout.
 *
 * Formats: a Hugging Face folder (config.json + model.safetensors, or
 * model.safetensors.index.json + shards), or a GGUF file (llama
 * architecture).  The reader validates every header field before anything is
 * handed out.  It is deliberately not the model: no forward pass, no
 * activations; engine/model.c builds on it.
 */
#ifndef GQ_CHECKPOINT_H
#define GQ_CHECKPOINT_H

#include "config.h"
#include "gq_error.h"
#include "tensor.h"

typedef enum {
    GQ_CHECKPOINT_HF = 0,   /* Hugging Face folder with safetensors */
    GQ_CHECKPOINT_GGUF = 1
} gq_checkpoint_format;

typedef struct gq_checkpoint gq_checkpoint;

/* Open `path` (a folder or a .gguf file).  On success *out owns every mapping;
 * on failure *out is NULL, err names the file and the place, nothing leaks. */
int gq_checkpoint_open(gq_checkpoint **out, const char *path, gq_error *err);
void gq_checkpoint_close(gq_checkpoint *ck);

gq_checkpoint_format gq_checkpoint_format_of(const gq_checkpoint *ck);
const char *gq_checkpoint_path(const gq_checkpoint *ck);
const gq_config *gq_checkpoint_config(const gq_checkpoint *ck);
size_t gq_checkpoint_tensor_count(const gq_checkpoint *ck);
const gq_tensor_ref *gq_checkpoint_tensor(const gq_checkpoint *ck, size_t i);
const gq_tensor_ref *gq_checkpoint_find(const gq_checkpoint *ck, const char *name);
/* The GGUF handle when the format is GGUF (for the embedded tokenizer), else NULL. */
const struct gq_gguf *gq_checkpoint_gguf(const gq_checkpoint *ck);

/* Widen one tensor to float32 into dst (n_elems floats): dequantises GGUF
 * blocks, widens F16/BF16, and undoes the GGUF RoPE row permutation.
 * Fails (GQ_ERR_INVALID) on a NaN or Inf weight, naming tensor and index. */
int gq_tensor_load_f32(const gq_tensor_ref *t, float *dst, gq_error *err);

/* The checks of gq_tensor_load_f32 for a tensor kept in its stored encoding
 * (weights.c): dtype and size, rows of whole blocks, no NaN or Inf (widened
 * a few rows at a time, nothing kept). */
int gq_tensor_check_stored(const gq_tensor_ref *t, gq_error *err);

/* Copy t's bytes (t->nbytes) into dst in Hugging Face row order: with
 * t->rope_unpermute_heads > 0 the GGUF RoPE row permutation is undone on
 * whole rows, still in the stored encoding. */
int gq_tensor_copy_unpermuted(const gq_tensor_ref *t, void *dst, gq_error *err);

#endif
