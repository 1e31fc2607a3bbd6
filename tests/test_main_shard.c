/* test_main_shard.c — job arrays without MPI: `--shard K/N` and
 * `gqla-eval merge` (harness/shard.h, harness/cmd_merge.c).
 *
 * Tiny original + GQLA models (main_fixtures.h) and the sample items of the
 * six tasks (+ an MMLU subject), with ARC-Easy and PIQA repeated to 72 and
 * 70 documents so that the deal over all tasks' batches
 * (gq_eval_deal_make) has more batches than shards to balance.  The command runs once whole and as --shard 1/3, 2/3, 3/3 + merge;
 * every output file of the merge (results_*.json, samples/, gqla_run.json,
 * report.md/.tex/.csv/.html) must equal the whole run's byte for byte on
 * every line but the timing ones (wall time, start, dates, seconds,
 * invocations, peak memory, merged_shards, the report's Parallel line).  The two runs are started from
 * two folders with the same relative --output-dir, so even the recorded
 * command is the same.  The merge runs with both models' tensor data
 * replaced by garbage (same size, header and mtime): it must not read
 * them.
 * Refusals, each exit 2 naming the difference with nothing written in OUT
 * (no gqla_run.json, no journal/): a missing shard, a duplicated shard, a
 * shard of another command (--limit), a shard whose journal lost its
 * records, a shard of another model (the converted model re-written between
 * shards), and a model that changed after the shards ran.  A gate in the
 * command (--max-drop, --junit) is skipped by the shards and applied by the
 * merge (exit 1).
 * Usage: test_main_shard (no arguments). */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "main_fixtures.h"
#include "testutil.h"

#define TASKS "arc_easy,arc_challenge,piqa,hellaswag,openbookqa,winogrande,mmlu_abstract_algebra"

static char root[1024], orig[1100], conv[1100], data[1100];

static void args_for(char *buf, size_t n, const char *extra)
{
    snprintf(buf, n, "--model '%s' --converted '%s' --tasks %s --data-dir '%s' --quiet --log-samples %s", orig, conv,
             TASKS, data, extra);
}

static int run_in(const char *dir, const char *args, char **out)
{
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd) || mkdir(dir, 0777) != 0 || chdir(dir) != 0) return -1;
    int code = test_run_cli(args, out);
    return chdir(cwd) == 0 ? code : -1;
}

// ---- the data: the samples, two tasks repeated --------------------------------------------------

static int repeat_text(const char *rel, int times)
{
    char path[2200];
    snprintf(path, sizeof path, "%s/%s", data, rel);
    size_t n = 0;
    char *t = test_read_file(path, &n);
    if (!t) return -1;
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    for (int i = 0; i < times; i++) {
        fwrite(t, 1, n, f);
        if (n && t[n - 1] != '\n') fputc('\n', f);
    }
    free(t);
    return fclose(f);
}

static int make_data(void)
{
    char cmd[9000];
    snprintf(data, sizeof data, "%s/data", root);
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", mf_samples_dir(), data);
    if (system(cmd) != 0) return -1;
    char path[4400];
    snprintf(path, sizeof path, "%s/arc/ARC-Easy_hf-export/test.json", data);
    char *t = test_read_file(path, NULL);
    cJSON *a = t ? cJSON_Parse(t) : NULL, *big = cJSON_CreateArray();
    free(t);
    for (int i = 0; a && i < 12; i++)
        for (cJSON *c = a->child; c; c = c->next) cJSON_AddItemToArray(big, cJSON_Duplicate(c, 1));
    char *s = cJSON_Print(big);
    int rc = s ? test_write_file(path, s, strlen(s)) : -1;
    free(s);
    cJSON_Delete(a);
    cJSON_Delete(big);
    if (rc) return rc;
    return repeat_text("piqa/valid.jsonl", 14) || repeat_text("piqa/valid-labels.lst", 14);
}

// ---- comparing two output folders ------------------------------------------------------------------

/* A line that may differ between the whole run and the merge: a timing or
 * layout field, in JSON ("key":) or in the report. */
static const char *volatile_token(const char *line)
{
    static const char *tokens[] = {"\"started_unix\":", "\"wall_seconds\":", "\"peak_rss_bytes\":",
                                   "\"invocations\":", "\"seconds\":", "\"date\":",
                                   "\"total_evaluation_time_seconds\":", "\"start_time\":", "\"end_time\":",
                                   "\"merged_shards\":", "Wall time", "Peak memory"};
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++)
        if (strstr(line, tokens[i])) return tokens[i];
    return NULL;
}

/* Next line of *p (NUL-terminated copy in buf), advancing *p; NULL at the end. */
static const char *next_line(const char **p, char *buf, size_t n)
{
    if (!**p) return NULL;
    const char *e = strchr(*p, '\n');
    size_t len = e ? (size_t)(e - *p) : strlen(*p);
    snprintf(buf, n, "%.*s", (int)(len < n ? len : n - 1), *p);
    *p += len + (e ? 1 : 0);
    return buf;
}

/* 1 when the files are equal line by line, timing lines aside. */
static int same_file(const char *a_dir, const char *b_dir, const char *rel)
{
    char pa[8400], pb[8400];
    snprintf(pa, sizeof pa, "%s/%s", a_dir, rel);
    snprintf(pb, sizeof pb, "%s/%s", b_dir, rel);
    char *ta = test_read_file(pa, NULL), *tb = test_read_file(pb, NULL);
    int ok = ta && tb, line = 0, masked = 0;
    const char *p = ta, *q = tb;
    static char la[1 << 16], lb[1 << 16];
    while (ok) {
        const char *x = next_line(&p, la, sizeof la), *y = next_line(&q, lb, sizeof lb);
        /* The report's "Parallel" line (a merged run's layout) has no twin in the whole run's. */
        while (x && strstr(x, "Parallel")) x = next_line(&p, la, sizeof la);
        while (y && strstr(y, "Parallel")) y = next_line(&q, lb, sizeof lb);
        line++;
        if (!x || !y) {
            if (x || y) printf("  %s: line %d: one file ends here\n", rel, line), ok = 0;
            break;
        }
        if (!strcmp(x, y)) continue;
        const char *tx = volatile_token(x), *ty = volatile_token(y);
        if (tx && tx == ty) {
            masked++;
            continue;
        }
        printf("  %s: line %d differs:\n    whole:  %.300s\n    merged: %.300s\n", rel, line, x, y);
        ok = 0;
    }
    if (!ta || !tb) printf("  %s: missing in %s\n", rel, ta ? "the merged run" : "the whole run");
    free(ta);
    free(tb);
    return ok;
}

/* Every output file of the whole run (journal and lock aside) equals the
 * merge's, and the merge has no other. */
static void check_same_outputs(const char *whole, const char *merged)
{
    const char *dirs[2] = {whole, merged};
    char *lists[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++) {
        char cmd[9000];
        snprintf(cmd, sizeof cmd,
                 "cd '%s' && find . -type f ! -path './journal/*' ! -name .gqla-eval.lock | sort", dirs[i]);
        FILE *f = popen(cmd, "r");
        size_t cap = 1 << 16, n = 0;
        lists[i] = calloc(cap, 1);
        if (f && lists[i]) n = fread(lists[i], 1, cap - 1, f);
        if (f) pclose(f);
        if (lists[i]) lists[i][n] = '\0';
    }
    test_cond("the merge wrote the same set of files as the whole run", lists[0] && lists[1] && !strcmp(lists[0], lists[1]));
    int n_files = 0, n_samples = 0, n_results = 0, n_same = 0;
    const char *p = lists[0];
    char rel[4096];
    while (p && next_line(&p, rel, sizeof rel)) {
        n_files++;
        n_samples += strstr(rel, "samples/") != NULL;
        n_results += strstr(rel, "results_") != NULL;
        int same = same_file(whole, merged, rel + 2);
        n_same += same;
        char msg[4300];
        snprintf(msg, sizeof msg, "%s: byte-identical to the whole run's (timing lines aside)", rel + 2);
        test_cond(msg, same);
    }
    printf("compared %d files (%d results_*.json, %d samples), %d identical apart from timing lines\n", n_files,
           n_results, n_samples, n_same);
    test_cond("the comparison covered the results (3 runs), the samples (3 x 7) and the manifest + 4 reports",
              n_results >= 3 && n_samples == 21 && n_files >= 3 + 21 + 5);
    free(lists[0]);
    free(lists[1]);
}

// ---- weights that must not be read -------------------------------------------------------------

/* Replace the tensor data of the safetensors file path by 0xff bytes and
 * keep its size, header and mtime (the merge reads configs and headers,
 * never the data); the old bytes go to *saved. */
static int spoil(const char *path, char **saved, size_t *n)
{
    struct stat st;
    if (stat(path, &st) != 0 || !(*saved = test_read_file(path, n)) || *n < 8) return -1;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | (unsigned char)(*saved)[i]; /* little-endian u64 */
    if (hlen > *n - 8) return -1;
    char *junk = malloc(*n);
    if (!junk) return -1;
    memcpy(junk, *saved, 8 + hlen);
    memset(junk + 8 + hlen, 0xff, *n - 8 - hlen);
    int rc = test_write_file(path, junk, *n);
    free(junk);
    struct timespec t[2] = {st.st_atim, st.st_mtim};
    return rc || utimensat(AT_FDCWD, path, t, 0) != 0 ? -1 : 0;
}

static int restore(const char *path, const char *saved, size_t n)
{
    struct stat st;
    if (stat(path, &st) != 0 || test_write_file(path, saved, n) != 0) return -1;
    struct timespec t[2] = {st.st_atim, st.st_mtim};
    return utimensat(AT_FDCWD, path, t, 0);
}

// ---- refusals ---------------------------------------------------------------------------------------

static int exists(const char *dir, const char *name)
{
    char p[8400];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat st;
    return stat(p, &st) == 0;
}

/* merge DIRS into root/NAME: exit 2, the message has each of needles, and
 * nothing written there. */
static void check_refused(const char *name, const char *dirs, const char *const *needles, size_t n_needles)
{
    char out[1200], args[16384];
    snprintf(out, sizeof out, "%s/%.100s", root, name);
    snprintf(args, sizeof args, "merge %s --output-dir '%s'", dirs, out);
    char *o = NULL;
    int code = test_run_cli(args, &o);
    printf("%s: exit %d: %s", name, code, o ? o : "(no output)\n");
    char msg[256];
    snprintf(msg, sizeof msg, "%s: merge refuses with exit 2", name);
    test_cond(msg, code == 2);
    for (size_t i = 0; i < n_needles; i++) {
        snprintf(msg, sizeof msg, "%s: the message names '%.100s'", name, needles[i]);
        test_cond(msg, test_has(o, needles[i]));
    }
    snprintf(msg, sizeof msg, "%s: nothing written in OUT (no gqla_run.json, no journal/, no results)", name);
    test_cond(msg, !exists(out, "gqla_run.json") && !exists(out, "journal") && !exists(out, "results_original.json"));
    free(o);
}

int main(void)
{
    snprintf(root, sizeof root, "%s", test_tmpdir("mainshard"));
    snprintf(orig, sizeof orig, "%s/original", root);
    snprintf(conv, sizeof conv, "%s/converted", root);
    if (mf_write_original(orig) != 0 || mf_write_gqla(conv, 3, 0) != 0 || make_data() != 0) return 1;
    char args[16384], extra[1400], dir[1100], s[3][1100];

    /* whole: root/whole/out */
    args_for(args, sizeof args, "--output-dir out");
    snprintf(dir, sizeof dir, "%s/whole", root);
    double t0 = mf_now();
    test_cond("whole run: exit 0", run_in(dir, args, NULL) == 0);
    printf("whole run: %.2f s\n", mf_now() - t0);

    /* the shards */
    for (int k = 1; k <= 3; k++) {
        snprintf(s[k - 1], sizeof s[k - 1], "%s/shard%d", root, k);
        if (snprintf(extra, sizeof extra, "--shard %d/3 --output-dir '%s'", k, s[k - 1]) >= (int)sizeof extra) return 1;
        args_for(args, sizeof args, extra);
        char *o = NULL;
        t0 = mf_now();
        int code = test_run_cli(args, &o);
        printf("shard %d/3: exit %d, %.2f s\n", k, code, mf_now() - t0);
        char msg[256];
        snprintf(msg, sizeof msg, "shard %d/3: exit 0, says it wrote gqla_shard.json and that merge finishes it", k);
        test_cond(msg, code == 0 && test_has(o, "gqla_shard.json") && test_has(o, "gqla-eval merge"));
        snprintf(msg, sizeof msg, "shard %d/3: its folder has gqla_shard.json and a journal, no results, manifest "
                 "or report", k);
        test_cond(msg, exists(s[k - 1], "gqla_shard.json") && exists(s[k - 1], "journal/original/arc_easy.bin") &&
                           !exists(s[k - 1], "gqla_run.json") && !exists(s[k - 1], "results_original.json") &&
                           !exists(s[k - 1], "report.md"));
        /* The deal (gq_eval_deal_make, over all tasks) gives every shard work. */
        char jp[2400];
        if (snprintf(jp, sizeof jp, "find '%s/journal' -name '*.bin' -size +64c | grep -q .", s[k - 1]) >=
            (int)sizeof jp)
            return 1;
        snprintf(msg, sizeof msg, "shard %d/3 scored some batch (a journal of it has records)", k);
        test_cond(msg, system(jp) == 0);
        free(o);
    }

    /* merge, with weights that must not be read */
    char w_orig[1200], w_conv[1200], *saved_o = NULL, *saved_c = NULL;
    size_t n_o = 0, n_c = 0;
    snprintf(w_orig, sizeof w_orig, "%s/model.safetensors", orig);
    snprintf(w_conv, sizeof w_conv, "%s/model.safetensors", conv);
    test_cond("tensor data spoiled (same size, header and mtime)", spoil(w_orig, &saved_o, &n_o) == 0 && spoil(w_conv, &saved_c, &n_c) == 0);
    snprintf(args, sizeof args, "merge '%s' '%s' '%s' --output-dir out", s[0], s[1], s[2]);
    snprintf(dir, sizeof dir, "%s/merged", root);
    char *o = NULL;
    int code = run_in(dir, args, &o);
    printf("merge: exit %d\n", code);
    test_cond("merge: exit 0 without reading the tensor data", code == 0);
    if (code != 0) printf("%s", o ? o : "");
    free(o);
    test_cond("weights restored", restore(w_orig, saved_o, n_o) == 0 && restore(w_conv, saved_c, n_c) == 0);
    free(saved_o);
    free(saved_c);

    char whole_out[1200], merged_out[1200];
    snprintf(whole_out, sizeof whole_out, "%s/whole/out", root);
    snprintf(merged_out, sizeof merged_out, "%s/merged/out", root);
    check_same_outputs(whole_out, merged_out);
    cJSON *mw = mf_read_json(whole_out, "gqla_run.json"), *mm = mf_read_json(merged_out, "gqla_run.json");
    const cJSON *pw = cJSON_GetObjectItemCaseSensitive(mw, "parallel"), *pm = cJSON_GetObjectItemCaseSensitive(mm, "parallel");
    test_cond("manifest: merged_shards 3 in the merge, 0 in the whole run",
              mf_num(pm, "merged_shards") == 3 && mf_num(pw, "merged_shards") == 0);
    test_cond("manifest: the merge counts the 3 shards' invocations and its own (4)", mf_num(mm, "invocations") == 4);
    printf("wall_seconds: whole %.2f, shards + merge %.2f\n", mf_num(mw, "wall_seconds"), mf_num(mm, "wall_seconds"));
    cJSON_Delete(mw);
    cJSON_Delete(mm);

    /* refusals */
    char dirs[8192];
    snprintf(dirs, sizeof dirs, "'%s' '%s'", s[0], s[2]);
    const char *missing[] = {"shard 2 of 3 is missing (have 1, 3)"};
    check_refused("missing", dirs, missing, 1);

    char cmd[9000], dup[1200];
    snprintf(dup, sizeof dup, "%s/shard2copy", root);
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", s[1], dup);
    test_cond("copy of shard 2", system(cmd) == 0);
    snprintf(dirs, sizeof dirs, "'%s' '%s' '%s' '%s'", s[0], s[1], dup, s[2]);
    const char *dups[] = {"shard 2 of 3 is given twice", "shard2copy"};
    check_refused("duplicate", dirs, dups, 2);

    char other[1200];
    snprintf(other, sizeof other, "%s/shard3limit", root);
    snprintf(extra, sizeof extra, "--limit 40 --shard 3/3 --output-dir '%s'", other);
    args_for(args, sizeof args, extra);
    test_cond("shard 3/3 of another command (--limit 40): exit 0", test_run_cli(args, NULL) == 0);
    snprintf(dirs, sizeof dirs, "'%s' '%s' '%s'", s[0], s[1], other);
    const char *cmds[] = {"the command differs", "'--limit'", "shard3limit", "shard1"};
    check_refused("other-command", dirs, cmds, 4);

    /* a shard whose journal lost its records (one of shard 2's) */
    char lost[1200], jp[1400];
    snprintf(lost, sizeof lost, "%s/shard2lost", root);
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", s[1], lost);
    int copied = system(cmd) == 0;
    /* the first of shard 2's original-model journals that holds records */
    snprintf(cmd, sizeof cmd, "find '%s/journal/original' -name '*.bin' -size +64c | sort | head -1", lost);
    FILE *fp = popen(cmd, "r");
    jp[0] = '\0';
    if (fp && fgets(jp, sizeof jp, fp)) jp[strcspn(jp, "\n")] = '\0';
    if (fp) pclose(fp);
    test_cond("shard 2's copy with one of its journals cut to the header", copied && jp[0] && truncate(jp, 64) == 0);
    snprintf(dirs, sizeof dirs, "'%s' '%s' '%s'", s[0], lost, s[2]);
    const char *lost_needles[] = {"original/", "is in no shard's journal"};
    check_refused("lost-records", dirs, lost_needles, 2);

    /* the converted model re-written (new mtime) before shard 3 runs again */
    char cmodel[1200];
    snprintf(cmodel, sizeof cmodel, "%s/shard3model", root);
    struct timespec later[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
    test_cond("converted model touched", utimensat(AT_FDCWD, w_conv, later, 0) == 0);
    snprintf(extra, sizeof extra, "--shard 3/3 --output-dir '%s'", cmodel);
    args_for(args, sizeof args, extra);
    test_cond("shard 3/3 on the changed model: exit 0", test_run_cli(args, NULL) == 0);
    snprintf(dirs, sizeof dirs, "'%s' '%s' '%s'", s[0], s[1], cmodel);
    const char *models[] = {"the converted model differs", "shard3model", "shard1"};
    check_refused("other-model", dirs, models, 3);
    /* and the first three against the model as it is now */
    snprintf(dirs, sizeof dirs, "'%s' '%s' '%s'", s[0], s[1], s[2]);
    const char *now[] = {"the converted model differs", "the files as they are now"};
    check_refused("model-changed", dirs, now, 2);

    /* usage */
    args_for(args, sizeof args, "--shard 0/3 --output-dir x");
    test_cond("--shard 0/3: exit 2", test_run_cli(args, NULL) == 2);
    args_for(args, sizeof args, "--shard 4/3 --output-dir x");
    test_cond("--shard 4/3: exit 2", test_run_cli(args, NULL) == 2);
    args_for(args, sizeof args, "--shard 2/3");
    o = NULL;
    test_cond("--shard without --output-dir: exit 2 saying so",
              test_run_cli(args, &o) == 2 && test_has(o, "needs --output-dir"));
    free(o);
    test_cond("merge without --output-dir: exit 2", test_run_cli("merge x y", NULL) == 2);
    snprintf(args, sizeof args, "merge '%s' '%s' '%s' --output-dir '%s'", s[0], s[1], s[2], s[1]);
    test_cond("merge into a shard's own folder: exit 2", test_run_cli(args, NULL) == 2);
    snprintf(args, sizeof args, "merge '%s/whole' --output-dir '%s/x'", root, root);
    o = NULL;
    test_cond("merge of a folder without gqla_shard.json: exit 2 naming the folder",
              test_run_cli(args, &o) == 2 && test_has(o, "holds no finished shard"));
    free(o);
    /* A gate in the command: the shards skip it, the merge applies it
     * (this random "conversion" drops far more than 5 points: exit 1). */
    char g[2][1200], junit[1200];
    snprintf(junit, sizeof junit, "%s/junit.xml", root);
    for (int k = 1; k <= 2; k++) {
        snprintf(g[k - 1], sizeof g[k - 1], "%s/gate%d", root, k);
        if (snprintf(args, sizeof args, "--model '%s' --converted '%s' --tasks arc_easy --limit 40 --data-dir '%s' "
                     "--quiet --max-drop 5 --junit '%s' --shard %d/2 --output-dir '%s'", orig, conv, data, junit, k,
                     g[k - 1]) >= (int)sizeof args)
            return 1;
        test_cond("gated shard: exit 0 (the gate waits for the merge)", test_run_cli(args, NULL) == 0);
    }
    test_cond("gated shards: no JUnit file yet", !exists(root, "junit.xml"));
    snprintf(args, sizeof args, "merge '%s' '%s' --output-dir '%s/gated'", g[0], g[1], root);
    o = NULL;
    code = test_run_cli(args, &o);
    test_cond("gated merge: exit 1, the gate's verdict, and the JUnit file written",
              code == 1 && test_has(o, "gate: FAIL max_drop") && exists(root, "junit.xml"));
    free(o);
    return test_report("main_shard");
}
