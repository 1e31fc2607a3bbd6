/* hub_download.c — one model file from the Hub into the cache, the way
 * huggingface_hub's file_download.py fetches it:
 *
 *  1. HEAD {endpoint}/{id}/resolve/{revision}/{file} with
 *     "Accept-Encoding: identity".  Redirects that stay on the endpoint's
 *     origin (scheme, host, port) are followed; one that leaves it (the LFS
 *     CDN) is not: its response carries the metadata, and the token must not
 *     go with it (utils/_http.py, _httpx2_follow_hub_redirects_with_backoff).
 *     Metadata: X-Repo-Commit (the commit), X-Linked-Etag else ETag (the
 *     blob name: the sha256 of an LFS file, the git sha1 of a small one;
 *     quotes and W/ dropped as _normalize_etag does), X-Linked-Size else
 *     Content-Length, and the Location to GET.
 *  2. GET that location into blobs/ETAG.incomplete, appending: a file left by
 *     a cut connection (in this run or an earlier one) resumes with
 *     "Range: bytes=N-"; a server that ignores the Range (200) restarts it.
 *     Cut connections, 429 and 5xx retry with backoff ($GQLA_HUB_BACKOFF_MS,
 *     default 1000 ms, doubling, HUB_MAX_ATTEMPTS tries).  The bearer header
 *     goes to the endpoint's origin only.
 *  3. Check the size, and for a 64-hex ETag the sha256 of the whole file
 *     (libcrypto through base/sha256.h).  A mismatch deletes the partial
 *     file and fails; nothing reaches blobs/ or snapshots/.
 *  4. Rename to blobs/ETAG.  The caller links the snapshot (hub_cache.c).
 *
 * A lock file .locks/models--ORG--NAME/ETAG.lock (flock) keeps two
 * gqla-eval processes from appending to the same .incomplete file; like
 * huggingface_hub's, it is advisory.  Progress: one line per file on stderr
 * (bytes, rate, ETA), redrawn in place on a terminal, every 5 s otherwise.
 *
 * Not here: which files a model needs (hub_model.c), the layout
 * (hub_cache.c), Xet storage (the Hub serves plain HTTP as well).
 */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "gq_http.h"
#include "hub_internal.h"
#include "sha256.h"

#define HUB_DEFAULT_ENDPOINT "https://huggingface.co"
#define HUB_MAX_ATTEMPTS 6
#define HUB_MAX_REDIRECTS 10
#define HUB_MAX_WAIT_MS 30000L

// ---- connection --------------------------------------------------------------------

int hub_conn_open(hub_conn *c, const gq_hub_opts *o, gq_error *err)
{
    int rc;
    struct curl_slist *h;
    memset(c, 0, sizeof *c);
    const char *e = o && o->endpoint && *o->endpoint ? o->endpoint : getenv("HF_ENDPOINT");
    snprintf(c->endpoint, sizeof c->endpoint, "%s", e && *e ? e : HUB_DEFAULT_ENDPOINT);
    size_t n = strlen(c->endpoint);
    while (n > 0 && c->endpoint[n - 1] == '/') c->endpoint[--n] = '\0';
    c->base_ms = gq_env_long("GQLA_HUB_BACKOFF_MS", 1000, 0, HUB_MAX_WAIT_MS);
    c->quiet = o && o->quiet;
    c->token = gq_http_token(&rc, err);
    if (rc != GQ_OK) return rc;
    c->curl = gq_http_easy(NULL, c->token, &c->auth_headers, err);
    if (!c->curl) return GQ_ERR_NOMEM;
    /* identity: the sizes must be the file's (get_hf_file_metadata does the same) */
    if (!(h = curl_slist_append(c->auth_headers, "Accept-Encoding: identity"))) goto nomem;
    c->auth_headers = h;
    if (!(c->plain_headers = curl_slist_append(NULL, "Accept-Encoding: identity"))) goto nomem;
    curl_easy_setopt(c->curl, CURLOPT_MAXREDIRS, (long)HUB_MAX_REDIRECTS);
    return GQ_OK;
nomem:
    hub_conn_close(c);
    return gq_error_set(err, GQ_ERR_NOMEM, "out of memory setting up the download");
}

void hub_conn_close(hub_conn *c)
{
    if (c->curl) curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->auth_headers);
    curl_slist_free_all(c->plain_headers);
    c->curl = NULL;
    c->auth_headers = c->plain_headers = NULL;
}

/* scheme://host:port of url, lowercased, with the scheme's default port. */
static int url_origin(const char *url, char *out, size_t cap)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK;
    if (ok) {
        snprintf(out, cap, "%s://%s:%s", scheme, host, port);
        for (char *p = out; *p; p++)
            if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return ok;
}

static int same_origin(const char *a, const char *b)
{
    char oa[1200], ob[1200];
    return url_origin(a, oa, sizeof oa) && url_origin(b, ob, sizeof ob) && strcmp(oa, ob) == 0;
}

/* Location (maybe relative) against base, into out. */
static int url_join(const char *base, const char *loc, char *out, size_t cap)
{
    CURLU *u = curl_url();
    char *s = NULL;
    int ok = u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
             curl_url_set(u, CURLUPART_URL, loc, 0) == CURLUE_OK && curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK &&
             strlen(s) < cap;
    if (ok) snprintf(out, cap, "%s", s);
    curl_free(s);
    curl_url_cleanup(u);
    return ok;
}

/* Headers for a request to url: the bearer only on the endpoint's origin. */
static void use_headers(hub_conn *c, const char *url)
{
    int auth = c->token && same_origin(url, c->endpoint);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, auth ? c->auth_headers : c->plain_headers);
}

// ---- response headers --------------------------------------------------------------------

typedef struct hub_hdrs {
    char commit[64], linked_etag[HUB_ETAG_MAX + 8], etag[HUB_ETAG_MAX + 8];
    char linked_size[32], content_length[32], error_code[64], error_message[256];
    char location[HUB_PATH_MAX];
} hub_hdrs;

static void hdr_copy(char *dst, size_t cap, const char *v, size_t n)
{
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ')) n--;
    while (n > 0 && (*v == ' ' || *v == '\t')) v++, n--;
    if (n >= cap) n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
    hub_hdrs *h = ud;
    size_t n = size * nitems;
    if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) { /* a new response (after a redirect): start over */
        memset(h, 0, sizeof *h);
        return n;
    }
    const char *colon = memchr(buf, ':', n);
    if (!colon) return n;
    size_t kl = (size_t)(colon - buf);
    const char *v = colon + 1;
    size_t vl = n - kl - 1;
    static const struct { const char *name; size_t off, cap; } keys[] = {
        {"X-Repo-Commit", offsetof(hub_hdrs, commit), sizeof(((hub_hdrs *)0)->commit)},
        {"X-Linked-Etag", offsetof(hub_hdrs, linked_etag), sizeof(((hub_hdrs *)0)->linked_etag)},
        {"ETag", offsetof(hub_hdrs, etag), sizeof(((hub_hdrs *)0)->etag)},
        {"X-Linked-Size", offsetof(hub_hdrs, linked_size), sizeof(((hub_hdrs *)0)->linked_size)},
        {"Content-Length", offsetof(hub_hdrs, content_length), sizeof(((hub_hdrs *)0)->content_length)},
        {"X-Error-Code", offsetof(hub_hdrs, error_code), sizeof(((hub_hdrs *)0)->error_code)},
        {"X-Error-Message", offsetof(hub_hdrs, error_message), sizeof(((hub_hdrs *)0)->error_message)},
        {"Location", offsetof(hub_hdrs, location), sizeof(((hub_hdrs *)0)->location)},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strlen(keys[i].name) == kl && strncasecmp(buf, keys[i].name, kl) == 0)
            hdr_copy((char *)h + keys[i].off, keys[i].cap, v, vl);
    return n;
}

/* _normalize_etag: drop a leading W/ and the quotes.  The result names a
 * file, so it must be [A-Za-z0-9_-]+. */
static int etag_normalize(const char *in, char *out, size_t cap)
{
    const char *p = in;
    if (p[0] == 'W' && p[1] == '/') p += 2;
    while (*p == '"') p++;
    size_t n = strlen(p);
    while (n > 0 && p[n - 1] == '"') n--;
    if (n == 0 || n >= cap) return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '-'))
            return 0;
    }
    memcpy(out, p, n);
    out[n] = '\0';
    return 1;
}

static int is_sha256_hex(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f'))) return 0;
    return n == 64;
}

static long long parse_size(const char *s)
{
    if (!s[0]) return -1;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    return (*end == '\0' && v >= 0) ? v : -1;
}

// ---- messages ----------------------------------------------------------------------------

static const char *server_says(const hub_hdrs *h, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (h->error_message[0]) snprintf(buf, cap, " (the Hub says: %.200s)", h->error_message);
    return buf;
}

/* The message for a refusal; returns the status to hand back. */
static int status_error(hub_conn *c, const hub_repo *r, const char *rev, const char *file, long status,
                        const hub_hdrs *h, gq_error *err)
{
    char say[256];
    const char *id = r->ref.repo_id;
    server_says(h, say, sizeof say);
    if (status == 401)
        return gq_error_set(
            err, GQ_ERR_NETWORK,
            "%s/%s: HTTP 401 from %s: not authorised%s ---> HINT: %s", id, file, c->endpoint, say,
            c->token ? "HF_TOKEN is set but was refused: check that it is a valid access token with read access "
                       "(huggingface.co/settings/tokens), and the id (case matters)"
                     : "the repository is private or gated, or does not exist: set HF_TOKEN to a Hugging Face "
                       "access token (huggingface.co/settings/tokens) and check the id (case matters)");
    if (status == 403)
        return gq_error_set(err, GQ_ERR_NETWORK,
                            "%s/%s: HTTP 403 from %s: access denied%s ---> HINT: the model is gated: accept its "
                            "licence on %s/%s while logged in, and set HF_TOKEN to a token of that account%s",
                            id, file, c->endpoint, say, c->endpoint, id,
                            c->token ? " (the HF_TOKEN given was refused for this repository)" : "");
    if (status == 404) {
        if (strcasecmp(h->error_code, "EntryNotFound") == 0) return HUB_ENTRY_MISSING;
        if (strcasecmp(h->error_code, "RevisionNotFound") == 0)
            return gq_error_set(err, GQ_ERR_NETWORK,
                                "%s: HTTP 404 from %s: no revision '%s'%s ---> HINT: check the branch, tag or "
                                "commit after '@'",
                                id, c->endpoint, rev, say);
        if (h->error_code[0] == '\0') return HUB_ENTRY_MISSING; /* a plain 404: the caller decides */
        return gq_error_set(err, GQ_ERR_NETWORK,
                            "%s: HTTP 404 from %s: no such model repository%s ---> HINT: check the id "
                            "(ORG/NAME, case matters) on %s/%s",
                            id, c->endpoint, say, c->endpoint, id);
    }
    return gq_error_set(err, GQ_ERR_NETWORK, "%s/%s: HTTP %ld from %s%s", id, file, status, c->endpoint, say);
}

static long next_wait(long *delay)
{
    long w = *delay > HUB_MAX_WAIT_MS ? HUB_MAX_WAIT_MS : *delay;
    *delay = *delay > HUB_MAX_WAIT_MS / 2 ? HUB_MAX_WAIT_MS : (*delay > 0 ? *delay * 2 : 1);
    return w;
}

// ---- HEAD ---------------------------------------------------------------------------------

int hub_head(hub_conn *c, const hub_repo *r, const char *revision, const char *file, hub_meta *m, gq_error *err)
{
    char url[HUB_PATH_MAX], next[HUB_PATH_MAX], errbuf[CURL_ERROR_SIZE], say[256];
    hub_hdrs h;
    long delay = c->base_ms;
    int rc;
    memset(m, 0, sizeof *m);
    m->size = -1;
    c->unreachable = 0;
    char *erev = curl_easy_escape(c->curl, revision, 0); /* quote(revision, safe=""): refs/pr/1 -> refs%2Fpr%2F1 */
    if (!erev) return gq_error_set(err, GQ_ERR_NOMEM, "out of memory building a URL");
    int w = snprintf(url, sizeof url, "%s/%s/resolve/%s/%s", c->endpoint, r->ref.repo_id, erev, file);
    curl_free(erev);
    if (w < 0 || (size_t)w >= sizeof url) return gq_error_set(err, GQ_ERR_USAGE, "%s: URL too long", file);
    curl_easy_setopt(c->curl, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c->curl, CURLOPT_RANGE, NULL);
    curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 1L);
    int redirects = 0, attempt = 1;
    for (;;) {
        memset(&h, 0, sizeof h);
        errbuf[0] = '\0';
        curl_easy_setopt(c->curl, CURLOPT_URL, url);
        use_headers(c, url);
        c->n_requests++;
        CURLcode cc = curl_easy_perform(c->curl);
        long status = 0;
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        if (cc != CURLE_OK || status == 429 || status >= 500) {
            char what[512];
            if (cc != CURLE_OK)
                snprintf(what, sizeof what, "%s%s%s", curl_easy_strerror(cc), errbuf[0] ? ": " : "", errbuf);
            else
                snprintf(what, sizeof what, "HTTP %ld%s", status, server_says(&h, say, sizeof say));
            if ((cc != CURLE_OK && !gq_http_retryable(cc)) || attempt >= HUB_MAX_ATTEMPTS) {
                c->unreachable = 1;
                rc = gq_error_set(err, GQ_ERR_NETWORK,
                                  "%s/%s: cannot reach %s (%s, after %d attempt%s) ---> HINT: check the network "
                                  "and HF_ENDPOINT, or use a cached copy with --offline (HF_HUB_OFFLINE=1)",
                                  r->ref.repo_id, file, c->endpoint, what, attempt, attempt == 1 ? "" : "s");
                goto out;
            }
            long wait = next_wait(&delay);
            if (!c->quiet)
                fprintf(stderr, "gqla-eval: %s/%s: %s; retrying in %ld ms (attempt %d of %d)\n", r->ref.repo_id,
                        file, what, wait, attempt + 1, HUB_MAX_ATTEMPTS);
            gq_sleep_ms(wait);
            attempt++;
            continue;
        }
        if (status >= 300 && status < 400 && h.location[0]) {
            if (!url_join(url, h.location, next, sizeof next)) {
                rc = gq_error_set(err, GQ_ERR_NETWORK, "%s/%s: HTTP %ld with an unusable Location", r->ref.repo_id,
                                  file, status);
                goto out;
            }
            if (same_origin(url, next)) {
                if (++redirects > HUB_MAX_REDIRECTS) {
                    rc = gq_error_set(err, GQ_ERR_NETWORK, "%s/%s: more than %d redirects from %s", r->ref.repo_id,
                                      file, HUB_MAX_REDIRECTS, c->endpoint);
                    goto out;
                }
                snprintf(url, sizeof url, "%s", next);
                continue;
            }
            snprintf(m->location, sizeof m->location, "%s", next); /* the CDN: metadata is on this response */
        } else if (status == 200) {
            snprintf(m->location, sizeof m->location, "%s", url);
        } else {
            rc = status_error(c, r, revision, file, status, &h, err);
            goto out;
        }
        break;
    }
    if (!hub_is_commit(h.commit)) {
        rc = gq_error_set(err, GQ_ERR_NETWORK,
                          "%s/%s: the response from %s has no X-Repo-Commit commit hash; is HF_ENDPOINT a Hugging "
                          "Face Hub?",
                          r->ref.repo_id, file, c->endpoint);
        goto out;
    }
    memcpy(m->commit, h.commit, HUB_COMMIT_LEN + 1);
    if (!etag_normalize(h.linked_etag[0] ? h.linked_etag : h.etag, m->etag, sizeof m->etag)) {
        rc = gq_error_set(err, GQ_ERR_NETWORK, "%s/%s: the response from %s has no usable ETag (got '%.80s')",
                          r->ref.repo_id, file, c->endpoint, h.linked_etag[0] ? h.linked_etag : h.etag);
        goto out;
    }
    m->size = parse_size(h.linked_size);
    if (m->size < 0 && !(h.location[0])) m->size = parse_size(h.content_length);
    rc = GQ_OK;
out:
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, NULL);
    curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, NULL);
    gq_http_scrub(err, c->token);
    return rc;
}

// ---- GET ----------------------------------------------------------------------------------

typedef struct hub_sink {
    CURL *curl;
    FILE *f;
    long long resume;       /* bytes on disk when this request began */
    long long got;          /* bytes written by this request */
    int checked, restart;   /* status looked at; 200 to a Range: start the file over */
    int write_failed;
    long status;
    char body[512];         /* the start of an error response */
    size_t body_n;
} hub_sink;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    hub_sink *s = ud;
    size_t n = size * nmemb;
    if (!s->checked) {
        curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->status);
        s->checked = 1;
        if (s->status == 200 && s->resume > 0) { /* the server ignored the Range */
            if (fflush(s->f) != 0 || ftruncate(fileno(s->f), 0) != 0 || fseek(s->f, 0, SEEK_SET) != 0) {
                s->write_failed = errno ? errno : EIO;
                return 0;
            }
            s->restart = 1;
            s->resume = 0;
        }
    }
    if (s->status != 200 && s->status != 206) {
        size_t k = n < sizeof s->body - 1 - s->body_n ? n : sizeof s->body - 1 - s->body_n;
        memcpy(s->body + s->body_n, ptr, k);
        s->body_n += k;
        s->body[s->body_n] = '\0';
        return n;
    }
    if (fwrite(ptr, 1, n, s->f) != n) {
        s->write_failed = errno ? errno : EIO;
        return 0;
    }
    s->got += (long long)n;
    return n;
}

typedef struct hub_progress {
    const char *id, *file;
    long long total, base;  /* expected size (-1 unknown); bytes on disk before this run */
    const long long *done;  /* bytes on disk now (sink) */
    double t0, last;
    int tty, quiet, printed;
} hub_progress;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void human(double b, char *out, size_t cap)
{
    if (b < 1e6) snprintf(out, cap, "%.1f kB", b / 1e3);
    else if (b < 1e9) snprintf(out, cap, "%.1f MB", b / 1e6);
    else snprintf(out, cap, "%.2f GB", b / 1e9);
}

/* "gqla-eval: ORG/NAME FILE: 120.5 MB of 269.1 MB (44%), 35.2 MB/s, ETA 4 s" */
static void progress_line(hub_progress *p, long long have, int final)
{
    double t = now_s(), dt = t - p->t0;
    double rate = dt > 0 ? (double)(have - p->base) / dt : 0.0;
    char eta[32] = "", h[32], tot[32], r[32];
    if (!final && p->total > 0 && rate > 0) snprintf(eta, sizeof eta, ", ETA %.0f s", (double)(p->total - have) / rate);
    human((double)have, h, sizeof h);
    human(rate, r, sizeof r);
    if (p->total > 0) {
        human((double)p->total, tot, sizeof tot);
        fprintf(stderr, "%sgqla-eval: %s %s: %s of %s (%.0f%%), %s/s%s%s", p->tty ? "\r" : "", p->id, p->file, h,
                tot, 100.0 * (double)have / (double)p->total, r, eta, p->tty ? "\033[K" : "\n");
    } else {
        fprintf(stderr, "%sgqla-eval: %s %s: %s, %s/s%s", p->tty ? "\r" : "", p->id, p->file, h, r,
                p->tty ? "\033[K" : "\n");
    }
    if (final && p->tty) fputc('\n', stderr);
    p->printed = 1;
    p->last = t;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    hub_progress *p = ud;
    if (p->quiet) return 0;
    double t = now_s();
    if (t - p->last >= (p->tty ? 0.25 : 5.0)) progress_line(p, *p->done, 0);
    return 0;
}

static int hash_file(const char *path, char hex[65], long long *size, gq_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return gq_error_set(err, GQ_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = (size_t)1 << 20, n;
    unsigned char *buf = malloc(cap), d[32];
    if (!buf) {
        fclose(f);
        return gq_error_set(err, GQ_ERR_NOMEM, "out of memory hashing %s", path);
    }
    gq_sha256 c;
    gq_sha256_init(&c);
    *size = 0;
    while ((n = fread(buf, 1, cap, f)) > 0) {
        gq_sha256_update(&c, buf, n);
        *size += (long long)n;
    }
    int bad = ferror(f);
    fclose(f);
    free(buf);
    if (bad) return gq_error_set(err, GQ_ERR_IO, "%s: read error while hashing", path);
    gq_sha256_final(&c, d);
    gq_sha256_to_hex(d, hex);
    return GQ_OK;
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* The transfer into `part`, resuming and retrying; GQ_OK when the server sent
 * the rest of the file. */
static int get_into(hub_conn *c, const hub_repo *r, const char *file, const hub_meta *m, const char *part,
                    gq_error *err)
{
    char errbuf[CURL_ERROR_SIZE], range[48];
    long delay = c->base_ms;
    int rc = GQ_ERR_NETWORK;
    hub_sink s;
    hub_progress p = {r->ref.repo_id, file, m->size, 0, &s.got, 0, 0, isatty(2), c->quiet, 0};
    long long base0 = file_size(part);
    p.base = base0 > 0 ? base0 : 0;
    p.t0 = p.last = now_s();
    curl_easy_setopt(c->curl, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 1L); /* curl keeps a custom Authorization to the first host */
    curl_easy_setopt(c->curl, CURLOPT_URL, m->location);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, &p);
    use_headers(c, m->location);
    for (int attempt = 1;; attempt++) {
        memset(&s, 0, sizeof s);
        s.curl = c->curl;
        s.f = fopen(part, "ab");
        if (!s.f) {
            rc = gq_error_set(err, GQ_ERR_IO, "%s: cannot write: %s", part, strerror(errno));
            goto out;
        }
        s.resume = (long long)ftell(s.f);
        if (s.resume < 0) s.resume = 0;
        if (m->size >= 0 && s.resume == m->size) { /* complete already (an earlier run was cut after the last byte) */
            fclose(s.f);
            rc = GQ_OK;
            goto out;
        }
        if (m->size >= 0 && s.resume > m->size) { /* longer than the file: start over */
            if (ftruncate(fileno(s.f), 0) != 0) {
                rc = gq_error_set(err, GQ_ERR_IO, "%s: cannot truncate: %s", part, strerror(errno));
                fclose(s.f);
                goto out;
            }
            s.resume = 0;
        }
        s.got = s.resume; /* the progress line counts bytes on disk */
        long long start = s.resume;
        if (start > 0) {
            snprintf(range, sizeof range, "%lld-", start);
            curl_easy_setopt(c->curl, CURLOPT_RANGE, range);
            if (!c->quiet)
                fprintf(stderr, "gqla-eval: %s %s: resuming at %.1f MB (Range: bytes=%s)\n", r->ref.repo_id, file,
                        (double)start / 1e6, range);
        } else {
            curl_easy_setopt(c->curl, CURLOPT_RANGE, NULL);
        }
        errbuf[0] = '\0';
        c->n_requests++;
        CURLcode cc = curl_easy_perform(c->curl);
        long status = 0;
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        int wf = s.write_failed;
        if (fclose(s.f) != 0 && !wf) wf = errno ? errno : EIO;
        if (wf) {
            rc = gq_error_set(err, GQ_ERR_IO, "%s: write failed: %s (disk full?)", part, strerror(wf));
            goto out;
        }
        if (cc == CURLE_OK && (status == 200 || status == 206)) {
            rc = GQ_OK;
            goto out;
        }
        if (cc == CURLE_OK && status == 416) { /* nothing after our offset: the size decides below */
            rc = GQ_OK;
            goto out;
        }
        char what[600];
        if (cc != CURLE_OK)
            snprintf(what, sizeof what, "%s%s%s", curl_easy_strerror(cc), errbuf[0] ? ": " : "", errbuf);
        else
            snprintf(what, sizeof what, "HTTP %ld", status);
        int retry = (cc != CURLE_OK && gq_http_retryable(cc)) || (cc == CURLE_OK && (status == 429 || status >= 500));
        if (!retry) {
            if (cc == CURLE_OK) {
                hub_hdrs none;
                memset(&none, 0, sizeof none);
                rc = status_error(c, r, m->commit, file, status, &none, err);
                if (rc == HUB_ENTRY_MISSING)
                    rc = gq_error_set(err, GQ_ERR_NETWORK, "%s/%s: HTTP 404 from %s while downloading", r->ref.repo_id,
                                      file, m->location);
            } else {
                rc = gq_error_set(err, GQ_ERR_NETWORK, "%s/%s: download failed: %s", r->ref.repo_id, file, what);
            }
            goto out;
        }
        if (attempt >= HUB_MAX_ATTEMPTS) {
            rc = gq_error_set(err, GQ_ERR_NETWORK,
                              "%s/%s: download failed after %d attempts (%s); %.1f MB kept in %s ---> HINT: run the "
                              "same command again to resume",
                              r->ref.repo_id, file, attempt, what, (double)file_size(part) / 1e6, part);
            goto out;
        }
        long wait = next_wait(&delay);
        if (!c->quiet) {
            if (p.printed && p.tty) fputc('\n', stderr);
            fprintf(stderr, "gqla-eval: %s %s: %s after %.1f MB; resuming in %ld ms (attempt %d of %d)\n",
                    r->ref.repo_id, file, what, (double)s.got / 1e6, wait, attempt + 1, HUB_MAX_ATTEMPTS);
        }
        gq_sleep_ms(wait);
    }
out:
    if (!c->quiet && rc == GQ_OK) progress_line(&p, file_size(part), 1);
    curl_easy_setopt(c->curl, CURLOPT_RANGE, NULL);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, NULL);
    curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 1L);
    return rc;
}

int hub_get_blob(hub_conn *c, const hub_repo *r, const char *file, const hub_meta *m, gq_error *err)
{
    char blob[HUB_PATH_MAX], part[HUB_PATH_MAX], lock[HUB_PATH_MAX], dir[HUB_PATH_MAX], hex[65];
    int lfd = -1, rc;
    rc = hub_cache_blob_path(r, m->etag, "", blob, sizeof blob, err);
    if (rc == GQ_OK) rc = hub_cache_blob_path(r, m->etag, ".incomplete", part, sizeof part, err);
    if (rc != GQ_OK) return rc;
    if (gq_path_exists(blob)) return GQ_OK; /* another snapshot has these bytes */
    snprintf(dir, sizeof dir, "%s/blobs", r->dir);
    rc = gq_mkdir_p(dir, err);
    if (rc == GQ_OK) rc = hub_check_under(r->root, dir, err);
    int w = snprintf(lock, sizeof lock, "%s/.locks/%s", r->root, r->folder);
    if (rc == GQ_OK && (w < 0 || (size_t)w >= sizeof lock)) rc = gq_error_set(err, GQ_ERR_USAGE, "lock path too long");
    if (rc == GQ_OK) rc = gq_mkdir_p(lock, err);
    if (rc != GQ_OK) return rc;
    size_t ll = strlen(lock);
    snprintf(lock + ll, sizeof lock - ll, "/%s.lock", m->etag);
    lfd = open(lock, O_RDWR | O_CREAT, 0644);
    if (lfd < 0) return gq_error_set(err, GQ_ERR_IO, "%s: cannot create the lock file: %s", lock, strerror(errno));
    if (flock(lfd, LOCK_EX | LOCK_NB) != 0) {
        if (!c->quiet) fprintf(stderr, "gqla-eval: %s %s: another process is downloading it; waiting\n", r->ref.repo_id, file);
        if (flock(lfd, LOCK_EX) != 0) {
            rc = gq_error_set(err, GQ_ERR_IO, "%s: cannot lock: %s", lock, strerror(errno));
            goto out;
        }
    }
    if (gq_path_exists(blob)) goto out; /* it finished while we waited */
    rc = get_into(c, r, file, m, part, err);
    if (rc != GQ_OK) goto out;
    long long got = 0;
    rc = hash_file(part, hex, &got, err);
    if (rc != GQ_OK) goto out;
    if (m->size >= 0 && got != m->size) {
        unlink(part);
        rc = gq_error_set(err, GQ_ERR_NETWORK,
                          "%s/%s: downloaded %lld bytes but the Hub states %lld; the partial file was deleted "
                          "---> HINT: run the command again",
                          r->ref.repo_id, file, got, m->size);
        goto out;
    }
    if (is_sha256_hex(m->etag) && strcmp(hex, m->etag) != 0) {
        unlink(part);
        rc = gq_error_set(err, GQ_ERR_NETWORK,
                          "%s/%s: sha256 mismatch: the Hub states %s (X-Linked-Etag) but the %lld bytes received "
                          "hash to %s; the file was rejected and deleted ---> HINT: run the command again; if it "
                          "persists, a proxy or the mirror at %s serves wrong bytes",
                          r->ref.repo_id, file, m->etag, got, hex, c->endpoint);
        goto out;
    }
    chmod(part, 0644);
    if (rename(part, blob) != 0) {
        rc = gq_error_set(err, GQ_ERR_IO, "%s: cannot rename to %s: %s", part, blob, strerror(errno));
        goto out;
    }
    if (!c->quiet && is_sha256_hex(m->etag))
        fprintf(stderr, "gqla-eval: %s %s: sha256 ok\n", r->ref.repo_id, file);
out:
    if (lfd >= 0) close(lfd); /* releases the flock */
    gq_http_scrub(err, c->token);
    return rc;
}
