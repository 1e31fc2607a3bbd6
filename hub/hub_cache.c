/* hub_cache.c — the huggingface_hub cache layout (hub.h), read and written
 * exactly as file_download.py does: refs/REV holds the commit with no
 * newline, written through a temporary file and a rename; snapshot files
 * are relative links ../../blobs/ETAG (os.path.relpath from the link's
 * folder); a 404 on an optional file leaves an empty .no_exist/COMMIT/FILE.
 * Reading follows links but refuses one that resolves outside the cache.
 * Also `cache list`.  Tested by tests/test_hub.c. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "hub_internal.h"

static int pathf(char *out, size_t cap, gq_error *err, const char *fmt, const char *a, const char *b, const char *c)
{
    int w = snprintf(out, cap, fmt, a, b, c);
    if (w < 0 || (size_t)w >= cap) return gq_error_set(err, GQ_ERR_USAGE, "%s: path in the model cache too long", a);
    return GQ_OK;
}

int hub_cache_commit(const hub_repo *r, const char *revision, char commit[HUB_COMMIT_LEN + 1], gq_error *err)
{
    char p[HUB_PATH_MAX];
    commit[0] = '\0';
    if (hub_is_commit(revision)) {
        memcpy(commit, revision, HUB_COMMIT_LEN + 1);
        return 1;
    }
    int rc = pathf(p, sizeof p, err, "%s/refs/%s%s", r->dir, revision, "");
    if (rc != GQ_OK) return rc;
    FILE *f = fopen(p, "rb");
    if (!f) return 0;
    char buf[64] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) buf[--n] = '\0';
    if (!hub_is_commit(buf))
        return gq_error_set(err, GQ_ERR_FORMAT, "%s: expected a 40-hex commit hash; the cache is damaged (delete %s)",
                            p, p);
    memcpy(commit, buf, HUB_COMMIT_LEN + 1);
    return 1;
}

int hub_cache_file(const hub_repo *r, const char *commit, const char *file, char *out, size_t cap, gq_error *err)
{
    int rc = pathf(out, cap, err, "%s/snapshots/%s/%s", r->dir, commit, file);
    if (rc != GQ_OK) return rc;
    struct stat st;
    if (lstat(out, &st) != 0) return 0;
    if (stat(out, &st) != 0) return 0; /* a dangling link: the blob was deleted; fetch again */
    rc = hub_check_under(r->root, out, err);
    if (rc != GQ_OK) return rc;
    return S_ISREG(st.st_mode) ? 1 : 0;
}

int hub_cache_no_exist(const hub_repo *r, const char *commit, const char *file)
{
    char p[HUB_PATH_MAX];
    if (pathf(p, sizeof p, NULL, "%s/.no_exist/%s/%s", r->dir, commit, file) != GQ_OK) return 0;
    return gq_path_exists(p);
}

static int make_parent(const char *path, gq_error *err)
{
    char dir[HUB_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *s = strrchr(dir, '/');
    if (!s) return GQ_OK;
    *s = '\0';
    return gq_mkdir_p(dir, err);
}

int hub_cache_mark_no_exist(const hub_repo *r, const char *commit, const char *file, gq_error *err)
{
    char p[HUB_PATH_MAX];
    int rc = pathf(p, sizeof p, err, "%s/.no_exist/%s/%s", r->dir, commit, file);
    if (rc == GQ_OK) rc = make_parent(p, err);
    if (rc == GQ_OK) rc = hub_check_under(r->root, r->dir, err);
    if (rc != GQ_OK) return rc;
    FILE *f = fopen(p, "ab");
    if (!f) return gq_error_set(err, GQ_ERR_IO, "%s: cannot create: %s", p, strerror(errno));
    fclose(f);
    return GQ_OK;
}

int hub_cache_blob_path(const hub_repo *r, const char *etag, const char *suffix, char *out, size_t cap, gq_error *err)
{
    return pathf(out, cap, err, "%s/blobs/%s%s", r->dir, etag, suffix);
}

int hub_cache_link(const hub_repo *r, const char *commit, const char *file, const char *etag, gq_error *err)
{
    char link[HUB_PATH_MAX], target[HUB_PATH_MAX], tmp[HUB_PATH_MAX + 32];
    int rc = pathf(link, sizeof link, err, "%s/snapshots/%s/%s", r->dir, commit, file);
    if (rc == GQ_OK) rc = make_parent(link, err);
    if (rc == GQ_OK) rc = hub_check_under(r->root, r->dir, err);
    if (rc != GQ_OK) return rc;
    /* relpath(blobs/ETAG, dirname(link)): ../../ for snapshots/COMMIT, one more per folder in FILE */
    size_t w = 0;
    target[0] = '\0';
    for (int i = 0; i < 2; i++) w += (size_t)snprintf(target + w, sizeof target - w, "../");
    for (const char *p = file; (p = strchr(p, '/')) != NULL; p++) w += (size_t)snprintf(target + w, sizeof target - w, "../");
    snprintf(target + w, sizeof target - w, "blobs/%s", etag);
    /* Link beside and rename over: a reader never sees the file missing. */
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", link, (long)getpid());
    unlink(tmp);
    if (symlink(target, tmp) != 0)
        return gq_error_set(err, GQ_ERR_IO, "%s: cannot create the snapshot link: %s", link, strerror(errno));
    if (rename(tmp, link) != 0) {
        int e = errno;
        unlink(tmp);
        return gq_error_set(err, GQ_ERR_IO, "%s: cannot create the snapshot link: %s", link, strerror(e));
    }
    return GQ_OK;
}

int hub_cache_write_ref(const hub_repo *r, const char *revision, const char *commit, gq_error *err)
{
    char p[HUB_PATH_MAX];
    char have[HUB_COMMIT_LEN + 1];
    if (strcmp(revision, commit) == 0) return GQ_OK;
    if (hub_cache_commit(r, revision, have, NULL) == 1 && strcmp(have, commit) == 0) return GQ_OK;
    int rc = pathf(p, sizeof p, err, "%s/refs/%s%s", r->dir, revision, "");
    if (rc == GQ_OK) rc = make_parent(p, err);
    if (rc == GQ_OK) rc = hub_check_under(r->root, r->dir, err);
    if (rc == GQ_OK) rc = gq_file_write_atomic(p, commit, strlen(commit), err);
    return rc;
}

// ---- cache list -----------------------------------------------------------------------

typedef struct dir_sizes {
    long long blob_bytes, partial_bytes;
    int n_blobs, n_partial;
} dir_sizes;

static void blob_sizes(const char *dir, dir_sizes *s)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[HUB_PATH_MAX * 2];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (lstat(p, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        size_t n = strlen(e->d_name);
        if (n > 11 && strcmp(e->d_name + n - 11, ".incomplete") == 0) {
            s->partial_bytes += (long long)st.st_size;
            s->n_partial++;
        } else {
            s->blob_bytes += (long long)st.st_size;
            s->n_blobs++;
        }
    }
    closedir(d);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* "main=abc1234 v1.0=..." from refs/ (one level; nested refs such as refs/pr/1 by name). */
static void refs_text(const char *dir, char *out, size_t cap)
{
    out[0] = '\0';
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    size_t w = 0;
    char p[HUB_PATH_MAX * 2], buf[48];
    while ((e = readdir(d)) != NULL && w + 64 < cap) {
        if (e->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        FILE *f = fopen(p, "rb");
        size_t n = 0;
        if (f) {
            n = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
        }
        buf[n] = '\0';
        w += (size_t)snprintf(out + w, cap - w, "%s%s=%.7s", w ? "," : "", e->d_name, f ? buf : "?");
    }
    closedir(d);
}

static void human(long long b, char *out, size_t cap)
{
    if (b < 1000) snprintf(out, cap, "%lld B", b);
    else if (b < 1000000) snprintf(out, cap, "%.1f kB", (double)b / 1e3);
    else if (b < 1000000000) snprintf(out, cap, "%.1f MB", (double)b / 1e6);
    else snprintf(out, cap, "%.2f GB", (double)b / 1e9);
}

int gq_hub_cache_list(FILE *out, const gq_hub_opts *o, gq_error *err)
{
    char root[HUB_PATH_MAX], p[HUB_PATH_MAX + 320], refs[512], size[32], part[32];
    int rc = gq_hub_cache_root(root, sizeof root, o, err);
    if (rc != GQ_OK) return rc;
    DIR *d = opendir(root);
    if (!d) {
        fprintf(out, "# model cache %s: empty (no such folder)\n", root);
        return GQ_OK;
    }
    fprintf(out, "# model cache %s\n", root);
    fprintf(out, "%-48s %10s %9s  %-10s %s\n", "MODEL", "SIZE", "SNAPSHOTS", "PARTIAL", "REFS");
    struct dirent *e;
    long long total = 0;
    int n_repos = 0;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "models--", 8) != 0) continue;
        /* models--ORG--NAME -> ORG/NAME (ids never hold "--": hub_id.c refuses it) */
        char id[GQ_HUB_ID_MAX + 16];
        snprintf(id, sizeof id, "%s", e->d_name + 8);
        char *sep = strstr(id, "--");
        if (sep) {
            sep[0] = '/';
            memmove(sep + 1, sep + 2, strlen(sep + 2) + 1);
        }
        dir_sizes s = {0};
        snprintf(p, sizeof p, "%s/%s/blobs", root, e->d_name);
        blob_sizes(p, &s);
        snprintf(p, sizeof p, "%s/%s/snapshots", root, e->d_name);
        int n_snap = count_entries(p);
        snprintf(p, sizeof p, "%s/%s/refs", root, e->d_name);
        refs_text(p, refs, sizeof refs);
        human(s.blob_bytes, size, sizeof size);
        if (s.n_partial) human(s.partial_bytes, part, sizeof part);
        else snprintf(part, sizeof part, "-");
        fprintf(out, "%-48s %10s %9d  %-10s %s\n", id, size, n_snap, part, refs[0] ? refs : "-");
        total += s.blob_bytes;
        n_repos++;
    }
    closedir(d);
    human(total, size, sizeof size);
    fprintf(out, "# %d model%s, %s\n", n_repos, n_repos == 1 ? "" : "s", size);
    return GQ_OK;
}
