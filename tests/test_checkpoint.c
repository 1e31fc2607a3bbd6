/* test_checkpoint.c — safetensors, config.json and checkpoint opening.
 *
 * Usage: test_checkpoint CASE.  CASE is one of the fixture cases in
 * checkpoint_fixtures.c (a folder built in a temp dir, opened with
 * gq_checkpoint_open, checked for the expected status and message), or
 * "roundtrip" (gq_safetensors_write then open), "config_variants"
 * (config.json dialects), "open_errors" (paths that are no model),
 * "gguf_smollm2" (the real GGUF, skipped when models/ lacks it).
 * Each case is its own ctest entry (tests/checkpoint.cmake).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "checkpoint_fixtures.h"
#include "config.h"
#include "safetensors.h"
#include "testutil.h"

static int has(const char *msg, const char *needle) { return needle == NULL || strstr(msg, needle) != NULL; }

static int shape_is(const gq_tensor_ref *t, int nd, int64_t d0, int64_t d1)
{
    if (!t || t->n_dims != nd || t->shape[0] != d0) return 0;
    return nd < 2 || t->shape[1] == d1;
}

// ---------------------------------------------------------------------------
// per-case checks on a checkpoint that opened

static void check_valid(const gq_checkpoint *ck)
{
    const gq_config *c = gq_checkpoint_config(ck);
    test_cond("format is HF", gq_checkpoint_format_of(ck) == GQ_CHECKPOINT_HF);
    test_cond("no gguf handle", gq_checkpoint_gguf(ck) == NULL);
    test_cond("arch llama", c->arch == GQ_ARCH_LLAMA && !strcmp(c->model_type, "llama"));
    test_cond("hidden_size", c->hidden_size == CKFIX_D);
    test_cond("intermediate_size", c->intermediate_size == CKFIX_I);
    test_cond("num_hidden_layers", c->num_hidden_layers == CKFIX_L);
    test_cond("num_attention_heads", c->num_attention_heads == CKFIX_H);
    test_cond("num_key_value_heads", c->num_key_value_heads == CKFIX_HKV);
    test_cond("head_dim", c->head_dim == CKFIX_DH);
    test_cond("vocab_size", c->vocab_size == CKFIX_V);
    test_cond("max_position_embeddings", c->max_position_embeddings == 128);
    test_cond("rms_norm_eps", c->rms_norm_eps == 1e-5);
    test_cond("rope_theta", c->rope_theta == 50000.0);
    test_cond("no rope scaling", c->rope_scaling.type == GQ_ROPE_SCALING_NONE);
    test_cond("not tied", c->tie_word_embeddings == 0);
    test_cond("no attention bias", c->attention_bias == 0);
    test_cond("bos", c->bos_token_id == 1);
    test_cond("eos is the first of the list", c->eos_token_id == 2);
    test_cond("no MLA fields", c->kv_lora_rank == 0 && c->q_lora_rank == 0);
    test_cond("kv elems = 2 Hkv Dh", gq_config_kv_elems_per_token_layer(c) == 2 * CKFIX_HKV * CKFIX_DH);
    test_cond("tensor count (inv_freq dropped)", gq_checkpoint_tensor_count(ck) == CKFIX_N_TENSORS);
    test_cond("inv_freq not handed out",
              gq_checkpoint_find(ck, "model.layers.0.self_attn.rotary_emb.inv_freq") == NULL);

    const gq_tensor_ref *e = gq_checkpoint_find(ck, "model.embed_tokens.weight");
    test_cond("embed [V, D] BF16", shape_is(e, 2, CKFIX_V, CKFIX_D) && e->dtype == GQ_DTYPE_BF16);
    test_cond("embed n_elems/nbytes", e && e->n_elems == CKFIX_V * CKFIX_D && e->nbytes == 2 * e->n_elems);
    test_cond("embed unused dims are 1", e && e->shape[2] == 1 && e->shape[3] == 1);
    test_cond("embed names its file", e && has(e->file, "model.safetensors"));
    test_cond("no rope unpermute for HF", e && e->rope_unpermute_heads == 0);
    const gq_tensor_ref *q = gq_checkpoint_find(ck, "model.layers.1.self_attn.q_proj.weight");
    test_cond("q_proj [H Dh, D]", shape_is(q, 2, CKFIX_H * CKFIX_DH, CKFIX_D) && q->dtype == GQ_DTYPE_F32);
    test_cond("k_proj [Hkv Dh, D]",
              shape_is(gq_checkpoint_find(ck, "model.layers.1.self_attn.k_proj.weight"), 2, CKFIX_HKV * CKFIX_DH,
                       CKFIX_D));
    test_cond("o_proj [D, H Dh]",
              shape_is(gq_checkpoint_find(ck, "model.layers.0.self_attn.o_proj.weight"), 2, CKFIX_D,
                       CKFIX_H * CKFIX_DH));
    test_cond("down_proj [D, I]",
              shape_is(gq_checkpoint_find(ck, "model.layers.0.mlp.down_proj.weight"), 2, CKFIX_D, CKFIX_I));
    test_cond("model.norm [D]", shape_is(gq_checkpoint_find(ck, "model.norm.weight"), 1, CKFIX_D, 1));
    const gq_tensor_ref *lm = gq_checkpoint_find(ck, "lm_head.weight");
    test_cond("lm_head [V, D] F16", shape_is(lm, 2, CKFIX_V, CKFIX_D) && lm->dtype == GQ_DTYPE_F16);
    test_cond("unknown name not found", gq_checkpoint_find(ck, "model.layers.2.mlp.up_proj.weight") == NULL);
    test_cond("index past the end is NULL", gq_checkpoint_tensor(ck, CKFIX_N_TENSORS) == NULL);

    /* Raw bytes are the fixture's values (F32 read directly, BF16 by hand). */
    if (q) {
        float v;
        memcpy(&v, (const unsigned char *)q->data + 4 * 5, 4);
        test_cond("q_proj element 5 raw F32", v == ckfix_value(q->name, 5));
    }
    if (e) {
        uint16_t h;
        uint32_t u;
        float v;
        memcpy(&h, (const unsigned char *)e->data + 2 * 7, 2);
        u = (uint32_t)h << 16;
        memcpy(&v, &u, 4);
        test_cond("embed element 7 raw BF16", v == ckfix_value(e->name, 7));
    }
}

static void check_sharded(const gq_checkpoint *ck)
{
    test_cond("sharded: tensor count", gq_checkpoint_tensor_count(ck) == CKFIX_N_TENSORS);
    const gq_tensor_ref *e = gq_checkpoint_find(ck, "model.embed_tokens.weight");
    const gq_tensor_ref *lm = gq_checkpoint_find(ck, "lm_head.weight");
    test_cond("sharded: embed in shard 1", e && has(e->file, "model-00001-of-00002.safetensors"));
    test_cond("sharded: lm_head in shard 2", lm && has(lm->file, "model-00002-of-00002.safetensors"));
    size_t in1 = 0, in2 = 0;
    for (size_t i = 0; i < gq_checkpoint_tensor_count(ck); i++) {
        const gq_tensor_ref *t = gq_checkpoint_tensor(ck, i);
        if (has(t->file, "00001-of")) in1++;
        if (has(t->file, "00002-of")) in2++;
        test_cond("sharded: every tensor findable by name", gq_checkpoint_find(ck, t->name) == t);
    }
    test_cond("sharded: both shards used", in1 > 0 && in2 > 0 && in1 + in2 == CKFIX_N_TENSORS);
}

static void check_tied(const gq_checkpoint *ck)
{
    test_cond("tied: flag", gq_checkpoint_config(ck)->tie_word_embeddings == 1);
    test_cond("tied: no lm_head", gq_checkpoint_find(ck, "lm_head.weight") == NULL);
    test_cond("tied: count", gq_checkpoint_tensor_count(ck) == CKFIX_N_TENSORS - 1);
}

static void check_qwen2(const gq_checkpoint *ck)
{
    const gq_config *c = gq_checkpoint_config(ck);
    test_cond("qwen2: arch", c->arch == GQ_ARCH_QWEN2);
    test_cond("qwen2: bias always on", c->attention_bias == 1);
    test_cond("qwen2: k bias [Hkv Dh]",
              shape_is(gq_checkpoint_find(ck, "model.layers.1.self_attn.k_proj.bias"), 1, CKFIX_HKV * CKFIX_DH, 1));
    test_cond("qwen2: count", gq_checkpoint_tensor_count(ck) == CKFIX_N_TENSORS + 3 * CKFIX_L);
}

static int run_fixture_case(const ckfix_case *c)
{
    const char *dir = test_tmpdir(c->name);
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    if (ckfix_build(c->name, path) != 0) {
        test_cond("fixture built", 0);
        return test_report(c->name);
    }
    gq_checkpoint *ck = (gq_checkpoint *)1;
    gq_error err;
    gq_error_clear(&err);
    int rc = gq_checkpoint_open(&ck, path, &err);
    if (c->status == GQ_OK) {
        if (rc != GQ_OK) fprintf(stderr, "unexpected error: %s\n", err.msg);
        test_cond("opens", rc == GQ_OK && ck != NULL);
        if (rc == GQ_OK) {
            if (!strcmp(c->name, "valid")) check_valid(ck);
            if (!strcmp(c->name, "sharded")) check_sharded(ck);
            if (!strcmp(c->name, "tied")) check_tied(ck);
            if (!strcmp(c->name, "qwen2")) check_qwen2(ck);
            test_cond("path kept", !strcmp(gq_checkpoint_path(ck), path));
        }
        gq_checkpoint_close(ck);
    } else {
        printf("%s: %s\n", c->name, err.msg);
        test_cond("returns the expected status", rc == c->status);
        test_cond("err.status matches", err.status == c->status);
        test_cond("out is NULL on failure", ck == NULL);
        test_cond("message names the file", has(err.msg, c->file));
        test_cond("message says what is wrong", has(err.msg, c->what));
        if (rc == GQ_OK) gq_checkpoint_close(ck);
    }
    return test_report(c->name);
}

// ---------------------------------------------------------------------------
// safetensors writer round trip

static int run_roundtrip(void)
{
    const char *dir = test_tmpdir("roundtrip");
    char path[4096];
    snprintf(path, sizeof path, "%s/x.safetensors", dir);
    float a[6] = {1, -2, 3.5f, 0, 1e-3f, -7};
    uint16_t h[4] = {0x3c00, 0xc000, 0x0000, 0x7bff}; /* 1, -2, 0, 65504 (F16) */
    uint16_t b[1] = {0x3f80};                          /* 1.0 (BF16), a scalar */
    int64_t i64[3] = {-1, 0, 1LL << 40};
    gq_safetensors_entry e[5] = {
        {"a.weight", GQ_DTYPE_F32, 2, {2, 3, 1, 1}, a},
        {"h \"quoted\" name", GQ_DTYPE_F16, 1, {4, 1, 1, 1}, h},
        {"scalar", GQ_DTYPE_BF16, 0, {1, 1, 1, 1}, b},
        {"empty", GQ_DTYPE_F32, 2, {0, 5, 1, 1}, NULL},
        {"ids", GQ_DTYPE_I64, 1, {3, 1, 1, 1}, i64},
    };
    gq_error err;
    int rc = gq_safetensors_write(path, e, 5, &err);
    test_cond("write ok", rc == GQ_OK);
    if (rc != GQ_OK) fprintf(stderr, "%s\n", err.msg);

    gq_safetensors *st = NULL;
    rc = gq_safetensors_open(&st, path, &err);
    test_cond("open ok", rc == GQ_OK);
    if (rc != GQ_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return test_report("roundtrip");
    }
    test_cond("count", gq_safetensors_count(st) == 5);
    const gq_tensor_ref *t0 = gq_safetensors_tensor(st, 0);
    test_cond("file order of data: first is a.weight", t0 && !strcmp(t0->name, "a.weight"));
    test_cond("data area starts 8-aligned", t0 && t0->file_offset % 8 == 0);
    test_cond("a bytes", t0 && t0->nbytes == sizeof a && !memcmp(t0->data, a, sizeof a));
    const gq_tensor_ref *th = gq_safetensors_find(st, "h \"quoted\" name");
    test_cond("escaped name round-trips", th && th->dtype == GQ_DTYPE_F16 && !memcmp(th->data, h, sizeof h));
    const gq_tensor_ref *ts = gq_safetensors_find(st, "scalar");
    test_cond("scalar: 0 dims, 1 element", ts && ts->n_dims == 0 && ts->n_elems == 1 && ts->nbytes == 2);
    const gq_tensor_ref *te = gq_safetensors_find(st, "empty");
    test_cond("empty tensor", te && te->n_elems == 0 && te->nbytes == 0 && te->shape[1] == 5);
    const gq_tensor_ref *ti = gq_safetensors_find(st, "ids");
    test_cond("I64 bytes", ti && ti->dtype == GQ_DTYPE_I64 && !memcmp(ti->data, i64, sizeof i64));
    test_cond("__metadata__ is not a tensor", gq_safetensors_find(st, "__metadata__") == NULL);
    test_cond("find missing", gq_safetensors_find(st, "nope") == NULL);
    test_cond("index past the end", gq_safetensors_tensor(st, 5) == NULL);
    gq_safetensors_close(st);

    /* Writer refuses what it cannot store. */
    gq_safetensors_entry dup[2] = {e[0], e[0]};
    rc = gq_safetensors_write(path, dup, 2, &err);
    test_cond("duplicate name refused", rc == GQ_ERR_USAGE && has(err.msg, "given twice"));
    gq_safetensors_entry q = {"q", GQ_DTYPE_Q8_0, 1, {32, 1, 1, 1}, a};
    rc = gq_safetensors_write(path, &q, 1, &err);
    test_cond("block dtype refused", rc == GQ_ERR_USAGE && has(err.msg, "Q8_0"));
    gq_safetensors_entry neg = {"n", GQ_DTYPE_F32, 1, {-1, 1, 1, 1}, a};
    rc = gq_safetensors_write(path, &neg, 1, &err);
    test_cond("negative dim refused", rc == GQ_ERR_USAGE);

    /* Reader: a file too short for the length, and a non-object header. */
    snprintf(path, sizeof path, "%s/short.safetensors", dir);
    test_write_file(path, "abc", 3);
    rc = gq_safetensors_open(&st, path, &err);
    test_cond("3-byte file refused", rc == GQ_ERR_FORMAT && st == NULL && has(err.msg, "too short"));
    snprintf(path, sizeof path, "%s/array.safetensors", dir);
    test_write_file(path, "\x08\0\0\0\0\0\0\0[1, 2]  ", 16);
    rc = gq_safetensors_open(&st, path, &err);
    test_cond("array header refused", rc == GQ_ERR_FORMAT && has(err.msg, "not an object"));
    snprintf(path, sizeof path, "%s/huge.safetensors", dir);
    test_write_file(path, "\xff\xff\xff\xff\xff\xff\xff\x7f{}", 10);
    rc = gq_safetensors_open(&st, path, &err);
    test_cond("huge header length refused", rc == GQ_ERR_FORMAT && has(err.msg, "implausible"));
    snprintf(path, sizeof path, "%s/shape.safetensors", dir);
    const char *hdr = "{\"x\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}";
    char buf[128] = {0};
    buf[0] = (char)strlen(hdr);
    memcpy(buf + 8, hdr, strlen(hdr));
    test_write_file(path, buf, 8 + strlen(hdr) + 4);
    rc = gq_safetensors_open(&st, path, &err);
    test_cond("fractional dim refused", rc == GQ_ERR_FORMAT && has(err.msg, "shape[0]"));
    return test_report("roundtrip");
}

// ---------------------------------------------------------------------------
// config.json dialects

static int load_cfg(const char *dir, const char *json, gq_config *c, gq_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    test_write_file(path, json, strlen(json));
    return gq_config_load_json(c, path, err);
}

#define BASE "\"hidden_size\": 64, \"intermediate_size\": 128, \"num_hidden_layers\": 2, " \
             "\"num_attention_heads\": 4, \"vocab_size\": 100"

static int run_config_variants(void)
{
    const char *dir = test_tmpdir("config_variants");
    gq_config c;
    gq_error err;
    int rc;

    rc = load_cfg(dir, "{\"model_type\": \"qwen2\", " BASE ", \"bos_token_id\": null, \"eos_token_id\": 7}", &c, &err);
    test_cond("qwen2 loads", rc == GQ_OK);
    test_cond("qwen2: bias on without the key", c.arch == GQ_ARCH_QWEN2 && c.attention_bias == 1);
    test_cond("defaults: Hkv = H, Dh = D/H", c.num_key_value_heads == 4 && c.head_dim == 16);
    test_cond("defaults: theta 10000, eps 1e-6", c.rope_theta == 10000.0 && c.rms_norm_eps == 1e-6);
    test_cond("defaults: qwen2 max pos 32768, untied", c.max_position_embeddings == 32768 && !c.tie_word_embeddings);
    test_cond("bos null -> -1, eos int", c.bos_token_id == -1 && c.eos_token_id == 7);
    test_cond("arch name", !strcmp(gq_arch_name(c.arch), "qwen2"));

    rc = load_cfg(dir,
                  "{\"model_type\": \"llama\", " BASE ", \"num_key_value_heads\": 2, \"head_dim\": null, "
                  "\"rope_parameters\": {\"rope_theta\": 500000.0, \"rope_type\": \"llama3\", \"factor\": 8.0, "
                  "\"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192},"
                  " \"eos_token_id\": [], \"attention_bias\": true}",
                  &c, &err);
    test_cond("HF 5 rope_parameters loads", rc == GQ_OK);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    test_cond("theta from rope_parameters", c.rope_theta == 500000.0);
    test_cond("llama3 scaling", c.rope_scaling.type == GQ_ROPE_SCALING_LLAMA3 && c.rope_scaling.factor == 8.0 &&
                                    c.rope_scaling.low_freq_factor == 1.0 && c.rope_scaling.high_freq_factor == 4.0 &&
                                    c.rope_scaling.original_max_position_embeddings == 8192);
    test_cond("head_dim null -> D/H", c.head_dim == 16);
    test_cond("eos [] -> -1", c.eos_token_id == -1);
    test_cond("llama attention_bias key", c.attention_bias == 1);
    test_cond("GQA kv elems", gq_config_kv_elems_per_token_layer(&c) == 2 * 2 * 16);

    rc = load_cfg(dir, "{\"model_type\": \"mistral\", " BASE ", \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2}, "
                       "\"attention_bias\": true, \"tie_word_embeddings\": true}", &c, &err);
    test_cond("mistral + linear loads", rc == GQ_OK);
    test_cond("linear scaling via old 'type'", c.rope_scaling.type == GQ_ROPE_SCALING_LINEAR && c.rope_scaling.factor == 2.0);
    test_cond("mistral: never biased, tied read", c.attention_bias == 0 && c.tie_word_embeddings == 1);
    test_cond("mistral max pos default", c.max_position_embeddings == 131072);

    rc = load_cfg(dir, "{\"architectures\": [\"LlamaForCausalLM\"], " BASE ", \"rope_scaling\": null}", &c, &err);
    test_cond("no model_type: falls back to architectures", rc == GQ_OK && c.arch == GQ_ARCH_LLAMA &&
                                                                 !strcmp(c.model_type, "llama"));
    test_cond("rope_scaling null -> none", c.rope_scaling.type == GQ_ROPE_SCALING_NONE && c.rope_scaling.factor == 1.0);

    const char *mla =
        "{\"model_type\": \"deepseek_v3\", " BASE ", \"num_key_value_heads\": %d, \"q_lora_rank\": null, "
        "\"kv_lora_rank\": 32, \"qk_nope_head_dim\": 8, \"qk_rope_head_dim\": 4, \"v_head_dim\": 8, "
        "\"max_position_embeddings\": 163840, \"rope_scaling\": {\"type\": \"yarn\", \"factor\": 40, "
        "\"original_max_position_embeddings\": 4096, \"beta_fast\": 32, \"beta_slow\": 1, \"mscale\": 0.707, "
        "\"mscale_all_dim\": 0.707}}";
    char text[1024];
    snprintf(text, sizeof text, mla, 4);
    rc = load_cfg(dir, text, &c, &err);
    test_cond("deepseek_v3 loads", rc == GQ_OK);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    test_cond("MLA arch and fields", c.arch == GQ_ARCH_DEEPSEEK_MLA && c.q_lora_rank == 0 && c.kv_lora_rank == 32 &&
                                         c.qk_nope_head_dim == 8 && c.qk_rope_head_dim == 4 && c.v_head_dim == 8);
    test_cond("MLA head_dim = qk_rope_head_dim", c.head_dim == 4);
    test_cond("yarn fields", c.rope_scaling.type == GQ_ROPE_SCALING_YARN && c.rope_scaling.factor == 40 &&
                                 c.rope_scaling.original_max_position_embeddings == 4096 &&
                                 c.rope_scaling.mscale == 0.707 && c.rope_scaling.mscale_all_dim == 0.707 &&
                                 c.rope_scaling.beta_fast == 32 && c.rope_scaling.beta_slow == 1);
    test_cond("MLA kv elems = r + d_r", gq_config_kv_elems_per_token_layer(&c) == 36);
    snprintf(text, sizeof text, mla, 2);
    rc = load_cfg(dir, text, &c, &err);
    test_cond("deepseek_v3 with Hkv < H is GQLA", rc == GQ_OK && c.arch == GQ_ARCH_GQLA);

    rc = load_cfg(dir, "{\"model_type\": \"deepseek_v2\", " BASE ", \"q_lora_rank\": 16, \"qk_nope_head_dim\": 8, "
                       "\"qk_rope_head_dim\": 4, \"v_head_dim\": 8}", &c, &err);
    test_cond("MLA without kv_lora_rank refused", rc == GQ_ERR_INVALID && has(err.msg, "'kv_lora_rank'"));
    rc = load_cfg(dir, "{\"model_type\": \"llama\", " BASE ", \"rope_scaling\": {\"rope_type\": \"dynamic\", \"factor\": 2}}",
                  &c, &err);
    test_cond("dynamic rope refused", rc == GQ_ERR_UNSUPPORTED && has(err.msg, "rope_scaling.rope_type 'dynamic'"));
    rc = load_cfg(dir, "{\"model_type\": \"llama\", " BASE ", \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8}}",
                  &c, &err);
    test_cond("llama3 without its keys refused", rc == GQ_ERR_INVALID && has(err.msg, "'rope_scaling.low_freq_factor'"));
    rc = load_cfg(dir, "{\"model_type\": \"gpt2\", " BASE "}", &c, &err);
    test_cond("unknown model_type refused", rc == GQ_ERR_UNSUPPORTED && has(err.msg, "model_type 'gpt2'"));
    rc = load_cfg(dir, "{\"model_type\": \"llama\", " BASE ", \"eos_token_id\": 100}", &c, &err);
    test_cond("eos outside vocab refused", rc == GQ_ERR_INVALID && has(err.msg, "eos_token_id = 100"));
    rc = load_cfg(dir, "{\"model_type\": \"llama\", " BASE ", \"head_dim\": 5}", &c, &err);
    test_cond("odd head_dim refused", rc == GQ_ERR_INVALID && has(err.msg, "head_dim = 5"));
    rc = load_cfg(dir, "{\"model_type\": \"llama\", " BASE ", \"tie_word_embeddings\": 1}", &c, &err);
    test_cond("bool key as number refused", rc == GQ_ERR_INVALID && has(err.msg, "'tie_word_embeddings' must be true or false"));
    rc = load_cfg(dir, "{\"model_type\": \"llama\", \"hidden_size\": 0, \"intermediate_size\": 128, "
                       "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 100, \"head_dim\": 16}",
                  &c, &err);
    test_cond("zero hidden_size refused", rc == GQ_ERR_INVALID && has(err.msg, "hidden_size = 0"));
    rc = load_cfg(dir, "[1, 2]", &c, &err);
    test_cond("non-object refused", rc == GQ_ERR_FORMAT && has(err.msg, "config.json"));
    return test_report("config_variants");
}

/* The real SmolLM2 GGUF through the GGUF branch; skips when models/ lacks it. */
static int run_gguf_smollm2(void)
{
    const char *model = test_model("SmolLM2-135M-Instruct.Q4_1.gguf");
    char path[4096];
    if (!model) {
        printf("skip: models/SmolLM2-135M-Instruct.Q4_1.gguf is absent\n");
        return GQ_TEST_SKIP;
    }
    snprintf(path, sizeof path, "%s", model);
    gq_checkpoint *ck = NULL;
    gq_error err;
    int rc = gq_checkpoint_open(&ck, path, &err);
    test_cond("opens", rc == GQ_OK);
    if (rc != GQ_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return test_report("gguf_smollm2");
    }
    const gq_config *c = gq_checkpoint_config(ck);
    test_cond("format GGUF with handle", gq_checkpoint_format_of(ck) == GQ_CHECKPOINT_GGUF && gq_checkpoint_gguf(ck));
    test_cond("config: D 576, I 1536, L 30", c->hidden_size == 576 && c->intermediate_size == 1536 &&
                                                 c->num_hidden_layers == 30);
    test_cond("config: H 9, Hkv 3, Dh 64, V 49152", c->num_attention_heads == 9 && c->num_key_value_heads == 3 &&
                                                        c->head_dim == 64 && c->vocab_size == 49152);
    test_cond("config: tied, theta 1e5, eps 1e-5", c->tie_word_embeddings && c->rope_theta == 100000.0 &&
                                                       fabs(c->rms_norm_eps - 1e-5) < 1e-12);
    test_cond("272 tensors under HF names", gq_checkpoint_tensor_count(ck) == 272 &&
                                                gq_checkpoint_find(ck, "model.layers.29.mlp.down_proj.weight"));
    const gq_tensor_ref *q = gq_checkpoint_find(ck, "model.layers.3.self_attn.q_proj.weight");
    const gq_tensor_ref *k = gq_checkpoint_find(ck, "model.layers.3.self_attn.k_proj.weight");
    const gq_tensor_ref *v = gq_checkpoint_find(ck, "model.layers.3.self_attn.v_proj.weight");
    test_cond("q_proj [576, 576], un-permute 9 heads", shape_is(q, 2, 576, 576) && q->rope_unpermute_heads == 9);
    test_cond("k_proj [192, 576], un-permute 3 heads", shape_is(k, 2, 192, 576) && k->rope_unpermute_heads == 3);
    test_cond("v_proj not permuted", v && v->rope_unpermute_heads == 0);
    test_cond("GGUF tensor names its file", q && has(q->file, "SmolLM2"));
    test_cond("no lm_head (tied)", gq_checkpoint_find(ck, "lm_head.weight") == NULL);
    gq_checkpoint_close(ck);
    return test_report("gguf_smollm2");
}

static int run_open_errors(void)
{
    const char *dir = test_tmpdir("open_errors");
    char path[4096];
    gq_checkpoint *ck = NULL;
    gq_error err;
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    test_write_file(path, "hello", 5);
    int rc = gq_checkpoint_open(&ck, path, &err);
    test_cond("plain file refused", rc == GQ_ERR_INVALID && ck == NULL && has(err.msg, "notes.txt"));
    snprintf(path, sizeof path, "%s/absent", dir);
    rc = gq_checkpoint_open(&ck, path, &err);
    test_cond("missing path refused", rc == GQ_ERR_IO && has(err.msg, "absent"));
    rc = gq_checkpoint_open(&ck, dir, &err);
    test_cond("folder without config.json refused", rc == GQ_ERR_IO && has(err.msg, "no config.json"));
    return test_report("open_errors");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_checkpoint CASE\n");
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "roundtrip")) return run_roundtrip();
    if (!strcmp(name, "config_variants")) return run_config_variants();
    if (!strcmp(name, "open_errors")) return run_open_errors();
    if (!strcmp(name, "gguf_smollm2")) return run_gguf_smollm2();
    const ckfix_case *c = ckfix_find(name);
    if (!c) {
        fprintf(stderr, "test_checkpoint: unknown case '%s'\n", name);
        return 2;
    }
    return run_fixture_case(c);
}
