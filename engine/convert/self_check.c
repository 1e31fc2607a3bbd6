/* self_check.c — the two paths of a converted model on calibration
 * sample 0 (self_check.h). */
#include "self_check.h"

#include <math.h>

#include "score.h"

int gq_self_check_paths(gq_model *conv, const gq_calib_set *set, const gq_path paths[2], gq_self_check *out,
                        gq_error *err)
{
    int T = (int)(set->offsets[1] - set->offsets[0]);
    if (T > GQ_SELF_CHECK_TOKENS) T = GQ_SELF_CHECK_TOKENS;
    out->tokens = T > 1 ? T - 1 : 0;
    out->max_abs_diff = 0.0;
    if (T < 2) return GQ_OK;
    const int32_t *ids = set->tokens + set->offsets[0];
    int rows[GQ_SELF_CHECK_TOKENS];
    gq_score sc[2][GQ_SELF_CHECK_TOKENS];
    for (int t = 0; t + 1 < T; t++) rows[t] = t;
    for (int p = 0; p < 2; p++) {
        gq_kv_cache *c = NULL;
        int rc = gq_kv_cache_init(&c, conv, paths[p], T, err);
        if (rc == GQ_OK) rc = gq_forward(conv, c, ids, T - 1, rows, ids + 1, T - 1, sc[p], err);
        gq_kv_cache_free(c);
        if (rc != GQ_OK) return rc;
    }
    for (int t = 0; t + 1 < T; t++) {
        double d = fabs(sc[0][t].logprob - sc[1][t].logprob);
        if (!(d <= out->max_abs_diff)) out->max_abs_diff = d; /* NaN propagates */
    }
    if (!(out->max_abs_diff <= GQ_SELF_CHECK_TOL))
        return gq_error_set(err, GQ_ERR_INVALID, "self check: the converted model's %s and %s paths differ by %g per "
                            "log-prob on calibration sample 0 (expected float rounding, <= %g)",
                            gq_path_name(paths[0]), gq_path_name(paths[1]), out->max_abs_diff, GQ_SELF_CHECK_TOL);
    return GQ_OK;
}
