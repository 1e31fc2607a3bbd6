/* pyjson.c — Python json.dumps formatting (see pyjson.h).
 *
 * Float repr: the shortest-digits search runs printf's correctly rounded
 * "%.*e" for 1..17 significant digits and keeps the first that strtod reads
 * back to the same double.  At a power of two the rounding interval is
 * lopsided, so a p-digit neighbour of the correctly rounded string can read
 * back when the string itself does not; the neighbours are tried too, which
 * is what makes the result equal to David Gay's shortest mode (Python's
 * repr).  Checked against Python on random bit patterns and every power of
 * two in tests/test_reports.c.
 */
#include "pyjson.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gq_alloc.h"

// ---- buffer -----------------------------------------------------------------

static int gq_pyjson_ok(const gq_pyjson *w) { return w->err.status == GQ_OK; }

static void gq_pyjson_put(gq_pyjson *w, const char *s, size_t n)
{
    if (gq_pyjson_ok(w)) gq_sbuf_addn(&w->out, s, n, &w->err);
}

static void gq_pyjson_puts(gq_pyjson *w, const char *s) { gq_pyjson_put(w, s, strlen(s)); }

static void gq_pyjson_newline(gq_pyjson *w)
{
    static const char spaces[] = "                                ";   /* 32 */
    gq_pyjson_put(w, "\n", 1);
    size_t n = (size_t)w->indent * (size_t)w->depth;
    while (n > 0 && gq_pyjson_ok(w)) {
        size_t k = n < 32 ? n : 32;
        gq_pyjson_put(w, spaces, k);
        n -= k;
    }
}

void gq_pyjson_init(gq_pyjson *w, int indent)
{
    memset(w, 0, sizeof *w);
    w->indent = indent;
    w->err.status = GQ_OK;
}

void gq_pyjson_free(gq_pyjson *w)
{
    int indent = w->indent;
    gq_sbuf_free(&w->out);
    gq_pyjson_init(w, indent);
}

int gq_pyjson_finish(gq_pyjson *w, char **out, size_t *len, gq_error *err)
{
    *out = NULL;
    *len = 0;
    if (gq_pyjson_ok(w) && w->depth != 0)
        gq_error_set(&w->err, GQ_ERR_INVALID, "JSON text: %d container(s) left open", w->depth);
    if (gq_pyjson_ok(w) && w->out.n == 0)
        gq_error_set(&w->err, GQ_ERR_INVALID, "JSON text: nothing was written");
    if (!gq_pyjson_ok(w)) {
        int st = gq_error_set(err, w->err.status, "%s", w->err.msg);
        gq_pyjson_free(w);
        return st;
    }
    *len = w->out.n;
    *out = gq_sbuf_take(&w->out, err); /* never NULL: something was written */
    gq_pyjson_free(w);
    return GQ_OK;
}

/* Before any value or key: the separator and indentation Python writes. */
static void gq_pyjson_item(gq_pyjson *w, int is_key)
{
    if (!gq_pyjson_ok(w)) return;
    if (w->after_key) {
        if (is_key) {
            gq_error_set(&w->err, GQ_ERR_INVALID, "JSON text: key after key");
            return;
        }
        w->after_key = 0;
        return;
    }
    if (w->depth == 0) {
        if (w->out.n > 0) gq_error_set(&w->err, GQ_ERR_INVALID, "JSON text: second top-level value");
        else if (is_key) gq_error_set(&w->err, GQ_ERR_INVALID, "JSON text: key outside an object");
        return;
    }
    int d = w->depth - 1;
    if (w->is_object[d] != (is_key != 0)) {
        gq_error_set(&w->err, GQ_ERR_INVALID, is_key ? "JSON text: key inside an array"
                                                     : "JSON text: object value without a key");
        return;
    }
    if (w->has_items[d]) gq_pyjson_puts(w, w->indent >= 0 ? "," : ", ");
    if (w->indent >= 0) gq_pyjson_newline(w);
    w->has_items[d] = 1;
}

static void gq_pyjson_open(gq_pyjson *w, int is_object)
{
    gq_pyjson_item(w, 0);
    if (!gq_pyjson_ok(w)) return;
    if (w->depth >= GQ_PYJSON_MAX_DEPTH) {
        gq_error_set(&w->err, GQ_ERR_INVALID, "JSON text: nested deeper than %d", GQ_PYJSON_MAX_DEPTH);
        return;
    }
    gq_pyjson_puts(w, is_object ? "{" : "[");
    w->is_object[w->depth] = (unsigned char)is_object;
    w->has_items[w->depth] = 0;
    w->depth++;
}

static void gq_pyjson_close(gq_pyjson *w, int is_object)
{
    if (!gq_pyjson_ok(w)) return;
    if (w->depth == 0 || w->is_object[w->depth - 1] != is_object || w->after_key) {
        gq_error_set(&w->err, GQ_ERR_INVALID, "JSON text: unbalanced %s", is_object ? "}" : "]");
        return;
    }
    int had = w->has_items[w->depth - 1];
    w->depth--;
    if (had && w->indent >= 0) gq_pyjson_newline(w);
    gq_pyjson_puts(w, is_object ? "}" : "]");
}

void gq_pyjson_begin_object(gq_pyjson *w) { gq_pyjson_open(w, 1); }
void gq_pyjson_end_object(gq_pyjson *w) { gq_pyjson_close(w, 1); }
void gq_pyjson_begin_array(gq_pyjson *w) { gq_pyjson_open(w, 0); }
void gq_pyjson_end_array(gq_pyjson *w) { gq_pyjson_close(w, 0); }

// ---- strings ----------------------------------------------------------------

static void gq_pyjson_quoted(gq_pyjson *w, const char *s, size_t n)
{
    gq_pyjson_put(w, "\"", 1);
    size_t run = 0;   /* start of the pending run of bytes copied raw */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char ubuf[8];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (c < 0x20) {
                snprintf(ubuf, sizeof ubuf, "\\u%04x", c);
                esc = ubuf;
            }
        }
        if (esc) {
            gq_pyjson_put(w, s + run, i - run);
            gq_pyjson_puts(w, esc);
            run = i + 1;
        }
    }
    gq_pyjson_put(w, s + run, n - run);
    gq_pyjson_put(w, "\"", 1);
}

void gq_pyjson_key(gq_pyjson *w, const char *key)
{
    gq_pyjson_item(w, 1);
    if (!gq_pyjson_ok(w)) return;
    if (!key) {
        gq_error_set(&w->err, GQ_ERR_INVALID, "JSON text: NULL key");
        return;
    }
    gq_pyjson_quoted(w, key, strlen(key));
    gq_pyjson_puts(w, ": ");
    w->after_key = 1;
}

void gq_pyjson_string_n(gq_pyjson *w, const char *s, size_t n)
{
    gq_pyjson_item(w, 0);
    if (!gq_pyjson_ok(w)) return;
    gq_pyjson_quoted(w, s, n);
}

void gq_pyjson_string(gq_pyjson *w, const char *s)
{
    if (!s) {
        gq_pyjson_null(w);
        return;
    }
    gq_pyjson_string_n(w, s, strlen(s));
}

// ---- numbers and constants ---------------------------------------------------

/* Significant digits of "%.*e" text into dig (no point), exponent into *e10. */
static int gq_split_e(const char *txt, char *dig, int *e10)
{
    int n = 0;
    const char *p = txt;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') dig[n++] = *p;
    dig[n] = '\0';
    *e10 = *p == 'e' ? atoi(p + 1) : 0;
    return n;
}

/* Does dig (n digits, first non-zero) x 10^(e10 - n + 1) read back as v? */
static int gq_reads_back(const char *dig, int n, int e10, double v)
{
    char txt[48];
    snprintf(txt, sizeof txt, "%.*se%d", n, dig, e10 - n + 1);
    return strtod(txt, NULL) == v;
}

/* Shortest round-trip digits of v > 0, finite: dig (no trailing zeros),
 * count returned, decimal exponent of the first digit in *e10. */
static int gq_shortest(double v, char dig[24], int *e10)
{
    char txt[48];
    for (int p = 1; p <= 17; p++) {
        snprintf(txt, sizeof txt, "%.*e", p - 1, v);
        int e = 0, n = gq_split_e(txt, dig, &e);
        if (gq_reads_back(dig, n, e, v)) {
            *e10 = e;
            goto strip;
        }
        /* The neighbours one unit in the last place away (see file comment). */
        char up[24], dn[24];
        memcpy(up, dig, (size_t)n + 1);
        memcpy(dn, dig, (size_t)n + 1);
        int i = n - 1, eu = e;
        while (i >= 0 && up[i] == '9') up[i--] = '0';
        if (i >= 0) up[i]++;
        else {                         /* 99..9 + 1 = 100..0, one place up */
            up[0] = '1';
            memset(up + 1, '0', (size_t)n - 1);
            eu = e + 1;
        }
        if (gq_reads_back(up, n, eu, v)) {
            memcpy(dig, up, (size_t)n + 1);
            *e10 = eu;
            goto strip;
        }
        i = n - 1;
        while (i >= 0 && dn[i] == '0') dn[i--] = '9';
        if (i >= 0) dn[i]--;
        if (dn[0] != '0' && gq_reads_back(dn, n, e, v)) {
            memcpy(dig, dn, (size_t)n + 1);
            *e10 = e;
            goto strip;
        }
        continue;
    strip:;
        while (n > 1 && dig[n - 1] == '0') dig[--n] = '\0';
        return n;
    }
    /* %.16e always reads back (17 digits); not reached. */
    snprintf(txt, sizeof txt, "%.16e", v);
    return gq_split_e(txt, dig, e10);
}

int gq_py_float_repr(double v, char out[32])
{
    if (isnan(v)) return snprintf(out, 32, "nan");
    if (isinf(v)) return snprintf(out, 32, v < 0 ? "-inf" : "inf");
    int k = 0;
    if (signbit(v)) {
        out[k++] = '-';
        v = -v;
    }
    if (v == 0.0) return k + snprintf(out + k, 32 - (size_t)k, "0.0");
    char dig[24];
    int e = 0, n = gq_shortest(v, dig, &e);
    if (e < -4 || e >= 16) {
        out[k++] = dig[0];
        if (n > 1) {
            out[k++] = '.';
            memcpy(out + k, dig + 1, (size_t)n - 1);
            k += n - 1;
        }
        k += snprintf(out + k, 32 - (size_t)k, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
        return k;
    }
    if (e < 0) {                       /* 0.000ddd */
        out[k++] = '0';
        out[k++] = '.';
        for (int i = 0; i < -e - 1; i++) out[k++] = '0';
        memcpy(out + k, dig, (size_t)n);
        k += n;
    } else {                           /* ddd.ddd, zeros padded, ".0" if integral */
        for (int i = 0; i <= e; i++) out[k++] = i < n ? dig[i] : '0';
        out[k++] = '.';
        if (n > e + 1) {
            memcpy(out + k, dig + e + 1, (size_t)(n - e - 1));
            k += n - e - 1;
        } else {
            out[k++] = '0';
        }
    }
    out[k] = '\0';
    return k;
}

void gq_pyjson_double(gq_pyjson *w, double v)
{
    gq_pyjson_item(w, 0);
    if (!gq_pyjson_ok(w)) return;
    if (isnan(v)) gq_pyjson_puts(w, "NaN");
    else if (isinf(v)) gq_pyjson_puts(w, v < 0 ? "-Infinity" : "Infinity");
    else {
        char txt[32];
        int n = gq_py_float_repr(v, txt);
        gq_pyjson_put(w, txt, (size_t)n);
    }
}

void gq_pyjson_int(gq_pyjson *w, int64_t v)
{
    char txt[32];
    gq_pyjson_item(w, 0);
    if (!gq_pyjson_ok(w)) return;
    int n = snprintf(txt, sizeof txt, "%lld", (long long)v);
    gq_pyjson_put(w, txt, (size_t)n);
}

void gq_pyjson_bool(gq_pyjson *w, int v)
{
    gq_pyjson_item(w, 0);
    gq_pyjson_puts(w, v ? "true" : "false");
}

void gq_pyjson_null(gq_pyjson *w)
{
    gq_pyjson_item(w, 0);
    gq_pyjson_puts(w, "null");
}

// ---- cJSON trees ---------------------------------------------------------------

void gq_pyjson_kv_string(gq_pyjson *w, const char *key, const char *s)
{
    gq_pyjson_key(w, key);
    gq_pyjson_string(w, s);
}

void gq_pyjson_kv_double(gq_pyjson *w, const char *key, double v)
{
    gq_pyjson_key(w, key);
    gq_pyjson_double(w, v);
}

void gq_pyjson_kv_int(gq_pyjson *w, const char *key, int64_t v)
{
    gq_pyjson_key(w, key);
    gq_pyjson_int(w, v);
}

void gq_pyjson_kv_bool(gq_pyjson *w, const char *key, int v)
{
    gq_pyjson_key(w, key);
    gq_pyjson_bool(w, v);
}

void gq_pyjson_kv_null(gq_pyjson *w, const char *key)
{
    gq_pyjson_key(w, key);
    gq_pyjson_null(w);
}

void gq_pyjson_cjson(gq_pyjson *w, const cJSON *item)
{
    if (!gq_pyjson_ok(w)) return;
    if (!item) {
        gq_pyjson_null(w);
        return;
    }
    if (cJSON_IsObject(item) || cJSON_IsArray(item)) {
        int obj = cJSON_IsObject(item);
        gq_pyjson_open(w, obj);
        for (const cJSON *c = item->child; c && gq_pyjson_ok(w); c = c->next) {
            if (obj) gq_pyjson_key(w, c->string ? c->string : "");
            gq_pyjson_cjson(w, c);
        }
        gq_pyjson_close(w, obj);
    } else if (cJSON_IsString(item)) {
        gq_pyjson_string(w, item->valuestring ? item->valuestring : "");
    } else if (cJSON_IsNumber(item)) {
        double v = item->valuedouble;
        if (isfinite(v) && floor(v) == v && fabs(v) <= 9007199254740992.0)
            gq_pyjson_int(w, (int64_t)v);
        else
            gq_pyjson_double(w, v);
    } else if (cJSON_IsTrue(item)) {
        gq_pyjson_bool(w, 1);
    } else if (cJSON_IsFalse(item)) {
        gq_pyjson_bool(w, 0);
    } else if (cJSON_IsNull(item)) {
        gq_pyjson_null(w);
    } else if (cJSON_IsRaw(item) && item->valuestring) {
        gq_pyjson_item(w, 0);
        gq_pyjson_puts(w, item->valuestring);
    } else {
        gq_error_set(&w->err, GQ_ERR_INVALID, "JSON text: cJSON node of unknown type %d", item->type);
    }
}
