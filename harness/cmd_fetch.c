/* cmd_fetch.c — `gqla-eval fetch NAME...`: download ahead of a run, so
 * later runs work offline.  A NAME with a '/' is a Hub model id
 * (ORG/NAME[@REV][:FILE.gguf]): its config, tokenizer files and weights go
 * into the huggingface_hub cache (hub/hub.h).  Any other NAME is a task:
 * the rows every split it needs (evaluation and few-shot) go into the
 * datasets cache. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "dataset.h"
#include "gq_alloc.h"
#include "hub.h"
#include "task.h"

static const char *fetch_help =
    "Usage: gqla-eval fetch NAME... [--no-fewshot] [--quiet]\n"
    "\n"
    "NAME is a task (mmlu, arc_easy, ...) or a Hugging Face model id (any NAME\n"
    "with a '/': ORG/NAME[@REVISION][:FILE.gguf]).\n"
    "\n"
    "A task: downloads its evaluation split (and the few-shot split, unless\n"
    "--no-fewshot) from the Hugging Face datasets-server into the cache\n"
    "($HF_HOME/gqla-eval, else $XDG_CACHE_HOME/huggingface/gqla-eval, else\n"
    "~/.cache/huggingface/gqla-eval).\n"
    "\n"
    "A model id: downloads config.json, the tokenizer files and the safetensors\n"
    "(model.safetensors, or every shard of model.safetensors.index.json), or the\n"
    "one FILE.gguf named after ':', into the huggingface_hub cache that\n"
    "transformers shares ($HF_HUB_CACHE, else $HF_HOME/hub, else\n"
    "$XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub).  Partial\n"
    "files resume; each LFS file's sha256 is checked.  Prints the local path.\n"
    "See `gqla-eval cache list`.\n"
    "\n"
    "Honours HF_ENDPOINT, HF_TOKEN (sent as a bearer header, never printed) and\n"
    "HF_HUB_OFFLINE=1 (then fetch refuses to run).\n";

int cmd_fetch(int argc, char **argv)
{
    int fewshot = 1, n_names = 0, quiet = 0;
    char list[8192] = "";
    const char **models = gq_malloc(sizeof *models * (size_t)(argc > 0 ? argc : 1), "model ids", NULL);
    size_t n_models = 0;
    if (!models) return cli_usage_error("fetch", "out of memory");
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(fetch_help, stdout);
            gq_free(models);
            return GQ_EXIT_OK;
        } else if (!strcmp(argv[i], "--no-fewshot")) {
            fewshot = 0;
        } else if (!strcmp(argv[i], "--quiet")) {
            quiet = 1;
        } else if (argv[i][0] == '-') {
            gq_free(models);
            return cli_usage_error("fetch", "unknown option '%s'", argv[i]);
        } else if (strchr(argv[i], '/')) {
            models[n_models++] = argv[i];
        } else {
            if (strlen(list) + strlen(argv[i]) + 2 >= sizeof list) {
                gq_free(models);
                return cli_usage_error("fetch", "too many tasks");
            }
            if (n_names++) strcat(list, ",");
            strcat(list, argv[i]);
        }
    }
    if (!n_names && !n_models) {
        gq_free(models);
        return cli_usage_error("fetch", "name at least one task or model id");
    }
    gq_error err = {0};
    gq_hub_opts ho = {.quiet = quiet};
    for (size_t i = 0; i < n_models; i++) {
        char *path = NULL;
        if (gq_hub_fetch_model(models[i], &ho, &path, &err) != GQ_OK) {
            gq_free(models);
            return cli_fail(&err);
        }
        printf("%s\t%s\n", models[i], path);
        gq_free(path);
    }
    gq_free(models);
    if (!n_names) return GQ_EXIT_OK;
    const gq_task **tasks = NULL;
    size_t n = 0;
    if (gq_tasks_resolve(list, &tasks, &n, &err) != GQ_OK) return cli_fail(&err);
    gq_dataset_opts o = {.quiet = quiet};
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
