/* device.c — a loaded model moved into a backend's memory, so that the
 * forward pass runs there (--device cuda): the weights in their stored
 * encoding, the run state, and (forward.c) the KV caches.
 *
 * Two allocations on the backend: one for the weights (the float32 arena
 * of norms, biases, kv_b_proj and widened matrices; the encoded copies of
 * GGUF RoPE rows; then every matrix that was a view on the checkpoint's
 * mapping, each 256-byte aligned, a tied lm_head once), and one for the
 * activations (the run state's arena, RoPE tables included, and its
 * token/position ints).  Every pointer in gq_weights and gq_run_state is
 * rebased onto them and the host arenas are freed.
 *
 * The same code moves a model "onto" the CPU backend (copies in host
 * memory).  tests/test_device.c runs the forward pass that way through a
 * backend that checks each pointer an op is given lies inside its own
 * allocations: that is how a build without a GPU proves that nothing a CUDA
 * run reads was left behind on the host.
 *
 * The CUDA backend is a module (libgqla_cuda.so) opened with dlopen when
 * --device cuda asks for it: linking cuBLAS into the executable would load
 * it into every CPU run as well (cuda_probe.c has the figures).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef GQLA_CUDA_MODULE
#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>
#endif

#include "gq_alloc.h"
#include "model_internal.h"

#define DEVICE_ALIGN 256

static size_t align_up(size_t n) { return (n + DEVICE_ALIGN - 1) / DEVICE_ALIGN * DEVICE_ALIGN; }

/* Pointers to every matrix and float32 tensor field of the weights. */
typedef struct weight_fields {
    gq_wmat **mats;
    int n_mats;
    const float ***vecs;
    int n_vecs;
} weight_fields;

static int collect_fields(gq_model *m, weight_fields *f, gq_error *err)
{
    const int L = (int)m->cfg->num_hidden_layers;
    gq_weights *w = &m->w;
    f->n_mats = f->n_vecs = 0;
    f->mats = gq_malloc((size_t)(10 * L + 2) * sizeof *f->mats, "device move: matrix list", err);
    f->vecs = gq_malloc((size_t)(14 * L + 1) * sizeof *f->vecs, "device move: tensor list", err);
    if (!f->mats || !f->vecs) {
        gq_free(f->mats);
        gq_free(f->vecs);
        return GQ_ERR_NOMEM;
    }
    for (int l = 0; l < L; l++) {
        gq_layer_weights *lw = &w->layers[l];
        gq_wmat *mats[] = {&lw->wq, &lw->wq_a, &lw->wq_b, &lw->wkv_a, &lw->wk,
                           &lw->wv, &lw->wo,   &lw->w_gate, &lw->w_up, &lw->w_down};
        const float **vecs[] = {&lw->attn_norm, &lw->bq,    &lw->q_norm,    &lw->k_norm, &lw->bq_a,
                                &lw->q_a_norm,  &lw->bq_b,  &lw->bkv_a,     &lw->kv_a_norm, &lw->wkv_b,
                                &lw->bk,        &lw->bv,    &lw->bo,        &lw->mlp_norm};
        for (size_t i = 0; i < sizeof mats / sizeof mats[0]; i++) f->mats[f->n_mats++] = mats[i];
        for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) f->vecs[f->n_vecs++] = vecs[i];
    }
    f->mats[f->n_mats++] = &w->embed;
    f->mats[f->n_mats++] = &w->lm_head;
    f->vecs[f->n_vecs++] = &w->final_norm;
    return GQ_OK;
}

static int in_range(const void *p, const void *base, size_t bytes)
{
    const unsigned char *c = p, *b = base;
    return base && c >= b && c < b + bytes;
}

static size_t mat_bytes(const gq_wmat *W) { return (size_t)W->rows * W->row_bytes; }

/* Where each matrix's bytes go in the weight allocation.  A matrix in the
 * float32 arena or the encoded copies moves with its block; a view gets a
 * slot of its own after them (the same host bytes once: a tied lm_head). */
typedef struct weight_layout {
    size_t arena_bytes, owned_at, owned_bytes, total;
    size_t *mat_at;   /* [n_mats] offset of the matrix's bytes */
    int *mat_copy;    /* [n_mats] 1: upload this view's bytes there */
} weight_layout;

static int plan_weights(const gq_model *m, const weight_fields *f, weight_layout *lo, gq_error *err)
{
    const gq_weights *w = &m->w;
    lo->arena_bytes = w->arena_floats * sizeof(float);
    lo->owned_at = align_up(lo->arena_bytes);
    lo->owned_bytes = w->owned_bytes;
    size_t at = lo->owned_at + align_up(lo->owned_bytes);
    lo->mat_at = gq_calloc((size_t)f->n_mats, sizeof *lo->mat_at, "device move: layout", err);
    lo->mat_copy = gq_calloc((size_t)f->n_mats, sizeof *lo->mat_copy, "device move: layout", err);
    if (!lo->mat_at || !lo->mat_copy) return GQ_ERR_NOMEM;
    for (int i = 0; i < f->n_mats; i++) {
        const gq_wmat *W = f->mats[i];
        if (!W->data) continue;
        if (in_range(W->data, w->arena, lo->arena_bytes)) {
            lo->mat_at[i] = (size_t)((const unsigned char *)W->data - (const unsigned char *)w->arena);
            continue;
        }
        if (in_range(W->data, w->owned, lo->owned_bytes)) {
            lo->mat_at[i] = lo->owned_at + (size_t)((const unsigned char *)W->data - w->owned);
            continue;
        }
        int seen = -1;
        for (int j = 0; j < i && seen < 0; j++)
            if (f->mats[j]->data == W->data && lo->mat_copy[j]) seen = j;
        if (seen >= 0) {
            lo->mat_at[i] = lo->mat_at[seen];
            continue;
        }
        lo->mat_at[i] = at;
        lo->mat_copy[i] = 1;
        at += align_up(mat_bytes(W));
    }
    lo->total = at;
    return GQ_OK;
}

static size_t activation_bytes(const gq_run_state *rs)
{
    return align_up(rs->arena_floats * sizeof(float)) + 3 * (size_t)rs->max_tokens * sizeof(int);
}

static double mib(size_t b) { return (double)b / (1024.0 * 1024.0); }

/* The rows of the vocabulary backend_cuda.cu's vocab_scores widens and
 * projects at a time (64 blocks of GQ_VOCAB_BLOCK). */
#define VOCAB_CHUNK_ROWS (64 * GQ_VOCAB_BLOCK)

/* What the CUDA backend allocates on first use beyond the two arenas: one
 * scratch for the largest matrix widened to float32 (the vocabulary a chunk
 * at a time) and the logits of max_tokens rows against one chunk.  Counted
 * in the check so that a model that passes it is not refused a scratch
 * allocation half-way through a run (that would abort). */
static size_t scratch_bytes(const gq_model *m, const weight_fields *f)
{
    size_t widen = 0;
    for (int i = 0; i < f->n_mats; i++) {
        const gq_wmat *W = f->mats[i];
        if (!W->data || W->f32) continue;
        size_t rows = (size_t)W->rows;
        if (W == &m->w.lm_head && rows > VOCAB_CHUNK_ROWS) rows = VOCAB_CHUNK_ROWS;
        if (rows * (size_t)W->cols * sizeof(float) > widen) widen = rows * (size_t)W->cols * sizeof(float);
    }
    size_t vocab = (size_t)m->w.lm_head.rows < VOCAB_CHUNK_ROWS ? (size_t)m->w.lm_head.rows : VOCAB_CHUNK_ROWS;
    return widen + (size_t)m->rs.max_tokens * vocab * sizeof(float);
}

int gq_model_move_to(gq_model *m, const gq_backend_ops *be, const char *device_name, gq_error *err)
{
    if (!m->weights_loaded) return gq_error_set(err, GQ_ERR_USAGE, "%s: model opened without weights", m->path);
    if (m->dev.moved)
        return gq_error_set(err, GQ_ERR_USAGE, "%s: the model is on %s already", m->path, m->dev.device_name);
    if (m->tp.size > 1)
        return gq_error_set(err, GQ_ERR_UNSUPPORTED, "%s: --tp with --device %s is not supported yet (the "
                            "all-reduce runs on host memory); use --device cpu", m->path, be->name);
    if (m->weights_f32)
        return gq_error_set(err, GQ_ERR_UNSUPPORTED, "%s: float32-widened (converter) weights stay on the host",
                            m->path);
    weight_fields f;
    weight_layout lo = {0};
    int rc = collect_fields(m, &f, err);
    if (rc != GQ_OK) return rc;
    unsigned char *dw = NULL, *da = NULL;
    gq_run_state *rs = &m->rs;
    gq_weights *w = &m->w;
    if ((rc = plan_weights(m, &f, &lo, err)) != GQ_OK) goto done;
    for (int i = 0; i < f.n_vecs; i++) /* norms, biases, kv_b_proj: the float32 arena by construction */
        GQ_ASSERT(!*f.vecs[i] || in_range(*f.vecs[i], w->arena, lo.arena_bytes));
    const size_t act = activation_bytes(rs), scratch = scratch_bytes(m, &f), need = lo.total + act + scratch;
    size_t free_b = 0, total_b = 0;
    if (be->mem_info(&free_b, &total_b) == 0 && need > free_b) {
        rc = gq_error_set(err, GQ_ERR_DEVICE,
                          "%s does not fit on %s: weights %.1f MiB + activations %.1f MiB + product scratch %.1f MiB "
                          "= %.1f MiB, but %.1f MiB of %.1f MiB are free (%.1f MiB missing; the KV caches come on "
                          "top)", m->path, device_name, mib(lo.total), mib(act), mib(scratch), mib(need), mib(free_b),
                          mib(total_b), mib(need - free_b));
        goto done;
    }
    dw = be->alloc(lo.total);
    da = be->alloc(act);
    if (!dw || !da) {
        rc = gq_error_set(err, GQ_ERR_DEVICE, "%s: allocating %.1f MiB of weights and %.1f MiB of activations on "
                          "%s failed", m->path, mib(lo.total), mib(act), device_name);
        goto done;
    }
    /* The bytes: the float32 arena, the encoded copies, each view once. */
    be->upload(dw, w->arena, lo.arena_bytes);
    if (lo.owned_bytes) be->upload(dw + lo.owned_at, w->owned, lo.owned_bytes);
    for (int i = 0; i < f.n_mats; i++)
        if (lo.mat_copy[i]) be->upload(dw + lo.mat_at[i], f.mats[i]->data, mat_bytes(f.mats[i]));
    const size_t rs_bytes = rs->arena_floats * sizeof(float);
    be->upload(da, rs->arena, rs_bytes); /* the RoPE tables; the rest is scratch */

    /* Rebase every pointer onto the copies. */
    for (int i = 0; i < f.n_mats; i++) {
        gq_wmat *W = f.mats[i];
        if (!W->data) continue;
        W->data = dw + lo.mat_at[i];
        if (W->f32) W->f32 = (const float *)W->data;
    }
    for (int i = 0; i < f.n_vecs; i++)
        if (*f.vecs[i])
            *f.vecs[i] = (const float *)(dw + (size_t)((const unsigned char *)*f.vecs[i] -
                                                       (const unsigned char *)w->arena));
    float **acts[] = {&rs->x,   &rs->xb,      &rs->q,  &rs->k,   &rs->v,        &rs->qa,      &rs->kva,
                      &rs->lat, &rs->att_out, &rs->hb, &rs->hb2, &rs->rope_cos, &rs->rope_sin};
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
        if (*acts[i]) *acts[i] = (float *)(da + (size_t)((unsigned char *)*acts[i] - (unsigned char *)rs->arena));
    int *ints = (int *)(da + align_up(rs_bytes));
    const size_t T = (size_t)rs->max_tokens;
    gq_free(w->arena);
    gq_free(w->owned);
    gq_free(rs->arena);
    gq_free(rs->ints);
    w->arena = (float *)dw;
    w->owned = lo.owned_bytes ? dw + lo.owned_at : NULL;
    rs->arena = (float *)da;
    rs->ints = ints;
    rs->tok = (int32_t *)ints;
    rs->pos = ints + T;
    rs->seg = ints + 2 * T;
    m->dev = (gq_device_copy){.moved = 1, .be = be, .weights = dw, .weight_bytes = lo.total, .activations = da,
                              .activation_bytes = act};
    snprintf(m->dev.device_name, sizeof m->dev.device_name, "%s", device_name);
    m->be = be;
    dw = da = NULL;
done:
    if (dw) be->release(dw);
    if (da) be->release(da);
    gq_free(lo.mat_at);
    gq_free(lo.mat_copy);
    gq_free(f.mats);
    gq_free(f.vecs);
    return rc;
}

void gq_model_release_device(gq_model *m)
{
    if (!m->dev.moved) return;
    m->dev.be->release(m->dev.weights);
    m->dev.be->release(m->dev.activations);
    memset(&m->dev, 0, sizeof m->dev);
    m->be = gq_backend_cpu();
}

const char *gq_model_device(const gq_model *m) { return m->dev.moved ? m->dev.device_name : "cpu"; }
size_t gq_model_device_weight_bytes(const gq_model *m) { return m->dev.moved ? m->dev.weight_bytes : 0; }
size_t gq_model_device_activation_bytes(const gq_model *m) { return m->dev.moved ? m->dev.activation_bytes : 0; }

#ifdef GQLA_CUDA_MODULE
typedef int (*cuda_open_fn)(int index, const gq_backend_ops **ops, char *msg, size_t msg_size);
typedef void (*cuda_name_fn)(char *buf, size_t size);

/* libgqla_cuda.so: $GQLA_CUDA_MODULE, else beside the executable, else
 * where the build put it.  Opened once; it stays for the process. */
static void *cuda_module(char *why, size_t why_size)
{
    static void *handle;
    if (handle) return handle;
    char beside[PATH_MAX + 32];
    const char *env = getenv("GQLA_CUDA_MODULE");
    ssize_t n = readlink("/proc/self/exe", beside, PATH_MAX);
    beside[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(beside, '/');
    if (slash) snprintf(slash + 1, sizeof beside - (size_t)(slash + 1 - beside), "libgqla_cuda.so");
    const char *candidates[] = {env, slash ? beside : NULL, GQLA_CUDA_MODULE};
    why[0] = '\0';
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0] && !handle; i++) {
        if (!candidates[i] || !candidates[i][0]) continue;
        handle = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL);
        if (!handle) snprintf(why, why_size, "%s", dlerror());
    }
    return handle;
}
#endif

int gq_model_use_device(gq_model *m, const gq_open_opts *opts, gq_error *err)
{
    if (!opts || opts->device == GQ_DEVICE_CPU) return GQ_OK;
#ifdef GQLA_CUDA_MODULE
    char why[512], name[128];
    void *mod = cuda_module(why, sizeof why);
    if (!mod)
        return gq_error_set(err, GQ_ERR_DEVICE, "--device cuda:%d: cannot load the CUDA backend module "
                            "libgqla_cuda.so (%s); set GQLA_CUDA_MODULE to its path", opts->device_index, why);
    cuda_open_fn open_fn;
    cuda_name_fn name_fn;
    /* POSIX's way from a void * to a function pointer (dlsym(3)). */
    *(void **)&open_fn = dlsym(mod, "gq_backend_cuda_open");
    *(void **)&name_fn = dlsym(mod, "gq_backend_cuda_device_name");
    if (!open_fn || !name_fn)
        return gq_error_set(err, GQ_ERR_DEVICE, "--device cuda: libgqla_cuda.so lacks gq_backend_cuda_open (a module "
                            "from another build?)");
    const gq_backend_ops *be = NULL;
    if (open_fn(opts->device_index, &be, why, sizeof why) != 0)
        return gq_error_set(err, GQ_ERR_DEVICE, "--device cuda:%d: %s", opts->device_index, why);
    name_fn(name, sizeof name);
    return gq_model_move_to(m, be, name, err);
#else
    (void)m;
    return gq_error_set(err, GQ_ERR_DEVICE, "--device cuda:%d: this gqla-eval was built without CUDA (nvcc was not "
                        "found at build time); run with --device cpu", opts->device_index);
#endif
}
