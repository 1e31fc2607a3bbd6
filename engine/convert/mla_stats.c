/* mla_stats.c — the covariance estimator of conversion.md §4.3 and the
 * Hessian-NLL token weights of §4.2 (MLA → GQLA conversion).
 *
 * The estimator is the GQLA preprint's, kept exactly: centered, with
 * sqrt(w) in the mean (the ordinary mean when every w is 1), float64, and
 * divided by max(n − 1, 1).  Damping is applied later, per group
 * (mla_pca.c), because §4.4's similarity score uses the undamped blocks.
 * Tested on hand-computed numbers in tests/test_convert_mla_math.c.
 */
#include <math.h>
#include <string.h>

#include "gq_alloc.h"
#include "linalg.h"
#include "mla_math.h"

int gq_mla_wcov_init(gq_mla_wcov *c, int n, gq_error *err)
{
    memset(c, 0, sizeof *c);
    if (n <= 0) return gq_error_set(err, GQ_ERR_INVALID, "covariance width %d: expected > 0", n);
    c->n = n;
    c->msum = gq_calloc((size_t)n, sizeof *c->msum, "latent mean sums", err);
    c->second = gq_calloc((size_t)n * (size_t)n, sizeof *c->second, "latent second moments", err);
    if (!c->msum || !c->second) {
        gq_mla_wcov_free(c);
        return GQ_ERR_NOMEM;
    }
    return GQ_OK;
}

void gq_mla_wcov_free(gq_mla_wcov *c)
{
    if (!c) return;
    gq_free(c->msum);
    gq_free(c->second);
    c->msum = c->second = NULL;
    c->n = 0;
    c->wsum = 0;
}

int gq_mla_wcov_add(gq_mla_wcov *c, const float *z, int ldz, int T, const double *w, gq_error *err)
{
    const int n = c->n;
    for (int t = 0; t < T; t++) {
        double wt = w ? w[t] : 1.0;
        if (!(wt >= 0.0) || !isfinite(wt))
            return gq_error_set(err, GQ_ERR_INVALID, "token weight of calibration row %d is %g: expected a finite "
                                "value >= 0", t, wt);
    }
    for (int t = 0; t < T; t++) {
        double wt = w ? w[t] : 1.0, sw = sqrt(wt);
        const float *zt = z + (size_t)t * ldz;
        c->wsum += wt;
        for (int i = 0; i < n; i++) c->msum[i] += sw * zt[i];
    }
    if (w) gq_cov_accum_weighted(c->second, z, w, T, n, ldz);
    else gq_cov_accum(c->second, z, T, n, ldz);
    return GQ_OK;
}

int gq_mla_wcov_finish(const gq_mla_wcov *c, double *cov, gq_error *err)
{
    const int n = c->n;
    const double wsum = c->wsum;
    if (!(wsum > 0.0) || !isfinite(wsum))
        return gq_error_set(err, GQ_ERR_INVALID, "calibration token weights sum to %g: expected > 0 (no "
                            "calibration tokens, or every NLL weight zero)", wsum);
    const double denom = wsum - 1.0 > 1.0 ? wsum - 1.0 : 1.0;
    for (int i = 0; i < n; i++) {
        double mi = c->msum[i] / wsum;
        for (int j = 0; j < n; j++) {
            double mj = c->msum[j] / wsum;
            cov[(size_t)i * n + j] = (c->second[(size_t)i * n + j] - wsum * mi * mj) / denom;
        }
    }
    if (!gq_all_finite_f64(cov, (size_t)n * n))
        return gq_error_set(err, GQ_ERR_INVALID, "latent covariance (%d x %d) has a NaN or Inf entry", n, n);
    return GQ_OK;
}

void gq_mla_nll_weights(const double *nll, int S, double *w)
{
    if (S <= 0) return;
    double mean = 0.0;
    for (int t = 0; t + 1 < S; t++) mean += nll[t];
    if (S > 1) mean /= (double)(S - 1);
    double scale = mean > 1e-12 ? mean : 1e-12;
    for (int t = 0; t + 1 < S; t++) w[t] = nll[t] / scale;
    w[S - 1] = 0.0;
}
