/* main_fixtures.c — tiny original + GQLA models (main_fixtures.h). */
#define _POSIX_C_SOURCE 200809L
#include "main_fixtures.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "demo_model.h"
#include "safetensors.h"
#include "testutil.h"

int mf_write_tokenizer(const char *dir, int ascii_only)
{
    char path[4400];
    gq_error err = {0};
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    if (gq_byte_tokenizer_write(path, ascii_only, &err) == GQ_OK) return 0;
    fprintf(stderr, "%s\n", err.msg);
    return -1;
}

static int copy_file(const char *from, const char *to)
{
    size_t n = 0;
    char *b = test_read_file(from, &n);
    int rc = b ? test_write_file(to, b, n) : -1;
    free(b);
    return rc;
}

int mf_write_original(const char *dir)
{
    char cmd[4400], path[4400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    if (system(cmd) != 0) return -1;
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (copy_file(test_fixture("forward/llama-gqa-f32/config.json"), path)) return -1;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (copy_file(test_fixture("forward/llama-gqa-f32/model.safetensors"), path)) return -1;
    return mf_write_tokenizer(dir, 0);
}

// ---- the random GQLA model ---------------------------------------------------------------

#define MF_D 64
#define MF_I 96
#define MF_V 256

int mf_write_gqla(const char *dir, unsigned seed, int ascii_only)
{
    char cmd[4400], path[4400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    if (system(cmd) != 0) return -1;
    gq_random_tensors *w = calloc(1, sizeof *w);
    if (!w) return -1;
    w->rng = 0x9e3779b97f4a7c15ull ^ seed;
    w->gain_jitter = 0.2;
    int rc = 0, Q = MF_H * (MF_DN + MF_DR);
    double sd = 1.0 / sqrt(MF_D);
    gq_error err = {0};
    rc |= gq_random_tensor(w, "model.embed_tokens.weight", MF_V, MF_D, 1.0, &err);
    rc |= gq_random_tensor(w, "model.norm.weight", MF_D, 0, 0, &err);
    rc |= gq_random_tensor(w, "lm_head.weight", MF_V, MF_D, 2.0 * sd, &err);
    for (int l = 0; l < MF_L; l++) {
        rc |= gq_random_layer_tensor(w, l, "input_layernorm.weight", MF_D, 0, 0, &err);
        rc |= gq_random_layer_tensor(w, l, "post_attention_layernorm.weight", MF_D, 0, 0, &err);
        rc |= gq_random_layer_tensor(w, l, "self_attn.q_proj.weight", Q, MF_D, 1.5 * sd, &err);
        rc |= gq_random_layer_tensor(w, l, "self_attn.kv_a_proj_with_mqa.weight", MF_R + MF_DR, MF_D, 1.5 * sd, &err);
        rc |= gq_random_layer_tensor(w, l, "self_attn.kv_b_proj.weight", MF_G * (MF_DN + MF_DV), MF_R,
                                     1.0 / sqrt(MF_R), &err);
        rc |= gq_random_layer_tensor(w, l, "self_attn.o_proj.weight", MF_D, MF_H * MF_DV, 1.0 / sqrt(MF_H * MF_DV),
                                     &err);
        rc |= gq_random_layer_tensor(w, l, "mlp.gate_proj.weight", MF_I, MF_D, sd, &err);
        rc |= gq_random_layer_tensor(w, l, "mlp.up_proj.weight", MF_I, MF_D, sd, &err);
        rc |= gq_random_layer_tensor(w, l, "mlp.down_proj.weight", MF_D, MF_I, 1.0 / sqrt(MF_I), &err);
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (!rc && gq_safetensors_write(path, w->e, (size_t)w->n, &err) != GQ_OK) rc = -1;
    if (rc) fprintf(stderr, "%s\n", err.msg);
    gq_random_tensors_free(w);
    free(w);
    if (rc) return -1;
    char cfg[4096];
    snprintf(cfg, sizeof cfg,
             "{\"architectures\": [\"DeepseekV3ForCausalLM\"], \"model_type\": \"deepseek_v3\", "
             "\"hidden_size\": %d, \"intermediate_size\": %d, \"num_hidden_layers\": %d, "
             "\"num_attention_heads\": %d, \"num_key_value_heads\": %d, \"vocab_size\": %d, "
             "\"q_lora_rank\": null, \"kv_lora_rank\": %d, \"qk_nope_head_dim\": %d, \"qk_rope_head_dim\": %d, "
             "\"v_head_dim\": %d, \"head_dim\": %d, \"rope_theta\": 10000.0, \"rope_interleave\": true, "
             "\"qk_latent_layernorm\": false, \"rms_norm_eps\": 1e-5, \"attention_bias\": false, "
             "\"first_k_dense_replace\": %d, \"n_routed_experts\": null, \"n_shared_experts\": null, "
             "\"max_position_embeddings\": 256, \"tie_word_embeddings\": false, \"bos_token_id\": 1, "
             "\"eos_token_id\": 2}\n",
             MF_D, MF_I, MF_L, MF_H, MF_G, MF_V, MF_R, MF_DN, MF_DR, MF_DV, MF_DR, MF_L);
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (test_write_file(path, cfg, strlen(cfg))) return -1;
    return mf_write_tokenizer(dir, ascii_only);
}

const char *mf_samples_dir(void)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/../../datasets/samples", test_fixture(""));
    return buf;
}

double mf_num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

cJSON *mf_read_json(const char *dir, const char *name)
{
    char path[8400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = test_read_file(path, NULL);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    return j;
}

/* Drop what legitimately differs between two runs: time, memory, command. */
void mf_strip_volatile(cJSON *j)
{
    static const char *keys[] = {"started_unix", "wall_seconds", "peak_rss_bytes", "invocations", "earlier_untimed",
                                 "command", "seconds", "date", "total_evaluation_time_seconds", "start_time",
                                 "end_time", "gqla_eval", "parallel" /* how the work was spread */};
    if (!j) return;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) cJSON_DeleteItemFromObjectCaseSensitive(j, keys[i]);
    for (cJSON *c = j->child; c; c = c->next)
        if (cJSON_IsObject(c) || cJSON_IsArray(c)) mf_strip_volatile(c);
}

int mf_same_results(const char *ref, const char *out, const char *what)
{
    return mf_same_results_files(ref, out, what, 4);
}

int mf_same_results_files(const char *ref, const char *out, const char *what, size_t n_files)
{
    int ok = 1;
    const char *files[] = {"gqla_run.json", "results_original.json", "results_converted_gqa.json",
                           "results_converted_absorb.json"};
    for (size_t i = 0; i < n_files && i < 4; i++) {
        cJSON *a = mf_read_json(ref, files[i]), *b = mf_read_json(out, files[i]);
        if (i > 0) { /* the results files: their lm-eval "results" block */
            cJSON *ra = cJSON_DetachItemFromObjectCaseSensitive(a, "results");
            cJSON *rb = cJSON_DetachItemFromObjectCaseSensitive(b, "results");
            cJSON_Delete(a);
            cJSON_Delete(b);
            a = ra;
            b = rb;
        }
        mf_strip_volatile(a);
        mf_strip_volatile(b);
        int eq = a && b && cJSON_Compare(a, b, 1);
        char msg[256];
        snprintf(msg, sizeof msg, "%s: %s equals the uninterrupted run's", what, files[i]);
        test_cond(msg, eq);
        if (!eq) {
            char *ta = a ? cJSON_Print(a) : NULL, *tb = b ? cJSON_Print(b) : NULL;
            printf("--- uninterrupted:\n%.3000s\n--- resumed:\n%.3000s\n", ta ? ta : "(none)", tb ? tb : "(none)");
            free(ta);
            free(tb);
        }
        ok &= eq;
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
    return ok;
}

double mf_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int mf_run_and_kill(const char *args, double delay)
{
    char cmd[20000];
    snprintf(cmd, sizeof cmd, "exec '%s' %s >/dev/null 2>&1", getenv("GQ_CLI"), args);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    struct timespec ts = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
}
