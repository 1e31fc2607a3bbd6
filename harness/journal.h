/* journal.h — per-request results of one (run, task) kept on disk as they
 * are scored, so that a killed evaluation resumes where it stopped.
 *
 * File: DIR/journal/<run-id>/<task>.bin, append-only.
 *   header (64 bytes): magic "GQLAJRN1", u32 version (1), u32 record size
 *     (24), u64 number of requests, 32-byte key (gq_journal_key: SHA-256 of
 *     the model's identity, the decoding path, the scorer settings and every
 *     request's token ids), 8 bytes zero;
 *   records (24 bytes each): u64 request index, f64 log-likelihood, i32
 *     is_greedy, u32 FNV-1a checksum of the 20 bytes before it.
 * Native byte order (a journal is a cache of this machine's work, not an
 * exchange format; the header's u32 fields read wrong on another byte
 * order and the file is then started over).
 *
 * Batches: the scoring loop works in fixed batches of documents
 * (GQ_JOURNAL_BATCH_DOCS, by document index) and appends each batch's
 * records with one write() followed by fsync(); a batch counts as done only
 * when every one of its requests has a valid record.  A SIGKILL therefore
 * loses at most the batch in flight; a torn last record, a bad checksum or
 * an index out of range ends the valid part of the file (it is truncated
 * there before new records are appended).  A header that does not match
 * the current requests (other model, path, limit, data...) means the task
 * starts over: the old file is replaced.
 *
 * Test hook: when the environment variable GQLA_TEST_KILL_AFTER_BATCHES=N
 * is set, the process sends itself SIGKILL after appending its N-th batch
 * (counted over all journals of the process); "N,torn" instead writes only
 * the first half of the N-th batch's bytes and then kills itself, as a kill
 * in the middle of write() would.  tests/test_main_resume.c uses it.
 *
 * Ownership: gq_journal_open returns a handle the caller closes with
 * gq_journal_close (NULL-safe).  Failure contract: every function returns
 * GQ_OK or a negative gq_status and fills err naming the journal file; on
 * failure of gq_journal_open *out is NULL and the caller's arrays may hold
 * values loaded so far but *done is all zero.
 */
#ifndef GQ_JOURNAL_H
#define GQ_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include "gq_error.h"
#include "sha256.h"

/* Documents per journal batch.  The scorer also starts afresh at each
 * batch (no prefix shared across a batch boundary), so that a resumed run
 * computes every batch exactly as an uninterrupted one does. */
#define GQ_JOURNAL_BATCH_DOCS 32

typedef struct gq_journal gq_journal;

/* Open (create) the journal file `path` for a task of n_req requests whose
 * identity is key.  Valid records are loaded into ll[idx], greedy[idx] and
 * done[idx] = 1 (arrays of n_req; done must be zero on entry).  *status
 * tells what happened: GQ_JOURNAL_NEW (no file), GQ_JOURNAL_RESUMED (header
 * matched), GQ_JOURNAL_RESTARTED (header did not match or was torn: the
 * old file was replaced).  Parent folders are created. */
typedef enum gq_journal_status {
    GQ_JOURNAL_NEW = 0,
    GQ_JOURNAL_RESUMED,
    GQ_JOURNAL_RESTARTED
} gq_journal_status;

int gq_journal_open(gq_journal **out, const char *path, const unsigned char key[32], uint64_t n_req, double *ll,
                    int *greedy, unsigned char *done, gq_journal_status *status, gq_error *err);

/* Append the records of requests idx[0..n) (values ll[idx[i]],
 * greedy[idx[i]] of the caller's full arrays) with one write, then fsync. */
int gq_journal_append(gq_journal *j, const size_t *idx, size_t n, const double *ll, const int *greedy,
                      gq_error *err);

void gq_journal_close(gq_journal *j);

/* Load the valid records of an existing journal without changing the file
 * (gqla-eval merge reads the shard folders' journals this way; a shard's
 * folder stays as its job left it).  Arrays and done as gq_journal_open;
 * *n_loaded = valid records read (a request recorded twice counts twice,
 * the later record wins).  GQ_ERR_IO when the file cannot be read,
 * GQ_ERR_INVALID naming the file when it is not a journal of key and n_req
 * (done is then all zero). */
int gq_journal_read(const char *path, const unsigned char key[32], uint64_t n_req, double *ll, int *greedy,
                    unsigned char *done, size_t *n_loaded, gq_error *err);

/* Key naming a request set: the caller feeds its identity strings and
 * token ids through these (a SHA-256 stream). */
typedef struct gq_journal_keyer {
    gq_sha256 sha;
} gq_journal_keyer;

void gq_journal_key_init(gq_journal_keyer *k);
void gq_journal_key_str(gq_journal_keyer *k, const char *s);   /* length-prefixed */
void gq_journal_key_i64(gq_journal_keyer *k, int64_t v);
void gq_journal_key_ids(gq_journal_keyer *k, const int32_t *ids, size_t n); /* length-prefixed */
void gq_journal_key_final(gq_journal_keyer *k, unsigned char key[32]);

#endif
