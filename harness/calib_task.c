/* calib_task.c — calibration rows from a task's prompts (calib_task.h). */
#include "calib_task.h"

#include <stdio.h>
#include <string.h>

#include "gq_alloc.h"
#include "task.h"

void gq_calib_rows_free(gq_calib_rows *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) gq_free(r->rows[i]);
    gq_free(r->rows);
    gq_free(r->len);
    memset(r, 0, sizeof *r);
}

static int push_row(gq_calib_rows *r, size_t *cap, const char *a, const char *b, gq_error *err)
{
    if (r->n == *cap) {
        size_t c = *cap ? 2 * *cap : 256;
        char **rows = gq_realloc(r->rows, c * sizeof *rows, "calibration rows", err);
        if (!rows) return GQ_ERR_NOMEM;
        r->rows = rows;
        size_t *len = gq_realloc(r->len, c * sizeof *len, "calibration rows", err);
        if (!len) return GQ_ERR_NOMEM;
        r->len = len;
        *cap = c;
    }
    size_t la = strlen(a), lb = strlen(b);
    char *s = gq_malloc(la + lb + 1, "calibration row", err);
    if (!s) return GQ_ERR_NOMEM;
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    r->rows[r->n] = s;
    r->len[r->n] = la + lb;
    r->n++;
    return GQ_OK;
}

int gq_calib_task_rows(const char *tasks, const char *split, const gq_dataset_opts *data, gq_calib_rows *out,
                       gq_error *err)
{
    memset(out, 0, sizeof *out);
    const gq_task **list = NULL;
    size_t n_tasks = 0, cap = 0;
    int rc = gq_tasks_resolve(tasks, &list, &n_tasks, err);
    if (rc != GQ_OK) return rc;
    for (size_t k = 0; k < n_tasks; k++) {
        const gq_task *t = list[k];
        const char *sp = split ? split : t->fewshot.split;
        if (!strcmp(sp, t->eval.split)) {
            rc = gq_error_set(err, GQ_ERR_USAGE, "--calib %s: split '%s' is the one %s scores; calibrating on it "
                              "would tune the conversion on the test items (leave out --calib-split to use the "
                              "'%s' split)", tasks, sp, t->name, t->fewshot.split);
            goto fail;
        }
        gq_rows rows = {0};
        rc = gq_dataset_load(&rows, t->fewshot.hf_id, t->fewshot.config, sp, data, err);
        if (rc != GQ_OK) {
            gq_error_prefix(err, "--calib %s: ", t->name);
            goto fail;
        }
        size_t before = out->n;
        const cJSON *row = rows.rows ? rows.rows->child : NULL;
        for (size_t d = 0; d < rows.n && rc == GQ_OK; d++, row = row->next) {
            gq_doc doc = {0};
            rc = t->make_doc(t, row, rows.where[d], (int)d, NULL, 0, NULL, &doc, err);
            if (rc == GQ_OK && doc.gold >= 0 && doc.gold < doc.n_req)
                rc = push_row(out, &cap, doc.context[doc.gold], doc.continuation[doc.gold], err);
            gq_doc_free(&doc);
        }
        gq_rows_free(&rows);
        if (rc != GQ_OK) goto fail;
        if (n_tasks == 1)
            snprintf(out->desc, sizeof out->desc, "%s (%s%s%s %s): %zu rows", t->name, t->fewshot.hf_id,
                     t->fewshot.config ? "/" : "", t->fewshot.config ? t->fewshot.config : "", sp, out->n - before);
    }
    if (n_tasks > 1)
        snprintf(out->desc, sizeof out->desc, "%.400s (%zu tasks, %s split%s): %zu rows", tasks, n_tasks,
                 split ? split : "few-shot", split ? "" : "s", out->n);
    gq_free(list);
    return GQ_OK;
fail:
    gq_free(list);
    gq_calib_rows_free(out);
    return rc;
}
