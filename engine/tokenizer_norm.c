/* tokenizer_norm.c — the normalizers of Hugging Face `tokenizers`: what
 * tokenizer.json's "normalizer" says (gq_tok_load_normalizer) and what it
 * does to a piece of text (gq_tok_normalize).
 *
 * Understood: Sequence, NFC, NFD, NFKC, NFKD, Lowercase, Strip,
 * StripAccents, Replace (String or Regex pattern), Prepend, Precompiled
 * (SentencePiece's precompiled_charsmap) and BertNormalizer.  Anything else
 * is refused with GQ_ERR_UNSUPPORTED naming the normalizer and the file.
 *
 * Unicode data (normalization forms, general categories, case mappings,
 * grapheme clusters) comes from utf8proc, chosen over ICU because it is a
 * small C library that does exactly these four things on UTF-8, with no
 * converters, locales or C++ runtime (Debian: libutf8proc-dev; 2.8.0 there
 * carries Unicode 15.0).  HF's Rust crates carry their own Unicode tables,
 * so characters assigned in one Unicode version and not the other may
 * normalize differently; nothing in the families' texts depends on that.
 *
 * Each step mirrors the Rust code of tokenizers' normalizers (src/normalizers) on the
 * string only (no offset alignments, which scoring does not need).
 */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "gq_alloc.h"
#include "json_util.h"
#include "tokenizer_internal.h"

/* ------------------------------------------------------------------------ */
/* Loading                                                                   */

static int new_step(gq_tokenizer *t, gq_norm_type type, gq_norm_step **out, gq_error *err)
{
    gq_norm_step *nn = gq_realloc(t->norm, (t->n_norm + 1) * sizeof *nn, "normalizer steps", err);
    if (!nn) return GQ_ERR_NOMEM;
    t->norm = nn;
    *out = &t->norm[t->n_norm++];
    memset(*out, 0, sizeof **out);
    (*out)->type = type;
    return GQ_OK;
}

int gq_tok_add_norm(gq_tokenizer *t, gq_norm_type type, const char *from, const char *str, gq_error *err)
{
    gq_norm_step *s;
    int rc = new_step(t, type, &s, err);
    if (rc) return rc;
    if ((from && !(s->from = gq_strdup(from, err))) || (str && !(s->str = gq_strdup(str, err))))
        return GQ_ERR_NOMEM;
    return GQ_OK;
}

void gq_tok_free_norm(gq_norm_step *s)
{
    gq_free(s->from);
    gq_free(s->str);
    pcre2_code_free(s->re);
    gq_free(s->trie);
    gq_free(s->pool);
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Standard base64 (padding optional) into a fresh buffer. */
static int b64_decode(const char *s, unsigned char **out, size_t *out_n, const char *path, gq_error *err)
{
    size_t n = strlen(s), k = 0;
    unsigned char *o = gq_malloc(n / 4 * 3 + 3, "precompiled_charsmap", err);
    uint32_t acc = 0;
    int bits = 0;
    if (!o) return GQ_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=') break;
        int v = b64_value((unsigned char)s[i]);
        if (v < 0) {
            gq_free(o);
            return gq_error_set(err, GQ_ERR_INVALID,
                                "%s: normalizer Precompiled: precompiled_charsmap is not base64 (byte %zu)", path, i);
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[k++] = (unsigned char)(acc >> bits);
        }
    }
    *out = o;
    *out_n = k;
    return GQ_OK;
}

/* SentencePiece's charsmap: u32 (little-endian) trie size in bytes, the
 * double-array trie (darts-clone units), then the replacement strings, each
 * ending in NUL. */
static int load_precompiled(gq_tokenizer *t, const cJSON *n, const char *path, gq_error *err)
{
    const char *b64 = gq_json_str(n, "precompiled_charsmap");
    unsigned char *raw = NULL;
    size_t nraw = 0;
    int rc;
    if (!b64 || !*b64) return GQ_OK; /* no rules: the identity */
    if ((rc = b64_decode(b64, &raw, &nraw, path, err))) return rc;
    if (nraw < 4) {
        gq_free(raw);
        return gq_error_set(err, GQ_ERR_INVALID, "%s: normalizer Precompiled: precompiled_charsmap is %zu bytes long", path,
                            nraw);
    }
    size_t trie_bytes = (size_t)raw[0] | (size_t)raw[1] << 8 | (size_t)raw[2] << 16 | (size_t)raw[3] << 24;
    if (trie_bytes % 4 != 0 || trie_bytes > nraw - 4) {
        gq_free(raw);
        return gq_error_set(err, GQ_ERR_INVALID,
                            "%s: normalizer Precompiled: the trie claims %zu bytes of a %zu-byte precompiled_charsmap",
                            path, trie_bytes, nraw);
    }
    gq_norm_step *s;
    if ((rc = new_step(t, GQ_NORM_PRECOMPILED, &s, err))) {
        gq_free(raw);
        return rc;
    }
    s->n_trie = trie_bytes / 4;
    s->n_pool = nraw - 4 - trie_bytes;
    s->trie = gq_malloc((s->n_trie ? s->n_trie : 1) * sizeof *s->trie, "precompiled trie", err);
    s->pool = gq_malloc(s->n_pool + 1, "precompiled replacements", err);
    if (!s->trie || !s->pool) {
        gq_free(raw);
        return GQ_ERR_NOMEM;
    }
    for (size_t i = 0; i < s->n_trie; i++) {
        const unsigned char *u = raw + 4 + 4 * i;
        s->trie[i] = (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
    }
    memcpy(s->pool, raw + 4 + trie_bytes, s->n_pool);
    s->pool[s->n_pool] = '\0';
    gq_free(raw);
    if (gq_utf8_valid_len(s->pool, s->n_pool) != s->n_pool)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: normalizer Precompiled: the replacement strings are not UTF-8",
                            path);
    return GQ_OK;
}

int gq_tok_load_normalizer(gq_tokenizer *t, const cJSON *n, const char *path, gq_error *err)
{
    gq_norm_step *s;
    int rc;
    if (!n || cJSON_IsNull(n)) return GQ_OK;
    const char *type = gq_json_str(n, "type");
    if (!type) return gq_error_set(err, GQ_ERR_INVALID, "%s: normalizer has no type", path);
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(n, "normalizers")) {
            if ((rc = gq_tok_load_normalizer(t, it, path, err))) return rc;
        }
        return GQ_OK;
    }
    static const struct { const char *name; gq_norm_type type; } plain[] = {
        {"NFC", GQ_NORM_NFC},         {"NFD", GQ_NORM_NFD},
        {"NFKC", GQ_NORM_NFKC},       {"NFKD", GQ_NORM_NFKD},
        {"Lowercase", GQ_NORM_LOWERCASE}, {"StripAccents", GQ_NORM_STRIP_ACCENTS}};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (strcmp(type, plain[i].name) == 0) return gq_tok_add_norm(t, plain[i].type, NULL, NULL, err);
    if (strcmp(type, "Prepend") == 0) {
        const char *p = gq_json_str(n, "prepend");
        if (!p) return gq_error_set(err, GQ_ERR_INVALID, "%s: normalizer Prepend has no \"prepend\"", path);
        return gq_tok_add_norm(t, GQ_NORM_PREPEND, NULL, p, err);
    }
    if (strcmp(type, "Replace") == 0) {
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(n, "pattern");
        const char *lit = gq_json_str(pat, "String"), *re = gq_json_str(pat, "Regex"), *to = gq_json_str(n, "content");
        if ((!lit && !re) || !to)
            return gq_error_set(err, GQ_ERR_INVALID,
                                "%s: normalizer Replace needs a pattern (String or Regex) and a content", path);
        if (lit) return gq_tok_add_norm(t, GQ_NORM_REPLACE, lit, to, err);
        if ((rc = gq_tok_add_norm(t, GQ_NORM_REPLACE_REGEX, NULL, to, err))) return rc;
        return gq_tok_compile_regex(&t->norm[t->n_norm - 1].re, re, strlen(re), path, err);
    }
    if (strcmp(type, "Strip") == 0) {
        if ((rc = new_step(t, GQ_NORM_STRIP, &s, err))) return rc;
        s->strip_left = gq_json_bool(n, "strip_left", 0);
        s->strip_right = gq_json_bool(n, "strip_right", 0);
        return GQ_OK;
    }
    if (strcmp(type, "BertNormalizer") == 0) {
        if ((rc = new_step(t, GQ_NORM_BERT, &s, err))) return rc;
        s->bert_clean = gq_json_bool(n, "clean_text", 1);
        s->bert_chinese = gq_json_bool(n, "handle_chinese_chars", 1);
        s->bert_lowercase = gq_json_bool(n, "lowercase", 1);
        /* strip_accents: null means "as lowercase" (tokenizers' unwrap_or). */
        s->bert_strip_accents = gq_json_bool(n, "strip_accents", s->bert_lowercase);
        return GQ_OK;
    }
    if (strcmp(type, "Precompiled") == 0) return load_precompiled(t, n, path, err);
    return gq_error_set(err, GQ_ERR_UNSUPPORTED,
                        "%s: normalizer \"%s\" is not supported (known: Sequence, NFC, NFD, NFKC, NFKD, Lowercase, Strip, "
                        "StripAccents, Replace, Prepend, Precompiled, BertNormalizer)",
                        path, type);
}

/* ------------------------------------------------------------------------ */
/* Applying                                                                  */

/* Unicode White_Space (Rust's char::is_whitespace). */
int gq_unicode_is_ws(int32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

static void sbuf_swap(gq_sbuf *a, gq_sbuf *b)
{
    gq_sbuf t = *a;
    *a = *b;
    *b = t;
}

/* NFC/NFD/NFKC/NFKD through utf8proc (which allocates with malloc). */
static int unicode_form(const char *s, size_t n, utf8proc_option_t form, gq_sbuf *o, gq_error *err)
{
    utf8proc_uint8_t *dst = NULL;
    if (n == 0) return GQ_OK;
    utf8proc_ssize_t m = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &dst, form | UTF8PROC_STABLE);
    if (m < 0) {
        free(dst);
        if (m == UTF8PROC_ERROR_NOMEM) return gq_error_set(err, GQ_ERR_NOMEM, "out of memory normalizing %zu bytes", n);
        return gq_error_set(err, GQ_ERR_INVALID, "Unicode normalization failed: %s", utf8proc_errmsg(m));
    }
    int rc = gq_sbuf_addn(o, (const char *)dst, (size_t)m, err);
    free(dst);
    return rc;
}

/* Rust's char::to_lowercase: utf8proc's simple mapping, plus the one
 * unconditional multi-character lowercase of SpecialCasing.txt. */
static int lowercase_cp(gq_sbuf *o, int32_t cp, gq_error *err)
{
    if (cp == 0x130) return gq_sbuf_addn(o, "i\xCC\x87", 3, err); /* İ -> i + U+0307 */
    return gq_sbuf_addcp(o, (uint32_t)utf8proc_tolower(cp), err);
}

static int is_mark(int32_t cp)
{
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC || c == UTF8PROC_CATEGORY_ME;
}

/* BertNormalizer's is_control: "other" categories, but tab/newline/CR
 * count as whitespace. */
static int bert_is_control(int32_t cp)
{
    if (cp == '\t' || cp == '\n' || cp == '\r') return 0;
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_CF || c == UTF8PROC_CATEGORY_CO ||
           c == UTF8PROC_CATEGORY_CS || c == UTF8PROC_CATEGORY_CN;
}

static int bert_is_chinese(int32_t cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
           (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

/* Map every code point of s through one of the per-character rules. */
typedef enum { MAP_LOWER, MAP_STRIP_MARKS, MAP_STRIP_NONSPACING, MAP_BERT_CLEAN, MAP_BERT_CHINESE } cp_map;

static int map_chars(const char *s, size_t n, cp_map how, gq_sbuf *o, gq_error *err)
{
    size_t i = 0;
    int rc = GQ_OK;
    while (i < n && !rc) {
        size_t adv;
        int32_t cp = gq_utf8_next(s + i, n - i, &adv);
        if (cp < 0) return gq_error_set(err, GQ_ERR_INVALID, "normalizer: invalid UTF-8 at byte %zu", i);
        switch (how) {
        case MAP_LOWER:
            rc = lowercase_cp(o, cp, err);
            break;
        case MAP_STRIP_MARKS:
            if (!is_mark(cp)) rc = gq_sbuf_addn(o, s + i, adv, err);
            break;
        case MAP_STRIP_NONSPACING:
            if (utf8proc_category(cp) != UTF8PROC_CATEGORY_MN) rc = gq_sbuf_addn(o, s + i, adv, err);
            break;
        case MAP_BERT_CLEAN:
            if (cp == 0 || cp == 0xFFFD || bert_is_control(cp)) break;
            if (cp == '\t' || cp == '\n' || cp == '\r' || gq_unicode_is_ws(cp)) rc = gq_sbuf_addn(o, " ", 1, err);
            else rc = gq_sbuf_addn(o, s + i, adv, err);
            break;
        case MAP_BERT_CHINESE:
            if (bert_is_chinese(cp)) {
                if (!(rc = gq_sbuf_addn(o, " ", 1, err)) && !(rc = gq_sbuf_addn(o, s + i, adv, err)))
                    rc = gq_sbuf_addn(o, " ", 1, err);
            } else {
                rc = gq_sbuf_addn(o, s + i, adv, err);
            }
            break;
        }
        i += adv;
    }
    return rc;
}

static int strip(const char *s, size_t n, int left, int right, gq_sbuf *o, gq_error *err)
{
    size_t a = 0, e = n;
    while (left && a < e) {
        size_t adv;
        if (!gq_unicode_is_ws(gq_utf8_next(s + a, e - a, &adv))) break;
        a += adv;
    }
    while (right && e > a) {
        size_t q = e - 1, adv;
        while (q > a && ((unsigned char)s[q] & 0xC0) == 0x80) q--;
        if (!gq_unicode_is_ws(gq_utf8_next(s + q, e - q, &adv))) break;
        e = q;
    }
    return gq_sbuf_addn(o, s + a, e - a, err);
}

/* Replace every non-overlapping match of the regex by `to`. */
static int replace_regex(const gq_norm_step *st, const char *s, size_t n, gq_sbuf *o, gq_error *err)
{
    pcre2_match_data *md = pcre2_match_data_create(4, NULL);
    size_t pos = 0, run = 0, tl = strlen(st->str);
    int rc = GQ_OK;
    if (!md) return gq_error_set(err, GQ_ERR_NOMEM, "out of memory for regex match data");
    while (pos <= n) {
        int m = pcre2_match(st->re, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK, md, NULL);
        if (m == PCRE2_ERROR_NOMATCH) break;
        if (m < 0) {
            rc = gq_tok_regex_error(m, "tokenizer.json", "normalizer Replace regex", pos, err);
            break;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        if (ov[1] == ov[0]) { /* empty match: nothing to replace, step over one char */
            if (ov[0] >= n) break;
            pos = ov[0] + gq_utf8_seq_len((unsigned char)s[ov[0]]);
            continue;
        }
        if ((rc = gq_sbuf_addn(o, s + run, ov[0] - run, err)) || (rc = gq_sbuf_addn(o, st->str, tl, err))) break;
        run = pos = ov[1];
    }
    pcre2_match_data_free(md);
    if (rc) return rc;
    return gq_sbuf_addn(o, s + run, n - run, err);
}

/* darts-clone unit fields (SentencePiece's Darts::DoubleArray). */
static uint32_t unit_offset(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }
static uint32_t unit_label(uint32_t u) { return u & ((1u << 31) | 0xFFu); }
static int unit_has_leaf(uint32_t u) { return (u >> 8) & 1; }
static uint32_t unit_value(uint32_t u) { return u & ((1u << 31) - 1); }

/* The replacement of the SHORTEST rule matching a prefix of key (HF takes
 * the first result of common_prefix_search), or NULL. */
static const char *precompiled_rule(const gq_norm_step *st, const char *key, size_t n)
{
    size_t node = 0;
    if (st->n_trie == 0) return NULL;
    node ^= unit_offset(st->trie[0]);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c == 0) return NULL;
        node ^= c;
        if (node >= st->n_trie) return NULL;
        uint32_t u = st->trie[node];
        if (unit_label(u) != c) return NULL;
        node ^= unit_offset(u);
        if (node >= st->n_trie) return NULL;
        if (unit_has_leaf(u)) {
            uint32_t v = unit_value(st->trie[node]);
            return v < st->n_pool ? st->pool + v : NULL;
        }
    }
    return NULL;
}

/* tokenizers' Precompiled: per extended grapheme cluster, the whole
 * cluster's rule when the cluster is under 6 bytes and has one, else each
 * character's rule or the character itself. */
static int precompiled(const gq_norm_step *st, const char *s, size_t n, gq_sbuf *o, gq_error *err)
{
    size_t g = 0;
    int rc = GQ_OK;
    while (g < n && !rc) {
        /* find the end of the grapheme starting at g */
        size_t adv, e;
        utf8proc_int32_t state = 0;
        int32_t prev = gq_utf8_next(s + g, n - g, &adv);
        e = g + adv;
        while (e < n) {
            int32_t cp = gq_utf8_next(s + e, n - e, &adv);
            if (utf8proc_grapheme_break_stateful(prev, cp, &state)) break;
            prev = cp;
            e += adv;
        }
        const char *rule = e - g < 6 ? precompiled_rule(st, s + g, e - g) : NULL;
        if (rule) {
            rc = gq_sbuf_addn(o, rule, strlen(rule), err);
        } else {
            for (size_t i = g; i < e && !rc; i += adv) {
                adv = gq_utf8_seq_len((unsigned char)s[i]);
                const char *r = precompiled_rule(st, s + i, adv);
                rc = r ? gq_sbuf_addn(o, r, strlen(r), err) : gq_sbuf_addn(o, s + i, adv, err);
            }
        }
        g = e;
    }
    return rc;
}

/* One step from cur into next (next is empty on entry). */
static int norm_step(const gq_norm_step *st, const gq_sbuf *cur, gq_sbuf *next, gq_error *err)
{
    const char *s = cur->p ? cur->p : "";
    size_t n = cur->n;
    int rc;
    switch (st->type) {
    case GQ_NORM_PREPEND:
        if (n > 0 && (rc = gq_sbuf_addn(next, st->str, strlen(st->str), err))) return rc;
        return gq_sbuf_addn(next, s, n, err);
    case GQ_NORM_REPLACE:
        return gq_tok_replace_into(next, s, n, st->from, st->str, err);
    case GQ_NORM_REPLACE_REGEX:
        return replace_regex(st, s, n, next, err);
    case GQ_NORM_NFC:
        return unicode_form(s, n, UTF8PROC_COMPOSE, next, err);
    case GQ_NORM_NFD:
        return unicode_form(s, n, UTF8PROC_DECOMPOSE, next, err);
    case GQ_NORM_NFKC:
        return unicode_form(s, n, UTF8PROC_COMPOSE | UTF8PROC_COMPAT, next, err);
    case GQ_NORM_NFKD:
        return unicode_form(s, n, UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT, next, err);
    case GQ_NORM_LOWERCASE:
        return map_chars(s, n, MAP_LOWER, next, err);
    case GQ_NORM_STRIP:
        return strip(s, n, st->strip_left, st->strip_right, next, err);
    case GQ_NORM_STRIP_ACCENTS:
        return map_chars(s, n, MAP_STRIP_MARKS, next, err);
    case GQ_NORM_PRECOMPILED:
        return precompiled(st, s, n, next, err);
    case GQ_NORM_BERT: {
        /* clean_text, handle_chinese_chars, strip_accents (NFD, then drop
         * Mn), lowercase: in that order, each on the previous output. */
        gq_sbuf a = {0}, b = {0};
        rc = gq_sbuf_addn(&a, s, n, err);
        if (!rc && st->bert_clean) {
            rc = map_chars(a.p, a.n, MAP_BERT_CLEAN, &b, err);
            sbuf_swap(&a, &b);
        }
        if (!rc && st->bert_chinese) {
            b.n = 0;
            rc = map_chars(a.p, a.n, MAP_BERT_CHINESE, &b, err);
            sbuf_swap(&a, &b);
        }
        if (!rc && st->bert_strip_accents) {
            b.n = 0;
            rc = unicode_form(a.p, a.n, UTF8PROC_DECOMPOSE, &b, err);
            sbuf_swap(&a, &b);
            b.n = 0;
            if (!rc) rc = map_chars(a.p, a.n, MAP_STRIP_NONSPACING, &b, err);
            sbuf_swap(&a, &b);
        }
        if (!rc && st->bert_lowercase) {
            b.n = 0;
            rc = map_chars(a.p, a.n, MAP_LOWER, &b, err);
            sbuf_swap(&a, &b);
        }
        if (!rc) rc = gq_sbuf_addn(next, a.p, a.n, err);
        gq_free(a.p);
        gq_free(b.p);
        return rc;
    }
    }
    return GQ_OK;
}

int gq_tok_normalize(const gq_tokenizer *t, const char *s, size_t n, char **out, size_t *out_n, gq_error *err)
{
    gq_sbuf cur = {0}, next = {0};
    int rc = gq_sbuf_addn(&cur, s, n, err);
    for (size_t k = 0; !rc && k < t->n_norm; k++) {
        next.n = 0;
        if ((rc = norm_step(&t->norm[k], &cur, &next, err))) break;
        if (!next.p && (rc = gq_sbuf_addn(&next, "", 0, err))) break;
        sbuf_swap(&cur, &next);
    }
    gq_free(next.p);
    if (rc) {
        gq_free(cur.p);
        return rc;
    }
    *out = cur.p;
    *out_n = cur.n;
    return GQ_OK;
}
