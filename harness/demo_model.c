/* demo_model.c — the generated demo model (demo_model.h). */
#define _POSIX_C_SOURCE 200809L
#include "demo_model.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "gq_alloc.h"
#include "results.h"
#include "safetensors.h"

#define DM_D 256
#define DM_I 512
#define DM_L 4
#define DM_H 8
#define DM_HKV GQ_DEMO_MODEL_KV_HEADS
#define DM_DH GQ_DEMO_MODEL_HEAD_DIM
#define DM_V 256

void gq_random_tensors_free(gq_random_tensors *w)
{
    if (!w) return;
    for (int i = 0; i < w->n; i++) gq_free(w->data[i]);
    memset(w, 0, sizeof *w);
}

/* xorshift64 uniform in (0, 1) */
static double urand(gq_random_tensors *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return ((double)(w->rng >> 11) + 0.5) / 9007199254740992.0;
}

int gq_random_tensor(gq_random_tensors *w, const char *name, int rows, int cols, double scale, gq_error *err)
{
    if (w->n >= GQ_RANDOM_TENSORS_MAX)
        return gq_error_set(err, GQ_ERR_INVALID, "generated model: more than %d tensors", GQ_RANDOM_TENSORS_MAX);
    size_t n = (size_t)rows * (size_t)(cols ? cols : 1);
    float *p = gq_malloc(n * sizeof *p, "generated tensor", err);
    if (!p) return GQ_ERR_NOMEM;
    /* gain_jitter 0 draws nothing for a vector (the demo model's weights depend on that) */
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(cols ? scale * (2.0 * urand(w) - 1.0)
                            : w->gain_jitter != 0.0 ? 1.0 + w->gain_jitter * (2.0 * urand(w) - 1.0) : 1.0);
    gq_safetensors_entry *e = &w->e[w->n];
    snprintf(w->names[w->n], sizeof w->names[0], "%s", name);
    e->name = w->names[w->n];
    e->dtype = GQ_DTYPE_F32;
    e->n_dims = cols ? 2 : 1;
    e->shape[0] = rows;
    e->shape[1] = cols;
    e->data = p;
    w->data[w->n++] = p;
    return GQ_OK;
}

int gq_random_layer_tensor(gq_random_tensors *w, int l, const char *suffix, int rows, int cols, double scale,
                           gq_error *err)
{
    char name[96];
    snprintf(name, sizeof name, "model.layers.%d.%s", l, suffix);
    return gq_random_tensor(w, name, rows, cols, scale, err);
}

/* GPT-2's byte -> printable code point map (the ByteLevel alphabet),
 * JSON-escaped UTF-8 into out (8 bytes). */
static void byte_token(int b, char *out)
{
    int printable = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    int cp = b;
    if (!printable) {
        int k = 0;
        for (int x = 0; x < b; x++)
            if (!((x >= '!' && x <= '~') || (x >= 0xa1 && x <= 0xac) || (x >= 0xae && x <= 0xff))) k++;
        cp = 256 + k;
    }
    if (cp == '"' || cp == '\\') snprintf(out, 8, "\\%c", cp);
    else if (cp < 0x80) snprintf(out, 8, "%c", cp);
    else snprintf(out, 8, "%c%c", 0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
}

int gq_byte_tokenizer_write(const char *path, int ascii_only, gq_error *err)
{
    size_t cap = 16384, n = 0;
    char *buf = gq_malloc(cap, "tokenizer.json", err);
    if (!buf) return GQ_ERR_NOMEM;
    n += (size_t)snprintf(buf + n, cap - n,
                          "{\"version\": \"1.0\", \"added_tokens\": [], \"normalizer\": null, "
                          "\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
                          "\"trim_offsets\": true, \"use_regex\": true}, \"post_processor\": null, "
                          "\"decoder\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\", \"vocab\": {");
    int id = 0;
    for (int b = 0; b < 256; b++) {
        if (ascii_only && !(b == ' ' || b == '\n' || (b >= '!' && b <= '~'))) continue;
        char tok[8];
        byte_token(b, tok);
        n += (size_t)snprintf(buf + n, cap - n, "%s\"%s\": %d", id ? ", " : "", tok, id);
        id++;
    }
    n += (size_t)snprintf(buf + n, cap - n, "}, \"merges\": []}}\n");
    int rc = gq_file_write_atomic(path, buf, n, err);
    gq_free(buf);
    return rc;
}

static int write_config(const char *path, gq_error *err)
{
    char cfg[1024];
    int n = snprintf(cfg, sizeof cfg,
                     "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", \"hidden_size\": %d, "
                     "\"intermediate_size\": %d, \"num_hidden_layers\": %d, \"num_attention_heads\": %d, "
                     "\"num_key_value_heads\": %d, \"head_dim\": %d, \"vocab_size\": %d, "
                     "\"max_position_embeddings\": 2048, \"rms_norm_eps\": 1e-05, \"rope_theta\": 10000.0, "
                     "\"tie_word_embeddings\": false, \"attention_bias\": false, \"hidden_act\": \"silu\", "
                     "\"bos_token_id\": null, \"eos_token_id\": null, \"torch_dtype\": \"float32\"}\n",
                     DM_D, DM_I, DM_L, DM_H, DM_HKV, DM_DH, DM_V);
    return gq_file_write_atomic(path, cfg, (size_t)n, err);
}

int gq_demo_model_write(const char *dir, gq_error *err)
{
    int rc = GQ_OK;
    char *tmp = NULL, *p = NULL;
    gq_random_tensors *w = gq_calloc(1, sizeof *w, "demo model", err);
    if (!w) return GQ_ERR_NOMEM;
    w->rng = 0x2545f4914f6cdd1dull; /* fixed: the same model every time */
    size_t n = strlen(dir) + 8;
    if (!(tmp = gq_malloc(n, "path", err))) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    snprintf(tmp, n, "%s.tmp", dir);
    /* A leftover DIR.tmp from a killed run is rewritten file by file. */
    if (!(p = gq_path_join(tmp, "config.json", err))) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    if ((rc = gq_report_write_file(p, "", 0, err)) != GQ_OK) goto done; /* creates DIR.tmp */
    if ((rc = write_config(p, err)) != GQ_OK) goto done;
    double s = 1.0 / sqrt(DM_D);
    if ((rc = gq_random_tensor(w, "model.embed_tokens.weight", DM_V, DM_D, 1.0, err)) != GQ_OK) goto done;
    if ((rc = gq_random_tensor(w, "model.norm.weight", DM_D, 0, 0, err)) != GQ_OK) goto done;
    if ((rc = gq_random_tensor(w, "lm_head.weight", DM_V, DM_D, 2.0 * s, err)) != GQ_OK) goto done;
    for (int l = 0; l < DM_L && rc == GQ_OK; l++) {
        rc = gq_random_layer_tensor(w, l, "input_layernorm.weight", DM_D, 0, 0, err);
        if (rc == GQ_OK) rc = gq_random_layer_tensor(w, l, "post_attention_layernorm.weight", DM_D, 0, 0, err);
        if (rc == GQ_OK) rc = gq_random_layer_tensor(w, l, "self_attn.q_proj.weight", DM_H * DM_DH, DM_D, 1.7 * s, err);
        if (rc == GQ_OK) rc = gq_random_layer_tensor(w, l, "self_attn.k_proj.weight", DM_HKV * DM_DH, DM_D, 1.7 * s, err);
        if (rc == GQ_OK) rc = gq_random_layer_tensor(w, l, "self_attn.v_proj.weight", DM_HKV * DM_DH, DM_D, 1.7 * s, err);
        if (rc == GQ_OK) rc = gq_random_layer_tensor(w, l, "self_attn.o_proj.weight", DM_D, DM_H * DM_DH, 1.7 * s, err);
        if (rc == GQ_OK) rc = gq_random_layer_tensor(w, l, "mlp.gate_proj.weight", DM_I, DM_D, 1.7 * s, err);
        if (rc == GQ_OK) rc = gq_random_layer_tensor(w, l, "mlp.up_proj.weight", DM_I, DM_D, 1.7 * s, err);
        if (rc == GQ_OK) rc = gq_random_layer_tensor(w, l, "mlp.down_proj.weight", DM_D, DM_I, 1.7 / sqrt(DM_I), err);
    }
    if (rc != GQ_OK) goto done;
    gq_free(p);
    if (!(p = gq_path_join(tmp, "model.safetensors", err))) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    if ((rc = gq_safetensors_write(p, w->e, (size_t)w->n, err)) != GQ_OK) goto done;
    gq_free(p);
    if (!(p = gq_path_join(tmp, "tokenizer.json", err))) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    if ((rc = gq_byte_tokenizer_write(p, 0, err)) != GQ_OK) goto done;
    rc = gq_file_rename(tmp, dir, err);
done:
    gq_random_tensors_free(w);
    gq_free(w);
    gq_free(tmp);
    gq_free(p);
    return rc;
}
