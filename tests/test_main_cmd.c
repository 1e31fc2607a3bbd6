/* test_main_cmd.c — the main command on a tiny original + tiny GQLA model
 * (main_fixtures.h) over the shipped sample items of all six tasks.
 * Usage: test_main_cmd CASE
 *   compare     `--model O --converted C` exits 0 and writes the results
 *               files and gqla_run.json; the manifest's fields are checked
 *               against independent sources: each run's numbers against a
 *               single-model run (`--model X --path P`) of the same model and
 *               path, the consistency block against the two single-model
 *               requests.tsv files (max/mean |dll|, agreement recomputed
 *               here), the MMLU group against the size-weighted mean of the
 *               leaf entries, the KV cache against conversion.md §2.4 by hand;
 *   gate        exit 0 / 1 with --max-path-diff and --max-drop, JUnit file
 *               (needs the reports side's gq_gate_check);
 *   mismatch    a converted model with another tokenizer: exit 2 naming
 *               both folders, nothing written;
 *   usage       bad option combinations exit 2. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "main_fixtures.h"
#include "testutil.h"

#define TASKS "arc_easy,arc_challenge,piqa,hellaswag,openbookqa,winogrande,mmlu_abstract_algebra,mmlu_high_school_us_history"

static char root[4096], orig[4200], conv[4200];

static int run(const char *extra, const char *out, char **output)
{
    char args[40000];
    snprintf(args, sizeof args, "--tasks %s --data-dir '%s' --quiet --output-dir '%s' %s", TASKS, mf_samples_dir(),
             out, extra);
    return test_run_cli(args, output);
}

/* requests.tsv of a single-model run: log-likelihoods per (task, doc, k). */
typedef struct req_row {
    char task[64];
    int doc, k;
    double ll;
} req_row;

static req_row *read_requests(const char *dir, size_t *n)
{
    char path[8400];
    snprintf(path, sizeof path, "%s/requests.tsv", dir);
    char *text = test_read_file(path, NULL);
    *n = 0;
    if (!text) return NULL;
    size_t cap = 1;
    for (char *c = text; *c; c++) cap += *c == '\n';
    req_row *rows = calloc(cap, sizeof *rows);
    for (char *line = strtok(text, "\n"); line && rows; line = strtok(NULL, "\n")) {
        req_row *r = &rows[*n];
        if (sscanf(line, "%63[^\t]\t%d\t%d\t%lf", r->task, &r->doc, &r->k, &r->ll) == 4) (*n)++;
    }
    free(text);
    return rows;
}

static void check_run_against_single(const cJSON *mrun, const char *single_dir, const char *what)
{
    cJSON *res = mf_read_json(single_dir, "results.json");
    test_cond("single-model results.json readable", res != NULL);
    const cJSON *results = cJSON_GetObjectItemCaseSensitive(res, "results");
    const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(mrun, "tasks");
    int n_checked = 0;
    for (const cJSON *t = tasks ? tasks->child : NULL; t; t = t->next) {
        if (!strcmp(t->string, "mmlu")) continue;
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(results, t->string);
        char msg[256];
        snprintf(msg, sizeof msg, "%s %s: acc equals the single-model run's acc,none", what, t->string);
        test_cond(msg, r && mf_num(t, "acc") == mf_num(r, "acc,none"));
        const cJSON *an = cJSON_GetObjectItemCaseSensitive(r, "acc_norm,none");
        snprintf(msg, sizeof msg, "%s %s: acc_norm equals (or both absent)", what, t->string);
        test_cond(msg, an ? mf_num(t, "acc_norm") == an->valuedouble
                          : cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(t, "acc_norm")));
        n_checked++;
    }
    test_cond("every leaf task of the run checked (8)", n_checked == 8);
    cJSON_Delete(res);
}

static void check_consistency(const cJSON *pair, const char *dir_a, const char *dir_b)
{
    size_t na = 0, nb = 0;
    req_row *a = read_requests(dir_a, &na), *b = read_requests(dir_b, &nb);
    test_cond("requests.tsv of both paths read, same length", a && b && na == nb && na > 0);
    const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(pair, "tasks");
    for (const cJSON *t = tasks ? tasks->child : NULL; t && a && b && na == nb; t = t->next) {
        double mx = -1, sum = 0;
        int nreq = 0, ndocs = 0, agree = 0, worst_doc = -1, worst_k = -1;
        for (size_t i = 0; i < na;) {
            if (strcmp(a[i].task, t->string) != 0) {
                i++;
                continue;
            }
            /* one document: rows i .. j-1 */
            size_t j = i;
            int ba = 0, bb = 0;
            while (j < na && !strcmp(a[j].task, t->string) && a[j].doc == a[i].doc) {
                double d = fabs(a[j].ll - b[j].ll);
                if (d > mx) {
                    mx = d;
                    worst_doc = a[j].doc;
                    worst_k = a[j].k;
                }
                sum += d;
                nreq++;
                if (a[j].ll > a[i + (size_t)ba].ll) ba = (int)(j - i);
                if (b[j].ll > b[i + (size_t)bb].ll) bb = (int)(j - i);
                j++;
            }
            ndocs++;
            agree += ba == bb;
            i = j;
        }
        char msg[256];
        snprintf(msg, sizeof msg, "consistency %s: n_requests %d, n_docs %d", t->string, nreq, ndocs);
        test_cond(msg, mf_num(t, "n_requests") == nreq && mf_num(t, "n_docs") == ndocs);
        snprintf(msg, sizeof msg, "consistency %s: max_abs_dll %.3g = max |ll_gqa - ll_absorb| of requests.tsv",
                 t->string, mx);
        test_cond(msg, fabs(mf_num(t, "max_abs_dll") - mx) <= 1e-12 * (1 + mx));
        snprintf(msg, sizeof msg, "consistency %s: mean_abs_dll", t->string);
        test_cond(msg, fabs(mf_num(t, "mean_abs_dll") - sum / nreq) <= 1e-12 * (1 + mx));
        snprintf(msg, sizeof msg, "consistency %s: agreement %d/%d", t->string, agree, ndocs);
        test_cond(msg, fabs(mf_num(t, "agreement") - (double)agree / ndocs) < 1e-12);
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(t, "worst");
        snprintf(msg, sizeof msg, "consistency %s: worst doc %d request %d", t->string, worst_doc, worst_k);
        test_cond(msg, mf_num(w, "doc") == worst_doc && mf_num(w, "request") == worst_k);
        snprintf(msg, sizeof msg, "consistency %s: paths agree to 1e-4", t->string);
        test_cond(msg, mx < 1e-4);
    }
    free(a);
    free(b);
}

static void case_compare(void)
{
    char out[4400], s0[4400], s1[4400], s2[4400], args[9000];
    snprintf(out, sizeof out, "%s/out", root);
    char *o = NULL;
    snprintf(args, sizeof args, "--model '%s' --converted '%s'", orig, conv);
    int code = run(args, out, &o);
    printf("compare: exit %d\n%s\n", code, o ? o : "");
    test_cond("compare: exit 0", code == 0);
    test_cond("prints the comparison table", o && strstr(o, "converted_gqa") && strstr(o, "converted_absorb"));
    test_cond("prints the cross-path table", o && strstr(o, "cross-path check: gqa vs absorb"));
    free(o);
    /* independent single-model runs */
    snprintf(s0, sizeof s0, "%s/single_orig", root);
    snprintf(s1, sizeof s1, "%s/single_gqa", root);
    snprintf(s2, sizeof s2, "%s/single_absorb", root);
    snprintf(args, sizeof args, "--model '%s'", orig);
    test_cond("single original run: exit 0", run(args, s0, NULL) == 0);
    snprintf(args, sizeof args, "--model '%s' --path gqa", conv);
    test_cond("single gqa run: exit 0", run(args, s1, NULL) == 0);
    snprintf(args, sizeof args, "--model '%s' --path absorb", conv);
    test_cond("single absorb run: exit 0", run(args, s2, NULL) == 0);

    cJSON *m = mf_read_json(out, "gqla_run.json");
    test_cond("gqla_run.json parses", m != NULL);
    if (!m) return;
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(m, "format");
    test_cond("format gqla-run, version 1", cJSON_IsString(fmt) && !strcmp(fmt->valuestring, "gqla-run") &&
                                                mf_num(m, "version") == 1);
    test_cond("limit null, num_fewshot 0", cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(m, "limit")) &&
                                               mf_num(m, "num_fewshot") == 0);
    test_cond("wall_seconds > 0, peak_rss_bytes > 1 MB", mf_num(m, "wall_seconds") > 0 && mf_num(m, "peak_rss_bytes") > 1e6);
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(m, "command");
    test_cond("command recorded", cJSON_IsString(cmd) && strstr(cmd->valuestring, "--converted"));
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(m, "models");
    const cJSON *mo = cJSON_GetObjectItemCaseSensitive(models, "original");
    const cJSON *mc = cJSON_GetObjectItemCaseSensitive(models, "converted");
    test_cond("models.original: llama, 3 layers, H 8, G 2, head_dim 8",
              !strcmp(cJSON_GetObjectItemCaseSensitive(mo, "arch")->valuestring, "llama") && mf_num(mo, "layers") == 3 &&
                  mf_num(mo, "H") == 8 && mf_num(mo, "G") == 2 && mf_num(mo, "head_dim") == 8);
    test_cond("models.converted: gqla, dims as written",
              !strcmp(cJSON_GetObjectItemCaseSensitive(mc, "arch")->valuestring, "gqla") && mf_num(mc, "layers") == MF_L &&
                  mf_num(mc, "H") == MF_H && mf_num(mc, "G") == MF_G && mf_num(mc, "d_n") == MF_DN && mf_num(mc, "d_r") == MF_DR &&
                  mf_num(mc, "d_v") == MF_DV && mf_num(mc, "r") == MF_R);
    /* parameters of the random GQLA model, counted by hand */
    double p_gqla = 256.0 * 64 * 2 + 64 + MF_L * (2 * 64 + (double)MF_H * (MF_DN + MF_DR) * 64 + (MF_R + MF_DR) * 64 +
                                                  (double)MF_G * (MF_DN + MF_DV) * MF_R + 64.0 * MF_H * MF_DV + 3 * 96 * 64);
    test_cond("models.converted.n_params counted by hand", mf_num(mc, "n_params") == p_gqla);
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(m, "runs");
    test_cond("three runs", cJSON_GetArraySize(runs) == 3);
    const char *ids[3] = {"original", "converted_gqa", "converted_absorb"};
    const char *paths[3] = {"native", "gqa", "absorb"};
    const double kv[3] = {MF_KV_ORIGINAL, MF_KV_GQA, MF_KV_ABSORB};
    const char *single[3] = {s0, s1, s2};
    for (int i = 0; i < 3 && cJSON_GetArraySize(runs) == 3; i++) {
        const cJSON *r = cJSON_GetArrayItem(runs, i);
        char msg[256], file[64];
        snprintf(msg, sizeof msg, "run %d is %s on path %s", i, ids[i], paths[i]);
        test_cond(msg, !strcmp(cJSON_GetObjectItemCaseSensitive(r, "id")->valuestring, ids[i]) &&
                           !strcmp(cJSON_GetObjectItemCaseSensitive(r, "path")->valuestring, paths[i]));
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(r, "kv_cache");
        snprintf(msg, sizeof msg, "%s: KV cache %g elements per token per layer, layers", ids[i], kv[i]);
        test_cond(msg, mf_num(c, "elements_per_token_per_layer") == kv[i] && mf_num(c, "layers") == (i ? MF_L : 3));
        if (i == 1) test_cond("gqa: k_pe per group", mf_num(c, "elements_kpe_per_group") == MF_KV_GQA_KPE);
        snprintf(file, sizeof file, "results_%s.json", ids[i]);
        cJSON *rf = mf_read_json(out, file);
        snprintf(msg, sizeof msg, "%s written and named in the run", file);
        test_cond(msg, rf != NULL && !strcmp(cJSON_GetObjectItemCaseSensitive(r, "results_file")->valuestring, file));
        cJSON_Delete(rf);
        check_run_against_single(r, single[i], ids[i]);
        /* MMLU group = size-weighted mean of the subjects */
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "tasks");
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(t, "mmlu_abstract_algebra"),
                    *b = cJSON_GetObjectItemCaseSensitive(t, "mmlu_high_school_us_history"),
                    *g = cJSON_GetObjectItemCaseSensitive(t, "mmlu");
        double want = (mf_num(a, "acc") * mf_num(a, "n") + mf_num(b, "acc") * mf_num(b, "n")) / (mf_num(a, "n") + mf_num(b, "n"));
        snprintf(msg, sizeof msg, "%s: mmlu = size-weighted mean of its subjects (%g)", ids[i], want);
        test_cond(msg, g && fabs(mf_num(g, "acc") - want) < 1e-12 && mf_num(g, "n") == mf_num(a, "n") + mf_num(b, "n"));
    }
    const cJSON *cons = cJSON_GetObjectItemCaseSensitive(m, "consistency");
    test_cond("one consistency pair: converted_gqa vs converted_absorb",
              cJSON_GetArraySize(cons) == 1 &&
                  !strcmp(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cons, 0), "a")->valuestring, "converted_gqa") &&
                  !strcmp(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cons, 0), "b")->valuestring, "converted_absorb"));
    if (cJSON_GetArraySize(cons) == 1) check_consistency(cJSON_GetArrayItem(cons, 0), s1, s2);
    cJSON_Delete(m);

    /* The same folder with other requests (--limit 2): every journal is
     * started over, with a message, and the numbers are those of 2 docs. */
    snprintf(args, sizeof args, "--model '%s' --converted '%s' --limit 2", orig, conv);
    code = run(args, out, &o);
    test_cond("--limit 2 on the same folder: exit 0", code == 0);
    test_cond("says the journal is started over", o && strstr(o, "starting this task over"));
    free(o);
    m = mf_read_json(out, "gqla_run.json");
    const cJSON *r0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m, "runs"), 0);
    const cJSON *pq = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r0, "tasks"), "piqa");
    test_cond("manifest: limit 2, piqa n 2", mf_num(m, "limit") == 2 && mf_num(pq, "n") == 2);
    cJSON_Delete(m);
}

static void case_gate(void)
{
    char out[4400], args[16384], junit[4600];
    snprintf(out, sizeof out, "%s/out", root);
    snprintf(junit, sizeof junit, "%s/junit.xml", root);
    struct {
        const char *opts;
        int want;
        const char *what;
    } cases[] = {
        {"--max-path-diff 1", 0, "paths within 1: exit 0"},
        {"--max-drop 100", 0, "a drop of at most 100 points always holds: exit 0"},
        {"--max-drop -100", 1, "a drop of at most -100 points (a 100-point gain) fails: exit 1"},
        {"--max-path-diff 1e-300 --max-drop 100", -1, "a 1e-300 path limit: exit 1 unless the paths agree to the bit"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *o = NULL;
        snprintf(args, sizeof args, "--model '%s' --converted '%s' %s --junit '%s'", orig, conv, cases[i].opts, junit);
        remove(junit);
        int code = run(args, out, &o);
        printf("gate %s: exit %d\n%s\n", cases[i].opts, code, o ? o : "");
        int want = cases[i].want;
        if (want < 0) {
            cJSON *m = mf_read_json(out, "gqla_run.json");
            const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m, "consistency"), 0);
            double mx = 0;
            for (const cJSON *t = c ? cJSON_GetObjectItemCaseSensitive(c, "tasks")->child : NULL; t; t = t->next)
                if (mf_num(t, "max_abs_dll") > mx) mx = mf_num(t, "max_abs_dll");
            want = mx > 1e-300 ? 1 : 0;
            cJSON_Delete(m);
        }
        test_cond(cases[i].what, code == want);
        char *x = test_read_file(junit, NULL);
        test_cond("JUnit file written", x && strstr(x, "<testsuite"));
        free(x);
        free(o);
    }
}

static void case_mismatch(void)
{
    char other[4400], out[4400], args[9000];
    snprintf(other, sizeof other, "%s/conv_ascii", root);
    snprintf(out, sizeof out, "%s/out", root);
    test_cond("fixture written", mf_write_gqla(other, 7, 1) == 0);
    /* the ASCII-only tokenizer has 96 tokens: same vocabulary size in the config, other ids */
    snprintf(args, sizeof args, "--model '%s' --converted '%s'", orig, other);
    char *o = NULL;
    int code = run(args, out, &o);
    printf("mismatch: exit %d\n%s\n", code, o ? o : "");
    test_cond("tokenizer mismatch: exit 2", code == 2);
    test_cond("names the original folder", o && strstr(o, orig));
    test_cond("names the converted folder", o && strstr(o, other));
    test_cond("says what differs", o && strstr(o, "do not share a tokenizer"));
    free(o);
    char path[4600];
    snprintf(path, sizeof path, "%s/gqla_run.json", out);
    test_cond("nothing written", !test_read_file(path, NULL));
}

static void case_usage(void)
{
    char out[4400], args[9000];
    snprintf(out, sizeof out, "%s/out", root);
    const char *bad[] = {
        "--model '%s' --converted '%s' --paths expanded",   /* a path a GQLA model does not have */
        "--model '%s' --converted '%s' --paths gqa,gqa",    /* repeated */
        "--model '%s' --converted '%s' --path gqa",         /* --path is for --model alone */
        "--model '%s' --max-drop 1 --output-dir x%s",       /* --max-drop needs --converted */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(args, sizeof args, bad[i], orig, conv);
        char *o = NULL;
        int code = run(args, out, &o);
        printf("usage case %zu: exit %d\n%s\n", i, code, o ? o : "");
        test_cond("bad usage: exit 2 with a message", code == 2 && o && strstr(o, "gqla-eval"));
        free(o);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    const char *cs = argv[1];
    snprintf(root, sizeof root, "%s", test_tmpdir(cs));
    snprintf(orig, sizeof orig, "%s/original", root);
    snprintf(conv, sizeof conv, "%s/converted", root);
    if (mf_write_original(orig) != 0 || mf_write_gqla(conv, 1, 0) != 0) {
        fprintf(stderr, "cannot write the fixtures under %s\n", root);
        return 1;
    }
    if (!strcmp(cs, "compare")) case_compare();
    else if (!strcmp(cs, "gate")) case_gate();
    else if (!strcmp(cs, "mismatch")) case_mismatch();
    else if (!strcmp(cs, "usage")) case_usage();
    else return 2;
    return test_report(cs);
}
