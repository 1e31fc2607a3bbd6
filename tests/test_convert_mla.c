/* test_convert_mla.c — MLA → GQLA conversion end to end on random MLA
 * sources that the test writes itself (conversion.md §4, §6.2 item 6).
 *
 * Sources (D = 48, 2 layers, d_n = d_v = 8, d_r = 4, r = 32, as §6.4's
 * test sizes; calibration 8 samples x 40 tokens from a tokens file):
 *   - random MLA with q low-rank, latent norms and biases (H = 8), and with
 *     a plain q_proj + bias and no latent norms (H = 6): converting to G = H
 *     must reproduce the source (1e-4 per log-prob, both MLA paths);
 *   - a hidden-group source: groups fixed by a permutation of the heads,
 *     W_UK^h = O_h B^K_{grp(h)} with a random orthogonal O_h and B^K_g
 *     reading latent coordinates no other group reads (V likewise).
 *     `similarity` grouping must recover the hidden groups in every layer
 *     and reproduce the source's log-probs, with uniform and with NLL token
 *     weights (also for G = 4, pairs inside the hidden groups); `neighbor`
 *     grouping must be measurably inexact.
 * Layer 0's statistic is recomputed in double from the files (its input is
 * the embedding): the converter's K/V energies must match (1e-6), uniform
 * and NLL weights.
 * On every converted model the gqa and absorb paths agree within 1e-4, and
 * (§6.2 item 2) a GQLA output equals its MLA view (kv_b blocks repeated),
 * which converts back to the same GQLA model.
 * Also: tensors outside the converted four are byte-identical to the
 * source, config.json says num_key_value_heads = G, gqla_meta.json holds
 * the groups, energies and self check, a sharded output loads and gives
 * the same numbers, --dtype bf16 writes the converted tensors as BF16, and bad options (--groups not dividing H, an
 * existing output, a GQA or GQLA source) fail with nothing written, through
 * the library and through `gqla-eval convert` (exit 2).
 * Usage: test_convert_mla (no arguments; files go to $GQ_TMP).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "calib.h"
#include "checkpoint_fixtures.h"
#include "fileio.h"
#include "linalg.h"
#include "mla.h"
#include "mla_fixtures.h"
#include "model.h"
#include "safetensors.h"
#include "score.h"
#include "testutil.h"

#define N_CALIB 8
#define CALIB_T 40
#define N_SEQ 3
#define SEQ_T 24

typedef struct shape {
    const char *name;
    int D, L, H, dn, dr, dv, r, rq, I, V;
    int bias, norms;
    int hidden_groups; /* 0: random kv_b; G > 0: hidden-group kv_b with G groups */
} shape;

static const shape qlora = {"mla-h8-qlora-bias", 48, 2, 8, 8, 4, 8, 32, 24, 64, 97, 1, 1, 0};
static const shape plainq = {"mla-h6-plainq-nonorm", 36, 2, 6, 8, 4, 8, 32, 0, 48, 89, 1, 0, 0};
static const shape hidden = {"mla-h8-hidden2", 48, 2, 8, 8, 4, 8, 32, 24, 64, 97, 1, 1, 2};

/* the hidden grouping: head h belongs to hidden_grp[h] */
static const int hidden_grp[8] = {1, 0, 0, 1, 0, 1, 1, 0};

// ---------------------------------------------------------------------------
// random sources

/* Every random number of the test: one stream (mla_fixtures.h). */
static mlafix_tensors tensors = {.rng = 0x9E3779B97F4A7C15ull};
static double urand(void) { return mlafix_urand(&tensors); }
static double nrand(void) { return mlafix_nrand(&tensors); }

/* A random orthogonal n x n matrix (Gram-Schmidt of a Gaussian one). */
static void random_orthogonal(double *O, int n)
{
    for (int i = 0; i < n * n; i++) O[i] = nrand();
    for (int c = 0; c < n; c++) { /* columns */
        for (int p = 0; p < c; p++) {
            double dot = 0;
            for (int i = 0; i < n; i++) dot += O[i * n + c] * O[i * n + p];
            for (int i = 0; i < n; i++) O[i * n + c] -= dot * O[i * n + p];
        }
        double nn = 0;
        for (int i = 0; i < n; i++) nn += O[i * n + c] * O[i * n + c];
        nn = sqrt(nn);
        for (int i = 0; i < n; i++) O[i * n + c] /= nn;
    }
}

/* kv_b_proj of a hidden-group source: group g reads latent coordinates
 * [g*r/G, (g+1)*r/G) only; head h's K rows are O_h B^K_{grp(h)}, its V
 * rows O'_h B^V_{grp(h)}. */
static void hidden_kv_b(const shape *s, float *kvb)
{
    const int G = s->hidden_groups, d = s->dn, r = s->r, w = r / G, blk = s->dn + s->dv;
    double B[2][4][8 * 32], O[64];
    for (int part = 0; part < 2; part++)
        for (int g = 0; g < G; g++)
            for (int a = 0; a < d; a++)
                for (int c = 0; c < r; c++)
                    B[part][g][a * r + c] = (c >= g * w && c < (g + 1) * w) ? nrand() / sqrt((double)w) : 0.0;
    for (int h = 0; h < s->H; h++)
        for (int part = 0; part < 2; part++) {
            random_orthogonal(O, d);
            const double *Bg = B[part][hidden_grp[h]];
            for (int a = 0; a < d; a++)
                for (int c = 0; c < r; c++) {
                    double acc = 0;
                    for (int k = 0; k < d; k++) acc += O[a * d + k] * Bg[k * r + c];
                    kvb[((size_t)h * blk + part * s->dn + a) * r + c] = (float)acc;
                }
        }
}

static int write_source(const shape *s, const char *dir)
{
    mlafix_dims d = {s->D, s->L, s->H, s->H, s->dn, s->dr, s->dv, s->r, s->rq, s->I, s->V, s->bias, s->norms};
    mlafix_model m;
    int rc = mlafix_add_model(&tensors, &d, &m);
    for (int l = 0; l < s->L && rc == 0 && s->hidden_groups; l++) hidden_kv_b(s, m.l[l].wkvb);
    if (rc == 0) rc = mlafix_write(&tensors, dir);
    mlafix_clear(&tensors);
    if (rc != 0) return -1;
    if (mlafix_write_config(&d, 256, dir) != 0) return -1;
    char path[4200];
    /* a tokenizer-side file the converter must copy */
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    return test_write_file(path, "{\"model_max_length\": 256}\n", 26);
}

/* N_CALIB lines of CALIB_T random ids */
static int write_calib(const char *path, int V)
{
    char buf[N_CALIB * CALIB_T * 8];
    size_t n = 0;
    for (int s = 0; s < N_CALIB; s++) {
        for (int t = 0; t < CALIB_T; t++)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%d", t ? " " : "", (int)(urand() * V) % V);
        buf[n++] = '\n';
    }
    return test_write_file(path, buf, n);
}

// ---------------------------------------------------------------------------
// scoring

/* lp[t] = log P(ids[t+1] | ids[..t]) for t < T-1 under `path`, T <= MAX_T. */
#define MAX_T 64
static int logprobs(gq_model *m, gq_path path, const int32_t *ids, int T, double *lp)
{
    gq_error err = {0};
    gq_kv_cache *c = NULL;
    gq_score sc[MAX_T];
    int rows[MAX_T], rc = -1;
    if (T > MAX_T) {
        fprintf(stderr, "logprobs: %d tokens, the test handles %d\n", T, MAX_T);
        return -1;
    }
    for (int t = 0; t + 1 < T; t++) rows[t] = t;
    if (gq_kv_cache_init(&c, m, path, T, &err) == GQ_OK &&
        gq_forward(m, c, ids, T, rows, ids + 1, T - 1, sc, &err) == GQ_OK) {
        for (int t = 0; t + 1 < T; t++) lp[t] = sc[t].logprob;
        rc = 0;
    } else {
        fprintf(stderr, "logprobs(%s): %s\n", gq_path_name(path), err.msg);
    }
    gq_kv_cache_free(c);
    return rc;
}

typedef struct scores {
    double lp[N_SEQ][SEQ_T];
} scores;

static int32_t seqs[N_SEQ][SEQ_T];

static int score_model(gq_model *m, gq_path path, scores *out)
{
    for (int i = 0; i < N_SEQ; i++)
        if (logprobs(m, path, seqs[i], SEQ_T, out->lp[i]) != 0) return -1;
    return 0;
}

static double max_diff(const scores *a, const scores *b)
{
    double d = 0;
    for (int i = 0; i < N_SEQ; i++)
        for (int t = 0; t + 1 < SEQ_T; t++) d = fmax(d, fabs(a->lp[i][t] - b->lp[i][t]));
    return d;
}

// ---------------------------------------------------------------------------
// one conversion

typedef struct conv_case {
    const char *label;
    int G;
    gq_mla_grouping grouping;
    int hessian;
    size_t shard_bytes; /* 0: one model.safetensors */
    gq_dtype dtype;     /* converted tensors: F32 (0) or BF16 */
} conv_case;

typedef struct conv_outcome {
    int ok;
    double d_src[2];    /* max |converted path p - source| */
    double d_paths;     /* max |gqa - absorb| (or absorb - expanded for G = H) */
    double k_energy, v_energy; /* min over layers */
    int groups_hidden;  /* every layer's groups are unions of... exactly the hidden groups' subsets */
} conv_outcome;

/* 1 when every group of every layer lies inside one hidden group. */
static int groups_match_hidden(const gq_convert_mla_result *res)
{
    int gs = res->H / res->G;
    for (int l = 0; l < res->L; l++)
        for (int g = 0; g < res->G; g++) {
            int first = hidden_grp[res->members[l * res->H + g * gs]];
            for (int i = 1; i < gs; i++)
                if (hidden_grp[res->members[l * res->H + g * gs + i]] != first) return 0;
        }
    return 1;
}

/* Check that a source tensor and the output tensor of the same name hold the same bytes. */
static int same_bytes(const char *src_dir, const char *out_dir, const char *name)
{
    char a[4200], b[4200];
    gq_error err = {0};
    gq_safetensors *sa = NULL, *sb = NULL;
    snprintf(a, sizeof a, "%s/model.safetensors", src_dir);
    snprintf(b, sizeof b, "%s/model.safetensors", out_dir);
    int ok = 0;
    if (gq_safetensors_open(&sa, a, &err) == GQ_OK && gq_safetensors_open(&sb, b, &err) == GQ_OK) {
        const gq_tensor_ref *ta = gq_safetensors_find(sa, name), *tb = gq_safetensors_find(sb, name);
        ok = ta && tb && ta->nbytes == tb->nbytes && ta->dtype == tb->dtype &&
             memcmp(ta->data, tb->data, ta->nbytes) == 0;
    }
    gq_safetensors_close(sa);
    gq_safetensors_close(sb);
    return ok;
}

static conv_outcome convert_and_check(const shape *s, const char *src_dir, const char *calib_path,
                                      const scores *src_scores, const conv_case *cc)
{
    conv_outcome oc = {0};
    char what[512], out_dir[4200];
    gq_error err = {0};
    gq_model *m = NULL, *cm = NULL;
    gq_calib_set set = {0};
    gq_convert_mla_result res = {0};
    gq_open_opts opts = {1, 0, 16, 0, NULL, GQ_DEVICE_CPU, 0};
    snprintf(out_dir, sizeof out_dir, "%s/../%s-%s", src_dir, s->name, cc->label);
    if (gq_model_open(&m, src_dir, &opts, &err) != GQ_OK ||
        gq_calib_from_tokens_file(&set, calib_path, s->V, &err) != GQ_OK) {
        fprintf(stderr, "%s\n", err.msg);
        test_cond("source and calibration open", 0);
        goto done;
    }
    gq_convert_mla_opts o = {0};
    o.groups = cc->G;
    o.grouping = cc->grouping;
    o.hessian_nll = cc->hessian;
    o.calib_source = calib_path;
    o.max_shard_bytes = cc->shard_bytes;
    o.dtype = cc->dtype;
    int rc = gq_convert_mla(m, &set, out_dir, &o, &res, &err);
    snprintf(what, sizeof what, "%s %s: conversion succeeds", s->name, cc->label);
    if (rc != GQ_OK) fprintf(stderr, "%s\n", err.msg);
    test_cond(what, rc == GQ_OK);
    if (rc != GQ_OK) goto done;

    if (gq_model_open(&cm, out_dir, &opts, &err) != GQ_OK) {
        fprintf(stderr, "%s\n", err.msg);
        test_cond("converted model opens", 0);
        goto done;
    }
    const gq_config *cfg = gq_model_config(cm);
    snprintf(what, sizeof what, "%s %s: converted config has num_key_value_heads = %d, arch %s", s->name, cc->label,
             cc->G, cc->G == s->H ? "MLA" : "GQLA");
    test_cond(what, cfg->num_key_value_heads == cc->G &&
                        cfg->arch == (cc->G == s->H ? GQ_ARCH_DEEPSEEK_MLA : GQ_ARCH_GQLA) &&
                        strcmp(cfg->model_type, "deepseek_v3") == 0);
    gq_path paths[2] = {cc->G == s->H ? GQ_PATH_ABSORB : GQ_PATH_GQA,
                        cc->G == s->H ? GQ_PATH_EXPANDED : GQ_PATH_ABSORB};
    scores sc[2];
    for (int p = 0; p < 2; p++) {
        if (score_model(cm, paths[p], &sc[p]) != 0) {
            test_cond("converted model scores", 0);
            goto done;
        }
        oc.d_src[p] = max_diff(&sc[p], src_scores);
    }
    oc.d_paths = max_diff(&sc[0], &sc[1]);
    oc.k_energy = oc.v_energy = 2;
    for (int l = 0; l < res.L; l++) {
        oc.k_energy = fmin(oc.k_energy, res.k_energy[l]);
        oc.v_energy = fmin(oc.v_energy, res.v_energy[l]);
    }
    oc.groups_hidden = s->hidden_groups ? groups_match_hidden(&res) : 0;
    printf("%-22s %-28s |%s - source| %.3g, |%s - source| %.3g, |%s - %s| %.3g, energy K %.9f V %.9f, groups l0:",
           s->name, cc->label, gq_path_name(paths[0]), oc.d_src[0], gq_path_name(paths[1]), oc.d_src[1],
           gq_path_name(paths[0]), gq_path_name(paths[1]), oc.d_paths, oc.k_energy, oc.v_energy);
    for (int n = 0; n < s->H; n++) printf("%s%d", n % (s->H / cc->G) ? "," : " ", res.members[n]);
    printf("\n");
    snprintf(what, sizeof what, "%s %s: %s and %s paths agree within 1e-4", s->name, cc->label,
             gq_path_name(paths[0]), gq_path_name(paths[1]));
    test_cond(what, oc.d_paths <= 1e-4);
    snprintf(what, sizeof what, "%s %s: the converter's own self check saw the paths agree (%.3g <= 1e-4)", s->name,
             cc->label, res.paths_max_abs_diff);
    test_cond(what, res.paths_max_abs_diff <= 1e-4);
    if (cc->shard_bytes) {
        char idx[4300];
        snprintf(idx, sizeof idx, "%s/model.safetensors.index.json", out_dir);
        snprintf(what, sizeof what, "%s %s: shards with an index when above %zu bytes", s->name, cc->label,
                 cc->shard_bytes);
        test_cond(what, gq_path_exists(idx));
    } else { /* everything but the four converted tensors is copied byte for byte */
        snprintf(what, sizeof what, "%s %s: unconverted tensors are byte-identical (embedding, kv_a, norms, mlp, "
                 "o_proj.bias)", s->name, cc->label);
        test_cond(what, same_bytes(src_dir, out_dir, "model.embed_tokens.weight") &&
                            same_bytes(src_dir, out_dir, "model.layers.1.self_attn.kv_a_proj_with_mqa.weight") &&
                            same_bytes(src_dir, out_dir, "model.layers.0.mlp.down_proj.weight") &&
                            same_bytes(src_dir, out_dir, "lm_head.weight") &&
                            (!s->norms ||
                             same_bytes(src_dir, out_dir, "model.layers.0.self_attn.kv_a_layernorm.weight")) &&
                            (!s->bias || same_bytes(src_dir, out_dir, "model.layers.1.self_attn.o_proj.bias")));
    }

    /* gqla_meta.json: method, groups of layer 0 as returned, energies */
    char meta_path[4300];
    snprintf(meta_path, sizeof meta_path, "%s/gqla_meta.json", out_dir);
    char *text = test_read_file(meta_path, NULL);
    cJSON *meta = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *pca = cJSON_GetObjectItemCaseSensitive(meta, "pca");
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(pca, "groups");
    const cJSON *g00 = cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetArrayItem(groups, 0), 0), 0);
    const cJSON *ke = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(pca, "k_energy_retained"), 1);
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(meta, "method");
    const cJSON *chk = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(meta, "self_check"),
                                                        "max_abs_dlogprob");
    char want_method[96];
    snprintf(want_method, sizeof want_method, "pca_%s_independent%s", gq_mla_grouping_name(cc->grouping),
             cc->hessian ? "_hess_nll" : "");
    snprintf(what, sizeof what, "%s %s: gqla_meta.json records method %s, the groups and energies", s->name,
             cc->label, want_method);
    test_cond(what, meta && cJSON_IsString(method) && strcmp(method->valuestring, want_method) == 0 &&
                        cJSON_GetArraySize(groups) == s->L && cJSON_IsNumber(g00) &&
                        (int)g00->valuedouble == res.members[0] && cJSON_IsNumber(ke) &&
                        fabs(ke->valuedouble - res.k_energy[1]) < 1e-12 && cJSON_IsNumber(chk) &&
                        /* cJSON keeps 15 digits when they read back within an ulp */
                        fabs(chk->valuedouble - res.paths_max_abs_diff) <= 1e-12 * res.paths_max_abs_diff);
    cJSON_Delete(meta);
    char tok[4300];
    snprintf(tok, sizeof tok, "%s/tokenizer_config.json", out_dir);
    snprintf(what, sizeof what, "%s %s: tokenizer files copied", s->name, cc->label);
    test_cond(what, gq_path_exists(tok));
    oc.ok = 1;
done:
    gq_model_close(m);
    gq_model_close(cm);
    gq_calib_set_free(&set);
    gq_convert_mla_result_free(&res);
    return oc;
}

static void source_scores(const char *dir, scores *out, int *ok)
{
    gq_error err = {0};
    gq_model *m = NULL;
    gq_open_opts opts = {1, 0, 16, 0, NULL, GQ_DEVICE_CPU, 0};
    *ok = gq_model_open(&m, dir, &opts, &err) == GQ_OK && score_model(m, GQ_PATH_ABSORB, out) == 0;
    if (!*ok) fprintf(stderr, "source: %s\n", err.msg);
    gq_model_close(m);
}

static int prepare(const shape *s, char *src_dir, char *calib_path, scores *src)
{
    char base[4096];
    snprintf(base, sizeof base, "%s", test_tmpdir(s->name));
    snprintf(src_dir, 4200, "%s/src", base);
    snprintf(calib_path, 4200, "%s/calib.txt", base);
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", src_dir);
    int ok = system(cmd) == 0 && write_source(s, src_dir) == 0 && write_calib(calib_path, s->V) == 0;
    for (int i = 0; i < N_SEQ; i++)
        for (int t = 0; t < SEQ_T; t++) seqs[i][t] = (int32_t)(urand() * s->V) % s->V;
    if (ok) source_scores(src_dir, src, &ok);
    test_cond("source written and scored", ok);
    return ok;
}

// ---------------------------------------------------------------------------
// the cases

static void check_exact_g_equals_h(const shape *s)
{
    char src_dir[4200], calib[4200], what[256];
    scores src;
    if (!prepare(s, src_dir, calib, &src)) return;
    conv_case cases[3] = {{"G=H-neighbor", s->H, GQ_MLA_GROUPING_NEIGHBOR, 0, 0, GQ_DTYPE_F32},
                          {"G=H-similarity-nll", s->H, GQ_MLA_GROUPING_SIMILARITY, 1, 0, GQ_DTYPE_F32},
                          {"G=H-bf16", s->H, GQ_MLA_GROUPING_NEIGHBOR, 0, 0, GQ_DTYPE_BF16}};
    for (int i = 0; i < 3; i++) {
        conv_outcome oc = convert_and_check(s, src_dir, calib, &src, &cases[i]);
        if (!oc.ok) continue;
        if (cases[i].dtype == GQ_DTYPE_BF16) { /* rounding only: near the source, and the tensors are bf16 */
            char path[4400], what2[256];
            snprintf(path, sizeof path, "%s/../%s-%s/model.safetensors", src_dir, s->name, cases[i].label);
            gq_safetensors *st = NULL;
            gq_error err = {0};
            const gq_tensor_ref *kvb = NULL, *emb = NULL;
            if (gq_safetensors_open(&st, path, &err) == GQ_OK) {
                kvb = gq_safetensors_find(st, "model.layers.0.self_attn.kv_b_proj.weight");
                emb = gq_safetensors_find(st, "model.embed_tokens.weight");
            }
            snprintf(what2, sizeof what2, "%s bf16: converted tensors written as BF16, the others kept F32", s->name);
            test_cond(what2, kvb && emb && kvb->dtype == GQ_DTYPE_BF16 && emb->dtype == GQ_DTYPE_F32);
            gq_safetensors_close(st);
            snprintf(what2, sizeof what2, "%s bf16: within bf16 rounding of the source (max |dlogprob| %.3g <= 0.05)",
                     s->name, fmax(oc.d_src[0], oc.d_src[1]));
            test_cond(what2, oc.d_src[0] <= 0.05 && oc.d_src[1] <= 0.05);
            continue;
        }
        snprintf(what, sizeof what, "%s %s: both paths reproduce the source within 1e-4 per log-prob", s->name,
                 cases[i].label);
        test_cond(what, oc.d_src[0] <= 1e-4 && oc.d_src[1] <= 1e-4);
        snprintf(what, sizeof what, "%s %s: all K and V energy kept", s->name, cases[i].label);
        test_cond(what, oc.k_energy == 1.0 && oc.v_energy == 1.0);
    }
}

static void check_hidden_groups(const shape *s)
{
    char src_dir[4200], calib[4200], what[256];
    scores src;
    if (!prepare(s, src_dir, calib, &src)) return;
    const conv_case exact[4] = {{"G=2-similarity", 2, GQ_MLA_GROUPING_SIMILARITY, 0, 0, GQ_DTYPE_F32},
                                {"G=2-similarity-nll", 2, GQ_MLA_GROUPING_SIMILARITY, 1, 0, GQ_DTYPE_F32},
                                {"G=4-similarity", 4, GQ_MLA_GROUPING_SIMILARITY, 0, 0, GQ_DTYPE_F32},
                                {"G=2-similarity-sharded", 2, GQ_MLA_GROUPING_SIMILARITY, 0, 64 << 10, GQ_DTYPE_F32}};
    for (int i = 0; i < 4; i++) {
        conv_outcome oc = convert_and_check(s, src_dir, calib, &src, &exact[i]);
        if (!oc.ok) continue;
        snprintf(what, sizeof what, "%s %s: every layer's groups lie inside the hidden groups", s->name,
                 exact[i].label);
        test_cond(what, oc.groups_hidden);
        snprintf(what, sizeof what, "%s %s: both paths reproduce the source within 1e-4 per log-prob", s->name,
                 exact[i].label);
        test_cond(what, oc.d_src[0] <= 1e-4 && oc.d_src[1] <= 1e-4);
        snprintf(what, sizeof what, "%s %s: the group bases keep all the energy (> 1 - 1e-9)", s->name,
                 exact[i].label);
        test_cond(what, oc.k_energy > 1 - 1e-9 && oc.v_energy > 1 - 1e-9);
    }
    const conv_case nb = {"G=2-neighbor", 2, GQ_MLA_GROUPING_NEIGHBOR, 0, 0, GQ_DTYPE_F32};
    conv_outcome oc = convert_and_check(s, src_dir, calib, &src, &nb);
    if (oc.ok) {
        snprintf(what, sizeof what, "%s neighbor: groups straddle the hidden ones, energy lost (< 0.95)", s->name);
        test_cond(what, !oc.groups_hidden && oc.k_energy < 0.95 && oc.v_energy < 0.95);
        snprintf(what, sizeof what, "%s neighbor: measurably inexact (max |dlogprob| > 1e-2)", s->name);
        test_cond(what, oc.d_src[0] > 1e-2 && oc.d_src[1] > 1e-2);
    }
}

/* Bad options and sources: an error naming the problem, nothing written. */
static void check_refusals(void)
{
    const shape *s = &hidden;
    char src_dir[4200], calib[4200], out[4300];
    scores src;
    if (!prepare(s, src_dir, calib, &src)) return;
    gq_error err = {0};
    gq_model *m = NULL;
    gq_calib_set set = {0};
    gq_open_opts opts = {1, 0, 16, 0, NULL, GQ_DEVICE_CPU, 0};
    if (gq_model_open(&m, src_dir, &opts, &err) != GQ_OK ||
        gq_calib_from_tokens_file(&set, calib, s->V, &err) != GQ_OK) {
        test_cond("refusals: source opens", 0);
        goto done;
    }
    gq_convert_mla_opts o = {0};
    snprintf(out, sizeof out, "%s/../refused", src_dir);

    o.groups = 3;
    int rc = gq_convert_mla(m, &set, out, &o, NULL, &err);
    printf("--groups 3 of 8: %s\n", err.msg);
    test_cond("--groups not dividing H: GQ_ERR_USAGE naming --groups and H, nothing written",
              rc == GQ_ERR_USAGE && strstr(err.msg, "--groups 3") && strstr(err.msg, "= 8") && !gq_path_exists(out));
    o.groups = 0;
    rc = gq_convert_mla(m, &set, out, &o, NULL, &err);
    test_cond("--groups 0: GQ_ERR_USAGE, nothing written", rc == GQ_ERR_USAGE && !gq_path_exists(out));

    o.groups = 2;
    rc = gq_convert_mla(m, &set, src_dir, &o, NULL, &err);
    printf("existing output: %s\n", err.msg);
    test_cond("an existing output folder is refused (nothing overwritten)",
              rc == GQ_ERR_USAGE && strstr(err.msg, "exists"));

    gq_calib_set empty = {0};
    rc = gq_convert_mla(m, &empty, out, &o, NULL, &err);
    test_cond("no calibration tokens: GQ_ERR_USAGE, nothing written", rc == GQ_ERR_USAGE && !gq_path_exists(out));

    /* an output folder that cannot be created */
    char other[4300];
    snprintf(other, sizeof other, "%s/../refused-parent-missing/deeper", src_dir);
    rc = gq_convert_mla(m, &set, other, &o, NULL, &err);
    printf("output under a missing folder: %s\n", err.msg);
    test_cond("an output under a missing folder: GQ_ERR_IO, nothing written",
              rc == GQ_ERR_IO && !gq_path_exists(other));
    gq_model_close(m);
    m = NULL;

    /* a GQA source */
    char gqa_dir[4200];
    snprintf(gqa_dir, sizeof gqa_dir, "%s", test_tmpdir("mla-refuse-gqa-src"));
    if (ckfix_build("valid", gqa_dir) == 0 && gq_model_open(&m, gqa_dir, &opts, &err) == GQ_OK) {
        rc = gq_convert_mla(m, &set, out, &o, NULL, &err);
        printf("GQA source: %s\n", err.msg);
        test_cond("a GQA source: GQ_ERR_USAGE pointing at --from gqa, nothing written",
                  rc == GQ_ERR_USAGE && strstr(err.msg, "--from gqa") && !gq_path_exists(out));
    } else {
        test_cond("GQA fixture opens", 0);
    }
    gq_model_close(m);
    m = NULL;

    /* a GQLA source (the output of a conversion) */
    const conv_case cc = {"G=2-for-refusal", 2, GQ_MLA_GROUPING_NEIGHBOR, 0, 0, GQ_DTYPE_F32};
    conv_outcome oc = convert_and_check(s, src_dir, calib, &src, &cc);
    char gqla_dir[4300];
    snprintf(gqla_dir, sizeof gqla_dir, "%s/../%s-%s", src_dir, s->name, cc.label);
    if (oc.ok && gq_model_open(&m, gqla_dir, &opts, &err) == GQ_OK) {
        rc = gq_convert_mla(m, &set, out, &o, NULL, &err);
        printf("GQLA source: %s\n", err.msg);
        test_cond("a GQLA source: GQ_ERR_USAGE saying it is already GQLA, nothing written",
                  rc == GQ_ERR_USAGE && strstr(err.msg, "already GQLA") && !gq_path_exists(out));
    } else {
        test_cond("GQLA output opens", 0);
    }
done:
    gq_model_close(m);
    gq_calib_set_free(&set);
}

/* Layer 0 sees the embeddings, so its statistic can be recomputed here from
 * the files alone: a_t = input_layernorm(E[token]), ĉ_t =
 * kv_a_layernorm((W_kva a_t + b)[0:r]) in double, the §4.3 estimator, and
 * per neighbor group the energy kept by d eigenvectors of W_g Σ_c W_g^T.
 * The converter's layer-0 K/V energies must match (uniform and NLL
 * weights; the NLL values come from the engine's own scoring). */
/* kept[0] += top-d eigenvalue sum, kept[1] += trace of group g's covariance */
static void group_energy(const double *cov, const float *kvb, int r, int row0, int d, int blk, int gs, int g,
                         double kept_tr[2])
{
    int n = gs * d;
    double *W = malloc((size_t)n * r * sizeof *W), *S = calloc((size_t)n * n, sizeof *S);
    double *ev = malloc(n * sizeof *ev);
    for (int i = 0; i < gs; i++)
        for (int a = 0; a < d; a++)
            for (int c = 0; c < r; c++)
                W[(i * d + a) * r + c] = kvb[((size_t)(g * gs + i) * blk + row0 + a) * r + c];
    for (int x = 0; x < n; x++)
        for (int y = 0; y < n; y++) {
            double acc = 0;
            for (int a = 0; a < r; a++)
                for (int b = 0; b < r; b++) acc += W[x * r + a] * cov[a * r + b] * W[y * r + b];
            S[x * n + y] = acc;
        }
    double tr = 0, kept = 0;
    for (int x = 0; x < n; x++) tr += S[x * n + x];
    gq_error err = {0};
    if (gq_eigh_desc(S, ev, n, &err) != GQ_OK) kept = NAN;
    for (int k = 0; k < d; k++) kept += ev[k];
    kept_tr[0] += kept;
    kept_tr[1] += tr;
    free(W), free(S), free(ev);
}

static void check_layer0_statistic(void)
{
    const shape *s = &qlora;
    char src_dir[4200], calib[4200], what[256];
    scores src;
    if (!prepare(s, src_dir, calib, &src)) return;
    char path[4400];
    gq_error err = {0};
    gq_safetensors *st = NULL;
    snprintf(path, sizeof path, "%s/model.safetensors", src_dir);
    if (gq_safetensors_open(&st, path, &err) != GQ_OK) {
        test_cond("layer 0: source reads", 0);
        return;
    }
#define F(name) ((const float *)gq_safetensors_find(st, name)->data)
    const float *E = F("model.embed_tokens.weight"), *g_in = F("model.layers.0.input_layernorm.weight");
    const float *Wa = F("model.layers.0.self_attn.kv_a_proj_with_mqa.weight");
    const float *ba = F("model.layers.0.self_attn.kv_a_proj_with_mqa.bias");
    const float *g_lat = F("model.layers.0.self_attn.kv_a_layernorm.weight");
    const float *kvb = F("model.layers.0.self_attn.kv_b_proj.weight");
#undef F
    const int D = s->D, r = s->r, G = 2, gs = s->H / G, blk = s->dn + s->dv;
    /* the calibration tokens and, for the NLL weights, the source's next-token log-probs */
    gq_calib_set set = {0};
    gq_model *m = NULL;
    gq_open_opts opts = {1, 0, 16, 0, NULL, GQ_DEVICE_CPU, 0};
    int ok = gq_calib_from_tokens_file(&set, calib, s->V, &err) == GQ_OK &&
             gq_model_open(&m, src_dir, &opts, &err) == GQ_OK;
    double *w = calloc((size_t)set.n_tokens, sizeof *w);
    for (int q = 0; ok && q < set.n_samples; q++) {
        int T = (int)(set.offsets[q + 1] - set.offsets[q]);
        double lp[MAX_T];
        ok = logprobs(m, GQ_PATH_ABSORB, set.tokens + set.offsets[q], T, lp) == 0;
        double mean = 0;
        for (int t = 0; t + 1 < T; t++) mean -= lp[t] / (T - 1);
        for (int t = 0; t + 1 < T; t++) w[set.offsets[q] + t] = -lp[t] / mean;
        w[set.offsets[q] + T - 1] = 0;
    }
    for (int hess = 0; ok && hess < 2; hess++) {
        /* §4.3 in double, written out */
        double wsum = 0, *mu = calloc(r, sizeof *mu), *M2 = calloc((size_t)r * r, sizeof *M2), c[64], a[64];
        for (int64_t t = 0; t < set.n_tokens; t++) {
            const float *e = E + (size_t)set.tokens[t] * D;
            double ss = 0;
            for (int i = 0; i < D; i++) ss += (double)e[i] * e[i];
            for (int i = 0; i < D; i++) a[i] = g_in[i] * e[i] / sqrt(ss / D + 1e-6);
            for (int k = 0; k < r; k++) {
                double acc = ba[k];
                for (int i = 0; i < D; i++) acc += (double)Wa[(size_t)k * D + i] * a[i];
                c[k] = acc;
            }
            ss = 0;
            for (int k = 0; k < r; k++) ss += c[k] * c[k];
            for (int k = 0; k < r; k++) c[k] = g_lat[k] * c[k] / sqrt(ss / r + 1e-6);
            double wt = hess ? w[t] : 1.0;
            wsum += wt;
            for (int k = 0; k < r; k++) {
                mu[k] += sqrt(wt) * c[k];
                for (int k2 = 0; k2 < r; k2++) M2[k * r + k2] += wt * c[k] * c[k2];
            }
        }
        for (int k = 0; k < r; k++)
            for (int k2 = 0; k2 < r; k2++)
                M2[k * r + k2] = (M2[k * r + k2] - mu[k] * mu[k2] / wsum) / fmax(wsum - 1, 1);
        double kk[2] = {0, 0}, vv[2] = {0, 0}; /* a layer's energy is Σ_g kept / Σ_g trace */
        for (int g = 0; g < G; g++) {
            group_energy(M2, kvb, r, 0, s->dn, blk, gs, g, kk);
            group_energy(M2, kvb, r, s->dn, s->dv, blk, gs, g, vv);
        }
        const double ke = kk[0] / kk[1], ve = vv[0] / vv[1];
        free(mu), free(M2);
        /* the converter */
        char out[4400];
        snprintf(out, sizeof out, "%s/../layer0-%s", src_dir, hess ? "nll" : "uniform");
        gq_convert_mla_result res = {0};
        gq_convert_mla_opts o = {0};
        o.groups = G;
        o.hessian_nll = hess;
        int ok2 = gq_convert_mla(m, &set, out, &o, &res, &err) == GQ_OK;
        if (!ok2) fprintf(stderr, "%s\n", err.msg);
        printf("layer 0 (%s weights): K energy converter %.9f, here %.9f; V %.9f, %.9f\n", hess ? "NLL" : "uniform",
               ok2 ? res.k_energy[0] : -1, ke, ok2 ? res.v_energy[0] : -1, ve);
        snprintf(what, sizeof what, "layer 0, %s weights: the converter's K and V energies equal an independent "
                 "double computation from the files (1e-6)", hess ? "NLL" : "uniform");
        test_cond(what, ok2 && fabs(res.k_energy[0] - ke) < 1e-6 && fabs(res.v_energy[0] - ve) < 1e-6 && ke < 0.99);
        gq_convert_mla_result_free(&res);
    }
    free(w);
    gq_model_close(m);
    gq_calib_set_free(&set);
    gq_safetensors_close(st);
}

/* The MLA view of a GQLA folder (conversion.md §2.3): kv_b_proj with every
 * group block repeated gs times (block g -> blocks g*gs .. g*gs+gs-1) and
 * num_key_value_heads = H; everything else as is.  Written here with the
 * safetensors API so that the test does not trust the converter for it. */
static int write_mla_view(const char *gqla_dir, const char *view_dir, int H, int G)
{
    char path[8900];
    gq_error err = {0};
    gq_safetensors *st = NULL;
    snprintf(path, sizeof path, "%s/model.safetensors", gqla_dir);
    if (gq_safetensors_open(&st, path, &err) != GQ_OK) return -1;
    size_t n = gq_safetensors_count(st);
    gq_safetensors_entry *e = calloc(n, sizeof *e);
    float **rep = calloc(n, sizeof *rep);
    int rc = -1, gs = H / G;
    for (size_t i = 0; e && rep && i < n; i++) {
        const gq_tensor_ref *t = gq_safetensors_tensor(st, i);
        e[i].name = t->name;
        e[i].dtype = t->dtype;
        e[i].n_dims = t->n_dims;
        memcpy(e[i].shape, t->shape, sizeof e[i].shape);
        e[i].data = t->data;
        if (strstr(t->name, "kv_b_proj.weight")) {
            if (t->dtype != GQ_DTYPE_F32) goto done;
            size_t blk = (size_t)(t->shape[0] / G) * (size_t)t->shape[1]; /* floats per group block */
            rep[i] = malloc((size_t)H * blk * sizeof(float));
            if (!rep[i]) goto done;
            for (int h = 0; h < H; h++)
                memcpy(rep[i] + h * blk, (const float *)t->data + (h / gs) * blk, blk * sizeof(float));
            e[i].shape[0] = t->shape[0] / G * H;
            e[i].data = rep[i];
        }
    }
    snprintf(path, sizeof path, "%s/model.safetensors", view_dir);
    if (!e || !rep || gq_safetensors_write(path, e, n, &err) != GQ_OK) goto done;
    snprintf(path, sizeof path, "%s/config.json", gqla_dir);
    char *text = test_read_file(path, NULL);
    cJSON *cfg = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!cfg) goto done;
    cJSON_ReplaceItemInObjectCaseSensitive(cfg, "num_key_value_heads", cJSON_CreateNumber(H));
    char *out = cJSON_Print(cfg);
    snprintf(path, sizeof path, "%s/config.json", view_dir);
    rc = out && test_write_file(path, out, strlen(out)) == 0 ? 0 : -1;
    free(out);
    cJSON_Delete(cfg);
done:
    for (size_t i = 0; rep && i < n; i++) free(rep[i]);
    free(rep);
    free(e);
    gq_safetensors_close(st);
    return rc;
}

/* §6.2 item 2 and a round trip: a (non-trivial) GQLA output and its MLA
 * view compute the same function on all four paths; converting the view
 * back to G groups (neighbor or similarity) reproduces the GQLA model. */
static void check_mla_view(void)
{
    const shape *s = &hidden;
    char src_dir[4200], calib[4200], what[256];
    scores src;
    if (!prepare(s, src_dir, calib, &src)) return;
    const conv_case cc = {"G=2-neighbor-for-view", 2, GQ_MLA_GROUPING_NEIGHBOR, 0, 0, GQ_DTYPE_F32};
    conv_outcome oc = convert_and_check(s, src_dir, calib, &src, &cc);
    if (!oc.ok) return;
    char gqla_dir[4400], view_dir[4400], cmd[9000];
    snprintf(gqla_dir, sizeof gqla_dir, "%s/../%s-%s", src_dir, s->name, cc.label);
    snprintf(view_dir, sizeof view_dir, "%s/../mla-view", src_dir);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", view_dir);
    test_cond("view: MLA view written", system(cmd) == 0 && write_mla_view(gqla_dir, view_dir, s->H, 2) == 0);
    gq_model *gm = NULL, *vm = NULL;
    gq_error err = {0};
    gq_open_opts opts = {1, 0, 16, 0, NULL, GQ_DEVICE_CPU, 0};
    scores g[2], v[2];
    int ok = gq_model_open(&gm, gqla_dir, &opts, &err) == GQ_OK && gq_model_open(&vm, view_dir, &opts, &err) == GQ_OK &&
             gq_model_config(vm)->arch == GQ_ARCH_DEEPSEEK_MLA && score_model(gm, GQ_PATH_GQA, &g[0]) == 0 &&
             score_model(gm, GQ_PATH_ABSORB, &g[1]) == 0 && score_model(vm, GQ_PATH_ABSORB, &v[0]) == 0 &&
             score_model(vm, GQ_PATH_EXPANDED, &v[1]) == 0;
    if (!ok) fprintf(stderr, "%s\n", err.msg);
    double d = 0;
    for (int a = 0; ok && a < 2; a++)
        for (int b = 0; b < 2; b++) d = fmax(d, max_diff(&g[a], &v[b]));
    printf("GQLA (gqa, absorb) vs its MLA view (absorb, expanded): max |dlogprob| %.3g\n", d);
    test_cond("§6.2 item 2: GQLA and its MLA view agree within 1e-4 on all four paths", ok && d <= 1e-4);
    gq_model_close(gm);
    /* back to 2 groups from the view: the view's groups are exact copies, so both groupings are exact */
    const gq_mla_grouping gr[2] = {GQ_MLA_GROUPING_NEIGHBOR, GQ_MLA_GROUPING_SIMILARITY};
    for (int k = 0; ok && k < 2; k++) {
        char back[4400];
        gq_calib_set set = {0};
        gq_convert_mla_result res = {0};
        gq_convert_mla_opts o = {0};
        o.groups = 2;
        o.grouping = gr[k];
        snprintf(back, sizeof back, "%s/../view-back-%s", src_dir, gq_mla_grouping_name(gr[k]));
        scores b;
        int ok2 = gq_calib_from_tokens_file(&set, calib, s->V, &err) == GQ_OK &&
                  gq_convert_mla(vm, &set, back, &o, &res, &err) == GQ_OK &&
                  gq_model_open(&gm, back, &opts, &err) == GQ_OK &&
                  score_model(gm, GQ_PATH_GQA, &b) == 0;
        if (!ok2) fprintf(stderr, "%s\n", err.msg);
        double db = ok2 ? max_diff(&b, &g[0]) : 1e9;
        int neighbors = ok2;
        for (int l = 0; ok2 && l < res.L; l++) { /* each new group is one original group, in any order */
            const int *mem = res.members + l * s->H;
            for (int n = 0; n < s->H; n++) neighbors &= mem[n] / 4 == mem[n / 4 * 4] / 4;
        }
        printf("MLA view -> G=2 (%s): max |dlogprob| vs the GQLA model %.3g\n", gq_mla_grouping_name(gr[k]), db);
        snprintf(what, sizeof what, "view -> G = 2, %s: groups are the original ones, the GQLA model is reproduced "
                 "within 1e-4", gq_mla_grouping_name(gr[k]));
        test_cond(what, ok2 && neighbors && db <= 1e-4);
        gq_model_close(gm);
        gm = NULL;
        gq_calib_set_free(&set);
        gq_convert_mla_result_free(&res);
    }
    gq_model_close(vm);
}

/* The command line: `gqla-eval convert` on an MLA source (exit 0, the
 * output loads and matches the source), and bad options (exit 2, the
 * message names the option, nothing written). */
static void check_cli(void)
{
    const shape *s = &hidden;
    char src_dir[4200], calib[4200], out[4300], args[16384], what[256];
    scores src;
    if (!prepare(s, src_dir, calib, &src)) return;
    snprintf(out, sizeof out, "%s/../cli-out", src_dir);
    char *text = NULL;
    snprintf(args, sizeof args,
             "convert --model '%s' --output '%s' --calib-tokens '%s' --groups 2 --grouping similarity "
             "--hessian-nll --quiet", src_dir, out, calib);
    int rc = test_run_cli(args, &text);
    printf("cli convert: exit %d\n%s", rc, text ? text : "");
    test_cond("cli: convert --groups 2 --grouping similarity --hessian-nll exits 0", rc == 0 && gq_path_exists(out));
    free(text);
    gq_model *cm = NULL;
    gq_error err = {0};
    gq_open_opts opts = {1, 0, 16, 0, NULL, GQ_DEVICE_CPU, 0};
    scores sc;
    int ok = gq_model_open(&cm, out, &opts, &err) == GQ_OK && score_model(cm, GQ_PATH_GQA, &sc) == 0;
    double d = ok ? max_diff(&sc, &src) : 1e9;
    printf("cli output vs source: max |dlogprob| %.3g\n", d);
    test_cond("cli: the output reproduces the hidden-group source within 1e-4", d <= 1e-4);
    gq_model_close(cm);

    static const struct {
        const char *extra, *needle;
    } bad[] = {
        {"--groups 3", "--groups 3"},
        {"--groups 2 --grouping nearest", "--grouping nearest"},
        {"--groups 2 --rope-dim 2", "--rope-dim"},
        {"--groups 2 --kv-lora-rank 16", "--kv-lora-rank"},
        {"--grouping similarity", "--groups"},
        {"--groups 2 --from gqa", "--from"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(out, sizeof out, "%s/../cli-bad-%zu", src_dir, i);
        snprintf(args, sizeof args, "convert --model '%s' --output '%s' --calib-tokens '%s' %s --quiet", src_dir, out,
                 calib, bad[i].extra);
        text = NULL;
        rc = test_run_cli(args, &text);
        printf("cli %s: exit %d: %s", bad[i].extra, rc, text ? text : "");
        snprintf(what, sizeof what, "cli: %s on an MLA source exits 2 naming %s, nothing written", bad[i].extra,
                 bad[i].needle);
        test_cond(what, rc == 2 && text && strstr(text, bad[i].needle) && !gq_path_exists(out));
        free(text);
    }
}

/* The transformers-written DeepSeek-V3 fixture (tests/fixtures/mla/
 * dsv3-qlora-yarn: q low-rank, yarn, biases; reference.txt from
 * tests/reference/make_mla_fixtures.py): converted at G = H its two paths
 * must still give HF's log-probs within 1e-4 (an independent reference,
 * and a config with rope_parameters that must survive the copy); at G = 2
 * the paths must agree. */
#define HF_MAX_T MAX_T
static void check_hf_fixture(void)
{
    char src[4096], ref[4200], calib[4300], what[256];
    snprintf(src, sizeof src, "%s", test_fixture("mla/dsv3-qlora-yarn"));
    snprintf(ref, sizeof ref, "%s/reference.txt", src);
    char *text = test_read_file(ref, NULL);
    test_cond("hf fixture: reference.txt reads", text != NULL);
    if (!text) return;
    /* "ids a b c ..." then one line per position: "t id logprob argmax argmax_logprob" */
    static int32_t ids[2][HF_MAX_T];
    static double want[2][HF_MAX_T];
    int n_seq = -1, T[2] = {0, 0};
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "ids ", 4) == 0 && n_seq < 1) {
            n_seq++;
            for (char *p = line + 4; *p && T[n_seq] < HF_MAX_T;) {
                char *end;
                long v = strtol(p, &end, 10);
                if (end == p) break;
                ids[n_seq][T[n_seq]++] = (int32_t)v;
                p = end;
            }
        } else if (n_seq >= 0 && line[0] >= '0' && line[0] <= '9') {
            int t, id;
            double lp;
            if (sscanf(line, "%d %d %lf", &t, &id, &lp) == 3 && t >= 1 && t < T[n_seq]) want[n_seq][t - 1] = lp;
        }
    }
    free(text);
    int V = 160;
    char base[4096];
    snprintf(base, sizeof base, "%s", test_tmpdir("mla-hf-dsv3"));
    snprintf(calib, sizeof calib, "%s/calib.txt", base);
    test_cond("hf fixture: two sequences parsed, calibration written",
              n_seq == 1 && T[0] > 8 && T[1] > 8 && write_calib(calib, V) == 0);
    const int Gs[2] = {4, 2};
    for (int k = 0; k < 2; k++) {
        char out[4300];
        snprintf(out, sizeof out, "%s/G%d", base, Gs[k]);
        gq_error err = {0};
        gq_model *m = NULL, *cm = NULL;
        gq_calib_set set = {0};
        gq_open_opts opts = {1, 0, 16, 0, NULL, GQ_DEVICE_CPU, 0};
        gq_convert_mla_opts o = {0};
        o.groups = Gs[k];
        o.grouping = GQ_MLA_GROUPING_SIMILARITY;
        int ok = gq_model_open(&m, src, &opts, &err) == GQ_OK &&
                 gq_calib_from_tokens_file(&set, calib, V, &err) == GQ_OK &&
                 gq_convert_mla(m, &set, out, &o, NULL, &err) == GQ_OK && gq_model_open(&cm, out, &opts, &err) == GQ_OK;
        if (!ok) fprintf(stderr, "%s\n", err.msg);
        snprintf(what, sizeof what, "hf fixture: converted to G = %d and reopened", Gs[k]);
        test_cond(what, ok);
        if (ok) {
            gq_path paths[2] = {Gs[k] == 4 ? GQ_PATH_ABSORB : GQ_PATH_GQA,
                                Gs[k] == 4 ? GQ_PATH_EXPANDED : GQ_PATH_ABSORB};
            double lp[2][HF_MAX_T], d_ref = 0, d_paths = 0;
            for (int q = 0; q <= n_seq; q++) {
                for (int p = 0; p < 2; p++) ok &= logprobs(cm, paths[p], ids[q], T[q], lp[p]) == 0;
                for (int t = 0; ok && t + 1 < T[q]; t++) {
                    d_ref = fmax(d_ref, fmax(fabs(lp[0][t] - want[q][t]), fabs(lp[1][t] - want[q][t])));
                    d_paths = fmax(d_paths, fabs(lp[0][t] - lp[1][t]));
                }
            }
            printf("hf dsv3-qlora-yarn -> G=%d: |paths - HF reference| %.3g, |%s - %s| %.3g\n", Gs[k], d_ref,
                   gq_path_name(paths[0]), gq_path_name(paths[1]), d_paths);
            snprintf(what, sizeof what, "hf fixture G = %d: %s and %s agree within 1e-4", Gs[k], gq_path_name(paths[0]),
                     gq_path_name(paths[1]));
            test_cond(what, ok && d_paths <= 1e-4);
            if (Gs[k] == 4) test_cond("hf fixture G = H: both paths give transformers' log-probs within 1e-4",
                                      ok && d_ref <= 1e-4);
            else test_cond("hf fixture G = 2 (random weights, no group structure): not the source (> 1e-3)",
                           ok && d_ref > 1e-3);
        }
        gq_model_close(m);
        gq_model_close(cm);
        gq_calib_set_free(&set);
    }
}

int main(void)
{
    check_exact_g_equals_h(&qlora);
    check_exact_g_equals_h(&plainq);
    check_hidden_groups(&hidden);
    check_refusals();
    check_cli();
    check_hf_fixture();
    check_mla_view();
    check_layer0_statistic();
    return test_report("convert_mla");
}
