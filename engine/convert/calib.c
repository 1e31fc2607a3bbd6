/* calib.c — calibration token sets and the layer-by-layer driver (calib.h). */
#include "calib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "gq_alloc.h"
#include "kernels.h"
#include "model_internal.h"
#include "sha256.h"

void gq_calib_set_free(gq_calib_set *s)
{
    if (!s) return;
    gq_free(s->tokens);
    gq_free(s->offsets);
    memset(s, 0, sizeof *s);
}

/* Grow-able token list with sample offsets. */
typedef struct set_builder {
    gq_calib_set s;
    int64_t tok_cap;
    int off_cap;
} set_builder;

static int sb_begin_sample(set_builder *b, gq_error *err)
{
    if (b->s.n_samples + 2 > b->off_cap) {
        int cap = b->off_cap ? 2 * b->off_cap : 64;
        int64_t *o = gq_realloc(b->s.offsets, (size_t)cap * sizeof *o, "calibration offsets", err);
        if (!o) return GQ_ERR_NOMEM;
        b->s.offsets = o;
        b->off_cap = cap;
    }
    b->s.offsets[b->s.n_samples] = b->s.n_tokens;
    return GQ_OK;
}

static int sb_push(set_builder *b, int32_t id, gq_error *err)
{
    if (b->s.n_tokens + 1 > b->tok_cap) {
        int64_t cap = b->tok_cap ? 2 * b->tok_cap : 4096;
        int32_t *t = gq_realloc(b->s.tokens, (size_t)cap * sizeof *t, "calibration tokens", err);
        if (!t) return GQ_ERR_NOMEM;
        b->s.tokens = t;
        b->tok_cap = cap;
    }
    b->s.tokens[b->s.n_tokens++] = id;
    return GQ_OK;
}

static void sb_end_sample(set_builder *b)
{
    int64_t len = b->s.n_tokens - b->s.offsets[b->s.n_samples];
    if (len > b->s.max_len) b->s.max_len = (int)len;
    b->s.n_samples++;
    b->s.offsets[b->s.n_samples] = b->s.n_tokens;
}

int gq_calib_from_tokens_file(gq_calib_set *out, const char *path, int64_t vocab_size, gq_error *err)
{
    memset(out, 0, sizeof *out);
    char *text = NULL;
    size_t size = 0;
    int rc = gq_file_read_all(path, &text, &size, err);
    if (rc != GQ_OK) return rc;
    set_builder b = {0};
    size_t i = 0;
    int line = 1;
    while (i < size) {
        size_t end = i;
        while (end < size && text[end] != '\n') end++;
        size_t stop = end;
        if (stop > i && text[stop - 1] == '\r') stop--;
        if (stop > i) {
            if ((rc = sb_begin_sample(&b, err)) != GQ_OK) goto fail;
            size_t p = i;
            for (;;) {
                size_t col = p - i + 1;
                if (p >= stop || text[p] < '0' || text[p] > '9') {
                    rc = gq_error_set(err, GQ_ERR_FORMAT,
                                      "%s: line %d, column %zu: expected a token id (digits); the format is one "
                                      "sample per line, ids separated by single spaces", path, line, col);
                    goto fail;
                }
                int64_t v = 0;
                while (p < stop && text[p] >= '0' && text[p] <= '9') {
                    v = v * 10 + (text[p] - '0');
                    if (v > INT32_MAX) break;
                    p++;
                }
                if (v > INT32_MAX || (vocab_size > 0 && v >= vocab_size)) {
                    rc = gq_error_set(err, GQ_ERR_INVALID, "%s: line %d, column %zu: token id %lld%s is outside "
                                      "the vocabulary (0..%lld)", path, line, col, (long long)v,
                                      v > INT32_MAX ? "..." : "", (long long)vocab_size - 1);
                    goto fail;
                }
                if ((rc = sb_push(&b, (int32_t)v, err)) != GQ_OK) goto fail;
                if (p == stop) break;
                if (text[p] != ' ') {
                    rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: line %d, column %zu: expected a space or the end "
                                      "of the line after a token id", path, line, p - i + 1);
                    goto fail;
                }
                p++;
            }
            sb_end_sample(&b);
        }
        i = end + 1;
        line++;
    }
    if (b.s.n_samples == 0) {
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: no samples (expected one line of token ids per sample)", path);
        goto fail;
    }
    snprintf(b.s.sampler, sizeof b.s.sampler, "tokens-file");
    gq_free(text);
    *out = b.s;
    return GQ_OK;
fail:
    gq_free(text);
    gq_calib_set_free(&b.s);
    return rc;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Append "\n\n" (when not first) and the row to a growing string. */
static int append_text(char **buf, size_t *len, size_t *cap, const char *s, size_t n, int sep, gq_error *err)
{
    size_t need = *len + n + 3;
    if (need > *cap) {
        size_t c = *cap ? *cap : 1024;
        while (c < need) c *= 2;
        char *nb = gq_realloc(*buf, c, "calibration text", err);
        if (!nb) return GQ_ERR_NOMEM;
        *buf = nb;
        *cap = c;
    }
    if (sep) {
        memcpy(*buf + *len, "\n\n", 2);
        *len += 2;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return GQ_OK;
}

int gq_calib_from_rows(gq_calib_set *out, const gq_model *m, const char *const *rows, const size_t *row_len,
                       int n_rows, const char *source, int n_samples, int seqlen, uint64_t seed, gq_error *err)
{
    memset(out, 0, sizeof *out);
    if (n_samples <= 0 || seqlen <= 0)
        return gq_error_set(err, GQ_ERR_USAGE, "calibration needs at least one sample of at least one token");
    char *joined = NULL;
    size_t jlen = 0, jcap = 0;
    int *pool = NULL;
    gq_tokens ids = {0};
    set_builder b = {0};
    int rc = GQ_OK;
    /* The whole text must hold n_samples * seqlen tokens. */
    for (int r = 0; r < n_rows; r++)
        if ((rc = append_text(&joined, &jlen, &jcap, rows[r], row_len[r], r > 0, err)) != GQ_OK) goto done;
    if (n_rows > 0 && (rc = gq_tokenize(m, joined, 1, &ids, err)) != GQ_OK) goto done;
    int64_t need = (int64_t)n_samples * seqlen;
    if ((int64_t)ids.n < need) {
        rc = gq_error_set(err, GQ_ERR_INVALID,
                          "%s: calibration text too short: %zu tokens in %d rows, but --calib-samples %d x "
                          "--calib-seqlen %d needs %lld", source, ids.n, n_rows, n_samples, seqlen, (long long)need);
        goto done;
    }
    pool = gq_malloc((size_t)n_rows * sizeof *pool, "calibration row pool", err);
    if (!pool) { rc = GQ_ERR_NOMEM; goto done; }
    for (int r = 0; r < n_rows; r++) pool[r] = r;
    int n_pool = n_rows;
    uint64_t state = seed;
    for (int s = 0; s < n_samples; s++) {
        if (n_pool == 0) goto short_pool;
        int p = (int)(splitmix64(&state) % (uint64_t)n_pool);
        int taken = 0;
        jlen = 0;
        for (;;) {
            if (taken == n_pool) goto short_pool;
            int r = pool[(p + taken) % n_pool];
            if ((rc = append_text(&joined, &jlen, &jcap, rows[r], row_len[r], taken > 0, err)) != GQ_OK) goto done;
            taken++;
            ids.n = 0;
            if ((rc = gq_tokenize(m, joined, 1, &ids, err)) != GQ_OK) goto done;
            if ((int64_t)ids.n >= seqlen) break;
        }
        if ((rc = sb_begin_sample(&b, err)) != GQ_OK) goto done;
        for (int t = 0; t < seqlen; t++)
            if ((rc = sb_push(&b, ids.ids[t], err)) != GQ_OK) goto done;
        sb_end_sample(&b);
        /* Remove pool positions p .. p+taken-1 (mod n_pool), keeping order. */
        int *keep = pool, k = 0;
        for (int i = 0; i < n_pool; i++) {
            int rel = (i - p + n_pool) % n_pool;
            if (rel >= taken) keep[k++] = pool[i];
        }
        n_pool = k;
    }
    snprintf(b.s.sampler, sizeof b.s.sampler, "splitmix64-rows-v1");
    *out = b.s;
    memset(&b, 0, sizeof b);
    rc = GQ_OK;
    goto done;
short_pool:
    rc = gq_error_set(err, GQ_ERR_INVALID,
                      "%s: calibration text too short: its %d rows ran out before %d samples of %d tokens "
                      "could be drawn without reusing a row", source, n_rows, n_samples, seqlen);
done:
    gq_calib_set_free(&b.s);
    gq_free(joined);
    gq_free(pool);
    gq_tokens_free(&ids);
    return rc;
}

int gq_calib_from_text(gq_calib_set *out, const gq_model *m, const char *path, int n_samples, int seqlen,
                       uint64_t seed, gq_error *err)
{
    memset(out, 0, sizeof *out);
    char *text = NULL;
    size_t size = 0;
    const char **row_start = NULL;
    size_t *row_len = NULL;
    int rc = gq_file_read_all(path, &text, &size, err);
    if (rc != GQ_OK) return rc;
    /* Rows: non-empty lines. */
    int n_rows = 0, cap_rows = 0;
    for (size_t i = 0; i < size;) {
        size_t end = i;
        while (end < size && text[end] != '\n') end++;
        size_t stop = end;
        if (stop > i && text[stop - 1] == '\r') stop--;
        int blank = 1;
        for (size_t k = i; k < stop; k++)
            if (text[k] != ' ' && text[k] != '\t') blank = 0;
        if (!blank) {
            if (n_rows == cap_rows) {
                cap_rows = cap_rows ? 2 * cap_rows : 256;
                const char **a = gq_realloc(row_start, (size_t)cap_rows * sizeof *a, "calibration rows", err);
                if (!a) { rc = GQ_ERR_NOMEM; goto done; }
                row_start = a;
                size_t *l2 = gq_realloc(row_len, (size_t)cap_rows * sizeof *l2, "calibration rows", err);
                if (!l2) { rc = GQ_ERR_NOMEM; goto done; }
                row_len = l2;
            }
            row_start[n_rows] = text + i;
            row_len[n_rows] = stop - i;
            n_rows++;
        }
        i = end + 1;
    }
    rc = gq_calib_from_rows(out, m, row_start, row_len, n_rows, path, n_samples, seqlen, seed, err);
done:
    gq_free(text);
    gq_free(row_start);
    gq_free(row_len);
    return rc;
}

/* The text form: one line per sample, ids separated by spaces.  Calls
 * sink(chunk) with pieces; returns the total length. */
typedef void (*text_sink)(void *ctx, const char *s, size_t n);

static size_t emit_text(const gq_calib_set *s, text_sink sink, void *ctx)
{
    size_t total = 0;
    char num[16];
    for (int i = 0; i < s->n_samples; i++) {
        for (int64_t t = s->offsets[i]; t < s->offsets[i + 1]; t++) {
            int n = snprintf(num, sizeof num, "%s%d", t > s->offsets[i] ? " " : "", (int)s->tokens[t]);
            sink(ctx, num, (size_t)n);
            total += (size_t)n;
        }
        sink(ctx, "\n", 1);
        total++;
    }
    return total;
}

static void sink_sha(void *ctx, const char *s, size_t n) { gq_sha256_update(ctx, s, n); }
static void sink_count(void *ctx, const char *s, size_t n) { (void)ctx; (void)s; (void)n; }
typedef struct buf_sink { char *p; } buf_sink;
static void sink_buf(void *ctx, const char *s, size_t n)
{
    buf_sink *b = ctx;
    memcpy(b->p, s, n);
    b->p += n;
}

void gq_calib_sha256(const gq_calib_set *s, char hex[65])
{
    gq_sha256 c;
    unsigned char d[32];
    gq_sha256_init(&c);
    emit_text(s, sink_sha, &c);
    gq_sha256_final(&c, d);
    gq_sha256_to_hex(d, hex);
}

int gq_calib_write_tokens_file(const gq_calib_set *s, const char *path, gq_error *err)
{
    size_t n = emit_text(s, sink_count, NULL);
    char *buf = gq_malloc(n + 1, "tokens file", err);
    if (!buf) return GQ_ERR_NOMEM;
    buf_sink b = {buf};
    emit_text(s, sink_buf, &b);
    int rc = gq_file_write_atomic(path, buf, n, err);
    gq_free(buf);
    return rc;
}

// ---------------------------------------------------------------------------
// the driver

typedef struct driver {
    gq_model *m;
    const gq_backend_ops *be;
    int D, I, T;          /* T: rows of the per-sample scratch (longest sample) */
    float *x, *a;         /* [n_tokens, D] */
    int32_t *pos;         /* [n_tokens] */
    float *scratch;       /* per-sample attention buffers, sized on demand */
    size_t scratch_floats;
    float *sub_cos, *sub_sin; /* RoPE tables for a substituted layer's width */
    int sub_width;
} driver;

static float *scratch_get(driver *d, size_t floats, gq_error *err)
{
    if (floats > d->scratch_floats) {
        gq_free(d->scratch);
        d->scratch = gq_malloc(floats * sizeof(float), "calibration scratch", err);
        d->scratch_floats = d->scratch ? floats : 0;
    }
    return d->scratch;
}

/* RoPE tables [T, n/2] at width n with the model's theta and scaling,
 * formed as forward.c forms them (float32 position x float32 frequency). */
static int sub_tables(driver *d, int n, gq_error *err)
{
    if (d->sub_width == n) return GQ_OK;
    const gq_config *c = d->m->cfg;
    const gq_rope_scaling *rsc = &c->rope_scaling;
    if (rsc->type != GQ_ROPE_SCALING_NONE && rsc->type != GQ_ROPE_SCALING_LLAMA3)
        return gq_error_set(err, GQ_ERR_UNSUPPORTED, "%s: a substituted layer needs default or llama3 RoPE",
                            d->m->path);
    int half = n / 2;
    gq_free(d->sub_cos);
    d->sub_cos = gq_malloc(2 * (size_t)d->T * (size_t)half * sizeof(float) + sizeof(float), "rope tables", err);
    float *inv = gq_malloc(((size_t)half + 1) * sizeof(float), "rope frequencies", err);
    if (!d->sub_cos || !inv) {
        gq_free(inv);
        return GQ_ERR_NOMEM;
    }
    d->sub_sin = d->sub_cos + (size_t)d->T * half;
    gq_rope_inv_freq(inv, n, c->rope_theta, rsc->type == GQ_ROPE_SCALING_LLAMA3, rsc->factor, rsc->low_freq_factor,
                     rsc->high_freq_factor, (double)rsc->original_max_position_embeddings);
    for (int p = 0; p < d->T; p++)
        for (int j = 0; j < half; j++) {
            float ang = (float)p * inv[j];
            d->sub_cos[(size_t)p * half + j] = (float)cos((double)ang);
            d->sub_sin[(size_t)p * half + j] = (float)sin((double)ang);
        }
    gq_free(inv);
    d->sub_width = n;
    return GQ_OK;
}

/* out[T, D] = attention of the model's own GQA layer l over a[T, D]. */
static int attn_native(driver *d, int l, const float *a, int T, float *out, gq_error *err)
{
    const gq_config *c = d->m->cfg;
    const gq_layer_weights *lw = &d->m->w.layers[l];
    const gq_run_state *rs = &d->m->rs;
    int D = d->D, H = (int)c->num_attention_heads, Hkv = (int)c->num_key_value_heads, Dh = (int)c->head_dim;
    int qd = H * Dh, kd = Hkv * Dh;
    float *q = scratch_get(d, (size_t)T * (2 * (size_t)qd + 2 * (size_t)kd), err);
    if (!q) return GQ_ERR_NOMEM;
    float *k = q + (size_t)T * qd, *v = k + (size_t)T * kd, *o = v + (size_t)T * kd;
    const gq_backend_ops *be = d->be;
    be->matmul(q, qd, a, lw->wq.f32, lw->bq, T, D, qd);
    be->matmul(k, kd, a, lw->wk.f32, lw->bk, T, D, kd);
    be->matmul(v, kd, a, lw->wv.f32, lw->bv, T, D, kd);
    be->rope(q, qd, T, H, Dh, 0, rs->rope_cos, rs->rope_sin);
    be->rope(k, kd, T, Hkv, Dh, 0, rs->rope_cos, rs->rope_sin);
    be->attention(o, q, k, v, T, 0, H, Hkv, Dh, rs->attn_scale);
    be->matmul(out, D, o, lw->wo.f32, lw->bo, T, qd, D);
    return GQ_OK;
}

/* out[T, D] = MLA/GQLA attention (through the GQA path's cache layout). */
static int attn_mla(driver *d, const gq_calib_attn *w, const float *q_a_norm, const float *wq_a, const float *bq_a,
                    const float *wq_b, const float *bq_b, int rq, const float *cos_t, const float *sin_t,
                    int interleave, const float *a, int T, float *out, gq_error *err)
{
    const gq_mla_shape *s = &w->shape;
    int D = d->D, qk = s->dn + s->dr, Qd = s->H * qk, row = s->N * (s->dn + s->dv) + s->dr;
    size_t need = (size_t)T * ((size_t)Qd + (size_t)(s->r + s->dr) + (size_t)s->r + (size_t)row +
                               (size_t)s->H * s->dv + (size_t)rq);
    float *q = scratch_get(d, need, err);
    if (!q) return GQ_ERR_NOMEM;
    float *kva = q + (size_t)T * Qd, *lat = kva + (size_t)T * (s->r + s->dr), *cache = lat + (size_t)T * s->r;
    float *o = cache + (size_t)T * row, *qa = o + (size_t)T * s->H * s->dv;
    const gq_backend_ops *be = d->be;
    if (wq_a) {
        be->matmul(qa, rq, a, wq_a, bq_a, T, D, rq);
        if (q_a_norm) be->rmsnorm(qa, qa, q_a_norm, T, rq, w->latent_eps);
        be->matmul(q, Qd, qa, wq_b, bq_b, T, rq, Qd);
    } else {
        be->matmul(q, Qd, a, w->wq, w->bq, T, D, Qd);
    }
    be->matmul(kva, s->r + s->dr, a, w->wkv_a, w->bkv_a, T, D, s->r + s->dr);
    be->copy_rows(lat, s->r, kva, s->r + s->dr, T, s->r);
    if (w->kv_a_norm) be->rmsnorm(lat, lat, w->kv_a_norm, T, s->r, w->latent_eps);
    be->rope_slice(q, Qd, T, s->H, qk, s->dn, s->dr, interleave, 0, NULL, cos_t, sin_t);
    be->rope_slice(kva, s->r + s->dr, T, 1, 0, s->r, s->dr, interleave, 0, NULL, cos_t, sin_t);
    be->matmul(cache, row, lat, w->wkv_b, NULL, T, s->r, s->N * (s->dn + s->dv));
    be->copy_rows(cache + (size_t)s->N * (s->dn + s->dv), row, kva + s->r, s->r + s->dr, T, s->dr);
    be->attn_gqa(o, q, cache, T, 0, 0, NULL, s);
    be->matmul(out, D, o, w->wo, w->bo, T, s->H * s->dv, D);
    return GQ_OK;
}

int gq_calib_attn_run(gq_model *m, const gq_calib_attn *w, const float *a, int T, float *out, gq_error *err)
{
    int widen_rc = gq_model_widen_weights(m, err); /* the decompositions read float32 matrices */
    if (widen_rc != GQ_OK) return widen_rc;
    driver d = {0};
    d.m = m;
    d.be = gq_backend_cpu();
    d.D = (int)m->cfg->hidden_size;
    d.I = (int)m->cfg->intermediate_size;
    d.T = T;
    int rc = sub_tables(&d, w->shape.dr, err);
    if (rc == GQ_OK)
        rc = attn_mla(&d, w, w->q_a_norm, w->wq_a, w->bq_a, w->wq_b, w->bq_b, w->rq, d.sub_cos, d.sub_sin, 1, a, T, out,
                      err);
    gq_free(d.scratch);
    gq_free(d.sub_cos);
    return rc;
}

static int model_is_mla(const gq_config *c) { return c->arch == GQ_ARCH_DEEPSEEK_MLA || c->arch == GQ_ARCH_GQLA; }

int gq_calib_run(gq_model *m, const gq_calib_set *set, gq_calib_layer_fn on_layer, gq_calib_final_fn on_final,
                 void *ctx, gq_error *err)
{
    if (!m->weights_loaded) return gq_error_set(err, GQ_ERR_USAGE, "%s: model opened without weights", m->path);
    int widen_rc = gq_model_widen_weights(m, err); /* the decompositions read float32 matrices */
    if (widen_rc != GQ_OK) return widen_rc;
    const gq_config *c = m->cfg;
    driver d = {0};
    d.m = m;
    d.be = gq_backend_cpu();
    d.D = (int)c->hidden_size;
    d.I = (int)c->intermediate_size;
    d.T = set->max_len;
    gq_backend_cpu_set_threads(m->n_threads);
    if (set->max_len > m->rs.rope_positions)
        return gq_error_set(err, GQ_ERR_INVALID, "calibration sample of %d tokens exceeds the model's %d positions",
                            set->max_len, m->rs.rope_positions);
    for (int64_t t = 0; t < set->n_tokens; t++)
        if (set->tokens[t] < 0 || set->tokens[t] >= c->vocab_size)
            return gq_error_set(err, GQ_ERR_INVALID, "calibration token %lld is id %d, outside the vocabulary (0..%lld)",
                                (long long)t, set->tokens[t], (long long)c->vocab_size - 1);
    int rc = GQ_OK;
    size_t nD = (size_t)set->n_tokens * (size_t)d.D;
    const int chunk = 256;
    float *mlp = NULL;
    d.x = gq_malloc(nD * sizeof(float), "calibration residual stream", err);
    d.a = gq_malloc(nD * sizeof(float), "calibration layer input", err);
    d.pos = gq_malloc((size_t)(set->n_tokens ? set->n_tokens : 1) * sizeof(int32_t), "calibration positions", err);
    mlp = gq_malloc(2 * (size_t)chunk * (size_t)d.I * sizeof(float), "calibration MLP", err);
    if (!d.x || !d.a || !d.pos || !mlp) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    for (int s = 0; s < set->n_samples; s++)
        for (int64_t t = set->offsets[s]; t < set->offsets[s + 1]; t++) d.pos[t] = (int32_t)(t - set->offsets[s]);
    for (int64_t t = 0; t < set->n_tokens; t++)
        memcpy(d.x + (size_t)t * d.D, m->w.embed.f32 + (size_t)set->tokens[t] * d.D, (size_t)d.D * sizeof(float));
    const float eps = (float)c->rms_norm_eps;
    for (int l = 0; l < (int)c->num_hidden_layers; l++) {
        const gq_layer_weights *lw = &m->w.layers[l];
        d.be->rmsnorm(d.a, d.x, lw->attn_norm, (int)set->n_tokens, d.D, eps);
        gq_calib_attn sub;
        memset(&sub, 0, sizeof sub);
        if (on_layer) {
            gq_calib_layer_view v = {l, set->n_tokens, d.D, d.a, d.pos, set};
            rc = on_layer(ctx, &v, &sub, err);
            if (rc != GQ_OK) goto done;
        }
        if (sub.use && (rc = sub_tables(&d, sub.shape.dr, err)) != GQ_OK) goto done;
        /* Attention per sample; the output overwrites a's rows (no longer needed). */
        for (int s = 0; s < set->n_samples; s++) {
            int64_t off = set->offsets[s];
            int T = (int)(set->offsets[s + 1] - off);
            if (T == 0) continue;
            const float *as = d.a + (size_t)off * d.D;
            float *tmp = gq_malloc((size_t)T * d.D * sizeof(float), "attention output", err);
            if (!tmp) { rc = GQ_ERR_NOMEM; goto done; }
            if (sub.use) {
                rc = attn_mla(&d, &sub, sub.q_a_norm, sub.wq_a, sub.bq_a, sub.wq_b, sub.bq_b, sub.rq, d.sub_cos,
                              d.sub_sin, 1, as, T, tmp, err);
            } else if (model_is_mla(c)) {
                gq_calib_attn own;
                memset(&own, 0, sizeof own);
                own.use = 1;
                own.wq = lw->wq.f32;
                own.bq = lw->bq;
                own.wkv_a = lw->wkv_a.f32;
                own.bkv_a = lw->bkv_a;
                own.kv_a_norm = lw->kv_a_norm;
                own.latent_eps = (float)c->latent_norm_eps;
                own.wkv_b = lw->wkv_b;
                own.wo = lw->wo.f32;
                own.bo = lw->bo;
                own.shape = (gq_mla_shape){(int)c->num_attention_heads, (int)c->num_key_value_heads,
                                           (int)c->qk_nope_head_dim, (int)c->qk_rope_head_dim, (int)c->v_head_dim,
                                           (int)c->kv_lora_rank, m->rs.attn_scale};
                rc = attn_mla(&d, &own, lw->q_a_norm, lw->wq_a.f32, lw->bq_a, lw->wq_b.f32, lw->bq_b, (int)c->q_lora_rank,
                              m->rs.rope_cos, m->rs.rope_sin, c->rope_interleave, as, T, tmp, err);
            } else {
                rc = attn_native(&d, l, as, T, tmp, err);
            }
            if (rc == GQ_OK) d.be->add(d.x + (size_t)off * d.D, tmp, T, d.D);
            gq_free(tmp);
            if (rc != GQ_OK) goto done;
        }
        /* MLP over all tokens, chunk rows at a time; a is free scratch now. */
        for (int64_t t0 = 0; t0 < set->n_tokens; t0 += chunk) {
            int n = (int)(set->n_tokens - t0 < chunk ? set->n_tokens - t0 : chunk);
            float *xr = d.x + (size_t)t0 * d.D, *ar = d.a + (size_t)t0 * d.D;
            float *hb = mlp, *hb2 = mlp + (size_t)chunk * d.I;
            d.be->rmsnorm(ar, xr, lw->mlp_norm, n, d.D, eps);
            d.be->matmul(hb, d.I, ar, lw->w_gate.f32, NULL, n, d.D, d.I);
            d.be->matmul(hb2, d.I, ar, lw->w_up.f32, NULL, n, d.D, d.I);
            d.be->swiglu(hb, hb2, n, d.I);
            d.be->matmul(ar, d.D, hb, lw->w_down.f32, NULL, n, d.I, d.D);
            d.be->add(xr, ar, n, d.D);
        }
    }
    if (on_final) rc = on_final(ctx, d.x, set->n_tokens, d.D, err);
done:
    gq_free(d.x);
    gq_free(d.a);
    gq_free(d.pos);
    gq_free(d.scratch);
    gq_free(d.sub_cos);
    gq_free(mlp);
    return rc;
}
