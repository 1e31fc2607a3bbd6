/* quant.c — row-level widening to float32 (see quant.h for the encodings
 * and why the arithmetic is written the way it is).  Tested by
 * tests/test_gguf.c, bit for bit against the gguf Python package. */
#include "quant.h"

int gq_dequant_supported(gq_dtype t)
{
    switch (t) {
    case GQ_DTYPE_F32:
    case GQ_DTYPE_F16:
    case GQ_DTYPE_BF16:
    case GQ_DTYPE_F64:
    case GQ_DTYPE_Q8_0:
    case GQ_DTYPE_Q4_0:
    case GQ_DTYPE_Q4_1:
    case GQ_DTYPE_Q5_0:
    case GQ_DTYPE_Q5_1:
    case GQ_DTYPE_Q2_K:
    case GQ_DTYPE_Q3_K:
    case GQ_DTYPE_Q4_K:
    case GQ_DTYPE_Q5_K:
    case GQ_DTYPE_Q6_K:
    case GQ_DTYPE_Q8_K: return 1;
    default: return 0;
    }
}

int gq_dequant_row(gq_dtype t, const void *src, float *dst, size_t n, gq_error *err)
{
    const unsigned char *p = src;
    size_t be = gq_dtype_block_elems(t), bb = gq_dtype_block_bytes(t);

    if (!gq_dequant_supported(t))
        return gq_error_set(err, GQ_ERR_UNSUPPORTED, "cannot widen dtype %s to float32", gq_dtype_name(t));
    if (be == 0 || n % be != 0)
        return gq_error_set(err, GQ_ERR_INVALID, "%zu elements of %s are not a whole number of %zu-element blocks",
                            n, gq_dtype_name(t), be);

    switch (t) {
    case GQ_DTYPE_F32:
        memcpy(dst, p, n * sizeof(float)); /* little-endian host assumed (gguf.c checks) */
        break;
    case GQ_DTYPE_F16:
        for (size_t i = 0; i < n; i++) dst[i] = gq_f16_to_f32(gq_load_u16le(p + 2 * i));
        break;
    case GQ_DTYPE_BF16:
        for (size_t i = 0; i < n; i++) dst[i] = gq_bf16_to_f32(gq_load_u16le(p + 2 * i));
        break;
    case GQ_DTYPE_F64:
        for (size_t i = 0; i < n; i++) {
            double v;
            memcpy(&v, p + 8 * i, sizeof v);
            dst[i] = (float)v;
        }
        break;
    case GQ_DTYPE_Q8_0:
        for (size_t b = 0; b < n / be; b++) gq_dequant_block_q8_0(p + b * bb, dst + b * be);
        break;
    case GQ_DTYPE_Q4_0:
        for (size_t b = 0; b < n / be; b++) gq_dequant_block_q4_0(p + b * bb, dst + b * be);
        break;
    case GQ_DTYPE_Q4_1:
        for (size_t b = 0; b < n / be; b++) gq_dequant_block_q4_1(p + b * bb, dst + b * be);
        break;
    case GQ_DTYPE_Q5_0:
        for (size_t b = 0; b < n / be; b++) gq_dequant_block_q5_0(p + b * bb, dst + b * be);
        break;
    case GQ_DTYPE_Q5_1:
        for (size_t b = 0; b < n / be; b++) gq_dequant_block_q5_1(p + b * bb, dst + b * be);
        break;
    case GQ_DTYPE_Q2_K:
        for (size_t b = 0; b < n / be; b++) gq_dequant_block_q2_k(p + b * bb, dst + b * be);
        break;
    case GQ_DTYPE_Q3_K:
        for (size_t b = 0; b < n / be; b++) gq_dequant_block_q3_k(p + b * bb, dst + b * be);
        break;
    case GQ_DTYPE_Q4_K:
        for (size_t b = 0; b < n / be; b++) gq_dequant_block_q4_k(p + b * bb, dst + b * be);
        break;
    case GQ_DTYPE_Q5_K:
        for (size_t b = 0; b < n / be; b++) gq_dequant_block_q5_k(p + b * bb, dst + b * be);
        break;
    case GQ_DTYPE_Q6_K:
        for (size_t b = 0; b < n / be; b++) gq_dequant_block_q6_k(p + b * bb, dst + b * be);
        break;
    case GQ_DTYPE_Q8_K:
        for (size_t b = 0; b < n / be; b++) gq_dequant_block_q8_k(p + b * bb, dst + b * be);
        break;
    default:
        break; /* unreachable: gq_dequant_supported() said no above */
    }
    return GQ_OK;
}
