/* cmd_tokenize.c — `gqla-eval tokenize MODEL --text T [--json] [--no-bos]`. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "gq_alloc.h"
#include "model.h"

static const char *tokenize_help =
    "Usage: gqla-eval tokenize MODEL --text T [--json] [--no-bos] [--offline]\n"
    "\n"
    "Prints the token ids of T, one line of space-separated ids, or with --json\n"
    "{\"ids\": [...]}.  Special tokens (BOS/EOS) are added as the tokenizer's\n"
    "configuration says (tokenizer_config.json, the post-processor, or the GGUF's\n"
    "tokenizer.ggml.add_bos_token), unless --no-bos.\n"
    "MODEL may also be a Hub id ORG/NAME[@REV][:FILE.gguf] (the huggingface_hub cache;\n"
    "downloads what is missing; --offline or HF_HUB_OFFLINE=1: the cache only).\n";

static int tokenize_run(const char *path, const char *text, int json, int no_bos);

int cmd_tokenize(int argc, char **argv)
{
    const char *path = NULL, *text = NULL;
    int json = 0, no_bos = 0, offline = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(tokenize_help, stdout);
            return GQ_EXIT_OK;
        } else if (!strcmp(argv[i], "--text")) {
            if (++i >= argc) return cli_usage_error("tokenize", "--text needs a value");
            text = argv[i];
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--no-bos")) {
            no_bos = 1;
        } else if (!strcmp(argv[i], "--offline")) {
            offline = 1;
        } else if (argv[i][0] == '-') {
            return cli_usage_error("tokenize", "unknown option '%s'", argv[i]);
        } else if (!path) {
            path = argv[i];
        } else {
            return cli_usage_error("tokenize", "one MODEL only");
        }
    }
    if (!path) return cli_usage_error("tokenize", "missing MODEL");
    if (!text) return cli_usage_error("tokenize", "missing --text");
    gq_error err = {0};
    char *resolved = NULL;
    if (cli_model_resolve(path, offline, &resolved, &err) != GQ_OK) return cli_fail(&err);
    int rc = tokenize_run(resolved, text, json, no_bos);
    gq_free(resolved);
    return rc;
}

static int tokenize_run(const char *path, const char *text, int json, int no_bos)
{
    gq_error err = {0};
    gq_model *m = NULL;
    gq_open_opts opts = {0};
    if (gq_model_open(&m, path, &opts, &err) != GQ_OK) return cli_fail(&err);
    gq_tokens ids = {0};
    if (gq_tokenize(m, text, !no_bos, &ids, &err) != GQ_OK) {
        gq_model_close(m);
        return cli_fail(&err);
    }
    if (json) printf("{\"ids\": [");
    for (size_t i = 0; i < ids.n; i++) printf(json ? "%s%d" : "%s%d", i ? (json ? ", " : " ") : "", ids.ids[i]);
    printf(json ? "]}\n" : "\n");
    gq_tokens_free(&ids);
    gq_model_close(m);
    return GQ_EXIT_OK;
}
