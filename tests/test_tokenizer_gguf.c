/* test_tokenizer_gguf.c — the tokenizer embedded in the SmolLM2 GGUF
 * (models/SmolLM2-135M-Instruct.Q4_1.gguf; exit 77 = skipped when absent)
 * against Hugging Face `tokenizers` on every line of the fixture text.
 *
 * Reference: expected_smollm2_gguf.txt.gz = transformers' GGUF-built
 * tokenizer.json with SmolLM2's real pre-tokenizer (Digits individual +
 * ByteLevel), which is what tokenizer.ggml.pre = "smollm" means to
 * llama.cpp.  transformers' converter drops it; how many lines that changes
 * is printed (expected_smollm2.txt.gz), not checked.
 * Before that (no download needed): a GGUF "llama" (SentencePiece) tokenizer
 * written by the reference script, merged by score as llama.cpp does,
 * against HF on the same vocabulary with merges rebuilt from the scores.
 */
#define _POSIX_C_SOURCE 200809L
#include "test_tokenizer_common.h"

#include "gguf.h"

static void check_spm_gguf(const tt_text *text)
{
    gq_gguf *g = NULL;
    gq_tokenizer *t = NULL;
    gq_error err = {0};
    int rc = gq_gguf_open(&g, test_fixture("tokenizer/spm_gguf/tokenizer.gguf"), &err);
    if (rc == 0) rc = gq_tokenizer_load_gguf(&t, g, &err);
    if (rc) fprintf(stderr, "spm gguf: %s\n", err.msg);
    test_cond("SentencePiece GGUF tokenizer loads", rc == 0 && t);
    if (t) {
        tt_result r;
        test_cond("spm-gguf kind", strcmp(gq_tokenizer_kind(t), "bpe-sentencepiece") == 0);
        test_cond("spm-gguf adds BOS <s>", gq_tokenizer_adds_bos(t) && gq_tokenizer_bos(t) == 1);
        rc = tt_compare("spm-gguf", t, text, test_fixture("tokenizer/expected_spm_gguf.txt.gz"), &r);
        test_cond("spm-gguf expected ids readable", rc == 0 && r.compared > text->n);
        test_cond("spm-gguf: 0 mismatching encodings", r.mismatched == 0);
        test_cond("spm-gguf: 0 mismatching decodings", r.dec_compared > 0 && r.dec_mismatched == 0);
    }
    gq_tokenizer_free(t);
    gq_gguf_close(g);
}

int main(void)
{
    tt_text text;
    if (tt_load_text(&text, test_fixture("tokenizer/text.txt")) != 0) {
        fprintf(stderr, "cannot read %s\n", test_fixture("tokenizer/text.txt"));
        return 1;
    }
    check_spm_gguf(&text);
    const char *model = test_model("SmolLM2-135M-Instruct.Q4_1.gguf");
    if (!model) {
        printf("test_tokenizer_gguf: SmolLM2-135M-Instruct.Q4_1.gguf not found; SmolLM2 part skipped\n");
        tt_free_text(&text);
        return gq_test_failed ? test_report("test_tokenizer_gguf") : GQ_TEST_SKIP;
    }
    gq_gguf *g = NULL;
    gq_tokenizer *t = NULL;
    gq_error err = {0};
    int rc = gq_gguf_open(&g, model, &err);
    test_cond("GGUF opens", rc == 0);
    if (rc == 0) {
        rc = gq_tokenizer_load_gguf(&t, g, &err);
        if (rc) fprintf(stderr, "load: %s\n", err.msg);
        test_cond("tokenizer loads from the GGUF", rc == 0 && t);
    }
    if (t) {
        test_cond("kind is byte-level", strcmp(gq_tokenizer_kind(t), "bpe-bytelevel") == 0);
        test_cond("vocab 49152", gq_tokenizer_vocab_size(t) == 49152);
        test_cond("bos 1, eos 2", gq_tokenizer_bos(t) == 1 && gq_tokenizer_eos(t) == 2);
        test_cond("adds no BOS (add_bos_token false)", !gq_tokenizer_adds_bos(t) && !gq_tokenizer_adds_eos(t));
        test_cond("token 0 is <|endoftext|>", strcmp(gq_tokenizer_token(t, 0), "<|endoftext|>") == 0);

        tt_result r;
        rc = tt_compare("smollm2-gguf", t, &text, test_fixture("tokenizer/expected_smollm2_gguf.txt.gz"), &r);
        test_cond("expected ids readable", rc == 0 && r.compared > text.n);
        test_cond("0 mismatching encodings", r.mismatched == 0);
        test_cond("0 mismatching decodings", r.dec_compared > 0 && r.dec_mismatched == 0);

        /* Informational: transformers' GGUF conversion (no digit split). */
        fprintf(stderr, "--- for information only: transformers' GGUF conversion, which drops "
                        "tokenizer.ggml.pre=smollm (digit runs split differently) ---\n");
        tt_compare("smollm2-gguf vs transformers-converted json", t, &text,
                   test_fixture("tokenizer/expected_smollm2.txt.gz"), &r);

        gq_tokens ids = {0};
        const char *s = "<|im_start|>user\nHello 12345<|im_end|>";
        rc = gq_tokenizer_encode(t, s, strlen(s), 1, &ids, &err);
        test_cond("special tokens matched whole",
                  rc == 0 && ids.n > 3 && ids.ids[0] == 1 && ids.ids[ids.n - 1] == 2);
        gq_tokens_free(&ids);
    }
    gq_tokenizer_free(t);
    gq_gguf_close(g);
    tt_free_text(&text);
    return test_report("test_tokenizer_gguf");
}
