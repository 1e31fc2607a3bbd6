/* ds_util.c — small shared pieces of datasets/: the row builder, UTF-8
 * checks of whole rows, typed field access whose messages name the file, line and
 * field, a line iterator and an element-at-a-time JSON array reader.
 * Tested through tests/test_datasets_local.c. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ds_internal.h"
#include "gq_alloc.h"
#include "gq_array.h"
#include "gq_utf8.h"
#include "json_util.h"

// ---- row builder ---------------------------------------------------------

int ds_builder_init(ds_rows_builder *b, gq_error *err)
{
    memset(b, 0, sizeof *b);
    b->arr = cJSON_CreateArray();
    if (!b->arr) return gq_error_set(err, GQ_ERR_NOMEM, "out of memory creating the row array");
    return GQ_OK;
}

int ds_builder_add(ds_rows_builder *b, cJSON *row, const char *where, gq_error *err)
{
    char *w = NULL;
    if (gq_array_reserve(&b->where, &b->cap, b->n + 1, sizeof *b->where, 256, "row locations", err) != GQ_OK)
        goto fail;
    w = gq_strdup(where, err);
    if (!w) goto fail;
    if (!cJSON_AddItemToArray(b->arr, row)) {
        gq_error_set(err, GQ_ERR_NOMEM, "out of memory adding row %zu", b->n);
        goto fail;
    }
    b->where[b->n++] = w;
    return GQ_OK;
fail:
    gq_free(w);
    cJSON_Delete(row);
    return err ? (int)err->status : GQ_ERR_NOMEM;
}

int ds_builder_finish(ds_rows_builder *b, gq_rows *out, const char *origin, gq_error *err)
{
    memset(out, 0, sizeof *out);
    char *o = gq_strdup(origin, err);
    if (!o) return GQ_ERR_NOMEM;
    out->rows = b->arr;
    out->where = b->where;
    out->n = b->n;
    out->origin = o;
    memset(b, 0, sizeof *b);
    return GQ_OK;
}

void ds_builder_free(ds_rows_builder *b)
{
    if (!b) return;
    for (size_t i = 0; i < b->n; i++) gq_free(b->where[i]);
    gq_free(b->where);
    cJSON_Delete(b->arr);
    memset(b, 0, sizeof *b);
}

// ---- UTF-8 -----------------------------------------------------------------

static int utf8_tree(const cJSON *item, const char *loc, char *path, size_t plen, size_t cap,
                     gq_error *err)
{
    if (cJSON_IsString(item)) {
        const char *s = item->valuestring ? item->valuestring : "";
        size_t n = strlen(s), bad = gq_utf8_valid_len(s, n);
        if (bad < n)
            return gq_error_set(err, GQ_ERR_FORMAT,
                                "%s: field '%s' is not valid UTF-8 (byte %zu of the string)", loc,
                                path, bad);
        return GQ_OK;
    }
    if (!cJSON_IsArray(item) && !cJSON_IsObject(item)) return GQ_OK;
    size_t idx = 0;
    for (const cJSON *c = item->child; c; c = c->next, idx++) {
        int w;
        if (cJSON_IsObject(item)) {
            const char *k = c->string ? c->string : "";
            size_t kn = strlen(k);
            if (gq_utf8_valid_len(k, kn) < kn)
                return gq_error_set(err, GQ_ERR_FORMAT, "%s: a key inside '%s' is not valid UTF-8",
                                    loc, plen ? path : "(row)");
            w = snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", k);
        } else {
            w = snprintf(path + plen, cap - plen, "[%zu]", idx);
        }
        size_t nl = plen + (w > 0 ? (size_t)w : 0);
        if (nl >= cap) nl = cap - 1;
        int rc = utf8_tree(c, loc, path, nl, cap, err);
        path[plen] = '\0';
        if (rc != GQ_OK) return rc;
    }
    return GQ_OK;
}

int ds_check_utf8_tree(const cJSON *item, const char *loc, const char *field, gq_error *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s", field ? field : "");
    return utf8_tree(item, loc, path, strlen(path), sizeof path, err);
}

// ---- typed fields ------------------------------------------------------------

const char *ds_type_name(const cJSON *v)
{
    if (!v) return "missing";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    return "of an unknown type";
}

static const char *want_name(int type)
{
    switch (type) {
    case cJSON_String: return "a string";
    case cJSON_Number: return "a number";
    case cJSON_Array: return "an array";
    case cJSON_Object: return "an object";
    default: return "a value";
    }
}

int ds_need(const cJSON *obj, const char *key, const char *field, int type, const char *loc,
            const cJSON **out, gq_error *err)
{
    const cJSON *v = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    if (out) *out = NULL;
    if (!v) return gq_error_set(err, GQ_ERR_INVALID, "%s: field '%s' missing", loc, field);
    if ((v->type & 0xFF) != type)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: field '%s' is %s, expected %s", loc, field,
                            ds_type_name(v), want_name(type));
    if (out) *out = v;
    return GQ_OK;
}

int ds_need_str_list(const cJSON *obj, const char *key, const char *field, size_t min_n,
                     size_t max_n, const char *loc, const cJSON **out, gq_error *err)
{
    const cJSON *a;
    int rc = ds_need(obj, key, field, cJSON_Array, loc, &a, err);
    if (rc != GQ_OK) return rc;
    size_t n = 0;
    for (const cJSON *c = a->child; c; c = c->next, n++) {
        if (!cJSON_IsString(c))
            return gq_error_set(err, GQ_ERR_INVALID, "%s: field '%s[%zu]' is %s, expected a string",
                                loc, field, n, ds_type_name(c));
    }
    if (n < min_n || n > max_n) {
        if (min_n == max_n)
            return gq_error_set(err, GQ_ERR_INVALID, "%s: field '%s' has %zu items, expected %zu",
                                loc, field, n, min_n);
        return gq_error_set(err, GQ_ERR_INVALID,
                            "%s: field '%s' has %zu items, expected %zu to %zu", loc, field, n,
                            min_n, max_n);
    }
    if (out) *out = a;
    return GQ_OK;
}

int ds_need_int(const cJSON *obj, const char *key, const char *field, long lo, long hi,
                const char *loc, long *out, gq_error *err)
{
    const cJSON *v;
    int rc = ds_need(obj, key, field, cJSON_Number, loc, &v, err);
    if (rc != GQ_OK) return rc;
    double d = v->valuedouble;
    if (!(d >= (double)lo && d <= (double)hi) || floor(d) != d)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: field '%s' is %g, expected an integer %ld..%ld",
                            loc, field, d, lo, hi);
    if (out) *out = (long)d;
    return GQ_OK;
}

// ---- constructors --------------------------------------------------------------

int ds_add_item(cJSON *obj, const char *key, cJSON *item, gq_error *err)
{
    if (!item || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        return gq_error_set(err, GQ_ERR_NOMEM, "out of memory building field '%s'", key);
    }
    return GQ_OK;
}

int ds_add_str(cJSON *obj, const char *key, const char *val, gq_error *err)
{
    return ds_add_item(obj, key, cJSON_CreateString(val), err);
}

int ds_add_num(cJSON *obj, const char *key, double val, gq_error *err)
{
    return ds_add_item(obj, key, cJSON_CreateNumber(val), err);
}

int ds_append_str(cJSON *arr, const char *val, gq_error *err)
{
    cJSON *s = cJSON_CreateString(val);
    if (!s || !cJSON_AddItemToArray(arr, s)) {
        cJSON_Delete(s);
        return gq_error_set(err, GQ_ERR_NOMEM, "out of memory building a list");
    }
    return GQ_OK;
}

// ---- lines -------------------------------------------------------------------------

void ds_lines_init(ds_lines *it, const char *data, size_t n)
{
    it->p = data;
    it->end = data ? data + n : NULL;
    it->lineno = 0;
}

int ds_lines_next(ds_lines *it, const char **line, size_t *len)
{
    if (!it->p || it->p >= it->end) return 0;
    const char *s = it->p;
    const char *nl = memchr(s, '\n', (size_t)(it->end - s));
    const char *e = nl ? nl : it->end;
    it->p = nl ? nl + 1 : it->end;
    if (e > s && e[-1] == '\r') e--;
    *line = s;
    *len = (size_t)(e - s);
    it->lineno++;
    return 1;
}

// ---- JSON array, element by element --------------------------------------------------

void ds_json_array_init(ds_json_array_iter *it, const char *text, size_t n, const char *path)
{
    it->text = text;
    it->p = text;
    it->end = text + n;
    it->path = path;
    it->lineno = 1;
    it->index = 0;
    it->state = 0;
}

/* Skip whitespace, counting lines. */
static void skip_ws(ds_json_array_iter *it)
{
    while (it->p < it->end &&
           (*it->p == ' ' || *it->p == '\t' || *it->p == '\r' || *it->p == '\n')) {
        if (*it->p == '\n') it->lineno++;
        it->p++;
    }
}

int ds_json_array_next(ds_json_array_iter *it, cJSON **elem, size_t *elem_line, gq_error *err)
{
    *elem = NULL;
    if (it->state == 2) return 0;
    if (it->state == 0) {
        if (it->p + 3 <= it->end && memcmp(it->p, "\xEF\xBB\xBF", 3) == 0) it->p += 3;
        skip_ws(it);
        if (it->p >= it->end)
            return gq_error_set(err, GQ_ERR_FORMAT, "%s: the file is empty (expected a JSON array of rows)",
                                it->path);
        if (*it->p != '[')
            return gq_error_set(err, GQ_ERR_FORMAT, "%s: line %zu: expected a JSON array of rows ('[')",
                                it->path, it->lineno);
        it->p++;
        skip_ws(it);
        if (it->p < it->end && *it->p == ']') {
            it->p++;
            it->state = 2;
            return 0;
        }
        it->state = 1;
    } else {
        skip_ws(it);
        if (it->p >= it->end)
            return gq_error_set(err, GQ_ERR_FORMAT,
                                "%s: line %zu: the JSON array ends after %zu rows without ']' (truncated file?)",
                                it->path, it->lineno, it->index);
        if (*it->p == ']') {
            it->p++;
            skip_ws(it);
            if (it->p != it->end)
                return gq_error_set(err, GQ_ERR_FORMAT, "%s: line %zu: text after the closing ']'",
                                    it->path, it->lineno);
            it->state = 2;
            return 0;
        }
        if (*it->p != ',')
            return gq_error_set(err, GQ_ERR_FORMAT, "%s: line %zu: expected ',' or ']' after row %zu",
                                it->path, it->lineno, it->index - 1);
        it->p++;
        skip_ws(it);
    }
    if (it->p >= it->end)
        return gq_error_set(err, GQ_ERR_FORMAT, "%s: line %zu: the JSON array is truncated after %zu rows",
                            it->path, it->lineno, it->index);
    const char *stop = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(it->p, (size_t)(it->end - it->p), &stop, 0);
    if (v && stop && (size_t)(stop - it->p) > DS_MAX_ROW_BYTES) {
        char loc[700];
        snprintf(loc, sizeof loc, "%s: line %zu (row %zu)", it->path, it->lineno, it->index);
        cJSON_Delete(v);
        return ds_check_row_size((size_t)(stop - it->p), loc, err);
    }
    if (!v) {
        size_t line = it->lineno;
        const char *q = it->p;
        if (stop && stop >= it->p && stop <= it->end)
            for (; q < stop; q++) line += (*q == '\n');
        return gq_error_set(err, GQ_ERR_FORMAT, "%s: line %zu: row %zu is not valid JSON (near line %zu)",
                            it->path, it->lineno, it->index, line);
    }
    *elem_line = it->lineno;
    for (const char *q = it->p; q < stop; q++) it->lineno += (*q == '\n');
    it->p = stop;
    it->index++;
    *elem = v;
    return 1;
}

int ds_check_row_size(size_t n, const char *loc, gq_error *err)
{
    if (n <= DS_MAX_ROW_BYTES) return GQ_OK;
    return gq_error_set(err, GQ_ERR_FORMAT,
                        "%s: the row is %zu bytes, more than the %zu KiB a dataset row may have (a broken file, or "
                        "not this dataset's format?)",
                        loc, n, DS_MAX_ROW_BYTES >> 10);
}
