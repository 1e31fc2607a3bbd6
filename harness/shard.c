/* shard.c — the shard record DIR/gqla_shard.json and the checks that a set
 * of them is one whole run (shard.h).  The merge of their journals is in
 * shard_merge.c.  Tests: tests/test_main_shard.c. */
#define _POSIX_C_SOURCE 200809L
#include "shard.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "fileio.h"
#include "gq_alloc.h"
#include "journal.h"
#include "json_util.h"
#include "results.h"

#define SHARD_FORMAT "gqla-shard"
#define SHARD_VERSION 1

void gq_shard_record_free(gq_shard_record *r)
{
    if (!r) return;
    for (int i = 0; i < r->argc; i++) gq_free(r->argv[i]);
    gq_free(r->argv);
    gq_free(r->identity[0]);
    gq_free(r->identity[1]);
    gq_free(r->data);
    gq_free(r->journals);
    gq_free(r->dir);
    memset(r, 0, sizeof *r);
}

int gq_shard_is_local_option(const char *arg) { return !strcmp(arg, "--shard") || !strcmp(arg, "--output-dir"); }

static void key_hex(const unsigned char key[32], char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[key[i] >> 4];
        hex[2 * i + 1] = digits[key[i] & 15];
    }
    hex[64] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* 0 when hex is exactly 64 lowercase hex digits. */
static int key_parse(const char *hex, unsigned char key[32])
{
    if (strlen(hex) != 64) return -1;
    for (int i = 0; i < 32; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        key[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

// ---- building and writing -------------------------------------------------------------------

int gq_shard_record_build(gq_shard_record *r, const char *dir, int k, int n, int argc, char **argv,
                          const gq_eval_model *orig, const gq_eval_model *conv, const gq_eval_opts *o,
                          const gq_eval_run *runs, size_t n_runs, const gq_prepared_task *tasks, size_t n_tasks,
                          gq_error *err)
{
    memset(r, 0, sizeof *r);
    r->k = k;
    r->n = n;
    if (!(r->dir = gq_strdup(dir, err))) return GQ_ERR_NOMEM;
    if (!(r->argv = gq_calloc(argc > 0 ? (size_t)argc : 1, sizeof *r->argv, "shard command", err)))
        return GQ_ERR_NOMEM;
    for (int i = 0; i < argc; i++) {
        if (gq_shard_is_local_option(argv[i]) && i + 1 < argc) {
            i++; /* and its value */
            continue;
        }
        if (!(r->argv[r->argc++] = gq_strdup(argv[i], err))) return GQ_ERR_NOMEM;
    }
    if (!(r->identity[0] = gq_strdup(orig->identity, err))) return GQ_ERR_NOMEM;
    if (conv && !(r->identity[1] = gq_strdup(conv->identity, err))) return GQ_ERR_NOMEM;
    if (!(r->data = gq_strdup(o->data.data_dir ? o->data.data_dir : "datasets-server", err))) return GQ_ERR_NOMEM;
    size_t nj = n_runs * n_tasks;
    if (!(r->journals = gq_calloc(nj ? nj : 1, sizeof *r->journals, "shard journals", err))) return GQ_ERR_NOMEM;
    for (size_t ri = 0; ri < n_runs; ri++)
        for (size_t t = 0; t < n_tasks; t++) {
            gq_shard_journal *j = &r->journals[r->n_journals++];
            snprintf(j->run, sizeof j->run, "%s", runs[ri].id);
            snprintf(j->task, sizeof j->task, "%s", tasks[t].task->name);
            j->n_req = tasks[t].n_req;
            gq_eval_task_key(&runs[ri], o, &tasks[t], j->key);
        }
    return GQ_OK;
}

int gq_shard_write(const gq_shard_record *r, gq_error *err)
{
    int rc = GQ_ERR_NOMEM;
    char *path = NULL, tool[64];
    cJSON *root = cJSON_CreateObject(), *cmd, *models, *journals;
    if (!root) goto fail;
    snprintf(tool, sizeof tool, "gqla-eval %s", GQLA_VERSION);
    if (!cJSON_AddStringToObject(root, "format", SHARD_FORMAT) || !cJSON_AddNumberToObject(root, "version", SHARD_VERSION) ||
        !cJSON_AddStringToObject(root, "tool", tool) || !cJSON_AddNumberToObject(root, "shard", r->k) ||
        !cJSON_AddNumberToObject(root, "of", r->n) || !(cmd = cJSON_AddArrayToObject(root, "command")))
        goto fail;
    for (int i = 0; i < r->argc; i++) {
        cJSON *s = cJSON_CreateString(r->argv[i]);
        if (!s) goto fail;
        cJSON_AddItemToArray(cmd, s);
    }
    if (!(models = cJSON_AddObjectToObject(root, "models"))) goto fail;
    static const char *roles[2] = {"original", "converted"};
    for (int i = 0; i < 2; i++)
        if (!(r->identity[i] ? cJSON_AddStringToObject(models, roles[i], r->identity[i])
                             : cJSON_AddNullToObject(models, roles[i])))
            goto fail;
    if (!cJSON_AddStringToObject(root, "data", r->data) || !(journals = cJSON_AddArrayToObject(root, "journals")))
        goto fail;
    for (size_t i = 0; i < r->n_journals; i++) {
        const gq_shard_journal *j = &r->journals[i];
        char hex[65];
        key_hex(j->key, hex);
        cJSON *e = cJSON_CreateObject();
        if (!e) goto fail;
        cJSON_AddItemToArray(journals, e);
        if (!cJSON_AddStringToObject(e, "run", j->run) || !cJSON_AddStringToObject(e, "task", j->task) ||
            !cJSON_AddNumberToObject(e, "requests", (double)j->n_req) || !cJSON_AddStringToObject(e, "key", hex))
            goto fail;
    }
    if (!(path = gq_path_join(r->dir, GQ_SHARD_FILE, err))) goto fail;
    rc = gq_report_write_json(path, root, "shard record", err);
    goto done;
fail:
    gq_error_set(err, GQ_ERR_NOMEM, "%s/" GQ_SHARD_FILE ": out of memory building the shard record", r->dir);
done:
    cJSON_Delete(root);
    gq_free(path);
    return rc;
}

// ---- reading -----------------------------------------------------------------------------------

static int bad_key(const char *path, const char *key, const char *expected, const cJSON *found, gq_error *err)
{
    return gq_error_set(err, GQ_ERR_INVALID, "%s: key %s: expected %s, found %s", path, key, expected,
                        found ? gq_json_kind(found) : "nothing");
}

/* A whole number in [lo, hi] at o[key]. */
static int read_count(const cJSON *o, const char *key, double lo, double hi, const char *path, double *out,
                      gq_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi || v->valuedouble != (double)(int64_t)v->valuedouble) {
        char want[96];
        snprintf(want, sizeof want, "a whole number in [%.0f, %.0f]", lo, hi);
        return bad_key(path, key, want, v, err);
    }
    *out = v->valuedouble;
    return GQ_OK;
}

static int read_record(gq_shard_record *r, const cJSON *root, const char *path, gq_error *err)
{
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, SHARD_FORMAT) != 0 || !cJSON_IsNumber(ver) ||
        ver->valuedouble != SHARD_VERSION)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: not a version %d \"" SHARD_FORMAT "\" file (keys format, version)",
                            path, SHARD_VERSION);
    double k = 0, n = 0;
    int rc;
    if ((rc = read_count(root, "of", 1, 1e6, path, &n, err)) != GQ_OK) return rc;
    if ((rc = read_count(root, "shard", 1, n, path, &k, err)) != GQ_OK) return rc;
    r->k = (int)k;
    r->n = (int)n;
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(root, "command"), *a;
    if (!cJSON_IsArray(cmd)) return bad_key(path, "command", "an array of strings", cmd, err);
    int argc = cJSON_GetArraySize(cmd);
    if (!(r->argv = gq_calloc(argc > 0 ? (size_t)argc : 1, sizeof *r->argv, "shard command", err))) return GQ_ERR_NOMEM;
    cJSON_ArrayForEach(a, cmd)
    {
        if (!cJSON_IsString(a)) return bad_key(path, "command", "an array of strings", a, err);
        if (!(r->argv[r->argc++] = gq_strdup(a->valuestring, err))) return GQ_ERR_NOMEM;
    }
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(root, "models");
    if (!cJSON_IsObject(models)) return bad_key(path, "models", "an object", models, err);
    static const char *roles[2] = {"original", "converted"};
    for (int i = 0; i < 2; i++) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(models, roles[i]);
        char key[32];
        snprintf(key, sizeof key, "models.%s", roles[i]);
        if (cJSON_IsString(m)) {
            if (!(r->identity[i] = gq_strdup(m->valuestring, err))) return GQ_ERR_NOMEM;
        } else if (i == 0 || !cJSON_IsNull(m)) {
            return bad_key(path, key, i == 0 ? "a string" : "a string or null", m, err);
        }
    }
    const char *data = gq_json_str(root, "data");
    if (!data) return bad_key(path, "data", "a string", cJSON_GetObjectItemCaseSensitive(root, "data"), err);
    if (!(r->data = gq_strdup(data, err))) return GQ_ERR_NOMEM;
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(root, "journals"), *e;
    if (!cJSON_IsArray(js)) return bad_key(path, "journals", "an array", js, err);
    int nj = cJSON_GetArraySize(js);
    if (!(r->journals = gq_calloc(nj > 0 ? (size_t)nj : 1, sizeof *r->journals, "shard journals", err))) return GQ_ERR_NOMEM;
    cJSON_ArrayForEach(e, js)
    {
        gq_shard_journal *j = &r->journals[r->n_journals];
        char where[48];
        snprintf(where, sizeof where, "journals[%zu]", r->n_journals);
        const char *run = gq_json_str(e, "run"), *task = gq_json_str(e, "task"), *key = gq_json_str(e, "key");
        double n_req = 0;
        if (!run || !task || strlen(run) >= sizeof j->run || strlen(task) >= sizeof j->task || strchr(run, '/') ||
            strchr(task, '/') || !run[0] || !task[0])
            return gq_error_set(err, GQ_ERR_INVALID, "%s: key %s: expected \"run\" and \"task\" names (no '/')", path,
                                where);
        if (!key || key_parse(key, j->key) != 0)
            return gq_error_set(err, GQ_ERR_INVALID, "%s: key %s.key: expected 64 lowercase hex digits", path, where);
        if ((rc = read_count(e, "requests", 0, 1e15, path, &n_req, err)) != GQ_OK) {
            gq_error_prefix(err, "%s: ", where);
            return rc;
        }
        snprintf(j->run, sizeof j->run, "%s", run);
        snprintf(j->task, sizeof j->task, "%s", task);
        j->n_req = (uint64_t)n_req;
        r->n_journals++;
    }
    return GQ_OK;
}

int gq_shard_read(gq_shard_record *r, const char *dir, gq_error *err)
{
    memset(r, 0, sizeof *r);
    if (!(r->dir = gq_strdup(dir, err))) return GQ_ERR_NOMEM;
    char *path = gq_path_join(dir, GQ_SHARD_FILE, err);
    if (!path) return GQ_ERR_NOMEM;
    cJSON *root = NULL;
    int rc = GQ_OK;
    if (!gq_path_exists(path))
        rc = gq_error_set(err, GQ_ERR_IO, "%s: no " GQ_SHARD_FILE " in this folder: it holds no finished shard\n"
                          "---> HINT: run its `gqla-eval ... --shard K/N --output-dir %s` job (again) to the end",
                          dir, dir);
    if (rc == GQ_OK) rc = gq_json_load_file(&root, path, err);
    if (rc == GQ_OK) rc = read_record(r, root, path, err);
    cJSON_Delete(root);
    gq_free(path);
    return rc;
}

// ---- comparing ---------------------------------------------------------------------------------

/* The first difference between a (called la) and b (lb) other than the
 * shard number and the folder, as an error; GQ_OK when none. */
static int compare(const gq_shard_record *a, const char *la, const gq_shard_record *b, const char *lb,
                   gq_error *err)
{
    static const char hint[] = "\n---> HINT: merge only the shards of one command; rerun the odd shard with the "
                               "others' command";
    if (a->n != b->n)
        return gq_error_set(err, GQ_ERR_INVALID, "the number of shards differs: %s is one of %d, %s one of %d%s", la,
                            a->n, lb, b->n, hint);
    for (int i = 0; i < a->argc || i < b->argc; i++) {
        const char *x = i < a->argc ? a->argv[i] : "(end of command)", *y = i < b->argc ? b->argv[i] : "(end of command)";
        if (strcmp(x, y) != 0)
            return gq_error_set(err, GQ_ERR_INVALID, "the command differs at argument %d: '%.200s' in %s, '%.200s' in %s%s",
                                i + 1, x, la, y, lb, hint);
    }
    static const char *roles[2] = {"original", "converted"};
    for (int i = 0; i < 2; i++) {
        const char *x = a->identity[i] ? a->identity[i] : "(none)", *y = b->identity[i] ? b->identity[i] : "(none)";
        if (strcmp(x, y) != 0)
            return gq_error_set(err, GQ_ERR_INVALID,
                                "the %s model differs (its identity is the path, size:mtime of its files): '%.300s' "
                                "in %s, '%.300s' in %s\n---> HINT: the model files changed between the two; rerun "
                                "the shards on one copy of the model",
                                roles[i], x, la, y, lb);
    }
    if (strcmp(a->data, b->data) != 0)
        return gq_error_set(err, GQ_ERR_INVALID, "the data differs: '%.300s' in %s, '%.300s' in %s", a->data, la,
                            b->data, lb);
    if (a->n_journals != b->n_journals)
        return gq_error_set(err, GQ_ERR_INVALID, "the journals differ: %zu (run, task) journals in %s, %zu in %s",
                            a->n_journals, la, b->n_journals, lb);
    for (size_t i = 0; i < a->n_journals; i++) {
        const gq_shard_journal *x = &a->journals[i], *y = &b->journals[i];
        if (strcmp(x->run, y->run) != 0 || strcmp(x->task, y->task) != 0)
            return gq_error_set(err, GQ_ERR_INVALID, "journal %zu differs: %s/%s in %s, %s/%s in %s", i + 1, x->run,
                                x->task, la, y->run, y->task, lb);
        if (x->n_req != y->n_req || memcmp(x->key, y->key, 32) != 0) {
            char hx[65], hy[65];
            key_hex(x->key, hx);
            key_hex(y->key, hy);
            return gq_error_set(err, GQ_ERR_INVALID,
                                "the requests of %s/%s differ (%llu requests, key %.16s... in %s; %llu requests, key "
                                "%.16s... in %s)\n---> HINT: the data or the tokenizer changed between the two",
                                x->run, x->task, (unsigned long long)x->n_req, hx, la, (unsigned long long)y->n_req,
                                hy, lb);
        }
    }
    return GQ_OK;
}

static void label(char *buf, size_t n, const gq_shard_record *r)
{
    snprintf(buf, n, "shard %d of %d (%.400s)", r->k, r->n, r->dir);
}

int gq_shard_check_set(const gq_shard_record *recs, size_t n, gq_error *err)
{
    if (n == 0) return gq_error_set(err, GQ_ERR_USAGE, "no shard folders given");
    char la[512], lb[512];
    label(la, sizeof la, &recs[0]);
    for (size_t i = 1; i < n; i++) {
        label(lb, sizeof lb, &recs[i]);
        int rc = compare(&recs[0], la, &recs[i], lb, err);
        if (rc != GQ_OK) return rc;
    }
    int total = recs[0].n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (recs[i].k == recs[j].k)
                return gq_error_set(err, GQ_ERR_INVALID, "shard %d of %d is given twice: %s and %s", recs[i].k, total,
                                    recs[i].dir, recs[j].dir);
    if ((long)n == total) return GQ_OK; /* n distinct shards in 1..total */
    /* "shard 3 of 4 is missing (have 1, 2, 4)" */
    char have[512] = "", missing[512] = "";
    size_t hl = 0, ml = 0;
    int n_missing = 0;
    for (int k = 1; k <= total; k++) {
        int got = 0;
        for (size_t i = 0; i < n && !got; i++) got = recs[i].k == k;
        char *buf = got ? have : missing;
        size_t *len = got ? &hl : &ml;
        if (!got) n_missing++;
        if (*len < sizeof have - 16) *len += (size_t)snprintf(buf + *len, sizeof have - *len, "%s%d", *len ? ", " : "", k);
        else if (*len < sizeof have - 4) *len += (size_t)snprintf(buf + *len, sizeof have - *len, ", ...");
    }
    return gq_error_set(err, GQ_ERR_INVALID, "shard%s %s of %d %s missing (have %s)", n_missing > 1 ? "s" : "",
                        missing, total, n_missing > 1 ? "are" : "is", have);
}

int gq_shard_compare_now(const gq_shard_record *shard, const gq_shard_record *now, gq_error *err)
{
    char la[512];
    label(la, sizeof la, shard);
    gq_shard_record cur = *now;
    cur.n = shard->n; /* `now` is no shard of its own */
    return compare(shard, la, &cur, "the files as they are now", err);
}
