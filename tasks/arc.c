/* arc.c — arc_easy and arc_challenge (tasks.md §3.1), lm-eval's
 * arc_easy.yaml (arc_challenge includes it and changes only the name and the
 * dataset config):
 *
 *   doc_to_text   "Question: " + question + "\nAnswer:"
 *   doc_to_choice choices.text, in dataset order
 *   doc_to_target choices.label.index(answerKey)    (labels A-E or 1-5)
 *   metrics       acc, acc_norm; few-shot pool: train, random sampler
 *
 * Rows are HF-shaped (allenai/ai2_arc): question, choices {text, label},
 * answerKey.  An answerKey that is not among the labels (lm-eval raises
 * ValueError), an empty choice list or label/text lists of different
 * lengths fail with GQ_ERR_INVALID naming the row and the field.
 * Tested by tests/test_tasks.c.
 */
#include <string.h>

#include "gq_alloc.h"
#include "task_internal.h"

int gq_arc_style_choices(const cJSON *row, const char *where, const char *key, gq_qa *qa,
                         gq_error *err)
{
    const char **text = NULL, **label = NULL;
    int nt = 0, nl = 0, rc;
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(row, "choices");

    if (!cJSON_IsObject(ch)) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: field \"choices\": expected an object {text, label}", where);
        goto fail;
    }
    if ((rc = gq_row_str_list(ch, "text", "choices.text", where, &text, &nt, err)) != GQ_OK)
        goto fail;
    if ((rc = gq_row_str_list(ch, "label", "choices.label", where, &label, &nl, err)) != GQ_OK)
        goto fail;
    if (nt == 0) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: field \"choices.text\": empty choice list", where);
        goto fail;
    }
    if (nt != nl) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: field \"choices.label\": %d labels for %d choice texts",
                          where, nl, nt);
        goto fail;
    }
    qa->gold = -1;
    for (int i = 0; i < nl; i++)
        if (strcmp(label[i], key) == 0) {
            qa->gold = i;
            break;
        }
    if (qa->gold < 0) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: field \"answerKey\": \"%.40s\" is not among the %d choice labels",
                          where, key, nl);
        goto fail;
    }
    qa->choices = gq_calloc((size_t)nt, sizeof *qa->choices, "choices", err);
    if (!qa->choices) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    qa->n_choices = nt;
    for (int i = 0; i < nt; i++)
        if (!(qa->choices[i] = gq_strdup(text[i], err))) {
            rc = GQ_ERR_NOMEM;
            goto fail;
        }
    gq_free(text);
    gq_free(label);
    return GQ_OK;
fail:
    gq_free(text);
    gq_free(label);
    return rc;
}

static int arc_qa(const cJSON *row, const char *where, int want_doc, gq_qa *qa, gq_error *err)
{
    const char *question, *key;
    gq_sbuf q = {0};
    int rc;

    memset(qa, 0, sizeof *qa);
    if ((rc = gq_row_str(row, "question", where, &question, err)) != GQ_OK ||
        (rc = gq_row_str(row, "answerKey", where, &key, err)) != GQ_OK ||
        (rc = gq_arc_style_choices(row, where, key, qa, err)) != GQ_OK)
        goto fail;
    if ((rc = gq_sbuf_add(&q, "Question: ", err)) != GQ_OK || (rc = gq_sbuf_add(&q, question, err)) != GQ_OK ||
        (rc = gq_sbuf_add(&q, "\nAnswer:", err)) != GQ_OK)
        goto fail;
    if (!(qa->q = gq_sbuf_take(&q, err))) {
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

static int arc_make_doc(const gq_task *t, const cJSON *row, const char *where, int doc_id,
                        const cJSON *pool, int k, gq_rng *rng, gq_doc *out, gq_error *err)
{
    (void)t;
    return gq_build_doc(arc_qa, GQ_FEWSHOT_RANDOM, NULL, row, where, doc_id, pool, k, rng, out, err);
}

const gq_task gq_task_arc_easy = {
    .name = "arc_easy",
    .alias = "arc_easy",
    .eval = {"allenai/ai2_arc", "ARC-Easy", "test"},
    .fewshot = {"allenai/ai2_arc", "ARC-Easy", "train"},
    .has_acc_norm = 1,
    .version = "1.0",
    .group = NULL,
    .make_doc = arc_make_doc,
};

const gq_task gq_task_arc_challenge = {
    .name = "arc_challenge",
    .alias = "arc_challenge",
    .eval = {"allenai/ai2_arc", "ARC-Challenge", "test"},
    .fewshot = {"allenai/ai2_arc", "ARC-Challenge", "train"},
    .has_acc_norm = 1,
    .version = "1.0",
    .group = NULL,
    .make_doc = arc_make_doc,
};
