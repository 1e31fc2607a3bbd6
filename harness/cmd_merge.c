/* cmd_merge.c — `gqla-eval merge DIR... --output-dir OUT`: the shards of a
 * job array (`gqla-eval ... --shard K/N --output-dir DIR`, shard.h) into
 * the outputs one run of their command would have written: results_*.json,
 * samples, gqla_run.json (with "merged_shards": N) and the report.
 *
 * It reads every DIR/gqla_shard.json, checks they are the shards 1..N of
 * one command (shard.h), then runs that command with --output-dir OUT
 * (cmd_eval_merged), which merges the shards' journals into OUT/journal
 * after checking them against the models and data as they are now, finds
 * every request there and loads no weights.  What it is not: it never
 * scores; a missing request is refused, not computed.
 * Tests: tests/test_main_shard.c. */
#define _XOPEN_SOURCE 700
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gq_alloc.h"
#include "shard.h"

static const char *merge_help =
    "Usage: gqla-eval merge DIR... --output-dir OUT [--quiet]\n"
    "\n"
    "Finishes a job array: DIR... are the output folders of the shards\n"
    "`gqla-eval [eval] ... --shard K/N --output-dir DIR`, K = 1..N, of one command.\n"
    "OUT gets exactly what one run of that command would write (results_<run>.json,\n"
    "samples, gqla_run.json, the report, the gate), computed from the shards'\n"
    "journals: nothing is scored and no weights are loaded.  The manifest records\n"
    "\"merged_shards\": N; its wall time and peak memory are the shards' summed and\n"
    "largest, plus the merge's.\n"
    "\n"
    "Refused (exit 2, nothing written in OUT): a missing or duplicated shard, shards\n"
    "of different commands, models, data or N, a shard whose journal lacks requests,\n"
    "and models or data that changed since the shards ran.\n"
    "\n"
    "The models and data must still be readable, unchanged, where the command names\n"
    "them (config, tokenizer, checkpoint headers and dataset rows; not the weights):\n"
    "run merge from the folder the shards ran in when the command uses relative paths.\n"
    "\n"
    "  --output-dir OUT   the merged run's folder (not one of the shard folders)\n"
    "  --quiet            no progress lines (added to the command if it lacks it)\n"
    "\n"
    "Exit status: 0 ok, 1 the recorded command's gate failed, 2 an error.\n";

/* 1 when a and b name the same existing folder. */
static int same_dir(const char *a, const char *b)
{
    char ra[PATH_MAX], rb[PATH_MAX];
    return realpath(a, ra) && realpath(b, rb) && !strcmp(ra, rb);
}

int cmd_merge(int argc, char **argv)
{
    const char *out = NULL;
    int quiet = 0, n_dirs = 0;
    const char **dirs = gq_calloc(argc > 0 ? (size_t)argc : 1, sizeof *dirs, "merge arguments", NULL);
    if (!dirs) return GQ_EXIT_ERROR;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(merge_help, stdout);
            gq_free(dirs);
            return GQ_EXIT_OK;
        } else if (!strcmp(a, "--output-dir") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
        } else if (a[0] == '-') {
            gq_free(dirs);
            return cli_usage_error("merge", "unknown option or missing value: '%s'", a);
        } else {
            dirs[n_dirs++] = a;
        }
    }
    if (!out || n_dirs == 0) {
        gq_free(dirs);
        return cli_usage_error("merge", "give the shard folders and --output-dir OUT");
    }
    gq_error err = {0};
    int rc = GQ_EXIT_ERROR;
    char **cmd = NULL;
    gq_shard_record *recs = gq_calloc((size_t)n_dirs, sizeof *recs, "shard records", &err);
    if (!recs) goto fail;
    for (int i = 0; i < n_dirs; i++) {
        if (gq_shard_read(&recs[i], dirs[i], &err) != GQ_OK) goto fail;
        if (same_dir(dirs[i], out)) {
            gq_error_set(&err, GQ_ERR_USAGE, "--output-dir %s is the folder of shard %d of %d; merge into a new folder",
                         out, recs[i].k, recs[i].n);
            goto fail;
        }
        for (int a = 0; a < recs[i].argc; a++)
            if (gq_shard_is_local_option(recs[i].argv[a])) {
                gq_error_set(&err, GQ_ERR_INVALID, "%s/" GQ_SHARD_FILE ": key command: holds '%s', which a shard "
                             "record leaves out", dirs[i], recs[i].argv[a]);
                goto fail;
            }
    }
    if (gq_shard_check_set(recs, (size_t)n_dirs, &err) != GQ_OK) goto fail;
    /* The recorded command, in OUT. */
    const gq_shard_record *r = &recs[0];
    int has_quiet = 0, n = 0;
    for (int a = 0; a < r->argc; a++) has_quiet |= !strcmp(r->argv[a], "--quiet");
    if (!(cmd = gq_calloc((size_t)r->argc + 4, sizeof *cmd, "merge command", &err))) goto fail;
    for (int a = 0; a < r->argc; a++) cmd[n++] = r->argv[a];
    cmd[n++] = "--output-dir";
    cmd[n++] = (char *)out;
    if (quiet && !has_quiet) cmd[n++] = "--quiet";
    rc = cmd_eval_merged(n, cmd, recs, (size_t)n_dirs);
    goto done;
fail:
    rc = cli_fail(&err);
done:
    for (int i = 0; recs && i < n_dirs; i++) gq_shard_record_free(&recs[i]);
    gq_free(recs);
    gq_free(cmd);
    gq_free(dirs);
    return rc;
}
