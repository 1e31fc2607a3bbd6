/* run_lock.h — one main-command run per output folder at a time.
 *
 * A second `gqla-eval --output-dir DIR` while the first is running would
 * interleave two journals, two clocks and two sets of results in DIR.  The
 * first run holds an exclusive flock(2) on DIR/.gqla-eval.lock from before
 * it touches DIR until it exits (the kernel drops it when the process dies,
 * SIGKILL included, so a killed run never leaves a stale lock).  The second
 * is refused at once with a message naming DIR.  Once it holds the lock,
 * the run removes the temp twins (NAME.tmp.PID, base/fileio.h) that a run
 * killed in the middle of an atomic write left anywhere under DIR: no other
 * process can be writing them then.
 *
 * Failure contract: gq_run_lock_acquire creates DIR (and its parents) when
 * missing; on failure *fd is -1 and nothing else in DIR was written (at most
 * DIR itself and the empty lock file, which are harmless).
 * Tests: tests/test_main_kills.c (lock case). */
#ifndef GQ_RUN_LOCK_H
#define GQ_RUN_LOCK_H

#include "gq_error.h"

int gq_run_lock_acquire(const char *dir, int *fd, gq_error *err);
void gq_run_lock_release(int fd); /* -1: nothing */

#endif
