/* cmd_report.c — `gqla-eval report DIR...`: rebuild report.md, .tex, .csv
 * and .html of saved runs from DIR/gqla_run.json alone (no model is run;
 * the same manifest gives the same bytes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"

static const char *report_help =
    "Usage: gqla-eval report [--quiet] [--max-drop PP] [--max-path-diff X] [--junit FILE] DIR...\n"
    "\n"
    "Regenerate the report of finished runs from DIR/gqla_run.json (the manifest the\n"
    "main command writes last) without running any model: DIR/report.md (GitHub\n"
    "Markdown), report.tex (LaTeX, booktabs), report.csv (one block per table) and\n"
    "report.html (one self-contained page with inline SVG charts), each replaced\n"
    "atomically.  Tables: benchmark scores (Avg, MMLU, ARC, PIQA, HS, OBQA, WG in %,\n"
    "converted rows with the change vs the original in points; acc_norm where the\n"
    "task has it, else acc; ARC = mean of arc_easy and arc_challenge unless the run\n"
    "used --arc-split), cross-path consistency, KV cache per token.\n"
    "\n"
    "Gate (as the main command's options, on the saved numbers):\n"
    "  --max-drop PP        fail when a converted path loses more than PP points vs the\n"
    "                       original on a task (mmlu, arc_easy, arc_challenge, piqa,\n"
    "                       hellaswag, openbookqa, winogrande; metric as the table) or on\n"
    "                       the average over the columns both have\n"
    "  --max-path-diff X    fail when a task's max |delta log-likelihood| between the\n"
    "                       converted model's paths exceeds X\n"
    "  --junit FILE         write the gate's checks as JUnit XML (one DIR only)\n"
    "Failing checks are printed to stderr.\n"
    "\n"
    "Options:\n"
    "  --quiet   print nothing but errors and failing checks\n"
    "\n"
    "Exit status: 0 all written (and the gate passed), 1 a gate check failed,\n"
    "2 an error (the message names the file and key).\n";

static int parse_limit(const char *s, double *out)
{
    char *end = NULL;
    *out = strtod(s, &end);
    return end && end != s && !*end && *out >= 0.0 && *out < 1e300 ? 0 : -1;
}

int cmd_report(int argc, char **argv)
{
    int quiet = 0, n_dirs = 0;
    gq_gate_opts gate = {0};
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(report_help, stdout);
            return GQ_EXIT_OK;
        } else if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q")) {
            quiet = 1;
        } else if (!strcmp(argv[i], "--max-drop") && i + 1 < argc) {
            if (parse_limit(argv[++i], &gate.max_drop_pp))
                return cli_usage_error("report", "--max-drop takes points >= 0, got '%s'", argv[i]);
            gate.has_max_drop = 1;
        } else if (!strcmp(argv[i], "--max-path-diff") && i + 1 < argc) {
            if (parse_limit(argv[++i], &gate.max_path_diff))
                return cli_usage_error("report", "--max-path-diff takes a number >= 0, got '%s'", argv[i]);
            gate.has_max_path_diff = 1;
        } else if (!strcmp(argv[i], "--junit") && i + 1 < argc) {
            gate.junit_path = argv[++i];
        } else if (argv[i][0] == '-') {
            return cli_usage_error("report", "unknown option or missing value: '%s'", argv[i]);
        } else {
            n_dirs++;
        }
    }
    if (n_dirs == 0) return cli_usage_error("report", "missing DIR (an output folder holding gqla_run.json)");
    int gated = gate.has_max_drop || gate.has_max_path_diff;
    if (gate.junit_path && !gated) return cli_usage_error("report", "--junit needs --max-drop or --max-path-diff");
    if (gate.junit_path && n_dirs > 1) return cli_usage_error("report", "--junit takes one DIR");
    int any_failed = 0;
    for (int i = 0; i < argc; i++) {
        if (argv[i][0] == '-') {
            if (strcmp(argv[i], "--quiet") && strcmp(argv[i], "-q")) i++;   /* skip the option's value */
            continue;
        }
        gq_error err = {0};
        if (gq_report_write_all(argv[i], &err) != GQ_OK) return cli_fail(&err);
        if (!quiet) printf("report: wrote %s/report.{md,tex,csv,html}\n", argv[i]);
        if (!gated) continue;
        int failed = 0;
        if (gq_gate_check(argv[i], &gate, &failed, &err) != GQ_OK) return cli_fail(&err);
        if (failed) any_failed = 1;
    }
    return any_failed ? GQ_EXIT_CHECK_FAILED : GQ_EXIT_OK;
}
