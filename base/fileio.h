/* fileio.h — small file helpers: read-only mmap, read-all, atomic write,
 * mkdir -p.
 * Errors name the path and the system's reason. */
#ifndef GQ_FILEIO_H
#define GQ_FILEIO_H

#include <stddef.h>
#include "gq_error.h"

typedef struct gq_mapped_file {
    const unsigned char *data;  /* NULL for an empty file */
    size_t size;
} gq_mapped_file;

int gq_file_map(gq_mapped_file *mf, const char *path, gq_error *err);
void gq_file_unmap(gq_mapped_file *mf);

/* Whole file into a NUL-terminated heap buffer (caller frees with gq_free). */
int gq_file_read_all(const char *path, char **out, size_t *size, gq_error *err);

/* Write bytes to path.tmp.PID, fsync, rename over path: no half-written
 * file.  On failure path is untouched (the old file, or none), the temp file
 * is removed, and err names path and the system's reason. */
int gq_file_write_atomic(const char *path, const void *data, size_t size, gq_error *err);

/* The three primitive writes every output of gqla-eval goes through (the
 * atomic write above, the journal's appends, the converter's and the demo's
 * folder renames).  Each is one fault-injection point:
 *   GQ_FAIL_WRITE=N          the Nth call of the process (1-based) fails
 *                            with ENOSPC, before touching anything;
 *   GQ_FAIL_WRITE_ERRNO=EIO  ... with EIO instead.
 * The failing call prints "GQ_FAIL_WRITE=N: ..." on stderr, so that a sweep
 * (tests/test_write_faults.c) knows when N went past the last write.
 * gq_file_write_fd writes all of data (retrying short writes and EINTR);
 * errors name `path`. */
int gq_file_write_fd(int fd, const void *data, size_t size, const char *path, gq_error *err);
int gq_file_sync(int fd, const char *path, gq_error *err);
int gq_file_rename(const char *from, const char *to, gq_error *err);

/* mkdir -p: create dir and every missing folder above it (mode 0777 less
 * the umask); an existing component that is not a folder is an error. */
int gq_mkdir_p(const char *dir, gq_error *err);

int gq_path_is_dir(const char *path);
int gq_path_exists(const char *path);
/* dir + "/" + name into a heap string (caller frees). */
char *gq_path_join(const char *dir, const char *name, gq_error *err);

#endif
