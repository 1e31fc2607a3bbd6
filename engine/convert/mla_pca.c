/* mla_pca.c — per-group PCA and its absorption into the layer weights
 * (conversion.md §4.5), MLA → GQLA.
 *
 * For group g with members h_{g,0..gs-1}, the damped covariance of the
 * stacked K^N (V) features is the principal sub-matrix of the all-head
 * covariance for those heads in member order; its top d_n (d_v)
 * eigenvectors U^K_g (U^V_g) give the blocks B_{g,i} = U_g[i*d : (i+1)*d].
 * Everything is computed in float64 and rounded to float32 once, at the
 * end.  Not here: grouping (mla_group.c), reading or writing checkpoints
 * (mla.c).  Tests: tests/test_convert_mla.c (G = H exact, hidden groups).
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "gq_alloc.h"
#include "linalg.h"
#include "mla_math.h"

int gq_mla_group_basis(const gq_mla_proj *p, const int *members, int gs, double damping, double *U,
                       double *kept, double *total, gq_error *err)
{
    const int d = p->d, n = gs * d;
    double *cov = gq_malloc((size_t)n * n * sizeof *cov, "group covariance", err);
    double *blk = gq_malloc((size_t)d * d * sizeof *blk, "covariance block", err);
    double *ev = gq_malloc((size_t)n * sizeof *ev, "group eigenvalues", err);
    int rc = GQ_OK;
    if (!cov || !blk || !ev) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    for (int i = 0; i < gs; i++)
        for (int j = 0; j < gs; j++) {
            gq_mla_proj_block(p, members[i], members[j], blk);
            for (int a = 0; a < d; a++)
                memcpy(cov + (size_t)(i * d + a) * n + (size_t)j * d, blk + (size_t)a * d, (size_t)d * sizeof *blk);
        }
    /* symmetrise: the two triangles are equal in exact arithmetic only */
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++) {
            double m = 0.5 * (cov[(size_t)a * n + b] + cov[(size_t)b * n + a]);
            cov[(size_t)a * n + b] = cov[(size_t)b * n + a] = m;
        }
    double tr = 0.0;
    for (int a = 0; a < n; a++) tr += cov[(size_t)a * n + a];
    const double shift = damping * tr / n; /* what gq_damp adds to each eigenvalue */
    gq_damp(cov, n, damping);
    if ((rc = gq_eigh_desc(cov, ev, n, err)) != GQ_OK) goto done;
    for (int a = 0; a < n; a++) memcpy(U + (size_t)a * d, cov + (size_t)a * n, (size_t)d * sizeof *U);
    double sum = 0.0;
    for (int k = 0; k < d; k++) sum += ev[k] - shift;
    *kept = gs == 1 ? tr : sum; /* gs == 1 keeps every direction: say so exactly */
    *total = tr;
done:
    gq_free(cov);
    gq_free(blk);
    gq_free(ev);
    return rc;
}

/* dst[d, cols] (float) = B^T src[d, cols] with B the d x d block of U at row
 * offset i*d (U is [gs*d, d]). */
static void block_t_times(const double *U, int i, int d, const float *src, int cols, float *dst, double *acc)
{
    const double *B = U + (size_t)i * d * d;
    for (int k = 0; k < d; k++) {
        memset(acc, 0, (size_t)cols * sizeof *acc);
        for (int a = 0; a < d; a++) {
            double b = B[(size_t)a * d + k];
            const float *s = src + (size_t)a * cols;
            for (int c = 0; c < cols; c++) acc[c] += b * (double)s[c];
        }
        for (int c = 0; c < cols; c++) dst[(size_t)k * cols + c] = (float)acc[c];
    }
}

int gq_mla_absorb_layer(const gq_mla_dims *dm, const int *members, const double *const *UK,
                        const double *const *UV, const gq_mla_attn_in *in, gq_mla_attn_out *out, gq_error *err)
{
    const int H = dm->H, G = dm->G, gs = H / G, dn = dm->dn, dr = dm->dr, dv = dm->dv, r = dm->r;
    const int qk = dn + dr, blk = dn + dv;
    int width = r > dm->q_in ? r : dm->q_in;
    if (width < dm->D) width = dm->D;
    if (width < 1) width = 1;
    double *acc = gq_malloc((size_t)width * sizeof *acc, "absorption accumulator", err);
    if (!acc) return GQ_ERR_NOMEM;

    for (int g = 0; g < G; g++) {
        /* kv_b block g: W̃_UK^g = Σ_i B^K_{g,i}^T W_UK^{h_{g,i}}, then V likewise */
        float *dstK = out->kv_b + (size_t)g * blk * r;
        float *dstV = dstK + (size_t)dn * r;
        for (int k = 0; k < dn; k++) {
            memset(acc, 0, (size_t)r * sizeof *acc);
            for (int i = 0; i < gs; i++) {
                const float *W = in->kv_b + (size_t)members[g * gs + i] * blk * r;
                for (int a = 0; a < dn; a++) {
                    double b = UK[g][(size_t)(i * dn + a) * dn + k];
                    for (int c = 0; c < r; c++) acc[c] += b * (double)W[(size_t)a * r + c];
                }
            }
            for (int c = 0; c < r; c++) dstK[(size_t)k * r + c] = (float)acc[c];
        }
        for (int k = 0; k < dv; k++) {
            memset(acc, 0, (size_t)r * sizeof *acc);
            for (int i = 0; i < gs; i++) {
                const float *W = in->kv_b + ((size_t)members[g * gs + i] * blk + dn) * r;
                for (int a = 0; a < dv; a++) {
                    double b = UV[g][(size_t)(i * dv + a) * dv + k];
                    for (int c = 0; c < r; c++) acc[c] += b * (double)W[(size_t)a * r + c];
                }
            }
            for (int c = 0; c < r; c++) dstV[(size_t)k * r + c] = (float)acc[c];
        }

        for (int i = 0; i < gs; i++) {
            const int n = g * gs + i, h = members[n];
            /* query: nope rows through B^K_{g,i}^T, rope rows moved */
            const float *qh = in->q + (size_t)h * qk * dm->q_in;
            float *qn = out->q + (size_t)n * qk * dm->q_in;
            block_t_times(UK[g], i, dn, qh, dm->q_in, qn, acc);
            memcpy(qn + (size_t)dn * dm->q_in, qh + (size_t)dn * dm->q_in, (size_t)dr * dm->q_in * sizeof *qn);
            if (in->q_bias) {
                block_t_times(UK[g], i, dn, in->q_bias + (size_t)h * qk, 1, out->q_bias + (size_t)n * qk, acc);
                memcpy(out->q_bias + (size_t)n * qk + dn, in->q_bias + (size_t)h * qk + dn, (size_t)dr * sizeof(float));
            }
            /* o_proj: new columns n*d_v.. = old columns h*d_v.. · B^V_{g,i} */
            const double *B = UV[g] + (size_t)i * dv * dv;
            const int ocols = H * dv;
            for (int row = 0; row < dm->D; row++) {
                const float *src = in->o + (size_t)row * ocols + (size_t)h * dv;
                float *dst = out->o + (size_t)row * ocols + (size_t)n * dv;
                for (int k = 0; k < dv; k++) {
                    double s = 0.0;
                    for (int a = 0; a < dv; a++) s += (double)src[a] * B[(size_t)a * dv + k];
                    dst[k] = (float)s;
                }
            }
        }
    }
    gq_free(acc);
    return GQ_OK;
}
