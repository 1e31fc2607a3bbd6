/* test_bounds.c — hostile input files against the resources they could
 * make gqla-eval spend.  Each case writes one small (or one 10 MB) file, runs
 * the CLI on it in a child (fork + exec + wait4) and checks: exit 2, a
 * message naming the file and what is wrong, a peak RSS under BOUND_MB (the
 * file claims gigabytes; the child's getrusage ru_maxrss says what it took)
 * and a wall time under BOUND_S.
 *
 * Usage: test_bounds CASE, CASE one of
 *   st_header_len      safetensors header length of 64 GiB in a 1 KiB file
 *   st_shape_overflow  a shape whose element count overflows 64 bits
 *   gguf_counts        GGUF claiming 2^40 tensors and metadata entries
 *   gguf_array         a GGUF string array of 2^50 elements
 *   json_nesting       config.json nested 200000 arrays deep (no stack overflow)
 *   run_json_nesting   gqla_run.json nested as deep, through `report`
 *   tokenizer_nesting  tokenizer.json nested as deep
 *   tokenizer_regex    a pre-tokenizer regex that backtracks exponentially
 *   tokenizer_merges   a tokenizer.json with 2 million merges (may load: then exit 0)
 *   tokenizer_sparse_id a tokenizer.json naming token id 2^31 - 2 (id-indexed
 *                      tables of 27 GB; found by fuzz_tokenizer)
 *   dataset_row        a PIQA file whose single line is 10 MB
 *   dataset_csv_row    an MMLU CSV whose single record is 10 MB */
#define _DEFAULT_SOURCE /* wait4 */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "main_fixtures.h"
#include "testutil.h"

#define BOUND_MB 400.0 /* generous: the sanitizer build's shadow memory counts too */
#define BOUND_S 120.0
#define DEEP 200000

static char root[4096];

typedef struct child_result {
    int code;        /* exit status, -1 when killed by a signal */
    double rss_mb;   /* peak resident set */
    double seconds;
    char *output;    /* stdout + stderr */
} child_result;

/* gqla-eval argv[0..] in a child, output to a file; resources from wait4. */
static child_result run_cli(const char *const *argv)
{
    child_result r = {-1, 0, 0, NULL};
    char out_path[4200];
    snprintf(out_path, sizeof out_path, "%s/output.txt", root);
    double t0 = mf_now();
    pid_t pid = fork();
    if (pid < 0) return r;
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        const char *args[16];
        size_t n = 0;
        args[n++] = getenv("GQ_CLI");
        for (; argv[n - 1] && n < 15; n++) args[n] = argv[n - 1];
        args[n] = NULL;
        execv(args[0], (char *const *)args);
        _exit(127);
    }
    int st = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    if (wait4(pid, &st, 0, &ru) < 0) return r;
    r.seconds = mf_now() - t0;
    r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.rss_mb = (double)ru.ru_maxrss / 1024.0; /* KiB on Linux */
    r.output = test_read_file(out_path, NULL);
    return r;
}

/* The verdict: exit 2 (or ok_exit when ok_exit >= 0 and the file loads),
 * every needle in the message, RSS and time within the bounds. */
static void check(const char *what, child_result r, int ok_exit, const char *const *needles)
{
    printf("%s: exit %d, peak RSS %.1f MB, %.2f s\n%.600s\n", what, r.code, r.rss_mb, r.seconds,
           r.output ? r.output : "");
    char msg[512];
    int refused = r.code == 2;
    snprintf(msg, sizeof msg, "%s: exit 2%s", what, ok_exit >= 0 ? " (or a clean load)" : "");
    test_cond(msg, refused || (ok_exit >= 0 && r.code == ok_exit));
    for (size_t i = 0; refused && needles && needles[i]; i++) {
        snprintf(msg, sizeof msg, "%s: the message says '%s'", what, needles[i]);
        test_cond(msg, test_has(r.output, needles[i]));
    }
    snprintf(msg, sizeof msg, "%s: peak memory %.1f MB <= %.0f MB", what, r.rss_mb, BOUND_MB);
    test_cond(msg, r.rss_mb > 0 && r.rss_mb <= BOUND_MB);
    snprintf(msg, sizeof msg, "%s: %.2f s <= %.0f s", what, r.seconds, BOUND_S);
    test_cond(msg, r.seconds <= BOUND_S);
    free(r.output);
}

// ---- file builders ---------------------------------------------------------------------------------

static void put_u32(unsigned char **p, uint32_t v)
{
    memcpy(*p, &v, 4);
    *p += 4;
}

static void put_u64(unsigned char **p, uint64_t v)
{
    memcpy(*p, &v, 8);
    *p += 8;
}

static void put_str(unsigned char **p, const char *s)
{
    put_u64(p, strlen(s));
    memcpy(*p, s, strlen(s));
    *p += strlen(s);
}

/* A model folder: the llama-gqa fixture's config.json, plus `name` = data. */
static const char *model_dir_with(const char *name, const void *data, size_t n)
{
    static char dir[4200];
    char path[4400];
    snprintf(dir, sizeof dir, "%s/model", root);
    mkdir(dir, 0777);
    size_t cn = 0;
    char *cfg = test_read_file(test_fixture("forward/llama-gqa-f32/config.json"), &cn);
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (!cfg || test_write_file(path, cfg, cn) != 0) fprintf(stderr, "cannot write %s\n", path);
    free(cfg);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (test_write_file(path, data, n) != 0) fprintf(stderr, "cannot write %s\n", path);
    return dir;
}

/* "[[[...]]]" DEEP levels (heap, caller frees). */
static char *deep_json(size_t *n)
{
    char *s = malloc(2 * DEEP + 1);
    if (!s) return NULL;
    memset(s, '[', DEEP);
    memset(s + DEEP, ']', DEEP);
    s[2 * DEEP] = '\0';
    *n = 2 * DEEP;
    return s;
}

/* The byte-level tokenizer of main_fixtures with `edit` applied. */
static const char *tokenizer_model(void (*edit)(cJSON *tok))
{
    static char dir[4200];
    snprintf(dir, sizeof dir, "%s/tokmodel", root);
    if (mf_write_original(dir) != 0) return dir;
    cJSON *tok = mf_read_json(dir, "tokenizer.json");
    if (tok) edit(tok);
    char *text = tok ? cJSON_PrintUnformatted(tok) : NULL;
    char path[4400];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    if (!text || test_write_file(path, text, strlen(text)) != 0) fprintf(stderr, "cannot write %s\n", path);
    free(text);
    cJSON_Delete(tok);
    return dir;
}

static void edit_regex(cJSON *tok)
{
    cJSON *pre = cJSON_Parse("{\"type\": \"Sequence\", \"pretokenizers\": ["
                             "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"(a|aa)+$\"}, \"behavior\": \"Isolated\","
                             " \"invert\": false},"
                             "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true,"
                             " \"use_regex\": false}]}");
    cJSON_ReplaceItemInObjectCaseSensitive(tok, "pre_tokenizer", pre);
}

static void edit_merges(cJSON *tok)
{
    /* 2 million merges: one valid pair ("a" "b" -> "ab", added to the vocab)
     * repeated, as a hostile file can repeat it. */
    cJSON *model = cJSON_GetObjectItemCaseSensitive(tok, "model");
    cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    /* "ab" takes the id of the vocabulary's last token (the model's size stays) */
    cJSON *last = vocab ? vocab->child : NULL;
    while (last && last->next) last = last->next;
    if (last) {
        double id = last->valuedouble;
        cJSON_DeleteItemFromObjectCaseSensitive(vocab, last->string);
        cJSON_AddNumberToObject(vocab, "ab", id);
    }
    cJSON *merges = cJSON_CreateArray();
    for (int i = 0; i < 2000000; i++) cJSON_AddItemToArray(merges, cJSON_CreateString("a b"));
    cJSON_ReplaceItemInObjectCaseSensitive(model, "merges", merges);
}

static void edit_sparse_id(cJSON *tok)
{
    cJSON *vocab = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tok, "model"), "vocab");
    cJSON_AddNumberToObject(vocab, "far", 2147483646.0);
}

/* A data dir holding rel = one line (or record) of ~10 MB. */
static const char *data_dir_with(const char *rel, const char *head, char fill, const char *tail)
{
    static char dir[4200];
    snprintf(dir, sizeof dir, "%s/data", root);
    char path[4600], cmd[9000];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
    if (system(cmd) != 0) fprintf(stderr, "cannot make the folder of %s\n", path);
    size_t big = 10u << 20, hl = strlen(head), tl = strlen(tail);
    char *s = malloc(hl + big + tl);
    if (!s) return dir;
    memcpy(s, head, hl);
    memset(s + hl, fill, big);
    memcpy(s + hl + big, tail, tl);
    if (test_write_file(path, s, hl + big + tl) != 0) fprintf(stderr, "cannot write %s\n", path);
    free(s);
    return dir;
}

/* dir/name = DEEP nested arrays; the command must refuse it as too deep. */
static void deep_case(const char *c, const char *dir, const char *name, const char *const *argv)
{
    size_t n = 0;
    char *deep = deep_json(&n);
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!deep || test_write_file(path, deep, n) != 0) fprintf(stderr, "cannot write %s\n", path);
    free(deep);
    const char *needles[] = {name, "nested deeper than", NULL};
    check(c, run_cli(argv), -1, needles);
}

// ---- the cases ---------------------------------------------------------------------------------------

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_bounds CASE (see the file's header)\n");
        return 2;
    }
    const char *c = argv[1];
    char name[80];
    snprintf(name, sizeof name, "bounds_%s", c);
    snprintf(root, sizeof root, "%s", test_tmpdir(name));
    unsigned char buf[1024];
    memset(buf, 0, sizeof buf);
    unsigned char *p = buf;

    if (!strcmp(c, "st_header_len")) {
        put_u64(&p, (uint64_t)64 << 30);
        memcpy(p, "{\"a\":", 5);
        const char *dir = model_dir_with("model.safetensors", buf, sizeof buf);
        const char *a[] = {"info", dir, NULL};
        const char *needles[] = {"model.safetensors", "header length", NULL};
        check(c, run_cli(a), -1, needles);
    } else if (!strcmp(c, "st_shape_overflow")) {
        const char *h = "{\"model.embed_tokens.weight\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],"
                        "\"data_offsets\":[0,16]}}";
        put_u64(&p, strlen(h));
        memcpy(p, h, strlen(h));
        const char *dir = model_dir_with("model.safetensors", buf, 8 + strlen(h) + 16);
        const char *a[] = {"info", dir, NULL};
        const char *needles[] = {"model.safetensors", "model.embed_tokens.weight", NULL};
        check(c, run_cli(a), -1, needles);
    } else if (!strcmp(c, "gguf_counts") || !strcmp(c, "gguf_array")) {
        memcpy(p, "GGUF", 4);
        p += 4;
        put_u32(&p, 3);
        int arr = !strcmp(c, "gguf_array");
        put_u64(&p, arr ? 0 : (uint64_t)1 << 40); /* tensors */
        put_u64(&p, arr ? 1 : (uint64_t)1 << 40); /* metadata entries */
        if (arr) {
            put_str(&p, "tokenizer.ggml.tokens");
            put_u32(&p, 9);                   /* array */
            put_u32(&p, 8);                   /* of strings */
            put_u64(&p, (uint64_t)1 << 50);   /* claimed count */
        }
        char path[4400];
        snprintf(path, sizeof path, "%s/hostile.gguf", root);
        test_write_file(path, buf, sizeof buf);
        const char *a[] = {"info", path, NULL};
        const char *needles[] = {"hostile.gguf", "cannot fit", NULL};
        check(c, run_cli(a), -1, needles);
    } else if (!strcmp(c, "json_nesting")) {
        const char *dir = model_dir_with("config.json", "", 0);
        const char *a[] = {"info", dir, NULL};
        deep_case(c, dir, "config.json", a);
    } else if (!strcmp(c, "run_json_nesting")) {
        const char *a[] = {"report", root, NULL};
        deep_case(c, root, "gqla_run.json", a);
    } else if (!strcmp(c, "tokenizer_nesting")) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/tokmodel", root);
        mf_write_original(dir);
        const char *a[] = {"tokenize", dir, "--text", "hello", NULL};
        deep_case(c, dir, "tokenizer.json", a);
    } else if (!strcmp(c, "tokenizer_regex")) {
        const char *dir = tokenizer_model(edit_regex);
        char text[128];
        memset(text, 'a', 100);
        strcpy(text + 100, "b");
        const char *a[] = {"tokenize", dir, "--text", text, NULL};
        const char *needles[] = {"tokenizer.json", "Split regex", "HINT", NULL};
        check(c, run_cli(a), -1, needles);
    } else if (!strcmp(c, "tokenizer_merges")) {
        const char *dir = tokenizer_model(edit_merges);
        const char *a[] = {"tokenize", dir, "--text", "abab", NULL};
        const char *needles[] = {"tokenizer.json", NULL};
        check(c, run_cli(a), 0, needles);
    } else if (!strcmp(c, "tokenizer_sparse_id")) {
        const char *dir = tokenizer_model(edit_sparse_id);
        const char *a[] = {"tokenize", dir, "--text", "abab", NULL};
        const char *needles[] = {"tokenizer.json", "2147483646", "far beyond", NULL};
        check(c, run_cli(a), 2, needles);
    } else if (!strcmp(c, "dataset_row") || !strcmp(c, "dataset_csv_row")) {
        int csv = !strcmp(c, "dataset_csv_row");
        const char *data = csv ? data_dir_with("mmlu/data/test/anatomy_test.csv", "\"", 'x', "\",a,b,c,d,A\n")
                               : data_dir_with("piqa/valid.jsonl", "{\"goal\": \"", 'x', "\", \"sol1\": \"a\", "
                                                                                        "\"sol2\": \"b\"}\n");
        if (!csv) {
            char path[4600];
            snprintf(path, sizeof path, "%s/piqa/valid-labels.lst", data);
            test_write_file(path, "0\n", 2);
        }
        char orig[4200];
        snprintf(orig, sizeof orig, "%s/original", root);
        mf_write_original(orig);
        const char *a[] = {"--model", orig, "--tasks", csv ? "mmlu_anatomy" : "piqa", "--data-dir", data,
                           "--limit", "1", "--quiet", NULL};
        const char *needles[] = {csv ? "anatomy_test.csv: record 1" : "valid.jsonl: line 1", "more than the 1024 KiB",
                                 NULL};
        check(c, run_cli(a), -1, needles);
    } else {
        fprintf(stderr, "test_bounds: unknown case '%s'\n", c);
        return 2;
    }
    return test_report(name);
}
