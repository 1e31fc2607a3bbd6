/* compare.c — `gqla-eval compare BASE.json NEW.json`: two lm-eval-layout
 * results files (what `eval --output-dir` writes: "results" -> task ->
 * "acc,none", "acc_norm,none"), the change of each shared task's main
 * metric, and a verdict against a maximum drop (gq_compare_files in
 * report.h).  The main metric is acc_norm when BASE reports it for the
 * task, else acc, as the paper table. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gq_alloc.h"
#include "json_util.h"
#include "report.h"

#define COMPARE_EPS 1e-9

static int load_results(const char *path, cJSON **root, const cJSON **results, gq_error *err)
{
    *results = NULL;
    int rc = gq_json_load_file(root, path, err);
    if (rc != GQ_OK) return rc;
    const cJSON *r = cJSON_IsObject(*root) ? cJSON_GetObjectItemCaseSensitive(*root, "results") : NULL;
    if (!cJSON_IsObject(r))
        return gq_error_set(err, GQ_ERR_INVALID,
                            "%s: key results: expected an object of tasks (an lm-eval results file, as eval "
                            "--output-dir writes), got %s",
                            path, r ? "another type" : "nothing (missing)");
    *results = r;
    return GQ_OK;
}

/* The metric's value in a task's entry; NAN when absent or not a number. */
static double metric_value(const cJSON *task, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(task, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

int gq_compare_files(const char *base_path, const char *new_path, double max_drop_pp, const char *junit_path,
                     FILE *f, int *n_failed, gq_error *err)
{
    *n_failed = 0;
    cJSON *base_root = NULL, *new_root = NULL;
    const cJSON *base, *cur;
    gq_junit_case *cases = NULL;
    char (*messages)[256] = NULL;
    int rc = load_results(base_path, &base_root, &base, err);
    if (rc == GQ_OK) rc = load_results(new_path, &new_root, &cur, err);
    if (rc != GQ_OK) goto done;

    size_t n_base = (size_t)cJSON_GetArraySize(base);
    cases = gq_calloc(n_base, sizeof *cases, "compare cases", err);
    messages = gq_calloc(n_base, sizeof *messages, "compare messages", err);
    if (!cases || !messages) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    fprintf(f, "compare: BASE %s\n         NEW  %s\n         max drop %.2f points\n", base_path, new_path,
            max_drop_pp);
    fprintf(f, "%-40s %-9s %9s %9s %8s  %s\n", "task", "metric", "base %", "new %", "delta", "verdict");
    size_t shared = 0;
    int failed = 0;
    for (const cJSON *bt = base->child; bt; bt = bt->next) {
        const cJSON *nt = cJSON_GetObjectItemCaseSensitive(cur, bt->string);
        if (!nt) continue;
        const char *metric = "acc_norm";
        double b = metric_value(bt, "acc_norm,none");
        if (isnan(b)) {
            metric = "acc";
            b = metric_value(bt, "acc,none");
        }
        double n = metric_value(nt, strcmp(metric, "acc") ? "acc_norm,none" : "acc,none");
        if (isnan(b) || isnan(n)) {
            fprintf(f, "%-40s %-9s %9s %9s %8s  %s\n", bt->string, isnan(b) ? "-" : metric,
                    isnan(b) ? "-" : "", isnan(n) ? "-" : "", "", isnan(b) ? "no acc in BASE: skipped"
                                                                           : "metric missing in NEW: skipped");
            continue;
        }
        double delta = 100.0 * (n - b);
        int fail = -delta > max_drop_pp + COMPARE_EPS;
        fprintf(f, "%-40s %-9s %9.2f %9.2f %+8.2f  %s\n", bt->string, metric, 100.0 * b, 100.0 * n, delta,
                fail ? "FAIL" : "ok");
        gq_junit_case *c = &cases[shared];
        c->suite = "compare";
        c->classname = "gqla.compare";
        c->name = bt->string;
        if (fail) {
            snprintf(messages[shared], sizeof messages[shared], "%s %s: %.2f%% vs base %.2f%%: dropped %.2f points > %.2f",
                     bt->string, metric, 100.0 * n, 100.0 * b, -delta, max_drop_pp);
            c->failure = messages[shared];
            failed++;
        }
        shared++;
    }
    for (int side = 0; side < 2; side++) {
        const cJSON *from = side ? cur : base, *other = side ? base : cur;
        int any = 0;
        for (const cJSON *t = from->child; t; t = t->next) {
            if (cJSON_GetObjectItemCaseSensitive(other, t->string)) continue;
            fprintf(f, "%s%s", any ? ", " : side ? "only in NEW: " : "only in BASE: ", t->string);
            any = 1;
        }
        if (any) fputc('\n', f);
    }
    if (shared == 0) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s and %s: no task with an acc metric in common: nothing to compare",
                          base_path, new_path);
        goto done;
    }
    fprintf(f, "compare: %d of %zu shared tasks dropped more than %.2f points\n", failed, shared, max_drop_pp);
    if (junit_path) rc = gq_junit_write(junit_path, "gqla-eval compare", cases, shared, err);
    if (rc == GQ_OK) *n_failed = failed;
done:
    gq_free(cases);
    gq_free(messages);
    cJSON_Delete(base_root);
    cJSON_Delete(new_root);
    return rc;
}
