/* json_util.c — cJSON parsing with "file: not valid JSON near line L, column C". */
#include "json_util.h"

#include <string.h>

#include "fileio.h"
#include "gq_alloc.h"

int gq_json_parse(cJSON **out, const char *text, size_t len, const char *what, gq_error *err)
{
    const char *end = NULL;
    *out = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (*out) return GQ_OK;
    /* cJSON reports where it stopped; turn that into line and column. */
    size_t pos = (end && end >= text && end <= text + len) ? (size_t)(end - text) : 0;
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos; i++) {
        if (text[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    if (len == 0)
        return gq_error_set(err, GQ_ERR_FORMAT, "%s: not valid JSON: the file is empty", what);
    /* cJSON refuses nesting deeper than CJSON_NESTING_LIMIT (no stack
     * overflow on a hostile file); say so rather than "not valid". */
    size_t depth = 0;
    int in_str = 0;
    for (size_t i = 0; i < pos; i++) {
        char ch = text[i];
        if (in_str) {
            if (ch == '\\') i++;
            else if (ch == '"') in_str = 0;
        } else if (ch == '"') {
            in_str = 1;
        } else if (ch == '[' || ch == '{') {
            depth++;
        } else if ((ch == ']' || ch == '}') && depth) {
            depth--;
        }
    }
    if (depth >= CJSON_NESTING_LIMIT)
        return gq_error_set(err, GQ_ERR_FORMAT,
                            "%s: JSON nested deeper than %d levels at line %zu, column %zu (byte %zu); refused", what,
                            CJSON_NESTING_LIMIT, line, col, pos);
    return gq_error_set(err, GQ_ERR_FORMAT,
                        "%s: not valid JSON near line %zu, column %zu (byte %zu of %zu)", what,
                        line, col, pos, len);
}

int gq_json_load_file(cJSON **out, const char *path, gq_error *err)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = gq_file_read_all(path, &text, &len, err);
    if (rc != GQ_OK) return rc;
    rc = gq_json_parse(out, text, len, path, err);
    gq_free(text);
    return rc;
}

const char *gq_json_kind(const cJSON *v)
{
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    return "an unknown value";
}

const char *gq_json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int gq_json_bool(const cJSON *o, const char *key, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}
