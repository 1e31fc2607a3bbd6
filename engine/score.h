/* score.h — running tokens through a model with a KV cache and scoring
 * next-token log-probabilities.
 *
 * A gq_kv_cache holds the keys and values of every position fed so far, for
 * every layer; feeding more tokens continues after them.  Truncating the
 * cache back to n positions lets many continuations share one context (the
 * rows of the first n positions are never rewritten by a later feed).
 * Results do not depend on how a sequence is split between calls (up to
 * float rounding of the matrix products, < 1e-5) nor on the thread count.
 */
#ifndef GQ_SCORE_H
#define GQ_SCORE_H

#include <stddef.h>
#include <stdint.h>
#include "gq_error.h"
#include "model.h"

typedef struct gq_kv_cache gq_kv_cache;

/* GQ_OK when model m (with a config) can decode with `path`
 * (gq_config_path_supported), else GQ_ERR_USAGE naming the paths it has. */
int gq_model_check_path(const gq_model *m, gq_path path, gq_error *err);

/* A cache for up to `capacity` positions of model m (opened with weights),
 * in the layout of decoding path `path` (config.h: native for GQA models;
 * gqa or absorb for GQLA; absorb or expanded for MLA).  The cache decides
 * the path: gq_forward on it computes attention that path's way, reading
 * only what this cache holds.  A path the model does not have is
 * GQ_ERR_USAGE (no fallback).  On failure *out is NULL. */
int gq_kv_cache_init(gq_kv_cache **out, const gq_model *m, gq_path path, int capacity, gq_error *err);
void gq_kv_cache_free(gq_kv_cache *c);
int gq_kv_cache_len(const gq_kv_cache *c);
int gq_kv_cache_capacity(const gq_kv_cache *c);
gq_path gq_kv_cache_path(const gq_kv_cache *c);
/* Forget positions n.. (n <= length). */
void gq_kv_cache_truncate(gq_kv_cache *c, int n);
/* Float elements the cache stores per token per layer: equals
 * gq_config_path_cache_elems(cfg, path) (conversion.md §2.4); under tensor
 * parallelism this rank's share, gq_tp_cache_elems (tp.h). */
int64_t gq_kv_cache_elems_per_token_layer(const gq_kv_cache *c);
/* Bytes of the cache's one allocation (capacity x layers x the row above x
 * 4): what a rank really holds, measured, not derived from the config. */
size_t gq_kv_cache_bytes(const gq_kv_cache *c);

typedef struct gq_score {
    double logprob;          /* log P(target | everything before it), float64 log-softmax */
    int is_greedy;           /* target is the argmax of that distribution */
    int32_t argmax;          /* the argmax token (first index of the maximum) */
    double argmax_logprob;   /* its log-prob */
} gq_score;

/* Feed tokens[0..T) at positions len(c) .. len(c)+T-1 and append them to the
 * cache.  For j < n_score, row score_rows[j] (0 <= row < T, non-decreasing:
 * one row may score several targets) is a
 * position whose next-token distribution scores targets[j]; out[j] gets the
 * result.  The vocabulary projection runs only for those rows.
 * Fails without changing the cache length on a bad token id or overflow. */
int gq_forward(gq_model *m, gq_kv_cache *c, const int32_t *tokens, int T, const int *score_rows,
               const int32_t *targets, int n_score, gq_score *out, gq_error *err);

/* A tree batch (any decoding path): tokens[0..n_shared) continue the cache as
 * gq_forward does, then n_branch branches start at rows branch_start[b]
 * (ascending, >= n_shared; the last one ends at T).  A branch row sees the
 * cache, the shared rows and the earlier rows of its own branch, at
 * positions continuing the shared rows: one call scores every choice of a
 * multiple-choice document.  Afterwards the cache holds the shared rows
 * only.  T must fit the run state (max_tokens rows); rows as gq_forward. */
int gq_forward_tree(gq_model *m, gq_kv_cache *c, const int32_t *tokens, int T, int n_shared,
                    const int *branch_start, int n_branch, const int *rows, const int32_t *targets, int n_score,
                    gq_score *out, gq_error *err);

/* ---- log-likelihood requests with prefix sharing ---- */

/* One (context, continuation) request, already tokenized (lm-eval's
 * _encode_pair).  The model input is (ctx + cont) without its last token,
 * left-truncated to the model's max length; the last n_cont positions of the
 * input score the continuation. */
typedef struct gq_request {
    const int32_t *ctx;
    int n_ctx;
    const int32_t *cont;
    int n_cont;
} gq_request;

typedef struct gq_request_score {
    double loglikelihood;    /* sum of the continuation's log-probs (float64) */
    int is_greedy;           /* every continuation token is its position's argmax */
} gq_request_score;

/* Work counters of a scorer, to measure prefix sharing. */
typedef struct gq_scorer_stats {
    int64_t requests;
    int64_t tokens_fed;          /* positions pushed through the model */
    int64_t positions_projected; /* rows projected onto the vocabulary */
    int64_t tokens_separate;     /* what scoring each request alone would push (and project,
                                    as a full-logits forward does) */
    int64_t tree_batches;        /* documents scored as one tree (shared prefix + a branch per
                                    request) */
    int64_t batches;             /* forwards that held tree jobs, several documents each */
} gq_scorer_stats;

typedef struct gq_scorer gq_scorer;

/* A scorer keeps one KV cache and the tokens in it; each request reuses the
 * longest common prefix with what the cache holds (the context of the
 * previous choice, a shared description or few-shot block), and requests
 * with the same input are run once.  max_length 0: the model's
 * max_position_embeddings.
 *
 * gq_scorer_init_path decodes with `path` (a path the model has, else
 * GQ_ERR_USAGE) the way a server does: the context is prefilled into the
 * path's cache, then the scored positions (the last context token and the
 * continuation but its last token) are fed `sq` tokens at a time against
 * that cache (sq = 1: token by token; sq = 2, 4: multi-token decoding as in
 * speculative verification).  sq = 0 feeds a request's input in one call
 * (prefill and scored positions together, the lm-eval way), and the
 * choices of a document (same context) as one tree batch.
 * gq_scorer_init: the model's default path (gq_config_default_path) with
 * sq = 0 for native GQA models (the original behaviour, bit for bit) and
 * sq = 1 for MLA / GQLA models. */
int gq_scorer_init(gq_scorer **out, gq_model *m, int max_length, gq_error *err);
int gq_scorer_init_path(gq_scorer **out, gq_model *m, gq_path path, int sq, int max_length, gq_error *err);
gq_path gq_scorer_path(const gq_scorer *s);
void gq_scorer_free(gq_scorer *s);
int gq_scorer_max_length(const gq_scorer *s);
/* Score requests rq[0..n) into out[0..n).  Results do not depend on the
 * order or grouping of calls beyond float rounding (see gq_forward). */
int gq_scorer_score(gq_scorer *s, const gq_request *rq, int n, gq_request_score *out, gq_error *err);
/* The same, with the requests in groups (a document's requests each):
 * group g is rq[group_end[g-1] .. group_end[g]).  With sq = 0 a group is
 * one tree (its inputs' common prefix shared, the rest as branches), and
 * consecutive groups are packed into one forward of up to batch_tokens rows
 * (each document attending only to itself).  gq_scorer_score groups
 * requests with the same context. */
int gq_scorer_score_groups(gq_scorer *s, const gq_request *rq, int n, const int *group_end, int n_groups,
                           gq_request_score *out, gq_error *err);
/* Rows per batched forward (default and maximum: the model's max_tokens). */
int gq_scorer_set_batch_tokens(gq_scorer *s, int n, gq_error *err);
gq_scorer_stats gq_scorer_get_stats(const gq_scorer *s);

#endif
