/* test_tokenizer_families.c — the tokenizers of the model families we claim
 * (Qwen2/2.5/3, Qwen3.5, LLaMA-3, LLaMA-2, Mistral, Phi-3, SmolLM2,
 * DeepSeek-V2/V3, Gemma, GLM-4) and the normalizers none of them uses, each
 * against Hugging Face `tokenizers` on a 1,600-line multilingual text
 * (composed and decomposed accents, Cyrillic, Greek, CJK, Arabic,
 * Devanagari, ZWJ and skin-tone emoji, combining marks, compatibility
 * characters, digits, whitespace runs, the family's special tokens inside
 * text): every line encoded with and without special tokens, the whole text
 * once, every 7th line decoded with and without skip_special.  Fixtures and
 * where each vocabulary comes from: tests/reference/make_family_tokenizers.py
 * (tests/fixtures/tokenizer/families/SOURCES.txt).
 *
 * Plus: a tokenizer.json with a normalizer, pre-tokenizer or decoder we do
 * not know makes `gqla-eval tokenize` exit 2 naming the component and the file.
 */
#define _POSIX_C_SOURCE 200809L
#include "test_tokenizer_common.h"

#include <sys/stat.h>

#include "gq_error.h"

static const struct {
    const char *name;
    int has_config;
} families[] = {
    {"qwen2", 0},       {"qwen35", 0},      {"llama3", 0},      {"llama2", 1},
    {"mistral", 1},     {"phi3", 0},        {"smollm2", 0},     {"deepseek_v2", 0},
    {"deepseek_v3", 0}, {"gemma2", 0},      {"glm4", 0},        {"norm_nfd_accents_lower", 0},
    {"norm_nfkc_strip", 0}, {"norm_nfkd_regex", 0}, {"norm_bert", 0}, {"norm_precompiled", 0},
};

/* real.json: llama.cpp's test strings with the ids the family's REAL
 * tokenizer.json gave them (convert_hf_to_gguf_update.py, add_special_tokens
 * False).  Tests whose ids the layout rebuilt here does not reproduce in HF
 * itself are listed in "layout_differs" and skipped (none today). */
static void check_real(const char *fam, const gq_tokenizer *t)
{
    char rel[512], what[512];
    snprintf(rel, sizeof rel, "tokenizer/families/%s/real.json", fam);
    char *data = test_read_file(test_fixture(rel), NULL);
    if (!data) return; /* the family has no llama.cpp test file */
    cJSON *root = cJSON_Parse(data);
    free(data);
    const cJSON *tests = cJSON_GetObjectItemCaseSensitive(root, "tests");
    const cJSON *skip = cJSON_GetObjectItemCaseSensitive(root, "layout_differs");
    size_t n = 0, bad = 0, skipped = 0;
    int idx = -1;
    const cJSON *it;
    cJSON_ArrayForEach(it, tests) {
        idx++;
        const cJSON *sk;
        int skip_it = 0;
        cJSON_ArrayForEach(sk, skip) skip_it |= cJSON_IsNumber(sk) && (int)sk->valuedouble == idx;
        if (skip_it) {
            skipped++;
            continue;
        }
        const char *text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "text"));
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(it, "ids");
        if (!text || !cJSON_IsArray(ids)) continue;
        gq_tokens got = {0};
        gq_error err = {0};
        int rc = gq_tokenizer_encode(t, text, strlen(text), 0, &got, &err);
        int same = rc == 0 && got.n == (size_t)cJSON_GetArraySize(ids);
        for (size_t k = 0; same && k < got.n; k++) same = got.ids[k] == (int32_t)cJSON_GetArrayItem(ids, (int)k)->valuedouble;
        n++;
        if (!same && bad++ < 3) {
            fprintf(stderr, "  %s: real-tokenizer test %d \"%.80s\" differs%s%s\n", fam, idx, text, rc ? ": " : "",
                    rc ? err.msg : "");
            tt_print_ids("got ", got.ids, got.n);
        }
        gq_tokens_free(&got);
    }
    cJSON_Delete(root);
    printf("%s: %zu llama.cpp test strings against the real tokenizer's ids, %zu differ, %zu skipped\n", fam, n, bad,
           skipped);
    snprintf(what, sizeof what, "%s: the real tokenizer's ids on %zu llama.cpp test strings (%zu differ, %zu skipped)",
             fam, n, bad, skipped);
    test_cond(what, n > 0 && bad == 0);
}

static void check_family(const char *fam, int has_config, const char *dir)
{
    char rel[512], what[512], json[4096], cfg[4096], txt[4096];
    snprintf(rel, sizeof rel, "tokenizer/families/%s/tokenizer.json.gz", fam);
    snprintf(what, sizeof what, "%s.tokenizer.json", fam);
    const char *p = tt_gunzip_to(test_fixture(rel), dir, what);
    snprintf(json, sizeof json, "%s", p ? p : "");
    snprintf(rel, sizeof rel, "tokenizer/families/%s/text.txt.gz", fam);
    snprintf(what, sizeof what, "%s.text.txt", fam);
    p = tt_gunzip_to(test_fixture(rel), dir, what);
    snprintf(txt, sizeof txt, "%s", p ? p : "");
    snprintf(rel, sizeof rel, "tokenizer/families/%s/tokenizer_config.json", fam);
    snprintf(cfg, sizeof cfg, "%s", test_fixture(rel));

    tt_text text;
    snprintf(what, sizeof what, "%s: fixture files readable", fam);
    if (!test_cond(what, json[0] && txt[0] && tt_load_text(&text, txt) == 0)) return;
    snprintf(what, sizeof what, "%s: the text has >= 1500 lines (%zu)", fam, text.n);
    test_cond(what, text.n >= 1500);

    gq_tokenizer *t = NULL;
    gq_error err = {0};
    int rc = gq_tokenizer_load_json(&t, json, has_config ? cfg : NULL, &err);
    if (rc) fprintf(stderr, "%s: %s\n", fam, err.msg);
    snprintf(what, sizeof what, "%s: tokenizer.json loads", fam);
    if (test_cond(what, rc == 0)) {
        tt_result r;
        snprintf(rel, sizeof rel, "tokenizer/families/expected_%s.txt.gz", fam);
        rc = tt_compare(fam, t, &text, test_fixture(rel), &r);
        snprintf(what, sizeof what, "%s: expected ids readable", fam);
        test_cond(what, rc == 0 && r.compared > text.n);
        snprintf(what, sizeof what, "%s: 0 mismatching encodings (of %zu)", fam, r.compared);
        test_cond(what, r.mismatched == 0);
        snprintf(what, sizeof what, "%s: 0 mismatching decodings (of %zu)", fam, r.dec_compared);
        test_cond(what, r.dec_compared > 0 && r.dec_mismatched == 0);
        check_real(fam, t);
    }
    gq_tokenizer_free(t);
    tt_free_text(&text);
}

/* A small valid tokenizer.json with one component replaced by an unknown type. */
static void check_unknown_component(const char *tmp, const char *key, const char *node, const char *expect)
{
    char dir[4096], path[4200], args[8600], what[768];
    snprintf(dir, sizeof dir, "%s/unknown-%s", tmp, key);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    char json[2048];
    snprintf(json, sizeof json,
             "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2}, \"merges\": [\"a b\"]},"
             " \"added_tokens\": [], \"%s\": %s}", key, node);
    test_write_file(path, json, strlen(json));
    char *out = NULL;
    snprintf(args, sizeof args, "tokenize '%s' --text x", dir);
    int rc = test_run_cli(args, &out);
    snprintf(what, sizeof what, "unknown %s: exit 2 naming %s and the file (exit %d)", key, expect, rc);
    test_cond(what, rc == 2 && test_has(out, expect) && test_has(out, path));
    free(out);
}

int main(void)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", test_tmpdir("tokenizer_families"));
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        check_family(families[i].name, families[i].has_config, dir);

    check_unknown_component(dir, "normalizer", "{\"type\": \"Nmt\"}", "normalizer \"Nmt\"");
    check_unknown_component(dir, "normalizer", "{\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"NFC\"}, "
                            "{\"type\": \"ByteLevel\"}]}", "normalizer \"ByteLevel\"");
    check_unknown_component(dir, "pre_tokenizer", "{\"type\": \"UnicodeScripts\"}", "pre_tokenizer \"UnicodeScripts\"");
    check_unknown_component(dir, "decoder", "{\"type\": \"CTC\"}", "decoder \"CTC\"");
    return test_report("test_tokenizer_families");
}
