/* eval_manifest.h — DIR/gqla_run.json, the run manifest ("gqla-run",
 * version 1): what the main command ran (models, runs per decoding path,
 * per-task metrics, cross-path consistency, KV cache, time and memory).
 * The schema is the contract with reports/ (report.h): the report and the
 * gate read this file and nothing else.
 *
 * What it is not: it computes no metric of its own beyond the MMLU group
 * (size-weighted, as the results files) and the cross-path comparison of
 * the runs' per-request log-likelihoods (gq_path_check_compute).
 * Failure contract: returns GQ_OK or a negative gq_status (err filled);
 * the file is written atomically, so a failure leaves any old manifest.
 * Tests: tests/test_main_cmd.c. */
#ifndef GQ_EVAL_MANIFEST_H
#define GQ_EVAL_MANIFEST_H

#include <stdint.h>
#include "eval.h"

/* How the run's work was spread (recorded as "parallel" in the manifest). */
typedef struct gq_parallel_layout {
    int world_size;          /* MPI ranks (1 without mpirun) */
    int data_parallel;       /* ranks dealing documents (world_size / tp) */
    int tp;                  /* tensor-parallel ranks per model (1: none) */
    int shard_k, shard_n;    /* --shard K/N (1-based K); shard_n 0: not a shard */
    int merged_shards;       /* gqla-eval merge: the number of shards merged; 0 otherwise */
} gq_parallel_layout;

typedef struct gq_manifest_info {
    const char *command;              /* argv joined by spaces */
    const char *note;                 /* NULL -> null */
    double started_unix, wall_seconds;  /* over all invocations of a resumed run (run_clock.h) */
    int64_t peak_rss_bytes;           /* < 0 -> null */
    int invocations;                  /* timed invocations (>= 1) */
    int earlier_untimed;              /* the journal holds work of untimed invocations */
    const gq_eval_opts *o;            /* limit, num_fewshot */
    int arc_split;
    const gq_eval_model *original;    /* NULL -> absent */
    const gq_eval_model *converted;   /* NULL -> absent */
    const gq_eval_run *runs;          /* in manifest order */
    size_t n_runs;
    const gq_prepared_task *tasks;
    size_t n_tasks;
    gq_parallel_layout parallel;      /* zeroes: one process (written as world 1, tp 1, no shard) */
} gq_manifest_info;

int gq_eval_write_manifest(const char *dir, const gq_manifest_info *mi, gq_error *err);

#endif
