/* safetensors.c — read (mmap) and write Hugging Face safetensors files.
 *
 * What it is: the header parser and validator behind safetensors.h, and the
 * writer the converter and the tests use.  Every header field is checked
 * before a gq_tensor_ref is handed out (see the list in safetensors.h); a bad
 * file gives GQ_ERR_FORMAT (GQ_ERR_UNSUPPORTED for an unknown dtype) with a
 * message naming the file, the tensor and the offsets.
 * What it is not: sharding and config.json (checkpoint.c), widening to float
 * (tensor_load.c).  Data pointers point into the mapping and need not be
 * aligned for their dtype: readers memcpy or widen element by element.
 * Tests: tests/test_checkpoint.c (cases truncated, overlap, offsets_past_end,
 * size_mismatch, header_len_past_end, bad_dtype, roundtrip).
 */
#include "safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fileio.h"
#include "gq_alloc.h"
#include "json_util.h"

/* A header this large is not a model's: real ones are a few hundred KB for
 * thousands of tensors.  The limit keeps a garbage length from making us
 * parse (or allocate for) gigabytes. */
#define GQ_ST_MAX_HEADER ((uint64_t)100 * 1000 * 1000)

/* Integers in the JSON header arrive as doubles; above 2^53 they are no
 * longer exact, and no real file needs offsets that large. */
#define GQ_ST_MAX_JSON_INT 9007199254740992.0

struct gq_safetensors {
    char *path;
    gq_mapped_file mf;
    size_t n;
    gq_tensor_ref *tensors; /* [n] sorted by data offset */
    const gq_tensor_ref **by_name; /* [n] into tensors, sorted by name */
};

// ---------------------------------------------------------------------------
// helpers

static uint64_t read_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static int dtype_from_name(const char *s, gq_dtype *out)
{
    static const gq_dtype known[] = {GQ_DTYPE_F32, GQ_DTYPE_F16, GQ_DTYPE_BF16,
                                     GQ_DTYPE_F64, GQ_DTYPE_I32, GQ_DTYPE_I64};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(s, gq_dtype_name(known[i])) == 0) {
            *out = known[i];
            return 1;
        }
    }
    return 0;
}

/* A JSON number that is a whole number in [0, 2^53]. */
static int json_uint(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v)) return 0;
    double d = v->valuedouble;
    if (!(d >= 0.0) || d > GQ_ST_MAX_JSON_INT || floor(d) != d) return 0;
    *out = (uint64_t)d;
    return 1;
}

static int cmp_by_offset(const void *a, const void *b)
{
    const gq_tensor_ref *x = a, *y = b;
    if (x->file_offset != y->file_offset) return x->file_offset < y->file_offset ? -1 : 1;
    if (x->nbytes != y->nbytes) return x->nbytes < y->nbytes ? -1 : 1;
    return 0;
}

static int cmp_by_name(const void *a, const void *b)
{
    const gq_tensor_ref *x = *(const gq_tensor_ref *const *)a, *y = *(const gq_tensor_ref *const *)b;
    return strcmp(x->name, y->name);
}

/* The one message for a failed cJSON allocation (cJSON does not say why). */
static int cjson_oom(const char *path, gq_error *err)
{
    return gq_error_set(err, GQ_ERR_NOMEM, "%s: out of memory building the JSON header", path);
}

static void free_tensors(gq_tensor_ref *t, size_t n)
{
    if (!t) return;
    for (size_t i = 0; i < n; i++) gq_free((void *)t[i].name);
    gq_free(t);
}

// ---------------------------------------------------------------------------
// one header entry

/* Fill *t from one entry of the header.  data_start is the file offset of
 * the data area, data_size its length. */
static int parse_entry(gq_tensor_ref *t, const cJSON *e, const char *path,
                       const unsigned char *base, uint64_t data_start, uint64_t data_size,
                       gq_error *err)
{
    const char *name = e->string;
    if (!cJSON_IsObject(e))
        return gq_error_set(err, GQ_ERR_FORMAT,
                            "%s: header entry '%s' is not a JSON object; expected "
                            "{\"dtype\", \"shape\", \"data_offsets\"}",
                            path, name);

    const cJSON *jd = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *jo = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(jd))
        return gq_error_set(err, GQ_ERR_FORMAT, "%s: tensor '%s': %s; expected a string such as \"F32\"",
                            path, name, jd ? "dtype is not a string" : "no dtype");
    if (!dtype_from_name(jd->valuestring, &t->dtype))
        return gq_error_set(err, GQ_ERR_UNSUPPORTED,
                            "%s: tensor '%s': dtype '%s' is not supported (F32, F16, BF16, F64, I32 "
                            "and I64 are); convert the checkpoint to one of them",
                            path, name, jd->valuestring);

    if (!cJSON_IsArray(js))
        return gq_error_set(err, GQ_ERR_FORMAT, "%s: tensor '%s': %s; expected an array of integers",
                            path, name, js ? "shape is not an array" : "no shape");
    int nd = cJSON_GetArraySize(js);
    if (nd > GQ_MAX_DIMS)
        return gq_error_set(err, GQ_ERR_UNSUPPORTED, "%s: tensor '%s': %d dimensions, at most %d supported",
                            path, name, nd, GQ_MAX_DIMS);
    t->n_dims = nd;
    for (int d = 0; d < GQ_MAX_DIMS; d++) t->shape[d] = 1;
    uint64_t n_elems = 1;
    int overflow = 0;
    for (int d = 0; d < nd; d++) {
        uint64_t v;
        if (!json_uint(cJSON_GetArrayItem(js, d), &v))
            return gq_error_set(err, GQ_ERR_FORMAT,
                                "%s: tensor '%s': shape[%d] is not a non-negative integer", path, name, d);
        t->shape[d] = (int64_t)v;
        if (v != 0 && n_elems > UINT64_MAX / v) overflow = 1;
        else n_elems *= v;
    }

    if (!cJSON_IsArray(jo) || cJSON_GetArraySize(jo) != 2)
        return gq_error_set(err, GQ_ERR_FORMAT, "%s: tensor '%s': data_offsets must be an array [begin, end]",
                            path, name);
    uint64_t b, en;
    if (!json_uint(cJSON_GetArrayItem(jo, 0), &b) || !json_uint(cJSON_GetArrayItem(jo, 1), &en))
        return gq_error_set(err, GQ_ERR_FORMAT,
                            "%s: tensor '%s': data_offsets must hold two non-negative integers", path, name);
    if (b > en)
        return gq_error_set(err, GQ_ERR_FORMAT,
                            "%s: tensor '%s': data_offsets [%llu, %llu] begin after end", path, name,
                            (unsigned long long)b, (unsigned long long)en);
    if (en > data_size)
        return gq_error_set(err, GQ_ERR_FORMAT,
                            "%s: tensor '%s': data_offsets [%llu, %llu] end past the data area (%llu "
                            "bytes); the file may be truncated",
                            path, name, (unsigned long long)b, (unsigned long long)en,
                            (unsigned long long)data_size);

    int ok = 0;
    size_t want = overflow ? 0 : gq_dtype_nbytes(t->dtype, n_elems, &ok);
    if (!ok)
        return gq_error_set(err, GQ_ERR_FORMAT, "%s: tensor '%s': shape is too large (size overflows)",
                            path, name);
    if ((uint64_t)want != en - b) {
        char shape_s[128];
        size_t at = (size_t)snprintf(shape_s, sizeof shape_s, "[");
        for (int d = 0; d < nd && at < sizeof shape_s; d++)
            at += (size_t)snprintf(shape_s + at, sizeof shape_s - at, "%s%lld", d ? ", " : "",
                                   (long long)t->shape[d]);
        if (at < sizeof shape_s) snprintf(shape_s + at, sizeof shape_s - at, "]");
        return gq_error_set(err, GQ_ERR_FORMAT,
                            "%s: tensor '%s': data_offsets [%llu, %llu] hold %llu bytes, but shape %s "
                            "in %s needs %zu; the header is corrupt",
                            path, name, (unsigned long long)b, (unsigned long long)en,
                            (unsigned long long)(en - b), shape_s, gq_dtype_name(t->dtype), want);
    }

    t->n_elems = n_elems;
    t->nbytes = want;
    t->file_offset = data_start + b;
    t->data = base ? base + data_start + b : NULL;
    t->file = path;
    t->rope_unpermute_heads = 0;
    t->name = gq_strdup(name, err);
    if (!t->name) return GQ_ERR_NOMEM;
    return GQ_OK;
}

// ---------------------------------------------------------------------------
// reading

int gq_safetensors_open(gq_safetensors **out, const char *path, gq_error *err)
{
    gq_safetensors *st = NULL;
    cJSON *root = NULL;
    int rc = GQ_OK;
    *out = NULL;

    st = gq_calloc(1, sizeof *st, "safetensors handle", err);
    if (!st) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    st->path = gq_strdup(path, err);
    if (!st->path) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    rc = gq_file_map(&st->mf, path, err);
    if (rc != GQ_OK) goto fail;

    size_t fsize = st->mf.size;
    if (fsize < 8) {
        rc = gq_error_set(err, GQ_ERR_FORMAT,
                          "%s: file is %zu bytes, too short for the 8-byte header length; the file "
                          "may be truncated or not a safetensors file",
                          path, fsize);
        goto fail;
    }
    uint64_t hlen = read_le64(st->mf.data);
    if (hlen > GQ_ST_MAX_HEADER) {
        rc = gq_error_set(err, GQ_ERR_FORMAT,
                          "%s: header length %llu at offset 0 is implausible (limit %llu bytes); "
                          "this is not a safetensors file",
                          path, (unsigned long long)hlen, (unsigned long long)GQ_ST_MAX_HEADER);
        goto fail;
    }
    if (hlen > (uint64_t)fsize - 8) {
        rc = gq_error_set(err, GQ_ERR_FORMAT,
                          "%s: header length %llu at offset 0 runs past the end of the file (%zu "
                          "bytes); the file may be truncated",
                          path, (unsigned long long)hlen, fsize);
        goto fail;
    }
    if (hlen < 2) {
        rc = gq_error_set(err, GQ_ERR_FORMAT,
                          "%s: header length %llu is too small to hold a JSON object", path,
                          (unsigned long long)hlen);
        goto fail;
    }
    uint64_t data_start = 8 + hlen, data_size = (uint64_t)fsize - data_start;

    char what[4200];
    snprintf(what, sizeof what, "%s (header)", path);
    rc = gq_json_parse(&root, (const char *)st->mf.data + 8, (size_t)hlen, what, err);
    if (rc != GQ_OK) goto fail;
    if (!cJSON_IsObject(root)) {
        rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: header is JSON but not an object of tensors", path);
        goto fail;
    }

    size_t n = 0;
    for (const cJSON *e = root->child; e; e = e->next)
        if (strcmp(e->string, "__metadata__") != 0) n++;
    st->tensors = gq_calloc(n, sizeof *st->tensors, "safetensors tensor list", err);
    st->by_name = gq_calloc(n, sizeof *st->by_name, "safetensors name index", err);
    if (!st->tensors || !st->by_name) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    for (const cJSON *e = root->child; e; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) continue; /* free-form strings; not ours */
        rc = parse_entry(&st->tensors[st->n], e, st->path, st->mf.data, data_start, data_size, err);
        if (rc != GQ_OK) goto fail;
        st->n++;
    }

    /* File order of the data, then check neighbours for overlap.  Empty
     * tensors own no bytes and cannot overlap anything. */
    qsort(st->tensors, st->n, sizeof *st->tensors, cmp_by_offset);
    const gq_tensor_ref *reach = NULL; /* the non-empty tensor ending furthest so far */
    for (size_t i = 0; i < st->n; i++) {
        const gq_tensor_ref *t = &st->tensors[i];
        if (t->nbytes == 0) continue;
        if (reach && reach->file_offset + reach->nbytes > t->file_offset) {
            rc = gq_error_set(err, GQ_ERR_FORMAT,
                              "%s: tensors '%s' (data_offsets [%llu, %llu]) and '%s' (data_offsets "
                              "[%llu, %llu]) overlap; the header is corrupt",
                              path, reach->name, (unsigned long long)(reach->file_offset - data_start),
                              (unsigned long long)(reach->file_offset + reach->nbytes - data_start),
                              t->name, (unsigned long long)(t->file_offset - data_start),
                              (unsigned long long)(t->file_offset + t->nbytes - data_start));
            goto fail;
        }
        if (!reach || t->file_offset + t->nbytes > reach->file_offset + reach->nbytes) reach = t;
    }

    for (size_t i = 0; i < st->n; i++) st->by_name[i] = &st->tensors[i];
    qsort(st->by_name, st->n, sizeof *st->by_name, cmp_by_name);
    for (size_t i = 1; i < st->n; i++) {
        const char *a = st->by_name[i - 1]->name, *b = st->by_name[i]->name;
        if (strcmp(a, b) == 0) {
            rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: tensor '%s' appears twice in the header", path, a);
            goto fail;
        }
    }

    cJSON_Delete(root);
    *out = st;
    return GQ_OK;

fail:
    cJSON_Delete(root);
    gq_safetensors_close(st);
    return rc;
}

void gq_safetensors_close(gq_safetensors *st)
{
    if (!st) return;
    free_tensors(st->tensors, st->n);
    gq_free(st->by_name);
    gq_file_unmap(&st->mf);
    gq_free(st->path);
    gq_free(st);
}

size_t gq_safetensors_count(const gq_safetensors *st) { return st ? st->n : 0; }

const gq_tensor_ref *gq_safetensors_tensor(const gq_safetensors *st, size_t i)
{
    return (st && i < st->n) ? &st->tensors[i] : NULL;
}

const gq_tensor_ref *gq_safetensors_find(const gq_safetensors *st, const char *name)
{
    if (!st || !name) return NULL;
    size_t lo = 0, hi = st->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const gq_tensor_ref *t = st->by_name[mid];
        int c = strcmp(name, t->name);
        if (c == 0) return t;
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

// ---------------------------------------------------------------------------
// writing

/* Bytes of one entry, checking its fields; 0 with an error on bad input. */
static int entry_nbytes(const gq_safetensors_entry *e, const char *path, size_t *out, gq_error *err)
{
    gq_dtype dt;
    if (!e->name || !*e->name)
        return gq_error_set(err, GQ_ERR_USAGE, "%s: a tensor has no name", path);
    if (strcmp(e->name, "__metadata__") == 0)
        return gq_error_set(err, GQ_ERR_USAGE, "%s: '__metadata__' is reserved, not a tensor name", path);
    if ((int)e->dtype < 0 || e->dtype >= GQ_DTYPE_COUNT || !dtype_from_name(gq_dtype_name(e->dtype), &dt))
        return gq_error_set(err, GQ_ERR_USAGE,
                            "%s: tensor '%s': dtype %s cannot be stored in safetensors", path, e->name,
                            gq_dtype_name(e->dtype));
    if (e->n_dims < 0 || e->n_dims > GQ_MAX_DIMS)
        return gq_error_set(err, GQ_ERR_USAGE, "%s: tensor '%s': %d dimensions (0..%d allowed)", path,
                            e->name, e->n_dims, GQ_MAX_DIMS);
    uint64_t n = 1;
    for (int d = 0; d < e->n_dims; d++) {
        if (e->shape[d] < 0 || (double)e->shape[d] > GQ_ST_MAX_JSON_INT)
            return gq_error_set(err, GQ_ERR_USAGE, "%s: tensor '%s': shape[%d] = %lld is out of range",
                                path, e->name, d, (long long)e->shape[d]);
        uint64_t v = (uint64_t)e->shape[d];
        if (v != 0 && n > UINT64_MAX / v)
            return gq_error_set(err, GQ_ERR_USAGE, "%s: tensor '%s': shape overflows", path, e->name);
        n *= v;
    }
    int ok = 0;
    *out = gq_dtype_nbytes(e->dtype, n, &ok);
    if (!ok) return gq_error_set(err, GQ_ERR_USAGE, "%s: tensor '%s': size overflows", path, e->name);
    if (*out > 0 && !e->data)
        return gq_error_set(err, GQ_ERR_USAGE, "%s: tensor '%s': no data", path, e->name);
    return GQ_OK;
}

int gq_safetensors_write(const char *path, const gq_safetensors_entry *entries, size_t n,
                         gq_error *err)
{
    cJSON *root = NULL;
    char *hjson = NULL;
    unsigned char *buf = NULL;
    size_t *sizes = NULL;
    int rc = GQ_OK;

    sizes = gq_calloc(n, sizeof *sizes, "safetensors sizes", err);
    root = cJSON_CreateObject();
    if (!sizes) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    if (!root) {
        rc = cjson_oom(path, err);
        goto fail;
    }

    /* transformers refuses files without {"format": "pt"} metadata. */
    cJSON *meta = cJSON_AddObjectToObject(root, "__metadata__");
    if (!meta || !cJSON_AddStringToObject(meta, "format", "pt")) {
        rc = cjson_oom(path, err);
        goto fail;
    }

    size_t data_size = 0;
    for (size_t i = 0; i < n; i++) {
        const gq_safetensors_entry *e = &entries[i];
        rc = entry_nbytes(e, path, &sizes[i], err);
        if (rc != GQ_OK) goto fail;
        if (cJSON_GetObjectItemCaseSensitive(root, e->name)) {
            rc = gq_error_set(err, GQ_ERR_USAGE, "%s: tensor '%s' given twice", path, e->name);
            goto fail;
        }
        size_t end;
        if (!gq_size_add(data_size, sizes[i], &end) || (double)end > GQ_ST_MAX_JSON_INT) {
            rc = gq_error_set(err, GQ_ERR_USAGE, "%s: total data size overflows", path);
            goto fail;
        }
        cJSON *t = cJSON_AddObjectToObject(root, e->name);
        if (!t || !cJSON_AddStringToObject(t, "dtype", gq_dtype_name(e->dtype))) {
            rc = cjson_oom(path, err);
            goto fail;
        }
        cJSON *sh = cJSON_AddArrayToObject(t, "shape");
        if (!sh) {
            rc = cjson_oom(path, err);
            goto fail;
        }
        for (int d = 0; d < e->n_dims; d++) {
            cJSON *v = cJSON_CreateNumber((double)e->shape[d]);
            if (!v || !cJSON_AddItemToArray(sh, v)) {
                cJSON_Delete(v);
                rc = cjson_oom(path, err);
                goto fail;
            }
        }
        cJSON *off = cJSON_AddArrayToObject(t, "data_offsets");
        if (!off) {
            rc = cjson_oom(path, err);
            goto fail;
        }
        cJSON *vb = cJSON_CreateNumber((double)data_size), *ve = cJSON_CreateNumber((double)end);
        int added_b = vb && cJSON_AddItemToArray(off, vb);
        int added_e = ve && cJSON_AddItemToArray(off, ve);
        if (!added_b || !added_e) {
            if (!added_b) cJSON_Delete(vb);
            if (!added_e) cJSON_Delete(ve);
            rc = cjson_oom(path, err);
            goto fail;
        }
        data_size = end;
    }

    hjson = cJSON_PrintUnformatted(root);
    if (!hjson) {
        rc = cjson_oom(path, err);
        goto fail;
    }
    size_t hlen = strlen(hjson), padded = (hlen + 7) & ~(size_t)7, total;
    if (!gq_size_add(8 + padded, data_size, &total)) {
        rc = gq_error_set(err, GQ_ERR_USAGE, "%s: file size overflows", path);
        goto fail;
    }
    buf = gq_malloc(total, path, err);
    if (!buf) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(((uint64_t)padded >> (8 * i)) & 0xff);
    memcpy(buf + 8, hjson, hlen);
    memset(buf + 8 + hlen, ' ', padded - hlen); /* the format pads with spaces */
    size_t at = 8 + padded;
    for (size_t i = 0; i < n; i++) {
        if (sizes[i]) memcpy(buf + at, entries[i].data, sizes[i]);
        at += sizes[i];
    }
    rc = gq_file_write_atomic(path, buf, total, err);

fail:
    gq_free(buf);
    cJSON_free(hjson);
    cJSON_Delete(root);
    gq_free(sizes);
    return rc;
}
