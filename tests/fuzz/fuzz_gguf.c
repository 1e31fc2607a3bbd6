/* fuzz_gguf.c — libFuzzer target: a GGUF file (fuzz_util.h says how
 * targets build and replay).  Opened by itself (gq_gguf_open, the typed
 * key getters, every tensor of <= 64 Ki elements widened), as a checkpoint
 * (the llama.cpp name mapping and RoPE unpermutation) and as a tokenizer
 * (gq_tokenizer_load_gguf, then a short encode and decode). */
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "fuzz_util.h"
#include "gguf.h"
#include "gq_alloc.h"
#include "gq_error.h"
#include "tokenizer.h"

static void keys(const gq_gguf *g)
{
    gq_error err = {0};
    uint64_t u;
    int64_t i;
    double d;
    int b;
    const char *s;
    const char *const *strs;
    const size_t *lens;
    const float *f;
    const int32_t *i32;
    size_t n;
    gq_gguf_get_str(g, "general.architecture", &s, &err);
    gq_gguf_get_u64(g, "llama.block_count", &u, &err);
    gq_gguf_get_i64(g, "llama.context_length", &i, &err);
    gq_gguf_get_f64(g, "llama.rope.freq_base", &d, &err);
    gq_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &b, &err);
    gq_gguf_get_str_array(g, "tokenizer.ggml.tokens", &strs, &lens, &n, &err);
    gq_gguf_get_f32_array(g, "tokenizer.ggml.scores", &f, &n, &err);
    gq_gguf_get_i32_array(g, "tokenizer.ggml.token_type", &i32, &n, &err);
}

static void tokenize(const gq_gguf *g)
{
    gq_tokenizer *tok = NULL;
    gq_error err = {0};
    if (gq_tokenizer_load_gguf(&tok, g, &err) != GQ_OK) return;
    static const char text[] = "Hello world! 123 \xc3\xa9t\xc3\xa9  \n\t<s>";
    gq_tokens ids = {0};
    if (gq_tokenizer_encode(tok, text, sizeof text - 1, 1, &ids, &err) == GQ_OK) {
        char *back = NULL;
        if (gq_tokenizer_decode(tok, ids.ids, ids.n, 0, &back, &err) == GQ_OK) gq_free(back);
    }
    gq_tokens_free(&ids);
    gq_tokenizer_free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reset();
    const char *path = fuzz_write(0, "model.gguf", data, size);
    if (!path) return 0;
    gq_gguf *g = NULL;
    gq_error err = {0};
    int rc = gq_gguf_open(&g, path, &err);
    fuzz_note("gguf", rc, &err);
    if (rc == GQ_OK) {
        keys(g);
        for (size_t i = 0; i < gq_gguf_tensor_count(g); i++) fuzz_widen_small(gq_gguf_tensor(g, i));
        gq_gguf_find(g, "token_embd.weight");
        tokenize(g);
        gq_gguf_close(g);
    }
    gq_checkpoint *ck = NULL;
    if (gq_checkpoint_open(&ck, path, &err) == GQ_OK) {
        for (size_t i = 0; i < gq_checkpoint_tensor_count(ck); i++) fuzz_widen_small(gq_checkpoint_tensor(ck, i));
        gq_checkpoint_close(ck);
    }
    return 0;
}
