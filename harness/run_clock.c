/* run_clock.c — wall time and peak memory of a run over its invocations
 * (run_clock.h).  Tests: tests/test_main_resume.c (killed and resumed runs
 * count every invocation; a bad clock.json; a journal without one). */
#define _POSIX_C_SOURCE 200809L
#include "run_clock.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "fileio.h"
#include "gq_alloc.h"
#include "json_util.h"
#include "progress.h"
#include "results.h"

#define CLOCK_FORMAT "gqla-clock"

/* A number of clock.json that must be in [lo, hi] (hi keeps the casts to
 * int and int64_t defined: fuzz_run_clock found a 1e57-byte peak RSS). */
static int clock_number(const cJSON *root, const char *path, const char *key, double lo, double hi, double *out,
                        gq_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < lo || v->valuedouble > hi)
        return gq_error_set(err, GQ_ERR_INVALID,
                            "%s: key %s: expected a number in [%g, %g], found %s; remove the file to resume "
                            "without the earlier invocations' time",
                            path, key, lo, hi, v ? gq_json_kind(v) : "nothing");
    *out = v->valuedouble;
    return GQ_OK;
}

static int clock_read(gq_run_clock *c, gq_error *err)
{
    cJSON *root = NULL;
    int rc = gq_json_load_file(&root, c->path, err);
    if (rc != GQ_OK) return rc;
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    double inv = 0, secs = 0, peak = 0, started = 0;
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, CLOCK_FORMAT) != 0 || !cJSON_IsNumber(ver) ||
        ver->valuedouble != 1.0)
        rc = gq_error_set(err, GQ_ERR_INVALID,
                          "%s: not a version 1 \"" CLOCK_FORMAT "\" file (keys format, version); remove it to "
                          "resume without the earlier invocations' time",
                          c->path);
    if (rc == GQ_OK) rc = clock_number(root, c->path, "started_unix", 0.0, 1e11, &started, err);
    if (rc == GQ_OK) rc = clock_number(root, c->path, "invocations", 1.0, 1e9, &inv, err);
    if (rc == GQ_OK) rc = clock_number(root, c->path, "wall_seconds", 0.0, 1e12, &secs, err);
    if (rc == GQ_OK) rc = clock_number(root, c->path, "peak_rss_bytes", 0.0, 1e18, &peak, err);
    if (rc == GQ_OK && (inv != floor(inv) || inv > 1e9))
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: key invocations: expected a whole number, found %g", c->path,
                          inv);
    const cJSON *untimed = cJSON_GetObjectItemCaseSensitive(root, "earlier_untimed");
    if (rc == GQ_OK && untimed && !cJSON_IsBool(untimed))
        rc = gq_error_set(err, GQ_ERR_INVALID, "%s: key earlier_untimed: expected a boolean, found %s", c->path,
                          gq_json_kind(untimed));
    if (rc == GQ_OK) {
        c->started_unix = started;
        c->invocations_before = (int)inv;
        c->seconds_before = secs;
        c->peak_before = (int64_t)peak;
        c->earlier_untimed = cJSON_IsTrue(untimed);
    }
    cJSON_Delete(root);
    return rc;
}

int gq_run_clock_start(gq_run_clock *c, const char *journal_dir, double started_unix, double t_start,
                       gq_error *err)
{
    memset(c, 0, sizeof *c);
    c->started_unix = started_unix;
    c->t_start = t_start;
    c->peak_before = -1;
    if (!journal_dir) return GQ_OK;
    if (!(c->path = gq_path_join(journal_dir, "clock.json", err))) return GQ_ERR_NOMEM;
    /* A journal folder without a clock: earlier invocations worked untimed. */
    struct stat st;
    int rc = GQ_OK;
    if (stat(c->path, &st) == 0) rc = clock_read(c, err);
    else if (stat(journal_dir, &st) == 0 && S_ISDIR(st.st_mode)) c->earlier_untimed = 1;
    if (rc == GQ_OK) rc = gq_run_clock_save(c, err);
    return rc;
}

/* clock.json with these totals (the one place that spells the format). */
static int clock_write(const char *path, double started_unix, int invocations, double seconds, int64_t peak,
                       int earlier_untimed, gq_error *err)
{
    char text[512];
    int n = snprintf(text, sizeof text,
                     "{\"format\": \"" CLOCK_FORMAT "\", \"version\": 1, \"started_unix\": %.3f, "
                     "\"invocations\": %d, \"wall_seconds\": %.3f, \"peak_rss_bytes\": %lld, "
                     "\"earlier_untimed\": %s}\n",
                     started_unix, invocations, seconds, (long long)(peak > 0 ? peak : 0),
                     earlier_untimed ? "true" : "false");
    return gq_report_write_file(path, text, (size_t)n, err);
}

int gq_run_clock_save(const gq_run_clock *c, gq_error *err)
{
    if (!c || !c->path) return GQ_OK;
    return clock_write(c->path, c->started_unix, gq_run_clock_invocations(c), gq_run_clock_seconds(c),
                       gq_run_clock_peak_rss(c), c->earlier_untimed, err);
}

void gq_run_clock_tick(const gq_run_clock *c)
{
    gq_error ignored = {0};
    (void)gq_run_clock_save(c, &ignored);
}

double gq_run_clock_seconds(const gq_run_clock *c) { return c->seconds_before + (gq_now() - c->t_start); }

int64_t gq_run_clock_peak_rss(const gq_run_clock *c)
{
    struct rusage ru;
    int64_t mine = getrusage(RUSAGE_SELF, &ru) == 0 ? (int64_t)ru.ru_maxrss * 1024 : -1;
    return mine > c->peak_before ? mine : c->peak_before;
}

int gq_run_clock_invocations(const gq_run_clock *c) { return c->invocations_before + 1; }

void gq_run_clock_free(gq_run_clock *c)
{
    if (!c) return;
    gq_free(c->path);
    c->path = NULL;
}

int gq_run_clock_read(gq_run_clock *c, const char *journal_dir, gq_error *err)
{
    memset(c, 0, sizeof *c);
    c->peak_before = -1;
    if (!(c->path = gq_path_join(journal_dir, "clock.json", err))) return GQ_ERR_NOMEM;
    if (!gq_path_exists(c->path)) {
        c->earlier_untimed = 1;
        return GQ_OK;
    }
    return clock_read(c, err);
}

int gq_run_clock_save_merged(const char *journal_dir, const gq_run_clock *parts, size_t n, gq_error *err)
{
    double started = 0, seconds = 0;
    int64_t peak = -1;
    long long invocations = 0;
    int untimed = 0;
    for (size_t i = 0; i < n; i++) {
        untimed |= parts[i].earlier_untimed;
        if (parts[i].invocations_before <= 0) continue;
        if (invocations == 0 || parts[i].started_unix < started) started = parts[i].started_unix;
        invocations += parts[i].invocations_before;
        seconds += parts[i].seconds_before;
        if (parts[i].peak_before > peak) peak = parts[i].peak_before;
    }
    if (invocations == 0) return GQ_OK;
    if (invocations > 1000000000LL) invocations = 1000000000LL; /* clock_read's bound */
    char *path = gq_path_join(journal_dir, "clock.json", err);
    if (!path) return GQ_ERR_NOMEM;
    int rc = clock_write(path, started, (int)invocations, seconds, peak, untimed, err);
    gq_free(path);
    return rc;
}
