/* openbookqa.c — openbookqa (tasks.md §3.3), lm-eval's openbookqa.yaml:
 *
 *   doc_to_text   question_stem, verbatim (no "Question:"/"Answer:")
 *   doc_to_choice choices.text
 *   doc_to_target choices.label.index(answerKey.lstrip())
 *   metrics       acc, acc_norm; few-shot pool: train, random sampler
 *
 * Rows are HF-shaped (allenai/openbookqa, config main): id, question_stem,
 * choices {text, label}, answerKey.  Bad rows fail as for ARC.
 * Tested by tests/test_tasks.c.
 */
#include <string.h>

#include "gq_alloc.h"
#include "task_internal.h"

static int obqa_qa(const cJSON *row, const char *where, int want_doc, gq_qa *qa, gq_error *err)
{
    const char *stem, *key;
    char *key_l = NULL;
    int rc;

    memset(qa, 0, sizeof *qa);
    if ((rc = gq_row_str(row, "question_stem", where, &stem, err)) != GQ_OK ||
        (rc = gq_row_str(row, "answerKey", where, &key, err)) != GQ_OK)
        goto fail;
    if (!(key_l = gq_py_strip(key, 1, 0, err))) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    if ((rc = gq_arc_style_choices(row, where, key_l, qa, err)) != GQ_OK)
        goto fail;
    if (!(qa->q = gq_strdup(stem, err))) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    if (want_doc && !(qa->doc = cJSON_Duplicate(row, 1))) {
        rc = gq_error_set(err, GQ_ERR_NOMEM, "%s: out of memory copying the row", where);
        goto fail;
    }
    gq_free(key_l);
    return GQ_OK;
fail:
    gq_free(key_l);
    gq_qa_free(qa);
    return rc;
}

static int obqa_make_doc(const gq_task *t, const cJSON *row, const char *where, int doc_id,
                         const cJSON *pool, int k, gq_rng *rng, gq_doc *out, gq_error *err)
{
    (void)t;
    return gq_build_doc(obqa_qa, GQ_FEWSHOT_RANDOM, NULL, row, where, doc_id, pool, k, rng, out, err);
}

const gq_task gq_task_openbookqa = {
    .name = "openbookqa",
    .alias = "openbookqa",
    .eval = {"allenai/openbookqa", "main", "test"},
    .fewshot = {"allenai/openbookqa", "main", "train"},
    .has_acc_norm = 1,
    .version = "1.0",
    .group = NULL,
    .make_doc = obqa_make_doc,
};
