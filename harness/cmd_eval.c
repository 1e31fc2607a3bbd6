/* cmd_eval.c — `gqla-eval eval --model M --tasks LIST ...` (the default
 * command): scores the tasks by log-likelihood as lm-evaluation-harness
 * does and prints / writes the results. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "eval.h"
#include "eval_output.h"
#include "gq_alloc.h"
#include "model.h"
#include "progress.h"
#include "score.h"

static const char *eval_help =
    "Usage: gqla-eval [eval] --model MODEL --tasks LIST [options]\n"
    "\n"
    "Scores multiple-choice tasks by log-likelihood exactly as lm-evaluation-harness\n"
    "(HEAD, tasks.md): same prompts, requests, _encode_pair tokenization, acc/acc_norm,\n"
    "stderr and MMLU group aggregation.\n"
    "\n"
    "  --model MODEL        model folder or .gguf file\n"
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
    "                       paths, as a server decodes; GQA models: the whole request)\n"
    "  --max-path-diff X    with --path both: exit 1 if any request's log-likelihood\n"
    "                       differs between the paths by more than X (default 1e-4)\n"
    "  --output-dir DIR     write results.json (lm-eval layout) there\n"
    "  --log-samples        also write samples_<task>.jsonl per task\n"
    "  --threads N          CPU threads (default: all cores)\n"
    "  --quiet              no progress lines\n"
    "\n"
    "Exit status: 0 ok, 1 the cross-path check failed, 2 an error (bad input names the\n"
    "file, row and field).\n";

int cmd_eval(int argc, char **argv)
{
    gq_eval_opts o;
    memset(&o, 0, sizeof o);
    const char *model = NULL, *out_dir = NULL;
    long threads = 0, shots = 0, sq = -1;
    int log_samples = 0;
    const char *path_arg = NULL;
    double max_path_diff = 1e-4;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(eval_help, stdout);
            return GQ_EXIT_OK;
        } else if (!strcmp(a, "--model") && has) {
            model = argv[++i];
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
        } else if (!strcmp(a, "--sq") && has) {
            if (cli_parse_int(argv[++i], 1, 4096, &sq)) return cli_usage_error("eval", "--sq takes N >= 1");
        } else if (!strcmp(a, "--max-path-diff") && has) {
            char *end = NULL;
            max_path_diff = strtod(argv[++i], &end);
            if (!end || *end || !(max_path_diff >= 0)) return cli_usage_error("eval", "--max-path-diff takes X >= 0");
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

    gq_error err = {0};
    gq_model *m = NULL;
    gq_task_run *runs = NULL;
    size_t n_runs = 0;
    int rc = GQ_EXIT_ERROR;
    gq_open_opts mo = {1, (int)threads, 0};
    if (gq_model_open(&m, model, &mo, &err) != GQ_OK) goto fail;
    if (!gq_model_config(m)) {
        gq_error_set(&err, GQ_ERR_INVALID, "%s: a tokenizer-only folder cannot be evaluated", model);
        goto fail;
    }
    o.sq = (int)sq;
    if (path_arg && !strcmp(path_arg, "both")) {
        const gq_config *cfg = gq_model_config(m);
        for (int p = 0; p < GQ_PATH_COUNT && o.n_paths < 2; p++)
            if (gq_config_path_supported(cfg, (gq_path)p)) o.paths[o.n_paths++] = (gq_path)p;
        if (o.n_paths < 2) {
            gq_error_set(&err, GQ_ERR_USAGE, "%s: --path both needs an MLA or GQLA model (this %s model has one path)",
                         model, gq_arch_name(cfg->arch));
            goto fail;
        }
    } else if (path_arg) {
        if (gq_path_parse(path_arg, &o.paths[0]) != 0) {
            rc = cli_usage_error("eval", "--path takes native, gqa, absorb, expanded or both (got '%s')", path_arg);
            goto done;
        }
        o.n_paths = 1;
    } else {
        o.paths[0] = gq_config_default_path(gq_model_config(m));
        o.n_paths = 1;
    }
    for (int p = 0; p < o.n_paths; p++)
        if (gq_model_check_path(m, o.paths[p], &err) != GQ_OK) goto fail;
    if (gq_eval_prepare(m, &o, &runs, &n_runs, &err) != GQ_OK) goto fail;
    double t0 = gq_now();
    if (gq_eval_score(m, &o, runs, n_runs, &err) != GQ_OK) goto fail;
    double total = gq_now() - t0;
    gq_eval_print_table(stdout, runs, n_runs);
    if (out_dir && gq_eval_write_outputs(out_dir, m, &o, runs, n_runs, log_samples, total, &err) != GQ_OK) goto fail;
    rc = GQ_EXIT_OK;
    if (o.n_paths == 2 && gq_eval_print_path_check(stdout, &o, runs, n_runs, max_path_diff) != 0)
        rc = GQ_EXIT_CHECK_FAILED;
    goto done;
fail:
    rc = cli_fail(&err);
done:
    gq_task_runs_free(runs, n_runs);
    gq_model_close(m);
    return rc;
}
