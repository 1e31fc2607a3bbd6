/* test_write_faults.c — every write of a command failing, one at a time.
 *
 * base/fileio.h's GQ_FAIL_WRITE=N makes the Nth write, fsync or rename of a
 * process fail (ENOSPC, or EIO with GQ_FAIL_WRITE_ERRNO=EIO; this test
 * alternates).  For one command this test runs it once cleanly (the
 * reference), then with N = 1, 2, ... until a run no longer reaches its Nth
 * write (the failing call announces itself on stderr).  For every N:
 *   - the run exits 2 with a message naming the file and the system's
 *     reason — or, for the run clock's best-effort saves (run_clock.h), goes
 *     on and still writes the reference's numbers;
 *   - nothing is half-written in place: no temp file is left, every JSON /
 *     JSONL / XML / safetensors file that exists is whole;
 *   - rerunning the same command on the same output completes (exit as the
 *     reference) with the reference's numbers (the main command resumes from
 *     its journal).
 * HF_TOKEN=secret-marker is in the environment of every run: it must appear
 * in no output file and no captured log.
 *
 * Usage: test_write_faults CASE, CASE one of
 *   main     gqla-eval --model --converted ... --output-dir --log-samples
 *            --max-drop --junit (results, samples, journal, clock, manifest,
 *            reports, JUnit)
 *   convert  gqla-eval convert (the converted checkpoint folder)
 *   compare  gqla-eval compare --junit
 *   report   gqla-eval report DIR (report.md/.tex/.csv/.html)
 *   shard    the main command's --shard 2/2 (journal, clock, gqla_shard.json)
 *   merge    gqla-eval merge of shards 1/2 and 2/2 (merged journal, clock,
 *            results, samples, manifest, reports, JUnit) */
#define _GNU_SOURCE /* nftw, memmem */
#include <cjson/cJSON.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "main_fixtures.h"
#include "safetensors.h"
#include "testutil.h"

#define SECRET "secret-marker"
#define MAX_POINTS 2000

static char root[4096], orig[4200], conv[4200], log_all_path[4200];
static const char *case_name;

// ---- checks on a folder ------------------------------------------------------------------------

static int n_bad; /* problems found by the walk below */

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void bad(const char *path, const char *why)
{
    printf("  %s: %s\n", path, why);
    n_bad++;
}

/* One file: whole, and free of the secret. */
static int check_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag != FTW_F) {
        if (flag == FTW_D && strstr(path + strlen(root), ".tmp")) bad(path, "a temp folder was left");
        return 0;
    }
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (strstr(base, ".tmp.")) bad(path, "a temp file was left");
    size_t n = 0;
    char *text = test_read_file(path, &n);
    if (!text) {
        bad(path, "unreadable");
        return 0;
    }
    if (memmem(text, n, SECRET, strlen(SECRET))) bad(path, "holds HF_TOKEN's value");
    if (ends_with(base, ".json")) {
        cJSON *j = cJSON_ParseWithLength(text, n);
        if (!j) bad(path, "not whole JSON");
        cJSON_Delete(j);
    } else if (ends_with(base, ".jsonl")) {
        for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
            nl = strchr(line, '\n');
            if (!nl) {
                bad(path, "the last line has no newline (cut short)");
                break;
            }
            cJSON *j = cJSON_ParseWithLength(line, (size_t)(nl - line));
            if (!j) bad(path, "a line is not whole JSON");
            cJSON_Delete(j);
        }
    } else if (ends_with(base, ".xml")) {
        if (!strstr(text, "</testsuites>")) bad(path, "JUnit XML without its closing tag");
    } else if (ends_with(base, ".safetensors")) {
        gq_safetensors *s = NULL;
        gq_error err = {0};
        if (gq_safetensors_open(&s, path, &err) != GQ_OK) bad(path, err.msg);
        gq_safetensors_close(s);
    } else if (st->st_size == 0 && !ends_with(base, ".lock")) {
        bad(path, "empty");
    }
    free(text);
    return 0;
}

static int folder_ok(const char *dir, const char *what)
{
    n_bad = 0;
    struct stat st;
    if (stat(dir, &st) == 0) nftw(dir, check_one, 16, FTW_PHYS);
    char msg[5000];
    snprintf(msg, sizeof msg, "%s: nothing half-written, no temp file, no secret under %s", what, dir);
    return test_cond(msg, n_bad == 0);
}

/* Every file of a and b byte-equal (the converter, the reports). */
static int same_files(const char *a, const char *b, const char *const *names, const char *what)
{
    int ok = 1;
    for (size_t i = 0; names[i]; i++) {
        char pa[4600], pb[4600];
        snprintf(pa, sizeof pa, "%s/%s", a, names[i]);
        snprintf(pb, sizeof pb, "%s/%s", b, names[i]);
        size_t na = 0, nb = 0;
        char *ta = test_read_file(pa, &na), *tb = test_read_file(pb, &nb);
        int eq = ta && tb && na == nb && memcmp(ta, tb, na) == 0;
        if (!eq) printf("  %s: %s differs from the reference\n", what, names[i]);
        ok &= eq;
        free(ta);
        free(tb);
    }
    char msg[300];
    snprintf(msg, sizeof msg, "%s: the rerun's files equal the uninterrupted run's", what);
    return test_cond(msg, ok);
}

// ---- the cases -----------------------------------------------------------------------------------

typedef struct sweep_case {
    /* The command's arguments writing into out (a fresh path per N). */
    void (*args)(char *buf, size_t n, const char *out);
    /* Ready out before a run (copy inputs); may be NULL. */
    void (*prepare)(const char *out);
    /* 1 when the rerun in out matches the reference in ref. */
    int (*same)(const char *ref, const char *out, const char *what);
    int ok_exit;       /* the clean run's exit status */
    int lock_file;     /* the output folder holds the run lock */
} sweep_case;

static void main_args(char *buf, size_t n, const char *out)
{
    snprintf(buf, n,
             "--model '%s' --converted '%s' --tasks arc_easy,piqa --limit 4 --data-dir '%s' --quiet "
             "--output-dir '%s' --log-samples --max-drop 100 --junit '%s/junit.xml'",
             orig, conv, mf_samples_dir(), out, out);
}

static int main_same(const char *ref, const char *out, const char *what)
{
    int ok = mf_same_results(ref, out, what);
    static const char *const names[] = {"junit.xml", NULL};
    return same_files(ref, out, names, what) && ok;
}

/* The main command without the gate: the shards of one command must not
 * name their own output folders in it (merge compares the commands). */
static void shard_base_args(char *buf, size_t n, const char *out)
{
    snprintf(buf, n,
             "--model '%.2000s' --converted '%.2000s' --tasks arc_easy,piqa --limit 4 --data-dir '%.2000s' --quiet "
             "--output-dir '%.2000s' --log-samples",
             orig, conv, mf_samples_dir(), out);
}

static void shard_args(char *buf, size_t n, const char *out)
{
    char base[8800];
    shard_base_args(base, sizeof base, out);
    snprintf(buf, n, "%s --shard 2/2", base);
}

static int shard_same(const char *ref, const char *out, const char *what)
{
    static const char *const names[] = {"gqla_shard.json", NULL};
    return same_files(ref, out, names, what);
}

/* The two shards the merge case merges, scored once (fault-free). */
static char shards[2][4400];

static void merge_prepare_shards(void)
{
    for (int k = 0; k < 2; k++) {
        char base[8800], args[8900];
        snprintf(shards[k], sizeof shards[k], "%s/shard%d", root, k + 1);
        shard_base_args(base, sizeof base, shards[k]);
        snprintf(args, sizeof args, "%s --shard %d/2", base, k + 1);
        char *o = NULL;
        int code = test_run_cli(args, &o);
        if (!test_cond("a shard for the merge case scores cleanly", code == 0)) printf("%s\n", o ? o : "");
        free(o);
    }
}

static void merge_args(char *buf, size_t n, const char *out)
{
    snprintf(buf, n, "merge '%s' '%s' --output-dir '%s' --quiet", shards[0], shards[1], out);
}

static void convert_args(char *buf, size_t n, const char *out)
{
    char src[4096]; /* test_fixture's buffer is static: one call per argument */
    snprintf(src, sizeof src, "%s", test_fixture("convert/tiny-qwen2/source"));
    snprintf(buf, n,
             "convert --model '%s' --output '%s' --calib-tokens '%s' --threads 1 --quiet --rope-dim 8 --freqfold 4 "
             "--kv-lora-rank 40",
             src, out, test_fixture("convert/tiny-qwen2/calib_tokens.txt"));
}

static int convert_same(const char *ref, const char *out, const char *what)
{
    static const char *const names[] = {"config.json", "model.safetensors", NULL};
    int ok = same_files(ref, out, names, what);
    /* gqla_meta.json records the command line, whose --output differs */
    cJSON *a = mf_read_json(ref, "gqla_meta.json"), *b = mf_read_json(out, "gqla_meta.json");
    cJSON_DeleteItemFromObjectCaseSensitive(a, "command_line");
    cJSON_DeleteItemFromObjectCaseSensitive(b, "command_line");
    char msg[300];
    snprintf(msg, sizeof msg, "%s: gqla_meta.json equals the uninterrupted run's (but for the command line)", what);
    ok &= test_cond(msg, a && b && cJSON_Compare(a, b, 1));
    cJSON_Delete(a);
    cJSON_Delete(b);
    return ok;
}

static void compare_args(char *buf, size_t n, const char *out)
{
    char base[4096];
    snprintf(base, sizeof base, "%s", test_fixture("report/base.json"));
    snprintf(buf, n, "compare '%s' '%s' --max-drop 1 --quiet --junit '%s/junit.xml'", base,
             test_fixture("report/new.json"), out);
}

static void mkdir_out(const char *out) { mkdir(out, 0777); }

static int compare_same(const char *ref, const char *out, const char *what)
{
    static const char *const names[] = {"junit.xml", NULL};
    return same_files(ref, out, names, what);
}

static void report_args(char *buf, size_t n, const char *out) { snprintf(buf, n, "report '%s'", out); }

static void report_prepare(const char *out)
{
    mkdir(out, 0777);
    size_t n = 0;
    char *run = test_read_file(test_fixture("report/run/gqla_run.json"), &n);
    char path[4600];
    snprintf(path, sizeof path, "%s/gqla_run.json", out);
    if (!run || test_write_file(path, run, n) != 0) fprintf(stderr, "cannot write %s\n", path);
    free(run);
}

static int report_same(const char *ref, const char *out, const char *what)
{
    static const char *const names[] = {"report.md", "report.tex", "report.csv", "report.html", NULL};
    return same_files(ref, out, names, what);
}

// ---- the sweep -----------------------------------------------------------------------------------

static FILE *log_all; /* every captured output, checked for the secret at the end */

static int run(const sweep_case *c, const char *out, long fail_at, char **output)
{
    char args[16384];
    c->args(args, sizeof args, out);
    if (fail_at > 0) {
        char v[32];
        snprintf(v, sizeof v, "%ld", fail_at);
        setenv("GQ_FAIL_WRITE", v, 1);
        if (fail_at % 2 == 0) setenv("GQ_FAIL_WRITE_ERRNO", "EIO", 1);
    }
    int code = test_run_cli(args, output);
    unsetenv("GQ_FAIL_WRITE");
    unsetenv("GQ_FAIL_WRITE_ERRNO");
    if (log_all) fprintf(log_all, "=== %s N=%ld exit %d\n%s\n", case_name, fail_at, code, *output ? *output : "");
    return code;
}

static int sweep(const sweep_case *c)
{
    char ref[4400], out[4400], marker[64], what[256];
    snprintf(ref, sizeof ref, "%s/ref", root);
    if (c->prepare) c->prepare(ref);
    char *o = NULL;
    int code = run(c, ref, 0, &o);
    if (!test_cond("the reference run exits as a clean run does", code == c->ok_exit)) printf("%s\n", o ? o : "");
    free(o);
    long n_points = 0, n_best_effort = 0;
    for (long n = 1; n <= MAX_POINTS; n++) {
        snprintf(out, sizeof out, "%s/n%ld", root, n);
        if (c->prepare) c->prepare(out);
        code = run(c, out, n, &o);
        snprintf(marker, sizeof marker, "GQ_FAIL_WRITE=%ld:", n);
        const char *hit = o ? strstr(o, marker) : NULL;
        snprintf(what, sizeof what, "%s, write %ld failing (%s)", case_name, n, n % 2 ? "ENOSPC" : "EIO");
        if (!hit) { /* past the last write: a clean run */
            test_cond("a run that no injected fault reached exits cleanly", code == c->ok_exit);
            break;
        }
        n_points++;
        const char *reason = n % 2 ? "No space left on device" : "Input/output error";
        if (code == 2) {
            /* "gqla-eval: error: FILE: ...: REASON", FILE under the output or its temp twin */
            const char *msg = strstr(o, "error: ");
            int named = msg && strstr(msg, reason) && (strstr(msg, out) || strstr(msg, root));
            char cond[400];
            snprintf(cond, sizeof cond, "%s: exit 2, the message names the file and says '%s'", what, reason);
            if (!test_cond(cond, named)) printf("%s\n", o);
        } else {
            /* Only the run clock's saves are best effort (run_clock.h). */
            char cond[400];
            snprintf(cond, sizeof cond, "%s: a run that went on (exit %d) only lost a clock save", what, code);
            n_best_effort++;
            if (!test_cond(cond, code == c->ok_exit && strstr(hit, "clock.json"))) printf("%s\n", o);
        }
        free(o);
        o = NULL;
        folder_ok(out, what);
        code = run(c, out, 0, &o);
        char cond[400];
        snprintf(cond, sizeof cond, "%s: the rerun exits as a clean run does", what);
        if (!test_cond(cond, code == c->ok_exit)) printf("%s\n", o ? o : "");
        free(o);
        o = NULL;
        c->same(ref, out, what);
        folder_ok(out, what);
    }
    free(o);
    printf("%s: %ld write points swept (%ld best-effort clock saves)\n", case_name, n_points, n_best_effort);
    test_cond("the sweep reached at least one write", n_points > 0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_write_faults main|convert|compare|report|shard|merge\n");
        return 2;
    }
    case_name = argv[1];
    sweep_case c = {0};
    if (!strcmp(case_name, "main")) c = (sweep_case){main_args, NULL, main_same, 0, 1};
    else if (!strcmp(case_name, "convert")) c = (sweep_case){convert_args, NULL, convert_same, 0, 0};
    else if (!strcmp(case_name, "compare")) c = (sweep_case){compare_args, mkdir_out, compare_same, 1, 0};
    else if (!strcmp(case_name, "report")) c = (sweep_case){report_args, report_prepare, report_same, 0, 0};
    else if (!strcmp(case_name, "shard")) c = (sweep_case){shard_args, NULL, shard_same, 0, 1};
    else if (!strcmp(case_name, "merge")) c = (sweep_case){merge_args, NULL, mf_same_results, 0, 1};
    else {
        fprintf(stderr, "test_write_faults: unknown case '%s'\n", case_name);
        return 2;
    }
    char dirname[64];
    snprintf(dirname, sizeof dirname, "write_faults_%s", case_name);
    snprintf(root, sizeof root, "%s", test_tmpdir(dirname));
    setenv("HF_TOKEN", SECRET, 1);
    if (!strcmp(case_name, "main") || !strcmp(case_name, "shard") || !strcmp(case_name, "merge")) {
        snprintf(orig, sizeof orig, "%s/models/original", root);
        snprintf(conv, sizeof conv, "%s/models/converted", root);
        if (mf_write_original(orig) != 0 || mf_write_gqla(conv, 3, 0) != 0) return 1;
    }
    snprintf(log_all_path, sizeof log_all_path, "%s/logs.txt", root);
    log_all = fopen(log_all_path, "w");
    if (!strcmp(case_name, "merge")) merge_prepare_shards();
    sweep(&c);
    if (log_all) fclose(log_all);
    char *logs = test_read_file(log_all_path, NULL);
    test_cond("HF_TOKEN's value is in no captured log", logs && !strstr(logs, SECRET));
    free(logs);
    return test_report(dirname);
}
