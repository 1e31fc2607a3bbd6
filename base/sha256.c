/* sha256.c — base/sha256.h on OpenSSL's libcrypto.
 *
 * Why the SHA256_Init/Update/Final functions, which OpenSSL 3 marks
 * deprecated, and not EVP_MD_CTX: they keep sha256.h's contract (a context
 * is a plain struct on the caller's stack, nothing can fail, nothing to
 * free on an early return), and they run the same assembly block function
 * as EVP's SHA-256.  The deprecation is silenced here and only here.  If a
 * future OpenSSL drops them, EVP_MD_CTX behind the same API (and a _free
 * on every path) is the replacement.
 *
 * Not here: our own block function (the FIPS 180-4 code this replaced ran
 * at ~50 MB/s; see scripts/bench-sha256.sh).  Tested by tests/test_reports.c
 * (NIST vectors, streaming in odd chunk sizes).
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "sha256.h"

#include <openssl/sha.h>
#include <stdalign.h>
#include <string.h>

_Static_assert(sizeof(SHA256_CTX) <= sizeof(((gq_sha256 *)0)->ctx.bytes),
               "gq_sha256 is too small for OpenSSL's SHA256_CTX");
_Static_assert(alignof(SHA256_CTX) <= alignof(gq_sha256), "gq_sha256 is under-aligned for SHA256_CTX");

static SHA256_CTX *ctx_of(gq_sha256 *c) { return (SHA256_CTX *)(void *)c->ctx.bytes; }

void gq_sha256_init(gq_sha256 *c)
{
    memset(c, 0, sizeof *c);
    SHA256_Init(ctx_of(c)); /* always returns 1 for the software implementation */
}

void gq_sha256_update(gq_sha256 *c, const void *data, size_t n)
{
    if (n) SHA256_Update(ctx_of(c), data, n);
}

void gq_sha256_final(gq_sha256 *c, unsigned char out[32])
{
    SHA256_Final(out, ctx_of(c));
}

void gq_sha256_to_hex(const unsigned char d[32], char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}

void gq_sha256_hex(const void *data, size_t n, char hex[65])
{
    unsigned char d[32];
    gq_sha256 c;
    gq_sha256_init(&c);
    gq_sha256_update(&c, data, n);
    gq_sha256_final(&c, d);
    gq_sha256_to_hex(d, hex);
}
