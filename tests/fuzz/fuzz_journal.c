/* fuzz_journal.c — libFuzzer target: a resume journal file
 * (harness/journal.c; fuzz_util.h says how targets build and replay).
 * The number of requests and the key are taken from the input's own header
 * bytes (n_req capped at 4096), so that most inputs reach the record
 * reader instead of only the header check; an input whose header claims more
 * requests than the cap is opened with another n_req and must restart.
 * After opening, one more record is appended, as the scoring loop does. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "gq_error.h"
#include "journal.h"

#define MAX_REQ 4096u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t n_req = 1;
    unsigned char key[32] = {0};
    if (size >= 56) {
        memcpy(&n_req, data + 16, 8);
        memcpy(key, data + 24, 32);
    }
    if (n_req == 0 || n_req > MAX_REQ) n_req = n_req % MAX_REQ + 1;
    fuzz_reset();
    const char *path = fuzz_write(0, "journal/run/task.bin", data, size);
    if (!path) return 0;
    double *ll = calloc(n_req, sizeof *ll);
    int *greedy = calloc(n_req, sizeof *greedy);
    unsigned char *done = calloc(n_req, 1);
    if (ll && greedy && done) {
        gq_journal *j = NULL;
        gq_journal_status st;
        gq_error err = {0};
        int rc = gq_journal_open(&j, path, key, n_req, ll, greedy, done, &st, &err);
        fuzz_note(st == GQ_JOURNAL_RESUMED ? "journal (resumed)" : "journal", rc, &err);
        if (rc == GQ_OK) {
            size_t idx = 0;
            while (idx + 1 < n_req && done[idx]) idx++;
            gq_journal_append(j, &idx, 1, ll, greedy, &err);
            gq_journal_close(j);
        }
    }
    free(ll);
    free(greedy);
    free(done);
    return 0;
}
