/* ds_schema.c — the fields a Hugging Face-shaped row of each known dataset
 * must have (tasks.md §3), checked on rows from the Hub, from the cache and
 * from HF-format exports on disk.  Only what the format promises is checked
 * (names, JSON types, list lengths, UTF-8); task rules such as "answerKey is
 * one of the labels" belong to tasks/.  Unknown dataset ids are accepted as
 * long as every row is an object with valid UTF-8.
 */
#include <string.h>

#include "ds_internal.h"

static int check_choices_obj(const cJSON *row, const char *loc, gq_error *err)
{
    const cJSON *ch, *text, *label;
    int rc = ds_need(row, "choices", "choices", cJSON_Object, loc, &ch, err);
    if (rc == GQ_OK) rc = ds_need_str_list(ch, "text", "choices.text", 1, 64, loc, &text, err);
    if (rc == GQ_OK) rc = ds_need_str_list(ch, "label", "choices.label", 1, 64, loc, &label, err);
    if (rc != GQ_OK) return rc;
    int nt = cJSON_GetArraySize(text), nl = cJSON_GetArraySize(label);
    if (nt != nl)
        return gq_error_set(err, GQ_ERR_INVALID,
                            "%s: field 'choices.text' has %d items but 'choices.label' has %d", loc, nt,
                            nl);
    return GQ_OK;
}

static int check_arc(const cJSON *row, const char *loc, const char *qfield, gq_error *err)
{
    int rc = ds_need(row, "id", "id", cJSON_String, loc, NULL, err);
    if (rc == GQ_OK) rc = ds_need(row, qfield, qfield, cJSON_String, loc, NULL, err);
    if (rc == GQ_OK) rc = check_choices_obj(row, loc, err);
    if (rc == GQ_OK) rc = ds_need(row, "answerKey", "answerKey", cJSON_String, loc, NULL, err);
    return rc;
}

static int check_mmlu(const cJSON *row, const char *loc, gq_error *err)
{
    int rc = ds_need(row, "question", "question", cJSON_String, loc, NULL, err);
    if (rc == GQ_OK) rc = ds_need(row, "subject", "subject", cJSON_String, loc, NULL, err);
    if (rc == GQ_OK) rc = ds_need_str_list(row, "choices", "choices", 4, 4, loc, NULL, err);
    if (rc == GQ_OK) rc = ds_need_int(row, "answer", "answer", 0, 3, loc, NULL, err);
    return rc;
}

static int check_piqa(const cJSON *row, const char *loc, gq_error *err)
{
    int rc = ds_need(row, "goal", "goal", cJSON_String, loc, NULL, err);
    if (rc == GQ_OK) rc = ds_need(row, "sol1", "sol1", cJSON_String, loc, NULL, err);
    if (rc == GQ_OK) rc = ds_need(row, "sol2", "sol2", cJSON_String, loc, NULL, err);
    /* -1 is the HF convention for an unlabeled (test) row. */
    if (rc == GQ_OK) rc = ds_need_int(row, "label", "label", -1, 1, loc, NULL, err);
    return rc;
}

static int check_winogrande(const cJSON *row, const char *loc, gq_error *err)
{
    int rc = ds_need(row, "sentence", "sentence", cJSON_String, loc, NULL, err);
    if (rc == GQ_OK) rc = ds_need(row, "option1", "option1", cJSON_String, loc, NULL, err);
    if (rc == GQ_OK) rc = ds_need(row, "option2", "option2", cJSON_String, loc, NULL, err);
    if (rc == GQ_OK) rc = ds_need(row, "answer", "answer", cJSON_String, loc, NULL, err);
    return rc;
}

static int check_hellaswag(const cJSON *row, const char *loc, gq_error *err)
{
    int rc;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "preprocessed"))) {
        rc = ds_need(row, "query", "query", cJSON_String, loc, NULL, err);
    } else {
        rc = ds_need(row, "activity_label", "activity_label", cJSON_String, loc, NULL, err);
        if (rc == GQ_OK) rc = ds_need(row, "ctx_a", "ctx_a", cJSON_String, loc, NULL, err);
        if (rc == GQ_OK) rc = ds_need(row, "ctx_b", "ctx_b", cJSON_String, loc, NULL, err);
    }
    if (rc == GQ_OK) rc = ds_need_str_list(row, "endings", "endings", 1, 16, loc, NULL, err);
    if (rc == GQ_OK) rc = ds_need(row, "label", "label", cJSON_String, loc, NULL, err);
    return rc;
}

int ds_validate_hf_row(const char *hf_id, const cJSON *row, const char *loc, gq_error *err)
{
    if (!cJSON_IsObject(row))
        return gq_error_set(err, GQ_ERR_INVALID, "%s: the row is %s, expected an object", loc,
                            ds_type_name(row));
    int rc = GQ_OK;
    if (strcmp(hf_id, "allenai/ai2_arc") == 0) rc = check_arc(row, loc, "question", err);
    else if (strcmp(hf_id, "allenai/openbookqa") == 0) rc = check_arc(row, loc, "question_stem", err);
    else if (strcmp(hf_id, "cais/mmlu") == 0) rc = check_mmlu(row, loc, err);
    else if (strcmp(hf_id, "baber/piqa") == 0 || strcmp(hf_id, "ybisk/piqa") == 0)
        rc = check_piqa(row, loc, err);
    else if (strcmp(hf_id, "allenai/winogrande") == 0) rc = check_winogrande(row, loc, err);
    else if (strcmp(hf_id, "Rowan/hellaswag") == 0) rc = check_hellaswag(row, loc, err);
    if (rc != GQ_OK) return rc;
    return ds_check_utf8_tree(row, loc, "", err);
}
