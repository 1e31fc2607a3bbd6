/* fuzz_config.c — libFuzzer target: a Hugging Face config.json, optionally
 * followed by FUZZ_SPLIT and a converted checkpoint's gqla_meta.json
 * (fuzz_util.h says how targets build and replay).  After a successful
 * parse the cross-field checks and the cache-size arithmetic run too. */
#include "config.h"
#include "fuzz_util.h"
#include "gq_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path, *meta;
    size_t n_meta;
    if (fuzz_write_split(data, size, "config.json", "gqla_meta.json", &path, &meta, &n_meta) != 0) return 0;
    gq_config cfg;
    gq_error err = {0};
    int rc = gq_config_load_json(&cfg, path, &err);
    fuzz_note("config", rc, &err);
    if (rc != GQ_OK) return 0;
    if (n_meta && gq_config_load_source_meta(&cfg, meta, &err) != GQ_OK) return 0;
    if (gq_config_validate(&cfg, path, &err) != GQ_OK) return 0;
    gq_config_kv_elems_per_token_layer(&cfg);
    gq_config_source_cache_elems(&cfg, NULL);
    for (int p = 0; p < 4; p++)
        if (gq_config_path_supported(&cfg, (gq_path)p)) gq_config_path_cache_elems(&cfg, (gq_path)p);
    gq_config_default_path(&cfg);
    gq_config_has_moe(&cfg);
    return 0;
}
