/* world.c — MPI or one process (world.h). */
#define _POSIX_C_SOURCE 200809L
#include "world.h"

#include <stdlib.h>
#include <string.h>

#include "gq_alloc.h"

#ifdef GQLA_WITH_MPI
#include <mpi.h>
#endif

static gq_world world = {0, 1, 1, 0};

const gq_world *gq_world_get(void) { return &world; }

int gq_world_mpi_compiled(void)
{
#ifdef GQLA_WITH_MPI
    return 1;
#else
    return 0;
#endif
}

static int launched_by_mpi(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

#ifdef GQLA_WITH_MPI
static int mpi_fail(int code, const char *what, gq_error *err)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(code, msg, &len);
    return gq_error_set(err, GQ_ERR_IO, "MPI %s failed on rank %d of %d: %s", what, world.rank, world.size, msg);
}
#endif

int gq_world_init(int *argc, char ***argv, gq_error *err)
{
    (void)argc;
    (void)argv;
    if (!launched_by_mpi()) return GQ_OK;
#ifdef GQLA_WITH_MPI
    /* FUNNELED: only the main thread calls MPI; OpenMP threads compute. */
    int provided = 0, rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) return gq_error_set(err, GQ_ERR_IO, "MPI_Init_thread failed (code %d)", rc);
    world.mpi = 1;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &world.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world.size);
    MPI_Comm node;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world.rank, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
        MPI_Comm_size(node, &world.local_size);
        MPI_Comm_free(&node);
    }
    return GQ_OK;
#else
    const char *n = getenv("OMPI_COMM_WORLD_SIZE");
    if (n && atoi(n) > 1)
        return gq_error_set(err, GQ_ERR_USAGE,
                            "started by mpirun with %s ranks, but this gqla-eval was built without MPI\n"
                            "---> HINT: install libopenmpi-dev (scripts/install-deps.sh) and rebuild (cmake finds it)",
                            n);
    return GQ_OK;
#endif
}

void gq_world_finalize(void)
{
#ifdef GQLA_WITH_MPI
    if (world.mpi) MPI_Finalize();
    world.mpi = 0;
#endif
}

void gq_world_abort(int code)
{
#ifdef GQLA_WITH_MPI
    if (world.mpi && world.size > 1) MPI_Abort(MPI_COMM_WORLD, code);
#endif
    exit(code);
}

void gq_world_barrier(void)
{
#ifdef GQLA_WITH_MPI
    if (world.mpi) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

int gq_world_gather_bytes(const void *buf, size_t n, void **out, size_t *counts, gq_error *err)
{
    *out = NULL;
    if (world.size == 1) {
        counts[0] = n;
        if (!(*out = gq_malloc(n ? n : 1, "gathered results", err))) return GQ_ERR_NOMEM;
        if (n) memcpy(*out, buf, n);
        return GQ_OK;
    }
#ifdef GQLA_WITH_MPI
    if (n > (size_t)0x7fffffff) return gq_error_set(err, GQ_ERR_INVALID, "MPI gather of %zu bytes: too large", n);
    int mine = (int)n, rc;
    int *cnt = gq_calloc((size_t)world.size, sizeof *cnt, "gather counts", err);
    int *disp = gq_calloc((size_t)world.size, sizeof *disp, "gather counts", err);
    if (!cnt || !disp) {
        gq_free(cnt);
        gq_free(disp);
        return GQ_ERR_NOMEM;
    }
    rc = MPI_Gather(&mine, 1, MPI_INT, cnt, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) {
        gq_free(cnt);
        gq_free(disp);
        return mpi_fail(rc, "gather", err);
    }
    size_t total = 0;
    if (world.rank == 0) {
        for (int r = 0; r < world.size; r++) {
            disp[r] = (int)total;
            counts[r] = (size_t)cnt[r];
            total += (size_t)cnt[r];
        }
        if (total > (size_t)0x7fffffff) {
            gq_free(cnt);
            gq_free(disp);
            return gq_error_set(err, GQ_ERR_INVALID, "MPI gather of %zu bytes: too large", total);
        }
        if (!(*out = gq_malloc(total ? total : 1, "gathered results", err))) {
            gq_free(cnt);
            gq_free(disp);
            return GQ_ERR_NOMEM;
        }
    }
    rc = MPI_Gatherv(buf, mine, MPI_BYTE, *out, cnt, disp, MPI_BYTE, 0, MPI_COMM_WORLD);
    gq_free(cnt);
    gq_free(disp);
    if (rc != MPI_SUCCESS) {
        gq_free(*out);
        *out = NULL;
        return mpi_fail(rc, "gatherv", err);
    }
    return GQ_OK;
#else
    return gq_error_set(err, GQ_ERR_INVALID, "no MPI in this build");
#endif
}

int gq_world_allreduce_sum_f32(float *x, size_t n, gq_error *err)
{
    if (world.size == 1) return GQ_OK;
#ifdef GQLA_WITH_MPI
    /* MPI_Allreduce may sum in any order and tree shape; gather every
     * rank's vector and add in rank order instead, so the result is the
     * same bits on every rank and from run to run. */
    if (n > (size_t)0x7fffffff / (size_t)world.size)
        return gq_error_set(err, GQ_ERR_INVALID, "all-reduce of %zu floats: too large", n);
    float *all = gq_malloc(n * (size_t)world.size * sizeof *all, "all-reduce", err);
    if (!all) return GQ_ERR_NOMEM;
    int rc = MPI_Allgather(x, (int)n, MPI_FLOAT, all, (int)n, MPI_FLOAT, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) {
        gq_free(all);
        return mpi_fail(rc, "all-reduce (allgather)", err);
    }
    for (size_t i = 0; i < n; i++) {
        float s = all[i];
        for (int r = 1; r < world.size; r++) s += all[(size_t)r * n + i];
        x[i] = s;
    }
    gq_free(all);
    return GQ_OK;
#else
    (void)x;
    (void)n;
    return gq_error_set(err, GQ_ERR_INVALID, "no MPI in this build");
#endif
}

static int world_allreduce(void *ctx, float *x, size_t n, gq_error *err)
{
    (void)ctx;
    return gq_world_allreduce_sum_f32(x, n, err);
}

int gq_world_tp_comm(int tp, gq_tp_comm *out, gq_error *err)
{
    *out = (gq_tp_comm){0, 1, NULL, NULL};
    if (tp == 1) return GQ_OK;
    if (tp < 1) return gq_error_set(err, GQ_ERR_USAGE, "--tp takes a rank count >= 1 (got %d)", tp);
    if (!gq_world_mpi_compiled())
        return gq_error_set(err, GQ_ERR_USAGE,
                            "--tp %d needs MPI, and this gqla-eval was built without it\n"
                            "---> HINT: install libopenmpi-dev (scripts/install-deps.sh), rebuild, and run "
                            "mpirun -np %d gqla-eval ... --tp %d", tp, tp, tp);
    if (world.size != tp)
        return gq_error_set(err, GQ_ERR_USAGE,
                            "--tp %d needs %d ranks, but this run has %d%s\n"
                            "---> HINT: mpirun -np %d gqla-eval ... --tp %d (tensor parallelism is not yet "
                            "combined with data parallelism: the world size must equal --tp)",
                            tp, tp, world.size, world.mpi ? "" : " (not started by mpirun)", tp, tp);
    *out = (gq_tp_comm){world.rank, world.size, world_allreduce, NULL};
    return GQ_OK;
}
