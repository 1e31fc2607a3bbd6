/* weights.c — a checkpoint's tensors as the forward pass reads them, and
 * the run state (model_internal.h).
 *
 * Matrices stay in their stored encoding as views on the checkpoint's
 * mapping (wmat.h): the file's pages are the weights, and the backend widens
 * a block of rows right before each product.  Only what cannot be a view is
 * copied, still encoded: GGUF q/k rows whose RoPE permutation is undone.
 * Norm weights, biases and kv_b_proj (read by the absorb path's attention,
 * not by a product with activations) are widened to float32 into one small
 * arena.  weights_f32 (the converter) widens the matrices too, as before.
 * Every weight is checked finite at load either way.
 *
 * Tensor parallelism (tp.h): a rank keeps only its block of each split
 * tensor.  A block of whole rows (q, k/v, gate/up, kv_b_proj, biases) stays
 * a view at a row offset; a block of columns (o_proj, down_proj) is not
 * contiguous in any encoding (GGUF blocks span 32 or 256 columns), so it
 * is widened to float32 into the arena — more bytes for those two matrices
 * than their stored encoding, in exchange for one code path. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gq_alloc.h"
#include "backend.h"
#include "model_internal.h"
#include "tp.h"

/* Rows of one forward chunk (the scorer's --batch-tokens ceiling) when the
 * caller names none: 512 on the CPU, where larger batches stop paying once
 * the activations leave the cache; 2048 on a GPU, where a product of 512
 * rows leaves most of the SMs idle on a small model. */
#define GQ_DEFAULT_MAX_TOKENS 512
#define GQ_DEFAULT_MAX_TOKENS_GPU 2048

typedef struct weight_slot {
    char name[160];
    size_t n_elems;          /* expected count from the config */
    int optional;            /* biases: absent is fine */
    const float **dst;       /* a float32 tensor: where the loaded pointer goes */
    gq_wmat *mat;            /* or a matrix of `rows` rows, kept encoded unless weights_f32 */
    int rows;                /* rows of the whole tensor (a vector: n_elems rows of one column) */
    /* The block this rank keeps: rows [r0, r0 + nr), columns [c0, c0 + nc)
     * (tensor parallelism); the whole tensor otherwise. */
    int r0, nr, c0, nc;
} weight_slot;

static void add_slot(weight_slot *slots, int *n, const char *name, size_t n_elems, int optional,
                     const float **dst)
{
    weight_slot *s = &slots[(*n)++];
    snprintf(s->name, sizeof s->name, "%s", name);
    s->n_elems = n_elems;
    s->optional = optional;
    s->dst = dst;
    s->rows = s->nr = (int)n_elems;
    s->nc = 1;
}

static void add_mat(weight_slot *slots, int *n, const char *name, size_t rows, size_t cols, gq_wmat *mat)
{
    weight_slot *s = &slots[(*n)++];
    snprintf(s->name, sizeof s->name, "%s", name);
    s->n_elems = rows * cols;
    s->mat = mat;
    s->rows = s->nr = (int)rows;
    s->nc = (int)cols;
}

/* Keep rows [r0, r0 + n) / columns [c0, c0 + n) of the slot added last. */
static void slice_rows(weight_slot *slots, int n_slots, int64_t r0, int64_t n)
{
    slots[n_slots - 1].r0 = (int)r0;
    slots[n_slots - 1].nr = (int)n;
}

static void slice_cols(weight_slot *slots, int n_slots, int64_t c0, int64_t n)
{
    slots[n_slots - 1].c0 = (int)c0;
    slots[n_slots - 1].nc = (int)n;
}

static int slot_cols(const weight_slot *s) { return (int)(s->n_elems / (size_t)s->rows); }
static int slot_whole(const weight_slot *s) { return s->nr == s->rows && s->nc == slot_cols(s); }
/* A matrix that stays in its encoding: a view of whole rows. */
static int slot_stored(const weight_slot *s, int widen_all) { return s->mat && !widen_all && s->nc == slot_cols(s); }

/* Float32 view of a widened matrix. */
static gq_wmat f32_mat(const float *x, int rows, int cols)
{
    gq_wmat w = {GQ_DTYPE_F32, x, x, rows, cols, (size_t)cols * sizeof(float)};
    return w;
}

/* Make slot s's matrix (its rows r0 .. r0+nr) from tensor t in its stored
 * encoding: a view, or a view on an encoded copy at *owned (advanced) when
 * rows must be un-permuted. */
static int stored_mat(const weight_slot *s, const gq_tensor_ref *t, unsigned char **owned, gq_weights *w,
                      gq_error *err)
{
    int rc = gq_tensor_check_stored(t, err);
    if (rc != GQ_OK) return rc;
    const void *data = t->data;
    if (t->rope_unpermute_heads > 0) {
        if ((rc = gq_tensor_copy_unpermuted(t, *owned, err)) != GQ_OK) return rc;
        data = *owned;
        *owned += (t->nbytes + 63) / 64 * 64;
    }
    gq_wmat *m = s->mat;
    m->dtype = t->dtype;
    m->row_bytes = t->nbytes / (size_t)s->rows;
    m->data = (const unsigned char *)data + (size_t)s->r0 * m->row_bytes;
    m->rows = s->nr;
    m->cols = slot_cols(s);
    if (t->rope_unpermute_heads <= 0) w->mapped_bytes += (size_t)s->nr * m->row_bytes;
    data = m->data;
    m->f32 = t->dtype == GQ_DTYPE_F32 && ((uintptr_t)data % sizeof(float)) == 0 ? data : NULL;
    return GQ_OK;
}

static int is_mla(const gq_config *c) { return c->arch == GQ_ARCH_DEEPSEEK_MLA || c->arch == GQ_ARCH_GQLA; }

int gq_model_load_weights(gq_model *m, const gq_open_opts *opts, gq_error *err)
{
    const gq_config *c = m->cfg;
    int rc = GQ_OK;
    float *scratch = NULL; /* a whole tensor, widened, while this rank's block is copied out */
    const int mla = is_mla(c);
    if (!mla && c->arch != GQ_ARCH_LLAMA && c->arch != GQ_ARCH_MISTRAL && c->arch != GQ_ARCH_QWEN2 &&
        c->arch != GQ_ARCH_QWEN3 && c->arch != GQ_ARCH_PHI3)
        return gq_error_set(err, GQ_ERR_UNSUPPORTED,
                            "%s: model_type '%s' has no forward pass in this build (llama, mistral, qwen2, "
                            "qwen3, phi3, deepseek_v2/v3 dense, gqla)",
                            m->path, c->model_type);
    if (gq_config_has_moe(c))
        return gq_error_set(err, GQ_ERR_UNSUPPORTED,
                            "%s: MoE layers (first_k_dense_replace = %lld < num_hidden_layers = %lld) are not "
                            "supported; only dense SwiGLU MLP layers are",
                            m->path, (long long)c->first_k_dense_replace, (long long)c->num_hidden_layers);
    size_t D = (size_t)c->hidden_size, I = (size_t)c->intermediate_size, V = (size_t)c->vocab_size;
    size_t H = (size_t)c->num_attention_heads, Hkv = (size_t)c->num_key_value_heads;
    size_t Dh = (size_t)c->head_dim, L = (size_t)c->num_hidden_layers;
    size_t dn = (size_t)c->qk_nope_head_dim, dr = (size_t)c->qk_rope_head_dim, dv = (size_t)c->v_head_dim;
    size_t r = (size_t)c->kv_lora_rank, rq = (size_t)c->q_lora_rank, Qd = H * (dn + dr);
    /* This rank's share (tp.h): groups [g0, g0+Gl), their heads, MLP rows. */
    gq_tp_comm tp = {0, 1, NULL, NULL};
    if (opts->tp && opts->tp->size > 1) tp = *opts->tp;
    if ((rc = gq_tp_check(c, tp.rank, tp.size, m->path, err)) != GQ_OK) return rc;
    if (tp.size > 1 && !tp.allreduce_sum)
        return gq_error_set(err, GQ_ERR_USAGE, "%s: tensor parallelism over %d ranks without an all-reduce", m->path,
                            tp.size);
    int64_t g0, g1, i0, i1;
    gq_tp_range((int64_t)Hkv, tp.rank, tp.size, &g0, &g1);
    gq_tp_range((int64_t)I, tp.rank, tp.size, &i0, &i1);
    const int64_t gs = (int64_t)(H / Hkv), Gl = g1 - g0, h0 = g0 * gs, Hl = Gl * gs, Il = i1 - i0;
    const int64_t qk = (int64_t)(dn + dr), blk = (int64_t)(dn + dv);
    int n_slots_max = 3 + 20 * (int)L, n_slots = 0;
    weight_slot *slots = gq_calloc((size_t)n_slots_max, sizeof *slots, "weight table", err);
    m->w.layers = gq_calloc(L, sizeof *m->w.layers, "layer table", err);
    if (!slots || !m->w.layers) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    add_mat(slots, &n_slots, "model.embed_tokens.weight", V, D, &m->w.embed);
    add_slot(slots, &n_slots, "model.norm.weight", D, 0, &m->w.final_norm);
    if (!c->tie_word_embeddings) add_mat(slots, &n_slots, "lm_head.weight", V, D, &m->w.lm_head);
    for (size_t l = 0; l < L; l++) {
        gq_layer_weights *lw = &m->w.layers[l];
        char p[96];
        char nm[160];
        snprintf(p, sizeof p, "model.layers.%zu.", l);
#define SLOT(suffix, count, opt, field)                                   \
        snprintf(nm, sizeof nm, "%s%s", p, suffix);                      \
        add_slot(slots, &n_slots, nm, (count), (opt), &lw->field)
#define MAT(suffix, rows, cols, field)                                    \
        snprintf(nm, sizeof nm, "%s%s", p, suffix);                      \
        add_mat(slots, &n_slots, nm, (rows), (cols), &lw->field)
#define ROWS(r0, n) slice_rows(slots, n_slots, (r0), (n))
#define COLS(c0, n) slice_cols(slots, n_slots, (c0), (n))
        SLOT("input_layernorm.weight", D, 0, attn_norm);
        if (mla) {
            /* Shapes were checked by checkpoint.c; optional slots are the
             * biases and (qk_latent_layernorm false) the latent norms. */
            /* Under tp: this rank's heads' query rows, its groups' kv_b
             * blocks, its heads' o_proj columns; the latent projection
             * (q_a, kv_a) is replicated. */
            if (rq == 0) {
                MAT("self_attn.q_proj.weight", Qd, D, wq);
                ROWS(h0 * qk, Hl * qk);
                SLOT("self_attn.q_proj.bias", Qd, 1, bq);
                ROWS(h0 * qk, Hl * qk);
            } else {
                MAT("self_attn.q_a_proj.weight", rq, D, wq_a);
                SLOT("self_attn.q_a_proj.bias", rq, 1, bq_a);
                SLOT("self_attn.q_a_layernorm.weight", rq, 1, q_a_norm);
                MAT("self_attn.q_b_proj.weight", Qd, rq, wq_b);
                ROWS(h0 * qk, Hl * qk);
                SLOT("self_attn.q_b_proj.bias", Qd, 1, bq_b);
                ROWS(h0 * qk, Hl * qk);
            }
            MAT("self_attn.kv_a_proj_with_mqa.weight", r + dr, D, wkv_a);
            SLOT("self_attn.kv_a_proj_with_mqa.bias", r + dr, 1, bkv_a);
            SLOT("self_attn.kv_a_layernorm.weight", r, 1, kv_a_norm);
            SLOT("self_attn.kv_b_proj.weight", Hkv * (dn + dv) * r, 0, wkv_b);
            slots[n_slots - 1].rows = (int)(Hkv * blk); /* kv_b: [N*(d_n+d_v), r], whole rows per block */
            slots[n_slots - 1].nc = (int)r;
            ROWS(g0 * blk, Gl * blk);
            MAT("self_attn.o_proj.weight", D, H * dv, wo);
            COLS(h0 * (int64_t)dv, Hl * (int64_t)dv);
            /* o_proj's bias enters the sum of the ranks' partial outputs once: rank 0's. */
            if (tp.rank == 0) {
                SLOT("self_attn.o_proj.bias", D, 1, bo);
            }
        } else {
            MAT("self_attn.q_proj.weight", H * Dh, D, wq);
            ROWS(h0 * (int64_t)Dh, Hl * (int64_t)Dh);
            SLOT("self_attn.q_proj.bias", H * Dh, 1, bq);
            ROWS(h0 * (int64_t)Dh, Hl * (int64_t)Dh);
            MAT("self_attn.k_proj.weight", Hkv * Dh, D, wk);
            ROWS(g0 * (int64_t)Dh, Gl * (int64_t)Dh);
            SLOT("self_attn.k_proj.bias", Hkv * Dh, 1, bk);
            ROWS(g0 * (int64_t)Dh, Gl * (int64_t)Dh);
            MAT("self_attn.v_proj.weight", Hkv * Dh, D, wv);
            ROWS(g0 * (int64_t)Dh, Gl * (int64_t)Dh);
            SLOT("self_attn.v_proj.bias", Hkv * Dh, 1, bv);
            ROWS(g0 * (int64_t)Dh, Gl * (int64_t)Dh);
            MAT("self_attn.o_proj.weight", D, H * Dh, wo);
            COLS(h0 * (int64_t)Dh, Hl * (int64_t)Dh);
            if (tp.rank == 0) {
                SLOT("self_attn.o_proj.bias", D, 1, bo);
            }
            if (c->qk_norm) {
                SLOT("self_attn.q_norm.weight", Dh, 0, q_norm);
                SLOT("self_attn.k_norm.weight", Dh, 0, k_norm);
            }
        }
        SLOT("post_attention_layernorm.weight", D, 0, mlp_norm);
        MAT("mlp.gate_proj.weight", I, D, w_gate);
        ROWS(i0, Il);
        MAT("mlp.up_proj.weight", I, D, w_up);
        ROWS(i0, Il);
        MAT("mlp.down_proj.weight", D, I, w_down);
        COLS(i0, Il);
#undef SLOT
#undef MAT
#undef ROWS
#undef COLS
    }
    /* One float32 arena for what is widened, one block for encoded copies:
     * sum the sizes of the tensors that exist. */
    const int widen_all = opts->weights_f32;
    size_t total = 0, owned = 0, scratch_n = 0;
    for (int i = 0; i < n_slots; i++) {
        const gq_tensor_ref *t = gq_checkpoint_find(m->ck, slots[i].name);
        if (!t) {
            if (slots[i].optional) continue;
            rc = gq_error_set(err, GQ_ERR_INVALID, "%s: tensor '%s' is missing", m->path, slots[i].name);
            goto done;
        }
        if (t->n_elems != slots[i].n_elems) {
            rc = gq_error_set(err, GQ_ERR_INVALID,
                              "%s: tensor '%s' has %llu elements, the config implies %zu", t->file,
                              slots[i].name, (unsigned long long)t->n_elems, slots[i].n_elems);
            goto done;
        }
        if (!slot_stored(&slots[i], widen_all)) {
            total += (size_t)slots[i].nr * (size_t)slots[i].nc;
            if (!slot_whole(&slots[i]) && slots[i].n_elems > scratch_n) scratch_n = slots[i].n_elems;
        } else if (t->rope_unpermute_heads > 0) {
            owned += (t->nbytes + 63) / 64 * 64;
        }
    }
    if (scratch_n && !(scratch = gq_malloc(scratch_n * sizeof(float), "weight slicing scratch", err))) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    m->w.arena = gq_malloc((total ? total : 1) * sizeof(float), "model weights (float32)", err);
    m->w.owned = owned ? gq_malloc(owned, "model weights (un-permuted RoPE rows)", err) : NULL;
    if (!m->w.arena || (owned && !m->w.owned)) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    m->w.arena_floats = total;
    m->w.owned_bytes = owned;
    size_t off = 0;
    unsigned char *next_owned = m->w.owned;
    for (int i = 0; i < n_slots; i++) {
        const gq_tensor_ref *t = gq_checkpoint_find(m->ck, slots[i].name);
        if (!t) continue;
        const weight_slot *s = &slots[i];
        if (slot_stored(s, widen_all)) {
            if ((rc = stored_mat(s, t, &next_owned, &m->w, err)) != GQ_OK) goto done;
            continue;
        }
        float *dst = m->w.arena + off;
        if (slot_whole(s)) {
            rc = gq_tensor_load_f32(t, dst, err);
        } else { /* widen it all, keep the block */
            rc = gq_tensor_load_f32(t, scratch, err);
            const int cols = slot_cols(s);
            for (int rr = 0; rc == GQ_OK && rr < s->nr; rr++)
                memcpy(dst + (size_t)rr * s->nc, scratch + (size_t)(s->r0 + rr) * cols + s->c0,
                       (size_t)s->nc * sizeof(float));
        }
        if (rc != GQ_OK) goto done;
        if (s->mat) *s->mat = f32_mat(dst, s->nr, s->nc);
        else *s->dst = dst;
        off += (size_t)s->nr * (size_t)s->nc;
    }
    if (c->tie_word_embeddings) m->w.lm_head = m->w.embed;

    /* Run state for max_tokens rows. */
    gq_run_state *rs = &m->rs;
    rs->max_tokens = opts->max_tokens > 0              ? opts->max_tokens
                     : opts->device == GQ_DEVICE_CUDA ? GQ_DEFAULT_MAX_TOKENS_GPU
                                                      : GQ_DEFAULT_MAX_TOKENS;
    rs->rope_positions = (int)(c->max_position_embeddings > 0 ? c->max_position_embeddings : 2048);
    if (rs->rope_positions < rs->max_tokens) rs->rope_positions = rs->max_tokens;
    rs->rope_width = (int)(mla ? dr : Dh);
    size_t T = (size_t)rs->max_tokens, half = (size_t)rs->rope_width / 2;
    /* q, k/v, attention output and the MLP rows: this rank's share. */
    size_t qcols = (size_t)Hl * (mla ? (size_t)qk : Dh), kvcols = mla ? 0 : (size_t)Gl * Dh;
    size_t ocols = (size_t)Hl * (mla ? dv : Dh), Ir = (size_t)Il;
    size_t sizes[] = {T * D, T * D, T * qcols, T * kvcols, T * kvcols, T * ocols, T * Ir, T * Ir,
                      (size_t)rs->rope_positions * half,
                      (size_t)rs->rope_positions * half, T * rq, T * (r + dr), T * r};
    float **ptrs[] = {&rs->x, &rs->xb, &rs->q, &rs->k, &rs->v, &rs->att_out, &rs->hb, &rs->hb2,
                      &rs->rope_cos, &rs->rope_sin, &rs->qa, &rs->kva, &rs->lat};
    size_t act = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) act += sizes[i];
    rs->arena = gq_malloc(act * sizeof(float), "activations", err);
    rs->ints = gq_malloc(3 * T * sizeof(int), "batch token ids and positions", err);
    if (!rs->arena || !rs->ints) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    rs->arena_floats = act;
    rs->tok = (int32_t *)rs->ints;
    rs->pos = rs->ints + T;
    rs->seg = rs->ints + 2 * T;
    act = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        *ptrs[i] = sizes[i] ? rs->arena + act : NULL;
        act += sizes[i];
    }
    rc = gq_forward_init_rope(m, err);
    if (rc != GQ_OK) goto done;
    m->n_threads = opts->n_threads;
    m->tp = tp;
    m->share = (gq_tp_share){(int)h0, (int)Hl, (int)g0, (int)Gl, (int)i0, (int)Il};
    m->weights_loaded = 1;
    m->weights_f32 = widen_all;
    m->be = gq_backend_cpu();
done:
    gq_free(scratch);
    gq_free(slots);
    return rc;
}

int gq_model_widen_weights(gq_model *m, gq_error *err)
{
    if (!m->weights_loaded)
        return gq_error_set(err, GQ_ERR_USAGE, "%s: model opened without weights", m->path);
    if (m->weights_f32) return GQ_OK;
    if (m->dev.moved)
        return gq_error_set(err, GQ_ERR_UNSUPPORTED, "%s: the converter's float32 weights stay on the host; open "
                            "the model without --device %s", m->path, m->dev.be->name);
    gq_tp_comm tp = m->tp;
    gq_open_opts o = {.load_weights = 1, .n_threads = m->n_threads, .max_tokens = m->rs.max_tokens,
                      .weights_f32 = 1, .tp = &tp};
    gq_model_free_weights(m);
    int rc = gq_model_load_weights(m, &o, err);
    if (rc != GQ_OK) gq_model_free_weights(m);
    return rc;
}

void gq_model_free_weights(gq_model *m)
{
    if (m->dev.moved) {
        gq_model_release_device(m); /* the arenas live there; the host ones are gone */
    } else {
        gq_free(m->w.arena);
        gq_free(m->w.owned);
        gq_free(m->rs.arena);
        gq_free(m->rs.ints);
    }
    gq_free(m->w.layers);
    memset(&m->w, 0, sizeof m->w);
    memset(&m->rs, 0, sizeof m->rs);
    m->weights_loaded = 0;
    m->weights_f32 = 0;
    gq_backend_cpu_release();
}
