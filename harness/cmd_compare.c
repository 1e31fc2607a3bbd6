/* cmd_compare.c — `gqla-eval compare BASE.json NEW.json --max-drop PP`:
 * the regression check between two results files (gq_compare_files in
 * reports/report.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"

static const char *compare_help =
    "Usage: gqla-eval compare BASE.json NEW.json --max-drop PP [--junit FILE] [--quiet]\n"
    "\n"
    "Compare two lm-eval-layout results files (as `eval --output-dir` writes, or\n"
    "lm-evaluation-harness itself): for every task in both \"results\" objects, the\n"
    "main metric (acc_norm when BASE reports it for the task, else acc) in %, and\n"
    "the change NEW - BASE in points.  Tasks in only one file are listed.\n"
    "\n"
    "Options:\n"
    "  --max-drop PP   fail when a shared task drops by more than PP points (>= 0)\n"
    "  --junit FILE    also write JUnit XML: one testcase per shared task\n"
    "  --quiet         print only failing rows and errors\n"
    "\n"
    "Exit status: 0 no task dropped more than PP, 1 some did, 2 an error (missing\n"
    "file, bad JSON with its line and column, no \"results\", no task in common).\n";

int cmd_compare(int argc, char **argv)
{
    const char *files[2] = {NULL, NULL}, *junit = NULL;
    int n_files = 0, quiet = 0, has_drop = 0;
    double max_drop = 0.0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(compare_help, stdout);
            return GQ_EXIT_OK;
        } else if (!strcmp(argv[i], "--max-drop") && i + 1 < argc) {
            char *end = NULL;
            max_drop = strtod(argv[++i], &end);
            if (!end || end == argv[i] || *end || !(max_drop >= 0.0 && max_drop < 1e9))
                return cli_usage_error("compare", "--max-drop takes points >= 0, got '%s'", argv[i]);
            has_drop = 1;
        } else if (!strcmp(argv[i], "--junit") && i + 1 < argc) {
            junit = argv[++i];
        } else if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q")) {
            quiet = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("compare", "unknown option or missing value: '%s'", argv[i]);
        } else if (n_files < 2) {
            files[n_files++] = argv[i];
        } else {
            return cli_usage_error("compare", "two files only (BASE.json NEW.json), got a third: '%s'", argv[i]);
        }
    }
    if (n_files != 2) return cli_usage_error("compare", "need BASE.json and NEW.json");
    if (!has_drop) return cli_usage_error("compare", "missing --max-drop PP");

    gq_error err = {0};
    int failed = 0;
    FILE *sink = quiet ? tmpfile() : stdout;
    if (!sink) sink = stdout;
    int rc = gq_compare_files(files[0], files[1], max_drop, junit, sink, &failed, &err);
    if (quiet && sink != stdout) {
        /* Quiet: show the failing rows only. */
        char line[1024];
        rewind(sink);
        while (fgets(line, sizeof line, sink))
            if (strstr(line, " FAIL")) fputs(line, stdout);
        fclose(sink);
    }
    if (rc != GQ_OK) return cli_fail(&err);
    return failed ? GQ_EXIT_CHECK_FAILED : GQ_EXIT_OK;
}
