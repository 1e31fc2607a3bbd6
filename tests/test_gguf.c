/* test_gguf.c — the GGUF reader, dequantisation and llama mapping.
 *
 *   test_gguf            tiny synthetic fixture (tests/fixtures/gguf/tiny.gguf,
 *                        written by tests/reference/make_gguf_fixtures.py):
 *                        header, metadata getters, every tensor dequantised bit
 *                        for bit against the gguf package, the RoPE
 *                        un-permutation, config, names; then corrupted copies
 *                        of the fixture, each rejected with the right status and
 *                        a message naming the file and the place.
 *   test_gguf smollm2    every tensor of SmolLM2-135M-Instruct.Q4_1.gguf
 *                        against smollm2_checksums.txt (FNV-1a 64 of the gguf
 *                        package's float32 in GGUF layout, and of transformers'
 *                        HF-layout tensors), plus the config; exit 77 (skip)
 *                        when the model is not downloaded.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "gguf.h"
#include "gguf_llama.h"
#include "quant.h"
#include "testutil.h"

#define SMOLLM2_FILE "SmolLM2-135M-Instruct.Q4_1.gguf"

static uint64_t fnv1a64(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static int contains(const char *s, const char *sub) { return s && sub && strstr(s, sub) != NULL; }

static long find_bytes(const unsigned char *hay, size_t n, const void *needle, size_t m)
{
    for (size_t i = 0; m <= n && i <= n - m; i++)
        if (memcmp(hay + i, needle, m) == 0) return (long)i;
    return -1;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int k = 0; k < 4; k++) p[k] = (unsigned char)(v >> (8 * k));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int k = 0; k < 8; k++) p[k] = (unsigned char)(v >> (8 * k));
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--) v = (v << 8) | p[k];
    return v;
}

/* Offset of the byte right after a length-prefixed string `s` in the file
 * (a metadata key or a tensor name), or -1. */
static long after_string(const unsigned char *buf, size_t n, const char *s)
{
    size_t m = strlen(s);
    unsigned char pat[256];
    if (m + 8 > sizeof pat) return -1;
    put_u64(pat, m);
    memcpy(pat + 8, s, m);
    long at = find_bytes(buf, n, pat, m + 8);
    return at < 0 ? -1 : at + (long)(m + 8);
}

// ---------------------------------------------------------------- tiny: metadata

static void test_tiny_metadata(const gq_gguf *g)
{
    gq_error err = {0};
    const char *s = NULL;
    uint64_t u = 0;
    int64_t i = 0;
    double f = 0;
    int b = 0;

    test_cond("tiny: version 3", gq_gguf_version(g) == 3);
    test_cond("tiny: 17 tensors", gq_gguf_tensor_count(g) == 17);
    test_cond("tiny: architecture", gq_gguf_get_str(g, "general.architecture", &s, &err) == 1 && strcmp(s, "llama") == 0);
    test_cond("tiny: utf-8 string", gq_gguf_get_str(g, "test.str", &s, &err) == 1 && strcmp(s, "h\xc3\xa9llo") == 0);
    test_cond("tiny: u8 as u64", gq_gguf_get_u64(g, "test.u8", &u, &err) == 1 && u == 200);
    test_cond("tiny: u8 as i64", gq_gguf_get_i64(g, "test.u8", &i, &err) == 1 && i == 200);
    test_cond("tiny: i16 as i64", gq_gguf_get_i64(g, "test.i16", &i, &err) == 1 && i == -1234);
    test_cond("tiny: negative i16 refused as u64",
              gq_gguf_get_u64(g, "test.i16", &u, &err) == GQ_ERR_INVALID && contains(err.msg, "test.i16"));
    test_cond("tiny: negative i32 refused as u64", gq_gguf_get_u64(g, "test.neg", &u, &err) == GQ_ERR_INVALID);
    test_cond("tiny: big u64", gq_gguf_get_u64(g, "test.u64_big", &u, &err) == 1 && u == (1ULL << 63) + 5);
    test_cond("tiny: big u64 refused as i64",
              gq_gguf_get_i64(g, "test.u64_big", &i, &err) == GQ_ERR_INVALID && contains(err.msg, "test.u64_big"));
    test_cond("tiny: f64", gq_gguf_get_f64(g, "test.f64", &f, &err) == 1 && f == 0.1);
    test_cond("tiny: f32 as f64", gq_gguf_get_f64(g, "llama.attention.layer_norm_rms_epsilon", &f, &err) == 1 &&
                                      f == (double)1e-6f);
    test_cond("tiny: bool", gq_gguf_get_bool(g, "test.bool", &b, &err) == 1 && b == 1);
    test_cond("tiny: absent key is 0", gq_gguf_get_str(g, "no.such.key", &s, &err) == 0);
    gq_error_clear(&err);
    test_cond("tiny: int as string refused",
              gq_gguf_get_str(g, "test.u8", &s, &err) == GQ_ERR_INVALID && contains(err.msg, "tiny.gguf") &&
                  contains(err.msg, "'test.u8' is a uint8, expected a string"));
    test_cond("tiny: string as int refused", gq_gguf_get_i64(g, "test.str", &i, &err) == GQ_ERR_INVALID);
    test_cond("tiny: float as bool refused", gq_gguf_get_bool(g, "test.f64", &b, &err) == GQ_ERR_INVALID);

    const char *const *strs = NULL;
    const size_t *lens = NULL;
    size_t n = 0;
    test_cond("tiny: token list", gq_gguf_get_str_array(g, "tokenizer.ggml.tokens", &strs, &lens, &n, &err) == 1 &&
                                      n == 48 && strcmp(strs[0], "<s>") == 0 && lens[0] == 3 &&
                                      strcmp(strs[47], "tok47") == 0);
    test_cond("tiny: token with a NUL byte keeps its length",
              n == 48 && lens[2] == 3 && memcmp(strs[2], "a\0b", 4) == 0);
    const float *fv = NULL;
    test_cond("tiny: scores", gq_gguf_get_f32_array(g, "tokenizer.ggml.scores", &fv, &n, &err) == 1 && n == 48 &&
                                  fv[3] == -1.5f);
    const int32_t *iv = NULL;
    test_cond("tiny: token types", gq_gguf_get_i32_array(g, "tokenizer.ggml.token_type", &iv, &n, &err) == 1 &&
                                       n == 48 && iv[0] == 3 && iv[5] == 1);
    test_cond("tiny: f32 array as i32 refused",
              gq_gguf_get_i32_array(g, "tokenizer.ggml.scores", &iv, &n, &err) == GQ_ERR_INVALID &&
                  contains(err.msg, "array of float32"));
    test_cond("tiny: scalar as array refused", gq_gguf_get_str_array(g, "test.u8", &strs, &lens, &n, &err) < 0);

    const gq_tensor_ref *t = gq_gguf_find(g, "blk.0.attn_k.weight");
    test_cond("tiny: find attn_k", t && t->dtype == GQ_DTYPE_Q4_0 && t->n_dims == 2 && t->shape[0] == 32 &&
                                       t->shape[1] == 64 && t->n_elems == 2048 && t->nbytes == 64 * 18);
    t = gq_gguf_find(g, "test.q8_0_4d");
    test_cond("tiny: 4-D shape outermost first", t && t->n_dims == 4 && t->shape[0] == 2 && t->shape[1] == 1 &&
                                                     t->shape[2] == 3 && t->shape[3] == 32);
    t = gq_gguf_find(g, "test.odd_f32");
    test_cond("tiny: 3-D F32", t && t->dtype == GQ_DTYPE_F32 && t->n_dims == 3 && t->shape[0] == 3 &&
                                   t->shape[1] == 5 && t->shape[2] == 7 && t->shape[3] == 1);
    test_cond("tiny: tensor data aligned to 64", t && t->file_offset % 64 == 0 && contains(t->file, "tiny.gguf"));
    test_cond("tiny: missing tensor", gq_gguf_find(g, "blk.9.attn_q.weight") == NULL);
    test_cond("tiny: tensor by index", gq_gguf_tensor(g, 0) && strcmp(gq_gguf_tensor(g, 0)->name, "token_embd.weight") == 0 &&
                                           gq_gguf_tensor(g, 17) == NULL);
}

// ---------------------------------------------------------------- tiny: values

static void test_tiny_values(const gq_gguf *g)
{
    size_t exp_size = 0;
    char *exp = test_read_file(test_fixture("gguf/tiny_expected.f32"), &exp_size);
    gq_error err = {0};
    size_t total = 0, n_exact = 0, n_t = gq_gguf_tensor_count(g);

    test_cond("tiny: expected values present", exp != NULL);
    if (!exp) return;
    for (size_t k = 0; k < n_t; k++) total += (size_t)gq_gguf_tensor(g, k)->n_elems;
    test_cond("tiny: expected file has every element", exp_size == total * 4);
    if (exp_size != total * 4) {
        free(exp);
        return;
    }

    size_t off = 0;
    for (size_t k = 0; k < n_t; k++) {
        const gq_tensor_ref *t = gq_gguf_tensor(g, k);
        size_t n = (size_t)t->n_elems;
        float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        if (!a || !b) abort();
        int rc = gq_dequant_row(t->dtype, t->data, a, n, &err);
        int same = rc == GQ_OK && memcmp(a, exp + off, n * 4) == 0;
        if (!same) {
            for (size_t i = 0; i < n; i++) {
                if (memcmp(&a[i], exp + off + 4 * i, 4) != 0) {
                    float e;
                    memcpy(&e, exp + off + 4 * i, 4);
                    fprintf(stderr, "  %s [%zu]: got %.9g expected %.9g\n", t->name, i, a[i], e);
                    break;
                }
            }
        }
        char what[160];
        snprintf(what, sizeof what, "tiny: %s (%s) bit-identical to gguf.quants.dequantize", t->name,
                 gq_dtype_name(t->dtype));
        test_cond(what, same);
        n_exact += same;

        /* The public loader: same values, or the NaN refusal for f16_all. */
        rc = gq_tensor_load_f32(t, b, &err);
        if (strcmp(t->name, "test.f16_all") == 0) {
            test_cond("tiny: NaN weight refused", rc == GQ_ERR_INVALID && contains(err.msg, "test.f16_all") &&
                                                      contains(err.msg, "tiny.gguf") &&
                                                      contains(err.msg, "element 31744") && contains(err.msg, "Inf"));
        } else {
            snprintf(what, sizeof what, "tiny: gq_tensor_load_f32(%s) matches", t->name);
            test_cond(what, rc == GQ_OK && memcmp(b, exp + off, n * 4) == 0);
        }
        free(a);
        free(b);
        off += n * 4;
    }
    printf("tiny: %zu of %zu tensors bit-identical to the gguf package\n", n_exact, n_t);

    /* Un-permutation.  attn_q was written from HF values r*1000 + c. */
    const gq_tensor_ref *q = gq_gguf_find(g, "blk.0.attn_q.weight");
    if (q) {
        gq_tensor_ref qr = *q;
        qr.rope_unpermute_heads = 4;
        float *v = malloc((size_t)q->n_elems * sizeof *v);
        if (!v) abort();
        int ok = gq_tensor_load_f32(&qr, v, &err) == GQ_OK;
        for (int r = 0; ok && r < 64; r++)
            for (int c = 0; c < 64; c++)
                if (v[r * 64 + c] != (float)(r * 1000 + c)) ok = 0;
        test_cond("tiny: q_proj un-permuted to HF row order", ok);
        qr.rope_unpermute_heads = 3;
        test_cond("tiny: heads not dividing rows refused",
                  gq_tensor_load_f32(&qr, v, &err) == GQ_ERR_INVALID && contains(err.msg, "3 RoPE heads"));
        free(v);
    }
    /* Quantised (Q4_0) k: HF row h*16 + eta*8 + j is GGUF row h*16 + 2j + eta. */
    const gq_tensor_ref *kt = gq_gguf_find(g, "blk.0.attn_k.weight");
    if (kt) {
        size_t kofs = 0;
        for (size_t k = 0; k < n_t && gq_gguf_tensor(g, k) != kt; k++) kofs += (size_t)gq_gguf_tensor(g, k)->n_elems;
        const float *ge = (const float *)(void *)(exp + 4 * kofs);
        gq_tensor_ref kr = *kt;
        kr.rope_unpermute_heads = 2;
        float *v = malloc(2048 * sizeof *v);
        if (!v) abort();
        int ok = gq_tensor_load_f32(&kr, v, &err) == GQ_OK;
        for (int r = 0; ok && r < 32; r++) {
            int h = r / 16, w = r % 16, eta = w / 8, j = w % 8, s = h * 16 + 2 * j + eta;
            if (memcmp(v + r * 64, ge + s * 64, 64 * 4) != 0) ok = 0;
        }
        test_cond("tiny: Q4_0 k_proj un-permuted row by row", ok);
        free(v);
    }
    free(exp);
}

// ---------------------------------------------------------------- tiny: llama

static void test_tiny_llama(const gq_gguf *g)
{
    gq_config cfg;
    gq_error err = {0};
    int rc = gq_gguf_llama_config(g, &cfg, &err);
    if (rc) fprintf(stderr, "  %s\n", err.msg);
    test_cond("tiny: llama config", rc == GQ_OK);
    test_cond("tiny: config sizes", cfg.arch == GQ_ARCH_LLAMA && strcmp(cfg.model_type, "llama") == 0 &&
                                        cfg.num_hidden_layers == 1 && cfg.hidden_size == 64 &&
                                        cfg.intermediate_size == 96 && cfg.num_attention_heads == 4 &&
                                        cfg.num_key_value_heads == 2 && cfg.head_dim == 16 && cfg.vocab_size == 48 &&
                                        cfg.max_position_embeddings == 128);
    test_cond("tiny: config rope/eps", cfg.rope_theta == 50000.0 && cfg.rms_norm_eps == (double)1e-6f &&
                                           cfg.rope_scaling.type == GQ_ROPE_SCALING_NONE);
    test_cond("tiny: config ids and tie", cfg.bos_token_id == 0 && cfg.eos_token_id == 1 &&
                                              cfg.tie_word_embeddings == 1 && cfg.attention_bias == 0);

    static const char *names[][2] = {
        {"token_embd.weight", "model.embed_tokens.weight"},
        {"output_norm.weight", "model.norm.weight"},
        {"output.weight", "lm_head.weight"},
        {"blk.0.attn_norm.weight", "model.layers.0.input_layernorm.weight"},
        {"blk.0.ffn_norm.weight", "model.layers.0.post_attention_layernorm.weight"},
        {"blk.12.attn_q.weight", "model.layers.12.self_attn.q_proj.weight"},
        {"blk.3.attn_k.bias", "model.layers.3.self_attn.k_proj.bias"},
        {"blk.3.attn_v.weight", "model.layers.3.self_attn.v_proj.weight"},
        {"blk.29.attn_output.weight", "model.layers.29.self_attn.o_proj.weight"},
        {"blk.0.ffn_gate.weight", "model.layers.0.mlp.gate_proj.weight"},
        {"blk.0.ffn_up.weight", "model.layers.0.mlp.up_proj.weight"},
        {"blk.0.ffn_down.weight", "model.layers.0.mlp.down_proj.weight"},
    };
    char out[128];
    int all = 1;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        if (!gq_gguf_llama_hf_name(names[k][0], out, sizeof out) || strcmp(out, names[k][1]) != 0) {
            fprintf(stderr, "  %s -> '%s', expected %s\n", names[k][0], out, names[k][1]);
            all = 0;
        }
    }
    test_cond("names: GGUF -> HF", all);
    test_cond("names: unknown refused", !gq_gguf_llama_hf_name("test.odd_f32", out, sizeof out) &&
                                            !gq_gguf_llama_hf_name("blk.x.attn_q.weight", out, sizeof out) &&
                                            !gq_gguf_llama_hf_name("blk.01.attn_q.weight", out, sizeof out) &&
                                            !gq_gguf_llama_hf_name("blk.0.attn_q.scale", out, sizeof out) &&
                                            !gq_gguf_llama_hf_name("blk.0.attn_norm.bias", out, sizeof out) &&
                                            !gq_gguf_llama_hf_name("blk.0.attn_q", out, sizeof out) &&
                                            !gq_gguf_llama_hf_name("rope_freqs.weight", out, sizeof out));
    test_cond("names: short buffer refused", !gq_gguf_llama_hf_name("blk.0.attn_q.weight", out, 10));
    test_cond("rope heads: q=H, k=Hkv, others 0",
              gq_gguf_llama_rope_permuted_heads(&cfg, "model.layers.0.self_attn.q_proj.weight") == 4 &&
                  gq_gguf_llama_rope_permuted_heads(&cfg, "model.layers.7.self_attn.k_proj.weight") == 2 &&
                  gq_gguf_llama_rope_permuted_heads(&cfg, "model.layers.7.self_attn.q_proj.bias") == 4 &&
                  gq_gguf_llama_rope_permuted_heads(&cfg, "model.layers.7.self_attn.k_proj.bias") == 2 &&
                  gq_gguf_llama_rope_permuted_heads(&cfg, "model.layers.0.self_attn.v_proj.weight") == 0 &&
                  gq_gguf_llama_rope_permuted_heads(&cfg, "model.layers.0.self_attn.o_proj.weight") == 0 &&
                  gq_gguf_llama_rope_permuted_heads(&cfg, "model.embed_tokens.weight") == 0);
}

// ---------------------------------------------------------------- bad files

typedef struct bad_case {
    const char *name;
    int status;
    const char *msg1, *msg2; /* substrings the message must contain (or NULL) */
} bad_case;

static void expect_bad(const char *dir, const bad_case *c, const unsigned char *buf, size_t n)
{
    char path[4200], what[256];
    gq_error err = {0};
    gq_gguf *g = (gq_gguf *)(void *)&err; /* must be reset to NULL on failure */

    snprintf(path, sizeof path, "%s/%s.gguf", dir, c->name);
    if (test_write_file(path, buf, n) != 0) {
        test_cond("bad: write temp file", 0);
        return;
    }
    int rc = gq_gguf_open(&g, path, &err);
    int ok = rc == c->status && g == NULL && contains(err.msg, path) && (!c->msg1 || contains(err.msg, c->msg1)) &&
             (!c->msg2 || contains(err.msg, c->msg2));
    snprintf(what, sizeof what, "bad: %s -> %s", c->name, gq_strerror((gq_status)c->status));
    if (!ok) fprintf(stderr, "  %s: rc %d, message: %s\n", c->name, rc, err.msg);
    test_cond(what, ok);
    if (rc == GQ_OK) gq_gguf_close(g);
}

static void test_bad_files(const unsigned char *orig, size_t n)
{
    const char *dir = test_tmpdir("gguf_bad");
    unsigned char *b = malloc(n);
    char msg[160];
    if (!b) abort();
#define RESET() memcpy(b, orig, n)

    RESET();
    memcpy(b, "GGML", 4);
    expect_bad(dir, &(bad_case){"magic", GQ_ERR_FORMAT, "not a GGUF file (magic 'GGML', expected 'GGUF'", NULL}, b, n);
    RESET();
    expect_bad(dir, &(bad_case){"empty", GQ_ERR_FORMAT, "not a GGUF file", NULL}, b, 0);
    put_u32(b + 4, 1);
    expect_bad(dir, &(bad_case){"version1", GQ_ERR_UNSUPPORTED, "at byte 4", "GGUF version 1 is not supported"}, b, n);
    put_u32(b + 4, 0x03000000u);
    expect_bad(dir, &(bad_case){"bigendian", GQ_ERR_UNSUPPORTED, "big-endian", NULL}, b, n);
    put_u32(b + 4, 7);
    expect_bad(dir, &(bad_case){"version7", GQ_ERR_FORMAT, "unknown GGUF version 7", NULL}, b, n);
    RESET();
    expect_bad(dir, &(bad_case){"truncated_header", GQ_ERR_FORMAT, "truncated at byte 16", "metadata count"}, b, 20);
    expect_bad(dir, &(bad_case){"truncated_8", GQ_ERR_FORMAT, "truncated at byte 8", "tensor count"}, b, 8);

    /* Truncated inside the tensor infos. */
    long ti = after_string(orig, n, "test.bf16_odd");
    test_cond("bad: found test.bf16_odd info", ti > 0);
    if (ti > 0) expect_bad(dir, &(bad_case){"truncated_infos", GQ_ERR_FORMAT, "truncated at byte",
                                            "tensor 'test.bf16_odd'"}, b, (size_t)ti + 6);

    /* The last tensor runs past the end. */
    snprintf(msg, sizeof msg, "tensor 'test.f16_all' ends at byte %zu, past the end of the file (%zu bytes)", n,
             n - 100);
    expect_bad(dir, &(bad_case){"tensor_past_end", GQ_ERR_FORMAT, msg, NULL}, b, n - 100);

    /* The first key's length runs past the end. */
    put_u64(b + 24, 0xffffffffffff0000ULL);
    expect_bad(dir, &(bad_case){"key_length", GQ_ERR_FORMAT, "at byte 24: metadata key #0", "runs past the end"}, b, n);
    RESET();
    /* Huge counts. */
    put_u64(b + 8, 1ULL << 62);
    expect_bad(dir, &(bad_case){"huge_tensor_count", GQ_ERR_FORMAT, "at byte 8: tensor count 4611686018427387904",
                                NULL}, b, n);
    RESET();
    put_u64(b + 16, 1ULL << 60);
    expect_bad(dir, &(bad_case){"huge_kv_count", GQ_ERR_FORMAT, "at byte 16: metadata count", NULL}, b, n);
    RESET();

    /* Arrays: a huge length, a nested array, a string inside past the end. */
    long tok = after_string(orig, n, "tokenizer.ggml.tokens");
    test_cond("bad: found tokenizer.ggml.tokens", tok > 0);
    if (tok > 0) {
        put_u64(b + tok + 8, 1ULL << 61);
        expect_bad(dir, &(bad_case){"huge_array", GQ_ERR_FORMAT, "'tokenizer.ggml.tokens'", "cannot fit"}, b, n);
        RESET();
        put_u32(b + tok + 4, 9);
        expect_bad(dir, &(bad_case){"nested_array", GQ_ERR_UNSUPPORTED, "arrays of arrays", "tokenizer.ggml.tokens"},
                   b, n);
        RESET();
        put_u64(b + tok + 16, 1ULL << 40); /* length of the first token string */
        snprintf(msg, sizeof msg, "at byte %ld", tok + 16);
        expect_bad(dir, &(bad_case){"array_string_length", GQ_ERR_FORMAT, msg, "string #0 length"}, b, n);
        RESET();
        put_u32(b + tok, 77);
        expect_bad(dir, &(bad_case){"value_type", GQ_ERR_FORMAT, "unknown value type 77", NULL}, b, n);
        RESET();
    }
    long al = after_string(orig, n, "general.alignment");
    test_cond("bad: found general.alignment", al > 0);
    if (al > 0) {
        put_u32(b + al + 4, 48);
        expect_bad(dir, &(bad_case){"alignment", GQ_ERR_FORMAT, "general.alignment is 48",
                                    "expected a power of two"}, b, n);
        RESET();
    }

    /* Tensor info fields of test.odd_f32: n_dims(4) ne[3](24) type(4) offset(8). */
    long od = after_string(orig, n, "test.odd_f32");
    test_cond("bad: found test.odd_f32 info", od > 0);
    if (od > 0) {
        put_u32(b + od + 28, 20);
        expect_bad(dir, &(bad_case){"ggml_type", GQ_ERR_UNSUPPORTED, "tensor 'test.odd_f32' has ggml type IQ4_NL (20)",
                                    NULL}, b, n);
        RESET();
        put_u32(b + od + 28, 1000);
        expect_bad(dir, &(bad_case){"ggml_type_unknown", GQ_ERR_UNSUPPORTED, "test.odd_f32", "unknown (1000)"}, b, n);
        RESET();
        put_u64(b + od + 32, get_u64(orig + od + 32) + 32);
        expect_bad(dir, &(bad_case){"misaligned", GQ_ERR_FORMAT, "'test.odd_f32' data offset",
                                    "not a multiple of the alignment 64"}, b, n);
        RESET();
        put_u64(b + od + 32, 0);
        expect_bad(dir, &(bad_case){"overlap", GQ_ERR_FORMAT, "overlap", "test.odd_f32"}, b, n);
        RESET();
        put_u64(b + od + 32, 1ULL << 62);
        expect_bad(dir, &(bad_case){"offset_huge", GQ_ERR_FORMAT, "test.odd_f32", "past the end of the file"}, b, n);
        RESET();
        put_u64(b + od + 32, UINT64_MAX - 63);
        expect_bad(dir, &(bad_case){"offset_wraps", GQ_ERR_FORMAT, "test.odd_f32", "past the end of the file"}, b, n);
        RESET();
        put_u64(b + od + 4, 0);
        expect_bad(dir, &(bad_case){"zero_dim", GQ_ERR_FORMAT, "'test.odd_f32': dimension 0 is 0", NULL}, b, n);
        RESET();
        put_u32(b + od, 5);
        expect_bad(dir, &(bad_case){"five_dims", GQ_ERR_FORMAT, "'test.odd_f32' has 5 dimensions", NULL}, b, n);
        RESET();
        put_u64(b + od + 4, 1ULL << 40);
        put_u64(b + od + 12, 1ULL << 40);
        expect_bad(dir, &(bad_case){"elems_overflow", GQ_ERR_FORMAT, "test.odd_f32", "element count overflows"}, b, n);
        RESET();
    }
    long qd = after_string(orig, n, "test.q8_0_4d");
    test_cond("bad: found test.q8_0_4d info", qd > 0);
    if (qd > 0) {
        put_u64(b + qd + 4, 33);
        expect_bad(dir, &(bad_case){"block_row", GQ_ERR_FORMAT, "row length 33 is not a multiple of the Q8_0 block",
                                    NULL}, b, n);
        RESET();
    }
    /* A duplicated tensor name: rename test.bf16_odd's sibling of equal length. */
    long q4 = find_bytes(orig, n, "test.q4_1_1d", 12);
    if (q4 > 0) {
        memcpy(b + q4, "test.q8_0_4d", 12);
        expect_bad(dir, &(bad_case){"dup_tensor", GQ_ERR_FORMAT, "tensor name 'test.q8_0_4d' appears twice", NULL}, b,
                   n);
        RESET();
    }
    /* Every truncation of the header region must fail cleanly (ASan watches). */
    long data_start = after_string(orig, n, "test.f16_all");
    int all = 1;
    for (size_t cut = 0; data_start > 0 && cut < (size_t)data_start + 40; cut += 7) {
        gq_error err = {0};
        gq_gguf *g = NULL;
        char path[4200];
        snprintf(path, sizeof path, "%s/cut.gguf", dir);
        if (test_write_file(path, b, cut) != 0 || gq_gguf_open(&g, path, &err) != GQ_ERR_FORMAT || g ||
            !contains(err.msg, path)) {
            fprintf(stderr, "  cut at %zu: %s\n", cut, err.msg);
            all = 0;
            gq_gguf_close(g);
        }
    }
    test_cond("bad: every truncation of the header fails with a message", all);

    gq_error err = {0};
    gq_gguf *g = NULL;
    test_cond("bad: missing file is an I/O error",
              gq_gguf_open(&g, "/nonexistent/x.gguf", &err) == GQ_ERR_IO && g == NULL &&
                  contains(err.msg, "/nonexistent/x.gguf"));
#undef RESET
    free(b);
}

// ---------------------------------------------------------------- smollm2

static int run_smollm2(void)
{
    const char *path = test_model(SMOLLM2_FILE);
    if (!path) {
        printf("test_gguf smollm2: %s not found under $GQ_MODELS; skipping\n", SMOLLM2_FILE);
        return GQ_TEST_SKIP;
    }
    gq_error err = {0};
    gq_gguf *g = NULL;
    gq_config cfg;
    int rc = gq_gguf_open(&g, path, &err);
    if (rc) fprintf(stderr, "  %s\n", err.msg);
    test_cond("smollm2: opens", rc == GQ_OK);
    if (rc) return test_report("test_gguf smollm2");

    rc = gq_gguf_llama_config(g, &cfg, &err);
    if (rc) fprintf(stderr, "  %s\n", err.msg);
    test_cond("smollm2: config", rc == GQ_OK);
    test_cond("smollm2: 30 layers, 9 heads, 3 kv heads", cfg.num_hidden_layers == 30 && cfg.num_attention_heads == 9 &&
                                                            cfg.num_key_value_heads == 3);
    test_cond("smollm2: hidden 576, intermediate 1536, head_dim 64",
              cfg.hidden_size == 576 && cfg.intermediate_size == 1536 && cfg.head_dim == 64);
    test_cond("smollm2: vocab 49152, context 8192", cfg.vocab_size == 49152 && cfg.max_position_embeddings == 8192);
    test_cond("smollm2: rope theta 100000, eps 1e-5 (float32)",
              cfg.rope_theta == 100000.0 && cfg.rms_norm_eps == (double)1e-5f);
    test_cond("smollm2: tied embeddings, no bias, bos 1 eos 2", cfg.tie_word_embeddings == 1 &&
                                                                   cfg.attention_bias == 0 && cfg.bos_token_id == 1 &&
                                                                   cfg.eos_token_id == 2);
    const char *const *toks;
    const size_t *lens;
    size_t n_toks = 0, n_merges = 0;
    test_cond("smollm2: 49152 tokens, 48900 merges",
              gq_gguf_get_str_array(g, "tokenizer.ggml.tokens", &toks, &lens, &n_toks, &err) == 1 &&
                  n_toks == 49152 &&
                  gq_gguf_get_str_array(g, "tokenizer.ggml.merges", &toks, &lens, &n_merges, &err) == 1 &&
                  n_merges == 48900);

    size_t fsz = 0;
    char *sums = test_read_file(test_fixture("gguf/smollm2_checksums.txt"), &fsz);
    test_cond("smollm2: checksum fixture present", sums != NULL);
    size_t n_lines = 0, n_gguf_ok = 0, n_hf_ok = 0, n_names_ok = 0, n_permuted = 0;
    float *buf = NULL;
    size_t buf_n = 0;
    for (char *line = sums ? strtok(sums, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') continue;
        char gname[128], hname[128], mapped[128];
        unsigned long long n_el = 0;
        uint64_t fg = 0, fh = 0;
        if (sscanf(line, "%127s %127s %llu %" SCNx64 " %" SCNx64, gname, hname, &n_el, &fg, &fh) != 5) {
            test_cond("smollm2: checksum line parses", 0);
            continue;
        }
        n_lines++;
        const gq_tensor_ref *t = gq_gguf_find(g, gname);
        if (!t || t->n_elems != n_el) {
            fprintf(stderr, "  %s: missing or wrong size\n", gname);
            continue;
        }
        if (buf_n < n_el) {
            free(buf);
            buf = malloc((size_t)n_el * sizeof *buf);
            buf_n = buf ? (size_t)n_el : 0;
            if (!buf) abort();
        }
        if (gq_gguf_llama_hf_name(gname, mapped, sizeof mapped) && strcmp(mapped, hname) == 0) n_names_ok++;
        rc = gq_tensor_load_f32(t, buf, &err);
        if (rc == GQ_OK && fnv1a64(buf, (size_t)n_el * 4) == fg) n_gguf_ok++;
        else fprintf(stderr, "  %s: GGUF-layout checksum differs (rc %d %s)\n", gname, rc, rc ? err.msg : "");

        gq_tensor_ref hr = *t;
        hr.name = hname;
        hr.rope_unpermute_heads = gq_gguf_llama_rope_permuted_heads(&cfg, hname);
        n_permuted += hr.rope_unpermute_heads > 0;
        rc = gq_tensor_load_f32(&hr, buf, &err);
        if (rc == GQ_OK && fnv1a64(buf, (size_t)n_el * 4) == fh) n_hf_ok++;
        else fprintf(stderr, "  %s: HF-layout checksum differs (rc %d %s)\n", hname, rc, rc ? err.msg : "");
    }
    free(buf);
    free(sums);
    printf("smollm2: %zu tensors compared: %zu bit-identical to gguf.quants (GGUF layout), %zu bit-identical to "
           "transformers (HF layout, %zu un-permuted q/k), %zu names match\n",
           n_lines, n_gguf_ok, n_hf_ok, n_permuted, n_names_ok);
    test_cond("smollm2: every tensor has a checksum line", n_lines == gq_gguf_tensor_count(g) && n_lines == 272);
    test_cond("smollm2: every tensor bit-identical in GGUF layout", n_gguf_ok == n_lines);
    test_cond("smollm2: every tensor bit-identical in HF layout", n_hf_ok == n_lines);
    test_cond("smollm2: 60 q/k tensors un-permuted", n_permuted == 60);
    test_cond("smollm2: every HF name matches transformers'", n_names_ok == n_lines);
    gq_gguf_close(g);
    return test_report("test_gguf smollm2");
}

// ---------------------------------------------------------------- main

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "smollm2") == 0) return run_smollm2();

    const char *path = test_fixture("gguf/tiny.gguf");
    gq_error err = {0};
    gq_gguf *g = NULL;
    int rc = gq_gguf_open(&g, path, &err);
    if (rc) fprintf(stderr, "  %s\n", err.msg);
    test_cond("tiny: opens", rc == GQ_OK);
    if (rc == GQ_OK) {
        test_cond("tiny: path kept", strcmp(gq_gguf_path(g), path) == 0);
        test_tiny_metadata(g);
        test_tiny_values(g);
        test_tiny_llama(g);
        gq_gguf_close(g);
    }
    size_t n = 0;
    unsigned char *bytes = (unsigned char *)test_read_file(test_fixture("gguf/tiny.gguf"), &n);
    test_cond("tiny: fixture readable", bytes != NULL);
    if (bytes) test_bad_files(bytes, n);
    free(bytes);
    gq_gguf_close(NULL);
    return test_report("test_gguf");
}
