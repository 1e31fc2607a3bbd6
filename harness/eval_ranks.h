/* eval_ranks.h — data parallelism of the main command over MPI ranks
 * (harness/world.h): every rank scores the journal batches dealt to it
 * (gq_eval_deal_make), then gq_eval_ranks_gather brings every rank's
 * per-request results to rank 0, which computes the metrics and writes
 * exactly the files one process writes.
 *
 * Records travel as (u64 request index, f64 log-likelihood, i32 greedy,
 * u32 pad), after a header of the rank's scorer statistics, so rank 0's
 * token counts are the whole run's.  Tests: tests/mpi.cmake. */
#ifndef GQ_EVAL_RANKS_H
#define GQ_EVAL_RANKS_H

#include "eval.h"

/* The gq_eval_opts.gather hook (ctx unused). */
int gq_eval_ranks_gather(void *ctx, const struct gq_prepared_task *t, const int *owner, struct gq_task_scores *s,
                         gq_error *err);

/* Threads per rank when --threads is not given: the CPUs this process may
 * run on, divided among the ranks of this node when the launcher did not
 * bind each rank to CPUs of its own (mpirun --oversubscribe binds to none). */
int gq_eval_ranks_default_threads(void);

#endif
