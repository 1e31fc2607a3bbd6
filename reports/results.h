/* results.h — the files lm-evaluation-harness writes, written by gqla-eval:
 * results_<date_id>.json (tasks.md §4, HEAD layout) and one
 * samples_<task>_<date_id>.jsonl per leaf task (§5).
 *
 * What it is: turning finished per-task numbers (and, for the sample log,
 * the documents with their per-request log-likelihoods) into bytes equal to
 * what lm-eval's json.dumps calls would write for the same run.  MMLU group
 * rows are computed here from the leaf rows with the tasks/ group arithmetic
 * (gq_group_mean / gq_group_stderr, §2.8).
 * What it is not: it runs nothing and computes no per-task metric; the
 * paper tables, comparisons and the gate live elsewhere in reports/.
 *
 * Ownership: every input is borrowed for the duration of the call and never
 * modified.  Rendered text is a heap string the caller frees with gq_free.
 * Failure contract: each function returns GQ_OK or a negative gq_status and
 * fills err; on failure out-parameters are NULL/0 and no file was replaced
 * (writes go to a temporary file renamed over the target, fileio.h), though
 * directories created on the way stay.
 *
 * Where lm-eval writes values gqla-eval does not have (pretty_env_info,
 * transformers_version, git hashes, model_sha), the file carries our own
 * values or null; everything gqla-eval-specific (checkpoint path, our dtype
 * name, decoding path, BOS policy, per-task timings, Python-sum mode) goes in
 * an extra top-level "gqla_eval" object after lm-eval's keys, which lm-eval
 * readers ignore.
 *
 * Tests: tests/test_reports.c (fixtures from
 * tests/reference/make_report_fixtures.py, compared byte for byte).
 */
#ifndef GQ_RESULTS_H
#define GQ_RESULTS_H

#include <stddef.h>
#include <stdint.h>
#include "gq_error.h"
#include "task.h"

// ---- inputs -------------------------------------------------------------------

/* One finished leaf task. */
typedef struct gq_task_result {
    const gq_task *task;        /* name, alias, version, splits, has_acc_norm */
    const char *group;          /* group this leaf is reported under: normally
                                   task->group ("mmlu_stem", ...) when the run
                                   asked for mmlu; NULL = stand-alone (as lm-eval
                                   does for --tasks mmlu_anatomy) */
    int num_fewshot;            /* k used for this task */
    int64_t n_original;         /* rows in the evaluation split */
    int64_t n_effective;        /* documents scored (lm-eval's sample_len) */
    double acc, acc_stderr;     /* stderr NAN is written "N/A" */
    double acc_norm, acc_norm_stderr;   /* read only when task->has_acc_norm */
    double seconds;             /* wall time of the task (our block only) */
    int64_t n_requests;         /* requests scored (our block only) */
    const char *task_hash;      /* 64 hex digits from gq_samples_write/render,
                                   or NULL when no samples were logged */
} gq_task_result;

/* The run as a whole. */
typedef struct gq_report_run {
    const char *model_name;     /* lm-eval's model_name (the pretrained=/path= value);
                                   also sanitized into model_name_sanitized */
    const char *model_args;     /* config.model_args; NULL -> "pretrained=<model_name>" */
    const char *model_path;     /* checkpoint as opened (our block) */
    const char *model_dtype;    /* config.model_dtype in lm-eval spelling, e.g.
                                   "torch.bfloat16"; NULL -> null */
    const char *dtype;          /* our weight dtype name, e.g. "bf16", "q4_1" (our block) */
    int64_t n_params;           /* config.model_num_parameters; < 0 -> -1 as lm-eval */
    const char *decoding_path;  /* "native", "gqa", "absorb" (our block) */
    const char *device;         /* config.device ("cpu", "cuda"); NULL -> null */
    int batch_size;             /* config.batch_size */
    const char *add_bos;        /* BOS policy used when tokenizing: "auto", "on", "off" (our block) */
    /* tokenizer_*_token: [text, "id"]; text NULL -> null, id < 0 -> "None" */
    const char *pad_text, *eos_text, *bos_text;
    int pad_id, eos_id, bos_id;
    int eot_token_id;           /* < 0 -> null */
    int max_length;             /* < 0 -> null */
    int64_t limit;              /* --limit; < 0 -> null */
    int bootstrap_iters;        /* config.bootstrap_iters (lm-eval default 100000) */
    int random_seed, numpy_seed, torch_seed, fewshot_seed;   /* 0, 1234, 1234, 1234 */
    double start_time;          /* UNIX seconds at start (lm-eval "date") */
    double total_seconds;       /* total_evaluation_time_seconds, written as str(float) */
    const char *env_info;       /* pretty_env_info; NULL -> "gqla-eval <version>" */
    int neumaier;               /* Python sum rule for group arithmetic:
                                   1 = CPython >= 3.12 (default), 0 = <= 3.11 */
} gq_report_run;

/* Defaults as lm-eval's CLI: seeds 0/1234/1234/1234, bootstrap 100000,
 * batch 1, limit none, ids -1, neumaier 1; pointers NULL. */
void gq_report_run_init(gq_report_run *run);

// ---- names ----------------------------------------------------------------------

/* lm-eval's sanitize_model_name: every run of  " < > : / | \ ? * [ ]  becomes
 * "__".  Heap string (gq_free). */
char *gq_report_sanitize_model_name(const char *name, gq_error *err);

/* lm-eval's date_id: local time isoformat with ':' -> '-',
 * "2026-08-21T10-56-54.123456" (".ffffff" left out when usec == 0).
 * out must hold 40 bytes.  Returns GQ_OK or GQ_ERR_INVALID on a bad time. */
int gq_report_date_id(int64_t unix_sec, long usec, char out[40], gq_error *err);

/* Where lm-eval would put the files for --output_path output_path (§4):
 *   output_path ends in ".json": <dir>/<stem>_<date_id>.json, samples in <dir>
 *   otherwise: <output_path>/<model_name_sanitized>/results_<date_id>.json
 * gq_report_samples_path gives samples_<task>_<date_id>.jsonl in that folder.
 * Heap strings (gq_free). */
char *gq_report_results_path(const char *output_path, const char *model_name,
                             const char *date_id, gq_error *err);
char *gq_report_samples_path(const char *output_path, const char *model_name,
                             const char *task_name, const char *date_id, gq_error *err);

/* Write bytes atomically to path (temp file + rename, fileio.h), creating
 * the parent folders first (mkdir -p, mode 0777 & umask). */
int gq_report_write_file(const char *path, const void *data, size_t len, gq_error *err);
/* A cJSON tree as cJSON_Print formats it plus a final newline, written as
 * above; `what` names it in the out-of-memory message. */
struct cJSON;
int gq_report_write_json(const char *path, const struct cJSON *root, const char *what, gq_error *err);

// ---- results json ------------------------------------------------------------------

/* Render results.json (json.dumps indent=2, no trailing newline) for the
 * leaf results tasks[0..n) in evaluation order.  Groups: every group named by
 * a leaf's `group` is written, with its parent (mmlu) — leaves of a group are
 * ordered as lm-eval orders them (subgroups in _mmlu.yaml order, subjects by
 * name), whatever the input order.  Fails with GQ_ERR_INVALID on an unknown
 * group name, a duplicate task, or missing names. */
int gq_results_render(const gq_report_run *run, const gq_task_result *tasks, size_t n,
                      char **out, size_t *len, gq_error *err);
/* Render and write atomically to exactly `path` (the parent folder is
 * created).  The CLI writes <output-dir>/results.json this way, and the
 * lm-eval-named copy at gq_report_results_path(); both are the same bytes. */
int gq_results_write(const char *path, const gq_report_run *run, const gq_task_result *tasks,
                     size_t n, gq_error *err);

// ---- samples jsonl ------------------------------------------------------------------

/* Inputs for one task's sample log.  Requests are flattened in document
 * order: document i owns entries [off_i, off_i + docs[i].n_req) of ll and
 * is_greedy, off_i = sum of the n_req before it. */
typedef struct gq_samples_input {
    const gq_doc *docs;         /* [n_docs]; doc (cJSON, HF row) may be NULL -> null */
    size_t n_docs;
    const double *ll;           /* [total requests] summed log-likelihoods */
    const unsigned char *is_greedy;   /* [total requests] 0/1 */
    const double *acc;          /* [n_docs] 1.0 / 0.0 */
    const double *acc_norm;     /* [n_docs], or NULL when the task has no acc_norm */
} gq_samples_input;

/* Render one line per document (§5; json.dumps default separators, "\n" after
 * each line).  task_hash (65 bytes, may be NULL) receives lm-eval's
 * task_hashes entry: sha256 of the concatenated doc_hash+prompt_hash+
 * target_hash of all lines.  Fails with GQ_ERR_INVALID on a document without
 * requests, context, continuation or target. */
int gq_samples_render(const gq_samples_input *in, char **out, size_t *len, char task_hash[65],
                      gq_error *err);
int gq_samples_write(const char *path, const gq_samples_input *in, char task_hash[65],
                     gq_error *err);

/* sha256 hex of json.dumps(doc, indent=2, ensure_ascii=False): the doc_hash
 * of a sample line ("null" for NULL). */
int gq_samples_doc_hash(const cJSON *doc, char hex[65], gq_error *err);

#endif
