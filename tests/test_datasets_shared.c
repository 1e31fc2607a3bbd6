/* test_datasets_shared.c — every split the tasks use, read from the real
 * release files in ../shared/datasets (path in $GQ_SHARED_DATASETS, set by
 * tests/datasets.cmake from the source dir), against the row counts of
 * tasks.md §7.  Skips (77) when that folder is absent.  Also spot-checks the
 * HF shapes of the first row of each split.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset.h"
#include "testutil.h"

static const char *data_dir;

static size_t load_count(const char *id, const char *config, const char *split, gq_rows *keep)
{
    gq_dataset_opts o = {0};
    o.data_dir = data_dir;
    o.quiet = 1;
    gq_rows r;
    gq_error err;
    gq_error_clear(&err);
    int rc = gq_dataset_load(&r, id, config, split, &o, &err);
    if (rc != GQ_OK) {
        fprintf(stderr, "load %s %s %s: %s\n", id, config ? config : "-", split, err.msg);
        return (size_t)-1;
    }
    size_t n = r.n;
    if ((size_t)cJSON_GetArraySize(r.rows) != n || !r.where || !r.where[n - 1] || !r.origin) n = (size_t)-2;
    if (keep) *keep = r;
    else gq_rows_free(&r);
    return n;
}

static void expect(const char *what, const char *id, const char *config, const char *split,
                   size_t want)
{
    size_t got = load_count(id, config, split, NULL);
    printf("%-40s %zu rows (expected %zu)\n", what, got, want);
    test_cond(what, got == want);
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int main(void)
{
    data_dir = getenv("GQ_SHARED_DATASETS");
    struct stat st;
    if (!data_dir || stat(data_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        printf("SKIP: no shared datasets folder (GQ_SHARED_DATASETS=%s)\n", data_dir ? data_dir : "");
        return GQ_TEST_SKIP;
    }
    expect("arc_easy test", "allenai/ai2_arc", "ARC-Easy", "test", 2376);
    expect("arc_easy train", "allenai/ai2_arc", "ARC-Easy", "train", 2251);
    expect("arc_easy validation", "allenai/ai2_arc", "ARC-Easy", "validation", 570);
    expect("arc_challenge test", "allenai/ai2_arc", "ARC-Challenge", "test", 1172);
    expect("piqa validation", "baber/piqa", NULL, "validation", 1838);
    expect("hellaswag validation", "Rowan/hellaswag", NULL, "validation", 10042);
    expect("openbookqa test", "allenai/openbookqa", "main", "test", 500);
    expect("openbookqa validation", "allenai/openbookqa", "main", "validation", 500);
    expect("openbookqa train", "allenai/openbookqa", "main", "train", 4957);
    expect("winogrande validation", "allenai/winogrande", "winogrande_xl", "validation", 1267);

    /* MMLU: every subject file of test/, dev/ and val/. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/mmlu/data/test", data_dir);
    DIR *d = opendir(dir);
    test_cond("mmlu test folder", d != NULL);
    size_t subjects = 0, n_test = 0, n_dev = 0, n_val = 0, bad = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 10 || strcmp(e->d_name + l - 9, "_test.csv") != 0) continue;
        char subject[256];
        snprintf(subject, sizeof subject, "%.*s", (int)(l - 9), e->d_name);
        size_t t = load_count("cais/mmlu", subject, "test", NULL);
        size_t dv = load_count("cais/mmlu", subject, "dev", NULL);
        size_t v = load_count("cais/mmlu", subject, "validation", NULL);
        if (t == (size_t)-1 || t == (size_t)-2 || dv != 5 || v == (size_t)-1 || v == (size_t)-2) {
            fprintf(stderr, "mmlu %s: test %zu dev %zu val %zu\n", subject, t, dv, v);
            bad++;
            continue;
        }
        subjects++;
        n_test += t;
        n_dev += dv;
        n_val += v;
    }
    if (d) closedir(d);
    printf("mmlu: %zu subjects, test %zu, dev %zu, validation %zu\n", subjects, n_test, n_dev, n_val);
    test_cond("mmlu: every subject loads", bad == 0);
    test_cond("mmlu: 57 subjects", subjects == 57);
    test_cond("mmlu: test 14042", n_test == 14042);
    test_cond("mmlu: dev 285", n_dev == 285);
    test_cond("mmlu: validation 1531", n_val == 1531);

    /* Shapes of a few rows. */
    gq_rows r;
    if (load_count("allenai/ai2_arc", "ARC-Challenge", "test", &r) == 1172) {
        const cJSON *row = cJSON_GetArrayItem(r.rows, 0);
        const cJSON *ch = cJSON_GetObjectItemCaseSensitive(row, "choices");
        test_cond("arc row: question string", str(row, "question") != NULL);
        test_cond("arc row: choices.text list", cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(ch, "text")));
        test_cond("arc row: where names line 1", strstr(r.where[0], "ARC-Challenge-Test.jsonl:line 1") != NULL);
        gq_rows_free(&r);
    }
    if (load_count("cais/mmlu", "abstract_algebra", "test", &r) != (size_t)-1) {
        const cJSON *row = cJSON_GetArrayItem(r.rows, 0);
        test_cond("mmlu row: field order question, subject, choices, answer",
                  row && row->child && strcmp(row->child->string, "question") == 0 &&
                      strcmp(row->child->next->string, "subject") == 0 &&
                      strcmp(row->child->next->next->string, "choices") == 0 &&
                      strcmp(row->child->next->next->next->string, "answer") == 0);
        test_cond("mmlu row: subject", str(row, "subject") && strcmp(str(row, "subject"), "abstract_algebra") == 0);
        gq_rows_free(&r);
    }
    if (load_count("Rowan/hellaswag", NULL, "validation", &r) == 10042) {
        const cJSON *row = cJSON_GetArrayItem(r.rows, 10041);
        test_cond("hellaswag row: 4 endings", cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(row, "endings")) == 4);
        test_cond("hellaswag row: preprocessed", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "preprocessed")));
        test_cond("hellaswag last row on line 60247", strstr(r.where[10041], ":line 60247") != NULL);
        gq_rows_free(&r);
    }
    if (load_count("baber/piqa", NULL, "validation", &r) == 1838) {
        const cJSON *lab = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(r.rows, 0), "label");
        test_cond("piqa row: label is a number", cJSON_IsNumber(lab));
        gq_rows_free(&r);
    }
    return test_report("test_datasets_shared");
}
