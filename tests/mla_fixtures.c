/* mla_fixtures.c — random MLA / GQLA checkpoints (mla_fixtures.h). */
#include "mla_fixtures.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double mlafix_urand(mlafix_tensors *t)
{
    t->rng ^= t->rng << 13;
    t->rng ^= t->rng >> 7;
    t->rng ^= t->rng << 17;
    return ((t->rng >> 11) + 0.5) / 9007199254740992.0;
}

double mlafix_nrand(mlafix_tensors *t)
{
    double u1 = mlafix_urand(t), u2 = mlafix_urand(t);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

float *mlafix_tensor(mlafix_tensors *t, const char *name, int rows, int cols, double std, int kind)
{
    if (t->n >= MLAFIX_MAX_TENSORS) return NULL;
    size_t n = (size_t)rows * (size_t)(cols ? cols : 1);
    float *p = malloc(n * sizeof *p);
    if (!p) return NULL;
    for (size_t i = 0; i < n; i++) p[i] = (float)(kind == 1 ? 0.6 + 0.8 * mlafix_urand(t) : std * mlafix_nrand(t));
    gq_safetensors_entry *e = &t->e[t->n];
    snprintf(t->names[t->n], sizeof t->names[0], "%s", name);
    e->name = t->names[t->n];
    e->dtype = GQ_DTYPE_F32;
    e->n_dims = cols ? 2 : 1;
    e->shape[0] = rows;
    e->shape[1] = cols;
    e->data = p;
    t->data[t->n++] = p;
    return p;
}

float *mlafix_layer_tensor(mlafix_tensors *t, int layer, const char *suffix, int rows, int cols, double std,
                           int kind)
{
    char name[96];
    snprintf(name, sizeof name, "model.layers.%d.%s", layer, suffix);
    return mlafix_tensor(t, name, rows, cols, std, kind);
}

void mlafix_clear(mlafix_tensors *t)
{
    for (int i = 0; i < t->n; i++) free(t->data[i]);
    t->n = 0;
}

int mlafix_add_model(mlafix_tensors *t, const mlafix_dims *s, mlafix_model *m)
{
    if (s->L > MLAFIX_MAX_LAYERS) return -1;
    memset(m, 0, sizeof *m);
    int Q = s->H * (s->dn + s->dr);
    double sD = 1.0 / sqrt(s->D);
    m->embed = mlafix_tensor(t, "model.embed_tokens.weight", s->V, s->D, 1.0, 0);
    m->norm = mlafix_tensor(t, "model.norm.weight", s->D, 0, 0, 1);
    m->lm = mlafix_tensor(t, "lm_head.weight", s->V, s->D, 2.0 * sD, 0);
    int ok = m->embed && m->norm && m->lm;
    for (int l = 0; l < s->L && ok; l++) {
        mlafix_layer *w = &m->l[l];
        ok &= !!(w->in_norm = mlafix_layer_tensor(t, l, "input_layernorm.weight", s->D, 0, 0, 1));
        ok &= !!(w->post_norm = mlafix_layer_tensor(t, l, "post_attention_layernorm.weight", s->D, 0, 0, 1));
        if (s->rq) {
            ok &= !!(w->wqa = mlafix_layer_tensor(t, l, "self_attn.q_a_proj.weight", s->rq, s->D, sD, 0));
            if (s->bias) ok &= !!(w->bqa = mlafix_layer_tensor(t, l, "self_attn.q_a_proj.bias", s->rq, 0, 0.2, 0));
            if (s->norms) ok &= !!(w->qan = mlafix_layer_tensor(t, l, "self_attn.q_a_layernorm.weight", s->rq, 0, 0, 1));
            ok &= !!(w->wqb = mlafix_layer_tensor(t, l, "self_attn.q_b_proj.weight", Q, s->rq, 1.5 / sqrt(s->rq), 0));
            if (s->bias) ok &= !!(w->bqb = mlafix_layer_tensor(t, l, "self_attn.q_b_proj.bias", Q, 0, 0.2, 0));
        } else {
            ok &= !!(w->wq = mlafix_layer_tensor(t, l, "self_attn.q_proj.weight", Q, s->D, 1.5 * sD, 0));
            if (s->bias) ok &= !!(w->bq = mlafix_layer_tensor(t, l, "self_attn.q_proj.bias", Q, 0, 0.2, 0));
        }
        ok &= !!(w->wkva = mlafix_layer_tensor(t, l, "self_attn.kv_a_proj_with_mqa.weight", s->r + s->dr, s->D,
                                                1.5 * sD, 0));
        if (s->bias)
            ok &= !!(w->bkva = mlafix_layer_tensor(t, l, "self_attn.kv_a_proj_with_mqa.bias", s->r + s->dr, 0, 0.2, 0));
        if (s->norms) ok &= !!(w->kvan = mlafix_layer_tensor(t, l, "self_attn.kv_a_layernorm.weight", s->r, 0, 0, 1));
        ok &= !!(w->wkvb = mlafix_layer_tensor(t, l, "self_attn.kv_b_proj.weight", s->kv_heads * (s->dn + s->dv), s->r,
                                                1.0 / sqrt(s->r), 0));
        ok &= !!(w->wo = mlafix_layer_tensor(t, l, "self_attn.o_proj.weight", s->D, s->H * s->dv,
                                              1.0 / sqrt(s->H * s->dv), 0));
        if (s->bias) ok &= !!(w->bo = mlafix_layer_tensor(t, l, "self_attn.o_proj.bias", s->D, 0, 0.1, 0));
        ok &= !!(w->wg = mlafix_layer_tensor(t, l, "mlp.gate_proj.weight", s->I, s->D, sD, 0));
        ok &= !!(w->wu = mlafix_layer_tensor(t, l, "mlp.up_proj.weight", s->I, s->D, sD, 0));
        ok &= !!(w->wd = mlafix_layer_tensor(t, l, "mlp.down_proj.weight", s->D, s->I, 1.0 / sqrt(s->I), 0));
    }
    return ok ? 0 : -1;
}

int mlafix_write(const mlafix_tensors *t, const char *dir)
{
    char path[4200];
    gq_error err = {0};
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (gq_safetensors_write(path, t->e, (size_t)t->n, &err) == GQ_OK) return 0;
    fprintf(stderr, "%s\n", err.msg);
    return -1;
}

int mlafix_write_config(const mlafix_dims *d, int max_positions, const char *dir)
{
    char cfg[2048], path[4200], rq[16] = "null";
    if (d->rq) snprintf(rq, sizeof rq, "%d", d->rq);
    snprintf(cfg, sizeof cfg,
             "{\"architectures\": [\"DeepseekV3ForCausalLM\"], \"model_type\": \"deepseek_v3\", "
             "\"hidden_size\": %d, \"intermediate_size\": %d, \"num_hidden_layers\": %d, "
             "\"num_attention_heads\": %d, \"num_key_value_heads\": %d, \"vocab_size\": %d, "
             "\"q_lora_rank\": %s, \"kv_lora_rank\": %d, \"qk_nope_head_dim\": %d, \"qk_rope_head_dim\": %d, "
             "\"v_head_dim\": %d, \"head_dim\": %d, \"rope_theta\": 10000.0, \"rope_interleave\": true, "
             "\"qk_latent_layernorm\": %s, \"rms_norm_eps\": 1e-6, \"attention_bias\": %s, "
             "\"first_k_dense_replace\": %d, \"n_routed_experts\": null, \"n_shared_experts\": null, "
             "\"max_position_embeddings\": %d, \"tie_word_embeddings\": false, \"bos_token_id\": 0, "
             "\"eos_token_id\": 1}\n",
             d->D, d->I, d->L, d->H, d->kv_heads, d->V, rq, d->r, d->dn, d->dr, d->dv, d->dr,
             d->norms ? "true" : "false", d->bias ? "true" : "false", d->L, max_positions);
    snprintf(path, sizeof path, "%s/config.json", dir);
    return test_write_file(path, cfg, strlen(cfg)) == 0 ? 0 : -1;
}
