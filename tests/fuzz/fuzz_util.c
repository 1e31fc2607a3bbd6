/* fuzz_util.c — the scratch folder and input splitting of fuzz_util.h. */
#define _XOPEN_SOURCE 700
#include "fuzz_util.h"
#include "checkpoint.h"
#include "gq_error.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char scratch[512];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    if (ftw->level == 0) return 0; /* keep the folder itself */
    remove(path);
    return 0;
}

static void rm_scratch(void)
{
    if (!scratch[0]) return;
    nftw(scratch, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    rmdir(scratch);
}

const char *fuzz_dir(void)
{
    if (scratch[0]) return scratch;
    const char *base = getenv("TMPDIR");
    struct stat st;
    if (!base || !*base) base = (stat("/dev/shm", &st) == 0 && access("/dev/shm", W_OK) == 0) ? "/dev/shm" : "/tmp";
    mkdir(base, 0777); /* TMPDIR of the ctests is a build folder that may not exist yet */
    snprintf(scratch, sizeof scratch, "%s/gqla-fuzz.XXXXXX", base);
    if (!mkdtemp(scratch)) {
        fprintf(stderr, "fuzz: cannot create a scratch folder under %s: %s\n", base, strerror(errno));
        abort();
    }
    atexit(rm_scratch);
    return scratch;
}

void fuzz_reset(void) { nftw(fuzz_dir(), rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static void mkdir_parents(char *path)
{
    for (char *p = path + strlen(fuzz_dir()) + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        mkdir(path, 0777);
        *p = '/';
    }
}

const char *fuzz_write(int slot, const char *rel, const void *data, size_t n)
{
    static char paths[8][1024];
    if (slot < 0 || slot >= 8) abort();
    snprintf(paths[slot], sizeof paths[slot], "%s/%s", fuzz_dir(), rel);
    mkdir_parents(paths[slot]);
    FILE *f = fopen(paths[slot], "wb");
    if (!f) return NULL;
    if (n && fwrite(data, 1, n, f) != n) {
        fclose(f);
        return NULL;
    }
    if (fclose(f) != 0) return NULL;
    return paths[slot];
}

void fuzz_split2(const uint8_t *data, size_t size, const uint8_t **a, size_t *na, const uint8_t **b,
                 size_t *nb)
{
    const size_t k = sizeof FUZZ_SPLIT - 1;
    *a = data;
    *na = size;
    *b = data + size;
    *nb = 0;
    for (size_t i = 0; i + k <= size; i++) {
        if (memcmp(data + i, FUZZ_SPLIT, k) == 0) {
            *na = i;
            *b = data + i + k;
            *nb = size - i - k;
            return;
        }
    }
}

char *fuzz_strndup(const uint8_t *data, size_t n)
{
    char *s = malloc(n + 1);
    if (!s) return NULL;
    if (n) memcpy(s, data, n);
    s[n] = '\0';
    return s;
}

void fuzz_note(const char *what, int rc, const struct gq_error *err)
{
    static int verbose = -1;
    if (verbose < 0) verbose = getenv("FUZZ_REPLAY_VERBOSE") != NULL;
    if (verbose) fprintf(stderr, "  %s: %s\n", what, rc == GQ_OK ? "ok" : err->msg);
}

void fuzz_widen_small(const struct gq_tensor_ref *t)
{
    if (!t || t->n_elems == 0 || t->n_elems > (1u << 16)) return;
    float *dst = malloc((size_t)t->n_elems * sizeof *dst);
    if (!dst) return;
    gq_error err = {0};
    gq_tensor_load_f32(t, dst, &err);
    free(dst);
}

int fuzz_write_split(const uint8_t *data, size_t size, const char *name_a, const char *name_b, const char **path_a,
                     const char **path_b, size_t *n_b)
{
    const uint8_t *a, *b;
    size_t na;
    fuzz_split2(data, size, &a, &na, &b, n_b);
    fuzz_reset();
    *path_a = fuzz_write(0, name_a, a, na);
    *path_b = fuzz_write(1, name_b, b, *n_b);
    return *path_a && *path_b ? 0 : -1;
}
