/* test_scorer.c — prefix-shared request scoring (engine/scorer.c) against
 * an independent computation: each request alone in a fresh KV cache, one
 * pass over (ctx + cont)[:-1], log-probs summed.  Requests share contexts
 * (choices of a document), share a description prefix across documents,
 * have identical inputs (one-token letters), multi-token continuations,
 * and one is left-truncated.  Agreement within 1e-5 relative; the work
 * counters must show the sharing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "score.h"
#include "testutil.h"

#define NREQ 24

static unsigned seed = 12345;
static int32_t rnd_tok(int V)
{
    seed = seed * 1103515245u + 12345u;
    return (int32_t)((seed >> 8) % (unsigned)V);
}

/* log P(cont | ctx) summed, fresh cache, truncated to max_len like lm-eval. */
static double naive(gq_model *m, const gq_request *r, int max_len, int *greedy)
{
    gq_error err = {0};
    int total = r->n_ctx + r->n_cont - 1, skip = total > max_len ? total - max_len : 0, L = total - skip;
    int32_t *in = malloc((size_t)total * sizeof *in);
    for (int i = 0; i < total; i++) in[i] = i < r->n_ctx ? r->ctx[i] : r->cont[i - r->n_ctx];
    int n_cont = r->n_cont < L ? r->n_cont : L;
    int rows[64];
    int32_t tg[64];
    gq_score sc[64];
    for (int p = 0; p < n_cont; p++) {
        rows[p] = L - n_cont + p;
        tg[p] = r->cont[r->n_cont - n_cont + p];
    }
    gq_kv_cache *c = NULL;
    gq_kv_cache_init(&c, m, GQ_PATH_NATIVE, L, &err);
    gq_forward(m, c, in + skip, L, rows, tg, n_cont, sc, &err);
    double ll = 0;
    *greedy = 1;
    for (int p = 0; p < n_cont; p++) {
        ll += sc[p].logprob;
        *greedy &= sc[p].is_greedy;
    }
    gq_kv_cache_free(c);
    free(in);
    return ll;
}

static int run(int max_tokens);

static int in_len(const gq_request *r) { return r->n_ctx + r->n_cont - 1; }
static int32_t in_at(const gq_request *r, int p) { return p < r->n_ctx ? r->ctx[p] : r->cont[p - r->n_ctx]; }

/* Rows the scorer should project for one call's requests rq[0..n): per run
 * of requests with the same context that is scored as one tree (no
 * truncation, rows fit a forward), a scored position inside the run's
 * common input prefix is one row for all of them, every other scored
 * position one row of its own; a run that is not a tree projects each
 * distinct input's continuation once (identical inputs share rows). */
static long long expected_projected(const gq_request *rq, int n, int max_len, int max_tokens)
{
    long long total = 0;
    for (int i = 0; i < n;) {
        int j = i + 1;
        while (j < n && rq[j].n_ctx == rq[i].n_ctx && memcmp(rq[j].ctx, rq[i].ctx, rq[i].n_ctx * sizeof(int32_t)) == 0)
            j++;
        int shared = in_len(&rq[i]), fits = 1, rows;
        for (int q = i + 1; q < j; q++) {
            int k = 0;
            while (k < shared && k < in_len(&rq[q]) && in_at(&rq[q], k) == in_at(&rq[i], k)) k++;
            shared = k;
        }
        rows = shared;
        for (int q = i; q < j; q++) {
            fits &= in_len(&rq[q]) <= max_len;
            rows += in_len(&rq[q]) - shared;
        }
        if (fits && rows <= max_tokens) {
            int shared_scored = shared - (rq[i].n_ctx - 1);
            total += shared_scored > 0 ? shared_scored : 0;
            for (int q = i; q < j; q++) {
                int first = rq[q].n_ctx - 1 > shared ? rq[q].n_ctx - 1 : shared;
                total += in_len(&rq[q]) - first;
            }
        } else {
            for (int q = i; q < j; q++) {
                int same_as_prev = q > i && rq[q].n_cont == rq[q - 1].n_cont &&
                                   memcmp(rq[q].cont, rq[q - 1].cont, (rq[q].n_cont - 1) * sizeof(int32_t)) == 0;
                if (!same_as_prev) total += rq[q].n_cont < max_len ? rq[q].n_cont : max_len;
            }
        }
        i = j;
    }
    return total;
}

int main(void)
{
    /* max_tokens 32: most documents fall back to one feed per request;
     * 512: every document is one tree batch. */
    run(32);
    run(512);
    return test_report("scorer");
}

static int run(int max_tokens)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", test_fixture("forward/llama-gqa-f32"));
    gq_error err = {0};
    gq_model *m = NULL;
    gq_open_opts o = {1, 0, max_tokens, 0, NULL, GQ_DEVICE_CPU, 0};
    if (gq_model_open(&m, dir, &o, &err) != GQ_OK) {
        fprintf(stderr, "%s\n", err.msg);
        test_cond("model opens", 0);
        return 1;
    }
    int V = (int)gq_model_config(m)->vocab_size;
    /* 6 documents x 4 choices; every context starts with the same 12-token
     * "description"; documents 0-2 have one-token choices (identical
     * inputs), 3-5 multi-token ones; document 5's context is long enough to
     * be truncated at max_length 80. */
    static int32_t ctx[6][120], cont[NREQ][8];
    int n_ctx[6];
    int32_t desc[12];
    for (int i = 0; i < 12; i++) desc[i] = rnd_tok(V);
    gq_request rq[NREQ];
    for (int d = 0; d < 6; d++) {
        n_ctx[d] = d == 5 ? 110 : 20 + 7 * d;
        for (int i = 0; i < n_ctx[d]; i++) ctx[d][i] = i < 12 ? desc[i] : rnd_tok(V);
        for (int c = 0; c < 4; c++) {
            int q = d * 4 + c, nc = d < 3 ? 1 : 2 + c;
            for (int i = 0; i < nc; i++) cont[q][i] = rnd_tok(V);
            rq[q] = (gq_request){ctx[d], n_ctx[d], cont[q], nc};
        }
    }
    int max_len = 80;
    gq_scorer *s = NULL;
    test_cond("scorer init", gq_scorer_init(&s, m, max_len, &err) == GQ_OK);
    gq_request_score out[NREQ];
    /* Score in uneven batches to cross call boundaries. */
    int ok = 1;
    long long want_projected = 0;
    for (int a = 0; a < NREQ && ok; a += 5) {
        int n = NREQ - a < 5 ? NREQ - a : 5;
        ok = gq_scorer_score(s, rq + a, n, out + a, &err) == GQ_OK;
        want_projected += expected_projected(rq + a, n, max_len, max_tokens);
    }
    test_cond("scoring runs", ok);
    double worst = 0;
    int greedy_bad = 0;
    for (int q = 0; q < NREQ; q++) {
        int g;
        double ref = naive(m, &rq[q], max_len, &g);
        double rel = fabs(out[q].loglikelihood - ref) / fmax(1.0, fabs(ref));
        if (rel > worst) worst = rel;
        if (g != out[q].is_greedy) greedy_bad++;
    }
    gq_scorer_stats st = gq_scorer_get_stats(s);
    printf("max_tokens %d: max relative |shared - separate| = %.3g; greedy mismatches %d\n", max_tokens, worst,
           greedy_bad);
    printf("requests %lld, tokens fed %lld (separate: %lld), positions projected %lld (separate: %lld)\n",
           (long long)st.requests, (long long)st.tokens_fed, (long long)st.tokens_separate,
           (long long)st.positions_projected, (long long)st.tokens_separate);
    test_cond("shared scoring equals separate scoring (1e-5 relative)", worst <= 1e-5);
    test_cond("greedy flags equal", greedy_bad == 0);
    test_cond("all requests counted", st.requests == NREQ);
    test_cond("prefix sharing pushes fewer tokens", st.tokens_fed * 2 < st.tokens_separate);
    /* Entries: 3 docs x 4 one-token choices + 3 docs x (2+3+4+5) tokens. */
    printf("positions projected %lld, expected %lld, score entries %d\n", (long long)st.positions_projected,
           want_projected, 3 * 4 + (2 + 3 + 4 + 5) * 3);
    test_cond("only scored positions are projected, shared rows once",
              st.positions_projected == want_projected && want_projected < 3 * 4 + (2 + 3 + 4 + 5) * 3);

    /* Batches across documents: the same requests as documents (groups of
     * four) in one call, packed into forwards of up to max_tokens rows,
     * against one document per forward (batch_tokens 1).  Per-request
     * results may differ only by the float rounding of products over more
     * rows: bound 1e-5 relative to max(1, |ll|), as for call splits. */
    {
        int ends[6];
        for (int d = 0; d < 6; d++) ends[d] = 4 * (d + 1);
        gq_request_score packed[NREQ], single[NREQ];
        gq_scorer *s1 = NULL, *s2 = NULL;
        int ok2 = gq_scorer_init(&s1, m, max_len, &err) == GQ_OK && gq_scorer_init(&s2, m, max_len, &err) == GQ_OK &&
                  gq_scorer_set_batch_tokens(s2, 1, &err) == GQ_OK &&
                  gq_scorer_score_groups(s1, rq, NREQ, ends, 6, packed, &err) == GQ_OK &&
                  gq_scorer_score_groups(s2, rq, NREQ, ends, 6, single, &err) == GQ_OK;
        test_cond("grouped scoring runs (packed and one document per forward)", ok2);
        double wb = 0, wn = 0;
        int gb = 0;
        for (int q = 0; q < NREQ && ok2; q++) {
            double rel = fabs(packed[q].loglikelihood - single[q].loglikelihood) / fmax(1.0, fabs(single[q].loglikelihood));
            if (rel > wb) wb = rel;
            int g;
            double ref = naive(m, &rq[q], max_len, &g);
            rel = fabs(packed[q].loglikelihood - ref) / fmax(1.0, fabs(ref));
            if (rel > wn) wn = rel;
            gb += g != packed[q].is_greedy;
        }
        gq_scorer_stats p1 = gq_scorer_get_stats(s1), p2 = gq_scorer_get_stats(s2);
        printf("max_tokens %d: packed %lld forwards, one-per-document %lld; max relative |packed - single| = %.3g, "
               "|packed - separate| = %.3g\n", max_tokens, (long long)p1.batches, (long long)p2.batches, wb, wn);
        test_cond("packed batches equal one document per forward (1e-5 relative)", ok2 && wb <= 1e-5);
        test_cond("packed batches equal separate scoring (1e-5 relative)", ok2 && wn <= 1e-5 && gb == 0);
        if (max_tokens >= 512) test_cond("documents were packed", p1.batches < p2.batches);
        gq_scorer_free(s1);
        gq_scorer_free(s2);
    }

    /* A request with an empty continuation is refused. */
    gq_request bad = {ctx[0], n_ctx[0], cont[0], 0};
    test_cond("empty continuation refused", gq_scorer_score(s, &bad, 1, out, &err) == GQ_ERR_INVALID);
    gq_scorer_free(s);
    gq_model_close(m);
    return 0;
}
