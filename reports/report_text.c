/* report_text.c — a report model (report_model.h) as GitHub Markdown,
 * LaTeX (booktabs) and CSV (RFC 4180: CRLF line ends, fields with a comma,
 * quote or line break quoted, quotes doubled).  Byte-deterministic: the
 * output depends on the model alone. */
#include <string.h>

#include "report_model.h"
#include "textbuf.h"

#define EN_DASH "\xe2\x80\x93"

// ---- Markdown --------------------------------------------------------------------------------

/* Backslash-escape what Markdown would read as markup; line breaks become spaces. */
static void md_text(gq_textbuf *b, const char *s)
{
    for (; *s; s++) {
        if (strchr("\\`*_[]<>|#", *s)) {
            char esc[3] = {'\\', *s, 0};
            gq_textbuf_put(b, esc);
        } else if (*s == '\n' || *s == '\r') {
            gq_textbuf_put(b, " ");
        } else {
            gq_textbuf_putn(b, s, 1);
        }
    }
}

/* A pipe table; a Δ column goes in parentheses into the cell before it. */
static void md_table(gq_textbuf *b, const gq_table *t)
{
    gq_textbuf_printf(b, "\n## %s\n\n", t->title);
    if (t->n_rows == 0) {
        gq_textbuf_put(b, "(no rows)\n");
    } else {
        gq_textbuf_put(b, "|");
        for (size_t c = 0; c < t->n_cols; c++) {
            if (t->delta[c]) continue;
            gq_textbuf_put(b, " ");
            md_text(b, t->head[c]);
            gq_textbuf_put(b, " |");
        }
        gq_textbuf_put(b, "\n|");
        for (size_t c = 0; c < t->n_cols; c++)
            if (!t->delta[c]) gq_textbuf_put(b, t->numeric[c] ? "---:|" : "---|");
        gq_textbuf_put(b, "\n");
        for (size_t i = 0; i < t->n_rows; i++) {
            char **row = t->cells + i * t->n_cols;
            gq_textbuf_put(b, "|");
            for (size_t c = 0; c < t->n_cols; c++) {
                if (t->delta[c]) continue;
                gq_textbuf_put(b, " ");
                if (row[c]) md_text(b, row[c]);
                else gq_textbuf_put(b, EN_DASH);
                if (c + 1 < t->n_cols && t->delta[c + 1] && row[c + 1]) {
                    gq_textbuf_put(b, " (");
                    md_text(b, row[c + 1]);
                    gq_textbuf_put(b, ")");
                }
                gq_textbuf_put(b, " |");
            }
            gq_textbuf_put(b, "\n");
        }
    }
    for (size_t i = 0; i < t->n_notes; i++) {
        if (i == 0) gq_textbuf_put(b, "\n");
        md_text(b, t->notes[i]);
        gq_textbuf_put(b, i + 1 < t->n_notes ? "\\\n" : "\n");
    }
}

int gq_report_render_md(const gq_report_model *r, char **out, size_t *len, gq_error *err)
{
    gq_textbuf b;
    gq_textbuf_init(&b);
    gq_textbuf_put(&b, "# gqla-eval report\n\n");
    for (size_t i = 0; i < r->n_info; i++) {
        gq_textbuf_put(&b, "- **");
        md_text(&b, r->info_key[i]);
        gq_textbuf_put(&b, ":** ");
        md_text(&b, r->info_value[i]);
        gq_textbuf_put(&b, "\n");
    }
    for (int t = 0; t < GQ_REPORT_N_TABLES; t++) md_table(&b, &r->tables[t]);
    return gq_textbuf_finish(&b, out, len, err);
}

// ---- LaTeX -----------------------------------------------------------------------------------

static void tex_text(gq_textbuf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        switch (ch) {
        case '\\': gq_textbuf_put(b, "\\textbackslash{}"); break;
        case '&': case '%': case '$': case '#': case '_': case '{': case '}': {
            char esc[3] = {'\\', (char)ch, 0};
            gq_textbuf_put(b, esc);
            break;
        }
        case '~': gq_textbuf_put(b, "\\textasciitilde{}"); break;
        case '^': gq_textbuf_put(b, "\\textasciicircum{}"); break;
        case '|': gq_textbuf_put(b, "\\textbar{}"); break;
        case '<': gq_textbuf_put(b, "\\textless{}"); break;
        case '>': gq_textbuf_put(b, "\\textgreater{}"); break;
        case '\n': case '\r': gq_textbuf_put(b, " "); break;
        default:
            if (!strncmp(s, "\xce\x94", 2)) { gq_textbuf_put(b, "$\\Delta$"); s += 1; }
            else if (!strncmp(s, "\xc2\xb7", 2)) { gq_textbuf_put(b, "$\\cdot$"); s += 1; }
            else if (!strncmp(s, EN_DASH, 3)) { gq_textbuf_put(b, "--"); s += 2; }
            else gq_textbuf_putn(b, s, 1);
        }
    }
}

static void tex_table(gq_textbuf *b, const gq_table *t)
{
    gq_textbuf_put(b, "\\begin{table}[ht]\n\\centering\n\\caption{");
    tex_text(b, t->title);
    gq_textbuf_printf(b, "}\n\\label{tab:gqla-%s}\n", t->id);
    if (t->n_rows == 0) {
        gq_textbuf_put(b, "(no rows)\n\\end{table}\n\n");
        return;
    }
    gq_textbuf_put(b, "\\begin{tabular}{");
    for (size_t c = 0; c < t->n_cols; c++)
        if (!t->delta[c]) gq_textbuf_put(b, t->numeric[c] ? "r" : "l");
    gq_textbuf_put(b, "}\n\\toprule\n");
    int first = 1;
    for (size_t c = 0; c < t->n_cols; c++) {
        if (t->delta[c]) continue;
        if (!first) gq_textbuf_put(b, " & ");
        tex_text(b, t->head[c]);
        first = 0;
    }
    gq_textbuf_put(b, " \\\\\n\\midrule\n");
    for (size_t i = 0; i < t->n_rows; i++) {
        char **row = t->cells + i * t->n_cols;
        first = 1;
        for (size_t c = 0; c < t->n_cols; c++) {
            if (t->delta[c]) continue;
            if (!first) gq_textbuf_put(b, " & ");
            first = 0;
            if (row[c]) tex_text(b, row[c]);
            else gq_textbuf_put(b, "--");
            if (c + 1 < t->n_cols && t->delta[c + 1] && row[c + 1]) {
                gq_textbuf_put(b, " (");
                tex_text(b, row[c + 1]);
                gq_textbuf_put(b, ")");
            }
        }
        gq_textbuf_put(b, " \\\\\n");
    }
    gq_textbuf_put(b, "\\bottomrule\n\\end{tabular}\n");
    for (size_t i = 0; i < t->n_notes; i++) {
        gq_textbuf_put(b, i ? "\\\\\n" : "\n\\smallskip\n{\\footnotesize ");
        tex_text(b, t->notes[i]);
    }
    if (t->n_notes) gq_textbuf_put(b, "}\n");
    gq_textbuf_put(b, "\\end{table}\n\n");
}

int gq_report_render_tex(const gq_report_model *r, char **out, size_t *len, gq_error *err)
{
    gq_textbuf b;
    gq_textbuf_init(&b);
    gq_textbuf_put(&b, "% gqla-eval report, generated from gqla_run.json by `gqla-eval report`.\n"
                       "% Each table environment can be copied into a paper (needs \\usepackage{booktabs}).\n"
                       "\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage[T1]{fontenc}\n"
                       "\\usepackage{booktabs}\n\\begin{document}\n\n\\section*{gqla-eval report}\n\n"
                       "\\begin{description}\n");
    for (size_t i = 0; i < r->n_info; i++) {
        gq_textbuf_put(&b, "\\item[");
        tex_text(&b, r->info_key[i]);
        gq_textbuf_put(&b, "] ");
        tex_text(&b, r->info_value[i]);
        gq_textbuf_put(&b, "\n");
    }
    gq_textbuf_put(&b, "\\end{description}\n\n");
    for (int t = 0; t < GQ_REPORT_N_TABLES; t++) tex_table(&b, &r->tables[t]);
    gq_textbuf_put(&b, "\\end{document}\n");
    return gq_textbuf_finish(&b, out, len, err);
}

// ---- CSV -------------------------------------------------------------------------------------

static void csv_field(gq_textbuf *b, const char *s)
{
    if (!s) return;
    if (!strpbrk(s, ",\"\r\n")) {
        gq_textbuf_put(b, s);
        return;
    }
    gq_textbuf_put(b, "\"");
    for (; *s; s++) gq_textbuf_put(b, *s == '"' ? "\"\"" : (char[2]){*s, 0});
    gq_textbuf_put(b, "\"");
}

int gq_report_render_csv(const gq_report_model *r, char **out, size_t *len, gq_error *err)
{
    gq_textbuf b;
    gq_textbuf_init(&b);
    /* Block 1: the header as key,value; then one block per table, each row
     * led by the table's id so that a block reads on its own.  Blocks are
     * separated by an empty line. */
    gq_textbuf_put(&b, "table,key,value\r\n");
    for (size_t i = 0; i < r->n_info; i++) {
        gq_textbuf_put(&b, "info,");
        csv_field(&b, r->info_key[i]);
        gq_textbuf_put(&b, ",");
        csv_field(&b, r->info_value[i]);
        gq_textbuf_put(&b, "\r\n");
    }
    for (int ti = 0; ti < GQ_REPORT_N_TABLES; ti++) {
        const gq_table *t = &r->tables[ti];
        gq_textbuf_put(&b, "\r\ntable");
        for (size_t c = 0; c < t->n_cols; c++) {
            gq_textbuf_put(&b, ",");
            csv_field(&b, t->head[c]);
        }
        gq_textbuf_put(&b, "\r\n");
        for (size_t i = 0; i < t->n_rows; i++) {
            gq_textbuf_put(&b, t->id);
            for (size_t c = 0; c < t->n_cols; c++) {
                gq_textbuf_put(&b, ",");
                csv_field(&b, t->cells[i * t->n_cols + c]);
            }
            gq_textbuf_put(&b, "\r\n");
        }
    }
    return gq_textbuf_finish(&b, out, len, err);
}
