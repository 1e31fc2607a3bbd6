/* mla.c — MLA → GQLA conversion driver (see mla.h; conversion.md §4, §5).
 *
 * Flow: check the options and the source → (with --hessian-nll) one scoring
 * pass for the §4.2 token weights → calib.h's layer driver over the source;
 * at each layer the callback widens ĉ_t = kv_a_layernorm(kv_a_proj(a_t)[0:r])
 * into the §4.3 statistic, groups the heads, runs the group PCAs and keeps
 * the four converted tensors → the output folder, built in a temporary
 * folder and renamed.  The arithmetic lives in mla_stats.c, mla_group.c
 * and mla_pca.c; this file owns no math beyond ĉ.
 */
#define _POSIX_C_SOURCE 200809L

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "fileio.h"
#include "gq_alloc.h"
#include "json_util.h"
#include "kernels.h"
#include "linalg.h"
#include "mla.h"
#include "mla_math.h"
#include "model_internal.h"
#include "output.h"
#include "score.h"
#include "self_check.h"
#include "sha256.h"

#define MLA_DAMPING 0.01   /* §4.3: 1 % of the mean diagonal */
#define MLA_CHUNK_ROWS 256 /* calibration rows widened per sgemm of kv_a_proj */

const char *gq_mla_grouping_name(gq_mla_grouping g)
{
    return g == GQ_MLA_GROUPING_SIMILARITY ? "similarity" : "neighbor";
}

int gq_mla_grouping_parse(const char *s, gq_mla_grouping *out)
{
    if (!s) return -1;
    if (strcmp(s, "neighbor") == 0) *out = GQ_MLA_GROUPING_NEIGHBOR;
    else if (strcmp(s, "similarity") == 0) *out = GQ_MLA_GROUPING_SIMILARITY;
    else return -1;
    return 0;
}

void gq_convert_mla_result_free(gq_convert_mla_result *r)
{
    if (!r) return;
    gq_free(r->members);
    gq_free(r->k_energy);
    gq_free(r->v_energy);
    memset(r, 0, sizeof *r);
}

// ---------------------------------------------------------------------------
// the conversion state

typedef struct mla_layer_out {
    float *kv_b;     /* [G*(d_n+d_v), r] */
    float *q;        /* [H*(d_n+d_r), q_in] q_proj or q_b_proj */
    float *q_bias;   /* [H*(d_n+d_r)] or NULL */
    float *o;        /* [D, H*d_v] */
} mla_layer_out;

typedef struct mla_job {
    gq_model *m;
    const gq_config *cfg;
    const gq_convert_mla_opts *o;
    gq_mla_dims dm;
    int L, gs;
    double sim_w_k, sim_w_v;
    double *w;             /* [n_tokens] NLL token weights, or NULL (uniform) */
    float *u;              /* [MLA_CHUNK_ROWS, r + d_r] kv_a_proj output */
    float *lat;            /* [MLA_CHUNK_ROWS, r] ĉ */
    double *cov;           /* [r, r] the layer's latent covariance */
    mla_layer_out *out;    /* [L] */
    int *members;          /* [L, H] */
    double *k_energy;      /* [L] */
    double *v_energy;      /* [L] */
    int check_tokens;          /* positions compared by the self check */
    double paths_max_abs_diff; /* its result */
} mla_job;

static void job_free(mla_job *j)
{
    if (j->out)
        for (int l = 0; l < j->L; l++) {
            gq_free(j->out[l].kv_b);
            gq_free(j->out[l].q);
            gq_free(j->out[l].q_bias);
            gq_free(j->out[l].o);
        }
    gq_free(j->out);
    gq_free(j->w);
    gq_free(j->u);
    gq_free(j->lat);
    gq_free(j->cov);
    gq_free(j->members);
    gq_free(j->k_energy);
    gq_free(j->v_energy);
    memset(j, 0, sizeof *j);
}

// ---------------------------------------------------------------------------
// §4.2 token weights: −log P(next token) under the source, per sequence

static int nll_weights(mla_job *j, const gq_calib_set *set, gq_error *err)
{
    int rc = GQ_OK;
    gq_kv_cache *c = NULL;
    gq_score *sc = gq_malloc((size_t)set->max_len * sizeof *sc, "NLL scores", err);
    int *rows = gq_malloc((size_t)set->max_len * sizeof *rows, "NLL rows", err);
    double *nll = gq_malloc((size_t)set->max_len * sizeof *nll, "NLL values", err);
    j->w = gq_malloc((size_t)set->n_tokens * sizeof *j->w, "token weights", err);
    if (!sc || !rows || !nll || !j->w) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    gq_path path = gq_config_default_path(j->cfg);
    for (int s = 0; s < set->n_samples; s++) {
        const int32_t *tok = set->tokens + set->offsets[s];
        int S = (int)(set->offsets[s + 1] - set->offsets[s]);
        if (S <= 0) continue;
        if ((rc = gq_kv_cache_init(&c, j->m, path, S, err)) != GQ_OK) goto done;
        for (int t = 0; t + 1 < S; t++) rows[t] = t;
        rc = gq_forward(j->m, c, tok, S, rows, tok + 1, S - 1, sc, err);
        gq_kv_cache_free(c);
        c = NULL;
        if (rc != GQ_OK) {
            gq_error_prefix(err, "NLL weights, calibration sample %d: ", s);
            goto done;
        }
        for (int t = 0; t + 1 < S; t++) nll[t] = -sc[t].logprob;
        gq_mla_nll_weights(nll, S, j->w + set->offsets[s]);
    }
done:
    gq_kv_cache_free(c);
    gq_free(sc);
    gq_free(rows);
    gq_free(nll);
    return rc;
}

// ---------------------------------------------------------------------------
// one layer: statistic, grouping, PCA, absorption

static int convert_layer(mla_job *j, int l, gq_error *err)
{
    const gq_mla_dims *dm = &j->dm;
    const int H = dm->H, G = dm->G, gs = j->gs;
    const gq_layer_weights *lw = &j->m->w.layers[l];
    int *members = j->members + (size_t)l * H;
    gq_mla_proj pk = {0}, pv = {0};
    double *S = NULL, *UK = NULL, *UV = NULL;
    const double **uk = NULL, **uv = NULL;
    mla_layer_out *out = &j->out[l];
    int rc;

    if ((rc = gq_mla_proj_init(&pk, j->cov, lw->wkv_b, H, dm->dn, dm->dv, dm->r, 0, err)) != GQ_OK) goto done;
    if ((rc = gq_mla_proj_init(&pv, j->cov, lw->wkv_b, H, dm->dn, dm->dv, dm->r, 1, err)) != GQ_OK) goto done;
    if (j->o->grouping == GQ_MLA_GROUPING_SIMILARITY && gs > 1) {
        S = gq_malloc((size_t)H * H * sizeof *S, "head similarity", err);
        if (!S) {
            rc = GQ_ERR_NOMEM;
            goto done;
        }
        if ((rc = gq_mla_similarity(&pk, &pv, j->sim_w_k, j->sim_w_v, S, err)) != GQ_OK) goto done;
        if ((rc = gq_mla_group_greedy(S, H, gs, members, err)) != GQ_OK) goto done;
    } else {
        gq_mla_group_neighbor(H, members);
    }

    UK = gq_malloc((size_t)G * gs * dm->dn * dm->dn * sizeof *UK, "K group bases", err);
    UV = gq_malloc((size_t)G * gs * dm->dv * dm->dv * sizeof *UV, "V group bases", err);
    uk = gq_malloc((size_t)G * sizeof *uk, "K basis table", err);
    uv = gq_malloc((size_t)G * sizeof *uv, "V basis table", err);
    if (!UK || !UV || !uk || !uv) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    double k_kept = 0, k_tot = 0, v_kept = 0, v_tot = 0;
    for (int g = 0; g < G; g++) {
        double kept, tot, *bk = UK + (size_t)g * gs * dm->dn * dm->dn, *bv = UV + (size_t)g * gs * dm->dv * dm->dv;
        uk[g] = bk;
        uv[g] = bv;
        rc = gq_mla_group_basis(&pk, members + g * gs, gs, MLA_DAMPING, bk, &kept, &tot, err);
        if (rc != GQ_OK) goto done;
        k_kept += kept, k_tot += tot;
        rc = gq_mla_group_basis(&pv, members + g * gs, gs, MLA_DAMPING, bv, &kept, &tot, err);
        if (rc != GQ_OK) goto done;
        v_kept += kept, v_tot += tot;
    }
    j->k_energy[l] = k_tot > 0 ? k_kept / k_tot : 1.0;
    j->v_energy[l] = v_tot > 0 ? v_kept / v_tot : 1.0;

    const size_t Q = (size_t)H * (dm->dn + dm->dr);
    const float *q_src = lw->wq.f32 ? lw->wq.f32 : lw->wq_b.f32;
    const float *qb_src = lw->wq.f32 ? lw->bq : lw->bq_b;
    out->kv_b = gq_malloc((size_t)G * (dm->dn + dm->dv) * dm->r * sizeof(float), "converted kv_b_proj", err);
    out->q = gq_malloc(Q * dm->q_in * sizeof(float), "converted query projection", err);
    out->o = gq_malloc((size_t)dm->D * H * dm->dv * sizeof(float), "converted o_proj", err);
    if (qb_src) out->q_bias = gq_malloc(Q * sizeof(float), "converted query bias", err);
    if (!out->kv_b || !out->q || !out->o || (qb_src && !out->q_bias)) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    gq_mla_attn_in in = {lw->wkv_b, q_src, qb_src, lw->wo.f32};
    gq_mla_attn_out ao = {out->kv_b, out->q, out->q_bias, out->o};
    rc = gq_mla_absorb_layer(dm, members, uk, uv, &in, &ao, err);
done:
    gq_mla_proj_free(&pk);
    gq_mla_proj_free(&pv);
    gq_free(S);
    gq_free(UK);
    gq_free(UV);
    gq_free(uk);
    gq_free(uv);
    if (rc != GQ_OK) gq_error_prefix(err, "layer %d: ", l);
    return rc;
}

/* Accumulate the latent statistic of one layer over every calibration
 * token, then convert the layer. */
static int layer_work(mla_job *j, const gq_calib_layer_view *v, gq_error *err)
{
    const gq_layer_weights *lw = &j->m->w.layers[v->layer];
    const int D = j->dm.D, r = j->dm.r, ru = r + j->dm.dr;
    const float eps = (float)j->cfg->latent_norm_eps;
    gq_mla_wcov acc;
    int rc = gq_mla_wcov_init(&acc, r, err);
    if (rc != GQ_OK) return rc;
    for (int64_t t0 = 0; t0 < v->n_tokens; t0 += MLA_CHUNK_ROWS) {
        int nb = (int)(v->n_tokens - t0 < MLA_CHUNK_ROWS ? v->n_tokens - t0 : MLA_CHUNK_ROWS);
        /* u[nb, r+d_r] = a W_kva^T (+ b) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, ru, D, 1.0f, v->a + (size_t)t0 * D, D, lw->wkv_a.f32,
                    D, 0.0f, j->u, ru);
        for (int t = 0; t < nb; t++) {
            float *ut = j->u + (size_t)t * ru, *ct = j->lat + (size_t)t * r;
            if (lw->bkv_a)
                for (int i = 0; i < r; i++) ut[i] += lw->bkv_a[i];
            if (lw->kv_a_norm) gq_rmsnorm_row(ct, ut, lw->kv_a_norm, r, eps);
            else memcpy(ct, ut, (size_t)r * sizeof *ct);
        }
        if ((rc = gq_mla_wcov_add(&acc, j->lat, r, nb, j->w ? j->w + t0 : NULL, err)) != GQ_OK) goto done;
    }
    if ((rc = gq_mla_wcov_finish(&acc, j->cov, err)) != GQ_OK) {
        gq_error_prefix(err, "layer %d: ", v->layer);
        goto done;
    }
    rc = convert_layer(j, v->layer, err);
    if (j->o->progress) j->o->progress(j->o->progress_ctx, 1, v->layer, j->L);
done:
    gq_mla_wcov_free(&acc);
    return rc;
}

/* The calibration driver's per-layer callback.  The layer's work is many
 * small BLAS/LAPACK calls (matrices of at most gs*d or r rows), so it runs
 * on one OpenBLAS thread: OpenMP fork/join and spinning barriers cost more
 * than they save at these sizes, and on a loaded 2-core machine they made a
 * 16-head, d = 128 layer pair take 87 s instead of 8 s.  The calibration
 * forward pass (the driver's) keeps every thread. */
static int on_layer(void *ctx, const gq_calib_layer_view *v, gq_calib_attn *subst, gq_error *err)
{
    (void)subst; /* the source runs unchanged: no layer sees converted predecessors (§4.1) */
    const int threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    int rc = layer_work(ctx, v, err);
    openblas_set_num_threads(threads);
    return rc;
}

// ---------------------------------------------------------------------------
// the output folder (output.h: a temporary folder renamed at the end)

static int sha256_file(const char *path, char hex[65], gq_error *err)
{
    gq_mapped_file mf = {0};
    int rc = gq_file_map(&mf, path, err);
    if (rc != GQ_OK) return rc;
    gq_sha256_hex(mf.data ? (const void *)mf.data : (const void *)"", mf.size, hex);
    gq_file_unmap(&mf);
    return GQ_OK;
}

/* Which converted tensor (if any) a source tensor name is: sets *layer
 * and returns 1 kv_b, 2 query weight, 3 query bias, 4 o_proj weight. */
static int converted_kind(const char *name, int *layer)
{
    int l, n = 0;
    if (sscanf(name, "model.layers.%d.self_attn.%n", &l, &n) != 1 || n == 0) return 0;
    const char *rest = name + n;
    *layer = l;
    if (strcmp(rest, "kv_b_proj.weight") == 0) return 1;
    if (strcmp(rest, "q_proj.weight") == 0 || strcmp(rest, "q_b_proj.weight") == 0) return 2;
    if (strcmp(rest, "q_proj.bias") == 0 || strcmp(rest, "q_b_proj.bias") == 0) return 3;
    if (strcmp(rest, "o_proj.weight") == 0) return 4;
    return 0;
}

/* Every source tensor in file order: the converted four per layer from the
 * job (float32, or bf16 when asked), the rest as stored. */
static int add_tensors(mla_job *j, gq_convert_out *out, gq_error *err)
{
    const gq_checkpoint *ck = j->m->ck;
    for (size_t i = 0; i < gq_checkpoint_tensor_count(ck); i++) {
        const gq_tensor_ref *t = gq_checkpoint_tensor(ck, i);
        int l = -1, kind = converted_kind(t->name, &l), rc;
        if (kind && l >= 0 && l < j->L) {
            const mla_layer_out *o = &j->out[l];
            float *data = kind == 1 ? o->kv_b : kind == 2 ? o->q : kind == 3 ? o->q_bias : o->o;
            int64_t shape[GQ_MAX_DIMS];
            memcpy(shape, t->shape, sizeof shape);
            if (kind == 1) shape[0] = (int64_t)j->dm.G * (j->dm.dn + j->dm.dv);
            if (!data) /* a tensor the model did not load: cannot happen for a loaded MLA layer */
                return gq_error_set(err, GQ_ERR_INVALID, "%s: tensor %s was not converted", t->file, t->name);
            rc = gq_out_add_f32(out, t->name, t->n_dims, shape, data, 0, j->o->dtype, err);
        } else {
            if (t->dtype != GQ_DTYPE_F32 && t->dtype != GQ_DTYPE_F16 && t->dtype != GQ_DTYPE_BF16)
                return gq_error_set(err, GQ_ERR_UNSUPPORTED, "%s: tensor %s is %s; the MLA converter copies F32, F16 "
                                    "and BF16 tensors only", t->file, t->name, gq_dtype_name(t->dtype));
            rc = gq_out_add(out, t->name, t->dtype, t->n_dims, t->shape, t->data, 0, err);
        }
        if (rc != GQ_OK) return rc;
    }
    return GQ_OK;
}

static cJSON *config_json(mla_job *j, const char *src_dir, gq_error *err)
{
    cJSON *root = NULL;
    char *src = gq_path_join(src_dir, "config.json", err);
    if (!src) return NULL;
    int rc = gq_json_load_file(&root, src, err);
    gq_free(src);
    if (rc != GQ_OK) return NULL;
    cJSON_DeleteItemFromObjectCaseSensitive(root, "num_key_value_heads");
    cJSON_AddNumberToObject(root, "num_key_value_heads", j->dm.G);
    cJSON_DeleteItemFromObjectCaseSensitive(root, "latent_norm_eps"); /* written explicitly, §5.2 */
    cJSON_AddNumberToObject(root, "latent_norm_eps", j->cfg->latent_norm_eps);
    return root;
}

static cJSON *int_array(const int *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

static cJSON *double_array(const double *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

/* gqla_meta.json (conversion.md §5.3; the "pca" block for MLA sources). */
static cJSON *meta_json(mla_job *j, const gq_calib_set *set, const char *src_dir, gq_error *err)
{
    const gq_config *c = j->cfg;
    const gq_mla_dims *dm = &j->dm;
    const gq_checkpoint *ck = j->m->ck;
    char method[64], hex[65];
    snprintf(method, sizeof method, "pca_%s_independent%s", gq_mla_grouping_name(j->o->grouping),
             j->o->hessian_nll ? "_hess_nll" : "");
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "format", "gqla-meta");
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddStringToObject(root, "converter", "gqla-eval " GQLA_VERSION);
    cJSON_AddStringToObject(root, "method", method);

    cJSON *src = cJSON_AddObjectToObject(root, "source");
    cJSON_AddStringToObject(src, "path", src_dir);
    cJSON_AddStringToObject(src, "model_type", c->model_type);
    cJSON_AddStringToObject(src, "attention", "mla");
    cJSON *sha = cJSON_AddObjectToObject(src, "file_sha256");
    char *cfg_path = gq_path_join(src_dir, "config.json", err);
    cJSON *cfg_json = NULL;
    int rc = cfg_path ? sha256_file(cfg_path, hex, err) : GQ_ERR_NOMEM;
    if (rc == GQ_OK) cJSON_AddStringToObject(sha, "config.json", hex);
    for (size_t i = 0; rc == GQ_OK && i < gq_checkpoint_tensor_count(ck); i++) { /* every distinct tensor file */
        const char *file = gq_checkpoint_tensor(ck, i)->file;
        const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
        if (cJSON_GetObjectItemCaseSensitive(sha, base)) continue;
        if ((rc = sha256_file(file, hex, err)) == GQ_OK) cJSON_AddStringToObject(sha, base, hex);
    }
    if (rc == GQ_OK) rc = gq_json_load_file(&cfg_json, cfg_path, err);
    gq_free(cfg_path);
    if (rc != GQ_OK) {
        cJSON_Delete(root);
        return NULL;
    }
    const cJSON *arch = cJSON_GetObjectItemCaseSensitive(cfg_json, "architectures");
    if (arch) cJSON_AddItemToObject(src, "architectures", cJSON_Duplicate(arch, 1));
    else cJSON_AddNullToObject(src, "architectures");
    cJSON_Delete(cfg_json);
    cJSON_AddNumberToObject(src, "num_key_value_heads", (double)c->num_key_value_heads);
    cJSON_AddNullToObject(src, "head_dim"); /* no GQA source: no 2*G*d cache to compare with */

    gq_meta_dims md = {dm->H, dm->G, dm->dn, dm->dr, dm->dv, dm->r, c->q_lora_rank,
                       c->rope_interleave ? "interleaved" : "rotate-half", c->qk_latent_layernorm, c->latent_norm_eps};
    gq_meta_add_dims_layout(root, &md, NULL, NULL);

    cJSON *rope = cJSON_AddObjectToObject(root, "rope");
    cJSON_AddNumberToObject(rope, "theta", c->rope_theta);
    const char *st = c->rope_scaling.type == GQ_ROPE_SCALING_YARN     ? "yarn"
                     : c->rope_scaling.type == GQ_ROPE_SCALING_LLAMA3 ? "llama3"
                     : c->rope_scaling.type == GQ_ROPE_SCALING_LINEAR ? "linear"
                                                                       : NULL;
    if (st) cJSON_AddStringToObject(rope, "scaling", st);
    else cJSON_AddNullToObject(rope, "scaling");
    cJSON_AddNumberToObject(root, "softmax_scale", j->m->rs.attn_scale);
    cJSON_AddStringToObject(root, "dtype", j->o->dtype == GQ_DTYPE_BF16 ? "bf16" : "f32");

    cJSON *pca = cJSON_AddObjectToObject(root, "pca");
    cJSON_AddNumberToObject(pca, "num_kv_heads", dm->G);
    cJSON_AddNumberToObject(pca, "group_size", j->gs);
    cJSON_AddStringToObject(pca, "head_grouping", gq_mla_grouping_name(j->o->grouping));
    cJSON_AddNumberToObject(pca, "sim_w_k", j->sim_w_k);
    cJSON_AddNumberToObject(pca, "sim_w_v", j->sim_w_v);
    cJSON_AddBoolToObject(pca, "hessian_pca", j->o->hessian_nll);
    if (j->o->hessian_nll) cJSON_AddStringToObject(pca, "hessian_mode", "nll");
    else cJSON_AddNullToObject(pca, "hessian_mode");
    cJSON *groups = cJSON_AddArrayToObject(pca, "groups");
    for (int l = 0; l < j->L; l++) {
        cJSON *gl = cJSON_CreateArray();
        for (int g = 0; g < dm->G; g++)
            cJSON_AddItemToArray(gl, int_array(j->members + (size_t)l * dm->H + g * j->gs, j->gs));
        cJSON_AddItemToArray(groups, gl);
    }
    cJSON_AddItemToObject(pca, "k_energy_retained", double_array(j->k_energy, j->L));
    cJSON_AddItemToObject(pca, "v_energy_retained", double_array(j->v_energy, j->L));

    cJSON *cal = cJSON_AddObjectToObject(root, "calibration");
    if (j->o->calib_source) cJSON_AddStringToObject(cal, "dataset", j->o->calib_source);
    else cJSON_AddNullToObject(cal, "dataset");
    cJSON_AddNumberToObject(cal, "nsamples", set->n_samples);
    cJSON_AddNumberToObject(cal, "seqlen", set->max_len);
    cJSON_AddNumberToObject(cal, "n_tokens", (double)set->n_tokens);
    cJSON_AddNumberToObject(cal, "seed", (double)j->o->seed);
    cJSON_AddStringToObject(cal, "sampler", set->sampler);
    gq_calib_sha256(set, hex);
    cJSON_AddStringToObject(cal, "token_ids_sha256", hex);
    cJSON_AddStringToObject(cal, "statistic", "centered");
    cJSON_AddStringToObject(cal, "token_weights", j->o->hessian_nll ? "nll" : "uniform");
    cJSON_AddNumberToObject(cal, "damping", MLA_DAMPING);

    cJSON *kv = cJSON_AddObjectToObject(root, "kv_cache_elements_per_token_per_layer");
    cJSON_AddNumberToObject(kv, "source", (double)dm->H * (dm->dn + dm->dr + dm->dv)); /* HF's expanded MLA cache */
    cJSON_AddNumberToObject(kv, "source_absorb", dm->r + dm->dr);
    cJSON_AddNumberToObject(kv, "absorb", dm->r + dm->dr);
    cJSON_AddNumberToObject(kv, "gqa", (double)dm->G * (dm->dn + dm->dv) + dm->dr);
    cJSON_AddNumberToObject(kv, "gqa_kpe_per_group", (double)dm->G * (dm->dn + dm->dr + dm->dv));

    cJSON *chk = cJSON_AddObjectToObject(root, "self_check");
    cJSON_AddStringToObject(chk, "paths", j->dm.G == j->dm.H ? "absorb vs expanded" : "gqa vs absorb");
    cJSON_AddNumberToObject(chk, "tokens", j->check_tokens);
    cJSON_AddNumberToObject(chk, "max_abs_dlogprob", j->paths_max_abs_diff);
    return root;
}

/* §6.3 (self_check.h), on the written model loaded back. */
static int self_check(mla_job *j, const char *dir, const gq_calib_set *set, gq_error *err)
{
    j->check_tokens = 0;
    j->paths_max_abs_diff = 0.0;
    if (set->offsets[1] - set->offsets[0] < 2) return GQ_OK; /* nothing to compare: not even loaded */
    gq_model *cm = NULL;
    gq_open_opts opts = {.load_weights = 1, .n_threads = j->m->n_threads, .max_tokens = GQ_SELF_CHECK_TOKENS};
    int rc = gq_model_open(&cm, dir, &opts, err);
    if (rc != GQ_OK) {
        gq_error_prefix(err, "the converted model does not load back: ");
        return rc;
    }
    const int mla = j->dm.G == j->dm.H;
    const gq_path paths[2] = {mla ? GQ_PATH_ABSORB : GQ_PATH_GQA, mla ? GQ_PATH_EXPANDED : GQ_PATH_ABSORB};
    gq_self_check chk;
    rc = gq_self_check_paths(cm, set, paths, &chk, err);
    j->check_tokens = chk.tokens;
    j->paths_max_abs_diff = chk.max_abs_diff;
    gq_model_close(cm);
    return rc;
}

static int write_folder(mla_job *j, const gq_calib_set *set, const char *out_dir, gq_error *err)
{
    const char *src_dir = gq_checkpoint_path(j->m->ck);
    gq_convert_out out = {0};
    cJSON *config = NULL, *meta = NULL;
    int rc = gq_out_begin(&out, out_dir, err);
    if (rc != GQ_OK) return rc;
    if ((rc = add_tensors(j, &out, err)) != GQ_OK) goto done;
    if ((rc = gq_out_write_tensors(&out, j->o->max_shard_bytes, err)) != GQ_OK) goto done;
    if (!(config = config_json(j, src_dir, err))) {
        rc = err && err->status ? err->status : GQ_ERR_NOMEM;
        goto done;
    }
    if ((rc = gq_out_write_json(&out, "config.json", config, err)) != GQ_OK) goto done;
    if ((rc = gq_out_copy_tokenizer_files(&out, src_dir, err)) != GQ_OK) goto done;
    if ((rc = self_check(j, out.tmp_dir, set, err)) != GQ_OK) goto done;
    if (!(meta = meta_json(j, set, src_dir, err))) {
        rc = err && err->status ? err->status : GQ_ERR_NOMEM;
        goto done;
    }
    if ((rc = gq_out_write_json(&out, "gqla_meta.json", meta, err)) != GQ_OK) goto done;
    rc = gq_out_commit(&out, err);
done:
    cJSON_Delete(config);
    cJSON_Delete(meta);
    gq_out_free(&out); /* removes the temporary folder unless committed */
    return rc;
}

// ---------------------------------------------------------------------------
// entry point

static int check_source(const gq_model *m, const gq_convert_mla_opts *o, const char *out_dir, gq_error *err)
{
    const gq_config *c = gq_model_config(m);
    const gq_checkpoint *ck = gq_model_checkpoint(m);
    const char *path = gq_model_path(m);
    if (!c || !ck || !m->weights_loaded)
        return gq_error_set(err, GQ_ERR_USAGE, "%s: convert --from mla needs a model opened with its weights", path);
    if (c->arch != GQ_ARCH_DEEPSEEK_MLA) {
        if (c->arch == GQ_ARCH_GQLA)
            return gq_error_set(err, GQ_ERR_USAGE, "%s/config.json: the source is already GQLA (num_key_value_heads "
                                "%lld < num_attention_heads %lld); --from mla needs an MLA source "
                                "(num_key_value_heads = num_attention_heads)", path,
                                (long long)c->num_key_value_heads, (long long)c->num_attention_heads);
        return gq_error_set(err, GQ_ERR_USAGE, "%s: the source is a %s (GQA) model, not MLA; use --from gqa", path,
                            gq_arch_name(c->arch));
    }
    if (gq_checkpoint_format_of(ck) != GQ_CHECKPOINT_HF)
        return gq_error_set(err, GQ_ERR_USAGE, "%s: --from mla reads Hugging Face folders (config.json + "
                            "safetensors)", path);
    const int64_t H = c->num_attention_heads;
    if (o->groups <= 0 || o->groups > H || H % o->groups != 0)
        return gq_error_set(err, GQ_ERR_USAGE, "--groups %d: must divide num_attention_heads = %lld (%s/config.json)",
                            o->groups, (long long)H, path);
    if (o->sim_w_k < 0 || o->sim_w_v < 0 || !isfinite(o->sim_w_k) || !isfinite(o->sim_w_v))
        return gq_error_set(err, GQ_ERR_USAGE, "similarity weights w_k %g, w_v %g: expected finite values >= 0",
                            o->sim_w_k, o->sim_w_v);
    if (!out_dir || !*out_dir) return gq_error_set(err, GQ_ERR_USAGE, "no output folder given (--output DIR)");
    if (gq_path_exists(out_dir))
        return gq_error_set(err, GQ_ERR_USAGE, "%s exists; remove it or choose another --output folder", out_dir);
    return GQ_OK;
}

int gq_convert_mla(gq_model *m, const gq_calib_set *set, const char *out_dir, const gq_convert_mla_opts *o,
                   gq_convert_mla_result *res, gq_error *err)
{
    int widen_rc = gq_model_widen_weights(m, err); /* the decompositions read float32 matrices */
    if (widen_rc != GQ_OK) return widen_rc;
    int rc = check_source(m, o, out_dir, err);
    if (rc != GQ_OK) return rc;
    if (!set || set->n_tokens <= 0 || set->n_samples <= 0)
        return gq_error_set(err, GQ_ERR_USAGE, "convert --from mla: no calibration tokens");

    mla_job j = {0};
    const gq_config *c = m->cfg;
    j.m = m;
    j.cfg = c;
    j.o = o;
    j.L = (int)c->num_hidden_layers;
    j.dm.H = (int)c->num_attention_heads;
    j.dm.G = o->groups;
    j.dm.dn = (int)c->qk_nope_head_dim;
    j.dm.dr = (int)c->qk_rope_head_dim;
    j.dm.dv = (int)c->v_head_dim;
    j.dm.r = (int)c->kv_lora_rank;
    j.dm.q_in = c->q_lora_rank > 0 ? (int)c->q_lora_rank : (int)c->hidden_size;
    j.dm.D = (int)c->hidden_size;
    j.gs = j.dm.H / j.dm.G;
    j.sim_w_k = o->sim_w_k == 0 && o->sim_w_v == 0 ? 1.0 : o->sim_w_k;
    j.sim_w_v = o->sim_w_k == 0 && o->sim_w_v == 0 ? 1.0 : o->sim_w_v;
    const int r = j.dm.r, ru = r + j.dm.dr;
    j.u = gq_malloc((size_t)MLA_CHUNK_ROWS * ru * sizeof *j.u, "kv_a_proj outputs", err);
    j.lat = gq_malloc((size_t)MLA_CHUNK_ROWS * r * sizeof *j.lat, "latent rows", err);
    j.cov = gq_malloc((size_t)r * r * sizeof *j.cov, "latent covariance", err);
    j.out = gq_calloc((size_t)j.L, sizeof *j.out, "converted layers", err);
    j.members = gq_malloc((size_t)j.L * j.dm.H * sizeof *j.members, "head groups", err);
    j.k_energy = gq_malloc((size_t)j.L * sizeof *j.k_energy, "K energy", err);
    j.v_energy = gq_malloc((size_t)j.L * sizeof *j.v_energy, "V energy", err);
    if (!j.u || !j.lat || !j.cov || !j.out || !j.members || !j.k_energy || !j.v_energy) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    if (o->hessian_nll && (rc = nll_weights(&j, set, err)) != GQ_OK) goto done;

    rc = gq_calib_run(m, set, on_layer, NULL, &j, err);
    if (rc != GQ_OK) goto done;
    if ((rc = write_folder(&j, set, out_dir, err)) != GQ_OK) goto done;

    if (res) {
        memset(res, 0, sizeof *res);
        res->L = j.L;
        res->H = j.dm.H;
        res->G = j.dm.G;
        res->members = j.members;
        res->k_energy = j.k_energy;
        res->v_energy = j.v_energy;
        res->paths_max_abs_diff = j.paths_max_abs_diff;
        j.members = NULL;
        j.k_energy = j.v_energy = NULL;
    }
done:
    job_free(&j);
    return rc;
}
