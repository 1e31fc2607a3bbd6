/* cmd_score.c — `gqla-eval score MODEL (--ids 1,2,3 | --text T) [--from K]
 * [--path P] [--sq N] [--json]`: log P(token_i | tokens_<i) and the greedy
 * flag for every position i >= max(K, 1).  GQA models: one forward pass
 * (native path).  MLA / GQLA models decode like a server: tokens before the
 * first scored row are prefilled into the path's cache, the scored rows are
 * fed N at a time against it.  --path both runs the model's two paths and
 * compares them (exit 1 when they differ by more than 1e-4).  --tp N under
 * mpirun -np N splits the model over the ranks along its KV groups
 * (engine/tp.h); every rank computes the same scores, rank 0 prints them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gq_alloc.h"
#include "model.h"
#include "score.h"
#include "world.h"

static const char *score_help =
    "Usage: gqla-eval score MODEL (--ids 1,2,3 | --text T) [--from K] [--path P] [--sq N]\n"
    "                       [--json] [--threads N] [--tp N] [--offline] [--device cpu|cuda[:N]]\n"
    "\n"
    "For each position i >= max(K, 1): log P(token_i | tokens_<i) (natural log,\n"
    "float64 log-softmax over float32 logits) and whether token_i is the argmax.\n"
    "--text is tokenized first, with BOS as the tokenizer's configuration says.\n"
    "--json prints {\"tokens\": [{\"pos\": i, \"id\": t, \"logprob\": x, \"greedy\": true|false}, ...]}.\n"
    "--path P   decoding path: native (GQA models), gqa or absorb (GQLA), absorb or\n"
    "           expanded (MLA), both (the model's two paths, compared: each token\n"
    "           also gets \"paths\": {name: logprob}, the output \"max_path_diff\"; exit 1\n"
    "           when the paths differ by more than 1e-4).  Default: native / absorb.\n"
    "--sq N     the positions before max(K, 1) - 1 are prefilled into the path's\n"
    "           cache, the scored positions are then fed N at a time (default 1;\n"
    "           GQA models default to one pass over everything, which --sq 0 asks\n"
    "           for explicitly).\n"
    "--tp N     tensor parallelism along KV groups: run under mpirun -np N (give each\n"
    "           rank --threads); rank r holds groups [r*G/N, (r+1)*G/N) and their heads,\n"
    "           1/N of the MLP, and caches only its groups (absorb: the whole latent).\n"
    "           Groups need not divide evenly; 1 <= N <= G.  Rank 0 prints.\n"
    "MODEL may also be a Hub id ORG/NAME[@REV][:FILE.gguf] (the huggingface_hub cache;\n"
    "downloads what is missing; --offline or HF_HUB_OFFLINE=1: the cache only).\n";

#define SCORE_PATH_TOLERANCE 1e-4

/* Score ids[first..T) under one path: prefill ids[0 .. first-1), then the
 * scored rows first-1 .. T-2 sq at a time (sq 0: everything in one call). */
static int score_path(gq_model *m, gq_path path, int sq, const int32_t *ids, int T, int first, int *rows,
                      int32_t *targets, gq_score *scores, gq_error *err)
{
    gq_kv_cache *cache = NULL;
    int n_score = T - first > 0 ? T - first : 0, rc;
    /* The last token is only a target: the forward pass needs T-1 rows. */
    if ((rc = gq_kv_cache_init(&cache, m, path, T, err)) != GQ_OK) return rc;
    if (sq == 0) {
        for (int j = 0; j < n_score; j++) {
            rows[j] = first + j - 1; /* the row before a token predicts it */
            targets[j] = ids[first + j];
        }
        rc = gq_forward(m, cache, ids, T - 1, rows, targets, n_score, scores, err);
    } else {
        int a = first - 1;
        rc = a > 0 ? gq_forward(m, cache, ids, a, NULL, NULL, 0, NULL, err) : GQ_OK;
        for (; rc == GQ_OK && a < T - 1; a += sq) {
            int b = a + sq < T - 1 ? a + sq : T - 1;
            for (int i = a; i < b; i++) {
                rows[i - a] = i - a;
                targets[i - a] = ids[i + 1];
            }
            rc = gq_forward(m, cache, ids + a, b - a, rows, targets, b - a, scores + (a - (first - 1)), err);
        }
    }
    gq_kv_cache_free(cache);
    return rc;
}

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
    const char *path = NULL, *ids_arg = NULL, *text = NULL, *path_arg = NULL;
    long from = 0, threads = 0, sq = -1, tp = 1;
    int device = GQ_DEVICE_CPU, device_index = 0;
    int json = 0, offline = 0;
    char *resolved = NULL;
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
        } else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
            int drc = cli_device_option("score", argv[++i], &device, &device_index);
            if (drc) return drc;
        } else if (!strcmp(argv[i], "--tp") && i + 1 < argc) {
            if (cli_parse_int(argv[++i], 1, 4096, &tp)) return cli_usage_error("score", "--tp takes a rank count >= 1");
        } else if (!strcmp(argv[i], "--path") && i + 1 < argc) {
            path_arg = argv[++i];
        } else if (!strcmp(argv[i], "--sq") && i + 1 < argc) {
            if (cli_parse_int(argv[++i], 0, 1 << 20, &sq)) return cli_usage_error("score", "--sq takes a token count >= 0");
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--offline")) {
            offline = 1;
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
    gq_path paths[2];
    int n_paths = 1, both = path_arg && !strcmp(path_arg, "both");
    if (path_arg && !both && gq_path_parse(path_arg, &paths[0]) != 0)
        return cli_usage_error("score", "--path takes native, gqa, absorb, expanded or both (got '%s')", path_arg);

    gq_error err = {0};
    gq_model *m = NULL;
    gq_tokens ids = {0};
    int *rows = NULL;
    int32_t *targets = NULL;
    gq_score *scores[2] = {NULL, NULL};
    int rc = GQ_EXIT_ERROR;
    gq_tp_comm tpc;
    const int rank0 = gq_world_get()->rank == 0;
    if (gq_world_get()->size > 1 && tp == 1)
        gq_error_set(&err, GQ_ERR_USAGE, "score under mpirun -np %d needs --tp %d (score has no data parallelism)",
                     gq_world_get()->size, gq_world_get()->size);
    if (err.msg[0] || gq_world_tp_comm((int)tp, &tpc, &err) != GQ_OK) { /* the same on every rank: rank 0 says it */
        if (rank0) cli_fail(&err);
        return GQ_EXIT_ERROR;
    }
    gq_open_opts opts = {.load_weights = 1, .n_threads = (int)threads, .max_tokens = 0, .tp = &tpc,
                         .device = device, .device_index = device_index};
    if (cli_model_resolve(path, offline, &resolved, &err) != GQ_OK) goto fail;
    path = resolved;
    if (gq_model_open(&m, path, &opts, &err) != GQ_OK) goto fail;
    const gq_config *cfg = gq_model_config(m);
    if (!cfg) {
        gq_error_set(&err, GQ_ERR_INVALID, "%s: a tokenizer-only folder cannot score (no config.json)", path);
        goto fail;
    }
    if (both) {
        n_paths = 0;
        for (int p = 0; p < GQ_PATH_COUNT; p++)
            if (gq_config_path_supported(cfg, (gq_path)p) && n_paths < 2) paths[n_paths++] = (gq_path)p;
        if (n_paths < 2) {
            gq_error_set(&err, GQ_ERR_USAGE, "%s: --path both needs an MLA or GQLA model (this %s model has one path, %s)",
                         path, gq_arch_name(cfg->arch), gq_path_name(paths[0]));
            goto fail;
        }
    } else if (!path_arg) {
        paths[0] = gq_config_default_path(cfg);
    }
    for (int p = 0; p < n_paths; p++)
        if (gq_model_check_path(m, paths[p], &err) != GQ_OK) goto fail;
    /* Default --sq: decode token by token; GQA models keep their one pass. */
    if (sq < 0) sq = paths[0] == GQ_PATH_NATIVE ? 0 : 1;
    if (ids_arg ? parse_ids(ids_arg, &ids, &err) : gq_tokenize(m, text, 1, &ids, &err)) goto fail;
    int T = (int)ids.n;
    if (T < 2) {
        gq_error_set(&err, GQ_ERR_USAGE, "need at least 2 tokens to score (got %d)", T);
        goto fail;
    }
    int first = from > 1 ? (int)from : 1, n_score = T - first > 0 ? T - first : 0;
    if (first > T) first = T;
    rows = gq_calloc((size_t)T, sizeof *rows, "score rows", &err);
    targets = gq_calloc((size_t)T, sizeof *targets, "score targets", &err);
    if (!rows || !targets) goto fail;
    for (int p = 0; p < n_paths; p++) {
        scores[p] = gq_calloc((size_t)T, sizeof *scores[p], "scores", &err);
        if (!scores[p]) goto fail;
        if (score_path(m, paths[p], (int)sq, ids.ids, T, first, rows, targets, scores[p], &err) != GQ_OK) goto fail;
    }
    double max_diff = 0.0;
    for (int j = 0; n_paths == 2 && j < n_score; j++)
        max_diff = fmax(max_diff, fabs(scores[0][j].logprob - scores[1][j].logprob));
    rc = n_paths == 2 && !(max_diff <= SCORE_PATH_TOLERANCE) ? GQ_EXIT_CHECK_FAILED : GQ_EXIT_OK;
    if (!rank0) goto done; /* every rank holds the same scores */

    if (json) printf("{\"tokens\": [");
    for (int j = 0; j < n_score; j++) {
        int pos = first + j;
        const gq_score *sc = &scores[0][j];
        if (json) {
            printf("%s{\"pos\": %d, \"id\": %d, \"logprob\": %.9g, \"greedy\": %s", j ? ", " : "", pos, ids.ids[pos],
                   sc->logprob, sc->is_greedy ? "true" : "false");
            if (n_paths == 2)
                printf(", \"paths\": {\"%s\": %.9g, \"%s\": %.9g}", gq_path_name(paths[0]), sc->logprob,
                       gq_path_name(paths[1]), scores[1][j].logprob);
            printf("}");
        } else {
            const char *piece = gq_model_tokenizer(m) ? gq_tokenizer_token(gq_model_tokenizer(m), ids.ids[pos]) : NULL;
            printf("%6d %8d %14.6f", pos, ids.ids[pos], sc->logprob);
            if (n_paths == 2) printf(" %14.6f", scores[1][j].logprob);
            printf(" %s  %s\n", sc->is_greedy ? "greedy" : "      ", piece ? piece : "");
        }
    }
    if (json && n_paths == 2)
        printf("], \"paths\": [\"%s\", \"%s\"], \"sq\": %ld, \"max_path_diff\": %.3g}\n", gq_path_name(paths[0]),
               gq_path_name(paths[1]), sq, max_diff);
    else if (json)
        printf("]}\n");
    else if (n_paths == 2)
        printf("paths %s / %s (columns 3 / 4), sq %ld: max |difference| %.3g (tolerance %g)\n", gq_path_name(paths[0]),
               gq_path_name(paths[1]), sq, max_diff, SCORE_PATH_TOLERANCE);
    if (rc == GQ_EXIT_CHECK_FAILED)
        fprintf(stderr, "gqla-eval score: paths %s and %s differ by %.3g > %g\n", gq_path_name(paths[0]),
                gq_path_name(paths[1]), max_diff, SCORE_PATH_TOLERANCE);
    goto done;
fail:
    if (tpc.size > 1) { /* the other ranks may wait in an all-reduce: end them all */
        fprintf(stderr, "gqla-eval: error: rank %d of %d: %s\n", tpc.rank, tpc.size, err.msg);
        gq_world_abort(GQ_EXIT_ERROR);
    }
    rc = cli_fail(&err);
done:
    gq_free(rows);
    gq_free(targets);
    gq_free(scores[0]);
    gq_free(scores[1]);
    gq_tokens_free(&ids);
    gq_model_close(m);
    gq_free(resolved);
    return rc;
}
