/* doc.c — documents and the helpers every task file shares: UTF-8
 * decoding as the tasks count it, Python's str.isspace/strip, typed row access with
 * errors that name the row and the field, and gq_build_doc, which turns
 * lm-eval's per-row view (gq_qa) into a scored document exactly as
 * ConfigurableTask.fewshot_context + construct_requests do
 * (tasks.md §2.2-2.3):
 *
 *   context  = description + shots + Q(d)            (normal tasks)
 *   request i = (context, " " + choice_i)
 *   multiple input (WinoGrande): request i = (description + shots + choice_i, " " + suffix)
 *
 * Not here: the few-shot draw (fewshot.c), the metrics (metrics.c).
 * Tested by tests/test_tasks.c against lm-eval-generated strings.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gq_alloc.h"
#include "gq_utf8.h"
#include "task_internal.h"

/* ------------------------------------------------------------------------ */
/* UTF-8 and Python str semantics */

uint32_t gq_task_utf8_decode(const char *s, size_t n, size_t *len)
{
    int32_t c = gq_utf8_next(s, n, len);
    if (c >= 0) return (uint32_t)c;
    *len = 1;
    return (unsigned char)s[0];
}

size_t gq_utf8_codepoints(const char *s)
{
    size_t n = 0, len = strlen(s);
    for (size_t i = 0; i < len;) {
        size_t l;
        gq_task_utf8_decode(s + i, len - i, &l);
        i += l;
        n++;
    }
    return n;
}

int gq_py_isspace(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

char *gq_py_strip(const char *s, int left, int right, gq_error *err)
{
    size_t len = strlen(s), b = 0, e = len;
    if (left) {
        while (b < len) {
            size_t l;
            uint32_t c = gq_task_utf8_decode(s + b, len - b, &l);
            if (!gq_py_isspace(c))
                break;
            b += l;
        }
    }
    if (right) {
        /* walk forward remembering where the trailing run of spaces starts */
        size_t i = b, run = len;
        int in_run = 0;
        while (i < len) {
            size_t l;
            uint32_t c = gq_task_utf8_decode(s + i, len - i, &l);
            if (gq_py_isspace(c)) {
                if (!in_run)
                    run = i, in_run = 1;
            } else {
                in_run = 0;
            }
            i += l;
        }
        e = in_run ? run : len;
    }
    char *out = gq_malloc(e - b + 1, "stripped string", err);
    if (!out)
        return NULL;
    memcpy(out, s + b, e - b);
    out[e - b] = '\0';
    return out;
}

/* ------------------------------------------------------------------------ */
/* typed row access */

static const char *json_type_name(const cJSON *v)
{
    if (!v)
        return "missing";
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsNull(v))
        return "null";
    if (cJSON_IsArray(v))
        return "an array";
    if (cJSON_IsObject(v))
        return "an object";
    return "invalid";
}

int gq_row_str(const cJSON *row, const char *field, const char *where, const char **out,
               gq_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, field);
    if (!cJSON_IsString(v) || !v->valuestring)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: field \"%s\": expected a string, found %s",
                            where, field, json_type_name(v));
    *out = v->valuestring;
    return GQ_OK;
}

int gq_row_str_list(const cJSON *obj, const char *field, const char *name, const char *where,
                    const char ***out, int *n, gq_error *err)
{
    if (!name)
        name = field;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(v))
        return gq_error_set(err, GQ_ERR_INVALID, "%s: field \"%s\": expected a list of strings, found %s",
                            where, name, json_type_name(v));
    int count = cJSON_GetArraySize(v);
    const char **list = gq_calloc(count ? (size_t)count : 1, sizeof *list, "choice list", err);
    if (!list)
        return GQ_ERR_NOMEM;
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
        if (!cJSON_IsString(it) || !it->valuestring) {
            gq_free(list);
            return gq_error_set(err, GQ_ERR_INVALID, "%s: field \"%s\"[%d]: expected a string, found %s",
                                where, name, i, json_type_name(it));
        }
        list[i++] = it->valuestring;
    }
    *out = list;
    *n = count;
    return GQ_OK;
}

int gq_row_index(const cJSON *row, const char *field, const char *where, int n, int *out,
                 gq_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, field);
    long long x = -1;
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (!(d >= 0 && d <= INT_MAX) || d != (double)(long long)d)
            return gq_error_set(err, GQ_ERR_INVALID, "%s: field \"%s\": expected an index in 0..%d, found %g",
                                where, field, n - 1, d);
        x = (long long)d;
    } else if (cJSON_IsString(v) && v->valuestring) {
        const char *s = v->valuestring;
        if (!*s || strlen(s) > 9 || strspn(s, "0123456789") != strlen(s))
            return gq_error_set(err, GQ_ERR_INVALID,
                                "%s: field \"%s\": expected an index in 0..%d, found \"%.40s\"", where,
                                field, n - 1, s);
        x = atoll(s);
    } else {
        return gq_error_set(err, GQ_ERR_INVALID, "%s: field \"%s\": expected an integer label, found %s",
                            where, field, json_type_name(v));
    }
    if (x >= n)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: field \"%s\": label %lld is out of range 0..%d",
                            where, field, x, n - 1);
    *out = (int)x;
    return GQ_OK;
}

/* ------------------------------------------------------------------------ */
/* documents */

void gq_qa_free(gq_qa *qa)
{
    if (!qa)
        return;
    gq_free(qa->q);
    if (qa->choices)
        for (int i = 0; i < qa->n_choices; i++)
            gq_free(qa->choices[i]);
    gq_free(qa->choices);
    gq_free(qa->suffix);
    cJSON_Delete(qa->doc);
    memset(qa, 0, sizeof *qa);
}

void gq_doc_free(gq_doc *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->n_req; i++) {
        if (d->context)
            gq_free(d->context[i]);
        if (d->continuation)
            gq_free(d->continuation[i]);
        if (d->choice)
            gq_free(d->choice[i]);
    }
    gq_free(d->context);
    gq_free(d->continuation);
    gq_free(d->choice);
    gq_free(d->target);
    cJSON_Delete(d->doc);
    memset(d, 0, sizeof *d);
}

static char *concat2(const char *a, size_t na, const char *b, gq_error *err)
{
    size_t nb = strlen(b);
    char *s = gq_malloc(na + nb + 1, "request string", err);
    if (!s)
        return NULL;
    memcpy(s, a, na);
    memcpy(s + na, b, nb + 1);
    return s;
}

int gq_build_doc(gq_qa_fn fn, gq_fewshot_kind kind, const char *description, const cJSON *row,
                 const char *where, int doc_id, const cJSON *pool, int k, gq_rng *rng,
                 gq_doc *out, gq_error *err)
{
    gq_qa qa = {0};
    gq_sbuf prefix = {0};
    int rc;

    memset(out, 0, sizeof *out);
    rc = fn(row, where, 1, &qa, err);
    if (rc != GQ_OK)
        goto fail;
    if (description && (rc = gq_sbuf_add(&prefix, description, err)) != GQ_OK)
        goto fail;
    if (k > 0 && (rc = gq_fewshot_append(fn, kind, row, where, pool, k, rng, &prefix, err)) != GQ_OK)
        goto fail;
    if ((rc = gq_sbuf_addn(&prefix, "", 0, err)) != GQ_OK) /* make prefix.p non-NULL */
        goto fail;

    out->doc_id = doc_id;
    out->n_req = qa.n_choices;
    out->gold = qa.gold;
    out->context = gq_calloc((size_t)qa.n_choices, sizeof *out->context, "contexts", err);
    out->continuation = gq_calloc((size_t)qa.n_choices, sizeof *out->continuation, "continuations", err);
    out->choice = gq_calloc((size_t)qa.n_choices, sizeof *out->choice, "choices", err);
    if (!out->context || !out->continuation || !out->choice) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    char *q_ctx = NULL;
    if (!qa.suffix) {
        q_ctx = concat2(prefix.p, prefix.n, qa.q, err);
        if (!q_ctx) {
            rc = GQ_ERR_NOMEM;
            goto fail;
        }
    }
    for (int i = 0; i < qa.n_choices; i++) {
        if (qa.suffix) {
            /* multiple input: the option fills the context, the suffix is scored */
            out->context[i] = concat2(prefix.p, prefix.n, qa.choices[i], err);
            out->continuation[i] = concat2(" ", 1, qa.suffix, err);
        } else {
            out->context[i] = i == 0 ? q_ctx : gq_strdup(q_ctx, err);
            out->continuation[i] = concat2(" ", 1, qa.choices[i], err);
        }
        out->choice[i] = gq_strdup(qa.choices[i], err);
        if (!out->context[i] || !out->continuation[i] || !out->choice[i]) {
            if (i == 0 && !out->context[0])
                gq_free(q_ctx);
            rc = GQ_ERR_NOMEM;
            goto fail;
        }
    }
    if (qa.n_choices == 0)
        gq_free(q_ctx);
    if (qa.suffix) {
        out->target = qa.suffix;
        qa.suffix = NULL;
    } else {
        char num[16];
        snprintf(num, sizeof num, "%d", qa.gold);
        out->target = gq_strdup(num, err);
        if (!out->target) {
            rc = GQ_ERR_NOMEM;
            goto fail;
        }
    }
    out->doc = qa.doc;
    qa.doc = NULL;
    gq_qa_free(&qa);
    gq_sbuf_free(&prefix);
    return GQ_OK;

fail:
    gq_qa_free(&qa);
    gq_sbuf_free(&prefix);
    gq_doc_free(out);
    return rc;
}
