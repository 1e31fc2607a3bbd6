/* forward.c — the decoder forward pass over a backend op table, with a KV
 * cache per decoding path, and next-token scoring.
 *
 * GQA models (LLaMA, Mistral, Qwen2, Qwen3, Phi-3, SmolLM), path native:
 *   x = E[token]; per layer: x += Wo·Attn(RoPE(Wq·n1(x)+bq), RoPE(Wk·n1(x)+bk), Wv·n1(x)+bv)
 *   (Qwen3: each head of q and k RMS-normalised with q_norm / k_norm first)
 *                            x += Wd·(silu(Wg·n2(x)) ⊙ Wu·n2(x))
 *   logits = W_lm · norm(x)   (only at the rows a score needs)
 *   RoPE: HF rotate-half layout (GGUF weights are un-permuted at load).
 * MLA / GQLA models (DeepSeek-V2/V3 dense layers, conversion.md §1.4): the
 *   same skeleton with latent attention; the query, the latent c^ and the
 *   rotated k^R are computed once, then the cache's path decides what is
 *   stored and how attention reads it (§2): absorb [c^ ; k^R], gqa
 *   [K^N_g, V_g per group ; k^R], expanded (MLA) [K^N_h ; k^R ; V_h] per head.
 *   A path's attention reads only its own cache.  RoPE on the rope part in
 *   interleaved pairs when rope_interleave (the default), yarn scaling and
 *   its softmax-scale factor when configured.
 * Tokens are processed in chunks of at most rs.max_tokens rows; a chunk's
 * keys/values go straight into the cache rows they belong to.
 * Tensor parallelism (tp.h): the weights hold this rank's heads, groups and
 * MLP rows (m->share), the cache only its groups (absorb: the whole latent),
 * and the partial outputs of o_proj and down_proj are all-reduced before
 * each residual add; everything else runs the same on every rank.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "gq_alloc.h"
#include "kernels.h"
#include "model_internal.h"
#include "score.h"
#include "tp.h"

struct gq_kv_cache {
    gq_path path;
    int capacity;     /* positions */
    int len;          /* positions filled */
    int n_layers;
    int kv_dim;       /* native: Hkv * Dh */
    int row;          /* MLA paths: floats per token per layer (conversion.md §2.4) */
    size_t bytes;     /* the arena's size, as allocated */
    float *arena;     /* one allocation, in the model's backend memory */
    const gq_backend_ops *mem; /* whose alloc made arena: NULL for gq_malloc (host) */
    float *k;         /* native: [L, capacity, kv_dim] */
    float *v;         /* native: [L, capacity, kv_dim] */
    float *rows;      /* MLA paths: [L, capacity, row] */
};

static int is_mla(const gq_config *c) { return c->arch == GQ_ARCH_DEEPSEEK_MLA || c->arch == GQ_ARCH_GQLA; }

int gq_forward_init_rope(gq_model *m, gq_error *err)
{
    const gq_config *c = m->cfg;
    const gq_rope_scaling *rsc = &c->rope_scaling;
    int n = m->rs.rope_width, half = n / 2, mla = is_mla(c);
    double amp = 1.0;
    int supported = rsc->type == GQ_ROPE_SCALING_NONE || rsc->type == GQ_ROPE_SCALING_LLAMA3 ||
                    (mla && rsc->type == GQ_ROPE_SCALING_YARN);
    if (!supported)
        return gq_error_set(err, GQ_ERR_UNSUPPORTED,
                            "%s: rope_scaling of this type is not supported for %s models (%s)", m->path,
                            mla ? "MLA" : "GQA", mla ? "yarn, llama3 or none" : "llama3 or none");
    float *inv = gq_malloc((size_t)half * sizeof(float), "rope frequencies", err);
    if (!inv) return GQ_ERR_NOMEM;
    if (rsc->type == GQ_ROPE_SCALING_YARN) {
        gq_rope_inv_freq_yarn(inv, n, c->rope_theta, rsc->factor, rsc->beta_fast, rsc->beta_slow,
                              (double)rsc->original_max_position_embeddings);
        /* Amplitude m(f, mu) / m(f, mu_a) on cos and sin (conversion.md §1.2). */
        amp = gq_yarn_mscale(rsc->factor, rsc->mscale) / gq_yarn_mscale(rsc->factor, rsc->mscale_all_dim);
    } else {
        gq_rope_inv_freq(inv, n, c->rope_theta, rsc->type == GQ_ROPE_SCALING_LLAMA3, rsc->factor,
                         rsc->low_freq_factor, rsc->high_freq_factor,
                         (double)rsc->original_max_position_embeddings);
    }
    /* HF forms the angle as float32 position x float32 frequency. */
    for (int p = 0; p < m->rs.rope_positions; p++) {
        for (int j = 0; j < half; j++) {
            float ang = (float)p * inv[j];
            float cs = (float)cos((double)ang), sn = (float)sin((double)ang);
            if (amp != 1.0) {
                cs *= (float)amp;
                sn *= (float)amp;
            }
            m->rs.rope_cos[(size_t)p * half + j] = cs;
            m->rs.rope_sin[(size_t)p * half + j] = sn;
        }
    }
    gq_free(inv);
    /* Softmax scale: 1/sqrt(Dh); MLA tau = (d_n+d_r)^-1/2, times m(f, mu_a)^2
     * under yarn with mscale_all_dim set (§1.4). */
    if (mla) {
        double tau = 1.0 / sqrt((double)(c->qk_nope_head_dim + c->qk_rope_head_dim));
        if (rsc->type == GQ_ROPE_SCALING_YARN && rsc->mscale_all_dim != 0.0) {
            double ms = gq_yarn_mscale(rsc->factor, rsc->mscale_all_dim);
            tau *= ms * ms;
        }
        m->rs.attn_scale = (float)tau;
    } else {
        m->rs.attn_scale = (float)(1.0 / sqrt((double)c->head_dim));
    }
    return GQ_OK;
}

/* "absorb, expanded" etc.: the paths a config supports, for messages. */
static void supported_paths(const gq_config *c, char *buf, size_t size)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int p = 0; p < GQ_PATH_COUNT && at < size; p++)
        if (gq_config_path_supported(c, (gq_path)p))
            at += (size_t)snprintf(buf + at, size - at, "%s%s", at ? ", " : "", gq_path_name((gq_path)p));
}

int gq_model_check_path(const gq_model *m, gq_path path, gq_error *err)
{
    const gq_config *c = m->cfg;
    if (!c) return gq_error_set(err, GQ_ERR_USAGE, "%s: a tokenizer-only folder has no decoding path", m->path);
    if ((int)path < 0 || path >= GQ_PATH_COUNT || !gq_config_path_supported(c, path)) {
        char list[64];
        supported_paths(c, list, sizeof list);
        return gq_error_set(err, GQ_ERR_USAGE, "%s: decoding path '%s' does not apply to a %s model (it has: %s)",
                            m->path, gq_path_name(path), gq_arch_name(c->arch), list);
    }
    return GQ_OK;
}

int gq_kv_cache_init(gq_kv_cache **out, const gq_model *m, gq_path path, int capacity, gq_error *err)
{
    *out = NULL;
    if (!m->weights_loaded)
        return gq_error_set(err, GQ_ERR_USAGE, "%s: model opened without weights", m->path);
    int rc = gq_model_check_path(m, path, err);
    if (rc != GQ_OK) return rc;
    if (capacity <= 0 || capacity > m->rs.rope_positions)
        return gq_error_set(err, GQ_ERR_USAGE,
                            "%s: a sequence of %d positions does not fit this model (max %d)", m->path,
                            capacity, m->rs.rope_positions);
    gq_kv_cache *c = gq_calloc(1, sizeof *c, "kv cache", err);
    if (!c) return GQ_ERR_NOMEM;
    c->path = path;
    c->capacity = capacity;
    c->n_layers = (int)m->cfg->num_hidden_layers;
    size_t total;
    /* This rank's groups only (m->share); absorb keeps the whole latent. */
    if (path == GQ_PATH_NATIVE) {
        c->kv_dim = (int)(m->share.ng * m->cfg->head_dim);
        total = 2 * (size_t)c->n_layers * (size_t)capacity * (size_t)c->kv_dim;
    } else {
        const int dn = (int)m->cfg->qk_nope_head_dim, dr = (int)m->cfg->qk_rope_head_dim;
        const int dv = (int)m->cfg->v_head_dim, N = m->share.ng;
        c->row = path == GQ_PATH_ABSORB ? (int)m->cfg->kv_lora_rank + dr
                 : path == GQ_PATH_GQA  ? N * (dn + dv) + dr
                                        : N * (dn + dr + dv);
    }
    char what[64];
    snprintf(what, sizeof what, "kv cache (%s path)", gq_path_name(path));
    if (path != GQ_PATH_NATIVE) total = (size_t)c->n_layers * (size_t)capacity * (size_t)c->row;
    if (m->dev.moved) { /* the cache lives where the model runs */
        size_t free_b = 0, total_b = 0, need = total * sizeof(float);
        if (m->be->mem_info(&free_b, &total_b) == 0 && need > free_b) {
            gq_free(c);
            return gq_error_set(err, GQ_ERR_DEVICE, "%s: the %s of %d positions needs %.1f MiB on %s, %.1f MiB are "
                                "free (%.1f MiB missing); lower --max-length or --batch-tokens", m->path, what,
                                capacity, need / 1048576.0, m->dev.device_name, free_b / 1048576.0,
                                (need - free_b) / 1048576.0);
        }
        c->mem = m->be;
        c->arena = m->be->alloc(need);
        if (!c->arena) {
            gq_free(c);
            return gq_error_set(err, GQ_ERR_DEVICE, "%s: allocating the %s (%.1f MiB) on %s failed", m->path, what,
                                need / 1048576.0, m->dev.device_name);
        }
    } else {
        c->arena = gq_malloc(total * sizeof(float), what, err);
        if (!c->arena) {
            gq_free(c);
            return GQ_ERR_NOMEM;
        }
    }
    c->bytes = total * sizeof(float);
    if (path == GQ_PATH_NATIVE) {
        c->k = c->arena;
        c->v = c->arena + total / 2;
    } else {
        c->rows = c->arena;
    }
    *out = c;
    return GQ_OK;
}

void gq_kv_cache_free(gq_kv_cache *c)
{
    if (!c) return;
    if (c->mem) c->mem->release(c->arena);
    else gq_free(c->arena);
    gq_free(c);
}

int gq_kv_cache_len(const gq_kv_cache *c) { return c->len; }
int gq_kv_cache_capacity(const gq_kv_cache *c) { return c->capacity; }
gq_path gq_kv_cache_path(const gq_kv_cache *c) { return c->path; }
void gq_kv_cache_truncate(gq_kv_cache *c, int n)
{
    if (n >= 0 && n < c->len) c->len = n;
}
int64_t gq_kv_cache_elems_per_token_layer(const gq_kv_cache *c)
{
    return c->path == GQ_PATH_NATIVE ? 2 * (int64_t)c->kv_dim : (int64_t)c->row;
}
size_t gq_kv_cache_bytes(const gq_kv_cache *c) { return c->bytes; }

/* Sum a partial [T, D] output over the tensor-parallel ranks. */
static int tp_allreduce(gq_model *m, float *x, int T, gq_error *err)
{
    if (m->tp.size <= 1) return GQ_OK;
    int rc = m->tp.allreduce_sum(m->tp.ctx, x, (size_t)T * (size_t)m->cfg->hidden_size, err);
    if (rc != GQ_OK) gq_error_prefix(err, "%s: tensor-parallel rank %d of %d: ", m->path, m->tp.rank, m->tp.size);
    return rc;
}

/* MLA / GQLA attention of layer l for T tokens at cache rows pos0..: reads
 * the normed input rs.xb, writes the path's cache rows, leaves W_o·o (+b_o)
 * in rs.xb (conversion.md §1.4, §2); under tp the heads and groups are this
 * rank's (m->share) and rs.xb is its partial sum.  pos/seg/shared_end: a tree batch as
 * in forward_chunk (pos NULL: rows at positions pos0.., causal). */
static void mla_attention(gq_model *m, const gq_backend_ops *be, gq_kv_cache *c, int l, int T, int pos0,
                          const int *pos, const gq_batch_seq *seqs, int n_seq)
{
    const gq_config *cfg = m->cfg;
    gq_run_state *rs = &m->rs;
    const gq_layer_weights *lw = &m->w.layers[l];
    const int H = m->share.nh, N = m->share.ng;
    const int dn = (int)cfg->qk_nope_head_dim, dr = (int)cfg->qk_rope_head_dim, dv = (int)cfg->v_head_dim;
    const int r = (int)cfg->kv_lora_rank, rq = (int)cfg->q_lora_rank, qk = dn + dr, Qd = H * qk;
    const int il = cfg->rope_interleave;
    const float eps_lat = (float)cfg->latent_norm_eps;
    const gq_mla_shape sh = {H, N, dn, dr, dv, r, rs->attn_scale};

    /* query [T, H*(d_n+d_r)], each head nope then rope */
    if (lw->wq_a.data) {
        be->matmul_w(rs->qa, rq, rs->xb, &lw->wq_a, lw->bq_a, T);
        if (lw->q_a_norm) be->rmsnorm(rs->qa, rs->qa, lw->q_a_norm, T, rq, eps_lat);
        be->matmul_w(rs->q, Qd, rs->qa, &lw->wq_b, lw->bq_b, T);
    } else {
        be->matmul_w(rs->q, Qd, rs->xb, &lw->wq, lw->bq, T);
    }
    /* [c ; k^R] = W_kva a (+b); c^ = RMSNorm(c) (or c without the norm) */
    be->matmul_w(rs->kva, r + dr, rs->xb, &lw->wkv_a, lw->bkv_a, T);
    be->copy_rows(rs->lat, r, rs->kva, r + dr, T, r);
    if (lw->kv_a_norm) be->rmsnorm(rs->lat, rs->lat, lw->kv_a_norm, T, r, eps_lat);
    be->rope_slice(rs->q, Qd, T, H, qk, dn, dr, il, pos0, pos, rs->rope_cos, rs->rope_sin);
    be->rope_slice(rs->kva, r + dr, T, 1, 0, r, dr, il, pos0, pos, rs->rope_cos, rs->rope_sin);

    const int row = c->row;
    float *layer = c->rows + (size_t)l * c->capacity * row; /* [capacity, row] */
    float *dst = layer + (size_t)pos0 * row;
    const float *kr = rs->kva + r;
    switch (c->path) {
    case GQ_PATH_ABSORB: /* [c^ ; k^R] */
        be->copy_rows(dst, row, rs->lat, r, T, r);
        be->copy_rows(dst + r, row, kr, r + dr, T, dr);
        break;
    case GQ_PATH_GQA: /* [K^N_0, V_0, ..., K^N_{N-1}, V_{N-1} ; k^R]: kv_b_proj's block-major rows */
        be->matmul(dst, row, rs->lat, lw->wkv_b, NULL, T, r, N * (dn + dv));
        be->copy_rows(dst + (size_t)N * (dn + dv), row, kr, r + dr, T, dr);
        break;
    case GQ_PATH_EXPANDED: /* per block j: [K^N_j ; k^R ; V_j] */
        for (int j = 0; j < N; j++) {
            float *bj = dst + (size_t)j * (qk + dv);
            const float *wk = lw->wkv_b + (size_t)j * (dn + dv) * r;
            if (dn > 0) be->matmul(bj, row, rs->lat, wk, NULL, T, r, dn);
            be->copy_rows(bj + dn, row, kr, r + dr, T, dr);
            be->matmul(bj + qk, row, rs->lat, wk + (size_t)dn * r, NULL, T, r, dv);
        }
        break;
    default: GQ_ASSERT(!"path checked at cache init"); break;
    }
    /* Attention per sequence, each against its own cache rows. */
    for (int i = 0; i < n_seq; i++) {
        const gq_batch_seq *q = &seqs[i];
        float *o = rs->att_out + (size_t)q->row0 * H * dv;
        const float *qi = rs->q + (size_t)q->row0 * Qd, *ci = layer + (size_t)q->base * row;
        if (c->path == GQ_PATH_ABSORB)
            be->attn_absorb(o, qi, ci, lw->wkv_b, q->n_rows, q->pos0, q->shared_end, q->seg, &sh);
        else if (c->path == GQ_PATH_GQA)
            be->attn_gqa(o, qi, ci, q->n_rows, q->pos0, q->shared_end, q->seg, &sh);
        else
            be->attn_expanded(o, qi, ci, q->n_rows, q->pos0, q->shared_end, q->seg, &sh);
    }
    be->matmul_w(rs->xb, (int)cfg->hidden_size, rs->att_out, &lw->wo, lw->bo, T);
}

/* Run one chunk of T <= max_tokens rows into cache rows c->len ..; leaves
 * the final-layer residual stream in rs.x.  pos NULL: the rows are one
 * causal sequence at positions c->len ..; else row t is at position pos[t]
 * and seqs[0..n_seq) say which rows form which sequence (gq_batch_seq);
 * pos and the seqs' seg arrays in the backend's memory (gq_forward_batch
 * puts them there), tokens on the host.
 * Fails only when a tensor-parallel all-reduce does (the cache length is
 * then unchanged). */
static int forward_chunk(gq_model *m, const gq_backend_ops *be, gq_kv_cache *c, const int32_t *tokens,
                         int T, const int *pos, const gq_batch_seq *seqs, int n_seq, gq_error *err)
{
    const gq_config *cfg = m->cfg;
    gq_run_state *rs = &m->rs;
    int D = (int)cfg->hidden_size, I = m->share.ni, rc;
    int H = m->share.nh, Hkv = m->share.ng; /* this rank's heads and KV heads */
    int Dh = (int)cfg->head_dim, L = (int)cfg->num_hidden_layers;
    int qd = H * Dh, kd = Hkv * Dh, pos0 = c->len;
    float eps = (float)cfg->rms_norm_eps;
    float scale = rs->attn_scale;
    gq_batch_seq whole = {0, T, 0, pos0, 0, NULL};
    if (!pos) {
        seqs = &whole;
        n_seq = 1;
    }

    be->upload(rs->tok, tokens, (size_t)T * sizeof *tokens);
    be->embed(rs->x, &m->w.embed, rs->tok, T);

    for (int l = 0; l < L; l++) {
        const gq_layer_weights *lw = &m->w.layers[l];
        be->rmsnorm(rs->xb, rs->x, lw->attn_norm, T, D, eps);
        if (c->path == GQ_PATH_NATIVE) {
            float *kc = c->k + ((size_t)l * c->capacity) * kd; /* [capacity, kd] */
            float *vc = c->v + ((size_t)l * c->capacity) * kd;
            float *knew = kc + (size_t)pos0 * kd;
            be->matmul_w(rs->q, qd, rs->xb, &lw->wq, lw->bq, T);
            be->matmul_w(knew, kd, rs->xb, &lw->wk, lw->bk, T);
            be->matmul_w(vc + (size_t)pos0 * kd, kd, rs->xb, &lw->wv, lw->bv, T);
            if (lw->q_norm) { /* qwen3: each head's q and k as a row of Dh */
                be->rmsnorm(rs->q, rs->q, lw->q_norm, T * H, Dh, eps);
                be->rmsnorm(knew, knew, lw->k_norm, T * Hkv, Dh, eps);
            }
            if (pos) {
                be->rope_rows(rs->q, qd, T, H, Dh, pos, rs->rope_cos, rs->rope_sin);
                be->rope_rows(knew, kd, T, Hkv, Dh, pos, rs->rope_cos, rs->rope_sin);
            } else {
                be->rope(rs->q, qd, T, H, Dh, pos0, rs->rope_cos, rs->rope_sin);
                be->rope(knew, kd, T, Hkv, Dh, pos0, rs->rope_cos, rs->rope_sin);
            }
            for (int i = 0; i < n_seq; i++) {
                const gq_batch_seq *q = &seqs[i];
                size_t at = (size_t)q->row0 * qd, kv = (size_t)q->base * kd;
                be->attention_tree(rs->att_out + at, rs->q + at, kc + kv, vc + kv, q->n_rows, q->pos0,
                                   q->shared_end, q->seg, H, Hkv, Dh, scale);
            }
            be->matmul_w(rs->xb, D, rs->att_out, &lw->wo, lw->bo, T);
        } else {
            mla_attention(m, be, c, l, T, pos0, pos, seqs, n_seq);
        }
        if ((rc = tp_allreduce(m, rs->xb, T, err)) != GQ_OK) return rc;
        be->add(rs->x, rs->xb, T, D);

        be->rmsnorm(rs->xb, rs->x, lw->mlp_norm, T, D, eps);
        be->matmul_w(rs->hb, I, rs->xb, &lw->w_gate, NULL, T);
        be->matmul_w(rs->hb2, I, rs->xb, &lw->w_up, NULL, T);
        be->swiglu(rs->hb, rs->hb2, T, I);
        be->matmul_w(rs->xb, D, rs->hb, &lw->w_down, NULL, T);
        if ((rc = tp_allreduce(m, rs->xb, T, err)) != GQ_OK) return rc;
        be->add(rs->x, rs->xb, T, D);
    }
    c->len += T;
    return GQ_OK;
}

/* Score entries j < n of the chunk's final residual stream: row rows[j]
 * (non-decreasing) predicts targets[j].  Each distinct row is normalised and
 * projected onto the vocabulary once (MMLU's four letters share one row),
 * log-softmax in float64 (backend.h, vocab_scores). */
static void score_rows(gq_model *m, const gq_backend_ops *be, const int *rows, const int32_t *targets, int n,
                       gq_score *out)
{
    const gq_config *cfg = m->cfg;
    gq_run_state *rs = &m->rs;
    int D = (int)cfg->hidden_size;
    if (n <= 0) return;
    int *entry_row = malloc((size_t)n * sizeof *entry_row);
    double *entry_lp = malloc((size_t)n * sizeof *entry_lp);
    int32_t *row_am = malloc((size_t)n * sizeof *row_am);
    double *row_amlp = malloc((size_t)n * sizeof *row_amlp);
    GQ_ASSERT(entry_row && entry_lp && row_am && row_amlp); /* a few bytes per scored token */
    /* Gather the distinct rows into xb (free after the chunk; at most T rows). */
    int nu = 0;
    for (int j = 0; j < n; j++) {
        if (j == 0 || rows[j] != rows[j - 1]) {
            be->copy_rows(rs->xb + (size_t)nu * D, D, rs->x + (size_t)rows[j] * D, D, 1, D);
            nu++;
        }
        entry_row[j] = nu - 1;
    }
    be->rmsnorm(rs->xb, rs->xb, m->w.final_norm, nu, D, (float)cfg->rms_norm_eps);
    gq_vocab_scores vs = {nu, n, entry_row, targets, entry_lp, row_am, row_amlp};
    be->vocab_scores(rs->xb, &m->w.lm_head, &vs);
    for (int j = 0; j < n; j++) {
        gq_score *s = &out[j];
        s->logprob = entry_lp[j];
        s->argmax = row_am[entry_row[j]];
        s->argmax_logprob = row_amlp[entry_row[j]];
        s->is_greedy = s->argmax == targets[j];
    }
    free(entry_row);
    free(entry_lp);
    free(row_am);
    free(row_amlp);
}

static int check_feed(const gq_model *m, const gq_kv_cache *c, const int32_t *tokens, int T, const int *rows,
                      const int32_t *targets, int n_score, gq_error *err)
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
    return GQ_OK;
}

int gq_forward(gq_model *m, gq_kv_cache *c, const int32_t *tokens, int T, const int *rows,
               const int32_t *targets, int n_score, gq_score *out, gq_error *err)
{
    int rc = check_feed(m, c, tokens, T, rows, targets, n_score, err);
    if (rc != GQ_OK) return rc;
    const gq_backend_ops *be = m->be;
    gq_backend_cpu_set_threads(m->n_threads);
    int j = 0;
    for (int start = 0; start < T; start += m->rs.max_tokens) {
        int n = T - start < m->rs.max_tokens ? T - start : m->rs.max_tokens;
        if ((rc = forward_chunk(m, be, c, tokens + start, n, NULL, NULL, 0, err)) != GQ_OK) return rc;
        /* Scores whose rows fall in this chunk, rebased to the chunk. */
        int j0 = j;
        while (j < n_score && rows[j] < start + n) j++;
        if (j > j0) {
            int *local = malloc((size_t)(j - j0) * sizeof *local);
            GQ_ASSERT(local != NULL);
            for (int k = j0; k < j; k++) local[k - j0] = rows[k] - start;
            score_rows(m, be, local, targets + j0, j - j0, out + j0);
            free(local);
        }
    }
    return GQ_OK;
}

int gq_forward_batch(gq_model *m, gq_kv_cache *c, const int32_t *tokens, int T, const int *pos,
                     const gq_batch_seq *seqs, int n_seq, int keep, const int *rows, const int32_t *targets,
                     int n_score, gq_score *out, gq_error *err)
{
    int rc = check_feed(m, c, tokens, T, rows, targets, n_score, err);
    if (rc != GQ_OK) return rc;
    if (T > m->rs.max_tokens)
        return gq_error_set(err, GQ_ERR_USAGE, "a batch of %d rows exceeds the %d rows of the run state", T,
                            m->rs.max_tokens);
    for (int i = 0; i < n_seq; i++) {
        const gq_batch_seq *q = &seqs[i];
        if (q->row0 < 0 || q->n_rows < 0 || q->row0 + q->n_rows > T || q->base < 0 ||
            q->base + q->pos0 != c->len + q->row0 || q->shared_end < 0)
            return gq_error_set(err, GQ_ERR_USAGE, "batch sequence %d (rows %d..%d, cache base %d, pos0 %d) does "
                                "not continue the cache at row %d", i, q->row0, q->row0 + q->n_rows, q->base,
                                q->pos0, c->len);
    }
    if (keep < 0 || keep > c->len + T)
        return gq_error_set(err, GQ_ERR_USAGE, "cannot keep %d cache rows of %d", keep, c->len + T);
    const gq_backend_ops *be = m->be;
    gq_backend_cpu_set_threads(m->n_threads);
    /* Positions and tree masks where the backend reads them: each
     * sequence's seg at rs.seg + its row0 (sequences own disjoint rows). */
    gq_batch_seq *dseqs = gq_malloc((size_t)(n_seq > 0 ? n_seq : 1) * sizeof *dseqs, "batch sequences", err);
    if (!dseqs) return GQ_ERR_NOMEM;
    if (pos) be->upload(m->rs.pos, pos, (size_t)T * sizeof *pos);
    for (int i = 0; i < n_seq; i++) {
        dseqs[i] = seqs[i];
        if (seqs[i].seg) {
            be->upload(m->rs.seg + seqs[i].row0, seqs[i].seg, (size_t)seqs[i].n_rows * sizeof *seqs[i].seg);
            dseqs[i].seg = m->rs.seg + seqs[i].row0;
        }
    }
    rc = forward_chunk(m, be, c, tokens, T, pos ? m->rs.pos : NULL, dseqs, n_seq, err);
    gq_free(dseqs);
    if (rc != GQ_OK) return rc;
    score_rows(m, be, rows, targets, n_score, out);
    c->len = keep;
    return GQ_OK;
}

int gq_forward_tree(gq_model *m, gq_kv_cache *c, const int32_t *tokens, int T, int n_shared,
                    const int *branch_start, int n_branch, const int *rows, const int32_t *targets, int n_score,
                    gq_score *out, gq_error *err)
{
    int rc = check_feed(m, c, tokens, T, rows, targets, n_score, err);
    if (rc != GQ_OK) return rc;
    if (T > m->rs.max_tokens)
        return gq_error_set(err, GQ_ERR_USAGE, "a tree batch of %d rows exceeds the %d rows of the run state", T,
                            m->rs.max_tokens);
    if (n_shared < 0 || n_shared > T)
        return gq_error_set(err, GQ_ERR_USAGE, "bad tree batch (%d shared rows of %d)", n_shared, T);
    for (int b = 0; b < n_branch; b++)
        if (branch_start[b] < n_shared || branch_start[b] > T || (b > 0 && branch_start[b] < branch_start[b - 1]))
            return gq_error_set(err, GQ_ERR_USAGE, "tree branch %d starts at row %d", b, branch_start[b]);
    int *pos = gq_malloc(2 * (size_t)(T ? T : 1) * sizeof *pos, "tree positions", err);
    if (!pos) return GQ_ERR_NOMEM;
    int *seg = pos + T, len = c->len;
    for (int t = 0; t < n_shared; t++) {
        pos[t] = len + t;
        seg[t] = 0;
    }
    for (int b = 0; b < n_branch; b++) {
        int end = b + 1 < n_branch ? branch_start[b + 1] : T;
        for (int t = branch_start[b]; t < end; t++) {
            pos[t] = len + n_shared + (t - branch_start[b]); /* every branch continues the shared rows */
            seg[t] = len + branch_start[b];
        }
    }
    /* one sequence at cache base 0: its seg values are cache rows already */
    gq_batch_seq q = {0, T, 0, len, len + n_shared, seg};
    rc = gq_forward_batch(m, c, tokens, T, pos, &q, 1, len + n_shared, rows, targets, n_score, out, err);
    gq_free(pos);
    return rc;
}
