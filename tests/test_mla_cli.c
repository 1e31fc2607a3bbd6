/* test_mla_cli.c — the MLA / GQLA commands through the CLI.  Cache
 * accounting (conversion.md §2.4, §6.2 8): `gqla-eval kvcache --config` on the LLaMA-3-8B-shaped GQLA config
 * of the worked check (absorb 576 = 28.125 % of 2048, GQA path 2112, k_pe
 * per group 2560; bf16 x 32 layers: 131072 / 36864 / 135168 bytes), on
 * SmolLM2's shape (§2.4: 384 / 160 / 416), with a gqla_meta.json recording
 * the source head_dim, on a GQA config, bad usage, and `gqla-eval info` on
 * the MLA fixture folder.  Scoring: `gqla-eval score --path both --sq 2`
 * on the MLA fixture (paths compared, exit 0), a path the model lacks and
 * --path both on a GQA model (exit 2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const char *gqla_config =
    "{\"model_type\": \"deepseek_v3\", \"architectures\": [\"DeepseekV3ForCausalLM\"], "
    "\"hidden_size\": 4096, \"intermediate_size\": 14336, \"num_hidden_layers\": 32, "
    "\"num_attention_heads\": 32, \"num_key_value_heads\": 8, \"vocab_size\": 128256, "
    "\"q_lora_rank\": null, \"kv_lora_rank\": 512, \"qk_nope_head_dim\": 128, \"qk_rope_head_dim\": 64, "
    "\"v_head_dim\": 128, \"head_dim\": 64, \"rope_theta\": 500000.0, \"rope_interleave\": true, "
    "\"qk_latent_layernorm\": false, \"rms_norm_eps\": 1e-5, \"first_k_dense_replace\": 32, "
    "\"n_routed_experts\": null, \"max_position_embeddings\": 8192}\n";

static const char *smol_config =
    "{\"model_type\": \"deepseek_v3\", \"hidden_size\": 576, \"intermediate_size\": 1536, "
    "\"num_hidden_layers\": 30, \"num_attention_heads\": 9, \"num_key_value_heads\": 3, \"vocab_size\": 49152, "
    "\"q_lora_rank\": null, \"kv_lora_rank\": 128, \"qk_nope_head_dim\": 64, \"qk_rope_head_dim\": 32, "
    "\"v_head_dim\": 64, \"first_k_dense_replace\": 30, \"n_routed_experts\": null}\n";

static const char *llama_config =
    "{\"model_type\": \"llama\", \"hidden_size\": 4096, \"intermediate_size\": 14336, \"num_hidden_layers\": 32, "
    "\"num_attention_heads\": 32, \"num_key_value_heads\": 8, \"vocab_size\": 128256}\n";

/* Write text to DIR/config.json (and meta to gqla_meta.json if given), run kvcache. */
static int run_kvcache(const char *name, const char *cfg, const char *meta, char **out)
{
    char dir[4096], path[4200], args[4400];
    snprintf(dir, sizeof dir, "%s", test_tmpdir(name));
    snprintf(path, sizeof path, "%s/config.json", dir);
    test_write_file(path, cfg, strlen(cfg));
    if (meta) {
        char mp[4200];
        snprintf(mp, sizeof mp, "%s/gqla_meta.json", dir);
        test_write_file(mp, meta, strlen(meta));
    }
    snprintf(args, sizeof args, "kvcache --config '%s'", path);
    int rc = test_run_cli(args, out);
    printf("--- gqla-eval %s (exit %d)\n%s", args, rc, *out ? *out : "");
    return rc;
}

int main(void)
{
    char *out = NULL;
    int rc = run_kvcache("kv-llama3-8b-gqla", gqla_config, NULL, &out);
    test_cond("kvcache on the LLaMA-3-8B GQLA config exits 0", rc == 0);
    test_cond("source GQA cache 2048 = 2*G*d with d = qk_nope_head_dim, said so",
              test_has(out, "= 2048 elements, with d = qk_nope_head_dim"));
    test_cond("absorb 576 elements = 28.125 % of the original 2048",
              test_has(out, "absorb (r + d_r)") && test_has(out, "     576       1152       2304         36864         73728    28.125%"));
    test_cond("GQA path 2112 elements = 103.125 %, 135168 bf16 bytes per token",
              test_has(out, "    2112       4224       8448        135168        270336   103.125%"));
    test_cond("GQA path with k_pe per group 2560 = 125 %", test_has(out, "    2560 ") && test_has(out, "125.000%"));
    test_cond("source 131072 bf16 bytes per token for 32 layers", test_has(out, "131072"));
    test_cond("MLA view 10240", test_has(out, "   10240 "));
    free(out);

    rc = run_kvcache("kv-smollm2-gqla", smol_config, NULL, &out);
    test_cond("SmolLM2 shape: source 384, absorb 160 (41.667 %), GQA path 416",
              rc == 0 && test_has(out, "= 384 elements") && test_has(out, "     160 ") && test_has(out, "41.667%") &&
                  test_has(out, "     416 "));
    free(out);

    rc = run_kvcache("kv-meta", smol_config,
                     "{\"format\": \"gqla-meta\", \"version\": 1, \"source\": {\"num_key_value_heads\": 3, "
                     "\"head_dim\": 80}}\n",
                     &out);
    test_cond("gqla_meta.json's source head_dim is used: 2*3*80 = 480",
              rc == 0 && test_has(out, "2 x 3 x 80 = 480 elements (from gqla_meta.json)") && test_has(out, "33.333%"));
    free(out);

    rc = run_kvcache("kv-llama", llama_config, NULL, &out);
    test_cond("GQA config: native 2048 = 100 %", rc == 0 && test_has(out, "native (2*G*d, G 8, d 128)") &&
                                                     test_has(out, "    2048 ") && test_has(out, "100.000%"));
    free(out);

    rc = test_run_cli("kvcache", &out);
    test_cond("kvcache without --config: exit 2 with a usage message", rc == 2 && test_has(out, "missing --config"));
    free(out);
    rc = test_run_cli("kvcache --config /nonexistent/config.json", &out);
    test_cond("kvcache on a missing file: exit 2 naming it", rc == 2 && test_has(out, "/nonexistent/config.json"));
    free(out);

    /* info on an MLA checkpoint shows every path of it. */
    char args[4400];
    snprintf(args, sizeof args, "info '%s'", test_fixture("mla/dsv3-plainq"));
    rc = test_run_cli(args, &out);
    if (out && !strstr(out, "No such") && rc != 2) {
        printf("--- gqla-eval %s (exit %d)\n%s", args, rc, out);
        test_cond("info on the MLA fixture: absorb and expanded rows, vs HF's expanded cache",
                  rc == 0 && test_has(out, "absorb (r + d_r)") && test_has(out, "expanded (H*(d_n+d_r+d_v))") &&
                      test_has(out, "decoding paths:      absorb, expanded (default absorb)"));
    }
    free(out);

    /* score under both MLA paths, and refused paths */
    snprintf(args, sizeof args, "score '%s' --ids 5,9,33,12,7,100,3,8 --from 4 --path both --sq 2 --json",
             test_fixture("mla/dsv3-qlora-yarn"));
    rc = test_run_cli(args, &out);
    if (out && strstr(out, "No such")) {
        free(out);
        return test_report("mla_cli");
    }
    printf("--- gqla-eval %s (exit %d)\n%s", args, rc, out ? out : "");
    test_cond("score --path both on MLA: exit 0, both paths per token, max_path_diff",
              rc == 0 && test_has(out, "\"paths\": {\"absorb\": ") && test_has(out, "\"expanded\": ") &&
                  test_has(out, "\"sq\": 2, \"max_path_diff\": "));
    free(out);
    snprintf(args, sizeof args, "score '%s' --ids 5,9,33 --path gqa", test_fixture("mla/dsv3-qlora-yarn"));
    rc = test_run_cli(args, &out);
    test_cond("score --path gqa on an MLA model: exit 2 naming its paths",
              rc == 2 && test_has(out, "decoding path 'gqa' does not apply to a deepseek-mla model (it has: absorb, expanded)"));
    free(out);
    snprintf(args, sizeof args, "score '%s' --ids 5,9,33 --path both", test_fixture("forward/llama-gqa-f32"));
    rc = test_run_cli(args, &out);
    test_cond("score --path both on a GQA model: exit 2", rc == 2 && test_has(out, "--path both needs an MLA or GQLA model"));
    free(out);
    return test_report("mla_cli");
}
