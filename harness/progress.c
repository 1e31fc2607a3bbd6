/* progress.c — progress lines with rate and ETA (progress.h). */
#define _POSIX_C_SOURCE 200809L
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double gq_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void gq_progress_start(gq_progress *p, const char *label, const char *unit, size_t total, int quiet)
{
    memset(p, 0, sizeof *p);
    snprintf(p->label, sizeof p->label, "%s", label);
    snprintf(p->unit, sizeof p->unit, "%s", unit);
    p->total = total;
    p->quiet = quiet;
    p->tty = isatty(fileno(stderr));
    p->t_start = gq_now();
    p->t_last_draw = p->t_start;
}

void gq_format_duration(double s, char *buf, size_t n)
{
    if (s < 0 || s > 1e7) snprintf(buf, n, "?");
    else if (s >= 3600) snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
    else if (s >= 60) snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else snprintf(buf, n, "%ds", (int)s);
}

static void draw(gq_progress *p, double now, int final)
{
    size_t scored = p->done > p->resumed ? p->done - p->resumed : 0;
    double el = now - p->t_start, rate = el > 0 ? (double)scored / el : 0;
    char eta[32];
    gq_format_duration(rate > 0 ? (double)(p->total - p->done) / rate : -1, eta, sizeof eta);
    if (final) {
        char took[32];
        gq_format_duration(el, took, sizeof took);
        fprintf(stderr, "%s%s: %zu/%zu %s, %.1f %s/s, done in %s%s\n", p->tty ? "\r" : "", p->label, p->done,
                p->total, p->unit, rate, p->unit, took, p->tty ? "        " : "");
    } else {
        fprintf(stderr, "%s%s: %zu/%zu %s (%.0f%%), %.1f %s/s, ETA %s%s", p->tty ? "\r" : "", p->label, p->done,
                p->total, p->unit, p->total ? 100.0 * (double)p->done / (double)p->total : 100.0, rate, p->unit, eta,
                p->tty ? "   " : "\n");
    }
    fflush(stderr);
    p->t_last_draw = now;
}

void gq_progress_set_resumed(gq_progress *p, size_t n) { p->resumed = n; }

void gq_progress_update(gq_progress *p, size_t done)
{
    p->done = done;
    if (p->quiet) return;
    double now = gq_now();
    if (now - p->t_last_draw >= (p->tty ? 0.25 : 5.0)) draw(p, now, 0);
}

void gq_progress_finish(gq_progress *p)
{
    if (!p->quiet) draw(p, gq_now(), 1);
}
