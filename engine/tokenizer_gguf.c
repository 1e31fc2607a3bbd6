/* tokenizer_gguf.c — gq_tokenizer_load_gguf: the tokenizer embedded in a
 * GGUF file, read as llama.cpp reads it.
 *
 *   tokenizer.ggml.model "gpt2"  -> byte-level BPE: .tokens, .merges ("a b"),
 *       merges by rank; tokenizer.ggml.pre picks the split regex(es) as
 *       llama.cpp's llama-vocab does ("smollm" = each digit alone, then the
 *       GPT-2 regex; "llama-bpe" = LLaMA-3 regex + ignore_merges; ...).
 *   tokenizer.ggml.model "llama" -> SentencePiece BPE: .tokens + .scores,
 *       merges by highest score (llama.cpp's SPM tokenizer), <0xNN> byte
 *       fallback, a "▁" prefix on each text fragment when
 *       tokenizer.ggml.add_space_prefix (default true).
 *   token_type 2 (unknown) and 3 (control) -> special added tokens, 4
 *   (user-defined) -> added token; all are matched whole in the text before
 *   BPE (llama.cpp's special-token cache holds the same three types).
 *   BOS/EOS: tokenizer.ggml.bos_token_id / eos_token_id, added when
 *   tokenizer.ggml.add_bos_token / add_eos_token say so (defaults: llama adds
 *   BOS, gpt2 adds nothing).
 * Note: transformers' GGUF converter ignores tokenizer.ggml.pre (it gives
 * SmolLM2 plain ByteLevel, splitting digit runs differently); we follow
 * llama.cpp and the original tokenizer here.
 * Tested by tests/test_tokenizer_gguf.c on SmolLM2-135M-Instruct.
 */
#include <string.h>

#include "gguf.h"
#include "gq_alloc.h"
#include "tokenizer_internal.h"

/* tokenizer.ggml.pre -> split regexes, applied one after the other (each
 * Isolated), as llama.cpp's llama-vocab.cpp does for the families we know.
 * The DeepSeek patterns are those of the families' tokenizer.json files. */
static const char re_deepseek_letters[] =
    "\\s?[A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af\u0370-\u0373"
    "\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481\u048a-\u052f"
    "\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf\u1d00-\u1d2b\u1d6b-\u1d77"
    "\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d"
    "\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4"
    "\u1ff6-\u1ffc\u2102\u2107\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139"
    "\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3\ua640-\ua66d"
    "\ua680-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a"
    "\uff41-\uff5a\U00010400-\U0001044f\U000104b0-\U000104d3\U000104d8-\U000104fb\U00010c80-\U00010cb2"
    "\U00010cc0-\U00010cf2\U000118a0-\U000118df\U0001e900-\U0001e943]+";
static const char *const re_deepseek_llm[] = {
    "[\\r\\n]", re_deepseek_letters,
    "\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+", "\\s+$",
    "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+", "\\p{N}+", NULL};
static const char *const re_deepseek_v3[] = {
    "\\p{N}{1,3}", "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+|"
    " ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL};
static const char *const re_deepseek_coder[] = {
    "[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+", "\\p{N}", NULL};
static const char *const re_gpt2[] = {gq_regex_gpt2, NULL};
static const char *const re_digits_gpt2[] = {"\\p{N}", gq_regex_gpt2, NULL};
static const char *const re_llama3[] = {gq_regex_llama3, NULL};
static const char *const re_qwen2[] = {gq_regex_qwen2, NULL};
static const char *const re_qwen35[] = {
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    NULL};

static const struct {
    const char *names[8];
    const char *const *regexes;
    int ignore_merges; /* llama.cpp sets it for the LLaMA-3 group only */
} gguf_pre_table[] = {
    {{"default", "gpt2", "gpt-2", "mpt", "olmo", "jais", "phi-2"}, re_gpt2, 0},
    {{"smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva"}, re_digits_gpt2, 0},
    {{"llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral"}, re_llama3, 1},
    {{"qwen2", "stablelm2", "deepseek-r1-qwen", "megrez"}, re_qwen2, 0},
    {{"qwen35"}, re_qwen35, 0},
    {{"chatglm-bpe", "glm4"}, re_llama3, 0},
    {{"deepseek-llm"}, re_deepseek_llm, 0},
    {{"deepseek-v3"}, re_deepseek_v3, 0},
    {{"deepseek-coder"}, re_deepseek_coder, 0},
};

static int gguf_pre(gq_tokenizer *t, const char *pre, const char *path, gq_error *err)
{
    if (!pre) pre = "default";
    for (size_t i = 0; i < sizeof gguf_pre_table / sizeof gguf_pre_table[0]; i++)
        for (size_t k = 0; k < 8 && gguf_pre_table[i].names[k]; k++) {
            if (strcmp(pre, gguf_pre_table[i].names[k]) != 0) continue;
            t->ignore_merges = gguf_pre_table[i].ignore_merges;
            for (const char *const *re = gguf_pre_table[i].regexes; *re; re++) {
                int rc = gq_tok_add_split(t, *re, GQ_SPLIT_ISOLATED, 0, path, err);
                if (rc) return rc;
            }
            return GQ_OK;
        }
    return gq_error_set(err, GQ_ERR_UNSUPPORTED,
                        "%s: tokenizer.ggml.pre \"%s\" is not supported (known: default, gpt2, smollm, starcoder, "
                        "llama-bpe, qwen2, qwen35, deepseek-r1-qwen, deepseek-llm, deepseek-v3, deepseek-coder, "
                        "chatglm-bpe, glm4 and their aliases)",
                        path, pre);
}

static int add_dec(gq_tokenizer *t, gq_dec_type type, const char *from, const char *to, gq_error *err)
{
    gq_dec_step *nd = gq_realloc(t->dec, (t->n_dec + 1) * sizeof *nd, "decoder steps", err);
    if (!nd) return GQ_ERR_NOMEM;
    t->dec = nd;
    gq_dec_step *s = &t->dec[t->n_dec++];
    memset(s, 0, sizeof *s);
    s->type = type;
    if ((from && !(s->from = gq_strdup(from, err))) || (to && !(s->to = gq_strdup(to, err)))) return GQ_ERR_NOMEM;
    if (type == GQ_DEC_STRIP) {
        s->strip_char = ' ';
        s->start = 1;
    }
    t->has_decoder = 1;
    return GQ_OK;
}

/* Optional integer id key: -1 when absent; error when present but bad. */
static int get_id(const gq_gguf *g, const char *key, size_t n_vocab, int32_t *out, gq_error *err)
{
    int64_t v = -1;
    int rc = gq_gguf_get_i64(g, key, &v, err);
    *out = -1;
    if (rc < 0) return rc;
    if (rc == 0) return GQ_OK;
    if (v < 0 || (uint64_t)v >= n_vocab)
        return gq_error_set(err, GQ_ERR_INVALID, "%s: %s = %lld is outside the vocabulary (%zu tokens)",
                            gq_gguf_path(g), key, (long long)v, n_vocab);
    *out = (int32_t)v;
    return GQ_OK;
}

static int get_flag(const gq_gguf *g, const char *key, int dflt, int *out, gq_error *err)
{
    int v = dflt;
    int rc = gq_gguf_get_bool(g, key, &v, err);
    if (rc < 0) return rc;
    *out = rc ? v : dflt;
    return GQ_OK;
}

int gq_tokenizer_load_gguf(gq_tokenizer **out, const struct gq_gguf *g, gq_error *err)
{
    gq_tokenizer *t = NULL;
    const char *path, *model = NULL, *pre = NULL;
    const char *const *toks = NULL, *const *merges = NULL;
    const size_t *tok_lens = NULL, *merge_lens = NULL;
    const int32_t *types = NULL;
    const float *scores = NULL;
    size_t n_tok = 0, n_merges = 0, n_types = 0, n_scores = 0;
    int rc;
    if (!out || !g) return gq_error_set(err, GQ_ERR_USAGE, "gq_tokenizer_load_gguf: NULL output or file");
    *out = NULL;
    path = gq_gguf_path(g);
    if ((rc = gq_gguf_get_str(g, "tokenizer.ggml.model", &model, err)) < 0) goto fail;
    if (rc == 0) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: no tokenizer.ggml.model; this GGUF carries no tokenizer", path);
        goto fail;
    }
    int is_gpt2 = strcmp(model, "gpt2") == 0, is_llama = strcmp(model, "llama") == 0;
    if (!is_gpt2 && !is_llama) {
        rc = gq_error_set(err, GQ_ERR_UNSUPPORTED,
                          "%s: tokenizer.ggml.model \"%s\" is not supported (only \"gpt2\" and \"llama\")", path, model);
        goto fail;
    }
    if ((rc = gq_gguf_get_str_array(g, "tokenizer.ggml.tokens", &toks, &tok_lens, &n_tok, err)) < 0) goto fail;
    if (rc == 0 || n_tok == 0) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: tokenizer.ggml.tokens is missing or empty", path);
        goto fail;
    }
    if ((rc = gq_gguf_get_i32_array(g, "tokenizer.ggml.token_type", &types, &n_types, err)) < 0) goto fail;
    if (rc == 1 && n_types != n_tok) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: tokenizer.ggml.token_type has %zu entries for %zu tokens", path,
                          n_types, n_tok);
        goto fail;
    }
    if (rc == 0) types = NULL;

    if ((rc = gq_tok_new(&t, path, err))) goto fail;
    if ((rc = gq_tok_alloc_vocab(t, n_tok, err))) goto fail;
    for (size_t i = 0; i < n_tok; i++) {
        if ((rc = gq_tok_set_token(t, (int32_t)i, toks[i], tok_lens[i], err))) goto fail;
        /* Earlier ids win on duplicate texts, as llama.cpp's token_to_id. */
        if (gq_strmap_get(&t->vocab, t->tok_text[i], t->tok_len[i]) < 0 &&
            (rc = gq_strmap_put(&t->vocab, t->tok_text[i], t->tok_len[i], (int32_t)i, err)))
            goto fail;
        int ty = types ? types[i] : 1;
        if (ty == 2 || ty == 3 || ty == 4) { /* unknown, control, user-defined */
            if ((rc = gq_tok_add_added(t, toks[i], tok_lens[i], (int32_t)i, ty == 4 ? 0 : GQ_ADDED_SPECIAL, err)))
                goto fail;
        }
    }

    int add_bos = 0, add_eos = 0;
    if (is_gpt2) {
        t->kind = GQ_TOK_KIND_BYTELEVEL;
        if ((rc = gq_gguf_get_str_array(g, "tokenizer.ggml.merges", &merges, &merge_lens, &n_merges, err)) < 0) goto fail;
        if (rc == 0) {
            rc = gq_error_set(err, GQ_ERR_INVALID, "%s: tokenizer.ggml.merges is missing (needed for a gpt2 tokenizer)", path);
            goto fail;
        }
        for (size_t i = 0; i < n_merges; i++) {
            const char *m = merges[i], *sp = memchr(m, ' ', merge_lens[i]);
            if (!sp || sp == m || (size_t)(sp - m) + 1 >= merge_lens[i]) {
                rc = gq_error_set(err, GQ_ERR_INVALID, "%s: tokenizer.ggml.merges[%zu] is not \"left right\"", path, i);
                goto fail;
            }
            size_t al = (size_t)(sp - m), bl = merge_lens[i] - al - 1;
            int32_t ia = gq_strmap_get(&t->vocab, m, al), ib = gq_strmap_get(&t->vocab, sp + 1, bl);
            char small[512];
            char *ab = al + bl < sizeof small ? small : gq_malloc(al + bl + 1, "merge", err);
            if (!ab) {
                rc = GQ_ERR_NOMEM;
                goto fail;
            }
            memcpy(ab, m, al);
            memcpy(ab + al, sp + 1, bl);
            int32_t im = gq_strmap_get(&t->vocab, ab, al + bl);
            if (ab != small) gq_free(ab);
            if (ia < 0 || ib < 0 || im < 0) {
                rc = gq_error_set(err, GQ_ERR_INVALID, "%s: tokenizer.ggml.merges[%zu] uses a token not in tokenizer.ggml.tokens",
                                  path, i);
                goto fail;
            }
            if ((rc = gq_pairmap_put(&t->merges, ia, ib, (int32_t)i, im, err))) goto fail;
        }
        if ((rc = gq_gguf_get_str(g, "tokenizer.ggml.pre", &pre, err)) < 0) goto fail;
        if ((rc = gguf_pre(t, rc == 1 ? pre : NULL, path, err))) goto fail;
        for (int b = 0; b < 256; b++) {
            char s[4];
            size_t n = gq_bytelevel_char((uint8_t)b, s);
            t->byte_id[b] = gq_strmap_get(&t->vocab, s, n);
        }
        if ((rc = add_dec(t, GQ_DEC_BYTELEVEL, NULL, NULL, err))) goto fail;
    } else {
        int space_prefix = 1;
        t->kind = GQ_TOK_KIND_SPM;
        if ((rc = gq_gguf_get_f32_array(g, "tokenizer.ggml.scores", &scores, &n_scores, err)) < 0) goto fail;
        if (rc == 0 || n_scores != n_tok) {
            rc = gq_error_set(err, GQ_ERR_INVALID, "%s: tokenizer.ggml.scores is missing or does not match the %zu tokens",
                              path, n_tok);
            goto fail;
        }
        t->scores = gq_malloc(n_tok * sizeof *t->scores, "token scores", err);
        if (!t->scores) {
            rc = GQ_ERR_NOMEM;
            goto fail;
        }
        memcpy(t->scores, scores, n_tok * sizeof *t->scores);
        t->use_scores = 1;
        t->byte_fallback = 1;
        if ((rc = get_flag(g, "tokenizer.ggml.add_space_prefix", 1, &space_prefix, err))) goto fail;
        if (space_prefix && (rc = gq_tok_add_norm(t, GQ_NORM_PREPEND, NULL, "\xE2\x96\x81", err))) goto fail;
        if ((rc = gq_tok_add_norm(t, GQ_NORM_REPLACE, " ", "\xE2\x96\x81", err))) goto fail;
        for (int b = 0; b < 256; b++) {
            static const char hex[] = "0123456789ABCDEF";
            char s[6] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
            t->byte_id[b] = gq_strmap_get(&t->vocab, s, 6);
        }
        if ((rc = add_dec(t, GQ_DEC_REPLACE, "\xE2\x96\x81", " ", err)) || (rc = add_dec(t, GQ_DEC_BYTEFALLBACK, NULL, NULL, err)) ||
            (rc = add_dec(t, GQ_DEC_FUSE, NULL, NULL, err)))
            goto fail;
        if (space_prefix && (rc = add_dec(t, GQ_DEC_STRIP, NULL, NULL, err))) goto fail;
    }

    if ((rc = get_id(g, "tokenizer.ggml.bos_token_id", n_tok, &t->bos, err)) ||
        (rc = get_id(g, "tokenizer.ggml.eos_token_id", n_tok, &t->eos, err)) ||
        (rc = get_id(g, "tokenizer.ggml.unknown_token_id", n_tok, &t->unk_id, err)))
        goto fail;
    if ((rc = get_flag(g, "tokenizer.ggml.add_bos_token", is_llama, &add_bos, err)) ||
        (rc = get_flag(g, "tokenizer.ggml.add_eos_token", 0, &add_eos, err)))
        goto fail;
    if (is_gpt2) t->unk_id = -1; /* byte-level BPE never needs it */
    if ((add_bos && t->bos < 0) || (add_eos && t->eos < 0)) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: tokenizer.ggml.add_%s_token is true but there is no %s token id", path,
                          add_bos && t->bos < 0 ? "bos" : "eos", add_bos && t->bos < 0 ? "bos" : "eos");
        goto fail;
    }
    if (add_bos) {
        if (!(t->prefix = gq_malloc(sizeof *t->prefix, "BOS", err))) {
            rc = GQ_ERR_NOMEM;
            goto fail;
        }
        t->prefix[0] = t->bos;
        t->n_prefix = 1;
    }
    if (add_eos) {
        if (!(t->suffix = gq_malloc(sizeof *t->suffix, "EOS", err))) {
            rc = GQ_ERR_NOMEM;
            goto fail;
        }
        t->suffix[0] = t->eos;
        t->n_suffix = 1;
    }
    t->adds_bos = add_bos;
    t->adds_eos = add_eos;
    if ((rc = gq_tok_finish(t, err))) goto fail;
    *out = t;
    return GQ_OK;
fail:
    gq_tokenizer_free(t);
    return rc;
}
