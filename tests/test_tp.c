/* test_tp.c — tensor parallelism along KV groups (engine/tp.h, issue 17) on
 * GQLA models with 3 groups, SmolLM2's converted shape scaled down
 * (H 9, G 3, d_n = d_v = 32, d_r 16, r 48), one plain (no biases, no latent
 * norms, q_proj) and one with q-LoRA, biases and latent norms.
 *
 * 1. Cache bytes, in process: the model opened as each rank of tp 1, 2, 3
 *    (a no-op all-reduce is enough: no forward runs), a cache of C
 *    positions per path; its allocation (gq_kv_cache_bytes) must equal
 *    C x L x 4 x gq_tp_cache_elems and the numbers written out here
 *    (gqa: G_r*(d_n+d_v) + d_r with G_r = 1,2 for tp 2 and 1,1,1 for tp 3;
 *    absorb: r + d_r on every rank).  --tp beyond G is refused.
 * 2. Scores through real ranks: `gqla-eval score --path gqa|absorb --json`
 *    in one process (tp 1) and under `mpirun -np N ... --tp N` (N = 2, 3);
 *    every per-position log-likelihood within 1e-5 of tp 1.
 * 3. `score --tp 2` without mpirun and `kvcache --tp` on the fixture.
 * 4. A GQA model's native path under tp 2 (k/v rows split by KV head).
 * 5. The main command: `gqla-eval --model GQLA --path gqa|absorb --tp 2` under
 *    mpirun -np 2 on the 2-group fixture of main_fixtures.c against one
 *    process: every request's log-likelihood (requests.tsv, written by
 *    rank 0 alone) within 1e-5.
 * argv[1]: the mpirun executable (tests/tp.cmake passes MPIEXEC_EXECUTABLE). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "main_fixtures.h"
#include "mla_fixtures.h"
#include "model.h"
#include "score.h"
#include "testutil.h"
#include "tp.h"

#define TOL 1e-5
#define CAPACITY 37
#define MAX_SCORES 64

typedef struct fx {
    const char *name;
    mlafix_dims d;
} fx;

/*                        D  L  H  G  dn dr dv  r  rq   I    V bias norms */
static const fx fixtures[] = {
    {"smol-h9g3", {96, 2, 9, 3, 32, 16, 32, 48, 0, 160, 128, 0, 0}},
    {"h9g3-qlora-bias", {96, 2, 9, 3, 32, 16, 32, 48, 40, 150, 128, 1, 1}},
};

static mlafix_tensors tensors = {.rng = 0x9e3779b97f4a7c15ull};

static int write_fixture(const fx *f, const char *dir)
{
    mlafix_model w;
    const mlafix_dims *d = &f->d;
    mlafix_clear(&tensors);
    if (mlafix_add_model(&tensors, d, &w) != 0 || mlafix_write(&tensors, dir) != 0) return -1;
    return mlafix_write_config(d, 128, dir);
}

static int noop_allreduce(void *ctx, float *x, size_t n, gq_error *err)
{
    (void)ctx;
    (void)x;
    (void)n;
    (void)err;
    return GQ_OK;
}

/* Part 1: measured cache bytes against the formula, every rank of tp 1..3. */
static void check_bytes(const fx *f, const char *dir)
{
    const mlafix_dims *d = &f->d;
    /* Expected elements per token per layer, written out: rank r of n holds
     * groups [r*3/n, (r+1)*3/n). */
    static const int groups[4][3] = {{0}, {3}, {1, 2}, {1, 1, 1}};
    for (int n = 1; n <= 3; n++) {
        for (int r = 0; r < n; r++) {
            gq_tp_comm tp = {r, n, noop_allreduce, NULL};
            gq_open_opts o = {.load_weights = 1, .n_threads = 1, .max_tokens = 16, .tp = &tp};
            gq_model *m = NULL;
            gq_error err = {0};
            if (gq_model_open(&m, dir, &o, &err) != GQ_OK) {
                printf("open %s as rank %d of %d: %s\n", f->name, r, n, err.msg);
                test_cond("the model opens as every rank", 0);
                continue;
            }
            const gq_path paths[2] = {GQ_PATH_GQA, GQ_PATH_ABSORB};
            for (int p = 0; p < 2; p++) {
                gq_kv_cache *c = NULL;
                if (gq_kv_cache_init(&c, m, paths[p], CAPACITY, &err) != GQ_OK) {
                    printf("cache: %s\n", err.msg);
                    test_cond("the cache is allocated", 0);
                    continue;
                }
                int64_t want = paths[p] == GQ_PATH_GQA ? (int64_t)groups[n][r] * (d->dn + d->dv) + d->dr : d->r + d->dr;
                int64_t formula = gq_tp_cache_elems(gq_model_config(m), paths[p], r, n);
                size_t measured = gq_kv_cache_bytes(c), per_token = measured / CAPACITY;
                printf("%-16s tp %d rank %d %-6s: measured %6zu B/token (%zu B/token/layer), formula %lld elem x 4 "
                       "x %d layers = %lld B/token\n",
                       f->name, n, r, gq_path_name(paths[p]), per_token, per_token / (size_t)d->L,
                       (long long)formula, d->L, (long long)(formula * 4 * d->L));
                test_cond("formula = the elements written out here", formula == want);
                test_cond("measured allocation = capacity x layers x 4 x formula",
                          measured == (size_t)CAPACITY * (size_t)d->L * 4u * (size_t)formula);
                test_cond("the cache reports the same elements per token and layer",
                          gq_kv_cache_elems_per_token_layer(c) == formula);
                gq_kv_cache_free(c);
            }
            gq_model_close(m);
        }
    }
    gq_tp_comm tp4 = {0, 4, noop_allreduce, NULL};
    gq_open_opts o = {.load_weights = 1, .n_threads = 1, .max_tokens = 16, .tp = &tp4};
    gq_model *m = NULL;
    gq_error err = {0};
    int rc = gq_model_open(&m, dir, &o, &err);
    printf("tp 4 on 3 groups: %s\n", err.msg);
    test_cond("tp 4 > G = 3 is refused with a usage error naming the bound",
              rc == GQ_ERR_USAGE && m == NULL && strstr(err.msg, "1 <= tp <= 3"));
    gq_model_close(m);
}

// ---------------------------------------------------------------------------
// part 2: real ranks


/* The "logprob" values of score --json output, in order; -1 if not one
 * JSON document. */
static int parse_logprobs(const char *out, double *lp, int max)
{
    if (!out || strstr(out, "\"tokens\"") == NULL || test_count(out, "{\"tokens\"") != 1) return -1;
    int n = 0;
    for (const char *p = strstr(out, "\"logprob\": "); p && n < max; p = strstr(p + 1, "\"logprob\": "))
        lp[n++] = strtod(p + 11, NULL);
    return n;
}

static const char *ids = "0,5,17,99,3,64,12,12,80,127,45,2,9,33,101,7,58,19,88,4,71,26,110,63";

static int score(const char *mpirun, const char *dir, const char *path, int tp, double *lp, char **out)
{
    char cmd[8192], prefix[1024] = "";
    const char *cli = getenv("GQ_CLI") ? getenv("GQ_CLI") : "gqla-eval";
    if (tp > 1)
        /* ranks without LeakSanitizer's exit check: Open MPI's start-up allocations read as leaks */
        snprintf(prefix, sizeof prefix, "ASAN_OPTIONS=detect_leaks=0 '%s' %s--oversubscribe -np %d ", mpirun,
                 geteuid() == 0 ? "--allow-run-as-root " : "", tp);
    snprintf(cmd, sizeof cmd, "%s'%s' score '%s' --ids %s --path %s --threads 1 --json%s%s", prefix, cli, dir, ids,
             path, tp > 1 ? " --tp " : "", tp > 1 ? (tp == 2 ? "2" : "3") : "");
    int rc = test_run_shell(cmd, out);
    int n = parse_logprobs(*out, lp, MAX_SCORES);
    if (rc != 0 || n <= 0) printf("--- %s (exit %d)\n%s\n", cmd, rc, *out ? *out : "");
    return rc == 0 ? n : -1;
}

static void check_scores(const fx *f, const char *dir, const char *mpirun)
{
    const char *paths[2] = {"gqa", "absorb"};
    for (int p = 0; p < 2; p++) {
        double ref[MAX_SCORES], lp[MAX_SCORES];
        char *out = NULL;
        int n = score(mpirun, dir, paths[p], 1, ref, &out);
        free(out);
        test_cond("tp 1 scores", n > 10);
        for (int tp = 2; tp <= 3 && n > 0; tp++) {
            int m = score(mpirun, dir, paths[p], tp, lp, &out);
            free(out);
            double worst = m == n ? 0.0 : INFINITY;
            for (int j = 0; j < n && m == n; j++) worst = fmax(worst, fabs(lp[j] - ref[j]));
            printf("%-16s path %-6s tp %d: %d log-likelihoods, max |tp%d - tp1| = %.3g\n", f->name, paths[p], tp, m, tp,
                   worst);
            test_cond("one JSON document (rank 0 prints), as many scores as tp 1", m == n);
            test_cond("every log-likelihood within 1e-5 of tp 1", worst <= TOL);
        }
    }
}

/* The log-likelihood column of DIR/requests.tsv; -1 when unreadable. */
static int read_lls(const char *dir, double *ll, int max)
{
    char path[8400];
    snprintf(path, sizeof path, "%s/requests.tsv", dir);
    char *text = test_read_file(path, NULL);
    if (!text) return -1;
    int n = 0;
    for (char *line = text; line && *line && n < max;) {
        char *tab = line;
        for (int f = 0; f < 3 && tab; f++) tab = strchr(tab, '\t') ? strchr(tab, '\t') + 1 : NULL;
        if (tab && line[0] != '#') ll[n++] = strtod(tab, NULL);
        line = strchr(line, '\n');
        if (line) line++;
    }
    free(text);
    return n;
}

static void check_eval(const char *mpirun)
{
    char model[4200], cmd[16384], common[8400], *out = NULL;
    snprintf(model, sizeof model, "%s", test_tmpdir("tp-eval-model"));
    test_cond("main fixture written", mf_write_gqla(model, 3, 0) == 0);
    const char *cli = getenv("GQ_CLI") ? getenv("GQ_CLI") : "gqla-eval";
    const char *paths[2] = {"gqa", "absorb"};
    for (int p = 0; p < 2; p++) {
        char one[4200], two[4200], name[64];
        snprintf(name, sizeof name, "tp-eval-%s-1", paths[p]);
        snprintf(one, sizeof one, "%s", test_tmpdir(name));
        snprintf(name, sizeof name, "tp-eval-%s-2", paths[p]);
        snprintf(two, sizeof two, "%s", test_tmpdir(name));
        snprintf(common, sizeof common, "--model '%s' --path %s --tasks arc_easy,piqa --limit 4 --data-dir '%s' "
                 "--quiet --threads 1", model, paths[p], mf_samples_dir());
        snprintf(cmd, sizeof cmd, "'%s' %s --output-dir '%s'", cli, common, one);
        int rc = test_run_shell(cmd, &out);
        if (rc != 0) printf("--- %s (exit %d)\n%s\n", cmd, rc, out ? out : "");
        free(out);
        test_cond("eval in one process", rc == 0);
        snprintf(cmd, sizeof cmd,
                 "ASAN_OPTIONS=detect_leaks=0 '%s' %s--oversubscribe -np 2 '%s' %s --output-dir '%s' --tp 2", mpirun,
                 geteuid() == 0 ? "--allow-run-as-root " : "", cli, common, two);
        rc = test_run_shell(cmd, &out);
        printf("--- %s (exit %d)\n%s\n", cmd, rc, out ? out : "");
        test_cond("eval --tp 2 under mpirun -np 2", rc == 0);
        test_cond("rank 0 alone prints: one results table", test_count(out, "prefix sharing:") == 1);
        free(out);
        double a[256], b[256];
        int na = read_lls(one, a, 256), nb = read_lls(two, b, 256);
        double worst = na == nb && na > 0 ? 0.0 : INFINITY;
        for (int j = 0; j < na && na == nb; j++) worst = fmax(worst, fabs(a[j] - b[j]));
        printf("eval path %-6s tp 2: %d requests, max |tp2 - tp1| = %.3g\n", paths[p], nb, worst);
        test_cond("eval --tp 2: every request's log-likelihood within 1e-5 of one process", worst <= TOL);
        /* The KV-cache table at tp 2: main_fixtures' G=2 groups are one per
         * rank, so both paths cache G_r*(d_n+d_v)+d_r = 16+4 = r+d_r = 20
         * elements per token and layer on each rank (bf16, 2 layers: 80 B). */
        cJSON *m = mf_read_json(two, "gqla_run.json");
        const cJSON *run0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m, "runs"), 0);
        const cJSON *kv = cJSON_GetObjectItemCaseSensitive(run0, "kv_cache");
        test_cond("eval --tp 2: gqla_run.json kv_cache gives the largest rank's 20 elements per token per layer",
                  mf_num(kv, "elements_per_token_per_layer_largest_rank") == 20);
        cJSON_Delete(m);
        char rp[4400];
        snprintf(rp, sizeof rp, "%s/report.md", two);
        char *md = test_read_file(rp, NULL);
        test_cond("eval --tp 2: report.md's KV-cache table has the largest rank's bytes (80) and the Parallel line",
                  test_has(md, "Bytes / token, largest rank") && test_has(md, "| 80 |") &&
                      test_has(md, "tp 2"));
        free(md);
    }
}

/* A GQA model (main_fixtures.c's LLaMA, 2 KV heads) on its native path:
 * q/k/v rows and o_proj columns split the same way. */
static void check_native(const char *mpirun)
{
    char root[4200], dir[4300], *out = NULL;
    double ref[MAX_SCORES], lp[MAX_SCORES];
    snprintf(root, sizeof root, "%s", test_tmpdir("tp-native"));
    test_cond("GQA fixture written", mf_write_original(root) == 0);
    snprintf(dir, sizeof dir, "%s", root); /* the header says dir/original; it writes dir itself */
    int n = score(mpirun, dir, "native", 1, ref, &out);
    free(out);
    int m = n > 0 ? score(mpirun, dir, "native", 2, lp, &out) : -1;
    if (n > 0) free(out);
    double worst = m == n && n > 0 ? 0.0 : INFINITY;
    for (int j = 0; j < n && m == n; j++) worst = fmax(worst, fabs(lp[j] - ref[j]));
    printf("llama-gqa        path native tp 2: %d log-likelihoods, max |tp2 - tp1| = %.3g\n", m, worst);
    test_cond("GQA native path: tp 2 within 1e-5 of tp 1", worst <= TOL);
}

int main(int argc, char **argv)
{
    const char *mpirun = argc > 1 ? argv[1] : "mpirun";
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
        const fx *f = &fixtures[i];
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", test_tmpdir(f->name));
        test_cond("fixture written", write_fixture(f, dir) == 0);
        check_bytes(f, dir);
        check_scores(f, dir, mpirun);
        if (i == 0) {
            char args[4400], *out = NULL;
            snprintf(args, sizeof args, "score '%s' --ids %s --tp 2", dir, ids);
            int rc = test_run_cli(args, &out);
            printf("--- score --tp 2 in one process (exit %d)\n%s", rc, out ? out : "");
            test_cond("--tp 2 without mpirun: exit 2, says to run mpirun -np 2",
                      rc == 2 && test_has(out, "--tp 2 needs 2 ranks") && test_has(out, "mpirun -np 2"));
            free(out);
            const char *cli = getenv("GQ_CLI") ? getenv("GQ_CLI") : "gqla-eval";
            char cmd[8192];
            static const char *bad[2][2] = {{"1", "needs --tp 2"}, {"3", "--tp 3 needs 3 ranks, but this run has 2"}};
            for (int b = 0; b < 2; b++) {
                snprintf(cmd, sizeof cmd,
                         "ASAN_OPTIONS=detect_leaks=0 '%s' %s--oversubscribe -np 2 '%s' score '%s' --ids %s --threads 1 "
                         "--tp %s",
                         mpirun, geteuid() == 0 ? "--allow-run-as-root " : "", cli, dir, ids, bad[b][0]);
                rc = test_run_shell(cmd, &out);
                printf("--- %s (exit %d)\n%s", cmd, rc, out ? out : "");
                test_cond("mpirun -np 2 with another --tp: exit 2, said once (rank 0)",
                          rc == 2 && test_has(out, bad[b][1]) && test_count(out, bad[b][1]) == 1);
                free(out);
            }
            snprintf(args, sizeof args, "kvcache --config '%s' --tp 2", dir);
            rc = test_run_cli(args, &out);
            printf("--- kvcache --tp 2 (exit %d)\n%s", rc, out ? out : "");
            test_cond("kvcache --tp 2: per-rank bytes of each path (bf16, f32, per layer)",
                      rc == 0 && test_has(out, "per tensor-parallel rank, tp 2") &&
                          test_has(out, "gqa      rank 0  groups [0, 1)") && test_has(out, "gqa      rank 1  groups [1, 3)") &&
                          test_has(out, "absorb   rank 1  groups [1, 3)"));
            free(out);
        }
    }
    mlafix_clear(&tensors);
    check_native(mpirun);
    check_eval(mpirun);
    return test_report("test_tp");
}
