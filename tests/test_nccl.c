/* test_nccl.c — the NCCL all-reduce of engine/collective_nccl.h links and,
 * where a GPU is present, runs: a one-rank communicator (sum over one rank
 * is the identity) on a device buffer, then the result downloaded.  Exit
 * 77 (skipped) without a GPU; multi-rank NCCL needs several GPUs and is
 * not run here. */
#include <stdio.h>
#include <string.h>

#include <cuda_runtime.h>

#include "collective_nccl.h"
#include "testutil.h"

int main(void)
{
    int n_dev = 0;
    if (cudaGetDeviceCount(&n_dev) != cudaSuccess || n_dev == 0) {
        printf("no CUDA device: NCCL collective linked, not run (skipped)\n");
        return GQ_TEST_SKIP;
    }
    gq_error err = {0};
    unsigned char id[GQ_NCCL_ID_BYTES];
    gq_nccl_comm *c = NULL;
    int rc = gq_nccl_unique_id(id, &err);
    if (rc == GQ_OK) rc = gq_nccl_comm_init(&c, id, 0, 1, 0, &err);
    if (rc != GQ_OK) printf("%s\n", err.msg);
    test_cond("a one-rank NCCL communicator", rc == GQ_OK);
    if (rc == GQ_OK) {
        enum { N = 1000 };
        float h[N], back[N];
        for (int i = 0; i < N; i++) h[i] = 0.25f * (float)i - 3.0f;
        float *d = NULL;
        test_cond("device buffer", cudaMalloc((void **)&d, sizeof h) == cudaSuccess);
        cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice);
        rc = gq_nccl_allreduce_sum_f32(c, d, N, &err);
        if (rc != GQ_OK) printf("%s\n", err.msg);
        test_cond("ncclAllReduce in place", rc == GQ_OK);
        cudaMemcpy(back, d, sizeof back, cudaMemcpyDeviceToHost);
        test_cond("one rank's sum is its own values, bit for bit", memcmp(h, back, sizeof h) == 0);
        cudaFree(d);
    }
    gq_nccl_comm_free(c);
    return test_report("test_nccl");
}
