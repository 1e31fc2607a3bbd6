/* json_util.h — cJSON with error messages that name the file and place. */
#ifndef GQ_JSON_UTIL_H
#define GQ_JSON_UTIL_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include "gq_error.h"

/* Parse a whole file; on bad JSON the message says "<path>: not valid JSON
 * near line L, column C".  Caller frees with cJSON_Delete. */
int gq_json_load_file(cJSON **out, const char *path, gq_error *err);
/* Same for a buffer already in memory; `what` names it in messages. */
int gq_json_parse(cJSON **out, const char *text, size_t len, const char *what, gq_error *err);
/* What a JSON value is, for "expected X, found Y" messages: "null",
 * "a boolean", "a number", "a string", "an array", "an object". */
const char *gq_json_kind(const cJSON *v);
/* o[key] when it is a string, else NULL. */
const char *gq_json_str(const cJSON *o, const char *key);
/* o[key] when it is a boolean, else dflt (absent or null). */
int gq_json_bool(const cJSON *o, const char *key, int dflt);

#endif
