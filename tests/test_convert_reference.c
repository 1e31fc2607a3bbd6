/* test_convert_reference.c — `gqla-eval convert` against the independent
 * NumPy implementation of TransGQLA (issue 6, conversion.md §3, §5).
 *
 * Fixture: tests/fixtures/convert/tiny-qwen2/ from
 * tests/reference/make_convert_fixture.py (a tiny random Qwen2 source with
 * q/k/v biases, 8 x 64 calibration ids, and per setting the options in
 * args.txt and the expected output).  For each setting the test runs
 *
 *   $GQ_CLI convert --model source --output $GQ_TMP/... --calib-tokens calib_tokens.txt <args.txt> --quiet
 *
 * and checks the output folder:
 *   - model.safetensors has exactly the expected names: the tensors in
 *     expected/model.safetensors (what the conversion computes: q_proj or
 *     q_a/q_b_proj, kv_a_proj_with_mqa, kv_b_proj, with biases) plus every
 *     source tensor except self_attn.{q,k,v}_proj.{weight,bias};
 *   - computed tensors: F32, the expected shape, max |diff| <= 1e-4
 *     (the bound; the reference moves by < 1e-6 when its calibration
 *     activations are rounded to float32, see selfcheck.txt, so a correct
 *     float32 converter lands far inside it);
 *   - copied tensors (o_proj, norms, MLP, embeddings, lm_head): bit for bit
 *     the source bytes (§1.1, §3.5);
 *   - config.json: the §5.2 keys that decide how the model is read;
 *   - gqla_meta.json: the §5.3 numbers that follow from the conversion
 *     (dims, softmax_scale, alpha and the energy fractions per layer, cache
 *     elements per token per layer), each within 1e-5;
 *   - the converted model itself: `gqla-eval score OUT --ids ... --path both`
 *     gives, on both GQLA paths, the log-probs of expected/logprobs.txt
 *     (float64 GQLA forward of the reference weights) within 1e-4.
 * The worst tensor, its element index and both values are printed.
 *
 * Not here: the converter's error paths (its own tests), latent norms,
 * freqfold auto search.  Before touching a real converter the comparison
 * code is tested on in-memory arrays, so a comparator that cannot fail is
 * caught.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json_util.h"
#include "safetensors.h"
#include "testutil.h"

#define CONVERT_TOL 1e-4 /* max |converted - reference| per element (issue 6) */
/* gqla_meta.json numbers (alpha, energy fractions, softmax scale): averages
 * over the calibration set, moved by ~1e-9 between float32 and float64
 * calibration passes; cache sizes and dims are integers and must be equal. */
#define META_TOL 1e-5
/* log-probs of the converted model through `gqla-eval score` (float32
 * engine on the converter's output) vs the float64 reference forward on the
 * reference weights: the project's per-token bar. */
#define LOGPROB_TOL 1e-4
#define MAX_SCORE_IDS 256

static const char *settings[] = {"ropedim8-ff4-r40", "ropedim16-ff1-r24-rq48"};

/* config.json keys of §5.2 that decide how the converted model is read */
static const char *config_keys[] = {"model_type",       "num_attention_heads", "num_key_value_heads",
                                    "kv_lora_rank",     "q_lora_rank",         "qk_nope_head_dim",
                                    "qk_rope_head_dim", "v_head_dim",          "rope_interleave",
                                    "qk_latent_layernorm"};

// ---------------------------------------------------------------------------
// comparison helpers

/* Largest |got - want| over n floats; its index in *where.  A NaN on either
 * side counts as an infinite difference. */
static double max_abs_diff(const float *got, const float *want, size_t n, size_t *where)
{
    double worst = 0.0;
    *where = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (isnan(d)) d = INFINITY;
        if (d > worst) {
            worst = d;
            *where = i;
        }
    }
    return worst;
}

static int same_shape(const gq_tensor_ref *a, const gq_tensor_ref *b)
{
    if (a->n_dims != b->n_dims) return 0;
    for (int i = 0; i < a->n_dims; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    return 1;
}

static void shape_str(const gq_tensor_ref *t, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < t->n_dims && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, i ? ", %lld" : "%lld", (long long)t->shape[i]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
}

/* Replaced by the conversion: the source's q/k/v projections. */
static int is_replaced_source_tensor(const char *name)
{
    static const char *suffixes[] = {"self_attn.q_proj.weight", "self_attn.q_proj.bias",
                                     "self_attn.k_proj.weight", "self_attn.k_proj.bias",
                                     "self_attn.v_proj.weight", "self_attn.v_proj.bias"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t m = strlen(suffixes[i]);
        if (n >= m && strcmp(name + n - m, suffixes[i]) == 0) return 1;
    }
    return 0;
}

static int compare_json_numbers(const char *where, const cJSON *got, const cJSON *want);

/* The comparator must see a difference just over the bound, a NaN and a
 * difference in the last element, and none between identical arrays. */
static void test_comparator(void)
{
    printf("comparator self-test (the two gqla_meta.json mismatches printed here are planted):\n");
    cJSON *jwant = cJSON_Parse("{\"a\": {\"x\": [1.0, 2.5]}, \"n\": null, \"k\": 3}");
    cJSON *jsame = cJSON_Parse("{\"k\": 3, \"a\": {\"x\": [1.000001, 2.5], \"y\": 0}}");
    cJSON *joff = cJSON_Parse("{\"k\": 3, \"a\": {\"x\": [1.0, 2.5002]}, \"n\": 4}");
    test_cond("json comparator: extra keys and 1e-6 accepted, null matches absent",
              compare_json_numbers("", jsame, jwant) == 0);
    test_cond("json comparator: 2e-4 off and a number for null are two mismatches",
              compare_json_numbers("", joff, jwant) == 2);
    cJSON_Delete(jwant);
    cJSON_Delete(jsame);
    cJSON_Delete(joff);

    float want[5] = {0.5f, -1.25f, 3.0f, 0.0f, 2.0f}, got[5];
    size_t where;
    memcpy(got, want, sizeof got);
    test_cond("comparator: identical arrays differ by 0", max_abs_diff(got, want, 5, &where) == 0.0);
    got[4] = want[4] + 2.5e-4f;
    double d = max_abs_diff(got, want, 5, &where);
    test_cond("comparator: 2.5e-4 in the last element exceeds the bound, found there",
              d > CONVERT_TOL && where == 4);
    memcpy(got, want, sizeof got);
    got[1] = NAN;
    test_cond("comparator: a NaN exceeds the bound", max_abs_diff(got, want, 5, &where) > CONVERT_TOL && where == 1);
}

// ---------------------------------------------------------------------------
// one setting

/* First line of a small text file, without the newline (heap; NULL on error). */
static char *read_first_line(const char *path)
{
    char *text = test_read_file(path, NULL);
    if (!text) return NULL;
    text[strcspn(text, "\r\n")] = '\0';
    return text;
}

static void compare_configs(const char *setting, const char *got_path, const char *want_path)
{
    cJSON *got = NULL, *want = NULL;
    gq_error err;
    char what[512];
    if (gq_json_load_file(&got, got_path, &err) != GQ_OK) {
        printf("  %s\n", err.msg);
        snprintf(what, sizeof what, "[%s] output config.json is valid JSON", setting);
        test_cond(what, 0);
        return;
    }
    if (gq_json_load_file(&want, want_path, &err) != GQ_OK) {
        printf("  %s\n", err.msg);
        snprintf(what, sizeof what, "[%s] expected config.json is valid JSON", setting);
        test_cond(what, 0);
        cJSON_Delete(got);
        return;
    }
    for (size_t i = 0; i < sizeof config_keys / sizeof config_keys[0]; i++) {
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(got, config_keys[i]);
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(want, config_keys[i]);
        /* q_lora_rank null: absent is accepted as null (HF's default) */
        int ok = g ? cJSON_Compare(g, w, 1) : (w && cJSON_IsNull(w));
        char *gs = g ? cJSON_PrintUnformatted(g) : NULL;
        char *ws = w ? cJSON_PrintUnformatted(w) : NULL;
        snprintf(what, sizeof what, "[%s] config.json %s = %s (expected %s)", setting, config_keys[i],
                 gs ? gs : "(absent)", ws ? ws : "(absent)");
        test_cond(what, ok);
        free(gs);
        free(ws);
    }
    cJSON_Delete(got);
    cJSON_Delete(want);
}

/* Every number of `want` (nested objects and arrays; keys at `where`) must
 * be in `got` within META_TOL; a null in `want` accepts null, absent or an
 * empty array.  Returns the count of mismatches, each printed. */
static int compare_json_numbers(const char *where, const cJSON *got, const cJSON *want)
{
    if (cJSON_IsNull(want)) {
        if (!got || cJSON_IsNull(got) || (cJSON_IsArray(got) && cJSON_GetArraySize(got) == 0)) return 0;
        printf("  gqla_meta.json: %s is not null\n", where);
        return 1;
    }
    if (!got) {
        printf("  gqla_meta.json: %s missing\n", where);
        return 1;
    }
    if (cJSON_IsNumber(want)) {
        if (!cJSON_IsNumber(got) || !(fabs(got->valuedouble - want->valuedouble) <= META_TOL)) {
            char *gs = cJSON_PrintUnformatted(got);
            printf("  gqla_meta.json: %s = %s, expected %.12g\n", where, gs ? gs : "?", want->valuedouble);
            free(gs);
            return 1;
        }
        return 0;
    }
    if (cJSON_IsArray(want)) {
        if (!cJSON_IsArray(got) || cJSON_GetArraySize(got) != cJSON_GetArraySize(want)) {
            printf("  gqla_meta.json: %s is not an array of %d\n", where, cJSON_GetArraySize(want));
            return 1;
        }
        int bad = 0;
        for (int i = 0; i < cJSON_GetArraySize(want); i++) {
            char sub[512];
            snprintf(sub, sizeof sub, "%s[%d]", where, i);
            bad += compare_json_numbers(sub, cJSON_GetArrayItem(got, i), cJSON_GetArrayItem(want, i));
        }
        return bad;
    }
    if (cJSON_IsObject(want)) {
        int bad = 0;
        const cJSON *w;
        cJSON_ArrayForEach(w, want)
        {
            char sub[512];
            snprintf(sub, sizeof sub, "%s%s%s", where, where[0] ? "." : "", w->string);
            bad += compare_json_numbers(sub, cJSON_IsObject(got) ? cJSON_GetObjectItemCaseSensitive(got, w->string)
                                                                 : NULL,
                                        w);
        }
        return bad;
    }
    return cJSON_Compare(got, want, 1) ? 0 : 1;
}

static void compare_meta(const char *setting, const char *got_path, const char *want_path)
{
    cJSON *got = NULL, *want = NULL;
    gq_error err;
    char what[512];
    int ok_got = gq_json_load_file(&got, got_path, &err) == GQ_OK;
    if (!ok_got) printf("  %s\n", err.msg);
    int ok_want = gq_json_load_file(&want, want_path, &err) == GQ_OK;
    if (!ok_want) printf("  %s\n", err.msg);
    snprintf(what, sizeof what, "[%s] output and expected gqla_meta.json are valid JSON", setting);
    if (test_cond(what, ok_got && ok_want)) {
        int bad = compare_json_numbers("", got, want);
        snprintf(what, sizeof what,
                 "[%s] gqla_meta.json dims, softmax_scale, alpha, energy fractions, cache sizes as the reference "
                 "(%d differ)",
                 setting, bad);
        test_cond(what, bad == 0);
    }
    cJSON_Delete(got);
    cJSON_Delete(want);
}

static void compare_tensors(const char *setting, const gq_safetensors *out, const gq_safetensors *want,
                            const gq_safetensors *src)
{
    char what[1024];
    /* names: every output tensor is expected, every expected one is there */
    size_t n_missing = 0, n_extra = 0;
    for (size_t i = 0; i < gq_safetensors_count(want); i++) {
        const char *name = gq_safetensors_tensor(want, i)->name;
        if (!gq_safetensors_find(out, name)) {
            printf("  missing in the output: %s\n", name);
            n_missing++;
        }
    }
    for (size_t i = 0; i < gq_safetensors_count(src); i++) {
        const char *name = gq_safetensors_tensor(src, i)->name;
        if (!is_replaced_source_tensor(name) && !gq_safetensors_find(out, name)) {
            printf("  missing in the output (copied from the source): %s\n", name);
            n_missing++;
        }
    }
    for (size_t i = 0; i < gq_safetensors_count(out); i++) {
        const char *name = gq_safetensors_tensor(out, i)->name;
        int copied = gq_safetensors_find(src, name) && !is_replaced_source_tensor(name);
        if (!gq_safetensors_find(want, name) && !copied) {
            printf("  not expected in the output: %s\n", name);
            n_extra++;
        }
    }
    snprintf(what, sizeof what, "[%s] output tensor names = expected (%zu missing, %zu unexpected)", setting,
             n_missing, n_extra);
    test_cond(what, n_missing == 0 && n_extra == 0);

    /* computed tensors within the bound; the worst one printed */
    double worst = 0.0;
    const char *worst_name = "(none)";
    size_t worst_at = 0;
    float worst_got = 0.0f, worst_want = 0.0f;
    size_t n_compared = 0, n_bad_meta = 0;
    for (size_t i = 0; i < gq_safetensors_count(want); i++) {
        const gq_tensor_ref *w = gq_safetensors_tensor(want, i);
        const gq_tensor_ref *g = gq_safetensors_find(out, w->name);
        if (!g) continue;
        if (g->dtype != GQ_DTYPE_F32 || !same_shape(g, w)) {
            char gs[128], ws[128];
            shape_str(g, gs, sizeof gs);
            shape_str(w, ws, sizeof ws);
            printf("  %s: %s %s, expected F32 %s\n", w->name, gq_dtype_name(g->dtype), gs, ws);
            n_bad_meta++;
            continue;
        }
        size_t at;
        double d = max_abs_diff((const float *)g->data, (const float *)w->data, (size_t)w->n_elems, &at);
        printf("  %-55s max |diff| %.3e\n", w->name, d);
        n_compared++;
        if (d > worst || worst_name[0] == '(') {
            worst = d;
            worst_name = w->name;
            worst_at = at;
            worst_got = ((const float *)g->data)[at];
            worst_want = ((const float *)w->data)[at];
        }
    }
    printf("  [%s] worst: %s element %zu: converter %.9g, reference %.9g, |diff| %.3e (bound %.0e)\n", setting,
           worst_name, worst_at, (double)worst_got, (double)worst_want, worst, CONVERT_TOL);
    snprintf(what, sizeof what, "[%s] every computed tensor is F32 with the expected shape (%zu wrong)", setting,
             n_bad_meta);
    test_cond(what, n_bad_meta == 0 && n_compared > 0);
    snprintf(what, sizeof what, "[%s] every computed tensor within %.0e of the numpy reference (worst %s: %.3e)",
             setting, CONVERT_TOL, worst_name, worst);
    test_cond(what, n_compared == gq_safetensors_count(want) && worst <= CONVERT_TOL);

    /* copied tensors: the source bytes */
    size_t n_copied = 0, n_changed = 0;
    for (size_t i = 0; i < gq_safetensors_count(src); i++) {
        const gq_tensor_ref *s = gq_safetensors_tensor(src, i);
        if (is_replaced_source_tensor(s->name)) continue;
        const gq_tensor_ref *g = gq_safetensors_find(out, s->name);
        if (!g) continue;
        n_copied++;
        if (g->dtype != s->dtype || !same_shape(g, s) || g->nbytes != s->nbytes ||
            memcmp(g->data, s->data, s->nbytes) != 0) {
            printf("  copied tensor differs from the source: %s\n", s->name);
            n_changed++;
        }
    }
    snprintf(what, sizeof what, "[%s] %zu tensors outside q/k/v are the source bytes (%zu differ)", setting,
             n_copied, n_changed);
    test_cond(what, n_copied > 0 && n_changed == 0);
}

/* expected/logprobs.txt: "gqla-convert-logprobs 1", "ids i0 i1 ...", then
 * "pos id logprob" lines.  Fills ids[] (*n_ids) and want[pos] (pos >= 1);
 * returns 0 on success. */
static int read_logprobs(const char *path, long *ids, size_t *n_ids, double *want)
{
    char *text = test_read_file(path, NULL);
    if (!text) return -1;
    int rc = -1;
    char *line = strtok(text, "\n");
    if (!line || strcmp(line, "gqla-convert-logprobs 1") != 0) goto done;
    line = strtok(NULL, "\n");
    if (!line || strncmp(line, "ids ", 4) != 0) goto done;
    *n_ids = 0;
    for (char *p = line + 4, *end; *p && *n_ids < MAX_SCORE_IDS; p = end) {
        long v = strtol(p, &end, 10);
        if (end == p) break;
        ids[(*n_ids)++] = v;
    }
    size_t n_lines = 0;
    while ((line = strtok(NULL, "\n")) != NULL) {
        long pos, id;
        double lp;
        if (sscanf(line, "%ld %ld %lf", &pos, &id, &lp) != 3 || pos < 1 || (size_t)pos >= *n_ids ||
            ids[pos] != id)
            goto done;
        want[pos] = lp;
        n_lines++;
    }
    rc = (*n_ids >= 2 && n_lines == *n_ids - 1) ? 0 : -1;
done:
    free(text);
    return rc;
}

static void compare_scores(const char *setting, const char *out_dir, const char *want_dir)
{
    char path[4400], what[512];
    long ids[MAX_SCORE_IDS];
    double want[MAX_SCORE_IDS];
    size_t n_ids = 0;
    snprintf(path, sizeof path, "%s/logprobs.txt", want_dir);
    snprintf(what, sizeof what, "[%s] expected/logprobs.txt readable", setting);
    if (!test_cond(what, read_logprobs(path, ids, &n_ids, want) == 0)) return;

    char csv[MAX_SCORE_IDS * 12] = "";
    size_t len = 0;
    for (size_t i = 0; i < n_ids; i++)
        len += (size_t)snprintf(csv + len, sizeof csv - len, i ? ",%ld" : "%ld", ids[i]);
    char args[8192];
    snprintf(args, sizeof args, "score '%s' --ids %s --path both --json", out_dir, csv);
    char *output = NULL;
    int rc = test_run_cli(args, &output);
    snprintf(what, sizeof what, "[%s] score --path both on the converted model exits 0", setting);
    if (!test_cond(what, rc == 0)) printf("--- gqla-eval %s (exit %d)\n%s", args, rc, output ? output : "");
    cJSON *tree = output ? cJSON_Parse(output) : NULL;
    free(output);
    const cJSON *tokens = cJSON_GetObjectItemCaseSensitive(tree, "tokens");
    snprintf(what, sizeof what, "[%s] score --json gives %zu tokens", setting, n_ids - 1);
    if (!test_cond(what, cJSON_IsArray(tokens) && (size_t)cJSON_GetArraySize(tokens) == n_ids - 1)) {
        cJSON_Delete(tree);
        return;
    }
    static const char *paths[] = {"gqa", "absorb"};
    for (size_t k = 0; k < 2; k++) {
        double worst = -1.0;
        long worst_pos = -1;
        double worst_got = NAN;
        size_t n = 0;
        const cJSON *tok;
        cJSON_ArrayForEach(tok, tokens)
        {
            const cJSON *pos = cJSON_GetObjectItemCaseSensitive(tok, "pos");
            const cJSON *lp = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tok, "paths"),
                                                               paths[k]);
            if (!cJSON_IsNumber(pos) || !cJSON_IsNumber(lp) || pos->valuedouble < 1 ||
                pos->valuedouble >= (double)n_ids)
                continue;
            long p = (long)pos->valuedouble;
            double d = fabs(lp->valuedouble - want[p]);
            if (isnan(d)) d = INFINITY;
            if (d > worst) {
                worst = d;
                worst_pos = p;
                worst_got = lp->valuedouble;
            }
            n++;
        }
        printf("  [%s] %s path: %zu log-probs, max |score - reference| %.3e at pos %ld (%.9f vs %.9f)\n", setting,
               paths[k], n, worst, worst_pos, worst_got, worst_pos > 0 ? want[worst_pos] : NAN);
        snprintf(what, sizeof what, "[%s] converted model, %s path: every log-prob within %.0e of the reference",
                 setting, paths[k], LOGPROB_TOL);
        test_cond(what, n == n_ids - 1 && worst >= 0.0 && worst <= LOGPROB_TOL);
    }
    cJSON_Delete(tree);
}

static void run_setting(const char *setting)
{
    char fx[4096], src_dir[4200], calib[4200], args_path[4200], want_dir[4200];
    char out_dir[4200], path[4400], want_path[4400], what[4608];
    snprintf(fx, sizeof fx, "%s", test_fixture("convert/tiny-qwen2"));
    snprintf(src_dir, sizeof src_dir, "%s/source", fx);
    snprintf(calib, sizeof calib, "%s/calib_tokens.txt", fx);
    snprintf(args_path, sizeof args_path, "%s/%s/args.txt", fx, setting);
    snprintf(want_dir, sizeof want_dir, "%s/%s/expected", fx, setting);
    snprintf(out_dir, sizeof out_dir, "%s/out", test_tmpdir(setting));

    char *opts = read_first_line(args_path);
    snprintf(what, sizeof what, "[%s] fixture args.txt readable (%s)", setting, args_path);
    if (!test_cond(what, opts != NULL)) return;

    char args[16384];
    snprintf(args, sizeof args, "convert --model '%s' --output '%s' --calib-tokens '%s' %s --quiet", src_dir,
             out_dir, calib, opts);
    char *output = NULL;
    int rc = test_run_cli(args, &output);
    printf("--- gqla-eval %s (exit %d)\n%s", args, rc, output ? output : "");
    free(output);
    free(opts);
    snprintf(what, sizeof what, "[%s] convert exits 0", setting);
    if (!test_cond(what, rc == 0)) return;

    gq_safetensors *out = NULL, *want = NULL, *src = NULL;
    gq_error err;
    snprintf(path, sizeof path, "%s/model.safetensors", out_dir);
    snprintf(want_path, sizeof want_path, "%s/model.safetensors", want_dir);
    int ok_out = gq_safetensors_open(&out, path, &err) == GQ_OK;
    if (!ok_out) printf("  %s\n", err.msg);
    int ok_want = gq_safetensors_open(&want, want_path, &err) == GQ_OK;
    if (!ok_want) printf("  %s\n", err.msg);
    snprintf(path, sizeof path, "%s/model.safetensors", src_dir);
    int ok_src = gq_safetensors_open(&src, path, &err) == GQ_OK;
    if (!ok_src) printf("  %s\n", err.msg);
    snprintf(what, sizeof what, "[%s] output, expected and source model.safetensors open", setting);
    if (test_cond(what, ok_out && ok_want && ok_src)) compare_tensors(setting, out, want, src);
    gq_safetensors_close(out);
    gq_safetensors_close(want);
    gq_safetensors_close(src);

    snprintf(path, sizeof path, "%s/config.json", out_dir);
    snprintf(want_path, sizeof want_path, "%s/config.json", want_dir);
    compare_configs(setting, path, want_path);

    snprintf(path, sizeof path, "%s/gqla_meta.json", out_dir);
    snprintf(want_path, sizeof want_path, "%s/gqla_meta.json", want_dir);
    compare_meta(setting, path, want_path);

    compare_scores(setting, out_dir, want_dir);
}

int main(void)
{
    test_comparator();
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) run_setting(settings[i]);
    return test_report("convert_reference");
}
