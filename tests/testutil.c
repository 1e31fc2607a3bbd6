/* testutil.c — see testutil.h. */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int gq_test_passed = 0, gq_test_failed = 0;

int test_check(int cond, const char *what, const char *file, int line)
{
    if (cond) {
        gq_test_passed++;
    } else {
        gq_test_failed++;
        fprintf(stderr, "FAIL: %s (%s:%d)\n", what, file, line);
    }
    return cond;
}

int test_report(const char *suite)
{
    printf("%s: %d passed, %d failed\n", suite, gq_test_passed, gq_test_failed);
    return gq_test_failed == 0 && gq_test_passed > 0 ? 0 : 1;
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

const char *test_fixture(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", env_or("GQ_FIXTURES", "tests/fixtures"), rel);
    return buf;
}

const char *test_model(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", env_or("GQ_MODELS", "models"), rel);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

const char *test_tmpdir(const char *name)
{
    static char buf[4096];
    const char *root = env_or("GQ_TMP", "/tmp/gqla-test");
    mkdir(root, 0777);
    snprintf(buf, sizeof buf, "%s/%s.%ld", root, name, (long)getpid());
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", buf, buf);
    if (system(cmd) != 0) fprintf(stderr, "cannot make %s\n", buf);
    return buf;
}

int test_run_shell(const char *cmd, char **output)
{
    size_t n_cmd = strlen(cmd) + 8;
    char *full = malloc(n_cmd);
    if (!full) return -1;
    snprintf(full, n_cmd, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    free(full);
    if (!p) return -1;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) break;
            buf = nb;
            cap *= 2;
        }
    }
    if (buf) buf[n] = '\0';
    int st = pclose(p);
    if (output) *output = buf;
    else free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int test_run_cli(const char *args, char **output)
{
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "'%s' %s", env_or("GQ_CLI", "gqla-eval"), args);
    return test_run_shell(cmd, output);
}

int test_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, n, f);
    return (fclose(f) == 0 && w == n) ? 0 : -1;
}

char *test_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)sz + 1);
    if (buf && fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[sz] = '\0';
        if (n) *n = (size_t)sz;
    }
    return buf;
}

int test_has(const char *text, const char *needle)
{
    int ok = text && strstr(text, needle) != NULL;
    if (!ok) printf("  missing: '%s'\n", needle);
    return ok;
}

int test_count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}
