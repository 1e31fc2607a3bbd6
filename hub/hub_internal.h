/* hub_internal.h — what the files of hub/ share (not a public API; the
 * tests use hub.h).  See hub.h for the layout and the environment. */
#ifndef GQ_HUB_INTERNAL_H
#define GQ_HUB_INTERNAL_H

#include <curl/curl.h>

#include "hub.h"

#define HUB_PATH_MAX 4096
#define HUB_COMMIT_LEN 40
#define HUB_ETAG_MAX 128
/* A positive return of hub_head / hub_fetch_file: the Hub has no such file
 * in the repository (HTTP 404 "EntryNotFound"), which optional files allow. */
#define HUB_ENTRY_MISSING 1

// ---- hub_id.c ---------------------------------------------------------------------

/* One repository's place in the cache. */
typedef struct hub_repo {
    gq_hub_ref ref;
    char folder[GQ_HUB_ID_MAX + 16]; /* "models--ORG--NAME" */
    char root[3072];                 /* cache root, no trailing '/' */
    char dir[3400];                  /* root/folder (sized so every path below it fits HUB_PATH_MAX) */
} hub_repo;

int hub_repo_init(hub_repo *r, const gq_hub_ref *ref, const gq_hub_opts *o, gq_error *err);
/* 1 for 40 lowercase hex digits. */
int hub_is_commit(const char *s);
/* A relative path made of '/'-separated parts of [A-Za-z0-9._-], none empty,
 * none starting with '.'; `what` names it in the message. */
int hub_check_relpath(const char *s, const char *what, gq_error *err);
/* 1 when HF_HUB_OFFLINE is true or o->offline. */
int hub_offline(const gq_hub_opts *o);
/* path must resolve (links followed) to a place under the resolved root. */
int hub_check_under(const char *root, const char *path, gq_error *err);

// ---- hub_cache.c ------------------------------------------------------------------

/* The commit a revision names in the cache: the revision itself when it is
 * a commit, else refs/REVISION.  1 when found, 0 when not, <0 on error. */
int hub_cache_commit(const hub_repo *r, const char *revision, char commit[HUB_COMMIT_LEN + 1], gq_error *err);
/* snapshots/COMMIT/FILE into out; 1 when it exists and resolves inside the
 * cache, 0 when absent, <0 when it points outside (refused) or on error. */
int hub_cache_file(const hub_repo *r, const char *commit, const char *file, char *out, size_t cap, gq_error *err);
/* 1 when .no_exist/COMMIT/FILE marks the file absent on the Hub. */
int hub_cache_no_exist(const hub_repo *r, const char *commit, const char *file);
int hub_cache_mark_no_exist(const hub_repo *r, const char *commit, const char *file, gq_error *err);
/* blobs/ETAG (and the .incomplete and lock names) into out. */
int hub_cache_blob_path(const hub_repo *r, const char *etag, const char *suffix, char *out, size_t cap, gq_error *err);
/* snapshots/COMMIT/FILE -> ../../blobs/ETAG (one more ../ per folder in FILE). */
int hub_cache_link(const hub_repo *r, const char *commit, const char *file, const char *etag, gq_error *err);
/* refs/REVISION := commit (atomic), unless the revision is the commit. */
int hub_cache_write_ref(const hub_repo *r, const char *revision, const char *commit, gq_error *err);

// ---- hub_download.c ---------------------------------------------------------------

typedef struct hub_conn {
    CURL *curl;
    struct curl_slist *auth_headers;   /* Accept-Encoding + bearer: the endpoint's origin only */
    struct curl_slist *plain_headers;  /* Accept-Encoding only: a CDN */
    const char *token;                 /* getenv("HF_TOKEN") or NULL; never formatted */
    char endpoint[1024];               /* no trailing '/' */
    long base_ms;                      /* first retry delay */
    int quiet;
    long n_requests;                   /* requests sent (for messages) */
    int unreachable;                   /* the last failure was the network, not an HTTP answer */
} hub_conn;

/* What a HEAD on /resolve/ says about one file. */
typedef struct hub_meta {
    char commit[HUB_COMMIT_LEN + 1];   /* X-Repo-Commit */
    char etag[HUB_ETAG_MAX + 1];       /* X-Linked-Etag, else ETag, unquoted, W/ dropped */
    long long size;                    /* X-Linked-Size, else Content-Length; -1 unknown */
    char location[HUB_PATH_MAX];       /* where to GET: the CDN Location, else the resolve URL */
} hub_meta;

int hub_conn_open(hub_conn *c, const gq_hub_opts *o, gq_error *err);
void hub_conn_close(hub_conn *c);
/* HEAD {endpoint}/{id}/resolve/{revision}/{file}, following redirects that
 * stay on the endpoint's origin and stopping at one that leaves it (the
 * metadata is on that response, and the token must not follow it).
 * GQ_OK, HUB_ENTRY_MISSING, or <0 with a message saying what to do. */
int hub_head(hub_conn *c, const hub_repo *r, const char *revision, const char *file, hub_meta *m, gq_error *err);
/* Downloads m->location into blobs/ETAG (through ETAG.incomplete, resumed
 * with Range), checks the size and, for a 64-hex ETag, the sha256. */
int hub_get_blob(hub_conn *c, const hub_repo *r, const char *file, const hub_meta *m, gq_error *err);

#endif
