/* bench_paths.c — scoring throughput of each GQLA decoding path on a random
 * GQLA model, the way a server scores: prefill CTX tokens into the path's
 * cache, then feed CONT continuation tokens sq at a time, projecting every
 * fed row onto the vocabulary (as the scorer does for continuation rows).
 * Shapes: smollm2 (SmolLM2-135M converted: D 576, 30 layers, H 9, G 3,
 * d_n = d_v = 64, d_r 32, r 128, vocab 49152, I 1536) and llama3-8b
 * (LLaMA-3-8B converted as conversion.md §2.4: D 4096, H 32, G 8,
 * d_n = d_v = 128, d_r 64, r 512, vocab 128256, I 14336; --layers of them),
 * no q LoRA, tied embeddings, bf16.  The random checkpoint is written once
 * into DIR and reused.
 * With --device cuda the model runs on the GPU; the device memory it holds
 * (weights, each path's cache per token, the activation arena) is printed
 * beside the same figures computed here from the shape, and with --peak F
 * --bw B (FLOP/s, bytes/s) each decode rate beside a roofline prediction:
 * a decode step of sq tokens reads the weights once and the cache of every
 * layer, and does 2 x params x sq FLOPs plus attention's (cmd_roofline.c's
 * m per path), so it takes at least max(bytes / B, FLOPs / F).
 * Not a test: scripts/bench-paths.sh runs it.
 * Usage: bench_paths DIR [THREADS] [CTX] [CONT] [REPEATS] [--shape smollm2|llama3-8b]
 *        [--layers N] [--device cpu|cuda|cpu-copy] [--sq 1,2,4] [--peak F --bw B]
 * (cpu-copy: the model moved into CPU backend memory the way --device cuda
 * moves it to the GPU, so that the memory figures can be checked here.) */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "backend.h"
#include "model.h"
#include "model_internal.h"
#include "safetensors.h"
#include "score.h"

/* The shape (set in main from --shape / --layers). */
static int D = 576, L = 30, H = 9, G = 3, DN = 64, DR = 32, DV = 64, R = 128, V = 49152, I = 1536;

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

#define MAX_T (3 + 12 * 128)
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

static int write_model(const char *dir, const char *shape)
{
    char path[4200], nm[80];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    struct stat st;
    if (stat(path, &st) == 0) return 0;
    mkdir(dir, 0755);
    fprintf(stderr, "writing a random GQLA model of %s's shape (%d layers) to %s ...\n", shape, L, dir);
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
    int threads = 0, ctx = 256, cont = 32, reps = 2, n_pos = 0, device = GQ_DEVICE_CPU, layers = 0;
    int sqs[8] = {1, 2}, n_sq = 2, cpu_copy = 0;
    double peak = 0, bw = 0;
    const char *shape = "smollm2";
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(a, "--shape")) shape = v, i++;
        else if (!strcmp(a, "--layers")) layers = atoi(v), i++;
        else if (!strcmp(a, "--device")) {
            device = !strncmp(v, "cuda", 4) ? GQ_DEVICE_CUDA : GQ_DEVICE_CPU;
            cpu_copy = !strcmp(v, "cpu-copy");
            i++;
        }
        else if (!strcmp(a, "--peak")) peak = atof(v), i++;
        else if (!strcmp(a, "--bw")) bw = atof(v), i++;
        else if (!strcmp(a, "--sq")) {
            n_sq = 0;
            for (const char *c = v; *c && n_sq < 8; c = strchr(c, ',') ? strchr(c, ',') + 1 : "") sqs[n_sq++] = atoi(c);
            i++;
        } else if (n_pos == 0) threads = atoi(a), n_pos++;
        else if (n_pos == 1) ctx = atoi(a), n_pos++;
        else if (n_pos == 2) cont = atoi(a), n_pos++;
        else if (n_pos == 3) reps = atoi(a), n_pos++;
    }
    if (!strcmp(shape, "llama3-8b")) {
        D = 4096, L = 2, H = 32, G = 8, DN = 128, DR = 64, DV = 128, R = 512, V = 128256, I = 14336;
    } else if (strcmp(shape, "smollm2") != 0) {
        fprintf(stderr, "bench_paths: --shape takes smollm2 or llama3-8b\n");
        return 2;
    }
    if (layers > 0 && layers <= 128) L = layers;
    if (write_model(argv[1], shape) != 0) return 2;
    gq_error err = {0};
    gq_model *m = NULL;
    gq_open_opts o = {1, threads, 512, 0, NULL, device, 0};
    if (gq_model_open(&m, argv[1], &o, &err) != GQ_OK ||
        (cpu_copy && gq_model_move_to(m, gq_backend_cpu(), "cpu-copy", &err) != GQ_OK)) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    const int on_device = device == GQ_DEVICE_CUDA || cpu_copy;
    int T = ctx + cont;
    int32_t *ids = malloc((size_t)(T + 1) * sizeof *ids); /* ids[T]: the last row's target */
    for (int i = 0; i <= T; i++) ids[i] = (int32_t)((i * 7919 + 13) % V);
    int rows[8];
    gq_score sc[8];
    const gq_path paths[2] = {GQ_PATH_GQA, GQ_PATH_ABSORB};
    double lp_first[2] = {0, 0};
    printf("shape %s, %d layers, on %s\n", shape, L, gq_model_device(m));
    /* Device memory against the shape: weights as stored (bf16 matrices,
     * float32 norms and kv_b_proj, 256-byte aligned blocks), activations
     * for 512 rows (x, xb, q, att_out, hb, hb2, kva, lat and the RoPE
     * tables, float32; 3 int rows). */
    if (on_device) {
        const double mat = 2.0 * ((double)V * D + (double)L * ((double)H * (DN + DR) * D + (double)(R + DR) * D +
                                                              (double)D * H * DV + 3.0 * I * D));
        const double vec = 4.0 * ((double)D + (double)L * (2.0 * D + R + (double)G * (DN + DV) * R));
        const double act = 4.0 * (512.0 * (2.0 * D + H * (DN + DR) + H * DV + 2.0 * I + (R + DR) + R) +
                                  8192.0 * DR) + 3.0 * 512 * 4;
        printf("device memory: weights %.0f B (shape: %.0f stored matrices + %.0f float32 vectors = %.0f, "
               "alignment aside: %s), activations %zu B (shape: %.0f: %s)\n",
               (double)gq_model_device_weight_bytes(m), mat, vec, mat + vec,
               fabs((double)gq_model_device_weight_bytes(m) - mat - vec) < 256.0 * (12 * L + 4) ? "equal" : "DIFFERS",
               gq_model_device_activation_bytes(m), act,
               fabs((double)gq_model_device_activation_bytes(m) - act) < 512 ? "equal" : "DIFFERS");
    }
    for (int p = 0; p < 2; p++) {
        gq_kv_cache *kv = NULL;
        if (gq_kv_cache_init(&kv, m, paths[p], T, &err) != GQ_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 2;
        }
        if (on_device) {
            const double e = paths[p] == GQ_PATH_GQA ? (double)G * (DN + DV) + DR : (double)R + DR;
            printf("  %s cache: %zu B for %d positions = %.0f B/token (shape: %.0f elements x 4 B x %d layers: %s)\n",
                   gq_path_name(paths[p]), gq_kv_cache_bytes(kv), T, (double)gq_kv_cache_bytes(kv) / T, e, L,
                   gq_kv_cache_bytes(kv) == (size_t)(e * 4 * L * T) ? "equal" : "DIFFERS");
        }
        for (int k = 0; k < n_sq; k++) {
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
                   "cache %lld elem/token/layer = %lld bf16 B/token",
                   gq_path_name(paths[p]), sqs[k], ctx, ctx / best_pre, cont / best_dec, cont, (long long)e,
                   (long long)(2 * e * L));
            if (peak > 0 && bw > 0) {
                /* One decode step of sq tokens at context ctx (float32 cache). */
                const double params = (double)V * D + (double)L * ((double)H * (DN + DR) * D + (double)(R + DR) * D +
                                                                  (double)D * H * DV + 3.0 * I * D);
                const double mq = paths[p] == GQ_PATH_GQA ? (double)(DN + DR) + DV : (double)(R + DR) + R;
                const double bytes = 2.0 * params + 4.0 * (double)e * L * ctx;
                const double flops = 2.0 * params * sqs[k] + (double)sqs[k] * H * 2.0 * mq * ctx * L;
                const double t = fmax(bytes / bw, flops / peak);
                printf("; roofline %.0f tok/s (%s-bound), measured %.1f %%", sqs[k] / t,
                       bytes / bw > flops / peak ? "memory" : "compute", 100.0 * (cont / best_dec) / (sqs[k] / t));
            }
            printf("\n");
        }
        gq_kv_cache_free(kv);
    }
    printf("first continuation log-prob: gqa %.6f, absorb %.6f (diff %.2g)\n", lp_first[0], lp_first[1],
           fabs(lp_first[0] - lp_first[1]));
    free(ids);
    gq_model_close(m);
    return 0;
}
