/* test_checkpoint_widen.c — F32/F16/BF16 tensors of a safetensors
 * checkpoint widened with gq_tensor_load_f32 (engine/tensor_load.c) match
 * the values the fixture wrote.  Registered only when tensor_load.c exists
 * (tests/checkpoint.cmake).
 *
 * With the argument "smollm2": every tensor of the SmolLM2 GGUF, opened
 * through gq_checkpoint_open (HF names, rope_unpermute_heads set by
 * checkpoint.c), widened and hashed (FNV-1a 64 of the float32 bytes) must
 * match the HF-layout column of tests/fixtures/gguf/smollm2_checksums.txt
 * (transformers' GGUF loader, written by tests/reference/make_gguf_fixtures.py).
 * Skips (77) when the model or the checksum file is absent.
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

static uint64_t fnv1a64(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static int run_smollm2(void)
{
    const char *model = test_model("SmolLM2-135M-Instruct.Q4_1.gguf");
    char mpath[4096];
    if (!model) {
        printf("skip: models/SmolLM2-135M-Instruct.Q4_1.gguf is absent\n");
        return GQ_TEST_SKIP;
    }
    snprintf(mpath, sizeof mpath, "%s", model);
    FILE *f = fopen(test_fixture("gguf/smollm2_checksums.txt"), "r");
    if (!f) {
        printf("skip: tests/fixtures/gguf/smollm2_checksums.txt is absent\n");
        return GQ_TEST_SKIP;
    }
    gq_checkpoint *ck = NULL;
    gq_error err;
    int rc = gq_checkpoint_open(&ck, mpath, &err);
    test_cond("SmolLM2 opens", rc == GQ_OK);
    if (rc != GQ_OK) {
        fprintf(stderr, "%s\n", err.msg);
        fclose(f);
        return test_report("checkpoint_widen_smollm2");
    }
    char line[512], gname[200], hname[200];
    unsigned long long n_el, fg, fh;
    size_t n_lines = 0, n_ok = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        if (sscanf(line, "%199s %199s %llu %llx %llx", gname, hname, &n_el, &fg, &fh) != 5) continue;
        n_lines++;
        const gq_tensor_ref *t = gq_checkpoint_find(ck, hname);
        if (!t || t->n_elems != n_el) {
            fprintf(stderr, "FAIL: %s missing or wrong size\n", hname);
            continue;
        }
        float *buf = malloc((size_t)n_el * sizeof *buf);
        rc = buf ? gq_tensor_load_f32(t, buf, &err) : GQ_ERR_NOMEM;
        if (rc == GQ_OK && fnv1a64(buf, (size_t)n_el * 4) == fh) n_ok++;
        else fprintf(stderr, "FAIL: %s (perm heads %d) does not match the HF-layout checksum\n", hname,
                     t->rope_unpermute_heads);
        free(buf);
    }
    fclose(f);
    printf("%zu of %zu tensors match transformers' HF layout\n", n_ok, n_lines);
    test_cond("checksum lines read", n_lines > 0);
    test_cond("every checksum line is a checkpoint tensor", n_lines == gq_checkpoint_tensor_count(ck));
    test_cond("every tensor matches transformers' HF layout", n_ok == n_lines);
    gq_checkpoint_close(ck);
    return test_report("checkpoint_widen_smollm2");
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "smollm2")) return run_smollm2();
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
