/* shard_merge.c — the journals of a checked set of shards merged into one
 * output folder's journal (gq_shard_merge, shard.h).
 *
 * Two phases, so that a refusal leaves OUT as it was: first every shard's
 * journal and clock is read (read-only: gq_journal_read, gq_run_clock_read)
 * and the records are merged in memory, checking that each request is
 * covered and that shards holding the same request agree bit for bit; only
 * then are OUT's journals and clock written, through journal.h's own
 * append path.  Tests: tests/test_main_shard.c. */
#define _POSIX_C_SOURCE 200809L
#include "shard.h"

#include <stdio.h>
#include <string.h>

#include "fileio.h"
#include "gq_alloc.h"
#include "journal.h"
#include "run_clock.h"

/* One (run, task) over all shards. */
typedef struct merged_journal {
    double *ll;               /* [n_req] */
    int *greedy;              /* [n_req] */
    int *from;                /* [n_req] the shard (index into recs) that gave it; -1: none */
} merged_journal;

static void merged_free(merged_journal *m, size_t n)
{
    if (!m) return;
    for (size_t i = 0; i < n; i++) {
        gq_free(m[i].ll);
        gq_free(m[i].greedy);
        gq_free(m[i].from);
    }
    gq_free(m);
}

/* "DIR/journal/RUN/TASK.bin" (heap). */
static char *journal_path(const char *journal_dir, const gq_shard_journal *j, gq_error *err)
{
    size_t n = strlen(journal_dir) + strlen(j->run) + strlen(j->task) + 8;
    char *p = gq_malloc(n, "journal path", err);
    if (p) snprintf(p, n, "%s/%s/%s.bin", journal_dir, j->run, j->task);
    return p;
}

/* Phase 1 for journal j: every shard's records of it into m. */
static int merge_one(const gq_shard_record *recs, size_t n, const gq_shard_journal *j, merged_journal *m,
                     double *tll, int *tg, unsigned char *td, gq_error *err)
{
    size_t nq = (size_t)j->n_req;
    m->ll = gq_calloc(nq ? nq : 1, sizeof *m->ll, "merged journal", err);
    m->greedy = gq_calloc(nq ? nq : 1, sizeof *m->greedy, "merged journal", err);
    m->from = gq_malloc((nq ? nq : 1) * sizeof *m->from, "merged journal", err);
    if (!m->ll || !m->greedy || !m->from) return GQ_ERR_NOMEM;
    for (size_t q = 0; q < nq; q++) m->from[q] = -1;
    for (size_t s = 0; s < n; s++) {
        char *dir = gq_path_join(recs[s].dir, "journal", err), *path = dir ? journal_path(dir, j, err) : NULL;
        gq_free(dir);
        if (!path) return GQ_ERR_NOMEM;
        memset(td, 0, nq);
        size_t n_loaded = 0;
        int rc = gq_journal_read(path, j->key, j->n_req, tll, tg, td, &n_loaded, err);
        gq_free(path);
        if (rc != GQ_OK) {
            gq_error_prefix(err, "shard %d of %d (%s): ", recs[s].k, recs[s].n, recs[s].dir);
            return rc;
        }
        for (size_t q = 0; q < nq; q++) {
            if (!td[q]) continue;
            if (m->from[q] < 0) {
                m->ll[q] = tll[q];
                m->greedy[q] = tg[q];
                m->from[q] = (int)s;
            } else if (memcmp(&m->ll[q], &tll[q], sizeof tll[q]) != 0 || m->greedy[q] != tg[q]) {
                const gq_shard_record *o = &recs[m->from[q]];
                return gq_error_set(err, GQ_ERR_INVALID,
                                    "%s/%s request %zu differs between shard %d (%s: ll %.17g, greedy %d) and shard "
                                    "%d (%s: ll %.17g, greedy %d); the shards were not scored alike",
                                    j->run, j->task, q, o->k, o->dir, m->ll[q], m->greedy[q], recs[s].k,
                                    recs[s].dir, tll[q], tg[q]);
            }
        }
    }
    for (size_t q = 0; q < nq; q++)
        if (m->from[q] < 0)
            return gq_error_set(err, GQ_ERR_INVALID,
                                "%s/%s: request %zu of %zu is in no shard's journal\n---> HINT: the shard it was "
                                "dealt to did not finish; rerun that shard's job on its folder (it resumes)",
                                j->run, j->task, q, nq);
    return GQ_OK;
}

/* Phase 2 for journal j: OUT's journal gets the records it lacks. */
static int write_one(const char *journal_dir, const gq_shard_journal *j, const merged_journal *m, double *tll,
                     int *tg, unsigned char *td, size_t *idx, gq_error *err)
{
    size_t nq = (size_t)j->n_req;
    char *path = journal_path(journal_dir, j, err);
    if (!path) return GQ_ERR_NOMEM;
    memset(td, 0, nq ? nq : 1);
    gq_journal *jh = NULL;
    gq_journal_status st;
    int rc = gq_journal_open(&jh, path, j->key, j->n_req, tll, tg, td, &st, err);
    if (rc == GQ_OK) {
        size_t n_idx = 0;
        for (size_t q = 0; q < nq; q++)
            if (!td[q]) idx[n_idx++] = q;
        rc = gq_journal_append(jh, idx, n_idx, m->ll, m->greedy, err);
    }
    gq_journal_close(jh);
    gq_free(path);
    return rc;
}

int gq_shard_merge(const gq_shard_record *recs, size_t n, const gq_shard_record *now, const char *journal_dir,
                   gq_error *err)
{
    int rc = gq_shard_compare_now(&recs[0], now, err);
    if (rc != GQ_OK) return rc;
    size_t nj = recs[0].n_journals, maxq = 1;
    for (size_t i = 0; i < nj; i++)
        if (recs[0].journals[i].n_req > maxq) maxq = (size_t)recs[0].journals[i].n_req;
    merged_journal *m = gq_calloc(nj ? nj : 1, sizeof *m, "merged journals", err);
    gq_run_clock *clocks = gq_calloc(n, sizeof *clocks, "shard clocks", err);
    double *tll = gq_malloc(maxq * sizeof *tll, "journal", err);
    int *tg = gq_malloc(maxq * sizeof *tg, "journal", err);
    unsigned char *td = gq_malloc(maxq, "journal", err);
    size_t *idx = gq_malloc(maxq * sizeof *idx, "journal", err);
    rc = m && clocks && tll && tg && td && idx ? GQ_OK : GQ_ERR_NOMEM;
    /* phase 1: read and check everything */
    for (size_t i = 0; i < nj && rc == GQ_OK; i++) rc = merge_one(recs, n, &recs[0].journals[i], &m[i], tll, tg, td, err);
    for (size_t s = 0; s < n && rc == GQ_OK; s++) {
        char *dir = gq_path_join(recs[s].dir, "journal", err);
        rc = dir ? gq_run_clock_read(&clocks[s], dir, err) : GQ_ERR_NOMEM;
        gq_free(dir);
    }
    /* phase 2: write */
    for (size_t i = 0; i < nj && rc == GQ_OK; i++) rc = write_one(journal_dir, &recs[0].journals[i], &m[i], tll, tg, td, idx, err);
    if (rc == GQ_OK) rc = gq_run_clock_save_merged(journal_dir, clocks, n, err);
    merged_free(m, nj);
    for (size_t s = 0; clocks && s < n; s++) gq_run_clock_free(&clocks[s]);
    gq_free(clocks);
    gq_free(tll);
    gq_free(tg);
    gq_free(td);
    gq_free(idx);
    return rc;
}
