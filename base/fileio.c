/* fileio.c — mmap, read-all and atomic write with messages naming the path. */
#define _POSIX_C_SOURCE 200809L
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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

int gq_file_write_atomic(const char *path, const void *data, size_t size, gq_error *err)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return gq_error_set(err, GQ_ERR_USAGE, "%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return gq_error_set(err, GQ_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    int ok = fwrite(data, 1, size, f) == size;
    ok = (fflush(f) == 0) && ok;
    ok = (fsync(fileno(f)) == 0) && ok;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return gq_error_set(err, GQ_ERR_IO, "%s: cannot write: %s", path, strerror(e));
    }
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
