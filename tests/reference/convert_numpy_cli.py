#!/usr/bin/env python3
"""convert_numpy_cli.py — the NumPy TransGQLA reference behind the command
line of `gqla-eval convert` (GQA sources only), so that
tests/test_convert_reference.c can be pointed at it to check the test itself:

  GQ_CLI=$PWD/tests/reference/convert_numpy_cli.py GQ_REF_ENGINE=$PWD/build/gqla-eval \\
  GQ_FIXTURES=$PWD/tests/fixtures GQ_TMP=/tmp/gq PATH=/work/venv-ref/bin:$PATH \\
  build/tests/test_convert_reference

passes (its calibration activations are rounded to float32, as a float32
forward pass would give them), and GQ_REF_FAULT=perturb|drop|config|alpha
makes it write a kv_b_proj element off by 3e-4 / omit model.norm.weight /
write num_key_value_heads = 4 / write layer 1's alpha off by 1e-3 in
gqla_meta.json, each of which the test must report.  Any other subcommand
(the test scores the converted model with `score`) is handed to the real
binary named by GQ_REF_ENGINE.  Not a converter for real use: gqla_meta.json
holds only the numbers the test reads, no atomic output, no error messages.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import transgqla_numpy as tg  # noqa: E402


def main():
    if len(sys.argv) > 1 and sys.argv[1] != "convert" and os.environ.get("GQ_REF_ENGINE"):
        engine = os.environ["GQ_REF_ENGINE"]
        os.execv(engine, [engine] + sys.argv[1:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=["convert"])
    ap.add_argument("--model", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--calib-tokens", required=True)
    ap.add_argument("--rope-dim", type=int, required=True)
    ap.add_argument("--freqfold", type=int, required=True)
    ap.add_argument("--kv-lora-rank", type=int, required=True)
    ap.add_argument("--q-lora-rank", type=int)
    ap.add_argument("--balance-kv-ratio", type=float, default=1.0)
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()

    W = tg.load_safetensors(os.path.join(a.model, "model.safetensors"))
    with open(os.path.join(a.model, "config.json")) as f:
        cfg = json.load(f)
    with open(a.calib_tokens) as f:
        calib = [np.array([int(t) for t in line.split()]) for line in f if line.strip()]
    full, ocfg, info = tg.convert(W, cfg, calib, a.rope_dim, a.freqfold, a.kv_lora_rank, a.q_lora_rank,
                               a.balance_kv_ratio,
                               act_round=lambda x: x.astype(np.float32).astype(np.float64))
    fault = os.environ.get("GQ_REF_FAULT", "")
    if fault == "perturb":
        name = next(n for n in full if n.endswith("kv_b_proj.weight"))
        full[name] = full[name].copy()
        full[name][3, 5] += 3e-4
    elif fault == "drop":
        del full["model.norm.weight"]
    elif fault == "config":
        ocfg["num_key_value_heads"] = 4
    os.makedirs(a.output, exist_ok=True)
    tg.save_safetensors(os.path.join(a.output, "model.safetensors"), full)
    with open(os.path.join(a.output, "config.json"), "w") as f:
        json.dump(ocfg, f, indent=2)
        f.write("\n")
    meta = tg.meta_numbers(cfg, a.rope_dim, a.kv_lora_rank, a.q_lora_rank, info)
    if fault == "alpha":
        meta["transmla"]["alpha"][1] += 1e-3
    with open(os.path.join(a.output, "gqla_meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
