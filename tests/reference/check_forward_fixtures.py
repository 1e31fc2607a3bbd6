#!/usr/bin/env python3
"""Independent float64 NumPy re-implementation of the LLaMA-family forward pass
(conversion.md section 1: RMSNorm, rotate_half RoPE with default/llama3
frequencies, GQA with consecutive heads per group, optional q/k/v biases,
SwiGLU, tied/untied head) that reads config.json (HF 4.x or 5.x spelling) and
model.safetensors directly and compares with every reference.txt in
tests/fixtures/forward/*-{f32,bf16}/. Run by hand after make_forward_fixtures.py;
no transformers import, so it checks the fixtures against the spec math rather
than against transformers itself.

Usage: python tests/reference/check_forward_fixtures.py [DIR ...]
"""

import glob
import json
import math
import os
import sys

import numpy as np
from safetensors.numpy import load_file

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_weights(d):
    try:
        w = load_file(os.path.join(d, "model.safetensors"))
        return {k: v.astype(np.float64) for k, v in w.items()}
    except (TypeError, ValueError):  # numpy has no bfloat16: go through torch
        from safetensors.torch import load_file as lt
        import torch
        return {k: v.to(torch.float64).numpy() for k, v in
                lt(os.path.join(d, "model.safetensors")).items()}


def rope_params(cfg):
    rp = cfg.get("rope_parameters")
    if rp is None:
        rp = dict(cfg.get("rope_scaling") or {})
        rp["rope_theta"] = cfg.get("rope_theta", 10000.0)
    rp = dict(rp)
    rp.setdefault("rope_type", rp.pop("type", "default"))
    return rp


def inv_freq(rp, n):
    theta = rp["rope_theta"]
    # HF computes the default inv_freq in float32; the rest here is float64
    w = (1.0 / (np.float32(theta) ** (np.arange(0, n, 2, dtype=np.int64).astype(np.float32) / n))
         ).astype(np.float32).astype(np.float64)
    if rp["rope_type"] == "llama3":
        f, a, b, M = (rp["factor"], rp["low_freq_factor"], rp["high_freq_factor"],
                      rp["original_max_position_embeddings"])
        out = []
        for wj in w:
            lam = 2 * math.pi / wj
            if lam > M / a:
                out.append(wj / f)
            elif lam < M / b:
                out.append(wj)
            else:
                s = (M / lam - a) / (b - a)
                out.append((1 - s) * wj / f + s * wj)
        w = np.array(out)
    else:
        assert rp["rope_type"] == "default", rp
    return w


def rmsnorm(x, g, eps):
    return g * x / np.sqrt((x * x).mean(-1, keepdims=True) + eps)


def forward(cfg, W, ids):
    D = cfg["hidden_size"]
    H = cfg["num_attention_heads"]
    G = cfg.get("num_key_value_heads", H)
    d = cfg.get("head_dim") or D // H
    eps = cfg["rms_norm_eps"]
    L = cfg["num_hidden_layers"]
    T = len(ids)
    w = inv_freq(rope_params(cfg), d)
    ang = np.arange(T)[:, None] * w[None, :]            # [T, d/2]
    cos = np.concatenate([np.cos(ang)] * 2, -1)
    sin = np.concatenate([np.sin(ang)] * 2, -1)

    def rope(x):                                        # x [heads, T, d]
        x1, x2 = x[..., :d // 2], x[..., d // 2:]
        return x * cos + np.concatenate([-x2, x1], -1) * sin

    x = W["model.embed_tokens.weight"][ids]
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for l in range(L):
        p = f"model.layers.{l}."
        a = rmsnorm(x, W[p + "input_layernorm.weight"], eps)
        def proj(n):
            y = a @ W[p + f"self_attn.{n}.weight"].T
            b = W.get(p + f"self_attn.{n}.bias")
            return y if b is None else y + b
        q = proj("q_proj").reshape(T, H, d).transpose(1, 0, 2)
        k = proj("k_proj").reshape(T, G, d).transpose(1, 0, 2)
        v = proj("v_proj").reshape(T, G, d).transpose(1, 0, 2)
        q, k = rope(q), rope(k)
        gs = H // G
        o = np.empty((H, T, d))
        for h in range(H):
            s = q[h] @ k[h // gs].T / math.sqrt(d) + mask
            s = np.exp(s - s.max(-1, keepdims=True))
            o[h] = (s / s.sum(-1, keepdims=True)) @ v[h // gs]
        x = x + o.transpose(1, 0, 2).reshape(T, H * d) @ W[p + "self_attn.o_proj.weight"].T
        m = rmsnorm(x, W[p + "post_attention_layernorm.weight"], eps)
        gt = m @ W[p + "mlp.gate_proj.weight"].T
        up = m @ W[p + "mlp.up_proj.weight"].T
        x = x + (gt / (1 + np.exp(-gt)) * up) @ W[p + "mlp.down_proj.weight"].T
    x = rmsnorm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else W["lm_head.weight"]
    z = x @ head.T
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def parse_reference(path):
    with open(path) as f:
        lines = f.read().split("\n")
    assert lines[0] == "gqla-forward-ref 1", lines[0]
    h = lines[1].split()
    nseq = int(h[5])
    i, seqs = 2, []
    for k in range(nseq):
        s = lines[i].split(); i += 1
        assert s[0] == "seq" and int(s[1]) == k
        T = int(s[3])
        ids = [int(t) for t in lines[i].split()[1:]]; i += 1
        assert len(ids) == T
        rows = []
        for pos in range(1, T):
            r = lines[i].split(); i += 1
            assert int(r[0]) == pos and int(r[1]) == ids[pos]
            rows.append((int(r[1]), float(r[2]), int(r[3]), float(r[4]), len(r) == 6 and r[5] == "tie"))
        seqs.append((ids, rows))
    return h[1], h[3], seqs


def main(dirs):
    worst = 0.0
    for d in dirs:
        with open(os.path.join(d, "config.json")) as f:
            cfg = json.load(f)
        W = load_weights(d)
        name, dtype, seqs = parse_reference(os.path.join(d, "reference.txt"))
        md, ma = 0.0, 0
        for ids, rows in seqs:
            lp = forward(cfg, W, ids)
            for pos, (tok, ref, am, mref, tie) in enumerate(rows, start=1):
                md = max(md, abs(lp[pos - 1, tok] - ref), abs(lp[pos - 1, am] - mref))
                if not tie and int(np.argmax(lp[pos - 1])) != am:
                    ma += 1
        worst = max(worst, md)
        print(f"{os.path.basename(d):20s} max |logprob f64 numpy - reference| {md:.3e}, "
              f"argmax mismatches (non-tie) {ma}")
    return 0 if worst < 1e-4 else 1


if __name__ == "__main__":
    dirs = sys.argv[1:] or sorted(glob.glob(os.path.join(REPO, "tests", "fixtures", "forward", "*-f32"))
                                  + glob.glob(os.path.join(REPO, "tests", "fixtures", "forward", "*-bf16")))
    sys.exit(main(dirs))
