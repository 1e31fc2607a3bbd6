/* unicase.c — Python's str.capitalize() over UTF-8, for HellaSwag's
 * `ctx_b.capitalize()` (tasks.md §3.4).
 *
 * CPython 3.8+ capitalize: the first code point goes to its full title-case
 * mapping (U+00DF "ß" -> "Ss", U+01C6 "ǆ" -> "ǅ"), every other code point to
 * its full lower-case mapping (U+0130 "İ" -> "i̇", two code points), and a
 * capital sigma U+03A3 becomes final sigma U+03C2 when it ends a word
 * (CPython's handle_capital_sigma: a cased letter before it, skipping
 * case-ignorables, and no cased letter after it, skipping case-ignorables;
 * the context is the original string, first code point included).
 *
 * The tables (unicase_table.h) are generated from CPython 3.11's own str
 * methods by tests/reference/make_unicase_table.py and cover every code
 * point (Unicode 14.0).  Limits: a harness running on a Python with a newer
 * Unicode database could map a handful of recently added letters
 * differently; malformed UTF-8 bytes pass through unchanged.
 */
#include <stddef.h>
#include <string.h>

#include "gq_alloc.h"
#include "task_internal.h"

typedef struct { uint32_t cp; int n; uint32_t map[3]; } gq_case_map;
typedef struct { uint32_t lo, hi; } gq_case_range;

#include "unicase_table.h"

static const gq_case_map *map_find(const gq_case_map *t, size_t n, uint32_t c)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t[mid].cp == c)
            return &t[mid];
        if (t[mid].cp < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int in_ranges(const gq_case_range *t, size_t n, uint32_t c)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c < t[mid].lo)
            hi = mid;
        else if (c > t[mid].hi)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static int is_cased(uint32_t c) { return in_ranges(gq_cased_ranges, N_OF(gq_cased_ranges), c); }
static int is_ignorable(uint32_t c) { return in_ranges(gq_ignorable_ranges, N_OF(gq_ignorable_ranges), c); }

static int add_mapped(gq_sbuf *out, const gq_case_map *m, uint32_t c, gq_error *err)
{
    if (!m)
        return gq_sbuf_addcp(out, c, err);
    for (int i = 0; i < m->n; i++) {
        int rc = gq_sbuf_addcp(out, m->map[i], err);
        if (rc != GQ_OK)
            return rc;
    }
    return GQ_OK;
}

/* CPython's Final_Sigma test for the sigma at cps[i]. */
static int final_sigma(const uint32_t *cps, size_t n, size_t i)
{
    size_t j = i;
    while (j > 0 && is_ignorable(cps[j - 1]))
        j--;
    if (j == 0 || !is_cased(cps[j - 1]))
        return 0;
    for (j = i + 1; j < n; j++)
        if (!is_ignorable(cps[j]))
            break;
    return j == n || !is_cased(cps[j]);
}

int gq_py_capitalize(const char *s, gq_sbuf *out, gq_error *err)
{
    size_t len = strlen(s), n = 0;
    int rc = GQ_OK;
    /* decode once: the sigma rule looks both ways */
    uint32_t *cps = gq_calloc(len ? len : 1, sizeof *cps, "code points", err);
    size_t *bytes = gq_calloc(len ? len : 1, sizeof *bytes, "code point sizes", err);
    if (!cps || !bytes) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < len;) {
        size_t l;
        cps[n] = gq_task_utf8_decode(s + i, len - i, &l);
        bytes[n++] = l;
        i += l;
    }
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = cps[i];
        if (bytes[i] == 1 && c >= 0x80) {
            rc = gq_sbuf_addn(out, s + off, 1, err); /* malformed byte: keep it */
        } else if (i == 0) {
            rc = add_mapped(out, map_find(gq_title_map, N_OF(gq_title_map), c), c, err);
        } else if (c == 0x3A3) {
            rc = gq_sbuf_addcp(out, final_sigma(cps, n, i) ? 0x3C2 : 0x3C3, err);
        } else {
            rc = add_mapped(out, map_find(gq_lower_map, N_OF(gq_lower_map), c), c, err);
        }
        if (rc != GQ_OK)
            goto done;
        off += bytes[i];
    }
    if (n == 0)
        rc = gq_sbuf_addn(out, "", 0, err);
done:
    gq_free(cps);
    gq_free(bytes);
    return rc;
}
