/* gq_alloc.c — host allocation wrapper with optional fault injection. */
#include "gq_alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* GQ_FAIL_ALLOC=N makes the Nth allocation (1-based) fail: a cheap torture
 * test of the cleanup paths.  Read once; 0 means never. */
static long fail_at = -1;
static long alloc_count = 0;

static int should_fail(void)
{
    if (fail_at < 0) {
        const char *s = getenv("GQ_FAIL_ALLOC");
        fail_at = s ? strtol(s, NULL, 10) : 0;
    }
    alloc_count++;
    return fail_at > 0 && alloc_count == fail_at;
}

void *gq_malloc(size_t size, const char *what, gq_error *err)
{
    void *p = should_fail() ? NULL : malloc(size ? size : 1);
    if (!p) gq_error_set(err, GQ_ERR_NOMEM, "out of memory allocating %zu bytes for %s", size, what);
    return p;
}

void *gq_calloc(size_t count, size_t size, const char *what, gq_error *err)
{
    size_t total;
    if (!gq_size_mul(count, size, &total)) {
        gq_error_set(err, GQ_ERR_NOMEM, "size overflow allocating %zu x %zu bytes for %s", count, size, what);
        return NULL;
    }
    void *p = should_fail() ? NULL : calloc(count ? count : 1, size ? size : 1);
    if (!p) gq_error_set(err, GQ_ERR_NOMEM, "out of memory allocating %zu bytes for %s", total, what);
    return p;
}

void *gq_realloc(void *ptr, size_t size, const char *what, gq_error *err)
{
    void *p = should_fail() ? NULL : realloc(ptr, size ? size : 1);
    if (!p) gq_error_set(err, GQ_ERR_NOMEM, "out of memory growing %s to %zu bytes", what, size);
    return p;
}

char *gq_strdup(const char *s, gq_error *err)
{
    size_t n = strlen(s) + 1;
    char *p = gq_malloc(n, "string", err);
    if (p) memcpy(p, s, n);
    return p;
}

void gq_free(void *ptr) { free(ptr); }

int gq_size_mul(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}

int gq_size_add(size_t a, size_t b, size_t *out)
{
    if (b > SIZE_MAX - a) return 0;
    *out = a + b;
    return 1;
}
