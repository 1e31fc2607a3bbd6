/* fuzz_tokenizer.c — libFuzzer target: TOKENIZER_JSON FUZZ_SPLIT TEXT
 * [FUZZ_SPLIT TOKENIZER_CONFIG_JSON] (fuzz_util.h says how targets build and
 * replay).  The tokenizer is loaded; TEXT is encoded (with and without
 * special tokens), the ids decoded back, and TEXT's bytes read as int32 ids
 * (in and out of the vocabulary) decoded too.  Invalid UTF-8 in TEXT must be
 * an error, never a crash. */
#include <string.h>

#include "fuzz_util.h"
#include "gq_alloc.h"
#include "gq_error.h"
#include "tokenizer.h"

static void roundtrip(const gq_tokenizer *tok, const char *text, size_t n, int add_special)
{
    gq_tokens ids = {0};
    gq_error err = {0};
    if (gq_tokenizer_encode(tok, text, n, add_special, &ids, &err) == GQ_OK) {
        char *back = NULL;
        if (gq_tokenizer_decode(tok, ids.ids, ids.n, !add_special, &back, &err) == GQ_OK) gq_free(back);
    }
    gq_tokens_free(&ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *json, *rest, *text, *tcfg;
    size_t n_json, n_rest, n_text, n_tcfg;
    fuzz_split2(data, size, &json, &n_json, &rest, &n_rest);
    fuzz_split2(rest, n_rest, &text, &n_text, &tcfg, &n_tcfg);
    fuzz_reset();
    const char *path = fuzz_write(0, "tokenizer.json", json, n_json);
    const char *cfg_path = n_tcfg ? fuzz_write(1, "tokenizer_config.json", tcfg, n_tcfg) : NULL;
    if (!path) return 0;
    gq_tokenizer *tok = NULL;
    gq_error err = {0};
    int rc = gq_tokenizer_load_json(&tok, path, cfg_path, &err);
    fuzz_note("tokenizer", rc, &err);
    if (rc != GQ_OK) return 0;
    roundtrip(tok, (const char *)text, n_text, 1);
    roundtrip(tok, (const char *)text, n_text, 0);
    int32_t ids[64];
    size_t n_ids = n_text / 4 < 64 ? n_text / 4 : 64;
    if (n_ids) memcpy(ids, text, n_ids * 4);
    char *back = NULL;
    if (gq_tokenizer_decode(tok, ids, n_ids, 0, &back, &err) == GQ_OK) gq_free(back);
    back = NULL;
    if (gq_tokenizer_decode(tok, ids, n_ids, 1, &back, &err) == GQ_OK) gq_free(back);
    for (size_t i = 0; i < n_ids; i++) gq_tokenizer_token(tok, ids[i]);
    gq_tokenizer_vocab_size(tok);
    gq_tokenizer_kind(tok);
    gq_tokenizer_free(tok);
    return 0;
}
