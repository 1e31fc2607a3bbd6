/* tensor.c — dtype names and sizes (see tensor.h). */
#include "tensor.h"

#include "gq_alloc.h"

const char *gq_dtype_name(gq_dtype t)
{
    switch (t) {
    case GQ_DTYPE_F32: return "F32";
    case GQ_DTYPE_F16: return "F16";
    case GQ_DTYPE_BF16: return "BF16";
    case GQ_DTYPE_F64: return "F64";
    case GQ_DTYPE_I32: return "I32";
    case GQ_DTYPE_I64: return "I64";
    case GQ_DTYPE_Q8_0: return "Q8_0";
    case GQ_DTYPE_Q4_0: return "Q4_0";
    case GQ_DTYPE_Q4_1: return "Q4_1";
    case GQ_DTYPE_Q5_0: return "Q5_0";
    case GQ_DTYPE_Q5_1: return "Q5_1";
    case GQ_DTYPE_Q2_K: return "Q2_K";
    case GQ_DTYPE_Q3_K: return "Q3_K";
    case GQ_DTYPE_Q4_K: return "Q4_K";
    case GQ_DTYPE_Q5_K: return "Q5_K";
    case GQ_DTYPE_Q6_K: return "Q6_K";
    case GQ_DTYPE_Q8_K: return "Q8_K";
    case GQ_DTYPE_COUNT: break;
    }
    return "?";
}

size_t gq_dtype_block_elems(gq_dtype t)
{
    switch (t) {
    case GQ_DTYPE_Q8_0:
    case GQ_DTYPE_Q4_0:
    case GQ_DTYPE_Q4_1:
    case GQ_DTYPE_Q5_0:
    case GQ_DTYPE_Q5_1: return 32;
    case GQ_DTYPE_Q2_K:
    case GQ_DTYPE_Q3_K:
    case GQ_DTYPE_Q4_K:
    case GQ_DTYPE_Q5_K:
    case GQ_DTYPE_Q6_K:
    case GQ_DTYPE_Q8_K: return 256;
    default: return 1;
    }
}

size_t gq_dtype_block_bytes(gq_dtype t)
{
    switch (t) {
    case GQ_DTYPE_F32: return 4;
    case GQ_DTYPE_F16: return 2;
    case GQ_DTYPE_BF16: return 2;
    case GQ_DTYPE_F64: return 8;
    case GQ_DTYPE_I32: return 4;
    case GQ_DTYPE_I64: return 8;
    case GQ_DTYPE_Q8_0: return 2 + 32;
    case GQ_DTYPE_Q4_0: return 2 + 16;
    case GQ_DTYPE_Q4_1: return 2 + 2 + 16;
    case GQ_DTYPE_Q5_0: return 2 + 4 + 16;
    case GQ_DTYPE_Q5_1: return 2 + 2 + 4 + 16;
    case GQ_DTYPE_Q2_K: return 16 + 64 + 2 + 2;
    case GQ_DTYPE_Q3_K: return 32 + 64 + 12 + 2;
    case GQ_DTYPE_Q4_K: return 2 + 2 + 12 + 128;
    case GQ_DTYPE_Q5_K: return 2 + 2 + 12 + 32 + 128;
    case GQ_DTYPE_Q6_K: return 128 + 64 + 16 + 2;
    case GQ_DTYPE_Q8_K: return 4 + 256 + 2 * 16;
    case GQ_DTYPE_COUNT: break;
    }
    return 0;
}

size_t gq_dtype_nbytes(gq_dtype t, uint64_t n_elems, int *ok)
{
    size_t be = gq_dtype_block_elems(t), bb = gq_dtype_block_bytes(t), out = 0;
    *ok = 0;
    if (bb == 0 || n_elems % be != 0) return 0;
    if (n_elems / be > (uint64_t)SIZE_MAX) return 0;
    if (!gq_size_mul((size_t)(n_elems / be), bb, &out)) return 0;
    *ok = 1;
    return out;
}
