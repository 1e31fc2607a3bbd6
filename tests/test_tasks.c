/* test_tasks.c — documents, prompts, metrics and few-shot draws against
 * lm-evaluation-harness itself: tests/fixtures/tasks/tasks.json was written
 * by tests/reference/make_task_fixtures.py, which runs lm_eval 0.4.13's
 * task code (templates, process_docs, samplers seeded 1234,
 * process_results, metric aggregation) on invented rows.  Every context and
 * continuation must be byte-identical; gold, target, the logged doc (key
 * order included) and acc/acc_norm must match; CPython's random.sample
 * draws, str.capitalize(), str.strip() and hellaswag's preprocess() must be
 * reproduced; lm-eval's mean/stderr/group numbers must match bit for bit
 * in plain-sum mode (the fixture's Python is 3.11).  Bad rows must fail
 * with GQ_ERR_INVALID naming the row and the field. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gq_alloc.h"
#include "task.h"
#include "task_internal.h"
#include "testutil.h"

static int str_at(const cJSON *arr, int i, const char *s)
{
    const cJSON *v = cJSON_GetArrayItem(arr, i);
    return cJSON_IsString(v) && s && !strcmp(v->valuestring, s);
}

static void show_diff(const char *what, const char *want, const char *got)
{
    fprintf(stderr, "  %s\n    want: ", what);
    for (const char *p = want; p && *p; p++)
        fputs(*p == '\n' ? "\\n" : (char[]){*p, 0}, stderr);
    fprintf(stderr, "\n    got:  ");
    for (const char *p = got; p && *p; p++)
        fputs(*p == '\n' ? "\\n" : (char[]){*p, 0}, stderr);
    fprintf(stderr, "\n");
}

static void check_case(const cJSON *c)
{
    const char *name = cJSON_GetObjectItem(c, "task")->valuestring;
    int k = cJSON_GetObjectItem(c, "k")->valueint;
    const cJSON *rows = cJSON_GetObjectItem(c, "rows");
    const cJSON *pool = cJSON_GetObjectItem(c, "pool");
    const cJSON *docs = cJSON_GetObjectItem(c, "docs");
    const gq_task *t = gq_task_find(name);
    char what[256];

    snprintf(what, sizeof what, "%s k=%d: task exists", name, k);
    if (!test_cond(what, t != NULL))
        return;
    gq_rng rng;
    gq_rng_seed(&rng, 1234);
    int n = cJSON_GetArraySize(rows), ok_ctx = 1, ok_cont = 1, ok_choice = 1, ok_gold = 1, ok_target = 1,
        ok_doc = 1, ok_metrics = 1, ok_make = 1;
    for (int i = 0; i < n; i++) {
        const cJSON *row = cJSON_GetArrayItem(rows, i), *want = cJSON_GetArrayItem(docs, i);
        char where[64];
        snprintf(where, sizeof where, "fixture %s row %d", name, i);
        gq_doc d;
        gq_error err = {0};
        int rc = t->make_doc(t, row, where, i, cJSON_IsNull(pool) ? NULL : pool, k, &rng, &d, &err);
        if (rc != GQ_OK) {
            fprintf(stderr, "  make_doc: %s\n", err.msg);
            ok_make = 0;
            continue;
        }
        const cJSON *ctxs = cJSON_GetObjectItem(want, "contexts"), *conts = cJSON_GetObjectItem(want, "continuations"),
                    *choices = cJSON_GetObjectItem(want, "choices");
        if (d.n_req != cJSON_GetArraySize(ctxs)) {
            ok_ctx = 0;
            fprintf(stderr, "  %s: %d requests, want %d\n", where, d.n_req, cJSON_GetArraySize(ctxs));
        } else {
            for (int r = 0; r < d.n_req; r++) {
                if (!str_at(ctxs, r, d.context[r])) {
                    ok_ctx = 0;
                    show_diff(where, cJSON_GetArrayItem(ctxs, r)->valuestring, d.context[r]);
                }
                if (!str_at(conts, r, d.continuation[r])) {
                    ok_cont = 0;
                    show_diff(where, cJSON_GetArrayItem(conts, r)->valuestring, d.continuation[r]);
                }
                if (!str_at(choices, r, d.choice[r])) {
                    ok_choice = 0;
                    show_diff(where, cJSON_GetArrayItem(choices, r)->valuestring, d.choice[r]);
                }
            }
        }
        ok_gold &= d.gold == cJSON_GetObjectItem(want, "gold")->valueint;
        ok_target &= d.target && !strcmp(d.target, cJSON_GetObjectItem(want, "target")->valuestring);
        const cJSON *wdoc = cJSON_GetObjectItem(want, "doc"); /* k = 0 cases only */
        char *got_doc = cJSON_PrintUnformatted(d.doc), *want_doc = wdoc ? cJSON_PrintUnformatted(wdoc) : NULL;
        if (wdoc && (!got_doc || !want_doc || strcmp(got_doc, want_doc))) {
            ok_doc = 0;
            show_diff(where, want_doc, got_doc);
        }
        free(got_doc);
        free(want_doc);
        const cJSON *lls = cJSON_GetObjectItem(want, "lls");
        if (cJSON_IsArray(lls) && cJSON_GetArraySize(lls) == d.n_req) {
            double ll[16], acc, accn;
            for (int r = 0; r < d.n_req && r < 16; r++)
                ll[r] = cJSON_GetArrayItem(lls, r)->valuedouble;
            gq_doc_metrics(&d, ll, &acc, &accn);
            const cJSON *wa = cJSON_GetObjectItem(want, "acc"), *wn = cJSON_GetObjectItem(want, "acc_norm");
            ok_metrics &= acc == wa->valuedouble;
            if (cJSON_IsNumber(wn))
                ok_metrics &= accn == wn->valuedouble;
        }
        gq_doc_free(&d);
    }
    snprintf(what, sizeof what, "%s k=%d: make_doc accepts every row", name, k);
    test_cond(what, ok_make);
    snprintf(what, sizeof what, "%s k=%d: contexts byte-identical to lm-eval", name, k);
    test_cond(what, ok_ctx);
    snprintf(what, sizeof what, "%s k=%d: continuations byte-identical", name, k);
    test_cond(what, ok_cont);
    snprintf(what, sizeof what, "%s k=%d: choices (acc_norm strings)", name, k);
    test_cond(what, ok_choice);
    snprintf(what, sizeof what, "%s k=%d: gold and target", name, k);
    test_cond(what, ok_gold && ok_target);
    snprintf(what, sizeof what, "%s k=%d: logged doc equals lm-eval's processed doc (key order too)", name, k);
    test_cond(what, ok_doc);
    snprintf(what, sizeof what, "%s k=%d: acc/acc_norm equal lm-eval's process_results", name, k);
    test_cond(what, ok_metrics);
}

static void check_strings(const cJSON *fx)
{
    const cJSON *pair;
    int ok = 1;
    cJSON_ArrayForEach(pair, cJSON_GetObjectItem(fx, "clean")) {
        const char *in = cJSON_GetArrayItem(pair, 0)->valuestring, *want = cJSON_GetArrayItem(pair, 1)->valuestring;
        char *got = gq_hellaswag_clean(in, NULL);
        if (!got || strcmp(got, want)) {
            ok = 0;
            show_diff("clean", want, got);
        }
        gq_free(got);
    }
    test_cond("hellaswag clean() equals lm-eval's preprocess() on every edge case", ok);

    ok = 1;
    cJSON_ArrayForEach(pair, cJSON_GetObjectItem(fx, "capitalize")) {
        const char *in = cJSON_GetArrayItem(pair, 0)->valuestring, *want = cJSON_GetArrayItem(pair, 1)->valuestring;
        gq_sbuf b = {0};
        if (gq_py_capitalize(in, &b, NULL) != GQ_OK || !b.p || strcmp(b.p, want)) {
            ok = 0;
            show_diff("capitalize", want, b.p);
        }
        gq_sbuf_free(&b);
    }
    test_cond("capitalize equals CPython str.capitalize() (title/lower/final sigma)", ok);

    ok = 1;
    cJSON_ArrayForEach(pair, cJSON_GetObjectItem(fx, "strip")) {
        const char *in = cJSON_GetArrayItem(pair, 0)->valuestring, *want = cJSON_GetArrayItem(pair, 1)->valuestring;
        char *got = gq_py_strip(in, 1, 1, NULL);
        if (!got || strcmp(got, want)) {
            ok = 0;
            show_diff("strip", want, got);
        }
        gq_free(got);
    }
    test_cond("strip equals CPython str.strip() (Unicode whitespace)", ok);
}

static void check_sampler(const cJSON *fx)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(fx, "sample")) {
        size_t n = (size_t)cJSON_GetObjectItem(c, "n")->valuedouble, m = (size_t)cJSON_GetObjectItem(c, "m")->valueint;
        gq_rng r;
        gq_rng_seed(&r, 1234);
        int ok = 1;
        const cJSON *draw;
        cJSON_ArrayForEach(draw, cJSON_GetObjectItem(c, "draws")) {
            size_t out[64];
            if (m > 64 || gq_rng_sample(&r, n, m, out, NULL) != GQ_OK) {
                ok = 0;
                break;
            }
            for (size_t i = 0; i < m; i++)
                ok &= (double)out[i] == cJSON_GetArrayItem(draw, (int)i)->valuedouble;
        }
        char what[128];
        snprintf(what, sizeof what, "Random(1234).sample(range(%zu), %zu), repeated, equals CPython", n, m);
        test_cond(what, ok);
    }
    gq_rng r;
    gq_rng_seed(&r, 1234);
    int ok = 1;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(fx, "getrandbits_1234")) {
        int k = cJSON_GetArrayItem(c, 0)->valueint;
        /* the fixture holds the value as a JSON number: exact below 2^53,
         * compare the top bits above that */
        double want = cJSON_GetArrayItem(c, 1)->valuedouble;
        uint64_t got = gq_rng_getrandbits(&r, k);
        ok &= (double)got == want;
    }
    test_cond("getrandbits(k) sequence for k in 1..64 equals CPython", ok);
    gq_rng_seed(&r, (1ULL << 40) + 7);
    ok = 1;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(fx, "seed_2p40_plus_7"))
        ok &= (double)gq_rng_getrandbits(&r, 32) == c->valuedouble;
    test_cond("a seed above 2^32 seeds through two key words as CPython", ok);
    size_t out[4];
    gq_error err = {0};
    test_cond("sample larger than the pool fails", gq_rng_sample(&r, 3, 4, out, &err) == GQ_ERR_INVALID);
}

static void check_aggregates(const cJSON *fx)
{
    const cJSON *c;
    int ok = 1;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(fx, "aggregate_tasks")) {
        const cJSON *xs = cJSON_GetObjectItem(c, "xs");
        size_t n = (size_t)cJSON_GetArraySize(xs);
        double *x = malloc(n * sizeof *x);
        for (size_t i = 0; i < n; i++)
            x[i] = cJSON_GetArrayItem(xs, (int)i)->valuedouble;
        double m = gq_mean(x, n, 0), s = gq_stderr(x, n, 0);
        if (m != cJSON_GetObjectItem(c, "mean")->valuedouble || s != cJSON_GetObjectItem(c, "stderr")->valuedouble) {
            ok = 0;
            fprintf(stderr, "  n=%zu mean %.17g stderr %.17g, want %.17g %.17g\n", n, m, s,
                    cJSON_GetObjectItem(c, "mean")->valuedouble, cJSON_GetObjectItem(c, "stderr")->valuedouble);
        }
        free(x);
    }
    test_cond("mean and stderr equal lm-eval's bit for bit (plain sum, CPython 3.11)", ok);
    ok = 1;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(fx, "aggregate_groups")) {
        double v[8], n[8], s[8];
        size_t k = (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(c, "v"));
        for (size_t i = 0; i < k && i < 8; i++) {
            v[i] = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "v"), (int)i)->valuedouble;
            n[i] = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "n"), (int)i)->valuedouble;
            s[i] = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "s"), (int)i)->valuedouble;
        }
        double gv = gq_group_mean(v, n, k, 0), gs = gq_group_stderr(s, n, k, 0);
        if (gv != cJSON_GetObjectItem(c, "value")->valuedouble || gs != cJSON_GetObjectItem(c, "stderr")->valuedouble) {
            ok = 0;
            fprintf(stderr, "  group value %.17g stderr %.17g, want %.17g %.17g\n", gv, gs,
                    cJSON_GetObjectItem(c, "value")->valuedouble, cJSON_GetObjectItem(c, "stderr")->valuedouble);
        }
    }
    test_cond("group value and pooled stderr equal lm-eval's bit for bit", ok);
}

/* ---- bad rows ---- */

static void expect_bad(const char *task, const char *json, const char *field, const char *what)
{
    const gq_task *t = gq_task_find(task);
    cJSON *row = cJSON_Parse(json);
    gq_doc d;
    gq_error err = {0};
    int rc = t && row ? t->make_doc(t, row, "bad.jsonl:line 7", 0, NULL, 0, NULL, &d, &err) : -999;
    char label[256];
    snprintf(label, sizeof label, "%s: %s -> GQ_ERR_INVALID naming the row and \"%s\"", task, what, field);
    int ok = rc == GQ_ERR_INVALID && strstr(err.msg, "bad.jsonl:line 7") && strstr(err.msg, field);
    if (!ok)
        fprintf(stderr, "  rc %d, message: %s\n", rc, err.msg);
    test_cond(label, ok);
    test_cond("failed make_doc leaves the doc zeroed", rc == GQ_OK || (d.n_req == 0 && d.context == NULL && d.doc == NULL));
    cJSON_Delete(row);
}

static void check_bad_rows(void)
{
    expect_bad("arc_easy", "{\"question\":\"q\",\"choices\":{\"text\":[\"a\",\"b\"],\"label\":[\"A\",\"B\"]}}",
               "answerKey", "missing field");
    expect_bad("arc_easy", "{\"question\":7,\"choices\":{\"text\":[\"a\"],\"label\":[\"A\"]},\"answerKey\":\"A\"}",
               "question", "wrong type");
    expect_bad("arc_easy", "{\"question\":\"q\",\"choices\":{\"text\":[\"a\",\"b\"],\"label\":[\"A\",\"B\"]},\"answerKey\":\"C\"}",
               "answerKey", "answerKey not among labels");
    expect_bad("arc_challenge", "{\"question\":\"q\",\"choices\":{\"text\":[],\"label\":[]},\"answerKey\":\"A\"}",
               "choices.text", "empty choice list");
    expect_bad("arc_challenge", "{\"question\":\"q\",\"choices\":{\"text\":[\"a\",1],\"label\":[\"A\",\"B\"]},\"answerKey\":\"A\"}",
               "choices.text", "non-string choice");
    expect_bad("openbookqa", "{\"question_stem\":\"q\",\"choices\":{\"text\":[\"a\",\"b\"],\"label\":[\"A\",\"B\"]},\"answerKey\":\" Z\"}",
               "answerKey", "answerKey not among labels");
    expect_bad("piqa", "{\"goal\":\"g\",\"sol1\":\"a\",\"sol2\":\"b\",\"label\":2}", "label", "label out of range");
    expect_bad("piqa", "{\"goal\":\"g\",\"sol1\":\"a\",\"sol2\":\"b\",\"label\":-1}", "label", "negative label");
    expect_bad("piqa", "{\"goal\":\"g\",\"sol1\":\"a\",\"label\":0}", "sol2", "missing field");
    expect_bad("hellaswag", "{\"activity_label\":\"a\",\"ctx_a\":\"b\",\"ctx_b\":\"c\",\"endings\":[\"x\",\"y\"],\"label\":\"2\"}",
               "label", "label out of range");
    expect_bad("hellaswag", "{\"activity_label\":\"a\",\"ctx_a\":\"b\",\"ctx_b\":\"c\",\"endings\":[],\"label\":\"0\"}",
               "endings", "empty choice list");
    expect_bad("hellaswag", "{\"activity_label\":\"a\",\"ctx_b\":\"c\",\"endings\":[\"x\"],\"label\":0}", "ctx_a",
               "missing field");
    expect_bad("hellaswag", "{\"preprocessed\":true,\"endings\":[\"x\"],\"label\":0}", "query", "preprocessed row without query");
    expect_bad("winogrande", "{\"sentence\":\"no blank here\",\"option1\":\"a\",\"option2\":\"b\",\"answer\":\"1\"}",
               "sentence", "sentence without a blank");
    expect_bad("winogrande", "{\"sentence\":\"a _ b\",\"option1\":\"a\",\"option2\":\"b\",\"answer\":\"3\"}", "answer",
               "answer not 1/2");
    expect_bad("mmlu_anatomy", "{\"question\":\"q\",\"choices\":[\"a\",\"b\",\"c\"],\"answer\":0}", "choices",
               "three choices");
    expect_bad("mmlu_anatomy", "{\"question\":\"q\",\"choices\":[\"a\",\"b\",\"c\",\"d\"],\"answer\":4}", "answer",
               "answer out of range");
    expect_bad("mmlu_anatomy", "{\"question\":\"q\",\"choices\":[\"a\",\"b\",\"c\",\"d\"],\"answer\":1.5}", "answer",
               "fractional answer");

    /* a bad few-shot row is reported with the eval row and the pool index */
    const gq_task *t = gq_task_find("mmlu_anatomy");
    cJSON *row = cJSON_Parse("{\"question\":\"q\",\"choices\":[\"a\",\"b\",\"c\",\"d\"],\"answer\":1}");
    cJSON *pool = cJSON_Parse("[{\"question\":\"q\",\"choices\":[\"a\",\"b\",\"c\",\"d\"],\"answer\":1},"
                              "{\"question\":\"q\",\"choices\":[\"a\",\"b\",\"c\",\"d\"]}]");
    gq_doc d;
    gq_error err = {0};
    int rc = t->make_doc(t, row, "test.csv:3", 0, pool, 2, NULL, &d, &err);
    test_cond("bad few-shot row -> GQ_ERR_INVALID naming the pool row",
              rc == GQ_ERR_INVALID && strstr(err.msg, "few-shot row 1") && strstr(err.msg, "answer"));
    rc = t->make_doc(t, row, "test.csv:3", 0, pool, 3, NULL, &d, &err);
    test_cond("more MMLU shots than dev rows -> GQ_ERR_INVALID", rc == GQ_ERR_INVALID);
    const gq_task *p = gq_task_find("piqa");
    cJSON *prow = cJSON_Parse("{\"goal\":\"g\",\"sol1\":\"a\",\"sol2\":\"b\",\"label\":0}");
    cJSON *ppool = cJSON_Parse("[{\"goal\":\"h\",\"sol1\":\"a\",\"sol2\":\"b\",\"label\":0}]");
    gq_rng rng;
    gq_rng_seed(&rng, 1234);
    rc = p->make_doc(p, prow, "valid.jsonl:1", 0, ppool, 1, &rng, &d, &err);
    test_cond("piqa k=1 with a pool of 1 (needs k+1 draws) -> GQ_ERR_INVALID", rc == GQ_ERR_INVALID);
    rc = p->make_doc(p, prow, "valid.jsonl:1", 0, NULL, 1, &rng, &d, &err);
    test_cond("k > 0 without a pool -> error", rc != GQ_OK);
    cJSON_Delete(row);
    cJSON_Delete(pool);
    cJSON_Delete(prow);
    cJSON_Delete(ppool);
}

int main(void)
{
    size_t n = 0;
    char *text = test_read_file(test_fixture("tasks/tasks.json"), &n);
    if (!text) {
        fprintf(stderr, "cannot read %s\n", test_fixture("tasks/tasks.json"));
        return 1;
    }
    cJSON *fx = cJSON_Parse(text);
    free(text);
    if (!test_cond("fixture parses", fx != NULL))
        return test_report("test_tasks");
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(fx, "cases"))
        check_case(c);
    check_strings(fx);
    check_sampler(fx);
    check_aggregates(fx);
    check_bad_rows();
    cJSON_Delete(fx);
    return test_report("test_tasks");
}
