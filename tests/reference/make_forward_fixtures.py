#!/usr/bin/env python3
"""Build the tiny random-weight forward-pass fixtures in tests/fixtures/forward/.

Run by hand (never at test time); CI only reads the committed files.
See tests/reference/README.md for the exact command and package versions.

For every model below this script
  1. builds a tiny RANDOM checkpoint with transformers (weights drawn from a
     fixed-seed torch.Generator, so the result does not depend on
     transformers' own init code),
  2. saves it with save_pretrained(safe_serialization=True) twice:
        <name>-f32/   float32 weights
        <name>-bf16/  model.to(torch.bfloat16) weights
     keeping only config.json + model.safetensors (generation_config.json is
     deleted: the C harness does not read it),
  3. loads each saved directory back with from_pretrained(dtype=torch.float32,
     attn_implementation="eager") and runs the forward pass in float32.
     For the bf16 checkpoint this means the weights are the bf16 values upcast
     to float32 (exact), and all arithmetic is float32: the reference does NOT
     emulate bf16 activations,
  4. writes <name>-<dtype>/reference.txt:

        gqla-forward-ref 1
        model <name> dtype <f32|bf16> sequences <S>
        seq <k> len <T>                                 (per sequence, k = 0..S-1)
        ids <id0> <id1> ... <idT-1>
        <pos> <token_id> <logprob> <argmax_id> <max_logprob>[ tie]   (pos = 1..T-1)

     logprob     = log_softmax (float64, computed on the float32 logits) of the
                   prediction made at position pos-1, evaluated at ids[pos]
                   (i.e. log p(ids[pos] | ids[<pos])), printed %.9e;
     argmax_id   = argmax of that same prediction; max_logprob its log-prob;
     " tie"      = appended when top-1 minus top-2 log-prob < 1e-3, so the C test
                   ignores greedy (argmax) agreement on that line.

config.json spelling: transformers 5 writes the RoPE block as
"rope_parameters" (with rope_theta inside) and the dtype as "dtype". Real
checkpoints mostly use the HF 4.x spelling (top-level "rope_theta",
"rope_scaling", "torch_dtype"), and conversion.md section 0 requires the
loader to accept both. So the checkpoints listed in LEGACY_CONFIG get their
config.json rewritten to the 4.x spelling after saving (and, for mistral, with
"head_dim" dropped so the loader must fall back to hidden_size/heads). The
reference is always computed from the directory as written, after checking
that transformers reads the rewritten config back to the same RoPE parameters.

Usage:  python tests/reference/make_forward_fixtures.py [--out DIR] [--only NAME ...]
"""

import argparse
import json
import math
import os
import shutil
import sys

import torch
from transformers import (AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM,
                          MistralConfig, MistralForCausalLM, Phi3Config,
                          Phi3ForCausalLM, Qwen2Config, Qwen2ForCausalLM,
                          Qwen3Config, Qwen3ForCausalLM)

MAGIC = "gqla-forward-ref"
VERSION = 1
TIE_MARGIN = 1e-3

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures", "forward")

COMMON = dict(hidden_size=64, max_position_embeddings=256, hidden_act="silu",
              bos_token_id=1, eos_token_id=2)

# name -> (config class, model class, config kwargs, seed, [len seq0, len seq1])
MODELS = {
    "llama-gqa": (LlamaConfig, LlamaForCausalLM, dict(
        COMMON, vocab_size=256, intermediate_size=112, num_hidden_layers=3,
        num_attention_heads=8, num_key_value_heads=2, head_dim=8,
        rope_theta=10000.0, rms_norm_eps=1e-5, tie_word_embeddings=False),
        1001, [48, 112]),
    "qwen2-bias": (Qwen2Config, Qwen2ForCausalLM, dict(
        COMMON, vocab_size=288, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2,
        rope_theta=10000.0, rms_norm_eps=1e-6, tie_word_embeddings=False,
        use_sliding_window=False, sliding_window=None),
        1002, [48, 112]),
    "mistral": (MistralConfig, MistralForCausalLM, dict(
        COMMON, vocab_size=320, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=1,
        rope_theta=1000000.0, rms_norm_eps=1e-5, tie_word_embeddings=False,
        sliding_window=None),
        1003, [48, 112]),
    "llama-tied": (LlamaConfig, LlamaForCausalLM, dict(
        COMMON, vocab_size=256, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=4,
        rope_theta=10000.0, rms_norm_eps=1e-5, tie_word_embeddings=True),
        1004, [48, 104]),
    "llama3-rope": (LlamaConfig, LlamaForCausalLM, dict(
        COMMON, vocab_size=256, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16,
        rope_theta=500000.0, rms_norm_eps=1e-5, tie_word_embeddings=False,
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                      "high_freq_factor": 4.0, "original_max_position_embeddings": 64}),
        1005, [48, 176]),
    # issue 21: the safetensors twins of the qwen3 / phi3 GGUF mappings.
    "qwen3-qknorm": (Qwen3Config, Qwen3ForCausalLM, dict(
        COMMON, vocab_size=256, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16,
        rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=False,
        attention_bias=False, use_sliding_window=False, sliding_window=None),
        1006, [48, 112]),
    "phi3-fused": (Phi3Config, Phi3ForCausalLM, dict(
        COMMON, vocab_size=256, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2,
        rope_theta=10000.0, rms_norm_eps=1e-5, tie_word_embeddings=False,
        sliding_window=None, original_max_position_embeddings=256, pad_token_id=0),
        1007, [48, 112]),
}

# Checkpoints whose config.json is rewritten to the HF 4.x spelling.
# value: keys to drop after the rewrite.
LEGACY_CONFIG = {
    ("mistral", "f32"): ["head_dim"],
    ("mistral", "bf16"): ["head_dim"],
    ("llama3-rope", "f32"): [],     # llama3-rope-bf16 keeps the 5.x spelling
}

# Standard deviations of the random init. Larger than a real init (0.02) so
# that attention is far from uniform and log-probs vary by several nats.
STD = {
    "embed_tokens": 0.5,   # tied model (llama-tied): 0.25, see build()
    "lm_head": 0.25,
    "q_proj": 0.15, "k_proj": 0.15, "qkv_proj": 0.15, "v_proj": 0.1, "o_proj": 0.1,
    "gate_proj": 0.1, "up_proj": 0.1, "down_proj": 0.1,
    "bias": 0.2,           # qwen2 q/k/v biases
}


def init_weights(model, seed, std_override=None):
    """Overwrite every parameter from a fixed-seed generator, in sorted name order."""
    std = dict(STD, **(std_override or {}))
    gen = torch.Generator().manual_seed(seed)
    seen = set()
    params = dict(model.named_parameters())  # tied params appear once
    for name in sorted(params):
        p = params[name]
        if id(p) in seen:
            continue
        seen.add(id(p))
        shape = p.shape
        if name.endswith("norm.weight"):
            # RMSNorm gains around 1 but clearly not 1, so a missing gain shows.
            v = 0.6 + 0.8 * torch.rand(shape, generator=gen, dtype=torch.float32)
        elif name.endswith(".bias"):
            v = std["bias"] * torch.randn(shape, generator=gen, dtype=torch.float32)
        else:
            key = next((k for k in std if k in name), None)
            if key is None:
                raise RuntimeError(f"no init rule for {name}")
            v = std[key] * torch.randn(shape, generator=gen, dtype=torch.float32)
        with torch.no_grad():
            p.copy_(v)


def make_sequences(seed, vocab, lengths):
    gen = torch.Generator().manual_seed(seed + 7777)
    seqs = []
    for n in lengths:
        seqs.append(torch.randint(0, vocab, (n,), generator=gen).tolist())
    return seqs


def rewrite_legacy(cfg_path, drop_keys):
    with open(cfg_path) as f:
        cfg = json.load(f)
    out = {}
    for k, v in cfg.items():
        if k == "rope_parameters":
            rp = dict(v)
            out["rope_theta"] = rp.pop("rope_theta")
            if rp.get("rope_type", "default") != "default":
                out["rope_scaling"] = rp
            else:
                out["rope_scaling"] = None
        elif k == "dtype":
            out["torch_dtype"] = v
        elif k in drop_keys:
            continue
        else:
            out[k] = v
    with open(cfg_path, "w") as f:
        json.dump(out, f, indent=2, sort_keys=True)
        f.write("\n")


def save_checkpoint(model, d, legacy_drop):
    if os.path.isdir(d):
        shutil.rmtree(d)
    model.save_pretrained(d, safe_serialization=True)
    for fn in os.listdir(d):
        if fn not in ("config.json", "model.safetensors"):
            os.remove(os.path.join(d, fn))
    if legacy_drop is not None:
        rewrite_legacy(os.path.join(d, "config.json"), legacy_drop)


@torch.no_grad()
def score(model, ids):
    """Return rows (pos, tok, lp, argmax, max_lp, margin) for pos = 1..T-1."""
    x = torch.tensor([ids], dtype=torch.long)
    logits = model(input_ids=x).logits[0]            # [T, V] float32
    assert logits.dtype == torch.float32
    lp = torch.log_softmax(logits.double(), dim=-1)  # float64
    rows = []
    for pos in range(1, len(ids)):
        pred = lp[pos - 1]
        top2 = torch.topk(pred, 2)
        am = int(torch.argmax(pred))
        rows.append((pos, ids[pos], float(pred[ids[pos]]), am, float(pred[am]),
                     float(top2.values[0] - top2.values[1])))
    return rows


def write_reference(path, name, dtype, seqs, all_rows):
    with open(path, "w") as f:
        f.write(f"{MAGIC} {VERSION}\n")
        f.write(f"model {name} dtype {dtype} sequences {len(seqs)}\n")
        for k, (ids, rows) in enumerate(zip(seqs, all_rows)):
            f.write(f"seq {k} len {len(ids)}\n")
            f.write("ids " + " ".join(str(i) for i in ids) + "\n")
            for pos, tok, lpv, am, mlp, margin in rows:
                tie = " tie" if margin < TIE_MARGIN else ""
                f.write(f"{pos} {tok} {lpv:.9e} {am} {mlp:.9e}{tie}\n")


def check_rope(model, name, cfg_kwargs):
    """Print inv_freq; for llama3-rope check it against the formula and vs default."""
    rot = model.model.rotary_emb
    inv = rot.inv_freq.double()
    if "rope_scaling" not in cfg_kwargs:
        return
    rs = cfg_kwargs["rope_scaling"]
    theta = cfg_kwargs["rope_theta"]
    n = cfg_kwargs["head_dim"]
    f, a, b, M = (rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"],
                  rs["original_max_position_embeddings"])
    exp, changed = [], 0
    for j in range(n // 2):
        w = 1.0 / theta ** (2 * j / n)
        lam = 2 * math.pi / w
        if lam > M / a:
            ws = w / f
        elif lam < M / b:
            ws = w
        else:
            s = (M / lam - a) / (b - a)
            ws = (1 - s) * w / f + s * w
        exp.append(ws)
        changed += abs(ws - w) > 1e-12 * w
    exp = torch.tensor(exp, dtype=torch.float64)
    rel = float(((inv - exp).abs() / exp).max())
    print(f"  {name}: llama3 inv_freq = {[f'{v:.4g}' for v in inv.tolist()]}")
    print(f"  {name}: {changed}/{n // 2} frequencies changed by scaling; "
          f"max rel diff vs formula {rel:.2e}")
    assert rel < 1e-6 and changed >= 2


def sensitivity(model_dir, seqs, ref_rows):
    """How much the log-probs move if llama3 scaling is dropped (default RoPE).

    llama3 scaling is static (it rescales the frequencies at every position),
    so the fixture detects a missing/incorrect scaling at all positions > 0."""
    m = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32,
                                             attn_implementation="eager")
    m.config.rope_parameters = {"rope_type": "default",
                                "rope_theta": m.config.rope_parameters["rope_theta"]}
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding
    m.model.rotary_emb = LlamaRotaryEmbedding(config=m.config)
    m.eval()
    for k, ids in enumerate(seqs):
        rows = score(m, ids)
        d = [abs(r[2] - q[2]) for r, q in zip(rows, ref_rows[k])]
        tail = f", pos>64: {max(d[64:]):.3e}" if len(d) > 64 else ""
        print(f"  same weights without llama3 scaling: seq {k}: max |dlogprob| "
              f"{max(d):.3e}{tail}")


def build(name, out_dir):
    cfg_cls, model_cls, kw, seed, lengths = MODELS[name]
    torch.manual_seed(seed)
    cfg = cfg_cls(**kw)
    model = model_cls(cfg)
    # Tied model: the embedding is also the LM head; 0.5 makes it near-one-hot.
    init_weights(model, seed, {"embed_tokens": 0.25} if kw["tie_word_embeddings"] else None)
    model.eval()
    seqs = make_sequences(seed, kw["vocab_size"], lengths)
    summary = []
    for dtype in ("f32", "bf16"):
        d = os.path.join(out_dir, f"{name}-{dtype}")
        if dtype == "bf16":
            model.to(torch.bfloat16)   # in place (round to nearest even); f32 is done
        save_checkpoint(model, d, LEGACY_CONFIG.get((name, dtype)))
        m = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32,
                                                 attn_implementation="eager")
        m.eval()
        assert m.dtype == torch.float32
        # Weights read back must be exactly the saved ones (bf16: upcast exactly).
        ref_sd, got_sd = model.state_dict(), m.state_dict()
        assert set(ref_sd) == set(got_sd), set(ref_sd) ^ set(got_sd)
        for k2 in ref_sd:
            assert torch.equal(ref_sd[k2].float(), got_sd[k2]), k2
        # The reloaded config must carry the intended architecture.
        rp = m.config.rope_parameters
        assert abs(rp["rope_theta"] - kw["rope_theta"]) == 0, rp
        if "rope_scaling" in kw:
            for k2, v2 in kw["rope_scaling"].items():
                assert rp[k2] == v2, (k2, rp)
        else:
            assert rp.get("rope_type", "default") == "default", rp
        assert m.config.num_key_value_heads == kw["num_key_value_heads"]
        assert m.config.tie_word_embeddings == kw["tie_word_embeddings"]
        if kw["tie_word_embeddings"]:
            assert m.lm_head.weight.data_ptr() == m.model.embed_tokens.weight.data_ptr()
        check_rope(m, f"{name}-{dtype}", kw)
        all_rows = [score(m, ids) for ids in seqs]
        write_reference(os.path.join(d, "reference.txt"), name, dtype, seqs, all_rows)
        flat = [r for rows in all_rows for r in rows]
        lps = [r[2] for r in flat]
        min_margin = min(r[5] for r in flat)
        ties = sum(r[5] < TIE_MARGIN for r in flat)
        hits = sum(r[1] == r[3] for r in flat)
        print(f"{name}-{dtype}: lens {lengths}, logprob range [{min(lps):.3f}, {max(lps):.3f}] "
              f"(uniform {-math.log(kw['vocab_size']):.3f}), max-logprob range "
              f"[{min(r[4] for r in flat):.3f}, {max(r[4] for r in flat):.3f}], "
              f"min top1-top2 margin {min_margin:.3e}, tie lines {ties}, "
              f"argmax==next {hits}/{len(flat)}")
        summary.append((f"{name}-{dtype}", min_margin, ties))
        if "rope_scaling" in kw:
            sensitivity(d, seqs, all_rows)
        del m
    return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out, exist_ok=True)
    names = args.only or list(MODELS)
    summary = []
    for name in names:
        summary += build(name, args.out)
    print("\nmin top-1/top-2 log-prob margin per file:")
    for n, mm, t in summary:
        print(f"  {n:20s} {mm:.3e}  ({t} tie lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
