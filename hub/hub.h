/* hub.h — models by Hugging Face Hub id, through the huggingface_hub cache.
 *
 * A MODEL argument is a local folder, a local .gguf file, or a Hub id
 *     ORG/NAME[@REVISION][:FILE.gguf]
 * (REVISION: a branch, tag or 40-hex commit, default "main"; FILE: one GGUF
 * file of the repository, instead of config.json + safetensors).  A Hub id
 * resolves to a folder (or file) inside the cache that huggingface_hub and
 * transformers read and write:
 *
 *   CACHE/models--ORG--NAME/refs/REVISION          the commit hash, no newline
 *   CACHE/models--ORG--NAME/snapshots/COMMIT/FILE  -> ../../blobs/ETAG (relative link)
 *   CACHE/models--ORG--NAME/blobs/ETAG             the bytes (ETAG: sha256 for LFS
 *                                                  files, git sha1 otherwise)
 *   CACHE/models--ORG--NAME/blobs/ETAG.incomplete  a download in progress (resumed)
 *   CACHE/models--ORG--NAME/.no_exist/COMMIT/FILE  an optional file the Hub lacks
 *   CACHE/.locks/models--ORG--NAME/ETAG.lock       held while ETAG downloads
 *
 * CACHE is $HF_HUB_CACHE, else $HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub,
 * else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
 *
 * Missing files download from $HF_ENDPOINT (default https://huggingface.co)
 * as {endpoint}/{id}/resolve/{revision}/{file}, with $HF_TOKEN as a bearer
 * header sent to the endpoint's origin only, never printed.  Offline
 * ($HF_HUB_OFFLINE=1 or opts->offline) nothing touches the network and a
 * missing file is an error naming it.
 *
 * The files: hub_id.c (parsing and refusing ids, the cache root),
 * hub_cache.c (reading and writing the layout, `cache list`),
 * hub_download.c (HEAD metadata, resumable verified GET, progress),
 * hub_model.c (which files a model needs; resolve and fetch).
 * Not here: opening the model (engine/model.c's gq_model_open takes the
 * resolved path), the datasets-server (datasets/hub.c).
 * Tested by tests/test_hub.c against tests/fake_hub.py on 127.0.0.1.
 */
#ifndef GQ_HUB_H
#define GQ_HUB_H

#include <stddef.h>
#include <stdio.h>

#include "gq_error.h"

#define GQ_HUB_ID_MAX 256     /* ORG/NAME: 96 + 1 + 96 and room */
#define GQ_HUB_REV_MAX 256
#define GQ_HUB_FILE_MAX 512

typedef struct gq_hub_opts {
    int offline;             /* 1: never touch the network (HF_HUB_OFFLINE=1 does the same) */
    int quiet;               /* 1: no progress lines */
    const char *cache_dir;   /* NULL: the environment's cache (see above) */
    const char *endpoint;    /* NULL: $HF_ENDPOINT, else https://huggingface.co */
} gq_hub_opts;

typedef struct gq_hub_ref {
    char repo_id[GQ_HUB_ID_MAX];    /* "ORG/NAME" */
    char revision[GQ_HUB_REV_MAX];  /* "main" when none was given */
    char file[GQ_HUB_FILE_MAX];     /* the ":FILE.gguf" part, "" for a safetensors model */
} gq_hub_ref;

/* Parses "ORG/NAME[@REV][:FILE]" and refuses anything the Hub would not
 * accept: ORG and NAME of [A-Za-z0-9._-], no "..", not starting or ending
 * with '.' or '-', at most 96 characters each; REV and FILE made of
 * '/'-separated parts of [A-Za-z0-9._-] none of which is empty or starts
 * with '.'; FILE ending in ".gguf".  GQ_ERR_USAGE with a message saying
 * what is allowed; *out is zeroed first and valid only on GQ_OK. */
int gq_hub_ref_parse(const char *text, gq_hub_ref *out, gq_error *err);

/* 1 when text names an existing local file or folder (then it is not an id). */
int gq_hub_is_local(const char *text);

/* The cache root (see above) into out, without a trailing '/'. */
int gq_hub_cache_root(char *out, size_t cap, const gq_hub_opts *o, gq_error *err);

/* MODEL -> a path gq_model_open takes.  A local path is copied as is.  A Hub
 * id resolves through the cache, downloading what is missing unless offline.
 * *path (heap, caller frees with gq_free) is NULL on failure. */
int gq_hub_resolve_model(const char *model, const gq_hub_opts *o, char **path, gq_error *err);

/* `gqla-eval fetch ID`: like gq_hub_resolve_model for a Hub id (a local
 * path is refused), always asking the Hub for the revision's commit. */
int gq_hub_fetch_model(const char *id, const gq_hub_opts *o, char **path, gq_error *err);

/* `gqla-eval cache list`: one line per cached model repository (id, refs,
 * snapshots, blob bytes, partial downloads) on out. */
int gq_hub_cache_list(FILE *out, const gq_hub_opts *o, gq_error *err);

#endif
