/* shard.h — the shards of a job array: `gqla-eval [eval] ... --shard K/N
 * --output-dir DIR` scores part K of N of a command (its journal batches,
 * dealt as gq_eval_deal_batches deals them) and leaves DIR/journal plus
 * DIR/gqla_shard.json, the shard record; `gqla-eval merge DIR... --output-dir
 * OUT` (harness/cmd_merge.c) checks that the records form one whole run,
 * merges their journals into OUT/journal and lets the recorded command
 * finish in OUT from its journal alone (no weights loaded).
 *
 * File DIR/gqla_shard.json ("gqla-shard", version 1):
 *   {"format": "gqla-shard", "version": 1, "tool": "gqla-eval 0.1.0",
 *    "shard": 2, "of": 3,
 *    "command": ["--model", "M", "--tasks", "arc_easy", ...],
 *    "models": {"original": "<identity>", "converted": "<identity>" | null},
 *    "data": "<--data-dir>" | "datasets-server",
 *    "journals": [{"run": "original", "task": "arc_easy", "requests": 24,
 *                  "key": "<64 hex digits>"}, ...]}
 * "command" is the eval command's argv with --shard K/N and --output-dir DIR
 * removed (every shard of one command records the same list; merge runs it
 * with --output-dir OUT appended).  A model's identity is
 * gq_eval_model.identity (path, sizes, mtimes); a journal's key is
 * gq_eval_task_key, which covers the model identity, path, scorer settings
 * and every request's token ids, so equal keys mean equal requests.  The
 * record is written (atomically) only after the shard's scoring succeeded:
 * a folder with one holds a finished shard.
 *
 * What it is not: no scores are kept here (they live in the journals) and
 * nothing is re-scored; a merge that finds a request in no shard's journal
 * refuses instead.
 *
 * Ownership: a gq_shard_record owns its strings and arrays
 * (gq_shard_record_free, NULL-safe and safe on a zeroed or half-filled
 * record).  Failure contract: every function returns GQ_OK or a negative
 * gq_status with err naming the folder or file, the field and both values
 * where two records differ; on failure a record holds what was filled so
 * far and must still be freed; gq_shard_merge writes nothing under OUT
 * before every check has passed.
 * Tests: tests/test_main_shard.c. */
#ifndef GQ_SHARD_H
#define GQ_SHARD_H

#include <stddef.h>
#include <stdint.h>
#include "eval.h"
#include "gq_error.h"

#define GQ_SHARD_FILE "gqla_shard.json"

/* One (run, task) journal of the command. */
typedef struct gq_shard_journal {
    char run[48];             /* run id, as gq_eval_run.id */
    char task[96];            /* task name */
    uint64_t n_req;           /* requests of the task */
    unsigned char key[32];    /* gq_eval_task_key */
} gq_shard_journal;

typedef struct gq_shard_record {
    char *dir;                /* the shard's folder */
    int k, n;                 /* shard k of n, 1 <= k <= n */
    char **argv;              /* [argc] the command without --shard and --output-dir */
    int argc;
    char *identity[2];        /* original, converted (NULL: no --converted) */
    char *data;               /* the --data-dir, or "datasets-server" */
    gq_shard_journal *journals; /* [n_journals], in run then task order */
    size_t n_journals;
} gq_shard_record;

void gq_shard_record_free(gq_shard_record *r);

/* 1 when argv[i] is --shard or --output-dir (with its value, i.e. the two
 * arguments argv[i], argv[i+1] are not part of the recorded command). */
int gq_shard_is_local_option(const char *arg);

/* The record of shard k of n of the command argv (cmd_eval's arguments)
 * scoring runs over tasks into dir; conv NULL without --converted. */
int gq_shard_record_build(gq_shard_record *r, const char *dir, int k, int n, int argc, char **argv,
                          const gq_eval_model *orig, const gq_eval_model *conv, const gq_eval_opts *o,
                          const gq_eval_run *runs, size_t n_runs, const gq_prepared_task *tasks, size_t n_tasks,
                          gq_error *err);

/* r->dir/gqla_shard.json (atomic). */
int gq_shard_write(const gq_shard_record *r, gq_error *err);
/* dir/gqla_shard.json into r (zeroed here); GQ_ERR_IO when it cannot be
 * read (the message says the folder holds no finished shard),
 * GQ_ERR_INVALID naming the key when it is not a shard record. */
int gq_shard_read(gq_shard_record *r, const char *dir, gq_error *err);

/* recs[0..n) are the shards 1..N of one command, each once: same N, same
 * command, model identities, data and journals.  GQ_ERR_INVALID otherwise,
 * naming the missing shards ("shard 3 of 4 is missing (have 1, 2, 4)"), the
 * duplicated one and its folders, or the first field that differs with both
 * values and both folders. */
int gq_shard_check_set(const gq_shard_record *recs, size_t n, gq_error *err);

/* A shard's record against `now`, the record the command builds from the
 * files as they are at merge time: the first difference (other than the
 * shard number and the folder) as GQ_ERR_INVALID naming both. */
int gq_shard_compare_now(const gq_shard_record *shard, const gq_shard_record *now, gq_error *err);

/* Merge a checked set into OUT: `now` is the record the command builds
 * from the files as they are at merge time (it must equal the shards' own:
 * a model or data file that changed since the shards ran is refused).
 * Then every shard's journals are read (without changing them), each
 * request must be in at least one and agree bit for bit where it is in
 * several, and only then journal_dir/<run>/<task>.bin get the records
 * (added to what a matching journal there already holds) and
 * journal_dir/clock.json the shards' clocks together (run_clock.h). */
int gq_shard_merge(const gq_shard_record *recs, size_t n, const gq_shard_record *now, const char *journal_dir,
                   gq_error *err);

#endif
