/* checkpoint_fixtures.c — see checkpoint_fixtures.h.
 *
 * Good files go through gq_safetensors_write (so the writer is exercised
 * too); broken headers go through a small raw writer here that builds the
 * header with cJSON and then damages one field.
 */
#define _POSIX_C_SOURCE 200809L
#include "checkpoint_fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gq_error.h"
#include "safetensors.h"
#include "testutil.h"

const ckfix_case ckfix_cases[] = {
    {"valid", GQ_OK, NULL, NULL},
    {"sharded", GQ_OK, NULL, NULL},
    {"tied", GQ_OK, NULL, NULL},
    {"qwen2", GQ_OK, NULL, NULL},
    {"truncated", GQ_ERR_FORMAT, "model.safetensors", "the file may be truncated"},
    {"overlap", GQ_ERR_FORMAT, "model.safetensors", "overlap"},
    {"offsets_past_end", GQ_ERR_FORMAT, "model.safetensors", "end past the data area"},
    {"size_mismatch", GQ_ERR_FORMAT, "model.safetensors", "hold 64 bytes, but shape [15] in F32 needs 60"},
    {"header_len_past_end", GQ_ERR_FORMAT, "model.safetensors", "runs past the end of the file"},
    {"bad_dtype", GQ_ERR_UNSUPPORTED, "model.safetensors", "tensor 'model.norm.weight': dtype 'U8' is not supported"},
    {"config_missing_key", GQ_ERR_INVALID, "config.json", "missing required key 'hidden_size'"},
    {"config_not_json", GQ_ERR_FORMAT, "config.json", "not valid JSON near line 3"},
    {"config_wrong_type", GQ_ERR_INVALID, "config.json", "key 'num_attention_heads' must be an integer, found a string"},
    {"config_heads", GQ_ERR_INVALID, "config.json", "num_attention_heads (4) is not a multiple of num_key_value_heads (3)"},
    {"missing_tensor", GQ_ERR_INVALID, "model.safetensors", "tensor 'model.layers.1.mlp.down_proj.weight' is missing"},
    {"shape_mismatch", GQ_ERR_INVALID, "model.safetensors",
     "tensor 'model.layers.0.mlp.gate_proj.weight' has shape [24, 16], config.json implies [32, 16]"},
    {"extra_tensor", GQ_ERR_INVALID, "model.safetensors", "'model.layers.0.self_attn.q_norm.weight'"},
    {"missing_bias", GQ_ERR_INVALID, "model.safetensors", "tensor 'model.layers.0.self_attn.k_proj.bias' is missing"},
    {"shard_missing", GQ_ERR_IO, "model-00002-of-00002.safetensors", "is missing"},
    {"shard_not_in_index", GQ_ERR_INVALID, "model.safetensors.index.json", "which the index does not list"},
    {"shard_duplicate", GQ_ERR_INVALID, "model.safetensors.index.json", "a tensor must live in exactly one shard"},
    {"index_wrong_shard", GQ_ERR_INVALID, "model.safetensors.index.json", "but that shard has no such tensor"},
    {"no_weights", GQ_ERR_IO, "model.safetensors", "no model.safetensors or model.safetensors.index.json"},
    {NULL, 0, NULL, NULL},
};

const ckfix_case *ckfix_find(const char *name)
{
    for (const ckfix_case *c = ckfix_cases; c->name; c++)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

// ---------------------------------------------------------------------------
// the tiny model in memory

#define FX_MAX 64

typedef struct fx_model {
    gq_safetensors_entry e[FX_MAX];
    char names[FX_MAX][96];
    void *data[FX_MAX];
    size_t nbytes[FX_MAX];
    int n;
} fx_model;

float ckfix_value(const char *name, uint64_t i)
{
    uint32_t h = 5381;
    for (const char *p = name; *p; p++) h = h * 33 + (unsigned char)*p;
    return (float)((int)((i * 7 + h % 17) % 17) - 8) / 16.0f;
}

/* Exact for the fixture's values (k/16, |k| <= 8). */
static uint16_t f32_to_f16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    uint32_t sign = (u >> 16) & 0x8000, e = (u >> 23) & 0xff, m = u & 0x7fffff;
    if (e == 0) return (uint16_t)sign;
    return (uint16_t)(sign | ((e - 127 + 15) << 10) | (m >> 13));
}

static uint16_t f32_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return (uint16_t)(u >> 16);
}

static void fx_add(fx_model *m, const char *name, gq_dtype dt, int nd, int64_t d0, int64_t d1)
{
    if (m->n >= FX_MAX) abort();
    int k = m->n++;
    snprintf(m->names[k], sizeof m->names[k], "%s", name);
    gq_safetensors_entry *e = &m->e[k];
    e->name = m->names[k];
    e->dtype = dt;
    e->n_dims = nd;
    e->shape[0] = d0;
    e->shape[1] = d1;
    e->shape[2] = e->shape[3] = 1;
    size_t n = (size_t)d0 * (size_t)(nd > 1 ? d1 : 1);
    size_t es = dt == GQ_DTYPE_F32 ? 4 : 2;
    unsigned char *p = calloc(n ? n : 1, es);
    if (!p) abort();
    for (size_t i = 0; i < n; i++) {
        float v = ckfix_value(name, i);
        if (dt == GQ_DTYPE_F32) {
            memcpy(p + 4 * i, &v, 4);
        } else {
            uint16_t h = dt == GQ_DTYPE_F16 ? f32_to_f16(v) : f32_to_bf16(v);
            memcpy(p + 2 * i, &h, 2);
        }
    }
    m->data[k] = p;
    m->nbytes[k] = n * es;
    e->data = p;
}

static void fx_free(fx_model *m)
{
    for (int i = 0; i < m->n; i++) free(m->data[i]);
    m->n = 0;
}

static void fx_remove(fx_model *m, const char *name)
{
    for (int i = 0; i < m->n; i++) {
        if (strcmp(m->names[i], name) != 0) continue;
        free(m->data[i]);
        for (int j = i; j + 1 < m->n; j++) {
            m->e[j] = m->e[j + 1];
            memcpy(m->names[j], m->names[j + 1], sizeof m->names[j]);
            m->e[j].name = m->names[j];
            m->data[j] = m->data[j + 1];
            m->nbytes[j] = m->nbytes[j + 1];
        }
        m->n--;
        return;
    }
    abort();
}

static void fx_build(fx_model *m, int qwen2, int tied, int inv_freq)
{
    const int64_t D = CKFIX_D, I = CKFIX_I, V = CKFIX_V;
    const int64_t Hd = CKFIX_H * CKFIX_DH, Kd = CKFIX_HKV * CKFIX_DH;
    char n[96];
    memset(m, 0, sizeof *m);
    fx_add(m, "model.embed_tokens.weight", GQ_DTYPE_BF16, 2, V, D);
    for (int l = 0; l < CKFIX_L; l++) {
#define L_(suffix) (snprintf(n, sizeof n, "model.layers.%d.%s", l, suffix), n)
        fx_add(m, L_("input_layernorm.weight"), GQ_DTYPE_F32, 1, D, 1);
        fx_add(m, L_("self_attn.q_proj.weight"), GQ_DTYPE_F32, 2, Hd, D);
        fx_add(m, L_("self_attn.k_proj.weight"), GQ_DTYPE_F32, 2, Kd, D);
        fx_add(m, L_("self_attn.v_proj.weight"), GQ_DTYPE_F32, 2, Kd, D);
        if (qwen2) {
            fx_add(m, L_("self_attn.q_proj.bias"), GQ_DTYPE_F32, 1, Hd, 1);
            fx_add(m, L_("self_attn.k_proj.bias"), GQ_DTYPE_F32, 1, Kd, 1);
            fx_add(m, L_("self_attn.v_proj.bias"), GQ_DTYPE_F32, 1, Kd, 1);
        }
        fx_add(m, L_("self_attn.o_proj.weight"), GQ_DTYPE_F32, 2, D, Hd);
        if (inv_freq && l == 0) fx_add(m, L_("self_attn.rotary_emb.inv_freq"), GQ_DTYPE_F32, 1, CKFIX_DH / 2, 1);
        fx_add(m, L_("post_attention_layernorm.weight"), GQ_DTYPE_F32, 1, D, 1);
        fx_add(m, L_("mlp.gate_proj.weight"), GQ_DTYPE_F32, 2, I, D);
        fx_add(m, L_("mlp.up_proj.weight"), GQ_DTYPE_F32, 2, I, D);
        fx_add(m, L_("mlp.down_proj.weight"), GQ_DTYPE_F32, 2, D, I);
#undef L_
    }
    fx_add(m, "model.norm.weight", GQ_DTYPE_F32, 1, D, 1);
    if (!tied) fx_add(m, "lm_head.weight", GQ_DTYPE_F16, 2, V, D);
}

// ---------------------------------------------------------------------------
// files

static int write_text(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return test_write_file(path, text, strlen(text));
}

/* config.json; `tweak` is spliced in after the opening brace (keys there
 * win: cJSON returns the first of duplicate keys). */
static int write_config(const char *dir, const char *model_type, const char *tweak)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{%s\n"
             "  \"architectures\": [\"LlamaForCausalLM\"],\n"
             "  \"model_type\": \"%s\",\n"
             "  \"hidden_size\": %d, \"intermediate_size\": %d, \"num_hidden_layers\": %d,\n"
             "  \"num_attention_heads\": %d, \"num_key_value_heads\": %d, \"head_dim\": %d,\n"
             "  \"vocab_size\": %d, \"max_position_embeddings\": 128,\n"
             "  \"rms_norm_eps\": 1e-05, \"rope_theta\": 50000.0, \"hidden_act\": \"silu\",\n"
             "  \"tie_word_embeddings\": false, \"bos_token_id\": 1, \"eos_token_id\": [2, 3],\n"
             "  \"torch_dtype\": \"float32\"\n"
             "}\n",
             tweak ? tweak : "", model_type, CKFIX_D, CKFIX_I, CKFIX_L, CKFIX_H, CKFIX_HKV, CKFIX_DH,
             CKFIX_V);
    return write_text(dir, "config.json", text);
}

static int write_st(const char *dir, const char *name, const gq_safetensors_entry *e, int n)
{
    char path[4096];
    gq_error err;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (gq_safetensors_write(path, e, (size_t)n, &err) != GQ_OK) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
    return 0;
}

typedef enum { DAMAGE_NONE, DAMAGE_OVERLAP, DAMAGE_PAST_END, DAMAGE_SIZE, DAMAGE_HLEN, DAMAGE_DTYPE } damage;

static cJSON *entry_of(cJSON *hdr, const char *name)
{
    cJSON *e = cJSON_GetObjectItemCaseSensitive(hdr, name);
    if (!e) abort();
    return e;
}

/* The same layout gq_safetensors_write produces, with one field damaged. */
static int write_st_damaged(const char *dir, const fx_model *m, damage dmg)
{
    char path[4096];
    cJSON *hdr = cJSON_CreateObject();
    size_t off = 0;
    for (int i = 0; i < m->n; i++) {
        const gq_safetensors_entry *e = &m->e[i];
        cJSON *t = cJSON_AddObjectToObject(hdr, e->name);
        cJSON_AddStringToObject(t, "dtype", gq_dtype_name(e->dtype));
        cJSON *sh = cJSON_AddArrayToObject(t, "shape");
        for (int d = 0; d < e->n_dims; d++) cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)e->shape[d]));
        cJSON *o = cJSON_AddArrayToObject(t, "data_offsets");
        cJSON_AddItemToArray(o, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(o, cJSON_CreateNumber((double)(off + m->nbytes[i])));
        off += m->nbytes[i];
    }
    size_t data_size = off;
    if (dmg == DAMAGE_OVERLAP) {
        cJSON *k = entry_of(hdr, "model.layers.0.self_attn.k_proj.weight");
        cJSON *v = entry_of(hdr, "model.layers.0.self_attn.v_proj.weight");
        cJSON_ReplaceItemInObjectCaseSensitive(
            v, "data_offsets", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(k, "data_offsets"), 1));
    } else if (dmg == DAMAGE_PAST_END) {
        cJSON *o = cJSON_GetObjectItemCaseSensitive(entry_of(hdr, "model.layers.0.mlp.up_proj.weight"),
                                                    "data_offsets");
        for (int j = 0; j < 2; j++) {
            cJSON *x = cJSON_GetArrayItem(o, j);
            cJSON_SetNumberValue(x, x->valuedouble + (double)data_size);
        }
    } else if (dmg == DAMAGE_SIZE) {
        cJSON *sh = cJSON_GetObjectItemCaseSensitive(entry_of(hdr, "model.norm.weight"), "shape");
        cJSON_SetNumberValue(cJSON_GetArrayItem(sh, 0), 15);
    } else if (dmg == DAMAGE_DTYPE) {
        cJSON_ReplaceItemInObjectCaseSensitive(entry_of(hdr, "model.norm.weight"), "dtype",
                                               cJSON_CreateString("U8"));
    }
    char *js = cJSON_PrintUnformatted(hdr);
    size_t hlen = strlen(js), padded = (hlen + 7) & ~(size_t)7;
    size_t total = 8 + padded + data_size;
    unsigned char *buf = calloc(total, 1);
    uint64_t stored = dmg == DAMAGE_HLEN ? (uint64_t)total : (uint64_t)padded;
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(stored >> (8 * i));
    memcpy(buf + 8, js, hlen);
    memset(buf + 8 + hlen, ' ', padded - hlen);
    off = 8 + padded;
    for (int i = 0; i < m->n; i++) {
        memcpy(buf + off, m->data[i], m->nbytes[i]);
        off += m->nbytes[i];
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    int rc = test_write_file(path, buf, total);
    free(buf);
    cJSON_free(js);
    cJSON_Delete(hdr);
    return rc;
}

#define SHARD1 "model-00001-of-00002.safetensors"
#define SHARD2 "model-00002-of-00002.safetensors"

/* Two shards: the first half of the tensors in SHARD1, the rest in SHARD2.
 * dup: also put tensor 0 into SHARD2; unlisted: leave the last tensor out
 * of the index; wrong: map tensor 0 to SHARD2. */
static int write_sharded(const char *dir, const fx_model *m, int dup, int unlisted, int wrong)
{
    int half = m->n / 2, rc = 0;
    gq_safetensors_entry second[FX_MAX + 1];
    int n2 = 0;
    if (dup) second[n2++] = m->e[0];
    for (int i = half; i < m->n; i++) second[n2++] = m->e[i];
    rc |= write_st(dir, SHARD1, m->e, half);
    rc |= write_st(dir, SHARD2, second, n2);

    cJSON *root = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(root, "metadata");
    size_t total = 0;
    for (int i = 0; i < m->n; i++) total += m->nbytes[i];
    cJSON_AddNumberToObject(meta, "total_size", (double)total);
    cJSON *wm = cJSON_AddObjectToObject(root, "weight_map");
    for (int i = 0; i < m->n; i++) {
        if (unlisted && i == m->n - 1) continue;
        const char *shard = (i < half && !(wrong && i == 0)) ? SHARD1 : SHARD2;
        cJSON_AddStringToObject(wm, m->e[i].name, shard);
    }
    char *js = cJSON_Print(root);
    rc |= write_text(dir, "model.safetensors.index.json", js);
    cJSON_free(js);
    cJSON_Delete(root);
    return rc;
}

static int truncate_file(const char *dir, const char *name, size_t cut)
{
    char path[4096];
    size_t n = 0;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *buf = test_read_file(path, &n);
    if (!buf || n < cut) return -1;
    int rc = test_write_file(path, buf, n - cut);
    free(buf);
    return rc;
}

int ckfix_build(const char *name, const char *dir)
{
    fx_model m;
    int rc = 0;
    int qwen2 = !strcmp(name, "qwen2") || !strcmp(name, "missing_bias");
    int tied = !strcmp(name, "tied");
    const char *tweak = NULL;

    if (!ckfix_find(name)) {
        fprintf(stderr, "no fixture case '%s'\n", name);
        return -1;
    }
    fx_build(&m, qwen2, tied, !strcmp(name, "valid"));

    if (!strcmp(name, "tied")) tweak = "\"tie_word_embeddings\": true,";
    if (!strcmp(name, "config_wrong_type")) tweak = "\"num_attention_heads\": \"4\",";
    if (!strcmp(name, "config_heads")) tweak = "\"num_key_value_heads\": 3,";
    if (!strcmp(name, "shape_mismatch")) tweak = "\"intermediate_size\": 32,";

    if (!strcmp(name, "config_missing_key")) {
        rc |= write_text(dir, "config.json",
                         "{\"model_type\": \"llama\", \"intermediate_size\": 24, \"num_hidden_layers\": 2,\n"
                         " \"num_attention_heads\": 4, \"vocab_size\": 32}\n");
    } else if (!strcmp(name, "config_not_json")) {
        rc |= write_text(dir, "config.json", "{\n  \"model_type\": \"llama\",\n  hidden_size: 16\n}\n");
    } else {
        rc |= write_config(dir, qwen2 ? "qwen2" : "llama", tweak);
    }

    if (!strcmp(name, "missing_tensor")) fx_remove(&m, "model.layers.1.mlp.down_proj.weight");
    if (!strcmp(name, "missing_bias")) fx_remove(&m, "model.layers.0.self_attn.k_proj.bias");
    if (!strcmp(name, "extra_tensor")) fx_add(&m, "model.layers.0.self_attn.q_norm.weight", GQ_DTYPE_F32, 1, CKFIX_DH, 1);

    if (!strcmp(name, "overlap")) rc |= write_st_damaged(dir, &m, DAMAGE_OVERLAP);
    else if (!strcmp(name, "offsets_past_end")) rc |= write_st_damaged(dir, &m, DAMAGE_PAST_END);
    else if (!strcmp(name, "size_mismatch")) rc |= write_st_damaged(dir, &m, DAMAGE_SIZE);
    else if (!strcmp(name, "header_len_past_end")) rc |= write_st_damaged(dir, &m, DAMAGE_HLEN);
    else if (!strcmp(name, "bad_dtype")) rc |= write_st_damaged(dir, &m, DAMAGE_DTYPE);
    else if (!strcmp(name, "sharded") || !strcmp(name, "shard_missing")) rc |= write_sharded(dir, &m, 0, 0, 0);
    else if (!strcmp(name, "shard_duplicate")) rc |= write_sharded(dir, &m, 1, 0, 0);
    else if (!strcmp(name, "shard_not_in_index")) rc |= write_sharded(dir, &m, 0, 1, 0);
    else if (!strcmp(name, "index_wrong_shard")) rc |= write_sharded(dir, &m, 0, 0, 1);
    else if (strcmp(name, "no_weights") != 0) rc |= write_st(dir, "model.safetensors", m.e, m.n);

    if (!strcmp(name, "truncated")) rc |= truncate_file(dir, "model.safetensors", 10);
    if (!strcmp(name, "shard_missing")) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, SHARD2);
        rc |= remove(path);
    }
    fx_free(&m);
    return rc ? -1 : 0;
}
