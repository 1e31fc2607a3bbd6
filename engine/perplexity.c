/* perplexity.c — evaluate_ppl's windows (perplexity.h). */
#include "perplexity.h"

#include "gq_alloc.h"
#include "score.h"

int gq_perplexity_nll(gq_model *m, const int32_t *ids, size_t n, int ctx, gq_ppl_window_fn on_window, void *cb_ctx,
                      double *nll_out, long *n_windows_out, gq_error *err)
{
    long n_windows = (long)n / ctx;
    if (n_windows < 1)
        return gq_error_set(err, GQ_ERR_INVALID, "%zu tokens is less than one window of %d", n, ctx);
    int *rows = gq_calloc((size_t)ctx, sizeof *rows, "ppl rows", err);
    gq_score *sc = gq_calloc((size_t)ctx, sizeof *sc, "ppl scores", err);
    gq_kv_cache *cache = NULL;
    int rc = (!rows || !sc) ? GQ_ERR_NOMEM
                            : gq_kv_cache_init(&cache, m, gq_config_default_path(gq_model_config(m)), ctx, err);
    double nll = 0.0;
    for (int j = 0; rc == GQ_OK && j < ctx - 1; j++) rows[j] = j;
    for (long w = 0; rc == GQ_OK && w < n_windows; w++) {
        const int32_t *win = ids + w * ctx;
        gq_kv_cache_truncate(cache, 0);
        rc = gq_forward(m, cache, win, ctx - 1, rows, win + 1, ctx - 1, sc, err);
        for (int j = 0; rc == GQ_OK && j < ctx - 1; j++) nll -= sc[j].logprob;
        if (rc == GQ_OK && on_window) on_window(cb_ctx, w, n_windows, nll);
    }
    if (rc == GQ_OK) {
        if (nll_out) *nll_out = nll;
        if (n_windows_out) *n_windows_out = n_windows;
    }
    gq_kv_cache_free(cache);
    gq_free(rows);
    gq_free(sc);
    return rc;
}
