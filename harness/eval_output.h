/* eval_output.h — what an eval run prints and writes: the summary table on
 * stdout, and through reports/ the lm-eval-layout results.json and the
 * per-task sample logs. */
#ifndef GQ_EVAL_OUTPUT_H
#define GQ_EVAL_OUTPUT_H

#include <stdio.h>
#include "eval.h"

void gq_eval_print_table(FILE *f, const gq_task_run *runs, size_t n_runs);
/* The cross-path table of a --path both run; prints the worst request and
 * returns 1 when some request differs by more than max_diff, else 0. */
int gq_eval_print_path_check(FILE *f, const gq_eval_opts *o, const gq_task_run *runs, size_t n_runs,
                             double max_diff);
int gq_eval_write_outputs(const char *out_dir, const gq_model *m, const gq_eval_opts *o, const gq_task_run *runs,
                          size_t n_runs, int log_samples, double total_seconds, gq_error *err);

#endif
