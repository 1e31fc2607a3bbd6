/* eval_output.h — what an evaluation prints and writes: the summary table
 * on stdout, and through reports/ each run's lm-eval-layout results file
 * and sample logs (the run manifest is eval_manifest.h). */
#ifndef GQ_EVAL_OUTPUT_H
#define GQ_EVAL_OUTPUT_H

#include <stdio.h>
#include "eval.h"

void gq_eval_print_table(FILE *f, const gq_prepared_task *tasks, const gq_task_scores *sc, size_t n_tasks);
/* The cross-path table of two tasks a and b of one model (checks[n_tasks]);
 * prints the worst request and returns 1 when some request differs by more
 * than max_diff, else 0. */
int gq_eval_print_path_check(FILE *f, const char *a, const char *b, const gq_prepared_task *tasks,
                             const gq_path_check *checks, size_t n_tasks, double max_diff);

/* Write run's files into out_dir: results_<id>.json (lm-eval layout) and,
 * with log_samples, samples/<id>/samples_<task>.jsonl.  legacy (--model
 * alone): also results.json, its copy under lm-eval's own name, and
 * requests.tsv / docs.tsv / summary.tsv; sample logs then go under
 * lm-eval's names (samples_<task>_<date_id>.jsonl) instead.  Every file is
 * written atomically. */
int gq_eval_write_run(const char *out_dir, const gq_eval_run *run, const gq_eval_opts *o, const gq_prepared_task *tasks,
                      size_t n_tasks, int log_samples, int legacy, const char *date_id, double start_time,
                      gq_error *err);

/* The dtype most of the weights have ("q4_1", "f32"...), and the parameter
 * count (elements of every tensor). */
const char *gq_eval_model_dtype(const gq_model *m);
int64_t gq_eval_model_params(const gq_model *m);

#endif
