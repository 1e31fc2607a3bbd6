/* ds_csv.c — an RFC-4180 CSV record reader for the MMLU release files.
 *
 * What it accepts (the files are what Python's csv.reader reads; HF's
 * cais/mmlu was built with it):
 *   - fields separated by ',', records by "\r\n", "\n" or a lone "\r",
 *     mixed freely within one file;
 *   - quoted fields with commas, doubled quotes ("" -> ") and raw CR/LF
 *     inside, kept byte for byte (csv.reader keeps them too);
 *   - a '"' inside an unquoted field is literal (as csv.reader);
 *   - a last record without a final newline; a UTF-8 BOM at the start;
 *   - blank lines between records are skipped.
 * What it refuses, with the record and line: a quoted field that never
 * closes, text after a closing quote (`"a"b`), and NUL bytes.
 * It is not a general CSV library: no other delimiters, no header handling.
 * Tested by tests/test_datasets_local.c (case csv).
 */
#include <stdio.h>
#include <string.h>

#include "ds_internal.h"
#include "gq_alloc.h"

void ds_csv_init(ds_csv *c, const char *data, size_t n)
{
    memset(c, 0, sizeof *c);
    c->p = data;
    c->end = data ? data + n : NULL;
    c->line = 1;
    if (data && n >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) c->p += 3;
}

void ds_csv_free(ds_csv *c)
{
    if (!c) return;
    gq_free(c->buf);
    gq_free(c->offs);
    gq_free(c->lens);
    c->buf = NULL;
    c->offs = c->lens = NULL;
    c->buf_cap = c->cap_fields = 0;
}

static int buf_put(ds_csv *c, char ch, gq_error *err)
{
    if (c->buf_len + 1 >= c->buf_cap) {
        size_t cap = c->buf_cap ? c->buf_cap * 2 : 1024;
        char *nb = gq_realloc(c->buf, cap, "CSV record", err);
        if (!nb) return GQ_ERR_NOMEM;
        c->buf = nb;
        c->buf_cap = cap;
    }
    c->buf[c->buf_len++] = ch;
    return GQ_OK;
}

/* Open a new field at the current end of buf. */
static int field_begin(ds_csv *c, gq_error *err)
{
    if (c->n_fields == c->cap_fields) {
        size_t cap = c->cap_fields ? c->cap_fields * 2 : 8;
        size_t *no = gq_realloc(c->offs, cap * sizeof *no, "CSV fields", err);
        if (!no) return GQ_ERR_NOMEM;
        c->offs = no;
        size_t *nl = gq_realloc(c->lens, cap * sizeof *nl, "CSV fields", err);
        if (!nl) return GQ_ERR_NOMEM;
        c->lens = nl;
        c->cap_fields = cap;
    }
    c->offs[c->n_fields] = c->buf_len;
    c->lens[c->n_fields] = 0;
    c->n_fields++;
    return GQ_OK;
}

static int field_end(ds_csv *c, gq_error *err)
{
    size_t i = c->n_fields - 1;
    c->lens[i] = c->buf_len - c->offs[i];
    return buf_put(c, '\0', err);
}

int ds_csv_next(ds_csv *c, const char *path, gq_error *err)
{
    c->n_fields = 0;
    c->buf_len = 0;
    /* Skip blank lines between records. */
    while (c->p && c->p < c->end && (*c->p == '\n' || *c->p == '\r')) {
        if (*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n') c->p++;
        c->p++;
        c->line++;
    }
    if (!c->p || c->p >= c->end) return 0;
    c->record++;
    c->record_line = c->line;
    if (field_begin(c, err) != GQ_OK) return GQ_ERR_NOMEM;
    int quoted = 0, after_quote = 0, at_start = 1;
    size_t quote_line = c->line;
    while (c->p < c->end) {
        char ch = *c->p;
        if (ch == '\0')
            return gq_error_set(err, GQ_ERR_FORMAT, "%s: record %zu (line %zu): NUL byte in field %zu",
                                path, c->record, c->line, c->n_fields);
        if (quoted) {
            c->p++;
            if (ch == '"') {
                if (c->p < c->end && *c->p == '"') {
                    c->p++;
                    if (buf_put(c, '"', err) != GQ_OK) return GQ_ERR_NOMEM;
                } else {
                    quoted = 0;
                    after_quote = 1;
                }
                continue;
            }
            if (ch == '\n') c->line++;
            if (ch == '\r' && !(c->p < c->end && *c->p == '\n')) c->line++;
            if (buf_put(c, ch, err) != GQ_OK) return GQ_ERR_NOMEM;
            continue;
        }
        if (ch == ',') {
            c->p++;
            if (field_end(c, err) != GQ_OK || field_begin(c, err) != GQ_OK) return GQ_ERR_NOMEM;
            after_quote = 0;
            at_start = 1;
            continue;
        }
        if (ch == '\n' || ch == '\r') {
            c->p++;
            if (ch == '\r' && c->p < c->end && *c->p == '\n') c->p++;
            c->line++;
            break;
        }
        if (after_quote)
            return gq_error_set(err, GQ_ERR_FORMAT,
                                "%s: record %zu (line %zu): field %zu: text after the closing quote "
                                "(expected ',' or the end of the record)",
                                path, c->record, c->line, c->n_fields);
        c->p++;
        if (ch == '"' && at_start) {
            quoted = 1;
            quote_line = c->line;
            at_start = 0;
            continue;
        }
        at_start = 0;
        if (buf_put(c, ch, err) != GQ_OK) return GQ_ERR_NOMEM;
    }
    if (quoted)
        return gq_error_set(err, GQ_ERR_FORMAT,
                            "%s: record %zu (line %zu): field %zu: quoted field opened on line %zu never closes "
                            "(truncated file?)",
                            path, c->record, c->record_line, c->n_fields, quote_line);
    if (field_end(c, err) != GQ_OK) return GQ_ERR_NOMEM;
    if (c->buf_len > DS_MAX_ROW_BYTES) {
        char loc[700];
        snprintf(loc, sizeof loc, "%s: record %zu (line %zu)", path, c->record, c->record_line);
        return ds_check_row_size(c->buf_len, loc, err);
    }
    return 1;
}
