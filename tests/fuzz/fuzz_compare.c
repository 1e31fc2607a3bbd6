/* fuzz_compare.c — libFuzzer target: two lm-eval-layout results files as
 * `gqla-eval compare` reads them (reports/compare.c): BASE FUZZ_SPLIT NEW
 * (fuzz_util.h says how targets build and replay).  The table goes to
 * /dev/null; the JUnit file is rendered into the scratch folder. */
#include <stdio.h>

#include "fuzz_util.h"
#include "gq_error.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *base, *new_;
    size_t nb;
    if (fuzz_write_split(data, size, "base.json", "new.json", &base, &new_, &nb) != 0) return 0;
    char junit[1024];
    snprintf(junit, sizeof junit, "%s/junit.xml", fuzz_dir());
    static FILE *sink;
    if (!sink) sink = fopen("/dev/null", "w");
    if (!sink) return 0;
    int n_failed = 0;
    gq_error err = {0};
    int rc = gq_compare_files(base, new_, 1.0, (size & 1) ? junit : NULL, sink, &n_failed, &err);
    fuzz_note("compare", rc, &err);
    return 0;
}
