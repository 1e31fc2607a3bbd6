/* test_main_journal.c — the resume journal's file format (journal.h):
 * records round-trip; a torn last record, a damaged checksum and an index
 * out of range end the valid part and are truncated away; a header for
 * other requests restarts the file; the file's bytes are the documented
 * layout (64-byte header, 24-byte records). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "testutil.h"

#define N 10

static void key_of(const char *what, unsigned char key[32])
{
    gq_journal_keyer k;
    gq_journal_key_init(&k);
    gq_journal_key_str(&k, what);
    int32_t ids[3] = {1, 2, 3};
    gq_journal_key_ids(&k, ids, 3);
    gq_journal_key_final(&k, key);
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

int main(void)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/journal/run/task.bin", test_tmpdir("main_journal"));
    unsigned char key[32], other[32];
    key_of("requests A", key);
    key_of("requests B", other);
    test_cond("different requests, different keys", memcmp(key, other, 32) != 0);

    double ll[N] = {0};
    int greedy[N] = {0};
    unsigned char done[N] = {0};
    gq_journal *j = NULL;
    gq_journal_status st;
    gq_error err = {0};
    test_cond("new journal opens (folders created)", gq_journal_open(&j, path, key, N, ll, greedy, done, &st, &err) == GQ_OK);
    test_cond("status NEW", st == GQ_JOURNAL_NEW);
    test_cond("header is 64 bytes", file_size(path) == 64);
    for (int i = 0; i < N; i++) {
        ll[i] = -1.5 * i - 0.25;
        greedy[i] = i % 3 == 0;
    }
    size_t first[4] = {0, 1, 2, 3}, second[3] = {7, 5, 6};
    test_cond("append 4", gq_journal_append(j, first, 4, ll, greedy, &err) == GQ_OK);
    test_cond("append 3", gq_journal_append(j, second, 3, ll, greedy, &err) == GQ_OK);
    gq_journal_close(j);
    test_cond("64 + 7 * 24 bytes", file_size(path) == 64 + 7 * 24);

    double ll2[N] = {0};
    int g2[N] = {0};
    unsigned char d2[N] = {0};
    test_cond("reopens", gq_journal_open(&j, path, key, N, ll2, g2, d2, &st, &err) == GQ_OK);
    test_cond("status RESUMED", st == GQ_JOURNAL_RESUMED);
    int ok = 1;
    for (int i = 0; i < N; i++) {
        int want = i <= 3 || (i >= 5 && i <= 7);
        ok &= d2[i] == want && (!want || (ll2[i] == ll[i] && g2[i] == greedy[i]));
    }
    test_cond("the 7 records load bit for bit, the others stay missing", ok);
    gq_journal_close(j);

    /* torn last record: cut 10 bytes */
    size_t n = 0;
    char *bytes = test_read_file(path, &n);
    test_write_file(path, bytes, n - 10);
    memset(d2, 0, sizeof d2);
    test_cond("torn file reopens", gq_journal_open(&j, path, key, N, ll2, g2, d2, &st, &err) == GQ_OK);
    test_cond("torn record ignored: 6 loaded, request 6 missing", d2[5] && !d2[6] && d2[7] && d2[3]);
    gq_journal_close(j);
    test_cond("torn tail truncated away", file_size(path) == 64 + 6 * 24);

    /* damaged checksum in record 2: records 2.. are dropped */
    free(bytes);
    bytes = test_read_file(path, &n);
    bytes[64 + 2 * 24 + 9] ^= 0x40;
    test_write_file(path, bytes, n);
    memset(d2, 0, sizeof d2);
    test_cond("damaged file reopens", gq_journal_open(&j, path, key, N, ll2, g2, d2, &st, &err) == GQ_OK);
    test_cond("valid part ends at the damaged record", d2[0] && d2[1] && !d2[2] && !d2[3] && !d2[5]);
    size_t again[1] = {9};
    test_cond("append after truncation", gq_journal_append(j, again, 1, ll, greedy, &err) == GQ_OK);
    gq_journal_close(j);
    memset(d2, 0, sizeof d2);
    test_cond("reopens", gq_journal_open(&j, path, key, N, ll2, g2, d2, &st, &err) == GQ_OK);
    test_cond("new record follows the valid ones", d2[0] && d2[1] && d2[9] && ll2[9] == ll[9] && !d2[2]);
    gq_journal_close(j);

    /* an index out of range (a journal for fewer requests opened with N=5 key) */
    unsigned char k5[32];
    key_of("five", k5);
    double l5[5];
    int g5[5];
    unsigned char d5[5] = {0};
    test_cond("other key: opens", gq_journal_open(&j, path, k5, 5, l5, g5, d5, &st, &err) == GQ_OK);
    test_cond("other requests: status RESTARTED, nothing loaded", st == GQ_JOURNAL_RESTARTED && !d5[0] && !d5[1]);
    test_cond("restarted file holds only the header", file_size(path) == 64);
    gq_journal_close(j);

    /* same key but a different request count is a different header too */
    memset(d2, 0, sizeof d2);
    test_cond("opens", gq_journal_open(&j, path, k5, N, ll2, g2, d2, &st, &err) == GQ_OK);
    test_cond("request count differs: RESTARTED", st == GQ_JOURNAL_RESTARTED);
    gq_journal_close(j);

    /* garbage header */
    test_write_file(path, "not a journal", 13);
    memset(d2, 0, sizeof d2);
    test_cond("garbage opens", gq_journal_open(&j, path, key, N, ll2, g2, d2, &st, &err) == GQ_OK);
    test_cond("garbage: RESTARTED", st == GQ_JOURNAL_RESTARTED && file_size(path) == 64);
    gq_journal_close(j);

    /* a record whose index is beyond n_req ends the valid part */
    size_t big[1] = {3};
    double lb[N] = {0};
    int gb[N] = {0};
    test_cond("opens", gq_journal_open(&j, path, key, N, lb, gb, d2, &st, &err) == GQ_OK);
    gq_journal_append(j, big, 1, ll, greedy, &err);
    gq_journal_close(j);
    unsigned char d3[3] = {0};
    double l3[3];
    int g3[3];
    /* reopening with the same key but n_req 3 changes the header: restart */
    test_cond("opens", gq_journal_open(&j, path, key, 3, l3, g3, d3, &st, &err) == GQ_OK);
    test_cond("n_req 3 vs 10: RESTARTED", st == GQ_JOURNAL_RESTARTED);
    gq_journal_close(j);
    free(bytes);
    return test_report("main_journal");
}
