/* gqa_output.c — see gqa_output.h. */
#include "gqa_output.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint.h"
#include "fileio.h"
#include "gq_alloc.h"
#include "json_util.h"
#include "model_internal.h"
#include "output.h"
#include "sha256.h"

static int is_attention(const char *name) { return strstr(name, ".self_attn.") != NULL; }

/* A source tensor as-is when its dtype can be written, else widened. */
static int add_source_tensor(gq_convert_out *o, const gq_tensor_ref *t, gq_dtype out_dtype, gq_error *err)
{
    if (t->dtype == GQ_DTYPE_F32 || t->dtype == GQ_DTYPE_F16 || t->dtype == GQ_DTYPE_BF16)
        return gq_out_add(o, t->name, t->dtype, t->n_dims, t->shape, t->data, 0, err);
    float *w = gq_malloc((size_t)t->n_elems * sizeof(float), t->name, err);
    if (!w) return GQ_ERR_NOMEM;
    int rc = gq_tensor_load_f32(t, w, err);
    if (rc != GQ_OK) {
        gq_free(w);
        return rc;
    }
    return gq_out_add_f32(o, t->name, t->n_dims, t->shape, w, 1, out_dtype, err);
}

static int add_layer_tensor(gq_convert_out *o, int l, const char *suffix, float *data, int n_dims, int64_t a, int64_t b,
                            gq_dtype out_dtype, gq_error *err)
{
    if (!data) return GQ_OK;
    char name[160];
    int64_t shape[2] = {a, b};
    snprintf(name, sizeof name, "model.layers.%d.self_attn.%s", l, suffix);
    return gq_out_add_f32(o, name, n_dims, shape, data, 0, out_dtype, err);
}

/* kv_b_proj [G*2d, r] -> [H*2d, r]: block h = block h / gs. */
static float *repeat_blocks(const gq_gqa_dims *dm, const float *kvb, gq_error *err)
{
    size_t blk = (size_t)2 * dm->d * dm->r;
    float *out = gq_malloc((size_t)dm->H * blk * sizeof(float), "kv_b_proj (MLA view)", err);
    if (out)
        for (int h = 0; h < dm->H; h++) memcpy(out + (size_t)h * blk, kvb + (size_t)(h / dm->gs) * blk, blk * sizeof(float));
    return out;
}

int gq_gqa_add_tensors(gq_convert_out *o, gq_model *src, const gq_gqa_result *res, gq_dtype out_dtype, int mla_view,
                       gq_error *err)
{
    const gq_checkpoint *ck = gq_model_checkpoint(src);
    const gq_gqa_dims *dm = &res->dims;
    int rc = GQ_OK;
    for (size_t i = 0; i < gq_checkpoint_tensor_count(ck) && rc == GQ_OK; i++) {
        const gq_tensor_ref *t = gq_checkpoint_tensor(ck, i);
        if (!is_attention(t->name)) rc = add_source_tensor(o, t, out_dtype, err);
    }
    const int64_t D = dm->D, Qd = (int64_t)dm->H * (dm->d + dm->dr), r = dm->r, dr = dm->dr;
    for (int l = 0; l < res->n_layers && rc == GQ_OK; l++) {
        const gq_gqa_layer *ly = &res->layers[l];
        if (ly->wq) {
            rc = add_layer_tensor(o, l, "q_proj.weight", ly->wq, 2, Qd, D, out_dtype, err);
            if (rc == GQ_OK) rc = add_layer_tensor(o, l, "q_proj.bias", ly->bq, 1, Qd, 1, out_dtype, err);
        } else {
            rc = add_layer_tensor(o, l, "q_a_proj.weight", ly->wq_a, 2, dm->rq, D, out_dtype, err);
            if (rc == GQ_OK) rc = add_layer_tensor(o, l, "q_b_proj.weight", ly->wq_b, 2, Qd, dm->rq, out_dtype, err);
            if (rc == GQ_OK) rc = add_layer_tensor(o, l, "q_b_proj.bias", ly->bq_b, 1, Qd, 1, out_dtype, err);
        }
        if (rc == GQ_OK) rc = add_layer_tensor(o, l, "q_a_layernorm.weight", ly->q_a_norm, 1, dm->rq, 1, out_dtype, err);
        if (rc == GQ_OK) rc = add_layer_tensor(o, l, "kv_a_layernorm.weight", ly->kv_a_norm, 1, r, 1, out_dtype, err);
        if (rc == GQ_OK) rc = add_layer_tensor(o, l, "kv_a_proj_with_mqa.weight", ly->wkv_a, 2, r + dr, D, out_dtype, err);
        if (rc == GQ_OK) rc = add_layer_tensor(o, l, "kv_a_proj_with_mqa.bias", ly->bkv_a, 1, r + dr, 1, out_dtype, err);
        if (rc == GQ_OK && !mla_view)
            rc = add_layer_tensor(o, l, "kv_b_proj.weight", ly->wkv_b, 2, (int64_t)dm->G * 2 * dm->d, r, out_dtype, err);
        if (rc == GQ_OK && mla_view) {
            float *rep = repeat_blocks(dm, ly->wkv_b, err);
            char name[160];
            int64_t shape[2] = {(int64_t)dm->H * 2 * dm->d, r};
            snprintf(name, sizeof name, "model.layers.%d.self_attn.kv_b_proj.weight", l);
            rc = rep ? gq_out_add_f32(o, name, 2, shape, rep, 1, out_dtype, err) : GQ_ERR_NOMEM;
        }
        /* o_proj (+ bias) unchanged */
        for (int k = 0; k < 2 && rc == GQ_OK; k++) {
            char name[160];
            snprintf(name, sizeof name, "model.layers.%d.self_attn.o_proj.%s", l, k ? "bias" : "weight");
            const gq_tensor_ref *t = gq_checkpoint_find(ck, name);
            if (t) rc = add_source_tensor(o, t, out_dtype, err);
        }
    }
    return rc;
}

static void set_item(cJSON *obj, const char *key, cJSON *v)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, key)) cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v);
    else cJSON_AddItemToObject(obj, key, v);
}
static void set_int(cJSON *o, const char *k, long long v) { set_item(o, k, cJSON_CreateNumber((double)v)); }
static void set_num(cJSON *o, const char *k, double v) { set_item(o, k, cJSON_CreateNumber(v)); }
static void set_bool(cJSON *o, const char *k, int v) { set_item(o, k, cJSON_CreateBool(v)); }
static void set_str(cJSON *o, const char *k, const char *v) { set_item(o, k, cJSON_CreateString(v)); }
static void set_null(cJSON *o, const char *k) { set_item(o, k, cJSON_CreateNull()); }

/* A config.json for a source without one (GGUF), from the parsed config. */
static cJSON *config_from_parsed(const gq_config *c)
{
    cJSON *o = cJSON_CreateObject();
    set_int(o, "hidden_size", c->hidden_size);
    set_int(o, "intermediate_size", c->intermediate_size);
    set_int(o, "num_hidden_layers", c->num_hidden_layers);
    set_int(o, "vocab_size", c->vocab_size);
    set_int(o, "max_position_embeddings", c->max_position_embeddings);
    set_num(o, "rms_norm_eps", c->rms_norm_eps);
    set_num(o, "rope_theta", c->rope_theta);
    set_str(o, "hidden_act", "silu");
    set_bool(o, "tie_word_embeddings", c->tie_word_embeddings);
    if (c->bos_token_id >= 0) set_int(o, "bos_token_id", c->bos_token_id);
    if (c->eos_token_id >= 0) set_int(o, "eos_token_id", c->eos_token_id);
    if (c->rope_scaling.type == GQ_ROPE_SCALING_LLAMA3) {
        cJSON *rs = cJSON_CreateObject();
        set_str(rs, "rope_type", "llama3");
        set_num(rs, "factor", c->rope_scaling.factor);
        set_num(rs, "low_freq_factor", c->rope_scaling.low_freq_factor);
        set_num(rs, "high_freq_factor", c->rope_scaling.high_freq_factor);
        set_int(rs, "original_max_position_embeddings", c->rope_scaling.original_max_position_embeddings);
        set_item(o, "rope_scaling", rs);
    } else {
        set_null(o, "rope_scaling");
    }
    return o;
}

cJSON *gq_gqa_config_json(const gq_model *src, const gq_gqa_dims *dm, gq_dtype out_dtype, int mla_view, gq_error *err)
{
    const gq_checkpoint *ck = gq_model_checkpoint(src);
    const gq_config *c = gq_model_config(src);
    cJSON *o = NULL;
    if (gq_checkpoint_format_of(ck) == GQ_CHECKPOINT_HF) {
        char *p = gq_path_join(gq_checkpoint_path(ck), "config.json", err);
        if (!p) return NULL;
        int rc = gq_json_load_file(&o, p, err);
        gq_free(p);
        if (rc != GQ_OK) return NULL;
    } else {
        o = config_from_parsed(c);
    }
    if (!o) {
        gq_error_set(err, GQ_ERR_NOMEM, "out of memory building config.json");
        return NULL;
    }
    cJSON *arch = cJSON_CreateArray();
    cJSON_AddItemToArray(arch, cJSON_CreateString("DeepseekV3ForCausalLM"));
    set_item(o, "architectures", arch);
    set_str(o, "model_type", "deepseek_v3");
    set_int(o, "num_attention_heads", dm->H);
    set_int(o, "num_key_value_heads", mla_view ? dm->H : dm->G);
    if (dm->rq) set_int(o, "q_lora_rank", dm->rq);
    else set_null(o, "q_lora_rank");
    set_int(o, "kv_lora_rank", dm->r);
    set_int(o, "qk_nope_head_dim", dm->d);
    set_int(o, "qk_rope_head_dim", dm->dr);
    set_int(o, "v_head_dim", dm->d);
    set_int(o, "head_dim", dm->dr);
    set_bool(o, "rope_interleave", 1);
    set_bool(o, "qk_latent_layernorm", dm->latent_norm);
    set_num(o, "latent_norm_eps", c->rms_norm_eps);
    set_bool(o, "attention_bias", dm->has_q_bias || dm->has_kv_bias || dm->has_o_bias);
    set_int(o, "first_k_dense_replace", c->num_hidden_layers);
    set_null(o, "n_routed_experts");
    set_null(o, "n_shared_experts");
    set_int(o, "moe_intermediate_size", c->intermediate_size);
    set_str(o, "torch_dtype", out_dtype == GQ_DTYPE_BF16 ? "bfloat16" : "float32");
    /* Keys of the source architecture that mean something else here. */
    cJSON_DeleteItemFromObjectCaseSensitive(o, "auto_map");
    return o;
}

/* sha256 of every distinct file the source tensors (and config) come from. */
static int hash_sources(const gq_model *src, cJSON *out, gq_error *err)
{
    const gq_checkpoint *ck = gq_model_checkpoint(src);
    size_t n = gq_checkpoint_tensor_count(ck);
    const char **files = gq_calloc(n + 2, sizeof *files, "source files", err);
    if (!files) return GQ_ERR_NOMEM;
    size_t nf = 0;
    char *cfg = NULL;
    if (gq_checkpoint_format_of(ck) == GQ_CHECKPOINT_HF) {
        cfg = gq_path_join(gq_checkpoint_path(ck), "config.json", err);
        if (cfg) files[nf++] = cfg;
    }
    for (size_t i = 0; i < n; i++) {
        const char *f = gq_checkpoint_tensor(ck, i)->file;
        int seen = 0;
        for (size_t k = 0; k < nf && !seen; k++) seen = f && strcmp(files[k], f) == 0;
        if (f && !seen) files[nf++] = f;
    }
    int rc = GQ_OK;
    for (size_t k = 0; k < nf && rc == GQ_OK; k++) {
        gq_mapped_file mf;
        rc = gq_file_map(&mf, files[k], err);
        if (rc != GQ_OK) break;
        char hex[65];
        gq_sha256_hex(mf.data ? mf.data : (const unsigned char *)"", mf.size, hex);
        gq_file_unmap(&mf);
        const char *base = strrchr(files[k], '/');
        cJSON_AddStringToObject(out, base ? base + 1 : files[k], hex);
    }
    gq_free(cfg);
    gq_free(files);
    return rc;
}

static cJSON *num_array(const gq_gqa_result *res, size_t field_offset)
{
    cJSON *a = cJSON_CreateArray();
    for (int l = 0; l < res->n_layers; l++) {
        const double *v = (const double *)((const char *)&res->layers[l] + field_offset);
        cJSON_AddItemToArray(a, cJSON_CreateNumber(*v));
    }
    return a;
}

cJSON *gq_gqa_meta_json(const gq_model *src, const gq_gqa_result *res, const gq_gqa_meta_info *in, gq_error *err)
{
    const gq_config *c = gq_model_config(src);
    const gq_gqa_dims *dm = &res->dims;
    cJSON *o = cJSON_CreateObject();
    char ver[64];
    snprintf(ver, sizeof ver, "gqla-eval %s", in->converter_version);
    set_str(o, "format", "gqla-meta");
    set_int(o, "version", 1);
    set_str(o, "converter", ver);
    set_str(o, "method", in->reference ? "transmla-gqa-partial-rope-reference" : "transmla-gqa");
    cJSON *cl = cJSON_CreateArray();
    for (int i = 0; i < in->argc; i++) cJSON_AddItemToArray(cl, cJSON_CreateString(in->argv[i]));
    set_item(o, "command_line", cl);
    if (in->tokenizer_note) set_str(o, "tokenizer", in->tokenizer_note);
    cJSON *s = cJSON_AddObjectToObject(o, "source");
    set_str(s, "path", in->source_path);
    set_str(s, "model_type", c->model_type);
    set_str(s, "format", gq_checkpoint_format_of(gq_model_checkpoint(src)) == GQ_CHECKPOINT_GGUF ? "gguf" : "hf");
    cJSON *sha = cJSON_AddObjectToObject(s, "file_sha256");
    if (hash_sources(src, sha, err) != GQ_OK) {
        cJSON_Delete(o);
        return NULL;
    }
    set_int(s, "num_key_value_heads", dm->G);
    set_int(s, "head_dim", dm->d);
    set_int(s, "num_attention_heads", dm->H);
    gq_meta_dims md = {dm->H, dm->G, dm->d, dm->dr, dm->d, dm->r, dm->rq, "interleaved", dm->latent_norm,
                       c->rms_norm_eps};
    cJSON *dims = NULL, *lay = NULL;
    gq_meta_add_dims_layout(o, &md, &dims, &lay);
    set_int(dims, "r_max", dm->M);
    set_bool(lay, "mla_view", in->mla_view);
    cJSON *rope = cJSON_AddObjectToObject(o, "rope");
    set_num(rope, "theta", c->rope_theta);
    set_str(rope, "scaling", c->rope_scaling.type == GQ_ROPE_SCALING_LLAMA3 ? "llama3" : "default");
    set_int(rope, "source_frequency_stride", dm->c);
    set_num(o, "softmax_scale", 1.0 / sqrt((double)(dm->d + dm->dr)));
    cJSON *t = cJSON_AddObjectToObject(o, "transmla");
    set_int(t, "collapse", dm->c);
    set_int(t, "freqfold", dm->ff);
    set_str(t, "freqfold_arg", in->freqfold_arg);
    cJSON *search = cJSON_CreateArray();
    for (int k = 0; k < res->n_ff_tried; k++) {
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateNumber(res->ff_tried[k]));
        cJSON_AddItemToArray(pair, cJSON_CreateNumber(res->ppl_tried[k]));
        cJSON_AddItemToArray(search, pair);
    }
    set_item(t, "freqfold_search", search);
    set_int(t, "freqfold_search_heldout_samples", res->heldout_samples);
    set_num(t, "balance_kv_ratio", dm->beta);
    set_item(t, "alpha", num_array(res, offsetof(gq_gqa_layer, alpha)));
    set_item(t, "kv_energy_retained", num_array(res, offsetof(gq_gqa_layer, kv_energy)));
    set_item(t, "q_energy_retained", num_array(res, offsetof(gq_gqa_layer, q_energy)));
    set_item(t, "rope_energy_retained", num_array(res, offsetof(gq_gqa_layer, rope_energy)));
    if (!in->reference)
        set_item(t, "attn_rel_err_vs_partial_rope", num_array(res, offsetof(gq_gqa_layer, attn_rel_err)));
    set_bool(t, "use_qkv_norm", dm->latent_norm);
    if (dm->latent_norm) {
        set_item(t, "kv_a_layernorm_init", num_array(res, offsetof(gq_gqa_layer, kv_norm_gamma)));
        if (dm->rq) set_item(t, "q_a_layernorm_init", num_array(res, offsetof(gq_gqa_layer, q_norm_gamma)));
        set_str(t, "latent_norm_note", "mean inverse RMS initialisation (TransMLA --use-qkv-norm); not function-preserving");
    }
    set_str(t, "dtype", in->out_dtype);
    cJSON *cal = cJSON_AddObjectToObject(o, "calibration");
    set_str(cal, "dataset", in->calib_source ? in->calib_source : "");
    set_str(cal, "kind", in->calib_kind);
    set_null(cal, "split");
    set_int(cal, "nsamples", in->set->n_samples);
    set_int(cal, "cal_nsamples", in->set->n_samples);
    set_int(cal, "seqlen", in->calib_seqlen_requested ? in->calib_seqlen_requested : in->set->max_len);
    set_int(cal, "cal_seqlen", in->calib_seqlen_requested ? in->calib_seqlen_requested : in->set->max_len);
    set_int(cal, "n_tokens", in->set->n_tokens);
    if (in->calib_seqlen_requested) set_num(cal, "seed", (double)in->seed);
    else set_null(cal, "seed");
    set_str(cal, "sampler", in->set->sampler);
    char hex[65];
    gq_calib_sha256(in->set, hex);
    set_str(cal, "token_ids_sha256", hex);
    set_str(cal, "statistic", "uncentered");
    set_num(cal, "damping", dm->damping);
    cJSON *kv = cJSON_AddObjectToObject(o, "kv_cache_elements_per_token_per_layer");
    set_int(kv, "source", 2LL * dm->G * dm->d);
    set_int(kv, "absorb", (long long)dm->r + dm->dr);
    set_int(kv, "gqa", (long long)dm->G * 2 * dm->d + dm->dr);
    set_int(kv, "gqa_kpe_per_group", (long long)dm->G * (2 * dm->d + dm->dr));
    cJSON *chk = cJSON_AddObjectToObject(o, "self_check");
    if (in->paths_max_abs_diff >= 0) set_num(chk, "gqa_vs_absorb_max_abs_logprob_diff", in->paths_max_abs_diff);
    else set_null(chk, "gqa_vs_absorb_max_abs_logprob_diff");
    if (in->have_ppl) {
        cJSON *p = cJSON_AddObjectToObject(o, "ppl");
        set_num(p, "ppl_orig", in->ppl_orig);
        set_num(p, "ppl_gqla", in->ppl_gqla);
        set_str(p, "dataset", in->ppl_file);
        set_int(p, "seqlen", in->ppl_ctx);
    }
    return o;
}
