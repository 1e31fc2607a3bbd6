/* backend_cuda.cu — the CUDA backend: cuBLAS sgemm for projections and
 * kernels (GQA attention, the MLA absorb / gqa / expanded paths, RoPE in
 * both layouts) whose per-row arithmetic is kernels.h's, the same functions the
 * CPU backend runs, so the CPU tests cover the math.  One thread block per
 * row (or per head x query for attention); simple, not tuned.
 * Tested by tests/test_kernels_cuda.c (skipped without a GPU). */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>

extern "C" {
#include "backend_cuda.h"
#include "gq_error.h"
#include "kernels.h"
#include "quant.h"
}

#define CUDA_CHECK(call)                                                                     \
    do {                                                                                     \
        cudaError_t e_ = (call);                                                             \
        if (e_ != cudaSuccess) {                                                             \
            fprintf(stderr, "gqla-eval: CUDA error %s at %s:%d: %s\n", cudaGetErrorString(e_), \
                    __FILE__, __LINE__, #call);                                              \
            abort();                                                                         \
        }                                                                                    \
    } while (0)
#define CUBLAS_CHECK(call)                                                                   \
    do {                                                                                     \
        cublasStatus_t s_ = (call);                                                          \
        if (s_ != CUBLAS_STATUS_SUCCESS) {                                                   \
            fprintf(stderr, "gqla-eval: cuBLAS error %d at %s:%d: %s\n", (int)s_, __FILE__,   \
                    __LINE__, #call);                                                        \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

static cublasHandle_t cublas_handle;

__global__ void add_bias_kernel(float *Y, int ldy, const float *bias, int T, int out)
{
    int t = blockIdx.x;
    for (int o = threadIdx.x; o < out; o += blockDim.x) Y[(size_t)t * ldy + o] += bias[o];
}

static void matmul_cuda(float *Y, int ldy, const float *X, const float *W, const float *bias, int T,
                        int in, int out)
{
    /* Row-major Y[T,out] = X[T,in] W[out,in]^T is column-major
     * Y^T[out,T] = W^T... : cuBLAS sees W as [in,out] col-major (op T). */
    const float one = 1.0f, zero = 0.0f;
    CUBLAS_CHECK(cublasSgemm(cublas_handle, CUBLAS_OP_T, CUBLAS_OP_N, out, T, in, &one, W, in, X, in,
                             &zero, Y, ldy));
    if (bias) add_bias_kernel<<<T, 256>>>(Y, ldy, bias, T, out);
    CUDA_CHECK(cudaGetLastError());
}

// ---------------------------------------------------------------------------
// Weights in their stored encoding (wmat.h, device pointers): rows widened
// by quant.h's block functions into a device scratch, then cuBLAS sgemm —
// the CPU backend's scheme, with the same arithmetic per element.

static float *dev_scratch;
static size_t dev_scratch_floats;

static float *device_scratch(size_t floats)
{
    if (floats > dev_scratch_floats) {
        if (dev_scratch) CUDA_CHECK(cudaFree(dev_scratch));
        CUDA_CHECK(cudaMalloc(&dev_scratch, floats * sizeof(float)));
        dev_scratch_floats = floats;
    }
    return dev_scratch;
}

/* One thread per block of the encoding (per element for F16/BF16/F32). */
__global__ void widen_kernel(float *dst, const unsigned char *src, int dtype, size_t n_blocks, int block_elems,
                             int block_bytes)
{
    size_t b = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (b < n_blocks) gq_dequant_block((gq_dtype)dtype, src + b * block_bytes, dst + b * block_elems);
}

static void widen_rows_cuda(const gq_wmat *W, int r0, int n, float *dst)
{
    int be = (int)gq_dtype_block_elems(W->dtype), bb = (int)gq_dtype_block_bytes(W->dtype);
    size_t n_blocks = (size_t)n * (size_t)W->cols / (size_t)be;
    const unsigned char *src = (const unsigned char *)W->data + (size_t)r0 * W->row_bytes;
    widen_kernel<<<(unsigned)((n_blocks + 255) / 256), 256>>>(dst, src, (int)W->dtype, n_blocks, be, bb);
    CUDA_CHECK(cudaGetLastError());
}

static void matmul_w_cuda(float *Y, int ldy, const float *X, const gq_wmat *W, const float *bias, int T)
{
    if (W->f32) {
        matmul_cuda(Y, ldy, X, W->f32, bias, T, W->cols, W->rows);
        return;
    }
    float *w = device_scratch((size_t)W->rows * (size_t)W->cols);
    widen_rows_cuda(W, 0, W->rows, w);
    matmul_cuda(Y, ldy, X, w, bias, T, W->cols, W->rows);
}

/* Partials of vocabulary blocks [b0, b0 + nb) for every row: one thread per
 * (row, block), kernels.h's gq_vocab_block_partial on the block's logits. */
__global__ void vocab_partial_kernel(const float *L, int ldl, int n_rows, int v_chunk0, int nv_chunk, int b0, int nb,
                                     int total_rows, float *bmax, double *bsum, int *barg)
{
    int k = blockIdx.x * blockDim.x + threadIdx.x;
    if (k >= n_rows * nb) return;
    int i = k % n_rows, bl = k / n_rows;
    int off = bl * GQ_VOCAB_BLOCK, nv = nv_chunk - off < GQ_VOCAB_BLOCK ? nv_chunk - off : GQ_VOCAB_BLOCK;
    size_t at = (size_t)(b0 + bl) * total_rows + i;
    gq_vocab_block_partial(L + (size_t)i * ldl + off, nv, v_chunk0 + off, &bmax[at], &barg[at], &bsum[at]);
}

__global__ void vocab_gather_kernel(const float *L, int ldl, int v0, int nv, const int *rows, const int *targets,
                                    int n_entries, float *elogit)
{
    int e = blockIdx.x * blockDim.x + threadIdx.x;
    if (e < n_entries && targets[e] >= v0 && targets[e] < v0 + nv)
        elogit[e] = L[(size_t)rows[e] * ldl + (targets[e] - v0)];
}

/* X and W on the device; the entry arrays and outputs of s in host memory. */
static void vocab_scores_cuda(const float *X, const gq_wmat *W, gq_vocab_scores *s)
{
    const int V = W->rows, D = W->cols, n = s->n_rows, ne = s->n_entries;
    /* chunk: engine/device.c counts this scratch (VOCAB_CHUNK_ROWS) in its memory check */
    const int n_blocks = (V + GQ_VOCAB_BLOCK - 1) / GQ_VOCAB_BLOCK, chunk = 64 * GQ_VOCAB_BLOCK;
    if (n <= 0) return;
    size_t np = (size_t)n_blocks * n;
    float *d_bmax, *d_elogit, *d_L;
    double *d_bsum;
    int *d_barg, *d_rows, *d_targets;
    CUDA_CHECK(cudaMalloc(&d_bmax, np * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&d_bsum, np * sizeof(double)));
    CUDA_CHECK(cudaMalloc(&d_barg, np * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&d_L, (size_t)n * chunk * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&d_elogit, (size_t)(ne > 0 ? ne : 1) * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&d_rows, (size_t)(ne > 0 ? ne : 1) * sizeof(int)));
    CUDA_CHECK(cudaMalloc(&d_targets, (size_t)(ne > 0 ? ne : 1) * sizeof(int)));
    if (ne > 0) {
        CUDA_CHECK(cudaMemcpy(d_rows, s->entry_row, (size_t)ne * sizeof(int), cudaMemcpyHostToDevice));
        CUDA_CHECK(cudaMemcpy(d_targets, s->entry_target, (size_t)ne * sizeof(int), cudaMemcpyHostToDevice));
    }
    float *wbuf = W->f32 ? NULL : device_scratch((size_t)chunk * D);
    for (int v0 = 0; v0 < V; v0 += chunk) {
        int nv = V - v0 < chunk ? V - v0 : chunk;
        const float *w = W->f32 ? W->f32 + (size_t)v0 * D : wbuf;
        if (!W->f32) widen_rows_cuda(W, v0, nv, wbuf);
        matmul_cuda(d_L, nv, X, w, NULL, n, D, nv);
        int nb = (nv + GQ_VOCAB_BLOCK - 1) / GQ_VOCAB_BLOCK, work = n * nb;
        vocab_partial_kernel<<<(work + 127) / 128, 128>>>(d_L, nv, n, v0, nv, v0 / GQ_VOCAB_BLOCK, nb, n, d_bmax,
                                                         d_bsum, d_barg);
        if (ne > 0) vocab_gather_kernel<<<(ne + 127) / 128, 128>>>(d_L, nv, v0, nv, d_rows, d_targets, ne, d_elogit);
        CUDA_CHECK(cudaGetLastError());
    }
    float *bmax = (float *)malloc(np * sizeof(float)), *elogit = (float *)malloc((size_t)(ne > 0 ? ne : 1) * sizeof(float));
    double *bsum = (double *)malloc(np * sizeof(double));
    int *barg = (int *)malloc(np * sizeof(int));
    GQ_ASSERT(bmax && elogit && bsum && barg);
    CUDA_CHECK(cudaMemcpy(bmax, d_bmax, np * sizeof(float), cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(bsum, d_bsum, np * sizeof(double), cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(barg, d_barg, np * sizeof(int), cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(elogit, d_elogit, (size_t)(ne > 0 ? ne : 1) * sizeof(float), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; i++) {
        int am;
        double lse = gq_vocab_combine(bmax + i, bsum + i, barg + i, n_blocks, (size_t)n, &am,
                                      &s->row_argmax_logprob[i]);
        s->row_argmax[i] = am;
        for (int e = 0; e < ne; e++)
            if (s->entry_row[e] == i) s->entry_logprob[e] = (double)elogit[e] - lse;
    }
    free(bmax);
    free(bsum);
    free(barg);
    free(elogit);
    CUDA_CHECK(cudaFree(d_bmax));
    CUDA_CHECK(cudaFree(d_bsum));
    CUDA_CHECK(cudaFree(d_barg));
    CUDA_CHECK(cudaFree(d_L));
    CUDA_CHECK(cudaFree(d_elogit));
    CUDA_CHECK(cudaFree(d_rows));
    CUDA_CHECK(cudaFree(d_targets));
}

__global__ void rmsnorm_kernel(float *Y, const float *X, const float *w, int n, float eps)
{
    int t = blockIdx.x;
    if (threadIdx.x == 0) gq_rmsnorm_row(Y + (size_t)t * n, X + (size_t)t * n, w, n, eps);
}

static void rmsnorm_cuda(float *Y, const float *X, const float *w, int T, int n, float eps)
{
    rmsnorm_kernel<<<T, 32>>>(Y, X, w, n, eps);
    CUDA_CHECK(cudaGetLastError());
}

__global__ void rope_kernel(float *X, int ld, int n_heads, int Dh, int pos0, const float *cos_tab,
                            const float *sin_tab)
{
    int t = blockIdx.x, h = threadIdx.x;
    if (h >= n_heads) return;
    int half = Dh / 2;
    gq_rope_row(X + (size_t)t * ld + (size_t)h * Dh, cos_tab + (size_t)(pos0 + t) * half,
                sin_tab + (size_t)(pos0 + t) * half, Dh);
}

static void rope_cuda(float *X, int ld, int T, int n_heads, int Dh, int pos0, const float *cos_tab,
                      const float *sin_tab)
{
    rope_kernel<<<T, n_heads < 1024 ? n_heads : 1024>>>(X, ld, n_heads, Dh, pos0, cos_tab, sin_tab);
    CUDA_CHECK(cudaGetLastError());
}

/* One block per (query t, head h); scores in dynamic shared memory. */
__global__ void attention_kernel(float *Out, const float *Q, const float *K, const float *V, int pos0,
                                 int H, int Hkv, int Dh, float scale)
{
    extern __shared__ float p[];
    int t = blockIdx.x, h = blockIdx.y;
    int g = gq_kv_head_of(h, H, Hkv);
    size_t qd = (size_t)H * Dh, kd = (size_t)Hkv * Dh;
    const float *q = Q + (size_t)t * qd + (size_t)h * Dh;
    int n_ctx = pos0 + t + 1;
    for (int s = threadIdx.x; s < n_ctx; s += blockDim.x) {
        const float *k = K + (size_t)s * kd + (size_t)g * Dh;
        float dot = 0.0f;
        for (int i = 0; i < Dh; i++) dot += q[i] * k[i];
        p[s] = dot * scale;
    }
    __syncthreads();
    if (threadIdx.x == 0) gq_softmax_row(p, n_ctx);
    __syncthreads();
    float *o = Out + (size_t)t * qd + (size_t)h * Dh;
    for (int i = threadIdx.x; i < Dh; i += blockDim.x) {
        float acc = 0.0f;
        for (int s = 0; s < n_ctx; s++) acc += p[s] * V[(size_t)s * kd + (size_t)g * Dh + i];
        o[i] = acc;
    }
}

static void attention_cuda(float *Out, const float *Q, const float *K, const float *V, int T, int pos0,
                           int H, int Hkv, int Dh, float scale)
{
    dim3 grid(T, H);
    size_t shmem = (size_t)(pos0 + T) * sizeof(float);
    attention_kernel<<<grid, 128, shmem>>>(Out, Q, K, V, pos0, H, Hkv, Dh, scale);
    CUDA_CHECK(cudaGetLastError());
}

__global__ void rope_slice_kernel(float *X, int ld, int n_heads, int head_stride, int col0, int n, int interleaved,
                                  int pos0, const int *pos, const float *cos_tab, const float *sin_tab)
{
    int t = blockIdx.x;
    int half = n / 2, p = pos ? pos[t] : pos0 + t;
    const float *c = cos_tab + (size_t)p * half, *s = sin_tab + (size_t)p * half;
    for (int h = threadIdx.x; h < n_heads; h += blockDim.x) {
        float *x = X + (size_t)t * ld + col0 + (size_t)h * head_stride;
        if (interleaved) gq_rope_row_interleaved(x, c, s, n);
        else gq_rope_row(x, c, s, n);
    }
}

/* pos: NULL or a device array of T positions. */
static void rope_slice_cuda(float *X, int ld, int T, int n_heads, int head_stride, int col0, int n, int interleaved,
                            int pos0, const int *pos, const float *cos_tab, const float *sin_tab)
{
    rope_slice_kernel<<<T, 64>>>(X, ld, n_heads, head_stride, col0, n, interleaved, pos0, pos, cos_tab, sin_tab);
    CUDA_CHECK(cudaGetLastError());
}

__global__ void copy_rows_kernel(float *Y, int ldy, const float *X, int ldx, int n)
{
    int t = blockIdx.x;
    for (int i = threadIdx.x; i < n; i += blockDim.x) Y[(size_t)t * ldy + i] = X[(size_t)t * ldx + i];
}

static void copy_rows_cuda(float *Y, int ldy, const float *X, int ldx, int T, int n)
{
    copy_rows_kernel<<<T, 256>>>(Y, ldy, X, ldx, n);
    CUDA_CHECK(cudaGetLastError());
}

/* Absorb path, one block per (query t, head h).  Shared memory:
 * p[n_ctx] scores, qt[r + d_r] = [W_UK^T q^N ; q^R], ot[r] = sum_s p_s c^_s.
 * seg (device array or NULL): the tree mask of backend.h. */
__global__ void attn_absorb_kernel(float *Out, const float *Q, const float *cache, const float *Wkvb, int pos0,
                                   int shared_end, const int *seg, gq_mla_shape sh)
{
    extern __shared__ float sm[];
    const int t = blockIdx.x, h = blockIdx.y;
    const int H = sh.H, dn = sh.dn, dr = sh.dr, dv = sh.dv, r = sh.r, row = r + dr, blk = dn + dv;
    const int g = gq_kv_head_of(h, H, sh.N), n_ctx = pos0 + t + 1;
    float *qt = sm, *ot = sm + row, *p = sm + row + r;
    const float *q = Q + (size_t)t * H * (dn + dr) + (size_t)h * (dn + dr);
    const float *wk = Wkvb + (size_t)g * blk * r, *wv = wk + (size_t)dn * r;
    for (int i = threadIdx.x; i < r; i += blockDim.x) {
        float acc = 0.0f;
        for (int k = 0; k < dn; k++) acc += q[k] * wk[(size_t)k * r + i];
        qt[i] = acc;
    }
    for (int i = threadIdx.x; i < dr; i += blockDim.x) qt[r + i] = q[dn + i];
    __syncthreads();
    for (int s = threadIdx.x; s < n_ctx; s += blockDim.x) {
        if (gq_tree_hidden(s, shared_end, seg, t)) {
            p[s] = -INFINITY;
            continue;
        }
        const float *c = cache + (size_t)s * row;
        float dot = 0.0f;
        for (int i = 0; i < row; i++) dot += qt[i] * c[i];
        p[s] = dot * sh.scale;
    }
    __syncthreads();
    if (threadIdx.x == 0) gq_softmax_row(p, n_ctx);
    __syncthreads();
    for (int i = threadIdx.x; i < r; i += blockDim.x) {
        float acc = 0.0f;
        for (int s = 0; s < n_ctx; s++) acc += p[s] * cache[(size_t)s * row + i];
        ot[i] = acc;
    }
    __syncthreads();
    float *o = Out + (size_t)t * H * dv + (size_t)h * dv;
    for (int i = threadIdx.x; i < dv; i += blockDim.x) {
        float acc = 0.0f;
        for (int k = 0; k < r; k++) acc += wv[(size_t)i * r + k] * ot[k];
        o[i] = acc;
    }
}

static void attn_absorb_cuda(float *Out, const float *Q, const float *cache, const float *Wkvb, int T, int pos0,
                             int shared_end, const int *seg, const gq_mla_shape *sh)
{
    dim3 grid(T, sh->H);
    size_t shmem = (size_t)(2 * sh->r + sh->dr + pos0 + T) * sizeof(float);
    attn_absorb_kernel<<<grid, 128, shmem>>>(Out, Q, cache, Wkvb, pos0, shared_end, seg, *sh);
    CUDA_CHECK(cudaGetLastError());
}

/* gqa / expanded paths, one block per (query t, head h): block j's nope key
 * at column j*bs, value at j*bs + v0, rope key at kr0 + j*krs. */
__global__ void attn_grouped_kernel(float *Out, const float *Q, const float *cache, int row, int pos0,
                                    int shared_end, const int *seg, gq_mla_shape sh, int bs, int kr0, int krs,
                                    int v0)
{
    extern __shared__ float p[];
    const int t = blockIdx.x, h = blockIdx.y;
    const int H = sh.H, dn = sh.dn, dr = sh.dr, dv = sh.dv;
    const int j = gq_kv_head_of(h, H, sh.N), n_ctx = pos0 + t + 1;
    const float *q = Q + (size_t)t * H * (dn + dr) + (size_t)h * (dn + dr);
    for (int s = threadIdx.x; s < n_ctx; s += blockDim.x) {
        if (gq_tree_hidden(s, shared_end, seg, t)) {
            p[s] = -INFINITY;
            continue;
        }
        const float *kn = cache + (size_t)s * row + (size_t)j * bs;
        const float *kr = cache + (size_t)s * row + kr0 + (size_t)j * krs;
        float dot = 0.0f;
        for (int i = 0; i < dn; i++) dot += q[i] * kn[i];
        for (int i = 0; i < dr; i++) dot += q[dn + i] * kr[i];
        p[s] = dot * sh.scale;
    }
    __syncthreads();
    if (threadIdx.x == 0) gq_softmax_row(p, n_ctx);
    __syncthreads();
    float *o = Out + (size_t)t * H * dv + (size_t)h * dv;
    for (int i = threadIdx.x; i < dv; i += blockDim.x) {
        float acc = 0.0f;
        for (int s = 0; s < n_ctx; s++) acc += p[s] * cache[(size_t)s * row + (size_t)j * bs + v0 + i];
        o[i] = acc;
    }
}

static void attn_gqa_cuda(float *Out, const float *Q, const float *cache, int T, int pos0, int shared_end,
                          const int *seg, const gq_mla_shape *sh)
{
    dim3 grid(T, sh->H);
    int bs = sh->dn + sh->dv;
    attn_grouped_kernel<<<grid, 128, (size_t)(pos0 + T) * sizeof(float)>>>(
        Out, Q, cache, sh->N * bs + sh->dr, pos0, shared_end, seg, *sh, bs, sh->N * bs, 0, sh->dn);
    CUDA_CHECK(cudaGetLastError());
}

static void attn_expanded_cuda(float *Out, const float *Q, const float *cache, int T, int pos0, int shared_end,
                               const int *seg, const gq_mla_shape *sh)
{
    dim3 grid(T, sh->H);
    int bs = sh->dn + sh->dr + sh->dv;
    attn_grouped_kernel<<<grid, 128, (size_t)(pos0 + T) * sizeof(float)>>>(
        Out, Q, cache, sh->N * bs, pos0, shared_end, seg, *sh, bs, sh->dn, bs, sh->dn + sh->dr);
    CUDA_CHECK(cudaGetLastError());
}

__global__ void swiglu_kernel(float *G, const float *U, int n)
{
    int t = blockIdx.x;
    if (threadIdx.x == 0) gq_swiglu_row(G + (size_t)t * n, U + (size_t)t * n, n);
}

static void swiglu_cuda(float *G, const float *U, int T, int n)
{
    swiglu_kernel<<<T, 32>>>(G, U, n);
    CUDA_CHECK(cudaGetLastError());
}

__global__ void add_kernel(float *X, const float *Y, size_t total)
{
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < total) X[i] += Y[i];
}

static void add_cuda(float *X, const float *Y, int T, int n)
{
    size_t total = (size_t)T * n;
    add_kernel<<<(unsigned)((total + 255) / 256), 256>>>(X, Y, total);
    CUDA_CHECK(cudaGetLastError());
}

__global__ void rope_rows_kernel(float *X, int ld, int n_heads, int Dh, const int *pos, const float *cos_tab,
                                 const float *sin_tab)
{
    int t = blockIdx.x, h = threadIdx.x;
    if (h >= n_heads) return;
    int half = Dh / 2;
    gq_rope_row(X + (size_t)t * ld + (size_t)h * Dh, cos_tab + (size_t)pos[t] * half, sin_tab + (size_t)pos[t] * half,
                Dh);
}

/* pos: a device array of T positions. */
static void rope_rows_cuda(float *X, int ld, int T, int n_heads, int Dh, const int *pos, const float *cos_tab,
                           const float *sin_tab)
{
    rope_rows_kernel<<<T, n_heads < 1024 ? n_heads : 1024>>>(X, ld, n_heads, Dh, pos, cos_tab, sin_tab);
    CUDA_CHECK(cudaGetLastError());
}

/* attention_kernel with the tree mask of backend.h (seg: device array). */
__global__ void attention_tree_kernel(float *Out, const float *Q, const float *K, const float *V, int pos0,
                                      int shared_end, const int *seg, int H, int Hkv, int Dh, float scale)
{
    extern __shared__ float p[];
    int t = blockIdx.x, h = blockIdx.y;
    int g = gq_kv_head_of(h, H, Hkv);
    size_t qd = (size_t)H * Dh, kd = (size_t)Hkv * Dh;
    const float *q = Q + (size_t)t * qd + (size_t)h * Dh;
    int self = pos0 + t;
    for (int s = threadIdx.x; s <= self; s += blockDim.x) {
        if (gq_tree_hidden(s, shared_end, seg, t)) {
            p[s] = -INFINITY;
            continue;
        }
        const float *k = K + (size_t)s * kd + (size_t)g * Dh;
        float dot = 0.0f;
        for (int i = 0; i < Dh; i++) dot += q[i] * k[i];
        p[s] = dot * scale;
    }
    __syncthreads();
    if (threadIdx.x == 0) gq_softmax_row(p, self + 1);
    __syncthreads();
    float *o = Out + (size_t)t * qd + (size_t)h * Dh;
    for (int i = threadIdx.x; i < Dh; i += blockDim.x) {
        float acc = 0.0f;
        for (int s = 0; s <= self; s++) acc += p[s] * V[(size_t)s * kd + (size_t)g * Dh + i];
        o[i] = acc;
    }
}

static void attention_tree_cuda(float *Out, const float *Q, const float *K, const float *V, int T, int pos0,
                                int shared_end, const int *seg, int H, int Hkv, int Dh, float scale)
{
    dim3 grid(T, H);
    size_t shmem = (size_t)(pos0 + T) * sizeof(float);
    attention_tree_kernel<<<grid, 128, shmem>>>(Out, Q, K, V, pos0, shared_end, seg, H, Hkv, Dh, scale);
    CUDA_CHECK(cudaGetLastError());
}

/* The token embedding: one thread per block of the encoding of each row. */
__global__ void embed_kernel(float *Y, const unsigned char *W, size_t row_bytes, int cols, const int32_t *tokens,
                             int dtype, int blocks_per_row, int block_elems, int block_bytes)
{
    int t = blockIdx.y;
    int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= blocks_per_row) return;
    const unsigned char *src = W + (size_t)tokens[t] * row_bytes + (size_t)b * block_bytes;
    gq_dequant_block((gq_dtype)dtype, src, Y + (size_t)t * cols + (size_t)b * block_elems);
}

static void embed_cuda(float *Y, const gq_wmat *W, const int32_t *tokens, int T)
{
    if (T <= 0) return;
    int be = (int)gq_dtype_block_elems(W->dtype), bb = (int)gq_dtype_block_bytes(W->dtype);
    int per_row = W->cols / be;
    dim3 grid((unsigned)((per_row + 127) / 128), (unsigned)T);
    embed_kernel<<<grid, 128>>>(Y, (const unsigned char *)W->data, W->row_bytes, W->cols, tokens, (int)W->dtype,
                                per_row, be, bb);
    CUDA_CHECK(cudaGetLastError());
}

/* Device memory: alloc returns NULL when cudaMalloc fails (the caller names
 * what did not fit); the copies are synchronous on the default stream, so a
 * download sees every kernel queued before it. */
static void *alloc_cuda(size_t bytes)
{
    void *p = NULL;
    if (cudaMalloc(&p, bytes ? bytes : 1) != cudaSuccess) {
        (void)cudaGetLastError(); /* clear the sticky-free error so later calls run */
        return NULL;
    }
    return p;
}
static void release_cuda(void *p)
{
    if (p) CUDA_CHECK(cudaFree(p));
}
static void upload_cuda(void *dst, const void *src, size_t bytes)
{
    if (bytes) CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
}
static void download_cuda(void *dst, const void *src, size_t bytes)
{
    if (bytes) CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}
static int mem_info_cuda(size_t *free_bytes, size_t *total_bytes)
{
    return cudaMemGetInfo(free_bytes, total_bytes) == cudaSuccess ? 0 : -1;
}

/* Positional, in backend.h's field order (C++17 has no designated
 * initialisers): name, matmul, matmul_w, vocab_scores, rmsnorm, rope, attention, rope_rows,
 * attention_tree, rope_slice, copy_rows, attn_absorb, attn_gqa,
 * attn_expanded, swiglu, add, embed, alloc, release, upload, download,
 * mem_info. */
static const gq_backend_ops cuda_ops = {
    "cuda",          matmul_cuda,     matmul_w_cuda,    vocab_scores_cuda, rmsnorm_cuda,     rope_cuda,     attention_cuda,     rope_rows_cuda,
    attention_tree_cuda, rope_slice_cuda, copy_rows_cuda, attn_absorb_cuda, attn_gqa_cuda, attn_expanded_cuda,
    swiglu_cuda,     add_cuda,        embed_cuda,       alloc_cuda,        release_cuda,     upload_cuda,   download_cuda,
    mem_info_cuda,
};

extern "C" int gq_backend_cuda_init(const gq_backend_ops **ops, char *msg, size_t msg_size)
{
    return gq_backend_cuda_open(0, ops, msg, msg_size);
}

extern "C" int gq_backend_cuda_open(int index, const gq_backend_ops **ops, char *msg, size_t msg_size)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        snprintf(msg, msg_size, "no CUDA device is available (%s); run without --device cuda",
                 e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
        return -1;
    }
    if (index < 0 || index >= n) {
        snprintf(msg, msg_size, "cuda:%d: this machine has %d CUDA device%s (0..%d)", index, n, n == 1 ? "" : "s",
                 n - 1);
        return -1;
    }
    if ((e = cudaSetDevice(index)) != cudaSuccess) {
        snprintf(msg, msg_size, "cuda:%d: %s", index, cudaGetErrorString(e));
        return -1;
    }
    if (!cublas_handle && cublasCreate(&cublas_handle) != CUBLAS_STATUS_SUCCESS) {
        snprintf(msg, msg_size, "cuBLAS could not be initialised");
        return -1;
    }
    *ops = &cuda_ops;
    return 0;
}

extern "C" void *gq_cuda_malloc(size_t bytes)
{
    void *p = NULL;
    CUDA_CHECK(cudaMalloc(&p, bytes ? bytes : 1));
    return p;
}
extern "C" void gq_cuda_free(void *p) { if (p) CUDA_CHECK(cudaFree(p)); }
extern "C" void gq_cuda_upload(void *dst, const void *src, size_t bytes)
{
    CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
}
extern "C" void gq_cuda_download(void *dst, const void *src, size_t bytes)
{
    CUDA_CHECK(cudaDeviceSynchronize());
    CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}

extern "C" void gq_backend_cuda_device_name(char *buf, size_t size)
{
    int dev = 0;
    cudaDeviceProp prop;
    if (cudaGetDevice(&dev) == cudaSuccess && cudaGetDeviceProperties(&prop, dev) == cudaSuccess)
        snprintf(buf, size, "cuda:%d %s", dev, prop.name);
    else
        snprintf(buf, size, "cuda");
}
