/* eval.c — the evaluation pipeline (eval.h). */
#include "eval.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gq_alloc.h"
#include "progress.h"

static void run_free(gq_task_run *r)
{
    for (size_t i = 0; i < r->n_docs; i++) gq_doc_free(&r->docs[i]);
    for (size_t i = 0; i < r->n_req; i++) {
        gq_tokens_free(&r->ctx_tok[i]);
        gq_tokens_free(&r->cont_tok[i]);
    }
    gq_free(r->docs);
    gq_free(r->req_start);
    gq_free(r->ctx_tok);
    gq_free(r->cont_tok);
    gq_free(r->ll);
    gq_free(r->greedy);
    gq_free(r->acc);
    gq_free(r->acc_norm);
    gq_free(r->ll_second);
    memset(r, 0, sizeof *r);
}

void gq_task_runs_free(gq_task_run *runs, size_t n_runs)
{
    if (!runs) return;
    for (size_t i = 0; i < n_runs; i++) run_free(&runs[i]);
    gq_free(runs);
}

static int prepare_task(const gq_model *m, const gq_eval_opts *o, const gq_task *t, gq_task_run *r,
                        gq_error *err)
{
    int rc;
    gq_rows rows = {0}, pool = {0};
    r->task = t;
    rc = gq_dataset_load(&rows, t->eval.hf_id, t->eval.config, t->eval.split, &o->data, err);
    if (rc != GQ_OK) goto done;
    if (o->num_fewshot > 0) {
        rc = gq_dataset_load(&pool, t->fewshot.hf_id, t->fewshot.config, t->fewshot.split, &o->data, err);
        if (rc != GQ_OK) goto done;
    }
    r->n_original = rows.n;
    r->n_docs = o->limit > 0 && (size_t)o->limit < rows.n ? (size_t)o->limit : rows.n;
    r->docs = gq_calloc(r->n_docs ? r->n_docs : 1, sizeof *r->docs, "documents", err);
    r->req_start = gq_calloc(r->n_docs + 1, sizeof *r->req_start, "documents", err);
    if (!r->docs || !r->req_start) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    /* One few-shot generator per task, seeded as lm-eval's (1234), consumed in doc order. */
    gq_rng rng;
    gq_rng_seed(&rng, 1234);
    const cJSON *row = rows.rows ? rows.rows->child : NULL;
    for (size_t d = 0; d < r->n_docs; d++, row = row ? row->next : NULL) {
        rc = t->make_doc(t, row, rows.where[d], (int)d, o->num_fewshot > 0 ? pool.rows : NULL, o->num_fewshot,
                         &rng, &r->docs[d], err);
        if (rc != GQ_OK) goto done;
        r->req_start[d + 1] = r->req_start[d] + (size_t)r->docs[d].n_req;
    }
    r->n_req = r->req_start[r->n_docs];
    size_t nq = r->n_req ? r->n_req : 1;
    r->ctx_tok = gq_calloc(nq, sizeof *r->ctx_tok, "request tokens", err);
    r->cont_tok = gq_calloc(nq, sizeof *r->cont_tok, "request tokens", err);
    if (!r->ctx_tok || !r->cont_tok) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    for (size_t d = 0; d < r->n_docs; d++) {
        const gq_doc *doc = &r->docs[d];
        for (int i = 0; i < doc->n_req; i++) {
            size_t q = r->req_start[d] + (size_t)i;
            rc = gq_encode_pair(m, doc->context[i], doc->continuation[i], o->add_bos, &r->ctx_tok[q],
                                &r->cont_tok[q], err);
            if (rc == GQ_OK && r->cont_tok[q].n == 0)
                rc = gq_error_set(err, GQ_ERR_INVALID, "%s: request %d tokenizes to an empty continuation",
                                  rows.where[d], i);
            if (rc != GQ_OK) {
                gq_error_prefix(err, "%s doc %zu: ", t->name, d);
                goto done;
            }
        }
    }
done:
    gq_rows_free(&rows);
    gq_rows_free(&pool);
    return rc;
}

int gq_eval_prepare(const gq_model *m, const gq_eval_opts *o, gq_task_run **runs, size_t *n_runs, gq_error *err)
{
    const gq_task **tasks = NULL;
    size_t n = 0;
    *runs = NULL;
    *n_runs = 0;
    int rc = gq_tasks_resolve(o->tasks, &tasks, &n, err);
    if (rc != GQ_OK) return rc;
    gq_task_run *r = gq_calloc(n, sizeof *r, "task runs", err);
    if (!r) {
        gq_free(tasks);
        return GQ_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        rc = prepare_task(m, o, tasks[i], &r[i], err);
        if (rc != GQ_OK) {
            gq_task_runs_free(r, n);
            gq_free(tasks);
            return rc;
        }
    }
    gq_free(tasks);
    *runs = r;
    *n_runs = n;
    return GQ_OK;
}

static int score_task(gq_model *m, const gq_eval_opts *o, gq_scorer *sc, gq_task_run *r, gq_error *err)
{
    size_t nq = r->n_req ? r->n_req : 1, nd = r->n_docs ? r->n_docs : 1;
    r->ll = gq_calloc(nq, sizeof *r->ll, "log-likelihoods", err);
    r->greedy = gq_calloc(nq, sizeof *r->greedy, "greedy flags", err);
    r->acc = gq_calloc(nd, sizeof *r->acc, "acc", err);
    r->acc_norm = gq_calloc(nd, sizeof *r->acc_norm, "acc_norm", err);
    gq_request *rq = gq_calloc(64, sizeof *rq, "requests", err);
    gq_request_score *out = gq_calloc(64, sizeof *out, "request scores", err);
    int rc = GQ_OK;
    if (!r->ll || !r->greedy || !r->acc || !r->acc_norm || !rq || !out) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    (void)m;
    gq_scorer_stats before = gq_scorer_get_stats(sc);
    gq_progress pr;
    gq_progress_start(&pr, r->task->name, r->n_docs, o->quiet);
    double t0 = gq_now();
    for (size_t d = 0; d < r->n_docs; d++) {
        const gq_doc *doc = &r->docs[d];
        size_t q0 = r->req_start[d];
        for (int i = 0; i < doc->n_req; i += 64) {
            int k = doc->n_req - i < 64 ? doc->n_req - i : 64;
            for (int j = 0; j < k; j++) {
                size_t q = q0 + (size_t)(i + j);
                rq[j] = (gq_request){r->ctx_tok[q].ids, (int)r->ctx_tok[q].n, r->cont_tok[q].ids,
                                     (int)r->cont_tok[q].n};
            }
            rc = gq_scorer_score(sc, rq, k, out, err);
            if (rc != GQ_OK) {
                gq_error_prefix(err, "%s doc %zu: ", r->task->name, d);
                goto done;
            }
            for (int j = 0; j < k; j++) {
                r->ll[q0 + (size_t)(i + j)] = out[j].loglikelihood;
                r->greedy[q0 + (size_t)(i + j)] = out[j].is_greedy;
            }
        }
        gq_doc_metrics(doc, r->ll + q0, &r->acc[d], &r->acc_norm[d]);
        gq_progress_update(&pr, d + 1);
    }
    gq_progress_finish(&pr);
    r->seconds = gq_now() - t0;
    gq_scorer_stats after = gq_scorer_get_stats(sc);
    r->stats.requests = after.requests - before.requests;
    r->stats.tokens_fed = after.tokens_fed - before.tokens_fed;
    r->stats.positions_projected = after.positions_projected - before.positions_projected;
    r->stats.tokens_separate = after.tokens_separate - before.tokens_separate;
    r->acc_mean = gq_mean(r->acc, r->n_docs, 1);
    r->acc_stderr = gq_stderr(r->acc, r->n_docs, 1);
    r->acc_norm_mean = gq_mean(r->acc_norm, r->n_docs, 1);
    r->acc_norm_stderr = gq_stderr(r->acc_norm, r->n_docs, 1);
done:
    gq_free(rq);
    gq_free(out);
    return rc;
}

/* Free the per-path arrays so the next path's scoring starts clean. */
int gq_eval_score(gq_model *m, const gq_eval_opts *o, gq_task_run *runs, size_t n_runs, gq_error *err)
{
    int rc = GQ_OK, n_paths = o->n_paths > 0 ? o->n_paths : 1;
    for (int p = n_paths - 1; p >= 0 && rc == GQ_OK; p--) {
        /* The second path first, so the primary's numbers stay in the runs. */
        gq_scorer *sc = NULL;
        gq_path path = o->n_paths > 0 ? o->paths[p] : gq_config_default_path(gq_model_config(m));
        int sq = o->sq >= 0 ? o->sq : (path == GQ_PATH_NATIVE ? 0 : 1);
        rc = gq_scorer_init_path(&sc, m, path, sq, 0, err);
        if (rc != GQ_OK) return rc;
        for (size_t i = 0; i < n_runs && rc == GQ_OK; i++) {
            gq_task_run *r = &runs[i];
            if (p == 1) {
                rc = score_task(m, o, sc, r, err);
                if (rc == GQ_OK) {
                    r->check.acc[1] = r->acc_mean;
                    r->check.acc_norm[1] = r->acc_norm_mean;
                    r->ll_second = r->ll; /* paths[1]'s log-likelihoods, kept for the check */
                    r->ll = NULL;
                    gq_free(r->greedy);
                    gq_free(r->acc);
                    gq_free(r->acc_norm);
                    r->greedy = NULL;
                    r->acc = r->acc_norm = NULL;
                }
            } else {
                rc = score_task(m, o, sc, r, err);
            }
        }
        gq_scorer_free(sc);
    }
    if (rc != GQ_OK || n_paths < 2) return rc;
    /* Cross-path check: paths[0]'s numbers are in the runs, paths[1]'s
     * log-likelihoods in ll_second. */
    for (size_t i = 0; i < n_runs; i++) {
        gq_task_run *r = &runs[i];
        double *ll1 = r->ll_second, sum = 0;
        gq_path_check *c = &r->check;
        c->acc[0] = r->acc_mean;
        c->acc_norm[0] = r->acc_norm_mean;
        size_t agree = 0;
        for (size_t d = 0; d < r->n_docs; d++) {
            size_t q0 = r->req_start[d];
            int n = r->docs[d].n_req;
            for (int k = 0; k < n; k++) {
                double diff = fabs(r->ll[q0 + (size_t)k] - ll1[q0 + (size_t)k]);
                sum += diff;
                if (diff > c->max_abs_diff || (d == 0 && k == 0)) {
                    c->max_abs_diff = diff;
                    c->worst_doc = d;
                    c->worst_req = k;
                }
            }
            agree += gq_argmax(r->ll + q0, n) == gq_argmax(ll1 + q0, n);
        }
        c->mean_abs_diff = r->n_req ? sum / (double)r->n_req : 0.0;
        c->agree = r->n_docs ? (double)agree / (double)r->n_docs : 1.0;
    }
    return GQ_OK;
}
