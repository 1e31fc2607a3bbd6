/* test_report.c — `gqla-eval report DIR` on the hand-written manifest
 * tests/fixtures/report/run/gqla_run.json (numbers chosen for hand
 * computation, see tests/fixtures/report/README.md):
 *
 *   tables       report.md byte for byte against expected_report.md, typed
 *                from hand computations (a wrong Δ, average, metric choice or
 *                ARC mean fails)
 *   rebuild      a second `report` run gives byte-identical .md/.tex/.csv/.html
 *   arc_split    two ARC columns, Avg over 7 (hand: 335/7 = 47.86, Δ -10/7 = -1.43)
 *   tex          booktabs rules, escapes (_ | · Δ), missing cells "--"
 *   csv          RFC 4180: CRLF, quoting, same field count within a block,
 *                the Δ columns kept separate
 *   html         well-formed (balanced tags), no scripts or external resources
 *   errors       missing/bad manifests: exit 2, the message names
 *                DIR/gqla_run.json and the key, no report file replaced
 *   minimal      only the required keys: every missing number shows "–"
 *
 * `test_report --torture` re-runs itself with GQ_FAIL_ALLOC=1,2,... around
 * parsing the manifest and rendering all four formats plus a JUnit file:
 * every injected failure must come back as GQ_ERR_NOMEM (with ASan: and
 * nothing leaks).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "gq_alloc.h"
#include "report.h"
#include "testutil.h"

static char *fixture_manifest(void)
{
    size_t n;
    char *t = test_read_file(test_fixture("report/run/gqla_run.json"), &n);
    if (!t) printf("cannot read fixture report/run/gqla_run.json\n");
    return t;
}

/* DIR/gqla_run.json := text; returns the dir (static buffer of test_tmpdir). */
static const char *dir_with(const char *name, const char *text)
{
    static char dir[4096];
    snprintf(dir, sizeof dir, "%s", test_tmpdir(name));
    char path[4200];
    snprintf(path, sizeof path, "%s/gqla_run.json", dir);
    if (text) test_write_file(path, text, strlen(text));
    return dir;
}

static char *read_in(const char *dir, const char *name, size_t *n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return test_read_file(path, n);
}

static int run_report(const char *dir, char **out)
{
    char args[4400];
    snprintf(args, sizeof args, "report '%s'", dir);
    int rc = test_run_cli(args, out);
    printf("--- gqla-eval %s (exit %d)\n%s", args, rc, *out ? *out : "");
    return rc;
}

/* Replace the first occurrence of `from` by `to` (heap result). */
static char *replace(const char *text, const char *from, const char *to)
{
    const char *p = strstr(text, from);
    if (!p) {
        printf("  fixture edit: '%s' not found\n", from);
        return NULL;
    }
    size_t n = strlen(text) - strlen(from) + strlen(to);
    char *s = malloc(n + 1);
    if (!s) return NULL;
    size_t head = (size_t)(p - text);
    memcpy(s, text, head);
    strcpy(s + head, to);
    strcat(s, p + strlen(from));
    return s;
}

// ---- tables and rebuild ---------------------------------------------------------------------

static void test_tables(const char *manifest)
{
    const char *dir = dir_with("report-run", manifest);
    char *out = NULL;
    test_cond("report DIR exits 0", run_report(dir, &out) == 0);
    free(out);
    size_t got_n = 0, want_n = 0;
    char *got = read_in(dir, "report.md", &got_n);
    char *want = test_read_file(test_fixture("report/expected_report.md"), &want_n);
    int same = got && want && got_n == want_n && memcmp(got, want, got_n) == 0;
    if (!same && got && want) {
        size_t i = 0;
        while (i < got_n && i < want_n && got[i] == want[i]) i++;
        size_t from = i > 80 ? i - 80 : 0;
        printf("  report.md differs at byte %zu:\n  got : %.160s\n  want: %.160s\n", i, got + from, want + from);
    }
    test_cond("report.md equals the hand-written expected_report.md", same);

    static const char *names[] = {"report.md", "report.tex", "report.csv", "report.html"};
    char *first[4];
    size_t first_n[4];
    for (int i = 0; i < 4; i++) first[i] = read_in(dir, names[i], &first_n[i]);
    test_cond("all four report files written", first[0] && first[1] && first[2] && first[3]);
    out = NULL;
    test_cond("second report run exits 0", run_report(dir, &out) == 0);
    free(out);
    for (int i = 0; i < 4; i++) {
        size_t n = 0;
        char *again = read_in(dir, names[i], &n);
        char what[96];
        snprintf(what, sizeof what, "%s rebuilt byte-identical from the manifest", names[i]);
        test_cond(what, again && first[i] && n == first_n[i] && memcmp(again, first[i], n) == 0);
        free(again);
    }

    /* In process: the same manifest renders the same bytes twice. */
    gq_manifest *m = NULL;
    gq_error err = {0};
    test_cond("gq_manifest_parse accepts the fixture",
              gq_manifest_parse(&m, manifest, strlen(manifest), "fixture", &err) == GQ_OK);
    gq_report_texts a, b;
    if (m && gq_report_render_all(m, &a, &err) == GQ_OK) {
        test_cond("in-process render equals the written report.md",
                  first[0] && a.md_len == first_n[0] && !memcmp(a.md, first[0], a.md_len));
        if (gq_report_render_all(m, &b, &err) == GQ_OK) {
            test_cond("rendering twice gives the same html", a.html_len == b.html_len && !memcmp(a.html, b.html, a.html_len));
            gq_report_texts_free(&b);
        }
        gq_report_texts_free(&a);
    } else {
        test_cond("gq_report_render_all on the fixture", 0);
    }
    gq_manifest_free(m);

    const char *tex = first[1];
    test_cond("tex: booktabs rules, one set per table",
              test_count(tex, "\\toprule") == 3 && test_count(tex, "\\midrule") == 3 &&
                  test_count(tex, "\\bottomrule") == 3);
    test_cond("tex: converted row with Δ and escaped middle dot",
              test_has(tex, "converted $\\cdot$ GQA & 46.08 (-1.42) & 28.00 (-2.00) & 48.50 (-1.50)"));
    test_cond("tex: missing cell is --, '_' and '|' escaped",
              test_has(tex, "& -- & 33.40 (-1.60)") && test_has(tex, "(a\\textbar{}b\\_c)") && test_has(tex, "q4\\_1"));
    test_cond("tex: '%' escaped in the caption", test_has(tex, "\\caption{Benchmark scores (\\%)}"));

    const char *csv = first[2];
    int crlf_only = csv != NULL;
    for (size_t i = 0; csv && i < first_n[2]; i++)
        if (csv[i] == '\n' && (i == 0 || csv[i - 1] != '\r')) crlf_only = 0;
    test_cond("csv: every line ends in CRLF", crlf_only);
    test_cond("csv: a field with commas is quoted",
              test_has(csv, "info,Note,\"hand-written fixture: made-up numbers, not a real run (a|b_c)\"\r\n"));
    test_cond("csv: Δ kept in its own column, missing value empty",
              test_has(csv, "paper,converted \xc2\xb7 absorb,46.58,,28.00,-2.00,48.50,-1.50,69.00,-1.00,,,33.40,-1.60,54.00,-1.00\r\n"));
    test_cond("csv: consistency and kvcache blocks",
              test_has(csv, "consistency,converted \xc2\xb7 GQA vs converted \xc2\xb7 absorb,piqa,400,2.50e-04,1.00e-05,99.00,1.00,0.00,3/1\r\n") &&
                  test_has(csv, "kvcache,converted \xc2\xb7 absorb,160,30,9600,41.67%\r\n"));
    /* RFC 4180 field count: the same within each block (blocks end at an empty line). */
    int fields_ok = csv != NULL, block_fields = -1, fields = 1, in_quotes = 0, blocks = 0;
    for (const char *p = csv; p && *p; p++) {
        if (in_quotes) {
            if (*p == '"' && p[1] == '"') p++;
            else if (*p == '"') in_quotes = 0;
        } else if (*p == '"') {
            in_quotes = 1;
        } else if (*p == ',') {
            fields++;
        } else if (*p == '\r' && p[1] == '\n') {
            if (p > csv && p[-1] == '\n') {
                block_fields = -1;   /* empty line: next block */
            } else {
                if (block_fields < 0) block_fields = fields, blocks++;
                else if (fields != block_fields) fields_ok = 0;
            }
            fields = 1;
            p++;
        }
    }
    test_cond("csv: 4 blocks (info + 3 tables), each with a constant field count", fields_ok && blocks == 4 && !in_quotes);

    /* HTML: balanced tags (void elements and self-closed SVG aside), no script, nothing external. */
    const char *html = first[3];
    static const char *voids[] = {"meta", "br", "line", "!DOCTYPE"};
    char stack[64][16];
    int depth = 0, balanced = html != NULL;
    for (const char *p = html; p && (p = strchr(p, '<')) != NULL && balanced; p++) {
        const char *end = strchr(p, '>');
        if (!end) {
            balanced = 0;
            break;
        }
        int closing = p[1] == '/', self = end[-1] == '/';
        char name[16] = "";
        const char *q = p + 1 + closing;
        size_t k = 0;
        while (q < end && *q != ' ' && *q != '/' && k < sizeof name - 1) name[k++] = *q++;
        name[k] = '\0';
        int is_void = 0;
        for (size_t v = 0; v < sizeof voids / sizeof voids[0]; v++) is_void |= !strcmp(name, voids[v]);
        if (closing) {
            if (depth == 0 || strcmp(stack[depth - 1], name)) {
                printf("  html: </%s> does not close <%s>\n", name, depth ? stack[depth - 1] : "(nothing)");
                balanced = 0;
            } else {
                depth--;
            }
        } else if (!self && !is_void) {
            if (depth == 64) balanced = 0;
            else snprintf(stack[depth++], sizeof stack[0], "%s", name);
        }
        p = end;
    }
    test_cond("html: every element closed in order", balanced && depth == 0);
    test_cond("html: doctype, charset, three tables, two SVG charts",
              test_has(html, "<!DOCTYPE html>") && test_has(html, "<meta charset=\"utf-8\">") && test_has(html, "<table id=\"paper\">") &&
                  test_has(html, "<table id=\"consistency\">") && test_has(html, "<table id=\"kvcache\">") &&
                  test_has(html, "<svg id=\"chart-scores\"") && test_has(html, "<svg id=\"chart-kvcache\""));
    test_cond("html: no script, no external resource",
              !strstr(html, "<script") && !strstr(html, "src=") && !strstr(html, "href=") && !strstr(html, "@import"));
    test_cond("html: '|' note text and '&' escaping intact", test_has(html, "(a|b_c)"));
    for (int i = 0; i < 4; i++) free(first[i]);
    free(got);
    free(want);
}

static void test_arc_split(const char *manifest)
{
    char *text = replace(manifest, "\"arc_split\": false", "\"arc_split\": true");
    const char *dir = dir_with("report-arc-split", text);
    char *out = NULL;
    test_cond("report with arc_split exits 0", text && run_report(dir, &out) == 0);
    free(out);
    char *md = read_in(dir, "report.md", NULL);
    test_cond("arc_split: ARC-e and ARC-c columns",
              test_has(md, "| Model | Avg | MMLU | ARC-e | ARC-c | PIQA | HS | OBQA | WG |"));
    /* Hand: original (30+60+40+70+45+35+55)/7 = 47.857; GQA (28+58+39+69+44+33+54)/7 = 46.429, Δ -10/7. */
    test_cond("arc_split: original row, Avg over 7 columns",
              test_has(md, "| original | 47.86 | 30.00 | 60.00 | 40.00 | 70.00 | 45.00 | 35.00 | 55.00 |"));
    test_cond("arc_split: converted row with Δ per ARC subset",
              test_has(md, "| converted \xc2\xb7 GQA | 46.43 (-1.43) | 28.00 (-2.00) | 58.00 (-2.00) | 39.00 (-1.00) |"));
    test_cond("arc_split: no ARC-mean note", md && !strstr(md, "arc:\\_average"));
    free(md);
    free(text);

    /* One ARC subset only: ARC is that subset, and the table says so. */
    text = replace(manifest, "\"arc_challenge\": {\"acc\": 0.37, \"acc_stderr\": 0.03, \"acc_norm\": 0.39",
                   "\"arc_challenge_not_run\": {\"acc\": 0.37, \"acc_stderr\": 0.03, \"acc_norm\": 0.39");
    dir = dir_with("report-arc-one", text);
    out = NULL;
    test_cond("report with one ARC subset exits 0", text && run_report(dir, &out) == 0);
    free(out);
    md = read_in(dir, "report.md", NULL);
    /* Hand: ARC = 58.00 vs the original's mean 50.00; Avg (28+58+69+44+33+54)/6 = 47.667, Δ +0.17. */
    test_cond("one ARC subset: converted GQA ARC = arc_easy acc_norm alone",
              test_has(md, "| converted \xc2\xb7 GQA | 47.67 (+0.17) | 28.00 (-2.00) | 58.00 (+8.00) |"));
    test_cond("one ARC subset: the note names it",
              test_has(md, "converted \xc2\xb7 GQA: ARC is arc\\_easy alone (arc\\_challenge was not run)."));
    free(md);
    free(text);
}

// ---- errors -------------------------------------------------------------------------------------

static void expect_error(const char *name, const char *text, const char *needle)
{
    const char *dir = dir_with(name, text);
    char old_path[4200];
    snprintf(old_path, sizeof old_path, "%s/report.md", dir);
    test_write_file(old_path, "old\n", 4);
    char *out = NULL;
    int rc = run_report(dir, &out);
    char what[256];
    snprintf(what, sizeof what, "%s: exit 2, message names gqla_run.json and '%s'", name, needle);
    test_cond(what, rc == 2 && test_has(out, "gqla_run.json") && test_has(out, needle));
    size_t n = 0;
    char *md = read_in(dir, "report.md", &n);
    snprintf(what, sizeof what, "%s: report.md left as it was, no other report file", name);
    char *html = read_in(dir, "report.html", NULL);
    test_cond(what, md && n == 4 && !memcmp(md, "old\n", 4) && !html);
    free(md);
    free(html);
    free(out);
}

static void test_errors(const char *manifest)
{
    expect_error("report-missing", NULL, "no such file");
    expect_error("report-badjson", "{\n  \"format\": \"gqla-run\",\n  \"version\": 1,,\n}\n", "line 3");
    char *t;
    if ((t = replace(manifest, "\"format\": \"gqla-run\"", "\"format\": \"lm-eval\""))) {
        expect_error("report-format", t, "key format");
        free(t);
    }
    if ((t = replace(manifest, "\"version\": 1", "\"version\": 2"))) {
        expect_error("report-version", t, "key version");
        free(t);
    }
    if ((t = replace(manifest, "\"runs\": [", "\"runz\": ["))) {
        expect_error("report-no-runs", t, "key runs: expected an array, got nothing");
        free(t);
    }
    if ((t = replace(manifest, "\"piqa\": {\"acc\": 0.67", "\"piqa\": {\"acc\": \"0.67\""))) {
        expect_error("report-acc-string", t, "key runs[1].tasks.piqa.acc: expected a number in [0, 1] or null, got a string");
        free(t);
    }
    if ((t = replace(manifest, "\"acc_norm\": 0.70", "\"acc_norm\": 70.0"))) {
        expect_error("report-acc-percent", t, "key runs[0].tasks.piqa.acc_norm: expected a number in [0, 1] or null, got 70");
        free(t);
    }
    if ((t = replace(manifest, "\"elements_per_token_per_layer\": 416", "\"elements_per_token_per_layer\": -416"))) {
        expect_error("report-kv-negative", t, "key runs[1].kv_cache.elements_per_token_per_layer");
        free(t);
    }
    if ((t = replace(manifest, "{\"id\": \"converted_gqa\", \"model\": \"converted\"", "{\"id\": \"converted_gqa\""))) {
        expect_error("report-no-model", t, "key runs[1].model: expected a string, got nothing (missing)");
        free(t);
    }
    if ((t = replace(manifest, "{\"a\": \"converted_gqa\"", "{\"a\": \"converted_gqq\""))) {
        expect_error("report-pair-unknown", t, "key consistency[0].a: \"converted_gqq\" is not the id of a run");
        free(t);
    }
    if ((t = replace(manifest, "\"id\": \"converted_absorb\"", "\"id\": \"converted_gqa\""))) {
        expect_error("report-dup-id", t, "key runs[2].id");
        free(t);
    }
    if ((t = replace(manifest, "\"max_abs_dll\": 2.5e-4", "\"max_abs_dll\": [2.5e-4]"))) {
        expect_error("report-dll-array", t, "key consistency[0].tasks.piqa.max_abs_dll");
        free(t);
    }
    char *out = NULL;
    test_cond("report without DIR: usage error, exit 2",
              test_run_cli("report", &out) == 2 && test_has(out, "missing DIR"));
    free(out);
    out = NULL;
    test_cond("report --help exits 0 and names the formats", test_run_cli("report --help", &out) == 0 &&
                                                                 test_has(out, "report.tex") && test_has(out, "--max-drop"));
    free(out);
}

static void test_minimal(void)
{
    const char *text = "{\"format\": \"gqla-run\", \"version\": 1, \"runs\": [{\"id\": \"original\", \"model\": "
                       "\"original\", \"path\": \"native\", \"tasks\": {\"piqa\": {\"acc\": 0.5, \"acc_norm\": 0.25}}}]}";
    const char *dir = dir_with("report-minimal", text);
    char *out = NULL;
    test_cond("minimal manifest: exit 0", run_report(dir, &out) == 0);
    free(out);
    char *md = read_in(dir, "report.md", NULL);
    test_cond("minimal: Avg = PIQA acc_norm, other columns –",
              test_has(md, "| original | 25.00 | \xe2\x80\x93 | \xe2\x80\x93 | 25.00 | \xe2\x80\x93 | \xe2\x80\x93 | \xe2\x80\x93 |"));
    test_cond("minimal: unknown header values and empty tables said so",
              test_has(md, "- **Wall time:** unknown") && test_has(md, "- **Limit:** none (full splits)") &&
                  test_has(md, "nothing to compare") && test_count(md, "(no rows)") == 2);
    free(md);
}

// ---- allocation failures --------------------------------------------------------------------

/* One pass: parse + render everything; exit 0 on success, 3 on a clean
 * GQ_ERR_NOMEM, 1 on anything else. */
static int torture_once(void)
{
    char *manifest = fixture_manifest();
    if (!manifest) return 1;
    gq_manifest *m = NULL;
    gq_error err = {0};
    gq_report_texts texts;
    int rc = gq_manifest_parse(&m, manifest, strlen(manifest), "fixture", &err);
    if (rc == GQ_OK) {
        rc = gq_report_render_all(m, &texts, &err);
        if (rc == GQ_OK) gq_report_texts_free(&texts);
    }
    if (rc == GQ_OK) {
        gq_junit_case cases[2] = {{"s", "c", "a", 0.0, NULL}, {"s", "c", "b", 0.0, "x > y"}};
        char *xml = NULL;
        rc = gq_junit_render("t", cases, 2, &xml, NULL, &err);
        gq_free(xml);
    }
    gq_manifest_free(m);
    free(manifest);
    if (rc == GQ_OK) return 0;
    if (rc == GQ_ERR_NOMEM) return 3;
    printf("unexpected status %d: %s\n", rc, err.msg);
    return 1;
}

static int torture(const char *self)
{
    for (int n = 1; n < 100000; n++) {
        char cmd[4400];
        snprintf(cmd, sizeof cmd, "GQ_FAIL_ALLOC=%d '%s' --once", n, self);
        int st = system(cmd);
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        if (code == 0) {
            printf("torture: %d injected failures, each GQ_ERR_NOMEM\n", n - 1);
            return test_cond("every allocation failure was reported cleanly", n > 10), test_report("test_report --torture");
        }
        if (code != 3) {
            printf("torture: allocation %d: exit %d\n", n, code);
            test_cond("allocation failure handled", 0);
            return test_report("test_report --torture");
        }
    }
    return 1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--once")) return torture_once();
    if (argc > 1 && !strcmp(argv[1], "--torture")) return torture(argv[0]);
    char *manifest = fixture_manifest();
    if (!manifest) return 1;
    test_tables(manifest);
    test_arc_split(manifest);
    test_errors(manifest);
    test_minimal();
    free(manifest);
    return test_report("test_report");
}
