/* gq_utf8.h — UTF-8, once: the sequence length of a lead byte, decoding
 * one code point, encoding one, and the length of the valid prefix of a
 * byte string.
 *
 * "Valid" is Unicode's well-formed UTF-8 (ch. 3, table 3-7): no overlong
 * forms, no surrogates, nothing above U+10FFFF.  An invalid sequence is
 * measured as its "maximal subpart" (the bytes that one U+FFFD replaces in
 * Rust's String::from_utf8_lossy and Python's errors="replace"), so a
 * caller can skip it, replace it, or fall back to its first byte.
 */
#ifndef GQ_UTF8_H
#define GQ_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of the sequence that lead byte c starts: 1..4 (1 for a
 * continuation or invalid lead byte). */
size_t gq_utf8_seq_len(unsigned char c);

/* The code point at s (n >= 1 bytes available).  *adv = bytes used: the
 * sequence's length when valid; else its maximal subpart (>= 1) and the
 * result is -1. */
int32_t gq_utf8_next(const char *s, size_t n, size_t *adv);

/* Encode cp (<= 0x10FFFF) into out; returns 1..4. */
size_t gq_utf8_put(uint32_t cp, char out[4]);

/* Length of the longest valid prefix of s[0..n): n when all of it is valid,
 * else the offset of the first invalid sequence. */
size_t gq_utf8_valid_len(const char *s, size_t n);

#endif
