/* report_write.c — gq_report_write_all: DIR/gqla_run.json in, DIR/report.md,
 * .tex, .csv and .html out, each written atomically after all four were
 * rendered (report.h). */
#include <string.h>

#include "fileio.h"
#include "gq_alloc.h"
#include "report_model.h"
#include "results.h"

int gq_report_render_all(const gq_manifest *m, gq_report_texts *out, gq_error *err)
{
    memset(out, 0, sizeof *out);
    gq_report_model model;
    int rc = gq_report_model_build(m, &model, err);
    if (rc != GQ_OK) return rc;
    if ((rc = gq_report_render_md(&model, &out->md, &out->md_len, err)) == GQ_OK &&
        (rc = gq_report_render_tex(&model, &out->tex, &out->tex_len, err)) == GQ_OK &&
        (rc = gq_report_render_csv(&model, &out->csv, &out->csv_len, err)) == GQ_OK)
        rc = gq_report_render_html(&model, &out->html, &out->html_len, err);
    gq_report_model_free(&model);
    if (rc != GQ_OK) gq_report_texts_free(out);
    return rc;
}

void gq_report_texts_free(gq_report_texts *t)
{
    if (!t) return;
    gq_free(t->md);
    gq_free(t->tex);
    gq_free(t->csv);
    gq_free(t->html);
    memset(t, 0, sizeof *t);
}

int gq_report_write_all(const char *dir, gq_error *err)
{
    gq_manifest *m = NULL;
    gq_report_texts texts;
    memset(&texts, 0, sizeof texts);
    int rc = gq_manifest_load(&m, dir, err);
    if (rc == GQ_OK) rc = gq_report_render_all(m, &texts, err);
    struct { const char *name; const char *data; size_t len; } files[] = {
        {"report.md", texts.md, texts.md_len},
        {"report.tex", texts.tex, texts.tex_len},
        {"report.csv", texts.csv, texts.csv_len},
        {"report.html", texts.html, texts.html_len},
    };
    for (size_t i = 0; rc == GQ_OK && i < sizeof files / sizeof files[0]; i++) {
        char *path = gq_path_join(dir, files[i].name, err);
        if (!path) {
            rc = GQ_ERR_NOMEM;
            break;
        }
        rc = gq_report_write_file(path, files[i].data, files[i].len, err);
        gq_free(path);
    }
    gq_report_texts_free(&texts);
    gq_manifest_free(m);
    return rc;
}
