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
 * Not here: device copies, keeping weights in f16/bf16 (the model does that).
 * Tested by tests/test_gguf.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint.h"
#include "quant.h"

static const char *ref_file(const gq_tensor_ref *t) { return t->file ? t->file : "(no file)"; }
static const char *ref_name(const gq_tensor_ref *t) { return t->name ? t->name : "?"; }

int gq_tensor_load_f32(const gq_tensor_ref *t, float *dst, gq_error *err)
{
    int rc = GQ_OK, ok = 0;

    if (!t || !dst) return gq_error_set(err, GQ_ERR_USAGE, "gq_tensor_load_f32: NULL argument");
    if (!gq_dequant_supported(t->dtype)) {
        rc = gq_error_set(err, GQ_ERR_UNSUPPORTED, "%s: tensor '%s' has dtype %s, which cannot be widened to float32",
                          ref_file(t), ref_name(t), gq_dtype_name(t->dtype));
        goto fail;
    }
    size_t nbytes = gq_dtype_nbytes(t->dtype, t->n_elems, &ok);
    if (!ok || nbytes != t->nbytes || t->n_elems > SIZE_MAX || (t->n_elems > 0 && !t->data) || t->n_dims < 1 ||
        t->n_dims > GQ_MAX_DIMS || t->shape[0] <= 0) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: tensor '%s': %" PRIu64 " elements of %s need %zu bytes but the "
                          "reference holds %zu (or its shape/data is unset)", ref_file(t), ref_name(t), t->n_elems,
                          gq_dtype_name(t->dtype), nbytes, t->nbytes);
        goto fail;
    }
    size_t n = (size_t)t->n_elems;
    int heads = t->rope_unpermute_heads;

    if (heads <= 0) {
        rc = gq_dequant_row(t->dtype, t->data, dst, n, err);
        if (rc) {
            gq_error_prefix(err, "%s: tensor '%s': ", ref_file(t), ref_name(t));
            goto fail;
        }
    } else {
        /* Rows are the outermost dimension: [heads * d, inner]. */
        size_t rows = (size_t)t->shape[0], inner = n / rows;
        size_t be = gq_dtype_block_elems(t->dtype), bb = gq_dtype_block_bytes(t->dtype);
        if ((size_t)heads > rows || rows % (size_t)heads != 0 || (rows / (size_t)heads) % 2 != 0 ||
            inner * rows != n || inner % be != 0) {
            rc = gq_error_set(err, GQ_ERR_INVALID, "%s: tensor '%s' has %zu rows of %zu, which cannot be split "
                              "into %d RoPE heads of an even size (whole %s blocks per row)", ref_file(t),
                              ref_name(t), rows, inner, heads, gq_dtype_name(t->dtype));
            goto fail;
        }
        size_t d = rows / (size_t)heads, half = d / 2, row_bytes = inner / be * bb;
        const unsigned char *src = t->data;
        for (size_t r = 0; r < rows; r++) {
            /* HF row r = h*d + η*half + j comes from GGUF row h*d + 2j + η. */
            size_t h = r / d, w = r % d, eta = w / half, j = w % half;
            size_t s = h * d + 2 * j + eta;
            rc = gq_dequant_row(t->dtype, src + s * row_bytes, dst + r * inner, inner, err);
            if (rc) {
                gq_error_prefix(err, "%s: tensor '%s': ", ref_file(t), ref_name(t));
                goto fail;
            }
        }
    }

    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &dst[i], sizeof bits);
        if ((bits & 0x7f800000u) == 0x7f800000u) {
            size_t inner = n / (size_t)t->shape[0];
            rc = gq_error_set(err, GQ_ERR_INVALID,
                              "%s: tensor '%s' element %zu (row %zu, column %zu) is %s, expected finite weights "
                              "--> HINT: the checkpoint is corrupt or was saved after a diverged run",
                              ref_file(t), ref_name(t), i, i / inner, i % inner,
                              (bits & 0x007fffffu) ? "NaN" : "Inf");
            goto fail;
        }
    }
    return GQ_OK;

fail:
    return rc;
}
