/* cmd_score.c — `gqla-eval score MODEL (--ids 1,2,3 | --text T) [--from K] [--json]`:
 * log P(token_i | tokens_<i) and the greedy flag for every position
 * i >= max(K, 1), from one forward pass. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gq_alloc.h"
#include "model.h"
#include "score.h"

static const char *score_help =
    "Usage: gqla-eval score MODEL (--ids 1,2,3 | --text T) [--from K] [--json] [--threads N]\n"
    "\n"
    "For each position i >= max(K, 1): log P(token_i | tokens_<i) (natural log,\n"
    "float64 log-softmax over float32 logits) and whether token_i is the argmax.\n"
    "--text is tokenized first, with BOS as the tokenizer's configuration says.\n"
    "--json prints {\"tokens\": [{\"pos\": i, \"id\": t, \"logprob\": x, \"greedy\": true|false}, ...]}.\n";

static int parse_ids(const char *s, gq_tokens *out, gq_error *err)
{
    const char *p = s;
    while (*p) {
        char *end = NULL;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v > 0x7fffffff)
            return gq_error_set(err, GQ_ERR_USAGE, "--ids: '%s' is not a comma-separated list of token ids", s);
        if (gq_tokens_push(out, (int32_t)v, err) != GQ_OK) return GQ_ERR_NOMEM;
        p = end;
        if (*p == ',') p++;
        else if (*p) return gq_error_set(err, GQ_ERR_USAGE, "--ids: unexpected '%c' in '%s'", *p, s);
    }
    return GQ_OK;
}

int cmd_score(int argc, char **argv)
{
    const char *path = NULL, *ids_arg = NULL, *text = NULL;
    long from = 0, threads = 0;
    int json = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(score_help, stdout);
            return GQ_EXIT_OK;
        } else if (!strcmp(argv[i], "--ids") && i + 1 < argc) {
            ids_arg = argv[++i];
        } else if (!strcmp(argv[i], "--text") && i + 1 < argc) {
            text = argv[++i];
        } else if (!strcmp(argv[i], "--from") && i + 1 < argc) {
            if (cli_parse_int(argv[++i], 0, 1 << 30, &from)) return cli_usage_error("score", "--from takes a position >= 0");
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            if (cli_parse_int(argv[++i], 0, 1024, &threads)) return cli_usage_error("score", "--threads takes a count");
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (argv[i][0] == '-') {
            return cli_usage_error("score", "unknown option or missing value: '%s'", argv[i]);
        } else if (!path) {
            path = argv[i];
        } else {
            return cli_usage_error("score", "one MODEL only");
        }
    }
    if (!path) return cli_usage_error("score", "missing MODEL");
    if (!ids_arg == !text) return cli_usage_error("score", "give exactly one of --ids and --text");

    gq_error err = {0};
    gq_model *m = NULL;
    gq_kv_cache *cache = NULL;
    gq_tokens ids = {0};
    int *rows = NULL;
    int32_t *targets = NULL;
    gq_score *scores = NULL;
    int rc = GQ_EXIT_ERROR;
    gq_open_opts opts = {1, (int)threads, 0};
    if (gq_model_open(&m, path, &opts, &err) != GQ_OK) goto fail;
    if (!gq_model_config(m)) {
        gq_error_set(&err, GQ_ERR_INVALID, "%s: a tokenizer-only folder cannot score (no config.json)", path);
        goto fail;
    }
    if (ids_arg ? parse_ids(ids_arg, &ids, &err) : gq_tokenize(m, text, 1, &ids, &err)) goto fail;
    int T = (int)ids.n;
    if (T < 2) {
        gq_error_set(&err, GQ_ERR_USAGE, "need at least 2 tokens to score (got %d)", T);
        goto fail;
    }
    int first = from > 1 ? (int)from : 1, n_score = T - first > 0 ? T - first : 0;
    rows = gq_calloc((size_t)T, sizeof *rows, "score rows", &err);
    targets = gq_calloc((size_t)T, sizeof *targets, "score targets", &err);
    scores = gq_calloc((size_t)T, sizeof *scores, "scores", &err);
    if (!rows || !targets || !scores) goto fail;
    for (int j = 0; j < n_score; j++) {
        rows[j] = first + j - 1; /* the row before a token predicts it */
        targets[j] = ids.ids[first + j];
    }
    /* The last token is only a target: the forward pass needs T-1 rows. */
    if (gq_kv_cache_init(&cache, m, T, &err) != GQ_OK) goto fail;
    if (gq_forward(m, cache, ids.ids, T - 1, rows, targets, n_score, scores, &err) != GQ_OK) goto fail;

    if (json) printf("{\"tokens\": [");
    for (int j = 0; j < n_score; j++) {
        int pos = first + j;
        if (json) {
            printf("%s{\"pos\": %d, \"id\": %d, \"logprob\": %.9g, \"greedy\": %s}", j ? ", " : "", pos,
                   ids.ids[pos], scores[j].logprob, scores[j].is_greedy ? "true" : "false");
        } else {
            const char *piece = gq_model_tokenizer(m) ? gq_tokenizer_token(gq_model_tokenizer(m), ids.ids[pos]) : NULL;
            printf("%6d %8d %14.6f %s  %s\n", pos, ids.ids[pos], scores[j].logprob,
                   scores[j].is_greedy ? "greedy" : "      ", piece ? piece : "");
        }
    }
    if (json) printf("]}\n");
    rc = GQ_EXIT_OK;
    goto done;
fail:
    rc = cli_fail(&err);
done:
    gq_free(rows);
    gq_free(targets);
    gq_free(scores);
    gq_tokens_free(&ids);
    gq_kv_cache_free(cache);
    gq_model_close(m);
    return rc;
}
