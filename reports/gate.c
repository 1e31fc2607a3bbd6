/* gate.c — the regression gate over a run's manifest (gq_gate_check in
 * report.h): accuracy drop of each converted path vs the original per task
 * and on average, and log-likelihood agreement between the converted
 * model's paths.  Failing checks go to stderr; JUnit XML on request. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gq_alloc.h"
#include "report_model.h"

/* Tolerance on the comparisons: drops equal to the threshold pass even
 * when the subtraction of two decimals leaves a bit of rounding. */
#define GATE_EPS 1e-9

typedef struct check {
    const char *suite;
    char classname[160];
    char name[96];
    char *failure;          /* heap; NULL = passed */
} check;

typedef struct check_list {
    check *items;
    size_t n, cap;
    gq_error *err;
} check_list;

static check *add_check(check_list *l, const char *suite, const char *cls, const char *name)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 32;
        check *ni = gq_realloc(l->items, cap * sizeof *ni, "gate checks", l->err);
        if (!ni) return NULL;
        l->items = ni;
        l->cap = cap;
    }
    check *c = &l->items[l->n++];
    memset(c, 0, sizeof *c);
    c->suite = suite;
    snprintf(c->classname, sizeof c->classname, "%s", cls);
    snprintf(c->name, sizeof c->name, "%s", name);
    return c;
}

static int fail_check(check_list *l, check *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int fail_check(check_list *l, check *c, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    c->failure = gq_strdup(tmp, l->err);
    return c->failure ? GQ_OK : GQ_ERR_NOMEM;
}

static const char *const gate_tasks[] = {"mmlu", "arc_easy", "arc_challenge", "piqa",
                                         "hellaswag", "openbookqa", "winogrande"};

static int drop_checks(const gq_manifest *m, double max_drop, check_list *l, gq_error *err)
{
    const gq_manifest_run *base = NULL;
    for (size_t i = 0; i < m->n_runs && !base; i++)
        if (!strcmp(m->runs[i].model, "original")) base = &m->runs[i];
    if (!base)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: --max-drop needs a run of the original model, and runs[] has none",
                            m->file);
    size_t before = l->n;
    double base_cols[GQ_PAPER_MAX_COLS], run_cols[GQ_PAPER_MAX_COLS];
    size_t n_cols = gq_report_paper_row(m, base, NULL, base_cols, NULL, NULL);
    for (size_t i = 0; i < m->n_runs; i++) {
        const gq_manifest_run *run = &m->runs[i];
        if (strcmp(run->model, "converted")) continue;
        char cls[160];
        snprintf(cls, sizeof cls, "gqla.max_drop.%s", run->id);
        for (size_t t = 0; t < sizeof gate_tasks / sizeof gate_tasks[0]; t++) {
            const char *metric;
            double o = gq_report_task_value(base, gate_tasks[t], &metric);
            double c = gq_report_task_value(run, gate_tasks[t], NULL);
            if (isnan(o) || isnan(c)) continue;
            check *ck = add_check(l, "max_drop", cls, gate_tasks[t]);
            if (!ck) return GQ_ERR_NOMEM;
            double drop = 100.0 * (o - c);
            if (drop > max_drop + GATE_EPS &&
                fail_check(l, ck, "%s %s: %s %.2f%% vs original %.2f%%: dropped %.2f points > %.2f", run->id,
                           gate_tasks[t], metric, 100.0 * c, 100.0 * o, drop, max_drop) != GQ_OK)
                return GQ_ERR_NOMEM;
        }
        /* The average over the paper columns both rows have, so that a task
         * missing on one side neither hides nor invents a drop. */
        gq_report_paper_row(m, run, NULL, run_cols, NULL, NULL);
        double sum_o = 0.0, sum_c = 0.0;
        int k = 0;
        for (size_t c = 0; c < n_cols; c++) {
            if (isnan(base_cols[c]) || isnan(run_cols[c])) continue;
            sum_o += base_cols[c];
            sum_c += run_cols[c];
            k++;
        }
        if (k == 0) continue;
        check *ck = add_check(l, "max_drop", cls, "average");
        if (!ck) return GQ_ERR_NOMEM;
        double drop = 100.0 * (sum_o - sum_c) / k;
        if (drop > max_drop + GATE_EPS &&
            fail_check(l, ck, "%s average over %d shared columns: %.2f%% vs original %.2f%%: dropped %.2f points > %.2f",
                       run->id, k, 100.0 * sum_c / k, 100.0 * sum_o / k, drop, max_drop) != GQ_OK)
            return GQ_ERR_NOMEM;
    }
    if (l->n == before)
        return gq_error_set(err, GQ_ERR_INVALID,
                            "%s: --max-drop: no task scored by both the original and a converted run: nothing to "
                            "check", m->file);
    return GQ_OK;
}

static int path_checks(const gq_manifest *m, double max_diff, check_list *l, gq_error *err)
{
    size_t before = l->n;
    for (size_t p = 0; p < m->n_pairs; p++) {
        const gq_manifest_pair *pair = &m->pairs[p];
        char cls[160];
        snprintf(cls, sizeof cls, "gqla.max_path_diff.%s_vs_%s", pair->a, pair->b);
        for (size_t t = 0; t < pair->n_tasks; t++) {
            const gq_manifest_pair_task *pt = &pair->tasks[t];
            check *ck = add_check(l, "max_path_diff", cls, pt->name);
            if (!ck) return GQ_ERR_NOMEM;
            int rc = GQ_OK;
            if (isnan(pt->max_abs_dll))
                rc = fail_check(l, ck, "%s vs %s %s: max |dll| unknown (null in the manifest)", pair->a, pair->b,
                                pt->name);
            else if (pt->max_abs_dll > max_diff)
                rc = fail_check(l, ck, "%s vs %s %s: max |dll| %.3e > %.3e (worst: doc %lld, request %lld)", pair->a,
                                pair->b, pt->name, pt->max_abs_dll, max_diff, (long long)pt->worst_doc,
                                (long long)pt->worst_request);
            if (rc != GQ_OK) return rc;
        }
    }
    if (l->n == before)
        return gq_error_set(err, GQ_ERR_INVALID,
                            "%s: --max-path-diff: key consistency holds no task (was the converted model run on "
                            "two paths?): nothing to check", m->file);
    return GQ_OK;
}

int gq_gate_check(const char *dir, const gq_gate_opts *o, int *n_failed, gq_error *err)
{
    *n_failed = 0;
    if (!o->has_max_drop && !o->has_max_path_diff)
        return gq_error_set(err, GQ_ERR_USAGE, "gate: neither a max drop nor a max path difference was given");
    gq_manifest *m = NULL;
    check_list l = {NULL, 0, 0, err};
    gq_junit_case *cases = NULL;
    int rc = gq_manifest_load(&m, dir, err);
    if (rc == GQ_OK && o->has_max_drop) rc = drop_checks(m, o->max_drop_pp, &l, err);
    if (rc == GQ_OK && o->has_max_path_diff) rc = path_checks(m, o->max_path_diff, &l, err);
    if (rc == GQ_OK && o->junit_path) {
        cases = gq_calloc(l.n, sizeof *cases, "junit cases", err);
        if (!cases) rc = GQ_ERR_NOMEM;
        for (size_t i = 0; cases && i < l.n; i++) {
            cases[i].suite = l.items[i].suite;
            cases[i].classname = l.items[i].classname;
            cases[i].name = l.items[i].name;
            cases[i].seconds = 0.0;
            cases[i].failure = l.items[i].failure;
        }
        if (rc == GQ_OK) rc = gq_junit_write(o->junit_path, "gqla-eval gate", cases, l.n, err);
    }
    if (rc == GQ_OK) {
        int failed = 0;
        for (size_t i = 0; i < l.n; i++) {
            if (!l.items[i].failure) continue;
            fprintf(stderr, "gate: FAIL %s: %s\n", l.items[i].suite, l.items[i].failure);
            failed++;
        }
        fprintf(stderr, "gate: %d of %zu checks failed\n", failed, l.n);
        *n_failed = failed;
    }
    for (size_t i = 0; i < l.n; i++) gq_free(l.items[i].failure);
    gq_free(l.items);
    gq_free(cases);
    gq_manifest_free(m);
    return rc;
}
