/* fuzz_hub_page.c — libFuzzer target: what datasets/hub.c reads from the
 * datasets-server and from its cache (fuzz_util.h says how targets build
 * and replay).  Byte 0 mod 3 picks the reader, byte 1 the dataset id whose
 * row shape is checked:
 *   0: the rest is one /rows page (ds_hub_parse_page, offset 0);
 *   1: the rest is a cached split's JSON array: written with the project's
 *      own cache writer (ds_cache_write) and loaded offline through
 *      gq_dataset_load (the array iterator and the row checks);
 *   2: the rest is a cache file's raw bytes (the gzip container, ds_cache_read). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "ds_internal.h"
#include "fuzz_util.h"
#include "gq_alloc.h"
#include "gq_error.h"

static const char *const ids[8] = {"allenai/ai2_arc", "allenai/openbookqa", "cais/mmlu",   "baber/piqa",
                                    "allenai/winogrande", "Rowan/hellaswag", "someone/else", "ybisk/piqa"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    const char *id = ids[data[1] & 7];
    const char *text = (const char *)data + 2;
    size_t n = size - 2;
    gq_error err = {0};
    fuzz_reset();
    switch (data[0] % 3) {
    case 0: {
        ds_rows_builder b;
        if (ds_builder_init(&b, &err) != GQ_OK) return 0;
        size_t total = 0;
        int rc = ds_hub_parse_page(text, n, "fuzz page", id, "fuzz/ref/default/test", 0, &b, &total, &err);
        fuzz_note("page", rc, &err);
        ds_builder_free(&b);
        break;
    }
    case 1: {
        char rel[600], path[1200];
        if (ds_hub_cache_relpath(rel, sizeof rel, id, "default", "test", &err) != GQ_OK) return 0;
        snprintf(path, sizeof path, "%s/datasets/%s.json.gz", fuzz_dir(), rel);
        if (!fuzz_write(0, path + strlen(fuzz_dir()) + 1, "", 0)) return 0; /* the folders */
        if (ds_cache_write(path, text, n, &err) != GQ_OK) return 0;
        gq_dataset_opts o = {0};
        o.cache_dir = fuzz_dir();
        o.offline = 1;
        o.quiet = 1;
        gq_rows rows = {0};
        int rc = gq_dataset_load(&rows, id, "default", "test", &o, &err);
        fuzz_note("cache", rc, &err);
        if (rc == GQ_OK) gq_rows_free(&rows);
        break;
    }
    default: {
        const char *path = fuzz_write(0, "split.json.gz", text, n);
        char *out = NULL;
        size_t got = 0;
        int rc = path ? ds_cache_read(path, &out, &got, &err) : GQ_ERR_IO;
        fuzz_note("container", rc, &err);
        if (rc == GQ_OK) gq_free(out);
        break;
    }
    }
    return 0;
}
