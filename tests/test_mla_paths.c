/* test_mla_paths.c — the MLA / GQLA decoding paths against each other and
 * against an independent naive computation (conversion.md §2, §6.2 1).
 *
 * For several random GQLA and MLA shapes (8 heads / 2 groups, 9 / 3, one
 * group, H = N, qk_nope != v_dim, with and without q low-rank, biases, no
 * latent norms, rotate-half RoPE, yarn) the test writes config.json +
 * model.safetensors itself (gq_safetensors_write), opens the model and
 * scores sequences the way a server decodes: prefill the context into the
 * path's cache, then feed the rest sq = 1, 2, 4 tokens at a time.  Checks:
 *   - the model's two paths agree within 1e-5 relative per log-prob;
 *   - each path equals a naive per-head expanded forward pass written here
 *     with plain loops in double precision, within 1e-4 per log-prob;
 *   - gq_scorer_init_path (requests with shared contexts) gives the naive
 *     sums, for each path and sq (sq 0: the shared-context choices as one
 *     tree batch);
 *   - allocated cache sizes equal conversion.md §2.4, paths a model does not
 *     have are refused, MoE configs and wrong kv_b_proj shapes are refused.
 * Usage: test_mla_paths (no arguments; fixtures go to $GQ_TMP).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mla_fixtures.h"
#include "model.h"
#include "safetensors.h"
#include "score.h"
#include "testutil.h"

#define SEQ_T 40
#define CTX_T 17

typedef struct shape {
    const char *name;
    int D, L, H, G, dn, dr, dv, r, rq, I, V;
    int bias, norms, interleave, yarn;
    double lat_eps; /* 0: no latent_norm_eps key (rms_norm_eps is used) */
} shape;

static const shape shapes[] = {
    /* name            D  L  H  G  dn dr dv  r  rq  I   V  bias norms il yarn lat_eps */
    {"h8g2-qlora-bias", 48, 2, 8, 2, 8, 4, 8, 32, 24, 64, 97, 1, 1, 1, 0, 0.0},
    {"h9g3-plainq", 54, 2, 9, 3, 8, 4, 8, 24, 0, 64, 101, 0, 1, 1, 0, 1e-5},
    {"h8g2-dn12-dv8-nonorm", 48, 2, 8, 2, 12, 6, 8, 40, 0, 64, 89, 1, 0, 1, 0, 0.0},
    {"h4g1-yarn-dv12", 40, 2, 4, 1, 8, 8, 12, 16, 16, 48, 83, 0, 1, 1, 1, 0.0},
    {"h6g2-halfrope", 36, 2, 6, 2, 6, 4, 10, 20, 12, 40, 79, 1, 1, 0, 0, 0.0},
    {"mla-h4", 32, 2, 4, 4, 8, 4, 6, 16, 12, 40, 71, 1, 1, 1, 1, 0.0},
};

/* yarn for the shapes that use it (conversion.md §1.2) */
#define YARN_F 4.0
#define YARN_M 64.0
#define YARN_MSCALE 0.707
#define THETA 10000.0
#define RMS_EPS 1e-6

// ---------------------------------------------------------------------------
// random weights

/* Every random number of the test: one stream (mla_fixtures.h). */
static mlafix_tensors tensors = {.rng = 88172645463325252ull};
static double urand(void) { return mlafix_urand(&tensors); }

/* Build the weights of shape s, write them and config.json into dir. */
/* moe_config: replaces the dense-only first_k_dense_replace / n_routed_experts keys. */
static int write_model(const shape *s, const char *dir, mlafix_model *w, const char *moe_config)
{
    mlafix_clear(&tensors);
    mlafix_dims d = {s->D, s->L, s->H, s->G, s->dn, s->dr, s->dv, s->r, s->rq, s->I, s->V, s->bias, s->norms};
    if (mlafix_add_model(&tensors, &d, w) != 0 || mlafix_write(&tensors, dir) != 0) return -1;
    char path[4200], cfg[4096], rq[32], lat[64] = "", yarn[256] = "", moe[128];
    if (moe_config) snprintf(moe, sizeof moe, "%s", moe_config);
    else snprintf(moe, sizeof moe, "\"first_k_dense_replace\": %d, \"n_routed_experts\": null", s->L);
    if (s->rq) snprintf(rq, sizeof rq, "%d", s->rq);
    else snprintf(rq, sizeof rq, "null");
    if (s->lat_eps > 0) snprintf(lat, sizeof lat, "\"latent_norm_eps\": %g, ", s->lat_eps);
    if (s->yarn)
        snprintf(yarn, sizeof yarn,
                 "\"rope_scaling\": {\"type\": \"yarn\", \"factor\": %g, \"original_max_position_embeddings\": %d, "
                 "\"beta_fast\": 32, \"beta_slow\": 1, \"mscale\": %g, \"mscale_all_dim\": %g}, ",
                 YARN_F, (int)YARN_M, YARN_MSCALE, YARN_MSCALE);
    snprintf(cfg, sizeof cfg,
             "{\"architectures\": [\"DeepseekV3ForCausalLM\"], \"model_type\": \"deepseek_v3\", "
             "\"hidden_size\": %d, \"intermediate_size\": %d, \"num_hidden_layers\": %d, "
             "\"num_attention_heads\": %d, \"num_key_value_heads\": %d, \"vocab_size\": %d, "
             "\"q_lora_rank\": %s, \"kv_lora_rank\": %d, \"qk_nope_head_dim\": %d, \"qk_rope_head_dim\": %d, "
             "\"v_head_dim\": %d, \"head_dim\": %d, \"rope_theta\": %g, %s\"rope_interleave\": %s, "
             "\"qk_latent_layernorm\": %s, %s\"rms_norm_eps\": %g, \"attention_bias\": %s, "
             "%s, \"n_shared_experts\": null, "
             "\"max_position_embeddings\": 256, \"tie_word_embeddings\": false, \"bos_token_id\": 0, "
             "\"eos_token_id\": 1}\n",
             s->D, s->I, s->L, s->H, s->G, s->V, rq, s->r, s->dn, s->dr, s->dv, s->dr, THETA, yarn,
             s->interleave ? "true" : "false", s->norms ? "true" : "false", lat, RMS_EPS, s->bias ? "true" : "false",
             moe);
    snprintf(path, sizeof path, "%s/config.json", dir);
    return test_write_file(path, cfg, strlen(cfg));
}

static void free_model(void) { mlafix_clear(&tensors); }

// ---------------------------------------------------------------------------
// the naive reference: per-head expanded MLA (HF's computation), double

static void d_rmsnorm(double *y, const double *x, const float *w, int n, double eps)
{
    double ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    double inv = 1.0 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) y[i] = (w ? w[i] : 1.0) * x[i] * inv;
}

/* y[out] = W[out, in] x + b */
static void d_linear(double *y, const float *W, const float *b, const double *x, int out, int in)
{
    for (int o = 0; o < out; o++) {
        double acc = b ? b[o] : 0.0;
        for (int i = 0; i < in; i++) acc += (double)W[(size_t)o * in + i] * x[i];
        y[o] = acc;
    }
}

static double yarn_m(double f, double mu) { return f <= 1 ? 1.0 : 0.1 * mu * log(f) + 1.0; }

/* Frequencies of the rope part; *amp the cos/sin amplitude. */
static void d_freqs(const shape *s, double *w, double *amp)
{
    int n = s->dr;
    *amp = 1.0;
    for (int j = 0; j < n / 2; j++) w[j] = pow(THETA, -2.0 * j / n);
    if (!s->yarn) return;
    double kf = n * log(YARN_M / (6.283185307179586 * 32)) / (2 * log(THETA));
    double ks = n * log(YARN_M / (6.283185307179586 * 1)) / (2 * log(THETA));
    double lo = fmax(floor(kf), 0), hi = fmin(ceil(ks), n - 1);
    if (lo == hi) hi += 0.001;
    for (int j = 0; j < n / 2; j++) {
        double ramp = fmin(fmax((j - lo) / (hi - lo), 0.0), 1.0);
        w[j] *= 1 - ramp + ramp / YARN_F;
    }
    *amp = yarn_m(YARN_F, YARN_MSCALE) / yarn_m(YARN_F, YARN_MSCALE);
}

static void d_rope(double *x, int n, int pos, const double *w, double amp, int interleave)
{
    for (int p = 0; p < n / 2; p++) {
        double c = cos(pos * w[p]) * amp, sn = sin(pos * w[p]) * amp;
        int i0 = interleave ? 2 * p : p, i1 = interleave ? 2 * p + 1 : p + n / 2;
        double a = x[i0], b = x[i1];
        x[i0] = a * c - b * sn;
        x[i1] = b * c + a * sn;
    }
}

/* lp[t] = log P(ids[t+1] | ids[..t]) for t < T-1. */
static void naive_logprobs(const shape *s, const mlafix_model *w, const int32_t *ids, int T, double *lp)
{
    const int D = s->D, H = s->H, G = s->G, dn = s->dn, dr = s->dr, dv = s->dv, r = s->r, qk = dn + dr;
    const int gs = H / G;
    double lat_eps = s->lat_eps > 0 ? s->lat_eps : RMS_EPS;
    double freqs[64], amp;
    d_freqs(s, freqs, &amp);
    double tau = 1.0 / sqrt((double)qk);
    if (s->yarn) tau *= yarn_m(YARN_F, YARN_MSCALE) * yarn_m(YARN_F, YARN_MSCALE);
    double *x = calloc((size_t)T * D, sizeof *x), *a = malloc(D * sizeof *a), *tmp = malloc(512 * sizeof *tmp);
    double *q = malloc((size_t)T * H * qk * sizeof *q), *K = malloc((size_t)T * H * qk * sizeof *K);
    double *V = malloc((size_t)T * H * dv * sizeof *V), *o = malloc((size_t)H * dv * sizeof *o);
    double *att = malloc((size_t)T * D * sizeof *att), *u = malloc((r + dr) * sizeof *u), *c = malloc(r * sizeof *c);
    double *p = malloc(T * sizeof *p), *g = malloc(s->I * sizeof *g), *up = malloc(s->I * sizeof *up);
    double *lg = malloc(s->V * sizeof *lg);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < D; i++) x[(size_t)t * D + i] = w->embed[(size_t)ids[t] * D + i];
    for (int l = 0; l < s->L; l++) {
        const mlafix_layer *lw = &w->l[l];
        for (int t = 0; t < T; t++) {
            d_rmsnorm(a, x + (size_t)t * D, lw->in_norm, D, RMS_EPS);
            double *qt = q + (size_t)t * H * qk;
            if (s->rq) {
                d_linear(tmp, lw->wqa, lw->bqa, a, s->rq, D);
                if (lw->qan) d_rmsnorm(tmp, tmp, lw->qan, s->rq, lat_eps);
                d_linear(qt, lw->wqb, lw->bqb, tmp, H * qk, s->rq);
            } else {
                d_linear(qt, lw->wq, lw->bq, a, H * qk, D);
            }
            d_linear(u, lw->wkva, lw->bkva, a, r + dr, D);
            if (lw->kvan) d_rmsnorm(c, u, lw->kvan, r, lat_eps);
            else memcpy(c, u, r * sizeof *c);
            d_rope(u + r, dr, t, freqs, amp, s->interleave);
            for (int h = 0; h < H; h++) {
                int grp = h / gs;
                d_rope(qt + h * qk + dn, dr, t, freqs, amp, s->interleave);
                /* per-head expanded key [K^N ; k^R] and value, as HF's expand_kv */
                double *kh = K + ((size_t)t * H + h) * qk, *vh = V + ((size_t)t * H + h) * dv;
                d_linear(kh, lw->wkvb + (size_t)grp * (dn + dv) * r, NULL, c, dn, r);
                memcpy(kh + dn, u + r, dr * sizeof *kh);
                d_linear(vh, lw->wkvb + ((size_t)grp * (dn + dv) + dn) * r, NULL, c, dv, r);
            }
        }
        for (int t = 0; t < T; t++) {
            for (int h = 0; h < H; h++) {
                const double *qh = q + ((size_t)t * H + h) * qk;
                double mx = -1e300, sum = 0;
                for (int s2 = 0; s2 <= t; s2++) {
                    double dot = 0;
                    for (int i = 0; i < qk; i++) dot += qh[i] * K[((size_t)s2 * H + h) * qk + i];
                    p[s2] = dot * tau;
                    mx = fmax(mx, p[s2]);
                }
                for (int s2 = 0; s2 <= t; s2++) sum += (p[s2] = exp(p[s2] - mx));
                for (int i = 0; i < dv; i++) {
                    double acc = 0;
                    for (int s2 = 0; s2 <= t; s2++) acc += p[s2] / sum * V[((size_t)s2 * H + h) * dv + i];
                    o[h * dv + i] = acc;
                }
            }
            d_linear(att + (size_t)t * D, lw->wo, lw->bo, o, D, H * dv);
        }
        for (int t = 0; t < T; t++) {
            double *xt = x + (size_t)t * D;
            for (int i = 0; i < D; i++) xt[i] += att[(size_t)t * D + i];
            d_rmsnorm(a, xt, lw->post_norm, D, RMS_EPS);
            d_linear(g, lw->wg, NULL, a, s->I, D);
            d_linear(up, lw->wu, NULL, a, s->I, D);
            for (int i = 0; i < s->I; i++) g[i] = g[i] / (1 + exp(-g[i])) * up[i];
            d_linear(tmp, lw->wd, NULL, g, D, s->I);
            for (int i = 0; i < D; i++) xt[i] += tmp[i];
        }
    }
    for (int t = 0; t + 1 < T; t++) {
        d_rmsnorm(a, x + (size_t)t * D, w->norm, D, RMS_EPS);
        d_linear(lg, w->lm, NULL, a, s->V, D);
        double mx = -1e300, sum = 0;
        for (int i = 0; i < s->V; i++) mx = fmax(mx, lg[i]);
        for (int i = 0; i < s->V; i++) sum += exp(lg[i] - mx);
        lp[t] = lg[ids[t + 1]] - mx - log(sum);
    }
    free(x), free(a), free(tmp), free(q), free(K), free(V), free(o), free(att), free(u), free(c), free(p), free(g);
    free(up), free(lg);
}

// ---------------------------------------------------------------------------
// the engine, decoding like a server

/* Prefill ids[0..ctx), then feed ids[ctx..T-1) sq at a time; lp[t] for
 * t >= ctx-1 (the row before each continuation token). Returns 0 on success. */
static int engine_logprobs(gq_model *m, gq_path path, int sq, const int32_t *ids, int T, int ctx, double *lp)
{
    gq_error err = {0};
    gq_kv_cache *c = NULL;
    gq_score sc[SEQ_T];
    int rows[SEQ_T], rc = -1;
    if (gq_kv_cache_init(&c, m, path, T, &err) != GQ_OK) goto done;
    if (gq_forward(m, c, ids, ctx - 1, NULL, NULL, 0, NULL, &err) != GQ_OK) goto done;
    for (int a = ctx - 1; a < T - 1; a += sq) {
        int b = a + sq < T - 1 ? a + sq : T - 1;
        for (int i = a; i < b; i++) rows[i - a] = i - a;
        if (gq_forward(m, c, ids + a, b - a, rows, ids + a + 1, b - a, sc, &err) != GQ_OK) goto done;
        for (int i = a; i < b; i++) lp[i] = sc[i - a].logprob;
    }
    rc = 0;
done:
    if (rc) fprintf(stderr, "engine_logprobs(%s, sq %d): %s\n", gq_path_name(path), sq, err.msg);
    gq_kv_cache_free(c);
    return rc;
}

static void check_shape(const shape *s)
{
    char what[256];
    mlafix_model w;
    const char *dir = test_tmpdir(s->name);
    char dirbuf[4096];
    snprintf(dirbuf, sizeof dirbuf, "%s", dir);
    if (write_model(s, dirbuf, &w, NULL) != 0) {
        test_cond("fixture written", 0);
        free_model();
        return;
    }
    gq_model *m = NULL;
    gq_error err = {0};
    gq_open_opts opts = {1, 0, 8, 0, NULL, GQ_DEVICE_CPU, 0}; /* max_tokens 8: the prefill runs in several chunks */
    snprintf(what, sizeof what, "%s: model opens", s->name);
    test_cond(what, gq_model_open(&m, dirbuf, &opts, &err) == GQ_OK);
    if (!m) {
        fprintf(stderr, "%s\n", err.msg);
        free_model();
        return;
    }
    const gq_config *cfg = gq_model_config(m);
    int mla = s->G == s->H;
    gq_path paths[2] = {mla ? GQ_PATH_ABSORB : GQ_PATH_GQA, mla ? GQ_PATH_EXPANDED : GQ_PATH_ABSORB};
    snprintf(what, sizeof what, "%s: architecture %s", s->name, mla ? "deepseek-mla" : "gqla");
    test_cond(what, cfg->arch == (mla ? GQ_ARCH_DEEPSEEK_MLA : GQ_ARCH_GQLA));

    /* cache sizes (conversion.md §2.4) and refused paths */
    for (int p = 0; p < GQ_PATH_COUNT; p++) {
        gq_kv_cache *c = NULL;
        int rc = gq_kv_cache_init(&c, m, (gq_path)p, 8, &err);
        int want_ok = (gq_path)p == paths[0] || (gq_path)p == paths[1];
        snprintf(what, sizeof what, "%s: path %s %s", s->name, gq_path_name((gq_path)p), want_ok ? "opens" : "refused");
        test_cond(what, want_ok ? rc == GQ_OK : (rc == GQ_ERR_USAGE && c == NULL));
        if (c) {
            int64_t want = p == GQ_PATH_ABSORB ? s->r + s->dr
                           : p == GQ_PATH_GQA  ? (int64_t)s->G * (s->dn + s->dv) + s->dr
                                               : (int64_t)s->G * (s->dn + s->dr + s->dv);
            snprintf(what, sizeof what, "%s: %s cache holds %lld elements per token and layer", s->name,
                     gq_path_name((gq_path)p), (long long)want);
            test_cond(what, gq_kv_cache_elems_per_token_layer(c) == want &&
                                gq_config_path_cache_elems(cfg, (gq_path)p) == want);
        }
        gq_kv_cache_free(c);
    }

    int32_t ids[SEQ_T];
    for (int i = 0; i < SEQ_T; i++) ids[i] = (int32_t)(urand() * s->V) % s->V;
    double ref[SEQ_T], lp[2][3][SEQ_T];
    naive_logprobs(s, &w, ids, SEQ_T, ref);
    const int sqs[3] = {1, 2, 4};
    double worst_pair = 0, worst_ref = 0, lo = 0, hi = -1e9;
    for (int k = 0; k < 3; k++) {
        for (int p = 0; p < 2; p++) {
            snprintf(what, sizeof what, "%s: %s path, sq %d runs", s->name, gq_path_name(paths[p]), sqs[k]);
            test_cond(what, engine_logprobs(m, paths[p], sqs[k], ids, SEQ_T, CTX_T, lp[p][k]) == 0);
        }
        double d_pair = 0, d_ref = 0;
        for (int t = CTX_T - 1; t < SEQ_T - 1; t++) {
            d_pair = fmax(d_pair, fabs(lp[0][k][t] - lp[1][k][t]) / fmax(1.0, fabs(lp[0][k][t])));
            for (int p = 0; p < 2; p++) d_ref = fmax(d_ref, fabs(lp[p][k][t] - ref[t]));
            lo = fmin(lo, ref[t]);
            hi = fmax(hi, ref[t]);
        }
        printf("%-22s sq %d: |%s - %s| max %.3g (relative), |path - naive f64| max %.3g\n", s->name, sqs[k],
               gq_path_name(paths[0]), gq_path_name(paths[1]), d_pair, d_ref);
        snprintf(what, sizeof what, "%s sq %d: %s and %s agree within 1e-5 relative", s->name, sqs[k],
                 gq_path_name(paths[0]), gq_path_name(paths[1]));
        test_cond(what, d_pair <= 1e-5);
        snprintf(what, sizeof what, "%s sq %d: both paths equal the naive expanded computation within 1e-4", s->name,
                 sqs[k]);
        test_cond(what, d_ref <= 1e-4);
        worst_pair = fmax(worst_pair, d_pair);
        worst_ref = fmax(worst_ref, d_ref);
    }
    printf("%-22s log-probs in [%.2f, %.2f] (uniform %.2f)\n", s->name, lo, hi, -log((double)s->V));
    snprintf(what, sizeof what, "%s: the log-probs are not trivial (spread > 2 nats)", s->name);
    test_cond(what, hi - lo > 2.0);

    /* The scorer: requests sharing a context, one that extends another;
     * sq 0, 1, 2, 4. */
    const int32_t *ctx = ids;
    gq_request rq[5] = {
        {ctx, CTX_T, ids + CTX_T, 9},
        {ctx, CTX_T, ids + CTX_T + 9, 5},
        {ctx, CTX_T, ids + 2, 4},
        {ctx, CTX_T + 9, ids + CTX_T + 9, 1},
        {ctx, 3, ids + 3, 6},
    };
    const int scorer_sqs[4] = {0, 1, 2, 4};
    for (int p = 0; p < 2; p++)
        for (int k = 0; k < 4; k++) {
            gq_scorer *sc = NULL;
            gq_request_score out[5];
            int ok = gq_scorer_init_path(&sc, m, paths[p], scorer_sqs[k], 0, &err) == GQ_OK &&
                     gq_scorer_score(sc, rq, 5, out, &err) == GQ_OK;
            if (!ok) fprintf(stderr, "%s\n", err.msg);
            double d = ok ? 0 : 1e9;
            for (int i = 0; ok && i < 5; i++) {
                /* naive sum over the continuation: its tokens at input rows ctx-1 .. */
                int32_t seq[SEQ_T];
                int n = rq[i].n_ctx + rq[i].n_cont;
                memcpy(seq, rq[i].ctx, rq[i].n_ctx * sizeof *seq);
                memcpy(seq + rq[i].n_ctx, rq[i].cont, rq[i].n_cont * sizeof *seq);
                double r2[SEQ_T], want = 0;
                naive_logprobs(s, &w, seq, n, r2);
                for (int t = rq[i].n_ctx - 1; t < n - 1; t++) want += r2[t];
                d = fmax(d, fabs(out[i].loglikelihood - want));
            }
            snprintf(what, sizeof what, "%s: scorer, %s path, sq %d: request sums equal the naive ones within 1e-4",
                     s->name, gq_path_name(paths[p]), scorer_sqs[k]);
            test_cond(what, d <= 1e-4);
            /* sq 0 puts the choices of a context into tree batches (max_tokens 8
             * lets some groups fit: requests 1-2 after request 0 filled the
             * cache, and request 4); server-style decoding never does. */
            int64_t trees = gq_scorer_get_stats(sc).tree_batches;
            snprintf(what, sizeof what, "%s: scorer, %s path, sq %d: %lld tree batches", s->name,
                     gq_path_name(paths[p]), scorer_sqs[k], (long long)trees);
            test_cond(what, scorer_sqs[k] == 0 ? trees > 0 : trees == 0);
            gq_scorer_free(sc);
        }
    gq_model_close(m);
    free_model();
}

/* Configs the loader must refuse. */
static void check_refusals(void)
{
    mlafix_model w;
    gq_model *m = NULL;
    gq_error err = {0};
    gq_open_opts opts = {1, 0, 8, 0, NULL, GQ_DEVICE_CPU, 0};
    char dir[4096];
    const shape *s = &shapes[0];

    snprintf(dir, sizeof dir, "%s", test_tmpdir("mla-moe"));
    write_model(s, dir, &w, "\"n_routed_experts\": 4, \"first_k_dense_replace\": 1");
    int rc = gq_model_open(&m, dir, &opts, &err);
    printf("moe config: %s\n", err.msg);
    test_cond("MoE layers: GQ_ERR_UNSUPPORTED naming MoE", rc == GQ_ERR_UNSUPPORTED && strstr(err.msg, "MoE") && !m);
    gq_model_close(m);
    m = NULL;
    free_model();

    /* kv_b_proj sized for H blocks while the config says G groups */
    shape bad = *s;
    bad.name = "mla-bad-kvb";
    bad.G = s->H;
    snprintf(dir, sizeof dir, "%s", test_tmpdir(bad.name));
    write_model(&bad, dir, &w, NULL);
    char cfg_path[4200], *text;
    snprintf(cfg_path, sizeof cfg_path, "%s/config.json", dir);
    text = test_read_file(cfg_path, NULL);
    char needle[64], *at;
    snprintf(needle, sizeof needle, "\"num_key_value_heads\": %d", s->H);
    if (text && (at = strstr(text, needle)) != NULL) {
        char fixed[4096];
        snprintf(fixed, sizeof fixed, "%.*s\"num_key_value_heads\": %d%s", (int)(at - text), text, s->G,
                 at + strlen(needle));
        test_write_file(cfg_path, fixed, strlen(fixed));
    }
    free(text);
    rc = gq_model_open(&m, dir, &opts, &err);
    printf("bad kv_b_proj: %s\n", err.msg);
    test_cond("kv_b_proj with H blocks under num_key_value_heads = G: GQ_ERR_INVALID naming it",
              rc == GQ_ERR_INVALID && strstr(err.msg, "kv_b_proj") && !m);
    gq_model_close(m);
    free_model();
}

int main(void)
{
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) check_shape(&shapes[i]);
    check_refusals();
    return test_report("mla_paths");
}
