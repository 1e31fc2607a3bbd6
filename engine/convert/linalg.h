/* linalg.h — float64 linear algebra shared by both converter halves
 * (conversion.md §3.7, §4.3): second-moment accumulation, damping, and a
 * symmetric eigendecomposition with a fixed sign convention.
 *
 * Storage: every matrix is row-major double; an n x n covariance is n*n
 * doubles with BOTH triangles filled (the accumulators keep them equal).
 *
 * Sign convention (makes every converted checkpoint deterministic):
 * eigenvectors are unique only up to sign; gq_eigh_desc negates each
 * eigenvector, if needed, so that its entry of largest absolute value is
 * positive.  Ties in absolute value go to the lowest index.  Nothing in the
 * converted model's function depends on the signs (conversion.md §3.7).
 */
#ifndef GQ_CONVERT_LINALG_H
#define GQ_CONVERT_LINALG_H

#include <stddef.h>
#include "gq_error.h"

/* Eigendecomposition of the symmetric n x n matrix a (LAPACKE_dsyevd).
 * In: a, row-major, symmetric (only the upper triangle is read).
 * Out: a[i*n + k] = component i of eigenvector k (eigenvectors are the
 * COLUMNS), w[k] the eigenvalues sorted DESCENDING, column k matching w[k];
 * signs per the convention above.  Fails (GQ_ERR_INVALID) on a NaN/Inf
 * input or when LAPACK does not converge; a and w are then unspecified.
 * Uses a temporary allocation of n*n doubles. */
int gq_eigh_desc(double *a, double *w, int n, gq_error *err);

/* Apply the sign convention to the n_cols columns of the n x n_cols
 * row-major matrix v (gq_eigh_desc does this itself). */
void gq_eig_fix_signs(double *v, int n, int n_cols);

/* c += frac * mean(diag c) * I  (conversion.md: 1 % damping, frac = 0.01). */
void gq_damp(double *c, int n, double frac);

/* c[n, n] += x^T x for x[rows, n] float32 (widened to double in blocks,
 * then cblas_dsyrk): the uncentered second moment sum_t x_t x_t^T.
 * ldx is x's row stride in floats (>= n). */
void gq_cov_accum(double *c, const float *x, int rows, int n, int ldx);
/* The same for double input. */
void gq_cov_accum_f64(double *c, const double *x, int rows, int n, int ldx);
/* c += sum_t w[t] x_t x_t^T (w[t] >= 0; negative weights count as 0). */
void gq_cov_accum_weighted(double *c, const float *x, const double *w, int rows, int n, int ldx);

/* Fraction sum_{k<keep} w_k / sum_k w_k of eigenvalues w[0..n) (sorted
 * descending); 1 when the sum is not positive. */
double gq_energy_fraction(const double *w, int n, int keep);

/* 1 when every entry of x[0..n) is finite. */
int gq_all_finite_f64(const double *x, size_t n);

#endif
