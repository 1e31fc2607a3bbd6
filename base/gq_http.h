/* gq_http.h — the libcurl plumbing that every Hugging Face client here
 * shares: datasets/hub.c (datasets-server rows) and hub/ (model files).
 *
 * What it is: one configured easy handle (user agent, timeouts, the
 * "Authorization: Bearer $HF_TOKEN" header), the retry classification of
 * curl errors, the backoff sleep, the token scrubber, and the environment
 * switches both clients read (HF_HUB_OFFLINE, GQLA_HUB_TIMEOUT_MS ...).
 * What it is not: a request loop.  Each client keeps its own, since a JSON
 * page and a resumable multi-gigabyte file fail and retry differently.
 *
 * The token: read from HF_TOKEN by gq_http_token, held only inside the
 * header list, never formatted into a message.  gq_http_scrub replaces it
 * in a message anyway, in case a server echoes it back.
 *
 * Tested through tests/test_datasets_hub.c and tests/test_hub.c (local
 * HTTP servers).
 */
#ifndef GQ_HTTP_H
#define GQ_HTTP_H

#include <curl/curl.h>

#include "gq_error.h"

/* 1 when the variable is "1", "true", "yes" or "on" (any case). */
int gq_env_true(const char *name);
/* The variable as a whole number in [lo, hi], else dflt (unset, junk, out of range). */
long gq_env_long(const char *name, long dflt, long lo, long hi);
/* A cache folder from the environment: `override` when non-empty, else
 * $VAR + SUFFIX of the first candidate whose variable is set and non-empty,
 * into out without a trailing '/'.  GQ_ERR_USAGE naming `what` when none is
 * set or the path does not fit; `hint` ends that message. */
typedef struct gq_env_dir {
    const char *var, *suffix;
} gq_env_dir;
int gq_env_dir_pick(char *out, size_t cap, const char *override, const gq_env_dir *cand, size_t n_cand,
                    const char *what, const char *hint, gq_error *err);
/* Sleeps ms milliseconds (restarting after signals). */
void gq_sleep_ms(long ms);

/* HF_TOKEN when set and non-empty, else NULL.  A token with a line break
 * (header injection) is refused: returns NULL with *rc set and err filled,
 * never showing the value.  *rc is GQ_OK otherwise. */
const char *gq_http_token(int *rc, gq_error *err);

/* A new easy handle: user agent "gqla-eval/VERSION", no signals, redirects
 * not followed, 30 s to connect, dropped after 60 s below 1 byte/s, the
 * total limit GQLA_HUB_TIMEOUT_MS when set.  *headers receives "Accept:
 * ACCEPT" (when accept is non-NULL) and, when token is non-NULL, the bearer
 * header, and is installed as CURLOPT_HTTPHEADER; the caller frees it with
 * curl_slist_free_all after curl_easy_cleanup.  NULL on failure (err says
 * so, *headers is NULL). */
CURL *gq_http_easy(const char *accept, const char *token, struct curl_slist **headers, gq_error *err);

/* 1 for the curl errors worth another attempt (dropped, reset, timed out,
 * could not connect or resolve, TLS handshake, HTTP/2 stream). */
int gq_http_retryable(CURLcode cc);

/* Replaces every occurrence of token (4 characters or more) in err's
 * message with "***".  NULL err or token: nothing. */
void gq_http_scrub(gq_error *err, const char *token);

#endif
