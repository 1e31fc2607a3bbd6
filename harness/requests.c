/* requests.c — lm-eval's _encode_pair in C (requests.h). */
#include "requests.h"

#include <stdint.h>
#include <string.h>

#include "gq_alloc.h"

const char *gq_add_bos_name(gq_add_bos b)
{
    return b == GQ_ADD_BOS_ON ? "on" : b == GQ_ADD_BOS_OFF ? "off" : "auto";
}

int gq_add_bos_parse(const char *s, gq_add_bos *out)
{
    if (!strcmp(s, "auto")) *out = GQ_ADD_BOS_AUTO;
    else if (!strcmp(s, "on")) *out = GQ_ADD_BOS_ON;
    else if (!strcmp(s, "off")) *out = GQ_ADD_BOS_OFF;
    else return -1;
    return 0;
}

/* Python's str.isspace() set, which rstrip() removes. */
static int py_isspace(uint32_t c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f) || c == 0x85 || c == 0xa0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}

size_t gq_py_rstrip_len(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t end = len;
    while (end > 0) {
        /* Step back over one UTF-8 code point. */
        size_t start = end - 1;
        while (start > 0 && (u[start] & 0xc0) == 0x80 && end - start < 4) start--;
        uint32_t c = u[start];
        size_t n = end - start;
        if (n == 2 && (c & 0xe0) == 0xc0) c = ((c & 0x1f) << 6) | (u[start + 1] & 0x3f);
        else if (n == 3 && (c & 0xf0) == 0xe0) c = ((c & 0x0f) << 12) | ((u[start + 1] & 0x3f) << 6) | (u[start + 2] & 0x3f);
        else if (n == 4) c = 0x10000; /* no 4-byte code point is whitespace */
        else if (n != 1) c = 0x10000;
        if (!py_isspace(c)) break;
        end = start;
    }
    return len - end;
}

/* encode(s) under the BOS policy, appended to out. */
static int encode(const gq_model *m, const char *s, gq_add_bos bos, gq_tokens *out, gq_error *err)
{
    size_t before = out->n;
    int rc = gq_tokenize(m, s, bos != GQ_ADD_BOS_OFF, out, err);
    if (rc != GQ_OK) return rc;
    if (bos == GQ_ADD_BOS_ON) {
        int32_t b = gq_tokenizer_bos(gq_model_tokenizer(m));
        if (b >= 0 && (out->n == before || out->ids[before] != b)) {
            if ((rc = gq_tokens_push(out, 0, err)) != GQ_OK) return rc;
            memmove(out->ids + before + 1, out->ids + before, (out->n - before - 1) * sizeof *out->ids);
            out->ids[before] = b;
        }
    }
    return GQ_OK;
}

int gq_encode_pair(const gq_model *m, const char *context, const char *continuation, gq_add_bos bos,
                   gq_tokens *ctx, gq_tokens *cont, gq_error *err)
{
    int rc = GQ_OK;
    ctx->n = 0;
    cont->n = 0;
    char *c = NULL, *joint = NULL;
    gq_tokens whole = {0};
    size_t lc = strlen(context), ln = strlen(continuation);
    if (lc == 0) {
        /* Empty context: [prefix token] + continuation without specials. */
        const gq_tokenizer *t = gq_model_tokenizer(m);
        int32_t pfx = gq_tokenizer_bos(t) >= 0 ? gq_tokenizer_bos(t) : gq_tokenizer_eos(t);
        if ((rc = gq_tokenize(m, continuation, 0, cont, err)) != GQ_OK) return rc;
        if (cont->n > 0 && cont->ids[0] == pfx) {
            if ((rc = gq_tokens_push(ctx, pfx, err)) != GQ_OK) return rc;
            memmove(cont->ids, cont->ids + 1, (cont->n - 1) * sizeof *cont->ids);
            cont->n--;
            return GQ_OK;
        }
        return gq_tokens_push(ctx, pfx, err);
    }
    /* Move the context's trailing whitespace to the continuation. */
    size_t ws = gq_py_rstrip_len(context, lc);
    c = gq_malloc(lc - ws + 1, "context", err);
    joint = gq_malloc(lc + ln + 1, "context+continuation", err);
    if (!c || !joint) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    memcpy(c, context, lc - ws);
    c[lc - ws] = '\0';
    memcpy(joint, context, lc);
    memcpy(joint + lc, continuation, ln + 1);
    /* whole = encode(ctx + ws + cont): the same bytes as context + continuation. */
    if ((rc = encode(m, joint, bos, &whole, err)) != GQ_OK) goto done;
    if ((rc = encode(m, c, bos, ctx, err)) != GQ_OK) goto done;
    for (size_t i = ctx->n; i < whole.n; i++)
        if ((rc = gq_tokens_push(cont, whole.ids[i], err)) != GQ_OK) goto done;
done:
    gq_free(c);
    gq_free(joint);
    gq_tokens_free(&whole);
    return rc;
}
