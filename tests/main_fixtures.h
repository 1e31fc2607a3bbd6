/* main_fixtures.h — tiny models for the main-command tests
 * (tests/test_main_*.c), written at test time:
 *   - an original: the random llama-gqa fixture (tests/fixtures/forward/
 *     llama-gqa-f32: D=64, L=3, H=8, Hkv=2, Dh=8, V=256) plus a 256-token
 *     byte-level tokenizer.json;
 *   - a "converted" GQLA model with random weights (D=64, L=2, H=8, G=2,
 *     d_n=8, d_r=4, d_v=8, r=16, V=256) and the same tokenizer.
 * The GQLA model is not a conversion of the original (the tests check the
 * orchestration, not conversion quality); its cache sizes per path are
 * MF_KV_* below, computed by hand from conversion.md §2.4. */
#ifndef GQ_MAIN_FIXTURES_H
#define GQ_MAIN_FIXTURES_H

#include <stddef.h>

#define MF_L 2
#define MF_H 8
#define MF_G 2
#define MF_DN 8
#define MF_DR 4
#define MF_DV 8
#define MF_R 16
/* original 2*Hkv*Dh = 2*2*8; gqa G*(d_n+d_v)+d_r = 2*16+4; k_pe per group
 * G*(d_n+d_r+d_v) = 2*20; absorb r+d_r = 16+4 */
#define MF_KV_ORIGINAL 32
#define MF_KV_GQA 36
#define MF_KV_GQA_KPE 40
#define MF_KV_ABSORB 20

/* Write tokenizer.json into dir: the 256 bytes (ascii_only: the 96
 * printable ASCII characters, space and newline only — a different
 * tokenizer of the same family). */
int mf_write_tokenizer(const char *dir, int ascii_only);
/* dir/original: config + weights of the llama-gqa fixture + tokenizer. */
int mf_write_original(const char *dir);
/* dir: config.json + model.safetensors of the random GQLA model (seeded)
 * + tokenizer (ascii_only as above). */
int mf_write_gqla(const char *dir, unsigned seed, int ascii_only);
/* dir/name parsed as JSON (caller deletes), NULL when unreadable or invalid. */
struct cJSON *mf_read_json(const char *dir, const char *name);
/* o[key] as a number, NAN when absent or not a number (so every
 * comparison with it fails). */
double mf_num(const struct cJSON *o, const char *key);
/* Delete what legitimately differs between two runs of the same command
 * from j, recursively: time, memory, invocations, command, dates. */
void mf_strip_volatile(struct cJSON *j);
/* 1 when out's gqla_run.json and the "results" blocks of its
 * results_{original,converted_gqa,converted_absorb}.json equal ref's after
 * mf_strip_volatile (test_cond records one check per file; a difference
 * prints both sides).  `what` names the case in the messages. */
int mf_same_results(const char *ref, const char *out, const char *what);
/* The same over the first n_files of gqla_run.json, results_original.json,
 * results_converted_gqa.json, results_converted_absorb.json (2: a run of
 * --model alone). */
int mf_same_results_files(const char *ref, const char *out, const char *what, size_t n_files);
/* Monotonic seconds. */
double mf_now(void);
/* Start the CLI (`gqla-eval ARGS`, output discarded), SIGKILL it after
 * delay seconds; returns 1 if it was killed (0 if it had already finished,
 * -1 if it could not start). */
int mf_run_and_kill(const char *args, double delay);
/* The repo's datasets/samples (from $GQ_FIXTURES/../../datasets/samples). */
const char *mf_samples_dir(void);

#endif
