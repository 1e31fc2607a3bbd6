/* hub_model.c — which files a model needs, and resolving or fetching them.
 *
 * A safetensors model: config.json (required), the tokenizer files
 * (tokenizer.json, tokenizer_config.json, special_tokens_map.json,
 * generation_config.json: each where the repository has it), and the
 * weights: model.safetensors, else model.safetensors.index.json and every
 * shard its weight_map names.  A GGUF model (ORG/NAME:FILE.gguf): that file.
 *
 * Online, every file is asked for by HEAD (the first answer fixes the
 * commit; the rest are asked for at that commit, so one snapshot never
 * mixes two), downloaded unless its blob is there, and linked; then
 * refs/REVISION is written.  A revision that is a commit already in the
 * cache is used without a request, as huggingface_hub does.  When the Hub
 * cannot be reached but the cache holds the revision, the cache is used
 * with a warning.  Offline, only the cache is read, and a missing file is
 * named with the command that gets it.
 */
#define _XOPEN_SOURCE 700
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "gq_alloc.h"
#include "gq_http.h"
#include "hub_internal.h"

static const char *const tokenizer_files[] = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                              "generation_config.json"};

#define HUB_MAX_SHARDS 4096

/* The distinct shard names of a model.safetensors.index.json, checked as
 * relative paths (the names come from the server). */
typedef struct shard_list {
    char **name;
    size_t n;
} shard_list;

static void shards_free(shard_list *s)
{
    for (size_t i = 0; i < s->n; i++) gq_free(s->name[i]);
    gq_free(s->name);
    s->name = NULL;
    s->n = 0;
}

static int shards_read(const char *path, shard_list *s, gq_error *err)
{
    char *text = NULL;
    size_t len = 0;
    cJSON *j = NULL;
    memset(s, 0, sizeof *s);
    int rc = gq_file_read_all(path, &text, &len, err);
    if (rc != GQ_OK) return rc;
    j = cJSON_ParseWithLength(text, len);
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(j, "weight_map");
    if (!cJSON_IsObject(wm) || !wm->child) {
        rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: expected a JSON object with a non-empty 'weight_map'", path);
        goto out;
    }
    s->name = gq_malloc(sizeof *s->name * HUB_MAX_SHARDS, "shard names", err);
    if (!s->name) {
        rc = GQ_ERR_NOMEM;
        goto out;
    }
    for (const cJSON *e = wm->child; e; e = e->next) {
        if (!cJSON_IsString(e)) {
            rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: weight_map['%.100s'] is not a file name", path,
                              e->string ? e->string : "?");
            goto out;
        }
        size_t k = 0;
        while (k < s->n && strcmp(s->name[k], e->valuestring) != 0) k++;
        if (k < s->n) continue;
        if (hub_check_relpath(e->valuestring, "shard name in model.safetensors.index.json", err) != GQ_OK) {
            rc = GQ_ERR_FORMAT;
            goto out;
        }
        if (s->n >= HUB_MAX_SHARDS) {
            rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: more than %d shards", path, HUB_MAX_SHARDS);
            goto out;
        }
        size_t n = strlen(e->valuestring) + 1;
        if (!(s->name[s->n] = gq_malloc(n, "shard name", err))) {
            rc = GQ_ERR_NOMEM;
            goto out;
        }
        memcpy(s->name[s->n++], e->valuestring, n);
    }
    rc = GQ_OK;
out:
    if (rc != GQ_OK) shards_free(s);
    cJSON_Delete(j);
    gq_free(text);
    return rc;
}

// ---- the cache alone ------------------------------------------------------------------

/* 1 when snapshots/COMMIT holds everything the model needs; 0 with the
 * first missing file named in `missing`; <0 on a refused link or error. */
static int cache_complete(const hub_repo *r, const char *commit, char *missing, size_t cap, gq_error *err)
{
    char p[HUB_PATH_MAX];
    int rc;
    const char *need = r->ref.file[0] ? r->ref.file : "config.json";
    if ((rc = hub_cache_file(r, commit, need, p, sizeof p, err)) != 1) goto absent;
    if (r->ref.file[0]) return 1;
    /* The optional files are read too (by the tokenizer): present ones must stay inside the cache. */
    for (size_t i = 0; i < sizeof tokenizer_files / sizeof tokenizer_files[0]; i++)
        if ((rc = hub_cache_file(r, commit, tokenizer_files[i], p, sizeof p, err)) < 0) return rc;
    need = "model.safetensors";
    if ((rc = hub_cache_file(r, commit, need, p, sizeof p, err)) == 1) return 1;
    if (rc < 0) return rc;
    need = "model.safetensors.index.json";
    if ((rc = hub_cache_file(r, commit, need, p, sizeof p, err)) != 1) {
        if (rc == 0) need = "model.safetensors (or model.safetensors.index.json)";
        goto absent;
    }
    shard_list s;
    if ((rc = shards_read(p, &s, err)) != GQ_OK) return rc;
    for (size_t i = 0; i < s.n; i++) {
        rc = hub_cache_file(r, commit, s.name[i], p, sizeof p, err);
        if (rc != 1) {
            snprintf(missing, cap, "%s", s.name[i]);
            shards_free(&s);
            return rc;
        }
    }
    shards_free(&s);
    return 1;
absent:
    if (rc == 0) snprintf(missing, cap, "%s", need);
    return rc;
}

static char *snapshot_path(const hub_repo *r, const char *commit, gq_error *err)
{
    size_t n = strlen(r->dir) + strlen(commit) + strlen(r->ref.file) + 16;
    char *p = gq_malloc(n, "model path", err);
    if (!p) return NULL;
    if (r->ref.file[0]) snprintf(p, n, "%s/snapshots/%s/%s", r->dir, commit, r->ref.file);
    else snprintf(p, n, "%s/snapshots/%s", r->dir, commit);
    return p;
}

static void ref_text(const hub_repo *r, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s%s%s%s", r->ref.repo_id, strcmp(r->ref.revision, "main") ? "@" : "",
             strcmp(r->ref.revision, "main") ? r->ref.revision : "", r->ref.file[0] ? ":" : "", r->ref.file);
}

// ---- online -------------------------------------------------------------------------

/* One file at the snapshot's commit (commit[0] == '\0': ask by revision and
 * fix the commit from the answer).  HUB_ENTRY_MISSING for an optional file
 * the repository lacks. */
static int sync_file(hub_conn *c, const hub_repo *r, char commit[HUB_COMMIT_LEN + 1], const char *file, int optional,
                     gq_error *err)
{
    hub_meta m;
    char ref[1024];
    int rc = hub_head(c, r, commit[0] ? commit : r->ref.revision, file, &m, err);
    if (rc == HUB_ENTRY_MISSING) {
        if (optional) {
            if (commit[0]) hub_cache_mark_no_exist(r, commit, file, NULL); /* best effort, as huggingface_hub */
            return HUB_ENTRY_MISSING;
        }
        ref_text(r, ref, sizeof ref);
        return gq_error_set(err, GQ_ERR_NETWORK,
                            "%s: HTTP 404 from %s: the repository, revision '%s' or file %s does not exist "
                            "---> HINT: check the id on %s/%s (case matters)%s",
                            ref, c->endpoint, r->ref.revision, file, c->endpoint, r->ref.repo_id,
                            r->ref.file[0] ? "" : "; for a GGUF repository name the file: ORG/NAME:FILE.gguf");
    }
    if (rc != GQ_OK) return rc;
    if (!commit[0]) memcpy(commit, m.commit, HUB_COMMIT_LEN + 1);
    if ((rc = hub_get_blob(c, r, file, &m, err)) != GQ_OK) return rc;
    return hub_cache_link(r, commit, file, m.etag, err);
}

static int sync_model(hub_conn *c, const hub_repo *r, char commit[HUB_COMMIT_LEN + 1], gq_error *err)
{
    int rc;
    commit[0] = '\0';
    if (r->ref.file[0]) {
        rc = sync_file(c, r, commit, r->ref.file, 0, err);
    } else {
        rc = sync_file(c, r, commit, "config.json", 0, err);
        for (size_t i = 0; rc == GQ_OK && i < sizeof tokenizer_files / sizeof tokenizer_files[0]; i++)
            if ((rc = sync_file(c, r, commit, tokenizer_files[i], 1, err)) == HUB_ENTRY_MISSING) rc = GQ_OK;
        if (rc == GQ_OK && (rc = sync_file(c, r, commit, "model.safetensors", 1, err)) == HUB_ENTRY_MISSING) {
            rc = sync_file(c, r, commit, "model.safetensors.index.json", 1, err);
            if (rc == HUB_ENTRY_MISSING) {
                char ref[1024];
                ref_text(r, ref, sizeof ref);
                return gq_error_set(err, GQ_ERR_UNSUPPORTED,
                                    "%s: the repository has neither model.safetensors nor "
                                    "model.safetensors.index.json at commit %s ---> HINT: for a GGUF "
                                    "repository name the file (ORG/NAME:FILE.gguf); pytorch_model.bin "
                                    "checkpoints are not read",
                                    ref, commit);
            }
            if (rc == GQ_OK) {
                char p[HUB_PATH_MAX];
                shard_list s;
                rc = hub_cache_file(r, commit, "model.safetensors.index.json", p, sizeof p, err);
                if (rc == 1) rc = shards_read(p, &s, err);
                else if (rc == 0) rc = gq_error_set(err, GQ_ERR_IO, "%s: missing right after its download", p);
                if (rc == GQ_OK) {
                    for (size_t i = 0; rc == GQ_OK && i < s.n; i++) rc = sync_file(c, r, commit, s.name[i], 0, err);
                    shards_free(&s);
                }
            }
        }
    }
    if (rc == GQ_OK) rc = hub_cache_write_ref(r, r->ref.revision, commit, err);
    return rc;
}

static int resolve(const char *model, const gq_hub_opts *o, int always_ask, char **path, gq_error *err)
{
    gq_hub_ref ref;
    hub_repo r;
    hub_conn c;
    char commit[HUB_COMMIT_LEN + 1], missing[GQ_HUB_FILE_MAX + 64] = "", text[1024];
    int rc, have;
    *path = NULL;
    if ((rc = gq_hub_ref_parse(model, &ref, err)) != GQ_OK) return rc;
    if ((rc = hub_repo_init(&r, &ref, o, err)) != GQ_OK) return rc;
    ref_text(&r, text, sizeof text);
    have = hub_cache_commit(&r, ref.revision, commit, err);
    if (have < 0) return have;
    if (have == 1) {
        have = cache_complete(&r, commit, missing, sizeof missing, err);
        if (have < 0) return have;
    }
    if (hub_offline(o)) {
        if (always_ask)
            return gq_error_set(err, GQ_ERR_USAGE,
                                "%s: cannot fetch in offline mode (HF_HUB_OFFLINE=1 or --offline is set)", text);
        if (have == 1) return (*path = snapshot_path(&r, commit, err)) ? GQ_OK : GQ_ERR_NOMEM;
        if (!missing[0])
            return gq_error_set(err, GQ_ERR_IO,
                                "model %s is not in the cache %s (no %s/refs/%s) and offline mode is on "
                                "---> HINT: run `gqla-eval fetch %s` while online, then run again",
                                text, r.root, r.folder, ref.revision, model);
        return gq_error_set(err, GQ_ERR_IO,
                            "model %s: %s is missing from the cached snapshot %s/snapshots/%s and offline mode is "
                            "on ---> HINT: run `gqla-eval fetch %s` while online, then run again",
                            text, missing, r.dir, commit, model);
    }
    if (have == 1 && !always_ask && hub_is_commit(ref.revision))
        return (*path = snapshot_path(&r, commit, err)) ? GQ_OK : GQ_ERR_NOMEM;
    if ((rc = hub_conn_open(&c, o, err)) != GQ_OK) return rc;
    rc = sync_model(&c, &r, commit, err);
    int unreachable = c.unreachable;
    hub_conn_close(&c);
    if (rc != GQ_OK && unreachable && have == 1 && !always_ask) {
        if (!(o && o->quiet))
            fprintf(stderr, "gqla-eval: warning: %s; using the cached snapshot of %s\n", err ? err->msg : "", text);
        hub_cache_commit(&r, ref.revision, commit, NULL);
        rc = GQ_OK;
    }
    if (rc != GQ_OK) return rc;
    return (*path = snapshot_path(&r, commit, err)) ? GQ_OK : GQ_ERR_NOMEM;
}

int gq_hub_resolve_model(const char *model, const gq_hub_opts *o, char **path, gq_error *err)
{
    *path = NULL;
    if (gq_hub_is_local(model)) {
        size_t n = strlen(model) + 1;
        if (!(*path = gq_malloc(n, "model path", err))) return GQ_ERR_NOMEM;
        memcpy(*path, model, n);
        return GQ_OK;
    }
    size_t n = model ? strlen(model) : 0;
    if (n > 5 && strcmp(model + n - 5, ".gguf") == 0 && !strchr(model, ':'))
        return gq_error_set(err, GQ_ERR_IO,
                            "%s: no such file ---> HINT: a GGUF file inside a Hub repository is named "
                            "ORG/NAME:FILE.gguf",
                            model);
    return resolve(model, o, 0, path, err);
}

int gq_hub_fetch_model(const char *id, const gq_hub_opts *o, char **path, gq_error *err)
{
    *path = NULL;
    return resolve(id, o, 1, path, err);
}
