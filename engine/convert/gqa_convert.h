/* gqa_convert.h — TransGQLA from a GQA checkpoint (conversion.md §3): the
 * TransMLA recipe with the K/V up-projection kept per KV group.
 *
 * Steps per layer, all products in float64 (§3.7):
 *   pass 1 (source model, calib.h driver): second moments of the pre-RoPE
 *     keys per RoPE frequency; RoRoPE + FreqFold eigenvectors -> the
 *     orthogonal rotation Q of the key latent (§3.2), RoPE kept on the
 *     first d_r rotated rows;
 *   pass 2 (every layer in partial-RoPE form, §3.2.4): balance alpha
 *     (§3.3), joint PCA of [K_nope ; V] to rank r (§3.4), query rope
 *     absorption and the softmax-scale fix (§3.5), optional query PCA to r_q;
 *   pass 3 (only with latent norms, §3.6; every layer in its converted form
 *     with norms, layer l seeing converted predecessors): every entry of
 *     kv_a_layernorm.weight = mean_t (mean_u y_tu^2 + eps)^(-1/2) over the
 *     whole kv_a_proj_with_mqa output y (rope part included), likewise
 *     q_a_layernorm from the q_a_proj output; eps = rms_norm_eps.  This is
 *     TransMLA's initialisation, a starting point for fine-tuning: the
 *     result is NOT function-preserving.
 * Eigenvectors follow linalg.h's sign convention, so output is deterministic.
 *
 * reference mode (§3.2.4, the test reference): only pass 1; writes the
 * partial-RoPE model itself as a GQLA layer with r = r_max = 2*G*d - d_r
 * and R = identity: kv_a = [W'_k[d_r:L] ; W_v ; W'_k[0:d_r]] and kv_b block
 * g = B_g (no balance).  The converted model at r = r_max equals it exactly.
 */
#ifndef GQ_CONVERT_GQA_H
#define GQ_CONVERT_GQA_H

#include "calib.h"
#include "gq_error.h"
#include "model.h"

typedef struct gq_gqa_opts {
    int rope_dim;            /* d_r; 0 = d/2 */
    int freqfold;            /* ff; 0 = c = d/d_r */
    int freqfold_auto;       /* 1: search ff = c, 2c, 4c, ... (§3.2.5), see gq_gqa_convert */
    int kv_lora_rank;        /* r; 0 = min(512, r_max) */
    int q_lora_rank;         /* r_q; 0 = plain q_proj */
    double balance_kv_ratio; /* beta; 0 = 1 */
    int reference;           /* 1: write the partial-RoPE reference model (§3.2.4) */
    int latent_norm;         /* 1: insert kv_a_layernorm (and q_a_layernorm with r_q), §3.6 */
    double damping;          /* 0 = 0.01 */
} gq_gqa_opts;

/* The resolved dimensions of a conversion. */
typedef struct gq_gqa_dims {
    int D, H, G, gs, d, L;   /* L = G*d, the key latent width */
    int dr, c, ff, r, rq, M; /* M = r_max = 2L - d_r */
    int ff_auto;             /* ff is to be chosen by the search */
    int latent_norm;         /* §3.6 latent RMSNorms (not function-preserving) */
    double beta, damping;
    int has_q_bias, has_kv_bias, has_o_bias;
} gq_gqa_dims;

/* Check the source (an open GQA model's config; `source` names it in
 * messages) and the options against conversion.md §3.0 / §6.3 and fill
 * dims.  GQ_ERR_INVALID / GQ_ERR_UNSUPPORTED name the value and the rule. */
int gq_gqa_resolve(const gq_config *cfg, const char *source, const gq_gqa_opts *opts, gq_gqa_dims *dims,
                   gq_error *err);

/* One converted layer's attention tensors, float32, HF layout, owned.
 * NULL when absent.  Shapes: wq [H(d+d_r), D] (r_q null) or wq_a [r_q, D]
 * and wq_b [H(d+d_r), r_q]; bq / bq_b [H(d+d_r)]; wkv_a [r+d_r, D];
 * bkv_a [r+d_r]; wkv_b [G*2d, r]. */
typedef struct gq_gqa_layer {
    float *wq, *bq, *wq_a, *wq_b, *bq_b, *wkv_a, *bkv_a, *wkv_b;
    float *kv_a_norm, *q_a_norm; /* §3.6 only: [r], [r_q] (NULL without r_q) */
    double kv_norm_gamma, q_norm_gamma; /* their (constant) entries; 0 when absent */
    double alpha;            /* §3.3 balance factor (1 in reference mode) */
    double kv_energy;        /* §3.4 retained fraction of [K_nope ; V] energy */
    double rope_energy;      /* §3.2 key energy on the d_r RoPE rows */
    double q_energy;         /* §3.5 query PCA retained fraction (1 without r_q) */
    double attn_rel_err;     /* §6.3: max |converted - partial-RoPE| / max |partial-RoPE| of the layer's
                                attention output on calibration sample 0 (64 tokens, same inputs);
                                f32 rounding at r = r_max (checked there), the approximation below */
} gq_gqa_layer;

#define GQ_GQA_MAX_FF_TRIED 16

typedef struct gq_gqa_result {
    gq_gqa_dims dims;        /* dims.ff: the freqfold used (the search's pick under auto) */
    int n_ff_tried;          /* freqfold search: candidates tried, in order */
    int ff_tried[GQ_GQA_MAX_FF_TRIED];
    double ppl_tried[GQ_GQA_MAX_FF_TRIED]; /* held-out perplexity of each candidate's partial-RoPE model */
    int heldout_samples;     /* samples held out for the search (0 without it) */
    int n_layers;
    gq_gqa_layer *layers;    /* [n_layers] */
} gq_gqa_result;

void gq_gqa_result_free(gq_gqa_result *r);

/* Called after each layer of each pass (pass 1 or 2, layer l of n). */
typedef void (*gq_gqa_progress_fn)(void *ctx, int pass, int layer, int n_layers);

/* Convert model m (opened with weights) with calibration set `set`.
 * freqfold auto (dims->ff_auto, §3.2.5, selected on held-out calibration
 * data rather than on a test split): the last max(1, n/8) calibration
 * samples are held out; pass-1 statistics of the others give, for each
 * candidate ff = c, 2c, 4c, ... (dividing d/2), the partial-RoPE model,
 * whose perplexity on the held-out samples is measured; the search stops
 * at the first candidate that does not strictly improve and keeps the
 * best.  The conversion then runs on all samples with that ff.
 * On failure res holds nothing. */
int gq_gqa_convert(gq_model *m, const gq_calib_set *set, const gq_gqa_dims *dims, int reference,
                   gq_gqa_progress_fn progress, void *progress_ctx, gq_gqa_result *res, gq_error *err);

#endif
