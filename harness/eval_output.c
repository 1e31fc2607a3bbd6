/* eval_output.c — the summary table and the result files of an eval run. */
#include "eval_output.h"

#include <math.h>
#include <string.h>

static void print_metric(FILE *f, double v, double se, int present)
{
    if (!present) fprintf(f, " %17s", "-");
    else if (isnan(se)) fprintf(f, " %8.4f ±   N/A", v);
    else fprintf(f, " %8.4f ± %.4f", v, se);
}

void gq_eval_print_table(FILE *f, const gq_task_run *runs, size_t n_runs)
{
    fprintf(f, "%-40s %6s %17s %17s %8s %12s\n", "task", "n", "acc", "acc_norm", "seconds", "tokens fed");
    long long fed = 0, sep = 0;
    for (size_t i = 0; i < n_runs; i++) {
        const gq_task_run *r = &runs[i];
        fprintf(f, "%-40s %6zu", r->task->name, r->n_docs);
        print_metric(f, r->acc_mean, r->acc_stderr, 1);
        print_metric(f, r->acc_norm_mean, r->acc_norm_stderr, r->task->has_acc_norm);
        double share = r->stats.tokens_separate ? 100.0 * (double)r->stats.tokens_fed / (double)r->stats.tokens_separate : 0;
        fprintf(f, " %8.1f %7lld (%.0f%%)\n", r->seconds, (long long)r->stats.tokens_fed, share);
        fed += r->stats.tokens_fed;
        sep += r->stats.tokens_separate;
    }
    /* MMLU groups: size-weighted over the subjects that ran (tasks.md §2.8). */
    static const char *groups[] = {"mmlu_stem", "mmlu_other", "mmlu_social_sciences", "mmlu_humanities", "mmlu"};
    for (int g = 0; g < 5; g++) {
        double v[64], se[64], n[64];
        size_t k = 0;
        for (size_t i = 0; i < n_runs && k < 64; i++) {
            const char *grp = runs[i].task->group;
            if (!grp || (g < 4 && strcmp(grp, groups[g]) != 0)) continue;
            v[k] = runs[i].acc_mean;
            se[k] = runs[i].acc_stderr;
            n[k] = (double)runs[i].n_docs;
            k++;
        }
        if (k < 2) continue;
        double tot = 0;
        for (size_t i = 0; i < k; i++) tot += n[i];
        fprintf(f, "%-40s %6.0f", groups[g], tot);
        print_metric(f, gq_group_mean(v, n, k, 1), gq_group_stderr(se, n, k, 1), 1);
        fprintf(f, " %17s\n", "-");
    }
    if (sep > 0)
        fprintf(f, "prefix sharing: %lld tokens pushed through the model, %.1f%% of the %lld that scoring each "
                   "request separately would push\n", fed, 100.0 * (double)fed / (double)sep, sep);
}
