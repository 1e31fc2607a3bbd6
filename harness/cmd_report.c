/* cmd_report.c — `gqla-eval report DIR...`: rebuild report.md, .tex, .csv
 * and .html of saved runs from DIR/gqla_run.json alone (no model is run;
 * the same manifest gives the same bytes). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "report.h"

static const char *report_help =
    "Usage: gqla-eval report [--quiet] DIR...\n"
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
    "Options:\n"
    "  --quiet   print nothing but errors\n"
    "\n"
    "Exit status: 0 all written, 2 an error (the message names the file and key).\n";

int cmd_report(int argc, char **argv)
{
    int quiet = 0, n_dirs = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(report_help, stdout);
            return GQ_EXIT_OK;
        } else if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q")) {
            quiet = 1;
        } else if (argv[i][0] == '-') {
            return cli_usage_error("report", "unknown option '%s'", argv[i]);
        } else {
            n_dirs++;
        }
    }
    if (n_dirs == 0) return cli_usage_error("report", "missing DIR (an output folder holding gqla_run.json)");
    for (int i = 0; i < argc; i++) {
        if (argv[i][0] == '-') continue;
        gq_error err = {0};
        if (gq_report_write_all(argv[i], &err) != GQ_OK) return cli_fail(&err);
        if (!quiet) printf("report: wrote %s/report.{md,tex,csv,html}\n", argv[i]);
    }
    return GQ_EXIT_OK;
}
