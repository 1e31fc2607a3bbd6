/* bench_forward.c — prefill throughput of the CPU forward pass, and the
 * machine's sgemm GFLOP/s on the model's own projection shapes for
 * comparison.  Not a test: scripts/bench-forward.sh runs it.
 * Usage: bench_forward MODEL T THREADS [REPEATS] */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "backend.h"
#include "model.h"
#include "score.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_forward MODEL T THREADS [REPEATS]\n");
        return 2;
    }
    int T = atoi(argv[2]), threads = atoi(argv[3]), reps = argc > 4 ? atoi(argv[4]) : 3;
    gq_error err = {0};
    gq_model *m = NULL;
    gq_open_opts o = {1, threads, T, 0, NULL, GQ_DEVICE_CPU, 0};
    if (gq_model_open(&m, argv[1], &o, &err) != GQ_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    const gq_config *c = gq_model_config(m);
    int32_t *ids = malloc((size_t)T * sizeof *ids);
    for (int i = 0; i < T; i++) ids[i] = (int32_t)((i * 7919) % c->vocab_size);
    gq_kv_cache *kv = NULL;
    if (gq_kv_cache_init(&kv, m, gq_config_default_path(c), T, &err) != GQ_OK) return 2;
    int row = T - 1;
    gq_score sc;
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        gq_kv_cache_truncate(kv, 0);
        double t0 = now();
        gq_forward(m, kv, ids, T, &row, &ids[0], 1, &sc, &err);
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    /* FLOPs of the projections (2 per multiply-add) + attention. */
    double D = c->hidden_size, Iff = c->intermediate_size, H = c->num_attention_heads, Hkv = c->num_key_value_heads;
    double Dh = c->head_dim, L = c->num_hidden_layers;
    double proj = 2.0 * T * L * (D * H * Dh * 2 + D * Hkv * Dh * 2 + 3 * D * Iff);
    double att = 2.0 * L * H * Dh * (double)T * (T + 1); /* QK^T and PV, causal half of 2*T*T */
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);

    /* sgemm on the MLP up-projection shape [T, D] x [D, I], one call with
     * OpenBLAS's own threads at the same thread count (the backend keeps
     * OpenBLAS single-threaded and splits the work itself). */
    float *A = calloc((size_t)T * (size_t)D, 4), *B = calloc((size_t)Iff * (size_t)D, 4), *C = calloc((size_t)T * (size_t)Iff, 4);
    openblas_set_num_threads(threads);
    double gbest = 1e30;
    for (int r = 0; r < 5; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, (int)Iff, (int)D, 1, A, (int)D, B, (int)D, 0, C, (int)Iff);
        double dt = now() - t0;
        if (dt < gbest) gbest = dt;
    }
    gq_backend_cpu_set_threads(threads);
    double sgemm_gflops = 2.0 * T * D * Iff / gbest / 1e9;
    printf("T=%d threads=%d: prefill %.1f tokens/s (%.3f s), %.1f GFLOP/s (projections %.1f + attention %.1f GFLOP), "
           "peak RSS %.0f MiB; sgemm [%d x %.0f x %.0f] %.1f GFLOP/s -> forward at %.0f%% of sgemm\n",
           T, threads, T / best, best, (proj + att) / best / 1e9, proj / 1e9, att / 1e9, ru.ru_maxrss / 1024.0, T, D, Iff,
           sgemm_gflops, 100.0 * (proj + att) / best / 1e9 / sgemm_gflops);
    free(A);
    free(B);
    free(C);
    free(ids);
    gq_kv_cache_free(kv);
    gq_model_close(m);
    return 0;
}
