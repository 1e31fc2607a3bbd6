/* run_clock.h — the wall time and peak memory of a main-command run over
 * all its invocations.  A run that was killed and resumed from its journal
 * (journal.h) is one run: its report gives the time and memory of every
 * invocation that worked on the output folder, not only of the last one.
 *
 * File: DIR/journal/clock.json, rewritten atomically when the clock starts
 * and after every journal batch (so a SIGKILL loses at most the time since
 * the last batch):
 *   {"format": "gqla-clock", "version": 1, "started_unix": 1796071535.39,
 *    "invocations": 2, "wall_seconds": 1234.5, "peak_rss_bytes": 1256132608}
 * started_unix is the first invocation's start; wall_seconds the sum of the
 * invocations' wall times (each from its start to its last save);
 * peak_rss_bytes the largest of their peak resident set sizes.
 *
 * A journal folder without clock.json (written before the clock existed,
 * or the file was removed) holds work of invocations that were not timed:
 * the clock then sets earlier_untimed, keeps it in the file
 * ("earlier_untimed": true) for later invocations, and the report says so.
 *
 * Ownership: the clock owns its path; gq_run_clock_free releases it.
 * Failure contract: gq_run_clock_start returns GQ_ERR_INVALID naming the
 * file and the key when clock.json is not a clock (nothing is written
 * then); saving is best effort after that (a failed save is retried at the
 * next batch and reported by gq_run_clock_save at the end).
 */
#ifndef GQ_RUN_CLOCK_H
#define GQ_RUN_CLOCK_H

#include <stdint.h>
#include "gq_error.h"

typedef struct gq_run_clock {
    char *path;               /* DIR/journal/clock.json; NULL: no output folder, nothing saved */
    double started_unix;      /* the first invocation's start (this one's when new) */
    double t_start;           /* gq_now() at this invocation's start */
    double seconds_before;    /* wall time of the earlier invocations */
    int64_t peak_before;      /* their peak RSS in bytes, -1 when none */
    int invocations_before;   /* how many earlier invocations were timed */
    int earlier_untimed;      /* the journal holds work of invocations that were not timed */
} gq_run_clock;

/* Start the clock of this invocation, begun at started_unix (wall clock)
 * and t_start (gq_now()), reading journal_dir/clock.json when it exists,
 * and save it.  journal_dir NULL: a clock of this invocation only. */
int gq_run_clock_start(gq_run_clock *c, const char *journal_dir, double started_unix, double t_start,
                       gq_error *err);
/* Rewrite clock.json with the time so far (a no-op without a path). */
int gq_run_clock_save(const gq_run_clock *c, gq_error *err);
/* gq_run_clock_save after a journal batch; a failure is ignored here. */
void gq_run_clock_tick(const gq_run_clock *c);

double gq_run_clock_seconds(const gq_run_clock *c);   /* all invocations so far, this one included */
int64_t gq_run_clock_peak_rss(const gq_run_clock *c); /* bytes; -1 when unknown */
int gq_run_clock_invocations(const gq_run_clock *c);  /* timed invocations, this one included */
void gq_run_clock_free(gq_run_clock *c);

/* gqla-eval merge (the shards of one job array, harness/shard.h).
 * gq_run_clock_read: the clock of an existing journal folder, read without
 * writing anything: started_unix, seconds_before (its wall_seconds),
 * invocations_before, peak_before, earlier_untimed; a folder without
 * clock.json gives 0 invocations and earlier_untimed.  Errors as
 * gq_run_clock_start.  gq_run_clock_free afterwards.
 * gq_run_clock_save_merged: journal_dir/clock.json of n such clocks
 * together: the earliest start, the sum of their time and invocations, the
 * largest peak, earlier_untimed when any has it; nothing is written when
 * none of them was timed (the merged folder then says its earlier work was
 * not timed, as a journal without a clock does). */
int gq_run_clock_read(gq_run_clock *c, const char *journal_dir, gq_error *err);
int gq_run_clock_save_merged(const char *journal_dir, const gq_run_clock *parts, size_t n, gq_error *err);

#endif
