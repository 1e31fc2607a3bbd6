/* cmd_ppl.c — `gqla-eval ppl MODEL --file F [--ctx 512]`: perplexity of a
 * text file with the protocol of TransMLA's (SliceGPT-derived) evaluate_ppl,
 * which the TransMLA and GQLA papers report for wikitext-2. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "fileio.h"
#include "gq_alloc.h"
#include "model.h"
#include "perplexity.h"

static const char *ppl_help =
    "Usage: gqla-eval ppl MODEL --file F [--ctx 512] [--threads N] [--quiet] [--offline]\n"
    "                      [--device cpu|cuda[:N]] (where the model runs; default cpu)\n"
    "\n"
    "Perplexity of the text in F, with the protocol of TransMLA's evaluate_ppl\n"
    "(as the TransMLA and GQLA papers report wikitext-2):\n"
    "  1. tokenize the whole file once, with special tokens as the tokenizer adds\n"
    "     them by default (BOS at the very start for LLaMA-style tokenizers);\n"
    "  2. cut the ids into floor(n / ctx) consecutive, non-overlapping windows of\n"
    "     ctx tokens; a final partial window is dropped;\n"
    "  3. run each window alone (no state carried between windows) and score\n"
    "     tokens 1 .. ctx-1 of it, each given the window's tokens before it;\n"
    "  4. ppl = exp(total negative log-likelihood / (windows x (ctx - 1))), which\n"
    "     equals exp(mean over windows of the window's mean NLL).\n"
    "MODEL may also be a Hub id ORG/NAME[@REV][:FILE.gguf] (the huggingface_hub cache;\n"
    "downloads what is missing; --offline or HF_HUB_OFFLINE=1: the cache only).\n";

typedef struct ppl_progress {
    int quiet;
    long ctx;
    time_t t0;
} ppl_progress;

static void on_window(void *vctx, long w, long n_windows, double nll)
{
    const ppl_progress *pp = vctx;
    if (pp->quiet) return;
    double el = difftime(time(NULL), pp->t0), per = el / (double)(w + 1);
    fprintf(stderr, "\rppl: window %ld/%ld  running ppl %.4f  ETA %.0fs   ", w + 1, n_windows,
            exp(nll / ((double)(w + 1) * (double)(pp->ctx - 1))), per * (double)(n_windows - w - 1));
}

int cmd_ppl(int argc, char **argv)
{
    const char *path = NULL, *file = NULL;
    long ctx = 512, threads = 0;
    int device = GQ_DEVICE_CPU, device_index = 0;
    int quiet = 0, offline = 0;
    char *resolved = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(ppl_help, stdout);
            return GQ_EXIT_OK;
        } else if (!strcmp(argv[i], "--file") && i + 1 < argc) {
            file = argv[++i];
        } else if (!strcmp(argv[i], "--ctx") && i + 1 < argc) {
            if (cli_parse_int(argv[++i], 2, 1 << 20, &ctx)) return cli_usage_error("ppl", "--ctx takes a length >= 2");
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            if (cli_parse_int(argv[++i], 0, 1024, &threads)) return cli_usage_error("ppl", "--threads takes a count");
        } else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
            int drc = cli_device_option("ppl", argv[++i], &device, &device_index);
            if (drc) return drc;
        } else if (!strcmp(argv[i], "--quiet")) {
            quiet = 1;
        } else if (!strcmp(argv[i], "--offline")) {
            offline = 1;
        } else if (argv[i][0] == '-') {
            return cli_usage_error("ppl", "unknown option or missing value: '%s'", argv[i]);
        } else if (!path) {
            path = argv[i];
        } else {
            return cli_usage_error("ppl", "one MODEL only");
        }
    }
    if (!path) return cli_usage_error("ppl", "missing MODEL");
    if (!file) return cli_usage_error("ppl", "missing --file");

    gq_error err = {0};
    gq_model *m = NULL;
    gq_tokens ids = {0};
    char *text = NULL;
    int rc = GQ_EXIT_ERROR;
    gq_open_opts opts = {.load_weights = 1, .n_threads = (int)threads, .max_tokens = (int)ctx, .device = device,
                         .device_index = device_index};
    if (gq_file_read_all(file, &text, NULL, &err) != GQ_OK) goto fail;
    if (cli_model_resolve(path, offline, &resolved, &err) != GQ_OK) goto fail;
    path = resolved;
    if (gq_model_open(&m, path, &opts, &err) != GQ_OK) goto fail;
    if (!gq_model_config(m)) {
        gq_error_set(&err, GQ_ERR_INVALID, "%s: a tokenizer-only folder has no model", path);
        goto fail;
    }
    if (gq_tokenize(m, text, 1, &ids, &err) != GQ_OK) goto fail;
    long n_windows = (long)ids.n / ctx;
    if (n_windows < 1) {
        gq_error_set(&err, GQ_ERR_INVALID, "%s: %zu tokens is less than one window of --ctx %ld", file, ids.n, ctx);
        goto fail;
    }
    double nll = 0.0;
    ppl_progress pp = {.quiet = quiet, .ctx = ctx, .t0 = time(NULL)};
    if (gq_perplexity_nll(m, ids.ids, ids.n, (int)ctx, on_window, &pp, &nll, NULL, &err) != GQ_OK) goto fail;
    if (!quiet) fprintf(stderr, "\n");
    double scored = (double)n_windows * (double)(ctx - 1);
    printf("file:        %s\n", file);
    printf("tokens:      %zu (%ld windows of %ld, %.0f scored)\n", ids.n, n_windows, ctx, scored);
    printf("nll:         %.9e\n", nll);
    printf("ppl:         %.6f\n", exp(nll / scored));
    rc = GQ_EXIT_OK;
    goto done;
fail:
    rc = cli_fail(&err);
done:
    gq_free(text);
    gq_tokens_free(&ids);
    gq_model_close(m);
    gq_free(resolved);
    return rc;
}
