/* safetensors.h — Hugging Face safetensors files, memory-mapped.
 *
 * Layout: u64 little-endian header length N, N bytes of JSON
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, ...,
 *  "__metadata__": {...}}, then the data area; offsets are relative to it.
 * The reader checks every field before handing anything out: header length
 * inside the file, JSON valid, dtype known, shape non-negative, offsets
 * inside the data area, e - b == product(shape) * sizeof(dtype) without
 * overflow, no two tensors overlapping.  Not here: config.json, sharding
 * (checkpoint.c reads model.safetensors.index.json and opens each shard).
 */
#ifndef GQ_SAFETENSORS_H
#define GQ_SAFETENSORS_H

#include <stddef.h>
#include "gq_error.h"
#include "tensor.h"

typedef struct gq_safetensors gq_safetensors;

int gq_safetensors_open(gq_safetensors **out, const char *path, gq_error *err);
void gq_safetensors_close(gq_safetensors *st);

size_t gq_safetensors_count(const gq_safetensors *st);
/* Tensors in file order of their data offsets. */
const gq_tensor_ref *gq_safetensors_tensor(const gq_safetensors *st, size_t i);
const gq_tensor_ref *gq_safetensors_find(const gq_safetensors *st, const char *name);

/* Writing (converter, test fixtures): tensors are laid out in the order
 * given, header padded to 8 bytes, written atomically. */
typedef struct gq_safetensors_entry {
    const char *name;
    gq_dtype dtype;          /* F32, F16, BF16 */
    int n_dims;
    int64_t shape[GQ_MAX_DIMS];
    const void *data;        /* nbytes = product(shape) * dtype size */
} gq_safetensors_entry;

int gq_safetensors_write(const char *path, const gq_safetensors_entry *entries, size_t n,
                         gq_error *err);

#endif
