/* checkpoint.c — a checkpoint folder or file seen as config + named tensors
 * (see checkpoint.h).
 *
 * What it is: the dispatcher between a Hugging Face folder (config.json +
 * model.safetensors, or model.safetensors.index.json + shards) and a GGUF
 * file (llama architecture, through gguf.c / gguf_llama.c), and the check
 * that the tensors are exactly the ones the config implies: every tensor
 * the architecture needs, with the shape the config gives it, and nothing
 * else (leftover rotary_emb.inv_freq buffers are dropped silently).
 * What it is not: the model (no forward pass), the widening of tensors
 * (tensor_load.c), the parsers themselves (safetensors.c, gguf.c, config.c).
 * Tests: tests/test_checkpoint.c (valid, sharded and one case per bad input)
 * and tests/test_info_errors.c (the same bad inputs through `gqla-eval info`).
 */
#define _POSIX_C_SOURCE 200809L
#include "checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fileio.h"
#include "gguf.h"
#include "gguf_llama.h"
#include "gq_alloc.h"
#include "json_util.h"
#include "quant.h"
#include "safetensors.h"

#define GQ_CK_NAME_MAX 256

struct gq_checkpoint {
    gq_checkpoint_format format;
    char *path;                    /* as given to gq_checkpoint_open */
    char *config_path;             /* HF: DIR/config.json; GGUF: the file (messages) */
    char *tensor_source;           /* model.safetensors, the index, or the .gguf (messages) */
    gq_config cfg;
    gq_safetensors **shards;       /* [n_shards] HF only */
    size_t n_shards;
    gq_gguf *gguf;                 /* GGUF only */
    gq_tensor_ref *tensors;        /* [n] copies under HF names */
    size_t n, cap;
    int names_owned;               /* GGUF: tensors[i].name are our heap copies */
    char **view_names;             /* HF: names of phi3's split row views (heap copies) */
    size_t n_view_names;
    const gq_tensor_ref **by_name; /* [n] sorted by name */
};

// ---------------------------------------------------------------------------
// tensor list

/* rotary_emb.inv_freq: a buffer old transformers versions saved; it is
 * derived from the config, so a leftover copy is dropped, not an error. */
static int is_ignored_leftover(const char *name)
{
    const char *suffix = "rotary_emb.inv_freq";
    size_t n = strlen(name), s = strlen(suffix);
    return n >= s && strcmp(name + n - s, suffix) == 0;
}

static int add_tensor(gq_checkpoint *ck, const gq_tensor_ref *t, gq_error *err)
{
    if (ck->n == ck->cap) {
        size_t cap = ck->cap ? ck->cap * 2 : 64, bytes;
        if (!gq_size_mul(cap, sizeof *ck->tensors, &bytes))
            return gq_error_set(err, GQ_ERR_NOMEM, "%s: too many tensors", ck->path);
        gq_tensor_ref *nt = gq_realloc(ck->tensors, bytes, "checkpoint tensor list", err);
        if (!nt) return GQ_ERR_NOMEM;
        ck->tensors = nt;
        ck->cap = cap;
    }
    ck->tensors[ck->n++] = *t;
    return GQ_OK;
}

static int cmp_ref_name(const void *a, const void *b)
{
    const gq_tensor_ref *x = *(const gq_tensor_ref *const *)a, *y = *(const gq_tensor_ref *const *)b;
    return strcmp(x->name, y->name);
}

static int build_index(gq_checkpoint *ck, gq_error *err)
{
    ck->by_name = gq_calloc(ck->n, sizeof *ck->by_name, "checkpoint name index", err);
    if (!ck->by_name) return GQ_ERR_NOMEM;
    for (size_t i = 0; i < ck->n; i++) ck->by_name[i] = &ck->tensors[i];
    qsort(ck->by_name, ck->n, sizeof *ck->by_name, cmp_ref_name);
    for (size_t i = 1; i < ck->n; i++)
        if (strcmp(ck->by_name[i - 1]->name, ck->by_name[i]->name) == 0)
            return gq_error_set(err, GQ_ERR_FORMAT, "%s: tensor '%s' appears twice (in %s and %s)",
                                ck->tensor_source, ck->by_name[i]->name, ck->by_name[i - 1]->file,
                                ck->by_name[i]->file);
    return GQ_OK;
}

// ---------------------------------------------------------------------------
// Hugging Face folder

static int add_shard(gq_checkpoint *ck, gq_safetensors *st, gq_error *err)
{
    size_t bytes;
    if (!gq_size_mul(ck->n_shards + 1, sizeof *ck->shards, &bytes))
        return gq_error_set(err, GQ_ERR_NOMEM, "%s: too many shards", ck->path);
    gq_safetensors **ns = gq_realloc(ck->shards, bytes, "checkpoint shard list", err);
    if (!ns) return GQ_ERR_NOMEM;
    ck->shards = ns;
    ck->shards[ck->n_shards++] = st;
    return GQ_OK;
}

static int add_shard_tensors(gq_checkpoint *ck, const gq_safetensors *st, gq_error *err)
{
    for (size_t i = 0; i < gq_safetensors_count(st); i++) {
        const gq_tensor_ref *t = gq_safetensors_tensor(st, i);
        if (is_ignored_leftover(t->name)) continue;
        int rc = add_tensor(ck, t, err);
        if (rc != GQ_OK) return rc;
    }
    return GQ_OK;
}

/* One weight_map entry: tensor name -> index of its shard in ck->shards. */
typedef struct map_entry {
    const char *name;
    size_t shard;
} map_entry;

static int cmp_map_entry(const void *a, const void *b)
{
    return strcmp(((const map_entry *)a)->name, ((const map_entry *)b)->name);
}

static int plain_file_name(const char *s)
{
    return *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* model.safetensors.index.json: open every shard it names (each once),
 * check that every mapped name is in its shard and that every tensor of
 * every shard is mapped to that shard (so none lives in two). */
static int open_sharded(gq_checkpoint *ck, const char *dir, const char *index_path, gq_error *err)
{
    cJSON *root = NULL;
    map_entry *map = NULL;
    const char **shard_names = NULL; /* [n_shards], point into root */
    char *shard_path = NULL;
    size_t n_map = 0;
    int rc;

    rc = gq_json_load_file(&root, index_path, err);
    if (rc != GQ_OK) goto fail;
    const cJSON *wm = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "weight_map") : NULL;
    if (!wm) {
        rc = gq_error_set(err, GQ_ERR_INVALID,
                          "%s: missing required key 'weight_map' (an object of tensor name -> shard "
                          "file)",
                          index_path);
        goto fail;
    }
    if (!cJSON_IsObject(wm)) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: 'weight_map' must be an object of tensor name -> "
                                               "shard file", index_path);
        goto fail;
    }
    for (const cJSON *e = wm->child; e; e = e->next) n_map++;
    map = gq_calloc(n_map, sizeof *map, "weight_map", err);
    shard_names = gq_calloc(n_map, sizeof *shard_names, "shard names", err);
    if (!map || !shard_names) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }

    /* Shards in order of first mention; open each once. */
    size_t i = 0;
    for (const cJSON *e = wm->child; e; e = e->next, i++) {
        if (!cJSON_IsString(e) || !plain_file_name(e->valuestring)) {
            rc = gq_error_set(err, GQ_ERR_INVALID,
                              "%s: weight_map['%s'] must be a shard file name inside the folder", index_path,
                              e->string);
            goto fail;
        }
        size_t k = 0;
        while (k < ck->n_shards && strcmp(shard_names[k], e->valuestring) != 0) k++;
        if (k == ck->n_shards) {
            gq_free(shard_path);
            shard_path = gq_path_join(dir, e->valuestring, err);
            if (!shard_path) {
                rc = GQ_ERR_NOMEM;
                goto fail;
            }
            if (!gq_path_exists(shard_path)) {
                rc = gq_error_set(err, GQ_ERR_IO,
                                  "%s: shard '%s' named in the index is missing (%s does not exist); "
                                  "the download may be incomplete",
                                  index_path, e->valuestring, shard_path);
                goto fail;
            }
            gq_safetensors *st = NULL;
            rc = gq_safetensors_open(&st, shard_path, err);
            if (rc != GQ_OK) goto fail;
            rc = add_shard(ck, st, err);
            if (rc != GQ_OK) {
                gq_safetensors_close(st);
                goto fail;
            }
            shard_names[k] = e->valuestring;
        }
        map[i].name = e->string;
        map[i].shard = k;
        if (!gq_safetensors_find(ck->shards[k], e->string)) {
            rc = gq_error_set(err, GQ_ERR_INVALID,
                              "%s: weight_map puts tensor '%s' in '%s', but that shard has no such "
                              "tensor",
                              index_path, e->string, e->valuestring);
            goto fail;
        }
    }

    qsort(map, n_map, sizeof *map, cmp_map_entry);
    for (i = 1; i < n_map; i++) {
        if (strcmp(map[i - 1].name, map[i].name) == 0) {
            rc = gq_error_set(err, GQ_ERR_INVALID, "%s: weight_map lists tensor '%s' twice", index_path,
                              map[i].name);
            goto fail;
        }
    }
    for (size_t k = 0; k < ck->n_shards; k++) {
        const gq_safetensors *st = ck->shards[k];
        for (size_t j = 0; j < gq_safetensors_count(st); j++) {
            const gq_tensor_ref *t = gq_safetensors_tensor(st, j);
            map_entry key = {t->name, 0};
            const map_entry *m = bsearch(&key, map, n_map, sizeof *map, cmp_map_entry);
            if (!m && is_ignored_leftover(t->name)) continue;
            if (!m) {
                rc = gq_error_set(err, GQ_ERR_INVALID,
                                  "%s: shard '%s' holds tensor '%s', which the index does not list",
                                  index_path, shard_names[k], t->name);
                goto fail;
            }
            if (m->shard != k) {
                rc = gq_error_set(err, GQ_ERR_INVALID,
                                  "%s: tensor '%s' is stored in shard '%s' too, but the index maps it "
                                  "to '%s'; a tensor must live in exactly one shard",
                                  index_path, t->name, shard_names[k], shard_names[m->shard]);
                goto fail;
            }
        }
        rc = add_shard_tensors(ck, st, err);
        if (rc != GQ_OK) goto fail;
    }

fail:
    gq_free(shard_path);
    gq_free(shard_names);
    gq_free(map);
    cJSON_Delete(root);
    return rc;
}

static int open_hf(gq_checkpoint *ck, gq_error *err)
{
    const char *dir = ck->path;
    char *single = NULL, *index = NULL, *bin = NULL, *meta = NULL;
    int rc;

    ck->format = GQ_CHECKPOINT_HF;
    ck->config_path = gq_path_join(dir, "config.json", err);
    single = gq_path_join(dir, "model.safetensors", err);
    index = gq_path_join(dir, "model.safetensors.index.json", err);
    bin = gq_path_join(dir, "pytorch_model.bin", err);
    if (!ck->config_path || !single || !index || !bin) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    if (!gq_path_exists(ck->config_path)) {
        rc = gq_error_set(err, GQ_ERR_IO,
                          "%s: no config.json in this folder; a Hugging Face model folder needs "
                          "config.json next to model.safetensors",
                          dir);
        goto fail;
    }
    rc = gq_config_load_json(&ck->cfg, ck->config_path, err);
    if (rc != GQ_OK) goto fail;
    /* A converted checkpoint records its GQA source (cache accounting). */
    meta = gq_path_join(dir, "gqla_meta.json", err);
    if (!meta) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    if (gq_path_exists(meta) && (rc = gq_config_load_source_meta(&ck->cfg, meta, err)) != GQ_OK) goto fail;

    if (gq_path_exists(single)) {
        gq_safetensors *st = NULL;
        ck->tensor_source = single;
        single = NULL;
        rc = gq_safetensors_open(&st, ck->tensor_source, err);
        if (rc != GQ_OK) goto fail;
        rc = add_shard(ck, st, err);
        if (rc != GQ_OK) {
            gq_safetensors_close(st);
            goto fail;
        }
        rc = add_shard_tensors(ck, st, err);
    } else if (gq_path_exists(index)) {
        ck->tensor_source = index;
        index = NULL;
        rc = open_sharded(ck, dir, ck->tensor_source, err);
    } else {
        rc = gq_error_set(err, GQ_ERR_IO, "%s: no model.safetensors or model.safetensors.index.json%s",
                          dir,
                          gq_path_exists(bin) ? " (only pytorch_model.bin, which gqla-eval does not "
                                                "read; convert it to safetensors)"
                                              : "; is this a Hugging Face model folder?");
    }

fail:
    gq_free(single);
    gq_free(index);
    gq_free(bin);
    gq_free(meta);
    return rc;
}

// ---------------------------------------------------------------------------
// GGUF file

/* A tensor under a new HF name (GGUF tensors, split views); the checkpoint
 * owns the copy of the name (in the tensor for GGUF, in view_names for HF). */
static int add_named_tensor(gq_checkpoint *ck, const gq_tensor_ref *t, const char *hf, gq_error *err)
{
    gq_tensor_ref copy = *t;
    copy.rope_unpermute_heads = ck->format == GQ_CHECKPOINT_GGUF ? gq_gguf_llama_rope_permuted_heads(&ck->cfg, hf) : 0;
    copy.name = gq_strdup(hf, err);
    if (!copy.name) return GQ_ERR_NOMEM;
    if (!ck->names_owned) {
        char **nv = gq_realloc(ck->view_names, (ck->n_view_names + 1) * sizeof *nv, "view names", err);
        if (!nv) {
            gq_free((void *)copy.name);
            return GQ_ERR_NOMEM;
        }
        ck->view_names = nv;
        ck->view_names[ck->n_view_names++] = (char *)copy.name;
    }
    int rc = add_tensor(ck, &copy, err);
    if (rc != GQ_OK && ck->names_owned) gq_free((void *)copy.name);
    return rc;
}

/* phi3's fused projections as row views: rows [r0, r0 + rows) of a 2-D
 * tensor are contiguous bytes (a row is a whole number of blocks), so a view
 * is the same tensor with fewer rows and a later start, in any encoding. */
static int add_row_view(gq_checkpoint *ck, const gq_tensor_ref *t, const char *layer_prefix, const char *part,
                        int64_t r0, int64_t rows, gq_error *err)
{
    char hf[GQ_CK_NAME_MAX + 32];
    gq_tensor_ref v = *t;
    size_t row_bytes = t->nbytes / (size_t)t->shape[0];
    size_t lp = strlen(layer_prefix), pl = strlen(part);
    if (lp + pl + sizeof ".weight" > sizeof hf)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: tensor name '%s' is too long", ck->path, t->name);
    memcpy(hf, layer_prefix, lp);
    memcpy(hf + lp, part, pl);
    memcpy(hf + lp + pl, ".weight", sizeof ".weight");
    v.shape[0] = rows;
    v.n_elems = (uint64_t)rows * (uint64_t)t->shape[1];
    v.nbytes = (size_t)rows * row_bytes;
    v.data = (const unsigned char *)t->data + (size_t)r0 * row_bytes;
    v.file_offset = t->file_offset + (uint64_t)r0 * row_bytes;
    return add_named_tensor(ck, &v, hf, err);
}

/* Split blk.N.attn_qkv / HF qkv_proj [(H + 2 Hkv) Dh, D] into q/k/v and
 * phi3's ffn_up / HF gate_up_proj [2I, D] into gate (first I rows) and up,
 * as HF Phi3 chunks them.  *done = 1 when t was one of those. */
static int split_phi3(gq_checkpoint *ck, const gq_tensor_ref *t, const char *hf, int *done, gq_error *err)
{
    const gq_config *c = &ck->cfg;
    const int64_t Hd = c->num_attention_heads * c->head_dim, Kd = c->num_key_value_heads * c->head_dim;
    const int64_t I = c->intermediate_size;
    const char *suffixes[] = {"self_attn.qkv_proj.weight", "mlp.up_proj.weight", "mlp.gate_up_proj.weight"};
    char prefix[GQ_CK_NAME_MAX];
    size_t n = strlen(hf);
    int rc;

    *done = 0;
    for (int k = 0; k < 3; k++) {
        size_t m = strlen(suffixes[k]);
        if (n < m || strcmp(hf + n - m, suffixes[k]) != 0) continue;
        int64_t want = k == 0 ? Hd + 2 * Kd : 2 * I;
        if (t->n_dims != 2 || t->shape[0] != want || t->shape[1] != c->hidden_size)
            return gq_error_set(err, GQ_ERR_INVALID,
                                "%s: tensor '%s' has shape [%lld, %lld], expected the fused [%lld, %lld] of "
                                "phi3 (%s)", ck->path, t->name, (long long)t->shape[0],
                                (long long)t->shape[1], (long long)want, (long long)c->hidden_size,
                                k == 0 ? "q, k, v rows" : "gate rows, then up rows");
        snprintf(prefix, sizeof prefix, "%.*s", (int)(n - m), hf);
        if (k == 0) {
            if ((rc = add_row_view(ck, t, prefix, "self_attn.q_proj", 0, Hd, err)) != GQ_OK) return rc;
            if ((rc = add_row_view(ck, t, prefix, "self_attn.k_proj", Hd, Kd, err)) != GQ_OK) return rc;
            if ((rc = add_row_view(ck, t, prefix, "self_attn.v_proj", Hd + Kd, Kd, err)) != GQ_OK) return rc;
        } else {
            if ((rc = add_row_view(ck, t, prefix, "mlp.gate_proj", 0, I, err)) != GQ_OK) return rc;
            if ((rc = add_row_view(ck, t, prefix, "mlp.up_proj", I, I, err)) != GQ_OK) return rc;
        }
        *done = 1;
    }
    return GQ_OK;
}

/* HF phi3: replace each fused tensor by its views. */
static int split_phi3_hf(gq_checkpoint *ck, gq_error *err)
{
    size_t n0 = ck->n, w = 0;
    unsigned char *drop = gq_calloc(n0 ? n0 : 1, 1, "tensor marks", err);
    int rc = GQ_OK;
    if (!drop) return GQ_ERR_NOMEM;
    for (size_t i = 0; i < n0; i++) {
        gq_tensor_ref t = ck->tensors[i]; /* a copy: add_tensor may move the array */
        int done = 0;
        if ((rc = split_phi3(ck, &t, t.name, &done, err)) != GQ_OK) goto done;
        drop[i] = (unsigned char)done;
    }
    for (size_t i = 0; i < ck->n; i++)
        if (i >= n0 || !drop[i]) ck->tensors[w++] = ck->tensors[i];
    ck->n = w;
done:
    gq_free(drop);
    return rc;
}

static int open_gguf(gq_checkpoint *ck, gq_error *err)
{
    const char *path = ck->path;
    int rc;

    ck->format = GQ_CHECKPOINT_GGUF;
    ck->names_owned = 1;
    ck->config_path = gq_strdup(path, err);
    ck->tensor_source = gq_strdup(path, err);
    if (!ck->config_path || !ck->tensor_source) return GQ_ERR_NOMEM;
    rc = gq_gguf_open(&ck->gguf, path, err);
    if (rc != GQ_OK) return rc;
    rc = gq_gguf_llama_config(ck->gguf, &ck->cfg, err);
    if (rc != GQ_OK) return rc;
    rc = gq_config_validate(&ck->cfg, path, err);
    if (rc != GQ_OK) return rc;

    for (size_t i = 0; i < gq_gguf_tensor_count(ck->gguf); i++) {
        const gq_tensor_ref *t = gq_gguf_tensor(ck->gguf, i);
        char hf[GQ_CK_NAME_MAX];
        if (!gq_gguf_llama_hf_name(t->name, hf, sizeof hf)) {
            /* llama.cpp stores llama3 RoPE frequency factors as a tensor;
             * they are derived from the rope scaling config here. */
            if (strcmp(t->name, "rope_freqs.weight") == 0) continue;
            return gq_error_set(err, GQ_ERR_INVALID,
                                "%s: tensor '%s' is not one of the %s architecture's that gqla-eval maps",
                                path, t->name, ck->cfg.model_type);
        }
        if (ck->cfg.arch == GQ_ARCH_PHI3) {
            int done = 0;
            if ((rc = split_phi3(ck, t, hf, &done, err)) != GQ_OK) return rc;
            if (done) continue;
        }
        if ((rc = add_named_tensor(ck, t, hf, err)) != GQ_OK) return rc;
    }
    return GQ_OK;
}

// ---------------------------------------------------------------------------
// tensors the config implies

static void format_shape(char *buf, size_t size, int n_dims, const int64_t *shape)
{
    size_t at = 0;
    at += (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < n_dims && at < size; d++)
        at += (size_t)snprintf(buf + at, size - at, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (at < size) snprintf(buf + at, size - at, "]");
}

/* What a weight may be stored as: every dtype the widening code reads, but
 * float64 (a checkpoint of doubles is refused, not halved in precision). */
static int is_weight_dtype(gq_dtype t)
{
    return t != GQ_DTYPE_F64 && gq_dequant_supported(t);
}

typedef struct expect_ctx {
    gq_checkpoint *ck;
    unsigned char *used;  /* [ck->n] */
    const char *cfg_name; /* "config.json" or "the GGUF metadata" */
} expect_ctx;

/* Tensor `name` must exist (unless optional) with this shape and a float
 * dtype; marks it used. */
static int expect_tensor(expect_ctx *x, const char *name, int required, int n_dims, int64_t d0,
                         int64_t d1, gq_error *err)
{
    const gq_checkpoint *ck = x->ck;
    const gq_tensor_ref *t = gq_checkpoint_find(ck, name);
    int64_t want[GQ_MAX_DIMS] = {d0, d1, 1, 1};
    char have_s[128], want_s[128];

    if (!t) {
        if (!required) return GQ_OK;
        return gq_error_set(err, GQ_ERR_INVALID,
                            "%s: tensor '%s' is missing; a %s model as described by %s needs it "
                            "(is the checkpoint incomplete, or the config from another model?)",
                            ck->tensor_source, name, ck->cfg.model_type, x->cfg_name);
    }
    x->used[t - ck->tensors] = 1;
    if (!is_weight_dtype(t->dtype))
        return gq_error_set(err, GQ_ERR_INVALID,
                            "%s: tensor '%s' has dtype %s; weights must be F32, F16 or BF16 (or a "
                            "GGUF Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 or K-quant block type)",
                            t->file, name, gq_dtype_name(t->dtype));
    int same = t->n_dims == n_dims;
    for (int d = 0; same && d < n_dims; d++) same = t->shape[d] == want[d];
    if (!same) {
        format_shape(have_s, sizeof have_s, t->n_dims, t->shape);
        format_shape(want_s, sizeof want_s, n_dims, want);
        return gq_error_set(err, GQ_ERR_INVALID, "%s: tensor '%s' has shape %s, %s implies %s", t->file,
                            name, have_s, x->cfg_name, want_s);
    }
    return GQ_OK;
}

/* GQA architectures (llama, mistral, qwen2, qwen3, phi3 after its split):
 * conversion.md §1.1 and §1.3; qwen3 adds per-head q/k norms [Dh]. */
static int expect_gqa(expect_ctx *x, gq_error *err)
{
    const gq_config *c = &x->ck->cfg;
    const int64_t D = c->hidden_size, I = c->intermediate_size, V = c->vocab_size;
    const int64_t Hd = c->num_attention_heads * c->head_dim, Kd = c->num_key_value_heads * c->head_dim;
    /* qwen2: q/k/v biases; llama with attention_bias: q/k/v/o biases. */
    const int qkv_bias = c->attention_bias;
    const int o_bias = c->attention_bias && c->arch == GQ_ARCH_LLAMA;
    char n[GQ_CK_NAME_MAX];
    int rc;

    if ((rc = expect_tensor(x, "model.embed_tokens.weight", 1, 2, V, D, err)) != GQ_OK) return rc;
    if ((rc = expect_tensor(x, "model.norm.weight", 1, 1, D, 1, err)) != GQ_OK) return rc;
    /* Tied checkpoints may still carry a copy of lm_head; it must then fit. */
    if ((rc = expect_tensor(x, "lm_head.weight", !c->tie_word_embeddings, 2, V, D, err)) != GQ_OK)
        return rc;

    for (int64_t l = 0; l < c->num_hidden_layers; l++) {
        const struct {
            const char *suffix;
            int required, n_dims;
            int64_t d0, d1;
        } per_layer[] = {
            {"input_layernorm.weight", 1, 1, D, 1},
            {"post_attention_layernorm.weight", 1, 1, D, 1},
            {"self_attn.q_proj.weight", 1, 2, Hd, D},
            {"self_attn.k_proj.weight", 1, 2, Kd, D},
            {"self_attn.v_proj.weight", 1, 2, Kd, D},
            {"self_attn.o_proj.weight", 1, 2, D, Hd},
            {"self_attn.q_proj.bias", qkv_bias, 1, Hd, 1},
            {"self_attn.k_proj.bias", qkv_bias, 1, Kd, 1},
            {"self_attn.v_proj.bias", qkv_bias, 1, Kd, 1},
            {"self_attn.o_proj.bias", o_bias, 1, D, 1},
            {"self_attn.q_norm.weight", c->qk_norm, 1, c->head_dim, 1},
            {"self_attn.k_norm.weight", c->qk_norm, 1, c->head_dim, 1},
            {"mlp.gate_proj.weight", 1, 2, I, D},
            {"mlp.up_proj.weight", 1, 2, I, D},
            {"mlp.down_proj.weight", 1, 2, D, I},
        };
        for (size_t k = 0; k < sizeof per_layer / sizeof per_layer[0]; k++) {
            /* A bias the config does not ask for is left unmarked, so it is
             * reported below as a tensor the config does not explain. */
            if (!per_layer[k].required) continue;
            snprintf(n, sizeof n, "model.layers.%lld.%s", (long long)l, per_layer[k].suffix);
            rc = expect_tensor(x, n, 1, per_layer[k].n_dims, per_layer[k].d0, per_layer[k].d1, err);
            if (rc != GQ_OK) return rc;
        }
    }
    return GQ_OK;
}

/* MLA / GQLA architectures (deepseek_v2, deepseek_v3, gqla): conversion.md
 * §1.4 and §5.1, dense SwiGLU layers only.  N_kv = num_key_value_heads
 * blocks of kv_b_proj (H for MLA, G for GQLA).  Biases are optional on
 * every projection that may carry one (used iff present, §1.4); the latent
 * norms exist iff qk_latent_layernorm. */
static int expect_mla(expect_ctx *x, gq_error *err)
{
    const gq_config *c = &x->ck->cfg;
    const int64_t D = c->hidden_size, I = c->intermediate_size, V = c->vocab_size;
    const int64_t H = c->num_attention_heads, N = c->num_key_value_heads;
    const int64_t dn = c->qk_nope_head_dim, dr = c->qk_rope_head_dim, dv = c->v_head_dim;
    const int64_t r = c->kv_lora_rank, rq = c->q_lora_rank, Q = H * (dn + dr);
    const int norms = c->qk_latent_layernorm;
    char n[GQ_CK_NAME_MAX];
    int rc;

    if (gq_config_has_moe(c))
        return gq_error_set(err, GQ_ERR_UNSUPPORTED,
                            "%s: layers %lld..%lld are MoE layers (first_k_dense_replace = %lld, "
                            "n_routed_experts = %lld); gqla-eval runs dense SwiGLU layers only "
                            "(first_k_dense_replace = num_hidden_layers)",
                            x->ck->config_path, (long long)c->first_k_dense_replace,
                            (long long)c->num_hidden_layers - 1, (long long)c->first_k_dense_replace,
                            (long long)c->n_routed_experts);
    if ((rc = expect_tensor(x, "model.embed_tokens.weight", 1, 2, V, D, err)) != GQ_OK) return rc;
    if ((rc = expect_tensor(x, "model.norm.weight", 1, 1, D, 1, err)) != GQ_OK) return rc;
    if ((rc = expect_tensor(x, "lm_head.weight", !c->tie_word_embeddings, 2, V, D, err)) != GQ_OK) return rc;

    for (int64_t l = 0; l < c->num_hidden_layers; l++) {
        const struct {
            const char *suffix;
            int use, required, n_dims;
            int64_t d0, d1;
        } per_layer[] = {
            {"input_layernorm.weight", 1, 1, 1, D, 1},
            {"post_attention_layernorm.weight", 1, 1, 1, D, 1},
            {"self_attn.q_proj.weight", rq == 0, 1, 2, Q, D},
            {"self_attn.q_proj.bias", rq == 0, 0, 1, Q, 1},
            {"self_attn.q_a_proj.weight", rq > 0, 1, 2, rq, D},
            {"self_attn.q_a_proj.bias", rq > 0, 0, 1, rq, 1},
            {"self_attn.q_a_layernorm.weight", rq > 0 && norms, 1, 1, rq, 1},
            {"self_attn.q_b_proj.weight", rq > 0, 1, 2, Q, rq},
            {"self_attn.q_b_proj.bias", rq > 0, 0, 1, Q, 1},
            {"self_attn.kv_a_proj_with_mqa.weight", 1, 1, 2, r + dr, D},
            {"self_attn.kv_a_proj_with_mqa.bias", 1, 0, 1, r + dr, 1},
            {"self_attn.kv_a_layernorm.weight", norms, 1, 1, r, 1},
            {"self_attn.kv_b_proj.weight", 1, 1, 2, N * (dn + dv), r},
            {"self_attn.o_proj.weight", 1, 1, 2, D, H * dv},
            {"self_attn.o_proj.bias", 1, 0, 1, D, 1},
            {"mlp.gate_proj.weight", 1, 1, 2, I, D},
            {"mlp.up_proj.weight", 1, 1, 2, I, D},
            {"mlp.down_proj.weight", 1, 1, 2, D, I},
        };
        for (size_t k = 0; k < sizeof per_layer / sizeof per_layer[0]; k++) {
            /* A tensor of the other variant (q_proj next to q_a_proj, a norm
             * with qk_latent_layernorm false) stays unmarked and is reported
             * below as a tensor the config does not explain. */
            if (!per_layer[k].use) continue;
            snprintf(n, sizeof n, "model.layers.%lld.%s", (long long)l, per_layer[k].suffix);
            rc = expect_tensor(x, n, per_layer[k].required, per_layer[k].n_dims, per_layer[k].d0,
                               per_layer[k].d1, err);
            if (rc != GQ_OK) return rc;
        }
    }
    return GQ_OK;
}

static int validate_tensors(gq_checkpoint *ck, gq_error *err)
{
    expect_ctx x = {ck, NULL, ck->format == GQ_CHECKPOINT_GGUF ? "the GGUF metadata" : "config.json"};
    int rc = GQ_OK;

    x.used = gq_calloc(ck->n, 1, "tensor marks", err);
    if (!x.used) return GQ_ERR_NOMEM;
    if (ck->cfg.arch == GQ_ARCH_DEEPSEEK_MLA || ck->cfg.arch == GQ_ARCH_GQLA) rc = expect_mla(&x, err);
    else rc = expect_gqa(&x, err);
    if (rc != GQ_OK) goto fail;

    size_t n_extra = 0;
    char list[512];
    size_t at = 0;
    list[0] = '\0';
    for (size_t i = 0; i < ck->n; i++) {
        if (x.used[i]) continue;
        if (n_extra < 3 && at < sizeof list)
            at += (size_t)snprintf(list + at, sizeof list - at, "%s'%s'", n_extra ? ", " : "",
                                   ck->tensors[i].name);
        n_extra++;
    }
    if (n_extra > 0)
        rc = gq_error_set(err, GQ_ERR_INVALID,
                          "%s: %zu tensor%s that a %s model as described by %s does not have: %s%s; "
                          "is the config from the same model?",
                          ck->tensor_source, n_extra, n_extra == 1 ? "" : "s", ck->cfg.model_type,
                          x.cfg_name, list, n_extra > 3 ? ", ..." : "");

fail:
    gq_free(x.used);
    return rc;
}

// ---------------------------------------------------------------------------
// public

static int looks_like_gguf(const char *path)
{
    size_t n = strlen(path);
    if (n >= 5 && strcmp(path + n - 5, ".gguf") == 0) return 1;
    unsigned char magic[4] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t got = fread(magic, 1, 4, f);
    fclose(f);
    return got == 4 && memcmp(magic, "GGUF", 4) == 0;
}

int gq_checkpoint_open(gq_checkpoint **out, const char *path, gq_error *err)
{
    gq_checkpoint *ck = NULL;
    int rc;

    *out = NULL;
    ck = gq_calloc(1, sizeof *ck, "checkpoint", err);
    if (!ck) return GQ_ERR_NOMEM;
    ck->path = gq_strdup(path, err);
    if (!ck->path) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    if (gq_path_is_dir(path)) {
        rc = open_hf(ck, err);
        if (rc == GQ_OK && ck->cfg.arch == GQ_ARCH_PHI3) rc = split_phi3_hf(ck, err);
    } else if (!gq_path_exists(path)) {
        rc = gq_error_set(err, GQ_ERR_IO, "%s: no such file or folder", path);
    } else if (looks_like_gguf(path)) {
        rc = open_gguf(ck, err);
    } else {
        rc = gq_error_set(err, GQ_ERR_INVALID,
                          "%s: not a model folder or a .gguf file; pass a Hugging Face folder "
                          "(config.json + model.safetensors) or a GGUF file",
                          path);
    }
    if (rc != GQ_OK) goto fail;
    if ((rc = build_index(ck, err)) != GQ_OK) goto fail;
    if ((rc = validate_tensors(ck, err)) != GQ_OK) goto fail;
    *out = ck;
    return GQ_OK;

fail:
    gq_checkpoint_close(ck);
    return rc;
}

void gq_checkpoint_close(gq_checkpoint *ck)
{
    if (!ck) return;
    if (ck->names_owned)
        for (size_t i = 0; i < ck->n; i++) gq_free((void *)ck->tensors[i].name);
    for (size_t i = 0; i < ck->n_view_names; i++) gq_free(ck->view_names[i]);
    gq_free(ck->view_names);
    gq_free(ck->tensors);
    gq_free(ck->by_name);
    for (size_t i = 0; i < ck->n_shards; i++) gq_safetensors_close(ck->shards[i]);
    gq_free(ck->shards);
    if (ck->gguf) gq_gguf_close(ck->gguf);
    gq_free(ck->tensor_source);
    gq_free(ck->config_path);
    gq_free(ck->path);
    gq_free(ck);
}

gq_checkpoint_format gq_checkpoint_format_of(const gq_checkpoint *ck) { return ck->format; }
const char *gq_checkpoint_path(const gq_checkpoint *ck) { return ck->path; }
const gq_config *gq_checkpoint_config(const gq_checkpoint *ck) { return &ck->cfg; }
size_t gq_checkpoint_tensor_count(const gq_checkpoint *ck) { return ck ? ck->n : 0; }

const gq_tensor_ref *gq_checkpoint_tensor(const gq_checkpoint *ck, size_t i)
{
    return (ck && i < ck->n) ? &ck->tensors[i] : NULL;
}

const gq_tensor_ref *gq_checkpoint_find(const gq_checkpoint *ck, const char *name)
{
    if (!ck || !name || !ck->by_name) return NULL;
    size_t lo = 0, hi = ck->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, ck->by_name[mid]->name);
        if (c == 0) return ck->by_name[mid];
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

const struct gq_gguf *gq_checkpoint_gguf(const gq_checkpoint *ck)
{
    return ck && ck->format == GQ_CHECKPOINT_GGUF ? ck->gguf : NULL;
}
