/* output.c — see output.h. */
#define _GNU_SOURCE /* syscall(SYS_getdents64) */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fileio.h"
#include "gq_alloc.h"
#include "safetensors.h"

/* The temp folder a signal must remove (one conversion per process). */
static char signal_tmp_dir[4096];
static struct sigaction old_int, old_term;
static int handlers_installed;

/* One record of Linux's getdents64 (the kernel's layout). */
typedef struct dirent64_record {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
} dirent64_record;

/* Remove the files of a flat folder, then the folder, with system calls
 * only (open, getdents64, unlinkat, close, rmdir), which are
 * async-signal-safe, so the signal handler below may call it.  opendir and
 * readdir allocate: a signal landing inside malloc then corrupted the heap
 * (glibc's "malloc assertion failure" when SIGTERM hit a conversion).
 * Entries are unlinked while the folder is read, so reading starts over
 * until a pass finds nothing left (bounded). */
static void remove_tree(const char *dir)
{
    for (int pass = 0; pass < 16; pass++) {
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) break;
        int removed = 0;
        _Alignas(8) char buf[4096];
        long n;
        while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
            for (long off = 0; off < n;) {
                const dirent64_record *e = (const dirent64_record *)(buf + off);
                off += e->d_reclen;
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
                if (unlinkat(fd, e->d_name, 0) == 0) removed++;
            }
        }
        close(fd);
        if (!removed) break;
    }
    rmdir(dir);
}

/* The handler runs once, removes the temp folder and re-raises the signal,
 * so the process ends right after. */
static void on_signal(int sig)
{
    if (signal_tmp_dir[0]) remove_tree(signal_tmp_dir);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_handlers(const char *tmp)
{
    snprintf(signal_tmp_dir, sizeof signal_tmp_dir, "%s", tmp);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    handlers_installed = 1;
}

static void remove_handlers(void)
{
    if (!handlers_installed) return;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    signal_tmp_dir[0] = '\0';
    handlers_installed = 0;
}

uint16_t gq_f32_to_bf16(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

int gq_out_begin(gq_convert_out *o, const char *final_dir, gq_error *err)
{
    memset(o, 0, sizeof *o);
    size_t n = strlen(final_dir);
    while (n > 1 && final_dir[n - 1] == '/') n--;
    if (gq_path_exists(final_dir))
        return gq_error_set(err, GQ_ERR_USAGE, "%s: already exists; give --output a new folder (nothing is "
                            "overwritten)", final_dir);
    o->final_dir = gq_malloc(n + 1, "output path", err);
    o->tmp_dir = gq_malloc(n + 16, "output path", err);
    if (!o->final_dir || !o->tmp_dir) {
        gq_out_free(o);
        return GQ_ERR_NOMEM;
    }
    memcpy(o->final_dir, final_dir, n);
    o->final_dir[n] = '\0';
    snprintf(o->tmp_dir, n + 16, "%s.tmp-XXXXXX", o->final_dir);
    /* SIGINT/SIGTERM stay blocked from before the folder exists until the
     * handler that removes it is installed: no window leaves it behind. */
    sigset_t block, old_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old_mask);
    char *made = mkdtemp(o->tmp_dir);
    if (made) install_handlers(o->tmp_dir);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    if (!made) {
        int e = errno;
        gq_error_set(err, GQ_ERR_IO, "%s: cannot create the temporary output folder: %s", o->tmp_dir, strerror(e));
        gq_free(o->tmp_dir);
        o->tmp_dir = NULL;
        gq_out_free(o);
        return GQ_ERR_IO;
    }
    return GQ_OK;
}

static int dtype_size(gq_dtype t)
{
    return t == GQ_DTYPE_F32 ? 4 : (t == GQ_DTYPE_F16 || t == GQ_DTYPE_BF16) ? 2 : 0;
}

int gq_out_add(gq_convert_out *o, const char *name, gq_dtype dtype, int n_dims, const int64_t *shape, const void *data,
               int take_ownership, gq_error *err)
{
    void *own = take_ownership ? (void *)data : NULL;
    if (!dtype_size(dtype) || n_dims < 1 || n_dims > GQ_MAX_DIMS) {
        gq_free(own);
        return gq_error_set(err, GQ_ERR_USAGE, "output tensor '%s': dtype %s / %d dims cannot be written", name,
                            gq_dtype_name(dtype), n_dims);
    }
    if (o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 64;
        gq_out_tensor *t = gq_realloc(o->t, cap * sizeof *t, "output tensor list", err);
        if (!t) {
            gq_free(own);
            return GQ_ERR_NOMEM;
        }
        o->t = t;
        o->cap = cap;
    }
    gq_out_tensor *t = &o->t[o->n];
    memset(t, 0, sizeof *t);
    t->name = gq_strdup(name, err);
    if (!t->name) {
        gq_free(own);
        return GQ_ERR_NOMEM;
    }
    t->dtype = dtype;
    t->n_dims = n_dims;
    size_t elems = 1;
    for (int i = 0; i < GQ_MAX_DIMS; i++) t->shape[i] = i < n_dims ? shape[i] : 1;
    for (int i = 0; i < n_dims; i++) elems *= (size_t)shape[i];
    t->nbytes = elems * (size_t)dtype_size(dtype);
    t->data = data;
    t->owned = own;
    o->total_bytes += t->nbytes;
    o->n++;
    return GQ_OK;
}

int gq_out_add_f32(gq_convert_out *o, const char *name, int n_dims, const int64_t *shape, float *data,
                   int take_ownership, gq_dtype out_dtype, gq_error *err)
{
    if (out_dtype == GQ_DTYPE_F32) return gq_out_add(o, name, GQ_DTYPE_F32, n_dims, shape, data, take_ownership, err);
    size_t elems = 1;
    for (int i = 0; i < n_dims; i++) elems *= (size_t)shape[i];
    uint16_t *b = gq_malloc((elems ? elems : 1) * sizeof *b, "bf16 tensor", err);
    if (b)
        for (size_t i = 0; i < elems; i++) b[i] = gq_f32_to_bf16(data[i]);
    if (take_ownership) gq_free(data);
    if (!b) return GQ_ERR_NOMEM;
    return gq_out_add(o, name, GQ_DTYPE_BF16, n_dims, shape, b, 1, err);
}

char *gq_out_path(const gq_convert_out *o, const char *name, gq_error *err) { return gq_path_join(o->tmp_dir, name, err); }

static int write_shard(gq_convert_out *o, const char *file, size_t first, size_t count, gq_error *err)
{
    gq_safetensors_entry *e = gq_calloc(count ? count : 1, sizeof *e, "safetensors entries", err);
    char *path = gq_out_path(o, file, err);
    int rc = GQ_OK;
    if (!e || !path) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < count; i++) {
        const gq_out_tensor *t = &o->t[first + i];
        e[i].name = t->name;
        e[i].dtype = t->dtype;
        e[i].n_dims = t->n_dims;
        memcpy(e[i].shape, t->shape, sizeof e[i].shape);
        e[i].data = t->data;
    }
    rc = gq_safetensors_write(path, e, count, err);
done:
    gq_free(e);
    gq_free(path);
    return rc;
}

int gq_out_write_tensors(gq_convert_out *o, size_t max_shard_bytes, gq_error *err)
{
    if (max_shard_bytes == 0) max_shard_bytes = GQ_OUT_DEFAULT_SHARD_BYTES;
    /* Shard boundaries: a new shard when the next tensor would overflow. */
    size_t *start = gq_calloc(o->n + 2, sizeof *start, "shard table", err);
    if (!start) return GQ_ERR_NOMEM;
    int n_shards = 0;
    size_t cur = 0;
    for (size_t i = 0; i < o->n; i++) {
        if (i == 0 || (cur > 0 && cur + o->t[i].nbytes > max_shard_bytes)) {
            start[n_shards++] = i;
            cur = 0;
        }
        cur += o->t[i].nbytes;
    }
    if (n_shards == 0) start[n_shards++] = 0;
    start[n_shards] = o->n;
    int rc = GQ_OK;
    cJSON *index = NULL;
    if (n_shards == 1) {
        rc = write_shard(o, "model.safetensors", 0, o->n, err);
    } else {
        index = cJSON_CreateObject();
        cJSON *meta = cJSON_AddObjectToObject(index, "metadata");
        cJSON_AddNumberToObject(meta, "total_size", (double)o->total_bytes);
        cJSON *map = cJSON_AddObjectToObject(index, "weight_map");
        for (int s = 0; s < n_shards && rc == GQ_OK; s++) {
            char file[64];
            snprintf(file, sizeof file, "model-%05d-of-%05d.safetensors", s + 1, n_shards);
            rc = write_shard(o, file, start[s], start[s + 1] - start[s], err);
            for (size_t i = start[s]; i < start[s + 1]; i++) cJSON_AddStringToObject(map, o->t[i].name, file);
        }
        if (rc == GQ_OK) rc = gq_out_write_json(o, "model.safetensors.index.json", index, err);
    }
    o->n_shards = n_shards;
    cJSON_Delete(index);
    gq_free(start);
    return rc;
}

int gq_out_write_json(gq_convert_out *o, const char *name, const cJSON *obj, gq_error *err)
{
    char *text = cJSON_Print(obj);
    char *path = gq_out_path(o, name, err);
    int rc;
    if (!text || !path) {
        rc = text ? GQ_ERR_NOMEM : gq_error_set(err, GQ_ERR_NOMEM, "%s: out of memory printing JSON", name);
    } else {
        size_t n = strlen(text);
        text[n] = '\n'; /* cJSON_Print's buffer holds the NUL here; write it as a newline */
        rc = gq_file_write_atomic(path, text, n + 1, err);
    }
    if (text) cJSON_free(text);
    gq_free(path);
    return rc;
}

int gq_out_copy_file(gq_convert_out *o, const char *src, const char *name, gq_error *err)
{
    char *data = NULL;
    size_t size = 0;
    int rc = gq_file_read_all(src, &data, &size, err);
    if (rc != GQ_OK) return rc;
    char *path = gq_out_path(o, name, err);
    rc = path ? gq_file_write_atomic(path, data, size, err) : GQ_ERR_NOMEM;
    gq_free(path);
    gq_free(data);
    return rc;
}

int gq_out_copy_tokenizer_files(gq_convert_out *o, const char *src_dir, gq_error *err)
{
    static const char *const names[] = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                        "vocab.json", "merges.txt", "tokenizer.model", "generation_config.json",
                                        NULL};
    for (int i = 0; names[i]; i++) {
        char *p = gq_path_join(src_dir, names[i], err);
        if (!p) return GQ_ERR_NOMEM;
        int rc = gq_path_exists(p) ? gq_out_copy_file(o, p, names[i], err) : GQ_OK;
        gq_free(p);
        if (rc != GQ_OK) return rc;
    }
    return GQ_OK;
}

int gq_out_commit(gq_convert_out *o, gq_error *err)
{
    if (gq_path_exists(o->final_dir))
        return gq_error_set(err, GQ_ERR_IO, "%s: appeared while converting; the result stays unwritten", o->final_dir);
    int rc = gq_file_rename(o->tmp_dir, o->final_dir, err);
    if (rc != GQ_OK) return rc;
    o->committed = 1;
    remove_handlers();
    return GQ_OK;
}

void gq_out_free(gq_convert_out *o)
{
    if (!o) return;
    if (o->tmp_dir && !o->committed) remove_tree(o->tmp_dir);
    remove_handlers();
    for (size_t i = 0; i < o->n; i++) {
        gq_free(o->t[i].name);
        gq_free(o->t[i].owned);
    }
    gq_free(o->t);
    gq_free(o->final_dir);
    gq_free(o->tmp_dir);
    memset(o, 0, sizeof *o);
}

void gq_meta_add_dims_layout(cJSON *root, const gq_meta_dims *d, cJSON **dims, cJSON **layout)
{
    cJSON *dm = cJSON_AddObjectToObject(root, "dims");
    cJSON_AddNumberToObject(dm, "H", (double)d->H);
    cJSON_AddNumberToObject(dm, "G", (double)d->G);
    cJSON_AddNumberToObject(dm, "group_size", (double)(d->H / d->G));
    cJSON_AddNumberToObject(dm, "d_n", (double)d->dn);
    cJSON_AddNumberToObject(dm, "d_r", (double)d->dr);
    cJSON_AddNumberToObject(dm, "d_v", (double)d->dv);
    cJSON_AddNumberToObject(dm, "r", (double)d->r);
    if (d->rq > 0) cJSON_AddNumberToObject(dm, "r_q", (double)d->rq);
    else cJSON_AddNullToObject(dm, "r_q");
    cJSON *lay = cJSON_AddObjectToObject(root, "layout");
    cJSON_AddStringToObject(lay, "kv_b_proj", "block-major over G groups; K rows then V rows");
    cJSON_AddStringToObject(lay, "rope", d->rope_layout);
    cJSON_AddStringToObject(lay, "q_head", "nope then rope");
    cJSON_AddBoolToObject(lay, "latent_norm", d->latent_norm);
    cJSON_AddNumberToObject(lay, "latent_norm_eps", d->latent_norm_eps);
    if (dims) *dims = dm;
    if (layout) *layout = lay;
}
