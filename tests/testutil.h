/* testutil.h — the little test framework: test_cond() records a check and
 * prints it on failure, test_report() prints "N passed, N failed" and gives
 * the process exit code (non-zero on any failure: the exit code is the
 * verdict).  Also: fixture paths, running the CLI, temp folders. */
#ifndef GQ_TESTUTIL_H
#define GQ_TESTUTIL_H

#include <stddef.h>

#define GQ_TEST_SKIP 77

extern int gq_test_passed, gq_test_failed;

/* Record one check; prints "FAIL: what (file:line)" when cond is false. */
int test_check(int cond, const char *what, const char *file, int line);
#define test_cond(what, cond) test_check((cond) != 0, (what), __FILE__, __LINE__)
/* Print the closing "N passed, N failed" line; returns the exit code. */
int test_report(const char *suite);

/* $GQ_FIXTURES/rel (static buffer, valid until the next call). */
const char *test_fixture(const char *rel);
/* $GQ_MODELS/rel or NULL if that file does not exist. */
const char *test_model(const char *rel);
/* A fresh empty folder under $GQ_TMP (static buffer). */
const char *test_tmpdir(const char *name);

/* Run the gqla-eval CLI with a shell-quoted argument string; captures
 * stdout+stderr (heap string in *output, caller frees) and returns the exit
 * status (or -1 if it did not exit normally). */
int test_run_cli(const char *args, char **output);
/* Run a shell command line, capturing stdout+stderr the same way. */
int test_run_shell(const char *cmd, char **output);

/* 1 when text (may be NULL) contains needle; else prints "  missing: 'needle'"
 * and returns 0. */
int test_has(const char *text, const char *needle);
/* Non-overlapping occurrences of needle in text (NULL text: 0). */
int test_count(const char *text, const char *needle);

/* Write bytes to a file; returns 0 on success. */
int test_write_file(const char *path, const void *data, size_t n);
/* Read a whole file (heap, NUL-terminated); NULL on failure. */
char *test_read_file(const char *path, size_t *n);

#endif
