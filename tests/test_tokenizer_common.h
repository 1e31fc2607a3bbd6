/* test_tokenizer_common.h — shared by test_tokenizer.c and
 * test_tokenizer_gguf.c: reading the gzip fixtures written by
 * tests/reference/make_tokenizer_fixtures.py and comparing a tokenizer
 * against them.  Header-only (static functions) because each test is one
 * source file.
 *
 * Expected-file records, one a line:
 *   L <line> <ids...>   encode(line, add_special=1)
 *   N <line> <ids...>   encode(line, add_special=0)
 *   W <ids...>          encode(whole text, add_special=1)
 *   D <line> <json>     decode(ids of L, skip_special=0)
 *   S <line> <json>     decode(ids of L, skip_special=1)
 */
#ifndef GQ_TEST_TOKENIZER_COMMON_H
#define GQ_TEST_TOKENIZER_COMMON_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "gq_alloc.h"
#include "testutil.h"
#include "tokenizer.h"

/* Whole gzip (or plain) file into a NUL-terminated heap buffer. */
static char *tt_gunzip(const char *path, size_t *n_out)
{
    gzFile f = gzopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    int got;
    while (buf && (got = gzread(f, buf + n, (unsigned)(cap - n - 1))) > 0) {
        n += (size_t)got;
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    gzclose(f);
    if (buf) buf[n] = '\0';
    if (n_out) *n_out = n;
    return buf;
}

/* FILE.gz -> DIR/NAME, a plain file; its path in a static buffer, NULL on
 * failure.  (inline: not every test of the header uses it.) */
static inline const char *tt_gunzip_to(const char *gz, const char *dir, const char *name)
{
    static char path[4096];
    size_t n = 0;
    char *data = tt_gunzip(gz, &n);
    int k = snprintf(path, sizeof path, "%s/%s", dir, name);
    int ok = k > 0 && (size_t)k < sizeof path && data && test_write_file(path, data, n) == 0;
    free(data);
    return ok ? path : NULL;
}

typedef struct {
    char *text; /* the whole text */
    size_t text_len;
    char **line;
    size_t *len;
    size_t n;
} tt_text;

static int tt_load_text(tt_text *t, const char *path)
{
    memset(t, 0, sizeof *t);
    t->text = test_read_file(path, &t->text_len);
    if (!t->text) return -1;
    size_t n = 1;
    for (size_t i = 0; i < t->text_len; i++) n += t->text[i] == '\n';
    t->line = calloc(n, sizeof *t->line);
    t->len = calloc(n, sizeof *t->len);
    if (!t->line || !t->len) return -1;
    size_t start = 0, k = 0;
    for (size_t i = 0; i <= t->text_len; i++) {
        if (i == t->text_len || t->text[i] == '\n') {
            t->line[k] = t->text + start;
            t->len[k] = i - start;
            k++;
            start = i + 1;
        }
    }
    t->n = k;
    return 0;
}

static void tt_free_text(tt_text *t)
{
    free(t->text);
    free(t->line);
    free(t->len);
}

static void tt_print_ids(const char *label, const int32_t *ids, size_t n)
{
    fprintf(stderr, "    %s (%zu):", label, n);
    for (size_t i = 0; i < n && i < 60; i++) fprintf(stderr, " %d", ids[i]);
    if (n > 60) fprintf(stderr, " ...");
    fprintf(stderr, "\n");
}

typedef struct {
    size_t compared, mismatched;   /* encode records */
    size_t dec_compared, dec_mismatched;
} tt_result;

/* Compare tok against the expected file; prints the first few mismatches. */
static int tt_compare(const char *name, const gq_tokenizer *tok, const tt_text *text, const char *expected_path,
                      tt_result *res)
{
    size_t n = 0;
    char *exp = tt_gunzip(expected_path, &n);
    memset(res, 0, sizeof *res);
    if (!exp) {
        fprintf(stderr, "%s: cannot read %s\n", name, expected_path);
        return -1;
    }
    int32_t *want = malloc(sizeof *want * (n / 2 + 16));
    int32_t *last_l = malloc(sizeof *last_l * (n / 2 + 16));
    size_t n_last_l = 0;
    if (!want || !last_l) {
        free(want);
        free(last_l);
        free(exp);
        return -1;
    }
    int shown = 0;
    char *save = NULL;
    for (char *rec = strtok_r(exp, "\n", &save); rec; rec = strtok_r(NULL, "\n", &save)) {
        char kind = rec[0];
        char *p = rec + 1;
        long lineno = -1;
        if (kind != 'W') lineno = strtol(p, &p, 10);
        if (kind != 'W' && (lineno < 0 || (size_t)lineno >= text->n)) {
            fprintf(stderr, "%s: bad record in %s\n", name, expected_path);
            continue;
        }
        const char *src = kind == 'W' ? text->text : text->line[lineno];
        size_t src_len = kind == 'W' ? text->text_len : text->len[lineno];
        if (kind == 'L' || kind == 'N' || kind == 'W') {
            size_t nw = 0;
            for (;;) {
                while (*p == ' ') p++;
                if (!*p) break;
                want[nw++] = (int32_t)strtol(p, &p, 10);
            }
            if (kind == 'L') {
                memcpy(last_l, want, nw * sizeof *want);
                n_last_l = nw;
            }
            gq_tokens got = {0};
            gq_error err = {0};
            int rc = gq_tokenizer_encode(tok, src, src_len, kind != 'N', &got, &err);
            int same = rc == 0 && got.n == nw && (nw == 0 || memcmp(got.ids, want, nw * sizeof *want) == 0);
            res->compared++;
            if (!same) {
                res->mismatched++;
                if (shown++ < 4) {
                    fprintf(stderr, "  %s mismatch, record %c line %ld%s%s: \"%.*s\"\n", name, kind, lineno,
                            rc ? ", error: " : "", rc ? err.msg : "", (int)(src_len > 200 ? 200 : src_len), src);
                    tt_print_ids("want", want, nw);
                    tt_print_ids("got ", got.ids, got.n);
                }
            }
            gq_tokens_free(&got);
        } else if (kind == 'D' || kind == 'S') {
            /* Decode the expected ids of the line's L record (just before). */
            cJSON *js = cJSON_Parse(p);
            gq_error err = {0};
            char *dec = NULL;
            int rc = gq_tokenizer_decode(tok, last_l, n_last_l, kind == 'S', &dec, &err);
            int same = rc == 0 && cJSON_IsString(js) && strcmp(dec, js->valuestring) == 0;
            res->dec_compared++;
            if (!same) {
                res->dec_mismatched++;
                if (shown++ < 4)
                    fprintf(stderr, "  %s decode mismatch (%c) line %ld:\n    want \"%s\"\n    got  \"%s\"\n", name,
                            kind, lineno, cJSON_IsString(js) ? js->valuestring : "?", dec ? dec : err.msg);
            }
            cJSON_Delete(js);
            gq_free(dec);
        }
    }
    printf("%s: %zu encodings compared, %zu mismatched; %zu decodings compared, %zu mismatched\n", name,
           res->compared, res->mismatched, res->dec_compared, res->dec_mismatched);
    free(want);
    free(last_l);
    free(exp);
    return 0;
}

#endif
