/* gguf.h — GGUF v2/v3 files (llama.cpp's format), memory-mapped.
 *
 * Header: magic "GGUF", u32 version, u64 tensor count, u64 metadata count,
 * then metadata key/values, tensor infos, padding to general.alignment
 * (default 32) and the data area.  Every count, string length, array length,
 * dimension and offset is checked against the file size before use.
 *
 * Tensors are handed out under their GGUF names (blk.0.attn_q.weight) with
 * the shape reversed into outermost-first order (see tensor.h).  Mapping to
 * Hugging Face names and config lives in gguf_llama.c.
 */
#ifndef GQ_GGUF_H
#define GQ_GGUF_H

#include <stddef.h>
#include <stdint.h>
#include "gq_error.h"
#include "tensor.h"

typedef struct gq_gguf gq_gguf;

int gq_gguf_open(gq_gguf **out, const char *path, gq_error *err);
void gq_gguf_close(gq_gguf *g);

uint32_t gq_gguf_version(const gq_gguf *g);
const char *gq_gguf_path(const gq_gguf *g);

/* Metadata.  Each getter returns 1 when the key exists with a compatible
 * type (any integer type converts to the integer getters when it fits; f32
 * or f64 for the float getter), 0 when absent, and a negative gq_status
 * (with err filled) when the key exists with an incompatible type. */
int gq_gguf_get_u64(const gq_gguf *g, const char *key, uint64_t *out, gq_error *err);
int gq_gguf_get_i64(const gq_gguf *g, const char *key, int64_t *out, gq_error *err);
int gq_gguf_get_f64(const gq_gguf *g, const char *key, double *out, gq_error *err);
int gq_gguf_get_bool(const gq_gguf *g, const char *key, int *out, gq_error *err);
/* NUL-terminated copy owned by g (valid until close). */
int gq_gguf_get_str(const gq_gguf *g, const char *key, const char **out, gq_error *err);
/* Arrays, materialised at open (owned by g).  Strings are NUL-terminated
 * copies with their byte length alongside (a token may contain NUL bytes). */
int gq_gguf_get_str_array(const gq_gguf *g, const char *key, const char *const **strs,
                          const size_t **lens, size_t *n, gq_error *err);
int gq_gguf_get_f32_array(const gq_gguf *g, const char *key, const float **vals, size_t *n,
                          gq_error *err);
int gq_gguf_get_i32_array(const gq_gguf *g, const char *key, const int32_t **vals, size_t *n,
                          gq_error *err);

size_t gq_gguf_tensor_count(const gq_gguf *g);
const gq_tensor_ref *gq_gguf_tensor(const gq_gguf *g, size_t i);
const gq_tensor_ref *gq_gguf_find(const gq_gguf *g, const char *name);

#endif
