/* ds_local.c — readers for the original release files laid out as in
 * ../shared/datasets (see its SOURCES.md), returning rows with the field
 * names, order and types of the Hugging Face copies (tasks.md §3.7):
 *
 *   allenai/ai2_arc ARC-{Easy,Challenge}  arc/<cfg>/<cfg>-{Test,Train,Dev}.jsonl (AllenAI)
 *                                        or arc/<cfg>_hf-export/<split>.json (HF array)
 *   allenai/openbookqa main               openbookqa/Data/Main/{test,dev,train}.jsonl
 *   cais/mmlu SUBJECT                     mmlu/data/{test,dev,val}/SUBJECT_*.csv
 *   baber/piqa                            piqa/{valid,train}.jsonl + *-labels.lst
 *   allenai/winogrande winogrande_SIZE    winogrande/winogrande_1.1/{dev,train_SIZE,test}.jsonl
 *                                         (+ *-labels.lst, cross-checked)
 *   Rowan/hellaswag                       hellaswag/hellaswag_{val,train,test}.jsonl (original),
 *                                         else hellaswag/hellaswag_val_full.txt (llama.cpp's
 *                                         preprocessed text; rows {"query","endings","label",
 *                                         "preprocessed":true}, lossy: see SOURCES.md)
 *
 * Every row is checked for the fields its format must have, their JSON types
 * and valid UTF-8; the first bad row fails the load with a message naming
 * the file, the line (CSV: record and line) and the field.  Not here: any
 * task logic (prompts, gold indices), decompression (.bz2 is refused with a
 * hint), the Hub.  Tested by tests/test_datasets_local.c (invented rows) and
 * tests/test_datasets_shared.c (the real files, row counts of tasks.md §7).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_internal.h"
#include "fileio.h"
#include "gq_alloc.h"
#include "gq_utf8.h"

#define LOC_MAX 4200

// ---- JSON lines ----------------------------------------------------------------

/* Turns one parsed JSONL object into an HF row (*row, owned by the caller). */
typedef int (*jsonl_row_fn)(const cJSON *obj, const char *loc, size_t index, void *ctx,
                            cJSON **row, gq_error *err);

static size_t count_nonblank_lines(const char *text, size_t n)
{
    ds_lines it;
    const char *l;
    size_t len, count = 0;
    ds_lines_init(&it, text, n);
    while (ds_lines_next(&it, &l, &len)) {
        size_t k = 0;
        while (k < len && (l[k] == ' ' || l[k] == '\t')) k++;
        if (k < len) count++;
    }
    return count;
}

static int read_jsonl(ds_rows_builder *b, const char *path, jsonl_row_fn fn, void *ctx,
                      gq_error *err)
{
    char *text = NULL;
    size_t n = 0;
    cJSON *obj = NULL, *row = NULL;
    char loc[LOC_MAX], where[LOC_MAX];
    int rc = gq_file_read_all(path, &text, &n, err);
    if (rc != GQ_OK) goto fail;
    ds_lines it;
    const char *line;
    size_t len, index = 0;
    ds_lines_init(&it, text, n);
    if (n >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) it.p += 3;
    while (ds_lines_next(&it, &line, &len)) {
        size_t k = 0;
        while (k < len && (line[k] == ' ' || line[k] == '\t')) k++;
        if (k == len) continue;
        snprintf(loc, sizeof loc, "%s: line %zu", path, it.lineno);
        snprintf(where, sizeof where, "%s:line %zu", path, it.lineno);
        if ((rc = ds_check_row_size(len, loc, err)) != GQ_OK) goto fail;
        const char *stop = NULL;
        obj = cJSON_ParseWithLengthOpts(line, len, &stop, 0);
        if (obj && stop)
            while (stop < line + len && (*stop == ' ' || *stop == '\t')) stop++;
        if (obj && stop != line + len) {
            rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: text after the JSON object (one object per line expected)",
                              loc);
            goto fail;
        }
        if (!obj) {
            rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: not valid JSON (truncated or broken line)", loc);
            goto fail;
        }
        if (!cJSON_IsObject(obj)) {
            rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: the line holds %s, expected a JSON object",
                              loc, ds_type_name(obj));
            goto fail;
        }
        rc = ds_check_utf8_tree(obj, loc, "", err);
        if (rc != GQ_OK) goto fail;
        rc = fn(obj, loc, index, ctx, &row, err);
        if (rc != GQ_OK) goto fail;
        cJSON_Delete(obj);
        obj = NULL;
        rc = ds_builder_add(b, row, where, err);
        row = NULL;
        if (rc != GQ_OK) goto fail;
        index++;
    }
    if (index == 0) {
        rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: the file is empty (expected one JSON object per line)",
                          path);
        goto fail;
    }
    gq_free(text);
    return GQ_OK;
fail:
    cJSON_Delete(row);
    cJSON_Delete(obj);
    gq_free(text);
    return rc;
}

// ---- ARC / OpenBookQA (AllenAI JSONL) ------------------------------------------

/* {"id","question":{"stem","choices":[{"text","label"}]},"answerKey"}
 *   -> {"id", QKEY, "choices":{"text":[...],"label":[...]}, "answerKey"} */
static int allenai_row(const cJSON *obj, const char *loc, size_t index, void *ctx, cJSON **out,
                       gq_error *err)
{
    const char *qkey = ctx;
    const cJSON *id, *q, *stem, *choices, *key;
    cJSON *row = NULL, *ch = NULL, *texts = NULL, *labels = NULL;
    (void)index;
    *out = NULL;
    int rc = ds_need(obj, "id", "id", cJSON_String, loc, &id, err);
    if (rc == GQ_OK) rc = ds_need(obj, "question", "question", cJSON_Object, loc, &q, err);
    if (rc == GQ_OK) rc = ds_need(q, "stem", "question.stem", cJSON_String, loc, &stem, err);
    if (rc == GQ_OK) rc = ds_need(q, "choices", "question.choices", cJSON_Array, loc, &choices, err);
    if (rc == GQ_OK) rc = ds_need(obj, "answerKey", "answerKey", cJSON_String, loc, &key, err);
    if (rc != GQ_OK) return rc;
    if (!choices->child)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: field 'question.choices' is empty", loc);
    rc = GQ_ERR_NOMEM;
    row = cJSON_CreateObject();
    ch = cJSON_CreateObject();
    texts = cJSON_CreateArray();
    labels = cJSON_CreateArray();
    if (!row || !ch || !texts || !labels) {
        gq_error_set(err, GQ_ERR_NOMEM, "%s: out of memory", loc);
        goto fail;
    }
    size_t i = 0;
    for (const cJSON *c = choices->child; c; c = c->next, i++) {
        char f[64];
        const cJSON *t, *l;
        if (!cJSON_IsObject(c)) {
            rc = gq_error_set(err, GQ_ERR_INVALID, "%s: field 'question.choices[%zu]' is %s, expected an object",
                              loc, i, ds_type_name(c));
            goto fail;
        }
        snprintf(f, sizeof f, "question.choices[%zu].text", i);
        rc = ds_need(c, "text", f, cJSON_String, loc, &t, err);
        if (rc != GQ_OK) goto fail;
        snprintf(f, sizeof f, "question.choices[%zu].label", i);
        rc = ds_need(c, "label", f, cJSON_String, loc, &l, err);
        if (rc != GQ_OK) goto fail;
        if ((rc = ds_append_str(texts, t->valuestring, err)) != GQ_OK) goto fail;
        if ((rc = ds_append_str(labels, l->valuestring, err)) != GQ_OK) goto fail;
    }
    if ((rc = ds_add_item(ch, "text", texts, err)) != GQ_OK) {
        texts = NULL;
        goto fail;
    }
    texts = NULL;
    if ((rc = ds_add_item(ch, "label", labels, err)) != GQ_OK) {
        labels = NULL;
        goto fail;
    }
    labels = NULL;
    if ((rc = ds_add_str(row, "id", id->valuestring, err)) != GQ_OK) goto fail;
    if ((rc = ds_add_str(row, qkey, stem->valuestring, err)) != GQ_OK) goto fail;
    rc = ds_add_item(row, "choices", ch, err);
    ch = NULL;
    if (rc != GQ_OK) goto fail;
    if ((rc = ds_add_str(row, "answerKey", key->valuestring, err)) != GQ_OK) goto fail;
    *out = row;
    return GQ_OK;
fail:
    cJSON_Delete(labels);
    cJSON_Delete(texts);
    cJSON_Delete(ch);
    cJSON_Delete(row);
    return rc;
}

// ---- HF-shaped JSON array (e.g. ARC-Easy_hf-export/test.json) ----------------------

static int read_hf_array(ds_rows_builder *b, const char *path, const char *hf_id, gq_error *err)
{
    char *text = NULL;
    size_t n = 0;
    cJSON *elem = NULL;
    char loc[LOC_MAX], where[LOC_MAX];
    int rc = gq_file_read_all(path, &text, &n, err);
    if (rc != GQ_OK) goto fail;
    ds_json_array_iter it;
    size_t line;
    ds_json_array_init(&it, text, n, path);
    while ((rc = ds_json_array_next(&it, &elem, &line, err)) == 1) {
        snprintf(loc, sizeof loc, "%s: line %zu (row %zu)", path, line, it.index - 1);
        snprintf(where, sizeof where, "%s:line %zu", path, line);
        rc = ds_validate_hf_row(hf_id, elem, loc, err);
        if (rc != GQ_OK) goto fail;
        rc = ds_builder_add(b, elem, where, err);
        elem = NULL;
        if (rc != GQ_OK) goto fail;
    }
    if (rc < 0) goto fail;
    if (b->n == 0) {
        rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: the JSON array has no rows", path);
        goto fail;
    }
    gq_free(text);
    return GQ_OK;
fail:
    cJSON_Delete(elem);
    gq_free(text);
    return rc;
}

// ---- label files (.lst: one integer per line) ------------------------------------

static int read_labels(const char *path, long **out, size_t *n_out, gq_error *err)
{
    char *text = NULL;
    size_t n = 0, count = 0;
    long *labels = NULL;
    *out = NULL;
    *n_out = 0;
    int rc = gq_file_read_all(path, &text, &n, err);
    if (rc != GQ_OK) goto fail;
    size_t lines = 0;
    for (size_t i = 0; i < n; i++) lines += text[i] == '\n';
    labels = gq_calloc(lines + 1, sizeof *labels, "labels", err);
    if (!labels) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    ds_lines it;
    const char *l;
    size_t len;
    ds_lines_init(&it, text, n);
    while (ds_lines_next(&it, &l, &len)) {
        char buf[32];
        size_t a = 0, e = len;
        while (a < e && (l[a] == ' ' || l[a] == '\t')) a++;
        while (e > a && (l[e - 1] == ' ' || l[e - 1] == '\t')) e--;
        char *end = NULL;
        if (e == a || e - a >= sizeof buf) goto bad;
        memcpy(buf, l + a, e - a);
        buf[e - a] = '\0';
        errno = 0;
        long v = strtol(buf, &end, 10);
        if (errno != 0 || *end != '\0') goto bad;
        labels[count++] = v;
        continue;
    bad:
        rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: line %zu: expected one integer label per line", path,
                          it.lineno);
        goto fail;
    }
    if (count == 0) {
        rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: the file is empty (expected one label per line)", path);
        goto fail;
    }
    gq_free(text);
    *out = labels;
    *n_out = count;
    return GQ_OK;
fail:
    gq_free(labels);
    gq_free(text);
    return rc;
}

/* Counts the rows of a JSONL file (non-blank lines) to compare with a labels file. */
static int count_jsonl_rows(const char *path, size_t *count, gq_error *err)
{
    char *text = NULL;
    size_t n = 0;
    int rc = gq_file_read_all(path, &text, &n, err);
    if (rc != GQ_OK) return rc;
    *count = count_nonblank_lines(text, n);
    gq_free(text);
    return GQ_OK;
}

// ---- PIQA ------------------------------------------------------------------------------

typedef struct piqa_ctx {
    const long *labels;
    const char *labels_path;
} piqa_ctx;

static int piqa_row(const cJSON *obj, const char *loc, size_t index, void *vctx, cJSON **out,
                    gq_error *err)
{
    piqa_ctx *ctx = vctx;
    const cJSON *goal, *s1, *s2;
    *out = NULL;
    int rc = ds_need(obj, "goal", "goal", cJSON_String, loc, &goal, err);
    if (rc == GQ_OK) rc = ds_need(obj, "sol1", "sol1", cJSON_String, loc, &s1, err);
    if (rc == GQ_OK) rc = ds_need(obj, "sol2", "sol2", cJSON_String, loc, &s2, err);
    if (rc != GQ_OK) return rc;
    long label = ctx->labels[index];
    if (label != 0 && label != 1)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: line %zu: label %ld, expected 0 or 1 (for %s)",
                            ctx->labels_path, index + 1, label, loc);
    cJSON *row = cJSON_CreateObject();
    if (!row) return gq_error_set(err, GQ_ERR_NOMEM, "%s: out of memory", loc);
    if ((rc = ds_add_str(row, "goal", goal->valuestring, err)) != GQ_OK ||
        (rc = ds_add_str(row, "sol1", s1->valuestring, err)) != GQ_OK ||
        (rc = ds_add_str(row, "sol2", s2->valuestring, err)) != GQ_OK ||
        (rc = ds_add_num(row, "label", (double)label, err)) != GQ_OK) {
        cJSON_Delete(row);
        return rc;
    }
    *out = row;
    return GQ_OK;
}

static int check_counts(const char *data_path, const char *labels_path, size_t n_rows,
                        size_t n_labels, gq_error *err)
{
    if (n_rows == n_labels) return GQ_OK;
    return gq_error_set(err, GQ_ERR_FORMAT,
                        "%s has %zu rows but %s has %zu labels; the two files must match line for line",
                        data_path, n_rows, labels_path, n_labels);
}

static int read_piqa(ds_rows_builder *b, const char *path, const char *labels_path, gq_error *err)
{
    long *labels = NULL;
    size_t n_labels = 0, n_rows = 0;
    int rc = read_labels(labels_path, &labels, &n_labels, err);
    if (rc == GQ_OK) rc = count_jsonl_rows(path, &n_rows, err);
    if (rc == GQ_OK) rc = check_counts(path, labels_path, n_rows, n_labels, err);
    if (rc == GQ_OK) {
        piqa_ctx ctx = {labels, labels_path};
        rc = read_jsonl(b, path, piqa_row, &ctx, err);
    }
    gq_free(labels);
    return rc;
}

// ---- WinoGrande ------------------------------------------------------------------

typedef struct wino_ctx {
    const long *labels;   /* NULL without a labels file */
    const char *labels_path;
} wino_ctx;

static int wino_row(const cJSON *obj, const char *loc, size_t index, void *vctx, cJSON **out,
                    gq_error *err)
{
    wino_ctx *ctx = vctx;
    const cJSON *sent, *o1, *o2, *ans = NULL;
    char label_buf[8] = "";
    *out = NULL;
    int rc = ds_need(obj, "sentence", "sentence", cJSON_String, loc, &sent, err);
    if (rc == GQ_OK) rc = ds_need(obj, "option1", "option1", cJSON_String, loc, &o1, err);
    if (rc == GQ_OK) rc = ds_need(obj, "option2", "option2", cJSON_String, loc, &o2, err);
    if (rc != GQ_OK) return rc;
    if (cJSON_GetObjectItemCaseSensitive(obj, "answer")) {
        rc = ds_need(obj, "answer", "answer", cJSON_String, loc, &ans, err);
        if (rc != GQ_OK) return rc;
        const char *a = ans->valuestring;
        if (strcmp(a, "1") != 0 && strcmp(a, "2") != 0 && strcmp(a, "") != 0)
            return gq_error_set(err, GQ_ERR_INVALID, "%s: field 'answer' is \"%.16s\", expected \"1\" or \"2\"",
                                loc, a);
    }
    if (ctx->labels) {
        long l = ctx->labels[index];
        if (l != 1 && l != 2)
            return gq_error_set(err, GQ_ERR_INVALID, "%s: line %zu: label %ld, expected 1 or 2",
                                ctx->labels_path, index + 1, l);
        snprintf(label_buf, sizeof label_buf, "%ld", l);
        if (ans && ans->valuestring[0] && strcmp(ans->valuestring, label_buf) != 0)
            return gq_error_set(err, GQ_ERR_INVALID,
                                "%s: field 'answer' is \"%s\" but %s line %zu says %s", loc,
                                ans->valuestring, ctx->labels_path, index + 1, label_buf);
    } else if (ans) {
        snprintf(label_buf, sizeof label_buf, "%s", ans->valuestring);
    }
    cJSON *row = cJSON_CreateObject();
    if (!row) return gq_error_set(err, GQ_ERR_NOMEM, "%s: out of memory", loc);
    if ((rc = ds_add_str(row, "sentence", sent->valuestring, err)) != GQ_OK ||
        (rc = ds_add_str(row, "option1", o1->valuestring, err)) != GQ_OK ||
        (rc = ds_add_str(row, "option2", o2->valuestring, err)) != GQ_OK ||
        (rc = ds_add_str(row, "answer", label_buf, err)) != GQ_OK) {
        cJSON_Delete(row);
        return rc;
    }
    *out = row;
    return GQ_OK;
}

static int read_winogrande(ds_rows_builder *b, const char *path, const char *labels_path,
                           gq_error *err)
{
    long *labels = NULL;
    size_t n_labels = 0, n_rows = 0;
    int rc = GQ_OK;
    int have_labels = labels_path && gq_path_exists(labels_path);
    if (have_labels) {
        rc = read_labels(labels_path, &labels, &n_labels, err);
        if (rc == GQ_OK) rc = count_jsonl_rows(path, &n_rows, err);
        if (rc == GQ_OK) rc = check_counts(path, labels_path, n_rows, n_labels, err);
    }
    if (rc == GQ_OK) {
        wino_ctx ctx = {labels, labels_path};
        rc = read_jsonl(b, path, wino_row, &ctx, err);
    }
    gq_free(labels);
    return rc;
}

// ---- HellaSwag ------------------------------------------------------------------------

/* Original jsonl -> HF row: same fields in HF order, label as a string. */
static int hellaswag_row(const cJSON *obj, const char *loc, size_t index, void *ctx, cJSON **out,
                         gq_error *err)
{
    static const char *const order[] = {"ind", "activity_label", "ctx_a", "ctx_b", "ctx",
                                        "endings", "source_id", "split", "split_type"};
    (void)index;
    (void)ctx;
    *out = NULL;
    int rc = ds_need(obj, "activity_label", "activity_label", cJSON_String, loc, NULL, err);
    if (rc == GQ_OK) rc = ds_need(obj, "ctx_a", "ctx_a", cJSON_String, loc, NULL, err);
    if (rc == GQ_OK) rc = ds_need(obj, "ctx_b", "ctx_b", cJSON_String, loc, NULL, err);
    if (rc == GQ_OK) rc = ds_need_str_list(obj, "endings", "endings", 1, 16, loc, NULL, err);
    if (rc != GQ_OK) return rc;
    char label[32] = "";
    const cJSON *lab = cJSON_GetObjectItemCaseSensitive(obj, "label");
    if (lab && cJSON_IsString(lab)) {
        snprintf(label, sizeof label, "%s", lab->valuestring);
    } else if (lab) {
        long v;
        rc = ds_need_int(obj, "label", "label", 0, 15, loc, &v, err);
        if (rc != GQ_OK) return rc;
        snprintf(label, sizeof label, "%ld", v);
    }
    cJSON *row = cJSON_CreateObject();
    if (!row) return gq_error_set(err, GQ_ERR_NOMEM, "%s: out of memory", loc);
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, order[i]);
        if (!v) continue;
        if ((rc = ds_add_item(row, order[i], cJSON_Duplicate(v, 1), err)) != GQ_OK) {
            cJSON_Delete(row);
            return rc;
        }
    }
    if ((rc = ds_add_str(row, "label", label, err)) != GQ_OK) {
        cJSON_Delete(row);
        return rc;
    }
    *out = row;
    return GQ_OK;
}

/* llama.cpp's hellaswag_val_full.txt: 6 lines per item. */
static int read_hellaswag_txt(ds_rows_builder *b, const char *path, gq_error *err)
{
    char *text = NULL;
    size_t n = 0;
    cJSON *row = NULL, *ends = NULL;
    char loc[LOC_MAX], where[LOC_MAX];
    int rc = gq_file_read_all(path, &text, &n, err);
    if (rc != GQ_OK) goto fail;
    if (n == 0) {
        rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: the file is empty (expected 6 lines per item)", path);
        goto fail;
    }
    ds_lines it;
    const char *l[6];
    size_t len[6];
    ds_lines_init(&it, text, n);
    for (;;) {
        size_t got = 0;
        while (got < 6 && ds_lines_next(&it, &l[got], &len[got])) got++;
        if (got == 0) break;
        size_t first = it.lineno - got + 1;
        snprintf(loc, sizeof loc, "%s: line %zu", path, first);
        snprintf(where, sizeof where, "%s:line %zu", path, first);
        for (size_t k = 0; k < got; k++)
            if ((rc = ds_check_row_size(len[k], loc, err)) != GQ_OK) goto fail;
        if (got < 6) {
            rc = gq_error_set(err, GQ_ERR_FORMAT,
                              "%s: the last item has %zu of its 6 lines (query, label, 4 endings); truncated file?",
                              loc, got);
            goto fail;
        }
        static const char *const names[6] = {"query", "label", "endings[0]", "endings[1]",
                                             "endings[2]", "endings[3]"};
        for (size_t k = 0; k < 6; k++) {
            size_t bad = gq_utf8_valid_len(l[k], len[k]);
            if (bad < len[k]) {
                rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: line %zu: field '%s' is not valid UTF-8 (byte %zu)",
                                  path, first + k, names[k], bad);
                goto fail;
            }
        }
        if (len[1] != 1 || l[1][0] < '0' || l[1][0] > '3') {
            rc = gq_error_set(err, GQ_ERR_FORMAT,
                              "%s: line %zu: field 'label' is \"%.*s\", expected a digit 0-3 (6 lines per item: "
                              "query, label, 4 endings)",
                              path, first + 1, (int)(len[1] > 20 ? 20 : len[1]), l[1]);
            goto fail;
        }
        char *buf = NULL;
        row = cJSON_CreateObject();
        ends = cJSON_CreateArray();
        if (!row || !ends) {
            rc = gq_error_set(err, GQ_ERR_NOMEM, "%s: out of memory", loc);
            goto fail;
        }
        for (size_t k = 0; k < 6; k++) {
            buf = gq_malloc(len[k] + 1, "line", err);
            if (!buf) {
                rc = GQ_ERR_NOMEM;
                goto fail;
            }
            memcpy(buf, l[k], len[k]);
            buf[len[k]] = '\0';
            if (k == 0) rc = ds_add_str(row, "query", buf, err);
            else if (k >= 2) rc = ds_append_str(ends, buf, err);
            gq_free(buf);
            if (rc != GQ_OK) goto fail;
        }
        rc = ds_add_item(row, "endings", ends, err);
        ends = NULL;
        if (rc != GQ_OK) goto fail;
        char lab[2] = {l[1][0], '\0'};
        if ((rc = ds_add_str(row, "label", lab, err)) != GQ_OK) goto fail;
        if ((rc = ds_add_item(row, "preprocessed", cJSON_CreateTrue(), err)) != GQ_OK) goto fail;
        rc = ds_builder_add(b, row, where, err);
        row = NULL;
        if (rc != GQ_OK) goto fail;
    }
    gq_free(text);
    return GQ_OK;
fail:
    cJSON_Delete(ends);
    cJSON_Delete(row);
    gq_free(text);
    return rc;
}

// ---- MMLU CSV --------------------------------------------------------------------------

static int read_mmlu_csv(ds_rows_builder *b, const char *path, const char *subject, gq_error *err)
{
    static const char *const cols[6] = {"question", "A", "B", "C", "D", "answer"};
    char *text = NULL;
    size_t n = 0;
    cJSON *row = NULL, *choices = NULL;
    char loc[LOC_MAX], where[LOC_MAX];
    ds_csv csv;
    ds_csv_init(&csv, NULL, 0);
    int rc = gq_file_read_all(path, &text, &n, err);
    if (rc != GQ_OK) goto fail;
    ds_csv_init(&csv, text, n);
    while ((rc = ds_csv_next(&csv, path, err)) == 1) {
        snprintf(loc, sizeof loc, "%s: record %zu (line %zu)", path, csv.record, csv.record_line);
        snprintf(where, sizeof where, "%s:line %zu", path, csv.record_line);
        if (csv.n_fields != 6) {
            rc = gq_error_set(err, GQ_ERR_FORMAT,
                              "%s: %zu columns, expected 6 (question, A, B, C, D, answer letter)", loc,
                              csv.n_fields);
            goto fail;
        }
        for (size_t k = 0; k < 6; k++) {
            size_t bad = gq_utf8_valid_len(ds_csv_field(&csv, k), csv.lens[k]);
            if (bad < csv.lens[k]) {
                rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: field '%s' (column %zu) is not valid UTF-8 (byte %zu)",
                                  loc, cols[k], k + 1, bad);
                goto fail;
            }
        }
        const char *ans = ds_csv_field(&csv, 5);
        if (csv.lens[5] != 1 || ans[0] < 'A' || ans[0] > 'D') {
            rc = gq_error_set(err, GQ_ERR_INVALID, "%s: field 'answer' (column 6) is \"%.16s\", expected A, B, C or D",
                              loc, ans);
            goto fail;
        }
        row = cJSON_CreateObject();
        choices = cJSON_CreateArray();
        if (!row || !choices) {
            rc = gq_error_set(err, GQ_ERR_NOMEM, "%s: out of memory", loc);
            goto fail;
        }
        for (size_t k = 1; k <= 4; k++)
            if ((rc = ds_append_str(choices, ds_csv_field(&csv, k), err)) != GQ_OK) goto fail;
        if ((rc = ds_add_str(row, "question", ds_csv_field(&csv, 0), err)) != GQ_OK) goto fail;
        if ((rc = ds_add_str(row, "subject", subject, err)) != GQ_OK) goto fail;
        rc = ds_add_item(row, "choices", choices, err);
        choices = NULL;
        if (rc != GQ_OK) goto fail;
        if ((rc = ds_add_num(row, "answer", (double)(ans[0] - 'A'), err)) != GQ_OK) goto fail;
        rc = ds_builder_add(b, row, where, err);
        row = NULL;
        if (rc != GQ_OK) goto fail;
    }
    if (rc < 0) goto fail;
    if (b->n == 0) {
        rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: the file is empty (expected CSV records: question, A, B, C, D, answer)",
                          path);
        goto fail;
    }
    ds_csv_free(&csv);
    gq_free(text);
    return GQ_OK;
fail:
    cJSON_Delete(choices);
    cJSON_Delete(row);
    ds_csv_free(&csv);
    gq_free(text);
    return rc;
}

// ---- resolving (id, config, split) to files ---------------------------------------------

typedef enum {
    FMT_ARC_JSONL,
    FMT_OBQA_JSONL,
    FMT_HF_ARRAY,
    FMT_MMLU_CSV,
    FMT_PIQA,
    FMT_WINOGRANDE,
    FMT_HELLASWAG_JSONL,
    FMT_HELLASWAG_TXT,
    FMT_BZ2_HINT,   /* only a .bz2 is there: refuse with a hint */
} ds_format;

typedef struct ds_candidate {
    ds_format fmt;
    char rel[512];     /* data file, relative to data_dir */
    char rel2[512];    /* labels file or "" */
} ds_candidate;

#define MAX_CAND 4

static int is_name(const char *s)
{
    if (!s || !*s) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) return 0;
    return 1;
}

static void cand(ds_candidate *c, size_t *n, ds_format f, const char *rel, const char *rel2)
{
    if (*n >= MAX_CAND) return;
    c[*n].fmt = f;
    snprintf(c[*n].rel, sizeof c[*n].rel, "%s", rel);
    snprintf(c[*n].rel2, sizeof c[*n].rel2, "%s", rel2 ? rel2 : "");
    (*n)++;
}

static int eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* Fills the candidate files for a reference, in order of preference.
 * Returns 0 with *n == 0 for an unknown split (the caller reports it). */
static int resolve(const char *id, const char *config, const char *split, ds_candidate *c,
                   size_t *n, gq_error *err)
{
    char a[512], b2[512];
    *n = 0;
    if (eq(id, "allenai/ai2_arc")) {
        if (!eq(config, "ARC-Easy") && !eq(config, "ARC-Challenge"))
            return gq_error_set(err, GQ_ERR_USAGE,
                                "allenai/ai2_arc: unknown config '%s' (expected ARC-Easy or ARC-Challenge)",
                                config ? config : "(none)");
        const char *suffix = eq(split, "test") ? "Test" : eq(split, "train") ? "Train"
                             : eq(split, "validation") ? "Dev" : NULL;
        if (!suffix) return GQ_OK;
        snprintf(a, sizeof a, "arc/%s/%s-%s.jsonl", config, config, suffix);
        cand(c, n, FMT_ARC_JSONL, a, NULL);
        snprintf(a, sizeof a, "arc/%s_hf-export/%s.json", config, split);
        cand(c, n, FMT_HF_ARRAY, a, NULL);
        return GQ_OK;
    }
    if (eq(id, "allenai/openbookqa")) {
        if (config && !eq(config, "main"))
            return gq_error_set(err, GQ_ERR_UNSUPPORTED,
                                "allenai/openbookqa: config '%s' is not read from local files (only 'main')",
                                config);
        const char *f = eq(split, "test") ? "test" : eq(split, "validation") ? "dev"
                        : eq(split, "train") ? "train" : NULL;
        if (!f) return GQ_OK;
        snprintf(a, sizeof a, "openbookqa/Data/Main/%s.jsonl", f);
        cand(c, n, FMT_OBQA_JSONL, a, NULL);
        return GQ_OK;
    }
    if (eq(id, "cais/mmlu")) {
        if (!is_name(config))
            return gq_error_set(err, GQ_ERR_USAGE,
                                "cais/mmlu: config must be a subject name such as abstract_algebra (got '%s')",
                                config ? config : "(none)");
        const char *d = eq(split, "test") ? "test" : eq(split, "dev") ? "dev"
                        : eq(split, "validation") ? "val" : NULL;
        if (!d) return GQ_OK;
        snprintf(a, sizeof a, "mmlu/data/%s/%s_%s.csv", d, config, d);
        cand(c, n, FMT_MMLU_CSV, a, NULL);
        return GQ_OK;
    }
    if (eq(id, "baber/piqa") || eq(id, "ybisk/piqa")) {
        if (config && !eq(config, "default") && !eq(config, "plain_text"))
            return gq_error_set(err, GQ_ERR_USAGE, "%s: unknown config '%s' (it has none)", id, config);
        const char *f = eq(split, "validation") ? "valid" : eq(split, "train") ? "train" : NULL;
        if (!f) return GQ_OK;
        snprintf(a, sizeof a, "piqa/%s.jsonl", f);
        snprintf(b2, sizeof b2, "piqa/%s-labels.lst", f);
        cand(c, n, FMT_PIQA, a, b2);
        return GQ_OK;
    }
    if (eq(id, "allenai/winogrande")) {
        static const char *const sizes[] = {"xs", "s", "m", "l", "xl", "debiased"};
        const char *size = NULL;
        for (size_t i = 0; config && i < sizeof sizes / sizeof sizes[0]; i++)
            if (strncmp(config, "winogrande_", 11) == 0 && eq(config + 11, sizes[i])) size = sizes[i];
        if (!size)
            return gq_error_set(err, GQ_ERR_USAGE,
                                "allenai/winogrande: unknown config '%s' (expected winogrande_xs ... winogrande_xl, "
                                "winogrande_debiased)",
                                config ? config : "(none)");
        const char *dir = "winogrande/winogrande_1.1";
        if (eq(split, "validation")) {
            snprintf(a, sizeof a, "%s/dev.jsonl", dir);
            snprintf(b2, sizeof b2, "%s/dev-labels.lst", dir);
        } else if (eq(split, "train")) {
            snprintf(a, sizeof a, "%s/train_%s.jsonl", dir, size);
            snprintf(b2, sizeof b2, "%s/train_%s-labels.lst", dir, size);
        } else if (eq(split, "test")) {
            snprintf(a, sizeof a, "%s/test.jsonl", dir);
            b2[0] = '\0';
        } else {
            return GQ_OK;
        }
        cand(c, n, FMT_WINOGRANDE, a, b2);
        return GQ_OK;
    }
    if (eq(id, "Rowan/hellaswag")) {
        if (config && !eq(config, "default"))
            return gq_error_set(err, GQ_ERR_USAGE, "Rowan/hellaswag: unknown config '%s' (it has none)",
                                config);
        const char *f = eq(split, "validation") ? "val" : eq(split, "train") ? "train"
                        : eq(split, "test") ? "test" : NULL;
        if (!f) return GQ_OK;
        snprintf(a, sizeof a, "hellaswag/hellaswag_%s.jsonl", f);
        cand(c, n, FMT_HELLASWAG_JSONL, a, NULL);
        if (eq(split, "validation")) {
            cand(c, n, FMT_HELLASWAG_TXT, "hellaswag/hellaswag_val_full.txt", NULL);
            cand(c, n, FMT_BZ2_HINT, "hellaswag/hellaswag_val_full.txt.bz2", NULL);
        }
        return GQ_OK;
    }
    return gq_error_set(err, GQ_ERR_UNSUPPORTED,
                        "%s: no local reader for this dataset (known: allenai/ai2_arc, allenai/openbookqa, "
                        "cais/mmlu, baber/piqa, allenai/winogrande, Rowan/hellaswag); leave out --data-dir to "
                        "use the Hub",
                        id ? id : "(none)");
}

int ds_local_load(gq_rows *out, const char *hf_id, const char *config, const char *split,
                  const char *data_dir, gq_error *err)
{
    ds_candidate c[MAX_CAND];
    size_t nc = 0;
    char *path = NULL, *path2 = NULL;
    ds_rows_builder b;
    memset(out, 0, sizeof *out);
    int rc = ds_builder_init(&b, err);
    if (rc != GQ_OK) return rc;
    rc = resolve(hf_id, config, split, c, &nc, err);
    if (rc != GQ_OK) goto fail;
    if (nc == 0) {
        rc = gq_error_set(err, GQ_ERR_USAGE, "%s%s%s: no split '%s' in the local files", hf_id,
                          config ? "/" : "", config ? config : "", split ? split : "(none)");
        goto fail;
    }
    size_t pick = nc;
    for (size_t i = 0; i < nc && pick == nc; i++) {
        gq_free(path);
        path = gq_path_join(data_dir, c[i].rel, err);
        if (!path) {
            rc = GQ_ERR_NOMEM;
            goto fail;
        }
        if (gq_path_exists(path)) pick = i;
    }
    if (pick == nc) {
        char tried[2048] = "";
        size_t used = 0;
        for (size_t i = 0; i < nc; i++) {
            int w = snprintf(tried + used, sizeof tried - used, "%s%s", i ? ", " : "", c[i].rel);
            if (w < 0 || (size_t)w >= sizeof tried - used) break;
            used += (size_t)w;
        }
        rc = gq_error_set(err, GQ_ERR_IO,
                          "%s%s%s split '%s': not found under %s (looked for %s); see "
                          "shared/datasets/SOURCES.md for the layout, or leave out --data-dir to use the Hub",
                          hf_id, config ? "/" : "", config ? config : "", split, data_dir, tried);
        goto fail;
    }
    if (c[pick].rel2[0]) {
        path2 = gq_path_join(data_dir, c[pick].rel2, err);
        if (!path2) {
            rc = GQ_ERR_NOMEM;
            goto fail;
        }
    }
    switch (c[pick].fmt) {
    case FMT_ARC_JSONL: rc = read_jsonl(&b, path, allenai_row, (void *)"question", err); break;
    case FMT_OBQA_JSONL: rc = read_jsonl(&b, path, allenai_row, (void *)"question_stem", err); break;
    case FMT_HF_ARRAY: rc = read_hf_array(&b, path, hf_id, err); break;
    case FMT_MMLU_CSV: rc = read_mmlu_csv(&b, path, config, err); break;
    case FMT_PIQA: rc = read_piqa(&b, path, path2, err); break;
    case FMT_WINOGRANDE: rc = read_winogrande(&b, path, path2, err); break;
    case FMT_HELLASWAG_JSONL: rc = read_jsonl(&b, path, hellaswag_row, NULL, err); break;
    case FMT_HELLASWAG_TXT: rc = read_hellaswag_txt(&b, path, err); break;
    case FMT_BZ2_HINT:
        rc = gq_error_set(err, GQ_ERR_UNSUPPORTED,
                          "%s: only the bzip2-compressed file is here; gqla-eval does not read .bz2 ---> HINT: "
                          "run `bunzip2 -k %s` (or bzcat it to hellaswag_val_full.txt beside it)",
                          path, path);
        break;
    }
    if (rc != GQ_OK) goto fail;
    char origin[LOC_MAX];
    snprintf(origin, sizeof origin, "local:%s%s%s", path, path2 ? " + " : "", path2 ? path2 : "");
    rc = ds_builder_finish(&b, out, origin, err);
    if (rc != GQ_OK) goto fail;
    gq_free(path);
    gq_free(path2);
    return GQ_OK;
fail:
    ds_builder_free(&b);
    gq_free(path);
    gq_free(path2);
    memset(out, 0, sizeof *out);
    return rc;
}
