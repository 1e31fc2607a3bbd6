/* scorer.c — log-likelihood requests with prefix sharing (score.h).
 *
 * lm-eval runs every (context + continuation) through the model and
 * projects every position onto the vocabulary.  Here one KV cache is kept
 * with the tokens it holds: a request feeds only what follows the longest
 * common prefix with the cache (capped so the scored positions are fed
 * again: hidden states are not cached, only keys and values), requests with
 * identical input run once, and only the scored positions are projected.
 */
#include <stdlib.h>
#include <string.h>

#include "gq_alloc.h"
#include "gq_array.h"
#include "model_internal.h"
#include "score.h"

typedef struct score_entry {
    int row;        /* batch row */
    int32_t target;
    int req;        /* index into the caller's requests */
} score_entry;

static int cmp_entry(const void *a, const void *b)
{
    const score_entry *x = a, *y = b;
    if (x->row != y->row) return x->row < y->row ? -1 : 1;
    return x->req < y->req ? -1 : (x->req > y->req); /* stable for equal rows */
}

struct gq_batch {
    int T, lcp, keep, n_seq, n_entries;
    int32_t *tok;            /* [rows] each array with its capacity (gq_array_reserve) */
    int *pos, *seg;
    size_t cap_tok, cap_pos, cap_seg;
    gq_batch_seq *seq;       /* [sequences] */
    size_t cap_seq;
    score_entry *entries;    /* [entries] */
    int *rows;
    int32_t *targets;
    gq_score *scores;
    size_t cap_entries, cap_rows, cap_targets, cap_scores;
    const int32_t *keep_src; /* job 0's input, for the token history */
};

static void batch_free(struct gq_batch *b)
{
    if (!b) return;
    gq_free(b->tok);
    gq_free(b->pos);
    gq_free(b->seg);
    gq_free(b->seq);
    gq_free(b->entries);
    gq_free(b->rows);
    gq_free(b->targets);
    gq_free(b->scores);
    gq_free(b);
}

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
    int batch_tokens;       /* rows one batched forward may hold (sq = 0) */
    struct gq_batch *batch; /* the tree jobs being packed */
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
    s->batch_tokens = m->rs.max_tokens;
    s->input = gq_malloc((size_t)s->max_length * sizeof *s->input, "scorer input", err);
    s->batch = gq_calloc(1, sizeof *s->batch, "scorer batch", err);
    if (!s->input || !s->batch) {
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
    batch_free(s->batch);
    gq_free(s);
}

int gq_scorer_set_batch_tokens(gq_scorer *s, int n, gq_error *err)
{
    if (n < 1 || n > s->m->rs.max_tokens)
        return gq_error_set(err, GQ_ERR_USAGE, "--batch-tokens %d: must be 1 .. %d (the rows a forward holds)", n,
                            s->m->rs.max_tokens);
    s->batch_tokens = n;
    return GQ_OK;
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

/* ---- tree jobs packed into batches (sq = 0) ----
 *
 * A group of requests (a document's choices) becomes one tree job: its
 * inputs' longest common prefix as shared rows, then each input's rest as a
 * branch that sees the shared rows and its own earlier rows.  A scored
 * position in the shared part is scored from the shared row (the hidden
 * state is the same for every request there): HellaSwag's first ending
 * token, MMLU's single letter (identical inputs: no branches at all, one
 * row projected once for the four letters).  Jobs of consecutive groups are
 * packed into one forward up to batch_tokens rows, each job attending only
 * to its own cache rows (gq_batch_seq).  Only the first job of a batch may
 * reuse the cache's prefix; the cache keeps that job's shared rows. */

static int batch_reserve(struct gq_batch *b, int rows, int seqs, int entries, gq_error *err)
{
    size_t r = (size_t)rows, q = (size_t)seqs, e = (size_t)entries;
    int rc;
    if ((rc = gq_array_reserve(&b->tok, &b->cap_tok, r, sizeof *b->tok, 512, "batch tokens", err)) ||
        (rc = gq_array_reserve(&b->pos, &b->cap_pos, r, sizeof *b->pos, 512, "batch positions", err)) ||
        (rc = gq_array_reserve(&b->seg, &b->cap_seg, r, sizeof *b->seg, 512, "batch tree mask", err)) ||
        (rc = gq_array_reserve(&b->seq, &b->cap_seq, q, sizeof *b->seq, 16, "batch sequences", err)) ||
        (rc = gq_array_reserve(&b->entries, &b->cap_entries, e, sizeof *b->entries, 256, "batch scores", err)) ||
        (rc = gq_array_reserve(&b->rows, &b->cap_rows, e, sizeof *b->rows, 256, "batch score rows", err)) ||
        (rc = gq_array_reserve(&b->targets, &b->cap_targets, e, sizeof *b->targets, 256, "batch score targets",
                               err)) ||
        (rc = gq_array_reserve(&b->scores, &b->cap_scores, e, sizeof *b->scores, 256, "batch score results", err)))
        return rc;
    return GQ_OK;
}

/* Element p of request r's model input (ctx + cont)[:-1]. */
static int32_t input_at(const gq_request *r, int p) { return p < r->n_ctx ? r->ctx[p] : r->cont[p - r->n_ctx]; }
static int input_len(const gq_request *r) { return r->n_ctx + r->n_cont - 1; }

/* Longest common prefix of the inputs of rq[i..j). */
static int group_shared(const gq_request *rq, int i, int j)
{
    int n = input_len(&rq[i]);
    for (int q = i + 1; q < j; q++) {
        int k = 0, m = input_len(&rq[q]);
        while (k < n && k < m && input_at(&rq[q], k) == input_at(&rq[i], k)) k++;
        n = k;
    }
    return n;
}

/* Rows job rq[i..j) adds with a reused prefix of lcp positions. */
static int group_rows(const gq_request *rq, int i, int j, int n_shared, int lcp)
{
    int T = n_shared - lcp;
    for (int q = i; q < j; q++) T += input_len(&rq[q]) - n_shared;
    return T;
}

/* Run the packed batch, add each entry's log-prob to its request, keep job
 * 0's shared rows in the cache. */
static int batch_flush(gq_scorer *s, gq_request_score *out, gq_error *err)
{
    struct gq_batch *b = s->batch;
    if (b->n_seq == 0) return GQ_OK;
    qsort(b->entries, (size_t)b->n_entries, sizeof *b->entries, cmp_entry);
    for (int e = 0; e < b->n_entries; e++) {
        b->rows[e] = b->entries[e].row;
        b->targets[e] = b->entries[e].target;
    }
    for (int i = 0; i < b->n_seq; i++) b->seq[i].seg = b->seg + b->seq[i].row0;
    gq_kv_cache_truncate(s->cache, b->lcp);
    int rc = gq_forward_batch(s->m, s->cache, b->tok, b->T, b->pos, b->seq, b->n_seq, b->keep, b->rows, b->targets,
                              b->n_entries, b->scores, err);
    if (rc != GQ_OK) {
        gq_kv_cache_truncate(s->cache, 0);
        b->n_seq = 0;
        return rc;
    }
    memcpy(s->cached + b->lcp, b->keep_src + b->lcp, (size_t)(b->keep - b->lcp) * sizeof *s->cached);
    /* Entries sorted by row keep each request's positions in order. */
    for (int e = 0; e < b->n_entries; e++) {
        gq_request_score *o = &out[b->entries[e].req];
        o->loglikelihood += b->scores[e].logprob;
        o->is_greedy &= b->scores[e].is_greedy;
    }
    int projected = 0;
    for (int e = 0; e < b->n_entries; e++) projected += e == 0 || b->rows[e] != b->rows[e - 1];
    s->stats.tokens_fed += b->T;
    s->stats.positions_projected += projected;
    s->stats.batches++;
    b->n_seq = b->T = b->n_entries = 0;
    return GQ_OK;
}

/* The cache holds the batch's rows plus a reused prefix. */
static int batch_cache_rows(const gq_scorer *s)
{
    int want = 2 * s->batch_tokens;
    return want < s->max_length ? want : s->max_length;
}

/* Add group rq[i..j) to the batch as a tree job, flushing first when it
 * does not fit.  Returns 1 when added, 0 when the group cannot be a tree
 * job (truncated inputs, or more rows than a forward holds). */
static int batch_add(gq_scorer *s, const gq_request *rq, int i, int j, gq_request_score *out, gq_error *err,
                     int *rc)
{
    struct gq_batch *b = s->batch;
    *rc = GQ_OK;
    int min_ctx = rq[i].n_ctx;
    for (int q = i; q < j; q++) {
        if (input_len(&rq[q]) > s->max_length) return 0;
        if (rq[q].n_ctx < min_ctx) min_ctx = rq[q].n_ctx;
    }
    int n_shared = group_shared(rq, i, j);
    int alone = group_rows(rq, i, j, n_shared, 0);
    if (alone > s->m->rs.max_tokens || alone > s->max_length) return 0;
    if (b->n_seq > 0 && (b->T + alone > s->batch_tokens || b->lcp + b->T + alone > gq_kv_cache_capacity(s->cache)))
        if ((*rc = batch_flush(s, out, err)) != GQ_OK) return 1;
    int lcp = 0;
    if (b->n_seq == 0) {
        int need = alone > batch_cache_rows(s) ? alone : batch_cache_rows(s);
        if ((*rc = ensure_cache(s, need, err)) != GQ_OK) return 1;
        /* Reuse the cache's prefix, but feed every scored position. */
        int have = gq_kv_cache_len(s->cache), lim = min_ctx - 1 < n_shared ? min_ctx - 1 : n_shared;
        while (lcp < have && lcp < lim && s->cached[lcp] == input_at(&rq[i], lcp)) lcp++;
        b->lcp = lcp;
        b->keep = n_shared;
    }
    int rows = group_rows(rq, i, j, n_shared, lcp), n_sc = 0;
    for (int q = i; q < j; q++) n_sc += rq[q].n_cont;
    if ((*rc = batch_reserve(s->batch, b->T + rows, b->n_seq + 1, b->n_entries + n_sc, err)) != GQ_OK) return 1;
    int row0 = b->T;
    gq_batch_seq *sq = &b->seq[b->n_seq];
    sq->row0 = row0;
    sq->n_rows = rows;
    sq->base = b->n_seq == 0 ? 0 : b->lcp + row0;
    sq->pos0 = b->n_seq == 0 ? lcp : 0;
    sq->shared_end = n_shared;
    sq->seg = NULL; /* set at flush: b->seg may move while the batch grows */
    /* Shared rows: positions lcp .. n_shared-1. */
    int t = row0;
    for (int p = lcp; p < n_shared; p++, t++) {
        b->tok[t] = input_at(&rq[i], p);
        b->pos[t] = p;
        b->seg[t] = 0;
    }
    /* Branches: position p of request q at row branch0 + (p - n_shared);
     * its cache row (relative to the job's base) is where seg points. */
    for (int q = i; q < j; q++) {
        int L = input_len(&rq[q]), branch0 = t, rel0 = sq->pos0 + (branch0 - row0);
        for (int p = n_shared; p < L; p++, t++) {
            b->tok[t] = input_at(&rq[q], p);
            b->pos[t] = p;
            b->seg[t] = rel0;
        }
        out[q].loglikelihood = 0.0;
        out[q].is_greedy = 1;
        /* Scored positions n_ctx-1 .. L-1 predict the continuation. */
        for (int p = rq[q].n_ctx - 1; p < L; p++) {
            score_entry *e = &b->entries[b->n_entries++];
            e->row = p < n_shared ? row0 + (p - lcp) : branch0 + (p - n_shared);
            e->target = rq[q].cont[p - (rq[q].n_ctx - 1)];
            e->req = q;
        }
        s->stats.tokens_separate += L;
    }
    if (b->n_seq == 0) { /* the token history of the rows the cache keeps */
        if (rq[i].n_ctx >= n_shared) {
            b->keep_src = rq[i].ctx;
        } else {
            for (int p = 0; p < n_shared; p++) s->input[p] = input_at(&rq[i], p);
            b->keep_src = s->input;
        }
    }
    b->T = t;
    b->n_seq++;
    s->stats.requests += j - i;
    s->stats.tree_batches++;
    return 1;
}

/* Requests rq[i..) that share rq[i]'s input (MMLU's " A".." D"), up to
 * `end`: fed after the longest common prefix with the cache, the scored
 * positions sq at a time (sq = 0: one call).  *next: the first request
 * after them. */
static int score_plain(gq_scorer *s, const gq_request *rq, int i, int end, int *next, gq_request_score *out,
                       gq_error *err)
{
    int rc;
    const gq_request *r = &rq[i];
    /* Requests i .. j-1 share this input (MMLU's " A".." D"). */
    int j = i + 1;
    while (j < end && rq[j].n_cont >= 1 && rq[j].n_ctx >= 1 && same_input(r, &rq[j])) j++;
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
    s->stats.positions_projected += n_cont; /* the requests' shared rows are projected once */
    *next = j;
    return GQ_OK;
}

static int check_requests(const gq_request *rq, int n, gq_error *err)
{
    for (int i = 0; i < n; i++)
        if (rq[i].n_cont < 1 || rq[i].n_ctx < 1)
            return gq_error_set(err, GQ_ERR_INVALID,
                                "request %d has %d context and %d continuation tokens (both must be >= 1)", i,
                                rq[i].n_ctx, rq[i].n_cont);
    return GQ_OK;
}

int gq_scorer_score_groups(gq_scorer *s, const gq_request *rq, int n, const int *group_end, int n_groups,
                           gq_request_score *out, gq_error *err)
{
    int rc = check_requests(rq, n, err);
    if (rc != GQ_OK) return rc;
    for (int g = 0; g < n_groups; g++)
        if (group_end[g] <= (g ? group_end[g - 1] : 0) || group_end[g] > n || (g == n_groups - 1 && group_end[g] != n))
            return gq_error_set(err, GQ_ERR_USAGE, "request group %d ends at %d: groups must be non-empty, in order, "
                                "and end at %d", g, group_end[g], n);
    for (int g = 0, i = 0; g < n_groups; i = group_end[g++]) {
        int j = group_end[g];
        /* Server-style decoding off: a group is one tree job of a batch. */
        if (s->sq == 0) {
            if (batch_add(s, rq, i, j, out, err, &rc)) {
                if (rc != GQ_OK) return rc;
                continue;
            }
            if ((rc = batch_flush(s, out, err)) != GQ_OK) return rc;
        }
        for (int k = i; k < j;)
            if ((rc = score_plain(s, rq, k, j, &k, out, err)) != GQ_OK) return rc;
    }
    return batch_flush(s, out, err);
}

static int same_ctx(const gq_request *a, const gq_request *b)
{
    return a->n_ctx == b->n_ctx && memcmp(a->ctx, b->ctx, (size_t)a->n_ctx * sizeof *a->ctx) == 0;
}

int gq_scorer_score(gq_scorer *s, const gq_request *rq, int n, gq_request_score *out, gq_error *err)
{
    int rc = check_requests(rq, n, err);
    if (rc != GQ_OK || n == 0) return rc;
    int *ends = gq_malloc((size_t)n * sizeof *ends, "request groups", err), n_groups = 0;
    if (!ends) return GQ_ERR_NOMEM;
    for (int i = 1; i <= n; i++)
        if (i == n || !same_ctx(&rq[i - 1], &rq[i])) ends[n_groups++] = i;
    rc = gq_scorer_score_groups(s, rq, n, ends, n_groups, out, err);
    gq_free(ends);
    return rc;
}
