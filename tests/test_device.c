/* test_device.c — a model moved into a backend's memory (engine/device.c),
 * checked on a machine without a GPU.
 *
 * The backend here is the CPU's arithmetic behind a guard: its memory ops
 * record every allocation, and each op first checks that every pointer it
 * is given (activations, weights, caches, positions, tree masks, token ids)
 * lies inside one of them — which is what the CUDA backend needs, since a
 * host pointer handed to a kernel is a crash or garbage there.  For every
 * kind of model the fixtures have (GQA f32 and bf16, tied embeddings,
 * biases, q/k norms, fused qkv, Q4_K_M GGUFs (llama: un-permuted RoPE rows),
 * MLA with q-LoRA and yarn, a GQLA model with its gqa and absorb paths) the
 * test scores the same requests on the CPU and on the moved copy, through
 * every path and sq the model has (tree batches across documents at sq 0),
 * and checks:
 *   - no op ever saw a pointer outside the backend's allocations;
 *   - the log-likelihoods and greedy flags are bit-identical (same
 *     arithmetic on copies of the same bytes);
 *   - the weights take their stored bytes on the device, not float32:
 *     within alignment of sum(stored matrix bytes) + 4 * (vector elements);
 *   - a backend with too little free memory refuses the move (and a KV
 *     cache) with GQ_ERR_DEVICE naming the MiB missing, and the model keeps
 *     working where it was.
 * With a GPU, the same models and paths through --device cuda (the module
 * libgqla_cuda.so) against the CPU: within 1e-4 per request log-likelihood
 * (f32 fixtures and bf16 ones alike: both widen the stored bf16 to float32).
 * Without one, that --device cuda fails with the runtime's reason after the
 * module loaded.
 * Usage: test_device (GQ_FIXTURES, GQ_TMP). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "mla_fixtures.h"
#include "model.h"
#include "model_internal.h"
#include "score.h"
#include "testutil.h"

/* ---- the guarded backend ---------------------------------------------- */

#define MAX_REGIONS 256
/* f32 weights: cuBLAS against OpenBLAS sums in another order; per request
 * (a sum of up to 6 log-probs) the bound. */
#define CUDA_TOLERANCE 1e-4

typedef struct region {
    const unsigned char *p;
    size_t n;
} region;

static region regions[MAX_REGIONS];
static int n_regions;
static long n_ops, n_bad;
static char first_bad[256];
static size_t fake_free = SIZE_MAX; /* what mem_info reports free */
static const gq_backend_ops *cpu;

static void *g_alloc(size_t n)
{
    if (n_regions == MAX_REGIONS) return NULL;
    void *p = malloc(n ? n : 1);
    if (p) regions[n_regions++] = (region){p, n ? n : 1};
    return p;
}

static void g_release(void *p)
{
    if (!p) return;
    for (int i = 0; i < n_regions; i++)
        if (regions[i].p == p) {
            regions[i] = regions[--n_regions];
            free(p);
            return;
        }
    n_bad++;
    snprintf(first_bad, sizeof first_bad, "release of %p, not an allocation of the backend", p);
}

/* p .. p+bytes inside one allocation (bytes 0: p itself). NULL passes. */
static void need(const void *p, size_t bytes, const char *op, const char *arg)
{
    if (!p) return;
    const unsigned char *c = p;
    for (int i = 0; i < n_regions; i++)
        if (c >= regions[i].p && c + (bytes ? bytes : 1) <= regions[i].p + regions[i].n) return;
    if (!n_bad) snprintf(first_bad, sizeof first_bad, "%s: %s = %p (%zu bytes) is not backend memory", op, arg, p, bytes);
    n_bad++;
}

static void need_w(const gq_wmat *W, const char *op)
{
    need(W->data, (size_t)W->rows * W->row_bytes, op, "weight matrix");
}

static void g_matmul(float *Y, int ldy, const float *X, const float *W, const float *bias, int T, int in, int out)
{
    n_ops++;
    need(Y, 0, "matmul", "Y");
    need(X, 0, "matmul", "X");
    need(W, (size_t)in * out * sizeof(float), "matmul", "W");
    need(bias, 0, "matmul", "bias");
    cpu->matmul(Y, ldy, X, W, bias, T, in, out);
}
static void g_matmul_w(float *Y, int ldy, const float *X, const gq_wmat *W, const float *bias, int T)
{
    n_ops++;
    need(Y, 0, "matmul_w", "Y");
    need(X, 0, "matmul_w", "X");
    need_w(W, "matmul_w");
    need(bias, 0, "matmul_w", "bias");
    cpu->matmul_w(Y, ldy, X, W, bias, T);
}
static void g_vocab_scores(const float *X, const gq_wmat *W, gq_vocab_scores *s)
{
    n_ops++;
    need(X, 0, "vocab_scores", "X");
    need_w(W, "vocab_scores"); /* s's arrays are host memory by contract */
    cpu->vocab_scores(X, W, s);
}
static void g_rmsnorm(float *Y, const float *X, const float *w, int T, int n, float eps)
{
    n_ops++;
    need(Y, 0, "rmsnorm", "Y");
    need(X, 0, "rmsnorm", "X");
    need(w, (size_t)n * sizeof(float), "rmsnorm", "w");
    cpu->rmsnorm(Y, X, w, T, n, eps);
}
static void g_rope(float *X, int ld, int T, int nh, int Dh, int pos0, const float *c, const float *s)
{
    n_ops++;
    need(X, 0, "rope", "X");
    need(c, 0, "rope", "cos");
    need(s, 0, "rope", "sin");
    cpu->rope(X, ld, T, nh, Dh, pos0, c, s);
}
static void g_attention(float *O, const float *Q, const float *K, const float *V, int T, int pos0, int H, int Hkv,
                        int Dh, float scale)
{
    n_ops++;
    need(O, 0, "attention", "Out");
    need(Q, 0, "attention", "Q");
    need(K, 0, "attention", "K");
    need(V, 0, "attention", "V");
    cpu->attention(O, Q, K, V, T, pos0, H, Hkv, Dh, scale);
}
static void g_rope_rows(float *X, int ld, int T, int nh, int Dh, const int *pos, const float *c, const float *s)
{
    n_ops++;
    need(X, 0, "rope_rows", "X");
    need(pos, (size_t)T * sizeof(int), "rope_rows", "pos");
    need(c, 0, "rope_rows", "cos");
    need(s, 0, "rope_rows", "sin");
    cpu->rope_rows(X, ld, T, nh, Dh, pos, c, s);
}
static void g_attention_tree(float *O, const float *Q, const float *K, const float *V, int T, int pos0, int shared_end,
                             const int *seg, int H, int Hkv, int Dh, float scale)
{
    n_ops++;
    need(O, 0, "attention_tree", "Out");
    need(Q, 0, "attention_tree", "Q");
    need(K, 0, "attention_tree", "K");
    need(V, 0, "attention_tree", "V");
    need(seg, (size_t)T * sizeof(int), "attention_tree", "seg");
    cpu->attention_tree(O, Q, K, V, T, pos0, shared_end, seg, H, Hkv, Dh, scale);
}
static void g_rope_slice(float *X, int ld, int T, int nh, int hs, int col0, int n, int il, int pos0, const int *pos,
                         const float *c, const float *s)
{
    n_ops++;
    need(X, 0, "rope_slice", "X");
    need(pos, (size_t)T * sizeof(int), "rope_slice", "pos");
    need(c, 0, "rope_slice", "cos");
    need(s, 0, "rope_slice", "sin");
    cpu->rope_slice(X, ld, T, nh, hs, col0, n, il, pos0, pos, c, s);
}
static void g_copy_rows(float *Y, int ldy, const float *X, int ldx, int T, int n)
{
    n_ops++;
    need(Y, 0, "copy_rows", "Y");
    need(X, 0, "copy_rows", "X");
    cpu->copy_rows(Y, ldy, X, ldx, T, n);
}
static void g_attn_absorb(float *O, const float *Q, const float *cache, const float *Wkvb, int T, int pos0,
                          int shared_end, const int *seg, const gq_mla_shape *sh)
{
    n_ops++;
    need(O, 0, "attn_absorb", "Out");
    need(Q, 0, "attn_absorb", "Q");
    need(cache, 0, "attn_absorb", "cache");
    need(Wkvb, 0, "attn_absorb", "Wkvb");
    need(seg, (size_t)T * sizeof(int), "attn_absorb", "seg");
    cpu->attn_absorb(O, Q, cache, Wkvb, T, pos0, shared_end, seg, sh);
}
static void g_attn_gqa(float *O, const float *Q, const float *cache, int T, int pos0, int shared_end, const int *seg,
                       const gq_mla_shape *sh)
{
    n_ops++;
    need(O, 0, "attn_gqa", "Out");
    need(Q, 0, "attn_gqa", "Q");
    need(cache, 0, "attn_gqa", "cache");
    need(seg, (size_t)T * sizeof(int), "attn_gqa", "seg");
    cpu->attn_gqa(O, Q, cache, T, pos0, shared_end, seg, sh);
}
static void g_attn_expanded(float *O, const float *Q, const float *cache, int T, int pos0, int shared_end,
                            const int *seg, const gq_mla_shape *sh)
{
    n_ops++;
    need(O, 0, "attn_expanded", "Out");
    need(Q, 0, "attn_expanded", "Q");
    need(cache, 0, "attn_expanded", "cache");
    need(seg, (size_t)T * sizeof(int), "attn_expanded", "seg");
    cpu->attn_expanded(O, Q, cache, T, pos0, shared_end, seg, sh);
}
static void g_swiglu(float *G, const float *U, int T, int n)
{
    n_ops++;
    need(G, 0, "swiglu", "G");
    need(U, 0, "swiglu", "U");
    cpu->swiglu(G, U, T, n);
}
static void g_add(float *X, const float *Y, int T, int n)
{
    n_ops++;
    need(X, 0, "add", "X");
    need(Y, 0, "add", "Y");
    cpu->add(X, Y, T, n);
}
static void g_embed(float *Y, const gq_wmat *W, const int32_t *tokens, int T)
{
    n_ops++;
    need(Y, 0, "embed", "Y");
    need_w(W, "embed");
    need(tokens, (size_t)T * sizeof *tokens, "embed", "tokens");
    cpu->embed(Y, W, tokens, T);
}
static void g_upload(void *dst, const void *src, size_t n)
{
    need(dst, n, "upload", "dst");
    cpu->upload(dst, src, n);
}
static void g_download(void *dst, const void *src, size_t n)
{
    need(src, n, "download", "src");
    cpu->download(dst, src, n);
}
static int g_mem_info(size_t *free_b, size_t *total_b)
{
    *free_b = fake_free;
    *total_b = fake_free;
    return 0;
}

static gq_backend_ops guarded;

static void guarded_init(void)
{
    cpu = gq_backend_cpu();
    guarded = (gq_backend_ops){
        .name = "guarded",
        .matmul = g_matmul,
        .matmul_w = g_matmul_w,
        .vocab_scores = g_vocab_scores,
        .rmsnorm = g_rmsnorm,
        .rope = g_rope,
        .attention = g_attention,
        .rope_rows = g_rope_rows,
        .attention_tree = g_attention_tree,
        .rope_slice = g_rope_slice,
        .copy_rows = g_copy_rows,
        .attn_absorb = g_attn_absorb,
        .attn_gqa = g_attn_gqa,
        .attn_expanded = g_attn_expanded,
        .swiglu = g_swiglu,
        .add = g_add,
        .embed = g_embed,
        .alloc = g_alloc,
        .release = g_release,
        .upload = g_upload,
        .download = g_download,
        .mem_info = g_mem_info,
    };
}

/* ---- requests ----------------------------------------------------------- */

#define N_DOCS 5
#define N_CHOICES 4
#define NREQ (N_DOCS * N_CHOICES)

static uint64_t rng = 0x2545f4914f6cdd1dull;
static int rnd_tok(int V)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return 2 + (int)(rng % (uint64_t)(V - 2));
}

static int32_t ctx[N_DOCS][64], cont[NREQ][6];
static gq_request rq[NREQ];
static int group_end[N_DOCS];

/* Documents with a shared 8-token description, one- and multi-token choices. */
static void make_requests(int V)
{
    int32_t desc[8];
    for (int i = 0; i < 8; i++) desc[i] = rnd_tok(V);
    for (int d = 0; d < N_DOCS; d++) {
        int n = 14 + 9 * d;
        for (int i = 0; i < n; i++) ctx[d][i] = i < 8 ? desc[i] : rnd_tok(V);
        for (int c = 0; c < N_CHOICES; c++) {
            int q = d * N_CHOICES + c, nc = d < 2 ? 1 : 1 + c;
            for (int i = 0; i < nc; i++) cont[q][i] = rnd_tok(V);
            rq[q] = (gq_request){ctx[d], n, cont[q], nc};
        }
        group_end[d] = (d + 1) * N_CHOICES;
    }
}

/* Scores of every request through path/sq, in document groups (sq 0: tree
 * batches packed across documents). */
static int score_all(gq_model *m, gq_path path, int sq, gq_request_score *out, gq_error *err)
{
    gq_scorer *s = NULL;
    int rc = gq_scorer_init_path(&s, m, path, sq, 96, err);
    if (rc == GQ_OK) rc = gq_scorer_score_groups(s, rq, NREQ, group_end, N_DOCS, out, err);
    gq_scorer_free(s);
    return rc;
}

/* ---- the checks --------------------------------------------------------- */

/* What the weights should take on the device: every matrix in its stored
 * encoding once, every vector (norm, bias) and kv_b_proj as float32. */
static void check_weight_bytes(const char *name, gq_model *m, size_t host_matrix_bytes, size_t vector_floats,
                               int n_tensors)
{
    size_t want = host_matrix_bytes + 4 * vector_floats, got = gq_model_device_weight_bytes(m);
    size_t slack = 256 * (size_t)(n_tensors + 3);
    char what[256];
    snprintf(what, sizeof what, "%s: device weights %zu bytes = stored matrices %zu + 4 x %zu vector floats "
             "(within %zu of alignment)", name, got, host_matrix_bytes, vector_floats, slack);
    test_cond(what, got >= want && got <= want + slack);
}

/* Stored bytes of the matrices and float32 vectors of a loaded (host) model. */
static void count_weights(const gq_model *m, size_t *mat_bytes, size_t *vec_floats, int *n)
{
    const gq_weights *w = &m->w;
    *mat_bytes = 0;
    *n = 0;
    const int L = (int)m->cfg->num_hidden_layers;
    for (int l = 0; l < L; l++) {
        const gq_layer_weights *lw = &w->layers[l];
        const gq_wmat *mats[] = {&lw->wq, &lw->wq_a, &lw->wq_b, &lw->wkv_a, &lw->wk,
                                 &lw->wv, &lw->wo,   &lw->w_gate, &lw->w_up, &lw->w_down};
        for (size_t i = 0; i < sizeof mats / sizeof mats[0]; i++)
            if (mats[i]->data) {
                *mat_bytes += (size_t)mats[i]->rows * mats[i]->row_bytes;
                (*n)++;
            }
    }
    *mat_bytes += (size_t)w->embed.rows * w->embed.row_bytes;
    (*n)++;
    if (w->lm_head.data != w->embed.data) {
        *mat_bytes += (size_t)w->lm_head.rows * w->lm_head.row_bytes;
        (*n)++;
    }
    /* Everything widened to float32 lives in the arena: the vectors, and
     * matrices only when a block had to be widened (none here). */
    *vec_floats = w->arena_floats;
}

/* cuda 0: the guarded backend, bit-identical scores; 1: --device cuda on a
 * GPU, scores within CUDA_TOLERANCE of the CPU's. */
static void check_model(const char *name, const char *dir, int cuda)
{
    gq_error err = {0};
    gq_model *host = NULL, *dev = NULL;
    gq_open_opts o = {1, 1, 64, 0, NULL, GQ_DEVICE_CPU, 0}, od = o;
    od.device = cuda ? GQ_DEVICE_CUDA : GQ_DEVICE_CPU;
    char what[2048];
    if (gq_model_open(&host, dir, &o, &err) != GQ_OK || gq_model_open(&dev, dir, &od, &err) != GQ_OK) {
        snprintf(what, sizeof what, "%s: opens (%s)", name, err.msg);
        test_cond(what, 0);
        gq_model_close(host);
        return;
    }
    const gq_config *cfg = gq_model_config(host);
    make_requests((int)cfg->vocab_size);
    size_t mat_bytes, vec_floats;
    int n_tensors;
    count_weights(host, &mat_bytes, &vec_floats, &n_tensors);
    if (cuda) {
        snprintf(what, sizeof what, "%s: runs on %s", name, gq_model_device(dev));
        test_cond(what, dev->dev.moved && !strncmp(gq_model_device(dev), "cuda:0", 6));
        goto paths;
    }

    /* Too little free memory: refused, named, and the model stays usable. */
    fake_free = 1000;
    int rc = gq_model_move_to(dev, &guarded, "guarded:0", &err);
    snprintf(what, sizeof what, "%s: a device with 1000 bytes free refuses the move naming what is missing (%s)", name,
             err.msg);
    test_cond(what, rc == GQ_ERR_DEVICE && test_has(err.msg, "MiB missing") && test_has(err.msg, "guarded:0") &&
                        !dev->dev.moved && n_regions == 0);
    fake_free = SIZE_MAX;
    rc = gq_model_move_to(dev, &guarded, "guarded:0", &err);
    snprintf(what, sizeof what, "%s: moves to the guarded backend (%s)", name, rc ? err.msg : "ok");
    test_cond(what, rc == GQ_OK && dev->be == &guarded && !strcmp(gq_model_device(dev), "guarded:0"));
    if (rc != GQ_OK) goto done;
paths:
    check_weight_bytes(name, dev, mat_bytes, vec_floats, n_tensors);
    for (int p = 0; p < GQ_PATH_COUNT; p++) {
        if (!gq_config_path_supported(cfg, (gq_path)p)) continue;
        static const int sqs[] = {0, 1, 2};
        for (size_t k = 0; k < sizeof sqs / sizeof sqs[0]; k++) {
            gq_request_score a[NREQ], b[NREQ];
            long ops0 = n_ops;
            int ra = score_all(host, (gq_path)p, sqs[k], a, &err);
            int rb = ra == GQ_OK ? score_all(dev, (gq_path)p, sqs[k], b, &err) : ra;
            int same = ra == GQ_OK && rb == GQ_OK;
            double worst = 0;
            for (int q = 0; same && q < NREQ; q++) {
                double d = fabs(a[q].loglikelihood - b[q].loglikelihood);
                if (d > worst) worst = d;
                if (cuda ? d > CUDA_TOLERANCE : a[q].loglikelihood != b[q].loglikelihood || a[q].is_greedy != b[q].is_greedy)
                    same = 0;
            }
            snprintf(what, sizeof what, "%s path %s sq %d: %s (max |d| %.3g; %s)", name,
                     gq_path_name((gq_path)p), sqs[k],
                     cuda ? "CUDA gives the CPU's log-likelihoods within 1e-4" : "moved copy gives the CPU's scores "
                     "bit for bit", worst, ra || rb ? err.msg : "ok");
            test_cond(what, same);
            if (cuda) {
                printf("cuda %-34s %-8s sq %d: max |ll cuda - ll cpu| = %.3g over %d requests\n", name,
                       gq_path_name((gq_path)p), sqs[k], worst, NREQ);
                continue;
            }
            snprintf(what, sizeof what, "%s path %s sq %d: every op ran on the guarded backend, no host pointer "
                     "(%ld bad%s%s)", name, gq_path_name((gq_path)p), sqs[k], n_bad, n_bad ? ": " : "", first_bad);
            test_cond(what, n_ops > ops0 && n_bad == 0);
        }
    }
    /* A KV cache that does not fit is refused the same way. */
    if (!cuda) {
        gq_kv_cache *c = NULL;
        fake_free = 100;
        gq_path p = gq_config_default_path(cfg);
        rc = gq_kv_cache_init(&c, dev, p, 32, &err);
        snprintf(what, sizeof what, "%s: a KV cache larger than the free memory is refused (%s)", name, err.msg);
        test_cond(what, rc == GQ_ERR_DEVICE && test_has(err.msg, "MiB missing") && !c);
        fake_free = SIZE_MAX;
        int r0 = n_regions;
        rc = gq_kv_cache_init(&c, dev, p, 32, &err);
        snprintf(what, sizeof what, "%s: the cache is one backend allocation of gq_kv_cache_bytes (%zu)", name,
                 c ? gq_kv_cache_bytes(c) : 0);
        test_cond(what, rc == GQ_OK && n_regions == r0 + 1 && regions[r0].n == gq_kv_cache_bytes(c));
        gq_kv_cache_free(c);
        test_cond("freeing the cache releases it", n_regions == r0);
    }
done:
    gq_model_close(dev);
    gq_model_close(host);
    snprintf(what, sizeof what, "%s: closing releases every backend allocation (%d left)", name, n_regions);
    test_cond(what, n_regions == 0);
    n_regions = 0;
    n_bad = 0;
}

/* A GQLA model (2 groups of 3 heads, q-LoRA, biases) written here. */
static const char *write_gqla(void)
{
    static mlafix_tensors t = {.rng = 0x9e3779b97f4a7c15ull};
    /*                 D  L  H  G  dn dr dv  r  rq   I    V bias norms */
    mlafix_dims d = {64, 2, 6, 2, 16, 8, 16, 32, 24, 96, 128, 1, 1};
    mlafix_model w;
    const char *dir = test_tmpdir("device-gqla");
    if (mlafix_add_model(&t, &d, &w) != 0 || mlafix_write(&t, dir) != 0 || mlafix_write_config(&d, 128, dir) != 0)
        dir = NULL;
    mlafix_clear(&t);
    return dir;
}

/* --device cuda through gq_model_open itself (no CLI probe first): without
 * a GPU the module must still load and say why it cannot run. 1: a GPU is
 * there. */
static int cuda_available(void)
{
    gq_error err = {0};
    gq_model *m = NULL;
    gq_open_opts o = {1, 1, 64, 0, NULL, GQ_DEVICE_CUDA, 0};
    int rc = gq_model_open(&m, test_fixture("forward/llama-gqa-f32"), &o, &err);
    gq_model_close(m);
    if (rc == GQ_OK) return 1;
    char what[1200];
#ifdef GQLA_WITH_CUDA
    snprintf(what, sizeof what, "--device cuda without a GPU: the CUDA module loads and says why (%s)", err.msg);
    test_cond(what, rc == GQ_ERR_DEVICE && test_has(err.msg, "--device cuda:0") &&
                        !test_has(err.msg, "cannot load the CUDA backend module"));
#else
    snprintf(what, sizeof what, "--device cuda in a build without CUDA: says so (%s)", err.msg);
    test_cond(what, rc == GQ_ERR_DEVICE && test_has(err.msg, "without CUDA"));
#endif
    printf("no usable GPU (%s): the CUDA comparisons are skipped\n", err.msg);
    return 0;
}

int main(void)
{
    guarded_init();
    const int gpu = cuda_available();
    static const char *fixtures[][2] = {
        {"llama-gqa-f32", "forward/llama-gqa-f32"},   {"llama-gqa-bf16", "forward/llama-gqa-bf16"},
        {"llama-tied-bf16", "forward/llama-tied-bf16"}, {"qwen2-bias-f32", "forward/qwen2-bias-f32"},
        {"qwen3-qknorm-bf16", "forward/qwen3-qknorm-bf16"}, {"phi3-fused-bf16", "forward/phi3-fused-bf16"},
        {"llama Q4_K_M gguf (RoPE rows)", "gguf_arch/llama-q4_k_m/model.gguf"},
        {"qwen2 Q4_K_M gguf", "gguf_arch/qwen2-q4_k_m/model.gguf"}, {"mla dsv3-qlora-yarn", "mla/dsv3-qlora-yarn"},
        {"mla dsv3-plainq", "mla/dsv3-plainq"},
    };
    for (int cuda = 0; cuda <= gpu; cuda++) {
        for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++)
            check_model(fixtures[i][0], test_fixture(fixtures[i][1]), cuda);
        const char *gqla = write_gqla();
        test_cond("GQLA fixture written", gqla != NULL);
        if (gqla) check_model("gqla h6g2 (gqa + absorb)", gqla, cuda);
    }
    return test_report("device");
}
