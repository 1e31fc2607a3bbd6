/* tensor.h — dtypes and the tensor reference that every checkpoint reader
 * hands out.
 *
 * Shape convention (everywhere in gqla-eval): PyTorch / Hugging Face order,
 * outermost first.  A linear weight is [out, in] row-major, so element
 * (r, c) sits at r*in + c.  GGUF lists its dimensions innermost first
 * (ne[0] = row length); the GGUF reader reverses them into this order.
 */
#ifndef GQ_TENSOR_H
#define GQ_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#define GQ_MAX_DIMS 4

typedef enum {
    GQ_DTYPE_F32 = 0,
    GQ_DTYPE_F16,
    GQ_DTYPE_BF16,
    GQ_DTYPE_F64,
    GQ_DTYPE_I32,
    GQ_DTYPE_I64,
    GQ_DTYPE_Q8_0, /* GGUF blocks of 32: f16 scale + 32 x int8 */
    GQ_DTYPE_Q4_0, /* GGUF blocks of 32: f16 scale + 16 bytes of nibbles */
    GQ_DTYPE_Q4_1, /* GGUF blocks of 32: f16 scale, f16 min + 16 bytes of nibbles */
    GQ_DTYPE_Q5_0, /* GGUF blocks of 32: f16 scale, 32 high bits, 16 bytes of nibbles */
    GQ_DTYPE_Q5_1, /* GGUF blocks of 32: f16 scale, f16 min, 32 high bits, nibbles */
    GQ_DTYPE_Q2_K, /* GGUF K-quant super-blocks of 256 (layouts in quant.h) */
    GQ_DTYPE_Q3_K,
    GQ_DTYPE_Q4_K,
    GQ_DTYPE_Q5_K,
    GQ_DTYPE_Q6_K,
    GQ_DTYPE_Q8_K,
    GQ_DTYPE_COUNT
} gq_dtype;

const char *gq_dtype_name(gq_dtype t);

/* Elements per block and bytes per block (1 and the element size for plain
 * types).  A row of n elements of a block type needs n % block == 0. */
size_t gq_dtype_block_elems(gq_dtype t);
size_t gq_dtype_block_bytes(gq_dtype t);

/* Bytes that `n_elems` elements take; 0 with *ok = 0 when n_elems is not a
 * whole number of blocks or the product overflows. */
size_t gq_dtype_nbytes(gq_dtype t, uint64_t n_elems, int *ok);

/* A read-only view of one tensor inside a mapped checkpoint file.
 * The reader that created it owns name and data (data points into a mmap). */
typedef struct gq_tensor_ref {
    const char *name;          /* Hugging Face name, e.g. model.layers.0.self_attn.q_proj.weight */
    gq_dtype dtype;            /* dtype as stored in the file */
    int n_dims;
    int64_t shape[GQ_MAX_DIMS];/* outermost first; unused entries are 1 */
    uint64_t n_elems;
    const void *data;          /* raw bytes in the file's encoding */
    size_t nbytes;
    const char *file;          /* path of the file holding it, for messages */
    uint64_t file_offset;      /* where its bytes start in that file */
    /* GGUF only: llama.cpp's converter permuted the rows of attn_q / attn_k
     * per head for interleaved RoPE; rope_unpermute_heads > 0 says how many
     * heads to undo it for when the rows are widened (see checkpoint.h). */
    int rope_unpermute_heads;
} gq_tensor_ref;

#endif
