/* gqa_output.h — the output folder of a GQA -> GQLA conversion
 * (conversion.md §5): tensor list, config.json and gqla_meta.json.
 *
 * Tensors: every source tensor outside self_attn.* copied unchanged (bytes
 * as stored for F32/F16/BF16 sources; GGUF blocks are widened to float32
 * first, then written in the output dtype), then per layer q_proj
 * (or q_a_proj + q_b_proj), kv_a_proj_with_mqa, kv_b_proj (+ biases) in the
 * output dtype, and o_proj (+ bias) copied.
 * MLA view (--export-mla-view, conversion.md §2.3, §5.2): kv_b_proj with
 * every group block repeated gs times (head h reads block h), for
 * num_key_value_heads = H: the identical function in stock MLA layout.
 */
#ifndef GQ_CONVERT_GQA_OUTPUT_H
#define GQ_CONVERT_GQA_OUTPUT_H

#include <cjson/cJSON.h>

#include "calib.h"
#include "gqa_convert.h"
#include "model.h"
#include "output.h"

/* Add every tensor of the converted checkpoint to o.  The result's layer
 * tensors are borrowed (res must outlive the write) unless out_dtype is
 * BF16 (then copies are made).  Widened GGUF tensors are owned by o. */
int gq_gqa_add_tensors(gq_convert_out *o, gq_model *src, const gq_gqa_result *res, gq_dtype out_dtype,
                       int mla_view, gq_error *err);

/* config.json of the converted model (§5.2): the source's config.json when
 * it has one, else built from the parsed config (GGUF), with the GQLA keys
 * set.  mla_view: num_key_value_heads = H (--export-mla-view).  Caller
 * deletes.  NULL on out-of-memory or an unreadable source config (err). */
cJSON *gq_gqa_config_json(const gq_model *src, const gq_gqa_dims *dm, gq_dtype out_dtype, int mla_view,
                          gq_error *err);

/* Everything gqla_meta.json records (§5.3) apart from what dims/res hold. */
typedef struct gq_gqa_meta_info {
    const char *source_path;
    const char *converter_version;
    const char *calib_source;      /* file given to --calib / --calib-tokens, or the task rows' description */
    const char *calib_kind;        /* "text", "tokens-file" or "task" */
    int calib_seqlen_requested;    /* 0 for a tokens file */
    int calib_samples_requested;
    unsigned long long seed;
    const gq_calib_set *set;
    const char *freqfold_arg;      /* "auto" or the number as given */
    const char *out_dtype;
    int reference;                 /* partial-RoPE reference output */
    int mla_view;
    double paths_max_abs_diff;     /* self check (§6.3); < 0: not run */
    int have_ppl;
    double ppl_orig, ppl_gqla;
    const char *ppl_file;
    int ppl_ctx;
    int argc;                      /* the convert command line, recorded verbatim */
    char **argv;
    const char *tokenizer_note;    /* how the tokenizer files were made */
} gq_gqa_meta_info;

/* gqla_meta.json; hashes every source file (sha256).  Caller deletes. */
cJSON *gq_gqa_meta_json(const gq_model *src, const gq_gqa_result *res, const gq_gqa_meta_info *info, gq_error *err);

#endif
