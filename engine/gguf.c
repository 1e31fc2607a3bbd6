/* gguf.c — GGUF v2/v3 reader over a read-only mmap (see gguf.h).
 *
 * Layout read here (all little-endian):
 *   "GGUF" u32 version u64 n_tensors u64 n_kv
 *   n_kv x { string key, u32 value_type, value }
 *   n_tensors x { string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset }
 *   padding to general.alignment, then the data area; each tensor's offset is
 *   relative to the start of the data area.
 *   string = u64 byte length + bytes (no NUL);  array = u32 type, u64 count, values.
 *
 * Every length and count is checked against the bytes left in the file
 * *before* anything is allocated or read, so a hostile header can neither make
 * us read past the mapping nor allocate more than a small multiple of the file
 * size.  Nested arrays are rejected (no llama-family file uses them).
 *
 * Deliberately not here: writing GGUF, big-endian files, split (multi-file)
 * models, and any knowledge of architectures (gguf_llama.c).
 * Tested by tests/test_gguf.c (tiny fixture, corrupted copies of it, SmolLM2).
 */
#include "gguf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "gq_alloc.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "gguf.c hands out little-endian tensor bytes as-is; a big-endian host needs byte swapping"
#endif

// ---------------------------------------------------------------- types

enum {
    GGUF_TYPE_UINT8 = 0,
    GGUF_TYPE_INT8 = 1,
    GGUF_TYPE_UINT16 = 2,
    GGUF_TYPE_INT16 = 3,
    GGUF_TYPE_UINT32 = 4,
    GGUF_TYPE_INT32 = 5,
    GGUF_TYPE_FLOAT32 = 6,
    GGUF_TYPE_BOOL = 7,
    GGUF_TYPE_STRING = 8,
    GGUF_TYPE_ARRAY = 9,
    GGUF_TYPE_UINT64 = 10,
    GGUF_TYPE_INT64 = 11,
    GGUF_TYPE_FLOAT64 = 12,
    GGUF_TYPE_COUNT
};

#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MSG_NAME 200 /* longest name quoted in a message */

static const char *gguf_type_name(uint32_t t)
{
    static const char *names[GGUF_TYPE_COUNT] = {"uint8", "int8",   "uint16", "int16",  "uint32",
                                                 "int32", "float32", "bool",  "string", "array",
                                                 "uint64", "int64", "float64"};
    return t < GGUF_TYPE_COUNT ? names[t] : "unknown";
}

/* Size of one scalar value; 0 for string, array and unknown types. */
static size_t gguf_scalar_size(uint32_t t)
{
    switch (t) {
    case GGUF_TYPE_UINT8:
    case GGUF_TYPE_INT8:
    case GGUF_TYPE_BOOL: return 1;
    case GGUF_TYPE_UINT16:
    case GGUF_TYPE_INT16: return 2;
    case GGUF_TYPE_UINT32:
    case GGUF_TYPE_INT32:
    case GGUF_TYPE_FLOAT32: return 4;
    case GGUF_TYPE_UINT64:
    case GGUF_TYPE_INT64:
    case GGUF_TYPE_FLOAT64: return 8;
    default: return 0;
    }
}

static int gguf_type_is_int(uint32_t t)
{
    return t <= GGUF_TYPE_INT32 || t == GGUF_TYPE_UINT64 || t == GGUF_TYPE_INT64;
}

static int gguf_type_is_signed(uint32_t t)
{
    return t == GGUF_TYPE_INT8 || t == GGUF_TYPE_INT16 || t == GGUF_TYPE_INT32 || t == GGUF_TYPE_INT64;
}

/* ggml tensor type numbers (ggml.h's enum ggml_type) and their names, for
 * messages; F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and Q2_K..Q8_K map to a
 * gq_dtype. */
static const char *ggml_type_name(uint32_t t)
{
    static const char *names[] = {
        "F32",     "F16",    "Q4_0",    "Q4_1",  "Q4_2 (removed)", "Q4_3 (removed)", "Q5_0",  "Q5_1",
        "Q8_0",    "Q8_1",   "Q2_K",    "Q3_K",  "Q4_K",           "Q5_K",           "Q6_K",  "Q8_K",
        "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL",         "IQ3_S",          "IQ2_S", "IQ4_XS",
        "I8",      "I16",    "I32",     "I64",   "F64",            "IQ1_M",          "BF16",  "Q4_0_4_4",
        "Q4_0_4_8", "Q4_0_8_8", "TQ1_0", "TQ2_0", "IQ4_NL_4_4", "IQ4_NL_4_8", "IQ4_NL_8_8", "MXFP4"};
    return t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

static int ggml_type_to_dtype(uint32_t t, gq_dtype *out)
{
    switch (t) {
    case 0: *out = GQ_DTYPE_F32; return 1;
    case 1: *out = GQ_DTYPE_F16; return 1;
    case 2: *out = GQ_DTYPE_Q4_0; return 1;
    case 3: *out = GQ_DTYPE_Q4_1; return 1;
    case 6: *out = GQ_DTYPE_Q5_0; return 1;
    case 7: *out = GQ_DTYPE_Q5_1; return 1;
    case 8: *out = GQ_DTYPE_Q8_0; return 1;
    case 10: *out = GQ_DTYPE_Q2_K; return 1;
    case 11: *out = GQ_DTYPE_Q3_K; return 1;
    case 12: *out = GQ_DTYPE_Q4_K; return 1;
    case 13: *out = GQ_DTYPE_Q5_K; return 1;
    case 14: *out = GQ_DTYPE_Q6_K; return 1;
    case 15: *out = GQ_DTYPE_Q8_K; return 1;
    case 30: *out = GQ_DTYPE_BF16; return 1;
    default: return 0;
    }
}

// ---------------------------------------------------------------- the handle

typedef struct gguf_kv {
    char *key;           /* NUL-terminated copy */
    uint32_t type;       /* GGUF_TYPE_* */
    uint64_t at;         /* file offset of the key, for messages */
    uint64_t u;          /* unsigned integers and bool */
    int64_t i;           /* signed integers */
    double f;            /* float32 / float64 */
    char *str;           /* STRING: NUL-terminated copy */
    /* ARRAY */
    uint32_t elem_type;
    uint64_t n_elems;
    void *vals;          /* float[n] or int32_t[n] when materialised */
    char **strs;         /* string arrays: pointers into strs_blob */
    size_t *lens;
    char *strs_blob;
} gguf_kv;

struct gq_gguf {
    char *path;
    gq_mapped_file mf;
    uint32_t version;
    uint64_t alignment;
    uint64_t data_start;   /* file offset of the data area */
    size_t n_kv;
    gguf_kv *kvs;
    gguf_kv **kv_sorted;   /* by key, for bsearch */
    size_t n_tensors;
    gq_tensor_ref *tensors;
    char **tensor_names;   /* owned copies, tensors[i].name points here */
    gq_tensor_ref **tensors_sorted; /* by name, for bsearch */
};

// ---------------------------------------------------------------- cursor

/* A bounds-checked cursor over the mapping.  Every read names what it was
 * reading (ctx) and where, so messages say "at byte N: <ctx>: ...". */
typedef struct gguf_rd {
    const unsigned char *p;
    size_t size;
    size_t pos;
    const char *path;
    gq_error *err;
    char ctx[GGUF_MSG_NAME + 96];
} gguf_rd;

static size_t rd_left(const gguf_rd *r) { return r->size - r->pos; }

static int rd_need(gguf_rd *r, uint64_t n, const char *what)
{
    if (n > rd_left(r))
        return gq_error_set(r->err, GQ_ERR_FORMAT,
                            "%s: truncated at byte %zu: %s: %s needs %" PRIu64 " bytes but the file is %zu bytes",
                            r->path, r->pos, r->ctx, what, n, r->size);
    return GQ_OK;
}

static uint64_t le_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--) v = (v << 8) | p[k];
    return v;
}

static uint32_t le_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static int rd_u32(gguf_rd *r, uint32_t *v, const char *what)
{
    int rc = rd_need(r, 4, what);
    if (rc) return rc;
    *v = le_u32(r->p + r->pos);
    r->pos += 4;
    return GQ_OK;
}

static int rd_u64(gguf_rd *r, uint64_t *v, const char *what)
{
    int rc = rd_need(r, 8, what);
    if (rc) return rc;
    *v = le_u64(r->p + r->pos);
    r->pos += 8;
    return GQ_OK;
}

/* A GGUF string: on success *s points into the mapping, *len is its length. */
static int rd_str(gguf_rd *r, const unsigned char **s, size_t *len, const char *what)
{
    size_t at = r->pos;
    uint64_t n;
    int rc = rd_u64(r, &n, what);
    if (rc) return rc;
    if (n > rd_left(r))
        return gq_error_set(r->err, GQ_ERR_FORMAT,
                            "%s: at byte %zu: %s: %s length %" PRIu64
                            " runs past the end of the file (%zu bytes); expected at most %zu",
                            r->path, at, r->ctx, what, n, r->size, rd_left(r));
    *s = r->p + r->pos;
    *len = (size_t)n;
    r->pos += (size_t)n;
    return GQ_OK;
}

/* NUL-terminated heap copy of a name (key or tensor name); names may not
 * contain NUL bytes, since they are looked up as C strings. */
static int copy_name(gguf_rd *r, size_t at, const unsigned char *s, size_t len, const char *what, char **out)
{
    *out = NULL;
    if (len == 0)
        return gq_error_set(r->err, GQ_ERR_FORMAT, "%s: at byte %zu: %s: empty %s", r->path, at, r->ctx, what);
    if (memchr(s, 0, len))
        return gq_error_set(r->err, GQ_ERR_FORMAT, "%s: at byte %zu: %s: %s contains a NUL byte", r->path, at,
                            r->ctx, what);
    char *c = gq_malloc(len + 1, what, r->err);
    if (!c) return GQ_ERR_NOMEM;
    memcpy(c, s, len);
    c[len] = '\0';
    *out = c;
    return GQ_OK;
}

// ---------------------------------------------------------------- metadata

static int read_scalar(gguf_rd *r, gguf_kv *kv)
{
    size_t sz = gguf_scalar_size(kv->type);
    int rc = rd_need(r, sz, "the value");
    if (rc) return rc;
    const unsigned char *q = r->p + r->pos;
    switch (kv->type) {
    case GGUF_TYPE_UINT8: kv->u = q[0]; break;
    case GGUF_TYPE_INT8: kv->i = (int8_t)q[0]; break;
    case GGUF_TYPE_UINT16: kv->u = (uint16_t)(q[0] | (q[1] << 8)); break;
    case GGUF_TYPE_INT16: kv->i = (int16_t)(uint16_t)(q[0] | (q[1] << 8)); break;
    case GGUF_TYPE_UINT32: kv->u = le_u32(q); break;
    case GGUF_TYPE_INT32: kv->i = (int32_t)le_u32(q); break;
    case GGUF_TYPE_UINT64: kv->u = le_u64(q); break;
    case GGUF_TYPE_INT64: kv->i = (int64_t)le_u64(q); break;
    case GGUF_TYPE_FLOAT32: {
        uint32_t b = le_u32(q);
        float f;
        memcpy(&f, &b, sizeof f);
        kv->f = f;
        break;
    }
    case GGUF_TYPE_FLOAT64: {
        uint64_t b = le_u64(q);
        memcpy(&kv->f, &b, sizeof kv->f);
        break;
    }
    case GGUF_TYPE_BOOL:
        if (q[0] > 1)
            return gq_error_set(r->err, GQ_ERR_FORMAT, "%s: at byte %zu: %s: bool value %u, expected 0 or 1",
                                r->path, r->pos, r->ctx, q[0]);
        kv->u = q[0];
        break;
    default: break;
    }
    r->pos += sz;
    return GQ_OK;
}

/* Array of strings: two passes over the lengths (the first validates and
 * sums them, the second copies into one blob). */
static int read_str_array(gguf_rd *r, gguf_kv *kv)
{
    size_t start = r->pos, total = 0, n = (size_t)kv->n_elems;
    gq_error *err = r->err;

    for (size_t k = 0; k < n; k++) {
        const unsigned char *s;
        size_t len;
        char what[48];
        snprintf(what, sizeof what, "string #%zu", k);
        int rc = rd_str(r, &s, &len, what);
        if (rc) return rc;
        if (!gq_size_add(total, len + 1, &total))
            return gq_error_set(err, GQ_ERR_FORMAT, "%s: %s: string array too large", r->path, r->ctx);
    }
    kv->strs = gq_calloc(n ? n : 1, sizeof *kv->strs, "GGUF string array", err);
    kv->lens = gq_calloc(n ? n : 1, sizeof *kv->lens, "GGUF string array", err);
    kv->strs_blob = gq_malloc(total, "GGUF string array", err);
    if (!kv->strs || !kv->lens || !kv->strs_blob) return GQ_ERR_NOMEM;

    char *w = kv->strs_blob;
    r->pos = start;
    for (size_t k = 0; k < n; k++) {
        size_t len = (size_t)le_u64(r->p + r->pos); /* validated in the first pass */
        r->pos += 8;
        memcpy(w, r->p + r->pos, len);
        w[len] = '\0';
        kv->strs[k] = w;
        kv->lens[k] = len;
        w += len + 1;
        r->pos += len;
    }
    return GQ_OK;
}

static int read_array(gguf_rd *r, gguf_kv *kv)
{
    size_t at = r->pos;
    int rc = rd_u32(r, &kv->elem_type, "the array element type");
    if (rc) return rc;
    rc = rd_u64(r, &kv->n_elems, "the array length");
    if (rc) return rc;
    if (kv->elem_type == GGUF_TYPE_ARRAY)
        return gq_error_set(r->err, GQ_ERR_UNSUPPORTED,
                            "%s: at byte %zu: %s: arrays of arrays are not supported (no llama-family "
                            "model uses them)",
                            r->path, at, r->ctx);
    if (kv->elem_type >= GGUF_TYPE_COUNT)
        return gq_error_set(r->err, GQ_ERR_FORMAT,
                            "%s: at byte %zu: %s: unknown array element type %" PRIu32 ", expected 0..12",
                            r->path, at, r->ctx, kv->elem_type);

    /* Each element takes at least min_size bytes: bound the count by the
     * bytes left before touching it. */
    size_t min_size = kv->elem_type == GGUF_TYPE_STRING ? 8 : gguf_scalar_size(kv->elem_type);
    if (kv->n_elems > rd_left(r) / min_size)
        return gq_error_set(r->err, GQ_ERR_FORMAT,
                            "%s: at byte %zu: %s: array of %" PRIu64 " %s values cannot fit in the %zu bytes "
                            "left in the file",
                            r->path, at + 4, r->ctx, kv->n_elems, gguf_type_name(kv->elem_type), rd_left(r));
    size_t n = (size_t)kv->n_elems;

    if (kv->elem_type == GGUF_TYPE_STRING) return read_str_array(r, kv);

    const unsigned char *q = r->p + r->pos;
    if (kv->elem_type == GGUF_TYPE_FLOAT32) {
        float *v = gq_malloc(n * sizeof *v, "GGUF float array", r->err);
        if (!v) return GQ_ERR_NOMEM;
        memcpy(v, q, n * sizeof *v); /* little-endian host */
        kv->vals = v;
    } else if (kv->elem_type == GGUF_TYPE_INT32) {
        int32_t *v = gq_malloc(n * sizeof *v, "GGUF int32 array", r->err);
        if (!v) return GQ_ERR_NOMEM;
        for (size_t k = 0; k < n; k++) v[k] = (int32_t)le_u32(q + 4 * k);
        kv->vals = v;
    } else if (kv->elem_type == GGUF_TYPE_BOOL) {
        for (size_t k = 0; k < n; k++)
            if (q[k] > 1)
                return gq_error_set(r->err, GQ_ERR_FORMAT,
                                    "%s: at byte %zu: %s: bool value %u, expected 0 or 1", r->path,
                                    r->pos + k, r->ctx, q[k]);
    }
    /* Other element types are skipped: no getter hands them out. */
    r->pos += n * min_size;
    return GQ_OK;
}

static int read_kv(gguf_rd *r, size_t idx, gguf_kv *kv)
{
    const unsigned char *s;
    size_t len;
    size_t at = r->pos;
    int rc;

    kv->at = at;
    snprintf(r->ctx, sizeof r->ctx, "metadata key #%zu", idx);
    rc = rd_str(r, &s, &len, "the key");
    if (rc) return rc;
    rc = copy_name(r, at, s, len, "key", &kv->key);
    if (rc) return rc;
    snprintf(r->ctx, sizeof r->ctx, "metadata key #%zu '%.*s'", idx, GGUF_MSG_NAME, kv->key);

    size_t tat = r->pos;
    rc = rd_u32(r, &kv->type, "the value type");
    if (rc) return rc;
    if (kv->type >= GGUF_TYPE_COUNT)
        return gq_error_set(r->err, GQ_ERR_FORMAT, "%s: at byte %zu: %s: unknown value type %" PRIu32
                            ", expected 0..12", r->path, tat, r->ctx, kv->type);

    if (kv->type == GGUF_TYPE_STRING) {
        rc = rd_str(r, &s, &len, "the string value");
        if (rc) return rc;
        kv->str = gq_malloc(len + 1, "GGUF string value", r->err);
        if (!kv->str) return GQ_ERR_NOMEM;
        memcpy(kv->str, s, len);
        kv->str[len] = '\0';
        return GQ_OK;
    }
    if (kv->type == GGUF_TYPE_ARRAY) return read_array(r, kv);
    return read_scalar(r, kv);
}

// ---------------------------------------------------------------- lookups

static int cmp_kv(const void *a, const void *b)
{
    return strcmp((*(gguf_kv *const *)a)->key, (*(gguf_kv *const *)b)->key);
}

static int cmp_tensor_name(const void *a, const void *b)
{
    return strcmp((*(gq_tensor_ref *const *)a)->name, (*(gq_tensor_ref *const *)b)->name);
}

static const gguf_kv *find_kv(const gq_gguf *g, const char *key)
{
    if (!g || !key || g->n_kv == 0) return NULL;
    gguf_kv probe = {0};
    probe.key = (char *)key;
    const gguf_kv *pp = &probe;
    gguf_kv *const *hit = bsearch(&pp, g->kv_sorted, g->n_kv, sizeof *g->kv_sorted, cmp_kv);
    return hit ? *hit : NULL;
}

const gq_tensor_ref *gq_gguf_find(const gq_gguf *g, const char *name)
{
    if (!g || !name || g->n_tensors == 0) return NULL;
    gq_tensor_ref probe = {0};
    probe.name = name;
    const gq_tensor_ref *pp = &probe;
    gq_tensor_ref *const *hit =
        bsearch(&pp, g->tensors_sorted, g->n_tensors, sizeof *g->tensors_sorted, cmp_tensor_name);
    return hit ? *hit : NULL;
}

// ---------------------------------------------------------------- tensors

typedef struct tensor_span {
    uint64_t begin, end; /* file offsets */
    size_t idx;
} tensor_span;

static int cmp_span(const void *a, const void *b)
{
    const tensor_span *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : 0;
}

/* One tensor info; fills t (not data/file_offset, which need the data start)
 * and *rel_offset. */
static int read_tensor_info(gguf_rd *r, gq_gguf *g, size_t idx, uint64_t *rel_offset)
{
    gq_tensor_ref *t = &g->tensors[idx];
    const unsigned char *s;
    size_t len, at = r->pos;
    uint32_t n_dims, gtype;
    uint64_t ne[GQ_MAX_DIMS];
    int rc;

    snprintf(r->ctx, sizeof r->ctx, "tensor info #%zu", idx);
    rc = rd_str(r, &s, &len, "the tensor name");
    if (rc) return rc;
    rc = copy_name(r, at, s, len, "tensor name", &g->tensor_names[idx]);
    if (rc) return rc;
    t->name = g->tensor_names[idx];
    snprintf(r->ctx, sizeof r->ctx, "tensor '%.*s'", GGUF_MSG_NAME, t->name);

    size_t dat = r->pos;
    rc = rd_u32(r, &n_dims, "the dimension count");
    if (rc) return rc;
    if (n_dims < 1 || n_dims > GQ_MAX_DIMS)
        return gq_error_set(r->err, GQ_ERR_FORMAT, "%s: at byte %zu: %s has %" PRIu32
                            " dimensions, expected 1 to %d", r->path, dat, r->ctx, n_dims, GQ_MAX_DIMS);
    uint64_t n_elems = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        size_t eat = r->pos;
        rc = rd_u64(r, &ne[d], "a dimension");
        if (rc) return rc;
        if (ne[d] == 0 || ne[d] > (uint64_t)INT64_MAX)
            return gq_error_set(r->err, GQ_ERR_FORMAT, "%s: at byte %zu: %s: dimension %" PRIu32 " is %" PRIu64
                                ", expected a positive size", r->path, eat, r->ctx, d, ne[d]);
        if (n_elems > UINT64_MAX / ne[d] || n_elems * ne[d] > (uint64_t)INT64_MAX)
            return gq_error_set(r->err, GQ_ERR_FORMAT, "%s: at byte %zu: %s: element count overflows",
                                r->path, eat, r->ctx);
        n_elems *= ne[d];
    }
    size_t tat = r->pos;
    rc = rd_u32(r, &gtype, "the ggml type");
    if (rc) return rc;
    rc = rd_u64(r, rel_offset, "the data offset");
    if (rc) return rc;

    if (!ggml_type_to_dtype(gtype, &t->dtype))
        return gq_error_set(r->err, GQ_ERR_UNSUPPORTED,
                            "%s: at byte %zu: %s has ggml type %s (%" PRIu32 "); gqla-eval reads F32, F16, BF16, "
                            "Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 and Q2_K..Q8_K --> HINT: re-quantise the model "
                            "to one of those (llama-quantize --allow-requantize ... Q4_K_M)",
                            r->path, tat, r->ctx, ggml_type_name(gtype), gtype);
    size_t be = gq_dtype_block_elems(t->dtype);
    if (ne[0] % be != 0)
        return gq_error_set(r->err, GQ_ERR_FORMAT,
                            "%s: at byte %zu: %s: row length %" PRIu64 " is not a multiple of the %s block size %zu",
                            r->path, dat, r->ctx, ne[0], gq_dtype_name(t->dtype), be);
    int ok = 0;
    t->nbytes = gq_dtype_nbytes(t->dtype, n_elems, &ok);
    if (!ok)
        return gq_error_set(r->err, GQ_ERR_FORMAT, "%s: at byte %zu: %s: byte size overflows", r->path, dat,
                            r->ctx);
    t->n_dims = (int)n_dims;
    for (int d = 0; d < GQ_MAX_DIMS; d++) t->shape[d] = 1;
    for (uint32_t d = 0; d < n_dims; d++) t->shape[n_dims - 1 - d] = (int64_t)ne[d]; /* outermost first */
    t->n_elems = n_elems;
    t->rope_unpermute_heads = 0;
    return GQ_OK;
}

/* general.alignment: any integer type, a power of two. */
static int read_alignment(gq_gguf *g, gq_error *err)
{
    const gguf_kv *kv = find_kv(g, "general.alignment");
    g->alignment = GGUF_DEFAULT_ALIGNMENT;
    if (!kv) return GQ_OK;
    if (!gguf_type_is_int(kv->type))
        return gq_error_set(err, GQ_ERR_FORMAT, "%s: at byte %" PRIu64 ": general.alignment is a %s, expected an "
                            "unsigned integer", g->path, kv->at, gguf_type_name(kv->type));
    int neg = gguf_type_is_signed(kv->type) && kv->i < 0;
    uint64_t a = gguf_type_is_signed(kv->type) ? (uint64_t)kv->i : kv->u;
    if (neg || a == 0 || (a & (a - 1)) != 0 || a > (1u << 30))
        return gq_error_set(err, GQ_ERR_FORMAT, "%s: at byte %" PRIu64 ": general.alignment is %s%" PRIu64
                            ", expected a power of two (default 32)", g->path, kv->at, neg ? "-" : "",
                            neg ? (uint64_t)0 - a : a);
    g->alignment = a;
    return GQ_OK;
}

// ---------------------------------------------------------------- open / close

static void describe_magic(const unsigned char *m, size_t n, char *out, size_t out_size)
{
    size_t w = 0;
    out[0] = '\0';
    for (size_t k = 0; k < n && w + 5 < out_size; k++) {
        if (m[k] >= 0x20 && m[k] < 0x7f && m[k] != '\'' && m[k] != '\\')
            out[w++] = (char)m[k];
        else
            w += (size_t)snprintf(out + w, out_size - w, "\\x%02x", m[k]);
    }
    out[w] = '\0';
}

static uint32_t bswap32(uint32_t v)
{
    return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

int gq_gguf_open(gq_gguf **out, const char *path, gq_error *err)
{
    gq_gguf *g = NULL;
    tensor_span *spans = NULL;
    gguf_rd r;
    uint64_t n_tensors = 0, n_kv = 0;
    int rc;

    if (!out || !path) return gq_error_set(err, GQ_ERR_USAGE, "gq_gguf_open: NULL argument");
    *out = NULL;
    g = gq_calloc(1, sizeof *g, "GGUF handle", err);
    if (!g) return GQ_ERR_NOMEM;
    g->path = gq_strdup(path, err);
    if (!g->path) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    rc = gq_file_map(&g->mf, path, err);
    if (rc) goto fail;

    memset(&r, 0, sizeof r);
    r.p = g->mf.data;
    r.size = g->mf.size;
    r.path = g->path;
    r.err = err;

    // ---- header
    snprintf(r.ctx, sizeof r.ctx, "header");
    if (r.size < 4 || memcmp(r.p, "GGUF", 4) != 0) {
        char m[24];
        describe_magic(r.p ? r.p : (const unsigned char *)"", r.size < 4 ? r.size : 4, m, sizeof m);
        rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: not a GGUF file (magic '%s', expected 'GGUF'; file is %zu bytes)",
                          path, m, r.size);
        goto fail;
    }
    r.pos = 4;
    rc = rd_u32(&r, &g->version, "the version");
    if (rc) goto fail;
    if (g->version == 1) {
        rc = gq_error_set(err, GQ_ERR_UNSUPPORTED,
                          "%s: at byte 4: GGUF version 1 is not supported, expected version 2 or 3 --> HINT: "
                          "re-convert the model with a current llama.cpp", path);
        goto fail;
    }
    if (g->version != 2 && g->version != 3) {
        uint32_t sw = bswap32(g->version);
        if (sw >= 1 && sw <= 3)
            rc = gq_error_set(err, GQ_ERR_UNSUPPORTED,
                              "%s: at byte 4: this is a big-endian GGUF file (version %" PRIu32
                              " byte-swapped); gqla-eval reads little-endian files only", path, sw);
        else
            rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: at byte 4: unknown GGUF version %" PRIu32
                              ", expected 2 or 3", path, g->version);
        goto fail;
    }
    rc = rd_u64(&r, &n_tensors, "the tensor count");
    if (rc) goto fail;
    rc = rd_u64(&r, &n_kv, "the metadata count");
    if (rc) goto fail;
    /* Smallest metadata entry: 8-byte key length + 1 byte of key + 4-byte
     * type + 1-byte value = 14; smallest tensor info: 8 + 1 + 4 + 8 + 4 + 8 = 33. */
    if (n_kv > rd_left(&r) / 14) {
        rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: at byte 16: metadata count %" PRIu64
                          " cannot fit in a file of %zu bytes", path, n_kv, r.size);
        goto fail;
    }
    if (n_tensors > rd_left(&r) / 33) {
        rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: at byte 8: tensor count %" PRIu64
                          " cannot fit in a file of %zu bytes", path, n_tensors, r.size);
        goto fail;
    }

    // ---- metadata
    g->kvs = gq_calloc(n_kv ? (size_t)n_kv : 1, sizeof *g->kvs, "GGUF metadata", err);
    g->kv_sorted = gq_calloc(n_kv ? (size_t)n_kv : 1, sizeof *g->kv_sorted, "GGUF metadata", err);
    if (!g->kvs || !g->kv_sorted) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    for (size_t k = 0; k < (size_t)n_kv; k++) {
        g->n_kv = k + 1; /* so close() frees a partly read entry */
        rc = read_kv(&r, k, &g->kvs[k]);
        if (rc) goto fail;
        g->kv_sorted[k] = &g->kvs[k];
    }
    qsort(g->kv_sorted, g->n_kv, sizeof *g->kv_sorted, cmp_kv);
    for (size_t k = 1; k < g->n_kv; k++) {
        if (strcmp(g->kv_sorted[k - 1]->key, g->kv_sorted[k]->key) == 0) {
            rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: at byte %" PRIu64 ": metadata key '%.*s' appears twice",
                              path, g->kv_sorted[k]->at, GGUF_MSG_NAME, g->kv_sorted[k]->key);
            goto fail;
        }
    }
    rc = read_alignment(g, err);
    if (rc) goto fail;

    // ---- tensor infos
    g->tensors = gq_calloc(n_tensors ? (size_t)n_tensors : 1, sizeof *g->tensors, "GGUF tensor infos", err);
    g->tensor_names = gq_calloc(n_tensors ? (size_t)n_tensors : 1, sizeof *g->tensor_names, "GGUF tensor infos", err);
    g->tensors_sorted = gq_calloc(n_tensors ? (size_t)n_tensors : 1, sizeof *g->tensors_sorted, "GGUF tensor infos", err);
    spans = gq_calloc(n_tensors ? (size_t)n_tensors : 1, sizeof *spans, "GGUF tensor spans", err);
    if (!g->tensors || !g->tensor_names || !g->tensors_sorted || !spans) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    g->n_tensors = (size_t)n_tensors;
    for (size_t k = 0; k < g->n_tensors; k++) {
        rc = read_tensor_info(&r, g, k, &spans[k].begin);
        if (rc) goto fail;
        spans[k].idx = k;
        g->tensors_sorted[k] = &g->tensors[k];
    }
    qsort(g->tensors_sorted, g->n_tensors, sizeof *g->tensors_sorted, cmp_tensor_name);
    for (size_t k = 1; k < g->n_tensors; k++) {
        if (strcmp(g->tensors_sorted[k - 1]->name, g->tensors_sorted[k]->name) == 0) {
            rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: tensor name '%.*s' appears twice", path, GGUF_MSG_NAME,
                              g->tensors_sorted[k]->name);
            goto fail;
        }
    }

    // ---- data area: align, then place and check every tensor
    uint64_t infos_end = r.pos, pad = (g->alignment - infos_end % g->alignment) % g->alignment;
    g->data_start = infos_end + pad; /* infos_end <= file size < 2^63: no overflow */
    for (size_t k = 0; k < g->n_tensors; k++) {
        gq_tensor_ref *t = &g->tensors[k];
        uint64_t rel = spans[k].begin;
        if (rel % g->alignment != 0) {
            rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: tensor '%.*s' data offset %" PRIu64
                              " is not a multiple of the alignment %" PRIu64, path, GGUF_MSG_NAME, t->name, rel,
                              g->alignment);
            goto fail;
        }
        if (rel > UINT64_MAX - g->data_start || g->data_start + rel > UINT64_MAX - t->nbytes ||
            g->data_start + rel + t->nbytes > (uint64_t)r.size) {
            int wraps = rel > UINT64_MAX - g->data_start || g->data_start + rel > UINT64_MAX - t->nbytes;
            if (wraps)
                rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: tensor '%.*s' data offset %" PRIu64
                                  " is past the end of the file (%zu bytes)", path, GGUF_MSG_NAME, t->name, rel,
                                  r.size);
            else
                rc = gq_error_set(err, GQ_ERR_FORMAT,
                                  "%s: tensor '%.*s' ends at byte %" PRIu64 ", past the end of the file (%zu bytes)",
                                  path, GGUF_MSG_NAME, t->name, g->data_start + rel + t->nbytes, r.size);
            goto fail;
        }
        t->file_offset = g->data_start + rel;
        t->data = g->mf.data + t->file_offset;
        t->file = g->path;
        spans[k].begin = t->file_offset;
        spans[k].end = t->file_offset + t->nbytes;
    }
    qsort(spans, g->n_tensors, sizeof *spans, cmp_span);
    for (size_t k = 1; k < g->n_tensors; k++) {
        if (spans[k].begin < spans[k - 1].end) {
            const gq_tensor_ref *a = &g->tensors[spans[k - 1].idx], *b = &g->tensors[spans[k].idx];
            rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: tensors '%.*s' (bytes %" PRIu64 "..%" PRIu64 ") and '%.*s' "
                              "(bytes %" PRIu64 "..%" PRIu64 ") overlap", path, GGUF_MSG_NAME, a->name,
                              spans[k - 1].begin, spans[k - 1].end, GGUF_MSG_NAME, b->name, spans[k].begin,
                              spans[k].end);
            goto fail;
        }
    }

    gq_free(spans);
    *out = g;
    return GQ_OK;

fail:
    if (rc == GQ_ERR_NOMEM) gq_error_prefix(err, "%s: ", path);
    gq_free(spans);
    gq_gguf_close(g);
    return rc;
}

void gq_gguf_close(gq_gguf *g)
{
    if (!g) return;
    for (size_t k = 0; g->kvs && k < g->n_kv; k++) {
        gguf_kv *kv = &g->kvs[k];
        gq_free(kv->key);
        gq_free(kv->str);
        gq_free(kv->vals);
        gq_free(kv->strs);
        gq_free(kv->lens);
        gq_free(kv->strs_blob);
    }
    gq_free(g->kvs);
    gq_free(g->kv_sorted);
    for (size_t k = 0; g->tensor_names && k < g->n_tensors; k++) gq_free(g->tensor_names[k]);
    gq_free(g->tensor_names);
    gq_free(g->tensors);
    gq_free(g->tensors_sorted);
    gq_file_unmap(&g->mf);
    gq_free(g->path);
    gq_free(g);
}

uint32_t gq_gguf_version(const gq_gguf *g) { return g ? g->version : 0; }
const char *gq_gguf_path(const gq_gguf *g) { return g ? g->path : NULL; }
size_t gq_gguf_tensor_count(const gq_gguf *g) { return g ? g->n_tensors : 0; }

const gq_tensor_ref *gq_gguf_tensor(const gq_gguf *g, size_t i)
{
    return g && i < g->n_tensors ? &g->tensors[i] : NULL;
}

// ---------------------------------------------------------------- getters

static const char *kv_type_desc(const gguf_kv *kv, char *buf, size_t n)
{
    if (kv->type == GGUF_TYPE_ARRAY)
        snprintf(buf, n, "an array of %s", gguf_type_name(kv->elem_type));
    else
        snprintf(buf, n, "a %s", gguf_type_name(kv->type));
    return buf;
}

static int type_mismatch(const gq_gguf *g, const gguf_kv *kv, const char *expected, gq_error *err)
{
    char d[48];
    return gq_error_set(err, GQ_ERR_INVALID, "%s: at byte %" PRIu64 ": metadata key '%.*s' is %s, expected %s",
                        g->path, kv->at, GGUF_MSG_NAME, kv->key, kv_type_desc(kv, d, sizeof d), expected);
}

int gq_gguf_get_u64(const gq_gguf *g, const char *key, uint64_t *out, gq_error *err)
{
    const gguf_kv *kv = find_kv(g, key);
    if (!kv) return 0;
    if (!gguf_type_is_int(kv->type)) return type_mismatch(g, kv, "an integer", err);
    if (gguf_type_is_signed(kv->type)) {
        if (kv->i < 0)
            return gq_error_set(err, GQ_ERR_INVALID, "%s: metadata key '%.*s' is %" PRId64
                                ", expected a non-negative integer", g->path, GGUF_MSG_NAME, kv->key, kv->i);
        *out = (uint64_t)kv->i;
    } else {
        *out = kv->u;
    }
    return 1;
}

int gq_gguf_get_i64(const gq_gguf *g, const char *key, int64_t *out, gq_error *err)
{
    const gguf_kv *kv = find_kv(g, key);
    if (!kv) return 0;
    if (!gguf_type_is_int(kv->type)) return type_mismatch(g, kv, "an integer", err);
    if (gguf_type_is_signed(kv->type)) {
        *out = kv->i;
    } else {
        if (kv->u > (uint64_t)INT64_MAX)
            return gq_error_set(err, GQ_ERR_INVALID, "%s: metadata key '%.*s' is %" PRIu64
                                ", expected an integer below 2^63", g->path, GGUF_MSG_NAME, kv->key, kv->u);
        *out = (int64_t)kv->u;
    }
    return 1;
}

int gq_gguf_get_f64(const gq_gguf *g, const char *key, double *out, gq_error *err)
{
    const gguf_kv *kv = find_kv(g, key);
    if (!kv) return 0;
    if (kv->type != GGUF_TYPE_FLOAT32 && kv->type != GGUF_TYPE_FLOAT64)
        return type_mismatch(g, kv, "a float32 or float64", err);
    *out = kv->f;
    return 1;
}

int gq_gguf_get_bool(const gq_gguf *g, const char *key, int *out, gq_error *err)
{
    const gguf_kv *kv = find_kv(g, key);
    if (!kv) return 0;
    if (kv->type != GGUF_TYPE_BOOL) return type_mismatch(g, kv, "a bool", err);
    *out = (int)kv->u;
    return 1;
}

int gq_gguf_get_str(const gq_gguf *g, const char *key, const char **out, gq_error *err)
{
    const gguf_kv *kv = find_kv(g, key);
    if (!kv) return 0;
    if (kv->type != GGUF_TYPE_STRING) return type_mismatch(g, kv, "a string", err);
    *out = kv->str;
    return 1;
}

int gq_gguf_get_str_array(const gq_gguf *g, const char *key, const char *const **strs, const size_t **lens,
                          size_t *n, gq_error *err)
{
    const gguf_kv *kv = find_kv(g, key);
    if (!kv) return 0;
    if (kv->type != GGUF_TYPE_ARRAY || kv->elem_type != GGUF_TYPE_STRING)
        return type_mismatch(g, kv, "an array of string", err);
    *strs = (const char *const *)kv->strs;
    if (lens) *lens = kv->lens;
    *n = (size_t)kv->n_elems;
    return 1;
}

int gq_gguf_get_f32_array(const gq_gguf *g, const char *key, const float **vals, size_t *n, gq_error *err)
{
    const gguf_kv *kv = find_kv(g, key);
    if (!kv) return 0;
    if (kv->type != GGUF_TYPE_ARRAY || kv->elem_type != GGUF_TYPE_FLOAT32)
        return type_mismatch(g, kv, "an array of float32", err);
    *vals = kv->vals;
    *n = (size_t)kv->n_elems;
    return 1;
}

int gq_gguf_get_i32_array(const gq_gguf *g, const char *key, const int32_t **vals, size_t *n, gq_error *err)
{
    const gguf_kv *kv = find_kv(g, key);
    if (!kv) return 0;
    if (kv->type != GGUF_TYPE_ARRAY || kv->elem_type != GGUF_TYPE_INT32)
        return type_mismatch(g, kv, "an array of int32", err);
    *vals = kv->vals;
    *n = (size_t)kv->n_elems;
    return 1;
}
