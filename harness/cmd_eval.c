/* cmd_eval.c — the main command, `gqla-eval [eval] --model ORIG
 * [--converted GQLA] --tasks LIST ...` (the default subcommand): scores the
 * tasks by log-likelihood as lm-evaluation-harness does, with the original
 * model on its native path and the converted model on each of its decoding
 * paths; compares the paths request by request; writes the results files,
 * the run manifest DIR/gqla_run.json, the reports and the gate verdict
 * (reports/report.h); resumes a killed run from its journal.
 * With --model alone it keeps the single-model behaviour (results.json,
 * requests/docs/summary.tsv, --path both with its --max-path-diff check).
 * Tests: tests/test_eval_cli.c, tests/test_main_cmd.c, tests/test_main_resume.c. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "eval.h"
#include "eval_manifest.h"
#include "eval_output.h"
#include "fileio.h"
#include "gq_alloc.h"
#include "model.h"
#include "progress.h"
#include "report.h"
#include "results.h"
#include "score.h"

static const char *eval_help =
    "Usage: gqla-eval [eval] --model ORIG [--converted GQLA] --tasks LIST [options]\n"
    "\n"
    "Scores multiple-choice tasks by log-likelihood exactly as lm-evaluation-harness\n"
    "(HEAD, tasks.md): same prompts, requests, _encode_pair tokenization, acc/acc_norm,\n"
    "stderr and MMLU group aggregation.  With --converted, the original model runs on\n"
    "its native path and the converted (GQLA) model on each of its decoding paths over\n"
    "the same token ids; the paths are compared request by request, and --output-dir\n"
    "gets results_<run>.json per run, gqla_run.json (the manifest), report.md/.tex/\n"
    ".csv/.html and, with a gate option, the gate verdict (exit 1 when it fails).\n"
    "\n"
    "  --model MODEL        the original model: folder or .gguf file\n"
    "  --converted MODEL    its GQLA conversion (must share the tokenizer)\n"
    "  --paths LIST         decoding paths of the converted model, comma-separated\n"
    "                       (default: both it has, e.g. gqa,absorb)\n"
    "  --tasks LIST         comma-separated: mmlu, arc (= arc_easy,arc_challenge), arc_easy,\n"
    "                       arc_challenge, piqa, hellaswag, openbookqa, winogrande,\n"
    "                       mmlu_<subject>\n"
    "  --limit N            first N documents of each task (lm-eval --limit)\n"
    "  --num-fewshot K      K shots (MMLU: the first K dev rows); default 0\n"
    "  --data-dir DIR       local release files laid out as ../shared/datasets\n"
    "                       (default: the Hugging Face datasets-server, cached)\n"
    "  --offline            never download (also HF_HUB_OFFLINE=1)\n"
    "  --add-bos auto|on|off  BOS policy; auto = the tokenizer's default (lm-eval HEAD)\n"
    "  --path P             decoding path: native (GQA models), gqa | absorb (GQLA),\n"
    "                       absorb | expanded (MLA), or both: score every request under the\n"
    "                       model's two paths and report how far they agree\n"
    "  --sq N               continuation tokens per decode step (default 1 for GQLA/MLA\n"
    "                       paths, as a server decodes; GQA models: the whole request);\n"
    "                       0 = each request's input in one call through the path's cache\n"
    "                       (the lm-eval way: much faster on CPU, same log-likelihoods up\n"
    "                       to float rounding)\n"
    "  --max-path-diff X    gate: fail if a request's log-likelihood differs between the\n"
    "                       converted model's paths by more than X (--model alone with\n"
    "                       --path both: always checked, default 1e-4)\n"
    "  --max-drop PP        gate: fail if a converted run loses more than PP accuracy\n"
    "                       points on a task or on average (needs --converted)\n"
    "  --junit FILE         gate: also write the checks as JUnit XML\n"
    "  --arc-split          report arc_easy and arc_challenge as separate columns\n"
    "  --output-dir DIR     write the results there; rerunning the same command on the\n"
    "                       same DIR resumes from DIR/journal (only missing work is done);\n"
    "                       the report's wall time and peak memory cover every invocation\n"
    "  --log-samples        also write the per-document sample logs\n"
    "  --note TEXT          a note for the manifest and the report\n"
    "  --threads N          CPU threads (default: all cores)\n"
    "  --quiet              no progress lines\n"
    "\n"
    "Exit status: 0 ok, 1 the gate or the cross-path check failed, 2 an error (bad\n"
    "input names the file, row and field).\n";


/* The main metric of a task as the paper table shows it: acc_norm when the
 * task has one, else acc (report.h). */
static double main_metric(const gq_task_run *t, const gq_task_scores *s)
{
    return t->task->has_acc_norm ? s->acc_norm_mean : s->acc_mean;
}

/* Compact comparison: one row per task, one column per run (percent of the
 * main metric; converted runs with the change from the original). */
static void print_comparison(FILE *f, const gq_eval_run *runs, size_t n_runs, const gq_task_run *tasks,
                             size_t n_tasks)
{
    fprintf(f, "\n%-36s", "task (acc_norm if any, else acc; %)");
    for (size_t r = 0; r < n_runs; r++) fprintf(f, " %22s", runs[r].id);
    fputc('\n', f);
    double sum[8] = {0};
    for (size_t i = 0; i < n_tasks; i++) {
        fprintf(f, "%-36s", tasks[i].task->name);
        double base = 100.0 * main_metric(&tasks[i], &runs[0].scores[i]);
        for (size_t r = 0; r < n_runs && r < 8; r++) {
            double v = 100.0 * main_metric(&tasks[i], &runs[r].scores[i]);
            sum[r] += v;
            if (r == 0 || strcmp(runs[r].role, "converted") != 0) fprintf(f, " %22.2f", v);
            else fprintf(f, " %13.2f (%+6.2f)", v, v - base);
        }
        fputc('\n', f);
    }
    if (n_tasks > 1) {
        fprintf(f, "%-36s", "average of the rows");
        for (size_t r = 0; r < n_runs && r < 8; r++) {
            double v = sum[r] / (double)n_tasks;
            if (r == 0 || strcmp(runs[r].role, "converted") != 0) fprintf(f, " %22.2f", v);
            else fprintf(f, " %13.2f (%+6.2f)", v, v - sum[0] / (double)n_tasks);
        }
        fputc('\n', f);
    }
}

/* "gqla-eval " + argv joined by spaces (heap). */
static char *join_command(int argc, char **argv, gq_error *err)
{
    size_t n = 16;
    for (int i = 0; i < argc; i++) n += strlen(argv[i]) + 1;
    char *s = gq_malloc(n, "command line", err);
    if (!s) return NULL;
    strcpy(s, "gqla-eval");
    for (int i = 0; i < argc; i++) {
        strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

/* Parse "gqa,absorb" into paths (at most GQ_PATH_COUNT, no repeats). */
static int parse_paths(const char *list, gq_path *paths, int *n)
{
    *n = 0;
    char buf[128];
    if (snprintf(buf, sizeof buf, "%s", list) >= (int)sizeof buf) return -1;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        gq_path p;
        if (gq_path_parse(tok, &p) != 0 || *n >= GQ_PATH_COUNT) return -1;
        for (int i = 0; i < *n; i++)
            if (paths[i] == p) return -1;
        paths[(*n)++] = p;
    }
    return *n > 0 ? 0 : -1;
}

int cmd_eval(int argc, char **argv)
{
    gq_eval_opts o;
    memset(&o, 0, sizeof o);
    const char *model = NULL, *converted = NULL, *out_dir = NULL, *path_arg = NULL, *paths_arg = NULL;
    const char *junit = NULL, *note = NULL;
    long threads = 0, shots = 0, sq = -1;
    int log_samples = 0, arc_split = 0, has_max_path_diff = 0, has_max_drop = 0;
    double max_path_diff = 1e-4, max_drop = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(eval_help, stdout);
            return GQ_EXIT_OK;
        } else if (!strcmp(a, "--model") && has) {
            model = argv[++i];
        } else if (!strcmp(a, "--converted") && has) {
            converted = argv[++i];
        } else if (!strcmp(a, "--tasks") && has) {
            o.tasks = argv[++i];
        } else if (!strcmp(a, "--limit") && has) {
            if (cli_parse_int(argv[++i], 1, 1L << 40, &o.limit)) return cli_usage_error("eval", "--limit takes N >= 1");
        } else if (!strcmp(a, "--num-fewshot") && has) {
            if (cli_parse_int(argv[++i], 0, 100, &shots)) return cli_usage_error("eval", "--num-fewshot takes 0..100");
            o.num_fewshot = (int)shots;
        } else if (!strcmp(a, "--data-dir") && has) {
            o.data.data_dir = argv[++i];
        } else if (!strcmp(a, "--offline")) {
            o.data.offline = 1;
        } else if (!strcmp(a, "--add-bos") && has) {
            if (gq_add_bos_parse(argv[++i], &o.add_bos)) return cli_usage_error("eval", "--add-bos takes auto, on or off");
        } else if (!strcmp(a, "--path") && has) {
            path_arg = argv[++i];
        } else if (!strcmp(a, "--paths") && has) {
            paths_arg = argv[++i];
        } else if (!strcmp(a, "--sq") && has) {
            if (cli_parse_int(argv[++i], 0, 4096, &sq)) return cli_usage_error("eval", "--sq takes N >= 0");
        } else if (!strcmp(a, "--max-path-diff") && has) {
            char *end = NULL;
            max_path_diff = strtod(argv[++i], &end);
            if (!end || *end || !(max_path_diff >= 0)) return cli_usage_error("eval", "--max-path-diff takes X >= 0");
            has_max_path_diff = 1;
        } else if (!strcmp(a, "--max-drop") && has) {
            char *end = NULL;
            max_drop = strtod(argv[++i], &end);
            if (!end || *end || !isfinite(max_drop)) return cli_usage_error("eval", "--max-drop takes a number of points");
            has_max_drop = 1;
        } else if (!strcmp(a, "--junit") && has) {
            junit = argv[++i];
        } else if (!strcmp(a, "--arc-split")) {
            arc_split = 1;
        } else if (!strcmp(a, "--note") && has) {
            note = argv[++i];
        } else if (!strcmp(a, "--output-dir") && has) {
            out_dir = argv[++i];
        } else if (!strcmp(a, "--log-samples")) {
            log_samples = 1;
        } else if (!strcmp(a, "--threads") && has) {
            if (cli_parse_int(argv[++i], 0, 1024, &threads)) return cli_usage_error("eval", "--threads takes a count");
        } else if (!strcmp(a, "--quiet")) {
            o.quiet = 1;
            o.data.quiet = 1;
        } else {
            return cli_usage_error("eval", "unknown option or missing value: '%s'", a);
        }
    }
    if (!model) return cli_usage_error("eval", "missing --model");
    if (!o.tasks) return cli_usage_error("eval", "missing --tasks");
    if (log_samples && !out_dir) return cli_usage_error("eval", "--log-samples needs --output-dir");
    if (converted && path_arg) return cli_usage_error("eval", "with --converted, choose its paths with --paths");
    if (path_arg && paths_arg) return cli_usage_error("eval", "give --path or --paths, not both");
    if (has_max_drop && !converted) return cli_usage_error("eval", "--max-drop compares with --converted");
    int gate = has_max_drop || junit || (converted && has_max_path_diff);
    if (gate && !out_dir) return cli_usage_error("eval", "the gate (--max-drop, --max-path-diff, --junit) needs --output-dir");
    o.sq = (int)sq;

    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    double started_unix = (double)now.tv_sec + (double)now.tv_nsec * 1e-9, t_start = gq_now();
    char date_id[40];

    gq_error err = {0};
    gq_eval_model orig, conv;
    memset(&orig, 0, sizeof orig);
    memset(&conv, 0, sizeof conv);
    gq_task_run *tasks = NULL;
    size_t n_tasks = 0;
    gq_eval_run runs[1 + GQ_PATH_COUNT];
    size_t n_runs = 0;
    memset(runs, 0, sizeof runs);
    gq_path_check *checks = NULL;
    char *command = NULL, *journal_dir = NULL;
    gq_run_clock clock = {0};
    int rc = GQ_EXIT_ERROR, failed = 0;

    if (gq_report_date_id((int64_t)now.tv_sec, now.tv_nsec / 1000, date_id, &err) != GQ_OK) goto fail;
    if (gq_eval_model_open(&orig, model, (int)threads, &err) != GQ_OK) goto fail;
    if (converted) {
        if (gq_eval_model_open(&conv, converted, (int)threads, &err) != GQ_OK) goto fail;
        if (gq_eval_check_same_tokenizer(&orig, &conv, &err) != GQ_OK) goto fail;
    }

    /* The run plan. */
    const gq_config *ocfg = gq_model_config(orig.info);
    gq_path paths[GQ_PATH_COUNT];
    int n_paths = 0;
    gq_eval_model *multi = converted ? &conv : &orig; /* the model that may run several paths */
    const gq_config *mcfg = gq_model_config(multi->info);
    if ((path_arg && !strcmp(path_arg, "both")) || (!path_arg && !paths_arg && converted)) {
        for (int p = 0; p < GQ_PATH_COUNT && n_paths < 2; p++)
            if (gq_config_path_supported(mcfg, (gq_path)p)) paths[n_paths++] = (gq_path)p;
        if (n_paths < 2 && !converted) {
            gq_error_set(&err, GQ_ERR_USAGE, "%s: --path both needs an MLA or GQLA model (this %s model has one path)",
                         model, gq_arch_name(mcfg->arch));
            goto fail;
        }
    } else if (path_arg || paths_arg) {
        if (parse_paths(path_arg ? path_arg : paths_arg, paths, &n_paths) != 0 || (path_arg && n_paths != 1)) {
            rc = cli_usage_error("eval", "%s takes native, gqa, absorb, expanded%s (got '%s')",
                                 path_arg ? "--path" : "--paths", path_arg ? " or both" : ", comma-separated",
                                 path_arg ? path_arg : paths_arg);
            goto done;
        }
    } else {
        paths[n_paths++] = gq_config_default_path(ocfg);
    }
    for (int p = 0; p < n_paths; p++)
        if (gq_model_check_path(multi->info, paths[p], &err) != GQ_OK) goto fail;
    if (converted) {
        gq_eval_run *r = &runs[n_runs++];
        snprintf(r->id, sizeof r->id, "original");
        r->role = "original";
        r->model = &orig;
        r->path = gq_config_default_path(ocfg);
    }
    for (int p = 0; p < n_paths; p++) {
        gq_eval_run *r = &runs[n_runs++];
        r->role = converted ? "converted" : "original";
        r->model = multi;
        r->path = paths[p];
        if (converted) snprintf(r->id, sizeof r->id, "converted_%s", gq_path_name(paths[p]));
        /* --model alone: the (first) path runs as "original" (the manifest
         * contract); a second path of --path both as "original_<path>". */
        else if (p == 0) snprintf(r->id, sizeof r->id, "original");
        else snprintf(r->id, sizeof r->id, "original_%s", gq_path_name(paths[p]));
    }

    /* Requests are tokenized once, with the original's tokenizer. */
    if (gq_eval_prepare(orig.info, &o, &tasks, &n_tasks, &err) != GQ_OK) goto fail;
    if (out_dir && !(journal_dir = gq_path_join(out_dir, "journal", &err))) goto fail;
    /* Time and memory over every invocation on this folder (a resumed run). */
    if (gq_run_clock_start(&clock, journal_dir, started_unix, t_start, &err) != GQ_OK) goto fail;
    o.clock = &clock;
    gq_eval_overall overall = {0};
    for (size_t t = 0; t < n_tasks; t++)
        for (size_t d = 0; d < tasks[t].n_docs; d++) overall.total += (double)n_runs * gq_eval_doc_work(&tasks[t], d);
    overall.n_tasks_total = n_runs * n_tasks;
    overall.t_start = gq_now();
    o.overall = &overall;
    for (size_t r = 0; r < n_runs; r++) {
        if (gq_eval_score_run(&runs[r], &o, tasks, n_tasks, journal_dir, &err) != GQ_OK) goto fail;
        if (r + 1 == n_runs || runs[r + 1].model != runs[r].model) gq_eval_model_release(runs[r].model);
    }
    /* Tables. */
    for (size_t r = 0; r < n_runs; r++) {
        if (n_runs > 1)
            printf("%s== %s: %s, path %s\n", r ? "\n" : "", runs[r].id, runs[r].model->path, gq_path_name(runs[r].path));
        gq_eval_print_table(stdout, tasks, runs[r].scores, n_tasks);
    }
    if (!(checks = gq_calloc(n_tasks ? n_tasks : 1, sizeof *checks, "path checks", &err))) goto fail;
    for (size_t a = 0; a < n_runs; a++)
        for (size_t b = a + 1; b < n_runs; b++) {
            if (runs[a].model != runs[b].model) continue;
            for (size_t i = 0; i < n_tasks; i++)
                gq_path_check_compute(&tasks[i], &runs[a].scores[i], &runs[b].scores[i], &checks[i]);
            char na[64], nb[64];
            snprintf(na, sizeof na, "%s", gq_path_name(runs[a].path));
            snprintf(nb, sizeof nb, "%s", gq_path_name(runs[b].path));
            /* --model alone: the cross-path check decides the exit status, as before. */
            if (gq_eval_print_path_check(stdout, na, nb, tasks, checks, n_tasks, max_path_diff) && !converted)
                failed = 1;
        }
    if (converted) print_comparison(stdout, runs, n_runs, tasks, n_tasks);

    if (out_dir) {
        for (size_t r = 0; r < n_runs; r++)
            if (gq_eval_write_run(out_dir, &runs[r], &o, tasks, n_tasks, log_samples, !converted, date_id,
                                  started_unix, &err) != GQ_OK)
                goto fail;
        if (!(command = join_command(argc, argv, &err))) goto fail;
        if (gq_run_clock_save(&clock, &err) != GQ_OK) goto fail;
        gq_manifest_info mi = {command, note, clock.started_unix, gq_run_clock_seconds(&clock),
                               gq_run_clock_peak_rss(&clock), gq_run_clock_invocations(&clock),
                               clock.earlier_untimed, &o, arc_split, &orig,
                               converted ? &conv : NULL, runs, n_runs, tasks, n_tasks};
        if (gq_eval_write_manifest(out_dir, &mi, &err) != GQ_OK) goto fail;
        if (gq_report_write_all(out_dir, &err) != GQ_OK) goto fail;
        if (!o.quiet) fprintf(stderr, "wrote %s/gqla_run.json and the report (report.md, .tex, .csv, .html)\n", out_dir);
        /* The paper table: report.md as the reports side rendered it from the manifest. */
        char *report = NULL, *text = NULL;
        size_t len = 0;
        if (converted && (report = gq_path_join(out_dir, "report.md", &err)) &&
            gq_file_read_all(report, &text, &len, NULL) == GQ_OK) {
            printf("\n");
            fwrite(text, 1, len, stdout);
        }
        gq_free(text);
        gq_free(report);
        if (gate) {
            gq_gate_opts go = {has_max_drop, max_drop, converted && has_max_path_diff, max_path_diff, junit};
            int n_failed = 0;
            if (gq_gate_check(out_dir, &go, &n_failed, &err) != GQ_OK) goto fail;
            if (n_failed > 0) failed = 1;
        }
    }
    rc = failed ? GQ_EXIT_CHECK_FAILED : GQ_EXIT_OK;
    goto done;
fail:
    rc = cli_fail(&err);
done:
    for (size_t r = 0; r < n_runs; r++) gq_eval_run_free(&runs[r]);
    gq_task_runs_free(tasks, n_tasks);
    gq_eval_model_close(&orig);
    gq_eval_model_close(&conv);
    gq_free(checks);
    gq_free(command);
    gq_free(journal_dir);
    gq_run_clock_free(&clock);
    return rc;
}
