/* test_forward.c — the forward pass against Hugging Face transformers.
 *
 * Each fixture folder tests/fixtures/forward/<model>-<dtype>/ holds a tiny
 * random checkpoint saved by transformers and reference.txt written by
 * tests/reference/make_forward_fixtures.py: per position, HF's float64
 * log-softmax of the next token and the argmax.  We require every log-prob
 * within 1e-4 (F32 weights) or 2e-2 (BF16 weights) and equal argmax flags
 * (except where HF's top two are within 1e-3, marked "tie").
 * Usage: test_forward FIXTURE_DIR_NAME [MODEL] [--path=P]
 * --path: the decoding path (absorb / expanded for the MLA fixtures of
 * tests/reference/make_mla_fixtures.py); default the model's own.
 * With MODEL (a file under $GQ_MODELS, e.g. the SmolLM2 GGUF) the model is
 * that file and the fixture folder holds only reference.txt; exit 77 when
 * the model is absent.  A fixture folder holding model.gguf (tests/fixtures/
 * gguf_arch/, tests/reference/make_gguf_arch_fixtures.py) is scored from
 * that file, within 1e-4.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "score.h"
#include "testutil.h"

#define MAX_SEQ 4

static int path_set = 0;
static gq_path path_arg = GQ_PATH_NATIVE;
#define MAX_T 1024

typedef struct ref_seq {
    int T;
    int32_t ids[MAX_T];
    double logprob[MAX_T];   /* at pos 1..T-1 */
    int32_t argmax[MAX_T];
    int tie[MAX_T];
} ref_seq;

static int read_reference(const char *path, ref_seq *seqs, int *n_seq)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[65536];
    int S = 0, cur = -1;
    if (!fgets(line, sizeof line, f) || strncmp(line, "gqla-forward-ref 1", 18) != 0) goto bad;
    if (!fgets(line, sizeof line, f)) goto bad;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "seq ", 4)) {
            int k, T;
            if (sscanf(line, "seq %d len %d", &k, &T) != 2 || T > MAX_T || S >= MAX_SEQ) goto bad;
            cur = S++;
            seqs[cur].T = T;
        } else if (!strncmp(line, "ids ", 4)) {
            char *p = line + 4;
            for (int i = 0; i < seqs[cur].T; i++) seqs[cur].ids[i] = (int32_t)strtol(p, &p, 10);
        } else if (cur >= 0) {
            int pos, id, am;
            double lp, mlp;
            if (sscanf(line, "%d %d %lf %d %lf", &pos, &id, &lp, &am, &mlp) != 5 || pos < 1 || pos >= seqs[cur].T)
                goto bad;
            seqs[cur].logprob[pos] = lp;
            seqs[cur].argmax[pos] = am;
            seqs[cur].tie[pos] = strstr(line, "tie") != NULL;
        }
    }
    fclose(f);
    *n_seq = S;
    return 0;
bad:
    fclose(f);
    return -2;
}

/* Score seq in pieces: prefill `split` tokens, then the rest `step` at a
 * time through the cache.  split = T-1, step = 0 means one pass. */
static int score_seq(gq_model *m, const ref_seq *s, int split, int step, gq_score *out)
{
    gq_error err = {0};
    gq_kv_cache *c = NULL;
    int T = s->T, rc = -1;
    int rows[MAX_T];
    gq_path path = path_set ? path_arg : gq_config_default_path(gq_model_config(m));
    if (gq_kv_cache_init(&c, m, path, T, &err) != GQ_OK) goto done;
    /* feed tokens [a, b) scoring each row's next token */
    int a = 0;
    while (a < T - 1) {
        int b = a == 0 ? split : (step > 0 ? a + step : T - 1);
        if (b > T - 1) b = T - 1;
        for (int i = a; i < b; i++) rows[i - a] = i - a;
        if (gq_forward(m, c, s->ids + a, b - a, rows, s->ids + a + 1, b - a, out + a, &err) != GQ_OK) goto done;
        a = b;
    }
    rc = 0;
done:
    if (rc) fprintf(stderr, "score_seq: %s\n", err.msg);
    gq_kv_cache_free(c);
    return rc;
}

int main(int argc, char **argv)
{
    for (int i = 2; i < argc; i++)
        if (!strncmp(argv[i], "--path=", 7)) {
            if (gq_path_parse(argv[i] + 7, &path_arg) != 0) {
                fprintf(stderr, "unknown path '%s'\n", argv[i] + 7);
                return 2;
            }
            path_set = 1;
            for (int k = i; k + 1 < argc; k++) argv[k] = argv[k + 1];
            argc--;
            i--;
        }
    if (argc < 2) {
        fprintf(stderr, "usage: test_forward FIXTURE [MODEL] [--path=P]\n");
        return 2;
    }
    char dir[4096], ref[4200], what[512];
    snprintf(dir, sizeof dir, "%s", test_fixture(argv[1]));
    snprintf(ref, sizeof ref, "%s/reference.txt", dir);
    static ref_seq seqs[MAX_SEQ];
    int n_seq = 0;
    if (read_reference(ref, seqs, &n_seq) != 0) {
        fprintf(stderr, "cannot read %s\n", ref);
        return 1;
    }
    double tol = strstr(argv[1], "bf16") ? 2e-2 : 1e-4;
    if (argc > 2) {
        const char *model = test_model(argv[2]);
        if (!model) {
            printf("skipped: %s not found (scripts/get-model.sh smollm2)\n", argv[2]);
            return GQ_TEST_SKIP;
        }
        snprintf(dir, sizeof dir, "%s", model);
    } else {
        size_t n = strlen(dir);
        if (n + sizeof "/model.gguf" <= sizeof dir) {
            memcpy(dir + n, "/model.gguf", sizeof "/model.gguf");
            FILE *g = fopen(dir, "rb");
            if (g) fclose(g);
            else dir[n] = '\0';
        }
    }

    gq_error err = {0};
    gq_model *m = NULL;
    gq_open_opts opts = {1, 0, 64, 0, NULL, GQ_DEVICE_CPU, 0}; /* max_tokens 64: long sequences run in several chunks */
    test_cond("model opens", gq_model_open(&m, dir, &opts, &err) == GQ_OK);
    if (!m) {
        fprintf(stderr, "%s\n", err.msg);
        return test_report(argv[1]);
    }
    static gq_score one[MAX_T], pieces[MAX_T], split_one[MAX_T];
    for (int k = 0; k < n_seq; k++) {
        const ref_seq *s = &seqs[k];
        int T = s->T;
        test_cond("one pass runs", score_seq(m, s, T - 1, 0, one) == 0);
        double max_err = 0.0;
        int greedy_bad = 0, worst = 1;
        for (int p = 1; p < T; p++) {
            double e = fabs(one[p - 1].logprob - s->logprob[p]);
            if (e > max_err) {
                max_err = e;
                worst = p;
            }
            if (!s->tie[p] && one[p - 1].argmax != s->argmax[p]) greedy_bad++;
        }
        printf("%s seq %d (T=%d): max |logprob - HF| = %.3g at pos %d (ours %.9f, HF %.9f); argmax mismatches %d\n",
               argv[1], k, T, max_err, worst, one[worst - 1].logprob, s->logprob[worst], greedy_bad);
        snprintf(what, sizeof what, "%s seq %d: every log-prob within %g of HF", argv[1], k, tol);
        test_cond(what, max_err <= tol);
        snprintf(what, sizeof what, "%s seq %d: argmax flags equal HF's", argv[1], k);
        test_cond(what, greedy_bad == 0);

        /* Splitting between prefill and continuation changes nothing. */
        int split = T / 3;
        test_cond("prefill + one-by-one runs", score_seq(m, s, split, 1, pieces) == 0);
        test_cond("prefill + chunks of 7 runs", score_seq(m, s, split + 1, 7, split_one) == 0);
        /* Relative 2e-5: OpenBLAS picks its small-matrix sgemm kernel (another
         * summation order) for few rows, so a token fed alone is rounded
         * differently from the same token inside a long prefill; over
         * SmolLM2's 30 layers that reaches ~2e-5 absolute on |log-prob| ~ 4
         * (1.3e-5 relative at a log-prob of -1.5 since every sgemm runs
         * single-threaded, backend_cpu.c). */
        double d1 = 0, d2 = 0, r1 = 0, r2 = 0;
        for (int p = 0; p < T - 1; p++) {
            double scale = fmax(1.0, fabs(one[p].logprob));
            d1 = fmax(d1, fabs(pieces[p].logprob - one[p].logprob));
            d2 = fmax(d2, fabs(split_one[p].logprob - one[p].logprob));
            r1 = fmax(r1, fabs(pieces[p].logprob - one[p].logprob) / scale);
            r2 = fmax(r2, fabs(split_one[p].logprob - one[p].logprob) / scale);
        }
        printf("%s seq %d: one pass vs prefill+1-by-1 %.3g (rel %.3g), vs prefill+chunks %.3g (rel %.3g)\n", argv[1], k,
               d1, r1, d2, r2);
        test_cond("one pass == prefill + token by token (2e-5 relative)", r1 <= 2e-5);
        test_cond("one pass == prefill + chunks of 7 (2e-5 relative)", r2 <= 2e-5);
    }
    gq_model_close(m);

    /* Thread count changes nothing beyond rounding: OpenBLAS partitions an
     * sgemm differently for 2 threads on some CPUs (AMD Zen: ~2e-5 absolute
     * over SmolLM2's 30 layers), so the bound is relative, as above. */
    opts.n_threads = 1;
    if (gq_model_open(&m, dir, &opts, &err) == GQ_OK && n_seq > 0) {
        static gq_score t1[MAX_T];
        gq_model *m2 = NULL;
        gq_open_opts o2 = {1, 2, 64, 0, NULL, GQ_DEVICE_CPU, 0};
        gq_model_open(&m2, dir, &o2, &err);
        test_cond("1-thread pass runs", score_seq(m, &seqs[0], seqs[0].T - 1, 0, t1) == 0);
        test_cond("2-thread pass runs", m2 && score_seq(m2, &seqs[0], seqs[0].T - 1, 0, one) == 0);
        double d = 0, r = 0;
        for (int p = 0; p < seqs[0].T - 1; p++) {
            d = fmax(d, fabs(t1[p].logprob - one[p].logprob));
            r = fmax(r, fabs(t1[p].logprob - one[p].logprob) / fmax(1.0, fabs(one[p].logprob)));
        }
        printf("%s: 1 vs 2 threads max diff %.3g (rel %.3g)\n", argv[1], d, r);
        test_cond("1 thread == 2 threads (1e-5 relative)", r <= 1e-5);
        gq_model_close(m2);
    }
    gq_model_close(m);
    return test_report(argv[1]);
}
