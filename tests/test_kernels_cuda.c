/* test_kernels_cuda.c — every CUDA op against its CPU twin on random inputs
 * with awkward shapes (T=1, rows not a multiple of 32, GQA ratios 1/3/4).
 * |gpu - cpu| <= atol + rtol*|cpu|; tolerances per op below (why: cuBLAS
 * and the CPU sgemm sum in different orders, ~1e-6 relative on K <= 600;
 * the rest is the same kernels.h arithmetic, fast-math aside).
 * Exit 77 (skipped) when no GPU is present. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "backend_cuda.h"
#include "testutil.h"

static float *rnd(size_t n, unsigned *s)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) {
        *s = *s * 1664525u + 1013904223u;
        p[i] = ((*s >> 9) & 0xffff) / 32768.0f - 1.0f;
    }
    return p;
}

static float *dev(const float *h, size_t n)
{
    float *d = gq_cuda_malloc(n * sizeof *d);
    gq_cuda_upload(d, h, n * sizeof *d);
    return d;
}

static int close_enough(const char *op, const float *cpu, const float *dgpu, size_t n, double atol, double rtol)
{
    float *g = malloc(n * sizeof *g);
    gq_cuda_download(g, dgpu, n * sizeof *g);
    double worst = 0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)g[i] - cpu[i]);
        if (isnan(g[i]) != isnan(cpu[i]) || e > atol + rtol * fabs(cpu[i])) {
            if (bad < 3) fprintf(stderr, "%s[%zu]: gpu %.8g cpu %.8g\n", op, i, g[i], cpu[i]);
            bad++;
        }
        if (e > worst) worst = e;
    }
    printf("%s: max |gpu-cpu| %.3g over %zu values\n", op, worst, n);
    free(g);
    return bad == 0;
}

int main(void)
{
    const gq_backend_ops *gpu = NULL, *cpu = gq_backend_cpu();
    char msg[256];
    if (gq_backend_cuda_init(&gpu, msg, sizeof msg) != 0) {
        printf("skipped: %s\n", msg);
        return GQ_TEST_SKIP;
    }
    unsigned s = 7;
    int shapes[][4] = {{1, 64, 96, 1}, {37, 576, 192, 3}, {33, 128, 64, 4}}; /* T, in, out, H/Hkv */
    for (int k = 0; k < 3; k++) {
        int T = shapes[k][0], in = shapes[k][1], out = shapes[k][2];
        float *X = rnd((size_t)T * in, &s), *W = rnd((size_t)out * in, &s), *b = rnd((size_t)out, &s);
        float *Y = calloc((size_t)T * out, sizeof *Y);
        cpu->matmul(Y, out, X, W, b, T, in, out);
        float *dX = dev(X, (size_t)T * in), *dW = dev(W, (size_t)out * in), *db = dev(b, out);
        float *dY = gq_cuda_malloc((size_t)T * out * sizeof(float));
        gpu->matmul(dY, out, dX, dW, db, T, in, out);
        test_cond("matmul+bias", close_enough("matmul", Y, dY, (size_t)T * out, 1e-4, 1e-4));

        float *w = rnd((size_t)in, &s), *N = calloc((size_t)T * in, sizeof *N);
        cpu->rmsnorm(N, X, w, T, in, 1e-5f);
        float *dw = dev(w, in), *dN = gq_cuda_malloc((size_t)T * in * sizeof(float));
        gpu->rmsnorm(dN, dX, dw, T, in, 1e-5f);
        test_cond("rmsnorm", close_enough("rmsnorm", N, dN, (size_t)T * in, 1e-6, 1e-5));

        float *U = rnd((size_t)T * in, &s), *dU = dev(U, (size_t)T * in);
        cpu->swiglu(X, U, T, in);
        gpu->swiglu(dX, dU, T, in);
        test_cond("swiglu", close_enough("swiglu", X, dX, (size_t)T * in, 1e-6, 1e-5));

        /* Attention with Dh 32, H heads, Hkv = H / ratio, pos0 = 5. */
        int ratio = shapes[k][3], Hkv = 2, H = Hkv * ratio, Dh = 32, pos0 = 5, P = pos0 + T;
        float *Q = rnd((size_t)T * H * Dh, &s), *K = rnd((size_t)P * Hkv * Dh, &s), *V = rnd((size_t)P * Hkv * Dh, &s);
        float *cs = rnd((size_t)P * Dh / 2, &s), *sn = rnd((size_t)P * Dh / 2, &s);
        float *O = calloc((size_t)T * H * Dh, sizeof *O);
        float *dQ = dev(Q, (size_t)T * H * Dh), *dK = dev(K, (size_t)P * Hkv * Dh), *dV = dev(V, (size_t)P * Hkv * Dh);
        float *dcs = dev(cs, (size_t)P * Dh / 2), *dsn = dev(sn, (size_t)P * Dh / 2);
        float *dO = gq_cuda_malloc((size_t)T * H * Dh * sizeof(float));
        cpu->rope(Q, H * Dh, T, H, Dh, pos0, cs, sn);
        gpu->rope(dQ, H * Dh, T, H, Dh, pos0, dcs, dsn);
        test_cond("rope", close_enough("rope", Q, dQ, (size_t)T * H * Dh, 1e-6, 1e-5));
        cpu->attention(O, Q, K, V, T, pos0, H, Hkv, Dh, 0.17f);
        gpu->attention(dO, dQ, dK, dV, T, pos0, H, Hkv, Dh, 0.17f);
        test_cond("attention", close_enough("attention", O, dO, (size_t)T * H * Dh, 1e-5, 1e-4));

        free(X); free(W); free(b); free(Y); free(w); free(N); free(U); free(Q); free(K); free(V);
        free(cs); free(sn); free(O);
        gq_cuda_free(dX); gq_cuda_free(dW); gq_cuda_free(db); gq_cuda_free(dY); gq_cuda_free(dw);
        gq_cuda_free(dN); gq_cuda_free(dU); gq_cuda_free(dQ); gq_cuda_free(dK); gq_cuda_free(dV);
        gq_cuda_free(dcs); gq_cuda_free(dsn); gq_cuda_free(dO);
    }
    return test_report("kernels_cuda");
}
