/* test_gguf_kquant.c — every tensor of llama.cpp-written GGUF files widens
 * bit for bit as the `gguf` Python package's dequantize does.
 *
 * Usage: test_gguf_kquant [FIXTURE...]   (folders under $GQ_FIXTURES)
 * Each folder (tests/fixtures/gguf_arch/<arch>-<type>/, written by
 * tests/reference/make_gguf_arch_fixtures.py from llama-quantize output)
 * holds model.gguf and dequant.txt: per tensor its name, ggml type, element
 * count and the SHA-256 of gguf.quants.dequantize's float32 bytes in GGUF row
 * order.  We widen each tensor with gq_dequant_row (no un-permutation) and
 * compare the hash; a single differing bit fails.
 * Without arguments it runs the hand-made cases only: Q8_K (which the gguf
 * package cannot dequantize: x = d * q by ggml's definition), block-size and
 * unsupported-type errors; with $GQ_CLI also `info`'s quant mix and the
 * gemma / unknown-architecture refusals (exit 2) on patched copies of
 * gguf_arch/llama-q4_k_m; and `convert` on the quantised GGUF sources
 * (qwen2, mistral-as-llama, phi3): the full-rank conversion equals the
 * partial-RoPE reference on both paths (conversion.md §6.2), qwen3 refused.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "gq_alloc.h"
#include "model.h"
#include "quant.h"
#include "sha256.h"
#include "testutil.h"

static void hand_cases(void)
{
    /* Q8_K: f32 d = 0.375, q = i - 128, bsums arbitrary. */
    unsigned char blk[292];
    float d = 0.375f, y[256];
    memcpy(blk, &d, 4);
    for (int i = 0; i < 256; i++) blk[4 + i] = (unsigned char)(i ^ 0x80);
    for (int i = 0; i < 32; i++) blk[260 + i] = (unsigned char)(0xa5 + i);
    gq_error err = {0};
    test_cond("Q8_K row widens", gq_dequant_row(GQ_DTYPE_Q8_K, blk, y, 256, &err) == GQ_OK);
    int bad = 0;
    for (int i = 0; i < 256; i++) bad += y[i] != d * (float)((i ^ 0x80) - ((i ^ 0x80) >= 128 ? 256 : 0));
    test_cond("Q8_K: x = d * q on all 256 elements", bad == 0);
    test_cond("Q8_K block is 292 bytes of 256 elements",
              gq_dtype_block_bytes(GQ_DTYPE_Q8_K) == 292 && gq_dtype_block_elems(GQ_DTYPE_Q8_K) == 256);

    /* Sizes of every K-quant and 5-bit block, as ggml's type traits say. */
    const struct { gq_dtype t; size_t elems, bytes; } sz[] = {
        {GQ_DTYPE_Q5_0, 32, 22},  {GQ_DTYPE_Q5_1, 32, 24},  {GQ_DTYPE_Q2_K, 256, 84},
        {GQ_DTYPE_Q3_K, 256, 110}, {GQ_DTYPE_Q4_K, 256, 144}, {GQ_DTYPE_Q5_K, 256, 176},
        {GQ_DTYPE_Q6_K, 256, 210}};
    for (size_t k = 0; k < sizeof sz / sizeof sz[0]; k++) {
        char what[96];
        snprintf(what, sizeof what, "%s: %zu elements in %zu bytes", gq_dtype_name(sz[k].t), sz[k].elems,
                 sz[k].bytes);
        test_cond(what, gq_dtype_block_elems(sz[k].t) == sz[k].elems && gq_dtype_block_bytes(sz[k].t) == sz[k].bytes);
    }
    err.msg[0] = '\0';
    test_cond("a partial K-quant block is refused",
              gq_dequant_row(GQ_DTYPE_Q4_K, blk, y, 128, &err) == GQ_ERR_INVALID && strstr(err.msg, "Q4_K"));
    err.msg[0] = '\0';
    test_cond("I32 cannot be widened", gq_dequant_row(GQ_DTYPE_I32, blk, y, 4, &err) == GQ_ERR_UNSUPPORTED);
}

/* general.architecture "llama" replaced by another 5-letter name. */
static void arch_refusal(const char *arch5, const char *needle)
{
    size_t n = 0;
    char src[4200], dst[4200], what[160], *out = NULL, args[4400];
    snprintf(src, sizeof src, "%s", test_fixture("gguf_arch/llama-q4_k_m/model.gguf"));
    unsigned char *b = (unsigned char *)test_read_file(src, &n);
    test_cond("llama-q4_k_m reads", b != NULL);
    if (!b) return;
    const char key[] = "general.architecture";
    unsigned char *at = NULL;
    for (size_t i = 0; i + sizeof key + 20 < n && !at; i++)
        if (memcmp(b + i, key, sizeof key - 1) == 0 && memcmp(b + i + sizeof key - 1 + 12, "llama", 5) == 0)
            at = b + i + sizeof key - 1 + 12; /* key, u32 type, u64 length, value */
    test_cond("general.architecture found", at != NULL);
    if (at) {
        memcpy(at, arch5, 5);
        snprintf(dst, sizeof dst, "%s/%s.gguf", test_tmpdir("gguf_arch_refusal"), arch5);
        test_write_file(dst, b, n);
        gq_model *m = NULL;
        gq_error err = {0};
        gq_open_opts o = {1, 1, 16, 0, NULL, GQ_DEVICE_CPU, 0};
        int rc = gq_model_open(&m, dst, &o, &err);
        snprintf(what, sizeof what, "%s GGUF refused (unsupported) naming '%s'", arch5, needle);
        test_cond(what, rc == GQ_ERR_UNSUPPORTED && strstr(err.msg, needle) && strstr(err.msg, arch5));
        if (!strstr(err.msg, needle)) printf("  message: %s\n", err.msg);
        gq_model_close(m);
        snprintf(args, sizeof args, "info '%s'", dst);
        snprintf(what, sizeof what, "info on a %s GGUF exits 2", arch5);
        test_cond(what, test_run_cli(args, &out) == 2 && test_has(out, needle));
        free(out);
    }
    free(b);
}

/* "logprob": values of `score --json` output, in order; returns the count. */
static int read_logprobs(const char *json, double *lp, int max)
{
    int n = 0;
    const char *p = json;
    while (p && n < max && (p = strstr(p, "\"logprob\":")) != NULL) {
        p += 10;
        lp[n++] = strtod(p, NULL);
    }
    return n;
}

/* convert FIXTURE twice (full rank r = 2*G*Dh - d_r, and --reference
 * partial-rope); both outputs score the same ids within 1e-4 on both paths. */
static void convert_case(const char *fx)
{
    const char *tmp = test_tmpdir("gguf_convert");
    char src[4200], calib[4300], full[4300], ref[4300], args[13000], what[256], *out = NULL;
    snprintf(src, sizeof src, "%s", test_fixture(fx));
    snprintf(calib, sizeof calib, "%s/calib.tokens", tmp);
    snprintf(full, sizeof full, "%s/full", tmp);
    snprintf(ref, sizeof ref, "%s/ref", tmp);
    FILE *f = fopen(calib, "w");
    if (!f) return;
    unsigned x = 12345;
    for (int s = 0; s < 8; s++)
        for (int t = 0; t < 48; t++) {
            x = x * 1103515245u + 12345u;
            fprintf(f, "%u%c", 3 + (x >> 16) % 297, t + 1 < 48 ? ' ' : '\n');
        }
    fclose(f);
    const char *common = "--rope-dim 32 --freqfold 2 --threads 1 --quiet";
    snprintf(args, sizeof args, "convert --model '%s' --output '%s' --calib-tokens '%s' --kv-lora-rank 224 %s", src,
             full, calib, common);
    int rc1 = test_run_cli(args, &out);
    if (rc1) printf("%s\n", out ? out : "");
    free(out);
    snprintf(args, sizeof args, "convert --model '%s' --output '%s' --calib-tokens '%s' --reference partial-rope %s",
             src, ref, calib, common);
    int rc2 = test_run_cli(args, &out);
    if (rc2) printf("%s\n", out ? out : "");
    free(out);
    snprintf(what, sizeof what, "%s: full-rank and partial-RoPE conversions run", fx);
    if (!test_cond(what, rc1 == 0 && rc2 == 0)) return;
    const char *ids = "5,77,123,9,250,31,8,199,42,64,17,288,3,150,99,12,201,55,7,130";
    double lf[64], lr[64];
    int nf = 0, nr = 0;
    for (int k = 0; k < 2; k++) {
        snprintf(args, sizeof args, "score '%s' --ids %s --path both --json", k ? ref : full, ids);
        int rc = test_run_cli(args, &out);
        int n = rc == 0 && out ? read_logprobs(out, k ? lr : lf, 64) : 0;
        if (k) nr = n;
        else nf = n;
        free(out);
    }
    double worst = 0;
    for (int i = 0; i < nf && i < nr; i++) worst = fmax(worst, fabs(lf[i] - lr[i]));
    printf("%s: converted, full rank vs partial-RoPE reference: max |dlogp| %.2e over %d values\n", fx, worst, nf);
    snprintf(what, sizeof what, "%s: full-rank GQLA == partial-RoPE reference, both paths (1e-4)", fx);
    test_cond(what, nf > 0 && nf == nr && worst <= 1e-4);
}

static void cli_cases(void)
{
    char args[4400], *out = NULL;
    snprintf(args, sizeof args, "info '%s'", test_fixture("gguf_arch/llama-q4_k_m/model.gguf"));
    test_cond("info runs on llama-q4_k_m", test_run_cli(args, &out) == 0);
    test_cond("info prints the quant mix",
              test_has(out, "quant mix:") && test_has(out, "Q4_K ") && test_has(out, "Q6_K ") &&
              test_has(out, "bits per weight; file type Q4_K_M"));
    free(out);
    arch_refusal("gemma", "soft-capping");
    arch_refusal("bloom", "gqla-eval reads GGUF files of the llama");
    convert_case("gguf_arch/qwen2-q4_k_m/model.gguf");
    convert_case("gguf_arch/mistral-q4_k_m/model.gguf");
    convert_case("gguf_arch/phi3-q4_k_m/model.gguf");
    snprintf(args, sizeof args, "convert --model '%s' --output '%s/q3' --calib-tokens /dev/null --quiet",
             test_fixture("gguf_arch/qwen3-q4_k_m/model.gguf"), test_tmpdir("gguf_convert_qwen3"));
    test_cond("convert refuses a qwen3 source (exit 2, k_norm named)",
              test_run_cli(args, &out) == 2 && test_has(out, "k_norm"));
    free(out);
}

static int check_fixture(const char *rel)
{
    char path[4200], line[1024];
    snprintf(path, sizeof path, "%s/dequant.txt", test_fixture(rel));
    FILE *f = fopen(path, "r");
    test_cond("dequant.txt opens", f != NULL);
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    snprintf(path, sizeof path, "%s/model.gguf", test_fixture(rel));
    gq_gguf *g = NULL;
    gq_error err = {0};
    test_cond("model.gguf opens", gq_gguf_open(&g, path, &err) == GQ_OK);
    if (!g) {
        fprintf(stderr, "%s\n", err.msg);
        fclose(f);
        return 1;
    }
    int n_lines = 0, n_ok = 0, header = 0;
    char kinds[256] = "";
    while (fgets(line, sizeof line, f)) {
        if (!header) {
            header = strncmp(line, "gqla-gguf-dequant 1", 19) == 0;
            test_cond("dequant.txt header", header);
            continue;
        }
        char name[256], type[32], hex[65];
        unsigned long long n_elems = 0;
        if (sscanf(line, "%255s %31s %llu %64s", name, type, &n_elems, hex) != 4) continue;
        n_lines++;
        const gq_tensor_ref *t = gq_gguf_find(g, name);
        if (!t || t->n_elems != n_elems || strcmp(gq_dtype_name(t->dtype), type) != 0) {
            printf("%s: %s: %s\n", rel, name, t ? "type or size differs" : "missing");
            continue;
        }
        if (!strstr(kinds, type) && strlen(kinds) + strlen(type) + 2 < sizeof kinds) {
            strcat(kinds, " ");
            strcat(kinds, type);
        }
        float *buf = gq_malloc((size_t)n_elems * sizeof(float), "test buffer", &err);
        if (!buf) break;
        if (gq_dequant_row(t->dtype, t->data, buf, (size_t)n_elems, &err) == GQ_OK) {
            char got[65];
            gq_sha256_hex(buf, (size_t)n_elems * sizeof(float), got);
            if (strcmp(got, hex) == 0) n_ok++;
            else printf("%s: %s (%s): sha256 %s, gguf package %s (first %.9g)\n", rel, name, type, got, hex, buf[0]);
        } else {
            printf("%s: %s: %s\n", rel, name, err.msg);
        }
        gq_free(buf);
    }
    fclose(f);
    gq_gguf_close(g);
    printf("%s: %d of %d tensors bit-identical to the gguf package (types%s)\n", rel, n_ok, n_lines, kinds);
    char what[512];
    snprintf(what, sizeof what, "%s: every tensor bit-identical", rel);
    test_cond(what, n_lines > 0 && n_ok == n_lines);
    return 0;
}

int main(int argc, char **argv)
{
    hand_cases();
    if (argc == 1 && getenv("GQ_CLI")) cli_cases();
    for (int i = 1; i < argc; i++) check_fixture(argv[i]);
    return test_report("test_gguf_kquant");
}
