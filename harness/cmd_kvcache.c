/* cmd_kvcache.c — `gqla-eval kvcache --config config.json`: the KV cache a
 * token costs under every decoding path of a config (conversion.md §2.4),
 * without weights.  Also the table `gqla-eval info` prints.
 *
 * Elements per token per layer:
 *   source GQA            2*G*d       (GQLA: d from gqla_meta.json's source, else d_n)
 *   native (GQA models)   2*G*d
 *   absorb                r + d_r
 *   gqa (minimal)         G*(d_n+d_v) + d_r
 *   gqa, k_pe per group   G*(d_n+d_r+d_v)  (what stock GQA kernels store)
 *   expanded              H*(d_n+d_r+d_v)  (HF's MLA cache; for GQLA its MLA view)
 * Bytes: 2 per element in bf16, 4 in f32; "model" multiplies by the layers.
 * --tp N adds what each tensor-parallel rank caches (engine/tp.h): its
 * groups [r*G/N, (r+1)*G/N) on the gqa path (k^R on every rank), the
 * whole latent on every rank on the absorb path. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fileio.h"
#include "gq_alloc.h"
#include "kvcache_table.h"
#include "tp.h"

static const char *kvcache_help =
    "Usage: gqla-eval kvcache --config CONFIG [--tp N]\n"
    "\n"
    "KV-cache cost per token of every decoding path of a model, from its config.json\n"
    "alone (no weights): elements and bytes (bf16, f32) per layer and for the whole\n"
    "model, and the ratio to the source GQA cache 2*G*d (conversion.md §2.4).\n"
    "CONFIG: a config.json, or a folder holding one.  A gqla_meta.json beside it\n"
    "supplies the source head_dim of a converted model; without it d = qk_nope_head_dim.\n"
    "--tp N also prints each tensor-parallel rank's cache per path: rank r holds the\n"
    "groups [r*G/N, (r+1)*G/N) (they need not divide evenly; 1 <= N <= G), so the gqa\n"
    "path caches G_r*(d_n+d_v) + d_r per rank, while absorb keeps the whole latent\n"
    "r + d_r on every rank (MLA's limitation).\n";

static void row(FILE *f, const char *name, int64_t elems, int64_t L, int64_t base)
{
    fprintf(f, "  %-40s %8lld %10lld %10lld %13lld %13lld", name, (long long)elems, (long long)(2 * elems),
            (long long)(4 * elems), (long long)(2 * elems * L), (long long)(4 * elems * L));
    if (base > 0) fprintf(f, " %9.3f%%", 100.0 * (double)elems / (double)base);
    fprintf(f, "\n");
}

void kvcache_print_table(FILE *f, const gq_config *c)
{
    const int64_t L = c->num_hidden_layers, G = c->num_key_value_heads, H = c->num_attention_heads;
    const int mla = c->arch == GQ_ARCH_DEEPSEEK_MLA || c->arch == GQ_ARCH_GQLA;
    int recorded = 0;
    int64_t src = gq_config_source_cache_elems(c, &recorded);
    char name[96], rq[32] = "null (q_proj)";
    if (c->q_lora_rank > 0) snprintf(rq, sizeof rq, "%lld", (long long)c->q_lora_rank);

    if (mla)
        fprintf(f, "attention:           %s, H %lld, %s %lld, d_n %lld, d_r %lld, d_v %lld, r %lld, r_q %s\n",
                c->arch == GQ_ARCH_GQLA ? "GQLA" : "MLA", (long long)H, c->arch == GQ_ARCH_GQLA ? "G" : "N_kv",
                (long long)G, (long long)c->qk_nope_head_dim, (long long)c->qk_rope_head_dim, (long long)c->v_head_dim,
                (long long)c->kv_lora_rank, rq);
    if (c->arch == GQ_ARCH_GQLA) {
        if (recorded)
            fprintf(f, "source GQA cache:    2*G*d = 2 x %lld x %lld = %lld elements (from gqla_meta.json)\n",
                    (long long)(c->source_num_kv_heads > 0 ? c->source_num_kv_heads : G),
                    (long long)c->source_head_dim, (long long)src);
        else
            fprintf(f,
                    "source GQA cache:    2*G*d = 2 x %lld x %lld = %lld elements, with d = qk_nope_head_dim "
                    "(no source head_dim recorded; TransGQLA keeps d_n = d for GQA sources)\n",
                    (long long)G, (long long)c->qk_nope_head_dim, (long long)src);
    } else if (c->arch == GQ_ARCH_DEEPSEEK_MLA) {
        src = gq_config_path_cache_elems(c, GQ_PATH_EXPANDED);
        fprintf(f, "reference cache:     HF's expanded MLA cache H*(d_n+d_r+d_v) = %lld elements (no GQA source)\n",
                (long long)src);
    }
    fprintf(f, "kv cache per token:  %lld layers; bytes = elements x 2 (bf16) or x 4 (f32)\n", (long long)L);
    fprintf(f, "  %-40s %8s %10s %10s %13s %13s %10s\n", "layout", "elem/lyr", "bf16 B/lyr", "f32 B/lyr",
            "bf16 B/model", "f32 B/model", mla && c->arch == GQ_ARCH_DEEPSEEK_MLA ? "vs HF" : "vs source");
    if (!mla) {
        snprintf(name, sizeof name, "native (2*G*d, G %lld, d %lld)", (long long)G, (long long)c->head_dim);
        row(f, name, gq_config_path_cache_elems(c, GQ_PATH_NATIVE), L, src);
        return;
    }
    if (c->arch == GQ_ARCH_GQLA) row(f, "source GQA (2*G*d)", src, L, src);
    row(f, "absorb (r + d_r)", gq_config_path_cache_elems(c, GQ_PATH_ABSORB), L, src);
    if (c->arch == GQ_ARCH_GQLA) {
        row(f, "gqa (G*(d_n+d_v) + d_r)", gq_config_path_cache_elems(c, GQ_PATH_GQA), L, src);
        row(f, "gqa, k_pe per group (G*(d_n+d_r+d_v))", gq_config_path_cache_elems(c, GQ_PATH_EXPANDED), L, src);
        row(f, "MLA view, HF expanded (H*(d_n+d_r+d_v))",
            H * (c->qk_nope_head_dim + c->qk_rope_head_dim + c->v_head_dim), L, src);
    } else {
        row(f, "expanded (H*(d_n+d_r+d_v))", gq_config_path_cache_elems(c, GQ_PATH_EXPANDED), L, src);
    }
}

void kvcache_print_tp_table(FILE *f, const gq_config *c, int tp)
{
    const int64_t L = c->num_hidden_layers;
    fprintf(f, "per tensor-parallel rank, tp %d: rank r holds groups [r*G/%d, (r+1)*G/%d) of G %lld", tp, tp, tp,
            (long long)c->num_key_value_heads);
    fprintf(f, c->arch == GQ_ARCH_GQLA || c->arch == GQ_ARCH_DEEPSEEK_MLA ? "; absorb replicates the latent\n" : "\n");
    fprintf(f, "  %-8s %-7s %-16s %8s %10s %10s %13s %13s\n", "path", "rank", "groups", "elem/lyr", "bf16 B/lyr",
            "f32 B/lyr", "bf16 B/model", "f32 B/model");
    for (int p = 0; p < GQ_PATH_COUNT; p++) {
        if (!gq_config_path_supported(c, (gq_path)p)) continue;
        for (int r = 0; r < tp; r++) {
            int64_t g0, g1, e = gq_tp_cache_elems(c, (gq_path)p, r, tp);
            char groups[40];
            gq_tp_range(c->num_key_value_heads, r, tp, &g0, &g1);
            snprintf(groups, sizeof groups, "groups [%lld, %lld)", (long long)g0, (long long)g1);
            fprintf(f, "  %-8s rank %-2d %-16s %8lld %10lld %10lld %13lld %13lld\n", gq_path_name((gq_path)p), r,
                    groups, (long long)e, (long long)(2 * e), (long long)(4 * e), (long long)(2 * e * L),
                    (long long)(4 * e * L));
        }
    }
}

int cmd_kvcache(int argc, char **argv)
{
    const char *arg = NULL;
    long tp = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(kvcache_help, stdout);
            return GQ_EXIT_OK;
        } else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            if (arg) return cli_usage_error("kvcache", "one --config only");
            arg = argv[++i];
        } else if (!strcmp(argv[i], "--tp") && i + 1 < argc) {
            if (cli_parse_int(argv[++i], 1, 4096, &tp)) return cli_usage_error("kvcache", "--tp takes a rank count >= 1");
        } else {
            return cli_usage_error("kvcache", "unknown option or missing value: '%s'", argv[i]);
        }
    }
    if (!arg) return cli_usage_error("kvcache", "missing --config CONFIG");

    gq_error err = {0};
    gq_config cfg;
    char *cfg_path = NULL, *dir = NULL, *meta = NULL;
    int rc = GQ_EXIT_ERROR;
    if (gq_path_is_dir(arg)) {
        dir = gq_strdup(arg, &err);
        cfg_path = dir ? gq_path_join(arg, "config.json", &err) : NULL;
    } else {
        cfg_path = gq_strdup(arg, &err);
        const char *slash = strrchr(arg, '/');
        dir = gq_strdup(slash ? arg : ".", &err);
        if (dir && slash) dir[slash - arg] = '\0';
        if (dir && slash == arg) strcpy(dir, "/");
    }
    if (!cfg_path || !dir) goto fail;
    if (gq_config_load_json(&cfg, cfg_path, &err) != GQ_OK) goto fail;
    meta = gq_path_join(dir, "gqla_meta.json", &err);
    if (!meta) goto fail;
    if (gq_path_exists(meta) && gq_config_load_source_meta(&cfg, meta, &err) != GQ_OK) goto fail;
    printf("config:              %s\n", cfg_path);
    printf("architecture:        %s (model_type %s)\n", gq_arch_name(cfg.arch), cfg.model_type);
    if (tp > 0 && gq_tp_check(&cfg, 0, (int)tp, cfg_path, &err) != GQ_OK) goto fail;
    kvcache_print_table(stdout, &cfg);
    if (tp > 0) kvcache_print_tp_table(stdout, &cfg, (int)tp);
    rc = GQ_EXIT_OK;
    goto done;
fail:
    rc = cli_fail(&err);
done:
    gq_free(cfg_path);
    gq_free(dir);
    gq_free(meta);
    return rc;
}
