/* sha256.h — SHA-256 for every folder: sample-log hashes (doc_hash,
 * prompt_hash, target_hash, task_hashes), the journal's keys, the
 * converter's source-file hashes and the Hub download's LFS checks.
 *
 * The arithmetic is OpenSSL's libcrypto (Debian's libssl-dev): its assembly
 * uses the CPU's SHA extensions where present, which matters now that
 * multi-gigabyte checkpoints are hashed on the download path
 * (scripts/bench-sha256.sh measures it).  This header does not include
 * OpenSSL's: a context is an opaque, suitably aligned block of bytes, sized
 * (and checked with a static assertion in sha256.c) for OpenSSL's SHA256_CTX.
 *
 * Streaming: gq_sha256_init, any number of gq_sha256_update, one
 * gq_sha256_final.  None of these can fail; a context holds no heap memory,
 * so a context abandoned before _final leaks nothing.
 * Tested against the FIPS/NIST vectors in tests/test_reports.c.
 */
#ifndef GQ_SHA256_H
#define GQ_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct gq_sha256 {
    union {
        uint64_t align;          /* SHA256_CTX holds unsigned ints; keep 8-byte alignment */
        unsigned char bytes[128];/* OpenSSL's SHA256_CTX (112 bytes in OpenSSL 1.1 and 3.x) */
    } ctx;
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
