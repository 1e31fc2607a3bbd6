/* gq_error.c — message formatting for gq_error (see gq_error.h). */
#define _POSIX_C_SOURCE 200809L
#include "gq_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *gq_strerror(gq_status status)
{
    switch (status) {
    case GQ_OK: return "ok";
    case GQ_ERR_IO: return "i/o error";
    case GQ_ERR_FORMAT: return "malformed file";
    case GQ_ERR_INVALID: return "invalid value";
    case GQ_ERR_UNSUPPORTED: return "unsupported";
    case GQ_ERR_NOMEM: return "out of memory";
    case GQ_ERR_USAGE: return "usage error";
    case GQ_ERR_NETWORK: return "network error";
    case GQ_ERR_DEVICE: return "device error";
    }
    return "unknown error";
}

int gq_error_set(gq_error *err, gq_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return (int)status;
}

void gq_error_prefix(gq_error *err, const char *fmt, ...)
{
    if (!err) return;
    char head[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    /* Build head + old message by hand: truncation is fine here. */
    char old[sizeof err->msg];
    memcpy(old, err->msg, sizeof old);
    size_t h = strlen(head), o = strnlen(old, sizeof old - 1);
    if (h > sizeof err->msg - 1) h = sizeof err->msg - 1;
    if (o > sizeof err->msg - 1 - h) o = sizeof err->msg - 1 - h;
    memcpy(err->msg, head, h);
    memcpy(err->msg + h, old, o);
    err->msg[h + o] = '\0';
}

void gq_error_clear(gq_error *err)
{
    if (!err) return;
    err->status = GQ_OK;
    err->msg[0] = '\0';
}

void gq_abort(const char *what, const char *file, int line)
{
    fprintf(stderr, "gqla-eval: internal error: %s failed at %s:%d\n", what, file, line);
    abort();
}
