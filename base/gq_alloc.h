/* gq_alloc.h — the one wrapper for host allocations.
 *
 * gq_malloc/gq_calloc return NULL and fill err (naming the size and what it
 * was for) on failure.  A debug build can make the Nth allocation fail
 * (GQ_FAIL_ALLOC=N in the environment) to test every cleanup path.
 */
#ifndef GQ_ALLOC_H
#define GQ_ALLOC_H

#include <stddef.h>
#include "gq_error.h"

void *gq_malloc(size_t size, const char *what, gq_error *err);
void *gq_calloc(size_t count, size_t size, const char *what, gq_error *err);
void *gq_realloc(void *ptr, size_t size, const char *what, gq_error *err);
char *gq_strdup(const char *s, gq_error *err);
void gq_free(void *ptr);

/* Multiply two counts, failing (returns 0) on size_t overflow. */
int gq_size_mul(size_t a, size_t b, size_t *out);
int gq_size_add(size_t a, size_t b, size_t *out);

#endif
