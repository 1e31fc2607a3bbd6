/* test_reports.c — reports/ against Python (tests/fixtures/reports/, made by
 * tests/reference/make_report_fixtures.py with CPython 3.11 + lm-eval 0.4.13):
 *
 *   sha256     FIPS 180-4 example vectors, the million-'a' vector streamed in
 *              odd chunks, and hashlib on lengths 0..199 (every padding case)
 *   floats     repr()/json.dumps of ~5700 doubles: a table of tricky values,
 *              every power of two, random bit patterns
 *   strings    json.dumps(s, ensure_ascii=False) of control chars, quotes,
 *              non-ASCII, emoji, U+2028
 *   trees      a nested object with empty {} / [] in indent=2 and one-line form
 *   names      sanitize_model_name, date_id, lm-eval's file locations
 *   groups     size-weighted mean and pooled stderr, both Python sum rules
 *   run        a synthetic run (3 tasks + 3 MMLU subjects, one
 *              listed out of lm-eval's leaf order): every samples
 *              .jsonl and results.json byte for byte, task hashes, the files
 *              written atomically under a fresh folder
 *   errors     misuse of the writer, unknown group, duplicate task, bad docs
 *
 * `test_reports --torture` re-runs itself with GQ_FAIL_ALLOC=1,2,... and
 * checks that every injected failure comes back as GQ_ERR_NOMEM (with ASan:
 * and that nothing leaks).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "gq_alloc.h"
#include "pyjson.h"
#include "results.h"
#include "sha256.h"
#include "testutil.h"

#ifndef GQLA_VERSION
#define GQLA_VERSION "unknown"
#endif

// ---- helpers ------------------------------------------------------------------------

static char *fixture_text(const char *rel, size_t *n)
{
    char *t = test_read_file(test_fixture(rel), n);
    if (!t) fprintf(stderr, "cannot read fixture %s (run tests/reference/make_report_fixtures.py)\n", rel);
    return t;
}

/* Print where two texts first differ. */
static int same_text(const char *what, const char *got, size_t gn, const char *want, size_t wn)
{
    if (got && want && gn == wn && memcmp(got, want, gn) == 0) return 1;
    size_t i = 0;
    while (got && want && i < gn && i < wn && got[i] == want[i]) i++;
    size_t from = i > 60 ? i - 60 : 0;
    fprintf(stderr, "%s: differs at byte %zu (got %zu bytes, want %zu)\n", what, i, gn, wn);
    if (got) fprintf(stderr, "  got : ...%.*s...\n", (int)((gn - from) < 120 ? gn - from : 120), got + from);
    if (want) fprintf(stderr, "  want: ...%.*s...\n", (int)((wn - from) < 120 ? wn - from : 120), want + from);
    return 0;
}

static size_t unhex(const char *h, unsigned char *out)
{
    size_t n = 0;
    if (strcmp(h, "-") == 0) return 0;
    for (; h[0] && h[1]; h += 2) {
        unsigned v;
        sscanf(h, "%2x", &v);
        out[n++] = (unsigned char)v;
    }
    return n;
}

/* Replace every "@GQLA_VERSION@" in a heap text (the fixtures' placeholder). */
static char *with_version(char *t, size_t *n)
{
    const char *ph = "@GQLA_VERSION@";
    size_t pl = strlen(ph), vl = strlen(GQLA_VERSION), cnt = 0;
    for (char *p = strstr(t, ph); p; p = strstr(p + pl, ph)) cnt++;
    char *o = malloc(*n + cnt * vl + 1), *q = o;
    const char *s = t;
    for (char *p = strstr(s, ph); p; p = strstr(s, ph)) {
        memcpy(q, s, (size_t)(p - s));
        q += p - s;
        memcpy(q, GQLA_VERSION, vl);
        q += vl;
        s = p + pl;
    }
    strcpy(q, s);
    *n = strlen(o);
    free(t);
    return o;
}

// ---- sha256 -----------------------------------------------------------------------------

static void test_sha256(void)
{
    static const struct { const char *msg, *hex; } fips[] = {
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    char hex[65];
    for (size_t i = 0; i < sizeof fips / sizeof fips[0]; i++) {
        gq_sha256_hex(fips[i].msg, strlen(fips[i].msg), hex);
        test_cond("sha256 FIPS 180-4 example vector", strcmp(hex, fips[i].hex) == 0);
    }
    /* one million 'a', streamed in chunks of 1..97 bytes */
    char chunk[100];
    memset(chunk, 'a', sizeof chunk);
    gq_sha256 c;
    unsigned char d[32];
    gq_sha256_init(&c);
    size_t left = 1000000, k = 1;
    while (left) {
        size_t take = k < left ? k : left;
        gq_sha256_update(&c, chunk, take);
        left -= take;
        k = k % 97 + 1;
    }
    gq_sha256_final(&c, d);
    gq_sha256_to_hex(d, hex);
    test_cond("sha256 of a million 'a' (streamed)",
              strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0);

    size_t n = 0;
    char *tab = fixture_text("reports/sha256.txt", &n);
    if (!test_cond("sha256 table present", tab)) return;
    int ok = 1, rows = 0;
    unsigned char *buf = malloc(100000);
    for (char *line = strtok(tab, "\n"); line; line = strtok(NULL, "\n")) {
        size_t len;
        char want[65];
        if (sscanf(line, "%zu %64s", &len, want) != 2 || len > 100000) { ok = 0; break; }
        for (size_t i = 0; i < len; i++) buf[i] = (unsigned char)(i % 251);
        gq_sha256_hex(buf, len, hex);
        if (strcmp(hex, want) != 0) { fprintf(stderr, "sha256 length %zu: %s != %s\n", len, hex, want); ok = 0; }
        /* and split in two at an odd place */
        gq_sha256_init(&c);
        gq_sha256_update(&c, buf, len / 3);
        gq_sha256_update(&c, buf + len / 3, len - len / 3);
        gq_sha256_final(&c, d);
        gq_sha256_to_hex(d, hex);
        if (strcmp(hex, want) != 0) ok = 0;
        rows++;
    }
    test_cond("sha256 = hashlib for lengths 0..199, 1000, 4095..4097, 100000", ok && rows == 205);
    free(buf);
    free(tab);
}

// ---- pyjson -------------------------------------------------------------------------------

static char *dump_one(int indent, void (*fn)(gq_pyjson *, const void *), const void *arg, size_t *len)
{
    gq_pyjson w;
    char *out = NULL;
    gq_error err;
    gq_pyjson_init(&w, indent);
    fn(&w, arg);
    if (gq_pyjson_finish(&w, &out, len, &err) != GQ_OK) {
        fprintf(stderr, "pyjson: %s\n", err.msg);
        return NULL;
    }
    return out;
}

static void put_double(gq_pyjson *w, const void *p) { gq_pyjson_double(w, *(const double *)p); }
static void put_cjson(gq_pyjson *w, const void *p) { gq_pyjson_cjson(w, p); }

static void test_floats(void)
{
    size_t n = 0;
    char *tab = fixture_text("reports/float_repr.txt", &n);
    if (!test_cond("float table present", tab)) return;
    int rows = 0, bad = 0;
    for (char *line = strtok(tab, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned long long b;
        char js[64], st[64], rep[32];
        if (sscanf(line, "%llx %63s %63s", &b, js, st) != 3) { bad++; continue; }
        double x;
        uint64_t u = b;
        memcpy(&x, &u, sizeof x);
        gq_py_float_repr(x, rep);
        size_t jl = 0;
        char *j = dump_one(-1, put_double, &x, &jl);
        if (strcmp(rep, st) != 0 || !j || strcmp(j, js) != 0) {
            if (bad < 10) fprintf(stderr, "float %016llx: repr %s (want %s), json %s (want %s)\n", b, rep, st,
                                  j ? j : "(null)", js);
            bad++;
        }
        gq_free(j);
        rows++;
    }
    printf("floats: %d values compared\n", rows);
    test_cond("float repr and json.dumps equal Python's on every value of the table", bad == 0 && rows > 5000);
    free(tab);

    char rep[32];
    static const struct { double v; const char *s; } spot[] = {
        {0.1, "0.1"}, {1e-05, "1e-05"}, {1.5e-05, "1.5e-05"}, {123456789012345678.0, "1.2345678901234568e+17"},
        {1e16, "1e+16"}, {0.0, "0.0"}, {-0.0, "-0.0"}, {5e-324, "5e-324"}, {1.0, "1.0"}, {1e15, "1000000000000000.0"},
        {0.0001, "0.0001"}, {-13.125, "-13.125"},
    };
    for (size_t i = 0; i < sizeof spot / sizeof spot[0]; i++) {
        gq_py_float_repr(spot[i].v, rep);
        test_cond(spot[i].s, strcmp(rep, spot[i].s) == 0);
    }
    gq_py_float_repr(2.0 / 3.0, rep);
    test_cond("2/3", strcmp(rep, "0.6666666666666666") == 0);
    gq_py_float_repr(NAN, rep);
    test_cond("str(nan)", strcmp(rep, "nan") == 0);
    double nan = NAN;
    size_t jl;
    char *j = dump_one(2, put_double, &nan, &jl);
    test_cond("json NaN", j && strcmp(j, "NaN") == 0);
    gq_free(j);
}

static void test_strings(void)
{
    size_t n = 0;
    char *tab = fixture_text("reports/strings.txt", &n);
    if (!test_cond("strings table present", tab)) return;
    int rows = 0, bad = 0;
    unsigned char in[512], want[1024];
    char a[1100], b[2100];
    for (char *line = strtok(tab, "\n"); line; line = strtok(NULL, "\n")) {
        if (sscanf(line, "%1099s %2099s", a, b) != 2) { bad++; continue; }
        size_t il = unhex(a, in), wl = unhex(b, want);
        gq_pyjson w;
        gq_error err;
        char *out = NULL;
        size_t ol = 0;
        gq_pyjson_init(&w, -1);
        gq_pyjson_string_n(&w, (const char *)in, il);
        if (gq_pyjson_finish(&w, &out, &ol, &err) != GQ_OK || !same_text("string", out, ol, (char *)want, wl)) bad++;
        gq_free(out);
        rows++;
    }
    test_cond("json.dumps(str, ensure_ascii=False) for control chars, quotes, non-ASCII, emoji", bad == 0 && rows >= 12);
    free(tab);
}

static void test_trees(void)
{
    size_t n = 0, n2 = 0, n3 = 0;
    char *src = fixture_text("reports/tree.json", &n);
    char *want2 = fixture_text("reports/tree_indent2.txt", &n2);
    char *want1 = fixture_text("reports/tree_compact.txt", &n3);
    cJSON *tree = src ? cJSON_Parse(src) : NULL;
    if (test_cond("tree fixture parses", tree && want1 && want2)) {
        size_t l2 = 0, l1 = 0;
        char *got2 = dump_one(2, put_cjson, tree, &l2);
        char *got1 = dump_one(-1, put_cjson, tree, &l1);
        test_cond("cJSON tree, indent=2", same_text("tree indent 2", got2, l2, want2, n2));
        test_cond("cJSON tree, one line", same_text("tree one line", got1, l1, want1, n3));
        gq_free(got2);
        gq_free(got1);
    }
    cJSON_Delete(tree);
    free(src);
    free(want1);
    free(want2);

    /* empty containers and misuse */
    gq_pyjson w;
    gq_error err;
    char *out = NULL;
    size_t len = 0;
    gq_pyjson_init(&w, 2);
    gq_pyjson_begin_object(&w);
    gq_pyjson_key(&w, "a");
    gq_pyjson_begin_array(&w);
    gq_pyjson_end_array(&w);
    gq_pyjson_key(&w, "b");
    gq_pyjson_begin_object(&w);
    gq_pyjson_end_object(&w);
    gq_pyjson_end_object(&w);
    test_cond("empty {} and [] inside indent=2",
              gq_pyjson_finish(&w, &out, &len, &err) == GQ_OK && strcmp(out, "{\n  \"a\": [],\n  \"b\": {}\n}") == 0);
    gq_free(out);

    gq_pyjson_init(&w, 2);
    gq_pyjson_begin_array(&w);
    gq_pyjson_key(&w, "k");
    test_cond("key inside an array is an error", gq_pyjson_finish(&w, &out, &len, &err) == GQ_ERR_INVALID && !out);
    gq_pyjson_init(&w, 2);
    gq_pyjson_begin_object(&w);
    test_cond("open container is an error", gq_pyjson_finish(&w, &out, &len, &err) == GQ_ERR_INVALID && !out);
    gq_pyjson_init(&w, 2);
    gq_pyjson_int(&w, 1);
    gq_pyjson_int(&w, 2);
    test_cond("two top-level values is an error", gq_pyjson_finish(&w, &out, &len, &err) == GQ_ERR_INVALID);
    gq_pyjson_init(&w, -1);
    gq_pyjson_begin_object(&w);
    gq_pyjson_int(&w, 2);
    test_cond("object value without key is an error", gq_pyjson_finish(&w, &out, &len, &err) == GQ_ERR_INVALID);
}

// ---- names ----------------------------------------------------------------------------------

static void test_names(void)
{
    size_t n = 0;
    char *tab = fixture_text("reports/sanitize.txt", &n);
    gq_error err;
    if (test_cond("sanitize table present", tab)) {
        int bad = 0, rows = 0;
        for (char *line = strtok(tab, "\n"); line; line = strtok(NULL, "\n")) {
            char *tabc = strchr(line, '\t');
            if (!tabc) { bad++; continue; }
            *tabc = '\0';
            char *got = gq_report_sanitize_model_name(line, &err);
            if (!got || strcmp(got, tabc + 1) != 0) {
                fprintf(stderr, "sanitize %s: %s != %s\n", line, got ? got : "(null)", tabc + 1);
                bad++;
            }
            gq_free(got);
            rows++;
        }
        test_cond("sanitize_model_name equals lm-eval's", bad == 0 && rows >= 9);
        free(tab);
    }

    /* date_id: Python datetime.fromtimestamp(1755788214.123456, UTC).isoformat() */
    setenv("TZ", "UTC", 1);
    tzset();
    char id[40];
    test_cond("date_id with microseconds", gq_report_date_id(1755788214, 123456, id, &err) == GQ_OK &&
                                               strcmp(id, "2025-08-21T14-56-54.123456") == 0);
    test_cond("date_id leaves out .000000", gq_report_date_id(1755788214, 0, id, &err) == GQ_OK &&
                                                strcmp(id, "2025-08-21T14-56-54") == 0);
    test_cond("date_id rejects bad usec", gq_report_date_id(0, 1000000, id, &err) == GQ_ERR_INVALID);

    static const struct { const char *out, *model, *task, *want; } paths[] = {
        {"out", "meta-llama/Llama-2-7b-hf", NULL, "out/meta-llama__Llama-2-7b-hf/results_D.json"},
        {"out/", "m", NULL, "out/m/results_D.json"},
        {"runs/eval.json", "org/m", NULL, "runs/eval_D.json"},
        {"eval.json", "org/m", NULL, "eval_D.json"},
        {"/eval.json", "org/m", NULL, "/eval_D.json"},
        {"out/.json", "m", NULL, "out/.json/m/results_D.json"},
        {"out", "org/m", "arc_easy", "out/org__m/samples_arc_easy_D.jsonl"},
        {"runs/eval.json", "org/m", "mmlu_anatomy", "runs/samples_mmlu_anatomy_D.jsonl"},
        {"eval.json", "org/m", "piqa", "samples_piqa_D.jsonl"},
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char *p = paths[i].task ? gq_report_samples_path(paths[i].out, paths[i].model, paths[i].task, "D", &err)
                                : gq_report_results_path(paths[i].out, paths[i].model, "D", &err);
        if (!test_cond(paths[i].want, p && strcmp(p, paths[i].want) == 0))
            fprintf(stderr, "  got %s\n", p ? p : err.msg);
        gq_free(p);
    }
}

// ---- groups --------------------------------------------------------------------------------

static void test_groups(void)
{
    size_t n = 0;
    char *tab = fixture_text("reports/groups.txt", &n);
    if (!test_cond("groups table present", tab)) return;
    int rows = 0, bad = 0;
    char *save = NULL;
    for (char *line = strtok_r(tab, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *p = line, *end;
        size_t k = strtoul(p, &end, 10);
        p = end;
        double v[64], s[64], sz[64];
        if (k == 0 || k > 64) { bad++; continue; }
        for (size_t i = 0; i < k; i++) {
            v[i] = strtod(p, &end); p = end;
            s[i] = strtod(p, &end); p = end;
            sz[i] = strtod(p, &end); p = end;
        }
        for (int neu = 0; neu < 2; neu++) {
            double wm = strtod(p, &end); p = end;
            double ws = strtod(p, &end); p = end;
            double gm = gq_group_mean(v, sz, k, neu), gs = gq_group_stderr(s, sz, k, neu);
            if (gm != wm || gs != ws) {
                char a[32], b[32], c[32], d[32];
                gq_py_float_repr(gm, a); gq_py_float_repr(wm, b);
                gq_py_float_repr(gs, c); gq_py_float_repr(ws, d);
                fprintf(stderr, "group case %d (%s sum): mean %s want %s, stderr %s want %s\n", rows,
                        neu ? "neumaier" : "plain", a, b, c, d);
                bad++;
            }
        }
        rows++;
    }
    test_cond("group mean/pooled stderr = Python bit for bit (both sum rules, 5 cases)", bad == 0 && rows == 5);
    free(tab);
}

// ---- the synthetic run ----------------------------------------------------------------------

typedef struct run_fixture {
    cJSON *root;
    size_t n_tasks;
    gq_task tasks[8];
    gq_task_result results[8];
    gq_doc *docs[8];
    size_t n_docs[8];
    double *ll[8], *acc[8], *acc_norm[8];
    unsigned char *greedy[8];
    gq_report_run run;
} run_fixture;

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *k)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsString(x)) return strcmp(x->valuestring, "N/A") == 0 ? NAN : strtod(x->valuestring, NULL);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

static int jbool(const cJSON *o, const char *k) { return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k)); }

static char **jstrings(const cJSON *arr, int *n)
{
    *n = cJSON_GetArraySize(arr);
    char **v = calloc((size_t)*n + 1, sizeof *v);
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, arr) v[i++] = x->valuestring;
    return v;
}

static void run_fixture_free(run_fixture *f)
{
    for (size_t t = 0; t < f->n_tasks; t++) {
        for (size_t i = 0; i < f->n_docs[t]; i++) {
            free(f->docs[t][i].context);
            free(f->docs[t][i].continuation);
            free(f->docs[t][i].choice);
        }
        free(f->docs[t]);
        free(f->ll[t]);
        free(f->acc[t]);
        free(f->acc_norm[t]);
        free(f->greedy[t]);
    }
    cJSON_Delete(f->root);
}

static int run_fixture_load(run_fixture *f)
{
    memset(f, 0, sizeof *f);
    size_t n = 0;
    char *txt = fixture_text("reports/run_input.json", &n);
    if (!txt) return 0;
    f->root = cJSON_Parse(txt);
    free(txt);
    if (!f->root) return 0;
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(f->root, "run");
    gq_report_run *run = &f->run;
    gq_report_run_init(run);
    run->model_name = jstr(r, "model_name");
    run->model_args = jstr(r, "model_args");
    run->model_path = jstr(r, "model_path");
    run->model_dtype = jstr(r, "model_dtype");
    run->dtype = jstr(r, "dtype");
    run->n_params = (int64_t)jnum(r, "n_params");
    run->decoding_path = jstr(r, "decoding_path");
    run->device = jstr(r, "device");
    run->batch_size = (int)jnum(r, "batch_size");
    run->add_bos = jstr(r, "add_bos");
    run->pad_text = jstr(r, "pad_text");
    run->eos_text = jstr(r, "eos_text");
    run->bos_text = jstr(r, "bos_text");
    run->pad_id = (int)jnum(r, "pad_id");
    run->eos_id = (int)jnum(r, "eos_id");
    run->bos_id = (int)jnum(r, "bos_id");
    run->eot_token_id = (int)jnum(r, "eot_token_id");
    run->max_length = (int)jnum(r, "max_length");
    run->limit = (int64_t)jnum(r, "limit");
    run->bootstrap_iters = (int)jnum(r, "bootstrap_iters");
    run->random_seed = (int)jnum(r, "random_seed");
    run->numpy_seed = (int)jnum(r, "numpy_seed");
    run->torch_seed = (int)jnum(r, "torch_seed");
    run->fewshot_seed = (int)jnum(r, "fewshot_seed");
    run->start_time = jnum(r, "start_time");
    run->total_seconds = jnum(r, "total_seconds");
    run->env_info = jstr(r, "env_info");

    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(f->root, "tasks"))
    {
        size_t k = f->n_tasks++;
        gq_task *task = &f->tasks[k];
        task->name = jstr(t, "name");
        task->alias = jstr(t, "alias");
        task->version = jstr(t, "version");
        task->eval.hf_id = task->fewshot.hf_id = jstr(t, "dataset_path");
        task->eval.config = task->fewshot.config = jstr(t, "dataset_name");
        task->eval.split = jstr(t, "eval_split");
        task->fewshot.split = jstr(t, "fewshot_split");
        task->has_acc_norm = jbool(t, "has_acc_norm");
        task->group = jstr(t, "group");
        gq_task_result *res = &f->results[k];
        res->task = task;
        res->group = task->group;
        res->num_fewshot = (int)jnum(t, "num_fewshot");
        res->n_original = (int64_t)jnum(t, "n_original");
        res->n_effective = (int64_t)jnum(t, "n_effective");
        res->acc = jnum(t, "acc");
        res->acc_stderr = jnum(t, "acc_stderr");
        res->acc_norm = jnum(t, "acc_norm");
        res->acc_norm_stderr = jnum(t, "acc_norm_stderr");
        res->seconds = jnum(t, "seconds");
        res->n_requests = (int64_t)jnum(t, "n_requests");
        res->task_hash = jstr(t, "task_hash");

        const cJSON *docs = cJSON_GetObjectItemCaseSensitive(t, "docs"), *d;
        size_t nd = (size_t)cJSON_GetArraySize(docs);
        f->n_docs[k] = nd;
        f->docs[k] = calloc(nd, sizeof(gq_doc));
        f->acc[k] = calloc(nd, sizeof(double));
        f->acc_norm[k] = task->has_acc_norm ? calloc(nd, sizeof(double)) : NULL;
        f->ll[k] = calloc(nd * 8, sizeof(double));
        f->greedy[k] = calloc(nd * 8, 1);
        size_t i = 0, off = 0;
        cJSON_ArrayForEach(d, docs)
        {
            gq_doc *g = &f->docs[k][i];
            int nc, nk, nch;
            g->doc_id = (int)jnum(d, "doc_id");
            g->context = jstrings(cJSON_GetObjectItemCaseSensitive(d, "context"), &nc);
            g->continuation = jstrings(cJSON_GetObjectItemCaseSensitive(d, "continuation"), &nk);
            g->choice = jstrings(cJSON_GetObjectItemCaseSensitive(d, "choice"), &nch);
            g->n_req = nc;
            g->gold = (int)jnum(d, "gold");
            g->target = (char *)jstr(d, "target");
            g->doc = cJSON_GetObjectItemCaseSensitive(d, "doc");
            const cJSON *x;
            cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(d, "ll")) f->ll[k][off++] = strtod(x->valuestring, NULL);
            off -= (size_t)nc;
            cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(d, "greedy")) f->greedy[k][off++] = cJSON_IsTrue(x);
            f->acc[k][i] = jnum(d, "acc");
            if (task->has_acc_norm) f->acc_norm[k][i] = jnum(d, "acc_norm");
            i++;
        }
    }
    return f->n_tasks == 6;
}

static gq_samples_input samples_input(const run_fixture *f, size_t k)
{
    gq_samples_input in = {f->docs[k], f->n_docs[k], f->ll[k], f->greedy[k], f->acc[k], f->acc_norm[k]};
    return in;
}

static void test_run(void)
{
    run_fixture f;
    gq_error err;
    if (!test_cond("synthetic run input loads", run_fixture_load(&f))) {
        run_fixture_free(&f);
        return;
    }
    char hashes[8][65];
    const char *dir = test_tmpdir("reports");
    char path[4200], rel[256];

    for (size_t k = 0; k < f.n_tasks; k++) {
        gq_samples_input in = samples_input(&f, k);
        char *got = NULL;
        size_t gl = 0, wl = 0;
        int rc = gq_samples_render(&in, &got, &gl, hashes[k], &err);
        snprintf(rel, sizeof rel, "reports/run_samples_%s.jsonl", f.tasks[k].name);
        char *want = fixture_text(rel, &wl);
        char what[300];
        snprintf(what, sizeof what, "samples_%s.jsonl equals lm-eval's bytes", f.tasks[k].name);
        test_cond(what, rc == GQ_OK && same_text(what, got, gl, want, wl));
        snprintf(what, sizeof what, "task hash of %s equals lm-eval's", f.tasks[k].name);
        test_cond(what, rc == GQ_OK && strcmp(hashes[k], f.results[k].task_hash) == 0);
        gq_free(got);
        free(want);

        /* and through the file writer, into folders that do not exist yet */
        snprintf(path, sizeof path, "%s/a/b/samples_%s.jsonl", dir, f.tasks[k].name);
        rc = gq_samples_write(path, &in, NULL, &err);
        size_t fl = 0;
        char *back = test_read_file(path, &fl);
        want = fixture_text(rel, &wl);
        test_cond("gq_samples_write writes the rendered bytes", rc == GQ_OK && same_text(path, back, fl, want, wl));
        free(back);
        free(want);
    }

    for (int neu = 0; neu < 2; neu++) {
        f.run.neumaier = neu;
        char *got = NULL;
        size_t gl = 0, wl = 0;
        int rc = gq_results_render(&f.run, f.results, f.n_tasks, &got, &gl, &err);
        if (rc != GQ_OK) fprintf(stderr, "results: %s\n", err.msg);
        char *want = fixture_text(neu ? "reports/run_results_neumaier.json" : "reports/run_results_plain.json", &wl);
        if (want) want = with_version(want, &wl);
        test_cond(neu ? "results.json equals lm-eval's bytes (CPython >= 3.12 sum)"
                      : "results.json equals lm-eval's bytes (CPython <= 3.11 sum)",
                  rc == GQ_OK && same_text("results.json", got, gl, want, wl));
        snprintf(path, sizeof path, "%s/out/results.json", dir);
        rc = gq_results_write(path, &f.run, f.results, f.n_tasks, &err);
        size_t fl = 0;
        char *back = test_read_file(path, &fl);
        test_cond("gq_results_write writes the rendered bytes", rc == GQ_OK && same_text(path, back, fl, got, gl));
        free(back);
        free(want);
        gq_free(got);
    }
    /* no temporary files left behind */
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "find '%s' -name '*.tmp.*' | grep -q .", dir);
    test_cond("no temporary files left after atomic writes", system(cmd) != 0);

    // -- errors
    char *out = (char *)"sentinel";
    size_t len = 7;
    f.results[3].group = "mmlu_stemm";
    test_cond("unknown group is GQ_ERR_INVALID",
              gq_results_render(&f.run, f.results, f.n_tasks, &out, &len, &err) == GQ_ERR_INVALID && !out && len == 0 &&
                  strstr(err.msg, "mmlu_stemm"));
    f.results[3].group = f.tasks[3].group;
    f.results[1].task = &f.tasks[0];
    test_cond("duplicate task is GQ_ERR_INVALID",
              gq_results_render(&f.run, f.results, f.n_tasks, &out, &len, &err) == GQ_ERR_INVALID && !out);
    f.results[1].task = &f.tasks[1];
    char *saved = f.docs[0][1].target;
    f.docs[0][1].target = NULL;
    gq_samples_input in = samples_input(&f, 0);
    char h[65];
    test_cond("document without target is GQ_ERR_INVALID",
              gq_samples_render(&in, &out, &len, h, &err) == GQ_ERR_INVALID && !out);
    f.docs[0][1].target = saved;
    snprintf(path, sizeof path, "%s/out/results.json/x.json", dir);
    test_cond("writing below a file fails with GQ_ERR_IO",
              gq_results_write(path, &f.run, f.results, f.n_tasks, &err) == GQ_ERR_IO);

    /* stand-alone subjects (group NULL): no groups key, empty group_subtasks */
    f.results[3].group = f.results[4].group = f.results[5].group = NULL;
    if (gq_results_render(&f.run, f.results, f.n_tasks, &out, &len, &err) == GQ_OK) {
        test_cond("no groups without group members",
                  !strstr(out, "\"groups\"") && strstr(out, "\"group_subtasks\": {},"));
        gq_free(out);
    } else {
        test_cond("render without groups", 0);
    }
    run_fixture_free(&f);
}

// ---- allocation-failure torture ----------------------------------------------------------------

/* Child: render everything once; 0 = an injected failure came back as
 * GQ_ERR_NOMEM, 3 = no failure happened (past the last allocation). */
static int torture_child(void)
{
    run_fixture f;
    gq_error err;
    int rc = GQ_OK, code = 3;
    if (!run_fixture_load(&f)) {
        run_fixture_free(&f);
        return 2;
    }
    /* two sample logs (arc_easy: acc_norm and -inf; openbookqa: one doc)
     * keep the number of injection points, one process each, small */
    for (size_t k = 0; k <= 2 && k < f.n_tasks && rc == GQ_OK; k += 2) {
        gq_samples_input in = samples_input(&f, k);
        char *out = NULL, h[65];
        size_t len;
        rc = gq_samples_render(&in, &out, &len, h, &err);
        gq_free(out);
    }
    if (rc == GQ_OK) {
        char *out = NULL;
        size_t len;
        rc = gq_results_render(&f.run, f.results, f.n_tasks, &out, &len, &err);
        gq_free(out);
    }
    if (rc == GQ_ERR_NOMEM) code = 0;
    else if (rc != GQ_OK) code = 1;
    run_fixture_free(&f);
    return code;
}

static void torture(const char *self)
{
    int n = 1, bad = 0;
    for (; n < 5000; n++) {
        char cmd[4300];
        snprintf(cmd, sizeof cmd, "GQ_FAIL_ALLOC=%d '%s' --torture-child", n, self);
        int st = system(cmd);
        int code = st >= 0 && (st & 0x7f) == 0 ? (st >> 8) & 0xff : -1;
        if (code == 3) break;
        if (code != 0) {
            fprintf(stderr, "GQ_FAIL_ALLOC=%d: exit %d\n", n, code);
            bad++;
        }
    }
    printf("torture: %d injected failures\n", n - 1);
    test_cond("every injected allocation failure is GQ_ERR_NOMEM, cleanly", bad == 0 && n > 10 && n < 5000);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--torture-child") == 0) return torture_child();
    if (argc > 1 && strcmp(argv[1], "--torture") == 0) {
        torture(argv[0]);
        return test_report("test_reports --torture");
    }
    test_sha256();
    test_floats();
    test_strings();
    test_trees();
    test_names();
    test_groups();
    test_run();
    return test_report("test_reports");
}
