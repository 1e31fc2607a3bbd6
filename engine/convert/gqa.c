/* gqa.c — GQA -> GQLA conversion driver (see gqa.h; conversion.md §3, §5).
 * The math lives in gqa_convert.c, the folder's contents in gqa_output.c;
 * this file only orders the steps and owns the temporary folder. */
#include "gqa.h"

#include <math.h>
#include <string.h>

#include "checkpoint.h"
#include "fileio.h"
#include "model_internal.h"
#include "output.h"
#include "perplexity.h"
#include "self_check.h"
#include "tokenizer_export.h"

void gq_convert_gqa_result_free(gq_convert_gqa_result *r)
{
    if (!r) return;
    gq_gqa_result_free(&r->conv);
    memset(r, 0, sizeof *r);
}

/* HF sources: the tokenizer files beside config.json; GGUF sources: the
 * embedded tokenizer as tokenizer.json (*note says when none was written). */
static int copy_tokenizer(gq_convert_out *out, const gq_model *src, const char **note, gq_error *err)
{
    const char *dir = gq_checkpoint_path(gq_model_checkpoint(src));
    const struct gq_gguf *g = gq_checkpoint_gguf(gq_model_checkpoint(src));
    *note = "copied";
    if (g) {
        *note = "exported from the GGUF";
        int rc = gq_tokenizer_export_gguf(g, out, err);
        if (rc == GQ_ERR_UNSUPPORTED) {
            *note = "none: the GGUF tokenizer has no tokenizer.json export";
            gq_error_clear(err);
            rc = GQ_OK;
        }
        return rc;
    }
    if (!gq_path_is_dir(dir)) return GQ_OK;
    return gq_out_copy_tokenizer_files(out, dir, err);
}

/* ppl = exp(nll / (windows x (ctx - 1))), perplexity.h's protocol. */
static int perplexity(gq_model *m, const gq_convert_gqa_opts *o, double *out, gq_error *err)
{
    double nll;
    long n_windows;
    int rc = gq_perplexity_nll(m, o->ppl_ids, o->n_ppl_ids, o->ppl_ctx, NULL, NULL, &nll, &n_windows, err);
    if (rc == GQ_OK) *out = exp(nll / ((double)n_windows * (double)(o->ppl_ctx - 1)));
    return rc;
}

int gq_convert_gqa(gq_model *src, const gq_calib_set *set, const char *out_dir, const gq_convert_gqa_opts *o,
                   gq_convert_gqa_result *res, gq_error *err)
{
    int widen_rc = gq_model_widen_weights(src, err); /* the decompositions read float32 matrices */
    if (widen_rc != GQ_OK) return widen_rc;
    gq_convert_gqa_result r = {0};
    gq_gqa_meta_info info = o->meta;
    gq_convert_out out = {0};
    gq_model *conv = NULL;
    cJSON *config = NULL, *meta = NULL;
    int rc;
    memset(res, 0, sizeof *res);
    if ((rc = gq_out_begin(&out, out_dir, err)) != GQ_OK) goto done;
    if ((rc = gq_gqa_convert(src, set, o->dims, o->reference, o->progress, o->progress_ctx, &r.conv, err)) != GQ_OK)
        goto done;
    if (o->stage) o->stage(o->progress_ctx, GQ_GQA_STAGE_WRITE);

    if ((rc = gq_gqa_add_tensors(&out, src, &r.conv, o->dtype, o->mla_view, err)) != GQ_OK) goto done;
    if ((rc = gq_out_write_tensors(&out, 0, err)) != GQ_OK) goto done;
    if (!(config = gq_gqa_config_json(src, &r.conv.dims, o->dtype, o->mla_view, err))) {
        rc = err && err->status ? err->status : GQ_ERR_NOMEM;
        goto done;
    }
    if ((rc = gq_out_write_json(&out, "config.json", config, err)) != GQ_OK) goto done;
    if ((rc = copy_tokenizer(&out, src, &r.tokenizer_note, err)) != GQ_OK) goto done;
    info.tokenizer_note = r.tokenizer_note;

    /* Open what was written: self check, perplexity. */
    gq_open_opts copts = {.load_weights = 1, .n_threads = o->n_threads, .max_tokens = o->max_tokens};
    if ((rc = gq_model_open(&conv, out.tmp_dir, &copts, err)) != GQ_OK) {
        gq_error_prefix(err, "the converted model does not load back: ");
        goto done;
    }
    /* GQLA: gqa and absorb; the MLA view: expanded and absorb. */
    const gq_path paths[2] = {gq_config_path_supported(gq_model_config(conv), GQ_PATH_GQA) ? GQ_PATH_GQA
                                                                                          : GQ_PATH_EXPANDED,
                              GQ_PATH_ABSORB};
    gq_self_check chk;
    if ((rc = gq_self_check_paths(conv, set, paths, &chk, err)) != GQ_OK) goto done;
    r.paths_max_abs_diff = info.paths_max_abs_diff = chk.max_abs_diff;
    if (o->ppl_ids) {
        if (o->stage) o->stage(o->progress_ctx, GQ_GQA_STAGE_PPL);
        if ((rc = perplexity(src, o, &info.ppl_orig, err)) != GQ_OK) goto done;
        if ((rc = perplexity(conv, o, &info.ppl_gqla, err)) != GQ_OK) goto done;
        info.have_ppl = 1;
        r.have_ppl = 1;
        r.ppl_orig = info.ppl_orig;
        r.ppl_gqla = info.ppl_gqla;
    }
    if (!(meta = gq_gqa_meta_json(src, &r.conv, &info, err))) {
        rc = err && err->status ? err->status : GQ_ERR_NOMEM;
        goto done;
    }
    if ((rc = gq_out_write_json(&out, "gqla_meta.json", meta, err)) != GQ_OK) goto done;
    gq_model_close(conv);
    conv = NULL;
    if ((rc = gq_out_commit(&out, err)) != GQ_OK) goto done;
    *res = r;
    memset(&r, 0, sizeof r);
done:
    gq_model_close(conv);
    gq_out_free(&out); /* removes the temporary folder unless committed */
    cJSON_Delete(config);
    cJSON_Delete(meta);
    gq_convert_gqa_result_free(&r);
    return rc;
}
