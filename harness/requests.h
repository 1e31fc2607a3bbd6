/* requests.h — turning a task's (context, continuation) strings into token
 * ids exactly as lm-evaluation-harness's _encode_pair (tasks.md §2.4):
 * trailing whitespace of the context moves to the continuation; the
 * continuation's ids are the tail of encode(context + continuation) after
 * len(encode(context)) ids; BOS per the --add-bos policy. */
#ifndef GQ_REQUESTS_H
#define GQ_REQUESTS_H

#include "gq_error.h"
#include "model.h"

typedef enum {
    GQ_ADD_BOS_AUTO = 0,   /* the tokenizer's default (lm-eval >= 0.4.9.2) */
    GQ_ADD_BOS_ON,         /* always a BOS first */
    GQ_ADD_BOS_OFF         /* never special tokens (lm-eval <= 0.4.9.1) */
} gq_add_bos;

const char *gq_add_bos_name(gq_add_bos b);
int gq_add_bos_parse(const char *s, gq_add_bos *out);

/* Encode one pair; ctx and cont are cleared first and own the ids. */
int gq_encode_pair(const gq_model *m, const char *context, const char *continuation, gq_add_bos bos,
                   gq_tokens *ctx, gq_tokens *cont, gq_error *err);

/* Number of bytes at the end of s (a UTF-8 string of length len) that
 * Python's str.rstrip() would remove. */
size_t gq_py_rstrip_len(const char *s, size_t len);

#endif
