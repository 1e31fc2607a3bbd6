/* test_report_html.c — report.html rendered by headless Chromium
 * (`chromium --headless --dump-dom`): the DOM the browser built must hold
 * the three tables with their numbers and both inline SVG charts with one
 * bar per value (fixture: 3 runs x 7 paper columns minus absorb's missing
 * HellaSwag = 20 score bars; 4 KV-cache bars).  Exit 77 (skipped) only when
 * no chromium is installed (scripts/install-deps.sh installs it). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* The text from the element that contains `start` to its `end` tag. */
static char *section(const char *dom, const char *start, const char *end)
{
    const char *a = dom ? strstr(dom, start) : NULL;
    const char *b = a ? strstr(a, end) : NULL;
    if (!b) return NULL;
    size_t n = (size_t)(b - a) + strlen(end);
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, a, n);
        s[n] = '\0';
    }
    return s;
}

static const char *find_chromium(void)
{
    static const char *names[] = {"chromium", "chromium-browser", "google-chrome"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", names[i]);
        if (system(cmd) == 0) return names[i];
    }
    return NULL;
}

int main(void)
{
    const char *browser = find_chromium();
    if (!browser) {
        printf("no chromium on PATH: skipped (scripts/install-deps.sh installs it)\n");
        return GQ_TEST_SKIP;
    }
    char dir[4096], path[4200], args[8400];
    snprintf(dir, sizeof dir, "%s", test_tmpdir("report-html"));
    size_t n;
    char *manifest = test_read_file(test_fixture("report/run/gqla_run.json"), &n);
    snprintf(path, sizeof path, "%s/gqla_run.json", dir);
    if (!manifest || test_write_file(path, manifest, n)) {
        printf("cannot set up %s\n", path);
        return 1;
    }
    free(manifest);
    snprintf(args, sizeof args, "report -q '%s'", dir);
    char *out = NULL;
    test_cond("report exits 0", test_run_cli(args, &out) == 0);
    free(out);

    char cmd[16384];
    snprintf(cmd, sizeof cmd,
             "timeout 120 %s --headless --no-sandbox --disable-gpu --user-data-dir='%s/profile' "
             "--dump-dom 'file://%s/report.html' 2>/dev/null",
             browser, dir, dir);
    FILE *p = popen(cmd, "r");
    size_t cap = 1 << 16, len = 0, got;
    char *dom = malloc(cap);
    while (p && dom && (got = fread(dom + len, 1, cap - len - 1, p)) > 0) {
        len += got;
        if (len + 1 >= cap) {
            char *nd = realloc(dom, cap * 2);
            if (!nd) break;
            dom = nd;
            cap *= 2;
        }
    }
    if (dom) dom[len] = '\0';
    int st = p ? pclose(p) : -1;
    test_cond("chromium dumped the DOM", st == 0 && len > 1000);

    char *paper = section(dom, "<table id=\"paper\">", "</table>");
    char *cons = section(dom, "<table id=\"consistency\">", "</table>");
    char *kv = section(dom, "<table id=\"kvcache\">", "</table>");
    test_cond("DOM has the three tables", paper && cons && kv);
    test_cond("paper table: 3 body rows, Avg and Δ of converted GQA",
              test_count(paper, "<tr>") == 4 && test_has(paper, "<td>converted \xc2\xb7 GQA</td><td class=\"num\">46.08 <span class=\"delta\">(-1.42)</span></td>"));
    test_cond("consistency table: 3 rows, piqa agreement 99.00",
              test_count(cons, "<tr>") == 4 && test_has(cons, "99.00"));
    test_cond("kvcache table: 4 rows, absorb 41.67%", test_count(kv, "<tr>") == 5 && test_has(kv, "41.67%"));

    char *scores = section(dom, "<svg id=\"chart-scores\"", "</svg>");
    char *kvchart = section(dom, "<svg id=\"chart-kvcache\"", "</svg>");
    test_cond("DOM has both SVG charts", scores && kvchart);
    test_cond("score chart: 20 bars (21 values less absorb's HellaSwag), 3 legend entries",
              test_count(scores, "class=\"bar\"") == 20 && test_has(scores, "converted \xc2\xb7 absorb, OBQA: 33.40%"));
    test_cond("KV chart: 4 bars, the GQA k_pe-per-group one 28800 bytes",
              test_count(kvchart, "class=\"bar\"") == 4 && test_has(kvchart, "28800 B"));
    test_cond("no script made it into the DOM", dom && !strstr(dom, "<script"));
    free(paper);
    free(cons);
    free(kv);
    free(scores);
    free(kvchart);
    free(dom);
    return test_report("test_report_html");
}
