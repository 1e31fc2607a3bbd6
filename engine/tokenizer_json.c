/* tokenizer_json.c — gq_tokenizer_load_json: a Hugging Face tokenizer.json
 * (+ tokenizer_config.json) into a gq_tokenizer.
 *
 * Understood: model BPE (vocab, merges as "a b" or [a, b], unk_token,
 * byte_fallback, fuse_unk, ignore_merges); the normalizers of
 * tokenizer_norm.c; pre_tokenizer null/Sequence/ByteLevel/Split/Metaspace/
 * Digits/Whitespace/WhitespaceSplit/Punctuation/BertPreTokenizer/
 * CharDelimiterSplit; post_processor null/TemplateProcessing/ByteLevel/Roberta/Bert/
 * Sequence; decoder null/Sequence/ByteLevel/Replace(String)/ByteFallback/
 * Fuse/Strip/Metaspace; added_tokens with their flags.  Anything else is
 * GQ_ERR_UNSUPPORTED with a message naming the file and the key.
 *
 * BOS/EOS (documented choice, as transformers' LlamaTokenizerFast does):
 * when tokenizer_config.json has add_bos_token or add_eos_token, those decide
 * what add_special adds (the bos_token / eos_token it names, a missing flag
 * keeping what the post_processor does); otherwise tokenizer.json's
 * post_processor decides.  bos/eos ids come from tokenizer_config's
 * bos_token/eos_token, else from the template, else from the usual names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gq_alloc.h"
#include "json_util.h"
#include "tokenizer_internal.h"

/* bos_token / eos_token in tokenizer_config: a string or {"content": ...}. */
static const char *token_name(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsString(v)) return v->valuestring;
    if (cJSON_IsObject(v)) return gq_json_str(v, "content");
    return NULL;
}

static int32_t lookup(const gq_tokenizer *t, const char *s)
{
    return s ? gq_strmap_get(&t->vocab, s, strlen(s)) : -1;
}

/* ------------------------------------------------------------------------ */

static int load_model(gq_tokenizer *t, const cJSON *root, const char *path, gq_error *err)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    const cJSON *it;
    int rc;
    if (!cJSON_IsObject(model))
        return gq_error_set(err, GQ_ERR_INVALID, "%s: no \"model\" object; is this a tokenizer.json?", path);
    const char *type = gq_json_str(model, "type");
    if (type && strcmp(type, "BPE") != 0)
        return gq_error_set(err, GQ_ERR_UNSUPPORTED, "%s: model.type is \"%s\"; only BPE tokenizers are supported",
                            path, type);
    if (!cJSON_IsObject(vocab))
        return gq_error_set(err, GQ_ERR_INVALID, "%s: model.vocab is missing or not an object", path);
    if (merges && !cJSON_IsArray(merges))
        return gq_error_set(err, GQ_ERR_INVALID, "%s: model.merges is not an array", path);
    if (!merges)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: tokenizer.json has no model.merges; is this a BPE tokenizer?",
                            path);
    const char *cp = gq_json_str(model, "continuing_subword_prefix"), *ws = gq_json_str(model, "end_of_word_suffix");
    if ((cp && *cp) || (ws && *ws))
        return gq_error_set(err, GQ_ERR_UNSUPPORTED,
                            "%s: model.continuing_subword_prefix / end_of_word_suffix are not supported", path);

    /* The id space covers the model vocab and the added tokens. */
    double max_id = -1;
    size_t n_defined = 0;
    cJSON_ArrayForEach(it, vocab) {
        n_defined++;
        if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > INT32_MAX - 1 ||
            it->valuedouble != (double)(int32_t)it->valuedouble)
            return gq_error_set(err, GQ_ERR_INVALID, "%s: model.vocab[\"%s\"] is not a valid token id", path,
                                it->string);
        if (it->valuedouble > max_id) max_id = it->valuedouble;
    }
    if (added && !cJSON_IsArray(added))
        return gq_error_set(err, GQ_ERR_INVALID, "%s: added_tokens is not an array", path);
    cJSON_ArrayForEach(it, added) {
        n_defined++;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
        if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble > INT32_MAX - 1 || !gq_json_str(it, "content"))
            return gq_error_set(err, GQ_ERR_INVALID, "%s: an added_tokens entry lacks a valid id or content", path);
        if (id->valuedouble > max_id) max_id = id->valuedouble;
    }
    if (max_id < 0) return gq_error_set(err, GQ_ERR_INVALID, "%s: model.vocab is empty", path);
    /* The tables are indexed by id (13 bytes an id): a kilobyte file naming
     * id 2e9 must not make us allocate 27 GB (found by fuzz_tokenizer).
     * Ids up to 2^22 (54 MB of tables; the largest real vocabularies have
     * about 256k) are taken however sparse, beyond that only a vocabulary
     * that fills a quarter of its id space. */
    if (max_id + 1 > 4194304.0 && max_id + 1 > 4.0 * (double)n_defined)
        return gq_error_set(err, GQ_ERR_INVALID,
                            "%s: token id %.0f is far beyond the %zu tokens the file defines (ids past 4194303 need a "
                            "vocabulary that fills a quarter of its id space)", path, max_id, n_defined);
    if ((rc = gq_tok_alloc_vocab(t, (size_t)max_id + 1, err))) return rc;

    cJSON_ArrayForEach(it, vocab) {
        int32_t id = (int32_t)it->valuedouble;
        /* Two tokens on one id: both map to it, the later one decodes (gq_tok_set_token keeps the first alive). */
        if ((rc = gq_tok_set_token(t, id, it->string, strlen(it->string), err))) return rc;
        if ((rc = gq_strmap_put(&t->vocab, t->tok_text[id], t->tok_len[id], id, err))) return rc;
    }
    cJSON_ArrayForEach(it, added) {
        int32_t id = (int32_t)cJSON_GetObjectItemCaseSensitive(it, "id")->valuedouble;
        const char *content = gq_json_str(it, "content");
        int flags = (gq_json_bool(it, "special", 0) ? GQ_ADDED_SPECIAL : 0) | (gq_json_bool(it, "lstrip", 0) ? GQ_ADDED_LSTRIP : 0) |
                    (gq_json_bool(it, "rstrip", 0) ? GQ_ADDED_RSTRIP : 0) |
                    (gq_json_bool(it, "single_word", 0) ? GQ_ADDED_SINGLE_WORD : 0) |
                    (gq_json_bool(it, "normalized", !gq_json_bool(it, "special", 0)) ? GQ_ADDED_NORMALIZED : 0);
        if (!t->tok_text[id]) {
            if ((rc = gq_tok_set_token(t, id, content, strlen(content), err))) return rc;
            if ((rc = gq_strmap_put(&t->vocab, t->tok_text[id], t->tok_len[id], id, err))) return rc;
        }
        if ((rc = gq_tok_add_added(t, content, strlen(content), id, flags, err))) return rc;
    }

    t->byte_fallback = gq_json_bool(model, "byte_fallback", 0);
    t->fuse_unk = gq_json_bool(model, "fuse_unk", 0);
    t->ignore_merges = gq_json_bool(model, "ignore_merges", 0);
    const char *unk = gq_json_str(model, "unk_token");
    if (unk) {
        t->unk_id = lookup(t, unk);
        if (t->unk_id < 0)
            return gq_error_set(err, GQ_ERR_INVALID, "%s: model.unk_token \"%s\" is not in the vocabulary", path, unk);
    }

    int32_t rank = 0;
    cJSON_ArrayForEach(it, merges) {
        const char *a = NULL, *b = NULL;
        size_t al = 0, bl = 0;
        if (cJSON_IsString(it)) {
            const char *sp = strchr(it->valuestring, ' ');
            if (!sp || strchr(sp + 1, ' '))
                return gq_error_set(err, GQ_ERR_INVALID, "%s: model.merges[%ld] \"%s\" is not \"left right\"", path,
                                    (long)rank, it->valuestring);
            a = it->valuestring;
            al = (size_t)(sp - a);
            b = sp + 1;
            bl = strlen(b);
        } else if (cJSON_IsArray(it) && cJSON_GetArraySize(it) == 2 && cJSON_IsString(cJSON_GetArrayItem(it, 0)) &&
                   cJSON_IsString(cJSON_GetArrayItem(it, 1))) {
            a = cJSON_GetArrayItem(it, 0)->valuestring;
            b = cJSON_GetArrayItem(it, 1)->valuestring;
            al = strlen(a);
            bl = strlen(b);
        } else {
            return gq_error_set(err, GQ_ERR_INVALID, "%s: model.merges[%ld] is neither \"a b\" nor [a, b]", path,
                                (long)rank);
        }
        int32_t ia = gq_strmap_get(&t->vocab, a, al), ib = gq_strmap_get(&t->vocab, b, bl);
        char small[512];
        char *ab = al + bl < sizeof small ? small : gq_malloc(al + bl + 1, "merge", err);
        if (!ab) return GQ_ERR_NOMEM;
        memcpy(ab, a, al);
        memcpy(ab + al, b, bl);
        int32_t im = gq_strmap_get(&t->vocab, ab, al + bl);
        if (ab != small) gq_free(ab);
        if (ia < 0 || ib < 0 || im < 0)
            return gq_error_set(err, GQ_ERR_INVALID, "%s: model.merges[%ld] uses a token that is not in model.vocab",
                                path, (long)rank);
        if ((rc = gq_pairmap_put(&t->merges, ia, ib, rank, im, err))) return rc;
        rank++;
    }
    return GQ_OK;
}

/* ------------------------------------------------------------------------ */

static int parse_behavior(const char *s, gq_split_behavior *b)
{
    static const struct { const char *name; gq_split_behavior b; } names[] = {
        {"Removed", GQ_SPLIT_REMOVED}, {"Isolated", GQ_SPLIT_ISOLATED},
        {"MergedWithPrevious", GQ_SPLIT_MERGED_PREV}, {"MergedWithNext", GQ_SPLIT_MERGED_NEXT},
        {"Contiguous", GQ_SPLIT_CONTIGUOUS}};
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0) {
            *b = names[i].b;
            return 1;
        }
    return 0;
}

static int parse_prepend(const cJSON *o, gq_prepend_scheme *p)
{
    const char *s = gq_json_str(o, "prepend_scheme");
    if (!s) { /* older files: add_prefix_space */
        *p = gq_json_bool(o, "add_prefix_space", 1) ? GQ_PREPEND_ALWAYS : GQ_PREPEND_NEVER;
        return 1;
    }
    if (strcmp(s, "always") == 0) *p = GQ_PREPEND_ALWAYS;
    else if (strcmp(s, "first") == 0) *p = GQ_PREPEND_FIRST;
    else if (strcmp(s, "never") == 0) *p = GQ_PREPEND_NEVER;
    else return 0;
    return 1;
}

static int load_pretok(gq_tokenizer *t, const cJSON *p, const char *path, int *bytelevel, gq_error *err)
{
    int rc;
    if (!p || cJSON_IsNull(p)) return GQ_OK;
    const char *type = gq_json_str(p, "type");
    if (!type) return gq_error_set(err, GQ_ERR_INVALID, "%s: pre_tokenizer has no type", path);
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(p, "pretokenizers")) {
            if ((rc = load_pretok(t, it, path, bytelevel, err))) return rc;
        }
        return GQ_OK;
    }
    if (*bytelevel)
        return gq_error_set(err, GQ_ERR_UNSUPPORTED, "%s: pre_tokenizer \"%s\" after ByteLevel is not supported", path, type);
    if (strcmp(type, "ByteLevel") == 0) {
        *bytelevel = 1;
        if ((rc = gq_tok_add_split(t, gq_json_bool(p, "use_regex", 1) ? gq_regex_gpt2 : NULL, GQ_SPLIT_ISOLATED, 0, path, err)))
            return rc;
        t->pre[t->n_pre - 1].prefix_space = gq_json_bool(p, "add_prefix_space", 0);
        return GQ_OK;
    }
    if (strcmp(type, "Split") == 0) {
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(p, "pattern");
        const char *re = gq_json_str(pat, "Regex"), *lit = gq_json_str(pat, "String");
        gq_split_behavior b;
        if (!parse_behavior(gq_json_str(p, "behavior"), &b))
            return gq_error_set(err, GQ_ERR_INVALID, "%s: pre_tokenizer Split has an unknown behavior", path);
        if (!re && !lit) return gq_error_set(err, GQ_ERR_INVALID, "%s: pre_tokenizer Split has no pattern", path);
        if (re) return gq_tok_add_split(t, re, b, gq_json_bool(p, "invert", 0), path, err);
        /* A literal: quote it for PCRE2. */
        size_t n = strlen(lit);
        char *q = gq_malloc(2 * n + 1, "split pattern", err);
        if (!q) return GQ_ERR_NOMEM;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (strchr("\\^$.|?*+()[]{}", lit[i])) q[k++] = '\\';
            q[k++] = lit[i];
        }
        q[k] = '\0';
        rc = gq_tok_add_split(t, q, b, gq_json_bool(p, "invert", 0), path, err);
        gq_free(q);
        return rc;
    }
    /* The word/punctuation splitters, each as regex splits with HF's
     * behaviour: Whitespace keeps the runs of \w (Oniguruma's Unicode word
     * set) or of other non-space chars; WhitespaceSplit drops whitespace;
     * Punctuation isolates each ASCII or Unicode punctuation char;
     * BertPreTokenizer does both of the last two. */
    static const char punct[] = "[\\p{P}!-/:-@\\[-`{-~]";
    if (strcmp(type, "Whitespace") == 0)
        return gq_tok_add_split(t, "[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\x{200C}\\x{200D}]+|"
                                "[^\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\x{200C}\\x{200D}\\s]+",
                                GQ_SPLIT_REMOVED, 1, path, err);
    if (strcmp(type, "WhitespaceSplit") == 0) return gq_tok_add_split(t, "\\s+", GQ_SPLIT_REMOVED, 0, path, err);
    if (strcmp(type, "Punctuation") == 0) {
        gq_split_behavior b = GQ_SPLIT_ISOLATED;
        if (gq_json_str(p, "behavior") && !parse_behavior(gq_json_str(p, "behavior"), &b))
            return gq_error_set(err, GQ_ERR_INVALID, "%s: pre_tokenizer Punctuation has an unknown behavior", path);
        return gq_tok_add_split(t, punct, b, 0, path, err);
    }
    if (strcmp(type, "BertPreTokenizer") == 0) {
        if ((rc = gq_tok_add_split(t, "\\s+", GQ_SPLIT_REMOVED, 0, path, err))) return rc;
        return gq_tok_add_split(t, punct, GQ_SPLIT_ISOLATED, 0, path, err);
    }
    if (strcmp(type, "CharDelimiterSplit") == 0) {
        const char *d = gq_json_str(p, "delimiter");
        size_t adv;
        if (!d || !*d || gq_utf8_next(d, strlen(d), &adv) < 0 || d[adv] != '\0')
            return gq_error_set(err, GQ_ERR_INVALID, "%s: pre_tokenizer CharDelimiterSplit needs a one-character delimiter",
                                path);
        char q[16];
        snprintf(q, sizeof q, "\\Q%s\\E", d);
        return gq_tok_add_split(t, q, GQ_SPLIT_REMOVED, 0, path, err);
    }
    if (strcmp(type, "Digits") == 0)
        return gq_tok_add_split(t, gq_json_bool(p, "individual_digits", 0) ? "\\p{N}" : "\\p{N}+", GQ_SPLIT_ISOLATED, 0,
                                path, err);
    if (strcmp(type, "Metaspace") == 0) {
        gq_pre_step *np = gq_realloc(t->pre, (t->n_pre + 1) * sizeof *np, "pre-tokenizer steps", err);
        if (!np) return GQ_ERR_NOMEM;
        t->pre = np;
        gq_pre_step *s = &t->pre[t->n_pre];
        memset(s, 0, sizeof *s);
        s->type = GQ_PRE_METASPACE;
        const char *r = gq_json_str(p, "replacement");
        if (!r || !*r || strlen(r) >= sizeof s->replacement)
            return gq_error_set(err, GQ_ERR_INVALID, "%s: pre_tokenizer Metaspace needs a one-character replacement", path);
        strcpy(s->replacement, r);
        if (!parse_prepend(p, &s->prepend))
            return gq_error_set(err, GQ_ERR_INVALID, "%s: pre_tokenizer Metaspace has an unknown prepend_scheme", path);
        s->split = gq_json_bool(p, "split", 1);
        t->n_pre++;
        return GQ_OK;
    }
    return gq_error_set(err, GQ_ERR_UNSUPPORTED,
                        "%s: pre_tokenizer \"%s\" is not supported (known: Sequence, ByteLevel, Split, Metaspace, Digits, Whitespace, "
                        "WhitespaceSplit, Punctuation, BertPreTokenizer, CharDelimiterSplit)",
                        path, type);
}

static int add_dec(gq_tokenizer *t, gq_dec_step **out, gq_error *err)
{
    gq_dec_step *nd = gq_realloc(t->dec, (t->n_dec + 1) * sizeof *nd, "decoder steps", err);
    if (!nd) return GQ_ERR_NOMEM;
    t->dec = nd;
    *out = &t->dec[t->n_dec++];
    memset(*out, 0, sizeof **out);
    return GQ_OK;
}

static int load_decoder(gq_tokenizer *t, const cJSON *d, const char *path, gq_error *err)
{
    gq_dec_step *s;
    int rc;
    if (!d || cJSON_IsNull(d)) return GQ_OK;
    t->has_decoder = 1;
    const char *type = gq_json_str(d, "type");
    if (!type) return gq_error_set(err, GQ_ERR_INVALID, "%s: decoder has no type", path);
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(d, "decoders")) {
            if ((rc = load_decoder(t, it, path, err))) return rc;
        }
        return GQ_OK;
    }
    if (strcmp(type, "ByteLevel") == 0 || strcmp(type, "ByteFallback") == 0 || strcmp(type, "Fuse") == 0) {
        if ((rc = add_dec(t, &s, err))) return rc;
        s->type = type[4] == 'L' ? GQ_DEC_BYTELEVEL : type[4] == 'F' ? GQ_DEC_BYTEFALLBACK : GQ_DEC_FUSE;
        return GQ_OK;
    }
    if (strcmp(type, "Replace") == 0) {
        const char *from = gq_json_str(cJSON_GetObjectItemCaseSensitive(d, "pattern"), "String");
        const char *to = gq_json_str(d, "content");
        if (!from || !to)
            return gq_error_set(err, GQ_ERR_UNSUPPORTED, "%s: decoder Replace needs a String pattern and a content", path);
        if ((rc = add_dec(t, &s, err))) return rc;
        s->type = GQ_DEC_REPLACE;
        if (!(s->from = gq_strdup(from, err)) || !(s->to = gq_strdup(to, err))) return GQ_ERR_NOMEM;
        return GQ_OK;
    }
    if (strcmp(type, "Strip") == 0) {
        const char *c = gq_json_str(d, "content");
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(d, "start"), *b = cJSON_GetObjectItemCaseSensitive(d, "stop");
        size_t adv;
        if (!c || !*c || !cJSON_IsNumber(a) || !cJSON_IsNumber(b))
            return gq_error_set(err, GQ_ERR_INVALID, "%s: decoder Strip needs content, start and stop", path);
        if ((rc = add_dec(t, &s, err))) return rc;
        s->type = GQ_DEC_STRIP;
        s->strip_char = (uint32_t)gq_utf8_next(c, strlen(c), &adv);
        s->start = a->valueint;
        s->stop = b->valueint;
        return GQ_OK;
    }
    if (strcmp(type, "Metaspace") == 0) {
        const char *r = gq_json_str(d, "replacement");
        if (!r || !*r) return gq_error_set(err, GQ_ERR_INVALID, "%s: decoder Metaspace has no replacement", path);
        if ((rc = add_dec(t, &s, err))) return rc;
        s->type = GQ_DEC_METASPACE;
        if (!parse_prepend(d, &s->prepend))
            return gq_error_set(err, GQ_ERR_INVALID, "%s: decoder Metaspace has an unknown prepend_scheme", path);
        if (!(s->from = gq_strdup(r, err))) return GQ_ERR_NOMEM;
        return GQ_OK;
    }
    return gq_error_set(err, GQ_ERR_UNSUPPORTED,
                        "%s: decoder \"%s\" is not supported (only ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, Sequence)",
                        path, type);
}

static int push_ids(int32_t **v, size_t *n, const int32_t *ids, size_t k, gq_error *err)
{
    if (k == 0) return GQ_OK;
    int32_t *nv = gq_realloc(*v, (*n + k) * sizeof *nv, "post-processor ids", err);
    if (!nv) return GQ_ERR_NOMEM;
    memcpy(nv + *n, ids, k * sizeof *ids);
    *v = nv;
    *n += k;
    return GQ_OK;
}

static int load_post(gq_tokenizer *t, const cJSON *p, const char *path, gq_error *err)
{
    int rc;
    if (!p || cJSON_IsNull(p)) return GQ_OK;
    const char *type = gq_json_str(p, "type");
    if (!type) return gq_error_set(err, GQ_ERR_INVALID, "%s: post_processor has no type", path);
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(p, "processors")) {
            if ((rc = load_post(t, it, path, err))) return rc;
        }
        return GQ_OK;
    }
    if (strcmp(type, "ByteLevel") == 0) return GQ_OK; /* offsets only */
    if (strcmp(type, "RobertaProcessing") == 0 || strcmp(type, "BertProcessing") == 0) {
        const cJSON *cls = cJSON_GetObjectItemCaseSensitive(p, "cls"), *sep = cJSON_GetObjectItemCaseSensitive(p, "sep");
        const cJSON *ci = cJSON_GetArrayItem(cls, 1), *si = cJSON_GetArrayItem(sep, 1);
        if (!cJSON_IsNumber(ci) || !cJSON_IsNumber(si))
            return gq_error_set(err, GQ_ERR_INVALID, "%s: post_processor %s needs cls and sep [token, id]", path, type);
        int32_t c = ci->valueint, s = si->valueint;
        if ((rc = push_ids(&t->prefix, &t->n_prefix, &c, 1, err))) return rc;
        return push_ids(&t->suffix, &t->n_suffix, &s, 1, err);
    }
    if (strcmp(type, "TemplateProcessing") == 0) {
        const cJSON *single = cJSON_GetObjectItemCaseSensitive(p, "single");
        const cJSON *specials = cJSON_GetObjectItemCaseSensitive(p, "special_tokens");
        const cJSON *it;
        int seen_seq = 0;
        if (!cJSON_IsArray(single))
            return gq_error_set(err, GQ_ERR_INVALID, "%s: post_processor TemplateProcessing has no \"single\" array", path);
        cJSON_ArrayForEach(it, single) {
            const cJSON *sp = cJSON_GetObjectItemCaseSensitive(it, "SpecialToken");
            if (cJSON_GetObjectItemCaseSensitive(it, "Sequence")) {
                seen_seq = 1;
                continue;
            }
            const char *name = gq_json_str(sp, "id");
            if (!name) return gq_error_set(err, GQ_ERR_INVALID, "%s: post_processor template item is neither Sequence nor SpecialToken", path);
            const cJSON *entry = cJSON_GetObjectItemCaseSensitive(specials, name);
            const cJSON *ids = cJSON_GetObjectItemCaseSensitive(entry, "ids"), *x;
            if (!cJSON_IsArray(ids))
                return gq_error_set(err, GQ_ERR_INVALID, "%s: post_processor special token \"%s\" has no ids", path, name);
            cJSON_ArrayForEach(x, ids) {
                if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble >= (double)t->n_vocab)
                    return gq_error_set(err, GQ_ERR_INVALID, "%s: post_processor special token \"%s\" has a bad id", path, name);
                int32_t id = (int32_t)x->valuedouble;
                if ((rc = seen_seq ? push_ids(&t->suffix, &t->n_suffix, &id, 1, err)
                                   : push_ids(&t->prefix, &t->n_prefix, &id, 1, err)))
                    return rc;
            }
        }
        return GQ_OK;
    }
    return gq_error_set(err, GQ_ERR_UNSUPPORTED, "%s: post_processor \"%s\" is not supported", path, type);
}

/* ------------------------------------------------------------------------ */

static int apply_config(gq_tokenizer *t, const cJSON *cfg, const char *cfg_path, gq_error *err)
{
    static const char *bos_names[] = {"<s>", "<|begin_of_text|>", "<bos>", "<|startoftext|>"};
    static const char *eos_names[] = {"</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>"};
    const char *bn = cfg ? token_name(cfg, "bos_token") : NULL;
    const char *en = cfg ? token_name(cfg, "eos_token") : NULL;
    if (bn) t->bos = lookup(t, bn);
    if (en) t->eos = lookup(t, en);
    if (bn && t->bos < 0)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: bos_token \"%s\" is not in the vocabulary", cfg_path, bn);
    if (en && t->eos < 0)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: eos_token \"%s\" is not in the vocabulary", cfg_path, en);
    if (t->bos < 0 && t->n_prefix) t->bos = t->prefix[0];
    if (t->eos < 0 && t->n_suffix) t->eos = t->suffix[t->n_suffix - 1];
    for (size_t i = 0; t->bos < 0 && i < sizeof bos_names / sizeof bos_names[0]; i++) t->bos = lookup(t, bos_names[i]);
    for (size_t i = 0; t->eos < 0 && i < sizeof eos_names / sizeof eos_names[0]; i++) t->eos = lookup(t, eos_names[i]);

    int tmpl_bos = 0, tmpl_eos = 0;
    for (size_t i = 0; i < t->n_prefix; i++) tmpl_bos |= t->prefix[i] == t->bos;
    for (size_t i = 0; i < t->n_suffix; i++) tmpl_eos |= t->suffix[i] == t->eos;
    const cJSON *ab = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, "add_bos_token") : NULL;
    const cJSON *ae = cfg ? cJSON_GetObjectItemCaseSensitive(cfg, "add_eos_token") : NULL;
    if (cJSON_IsBool(ab) || cJSON_IsBool(ae)) {
        int want_bos = cJSON_IsBool(ab) ? cJSON_IsTrue(ab) : tmpl_bos;
        int want_eos = cJSON_IsBool(ae) ? cJSON_IsTrue(ae) : tmpl_eos;
        if ((want_bos && t->bos < 0) || (want_eos && t->eos < 0))
            return gq_error_set(err, GQ_ERR_INVALID, "%s: add_%s_token is true but no %s token is known", cfg_path,
                                want_bos && t->bos < 0 ? "bos" : "eos", want_bos && t->bos < 0 ? "BOS" : "EOS");
        t->n_prefix = t->n_suffix = 0;
        int rc;
        if (want_bos && (rc = push_ids(&t->prefix, &t->n_prefix, &t->bos, 1, err))) return rc;
        if (want_eos && (rc = push_ids(&t->suffix, &t->n_suffix, &t->eos, 1, err))) return rc;
        t->adds_bos = want_bos;
        t->adds_eos = want_eos;
    } else {
        t->adds_bos = tmpl_bos;
        t->adds_eos = tmpl_eos;
    }
    return GQ_OK;
}

int gq_tokenizer_load_json(gq_tokenizer **out, const char *tokenizer_json, const char *tokenizer_config,
                           gq_error *err)
{
    gq_tokenizer *t = NULL;
    cJSON *root = NULL, *cfg = NULL;
    int rc;
    if (!out || !tokenizer_json)
        return gq_error_set(err, GQ_ERR_USAGE, "gq_tokenizer_load_json: NULL output or path");
    *out = NULL;
    if ((rc = gq_json_load_file(&root, tokenizer_json, err))) goto fail;
    if (!cJSON_IsObject(root)) {
        rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: not a JSON object", tokenizer_json);
        goto fail;
    }
    if (tokenizer_config && (rc = gq_json_load_file(&cfg, tokenizer_config, err))) goto fail;
    if ((rc = gq_tok_new(&t, tokenizer_json, err))) goto fail;
    if ((rc = load_model(t, root, tokenizer_json, err))) goto fail;
    if ((rc = gq_tok_load_normalizer(t, cJSON_GetObjectItemCaseSensitive(root, "normalizer"), tokenizer_json, err))) goto fail;
    int bytelevel = 0;
    if ((rc = load_pretok(t, cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"), tokenizer_json, &bytelevel, err)))
        goto fail;
    if ((rc = load_decoder(t, cJSON_GetObjectItemCaseSensitive(root, "decoder"), tokenizer_json, err))) goto fail;
    for (size_t i = 0; i < t->n_dec; i++) bytelevel |= t->dec[i].type == GQ_DEC_BYTELEVEL;
    t->kind = bytelevel ? GQ_TOK_KIND_BYTELEVEL : GQ_TOK_KIND_SPM;
    for (int b = 0; b < 256; b++) {
        char s[8];
        size_t n;
        if (bytelevel) {
            n = gq_bytelevel_char((uint8_t)b, s);
        } else {
            static const char hex[] = "0123456789ABCDEF";
            memcpy(s, "<0x", 3);
            s[3] = hex[b >> 4];
            s[4] = hex[b & 15];
            s[5] = '>';
            n = 6;
        }
        t->byte_id[b] = gq_strmap_get(&t->vocab, s, n);
    }
    if ((rc = load_post(t, cJSON_GetObjectItemCaseSensitive(root, "post_processor"), tokenizer_json, err))) goto fail;
    if ((rc = apply_config(t, cfg, tokenizer_config, err))) goto fail;
    if ((rc = gq_tok_finish(t, err))) goto fail;
    cJSON_Delete(root);
    cJSON_Delete(cfg);
    *out = t;
    return GQ_OK;
fail:
    gq_tokenizer_free(t);
    cJSON_Delete(root);
    cJSON_Delete(cfg);
    return rc;
}
