/* checkpoint_fixtures.h — tiny Hugging Face checkpoints, good and broken,
 * written into a temp folder at test time (shared by test_checkpoint.c and
 * test_info_errors.c so the API and the CLI see the same bad files).
 *
 * The model: llama, D=16, I=24, L=2, H=4, Hkv=2, Dh=4, V=32.  Weights are
 * multiples of 1/16 in [-0.5, 0.5], exact in F32, F16 and BF16; the
 * embedding is BF16, lm_head F16, everything else F32.
 */
#ifndef GQ_CHECKPOINT_FIXTURES_H
#define GQ_CHECKPOINT_FIXTURES_H

#include <stdint.h>

#define CKFIX_D 16
#define CKFIX_I 24
#define CKFIX_L 2
#define CKFIX_H 4
#define CKFIX_HKV 2
#define CKFIX_DH 4
#define CKFIX_V 32
/* 3 global + 9 per layer; the valid folder also carries one
 * rotary_emb.inv_freq leftover that the reader drops. */
#define CKFIX_N_TENSORS (3 + 9 * CKFIX_L)

typedef struct ckfix_case {
    const char *name;
    int status;       /* the gq_status gq_checkpoint_open must return (0 = opens) */
    const char *file; /* a file name the error message must contain */
    const char *what; /* a phrase the error message must contain */
} ckfix_case;

/* The case table, terminated by a NULL name. */
extern const ckfix_case ckfix_cases[];
const ckfix_case *ckfix_find(const char *name);

/* Build case `name` in the (empty) folder dir; 0 on success. */
int ckfix_build(const char *name, const char *dir);

/* The value of element i of tensor `name` in the fixture. */
float ckfix_value(const char *name, uint64_t i);

#endif
