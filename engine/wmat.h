/* wmat.h — a weight matrix kept in the encoding its checkpoint stores it
 * in (float32, f16, bf16 or a GGUF block type), as the forward pass reads
 * it.
 *
 * The model no longer widens every weight to float32 at load (an 8B bf16
 * checkpoint would need 32 GB): a matrix is a view on the mapped file, and
 * the backend widens a block of rows at a time into a scratch buffer right
 * before the product that uses them (backend.h, matmul_w).  Rows are
 * [out, in] row-major like every linear weight (tensor.h), each row a whole
 * number of blocks, so any row range can be widened on its own.
 *
 * The converter needs whole float32 matrices for its decompositions; it
 * opens models with gq_open_opts.weights_f32 set, and then every matrix is
 * float32 and `f32` points at it.
 */
#ifndef GQ_WMAT_H
#define GQ_WMAT_H

#include <stddef.h>

#include "gq_error.h"
#include "quant.h"
#include "tensor.h"

typedef struct gq_wmat {
    gq_dtype dtype;     /* encoding of data */
    const void *data;   /* rows x cols in that encoding; NULL for an absent matrix */
    const float *f32;   /* == data when it is float32 (4-byte aligned), else NULL */
    int rows, cols;
    size_t row_bytes;   /* bytes of one row */
} gq_wmat;

/* Widen rows [r0, r0 + n) into dst[n, cols].  The dtype and sizes were
 * checked when the view was made (weights.c), so this cannot fail. */
static inline void gq_wmat_widen_rows(const gq_wmat *w, int r0, int n, float *dst)
{
    const unsigned char *src = (const unsigned char *)w->data + (size_t)r0 * w->row_bytes;
    gq_error err;
    int rc = gq_dequant_row(w->dtype, src, dst, (size_t)n * (size_t)w->cols, &err);
    GQ_ASSERT(rc == GQ_OK);
    (void)rc;
}

#endif
