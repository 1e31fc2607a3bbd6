#!/bin/sh
# slurm-array.sh — one gqla-eval command as a Slurm job array without MPI:
# N array tasks each score one shard (`gqla-eval ... --shard K/N`), then a
# job that starts only when all of them succeeded (afterok) merges them
# (`gqla-eval merge`) into the outputs one run would have written.
#
# Usage: scripts/slurm-array.sh N OUT EVAL-ARGS...
#   e.g. scripts/slurm-array.sh 8 runs/smol --model models/smol.gguf \
#          --converted runs/smol-gqla --tasks mmlu,arc,piqa,hellaswag,openbookqa,winogrande \
#          --data-dir ../shared/datasets --offline --sq 0 --log-samples
# Shard K writes OUT/shards/K (journal + gqla_shard.json); the merge writes
# OUT/run (results_*.json, samples/, gqla_run.json, report.*).  Do not give
# --shard or --output-dir yourself.  A failed or killed shard: resubmit it
# alone (sbatch --array=K ... the same way, or run the shard command by
# hand; it resumes from its journal), then run the merge by hand:
#   gqla-eval merge OUT/shards/1 ... OUT/shards/N --output-dir OUT/run
#
# Environment: GQLA_EVAL, the gqla-eval binary (default: build/gqla-eval
# beside this script, else gqla-eval on PATH); sbatch's own SBATCH_* input
# variables (SBATCH_PARTITION, SBATCH_TIMELIMIT, SBATCH_ACCOUNT, ...) set
# the jobs' options.  Each shard gets --threads $SLURM_CPUS_PER_TASK when
# that is set and the command has no --threads (the same in every shard).
# The jobs run in the folder this script is called from (sbatch's default),
# so relative paths in EVAL-ARGS mean the same to the shards and the merge;
# the merge reads the models' configs, tokenizers and checkpoint headers and
# the data again (not the weights): they must be unchanged until it runs.
#
# Exit status: 0 when both submissions were accepted (their job ids are
# printed), 2 on bad usage; sbatch's status when it refuses.
set -eu

usage() {
    echo "usage: $0 N OUT EVAL-ARGS...   (N shards, OUT/shards/K and OUT/run)" >&2
    exit 2
}

# The jobs: sbatch runs a copy of this script with an internal mode first.
case ${1:-} in
__shard)
    # __shard CLI N OUT EVAL-ARGS...
    cli=$2 n=$3 out=$4
    shift 4
    k=${SLURM_ARRAY_TASK_ID:?"__shard runs as a Slurm array task"}
    threads=""
    case " $* " in *" --threads "*) ;; *) threads=${SLURM_CPUS_PER_TASK:-} ;; esac
    if [ -n "$threads" ]; then set -- "$@" --threads "$threads"; fi
    exec "$cli" "$@" --shard "$k/$n" --output-dir "$out/shards/$k"
    ;;
__merge)
    # __merge CLI N OUT
    cli=$2 n=$3 out=$4
    set --
    k=1
    while [ "$k" -le "$n" ]; do
        set -- "$@" "$out/shards/$k"
        k=$((k + 1))
    done
    exec "$cli" merge "$@" --output-dir "$out/run"
    ;;
esac

[ $# -ge 3 ] || usage
n=$1 out=$2
shift 2
case $n in '' | *[!0-9]* | 0) usage ;; esac
case " $* " in *" --shard "* | *" --output-dir "*) echo "$0: --shard and --output-dir are set here (OUT/shards/K)" >&2; exit 2 ;; esac
command -v sbatch >/dev/null 2>&1 || { echo "$0: sbatch not found (is this a Slurm login node?)" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
cli=${GQLA_EVAL:-}
if [ -z "$cli" ]; then
    if [ -x "$here/../build/gqla-eval" ]; then cli=$here/../build/gqla-eval; else cli=$(command -v gqla-eval || true); fi
fi
if [ -z "$cli" ] || [ ! -x "$cli" ]; then
    echo "$0: no gqla-eval binary (set GQLA_EVAL)" >&2
    exit 2
fi
cli=$(cd "$(dirname "$cli")" && pwd)/$(basename "$cli") # the jobs run a spooled copy of this script
mkdir -p "$out/shards"
out=$(cd "$out" && pwd)

array=$(sbatch --parsable --job-name=gqla-shard --array="1-$n" "$here/slurm-array.sh" __shard "$cli" "$n" "$out" "$@")
array=${array%%;*} # --parsable prints "jobid[;cluster]"
merge=$(sbatch --parsable --job-name=gqla-merge --dependency="afterok:$array" "$here/slurm-array.sh" __merge "$cli" "$n" "$out")
merge=${merge%%;*}
echo "shards: job array $array (1-$n) -> $out/shards/K"
echo "merge:  job $merge after all of them succeeded -> $out/run"
