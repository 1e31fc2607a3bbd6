/* self_check.h — conversion.md §6.3, once for both converter halves: a
 * converted model's two decoding paths on the first calibration sample
 * (up to GQ_SELF_CHECK_TOKENS tokens) must give the same per-token
 * log-probabilities to float rounding, else the conversion fails before
 * its folder is renamed into place.
 * Tests: tests/test_convert.c, tests/test_convert_mla.c.
 */
#ifndef GQ_CONVERT_SELF_CHECK_H
#define GQ_CONVERT_SELF_CHECK_H

#include "calib.h"
#include "gq_error.h"
#include "model.h"

#define GQ_SELF_CHECK_TOKENS 64
#define GQ_SELF_CHECK_TOL 1e-3

typedef struct gq_self_check {
    int tokens;            /* log-probabilities compared (0 when sample 0 has < 2 tokens) */
    double max_abs_diff;   /* max |paths[0] - paths[1]|; NaN propagates */
} gq_self_check;

/* Run paths[0] and paths[1] of conv (opened with weights, max_tokens >=
 * GQ_SELF_CHECK_TOKENS) on set's sample 0 into *out.  A difference above
 * GQ_SELF_CHECK_TOL is GQ_ERR_INVALID naming both paths (*out is filled
 * either way once both ran). */
int gq_self_check_paths(gq_model *conv, const gq_calib_set *set, const gq_path paths[2], gq_self_check *out,
                        gq_error *err);

#endif
