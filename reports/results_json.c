/* results_json.c — results_<date_id>.json in lm-evaluation-harness's HEAD
 * layout (tasks.md §4), plus the file-name rules and atomic writes shared
 * with samples_jsonl.c.  See results.h for the contract.
 *
 * Key order follows lm-eval's code path: EvalAcc._to_eval_results (results,
 * groups, group_subtasks, configs, versions, n-shot, higher_is_better,
 * n-samples), simple_evaluate (config, git_hash, date), add_env_info,
 * add_tokenizer_info, then EvaluationTracker (task_hashes and the
 * GeneralConfigTracker fields).  Our "gqla_eval" block comes last.
 * Tested byte for byte against a Python-built file in tests/test_reports.c.
 */
#define _POSIX_C_SOURCE 200809L
#include "results.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fileio.h"
#include "gq_alloc.h"
#include "pyjson.h"

#ifndef GQLA_VERSION
#define GQLA_VERSION "unknown"
#endif

// ---- groups ----------------------------------------------------------------------

/* The only groups among our tasks (tasks.md §3.6), in lm-eval's load order:
 * mmlu first, then its subgroups as _mmlu.yaml lists them.  Versions are
 * the string "2" at HEAD. */
typedef struct gq_report_group {
    const char *name, *alias;
    int parent;                 /* index in this table, -1 for none */
} gq_report_group;

static const gq_report_group gq_groups[] = {
    {"mmlu", "mmlu", -1},
    {"mmlu_stem", "stem", 0},
    {"mmlu_other", "other", 0},
    {"mmlu_social_sciences", "social sciences", 0},
    {"mmlu_humanities", "humanities", 0},
};
#define GQ_N_GROUPS ((int)(sizeof gq_groups / sizeof gq_groups[0]))
#define GQ_GROUP_VERSION "2"

static int gq_group_index(const char *name)
{
    for (int g = 0; g < GQ_N_GROUPS; g++)
        if (strcmp(gq_groups[g].name, name) == 0) return g;
    return -1;
}

/* Is group g an ancestor-or-self of group h? */
static int gq_group_contains(int g, int h)
{
    for (; h >= 0; h = gq_groups[h].parent)
        if (h == g) return 1;
    return 0;
}

/* Per-group state of one render. */
typedef struct gq_group_row {
    int present;
    size_t *leaves, n_leaves;   /* indices into tasks[], lm-eval leaf order */
    double value, stderr_;      /* stderr NAN = "N/A" */
    int64_t sample_len;
} gq_group_row;

/* Leaves of a group in lm-eval's order: by subgroup (table order), then by
 * task name (tag members are sorted).  Insertion sort: at most 57 leaves, and
 * no global state for qsort's missing context argument. */
static void gq_sort_leaves(size_t *leaves, size_t k, const gq_task_result *tasks, const int *group_of)
{
    for (size_t a = 1; a < k; a++) {
        size_t x = leaves[a], b = a;
        while (b > 0) {
            size_t y = leaves[b - 1];
            int before = group_of[x] != group_of[y] ? group_of[x] < group_of[y]
                                                    : strcmp(tasks[x].task->name, tasks[y].task->name) < 0;
            if (!before) break;
            leaves[b] = y;
            b--;
        }
        leaves[b] = x;
    }
}

/* Entries of the sorted "versions" / "n-shot" / "higher_is_better" maps:
 * leaves by task index, groups by table index. */
typedef struct gq_named {
    const char *name;
    int is_group;
    size_t index;
} gq_named;

/* Python's sorted() on str keys: code-point order, which strcmp on UTF-8 bytes gives. */
static int gq_name_cmp(const void *a, const void *b)
{
    return strcmp(((const gq_named *)a)->name, ((const gq_named *)b)->name);
}

// ---- names and paths ---------------------------------------------------------------

void gq_report_run_init(gq_report_run *run)
{
    memset(run, 0, sizeof *run);
    run->n_params = -1;
    run->batch_size = 1;
    run->pad_id = run->eos_id = run->bos_id = -1;
    run->eot_token_id = run->max_length = -1;
    run->limit = -1;
    run->bootstrap_iters = 100000;
    run->random_seed = 0;
    run->numpy_seed = run->torch_seed = run->fewshot_seed = 1234;
    run->neumaier = 1;
}

static int gq_is_sanitized_char(char c)
{
    return c && strchr("\"<>:/|\\?*[]", c) != NULL;
}

char *gq_report_sanitize_model_name(const char *name, gq_error *err)
{
    size_t n = strlen(name), k = 0;
    char *out = gq_malloc(2 * n + 1, "sanitized model name", err);
    if (!out) return NULL;
    for (size_t i = 0; i < n;) {
        if (gq_is_sanitized_char(name[i])) {
            while (i < n && gq_is_sanitized_char(name[i])) i++;
            out[k++] = '_';
            out[k++] = '_';
        } else {
            out[k++] = name[i++];
        }
    }
    out[k] = '\0';
    return out;
}

int gq_report_date_id(int64_t unix_sec, long usec, char out[40], gq_error *err)
{
    time_t t = (time_t)unix_sec;
    struct tm tm;
    if (usec < 0 || usec > 999999 || !localtime_r(&t, &tm))
        return gq_error_set(err, GQ_ERR_INVALID, "date id: bad time %lld.%06ld", (long long)unix_sec, usec);
    size_t k = strftime(out, 40, "%Y-%m-%dT%H-%M-%S", &tm);
    if (k == 0) return gq_error_set(err, GQ_ERR_INVALID, "date id: cannot format time");
    if (usec) snprintf(out + k, 40 - k, ".%06ld", usec);
    return GQ_OK;
}

/* The folder lm-eval writes into and, for a ".json" output path, the stem. */
static int gq_report_dir(const char *output_path, const char *model_name, char **dir, char **stem,
                         gq_error *err)
{
    *dir = NULL;
    *stem = NULL;
    const char *slash = strrchr(output_path, '/');
    const char *base = slash ? slash + 1 : output_path;
    size_t bl = strlen(base);
    /* pathlib: ".json" alone is a hidden file without a suffix */
    if (bl > 5 && strcmp(base + bl - 5, ".json") == 0) {
        size_t dl = slash ? (size_t)(slash - output_path) : 0;
        *dir = gq_malloc(dl + 2, "path", err);
        *stem = gq_malloc(bl - 4, "path", err);
        if (!*dir || !*stem) goto fail;
        if (slash) {
            memcpy(*dir, output_path, dl ? dl : 1);   /* "/x.json" -> "/" */
            (*dir)[dl ? dl : 1] = '\0';
        } else {
            (*dir)[0] = '\0';   /* Path("x.json").parent is ".": plain names, as pathlib prints them */
        }
        memcpy(*stem, base, bl - 5);
        (*stem)[bl - 5] = '\0';
        return GQ_OK;
    }
    char *san = gq_report_sanitize_model_name(model_name, err);
    if (!san) goto fail;
    *dir = gq_path_join(output_path, san, err);
    gq_free(san);
    if (!*dir) goto fail;
    return GQ_OK;
fail:
    gq_free(*dir);
    gq_free(*stem);
    *dir = *stem = NULL;
    return err && err->status != GQ_OK ? err->status : GQ_ERR_NOMEM;
}

static char *gq_report_file(const char *output_path, const char *model_name, const char *prefix,
                            const char *middle, const char *date_id, const char *ext, gq_error *err)
{
    char *dir = NULL, *stem = NULL, *name = NULL, *path = NULL;
    if (!output_path || !model_name || !date_id) {
        gq_error_set(err, GQ_ERR_USAGE, "report path: output path, model name and date id are required");
        return NULL;
    }
    if (gq_report_dir(output_path, model_name, &dir, &stem, err) != GQ_OK) return NULL;
    /* results: "<stem>_" or "results_"; samples: "samples_<task>_" */
    const char *lead = middle ? prefix : (stem ? stem : prefix);
    size_t n = strlen(lead) + (middle ? strlen(middle) + 1 : 0) + strlen(date_id) + strlen(ext) + 2;
    name = gq_malloc(n, "path", err);
    if (!name) goto done;
    if (middle) snprintf(name, n, "%s_%s_%s%s", lead, middle, date_id, ext);
    else snprintf(name, n, "%s_%s%s", lead, date_id, ext);
    path = gq_path_join(dir, name, err);
done:
    gq_free(dir);
    gq_free(stem);
    gq_free(name);
    return path;
}

char *gq_report_results_path(const char *output_path, const char *model_name, const char *date_id,
                             gq_error *err)
{
    return gq_report_file(output_path, model_name, "results", NULL, date_id, ".json", err);
}

char *gq_report_samples_path(const char *output_path, const char *model_name, const char *task_name,
                             const char *date_id, gq_error *err)
{
    if (!task_name) {
        gq_error_set(err, GQ_ERR_USAGE, "samples path: task name is required");
        return NULL;
    }
    return gq_report_file(output_path, model_name, "samples", task_name, date_id, ".jsonl", err);
}

/* mkdir -p for the folder part of path. */
static int gq_report_mkdirs(const char *path, gq_error *err)
{
    char *p = gq_strdup(path, err);
    if (!p) return GQ_ERR_NOMEM;
    char *slash = strrchr(p, '/');
    int rc = GQ_OK;
    if (slash && slash != p) {
        *slash = '\0';
        rc = gq_mkdir_p(p, err);
    }
    gq_free(p);
    return rc;
}

int gq_report_write_file(const char *path, const void *data, size_t len, gq_error *err)
{
    int rc = gq_report_mkdirs(path, err);
    if (rc != GQ_OK) return rc;
    return gq_file_write_atomic(path, data, len, err);
}

int gq_report_write_json(const char *path, const cJSON *root, const char *what, gq_error *err)
{
    char *text = cJSON_Print(root);
    size_t len = text ? strlen(text) : 0;
    char *file = text ? gq_malloc(len + 1, what, err) : NULL;
    if (!file) {
        if (text) cJSON_free(text);
        return gq_error_set(err, GQ_ERR_NOMEM, "%s: out of memory building the %s", path, what);
    }
    memcpy(file, text, len);
    file[len] = '\n';
    cJSON_free(text);
    int rc = gq_report_write_file(path, file, len + 1, err);
    gq_free(file);
    return rc;
}

// ---- pieces of the file ------------------------------------------------------------

/* "<metric>,none": value, "<metric>_stderr,none": stderr or "N/A" */
static void gq_write_metric(gq_pyjson *w, const char *metric, double v, double se)
{
    char key[64];
    snprintf(key, sizeof key, "%s,none", metric);
    gq_pyjson_kv_double(w, key, v);
    snprintf(key, sizeof key, "%s_stderr,none", metric);
    gq_pyjson_key(w, key);
    if (isnan(se)) gq_pyjson_string(w, "N/A");
    else gq_pyjson_double(w, se);
}

static void gq_write_group_entry(gq_pyjson *w, int g, const gq_group_row *row)
{
    gq_pyjson_begin_object(w);
    gq_pyjson_kv_string(w, "alias", gq_groups[g].alias);
    gq_pyjson_kv_string(w, "name", gq_groups[g].name);
    gq_pyjson_kv_int(w, "sample_len", row->sample_len);
    gq_write_metric(w, "acc", row->value, row->stderr_);
    gq_pyjson_key(w, "sample_count");
    gq_pyjson_begin_object(w);
    gq_pyjson_kv_int(w, "acc,none", row->sample_len);
    gq_pyjson_end_object(w);
    gq_pyjson_end_object(w);
}

/* Every present group as name: entry, post-order from the root: the
 * subgroups (table order), then mmlu.  "results" and "groups" both hold this. */
static void gq_write_group_entries(gq_pyjson *w, const gq_group_row rows[GQ_N_GROUPS])
{
    for (int pass = 0; pass < 2; pass++)
        for (int g = 0; g < GQ_N_GROUPS; g++) {
            if (!rows[g].present || (gq_groups[g].parent < 0) != (pass == 1)) continue;
            gq_pyjson_key(w, gq_groups[g].name);
            gq_write_group_entry(w, g, &rows[g]);
        }
}

/* A version string as lm-eval holds it: a float when it parses as one
 * ("1.0" -> 1.0, as the YAML metadata gives), else the string. */
static void gq_write_version(gq_pyjson *w, const char *v)
{
    char *end = NULL;
    double d = v ? strtod(v, &end) : 0.0;
    if (v && *v && end && *end == '\0') gq_pyjson_double(w, d);
    else gq_pyjson_string(w, v ? v : "N/A");
}

/* Minimal TaskConfig.to_dict(): the fields our tasks set, in TaskConfig's
 * field order; None fields left out as lm-eval does. */
static void gq_write_config(gq_pyjson *w, const gq_task_result *r)
{
    const gq_task *t = r->task;
    gq_pyjson_begin_object(w);
    gq_pyjson_kv_string(w, "task", t->name);
    if (t->alias && strcmp(t->alias, t->name) != 0) gq_pyjson_kv_string(w, "task_alias", t->alias);
    if (t->eval.hf_id) gq_pyjson_kv_string(w, "dataset_path", t->eval.hf_id);
    if (t->eval.config) gq_pyjson_kv_string(w, "dataset_name", t->eval.config);
    const char *es = t->eval.split, *fs = t->fewshot.split;
    if (fs && strcmp(fs, "train") == 0) gq_pyjson_kv_string(w, "training_split", fs);
    if (es && strcmp(es, "validation") == 0) {
        gq_pyjson_kv_string(w, "validation_split", es);
    } else if (es) {
        gq_pyjson_kv_string(w, "test_split", es);
    }
    if (fs && strcmp(fs, "train") != 0) gq_pyjson_kv_string(w, "fewshot_split", fs);
    gq_pyjson_kv_string(w, "target_delimiter", " ");
    gq_pyjson_kv_string(w, "fewshot_delimiter", "\n\n");
    gq_pyjson_kv_int(w, "num_fewshot", r->num_fewshot);
    gq_pyjson_key(w, "metric_list");
    gq_pyjson_begin_array(w);
    for (int m = 0; m < (t->has_acc_norm ? 2 : 1); m++) {
        gq_pyjson_begin_object(w);
        gq_pyjson_kv_string(w, "metric", m ? "acc_norm" : "acc");
        gq_pyjson_kv_string(w, "aggregation", "mean");
        gq_pyjson_kv_bool(w, "higher_is_better", 1);
        gq_pyjson_end_object(w);
    }
    gq_pyjson_end_array(w);
    gq_pyjson_kv_string(w, "output_type", "multiple_choice");
    gq_pyjson_kv_int(w, "repeats", 1);
    gq_pyjson_key(w, "metadata");
    gq_pyjson_begin_object(w);
    gq_pyjson_key(w, "version");
    gq_write_version(w, t->version);
    gq_pyjson_end_object(w);
    gq_pyjson_end_object(w);
}

static void gq_write_token(gq_pyjson *w, const char *key, const char *text, int id)
{
    char num[24];
    gq_pyjson_key(w, key);
    gq_pyjson_begin_array(w);
    gq_pyjson_string(w, text);          /* NULL -> null */
    if (id < 0) gq_pyjson_string(w, "None");
    else {
        snprintf(num, sizeof num, "%d", id);
        gq_pyjson_string(w, num);
    }
    gq_pyjson_end_array(w);
}

static void gq_write_int_or_null(gq_pyjson *w, const char *key, int64_t v)
{
    gq_pyjson_key(w, key);
    if (v < 0) gq_pyjson_null(w);
    else gq_pyjson_int(w, v);
}

/* "config": simple_evaluate's settings and HFLM.get_model_info. */
static void gq_write_run_config(gq_pyjson *w, const gq_report_run *run, const char *model_args)
{
    gq_pyjson_key(w, "config");
    gq_pyjson_begin_object(w);
    gq_pyjson_kv_string(w, "model", "gqla-eval");
    gq_pyjson_kv_string(w, "model_args", model_args);
    gq_pyjson_kv_int(w, "model_num_parameters", run->n_params < 0 ? -1 : run->n_params);
    gq_pyjson_kv_string(w, "model_dtype", run->model_dtype);
    gq_pyjson_kv_string(w, "model_revision", "main");
    gq_pyjson_kv_string(w, "model_sha", "");
    gq_pyjson_kv_int(w, "batch_size", run->batch_size);
    gq_pyjson_key(w, "batch_sizes");
    gq_pyjson_begin_array(w);
    gq_pyjson_end_array(w);
    gq_pyjson_kv_string(w, "device", run->device);
    gq_pyjson_kv_null(w, "use_cache");
    gq_write_int_or_null(w, "limit", run->limit);
    gq_pyjson_kv_int(w, "bootstrap_iters", run->bootstrap_iters);
    gq_pyjson_kv_null(w, "gen_kwargs");
    gq_pyjson_kv_int(w, "random_seed", run->random_seed);
    gq_pyjson_kv_int(w, "numpy_seed", run->numpy_seed);
    gq_pyjson_kv_int(w, "torch_seed", run->torch_seed);
    gq_pyjson_kv_int(w, "fewshot_seed", run->fewshot_seed);
    gq_pyjson_end_object(w);
}

/* "gqla_eval": what lm-eval has no field for (path, dtype, timing). */
static void gq_write_ours(gq_pyjson *w, const gq_report_run *run, const gq_task_result *tasks, size_t n)
{
    gq_pyjson_key(w, "gqla_eval");
    gq_pyjson_begin_object(w);
    gq_pyjson_kv_string(w, "version", GQLA_VERSION);
    gq_pyjson_kv_string(w, "model", run->model_name);
    gq_pyjson_kv_string(w, "path", run->model_path);
    gq_pyjson_kv_string(w, "dtype", run->dtype);
    gq_pyjson_kv_string(w, "decoding_path", run->decoding_path);
    gq_pyjson_kv_string(w, "device", run->device);
    gq_pyjson_kv_string(w, "add_bos", run->add_bos);
    gq_pyjson_kv_string(w, "python_sum",
                        run->neumaier ? "neumaier (CPython >= 3.12)" : "left-to-right (CPython <= 3.11)");
    gq_pyjson_key(w, "tasks");
    gq_pyjson_begin_object(w);
    for (size_t i = 0; i < n; i++) {
        gq_pyjson_key(w, tasks[i].task->name);
        gq_pyjson_begin_object(w);
        gq_pyjson_kv_double(w, "seconds", tasks[i].seconds);
        gq_pyjson_kv_int(w, "documents", tasks[i].n_effective);
        gq_pyjson_kv_int(w, "requests", tasks[i].n_requests);
        gq_pyjson_end_object(w);
    }
    gq_pyjson_end_object(w);
    gq_pyjson_end_object(w);
}

// ---- render ---------------------------------------------------------------------------

int gq_results_render(const gq_report_run *run, const gq_task_result *tasks, size_t n,
                      char **out, size_t *len, gq_error *err)
{
    int rc = GQ_OK;
    gq_pyjson w;
    gq_group_row rows[GQ_N_GROUPS];
    int *group_of = NULL;
    gq_named *named = NULL;
    double *vals = NULL, *sizes = NULL, *ses = NULL;
    char *sanitized = NULL, *model_args = NULL;
    int nshot_set[GQ_N_GROUPS] = {0}, nshot_val[GQ_N_GROUPS] = {0}, hib_set[GQ_N_GROUPS] = {0};

    *out = NULL;
    *len = 0;
    memset(rows, 0, sizeof rows);
    gq_pyjson_init(&w, 2);
    if (!run || !run->model_name || (n > 0 && !tasks)) {
        rc = gq_error_set(err, GQ_ERR_USAGE, "results: run with a model name and tasks required");
        goto fail;
    }

    // -- validate, find groups
    group_of = gq_calloc(n ? n : 1, sizeof *group_of, "results: group index", err);
    vals = gq_calloc(n ? n : 1, sizeof *vals, "results: group values", err);
    sizes = gq_calloc(n ? n : 1, sizeof *sizes, "results: group sizes", err);
    ses = gq_calloc(n ? n : 1, sizeof *ses, "results: group stderrs", err);
    named = gq_calloc(n + GQ_N_GROUPS, sizeof *named, "results: names", err);
    if (!group_of || !vals || !sizes || !ses || !named) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        const gq_task *t = tasks[i].task;
        if (!t || !t->name) {
            rc = gq_error_set(err, GQ_ERR_INVALID, "results: task %zu has no name", i);
            goto fail;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(tasks[j].task->name, t->name) == 0) {
                rc = gq_error_set(err, GQ_ERR_INVALID, "results: task %s appears twice", t->name);
                goto fail;
            }
        group_of[i] = -1;
        if (tasks[i].group) {
            group_of[i] = gq_group_index(tasks[i].group);
            if (group_of[i] < 0) {
                rc = gq_error_set(err, GQ_ERR_INVALID,
                                  "results: task %s names unknown group %s (known: mmlu and its four subgroups)",
                                  t->name, tasks[i].group);
                goto fail;
            }
        }
    }

    // -- group rows (tasks.md §2.8): leaves in lm-eval order, size-weighted acc
    for (int g = 0; g < GQ_N_GROUPS; g++) {
        gq_group_row *row = &rows[g];
        for (size_t i = 0; i < n; i++)
            if (group_of[i] >= 0 && gq_group_contains(g, group_of[i])) row->n_leaves++;
        if (row->n_leaves == 0) continue;
        row->present = 1;
        row->leaves = gq_calloc(row->n_leaves, sizeof *row->leaves, "results: group leaves", err);
        if (!row->leaves) {
            rc = GQ_ERR_NOMEM;
            goto fail;
        }
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (group_of[i] >= 0 && gq_group_contains(g, group_of[i])) row->leaves[k++] = i;
        gq_sort_leaves(row->leaves, row->n_leaves, tasks, group_of);
        int na = 0;
        for (size_t j = 0; j < k; j++) {
            const gq_task_result *r = &tasks[row->leaves[j]];
            vals[j] = r->acc;
            sizes[j] = (double)r->n_effective;
            ses[j] = r->acc_stderr;
            row->sample_len += r->n_effective;
            if (isnan(r->acc_stderr)) na = 1;
        }
        row->value = gq_group_mean(vals, sizes, k, run->neumaier);
        row->stderr_ = na ? NAN : gq_group_stderr(ses, sizes, k, run->neumaier);
    }
    int any_group = 0;
    for (int g = 0; g < GQ_N_GROUPS; g++) any_group |= rows[g].present;

    gq_pyjson_begin_object(&w);

    // -- results: leaves in evaluation order, then groups bottom-up
    gq_pyjson_key(&w, "results");
    gq_pyjson_begin_object(&w);
    for (size_t i = 0; i < n; i++) {
        const gq_task_result *r = &tasks[i];
        gq_pyjson_key(&w, r->task->name);
        gq_pyjson_begin_object(&w);
        gq_pyjson_kv_string(&w, "name", r->task->name);
        gq_pyjson_kv_string(&w, "alias", r->task->alias ? r->task->alias : r->task->name);
        gq_pyjson_kv_int(&w, "sample_len", r->n_effective);
        gq_write_metric(&w, "acc", r->acc, r->acc_stderr);
        if (r->task->has_acc_norm) gq_write_metric(&w, "acc_norm", r->acc_norm, r->acc_norm_stderr);
        gq_pyjson_end_object(&w);
    }
    gq_write_group_entries(&w, rows);
    gq_pyjson_end_object(&w);

    if (any_group) {
        gq_pyjson_key(&w, "groups");
        gq_pyjson_begin_object(&w);
        gq_write_group_entries(&w, rows);
        gq_pyjson_end_object(&w);
    }

    // -- group_subtasks: load order; children = subgroups, then direct leaves by name
    gq_pyjson_key(&w, "group_subtasks");
    gq_pyjson_begin_object(&w);
    for (int g = 0; g < GQ_N_GROUPS; g++) {
        if (!rows[g].present) continue;
        gq_pyjson_key(&w, gq_groups[g].name);
        gq_pyjson_begin_array(&w);
        for (int h = 0; h < GQ_N_GROUPS; h++)
            if (rows[h].present && gq_groups[h].parent == g) gq_pyjson_string(&w, gq_groups[h].name);
        for (size_t j = 0; j < rows[g].n_leaves; j++)
            if (group_of[rows[g].leaves[j]] == g) gq_pyjson_string(&w, tasks[rows[g].leaves[j]].task->name);
        gq_pyjson_end_array(&w);
    }
    gq_pyjson_end_object(&w);

    // -- sorted maps
    size_t n_named = 0;
    for (size_t i = 0; i < n; i++) named[n_named++] = (gq_named){tasks[i].task->name, 0, i};
    size_t n_leaf_named = n_named;
    for (int g = 0; g < GQ_N_GROUPS; g++)
        if (rows[g].present) named[n_named++] = (gq_named){gq_groups[g].name, 1, (size_t)g};
    qsort(named, n_leaf_named, sizeof *named, gq_name_cmp);   /* configs: leaves only */
    gq_pyjson_key(&w, "configs");
    gq_pyjson_begin_object(&w);
    for (size_t j = 0; j < n_leaf_named; j++) {
        gq_pyjson_key(&w, named[j].name);
        gq_write_config(&w, &tasks[named[j].index]);
    }
    gq_pyjson_end_object(&w);
    qsort(named, n_named, sizeof *named, gq_name_cmp);

    gq_pyjson_key(&w, "versions");
    gq_pyjson_begin_object(&w);
    for (size_t j = 0; j < n_named; j++) {
        gq_pyjson_key(&w, named[j].name);
        if (named[j].is_group) gq_pyjson_string(&w, GQ_GROUP_VERSION);
        else gq_write_version(&w, tasks[named[j].index].task->version);
    }
    gq_pyjson_end_object(&w);

    /* n-shot / higher_is_better of groups: one pass in load order, looking
     * only at children already filled in (tasks.md §4 note; so mmlu itself
     * gets none).  All our metrics are higher-is-better. */
    for (int g = 0; g < GQ_N_GROUPS; g++) {
        if (!rows[g].present) continue;
        int seen = 0, agree = 1, k = 0, hib = 0;
        for (int h = 0; h < GQ_N_GROUPS; h++)
            if (rows[h].present && gq_groups[h].parent == g && nshot_set[h]) {
                if (seen && nshot_val[h] != k) agree = 0;
                k = nshot_val[h];
                seen = 1;
            }
        for (int h = 0; h < GQ_N_GROUPS; h++)
            if (rows[h].present && gq_groups[h].parent == g && hib_set[h]) hib = 1;
        for (size_t j = 0; j < rows[g].n_leaves; j++) {
            const gq_task_result *r = &tasks[rows[g].leaves[j]];
            if (group_of[rows[g].leaves[j]] != g) continue;
            if (seen && r->num_fewshot != k) agree = 0;
            k = r->num_fewshot;
            seen = 1;
            hib = 1;
        }
        if (seen && agree) {
            nshot_set[g] = 1;
            nshot_val[g] = k;
        }
        hib_set[g] = hib;
    }
    gq_pyjson_key(&w, "n-shot");
    gq_pyjson_begin_object(&w);
    for (size_t j = 0; j < n_named; j++) {
        if (named[j].is_group && !nshot_set[named[j].index]) continue;
        gq_pyjson_kv_int(&w, named[j].name,
                         named[j].is_group ? nshot_val[named[j].index] : tasks[named[j].index].num_fewshot);
    }
    gq_pyjson_end_object(&w);

    gq_pyjson_key(&w, "higher_is_better");
    gq_pyjson_begin_object(&w);
    for (size_t j = 0; j < n_named; j++) {
        int with_norm = 0;
        if (named[j].is_group) {
            int g = (int)named[j].index;
            if (!hib_set[g]) continue;
            /* union of the children's metrics, first-seen order: acc, acc_norm */
            for (size_t l = 0; l < rows[g].n_leaves; l++) {
                size_t i = rows[g].leaves[l];
                if (tasks[i].task->has_acc_norm &&
                    (group_of[i] == g || (gq_groups[group_of[i]].parent == g && hib_set[group_of[i]])))
                    with_norm = 1;
            }
        } else {
            with_norm = tasks[named[j].index].task->has_acc_norm;
        }
        gq_pyjson_key(&w, named[j].name);
        gq_pyjson_begin_object(&w);
        gq_pyjson_kv_bool(&w, "acc", 1);
        if (with_norm) gq_pyjson_kv_bool(&w, "acc_norm", 1);
        gq_pyjson_end_object(&w);
    }
    gq_pyjson_end_object(&w);

    gq_pyjson_key(&w, "n-samples");
    gq_pyjson_begin_object(&w);
    for (size_t i = 0; i < n; i++) {
        gq_pyjson_key(&w, tasks[i].task->name);
        gq_pyjson_begin_object(&w);
        gq_pyjson_kv_int(&w, "original", tasks[i].n_original);
        gq_pyjson_kv_int(&w, "effective", tasks[i].n_effective);
        gq_pyjson_end_object(&w);
    }
    gq_pyjson_end_object(&w);

    // -- config (simple_evaluate + HFLM.get_model_info)
    if (run->model_args) {
        model_args = gq_strdup(run->model_args, err);
    } else {
        size_t ml = strlen(run->model_name) + 12;
        model_args = gq_malloc(ml, "model_args", err);
        if (model_args) snprintf(model_args, ml, "pretrained=%s", run->model_name);
    }
    sanitized = gq_report_sanitize_model_name(run->model_name, err);
    if (!model_args || !sanitized) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    gq_write_run_config(&w, run, model_args);

    gq_pyjson_kv_null(&w, "git_hash");
    gq_pyjson_kv_double(&w, "date", run->start_time);

    // -- add_env_info, add_tokenizer_info: our own values where lm-eval has its
    gq_pyjson_kv_string(&w, "pretty_env_info", run->env_info ? run->env_info : "gqla-eval " GQLA_VERSION);
    gq_pyjson_kv_null(&w, "transformers_version");
    gq_pyjson_kv_string(&w, "lm_eval_version", "gqla-eval " GQLA_VERSION);
    gq_pyjson_kv_null(&w, "upper_git_hash");
    gq_write_token(&w, "tokenizer_pad_token", run->pad_text, run->pad_id);
    gq_write_token(&w, "tokenizer_eos_token", run->eos_text, run->eos_id);
    gq_write_token(&w, "tokenizer_bos_token", run->bos_text, run->bos_id);
    gq_write_int_or_null(&w, "eot_token_id", run->eot_token_id);
    gq_write_int_or_null(&w, "max_length", run->max_length);

    // -- EvaluationTracker
    gq_pyjson_key(&w, "task_hashes");
    gq_pyjson_begin_object(&w);
    for (size_t i = 0; i < n; i++) {
        if (!tasks[i].task_hash) continue;
        gq_pyjson_kv_string(&w, tasks[i].task->name, tasks[i].task_hash);
    }
    gq_pyjson_end_object(&w);
    gq_pyjson_kv_string(&w, "model_source", "gqla-eval");
    gq_pyjson_kv_string(&w, "model_name", run->model_name);
    gq_pyjson_kv_string(&w, "model_name_sanitized", sanitized);
    gq_pyjson_kv_null(&w, "system_instruction");
    gq_pyjson_kv_null(&w, "system_instruction_sha");
    gq_pyjson_kv_bool(&w, "fewshot_as_multiturn", 0);
    gq_pyjson_kv_null(&w, "chat_template");
    gq_pyjson_kv_null(&w, "chat_template_sha");
    {
        char secs[32];
        gq_py_float_repr(run->total_seconds, secs);
        gq_pyjson_kv_string(&w, "total_evaluation_time_seconds", secs);
    }

    // -- ours
    gq_write_ours(&w, run, tasks, n);

    gq_pyjson_end_object(&w);
    rc = gq_pyjson_finish(&w, out, len, err);
    if (rc != GQ_OK) gq_error_prefix(err, "results.json: ");
    goto done;

fail:
    gq_pyjson_free(&w);
done:
    for (int g = 0; g < GQ_N_GROUPS; g++) gq_free(rows[g].leaves);
    gq_free(group_of);
    gq_free(named);
    gq_free(vals);
    gq_free(sizes);
    gq_free(ses);
    gq_free(sanitized);
    gq_free(model_args);
    return rc;
}

int gq_results_write(const char *path, const gq_report_run *run, const gq_task_result *tasks,
                     size_t n, gq_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = gq_results_render(run, tasks, n, &text, &len, err);
    if (rc == GQ_OK) rc = gq_report_write_file(path, text, len, err);
    gq_free(text);
    return rc;
}
