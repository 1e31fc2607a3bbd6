/* dataset.c — the face of datasets/ (dataset.h): local release files when a
 * data_dir is given, the Hub cache otherwise.  The work is in ds_local.c and
 * hub.c; this file only chooses and keeps the failure contract (out zeroed on
 * failure, err filled). */
#include <string.h>

#include "dataset.h"
#include "ds_internal.h"
#include "gq_alloc.h"

int gq_dataset_load(gq_rows *out, const char *hf_id, const char *config, const char *split,
                    const gq_dataset_opts *opts, gq_error *err)
{
    if (!out) return gq_error_set(err, GQ_ERR_USAGE, "gq_dataset_load: out is NULL");
    memset(out, 0, sizeof *out);
    if (!hf_id || !split)
        return gq_error_set(err, GQ_ERR_USAGE, "gq_dataset_load: a dataset id and a split are required");
    if (opts && opts->data_dir && *opts->data_dir)
        return ds_local_load(out, hf_id, config, split, opts->data_dir, err);
    return ds_hub_load(out, hf_id, config, split, opts, err);
}

void gq_rows_free(gq_rows *r)
{
    if (!r) return;
    cJSON_Delete(r->rows);
    if (r->where)
        for (size_t i = 0; i < r->n; i++) gq_free(r->where[i]);
    gq_free(r->where);
    gq_free(r->origin);
    memset(r, 0, sizeof *r);
}

int gq_dataset_fetch(const char *hf_id, const char *config, const char *split,
                     const gq_dataset_opts *opts, gq_error *err)
{
    if (!hf_id) return gq_error_set(err, GQ_ERR_USAGE, "gq_dataset_fetch: a dataset id is required");
    return ds_hub_fetch(hf_id, config, split, opts, err);
}
