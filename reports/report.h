/* report.h — the reports side of the main command (contract in the run
 * manifest's schema, harness/eval_manifest.h): after writing the results
 * files and DIR/gqla_run.json, the main command calls gq_report_write_all
 * and, when a gate option was given, gq_gate_check.  Owned by the reports
 * engineer; these are exactly the contract's declarations. */
#ifndef GQ_REPORT_H
#define GQ_REPORT_H

#include "gq_error.h"

/* Read DIR/gqla_run.json (and nothing else) and write DIR/report.md,
 * report.tex, report.csv and report.html, each atomically. */
int gq_report_write_all(const char *dir, gq_error *err);

typedef struct gq_gate_opts {
    int has_max_drop;      double max_drop_pp;     /* per task and average, converted (each path) vs original, points */
    int has_max_path_diff; double max_path_diff;   /* max |Δ log-likelihood| between the converted model's paths */
    const char *junit_path;                        /* NULL: no JUnit file */
} gq_gate_opts;

/* Evaluate the checks from DIR/gqla_run.json, print failing rows to stderr,
 * write JUnit XML if o->junit_path; *n_failed = failed checks. */
int gq_gate_check(const char *dir, const gq_gate_opts *o, int *n_failed, gq_error *err);

#endif
