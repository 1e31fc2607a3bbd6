/* eval_ranks.c — gathering the ranks' results to rank 0 (eval_ranks.h). */
#define _GNU_SOURCE
#include "eval_ranks.h"

#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "gq_alloc.h"
#include "world.h"

typedef struct rank_header {
    int64_t n_records;
    int64_t requests, tokens_fed, positions_projected, tokens_separate, tree_batches, batches;
    int64_t docs_resumed;
} rank_header;

typedef struct rank_record {
    uint64_t req;
    double ll;
    int32_t greedy;
    uint32_t pad;
} rank_record;

int gq_eval_ranks_gather(void *ctx, const gq_prepared_task *t, const int *owner, gq_task_scores *s, gq_error *err)
{
    (void)ctx;
    const gq_world *w = gq_world_get();
    size_t nb = gq_eval_n_batches(t), n = 0;
    for (size_t b = 0; b < nb; b++) {
        size_t d0, d1;
        gq_eval_batch_docs(t, b, &d0, &d1);
        if (owner[b] == w->rank) n += t->req_start[d1] - t->req_start[d0];
    }
    size_t bytes = sizeof(rank_header) + n * sizeof(rank_record);
    unsigned char *mine = gq_malloc(bytes, "rank results", err);
    size_t *counts = gq_calloc((size_t)w->size, sizeof *counts, "rank results", err);
    if (!mine || !counts) {
        gq_free(mine);
        gq_free(counts);
        return GQ_ERR_NOMEM;
    }
    rank_header h = {(int64_t)n,
                     s->stats.requests,
                     s->stats.tokens_fed,
                     s->stats.positions_projected,
                     s->stats.tokens_separate,
                     s->stats.tree_batches,
                     s->stats.batches,
                     (int64_t)s->n_docs_resumed};
    memcpy(mine, &h, sizeof h);
    rank_record *rec = (rank_record *)(void *)(mine + sizeof h);
    size_t k = 0;
    for (size_t b = 0; b < nb; b++) {
        size_t d0, d1;
        gq_eval_batch_docs(t, b, &d0, &d1);
        if (owner[b] != w->rank) continue;
        for (size_t q = t->req_start[d0]; q < t->req_start[d1]; q++)
            rec[k++] = (rank_record){(uint64_t)q, s->ll[q], s->greedy[q], 0};
    }
    void *all = NULL;
    int rc = gq_world_gather_bytes(mine, bytes, &all, counts, err);
    gq_free(mine);
    if (rc != GQ_OK || w->rank != 0) {
        gq_free(all);
        gq_free(counts);
        return rc;
    }
    /* Rank 0: its own records are already in s; take every other rank's,
     * checking each block is what that rank must have sent. */
    gq_scorer_stats sum = {0};
    size_t resumed = 0, off = 0;
    const unsigned char *p = all;
    for (int r = 0; r < w->size && rc == GQ_OK; r++) {
        rank_header rh;
        if (counts[r] < sizeof rh) {
            rc = gq_error_set(err, GQ_ERR_INVALID, "%s: rank %d sent %zu bytes of results (a header is %zu)",
                              t->task->name, r, counts[r], sizeof rh);
            break;
        }
        memcpy(&rh, p + off, sizeof rh);
        if (rh.n_records < 0 || counts[r] != sizeof rh + (size_t)rh.n_records * sizeof(rank_record)) {
            rc = gq_error_set(err, GQ_ERR_INVALID, "%s: rank %d sent %zu bytes for %lld results", t->task->name, r,
                              counts[r], (long long)rh.n_records);
            break;
        }
        sum.requests += rh.requests;
        sum.tokens_fed += rh.tokens_fed;
        sum.positions_projected += rh.positions_projected;
        sum.tokens_separate += rh.tokens_separate;
        sum.tree_batches += rh.tree_batches;
        sum.batches += rh.batches;
        resumed += (size_t)rh.docs_resumed;
        for (int64_t i = 0; i < rh.n_records && r > 0; i++) {
            rank_record x;
            memcpy(&x, p + off + sizeof rh + (size_t)i * sizeof x, sizeof x);
            if (x.req >= t->n_req) {
                rc = gq_error_set(err, GQ_ERR_INVALID, "%s: rank %d sent request %llu of %zu", t->task->name, r,
                                  (unsigned long long)x.req, t->n_req);
                break;
            }
            s->ll[x.req] = x.ll;
            s->greedy[x.req] = x.greedy;
        }
        off += counts[r];
    }
    if (rc == GQ_OK) {
        s->stats = sum;
        s->n_docs_resumed = resumed;
    }
    gq_free(all);
    gq_free(counts);
    return rc;
}

int gq_eval_ranks_default_threads(void)
{
    const gq_world *w = gq_world_get();
    cpu_set_t set;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int mine = (int)(online > 0 ? online : 1);
    if (sched_getaffinity(0, sizeof set, &set) == 0) mine = CPU_COUNT(&set);
    if (w->local_size > 1 && mine == online) mine /= w->local_size;
    return mine > 0 ? mine : 1;
}
