/* gq_sbuf.c — growable string (gq_sbuf.h). */
#include "gq_sbuf.h"

#include <stdio.h>
#include <string.h>

#include "gq_alloc.h"
#include "gq_array.h"
#include "gq_utf8.h"

/* Room for n more bytes and the NUL. */
static int reserve(gq_sbuf *b, size_t n, gq_error *err)
{
    size_t need;
    if (!gq_size_add(b->n, n, &need) || !gq_size_add(need, 1, &need))
        return gq_error_set(err, GQ_ERR_NOMEM, "string of %zu + %zu bytes is too long", b->n, n);
    return gq_array_reserve(&b->p, &b->cap, need, 1, 64, "string", err);
}

int gq_sbuf_addn(gq_sbuf *b, const char *s, size_t n, gq_error *err)
{
    int rc = reserve(b, n, err);
    if (rc != GQ_OK) return rc;
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return GQ_OK;
}

int gq_sbuf_add(gq_sbuf *b, const char *s, gq_error *err)
{
    return gq_sbuf_addn(b, s, strlen(s), err);
}

int gq_sbuf_addcp(gq_sbuf *b, uint32_t cp, gq_error *err)
{
    char u[4];
    return gq_sbuf_addn(b, u, gq_utf8_put(cp, u), err);
}

int gq_sbuf_vprintf(gq_sbuf *b, gq_error *err, const char *fmt, va_list ap)
{
    char small[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    int rc = GQ_OK;
    if (n < 0) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "bad format '%s'", fmt);
    } else if ((size_t)n < sizeof small) {
        rc = gq_sbuf_addn(b, small, (size_t)n, err);
    } else if ((rc = reserve(b, (size_t)n, err)) == GQ_OK) {
        vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap2);
        b->n += (size_t)n;
    }
    va_end(ap2);
    return rc;
}

int gq_sbuf_printf(gq_sbuf *b, gq_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = gq_sbuf_vprintf(b, err, fmt, ap);
    va_end(ap);
    return rc;
}

char *gq_sbuf_take(gq_sbuf *b, gq_error *err)
{
    if (!b->p && gq_sbuf_addn(b, "", 0, err) != GQ_OK) return NULL;
    char *p = b->p;
    b->p = NULL;
    b->n = b->cap = 0;
    return p;
}

void gq_sbuf_free(gq_sbuf *b)
{
    gq_free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}
