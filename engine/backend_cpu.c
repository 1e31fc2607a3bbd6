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

static void attention_cpu(float *Out, const float *Q, const float *K, const float *V, int T, int pos0, int H,
                   int Hkv, int Dh, float scale)
{
    size_t qd = (size_t)H * Dh, kd = (size_t)Hkv * Dh;
    int n_pos = pos0 + T;
#pragma omp parallel
    {
        float *p = malloc((size_t)n_pos * sizeof(float));
        GQ_ASSERT(p != NULL); /* a few KB per thread; failing here is not bad input */
#pragma omp for collapse(2) schedule(dynamic, 8)
        for (int h = 0; h < H; h++) {
            for (int t = 0; t < T; t++) {
                int g = gq_kv_head_of(h, H, Hkv);
                const float *q = Q + (size_t)t * qd + (size_t)h * Dh;
                float *o = Out + (size_t)t * qd + (size_t)h * Dh;
                int n_ctx = pos0 + t + 1; /* causal: positions 0 .. pos0+t */
                for (int s = 0; s < n_ctx; s++) {
                    const float *k = K + (size_t)s * kd + (size_t)g * Dh;
                    float dot = 0.0f;
                    for (int i = 0; i < Dh; i++) dot += q[i] * k[i];
                    p[s] = dot * scale;
                }
                gq_softmax_row(p, n_ctx);
                memset(o, 0, (size_t)Dh * sizeof(float));
                for (int s = 0; s < n_ctx; s++) {
                    const float *v = V + (size_t)s * kd + (size_t)g * Dh;
                    float w = p[s];
                    for (int i = 0; i < Dh; i++) o[i] += w * v[i];
                }
            }
        }
        free(p);
    }
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
