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

#include <stddef.h>
#include <stdint.h>
#include "kernels.h"
#include "wmat.h"

/* The attention shape of an MLA / GQLA layer (conversion.md §1.4, §2):
 * H query heads of width d_n + d_r (nope then rope), N KV blocks (H for
 * MLA, G for GQLA; head h reads block gq_kv_head_of(h, H, N)), value width
 * d_v, latent rank r, softmax scale tau. */
typedef struct gq_mla_shape {
    int H, N, dn, dr, dv, r;
    float scale;
} gq_mla_shape;

/* Log-probabilities of chosen targets at n_rows rows, from the rows'
 * final hidden states and the vocabulary matrix, without materialising the
 * [n_rows, V] logits: the vocabulary is walked in fixed blocks, each block's
 * max and sum of exponentials kept per row (float64) and combined in block
 * order, so the result does not depend on the thread count. */
typedef struct gq_vocab_scores {
    int n_rows;                  /* rows of X */
    int n_entries;               /* (row, target) pairs to score */
    const int *entry_row;        /* [n_entries] row of X */
    const int32_t *entry_target; /* [n_entries] token id */
    double *entry_logprob;       /* [n_entries] out: log-softmax at the target */
    int32_t *row_argmax;         /* [n_rows] out: first index of the row's maximum logit */
    double *row_argmax_logprob;  /* [n_rows] out: its log-prob */
} gq_vocab_scores;

typedef struct gq_backend_ops {
    const char *name;
    /* Y[T, out] = X[T, in] * W[out, in]^T (+ bias[out] if not NULL);
     * ldy is Y's row stride (>= out). */
    void (*matmul)(float *Y, int ldy, const float *X, const float *W, const float *bias, int T,
                   int in, int out);
    /* The same product for a weight in its stored encoding (wmat.h):
     * Y[T, W->rows] = X[T, W->cols] * W^T (+ bias). */
    void (*matmul_w)(float *Y, int ldy, const float *X, const gq_wmat *W, const float *bias, int T);
    /* X[n_rows, W->cols] against the vocabulary W[V, cols]: see gq_vocab_scores. */
    void (*vocab_scores)(const float *X, const gq_wmat *W, gq_vocab_scores *s);
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
    /* Tree batches (several continuations of one context in one call):
     * rope with an explicit position per row, and attention where row t
     * (cache row pos0+t) sees cache rows [0, shared_end) and [seg[t], pos0+t]. */
    void (*rope_rows)(float *X, int ld, int T, int n_heads, int Dh, const int *pos, const float *cos_tab,
                      const float *sin_tab);
    void (*attention_tree)(float *Out, const float *Q, const float *K, const float *V, int T, int pos0,
                           int shared_end, const int *seg, int H, int Hkv, int Dh, float scale);
    /* Rotate a d_r-wide slice of n_heads heads of X[T, ld]: head h's slice
     * starts at column col0 + h*head_stride; interleaved pairs (DeepSeek,
     * gq_rope_row_interleaved) or rotate-half (gq_rope_row); tables as rope.
     * Row t is at position pos0 + t, or pos[t] when pos is not NULL (tree
     * batches). */
    void (*rope_slice)(float *X, int ld, int T, int n_heads, int head_stride, int col0, int n,
                       int interleaved, int pos0, const int *pos, const float *cos_tab, const float *sin_tab);
    /* Y[T, n] (row stride ldy) = X[T, n] (row stride ldx). */
    void (*copy_rows)(float *Y, int ldy, const float *X, int ldx, int T, int n);
    /* The three MLA attention paths, T new queries at positions
     * pos0 .. pos0+T-1 against cache rows 0 .. pos0+T-1: causal when seg is
     * NULL, else the tree mask of attention_tree (row t sees cache rows
     * [0, shared_end) and [seg[t], pos0+t]).
     * Q[T, H*(d_n+d_r)] (rope part already rotated), Out[T, H*d_v].
     * absorb:   cache rows [c^ (r) ; k^R (d_r)]; Wkvb [N*(d_n+d_v), r] is
     *           kv_b_proj: W_UK is absorbed into the query, W_UV into the
     *           output (§2.2).
     * gqa:      cache rows [K^N_0, V_0, ..., K^N_{N-1}, V_{N-1} ; k^R], one
     *           shared rotated k^R per token (§2.1).
     * expanded: cache rows [K^N_j ; k^R ; V_j] for j < N (k^R repeated per
     *           block, HF's layout). */
    void (*attn_absorb)(float *Out, const float *Q, const float *cache, const float *Wkvb, int T, int pos0,
                        int shared_end, const int *seg, const gq_mla_shape *s);
    void (*attn_gqa)(float *Out, const float *Q, const float *cache, int T, int pos0, int shared_end,
                     const int *seg, const gq_mla_shape *s);
    void (*attn_expanded)(float *Out, const float *Q, const float *cache, int T, int pos0, int shared_end,
                          const int *seg, const gq_mla_shape *s);
    /* G[T, n] = silu(G) * U */
    void (*swiglu)(float *G, const float *U, int T, int n);
    /* X[T, n] += Y[T, n] */
    void (*add)(float *X, const float *Y, int T, int n);
    /* Y[T, W->cols] = rows tokens[0..T) of W widened to float32 (the token
     * embedding); tokens in this backend's memory. */
    void (*embed)(float *Y, const gq_wmat *W, const int32_t *tokens, int T);

    /* The memory the ops above read and write (device.c moves a model
     * there).  alloc: NULL when it cannot; release accepts NULL; upload and
     * download copy host <-> backend memory and return when the copy is
     * done (download after every op queued before it).  mem_info: 0 and
     * the free and total bytes, or -1 when the backend has no such figure
     * (the CPU: what the OS will give is not known in advance). */
    void *(*alloc)(size_t bytes);
    void (*release)(void *p);
    void (*upload)(void *dst, const void *src, size_t bytes);
    void (*download)(void *dst, const void *src, size_t bytes);
    int (*mem_info)(size_t *free_bytes, size_t *total_bytes);
} gq_backend_ops;

/* The CPU table; n_threads 0 = all cores. */
const gq_backend_ops *gq_backend_cpu(void);
void gq_backend_cpu_set_threads(int n_threads);
/* The team size of the CPU backend's parallel loops (>= 1). */
int gq_backend_cpu_threads(void);
/* Free the CPU backend's widening scratch (it is grown again on demand). */
void gq_backend_cpu_release(void);


#endif
