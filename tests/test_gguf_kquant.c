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
 * unsupported-type errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "gq_alloc.h"
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
    for (int i = 1; i < argc; i++) check_fixture(argv[i]);
    return test_report("test_gguf_kquant");
}
