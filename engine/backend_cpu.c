/* backend_cpu.c — the CPU backend: OpenBLAS sgemm for the projections,
 * OpenMP over rows and heads for the rest, per-row math from kernels.h.
 * Every op gives the same bits whatever the thread count: threads split
 * rows/heads, never a reduction. */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "backend.h"
#include "gq_error.h"
#include "kernels.h"

static int cpu_threads = 0;

void gq_backend_cpu_set_threads(int n_threads)
{
#ifdef _OPENMP
    if (n_threads <= 0) n_threads = omp_get_num_procs();
    omp_set_num_threads(n_threads);
#else
    if (n_threads <= 0) n_threads = 1;
#endif
    if (n_threads != cpu_threads) openblas_set_num_threads(n_threads);
    cpu_threads = n_threads;
}

static void matmul_cpu(float *Y, int ldy, const float *X, const float *W, const float *bias, int T, int in,
                int out)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, out, in, 1.0f, X, in, W, in, 0.0f, Y, ldy);
    if (bias) {
        for (int t = 0; t < T; t++)
            for (int o = 0; o < out; o++) Y[(size_t)t * ldy + o] += bias[o];
    }
}

static void rmsnorm_cpu(float *Y, const float *X, const float *w, int T, int n, float eps)
{
#pragma omp parallel for schedule(static)
    for (int t = 0; t < T; t++) gq_rmsnorm_row(Y + (size_t)t * n, X + (size_t)t * n, w, n, eps);
}

static void rope_cpu(float *X, int ld, int T, int n_heads, int Dh, int pos0, const float *cos_tab,
              const float *sin_tab)
{
    int half = Dh / 2;
#pragma omp parallel for schedule(static)
    for (int t = 0; t < T; t++) {
        const float *c = cos_tab + (size_t)(pos0 + t) * half;
        const float *s = sin_tab + (size_t)(pos0 + t) * half;
        for (int h = 0; h < n_heads; h++) gq_rope_row(X + (size_t)t * ld + (size_t)h * Dh, c, s, Dh);
    }
}

/* Attention per head with two sgemm calls: S = scale * Q_h K_g^T over all
 * n_pos keys, causal mask + softmax per row (kernels.h), O_h = P V_g.  The
 * masked half of S is computed and zeroed: BLAS is ~50x faster than a
 * scalar dot loop, which more than pays for it. */
static void attention_cpu(float *Out, const float *Q, const float *K, const float *V, int T, int pos0, int H,
                          int Hkv, int Dh, float scale)
{
    int qd = H * Dh, kd = Hkv * Dh, n_pos = pos0 + T;
    float *S = malloc((size_t)T * (size_t)n_pos * sizeof(float));
    GQ_ASSERT(S != NULL); /* T x n_pos floats, sized like the activations */
    for (int h = 0; h < H; h++) {
        int g = gq_kv_head_of(h, H, Hkv);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, n_pos, Dh, scale, Q + (size_t)h * Dh, qd,
                    K + (size_t)g * Dh, kd, 0.0f, S, n_pos);
#pragma omp parallel for schedule(static)
        for (int t = 0; t < T; t++) {
            float *row = S + (size_t)t * n_pos;
            int n_ctx = pos0 + t + 1; /* causal: positions 0 .. pos0+t */
            gq_softmax_row(row, n_ctx);
            for (int s = n_ctx; s < n_pos; s++) row[s] = 0.0f;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, Dh, n_pos, 1.0f, S, n_pos,
                    V + (size_t)g * Dh, kd, 0.0f, Out + (size_t)h * Dh, qd);
    }
    free(S);
}

static void swiglu_cpu(float *G, const float *U, int T, int n)
{
#pragma omp parallel for schedule(static)
    for (int t = 0; t < T; t++) gq_swiglu_row(G + (size_t)t * n, U + (size_t)t * n, n);
}

static void add_cpu(float *X, const float *Y, int T, int n)
{
    size_t total = (size_t)T * n;
    for (size_t i = 0; i < total; i++) X[i] += Y[i];
}

static const gq_backend_ops cpu_ops = {
    "cpu", matmul_cpu, rmsnorm_cpu, rope_cpu, attention_cpu, swiglu_cpu, add_cpu,
};

const gq_backend_ops *gq_backend_cpu(void) { return &cpu_ops; }
