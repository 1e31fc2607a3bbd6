/* test_tokenizer_gguf_vocab.c — GGUF tokenizers of real models (llama.cpp's
 * ggml-vocab-*.gguf files: Qwen1.5/2, Qwen3.5, LLaMA-3, LLaMA-2, Phi-3,
 * DeepSeek-LLM, DeepSeek-Coder, GPT-2, StarCoder2, Command-R, MPT, Refact),
 * read through tokenizer.ggml.pre, against the ids their REAL Hugging Face
 * tokenizers give llama.cpp's test strings.  The vocabularies are pruned to
 * what the strings reach and renumbered (tests/reference/
 * make_gguf_vocab_fixtures.py says why that changes no result).  With
 * GQ_LLAMACPP_VOCAB_DIR set to llama.cpp's models/ folder, the full files
 * are checked too, against the untranslated ids.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "testutil.h"
#include "tokenizer.h"

#include "gguf.h"
#include "gq_error.h"

static const char *const names[] = {"qwen2", "qwen35", "llama-bpe", "llama-spm", "phi-3", "deepseek-llm",
                                    "deepseek-coder", "gpt-2", "starcoder", "command-r", "mpt", "refact"};

/* Encode each test of the fixture with the tokenizer in gguf_path; compare
 * with "ids" (pruned file) or "ids_full" (the original file). */
static void check(const char *name, const char *gguf_path, const cJSON *tests, const char *ids_key)
{
    gq_gguf *g = NULL;
    gq_tokenizer *t = NULL;
    gq_error err = {0};
    char what[512];
    int rc = gq_gguf_open(&g, gguf_path, &err);
    if (rc == 0) rc = gq_tokenizer_load_gguf(&t, g, &err);
    if (rc) fprintf(stderr, "%s: %s\n", name, err.msg);
    snprintf(what, sizeof what, "%s (%s): the GGUF tokenizer loads", name, ids_key);
    if (test_cond(what, rc == 0)) {
        size_t n = 0, bad = 0;
        int idx = -1;
        const cJSON *it;
        cJSON_ArrayForEach(it, tests) {
            idx++;
            const char *text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "text"));
            const cJSON *ids = cJSON_GetObjectItemCaseSensitive(it, ids_key);
            if (!text || !cJSON_IsArray(ids)) continue;
            gq_tokens got = {0};
            rc = gq_tokenizer_encode(t, text, strlen(text), 0, &got, &err);
            int same = rc == 0 && got.n == (size_t)cJSON_GetArraySize(ids);
            for (size_t k = 0; same && k < got.n; k++)
                same = got.ids[k] == (int32_t)cJSON_GetArrayItem(ids, (int)k)->valuedouble;
            n++;
            if (!same && bad++ < 3) {
                fprintf(stderr, "  %s: test %d \"%.60s\" differs%s%s\n", name, idx, text, rc ? ": " : "",
                        rc ? err.msg : "");
                fprintf(stderr, "    got ");
                for (size_t k = 0; k < got.n && k < 40; k++) fprintf(stderr, " %d", (int)got.ids[k]);
                fprintf(stderr, "\n");
            }
            gq_tokens_free(&got);
        }
        printf("%s (%s): %zu test strings, %zu differ from the real tokenizer's ids\n", name, ids_key, n, bad);
        snprintf(what, sizeof what, "%s (%s): the real tokenizer's ids on %zu strings (%zu differ)", name, ids_key, n,
                 bad);
        test_cond(what, n > 0 && bad == 0);
    }
    gq_tokenizer_free(t);
    gq_gguf_close(g);
}

int main(void)
{
    const char *full_dir = getenv("GQ_LLAMACPP_VOCAB_DIR");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char rel[256], path[4096], what[256];
        snprintf(rel, sizeof rel, "tokenizer/gguf_vocab/%s.json", names[i]);
        char *data = test_read_file(test_fixture(rel), NULL);
        cJSON *root = data ? cJSON_Parse(data) : NULL;
        free(data);
        snprintf(what, sizeof what, "%s: fixture readable", names[i]);
        if (!test_cond(what, root != NULL)) continue;
        const cJSON *tests = cJSON_GetObjectItemCaseSensitive(root, "tests");
        snprintf(rel, sizeof rel, "tokenizer/gguf_vocab/%s.gguf", names[i]);
        snprintf(path, sizeof path, "%s", test_fixture(rel));
        check(names[i], path, tests, "ids");
        if (full_dir) {
            snprintf(path, sizeof path, "%s/ggml-vocab-%s.gguf", full_dir, names[i]);
            check(names[i], path, tests, "ids_full");
        }
        cJSON_Delete(root);
    }
    return test_report("test_tokenizer_gguf_vocab");
}
