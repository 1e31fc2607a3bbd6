/* fewshot.c — few-shot examples as lm-evaluation-harness picks and writes
 * them (tasks.md §2.2, §2.9, Appendix A).
 *
 * The generator is CPython's random.Random: MT19937 seeded through
 * init_by_array with the 32-bit words of the seed, getrandbits(k) taking the
 * top k bits of one 32-bit output (words little-endian above 32 bits),
 * _randbelow by rejection on bit_length(n) bits, and random.sample with its
 * two strategies (partial Fisher-Yates on a copy of the pool when the pool
 * is at most `setsize`, otherwise redraws until an unused index comes up).
 * The MT19937 recurrences are the published algorithm of Matsumoto and
 * Nishimura, written here from its description.
 *
 * Samplers: ARC and OpenBookQA draw k rows; HellaSwag, PIQA and WinoGrande
 * (few-shot split == test split, both unset) draw k+1, drop rows equal to
 * the evaluated row and keep the first k, falling back to a fresh draw from
 * the pool without those rows when that leaves fewer than k (lm-eval
 * 0.4.13's ContextSampler.sample); MMLU takes the first k rows (first_n).
 * Each shot is written Q + " " + A + "\n\n" (target and few-shot
 * delimiters); for WinoGrande Q is the gold option's context and A the
 * shared suffix, and an empty suffix writes Q alone (build_qa_turn's
 * has_answer test).
 *
 * Tested by tests/test_tasks.c against draws and prompts from CPython.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gq_alloc.h"
#include "task_internal.h"

/* ------------------------------------------------------------------------ */
/* MT19937 as CPython's _randommodule.c uses it */

#define MT_N 624
#define MT_M 397
#define MT_MATRIX_A 0x9908b0dfU
#define MT_UPPER 0x80000000U
#define MT_LOWER 0x7fffffffU

static void mt_init(gq_rng *r, uint32_t s)
{
    r->mt[0] = s;
    for (int i = 1; i < MT_N; i++)
        r->mt[i] = 1812433253U * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + (uint32_t)i;
    r->mti = MT_N;
}

static void mt_init_by_array(gq_rng *r, const uint32_t *key, int len)
{
    mt_init(r, 19650218U);
    int i = 1, j = 0;
    for (int k = MT_N > len ? MT_N : len; k; k--) {
        r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1664525U)) + key[j] + (uint32_t)j;
        i++, j++;
        if (i >= MT_N) {
            r->mt[0] = r->mt[MT_N - 1];
            i = 1;
        }
        if (j >= len)
            j = 0;
    }
    for (int k = MT_N - 1; k; k--) {
        r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1566083941U)) - (uint32_t)i;
        i++;
        if (i >= MT_N) {
            r->mt[0] = r->mt[MT_N - 1];
            i = 1;
        }
    }
    r->mt[0] = 0x80000000U;
}

static uint32_t mt_next(gq_rng *r)
{
    static const uint32_t mag01[2] = {0U, MT_MATRIX_A};
    uint32_t y;
    if (r->mti >= MT_N) {
        int kk;
        for (kk = 0; kk < MT_N - MT_M; kk++) {
            y = (r->mt[kk] & MT_UPPER) | (r->mt[kk + 1] & MT_LOWER);
            r->mt[kk] = r->mt[kk + MT_M] ^ (y >> 1) ^ mag01[y & 1U];
        }
        for (; kk < MT_N - 1; kk++) {
            y = (r->mt[kk] & MT_UPPER) | (r->mt[kk + 1] & MT_LOWER);
            r->mt[kk] = r->mt[kk + (MT_M - MT_N)] ^ (y >> 1) ^ mag01[y & 1U];
        }
        y = (r->mt[MT_N - 1] & MT_UPPER) | (r->mt[0] & MT_LOWER);
        r->mt[MT_N - 1] = r->mt[MT_M - 1] ^ (y >> 1) ^ mag01[y & 1U];
        r->mti = 0;
    }
    y = r->mt[r->mti++];
    y ^= (y >> 11);
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= (y >> 18);
    return y;
}

void gq_rng_seed(gq_rng *r, uint64_t seed)
{
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    mt_init_by_array(r, key, key[1] ? 2 : 1);
}

uint64_t gq_rng_getrandbits(gq_rng *r, int k)
{
    if (k <= 0)
        return 0;
    if (k > 64)
        k = 64;
    if (k <= 32)
        return mt_next(r) >> (32 - k);
    uint64_t lo = mt_next(r);
    uint64_t hi = mt_next(r) >> (64 - k);
    return lo | (hi << 32);
}

static int bit_length(uint64_t n)
{
    int b = 0;
    while (n) {
        b++;
        n >>= 1;
    }
    return b;
}

/* random._randbelow_with_getrandbits, n >= 1 */
static size_t randbelow(gq_rng *r, size_t n)
{
    int k = bit_length(n);
    uint64_t x = gq_rng_getrandbits(r, k);
    while (x >= n)
        x = gq_rng_getrandbits(r, k);
    return (size_t)x;
}

int gq_rng_sample(gq_rng *r, size_t n, size_t m, size_t *out, gq_error *err)
{
    if (m > n)
        return gq_error_set(err, GQ_ERR_INVALID,
                            "few-shot sample of %zu rows is larger than the pool of %zu rows", m, n);
    /* setsize = 21 (+ 4 ** ceil(log(3m, 4)) when m > 5), as Python computes it */
    double setsize = 21;
    if (m > 5)
        setsize += pow(4.0, ceil(log((double)m * 3) / log(4.0)));
    if ((double)n <= setsize) {
        size_t *pool = gq_malloc((n ? n : 1) * sizeof *pool, "sample pool", err);
        if (!pool)
            return GQ_ERR_NOMEM;
        for (size_t i = 0; i < n; i++)
            pool[i] = i;
        for (size_t i = 0; i < m; i++) {
            size_t j = randbelow(r, n - i);
            out[i] = pool[j];
            pool[j] = pool[n - i - 1];
        }
        gq_free(pool);
    } else {
        for (size_t i = 0; i < m; i++) {
            size_t j;
            int seen;
            do {
                j = randbelow(r, n);
                seen = 0;
                for (size_t t = 0; t < i && !seen; t++)
                    seen = out[t] == j;
            } while (seen);
            out[i] = j;
        }
    }
    return GQ_OK;
}

/* ------------------------------------------------------------------------ */
/* shots */

static int rows_equal(const cJSON *a, const cJSON *b)
{
    return cJSON_Compare(a, b, 1) ? 1 : 0;
}

/* Pick the pool rows for one document; *idx (k entries) is gq_malloc'ed. */
static int pick(gq_fewshot_kind kind, const cJSON *eval_row, const char *where, const cJSON *pool,
                size_t n, size_t k, gq_rng *rng, size_t **idx, gq_error *err)
{
    size_t *draw = NULL, *keep = NULL, *rest = NULL;
    int rc = GQ_OK;

    *idx = NULL;
    keep = gq_malloc(k * sizeof *keep, "few-shot indices", err);
    if (!keep)
        return GQ_ERR_NOMEM;
    if (kind == GQ_FEWSHOT_FIRST_N) {
        if (k > n) {
            rc = gq_error_set(err, GQ_ERR_INVALID, "%s: %zu few-shot examples requested but the few-shot split has %zu rows",
                              where, k, n);
            goto fail;
        }
        for (size_t i = 0; i < k; i++)
            keep[i] = i;
        *idx = keep;
        return GQ_OK;
    }
    if (!rng) {
        rc = gq_error_set(err, GQ_ERR_USAGE, "%s: few-shot sampling needs the task's generator (rng is NULL)", where);
        goto fail;
    }
    if (kind == GQ_FEWSHOT_RANDOM) {
        if ((rc = gq_rng_sample(rng, n, k, keep, err)) != GQ_OK)
            goto fail;
        *idx = keep;
        return GQ_OK;
    }
    /* GQ_FEWSHOT_RANDOM_EXCL */
    draw = gq_malloc((k + 1) * sizeof *draw, "few-shot draw", err);
    if (!draw) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    if ((rc = gq_rng_sample(rng, n, k + 1, draw, err)) != GQ_OK)
        goto fail;
    size_t got = 0;
    for (size_t i = 0; i < k + 1 && got < k; i++)
        if (!rows_equal(cJSON_GetArrayItem(pool, (int)draw[i]), eval_row))
            keep[got++] = draw[i];
    if (got < k) {
        /* the evaluated row occurs more than once in the pool: redraw from
         * the pool without any copy of it */
        rest = gq_malloc((n ? n : 1) * sizeof *rest, "few-shot pool", err);
        if (!rest) {
            rc = GQ_ERR_NOMEM;
            goto fail;
        }
        size_t nr = 0, i = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, pool) {
            if (!rows_equal(it, eval_row))
                rest[nr++] = i;
            i++;
        }
        if ((rc = gq_rng_sample(rng, nr, k, keep, err)) != GQ_OK)
            goto fail;
        for (size_t i = 0; i < k; i++)
            keep[i] = rest[keep[i]];
    }
    gq_free(draw);
    gq_free(rest);
    *idx = keep;
    return GQ_OK;
fail:
    gq_free(draw);
    gq_free(rest);
    gq_free(keep);
    return rc;
}

int gq_fewshot_append(gq_qa_fn fn, gq_fewshot_kind kind, const cJSON *eval_row, const char *where,
                      const cJSON *pool, int k, gq_rng *rng, gq_sbuf *out, gq_error *err)
{
    size_t *idx = NULL;
    gq_qa qa = {0};
    int rc;

    if (k <= 0)
        return GQ_OK;
    if (!cJSON_IsArray(pool))
        return gq_error_set(err, GQ_ERR_USAGE, "%s: %d few-shot examples requested but no few-shot split was given",
                            where, k);
    size_t n = (size_t)cJSON_GetArraySize(pool);
    if ((rc = pick(kind, eval_row, where, pool, n, (size_t)k, rng, &idx, err)) != GQ_OK)
        return rc;
    for (int s = 0; s < k; s++) {
        char pw[512];
        snprintf(pw, sizeof pw, "%s: few-shot row %zu", where, idx[s]);
        if ((rc = fn(cJSON_GetArrayItem(pool, (int)idx[s]), pw, 0, &qa, err)) != GQ_OK)
            goto fail;
        const char *q, *a;
        if (qa.suffix) {
            q = qa.choices[qa.gold];
            a = qa.suffix;
        } else {
            q = qa.q;
            a = qa.choices[qa.gold];
        }
        if ((rc = gq_sbuf_add(out, q, err)) != GQ_OK)
            goto fail;
        /* an int answer always counts; a string answer only when non-empty */
        if (!qa.suffix || qa.suffix[0]) {
            if ((rc = gq_sbuf_add(out, " ", err)) != GQ_OK || (rc = gq_sbuf_add(out, a, err)) != GQ_OK ||
                (rc = gq_sbuf_add(out, "\n\n", err)) != GQ_OK)
                goto fail;
        }
        gq_qa_free(&qa);
    }
    gq_free(idx);
    return GQ_OK;
fail:
    gq_qa_free(&qa);
    gq_free(idx);
    return rc;
}
