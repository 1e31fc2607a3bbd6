/* fuzz_report.c — libFuzzer target: a run folder's gqla_run.json as
 * `gqla-eval report` reads it (reports/manifest.c), then the four report
 * texts rendered from it (Markdown, LaTeX, CSV, HTML; fuzz_util.h says how
 * targets build and replay).  Nothing is written: the writing is the same
 * atomic helper every output uses, covered by the write-fault sweep. */
#include "fuzz_util.h"
#include "gq_error.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gq_manifest *m = NULL;
    gq_error err = {0};
    int rc = gq_manifest_parse(&m, (const char *)data, size, "gqla_run.json", &err);
    fuzz_note("manifest", rc, &err);
    if (rc != GQ_OK) return 0;
    gq_manifest_find_run(m, "original");
    gq_report_texts t = {0};
    if (gq_report_render_all(m, &t, &err) == GQ_OK) gq_report_texts_free(&t);
    gq_manifest_free(m);
    return 0;
}
