/* test_requests.c — lm-eval's _encode_pair (harness/requests.c), tasks.md
 * §2.4: Python rstrip() whitespace moved from context to continuation, the
 * continuation = tail of the joint encoding after len(encode(context)),
 * BOS policies, the empty-context rule.  Tokenizer: the LLaMA-3-style
 * fixture (adds BOS by default; parity with HF tested in test_tokenizer). */
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "requests.h"
#include "testutil.h"

static int ids_equal(const gq_tokens *a, const int32_t *b, size_t n)
{
    return a->n == n && (n == 0 || memcmp(a->ids, b, n * sizeof *b) == 0);
}

int main(void)
{
    /* rstrip lengths, in bytes. */
    test_cond("rstrip: ascii space/tab/newline", gq_py_rstrip_len("abc \t\n", 6) == 3);
    test_cond("rstrip: U+3000 ideographic space", gq_py_rstrip_len("abc\xe3\x80\x80", 6) == 3);
    test_cond("rstrip: NBSP + space", gq_py_rstrip_len("abc\xc2\xa0 ", 6) == 3);
    test_cond("rstrip: U+200B is not whitespace", gq_py_rstrip_len("abc\xe2\x80\x8b", 6) == 0);
    test_cond("rstrip: U+0085 NEL", gq_py_rstrip_len("a\xc2\x85", 3) == 2);
    test_cond("rstrip: \\x1c..\\x1f are whitespace", gq_py_rstrip_len("a\x1c\x1f", 3) == 2);
    test_cond("rstrip: empty", gq_py_rstrip_len("", 0) == 0);
    test_cond("rstrip: all spaces", gq_py_rstrip_len("   ", 3) == 3);
    test_cond("rstrip: emoji kept", gq_py_rstrip_len("a\xf0\x9f\x98\x80", 5) == 0);

    gq_error err = {0};
    gq_model *m = NULL;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", test_fixture("tokenizer/llama3"));
    if (gq_model_open(&m, dir, NULL, &err) != GQ_OK) {
        fprintf(stderr, "%s\n", err.msg);
        test_cond("tokenizer fixture opens", 0);
        return test_report("requests");
    }
    int32_t bos = gq_tokenizer_bos(gq_model_tokenizer(m));
    test_cond("fixture tokenizer adds a BOS", bos >= 0 && gq_tokenizer_adds_bos(gq_model_tokenizer(m)));
    gq_tokens ctx = {0}, cont = {0}, whole = {0}, c_only = {0};

    /* Plain pair: ctx = encode(context), cont = encode(context+cont)[len(ctx):]. */
    const char *C = "Question: Which gas do plants absorb?\nAnswer:", *K = " Carbon dioxide";
    test_cond("encode pair", gq_encode_pair(m, C, K, GQ_ADD_BOS_AUTO, &ctx, &cont, &err) == GQ_OK);
    gq_tokenize(m, "Question: Which gas do plants absorb?\nAnswer: Carbon dioxide", 1, &whole, &err);
    gq_tokenize(m, C, 1, &c_only, &err);
    test_cond("ctx = encode(context)", ids_equal(&ctx, c_only.ids, c_only.n));
    test_cond("cont = tail of the joint encoding", ctx.n + cont.n == whole.n &&
                                                       ids_equal(&cont, whole.ids + ctx.n, whole.n - ctx.n));
    test_cond("auto adds the tokenizer's BOS", ctx.n > 0 && ctx.ids[0] == bos);

    /* Trailing whitespace of the context moves to the continuation. */
    whole.n = c_only.n = 0;
    test_cond("pair with trailing space", gq_encode_pair(m, "Cooking: He ", "whisks", GQ_ADD_BOS_AUTO, &ctx, &cont, &err) == GQ_OK);
    gq_tokenize(m, "Cooking: He", 1, &c_only, &err);
    gq_tokenize(m, "Cooking: He whisks", 1, &whole, &err);
    test_cond("context encoded without its trailing space", ids_equal(&ctx, c_only.ids, c_only.n));
    test_cond("continuation starts with the moved space", ids_equal(&cont, whole.ids + c_only.n, whole.n - c_only.n));

    /* BOS policies. */
    test_cond("off", gq_encode_pair(m, C, K, GQ_ADD_BOS_OFF, &ctx, &cont, &err) == GQ_OK);
    test_cond("off: no BOS", ctx.n > 0 && ctx.ids[0] != bos);
    test_cond("on", gq_encode_pair(m, C, K, GQ_ADD_BOS_ON, &ctx, &cont, &err) == GQ_OK);
    test_cond("on: exactly one BOS", ctx.n > 1 && ctx.ids[0] == bos && ctx.ids[1] != bos);

    /* Empty context: [BOS] + the continuation without special tokens. */
    whole.n = 0;
    test_cond("empty context", gq_encode_pair(m, "", " Paris", GQ_ADD_BOS_AUTO, &ctx, &cont, &err) == GQ_OK);
    gq_tokenize(m, " Paris", 0, &whole, &err);
    test_cond("empty context becomes [BOS]", ctx.n == 1 && ctx.ids[0] == bos);
    test_cond("continuation without specials", ids_equal(&cont, whole.ids, whole.n));

    gq_add_bos b;
    test_cond("parse auto/on/off", !gq_add_bos_parse("auto", &b) && b == GQ_ADD_BOS_AUTO && !gq_add_bos_parse("on", &b) &&
                                       b == GQ_ADD_BOS_ON && !gq_add_bos_parse("off", &b) && b == GQ_ADD_BOS_OFF);
    test_cond("parse rejects others", gq_add_bos_parse("yes", &b) != 0);
    gq_tokens_free(&ctx);
    gq_tokens_free(&cont);
    gq_tokens_free(&whole);
    gq_tokens_free(&c_only);
    gq_model_close(m);
    return test_report("requests");
}
