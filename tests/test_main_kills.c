/* test_main_kills.c — SIGKILLs at random moments of a journaled main-command
 * run, and two runs on one output folder at once.
 *
 *   kills: tiny original + GQLA models (main_fixtures.h), the sample items of
 *     all six tasks, both paths, --log-samples.  20 SIGKILLs from outside at
 *     seeded random moments (seed GQ_KILL_SEED, default 19): each run on a
 *     folder is killed within the uninterrupted run's duration and the next
 *     one resumes it — and may itself be killed — until a resume completes;
 *     then a new folder.  Every completed folder must hold the uninterrupted
 *     run's results (mf_same_results) and no temp file, and HF_TOKEN's value
 *     (set to a marker) appears in no file of any folder.  Labelled slow.
 *   lock: a run is stopped (SIGSTOP) once it holds its output folder; a
 *     second run on that folder is refused at once (exit 2, a message naming
 *     the folder and the other run) and writes nothing; the first, continued,
 *     finishes with the uninterrupted run's results, and a later run on the
 *     folder is allowed again.
 * Usage: test_main_kills kills|lock */
#define _GNU_SOURCE /* nftw, memmem */
#include <cjson/cJSON.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "main_fixtures.h"
#include "testutil.h"

#define TASKS "arc_easy,arc_challenge,piqa,hellaswag,openbookqa,winogrande,mmlu_abstract_algebra,mmlu_formal_logic"
#define SECRET "secret-marker"
#define N_KILLS 20

static char root[4096], orig[4200], conv[4200];

static void args_for(char *buf, size_t n, const char *out)
{
    snprintf(buf, n, "--model '%s' --converted '%s' --tasks %s --data-dir '%s' --quiet --output-dir '%s' --log-samples",
             orig, conv, TASKS, mf_samples_dir(), out);
}

static int n_bad;

static int scan_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag != FTW_F) return 0;
    if (strstr(path + strlen(root), ".tmp.")) {
        printf("  left behind: %s\n", path);
        n_bad++;
    }
    size_t n = 0;
    char *text = test_read_file(path, &n);
    if (text && memmem(text, n, SECRET, strlen(SECRET))) {
        printf("  HF_TOKEN's value in %s\n", path);
        n_bad++;
    }
    free(text);
    return 0;
}

static int folder_clean(const char *dir)
{
    n_bad = 0;
    nftw(dir, scan_one, 16, FTW_PHYS);
    return n_bad == 0;
}

static int kills(const char *ref)
{
    const char *s = getenv("GQ_KILL_SEED");
    unsigned seed = s ? (unsigned)strtoul(s, NULL, 10) : 19u;
    srand(seed);
    char args[16384], out[4400], what[4600];
    double t0 = mf_now();
    test_cond("uninterrupted run: exit 0", (args_for(args, sizeof args, ref), test_run_cli(args, NULL)) == 0);
    double t_ref = mf_now() - t0;
    printf("uninterrupted run: %.2f s; seed %u\n", t_ref, seed);
    int n_killed = 0, folder = 0, attempts = 0;
    while (n_killed < N_KILLS && attempts < 4 * N_KILLS) {
        snprintf(out, sizeof out, "%s/kill%d", root, folder++);
        args_for(args, sizeof args, out);
        int kills_here = 0;
        for (;;) { /* kill runs on this folder until one completes */
            attempts++;
            double delay = t_ref * (0.03 + 0.9 * rand() / (double)RAND_MAX);
            int killed = n_killed < N_KILLS ? mf_run_and_kill(args, delay) : 0;
            if (killed == 1) {
                n_killed++;
                kills_here++;
                printf("kill %d: %s, after %.3f s (kill %d on this folder)\n", n_killed, out, delay, kills_here);
                continue;
            }
            char *o = NULL;
            int code = test_run_cli(args, &o); /* the resume that completes */
            snprintf(what, sizeof what, "%s after %d kills", out, kills_here);
            if (!test_cond("the resume exits 0", code == 0)) printf("%s\n", o ? o : "");
            test_cond("the resume's log does not hold HF_TOKEN's value", !o || !strstr(o, SECRET));
            free(o);
            mf_same_results(ref, out, what);
            snprintf(what, sizeof what, "%s: no temp file left, HF_TOKEN's value in no file", out);
            test_cond(what, folder_clean(out));
            break;
        }
    }
    printf("%d SIGKILLs over %d folders\n", n_killed, folder);
    return test_cond("20 runs were killed in the middle", n_killed == N_KILLS);
}

static int lock(const char *ref)
{
    char args[16384], out[4400], clock[4600];
    args_for(args, sizeof args, ref);
    test_cond("uninterrupted run: exit 0", test_run_cli(args, NULL) == 0);
    snprintf(out, sizeof out, "%s/locked", root);
    args_for(args, sizeof args, out);
    snprintf(clock, sizeof clock, "%s/journal/clock.json", out);
    char cmd[20000];
    snprintf(cmd, sizeof cmd, "exec '%s' %s >/dev/null 2>&1", getenv("GQ_CLI"), args);
    pid_t pid = fork();
    if (pid < 0) return test_cond("fork", 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    /* The clock is written after the lock is taken: then the first run holds it. */
    struct stat st;
    for (int i = 0; i < 6000 && stat(clock, &st) != 0; i++) usleep(5000);
    kill(pid, SIGSTOP);
    test_cond("the first run started writing its folder", stat(clock, &st) == 0);
    char *o = NULL;
    int code = test_run_cli(args, &o);
    test_cond("a second run on the same folder: exit 2", code == 2);
    test_cond("its log does not hold HF_TOKEN's value", !o || !strstr(o, SECRET));
    test_cond("... with a message naming the folder and the other run",
              test_has(o, out) && test_has(o, "another gqla-eval run is using this output folder"));
    free(o);
    snprintf(clock, sizeof clock, "%s/gqla_run.json", out);
    test_cond("... which wrote nothing there (no manifest yet)", stat(clock, &st) != 0);
    kill(pid, SIGCONT);
    int status = 0;
    waitpid(pid, &status, 0);
    test_cond("the first run, continued, exits 0", WIFEXITED(status) && WEXITSTATUS(status) == 0);
    mf_same_results(ref, out, "the first run");
    test_cond("a later run on the folder is allowed (the lock went with the first run)",
              test_run_cli(args, NULL) == 0);
    mf_same_results(ref, out, "the later run");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "kills") && strcmp(argv[1], "lock"))) {
        fprintf(stderr, "usage: test_main_kills kills|lock\n");
        return 2;
    }
    char name[64];
    snprintf(name, sizeof name, "main_%s", argv[1]);
    snprintf(root, sizeof root, "%s", test_tmpdir(name));
    snprintf(orig, sizeof orig, "%s/models/original", root);
    snprintf(conv, sizeof conv, "%s/models/converted", root);
    if (mf_write_original(orig) != 0 || mf_write_gqla(conv, 3, 0) != 0) return 1;
    setenv("HF_TOKEN", SECRET, 1);
    char ref[4400];
    snprintf(ref, sizeof ref, "%s/ref", root);
    if (!strcmp(argv[1], "kills")) kills(ref);
    else lock(ref);
    return test_report(name);
}
