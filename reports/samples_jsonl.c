/* samples_jsonl.c — samples_<task>_<date_id>.jsonl as lm-eval's
 * --log_samples writes it (tasks.md §5; evaluator.py builds the dict,
 * EvaluationTracker.save_results_samples turns arguments into gen_args_i /
 * arg_j and every response into strings, then json.dumps per line).
 *
 * The hashes: doc_hash = sha256(json.dumps(doc, indent=2,
 * ensure_ascii=False)), prompt_hash = sha256(first request's context),
 * target_hash = sha256(str(target)); the task hash for results.json is the
 * sha256 of all three hex strings of every line concatenated.
 * Tested byte for byte against Python in tests/test_reports.c.
 */
#include "results.h"

#include <stdio.h>
#include <string.h>

#include "gq_alloc.h"
#include "pyjson.h"
#include "sha256.h"

int gq_samples_doc_hash(const cJSON *doc, char hex[65], gq_error *err)
{
    gq_pyjson w;
    char *text = NULL;
    size_t len = 0;
    gq_pyjson_init(&w, 2);
    gq_pyjson_cjson(&w, doc);
    int rc = gq_pyjson_finish(&w, &text, &len, err);
    if (rc != GQ_OK) return rc;
    gq_sha256_hex(text, len, hex);
    gq_free(text);
    return GQ_OK;
}

/* str(float) of a log-likelihood and str(bool), as sanitize_list makes them. */
static void gq_write_resp(gq_pyjson *w, double ll, int greedy)
{
    char txt[32];
    gq_py_float_repr(ll, txt);
    gq_pyjson_begin_array(w);
    gq_pyjson_string(w, txt);
    gq_pyjson_string(w, greedy ? "True" : "False");
    gq_pyjson_end_array(w);
}

int gq_samples_render(const gq_samples_input *in, char **out, size_t *len, char task_hash[65],
                      gq_error *err)
{
    int rc = GQ_OK;
    char *text = NULL, *line = NULL;
    size_t tlen = 0, tcap = 0, off = 0;
    gq_sha256 th;
    gq_pyjson w;

    *out = NULL;
    *len = 0;
    gq_sha256_init(&th);
    gq_pyjson_init(&w, -1);
    if (!in || (in->n_docs > 0 && (!in->docs || !in->ll || !in->is_greedy || !in->acc)))
        return gq_error_set(err, GQ_ERR_USAGE, "samples: documents, log-likelihoods, is_greedy and acc are required");

    for (size_t i = 0; i < in->n_docs; i++) {
        const gq_doc *d = &in->docs[i];
        char doc_hash[65], prompt_hash[65], target_hash[65], key[32];
        if (d->n_req <= 0 || !d->context || !d->continuation || !d->target) {
            rc = gq_error_set(err, GQ_ERR_INVALID, "samples: document %d has no requests or no target", d->doc_id);
            goto fail;
        }
        for (int r = 0; r < d->n_req; r++)
            if (!d->context[r] || !d->continuation[r]) {
                rc = gq_error_set(err, GQ_ERR_INVALID, "samples: document %d request %d has no text", d->doc_id, r);
                goto fail;
            }
        rc = gq_samples_doc_hash(d->doc, doc_hash, err);
        if (rc != GQ_OK) {
            gq_error_prefix(err, "samples: document %d: ", d->doc_id);
            goto fail;
        }
        gq_sha256_hex(d->context[0], strlen(d->context[0]), prompt_hash);
        gq_sha256_hex(d->target, strlen(d->target), target_hash);
        gq_sha256_update(&th, doc_hash, 64);
        gq_sha256_update(&th, prompt_hash, 64);
        gq_sha256_update(&th, target_hash, 64);

        gq_pyjson_begin_object(&w);
        gq_pyjson_kv_int(&w, "doc_id", d->doc_id);
        gq_pyjson_key(&w, "doc");
        gq_pyjson_cjson(&w, d->doc);
        gq_pyjson_kv_string(&w, "target", d->target);
        gq_pyjson_key(&w, "arguments");
        gq_pyjson_begin_object(&w);
        for (int r = 0; r < d->n_req; r++) {
            snprintf(key, sizeof key, "gen_args_%d", r);
            gq_pyjson_key(&w, key);
            gq_pyjson_begin_object(&w);
            gq_pyjson_kv_string(&w, "arg_0", d->context[r]);
            gq_pyjson_kv_string(&w, "arg_1", d->continuation[r]);
            gq_pyjson_end_object(&w);
        }
        gq_pyjson_end_object(&w);
        gq_pyjson_key(&w, "resps");
        gq_pyjson_begin_array(&w);
        for (int r = 0; r < d->n_req; r++) {
            gq_pyjson_begin_array(&w);
            gq_write_resp(&w, in->ll[off + (size_t)r], in->is_greedy[off + (size_t)r]);
            gq_pyjson_end_array(&w);
        }
        gq_pyjson_end_array(&w);
        gq_pyjson_key(&w, "filtered_resps");
        gq_pyjson_begin_array(&w);
        for (int r = 0; r < d->n_req; r++)
            gq_write_resp(&w, in->ll[off + (size_t)r], in->is_greedy[off + (size_t)r]);
        gq_pyjson_end_array(&w);
        gq_pyjson_kv_string(&w, "filter", "none");
        gq_pyjson_key(&w, "metrics");
        gq_pyjson_begin_array(&w);
        gq_pyjson_string(&w, "acc");
        if (in->acc_norm) gq_pyjson_string(&w, "acc_norm");
        gq_pyjson_end_array(&w);
        gq_pyjson_kv_string(&w, "doc_hash", doc_hash);
        gq_pyjson_kv_string(&w, "prompt_hash", prompt_hash);
        gq_pyjson_kv_string(&w, "target_hash", target_hash);
        gq_pyjson_kv_double(&w, "acc", in->acc[i]);
        if (in->acc_norm) gq_pyjson_kv_double(&w, "acc_norm", in->acc_norm[i]);
        gq_pyjson_end_object(&w);
        off += (size_t)d->n_req;

        size_t llen = 0;
        rc = gq_pyjson_finish(&w, &line, &llen, err);
        if (rc != GQ_OK) {
            gq_error_prefix(err, "samples: document %d: ", d->doc_id);
            goto fail;
        }
        if (tlen + llen + 2 > tcap) {
            size_t cap = tcap ? tcap : 4096;
            while (cap < tlen + llen + 2) cap *= 2;
            char *nt = gq_realloc(text, cap, "samples text", err);
            if (!nt) {
                rc = GQ_ERR_NOMEM;
                goto fail;
            }
            text = nt;
            tcap = cap;
        }
        memcpy(text + tlen, line, llen);
        tlen += llen;
        text[tlen++] = '\n';
        text[tlen] = '\0';
        gq_free(line);
        line = NULL;
    }
    if (!text) {   /* no documents: an empty file */
        text = gq_malloc(1, "samples text", err);
        if (!text) {
            rc = GQ_ERR_NOMEM;
            goto fail;
        }
        text[0] = '\0';
    }
    if (task_hash) {
        unsigned char dg[32];
        gq_sha256_final(&th, dg);
        gq_sha256_to_hex(dg, task_hash);
    }
    *out = text;
    *len = tlen;
    return GQ_OK;

fail:
    gq_pyjson_free(&w);
    gq_free(line);
    gq_free(text);
    return rc;
}

int gq_samples_write(const char *path, const gq_samples_input *in, char task_hash[65], gq_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = gq_samples_render(in, &text, &len, task_hash, err);
    if (rc == GQ_OK) rc = gq_report_write_file(path, text, len, err);
    gq_free(text);
    return rc;
}
