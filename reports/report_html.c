/* report_html.c — a report model as one self-contained HTML5 page: the
 * header, the three tables and two inline SVG bar charts (paper scores per
 * column and run; KV-cache bytes per token per run).  No scripts, no
 * external stylesheet, font or image, so it opens offline and in CI
 * artifacts.  Deterministic like the other formats.
 * Tests: tests/test_report_html.c renders it in headless Chromium. */
#include <math.h>
#include <string.h>

#include "report_model.h"
#include "textbuf.h"

static void html_text(gq_textbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': gq_textbuf_put(b, "&amp;"); break;
        case '<': gq_textbuf_put(b, "&lt;"); break;
        case '>': gq_textbuf_put(b, "&gt;"); break;
        case '"': gq_textbuf_put(b, "&quot;"); break;
        case '\'': gq_textbuf_put(b, "&#39;"); break;
        default: gq_textbuf_putn(b, s, 1);
        }
    }
}

static void html_table(gq_textbuf *b, const gq_table *t)
{
    gq_textbuf_put(b, "<h2>");
    html_text(b, t->title);
    gq_textbuf_printf(b, "</h2>\n<table id=\"%s\">\n<thead><tr>", t->id);
    for (size_t c = 0; c < t->n_cols; c++) {
        if (t->delta[c]) continue;
        gq_textbuf_put(b, t->numeric[c] ? "<th class=\"num\">" : "<th>");
        html_text(b, t->head[c]);
        gq_textbuf_put(b, "</th>");
    }
    gq_textbuf_put(b, "</tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < t->n_rows; i++) {
        char **row = t->cells + i * t->n_cols;
        gq_textbuf_put(b, "<tr>");
        for (size_t c = 0; c < t->n_cols; c++) {
            if (t->delta[c]) continue;
            gq_textbuf_put(b, t->numeric[c] ? "<td class=\"num\">" : "<td>");
            if (row[c]) html_text(b, row[c]);
            else gq_textbuf_put(b, "\xe2\x80\x93");
            if (c + 1 < t->n_cols && t->delta[c + 1] && row[c + 1]) {
                gq_textbuf_put(b, " <span class=\"delta\">(");
                html_text(b, row[c + 1]);
                gq_textbuf_put(b, ")</span>");
            }
            gq_textbuf_put(b, "</td>");
        }
        gq_textbuf_put(b, "</tr>\n");
    }
    gq_textbuf_put(b, "</tbody>\n</table>\n");
    if (t->n_notes) {
        gq_textbuf_put(b, "<p class=\"notes\">");
        for (size_t i = 0; i < t->n_notes; i++) {
            if (i) gq_textbuf_put(b, "<br>\n");
            html_text(b, t->notes[i]);
        }
        gq_textbuf_put(b, "</p>\n");
    }
}

static const char *const palette[] = {"#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860"};
#define N_PALETTE (sizeof palette / sizeof palette[0])

/* Grouped vertical bars: one group per paper column, one bar per run, 0-100 %. */
static void chart_scores(gq_textbuf *b, const gq_report_model *r)
{
    const double bar = 18.0, gap = 24.0, left = 44.0, top = 16.0, plot_h = 220.0, bottom = 34.0;
    const double legend_h = 18.0 * (double)r->paper_rows + 8.0;
    const double group_w = bar * (double)r->paper_rows + gap;
    const double width = left + group_w * (double)r->paper_cols + 16.0;
    const double height = top + plot_h + bottom + legend_h;
    gq_textbuf_printf(b,
                      "<figure>\n<svg id=\"chart-scores\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
                      "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
                      "aria-labelledby=\"chart-scores-title\">\n"
                      "<title id=\"chart-scores-title\">Benchmark scores (%%) per column and model</title>\n",
                      width, height, width, height);
    for (int tick = 0; tick <= 100; tick += 25) {
        double y = top + plot_h * (1.0 - tick / 100.0);
        gq_textbuf_printf(b,
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%d</text>\n",
                          left, y, width - 8.0, y, left - 6.0, y + 4.0, tick);
    }
    for (size_t c = 0; c < r->paper_cols; c++) {
        double gx = left + gap / 2.0 + group_w * (double)c;
        for (size_t i = 0; i < r->paper_rows; i++) {
            double v = r->paper_value[i * r->paper_cols + c];
            if (isnan(v)) continue;
            double h = plot_h * (v < 0 ? 0 : v > 1 ? 1 : v);
            gq_textbuf_printf(b, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                                 "<title>",
                              gx + bar * (double)i, top + plot_h - h, bar - 2.0, h, palette[i % N_PALETTE]);
            html_text(b, r->paper_row[i]);
            gq_textbuf_printf(b, ", %s: %.2f%%</title></rect>\n", r->paper_col[c], 100.0 * v);
        }
        gq_textbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\">", gx + (group_w - gap) / 2.0,
                          top + plot_h + 18.0);
        html_text(b, r->paper_col[c]);
        gq_textbuf_put(b, "</text>\n");
    }
    for (size_t i = 0; i < r->paper_rows; i++) {
        double y = top + plot_h + bottom + 18.0 * (double)i;
        gq_textbuf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                             "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">",
                          left, y, palette[i % N_PALETTE], left + 18.0, y + 10.0);
        html_text(b, r->paper_row[i]);
        gq_textbuf_put(b, "</text>\n");
    }
    gq_textbuf_put(b, "</svg>\n<figcaption>Benchmark scores (%) per column and model; metric per column as in the "
                      "table.</figcaption>\n</figure>\n");
}

/* Horizontal bars: bf16 bytes per token over all layers, per row of the KV table. */
static void chart_kv(gq_textbuf *b, const gq_report_model *r)
{
    double max = 0.0;
    for (size_t i = 0; i < r->kv_rows; i++)
        if (!isnan(r->kv_bytes[i]) && r->kv_bytes[i] > max) max = r->kv_bytes[i];
    const double label_w = 260.0, plot_w = 360.0, row_h = 24.0, top = 8.0;
    const double width = label_w + plot_w + 90.0, height = top * 2.0 + row_h * (double)r->kv_rows;
    gq_textbuf_printf(b,
                      "<figure>\n<svg id=\"chart-kvcache\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
                      "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
                      "aria-labelledby=\"chart-kvcache-title\">\n"
                      "<title id=\"chart-kvcache-title\">KV cache bytes per token (bf16, all layers)</title>\n",
                      width, height, width, height);
    for (size_t i = 0; i < r->kv_rows; i++) {
        double y = top + row_h * (double)i;
        gq_textbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"12\">", label_w - 8.0,
                          y + 15.0);
        html_text(b, r->kv_label[i]);
        gq_textbuf_put(b, "</text>\n");
        if (isnan(r->kv_bytes[i]) || max <= 0.0) continue;
        double w = plot_w * r->kv_bytes[i] / max;
        gq_textbuf_printf(b, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                             "<title>%.0f bytes</title></rect>"
                             "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">%.0f B</text>\n",
                          label_w, y + 3.0, w, row_h - 6.0, palette[i % N_PALETTE], r->kv_bytes[i],
                          label_w + w + 6.0, y + 15.0, r->kv_bytes[i]);
    }
    gq_textbuf_put(b, "</svg>\n<figcaption>KV cache bytes per token (bf16, all layers).</figcaption>\n</figure>\n");
}

int gq_report_render_html(const gq_report_model *r, char **out, size_t *len, gq_error *err)
{
    gq_textbuf b;
    gq_textbuf_init(&b);
    gq_textbuf_put(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                       "<title>gqla-eval report</title>\n<style>\n"
                       "body{font-family:system-ui,sans-serif;margin:2em;max-width:72em;color:#222}\n"
                       "table{border-collapse:collapse;margin:.5em 0}\n"
                       "th,td{border-bottom:1px solid #ccc;padding:.25em .7em;text-align:left}\n"
                       "th.num,td.num{text-align:right;font-variant-numeric:tabular-nums}\ntd.num,td:first-child{white-space:nowrap}\n"
                       ".delta{color:#666;font-size:.9em}\n.notes{font-size:.9em;color:#444}\n"
                       "figure{margin:1em 0}\nfigcaption{font-size:.9em;color:#444}\n"
                       "</style>\n</head>\n<body>\n<h1>gqla-eval report</h1>\n<dl>\n");
    for (size_t i = 0; i < r->n_info; i++) {
        gq_textbuf_put(&b, "<dt>");
        html_text(&b, r->info_key[i]);
        gq_textbuf_put(&b, "</dt><dd>");
        html_text(&b, r->info_value[i]);
        gq_textbuf_put(&b, "</dd>\n");
    }
    gq_textbuf_put(&b, "</dl>\n");
    html_table(&b, &r->tables[GQ_REPORT_TABLE_PAPER]);
    chart_scores(&b, r);
    html_table(&b, &r->tables[GQ_REPORT_TABLE_CONSISTENCY]);
    html_table(&b, &r->tables[GQ_REPORT_TABLE_KVCACHE]);
    if (r->kv_rows) chart_kv(&b, r);
    gq_textbuf_put(&b, "</body>\n</html>\n");
    return gq_textbuf_finish(&b, out, len, err);
}
