/* test_kernels_cuda.c — every CUDA op against its CPU twin on random inputs
 * with awkward shapes (T=1, rows not a multiple of 32, GQA ratios 1/3/4;
 * the MLA ops on a GQLA and an MLA shape; tree batches on both).
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

/* A tree batch of T = 19 rows after pos0 cached ones: 7 shared rows, then
 * branches at rows 7 and 13 (backend.h): positions, segment starts and the
 * shared end.  Device copies in *dpos / *dseg. */
enum { TREE_T = 19, TREE_SHARED = 7 };
static int tree_batch(int pos0, int *pos, int *seg, int **dpos, int **dseg)
{
    for (int t = 0; t < TREE_T; t++) {
        int start = t < TREE_SHARED ? 0 : t < 13 ? TREE_SHARED : 13;
        pos[t] = t < TREE_SHARED ? pos0 + t : pos0 + TREE_SHARED + (t - start);
        seg[t] = t < TREE_SHARED ? 0 : pos0 + start;
    }
    *dpos = gq_cuda_malloc(TREE_T * sizeof(int));
    *dseg = gq_cuda_malloc(TREE_T * sizeof(int));
    gq_cuda_upload(*dpos, pos, TREE_T * sizeof(int));
    gq_cuda_upload(*dseg, seg, TREE_T * sizeof(int));
    return pos0 + TREE_SHARED;
}

/* The MLA ops (rope_slice in both layouts, copy_rows, the absorb / gqa /
 * expanded attention paths) on GQLA (H 6, N 2) and MLA (H = N = 3) shapes,
 * T = 1, T = 19 and a tree batch of 19 rows after pos0 = 4 cached positions. */
static void mla_ops(const gq_backend_ops *cpu, const gq_backend_ops *gpu, unsigned *s)
{
    const gq_mla_shape shapes[2] = {{6, 2, 16, 8, 12, 40, 0.2f}, {3, 3, 8, 4, 10, 24, 0.3f}};
    const int Ts[3] = {1, TREE_T, TREE_T};
    for (int k = 0; k < 2; k++)
        for (int ti = 0; ti < 3; ti++) {
            const gq_mla_shape *sh = &shapes[k];
            int T = Ts[ti], pos0 = 4, P = pos0 + T, qk = sh->dn + sh->dr, Qd = sh->H * qk, Od = sh->H * sh->dv;
            int pos[TREE_T], seg[TREE_T], *dpos = NULL, *dseg = NULL, shared_end = 0;
            const int tree = ti == 2;
            if (tree) shared_end = tree_batch(pos0, pos, seg, &dpos, &dseg);
            size_t nq = (size_t)T * Qd;
            float *Q = rnd(nq, s), *cs = rnd((size_t)P * sh->dr / 2, s), *sn = rnd((size_t)P * sh->dr / 2, s);
            float *dQ = dev(Q, nq), *dcs = dev(cs, (size_t)P * sh->dr / 2), *dsn = dev(sn, (size_t)P * sh->dr / 2);
            for (int il = 0; il < 2; il++) {
                cpu->rope_slice(Q, Qd, T, sh->H, qk, sh->dn, sh->dr, il, pos0, tree ? pos : NULL, cs, sn);
                gpu->rope_slice(dQ, Qd, T, sh->H, qk, sh->dn, sh->dr, il, pos0, dpos, dcs, dsn);
                test_cond("rope_slice", close_enough(il ? "rope_slice interleaved" : "rope_slice half", Q, dQ, nq,
                                                     1e-6, 1e-5));
            }
            const int *cseg = tree ? seg : NULL;
            /* caches of the three layouts, random (their contents need not be consistent) */
            int rows[3] = {sh->r + sh->dr, sh->N * (sh->dn + sh->dv) + sh->dr, sh->N * (qk + sh->dv)};
            float *W = rnd((size_t)sh->N * (sh->dn + sh->dv) * sh->r, s);
            float *dW = dev(W, (size_t)sh->N * (sh->dn + sh->dv) * sh->r);
            float *O = calloc((size_t)T * Od, sizeof *O), *dO = gq_cuda_malloc((size_t)T * Od * sizeof(float));
            for (int p = 0; p < 3; p++) {
                if (p == 2 && sh->N != sh->H) continue; /* expanded: MLA */
                if (p == 1 && sh->N == sh->H) continue; /* gqa: GQLA */
                size_t nc = (size_t)P * rows[p];
                float *C = rnd(nc, s), *dC = dev(C, nc);
                const char *name = p == 0 ? (tree ? "attn_absorb tree" : "attn_absorb")
                                   : p == 1 ? (tree ? "attn_gqa tree" : "attn_gqa")
                                            : (tree ? "attn_expanded tree" : "attn_expanded");
                if (p == 0) {
                    cpu->attn_absorb(O, Q, C, W, T, pos0, shared_end, cseg, sh);
                    gpu->attn_absorb(dO, dQ, dC, dW, T, pos0, shared_end, dseg, sh);
                } else if (p == 1) {
                    cpu->attn_gqa(O, Q, C, T, pos0, shared_end, cseg, sh);
                    gpu->attn_gqa(dO, dQ, dC, T, pos0, shared_end, dseg, sh);
                } else {
                    cpu->attn_expanded(O, Q, C, T, pos0, shared_end, cseg, sh);
                    gpu->attn_expanded(dO, dQ, dC, T, pos0, shared_end, dseg, sh);
                }
                test_cond(name, close_enough(name, O, dO, (size_t)T * Od, 1e-5, 1e-4));
                /* copy_rows: the rope key column block of this cache */
                float *Y = calloc((size_t)P * sh->dr, sizeof *Y), *dY = gq_cuda_malloc((size_t)P * sh->dr * sizeof(float));
                cpu->copy_rows(Y, sh->dr, C + sh->r, rows[p], P, sh->dr);
                gpu->copy_rows(dY, sh->dr, dC + sh->r, rows[p], P, sh->dr);
                test_cond("copy_rows", close_enough("copy_rows", Y, dY, (size_t)P * sh->dr, 0, 0));
                free(C); free(Y);
                gq_cuda_free(dC); gq_cuda_free(dY);
            }
            free(Q); free(cs); free(sn); free(W); free(O);
            gq_cuda_free(dQ); gq_cuda_free(dcs); gq_cuda_free(dsn); gq_cuda_free(dW); gq_cuda_free(dO);
            if (tree) {
                gq_cuda_free(dpos);
                gq_cuda_free(dseg);
            }
        }
}

/* The native path's tree ops (rope_rows, attention_tree) on the same tree
 * batch, H 6 / Hkv 2, Dh 32. */
static void native_tree_ops(const gq_backend_ops *cpu, const gq_backend_ops *gpu, unsigned *s)
{
    int pos[TREE_T], seg[TREE_T], *dpos = NULL, *dseg = NULL;
    const int T = TREE_T, H = 6, Hkv = 2, Dh = 32, pos0 = 5, P = pos0 + T;
    int shared_end = tree_batch(pos0, pos, seg, &dpos, &dseg);
    size_t nq = (size_t)T * H * Dh, nk = (size_t)P * Hkv * Dh;
    float *Q = rnd(nq, s), *K = rnd(nk, s), *V = rnd(nk, s);
    float *cs = rnd((size_t)P * Dh / 2, s), *sn = rnd((size_t)P * Dh / 2, s), *O = calloc(nq, sizeof *O);
    float *dQ = dev(Q, nq), *dK = dev(K, nk), *dV = dev(V, nk), *dcs = dev(cs, (size_t)P * Dh / 2);
    float *dsn = dev(sn, (size_t)P * Dh / 2), *dO = gq_cuda_malloc(nq * sizeof(float));
    cpu->rope_rows(Q, H * Dh, T, H, Dh, pos, cs, sn);
    gpu->rope_rows(dQ, H * Dh, T, H, Dh, dpos, dcs, dsn);
    test_cond("rope_rows", close_enough("rope_rows", Q, dQ, nq, 1e-6, 1e-5));
    cpu->attention_tree(O, Q, K, V, T, pos0, shared_end, seg, H, Hkv, Dh, 0.17f);
    gpu->attention_tree(dO, dQ, dK, dV, T, pos0, shared_end, dseg, H, Hkv, Dh, 0.17f);
    test_cond("attention_tree", close_enough("attention_tree", O, dO, nq, 1e-5, 1e-4));
    free(Q); free(K); free(V); free(cs); free(sn); free(O);
    gq_cuda_free(dQ); gq_cuda_free(dK); gq_cuda_free(dV); gq_cuda_free(dcs); gq_cuda_free(dsn); gq_cuda_free(dO);
    gq_cuda_free(dpos); gq_cuda_free(dseg);
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
    mla_ops(cpu, gpu, &s);
    native_tree_ops(cpu, gpu, &s);
    return test_report("kernels_cuda");
}
