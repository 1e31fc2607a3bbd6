/* fuzz_util.h — what the libFuzzer targets of tests/fuzz/ share.
 *
 * Every parser of gqla-eval reads files, so a target writes the fuzzer's
 * bytes into a private scratch folder (one per process, under $TMPDIR or
 * /dev/shm, removed at exit) and calls the parser on the path.  Inputs that
 * hold several files are cut at FUZZ_SPLIT ("\n#-#-#\n"), which the seeds
 * use and the fuzzer learns.
 *
 * The same target sources build two ways (tests/fuzz.cmake):
 *   GQLA_FUZZ=ON (clang): linked with -fsanitize=fuzzer, run by scripts/fuzz.sh;
 *   normal build: linked with replay_main.c, a main() that feeds each file
 *   named on its command line (or every file of a folder) to
 *   LLVMFuzzerTestOneInput once — the ctests fuzz_replay.* run the seeds and
 *   every committed crash under tests/fuzz/regressions/.
 * Not a test framework: a target checks nothing but "no crash, no leak, no
 * UB"; a parser's error is a correct answer to a bad input.
 */
#ifndef GQ_FUZZ_UTIL_H
#define GQ_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define FUZZ_SPLIT "\n#-#-#\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The scratch folder (created on first use, emptied by fuzz_reset). */
const char *fuzz_dir(void);
/* Remove every file the previous input left in the scratch folder. */
void fuzz_reset(void);
/* fuzz_dir()/rel (parents created) holding data; returns a static-lifetime
 * path valid until the next call with the same slot (0..7), or NULL. */
const char *fuzz_write(int slot, const char *rel, const void *data, size_t n);

/* Cut [data, data+size) at the first FUZZ_SPLIT: part 0 before it, part 1
 * after (part 1 empty when there is none). */
void fuzz_split2(const uint8_t *data, size_t size, const uint8_t **a, size_t *na, const uint8_t **b,
                 size_t *nb);

/* With FUZZ_REPLAY_VERBOSE set (seed checks by hand): print what a parser
 * answered ("ok" or its message) to stderr.  Silent otherwise. */
struct gq_error;
void fuzz_note(const char *what, int rc, const struct gq_error *err);

/* Widen a tensor of at most 64 Ki elements to float32 (gq_tensor_load_f32),
 * reading every byte its header promised; larger ones are skipped. */
struct gq_tensor_ref;
void fuzz_widen_small(const struct gq_tensor_ref *t);

/* fuzz_reset, then part 0 of the input into name_a and part 1 into name_b
 * (fuzz_split2; paths in slots 0 and 1, *n_b = part 1's size).  0, or -1 when
 * a file could not be written. */
int fuzz_write_split(const uint8_t *data, size_t size, const char *name_a, const char *name_b, const char **path_a,
                     const char **path_b, size_t *n_b);

/* A NUL-terminated heap copy (free with free()); NULL on OOM. */
char *fuzz_strndup(const uint8_t *data, size_t n);

#endif
