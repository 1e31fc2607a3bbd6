/* textbuf.h — gq_sbuf with a remembered first error, for the report
 * renderers: they write many pieces and check once at the end.
 *
 * Error contract (as pyjson.h): appends never fail visibly; the first
 * failure (out of memory) is remembered, later appends do nothing, and
 * gq_textbuf_finish reports it.  Formatting uses the C locale's printf
 * (gqla-eval never calls setlocale), so "%.2f" always writes a '.'.
 */
#ifndef GQ_TEXTBUF_H
#define GQ_TEXTBUF_H

#include <stddef.h>
#include "gq_error.h"
#include "gq_sbuf.h"

typedef struct gq_textbuf {
    gq_sbuf s;              /* the text so far */
    gq_error err;           /* first failure; err.status == GQ_OK while none */
} gq_textbuf;

void gq_textbuf_init(gq_textbuf *b);
void gq_textbuf_free(gq_textbuf *b);
void gq_textbuf_put(gq_textbuf *b, const char *s);
void gq_textbuf_putn(gq_textbuf *b, const char *s, size_t n);
void gq_textbuf_printf(gq_textbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Hand the text over (heap, gq_free) or the remembered error; on failure
 * *out is NULL.  The buffer is left empty either way. */
int gq_textbuf_finish(gq_textbuf *b, char **out, size_t *len, gq_error *err);

#endif
