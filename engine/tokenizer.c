/* tokenizer.c — the encode/decode pipeline of gq_tokenizer (see tokenizer.h
 * for the contract, tokenizer_internal.h for the data layout).
 *
 * What it is: a re-implementation of the parts of Hugging Face `tokenizers`
 * that byte-level BPE (GPT-2, LLaMA-3, Qwen2/3, DeepSeek, GLM-4, SmolLM2)
 * and SentencePiece-style BPE (LLaMA-2, Mistral, Phi-3, Gemma) tokenizer.json
 * files use, to the same ids:
 *   added tokens (leftmost-longest, lstrip/rstrip/single_word/normalized),
 *   the normalizers (tokenizer_norm.c: NFC/NFD/NFKC/NFKD, Lowercase, Strip,
 *   StripAccents, Replace, Prepend, Precompiled, BertNormalizer),
 *   pre-tokenizers Split/ByteLevel/Metaspace/Digits/Whitespace/
 *   WhitespaceSplit/Punctuation/BertPreTokenizer/CharDelimiterSplit, BPE
 *   (tokenizer_bpe.c), TemplateProcessing-style BOS/EOS, and the decoders
 *   ByteLevel/Replace/ByteFallback/Fuse/Strip/Metaspace.
 * What it is not: offsets, pairs, truncation/padding, WordPiece/Unigram
 * models.
 * Loaders: tokenizer_json.c, tokenizer_gguf.c.  Tests: tests/test_tokenizer.c
 * compares every line of a 2,200-line text with ids written by HF, and
 * tests/test_tokenizer_families.c the families' real vocabularies.
 */
#include <stdlib.h>
#include <string.h>

#include "gq_alloc.h"
#include "gq_array.h"
#include "tokenizer_internal.h"

/* ------------------------------------------------------------------------ */
/* Regexes                                                                   */

const char gq_regex_gpt2[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const char gq_regex_llama3[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
    " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char gq_regex_qwen2[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|"
    " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/* Unicode White_Space, the set Oniguruma's \s has in HF `tokenizers`.
 * PCRE2's \s (UCP) differs: it also takes U+180E (MONGOLIAN VOWEL
 * SEPARATOR), so patterns are rewritten to use this list instead. */
#define WS_CLASS "\\t\\n\\x{0b}\\f\\r\\x{20}\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}"

/* Copy pattern with \s -> the White_Space list (inside or outside a
 * character class) and \S -> its complement (outside a class). */
static char *rewrite_ws(const char *p, size_t len, size_t *out_len, gq_error *err)
{
    size_t wl = strlen(WS_CLASS), cap = len * (wl + 4) + 1, n = 0;
    char *o = gq_malloc(cap, "regex", err);
    int in_class = 0;
    if (!o) return NULL;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (c == '\\' && i + 1 < len) {
            char d = p[++i];
            if (d == 's' || (d == 'S' && !in_class)) {
                if (!in_class) o[n++] = '[';
                if (d == 'S') o[n++] = '^';
                memcpy(o + n, WS_CLASS, wl);
                n += wl;
                if (!in_class) o[n++] = ']';
            } else {
                o[n++] = c;
                o[n++] = d;
            }
            continue;
        }
        if (!in_class && c == '[') {
            in_class = 1;
            o[n++] = c;
            /* a ']' right after '[' or '[^' is a literal */
            if (i + 1 < len && p[i + 1] == '^') o[n++] = p[++i];
            if (i + 1 < len && p[i + 1] == ']') o[n++] = p[++i];
            continue;
        }
        if (in_class && c == '[' && i + 1 < len && p[i + 1] == ':') { /* [:posix:] */
            while (i < len && !(p[i] == ']' && p[i - 1] == ':')) o[n++] = p[i++];
            if (i < len) o[n++] = p[i];
            continue;
        }
        if (in_class && c == ']') in_class = 0;
        o[n++] = c;
    }
    o[n] = '\0';
    *out_len = n;
    return o;
}

int gq_tok_compile_regex(pcre2_code **out, const char *pattern, size_t len, const char *where,
                         gq_error *err)
{
    int ecode = 0;
    PCRE2_SIZE eoff = 0;
    size_t rl = 0;
    char *rw = rewrite_ws(pattern, len, &rl, err);
    if (!rw) return GQ_ERR_NOMEM;
    *out = pcre2_compile((PCRE2_SPTR)rw, rl, PCRE2_UTF | PCRE2_UCP, &ecode, &eoff, NULL);
    gq_free(rw);
    if (!*out) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ecode, msg, sizeof msg);
        return gq_error_set(err, GQ_ERR_INVALID, "%s: the split regex /%.*s/ does not compile (near offset %zu of "
                            "the rewritten pattern): %s", where, (int)(len > 200 ? 200 : len), pattern,
                            (size_t)eoff, (const char *)msg);
    }
    /* The JIT is an optimisation only: without it pcre2_match interprets. */
    (void)pcre2_jit_compile(*out, PCRE2_JIT_COMPLETE);
    return GQ_OK;
}

int gq_tok_add_split(gq_tokenizer *t, const char *pattern, gq_split_behavior b, int invert,
                     const char *where, gq_error *err)
{
    gq_pre_step *np = gq_realloc(t->pre, (t->n_pre + 1) * sizeof *np, "pre-tokenizer steps", err);
    if (!np) return GQ_ERR_NOMEM;
    t->pre = np;
    gq_pre_step *s = &t->pre[t->n_pre];
    memset(s, 0, sizeof *s);
    s->type = GQ_PRE_SPLIT;
    s->behavior = b;
    s->invert = invert;
    if (pattern) {
        int rc = gq_tok_compile_regex(&s->re, pattern, strlen(pattern), where, err);
        if (rc) return rc;
    }
    t->n_pre++;
    return GQ_OK;
}

/* ------------------------------------------------------------------------ */
/* Token lists                                                               */

int gq_tokens_push(gq_tokens *t, int32_t id, gq_error *err)
{
    int rc = gq_array_reserve(&t->ids, &t->cap, t->n + 1, sizeof *t->ids, 64, "token ids", err);
    if (rc) return rc;
    t->ids[t->n++] = id;
    return GQ_OK;
}

void gq_tokens_free(gq_tokens *t)
{
    if (!t) return;
    gq_free(t->ids);
    t->ids = NULL;
    t->n = t->cap = 0;
}

/* ------------------------------------------------------------------------ */
/* Construction                                                              */

int gq_tok_new(gq_tokenizer **out, const char *source, gq_error *err)
{
    gq_tokenizer *t = gq_calloc(1, sizeof *t, "tokenizer", err);
    *out = NULL;
    if (!t) return GQ_ERR_NOMEM;
    t->source = gq_strdup(source ? source : "tokenizer", err);
    if (!t->source) {
        gq_free(t);
        return GQ_ERR_NOMEM;
    }
    for (int i = 0; i < 256; i++) {
        t->byte_id[i] = -1;
        t->added_first[i] = -1;
    }
    t->unk_id = t->bos = t->eos = -1;
    *out = t;
    return GQ_OK;
}

int gq_tok_alloc_vocab(gq_tokenizer *t, size_t n, gq_error *err)
{
    if (n == 0 || n > INT32_MAX)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: a vocabulary of %zu tokens is not usable", t->source, n);
    t->n_vocab = n;
    t->tok_text = gq_calloc(n, sizeof *t->tok_text, "vocabulary", err);
    t->tok_len = gq_calloc(n, sizeof *t->tok_len, "vocabulary", err);
    t->tok_special = gq_calloc(n, sizeof *t->tok_special, "vocabulary", err);
    if (!t->tok_text || !t->tok_len || !t->tok_special) return GQ_ERR_NOMEM;
    return GQ_OK;
}

int gq_tok_set_token(gq_tokenizer *t, int32_t id, const char *s, size_t len, gq_error *err)
{
    if (id < 0 || (size_t)id >= t->n_vocab)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: token id %ld is outside the vocabulary (size %zu)",
                            t->source, (long)id, t->n_vocab);
    if (len > UINT32_MAX / 2) return gq_error_set(err, GQ_ERR_INVALID, "%s: token %ld is too long", t->source, (long)id);
    char *c = gq_malloc(len + 1, "token text", err);
    if (!c) return GQ_ERR_NOMEM;
    memcpy(c, s, len);
    c[len] = '\0';
    if (t->tok_text[id]) {
        /* The vocab map may borrow the old text as a key (a normalized added
         * token re-set in gq_tok_finish): keep it alive (fuzz_tokenizer found
         * the use after free). */
        char **nr = gq_realloc(t->retired, (t->n_retired + 1) * sizeof *nr, "token text", err);
        if (!nr) {
            gq_free(c);
            return GQ_ERR_NOMEM;
        }
        t->retired = nr;
        t->retired[t->n_retired++] = t->tok_text[id];
    }
    t->tok_text[id] = c;
    t->tok_len[id] = (uint32_t)len;
    return GQ_OK;
}

int gq_tok_add_added(gq_tokenizer *t, const char *s, size_t len, int32_t id, int flags, gq_error *err)
{
    if (len == 0) return GQ_OK; /* an empty added token can never match */
    gq_added_token *na = gq_realloc(t->added, (t->n_added + 1) * sizeof *na, "added tokens", err);
    if (!na) return GQ_ERR_NOMEM;
    t->added = na;
    char *c = gq_malloc(len + 1, "added token", err);
    if (!c) return GQ_ERR_NOMEM;
    memcpy(c, s, len);
    c[len] = '\0';
    t->added[t->n_added].text = c;
    t->added[t->n_added].len = len;
    t->added[t->n_added].id = id;
    t->added[t->n_added].flags = flags;
    t->n_added++;
    return GQ_OK;
}

static int added_cmp(const void *a, const void *b)
{
    const gq_added_token *x = a, *y = b;
    if (x->len != y->len) return x->len > y->len ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

int gq_tok_regex_error(int m, const char *source, const char *what, size_t pos, gq_error *err)
{
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(m, msg, sizeof msg);
    int budget = m == PCRE2_ERROR_MATCHLIMIT || m == PCRE2_ERROR_DEPTHLIMIT || m == PCRE2_ERROR_HEAPLIMIT;
    return gq_error_set(err, GQ_ERR_INVALID, "%s: the %s failed at byte %zu of the text: %s%s", source, what, pos,
                        (const char *)msg,
                        budget ? " ---> HINT: the pattern backtracks without bound on this text (nested "
                                 "quantifiers such as (a+)+); is this tokenizer.json from a trusted source?"
                               : "");
}

int gq_tok_finish(gq_tokenizer *t, gq_error *err)
{
    int rc;
    /* Normalized added tokens are matched in normalized text, so their
     * patterns are normalized the same way (as HF's AddedVocabulary does). */
    for (size_t i = 0; i < t->n_added; i++) {
        gq_added_token *a = &t->added[i];
        if (!(a->flags & GQ_ADDED_NORMALIZED)) continue;
        t->has_normalized_added = 1;
        if (t->n_norm == 0) continue;
        char *nt = NULL;
        size_t nn = 0;
        if ((rc = gq_tok_normalize(t, a->text, a->len, &nt, &nn, err))) return rc;
        /* HF's id -> token map holds the normalized content too (Phi-3's
         * "</s>" decodes as "▁</s>", i.e. " </s>"). */
        if (a->id >= 0 && (size_t)a->id < t->n_vocab &&
            (nn != a->len || memcmp(nt, a->text, nn) != 0) && (rc = gq_tok_set_token(t, a->id, nt, nn, err))) {
            gq_free(nt);
            return rc;
        }
        gq_free(a->text);
        a->text = nt;
        a->len = nn;
    }
    if (t->n_added > 1) qsort(t->added, t->n_added, sizeof *t->added, added_cmp);
    gq_free(t->added_next);
    t->added_next = NULL;
    if (t->n_added) {
        t->added_next = gq_malloc(t->n_added * sizeof *t->added_next, "added token index", err);
        if (!t->added_next) return GQ_ERR_NOMEM;
    }
    for (int i = 0; i < 256; i++) t->added_first[i] = -1;
    for (size_t i = t->n_added; i-- > 0;) {
        unsigned char c = (unsigned char)t->added[i].text[0];
        t->added_next[i] = t->added_first[c];
        t->added_first[c] = (int32_t)i;
    }
    for (size_t i = 0; i < t->n_added; i++) {
        gq_added_token *a = &t->added[i];
        if (a->id >= 0 && (size_t)a->id < t->n_vocab && (a->flags & GQ_ADDED_SPECIAL))
            t->tok_special[a->id] = 1;
    }
    if (!t->re_word && t->n_added) {
        if ((rc = gq_tok_compile_regex(&t->re_word, "\\w", 2, "word-character check", err))) return rc;
    }
    return GQ_OK;
}

void gq_tokenizer_free(gq_tokenizer *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->n_vocab && t->tok_text; i++) gq_free(t->tok_text[i]);
    gq_free(t->tok_text);
    for (size_t i = 0; i < t->n_retired; i++) gq_free(t->retired[i]);
    gq_free(t->retired);
    gq_free(t->tok_len);
    gq_free(t->tok_special);
    gq_strmap_free(&t->vocab);
    gq_pairmap_free(&t->merges);
    gq_free(t->scores);
    for (size_t i = 0; i < t->n_norm; i++) gq_tok_free_norm(&t->norm[i]);
    gq_free(t->norm);
    for (size_t i = 0; i < t->n_pre; i++) pcre2_code_free(t->pre[i].re);
    gq_free(t->pre);
    for (size_t i = 0; i < t->n_added; i++) gq_free(t->added[i].text);
    gq_free(t->added);
    gq_free(t->added_next);
    pcre2_code_free(t->re_word);
    gq_free(t->prefix);
    gq_free(t->suffix);
    for (size_t i = 0; i < t->n_dec; i++) {
        gq_free(t->dec[i].from);
        gq_free(t->dec[i].to);
    }
    gq_free(t->dec);
    gq_free(t->source);
    gq_free(t);
}

/* ------------------------------------------------------------------------ */
/* Literal replacement                                                       */

int gq_tok_replace_into(gq_sbuf *b, const char *s, size_t n, const char *from, const char *to, gq_error *err)
{
    size_t fl = strlen(from), tl = strlen(to);
    size_t i = 0, run = 0;
    int rc;
    if (fl == 0) return gq_sbuf_addn(b, s, n, err);
    while (i < n) {
        if (n - i >= fl && memcmp(s + i, from, fl) == 0) {
            if ((rc = gq_sbuf_addn(b, s + run, i - run, err))) return rc;
            if ((rc = gq_sbuf_addn(b, to, tl, err))) return rc;
            i += fl;
            run = i;
        } else {
            i++;
        }
    }
    return gq_sbuf_addn(b, s + run, n - run, err);
}

/* ------------------------------------------------------------------------ */
/* Added tokens                                                              */

typedef struct {
    size_t s, e;
    int32_t id; /* -1 = text to tokenize */
} seg_t;

typedef struct {
    seg_t *v;
    size_t n, cap;
} seg_list;

static int seg_push(seg_list *l, size_t s, size_t e, int32_t id, gq_error *err)
{
    int rc = gq_array_reserve(&l->v, &l->cap, l->n + 1, sizeof *l->v, 16, "text segments", err);
    if (rc) return rc;
    l->v[l->n].s = s;
    l->v[l->n].e = e;
    l->v[l->n].id = id;
    l->n++;
    return GQ_OK;
}

/* Is there a \w character ending at s[..pos) / starting at s[pos..)? */
static int word_char_at(const gq_tokenizer *t, pcre2_match_data *md, const char *s, size_t n, size_t pos)
{
    int rc = pcre2_match(t->re_word, (PCRE2_SPTR)s, n, pos, PCRE2_ANCHORED | PCRE2_NO_UTF_CHECK, md, NULL);
    return rc >= 0;
}

static size_t prev_char_start(const char *s, size_t pos)
{
    size_t p = pos;
    while (p > 0) {
        p--;
        if (((unsigned char)s[p] & 0xC0) != 0x80) break;
    }
    return p;
}

/* HF AddedVocabulary::find_matches: leftmost-longest matches of the added
 * tokens whose NORMALIZED flag equals `normalized`, with single_word,
 * lstrip and rstrip applied; the gaps become id -1 segments. */
static int split_added(const gq_tokenizer *t, pcre2_match_data *md, const char *s, size_t n,
                       int normalized, seg_list *out, gq_error *err)
{
    size_t start_offset = 0, i = 0;
    int rc;
    int want = normalized ? GQ_ADDED_NORMALIZED : 0;
    while (i < n) {
        const gq_added_token *hit = NULL;
        for (int32_t k = t->added_first[(unsigned char)s[i]]; k >= 0; k = t->added_next[k]) {
            const gq_added_token *a = &t->added[k];
            if ((a->flags & GQ_ADDED_NORMALIZED) != want) continue;
            if (a->len <= n - i && memcmp(s + i, a->text, a->len) == 0) {
                hit = a; /* buckets are longest first */
                break;
            }
        }
        if (!hit) {
            i++;
            continue;
        }
        size_t start = i, stop = i + hit->len;
        i = stop;
        if (hit->flags & GQ_ADDED_SINGLE_WORD) {
            int before = start > 0 && word_char_at(t, md, s, n, prev_char_start(s, start));
            int after = stop < n && word_char_at(t, md, s, n, stop);
            if (before || after) continue;
        }
        if (hit->flags & GQ_ADDED_LSTRIP) {
            size_t p = start;
            while (p > 0) {
                size_t q = prev_char_start(s, p), adv;
                int32_t cp = gq_utf8_next(s + q, n - q, &adv);
                if (!gq_unicode_is_ws(cp)) break;
                p = q;
            }
            start = p > start_offset ? p : start_offset;
        }
        if (hit->flags & GQ_ADDED_RSTRIP) {
            while (stop < n) {
                size_t adv;
                int32_t cp = gq_utf8_next(s + stop, n - stop, &adv);
                if (!gq_unicode_is_ws(cp)) break;
                stop += adv;
            }
            i = stop;
        }
        if (start_offset < start && (rc = seg_push(out, start_offset, start, -1, err))) return rc;
        if ((rc = seg_push(out, start, stop, hit->id, err))) return rc;
        start_offset = stop;
    }
    if (start_offset < n && (rc = seg_push(out, start_offset, n, -1, err))) return rc;
    return GQ_OK;
}

/* ------------------------------------------------------------------------ */
/* Pre-tokenization                                                          */

typedef struct {
    size_t s, e;
    int m;
} span_t;

typedef struct {
    span_t *v;
    size_t n, cap;
} span_list;

static int span_push(span_list *l, size_t s, size_t e, int m, gq_error *err)
{
    int rc = gq_array_reserve(&l->v, &l->cap, l->n + 1, sizeof *l->v, 32, "pre-tokenizer spans", err);
    if (rc) return rc;
    l->v[l->n].s = s;
    l->v[l->n].e = e;
    l->v[l->n].m = m;
    l->n++;
    return GQ_OK;
}

/* HF SplitDelimiterBehavior applied in place to a list of (span, is_match)
 * covering the piece. */
static void apply_behavior(span_list *l, gq_split_behavior b, int invert)
{
    size_t w = 0;
    if (invert)
        for (size_t i = 0; i < l->n; i++) l->v[i].m = !l->v[i].m;
    switch (b) {
    case GQ_SPLIT_ISOLATED:
        return;
    case GQ_SPLIT_REMOVED:
        for (size_t i = 0; i < l->n; i++)
            if (!l->v[i].m) l->v[w++] = l->v[i];
        l->n = w;
        return;
    case GQ_SPLIT_MERGED_PREV: {
        int prev_match = 0;
        for (size_t i = 0; i < l->n; i++) {
            span_t sp = l->v[i];
            if (sp.m && !prev_match && w > 0) l->v[w - 1].e = sp.e;
            else l->v[w++] = sp;
            prev_match = sp.m;
        }
        l->n = w;
        return;
    }
    case GQ_SPLIT_MERGED_NEXT: {
        /* Walk backwards, writing from the end, then shift down. */
        int prev_match = 0;
        size_t top = l->n;
        for (size_t i = l->n; i-- > 0;) {
            span_t sp = l->v[i];
            if (sp.m && !prev_match && top < l->n) l->v[top].s = sp.s;
            else l->v[--top] = sp;
            prev_match = sp.m;
        }
        memmove(l->v, l->v + top, (l->n - top) * sizeof *l->v);
        l->n -= top;
        return;
    }
    case GQ_SPLIT_CONTIGUOUS: {
        int prev_match = 0;
        for (size_t i = 0; i < l->n; i++) {
            span_t sp = l->v[i];
            if (sp.m == prev_match && w > 0) l->v[w - 1].e = sp.e;
            else l->v[w++] = sp;
            prev_match = sp.m;
        }
        l->n = w;
        return;
    }
    }
}

typedef struct {
    const gq_tokenizer *t;
    pcre2_match_data *md;
    gq_tokens *out;
} enc_ctx;

static int pretok_step(enc_ctx *c, size_t k, const char *s, size_t n, int at_start, gq_error *err);

static int split_regex(enc_ctx *c, const gq_pre_step *st, const char *s, size_t n, span_list *l, gq_error *err)
{
    size_t pos = 0, prev = 0;
    int rc;
    while (pos <= n) {
        int m = pcre2_match(st->re, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK, c->md, NULL);
        if (m == PCRE2_ERROR_NOMATCH) break;
        if (m < 0) return gq_tok_regex_error(m, c->t->source, "pre-tokenizer Split regex", pos, err);
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->md);
        size_t ms = ov[0], me = ov[1];
        if (me == ms) { /* an empty match splits nothing: step over one char */
            if (ms >= n) break;
            pos = ms + gq_utf8_seq_len((unsigned char)s[ms]);
            continue;
        }
        if (ms > prev && (rc = span_push(l, prev, ms, 0, err))) return rc;
        if ((rc = span_push(l, ms, me, 1, err))) return rc;
        prev = pos = me;
    }
    if (prev < n && (rc = span_push(l, prev, n, 0, err))) return rc;
    return GQ_OK;
}

static int split_literal(const char *s, size_t n, const char *lit, span_list *l, gq_error *err)
{
    size_t ll = strlen(lit), prev = 0, i = 0;
    int rc;
    while (i + ll <= n) {
        if (memcmp(s + i, lit, ll) == 0) {
            if (i > prev && (rc = span_push(l, prev, i, 0, err))) return rc;
            if ((rc = span_push(l, i, i + ll, 1, err))) return rc;
            i += ll;
            prev = i;
        } else {
            i++;
        }
    }
    if (prev < n && (rc = span_push(l, prev, n, 0, err))) return rc;
    return GQ_OK;
}

static int run_spans(enc_ctx *c, size_t k, const char *s, span_list *l, int at_start, gq_error *err)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i].e <= l->v[i].s) continue;
        int rc = pretok_step(c, k + 1, s + l->v[i].s, l->v[i].e - l->v[i].s, at_start && l->v[i].s == 0, err);
        if (rc) return rc;
    }
    return GQ_OK;
}

/* Run pre-tokenizer step k (and the ones after it) on one piece; after the
 * last step the piece is a word for the model. */
static int pretok_step(enc_ctx *c, size_t k, const char *s, size_t n, int at_start, gq_error *err)
{
    const gq_tokenizer *t = c->t;
    if (n == 0) return GQ_OK;
    if (k == t->n_pre) return gq_bpe_word(t, s, n, c->out, err);
    const gq_pre_step *st = &t->pre[k];
    span_list l = {0};
    gq_sbuf b = {0};
    int rc = GQ_OK;
    if (st->type == GQ_PRE_SPLIT) {
        if (st->prefix_space && s[0] != ' ') {
            if ((rc = gq_sbuf_addn(&b, " ", 1, err)) || (rc = gq_sbuf_addn(&b, s, n, err))) goto fail;
            s = b.p;
            n = b.n;
        }
        if (!st->re) {
            rc = pretok_step(c, k + 1, s, n, at_start, err);
            goto fail;
        }
        if ((rc = split_regex(c, st, s, n, &l, err))) goto fail;
        apply_behavior(&l, st->behavior, st->invert);
        rc = run_spans(c, k, s, &l, at_start, err);
        goto fail;
    }
    /* Metaspace: spaces become the replacement, maybe prepend it, maybe split. */
    size_t rl = strlen(st->replacement);
    gq_sbuf r = {0};
    if ((rc = gq_tok_replace_into(&r, s, n, " ", st->replacement, err))) {
        gq_free(r.p);
        goto fail;
    }
    int starts = r.n >= rl && memcmp(r.p, st->replacement, rl) == 0;
    int prepend = !starts && r.n > 0 &&
                  (st->prepend == GQ_PREPEND_ALWAYS || (st->prepend == GQ_PREPEND_FIRST && at_start));
    if (prepend && (rc = gq_sbuf_addn(&b, st->replacement, rl, err))) {
        gq_free(r.p);
        goto fail;
    }
    rc = gq_sbuf_addn(&b, r.p, r.n, err);
    gq_free(r.p);
    if (rc) goto fail;
    if (!st->split) {
        rc = pretok_step(c, k + 1, b.p, b.n, at_start, err);
        goto fail;
    }
    if ((rc = split_literal(b.p, b.n, st->replacement, &l, err))) goto fail;
    apply_behavior(&l, GQ_SPLIT_MERGED_NEXT, 0);
    rc = run_spans(c, k, b.p, &l, at_start, err);
fail: /* also the success path */
    gq_free(l.v);
    gq_free(b.p);
    return rc;
}

/* One piece of raw text between non-normalized added tokens. */
static int encode_raw(enc_ctx *c, const char *s, size_t n, int at_start, gq_error *err)
{
    const gq_tokenizer *t = c->t;
    char *norm = NULL;
    size_t nn = n;
    seg_list segs = {0};
    int rc = GQ_OK;
    const char *p = s;
    if (t->n_norm) {
        if ((rc = gq_tok_normalize(t, s, n, &norm, &nn, err))) goto fail;
        p = norm;
    }
    if (!t->has_normalized_added) {
        rc = pretok_step(c, 0, p, nn, at_start, err);
        goto fail;
    }
    if ((rc = split_added(t, c->md, p, nn, 1, &segs, err))) goto fail;
    for (size_t i = 0; i < segs.n; i++) {
        if (segs.v[i].id >= 0) rc = gq_tokens_push(c->out, segs.v[i].id, err);
        else rc = pretok_step(c, 0, p + segs.v[i].s, segs.v[i].e - segs.v[i].s, at_start && segs.v[i].s == 0, err);
        if (rc) goto fail;
    }
fail: /* also the success path */
    gq_free(norm);
    gq_free(segs.v);
    return rc;
}

int gq_tokenizer_encode(const gq_tokenizer *tok, const char *text, size_t len, int add_special,
                        gq_tokens *out, gq_error *err)
{
    seg_list segs = {0};
    pcre2_match_data *md = NULL;
    int rc = GQ_OK;
    if (!tok || !out || (!text && len))
        return gq_error_set(err, GQ_ERR_USAGE, "gq_tokenizer_encode: NULL tokenizer, text or output");
    size_t bad = gq_utf8_valid_len(text, len);
    if (bad < len)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: the text to encode is not valid UTF-8 at byte %zu of %zu",
                            tok->source, bad, len);
    size_t n0 = out->n; /* restored on failure */
    md = pcre2_match_data_create(4, NULL);
    if (!md) return gq_error_set(err, GQ_ERR_NOMEM, "out of memory for regex match data");
    enc_ctx c = {tok, md, out};
    if (add_special)
        for (size_t i = 0; i < tok->n_prefix; i++)
            if ((rc = gq_tokens_push(out, tok->prefix[i], err))) goto fail;
    if ((rc = split_added(tok, md, text, len, 0, &segs, err))) goto fail;
    for (size_t i = 0; i < segs.n; i++) {
        if (segs.v[i].id >= 0) rc = gq_tokens_push(out, segs.v[i].id, err);
        else rc = encode_raw(&c, text + segs.v[i].s, segs.v[i].e - segs.v[i].s, segs.v[i].s == 0, err);
        if (rc) goto fail;
    }
    if (add_special)
        for (size_t i = 0; i < tok->n_suffix; i++)
            if ((rc = gq_tokens_push(out, tok->suffix[i], err))) goto fail;
fail: /* also the success path */
    if (rc) out->n = n0;
    gq_free(segs.v);
    pcre2_match_data_free(md);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Decoding                                                                  */

/* A list of strings in one buffer. */
typedef struct {
    gq_sbuf b;
    size_t *off; /* n + 1 offsets */
    size_t n, cap;
} strvec;

static int sv_next(strvec *v, gq_error *err) /* start a new string */
{
    int rc = gq_array_reserve(&v->off, &v->cap, v->n + 2, sizeof *v->off, 64, "decoder strings", err);
    if (rc) return rc;
    if (v->n == 0) v->off[0] = v->b.n;
    v->n++;
    v->off[v->n] = v->b.n;
    return GQ_OK;
}

static int sv_add(strvec *v, const void *s, size_t n, gq_error *err)
{
    int rc = gq_sbuf_addn(&v->b, s, n, err);
    if (!rc) v->off[v->n] = v->b.n;
    return rc;
}

static void sv_free(strvec *v)
{
    gq_free(v->b.p);
    gq_free(v->off);
    memset(v, 0, sizeof *v);
}

/* "" for a vector that never held a byte (b.p NULL: NULL + 0 is UB; fuzz_tokenizer found it). */
#define SV_STR(v, i) ((v)->b.p ? (const char *)(v)->b.p + (v)->off[i] : "")
#define SV_LEN(v, i) ((v)->off[(i) + 1] - (v)->off[i])

/* Rust's String::from_utf8_lossy. */
static int add_lossy(strvec *v, const unsigned char *s, size_t n, gq_error *err)
{
    static const char fffd[] = "\xEF\xBF\xBD";
    size_t i = 0, run = 0;
    int rc;
    if (!s) s = (const unsigned char *)""; /* an empty byte buffer is NULL; NULL + 0 is UB (fuzz_tokenizer) */
    while (i < n) {
        size_t k;
        if (gq_utf8_next((const char *)s + i, n - i, &k) >= 0) {
            i += k;
            continue;
        }
        if ((rc = sv_add(v, s + run, i - run, err)) || (rc = sv_add(v, fffd, 3, err))) return rc;
        i += k;
        run = i;
    }
    return sv_add(v, s + run, n - run, err);
}

static int parse_byte_token(const char *s, size_t n)
{
    if (n != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>') return -1;
    int v = 0;
    for (int k = 3; k < 5; k++) {
        char c = s[k];
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

static int dec_step(const gq_dec_step *st, const strvec *in, strvec *o, gq_error *err)
{
    int rc = GQ_OK;
    switch (st->type) {
    case GQ_DEC_BYTELEVEL: {
        gq_sbuf bytes = {0};
        for (size_t i = 0; i < in->n && !rc; i++) {
            const unsigned char *s = (const unsigned char *)SV_STR(in, i);
            size_t n = SV_LEN(in, i), j = 0, mark = bytes.n;
            int all = 1;
            while (j < n) {
                size_t adv;
                int32_t cp = gq_utf8_next((const char *)s + j, n - j, &adv);
                int b = cp >= 0 ? gq_bytelevel_byte((uint32_t)cp) : -1;
                if (b < 0) {
                    all = 0;
                    break;
                }
                char byte = (char)b;
                if ((rc = gq_sbuf_addn(&bytes, &byte, 1, err))) break;
                j += adv;
            }
            if (!rc && !all) {
                bytes.n = mark;
                rc = gq_sbuf_addn(&bytes, (const char *)s, n, err);
            }
        }
        if (!rc) rc = sv_next(o, err);
        if (!rc) rc = add_lossy(o, (const unsigned char *)bytes.p, bytes.n, err);
        gq_free(bytes.p);
        return rc;
    }
    case GQ_DEC_FUSE:
        if ((rc = sv_next(o, err))) return rc;
        if (in->n == 0) return GQ_OK;
        return sv_add(o, SV_STR(in, 0), in->off[in->n] - in->off[0], err);
    case GQ_DEC_BYTEFALLBACK: {
        size_t i = 0;
        while (i < in->n) {
            int b = parse_byte_token(SV_STR(in, i), SV_LEN(in, i));
            if (b < 0) {
                if ((rc = sv_next(o, err)) || (rc = sv_add(o, SV_STR(in, i), SV_LEN(in, i), err))) return rc;
                i++;
                continue;
            }
            unsigned char run[256];
            size_t nb = 0;
            while (i < in->n && nb < sizeof run && (b = parse_byte_token(SV_STR(in, i), SV_LEN(in, i))) >= 0) {
                run[nb++] = (unsigned char)b;
                i++;
            }
            /* HF: the run as one string when it is valid UTF-8, else one
             * U+FFFD per byte. */
            if (gq_utf8_valid_len((const char *)run, nb) == nb) {
                if ((rc = sv_next(o, err)) || (rc = sv_add(o, run, nb, err))) return rc;
            } else {
                for (size_t k = 0; k < nb; k++)
                    if ((rc = sv_next(o, err)) || (rc = sv_add(o, "\xEF\xBF\xBD", 3, err))) return rc;
            }
        }
        return GQ_OK;
    }
    case GQ_DEC_REPLACE:
        for (size_t i = 0; i < in->n; i++) {
            if ((rc = sv_next(o, err))) return rc;
            if ((rc = gq_tok_replace_into(&o->b, SV_STR(in, i), SV_LEN(in, i), st->from, st->to, err))) return rc;
            o->off[o->n] = o->b.n;
        }
        return GQ_OK;
    case GQ_DEC_METASPACE: {
        size_t rl = strlen(st->from);
        for (size_t i = 0; i < in->n; i++) {
            const char *s = SV_STR(in, i);
            size_t n = SV_LEN(in, i), j = 0, run = 0;
            int drop = i == 0 && st->prepend != GQ_PREPEND_NEVER;
            if ((rc = sv_next(o, err))) return rc;
            while (j < n) {
                if (rl && n - j >= rl && memcmp(s + j, st->from, rl) == 0) {
                    if ((rc = sv_add(o, s + run, j - run, err))) return rc;
                    if (!drop && (rc = sv_add(o, " ", 1, err))) return rc;
                    j += rl;
                    run = j;
                } else {
                    j++;
                }
            }
            if ((rc = sv_add(o, s + run, n - run, err))) return rc;
        }
        return GQ_OK;
    }
    case GQ_DEC_STRIP:
        for (size_t i = 0; i < in->n; i++) {
            const unsigned char *s = (const unsigned char *)SV_STR(in, i);
            size_t n = SV_LEN(in, i), a = 0, e = n, adv;
            for (int k = 0; k < st->start && a < n; k++) {
                if (gq_utf8_next((const char *)s + a, n - a, &adv) != (int32_t)st->strip_char) break;
                a += adv;
            }
            for (int k = 0; k < st->stop && e > a; k++) {
                size_t q = prev_char_start((const char *)s, e);
                if (q < a || gq_utf8_next((const char *)s + q, e - q, &adv) != (int32_t)st->strip_char) break;
                e = q;
            }
            if ((rc = sv_next(o, err)) || (rc = sv_add(o, s + a, e - a, err))) return rc;
        }
        return GQ_OK;
    }
    return GQ_OK;
}

int gq_tokenizer_decode(const gq_tokenizer *tok, const int32_t *ids, size_t n, int skip_special,
                        char **out, gq_error *err)
{
    strvec a = {0}, b = {0};
    int rc = GQ_OK;
    if (!tok || !out || (!ids && n))
        return gq_error_set(err, GQ_ERR_USAGE, "gq_tokenizer_decode: NULL tokenizer, ids or output");
    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || (size_t)id >= tok->n_vocab || !tok->tok_text[id]) continue; /* as HF: dropped */
        if (skip_special && tok->tok_special[id]) continue;
        if ((rc = sv_next(&a, err)) || (rc = sv_add(&a, tok->tok_text[id], tok->tok_len[id], err))) goto fail;
    }
    if (!tok->has_decoder) {
        /* No decoder: HF joins the tokens with spaces. */
        gq_sbuf j = {0};
        for (size_t i = 0; i < a.n; i++) {
            if ((i && (rc = gq_sbuf_addn(&j, " ", 1, err))) || (rc = gq_sbuf_addn(&j, SV_STR(&a, i), SV_LEN(&a, i), err))) {
                gq_free(j.p);
                goto fail;
            }
        }
        if (!j.p && (rc = gq_sbuf_addn(&j, "", 0, err))) goto fail;
        *out = j.p;
        goto fail; /* rc == GQ_OK */
    }
    for (size_t k = 0; k < tok->n_dec; k++) {
        b.n = 0;
        b.b.n = 0;
        if ((rc = dec_step(&tok->dec[k], &a, &b, err))) goto fail;
        strvec tmp = a;
        a = b;
        b = tmp;
    }
    {
        gq_sbuf j = {0};
        if ((rc = gq_sbuf_addn(&j, a.n ? SV_STR(&a, 0) : "", a.n ? a.off[a.n] - a.off[0] : 0, err))) goto fail;
        *out = j.p;
    }
fail: /* also the success path */
    sv_free(&a);
    sv_free(&b);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Accessors                                                                 */

size_t gq_tokenizer_vocab_size(const gq_tokenizer *tok) { return tok ? tok->n_vocab : 0; }
int32_t gq_tokenizer_bos(const gq_tokenizer *tok) { return tok ? tok->bos : -1; }
int32_t gq_tokenizer_eos(const gq_tokenizer *tok) { return tok ? tok->eos : -1; }
int gq_tokenizer_adds_bos(const gq_tokenizer *tok) { return tok ? tok->adds_bos : 0; }
int gq_tokenizer_adds_eos(const gq_tokenizer *tok) { return tok ? tok->adds_eos : 0; }

const char *gq_tokenizer_kind(const gq_tokenizer *tok)
{
    if (!tok) return NULL;
    return tok->kind == GQ_TOK_KIND_BYTELEVEL ? "bpe-bytelevel" : "bpe-sentencepiece";
}

const char *gq_tokenizer_token(const gq_tokenizer *tok, int32_t id)
{
    if (!tok || id < 0 || (size_t)id >= tok->n_vocab) return NULL;
    return tok->tok_text[id];
}
