#!/usr/bin/env python3
"""make_gguf_fixtures.py -- reference data for tests/test_gguf.c.

Run by hand (never at test time) with the reference environment:

    /work/venv-ref/py/bin/python tests/reference/make_gguf_fixtures.py [--models DIR]

(a) tests/fixtures/gguf/tiny.gguf: a small synthetic llama-architecture GGUF
    written with gguf.GGUFWriter: metadata of most value types, and tensors of
    every type gqla-eval reads (F32, F16, BF16, Q8_0, Q4_0, Q4_1) with odd
    shapes, quantised with gguf.quants.  Beside it:
      tiny_expected.f32  the gguf package's dequantisation of every tensor,
                         read back from the file with GGUFReader, as raw
                         little-endian float32 concatenated in file order
                         (GGUF layout, i.e. numpy row-major with the shape
                         reversed to outermost first).
    blk.0.attn_q.weight is stored permuted the way llama.cpp's converter
    permutes q_proj; its HF-layout value at (row r, col c) is r * 1000 + c, so
    the C test can check the un-permutation without any reference numbers.

(b) tests/fixtures/gguf/smollm2_checksums.txt: for every tensor of
    models/SmolLM2-135M-Instruct.Q4_1.gguf, FNV-1a 64 of
      - the gguf package's dequantised float32 bytes in GGUF layout, and
      - the same tensor as transformers' GGUF loader produces it (HF name and
        layout, torch.float32), i.e. after its reverse permutation of q/k.
    Line format: gguf_name hf_name n_elems fnv_gguf fnv_hf   (hex, 16 digits).
"""
import argparse
from importlib.metadata import version as _version
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXDIR = os.path.join(ROOT, "tests", "fixtures", "gguf")


# -------------------------------------------------------------------- (a) tiny

# Tiny llama: L=1, D=64, H=4, Hkv=2, Dh=16, I=96, V=48.
D, H, HKV, DH, I, V = 64, 4, 2, 16, 96, 48


def permute_like_converter(w: np.ndarray, n_head: int) -> np.ndarray:
    """HF -> GGUF row order for q/k (llama.cpp's converter): within each head
    the rows [first half | second half] are interleaved."""
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
             .swapaxes(1, 2).reshape(w.shape))


def make_tiny(path: str, expected_path: str) -> None:
    rng = np.random.default_rng(20240601)
    w = gguf.GGUFWriter(path, "llama")
    w.add_name("gqla tiny test model")
    w.add_custom_alignment(64)
    w.add_context_length(128)
    w.add_embedding_length(D)
    w.add_block_count(1)
    w.add_feed_forward_length(I)
    w.add_head_count(H)
    w.add_head_count_kv(HKV)
    w.add_rope_dimension_count(DH)
    w.add_rope_freq_base(50000.0)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_vocab_size(V)
    w.add_tokenizer_model("gpt2")
    toks = ["<s>", "</s>", "a\x00b"] + [f"tok{i}" for i in range(3, V)]
    w.add_token_list(toks)
    w.add_token_scores([float(-i) * 0.5 for i in range(V)])
    w.add_token_types([1 if i > 1 else 3 for i in range(V)])
    w.add_bos_token_id(0)
    w.add_eos_token_id(1)
    # Odd metadata for the getters.
    w.add_uint8("test.u8", 200)
    w.add_int16("test.i16", -1234)
    w.add_int32("test.neg", -5)
    w.add_uint64("test.u64_big", (1 << 63) + 5)
    w.add_float64("test.f64", 0.1)
    w.add_bool("test.bool", True)
    w.add_string("test.str", "héllo")

    def q(x, qt):
        return gguf.quants.quantize(x.astype(np.float32), qt)

    tensors = []

    def add(name, arr, qt):
        """arr: HF-layout float32, shape outermost first."""
        if qt == Q.F32:
            w.add_tensor(name, arr.astype(np.float32))
        elif qt == Q.F16:
            w.add_tensor(name, arr.astype(np.float16))
        else:
            w.add_tensor(name, q(arr, qt), raw_dtype=qt)
        tensors.append(name)

    hf_q = (np.arange(H * DH)[:, None] * 1000 + np.arange(D)[None, :]).astype(np.float32)
    add("token_embd.weight", rng.standard_normal((V, D)).astype(np.float32), Q.Q8_0)
    add("blk.0.attn_norm.weight", 1 + 0.1 * rng.standard_normal(D).astype(np.float32), Q.F32)
    add("blk.0.attn_q.weight", permute_like_converter(hf_q, H), Q.F32)
    add("blk.0.attn_k.weight",
        permute_like_converter(rng.standard_normal((HKV * DH, D)).astype(np.float32), HKV), Q.Q4_0)
    add("blk.0.attn_v.weight", rng.standard_normal((HKV * DH, D)).astype(np.float32), Q.Q4_1)
    add("blk.0.attn_output.weight", rng.standard_normal((D, H * DH)).astype(np.float32), Q.BF16)
    add("blk.0.ffn_norm.weight", 1 + 0.1 * rng.standard_normal(D).astype(np.float32), Q.F32)
    add("blk.0.ffn_gate.weight", rng.standard_normal((I, D)).astype(np.float32), Q.F16)
    add("blk.0.ffn_up.weight", rng.standard_normal((I, D)).astype(np.float32), Q.Q4_1)
    add("blk.0.ffn_down.weight", rng.standard_normal((D, I)).astype(np.float32), Q.Q8_0)
    add("output_norm.weight", 1 + 0.1 * rng.standard_normal(D).astype(np.float32), Q.F32)
    # Odd shapes and every F16 bit pattern (NaN and Inf included).
    add("test.odd_f32", rng.standard_normal((3, 5, 7)).astype(np.float32), Q.F32)
    add("test.q4_0_3d", (3 * rng.standard_normal((3, 5, 64))).astype(np.float32), Q.Q4_0)
    add("test.bf16_odd", rng.standard_normal((7, 13)).astype(np.float32) * 1e-3, Q.BF16)
    add("test.q8_0_4d", rng.standard_normal((2, 1, 3, 32)).astype(np.float32), Q.Q8_0)
    add("test.q4_1_1d", (rng.standard_normal(96) + 2.0).astype(np.float32), Q.Q4_1)
    w.add_tensor("test.f16_all", np.arange(65536, dtype=np.uint32).astype(np.uint16)
                 .view(np.float16).reshape(256, 256))
    tensors.append("test.f16_all")
    # BF16 with every high half pattern would need raw bytes; the random ones
    # plus signed zero/subnormal come through test.bf16_odd.

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    r = gguf.GGUFReader(path)
    out = []
    for t in r.tensors:
        assert t.name == tensors[len(out)], (t.name, tensors[len(out)])
        vals = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32, copy=False)
        assert vals.size == t.n_elements
        out.append(np.ascontiguousarray(vals).ravel())
        print(f"  {t.name:28s} {t.tensor_type.name:5s} ne={list(t.shape)}")
    np.concatenate(out).astype("<f4").tofile(expected_path)
    print(f"wrote {path} ({os.path.getsize(path)} bytes) and {expected_path}")


# ------------------------------------------------------------------ (b) smollm2

def gguf_to_hf(name: str):
    parts = name.split(".")
    top = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}
    if parts[0] in top:
        return top[parts[0]] + "." + ".".join(parts[1:])
    if parts[0] == "blk":
        sub = {"attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
               "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
               "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
               "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"}
        return f"model.layers.{parts[1]}.{sub[parts[2]]}." + ".".join(parts[3:])
    return None


def fnv_np(arr: np.ndarray) -> int:
    """FNV-1a 64 over the bytes of a float32 array, computed with a tiny C
    helper built on the fly (pure Python over 540 MB would take too long)."""
    return _fnv_c(np.ascontiguousarray(arr, dtype="<f4").view(np.uint8))


_fnv_lib = None


def _fnv_c(u8: np.ndarray) -> int:
    global _fnv_lib
    if _fnv_lib is None:
        import ctypes
        import subprocess
        import tempfile
        d = tempfile.mkdtemp()
        src = os.path.join(d, "fnv.c")
        so = os.path.join(d, "fnv.so")
        with open(src, "w") as f:
            f.write("#include <stdint.h>\n#include <stddef.h>\n"
                    "uint64_t fnv(const unsigned char *p, size_t n){uint64_t h=0xcbf29ce484222325ULL;"
                    "for(size_t i=0;i<n;i++){h^=p[i];h*=0x100000001b3ULL;}return h;}\n")
        subprocess.check_call(["cc", "-O2", "-shared", "-fPIC", "-o", so, src])
        _fnv_lib = ctypes.CDLL(so)
        _fnv_lib.fnv.restype = ctypes.c_uint64
        _fnv_lib.fnv.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    return int(_fnv_lib.fnv(u8.ctypes.data, u8.size))


def make_smollm2(models_dir: str, out_path: str) -> None:
    fname = "SmolLM2-135M-Instruct.Q4_1.gguf"
    path = os.path.join(models_dir, fname)
    if not os.path.exists(path):
        print(f"skip SmolLM2: {path} not found")
        return
    import torch
    from transformers import AutoModelForCausalLM

    r = gguf.GGUFReader(path)
    model = AutoModelForCausalLM.from_pretrained(models_dir, gguf_file=fname, dtype=torch.float32)
    sd = model.state_dict()
    lines = []
    nbits = 0
    for t in r.tensors:
        vals = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32, copy=False)
        hf = gguf_to_hf(t.name)
        ht = sd[hf].detach().to(torch.float32).contiguous().numpy()
        assert ht.size == vals.size, (t.name, ht.shape, vals.shape)
        f_g = fnv_np(vals)
        f_h = fnv_np(ht)
        lines.append(f"{t.name} {hf} {vals.size} {f_g:016x} {f_h:016x}\n")
        nbits += 1
    with open(out_path, "w") as f:
        f.write(f"# {fname}: FNV-1a 64 of float32 bytes; gguf {_version('gguf')}, "
                f"via gguf.quants.dequantize (GGUF layout); hf via transformers {_version('transformers')} GGUF loader\n")
        f.write("# gguf_name hf_name n_elems fnv_gguf_layout fnv_hf_layout\n")
        f.writelines(lines)
    print(f"wrote {out_path}: {nbits} tensors")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=os.path.join(ROOT, "models"))
    ap.add_argument("--skip-smollm2", action="store_true")
    a = ap.parse_args()
    os.makedirs(FIXDIR, exist_ok=True)
    make_tiny(os.path.join(FIXDIR, "tiny.gguf"), os.path.join(FIXDIR, "tiny_expected.f32"))
    if not a.skip_smollm2:
        make_smollm2(a.models, os.path.join(FIXDIR, "smollm2_checksums.txt"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
