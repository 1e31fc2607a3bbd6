/* dataset.h — rows of a benchmark split, from local release files or the
 * Hugging Face datasets-server, as cJSON objects with Hugging Face field
 * names (tasks.md §3.7 maps original-release fields to them).
 *
 * A dataset reference is (hf_id, config, split), e.g. ("allenai/ai2_arc",
 * "ARC-Challenge", "test") or ("cais/mmlu", "abstract_algebra", "dev").
 * With a data_dir the rows come from the original release files laid out as
 * in ../shared/datasets (SOURCES.md); without one from the Hub cache, fetched
 * on first use.  Knows file formats, the download, the cache and offline
 * mode; knows nothing about tasks (no prompts, no gold indices).
 */
#ifndef GQ_DATASET_H
#define GQ_DATASET_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include "gq_error.h"

typedef struct gq_dataset_opts {
    const char *data_dir;   /* local release files (../shared/datasets layout), or NULL */
    const char *cache_dir;  /* NULL: $HF_HOME/gqla-eval or $XDG_CACHE_HOME/huggingface/gqla-eval or ~/.cache/... */
    const char *endpoint;   /* NULL: $HF_ENDPOINT or https://datasets-server.huggingface.co */
    int offline;            /* 1: never download ($HF_HUB_OFFLINE=1 also sets it) */
    int quiet;              /* no download progress on stderr */
} gq_dataset_opts;

typedef struct gq_rows {
    cJSON *rows;            /* JSON array of objects, HF field names, split order; owned */
    char **where;           /* [n] "file:line N" / "hub id/config/split row N", for messages */
    size_t n;
    char *origin;           /* where the split came from, for results/logs */
} gq_rows;

/* Load one split.  Rows are checked for the fields their format must have
 * (types, valid UTF-8); a bad row fails with GQ_ERR_FORMAT/INVALID naming the
 * file, the line/row and the field.  On failure out is zeroed. */
int gq_dataset_load(gq_rows *out, const char *hf_id, const char *config, const char *split,
                    const gq_dataset_opts *opts, gq_error *err);
void gq_rows_free(gq_rows *r);

/* Download every split of a reference into the cache (`gqla-eval fetch`). */
int gq_dataset_fetch(const char *hf_id, const char *config, const char *split,
                     const gq_dataset_opts *opts, gq_error *err);

#endif
