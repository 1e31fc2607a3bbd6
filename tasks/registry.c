/* registry.c — task names to leaf tasks (task.h: gq_tasks_resolve,
 * gq_task_find).
 *
 * Accepted names: the leaf tasks (arc_easy, arc_challenge, piqa,
 * openbookqa, hellaswag, winogrande, mmlu_<subject>), the group names
 * mmlu (all 57 subjects), mmlu_stem, mmlu_other, mmlu_social_sciences,
 * mmlu_humanities, lm-eval's tag ai2_arc, and gqla-eval's shorthand arc
 * (both = arc_easy, arc_challenge; lm-eval has no task "arc" and no combined
 * ARC score, tasks.md §11.8).  Names are split at ",", surrounding blanks
 * ignored; the result keeps the order given, expanding groups in lm-eval's
 * leaf order (mmlu.c) and dropping repeats (as lm-eval's task list does).
 * Not here: glob patterns, YAML task files.
 * Tested by tests/test_tasks_metrics.c.
 */
#include <string.h>

#include "gq_alloc.h"
#include "task_internal.h"

static const gq_task *const gq_plain_tasks[] = {
    &gq_task_arc_easy, &gq_task_arc_challenge, &gq_task_piqa,
    &gq_task_openbookqa, &gq_task_hellaswag, &gq_task_winogrande,
};
#define N_PLAIN (sizeof gq_plain_tasks / sizeof gq_plain_tasks[0])

const gq_task *gq_task_find(const char *name)
{
    for (size_t i = 0; i < N_PLAIN; i++)
        if (!strcmp(gq_plain_tasks[i]->name, name))
            return gq_plain_tasks[i];
    for (size_t i = 0; i < GQ_MMLU_N_SUBJECTS; i++)
        if (!strcmp(gq_mmlu_tasks[i].name, name))
            return &gq_mmlu_tasks[i];
    return NULL;
}

static int push(const gq_task ***list, size_t *n, size_t *cap, const gq_task *t, gq_error *err)
{
    for (size_t i = 0; i < *n; i++)
        if ((*list)[i] == t)
            return GQ_OK; /* repeat */
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        const gq_task **p = gq_realloc((void *)*list, nc * sizeof *p, "task list", err);
        if (!p)
            return GQ_ERR_NOMEM;
        *list = p;
        *cap = nc;
    }
    (*list)[(*n)++] = t;
    return GQ_OK;
}

/* Expand one name; returns 0 when the name is unknown. */
static int expand(const char *name, const gq_task ***list, size_t *n, size_t *cap, int *rc, gq_error *err)
{
    *rc = GQ_OK;
    if (!strcmp(name, "arc") || !strcmp(name, "ai2_arc")) {
        if ((*rc = push(list, n, cap, &gq_task_arc_easy, err)) == GQ_OK)
            *rc = push(list, n, cap, &gq_task_arc_challenge, err);
        return 1;
    }
    if (!strcmp(name, "mmlu") || !strcmp(name, "mmlu_stem") || !strcmp(name, "mmlu_other") ||
        !strcmp(name, "mmlu_social_sciences") || !strcmp(name, "mmlu_humanities")) {
        int all = !strcmp(name, "mmlu");
        for (size_t i = 0; i < GQ_MMLU_N_SUBJECTS && *rc == GQ_OK; i++)
            if (all || !strcmp(gq_mmlu_tasks[i].group, name))
                *rc = push(list, n, cap, &gq_mmlu_tasks[i], err);
        return 1;
    }
    const gq_task *t = gq_task_find(name);
    if (!t)
        return 0;
    *rc = push(list, n, cap, t, err);
    return 1;
}

int gq_tasks_resolve(const char *spec, const gq_task ***out, size_t *n_out, gq_error *err)
{
    const gq_task **list = NULL;
    size_t n = 0, cap = 0;
    char name[128];
    int rc = GQ_OK;

    *out = NULL;
    *n_out = 0;
    if (!spec)
        spec = "";
    const char *p = spec;
    size_t tok_len = 0;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        tok_len = len;
        const char *b = p, *e = p + len;
        while (b < e && (*b == ' ' || *b == '\t'))
            b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e == b) {
            rc = gq_error_set(err, GQ_ERR_USAGE, "--tasks \"%.200s\": empty task name; give a comma-separated list "
                              "such as arc,piqa,mmlu", spec);
            goto fail;
        }
        if ((size_t)(e - b) >= sizeof name)
            goto unknown;
        memcpy(name, b, (size_t)(e - b));
        name[e - b] = '\0';
        if (!expand(name, &list, &n, &cap, &rc, err))
            goto unknown;
        if (rc != GQ_OK)
            goto fail;
        if (!end)
            break;
        p = end + 1;
    }
    *out = list;
    *n_out = n;
    return GQ_OK;

unknown:
    rc = gq_error_set(err, GQ_ERR_USAGE,
                      "unknown task \"%.*s\"; valid names: arc (= arc_easy,arc_challenge), ai2_arc, arc_easy, "
                      "arc_challenge, piqa, openbookqa, hellaswag, winogrande, mmlu (all 57 subjects), "
                      "mmlu_stem, mmlu_other, mmlu_social_sciences, mmlu_humanities, and mmlu_<subject> "
                      "for the 57 MMLU subjects (e.g. mmlu_abstract_algebra, mmlu_anatomy, "
                      "mmlu_high_school_us_history)",
                      (int)(tok_len > 100 ? 100 : tok_len), p);
fail:
    gq_free((void *)list);
    return rc;
}
