#!/usr/bin/env python3
"""Build the tiny random DeepSeek-V3 (MLA) fixtures in tests/fixtures/mla/.

Run by hand (never at test time); CI only reads the committed files.
Environment: tests/reference/README.md (torch 2.15, transformers 5.23).

For every model below this script
  1. builds a tiny RANDOM DeepseekV3ForCausalLM with dense layers only
     (first_k_dense_replace = num_hidden_layers), rope_interleave true,
     num_key_value_heads = num_attention_heads (stock HF sizes kv_b_proj by
     heads: this is MLA, the GQLA case is covered by tests/test_mla_paths.c),
     and overwrites every parameter from a fixed-seed generator, including
     the RMSNorm gains (0.6 .. 1.4) and, with attention_bias, the q_a_proj,
     kv_a_proj_with_mqa and o_proj biases;
  2. saves it (float32) with save_pretrained: config.json + model.safetensors;
  3. loads the folder back (float32, eager attention), checks the weights
     and the architecture survived, and writes reference.txt in the format of
     tests/reference/make_forward_fixtures.py ("gqla-forward-ref 1": per
     position HF's float64 log-softmax of the next token, argmax, tie marks).

The C test (tests/test_forward.c with --path=absorb and --path=expanded,
registered in tests/mla.cmake) reproduces every log-prob within 1e-4.

  dsv3-qlora-yarn: q_lora_rank set (q_a_proj + q_a_layernorm + q_b_proj),
      attention_bias, yarn RoPE (factor 4, original context 64, mscale =
      mscale_all_dim = 0.707, so the softmax scale carries m(f, mu_a)^2) and
      sequences past the original context.
  dsv3-plainq:     q_lora_rank null (q_proj), no biases, default RoPE.

Usage:  python tests/reference/make_mla_fixtures.py [--out DIR] [--only NAME ...]
"""

import argparse
import math
import os
import shutil
import sys

import torch
from transformers import AutoModelForCausalLM, DeepseekV3Config, DeepseekV3ForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_forward_fixtures import (TIE_MARGIN, make_sequences, score,  # noqa: E402
                                   write_reference)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures", "mla")

COMMON = dict(hidden_size=64, intermediate_size=64, num_hidden_layers=2, first_k_dense_replace=2,
              num_attention_heads=4, num_key_value_heads=4, qk_nope_head_dim=16, qk_rope_head_dim=8,
              v_head_dim=12, kv_lora_rank=32, vocab_size=160, max_position_embeddings=256,
              rms_norm_eps=1e-6, rope_interleave=True, tie_word_embeddings=False,
              hidden_act="silu", bos_token_id=1, eos_token_id=2, pad_token_id=None)

MODELS = {
    "dsv3-qlora-yarn": (dict(COMMON, q_lora_rank=24, attention_bias=True,
                             rope_parameters={"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0,
                                              "original_max_position_embeddings": 64, "beta_fast": 32.0,
                                              "beta_slow": 1.0, "mscale": 0.707, "mscale_all_dim": 0.707}),
                        2001, [48, 120]),
    "dsv3-plainq": (dict(COMMON, q_lora_rank=None, attention_bias=False,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0}),
                    2002, [48, 112]),
}

STD = {
    "embed_tokens": 0.5, "lm_head": 0.25,
    "q_a_proj": 0.2, "q_b_proj": 0.25, "q_proj": 0.2,
    "kv_a_proj_with_mqa": 0.25, "kv_b_proj": 0.25, "o_proj": 0.12,
    "gate_proj": 0.12, "up_proj": 0.12, "down_proj": 0.12,
    "bias": 0.2,
}


def init_weights(model, seed):
    gen = torch.Generator().manual_seed(seed)
    for name, p in sorted(model.named_parameters()):
        if name.endswith("norm.weight"):
            v = 0.6 + 0.8 * torch.rand(p.shape, generator=gen, dtype=torch.float32)
        elif name.endswith(".bias"):
            v = STD["bias"] * torch.randn(p.shape, generator=gen, dtype=torch.float32)
        else:
            key = next((k for k in STD if "." + k + "." in "." + name), None)
            if key is None:
                raise RuntimeError(f"no init rule for {name}")
            v = STD[key] * torch.randn(p.shape, generator=gen, dtype=torch.float32)
        with torch.no_grad():
            p.copy_(v)


def build(name, out_dir):
    kw, seed, lengths = MODELS[name]
    torch.manual_seed(seed)
    cfg = DeepseekV3Config(**kw)
    model = DeepseekV3ForCausalLM(cfg)
    init_weights(model, seed)
    model.eval()
    d = os.path.join(out_dir, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    model.save_pretrained(d, safe_serialization=True)
    for fn in os.listdir(d):
        if fn not in ("config.json", "model.safetensors"):
            os.remove(os.path.join(d, fn))
    m = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager")
    m.eval()
    ref_sd, got_sd = model.state_dict(), m.state_dict()
    assert set(ref_sd) == set(got_sd), set(ref_sd) ^ set(got_sd)
    for k in ref_sd:
        assert torch.equal(ref_sd[k].float(), got_sd[k]), k
    assert m.config.rope_interleave and m.config.first_k_dense_replace == kw["num_hidden_layers"]
    assert all(type(layer.mlp).__name__ == "DeepseekV3MLP" for layer in m.model.layers)
    att = m.model.layers[0].self_attn
    tau = (kw["qk_nope_head_dim"] + kw["qk_rope_head_dim"]) ** -0.5
    rp = kw["rope_parameters"]
    if rp["rope_type"] == "yarn":
        ms = 0.1 * rp["mscale_all_dim"] * math.log(rp["factor"]) + 1.0
        tau *= ms * ms
    assert abs(att.scaling - tau) < 1e-12, (att.scaling, tau)
    print(f"{name}: softmax scale {att.scaling:.9f}, rope attention_scaling "
          f"{m.model.rotary_emb.attention_scaling}, inv_freq {m.model.rotary_emb.inv_freq.tolist()}")
    seqs = make_sequences(seed, kw["vocab_size"], lengths)
    all_rows = [score(m, ids) for ids in seqs]
    write_reference(os.path.join(d, "reference.txt"), name, "f32", seqs, all_rows)
    flat = [r for rows in all_rows for r in rows]
    lps = [r[2] for r in flat]
    print(f"{name}: lens {lengths}, logprob range [{min(lps):.3f}, {max(lps):.3f}] "
          f"(uniform {-math.log(kw['vocab_size']):.3f}), min top1-top2 margin "
          f"{min(r[5] for r in flat):.3e}, tie lines {sum(r[5] < TIE_MARGIN for r in flat)}, "
          f"files {sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))} bytes")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out, exist_ok=True)
    for name in args.only or list(MODELS):
        build(name, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
