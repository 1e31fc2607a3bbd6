/* backend.h — the ops a forward pass needs, as a table of function pointers.
 *
 * backend_cpu.c is always built (OpenBLAS sgemm + OpenMP over rows/heads);
 * backend_cuda.cu implements the same table with cuBLAS and kernels that
 * call the per-row math of kernels.h.  Pointers passed to an op live where
 * the backend keeps its memory (host for CPU).  Shapes: T rows (tokens),
 * D hidden, H heads, Hkv KV heads, Dh head dim, V vocabulary.
 */
#ifndef GQ_BACKEND_H
#define GQ_BACKEND_H

#include <stdint.h>
#include "kernels.h"

typedef struct gq_backend_ops {
    const char *name;
    /* Y[T, out] = X[T, in] * W[out, in]^T (+ bias[out] if not NULL);
     * ldy is Y's row stride (>= out). */
    void (*matmul)(float *Y, int ldy, const float *X, const float *W, const float *bias, int T,
                   int in, int out);
    /* Y[T, n] = rmsnorm(X[T, n]) * w */
    void (*rmsnorm)(float *Y, const float *X, const float *w, int T, int n, float eps);
    /* Rotate heads of X[T, ld] (n_heads heads of width Dh starting at column 0)
     * for positions pos0 .. pos0+T-1 using tables cos/sin [pos, Dh/2]. */
    void (*rope)(float *X, int ld, int T, int n_heads, int Dh, int pos0, const float *cos_tab,
                 const float *sin_tab);
    /* Causal grouped-query attention for T new queries at positions
     * pos0 .. pos0+T-1 against keys/values of positions 0 .. pos0+T-1:
     * Q[T, H*Dh], K/V[n_pos, Hkv*Dh] (cache rows), Out[T, H*Dh]. */
    void (*attention)(float *Out, const float *Q, const float *K, const float *V, int T, int pos0,
                      int H, int Hkv, int Dh, float scale);
    /* G[T, n] = silu(G) * U */
    void (*swiglu)(float *G, const float *U, int T, int n);
    /* X[T, n] += Y[T, n] */
    void (*add)(float *X, const float *Y, int T, int n);
} gq_backend_ops;

/* The CPU table; n_threads 0 = all cores. */
const gq_backend_ops *gq_backend_cpu(void);
void gq_backend_cpu_set_threads(int n_threads);


#endif
