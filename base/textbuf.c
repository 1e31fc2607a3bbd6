/* textbuf.c — growable text buffer (textbuf.h). */
#include "textbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gq_alloc.h"

void gq_textbuf_init(gq_textbuf *b)
{
    memset(b, 0, sizeof *b);
}

void gq_textbuf_free(gq_textbuf *b)
{
    gq_free(b->buf);
    gq_textbuf_init(b);
}

static int reserve(gq_textbuf *b, size_t extra)
{
    if (b->err.status != GQ_OK) return 0;
    size_t need;
    if (!gq_size_add(b->len, extra + 1, &need)) {
        gq_error_set(&b->err, GQ_ERR_NOMEM, "report text too large");
        return 0;
    }
    if (need <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < need) cap *= 2;
    char *nb = gq_realloc(b->buf, cap, "report text", &b->err);
    if (!nb) return 0;
    b->buf = nb;
    b->cap = cap;
    return 1;
}

void gq_textbuf_putn(gq_textbuf *b, const char *s, size_t n)
{
    if (!reserve(b, n)) return;
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

void gq_textbuf_put(gq_textbuf *b, const char *s)
{
    gq_textbuf_putn(b, s, strlen(s));
}

void gq_textbuf_printf(gq_textbuf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        if (b->err.status == GQ_OK) gq_error_set(&b->err, GQ_ERR_INVALID, "bad format '%s'", fmt);
        return;
    }
    if ((size_t)n < sizeof small) {
        gq_textbuf_putn(b, small, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

int gq_textbuf_finish(gq_textbuf *b, char **out, size_t *len, gq_error *err)
{
    *out = NULL;
    if (len) *len = 0;
    if (b->err.status != GQ_OK) {
        if (err) *err = b->err;
        int st = b->err.status;
        gq_textbuf_free(b);
        return st;
    }
    if (!b->buf && !reserve(b, 0)) {
        if (err) *err = b->err;
        gq_textbuf_free(b);
        return GQ_ERR_NOMEM;
    }
    *out = b->buf;
    if (len) *len = b->len;
    gq_textbuf_init(b);
    return GQ_OK;
}
