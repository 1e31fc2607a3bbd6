/* eval.h — one evaluation over a list of tasks: rows (datasets/) ->
 * documents and requests (tasks/) -> token ids (_encode_pair) -> scores
 * (engine scorer) -> metrics.
 *
 * Preparing (everything up to token ids) happens once; then any number of
 * runs — a (model, decoding path) pair each: the original model on its
 * native path, the converted model on each of its paths — score the same
 * requests into their own gq_task_scores.  Two runs of one model on
 * different paths are compared request by request (gq_path_check).
 *
 * Scoring goes in fixed batches of GQ_JOURNAL_BATCH_DOCS documents, each
 * started with a fresh scorer, and, when a journal folder is given, each
 * batch's per-request results are appended to DIR/journal/<run>/<task>.bin
 * (journal.h): a rerun loads them and scores only what is missing, with
 * results identical to an uninterrupted run.
 *
 * Ownership: gq_eval_prepare allocates the task array (gq_prepared_tasks_free);
 * gq_eval_score_run fills the caller's gq_task_scores array
 * (gq_task_scores_free on each).  Failure contract: on error the outputs
 * hold whatever was allocated so far and must still be freed.
 * Tests: tests/test_eval_cli.c, tests/test_main_*.c. */
#ifndef GQ_EVAL_H
#define GQ_EVAL_H

#include <stddef.h>
#include <stdint.h>
#include "dataset.h"
#include "gq_error.h"
#include "model.h"
#include "requests.h"
#include "run_clock.h"
#include "score.h"
#include "task.h"

/* Progress over a whole evaluation (every run, every task): a line after
 * each task with the share of the work done and an ETA.  Work is counted in
 * tokens as the scorer pushes them (a document: its longest context plus
 * all continuations), so a long HellaSwag weighs more than a short ARC. */
typedef struct gq_eval_overall {
    double total, done;      /* work units over all runs; done so far */
    double resumed;          /* of done: taken from journals (not in the rate) */
    double t_start;
    size_t n_tasks_total, n_tasks_done;
} gq_eval_overall;

struct gq_prepared_task;
struct gq_task_scores;

typedef struct gq_eval_opts {
    const char *tasks;       /* comma-separated task list */
    long limit;              /* first N documents per task (lm-eval --limit); 0 = all */
    int num_fewshot;         /* shots per document (0 default) */
    gq_dataset_opts data;    /* where rows come from */
    gq_add_bos add_bos;
    int quiet;
    int sq;                  /* continuation positions per decode call (-1: the path's default) */
    int batch_tokens;        /* rows per batched forward (sq 0); 0: the model's default */
    gq_eval_overall *overall;/* NULL: no overall progress line */
    const gq_run_clock *clock; /* NULL: none; saved after every journal batch */
    /* A share of the work (data parallel, --shard): every task's journal
     * batches are dealt to n_parts parts (gq_eval_deal_make) and this
     * process scores those of part_index only.  n_parts 0 or 1: all. */
    int part_index, n_parts;
    /* Called after a task's own batches are scored, before its metrics:
     * brings the other parts' results in (the MPI gather).  On return part
     * 0 must hold every request's ll and greedy flag; parts > 0 keep their
     * own only and compute no metrics.  NULL with n_parts > 1 (a shard):
     * no part computes metrics (acc and acc_norm are left NAN). */
    int (*gather)(void *ctx, const struct gq_prepared_task *t, const int *owner, struct gq_task_scores *s,
                  gq_error *err);
    void *gather_ctx;
    const char *device;      /* "cpu" (NULL too) or "cuda:N": for the results' config block */
} gq_eval_opts;

/* One leaf task, prepared: documents and tokenized requests. */
typedef struct gq_prepared_task {
    const gq_task *task;
    size_t n_original;       /* rows in the evaluation split */
    size_t n_docs;           /* documents evaluated */
    gq_doc *docs;            /* [n_docs] */
    size_t n_req;            /* requests over all documents */
    size_t *req_start;       /* [n_docs + 1] first request of each document */
    gq_tokens *ctx_tok;      /* [n_req] */
    gq_tokens *cont_tok;     /* [n_req] */
} gq_prepared_task;

/* Work units of one document (see gq_eval_overall). */
double gq_eval_doc_work(const gq_prepared_task *t, size_t doc);

/* Journal batches of a task (GQ_JOURNAL_BATCH_DOCS documents each) and
 * their documents [*d0, *d1). */
size_t gq_eval_n_batches(const gq_prepared_task *t);
void gq_eval_batch_docs(const gq_prepared_task *t, size_t b, size_t *d0, size_t *d1);

/* The journal batches of every task dealt to n_parts parts, balanced by
 * work (gq_eval_doc_work) over the whole task list: heaviest batch first
 * (ties: lower task, then lower batch), each to the part with the least
 * work so far (ties: lower part).  Deterministic: every process of a run
 * (MPI ranks, --shard jobs) computes the same deal from the same requests.
 * Whole batches keep every number equal to a one-process run's (the
 * scorer starts afresh at each batch).  The owner of batch b of task t is
 * owner[first[t] + b]; n_parts <= 1 deals everything to part 0. */
typedef struct gq_eval_deal {
    int *owner;              /* [first[n_tasks]] */
    size_t *first;           /* [n_tasks + 1] */
    size_t n_tasks;
} gq_eval_deal;

int gq_eval_deal_make(const gq_prepared_task *tasks, size_t n_tasks, int n_parts, gq_eval_deal *deal, gq_error *err);
void gq_eval_deal_free(gq_eval_deal *deal);
/* Work units of the batches dealt to `part`. */
double gq_eval_deal_work(const gq_eval_deal *deal, const gq_prepared_task *tasks, int part);

/* The numbers of one task under one run. */
typedef struct gq_task_scores {
    double *ll;              /* [n_req] summed log-likelihood of each request */
    int *greedy;             /* [n_req] */
    double *acc, *acc_norm;  /* [n_docs] */
    double acc_mean, acc_stderr, acc_norm_mean, acc_norm_stderr; /* stderr NAN = "N/A" */
    double seconds;          /* scoring time of this run (resumed work not included) */
    gq_scorer_stats stats;   /* of the requests scored in this process */
    size_t n_docs_resumed;   /* documents whose results came from the journal */
} gq_task_scores;

void gq_task_scores_free(gq_task_scores *s);

/* Agreement of two runs of one task (same requests): a vs b. */
typedef struct gq_path_check {
    double max_abs_diff, mean_abs_diff;  /* |ll_a - ll_b| over requests */
    size_t worst_doc;                    /* document index of the maximum */
    int worst_req;                       /* request within that document */
    double agree;                        /* share of documents with the same prediction (argmax ll) */
    double acc[2], acc_norm[2];          /* accuracy under a and b */
} gq_path_check;

void gq_path_check_compute(const gq_prepared_task *t, const gq_task_scores *a, const gq_task_scores *b,
                           gq_path_check *c);

/* Load rows, build documents and tokenize every request with m's tokenizer. */
int gq_eval_prepare(const gq_model *m, const gq_eval_opts *o, gq_prepared_task **tasks, size_t *n_tasks,
                    gq_error *err);
void gq_prepared_tasks_free(gq_prepared_task *tasks, size_t n_tasks);

/* A model of the evaluation: opened without weights for its config,
 * checkpoint and tokenizer; with weights (`weights`) only when some request
 * has to be scored (a fully journaled run never loads them). */
typedef struct gq_eval_model {
    const char *path;        /* as given on the command line (borrowed) */
    gq_model *info;          /* config + tokenizer, no weights */
    gq_model *weights;       /* NULL until needed; gq_eval_model_release frees it */
    int n_threads;
    const gq_tp_comm *tp;    /* tensor parallelism for the weights (borrowed); NULL: none */
    int device, device_index;/* where the weights go (gq_open_opts); GQ_DEVICE_CPU: 0 */
    char identity[512];      /* what names this checkpoint in journal keys: path, sizes, mtimes */
} gq_eval_model;

int gq_eval_model_open(gq_eval_model *em, const char *path, int n_threads, gq_error *err);
/* Free the weights (keeps info). */
void gq_eval_model_release(gq_eval_model *em);
void gq_eval_model_close(gq_eval_model *em);

/* Both models must turn text into the same ids: same vocabulary (every
 * token's text), BOS/EOS and special-token policy, and the same ids for a
 * few probe strings.  A model without a tokenizer is checked by its
 * vocabulary size only (it will be fed the other's ids).  GQ_ERR_INVALID
 * naming both files otherwise. */
int gq_eval_check_same_tokenizer(const gq_eval_model *a, const gq_eval_model *b, gq_error *err);

/* One (model, path) run. */
typedef struct gq_eval_run {
    char id[48];             /* "original", "converted_gqa", ... (file and folder names) */
    const char *role;        /* "original" or "converted" */
    gq_eval_model *model;    /* borrowed */
    gq_path path;
    gq_task_scores *scores;  /* [n_tasks], owned (gq_eval_run_free) */
    size_t n_tasks;
    double seconds;          /* scoring wall time of this process */
} gq_eval_run;

void gq_eval_run_free(gq_eval_run *r);

/* The journal key of task t under run (journal.h): SHA-256 of the model's
 * identity, the path, the scorer settings and every request's token ids.
 * It does not depend on the part dealt (--shard, ranks): every part of one
 * command has the same key per (run, task). */
void gq_eval_task_key(const gq_eval_run *run, const gq_eval_opts *o, const gq_prepared_task *t,
                      unsigned char key[32]);

/* Score every task under run->path into run->scores (allocated here).
 * journal_dir NULL: no journal; else DIR/journal/<run id>/<task>.bin. */
int gq_eval_score_run(gq_eval_run *run, const gq_eval_opts *o, const gq_prepared_task *tasks, size_t n_tasks,
                      const char *journal_dir, gq_error *err);

#endif
