/* fileio.c — mmap, read-all and atomic write with messages naming the path. */
#define _POSIX_C_SOURCE 200809L
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gq_alloc.h"

int gq_file_map(gq_mapped_file *mf, const char *path, gq_error *err)
{
    mf->data = NULL;
    mf->size = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return gq_error_set(err, GQ_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return gq_error_set(err, GQ_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return gq_error_set(err, GQ_ERR_IO, "%s: not a regular file", path);
    }
    if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            return gq_error_set(err, GQ_ERR_IO, "%s: cannot map %lld bytes: %s", path,
                                (long long)st.st_size, strerror(e));
        }
        mf->data = p;
        mf->size = (size_t)st.st_size;
    }
    close(fd);
    return GQ_OK;
}

void gq_file_unmap(gq_mapped_file *mf)
{
    if (mf && mf->data) munmap((void *)mf->data, mf->size);
    if (mf) {
        mf->data = NULL;
        mf->size = 0;
    }
}

int gq_file_read_all(const char *path, char **out, size_t *size, gq_error *err)
{
    *out = NULL;
    if (size) *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return gq_error_set(err, GQ_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = gq_malloc(cap, path, err);
    if (!buf) goto fail;
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = gq_realloc(buf, cap * 2, path, err);
            if (!nb) goto fail;
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        gq_error_set(err, GQ_ERR_IO, "%s: read error", path);
        goto fail;
    }
    fclose(f);
    buf[n] = '\0';
    *out = buf;
    if (size) *size = n;
    return GQ_OK;
fail:
    gq_free(buf);
    fclose(f);
    return err ? (int)err->status : GQ_ERR_IO;
}

// ---- write fault injection (fileio.h) ------------------------------------------

static long wfail_at = -1; /* GQ_FAIL_WRITE; 0 = never */
static int wfail_errno = ENOSPC;
static long wcount;

/* 0 to go ahead, else the errno this write must fail with. */
static int write_fault(const char *op, const char *path)
{
    if (wfail_at < 0) {
        const char *s = getenv("GQ_FAIL_WRITE");
        const char *e = getenv("GQ_FAIL_WRITE_ERRNO");
        wfail_at = s ? strtol(s, NULL, 10) : 0;
        if (wfail_at < 0) wfail_at = 0;
        wfail_errno = e && strcmp(e, "EIO") == 0 ? EIO : ENOSPC;
    }
    wcount++;
    if (wfail_at == 0 || wcount != wfail_at) return 0;
    fprintf(stderr, "GQ_FAIL_WRITE=%ld: failing the %s of %s with %s\n", wfail_at, op, path,
            wfail_errno == EIO ? "EIO" : "ENOSPC");
    return wfail_errno;
}

int gq_file_write_fd(int fd, const void *data, size_t size, const char *path, gq_error *err)
{
    int e = write_fault("write", path);
    if (e) return gq_error_set(err, GQ_ERR_IO, "%s: cannot write: %s", path, strerror(e));
    const char *p = data;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, p + off, size - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return gq_error_set(err, GQ_ERR_IO, "%s: cannot write: %s", path, w < 0 ? strerror(errno) : "no progress");
        off += (size_t)w;
    }
    return GQ_OK;
}

int gq_file_sync(int fd, const char *path, gq_error *err)
{
    int e = write_fault("fsync", path);
    if (e || fsync(fd) != 0)
        return gq_error_set(err, GQ_ERR_IO, "%s: cannot sync to disk: %s", path, strerror(e ? e : errno));
    return GQ_OK;
}

int gq_file_rename(const char *from, const char *to, gq_error *err)
{
    int e = write_fault("rename", to);
    if (e || rename(from, to) != 0)
        return gq_error_set(err, GQ_ERR_IO, "%s: cannot rename %s into place: %s", to, from, strerror(e ? e : errno));
    return GQ_OK;
}

/* Best effort: make a rename durable (a failure loses nothing but the
 * guarantee, so it is not an error). */
static void sync_parent(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int gq_file_write_atomic(const char *path, const void *data, size_t size, gq_error *err)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return gq_error_set(err, GQ_ERR_USAGE, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) return gq_error_set(err, GQ_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    int rc = gq_file_write_fd(fd, data, size, path, err);
    if (rc == GQ_OK) rc = gq_file_sync(fd, path, err);
    if (close(fd) != 0 && rc == GQ_OK) rc = gq_error_set(err, GQ_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    if (rc == GQ_OK) rc = gq_file_rename(tmp, path, err);
    if (rc != GQ_OK) {
        unlink(tmp);
        return rc;
    }
    sync_parent(path);
    return GQ_OK;
}

int gq_path_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int gq_path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

char *gq_path_join(const char *dir, const char *name, gq_error *err)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = gq_malloc(a + b + 2, "path", err);
    if (!p) return NULL;
    memcpy(p, dir, a);
    size_t k = a;
    if (a > 0 && dir[a - 1] != '/') p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}

int gq_mkdir_p(const char *dir, gq_error *err)
{
    char buf[4096];
    size_t n = strlen(dir);
    if (n >= sizeof buf) return gq_error_set(err, GQ_ERR_IO, "%s: path too long", dir);
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return gq_error_set(err, GQ_ERR_IO, "%s: cannot create folder: %s", buf, strerror(errno));
        if (!gq_path_is_dir(buf)) return gq_error_set(err, GQ_ERR_IO, "%s: exists but is not a folder", buf);
        buf[i] = saved;
    }
    return GQ_OK;
}
