/* winogrande.c — winogrande (tasks.md §3.5), lm-eval's default.yaml with
 * preprocess_winogrande.py; a "multiple input" task (§2.3):
 *
 *   i             = sentence.index("_")
 *   doc_to_text   {"1": 0, "2": 1}[answer]               (the gold index)
 *   doc_to_choice [sentence[:i] + option1, sentence[:i] + option2]
 *                 (per-option contexts; nothing added or stripped)
 *   doc_to_target sentence[i+1:].strip()                 (shared continuation)
 *   requests      (shots + context_k, " " + target), k = 0, 1
 *   metrics       acc only; few-shot pool: train, random sampler that draws
 *                 k+1 and drops the evaluated row; a shot is
 *                 context_gold + " " + target + "\n\n"
 *
 * Rows are HF-shaped (allenai/winogrande, winogrande_xl): sentence,
 * option1, option2, answer ("1"/"2"; the JSON integers 1/2 are accepted
 * too).  A sentence without "_" (lm-eval raises ValueError) or another
 * answer fails with GQ_ERR_INVALID.  The logged target is the suffix.
 * Tested by tests/test_tasks.c.
 */
#include <string.h>

#include "gq_alloc.h"
#include "task_internal.h"

static int wg_qa(const cJSON *row, const char *where, int want_doc, gq_qa *qa, gq_error *err)
{
    const char *sentence, *opt[2];
    const cJSON *ans = cJSON_GetObjectItemCaseSensitive(row, "answer");
    int rc;

    memset(qa, 0, sizeof *qa);
    if ((rc = gq_row_str(row, "sentence", where, &sentence, err)) != GQ_OK ||
        (rc = gq_row_str(row, "option1", where, &opt[0], err)) != GQ_OK ||
        (rc = gq_row_str(row, "option2", where, &opt[1], err)) != GQ_OK)
        goto fail;
    if (cJSON_IsString(ans) && ans->valuestring && (!strcmp(ans->valuestring, "1") || !strcmp(ans->valuestring, "2")))
        qa->gold = ans->valuestring[0] - '1';
    else if (cJSON_IsNumber(ans) && (ans->valuedouble == 1 || ans->valuedouble == 2))
        qa->gold = (int)ans->valuedouble - 1;
    else {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: field \"answer\": expected \"1\" or \"2\"", where);
        goto fail;
    }
    const char *blank = strchr(sentence, '_');
    if (!blank) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: field \"sentence\": no \"_\" blank to fill", where);
        goto fail;
    }
    size_t pre = (size_t)(blank - sentence);
    if (!(qa->choices = gq_calloc(2, sizeof *qa->choices, "choices", err))) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    qa->n_choices = 2;
    for (int i = 0; i < 2; i++) {
        size_t no = strlen(opt[i]);
        if (!(qa->choices[i] = gq_malloc(pre + no + 1, "option context", err))) {
            rc = GQ_ERR_NOMEM;
            goto fail;
        }
        memcpy(qa->choices[i], sentence, pre);
        memcpy(qa->choices[i] + pre, opt[i], no + 1);
    }
    if (!(qa->suffix = gq_py_strip(blank + 1, 1, 1, err))) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    if (want_doc && !(qa->doc = cJSON_Duplicate(row, 1))) {
        rc = gq_error_set(err, GQ_ERR_NOMEM, "%s: out of memory copying the row", where);
        goto fail;
    }
    return GQ_OK;
fail:
    gq_qa_free(qa);
    return rc;
}

static int wg_make_doc(const gq_task *t, const cJSON *row, const char *where, int doc_id,
                       const cJSON *pool, int k, gq_rng *rng, gq_doc *out, gq_error *err)
{
    (void)t;
    return gq_build_doc(wg_qa, GQ_FEWSHOT_RANDOM_EXCL, NULL, row, where, doc_id, pool, k, rng, out, err);
}

const gq_task gq_task_winogrande = {
    .name = "winogrande",
    .alias = "winogrande",
    .eval = {"allenai/winogrande", "winogrande_xl", "validation"},
    .fewshot = {"allenai/winogrande", "winogrande_xl", "train"},
    .has_acc_norm = 0,
    .version = "1.0",
    .group = NULL,
    .make_doc = wg_make_doc,
};
