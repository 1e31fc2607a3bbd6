/* report_model.c — the numbers of a report from a manifest (report_model.h):
 * the paper table (metric per column as report.h says), cross-path
 * consistency and KV cache per token, as text cells in fixed formats.
 * Everything printed comes from the manifest; nothing reads the clock. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gq_alloc.h"
#include "report_model.h"

// ---- metric rules ----------------------------------------------------------------------------

const char *gq_report_task_metric(const char *task)
{
    static const char *with_norm[] = {"arc_easy", "arc_challenge", "piqa", "hellaswag", "openbookqa"};
    for (size_t i = 0; i < sizeof with_norm / sizeof with_norm[0]; i++)
        if (!strcmp(task, with_norm[i])) return "acc_norm";
    return "acc";
}

double gq_report_task_value(const gq_manifest_run *run, const char *task, const char **metric)
{
    const char *name = gq_report_task_metric(task);
    if (metric) *metric = name;
    const gq_manifest_task *t = gq_manifest_find_task(run, task);
    if (!t) return NAN;
    return strcmp(name, "acc_norm") ? t->acc : t->acc_norm;
}

typedef struct paper_col {
    const char *label;
    const char *task_a, *task_b;   /* task_b: a second task averaged in (ARC) */
} paper_col;

static const paper_col cols_merged[] = {
    {"MMLU", "mmlu", NULL}, {"ARC", "arc_easy", "arc_challenge"}, {"PIQA", "piqa", NULL},
    {"HS", "hellaswag", NULL}, {"OBQA", "openbookqa", NULL}, {"WG", "winogrande", NULL},
};
static const paper_col cols_split[] = {
    {"MMLU", "mmlu", NULL}, {"ARC-e", "arc_easy", NULL}, {"ARC-c", "arc_challenge", NULL},
    {"PIQA", "piqa", NULL}, {"HS", "hellaswag", NULL}, {"OBQA", "openbookqa", NULL}, {"WG", "winogrande", NULL},
};

static const paper_col *paper_cols(const gq_manifest *m, size_t *n)
{
    *n = m->arc_split ? sizeof cols_split / sizeof cols_split[0] : sizeof cols_merged / sizeof cols_merged[0];
    return m->arc_split ? cols_split : cols_merged;
}

size_t gq_report_paper_row(const gq_manifest *m, const gq_manifest_run *run, const char **labels, double *values,
                           double *avg, unsigned *mask)
{
    size_t n;
    const paper_col *cols = paper_cols(m, &n);
    double sum = 0.0;
    int count = 0;
    unsigned bits = 0;
    for (size_t c = 0; c < n; c++) {
        double a = gq_report_task_value(run, cols[c].task_a, NULL);
        double v = a;
        if (cols[c].task_b) {
            double b = gq_report_task_value(run, cols[c].task_b, NULL);
            v = isnan(a) ? b : isnan(b) ? a : 0.5 * (a + b);
        }
        if (labels) labels[c] = cols[c].label;
        if (values) values[c] = v;
        if (!isnan(v)) {
            sum += v;
            count++;
            bits |= 1u << c;
        }
    }
    if (avg) *avg = count ? sum / count : NAN;
    if (mask) *mask = bits;
    return n;
}

void gq_report_run_label(const gq_manifest_run *run, char *buf, size_t size)
{
    if (!strcmp(run->path, "native")) {
        snprintf(buf, size, "%s", run->model);
        return;
    }
    snprintf(buf, size, "%s \xc2\xb7 %s", run->model, !strcmp(run->path, "gqa") ? "GQA" : run->path);
}

// ---- cells -------------------------------------------------------------------------------

typedef struct builder {
    gq_error *err;
    int failed;
} builder;

static char *cell(builder *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static char *cell(builder *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    char *s = b->failed ? NULL : gq_strdup(tmp, b->err);
    if (!s) b->failed = 1;
    return s;
}

/* "45.67" from a fraction; NULL when missing. */
static char *pct(builder *b, double frac)
{
    return isnan(frac) ? NULL : cell(b, "%.2f", 100.0 * frac);
}

/* "+1.25" / "-0.50" points; "-0.00" is written "+0.00". */
static char *delta_pts(builder *b, double points)
{
    if (isnan(points)) return NULL;
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%+.2f", points);
    if (!strcmp(tmp, "-0.00")) strcpy(tmp, "+0.00");
    return cell(b, "%s", tmp);
}

static char *count_cell(builder *b, int64_t v)
{
    return v < 0 ? NULL : cell(b, "%lld", (long long)v);
}

static int table_alloc(builder *b, gq_table *t, const char *id, const char *title, size_t n_cols, size_t n_rows)
{
    t->id = id;
    t->title = title;
    t->n_cols = n_cols;
    t->n_rows = n_rows;
    t->head = gq_calloc(n_cols, sizeof *t->head, "table header", b->err);
    t->delta = gq_calloc(n_cols, 1, "table columns", b->err);
    t->numeric = gq_calloc(n_cols, 1, "table columns", b->err);
    size_t n_cells = n_rows * n_cols;
    t->cells = gq_calloc(n_cells ? n_cells : 1, sizeof *t->cells, "table cells", b->err);
    if (!t->head || !t->delta || !t->numeric || !t->cells) b->failed = 1;
    return b->failed ? GQ_ERR_NOMEM : GQ_OK;
}

static void add_note(builder *b, gq_table *t, const char *text)
{
    if (b->failed) return;
    char **nn = gq_realloc(t->notes, (t->n_notes + 1) * sizeof *nn, "table notes", b->err);
    if (!nn) {
        b->failed = 1;
        return;
    }
    t->notes = nn;
    t->notes[t->n_notes] = cell(b, "%s", text);
    if (t->notes[t->n_notes]) t->n_notes++;
}

static void set_head(builder *b, gq_table *t, size_t c, const char *text, int numeric, int delta)
{
    t->head[c] = cell(b, "%s", text);
    t->numeric[c] = (unsigned char)numeric;
    t->delta[c] = (unsigned char)delta;
}

// ---- the three tables ------------------------------------------------------------------------

static const gq_manifest_run *base_run(const gq_manifest *m)
{
    for (size_t i = 0; i < m->n_runs; i++)
        if (!strcmp(m->runs[i].model, "original")) return &m->runs[i];
    return NULL;
}

static int build_paper(builder *b, const gq_manifest *m, gq_report_model *r)
{
    gq_table *t = &r->tables[GQ_REPORT_TABLE_PAPER];
    const char *labels[GQ_PAPER_MAX_COLS];
    size_t n = gq_report_paper_row(m, &m->runs[0], labels, NULL, NULL, NULL);
    size_t n_cols = 1 + 2 * (n + 1);   /* run, then (value, Δ) for Avg and each column */
    if (table_alloc(b, t, "paper", "Benchmark scores (%)", n_cols, m->n_runs) != GQ_OK) return GQ_ERR_NOMEM;
    r->paper_rows = m->n_runs;
    r->paper_cols = n + 1;
    r->paper_col[0] = "Avg";
    for (size_t c = 0; c < n; c++) r->paper_col[c + 1] = labels[c];
    r->paper_row = gq_calloc(m->n_runs, sizeof *r->paper_row, "chart labels", b->err);
    r->paper_value = gq_calloc(m->n_runs * (n + 1), sizeof *r->paper_value, "chart values", b->err);
    if (!r->paper_row || !r->paper_value) return b->failed = 1, GQ_ERR_NOMEM;

    set_head(b, t, 0, "Model", 0, 0);
    for (size_t c = 0; c <= n; c++) {
        char dh[32];
        snprintf(dh, sizeof dh, "\xce\x94 %s", r->paper_col[c]);
        set_head(b, t, 1 + 2 * c, r->paper_col[c], 1, 0);
        set_head(b, t, 2 + 2 * c, dh, 1, 1);
    }
    const gq_manifest_run *base = base_run(m);
    double base_vals[GQ_PAPER_MAX_COLS], base_avg = NAN;
    unsigned base_mask = 0;
    if (base) gq_report_paper_row(m, base, NULL, base_vals, &base_avg, &base_mask);
    for (size_t i = 0; i < m->n_runs; i++) {
        const gq_manifest_run *run = &m->runs[i];
        char label[256];
        gq_report_run_label(run, label, sizeof label);
        double vals[GQ_PAPER_MAX_COLS], avg;
        unsigned mask;
        gq_report_paper_row(m, run, NULL, vals, &avg, &mask);
        int with_delta = base && run != base && !strcmp(run->model, "converted");
        char **row = t->cells + i * n_cols;
        row[0] = cell(b, "%s", label);
        r->paper_row[i] = cell(b, "%s", label);
        row[1] = pct(b, avg);
        r->paper_value[i * (n + 1)] = avg;
        /* Δ Avg only over the same columns: else it would mix tasks. */
        if (with_delta && mask == base_mask) row[2] = delta_pts(b, 100.0 * (avg - base_avg));
        for (size_t c = 0; c < n; c++) {
            row[3 + 2 * c] = pct(b, vals[c]);
            r->paper_value[i * (n + 1) + 1 + c] = vals[c];
            if (with_delta && !isnan(vals[c]) && !isnan(base_vals[c]))
                row[4 + 2 * c] = delta_pts(b, 100.0 * (vals[c] - base_vals[c]));
        }
    }
    add_note(b, t, "Metric: acc_norm for ARC, PIQA, HS (HellaSwag) and OBQA (OpenBookQA); acc for MMLU and WG "
                   "(WinoGrande), which have no acc_norm (the GQLA preprint's rule: acc_norm when the task has it).");
    if (!m->arc_split)
        add_note(b, t, "ARC = unweighted mean of arc_easy and arc_challenge (lighteval's arc:_average).");
    add_note(b, t, "Avg = unweighted mean of the columns a row has; (\xce\x94) = change vs original in points.");
    /* Say when a row's ARC stands on one subset only, or Δ Avg is left out. */
    for (size_t i = 0; i < m->n_runs; i++) {
        const gq_manifest_run *run = &m->runs[i];
        char label[256], note[400];
        gq_report_run_label(run, label, sizeof label);
        int e = gq_manifest_find_task(run, "arc_easy") != NULL, c = gq_manifest_find_task(run, "arc_challenge") != NULL;
        if (e != c && !m->arc_split) {
            snprintf(note, sizeof note, "%s: ARC is %s alone (%s was not run).", label, e ? "arc_easy" : "arc_challenge",
                     e ? "arc_challenge" : "arc_easy");
            add_note(b, t, note);
        }
        unsigned mask;
        gq_report_paper_row(m, run, NULL, NULL, NULL, &mask);
        if (base && run != base && !strcmp(run->model, "converted") && mask && mask != base_mask) {
            snprintf(note, sizeof note, "%s: no \xce\x94 Avg: its columns are not the original's.", label);
            add_note(b, t, note);
        }
    }
    return b->failed ? GQ_ERR_NOMEM : GQ_OK;
}

/* Consistency rows: the paper tasks in their order, then the rest by name. */
static const char *const task_order[] = {"mmlu", "arc_easy", "arc_challenge", "piqa",
                                         "hellaswag", "openbookqa", "winogrande"};

static int task_rank(const char *name)
{
    for (size_t i = 0; i < sizeof task_order / sizeof task_order[0]; i++)
        if (!strcmp(name, task_order[i])) return (int)i;
    return (int)(sizeof task_order / sizeof task_order[0]);
}

static int cmp_pair_task(const void *x, const void *y)
{
    const gq_manifest_pair_task *a = *(const gq_manifest_pair_task *const *)x;
    const gq_manifest_pair_task *b = *(const gq_manifest_pair_task *const *)y;
    int ra = task_rank(a->name), rb = task_rank(b->name);
    if (ra != rb) return ra < rb ? -1 : 1;
    return strcmp(a->name, b->name);
}

static char *abs_pts(builder *b, double x, double y)
{
    return isnan(x) || isnan(y) ? NULL : cell(b, "%.2f", 100.0 * fabs(x - y));
}

static int build_consistency(builder *b, const gq_manifest *m, gq_report_model *r)
{
    gq_table *t = &r->tables[GQ_REPORT_TABLE_CONSISTENCY];
    size_t n_rows = 0;
    for (size_t p = 0; p < m->n_pairs; p++) n_rows += m->pairs[p].n_tasks;
    const size_t n_cols = 9;
    if (table_alloc(b, t, "consistency", "Cross-path consistency", n_cols, n_rows) != GQ_OK) return GQ_ERR_NOMEM;
    static const char *heads[] = {"Paths", "Task", "Requests", "max |\xce\x94ll|", "mean |\xce\x94ll|",
                                  "Agreement (%)", "|\xce\x94 acc| (pts)", "|\xce\x94 acc_norm| (pts)", "Worst (doc/req)"};
    for (size_t c = 0; c < n_cols; c++) set_head(b, t, c, heads[c], c >= 2 && c < 8, 0);
    size_t row_i = 0;
    for (size_t p = 0; p < m->n_pairs && !b->failed; p++) {
        const gq_manifest_pair *pair = &m->pairs[p];
        char la[256], lb[256];
        gq_report_run_label(gq_manifest_find_run(m, pair->a), la, sizeof la);
        gq_report_run_label(gq_manifest_find_run(m, pair->b), lb, sizeof lb);
        const gq_manifest_pair_task **order = gq_calloc(pair->n_tasks, sizeof *order, "task order", b->err);
        if (!order) return b->failed = 1, GQ_ERR_NOMEM;
        for (size_t i = 0; i < pair->n_tasks; i++) order[i] = &pair->tasks[i];
        qsort(order, pair->n_tasks, sizeof *order, cmp_pair_task);
        for (size_t i = 0; i < pair->n_tasks; i++, row_i++) {
            const gq_manifest_pair_task *pt = order[i];
            char **row = t->cells + row_i * n_cols;
            row[0] = cell(b, "%s vs %s", la, lb);
            row[1] = cell(b, "%s", pt->name);
            row[2] = count_cell(b, pt->n_requests);
            row[3] = isnan(pt->max_abs_dll) ? NULL : cell(b, "%.2e", pt->max_abs_dll);
            row[4] = isnan(pt->mean_abs_dll) ? NULL : cell(b, "%.2e", pt->mean_abs_dll);
            row[5] = pct(b, pt->agreement);
            row[6] = abs_pts(b, pt->acc_a, pt->acc_b);
            row[7] = abs_pts(b, pt->acc_norm_a, pt->acc_norm_b);
            if (pt->worst_doc >= 0 && pt->worst_request >= 0)
                row[8] = cell(b, "%lld/%lld", (long long)pt->worst_doc, (long long)pt->worst_request);
        }
        gq_free((void *)order);
    }
    if (m->n_pairs == 0) add_note(b, t, "No two runs of the same model on different paths: nothing to compare.");
    else
        add_note(b, t, "|\xce\x94ll| = |log-likelihood on path a - on path b| per request; agreement = documents "
                       "whose predicted choice is the same on both paths.");
    return b->failed ? GQ_ERR_NOMEM : GQ_OK;
}

static int build_kvcache(builder *b, const gq_manifest *m, gq_report_model *r)
{
    gq_table *t = &r->tables[GQ_REPORT_TABLE_KVCACHE];
    size_t n_rows = 0;
    for (size_t i = 0; i < m->n_runs; i++) {
        if (m->runs[i].kv_elems >= 0) n_rows++;
        if (m->runs[i].kv_elems_kpe_per_group >= 0) n_rows++;
    }
    /* Under --tp N: one more column, the bytes of the rank that caches most. */
    int per_rank = 0;
    for (size_t i = 0; i < m->n_runs; i++) per_rank |= m->tp > 1 && m->runs[i].kv_elems_rank >= 0;
    const size_t n_cols = per_rank ? 6 : 5;
    if (table_alloc(b, t, "kvcache", "KV cache per token", n_cols, n_rows) != GQ_OK) return GQ_ERR_NOMEM;
    static const char *heads[] = {"Model", "Elements / token / layer", "Layers", "Bytes / token (bf16)",
                                  "vs original", "Bytes / token, largest rank"};
    for (size_t c = 0; c < n_cols; c++) set_head(b, t, c, heads[c], c > 0, 0);
    r->kv_label = gq_calloc(n_rows ? n_rows : 1, sizeof *r->kv_label, "chart labels", b->err);
    r->kv_bytes = gq_calloc(n_rows ? n_rows : 1, sizeof *r->kv_bytes, "chart values", b->err);
    if (!r->kv_label || !r->kv_bytes) return b->failed = 1, GQ_ERR_NOMEM;
    r->kv_rows = n_rows;
    const gq_manifest_run *base = base_run(m);
    double base_bytes = base && base->kv_elems > 0 && base->kv_layers > 0
                            ? 2.0 * (double)base->kv_elems * (double)base->kv_layers
                            : NAN;
    size_t row_i = 0;
    for (size_t i = 0; i < m->n_runs; i++) {
        const gq_manifest_run *run = &m->runs[i];
        for (int variant = 0; variant < 2; variant++) {
            int64_t elems = variant ? run->kv_elems_kpe_per_group : run->kv_elems;
            if (elems < 0) continue;
            char label[300];
            gq_report_run_label(run, label, sizeof label);
            if (variant) strncat(label, " (k_pe per group)", sizeof label - strlen(label) - 1);
            char **row = t->cells + row_i * n_cols;
            double bytes = run->kv_layers >= 0 ? 2.0 * (double)elems * (double)run->kv_layers : NAN;
            row[0] = cell(b, "%s", label);
            row[1] = count_cell(b, elems);
            row[2] = count_cell(b, run->kv_layers);
            row[3] = isnan(bytes) ? NULL : cell(b, "%.0f", bytes);
            row[4] = isnan(bytes) || isnan(base_bytes) ? NULL : cell(b, "%.2f%%", 100.0 * bytes / base_bytes);
            if (per_rank)
                row[5] = !variant && run->kv_elems_rank >= 0 && run->kv_layers >= 0
                             ? cell(b, "%.0f", 2.0 * (double)run->kv_elems_rank * (double)run->kv_layers)
                             : NULL;
            r->kv_label[row_i] = cell(b, "%s", label);
            r->kv_bytes[row_i] = bytes;
            row_i++;
        }
    }
    add_note(b, t, "Bytes / token = elements x 2 (bf16) x layers; vs original = bytes / the original's bytes.");
    if (per_rank) {
        char note[256];
        snprintf(note, sizeof note, "Largest rank: at tp %lld, the rank holding the most KV groups (gqa: its "
                 "groups' K/V + the shared k_pe; absorb: the whole latent on every rank).", (long long)m->tp);
        add_note(b, t, note);
    }
    return b->failed ? GQ_ERR_NOMEM : GQ_OK;
}

// ---- header ----------------------------------------------------------------------------------

static void add_info(builder *b, gq_report_model *r, const char *key, char *value)
{
    if (b->failed || !value) {
        gq_free(value);
        b->failed = 1;
        return;
    }
    r->info_key[r->n_info] = cell(b, "%s", key);
    r->info_value[r->n_info] = value;
    r->n_info++;
}

static void dim(char *buf, size_t size, const char *name, int64_t v)
{
    size_t used = strlen(buf);
    if (v >= 0) snprintf(buf + used, size - used, ", %s %lld", name, (long long)v);
}

static char *model_line(builder *b, const gq_manifest_model *mm, int converted)
{
    char dims[512] = "";
    dim(dims, sizeof dims, "layers", mm->layers);
    dim(dims, sizeof dims, "H", mm->H);
    dim(dims, sizeof dims, "G", mm->G);
    if (!converted) dim(dims, sizeof dims, "head_dim", mm->head_dim);
    dim(dims, sizeof dims, "d_n", mm->d_n);
    dim(dims, sizeof dims, "d_r", mm->d_r);
    dim(dims, sizeof dims, "d_v", mm->d_v);
    dim(dims, sizeof dims, "r", mm->r);
    if (mm->n_params > 0) dim(dims, sizeof dims, "parameters", mm->n_params);   /* 0: not counted */
    return cell(b, "%s (%s, %s%s)", mm->path ? mm->path : "unknown", mm->arch ? mm->arch : "unknown arch",
                mm->dtype ? mm->dtype : "unknown dtype", dims);
}

static int build_info(builder *b, const gq_manifest *m, gq_report_model *r)
{
    const size_t max_info = 10;
    r->info_key = gq_calloc(max_info, sizeof *r->info_key, "report header", b->err);
    r->info_value = gq_calloc(max_info, sizeof *r->info_value, "report header", b->err);
    if (!r->info_key || !r->info_value) return b->failed = 1, GQ_ERR_NOMEM;
    if (m->original.present) add_info(b, r, "Original", model_line(b, &m->original, 0));
    if (m->converted.present) add_info(b, r, "Converted", model_line(b, &m->converted, 1));
    add_info(b, r, "Limit", m->limit >= 0 ? cell(b, "%lld documents per task", (long long)m->limit)
                                          : cell(b, "none (full splits)"));
    add_info(b, r, "Few-shot", m->num_fewshot >= 0 ? cell(b, "%lld", (long long)m->num_fewshot) : cell(b, "unknown"));
    /* A resumed run: the time of every invocation, or say that some were not timed. */
    char *wall = isnan(m->wall_seconds) ? cell(b, "unknown")
                       : m->earlier_untimed && m->invocations > 1
                           ? cell(b, "%.1f s over the last %lld invocations; earlier ones were not timed",
                                  m->wall_seconds, (long long)m->invocations)
                       : m->earlier_untimed ? cell(b, "%.1f s in this invocation; earlier ones were not timed",
                                                   m->wall_seconds)
                       : m->invocations > 1
                           ? cell(b, "%.1f s over %lld invocations (resumed)", m->wall_seconds, (long long)m->invocations)
                           : cell(b, "%.1f s", m->wall_seconds);
    add_info(b, r, "Wall time", wall);
    add_info(b, r, "Peak memory",
             m->peak_rss_bytes >= 0 ? cell(b, "%.1f MiB", (double)m->peak_rss_bytes / (1024.0 * 1024.0))
                                    : cell(b, "unknown"));
    /* How the work was spread, when it was (one process adds no line). */
    if (m->world_size > 1 || m->tp > 1 || m->merged_shards > 0 || m->shard) {
        if (m->merged_shards > 0)
            add_info(b, r, "Parallel", cell(b, "%lld shards merged", (long long)m->merged_shards));
        else if (m->shard)
            add_info(b, r, "Parallel", cell(b, "shard %s", m->shard));
        else
            add_info(b, r, "Parallel", cell(b, "%lld MPI ranks (%lld data parallel, tp %lld)", (long long)m->world_size,
                                            (long long)(m->data_parallel > 0 ? m->data_parallel : 1),
                                            (long long)(m->tp > 0 ? m->tp : 1)));
    }
    if (m->tool) add_info(b, r, "Tool", cell(b, "%s", m->tool));
    if (m->command) add_info(b, r, "Command", cell(b, "%s", m->command));
    if (m->note) add_info(b, r, "Note", cell(b, "%s", m->note));
    return b->failed ? GQ_ERR_NOMEM : GQ_OK;
}

int gq_report_model_build(const gq_manifest *m, gq_report_model *out, gq_error *err)
{
    memset(out, 0, sizeof *out);
    builder b = {err, 0};
    if (m->n_runs == 0) return gq_error_set(err, GQ_ERR_INVALID, "%s: no runs", m->file);
    if (build_info(&b, m, out) == GQ_OK && build_paper(&b, m, out) == GQ_OK &&
        build_consistency(&b, m, out) == GQ_OK && build_kvcache(&b, m, out) == GQ_OK)
        return GQ_OK;
    gq_report_model_free(out);
    return GQ_ERR_NOMEM;
}

static void table_free(gq_table *t)
{
    for (size_t c = 0; t->head && c < t->n_cols; c++) gq_free(t->head[c]);
    for (size_t i = 0; t->cells && i < t->n_rows * t->n_cols; i++) gq_free(t->cells[i]);
    for (size_t i = 0; i < t->n_notes; i++) gq_free(t->notes[i]);
    gq_free(t->head);
    gq_free(t->delta);
    gq_free(t->numeric);
    gq_free(t->cells);
    gq_free(t->notes);
}

void gq_report_model_free(gq_report_model *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n_info; i++) {
        gq_free(r->info_key[i]);
        gq_free(r->info_value[i]);
    }
    gq_free(r->info_key);
    gq_free(r->info_value);
    for (int t = 0; t < GQ_REPORT_N_TABLES; t++) table_free(&r->tables[t]);
    for (size_t i = 0; r->paper_row && i < r->paper_rows; i++) gq_free(r->paper_row[i]);
    gq_free(r->paper_row);
    gq_free(r->paper_value);
    for (size_t i = 0; r->kv_label && i < r->kv_rows; i++) gq_free(r->kv_label[i]);
    gq_free(r->kv_label);
    gq_free(r->kv_bytes);
    memset(r, 0, sizeof *r);
}
