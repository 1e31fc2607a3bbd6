/* mmlu.c — the 57 leaf tasks mmlu_<subject> of lm-eval's mmlu/default
 * (tasks.md §3.6):
 *
 *   description   "The following are multiple choice questions (with answers) about "
 *                 + subject with "_" -> " " + ".\n\n"
 *   doc_to_text   question.strip() + "\nA. " + choices[0] + "\nB. " + choices[1]
 *                 + "\nC. " + choices[2] + "\nD. " + choices[3] + "\nAnswer:"
 *                 (only the question is stripped)
 *   doc_to_choice ["A", "B", "C", "D"]; doc_to_target answer (0..3)
 *   metrics       acc only; 0-shot by default; k-shot: the first k rows of the
 *                 subject's dev split, in file order (sampler first_n), each
 *                 written Q + " " + letter + "\n\n" after the description
 *
 * Rows are HF-shaped (cais/mmlu): question, subject, choices (4 strings),
 * answer (integer 0..3 or a digit string).  Other shapes fail with
 * GQ_ERR_INVALID naming the row and the field.
 *
 * Tasks are listed in lm-eval's evaluation order for `mmlu`: the groups
 * in _mmlu.yaml's order (stem, other, social_sciences, humanities), each
 * group's subjects sorted by task name (tag members are sorted).  Alias =
 * subject; group = mmlu_stem / mmlu_other / mmlu_social_sciences /
 * mmlu_humanities.
 * Tested by tests/test_tasks.c (0-shot and 5-shot prompts against lm-eval).
 */
#include <stdio.h>
#include <string.h>

#include "gq_alloc.h"
#include "task_internal.h"

static int mmlu_qa(const cJSON *row, const char *where, int want_doc, gq_qa *qa, gq_error *err)
{
    static const char *const letters[4] = {"A", "B", "C", "D"};
    static const char *const heads[4] = {"\nA. ", "\nB. ", "\nC. ", "\nD. "};
    const char *question, **choices = NULL;
    char *qs = NULL;
    int n = 0, rc;
    gq_sbuf q = {0};

    memset(qa, 0, sizeof *qa);
    if ((rc = gq_row_str(row, "question", where, &question, err)) != GQ_OK ||
        (rc = gq_row_str_list(row, "choices", NULL, where, &choices, &n, err)) != GQ_OK)
        goto fail;
    if (n != 4) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: field \"choices\": expected 4 choices, found %d", where, n);
        goto fail;
    }
    if ((rc = gq_row_index(row, "answer", where, 4, &qa->gold, err)) != GQ_OK)
        goto fail;
    if (!(qs = gq_py_strip(question, 1, 1, err))) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    if ((rc = gq_sbuf_add(&q, qs, err)) != GQ_OK)
        goto fail;
    for (int i = 0; i < 4; i++)
        if ((rc = gq_sbuf_add(&q, heads[i], err)) != GQ_OK || (rc = gq_sbuf_add(&q, choices[i], err)) != GQ_OK)
            goto fail;
    if ((rc = gq_sbuf_add(&q, "\nAnswer:", err)) != GQ_OK)
        goto fail;
    if (!(qa->q = gq_sbuf_take(&q, err)) || !(qa->choices = gq_calloc(4, sizeof *qa->choices, "choices", err))) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    qa->n_choices = 4;
    for (int i = 0; i < 4; i++)
        if (!(qa->choices[i] = gq_strdup(letters[i], err))) {
            rc = GQ_ERR_NOMEM;
            goto fail;
        }
    if (want_doc && !(qa->doc = cJSON_Duplicate(row, 1))) {
        rc = gq_error_set(err, GQ_ERR_NOMEM, "%s: out of memory copying the row", where);
        goto fail;
    }
    gq_free(qs);
    gq_free(choices);
    return GQ_OK;
fail:
    gq_free(qs);
    gq_free(choices);
    gq_sbuf_free(&q);
    gq_qa_free(qa);
    return rc;
}

static int mmlu_make_doc(const gq_task *t, const cJSON *row, const char *where, int doc_id,
                         const cJSON *pool, int k, gq_rng *rng, gq_doc *out, gq_error *err)
{
    char desc[256];
    int len = snprintf(desc, sizeof desc, "The following are multiple choice questions (with answers) about %s.\n\n",
                       t->alias);
    if (len < 0 || (size_t)len >= sizeof desc)
        return gq_error_set(err, GQ_ERR_USAGE, "%s: subject name too long", t->name);
    for (char *p = desc; *p; p++)
        if (*p == '_')
            *p = ' ';
    return gq_build_doc(mmlu_qa, GQ_FEWSHOT_FIRST_N, desc, row, where, doc_id, pool, k, rng, out, err);
}

#define MMLU(subject, grp)                                                                                    \
    {                                                                                                         \
        .name = "mmlu_" #subject, .alias = #subject, .eval = {"cais/mmlu", #subject, "test"},                \
        .fewshot = {"cais/mmlu", #subject, "dev"}, .has_acc_norm = 0, .version = "1.0", .group = grp,       \
        .make_doc = mmlu_make_doc                                                                             \
    }
#define STEM(s) MMLU(s, "mmlu_stem")
#define OTHER(s) MMLU(s, "mmlu_other")
#define SOCIAL(s) MMLU(s, "mmlu_social_sciences")
#define HUMAN(s) MMLU(s, "mmlu_humanities")

const gq_task gq_mmlu_tasks[GQ_MMLU_N_SUBJECTS] = {
    STEM(abstract_algebra), STEM(anatomy), STEM(astronomy), STEM(college_biology), STEM(college_chemistry),
    STEM(college_computer_science), STEM(college_mathematics), STEM(college_physics), STEM(computer_security),
    STEM(conceptual_physics), STEM(electrical_engineering), STEM(elementary_mathematics),
    STEM(high_school_biology), STEM(high_school_chemistry), STEM(high_school_computer_science),
    STEM(high_school_mathematics), STEM(high_school_physics), STEM(high_school_statistics),
    STEM(machine_learning),

    OTHER(business_ethics), OTHER(clinical_knowledge), OTHER(college_medicine), OTHER(global_facts),
    OTHER(human_aging), OTHER(management), OTHER(marketing), OTHER(medical_genetics), OTHER(miscellaneous),
    OTHER(nutrition), OTHER(professional_accounting), OTHER(professional_medicine), OTHER(virology),

    SOCIAL(econometrics), SOCIAL(high_school_geography), SOCIAL(high_school_government_and_politics),
    SOCIAL(high_school_macroeconomics), SOCIAL(high_school_microeconomics), SOCIAL(high_school_psychology),
    SOCIAL(human_sexuality), SOCIAL(professional_psychology), SOCIAL(public_relations),
    SOCIAL(security_studies), SOCIAL(sociology), SOCIAL(us_foreign_policy),

    HUMAN(formal_logic), HUMAN(high_school_european_history), HUMAN(high_school_us_history),
    HUMAN(high_school_world_history), HUMAN(international_law), HUMAN(jurisprudence),
    HUMAN(logical_fallacies), HUMAN(moral_disputes), HUMAN(moral_scenarios), HUMAN(philosophy),
    HUMAN(prehistory), HUMAN(professional_law), HUMAN(world_religions),
};
