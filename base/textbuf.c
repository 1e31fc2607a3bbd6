/* textbuf.c — gq_sbuf with a remembered first error (textbuf.h). */
#include "textbuf.h"

#include <stdarg.h>
#include <string.h>

void gq_textbuf_init(gq_textbuf *b)
{
    memset(b, 0, sizeof *b);
}

void gq_textbuf_free(gq_textbuf *b)
{
    gq_sbuf_free(&b->s);
    gq_textbuf_init(b);
}

void gq_textbuf_putn(gq_textbuf *b, const char *s, size_t n)
{
    if (b->err.status == GQ_OK) gq_sbuf_addn(&b->s, s, n, &b->err);
}

void gq_textbuf_put(gq_textbuf *b, const char *s)
{
    gq_textbuf_putn(b, s, strlen(s));
}

void gq_textbuf_printf(gq_textbuf *b, const char *fmt, ...)
{
    if (b->err.status != GQ_OK) return;
    va_list ap;
    va_start(ap, fmt);
    gq_sbuf_vprintf(&b->s, &b->err, fmt, ap);
    va_end(ap);
}

int gq_textbuf_finish(gq_textbuf *b, char **out, size_t *len, gq_error *err)
{
    *out = NULL;
    if (len) *len = 0;
    size_t n = b->s.n;
    char *text = b->err.status == GQ_OK ? gq_sbuf_take(&b->s, &b->err) : NULL;
    if (!text) {
        if (err) *err = b->err;
        int st = b->err.status;
        gq_textbuf_free(b);
        return st;
    }
    *out = text;
    if (len) *len = n;
    gq_textbuf_init(b);
    return GQ_OK;
}
