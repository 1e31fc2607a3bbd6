/* mla_math.h — the pure arithmetic of MLA → GQLA conversion (conversion.md
 * §4.2–§4.5): the weighted covariance estimator, the head-similarity score,
 * the greedy balanced grouping, and the per-group PCA with its absorption
 * into kv_b_proj, the query nope rows and the o_proj columns.
 *
 * Nothing here touches files or models: every function maps arrays to
 * arrays, so the unit tests (tests/test_convert_mla_math.c) can feed hand
 * computed numbers.  engine/convert/mla.c drives these over a checkpoint.
 *
 * Why statistics of the latent suffice: K^N_h(t) = W_UK^h ĉ_t and
 * V_h(t) = W_UV^h ĉ_t are linear in the latent ĉ_t, and the §4.3 estimator
 * commutes with a linear map (its mean and its weighted second moment both
 * do), so Σ(z) = W Σ(ĉ) W^T for any stacked z = W ĉ.  The converter thus
 * accumulates one r x r statistic per layer and projects it onto each
 * head, pair of heads or group, instead of accumulating H*d_n wide ones.
 *
 * Shapes: H query heads (= KV heads of the MLA source), G groups,
 * gs = H/G heads per group, d_n / d_r / d_v the nope, rope and value head
 * widths, r the latent rank, D the hidden size.  Matrices are row-major
 * double unless said otherwise; weights are float32 in HF layout
 * ([out, in]).  A grouping is an array members[H]: member i of group g is
 * the original head members[g*gs + i], which also becomes new head
 * g*gs + i (§4.4).
 */
#ifndef GQ_CONVERT_MLA_MATH_H
#define GQ_CONVERT_MLA_MATH_H

#include <stddef.h>
#include "gq_error.h"

// ---------------------------------------------------------------------------
// §4.3 the covariance estimator

/* The running sums of the §4.3 estimator over feature vectors z_t of
 * width n with token weights w_t >= 0:
 *   wsum = Σ w_t,  msum = Σ sqrt(w_t) z_t  (sic: sqrt in the mean),
 *   second = Σ w_t z_t z_t^T  (float64, both triangles). */
typedef struct gq_mla_wcov {
    int n;            /* feature width */
    double wsum;      /* Σ w_t */
    double *msum;     /* [n]    Σ sqrt(w_t) z_t */
    double *second;   /* [n, n] Σ w_t z_t z_t^T */
} gq_mla_wcov;

/* Zeroed sums for width n; on failure c owns nothing. */
int gq_mla_wcov_init(gq_mla_wcov *c, int n, gq_error *err);
void gq_mla_wcov_free(gq_mla_wcov *c);   /* accepts a zeroed or freed struct */
/* Add rows z[t*ldz .. +n) for t < T with weights w[t] (w NULL: all 1).
 * A negative or non-finite weight is GQ_ERR_INVALID naming the row. */
int gq_mla_wcov_add(gq_mla_wcov *c, const float *z, int ldz, int T, const double *w, gq_error *err);
/* The centered, UNdamped estimate into cov[n*n]:
 *   μ = msum / wsum,  Σ = (second − wsum μ μ^T) / max(wsum − 1, 1).
 * GQ_ERR_INVALID when wsum is not positive or a sum is not finite. */
int gq_mla_wcov_finish(const gq_mla_wcov *c, double *cov, gq_error *err);

/* §4.2 Hessian-NLL token weights of one sequence of S tokens: nll[t] is
 * −log P(token t+1 | ..t) for t < S−1; w[t] = nll[t] / max(mean nll, 1e-12)
 * for t < S−1 and w[S−1] = 0.  S == 1 gives w[0] = 0. */
void gq_mla_nll_weights(const double *nll, int S, double *w);

// ---------------------------------------------------------------------------
// §4.4 grouping

/* Per-head projections of the latent covariance, shared by the similarity
 * score and the group PCA: for each head h the rows W^h of kv_b_proj
 * (K rows when part = 0, V rows when part = 1; width d = d_n or d_v) and
 * P^h = W^h Σ_c ([d, r]), so that the d x d covariance block of heads
 * (h, h') is P^h (W^{h'})^T. */
typedef struct gq_mla_proj {
    int H, d, r;
    double *W;            /* [H, d, r] W^h: the K (or V) rows of head h's kv_b_proj block, widened */
    double *P;            /* [H, d, r] P^h = W^h Σ_c */
} gq_mla_proj;

/* part 0: K (row0 0, width d_n); part 1: V (row0 d_n, width d_v). */
int gq_mla_proj_init(gq_mla_proj *p, const double *cov_c, const float *kv_b, int H, int dn, int dv, int r,
                     int part, gq_error *err);
void gq_mla_proj_free(gq_mla_proj *p);
/* block[d*d] = Σ_{hh'} = P^h (W^{h'})^T */
void gq_mla_proj_block(const gq_mla_proj *p, int h, int h2, double *block);

/* The similarity matrix S[H*H] of §4.4 from the K and V projections:
 *   S[h,h'] = w_k ||Σ^K_{hh'}||_* / sqrt(max(tr Σ^K_{hh} tr Σ^K_{h'h'}, 1e-30)) + (same for V, w_v),
 *   S[h,h] = −INFINITY.
 * Nuclear norms from the singular values (LAPACKE_dgesdd). */
int gq_mla_similarity(const gq_mla_proj *pk, const gq_mla_proj *pv, double w_k, double w_v, double *S,
                      gq_error *err);

/* Greedy balanced grouping of §4.4 over S[H*H] into groups of gs heads
 * (gs must divide H, else GQ_ERR_INVALID); writes members[H].
 * Deterministic: ties go to the first pair / head in ascending order.
 * Heads whose scores are all −INFINITY or NaN are still placed (the first
 * candidate is taken when nothing compares greater). */
int gq_mla_group_greedy(const double *S, int H, int gs, int *members, gq_error *err);
/* Neighbor grouping: members[n] = n. */
void gq_mla_group_neighbor(int H, int *members);

// ---------------------------------------------------------------------------
// §4.5 per-group PCA and absorption

/* The basis U[gs*d, d] (row-major: U[row*d + k], column k the k-th
 * eigenvector, largest first, linalg.h's sign convention) of the damped
 * covariance (damping: frac of the mean diagonal, §4.3's 0.01) of the
 * group's stacked features, heads members[0..gs) in that order.
 * *total gets the trace of the UNdamped group covariance and *kept the
 * part of it along the kept d directions (the top d undamped eigenvalues;
 * *kept == *total when gs == 1). */
int gq_mla_group_basis(const gq_mla_proj *p, const int *members, int gs, double damping, double *U,
                       double *kept, double *total, gq_error *err);

/* One layer's attention tensors that the conversion changes, float32, HF
 * layout: the source's (read) and the converted layer's (written). */
typedef struct gq_mla_attn_in {
    const float *kv_b;    /* [H*(d_n+d_v), r] block-major, K rows then V rows */
    const float *q;       /* [H*(d_n+d_r), q_in] q_proj or q_b_proj (q_in = D or r_q) */
    const float *q_bias;  /* [H*(d_n+d_r)] or NULL */
    const float *o;       /* [D, H*d_v] */
} gq_mla_attn_in;

typedef struct gq_mla_attn_out {
    float *kv_b;          /* [G*(d_n+d_v), r] */
    float *q;             /* [H*(d_n+d_r), q_in] */
    float *q_bias;        /* [H*(d_n+d_r)], allocated iff the source has one */
    float *o;             /* [D, H*d_v] */
} gq_mla_attn_out;

typedef struct gq_mla_dims {
    int H, G, dn, dr, dv, r, q_in, D;
} gq_mla_dims;

/* Absorb the group bases into a layer (§4.5): UK[g] is group g's
 * [gs*d_n, d_n] basis, UV[g] its [gs*d_v, d_v] one, members the grouping.
 *   kv_b block g:  W̃_UK^g = U^K_g^T [W_UK^{h_{g,0}}; ...],  W̃_UV^g likewise;
 *   new head n = g*gs + i: nope rows (and bias) = B^K_{g,i}^T · old head
 *   h_{g,i}'s nope rows, rope rows = old head's rope rows; o_proj columns
 *   = old head's columns · B^V_{g,i}.
 * out's arrays are the caller's; fails only when its small scratch cannot
 * be allocated. */
int gq_mla_absorb_layer(const gq_mla_dims *dm, const int *members, const double *const *UK,
                        const double *const *UV, const gq_mla_attn_in *in, gq_mla_attn_out *out, gq_error *err);

#endif
