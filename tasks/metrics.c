/* metrics.c — per-document acc/acc_norm and their aggregation, with the
 * exact float operations lm-evaluation-harness performs (tasks.md §2.6-2.8):
 *
 *   argmax       numpy: first index among equal maxima; a NaN wins at its
 *                first position
 *   acc_norm     argmax of ll[i] / len(choice[i]), len in code points,
 *                IEEE division (a zero-length choice gives inf/NaN as numpy)
 *   mean         Python sum(xs) / len(xs)
 *   stderr       sqrt(sum((x - mu) ** 2) / (n - 1)) / sqrt(n); "N/A" (NAN
 *                here) when n <= 1
 *   group value  sum(v_i * n_i) / sum(n_i)
 *   group stderr sqrt(sum((n_i - 1) * s_i ** 2 * n_i) / (sum(n_i) - k) / sum(n_i))
 *
 * Python's float sum is plain left-to-right up to CPython 3.11 and
 * Neumaier-compensated from 3.12; every function takes the mode.  Integer
 * sums (sizes) are exact and need no mode.
 *
 * Not here: bootstrap (not used for `mean`), acc_bytes (not enabled).
 * Tested by tests/test_tasks_metrics.c on hand-computed cases.
 */
#include <math.h>

#include "task_internal.h"

int gq_argmax(const double *x, int n)
{
    if (n <= 0)
        return -1;
    int best = 0;
    if (isnan(x[0]))
        return 0;
    for (int i = 1; i < n; i++) {
        if (isnan(x[i]))
            return i;
        if (x[i] > x[best])
            best = i;
    }
    return best;
}

void gq_doc_metrics(const gq_doc *d, const double *ll, double *acc, double *acc_norm)
{
    int n = d->n_req;
    int pred = gq_argmax(ll, n);
    /* streaming argmax of ll / len with numpy's rules */
    int pred_norm = -1;
    double best = 0;
    for (int i = 0; i < n; i++) {
        double v = ll[i] / (double)gq_utf8_codepoints(d->choice[i]);
        if (isnan(v)) {
            pred_norm = i;
            break;
        }
        if (pred_norm < 0 || v > best) {
            pred_norm = i;
            best = v;
        }
    }
    if (acc)
        *acc = pred >= 0 && pred == d->gold ? 1.0 : 0.0;
    if (acc_norm)
        *acc_norm = pred_norm >= 0 && pred_norm == d->gold ? 1.0 : 0.0;
}

double gq_mean(const double *x, size_t n, int neumaier)
{
    if (n == 0)
        return NAN;
    return gq_pysum(x, n, neumaier) / (double)n;
}

/* Python's float sum, one element at a time (CPython 3.12+ Neumaier: a
 * running sum s and compensation c; the result is s + c when c is non-zero
 * and finite), so that generated lists need no temporary array. */
typedef struct { double s, c; int neumaier; } pysum_acc;

static void acc_add(pysum_acc *a, double x)
{
    if (!a->neumaier) {
        a->s += x;
        return;
    }
    double t = a->s + x;
    if (fabs(a->s) >= fabs(x))
        a->c += (a->s - t) + x;
    else
        a->c += (x - t) + a->s;
    a->s = t;
}

static double acc_result(const pysum_acc *a)
{
    if (a->neumaier && a->c != 0.0 && isfinite(a->c))
        return a->s + a->c;
    return a->s;
}

double gq_pysum(const double *x, size_t n, int neumaier)
{
    pysum_acc a = {0.0, 0.0, neumaier};
    for (size_t i = 0; i < n; i++)
        acc_add(&a, x[i]);
    return acc_result(&a);
}

double gq_stderr(const double *x, size_t n, int neumaier)
{
    if (n <= 1)
        return NAN;
    double mu = gq_mean(x, n, neumaier);
    pysum_acc a = {0.0, 0.0, neumaier};
    for (size_t i = 0; i < n; i++)
        acc_add(&a, pow(x[i] - mu, 2.0));
    return sqrt(acc_result(&a) / (double)(n - 1)) / sqrt((double)n);
}

double gq_group_mean(const double *v, const double *n, size_t k, int neumaier)
{
    pysum_acc a = {0.0, 0.0, neumaier};
    double total = 0.0; /* sum of integer sizes: exact */
    for (size_t i = 0; i < k; i++) {
        acc_add(&a, v[i] * n[i]);
        total += n[i];
    }
    if (k == 0 || total == 0.0)
        return NAN;
    return acc_result(&a) / total;
}

double gq_group_stderr(const double *s, const double *n, size_t k, int neumaier)
{
    pysum_acc a = {0.0, 0.0, neumaier};
    double total = 0.0;
    for (size_t i = 0; i < k; i++) {
        if (isnan(s[i]))
            return NAN; /* a leaf "N/A" makes the group "N/A" */
        acc_add(&a, (n[i] - 1) * pow(s[i], 2.0) * n[i]);
        total += n[i];
    }
    if (k == 0 || total - (double)k == 0.0)
        return NAN;
    double pooled_var = acc_result(&a) / (total - (double)k);
    return sqrt(pooled_var / total);
}
