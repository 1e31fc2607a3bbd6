/* forward.c — the LLaMA-family forward pass (LLaMA, Mistral, Qwen2, SmolLM)
 * over a backend op table, with a KV cache, and next-token scoring.
 *
 *   x = E[token]; per layer: x += Wo·Attn(RoPE(Wq·n1(x)+bq), RoPE(Wk·n1(x)+bk), Wv·n1(x)+bv)
 *                            x += Wd·(silu(Wg·n2(x)) ⊙ Wu·n2(x))
 *   logits = W_lm · norm(x)   (only at the rows a score needs)
 * RoPE: HF rotate-half layout (GGUF weights are un-permuted at load).
 * Tokens are processed in chunks of at most rs.max_tokens rows; a chunk's
 * keys/values go straight into the cache rows they belong to.
 */
#include <math.h>
#include <string.h>

#include "backend.h"
#include "gq_alloc.h"
#include "kernels.h"
#include "model_internal.h"
#include "score.h"

struct gq_kv_cache {
    int capacity;     /* positions */
    int len;          /* positions filled */
    int n_layers;
    int kv_dim;       /* Hkv * Dh */
    float *arena;     /* one allocation: k then v */
    float *k;         /* [L, capacity, kv_dim] */
    float *v;         /* [L, capacity, kv_dim] */
};

int gq_forward_init_rope(gq_model *m, gq_error *err)
{
    const gq_config *c = m->cfg;
    int Dh = (int)c->head_dim, half = Dh / 2;
    float *inv = gq_malloc((size_t)half * sizeof(float), "rope frequencies", err);
    if (!inv) return GQ_ERR_NOMEM;
    const gq_rope_scaling *rs = &c->rope_scaling;
    if (rs->type != GQ_ROPE_SCALING_NONE && rs->type != GQ_ROPE_SCALING_LLAMA3) {
        gq_free(inv);
        return gq_error_set(err, GQ_ERR_UNSUPPORTED,
                            "%s: rope_scaling of this type is not supported for GQA models (llama3 or none)",
                            m->path);
    }
    gq_rope_inv_freq(inv, Dh, c->rope_theta, rs->type == GQ_ROPE_SCALING_LLAMA3, rs->factor,
                     rs->low_freq_factor, rs->high_freq_factor,
                     (double)rs->original_max_position_embeddings);
    /* HF forms the angle as float32 position x float32 frequency. */
    for (int p = 0; p < m->rs.rope_positions; p++) {
        for (int j = 0; j < half; j++) {
            float ang = (float)p * inv[j];
            m->rs.rope_cos[(size_t)p * half + j] = (float)cos((double)ang);
            m->rs.rope_sin[(size_t)p * half + j] = (float)sin((double)ang);
        }
    }
    gq_free(inv);
    return GQ_OK;
}

int gq_kv_cache_init(gq_kv_cache **out, const gq_model *m, int capacity, gq_error *err)
{
    *out = NULL;
    if (!m->weights_loaded)
        return gq_error_set(err, GQ_ERR_USAGE, "%s: model opened without weights", m->path);
    if (capacity <= 0 || capacity > m->rs.rope_positions)
        return gq_error_set(err, GQ_ERR_USAGE,
                            "%s: a sequence of %d positions does not fit this model (max %d)", m->path,
                            capacity, m->rs.rope_positions);
    gq_kv_cache *c = gq_calloc(1, sizeof *c, "kv cache", err);
    if (!c) return GQ_ERR_NOMEM;
    c->capacity = capacity;
    c->n_layers = (int)m->cfg->num_hidden_layers;
    c->kv_dim = (int)(m->cfg->num_key_value_heads * m->cfg->head_dim);
    size_t per = (size_t)c->n_layers * (size_t)capacity * (size_t)c->kv_dim;
    c->arena = gq_malloc(2 * per * sizeof(float), "kv cache", err);
    if (!c->arena) {
        gq_free(c);
        return GQ_ERR_NOMEM;
    }
    c->k = c->arena;
    c->v = c->arena + per;
    *out = c;
    return GQ_OK;
}

void gq_kv_cache_free(gq_kv_cache *c)
{
    if (!c) return;
    gq_free(c->arena);
    gq_free(c);
}

int gq_kv_cache_len(const gq_kv_cache *c) { return c->len; }
int gq_kv_cache_capacity(const gq_kv_cache *c) { return c->capacity; }
void gq_kv_cache_truncate(gq_kv_cache *c, int n)
{
    if (n >= 0 && n < c->len) c->len = n;
}
int64_t gq_kv_cache_elems_per_token_layer(const gq_kv_cache *c) { return 2 * (int64_t)c->kv_dim; }

/* Run one chunk of T <= max_tokens tokens at positions c->len ..; leaves
 * the final-layer residual stream in rs.x. */
static void forward_chunk(gq_model *m, const gq_backend_ops *be, gq_kv_cache *c, const int32_t *tokens,
                          int T)
{
    const gq_config *cfg = m->cfg;
    gq_run_state *rs = &m->rs;
    int D = (int)cfg->hidden_size, I = (int)cfg->intermediate_size;
    int H = (int)cfg->num_attention_heads, Hkv = (int)cfg->num_key_value_heads;
    int Dh = (int)cfg->head_dim, L = (int)cfg->num_hidden_layers;
    int qd = H * Dh, kd = Hkv * Dh, pos0 = c->len;
    float eps = (float)cfg->rms_norm_eps;
    float scale = (float)(1.0 / sqrt((double)Dh));

    for (int t = 0; t < T; t++)
        memcpy(rs->x + (size_t)t * D, m->w.embed + (size_t)tokens[t] * D, (size_t)D * sizeof(float));

    for (int l = 0; l < L; l++) {
        const gq_layer_weights *lw = &m->w.layers[l];
        float *kc = c->k + ((size_t)l * c->capacity) * kd; /* [capacity, kd] */
        float *vc = c->v + ((size_t)l * c->capacity) * kd;
        be->rmsnorm(rs->xb, rs->x, lw->attn_norm, T, D, eps);
        be->matmul(rs->q, qd, rs->xb, lw->wq, lw->bq, T, D, qd);
        be->matmul(kc + (size_t)pos0 * kd, kd, rs->xb, lw->wk, lw->bk, T, D, kd);
        be->matmul(vc + (size_t)pos0 * kd, kd, rs->xb, lw->wv, lw->bv, T, D, kd);
        be->rope(rs->q, qd, T, H, Dh, pos0, rs->rope_cos, rs->rope_sin);
        be->rope(kc + (size_t)pos0 * kd, kd, T, Hkv, Dh, pos0, rs->rope_cos, rs->rope_sin);
        be->attention(rs->att_out, rs->q, kc, vc, T, pos0, H, Hkv, Dh, scale);
        be->matmul(rs->xb, D, rs->att_out, lw->wo, lw->bo, T, qd, D);
        be->add(rs->x, rs->xb, T, D);

        be->rmsnorm(rs->xb, rs->x, lw->mlp_norm, T, D, eps);
        be->matmul(rs->hb, I, rs->xb, lw->w_gate, NULL, T, D, I);
        be->matmul(rs->hb2, I, rs->xb, lw->w_up, NULL, T, D, I);
        be->swiglu(rs->hb, rs->hb2, T, I);
        be->matmul(rs->xb, D, rs->hb, lw->w_down, NULL, T, I, D);
        be->add(rs->x, rs->xb, T, D);
    }
    c->len += T;
}

/* Score rows rows[0..n) of the chunk's final residual stream: final norm,
 * vocabulary projection for those rows only, float64 log-softmax. */
static void score_rows(gq_model *m, const gq_backend_ops *be, const int *rows, const int32_t *targets,
                       int n, gq_score *out)
{
    const gq_config *cfg = m->cfg;
    gq_run_state *rs = &m->rs;
    int D = (int)cfg->hidden_size, V = (int)cfg->vocab_size;
    for (int base = 0; base < n; base += rs->logit_rows) {
        int nb = n - base < rs->logit_rows ? n - base : rs->logit_rows;
        /* Gather the rows into xb (free after the chunk) and normalise. */
        for (int j = 0; j < nb; j++)
            memcpy(rs->xb + (size_t)j * D, rs->x + (size_t)rows[base + j] * D, (size_t)D * sizeof(float));
        be->rmsnorm(rs->xb, rs->xb, m->w.final_norm, nb, D, (float)cfg->rms_norm_eps);
        be->matmul(rs->logits, V, rs->xb, m->w.lm_head, NULL, nb, D, V);
#pragma omp parallel for schedule(static)
        for (int j = 0; j < nb; j++) {
            gq_score *s = &out[base + j];
            int am = 0;
            s->logprob = gq_logsoftmax_gather_row(rs->logits + (size_t)j * V, V, targets[base + j], &am,
                                                  &s->argmax_logprob);
            s->argmax = am;
            s->is_greedy = am == targets[base + j];
        }
    }
}

int gq_forward(gq_model *m, gq_kv_cache *c, const int32_t *tokens, int T, const int *rows,
               const int32_t *targets, int n_score, gq_score *out, gq_error *err)
{
    if (!m->weights_loaded) return gq_error_set(err, GQ_ERR_USAGE, "%s: model opened without weights", m->path);
    int V = (int)m->cfg->vocab_size;
    if (T < 0 || T > c->capacity - c->len)
        return gq_error_set(err, GQ_ERR_USAGE, "%d more tokens do not fit the KV cache (%d of %d used)", T,
                            c->len, c->capacity);
    for (int t = 0; t < T; t++)
        if (tokens[t] < 0 || tokens[t] >= V)
            return gq_error_set(err, GQ_ERR_INVALID, "token id %d at position %d is outside the vocabulary (0..%d)",
                                tokens[t], t, V - 1);
    for (int j = 0; j < n_score; j++) {
        if (rows[j] < 0 || rows[j] >= T || (j > 0 && rows[j] < rows[j - 1]))
            return gq_error_set(err, GQ_ERR_USAGE, "score row %d (#%d) is not non-decreasing inside 0..%d", rows[j], j,
                                T - 1);
        if (targets[j] < 0 || targets[j] >= V)
            return gq_error_set(err, GQ_ERR_INVALID, "target id %d is outside the vocabulary (0..%d)", targets[j],
                                V - 1);
    }
    const gq_backend_ops *be = gq_backend_cpu();
    gq_backend_cpu_set_threads(m->n_threads);
    int j = 0;
    for (int start = 0; start < T; start += m->rs.max_tokens) {
        int n = T - start < m->rs.max_tokens ? T - start : m->rs.max_tokens;
        forward_chunk(m, be, c, tokens + start, n);
        /* Scores whose rows fall in this chunk, rebased to the chunk. */
        int local[64];
        while (j < n_score && rows[j] < start + n) {
            int k = 0;
            while (j < n_score && rows[j] < start + n && k < 64) local[k++] = rows[j++] - start;
            score_rows(m, be, local, targets + (j - k), k, out + (j - k));
        }
    }
    return GQ_OK;
}
