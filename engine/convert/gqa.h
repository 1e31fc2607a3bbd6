/* gqa.h — `gqla-eval convert` (--from gqa): TransGQLA of a GQA checkpoint
 * into a GQLA folder (conversion.md §3, §5), the driver beside mla.h's.
 *
 * Steps: gq_gqa_convert (gqa_convert.h: the passes and the per-layer
 * math) -> the tensors, config.json and tokenizer (gqa_output.h) into
 * "<out_dir>.tmp-XXXXXX" (output.h) -> the written model loaded back ->
 * the §6.3 self check of its two paths (self_check.h) -> optionally the
 * perplexity of a text before and after (perplexity.h) -> gqla_meta.json
 * -> rename to out_dir.  On any failure (or SIGINT/SIGTERM) the temporary
 * folder is removed and out_dir never appears.
 *
 * Not here: the command line, the calibration tokens and the checks of
 * the options against the source (harness/cmd_convert.c, calib.h,
 * gq_gqa_resolve).  Tests: tests/test_convert.c, test_convert_reference.c.
 */
#ifndef GQ_CONVERT_GQA_DRIVER_H
#define GQ_CONVERT_GQA_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "calib.h"
#include "gq_error.h"
#include "gqa_convert.h"
#include "gqa_output.h"
#include "model.h"
#include "tensor.h"

/* Where the driver is, for the caller's display: the passes' layers go to
 * progress (gq_gqa_progress_fn); stage marks the steps after them. */
typedef enum gq_gqa_stage {
    GQ_GQA_STAGE_WRITE = 0,   /* the passes are done; writing the folder */
    GQ_GQA_STAGE_PPL          /* measuring the perplexity before and after */
} gq_gqa_stage;

typedef struct gq_convert_gqa_opts {
    const gq_gqa_dims *dims;   /* gq_gqa_resolve's, for the source */
    int reference;             /* write the partial-RoPE reference model (§3.2.4) */
    gq_dtype dtype;            /* converted tensors: GQ_DTYPE_F32 or GQ_DTYPE_BF16 */
    int mla_view;              /* --export-mla-view (gqa_output.h) */
    int n_threads;             /* for loading the written model back; 0: all cores */
    int max_tokens;            /* its max_tokens: >= 64 and >= ppl_ctx */
    const int32_t *ppl_ids;    /* perplexity text, tokenized by the source; NULL: none */
    size_t n_ppl_ids;          /* >= ppl_ctx */
    int ppl_ctx;
    /* Everything else gqla_meta.json records; the driver fills
     * paths_max_abs_diff, have_ppl, ppl_orig, ppl_gqla and tokenizer_note. */
    gq_gqa_meta_info meta;
    gq_gqa_progress_fn progress;            /* may be NULL */
    void (*stage)(void *ctx, gq_gqa_stage s); /* may be NULL */
    void *progress_ctx;                     /* passed to both */
} gq_convert_gqa_opts;

/* What a successful conversion did.  Owned by the caller; release with
 * gq_convert_gqa_result_free (accepts a zeroed struct). */
typedef struct gq_convert_gqa_result {
    gq_gqa_result conv;          /* dims as used, per-layer energies and errors */
    double paths_max_abs_diff;   /* the self check */
    int have_ppl;
    double ppl_orig, ppl_gqla;   /* with ppl_ids */
    const char *tokenizer_note;  /* static: how the tokenizer files were made */
} gq_convert_gqa_result;

void gq_convert_gqa_result_free(gq_convert_gqa_result *r);

/* Convert src (a GQA model opened with weights, max_tokens >= ppl_ctx)
 * over the calibration set into out_dir (which must not exist).  On
 * failure nothing is left on disk and *res is zeroed; errors name the
 * step (a model that does not load back, a failed self check, I/O). */
int gq_convert_gqa(gq_model *src, const gq_calib_set *set, const char *out_dir, const gq_convert_gqa_opts *o,
                   gq_convert_gqa_result *res, gq_error *err);

#endif
