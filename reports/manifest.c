/* manifest.c — read DIR/gqla_run.json (the schema is in report.h) into a
 * gq_manifest, checking every key's type.  Messages name the file and the
 * key path, e.g. "out/gqla_run.json: key runs[1].tasks.piqa.acc: expected a
 * number in [0, 1] or null, got a string".
 *
 * Not here: any arithmetic on the numbers (report_tables.c). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fileio.h"
#include "gq_alloc.h"
#include "json_util.h"
#include "report.h"

typedef struct reader {
    const char *file;
    gq_error *err;
} reader;

static int bad_key(reader *r, const char *prefix, const char *name, const char *expected, const cJSON *got)
{
    char what[64];
    if (cJSON_IsNumber(got)) snprintf(what, sizeof what, "%.17g", got->valuedouble);
    else snprintf(what, sizeof what, "%s", got ? gq_json_kind(got) : "nothing (missing)");
    return gq_error_set(r->err, GQ_ERR_INVALID, "%s: key %s%s%s: expected %s, got %s", r->file, prefix,
                        prefix[0] ? "." : "", name, expected, what);
}

/* A string; missing or null gives NULL unless required. */
static int get_string(reader *r, const cJSON *obj, const char *prefix, const char *name, int required, char **out)
{
    *out = NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v || cJSON_IsNull(v)) {
        if (required) return bad_key(r, prefix, name, "a string", v);
        return GQ_OK;
    }
    if (!cJSON_IsString(v) || !v->valuestring) return bad_key(r, prefix, name, "a string", v);
    *out = gq_strdup(v->valuestring, r->err);
    return *out ? GQ_OK : GQ_ERR_NOMEM;
}

/* A number in [lo, hi]; missing or null gives NAN. */
static int get_number(reader *r, const cJSON *obj, const char *prefix, const char *name, double lo, double hi,
                      const char *expected, double *out)
{
    *out = NAN;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v || cJSON_IsNull(v)) return GQ_OK;
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi))
        return bad_key(r, prefix, name, expected, v);
    *out = v->valuedouble;
    return GQ_OK;
}

static int get_fraction(reader *r, const cJSON *obj, const char *prefix, const char *name, double *out)
{
    return get_number(r, obj, prefix, name, 0.0, 1.0, "a number in [0, 1] or null", out);
}

/* A whole number >= 0; missing or null gives -1. */
static int get_count(reader *r, const cJSON *obj, const char *prefix, const char *name, int64_t *out)
{
    *out = -1;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v || cJSON_IsNull(v)) return GQ_OK;
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0.0 && v->valuedouble <= 9.0e15) ||
        v->valuedouble != floor(v->valuedouble))
        return bad_key(r, prefix, name, "a whole number >= 0 or null", v);
    *out = (int64_t)v->valuedouble;
    return GQ_OK;
}

/* An object (or, when optional, missing/null: *out = NULL). */
static int get_object(reader *r, const cJSON *obj, const char *prefix, const char *name, int required,
                      const cJSON **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v)) return required ? bad_key(r, prefix, name, "an object", v) : GQ_OK;
    if (!cJSON_IsObject(v)) return bad_key(r, prefix, name, required ? "an object" : "an object or null", v);
    *out = v;
    return GQ_OK;
}

static size_t child_count(const cJSON *obj)
{
    size_t n = 0;
    for (const cJSON *c = obj ? obj->child : NULL; c; c = c->next) n++;
    return n;
}

// ---- parts ----------------------------------------------------------------------------

static int read_model(reader *r, const cJSON *models, const char *name, gq_manifest_model *m)
{
    const cJSON *o;
    int rc;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "models.%s", name);
    m->n_params = m->layers = m->H = m->G = m->head_dim = m->d_n = m->d_r = m->d_v = m->r = -1;
    if (!models) return GQ_OK;
    if ((rc = get_object(r, models, "models", name, 0, &o)) != GQ_OK || !o) return rc;
    m->present = 1;
    if ((rc = get_string(r, o, prefix, "path", 0, &m->path)) != GQ_OK) return rc;
    if ((rc = get_string(r, o, prefix, "arch", 0, &m->arch)) != GQ_OK) return rc;
    if ((rc = get_string(r, o, prefix, "dtype", 0, &m->dtype)) != GQ_OK) return rc;
    struct { const char *key; int64_t *dst; } ints[] = {
        {"n_params", &m->n_params}, {"layers", &m->layers}, {"H", &m->H}, {"G", &m->G},
        {"head_dim", &m->head_dim}, {"d_n", &m->d_n}, {"d_r", &m->d_r}, {"d_v", &m->d_v}, {"r", &m->r},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if ((rc = get_count(r, o, prefix, ints[i].key, ints[i].dst)) != GQ_OK) return rc;
    return GQ_OK;
}

static int read_task(reader *r, const cJSON *v, const char *prefix, gq_manifest_task *t)
{
    int rc;
    char where[320];
    snprintf(where, sizeof where, "%s.%s", prefix, v->string);
    if (!cJSON_IsObject(v)) return bad_key(r, prefix, v->string, "an object", v);
    if (!(t->name = gq_strdup(v->string, r->err))) return GQ_ERR_NOMEM;
    if ((rc = get_fraction(r, v, where, "acc", &t->acc)) != GQ_OK) return rc;
    if ((rc = get_fraction(r, v, where, "acc_norm", &t->acc_norm)) != GQ_OK) return rc;
    if ((rc = get_number(r, v, where, "acc_stderr", 0.0, 1.0, "a number in [0, 1] or null", &t->acc_stderr)))
        return rc;
    if ((rc = get_number(r, v, where, "acc_norm_stderr", 0.0, 1.0, "a number in [0, 1] or null",
                         &t->acc_norm_stderr)))
        return rc;
    return get_count(r, v, where, "n", &t->n);
}

static int read_run(reader *r, const cJSON *v, size_t index, gq_manifest_run *run)
{
    int rc;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "runs[%zu]", index);
    run->kv_elems = run->kv_layers = run->kv_elems_kpe_per_group = run->kv_elems_rank = -1;
    if (!cJSON_IsObject(v)) {
        return gq_error_set(r->err, GQ_ERR_INVALID, "%s: key %s: expected an object, got %s", r->file, prefix,
                            gq_json_kind(v));
    }
    if ((rc = get_string(r, v, prefix, "id", 1, &run->id)) != GQ_OK) return rc;
    if ((rc = get_string(r, v, prefix, "model", 1, &run->model)) != GQ_OK) return rc;
    if (strcmp(run->model, "original") && strcmp(run->model, "converted"))
        return gq_error_set(r->err, GQ_ERR_INVALID, "%s: key %s.model: expected \"original\" or \"converted\", got \"%s\"",
                            r->file, prefix, run->model);
    if ((rc = get_string(r, v, prefix, "path", 1, &run->path)) != GQ_OK) return rc;
    if ((rc = get_string(r, v, prefix, "results_file", 0, &run->results_file)) != GQ_OK) return rc;
    if ((rc = get_number(r, v, prefix, "seconds", 0.0, 1e300, "a number >= 0 or null", &run->seconds))) return rc;
    const cJSON *kv, *tasks;
    if ((rc = get_object(r, v, prefix, "kv_cache", 0, &kv)) != GQ_OK) return rc;
    if (kv) {
        char where[96];
        snprintf(where, sizeof where, "%s.kv_cache", prefix);
        if ((rc = get_count(r, kv, where, "elements_per_token_per_layer", &run->kv_elems)) != GQ_OK) return rc;
        if ((rc = get_count(r, kv, where, "layers", &run->kv_layers)) != GQ_OK) return rc;
        if ((rc = get_count(r, kv, where, "elements_kpe_per_group", &run->kv_elems_kpe_per_group)) != GQ_OK)
            return rc;
        if ((rc = get_count(r, kv, where, "elements_per_token_per_layer_largest_rank", &run->kv_elems_rank)) !=
            GQ_OK)
            return rc;
    }
    if ((rc = get_object(r, v, prefix, "tasks", 1, &tasks)) != GQ_OK) return rc;
    run->n_tasks = child_count(tasks);
    run->tasks = gq_calloc(run->n_tasks, sizeof *run->tasks, "manifest tasks", r->err);
    if (!run->tasks) return GQ_ERR_NOMEM;
    char where[96];
    snprintf(where, sizeof where, "%s.tasks", prefix);
    size_t i = 0;
    for (const cJSON *t = tasks->child; t; t = t->next, i++)
        if ((rc = read_task(r, t, where, &run->tasks[i])) != GQ_OK) return rc;
    return GQ_OK;
}

static int read_pair_task(reader *r, const cJSON *v, const char *prefix, gq_manifest_pair_task *t)
{
    int rc;
    char where[320];
    snprintf(where, sizeof where, "%s.%s", prefix, v->string);
    if (!cJSON_IsObject(v)) return bad_key(r, prefix, v->string, "an object", v);
    if (!(t->name = gq_strdup(v->string, r->err))) return GQ_ERR_NOMEM;
    if ((rc = get_count(r, v, where, "n_requests", &t->n_requests)) != GQ_OK) return rc;
    if ((rc = get_count(r, v, where, "n_docs", &t->n_docs)) != GQ_OK) return rc;
    if ((rc = get_number(r, v, where, "max_abs_dll", 0.0, INFINITY, "a number >= 0 or null", &t->max_abs_dll)))
        return rc;
    if ((rc = get_number(r, v, where, "mean_abs_dll", 0.0, INFINITY, "a number >= 0 or null", &t->mean_abs_dll)))
        return rc;
    if ((rc = get_fraction(r, v, where, "agreement", &t->agreement)) != GQ_OK) return rc;
    if ((rc = get_fraction(r, v, where, "acc_a", &t->acc_a)) != GQ_OK) return rc;
    if ((rc = get_fraction(r, v, where, "acc_b", &t->acc_b)) != GQ_OK) return rc;
    if ((rc = get_fraction(r, v, where, "acc_norm_a", &t->acc_norm_a)) != GQ_OK) return rc;
    if ((rc = get_fraction(r, v, where, "acc_norm_b", &t->acc_norm_b)) != GQ_OK) return rc;
    const cJSON *worst;
    t->worst_doc = t->worst_request = -1;
    if ((rc = get_object(r, v, where, "worst", 0, &worst)) != GQ_OK) return rc;
    if (worst) {
        char w2[340];
        snprintf(w2, sizeof w2, "%s.worst", where);
        if ((rc = get_count(r, worst, w2, "doc", &t->worst_doc)) != GQ_OK) return rc;
        if ((rc = get_count(r, worst, w2, "request", &t->worst_request)) != GQ_OK) return rc;
    }
    return GQ_OK;
}

static int read_pair(reader *r, const gq_manifest *m, const cJSON *v, size_t index, gq_manifest_pair *p)
{
    int rc;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "consistency[%zu]", index);
    if (!cJSON_IsObject(v))
        return gq_error_set(r->err, GQ_ERR_INVALID, "%s: key %s: expected an object, got %s", r->file, prefix,
                            gq_json_kind(v));
    if ((rc = get_string(r, v, prefix, "a", 1, &p->a)) != GQ_OK) return rc;
    if ((rc = get_string(r, v, prefix, "b", 1, &p->b)) != GQ_OK) return rc;
    if (!gq_manifest_find_run(m, p->a))
        return gq_error_set(r->err, GQ_ERR_INVALID, "%s: key %s.a: \"%s\" is not the id of a run in runs[]",
                            r->file, prefix, p->a);
    if (!gq_manifest_find_run(m, p->b))
        return gq_error_set(r->err, GQ_ERR_INVALID, "%s: key %s.b: \"%s\" is not the id of a run in runs[]",
                            r->file, prefix, p->b);
    const cJSON *tasks;
    if ((rc = get_object(r, v, prefix, "tasks", 1, &tasks)) != GQ_OK) return rc;
    p->n_tasks = child_count(tasks);
    p->tasks = gq_calloc(p->n_tasks, sizeof *p->tasks, "manifest consistency tasks", r->err);
    if (!p->tasks) return GQ_ERR_NOMEM;
    char where[96];
    snprintf(where, sizeof where, "%s.tasks", prefix);
    size_t i = 0;
    for (const cJSON *t = tasks->child; t; t = t->next, i++)
        if ((rc = read_pair_task(r, t, where, &p->tasks[i])) != GQ_OK) return rc;
    return GQ_OK;
}

// ---- the whole file -------------------------------------------------------------------

static int read_manifest(reader *r, const cJSON *root, gq_manifest *m)
{
    int rc;
    if (!cJSON_IsObject(root))
        return gq_error_set(r->err, GQ_ERR_INVALID, "%s: expected a JSON object at the top, got %s", r->file,
                            gq_json_kind(root));
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "gqla-run"))
        return gq_error_set(r->err, GQ_ERR_INVALID, "%s: key format: expected \"gqla-run\"%s", r->file,
                            fmt ? "" : ", got nothing (missing): is this a gqla-eval run manifest?");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsNumber(ver) || ver->valuedouble != 1.0)
        return gq_error_set(r->err, GQ_ERR_INVALID,
                            "%s: key version: expected 1 (this gqla-eval reads version 1 manifests)", r->file);
    if ((rc = get_string(r, root, "", "tool", 0, &m->tool)) != GQ_OK) return rc;
    if ((rc = get_string(r, root, "", "command", 0, &m->command)) != GQ_OK) return rc;
    if ((rc = get_string(r, root, "", "note", 0, &m->note)) != GQ_OK) return rc;
    if ((rc = get_number(r, root, "", "started_unix", -1e300, 1e300, "a number or null", &m->started_unix)))
        return rc;
    if ((rc = get_number(r, root, "", "wall_seconds", 0.0, 1e300, "a number >= 0 or null", &m->wall_seconds)))
        return rc;
    if ((rc = get_count(r, root, "", "peak_rss_bytes", &m->peak_rss_bytes)) != GQ_OK) return rc;
    if ((rc = get_count(r, root, "", "invocations", &m->invocations)) != GQ_OK) return rc;
    const cJSON *untimed = cJSON_GetObjectItemCaseSensitive(root, "earlier_untimed");
    if (untimed && !cJSON_IsNull(untimed) && !cJSON_IsBool(untimed))
        return bad_key(r, "", "earlier_untimed", "a boolean", untimed);
    m->earlier_untimed = cJSON_IsTrue(untimed);
    if ((rc = get_count(r, root, "", "limit", &m->limit)) != GQ_OK) return rc;
    if ((rc = get_count(r, root, "", "num_fewshot", &m->num_fewshot)) != GQ_OK) return rc;
    const cJSON *split = cJSON_GetObjectItemCaseSensitive(root, "arc_split");
    if (split && !cJSON_IsNull(split) && !cJSON_IsBool(split)) return bad_key(r, "", "arc_split", "a boolean", split);
    m->arc_split = cJSON_IsTrue(split);

    const cJSON *par;
    m->world_size = m->data_parallel = m->tp = m->merged_shards = -1;
    if ((rc = get_object(r, root, "", "parallel", 0, &par)) != GQ_OK) return rc;
    if (par) {
        if ((rc = get_count(r, par, "parallel.", "world_size", &m->world_size)) != GQ_OK) return rc;
        if ((rc = get_count(r, par, "parallel.", "data_parallel", &m->data_parallel)) != GQ_OK) return rc;
        if ((rc = get_count(r, par, "parallel.", "tp", &m->tp)) != GQ_OK) return rc;
        if ((rc = get_count(r, par, "parallel.", "merged_shards", &m->merged_shards)) != GQ_OK) return rc;
        if ((rc = get_string(r, par, "parallel.", "shard", 0, &m->shard)) != GQ_OK) return rc;
    }

    const cJSON *models;
    if ((rc = get_object(r, root, "", "models", 0, &models)) != GQ_OK) return rc;
    if ((rc = read_model(r, models, "original", &m->original)) != GQ_OK) return rc;
    if ((rc = read_model(r, models, "converted", &m->converted)) != GQ_OK) return rc;

    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(root, "runs");
    if (!cJSON_IsArray(runs)) return bad_key(r, "", "runs", "an array", runs);
    m->n_runs = (size_t)cJSON_GetArraySize(runs);
    if (m->n_runs == 0)
        return gq_error_set(r->err, GQ_ERR_INVALID, "%s: key runs: expected at least one run, got []", r->file);
    m->runs = gq_calloc(m->n_runs, sizeof *m->runs, "manifest runs", r->err);
    if (!m->runs) return GQ_ERR_NOMEM;
    size_t i = 0;
    for (const cJSON *v = runs->child; v; v = v->next, i++) {
        if ((rc = read_run(r, v, i, &m->runs[i])) != GQ_OK) return rc;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(m->runs[j].id, m->runs[i].id))
                return gq_error_set(r->err, GQ_ERR_INVALID, "%s: key runs[%zu].id: \"%s\" repeats runs[%zu].id",
                                    r->file, i, m->runs[i].id, j);
    }

    const cJSON *pairs = cJSON_GetObjectItemCaseSensitive(root, "consistency");
    if (pairs && !cJSON_IsNull(pairs)) {
        if (!cJSON_IsArray(pairs)) return bad_key(r, "", "consistency", "an array or null", pairs);
        m->n_pairs = (size_t)cJSON_GetArraySize(pairs);
        m->pairs = gq_calloc(m->n_pairs, sizeof *m->pairs, "manifest consistency", r->err);
        if (!m->pairs) return GQ_ERR_NOMEM;
        i = 0;
        for (const cJSON *v = pairs->child; v; v = v->next, i++)
            if ((rc = read_pair(r, m, v, i, &m->pairs[i])) != GQ_OK) return rc;
    }
    return GQ_OK;
}

int gq_manifest_parse(gq_manifest **out, const char *text, size_t len, const char *file, gq_error *err)
{
    *out = NULL;
    cJSON *root = NULL;
    int rc = gq_json_parse(&root, text, len, file, err);
    if (rc != GQ_OK) return rc;
    gq_manifest *m = gq_calloc(1, sizeof *m, "manifest", err);
    if (!m) {
        cJSON_Delete(root);
        return GQ_ERR_NOMEM;
    }
    reader r = {file, err};
    if (!(m->file = gq_strdup(file, err))) rc = GQ_ERR_NOMEM;
    else rc = read_manifest(&r, root, m);
    cJSON_Delete(root);
    if (rc != GQ_OK) {
        gq_manifest_free(m);
        return rc;
    }
    *out = m;
    return GQ_OK;
}

int gq_manifest_load(gq_manifest **out, const char *dir, gq_error *err)
{
    *out = NULL;
    char *path = gq_path_join(dir, "gqla_run.json", err);
    if (!path) return GQ_ERR_NOMEM;
    char *text = NULL;
    size_t len = 0;
    int rc;
    if (!gq_path_exists(path)) {
        rc = gq_error_set(err, GQ_ERR_IO, "%s: no such file: is %s an output folder of a gqla-eval run?", path, dir);
    } else if ((rc = gq_file_read_all(path, &text, &len, err)) == GQ_OK) {
        rc = gq_manifest_parse(out, text, len, path, err);
    }
    gq_free(text);
    gq_free(path);
    return rc;
}

static void free_model(gq_manifest_model *m)
{
    gq_free(m->path);
    gq_free(m->arch);
    gq_free(m->dtype);
}

void gq_manifest_free(gq_manifest *m)
{
    if (!m) return;
    for (size_t i = 0; m->runs && i < m->n_runs; i++) {
        gq_manifest_run *run = &m->runs[i];
        gq_free(run->id);
        gq_free(run->model);
        gq_free(run->path);
        gq_free(run->results_file);
        for (size_t t = 0; run->tasks && t < run->n_tasks; t++) gq_free(run->tasks[t].name);
        gq_free(run->tasks);
    }
    gq_free(m->runs);
    for (size_t i = 0; m->pairs && i < m->n_pairs; i++) {
        gq_free(m->pairs[i].a);
        gq_free(m->pairs[i].b);
        for (size_t t = 0; m->pairs[i].tasks && t < m->pairs[i].n_tasks; t++) gq_free(m->pairs[i].tasks[t].name);
        gq_free(m->pairs[i].tasks);
    }
    gq_free(m->pairs);
    free_model(&m->original);
    free_model(&m->converted);
    gq_free(m->shard);
    gq_free(m->file);
    gq_free(m->tool);
    gq_free(m->command);
    gq_free(m->note);
    gq_free(m);
}

const gq_manifest_run *gq_manifest_find_run(const gq_manifest *m, const char *id)
{
    for (size_t i = 0; i < m->n_runs; i++)
        if (m->runs[i].id && !strcmp(m->runs[i].id, id)) return &m->runs[i];
    return NULL;
}

const gq_manifest_task *gq_manifest_find_task(const gq_manifest_run *run, const char *name)
{
    for (size_t i = 0; i < run->n_tasks; i++)
        if (!strcmp(run->tasks[i].name, name)) return &run->tasks[i];
    return NULL;
}
