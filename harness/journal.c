/* journal.c — the per-request resume journal (journal.h).
 * Tests: tests/test_main_journal.c (file format, torn and bad records,
 * header mismatch), tests/test_main_resume.c (kill and resume end to end). */
#define _POSIX_C_SOURCE 200809L
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "gq_alloc.h"
#include "results.h"

#define JOURNAL_MAGIC "GQLAJRN1"
#define JOURNAL_VERSION 1u
#define HEADER_SIZE 64
#define RECORD_SIZE 24

struct gq_journal {
    char *path;
    int fd;
};

// ---- record and header bytes ---------------------------------------------------------

static uint32_t fnv1a(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

static void record_pack(unsigned char *rec, uint64_t idx, double ll, int greedy)
{
    int32_t g = greedy ? 1 : 0;
    memcpy(rec, &idx, 8);
    memcpy(rec + 8, &ll, 8);
    memcpy(rec + 16, &g, 4);
    uint32_t c = fnv1a(rec, 20);
    memcpy(rec + 20, &c, 4);
}

/* 1 when the record's checksum holds and its index is < n_req. */
static int record_unpack(const unsigned char *rec, uint64_t n_req, uint64_t *idx, double *ll, int *greedy)
{
    uint32_t c;
    int32_t g;
    memcpy(&c, rec + 20, 4);
    if (c != fnv1a(rec, 20)) return 0;
    memcpy(idx, rec, 8);
    memcpy(ll, rec + 8, 8);
    memcpy(&g, rec + 16, 4);
    if (*idx >= n_req || (g != 0 && g != 1)) return 0;
    *greedy = g;
    return 1;
}

static void header_pack(unsigned char *h, const unsigned char key[32], uint64_t n_req)
{
    uint32_t v = JOURNAL_VERSION, rs = RECORD_SIZE;
    memset(h, 0, HEADER_SIZE);
    memcpy(h, JOURNAL_MAGIC, 8);
    memcpy(h + 8, &v, 4);
    memcpy(h + 12, &rs, 4);
    memcpy(h + 16, &n_req, 8);
    memcpy(h + 24, key, 32);
}

// ---- the test hook -------------------------------------------------------------------------

static long batches_written; /* appended batches of this process (test hook only) */

/* GQLA_TEST_KILL_AFTER_BATCHES: returns the batch number to die at (0 = off)
 * and whether that batch is written torn. */
static long kill_after(int *torn)
{
    const char *s = getenv("GQLA_TEST_KILL_AFTER_BATCHES");
    *torn = 0;
    if (!s || !*s) return 0;
    char *end = NULL;
    long n = strtol(s, &end, 10);
    if (end && !strcmp(end, ",torn")) *torn = 1;
    return n > 0 ? n : 0;
}

// ---- open / append / close ------------------------------------------------------------------

/* Replace path by a file holding only the header (atomic, parents created). */
static int start_file(const char *path, const unsigned char key[32], uint64_t n_req, gq_error *err)
{
    unsigned char h[HEADER_SIZE];
    header_pack(h, key, n_req);
    return gq_report_write_file(path, h, sizeof h, err);
}

/* Load the valid records after the header of a journal's bytes into
 * ll/greedy/done; the first torn or bad record ends the valid part.
 * Returns the number of valid records. */
static size_t records_load(const char *data, size_t size, uint64_t n_req, double *ll, int *greedy,
                           unsigned char *done)
{
    const unsigned char *p = (const unsigned char *)data + HEADER_SIZE;
    size_t n_rec = (size - HEADER_SIZE) / RECORD_SIZE, n = 0;
    for (; n < n_rec; n++, p += RECORD_SIZE) {
        uint64_t idx;
        double v;
        int g;
        if (!record_unpack(p, n_req, &idx, &v, &g)) break;
        ll[idx] = v;
        greedy[idx] = g;
        done[idx] = 1;
    }
    return n;
}

int gq_journal_open(gq_journal **out, const char *path, const unsigned char key[32], uint64_t n_req, double *ll,
                    int *greedy, unsigned char *done, gq_journal_status *status, gq_error *err)
{
    *out = NULL;
    *status = GQ_JOURNAL_NEW;
    int rc = GQ_OK;
    char *data = NULL;
    size_t size = 0;
    gq_journal *j = gq_calloc(1, sizeof *j, "journal", err);
    if (!j) return GQ_ERR_NOMEM;
    j->fd = -1;
    if (!(j->path = gq_strdup(path, err))) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    off_t keep = HEADER_SIZE; /* bytes of the file that stay: header + valid records */
    if (gq_path_exists(path)) {
        if ((rc = gq_file_read_all(path, &data, &size, err)) != GQ_OK) goto fail;
        unsigned char want[HEADER_SIZE];
        header_pack(want, key, n_req);
        if (size < HEADER_SIZE || memcmp(data, want, HEADER_SIZE) != 0) {
            *status = GQ_JOURNAL_RESTARTED;
        } else {
            *status = GQ_JOURNAL_RESUMED;
            keep += (off_t)(records_load(data, size, n_req, ll, greedy, done) * RECORD_SIZE);
        }
    }
    if (*status != GQ_JOURNAL_RESUMED && (rc = start_file(path, key, n_req, err)) != GQ_OK) goto fail;
    j->fd = open(path, O_WRONLY);
    if (j->fd < 0) {
        rc = gq_error_set(err, GQ_ERR_IO, "%s: cannot open the journal for appending: %s", path, strerror(errno));
        goto fail;
    }
    /* Drop a torn or damaged tail so that new records follow valid ones. */
    if (ftruncate(j->fd, keep) != 0 || lseek(j->fd, keep, SEEK_SET) != keep) {
        rc = gq_error_set(err, GQ_ERR_IO, "%s: cannot truncate the journal to %lld bytes: %s", path,
                          (long long)keep, strerror(errno));
        goto fail;
    }
    gq_free(data);
    *out = j;
    return GQ_OK;
fail:
    gq_free(data);
    if (done) memset(done, 0, (size_t)n_req);
    gq_journal_close(j);
    return rc;
}

int gq_journal_append(gq_journal *j, const size_t *idx, size_t n, const double *ll, const int *greedy,
                      gq_error *err)
{
    if (n == 0) return GQ_OK;
    unsigned char *buf = gq_malloc(n * RECORD_SIZE, "journal batch", err);
    if (!buf) return GQ_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) record_pack(buf + i * RECORD_SIZE, idx[i], ll[idx[i]], greedy[idx[i]]);
    size_t len = n * RECORD_SIZE;
    int torn = 0;
    long die_at = kill_after(&torn);
    batches_written++;
    if (die_at && batches_written == die_at && torn) len = len / 2 + 1; /* a write cut short by the kill */
    int rc = gq_file_write_fd(j->fd, buf, len, j->path, err);
    gq_free(buf);
    if (rc == GQ_OK) rc = gq_file_sync(j->fd, j->path, err);
    if (rc != GQ_OK) {
        gq_error_prefix(err, "journal: ");
        return rc;
    }
    if (die_at && batches_written == die_at) raise(SIGKILL); /* test hook (journal.h) */
    return GQ_OK;
}

int gq_journal_read(const char *path, const unsigned char key[32], uint64_t n_req, double *ll, int *greedy,
                    unsigned char *done, size_t *n_loaded, gq_error *err)
{
    char *data = NULL;
    size_t size = 0;
    *n_loaded = 0;
    int rc = gq_file_read_all(path, &data, &size, err);
    if (rc != GQ_OK) return rc;
    unsigned char want[HEADER_SIZE];
    header_pack(want, key, n_req);
    if (size < HEADER_SIZE || memcmp(data, want, HEADER_SIZE) != 0) {
        gq_free(data);
        return gq_error_set(err, GQ_ERR_INVALID, "%s: not the journal of these requests (%s)", path,
                            size < HEADER_SIZE ? "shorter than its header" : "its header names other requests");
    }
    *n_loaded += records_load(data, size, n_req, ll, greedy, done);
    gq_free(data);
    return GQ_OK;
}

void gq_journal_close(gq_journal *j)
{
    if (!j) return;
    if (j->fd >= 0) close(j->fd);
    gq_free(j->path);
    gq_free(j);
}

// ---- keys ---------------------------------------------------------------------------------------

void gq_journal_key_init(gq_journal_keyer *k)
{
    gq_sha256_init(&k->sha);
    gq_sha256_update(&k->sha, "gqla-journal-key 1", 18);
}

void gq_journal_key_i64(gq_journal_keyer *k, int64_t v) { gq_sha256_update(&k->sha, &v, sizeof v); }

void gq_journal_key_str(gq_journal_keyer *k, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    gq_journal_key_i64(k, s ? (int64_t)n : -1);
    if (n) gq_sha256_update(&k->sha, s, n);
}

void gq_journal_key_ids(gq_journal_keyer *k, const int32_t *ids, size_t n)
{
    gq_journal_key_i64(k, (int64_t)n);
    if (n) gq_sha256_update(&k->sha, ids, n * sizeof *ids);
}

void gq_journal_key_final(gq_journal_keyer *k, unsigned char key[32]) { gq_sha256_final(&k->sha, key); }
