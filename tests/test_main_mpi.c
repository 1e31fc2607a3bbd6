/* test_main_mpi.c — the main command under mpirun: data parallel over
 * ranks gives the files of one process.
 *
 * The tiny original + GQLA models (main_fixtures.h) on the six tasks
 * (MMLU as two subjects) from ../shared/datasets at --limit 20 when it is
 * there, else the shipped sample items; SmolLM2 alone (its native path)
 * when models/ holds it.  Each run once as one process, then under
 * `mpirun -np 2` and `-np 3 --oversubscribe`: every results_*.json
 * "results" block and gqla_run.json (mf_same_results: all but time, memory,
 * command and the parallel layout), every samples/<run>/ file byte for
 * byte, and report.md/.csv/.tex line for line apart from the wall time,
 * peak memory, command and parallel lines, equal the one-process run's;
 * the manifest's "parallel" says the world size.  Then a rank killed with
 * SIGKILL after its first journal batch: mpirun exits non-zero naming rank
 * 1, and the same command run again resumes and gives the same files.
 * Usage: test_main_mpi fixtures|smollm2 (GQ_MPIRUN = the mpirun to use).
 * The ranks run without LeakSanitizer's exit check in the ASan build: Open
 * MPI's own start-up allocations (in plugins it unloads) are reported as
 * leaks; every other sanitizer check stays on, and the one-process runs
 * keep the leak check. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "main_fixtures.h"
#include "testutil.h"

#define TASKS "mmlu_abstract_algebra,mmlu_anatomy,arc_easy,arc_challenge,piqa,hellaswag,openbookqa,winogrande"

static const char *env_or(const char *k, const char *d)
{
    const char *v = getenv(k);
    return v && *v ? v : d;
}

static char mpirun_prefix[1200];

static void mpi_cmd(char *buf, size_t n, int np, const char *env, const char *args)
{
    /* MPMD: rank 0 plain, the others with env (the kill hook) when given. */
    const char *cli = env_or("GQ_CLI", "gqla-eval");
    if (env)
        snprintf(buf, n, "%s -np 1 '%s' %s : -np %d env %s '%s' %s", mpirun_prefix, cli, args, np - 1, env, cli, args);
    else
        snprintf(buf, n, "%s -np %d '%s' %s", mpirun_prefix, np, cli, args);
}

/* Lines of a report file without the ones that legitimately differ. */
static char *report_stable(const char *dir, const char *name)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = test_read_file(path, NULL);
    if (!text) return NULL;
    static const char *volatile_lines[] = {"Wall time", "Peak memory", "Command", "Parallel"};
    char *out = calloc(strlen(text) + 1, 1), *w = out;
    for (char *line = text; out && *line;) {
        char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line + 1) : strlen(line);
        int keep = 1;
        for (size_t i = 0; i < sizeof volatile_lines / sizeof volatile_lines[0]; i++) {
            char save = line[len - (end ? 1 : 0)];
            line[len - (end ? 1 : 0)] = '\0';
            if (strstr(line, volatile_lines[i])) keep = 0;
            line[len - (end ? 1 : 0)] = save;
        }
        if (keep) {
            memcpy(w, line, len);
            w += len;
        }
        line += len;
    }
    free(text);
    return out;
}

/* Every file under ref/rel equal byte for byte to out/rel, but for the
 * journal, results JSON (checked by its "results" block) and the reports
 * (line for line, below).  *n_files, *n_same count what was compared. */
static void walk_same(const char *ref, const char *out, const char *rel, int *n_files, int *n_same)
{
    char dir[8600];
    snprintf(dir, sizeof dir, "%s%s%s", ref, rel[0] ? "/" : "", rel);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        const char *n = e->d_name;
        if (n[0] == '.' || !strcmp(n, "journal") || !strncmp(n, "report.", 7) || !strcmp(n, "gqla_run.json") ||
            (!strncmp(n, "results", 7) && strstr(n, ".json")))
            continue;
        char sub[8600], pa[8800], pb[9200];
        snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", n);
        snprintf(pa, sizeof pa, "%s/%s", ref, sub);
        snprintf(pb, sizeof pb, "%s/%s", out, sub);
        const char *stamp = strstr(n, "_20"); /* lm-eval's samples_<task>_<date>.jsonl: match by task */
        if (stamp) {
            char odir[8800];
            snprintf(odir, sizeof odir, "%s%s%s", out, rel[0] ? "/" : "", rel);
            DIR *od = opendir(odir);
            struct dirent *oe;
            while (od && (oe = readdir(od)))
                if (!strncmp(oe->d_name, n, (size_t)(stamp - n) + 1) && strstr(oe->d_name + (stamp - n), "_20") ==
                                                                                oe->d_name + (stamp - n))
                    snprintf(pb, sizeof pb, "%s/%s", odir, oe->d_name);
            if (od) closedir(od);
        }
        struct stat st;
        if (stat(pa, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            walk_same(ref, out, sub, n_files, n_same);
            continue;
        }
        size_t na = 0, nb = 0;
        char *a = test_read_file(pa, &na), *b = test_read_file(pb, &nb);
        (*n_files)++;
        if (a && b && na == nb && memcmp(a, b, na) == 0) (*n_same)++;
        else printf("  differs: %s\n", sub);
        free(a);
        free(b);
    }
    if (d) closedir(d);
}

/* samples and tables byte for byte; reports line for line. */
static void same_files(const char *ref, const char *out, const char *what)
{
    char msg[512];
    int n_files = 0, n_same = 0;
    walk_same(ref, out, "", &n_files, &n_same);
    snprintf(msg, sizeof msg, "%s: %d samples/table files, all byte-identical to one process's", what, n_files);
    test_cond(msg, n_files > 0 && n_same == n_files);
    static const char *reports[] = {"report.md", "report.csv", "report.tex"};
    for (size_t i = 0; i < 3; i++) {
        char *a = report_stable(ref, reports[i]), *b = report_stable(out, reports[i]);
        snprintf(msg, sizeof msg, "%s: %s equal to one process's apart from time, memory, command, layout", what,
                 reports[i]);
        test_cond(msg, a && b && strcmp(a, b) == 0);
        free(a);
        free(b);
    }
}

static void check_world(const char *out, int np, const char *what)
{
    cJSON *m = mf_read_json(out, "gqla_run.json");
    const cJSON *par = cJSON_GetObjectItemCaseSensitive(m, "parallel");
    char msg[256];
    snprintf(msg, sizeof msg, "%s: gqla_run.json parallel.world_size = %d, data_parallel = %d", what, np, np);
    test_cond(msg, mf_num(par, "world_size") == np && mf_num(par, "data_parallel") == np);
    cJSON_Delete(m);
}

/* One model set: the one-process run, then np 2 and 3, then a killed rank. */
static void run_case(const char *name, const char *model_args, int converted)
{
    char ref[4200], out[4400], args[20000], cmd[65536], what[160];
    char *log = NULL;
    snprintf(ref, sizeof ref, "%s", test_tmpdir(name));
    const char *data = env_or("GQ_SHARED_DATA", "");
    struct stat st;
    char data_args[4300];
    if (data[0] && stat(data, &st) == 0) snprintf(data_args, sizeof data_args, "--data-dir '%s' --limit 20", data);
    else snprintf(data_args, sizeof data_args, "--data-dir '%s'", mf_samples_dir());

    snprintf(args, sizeof args, "%s --tasks %s %s --quiet --threads 1 --log-samples --output-dir '%s/one'",
             model_args, TASKS, data_args, ref);
    snprintf(cmd, sizeof cmd, "'%s' %s", env_or("GQ_CLI", "gqla-eval"), args);
    int rc = test_run_shell(cmd, &log);
    snprintf(what, sizeof what, "%s: one process exits 0", name);
    test_cond(what, rc == 0);
    if (rc != 0) printf("%s\n", log ? log : "");
    free(log);
    char one[4300];
    snprintf(one, sizeof one, "%s/one", ref);

    for (int np = 2; np <= 3; np++) {
        snprintf(out, sizeof out, "%s/np%d", ref, np);
        snprintf(args, sizeof args, "%s --tasks %s %s --quiet --threads 1 --log-samples --output-dir '%s'",
                 model_args, TASKS, data_args, out);
        mpi_cmd(cmd, sizeof cmd, np, NULL, args);
        rc = test_run_shell(cmd, &log);
        snprintf(what, sizeof what, "%s: mpirun -np %d exits 0", name, np);
        test_cond(what, rc == 0);
        if (rc != 0) printf("%s\n", log ? log : "");
        free(log);
        snprintf(what, sizeof what, "%s np %d", name, np);
        if (converted) mf_same_results(one, out, what);
        else mf_same_results_files(one, out, what, 2);
        same_files(one, out, what);
        check_world(out, np, what);
    }

    /* Rank 1 (and 2) SIGKILL themselves after their first journal batch. */
    snprintf(out, sizeof out, "%s/killed", ref);
    snprintf(args, sizeof args, "%s --tasks %s %s --quiet --threads 1 --log-samples --output-dir '%s'", model_args,
             TASKS, data_args, out);
    mpi_cmd(cmd, sizeof cmd, 3, "GQLA_TEST_KILL_AFTER_BATCHES=1", args);
    rc = test_run_shell(cmd, &log);
    snprintf(what, sizeof what, "%s: a rank killed after its first batch: mpirun exits non-zero (%d) naming rank 1 or 2",
             name, rc);
    test_cond(what, rc != 0 && log && (strstr(log, "rank 1") || strstr(log, "rank 2")));
    if (rc == 0 || !log || !(strstr(log, "rank 1") || strstr(log, "rank 2"))) printf("%s\n", log ? log : "");
    free(log);
    mpi_cmd(cmd, sizeof cmd, 3, NULL, args);
    rc = test_run_shell(cmd, &log);
    snprintf(what, sizeof what, "%s: the same command again resumes and exits 0", name);
    test_cond(what, rc == 0);
    if (rc != 0) printf("%s\n", log ? log : "");
    free(log);
    snprintf(what, sizeof what, "%s resumed", name);
    if (converted) mf_same_results(one, out, what);
    else mf_same_results_files(one, out, what, 2);
    same_files(one, out, what);
}

int main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "fixtures";
    const char *mpirun = getenv("GQ_MPIRUN");
    if (!mpirun || !*mpirun) {
        printf("SKIP: GQ_MPIRUN not set (no MPI in this build)\n");
        return 77;
    }
    /* Root in a container needs the two allow flags; --oversubscribe lets 3 ranks share 2 cores. */
    snprintf(mpirun_prefix, sizeof mpirun_prefix,
             "ASAN_OPTIONS=detect_leaks=0 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
             "OMPI_MCA_rmaps_base_oversubscribe=1 '%s'",
             mpirun);
    char root[4200], orig[4300], conv[4300], model_args[9000];
    if (!strcmp(which, "smollm2")) {
        const char *smol = test_model("SmolLM2-135M-Instruct.Q4_1.gguf");
        if (!smol) {
            printf("SKIP: models/SmolLM2-135M-Instruct.Q4_1.gguf absent (scripts/get-model.sh smollm2 models)\n");
            return 77;
        }
        snprintf(model_args, sizeof model_args, "--model '%s'", smol);
        run_case("main_mpi_smollm2", model_args, 0);
        return test_report("main_mpi smollm2");
    }
    snprintf(root, sizeof root, "%s", test_tmpdir("main_mpi_models"));
    snprintf(orig, sizeof orig, "%s/original", root);
    snprintf(conv, sizeof conv, "%s/gqla", root);
    if (mf_write_original(orig) || mf_write_gqla(conv, 7, 0)) {
        printf("FAIL: could not write the fixture models\n");
        return 1;
    }
    snprintf(model_args, sizeof model_args, "--model '%s' --converted '%s'", orig, conv);
    run_case("main_mpi_fixtures", model_args, 1);
    return test_report("main_mpi");
}
