/* gqa_convert.c — TransGQLA from a GQA checkpoint (gqa_convert.h,
 * conversion.md §3).  Index conventions follow the spec's symbols: L = G*d
 * key latent width, M = 2L - d_r, Q the RoRoPE rotation ([L, L], column
 * `row(i,o,eta)` holds eigenvector o of block i), k_up'^g = Q[g*d:(g+1)*d, :]. */
#include "gqa_convert.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gq_alloc.h"
#include "linalg.h"
#include "model_internal.h"

#define ROW_BLOCK 256

int gq_gqa_resolve(const gq_config *cfg, const char *source, const gq_gqa_opts *o, gq_gqa_dims *dm, gq_error *err)
{
    memset(dm, 0, sizeof *dm);
    if (cfg->arch == GQ_ARCH_QWEN3)
        return gq_error_set(err, GQ_ERR_UNSUPPORTED,
                            "%s: qwen3 normalises each key head (k_norm) before RoPE; that RMSNorm is not linear, "
                            "so k_proj cannot be folded into a shared latent (conversion.md §3) --> HINT: "
                            "llama, mistral, qwen2 and phi3 sources convert", source);
    /* phi3's fused qkv / gate_up were split into views at load: a llama. */
    if (cfg->arch != GQ_ARCH_LLAMA && cfg->arch != GQ_ARCH_MISTRAL && cfg->arch != GQ_ARCH_QWEN2 &&
        cfg->arch != GQ_ARCH_PHI3)
        return gq_error_set(err, GQ_ERR_INVALID,
                            "%s: model_type '%s' is not a GQA model (llama, mistral, qwen2, phi3); --from gqa "
                            "converts GQA checkpoints (use --from mla for MLA sources)", source, cfg->model_type);
    if (gq_config_has_moe(cfg))
        return gq_error_set(err, GQ_ERR_UNSUPPORTED, "%s: MoE layers are not supported", source);
    int H = (int)cfg->num_attention_heads, G = (int)cfg->num_key_value_heads, d = (int)cfg->head_dim;
    if (G <= 0 || H % G != 0)
        return gq_error_set(err, GQ_ERR_INVALID,
                            "%s: num_attention_heads = %d is not a multiple of num_key_value_heads = %d", source, H, G);
    if (d <= 0 || d % 2 != 0)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: head_dim = %d must be even (RoPE pairs)", source, d);
    const gq_rope_scaling_type st = cfg->rope_scaling.type;
    if (st != GQ_ROPE_SCALING_NONE && st != GQ_ROPE_SCALING_LLAMA3)
        return gq_error_set(err, GQ_ERR_UNSUPPORTED,
                            "%s: rope_scaling type %s is not supported by --from gqa: only default and llama3 "
                            "frequencies at stride c equal the frequencies at width d_r (conversion.md §3.2.4)",
                            source, st == GQ_ROPE_SCALING_YARN ? "yarn" : "linear");
    int dr = o->rope_dim ? o->rope_dim : d / 2;
    if (dr <= 0 || dr % 2 != 0 || dr > d || d % dr != 0)
        return gq_error_set(err, GQ_ERR_INVALID,
                            "--rope-dim %d: the rope width must be even and divide head_dim = %d of %s", dr, d, source);
    int c = d / dr;
    if ((d / 2) % c != 0)
        return gq_error_set(err, GQ_ERR_INVALID,
                            "--rope-dim %d: the collapse d/d_r = %d must divide d/2 = %d (head_dim %d of %s)", dr, c,
                            d / 2, d, source);
    int ff = o->freqfold && !o->freqfold_auto ? o->freqfold : c;
    if (ff <= 0 || ff % c != 0 || (d / 2) % ff != 0)
        return gq_error_set(err, GQ_ERR_INVALID,
                            "--freqfold %d: must be a multiple of the collapse c = %d that divides d/2 = %d", ff, c,
                            d / 2);
    int L = G * d, M = 2 * L - dr;
    int r = o->kv_lora_rank ? o->kv_lora_rank : (M < 512 ? M : 512);
    if (r < 1 || r > M)
        return gq_error_set(err, GQ_ERR_INVALID,
                            "--kv-lora-rank %d: must be in 1 .. r_max = 2*G*d - d_r = 2*%d*%d - %d = %d for %s", r, G,
                            d, dr, M, source);
    if (o->q_lora_rank < 0 || o->q_lora_rank > H * d)
        return gq_error_set(err, GQ_ERR_INVALID, "--q-lora-rank %d: must be in 1 .. H*d = %d for %s", o->q_lora_rank,
                            H * d, source);
    double beta = o->balance_kv_ratio != 0.0 ? o->balance_kv_ratio : 1.0;
    if (!(beta > 0.0) || !isfinite(beta))
        return gq_error_set(err, GQ_ERR_INVALID, "--balance-kv-ratio %g: must be a positive number", beta);
    double damping = o->damping > 0.0 ? o->damping : 0.01;
    if (o->reference && o->q_lora_rank)
        return gq_error_set(err, GQ_ERR_USAGE, "--reference partial-rope writes a plain q_proj; drop --q-lora-rank");
    if (o->reference && o->latent_norm)
        return gq_error_set(err, GQ_ERR_USAGE, "--reference partial-rope has no latent norms; drop --latent-norm");
    *dm = (gq_gqa_dims){(int)cfg->hidden_size, H, G, H / G, d, L, dr, c, ff, o->reference ? M : r, o->q_lora_rank, M,
                        o->freqfold_auto, o->latent_norm, beta, damping, 0, 0, 0};
    return GQ_OK;
}

static void free_layer(gq_gqa_layer *ly)
{
    gq_free(ly->wq);
    gq_free(ly->bq);
    gq_free(ly->wq_a);
    gq_free(ly->wq_b);
    gq_free(ly->bq_b);
    gq_free(ly->wkv_a);
    gq_free(ly->bkv_a);
    gq_free(ly->wkv_b);
    gq_free(ly->kv_a_norm);
    gq_free(ly->q_a_norm);
    memset(ly, 0, sizeof *ly);
}

void gq_gqa_result_free(gq_gqa_result *res)
{
    if (!res) return;
    for (int l = 0; l < res->n_layers && res->layers; l++) free_layer(&res->layers[l]);
    gq_free(res->layers);
    memset(res, 0, sizeof *res);
}

// ---------------------------------------------------------------------------
// helpers

static double *widen(const float *x, size_t n, const char *what, gq_error *err)
{
    double *y = gq_malloc((n ? n : 1) * sizeof(double), what, err);
    if (y)
        for (size_t i = 0; i < n; i++) y[i] = x ? (double)x[i] : 0.0;
    return y;
}

/* Y[rows, out] = X[rows, in] W[out, in]^T (+ b[out]), double. */
static void dlinear(double *Y, const double *X, const double *W, const double *b, int rows, int in, int out)
{
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in, 1.0, X, in, W, in, 0.0, Y, out);
    if (b)
        for (int t = 0; t < rows; t++)
            for (int o = 0; o < out; o++) Y[(size_t)t * out + o] += b[o];
}

/* The query of §3.5 for every head: rows h*(d+d_r) .. = s*[W^h ; P_g^T W^h]
 * with W^h = W[h*d:(h+1)*d] ([d, in]) and P_g = Q[g*d:(g+1)*d, 0:d_r]; the
 * bias likewise (b NULL: no bias).  out [H*(d+d_r), in] float32. */
static void build_query(const gq_gqa_dims *dm, const double *Q, const double *W, int in, const double *b, float *outW,
                        float *outb)
{
    const int d = dm->d, dr = dm->dr, L = dm->L, qk = d + dr;
    const double s = sqrt((double)(d + dr) / (double)d);
    for (int h = 0; h < dm->H; h++) {
        int g = h / dm->gs;
        const double *Wh = W + (size_t)h * d * in;
        for (int u = 0; u < d; u++)
            for (int k = 0; k < in; k++) outW[((size_t)h * qk + u) * in + k] = (float)(s * Wh[(size_t)u * in + k]);
        for (int p = 0; p < dr; p++) {
            for (int k = 0; k < in; k++) {
                double sum = 0.0;
                for (int u = 0; u < d; u++) sum += Q[(size_t)(g * d + u) * L + p] * Wh[(size_t)u * in + k];
                outW[((size_t)h * qk + d + p) * in + k] = (float)(s * sum);
            }
        }
        if (b && outb) {
            for (int u = 0; u < d; u++) outb[h * qk + u] = (float)(s * b[h * d + u]);
            for (int p = 0; p < dr; p++) {
                double sum = 0.0;
                for (int u = 0; u < d; u++) sum += Q[(size_t)(g * d + u) * L + p] * b[h * d + u];
                outb[h * qk + d + p] = (float)(s * sum);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// pass 1: RoRoPE statistics and the rotation Q

/* cf: second moment of the "complex" key features over (g, j), Fc = G*d/2
 * wide: row (t, eta) of Z holds k_t[g*d + eta*d/2 + j] at column g*d/2 + j,
 * i.e. real and imaginary parts as two samples (§3.2.1). */
static int accumulate_rope_stats(const gq_gqa_dims *dm, const float *a, int64_t n, const double *Wk, const double *bk,
                                 double *cf, gq_error *err)
{
    const int D = dm->D, L = dm->L, d = dm->d, half = d / 2, Fc = dm->G * half;
    double *Ab = gq_malloc((size_t)ROW_BLOCK * D * sizeof(double), "pass 1 rows", err);
    double *Kb = gq_malloc((size_t)ROW_BLOCK * L * sizeof(double), "pass 1 keys", err);
    double *Z = gq_malloc(2 * (size_t)ROW_BLOCK * Fc * sizeof(double), "pass 1 features", err);
    int rc = GQ_OK;
    if (!Ab || !Kb || !Z) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    for (int64_t t0 = 0; t0 < n; t0 += ROW_BLOCK) {
        int nb = (int)(n - t0 < ROW_BLOCK ? n - t0 : ROW_BLOCK);
        for (size_t i = 0; i < (size_t)nb * D; i++) Ab[i] = (double)a[(size_t)t0 * D + i];
        dlinear(Kb, Ab, Wk, bk, nb, D, L);
        for (int t = 0; t < nb; t++)
            for (int eta = 0; eta < 2; eta++)
                for (int g = 0; g < dm->G; g++)
                    for (int j = 0; j < half; j++)
                        Z[(size_t)(2 * t + eta) * Fc + g * half + j] = Kb[(size_t)t * L + g * d + eta * half + j];
        gq_cov_accum_f64(cf, Z, 2 * nb, Fc, Fc);
    }
done:
    gq_free(Ab);
    gq_free(Kb);
    gq_free(Z);
    return rc;
}

/* Q from the block eigenvectors (§3.2.2-§3.2.4); rope_energy = share of
 * the (undamped) eigenvalue mass on the d_r RoPE rows. */
static int build_rotation(const gq_gqa_dims *dm, const double *cf, double *Q, double *rope_energy, gq_error *err)
{
    const int d = dm->d, half = d / 2, G = dm->G, L = dm->L, c = dm->c, ff = dm->ff, per = ff / c, F = G * ff;
    const int Fc = G * half, n_blocks = d / (2 * ff);
    double *C = gq_malloc((size_t)F * F * sizeof(double), "RoRoPE block", err);
    double *w = gq_malloc((size_t)F * sizeof(double), "RoRoPE eigenvalues", err);
    int *idx = gq_malloc((size_t)F * sizeof(int), "RoRoPE features", err);
    int rc = GQ_OK;
    if (!C || !w || !idx) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    memset(Q, 0, (size_t)L * L * sizeof(double));
    double tot = 0.0, kept = 0.0;
    for (int i = 0; i < n_blocks; i++) {
        for (int f = 0; f < F; f++) {
            int l = f / (G * per), g = (f / per) % G, m = f % per;
            int j = i * ff + m * c + l;
            idx[f] = g * half + j; /* column in cf; old(f, eta) = g*d + eta*d/2 + j */
        }
        double diag = 0.0;
        for (int f = 0; f < F; f++) {
            for (int f2 = 0; f2 < F; f2++) C[(size_t)f * F + f2] = cf[(size_t)idx[f] * Fc + idx[f2]];
            diag += C[(size_t)f * F + f];
        }
        double delta = dm->damping * diag / F;
        gq_damp(C, F, dm->damping);
        if ((rc = gq_eigh_desc(C, w, F, err)) != GQ_OK) goto done;
        for (int o = 0; o < F; o++) {
            int lp = o / (G * per), gp = (o / per) % G, mp = o % per;
            tot += w[o] - delta;
            if (o < per) kept += w[o] - delta;
            for (int eta = 0; eta < 2; eta++) {
                int row = lp * (G * d / c) + gp * (d / c) + i * (2 * ff / c) + 2 * mp + eta;
                for (int f = 0; f < F; f++) {
                    int g = idx[f] / half, j = idx[f] % half;
                    Q[(size_t)(g * d + eta * half + j) * L + row] = C[(size_t)f * F + o];
                }
            }
        }
    }
    *rope_energy = tot > 0.0 ? kept / tot : 1.0;
done:
    gq_free(C);
    gq_free(w);
    gq_free(idx);
    return rc;
}

// ---------------------------------------------------------------------------
// the reference (partial-RoPE) layer and the final layer

/* Source weights of one layer in double, and the rotated keys. */
typedef struct layer_src {
    double *Wq, *bq, *Wk, *bk, *Wv, *bv; /* b* NULL when absent */
    double *Wkp, *bkp;                   /* W'_k = Q^T W_k [L, D], b'_k (NULL when no k bias) */
} layer_src;

static void layer_src_free(layer_src *s)
{
    gq_free(s->Wq);
    gq_free(s->bq);
    gq_free(s->Wk);
    gq_free(s->bk);
    gq_free(s->Wv);
    gq_free(s->bv);
    gq_free(s->Wkp);
    gq_free(s->bkp);
    memset(s, 0, sizeof *s);
}

static int layer_src_load(const gq_gqa_dims *dm, const gq_layer_weights *lw, const double *Q, layer_src *s,
                          gq_error *err)
{
    const size_t D = (size_t)dm->D, L = (size_t)dm->L, Hd = (size_t)dm->H * dm->d;
    memset(s, 0, sizeof *s);
    s->Wq = widen(lw->wq.f32, Hd * D, "W_q", err);
    s->Wk = widen(lw->wk.f32, L * D, "W_k", err);
    s->Wv = widen(lw->wv.f32, L * D, "W_v", err);
    if (!s->Wq || !s->Wk || !s->Wv) goto nomem;
    if (lw->bq && !(s->bq = widen(lw->bq, Hd, "b_q", err))) goto nomem;
    if (lw->bk && !(s->bk = widen(lw->bk, L, "b_k", err))) goto nomem;
    if (lw->bv && !(s->bv = widen(lw->bv, L, "b_v", err))) goto nomem;
    if (Q) {
        s->Wkp = gq_malloc(L * D * sizeof(double), "W'_k", err);
        if (!s->Wkp) goto nomem;
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)L, (int)D, (int)L, 1.0, Q, (int)L, s->Wk, (int)D, 0.0,
                    s->Wkp, (int)D);
        if (s->bk) {
            if (!(s->bkp = gq_calloc(L, sizeof(double), "b'_k", err))) goto nomem;
            cblas_dgemv(CblasRowMajor, CblasTrans, (int)L, (int)L, 1.0, Q, (int)L, s->bk, 1, 0.0, s->bkp, 1);
        }
    }
    return GQ_OK;
nomem:
    layer_src_free(s);
    return GQ_ERR_NOMEM;
}

/* The §3.2.4 partial-RoPE model as a GQLA layer with r = M, R = I:
 * kv_a = [W'_k[d_r:L] ; W_v ; W'_k[0:d_r]], kv_b block g = B_g (alpha 1). */
static int build_reference(const gq_gqa_dims *dm, const double *Q, const layer_src *s, gq_gqa_layer *out,
                           gq_error *err)
{
    const int D = dm->D, L = dm->L, d = dm->d, dr = dm->dr, M = dm->M, G = dm->G, qk = d + dr;
    const int kv_bias = s->bk || s->bv;
    memset(out, 0, sizeof *out);
    out->wq = gq_malloc((size_t)dm->H * qk * D * sizeof(float), "q_proj", err);
    out->wkv_a = gq_malloc((size_t)(M + dr) * D * sizeof(float), "kv_a_proj_with_mqa", err);
    out->wkv_b = gq_calloc((size_t)G * 2 * d * M, sizeof(float), "kv_b_proj", err);
    if (!out->wq || !out->wkv_a || !out->wkv_b) return GQ_ERR_NOMEM;
    if (s->bq && !(out->bq = gq_malloc((size_t)dm->H * qk * sizeof(float), "q_proj bias", err))) return GQ_ERR_NOMEM;
    if (kv_bias && !(out->bkv_a = gq_calloc((size_t)(M + dr), sizeof(float), "kv_a bias", err))) return GQ_ERR_NOMEM;
    build_query(dm, Q, s->Wq, D, s->bq, out->wq, out->bq);
    for (int k = 0; k < L - dr; k++)
        for (int i = 0; i < D; i++) out->wkv_a[(size_t)k * D + i] = (float)s->Wkp[(size_t)(dr + k) * D + i];
    for (int k = 0; k < L; k++)
        for (int i = 0; i < D; i++) out->wkv_a[(size_t)(L - dr + k) * D + i] = (float)s->Wv[(size_t)k * D + i];
    for (int p = 0; p < dr; p++)
        for (int i = 0; i < D; i++) out->wkv_a[(size_t)(M + p) * D + i] = (float)s->Wkp[(size_t)p * D + i];
    if (kv_bias) {
        for (int k = 0; k < L - dr; k++) out->bkv_a[k] = s->bkp ? (float)s->bkp[dr + k] : 0.0f;
        for (int k = 0; k < L; k++) out->bkv_a[L - dr + k] = s->bv ? (float)s->bv[k] : 0.0f;
        for (int p = 0; p < dr; p++) out->bkv_a[M + p] = s->bkp ? (float)s->bkp[p] : 0.0f;
    }
    for (int g = 0; g < G; g++) {
        float *blk = out->wkv_b + (size_t)g * 2 * d * M;
        for (int u = 0; u < d; u++) {
            for (int k = 0; k < L - dr; k++) blk[(size_t)u * M + k] = (float)Q[(size_t)(g * d + u) * L + dr + k];
            blk[(size_t)(d + u) * M + (L - dr) + g * d + u] = 1.0f;
        }
    }
    out->alpha = 1.0;
    out->kv_energy = 1.0;
    out->q_energy = 1.0;
    return GQ_OK;
}

/* Pass-2 statistics of one layer. */
typedef struct layer_stats {
    double *colsq_k, *colsq_v; /* [L] sum over tokens of K2[:,u]^2, V2[:,u]^2 */
    double *C;                 /* [M, M] sum of z z^T, z = [K2[d_r:L] ; V2] (unbalanced) */
    double *Cq;                /* [Hd, Hd] sum of Y Y^T (only with r_q) */
} layer_stats;

static void layer_stats_free(layer_stats *st)
{
    gq_free(st->colsq_k);
    gq_free(st->colsq_v);
    gq_free(st->C);
    gq_free(st->Cq);
    memset(st, 0, sizeof *st);
}

static int accumulate_kv_stats(const gq_gqa_dims *dm, const layer_src *s, const float *a, int64_t n, layer_stats *st,
                               gq_error *err)
{
    const int D = dm->D, L = dm->L, dr = dm->dr, M = dm->M, Hd = dm->H * dm->d;
    int rc = GQ_OK;
    memset(st, 0, sizeof *st);
    st->colsq_k = gq_calloc((size_t)L, sizeof(double), "key column norms", err);
    st->colsq_v = gq_calloc((size_t)L, sizeof(double), "value column norms", err);
    st->C = gq_calloc((size_t)M * M, sizeof(double), "KV covariance", err);
    if (dm->rq && !(st->Cq = gq_calloc((size_t)Hd * Hd, sizeof(double), "query covariance", err))) return GQ_ERR_NOMEM;
    double *Ab = gq_malloc((size_t)ROW_BLOCK * D * sizeof(double), "pass 2 rows", err);
    double *K = gq_malloc((size_t)ROW_BLOCK * L * sizeof(double), "pass 2 keys", err);
    double *V = gq_malloc((size_t)ROW_BLOCK * L * sizeof(double), "pass 2 values", err);
    double *Z = gq_malloc((size_t)ROW_BLOCK * (M > Hd ? M : Hd) * sizeof(double), "pass 2 features", err);
    if (!st->colsq_k || !st->colsq_v || !st->C || !Ab || !K || !V || !Z) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    for (int64_t t0 = 0; t0 < n; t0 += ROW_BLOCK) {
        int nb = (int)(n - t0 < ROW_BLOCK ? n - t0 : ROW_BLOCK);
        for (size_t i = 0; i < (size_t)nb * D; i++) Ab[i] = (double)a[(size_t)t0 * D + i];
        dlinear(K, Ab, s->Wkp, s->bkp, nb, D, L);
        dlinear(V, Ab, s->Wv, s->bv, nb, D, L);
        for (int t = 0; t < nb; t++) {
            for (int u = 0; u < L; u++) {
                double kv = K[(size_t)t * L + u], vv = V[(size_t)t * L + u];
                st->colsq_k[u] += kv * kv;
                st->colsq_v[u] += vv * vv;
            }
            memcpy(Z + (size_t)t * M, K + (size_t)t * L + dr, (size_t)(L - dr) * sizeof(double));
            memcpy(Z + (size_t)t * M + (L - dr), V + (size_t)t * L, (size_t)L * sizeof(double));
        }
        gq_cov_accum_f64(st->C, Z, nb, M, M);
        if (dm->rq) {
            dlinear(Z, Ab, s->Wq, s->bq, nb, D, Hd);
            gq_cov_accum_f64(st->Cq, Z, nb, Hd, Hd);
        }
    }
done:
    gq_free(Ab);
    gq_free(K);
    gq_free(V);
    gq_free(Z);
    return rc;
}

/* §3.3-§3.5: balance, joint PCA to rank r, query. */
static int build_final(const gq_gqa_dims *dm, const double *Q, const layer_src *s, layer_stats *st, gq_gqa_layer *out,
                       gq_error *err)
{
    const int D = dm->D, L = dm->L, d = dm->d, dr = dm->dr, M = dm->M, G = dm->G, r = dm->r, qk = d + dr;
    const int Hd = dm->H * d, kv_bias = s->bk || s->bv;
    int rc = GQ_OK;
    double *lam = NULL, *A = NULL, *ab = NULL, *tmp = NULL, *Sq = NULL, *wq = NULL;
    memset(out, 0, sizeof *out);
    /* balance */
    double nK = 0.0, nV = 0.0;
    for (int u = dr; u < L; u++) {
        nK += sqrt(st->colsq_k[u]);
        nV += sqrt(st->colsq_v[u]);
    }
    nK /= (double)(L - dr);
    nV /= (double)(L - dr);
    double alpha = (nV > 0.0 && nK >= 1e-6 * nV) ? nK / (dm->beta * nV) : 1.0;
    out->alpha = alpha;
    /* C <- S C S with S = diag(1/alpha on the L - d_r key rows, 1 on values) */
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++)
            st->C[(size_t)i * M + j] *= (i < L - dr ? 1.0 / alpha : 1.0) * (j < L - dr ? 1.0 / alpha : 1.0);
    double diag = 0.0;
    for (int i = 0; i < M; i++) diag += st->C[(size_t)i * M + i];
    double delta = dm->damping * diag / M;
    gq_damp(st->C, M, dm->damping);
    lam = gq_malloc((size_t)M * sizeof(double), "KV eigenvalues", err);
    A = gq_malloc((size_t)M * D * sizeof(double), "KV down-projection", err);
    ab = gq_calloc((size_t)M, sizeof(double), "KV bias", err);
    tmp = gq_malloc((size_t)(r > Hd ? r : Hd) * (D > M ? D : M) * sizeof(double), "PCA product", err);
    if (!lam || !A || !ab || !tmp) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    if ((rc = gq_eigh_desc(st->C, lam, M, err)) != GQ_OK) goto done;
    const double *R = st->C; /* [M, M], eigenvectors in columns */
    double tot = 0.0, kept = 0.0;
    for (int k = 0; k < M; k++) {
        tot += lam[k] - delta;
        if (k < r) kept += lam[k] - delta;
    }
    out->kv_energy = tot > 0.0 ? kept / tot : 1.0;
    for (int k = 0; k < L - dr; k++) {
        for (int i = 0; i < D; i++) A[(size_t)k * D + i] = s->Wkp[(size_t)(dr + k) * D + i] / alpha;
        ab[k] = s->bkp ? s->bkp[dr + k] / alpha : 0.0;
    }
    memcpy(A + (size_t)(L - dr) * D, s->Wv, (size_t)L * D * sizeof(double));
    for (int k = 0; k < L; k++) ab[L - dr + k] = s->bv ? s->bv[k] : 0.0;
    /* kv_a = [R_r^T A ; W'_k[0:d_r]] (+ bias) */
    out->wkv_a = gq_malloc((size_t)(r + dr) * D * sizeof(float), "kv_a_proj_with_mqa", err);
    out->wkv_b = gq_malloc((size_t)G * 2 * d * r * sizeof(float), "kv_b_proj", err);
    if (!out->wkv_a || !out->wkv_b) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, D, M, 1.0, R, M, A, D, 0.0, tmp, D);
    for (size_t i = 0; i < (size_t)r * D; i++) out->wkv_a[i] = (float)tmp[i];
    for (int p = 0; p < dr; p++)
        for (int i = 0; i < D; i++) out->wkv_a[(size_t)(r + p) * D + i] = (float)s->Wkp[(size_t)p * D + i];
    if (kv_bias) {
        if (!(out->bkv_a = gq_malloc((size_t)(r + dr) * sizeof(float), "kv_a bias", err))) {
            rc = GQ_ERR_NOMEM;
            goto done;
        }
        for (int c = 0; c < r; c++) {
            double sum = 0.0;
            for (int k = 0; k < M; k++) sum += R[(size_t)k * M + c] * ab[k];
            out->bkv_a[c] = (float)sum;
        }
        for (int p = 0; p < dr; p++) out->bkv_a[r + p] = s->bkp ? (float)s->bkp[p] : 0.0f;
    }
    /* kv_b block g = B_g R_r: K rows alpha * k_up'^g[:, d_r:L] R[0:L-d_r, 0:r];
     * V rows R[(L - d_r) + g*d + u, 0:r]. */
    for (int g = 0; g < G; g++) {
        float *blk = out->wkv_b + (size_t)g * 2 * d * r;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, r, L - dr, alpha, Q + (size_t)g * d * L + dr, L, R,
                    M, 0.0, tmp, r);
        for (size_t i = 0; i < (size_t)d * r; i++) blk[i] = (float)tmp[i];
        for (int u = 0; u < d; u++)
            for (int c = 0; c < r; c++) blk[(size_t)(d + u) * r + c] = (float)R[(size_t)(L - dr + g * d + u) * M + c];
    }
    /* query */
    const int has_bq = s->bq != NULL;
    if (!dm->rq) {
        out->wq = gq_malloc((size_t)dm->H * qk * D * sizeof(float), "q_proj", err);
        if (has_bq) out->bq = gq_malloc((size_t)dm->H * qk * sizeof(float), "q_proj bias", err);
        if (!out->wq || (has_bq && !out->bq)) {
            rc = GQ_ERR_NOMEM;
            goto done;
        }
        build_query(dm, Q, s->Wq, D, s->bq, out->wq, out->bq);
        out->q_energy = 1.0;
    } else {
        const int rq = dm->rq;
        double qdiag = 0.0;
        for (int i = 0; i < Hd; i++) qdiag += st->Cq[(size_t)i * Hd + i];
        double qdelta = dm->damping * qdiag / Hd;
        gq_damp(st->Cq, Hd, dm->damping);
        Sq = gq_malloc((size_t)Hd * sizeof(double), "query eigenvalues", err);
        wq = gq_malloc((size_t)Hd * rq * sizeof(double), "query basis", err);
        out->wq_a = gq_malloc((size_t)rq * D * sizeof(float), "q_a_proj", err);
        out->wq_b = gq_malloc((size_t)dm->H * qk * rq * sizeof(float), "q_b_proj", err);
        if (has_bq) out->bq_b = gq_malloc((size_t)dm->H * qk * sizeof(float), "q_b_proj bias", err);
        if (!Sq || !wq || !out->wq_a || !out->wq_b || (has_bq && !out->bq_b)) {
            rc = GQ_ERR_NOMEM;
            goto done;
        }
        if ((rc = gq_eigh_desc(st->Cq, Sq, Hd, err)) != GQ_OK) goto done;
        double qt = 0.0, qk_ = 0.0;
        for (int k = 0; k < Hd; k++) {
            qt += Sq[k] - qdelta;
            if (k < rq) qk_ += Sq[k] - qdelta;
        }
        out->q_energy = qt > 0.0 ? qk_ / qt : 1.0;
        for (int i = 0; i < Hd; i++) memcpy(wq + (size_t)i * rq, st->Cq + (size_t)i * Hd, (size_t)rq * sizeof(double));
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, rq, D, Hd, 1.0, wq, rq, s->Wq, D, 0.0, tmp, D);
        for (size_t i = 0; i < (size_t)rq * D; i++) out->wq_a[i] = (float)tmp[i];
        build_query(dm, Q, wq, rq, s->bq, out->wq_b, out->bq_b);
    }
done:
    gq_free(lam);
    gq_free(A);
    gq_free(ab);
    gq_free(tmp);
    gq_free(Sq);
    gq_free(wq);
    return rc;
}

// ---------------------------------------------------------------------------
// the two passes

typedef struct conv_ctx {
    gq_model *m;
    const gq_gqa_dims *dm;
    gq_gqa_result *res;
    double **Q;              /* [n_layers][L*L] */
    double **cf;             /* [n_layers][Fc*Fc] pass-1 statistics */
    double nll;              /* freqfold search: summed NLL of the held-out tokens */
    int64_t n_nll;
    gq_gqa_layer sub;        /* the partial-RoPE layer substituted in pass 2 */
    const gq_calib_set *search_set; /* freqfold search: the held-out samples */
    gq_gqa_progress_fn progress;
    void *progress_ctx;
} conv_ctx;

static int pass1_layer(void *vctx, const gq_calib_layer_view *v, gq_calib_attn *sub, gq_error *err)
{
    (void)sub;
    conv_ctx *cx = vctx;
    const gq_gqa_dims *dm = cx->dm;
    const gq_layer_weights *lw = &cx->m->w.layers[v->layer];
    const int Fc = dm->G * dm->d / 2;
    int rc = GQ_OK;
    double *Wk = widen(lw->wk.f32, (size_t)dm->L * dm->D, "W_k", err);
    double *bk = lw->bk ? widen(lw->bk, (size_t)dm->L, "b_k", err) : NULL;
    double *cf = cx->cf[v->layer];
    if (!Wk || (lw->bk && !bk)) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    memset(cf, 0, (size_t)Fc * Fc * sizeof(double));
    if ((rc = accumulate_rope_stats(dm, v->a, v->n_tokens, Wk, bk, cf, err)) != GQ_OK) goto done;
    if (!gq_all_finite_f64(cf, (size_t)Fc * Fc)) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "layer %d: the key statistic of pass 1 is not finite (NaN/Inf "
                          "activations)", v->layer);
        goto done;
    }
    if (cx->progress) cx->progress(cx->progress_ctx, 1, v->layer, (int)cx->res->n_layers);
done:
    gq_free(Wk);
    gq_free(bk);
    return rc;
}

/* Q of every layer from the pass-1 statistics, for dims dm (its ff). */
static int build_rotations(conv_ctx *cx, const gq_gqa_dims *dm, gq_error *err)
{
    for (int l = 0; l < cx->res->n_layers; l++) {
        int rc = build_rotation(dm, cx->cf[l], cx->Q[l], &cx->res->layers[l].rope_energy, err);
        if (rc != GQ_OK) {
            gq_error_prefix(err, "layer %d: RoRoPE: ", l);
            return rc;
        }
    }
    return GQ_OK;
}

/* freqfold search: every layer in partial-RoPE form ... */
static int search_layer(void *vctx, const gq_calib_layer_view *v, gq_calib_attn *sub, gq_error *err)
{
    conv_ctx *cx = vctx;
    const gq_gqa_dims *dm = cx->dm;
    const gq_layer_weights *lw = &cx->m->w.layers[v->layer];
    layer_src s;
    free_layer(&cx->sub);
    int rc = layer_src_load(dm, lw, cx->Q[v->layer], &s, err);
    if (rc == GQ_OK) rc = build_reference(dm, cx->Q[v->layer], &s, &cx->sub, err);
    layer_src_free(&s);
    if (rc != GQ_OK) return rc;
    sub->use = 1;
    sub->wq = cx->sub.wq;
    sub->bq = cx->sub.bq;
    sub->wkv_a = cx->sub.wkv_a;
    sub->bkv_a = cx->sub.bkv_a;
    sub->wkv_b = cx->sub.wkv_b;
    sub->wo = lw->wo.f32;
    sub->bo = lw->bo;
    sub->shape = (gq_mla_shape){dm->H, dm->G, dm->d, dm->dr, dm->d, dm->M, (float)(1.0 / sqrt((double)(dm->d + dm->dr)))};
    return GQ_OK;
}

/* ... and the NLL of each held-out token's successor at the end. */
static int search_final(void *vctx, const float *x, int64_t n, int D, gq_error *err)
{
    conv_ctx *cx = vctx;
    gq_model *m = cx->m;
    const gq_calib_set *set = cx->search_set;
    const int V = (int)gq_model_config(m)->vocab_size, chunk = 32;
    const gq_backend_ops *be = gq_backend_cpu();
    float *xn = gq_malloc((size_t)chunk * D * sizeof(float), "search rows", err);
    float *logits = gq_malloc((size_t)chunk * V * sizeof(float), "search logits", err);
    int rc = GQ_OK;
    if (!xn || !logits) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    for (int s = 0; s < set->n_samples; s++) {
        int64_t a = set->offsets[s], b = set->offsets[s + 1] - 1; /* rows a .. b-1 predict a+1 .. b */
        for (int64_t t0 = a; t0 < b; t0 += chunk) {
            int nb = (int)(b - t0 < chunk ? b - t0 : chunk);
            be->rmsnorm(xn, x + (size_t)t0 * D, m->w.final_norm, nb, D, (float)gq_model_config(m)->rms_norm_eps);
            be->matmul(logits, V, xn, m->w.lm_head.f32, NULL, nb, D, V);
            for (int j = 0; j < nb; j++) {
                int am = 0;
                double best = 0;
                cx->nll -= gq_logsoftmax_gather_row(logits + (size_t)j * V, V, set->tokens[t0 + j + 1], &am, &best);
                cx->n_nll++;
            }
        }
    }
    (void)n;
done:
    gq_free(xn);
    gq_free(logits);
    return rc;
}

static gq_calib_attn attn_of(const gq_gqa_dims *dm, const gq_gqa_layer *ly, const gq_layer_weights *lw, int r,
                             float eps)
{
    gq_calib_attn w;
    memset(&w, 0, sizeof w);
    w.use = 1;
    w.wq = ly->wq;
    w.bq = ly->bq;
    w.rq = ly->wq_a ? dm->rq : 0;
    w.wq_a = ly->wq_a;
    w.q_a_norm = ly->q_a_norm;
    w.wq_b = ly->wq_b;
    w.bq_b = ly->bq_b;
    w.wkv_a = ly->wkv_a;
    w.bkv_a = ly->bkv_a;
    w.kv_a_norm = ly->kv_a_norm;
    w.latent_eps = eps;
    w.wkv_b = ly->wkv_b;
    w.wo = lw->wo.f32;
    w.bo = lw->bo;
    w.shape = (gq_mla_shape){dm->H, dm->G, dm->d, dm->dr, dm->d, r, (float)(1.0 / sqrt((double)(dm->d + dm->dr)))};
    return w;
}

/* §6.3: the converted layer against the partial-RoPE layer on the first
 * (up to) 64 tokens of calibration sample 0; at r = r_max they must agree
 * to f32 rounding. */
static int check_layer(conv_ctx *cx, const gq_calib_layer_view *v, gq_gqa_layer *out, const gq_gqa_layer *ref,
                       const gq_layer_weights *lw, gq_error *err)
{
    const gq_gqa_dims *dm = cx->dm;
    int T = (int)(v->set->offsets[1] - v->set->offsets[0]);
    if (T > 64) T = 64;
    if (T < 1) return GQ_OK;
    float eps = (float)gq_model_config(cx->m)->rms_norm_eps;
    gq_calib_attn wf = attn_of(dm, out, lw, dm->r, eps), wr = attn_of(dm, ref, lw, dm->M, eps);
    float *of = gq_malloc(2 * (size_t)T * v->D * sizeof(float), "layer check", err);
    if (!of) return GQ_ERR_NOMEM;
    float *orf = of + (size_t)T * v->D;
    const float *a = v->a + (size_t)v->set->offsets[0] * v->D;
    int rc = gq_calib_attn_run(cx->m, &wf, a, T, of, err);
    if (rc == GQ_OK) rc = gq_calib_attn_run(cx->m, &wr, a, T, orf, err);
    if (rc == GQ_OK) {
        double dmax = 0.0, rmax = 0.0;
        for (size_t i = 0; i < (size_t)T * v->D; i++) {
            dmax = fmax(dmax, fabs((double)of[i] - orf[i]));
            rmax = fmax(rmax, fabs((double)orf[i]));
        }
        out->attn_rel_err = rmax > 0.0 ? dmax / rmax : dmax;
        if (dm->r == dm->M && !dm->rq && !(out->attn_rel_err <= 1e-3))
            rc = gq_error_set(err, GQ_ERR_INVALID, "layer %d: self check: at full rank the converted attention differs "
                              "from the partial-RoPE layer by %.3g (relative), expected f32 rounding", v->layer,
                              out->attn_rel_err);
    }
    gq_free(of);
    return rc;
}

static int pass2_layer(void *vctx, const gq_calib_layer_view *v, gq_calib_attn *sub, gq_error *err)
{
    conv_ctx *cx = vctx;
    const gq_gqa_dims *dm = cx->dm;
    const int l = v->layer;
    const gq_layer_weights *lw = &cx->m->w.layers[l];
    layer_src s;
    layer_stats st = {0};
    gq_gqa_layer *out = &cx->res->layers[l];
    double rope_energy = out->rope_energy;
    free_layer(&cx->sub); /* the previous layer's substitute is no longer used */
    int rc = layer_src_load(dm, lw, cx->Q[l], &s, err);
    if (rc != GQ_OK) return rc;
    if ((rc = accumulate_kv_stats(dm, &s, v->a, v->n_tokens, &st, err)) != GQ_OK) goto done;
    if (!gq_all_finite_f64(st.C, (size_t)dm->M * dm->M)) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "layer %d: the K/V statistic of pass 2 is not finite", l);
        goto done;
    }
    if ((rc = build_final(dm, cx->Q[l], &s, &st, out, err)) != GQ_OK) {
        gq_error_prefix(err, "layer %d: ", l);
        goto done;
    }
    out->rope_energy = rope_energy;
    /* Later layers see this layer in partial-RoPE form (§3.8 pass 2). */
    if ((rc = build_reference(dm, cx->Q[l], &s, &cx->sub, err)) != GQ_OK) goto done;
    if ((rc = check_layer(cx, v, out, &cx->sub, lw, err)) != GQ_OK) goto done;
    sub->use = 1;
    sub->wq = cx->sub.wq;
    sub->bq = cx->sub.bq;
    sub->wkv_a = cx->sub.wkv_a;
    sub->bkv_a = cx->sub.bkv_a;
    sub->wkv_b = cx->sub.wkv_b;
    sub->wo = lw->wo.f32;
    sub->bo = lw->bo;
    sub->shape = (gq_mla_shape){dm->H, dm->G, dm->d, dm->dr, dm->d, dm->M, (float)(1.0 / sqrt((double)(dm->d + dm->dr)))};
    if (cx->progress) cx->progress(cx->progress_ctx, 2, l, cx->res->n_layers);
done:
    layer_src_free(&s);
    layer_stats_free(&st);
    return rc;
}

/* mean_t (mean_u y_tu^2 + eps)^(-1/2) of y = W a (+ b), W [n, D] float32. */
static double mean_inv_rms(const float *a, int64_t n_tok, int D, const float *W, const float *b, int n, double eps)
{
    const gq_backend_ops *be = gq_backend_cpu();
    const int chunk = 256;
    float *y = gq_malloc((size_t)chunk * n * sizeof(float), "latent norm rows", NULL);
    double sum = 0.0;
    if (!y) return NAN;
    for (int64_t t0 = 0; t0 < n_tok; t0 += chunk) {
        int nb = (int)(n_tok - t0 < chunk ? n_tok - t0 : chunk);
        be->matmul(y, n, a + (size_t)t0 * D, W, b, nb, D, n);
        for (int t = 0; t < nb; t++) {
            double ms = 0.0;
            for (int u = 0; u < n; u++) ms += (double)y[(size_t)t * n + u] * y[(size_t)t * n + u];
            sum += 1.0 / sqrt(ms / n + eps);
        }
    }
    gq_free(y);
    return n_tok > 0 ? sum / (double)n_tok : 1.0;
}

static int pass3_layer(void *vctx, const gq_calib_layer_view *v, gq_calib_attn *sub, gq_error *err)
{
    conv_ctx *cx = vctx;
    const gq_gqa_dims *dm = cx->dm;
    const gq_layer_weights *lw = &cx->m->w.layers[v->layer];
    gq_gqa_layer *ly = &cx->res->layers[v->layer];
    const double eps = gq_model_config(cx->m)->rms_norm_eps;
    double gk = mean_inv_rms(v->a, v->n_tokens, v->D, ly->wkv_a, ly->bkv_a, dm->r + dm->dr, eps);
    double gq = dm->rq ? mean_inv_rms(v->a, v->n_tokens, v->D, ly->wq_a, NULL, dm->rq, eps) : 0.0;
    if (!isfinite(gk) || !isfinite(gq))
        return gq_error_set(err, GQ_ERR_INVALID, "layer %d: latent norm scale is not finite (or out of memory)",
                            v->layer);
    ly->kv_norm_gamma = gk;
    ly->q_norm_gamma = gq;
    ly->kv_a_norm = gq_malloc((size_t)dm->r * sizeof(float), "kv_a_layernorm", err);
    if (!ly->kv_a_norm) return GQ_ERR_NOMEM;
    for (int u = 0; u < dm->r; u++) ly->kv_a_norm[u] = (float)gk;
    if (dm->rq) {
        ly->q_a_norm = gq_malloc((size_t)dm->rq * sizeof(float), "q_a_layernorm", err);
        if (!ly->q_a_norm) return GQ_ERR_NOMEM;
        for (int u = 0; u < dm->rq; u++) ly->q_a_norm[u] = (float)gq;
    }
    /* Later layers see this one converted, norms included. */
    sub->use = 1;
    sub->wq = ly->wq;
    sub->bq = ly->bq;
    sub->rq = dm->rq;
    sub->wq_a = ly->wq_a;
    sub->q_a_norm = ly->q_a_norm;
    sub->wq_b = ly->wq_b;
    sub->bq_b = ly->bq_b;
    sub->wkv_a = ly->wkv_a;
    sub->bkv_a = ly->bkv_a;
    sub->kv_a_norm = ly->kv_a_norm;
    sub->latent_eps = (float)eps;
    sub->wkv_b = ly->wkv_b;
    sub->wo = lw->wo.f32;
    sub->bo = lw->bo;
    sub->shape = (gq_mla_shape){dm->H, dm->G, dm->d, dm->dr, dm->d, dm->r, (float)(1.0 / sqrt((double)(dm->d + dm->dr)))};
    if (cx->progress) cx->progress(cx->progress_ctx, 3, v->layer, cx->res->n_layers);
    return GQ_OK;
}

/* A non-owning view of samples [first, first + count) of a set. */
static gq_calib_set set_slice(const gq_calib_set *set, int first, int count, int64_t *offsets)
{
    gq_calib_set v = *set;
    v.n_samples = count;
    v.offsets = offsets;
    v.max_len = 0;
    for (int i = 0; i <= count; i++) offsets[i] = set->offsets[first + i];
    for (int i = 0; i < count; i++)
        if (offsets[i + 1] - offsets[i] > v.max_len) v.max_len = (int)(offsets[i + 1] - offsets[i]);
    v.n_tokens = offsets[count];
    return v;
}

/* §3.2.5 on held-out calibration samples; sets res->dims.ff. */
static int search_freqfold(conv_ctx *cx, const gq_calib_set *set, gq_error *err)
{
    gq_gqa_result *res = cx->res;
    gq_gqa_dims *dm = &res->dims;
    if (set->n_samples < 2)
        return gq_error_set(err, GQ_ERR_INVALID, "--freqfold auto holds out calibration samples for its search and "
                            "needs at least 2 samples (%d given)", set->n_samples);
    int held = set->n_samples / 8 > 0 ? set->n_samples / 8 : 1, fit = set->n_samples - held;
    int64_t *off = gq_malloc((size_t)(set->n_samples + 1) * 2 * sizeof *off, "calibration split", err);
    if (!off) return GQ_ERR_NOMEM;
    gq_calib_set fit_set = set_slice(set, 0, fit, off);
    gq_calib_set held_set = set_slice(set, fit, held, off + set->n_samples + 1);
    /* Rebase the held-out slice to start at token 0 (the driver runs
     * tokens 0 .. n_tokens-1). */
    int64_t base = held_set.offsets[0];
    for (int i = 0; i <= held; i++) held_set.offsets[i] -= base;
    held_set.tokens = set->tokens + base;
    held_set.n_tokens = held_set.offsets[held];
    int rc = gq_calib_run(cx->m, &fit_set, pass1_layer, NULL, cx, err);
    double best_ppl = INFINITY;
    int best_ff = dm->c;
    res->heldout_samples = held;
    for (int ff = dm->c; rc == GQ_OK && ff <= dm->d / 2 && res->n_ff_tried < GQ_GQA_MAX_FF_TRIED; ff *= 2) {
        if ((dm->d / 2) % ff != 0) break;
        dm->ff = ff;
        if ((rc = build_rotations(cx, dm, err)) != GQ_OK) break;
        cx->nll = 0.0;
        cx->n_nll = 0;
        cx->search_set = &held_set;
        rc = gq_calib_run(cx->m, &held_set, search_layer, search_final, cx, err);
        free_layer(&cx->sub);
        if (rc != GQ_OK) break;
        double ppl = exp(cx->nll / (double)(cx->n_nll ? cx->n_nll : 1));
        res->ff_tried[res->n_ff_tried] = ff;
        res->ppl_tried[res->n_ff_tried++] = ppl;
        if (cx->progress) cx->progress(cx->progress_ctx, 0, res->n_ff_tried - 1, 0);
        if (!(ppl < best_ppl)) break; /* keep doubling while perplexity strictly improves */
        best_ppl = ppl;
        best_ff = ff;
    }
    dm->ff = best_ff;
    cx->search_set = NULL;
    gq_free(off);
    return rc;
}

int gq_gqa_convert(gq_model *m, const gq_calib_set *set, const gq_gqa_dims *dims, int reference,
                   gq_gqa_progress_fn progress, void *progress_ctx, gq_gqa_result *res, gq_error *err)
{
    int widen_rc = gq_model_widen_weights(m, err); /* the decompositions read float32 matrices */
    if (widen_rc != GQ_OK) return widen_rc;
    memset(res, 0, sizeof *res);
    const gq_config *cfg = gq_model_config(m);
    const int n_layers = (int)cfg->num_hidden_layers;
    conv_ctx cx;
    memset(&cx, 0, sizeof cx);
    cx.m = m;
    cx.dm = &res->dims;
    cx.res = res;
    cx.progress = progress;
    cx.progress_ctx = progress_ctx;
    int rc = GQ_OK;
    res->dims = *dims;
    res->dims.has_q_bias = m->w.layers[0].bq != NULL;
    res->dims.has_kv_bias = m->w.layers[0].bk != NULL || m->w.layers[0].bv != NULL;
    res->dims.has_o_bias = m->w.layers[0].bo != NULL;
    res->n_layers = n_layers;
    res->layers = gq_calloc((size_t)n_layers, sizeof *res->layers, "converted layers", err);
    cx.Q = gq_calloc((size_t)n_layers, sizeof *cx.Q, "rotations", err);
    cx.cf = gq_calloc((size_t)n_layers, sizeof *cx.cf, "pass-1 statistics", err);
    if (!res->layers || !cx.Q || !cx.cf) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    for (int l = 0; l < n_layers; l++)
        if (!(cx.Q[l] = gq_malloc((size_t)dims->L * dims->L * sizeof(double), "rotation Q", err)) ||
            !(cx.cf[l] = gq_malloc((size_t)dims->G * dims->d / 2 * dims->G * dims->d / 2 * sizeof(double),
                                   "RoRoPE statistic", err))) {
            rc = GQ_ERR_NOMEM;
            goto done;
        }
    if (dims->ff_auto && (rc = search_freqfold(&cx, set, err)) != GQ_OK) goto done;
    if ((rc = gq_calib_run(m, set, pass1_layer, NULL, &cx, err)) != GQ_OK) goto done;
    if ((rc = build_rotations(&cx, &res->dims, err)) != GQ_OK) goto done;
    if (reference) {
        for (int l = 0; l < n_layers; l++) {
            layer_src s;
            double re = res->layers[l].rope_energy;
            if ((rc = layer_src_load(&res->dims, &m->w.layers[l], cx.Q[l], &s, err)) != GQ_OK) goto done;
            rc = build_reference(&res->dims, cx.Q[l], &s, &res->layers[l], err);
            res->layers[l].rope_energy = re;
            layer_src_free(&s);
            if (rc != GQ_OK) goto done;
            if (progress) progress(progress_ctx, 2, l, n_layers);
        }
    } else {
        if ((rc = gq_calib_run(m, set, pass2_layer, NULL, &cx, err)) != GQ_OK) goto done;
        free_layer(&cx.sub);
        if (dims->latent_norm && (rc = gq_calib_run(m, set, pass3_layer, NULL, &cx, err)) != GQ_OK) goto done;
    }
done:
    free_layer(&cx.sub);
    if (cx.Q)
        for (int l = 0; l < n_layers; l++) gq_free(cx.Q[l]);
    gq_free(cx.Q);
    if (cx.cf)
        for (int l = 0; l < n_layers; l++) gq_free(cx.cf[l]);
    gq_free(cx.cf);
    if (rc != GQ_OK) gq_gqa_result_free(res);
    return rc;
}
