/* tokenizer_export.c — see tokenizer_export.h.  The pre-tokenizer family
 * lists mirror engine/tokenizer_gguf.c's gguf_pre(); a family added there
 * needs a line here too. */
#include "tokenizer_export.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "gguf.h"
#include "gq_alloc.h"
#include "tokenizer_internal.h"

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0) return 1;
    return 0;
}

static cJSON *split_regex(const char *re)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "type", "Split");
    cJSON *pat = cJSON_AddObjectToObject(s, "pattern");
    cJSON_AddStringToObject(pat, "Regex", re);
    cJSON_AddStringToObject(s, "behavior", "Isolated");
    cJSON_AddBoolToObject(s, "invert", 0);
    return s;
}

static cJSON *byte_level(int use_regex)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "type", "ByteLevel");
    cJSON_AddBoolToObject(b, "add_prefix_space", 0);
    cJSON_AddBoolToObject(b, "trim_offsets", 1);
    cJSON_AddBoolToObject(b, "use_regex", use_regex);
    return b;
}

/* The pre_tokenizer for a tokenizer.ggml.pre value; NULL if unknown. */
static cJSON *pre_tokenizer(const char *pre, int *ignore_merges)
{
    static const char *const gpt2[] = {"default", "gpt2", "gpt-2", "mpt", "olmo", "jais", NULL};
    static const char *const digits_gpt2[] = {"smollm", "starcoder", "refact", "command-r", "codeshell",
                                              "exaone", "minerva", NULL};
    static const char *const llama3[] = {"llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral", NULL};
    static const char *const qwen2[] = {"qwen2", "stablelm2", "deepseek-r1-qwen", "megrez", NULL};
    if (!pre) pre = "default";
    *ignore_merges = 0;
    cJSON *seq = cJSON_CreateObject(), *list;
    cJSON_AddStringToObject(seq, "type", "Sequence");
    list = cJSON_AddArrayToObject(seq, "pretokenizers");
    if (in_list(pre, gpt2)) {
        cJSON_AddItemToArray(list, byte_level(1));
    } else if (in_list(pre, digits_gpt2)) {
        cJSON *dg = cJSON_CreateObject();
        cJSON_AddStringToObject(dg, "type", "Digits");
        cJSON_AddBoolToObject(dg, "individual_digits", 1);
        cJSON_AddItemToArray(list, dg);
        cJSON_AddItemToArray(list, byte_level(1));
    } else if (in_list(pre, llama3)) {
        *ignore_merges = 1;
        cJSON_AddItemToArray(list, split_regex(gq_regex_llama3));
        cJSON_AddItemToArray(list, byte_level(0));
    } else if (in_list(pre, qwen2)) {
        cJSON_AddItemToArray(list, split_regex(gq_regex_qwen2));
        cJSON_AddItemToArray(list, byte_level(0));
    } else {
        cJSON_Delete(seq);
        return NULL;
    }
    return seq;
}

static const char *token_at(const char *const *toks, size_t n, int64_t id)
{
    return id >= 0 && (size_t)id < n ? toks[id] : NULL;
}

int gq_tokenizer_export_gguf(const struct gq_gguf *g, gq_convert_out *o, gq_error *err)
{
    const char *path = gq_gguf_path(g), *model = NULL, *pre = NULL;
    const char *const *toks = NULL, *const *merges = NULL;
    const size_t *tok_lens = NULL, *merge_lens = NULL;
    const int32_t *types = NULL;
    size_t n_tok = 0, n_merges = 0, n_types = 0;
    cJSON *root = NULL, *cfg = NULL;
    int rc;
    if ((rc = gq_gguf_get_str(g, "tokenizer.ggml.model", &model, err)) < 0) return rc;
    if (rc == 0 || strcmp(model, "gpt2") != 0)
        return gq_error_set(err, GQ_ERR_UNSUPPORTED, "%s: tokenizer.ggml.model \"%s\": only gpt2 (byte-level BPE) "
                            "tokenizers are exported to tokenizer.json", path, rc ? model : "(none)");
    if ((rc = gq_gguf_get_str(g, "tokenizer.ggml.pre", &pre, err)) < 0) return rc;
    if ((rc = gq_gguf_get_str_array(g, "tokenizer.ggml.tokens", &toks, &tok_lens, &n_tok, err)) < 0) return rc;
    if ((rc = gq_gguf_get_str_array(g, "tokenizer.ggml.merges", &merges, &merge_lens, &n_merges, err)) < 0) return rc;
    if ((rc = gq_gguf_get_i32_array(g, "tokenizer.ggml.token_type", &types, &n_types, err)) < 0) return rc;
    int ignore_merges = 0;
    cJSON *pt = pre_tokenizer(pre, &ignore_merges);
    if (!pt)
        return gq_error_set(err, GQ_ERR_UNSUPPORTED, "%s: tokenizer.ggml.pre \"%s\" has no tokenizer.json export", path,
                            pre ? pre : "default");
    root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "version", "1.0");
    cJSON_AddNullToObject(root, "truncation");
    cJSON_AddNullToObject(root, "padding");
    cJSON *added = cJSON_AddArrayToObject(root, "added_tokens");
    for (size_t i = 0; i < n_tok && i < n_types; i++) {
        int t = types[i];
        if (t != 2 && t != 3 && t != 4) continue;
        if (strlen(toks[i]) != tok_lens[i]) continue; /* a NUL inside cannot be a JSON key we read back */
        cJSON *a = cJSON_CreateObject();
        cJSON_AddNumberToObject(a, "id", (double)i);
        cJSON_AddStringToObject(a, "content", toks[i]);
        cJSON_AddBoolToObject(a, "single_word", 0);
        cJSON_AddBoolToObject(a, "lstrip", 0);
        cJSON_AddBoolToObject(a, "rstrip", 0);
        cJSON_AddBoolToObject(a, "normalized", t == 4);
        cJSON_AddBoolToObject(a, "special", t != 4);
        cJSON_AddItemToArray(added, a);
    }
    cJSON_AddNullToObject(root, "normalizer");
    cJSON_AddItemToObject(root, "pre_tokenizer", pt);
    cJSON_AddNullToObject(root, "post_processor");
    cJSON *dec = cJSON_AddObjectToObject(root, "decoder");
    cJSON_AddStringToObject(dec, "type", "ByteLevel");
    cJSON_AddBoolToObject(dec, "add_prefix_space", 1);
    cJSON_AddBoolToObject(dec, "trim_offsets", 1);
    cJSON_AddBoolToObject(dec, "use_regex", 1);
    cJSON *m = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(m, "type", "BPE");
    cJSON_AddNullToObject(m, "dropout");
    cJSON_AddNullToObject(m, "unk_token");
    cJSON_AddNullToObject(m, "continuing_subword_prefix");
    cJSON_AddNullToObject(m, "end_of_word_suffix");
    cJSON_AddBoolToObject(m, "fuse_unk", 0);
    cJSON_AddBoolToObject(m, "byte_fallback", 0);
    cJSON_AddBoolToObject(m, "ignore_merges", ignore_merges);
    cJSON *vocab = cJSON_AddObjectToObject(m, "vocab");
    for (size_t i = 0; i < n_tok; i++)
        if (strlen(toks[i]) == tok_lens[i] && !cJSON_GetObjectItemCaseSensitive(vocab, toks[i]))
            cJSON_AddNumberToObject(vocab, toks[i], (double)i);
    cJSON *ml = cJSON_AddArrayToObject(m, "merges");
    for (size_t i = 0; i < n_merges; i++) cJSON_AddItemToArray(ml, cJSON_CreateString(merges[i]));
    /* tokenizer_config.json: the BOS/EOS policy of the GGUF. */
    cfg = cJSON_CreateObject();
    int add_bos = 0, add_eos = 0;
    int64_t bos = -1, eos = -1;
    if (gq_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &add_bos, err) < 0 ||
        gq_gguf_get_bool(g, "tokenizer.ggml.add_eos_token", &add_eos, err) < 0 ||
        gq_gguf_get_i64(g, "tokenizer.ggml.bos_token_id", &bos, err) < 0 ||
        gq_gguf_get_i64(g, "tokenizer.ggml.eos_token_id", &eos, err) < 0) {
        rc = err ? (int)err->status : GQ_ERR_INVALID;
        goto done;
    }
    cJSON_AddBoolToObject(cfg, "add_bos_token", add_bos);
    cJSON_AddBoolToObject(cfg, "add_eos_token", add_eos);
    if (token_at(toks, n_tok, bos)) cJSON_AddStringToObject(cfg, "bos_token", token_at(toks, n_tok, bos));
    if (token_at(toks, n_tok, eos)) cJSON_AddStringToObject(cfg, "eos_token", token_at(toks, n_tok, eos));
    cJSON_AddStringToObject(cfg, "tokenizer_class", "GPT2Tokenizer");
    if ((rc = gq_out_write_json(o, "tokenizer.json", root, err)) != GQ_OK) goto done;
    rc = gq_out_write_json(o, "tokenizer_config.json", cfg, err);
done:
    cJSON_Delete(root);
    cJSON_Delete(cfg);
    return rc;
}
