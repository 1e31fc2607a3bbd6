/* reports_task_stubs.c — TEST-ONLY stand-ins for the tasks/ group
 * arithmetic (task.h: gq_pysum, gq_group_mean, gq_group_stderr), linked into
 * test_reports by tests/reports.cmake only while no C file in tasks/ defines them
 * (tasks/ is written on another branch).  Once tasks/ has them, the same
 * test checks the real ones against Python.  Never copy these into tasks/.
 * Formulas: tasks.md §2.7 (Python sum) and §2.8 (size-weighted mean, pooled
 * stderr). */
#include <math.h>
#include <stddef.h>

#include "task.h"

double gq_pysum(const double *x, size_t n, int neumaier)
{
    double s = 0.0, c = 0.0;
    for (size_t i = 0; i < n; i++) {
        double t = s + x[i];
        if (neumaier) c += fabs(s) >= fabs(x[i]) ? (s - t) + x[i] : (x[i] - t) + s;
        s = t;
    }
    return neumaier && c != 0.0 && isfinite(c) ? s + c : s;
}

double gq_group_mean(const double *v, const double *n, size_t k, int neumaier)
{
    double prod[64], total = 0.0;
    if (k > 64) return NAN;   /* the stub's limit; tests use at most 57 leaves */
    for (size_t i = 0; i < k; i++) {
        prod[i] = v[i] * n[i];
        total += n[i];        /* integer sizes: exact */
    }
    return gq_pysum(prod, k, neumaier) / total;
}

double gq_group_stderr(const double *s, const double *n, size_t k, int neumaier)
{
    double terms[64], total = 0.0;
    if (k > 64) return NAN;
    for (size_t i = 0; i < k; i++) {
        terms[i] = (n[i] - 1.0) * (s[i] * s[i]) * n[i];
        total += n[i];
    }
    double pooled = gq_pysum(terms, k, neumaier) / (total - (double)k);
    return sqrt(pooled / total);
}
