/* gq_sbuf.h — the growable NUL-terminated string of the project.
 *
 * Every append returns GQ_OK or GQ_ERR_NOMEM (err filled); after a failure
 * the string holds what it held before and is still the caller's to free.
 * gq_textbuf (textbuf.h) and the Python-json writer (reports/pyjson.h) put
 * a remembered-first-error face on it.  A zeroed struct is an empty string.
 */
#ifndef GQ_SBUF_H
#define GQ_SBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "gq_error.h"

typedef struct gq_sbuf {
    char *p;       /* NUL-terminated once anything was added; NULL before */
    size_t n, cap;
} gq_sbuf;

int gq_sbuf_addn(gq_sbuf *b, const char *s, size_t n, gq_error *err);
int gq_sbuf_add(gq_sbuf *b, const char *s, gq_error *err);
/* Append one code point as UTF-8 (gq_utf8_put). */
int gq_sbuf_addcp(gq_sbuf *b, uint32_t cp, gq_error *err);
/* printf-style append in the C locale; a bad format is GQ_ERR_INVALID. */
int gq_sbuf_vprintf(gq_sbuf *b, gq_error *err, const char *fmt, va_list ap);
int gq_sbuf_printf(gq_sbuf *b, gq_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Hand the string over (an empty string when nothing was added); b is reset.
 * NULL on allocation failure (err filled; b unchanged). */
char *gq_sbuf_take(gq_sbuf *b, gq_error *err);
void gq_sbuf_free(gq_sbuf *b);

#endif
