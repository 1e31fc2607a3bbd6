/* collective_nccl.h — tensor parallelism's all-reduce on GPUs: the
 * gq_tp_comm of engine/tp.h over NCCL, on device buffers
 * (collective_nccl.cu).  Compiled and linked only when CMake finds NCCL
 * beside the CUDA toolkit (GQLA_WITH_NCCL); MPI on the CPU stays in
 * harness/world.c, and this file knows nothing of MPI either: the caller
 * creates the unique id on rank 0 and broadcasts its bytes over MPI
 * (a broadcast harness/world.c will gain with the CUDA forward pass, the
 * first caller) before every rank calls gq_nccl_comm_init.
 *
 * Why the ranks agree bit for bit: NCCL's ring and tree all-reduce reduce
 * each element once and then broadcast the result, so every rank receives
 * the same bits (tp.h asks for that).
 *
 * Not here yet: the forward pass does not run on the CUDA backend
 * (forward.c uses the CPU table), so nothing in gqla-eval calls this at
 * run time; it is the collective a CUDA forward would hand to
 * gq_open_opts.tp.  Tested by tests/test_nccl.c (skipped without a GPU). */
#ifndef GQ_COLLECTIVE_NCCL_H
#define GQ_COLLECTIVE_NCCL_H

#include <stddef.h>
#include "gq_error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GQ_NCCL_ID_BYTES 128 /* NCCL_UNIQUE_ID_BYTES */

typedef struct gq_nccl_comm gq_nccl_comm;

/* Rank 0: a fresh unique id into id[GQ_NCCL_ID_BYTES]. */
int gq_nccl_unique_id(unsigned char *id, gq_error *err);
/* Every rank, on its own GPU `device`, with rank 0's id: a communicator of
 * `size` ranks (blocks until all have joined).  On failure *out is NULL;
 * GQ_ERR_DEVICE naming the NCCL or CUDA error. */
int gq_nccl_comm_init(gq_nccl_comm **out, const unsigned char *id, int rank, int size, int device, gq_error *err);
void gq_nccl_comm_free(gq_nccl_comm *c);
/* In-place sum over the ranks of x[0..n), x a device pointer; returns when
 * the result is in x (the communicator's stream is synchronised).  The
 * signature is gq_tp_comm.allreduce_sum's with ctx = the communicator. */
int gq_nccl_allreduce_sum_f32(void *comm, float *x, size_t n, gq_error *err);

#ifdef __cplusplus
}
#endif

#endif
