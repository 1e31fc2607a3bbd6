/* cmd_roofline.c — `gqla-eval roofline --config C`: FLOPs per byte of KV
 * cache read by decode attention, per decoding path and number of queries
 * s_q, against the ridge point of a GPU (formulas: reports/report.h,
 * gq_roofline_point). */
#define _POSIX_C_SOURCE 200809L /* strtok_r */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "fileio.h"
#include "gq_alloc.h"
#include "report.h"

static const char *roofline_help =
    "Usage: gqla-eval roofline --config CONFIG [--hw h100|h20 | --flops F --bw B]\n"
    "                          [--sq 1,2,4] [--dtype-bytes 2]\n"
    "\n"
    "Arithmetic intensity of attention while decoding, per decoding path of a\n"
    "config.json (GQA: native; GQLA: gqa, gqa with k_pe per group, absorb; MLA:\n"
    "absorb, expanded), per cached token and layer:\n"
    "  bytes = E x dtype bytes, E = cache elements per token per layer\n"
    "  FLOPs = s_q x H x 2 x m, m = multiply-adds per head, query and cached token\n"
    "    native  E = 2*G*Dh             m = 2*Dh\n"
    "    gqa     E = G*(d_n+d_v) + d_r  m = (d_n+d_r) + d_v\n"
    "    gqa_kpe E = G*(d_n+d_r+d_v)    m = (d_n+d_r) + d_v\n"
    "    absorb  E = r + d_r            m = (r+d_r) + r\n"
    "    expanded E = H*(d_n+d_r+d_v)   m = (d_n+d_r) + d_v\n"
    "and where that lands against the GPU's ridge point (peak FLOP/s / bytes/s):\n"
    "below it attention is memory-bound, above it compute-bound.  Softmax and the\n"
    "per-query projections are left out (the long-context limit).\n"
    "\n"
    "Options:\n"
    "  --config C       a config.json or a folder holding one\n"
    "  --hw NAME        h100 (H100 SXM: 989 TFLOP/s bf16, 3.35 TB/s) or h20 (148 TFLOP/s,\n"
    "                   4.0 TB/s); default: both\n"
    "  --flops F --bw B another GPU: peak FLOP/s and bytes/s (e.g. 989e12 3.35e12)\n"
    "  --sq LIST        queries per cache read (decode 1, multi-token prediction 2..),\n"
    "                   default 1,2,4\n"
    "  --dtype-bytes N  bytes per cache element, default 2 (bf16)\n";

static int parse_sq(const char *s, int *sq, int max, int *n)
{
    *n = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long v;
        if (*n >= max || cli_parse_int(tok, 1, 4096, &v) != 0) return -1;
        sq[(*n)++] = (int)v;
    }
    return *n > 0 ? 0 : -1;
}

static int parse_positive(const char *s, double *out)
{
    char *end = NULL;
    *out = strtod(s, &end);
    return end && end != s && !*end && *out > 0.0 && *out < 1e30 ? 0 : -1;
}

int cmd_roofline(int argc, char **argv)
{
    const char *cfg_arg = NULL, *hw_name = NULL;
    double flops = 0.0, bw = 0.0;
    int sq[16] = {1, 2, 4}, n_sq = 3;
    long dtype_bytes = 2;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(roofline_help, stdout);
            return GQ_EXIT_OK;
        } else if (!strcmp(a, "--config") && i + 1 < argc) {
            cfg_arg = argv[++i];
        } else if (!strcmp(a, "--hw") && i + 1 < argc) {
            hw_name = argv[++i];
            if (!gq_roofline_hw_find(hw_name))
                return cli_usage_error("roofline", "--hw: unknown GPU '%s' (h100, h20; or --flops F --bw B)", hw_name);
        } else if (!strcmp(a, "--flops") && i + 1 < argc) {
            if (parse_positive(argv[++i], &flops))
                return cli_usage_error("roofline", "--flops takes FLOP/s > 0, e.g. 989e12; got '%s'", argv[i]);
        } else if (!strcmp(a, "--bw") && i + 1 < argc) {
            if (parse_positive(argv[++i], &bw))
                return cli_usage_error("roofline", "--bw takes bytes/s > 0, e.g. 3.35e12; got '%s'", argv[i]);
        } else if (!strcmp(a, "--sq") && i + 1 < argc) {
            if (parse_sq(argv[++i], sq, 16, &n_sq))
                return cli_usage_error("roofline", "--sq takes a comma list of 1..4096 (at most 16), got '%s'",
                                       argv[i]);
        } else if (!strcmp(a, "--dtype-bytes") && i + 1 < argc) {
            if (cli_parse_int(argv[++i], 1, 8, &dtype_bytes))
                return cli_usage_error("roofline", "--dtype-bytes takes 1..8, got '%s'", argv[i]);
        } else {
            return cli_usage_error("roofline", "unknown option or missing value: '%s'", a);
        }
    }
    if (!cfg_arg) return cli_usage_error("roofline", "missing --config CONFIG");
    if ((flops > 0.0) != (bw > 0.0)) return cli_usage_error("roofline", "--flops and --bw go together");
    if (flops > 0.0 && hw_name) return cli_usage_error("roofline", "either --hw or --flops/--bw, not both");

    gq_roofline_hw hws[2];
    size_t n_hw = 0;
    if (flops > 0.0) {
        hws[n_hw++] = (gq_roofline_hw){.name = "custom", .flops = flops, .bandwidth = bw};
    } else if (hw_name) {
        hws[n_hw++] = *gq_roofline_hw_find(hw_name);
    } else {
        hws[n_hw++] = *gq_roofline_hw_find("h100");
        hws[n_hw++] = *gq_roofline_hw_find("h20");
    }

    gq_error err = {0};
    gq_config cfg;
    char *cfg_path = gq_path_is_dir(cfg_arg) ? gq_path_join(cfg_arg, "config.json", &err) : gq_strdup(cfg_arg, &err);
    if (!cfg_path) return cli_fail(&err);
    int rc = gq_config_load_json(&cfg, cfg_path, &err);
    if (rc != GQ_OK) {
        gq_free(cfg_path);
        return cli_fail(&err);
    }
    printf("config:       %s\n", cfg_path);
    gq_free(cfg_path);
    if (cfg.arch == GQ_ARCH_GQLA || cfg.arch == GQ_ARCH_DEEPSEEK_MLA)
        printf("attention:    %s, H %lld, G %lld, d_n %lld, d_r %lld, d_v %lld, r %lld\n",
               cfg.arch == GQ_ARCH_GQLA ? "GQLA" : "MLA", (long long)cfg.num_attention_heads,
               (long long)cfg.num_key_value_heads, (long long)cfg.qk_nope_head_dim, (long long)cfg.qk_rope_head_dim,
               (long long)cfg.v_head_dim, (long long)cfg.kv_lora_rank);
    else
        printf("attention:    GQA (%s), H %lld, G %lld, head_dim %lld\n", gq_arch_name(cfg.arch),
               (long long)cfg.num_attention_heads, (long long)cfg.num_key_value_heads, (long long)cfg.head_dim);
    for (size_t h = 0; h < n_hw; h++)
        printf("hardware:     %-6s %8.1f TFLOP/s  %6.3f TB/s  ridge %8.2f FLOP/B\n", hws[h].name, hws[h].flops / 1e12,
               hws[h].bandwidth / 1e12, hws[h].flops / hws[h].bandwidth);
    printf("cache dtype:  %ld bytes per element\n", dtype_bytes);
    printf("FLOP/B = s_q x H x 2 x m / (E x %ld), per cached token and layer\n\n", dtype_bytes);
    printf("%-9s %10s %8s %7s %4s %12s %10s", "path", "E/tok/lyr", "bytes", "m/head", "s_q", "FLOP", "FLOP/B");
    for (size_t h = 0; h < n_hw; h++) printf("  %-6s %-8s %6s", hws[h].name, "bound", "/ridge");
    printf("\n");
    const gq_roofline_attn attn = {
        .kind = cfg.arch == GQ_ARCH_GQLA ? GQ_ROOFLINE_GQLA
                : cfg.arch == GQ_ARCH_DEEPSEEK_MLA ? GQ_ROOFLINE_MLA : GQ_ROOFLINE_GQA,
        .H = cfg.num_attention_heads, .G = cfg.num_key_value_heads, .head_dim = cfg.head_dim,
        .dn = cfg.qk_nope_head_dim, .dr = cfg.qk_rope_head_dim, .dv = cfg.v_head_dim, .r = cfg.kv_lora_rank,
    };
    gq_roofline_point pts[4];
    for (int s = 0; s < n_sq; s++) {
        size_t n = gq_roofline_points(&attn, sq[s], (int)dtype_bytes, pts);
        for (size_t p = 0; p < n; p++) {
            printf("%-9s %10lld %8lld %7lld %4d %12.0f %10.2f", pts[p].path, (long long)pts[p].cache_elems,
                   (long long)pts[p].bytes, (long long)pts[p].macs_per_head, sq[s], pts[p].flops, pts[p].intensity);
            for (size_t h = 0; h < n_hw; h++) {
                double ridge = hws[h].flops / hws[h].bandwidth;
                printf("  %-6s %-8s %5.2fx", hws[h].name, pts[p].intensity < ridge ? "memory" : "compute",
                       pts[p].intensity / ridge);
            }
            printf("\n");
        }
    }
    return GQ_EXIT_OK;
}
