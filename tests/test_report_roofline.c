/* test_report_roofline.c — `gqla-eval roofline` on configs the test writes.
 * The check, with the numbers computed here independently of the
 * program's formulas table (multiply-adds counted by hand per head, query
 * and cached token):
 *   MLA, H 128, r 512, d_r 64, d_n = d_v = 128, bf16:
 *     absorb   score over [c; k_pe] 576 MACs + output over c 512 MACs = 1088;
 *              FLOPs 2*128*1088 = 278528 per 576*2 = 1152 bytes: 241.78 FLOP/B
 *              at s_q 1, below the H100 ridge 989/3.35 = 295.22 (0.82 of it)
 *     expanded 2*128*(192+128) FLOPs per 128*320*2 bytes: exactly 1 FLOP/B
 *   GQLA, G 8: gqa cache 8*(128+128)+64 = 2112 elements = 4224 bytes;
 *              s_q 2: 2*2*128*320 = 163840 FLOPs: 38.79 FLOP/B, just above the
 *              H20 ridge 148/4 = 37 (compute-bound)
 *   GQA LLaMA-3-8B shape (H 32, G 8, Dh 128): (H/G) * s_q FLOP/B = 4 at s_q 1.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const char *mla_config =
    "{\"model_type\": \"deepseek_v3\", \"hidden_size\": 7168, \"intermediate_size\": 18432, "
    "\"num_hidden_layers\": 61, \"num_attention_heads\": 128, \"num_key_value_heads\": 128, \"vocab_size\": 129280, "
    "\"q_lora_rank\": 1536, \"kv_lora_rank\": 512, \"qk_nope_head_dim\": 128, \"qk_rope_head_dim\": 64, "
    "\"v_head_dim\": 128, \"first_k_dense_replace\": 61, \"n_routed_experts\": null}\n";

static const char *llama_config =
    "{\"model_type\": \"llama\", \"hidden_size\": 4096, \"intermediate_size\": 14336, \"num_hidden_layers\": 32, "
    "\"num_attention_heads\": 32, \"num_key_value_heads\": 8, \"vocab_size\": 128256}\n";

static const char *write_config(const char *name, const char *text)
{
    static char path[4200];
    snprintf(path, sizeof path, "%s/config.json", test_tmpdir(name));
    test_write_file(path, text, strlen(text));
    return path;
}

static int roofline(const char *args, char **out)
{
    char full[9000];
    snprintf(full, sizeof full, "roofline %s", args);
    int rc = test_run_cli(full, out);
    printf("--- gqla-eval %s (exit %d)\n%s", full, rc, *out ? *out : "");
    return rc;
}

/* The row of `path` at s_q: FLOP/B and the first hardware verdict + ratio. */
typedef struct row {
    int found;
    long long elems, bytes, macs;
    double flops, intensity, ratio;
    char hw[16], bound[16];
} row;

static row find_row(const char *out, const char *path, int sq)
{
    row r = {0};
    for (const char *line = out; line && *line;) {
        const char *nl = strchr(line, '\n');
        char name[32], ratio[32];
        int s;
        if (sscanf(line, "%31s %lld %lld %lld %d %lf %lf %15s %15s %31s", name, &r.elems, &r.bytes, &r.macs, &s,
                   &r.flops, &r.intensity, r.hw, r.bound, ratio) == 10 &&
            !strcmp(name, path) && s == sq) {
            r.found = 1;
            r.ratio = strtod(ratio, NULL);
            return r;
        }
        line = nl ? nl + 1 : NULL;
    }
    printf("  no row for %s at s_q %d\n", path, sq);
    return r;
}

int main(void)
{
    char args[8400], *out = NULL;
    const char *mla = write_config("roof-mla", mla_config);
    char mla_path[4200];
    snprintf(mla_path, sizeof mla_path, "%s", mla);

    snprintf(args, sizeof args, "--config '%s' --hw h100 --sq 1", mla_path);
    test_cond("roofline on the MLA config exits 0", roofline(args, &out) == 0);
    const double h100_ridge = 989e12 / 3.35e12, h20_ridge = 148e12 / 4.0e12;
    const double absorb_1 = 2.0 * 128 * ((512 + 64) + 512) / ((512.0 + 64) * 2);
    row r = find_row(out, "absorb", 1);
    test_cond("H100 ridge printed as 295.22 FLOP/B", test_has(out, "ridge   295.22 FLOP/B"));
    test_cond("MLA absorb at s_q 1: 576 elements, 1152 bytes, 1088 MACs per head",
              r.found && r.elems == 576 && r.bytes == 1152 && r.macs == 1088 && r.flops == 278528.0);
    test_cond("MLA absorb at s_q 1: 241.78 FLOP/B (hand), memory-bound, just below the H100 ridge",
              r.found && fabs(r.intensity - absorb_1) < 0.006 && !strcmp(r.hw, "h100") && !strcmp(r.bound, "memory") &&
                  absorb_1 < h100_ridge && absorb_1 > 0.8 * h100_ridge && fabs(r.ratio - absorb_1 / h100_ridge) < 0.006);
    r = find_row(out, "expanded", 1);
    test_cond("MLA expanded: 40960 elements, exactly 1 FLOP/B in bf16",
              r.found && r.elems == 128 * 320 && fabs(r.intensity - 1.0) < 1e-9 && !strcmp(r.bound, "memory"));
    free(out);

    snprintf(args, sizeof args, "--config '%s' --hw h100 --sq 2 --dtype-bytes 1", mla_path);
    out = NULL;
    test_cond("MLA --sq 2 --dtype-bytes 1 exits 0", roofline(args, &out) == 0);
    r = find_row(out, "absorb", 2);
    test_cond("absorb: two queries and one-byte cache quadruple the intensity, compute-bound on H100",
              r.found && fabs(r.intensity - 4.0 * absorb_1) < 0.006 && !strcmp(r.bound, "compute"));
    free(out);

    /* GQLA with 8 groups: the same shape with num_key_value_heads 8. */
    char *gqla_text = strdup(mla_config);
    char *kv = gqla_text ? strstr(gqla_text, "\"num_key_value_heads\": 128") : NULL;
    if (kv) memcpy(kv, "\"num_key_value_heads\":   8", strlen("\"num_key_value_heads\": 128"));
    const char *gqla = write_config("roof-gqla", gqla_text ? gqla_text : "");
    free(gqla_text);
    snprintf(args, sizeof args, "--config '%s' --hw h20 --sq 1,2", gqla);
    out = NULL;
    test_cond("roofline on the GQLA config exits 0", roofline(args, &out) == 0);
    const double gqa_2 = 2.0 * 2 * 128 * ((128 + 64) + 128) / ((8.0 * (128 + 128) + 64) * 2);
    r = find_row(out, "gqa", 2);
    test_cond("H20 ridge printed as 37.00 FLOP/B", test_has(out, "ridge    37.00 FLOP/B"));
    test_cond("GQLA gqa at s_q 2: 2112 elements, 38.79 FLOP/B (hand), compute-bound just past the H20 ridge",
              r.found && r.elems == 2112 && r.bytes == 4224 && fabs(r.intensity - gqa_2) < 0.006 &&
                  fabs(gqa_2 - 38.79) < 0.005 && !strcmp(r.bound, "compute") && gqa_2 > h20_ridge && gqa_2 < 1.1 * h20_ridge);
    r = find_row(out, "gqa", 1);
    test_cond("GQLA gqa at s_q 1: half of it, memory-bound on H20",
              r.found && fabs(r.intensity - gqa_2 / 2) < 0.006 && !strcmp(r.bound, "memory"));
    r = find_row(out, "gqa_kpe", 2);
    test_cond("GQLA gqa with k_pe per group at s_q 2: 2560 elements, 32 FLOP/B",
              r.found && r.elems == 2560 && fabs(r.intensity - 32.0) < 1e-9);
    r = find_row(out, "absorb", 1);
    test_cond("GQLA absorb equals MLA absorb (the latent cache does not depend on G)",
              r.found && fabs(r.intensity - absorb_1) < 0.006);
    free(out);

    const char *llama = write_config("roof-llama", llama_config);
    snprintf(args, sizeof args, "--config '%s' --flops 100e12 --bw 1e12 --sq 1", llama);
    out = NULL;
    test_cond("roofline on a GQA config with custom hardware exits 0", roofline(args, &out) == 0);
    r = find_row(out, "native", 1);
    test_cond("GQA native: 2*8*128 elements, H/G = 4 FLOP/B, ridge 100 (custom)",
              r.found && r.elems == 2048 && fabs(r.intensity - 4.0) < 1e-9 && !strcmp(r.hw, "custom") &&
                  test_has(out, "ridge   100.00 FLOP/B") && fabs(r.ratio - 0.04) < 0.006);
    free(out);

    /* Usage errors and a missing config: exit 2. */
    out = NULL;
    test_cond("roofline without --config: exit 2",
              roofline("--hw h100", &out) == 2 && test_has(out, "missing --config"));
    free(out);
    out = NULL;
    snprintf(args, sizeof args, "--config '%s' --hw a100", llama);
    test_cond("unknown --hw: exit 2", roofline(args, &out) == 2 && test_has(out, "unknown GPU 'a100'"));
    free(out);
    out = NULL;
    snprintf(args, sizeof args, "--config '%s' --flops 1e12", llama);
    test_cond("--flops without --bw: exit 2", roofline(args, &out) == 2 && test_has(out, "go together"));
    free(out);
    out = NULL;
    snprintf(args, sizeof args, "--config '%s' --sq 0", llama);
    test_cond("--sq 0: exit 2", roofline(args, &out) == 2 && test_has(out, "--sq"));
    free(out);
    out = NULL;
    test_cond("missing config file: exit 2 naming it",
              roofline("--config /nonexistent/config.json", &out) == 2 && test_has(out, "/nonexistent/config.json"));
    free(out);
    out = NULL;
    test_cond("roofline --help documents the formulas", roofline("--help", &out) == 0 && test_has(out, "E = r + d_r"));
    free(out);
    return test_report("test_report_roofline");
}
