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

/* Write bytes to path.tmp.PID, fsync, rename over path: no half-written file. */
int gq_file_write_atomic(const char *path, const void *data, size_t size, gq_error *err);

/* mkdir -p: create dir and every missing folder above it (mode 0777 less
 * the umask); an existing component that is not a folder is an error. */
int gq_mkdir_p(const char *dir, gq_error *err);

int gq_path_is_dir(const char *path);
int gq_path_exists(const char *path);
/* dir + "/" + name into a heap string (caller frees). */
char *gq_path_join(const char *dir, const char *name, gq_error *err);

#endif
