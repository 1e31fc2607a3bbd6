/* scorer.c — log-likelihood requests with prefix sharing (score.h).
 *
 * lm-eval runs every (context + continuation) through the model and
 * projects every position onto the vocabulary.  Here one KV cache is kept
 * with the tokens it holds: a request feeds only what follows the longest
 * common prefix with the cache (capped so the scored positions are fed
 * again: hidden states are not cached, only keys and values), requests with
 * identical input run once, and only the scored positions are projected.
 */
#include <string.h>

#include "gq_alloc.h"
#include "model_internal.h"
#include "score.h"

struct gq_scorer {
    gq_model *m;
    gq_path path;
    int sq;                 /* scored positions per decode call; 0: one call per request */
    int max_length;
    gq_kv_cache *cache;
    int32_t *cached;        /* [capacity] tokens whose keys/values the cache holds */
    int32_t *input;         /* [max_length] scratch: the current request's input */
    int *rows;              /* [n_score] */
    int32_t *targets;
    gq_score *scores;
    int score_cap;
    gq_scorer_stats stats;
};

int gq_scorer_init_path(gq_scorer **out, gq_model *m, gq_path path, int sq, int max_length, gq_error *err)
{
    *out = NULL;
    if (!m->weights_loaded) return gq_error_set(err, GQ_ERR_USAGE, "%s: model opened without weights", m->path);
    int rc = gq_model_check_path(m, path, err);
    if (rc != GQ_OK) return rc;
    if (sq < 0) return gq_error_set(err, GQ_ERR_USAGE, "sq = %d: tokens per decode step must be >= 0", sq);
    gq_scorer *s = gq_calloc(1, sizeof *s, "scorer", err);
    if (!s) return GQ_ERR_NOMEM;
    s->m = m;
    s->path = path;
    s->sq = sq;
    s->max_length = max_length > 0 ? max_length : m->rs.rope_positions;
    if (s->max_length > m->rs.rope_positions) s->max_length = m->rs.rope_positions;
    s->input = gq_malloc((size_t)s->max_length * sizeof *s->input, "scorer input", err);
    if (!s->input) {
        gq_scorer_free(s);
        return GQ_ERR_NOMEM;
    }
    *out = s;
    return GQ_OK;
}

int gq_scorer_init(gq_scorer **out, gq_model *m, int max_length, gq_error *err)
{
    *out = NULL;
    if (!m->weights_loaded) return gq_error_set(err, GQ_ERR_USAGE, "%s: model opened without weights", m->path);
    gq_path p = gq_config_default_path(m->cfg);
    return gq_scorer_init_path(out, m, p, p == GQ_PATH_NATIVE ? 0 : 1, max_length, err);
}

gq_path gq_scorer_path(const gq_scorer *s) { return s->path; }

void gq_scorer_free(gq_scorer *s)
{
    if (!s) return;
    gq_kv_cache_free(s->cache);
    gq_free(s->cached);
    gq_free(s->input);
    gq_free(s->rows);
    gq_free(s->targets);
    gq_free(s->scores);
    gq_free(s);
}

int gq_scorer_max_length(const gq_scorer *s) { return s->max_length; }
gq_scorer_stats gq_scorer_get_stats(const gq_scorer *s) { return s->stats; }

/* The cache grows to the longest input seen (never beyond max_length);
 * growing forgets its contents. */
static int ensure_cache(gq_scorer *s, int need, gq_error *err)
{
    if (s->cache && gq_kv_cache_capacity(s->cache) >= need) return GQ_OK;
    int cap = s->cache ? gq_kv_cache_capacity(s->cache) : 256;
    while (cap < need) cap *= 2;
    if (cap > s->max_length) cap = s->max_length;
    gq_kv_cache_free(s->cache);
    s->cache = NULL;
    gq_free(s->cached);
    s->cached = gq_malloc((size_t)cap * sizeof *s->cached, "scorer token history", err);
    if (!s->cached) return GQ_ERR_NOMEM;
    return gq_kv_cache_init(&s->cache, s->m, s->path, cap, err);
}

static int ensure_scores(gq_scorer *s, int need, gq_error *err)
{
    if (need <= s->score_cap) return GQ_OK;
    int cap = need > 2 * s->score_cap ? need : 2 * s->score_cap;
    int *r = gq_realloc(s->rows, (size_t)cap * sizeof *r, "score rows", err);
    if (!r) return GQ_ERR_NOMEM;
    s->rows = r;
    int32_t *t = gq_realloc(s->targets, (size_t)cap * sizeof *t, "score targets", err);
    if (!t) return GQ_ERR_NOMEM;
    s->targets = t;
    gq_score *sc = gq_realloc(s->scores, (size_t)cap * sizeof *sc, "scores", err);
    if (!sc) return GQ_ERR_NOMEM;
    s->scores = sc;
    s->score_cap = cap;
    return GQ_OK;
}

/* The model input of a request: (ctx + cont)[:-1], keeping the last
 * max_length tokens (lm-eval keeps the last max_length+1 of ctx+cont, then
 * drops the final one).  Returns its length. */
static int request_input(const gq_scorer *s, const gq_request *r, int32_t *dst)
{
    int total = r->n_ctx + r->n_cont - 1;
    int skip = total > s->max_length ? total - s->max_length : 0;
    int k = 0;
    for (int i = skip; i < total; i++) dst[k++] = i < r->n_ctx ? r->ctx[i] : r->cont[i - r->n_ctx];
    return k;
}

static int same_input(const gq_request *a, const gq_request *b)
{
    /* Identical inputs: same ctx, and cont equal except its last token. */
    if (a->n_ctx + a->n_cont != b->n_ctx + b->n_cont || a->n_cont != b->n_cont) return 0;
    if (a->n_ctx != b->n_ctx || memcmp(a->ctx, b->ctx, (size_t)a->n_ctx * sizeof *a->ctx) != 0) return 0;
    return memcmp(a->cont, b->cont, (size_t)(a->n_cont - 1) * sizeof *a->cont) == 0;
}

/* Feed input[lcp .. L) whose rows rows[0..n_score) (relative to lcp, k_per
 * scores per row) are scored.  sq = 0: one call.  Else prefill
 * input[lcp .. first_scored) unscored, then the scored positions sq at a
 * time, each call scoring all of its rows. */
static int feed(gq_scorer *s, int lcp, int L, int first_scored, int n_score, int k_per, gq_error *err)
{
    if (s->sq == 0)
        return gq_forward(s->m, s->cache, s->input + lcp, L - lcp, s->rows, s->targets, n_score, s->scores, err);
    int rc;
    if (first_scored > lcp &&
        (rc = gq_forward(s->m, s->cache, s->input + lcp, first_scored - lcp, NULL, NULL, 0, NULL, err)) != GQ_OK)
        return rc;
    for (int a = first_scored; a < L; a += s->sq) {
        int b = a + s->sq < L ? a + s->sq : L;
        /* Scores of positions a .. b-1 are rows (a - first_scored)*k_per .. */
        int j0 = (a - first_scored) * k_per, nj = (b - a) * k_per;
        for (int q = 0; q < nj; q++) s->rows[j0 + q] -= a - lcp;
        rc = gq_forward(s->m, s->cache, s->input + a, b - a, s->rows + j0, s->targets + j0, nj, s->scores + j0, err);
        if (rc != GQ_OK) return rc;
    }
    (void)n_score;
    return GQ_OK;
}

static int same_ctx(const gq_request *a, const gq_request *b)
{
    return a->n_ctx == b->n_ctx && memcmp(a->ctx, b->ctx, (size_t)a->n_ctx * sizeof *a->ctx) == 0;
}

/* Requests i .. j-1 share their context and are not truncated: one tree
 * batch (gq_forward_tree) holds the context after the cached prefix as
 * shared rows and each continuation (without its last token) as a branch.
 * Returns 1 when it scored them, 0 when they do not fit one batch. */
static int score_tree(gq_scorer *s, const gq_request *rq, int i, int j, gq_request_score *out, gq_error *err,
                      int *rc)
{
    const gq_request *r = &rq[i];
    int n_ctx = r->n_ctx, T, n_score = 0;
    for (int q = i; q < j; q++)
        if (rq[q].n_ctx + rq[q].n_cont - 1 > s->max_length) return 0;
    if ((*rc = ensure_cache(s, n_ctx, err)) != GQ_OK) return 1;
    int have = gq_kv_cache_len(s->cache), lcp = 0;
    while (lcp < have && lcp < n_ctx - 1 && s->cached[lcp] == r->ctx[lcp]) lcp++;
    int n_shared = n_ctx - lcp;
    T = n_shared;
    for (int q = i; q < j; q++) {
        T += rq[q].n_cont - 1;
        n_score += rq[q].n_cont;
    }
    int cap = gq_kv_cache_capacity(s->cache);
    if (T > s->m->rs.max_tokens || lcp + T > cap || n_score > 64 * s->m->rs.logit_rows || j - i > 256) {
        if (lcp + T > cap && T <= s->m->rs.max_tokens && lcp + T <= s->max_length) {
            if ((*rc = ensure_cache(s, lcp + T, err)) != GQ_OK) return 1;
            return score_tree(s, rq, i, j, out, err, rc); /* the grown cache starts empty */
        }
        return 0;
    }
    if ((*rc = ensure_scores(s, n_score, err)) != GQ_OK) return 1;
    gq_kv_cache_truncate(s->cache, lcp);
    int32_t *tok = s->input; /* T <= max_tokens <= max_length */
    int branch_start[256];
    memcpy(tok, r->ctx + lcp, (size_t)n_shared * sizeof *tok);
    int t = n_shared, k = 0;
    /* First token of every continuation: predicted by the last shared row. */
    for (int q = i; q < j; q++) {
        s->rows[k] = n_shared - 1;
        s->targets[k++] = rq[q].cont[0];
    }
    for (int q = i; q < j; q++) {
        branch_start[q - i] = t;
        for (int p = 1; p < rq[q].n_cont; p++) {
            tok[t] = rq[q].cont[p - 1];
            s->rows[k] = t++;
            s->targets[k++] = rq[q].cont[p];
        }
    }
    *rc = gq_forward_tree(s->m, s->cache, tok, T, n_shared, branch_start, j - i, s->rows, s->targets, n_score,
                          s->scores, err);
    if (*rc != GQ_OK) {
        gq_kv_cache_truncate(s->cache, 0);
        return 1;
    }
    memcpy(s->cached + lcp, r->ctx + lcp, (size_t)n_shared * sizeof *s->cached);
    k = j - i;
    for (int q = i; q < j; q++) {
        double ll = s->scores[q - i].logprob;
        int greedy = s->scores[q - i].is_greedy;
        for (int p = 1; p < rq[q].n_cont; p++, k++) {
            ll += s->scores[k].logprob;
            greedy &= s->scores[k].is_greedy;
        }
        out[q].loglikelihood = ll;
        out[q].is_greedy = greedy;
        s->stats.tokens_separate += rq[q].n_ctx + rq[q].n_cont - 1;
    }
    s->stats.requests += j - i;
    s->stats.tokens_fed += T;
    s->stats.tree_batches++;
    s->stats.positions_projected += n_score;
    return 1;
}

int gq_scorer_score(gq_scorer *s, const gq_request *rq, int n, gq_request_score *out, gq_error *err)
{
    int rc;
    for (int i = 0; i < n;) {
        const gq_request *r = &rq[i];
        if (r->n_cont < 1 || r->n_ctx < 1)
            return gq_error_set(err, GQ_ERR_INVALID,
                                "request %d has %d context and %d continuation tokens (both must be >= 1)", i,
                                r->n_ctx, r->n_cont);
        /* Server-style decoding off: the choices of a document (same
         * context) go through the model as one tree batch, on every path. */
        if (s->sq == 0) {
            int j = i + 1;
            while (j < n && rq[j].n_cont >= 1 && same_ctx(r, &rq[j])) j++;
            rc = GQ_OK;
            if (score_tree(s, rq, i, j, out, err, &rc)) {
                if (rc != GQ_OK) return rc;
                i = j;
                continue;
            }
        }
        /* Requests i .. j-1 share this input (MMLU's " A".." D"). */
        int j = i + 1;
        while (j < n && rq[j].n_cont >= 1 && rq[j].n_ctx >= 1 && same_input(r, &rq[j])) j++;
        int L = request_input(s, r, s->input);
        int n_cont = r->n_cont < L ? r->n_cont : L; /* truncation can eat into a long continuation */
        int first_scored = L - n_cont;
        if ((rc = ensure_cache(s, L, err)) != GQ_OK) return rc;
        /* Reuse the longest common prefix, but feed the scored positions. */
        int have = gq_kv_cache_len(s->cache), lcp = 0;
        while (lcp < have && lcp < first_scored && s->cached[lcp] == s->input[lcp]) lcp++;
        gq_kv_cache_truncate(s->cache, lcp);
        int n_score = (j - i) * n_cont;
        if ((rc = ensure_scores(s, n_score, err)) != GQ_OK) return rc;
        /* Rows relative to the fed chunk input[lcp .. L); row order must be
         * non-decreasing, so interleave the requests position by position. */
        int k = 0;
        for (int p = 0; p < n_cont; p++)
            for (int q = i; q < j; q++) {
                s->rows[k] = first_scored + p - lcp;
                s->targets[k] = rq[q].cont[rq[q].n_cont - n_cont + p];
                k++;
            }
        rc = feed(s, lcp, L, first_scored, n_score, j - i, err);
        if (rc != GQ_OK) {
            gq_kv_cache_truncate(s->cache, 0);
            return rc;
        }
        memcpy(s->cached + lcp, s->input + lcp, (size_t)(L - lcp) * sizeof *s->cached);
        for (int q = i; q < j; q++) {
            double ll = 0.0;
            int greedy = 1;
            for (int p = 0; p < n_cont; p++) {
                const gq_score *sc = &s->scores[p * (j - i) + (q - i)];
                ll += sc->logprob;
                greedy &= sc->is_greedy;
            }
            out[q].loglikelihood = ll;
            out[q].is_greedy = greedy;
            s->stats.tokens_separate += rq[q].n_ctx + rq[q].n_cont - 1;
        }
        s->stats.requests += j - i;
        s->stats.tokens_fed += L - lcp;
        s->stats.positions_projected += n_score;
        i = j;
    }
    return GQ_OK;
}
