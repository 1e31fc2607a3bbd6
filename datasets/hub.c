/* hub.c — rows from the Hugging Face datasets-server, with an on-disk cache.
 *
 * Download: GET {endpoint}/rows?dataset=ID&config=CONFIG&split=SPLIT&offset=O&length=100,
 * page after page until num_rows_total.  Each page is checked (row_idx in
 * order, no truncated cells, the fields of the dataset's HF shape, UTF-8).
 * Retries with exponential backoff (base $GQLA_HUB_BACKOFF_MS, default 1000 ms,
 * doubling, at most HUB_MAX_ATTEMPTS tries and HUB_MAX_TOTAL_WAIT_MS of
 * waiting in all) on HTTP 429, 5xx, dropped connections, timeouts and a 200
 * whose body is cut short.  401/403 say to set HF_TOKEN; 404 names the
 * dataset, config and split.
 *
 * Environment: HF_ENDPOINT (the datasets-server base URL; the Hub's own
 * https://huggingface.co maps to the default datasets-server), HF_TOKEN (sent
 * as "Authorization: Bearer ..."; never printed: every message leaving this
 * file is scrubbed of it), HF_HOME / XDG_CACHE_HOME (cache root),
 * HF_HUB_OFFLINE=1 or HF_DATASETS_OFFLINE=1 (never download),
 * GQLA_HUB_BACKOFF_MS (base delay), GQLA_HUB_TIMEOUT_MS (per-request time
 * limit; default: none, but a transfer stalled for 60 s is dropped).
 *
 * Cache: CACHE/datasets/<org>/<name>/<config>/<split>.json.gz, one file per
 * (id, config, split), the JSON array of HF rows.  The file is a real gzip
 * file (zcat reads it) whose header carries an extra field "GQ" holding the
 * uncompressed length (u64) and CRC32; a truncated or corrupt file fails those
 * checks and is fetched again.  Written to a temp file in the same folder and
 * renamed (gq_file_write_atomic).  Ids are sanitised: [A-Za-z0-9._-] parts,
 * exactly one '/', no "..", and the final folder is checked to be under the
 * cache root.
 *
 * Not here: dataset revisions (the server serves the newest), parquet, the
 * `fetch` command line (harness/).  Tested by tests/test_datasets_hub.c
 * against a local HTTP server.
 */
#define _XOPEN_SOURCE 700
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

#include "ds_internal.h"
#include "fileio.h"
#include "gq_alloc.h"
#include "gq_http.h"
#include "json_util.h"

#define HUB_DEFAULT_ENDPOINT "https://datasets-server.huggingface.co"
#define HUB_PAGE_ROWS 100
#define HUB_MAX_ATTEMPTS 8
#define HUB_MAX_WAIT_MS 60000L         /* one wait */
#define HUB_MAX_TOTAL_WAIT_MS 300000L  /* all waits of one request */
#define HUB_MAX_BODY ((size_t)256 << 20)
#define HUB_MAX_ROWS ((size_t)100000000)

// ---- names and paths ---------------------------------------------------------

static int part_ok(const char *s, size_t n)
{
    if (n == 0) return 0;
    if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        if (!ok) return 0;
        if (c == '.' && i + 1 < n && s[i + 1] == '.') return 0;
    }
    return 1;
}

int ds_hub_cache_relpath(char *out, size_t cap, const char *hf_id, const char *config,
                         const char *split, gq_error *err)
{
    const char *cfg = config ? config : "default";
    if (!hf_id || !*hf_id)
        return gq_error_set(err, GQ_ERR_USAGE, "no dataset id given (expected ORG/NAME, e.g. allenai/ai2_arc)");
    const char *slash = strchr(hf_id, '/');
    if (hf_id[0] == '/' || !slash || strchr(slash + 1, '/') || !part_ok(hf_id, (size_t)(slash - hf_id)) ||
        !part_ok(slash + 1, strlen(slash + 1)))
        return gq_error_set(err, GQ_ERR_USAGE,
                            "dataset id '%.200s' refused: expected ORG/NAME with exactly one '/', parts made of "
                            "letters, digits, '.', '_' and '-', and no '..' (e.g. allenai/ai2_arc)",
                            hf_id);
    if (!part_ok(cfg, strlen(cfg)))
        return gq_error_set(err, GQ_ERR_USAGE,
                            "%s: config '%.200s' refused: expected letters, digits, '.', '_' and '-' and no '..'",
                            hf_id, cfg);
    if (!split || !part_ok(split, strlen(split)))
        return gq_error_set(err, GQ_ERR_USAGE,
                            "%s: split '%.200s' refused: expected letters, digits, '.', '_' and '-' and no '..'",
                            hf_id, split ? split : "(none)");
    int w = snprintf(out, cap, "%s/%s/%s", hf_id, cfg, split);
    if (w < 0 || (size_t)w >= cap) return gq_error_set(err, GQ_ERR_USAGE, "%s: names too long", hf_id);
    return GQ_OK;
}

int ds_hub_cache_root(char *out, size_t cap, const gq_dataset_opts *opts, gq_error *err)
{
    static const gq_env_dir cand[] = {{"HF_HOME", "/gqla-eval"},
                                      {"XDG_CACHE_HOME", "/huggingface/gqla-eval"},
                                      {"HOME", "/.cache/huggingface/gqla-eval"}};
    return gq_env_dir_pick(out, cap, opts ? opts->cache_dir : NULL, cand, sizeof cand / sizeof cand[0],
                           "cache folder", "set HF_HOME (or XDG_CACHE_HOME or HOME), or pass --data-dir", err);
}

/* The folder of the cache file must resolve (symlinks included) to a place
 * under the resolved cache root. */
static int check_under_root(const char *root, const char *dir, gq_error *err)
{
    char *r = realpath(root, NULL), *d = realpath(dir, NULL);
    int ok = r && d && strncmp(d, r, strlen(r)) == 0 && (d[strlen(r)] == '/' || strcmp(r, "/") == 0);
    free(r);
    free(d);
    if (!ok)
        return gq_error_set(err, GQ_ERR_USAGE, "%s: cache folder is not under the cache root %s; refused", dir,
                            root);
    return GQ_OK;
}

typedef struct hub_paths {
    char ref[600];     /* "ID/CONFIG/SPLIT" for messages (config "default" when none) */
    char root[4096];
    char dir[4800];    /* folder of the file */
    char file[5000];   /* .../<split>.json.gz */
} hub_paths;

static int hub_paths_make(hub_paths *p, const char *hf_id, const char *config, const char *split,
                          const gq_dataset_opts *opts, gq_error *err)
{
    char rel[600];
    int rc = ds_hub_cache_relpath(rel, sizeof rel, hf_id, config, split, err);
    if (rc != GQ_OK) return rc;
    snprintf(p->ref, sizeof p->ref, "%s", rel);
    rc = ds_hub_cache_root(p->root, sizeof p->root, opts, err);
    if (rc != GQ_OK) return rc;
    const char *last = strrchr(rel, '/');
    int w1 = snprintf(p->dir, sizeof p->dir, "%s/datasets/%.*s", p->root, (int)(last - rel), rel);
    int w2 = snprintf(p->file, sizeof p->file, "%s/%s.json.gz", p->dir, last + 1);
    if (w1 < 0 || (size_t)w1 >= sizeof p->dir || w2 < 0 || (size_t)w2 >= sizeof p->file)
        return gq_error_set(err, GQ_ERR_USAGE, "%s: cache path too long", p->root);
    /* Textual check; the resolved check runs once the folder exists. */
    size_t rl = strlen(p->root);
    if (strncmp(p->file, p->root, rl) != 0 || p->file[rl] != '/' || strstr(p->file + rl, "/../"))
        return gq_error_set(err, GQ_ERR_USAGE, "%s: cache path leaves the cache root; refused", p->file);
    return GQ_OK;
}

// ---- cache container (gzip with a "GQ" extra field) ---------------------------------

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

#define GZ_HEAD 28   /* 10 fixed + 2 XLEN + 4 subfield header + 12 data */

static uint32_t crc32_of(const char *data, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        uInt chunk = n > (size_t)UINT_MAX ? UINT_MAX : (uInt)n;
        c = crc32(c, (const Bytef *)data, chunk);
        data += chunk;
        n -= chunk;
    }
    return (uint32_t)c;
}

int ds_cache_write(const char *path, const char *data, size_t n, gq_error *err)
{
    unsigned char *out = NULL;
    z_stream zs;
    int zinit = 0, rc;
    memset(&zs, 0, sizeof zs);
    if (n > (size_t)UINT_MAX) return gq_error_set(err, GQ_ERR_UNSUPPORTED, "%s: %zu bytes is too large to cache", path, n);
    if (deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        rc = gq_error_set(err, GQ_ERR_NOMEM, "%s: cannot start zlib", path);
        goto fail;
    }
    zinit = 1;
    size_t bound = deflateBound(&zs, (uLong)n), total = GZ_HEAD + bound + 8;
    out = gq_malloc(total, "cache file", err);
    if (!out) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    uint32_t crc = crc32_of(data, n);
    static const unsigned char fixed[12] = {0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 3, 16, 0};
    memcpy(out, fixed, 12);
    out[12] = 'G';
    out[13] = 'Q';
    put_le(out + 14, 12, 2);
    put_le(out + 16, (uint64_t)n, 8);
    put_le(out + 24, crc, 4);
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)n;
    zs.next_out = out + GZ_HEAD;
    zs.avail_out = (uInt)bound;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
        rc = gq_error_set(err, GQ_ERR_IO, "%s: zlib compression failed", path);
        goto fail;
    }
    size_t used = GZ_HEAD + zs.total_out;
    put_le(out + used, crc, 4);
    put_le(out + used + 4, (uint64_t)(n & 0xFFFFFFFFu), 4);
    used += 8;
    rc = gq_file_write_atomic(path, out, used, err);
fail:
    if (zinit) deflateEnd(&zs);
    gq_free(out);
    return rc;
}

int ds_cache_read(const char *path, char **data, size_t *n_out, gq_error *err)
{
    gq_mapped_file mf = {0};
    char *buf = NULL;
    z_stream zs;
    int zinit = 0;
    memset(&zs, 0, sizeof zs);
    *data = NULL;
    *n_out = 0;
    int rc = gq_file_map(&mf, path, err);
    if (rc != GQ_OK) return rc;
    const unsigned char *p = mf.data;
    if (mf.size < GZ_HEAD + 8 || p[0] != 0x1f || p[1] != 0x8b || p[2] != 8 || p[3] != 4 ||
        get_le(p + 10, 2) != 16 || p[12] != 'G' || p[13] != 'Q' || get_le(p + 14, 2) != 12) {
        rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: not a gqla-eval cache file (bad or truncated header)", path);
        goto fail;
    }
    uint64_t n = get_le(p + 16, 8);
    uint32_t crc = (uint32_t)get_le(p + 24, 4);
    size_t comp = mf.size - GZ_HEAD - 8;
    /* deflate cannot expand data by more than ~1032x: a larger length is a lie. */
    if (n > (uint64_t)UINT_MAX || n > (uint64_t)comp * 1040 + 64 || comp > (size_t)UINT_MAX) {
        rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: cache header claims %llu bytes from %zu compressed; corrupt",
                          path, (unsigned long long)n, comp);
        goto fail;
    }
    buf = gq_malloc((size_t)n + 1, "cache contents", err);
    if (!buf) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    if (inflateInit2(&zs, -15) != Z_OK) {
        rc = gq_error_set(err, GQ_ERR_NOMEM, "%s: cannot start zlib", path);
        goto fail;
    }
    zinit = 1;
    zs.next_in = (Bytef *)(p + GZ_HEAD);
    zs.avail_in = (uInt)comp;
    zs.next_out = (Bytef *)buf;
    zs.avail_out = (uInt)n + 1;
    int z = inflate(&zs, Z_FINISH);
    if (z != Z_STREAM_END || zs.total_out != n || zs.avail_in != 0) {
        rc = gq_error_set(err, GQ_ERR_FORMAT,
                          "%s: compressed data is corrupt or truncated (zlib: %s, %lu of %llu bytes)", path,
                          zs.msg ? zs.msg : (z == Z_STREAM_END ? "trailing data" : "stream incomplete"),
                          (unsigned long)zs.total_out, (unsigned long long)n);
        goto fail;
    }
    const unsigned char *t = p + GZ_HEAD + comp;
    if (crc32_of(buf, (size_t)n) != crc || get_le(t, 4) != crc || get_le(t + 4, 4) != (n & 0xFFFFFFFFu)) {
        rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: checksum mismatch (CRC32 of %llu bytes); corrupt", path,
                          (unsigned long long)n);
        goto fail;
    }
    buf[n] = '\0';
    *data = buf;
    *n_out = (size_t)n;
    buf = NULL;
    rc = GQ_OK;
fail:
    if (zinit) inflateEnd(&zs);
    gq_free(buf);
    gq_file_unmap(&mf);
    return rc;
}

// ---- settings from the environment ----------------------------------------------------

static int hub_offline(const gq_dataset_opts *opts)
{
    return (opts && opts->offline) || gq_env_true("HF_HUB_OFFLINE") || gq_env_true("HF_DATASETS_OFFLINE");
}

static void hub_endpoint(char *out, size_t cap, const gq_dataset_opts *opts)
{
    const char *e = opts && opts->endpoint && *opts->endpoint ? opts->endpoint : getenv("HF_ENDPOINT");
    if (!e || !*e || strcmp(e, "https://huggingface.co") == 0 || strcmp(e, "https://huggingface.co/") == 0)
        e = HUB_DEFAULT_ENDPOINT;
    snprintf(out, cap, "%s", e);
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == '/') out[--n] = '\0';
}

// ---- HTTP --------------------------------------------------------------------------------

typedef struct hub_body {
    char *data;
    size_t n, cap;
    int overflow, nomem;
} hub_body;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    hub_body *b = ud;
    size_t add = size * nmemb;
    if (b->n + add + 1 > HUB_MAX_BODY) {
        b->overflow = 1;
        return 0;
    }
    if (b->n + add + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + add + 1) cap *= 2;
        char *nd = realloc(b->data, cap);
        if (!nd) {
            b->nomem = 1;
            return 0;
        }
        b->data = nd;
        b->cap = cap;
    }
    memcpy(b->data + b->n, ptr, add);
    b->n += add;
    b->data[b->n] = '\0';
    return add;
}

typedef struct hub_conn {
    CURL *curl;
    struct curl_slist *headers;
    const char *token;        /* getenv("HF_TOKEN") or NULL; never formatted */
    char endpoint[2048];
    long base_ms;
    int quiet;
} hub_conn;

static void hub_conn_close(hub_conn *c)
{
    if (c->curl) curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    c->curl = NULL;
    c->headers = NULL;
}

static int hub_conn_open(hub_conn *c, const gq_dataset_opts *opts, gq_error *err)
{
    int rc;
    memset(c, 0, sizeof *c);
    hub_endpoint(c->endpoint, sizeof c->endpoint, opts);
    c->base_ms = gq_env_long("GQLA_HUB_BACKOFF_MS", 1000, 0, HUB_MAX_WAIT_MS);
    c->quiet = opts && opts->quiet;
    c->token = gq_http_token(&rc, err);
    if (rc != GQ_OK) return rc;
    c->curl = gq_http_easy("application/json", c->token, &c->headers, err);
    if (!c->curl) return GQ_ERR_NOMEM;
    curl_easy_setopt(c->curl, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
    return GQ_OK;
}

/* " (server says: ...)" from a datasets-server error body, or "". */
#define server_error(b) server_error_into((b), (char[256]){0}, 256)
static const char *server_error_into(const hub_body *b, char *msg, size_t cap)
{
    msg[0] = '\0';
    if (!b->data) return msg;
    cJSON *j = cJSON_ParseWithLength(b->data, b->n);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (cJSON_IsString(e)) snprintf(msg, cap, " (server says: %.200s)", e->valuestring);
    cJSON_Delete(j);
    return msg;
}

/* GET url and parse the body as JSON, retrying what can be retried.
 * `what` names the request in messages ("allenai/ai2_arc/ARC-Easy/test rows 0-99"). */
static int hub_get_json(hub_conn *c, const char *url, const char *what, const char *ref,
                        cJSON **out, gq_error *err)
{
    hub_body body = {0};
    char errbuf[CURL_ERROR_SIZE];
    char last[512] = "";
    long waited = 0, delay = c->base_ms;
    int rc = GQ_ERR_NETWORK;
    *out = NULL;
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
    for (int attempt = 1;; attempt++) {
        body.n = 0;
        body.overflow = body.nomem = 0;
        errbuf[0] = '\0';
        CURLcode cc = curl_easy_perform(c->curl);
        long status = 0;
        curl_off_t retry_after = 0;
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(c->curl, CURLINFO_RETRY_AFTER, &retry_after);
        int retry = 0;
        if (body.nomem) {
            rc = gq_error_set(err, GQ_ERR_NOMEM, "%s: out of memory reading the response", what);
            goto fail;
        }
        if (body.overflow) {
            rc = gq_error_set(err, GQ_ERR_NETWORK, "%s: response larger than %zu MiB; refused", what,
                              HUB_MAX_BODY >> 20);
            goto fail;
        }
        if (cc != CURLE_OK) {
            snprintf(last, sizeof last, "%s%s%s", curl_easy_strerror(cc), errbuf[0] ? ": " : "", errbuf);
            retry = gq_http_retryable(cc);
            if (!retry) {
                rc = gq_error_set(err, GQ_ERR_NETWORK, "%s: request to %s failed: %s", what, c->endpoint, last);
                goto fail;
            }
        } else if (status == 200) {
            const char *stop = NULL;
            cJSON *j = body.data ? cJSON_ParseWithLengthOpts(body.data, body.n, &stop, 0) : NULL;
            while (j && stop && stop < body.data + body.n && (*stop == ' ' || *stop == '\n' || *stop == '\r' || *stop == '\t'))
                stop++;
            if (j && stop != body.data + body.n) {
                cJSON_Delete(j);
                j = NULL;
            }
            if (j) {
                *out = j;
                rc = GQ_OK;
                goto done;
            }
            snprintf(last, sizeof last, "HTTP 200 but the body (%zu bytes) is not complete JSON", body.n);
            retry = 1;
        } else if (status == 401 || status == 403) {
            rc = gq_error_set(err, GQ_ERR_NETWORK,
                              "%s: HTTP %ld from %s: access denied to dataset %s%s ---> HINT: %s", what, status,
                              c->endpoint, ref, server_error(&body),
                              c->token ? "HF_TOKEN is set but was refused; check that the token is valid and has "
                                         "accepted the dataset's terms on huggingface.co"
                                       : "the dataset may be gated or private: set HF_TOKEN to a Hugging Face "
                                         "access token (huggingface.co/settings/tokens)");
            goto fail;
        } else if (status == 404) {
            rc = gq_error_set(err, GQ_ERR_NETWORK,
                              "%s: HTTP 404 from %s: no dataset/config/split %s%s; check the dataset id, config "
                              "and split names (case matters)",
                              what, c->endpoint, ref, server_error(&body));
            goto fail;
        } else if (status == 429 || status >= 500) {
            snprintf(last, sizeof last, "HTTP %ld%s", status, server_error(&body));
            retry = 1;
        } else {
            rc = gq_error_set(err, GQ_ERR_NETWORK, "%s: HTTP %ld from %s%s", what, status, c->endpoint,
                              server_error(&body));
            goto fail;
        }
        /* retry */
        long wait = delay;
        if (retry_after > 0 && retry_after * 1000 > wait) wait = (long)(retry_after > 3600 ? 3600000 : retry_after * 1000);
        if (wait > HUB_MAX_WAIT_MS) wait = HUB_MAX_WAIT_MS;
        if (attempt >= HUB_MAX_ATTEMPTS || waited + wait > HUB_MAX_TOTAL_WAIT_MS) {
            rc = gq_error_set(err, GQ_ERR_NETWORK, "%s: giving up after %d attempts (%ld ms of waiting): %s", what,
                              attempt, waited, last);
            goto fail;
        }
        if (!c->quiet)
            fprintf(stderr, "gqla-eval: %s: %s; retrying in %ld ms (attempt %d of %d)\n", what, last, wait,
                    attempt + 1, HUB_MAX_ATTEMPTS);
        gq_sleep_ms(wait);
        waited += wait;
        delay = delay > HUB_MAX_WAIT_MS / 2 ? HUB_MAX_WAIT_MS : (delay > 0 ? delay * 2 : 1);
    }
done:
fail:
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
    free(body.data);
    gq_http_scrub(err, c->token);
    return rc;
}

static char *query_url(hub_conn *c, const char *path, const char *hf_id, const char *config,
                       const char *split, size_t offset, gq_error *err)
{
    char *eid = curl_easy_escape(c->curl, hf_id, 0);
    char *ecfg = config ? curl_easy_escape(c->curl, config, 0) : NULL;
    char *esp = split ? curl_easy_escape(c->curl, split, 0) : NULL;
    char *url = NULL;
    if (!eid || (config && !ecfg) || (split && !esp)) {
        gq_error_set(err, GQ_ERR_NOMEM, "out of memory building a URL");
        goto out;
    }
    size_t n = strlen(c->endpoint) + strlen(path) + strlen(eid) + (ecfg ? strlen(ecfg) : 0) +
               (esp ? strlen(esp) : 0) + 96;
    url = gq_malloc(n, "URL", err);
    if (!url) goto out;
    int w = snprintf(url, n, "%s/%s?dataset=%s", c->endpoint, path, eid);
    if (ecfg) w += snprintf(url + w, n - (size_t)w, "&config=%s", ecfg);
    if (esp) w += snprintf(url + w, n - (size_t)w, "&split=%s&offset=%zu&length=%d", esp, offset, HUB_PAGE_ROWS);
out:
    curl_free(eid);
    curl_free(ecfg);
    curl_free(esp);
    return url;
}

// ---- pages ---------------------------------------------------------------------------------

/* Appends the rows of one parsed page to b (page stays owned by the caller,
 * but its "row" objects move into b). */
static int page_rows(cJSON *page, const char *what, const char *hf_id, const char *ref,
                     size_t offset, ds_rows_builder *b, size_t *total, gq_error *err)
{
    char loc[700], where[700];
    int rc;
    const cJSON *rows, *ntot;
    rc = ds_need(page, "rows", "rows", cJSON_Array, what, &rows, err);
    if (rc == GQ_OK) rc = ds_need(page, "num_rows_total", "num_rows_total", cJSON_Number, what, &ntot, err);
    if (rc != GQ_OK) goto fail;
    if (!(ntot->valuedouble >= 0 && ntot->valuedouble <= (double)HUB_MAX_ROWS) ||
        ntot->valuedouble != (double)(size_t)ntot->valuedouble) {
        rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: field 'num_rows_total' is %g, expected a row count", what,
                          ntot->valuedouble);
        goto fail;
    }
    *total = (size_t)ntot->valuedouble;
    size_t i = 0;
    for (cJSON *e = rows->child; e; e = e->next, i++) {
        size_t idx = offset + i;
        snprintf(loc, sizeof loc, "hub %s: row %zu", ref, idx);
        snprintf(where, sizeof where, "hub %s row %zu", ref, idx);
        long row_idx;
        const cJSON *tc = cJSON_GetObjectItemCaseSensitive(e, "truncated_cells");
        rc = ds_need_int(e, "row_idx", "row_idx", 0, (long)HUB_MAX_ROWS, loc, &row_idx, err);
        if (rc == GQ_OK) rc = ds_need(e, "row", "row", cJSON_Object, loc, NULL, err);
        if (rc != GQ_OK) goto fail;
        if ((size_t)row_idx != idx) {
            rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: field 'row_idx' is %ld, expected %zu (rows out of order)",
                              loc, row_idx, idx);
            goto fail;
        }
        if (tc && cJSON_GetArraySize(tc) > 0) {
            const cJSON *first = cJSON_GetArrayItem(tc, 0);
            rc = gq_error_set(err, GQ_ERR_FORMAT,
                              "%s: the server truncated cell '%s' (too large for the rows API); cannot use "
                              "this row as sent",
                              loc, cJSON_IsString(first) ? first->valuestring : "?");
            goto fail;
        }
        cJSON *row = cJSON_DetachItemFromObjectCaseSensitive(e, "row");
        rc = ds_validate_hf_row(hf_id, row, loc, err);
        if (rc != GQ_OK) {
            cJSON_Delete(row);
            goto fail;
        }
        rc = ds_builder_add(b, row, where, err);
        if (rc != GQ_OK) goto fail;
    }
    return GQ_OK;
fail:
    return rc;
}

int ds_hub_parse_page(const char *text, size_t len, const char *what, const char *hf_id,
                      const char *ref, size_t offset, ds_rows_builder *b, size_t *total,
                      gq_error *err)
{
    cJSON *page = NULL;
    int rc = gq_json_parse(&page, text, len, what, err);
    if (rc != GQ_OK) return rc;
    rc = page_rows(page, what, hf_id, ref, offset, b, total, err);
    cJSON_Delete(page);
    return rc;
}

/* Download every page of one split into b. */
static int hub_download(hub_conn *c, const char *hf_id, const char *config, const char *split,
                        const char *ref, ds_rows_builder *b, gq_error *err)
{
    size_t total = 0, offset = 0, pages = 0;
    int have_total = 0, rc = GQ_OK;
    char what[800];
    const char *cfg = config ? config : "default";
    while (!have_total || offset < total) {
        snprintf(what, sizeof what, "%s rows %zu-%zu", ref, offset, offset + HUB_PAGE_ROWS - 1);
        char *url = query_url(c, "rows", hf_id, cfg, split, offset, err);
        if (!url) return GQ_ERR_NOMEM;
        cJSON *page = NULL;
        rc = hub_get_json(c, url, what, ref, &page, err);
        gq_free(url);
        if (rc != GQ_OK) return rc;
        size_t before = b->n, page_total = 0;
        rc = page_rows(page, what, hf_id, ref, offset, b, &page_total, err);
        cJSON_Delete(page);
        if (rc != GQ_OK) return rc;
        if (have_total && page_total != total)
            return gq_error_set(err, GQ_ERR_FORMAT,
                                "%s: num_rows_total changed from %zu to %zu during the download; try again",
                                what, total, page_total);
        total = page_total;
        have_total = 1;
        size_t got = b->n - before;
        if (got == 0 && offset < total)
            return gq_error_set(err, GQ_ERR_FORMAT, "%s: the server sent no rows at offset %zu of %zu", what,
                                offset, total);
        offset += got;
        if (offset > total)
            return gq_error_set(err, GQ_ERR_FORMAT, "%s: the server sent %zu rows but num_rows_total is %zu", what,
                                offset, total);
        if (!c->quiet)
            fprintf(stderr, "gqla-eval: %s: %zu of %zu rows\n", ref, offset, total);
        if (++pages > total / HUB_PAGE_ROWS + 2)
            return gq_error_set(err, GQ_ERR_FORMAT, "%s: too many pages for %zu rows", ref, total);
    }
    if (total == 0) return gq_error_set(err, GQ_ERR_FORMAT, "hub %s: the split has no rows", ref);
    return GQ_OK;
}

// ---- cache + download -----------------------------------------------------------------

/* Rows from a cache file; a corrupt file returns GQ_ERR_FORMAT. */
static int cache_load(const hub_paths *p, const char *hf_id, ds_rows_builder *b, gq_error *err)
{
    char *text = NULL;
    size_t n = 0;
    int rc = ds_cache_read(p->file, &text, &n, err);
    if (rc != GQ_OK) return rc;
    ds_json_array_iter it;
    cJSON *elem = NULL;
    size_t line;
    char loc[5200], where[700];
    ds_json_array_init(&it, text, n, p->file);
    while ((rc = ds_json_array_next(&it, &elem, &line, err)) == 1) {
        snprintf(loc, sizeof loc, "%s: row %zu", p->file, it.index - 1);
        snprintf(where, sizeof where, "hub %s row %zu", p->ref, it.index - 1);
        rc = ds_validate_hf_row(hf_id, elem, loc, err);
        if (rc != GQ_OK) {
            cJSON_Delete(elem);
            rc = GQ_ERR_FORMAT;
            break;
        }
        rc = ds_builder_add(b, elem, where, err);
        if (rc != GQ_OK) break;
    }
    if (rc == 0 && b->n == 0) rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: no rows", p->file);
    gq_free(text);
    return rc < 0 ? rc : GQ_OK;
}

static int cache_store(const hub_paths *p, const ds_rows_builder *b, gq_error *err)
{
    int rc = gq_mkdir_p(p->dir, err);
    if (rc == GQ_OK) rc = check_under_root(p->root, p->dir, err);
    if (rc != GQ_OK) return rc;
    char *text = cJSON_PrintUnformatted(b->arr);
    if (!text) return gq_error_set(err, GQ_ERR_NOMEM, "%s: out of memory serialising rows", p->file);
    rc = ds_cache_write(p->file, text, strlen(text), err);
    cJSON_free(text);
    return rc;
}

/* Make sure the split is in the cache; with want_rows, also return its rows. */
static int hub_get_split(gq_rows *out, const char *hf_id, const char *config, const char *split,
                         const gq_dataset_opts *opts, int want_rows, hub_conn *conn, gq_error *err)
{
    hub_paths p;
    ds_rows_builder b;
    hub_conn local;
    hub_conn *c = conn;
    int opened = 0;
    char origin[8192];
    if (out) memset(out, 0, sizeof *out);
    int rc = hub_paths_make(&p, hf_id, config, split, opts, err);
    if (rc != GQ_OK) return rc;
    rc = ds_builder_init(&b, err);
    if (rc != GQ_OK) return rc;
    int offline = hub_offline(opts);
    if (gq_path_exists(p.file)) {
        rc = check_under_root(p.root, p.dir, err);
        if (rc != GQ_OK) goto fail;
        gq_error cerr;
        gq_error_clear(&cerr);
        rc = cache_load(&p, hf_id, &b, &cerr);
        if (rc == GQ_OK) {
            snprintf(origin, sizeof origin, "cache:%s", p.file);
            goto have_rows;
        }
        if (rc != GQ_ERR_FORMAT) {
            if (err) *err = cerr;
            goto fail;
        }
        if (offline) {
            rc = gq_error_set(err, GQ_ERR_IO,
                              "the cached copy of %s is corrupt (%s) and offline mode is on (HF_HUB_OFFLINE) "
                              "---> HINT: run `gqla-eval fetch TASK` while online, or pass --data-dir",
                              p.ref, cerr.msg);
            goto fail;
        }
        if (!(opts && opts->quiet))
            fprintf(stderr, "gqla-eval: %s; fetching it again\n", cerr.msg);
        ds_builder_free(&b);
        rc = ds_builder_init(&b, err);
        if (rc != GQ_OK) return rc;
    } else if (offline) {
        rc = gq_error_set(err, GQ_ERR_IO,
                          "dataset %s is not in the cache (%s) and offline mode is on (HF_HUB_OFFLINE=1) "
                          "---> HINT: run `gqla-eval fetch TASK` while online to download it, or pass "
                          "--data-dir with the original release files",
                          p.ref, p.file);
        goto fail;
    }
    if (!c) {
        rc = hub_conn_open(&local, opts, err);
        if (rc != GQ_OK) goto fail;
        c = &local;
        opened = 1;
    }
    rc = hub_download(c, hf_id, config, split, p.ref, &b, err);
    if (rc != GQ_OK) goto fail;
    rc = cache_store(&p, &b, err);
    if (rc != GQ_OK) goto fail;
    snprintf(origin, sizeof origin, "hub:%s %s (cached in %s)", c->endpoint, p.ref, p.file);
have_rows:
    if (want_rows) {
        rc = ds_builder_finish(&b, out, origin, err);
        if (rc != GQ_OK) goto fail;
    }
    ds_builder_free(&b);
    if (opened) hub_conn_close(&local);
    return GQ_OK;
fail:
    if (c) gq_http_scrub(err, c->token);
    ds_builder_free(&b);
    if (opened) hub_conn_close(&local);
    if (out) memset(out, 0, sizeof *out);
    return rc;
}

int ds_hub_load(gq_rows *out, const char *hf_id, const char *config, const char *split,
                const gq_dataset_opts *opts, gq_error *err)
{
    return hub_get_split(out, hf_id, config, split, opts, 1, NULL, err);
}

/* split NULL: every split the server lists for (id, config); config NULL too:
 * every config's splits. */
int ds_hub_fetch(const char *hf_id, const char *config, const char *split,
                 const gq_dataset_opts *opts, gq_error *err)
{
    hub_conn c;
    cJSON *listing = NULL;
    char *url = NULL;
    char rel[600];
    int rc;
    if (split) return hub_get_split(NULL, hf_id, config, split, opts, 0, NULL, err);
    /* Check the names before any request. */
    rc = ds_hub_cache_relpath(rel, sizeof rel, hf_id, config, "x", err);
    if (rc != GQ_OK) return rc;
    if (hub_offline(opts))
        return gq_error_set(err, GQ_ERR_USAGE, "%s: cannot fetch in offline mode (HF_HUB_OFFLINE is set)", hf_id);
    rc = hub_conn_open(&c, opts, err);
    if (rc != GQ_OK) return rc;
    url = query_url(&c, "splits", hf_id, config, NULL, 0, err);
    if (!url) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    char what[700];
    snprintf(what, sizeof what, "%s splits", hf_id);
    rc = hub_get_json(&c, url, what, hf_id, &listing, err);
    if (rc != GQ_OK) goto fail;
    const cJSON *splits;
    rc = ds_need(listing, "splits", "splits", cJSON_Array, what, &splits, err);
    if (rc != GQ_OK) goto fail;
    size_t done = 0;
    for (const cJSON *s = splits->child; s; s = s->next) {
        const cJSON *cf = cJSON_GetObjectItemCaseSensitive(s, "config");
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(s, "split");
        if (!cJSON_IsString(cf) || !cJSON_IsString(sp)) {
            rc = gq_error_set(err, GQ_ERR_FORMAT, "%s: an entry lacks 'config' or 'split' strings", what);
            goto fail;
        }
        if (config && strcmp(config, cf->valuestring) != 0) continue;
        rc = hub_get_split(NULL, hf_id, cf->valuestring, sp->valuestring, opts, 0, &c, err);
        if (rc != GQ_OK) goto fail;
        done++;
    }
    if (done == 0) {
        rc = gq_error_set(err, GQ_ERR_NETWORK, "%s: the server lists no splits%s%s", hf_id,
                          config ? " for config " : "", config ? config : "");
        goto fail;
    }
    rc = GQ_OK;
fail:
    gq_http_scrub(err, c.token);
    cJSON_Delete(listing);
    gq_free(url);
    hub_conn_close(&c);
    return rc;
}
