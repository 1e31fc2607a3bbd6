/* perplexity.h — the perplexity protocol of TransMLA's (SliceGPT-derived)
 * evaluate_ppl, once, for `gqla-eval ppl` and `convert --eval-ppl`:
 * the ids are cut into floor(n / ctx) consecutive, non-overlapping windows
 * of ctx tokens (a final partial window is dropped); each window runs alone
 * on the model's default path and tokens 1 .. ctx-1 are scored, each given
 * the window's tokens before it.  ppl = exp(nll / (windows x (ctx - 1))).
 * Tests: tests/test_convert.c (--eval-ppl), tests/test_main_cmd.c (ppl).
 */
#ifndef GQ_PERPLEXITY_H
#define GQ_PERPLEXITY_H

#include <stddef.h>
#include <stdint.h>

#include "gq_error.h"
#include "model.h"

/* Called after window w (0-based) of n_windows, with the NLL summed so far. */
typedef void (*gq_ppl_window_fn)(void *ctx, long w, long n_windows, double nll);

/* Total negative log-likelihood of ids[0..n) under m (opened with weights,
 * max_tokens >= ctx) into *nll, the window count into *n_windows (either
 * may be NULL).  Fewer than ctx ids is GQ_ERR_INVALID (callers check first
 * and name their option).  on_window may be NULL. */
int gq_perplexity_nll(gq_model *m, const int32_t *ids, size_t n, int ctx, gq_ppl_window_fn on_window, void *cb_ctx,
                      double *nll, long *n_windows, gq_error *err);

#endif
