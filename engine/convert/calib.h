/* calib.h — calibration data for the converters (conversion.md §3.8, §4.1)
 * and a layer-by-layer activation driver over the engine's own forward ops.
 *
 * Token sources (a gq_calib_set holds samples back to back):
 *   gq_calib_from_tokens_file  one sample per line, token ids separated by
 *                              single spaces (how fixtures are matched exactly);
 *   gq_calib_from_text         a plain text file and this harness's sampler:
 *     rows = the file's non-empty lines (trailing '\r' removed), in order
 *       (gq_calib_from_rows: rows given by the caller, e.g. a task's texts);
 *     RNG  = splitmix64 seeded with `seed`; an index below n is next() % n;
 *     per sample: pick a random position p in the pool of unused rows, take
 *       pool rows p, p+1, ... (wrapping to the start of the pool) joined with
 *       "\n\n" until the text tokenizes (with the tokenizer's default special
 *       tokens, so a BOS takes one slot) to >= seqlen tokens, keep the first
 *       seqlen tokens, remove the used rows from the pool;
 *     fails (GQ_ERR_INVALID, nothing allocated) when the whole text has fewer
 *     than n_samples * seqlen tokens or the pool runs out.
 * sha256 of a set: of its text form (the tokens-file format, "\n" after each
 * line), so a set and the file it was written to hash the same.
 *
 * The driver (gq_calib_run) keeps the residual stream x of every calibration
 * token ([n_tokens, D] float32; memory bounded by one layer, not by the
 * depth) and walks the layers: a = input_layernorm(x); on_layer(a) lets the
 * caller accumulate statistics and optionally substitute the layer's
 * attention (a gq_calib_attn in MLA/GQLA form, e.g. the partial-RoPE model
 * of §3.2.4); then x += Attn(a) (each sample its own causal sequence,
 * positions 0..len-1) and x += MLP(x).  At the end on_final gets x (the
 * input of model.norm), e.g. for NLL token weights (§4.2).
 */
#ifndef GQ_CONVERT_CALIB_H
#define GQ_CONVERT_CALIB_H

#include <stdint.h>

#include "backend.h"
#include "gq_error.h"
#include "model.h"

typedef struct gq_calib_set {
    int32_t *tokens;        /* all samples back to back (owned) */
    int64_t n_tokens;
    int n_samples;
    int64_t *offsets;       /* [n_samples + 1]: sample s is tokens[offsets[s] .. offsets[s+1]) (owned) */
    int max_len;            /* longest sample */
    char sampler[64];       /* "tokens-file" or "splitmix64-rows-v1" (metadata) */
} gq_calib_set;

/* Read a tokens file.  Each non-empty line is a sample; ids must be
 * integers in [0, vocab_size) separated by single spaces (vocab_size <= 0:
 * no range check).  Errors name the file, line and column. */
int gq_calib_from_tokens_file(gq_calib_set *out, const char *path, int64_t vocab_size, gq_error *err);

/* Sample n_samples x seqlen tokens from a text file with model m's
 * tokenizer (see the header comment for the sampler). */
int gq_calib_from_text(gq_calib_set *out, const gq_model *m, const char *path, int n_samples, int seqlen,
                       uint64_t seed, gq_error *err);

/* The same sampler over rows the caller holds (row r = rows[r][0 ..
 * row_len[r]), may contain newlines); `source` names them in messages. */
int gq_calib_from_rows(gq_calib_set *out, const gq_model *m, const char *const *rows, const size_t *row_len,
                       int n_rows, const char *source, int n_samples, int seqlen, uint64_t seed, gq_error *err);

void gq_calib_set_free(gq_calib_set *s);

/* Hex sha256 of the set's text form (65 bytes with the NUL). */
void gq_calib_sha256(const gq_calib_set *s, char hex[65]);

/* Write the set as a tokens file (atomically). */
int gq_calib_write_tokens_file(const gq_calib_set *s, const char *path, gq_error *err);

/* One layer's attention in MLA/GQLA form (conversion.md §1.4), float32, HF
 * layout, owned by the caller; used in place of the model's own attention
 * for one layer.  Supported: a plain q_proj (wq, bq) or a low-rank query
 * (wq_a, bq_a, optional q_a_norm, wq_b, bq_b; rq > 0), kv_a_proj_with_mqa
 * (wkv_a, bkv_a), optional kv_a_layernorm (kv_a_norm), kv_b_proj (wkv_b),
 * o_proj (wo, bo); RoPE interleaved at width shape.dr with the model
 * config's theta and scaling (default or llama3), softmax scale shape.scale.
 * Computed through the backend's GQA path (attn_gqa). */
typedef struct gq_calib_attn {
    int use;                /* the callback sets 1 to substitute */
    const float *wq, *bq;   /* [H*(dn+dr), D], [H*(dn+dr)] or NULL (NULL wq: low-rank query) */
    int rq;                 /* low-rank query width, 0 without */
    const float *wq_a, *bq_a, *q_a_norm; /* [rq, D], [rq] or NULL, [rq] or NULL */
    const float *wq_b, *bq_b;            /* [H*(dn+dr), rq], [H*(dn+dr)] or NULL */
    const float *wkv_a;     /* [r+dr, D] */
    const float *bkv_a;     /* [r+dr] or NULL */
    const float *kv_a_norm; /* [r] or NULL */
    float latent_eps;
    const float *wkv_b;     /* [N*(dn+dv), r], block-major, K rows then V rows */
    const float *wo, *bo;   /* [D, H*dv], [D] or NULL */
    gq_mla_shape shape;
} gq_calib_attn;

/* Run one substituted attention (layout as above) over a[T, D], the rows
 * of one causal sequence at positions 0..T-1, into out[T, D] (W_o o + b_o).
 * For checks outside a run (the converter's §6.3 layer comparison). */
int gq_calib_attn_run(gq_model *m, const gq_calib_attn *w, const float *a, int T, float *out, gq_error *err);

/* What on_layer sees. */
typedef struct gq_calib_layer_view {
    int layer;
    int64_t n_tokens;
    int D;
    const float *a;         /* [n_tokens, D]: input_layernorm(x), row t = calibration token t */
    const int32_t *pos;     /* [n_tokens]: position of token t inside its sample */
    const gq_calib_set *set;/* sample boundaries */
} gq_calib_layer_view;

/* Return GQ_OK to go on; any other status stops the run and is returned.
 * To substitute the layer's attention fill *subst and set subst->use = 1
 * (subst is zeroed before each call; its pointers must stay valid until
 * the callback of the next layer returns). */
typedef int (*gq_calib_layer_fn)(void *ctx, const gq_calib_layer_view *v, gq_calib_attn *subst, gq_error *err);
/* x_final [n_tokens, D]: the residual stream after the last layer. */
typedef int (*gq_calib_final_fn)(void *ctx, const float *x_final, int64_t n_tokens, int D, gq_error *err);

/* Run model m (opened with weights; GQA, MLA or GQLA dense models) over
 * the set layer by layer.  on_layer / on_final may be NULL.  Allocates
 * 2 * n_tokens * D floats plus per-sample scratch; frees everything before
 * returning.  Fails on a token id outside the vocabulary or a sample
 * longer than the model's RoPE table. */
int gq_calib_run(gq_model *m, const gq_calib_set *set, gq_calib_layer_fn on_layer, gq_calib_final_fn on_final,
                 void *ctx, gq_error *err);

#endif
