/* mla.h — `gqla-eval convert --from mla`: an MLA checkpoint (DeepSeek-V2/V3
 * style, num_key_value_heads = H) to GQLA with G KV groups by per-group
 * PCA (conversion.md §4, the GQLA preprint's method), written as a
 * Hugging Face folder (§5).
 *
 * Steps: one calibration pass of the source (calib.h's layer driver; no
 * layer sees converted predecessors) → per layer the §4.3 statistic of the
 * latent ĉ_t (float64, optionally Hessian-NLL token weights, §4.2) →
 * grouping (neighbor, or similarity + greedy, §4.4) → per-group PCA with
 * 1 % damping and absorption into kv_b_proj, the query nope rows and the
 * o_proj columns (§4.5).  Every other tensor is copied byte for byte.
 *
 * Output folder (output.h): model.safetensors, sharded above 2 GiB (source
 * tensors unchanged and in their dtype; the four converted attention
 * tensors per layer in float32, or bf16 when asked), config.json (the
 * source's with num_key_value_heads = G and an explicit latent_norm_eps),
 * tokenizer files copied, gqla_meta.json (§5.3, with the self check).
 * Before the folder is renamed into place the written model is loaded back
 * and its two paths are compared on calibration sample 0 (§6.3): more than
 * 1e-3 per log-prob apart fails the conversion.  Built in
 * "<out_dir>.tmp-XXXXXX" beside out_dir and renamed at the end; on any
 * failure (or SIGINT/SIGTERM) the temporary folder is removed and out_dir
 * never appears.
 *
 * Not here: the command line (harness/cmd_convert.c) and the token
 * sampler (calib.h).  Tests: tests/test_convert_mla.c.
 */
#ifndef GQ_CONVERT_MLA_H
#define GQ_CONVERT_MLA_H

#include <stddef.h>
#include <stdint.h>

#include "calib.h"
#include "gq_error.h"
#include "model.h"
#include "tensor.h"

typedef enum gq_mla_grouping {
    GQ_MLA_GROUPING_NEIGHBOR = 0,   /* group g = heads g*gs .. g*gs+gs-1 */
    GQ_MLA_GROUPING_SIMILARITY      /* §4.4 similarity score + greedy balanced grouping */
} gq_mla_grouping;

/* "neighbor" / "similarity"; parse returns 0, or -1 for an unknown name. */
const char *gq_mla_grouping_name(gq_mla_grouping g);
int gq_mla_grouping_parse(const char *s, gq_mla_grouping *out);

typedef struct gq_convert_mla_opts {
    int groups;                 /* G: must divide num_attention_heads */
    gq_mla_grouping grouping;
    int hessian_nll;            /* §4.2 NLL token weights instead of uniform */
    double sim_w_k, sim_w_v;    /* §4.4 weights of the K and V terms; 0 and 0 mean the default 1, 1 */
    const char *calib_source;   /* what the tokens came from (file or task name), for gqla_meta.json; may be NULL */
    uint64_t seed;              /* sampler seed, for gqla_meta.json */
    gq_dtype dtype;             /* converted tensors: GQ_DTYPE_F32 (the zero default) or GQ_DTYPE_BF16 */
    size_t max_shard_bytes;     /* 0: output.h's default (2 GiB) */
    /* Called after each layer (pass 1, as gq_gqa_progress_fn); may be NULL. */
    void (*progress)(void *ctx, int pass, int layer, int n_layers);
    void *progress_ctx;
} gq_convert_mla_opts;

/* What the conversion decided, for callers that check it (tests) or print
 * it.  Owned by the caller after a successful gq_convert_mla; release with
 * gq_convert_mla_result_free (accepts a zeroed struct). */
typedef struct gq_convert_mla_result {
    int L, H, G;
    int *members;               /* [L, H]: member i of group g of layer l is original head members[l*H + g*gs + i] */
    double *k_energy;           /* [L]: undamped K variance kept by the group bases, Σ_g kept / Σ_g trace */
    double *v_energy;           /* [L]: the same for V */
    double paths_max_abs_diff;  /* self check: the written model's two paths on calibration sample 0 */
} gq_convert_mla_result;

void gq_convert_mla_result_free(gq_convert_mla_result *r);

/* Convert the MLA model m (opened with weights from a Hugging Face folder)
 * over the calibration set into the new folder out_dir (which must not
 * exist).  res may be NULL.  Errors (GQ_ERR_USAGE for options, e.g.
 * --groups not dividing the heads or a source that is not MLA;
 * GQ_ERR_INVALID for unusable statistics; I/O) name the option, file or
 * tensor; nothing is left on disk and res is untouched on failure. */
int gq_convert_mla(gq_model *m, const gq_calib_set *set, const char *out_dir, const gq_convert_mla_opts *o,
                   gq_convert_mla_result *res, gq_error *err);

#endif
