/* piqa.c — piqa (tasks.md §3.2), lm-eval's piqa.yaml:
 *
 *   doc_to_text   "Question: " + goal + "\nAnswer:"
 *   doc_to_choice [sol1, sol2], verbatim
 *   doc_to_target label (0 or 1)
 *   metrics       acc, acc_norm; few-shot pool: train, random sampler that
 *                 draws k+1 and drops the evaluated row (fewshot split ==
 *                 test split, both unset)
 *
 * Rows are HF-shaped (baber/piqa): goal, sol1, sol2, label.  label may be a
 * JSON integer or a digit string; a label outside 0..1 fails with
 * GQ_ERR_INVALID (lm-eval would score the row as always wrong, gold -100).
 * Tested by tests/test_tasks.c.
 */
#include <string.h>

#include "gq_alloc.h"
#include "task_internal.h"

static int piqa_qa(const cJSON *row, const char *where, int want_doc, gq_qa *qa, gq_error *err)
{
    const char *goal, *sol[2];
    gq_sbuf q = {0};
    int rc;

    memset(qa, 0, sizeof *qa);
    if ((rc = gq_row_str(row, "goal", where, &goal, err)) != GQ_OK ||
        (rc = gq_row_str(row, "sol1", where, &sol[0], err)) != GQ_OK ||
        (rc = gq_row_str(row, "sol2", where, &sol[1], err)) != GQ_OK ||
        (rc = gq_row_index(row, "label", where, 2, &qa->gold, err)) != GQ_OK)
        goto fail;
    if ((rc = gq_sbuf_add(&q, "Question: ", err)) != GQ_OK || (rc = gq_sbuf_add(&q, goal, err)) != GQ_OK ||
        (rc = gq_sbuf_add(&q, "\nAnswer:", err)) != GQ_OK)
        goto fail;
    if (!(qa->q = gq_sbuf_take(&q, err)) ||
        !(qa->choices = gq_calloc(2, sizeof *qa->choices, "choices", err))) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    qa->n_choices = 2;
    for (int i = 0; i < 2; i++)
        if (!(qa->choices[i] = gq_strdup(sol[i], err))) {
            rc = GQ_ERR_NOMEM;
            goto fail;
        }
    if (want_doc && !(qa->doc = cJSON_Duplicate(row, 1))) {
        rc = gq_error_set(err, GQ_ERR_NOMEM, "%s: out of memory copying the row", where);
        goto fail;
    }
    return GQ_OK;
fail:
    gq_sbuf_free(&q);
    gq_qa_free(qa);
    return rc;
}

static int piqa_make_doc(const gq_task *t, const cJSON *row, const char *where, int doc_id,
                         const cJSON *pool, int k, gq_rng *rng, gq_doc *out, gq_error *err)
{
    (void)t;
    return gq_build_doc(piqa_qa, GQ_FEWSHOT_RANDOM_EXCL, NULL, row, where, doc_id, pool, k, rng, out, err);
}

const gq_task gq_task_piqa = {
    .name = "piqa",
    .alias = "piqa",
    .eval = {"baber/piqa", NULL, "validation"},
    .fewshot = {"baber/piqa", NULL, "train"},
    .has_acc_norm = 1,
    .version = "1.0",
    .group = NULL,
    .make_doc = piqa_make_doc,
};
