/* test_info_bad_files.c — bad GGUF files and a bad tokenizer.json through
 * the CLI: `gqla-eval info PATH` prints "gqla-eval: error: ..." naming the
 * file and what is wrong, and exits 2.  Usage: test_info_bad_files CASE
 * with CASE one of gguf_magic, gguf_tensor_past_end, tokenizer_not_json. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint_fixtures.h"
#include "testutil.h"

static int check_info(const char *path, const char *name_in_msg, const char *what)
{
    char args[4200];
    snprintf(args, sizeof args, "info '%s'", path);
    char *out = NULL;
    int code = test_run_cli(args, &out);
    const char *o = out ? out : "";
    printf("exit %d, output:\n%s\n", code, o);
    test_cond("exit code 2", code == 2);
    test_cond("prints 'gqla-eval: error:'", strstr(o, "gqla-eval: error:") != NULL);
    test_cond("names the file", strstr(o, name_in_msg) != NULL);
    test_cond("says what is wrong", strstr(o, what) != NULL);
    free(out);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    const char *cs = argv[1];
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s", test_tmpdir(cs));
    size_t n = 0;
    char *gguf = test_read_file(test_fixture("gguf/tiny.gguf"), &n);
    if (!gguf) {
        test_cond("tiny.gguf fixture readable", 0);
        return test_report(cs);
    }
    if (!strcmp(cs, "gguf_magic")) {
        memcpy(gguf, "GGUX", 4);
        snprintf(path, sizeof path, "%s/bad-magic.gguf", dir);
        test_write_file(path, gguf, n);
        check_info(path, "bad-magic.gguf", "not a GGUF file");
    } else if (!strcmp(cs, "gguf_tensor_past_end")) {
        snprintf(path, sizeof path, "%s/short.gguf", dir);
        test_write_file(path, gguf, n - 100); /* the last tensor's bytes run past the end */
        check_info(path, "short.gguf", "past the end of the file");
    } else if (!strcmp(cs, "tokenizer_not_json")) {
        if (ckfix_build("valid", dir) != 0) {
            test_cond("valid folder built", 0);
        } else {
            snprintf(path, sizeof path, "%s/tokenizer.json", dir);
            test_write_file(path, "{\"model\": {\"type\": \"BPE\",", 26);
            check_info(dir, "tokenizer.json", "not valid JSON");
        }
    } else {
        fprintf(stderr, "unknown case %s\n", cs);
        free(gguf);
        return 2;
    }
    free(gguf);
    return test_report(cs);
}
