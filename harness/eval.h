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
} gq_eval_opts;

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
} gq_task_run;

/* Load rows, build documents and tokenize every request with m's tokenizer. */
int gq_eval_prepare(const gq_model *m, const gq_eval_opts *o, gq_task_run **runs, size_t *n_runs, gq_error *err);
/* Score every request with m (opened with weights) and compute metrics. */
int gq_eval_score(gq_model *m, const gq_eval_opts *o, gq_task_run *runs, size_t n_runs, gq_error *err);
void gq_task_runs_free(gq_task_run *runs, size_t n_runs);

#endif
