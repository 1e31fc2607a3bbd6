/* tp.h — tensor parallelism along KV groups (issue 17), as the GQLA paper
 * deploys its GQA path: rank r of n holds the KV groups
 * [r*G/n, (r+1)*G/n) (their kv_b_proj blocks, or k/v rows for GQA models),
 * the query heads of those groups (q rows, o_proj columns) and the MLP
 * intermediate rows [r*I/n, (r+1)*I/n) (gate/up rows, down_proj columns);
 * norms, embeddings, kv_a_proj, q_a_proj and lm_head are replicated.  The
 * partial outputs of o_proj and down_proj are summed over the ranks (the
 * all-reduce) before the residual add.  Groups need not divide evenly:
 * 3 groups on 2 ranks are 1 + 2.
 *
 * The absorb path cannot shard its cache: the latent c^ and k^R are read by
 * every head (MLA's limitation the paper names), so each rank caches them
 * whole and absorbs only its own heads' W_UK / W_UV.
 *
 * The engine knows no MPI: the caller (harness/world.c) fills a
 * gq_tp_comm with its rank, size and an all-reduce.  The all-reduce must
 * leave the same bits on every rank (sum in rank order), or the ranks'
 * residual streams drift apart.
 *
 * Not here: pipeline parallelism, vocabulary-parallel lm_head, overlapping
 * communication with compute.  Tests: tests/test_tp.c, tests/tp.cmake. */
#ifndef GQ_TP_H
#define GQ_TP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "gq_error.h"

typedef struct gq_tp_comm {
    int rank, size;          /* this rank, ranks in the tensor-parallel group (1: none) */
    /* In-place sum of x[0..n) over the ranks, the same bits on every rank;
     * returns GQ_OK or fills err.  Called by every rank the same number of
     * times with the same n (the forward pass is identical on every rank). */
    int (*allreduce_sum)(void *ctx, float *x, size_t n, gq_error *err);
    void *ctx;
} gq_tp_comm;

/* Rank `rank` of `size` holds items [*lo, *hi) of `count`: floor(rank*count/size)
 * to floor((rank+1)*count/size), so the shares differ by at most one. */
void gq_tp_range(int64_t count, int rank, int size, int64_t *lo, int64_t *hi);

/* GQ_OK when a model with this config can be split over `size` ranks
 * (1 <= size <= G, the KV groups; rank in range), else GQ_ERR_USAGE naming
 * `what` (a file) and the bound. */
int gq_tp_check(const gq_config *cfg, int rank, int size, const char *what, gq_error *err);

/* Cache elements per token per layer that rank `rank` of `size` stores
 * under path p (conversion.md §2.4 with its share of the groups G_r):
 *   native   2*G_r*d          gqa       G_r*(d_n+d_v) + d_r (k^R shared, kept by every rank)
 *   absorb   r + d_r (replicated: every rank caches the whole latent)
 *   expanded G_r*(d_n+d_r+d_v)
 * size 1 is gq_config_path_cache_elems. */
int64_t gq_tp_cache_elems(const gq_config *cfg, gq_path p, int rank, int size);

#endif
