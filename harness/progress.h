/* progress.h — "task: done/total docs, docs/s, ETA" (or another unit) on stderr: redrawn in
 * place on a terminal, a plain line every few seconds otherwise, nothing
 * when quiet. */
#ifndef GQ_PROGRESS_H
#define GQ_PROGRESS_H

#include <stddef.h>

typedef struct gq_progress {
    char label[96];
    char unit[16];    /* what is counted: "docs", "layers" */
    size_t total;
    size_t done;
    size_t resumed;   /* documents taken from a journal: counted done, not in the rate */
    double t_start;
    double t_last_draw;
    int tty;
    int quiet;
} gq_progress;

double gq_now(void); /* monotonic seconds */
/* "42s", "3m07s", "2h05m"; "?" for a negative or absurd value. */
void gq_format_duration(double s, char *buf, size_t n);
void gq_progress_start(gq_progress *p, const char *label, const char *unit, size_t total, int quiet);
void gq_progress_update(gq_progress *p, size_t done);
/* n of the documents were resumed from a journal (not scored now). */
void gq_progress_set_resumed(gq_progress *p, size_t n);
/* Final line with the elapsed time. */
void gq_progress_finish(gq_progress *p);

#endif
