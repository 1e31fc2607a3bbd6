/* fuzz_shard.c — libFuzzer target: a shard folder's gqla_shard.json as
 * `gqla-eval merge` reads it (harness/shard.c; fuzz_util.h says how
 * targets build and replay).  The record is read, checked as a set of one
 * and as a set holding it twice (a duplicate, refused), written to a
 * second folder and read back. */
#include <stdio.h>
#include <string.h>

#include "fuzz_util.h"
#include "gq_error.h"
#include "shard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reset();
    if (!fuzz_write(0, "shard/" GQ_SHARD_FILE, data, size)) return 0;
    char dir[1024], copy[1024];
    snprintf(dir, sizeof dir, "%s/shard", fuzz_dir());
    snprintf(copy, sizeof copy, "%s/copy", fuzz_dir());
    gq_shard_record recs[2], back;
    memset(recs, 0, sizeof recs);
    memset(&back, 0, sizeof back);
    gq_error err = {0};
    int rc = gq_shard_read(&recs[0], dir, &err);
    fuzz_note("read", rc, &err);
    if (rc == GQ_OK) {
        fuzz_note("set of one", gq_shard_check_set(recs, 1, &err), &err);
        rc = gq_shard_read(&recs[1], dir, &err);
        if (rc == GQ_OK) fuzz_note("set of two", gq_shard_check_set(recs, 2, &err), &err);
        if (fuzz_write(1, "copy/.keep", "", 0)) {
            char *saved = recs[0].dir;
            recs[0].dir = copy;
            rc = gq_shard_write(&recs[0], &err);
            recs[0].dir = saved;
            fuzz_note("write", rc, &err);
            if (rc == GQ_OK) fuzz_note("read back", gq_shard_read(&back, copy, &err), &err);
        }
    }
    gq_shard_record_free(&recs[0]);
    gq_shard_record_free(&recs[1]);
    gq_shard_record_free(&back);
    return 0;
}
