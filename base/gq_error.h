/* gq_error.h — the one error type of gqla-eval.
 *
 * Every fallible call returns GQ_OK (0) or a negative gq_status and, when the
 * caller passed a gq_error, fills it with a message that names the file, the
 * place (offset, row, key) and what was expected.  The CLI prints the message
 * and exits 2.  Nothing in engine/, datasets/, tasks/ or reports/ aborts or
 * exits on bad input; bugs use GQ_ASSERT (abort tier, kept under NDEBUG).
 */
#ifndef GQ_ERROR_H
#define GQ_ERROR_H

#include <stddef.h>

typedef enum {
    GQ_OK = 0,
    GQ_ERR_IO = -1,          /* open/read/mmap/write failed */
    GQ_ERR_FORMAT = -2,      /* the file's bytes are not what its format says */
    GQ_ERR_INVALID = -3,     /* well-formed but unusable (bad value, missing key) */
    GQ_ERR_UNSUPPORTED = -4, /* valid, but this build does not handle it */
    GQ_ERR_NOMEM = -5,
    GQ_ERR_USAGE = -6,       /* bad command-line or API arguments */
    GQ_ERR_NETWORK = -7,
    GQ_ERR_DEVICE = -8
} gq_status;

typedef struct gq_error {
    gq_status status;
    char msg[1024];
} gq_error;

const char *gq_strerror(gq_status status);

/* Fill err (may be NULL) with a printf-style message; returns status so a
 * caller can write `return gq_error_set(err, GQ_ERR_FORMAT, "...")`. */
int gq_error_set(gq_error *err, gq_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Prefix an existing message with more context ("model.safetensors: ..."). */
void gq_error_prefix(gq_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

void gq_error_clear(gq_error *err);

/* Abort tier: a broken invariant inside our own code, never bad input. */
void gq_abort(const char *what, const char *file, int line);
#define GQ_ASSERT(cond) do { if (!(cond)) gq_abort(#cond, __FILE__, __LINE__); } while (0)

#endif
