/* test_datasets_hub.c — the Hub download of datasets/hub.c against a small
 * HTTP server this test runs on 127.0.0.1 (a thread; port 0 -> the bound
 * port; bounded loops; it stops by itself after SRV_DEADLINE_S).  The server
 * answers datasets-server /rows and /splits requests with pages of invented
 * PIQA-shaped rows and misbehaves as each case asks.
 *
 * Usage: test_datasets_hub CASE (one ctest entry per case, tests/datasets.cmake).
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dataset.h"
#include "ds_internal.h"
#include "testutil.h"

#define SRV_DEADLINE_S 45
#define TOKEN "hf_TESTtoken_0123456789abcdef"

// ---- the server -------------------------------------------------------------------

typedef enum {
    MODE_OK,
    MODE_DROP_ONCE,     /* first request at offset 100: half a body, then close */
    MODE_429_503,       /* first request 429, second 503, then OK */
    MODE_503_ALWAYS,
    MODE_STALL_ONCE,    /* first request: no answer for 1.2 s, then close */
    MODE_401_ECHO,      /* 401 whose error body echoes the Authorization header */
    MODE_NEED_BEARER,   /* 401 unless "Authorization: Bearer TOKEN" */
    MODE_404,
} srv_mode;

typedef struct srv {
    int fd, port;
    pthread_t th;
    pthread_mutex_t mu;
    int stop;
    srv_mode mode;
    size_t total;           /* rows in the split */
    int requests;           /* all requests answered or dropped */
    int bearer_seen;        /* requests carrying the expected bearer header */
    int bad_auth_seen;      /* requests with some other Authorization header */
} srv;

static srv S;

static int srv_get(int *field)
{
    pthread_mutex_lock(&S.mu);
    int v = *field;
    pthread_mutex_unlock(&S.mu);
    return v;
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

static void respond(int fd, int status, const char *body, size_t send_body)
{
    char head[256];
    const char *reason = status == 200 ? "OK" : status == 401 ? "Unauthorized" : status == 404 ? "Not Found"
                         : status == 429 ? "Too Many Requests" : "Service Unavailable";
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, reason, strlen(body));
    send_all(fd, head, (size_t)n);
    send_all(fd, body, send_body);
}

static size_t query_num(const char *q, const char *key, size_t dflt)
{
    const char *p = strstr(q, key);
    return p ? (size_t)strtoul(p + strlen(key), NULL, 10) : dflt;
}

/* Page body for rows [off, off+len) of S.total. */
static char *page_body(size_t off, size_t len)
{
    size_t cap = 256 + len * 160, used = 0;
    char *b = malloc(cap);
    if (!b) return NULL;
    used += (size_t)snprintf(b + used, cap - used,
                             "{\"features\":[{\"feature_idx\":0,\"name\":\"goal\",\"type\":{\"dtype\":\"string\","
                             "\"_type\":\"Value\"}}],\"rows\":[");
    for (size_t i = off; i < off + len && i < S.total; i++)
        used += (size_t)snprintf(b + used, cap - used,
                                 "%s{\"row_idx\":%zu,\"row\":{\"goal\":\"goal %zu\",\"sol1\":\"first %zu\","
                                 "\"sol2\":\"second \\u00e9 %zu\",\"label\":%zu},\"truncated_cells\":[]}",
                                 i == off ? "" : ",", i, i, i, i, i % 2);
    snprintf(b + used, cap - used, "],\"num_rows_total\":%zu,\"num_rows_per_page\":100,\"partial\":false}", S.total);
    return b;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void handle(int fd)
{
    char req[8192];
    size_t n = 0;
    /* Read the request head (bounded in size and time). */
    for (int tries = 0; tries < 40 && n < sizeof req - 1; tries++) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        ssize_t r = recv(fd, req + n, sizeof req - 1 - n, 0);
        if (r <= 0) break;
        n += (size_t)r;
        req[n] = '\0';
        if (strstr(req, "\r\n\r\n")) break;
    }
    req[n] = '\0';
    pthread_mutex_lock(&S.mu);
    int k = S.requests++;
    const char *auth = strstr(req, "\r\nAuthorization: ");
    int bearer = strstr(req, "\r\nAuthorization: Bearer " TOKEN "\r\n") != NULL;
    if (bearer) S.bearer_seen++;
    else if (auth) S.bad_auth_seen++;
    srv_mode mode = S.mode;
    pthread_mutex_unlock(&S.mu);

    char *body = NULL;
    if (mode == MODE_429_503 && k < 2) {
        respond(fd, k == 0 ? 429 : 503, "{\"error\":\"slow down\"}", 21);
        return;
    }
    if (mode == MODE_503_ALWAYS) {
        respond(fd, 503, "{\"error\":\"The response is not ready yet.\"}", 42);
        return;
    }
    if (mode == MODE_STALL_ONCE && k == 0) {
        for (int i = 0; i < 12 && !S.stop; i++) sleep_ms(100);
        return;
    }
    if (mode == MODE_401_ECHO) {
        char b[512];
        const char *a = auth ? auth + 2 : "none";
        const char *e = strstr(a, "\r\n");
        snprintf(b, sizeof b, "{\"error\":\"refused %.*s\"}", (int)(e ? e - a : 20), a);
        respond(fd, 401, b, strlen(b));
        return;
    }
    if (mode == MODE_NEED_BEARER && !bearer) {
        respond(fd, 401, "{\"error\":\"auth required\"}", 25);
        return;
    }
    if (mode == MODE_404) {
        respond(fd, 404, "{\"error\":\"Not found.\"}", 22);
        return;
    }
    if (strncmp(req, "GET /splits?", 12) == 0) {
        const char *b = "{\"splits\":[{\"dataset\":\"baber/piqa\",\"config\":\"default\",\"split\":\"train\"},"
                        "{\"dataset\":\"baber/piqa\",\"config\":\"default\",\"split\":\"validation\"}],"
                        "\"pending\":[],\"failed\":[]}";
        respond(fd, 200, b, strlen(b));
        return;
    }
    if (strncmp(req, "GET /rows?", 10) != 0 || !strstr(req, "dataset=baber%2Fpiqa") || !strstr(req, "config=default")) {
        respond(fd, 404, "{\"error\":\"unknown\"}", 19);
        return;
    }
    size_t off = query_num(req, "offset=", 0), len = query_num(req, "length=", 100);
    body = page_body(off, len > 100 ? 100 : len);
    if (!body) return;
    size_t bl = strlen(body);
    if (mode == MODE_DROP_ONCE && off == 100 && k <= 1) respond(fd, 200, body, bl / 2);
    else respond(fd, 200, body, bl);
    free(body);
}

static void *srv_main(void *arg)
{
    (void)arg;
    time_t t0 = time(NULL);
    while (time(NULL) - t0 < SRV_DEADLINE_S) {
        pthread_mutex_lock(&S.mu);
        int stop = S.stop;
        pthread_mutex_unlock(&S.mu);
        if (stop) break;
        struct pollfd p = {S.fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        int c = accept(S.fd, NULL, NULL);
        if (c < 0) continue;
        handle(c);
        shutdown(c, SHUT_WR);
        close(c);
    }
    return NULL;
}

static int srv_start(srv_mode mode, size_t total)
{
    memset(&S, 0, sizeof S);
    pthread_mutex_init(&S.mu, NULL);
    S.mode = mode;
    S.total = total;
    S.fd = socket(AF_INET, SOCK_STREAM, 0);
    if (S.fd < 0) return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t al = sizeof a;
    if (bind(S.fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(S.fd, 16) != 0 ||
        getsockname(S.fd, (struct sockaddr *)&a, &al) != 0) {
        close(S.fd);
        return -1;
    }
    S.port = ntohs(a.sin_port);
    if (pthread_create(&S.th, NULL, srv_main, NULL) != 0) {
        close(S.fd);
        return -1;
    }
    char ep[64];
    snprintf(ep, sizeof ep, "http://127.0.0.1:%d", S.port);
    setenv("HF_ENDPOINT", ep, 1);
    return 0;
}

static void srv_stop(void)
{
    pthread_mutex_lock(&S.mu);
    S.stop = 1;
    pthread_mutex_unlock(&S.mu);
    pthread_join(S.th, NULL);
    close(S.fd);
    pthread_mutex_destroy(&S.mu);
}

// ---- helpers -----------------------------------------------------------------------

static char cache_root[4096];

static int has(const char *hay, const char *needle) { return hay && strstr(hay, needle) != NULL; }

static int load(gq_rows *r, const char *id, const char *cfg, const char *split, gq_error *err)
{
    gq_dataset_opts o = {0};
    gq_error_clear(err);
    int rc = gq_dataset_load(r, id, cfg, split, &o, err);
    printf("  load %s/%s/%s -> %d %s\n", id, cfg ? cfg : "-", split, rc, rc ? err->msg : (r->origin ? r->origin : ""));
    return rc;
}

static const char *cache_file(const char *split)
{
    static char p[8192];
    snprintf(p, sizeof p, "%s/gqla-eval/datasets/baber/piqa/default/%s.json.gz", cache_root, split);
    return p;
}

static void check_rows(const gq_rows *r, size_t want)
{
    char what[128];
    snprintf(what, sizeof what, "%zu rows", want);
    test_cond(what, r->n == want && (size_t)cJSON_GetArraySize(r->rows) == want);
    if (r->n != want || want == 0) return;
    const cJSON *last = cJSON_GetArrayItem(r->rows, (int)want - 1);
    char goal[64];
    snprintf(goal, sizeof goal, "goal %zu", want - 1);
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(last, "goal");
    test_cond("last row's goal", cJSON_IsString(g) && strcmp(g->valuestring, goal) == 0);
    const cJSON *s2 = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(r->rows, 0), "sol2");
    test_cond("escaped UTF-8 decoded", cJSON_IsString(s2) && strcmp(s2->valuestring, "second \xC3\xA9 0") == 0);
    snprintf(goal, sizeof goal, "row %zu", want - 1);
    test_cond("where names the hub row", has(r->where[want - 1], "hub baber/piqa/default/validation") &&
                                            has(r->where[want - 1], goal));
}

// ---- cases -------------------------------------------------------------------------

static void case_pagination(void)
{
    if (srv_start(MODE_OK, 250) != 0) return (void)test_cond("server started", 0);
    gq_rows r;
    gq_error err;
    int rc = load(&r, "baber/piqa", NULL, "validation", &err);
    test_cond("pagination: load", rc == GQ_OK);
    check_rows(&r, 250);
    test_cond("pagination: 3 requests for 250 rows", srv_get(&S.requests) == 3);
    test_cond("pagination: cache file written", access(cache_file("validation"), R_OK) == 0);
    test_cond("pagination: origin names the hub", has(r.origin, "hub:"));
    gq_rows_free(&r);
    rc = load(&r, "baber/piqa", NULL, "validation", &err);
    test_cond("pagination: second load from the cache", rc == GQ_OK && srv_get(&S.requests) == 3 && has(r.origin, "cache:"));
    check_rows(&r, 250);
    gq_rows_free(&r);
    srv_stop();
}

static void case_dropped_connection(void)
{
    if (srv_start(MODE_DROP_ONCE, 250) != 0) return (void)test_cond("server started", 0);
    gq_rows r;
    gq_error err;
    int rc = load(&r, "baber/piqa", NULL, "validation", &err);
    test_cond("dropped: load succeeds after a retry", rc == GQ_OK);
    check_rows(&r, 250);
    test_cond("dropped: 4 requests (one retried)", srv_get(&S.requests) == 4);
    gq_rows_free(&r);
    srv_stop();
}

static void case_rate_limited(void)
{
    if (srv_start(MODE_429_503, 50) != 0) return (void)test_cond("server started", 0);
    gq_rows r;
    gq_error err;
    int rc = load(&r, "baber/piqa", NULL, "validation", &err);
    test_cond("429/503: load succeeds after backoff", rc == GQ_OK);
    check_rows(&r, 50);
    test_cond("429/503: 3 requests", srv_get(&S.requests) == 3);
    gq_rows_free(&r);
    srv_stop();
}

static void case_server_error(void)
{
    if (srv_start(MODE_503_ALWAYS, 50) != 0) return (void)test_cond("server started", 0);
    gq_rows r;
    gq_error err;
    int rc = load(&r, "baber/piqa", NULL, "validation", &err);
    test_cond("503 forever: network error", rc == GQ_ERR_NETWORK && r.rows == NULL);
    test_cond("503 forever: says it gave up", has(err.msg, "giving up after 8 attempts") && has(err.msg, "HTTP 503"));
    test_cond("503 forever: server's reason shown", has(err.msg, "not ready yet"));
    test_cond("503 forever: 8 attempts", srv_get(&S.requests) == 8);
    test_cond("503 forever: no cache file", access(cache_file("validation"), F_OK) != 0);
    srv_stop();
}

static void case_timeout(void)
{
    setenv("GQLA_HUB_TIMEOUT_MS", "300", 1);
    if (srv_start(MODE_STALL_ONCE, 20) != 0) return (void)test_cond("server started", 0);
    gq_rows r;
    gq_error err;
    int rc = load(&r, "baber/piqa", NULL, "validation", &err);
    test_cond("timeout: load succeeds after a retry", rc == GQ_OK);
    check_rows(&r, 20);
    test_cond("timeout: at least 2 requests", srv_get(&S.requests) >= 2);
    gq_rows_free(&r);
    srv_stop();
    unsetenv("GQLA_HUB_TIMEOUT_MS");
}

static void case_unauthorized(void)
{
    if (srv_start(MODE_401_ECHO, 20) != 0) return (void)test_cond("server started", 0);
    gq_rows r;
    gq_error err;
    setenv("HF_TOKEN", TOKEN, 1);
    int rc = load(&r, "baber/piqa", NULL, "validation", &err);
    test_cond("401: network error", rc == GQ_ERR_NETWORK);
    test_cond("401: mentions HF_TOKEN", has(err.msg, "HF_TOKEN"));
    test_cond("401: token value never in the message (server echoed it)", !has(err.msg, TOKEN) && !has(err.msg, "0123456789abcdef"));
    test_cond("401: server did echo something", has(err.msg, "refused Authorization: Bearer ***"));
    test_cond("401: not retried", srv_get(&S.requests) == 1);
    unsetenv("HF_TOKEN");
    rc = load(&r, "baber/piqa", NULL, "validation", &err);
    test_cond("401 without a token: tells to set HF_TOKEN", rc == GQ_ERR_NETWORK && has(err.msg, "set HF_TOKEN"));
    srv_stop();
}

static void case_bearer_token(void)
{
    if (srv_start(MODE_NEED_BEARER, 120) != 0) return (void)test_cond("server started", 0);
    gq_rows r;
    gq_error err;
    setenv("HF_TOKEN", TOKEN, 1);
    int rc = load(&r, "baber/piqa", NULL, "validation", &err);
    test_cond("bearer: load succeeds", rc == GQ_OK);
    check_rows(&r, 120);
    test_cond("bearer: every request carried the header", srv_get(&S.bearer_seen) == 2 && srv_get(&S.bad_auth_seen) == 0);
    test_cond("bearer: origin has no token", !has(r.origin, TOKEN));
    gq_rows_free(&r);
    unsetenv("HF_TOKEN");
    srv_stop();
}

static void case_not_found(void)
{
    if (srv_start(MODE_404, 20) != 0) return (void)test_cond("server started", 0);
    gq_rows r;
    gq_error err;
    int rc = load(&r, "baber/piqa", "nope", "validation", &err);
    test_cond("404: network error", rc == GQ_ERR_NETWORK);
    test_cond("404: names dataset/config/split", has(err.msg, "baber/piqa/nope/validation") && has(err.msg, "404"));
    test_cond("404: not retried", srv_get(&S.requests) == 1);
    srv_stop();
}

static void case_corrupt_cache(void)
{
    if (srv_start(MODE_OK, 150) != 0) return (void)test_cond("server started", 0);
    gq_rows r;
    gq_error err;
    int rc = load(&r, "baber/piqa", NULL, "validation", &err);
    test_cond("corrupt: first load", rc == GQ_OK && srv_get(&S.requests) == 2);
    gq_rows_free(&r);
    size_t n = 0;
    char *raw = test_read_file(cache_file("validation"), &n);
    test_cond("corrupt: cache read", raw != NULL && n > 40);
    if (!raw) return srv_stop();
    test_write_file(cache_file("validation"), raw, n / 2);   /* truncated */
    rc = load(&r, "baber/piqa", NULL, "validation", &err);
    test_cond("corrupt: truncated cache re-fetched", rc == GQ_OK && srv_get(&S.requests) == 4);
    check_rows(&r, 150);
    gq_rows_free(&r);
    raw[n - 20] ^= 0x10;                                      /* one flipped bit */
    test_write_file(cache_file("validation"), raw, n);
    rc = load(&r, "baber/piqa", NULL, "validation", &err);
    test_cond("corrupt: flipped bit re-fetched", rc == GQ_OK && srv_get(&S.requests) == 6);
    gq_rows_free(&r);
    rc = load(&r, "baber/piqa", NULL, "validation", &err);
    test_cond("corrupt: re-fetched copy is good", rc == GQ_OK && srv_get(&S.requests) == 6);
    gq_rows_free(&r);
    /* Offline with a corrupt cache: a clear error, no request. */
    test_write_file(cache_file("validation"), "garbage", 7);
    setenv("HF_HUB_OFFLINE", "1", 1);
    rc = load(&r, "baber/piqa", NULL, "validation", &err);
    test_cond("corrupt + offline: error", rc == GQ_ERR_IO && has(err.msg, "corrupt") && has(err.msg, "gqla-eval fetch"));
    test_cond("corrupt + offline: no request", srv_get(&S.requests) == 6);
    unsetenv("HF_HUB_OFFLINE");
    free(raw);
    srv_stop();
}

static void case_offline_empty(void)
{
    if (srv_start(MODE_OK, 20) != 0) return (void)test_cond("server started", 0);
    gq_rows r;
    gq_error err;
    setenv("HF_HUB_OFFLINE", "1", 1);
    int rc = load(&r, "baber/piqa", NULL, "validation", &err);
    test_cond("offline: error", rc == GQ_ERR_IO && r.rows == NULL);
    test_cond("offline: tells what to run", has(err.msg, "gqla-eval fetch") && has(err.msg, "--data-dir"));
    test_cond("offline: names the split", has(err.msg, "baber/piqa/default/validation"));
    unsetenv("HF_HUB_OFFLINE");
    gq_dataset_opts o = {0};
    o.offline = 1;
    rc = gq_dataset_load(&r, "baber/piqa", NULL, "validation", &o, &err);
    test_cond("opts.offline: same error", rc == GQ_ERR_IO && has(err.msg, "gqla-eval fetch"));
    rc = gq_dataset_fetch("baber/piqa", NULL, "validation", &o, &err);
    test_cond("fetch offline: error", rc != GQ_OK);
    test_cond("offline: no request made", srv_get(&S.requests) == 0);
    srv_stop();
}

static void case_offline_cached(void)
{
    if (srv_start(MODE_OK, 230) != 0) return (void)test_cond("server started", 0);
    gq_error err;
    gq_error_clear(&err);
    gq_dataset_opts o = {0};
    o.quiet = 1;
    int rc = gq_dataset_fetch("baber/piqa", NULL, "validation", &o, &err);
    test_cond("fetch: ok", rc == GQ_OK && srv_get(&S.requests) == 3);
    rc = gq_dataset_fetch("baber/piqa", NULL, "validation", &o, &err);
    test_cond("fetch again: nothing downloaded", rc == GQ_OK && srv_get(&S.requests) == 3);
    setenv("HF_HUB_OFFLINE", "1", 1);
    gq_rows r;
    rc = load(&r, "baber/piqa", NULL, "validation", &err);
    test_cond("offline with cache: load", rc == GQ_OK && srv_get(&S.requests) == 3);
    check_rows(&r, 230);
    gq_rows_free(&r);
    unsetenv("HF_HUB_OFFLINE");
    srv_stop();
}

static void case_bad_id(void)
{
    if (srv_start(MODE_OK, 20) != 0) return (void)test_cond("server started", 0);
    static const char *const ids[][3] = {
        {"../../etc", NULL, "validation"}, {"/etc/passwd", NULL, "validation"}, {"org/../x", NULL, "validation"},
        {"a/b/c", NULL, "validation"},     {"noslash", NULL, "validation"},     {"org/", NULL, "validation"},
        {"/name", NULL, "validation"},     {"org/na me", NULL, "validation"},   {"org/..", NULL, "validation"},
        {"baber/piqa", "../x", "validation"}, {"baber/piqa", NULL, "../../x"}, {"baber/piqa", NULL, "a/b"},
        {"baber/piqa", "", "validation"},  {"org/x..y", NULL, "validation"},
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        gq_rows r;
        gq_error err;
        int rc = load(&r, ids[i][0], ids[i][1], ids[i][2], &err);
        char what[256];
        snprintf(what, sizeof what, "refused: id '%s' config '%s' split '%s'", ids[i][0], ids[i][1] ? ids[i][1] : "-",
                 ids[i][2]);
        test_cond(what, rc == GQ_ERR_USAGE && has(err.msg, "refused"));
        gq_error e2;
        rc = gq_dataset_fetch(ids[i][0], ids[i][1], ids[i][2], NULL, &e2);
        test_cond("fetch refuses it too", rc == GQ_ERR_USAGE);
    }
    gq_error err;
    gq_rows r;
    load(&r, "../../etc", NULL, "validation", &err);
    test_cond("message explains the id form", has(err.msg, "'../../etc' refused") && has(err.msg, "ORG/NAME"));
    test_cond("bad ids: no request made", srv_get(&S.requests) == 0);
    char p[8192];
    snprintf(p, sizeof p, "%s/gqla-eval/etc", cache_root);
    test_cond("bad ids: nothing created", access(p, F_OK) != 0);
    srv_stop();
}

static void case_fetch_all(void)
{
    if (srv_start(MODE_OK, 120) != 0) return (void)test_cond("server started", 0);
    gq_error err;
    gq_error_clear(&err);
    gq_dataset_opts o = {0};
    o.quiet = 1;
    int rc = gq_dataset_fetch("baber/piqa", NULL, NULL, &o, &err);
    if (rc) printf("  fetch: %s\n", err.msg);
    test_cond("fetch all splits: ok", rc == GQ_OK);
    test_cond("fetch all: 1 listing + 2x2 pages", srv_get(&S.requests) == 5);
    test_cond("fetch all: train cached", access(cache_file("train"), R_OK) == 0);
    test_cond("fetch all: validation cached", access(cache_file("validation"), R_OK) == 0);
    srv_stop();
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } cases[] = {
        {"pagination", case_pagination},     {"dropped_connection", case_dropped_connection},
        {"rate_limited", case_rate_limited}, {"server_error", case_server_error},
        {"timeout", case_timeout},           {"unauthorized", case_unauthorized},
        {"bearer_token", case_bearer_token}, {"not_found", case_not_found},
        {"corrupt_cache", case_corrupt_cache}, {"offline_empty", case_offline_empty},
        {"offline_cached", case_offline_cached}, {"bad_id", case_bad_id},
        {"fetch_all", case_fetch_all},
    };
    if (argc != 2) {
        fprintf(stderr, "usage: test_datasets_hub CASE|all\n");
        return 2;
    }
    unsetenv("HF_TOKEN");
    unsetenv("HF_HUB_OFFLINE");
    unsetenv("HF_DATASETS_OFFLINE");
    unsetenv("GQLA_HUB_TIMEOUT_MS");
    setenv("GQLA_HUB_BACKOFF_MS", "1", 1);
    int ran = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (strcmp(argv[1], "all") != 0 && strcmp(argv[1], cases[i].name) != 0) continue;
        snprintf(cache_root, sizeof cache_root, "%s", test_tmpdir(cases[i].name));
        setenv("HF_HOME", cache_root, 1);
        printf("case %s (HF_HOME=%s)\n", cases[i].name, cache_root);
        cases[i].fn();
        ran++;
    }
    if (!ran) {
        fprintf(stderr, "test_datasets_hub: unknown case '%s'\n", argv[1]);
        return 2;
    }
    return test_report(argv[1]);
}
