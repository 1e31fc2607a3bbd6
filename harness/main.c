/* main.c — gqla-eval: evaluate GQA models and their GQLA conversions.
 * Dispatches to the subcommands in harness/cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "world.h"

static const char *usage_text =
    "gqla-eval " GQLA_VERSION " — log-likelihood evaluation of GQA models and their GQLA conversions\n"
    "\n"
    "Usage: gqla-eval COMMAND [options]\n"
    "\n"
    "Commands:\n"
    "  [eval] --model MODEL [--converted GQLA] --tasks LIST [--paths gqa,absorb] [--limit N]\n"
    "         [--data-dir DIR] [--output-dir DIR] [--max-drop PP] [--max-path-diff X] [--junit F]\n"
    "                                   score tasks as lm-evaluation-harness (the default);\n"
    "                                   with --converted: original vs GQLA through both paths,\n"
    "                                   manifest, report, gate; resumes in the same DIR\n"
    "         [--shard K/N]             --shard K/N: part K of N only, a job of a job array\n"
    "  merge DIR... --output-dir OUT    the shards' folders (--shard 1/N ... N/N) into the outputs\n"
    "                                   of one run; scores nothing (the models' configs, tokenizers,\n"
    "                                   checkpoint headers and the data must still be readable)\n"
    "  demo [--output-dir DIR]          SmolLM2 -> GQLA -> comparison on the sample items\n"
    "  fetch NAME...                    download ahead of a run: a task's rows from the datasets-server,\n"
    "                                   or a model (NAME with a '/': ORG/NAME[@REV][:FILE.gguf])\n"
    "  cache list                       the models in the huggingface_hub cache, with sizes\n"
    "  info MODEL                       architecture, sizes, dtypes, KV cache per token\n"
    "  tokenize MODEL --text T [--json] [--no-bos]\n"
    "                                   token ids of a text\n"
    "  score MODEL (--ids 1,2,3 | --text T) [--from K] [--path P] [--sq N] [--json] [--tp N]\n"
    "                                   log P(token_i | tokens_<i) for every position\n"
    "  ppl MODEL --file F [--ctx 512]   perplexity over non-overlapping windows\n"
    "  kvcache --config CONFIG [--tp N] KV cache per token of every decoding path (no weights);\n"
    "                                   --tp N: also per tensor-parallel rank\n"
    "  report DIR...                    rebuild report.md/.tex/.csv/.html from DIR/gqla_run.json\n"
    "  compare BASE.json NEW.json --max-drop PP [--junit FILE]\n"
    "                                   per-task change between two results files; exit 1 on a drop\n"
    "  roofline --config CONFIG [--hw h100|h20] [--sq 1,2,4]\n"
    "                                   attention FLOPs per KV-cache byte per path vs a GPU's ridge\n"
    "  convert --model SRC --output DIR --calib-tokens F | --calib FILE|TASK [...]\n"
    "                                   TransGQLA: a GQA checkpoint to a GQLA one\n"
    "\n"
    "MODEL is a Hugging Face folder (config.json + safetensors [+ tokenizer.json]),\n"
    "a GGUF file (llama architecture, embedded tokenizer), for tokenize a folder\n"
    "holding only tokenizer.json (+ tokenizer_config.json), or a Hub model id\n"
    "ORG/NAME[@REVISION][:FILE.gguf], read from (and downloaded into) the\n"
    "huggingface_hub cache; --offline or HF_HUB_OFFLINE=1: the cache only.\n"
    "\n"
    "Options:\n"
    "  -h, --help      this text (COMMAND --help: that command's options)\n"
    "  --version       print the version\n"
    "\n"
    "Exit status: 0 ok, 1 a check or gate failed, 2 an error (the message says which\n"
    "file and where).\n";

static void print_version(void)
{
    printf("gqla-eval %s\n", GQLA_VERSION);
#ifdef GQLA_WITH_CUDA
    printf("backends: cpu, cuda (the module libgqla_cuda.so beside this executable, opened by --device cuda;\n"
           "          needs a GPU at run time)\n");
#else
    printf("backends: cpu (no CUDA: nvcc was not found at build time)\n");
#endif
#ifdef GQLA_WITH_NCCL
    printf("nccl: yes (engine/collective_nccl.cu: the tensor-parallel all-reduce on GPUs)\n");
#else
    printf("nccl: no\n");
#endif
    printf("mpi: %s\n", gq_world_mpi_compiled() ? "yes (mpirun -np N gqla-eval ...: data parallel; score/eval --tp N: tensor parallel)" : "no");
}

static int run_command(int argc, char **argv);

int main(int argc, char **argv)
{
    gq_error err = {0};
    if (gq_world_init(&argc, &argv, &err) != GQ_OK) return cli_fail(&err);
    int rc = run_command(argc, argv);
    gq_world_finalize();
    return rc;
}

/* Commands that know how to share work over ranks: the evaluation, and
 * score with --tp (tensor parallel over the ranks). */
static int runs_on_ranks(int argc, char **argv)
{
    const char *cmd = argv[1];
    if (!strcmp(cmd, "eval") || (cmd[0] == '-' && cmd[1] == '-')) return 1;
    if (!strcmp(cmd, "score"))
        for (int i = 2; i < argc; i++)
            if (!strcmp(argv[i], "--tp")) return 1;
    return 0;
}

static int run_command(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return GQ_EXIT_ERROR;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fputs(usage_text, stdout);
        return GQ_EXIT_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        if (gq_world_get()->rank == 0) print_version();
        return GQ_EXIT_OK;
    }
    if (gq_world_get()->size > 1 && !runs_on_ranks(argc, argv)) {
        if (gq_world_get()->rank == 0)
            fprintf(stderr, "gqla-eval: error: '%s' runs in one process; under mpirun only the evaluation "
                            "(gqla-eval [eval] ...) and 'score --tp N' share their work over ranks\n", cmd);
        return GQ_EXIT_ERROR;
    }
    if (!strcmp(cmd, "eval")) return cmd_eval(argc - 2, argv + 2);
    if (cmd[0] == '-' && cmd[1] == '-') return cmd_eval(argc - 1, argv + 1); /* eval is the default */
    if (!strcmp(cmd, "fetch")) return cmd_fetch(argc - 2, argv + 2);
    if (!strcmp(cmd, "cache")) return cmd_cache(argc - 2, argv + 2);
    if (!strcmp(cmd, "info")) return cmd_info(argc - 2, argv + 2);
    if (!strcmp(cmd, "tokenize")) return cmd_tokenize(argc - 2, argv + 2);
    if (!strcmp(cmd, "score")) return cmd_score(argc - 2, argv + 2);
    if (!strcmp(cmd, "ppl")) return cmd_ppl(argc - 2, argv + 2);
    if (!strcmp(cmd, "kvcache")) return cmd_kvcache(argc - 2, argv + 2);
    if (!strcmp(cmd, "demo")) return cmd_demo(argc - 2, argv + 2);
    if (!strcmp(cmd, "report")) return cmd_report(argc - 2, argv + 2);
    if (!strcmp(cmd, "compare")) return cmd_compare(argc - 2, argv + 2);
    if (!strcmp(cmd, "roofline")) return cmd_roofline(argc - 2, argv + 2);
    if (!strcmp(cmd, "convert")) return cmd_convert(argc - 2, argv + 2);
    if (!strcmp(cmd, "merge")) return cmd_merge(argc - 2, argv + 2);
    fprintf(stderr, "gqla-eval: unknown command '%s' (see 'gqla-eval --help')\n", cmd);
    return GQ_EXIT_ERROR;
}
