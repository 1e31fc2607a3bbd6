/* gq_array.h — the one growth rule of the project's growable arrays and
 * strings: capacity doubles from a first size until it holds what is
 * needed, with size_t overflow checked and the allocation made through
 * gq_realloc (so GQ_FAIL_ALLOC reaches it).
 *
 * A growable array is a plain `T *items; size_t n, cap;` triple owned by
 * its user; this header only grows it.  gq_sbuf.h is the one for strings.
 */
#ifndef GQ_ARRAY_H
#define GQ_ARRAY_H

#include <stddef.h>
#include "gq_error.h"

/* Make *items (a T ** passed as void *: an array of *cap elements of
 * elem_size bytes) hold at least need elements.  A zero *cap starts at
 * first_cap (at least 1).  On failure (GQ_ERR_NOMEM, err names `what`)
 * *items and *cap are unchanged and still owned by the caller. */
int gq_array_reserve(void *items, size_t *cap, size_t need, size_t elem_size, size_t first_cap, const char *what,
                     gq_error *err);

#endif
