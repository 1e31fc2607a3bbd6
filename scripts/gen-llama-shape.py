#!/usr/bin/env python3
"""gen-llama-shape.py OUT_DIR [SHAPE] — a LLaMA checkpoint of a real model's
shape with random bf16 weights, for memory and speed benchmarks (not a test
fixture: nothing about its numbers is checked).  Pure Python, no numpy.

SHAPE: llama-3.2-1b (default; 1.24 B parameters, 2.47 GB) or llama-3-8b-attn2
(LLaMA-3-8B's layer shape, 2 layers, small vocabulary).

The weights repeat a 1 MiB block of random bf16 values in [-1/16, 1/16]
(finite, so the loader's NaN/Inf check passes); every page of the file is
still its own page, which is what a peak-RSS measurement needs.
"""
import json
import os
import random
import struct
import sys

SHAPES = {
    "llama-3.2-1b": dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                         num_attention_heads=32, num_key_value_heads=8, head_dim=64,
                         vocab_size=128256, tie_word_embeddings=True, rope_theta=500000.0,
                         max_position_embeddings=131072),
    "llama-3-8b-attn2": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=2,
                             num_attention_heads=32, num_key_value_heads=8, head_dim=128,
                             vocab_size=32000, tie_word_embeddings=False, rope_theta=500000.0,
                             max_position_embeddings=8192),
}


def tensors(c):
    D, I, H, G, d = c["hidden_size"], c["intermediate_size"], c["num_attention_heads"], \
        c["num_key_value_heads"], c["head_dim"]
    yield "model.embed_tokens.weight", [c["vocab_size"], D]
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        yield p + "input_layernorm.weight", [D]
        yield p + "self_attn.q_proj.weight", [H * d, D]
        yield p + "self_attn.k_proj.weight", [G * d, D]
        yield p + "self_attn.v_proj.weight", [G * d, D]
        yield p + "self_attn.o_proj.weight", [D, H * d]
        yield p + "post_attention_layernorm.weight", [D]
        yield p + "mlp.gate_proj.weight", [I, D]
        yield p + "mlp.up_proj.weight", [I, D]
        yield p + "mlp.down_proj.weight", [D, I]
    yield "model.norm.weight", [D]
    if not c["tie_word_embeddings"]:
        yield "lm_head.weight", [c["vocab_size"], D]


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: gen-llama-shape.py OUT_DIR [" + "|".join(SHAPES) + "]")
    out, shape = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "llama-3.2-1b"
    c = dict(SHAPES[shape])
    os.makedirs(out, exist_ok=True)
    config = dict(model_type="llama", architectures=["LlamaForCausalLM"], rms_norm_eps=1e-5,
                  hidden_act="silu", torch_dtype="bfloat16", bos_token_id=1, eos_token_id=2, **c)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    rng = random.Random(42)
    # bf16 = top half of a float32: sign, exponent 118..122 (2^-9 .. 2^-5), random mantissa
    block = bytearray()
    for _ in range(1 << 19):
        bits = (rng.getrandbits(1) << 15) | ((118 + rng.randrange(5)) << 7) | rng.getrandbits(7)
        block += struct.pack("<H", bits)
    norm = struct.pack("<H", 0x3F80)  # 1.0 for the RMSNorm weights
    header, offset, names = {}, 0, list(tensors(c))
    for name, shp in names:
        n = 1
        for s in shp:
            n *= s
        header[name] = dict(dtype="BF16", shape=shp, data_offsets=[offset, offset + 2 * n])
        offset += 2 * n
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * ((8 - len(head) % 8) % 8)
    tmp = os.path.join(out, "model.safetensors.tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head)
        for name, shp in names:
            nbytes = header[name]["data_offsets"][1] - header[name]["data_offsets"][0]
            if len(shp) == 1:
                f.write(norm * (nbytes // 2))
                continue
            while nbytes > 0:
                k = min(nbytes, len(block))
                f.write(block[:k])
                nbytes -= k
    os.replace(tmp, os.path.join(out, "model.safetensors"))
    print(f"{out}: {shape}, {offset / 1e9:.2f} GB of bf16 weights")


if __name__ == "__main__":
    main()
