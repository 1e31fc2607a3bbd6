/* task.h — benchmark tasks as lm-evaluation-harness defines them
 * (../shared/spec/tasks.md): rows -> documents -> (context, continuation)
 * requests, and per-request log-likelihoods -> per-document metrics.
 * Pure text and arithmetic: never includes engine headers.
 */
#ifndef GQ_TASK_H
#define GQ_TASK_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include "gq_error.h"

/* CPython's random.Random (MT19937): the few-shot sampler's generator.  One
 * per task, seeded once with the few-shot seed (lm-eval default 1234) and
 * consumed document by document in doc order (tasks.md Appendix A). */
typedef struct gq_rng {
    uint32_t mt[624];
    int mti;
} gq_rng;

/* random.Random(seed) for a non-negative integer seed (init_by_array over
 * the 32-bit words of seed). */
void gq_rng_seed(gq_rng *r, uint64_t seed);
/* random.getrandbits(k), 0 <= k <= 64. */
uint64_t gq_rng_getrandbits(gq_rng *r, int k);
/* random.sample(range(n), m) as indices into out[m]; fails with
 * GQ_ERR_INVALID when m > n ("Sample larger than population"). */
int gq_rng_sample(gq_rng *r, size_t n, size_t m, size_t *out, gq_error *err);

/* One document of a task, ready to be scored. */
typedef struct gq_doc {
    int doc_id;              /* 0-based row index in the evaluation split */
    int n_req;               /* requests = choices (or options for multiple-input tasks) */
    char **context;          /* [n_req] full context string (description + shots + question) */
    char **continuation;     /* [n_req] continuation string (target delimiter included) */
    char **choice;           /* [n_req] bare choice text, for acc_norm's code-point length and logs */
    int gold;                /* gold index; -100 when out of range (always wrong, as lm-eval) */
    char *target;            /* str(doc_to_target) for the sample log */
    cJSON *doc;              /* the processed HF-shaped row for the sample log (owned) */
} gq_doc;

/* Frees everything a doc owns and zeroes it; accepts NULL and zeroed docs. */
void gq_doc_free(gq_doc *d);

typedef struct gq_task_split {
    const char *hf_id, *config, *split;
} gq_task_split;

/* A leaf task (arc_easy, mmlu_anatomy, ...). */
typedef struct gq_task {
    const char *name;        /* lm-eval task name */
    const char *alias;       /* lm-eval alias (MMLU subjects: the subject) */
    gq_task_split eval;      /* scored split */
    gq_task_split fewshot;   /* few-shot pool */
    int has_acc_norm;
    const char *version;     /* "1.0" */
    const char *group;       /* MMLU: "mmlu_stem" ...; NULL otherwise */
    /* Build document doc_id from `row` with k shots from `pool` (a JSON
     * array of HF-shaped rows of the few-shot split; NULL when k == 0).
     * `rng` is the task's few-shot generator (gq_rng_seed(rng, 1234) once
     * per task, then passed for every document in doc order); MMLU's
     * first_n sampler ignores it and it may be NULL when k == 0.
     * Fails with GQ_ERR_INVALID naming `where` and the field on a bad row
     * (missing field, wrong type, label out of range, no choices), or when
     * the pool is too small for k shots; `out` is then zeroed.  On success
     * the caller owns *out (gq_doc_free). */
    int (*make_doc)(const struct gq_task *t, const cJSON *row, const char *where, int doc_id,
                    const cJSON *pool, int k, gq_rng *rng, gq_doc *out, gq_error *err);
} gq_task;

/* Expand a comma-separated task list (mmlu, arc, arc_easy, ...) into leaf
 * tasks in evaluation order; "arc" = arc_easy + arc_challenge, "mmlu" = the
 * 57 subjects.  Caller frees the array (the tasks are static). */
int gq_tasks_resolve(const char *list, const gq_task ***out, size_t *n, gq_error *err);
const gq_task *gq_task_find(const char *name);

/* ---- metrics (tasks.md §2.6-2.8) ---- */

/* argmax, first index among equal maxima (numpy), NaN wins at its first position. */
int gq_argmax(const double *x, int n);
/* Per-document acc / acc_norm from the request log-likelihoods. */
void gq_doc_metrics(const gq_doc *d, const double *ll, double *acc, double *acc_norm);
/* Python sum: plain left-to-right (<=3.11) or Neumaier (>=3.12, default). */
double gq_pysum(const double *x, size_t n, int neumaier);
/* mean and sample-stderr as lm-eval; stderr NAN means "N/A" (n <= 1). */
double gq_mean(const double *x, size_t n, int neumaier);
double gq_stderr(const double *x, size_t n, int neumaier);
/* Size-weighted group value and pooled stderr over leaves (§2.8). */
double gq_group_mean(const double *v, const double *n, size_t k, int neumaier);
double gq_group_stderr(const double *s, const double *n, size_t k, int neumaier);
/* Length in Unicode code points of a UTF-8 string (acc_norm's divisor). */
size_t gq_utf8_codepoints(const char *s);

#endif
