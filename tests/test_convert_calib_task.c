/* test_convert_calib_task.c — `gqla-eval convert --calib TASK` (issue 6):
 * calibration rows made from a task's prompts (harness/calib_task.h).
 *
 * Independent expectations: the rows are rebuilt here from the data files
 * the test writes, by tasks.md's prompt rules (OpenBookQA: question_stem,
 * then " " + the gold choice; ARC: "Question: Q\nAnswer:" then " " + the
 * gold choice), not through the task code.  The conversion's recorded
 * token hash must equal the hash of the sampler run over those rows; the
 * scored split, a split the data lacks and an unknown name exit 2 with
 * nothing written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "calib.h"
#include "calib_task.h"
#include "demo_model.h"
#include "fileio.h"
#include "model.h"
#include "testutil.h"

#define N_OBQA 40

static char root[1024], data_dir[1100], model_dir[1100];
static char obqa_expected[N_OBQA][160];

static const char *words[] = {"stones", "rivers", "clouds", "seeds", "magnets", "shadows", "echoes", "sparks"};

static int write_obqa(void)
{
    char path[1300], cmd[1400];
    snprintf(path, sizeof path, "%s/openbookqa/Data/Main", data_dir);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
    if (system(cmd) != 0) return -1;
    static char text[32768];
    size_t at = 0;
    for (int i = 0; i < N_OBQA; i++) {
        int gold = (i * 3) % 4;
        char stem[96];
        snprintf(stem, sizeof stem, "Fact %d: the %s near the hill are", i, words[i % 8]);
        char choice[4][32];
        for (int c = 0; c < 4; c++) snprintf(choice[c], sizeof choice[c], "%s %d", words[(i + c + 1) % 8], c);
        at += (size_t)snprintf(text + at, sizeof text - at,
                               "{\"id\": \"t-%d\", \"question\": {\"stem\": \"%s\", \"choices\": ["
                               "{\"text\": \"%s\", \"label\": \"A\"}, {\"text\": \"%s\", \"label\": \"B\"}, "
                               "{\"text\": \"%s\", \"label\": \"C\"}, {\"text\": \"%s\", \"label\": \"D\"}]}, "
                               "\"answerKey\": \"%c\"}\n",
                               i, stem, choice[0], choice[1], choice[2], choice[3], 'A' + gold);
        snprintf(obqa_expected[i], sizeof obqa_expected[i], "%s %s", stem, choice[gold]);
    }
    snprintf(path, sizeof path, "%s/openbookqa/Data/Main/train.jsonl", data_dir);
    return test_write_file(path, text, at);
}

static void test_rows(void)
{
    gq_dataset_opts d = {0};
    d.data_dir = data_dir;
    d.offline = 1;
    d.quiet = 1;
    gq_error err = {0};
    gq_calib_rows r = {0};
    int rc = gq_calib_task_rows("openbookqa", NULL, &d, &r, &err);
    if (!test_cond("openbookqa rows from the train split", rc == 0 && r.n == N_OBQA)) {
        fprintf(stderr, "rc %d n %zu: %s\n", rc, r.n, err.msg);
    } else {
        int same = 1;
        for (int i = 0; i < N_OBQA; i++)
            if (strcmp(r.rows[i], obqa_expected[i]) != 0 || r.len[i] != strlen(obqa_expected[i])) {
                fprintf(stderr, "row %d: got \"%s\", want \"%s\"\n", i, r.rows[i], obqa_expected[i]);
                same = 0;
            }
        test_cond("each row = question_stem + \" \" + gold choice", same);
        test_cond("description names task, dataset and split",
                  strstr(r.desc, "openbookqa") && strstr(r.desc, "train") && strstr(r.desc, "40 rows"));
    }
    gq_calib_rows_free(&r);

    /* ARC from the shipped sample items: row 0 typed from the file by hand. */
    gq_dataset_opts s = d;
    s.data_dir = test_fixture("../../datasets/samples");
    rc = gq_calib_task_rows("arc_easy,openbookqa", NULL, &s, &r, &err);
    if (test_cond("a task list concatenates (arc_easy 5 + openbookqa sample rows)", rc == 0 && r.n > 5)) {
        test_cond("ARC row = \"Question: Q\\nAnswer:\" + \" \" + gold choice",
                  !strcmp(r.rows[0], "Question: Which sense do people use to hear a bell?\nAnswer: hearing"));
        test_cond("rows keep task order (openbookqa after arc_easy)", !strcmp(r.rows[5], "Sound travels as vibrations"));
    } else {
        fprintf(stderr, "%s\n", err.msg);
    }
    gq_calib_rows_free(&r);

    rc = gq_calib_task_rows("openbookqa", "test", &d, &r, &err);
    test_cond("the scored split is refused", rc == GQ_ERR_USAGE && strstr(err.msg, "scores") && r.n == 0);
    rc = gq_calib_task_rows("winogrande", NULL, &d, &r, &err);
    test_cond("a split the data lacks names the file looked for",
              rc != 0 && strstr(err.msg, "train_xl.jsonl") && r.n == 0);
}

static void test_cli(void)
{
    char out[1300], args[4096], *o = NULL;
    snprintf(out, sizeof out, "%s/conv", root);
    snprintf(args, sizeof args, "convert --model '%s' --output '%s' --calib openbookqa --data-dir '%s' --offline "
             "--calib-samples 4 --calib-seqlen 64 --seed 7 --rope-dim 16 --kv-lora-rank 48 --quiet",
             model_dir, out, data_dir);
    int rc = test_run_cli(args, &o);
    if (!test_cond("convert --calib openbookqa runs", rc == 0)) fprintf(stderr, "%s\n", o ? o : "");
    free(o);
    char path[1400];
    snprintf(path, sizeof path, "%s/gqla_meta.json", out);
    char *text = test_read_file(path, NULL);
    cJSON *meta = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *cal = cJSON_GetObjectItemCaseSensitive(meta, "calibration");
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cal, "kind"));
    const char *ds = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cal, "dataset"));
    const char *sha = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cal, "token_ids_sha256"));
    test_cond("gqla_meta.json: calibration kind task, dataset names openbookqa",
              kind && !strcmp(kind, "task") && ds && strstr(ds, "openbookqa"));

    /* The same sampler over the rows built here from the file. */
    gq_model *m = NULL;
    gq_error err = {0};
    gq_open_opts oo = {0, 1, 0, 0, NULL, GQ_DEVICE_CPU, 0};
    const char *rows[N_OBQA];
    size_t lens[N_OBQA];
    for (int i = 0; i < N_OBQA; i++) {
        rows[i] = obqa_expected[i];
        lens[i] = strlen(obqa_expected[i]);
    }
    gq_calib_set set = {0};
    char hex[65] = "";
    if (gq_model_open(&m, model_dir, &oo, &err) == 0 &&
        gq_calib_from_rows(&set, m, rows, lens, N_OBQA, "expected", 4, 64, 7, &err) == 0)
        gq_calib_sha256(&set, hex);
    test_cond("recorded token hash == sampler over the independently built rows", sha && !strcmp(sha, hex));
    gq_calib_set_free(&set);
    gq_model_close(m);
    cJSON_Delete(meta);

    /* Bad input: exit 2, message, no output. */
    const char *bad[][2] = {
        {"--calib openbookqa --calib-split test", "scores"},
        {"--calib winogrande", "train_xl.jsonl"},
        {"--calib no_such_task", "no such file, and unknown task"},
        {"--calib openbookqa --calib-samples 100 --calib-seqlen 64", "too short"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        snprintf(out, sizeof out, "%s/bad%zu", root, k);
        snprintf(args, sizeof args, "convert --model '%s' --output '%s' %s --data-dir '%s' --offline --quiet",
                 model_dir, out, bad[k][0], data_dir);
        o = NULL;
        rc = test_run_cli(args, &o);
        char label[256];
        snprintf(label, sizeof label, "%s: exit 2, says \"%s\", nothing written", bad[k][0], bad[k][1]);
        if (!test_cond(label, rc == 2 && o && strstr(o, bad[k][1]) && !gq_path_exists(out)))
            fprintf(stderr, "rc %d: %s\n", rc, o ? o : "");
        free(o);
    }
}

int main(void)
{
    snprintf(root, sizeof root, "%s", test_tmpdir("convert_calib_task"));
    snprintf(data_dir, sizeof data_dir, "%s/data", root);
    snprintf(model_dir, sizeof model_dir, "%s/model", root);
    gq_error err = {0};
    if (!test_cond("data written", write_obqa() == 0) ||
        !test_cond("generated model written", gq_demo_model_write(model_dir, &err) == 0))
        return test_report("test_convert_calib_task");
    test_rows();
    test_cli();
    return test_report("test_convert_calib_task");
}
