/* test_convert_mla_math.c — the pure arithmetic of MLA → GQLA conversion
 * (engine/convert/mla_math.h) on hand-computed numbers:
 *   - §4.3 estimator: weighted (sqrt(w) in the mean, wsum − 1 divisor),
 *     uniform (the ordinary sample covariance), wsum < 2 (divisor 1), bad
 *     weights refused, and Σ(W z) = W Σ(z) W^T (why a latent statistic is
 *     enough);
 *   - §4.2 NLL weights;
 *   - §4.4 similarity on constructed kv_b rows and the greedy balanced
 *     grouping on a hand-made S (seed pair, growth by summed similarity,
 *     tie rules, gs = 1, gs = H, gs not dividing H);
 *   - §4.5 group basis: energy fractions and U orthonormal; the absorption
 *     with identity bases is a pure head permutation.
 * Usage: test_convert_mla_math (no arguments).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gq_error.h"
#include "linalg.h"
#include "mla_math.h"
#include "testutil.h"

static int near(double a, double b, double tol) { return fabs(a - b) <= tol * (1.0 + fabs(b)); }

static void test_estimator(void)
{
    gq_error err = {0};
    gq_mla_wcov c;
    double cov[4];

    /* z = (1,2), (3,0), (-1,4) with w = 1, 4, 1/4:
     * wsum = 5.25, Σ sqrt(w) z = (1+6-0.5, 2+0+2) = (6.5, 4),
     * Σ w z z^T = [[1+36+0.25, 2+0-1], [., 4+0+4]] = [[37.25, 1], [1, 8]],
     * Σ = (second - (msum msum^T)/wsum) / (wsum - 1). */
    const float z[6] = {1, 2, 3, 0, -1, 4};
    const double w[3] = {1, 4, 0.25};
    test_cond("wcov init", gq_mla_wcov_init(&c, 2, &err) == GQ_OK);
    test_cond("wcov add (weighted)", gq_mla_wcov_add(&c, z, 2, 3, w, &err) == GQ_OK);
    test_cond("wcov finish", gq_mla_wcov_finish(&c, cov, &err) == GQ_OK);
    double s00 = (37.25 - 6.5 * 6.5 / 5.25) / 4.25, s01 = (1 - 6.5 * 4 / 5.25) / 4.25, s11 = (8 - 16 / 5.25) / 4.25;
    printf("weighted estimator: [[%.9f %.9f] [%.9f %.9f]], hand [[%.9f %.9f] [. %.9f]]\n", cov[0], cov[1], cov[2],
           cov[3], s00, s01, s11);
    test_cond("weighted §4.3 estimator equals the hand computation (sqrt(w) in the mean)",
              near(cov[0], s00, 1e-12) && near(cov[1], s01, 1e-12) && near(cov[2], s01, 1e-12) &&
                  near(cov[3], s11, 1e-12));
    /* the same rows fed in two calls give the same sums */
    gq_mla_wcov_free(&c);
    double cov2[4];
    gq_mla_wcov_init(&c, 2, &err);
    gq_mla_wcov_add(&c, z, 2, 1, w, &err);
    gq_mla_wcov_add(&c, z + 2, 2, 2, w + 1, &err);
    gq_mla_wcov_finish(&c, cov2, &err);
    test_cond("accumulating in two calls gives the same estimate",
              near(cov2[0], s00, 1e-12) && near(cov2[1], s01, 1e-12) && near(cov2[3], s11, 1e-12));
    gq_mla_wcov_free(&c);

    /* uniform: the ordinary sample covariance of 1, 2, 3, 4 is 5/3 */
    const float u[4] = {1, 2, 3, 4};
    gq_mla_wcov_init(&c, 1, &err);
    gq_mla_wcov_add(&c, u, 1, 4, NULL, &err);
    gq_mla_wcov_finish(&c, cov, &err);
    test_cond("uniform weights: sample variance of 1..4 is 5/3", near(cov[0], 5.0 / 3.0, 1e-14));
    gq_mla_wcov_free(&c);

    /* wsum = 1.5 < 2: divisor max(wsum-1, 1) = 1.  z = 2 (w 1), 4 (w 0.5):
     * msum = 2 + sqrt(.5)*4, μ = msum/1.5, second = 4 + 8 = 12. */
    const float v[2] = {2, 4};
    const double wv[2] = {1, 0.5};
    gq_mla_wcov_init(&c, 1, &err);
    gq_mla_wcov_add(&c, v, 1, 2, wv, &err);
    gq_mla_wcov_finish(&c, cov, &err);
    double ms = 2 + sqrt(0.5) * 4;
    test_cond("wsum < 2: the divisor is 1", near(cov[0], 12 - ms * ms / 1.5, 1e-13));
    gq_mla_wcov_free(&c);

    /* bad weights and empty sums are errors, not NaN */
    const double bad[1] = {-1};
    gq_mla_wcov_init(&c, 1, &err);
    test_cond("a negative token weight is refused",
              gq_mla_wcov_add(&c, v, 1, 1, bad, &err) == GQ_ERR_INVALID && strstr(err.msg, "weight"));
    test_cond("no tokens: finish refuses (weights sum to 0)", gq_mla_wcov_finish(&c, cov, &err) == GQ_ERR_INVALID);
    gq_mla_wcov_free(&c);

    /* linearity: Σ(W z) = W Σ(z) W^T for z of width 3, W 2 x 3, NLL-like weights */
    float zz[3 * 7], wz[2 * 7];
    double ww[7], W[6] = {0.5, -1.25, 2, 1, 0.75, -0.5};
    for (int t = 0; t < 7; t++) {
        for (int i = 0; i < 3; i++) zz[t * 3 + i] = (float)(((t * 7 + i * 3) % 11) - 5) * 0.25f;
        for (int a = 0; a < 2; a++) {
            double s = 0;
            for (int i = 0; i < 3; i++) s += W[a * 3 + i] * zz[t * 3 + i];
            wz[t * 2 + a] = (float)s; /* exact: quarters times these W are exact in float */
        }
        ww[t] = 0.3 + 0.2 * t;
    }
    double cz[9], cwz[4];
    gq_mla_wcov_init(&c, 3, &err);
    gq_mla_wcov_add(&c, zz, 3, 7, ww, &err);
    gq_mla_wcov_finish(&c, cz, &err);
    gq_mla_wcov_free(&c);
    gq_mla_wcov_init(&c, 2, &err);
    gq_mla_wcov_add(&c, wz, 2, 7, ww, &err);
    gq_mla_wcov_finish(&c, cwz, &err);
    gq_mla_wcov_free(&c);
    double worst = 0;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            double s = 0;
            for (int i = 0; i < 3; i++)
                for (int k = 0; k < 3; k++) s += W[a * 3 + i] * cz[i * 3 + k] * W[b * 3 + k];
            worst = fmax(worst, fabs(s - cwz[a * 2 + b]));
        }
    printf("linearity of the estimator: max |W Σ(z) W^T - Σ(Wz)| = %.3g\n", worst);
    test_cond("the estimator commutes with a linear map (latent statistic suffices)", worst < 1e-12);

    /* damping: +1 % of the mean diagonal */
    double d[4] = {2, 1, 1, 4};
    gq_damp(d, 2, 0.01);
    test_cond("1 % damping adds 0.03 to the diagonal of diag(2, 4)",
              near(d[0], 2.03, 1e-15) && near(d[3], 4.03, 1e-15) && d[1] == 1);
}

static void test_nll_weights(void)
{
    double nll[3] = {1, 3, 99}, w[3] = {-1, -1, -1};
    gq_mla_nll_weights(nll, 3, w);
    test_cond("NLL weights: l_t / mean l, last token 0", w[0] == 0.5 && w[1] == 1.5 && w[2] == 0);
    double z[3] = {0, 0, 0};
    gq_mla_nll_weights(z, 3, w);
    test_cond("NLL weights: mean clamped at 1e-12 (all zero stays zero, no NaN)", w[0] == 0 && w[1] == 0 && w[2] == 0);
    double one[1] = {5};
    gq_mla_nll_weights(one, 1, w);
    test_cond("NLL weights: a one-token sequence gets weight 0", w[0] == 0);
}

/* kv_b rows for 3 heads, d_n = d_v = 1, r = 2 (Σ_c = I, so Σ_{hh'} = W^h W^{h'}^T):
 * K rows (1,0), (2,0), (0,3); V rows (0,1), (1,1), (0,2).
 * Σ^K: 00 1, 11 4, 22 9, 01 2, 02 0, 12 0;  Σ^V: 00 1, 11 2, 22 4, 01 1, 02 2, 12 2.
 * S[0,1] = 2/2 + 1/sqrt(2),  S[0,2] = 0 + 2/2,  S[1,2] = 0 + 2/sqrt(8). */
static void test_similarity(void)
{
    gq_error err = {0};
    const float kvb[12] = {1, 0, 0, 1, 2, 0, 1, 1, 0, 3, 0, 2};
    const double I2[4] = {1, 0, 0, 1};
    gq_mla_proj pk, pv;
    double S[9];
    test_cond("proj K", gq_mla_proj_init(&pk, I2, kvb, 3, 1, 1, 2, 0, &err) == GQ_OK);
    test_cond("proj V", gq_mla_proj_init(&pv, I2, kvb, 3, 1, 1, 2, 1, &err) == GQ_OK);
    test_cond("similarity", gq_mla_similarity(&pk, &pv, 1, 1, S, &err) == GQ_OK);
    printf("S = [%g %g %g; %g %g %g; %g %g %g]\n", S[0], S[1], S[2], S[3], S[4], S[5], S[6], S[7], S[8]);
    test_cond("S[0,1] = 1 + 1/sqrt 2", near(S[1], 1 + 1 / sqrt(2.0), 1e-14) && S[3] == S[1]);
    test_cond("S[0,2] = 1", near(S[2], 1.0, 1e-14) && S[6] == S[2]);
    test_cond("S[1,2] = 2/sqrt 8", near(S[5], 2 / sqrt(8.0), 1e-14) && S[7] == S[5]);
    test_cond("S[h,h] = -inf", isinf(S[0]) && S[0] < 0 && isinf(S[4]) && isinf(S[8]));
    double w2[9];
    gq_mla_similarity(&pk, &pv, 2, 0.5, w2, &err);
    test_cond("w_k, w_v weight the two terms", near(w2[1], 2 + 0.5 / sqrt(2.0), 1e-14));
    gq_mla_proj_free(&pk);
    gq_mla_proj_free(&pv);

    /* nuclear norm with d = 2: K rows head 0 = I, head 1 = diag(3, -4); V rows 0.
     * Σ^K_01 = diag(3, -4): ||.||_* = 7; tr 2 and 25 -> 7/sqrt(50); V: 0 / sqrt(1e-30) = 0. */
    const float kvb2[16] = {1, 0, 0, 1, 0, 0, 0, 0, 3, 0, 0, -4, 0, 0, 0, 0};
    double S2[4];
    gq_mla_proj_init(&pk, I2, kvb2, 2, 2, 2, 2, 0, &err);
    gq_mla_proj_init(&pv, I2, kvb2, 2, 2, 2, 2, 1, &err);
    test_cond("similarity d = 2", gq_mla_similarity(&pk, &pv, 1, 1, S2, &err) == GQ_OK);
    printf("S2[0,1] = %.15g (7/sqrt 50 = %.15g)\n", S2[1], 7 / sqrt(50.0));
    test_cond("nuclear norm of diag(3,-4) over sqrt(2*25); zero V blocks add 0 (trace clamp, no NaN)",
              near(S2[1], 7 / sqrt(50.0), 1e-13));

    /* group basis of heads {0, 1} (d = 2): stacked K = [I; diag(3,-4)] c with Σ_c = I has
     * covariance [[I, D], [D, D^2]], rank 2: the top 2 eigenvectors keep all of it. */
    double U[8], kept, tot;
    int mem[2] = {0, 1};
    test_cond("group basis", gq_mla_group_basis(&pk, mem, 2, 0.01, U, &kept, &tot, &err) == GQ_OK);
    printf("rank-2 group of width 4: kept %.15g of %.15g\n", kept, tot);
    test_cond("trace of the undamped group covariance is 1+1+9+16", near(tot, 27, 1e-13));
    test_cond("a rank-d group keeps all its energy", near(kept, tot, 1e-12));
    double gram_err = 0;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            double s = 0;
            for (int i = 0; i < 4; i++) s += U[i * 2 + a] * U[i * 2 + b];
            gram_err = fmax(gram_err, fabs(s - (a == b)));
        }
    test_cond("U has orthonormal columns", gram_err < 1e-13);
    /* the kept directions span the group's features: the K rows of head 0 and 1 lie in span(U) */
    double resid = 0;
    for (int col = 0; col < 2; col++) { /* column col of [I; diag(3,-4)] */
        double x[4] = {col == 0, col == 1, col == 0 ? 3 : 0, col == 1 ? -4 : 0}, p[4] = {0};
        for (int k = 0; k < 2; k++) {
            double dot = 0;
            for (int i = 0; i < 4; i++) dot += U[i * 2 + k] * x[i];
            for (int i = 0; i < 4; i++) p[i] += dot * U[i * 2 + k];
        }
        for (int i = 0; i < 4; i++) resid = fmax(resid, fabs(p[i] - x[i]));
    }
    test_cond("the group's K rows lie in the span of U (exact reconstruction)", resid < 1e-12);
    int mem1[1] = {1};
    double U1[4];
    gq_mla_group_basis(&pk, mem1, 1, 0.01, U1, &kept, &tot, &err);
    test_cond("gs = 1: kept == total (full orthogonal basis)", kept == tot && near(tot, 25, 1e-13));
    gq_mla_proj_free(&pk);
    gq_mla_proj_free(&pv);
}

static void set_sym(double *S, int H, int a, int b, double v) { S[a * H + b] = S[b * H + a] = v; }

static void test_greedy(void)
{
    gq_error err = {0};
    enum { H = 6 };
    double S[H * H];
    for (int i = 0; i < H * H; i++) S[i] = 0;
    for (int h = 0; h < H; h++) S[h * H + h] = -INFINITY;
    /* seed pair (2,5) = 0.9; growth sums: h0 0.1+0.1, h1 0.5+0.05, h3 0.3+0.3, h4 0+0.2 -> h3,
     * though h1 holds the largest single score with 2.  Then {0,1,4}: (0,1) = (0,4) = 0.4, the
     * first pair in ascending order wins, 4 joins last. */
    set_sym(S, H, 2, 5, 0.9);
    set_sym(S, H, 0, 2, 0.1);
    set_sym(S, H, 0, 5, 0.1);
    set_sym(S, H, 1, 2, 0.5);
    set_sym(S, H, 1, 5, 0.05);
    set_sym(S, H, 3, 2, 0.3);
    set_sym(S, H, 3, 5, 0.3);
    set_sym(S, H, 4, 5, 0.2);
    set_sym(S, H, 0, 1, 0.4);
    set_sym(S, H, 0, 4, 0.4);
    set_sym(S, H, 1, 4, 0.1);
    set_sym(S, H, 3, 4, 0.6); /* ignored: 3 is taken before */
    int m[H];
    test_cond("greedy runs", gq_mla_group_greedy(S, H, 3, m, &err) == GQ_OK);
    printf("greedy groups: [%d %d %d] [%d %d %d]\n", m[0], m[1], m[2], m[3], m[4], m[5]);
    const int want[H] = {2, 5, 3, 0, 1, 4};
    test_cond("greedy: seed pair, growth by summed similarity, first-pair tie rule",
              memcmp(m, want, sizeof want) == 0);

    /* gs = 2 on the same S: (2,5), then (3,4) = 0.6, then (0,1) */
    int m2[H];
    gq_mla_group_greedy(S, H, 2, m2, &err);
    const int want2[H] = {2, 5, 3, 4, 0, 1};
    test_cond("greedy gs = 2: pairs by descending similarity", memcmp(m2, want2, sizeof want2) == 0);

    /* all equal: the identity (first pair, then first heads) */
    double Z[H * H];
    for (int i = 0; i < H * H; i++) Z[i] = 0.25;
    for (int h = 0; h < H; h++) Z[h * H + h] = -INFINITY;
    int mz[H];
    gq_mla_group_greedy(Z, H, 3, mz, &err);
    const int ident[H] = {0, 1, 2, 3, 4, 5};
    test_cond("ties everywhere: groups in ascending order", memcmp(mz, ident, sizeof ident) == 0);
    gq_mla_group_greedy(S, H, 1, mz, &err);
    test_cond("gs = 1: the identity", memcmp(mz, ident, sizeof ident) == 0);
    gq_mla_group_greedy(S, H, 6, mz, &err);
    /* after {2,5,3}: h0 0.1+0.1+0 = 0.2, h1 0.5+0.05+0 = 0.55, h4 0+0.2+0.6 = 0.8 -> 4;
     * then h0 0.2+0.4 = 0.6, h1 0.55+0.1 = 0.65 -> 1; then 0. */
    const int want_all[H] = {2, 5, 3, 4, 1, 0};
    test_cond("gs = H: one group grown greedily", memcmp(mz, want_all, sizeof want_all) == 0);
    test_cond("gs not dividing H is refused", gq_mla_group_greedy(S, H, 4, mz, &err) == GQ_ERR_INVALID);
}

/* With identity bases the absorption only renumbers heads: new head n is old head members[n]. */
static void test_absorb_permutation(void)
{
    gq_error err = {0};
    enum { H = 4, G = 2, GS = 2, DN = 2, DR = 1, DV = 2, R = 3, QIN = 5, D = 3 };
    gq_mla_dims dm = {H, G, DN, DR, DV, R, QIN, D};
    float kvb[H * (DN + DV) * R], q[H * (DN + DR) * QIN], qb[H * (DN + DR)], o[D * H * DV];
    for (size_t i = 0; i < sizeof kvb / sizeof *kvb; i++) kvb[i] = (float)i;
    for (size_t i = 0; i < sizeof q / sizeof *q; i++) q[i] = (float)(1000 + i);
    for (size_t i = 0; i < sizeof qb / sizeof *qb; i++) qb[i] = (float)(-1.0 * i);
    for (size_t i = 0; i < sizeof o / sizeof *o; i++) o[i] = (float)(5000 + i);
    const int members[H] = {3, 1, 0, 2};
    /* U^K_g = [I; 0] keeps member 0's K rows only; U^V_g likewise */
    double UK[GS * DN * DN] = {1, 0, 0, 1, 0, 0, 0, 0}, UV[GS * DV * DV] = {1, 0, 0, 1, 0, 0, 0, 0};
    const double *uk[G] = {UK, UK}, *uv[G] = {UV, UV};
    float okvb[G * (DN + DV) * R], oq[sizeof q / sizeof *q], oqb[sizeof qb / sizeof *qb], oo[sizeof o / sizeof *o];
    gq_mla_attn_in in = {kvb, q, qb, o};
    gq_mla_attn_out out = {okvb, oq, oqb, oo};
    test_cond("absorb runs", gq_mla_absorb_layer(&dm, members, uk, uv, &in, &out, &err) == GQ_OK);
    /* kv_b block g = block of member 0 of group g (heads 3 and 0) */
    int ok = memcmp(okvb, kvb + 3 * (DN + DV) * R, sizeof(float) * (DN + DV) * R) == 0 &&
             memcmp(okvb + (DN + DV) * R, kvb + 0, sizeof(float) * (DN + DV) * R) == 0;
    test_cond("kv_b block g = U^T-weighted member blocks (identity basis: member 0's block)", ok);
    /* query: new head n = old head members[n] for the rope rows; nope rows of member 0 kept, member 1 zeroed */
    int qok = 1;
    for (int n = 0; n < H; n++) {
        int h = members[n], i = n % GS;
        for (int row = 0; row < DN + DR; row++)
            for (int c = 0; c < QIN; c++) {
                float want = (row >= DN || i == 0) ? q[(h * (DN + DR) + row) * QIN + c] : 0.0f;
                qok &= oq[(n * (DN + DR) + row) * QIN + c] == want;
            }
        for (int row = 0; row < DN + DR; row++) {
            float want = (row >= DN || i == 0) ? qb[h * (DN + DR) + row] : 0.0f;
            qok &= oqb[n * (DN + DR) + row] == want;
        }
    }
    test_cond("query rows: rope rows move with the head, nope rows through B^T (bias too)", qok);
    int ook = 1;
    for (int row = 0; row < D; row++)
        for (int n = 0; n < H; n++)
            for (int k = 0; k < DV; k++) {
                float want = n % GS == 0 ? o[row * H * DV + members[n] * DV + k] : 0.0f;
                ook &= oo[row * H * DV + n * DV + k] == want;
            }
    test_cond("o_proj columns: old head's columns times B^V", ook);
}

int main(void)
{
    test_estimator();
    test_nll_weights();
    test_similarity();
    test_greedy();
    test_absorb_permutation();
    return test_report("convert_mla_math");
}
