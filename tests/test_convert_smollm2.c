/* test_convert_smollm2.c — `gqla-eval convert` on the real SmolLM2-135M
 * GGUF (H 9, G 3, d 64, 30 layers; label slow, skipped without the model):
 *   (a) the full-rank conversion (r = 352, d_r = 32) equals its
 *       partial-RoPE reference within 1e-3 per log-prob under both paths
 *       (conversion.md §6.2 (3) on a real model, the bar);
 *   (9) a compressed conversion (r = 96): the GQA and absorb paths agree
 *       within 1e-4 per log-prob;
 *   the exported tokenizer.json gives the GGUF tokenizer's ids on
 *   tests/fixtures/convert/eval_text.txt.
 * Calibration: 8 x 128 random token ids (the exactness of (a) does not
 * depend on the data).  Scored: the first 256 tokens of the text. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "score.h"
#include "testutil.h"

#define N_EVAL 256
static char root[1024], calib[1100];

static int logprobs(const char *dir, gq_path path, const int32_t *ids, double *out)
{
    gq_model *m = NULL;
    gq_kv_cache *c = NULL;
    gq_error err = {0};
    gq_open_opts oo = {1, 0, N_EVAL, 0, NULL, GQ_DEVICE_CPU, 0};
    static int rows[N_EVAL];
    static gq_score sc[N_EVAL];
    for (int t = 0; t < N_EVAL - 1; t++) rows[t] = t;
    int rc = gq_model_open(&m, dir, &oo, &err);
    if (rc == GQ_OK) rc = gq_kv_cache_init(&c, m, path, N_EVAL, &err);
    if (rc == GQ_OK) rc = gq_forward(m, c, ids, N_EVAL - 1, rows, ids + 1, N_EVAL - 1, sc, &err);
    if (rc) fprintf(stderr, "%s: %s\n", dir, err.msg);
    for (int t = 0; rc == GQ_OK && t < N_EVAL - 1; t++) out[t] = sc[t].logprob;
    gq_kv_cache_free(c);
    gq_model_close(m);
    return rc;
}

static double max_diff(const double *a, const double *b)
{
    double m = 0;
    for (int t = 0; t < N_EVAL - 1; t++) m = fmax(m, fabs(a[t] - b[t]));
    return m;
}

static int convert(const char *model, const char *out, const char *extra)
{
    char args[4096], *o = NULL;
    snprintf(args, sizeof args, "convert --model '%s' --output '%s' --calib-tokens '%s' --rope-dim 32 --quiet %s",
             model, out, calib, extra);
    int rc = test_run_cli(args, &o);
    if (rc) fprintf(stderr, "%s\n", o ? o : "");
    free(o);
    return rc;
}

int main(void)
{
    const char *model = test_model("SmolLM2-135M-Instruct.Q4_1.gguf");
    if (!model) {
        printf("SKIP: models/SmolLM2-135M-Instruct.Q4_1.gguf is absent\n");
        return GQ_TEST_SKIP;
    }
    char model_path[1024];
    snprintf(model_path, sizeof model_path, "%s", model);
    snprintf(root, sizeof root, "%s", test_tmpdir("convert-smollm2"));
    snprintf(calib, sizeof calib, "%s/calib.tokens", root);
    FILE *f = fopen(calib, "w");
    uint64_t s = 12345;
    for (int i = 0; f && i < 8; i++)
        for (int t = 0; t < 128; t++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            fprintf(f, "%d%c", (int)((s >> 33) % 49152), t < 127 ? ' ' : '\n');
        }
    if (!f || fclose(f)) return test_report("test_convert_smollm2");

    char *text = test_read_file(test_fixture("convert/eval_text.txt"), NULL);
    gq_model *src = NULL;
    gq_error err = {0};
    gq_open_opts oo = {0, 0, 0, 0, NULL, GQ_DEVICE_CPU, 0};
    gq_tokens ids = {0};
    if (!test_cond("eval text and source tokenizer", text && gq_model_open(&src, model_path, &oo, &err) == 0 &&
                                                         gq_tokenize(src, text, 1, &ids, &err) == 0 && ids.n >= N_EVAL))
        return test_report("test_convert_smollm2");

    char ref[1200], full[1200], r96[1200];
    snprintf(ref, sizeof ref, "%s/reference", root);
    snprintf(full, sizeof full, "%s/r352", root);
    snprintf(r96, sizeof r96, "%s/r96", root);
    int ok = convert(model_path, ref, "--reference partial-rope") == 0 && convert(model_path, full, "--kv-lora-rank 352") == 0 &&
             convert(model_path, r96, "--kv-lora-rank 96") == 0;
    if (!test_cond("reference, r = 352 and r = 96 conversions run", ok)) return test_report("test_convert_smollm2");

    static double lsrc[N_EVAL], lref[N_EVAL], lg[N_EVAL], la[N_EVAL], l96g[N_EVAL], l96a[N_EVAL];
    ok = logprobs(model_path, GQ_PATH_NATIVE, ids.ids, lsrc) == 0 && logprobs(ref, GQ_PATH_GQA, ids.ids, lref) == 0 &&
         logprobs(full, GQ_PATH_GQA, ids.ids, lg) == 0 && logprobs(full, GQ_PATH_ABSORB, ids.ids, la) == 0 &&
         logprobs(r96, GQ_PATH_GQA, ids.ids, l96g) == 0 && logprobs(r96, GQ_PATH_ABSORB, ids.ids, l96a) == 0;
    if (test_cond("all models score the text", ok)) {
        double dg = max_diff(lref, lg), da = max_diff(lref, la), d96 = max_diff(l96g, l96a);
        double dsrc = max_diff(lref, lsrc), d96src = max_diff(l96g, lsrc);
        printf("SmolLM2 r=352 vs partial-RoPE reference: gqa %.3e, absorb %.3e (max |dlogp| over %d tokens)\n", dg, da,
               N_EVAL - 1);
        printf("SmolLM2 r=96: gqa vs absorb %.3e; reference vs source %.3f, r=96 vs source %.3f\n", d96, dsrc, d96src);
        test_cond("(a) full rank == partial-RoPE reference, gqa path (1e-3)", dg <= 1e-3);
        test_cond("(a) full rank == partial-RoPE reference, absorb path (1e-3)", da <= 1e-3);
        test_cond("(9) r = 96: gqa and absorb paths agree (1e-4)", d96 <= 1e-4);
        test_cond("RoPE removal changes the model (reference != source)", dsrc > 1e-2);
    }
    /* The converted folder's own tokenizer gives the GGUF's ids. */
    gq_model *cv = NULL;
    gq_tokens ids2 = {0};
    int tok_ok = gq_model_open(&cv, r96, &oo, &err) == 0 && gq_tokenize(cv, text, 1, &ids2, &err) == 0 &&
                 ids2.n == ids.n && memcmp(ids.ids, ids2.ids, ids.n * sizeof(int32_t)) == 0;
    test_cond("exported tokenizer.json tokenizes the eval text like the GGUF", tok_ok);
    gq_tokens_free(&ids);
    gq_tokens_free(&ids2);
    gq_model_close(cv);
    gq_model_close(src);
    free(text);
    return test_report("test_convert_smollm2");
}
