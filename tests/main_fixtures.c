/* main_fixtures.c — tiny original + GQLA models (main_fixtures.h). */
#define _POSIX_C_SOURCE 200809L
#include "main_fixtures.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"
#include "testutil.h"

/* GPT-2's byte -> printable code point map, as UTF-8 (JSON-escaped). */
static int byte_char(int b, char *out)
{
    int cp;
    if ((b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff)) {
        cp = b;
    } else {
        int n = 0;
        for (int x = 0; x < b; x++)
            if (!((x >= '!' && x <= '~') || (x >= 0xa1 && x <= 0xac) || (x >= 0xae && x <= 0xff))) n++;
        cp = 256 + n;
    }
    if (cp == '"' || cp == '\\') return sprintf(out, "\\%c", cp);
    if (cp < 0x80) return sprintf(out, "%c", cp);
    return sprintf(out, "%c%c", 0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
}

int mf_write_tokenizer(const char *dir, int ascii_only)
{
    char path[4400], *buf = malloc(1 << 16);
    if (!buf) return -1;
    size_t n = (size_t)sprintf(buf, "{\"version\": \"1.0\", \"added_tokens\": [], \"normalizer\": null, "
                                    "\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
                                    "\"trim_offsets\": true, \"use_regex\": true}, \"post_processor\": null, "
                                    "\"decoder\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\", \"vocab\": {");
    int id = 0;
    for (int b = 0; b < 256; b++) {
        if (ascii_only && !(b == ' ' || b == '\n' || (b >= '!' && b <= '~'))) continue;
        char ch[8];
        byte_char(b, ch);
        n += (size_t)sprintf(buf + n, "%s\"%s\": %d", id ? ", " : "", ch, id);
        id++;
    }
    n += (size_t)sprintf(buf + n, "}, \"merges\": []}}");
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    int rc = test_write_file(path, buf, n);
    free(buf);
    return rc;
}

static int copy_file(const char *from, const char *to)
{
    size_t n = 0;
    char *b = test_read_file(from, &n);
    int rc = b ? test_write_file(to, b, n) : -1;
    free(b);
    return rc;
}

int mf_write_original(const char *dir)
{
    char cmd[4400], path[4400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    if (system(cmd) != 0) return -1;
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (copy_file(test_fixture("forward/llama-gqa-f32/config.json"), path)) return -1;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (copy_file(test_fixture("forward/llama-gqa-f32/model.safetensors"), path)) return -1;
    return mf_write_tokenizer(dir, 0);
}

// ---- the random GQLA model ---------------------------------------------------------------

#define MF_D 64
#define MF_I 96
#define MF_V 256
#define MAX_T 64

typedef struct mf_weights {
    gq_safetensors_entry e[MAX_T];
    char names[MAX_T][96];
    float *data[MAX_T];
    int n;
    uint64_t rng;
} mf_weights;

static double urand(mf_weights *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return ((w->rng >> 11) + 0.5) / 9007199254740992.0;
}

/* A tensor [rows, cols] (cols 0: a vector of norm gains near 1). */
static int add(mf_weights *w, const char *name, int rows, int cols, double scale)
{
    if (w->n >= MAX_T) return -1;
    size_t n = (size_t)rows * (size_t)(cols ? cols : 1);
    float *p = malloc(n * sizeof *p);
    if (!p) return -1;
    for (size_t i = 0; i < n; i++) p[i] = (float)(cols ? scale * (2.0 * urand(w) - 1.0) : 0.8 + 0.4 * urand(w));
    gq_safetensors_entry *e = &w->e[w->n];
    snprintf(w->names[w->n], sizeof w->names[0], "%s", name);
    e->name = w->names[w->n];
    e->dtype = GQ_DTYPE_F32;
    e->n_dims = cols ? 2 : 1;
    e->shape[0] = rows;
    e->shape[1] = cols;
    e->data = p;
    w->data[w->n++] = p;
    return 0;
}

static int layer_add(mf_weights *w, int l, const char *suffix, int rows, int cols, double scale)
{
    char nm[96];
    snprintf(nm, sizeof nm, "model.layers.%d.%s", l, suffix);
    return add(w, nm, rows, cols, scale);
}

int mf_write_gqla(const char *dir, unsigned seed, int ascii_only)
{
    char cmd[4400], path[4400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    if (system(cmd) != 0) return -1;
    mf_weights *w = calloc(1, sizeof *w);
    if (!w) return -1;
    w->rng = 0x9e3779b97f4a7c15ull ^ seed;
    int rc = 0, Q = MF_H * (MF_DN + MF_DR);
    double sd = 1.0 / sqrt(MF_D);
    rc |= add(w, "model.embed_tokens.weight", MF_V, MF_D, 1.0);
    rc |= add(w, "model.norm.weight", MF_D, 0, 0);
    rc |= add(w, "lm_head.weight", MF_V, MF_D, 2.0 * sd);
    for (int l = 0; l < MF_L; l++) {
        rc |= layer_add(w, l, "input_layernorm.weight", MF_D, 0, 0);
        rc |= layer_add(w, l, "post_attention_layernorm.weight", MF_D, 0, 0);
        rc |= layer_add(w, l, "self_attn.q_proj.weight", Q, MF_D, 1.5 * sd);
        rc |= layer_add(w, l, "self_attn.kv_a_proj_with_mqa.weight", MF_R + MF_DR, MF_D, 1.5 * sd);
        rc |= layer_add(w, l, "self_attn.kv_b_proj.weight", MF_G * (MF_DN + MF_DV), MF_R, 1.0 / sqrt(MF_R));
        rc |= layer_add(w, l, "self_attn.o_proj.weight", MF_D, MF_H * MF_DV, 1.0 / sqrt(MF_H * MF_DV));
        rc |= layer_add(w, l, "mlp.gate_proj.weight", MF_I, MF_D, sd);
        rc |= layer_add(w, l, "mlp.up_proj.weight", MF_I, MF_D, sd);
        rc |= layer_add(w, l, "mlp.down_proj.weight", MF_D, MF_I, 1.0 / sqrt(MF_I));
    }
    gq_error err = {0};
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (!rc && gq_safetensors_write(path, w->e, (size_t)w->n, &err) != GQ_OK) {
        fprintf(stderr, "%s\n", err.msg);
        rc = -1;
    }
    for (int i = 0; i < w->n; i++) free(w->data[i]);
    free(w);
    if (rc) return -1;
    char cfg[4096];
    snprintf(cfg, sizeof cfg,
             "{\"architectures\": [\"DeepseekV3ForCausalLM\"], \"model_type\": \"deepseek_v3\", "
             "\"hidden_size\": %d, \"intermediate_size\": %d, \"num_hidden_layers\": %d, "
             "\"num_attention_heads\": %d, \"num_key_value_heads\": %d, \"vocab_size\": %d, "
             "\"q_lora_rank\": null, \"kv_lora_rank\": %d, \"qk_nope_head_dim\": %d, \"qk_rope_head_dim\": %d, "
             "\"v_head_dim\": %d, \"head_dim\": %d, \"rope_theta\": 10000.0, \"rope_interleave\": true, "
             "\"qk_latent_layernorm\": false, \"rms_norm_eps\": 1e-5, \"attention_bias\": false, "
             "\"first_k_dense_replace\": %d, \"n_routed_experts\": null, \"n_shared_experts\": null, "
             "\"max_position_embeddings\": 256, \"tie_word_embeddings\": false, \"bos_token_id\": 1, "
             "\"eos_token_id\": 2}\n",
             MF_D, MF_I, MF_L, MF_H, MF_G, MF_V, MF_R, MF_DN, MF_DR, MF_DV, MF_DR, MF_L);
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (test_write_file(path, cfg, strlen(cfg))) return -1;
    return mf_write_tokenizer(dir, ascii_only);
}

const char *mf_samples_dir(void)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/../../datasets/samples", test_fixture(""));
    return buf;
}
