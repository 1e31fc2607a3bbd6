/* eval.c — the evaluation pipeline (eval.h): preparing tasks, the models
 * of a run, the tokenizer check, scoring in journaled batches, the
 * cross-path comparison. */
#define _POSIX_C_SOURCE 200809L
#include "eval.h"

#include <sys/stat.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "gq_alloc.h"
#include "journal.h"
#include "progress.h"

static void prepared_task_free(gq_prepared_task *r)
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
    memset(r, 0, sizeof *r);
}

void gq_prepared_tasks_free(gq_prepared_task *tasks, size_t n_tasks)
{
    if (!tasks) return;
    for (size_t i = 0; i < n_tasks; i++) prepared_task_free(&tasks[i]);
    gq_free(tasks);
}

static int prepare_task(const gq_model *m, const gq_eval_opts *o, const gq_task *t, gq_prepared_task *r,
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

int gq_eval_prepare(const gq_model *m, const gq_eval_opts *o, gq_prepared_task **out, size_t *n_out, gq_error *err)
{
    const gq_task **tasks = NULL;
    size_t n = 0;
    *out = NULL;
    *n_out = 0;
    int rc = gq_tasks_resolve(o->tasks, &tasks, &n, err);
    if (rc != GQ_OK) return rc;
    gq_prepared_task *r = gq_calloc(n, sizeof *r, "prepared tasks", err);
    if (!r) {
        gq_free(tasks);
        return GQ_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        rc = prepare_task(m, o, tasks[i], &r[i], err);
        if (rc != GQ_OK) {
            gq_prepared_tasks_free(r, n);
            gq_free(tasks);
            return rc;
        }
    }
    gq_free(tasks);
    *out = r;
    *n_out = n;
    return GQ_OK;
}

// ---- the models of a run -------------------------------------------------------------------

/* Append " name:size:mtime" of path (when it exists) to the identity. */
static void identity_add(char *id, size_t cap, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return;
    size_t n = strlen(id);
    if (n < cap)
        snprintf(id + n, cap - n, " %lld:%lld.%09ld", (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                 (long)st.st_mtim.tv_nsec);
}

int gq_eval_model_open(gq_eval_model *em, const char *path, int n_threads, gq_error *err)
{
    memset(em, 0, sizeof *em);
    em->path = path;
    em->n_threads = n_threads;
    gq_open_opts mo = {.load_weights = 0, .n_threads = n_threads, .max_tokens = 0};
    int rc = gq_model_open(&em->info, path, &mo, err);
    if (rc != GQ_OK) return rc;
    if (!gq_model_config(em->info))
        return gq_error_set(err, GQ_ERR_INVALID, "%s: a tokenizer-only folder cannot be evaluated", path);
    snprintf(em->identity, sizeof em->identity, "%s", path);
    if (gq_path_is_dir(path)) {
        static const char *files[] = {"config.json", "model.safetensors", "model.safetensors.index.json",
                                      "tokenizer.json", "gqla_meta.json"};
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
            char *p = gq_path_join(path, files[i], err);
            if (!p) return GQ_ERR_NOMEM;
            identity_add(em->identity, sizeof em->identity, p);
            gq_free(p);
        }
    } else {
        identity_add(em->identity, sizeof em->identity, path);
    }
    return GQ_OK;
}

static int eval_model_load_weights(gq_eval_model *em, gq_error *err)
{
    if (em->weights) return GQ_OK;
    gq_open_opts mo = {.load_weights = 1, .n_threads = em->n_threads, .max_tokens = 0, .tp = em->tp,
                       .device = em->device, .device_index = em->device_index};
    return gq_model_open(&em->weights, em->path, &mo, err);
}

void gq_eval_model_release(gq_eval_model *em)
{
    gq_model_close(em->weights);
    em->weights = NULL;
}

void gq_eval_model_close(gq_eval_model *em)
{
    if (!em) return;
    gq_eval_model_release(em);
    gq_model_close(em->info);
    em->info = NULL;
}

// ---- the tokenizer check ------------------------------------------------------------------------

static const char *tokenizer_desc(const gq_eval_model *em, char *buf, size_t n)
{
    const gq_tokenizer *t = gq_model_tokenizer(em->info);
    if (!t) snprintf(buf, n, "%s (no tokenizer)", em->path);
    else
        snprintf(buf, n, "%s (%s from %s, %zu tokens)", em->path, gq_tokenizer_kind(t),
                 gq_model_tokenizer_source(em->info), gq_tokenizer_vocab_size(t));
    return buf;
}

int gq_eval_check_same_tokenizer(const gq_eval_model *a, const gq_eval_model *b, gq_error *err)
{
    const gq_tokenizer *ta = gq_model_tokenizer(a->info), *tb = gq_model_tokenizer(b->info);
    const gq_config *ca = gq_model_config(a->info), *cb = gq_model_config(b->info);
    char da[1200], db[1200], why[600] = "";
    if (ca->vocab_size != cb->vocab_size)
        snprintf(why, sizeof why, "vocab_size %lld vs %lld", (long long)ca->vocab_size, (long long)cb->vocab_size);
    else if (!ta || !tb) {
        if (!ta) return gq_error_set(err, GQ_ERR_INVALID, "%s has no tokenizer", a->path);
        return GQ_OK; /* b is fed a's ids; its embedding has the same rows */
    } else if (gq_tokenizer_vocab_size(ta) != gq_tokenizer_vocab_size(tb))
        snprintf(why, sizeof why, "%zu vs %zu tokens", gq_tokenizer_vocab_size(ta), gq_tokenizer_vocab_size(tb));
    else if (strcmp(gq_tokenizer_kind(ta), gq_tokenizer_kind(tb)) != 0)
        snprintf(why, sizeof why, "%s vs %s", gq_tokenizer_kind(ta), gq_tokenizer_kind(tb));
    else if (gq_tokenizer_bos(ta) != gq_tokenizer_bos(tb) || gq_tokenizer_eos(ta) != gq_tokenizer_eos(tb) ||
             gq_tokenizer_adds_bos(ta) != gq_tokenizer_adds_bos(tb) ||
             gq_tokenizer_adds_eos(ta) != gq_tokenizer_adds_eos(tb))
        snprintf(why, sizeof why, "BOS/EOS ids %d/%d vs %d/%d or a different add-BOS/EOS policy",
                 (int)gq_tokenizer_bos(ta), (int)gq_tokenizer_eos(ta), (int)gq_tokenizer_bos(tb),
                 (int)gq_tokenizer_eos(tb));
    else {
        size_t v = gq_tokenizer_vocab_size(ta);
        for (size_t i = 0; i < v && !why[0]; i++) {
            const char *x = gq_tokenizer_token(ta, (int32_t)i), *y = gq_tokenizer_token(tb, (int32_t)i);
            if ((x == NULL) != (y == NULL) || (x && strcmp(x, y) != 0))
                snprintf(why, sizeof why, "token %zu is \"%.60s\" vs \"%.60s\"", i, x ? x : "(none)",
                         y ? y : "(none)");
        }
        static const char *probes[] = {"Question: Which of these is a fruit?\nAnswer: apple",
                                       " The quick brown fox, 1234 times.\n\n", "naïve café — “quoted”"};
        for (size_t p = 0; p < sizeof probes / sizeof probes[0] && !why[0]; p++) {
            gq_tokens xa = {0}, xb = {0};
            int ra = gq_tokenize(a->info, probes[p], 1, &xa, err);
            int rb = ra == GQ_OK ? gq_tokenize(b->info, probes[p], 1, &xb, err) : ra;
            if (ra != GQ_OK || rb != GQ_OK) {
                gq_tokens_free(&xa);
                gq_tokens_free(&xb);
                return ra != GQ_OK ? ra : rb;
            }
            if (xa.n != xb.n || (xa.n && memcmp(xa.ids, xb.ids, xa.n * sizeof *xa.ids) != 0))
                snprintf(why, sizeof why, "probe text %zu tokenizes differently (%zu vs %zu ids)", p, xa.n, xb.n);
            gq_tokens_free(&xa);
            gq_tokens_free(&xb);
        }
    }
    if (!why[0]) return GQ_OK;
    return gq_error_set(err, GQ_ERR_INVALID,
                        "the two models do not share a tokenizer (%s): %s vs %s\n---> HINT: --converted must be "
                        "converted from --model (the converter copies the tokenizer)",
                        why, tokenizer_desc(a, da, sizeof da), tokenizer_desc(b, db, sizeof db));
}

// ---- scoring --------------------------------------------------------------------------------

void gq_task_scores_free(gq_task_scores *s)
{
    if (!s) return;
    gq_free(s->ll);
    gq_free(s->greedy);
    gq_free(s->acc);
    gq_free(s->acc_norm);
    memset(s, 0, sizeof *s);
}

void gq_eval_run_free(gq_eval_run *r)
{
    if (!r || !r->scores) return;
    for (size_t i = 0; i < r->n_tasks; i++) gq_task_scores_free(&r->scores[i]);
    gq_free(r->scores);
    r->scores = NULL;
    r->n_tasks = 0;
}

static int run_sq(const gq_eval_opts *o, gq_path path) { return o->sq >= 0 ? o->sq : (path == GQ_PATH_NATIVE ? 0 : 1); }

/* The journal key of one task of a run: the checkpoint, the path and
 * scorer settings, and every request's ids. */
static void task_key(const gq_eval_run *run, const gq_eval_opts *o, const gq_prepared_task *t, unsigned char key[32])
{
    gq_journal_keyer k;
    gq_journal_key_init(&k);
    gq_journal_key_str(&k, run->model->identity);
    gq_journal_key_str(&k, gq_path_name(run->path));
    gq_journal_key_i64(&k, run_sq(o, run->path));
    gq_journal_key_i64(&k, GQ_JOURNAL_BATCH_DOCS);
    gq_journal_key_i64(&k, o->batch_tokens); /* packing moves numbers within the scorer's bound */
    gq_journal_key_str(&k, t->task->name);
    gq_journal_key_i64(&k, (int64_t)t->n_docs);
    for (size_t d = 0; d <= t->n_docs; d++) gq_journal_key_i64(&k, (int64_t)t->req_start[d]);
    for (size_t q = 0; q < t->n_req; q++) {
        gq_journal_key_ids(&k, t->ctx_tok[q].ids, t->ctx_tok[q].n);
        gq_journal_key_ids(&k, t->cont_tok[q].ids, t->cont_tok[q].n);
    }
    gq_journal_key_final(&k, key);
}

void gq_eval_task_key(const gq_eval_run *run, const gq_eval_opts *o, const gq_prepared_task *t,
                      unsigned char key[32])
{
    task_key(run, o, t, key);
}

static void stats_add(gq_scorer_stats *acc, gq_scorer_stats after, gq_scorer_stats before)
{
    acc->requests += after.requests - before.requests;
    acc->tokens_fed += after.tokens_fed - before.tokens_fed;
    acc->positions_projected += after.positions_projected - before.positions_projected;
    acc->tokens_separate += after.tokens_separate - before.tokens_separate;
}

/* Score documents [d0, d1) of t with a fresh scorer, in one call: each
 * document is a group (one tree), and the scorer packs consecutive
 * documents into batched forwards.  Their request indices go to idx (n_idx
 * of them). */
static int score_batch(gq_eval_run *run, const gq_eval_opts *o, const gq_prepared_task *t, gq_task_scores *s,
                       size_t d0, size_t d1, size_t *idx, size_t *n_idx, gq_error *err)
{
    gq_scorer *sc = NULL;
    int rc = eval_model_load_weights(run->model, err);
    if (rc != GQ_OK) return rc;
    size_t q0 = t->req_start[d0], nq = t->req_start[d1] - q0;
    gq_request *rq = gq_malloc((nq ? nq : 1) * sizeof *rq, "requests", err);
    gq_request_score *out = gq_malloc((nq ? nq : 1) * sizeof *out, "request scores", err);
    int *ends = gq_malloc((d1 - d0 ? d1 - d0 : 1) * sizeof *ends, "document groups", err);
    if (!rq || !out || !ends) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    int n_groups = 0;
    for (size_t d = d0; d < d1; d++)
        if (t->req_start[d + 1] > t->req_start[d]) ends[n_groups++] = (int)(t->req_start[d + 1] - q0);
    for (size_t q = 0; q < nq; q++)
        rq[q] = (gq_request){t->ctx_tok[q0 + q].ids, (int)t->ctx_tok[q0 + q].n, t->cont_tok[q0 + q].ids,
                             (int)t->cont_tok[q0 + q].n};
    rc = gq_scorer_init_path(&sc, run->model->weights, run->path, run_sq(o, run->path), 0, err);
    if (rc == GQ_OK && o->batch_tokens > 0) rc = gq_scorer_set_batch_tokens(sc, o->batch_tokens, err);
    if (rc != GQ_OK) goto done;
    gq_scorer_stats before = gq_scorer_get_stats(sc);
    rc = gq_scorer_score_groups(sc, rq, (int)nq, ends, n_groups, out, err);
    if (rc != GQ_OK) {
        gq_error_prefix(err, "%s docs %zu..%zu: ", t->task->name, d0, d1 - 1);
        goto done;
    }
    *n_idx = 0;
    for (size_t q = 0; q < nq; q++) {
        s->ll[q0 + q] = out[q].loglikelihood;
        s->greedy[q0 + q] = out[q].is_greedy;
        idx[(*n_idx)++] = q0 + q;
    }
    stats_add(&s->stats, gq_scorer_get_stats(sc), before);
done:
    gq_scorer_free(sc);
    gq_free(rq);
    gq_free(out);
    gq_free(ends);
    return rc;
}

double gq_eval_doc_work(const gq_prepared_task *t, size_t doc)
{
    size_t longest = 0, cont = 0;
    for (size_t q = t->req_start[doc]; q < t->req_start[doc + 1]; q++) {
        if (t->ctx_tok[q].n > longest) longest = t->ctx_tok[q].n;
        cont += t->cont_tok[q].n;
    }
    return (double)(longest + cont);
}

static void overall_task_done(gq_eval_overall *ov, const gq_eval_run *run, const gq_prepared_task *t, int quiet)
{
    ov->n_tasks_done++;
    if (quiet) return;
    double el = gq_now() - ov->t_start, scored = ov->done - ov->resumed;
    double eta = scored > 0 && el > 0 ? (ov->total - ov->done) * el / scored : -1;
    char buf[32];
    gq_format_duration(eta, buf, sizeof buf);
    fprintf(stderr, "overall: %zu/%zu tasks (%s %s done), %.1f%% of the work, ETA %s\n", ov->n_tasks_done,
            ov->n_tasks_total, run->id, t->task->name, ov->total > 0 ? 100.0 * ov->done / ov->total : 100.0, buf);
}

size_t gq_eval_n_batches(const gq_prepared_task *t)
{
    return (t->n_docs + GQ_JOURNAL_BATCH_DOCS - 1) / GQ_JOURNAL_BATCH_DOCS;
}

void gq_eval_batch_docs(const gq_prepared_task *t, size_t b, size_t *d0, size_t *d1)
{
    *d0 = b * GQ_JOURNAL_BATCH_DOCS;
    *d1 = *d0 + GQ_JOURNAL_BATCH_DOCS < t->n_docs ? *d0 + GQ_JOURNAL_BATCH_DOCS : t->n_docs;
}

static double batch_work(const gq_prepared_task *t, size_t b)
{
    size_t d0, d1;
    gq_eval_batch_docs(t, b, &d0, &d1);
    double w = 0;
    for (size_t d = d0; d < d1; d++) w += gq_eval_doc_work(t, d);
    return w;
}

typedef struct deal_item {
    double work;
    size_t task, batch;
} deal_item;

static int deal_item_cmp(const void *pa, const void *pb)
{
    const deal_item *a = pa, *b = pb;
    if (a->work != b->work) return a->work > b->work ? -1 : 1;
    if (a->task != b->task) return a->task < b->task ? -1 : 1;
    return a->batch < b->batch ? -1 : a->batch > b->batch;
}

void gq_eval_deal_free(gq_eval_deal *deal)
{
    gq_free(deal->owner);
    gq_free(deal->first);
    memset(deal, 0, sizeof *deal);
}

int gq_eval_deal_make(const gq_prepared_task *tasks, size_t n_tasks, int n_parts, gq_eval_deal *deal, gq_error *err)
{
    memset(deal, 0, sizeof *deal);
    deal->n_tasks = n_tasks;
    if (!(deal->first = gq_calloc(n_tasks + 1, sizeof *deal->first, "batch deal", err))) return GQ_ERR_NOMEM;
    for (size_t t = 0; t < n_tasks; t++) deal->first[t + 1] = deal->first[t] + gq_eval_n_batches(&tasks[t]);
    size_t nb = deal->first[n_tasks];
    deal_item *items = NULL;
    double *load = NULL;
    int rc = GQ_ERR_NOMEM;
    if (!(deal->owner = gq_calloc(nb ? nb : 1, sizeof *deal->owner, "batch deal", err))) goto done;
    if (n_parts <= 1) {
        rc = GQ_OK;
        goto done;
    }
    items = gq_malloc((nb ? nb : 1) * sizeof *items, "batch deal", err);
    load = gq_calloc((size_t)n_parts, sizeof *load, "batch deal", err);
    if (!items || !load) goto done;
    for (size_t t = 0, k = 0; t < n_tasks; t++)
        for (size_t b = 0; b < gq_eval_n_batches(&tasks[t]); b++, k++)
            items[k] = (deal_item){batch_work(&tasks[t], b), t, b};
    /* Longest processing time first: within 4/3 of the best deal. */
    qsort(items, nb, sizeof *items, deal_item_cmp);
    for (size_t k = 0; k < nb; k++) {
        int part = 0;
        for (int p = 1; p < n_parts; p++)
            if (load[p] < load[part]) part = p;
        deal->owner[deal->first[items[k].task] + items[k].batch] = part;
        load[part] += items[k].work;
    }
    rc = GQ_OK;
done:
    gq_free(items);
    gq_free(load);
    if (rc != GQ_OK) gq_eval_deal_free(deal);
    return rc;
}

double gq_eval_deal_work(const gq_eval_deal *deal, const gq_prepared_task *tasks, int part)
{
    double w = 0;
    for (size_t t = 0; t < deal->n_tasks; t++)
        for (size_t b = 0; b < gq_eval_n_batches(&tasks[t]); b++)
            if (deal->owner[deal->first[t] + b] == part) w += batch_work(&tasks[t], b);
    return w;
}

/* Score the batches of t dealt to this part (owner: t's slice of the deal). */
static int score_task(gq_eval_run *run, const gq_eval_opts *o, const gq_prepared_task *t, const int *owner,
                      gq_task_scores *s, const char *journal_dir, gq_error *err)
{
    size_t nq = t->n_req ? t->n_req : 1, nd = t->n_docs ? t->n_docs : 1, nb = gq_eval_n_batches(t);
    int parts = o->n_parts > 1 ? o->n_parts : 1, me = parts > 1 ? o->part_index : 0;
    s->ll = gq_calloc(nq, sizeof *s->ll, "log-likelihoods", err);
    s->greedy = gq_calloc(nq, sizeof *s->greedy, "greedy flags", err);
    s->acc = gq_calloc(nd, sizeof *s->acc, "acc", err);
    s->acc_norm = gq_calloc(nd, sizeof *s->acc_norm, "acc_norm", err);
    unsigned char *done = gq_calloc(nq, 1, "journal flags", err);
    size_t *idx = gq_calloc(nq, sizeof *idx, "journal batch", err);
    char *jpath = NULL;
    gq_journal *j = NULL;
    int rc = GQ_OK;
    if (!s->ll || !s->greedy || !s->acc || !s->acc_norm || !done || !idx) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    int owns_any = 0;
    for (size_t b = 0; b < nb; b++) owns_any |= owner[b] == me;
    /* A rank > 0 with no batch of this task keeps no journal for it; a
     * shard keeps one for every task (merge reads each). */
    if (journal_dir && (me == 0 || owns_any || !o->gather)) {
        size_t n = strlen(journal_dir) + strlen(run->id) + strlen(t->task->name) + 16;
        if (!(jpath = gq_malloc(n, "journal path", err))) {
            rc = GQ_ERR_NOMEM;
            goto done;
        }
        snprintf(jpath, n, "%s/%s/%s.bin", journal_dir, run->id, t->task->name);
        unsigned char key[32];
        task_key(run, o, t, key);
        gq_journal_status st;
        rc = gq_journal_open(&j, jpath, key, t->n_req, s->ll, s->greedy, done, &st, err);
        if (rc != GQ_OK) goto done;
        if (st == GQ_JOURNAL_RESTARTED) /* a warning, printed even with --quiet */
            fprintf(stderr, "%s %s: the journal %s was written for other requests, another model or path: "
                            "starting this task over\n", run->id, t->task->name, jpath);
    }
    /* A batch counts as done only when all its requests are in the journal. */
    size_t my_docs = 0, resumed = 0;
    for (size_t b = 0; b < nb; b++) {
        size_t d0, d1;
        gq_eval_batch_docs(t, b, &d0, &d1);
        int all = 1;
        for (size_t q = t->req_start[d0]; q < t->req_start[d1]; q++) all &= done[q];
        if (!all) memset(done + t->req_start[d0], 0, t->req_start[d1] - t->req_start[d0]);
        if (owner[b] != me) continue;
        my_docs += d1 - d0;
        if (all) resumed += d1 - d0;
    }
    s->n_docs_resumed = resumed;
    char label[96];
    if (resumed)
        snprintf(label, sizeof label, "%s %s (%zu resumed)", run->id, t->task->name, resumed);
    else
        snprintf(label, sizeof label, "%s %s", run->id, t->task->name);
    gq_progress pr;
    gq_progress_start(&pr, label, "docs", my_docs, o->quiet);
    gq_progress_set_resumed(&pr, resumed);
    double t0 = gq_now();
    size_t docs_done = 0;
    for (size_t b = 0; b < nb; b++) {
        if (owner[b] != me) continue;
        size_t d0, d1;
        gq_eval_batch_docs(t, b, &d0, &d1);
        int from_journal = t->req_start[d1] > t->req_start[d0] && done[t->req_start[d0]];
        if (t->req_start[d1] > t->req_start[d0] && !from_journal) {
            size_t n_idx = 0;
            if ((rc = score_batch(run, o, t, s, d0, d1, idx, &n_idx, err)) != GQ_OK) goto done;
            if (j && (rc = gq_journal_append(j, idx, n_idx, s->ll, s->greedy, err)) != GQ_OK) goto done;
            if (j && o->clock) gq_run_clock_tick(o->clock);
        }
        if (o->overall) {
            double w = batch_work(t, b);
            o->overall->done += w;
            if (from_journal) o->overall->resumed += w;
        }
        docs_done += d1 - d0;
        gq_progress_update(&pr, docs_done);
    }
    gq_progress_finish(&pr);
    s->seconds = gq_now() - t0;
    int complete = parts == 1 || (o->gather && me == 0);
    if (parts > 1 && o->gather) {
        if ((rc = o->gather(o->gather_ctx, t, owner, s, err)) != GQ_OK) goto done;
        /* Part 0's journal gets every part's records, so that the output
         * folder's journal is a whole run's. */
        if (me == 0 && j) {
            size_t n_idx = 0;
            for (size_t b = 0; b < nb; b++) {
                size_t d0, d1;
                gq_eval_batch_docs(t, b, &d0, &d1);
                if (owner[b] == 0 || (t->req_start[d1] > t->req_start[d0] && done[t->req_start[d0]])) continue;
                for (size_t q = t->req_start[d0]; q < t->req_start[d1]; q++) idx[n_idx++] = q;
            }
            if (n_idx && (rc = gq_journal_append(j, idx, n_idx, s->ll, s->greedy, err)) != GQ_OK) goto done;
        }
    }
    if (o->overall) overall_task_done(o->overall, run, t, o->quiet);
    for (size_t d = 0; d < t->n_docs; d++) {
        if (complete) gq_doc_metrics(&t->docs[d], s->ll + t->req_start[d], &s->acc[d], &s->acc_norm[d]);
        else s->acc[d] = s->acc_norm[d] = NAN;
    }
    s->acc_mean = gq_mean(s->acc, t->n_docs, 1);
    s->acc_stderr = gq_stderr(s->acc, t->n_docs, 1);
    s->acc_norm_mean = gq_mean(s->acc_norm, t->n_docs, 1);
    s->acc_norm_stderr = gq_stderr(s->acc_norm, t->n_docs, 1);
done:
    gq_journal_close(j);
    gq_free(jpath);
    gq_free(done);
    gq_free(idx);
    return rc;
}

int gq_eval_score_run(gq_eval_run *run, const gq_eval_opts *o, const gq_prepared_task *tasks, size_t n_tasks,
                      const char *journal_dir, gq_error *err)
{
    gq_eval_run_free(run);
    run->scores = gq_calloc(n_tasks ? n_tasks : 1, sizeof *run->scores, "task scores", err);
    if (!run->scores) return GQ_ERR_NOMEM;
    run->n_tasks = n_tasks;
    int rc = gq_model_check_path(run->model->info, run->path, err);
    if (rc != GQ_OK) return rc;
    gq_eval_deal deal;
    if ((rc = gq_eval_deal_make(tasks, n_tasks, o->n_parts, &deal, err)) != GQ_OK) return rc;
    double t0 = gq_now();
    for (size_t i = 0; i < n_tasks && rc == GQ_OK; i++)
        rc = score_task(run, o, &tasks[i], deal.owner + deal.first[i], &run->scores[i], journal_dir, err);
    run->seconds = gq_now() - t0;
    gq_eval_deal_free(&deal);
    return rc;
}

// ---- cross-path comparison -------------------------------------------------------------------

void gq_path_check_compute(const gq_prepared_task *t, const gq_task_scores *a, const gq_task_scores *b,
                           gq_path_check *c)
{
    memset(c, 0, sizeof *c);
    c->acc[0] = a->acc_mean;
    c->acc[1] = b->acc_mean;
    c->acc_norm[0] = a->acc_norm_mean;
    c->acc_norm[1] = b->acc_norm_mean;
    double sum = 0;
    size_t agree = 0;
    int first = 1;
    for (size_t d = 0; d < t->n_docs; d++) {
        size_t q0 = t->req_start[d];
        int n = t->docs[d].n_req;
        for (int k = 0; k < n; k++) {
            double diff = fabs(a->ll[q0 + (size_t)k] - b->ll[q0 + (size_t)k]);
            sum += diff;
            if (first || diff > c->max_abs_diff) {
                c->max_abs_diff = diff;
                c->worst_doc = d;
                c->worst_req = k;
                first = 0;
            }
        }
        agree += gq_argmax(a->ll + q0, n) == gq_argmax(b->ll + q0, n);
    }
    c->mean_abs_diff = t->n_req ? sum / (double)t->n_req : 0.0;
    c->agree = t->n_docs ? (double)agree / (double)t->n_docs : 1.0;
}
