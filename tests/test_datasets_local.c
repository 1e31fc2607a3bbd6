/* test_datasets_local.c — the original-release readers of datasets/ on small
 * files this test writes itself (invented items, nothing from ../shared),
 * the CSV reader's edge cases, bad rows (status + message naming the file,
 * line and field), the datasets-server page parser and the cache container.
 *
 * Usage: test_datasets_local CASE (one ctest entry per case,
 * tests/datasets.cmake).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset.h"
#include "ds_internal.h"
#include "testutil.h"

static char root[4096];

/* Write root/rel, making its folders. */
static void put(const char *rel, const char *text)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *s = path + strlen(root) + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        mkdir(path, 0777);
        *s = '/';
    }
    if (test_write_file(path, text, strlen(text)) != 0) fprintf(stderr, "cannot write %s\n", path);
}

static void rm(const char *rel)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    remove(path);
}

static int load(gq_rows *r, const char *id, const char *cfg, const char *split, gq_error *err)
{
    gq_dataset_opts o = {0};
    o.data_dir = root;
    o.quiet = 1;
    gq_error_clear(err);
    int rc = gq_dataset_load(r, id, cfg, split, &o, err);
    if (rc != GQ_OK) printf("  -> %s\n", err->msg);
    return rc;
}

static const char *s_at(const gq_rows *r, size_t i, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(r->rows, (int)i), k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static const cJSON *at(const gq_rows *r, size_t i, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(r->rows, (int)i), k);
}

static int has(const char *hay, const char *needle) { return hay && strstr(hay, needle) != NULL; }

/* Load that must fail with `status` and a message holding every needle. */
static void expect_fail(const char *what, const char *id, const char *cfg, const char *split,
                        int status, const char *n1, const char *n2, const char *n3)
{
    gq_rows r;
    gq_error err;
    int rc = load(&r, id, cfg, split, &err);
    char label[512];
    snprintf(label, sizeof label, "%s: fails with status %d", what, status);
    test_cond(label, rc == status);
    snprintf(label, sizeof label, "%s: rows zeroed on failure", what);
    test_cond(label, r.rows == NULL && r.n == 0 && r.where == NULL);
    const char *n[3] = {n1, n2, n3};
    for (int i = 0; i < 3; i++) {
        if (!n[i]) continue;
        snprintf(label, sizeof label, "%s: message mentions \"%s\"", what, n[i]);
        test_cond(label, has(err.msg, n[i]));
    }
    gq_rows_free(&r);
}

// ---- ARC ---------------------------------------------------------------------

static const char *arc_jsonl =
    "{\"id\":\"T-1\",\"question\":{\"stem\":\"Which tool measures mass?\",\"choices\":[{\"text\":\"ruler\",\"label\":\"A\"},"
    "{\"text\":\"balance\",\"label\":\"B\"},{\"text\":\"thermometer\",\"label\":\"C\"}]},\"answerKey\":\"B\"}\r\n"
    "\r\n"
    "{\"id\":\"T-2\",\"question\":{\"stem\":\"Caf\\u00e9 \xC3\xA9t\xC3\xA9 question?\",\"choices\":[{\"text\":\"one\",\"label\":\"1\"},"
    "{\"text\":\"two\",\"label\":\"2\"},{\"text\":\"three\",\"label\":\"3\"},{\"text\":\"four\",\"label\":\"4\"}]},\"answerKey\":\"4\"}\n"
    "{\"id\":\"T-3\",\"question\":{\"stem\":\"Five?\",\"choices\":[{\"text\":\"a\",\"label\":\"A\"},{\"text\":\"b\",\"label\":\"B\"},"
    "{\"text\":\"c\",\"label\":\"C\"},{\"text\":\"d\",\"label\":\"D\"},{\"text\":\"e\",\"label\":\"E\"}]},\"answerKey\":\"E\"}";

static void case_arc_jsonl(void)
{
    put("arc/ARC-Challenge/ARC-Challenge-Test.jsonl", arc_jsonl);
    gq_rows r;
    gq_error err;
    int rc = load(&r, "allenai/ai2_arc", "ARC-Challenge", "test", &err);
    test_cond("arc jsonl loads", rc == GQ_OK);
    if (rc != GQ_OK) return;
    test_cond("arc jsonl: 3 rows (blank line skipped)", r.n == 3);
    test_cond("arc: id", strcmp(s_at(&r, 0, "id"), "T-1") == 0);
    test_cond("arc: question <- question.stem", strcmp(s_at(&r, 0, "question"), "Which tool measures mass?") == 0);
    test_cond("arc: escaped and raw UTF-8 kept", strcmp(s_at(&r, 1, "question"), "Caf\xC3\xA9 \xC3\xA9t\xC3\xA9 question?") == 0);
    const cJSON *ch = at(&r, 0, "choices");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(ch, "text");
    const cJSON *label = cJSON_GetObjectItemCaseSensitive(ch, "label");
    test_cond("arc: choices.text in order", cJSON_GetArraySize(text) == 3 &&
                                               strcmp(cJSON_GetArrayItem(text, 1)->valuestring, "balance") == 0);
    test_cond("arc: choices.label in order", cJSON_GetArraySize(label) == 3 &&
                                                strcmp(cJSON_GetArrayItem(label, 2)->valuestring, "C") == 0);
    test_cond("arc: numeric labels kept", strcmp(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(at(&r, 1, "choices"), "label"), 3)->valuestring, "4") == 0);
    test_cond("arc: 5 choices", cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(at(&r, 2, "choices"), "text")) == 5);
    test_cond("arc: answerKey", strcmp(s_at(&r, 2, "answerKey"), "E") == 0);
    const cJSON *row = cJSON_GetArrayItem(r.rows, 0);
    test_cond("arc: HF field order id, question, choices, answerKey",
              strcmp(row->child->string, "id") == 0 && strcmp(row->child->next->string, "question") == 0 &&
                  strcmp(row->child->next->next->string, "choices") == 0 &&
                  strcmp(row->child->next->next->next->string, "answerKey") == 0);
    test_cond("arc: where line 1", has(r.where[0], "ARC-Challenge-Test.jsonl:line 1"));
    test_cond("arc: where line 3 (after the blank line)", has(r.where[1], "ARC-Challenge-Test.jsonl:line 3"));
    test_cond("arc: last line without newline", has(r.where[2], ":line 4"));
    test_cond("arc: origin names the file", has(r.origin, "ARC-Challenge-Test.jsonl"));
    gq_rows_free(&r);
    test_cond("gq_rows_free resets", r.rows == NULL && r.n == 0);
    gq_rows_free(&r);

    /* An AllenAI-format ARC-Easy file is preferred over the HF export. */
    put("arc/ARC-Easy_hf-export/validation.json",
        "[{\"id\":\"x\",\"question\":\"q\",\"choices\":{\"text\":[\"a\"],\"label\":[\"A\"]},\"answerKey\":\"A\"}]");
    put("arc/ARC-Easy/ARC-Easy-Dev.jsonl", arc_jsonl);
    rc = load(&r, "allenai/ai2_arc", "ARC-Easy", "validation", &err);
    test_cond("arc easy: AllenAI jsonl preferred", rc == GQ_OK && r.n == 3 && has(r.origin, "ARC-Easy-Dev.jsonl"));
    gq_rows_free(&r);
    rm("arc/ARC-Easy/ARC-Easy-Dev.jsonl");
    rc = load(&r, "allenai/ai2_arc", "ARC-Easy", "validation", &err);
    test_cond("arc easy: else the HF export", rc == GQ_OK && r.n == 1 && has(r.origin, "validation.json"));
    gq_rows_free(&r);
    expect_fail("arc: unknown config", "allenai/ai2_arc", "ARC-Medium", "test", GQ_ERR_USAGE, "ARC-Medium", NULL, NULL);
    expect_fail("arc: challenge train absent", "allenai/ai2_arc", "ARC-Challenge", "train", GQ_ERR_IO,
                "ARC-Challenge-Train.jsonl", "not found", NULL);
}

static void case_arc_hf_array(void)
{
    put("arc/ARC-Easy_hf-export/test.json",
        "[\n"
        "  {\n"
        "    \"id\": \"E-1\",\n"
        "    \"question\": \"Which is a liquid at room temperature?\",\n"
        "    \"choices\": {\"text\": [\"iron\", \"water\", \"salt\"], \"label\": [\"A\", \"B\", \"C\"]},\n"
        "    \"answerKey\": \"B\"\n"
        "  },\n"
        "  {\n"
        "    \"id\": \"E-2\",\n"
        "    \"question\": \"Pick \\u00e9\",\n"
        "    \"choices\": {\"text\": [\"x\", \"y\"], \"label\": [\"1\", \"2\"]},\n"
        "    \"answerKey\": \"2\"\n"
        "  }\n"
        "]\n");
    gq_rows r;
    gq_error err;
    int rc = load(&r, "allenai/ai2_arc", "ARC-Easy", "test", &err);
    test_cond("hf array loads", rc == GQ_OK && r.n == 2);
    if (rc == GQ_OK) {
        test_cond("hf array: row kept", strcmp(s_at(&r, 1, "question"), "Pick \xC3\xA9") == 0);
        test_cond("hf array: where line 2", has(r.where[0], "test.json:line 2"));
        test_cond("hf array: where line 8", has(r.where[1], "test.json:line 8"));
    }
    gq_rows_free(&r);
    put("arc/ARC-Easy_hf-export/test.json",
        "[\n {\"id\":\"E-1\",\"question\":\"q\",\"choices\":{\"text\":[\"a\"],\"label\":[\"A\"]},\"answerKey\":\"A\"},\n"
        " {\"id\":\"E-2\",\"question\":\"q\",\"choices\":{\"text\":[\"a\",\"b\"],\"label\":[\"A\"]},\"answerKey\":\"A\"}\n]");
    expect_fail("hf array: text/label lengths differ", "allenai/ai2_arc", "ARC-Easy", "test", GQ_ERR_INVALID,
                "test.json: line 3", "'choices.text' has 2 items", NULL);
    put("arc/ARC-Easy_hf-export/test.json",
        "[\n {\"id\":\"E-1\",\"question\":\"q\",\"choices\":{\"text\":[\"a\"],\"label\":[\"A\"]}}\n]");
    expect_fail("hf array: missing answerKey", "allenai/ai2_arc", "ARC-Easy", "test", GQ_ERR_INVALID,
                "line 2", "field 'answerKey' missing", NULL);
    put("arc/ARC-Easy_hf-export/test.json",
        "[\n {\"id\":\"E-1\",\"question\":\"q\",\"choices\":{\"text\":[\"a\"],\"label\":[\"A\"]},\"answerKey\":\"A\"},\n"
        " {\"id\":\"E-2\",\"question\":\"q\",\"choi");
    expect_fail("hf array: truncated", "allenai/ai2_arc", "ARC-Easy", "test", GQ_ERR_FORMAT, "line 3",
                "not valid JSON", NULL);
    put("arc/ARC-Easy_hf-export/test.json", "");
    expect_fail("hf array: empty file", "allenai/ai2_arc", "ARC-Easy", "test", GQ_ERR_FORMAT, "empty", NULL, NULL);
    put("arc/ARC-Easy_hf-export/test.json", "{\"id\": 1}");
    expect_fail("hf array: not an array", "allenai/ai2_arc", "ARC-Easy", "test", GQ_ERR_FORMAT,
                "expected a JSON array", NULL, NULL);
}

static void case_obqa(void)
{
    put("openbookqa/Data/Main/test.jsonl",
        "{\"id\": \"7-1\", \"question\": {\"stem\": \"A magnet attracts\", \"choices\": [{\"text\": \"wood\", \"label\": \"A\"}, "
        "{\"text\": \"iron\", \"label\": \"B\"}, {\"text\": \"glass\", \"label\": \"C\"}, {\"text\": \"paper\", \"label\": \"D\"}]}, "
        "\"answerKey\": \"B\"}\n");
    put("openbookqa/Data/Main/dev.jsonl",
        "{\"id\": \"7-2\", \"question\": {\"stem\": \"s\", \"choices\": [{\"text\": \"t\", \"label\": \"A\"}]}, \"answerKey\": \"A\"}\n"
        "{\"id\": \"7-3\", \"question\": {\"stem\": \"s\", \"choices\": [{\"text\": \"t\", \"label\": \"A\"}]}, \"answerKey\": \"A\"}\n");
    gq_rows r;
    gq_error err;
    int rc = load(&r, "allenai/openbookqa", "main", "test", &err);
    test_cond("obqa loads", rc == GQ_OK && r.n == 1);
    if (rc == GQ_OK) {
        test_cond("obqa: question_stem", strcmp(s_at(&r, 0, "question_stem"), "A magnet attracts") == 0);
        test_cond("obqa: no 'question' field", at(&r, 0, "question") == NULL);
        test_cond("obqa: choices.text", cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(at(&r, 0, "choices"), "text")) == 4);
    }
    gq_rows_free(&r);
    rc = load(&r, "allenai/openbookqa", "main", "validation", &err);
    test_cond("obqa: validation <- dev.jsonl", rc == GQ_OK && r.n == 2);
    gq_rows_free(&r);
    expect_fail("obqa: additional config not local", "allenai/openbookqa", "additional", "test", GQ_ERR_UNSUPPORTED,
                "additional", NULL, NULL);
}

// ---- MMLU and CSV ----------------------------------------------------------------

static void case_mmlu_csv(void)
{
    put("mmlu/data/test/toy_subject_test.csv",
        "What is 2+2?,3,4,5,6,B\r\n"
        "\"Pick the word, with a comma\",\"say \"\"hi\"\"\",b,c,d,A\n"
        "\"Two\nlines\",x,y,z,w,D\r\n"
        "last,1,2,3,4,C");
    put("mmlu/data/dev/toy_subject_dev.csv", "q,a,b,c,d,A\n");
    put("mmlu/data/val/toy_subject_val.csv", "q,a,b,c,d,A\nq2,a,b,c,d,B\n");
    gq_rows r;
    gq_error err;
    int rc = load(&r, "cais/mmlu", "toy_subject", "test", &err);
    test_cond("mmlu csv loads", rc == GQ_OK && r.n == 4);
    if (rc == GQ_OK) {
        const cJSON *row = cJSON_GetArrayItem(r.rows, 0);
        test_cond("mmlu: field order question, subject, choices, answer",
                  strcmp(row->child->string, "question") == 0 && strcmp(row->child->next->string, "subject") == 0 &&
                      strcmp(row->child->next->next->string, "choices") == 0 &&
                      strcmp(row->child->next->next->next->string, "answer") == 0);
        test_cond("mmlu: subject from the file name", strcmp(s_at(&r, 0, "subject"), "toy_subject") == 0);
        test_cond("mmlu: answer B -> 1", cJSON_GetNumberValue(at(&r, 0, "answer")) == 1.0);
        test_cond("mmlu: answer is a number", cJSON_IsNumber(at(&r, 3, "answer")) && at(&r, 3, "answer")->valuedouble == 2.0);
        test_cond("mmlu: quoted comma", strcmp(s_at(&r, 1, "question"), "Pick the word, with a comma") == 0);
        test_cond("mmlu: doubled quotes",
                  strcmp(cJSON_GetArrayItem(at(&r, 1, "choices"), 0)->valuestring, "say \"hi\"") == 0);
        test_cond("mmlu: newline inside quotes", strcmp(s_at(&r, 2, "question"), "Two\nlines") == 0);
        test_cond("mmlu: 4 choices", cJSON_GetArraySize(at(&r, 2, "choices")) == 4);
        test_cond("mmlu: where of record 3 is line 3", has(r.where[2], "toy_subject_test.csv:line 3"));
        test_cond("mmlu: where of record 4 is line 5", has(r.where[3], "toy_subject_test.csv:line 5"));
    }
    gq_rows_free(&r);
    rc = load(&r, "cais/mmlu", "toy_subject", "dev", &err);
    test_cond("mmlu: dev", rc == GQ_OK && r.n == 1);
    gq_rows_free(&r);
    rc = load(&r, "cais/mmlu", "toy_subject", "validation", &err);
    test_cond("mmlu: validation <- val", rc == GQ_OK && r.n == 2);
    gq_rows_free(&r);
    expect_fail("mmlu: missing subject", "cais/mmlu", "no_such_subject", "test", GQ_ERR_IO, "no_such_subject_test.csv",
                NULL, NULL);
    expect_fail("mmlu: config with a path", "cais/mmlu", "../../etc", "test", GQ_ERR_USAGE, "subject", NULL, NULL);
    expect_fail("mmlu: unknown split", "cais/mmlu", "toy_subject", "train", GQ_ERR_USAGE, "train", NULL, NULL);
}

/* Parse text with the CSV reader; returns records, fields joined by '|' and records by '#'. */
static int csv_all(const char *text, size_t n, char *out, size_t cap, gq_error *err)
{
    ds_csv c;
    ds_csv_init(&c, text, n);
    size_t used = 0;
    out[0] = '\0';
    int rc, recs = 0;
    while ((rc = ds_csv_next(&c, "mem.csv", err)) == 1) {
        recs++;
        for (size_t i = 0; i < c.n_fields; i++) {
            int w = snprintf(out + used, cap - used, "%s%s", i ? "|" : (recs > 1 ? "#" : ""), ds_csv_field(&c, i));
            if (w > 0) used += (size_t)w;
            if (used >= cap) used = cap - 1;
        }
    }
    ds_csv_free(&c);
    return rc < 0 ? rc : recs;
}

static void case_csv_edges(void)
{
    char out[1024];
    gq_error err;
    gq_error_clear(&err);
    const char *mixed = "a,b\r\nc,d\ne,f\rg,h";
    test_cond("csv: CRLF, LF, CR mixed and no final newline", csv_all(mixed, strlen(mixed), out, sizeof out, &err) == 4 &&
                                                                strcmp(out, "a|b#c|d#e|f#g|h") == 0);
    const char *quoted = "\"x, y\",\"he said \"\"no\"\"\",\"\"\n";
    test_cond("csv: quoted comma, doubled quotes, empty quoted", csv_all(quoted, strlen(quoted), out, sizeof out, &err) == 1 &&
                                                                    strcmp(out, "x, y|he said \"no\"|") == 0);
    const char *nl = "\"one\ntwo\",\"three\r\nfour\"\r\nz,\"\"\"\"\n";
    test_cond("csv: LF and CRLF inside quotes kept", csv_all(nl, strlen(nl), out, sizeof out, &err) == 2 &&
                                                         strcmp(out, "one\ntwo|three\r\nfour#z|\"") == 0);
    const char *bom = "\xEF\xBB\xBFq,r\n";
    test_cond("csv: BOM skipped", csv_all(bom, strlen(bom), out, sizeof out, &err) == 1 && strcmp(out, "q|r") == 0);
    const char *blank = "a,b\n\n\r\nc,d\n\n";
    test_cond("csv: blank lines skipped", csv_all(blank, strlen(blank), out, sizeof out, &err) == 2 &&
                                              strcmp(out, "a|b#c|d") == 0);
    const char *empty = ",,\n";
    test_cond("csv: empty fields", csv_all(empty, strlen(empty), out, sizeof out, &err) == 1 && strcmp(out, "||") == 0);
    const char *lit = "ab\"c,d\n";
    test_cond("csv: quote inside unquoted field is literal", csv_all(lit, strlen(lit), out, sizeof out, &err) == 1 &&
                                                                 strcmp(out, "ab\"c|d") == 0);
    test_cond("csv: empty input has no records", csv_all("", 0, out, sizeof out, &err) == 0);
    /* record_line counts lines inside quoted fields */
    ds_csv c;
    const char *lines = "\"a\nb\nc\",x\r\nnext,y\n";
    ds_csv_init(&c, lines, strlen(lines));
    int r1 = ds_csv_next(&c, "mem.csv", &err);
    int r2 = ds_csv_next(&c, "mem.csv", &err);
    test_cond("csv: second record starts on line 4", r1 == 1 && r2 == 1 && c.record_line == 4 && c.record == 2);
    ds_csv_free(&c);
}

static void case_csv_errors(void)
{
    char out[1024];
    gq_error err;
    gq_error_clear(&err);
    const char *open = "a,b\n\"never closed,c\nd,e\n";
    test_cond("csv: unclosed quote fails", csv_all(open, strlen(open), out, sizeof out, &err) == GQ_ERR_FORMAT);
    test_cond("csv: unclosed quote message", has(err.msg, "mem.csv: record 2 (line 2)") && has(err.msg, "never closes"));
    const char *after = "\"a\"b,c\n";
    test_cond("csv: text after closing quote fails", csv_all(after, strlen(after), out, sizeof out, &err) == GQ_ERR_FORMAT &&
                                                         has(err.msg, "after the closing quote"));
    put("mmlu/data/test/bad_cols_test.csv", "q,a,b,c,d,A\nq,a,b,c,A\n");
    expect_fail("mmlu: 5 columns", "cais/mmlu", "bad_cols", "test", GQ_ERR_FORMAT, "bad_cols_test.csv: record 2 (line 2)",
                "5 columns, expected 6", NULL);
    put("mmlu/data/test/bad_ans_test.csv", "q,a,b,c,d,A\n\"multi\nline\",a,b,c,d,E\n");
    expect_fail("mmlu: answer letter E", "cais/mmlu", "bad_ans", "test", GQ_ERR_INVALID, "record 2 (line 2)",
                "field 'answer'", "expected A, B, C or D");
    put("mmlu/data/test/bad_utf_test.csv", "q,a,b,c,d,A\r\nq,a,\xC3(,c,d,A\r\n");
    expect_fail("mmlu: invalid UTF-8", "cais/mmlu", "bad_utf", "test", GQ_ERR_FORMAT, "record 2 (line 2)", "field 'B'",
                "not valid UTF-8");
    put("mmlu/data/test/empty_test.csv", "");
    expect_fail("mmlu: empty file", "cais/mmlu", "empty", "test", GQ_ERR_FORMAT, "empty_test.csv", "empty", NULL);
    put("mmlu/data/test/trunc_test.csv", "q,a,b,c,d,A\n\"cut here,a");
    expect_fail("mmlu: truncated quoted field", "cais/mmlu", "trunc", "test", GQ_ERR_FORMAT, "record 2", "never closes",
                NULL);
}

// ---- PIQA / WinoGrande / HellaSwag --------------------------------------------------

static void case_piqa(void)
{
    put("piqa/valid.jsonl",
        "{\"goal\": \"Open a jar\", \"sol1\": \"twist the lid\", \"sol2\": \"shake the jar\"}\n"
        "{\"goal\": \"Dry a towel\", \"sol1\": \"put it in water\", \"sol2\": \"hang it in the sun\"}\n");
    put("piqa/valid-labels.lst", "0\n1\n");
    gq_rows r;
    gq_error err;
    int rc = load(&r, "baber/piqa", NULL, "validation", &err);
    test_cond("piqa loads", rc == GQ_OK && r.n == 2);
    if (rc == GQ_OK) {
        test_cond("piqa: goal", strcmp(s_at(&r, 0, "goal"), "Open a jar") == 0);
        test_cond("piqa: label int from the labels file",
                  cJSON_IsNumber(at(&r, 1, "label")) && at(&r, 1, "label")->valuedouble == 1.0);
        const cJSON *row = cJSON_GetArrayItem(r.rows, 0);
        test_cond("piqa: field order goal, sol1, sol2, label",
                  strcmp(row->child->string, "goal") == 0 && strcmp(row->child->next->next->next->string, "label") == 0);
    }
    gq_rows_free(&r);
    put("piqa/valid-labels.lst", "0\n1\n1\n");
    expect_fail("piqa: label count mismatch", "baber/piqa", NULL, "validation", GQ_ERR_FORMAT, "valid.jsonl has 2 rows",
                "valid-labels.lst has 3 labels", NULL);
    put("piqa/valid-labels.lst", "0\n7\n");
    expect_fail("piqa: label 7", "baber/piqa", NULL, "validation", GQ_ERR_INVALID, "valid-labels.lst: line 2",
                "expected 0 or 1", NULL);
    put("piqa/valid-labels.lst", "0\nx\n");
    expect_fail("piqa: label not a number", "baber/piqa", NULL, "validation", GQ_ERR_FORMAT, "valid-labels.lst: line 2",
                NULL, NULL);
    put("piqa/valid-labels.lst", "0\n1\n");
    put("piqa/valid.jsonl", "{\"goal\": \"g\", \"sol1\": \"a\", \"sol2\": \"b\"}\n{\"goal\": \"g\", \"sol1\": 5, \"sol2\": \"b\"}\n");
    expect_fail("piqa: sol1 a number", "baber/piqa", NULL, "validation", GQ_ERR_INVALID, "valid.jsonl: line 2",
                "field 'sol1' is a number, expected a string", NULL);
    rm("piqa/valid-labels.lst");
    expect_fail("piqa: labels file missing", "baber/piqa", NULL, "validation", GQ_ERR_IO, "valid-labels.lst", NULL, NULL);
}

static void case_winogrande(void)
{
    const char *dev =
        "{\"qID\": \"q1\", \"sentence\": \"The cup fell off the shelf because _ was tilted.\", \"option1\": \"the cup\", "
        "\"option2\": \"the shelf\", \"answer\": \"2\"}\n"
        "{\"qID\": \"q2\", \"sentence\": \"Ann lent Bea a pen because _ had two.\", \"option1\": \"Ann\", \"option2\": \"Bea\", "
        "\"answer\": \"1\"}\n";
    put("winogrande/winogrande_1.1/dev.jsonl", dev);
    put("winogrande/winogrande_1.1/dev-labels.lst", "2\n1\n");
    gq_rows r;
    gq_error err;
    int rc = load(&r, "allenai/winogrande", "winogrande_xl", "validation", &err);
    test_cond("winogrande loads", rc == GQ_OK && r.n == 2);
    if (rc == GQ_OK) {
        test_cond("winogrande: answer string", strcmp(s_at(&r, 0, "answer"), "2") == 0);
        test_cond("winogrande: qID dropped (HF has none)", at(&r, 0, "qID") == NULL);
        test_cond("winogrande: option1", strcmp(s_at(&r, 1, "option1"), "Ann") == 0);
    }
    gq_rows_free(&r);
    put("winogrande/winogrande_1.1/dev-labels.lst", "2\n2\n");
    expect_fail("winogrande: answer disagrees with labels", "allenai/winogrande", "winogrande_xl", "validation",
                GQ_ERR_INVALID, "dev.jsonl: line 2", "field 'answer' is \"1\"", "dev-labels.lst line 2");
    put("winogrande/winogrande_1.1/dev-labels.lst", "2\n");
    expect_fail("winogrande: label count mismatch", "allenai/winogrande", "winogrande_xl", "validation", GQ_ERR_FORMAT,
                "dev.jsonl has 2 rows", "dev-labels.lst has 1 labels", NULL);
    rm("winogrande/winogrande_1.1/dev-labels.lst");
    rc = load(&r, "allenai/winogrande", "winogrande_xl", "validation", &err);
    test_cond("winogrande: without a labels file", rc == GQ_OK && r.n == 2 && strcmp(s_at(&r, 1, "answer"), "1") == 0);
    gq_rows_free(&r);
    /* No answer field: the label file supplies it. */
    put("winogrande/winogrande_1.1/dev.jsonl",
        "{\"sentence\": \"_ ran.\", \"option1\": \"A\", \"option2\": \"B\"}\n");
    put("winogrande/winogrande_1.1/dev-labels.lst", "1\n");
    rc = load(&r, "allenai/winogrande", "winogrande_xl", "validation", &err);
    test_cond("winogrande: answer from labels", rc == GQ_OK && strcmp(s_at(&r, 0, "answer"), "1") == 0);
    gq_rows_free(&r);
    put("winogrande/winogrande_1.1/dev.jsonl",
        "{\"sentence\": \"_ ran.\", \"option1\": \"A\", \"option2\": \"B\", \"answer\": \"3\"}\n");
    rm("winogrande/winogrande_1.1/dev-labels.lst");
    expect_fail("winogrande: answer 3", "allenai/winogrande", "winogrande_xl", "validation", GQ_ERR_INVALID,
                "line 1", "field 'answer'", NULL);
    expect_fail("winogrande: unknown config", "allenai/winogrande", "winogrande_xxl", "validation", GQ_ERR_USAGE,
                "winogrande_xxl", NULL, NULL);
}

static void case_hellaswag_txt(void)
{
    put("hellaswag/hellaswag_val_full.txt",
        "Baking: A woman pours flour into a bowl. she\n2\nsings loudly.\nthrows the bowl.\nadds two eggs.\nleaves the room.\n"
        "Running: A man ties his shoes. he\r\n0\r\nstarts to jog.\r\nflies away.\r\neats the shoe.\r\nfalls asleep.\r\n");
    gq_rows r;
    gq_error err;
    int rc = load(&r, "Rowan/hellaswag", NULL, "validation", &err);
    test_cond("hellaswag txt loads", rc == GQ_OK && r.n == 2);
    if (rc == GQ_OK) {
        test_cond("hellaswag txt: query", strcmp(s_at(&r, 0, "query"), "Baking: A woman pours flour into a bowl. she") == 0);
        test_cond("hellaswag txt: label string", strcmp(s_at(&r, 0, "label"), "2") == 0);
        const cJSON *e = at(&r, 1, "endings");
        test_cond("hellaswag txt: 4 endings, CR stripped",
                  cJSON_GetArraySize(e) == 4 && strcmp(cJSON_GetArrayItem(e, 3)->valuestring, "falls asleep.") == 0);
        test_cond("hellaswag txt: preprocessed flag", cJSON_IsTrue(at(&r, 0, "preprocessed")));
        test_cond("hellaswag txt: where line 7", has(r.where[1], "hellaswag_val_full.txt:line 7"));
    }
    gq_rows_free(&r);
    put("hellaswag/hellaswag_val_full.txt", "Q: ctx\n1\na\nb\nc\nd\nQ2: ctx\n");
    expect_fail("hellaswag txt: truncated", "Rowan/hellaswag", NULL, "validation", GQ_ERR_FORMAT, "line 7", "1 of its 6 lines",
                NULL);
    put("hellaswag/hellaswag_val_full.txt", "Q: ctx\n1\na\nb\nc\nd\nQ2: ctx\n9\na\nb\nc\nd\n");
    expect_fail("hellaswag txt: bad label", "Rowan/hellaswag", NULL, "validation", GQ_ERR_FORMAT, "line 8",
                "field 'label'", NULL);
    put("hellaswag/hellaswag_val_full.txt", "Q: ctx\n1\na\nb\n\xFF\nd\n");
    expect_fail("hellaswag txt: invalid UTF-8", "Rowan/hellaswag", NULL, "validation", GQ_ERR_FORMAT, "line 5",
                "endings[2]", "not valid UTF-8");
    put("hellaswag/hellaswag_val_full.txt", "");
    expect_fail("hellaswag txt: empty", "Rowan/hellaswag", NULL, "validation", GQ_ERR_FORMAT, "empty", NULL, NULL);
    rm("hellaswag/hellaswag_val_full.txt");
    put("hellaswag/hellaswag_val_full.txt.bz2", "BZh9");
    expect_fail("hellaswag: only .bz2", "Rowan/hellaswag", NULL, "validation", GQ_ERR_UNSUPPORTED, "bunzip2", NULL, NULL);
    rm("hellaswag/hellaswag_val_full.txt.bz2");
    expect_fail("hellaswag: nothing there", "Rowan/hellaswag", NULL, "validation", GQ_ERR_IO, "hellaswag_val.jsonl",
                "hellaswag_val_full.txt", NULL);
}

static void case_hellaswag_jsonl(void)
{
    put("hellaswag/hellaswag_val_full.txt", "Q: ctx\n1\na\nb\nc\nd\n");
    put("hellaswag/hellaswag_val.jsonl",
        "{\"ind\": 4, \"activity_label\": \"Painting\", \"ctx_a\": \"A girl holds a brush.\", \"ctx_b\": \"she\", "
        "\"ctx\": \"A girl holds a brush. she\", \"split\": \"val\", \"split_type\": \"indomain\", \"label\": 3, "
        "\"endings\": [\"paints.\", \"sleeps.\", \"swims.\", \"dips it in paint.\"], \"source_id\": \"src-1\"}\n");
    gq_rows r;
    gq_error err;
    int rc = load(&r, "Rowan/hellaswag", NULL, "validation", &err);
    test_cond("hellaswag jsonl preferred over txt", rc == GQ_OK && r.n == 1 && has(r.origin, "hellaswag_val.jsonl"));
    if (rc == GQ_OK) {
        test_cond("hellaswag jsonl: label int -> string", strcmp(s_at(&r, 0, "label"), "3") == 0);
        test_cond("hellaswag jsonl: ctx_b", strcmp(s_at(&r, 0, "ctx_b"), "she") == 0);
        const cJSON *row = cJSON_GetArrayItem(r.rows, 0);
        static const char *order[] = {"ind", "activity_label", "ctx_a", "ctx_b", "ctx", "endings",
                                      "source_id", "split", "split_type", "label"};
        int ok = 1;
        const cJSON *c = row->child;
        for (size_t i = 0; i < 10; i++, c = c ? c->next : NULL) ok = ok && c && strcmp(c->string, order[i]) == 0;
        test_cond("hellaswag jsonl: HF field order", ok && c == NULL);
        test_cond("hellaswag jsonl: no preprocessed flag", at(&r, 0, "preprocessed") == NULL);
    }
    gq_rows_free(&r);
    put("hellaswag/hellaswag_val.jsonl", "{\"activity_label\": \"P\", \"ctx_a\": \"a\", \"ctx_b\": \"b\", \"label\": 1}\n");
    expect_fail("hellaswag jsonl: endings missing", "Rowan/hellaswag", NULL, "validation", GQ_ERR_INVALID,
                "hellaswag_val.jsonl: line 1", "field 'endings' missing", NULL);
    rm("hellaswag/hellaswag_val.jsonl");
}

// ---- bad rows in AllenAI JSONL -----------------------------------------------------

static void case_bad_rows(void)
{
    const char *good = "{\"id\":\"a\",\"question\":{\"stem\":\"s\",\"choices\":[{\"text\":\"t\",\"label\":\"A\"}]},\"answerKey\":\"A\"}\n";
    char buf[2048];
    const char *f = "arc/ARC-Challenge/ARC-Challenge-Test.jsonl";

    snprintf(buf, sizeof buf, "%s%s", good, "{\"id\":\"b\",\"question\":{\"stem\":\"s\"},\"answerKey\":\"A\"}\n");
    put(f, buf);
    expect_fail("missing question.choices", "allenai/ai2_arc", "ARC-Challenge", "test", GQ_ERR_INVALID,
                "ARC-Challenge-Test.jsonl: line 2: field 'question.choices' missing", NULL, NULL);

    snprintf(buf, sizeof buf, "%s%s", good,
             "{\"id\":\"b\",\"question\":{\"stem\":\"s\",\"choices\":[{\"text\":\"t\",\"label\":\"A\"}]},\"answerKey\":1}\n");
    put(f, buf);
    expect_fail("answerKey a number", "allenai/ai2_arc", "ARC-Challenge", "test", GQ_ERR_INVALID,
                "line 2: field 'answerKey' is a number, expected a string", NULL, NULL);

    snprintf(buf, sizeof buf, "%s%s%s", good, good,
             "{\"id\":\"b\",\"question\":{\"stem\":\"s\",\"choices\":[{\"text\":\"t\",\"label\":\"A\"},{\"label\":\"B\"}]},\"answerKey\":\"A\"}\n");
    put(f, buf);
    expect_fail("choice without text", "allenai/ai2_arc", "ARC-Challenge", "test", GQ_ERR_INVALID,
                "line 3: field 'question.choices[1].text' missing", NULL, NULL);

    snprintf(buf, sizeof buf, "%s%s", good,
             "{\"id\":\"b\",\"question\":{\"stem\":\"bad \xE2\x82 byte\",\"choices\":[{\"text\":\"t\",\"label\":\"A\"}]},\"answerKey\":\"A\"}\n");
    put(f, buf);
    expect_fail("invalid UTF-8", "allenai/ai2_arc", "ARC-Challenge", "test", GQ_ERR_FORMAT,
                "line 2: field 'question.stem' is not valid UTF-8", NULL, NULL);

    snprintf(buf, sizeof buf, "%s%s", good, "{\"id\":\"b\",\"question\":{\"stem\":\"s\",\"choi\n");
    put(f, buf);
    expect_fail("truncated line", "allenai/ai2_arc", "ARC-Challenge", "test", GQ_ERR_FORMAT, "line 2: not valid JSON",
                NULL, NULL);

    snprintf(buf, sizeof buf, "%s%s", good, "[1,2]\n");
    put(f, buf);
    expect_fail("array instead of object", "allenai/ai2_arc", "ARC-Challenge", "test", GQ_ERR_FORMAT,
                "line 2: the line holds an array", NULL, NULL);

    snprintf(buf, sizeof buf, "%s%s", good,
             "{\"id\":\"b\",\"question\":{\"stem\":\"s\",\"choices\":[]},\"answerKey\":\"A\"}\n");
    put(f, buf);
    expect_fail("no choices", "allenai/ai2_arc", "ARC-Challenge", "test", GQ_ERR_INVALID,
                "line 2: field 'question.choices' is empty", NULL, NULL);

    snprintf(buf, sizeof buf, "%s%s", good, "{\"id\":\"x\"} {\"id\":\"y\"}\n");
    put(f, buf);
    expect_fail("two objects on a line", "allenai/ai2_arc", "ARC-Challenge", "test", GQ_ERR_FORMAT,
                "line 2: text after the JSON object", NULL, NULL);

    put(f, "");
    expect_fail("empty file", "allenai/ai2_arc", "ARC-Challenge", "test", GQ_ERR_FORMAT, "ARC-Challenge-Test.jsonl",
                "empty", NULL);
    put(f, "\n  \n");
    expect_fail("blank lines only", "allenai/ai2_arc", "ARC-Challenge", "test", GQ_ERR_FORMAT, "empty", NULL, NULL);
}

static void case_missing_files(void)
{
    expect_fail("no files", "allenai/openbookqa", "main", "test", GQ_ERR_IO, "openbookqa/Data/Main/test.jsonl",
                "not found", NULL);
    expect_fail("unknown dataset", "someone/else", "x", "test", GQ_ERR_UNSUPPORTED, "someone/else", "no local reader",
                NULL);
    expect_fail("unknown split", "baber/piqa", NULL, "test", GQ_ERR_USAGE, "no split 'test'", NULL, NULL);
    gq_rows r;
    gq_error err;
    gq_error_clear(&err);
    int rc = gq_dataset_load(&r, NULL, NULL, "test", NULL, &err);
    test_cond("NULL id: usage error", rc == GQ_ERR_USAGE && r.rows == NULL);
}

// ---- datasets-server page parser, cache container -------------------------------------

static void case_hub_page(void)
{
    ds_rows_builder b;
    gq_error err;
    gq_error_clear(&err);
    size_t total = 0;
    ds_builder_init(&b, &err);
    const char *page =
        "{\"features\":[{\"feature_idx\":0,\"name\":\"goal\",\"type\":{\"dtype\":\"string\",\"_type\":\"Value\"}}],"
        "\"rows\":[{\"row_idx\":100,\"row\":{\"goal\":\"g\",\"sol1\":\"a\",\"sol2\":\"b\",\"label\":1},\"truncated_cells\":[]},"
        "{\"row_idx\":101,\"row\":{\"goal\":\"h\",\"sol1\":\"a\",\"sol2\":\"b\",\"label\":0},\"truncated_cells\":[]}],"
        "\"num_rows_total\":102,\"num_rows_per_page\":100,\"partial\":false}";
    int rc = ds_hub_parse_page(page, strlen(page), "page", "baber/piqa", "baber/piqa/default/validation", 100, &b, &total, &err);
    test_cond("page parses", rc == GQ_OK && b.n == 2 && total == 102);
    test_cond("page: where names hub ref and row", b.n == 2 && has(b.where[1], "hub baber/piqa/default/validation row 101"));
    ds_builder_free(&b);

    ds_builder_init(&b, &err);
    rc = ds_hub_parse_page(page, strlen(page), "page", "baber/piqa", "ref", 0, &b, &total, &err);
    test_cond("page: row_idx out of order", rc == GQ_ERR_FORMAT && has(err.msg, "row_idx") && has(err.msg, "expected 0"));
    ds_builder_free(&b);

    const char *trunc = "{\"rows\":[{\"row_idx\":0,\"row\":{\"goal\":\"\"},\"truncated_cells\":[\"goal\"]}],\"num_rows_total\":1}";
    ds_builder_init(&b, &err);
    rc = ds_hub_parse_page(trunc, strlen(trunc), "page", "baber/piqa", "ref", 0, &b, &total, &err);
    test_cond("page: truncated cells refused", rc == GQ_ERR_FORMAT && has(err.msg, "truncated cell 'goal'"));
    ds_builder_free(&b);

    const char *bad = "{\"rows\":[{\"row_idx\":0,\"row\":{\"goal\":\"g\",\"sol1\":\"a\",\"sol2\":\"b\",\"label\":\"1\"}}],\"num_rows_total\":1}";
    ds_builder_init(&b, &err);
    rc = ds_hub_parse_page(bad, strlen(bad), "page", "baber/piqa", "baber/piqa/default/validation", 0, &b, &total, &err);
    test_cond("page: wrong type in row", rc == GQ_ERR_INVALID && has(err.msg, "row 0: field 'label' is a string"));
    ds_builder_free(&b);

    const char *norows = "{\"num_rows_total\":1}";
    ds_builder_init(&b, &err);
    rc = ds_hub_parse_page(norows, strlen(norows), "page", "baber/piqa", "ref", 0, &b, &total, &err);
    test_cond("page: no rows field", rc == GQ_ERR_INVALID && has(err.msg, "field 'rows' missing"));
    ds_builder_free(&b);

    const char *cut = "{\"rows\":[{\"row_idx\":0,\"row\":{\"go";
    ds_builder_init(&b, &err);
    rc = ds_hub_parse_page(cut, strlen(cut), "page", "baber/piqa", "ref", 0, &b, &total, &err);
    test_cond("page: cut short", rc == GQ_ERR_FORMAT && has(err.msg, "not valid JSON"));
    ds_builder_free(&b);
}

static void case_cache_container(void)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/split.json.gz", root);
    const char *json = "[{\"goal\":\"g\",\"sol1\":\"a\",\"sol2\":\"b\",\"label\":1}]";
    gq_error err;
    gq_error_clear(&err);
    int rc = ds_cache_write(path, json, strlen(json), &err);
    test_cond("cache write", rc == GQ_OK);
    char *back = NULL;
    size_t n = 0;
    rc = ds_cache_read(path, &back, &n, &err);
    test_cond("cache round trip", rc == GQ_OK && n == strlen(json) && back && strcmp(back, json) == 0);
    free(back);

    /* It is a real gzip file. */
    char cmd[20000];
    snprintf(cmd, sizeof cmd, "command -v gzip >/dev/null 2>&1 || exit 0; gzip -dc '%s' | cmp -s - '%s/want'", path, root);
    put("want", json);
    test_cond("cache file is gzip (gzip -dc gives the JSON)", system(cmd) == 0);

    size_t sz = 0;
    char *raw = test_read_file(path, &sz);
    test_cond("read raw", raw != NULL && sz > 40);
    if (!raw) return;
    test_write_file(path, raw, sz - 5);
    rc = ds_cache_read(path, &back, &n, &err);
    test_cond("truncated cache file detected", rc == GQ_ERR_FORMAT && back == NULL);
    raw[sz - 12] ^= 0x55;
    test_write_file(path, raw, sz);
    rc = ds_cache_read(path, &back, &n, &err);
    test_cond("flipped byte detected", rc == GQ_ERR_FORMAT && back == NULL);
    raw[sz - 12] ^= 0x55;
    raw[18] ^= 1;  /* the length in the header */
    test_write_file(path, raw, sz);
    rc = ds_cache_read(path, &back, &n, &err);
    test_cond("wrong header length detected", rc == GQ_ERR_FORMAT && back == NULL);
    test_write_file(path, "", 0);
    rc = ds_cache_read(path, &back, &n, &err);
    test_cond("empty cache file detected", rc == GQ_ERR_FORMAT && has(err.msg, "not a gqla-eval cache file"));
    free(raw);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } cases[] = {
        {"arc_jsonl", case_arc_jsonl},       {"arc_hf_array", case_arc_hf_array},
        {"obqa", case_obqa},                 {"mmlu_csv", case_mmlu_csv},
        {"csv_edges", case_csv_edges},       {"csv_errors", case_csv_errors},
        {"piqa", case_piqa},                 {"winogrande", case_winogrande},
        {"hellaswag_txt", case_hellaswag_txt}, {"hellaswag_jsonl", case_hellaswag_jsonl},
        {"bad_rows", case_bad_rows},         {"missing_files", case_missing_files},
        {"hub_page", case_hub_page},         {"cache_container", case_cache_container},
    };
    if (argc != 2) {
        fprintf(stderr, "usage: test_datasets_local CASE|all\n");
        return 2;
    }
    int ran = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (strcmp(argv[1], "all") != 0 && strcmp(argv[1], cases[i].name) != 0) continue;
        snprintf(root, sizeof root, "%s", test_tmpdir(cases[i].name));
        printf("case %s (in %s)\n", cases[i].name, root);
        cases[i].fn();
        ran++;
    }
    if (!ran) {
        fprintf(stderr, "test_datasets_local: unknown case '%s'\n", argv[1]);
        return 2;
    }
    return test_report(argv[1]);
}
