/* report.h — what gqla-eval makes of finished runs: the run manifest
 * DIR/gqla_run.json read back, the report (paper table, cross-path
 * consistency, KV cache) in Markdown, LaTeX, CSV and HTML, the regression
 * gate with its JUnit file, `compare` of two results files, and the
 * attention roofline.
 *
 * What it is not: nothing here runs a model.  The main command (harness/
 * cmd_eval.c) writes the results files and the manifest, then calls
 * gq_report_write_all and, when a gate option was given, gq_gate_check.
 * `gqla-eval report DIR...` calls gq_report_write_all on saved folders: the
 * report depends on the manifest alone (no clock, no locale, no other
 * file), so a second run writes the same bytes.
 *
 * Ownership: inputs are borrowed; gq_manifest is owned by the caller of
 * gq_manifest_load and released with gq_manifest_free (NULL-safe).
 * Failure contract: every int function returns GQ_OK or a negative
 * gq_status and fills err naming the file and the key; on failure no output
 * file was replaced (each file is rendered in full, then written to a
 * temporary name and renamed), and out-parameters are zero.
 *
 * Tests: tests/test_report*.c (tests/report.cmake).
 *
 * ---- DIR/gqla_run.json: format "gqla-run", version 1 -----------------------------
 * (the contract with the main command; numbers are JSON numbers, null when
 * unknown; a key left out reads as null)
 *
 * {
 *   "format": "gqla-run", "version": 1,
 *   "tool": "gqla-eval 0.1.0",
 *   "command": "gqla-eval --model ... (argv joined by spaces)",
 *   "note": null,                   // e.g. "small generated model (PyPI unreachable): ..."
 *   "started_unix": 1764530000.0, "wall_seconds": 812.5, "peak_rss_bytes": 734003200,
 *   "invocations": 1,               // > 1: a resumed run; started_unix is the first invocation's,
 *                                   // wall_seconds the sum, peak_rss_bytes the largest of them
 *   "earlier_untimed": false,       // true: invocations before these were not timed (a journal
 *                                   // from a gqla-eval without the clock)
 *   "limit": 200,                   // null = full
 *   "num_fewshot": 0,
 *   "arc_split": false,             // report arc_easy and arc_challenge as two columns
 *   "models": {
 *     "original":  {"path": "models/x.gguf", "arch": "llama", "dtype": "q4_1", "n_params": 134515008,
 *                   "layers": 30, "H": 9, "G": 3, "head_dim": 64},
 *     "converted": {"path": "out/conv", "arch": "gqla", "dtype": "f32", "n_params": 0,
 *                   "layers": 30, "H": 9, "G": 3, "d_n": 64, "d_r": 32, "d_v": 64, "r": 160}
 *   },
 *   "runs": [   // original first, then converted per path in --paths order
 *     {"id": "original", "model": "original", "path": "native",
 *      "results_file": "results_original.json", "seconds": 120.2,
 *      "kv_cache": {"elements_per_token_per_layer": 384, "layers": 30},
 *      "tasks": {   // every leaf task run, plus "mmlu" (size-weighted group) when mmlu ran
 *        "arc_easy":   {"acc": 0.51, "acc_stderr": 0.01, "acc_norm": 0.46, "acc_norm_stderr": 0.01, "n": 2376},
 *        "winogrande": {"acc": 0.50, "acc_stderr": 0.014, "acc_norm": null, "acc_norm_stderr": null, "n": 1267},
 *        "mmlu":       {"acc": 0.23, ...}, "mmlu_anatomy": {...}}},
 *     {"id": "converted_gqa", "model": "converted", "path": "gqa", ...,
 *      "kv_cache": {"elements_per_token_per_layer": 416, "layers": 30, "elements_kpe_per_group": 480}},
 *     {"id": "converted_absorb", "model": "converted", "path": "absorb", ...}
 *   ],
 *   "consistency": [   // one entry per pair of runs of the same model on different paths
 *     {"a": "converted_gqa", "b": "converted_absorb",
 *      "tasks": {"arc_easy": {"n_requests": 9500, "n_docs": 2376, "max_abs_dll": 3.1e-5,
 *                             "mean_abs_dll": 2.0e-6, "agreement": 1.0, "acc_a": 0.51, "acc_b": 0.51,
 *                             "acc_norm_a": 0.46, "acc_norm_b": 0.46,
 *                             "worst": {"doc": 17, "request": 2}}, ...}}
 *   ]
 * }
 * Task keys are lm-eval leaf names (arc_easy, arc_challenge, piqa, hellaswag,
 * openbookqa, winogrande, mmlu_<subject>) plus the group "mmlu".  A run may
 * hold any subset of the six tasks; tables show "–" for missing ones.
 * Required: format, version, runs[] with id, model, path and tasks; a
 * consistency entry's a and b must name runs.  Everything else may be null.
 *
 * ---- which metric each column shows ------------------------------------------------
 * The paper table follows the GQLA preprint's scripts (tasks.md §10.1): a
 * task's acc_norm when lm-eval reports one, else acc.  So ARC, PIQA,
 * HellaSwag and OpenBookQA show acc_norm (log-likelihood / code points of
 * the choice, §2.6); MMLU and WinoGrande show acc (they have no acc_norm).
 * One ARC column is the unweighted mean of arc_easy and arc_challenge (as
 * lighteval's arc:_average, §10.2); arc_split gives two columns instead.
 * Avg is the unweighted mean of the columns the row has.  Values are
 * percent with 2 decimals; converted rows add (Δ) = converted − original in
 * points, computed from the unrounded fractions.  The gate and `compare`
 * use the same rule per task.
 */
#ifndef GQ_REPORT_H
#define GQ_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "gq_error.h"

// ---- the manifest -----------------------------------------------------------------------

/* Metrics of one task in one run; NAN = null, n = -1 when null. */
typedef struct gq_manifest_task {
    char *name;
    double acc, acc_stderr, acc_norm, acc_norm_stderr;
    int64_t n;
} gq_manifest_task;

typedef struct gq_manifest_run {
    char *id;               /* "original", "converted_gqa", ... */
    char *model;            /* "original" or "converted" */
    char *path;             /* "native", "gqa", "absorb", "expanded" */
    char *results_file;     /* NULL when null */
    double seconds;         /* NAN when null */
    int64_t kv_elems;       /* cache elements per token per layer; -1 when unknown */
    int64_t kv_layers;      /* -1 when unknown */
    int64_t kv_elems_kpe_per_group;  /* gqa with k_pe per group; -1 when not given */
    int64_t kv_elems_rank;  /* under --tp: the largest rank's elements per token per layer; -1 when not given */
    gq_manifest_task *tasks;
    size_t n_tasks;
} gq_manifest_run;

typedef struct gq_manifest_pair_task {
    char *name;
    int64_t n_requests, n_docs;         /* -1 when null */
    double max_abs_dll, mean_abs_dll;   /* NAN when null */
    double agreement;                   /* fraction of documents with the same prediction */
    double acc_a, acc_b, acc_norm_a, acc_norm_b;
    int64_t worst_doc, worst_request;   /* -1 when null */
} gq_manifest_pair_task;

typedef struct gq_manifest_pair {
    char *a, *b;            /* run ids */
    gq_manifest_pair_task *tasks;
    size_t n_tasks;
} gq_manifest_pair;

/* models.original / models.converted; present = 0 when absent or null.
 * Integers are -1 when null. */
typedef struct gq_manifest_model {
    int present;
    char *path, *arch, *dtype;
    int64_t n_params, layers, H, G, head_dim, d_n, d_r, d_v, r;
} gq_manifest_model;

typedef struct gq_manifest {
    char *file;             /* the path it was read from (for messages) */
    char *tool, *command, *note;
    double started_unix, wall_seconds;  /* NAN when null */
    int64_t peak_rss_bytes;             /* -1 when null */
    int64_t invocations;                /* -1 when null (read as one) */
    int earlier_untimed;
    int64_t limit;                      /* -1 = full (null) */
    int64_t num_fewshot;                /* -1 when null */
    int arc_split;
    /* "parallel" (optional; absent in older manifests: -1 / NULL) */
    int64_t world_size, data_parallel, tp, merged_shards;
    char *shard;                        /* "K/N" of a --shard run, else NULL */
    gq_manifest_model original, converted;
    gq_manifest_run *runs;
    size_t n_runs;
    gq_manifest_pair *pairs;
    size_t n_pairs;
} gq_manifest;

/* Read and check DIR/gqla_run.json.  Errors: GQ_ERR_IO (missing file),
 * GQ_ERR_FORMAT (bad JSON, with line and column), GQ_ERR_INVALID naming the
 * key ("runs[1].tasks.piqa.acc: expected a number in [0, 1] or null"). */
int gq_manifest_load(gq_manifest **out, const char *dir, gq_error *err);
/* Same, from text already in memory; `file` names it in messages. */
int gq_manifest_parse(gq_manifest **out, const char *text, size_t len, const char *file, gq_error *err);
void gq_manifest_free(gq_manifest *m);

const gq_manifest_run *gq_manifest_find_run(const gq_manifest *m, const char *id);
const gq_manifest_task *gq_manifest_find_task(const gq_manifest_run *run, const char *name);

// ---- the report ---------------------------------------------------------------------------

/* Render the four report files of a manifest in memory (heap strings the
 * caller frees with gq_free; lengths without the NUL). */
typedef struct gq_report_texts {
    char *md, *tex, *csv, *html;
    size_t md_len, tex_len, csv_len, html_len;
} gq_report_texts;
int gq_report_render_all(const gq_manifest *m, gq_report_texts *out, gq_error *err);
void gq_report_texts_free(gq_report_texts *t);

/* Read DIR/gqla_run.json and write DIR/report.md, report.tex, report.csv and
 * report.html, each atomically.  All four are rendered before any is
 * written. */
int gq_report_write_all(const char *dir, gq_error *err);

// ---- the gate -----------------------------------------------------------------------------

typedef struct gq_gate_opts {
    int has_max_drop;      double max_drop_pp;     /* per task and average, converted (each path) vs original, points */
    int has_max_path_diff; double max_path_diff;   /* max |Δ log-likelihood| between the converted model's paths */
    const char *junit_path;                        /* NULL: no JUnit file */
} gq_gate_opts;

/* Checks from DIR/gqla_run.json:
 *   max_drop: for every converted run and every task column of the paper
 *     table the two runs share (mmlu, arc_easy, arc_challenge, piqa,
 *     hellaswag, openbookqa, winogrande; metric as the table), one check
 *     100*(original − converted) <= max_drop_pp; plus one per converted run
 *     for the average over the paper-table columns both rows have (the
 *     table's Avg when they have the same columns).
 *   max_path_diff: one check per (consistency pair, task): max_abs_dll <=
 *     max_path_diff (null fails: the agreement is unknown).
 * Failing rows go to stderr, one line each, then a summary line.  JUnit XML
 * (one <testsuite> per kind of check) is written atomically when
 * o->junit_path is set.  *n_failed = failed checks.  A gate that would check
 * nothing (no original run, no shared task, no consistency entry) is an
 * error (GQ_ERR_INVALID), not a pass. */
int gq_gate_check(const char *dir, const gq_gate_opts *o, int *n_failed, gq_error *err);

// ---- JUnit --------------------------------------------------------------------------------

typedef struct gq_junit_case {
    const char *suite;      /* <testsuite name>; cases of one suite are adjacent */
    const char *classname;
    const char *name;
    double seconds;
    const char *failure;    /* NULL = passed; else the failure message */
} gq_junit_case;

/* <testsuites name=.. tests=.. failures=..> with one <testsuite> per run of
 * equal suite names; text XML-escaped.  Heap string (gq_free). */
int gq_junit_render(const char *name, const gq_junit_case *cases, size_t n, char **out, size_t *len,
                    gq_error *err);
int gq_junit_write(const char *path, const char *name, const gq_junit_case *cases, size_t n, gq_error *err);

// ---- compare --------------------------------------------------------------------------------

/* Compare two lm-eval-layout results files: for each task in both
 * "results" objects, the main metric (acc_norm,none when BASE has it,
 * else acc,none) and the change in points.  Prints a table to f, the
 * failing rows marked; *n_failed = shared tasks that dropped more than
 * max_drop_pp points.  JUnit (one case per shared task) when junit_path.
 * Errors: missing or bad JSON (line/column), no "results" object, no task
 * in common. */
int gq_compare_files(const char *base_path, const char *new_path, double max_drop_pp, const char *junit_path,
                     FILE *f, int *n_failed, gq_error *err);

// ---- roofline -------------------------------------------------------------------------------

/* Arithmetic intensity of decode-time attention, per layer and per cached
 * token (so sequence length and layer count cancel):
 *   bytes  = E * b            E cache elements per token per layer, b bytes per element
 *   FLOPs  = s_q * H * 2 * m  m multiply-adds per head, query and cached token
 *   native  (GQA)    E = 2*Hkv*Dh               m = Dh + Dh            (q.k, p*v)
 *   gqa     (GQLA)   E = G*(d_n+d_v) + d_r      m = (d_n+d_r) + d_v
 *   gqa_kpe (GQLA)   E = G*(d_n+d_r+d_v)        m = (d_n+d_r) + d_v    (k_pe per group)
 *   absorb  (MLA/GQLA) E = r + d_r              m = (r+d_r) + r        (q~.[c;k_pe], p*c)
 *   expanded (MLA)   E = H*(d_n+d_r+d_v)        m = (d_n+d_r) + d_v
 * intensity = FLOPs / bytes.  Left out: softmax, the query/output traffic
 * and the absorbed projections (per query, not per cached token), so this
 * is the asymptote for long contexts.  s_q queries (multi-token prediction,
 * speculative decoding) share one read of the cache.  The hardware ridge is
 * peak FLOP/s / bytes/s; below it the path is memory-bound. */
typedef struct gq_roofline_point {
    const char *path;       /* "native", "gqa", "gqa_kpe", "absorb", "expanded" */
    int64_t cache_elems;    /* E */
    int64_t macs_per_head;  /* m */
    int64_t bytes;          /* E * b */
    double flops;           /* s_q * H * 2 * m */
    double intensity;       /* FLOP per byte */
} gq_roofline_point;

/* The attention shape the table needs, copied out of a model's config by
 * the caller (reports/ does not read configs: engine/ is not below it). */
typedef enum gq_roofline_kind {
    GQ_ROOFLINE_GQA = 0,    /* llama, mistral, qwen2, ...: native path */
    GQ_ROOFLINE_GQLA,
    GQ_ROOFLINE_MLA
} gq_roofline_kind;

typedef struct gq_roofline_attn {
    gq_roofline_kind kind;
    int64_t H, G;           /* num_attention_heads, num_key_value_heads */
    int64_t head_dim;       /* GQA */
    int64_t dn, dr, dv, r;  /* GQLA/MLA: qk_nope_head_dim, qk_rope_head_dim, v_head_dim, kv_lora_rank */
} gq_roofline_attn;

/* The paths a model has, in this order: native (GQA models); gqa,
 * gqa_kpe, absorb (GQLA); absorb, expanded (MLA).  Returns how many were
 * written to out (at most 4). */
size_t gq_roofline_points(const gq_roofline_attn *a, int s_q, int dtype_bytes, gq_roofline_point out[4]);

typedef struct gq_roofline_hw {
    const char *name;
    double flops;           /* peak FLOP/s (dense bf16) */
    double bandwidth;       /* bytes/s */
} gq_roofline_hw;
/* Built-ins: "h100" (H100 SXM, 989e12 FLOP/s bf16, 3.35e12 B/s) and "h20"
 * (148e12, 4.0e12).  NULL for another name. */
const gq_roofline_hw *gq_roofline_hw_find(const char *name);

#endif
