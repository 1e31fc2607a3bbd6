/* bench_sha256.c — MB/s of base/sha256.h's streaming API over one file.
 *
 * Reads FILE in 1 MiB chunks through gq_sha256_update (the way the Hub
 * download and the converter's file hashes use it), prints the digest and
 * the rate.  Built and run by scripts/bench-sha256.sh; not part of ctest.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sha256.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_sha256 FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    size_t cap = (size_t)1 << 20, total = 0, n;
    unsigned char *buf = malloc(cap);
    if (!buf) return 2;
    struct timespec t0, t1;
    double busy = 0.0;
    gq_sha256 c;
    gq_sha256_init(&c);
    while ((n = fread(buf, 1, cap, f)) > 0) {
        clock_gettime(CLOCK_MONOTONIC, &t0); /* time the hashing only, not the reads */
        gq_sha256_update(&c, buf, n);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        busy += (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        total += n;
    }
    unsigned char d[32];
    char hex[65];
    gq_sha256_final(&c, d);
    gq_sha256_to_hex(d, hex);
    fclose(f);
    free(buf);
    printf("%s  %zu bytes  %.3f s  %.1f MB/s\n", hex, total, busy, busy > 0 ? (double)total / 1e6 / busy : 0.0);
    return 0;
}
