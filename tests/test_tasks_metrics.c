/* test_tasks_metrics.c — hand-computed checks of tasks/metrics.c and the
 * task registry (tasks.md §2.6-2.8): argmax ties and NaN, acc_norm by code
 * points, gold -100, mean/stderr/pooled group stderr in both Python sum
 * modes, "N/A" (NAN) for n <= 1; gq_tasks_resolve order and errors.
 * Needs no fixture. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gq_alloc.h"
#include "task.h"
#include "testutil.h"

static int near(double a, double b, double tol) { return fabs(a - b) <= tol; }

static void test_argmax(void)
{
    double tie[] = {-1.0, -0.5, -0.5, -2.0};
    double nan2[] = {-1.0, NAN, 0.0, NAN};
    double ninf[] = {-INFINITY, -INFINITY};
    double one[] = {-3.0};
    test_cond("argmax: equal maxima -> first index", gq_argmax(tie, 4) == 1);
    test_cond("argmax: NaN wins at its first position", gq_argmax(nan2, 4) == 1);
    test_cond("argmax: all -inf -> 0", gq_argmax(ninf, 2) == 0);
    test_cond("argmax: single element", gq_argmax(one, 1) == 0);
    test_cond("argmax: empty -> -1", gq_argmax(one, 0) == -1);
}

static void test_doc_metrics(void)
{
    /* "é" is 1 code point (2 bytes), "ab" 2 code points */
    char c0[] = "\xc3\xa9", c1[] = "ab";
    char *choice[] = {c0, c1};
    gq_doc d = {0};
    d.n_req = 2;
    d.choice = choice;
    d.gold = 1;
    double ll[] = {-1.5, -2.5}, acc = -1, accn = -1;
    /* acc: argmax(-1.5, -2.5) = 0 != 1; acc_norm: -1.5/1 = -1.5 < -2.5/2 = -1.25 -> 1
     * (by bytes it would be -0.75 vs -1.25 -> 0) */
    gq_doc_metrics(&d, ll, &acc, &accn);
    test_cond("acc: pred 0, gold 1 -> 0.0", acc == 0.0);
    test_cond("acc_norm divides by code points (not bytes) -> 1.0", accn == 1.0);

    double tie[] = {-2.0, -2.0};
    d.gold = 0;
    char t0[] = "xy", t1[] = "zw";
    char *tc[] = {t0, t1};
    d.choice = tc;
    gq_doc_metrics(&d, tie, &acc, &accn);
    test_cond("tie in ll -> first index -> acc 1.0", acc == 1.0 && accn == 1.0);
    d.gold = 1;
    gq_doc_metrics(&d, tie, &acc, &accn);
    test_cond("tie in ll -> first index, gold 1 -> 0.0", acc == 0.0 && accn == 0.0);

    d.gold = -100;
    double ll2[] = {-1.0, -3.0};
    gq_doc_metrics(&d, ll2, &acc, &accn);
    test_cond("gold -100 is always wrong", acc == 0.0 && accn == 0.0);

    /* an empty choice: -1/0 = -inf, never the max; 0/0 = NaN wins */
    char e0[] = "", e1[] = "abc";
    char *ec[] = {e0, e1};
    d.choice = ec;
    d.gold = 1;
    double ll3[] = {-1.0, -3.0};
    gq_doc_metrics(&d, ll3, &acc, &accn);
    test_cond("empty choice: ll/0 = -inf loses in acc_norm", accn == 1.0 && acc == 0.0);
    double ll4[] = {0.0, -3.0};
    gq_doc_metrics(&d, ll4, &acc, &accn);
    test_cond("empty choice with ll 0: 0/0 = NaN wins in acc_norm", accn == 0.0);

    test_cond("code points of \"a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\" = 4",
              gq_utf8_codepoints("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") == 4);
}

static void test_sums(void)
{
    double cancel[] = {1e16, 1.0, -1e16};
    test_cond("plain sum loses the 1.0", gq_pysum(cancel, 3, 0) == 0.0);
    test_cond("Neumaier sum keeps the 1.0", gq_pysum(cancel, 3, 1) == 1.0);
    double tenth[10];
    for (int i = 0; i < 10; i++)
        tenth[i] = 0.1;
    test_cond("plain sum of ten 0.1 = 0.9999999999999999", gq_pysum(tenth, 10, 0) == 0.9999999999999999);
    test_cond("Neumaier sum of ten 0.1 = 1.0", gq_pysum(tenth, 10, 1) == 1.0);
    test_cond("sum of nothing = 0", gq_pysum(tenth, 0, 1) == 0.0);
    double infs[] = {INFINITY, 1.0};
    test_cond("Neumaier: inf stays inf (no NaN from the compensation)", isinf(gq_pysum(infs, 2, 1)));
}

static void test_mean_stderr(void)
{
    double x[] = {1.0, 0.0, 1.0};
    for (int mode = 0; mode < 2; mode++) {
        /* mean 2/3; squares 1/9, 4/9, 1/9 -> 2/3; /(n-1) = 1/3; sqrt(1/3)/sqrt(3) = 1/3 */
        test_cond("mean [1,0,1] = 2/3", gq_mean(x, 3, mode) == 2.0 / 3.0);
        test_cond("stderr [1,0,1] = 1/3", near(gq_stderr(x, 3, mode), 1.0 / 3.0, 1e-15));
    }
    double y[] = {1, 1, 1, 1, 0};
    /* mean 0.8; squares 4 * 0.04 + 0.64 = 0.8; /4 = 0.2; sqrt(0.2)/sqrt(5) = 0.2 */
    test_cond("stderr [1,1,1,1,0] = 0.2", near(gq_stderr(y, 5, 1), 0.2, 1e-15));
    test_cond("stderr n = 1 is N/A (NAN)", isnan(gq_stderr(y, 1, 1)));
    test_cond("stderr n = 0 is N/A (NAN)", isnan(gq_stderr(y, 0, 0)));
    double same[] = {1, 1, 1};
    test_cond("stderr of a constant vector = 0", gq_stderr(same, 3, 0) == 0.0);
}

static void test_group(void)
{
    double v[] = {0.5, 1.0}, n[] = {2, 2};
    /* leaves [1,0] and [1,1]: stderrs 0.5 and 0 */
    double s[] = {0.5, 0.0};
    for (int mode = 0; mode < 2; mode++) {
        test_cond("group mean (0.5*2 + 1*2)/4 = 0.75", gq_group_mean(v, n, 2, mode) == 0.75);
        /* pooled var = (1*0.25*2 + 1*0*2) / (4-2) = 0.25; sqrt(0.25/4) = 0.25 */
        test_cond("pooled group stderr = 0.25", gq_group_stderr(s, n, 2, mode) == 0.25);
    }
    double s_na[] = {0.5, NAN};
    test_cond("a leaf N/A makes the group stderr N/A", isnan(gq_group_stderr(s_na, n, 2, 1)));
    /* size weighting: v = [1, 0], n = [3, 1] -> 0.75 (not the macro mean 0.5) */
    double v2[] = {1.0, 0.0}, n2[] = {3, 1};
    test_cond("group mean is weighted by size", gq_group_mean(v2, n2, 2, 1) == 0.75);
    /* the two sum modes differ: ten leaves of value 0.1, size 1 */
    double v3[10], n3[10];
    for (int i = 0; i < 10; i++)
        v3[i] = 0.1, n3[i] = 1;
    test_cond("group mean, plain sum: 0.9999999999999999/10", gq_group_mean(v3, n3, 10, 0) == 0.9999999999999999 / 10);
    test_cond("group mean, Neumaier: 1.0/10", gq_group_mean(v3, n3, 10, 1) == 0.1);
}

static int names_are(const gq_task **t, size_t n, const char *const *want, size_t nw)
{
    if (n != nw)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i]->name, want[i]))
            return 0;
    return 1;
}

static void test_registry(void)
{
    const gq_task **t = NULL;
    size_t n = 0;
    gq_error err = {0};

    test_cond("resolve arc", gq_tasks_resolve("arc", &t, &n, &err) == GQ_OK);
    static const char *const arc[] = {"arc_easy", "arc_challenge"};
    test_cond("arc = arc_easy, arc_challenge", names_are(t, n, arc, 2));
    gq_free((void *)t);

    test_cond("resolve list", gq_tasks_resolve(" arc_easy, piqa ,arc,hellaswag", &t, &n, &err) == GQ_OK);
    static const char *const lst[] = {"arc_easy", "piqa", "arc_challenge", "hellaswag"};
    test_cond("list keeps order, drops repeats", names_are(t, n, lst, 4));
    gq_free((void *)t);

    test_cond("resolve mmlu", gq_tasks_resolve("mmlu", &t, &n, &err) == GQ_OK && n == 57);
    if (n == 57) {
        static const char *const groups[] = {"mmlu_stem", "mmlu_other", "mmlu_social_sciences", "mmlu_humanities"};
        static const size_t sizes[] = {19, 13, 12, 13};
        size_t at = 0;
        int ok = 1;
        for (int g = 0; g < 4; g++)
            for (size_t i = 0; i < sizes[g]; i++, at++) {
                ok &= !strcmp(t[at]->group, groups[g]);
                ok &= !strncmp(t[at]->name, "mmlu_", 5) && !strcmp(t[at]->name + 5, t[at]->alias);
                ok &= !strcmp(t[at]->eval.config, t[at]->alias) && !strcmp(t[at]->fewshot.split, "dev");
                if (i > 0)
                    ok &= strcmp(t[at - 1]->name, t[at]->name) < 0;
            }
        test_cond("mmlu: stem(19), other(13), social_sciences(12), humanities(13), sorted within each", ok);
        test_cond("mmlu starts with abstract_algebra, ends with world_religions",
                  !strcmp(t[0]->name, "mmlu_abstract_algebra") && !strcmp(t[56]->name, "mmlu_world_religions"));
    }
    gq_free((void *)t);

    test_cond("resolve mmlu_humanities", gq_tasks_resolve("mmlu_humanities", &t, &n, &err) == GQ_OK && n == 13 &&
                                             !strcmp(t[0]->name, "mmlu_formal_logic"));
    gq_free((void *)t);

    t = NULL;
    int rc = gq_tasks_resolve("arc,boolq", &t, &n, &err);
    test_cond("unknown task -> GQ_ERR_USAGE", rc == GQ_ERR_USAGE && t == NULL && n == 0);
    test_cond("message names the task and the valid names",
              strstr(err.msg, "\"boolq\"") && strstr(err.msg, "arc_challenge") && strstr(err.msg, "mmlu_<subject>"));
    test_cond("empty name -> GQ_ERR_USAGE", gq_tasks_resolve("arc,,piqa", &t, &n, &err) == GQ_ERR_USAGE);
    test_cond("empty list -> GQ_ERR_USAGE", gq_tasks_resolve("", &t, &n, &err) == GQ_ERR_USAGE);

    const gq_task *w = gq_task_find("winogrande");
    test_cond("winogrande: acc only, validation split", w && !w->has_acc_norm && !strcmp(w->eval.split, "validation"));
    const gq_task *h = gq_task_find("hellaswag");
    test_cond("hellaswag: acc_norm, version 1.0", h && h->has_acc_norm && !strcmp(h->version, "1.0"));
    test_cond("no leaf task named mmlu", gq_task_find("mmlu") == NULL);
}

int main(void)
{
    test_argmax();
    test_doc_metrics();
    test_sums();
    test_mean_stderr();
    test_group();
    test_registry();
    return test_report("test_tasks_metrics");
}
