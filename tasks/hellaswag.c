/* hellaswag.c — hellaswag (tasks.md §3.4), lm-eval's hellaswag.yaml with
 * utils.process_docs:
 *
 *   query   = clean(activity_label + ": " + ctx_a + " " + ctx_b.capitalize())
 *   choices = [clean(e) for e in endings]
 *   gold    = int(label)
 *   doc_to_text query; doc_to_choice choices; doc_to_target label
 *   metrics acc, acc_norm; few-shot pool: train, random sampler that draws
 *   k+1 and drops the evaluated row
 *
 * clean(text) is lm-eval's preprocess(): Python str.strip() (Unicode
 * whitespace), " [title]" -> ". ", deletion of every match of the regex
 * \[.*?\] (shortest match, `.` not matching "\n", left to right,
 * non-overlapping), then one left-to-right pass replacing "  " by " ".
 * capitalize() is Python's (unicase.c: full Unicode title/lower mappings).
 * Because the strip comes first, a query or an ending can keep a trailing
 * or leading space; that is what lm-eval scores, so it is kept.
 *
 * Two row shapes are accepted:
 *   * original/HF fields (Rowan/hellaswag): activity_label, ctx_a, ctx_b,
 *     endings, label (integer or digit string).  The logged doc is the row
 *     plus the query, choices and gold columns process_docs adds.
 *   * {"preprocessed": true, "query", "endings", "label"}: llama.cpp's
 *     hellaswag_val_full.txt, whose text was already cleaned (differently:
 *     ctx_b's case and some brackets differ from lm-eval, see
 *     shared/datasets/SOURCES.md).  Taken as it is: context = query,
 *     choices = endings, no cleaning; the logged doc is the row plus
 *     choices and gold.  Scores from it are close to, not identical with,
 *     lm-eval's.
 * Tested by tests/test_tasks.c (clean() edge cases against lm-eval).
 */
#include <string.h>

#include "gq_alloc.h"
#include "task_internal.h"

/* ------------------------------------------------------------------------ */
/* clean() */

static char *replace_all(const char *s, const char *from, const char *to, gq_error *err)
{
    gq_sbuf b = {0};
    size_t nf = strlen(from);
    const char *p = s, *hit;
    while ((hit = strstr(p, from)) != NULL) {
        if (gq_sbuf_addn(&b, p, (size_t)(hit - p), err) != GQ_OK || gq_sbuf_add(&b, to, err) != GQ_OK)
            goto fail;
        p = hit + nf;
    }
    if (gq_sbuf_add(&b, p, err) != GQ_OK)
        goto fail;
    return gq_sbuf_take(&b, err);
fail:
    gq_sbuf_free(&b);
    return NULL;
}

/* re.sub(r"\[.*?\]", "", s); byte-wise is exact: '[', ']' and '\n' are
 * ASCII and never occur inside a UTF-8 multi-byte sequence. */
static char *drop_brackets(const char *s, gq_error *err)
{
    gq_sbuf b = {0};
    size_t i = 0, n = strlen(s);
    while (i < n) {
        if (s[i] == '[') {
            size_t j = i + 1;
            while (j < n && s[j] != ']' && s[j] != '\n')
                j++;
            if (j < n && s[j] == ']') {
                i = j + 1;
                continue;
            }
        }
        if (gq_sbuf_addn(&b, s + i, 1, err) != GQ_OK)
            goto fail;
        i++;
    }
    return gq_sbuf_take(&b, err);
fail:
    gq_sbuf_free(&b);
    return NULL;
}

char *gq_hellaswag_clean(const char *text, gq_error *err)
{
    char *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    if (!(a = gq_py_strip(text, 1, 1, err)) || !(b = replace_all(a, " [title]", ". ", err)) ||
        !(c = drop_brackets(b, err)))
        goto done;
    d = replace_all(c, "  ", " ", err);
done:
    gq_free(a);
    gq_free(b);
    gq_free(c);
    return d;
}

/* ------------------------------------------------------------------------ */
/* rows */

/* obj[key] = item, in place when the column exists (datasets.map keeps the
 * column's position), appended otherwise.  Takes item. */
static int set_column(cJSON *obj, const char *key, cJSON *item, const char *where, gq_error *err)
{
    if (!item)
        return gq_error_set(err, GQ_ERR_NOMEM, "%s: out of memory building the doc", where);
    cJSON_bool ok = cJSON_HasObjectItem(obj, key) ? cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item)
                                                   : cJSON_AddItemToObject(obj, key, item);
    if (!ok) {
        cJSON_Delete(item);
        return gq_error_set(err, GQ_ERR_NOMEM, "%s: out of memory building the doc", where);
    }
    return GQ_OK;
}

static int hellaswag_qa(const cJSON *row, const char *where, int want_doc, gq_qa *qa, gq_error *err)
{
    const char **endings = NULL;
    int n_end = 0, rc;
    int pre = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "preprocessed"));
    gq_sbuf raw = {0};

    memset(qa, 0, sizeof *qa);
    if ((rc = gq_row_str_list(row, "endings", NULL, where, &endings, &n_end, err)) != GQ_OK)
        goto fail;
    if (n_end == 0) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: field \"endings\": empty choice list", where);
        goto fail;
    }
    if ((rc = gq_row_index(row, "label", where, n_end, &qa->gold, err)) != GQ_OK)
        goto fail;
    if (!(qa->choices = gq_calloc((size_t)n_end, sizeof *qa->choices, "choices", err))) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    qa->n_choices = n_end;
    if (pre) {
        const char *query;
        if ((rc = gq_row_str(row, "query", where, &query, err)) != GQ_OK)
            goto fail;
        if (!(qa->q = gq_strdup(query, err))) {
            rc = GQ_ERR_NOMEM;
            goto fail;
        }
        for (int i = 0; i < n_end; i++)
            if (!(qa->choices[i] = gq_strdup(endings[i], err))) {
                rc = GQ_ERR_NOMEM;
                goto fail;
            }
    } else {
        const char *label, *ctx_a, *ctx_b;
        if ((rc = gq_row_str(row, "activity_label", where, &label, err)) != GQ_OK ||
            (rc = gq_row_str(row, "ctx_a", where, &ctx_a, err)) != GQ_OK ||
            (rc = gq_row_str(row, "ctx_b", where, &ctx_b, err)) != GQ_OK)
            goto fail;
        if ((rc = gq_sbuf_add(&raw, label, err)) != GQ_OK || (rc = gq_sbuf_add(&raw, ": ", err)) != GQ_OK ||
            (rc = gq_sbuf_add(&raw, ctx_a, err)) != GQ_OK || (rc = gq_sbuf_add(&raw, " ", err)) != GQ_OK ||
            (rc = gq_py_capitalize(ctx_b, &raw, err)) != GQ_OK)
            goto fail;
        if (!(qa->q = gq_hellaswag_clean(raw.p, err))) {
            rc = GQ_ERR_NOMEM;
            goto fail;
        }
        for (int i = 0; i < n_end; i++)
            if (!(qa->choices[i] = gq_hellaswag_clean(endings[i], err))) {
                rc = GQ_ERR_NOMEM;
                goto fail;
            }
    }
    if (want_doc) {
        if (!(qa->doc = cJSON_Duplicate(row, 1))) {
            rc = gq_error_set(err, GQ_ERR_NOMEM, "%s: out of memory copying the row", where);
            goto fail;
        }
        if (!pre && (rc = set_column(qa->doc, "query", cJSON_CreateString(qa->q), where, err)) != GQ_OK)
            goto fail;
        if ((rc = set_column(qa->doc, "choices",
                             cJSON_CreateStringArray((const char *const *)qa->choices, qa->n_choices), where,
                             err)) != GQ_OK ||
            (rc = set_column(qa->doc, "gold", cJSON_CreateNumber(qa->gold), where, err)) != GQ_OK)
            goto fail;
    }
    gq_free(endings);
    gq_sbuf_free(&raw);
    return GQ_OK;
fail:
    gq_free(endings);
    gq_sbuf_free(&raw);
    gq_qa_free(qa);
    return rc;
}

static int hellaswag_make_doc(const gq_task *t, const cJSON *row, const char *where, int doc_id,
                              const cJSON *pool, int k, gq_rng *rng, gq_doc *out, gq_error *err)
{
    (void)t;
    return gq_build_doc(hellaswag_qa, GQ_FEWSHOT_RANDOM_EXCL, NULL, row, where, doc_id, pool, k, rng, out,
                        err);
}

const gq_task gq_task_hellaswag = {
    .name = "hellaswag",
    .alias = "hellaswag",
    .eval = {"Rowan/hellaswag", NULL, "validation"},
    .fewshot = {"Rowan/hellaswag", NULL, "train"},
    .has_acc_norm = 1,
    .version = "1.0",
    .group = NULL,
    .make_doc = hellaswag_make_doc,
};
