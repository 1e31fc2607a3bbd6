/* test_main_resume.c — a main-command run killed with SIGKILL and rerun on
 * the same output folder gives the results of an uninterrupted run.
 *
 * Tiny original + GQLA models (main_fixtures.h), the sample items of all six
 * tasks, both paths.  Kills: after N journal batches for several N (through
 * the GQLA_TEST_KILL_AFTER_BATCHES hook, journal.h), once in the middle of
 * a batch's write (",torn"), and a few times from outside after a random
 * delay within the uninterrupted run's duration.  Each time the rerun must
 * exit 0, report resumed documents when some were journaled, and produce
 * the same "results" block in every results_<run>.json and the same numbers
 * in gqla_run.json (everything but the clock, the memory and the command)
 * as the uninterrupted run.  The clock (run_clock.h): a resumed run's
 * manifest counts both invocations and at least the killed one's saved
 * time; a journal without clock.json says the earlier work was not timed;
 * a corrupt clock.json is an error naming it.
 * Usage: test_main_resume (no arguments). */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "main_fixtures.h"
#include "testutil.h"

#define TASKS "arc_easy,arc_challenge,piqa,hellaswag,openbookqa,winogrande,mmlu_abstract_algebra,mmlu_formal_logic"

static char root[4096], orig[4200], conv[4200];

static void args_for(char *buf, size_t n, const char *out)
{
    snprintf(buf, n, "--model '%s' --converted '%s' --tasks %s --data-dir '%s' --quiet --output-dir '%s' --log-samples",
             orig, conv, TASKS, mf_samples_dir(), out);
}

/* After the rerun of a killed run: the manifest counts the killed
 * invocation (its clock as saved when it died) and the rerun. */
static void check_clock(const char *out, const cJSON *killed_clock, const char *what)
{
    cJSON *m = mf_read_json(out, "gqla_run.json");
    char msg[300];
    double before = mf_num(killed_clock, "wall_seconds");
    snprintf(msg, sizeof msg, "%s: the killed run's clock.json counts 1 invocation and some time (%.3f s)", what,
             before);
    test_cond(msg, mf_num(killed_clock, "invocations") == 1 && before > 0);
    snprintf(msg, sizeof msg, "%s: gqla_run.json: 2 invocations, wall_seconds %.3f > the killed one's %.3f, "
             "started when the killed one started, earlier_untimed false", what, mf_num(m, "wall_seconds"), before);
    test_cond(msg, mf_num(m, "invocations") == 2 && mf_num(m, "wall_seconds") > before &&
                       mf_num(m, "started_unix") == mf_num(killed_clock, "started_unix") &&
                       cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(m, "earlier_untimed")));
    char path[4600];
    snprintf(path, sizeof path, "%s/report.md", out);
    char *md = test_read_file(path, NULL);
    snprintf(msg, sizeof msg, "%s: report.md gives the wall time over 2 invocations", what);
    test_cond(msg, test_has(md, "invocations (resumed)") && test_has(md, "over 2 invocations"));
    free(md);
    cJSON_Delete(m);
}

int main(void)
{
    snprintf(root, sizeof root, "%s", test_tmpdir("main_resume"));
    snprintf(orig, sizeof orig, "%s/original", root);
    snprintf(conv, sizeof conv, "%s/converted", root);
    if (mf_write_original(orig) != 0 || mf_write_gqla(conv, 3, 0) != 0) return 1;
    char ref[4400], out[4400], args[16384];
    snprintf(ref, sizeof ref, "%s/ref", root);
    args_for(args, sizeof args, ref);
    double t0 = mf_now();
    int code = test_run_cli(args, NULL);
    double t_ref = mf_now() - t0;
    test_cond("uninterrupted run: exit 0", code == 0);
    printf("uninterrupted run: %.2f s\n", t_ref);

    /* killed by the hook after N batches (",torn": in the middle of the N-th write) */
    const char *kills[] = {"1", "2", "5,torn", "9", "14,torn", "23"};
    for (size_t i = 0; i < sizeof kills / sizeof kills[0]; i++) {
        snprintf(out, sizeof out, "%s/hook%zu", root, i);
        args_for(args, sizeof args, out);
        setenv("GQLA_TEST_KILL_AFTER_BATCHES", kills[i], 1);
        char *o = NULL;
        code = test_run_cli(args, &o);
        unsetenv("GQLA_TEST_KILL_AFTER_BATCHES");
        char what[128];
        snprintf(what, sizeof what, "kill after batch %s", kills[i]);
        printf("%s: exit %d\n", what, code);
        test_cond("the hooked run died by the signal (no normal exit 0/1/2)", code != 0 && code != 1 && code != 2);
        free(o);
        cJSON *killed_clock = mf_read_json(out, "journal/clock.json");
        /* rerun the same command without quiet to see the resumed counts */
        char loud[16384];
        snprintf(loud, sizeof loud, "%s", args);
        char *q = strstr(loud, " --quiet");
        if (q) memcpy(q, "        ", 8);
        code = test_run_cli(loud, &o);
        test_cond("the rerun: exit 0", code == 0);
        if (kills[i][0] != '1' || kills[i][1] != '\0')
            test_cond("the rerun reports resumed documents", o && strstr(o, "resumed"));
        if (strstr(kills[i], "torn")) test_cond("a torn batch is scored again (rerun completes)", code == 0);
        free(o);
        mf_same_results(ref, out, what);
        check_clock(out, killed_clock, what);
        cJSON_Delete(killed_clock);
    }

    /* An uninterrupted run is one invocation. */
    cJSON *mref = mf_read_json(ref, "gqla_run.json");
    test_cond("uninterrupted run: gqla_run.json has 1 invocation, earlier_untimed false",
              mf_num(mref, "invocations") == 1 && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(mref, "earlier_untimed")));
    cJSON_Delete(mref);

    /* After a kill, clock.json is (0) removed, as a journal written before
     * the clock existed: the rerun says that earlier work was not timed;
     * (1) not a clock: exit 2 naming it, no manifest written; (2) replaced
     * by earlier invocations of known totals: the rerun adds to them. */
    const char *variants[3] = {"noclock", "badclock", "seeded"};
    for (int bad = 0; bad < 3; bad++) {
        snprintf(out, sizeof out, "%s/%s", root, variants[bad]);
        args_for(args, sizeof args, out);
        setenv("GQLA_TEST_KILL_AFTER_BATCHES", "3", 1);
        test_run_cli(args, NULL);
        unsetenv("GQLA_TEST_KILL_AFTER_BATCHES");
        char clock[4600];
        snprintf(clock, sizeof clock, "%s/journal/clock.json", out);
        if (bad) {
            FILE *f = fopen(clock, "w");
            if (f) {
                fputs(bad == 1 ? "{\"format\": \"gqla-clock\", \"version\": 1, \"started_unix\": 1.0, "
                                 "\"invocations\": 1, \"wall_seconds\": \"soon\", \"peak_rss_bytes\": 0}\n"
                               : "{\"format\": \"gqla-clock\", \"version\": 1, \"started_unix\": 1.5, "
                                 "\"invocations\": 5, \"wall_seconds\": 1000.25, \"peak_rss_bytes\": 1e12}\n",
                      f);
                fclose(f);
            }
        } else {
            remove(clock);
        }
        char *o = NULL;
        double t_rerun = mf_now();
        code = test_run_cli(args, &o);
        t_rerun = mf_now() - t_rerun;
        if (bad == 2) {
            cJSON *m = mf_read_json(out, "gqla_run.json");
            double w = mf_num(m, "wall_seconds");
            printf("seeded clock: rerun %.3f s, manifest wall_seconds %.3f\n", t_rerun, w);
            test_cond("seeded clock: exit 0, 6 invocations, started_unix and peak memory from the seed, "
                      "wall_seconds = 1000.25 + at most the rerun's time",
                      code == 0 && mf_num(m, "invocations") == 6 && mf_num(m, "started_unix") == 1.5 &&
                          mf_num(m, "peak_rss_bytes") == 1e12 && w > 1000.25 && w <= 1000.25 + t_rerun);
            cJSON_Delete(m);
        } else if (bad) {
            test_cond("corrupt clock.json: exit 2", code == 2);
            test_cond("corrupt clock.json: the message names the file and the key",
                      test_has(o, "clock.json: key wall_seconds"));
            snprintf(clock, sizeof clock, "%s/gqla_run.json", out);
            test_cond("corrupt clock.json: no manifest written", test_read_file(clock, NULL) == NULL);
        } else {
            test_cond("journal without clock: the rerun exits 0", code == 0);
            cJSON *m = mf_read_json(out, "gqla_run.json");
            test_cond("journal without clock: 1 invocation, earlier_untimed true",
                      mf_num(m, "invocations") == 1 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "earlier_untimed")));
            cJSON_Delete(m);
            snprintf(clock, sizeof clock, "%s/report.md", out);
            char *md = test_read_file(clock, NULL);
            test_cond("journal without clock: report.md says the earlier work was not timed",
                      test_has(md, "s in this invocation; earlier ones were not timed"));
            free(md);
            /* The clock remembers it: one more rerun counts 2 timed invocations. */
            test_cond("journal without clock: a second rerun exits 0", test_run_cli(args, NULL) == 0);
            m = mf_read_json(out, "gqla_run.json");
            test_cond("journal without clock, second rerun: 2 invocations, earlier_untimed still true",
                      mf_num(m, "invocations") == 2 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "earlier_untimed")));
            cJSON_Delete(m);
            md = test_read_file(clock, NULL);
            test_cond("journal without clock, second rerun: report.md says so",
                      test_has(md, "s over the last 2 invocations; earlier ones were not timed"));
            free(md);
        }
        free(o);
    }

    /* killed from outside after a random delay */
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    for (int i = 0; i < 3; i++) {
        double delay = t_ref * (0.1 + 0.8 * rand() / (double)RAND_MAX);
        snprintf(out, sizeof out, "%s/random%d", root, i);
        args_for(args, sizeof args, out);
        int killed = mf_run_and_kill(args, delay);
        char what[128];
        snprintf(what, sizeof what, "random kill after %.3f s (%s)", delay, killed ? "killed" : "had finished");
        printf("%s\n", what);
        code = test_run_cli(args, NULL);
        test_cond("the rerun: exit 0", code == 0);
        mf_same_results(ref, out, what);
    }
    return test_report("main_resume");
}
