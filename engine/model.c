/* model.c — open a model folder / GGUF / tokenizer-only folder (model.h).
 * The forward pass and scoring live in forward.c and score.c. */
#include "model.h"

#include <string.h>

#include "fileio.h"
#include "gq_alloc.h"
#include "model_internal.h"


static int open_tokenizer_json(gq_model *m, const char *dir, gq_error *err)
{
    int rc = GQ_OK;
    char *tj = gq_path_join(dir, "tokenizer.json", err);
    char *tc = gq_path_join(dir, "tokenizer_config.json", err);
    if (!tj || !tc) {
        rc = GQ_ERR_NOMEM;
        goto done;
    }
    if (gq_path_exists(tj)) {
        rc = gq_tokenizer_load_json(&m->tok, tj, gq_path_exists(tc) ? tc : NULL, err);
        if (rc == GQ_OK) m->tok_source = "tokenizer.json";
    }
done:
    gq_free(tj);
    gq_free(tc);
    return rc;
}

int gq_model_open(gq_model **out, const char *path, const gq_open_opts *opts, gq_error *err)
{
    gq_open_opts dflt = {0};
    if (!opts) opts = &dflt;
    *out = NULL;
    int rc;
    gq_model *m = gq_calloc(1, sizeof *m, "model", err);
    if (!m) return GQ_ERR_NOMEM;
    m->tok_source = "none";
    m->path = gq_strdup(path, err);
    if (!m->path) {
        rc = GQ_ERR_NOMEM;
        goto fail;
    }
    if (!gq_path_exists(path)) {
        rc = gq_error_set(err, GQ_ERR_IO, "%s: no such file or folder", path);
        goto fail;
    }
    int is_dir = gq_path_is_dir(path);
    int tokenizer_only = 0;
    if (is_dir) {
        char *cfg = gq_path_join(path, "config.json", err);
        char *tj = gq_path_join(path, "tokenizer.json", err);
        if (!cfg || !tj) {
            gq_free(cfg);
            gq_free(tj);
            rc = GQ_ERR_NOMEM;
            goto fail;
        }
        tokenizer_only = !gq_path_exists(cfg) && gq_path_exists(tj);
        gq_free(cfg);
        gq_free(tj);
    }
    if (!tokenizer_only) {
        rc = gq_checkpoint_open(&m->ck, path, err);
        if (rc != GQ_OK) goto fail;
        m->cfg = gq_checkpoint_config(m->ck);
    }
    if (is_dir) {
        rc = open_tokenizer_json(m, path, err);
        if (rc != GQ_OK) goto fail;
    } else if (gq_checkpoint_gguf(m->ck)) {
        rc = gq_tokenizer_load_gguf(&m->tok, gq_checkpoint_gguf(m->ck), err);
        if (rc != GQ_OK) {
            gq_error_prefix(err, "%s: embedded tokenizer: ", path);
            goto fail;
        }
        m->tok_source = "gguf";
    }
    /* A tokenizer that can produce ids the model has no embedding for is the
     * wrong tokenizer (a model may have more rows than tokens, not fewer). */
    if (m->cfg && m->tok && (int64_t)gq_tokenizer_vocab_size(m->tok) > m->cfg->vocab_size) {
        rc = gq_error_set(err, GQ_ERR_INVALID,
                          "%s: mismatched tokenizer: %s has %zu tokens but the model's vocab_size is %lld",
                          path, m->tok_source, gq_tokenizer_vocab_size(m->tok), (long long)m->cfg->vocab_size);
        goto fail;
    }
    if (m->cfg && opts->load_weights) {
        rc = gq_model_load_weights(m, opts, err);
        if (rc == GQ_OK) rc = gq_model_use_device(m, opts, err);
        if (rc != GQ_OK) goto fail;
    }
    *out = m;
    return GQ_OK;
fail:
    gq_model_close(m);
    return rc;
}

void gq_model_close(gq_model *m)
{
    if (!m) return;
    gq_model_free_weights(m);
    gq_tokenizer_free(m->tok);
    gq_checkpoint_close(m->ck);
    gq_free(m->path);
    gq_free(m);
}

const char *gq_model_path(const gq_model *m) { return m->path; }
const gq_config *gq_model_config(const gq_model *m) { return m->cfg; }
const gq_checkpoint *gq_model_checkpoint(const gq_model *m) { return m->ck; }
const gq_tokenizer *gq_model_tokenizer(const gq_model *m) { return m->tok; }
const char *gq_model_tokenizer_source(const gq_model *m) { return m->tok_source; }

int gq_tokenize(const gq_model *m, const char *text, int add_special, gq_tokens *out, gq_error *err)
{
    if (!m->tok)
        return gq_error_set(err, GQ_ERR_INVALID,
                            "%s: no tokenizer found (expected tokenizer.json beside config.json, "
                            "or a GGUF with an embedded tokenizer)", m->path);
    return gq_tokenizer_encode(m->tok, text, strlen(text), add_special, out, err);
}
