/* output.h — writing a converted checkpoint folder (conversion.md §5) so
 * that nothing half-written ever appears under the requested name.
 *
 * Everything goes into DIR.tmp-XXXXXX (mkdtemp, beside DIR); gq_out_commit
 * renames it to DIR as the very last step.  gq_out_free removes the temp
 * folder when the output was not committed, and while a gq_convert_out is
 * open a SIGINT/SIGTERM handler removes it too (then re-raises the signal),
 * so an interrupted or failed conversion leaves nothing.  DIR must not
 * exist (nothing is overwritten).
 *
 * Tensors are collected first and written by gq_out_write_tensors: one
 * model.safetensors, or above max_shard_bytes shards
 * model-0000i-of-0000n.safetensors with model.safetensors.index.json
 * (Hugging Face's layout; checkpoint.c reads both).  Used by both converter
 * halves.
 */
#ifndef GQ_CONVERT_OUTPUT_H
#define GQ_CONVERT_OUTPUT_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "gq_error.h"
#include "tensor.h"

#define GQ_OUT_DEFAULT_SHARD_BYTES ((size_t)2 << 30) /* 2 GiB */

typedef struct gq_out_tensor {
    char *name;
    gq_dtype dtype;          /* as written: F32, F16 or BF16 */
    int n_dims;
    int64_t shape[GQ_MAX_DIMS];
    const void *data;
    void *owned;             /* freed by gq_out_free (== data when owned) */
    size_t nbytes;
} gq_out_tensor;

typedef struct gq_convert_out {
    char *final_dir;
    char *tmp_dir;
    int committed;
    gq_out_tensor *t;
    size_t n, cap;
    uint64_t total_bytes;    /* tensor bytes (index.json total_size) */
    int n_shards;            /* after gq_out_write_tensors */
} gq_convert_out;

/* Create DIR.tmp-XXXXXX.  GQ_ERR_USAGE when final_dir already exists. */
int gq_out_begin(gq_convert_out *o, const char *final_dir, gq_error *err);

/* Add a tensor stored as-is (dtype F32, F16 or BF16).  take_ownership: the
 * output frees data (allocated with gq_malloc) when it is freed, also when
 * this call fails. */
int gq_out_add(gq_convert_out *o, const char *name, gq_dtype dtype, int n_dims, const int64_t *shape, const void *data,
               int take_ownership, gq_error *err);
/* Add a float32 tensor written as out_dtype (F32, or BF16 rounded to
 * nearest even into a new buffer).  Ownership as gq_out_add. */
int gq_out_add_f32(gq_convert_out *o, const char *name, int n_dims, const int64_t *shape, float *data,
                   int take_ownership, gq_dtype out_dtype, gq_error *err);

/* Write the collected tensors (in the order added). */
int gq_out_write_tensors(gq_convert_out *o, size_t max_shard_bytes, gq_error *err);
/* Write a JSON object as <tmp>/<name>, indented. */
int gq_out_write_json(gq_convert_out *o, const char *name, const cJSON *obj, gq_error *err);
/* Copy a file into <tmp>/<name>. */
int gq_out_copy_file(gq_convert_out *o, const char *src, const char *name, gq_error *err);
/* Copy the tokenizer files of a Hugging Face folder that exist
 * (tokenizer.json, tokenizer_config.json, special_tokens_map.json,
 * vocab.json, merges.txt, tokenizer.model, generation_config.json). */
int gq_out_copy_tokenizer_files(gq_convert_out *o, const char *src_dir, gq_error *err);
/* <tmp>/<name> as a heap string (caller frees with gq_free). */
char *gq_out_path(const gq_convert_out *o, const char *name, gq_error *err);

/* Rename the temp folder to the final name. */
int gq_out_commit(gq_convert_out *o, gq_error *err);
/* Release everything; removes the temp folder unless committed. */
void gq_out_free(gq_convert_out *o);

/* float32 -> bfloat16 bits, round to nearest even (finite input). */
/* The "dims" and "layout" blocks of gqla_meta.json (conversion.md §5.3),
 * written the same way by both converter halves.  rq <= 0 is written as
 * null.  *dims and *layout (may be NULL) receive the two objects so that a
 * caller can append keys of its own (r_max, mla_view). */
typedef struct gq_meta_dims {
    int64_t H, G, dn, dr, dv, r, rq;
    const char *rope_layout;     /* "interleaved" or "rotate-half" */
    int latent_norm;             /* q_a/kv_a layernorms present */
    double latent_norm_eps;
} gq_meta_dims;
void gq_meta_add_dims_layout(cJSON *root, const gq_meta_dims *d, cJSON **dims, cJSON **layout);

uint16_t gq_f32_to_bf16(float x);

#endif
