/* tensor_load.c — gq_tensor_load_f32 (declared in checkpoint.h): widen one
 * tensor of any checkpoint format to float32, in Hugging Face layout.
 *
 * Steps: check the ref is self-consistent (dtype known, byte size matching
 * the element count), widen via quant.c, undo llama.cpp's RoPE row
 * permutation when t->rope_unpermute_heads > 0 (the permutation is described
 * in gguf_llama.c), and refuse NaN/Inf weights, naming the element.
 *
 * The permutation is undone while widening: each destination row is
 * dequantised straight from its source row, so no scratch buffer is needed.
 * gq_tensor_check_stored and gq_tensor_copy_unpermuted serve weights kept in
 * their stored encoding (wmat.h): the same checks without a float32 copy,
 * and the permutation undone on whole rows of bytes.
 * Not here: device copies.
 * Tested by tests/test_gguf.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint.h"
#include "gq_alloc.h"
#include "quant.h"

static const char *ref_file(const gq_tensor_ref *t) { return t->file ? t->file : "(no file)"; }
static const char *ref_name(const gq_tensor_ref *t) { return t->name ? t->name : "?"; }

/* The ref is self-consistent: dtype known, byte size matching the count. */
static int check_ref(const gq_tensor_ref *t, gq_error *err)
{
    int ok = 0;
    if (!gq_dequant_supported(t->dtype))
        return gq_error_set(err, GQ_ERR_UNSUPPORTED, "%s: tensor '%s' has dtype %s, which cannot be widened to "
                            "float32", ref_file(t), ref_name(t), gq_dtype_name(t->dtype));
    size_t nbytes = gq_dtype_nbytes(t->dtype, t->n_elems, &ok);
    if (!ok || nbytes != t->nbytes || t->n_elems > SIZE_MAX || (t->n_elems > 0 && !t->data) || t->n_dims < 1 ||
        t->n_dims > GQ_MAX_DIMS || t->shape[0] <= 0)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: tensor '%s': %" PRIu64 " elements of %s need %zu bytes but "
                            "the reference holds %zu (or its shape/data is unset)", ref_file(t), ref_name(t),
                            t->n_elems, gq_dtype_name(t->dtype), nbytes, t->nbytes);
    return GQ_OK;
}

/* With t->rope_unpermute_heads > 0: the RoPE heads split evenly and each
 * row is whole blocks.  Sets the head size d and the row length. */
static int check_rope_rows(const gq_tensor_ref *t, size_t *d, size_t *inner, gq_error *err)
{
    size_t n = (size_t)t->n_elems, rows = (size_t)t->shape[0], heads = (size_t)t->rope_unpermute_heads;
    size_t be = gq_dtype_block_elems(t->dtype);
    *inner = n / rows;
    if (heads > rows || rows % heads != 0 || (rows / heads) % 2 != 0 || *inner * rows != n || *inner % be != 0)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: tensor '%s' has %zu rows of %zu, which cannot be split "
                            "into %zu RoPE heads of an even size (whole %s blocks per row)", ref_file(t),
                            ref_name(t), rows, *inner, heads, gq_dtype_name(t->dtype));
    *d = rows / heads;
    return GQ_OK;
}

/* HF row r = h*d + eta*half + j comes from GGUF row h*d + 2j + eta. */
static size_t rope_source_row(size_t r, size_t d)
{
    size_t half = d / 2, h = r / d, w = r % d, eta = w / half, j = w % half;
    return h * d + 2 * j + eta;
}

/* Refuse a NaN/Inf among x[0..n), elements first .. of t. */
static int check_finite(const gq_tensor_ref *t, const float *x, size_t n, size_t first, gq_error *err)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &x[i], sizeof bits);
        if ((bits & 0x7f800000u) == 0x7f800000u) {
            size_t inner = (size_t)t->n_elems / (size_t)t->shape[0], at = first + i;
            return gq_error_set(err, GQ_ERR_INVALID,
                                "%s: tensor '%s' element %zu (row %zu, column %zu) is %s, expected finite weights "
                                "--> HINT: the checkpoint is corrupt or was saved after a diverged run",
                                ref_file(t), ref_name(t), at, at / inner, at % inner,
                                (bits & 0x007fffffu) ? "NaN" : "Inf");
        }
    }
    return GQ_OK;
}

int gq_tensor_load_f32(const gq_tensor_ref *t, float *dst, gq_error *err)
{
    if (!t || !dst) return gq_error_set(err, GQ_ERR_USAGE, "gq_tensor_load_f32: NULL argument");
    int rc = check_ref(t, err);
    if (rc != GQ_OK) return rc;
    size_t n = (size_t)t->n_elems;

    if (t->rope_unpermute_heads <= 0) {
        rc = gq_dequant_row(t->dtype, t->data, dst, n, err);
        if (rc) {
            gq_error_prefix(err, "%s: tensor '%s': ", ref_file(t), ref_name(t));
            return rc;
        }
    } else {
        /* Rows are the outermost dimension: [heads * d, inner]. */
        size_t d, inner;
        if ((rc = check_rope_rows(t, &d, &inner, err)) != GQ_OK) return rc;
        size_t row_bytes = t->nbytes / (size_t)t->shape[0];
        const unsigned char *src = t->data;
        for (size_t r = 0; r < (size_t)t->shape[0]; r++) {
            rc = gq_dequant_row(t->dtype, src + rope_source_row(r, d) * row_bytes, dst + r * inner, inner, err);
            if (rc) {
                gq_error_prefix(err, "%s: tensor '%s': ", ref_file(t), ref_name(t));
                return rc;
            }
        }
    }
    return check_finite(t, dst, n, 0, err);
}

int gq_tensor_check_stored(const gq_tensor_ref *t, gq_error *err)
{
    if (!t) return gq_error_set(err, GQ_ERR_USAGE, "gq_tensor_check_stored: NULL argument");
    int rc = check_ref(t, err);
    if (rc != GQ_OK) return rc;
    size_t d, inner, n = (size_t)t->n_elems, rows = (size_t)t->shape[0];
    if (t->rope_unpermute_heads > 0 && (rc = check_rope_rows(t, &d, &inner, err)) != GQ_OK) return rc;
    inner = n / rows;
    if (inner * rows != n || inner % gq_dtype_block_elems(t->dtype) != 0)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: tensor '%s' has rows of %zu elements, not whole %s blocks",
                            ref_file(t), ref_name(t), inner, gq_dtype_name(t->dtype));
    /* Widen a few rows at a time into a small buffer, only to look. */
    size_t chunk_rows = inner >= 16384 ? 1 : 16384 / inner, row_bytes = t->nbytes / rows;
    float *buf = gq_malloc(chunk_rows * inner * sizeof *buf, "weight check buffer", err);
    if (!buf) return GQ_ERR_NOMEM;
    const unsigned char *src = t->data;
    for (size_t r = 0; r < rows && rc == GQ_OK; r += chunk_rows) {
        size_t k = rows - r < chunk_rows ? rows - r : chunk_rows;
        rc = gq_dequant_row(t->dtype, src + r * row_bytes, buf, k * inner, err);
        if (rc) gq_error_prefix(err, "%s: tensor '%s': ", ref_file(t), ref_name(t));
        /* element numbers in the file's row order (the message names the stored row) */
        else rc = check_finite(t, buf, k * inner, r * inner, err);
    }
    gq_free(buf);
    return rc;
}

int gq_tensor_copy_unpermuted(const gq_tensor_ref *t, void *dst, gq_error *err)
{
    size_t d, inner;
    int rc = check_ref(t, err);
    if (rc != GQ_OK) return rc;
    if (t->rope_unpermute_heads <= 0) {
        memcpy(dst, t->data, t->nbytes);
        return GQ_OK;
    }
    if ((rc = check_rope_rows(t, &d, &inner, err)) != GQ_OK) return rc;
    size_t rows = (size_t)t->shape[0], row_bytes = t->nbytes / rows;
    for (size_t r = 0; r < rows; r++)
        memcpy((unsigned char *)dst + r * row_bytes, (const unsigned char *)t->data + rope_source_row(r, d) * row_bytes,
               row_bytes);
    return GQ_OK;
}
