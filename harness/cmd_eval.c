/* cmd_eval.c — the main command, `gqla-eval [eval] --model ORIG
 * [--converted GQLA] --tasks LIST ...` (the default subcommand): scores the
 * tasks by log-likelihood as lm-evaluation-harness does, with the original
 * model on its native path and the converted model on each of its decoding
 * paths; compares the paths request by request; writes the results files,
 * the run manifest DIR/gqla_run.json, the reports and the gate verdict
 * (reports/report.h); resumes a killed run from its journal.
 * With --model alone it keeps the single-model behaviour (results.json,
 * requests/docs/summary.tsv, --path both with its --max-path-diff check).
 * --shard K/N scores one part of the work into DIR (journal + gqla_shard.json,
 * no results); cmd_eval_merged is the same command run by `gqla-eval merge`
 * over the shards' journals (harness/shard.h).
 * Tests: tests/test_eval_cli.c, tests/test_main_cmd.c, tests/test_main_resume.c,
 * tests/test_main_shard.c. */
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
#include "run_lock.h"
#include "eval_ranks.h"
#include "score.h"
#include "shard.h"
#include "world.h"

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
    "  --model MODEL        the original model: folder, .gguf file, or Hub id\n"
    "                       ORG/NAME[@REV][:FILE.gguf] (huggingface_hub cache)\n"
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
    "  --offline            never download, datasets or models (also HF_HUB_OFFLINE=1)\n"
    "  --add-bos auto|on|off  BOS policy; auto = the tokenizer's default (lm-eval HEAD)\n"
    "  --path P             decoding path: native (GQA models), gqa | absorb (GQLA),\n"
    "                       absorb | expanded (MLA), or both: score every request under the\n"
    "                       model's two paths and report how far they agree\n"
    "  --sq N               continuation tokens per decode step (default 1 for GQLA/MLA\n"
    "                       paths, as a server decodes; GQA models: the whole request);\n"
    "                       0 = each request's input in one call through the path's cache\n"
    "                       (the lm-eval way: much faster on CPU, same log-likelihoods up\n"
    "                       to float rounding)\n"
    "  --batch-tokens N     with --sq 0: pack documents into forwards of up to N rows\n"
    "                       (default and maximum: 512 on the CPU, 2048 with --device cuda;\n"
    "                       1 = one document per forward)\n"
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
    "  --shard K/N          score only part K of N (1 <= K <= N) of the work: one job of a\n"
    "                       job array.  DIR gets its journal and gqla_shard.json, no results;\n"
    "                       `gqla-eval merge DIR1 ... DIRN --output-dir OUT` then writes what\n"
    "                       one run would (and runs the gate, if any); needs --output-dir\n"
    "  --log-samples        also write the per-document sample logs\n"
    "  --note TEXT          a note for the manifest and the report\n"
    "  --threads N          CPU threads (default: all cores; under mpirun, a rank's share of them)\n"
    "  --device cpu|cuda[:N]  where the model runs (default cpu): cuda puts the weights, the\n"
    "                       activations and the KV caches on GPU N; exits 2 saying why when\n"
    "                       there is none or the model does not fit\n"
    "  --tp N               tensor parallelism along KV groups over mpirun -np N ranks\n"
    "                       (engine/tp.h; groups need not divide evenly, 1 <= N <= G);\n"
    "                       rank 0 prints and writes.  Not yet combined with data\n"
    "                       parallelism, and a --tp run keeps no journal (no resume)\n"
    "  --quiet              no progress lines\n"
    "\n"
    "Data parallel: `mpirun -np N gqla-eval ...` (built with MPI) deals the documents to\n"
    "N ranks and writes the files one process writes (rank 0); rerun the same command to\n"
    "resume.\n"
    "\n"
    "Exit status: 0 ok, 1 the gate or the cross-path check failed, 2 an error (bad\n"
    "input names the file, row and field).\n";


/* The main metric of a task as the paper table shows it: acc_norm when the
 * task has one, else acc (report.h). */
static double main_metric(const gq_prepared_task *t, const gq_task_scores *s)
{
    return t->task->has_acc_norm ? s->acc_norm_mean : s->acc_mean;
}

/* Compact comparison: one row per task, one column per run (percent of the
 * main metric; converted runs with the change from the original). */
static void print_comparison(FILE *f, const gq_eval_run *runs, size_t n_runs, const gq_prepared_task *tasks,
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

// ---- the command line ------------------------------------------------------------------

typedef struct eval_args {
    gq_eval_opts o;
    const char *model, *converted, *out_dir, *path_arg, *paths_arg, *junit, *note;
    long threads;
    long tp;                  /* --tp N (1: none) */
    int device, device_index; /* --device (GQ_DEVICE_CPU: 0) */
    char device_text[32];     /* as given, for the results: "cuda:0" */
    gq_tp_comm tpc;           /* filled from the world by eval_main */
    int log_samples, arc_split, has_max_path_diff, has_max_drop;
    int gate;                 /* a gate option was given */
    int shard_k, shard_n;     /* --shard K/N; shard_n 0: not a shard */
    int merged_shards;        /* set by gqla-eval merge (cmd_eval_merged): the shards merged */
    double max_path_diff, max_drop;
} eval_args;

/* 0: parsed; < 0: --help printed; > 0: a usage error (printed), the exit status. */
static int parse_args(int argc, char **argv, eval_args *e)
{
    memset(e, 0, sizeof *e);
    gq_eval_opts *o = &e->o;
    long shots = 0, sq = -1, batch_tokens = 0;
    e->max_path_diff = 1e-4;
    e->tp = 1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(eval_help, stdout);
            return -1;
        } else if (!strcmp(a, "--model") && has) {
            e->model = argv[++i];
        } else if (!strcmp(a, "--converted") && has) {
            e->converted = argv[++i];
        } else if (!strcmp(a, "--tasks") && has) {
            o->tasks = argv[++i];
        } else if (!strcmp(a, "--limit") && has) {
            if (cli_parse_int(argv[++i], 1, 1L << 40, &o->limit)) return cli_usage_error("eval", "--limit takes N >= 1");
        } else if (!strcmp(a, "--num-fewshot") && has) {
            if (cli_parse_int(argv[++i], 0, 100, &shots)) return cli_usage_error("eval", "--num-fewshot takes 0..100");
            o->num_fewshot = (int)shots;
        } else if (!strcmp(a, "--data-dir") && has) {
            o->data.data_dir = argv[++i];
        } else if (!strcmp(a, "--offline")) {
            o->data.offline = 1;
        } else if (!strcmp(a, "--add-bos") && has) {
            if (gq_add_bos_parse(argv[++i], &o->add_bos)) return cli_usage_error("eval", "--add-bos takes auto, on or off");
        } else if (!strcmp(a, "--path") && has) {
            e->path_arg = argv[++i];
        } else if (!strcmp(a, "--paths") && has) {
            e->paths_arg = argv[++i];
        } else if (!strcmp(a, "--sq") && has) {
            if (cli_parse_int(argv[++i], 0, 4096, &sq)) return cli_usage_error("eval", "--sq takes N >= 0");
        } else if (!strcmp(a, "--batch-tokens") && has) {
            if (cli_parse_int(argv[++i], 1, 2048, &batch_tokens))
                return cli_usage_error("eval", "--batch-tokens takes N in 1..2048 (512 on the CPU)");
        } else if (!strcmp(a, "--max-path-diff") && has) {
            char *end = NULL;
            e->max_path_diff = strtod(argv[++i], &end);
            if (!end || *end || !(e->max_path_diff >= 0)) return cli_usage_error("eval", "--max-path-diff takes X >= 0");
            e->has_max_path_diff = 1;
        } else if (!strcmp(a, "--max-drop") && has) {
            char *end = NULL;
            e->max_drop = strtod(argv[++i], &end);
            if (!end || *end || !isfinite(e->max_drop)) return cli_usage_error("eval", "--max-drop takes a number of points");
            e->has_max_drop = 1;
        } else if (!strcmp(a, "--junit") && has) {
            e->junit = argv[++i];
        } else if (!strcmp(a, "--arc-split")) {
            e->arc_split = 1;
        } else if (!strcmp(a, "--note") && has) {
            e->note = argv[++i];
        } else if (!strcmp(a, "--output-dir") && has) {
            e->out_dir = argv[++i];
        } else if (!strcmp(a, "--shard") && has) {
            long k = 0, n = 0;
            char kb[32] = "", *slash = strchr(argv[++i], '/');
            if (slash && (size_t)(slash - argv[i]) < sizeof kb) memcpy(kb, argv[i], (size_t)(slash - argv[i]));
            if (!slash || cli_parse_int(kb, 1, 1000000, &k) || cli_parse_int(slash + 1, 1, 1000000, &n) || k > n)
                return cli_usage_error("eval", "--shard takes K/N with 1 <= K <= N (got '%s')", argv[i]);
            e->shard_k = (int)k;
            e->shard_n = (int)n;
        } else if (!strcmp(a, "--log-samples")) {
            e->log_samples = 1;
        } else if (!strcmp(a, "--device") && has) {
            int drc = cli_device_option("eval", argv[++i], &e->device, &e->device_index);
            if (drc) return drc;
            snprintf(e->device_text, sizeof e->device_text, "%s", argv[i]);
        } else if (!strcmp(a, "--threads") && has) {
            if (cli_parse_int(argv[++i], 0, 1024, &e->threads)) return cli_usage_error("eval", "--threads takes a count");
        } else if (!strcmp(a, "--tp") && has) {
            if (cli_parse_int(argv[++i], 1, 4096, &e->tp)) return cli_usage_error("eval", "--tp takes a rank count >= 1");
        } else if (!strcmp(a, "--quiet")) {
            o->quiet = 1;
            o->data.quiet = 1;
        } else {
            return cli_usage_error("eval", "unknown option or missing value: '%s'", a);
        }
    }
    if (!e->model) return cli_usage_error("eval", "missing --model");
    if (!o->tasks) return cli_usage_error("eval", "missing --tasks");
    if (e->log_samples && !e->out_dir) return cli_usage_error("eval", "--log-samples needs --output-dir");
    if (e->converted && e->path_arg) return cli_usage_error("eval", "with --converted, choose its paths with --paths");
    if (e->path_arg && e->paths_arg) return cli_usage_error("eval", "give --path or --paths, not both");
    if (e->has_max_drop && !e->converted) return cli_usage_error("eval", "--max-drop compares with --converted");
    e->gate = e->has_max_drop || e->junit || (e->converted && e->has_max_path_diff);
    if (e->gate && !e->out_dir)
        return cli_usage_error("eval", "the gate (--max-drop, --max-path-diff, --junit) needs --output-dir");
    if (e->shard_n && !e->out_dir)
        return cli_usage_error("eval", "--shard needs --output-dir (the shard's journal goes there)");
    if (e->shard_n && gq_world_get()->size > 1)
        return cli_usage_error("eval", "--shard runs in one process (under mpirun the ranks share the work)");
    /* A shard scores its batches only (gather NULL: no metrics, eval.h). */
    o->part_index = e->shard_n ? e->shard_k - 1 : 0;
    o->n_parts = e->shard_n;
    o->sq = (int)sq;
    o->batch_tokens = (int)batch_tokens;
    o->device = e->device == GQ_DEVICE_CPU ? "cpu" : e->device_text;
    if (e->device != GQ_DEVICE_CPU && e->tp > 1)
        return cli_usage_error("eval", "--tp with --device cuda is not supported yet (the all-reduce runs on host "
                               "memory)");
    return 0;
}

// ---- the plan: models and runs -----------------------------------------------------------

typedef struct eval_plan {
    gq_eval_model orig, conv;            /* conv: with --converted only */
    gq_eval_run runs[1 + GQ_PATH_COUNT]; /* (model, path) pairs, in manifest order */
    size_t n_runs;
} eval_plan;

static void plan_free(eval_plan *p)
{
    for (size_t r = 0; r < p->n_runs; r++) gq_eval_run_free(&p->runs[r]);
    gq_eval_model_close(&p->orig);
    gq_eval_model_close(&p->conv);
}

static gq_eval_run *plan_add_run(eval_plan *p, const char *role, gq_eval_model *m, gq_path path)
{
    gq_eval_run *r = &p->runs[p->n_runs++];
    r->role = role;
    r->model = m;
    r->path = path;
    return r;
}

/* Open the models and list the runs: with --converted, the original on its
 * native path, then the converted model on each path (--paths, default
 * both it has); --model alone, its --path (or both).  GQ_OK, or an error
 * in err, or a usage error already printed (*usage_rc its exit status). */
static int plan_runs(const eval_args *e, eval_plan *p, int *usage_rc, gq_error *err)
{
    int rc;
    *usage_rc = 0;
    if ((rc = gq_eval_model_open(&p->orig, e->model, (int)e->threads, err)) != GQ_OK) return rc;
    p->orig.tp = &e->tpc;
    p->orig.device = e->device;
    p->orig.device_index = e->device_index;
    if (e->converted) {
        if ((rc = gq_eval_model_open(&p->conv, e->converted, (int)e->threads, err)) != GQ_OK) return rc;
        p->conv.tp = &e->tpc;
        p->conv.device = e->device;
        p->conv.device_index = e->device_index;
        if ((rc = gq_eval_check_same_tokenizer(&p->orig, &p->conv, err)) != GQ_OK) return rc;
    }
    const gq_config *ocfg = gq_model_config(p->orig.info);
    gq_path paths[GQ_PATH_COUNT];
    int n_paths = 0;
    gq_eval_model *multi = e->converted ? &p->conv : &p->orig; /* the model that may run several paths */
    const gq_config *mcfg = gq_model_config(multi->info);
    if ((e->path_arg && !strcmp(e->path_arg, "both")) || (!e->path_arg && !e->paths_arg && e->converted)) {
        for (int q = 0; q < GQ_PATH_COUNT && n_paths < 2; q++)
            if (gq_config_path_supported(mcfg, (gq_path)q)) paths[n_paths++] = (gq_path)q;
        if (n_paths < 2 && !e->converted)
            return gq_error_set(err, GQ_ERR_USAGE, "%s: --path both needs an MLA or GQLA model (this %s model has one "
                                "path)", e->model, gq_arch_name(mcfg->arch));
    } else if (e->path_arg || e->paths_arg) {
        if (parse_paths(e->path_arg ? e->path_arg : e->paths_arg, paths, &n_paths) != 0 ||
            (e->path_arg && n_paths != 1)) {
            *usage_rc = cli_usage_error("eval", "%s takes native, gqa, absorb, expanded%s (got '%s')",
                                        e->path_arg ? "--path" : "--paths", e->path_arg ? " or both" : ", comma-separated",
                                        e->path_arg ? e->path_arg : e->paths_arg);
            return GQ_ERR_USAGE;
        }
    } else {
        paths[n_paths++] = gq_config_default_path(ocfg);
    }
    for (int q = 0; q < n_paths; q++)
        if ((rc = gq_model_check_path(multi->info, paths[q], err)) != GQ_OK) return rc;
    if (e->converted) {
        gq_eval_run *r = plan_add_run(p, "original", &p->orig, gq_config_default_path(ocfg));
        snprintf(r->id, sizeof r->id, "original");
    }
    for (int q = 0; q < n_paths; q++) {
        gq_eval_run *r = plan_add_run(p, e->converted ? "converted" : "original", multi, paths[q]);
        if (e->converted) snprintf(r->id, sizeof r->id, "converted_%s", gq_path_name(paths[q]));
        /* --model alone: the (first) path runs as "original" (the manifest
         * contract); a second path of --path both as "original_<path>". */
        else if (q == 0) snprintf(r->id, sizeof r->id, "original");
        else snprintf(r->id, sizeof r->id, "original_%s", gq_path_name(paths[q]));
    }
    return GQ_OK;
}

// ---- scoring ---------------------------------------------------------------------------------

/* Every run over the prepared tasks, in order; a model's weights are
 * released after its last run. */
static int score_runs(eval_plan *p, gq_eval_opts *o, const gq_prepared_task *tasks, size_t n_tasks,
                      const char *journal_dir, gq_error *err)
{
    gq_eval_overall overall = {0};
    gq_eval_deal deal;
    int rc = gq_eval_deal_make(tasks, n_tasks, o->n_parts, &deal, err);
    if (rc != GQ_OK) return rc;
    overall.total = (double)p->n_runs * gq_eval_deal_work(&deal, tasks, o->n_parts > 1 ? o->part_index : 0);
    gq_eval_deal_free(&deal);
    overall.n_tasks_total = p->n_runs * n_tasks;
    overall.t_start = gq_now();
    o->overall = &overall;
    for (size_t r = 0; r < p->n_runs && rc == GQ_OK; r++) {
        rc = gq_eval_score_run(&p->runs[r], o, tasks, n_tasks, journal_dir, err);
        if (rc == GQ_OK && (r + 1 == p->n_runs || p->runs[r + 1].model != p->runs[r].model))
            gq_eval_model_release(p->runs[r].model);
    }
    o->overall = NULL; /* it lived on this stack */
    return rc;
}

// ---- printing ----------------------------------------------------------------------------------

/* Each run's table, the cross-path check of each pair of runs of one model
 * and, with --converted, the comparison.  *check_failed: --model alone and
 * two paths disagree beyond --max-path-diff (that decides the exit status). */
static int print_results(const eval_args *e, const eval_plan *p, const gq_prepared_task *tasks, size_t n_tasks,
                         int *check_failed, gq_error *err)
{
    *check_failed = 0;
    for (size_t r = 0; r < p->n_runs; r++) {
        if (p->n_runs > 1)
            printf("%s== %s: %s, path %s\n", r ? "\n" : "", p->runs[r].id, p->runs[r].model->path,
                   gq_path_name(p->runs[r].path));
        gq_eval_print_table(stdout, tasks, p->runs[r].scores, n_tasks);
    }
    gq_path_check *checks = gq_calloc(n_tasks ? n_tasks : 1, sizeof *checks, "path checks", err);
    if (!checks) return GQ_ERR_NOMEM;
    for (size_t a = 0; a < p->n_runs; a++)
        for (size_t b = a + 1; b < p->n_runs; b++) {
            if (p->runs[a].model != p->runs[b].model) continue;
            for (size_t i = 0; i < n_tasks; i++)
                gq_path_check_compute(&tasks[i], &p->runs[a].scores[i], &p->runs[b].scores[i], &checks[i]);
            char na[64], nb[64];
            snprintf(na, sizeof na, "%s", gq_path_name(p->runs[a].path));
            snprintf(nb, sizeof nb, "%s", gq_path_name(p->runs[b].path));
            if (gq_eval_print_path_check(stdout, na, nb, tasks, checks, n_tasks, e->max_path_diff) && !e->converted)
                *check_failed = 1;
        }
    gq_free(checks);
    if (e->converted) print_comparison(stdout, p->runs, p->n_runs, tasks, n_tasks);
    return GQ_OK;
}

// ---- writing ------------------------------------------------------------------------------------

/* The results files of every run, gqla_run.json and the report; with
 * --converted, report.md (the paper table) is printed as well. */
static int write_outputs(const eval_args *e, const eval_plan *p, const gq_prepared_task *tasks, size_t n_tasks,
                         int argc, char **argv, gq_run_clock *clock, const char *date_id, double started_unix,
                         gq_error *err)
{
    int rc;
    for (size_t r = 0; r < p->n_runs; r++)
        if ((rc = gq_eval_write_run(e->out_dir, &p->runs[r], &e->o, tasks, n_tasks, e->log_samples, !e->converted,
                                    date_id, started_unix, err)) != GQ_OK)
            return rc;
    char *command = join_command(argc, argv, err);
    if (!command) return GQ_ERR_NOMEM;
    rc = gq_run_clock_save(clock, err);
    if (rc == GQ_OK) {
        const gq_manifest_info mi = {
            .command = command,
            .note = e->note,
            .started_unix = clock->started_unix,
            .wall_seconds = gq_run_clock_seconds(clock),
            .peak_rss_bytes = gq_run_clock_peak_rss(clock),
            .invocations = gq_run_clock_invocations(clock),
            .earlier_untimed = clock->earlier_untimed,
            .o = &e->o,
            .arc_split = e->arc_split,
            .original = &p->orig,
            .converted = e->converted ? &p->conv : NULL,
            .runs = p->runs,
            .n_runs = p->n_runs,
            .tasks = tasks,
            .n_tasks = n_tasks,
            .parallel = {.world_size = gq_world_get()->size,
                         .data_parallel = e->tpc.size > 1 ? 1 : gq_world_get()->size,
                         .tp = e->tpc.size,
                         .merged_shards = e->merged_shards},
        };
        rc = gq_eval_write_manifest(e->out_dir, &mi, err);
    }
    gq_free(command);
    if (rc == GQ_OK) rc = gq_report_write_all(e->out_dir, err);
    if (rc != GQ_OK) return rc;
    if (!e->o.quiet) fprintf(stderr, "wrote %s/gqla_run.json and the report (report.md, .tex, .csv, .html)\n", e->out_dir);
    /* The paper table: report.md as the reports side rendered it from the manifest. */
    char *report = NULL, *text = NULL;
    size_t len = 0;
    if (e->converted && (report = gq_path_join(e->out_dir, "report.md", err)) &&
        gq_file_read_all(report, &text, &len, NULL) == GQ_OK) {
        printf("\n");
        fwrite(text, 1, len, stdout);
    }
    gq_free(text);
    gq_free(report);
    return GQ_OK;
}

// ---- the gate -------------------------------------------------------------------------------------

/* --max-drop / --max-path-diff / --junit over DIR/gqla_run.json (report.h). */
static int run_gate(const eval_args *e, int *gate_failed, gq_error *err)
{
    const gq_gate_opts go = {
        .has_max_drop = e->has_max_drop,
        .max_drop_pp = e->max_drop,
        .has_max_path_diff = e->converted && e->has_max_path_diff,
        .max_path_diff = e->max_path_diff,
        .junit_path = e->junit,
    };
    int n_failed = 0;
    int rc = gq_gate_check(e->out_dir, &go, &n_failed, err);
    *gate_failed = rc == GQ_OK && n_failed > 0;
    return rc;
}

// ---- the command -----------------------------------------------------------------------------------

/* gqla-eval merge's shards (shard.h); NULL for a plain run. */
typedef struct eval_merge {
    const gq_shard_record *recs;
    size_t n;
} eval_merge;

static int eval_main(int argc, char **argv, eval_args e, const eval_merge *merge);

/* DIR/journal for rank 0 (it ends up holding every rank's records); rank r
 * of N > 1 journals its own share in DIR/journal/rank-r-of-N, so a rerun
 * of the same command resumes every rank where it stopped. */
static char *rank_journal_dir(const char *out_dir, const gq_world *w, gq_error *err)
{
    char *dir = gq_path_join(out_dir, "journal", err);
    if (!dir || w->rank == 0) return dir;
    char sub[64];
    snprintf(sub, sizeof sub, "rank-%d-of-%d", w->rank, w->size);
    char *r = gq_path_join(dir, sub, err);
    gq_free(dir);
    return r;
}

/* Parses, resolves MODEL and GQLA (Hub ids through the cache), runs. */
static int eval_command(int argc, char **argv, const eval_merge *merge)
{
    eval_args e;
    int prc = parse_args(argc, argv, &e);
    if (prc < 0) return GQ_EXIT_OK;  /* --help */
    if (prc > 0) return prc;
    if (merge) e.merged_shards = (int)merge->n;
    gq_error err = {0};
    char *model = NULL, *converted = NULL;
    int rc;
    if (cli_model_resolve(e.model, e.o.data.offline, &model, &err) != GQ_OK ||
        (e.converted && cli_model_resolve(e.converted, e.o.data.offline, &converted, &err) != GQ_OK)) {
        rc = cli_fail(&err);
    } else {
        e.model = model;
        if (converted) e.converted = converted;
        rc = eval_main(argc, argv, e, merge);
    }
    gq_free(model);
    gq_free(converted);
    return rc;
}

int cmd_eval(int argc, char **argv) { return eval_command(argc, argv, NULL); }

int cmd_eval_merged(int argc, char **argv, const gq_shard_record *recs, size_t n)
{
    const eval_merge m = {recs, n};
    return eval_command(argc, argv, &m);
}

// ---- shards --------------------------------------------------------------------------------------

/* A shard's end: DIR/gqla_shard.json (its journal is already complete) and
 * what to do next. */
static int finish_shard(const eval_args *e, const eval_plan *p, const gq_prepared_task *tasks, size_t n_tasks,
                        int argc, char **argv, const gq_run_clock *clock, gq_error *err)
{
    gq_shard_record r;
    int rc = gq_shard_record_build(&r, e->out_dir, e->shard_k, e->shard_n, argc, argv, &p->orig,
                                   e->converted ? &p->conv : NULL, &e->o, p->runs, p->n_runs, tasks, n_tasks, err);
    if (rc == GQ_OK) rc = gq_run_clock_save(clock, err);
    if (rc == GQ_OK) rc = gq_shard_write(&r, err);
    gq_shard_record_free(&r);
    if (rc != GQ_OK) return rc;
    printf("shard %d/%d: its part of %zu run(s) x %zu task(s) is in %s/journal; wrote %s/" GQ_SHARD_FILE "\n"
           "when all %d shards are done: gqla-eval merge DIR1 ... DIR%d --output-dir OUT\n",
           e->shard_k, e->shard_n, p->n_runs, n_tasks, e->out_dir, e->out_dir, e->shard_n, e->shard_n);
    return GQ_OK;
}

/* A shard's earlier record names other work once this run starts writing
 * DIR/journal: it goes until this shard finishes. */
static int drop_shard_record(const char *dir, gq_error *err)
{
    char *path = gq_path_join(dir, GQ_SHARD_FILE, err);
    if (!path) return GQ_ERR_NOMEM;
    int rc = GQ_OK;
    if (gq_path_exists(path) && remove(path) != 0)
        rc = gq_error_set(err, GQ_ERR_IO, "%s: cannot remove the earlier shard record", path);
    gq_free(path);
    return rc;
}

/* gqla-eval merge: the shards' journals into DIR/journal, checked against
 * the command's requests as the files are now (shard.h). */
static int merge_shards(const eval_args *e, const eval_plan *p, const gq_prepared_task *tasks, size_t n_tasks,
                        int argc, char **argv, const eval_merge *merge, const char *journal_dir, gq_error *err)
{
    gq_shard_record now;
    int rc = gq_shard_record_build(&now, e->out_dir, 1, 1, argc, argv, &p->orig, e->converted ? &p->conv : NULL,
                                   &e->o, p->runs, p->n_runs, tasks, n_tasks, err);
    if (rc == GQ_OK) rc = gq_shard_merge(merge->recs, merge->n, &now, journal_dir, err);
    gq_shard_record_free(&now);
    return rc;
}

static int eval_main(int argc, char **argv, eval_args e, const eval_merge *merge)
{

    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    double started_unix = (double)now.tv_sec + (double)now.tv_nsec * 1e-9, t_start = gq_now();
    char date_id[40];

    gq_error err = {0};
    eval_plan plan;
    memset(&plan, 0, sizeof plan);
    gq_prepared_task *tasks = NULL;
    size_t n_tasks = 0;
    char *journal_dir = NULL;
    gq_run_clock clock = {0};
    int lock_fd = -1;
    int rc = GQ_EXIT_ERROR, usage_rc = 0, check_failed = 0, gate_failed = 0;

    if (gq_world_tp_comm((int)e.tp, &e.tpc, &err) != GQ_OK) { /* the same on every rank: rank 0 says it */
        if (gq_world_get()->rank == 0) cli_fail(&err);
        return GQ_EXIT_ERROR;
    }
    const gq_world *w = gq_world_get();
    const int tp_on = e.tpc.size > 1;
    if (w->size > 1 && !e.threads) e.threads = gq_eval_ranks_default_threads();
    if (w->size > 1 && !tp_on) {
        /* Data parallel: rank r scores the batches dealt to part r, rank 0
         * gathers, prints and writes; the others stay quiet. */
        e.o.part_index = w->rank;
        e.o.n_parts = w->size;
        e.o.gather = gq_eval_ranks_gather;
        if (w->rank > 0) e.o.quiet = e.o.data.quiet = 1;
    } else if (tp_on && w->rank > 0) {
        /* --tp: every rank computes every score; rank 0 alone prints and
         * writes.  No journal: a resumed rank 0 would skip batches the other
         * ranks still run, and the all-reduces would no longer pair up. */
        e.out_dir = NULL;
        e.junit = NULL;
        e.gate = 0;
        e.log_samples = 0;
        e.o.quiet = 1;
        e.o.data.quiet = 1;
    }
    if (gq_report_date_id((int64_t)now.tv_sec, now.tv_nsec / 1000, date_id, &err) != GQ_OK) goto fail;
    if (plan_runs(&e, &plan, &usage_rc, &err) != GQ_OK) {
        if (usage_rc) {
            rc = usage_rc;
            goto done;
        }
        goto fail;
    }
    /* One run per output folder: locked before anything in it is touched
     * (by rank 0; the other ranks wait for it, and a refusal ends them all). */
    if (e.out_dir && w->rank == 0 && gq_run_lock_acquire(e.out_dir, &lock_fd, &err) != GQ_OK) goto fail;
    gq_world_barrier();
    if (e.shard_n && drop_shard_record(e.out_dir, &err) != GQ_OK) goto fail;
    /* Requests are tokenized once, with the original's tokenizer. */
    if (gq_eval_prepare(plan.orig.info, &e.o, &tasks, &n_tasks, &err) != GQ_OK) goto fail;
    if (e.out_dir && !tp_on && !(journal_dir = rank_journal_dir(e.out_dir, w, &err))) goto fail;
    /* Before the clock writes anything: a refused merge leaves DIR as it was. */
    if (merge && merge_shards(&e, &plan, tasks, n_tasks, argc, argv, merge, journal_dir, &err) != GQ_OK) goto fail;
    /* Time and memory over every invocation on this folder (a resumed run). */
    if (w->rank == 0) {
        if (gq_run_clock_start(&clock, journal_dir, started_unix, t_start, &err) != GQ_OK) goto fail;
        e.o.clock = &clock;
    }
    if (score_runs(&plan, &e.o, tasks, n_tasks, journal_dir, &err) != GQ_OK) goto fail;
    if (w->rank > 0) {
        rc = GQ_EXIT_OK;
        goto done;
    }
    if (e.shard_n) {
        rc = finish_shard(&e, &plan, tasks, n_tasks, argc, argv, &clock, &err) == GQ_OK ? GQ_EXIT_OK : cli_fail(&err);
        goto done;
    }
    if (print_results(&e, &plan, tasks, n_tasks, &check_failed, &err) != GQ_OK) goto fail;
    if (e.out_dir) {
        if (write_outputs(&e, &plan, tasks, n_tasks, argc, argv, &clock, date_id, started_unix, &err) != GQ_OK)
            goto fail;
        if (e.gate && run_gate(&e, &gate_failed, &err) != GQ_OK) goto fail;
    }
    rc = check_failed || gate_failed ? GQ_EXIT_CHECK_FAILED : GQ_EXIT_OK;
    goto done;
fail:
    if (w->size > 1) {
        /* One rank's failure ends the job: the others may wait in a gather or an all-reduce. */
        fprintf(stderr, "gqla-eval: rank %d of %d: ", w->rank, w->size);
        cli_fail(&err);
        gq_world_abort(GQ_EXIT_ERROR);
    }
    rc = cli_fail(&err);
done:
    plan_free(&plan);
    gq_prepared_tasks_free(tasks, n_tasks);
    gq_free(journal_dir);
    gq_run_clock_free(&clock);
    gq_run_lock_release(lock_fd);
    return rc;
}
