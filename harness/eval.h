/* eval.h — one evaluation run over a list of tasks: rows (datasets/) ->
 * documents and requests (tasks/) -> token ids (_encode_pair) -> scores
 * (engine scorer) -> metrics.  Preparing (everything up to token ids) is
 * separate from scoring so that several models or decoding paths can score
 * the same requests. */
#ifndef GQ_EVAL_H
#define GQ_EVAL_H

#include <stddef.h>
#include <stdint.h>
#include "dataset.h"
#include "gq_error.h"
#include "model.h"
#include "requests.h"
#include "score.h"
#include "task.h"

typedef struct gq_eval_opts {
    const char *tasks;       /* comma-separated task list */
    long limit;              /* first N documents per task (lm-eval --limit); 0 = all */
    int num_fewshot;         /* shots per document (0 default) */
    gq_dataset_opts data;    /* where rows come from */
    gq_add_bos add_bos;
    int quiet;
    int n_paths;             /* 1, or 2 for --path both */
    gq_path paths[2];        /* decoding paths to score with (paths[0] is the primary) */
    int sq;                  /* continuation positions per decode call (-1: the path's default) */
} gq_eval_opts;

/* Cross-path agreement of one task (--path both): paths[0] vs paths[1]. */
typedef struct gq_path_check {
    double max_abs_diff, mean_abs_diff;  /* |ll_0 - ll_1| over requests */
    size_t worst_doc;                    /* where the maximum is */
    int worst_req;
    double agree;                        /* share of documents with the same prediction */
    double acc[2], acc_norm[2];          /* accuracy under each path */
} gq_path_check;

/* One leaf task of a run. */
typedef struct gq_task_run {
    const gq_task *task;
    size_t n_original;       /* rows in the evaluation split */
    size_t n_docs;           /* documents evaluated */
    gq_doc *docs;            /* [n_docs] */
    size_t n_req;            /* requests over all documents */
    size_t *req_start;       /* [n_docs + 1] first request of each document */
    gq_tokens *ctx_tok;      /* [n_req] */
    gq_tokens *cont_tok;     /* [n_req] */
    /* Filled by gq_eval_score: */
    double *ll;              /* [n_req] */
    int *greedy;             /* [n_req] */
    double *acc, *acc_norm;  /* [n_docs] */
    double acc_mean, acc_stderr, acc_norm_mean, acc_norm_stderr; /* stderr NAN = "N/A" */
    double seconds;
    gq_scorer_stats stats;
    double *ll_second;        /* [n_req] paths[1]'s log-likelihoods when two paths ran */
    gq_path_check check;     /* filled when two paths ran */
} gq_task_run;

/* Load rows, build documents and tokenize every request with m's tokenizer. */
int gq_eval_prepare(const gq_model *m, const gq_eval_opts *o, gq_task_run **runs, size_t *n_runs, gq_error *err);
/* Score every request with m (opened with weights) under o->paths and
 * compute metrics (those of paths[0] stay in the run); with two paths also
 * the cross-path check. */
int gq_eval_score(gq_model *m, const gq_eval_opts *o, gq_task_run *runs, size_t n_runs, gq_error *err);
void gq_task_runs_free(gq_task_run *runs, size_t n_runs);

#endif
