/* cmd_fetch.c — `gqla-eval fetch TASK...`: download the rows every split
 * of the tasks needs (evaluation and few-shot) into the cache, so later
 * runs work offline. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "dataset.h"
#include "gq_alloc.h"
#include "task.h"

static const char *fetch_help =
    "Usage: gqla-eval fetch TASK... [--no-fewshot]\n"
    "\n"
    "Downloads the evaluation split (and the few-shot split, unless --no-fewshot)\n"
    "of each task from the Hugging Face datasets-server into the cache\n"
    "($HF_HOME/gqla-eval, else $XDG_CACHE_HOME/huggingface/gqla-eval, else\n"
    "~/.cache/huggingface/gqla-eval).  Honours HF_ENDPOINT, HF_TOKEN (sent as a\n"
    "bearer header, never printed) and HF_HUB_OFFLINE=1.\n";

int cmd_fetch(int argc, char **argv)
{
    int fewshot = 1, n_names = 0;
    char list[8192] = "";
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(fetch_help, stdout);
            return GQ_EXIT_OK;
        } else if (!strcmp(argv[i], "--no-fewshot")) {
            fewshot = 0;
        } else if (argv[i][0] == '-') {
            return cli_usage_error("fetch", "unknown option '%s'", argv[i]);
        } else {
            if (strlen(list) + strlen(argv[i]) + 2 >= sizeof list) return cli_usage_error("fetch", "too many tasks");
            if (n_names++) strcat(list, ",");
            strcat(list, argv[i]);
        }
    }
    if (!n_names) return cli_usage_error("fetch", "name at least one task");
    gq_error err = {0};
    const gq_task **tasks = NULL;
    size_t n = 0;
    if (gq_tasks_resolve(list, &tasks, &n, &err) != GQ_OK) return cli_fail(&err);
    gq_dataset_opts o = {0};
    for (size_t i = 0; i < n; i++) {
        const gq_task *t = tasks[i];
        if (gq_dataset_fetch(t->eval.hf_id, t->eval.config, t->eval.split, &o, &err) != GQ_OK ||
            (fewshot && t->fewshot.split &&
             gq_dataset_fetch(t->fewshot.hf_id, t->fewshot.config, t->fewshot.split, &o, &err) != GQ_OK)) {
            gq_free(tasks);
            return cli_fail(&err);
        }
    }
    gq_free(tasks);
    return GQ_EXIT_OK;
}
