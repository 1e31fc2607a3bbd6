/* sha256.h — SHA-256 (FIPS 180-4), written here so that the sample-log
 * hashes (doc_hash, prompt_hash, target_hash, task_hashes) need no OpenSSL.
 *
 * Streaming: gq_sha256_init, any number of gq_sha256_update, one
 * gq_sha256_final.  None of these can fail; a context holds no heap memory.
 * Tested against the FIPS/NIST vectors in tests/test_reports.c.
 */
#ifndef GQ_SHA256_H
#define GQ_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct gq_sha256 {
    uint32_t h[8];           /* chaining state */
    uint64_t n_bytes;        /* message length so far */
    unsigned char buf[64];   /* partial block */
    size_t n_buf;            /* bytes used in buf, < 64 */
} gq_sha256;

void gq_sha256_init(gq_sha256 *c);
void gq_sha256_update(gq_sha256 *c, const void *data, size_t n);
/* Writes the 32-byte digest; the context must be re-initialised to reuse. */
void gq_sha256_final(gq_sha256 *c, unsigned char out[32]);

/* One-shot: lowercase hex digest of data[0..n) into hex (65 bytes, NUL
 * terminated), like Python's hashlib.sha256(b).hexdigest(). */
void gq_sha256_hex(const void *data, size_t n, char hex[65]);
/* Digest bytes to lowercase hex (65 bytes with the NUL). */
void gq_sha256_to_hex(const unsigned char digest[32], char hex[65]);

#endif
