/* bench_paths.c — scoring throughput of each GQLA decoding path on a random
 * GQLA model of SmolLM2-135M's shape (D 576, 30 layers, H 9, G 3,
 * d_n = d_v = 64, d_r 32, r 128, no q LoRA, vocab 49152, I 1536, tied
 * embeddings), the way a server scores: prefill CTX tokens into the path's
 * cache, then feed CONT continuation tokens sq at a time, projecting every
 * fed row onto the vocabulary (as the scorer does for continuation rows).
 * Not a test: scripts/bench-paths.sh runs it.  The random checkpoint (bf16,
 * ~270 MB) is written once into DIR and reused.
 * Usage: bench_paths DIR [THREADS] [CTX] [CONT] [REPEATS] */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "model.h"
#include "safetensors.h"
#include "score.h"

enum { D = 576, L = 30, H = 9, G = 3, DN = 64, DR = 32, DV = 64, R = 128, V = 49152, I = 1536 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float nrand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    /* sum of 4 uniforms, centred and scaled to unit variance: cheap and good enough */
    double s = 0;
    for (int k = 0; k < 4; k++) s += (double)((rng >> (16 * k)) & 0xffff) / 65536.0;
    return (float)((s - 2.0) * 1.7320508);
}

static uint16_t bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

#define MAX_T (3 + 12 * L)
static gq_safetensors_entry ent[MAX_T];
static char names[MAX_T][80];
static int n_ent;

static void add(const char *name, int64_t rows, int64_t cols, double std, int norm)
{
    int64_t n = rows * (cols ? cols : 1);
    uint16_t *p = malloc((size_t)n * sizeof *p);
    for (int64_t i = 0; i < n; i++) p[i] = bf16(norm ? 1.0f + 0.2f * nrand() : (float)std * nrand());
    snprintf(names[n_ent], sizeof names[0], "%s", name);
    gq_safetensors_entry *e = &ent[n_ent++];
    e->name = names[n_ent - 1];
    e->dtype = GQ_DTYPE_BF16;
    e->n_dims = cols ? 2 : 1;
    e->shape[0] = rows;
    e->shape[1] = cols;
    e->data = p;
}

static int write_model(const char *dir)
{
    char path[4200], nm[80];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    struct stat st;
    if (stat(path, &st) == 0) return 0;
    mkdir(dir, 0755);
    fprintf(stderr, "writing a random GQLA model of SmolLM2's shape to %s ...\n", dir);
    add("model.embed_tokens.weight", V, D, 0.05, 0); /* tied: also the LM head */
    add("model.norm.weight", D, 0, 0, 1);
    for (int l = 0; l < L; l++) {
#define LAYER(suffix, rows, cols, std, norm)                              \
        snprintf(nm, sizeof nm, "model.layers.%d.%s", l, suffix);          \
        add(nm, rows, cols, std, norm)
        LAYER("input_layernorm.weight", D, 0, 0, 1);
        LAYER("post_attention_layernorm.weight", D, 0, 0, 1);
        LAYER("self_attn.q_proj.weight", H * (DN + DR), D, 1.0 / sqrt(D), 0);
        LAYER("self_attn.kv_a_proj_with_mqa.weight", R + DR, D, 1.0 / sqrt(D), 0);
        LAYER("self_attn.kv_a_layernorm.weight", R, 0, 0, 1);
        LAYER("self_attn.kv_b_proj.weight", G * (DN + DV), R, 1.0 / sqrt(R), 0);
        LAYER("self_attn.o_proj.weight", D, H * DV, 0.5 / sqrt(H * DV), 0);
        LAYER("mlp.gate_proj.weight", I, D, 1.0 / sqrt(D), 0);
        LAYER("mlp.up_proj.weight", I, D, 1.0 / sqrt(D), 0);
        LAYER("mlp.down_proj.weight", D, I, 0.5 / sqrt(I), 0);
#undef LAYER
    }
    gq_error err = {0};
    int rc = gq_safetensors_write(path, ent, (size_t)n_ent, &err);
    for (int i = 0; i < n_ent; i++) free((void *)ent[i].data);
    if (rc != GQ_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    char cfg[2048];
    snprintf(cfg, sizeof cfg,
             "{\"model_type\": \"deepseek_v3\", \"architectures\": [\"DeepseekV3ForCausalLM\"], \"hidden_size\": %d, "
             "\"intermediate_size\": %d, \"num_hidden_layers\": %d, \"num_attention_heads\": %d, "
             "\"num_key_value_heads\": %d, \"vocab_size\": %d, \"q_lora_rank\": null, \"kv_lora_rank\": %d, "
             "\"qk_nope_head_dim\": %d, \"qk_rope_head_dim\": %d, \"v_head_dim\": %d, \"head_dim\": %d, "
             "\"rope_theta\": 100000.0, \"rope_interleave\": true, \"qk_latent_layernorm\": true, "
             "\"rms_norm_eps\": 1e-5, \"first_k_dense_replace\": %d, \"n_routed_experts\": null, "
             "\"max_position_embeddings\": 8192, \"tie_word_embeddings\": true}\n",
             D, I, L, H, G, V, R, DN, DR, DV, DR, L);
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    if (!f || fputs(cfg, f) < 0 || fclose(f) != 0) return -1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_paths DIR [THREADS] [CTX] [CONT] [REPEATS]\n");
        return 2;
    }
    int threads = argc > 2 ? atoi(argv[2]) : 0, ctx = argc > 3 ? atoi(argv[3]) : 256;
    int cont = argc > 4 ? atoi(argv[4]) : 32, reps = argc > 5 ? atoi(argv[5]) : 2;
    if (write_model(argv[1]) != 0) return 2;
    gq_error err = {0};
    gq_model *m = NULL;
    gq_open_opts o = {1, threads, 512, 0, NULL, GQ_DEVICE_CPU, 0};
    if (gq_model_open(&m, argv[1], &o, &err) != GQ_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    int T = ctx + cont;
    int32_t *ids = malloc((size_t)(T + 1) * sizeof *ids); /* ids[T]: the last row's target */
    for (int i = 0; i <= T; i++) ids[i] = (int32_t)((i * 7919 + 13) % V);
    int rows[8];
    gq_score sc[8];
    const gq_path paths[2] = {GQ_PATH_GQA, GQ_PATH_ABSORB};
    const int sqs[2] = {1, 2};
    double lp_first[2] = {0, 0};
    for (int p = 0; p < 2; p++) {
        gq_kv_cache *kv = NULL;
        if (gq_kv_cache_init(&kv, m, paths[p], T, &err) != GQ_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 2;
        }
        for (int k = 0; k < 2; k++) {
            double best_pre = 1e30, best_dec = 1e30;
            for (int r = 0; r < reps; r++) {
                gq_kv_cache_truncate(kv, 0);
                double t0 = now();
                gq_forward(m, kv, ids, ctx, NULL, NULL, 0, NULL, &err);
                double t1 = now();
                for (int a = ctx; a < T; a += sqs[k]) {
                    int b = a + sqs[k] < T ? a + sqs[k] : T;
                    for (int i = a; i < b; i++) rows[i - a] = i - a;
                    gq_forward(m, kv, ids + a, b - a, rows, ids + a + 1, b - a, sc, &err);
                    if (a == ctx) lp_first[p] = sc[0].logprob;
                }
                double t2 = now();
                best_pre = fmin(best_pre, t1 - t0);
                best_dec = fmin(best_dec, t2 - t1);
            }
            int64_t e = gq_kv_cache_elems_per_token_layer(kv);
            printf("path %-6s sq %d  ctx %4d: prefill %7.1f tok/s, decode %6.1f tok/s (%d tokens, scored), "
                   "cache %lld elem/token/layer = %lld bf16 B/token\n",
                   gq_path_name(paths[p]), sqs[k], ctx, ctx / best_pre, cont / best_dec, cont, (long long)e,
                   (long long)(2 * e * L));
        }
        gq_kv_cache_free(kv);
    }
    printf("first continuation log-prob: gqa %.6f, absorb %.6f (diff %.2g)\n", lp_first[0], lp_first[1],
           fabs(lp_first[0] - lp_first[1]));
    free(ids);
    gq_model_close(m);
    return 0;
}
