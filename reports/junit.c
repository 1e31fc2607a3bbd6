/* junit.c — JUnit XML for the gate and `compare` (report.h): the layout CI
 * systems read (Jenkins, GitLab, GitHub test reporters):
 *   <testsuites name tests failures>
 *     <testsuite name tests failures errors="0" skipped="0">
 *       <testcase classname name time> [<failure message="..."/>]
 * Attribute text is XML-escaped (& < > " ' and control characters). */
#include <string.h>

#include "fileio.h"
#include "gq_alloc.h"
#include "report.h"
#include "results.h"
#include "textbuf.h"

static void xml_attr(gq_textbuf *b, const char *s)
{
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        switch (ch) {
        case '&': gq_textbuf_put(b, "&amp;"); break;
        case '<': gq_textbuf_put(b, "&lt;"); break;
        case '>': gq_textbuf_put(b, "&gt;"); break;
        case '"': gq_textbuf_put(b, "&quot;"); break;
        case '\'': gq_textbuf_put(b, "&apos;"); break;
        case '\n': gq_textbuf_put(b, "&#10;"); break;
        case '\t': gq_textbuf_put(b, "&#9;"); break;
        default:
            /* Other control characters are not allowed in XML 1.0 at all. */
            if (ch < 0x20) gq_textbuf_put(b, "?");
            else gq_textbuf_putn(b, s, 1);
        }
    }
}

int gq_junit_render(const char *name, const gq_junit_case *cases, size_t n, char **out, size_t *len,
                    gq_error *err)
{
    gq_textbuf b;
    gq_textbuf_init(&b);
    size_t failures = 0;
    for (size_t i = 0; i < n; i++) failures += cases[i].failure != NULL;
    gq_textbuf_put(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"");
    xml_attr(&b, name);
    gq_textbuf_printf(&b, "\" tests=\"%zu\" failures=\"%zu\">\n", n, failures);
    for (size_t i = 0; i < n;) {
        size_t j = i, suite_fail = 0;
        while (j < n && !strcmp(cases[j].suite, cases[i].suite)) suite_fail += cases[j++].failure != NULL;
        gq_textbuf_put(&b, "  <testsuite name=\"");
        xml_attr(&b, cases[i].suite);
        gq_textbuf_printf(&b, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\">\n", j - i, suite_fail);
        for (size_t k = i; k < j; k++) {
            gq_textbuf_put(&b, "    <testcase classname=\"");
            xml_attr(&b, cases[k].classname);
            gq_textbuf_put(&b, "\" name=\"");
            xml_attr(&b, cases[k].name);
            gq_textbuf_printf(&b, "\" time=\"%.3f\"", cases[k].seconds);
            if (cases[k].failure) {
                gq_textbuf_put(&b, ">\n      <failure message=\"");
                xml_attr(&b, cases[k].failure);
                gq_textbuf_put(&b, "\"/>\n    </testcase>\n");
            } else {
                gq_textbuf_put(&b, "/>\n");
            }
        }
        gq_textbuf_put(&b, "  </testsuite>\n");
        i = j;
    }
    gq_textbuf_put(&b, "</testsuites>\n");
    return gq_textbuf_finish(&b, out, len, err);
}

int gq_junit_write(const char *path, const char *name, const gq_junit_case *cases, size_t n, gq_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = gq_junit_render(name, cases, n, &text, &len, err);
    if (rc == GQ_OK) rc = gq_report_write_file(path, text, len, err);
    gq_free(text);
    return rc;
}
