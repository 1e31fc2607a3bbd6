/* collective_nccl.cu — the NCCL all-reduce of collective_nccl.h.  One
 * communicator and one stream per rank; errors are returned (GQ_ERR_DEVICE),
 * not aborted on, since a peer that died is a run-time condition. */
#include <cuda_runtime.h>
#include <nccl.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "collective_nccl.h"
#include "gq_error.h"
}

static_assert(GQ_NCCL_ID_BYTES == NCCL_UNIQUE_ID_BYTES, "collective_nccl.h's id size is NCCL's");

struct gq_nccl_comm {
    ncclComm_t comm;
    cudaStream_t stream;
    int rank, size, device;
};

static int nccl_fail(ncclResult_t r, const char *what, gq_error *err)
{
    return gq_error_set(err, GQ_ERR_DEVICE, "NCCL %s failed: %s", what, ncclGetErrorString(r));
}

static int cuda_fail(cudaError_t e, const char *what, gq_error *err)
{
    return gq_error_set(err, GQ_ERR_DEVICE, "CUDA %s failed: %s", what, cudaGetErrorString(e));
}

extern "C" int gq_nccl_unique_id(unsigned char *id, gq_error *err)
{
    ncclUniqueId u;
    ncclResult_t r = ncclGetUniqueId(&u);
    if (r != ncclSuccess) return nccl_fail(r, "ncclGetUniqueId", err);
    memcpy(id, u.internal, NCCL_UNIQUE_ID_BYTES);
    return GQ_OK;
}

extern "C" int gq_nccl_comm_init(gq_nccl_comm **out, const unsigned char *id, int rank, int size, int device,
                                 gq_error *err)
{
    *out = NULL;
    if (size < 1 || rank < 0 || rank >= size)
        return gq_error_set(err, GQ_ERR_USAGE, "NCCL rank %d of %d is out of range", rank, size);
    cudaError_t e = cudaSetDevice(device);
    if (e != cudaSuccess) return cuda_fail(e, "cudaSetDevice", err);
    gq_nccl_comm *c = (gq_nccl_comm *)calloc(1, sizeof *c);
    if (!c) return gq_error_set(err, GQ_ERR_NOMEM, "out of memory for an NCCL communicator");
    c->rank = rank;
    c->size = size;
    c->device = device;
    if ((e = cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking)) != cudaSuccess) {
        free(c);
        return cuda_fail(e, "cudaStreamCreate", err);
    }
    ncclUniqueId u;
    memcpy(u.internal, id, NCCL_UNIQUE_ID_BYTES);
    ncclResult_t r = ncclCommInitRank(&c->comm, size, u, rank);
    if (r != ncclSuccess) {
        cudaStreamDestroy(c->stream);
        free(c);
        return nccl_fail(r, "ncclCommInitRank", err);
    }
    *out = c;
    return GQ_OK;
}

extern "C" void gq_nccl_comm_free(gq_nccl_comm *c)
{
    if (!c) return;
    ncclCommDestroy(c->comm);
    cudaStreamDestroy(c->stream);
    free(c);
}

extern "C" int gq_nccl_allreduce_sum_f32(void *comm, float *x, size_t n, gq_error *err)
{
    gq_nccl_comm *c = (gq_nccl_comm *)comm;
    ncclResult_t r = ncclAllReduce(x, x, n, ncclFloat32, ncclSum, c->comm, c->stream);
    if (r != ncclSuccess) return nccl_fail(r, "ncclAllReduce", err);
    cudaError_t e = cudaStreamSynchronize(c->stream);
    if (e != cudaSuccess) return cuda_fail(e, "cudaStreamSynchronize after ncclAllReduce", err);
    return GQ_OK;
}
