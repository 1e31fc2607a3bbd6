/* report_model.h — a report before it has a format: header lines, three
 * tables of text cells, and the numbers the HTML charts draw.  Built from a
 * manifest by report_model.c; rendered by report_text.c (Markdown, LaTeX,
 * CSV) and report_html.c.  Internal to reports/.
 *
 * Cells are UTF-8 text; NULL is a missing value (shown "–", empty in CSV).
 * A column flagged `delta` holds the change of the column before it: the
 * Markdown, LaTeX and HTML tables show it in parentheses inside that
 * column's cell, CSV keeps it as its own column so the numbers stay
 * machine-readable.
 */
#ifndef GQ_REPORT_MODEL_H
#define GQ_REPORT_MODEL_H

#include <stddef.h>
#include "report.h"

typedef struct gq_table {
    const char *id;             /* "paper", "consistency", "kvcache": HTML id, CSV first field */
    const char *title;
    size_t n_cols, n_rows;
    char **head;                /* [n_cols] */
    unsigned char *delta;       /* [n_cols] */
    unsigned char *numeric;     /* [n_cols] right-aligned */
    char **cells;               /* [n_rows * n_cols] row-major */
    char **notes;               /* [n_notes] lines printed under the table */
    size_t n_notes;
} gq_table;

enum { GQ_REPORT_TABLE_PAPER = 0, GQ_REPORT_TABLE_CONSISTENCY, GQ_REPORT_TABLE_KVCACHE, GQ_REPORT_N_TABLES };

/* The paper table's columns: Avg, then MMLU, ARC (or ARC-e, ARC-c), PIQA,
 * HS, OBQA, WG. */
#define GQ_PAPER_MAX_COLS 8

typedef struct gq_report_model {
    char **info_key, **info_value;   /* [n_info] header lines */
    size_t n_info;
    gq_table tables[GQ_REPORT_N_TABLES];
    /* paper numbers for the chart: fractions, NAN = missing */
    size_t paper_rows, paper_cols;
    const char *paper_col[GQ_PAPER_MAX_COLS];
    char **paper_row;                /* [paper_rows] labels */
    double *paper_value;             /* [paper_rows * paper_cols] */
    /* KV cache rows for the chart */
    size_t kv_rows;
    char **kv_label;                 /* [kv_rows] */
    double *kv_bytes;                /* [kv_rows] bf16 bytes per token, all layers */
} gq_report_model;

int gq_report_model_build(const gq_manifest *m, gq_report_model *out, gq_error *err);
void gq_report_model_free(gq_report_model *r);

/* Paper-table value of one task column for a run, as a fraction (NAN when
 * missing): acc_norm for arc_easy, arc_challenge, piqa, hellaswag,
 * openbookqa; acc for everything else (mmlu, winogrande, mmlu_*). */
double gq_report_task_value(const gq_manifest_run *run, const char *task, const char **metric);
/* The metric name that rule picks for a task. */
const char *gq_report_task_metric(const char *task);
/* Paper-table columns of a manifest (without Avg): labels and values for
 * one run.  Returns the column count; values are fractions, NAN = missing;
 * *avg (may be NULL) = mean of the present values (NAN when none) and
 * *mask bit i = column i present. */
size_t gq_report_paper_row(const gq_manifest *m, const gq_manifest_run *run, const char **labels, double *values,
                           double *avg, unsigned *mask);
/* Display label of a run: "original", "converted · GQA", "converted · absorb". */
void gq_report_run_label(const gq_manifest_run *run, char *buf, size_t size);

/* Renderers (report_text.c, report_html.c): heap text (gq_free). */
int gq_report_render_md(const gq_report_model *r, char **out, size_t *len, gq_error *err);
int gq_report_render_tex(const gq_report_model *r, char **out, size_t *len, gq_error *err);
int gq_report_render_csv(const gq_report_model *r, char **out, size_t *len, gq_error *err);
int gq_report_render_html(const gq_report_model *r, char **out, size_t *len, gq_error *err);

#endif
