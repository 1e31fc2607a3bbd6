/* test_fidelity.c — gqla-eval against lm-evaluation-harness + transformers
 * on SmolLM2 (GGUF) and the real data, --limit 100 per task.
 *
 * The fixture tests/fixtures/lmeval/smollm2_limit100*.tsv was written by
 * tests/reference/run_lmeval_local.py (lm-eval 0.4.13 itself, numbers only).
 * Usage: test_fidelity OUR_OUTPUT_DIR — the folder where
 *   gqla-eval --model SmolLM2 --tasks <same> --limit 100 --data-dir ../shared/datasets
 * wrote requests.tsv and summary.tsv.  Checks per request: the same numbers
 * of context and continuation tokens, |ll - ll_lm-eval| <= 1e-3, the same
 * greedy flag; per task: acc and acc_norm identical. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define MAX_ROWS 65536

typedef struct req_row {
    char task[64];
    int doc, idx, greedy, n_ctx, n_cont;
    double ll;
} req_row;

typedef struct sum_row {
    char task[64];
    int n;
    double acc, acc_norm; /* NAN = '-' */
} sum_row;

static int read_requests(const char *path, req_row *rows)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f) && n < MAX_ROWS) {
        if (line[0] == '#') continue;
        req_row *r = &rows[n];
        if (sscanf(line, "%63s %d %d %lf %d %d %d", r->task, &r->doc, &r->idx, &r->ll, &r->greedy, &r->n_ctx,
                   &r->n_cont) == 7)
            n++;
    }
    fclose(f);
    return n;
}

typedef struct doc_row {
    char task[64];
    int doc, n, gold;
    char acc[16], acc_norm[16], prompt_hash[65], doc_hash[65], target_hash[65];
} doc_row;

static int read_docs(const char *path, doc_row *rows, int max)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f) && n < max) {
        if (line[0] == '#') continue;
        doc_row *r = &rows[n];
        if (sscanf(line, "%63s %d %d %d %15s %15s %64s %64s %64s", r->task, &r->doc, &r->n, &r->gold, r->acc,
                   r->acc_norm, r->prompt_hash, r->doc_hash, r->target_hash) == 9)
            n++;
    }
    fclose(f);
    return n;
}

static int read_summary(const char *path, sum_row *rows, int max)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f) && n < max) {
        if (line[0] == '#') continue;
        char acc[64], se[64], accn[64];
        sum_row *r = &rows[n];
        if (sscanf(line, "%63s %d %63s %63s %63s", r->task, &r->n, acc, se, accn) != 5) continue;
        r->acc = atof(acc);
        r->acc_norm = accn[0] == '-' ? NAN : atof(accn);
        n++;
    }
    fclose(f);
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    static req_row ref[MAX_ROWS], ours[MAX_ROWS];
    char path[4200];
    int n_ref = read_requests(test_fixture("lmeval/smollm2_limit100.tsv"), ref);
    snprintf(path, sizeof path, "%s/requests.tsv", argv[1]);
    int n_ours = read_requests(path, ours);
    test_cond("fixture readable", n_ref > 0);
    test_cond("our requests.tsv readable", n_ours > 0);
    if (n_ref <= 0 || n_ours <= 0) return test_report("fidelity");

    printf("%-24s %6s %10s %10s %8s %8s\n", "task", "reqs", "max|dll|", "mean|dll|", "tok_diff", "greedy_diff");
    int missing = 0, tok_bad = 0, greedy_bad = 0, ll_bad = 0;
    for (int i = 0; i < n_ref;) {
        int j = i, ran = 0;
        for (int k = 0; k < n_ours && !ran; k++) ran = !strcmp(ours[k].task, ref[i].task);
        if (!ran) { /* a fixture task this run left out */
            while (j < n_ref && !strcmp(ref[j].task, ref[i].task)) j++;
            i = j;
            continue;
        }
        double mx = 0, sum = 0;
        int td = 0, gd = 0, cnt = 0;
        while (j < n_ref && !strcmp(ref[j].task, ref[i].task)) {
            const req_row *a = &ref[j];
            const req_row *b = NULL;
            for (int k = 0; k < n_ours; k++)
                if (ours[k].doc == a->doc && ours[k].idx == a->idx && !strcmp(ours[k].task, a->task)) {
                    b = &ours[k];
                    break;
                }
            j++;
            if (!b) {
                missing++;
                continue;
            }
            double d = fabs(a->ll - b->ll);
            if (d > mx) mx = d;
            sum += d;
            cnt++;
            if (d > 1e-3) ll_bad++;
            if (a->n_ctx != b->n_ctx || a->n_cont != b->n_cont) {
                if (td < 3)
                    fprintf(stderr, "%s doc %d req %d: tokens ctx %d/%d cont %d/%d (lm-eval/ours)\n", a->task, a->doc,
                            a->idx, a->n_ctx, b->n_ctx, a->n_cont, b->n_cont);
                td++;
            }
            if (a->greedy != b->greedy) gd++;
        }
        printf("%-24s %6d %10.2e %10.2e %8d %8d\n", ref[i].task, cnt, mx, cnt ? sum / cnt : 0.0, td, gd);
        tok_bad += td;
        greedy_bad += gd;
        i = j;
    }
    /* Every task we ran must be in the fixture, request for request. */
    int unknown = 0;
    for (int k = 0; k < n_ours; k++) {
        int found = 0;
        for (int i = 0; i < n_ref && !found; i++) found = !strcmp(ref[i].task, ours[k].task);
        if (!found) unknown++;
    }
    test_cond("every task we ran is in the lm-eval fixture", unknown == 0);
    test_cond("every lm-eval request of those tasks has ours", missing == 0);
    test_cond("token counts equal lm-eval's (_encode_pair)", tok_bad == 0);
    test_cond("every log-likelihood within 1e-3 of lm-eval's", ll_bad == 0);
    test_cond("greedy flags equal", greedy_bad == 0);

    /* Per document: the same gold, metrics and prompt/target strings (their
     * sha256 as lm-eval logs them); doc_hash needs the HF-shaped row to be
     * rebuilt byte for byte from the original files, so it is counted only. */
    static doc_row dref[16384], dours[16384];
    int nd_ref = read_docs(test_fixture("lmeval/smollm2_limit100_docs.tsv"), dref, 16384);
    snprintf(path, sizeof path, "%s/docs.tsv", argv[1]);
    int nd_ours = read_docs(path, dours, 16384);
    test_cond("docs tables readable", nd_ref > 0 && nd_ours > 0);
    int d_checked = 0, gold_bad = 0, metric_bad = 0, prompt_bad = 0, target_bad = 0, dochash_same = 0;
    for (int k = 0; k < nd_ours; k++) {
        const doc_row *b = &dours[k], *a = NULL;
        for (int i = 0; i < nd_ref && !a; i++)
            if (dref[i].doc == b->doc && !strcmp(dref[i].task, b->task)) a = &dref[i];
        if (!a) continue;
        d_checked++;
        if (a->gold != b->gold || a->n != b->n) gold_bad++;
        if (strcmp(a->acc, b->acc) != 0 || strcmp(a->acc_norm, b->acc_norm) != 0) metric_bad++;
        if (strcmp(a->prompt_hash, b->prompt_hash) != 0) {
            if (prompt_bad < 3) fprintf(stderr, "%s doc %d: prompt differs from lm-eval's\n", b->task, b->doc);
            prompt_bad++;
        }
        if (strcmp(a->target_hash, b->target_hash) != 0) target_bad++;
        if (!strcmp(a->doc_hash, b->doc_hash)) dochash_same++;
    }
    printf("documents compared %d: gold/choices differ %d, acc/acc_norm differ %d, prompt_hash differ %d, "
           "target_hash differ %d, doc_hash equal %d\n", d_checked, gold_bad, metric_bad, prompt_bad, target_bad,
           dochash_same);
    test_cond("every document of the run compared", d_checked == nd_ours);
    test_cond("gold index and choice count equal lm-eval's", gold_bad == 0);
    test_cond("per-document acc / acc_norm equal lm-eval's", metric_bad == 0);
    test_cond("every context string equals lm-eval's (prompt_hash)", prompt_bad == 0);
    test_cond("every target string equals lm-eval's (target_hash)", target_bad == 0);

    static sum_row sref[128], sours[128];
    int ns_ref = read_summary(test_fixture("lmeval/smollm2_limit100_summary.tsv"), sref, 128);
    snprintf(path, sizeof path, "%s/summary.tsv", argv[1]);
    int ns_ours = read_summary(path, sours, 128);
    test_cond("summaries readable", ns_ref > 0 && ns_ours > 0);
    printf("%-24s %5s %8s %8s %10s %10s\n", "task", "n", "acc", "lm-eval", "acc_norm", "lm-eval");
    for (int i = 0; i < ns_ref; i++) {
        const sum_row *b = NULL;
        for (int k = 0; k < ns_ours; k++)
            if (!strcmp(sours[k].task, sref[i].task)) b = &sours[k];
        if (!b) continue; /* not run here (or a group row over subjects) */
        printf("%-24s %5d %8.4f %8.4f %10.4f %10.4f\n", sref[i].task, b->n, b->acc, sref[i].acc, b->acc_norm,
               sref[i].acc_norm);
        char what[160];
        snprintf(what, sizeof what, "%.60s: acc identical", sref[i].task);
        test_cond(what, fabs(b->acc - sref[i].acc) < 1e-12 && b->n == sref[i].n);
        snprintf(what, sizeof what, "%.60s: acc_norm identical", sref[i].task);
        test_cond(what, (isnan(b->acc_norm) && isnan(sref[i].acc_norm)) || fabs(b->acc_norm - sref[i].acc_norm) < 1e-12);
    }
    return test_report("fidelity");
}
