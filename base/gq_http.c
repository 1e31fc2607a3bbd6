/* gq_http.c — see gq_http.h.  Moved out of datasets/hub.c when the model
 * download (hub/) became its second user. */
#define _XOPEN_SOURCE 700
#include "gq_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gq_alloc.h"

int gq_env_true(const char *name)
{
    const char *v = getenv(name);
    return v && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
                 strcasecmp(v, "on") == 0);
}

long gq_env_long(const char *name, long dflt, long lo, long hi)
{
    const char *v = getenv(name);
    if (!v || !*v) return dflt;
    char *end = NULL;
    long x = strtol(v, &end, 10);
    if (*end != '\0' || x < lo || x > hi) return dflt;
    return x;
}

int gq_env_dir_pick(char *out, size_t cap, const char *override, const gq_env_dir *cand, size_t n_cand,
                    const char *what, const char *hint, gq_error *err)
{
    int w = -1;
    const char *v;
    if (override && *override) w = snprintf(out, cap, "%s", override);
    for (size_t i = 0; w < 0 && i < n_cand; i++)
        if ((v = getenv(cand[i].var)) && *v) w = snprintf(out, cap, "%s%s", v, cand[i].suffix);
    if (w < 0) return gq_error_set(err, GQ_ERR_USAGE, "no %s: %s", what, hint);
    if ((size_t)w >= cap) return gq_error_set(err, GQ_ERR_USAGE, "%s path too long", what);
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/') out[--n] = '\0';
    return GQ_OK;
}

void gq_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

const char *gq_http_token(int *rc, gq_error *err)
{
    const char *tok = getenv("HF_TOKEN");
    *rc = GQ_OK;
    if (!tok || !*tok) return NULL;
    if (strpbrk(tok, "\r\n")) {
        *rc = gq_error_set(err, GQ_ERR_USAGE, "HF_TOKEN contains a line break; refused (value not shown)");
        return NULL;
    }
    return tok;
}

CURL *gq_http_easy(const char *accept, const char *token, struct curl_slist **headers, gq_error *err)
{
    char line[256];
    struct curl_slist *h = NULL, *nh;
    *headers = NULL;
    CURL *c = curl_easy_init();
    if (!c) {
        gq_error_set(err, GQ_ERR_NOMEM, "cannot start libcurl");
        return NULL;
    }
    if (accept) {
        snprintf(line, sizeof line, "Accept: %s", accept);
        if (!(nh = curl_slist_append(h, line))) goto nomem;
        h = nh;
    }
    if (token) {
        size_t n = strlen(token) + 32;
        char *auth = gq_malloc(n, "Authorization header", err);
        if (!auth) goto nomem;
        snprintf(auth, n, "Authorization: Bearer %s", token);
        nh = curl_slist_append(h, auth);
        memset(auth, 0, n); /* the only copy left is inside the list */
        gq_free(auth);
        if (!nh) goto nomem;
        h = nh;
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "gqla-eval/" GQLA_VERSION);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    long tmo = gq_env_long("GQLA_HUB_TIMEOUT_MS", 0, 0, 3600000L);
    if (tmo > 0) curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, tmo);
    *headers = h;
    return c;
nomem:
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    gq_error_set(err, GQ_ERR_NOMEM, "out of memory setting up the download");
    return NULL;
}

int gq_http_retryable(CURLcode cc)
{
    switch (cc) {
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

void gq_http_scrub(gq_error *err, const char *token)
{
    if (!err || !token) return;
    size_t tl = strlen(token);
    if (tl < 4) return;
    char *hit;
    while ((hit = strstr(err->msg, token)) != NULL) {
        memset(hit, '*', 3);
        memmove(hit + 3, hit + tl, strlen(hit + tl) + 1);
    }
}
