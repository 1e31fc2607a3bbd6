/* fuzz_run_clock.c — libFuzzer target: a run folder's journal/clock.json
 * (harness/run_clock.c; fuzz_util.h says how targets build and replay).
 * The clock is started on it (read + checked + rewritten), ticked, saved
 * and read back. */
#include <stdio.h>

#include "fuzz_util.h"
#include "gq_error.h"
#include "run_clock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reset();
    const char *path = fuzz_write(0, "journal/clock.json", data, size);
    if (!path) return 0;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/journal", fuzz_dir());
    gq_run_clock c;
    gq_error err = {0};
    int rc = gq_run_clock_start(&c, dir, 1796071535.39, 0.0, &err);
    fuzz_note("clock", rc, &err);
    if (rc == GQ_OK) {
        gq_run_clock_tick(&c);
        gq_run_clock_save(&c, &err);
        gq_run_clock_seconds(&c);
        gq_run_clock_peak_rss(&c);
        gq_run_clock_invocations(&c);
    }
    gq_run_clock_free(&c);
    return 0;
}
