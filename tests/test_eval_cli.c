/* test_eval_cli.c — `gqla-eval eval` end to end on a tiny model (the random
 * llama-gqa fixture plus a 256-token byte-level tokenizer written here):
 * a good ARC file runs and writes results.json; bad rows (missing field,
 * label out of range, empty choice list, invalid UTF-8) exit 2 naming the
 * file, the line and the field; a tokenizer larger than the model's
 * vocabulary is refused.  Usage: test_eval_cli CASE */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo_model.h"
#include "testutil.h"

/* ascii_only: only printable ASCII, space and newline (96 tokens), for
 * models with fewer than 256 vocabulary rows. */
static void write_tokenizer(const char *dir, int ascii_only) /* dir: < 4200 bytes */
{
    char path[4400];
    gq_error err = {0};
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    if (gq_byte_tokenizer_write(path, ascii_only, &err) != GQ_OK) fprintf(stderr, "%s\n", err.msg);
}

static void copy_file(const char *from, const char *to)
{
    size_t n = 0;
    char *b = test_read_file(from, &n);
    if (b) test_write_file(to, b, n);
    free(b);
}

static const char *good_rows =
    "{\"id\": \"q1\", \"question\": {\"stem\": \"Which one is a fruit?\", \"choices\": [{\"text\": \"apple\", \"label\": \"A\"}, "
    "{\"text\": \"stone\", \"label\": \"B\"}]}, \"answerKey\": \"A\"}\n"
    "{\"id\": \"q2\", \"question\": {\"stem\": \"What melts in the sun?\", \"choices\": [{\"text\": \"ice\", \"label\": \"1\"}, "
    "{\"text\": \"iron\", \"label\": \"2\"}, {\"text\": \"glass\", \"label\": \"3\"}]}, \"answerKey\": \"1\"}\n";

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    const char *cs = argv[1];
    char root[4096], model[4200], data[4200], arcdir[4400], file[4600], path[4400], args[16384];
    snprintf(root, sizeof root, "%s", test_tmpdir(cs));
    snprintf(model, sizeof model, "%s/model", root);
    snprintf(data, sizeof data, "%s/data", root);
    snprintf(arcdir, sizeof arcdir, "%s/arc/ARC-Challenge", data);
    snprintf(args, sizeof args, "mkdir -p '%s' '%s'", model, arcdir);
    if (system(args) != 0) return 1;
    /* mla_*: the DeepSeek-V3 MLA fixture (two decoding paths) */
    const char *src = !strncmp(cs, "mla_", 4) ? "mla/dsv3-plainq" : "forward/llama-gqa-f32";
    char srcf[256];
    snprintf(path, sizeof path, "%s/config.json", model);
    snprintf(srcf, sizeof srcf, "%s/config.json", src);
    copy_file(test_fixture(srcf), path);
    snprintf(path, sizeof path, "%s/model.safetensors", model);
    snprintf(srcf, sizeof srcf, "%s/model.safetensors", src);
    copy_file(test_fixture(srcf), path);
    write_tokenizer(model, !strncmp(cs, "mla_", 4));
    snprintf(file, sizeof file, "%s/ARC-Challenge-Test.jsonl", arcdir);

    const char *rows = good_rows, *field = NULL, *extra = "";
    if (!strcmp(cs, "good")) {
    } else if (!strcmp(cs, "mla_both")) {
        extra = "--path both";
    } else if (!strcmp(cs, "mla_both_gate")) {
        extra = "--path both --max-path-diff 0";
    } else if (!strcmp(cs, "missing_field")) {
        rows = "{\"id\": \"q1\", \"question\": {\"stem\": \"Which?\"}, \"answerKey\": \"A\"}\n";
        field = "choices";
    } else if (!strcmp(cs, "label_out_of_range")) {
        rows = "{\"id\": \"q1\", \"question\": {\"stem\": \"Which?\", \"choices\": [{\"text\": \"a\", \"label\": \"A\"}]}, "
               "\"answerKey\": \"Z\"}\n";
        field = "answerKey";
    } else if (!strcmp(cs, "empty_choices")) {
        rows = "{\"id\": \"q1\", \"question\": {\"stem\": \"Which?\", \"choices\": []}, \"answerKey\": \"A\"}\n";
        field = "choices";
    } else if (!strcmp(cs, "invalid_utf8")) {
        rows = "{\"id\": \"q1\", \"question\": {\"stem\": \"Which \xff?\", \"choices\": [{\"text\": \"a\", \"label\": \"A\"}]}, "
               "\"answerKey\": \"A\"}\n";
        field = "stem";
    } else if (!strcmp(cs, "mismatched_tokenizer")) {
        snprintf(path, sizeof path, "%s/tokenizer.json", model);
        copy_file(test_fixture("tokenizer/llama3/tokenizer.json"), path);
        field = "mismatched tokenizer";
    } else {
        return 2;
    }
    test_write_file(file, rows, strlen(rows));
    snprintf(path, sizeof path, "%s/out", root);
    snprintf(args, sizeof args, "eval --model '%s' --tasks arc_challenge --data-dir '%s' --output-dir '%s' --quiet %s",
             model, data, path, extra);
    char *out = NULL;
    int code = test_run_cli(args, &out);
    const char *o = out ? out : "";
    printf("exit %d:\n%s\n", code, o);
    if (!strcmp(cs, "mla_both_gate")) {
        /* Any rounding difference fails a zero limit: exit 1 naming the worst request. */
        int zero = strstr(o, "|dll| = 0:") != NULL;
        test_cond("a zero limit fails (exit 1) unless the paths agree to the bit", zero ? code == 0 : code == 1);
        test_cond("names the worst request", strstr(o, "worst request: arc_challenge doc") != NULL);
    } else if (!field) {
        test_cond("good rows: exit 0", code == 0);
        if (!strcmp(cs, "mla_both")) {
            test_cond("cross-path table printed", strstr(o, "cross-path check: absorb vs expanded") != NULL);
            test_cond("paths agree within 1e-4", strstr(o, "within the limit") != NULL);
        }
        snprintf(path, sizeof path, "%s/out/results.json", root);
        char *res = test_read_file(path, NULL);
        test_cond("results.json written", res != NULL);
        test_cond("results.json has arc_challenge acc", res && strstr(res, "\"acc,none\"") && strstr(res, "\"sample_len\": 2"));
        free(res);
    } else {
        test_cond("bad input: exit 2", code == 2);
        test_cond("says gqla-eval: error:", strstr(o, "gqla-eval: error:") != NULL);
        test_cond("names the field / problem", strstr(o, field) != NULL);
        if (strcmp(cs, "mismatched_tokenizer") != 0) {
            test_cond("names the file", strstr(o, "ARC-Challenge-Test.jsonl") != NULL);
            test_cond("names the line", strstr(o, "line 1") != NULL);
        }
        snprintf(path, sizeof path, "%s/out/results.json", root);
        char *res = test_read_file(path, NULL);
        test_cond("nothing written", res == NULL);
        free(res);
    }
    free(out);
    return test_report(cs);
}
