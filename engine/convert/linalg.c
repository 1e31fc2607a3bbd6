/* linalg.c — see linalg.h.  Blocks of 256 rows are widened to double
 * before each dsyrk so that accumulating an [n_tokens, n] activation never
 * needs an n_tokens x n double copy. */
#include "linalg.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "gq_alloc.h"

#define WIDEN_ROWS 256

void gq_eig_fix_signs(double *v, int n, int n_cols)
{
    for (int k = 0; k < n_cols; k++) {
        int best = 0;
        double best_abs = -1.0;
        for (int i = 0; i < n; i++) {
            double a = fabs(v[(size_t)i * n_cols + k]);
            if (a > best_abs) { /* strict: ties keep the lowest index */
                best_abs = a;
                best = i;
            }
        }
        if (v[(size_t)best * n_cols + k] < 0.0)
            for (int i = 0; i < n; i++) v[(size_t)i * n_cols + k] = -v[(size_t)i * n_cols + k];
    }
}

int gq_all_finite_f64(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

int gq_eigh_desc(double *a, double *w, int n, gq_error *err)
{
    if (n <= 0) return GQ_OK;
    size_t nn = (size_t)n * (size_t)n;
    if (!gq_all_finite_f64(a, nn))
        return gq_error_set(err, GQ_ERR_INVALID,
                            "eigendecomposition: the %d x %d statistic holds NaN or Inf (non-finite activations "
                            "or weights upstream)", n, n);
    double *tmp = gq_malloc(nn * sizeof(double), "eigenvector scratch", err);
    if (!tmp) return GQ_ERR_NOMEM;
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', n, a, n, w);
    if (info != 0) {
        gq_free(tmp);
        return gq_error_set(err, GQ_ERR_INVALID, "eigendecomposition of a %d x %d matrix failed (dsyevd info %d)", n,
                            n, (int)info);
    }
    /* dsyevd: ascending; reverse columns and values. */
    memcpy(tmp, a, nn * sizeof(double));
    for (int i = 0; i < n; i++)
        for (int k = 0; k < n; k++) a[(size_t)i * n + k] = tmp[(size_t)i * n + (n - 1 - k)];
    for (int k = 0; k < n / 2; k++) {
        double t = w[k];
        w[k] = w[n - 1 - k];
        w[n - 1 - k] = t;
    }
    gq_free(tmp);
    gq_eig_fix_signs(a, n, n);
    return GQ_OK;
}

void gq_damp(double *c, int n, double frac)
{
    double tr = 0.0;
    for (int i = 0; i < n; i++) tr += c[(size_t)i * n + i];
    double add = frac * tr / (double)n;
    for (int i = 0; i < n; i++) c[(size_t)i * n + i] += add;
}

/* Copy the upper triangle onto the lower one. */
static void mirror_upper(double *c, int n)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++) c[(size_t)i * n + j] = c[(size_t)j * n + i];
}

void gq_cov_accum_f64(double *c, const double *x, int rows, int n, int ldx)
{
    if (rows <= 0 || n <= 0) return;
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, n, rows, 1.0, x, ldx, 1.0, c, n);
    mirror_upper(c, n);
}

static void accum_widened(double *c, const float *x, const double *w, int rows, int n, int ldx)
{
    size_t block = (size_t)WIDEN_ROWS * (size_t)n;
    double *buf = gq_malloc(block * sizeof(double), "covariance block", NULL);
    if (!buf) { /* out of memory for 256 rows: fall back to one row at a time */
        for (int t = 0; t < rows; t++) {
            double s = w ? (w[t] > 0.0 ? sqrt(w[t]) : 0.0) : 1.0;
            for (int i = 0; i < n; i++) {
                double xi = s * (double)x[(size_t)t * ldx + i];
                for (int j = i; j < n; j++) c[(size_t)i * n + j] += xi * s * (double)x[(size_t)t * ldx + j];
            }
        }
        mirror_upper(c, n);
        return;
    }
    for (int t0 = 0; t0 < rows; t0 += WIDEN_ROWS) {
        int nb = rows - t0 < WIDEN_ROWS ? rows - t0 : WIDEN_ROWS;
        for (int t = 0; t < nb; t++) {
            double s = w ? (w[t0 + t] > 0.0 ? sqrt(w[t0 + t]) : 0.0) : 1.0;
            const float *xr = x + (size_t)(t0 + t) * ldx;
            for (int i = 0; i < n; i++) buf[(size_t)t * n + i] = s * (double)xr[i];
        }
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, n, nb, 1.0, buf, n, 1.0, c, n);
    }
    mirror_upper(c, n);
    gq_free(buf);
}

void gq_cov_accum(double *c, const float *x, int rows, int n, int ldx)
{
    if (rows <= 0 || n <= 0) return;
    accum_widened(c, x, NULL, rows, n, ldx);
}

void gq_cov_accum_weighted(double *c, const float *x, const double *w, int rows, int n, int ldx)
{
    if (rows <= 0 || n <= 0) return;
    accum_widened(c, x, w, rows, n, ldx);
}

double gq_energy_fraction(const double *w, int n, int keep)
{
    double tot = 0.0, kept = 0.0;
    for (int k = 0; k < n; k++) {
        tot += w[k];
        if (k < keep) kept += w[k];
    }
    return tot > 0.0 ? kept / tot : 1.0;
}
