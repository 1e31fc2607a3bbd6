/* cli.h — the subcommands of gqla-eval and the small helpers they share.
 * Each cmd_* takes the arguments after its name and returns the process
 * exit status: 0 ok, 1 a check failed, 2 an error (bad input or usage). */
#ifndef GQ_CLI_H
#define GQ_CLI_H

#include <stddef.h>
#include "gq_error.h"

#define GQ_EXIT_OK 0
#define GQ_EXIT_CHECK_FAILED 1
#define GQ_EXIT_ERROR 2

int cmd_eval(int argc, char **argv);
int cmd_fetch(int argc, char **argv);
int cmd_cache(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_ppl(int argc, char **argv);
int cmd_kvcache(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_roofline(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_merge(int argc, char **argv);

/* The main command run for gqla-eval merge (harness/cmd_merge.c): argv is
 * the shards' recorded command plus --output-dir OUT; the shards' journals
 * are merged into OUT/journal (shard.h) before the run, which then finds
 * every request there and records merged_shards = n in the manifest. */
struct gq_shard_record;
int cmd_eval_merged(int argc, char **argv, const struct gq_shard_record *recs, size_t n);

/* Print "gqla-eval: error: <msg>" to stderr and return GQ_EXIT_ERROR. */
int cli_fail(const gq_error *err);
int cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* MODEL as the user wrote it (a folder, a .gguf file, or a Hub id
 * ORG/NAME[@REV][:FILE.gguf]) -> a path for gq_model_open, through the
 * huggingface_hub cache (hub/hub.h), downloading what is missing unless
 * offline (the flag, or HF_HUB_OFFLINE=1).  *path: heap, gq_free; NULL on
 * failure. */
int cli_model_resolve(const char *model, int offline, char **path, gq_error *err);

/* --device VALUE of command cmd: 0 and *device (GQ_DEVICE_CPU or
 * GQ_DEVICE_CUDA) and *device_index set; for a cuda[:N] that cannot run,
 * the exit status after printing why (gq_device_check_cuda); a usage error
 * for anything else. */
int cli_device_option(const char *cmd, const char *value, int *device, int *device_index);

/* Parse a whole non-negative int; returns 0 on success. */
int cli_parse_int(const char *s, long lo, long hi, long *out);
/* Print a string as a JSON string literal (with quotes) to stdout. */
void cli_print_json_string(const char *s);

#endif
