/* test_report_gate.c — the gate (`report DIR --max-drop/--max-path-diff
 * --junit`, gq_gate_check) and `compare`, on hand-written fixtures
 * (tests/fixtures/report/): exit codes, the failing rows printed, and the
 * JUnit XML parsed back (testcase/failure counts, which case failed,
 * escaping).  Hand numbers: per-task drops of the converted runs are
 * mmlu 2.00, arc_easy 2.00, arc_challenge 1.00, piqa 1.00, hellaswag 1.00
 * (GQA only), openbookqa 2.00 (GQA) / 1.60 (absorb), winogrande 1.00; the
 * averages over shared columns drop 8.5/6 = 1.4167 (GQA) and
 * (240 - 232.9)/5 = 1.42 (absorb); max |dll| arc_easy 3.1e-5, piqa 2.5e-4,
 * winogrande 1e-6.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* An integer attribute of the first <tag ...> element. */
static long attr_of(const char *xml, const char *tag, const char *attr)
{
    char open[64], key[64];
    snprintf(open, sizeof open, "<%s ", tag);
    snprintf(key, sizeof key, " %s=\"", attr);
    const char *p = xml ? strstr(xml, open) : NULL;
    const char *end = p ? strchr(p, '>') : NULL;
    const char *a = p ? strstr(p, key) : NULL;
    if (!a || a > end) return -1;
    return strtol(a + strlen(key), NULL, 10);
}

/* 1 when the testcase (classname, name) has a <failure>, 0 when it passed,
 * -1 when there is no such testcase. */
static int case_failed(const char *xml, const char *cls, const char *name)
{
    char key[512];
    snprintf(key, sizeof key, "<testcase classname=\"%s\" name=\"%s\"", cls, name);
    const char *p = xml ? strstr(xml, key) : NULL;
    if (!p) {
        printf("  no testcase %s / %s\n", cls, name);
        return -1;
    }
    const char *end = strchr(p, '>');
    if (end[-1] == '/') return 0;
    const char *close = strstr(p, "</testcase>");
    const char *fail = strstr(p, "<failure ");
    return fail && close && fail < close;
}

static const char *run_dir(void)
{
    static char dir[4096];
    snprintf(dir, sizeof dir, "%s", test_tmpdir("gate-run"));
    size_t n;
    char *text = test_read_file(test_fixture("report/run/gqla_run.json"), &n);
    char path[4200];
    snprintf(path, sizeof path, "%s/gqla_run.json", dir);
    if (!text || test_write_file(path, text, n)) printf("cannot set up %s\n", path);
    free(text);
    return dir;
}

static int cli(const char *args, char **out)
{
    int rc = test_run_cli(args, out);
    printf("--- gqla-eval %s (exit %d)\n%s", args, rc, *out ? *out : "");
    return rc;
}

static void test_gate(const char *dir)
{
    char args[16384], junit[4200];
    char *out = NULL, *xml;
    snprintf(junit, sizeof junit, "%s/gate.xml", dir);

    snprintf(args, sizeof args, "report -q '%s' --max-drop 2 --max-path-diff 1e-3 --junit '%s'", dir, junit);
    test_cond("gate within limits: exit 0, nothing failed", cli(args, &out) == 0 && test_has(out, "gate: 0 of 18 checks failed"));
    free(out);
    xml = test_read_file(junit, NULL);
    test_cond("passing JUnit: 18 testcases (15 drop + 3 path), 0 failures",
              attr_of(xml, "testsuites", "tests") == 18 && attr_of(xml, "testsuites", "failures") == 0 &&
                  test_count(xml, "<testcase ") == 18 && test_count(xml, "<failure ") == 0);
    test_cond("passing JUnit: XML declaration, two suites",
              test_has(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>") && test_count(xml, "<testsuite ") == 2 &&
                  test_has(xml, "<testsuite name=\"max_drop\" tests=\"15\" failures=\"0\"") &&
                  test_has(xml, "<testsuite name=\"max_path_diff\" tests=\"3\" failures=\"0\""));
    free(xml);

    out = NULL;
    snprintf(args, sizeof args, "report -q '%s' --max-drop 1.5 --max-path-diff 1e-4 --junit '%s'", dir, junit);
    test_cond("gate over limits: exit 1", cli(args, &out) == 1);
    test_cond("failing rows printed: 6 drops > 1.5, piqa's path difference",
              test_count(out, "gate: FAIL ") == 7 && test_has(out, "gate: 7 of 18 checks failed") &&
                  test_has(out, "converted_absorb openbookqa: acc_norm 33.40% vs original 35.00%: dropped 1.60 points > 1.50") &&
                  test_has(out, "converted_gqa vs converted_absorb piqa: max |dll| 2.500e-04 > 1.000e-04"));
    free(out);
    xml = test_read_file(junit, NULL);
    test_cond("failing JUnit: 18 testcases, 7 failures",
              attr_of(xml, "testsuites", "tests") == 18 && attr_of(xml, "testsuites", "failures") == 7 &&
                  test_count(xml, "<testcase ") == 18 && test_count(xml, "<failure message=") == 7);
    test_cond("failing JUnit: the right cases failed",
              case_failed(xml, "gqla.max_drop.converted_gqa", "mmlu") == 1 &&
                  case_failed(xml, "gqla.max_drop.converted_gqa", "arc_challenge") == 0 &&
                  case_failed(xml, "gqla.max_drop.converted_absorb", "openbookqa") == 1 &&
                  case_failed(xml, "gqla.max_drop.converted_absorb", "winogrande") == 0 &&
                  case_failed(xml, "gqla.max_path_diff.converted_gqa_vs_converted_absorb", "piqa") == 1 &&
                  case_failed(xml, "gqla.max_path_diff.converted_gqa_vs_converted_absorb", "arc_easy") == 0);
    test_cond("failing JUnit: '>' and '|' in messages, escaped", test_has(xml, "points &gt; 1.50\"/>") && !strstr(xml, "points > "));
    test_cond("absorb has no hellaswag check (not run on that path)",
              case_failed(xml, "gqla.max_drop.converted_absorb", "hellaswag") == -1);
    free(xml);

    /* Between the two averages: GQA's 1.4167 passes, absorb's 1.42 fails. */
    out = NULL;
    snprintf(args, sizeof args, "report -q '%s' --max-drop 1.418 --junit '%s'", dir, junit);
    test_cond("--max-drop 1.418: exit 1", cli(args, &out) == 1);
    free(out);
    xml = test_read_file(junit, NULL);
    test_cond("average over shared columns: GQA 1.4167 passes, absorb 1.42 fails",
              case_failed(xml, "gqla.max_drop.converted_gqa", "average") == 0 &&
                  case_failed(xml, "gqla.max_drop.converted_absorb", "average") == 1 &&
                  attr_of(xml, "testsuites", "tests") == 15 && test_count(xml, "max_path_diff") == 0);
    free(xml);

    /* A drop equal to the limit passes (2.00 - 2.00 leaves float noise); at 1.99
     * the five 2.00 drops fail (GQA mmlu, arc_easy, openbookqa; absorb mmlu, arc_easy). */
    out = NULL;
    snprintf(args, sizeof args, "report -q '%s' --max-drop 2.0", dir);
    test_cond("drop equal to the limit passes", cli(args, &out) == 0);
    free(out);
    out = NULL;
    snprintf(args, sizeof args, "report -q '%s' --max-drop 1.99", dir);
    test_cond("limit just under the 2.00 drops fails",
              cli(args, &out) == 1 && test_has(out, "gate: 5 of 15 checks failed"));
    free(out);

    /* Errors: a gate that would check nothing. */
    const char *bare = "{\"format\": \"gqla-run\", \"version\": 1, \"runs\": [{\"id\": \"original\", \"model\": "
                       "\"original\", \"path\": \"native\", \"tasks\": {\"piqa\": {\"acc\": 0.5}}}]}";
    char bdir[4096], path[4200];
    snprintf(bdir, sizeof bdir, "%s", test_tmpdir("gate-bare"));
    snprintf(path, sizeof path, "%s/gqla_run.json", bdir);
    test_write_file(path, bare, strlen(bare));
    out = NULL;
    snprintf(args, sizeof args, "report -q '%s' --max-path-diff 1e-4", bdir);
    test_cond("--max-path-diff without consistency entries: exit 2 naming the key",
              cli(args, &out) == 2 && test_has(out, "consistency holds no task"));
    free(out);
    out = NULL;
    snprintf(args, sizeof args, "report -q '%s' --max-drop 1", bdir);
    test_cond("--max-drop without a converted run: exit 2", cli(args, &out) == 2 && test_has(out, "nothing to check"));
    free(out);
    out = NULL;
    snprintf(args, sizeof args, "report -q '%s' --max-drop -1", dir);
    test_cond("--max-drop -1: usage error", cli(args, &out) == 2 && test_has(out, "--max-drop takes points >= 0"));
    free(out);
}

static void test_compare(void)
{
    char base[4200], neu[4200], args[16384], junit[4200];
    snprintf(base, sizeof base, "%s", test_fixture("report/base.json"));
    snprintf(neu, sizeof neu, "%s", test_fixture("report/new.json"));
    snprintf(junit, sizeof junit, "%s/compare.xml", test_tmpdir("compare"));
    char *out = NULL;

    snprintf(args, sizeof args, "compare '%s' '%s' --max-drop 1.5", base, neu);
    test_cond("compare: arc_easy's acc_norm drops 2.00 > 1.5: exit 1", cli(args, &out) == 1);
    test_cond("compare: rows use acc_norm when BASE has it, else acc",
              test_has(out, "arc_easy                                 acc_norm      55.00     53.00    -2.00  FAIL") &&
                  test_has(out, "mmlu                                     acc           30.00     29.00    -1.00  ok") &&
                  test_has(out, "piqa                                     acc_norm      72.00     71.50    -0.50  ok") &&
                  test_has(out, "winogrande                               acc           55.00     56.00    +1.00  ok"));
    test_cond("compare: tasks in one file only are listed",
              test_has(out, "only in BASE: hellaswag") && test_has(out, "only in NEW: openbookqa") &&
                  test_has(out, "1 of 4 shared tasks dropped more than 1.50 points"));
    free(out);

    out = NULL;
    snprintf(args, sizeof args, "compare '%s' '%s' --max-drop 2.5", base, neu);
    test_cond("compare within 2.5 points: exit 0", cli(args, &out) == 0);
    free(out);

    out = NULL;
    snprintf(args, sizeof args, "compare '%s' '%s' --max-drop 0.75 --junit '%s'", base, neu, junit);
    test_cond("compare --max-drop 0.75: exit 1", cli(args, &out) == 1);
    free(out);
    char *xml = test_read_file(junit, NULL);
    test_cond("compare JUnit: 4 cases, arc_easy and mmlu failed",
              attr_of(xml, "testsuites", "tests") == 4 && attr_of(xml, "testsuites", "failures") == 2 &&
                  case_failed(xml, "gqla.compare", "arc_easy") == 1 && case_failed(xml, "gqla.compare", "mmlu") == 1 &&
                  case_failed(xml, "gqla.compare", "piqa") == 0 && case_failed(xml, "gqla.compare", "winogrande") == 0);
    free(xml);

    out = NULL;
    snprintf(args, sizeof args, "compare -q '%s' '%s' --max-drop 1.5", base, neu);
    test_cond("compare --quiet prints only the failing row", cli(args, &out) == 1 && test_has(out, "arc_easy") &&
                                                                 !strstr(out, "piqa") && !strstr(out, "only in"));
    free(out);

    /* Errors: exit 2. */
    char dir[4096], bad[4200], nores[4200], other[4200];
    snprintf(dir, sizeof dir, "%s", test_tmpdir("compare-bad"));
    snprintf(bad, sizeof bad, "%s/bad.json", dir);
    snprintf(nores, sizeof nores, "%s/nores.json", dir);
    snprintf(other, sizeof other, "%s/other.json", dir);
    test_write_file(bad, "{\n  \"results\": {\n    \"piqa\": {,}\n  }\n}\n", 38);
    test_write_file(nores, "{\"config\": {}}\n", 15);
    const char *o = "{\"results\": {\"lambada\": {\"acc,none\": 0.5}}}\n";
    test_write_file(other, o, strlen(o));
    out = NULL;
    snprintf(args, sizeof args, "compare '%s/missing.json' '%s' --max-drop 1", dir, neu);
    test_cond("compare: missing file exits 2 naming it", cli(args, &out) == 2 && test_has(out, "missing.json"));
    free(out);
    out = NULL;
    snprintf(args, sizeof args, "compare '%s' '%s' --max-drop 1", base, bad);
    test_cond("compare: bad JSON exits 2 with line and column", cli(args, &out) == 2 && test_has(out, "bad.json") && test_has(out, "line 3"));
    free(out);
    out = NULL;
    snprintf(args, sizeof args, "compare '%s' '%s' --max-drop 1", nores, neu);
    test_cond("compare: no results object exits 2 naming the key",
              cli(args, &out) == 2 && test_has(out, "key results"));
    free(out);
    out = NULL;
    snprintf(args, sizeof args, "compare '%s' '%s' --max-drop 1", base, other);
    test_cond("compare: no task in common exits 2", cli(args, &out) == 2 && test_has(out, "no task with an acc metric in common"));
    free(out);
    out = NULL;
    snprintf(args, sizeof args, "compare '%s' '%s'", base, neu);
    test_cond("compare without --max-drop: usage error", cli(args, &out) == 2 && test_has(out, "missing --max-drop"));
    free(out);
}

int main(void)
{
    test_gate(run_dir());
    test_compare();
    return test_report("test_report_gate");
}
