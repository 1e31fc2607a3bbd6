#!/usr/bin/env python3
"""gqla-eval vs llama.cpp's own HellaSwag log-probs (issue 21), run by hand.

llama.cpp is not part of this repository.  Its llama-perplexity prints only
the running acc_norm in --hellaswag mode, so the comparison used a copy of
tools/perplexity/perplexity.cpp built outside the tree with one added LOG
call: right after the loop that sums hs_cur.ending_logprob[s] (before the
division by the count), print the line
    hsdump <task> <ending> <common_prefix> <sum %.9f> <token ids, comma-separated>
i.e. the exact token ids llama.cpp scored (context + " " + ending, its own
tokenizer and BOS rule) and the sum of log P(tok[j] | tok[<j]) for
j = common_prefix .. n-1 (llama.cpp's acc_norm is that sum / (n - common_prefix)).
Nothing else changes; link it against the libraries of the normal build.

    llama-perplexity-dump -m MODEL.gguf -f hellaswag_val_full.txt --hellaswag \\
        --hellaswag-tasks 50 -t 1 -c 2048 -b 2048 [-ctk f32 -ctv f32 -fa off] > dump.log

This script scores every ending of the first dump with
`gqla-eval score MODEL --ids <ids> --from <common_prefix> --json` (so the
tokenizers play no part) and compares the sums with each dump given.

Usage: compare_llamacpp_hellaswag.py GQLA_EVAL MODEL.gguf DUMP.log [DUMP2.log ...]
"""
import json, os, subprocess, sys
cli, model = sys.argv[1:3]; dumps = sys.argv[3:]
def load(p):
    return {(r[1], r[2]): (int(r[3]), float(r[4]), r[5]) for r in
            (l.rstrip("\n").split("\t") for l in open(p) if l.startswith("hsdump\t"))}
D = [load(p) for p in dumps]
ours = {}
for key, (cp, ll, ids) in D[0].items():
    out = subprocess.run([cli, "score", model, "--ids", ids, "--from", str(cp), "--json", "--threads", "1"],
                         capture_output=True, text=True, check=True).stdout
    ours[key] = sum(t["logprob"] for t in json.loads(out)["tokens"])
ntok = sum(len(v[2].split(",")) - v[0] for v in D[0].values())
print(f"{cli} {os.environ.get('GQ_ACTQ') and 'GQ_ACTQ=1' or ''} on {model}: {len(ours)} endings, {ntok} scored tokens")
for p, d in zip(dumps, D):
    assert all(d[k][2] == D[0][k][2] and d[k][0] == D[0][k][0] for k in d)  # same tokens
    diffs = {k: abs(ours[k] - d[k][1]) for k in ours}
    pt = max(diffs[k] / (len(d[k][2].split(",")) - d[k][0]) for k in diffs)
    tasks = sorted({k[0] for k in d}, key=int)
    same = 0
    for t in tasks:
        n = {s: len(d[(t, s)][2].split(",")) - d[(t, s)][0] for s in "0123"}
        same += max("0123", key=lambda s: ours[(t, s)] / n[s]) == max("0123", key=lambda s: d[(t, s)][1] / n[s])
    print(f"  vs {p}: max |sum diff| {max(diffs.values()):.3e}, mean {sum(diffs.values())/len(diffs):.3e}, "
          f"max per-token mean diff {pt:.3e}, same acc_norm choice {same}/{len(tasks)}")
