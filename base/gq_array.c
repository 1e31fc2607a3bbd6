/* gq_array.c — growth of growable arrays (gq_array.h). */
#include "gq_array.h"

#include <stdint.h>
#include <string.h>

#include "gq_alloc.h"

int gq_array_reserve(void *items, size_t *cap, size_t need, size_t elem_size, size_t first_cap, const char *what,
                     gq_error *err)
{
    if (need <= *cap) return GQ_OK;
    size_t c = *cap ? *cap : (first_cap ? first_cap : 1), bytes;
    while (c < need) {
        if (c > SIZE_MAX / 2) return gq_error_set(err, GQ_ERR_NOMEM, "%s: %zu elements is too many", what, need);
        c *= 2;
    }
    if (!gq_size_mul(c, elem_size, &bytes))
        return gq_error_set(err, GQ_ERR_NOMEM, "%s: %zu elements is too many", what, need);
    /* items points at the caller's T *; T * and void * share a representation
     * on every platform we build for, and memcpy keeps the access defined. */
    void *p;
    memcpy(&p, items, sizeof p);
    void *np = gq_realloc(p, bytes, what, err);
    if (!np) return GQ_ERR_NOMEM;
    memcpy(items, &np, sizeof np);
    *cap = c;
    return GQ_OK;
}
