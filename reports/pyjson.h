/* pyjson.h — a JSON text writer whose output is byte-for-byte what Python's
 * json.dumps(obj, ensure_ascii=False) writes, in the two forms the
 * lm-evaluation-harness files use:
 *
 *   indent = 2   json.dumps(obj, indent=2, ensure_ascii=False)
 *                items end with "," + newline, "key": value, empty {} and []
 *                stay on one line, no trailing newline (results_*.json,
 *                the text hashed into doc_hash)
 *   indent < 0   json.dumps(obj, ensure_ascii=False): one line, ", " between
 *                items, ": " after keys (one line of samples_*.jsonl)
 *
 * Strings: '"' '\\' '\n' '\r' '\t' '\b' '\f' get their short escapes, other
 * bytes below 0x20 are written \u00xx (lowercase hex, as Python); everything
 * else, DEL, U+2028/2029 and all non-ASCII included, is copied raw.  Bytes are
 * not checked for UTF-8 validity (a Python str cannot hold invalid UTF-8, so
 * there is no Python behaviour to follow): they are copied as they are.
 *
 * Floats: Python repr — the shortest digit string that reads back to the same
 * double (nearest to the value among equally short ones), plain notation for
 * decimal exponents -4..15 with ".0" on integral values, otherwise d.ddde±XX
 * (at least two exponent digits: 1e-05, 1.5e+16, 5e-324); json spells the
 * non-finite values NaN, Infinity, -Infinity.
 *
 * Error contract (curl dynbuf style): the writer calls never fail visibly;
 * the first failure (out of memory, nesting deeper than GQ_PYJSON_MAX_DEPTH,
 * a key outside an object, an unsupported cJSON node) is remembered and every
 * later call does nothing.  gq_pyjson_finish reports it.  Structural misuse
 * that would produce invalid JSON is reported there, not asserted.
 *
 * Not a parser, not a general serializer: callers write keys in the order
 * they want them (Python dicts keep insertion order; sorting, where lm-eval
 * sorts, is the caller's job).
 * Tests: tests/test_reports.c against tests/fixtures/reports/ (made by
 * tests/reference/make_report_fixtures.py).
 */
#ifndef GQ_PYJSON_H
#define GQ_PYJSON_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include "gq_error.h"
#include "gq_sbuf.h"

#define GQ_PYJSON_MAX_DEPTH 64

typedef struct gq_pyjson {
    gq_sbuf out;               /* output so far */
    int indent;                /* 2 (or any n >= 0) = indented form, < 0 = one line */
    int depth;                 /* open containers */
    unsigned char is_object[GQ_PYJSON_MAX_DEPTH];
    unsigned char has_items[GQ_PYJSON_MAX_DEPTH];
    int after_key;             /* a key was written, its value comes next */
    gq_error err;              /* first failure; err.status == GQ_OK while none */
} gq_pyjson;

/* Start an empty writer (no allocation yet). */
void gq_pyjson_init(gq_pyjson *w, int indent);
/* Release the buffer; safe on a writer already finished or never used. */
void gq_pyjson_free(gq_pyjson *w);
/* Hand the text to the caller: *out is a NUL-terminated heap string (free
 * with gq_free), *len its length.  Fails with the first remembered error, or
 * GQ_ERR_INVALID when containers are still open or nothing was written; on
 * failure *out is NULL.  Either way the writer is left empty (as after init). */
int gq_pyjson_finish(gq_pyjson *w, char **out, size_t *len, gq_error *err);

void gq_pyjson_begin_object(gq_pyjson *w);
void gq_pyjson_end_object(gq_pyjson *w);
void gq_pyjson_begin_array(gq_pyjson *w);
void gq_pyjson_end_array(gq_pyjson *w);
/* A key inside an object; the next call writes its value. */
void gq_pyjson_key(gq_pyjson *w, const char *key);
void gq_pyjson_string(gq_pyjson *w, const char *s);           /* NULL writes null */
void gq_pyjson_string_n(gq_pyjson *w, const char *s, size_t n);
void gq_pyjson_double(gq_pyjson *w, double v);                /* Python float */
void gq_pyjson_int(gq_pyjson *w, int64_t v);                  /* Python int */
void gq_pyjson_bool(gq_pyjson *w, int v);
void gq_pyjson_null(gq_pyjson *w);
/* A key and its value in one call (an object member), as key then value. */
void gq_pyjson_kv_string(gq_pyjson *w, const char *key, const char *s);
void gq_pyjson_kv_double(gq_pyjson *w, const char *key, double v);
void gq_pyjson_kv_int(gq_pyjson *w, const char *key, int64_t v);
void gq_pyjson_kv_bool(gq_pyjson *w, const char *key, int v);
void gq_pyjson_kv_null(gq_pyjson *w, const char *key);
/* A cJSON tree as json.dumps would write the dict/list Python parsed from
 * the same text.  cJSON keeps no int/float distinction: a number that is
 * integral and within ±2^53 is written as an int ("3"), any other as a float
 * (the rows of our datasets hold only ints).  Raw nodes are copied verbatim. */
void gq_pyjson_cjson(gq_pyjson *w, const cJSON *item);

/* Python repr(v) / str(v) of a float into out (at most 32 bytes with the
 * NUL): "0.1", "1e-05", "-0.0", "1.0", "nan", "inf", "-inf".  Returns the
 * length. */
int gq_py_float_repr(double v, char out[32]);

#endif
