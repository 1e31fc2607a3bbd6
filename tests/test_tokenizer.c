/* test_tokenizer.c — tokenizer.json tokenizers against Hugging Face
 * `tokenizers`: every line of tests/fixtures/tokenizer/text.txt (and the
 * whole text once) for SmolLM2 (from transformers' GGUF loader), a
 * LLaMA-3-style byte-level BPE, a LLaMA-2-style SentencePiece BPE and a
 * Mistral-style Metaspace variant; expected ids come from
 * tests/reference/make_tokenizer_fixtures.py.  Plus unit checks: round
 * trips, bad files, tokenizer_config overrides, invalid UTF-8.
 */
#define _POSIX_C_SOURCE 200809L
#include "test_tokenizer_common.h"

#include "gq_error.h"

static gq_tokenizer *load(const char *json, const char *cfg)
{
    gq_tokenizer *t = NULL;
    gq_error err = {0};
    if (gq_tokenizer_load_json(&t, json, cfg, &err) != 0) {
        fprintf(stderr, "load %s: %s\n", json, err.msg);
        return NULL;
    }
    return t;
}

static void check_parity(const char *name, const gq_tokenizer *t, const tt_text *text, const char *expected)
{
    tt_result r;
    char what[256];
    int rc = tt_compare(name, t, text, test_fixture(expected), &r);
    snprintf(what, sizeof what, "%s: expected ids readable", name);
    test_cond(what, rc == 0 && r.compared > (size_t)text->n);
    snprintf(what, sizeof what, "%s: 0 mismatching encodings (of %zu)", name, r.compared);
    test_cond(what, r.mismatched == 0);
    snprintf(what, sizeof what, "%s: 0 mismatching decodings (of %zu)", name, r.dec_compared);
    test_cond(what, r.dec_compared > 0 && r.dec_mismatched == 0);
}

/* decode(encode(x)) == x for every line: byte-level BPE is lossless, except
 * around added tokens with lstrip/rstrip, which swallow the whitespace next
 * to them (lines holding `lossy` are skipped; NULL = none). */
static void check_roundtrip(const char *name, const gq_tokenizer *t, const tt_text *text, const char *const *lossy)
{
    size_t bad = 0, skipped = 0;
    for (size_t i = 0; i < text->n; i++) {
        int skip = 0;
        for (const char *const *l = lossy; l && *l; l++) {
            size_t ll = strlen(*l);
            for (size_t k = 0; !skip && k + ll <= text->len[i]; k++) skip = memcmp(text->line[i] + k, *l, ll) == 0;
        }
        if (skip) {
            skipped++;
            continue;
        }
        gq_tokens ids = {0};
        gq_error err = {0};
        char *dec = NULL;
        int rc = gq_tokenizer_encode(t, text->line[i], text->len[i], 0, &ids, &err);
        if (rc == 0) rc = gq_tokenizer_decode(t, ids.ids, ids.n, 0, &dec, &err);
        if (rc != 0 || strlen(dec) != text->len[i] || memcmp(dec, text->line[i], text->len[i]) != 0) {
            if (bad++ < 3) fprintf(stderr, "  %s round trip differs on line %zu: \"%s\"\n", name, i, dec ? dec : err.msg);
        }
        gq_free(dec);
        gq_tokens_free(&ids);
    }
    char what[256];
    snprintf(what, sizeof what, "%s: decode(encode(line)) == line for %zu lines (%zu differ)", name,
             text->n - skipped, bad);
    test_cond(what, bad == 0 && skipped < text->n / 4);
}

static void check_bad_files(const char *dir)
{
    char path[4200];
    gq_tokenizer *t = NULL;
    gq_error err = {0};

    snprintf(path, sizeof path, "%s/notjson.json", dir);
    test_write_file(path, "{ this is not json", 18);
    int rc = gq_tokenizer_load_json(&t, path, NULL, &err);
    test_cond("not JSON gives GQ_ERR_FORMAT", rc == GQ_ERR_FORMAT && t == NULL);
    test_cond("not JSON message names the file", strstr(err.msg, path) != NULL);

    snprintf(path, sizeof path, "%s/novocab.json", dir);
    const char *nv = "{\"model\": {\"type\": \"BPE\", \"merges\": []}}";
    test_write_file(path, nv, strlen(nv));
    rc = gq_tokenizer_load_json(&t, path, NULL, &err);
    test_cond("missing model.vocab gives GQ_ERR_INVALID", rc == GQ_ERR_INVALID && t == NULL);
    test_cond("missing model.vocab message names the file and key",
              strstr(err.msg, path) != NULL && strstr(err.msg, "model.vocab") != NULL);

    snprintf(path, sizeof path, "%s/badmerge.json", dir);
    const char *bm = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [\"a b\"]}}";
    test_write_file(path, bm, strlen(bm));
    rc = gq_tokenizer_load_json(&t, path, NULL, &err);
    test_cond("merge of tokens outside the vocab gives GQ_ERR_INVALID", rc == GQ_ERR_INVALID && t == NULL);

    snprintf(path, sizeof path, "%s/unigram.json", dir);
    const char *ug = "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}";
    test_write_file(path, ug, strlen(ug));
    rc = gq_tokenizer_load_json(&t, path, NULL, &err);
    test_cond("a Unigram model gives GQ_ERR_UNSUPPORTED", rc == GQ_ERR_UNSUPPORTED && t == NULL);

    rc = gq_tokenizer_load_json(&t, "/nonexistent/tokenizer.json", NULL, &err);
    test_cond("a missing file gives GQ_ERR_IO", rc == GQ_ERR_IO && t == NULL);
}

/* tokenizer_config.json's add_bos_token / add_eos_token decide over the template. */
static void check_config_override(const char *dir)
{
    char cfg[4200];
    snprintf(cfg, sizeof cfg, "%s/cfg_eos.json", dir);
    const char *c = "{\"add_bos_token\": false, \"add_eos_token\": true, \"bos_token\": \"<s>\", \"eos_token\": \"</s>\"}";
    test_write_file(cfg, c, strlen(c));
    char json[4096];
    snprintf(json, sizeof json, "%s", test_fixture("tokenizer/spm/tokenizer.json"));
    gq_tokenizer *plain = load(json, NULL), *over = load(json, cfg);
    test_cond("spm loads with and without an override config", plain && over);
    if (!plain || !over) goto done;
    test_cond("template adds BOS", gq_tokenizer_adds_bos(plain) && !gq_tokenizer_adds_eos(plain));
    test_cond("config: no BOS, EOS", !gq_tokenizer_adds_bos(over) && gq_tokenizer_adds_eos(over));
    gq_tokens a = {0}, b = {0};
    gq_error err = {0};
    const char *s = "Hello world";
    int rc = gq_tokenizer_encode(plain, s, strlen(s), 1, &a, &err);
    rc |= gq_tokenizer_encode(over, s, strlen(s), 1, &b, &err);
    test_cond("override encodes", rc == 0 && a.n >= 2);
    if (rc == 0 && a.n >= 2) {
        test_cond("template: BOS first", a.ids[0] == gq_tokenizer_bos(plain));
        test_cond("override: same body, EOS last",
                  b.n == a.n && memcmp(b.ids, a.ids + 1, (a.n - 1) * sizeof *a.ids) == 0 &&
                      b.ids[b.n - 1] == gq_tokenizer_eos(over));
    }
    gq_tokens_free(&a);
    gq_tokens_free(&b);
done:
    gq_tokenizer_free(plain);
    gq_tokenizer_free(over);
}

static void check_misc(const gq_tokenizer *smol, const gq_tokenizer *spm)
{
    gq_tokens ids = {0};
    gq_error err = {0};
    int rc = gq_tokenizer_encode(smol, "ab\xff" "cd", 5, 0, &ids, &err);
    test_cond("invalid UTF-8 gives GQ_ERR_INVALID naming the byte", rc == GQ_ERR_INVALID && strstr(err.msg, "byte 2"));
    gq_tokens_free(&ids);
    rc = gq_tokenizer_encode(smol, "", 0, 1, &ids, &err);
    test_cond("empty text encodes to nothing (SmolLM2 adds no BOS)", rc == 0 && ids.n == 0);
    gq_tokens_free(&ids);
    test_cond("SmolLM2 kind", strcmp(gq_tokenizer_kind(smol), "bpe-bytelevel") == 0);
    test_cond("SmolLM2 vocab 49152", gq_tokenizer_vocab_size(smol) == 49152);
    test_cond("SmolLM2 bos/eos from tokenizer_config", gq_tokenizer_bos(smol) == 1 && gq_tokenizer_eos(smol) == 2);
    test_cond("SmolLM2 adds no BOS/EOS", !gq_tokenizer_adds_bos(smol) && !gq_tokenizer_adds_eos(smol));
    test_cond("token text", gq_tokenizer_token(smol, 0) && strcmp(gq_tokenizer_token(smol, 0), "<|endoftext|>") == 0);
    test_cond("token out of range", gq_tokenizer_token(smol, 49152) == NULL && gq_tokenizer_token(smol, -1) == NULL);
    test_cond("spm kind", strcmp(gq_tokenizer_kind(spm), "bpe-sentencepiece") == 0);
    /* skip_special drops <|im_start|> */
    int32_t im[3] = {1, 28120, 2};
    char *a = NULL, *b = NULL;
    rc = gq_tokenizer_decode(smol, im, 3, 0, &a, &err);
    rc |= gq_tokenizer_decode(smol, im, 3, 1, &b, &err);
    test_cond("skip_special drops special tokens",
              rc == 0 && strncmp(a, "<|im_start|>", 12) == 0 && strstr(b, "<|im_") == NULL);
    gq_free(a);
    gq_free(b);
}

int main(void)
{
    tt_text text;
    if (tt_load_text(&text, test_fixture("tokenizer/text.txt")) != 0) {
        fprintf(stderr, "cannot read %s\n", test_fixture("tokenizer/text.txt"));
        return 1;
    }
    test_cond("test text has >= 2000 lines", text.n >= 2000);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", test_tmpdir("tokenizer"));

    char cfg[4096];
    snprintf(cfg, sizeof cfg, "%s", test_fixture("tokenizer/smollm2/tokenizer_config.json"));
    const char *smol_json = tt_gunzip_to(test_fixture("tokenizer/smollm2/tokenizer.json.gz"), dir, "smollm2.json");
    gq_tokenizer *smol = smol_json ? load(smol_json, cfg) : NULL;
    test_cond("SmolLM2 tokenizer.json loads", smol != NULL);
    if (smol) {
        check_parity("smollm2", smol, &text, "tokenizer/expected_smollm2.txt.gz");
        check_roundtrip("smollm2", smol, &text, NULL);
    }

    char json[4096];
    snprintf(json, sizeof json, "%s", test_fixture("tokenizer/llama3/tokenizer.json"));
    gq_tokenizer *l3 = load(json, NULL);
    test_cond("llama3-style tokenizer.json loads", l3 != NULL);
    if (l3) {
        check_parity("llama3", l3, &text, "tokenizer/expected_llama3.txt.gz");
        static const char *const strip_tokens[] = {"<tool>", "<|mask|>", NULL};
        check_roundtrip("llama3", l3, &text, strip_tokens);
        test_cond("llama3 adds BOS", gq_tokenizer_adds_bos(l3) && gq_tokenizer_bos(l3) == 0);
    }

    snprintf(json, sizeof json, "%s", test_fixture("tokenizer/spm/tokenizer.json"));
    snprintf(cfg, sizeof cfg, "%s", test_fixture("tokenizer/spm/tokenizer_config.json"));
    gq_tokenizer *spm = load(json, cfg);
    test_cond("spm tokenizer.json loads", spm != NULL);
    if (spm) check_parity("spm", spm, &text, "tokenizer/expected_spm.txt.gz");

    snprintf(json, sizeof json, "%s", test_fixture("tokenizer/metaspace/tokenizer.json"));
    gq_tokenizer *ms = load(json, NULL);
    test_cond("metaspace tokenizer.json loads", ms != NULL);
    if (ms) check_parity("metaspace", ms, &text, "tokenizer/expected_metaspace.txt.gz");

    if (smol && spm) check_misc(smol, spm);
    check_bad_files(dir);
    check_config_override(dir);

    gq_tokenizer_free(smol);
    gq_tokenizer_free(l3);
    gq_tokenizer_free(spm);
    gq_tokenizer_free(ms);
    gq_tokenizer_free(NULL);
    tt_free_text(&text);
    return test_report("test_tokenizer");
}
