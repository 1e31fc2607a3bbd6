/* eval_output.c — the summary table and the result files of an eval run:
 * results.json (lm-eval layout, also under lm-eval's own file name), the
 * sample logs, and three numbers-only tables (requests.tsv, docs.tsv,
 * summary.tsv) that tests compare with lm-evaluation-harness. */
#define _POSIX_C_SOURCE 200809L
#include "eval_output.h"

#include <time.h>

#include <math.h>
#include <string.h>

#include "fileio.h"
#include "gq_alloc.h"
#include "results.h"
#include "sha256.h"

static void print_metric(FILE *f, double v, double se, int present)
{
    if (!present) fprintf(f, " %17s", "-");
    else if (isnan(se)) fprintf(f, " %8.4f ±   N/A", v);
    else fprintf(f, " %8.4f ± %.4f", v, se);
}

void gq_eval_print_table(FILE *f, const gq_prepared_task *tasks, const gq_task_scores *sc, size_t n_tasks)
{
    fprintf(f, "%-40s %6s %17s %17s %8s %12s\n", "task", "n", "acc", "acc_norm", "seconds", "tokens fed");
    long long fed = 0, sep = 0, proj = 0;
    for (size_t i = 0; i < n_tasks; i++) {
        const gq_prepared_task *r = &tasks[i];
        const gq_task_scores *s = &sc[i];
        fprintf(f, "%-40s %6zu", r->task->name, r->n_docs);
        print_metric(f, s->acc_mean, s->acc_stderr, 1);
        print_metric(f, s->acc_norm_mean, s->acc_norm_stderr, r->task->has_acc_norm);
        double share = s->stats.tokens_separate ? 100.0 * (double)s->stats.tokens_fed / (double)s->stats.tokens_separate : 0;
        fprintf(f, " %8.1f %7lld (%.0f%%)", s->seconds, (long long)s->stats.tokens_fed, share);
        if (s->n_docs_resumed) fprintf(f, "  %zu docs resumed", s->n_docs_resumed);
        fputc('\n', f);
        fed += s->stats.tokens_fed;
        sep += s->stats.tokens_separate;
        proj += s->stats.positions_projected;
    }
    /* MMLU groups: size-weighted over the subjects that ran (tasks.md §2.8). */
    static const char *groups[] = {"mmlu_stem", "mmlu_other", "mmlu_social_sciences", "mmlu_humanities", "mmlu"};
    for (int g = 0; g < 5; g++) {
        double v[64], se[64], n[64];
        size_t k = 0;
        for (size_t i = 0; i < n_tasks && k < 64; i++) {
            const char *grp = tasks[i].task->group;
            if (!grp || (g < 4 && strcmp(grp, groups[g]) != 0)) continue;
            v[k] = sc[i].acc_mean;
            se[k] = sc[i].acc_stderr;
            n[k] = (double)tasks[i].n_docs;
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
        fprintf(f, "prefix sharing: %lld tokens pushed through the model and %lld positions projected onto the "
                   "vocabulary; scoring each request separately pushes and projects %lld (%.1f%% / %.1f%%)\n",
                fed, proj, sep, 100.0 * (double)fed / (double)sep, 100.0 * (double)proj / (double)sep);
}

/* Append n bytes to a growing buffer (*buf of *cap bytes, *len used). */
static int buf_append(char **buf, size_t *len, size_t *cap, const char *data, size_t n, gq_error *err)
{
    if (*len + n + 1 > *cap) {
        size_t nc = *cap * 2 > *len + n + 1 ? *cap * 2 : *len + n + 1;
        char *nb = gq_realloc(*buf, nc, "table", err);
        if (!nb) return GQ_ERR_NOMEM;
        *buf = nb;
        *cap = nc;
    }
    memcpy(*buf + *len, data, n);
    *len += n;
    return GQ_OK;
}

/* requests.tsv: one line per request, numbers only (no dataset text), for
 * comparing with lm-evaluation-harness's per-request results. */
static int write_requests_tsv(const char *path, const gq_prepared_task *tasks, const gq_task_scores *sc, size_t n_tasks,
                              gq_error *err)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = gq_malloc(cap, "requests.tsv", err);
    if (!buf) return GQ_ERR_NOMEM;
    int rc = GQ_OK;
    for (size_t i = 0; i < n_tasks && rc == GQ_OK; i++) {
        const gq_prepared_task *r = &tasks[i];
        for (size_t d = 0; d < r->n_docs; d++) {
            for (int k = 0; k < r->docs[d].n_req; k++) {
                size_t q = r->req_start[d] + (size_t)k;
                char line[256];
                int n = snprintf(line, sizeof line, "%s\t%d\t%d\t%.17g\t%d\t%zu\t%zu\n", r->task->name,
                                 r->docs[d].doc_id, k, sc[i].ll[q], sc[i].greedy[q], r->ctx_tok[q].n, r->cont_tok[q].n);
                if ((rc = buf_append(&buf, &len, &cap, line, (size_t)n, err)) != GQ_OK) break;
            }
        }
    }
    if (rc == GQ_OK) rc = gq_file_write_atomic(path, buf, len, err);
    gq_free(buf);
    return rc;
}

/* summary.tsv: task, documents, acc, stderr, acc_norm, stderr ('-' when absent
 * or N/A), then MMLU groups — a plain-text twin of results.json. */
static int write_summary_tsv(const char *path, const gq_prepared_task *tasks, const gq_task_scores *sc, size_t n_tasks,
                             gq_error *err)
{
    size_t cap = 4096 + n_tasks * 256, len = 0;
    char *buf = gq_malloc(cap, "summary.tsv", err);
    if (!buf) return GQ_ERR_NOMEM;
    len += (size_t)snprintf(buf + len, cap - len, "# task\tn\tacc\tacc_stderr\tacc_norm\tacc_norm_stderr\n");
    for (size_t i = 0; i < n_tasks; i++) {
        const gq_prepared_task *r = &tasks[i];
        const gq_task_scores *s = &sc[i];
        char se[32] = "-", an[32] = "-", ans[32] = "-";
        if (!isnan(s->acc_stderr)) snprintf(se, sizeof se, "%.17g", s->acc_stderr);
        if (r->task->has_acc_norm) {
            snprintf(an, sizeof an, "%.17g", s->acc_norm_mean);
            if (!isnan(s->acc_norm_stderr)) snprintf(ans, sizeof ans, "%.17g", s->acc_norm_stderr);
        }
        len += (size_t)snprintf(buf + len, cap - len, "%s\t%zu\t%.17g\t%s\t%s\t%s\n", r->task->name, r->n_docs,
                                s->acc_mean, se, an, ans);
    }
    int rc = gq_file_write_atomic(path, buf, len, err);
    gq_free(buf);
    return rc;
}

/* docs.tsv: per document the gold index, acc, acc_norm and lm-eval's
 * prompt/doc/target hashes (numbers and hashes only). */
static int write_docs_tsv(const char *path, const gq_prepared_task *tasks, const gq_task_scores *sc, size_t n_tasks,
                          gq_error *err)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = gq_malloc(cap, "docs.tsv", err);
    if (!buf) return GQ_ERR_NOMEM;
    int rc = GQ_OK;
    for (size_t i = 0; i < n_tasks && rc == GQ_OK; i++) {
        const gq_prepared_task *r = &tasks[i];
        for (size_t d = 0; d < r->n_docs; d++) {
            const gq_doc *doc = &r->docs[d];
            char ph[65], dh[65], th[65], line[512], an[32] = "-";
            gq_sha256_hex(doc->context[0], strlen(doc->context[0]), ph);
            gq_sha256_hex(doc->target ? doc->target : "", doc->target ? strlen(doc->target) : 0, th);
            if ((rc = gq_samples_doc_hash(doc->doc, dh, err)) != GQ_OK) break;
            if (r->task->has_acc_norm) snprintf(an, sizeof an, "%.1f", sc[i].acc_norm[d]);
            int n = snprintf(line, sizeof line, "%s\t%d\t%d\t%d\t%.1f\t%s\t%s\t%s\t%s\n", r->task->name, doc->doc_id,
                             doc->n_req, doc->gold, sc[i].acc[d], an, ph, dh, th);
            if ((rc = buf_append(&buf, &len, &cap, line, (size_t)n, err)) != GQ_OK) break;
        }
    }
    if (rc == GQ_OK) rc = gq_file_write_atomic(path, buf, len, err);
    gq_free(buf);
    return rc;
}

/* "q4_1" for a GGUF of Q4_1 blocks: the dtype most of the weights have. */
const char *gq_eval_model_dtype(const gq_model *m)
{
    const gq_checkpoint *ck = gq_model_checkpoint(m);
    uint64_t by[GQ_DTYPE_COUNT] = {0};
    for (size_t i = 0; i < gq_checkpoint_tensor_count(ck); i++) {
        const gq_tensor_ref *t = gq_checkpoint_tensor(ck, i);
        if (t->dtype < GQ_DTYPE_COUNT) by[t->dtype] += t->n_elems;
    }
    int best = 0;
    for (int d = 1; d < GQ_DTYPE_COUNT; d++)
        if (by[d] > by[best]) best = d;
    return gq_dtype_name((gq_dtype)best);
}

int64_t gq_eval_model_params(const gq_model *m)
{
    uint64_t params = 0;
    const gq_checkpoint *ck = gq_model_checkpoint(m);
    for (size_t i = 0; i < gq_checkpoint_tensor_count(ck); i++) params += gq_checkpoint_tensor(ck, i)->n_elems;
    return (int64_t)params;
}

/* MMLU subjects are reported under their groups only when the whole of
 * mmlu was asked for, as lm-eval does. */
static int whole_mmlu_asked(const char *tasks)
{
    if (!tasks) return 0;
    size_t n = strlen(tasks);
    return !strncmp(tasks, "mmlu,", 5) || !strcmp(tasks, "mmlu") || strstr(tasks, ",mmlu,") ||
           (n >= 5 && !strcmp(tasks + n - 5, ",mmlu"));
}

/* out_dir/name into a heap string; NULL (err filled) on failure. */
static char *path_in(const char *dir, const char *name, gq_error *err) { return gq_path_join(dir, name, err); }

int gq_eval_write_run(const char *out_dir, const gq_eval_run *run, const gq_eval_opts *o, const gq_prepared_task *tasks,
                      size_t n_tasks, int log_samples, int legacy, const char *date_id, double start_time,
                      gq_error *err)
{
    int rc = GQ_OK;
    const gq_model *m = run->model->info;
    const gq_task_scores *sc = run->scores;
    gq_task_result *res = gq_calloc(n_tasks ? n_tasks : 1, sizeof *res, "task results", err);
    char (*hashes)[65] = gq_calloc(n_tasks ? n_tasks : 1, sizeof *hashes, "task hashes", err);
    char *p = NULL, *lm_path = NULL, name[256];
    unsigned char *greedy = NULL;
    if (!res || !hashes) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    int whole_mmlu = whole_mmlu_asked(o->tasks);
    for (size_t i = 0; i < n_tasks; i++) {
        const gq_prepared_task *r = &tasks[i];
        const gq_task_scores *s = &sc[i];
        res[i].task = r->task;
        res[i].group = whole_mmlu ? r->task->group : NULL;
        res[i].num_fewshot = o->num_fewshot;
        res[i].n_original = (int64_t)r->n_original;
        res[i].n_effective = (int64_t)r->n_docs;
        res[i].acc = s->acc_mean;
        res[i].acc_stderr = s->acc_stderr;
        res[i].acc_norm = s->acc_norm_mean;
        res[i].acc_norm_stderr = s->acc_norm_stderr;
        res[i].seconds = s->seconds;
        res[i].n_requests = (int64_t)r->n_req;
        if (log_samples) {
            greedy = gq_malloc(r->n_req ? r->n_req : 1, "greedy flags", err);
            if (!greedy) {
                rc = GQ_ERR_NOMEM;
                goto done;
            }
            for (size_t q = 0; q < r->n_req; q++) greedy[q] = (unsigned char)(s->greedy[q] != 0);
            gq_samples_input in = {.docs = r->docs, .n_docs = r->n_docs, .ll = s->ll, .is_greedy = greedy, .acc = s->acc,
                                   .acc_norm = r->task->has_acc_norm ? s->acc_norm : NULL};
            if (legacy) {
                p = gq_report_samples_path(out_dir, gq_model_path(m), r->task->name, date_id, err);
            } else {
                snprintf(name, sizeof name, "samples/%s/samples_%s.jsonl", run->id, r->task->name);
                p = path_in(out_dir, name, err);
            }
            if (!p) {
                rc = err ? (int)err->status : GQ_ERR_NOMEM;
                goto done;
            }
            if ((rc = gq_samples_write(p, &in, hashes[i], err)) != GQ_OK) goto done;
            res[i].task_hash = hashes[i];
            gq_free(p);
            p = NULL;
            gq_free(greedy);
            greedy = NULL;
        }
    }
    gq_report_run rr;
    gq_report_run_init(&rr);
    const gq_tokenizer *tok = gq_model_tokenizer(m);
    const gq_config *cfg = gq_model_config(m);
    rr.model_name = gq_model_path(m);
    rr.model_path = gq_model_path(m);
    rr.dtype = gq_eval_model_dtype(m);
    rr.model_dtype = "torch.float32"; /* the arithmetic: weights are widened to float32 */
    rr.decoding_path = gq_path_name(run->path);
    rr.device = o->device ? o->device : "cpu";
    rr.add_bos = gq_add_bos_name(o->add_bos);
    rr.bos_id = tok ? gq_tokenizer_bos(tok) : -1;
    rr.eos_id = tok ? gq_tokenizer_eos(tok) : -1;
    rr.bos_text = tok && rr.bos_id >= 0 ? gq_tokenizer_token(tok, rr.bos_id) : NULL;
    rr.eos_text = tok && rr.eos_id >= 0 ? gq_tokenizer_token(tok, rr.eos_id) : NULL;
    rr.pad_id = rr.eos_id; /* lm-eval sets pad = eos when the tokenizer has none */
    rr.pad_text = rr.eos_text;
    rr.eot_token_id = rr.eos_id;
    rr.max_length = cfg ? (int)cfg->max_position_embeddings : -1;
    rr.limit = o->limit > 0 ? o->limit : -1;
    rr.start_time = start_time;
    rr.total_seconds = run->seconds;
    rr.n_params = gq_eval_model_params(m);

    snprintf(name, sizeof name, "results_%s.json", run->id);
    if (!(p = path_in(out_dir, name, err))) goto nomem;
    if ((rc = gq_results_write(p, &rr, res, n_tasks, err)) != GQ_OK) goto done;
    if (!legacy) goto done;
    /* --model alone: today's files as well */
    gq_free(p);
    if (!(p = path_in(out_dir, "results.json", err))) goto nomem;
    if ((rc = gq_results_write(p, &rr, res, n_tasks, err)) != GQ_OK) goto done;
    if (!(lm_path = gq_report_results_path(out_dir, gq_model_path(m), date_id, err))) goto nomem;
    if ((rc = gq_results_write(lm_path, &rr, res, n_tasks, err)) != GQ_OK) goto done;
    gq_free(p);
    if (!(p = path_in(out_dir, "requests.tsv", err))) goto nomem;
    if ((rc = write_requests_tsv(p, tasks, sc, n_tasks, err)) != GQ_OK) goto done;
    gq_free(p);
    if (!(p = path_in(out_dir, "summary.tsv", err))) goto nomem;
    if ((rc = write_summary_tsv(p, tasks, sc, n_tasks, err)) != GQ_OK) goto done;
    gq_free(p);
    if (!(p = path_in(out_dir, "docs.tsv", err))) goto nomem;
    if ((rc = write_docs_tsv(p, tasks, sc, n_tasks, err)) != GQ_OK) goto done;
    goto done;
nomem:
    rc = GQ_ERR_NOMEM;
done:
    gq_free(p);
    gq_free(lm_path);
    gq_free(greedy);
    gq_free(res);
    gq_free(hashes);
    return rc;
}

int gq_eval_print_path_check(FILE *f, const char *a, const char *b, const gq_prepared_task *tasks,
                             const gq_path_check *checks, size_t n_tasks, double max_diff)
{
    fprintf(f, "\ncross-path check: %s vs %s (limit %g per request log-likelihood)\n", a, b, max_diff);
    fprintf(f, "%-40s %12s %12s %9s %9s %9s %9s %9s\n", "task", "max |dll|", "mean |dll|", "agree", "acc", "acc",
            "acc_norm", "acc_norm");
    fprintf(f, "%-40s %12s %12s %9s %9s %9s %9s %9s\n", "", "", "", "", a, b, a, b);
    size_t worst = n_tasks;
    for (size_t i = 0; i < n_tasks; i++) {
        const gq_prepared_task *r = &tasks[i];
        const gq_path_check *c = &checks[i];
        fprintf(f, "%-40s %12.3g %12.3g %8.1f%% %9.4f %9.4f", r->task->name, c->max_abs_diff, c->mean_abs_diff,
                100.0 * c->agree, c->acc[0], c->acc[1]);
        if (r->task->has_acc_norm) fprintf(f, " %9.4f %9.4f\n", c->acc_norm[0], c->acc_norm[1]);
        else fprintf(f, " %9s %9s\n", "-", "-");
        if (worst == n_tasks || c->max_abs_diff > checks[worst].max_abs_diff) worst = i;
    }
    if (worst == n_tasks) return 0;
    const gq_path_check *c = &checks[worst];
    int failed = c->max_abs_diff > max_diff;
    fprintf(f, "worst request: %s doc %d request %d, |dll| = %.3g: %s\n", tasks[worst].task->name,
            tasks[worst].docs[c->worst_doc].doc_id, c->worst_req, c->max_abs_diff,
            failed ? "FAILED (--max-path-diff)" : "within the limit");
    return failed;
}
