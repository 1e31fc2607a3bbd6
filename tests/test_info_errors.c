/* test_info_errors.c — the bad checkpoints of checkpoint_fixtures.c through
 * the CLI: `gqla-eval info DIR` must print "gqla-eval: error: <message>"
 * naming the file and exit 2; a good folder exits 0.
 *
 * Usage: test_info_errors CASE (one ctest entry per case,
 * tests/checkpoint.cmake).  Needs the `info` subcommand of harness/.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint_fixtures.h"
#include "testutil.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_info_errors CASE\n");
        return 2;
    }
    const ckfix_case *c = ckfix_find(argv[1]);
    if (!c) {
        fprintf(stderr, "test_info_errors: unknown case '%s'\n", argv[1]);
        return 2;
    }
    char dir[4096], args[4200];
    snprintf(dir, sizeof dir, "%s", test_tmpdir(c->name));
    if (ckfix_build(c->name, dir) != 0) {
        test_cond("fixture built", 0);
        return test_report(c->name);
    }
    snprintf(args, sizeof args, "info '%s'", dir);
    char *out = NULL;
    int code = test_run_cli(args, &out);
    const char *o = out ? out : "";
    printf("exit %d, output:\n%s\n", code, o);
    if (c->status == 0) {
        test_cond("good folder: exit 0", code == 0);
        test_cond("good folder: no error line", !strstr(o, "gqla-eval: error:"));
    } else {
        test_cond("exit code 2", code == 2);
        test_cond("prints 'gqla-eval: error:'", strstr(o, "gqla-eval: error:") != NULL);
        test_cond("names the file", strstr(o, c->file) != NULL);
        test_cond("says what is wrong", strstr(o, c->what) != NULL);
    }
    free(out);
    return test_report(c->name);
}
