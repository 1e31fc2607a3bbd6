/* run_lock.c — the output folder's lock (run_lock.h). */
#define _DEFAULT_SOURCE /* flock */
#define _XOPEN_SOURCE 700 /* nftw */
#include "run_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "gq_alloc.h"

#define LOCK_NAME ".gqla-eval.lock"

/* NAME.tmp.PID: the temp twin of gq_file_write_atomic (base/fileio.c). */
static int is_temp_twin(const char *base)
{
    const char *t = strstr(base, ".tmp.");
    if (!t || t == base) return 0;
    const char *d = t + 5;
    if (!*d) return 0;
    for (; *d; d++)
        if (*d < '0' || *d > '9') return 0;
    return 1;
}

static int remove_stale(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    if (flag == FTW_F && is_temp_twin(path + ftw->base)) remove(path);
    return 0;
}

int gq_run_lock_acquire(const char *dir, int *fd, gq_error *err)
{
    *fd = -1;
    int rc = gq_mkdir_p(dir, err);
    if (rc != GQ_OK) return rc;
    char *path = gq_path_join(dir, LOCK_NAME, err);
    if (!path) return GQ_ERR_NOMEM;
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (f < 0) {
        rc = gq_error_set(err, GQ_ERR_IO, "%s: cannot create the output folder's lock file: %s", path, strerror(errno));
        goto done;
    }
    while (flock(f, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR) continue;
        int e = errno;
        close(f);
        f = -1;
        if (e == EWOULDBLOCK)
            rc = gq_error_set(err, GQ_ERR_USAGE,
                              "%s: another gqla-eval run is using this output folder (it holds %s) ---> HINT: "
                              "wait for it to finish, or give this run another --output-dir",
                              dir, LOCK_NAME);
        else
            rc = gq_error_set(err, GQ_ERR_IO, "%s: cannot lock: %s", path, strerror(e));
        goto done;
    }
    *fd = f;
    /* Ours alone now: temp files of atomic writes cut off by a kill are stale. */
    nftw(dir, remove_stale, 16, FTW_PHYS);
done:
    gq_free(path);
    return rc;
}

void gq_run_lock_release(int fd)
{
    if (fd >= 0) close(fd); /* closing the last descriptor drops the flock */
}
