/* world.h — the processes of one run: MPI when gqla-eval was built with it
 * (GQLA_MPI) and started by a launcher (mpirun, srun), else one process.
 *
 * Only this file and world.c know MPI.  Data parallelism (cmd_eval.c) and
 * tensor parallelism (the engine's gq_tp_comm, engine/tp.h, filled by
 * gq_world_tp_comm) go
 * through these few calls, so a build without MPI is the same program with
 * a world of size 1.
 *
 * Started by a launcher: OMPI_COMM_WORLD_SIZE (Open MPI's mpirun), PMIX_RANK
 * or PMI_RANK (Slurm's srun, other launchers) is set.  A plain
 * `gqla-eval ...` never initialises MPI (no singleton start-up, no orted).
 *
 * Failure contract: a rank that fails prints its error with "rank R of N"
 * and calls gq_world_abort, which ends every rank (MPI_Abort) with exit
 * status 2; mpirun then names the rank in its own message too. */
#ifndef GQ_WORLD_H
#define GQ_WORLD_H

#include <stddef.h>
#include "gq_error.h"
#include "tp.h"

typedef struct gq_world {
    int rank, size;          /* 0 and 1 without MPI */
    int local_size;          /* ranks on this node (for the default thread count) */
    int mpi;                 /* MPI was initialised (gq_world_finalize ends it) */
} gq_world;

/* The process's world (a static; initialised once by gq_world_init). */
const gq_world *gq_world_get(void);

/* Called first in main(): MPI_Init when built with MPI and launched by a
 * launcher.  Returns GQ_OK, or an error naming the MPI failure. */
int gq_world_init(int *argc, char ***argv, gq_error *err);
void gq_world_finalize(void);
/* End every rank with status `code` (MPI_Abort); exit(code) without MPI. */
void gq_world_abort(int code);

/* 1 when the build has MPI compiled in. */
int gq_world_mpi_compiled(void);

void gq_world_barrier(void);
/* Gather variable-length byte blocks to rank 0: rank r sends n bytes of buf;
 * on rank 0 *out (heap, gq_free) receives all blocks in rank order and
 * counts[r] their sizes (an array of size).  Other ranks: *out NULL. */
int gq_world_gather_bytes(const void *buf, size_t n, void **out, size_t *counts, gq_error *err);
/* In-place sum over ranks of n floats (tensor parallelism's all-reduce),
 * summed in rank order on every rank so that every rank holds the same
 * bits. */
int gq_world_allreduce_sum_f32(float *x, size_t n, gq_error *err);

/* `--tp N`: fill *out for tensor parallelism over N ranks.  N = 1: size 1,
 * no collective (any world).  N > 1 needs an MPI build started with
 * mpirun -np N: every rank of the world is one tensor-parallel rank (data
 * parallelism combined with tp is not there yet, so the world size must be
 * N).  GQ_ERR_USAGE saying what to run otherwise. */
int gq_world_tp_comm(int tp, gq_tp_comm *out, gq_error *err);

#endif
