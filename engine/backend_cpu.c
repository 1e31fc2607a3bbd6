/* backend_cpu.c — the CPU backend: OpenBLAS sgemm for the projections and
 * the attention products (GQA, and the MLA absorb / gqa / expanded paths),
 * OpenMP over rows, heads and fixed column/row blocks for the rest, per-row
 * math from kernels.h.  Every op gives the same bits whatever the thread
 * count: threads split rows/heads/blocks of a partition that does not depend
 * on the thread count, never a reduction. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "backend.h"
#include "gq_alloc.h"
#include "gq_error.h"
#include "kernels.h"

static int cpu_threads = 0;

/* OpenBLAS always runs single-threaded; the threads are ours.  OpenBLAS
 * picks its sgemm kernel and partition by thread count (on an AMD EPYC
 * machine SmolLM2's log-probs differed by 1.8e-5 between 1 and 2 threads), so
 * letting it thread would make results depend on --threads.  Instead the
 * work is cut into pieces that do not depend on the thread count (column
 * blocks of a projection, heads of attention) and each piece is one
 * single-threaded sgemm: the same bits for 1 or N threads.
 *
 * The OpenMP build of OpenBLAS (0.3.21) takes its thread count from
 * omp_get_max_threads() at every call made outside an active parallel
 * region, and openblas_set_num_threads() sets that same OpenMP value.  So
 * the OpenMP default stays 1 (set again on every call, since other code —
 * the converter — may change it), which keeps sgemm single-threaded
 * wherever it is called from, and our own loops name their team size
 * (num_threads(cpu_threads)).  Before, the first forward pass of a process
 * ran with 1-thread OpenBLAS and later ones with N threads: a model's
 * numbers depended on what the process had run before (found by the main
 * command's tests: a run after another model differed from a fresh one). */
void gq_backend_cpu_set_threads(int n_threads)
{
#ifdef _OPENMP
    if (n_threads <= 0) n_threads = omp_get_num_procs();
#else
    if (n_threads <= 0) n_threads = 1;
#endif
    openblas_set_num_threads(1);
#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
    cpu_threads = n_threads;
}

int gq_backend_cpu_threads(void) { return cpu_threads > 0 ? cpu_threads : 1; }

/* Width of the fixed blocks a product is cut into, one single-threaded
 * sgemm per block.  The partition must not depend on the thread count (so
 * every rounding is the same for 1 or N threads), yet split evenly over 2
 * or 4 threads: at most max_block a block, the block count rounded up to a
 * multiple of 4, the width to a multiple of 16 (the sgemm kernel's tile).
 * Fixed 256-column blocks left SmolLM2's 576-wide projections as
 * 256 + 256 + 64 (one thread did 8/9 of them) and its 192-wide k/v on one
 * thread: the second core sat idle about 40 % of the full run. */
static int balanced_block(int n, int max_block)
{
    int n_blocks = (n + max_block - 1) / max_block;
    n_blocks = n_blocks < 1 ? 2 : (n_blocks + 1) / 2 * 2;
    int width = (n + n_blocks - 1) / n_blocks;
    return (width + 15) / 16 * 16;
}

static void matmul_cpu(float *Y, int ldy, const float *X, const float *W, const float *bias, int T, int in,
                int out)
{
    int block_cols = balanced_block(out, 384);
    int n_blocks = (out + block_cols - 1) / block_cols;
#pragma omp parallel for schedule(static) num_threads(gq_backend_cpu_threads()) if (n_blocks > 1)
    for (int b = 0; b < n_blocks; b++) {
        int o0 = b * block_cols;
        int n = out - o0 < block_cols ? out - o0 : block_cols;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, n, in, 1.0f, X, in, W + (size_t)o0 * in, in, 0.0f,
                    Y + o0, ldy);
        if (bias)
            for (int t = 0; t < T; t++)
                for (int o = o0; o < o0 + n; o++) Y[(size_t)t * ldy + o] += bias[o];
    }
}

// ---------------------------------------------------------------------------
// Weights in their stored encoding (wmat.h).  Each fixed block of output
// rows is widened into the calling thread's scratch right before its sgemm,
// so the float32 copy of a matrix never exists whole; the blocks are those
// of matmul_cpu, so the products are the very same sgemm calls on the very
// same numbers as with weights widened at load.

static float **scratch;        /* [scratch_slots] one buffer per thread */
static size_t *scratch_floats; /* their sizes */
static int scratch_slots;

/* Every thread of the team gets at least `floats` of scratch.  Called
 * outside parallel regions only. */
static void ensure_scratch(int n_thr, size_t floats)
{
    if (n_thr > scratch_slots) {
        float **s = realloc(scratch, (size_t)n_thr * sizeof *s);
        size_t *f = realloc(scratch_floats, (size_t)n_thr * sizeof *f);
        GQ_ASSERT(s != NULL && f != NULL); /* a few pointers */
        for (int i = scratch_slots; i < n_thr; i++) {
            s[i] = NULL;
            f[i] = 0;
        }
        scratch = s;
        scratch_floats = f;
        scratch_slots = n_thr;
    }
    for (int i = 0; i < n_thr; i++) {
        if (scratch_floats[i] >= floats) continue;
        free(scratch[i]);
        scratch[i] = malloc(floats * sizeof(float));
        GQ_ASSERT(scratch[i] != NULL); /* one block of a weight matrix, a few MB */
        scratch_floats[i] = floats;
    }
}

void gq_backend_cpu_release(void)
{
    for (int i = 0; i < scratch_slots; i++) free(scratch[i]);
    free(scratch);
    free(scratch_floats);
    scratch = NULL;
    scratch_floats = NULL;
    scratch_slots = 0;
}

static int thread_index(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static void matmul_w_cpu(float *Y, int ldy, const float *X, const gq_wmat *W, const float *bias, int T)
{
    int in = W->cols, out = W->rows;
    if (W->f32) {
        matmul_cpu(Y, ldy, X, W->f32, bias, T, in, out);
        return;
    }
    int block_rows = balanced_block(out, 384);
    int n_blocks = (out + block_rows - 1) / block_rows;
    int n_thr = gq_backend_cpu_threads();
    ensure_scratch(n_thr, (size_t)block_rows * (size_t)in);
#pragma omp parallel for schedule(static) num_threads(n_thr) if (n_blocks > 1)
    for (int b = 0; b < n_blocks; b++) {
        int o0 = b * block_rows;
        int n = out - o0 < block_rows ? out - o0 : block_rows;
        float *w = scratch[thread_index()];
        gq_wmat_widen_rows(W, o0, n, w);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, n, in, 1.0f, X, in, w, in, 0.0f, Y + o0, ldy);
        if (bias)
            for (int t = 0; t < T; t++)
                for (int o = o0; o < o0 + n; o++) Y[(size_t)t * ldy + o] += bias[o];
    }
}

static void vocab_scores_cpu(const float *X, const gq_wmat *W, gq_vocab_scores *s)
{
    const int V = W->rows, D = W->cols, n = s->n_rows;
    const int n_blocks = (V + GQ_VOCAB_BLOCK - 1) / GQ_VOCAB_BLOCK;
    if (n <= 0) return;
    float *bmax = malloc((size_t)n_blocks * (size_t)n * sizeof *bmax);
    double *bsum = malloc((size_t)n_blocks * (size_t)n * sizeof *bsum);
    int *barg = malloc((size_t)n_blocks * (size_t)n * sizeof *barg);
    float *elogit = malloc((size_t)(s->n_entries > 0 ? s->n_entries : 1) * sizeof *elogit);
    GQ_ASSERT(bmax && bsum && barg && elogit); /* a few KB per scored row */
    int n_thr = gq_backend_cpu_threads();
    /* per thread: a widened block of W, then the block's logits */
    size_t wfloats = W->f32 ? 0 : (size_t)GQ_VOCAB_BLOCK * (size_t)D;
    ensure_scratch(n_thr, wfloats + (size_t)n * GQ_VOCAB_BLOCK);
#pragma omp parallel for schedule(static) num_threads(n_thr) if (n_blocks > 1)
    for (int b = 0; b < n_blocks; b++) {
        int v0 = b * GQ_VOCAB_BLOCK, nv = V - v0 < GQ_VOCAB_BLOCK ? V - v0 : GQ_VOCAB_BLOCK;
        float *buf = scratch[thread_index()];
        const float *w = W->f32 ? W->f32 + (size_t)v0 * D : buf;
        float *L = buf + wfloats;
        if (!W->f32) gq_wmat_widen_rows(W, v0, nv, buf);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, nv, D, 1.0f, X, D, w, D, 0.0f, L, nv);
        for (int i = 0; i < n; i++) {
            size_t at = (size_t)b * n + i;
            gq_vocab_block_partial(L + (size_t)i * nv, nv, v0, &bmax[at], &barg[at], &bsum[at]);
        }
        for (int e = 0; e < s->n_entries; e++) {
            int t = s->entry_target[e];
            if (t >= v0 && t < v0 + nv) elogit[e] = L[(size_t)s->entry_row[e] * nv + (t - v0)];
        }
    }
    double *lse = malloc((size_t)n * sizeof *lse);
    GQ_ASSERT(lse != NULL);
    for (int i = 0; i < n; i++) {
        int am;
        lse[i] = gq_vocab_combine(bmax + i, bsum + i, barg + i, n_blocks, (size_t)n, &am, &s->row_argmax_logprob[i]);
        s->row_argmax[i] = am;
    }
    for (int e = 0; e < s->n_entries; e++) s->entry_logprob[e] = (double)elogit[e] - lse[s->entry_row[e]];
    free(lse);
    free(bmax);
    free(bsum);
    free(barg);
    free(elogit);
}

/* Row loops run on one thread for decode-sized work (T < 8): a parallel
 * region's barrier costs more than the rows, and far more when the cores
 * are oversubscribed. */
static void rmsnorm_cpu(float *Y, const float *X, const float *w, int T, int n, float eps)
{
#pragma omp parallel for schedule(static) num_threads(gq_backend_cpu_threads()) if (T >= 8)
    for (int t = 0; t < T; t++) gq_rmsnorm_row(Y + (size_t)t * n, X + (size_t)t * n, w, n, eps);
}

static void rope_cpu(float *X, int ld, int T, int n_heads, int Dh, int pos0, const float *cos_tab,
              const float *sin_tab)
{
    int half = Dh / 2;
#pragma omp parallel for schedule(static) num_threads(gq_backend_cpu_threads()) if (T >= 8)
    for (int t = 0; t < T; t++) {
        const float *c = cos_tab + (size_t)(pos0 + t) * half;
        const float *s = sin_tab + (size_t)(pos0 + t) * half;
        for (int h = 0; h < n_heads; h++) gq_rope_row(X + (size_t)t * ld + (size_t)h * Dh, c, s, Dh);
    }
}

static void rope_rows_cpu(float *X, int ld, int T, int n_heads, int Dh, const int *pos, const float *cos_tab,
                          const float *sin_tab)
{
    int half = Dh / 2;
#pragma omp parallel for schedule(static) num_threads(gq_backend_cpu_threads()) if (T >= 8)
    for (int t = 0; t < T; t++) {
        const float *c = cos_tab + (size_t)pos[t] * half;
        const float *s = sin_tab + (size_t)pos[t] * half;
        for (int h = 0; h < n_heads; h++) gq_rope_row(X + (size_t)t * ld + (size_t)h * Dh, c, s, Dh);
    }
}

/* Attention per head with two sgemm calls: S = scale * Q_h K_g^T over all
 * n_pos keys, mask + softmax per row (kernels.h), O_h = P V_g.  The masked
 * part of S is computed and zeroed: BLAS is ~50x faster than a scalar dot
 * loop, which more than pays for it.  Row t (cache row pos0+t) sees rows
 * [0, pos0+t] (causal), minus the tree mask when seg is given
 * (gq_tree_mask_row, kernels.h). */
static void attention_tree_cpu(float *Out, const float *Q, const float *K, const float *V, int T, int pos0,
                               int shared_end, const int *seg, int H, int Hkv, int Dh, float scale)
{
    int qd = H * Dh, kd = Hkv * Dh, n_pos = pos0 + T;
    int n_thr = 1;
#ifdef _OPENMP
    n_thr = gq_backend_cpu_threads();
#endif
    /* One score matrix per thread; heads are split across threads. */
    float *S_all = malloc((size_t)n_thr * (size_t)T * (size_t)n_pos * sizeof(float));
    GQ_ASSERT(S_all != NULL); /* n_thr x T x n_pos floats, sized like the activations */
#pragma omp parallel for schedule(static) num_threads(gq_backend_cpu_threads()) if (H > 1 && T >= 8)
    for (int h = 0; h < H; h++) {
        int me = 0;
#ifdef _OPENMP
        me = omp_get_thread_num();
#endif
        float *S = S_all + (size_t)me * T * n_pos;
        int g = gq_kv_head_of(h, H, Hkv);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, n_pos, Dh, scale, Q + (size_t)h * Dh, qd,
                    K + (size_t)g * Dh, kd, 0.0f, S, n_pos);
        for (int t = 0; t < T; t++) {
            float *row = S + (size_t)t * n_pos;
            int self = pos0 + t;
            gq_tree_mask_row(row, self + 1, shared_end, seg, t);
            gq_softmax_row(row, self + 1);
            for (int s = self + 1; s < n_pos; s++) row[s] = 0.0f;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, Dh, n_pos, 1.0f, S, n_pos,
                    V + (size_t)g * Dh, kd, 0.0f, Out + (size_t)h * Dh, qd);
    }
    free(S_all);
}

static void attention_cpu(float *Out, const float *Q, const float *K, const float *V, int T, int pos0, int H,
                          int Hkv, int Dh, float scale)
{
    attention_tree_cpu(Out, Q, K, V, T, pos0, 0, NULL, H, Hkv, Dh, scale);
}

static void rope_slice_cpu(float *X, int ld, int T, int n_heads, int head_stride, int col0, int n, int interleaved,
                           int pos0, const int *pos, const float *cos_tab, const float *sin_tab)
{
    int half = n / 2;
    /* Decode steps (a few rows) stay on one thread: a parallel region costs
     * more than the rotation. */
#pragma omp parallel for schedule(static) num_threads(gq_backend_cpu_threads()) if (T >= 8)
    for (int t = 0; t < T; t++) {
        int p = pos ? pos[t] : pos0 + t;
        const float *c = cos_tab + (size_t)p * half;
        const float *s = sin_tab + (size_t)p * half;
        for (int h = 0; h < n_heads; h++) {
            float *x = X + (size_t)t * ld + col0 + (size_t)h * head_stride;
            if (interleaved) gq_rope_row_interleaved(x, c, s, n);
            else gq_rope_row(x, c, s, n);
        }
    }
}

static void copy_rows_cpu(float *Y, int ldy, const float *X, int ldx, int T, int n)
{
    for (int t = 0; t < T; t++) memcpy(Y + (size_t)t * ldy, X + (size_t)t * ldx, (size_t)n * sizeof(float));
}

// ---------------------------------------------------------------------------
// MLA / GQLA attention paths (conversion.md §2).  Score rows are grouped so
// that one sgemm serves every query head that reads the same keys: all H
// heads for the absorb path (MQA over the latent cache), the gs = H/N heads
// of a block for the gqa and expanded paths.  Rows are (query t, head i),
// t-major; the score matrix is cut into blocks of queries so that it stays
// under GQ_ATT_BLOCK_FLOATS.

#define GQ_ATT_BLOCK_FLOATS ((size_t)1 << 22) /* 16 MiB of scores */

static int queries_per_block(int heads_per_query, int n_pos)
{
    size_t per = (size_t)heads_per_query * (size_t)n_pos;
    size_t tb = GQ_ATT_BLOCK_FLOATS / (per ? per : 1);
    return tb < 1 ? 1 : (tb > (1u << 30) ? (1 << 30) : (int)tb);
}

/* Causal mask + softmax of S[M, ld]: row i is query t = t0 + i / per_t at
 * position pos0 + t, which sees keys 0 .. that position, minus the tree
 * mask when seg is given (gq_tree_mask_row, kernels.h). */
static void softmax_causal_rows(float *S, int M, int ld, int per_t, int t0, int pos0, int shared_end,
                                const int *seg)
{
#pragma omp parallel for schedule(static) num_threads(gq_backend_cpu_threads()) if ((size_t)M * (size_t)ld >= 16384)
    for (int i = 0; i < M; i++) {
        float *row = S + (size_t)i * ld;
        int t = t0 + i / per_t, n_ctx = pos0 + t + 1;
        gq_tree_mask_row(row, n_ctx, shared_end, seg, t);
        gq_softmax_row(row, n_ctx);
        for (int s = n_ctx; s < ld; s++) row[s] = 0.0f;
    }
}

/* C[M, N] = alpha * A[M, K] op(B) + beta * C, cut into fixed blocks of
 * rows, one single-threaded sgemm per block (see gq_backend_cpu_set_threads
 * for why the partition must not depend on the thread count).  Each block
 * packs B again, and B is the whole cache here: up to 512 rows a block (4
 * blocks for a 150-token document's 1,350 absorb rows, where 64-row blocks
 * packed it 22 times). */
static void sgemm_row_blocks(CBLAS_TRANSPOSE trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                             const float *B, int ldb, float beta, float *C, int ldc)
{
    int block_rows = balanced_block(M, 512);
    int n_blocks = (M + block_rows - 1) / block_rows;
#pragma omp parallel for schedule(static) num_threads(gq_backend_cpu_threads()) if (n_blocks > 1)
    for (int b = 0; b < n_blocks; b++) {
        int m0 = b * block_rows, m = M - m0 < block_rows ? M - m0 : block_rows;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b, m, N, K, alpha, A + (size_t)m0 * lda, lda, B, ldb, beta,
                    C + (size_t)m0 * ldc, ldc);
    }
}

/* Absorb path (§2.2): q~_h = W_UK^T q^N_h, scores against [c^ ; k^R] in one
 * product of width r + d_r, o~_h = sum_s P c^_s, o_h = W_UV o~_h. */
static void attn_absorb_cpu(float *Out, const float *Q, const float *cache, const float *Wkvb, int T, int pos0,
                            int shared_end, const int *seg, const gq_mla_shape *sh)
{
    const int H = sh->H, N = sh->N, dn = sh->dn, dr = sh->dr, dv = sh->dv, r = sh->r;
    const int qk = dn + dr, qd = H * qk, row = r + dr, blk = dn + dv, n_all = pos0 + T;
    const size_t HT = (size_t)T * H;
    const int tb = queries_per_block(H, n_all);
    float *Qc = malloc(HT * (size_t)row * sizeof(float)); /* rows (t, h): [q~ ; q^R] */
    float *Ol = malloc(HT * (size_t)r * sizeof(float));   /* rows (t, h): o~ */
    float *S = malloc((size_t)(tb < T ? tb : T) * (size_t)H * (size_t)n_all * sizeof(float));
    GQ_ASSERT(Qc != NULL && Ol != NULL && S != NULL); /* sized like the activations */
#pragma omp parallel for schedule(static) num_threads(gq_backend_cpu_threads()) if (T >= 8)
    for (int h = 0; h < H; h++) {
        int g = gq_kv_head_of(h, H, N);
        if (dn > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, r, dn, 1.0f, Q + (size_t)h * qk, qd,
                        Wkvb + (size_t)g * blk * r, r, 0.0f, Qc + (size_t)h * row, H * row);
        else
            for (int t = 0; t < T; t++) memset(Qc + ((size_t)t * H + h) * row, 0, (size_t)r * sizeof(float));
        for (int t = 0; t < T; t++)
            memcpy(Qc + ((size_t)t * H + h) * row + r, Q + (size_t)t * qd + (size_t)h * qk + dn,
                   (size_t)dr * sizeof(float));
    }
    for (int t0 = 0; t0 < T; t0 += tb) {
        int nt = T - t0 < tb ? T - t0 : tb, M = nt * H, n_pos = pos0 + t0 + nt;
        sgemm_row_blocks(CblasTrans, M, n_pos, row, sh->scale, Qc + (size_t)t0 * H * row, row, cache, row, 0.0f, S,
                         n_pos);
        softmax_causal_rows(S, M, n_pos, H, t0, pos0, shared_end, seg);
        sgemm_row_blocks(CblasNoTrans, M, r, n_pos, 1.0f, S, n_pos, cache, row, 0.0f, Ol + (size_t)t0 * H * r, r);
    }
#pragma omp parallel for schedule(static) num_threads(gq_backend_cpu_threads()) if (T >= 8)
    for (int h = 0; h < H; h++) {
        int g = gq_kv_head_of(h, H, N);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, dv, r, 1.0f, Ol + (size_t)h * r, H * r,
                    Wkvb + ((size_t)g * blk + dn) * r, r, 0.0f, Out + (size_t)h * dv, H * dv);
    }
    free(Qc);
    free(Ol);
    free(S);
}

/* Grouped attention over expanded cache rows of width `row`: block j's
 * nope key starts at column j*bs, its value at j*bs + v0, its rope key at
 * kr0 + j*krs (krs = 0: one k^R shared by every block).  When the rope key
 * follows the nope key the score is one product of width d_n + d_r. */
static void attn_grouped(float *Out, const float *Q, const float *cache, int row, int T, int pos0, int shared_end,
                         const int *seg, const gq_mla_shape *sh, int bs, int kr0, int krs, int v0)
{
    const int H = sh->H, N = sh->N, dn = sh->dn, dr = sh->dr, dv = sh->dv;
    const int qk = dn + dr, qd = H * qk, gs = H / N, n_all = pos0 + T;
    const int tb = queries_per_block(gs, n_all);
    float *Qg = malloc((size_t)T * gs * qk * sizeof(float)); /* rows (t, i): q of head j*gs + i */
    float *Og = malloc((size_t)T * gs * dv * sizeof(float));
    float *S = malloc((size_t)(tb < T ? tb : T) * (size_t)gs * (size_t)n_all * sizeof(float));
    GQ_ASSERT(Qg != NULL && Og != NULL && S != NULL);
    for (int j = 0; j < N; j++) {
        for (int t = 0; t < T; t++)
            memcpy(Qg + (size_t)t * gs * qk, Q + (size_t)t * qd + (size_t)j * gs * qk, (size_t)gs * qk * sizeof(float));
        const float *Kn = cache + (size_t)j * bs, *Kr = cache + kr0 + (size_t)j * krs, *Vj = cache + (size_t)j * bs + v0;
        for (int t0 = 0; t0 < T; t0 += tb) {
            int nt = T - t0 < tb ? T - t0 : tb, M = nt * gs, n_pos = pos0 + t0 + nt;
            const float *A = Qg + (size_t)t0 * gs * qk;
            if (dn > 0 && Kr == Kn + dn) {
                sgemm_row_blocks(CblasTrans, M, n_pos, qk, sh->scale, A, qk, Kn, row, 0.0f, S, n_pos);
            } else {
                if (dn > 0) sgemm_row_blocks(CblasTrans, M, n_pos, dn, sh->scale, A, qk, Kn, row, 0.0f, S, n_pos);
                sgemm_row_blocks(CblasTrans, M, n_pos, dr, sh->scale, A + dn, qk, Kr, row, dn > 0 ? 1.0f : 0.0f, S,
                                 n_pos);
            }
            softmax_causal_rows(S, M, n_pos, gs, t0, pos0, shared_end, seg);
            sgemm_row_blocks(CblasNoTrans, M, dv, n_pos, 1.0f, S, n_pos, Vj, row, 0.0f, Og + (size_t)t0 * gs * dv, dv);
        }
        for (int t = 0; t < T; t++)
            memcpy(Out + (size_t)t * H * dv + (size_t)j * gs * dv, Og + (size_t)t * gs * dv,
                   (size_t)gs * dv * sizeof(float));
    }
    free(Qg);
    free(Og);
    free(S);
}

/* GQA path (§2.1): rows [K^N_0, V_0, ..., K^N_{N-1}, V_{N-1} ; k^R]. */
static void attn_gqa_cpu(float *Out, const float *Q, const float *cache, int T, int pos0, int shared_end,
                         const int *seg, const gq_mla_shape *sh)
{
    int bs = sh->dn + sh->dv;
    attn_grouped(Out, Q, cache, sh->N * bs + sh->dr, T, pos0, shared_end, seg, sh, bs, sh->N * bs, 0, sh->dn);
}

/* Expanded path (HF's MLA cache): rows [K^N_j ; k^R ; V_j] for j < N. */
static void attn_expanded_cpu(float *Out, const float *Q, const float *cache, int T, int pos0, int shared_end,
                              const int *seg, const gq_mla_shape *sh)
{
    int bs = sh->dn + sh->dr + sh->dv;
    attn_grouped(Out, Q, cache, sh->N * bs, T, pos0, shared_end, seg, sh, bs, sh->dn, bs, sh->dn + sh->dr);
}

static void swiglu_cpu(float *G, const float *U, int T, int n)
{
#pragma omp parallel for schedule(static) num_threads(gq_backend_cpu_threads()) if (T >= 8)
    for (int t = 0; t < T; t++) gq_swiglu_row(G + (size_t)t * n, U + (size_t)t * n, n);
}

static void add_cpu(float *X, const float *Y, int T, int n)
{
    size_t total = (size_t)T * n;
    for (size_t i = 0; i < total; i++) X[i] += Y[i];
}

static void embed_cpu(float *Y, const gq_wmat *W, const int32_t *tokens, int T)
{
    for (int t = 0; t < T; t++) gq_wmat_widen_rows(W, tokens[t], 1, Y + (size_t)t * W->cols);
}

/* The CPU's "device" memory is the host's: device.c's moves become copies
 * (a model moved to the CPU runs on its copies, which is how the tests check
 * that a move leaves no pointer behind). */
static void *alloc_cpu(size_t bytes)
{
    gq_error err;
    return gq_malloc(bytes ? bytes : 1, "backend memory", &err);
}
static void release_cpu(void *p) { gq_free(p); }
static void copy_cpu(void *dst, const void *src, size_t bytes)
{
    if (bytes) memcpy(dst, src, bytes);
}
static int mem_info_cpu(size_t *free_bytes, size_t *total_bytes)
{
    *free_bytes = *total_bytes = 0;
    return -1;
}

static const gq_backend_ops cpu_ops = {
    .name = "cpu",
    .matmul = matmul_cpu,
    .matmul_w = matmul_w_cpu,
    .vocab_scores = vocab_scores_cpu,
    .rmsnorm = rmsnorm_cpu,
    .rope = rope_cpu,
    .attention = attention_cpu,
    .rope_rows = rope_rows_cpu,
    .attention_tree = attention_tree_cpu,
    .rope_slice = rope_slice_cpu,
    .copy_rows = copy_rows_cpu,
    .attn_absorb = attn_absorb_cpu,
    .attn_gqa = attn_gqa_cpu,
    .attn_expanded = attn_expanded_cpu,
    .swiglu = swiglu_cpu,
    .add = add_cpu,
    .embed = embed_cpu,
    .alloc = alloc_cpu,
    .release = release_cpu,
    .upload = copy_cpu,
    .download = copy_cpu,
    .mem_info = mem_info_cpu,
};

const gq_backend_ops *gq_backend_cpu(void) { return &cpu_ops; }
