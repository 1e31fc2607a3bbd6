/* eval_manifest.c — writing DIR/gqla_run.json (eval_manifest.h). */
#include "eval_manifest.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fileio.h"
#include "gq_alloc.h"
#include "eval_output.h"
#include "results.h"
#include "tp.h"

/* A number, or null for NaN / infinity. */
static void add_num(cJSON *o, const char *key, double v)
{
    if (isfinite(v)) cJSON_AddNumberToObject(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

static void add_str(cJSON *o, const char *key, const char *s)
{
    if (s) cJSON_AddStringToObject(o, key, s);
    else cJSON_AddNullToObject(o, key);
}

static cJSON *model_json(const gq_eval_model *em)
{
    const gq_config *c = gq_model_config(em->info);
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    add_str(o, "path", em->path);
    add_str(o, "arch", gq_arch_name(c->arch));
    char dtype[32];
    snprintf(dtype, sizeof dtype, "%s", gq_eval_model_dtype(em->info));
    for (char *c = dtype; *c; c++)
        if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a'); /* "q4_1", as the contract spells it */
    add_str(o, "dtype", dtype);
    add_num(o, "n_params", (double)gq_eval_model_params(em->info));
    add_num(o, "layers", (double)c->num_hidden_layers);
    add_num(o, "H", (double)c->num_attention_heads);
    add_num(o, "G", (double)c->num_key_value_heads);
    if (c->kv_lora_rank > 0) {
        add_num(o, "d_n", (double)c->qk_nope_head_dim);
        add_num(o, "d_r", (double)c->qk_rope_head_dim);
        add_num(o, "d_v", (double)c->v_head_dim);
        add_num(o, "r", (double)c->kv_lora_rank);
    } else {
        add_num(o, "head_dim", (double)c->head_dim);
    }
    return o;
}

static cJSON *metrics_json(double acc, double acc_se, int has_norm, double norm, double norm_se, size_t n)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    add_num(o, "acc", acc);
    add_num(o, "acc_stderr", acc_se);
    add_num(o, "acc_norm", has_norm ? norm : NAN);
    add_num(o, "acc_norm_stderr", has_norm ? norm_se : NAN);
    add_num(o, "n", (double)n);
    return o;
}

static int is_mmlu_subject(const gq_prepared_task *t) { return !strncmp(t->task->name, "mmlu_", 5); }

static cJSON *run_json(const gq_manifest_info *mi, const gq_eval_run *r)
{
    const gq_config *c = gq_model_config(r->model->info);
    cJSON *o = cJSON_CreateObject(), *kv, *tasks;
    if (!o) return NULL;
    char file[96];
    snprintf(file, sizeof file, "results_%s.json", r->id);
    add_str(o, "id", r->id);
    add_str(o, "model", r->role);
    add_str(o, "path", gq_path_name(r->path));
    add_str(o, "results_file", file);
    add_num(o, "seconds", r->seconds);
    if (!(kv = cJSON_AddObjectToObject(o, "kv_cache"))) goto fail;
    add_num(kv, "elements_per_token_per_layer", (double)gq_config_path_cache_elems(c, r->path));
    add_num(kv, "layers", (double)c->num_hidden_layers);
    if (r->path == GQ_PATH_GQA)
        add_num(kv, "elements_kpe_per_group", (double)gq_config_path_cache_elems(c, GQ_PATH_EXPANDED));
    if (mi->parallel.tp > 1) { /* the rank holding the most groups (an uneven split) */
        int64_t largest = 0;
        for (int rank = 0; rank < mi->parallel.tp; rank++) {
            int64_t e = gq_tp_cache_elems(c, r->path, rank, mi->parallel.tp);
            if (e > largest) largest = e;
        }
        add_num(kv, "elements_per_token_per_layer_largest_rank", (double)largest);
    }
    if (!(tasks = cJSON_AddObjectToObject(o, "tasks"))) goto fail;
    /* MMLU group: size-weighted over the subjects that ran (tasks.md §2.8) */
    double *v = gq_calloc(mi->n_tasks + 1, sizeof *v, "mmlu", NULL), *se = gq_calloc(mi->n_tasks + 1, sizeof *se, "mmlu", NULL),
           *n = gq_calloc(mi->n_tasks + 1, sizeof *n, "mmlu", NULL);
    size_t k = 0;
    double total = 0;
    int ok = v && se && n;
    for (size_t i = 0; i < mi->n_tasks && ok; i++) {
        const gq_prepared_task *t = &mi->tasks[i];
        const gq_task_scores *s = &r->scores[i];
        cJSON *m = metrics_json(s->acc_mean, s->acc_stderr, t->task->has_acc_norm, s->acc_norm_mean,
                                s->acc_norm_stderr, t->n_docs);
        if (!m) ok = 0;
        else cJSON_AddItemToObject(tasks, t->task->name, m);
        if (is_mmlu_subject(t)) {
            v[k] = s->acc_mean;
            se[k] = s->acc_stderr;
            n[k] = (double)t->n_docs;
            total += n[k++];
        }
    }
    if (ok && k > 0) {
        cJSON *m = metrics_json(gq_group_mean(v, n, k, 1), gq_group_stderr(se, n, k, 1), 0, 0, 0, (size_t)total);
        if (!m) ok = 0;
        else cJSON_AddItemToObject(tasks, "mmlu", m);
    }
    gq_free(v);
    gq_free(se);
    gq_free(n);
    if (ok) return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

static cJSON *pair_json(const gq_manifest_info *mi, const gq_eval_run *a, const gq_eval_run *b)
{
    cJSON *o = cJSON_CreateObject(), *tasks;
    if (!o) return NULL;
    add_str(o, "a", a->id);
    add_str(o, "b", b->id);
    if (!(tasks = cJSON_AddObjectToObject(o, "tasks"))) goto fail;
    for (size_t i = 0; i < mi->n_tasks; i++) {
        const gq_prepared_task *t = &mi->tasks[i];
        gq_path_check c;
        gq_path_check_compute(t, &a->scores[i], &b->scores[i], &c);
        cJSON *e = cJSON_AddObjectToObject(tasks, t->task->name), *w;
        if (!e) goto fail;
        add_num(e, "n_requests", (double)t->n_req);
        add_num(e, "n_docs", (double)t->n_docs);
        add_num(e, "max_abs_dll", t->n_req ? c.max_abs_diff : NAN);
        add_num(e, "mean_abs_dll", t->n_req ? c.mean_abs_diff : NAN);
        add_num(e, "agreement", c.agree);
        add_num(e, "acc_a", c.acc[0]);
        add_num(e, "acc_b", c.acc[1]);
        add_num(e, "acc_norm_a", t->task->has_acc_norm ? c.acc_norm[0] : NAN);
        add_num(e, "acc_norm_b", t->task->has_acc_norm ? c.acc_norm[1] : NAN);
        if (!(w = cJSON_AddObjectToObject(e, "worst"))) goto fail;
        if (t->n_req) {
            add_num(w, "doc", (double)t->docs[c.worst_doc].doc_id);
            add_num(w, "request", (double)c.worst_req);
        } else {
            cJSON_AddNullToObject(w, "doc");
            cJSON_AddNullToObject(w, "request");
        }
    }
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

int gq_eval_write_manifest(const char *dir, const gq_manifest_info *mi, gq_error *err)
{
    int rc = GQ_ERR_NOMEM;
    char *path = NULL, tool[64];
    cJSON *root = cJSON_CreateObject(), *models, *runs, *pairs;
    if (!root) goto fail;
    snprintf(tool, sizeof tool, "gqla-eval %s", GQLA_VERSION);
    add_str(root, "format", "gqla-run");
    add_num(root, "version", 1);
    add_str(root, "tool", tool);
    add_str(root, "command", mi->command);
    add_str(root, "note", mi->note);
    add_num(root, "started_unix", mi->started_unix);
    add_num(root, "wall_seconds", mi->wall_seconds);
    add_num(root, "peak_rss_bytes", mi->peak_rss_bytes >= 0 ? (double)mi->peak_rss_bytes : NAN);
    add_num(root, "invocations", mi->invocations);
    cJSON_AddBoolToObject(root, "earlier_untimed", mi->earlier_untimed);
    add_num(root, "limit", mi->o->limit > 0 ? (double)mi->o->limit : NAN);
    add_num(root, "num_fewshot", mi->o->num_fewshot);
    cJSON_AddBoolToObject(root, "arc_split", mi->arc_split);
    add_str(root, "device", mi->o->device ? mi->o->device : "cpu"); /* where the forward passes ran */
    cJSON *par = cJSON_AddObjectToObject(root, "parallel");
    if (!par) goto fail;
    const gq_parallel_layout *pl = &mi->parallel;
    add_num(par, "world_size", pl->world_size > 0 ? pl->world_size : 1);
    add_num(par, "data_parallel", pl->data_parallel > 0 ? pl->data_parallel : 1);
    add_num(par, "tp", pl->tp > 0 ? pl->tp : 1);
    if (pl->shard_n > 0) {
        char shard[32];
        snprintf(shard, sizeof shard, "%d/%d", pl->shard_k, pl->shard_n);
        add_str(par, "shard", shard);
    } else {
        add_str(par, "shard", NULL);
    }
    add_num(par, "merged_shards", pl->merged_shards);
    if (!(models = cJSON_AddObjectToObject(root, "models"))) goto fail;
    const gq_eval_model *ms[2] = {mi->original, mi->converted};
    const char *names[2] = {"original", "converted"};
    for (int i = 0; i < 2; i++) {
        if (!ms[i]) continue;
        cJSON *m = model_json(ms[i]);
        if (!m) goto fail;
        cJSON_AddItemToObject(models, names[i], m);
    }
    if (!(runs = cJSON_AddArrayToObject(root, "runs"))) goto fail;
    for (size_t i = 0; i < mi->n_runs; i++) {
        cJSON *r = run_json(mi, &mi->runs[i]);
        if (!r) goto fail;
        cJSON_AddItemToArray(runs, r);
    }
    if (!(pairs = cJSON_AddArrayToObject(root, "consistency"))) goto fail;
    for (size_t i = 0; i < mi->n_runs; i++)
        for (size_t j = i + 1; j < mi->n_runs; j++) {
            const gq_eval_run *a = &mi->runs[i], *b = &mi->runs[j];
            if (a->model != b->model || a->path == b->path) continue;
            cJSON *p = pair_json(mi, a, b);
            if (!p) goto fail;
            cJSON_AddItemToArray(pairs, p);
        }
    if (!(path = gq_path_join(dir, "gqla_run.json", err))) goto fail;
    rc = gq_report_write_json(path, root, "manifest", err);
    goto done;
fail:
    gq_error_set(err, GQ_ERR_NOMEM, "%s/gqla_run.json: out of memory building the manifest", dir);
done:
    cJSON_Delete(root);
    gq_free(path);
    return rc;
}
