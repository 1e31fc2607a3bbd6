/* tokenizer_vocab.c — the lookup structures under the tokenizer: the
 * string -> id map of the vocabulary, the (left, right) -> (rank, merged id)
 * map of the BPE merges, and GPT-2's byte <-> character map.  Used by the
 * loaders (tokenizer_json.c, tokenizer_gguf.c), the merge loops
 * (tokenizer_bpe.c) and the pipeline (tokenizer.c); it uses none of them.
 */
#include <string.h>

#include "gq_alloc.h"
#include "tokenizer_internal.h"

/* ------------------------------------------------------------------------ */
/* The byte-level map                                                        */

/* GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the
 * other 68 bytes to U+0100.. in byte order. */
static int bytelevel_printable(int b)
{
    return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
}

/* The non-printable bytes are 0..32 (33), 127..160 (34) and 173 (1). */
static uint32_t bytelevel_cp(uint8_t b)
{
    if (bytelevel_printable(b)) return b;
    if (b <= 32) return 256u + b;
    if (b >= 127 && b <= 160) return 256u + 33u + (uint32_t)(b - 127);
    return 256u + 67u; /* 173 */
}

size_t gq_bytelevel_char(uint8_t b, char out[4])
{
    return gq_utf8_put(bytelevel_cp(b), out);
}

int gq_bytelevel_byte(uint32_t cp)
{
    if (cp < 256) return bytelevel_printable((int)cp) ? (int)cp : -1;
    if (cp < 256 + 33) return (int)(cp - 256);
    if (cp < 256 + 67) return (int)(cp - 256 - 33 + 127);
    if (cp == 256 + 67) return 173;
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Hash maps                                                                 */

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

static int strmap_grow(gq_strmap *m, gq_error *err)
{
    size_t nc = m->cap ? m->cap * 2 : 1024;
    const char **keys = gq_calloc(nc, sizeof *keys, "vocabulary index", err);
    uint32_t *lens = gq_calloc(nc, sizeof *lens, "vocabulary index", err);
    int32_t *vals = gq_calloc(nc, sizeof *vals, "vocabulary index", err);
    if (!keys || !lens || !vals) {
        gq_free(keys);
        gq_free(lens);
        gq_free(vals);
        return GQ_ERR_NOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = hash_bytes(m->keys[i], m->lens[i]) & (nc - 1);
        while (keys[j]) j = (j + 1) & (nc - 1);
        keys[j] = m->keys[i];
        lens[j] = m->lens[i];
        vals[j] = m->vals[i];
    }
    gq_free(m->keys);
    gq_free(m->lens);
    gq_free(m->vals);
    m->keys = keys;
    m->lens = lens;
    m->vals = vals;
    m->cap = nc;
    return GQ_OK;
}

int gq_strmap_put(gq_strmap *m, const char *key, size_t len, int32_t val, gq_error *err)
{
    if (len > UINT32_MAX) return gq_error_set(err, GQ_ERR_INVALID, "token of %zu bytes is too long", len);
    if ((m->n + 1) * 2 > m->cap) {
        int rc = strmap_grow(m, err);
        if (rc) return rc;
    }
    size_t j = hash_bytes(key, len) & (m->cap - 1);
    while (m->keys[j]) {
        if (m->lens[j] == len && memcmp(m->keys[j], key, len) == 0) {
            m->vals[j] = val;
            return GQ_OK;
        }
        j = (j + 1) & (m->cap - 1);
    }
    m->keys[j] = key;
    m->lens[j] = (uint32_t)len;
    m->vals[j] = val;
    m->n++;
    return GQ_OK;
}

int32_t gq_strmap_get(const gq_strmap *m, const char *key, size_t len)
{
    if (m->cap == 0) return -1;
    size_t j = hash_bytes(key, len) & (m->cap - 1);
    while (m->keys[j]) {
        if (m->lens[j] == len && memcmp(m->keys[j], key, len) == 0) return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    return -1;
}

void gq_strmap_free(gq_strmap *m)
{
    gq_free(m->keys);
    gq_free(m->lens);
    gq_free(m->vals);
    memset(m, 0, sizeof *m);
}

static uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static int pairmap_grow(gq_pairmap *m, gq_error *err)
{
    size_t nc = m->cap ? m->cap * 2 : 1024;
    uint64_t *keys = gq_malloc(nc * sizeof *keys, "merge index", err);
    int32_t *rank = gq_malloc(nc * sizeof *rank, "merge index", err);
    int32_t *merged = gq_malloc(nc * sizeof *merged, "merge index", err);
    if (!keys || !rank || !merged) {
        gq_free(keys);
        gq_free(rank);
        gq_free(merged);
        return GQ_ERR_NOMEM;
    }
    for (size_t i = 0; i < nc; i++) keys[i] = UINT64_MAX;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == UINT64_MAX) continue;
        size_t j = hash_u64(m->keys[i]) & (nc - 1);
        while (keys[j] != UINT64_MAX) j = (j + 1) & (nc - 1);
        keys[j] = m->keys[i];
        rank[j] = m->rank[i];
        merged[j] = m->merged[i];
    }
    gq_free(m->keys);
    gq_free(m->rank);
    gq_free(m->merged);
    m->keys = keys;
    m->rank = rank;
    m->merged = merged;
    m->cap = nc;
    return GQ_OK;
}

int gq_pairmap_put(gq_pairmap *m, int32_t a, int32_t b, int32_t rank, int32_t merged, gq_error *err)
{
    if ((m->n + 1) * 2 > m->cap) {
        int rc = pairmap_grow(m, err);
        if (rc) return rc;
    }
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t j = hash_u64(key) & (m->cap - 1);
    while (m->keys[j] != UINT64_MAX && m->keys[j] != key) j = (j + 1) & (m->cap - 1);
    if (m->keys[j] == UINT64_MAX) m->n++;
    m->keys[j] = key;
    m->rank[j] = rank;
    m->merged[j] = merged;
    return GQ_OK;
}

int gq_pairmap_get(const gq_pairmap *m, int32_t a, int32_t b, int32_t *rank, int32_t *merged)
{
    if (m->cap == 0) return 0;
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t j = hash_u64(key) & (m->cap - 1);
    while (m->keys[j] != UINT64_MAX) {
        if (m->keys[j] == key) {
            *rank = m->rank[j];
            *merged = m->merged[j];
            return 1;
        }
        j = (j + 1) & (m->cap - 1);
    }
    return 0;
}

void gq_pairmap_free(gq_pairmap *m)
{
    gq_free(m->keys);
    gq_free(m->rank);
    gq_free(m->merged);
    memset(m, 0, sizeof *m);
}
