/* hub_id.c — Hub ids: parsing, refusing what the Hub would not accept, and
 * the cache root.  Every check here runs before any path is built from an
 * id, so `../../x`, `a/b/../c` or `org/na$me` never reach the file system. */
#define _XOPEN_SOURCE 700
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gq_http.h"
#include "hub_internal.h"

static int id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
}

/* ORG or NAME: what huggingface_hub's validate_repo_id accepts. */
static int id_part_ok(const char *s, size_t n)
{
    if (n == 0 || n > 96) return 0;
    if (s[0] == '.' || s[0] == '-' || s[n - 1] == '.' || s[n - 1] == '-') return 0;
    for (size_t i = 0; i < n; i++) {
        if (!id_char(s[i])) return 0;
        if (s[i] == '.' && i + 1 < n && s[i + 1] == '.') return 0;
        if (s[i] == '-' && i + 1 < n && s[i + 1] == '-') return 0; /* "--" would blur models--ORG--NAME */
    }
    return 1;
}

int hub_check_relpath(const char *s, const char *what, gq_error *err)
{
    size_t n = strlen(s);
    int ok = n > 0 && n < GQ_HUB_FILE_MAX && s[0] != '/' && s[n - 1] != '/';
    for (const char *p = s; ok && *p;) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0 || p[0] == '.') ok = 0;
        for (size_t i = 0; ok && i < len; i++)
            if (!id_char(p[i])) ok = 0;
        p += len + (e ? 1 : 0);
    }
    if (!ok)
        return gq_error_set(err, GQ_ERR_USAGE,
                            "%s '%.200s' refused: expected '/'-separated parts of letters, digits, '.', '_' and "
                            "'-', none empty and none starting with '.'",
                            what, s);
    return GQ_OK;
}

int hub_is_commit(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f'))) return 0;
    return n == HUB_COMMIT_LEN;
}

int gq_hub_ref_parse(const char *text, gq_hub_ref *out, gq_error *err)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text) return gq_error_set(err, GQ_ERR_USAGE, "no model given (a folder, a .gguf file or ORG/NAME)");
    size_t len = strlen(text);
    if (len >= GQ_HUB_ID_MAX + GQ_HUB_REV_MAX + GQ_HUB_FILE_MAX)
        return gq_error_set(err, GQ_ERR_USAGE, "model id of %zu characters refused: too long", len);
    char buf[GQ_HUB_ID_MAX + GQ_HUB_REV_MAX + GQ_HUB_FILE_MAX];
    memcpy(buf, text, len + 1);
    char *file = strchr(buf, ':');
    if (file) *file++ = '\0';
    char *rev = strchr(buf, '@');
    if (rev) *rev++ = '\0';
    const char *slash = strchr(buf, '/');
    if (!slash || strchr(slash + 1, '/') || !id_part_ok(buf, (size_t)(slash - buf)) ||
        !id_part_ok(slash + 1, strlen(slash + 1)))
        return gq_error_set(err, GQ_ERR_USAGE,
                            "'%.200s' is not a local file or folder, and not a Hub model id: expected "
                            "ORG/NAME[@REVISION][:FILE.gguf], ORG and NAME made of letters, digits, '.', '_' "
                            "and '-' (no '..', not starting or ending with '.' or '-'), e.g. "
                            "HuggingFaceTB/SmolLM2-135M",
                            text);
    if (strlen(buf) >= sizeof out->repo_id) return gq_error_set(err, GQ_ERR_USAGE, "model id '%.200s' too long", text);
    if (rev && hub_check_relpath(rev, "revision", err) != GQ_OK) return GQ_ERR_USAGE;
    if (file) {
        if (hub_check_relpath(file, "file", err) != GQ_OK) return GQ_ERR_USAGE;
        size_t fl = strlen(file);
        if (fl < 6 || strcmp(file + fl - 5, ".gguf") != 0)
            return gq_error_set(err, GQ_ERR_USAGE,
                                "%s: ':%s' refused: only a .gguf file may be named after ':' (a safetensors "
                                "model is named by ORG/NAME alone)",
                                buf, file);
    }
    const char *r = rev ? rev : "main", *f = file ? file : "";
    if (strlen(r) >= sizeof out->revision || strlen(f) >= sizeof out->file)
        return gq_error_set(err, GQ_ERR_USAGE, "model id '%.200s': revision or file name too long", text);
    memcpy(out->repo_id, buf, strlen(buf) + 1); /* lengths checked above */
    memcpy(out->revision, r, strlen(r) + 1);
    memcpy(out->file, f, strlen(f) + 1);
    return GQ_OK;
}

int gq_hub_is_local(const char *text)
{
    struct stat st;
    return text && *text && stat(text, &st) == 0;
}

int hub_offline(const gq_hub_opts *o) { return (o && o->offline) || gq_env_true("HF_HUB_OFFLINE"); }

int gq_hub_cache_root(char *out, size_t cap, const gq_hub_opts *o, gq_error *err)
{
    static const gq_env_dir cand[] = {{"HF_HUB_CACHE", ""},
                                      {"HUGGINGFACE_HUB_CACHE", ""},
                                      {"HF_HOME", "/hub"},
                                      {"XDG_CACHE_HOME", "/huggingface/hub"},
                                      {"HOME", "/.cache/huggingface/hub"}};
    return gq_env_dir_pick(out, cap, o ? o->cache_dir : NULL, cand, sizeof cand / sizeof cand[0],
                           "model cache folder", "set HF_HUB_CACHE (or HF_HOME or HOME)", err);
}

int hub_repo_init(hub_repo *r, const gq_hub_ref *ref, const gq_hub_opts *o, gq_error *err)
{
    memset(r, 0, sizeof *r);
    r->ref = *ref;
    const char *slash = strchr(ref->repo_id, '/');
    GQ_ASSERT(slash); /* gq_hub_ref_parse made it */
    snprintf(r->folder, sizeof r->folder, "models--%.*s--%s", (int)(slash - ref->repo_id), ref->repo_id, slash + 1);
    int rc = gq_hub_cache_root(r->root, sizeof r->root, o, err);
    if (rc != GQ_OK) return rc;
    int w = snprintf(r->dir, sizeof r->dir, "%s/%s", r->root, r->folder);
    if (w < 0 || (size_t)w >= sizeof r->dir) return gq_error_set(err, GQ_ERR_USAGE, "%s: cache path too long", r->root);
    return GQ_OK;
}

int hub_check_under(const char *root, const char *path, gq_error *err)
{
    char *rr = realpath(root, NULL), *pp = realpath(path, NULL);
    size_t n = rr ? strlen(rr) : 0;
    int ok = rr && pp && strncmp(pp, rr, n) == 0 && (pp[n] == '/' || pp[n] == '\0' || strcmp(rr, "/") == 0);
    free(rr);
    free(pp);
    if (!ok)
        return gq_error_set(err, GQ_ERR_USAGE,
                            "%s: resolves to a place outside the model cache %s; refused (a link in the cache "
                            "points elsewhere; delete it and fetch the model again)",
                            path, root);
    return GQ_OK;
}
