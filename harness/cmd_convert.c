/* cmd_convert.c — `gqla-eval convert`: TransGQLA from a GQA checkpoint
 * (conversion.md §3, engine/convert/gqa_convert.h), writing a GQLA folder
 * (§5) that this harness loads under both decoding paths.
 *
 * Order: parse and validate everything (exit 2, nothing written) -> open
 * the source with weights -> calibration tokens -> two calibration passes
 * -> write into DIR.tmp-XXXXXX -> self check (GQA path vs absorb path on
 * a calibration sample, §6.3) and optional perplexity before/after ->
 * gqla_meta.json -> rename to DIR.  A failure at any step removes the temp
 * folder; DIR appears only complete. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib.h"
#include "calib_task.h"
#include "cli.h"
#include "fileio.h"
#include "gq_alloc.h"
#include "gqa.h"
#include "mla.h"
#include "model.h"
#include "progress.h"

static const char *convert_help =
    "Usage: gqla-eval convert --model SRC --output DIR\n"
    "                         (--calib-tokens FILE | --calib FILE|TASK [--calib-samples N]\n"
    "                          [--calib-seqlen L] [--seed S] [--calib-split S] [--data-dir DIR])\n"
    "                         [--rope-dim DR] [--freqfold FF] [--kv-lora-rank R]\n"
    "                         [--q-lora-rank RQ] [--balance-kv-ratio B] [--dtype f32|bf16]\n"
    "                         [--eval-ppl FILE [--ppl-ctx N]] [--reference partial-rope]\n"
    "                         [--threads N] [--quiet]\n"
    "\n"
    "TransGQLA (--from gqa, the default for GQA sources): converts a GQA checkpoint\n"
    "(llama, mistral, qwen2, SmolLM; HF folder or GGUF) into a GQLA checkpoint:\n"
    "RoRoPE with FreqFold, RoPE kept on d_r dims, balanced K/V, joint PCA of\n"
    "[k_nope; v] to rank R with the up-projection per KV group, the RoPE part\n"
    "of the key absorbed into the query, softmax scale fixed (conversion.md §3).\n"
    "\n"
    "  --model SRC           source model (also accepted as the first positional):\n"
    "                        folder, .gguf file, or Hub id ORG/NAME[@REV][:FILE.gguf]\n"
    "  --output DIR          output folder; must not exist.  Written as\n"
    "                        DIR.tmp-XXXXXX and renamed at the end.\n"
    "  --calib-tokens FILE   calibration samples, one per line, token ids separated\n"
    "                        by single spaces\n"
    "  --calib FILE          plain-text calibration: N samples of L tokens drawn by a\n"
    "                        seeded splitmix64 sampler over the file's non-empty lines\n"
    "                        (engine/convert/calib.h); error if the text is too short\n"
    "  --calib TASK          the same sampler over a task's prompts: each document's\n"
    "                        context + gold continuation, zero-shot, from the task's\n"
    "                        few-shot split (ARC/OBQA/PIQA/HellaSwag/WinoGrande train,\n"
    "                        MMLU dev), never the split it scores; a list such as\n"
    "                        arc_easy,openbookqa concatenates.  Used when no file of\n"
    "                        that name exists.  --calib-split S picks another split;\n"
    "                        --data-dir DIR / --offline as for eval\n"
    "  --calib-samples N     default 128     --calib-seqlen L   default 256\n"
    "  --seed S              default 42\n"
    "  --rope-dim DR         RoPE width kept (qk_rope_head_dim); default d/2.\n"
    "                        c = d/DR must divide d/2.\n"
    "  --freqfold FF         frequencies per PCA block, a multiple of c dividing d/2;\n"
    "                        default c.  'auto': try c, 2c, 4c, ... and keep the one\n"
    "                        whose partial-RoPE model has the lowest perplexity on\n"
    "                        held-out calibration samples (the last n/8); doubling\n"
    "                        stops at the first candidate that does not improve\n"
    "  --kv-lora-rank R      latent rank, 1 .. 2*G*d - DR; default min(512, that)\n"
    "  --q-lora-rank RQ      query LoRA rank via PCA (1 .. H*d); default none\n"
    "  --balance-kv-ratio B  K/V balance ratio beta; default 1\n"
    "  --dtype f32|bf16      dtype of the written attention tensors (default f32)\n"
    "  --eval-ppl FILE       perplexity of the text before and after (as `ppl`),\n"
    "                        recorded in gqla_meta.json; --ppl-ctx N (default 512)\n"
    "  --reference partial-rope\n"
    "                        write the partial-RoPE reference model of §3.2.4 (the\n"
    "                        model a full-rank conversion reproduces exactly)\n"
    "  --latent-norm         insert kv_a_layernorm (and q_a_layernorm with --q-lora-rank)\n"
    "                        initialised as TransMLA does (§3.6): NOT function-\n"
    "                        preserving, a starting point for fine-tuning\n"
    "  --export-mla-view     write kv_b_proj repeated to one block per query head and\n"
    "                        num_key_value_heads = H: the same function in the stock\n"
    "                        DeepSeek MLA layout (paths absorb / expanded)\n"
    "  --threads N, --quiet, --device cpu (cuda exits 2: the calibration forward runs on the CPU)\n"
    "\n"
    "--from mla (MLA source, e.g. DeepSeek-V2/V3; engine/convert/mla.h, §4):\n"
    "  --groups G            KV groups, dividing num_attention_heads (required)\n"
    "  --grouping neighbor|similarity   head grouping (default neighbor)\n"
    "  --hessian-nll         NLL token weights for the statistics (§4.2)\n"
    "--from defaults to the source's kind.  MLA-only options are refused for a GQA\n"
    "source and GQA-only ones (--rope-dim, --freqfold, --kv-lora-rank,\n"
    "--q-lora-rank, --balance-kv-ratio, --reference) for an MLA source.\n"
    "Exit status: 0 ok, 2 bad input (nothing written).\n";

typedef struct convert_args {
    const char *model, *output, *calib, *calib_tokens, *eval_ppl, *freqfold_arg, *from;
    const char *calib_split;   /* --calib TASK: split other than the few-shot one */
    gq_dataset_opts data;      /* --calib TASK: where rows come from */
    long calib_samples, calib_seqlen, ppl_ctx, threads;
    unsigned long long seed;
    gq_gqa_opts opts;
    gq_dtype dtype;
    int quiet, reference;
    const char *mla_only;   /* first MLA-only option seen */
    const char *gqa_only;   /* first GQA-only option seen */
    long groups;            /* --groups G (MLA) */
    const char *grouping;   /* --grouping neighbor|similarity (MLA) */
    int hessian_nll;
    int mla_view;           /* --export-mla-view */
} convert_args;

static int parse_double(const char *s, double *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (!end || end == s || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, convert_args *a)
{
    memset(a, 0, sizeof *a);
    a->calib_samples = 128;
    a->calib_seqlen = 256;
    a->seed = 42;
    a->ppl_ctx = 512;
    a->dtype = GQ_DTYPE_F32;
    a->freqfold_arg = "c";
    long v;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        int has = i + 1 < argc;
#define NEED_INT(lo, hi, dst, msg)                                                 \
    do {                                                                           \
        if (!has || cli_parse_int(argv[++i], (lo), (hi), &v)) return cli_usage_error("convert", msg); \
        dst = v;                                                                   \
    } while (0)
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            fputs(convert_help, stdout);
            return -1;
        } else if (!strcmp(o, "--model") && has) {
            a->model = argv[++i];
        } else if (!strcmp(o, "--output") && has) {
            a->output = argv[++i];
        } else if (!strcmp(o, "--from") && has) {
            a->from = argv[++i];
        } else if (!strcmp(o, "--calib") && has) {
            a->calib = argv[++i];
        } else if (!strcmp(o, "--calib-split") && has) {
            a->calib_split = argv[++i];
        } else if (!strcmp(o, "--data-dir") && has) {
            a->data.data_dir = argv[++i];
        } else if (!strcmp(o, "--offline")) {
            a->data.offline = 1;
        } else if (!strcmp(o, "--calib-tokens") && has) {
            a->calib_tokens = argv[++i];
        } else if (!strcmp(o, "--calib-samples")) {
            NEED_INT(1, 1 << 20, a->calib_samples, "--calib-samples takes a count >= 1");
        } else if (!strcmp(o, "--calib-seqlen")) {
            NEED_INT(1, 1 << 20, a->calib_seqlen, "--calib-seqlen takes a length >= 1");
        } else if (!strcmp(o, "--seed") && has) {
            char *end = NULL;
            a->seed = strtoull(argv[++i], &end, 10);
            if (!end || *end || argv[i][0] == '-') return cli_usage_error("convert", "--seed takes an integer >= 0");
        } else if (!strcmp(o, "--rope-dim")) {
            if (!a->gqa_only) a->gqa_only = o;
            NEED_INT(1, 1 << 16, a->opts.rope_dim, "--rope-dim takes a positive even width");
        } else if (!strcmp(o, "--freqfold") && has) {
            if (!a->gqa_only) a->gqa_only = o;
            a->freqfold_arg = argv[++i];
            if (!strcmp(a->freqfold_arg, "auto")) {
                a->opts.freqfold_auto = 1;
            } else {
                if (cli_parse_int(a->freqfold_arg, 1, 1 << 16, &v))
                    return cli_usage_error("convert", "--freqfold takes a positive integer or 'auto'");
                a->opts.freqfold = (int)v;
            }
        } else if (!strcmp(o, "--kv-lora-rank")) {
            if (!a->gqa_only) a->gqa_only = o;
            NEED_INT(1, 1 << 20, a->opts.kv_lora_rank, "--kv-lora-rank takes a rank >= 1");
        } else if (!strcmp(o, "--q-lora-rank")) {
            if (!a->gqa_only) a->gqa_only = o;
            NEED_INT(1, 1 << 20, a->opts.q_lora_rank, "--q-lora-rank takes a rank >= 1");
        } else if (!strcmp(o, "--balance-kv-ratio") && has) {
            if (!a->gqa_only) a->gqa_only = o;
            if (parse_double(argv[++i], &a->opts.balance_kv_ratio) || !(a->opts.balance_kv_ratio > 0))
                return cli_usage_error("convert", "--balance-kv-ratio takes a positive number");
        } else if (!strcmp(o, "--dtype") && has) {
            const char *d = argv[++i];
            if (!strcmp(d, "f32") || !strcmp(d, "float32")) a->dtype = GQ_DTYPE_F32;
            else if (!strcmp(d, "bf16") || !strcmp(d, "bfloat16")) a->dtype = GQ_DTYPE_BF16;
            else return cli_usage_error("convert", "--dtype takes f32 or bf16");
        } else if (!strcmp(o, "--eval-ppl") && has) {
            a->eval_ppl = argv[++i];
        } else if (!strcmp(o, "--ppl-ctx")) {
            NEED_INT(2, 1 << 20, a->ppl_ctx, "--ppl-ctx takes a length >= 2");
        } else if (!strcmp(o, "--reference") && has) {
            if (!a->gqa_only) a->gqa_only = o;
            if (strcmp(argv[++i], "partial-rope") != 0)
                return cli_usage_error("convert", "--reference takes 'partial-rope'");
            a->reference = 1;
        } else if (!strcmp(o, "--device") && has) {
            int device, device_index;
            int drc = cli_device_option("convert", argv[++i], &device, &device_index);
            if (drc) return drc;
            if (device != GQ_DEVICE_CPU) {
                fprintf(stderr, "gqla-eval convert: --device cuda: the calibration forward runs on the CPU (the "
                        "decompositions need the float32 weights on the host); run with --device cpu\n");
                return GQ_EXIT_ERROR;
            }
        } else if (!strcmp(o, "--threads")) {
            NEED_INT(0, 1024, a->threads, "--threads takes a count");
        } else if (!strcmp(o, "--quiet")) {
            a->quiet = 1;
        } else if (!strcmp(o, "--latent-norm")) {
            a->opts.latent_norm = 1;
            if (!a->gqa_only) a->gqa_only = o;
        } else if (!strcmp(o, "--export-mla-view")) {
            a->mla_view = 1;
            if (!a->gqa_only) a->gqa_only = o;
        } else if (!strcmp(o, "--groups")) {
            NEED_INT(1, 1 << 16, a->groups, "--groups takes a count >= 1");
            if (!a->mla_only) a->mla_only = o;
        } else if (!strcmp(o, "--grouping") && has) {
            a->grouping = argv[++i];
            if (!a->mla_only) a->mla_only = o;
        } else if (!strcmp(o, "--hessian-nll")) {
            a->hessian_nll = 1;
            if (!a->mla_only) a->mla_only = o;
        } else if (o[0] == '-') {
            return cli_usage_error("convert", "unknown option or missing value: '%s'", o);
        } else if (!a->model) {
            a->model = o;
        } else {
            return cli_usage_error("convert", "unexpected argument '%s' (one model only)", o);
        }
#undef NEED_INT
    }
    a->opts.reference = a->reference;
    if (!a->model) return cli_usage_error("convert", "missing --model SRC");
    if (!a->output) return cli_usage_error("convert", "missing --output DIR");
    if (!a->calib && !a->calib_tokens)
        return cli_usage_error("convert", "calibration data is needed: --calib FILE or --calib-tokens FILE");
    if (a->calib && a->calib_tokens) return cli_usage_error("convert", "give --calib or --calib-tokens, not both");
    if (a->calib_split && !a->calib) return cli_usage_error("convert", "--calib-split goes with --calib TASK");
    a->data.quiet = a->quiet;
    if (a->from && strcmp(a->from, "gqa") != 0 && strcmp(a->from, "mla") != 0)
        return cli_usage_error("convert", "--from takes gqa or mla");
    return 0;
}

typedef struct progress_ctx {
    gq_progress p;
    int quiet, n_layers, last_pass;
    const char *ppl_file;   /* --eval-ppl, for the GQA driver's stage message */
} progress_ctx;

static void on_progress(void *vctx, int pass, int layer, int n_layers)
{
    progress_ctx *pc = vctx;
    if (pass == 0) { /* freqfold search: one line per candidate */
        if (!pc->quiet) fprintf(stderr, "convert: freqfold candidate %d evaluated\n", layer + 1);
        return;
    }
    if (pass != pc->last_pass) {
        if (pc->last_pass) gq_progress_finish(&pc->p);
        char label[64];
        snprintf(label, sizeof label, "convert pass %d", pass);
        gq_progress_start(&pc->p, label, "layers", (size_t)n_layers, pc->quiet);
        pc->last_pass = pass;
    }
    gq_progress_update(&pc->p, (size_t)layer + 1);
}

/* The driver's steps after the passes (engine/convert/gqa.h). */
static void on_stage(void *vctx, gq_gqa_stage st)
{
    progress_ctx *pc = vctx;
    if (st == GQ_GQA_STAGE_WRITE) {
        if (pc->last_pass) gq_progress_finish(&pc->p);
        pc->last_pass = 0;
    } else if (st == GQ_GQA_STAGE_PPL && !pc->quiet) {
        fprintf(stderr, "convert: perplexity of %s before and after ...\n", pc->ppl_file);
    }
}

/* The calibration set of --calib-tokens FILE, --calib FILE or --calib TASK;
 * *source and *kind describe it for gqla_meta.json (source points into rows
 * or a; both live until the caller frees rows). */
static int load_calib(const convert_args *a, const gq_model *m, gq_calib_set *set, gq_calib_rows *rows,
                      const char **source, const char **kind, gq_error *err)
{
    if (a->calib_tokens) {
        *source = a->calib_tokens;
        *kind = "tokens-file";
        return gq_calib_from_tokens_file(set, a->calib_tokens, gq_model_config(m)->vocab_size, err);
    }
    if (gq_path_exists(a->calib) && !a->calib_split) {
        *source = a->calib;
        *kind = "text";
        return gq_calib_from_text(set, m, a->calib, (int)a->calib_samples, (int)a->calib_seqlen, a->seed, err);
    }
    int rc = gq_calib_task_rows(a->calib, a->calib_split, &a->data, rows, err);
    if (rc != GQ_OK) {
        if (strstr(err->msg, "unknown task")) gq_error_prefix(err, "--calib %s: no such file, and ", a->calib);
        return rc;
    }
    *source = rows->desc;
    *kind = "task";
    if (!a->quiet) fprintf(stderr, "convert: calibration from %s\n", rows->desc);
    return gq_calib_from_rows(set, m, (const char *const *)rows->rows, rows->len, (int)rows->n, rows->desc,
                              (int)a->calib_samples, (int)a->calib_seqlen, a->seed, err);
}

/* --from mla: engine/convert/mla.h does the conversion and the writing. */
static int convert_mla(const convert_args *a)
{
    gq_error err = {0};
    gq_model *m = NULL;
    gq_calib_set set = {0};
    gq_calib_rows rows = {0};
    const char *calib_source = NULL, *calib_kind = NULL;
    gq_convert_mla_result res = {0};
    gq_convert_mla_opts o;
    memset(&o, 0, sizeof o);
    if (a->gqa_only) {
        gq_error_set(&err, GQ_ERR_USAGE, "%s: %s is a GQA-only option (--from gqa); %s is an MLA model", a->model,
                     a->gqa_only, a->model);
        goto fail;
    }
    if (a->eval_ppl) {
        gq_error_set(&err, GQ_ERR_USAGE, "--eval-ppl is implemented for --from gqa only; run `gqla-eval ppl` on "
                     "the source and the output");
        goto fail;
    }
    if (a->groups <= 0) {
        gq_error_set(&err, GQ_ERR_USAGE, "%s: an MLA source needs --groups G (the KV groups of the output)", a->model);
        goto fail;
    }
    o.groups = (int)a->groups;
    if (a->grouping && gq_mla_grouping_parse(a->grouping, &o.grouping) != 0) {
        gq_error_set(&err, GQ_ERR_USAGE, "--grouping %s: expected neighbor or similarity", a->grouping);
        goto fail;
    }
    o.hessian_nll = a->hessian_nll;
    o.seed = a->seed;
    o.dtype = a->dtype;
    progress_ctx pc = {0};
    pc.quiet = a->quiet;
    o.progress = on_progress;
    o.progress_ctx = &pc;
    gq_open_opts full = {.load_weights = 1, .n_threads = (int)a->threads, .max_tokens = 512, .weights_f32 = 1};
    if (gq_model_open(&m, a->model, &full, &err) != GQ_OK) goto fail;
    int rc = load_calib(a, m, &set, &rows, &calib_source, &calib_kind, &err);
    if (rc != GQ_OK) goto fail;
    o.calib_source = calib_source;
    rc = gq_convert_mla(m, &set, a->output, &o, &res, &err);
    if (pc.last_pass) gq_progress_finish(&pc.p);
    if (rc != GQ_OK) goto fail;
    printf("output:            %s\n", a->output);
    printf("groups:            %d of %d heads (%s)\n", res.G, res.H, gq_mla_grouping_name(o.grouping));
    printf("paths max |dlogp|: %.3e\n", res.paths_max_abs_diff);
    rc = GQ_EXIT_OK;
    goto done;
fail:
    rc = cli_fail(&err);
done:
    gq_convert_mla_result_free(&res);
    gq_calib_set_free(&set);
    gq_calib_rows_free(&rows);
    gq_model_close(m);
    return rc;
}

static int convert_main(int argc, char **argv, convert_args a);

/* Parses, resolves --model (a Hub id through the cache), converts. */
int cmd_convert(int argc, char **argv)
{
    convert_args a;
    int prc = parse_args(argc, argv, &a);
    if (prc < 0) return GQ_EXIT_OK;  /* --help */
    if (prc > 0) return prc;
    gq_error err = {0};
    char *model = NULL;
    if (cli_model_resolve(a.model, a.data.offline, &model, &err) != GQ_OK) return cli_fail(&err);
    a.model = model;
    int rc = convert_main(argc, argv, a);
    gq_free(model);
    return rc;
}

static int convert_main(int argc, char **argv, convert_args a)
{

    gq_error err = {0};
    gq_model *src = NULL;
    gq_calib_set set = {0};
    gq_calib_rows rows = {0};
    const char *calib_source = NULL, *calib_kind = NULL;
    gq_convert_gqa_result res = {0};
    gq_tokens ppl_ids = {0};
    char *ppl_text = NULL;
    int rc;

    if (gq_path_exists(a.output)) {
        gq_error_set(&err, GQ_ERR_USAGE, "%s: already exists; give --output a new folder (nothing is overwritten)",
                     a.output);
        goto fail;
    }
    /* Config first: every option is checked before weights are read. */
    gq_open_opts probe = {.load_weights = 0, .n_threads = (int)a.threads, .max_tokens = 0};
    if ((rc = gq_model_open(&src, a.model, &probe, &err)) != GQ_OK) goto fail;
    const gq_config *cfg = gq_model_config(src);
    if (!cfg) {
        gq_error_set(&err, GQ_ERR_INVALID, "%s: a tokenizer-only folder has no model to convert", a.model);
        goto fail;
    }
    int mla_source = cfg->arch == GQ_ARCH_DEEPSEEK_MLA || cfg->arch == GQ_ARCH_GQLA;
    if (a.from && !strcmp(a.from, mla_source ? "gqa" : "mla")) {
        gq_error_set(&err, GQ_ERR_USAGE, "%s: --from %s, but the source is %s model (model_type %s)", a.model, a.from,
                     mla_source ? "an MLA" : "a GQA", cfg->model_type);
        goto fail;
    }
    if (mla_source) {
        gq_model_close(src);
        src = NULL;
        return convert_mla(&a);
    }
    if (a.mla_only) {
        gq_error_set(&err, GQ_ERR_USAGE,
                     "%s: %s is an MLA-only option (--from mla); %s is a GQA model (model_type %s)", a.model,
                     a.mla_only, a.model, cfg->model_type);
        goto fail;
    }
    gq_gqa_dims dims;
    if ((rc = gq_gqa_resolve(cfg, a.model, &a.opts, &dims, &err)) != GQ_OK) goto fail;
    gq_model_close(src);
    src = NULL;
    int max_tokens = a.ppl_ctx > 512 ? (int)a.ppl_ctx : 512;
    gq_open_opts full = {.load_weights = 1, .n_threads = (int)a.threads, .max_tokens = max_tokens, .weights_f32 = 1};
    if ((rc = gq_model_open(&src, a.model, &full, &err)) != GQ_OK) goto fail;
    cfg = gq_model_config(src);

    if ((rc = load_calib(&a, src, &set, &rows, &calib_source, &calib_kind, &err)) != GQ_OK) goto fail;
    if (a.eval_ppl) {
        if ((rc = gq_file_read_all(a.eval_ppl, &ppl_text, NULL, &err)) != GQ_OK) goto fail;
        if ((rc = gq_tokenize(src, ppl_text, 1, &ppl_ids, &err)) != GQ_OK) goto fail;
        if ((long)ppl_ids.n < a.ppl_ctx) {
            gq_error_set(&err, GQ_ERR_INVALID, "%s: %zu tokens is less than one window of --ppl-ctx %ld", a.eval_ppl,
                         ppl_ids.n, a.ppl_ctx);
            goto fail;
        }
    }
    if (!a.quiet)
        fprintf(stderr, "convert: %s -> %s: H %d, G %d, d %d; d_r %d (c %d), freqfold %d%s, r %d of r_max %d%s; "
                "calibration %d samples, %lld tokens\n", a.model, a.output, dims.H, dims.G, dims.d, dims.dr, dims.c,
                dims.ff, dims.ff_auto ? " (auto: searching from it)" : "", dims.r, dims.M, a.reference ? " (partial-RoPE reference)" : "", set.n_samples,
                (long long)set.n_tokens);
    progress_ctx pc = {.quiet = a.quiet, .ppl_file = a.eval_ppl};
    const gq_convert_gqa_opts co = {
        .dims = &dims,
        .reference = a.reference,
        .dtype = a.dtype,
        .mla_view = a.mla_view,
        .n_threads = (int)a.threads,
        .max_tokens = max_tokens,
        .ppl_ids = a.eval_ppl ? ppl_ids.ids : NULL,
        .n_ppl_ids = ppl_ids.n,
        .ppl_ctx = (int)a.ppl_ctx,
        .meta = {
            .source_path = a.model,
            .converter_version = GQLA_VERSION,
            .calib_source = calib_source,
            .calib_kind = calib_kind,
            .calib_seqlen_requested = a.calib_tokens ? 0 : (int)a.calib_seqlen,
            .calib_samples_requested = a.calib_tokens ? 0 : (int)a.calib_samples,
            .seed = a.seed,
            .set = &set,
            .freqfold_arg = a.freqfold_arg,
            .out_dtype = a.dtype == GQ_DTYPE_BF16 ? "bf16" : "f32",
            .reference = a.reference,
            .mla_view = a.mla_view,
            .paths_max_abs_diff = -1.0,
            .ppl_file = a.eval_ppl,
            .ppl_ctx = (int)a.ppl_ctx,
            .argc = argc,
            .argv = argv,
        },
        .progress = on_progress,
        .stage = on_stage,
        .progress_ctx = &pc,
    };
    rc = gq_convert_gqa(src, &set, a.output, &co, &res, &err);
    if (pc.last_pass) gq_progress_finish(&pc.p);
    if (rc != GQ_OK) goto fail;

    printf("output:            %s\n", a.output);
    printf("layers:            %d\n", res.conv.n_layers);
    printf("kv_lora_rank:      %d (r_max %d), qk_rope_head_dim %d, freqfold %d\n", res.conv.dims.r, res.conv.dims.M,
           res.conv.dims.dr, res.conv.dims.ff);
    double emin = 1.0, emean = 0.0;
    for (int l = 0; l < res.conv.n_layers; l++) {
        emean += res.conv.layers[l].kv_energy / res.conv.n_layers;
        if (res.conv.layers[l].kv_energy < emin) emin = res.conv.layers[l].kv_energy;
    }
    printf("kv energy kept:    mean %.6f, min %.6f\n", emean, emin);
    printf("kv cache / token / layer: source %d, absorb %d, gqa %d\n", 2 * res.conv.dims.G * res.conv.dims.d,
           res.conv.dims.r + res.conv.dims.dr, res.conv.dims.G * 2 * res.conv.dims.d + res.conv.dims.dr);
    printf("paths max |dlogp|: %.3e\n", res.paths_max_abs_diff);
    printf("tokenizer:         %s\n", res.tokenizer_note);
    if (res.have_ppl) printf("ppl:               %.6f -> %.6f (%s, ctx %ld)\n", res.ppl_orig, res.ppl_gqla, a.eval_ppl,
                              a.ppl_ctx);
    rc = GQ_EXIT_OK;
    goto done;
fail:
    rc = cli_fail(&err);
done:
    gq_convert_gqa_result_free(&res);
    gq_calib_set_free(&set);
    gq_calib_rows_free(&rows);
    gq_tokens_free(&ppl_ids);
    gq_free(ppl_text);
    gq_model_close(src);
    return rc;
}
