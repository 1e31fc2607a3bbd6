/* mla_group.c — head grouping for MLA → GQLA conversion (conversion.md
 * §4.4): per-head projections of the latent covariance, the similarity
 * score (normalised nuclear norms of the cross-covariance blocks), and the
 * deterministic greedy balanced grouping.
 *
 * Not here: the PCA of a group (mla_pca.c) or anything that reads a model.
 * Tests: tests/test_convert_mla_math.c (greedy grouping on a hand-made S,
 * similarity on constructed covariances) and tests/test_convert_mla.c (a
 * hidden-group source whose groups must be recovered).
 */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "gq_alloc.h"
#include "mla_math.h"

// ---------------------------------------------------------------------------
// projections of the latent covariance

int gq_mla_proj_init(gq_mla_proj *p, const double *cov_c, const float *kv_b, int H, int dn, int dv, int r,
                     int part, gq_error *err)
{
    memset(p, 0, sizeof *p);
    p->H = H;
    p->d = part == 0 ? dn : dv;
    p->r = r;
    const int row0 = part == 0 ? 0 : dn, stride = dn + dv;
    size_t hdr = (size_t)H * (size_t)p->d * (size_t)r;
    p->W = gq_malloc(hdr * sizeof *p->W, "per-head kv_b rows (float64)", err);
    p->P = gq_malloc(hdr * sizeof *p->P, "per-head latent covariance projections", err);
    if (!p->P || !p->W) {
        gq_mla_proj_free(p);
        return GQ_ERR_NOMEM;
    }
    for (int h = 0; h < H; h++) {
        const float *src = kv_b + ((size_t)h * stride + row0) * r;
        double *W = p->W + (size_t)h * p->d * r;
        for (size_t i = 0; i < (size_t)p->d * r; i++) W[i] = src[i];
        /* P^h [d, r] = W^h [d, r] Σ_c [r, r] */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, p->d, r, r, 1.0, W, r, cov_c, r, 0.0,
                    p->P + (size_t)h * p->d * r, r);
    }
    return GQ_OK;
}

void gq_mla_proj_free(gq_mla_proj *p)
{
    if (!p) return;
    gq_free(p->P);
    gq_free(p->W);
    p->P = p->W = NULL;
}

void gq_mla_proj_block(const gq_mla_proj *p, int h, int h2, double *block)
{
    const int d = p->d, r = p->r;
    /* block [d, d] = P^h [d, r] (W^{h2})^T */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d, d, r, 1.0, p->P + (size_t)h * d * r, r,
                p->W + (size_t)h2 * d * r, r, 0.0, block, d);
}

// ---------------------------------------------------------------------------
// the similarity score

static double trace(const double *a, int d)
{
    double t = 0.0;
    for (int i = 0; i < d; i++) t += a[(size_t)i * d + i];
    return t;
}

/* Sum of singular values of the d x d matrix a (destroyed). */
static int nuclear_norm(double *a, int d, double *sv, double *out, gq_error *err)
{
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', d, d, a, d, sv, NULL, d, NULL, d);
    if (info != 0)
        return gq_error_set(err, GQ_ERR_INVALID, "singular values of a %d x %d cross-covariance block failed "
                            "(dgesdd info %d)", d, d, (int)info);
    double s = 0.0;
    for (int i = 0; i < d; i++) s += sv[i];
    *out = s;
    return GQ_OK;
}

/* S[h,h'] += w ||Σ_{hh'}||_* / sqrt(max(tr Σ_hh tr Σ_h'h', 1e-30)) for h < h', mirrored. */
static int add_similarity(const gq_mla_proj *p, double weight, double *S, gq_error *err)
{
    const int H = p->H, d = p->d;
    int rc = GQ_OK;
    double *tr = gq_malloc((size_t)H * sizeof *tr, "head traces", err);
    double *block = gq_malloc((size_t)d * d * sizeof *block, "cross-covariance block", err);
    double *sv = gq_malloc((size_t)d * sizeof *sv, "singular values", err);
    if (!tr || !block || !sv) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    for (int h = 0; h < H; h++) {
        gq_mla_proj_block(p, h, h, block);
        tr[h] = trace(block, d);
    }
    for (int h = 0; h < H; h++)
        for (int h2 = h + 1; h2 < H; h2++) {
            double nuc = 0.0;
            gq_mla_proj_block(p, h, h2, block);
            if ((rc = nuclear_norm(block, d, sv, &nuc, err)) != GQ_OK) goto done;
            double prod = tr[h] * tr[h2];
            if (prod < 1e-30) prod = 1e-30;
            double s = weight * nuc / sqrt(prod);
            S[(size_t)h * H + h2] += s;
            S[(size_t)h2 * H + h] += s;
        }
done:
    gq_free(tr);
    gq_free(block);
    gq_free(sv);
    return rc;
}

int gq_mla_similarity(const gq_mla_proj *pk, const gq_mla_proj *pv, double w_k, double w_v, double *S,
                      gq_error *err)
{
    const int H = pk->H;
    memset(S, 0, (size_t)H * H * sizeof *S);
    int rc = add_similarity(pk, w_k, S, err);
    if (rc == GQ_OK) rc = add_similarity(pv, w_v, S, err);
    if (rc != GQ_OK) return rc;
    for (int h = 0; h < H; h++) S[(size_t)h * H + h] = -INFINITY;
    for (size_t i = 0; i < (size_t)H * H; i++)
        if (isnan(S[i]))
            return gq_error_set(err, GQ_ERR_INVALID, "head similarity S[%zu][%zu] is NaN", i / H, i % H);
    return GQ_OK;
}

// ---------------------------------------------------------------------------
// greedy balanced grouping

void gq_mla_group_neighbor(int H, int *members)
{
    for (int n = 0; n < H; n++) members[n] = n;
}

/* Unassigned heads are kept as a flag array scanned in ascending order,
 * which is the spec's "ascending list". */
int gq_mla_group_greedy(const double *S, int H, int gs, int *members, gq_error *err)
{
    if (H <= 0 || gs <= 0 || H % gs != 0)
        return gq_error_set(err, GQ_ERR_INVALID, "grouping %d heads into groups of %d: the size must divide the "
                            "head count", H, gs);
    char *flag = gq_calloc((size_t)H, 1, "grouping flags", err);
    if (!flag) return GQ_ERR_NOMEM;
    int n_out = 0, remaining = H;
    while (remaining > 0) {
        int start = n_out;
        if (gs >= 2 && remaining >= 2) { /* seed with the most similar unassigned pair */
            int bh = -1, bh2 = -1;
            double best = -INFINITY;
            for (int h = 0; h < H; h++) {
                if (flag[h]) continue;
                for (int h2 = h + 1; h2 < H; h2++) {
                    if (flag[h2]) continue;
                    double s = S[(size_t)h * H + h2];
                    if (bh < 0 || s > best) { /* first strict maximum wins */
                        best = s;
                        bh = h;
                        bh2 = h2;
                    }
                }
            }
            members[n_out++] = bh;
            members[n_out++] = bh2;
            flag[bh] = flag[bh2] = 1;
            remaining -= 2;
        } else { /* seed with the first unassigned head */
            for (int h = 0; h < H; h++)
                if (!flag[h]) {
                    members[n_out++] = h;
                    flag[h] = 1;
                    remaining--;
                    break;
                }
        }
        while (n_out - start < gs) { /* grow by the head most similar to the whole group */
            int bh = -1;
            double best = -INFINITY;
            for (int h = 0; h < H; h++) {
                if (flag[h]) continue;
                double s = 0.0;
                for (int m = start; m < n_out; m++) s += S[(size_t)h * H + members[m]];
                if (bh < 0 || s > best) {
                    best = s;
                    bh = h;
                }
            }
            members[n_out++] = bh;
            flag[bh] = 1;
            remaining--;
        }
    }
    gq_free(flag);
    return GQ_OK;
}
