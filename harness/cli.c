/* cli.c — helpers shared by the subcommands (cli.h). */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"
#include "model.h"

int cli_fail(const gq_error *err)
{
    fprintf(stderr, "gqla-eval: error: %s\n", err && err->msg[0] ? err->msg : "unknown error");
    return GQ_EXIT_ERROR;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "gqla-eval %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'gqla-eval %s --help')\n", cmd);
    return GQ_EXIT_ERROR;
}

int cli_parse_int(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !end || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

void cli_print_json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", stdout); break;
        case '\\': fputs("\\\\", stdout); break;
        case '\n': fputs("\\n", stdout); break;
        case '\r': fputs("\\r", stdout); break;
        case '\t': fputs("\\t", stdout); break;
        default:
            if (*p < 0x20) printf("\\u%04x", *p);
            else putchar(*p);
        }
    }
    putchar('"');
}

int cli_model_resolve(const char *model, int offline, char **path, gq_error *err)
{
    gq_hub_opts o = {.offline = offline};
    return gq_hub_resolve_model(model, &o, path, err);
}

int cli_device_option(const char *cmd, const char *value, int *device, int *device_index)
{
    *device = GQ_DEVICE_CPU;
    *device_index = 0;
    if (!strcmp(value, "cpu")) return 0;
    long index = 0;
    if (strncmp(value, "cuda", 4) != 0 || (value[4] && (value[4] != ':' || cli_parse_int(value + 5, 0, 1023, &index))))
        return cli_usage_error(cmd, "--device takes cpu, cuda or cuda:N (got '%s')", value);
    gq_error err = {0};
    if (gq_device_check_cuda((int)index, &err) != GQ_OK) return cli_fail(&err);
    *device = GQ_DEVICE_CUDA;
    *device_index = (int)index;
    return 0;
}
