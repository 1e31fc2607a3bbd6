/* test_checkpoint_widen.c — F32/F16/BF16 tensors of a safetensors
 * checkpoint widened with gq_tensor_load_f32 (engine/tensor_load.c) match
 * the values the fixture wrote.  Registered only when tensor_load.c exists
 * (tests/checkpoint.cmake).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "checkpoint_fixtures.h"
#include "testutil.h"

static void widen_and_compare(const gq_checkpoint *ck, const char *name, gq_dtype want_dtype)
{
    const gq_tensor_ref *t = gq_checkpoint_find(ck, name);
    char what[256];
    snprintf(what, sizeof what, "%s is %s", name, gq_dtype_name(want_dtype));
    test_cond(what, t && t->dtype == want_dtype);
    if (!t) return;
    float *dst = malloc(t->n_elems * sizeof *dst);
    gq_error err;
    int rc = gq_tensor_load_f32(t, dst, &err);
    snprintf(what, sizeof what, "%s widens", name);
    test_cond(what, rc == GQ_OK);
    if (rc != GQ_OK) fprintf(stderr, "%s\n", err.msg);
    uint64_t bad = 0;
    for (uint64_t i = 0; rc == GQ_OK && i < t->n_elems; i++)
        if (dst[i] != ckfix_value(name, i)) bad++;
    snprintf(what, sizeof what, "%s: all %llu values exact", name, (unsigned long long)t->n_elems);
    test_cond(what, rc == GQ_OK && bad == 0);
    free(dst);
}

int main(void)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", test_tmpdir("widen"));
    if (ckfix_build("sharded", dir) != 0) {
        test_cond("fixture built", 0);
        return test_report("checkpoint_widen");
    }
    gq_checkpoint *ck = NULL;
    gq_error err;
    int rc = gq_checkpoint_open(&ck, dir, &err);
    test_cond("opens", rc == GQ_OK);
    if (rc != GQ_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return test_report("checkpoint_widen");
    }
    widen_and_compare(ck, "model.embed_tokens.weight", GQ_DTYPE_BF16);
    widen_and_compare(ck, "lm_head.weight", GQ_DTYPE_F16);
    widen_and_compare(ck, "model.layers.1.self_attn.v_proj.weight", GQ_DTYPE_F32);
    widen_and_compare(ck, "model.norm.weight", GQ_DTYPE_F32);
    gq_checkpoint_close(ck);
    return test_report("checkpoint_widen");
}
