#!/usr/bin/env python3
"""Build tests/fixtures/gguf_arch/: GGUF files as llama.cpp writes them, for
the llama-family architectures the engine maps (issue 21).

Run by hand (never at test time); CI only reads the committed files.
llama.cpp is NOT part of this repository: pass the folder of its source
(vendor/llama.cpp of PyPI's llama-cpp-python sdist was used) and a built
llama-quantize.  See tests/reference/README.md ("GGUF architectures").

For every architecture below this script
  1. builds a tiny RANDOM transformers checkpoint (weights from a fixed-seed
     torch.Generator, rounded to float16 so that the f16 GGUF holds them
     exactly) and saves it with save_pretrained (the "safetensors twin"),
     beside a tiny byte-level BPE tokenizer (tokenizers, trained on a fixed
     text; 300 tokens, <s> = 0, </s> = 1, <|endoftext|> = 2, which Qwen2Tokenizer
     adds when it is missing);
  2. converts it with llama.cpp's convert_hf_to_gguf.py --outtype f16 (in a
     subprocess; the pre-tokenizer hash check is bypassed with "gpt-2",
     since a 300-token tokenizer has no known hash -- the engine's GGUF
     tokenizer accepts that name);
  3. quantises the f16 file with llama-quantize to each type in QUANTS
     (--pure: every 2-D weight in that one type, so every block layout is
     exercised on every tensor kind; Q4_K_M: llama.cpp's own mix);
  4. writes for each GGUF, in <arch>-<type>/:
       model.gguf
       reference.txt  (the test_forward format, see make_forward_fixtures.py):
                      f16: transformers on the safetensors twin;
                      quantised: transformers on the same model whose weights
                      are the `gguf` package's dequantize of every tensor
                      (llama.cpp's q/k row permutation undone for llama);
       dequant.txt    one line per tensor: name ggml_type n_elems sha256 of
                      the little-endian float32 bytes that gguf.quants.
                      dequantize returns (raw GGUF row order).
Only config.json of the twin is kept (as twin_config.json in the f16 folder),
not its weights: the f16 GGUF holds them exactly.

Sizes: hidden 256 (K-quant rows are multiples of 256), 4 heads of 64, 2 KV
heads, intermediate 256, 1 layer, vocab 300 (COMMON, ARCHS): about 1 MB per f16
file, 0.2-0.5 MB per quantised one.

Usage:
  python tests/reference/make_gguf_arch_fixtures.py --llama-cpp DIR [--quantize BIN] [--out DIR] [--only ARCH ...]
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_forward_fixtures import score, write_reference  # noqa: E402  (the same reference.txt rows and format)


# name, HF class, config kwargs, seed
COMMON = dict(hidden_size=256, intermediate_size=256, num_hidden_layers=1, num_attention_heads=4,
              num_key_value_heads=2, head_dim=64, vocab_size=300, max_position_embeddings=256,
              bos_token_id=0, eos_token_id=1)
ARCHS = {
    "llama": ("LlamaConfig", "LlamaForCausalLM", dict(rms_norm_eps=1e-5, rope_theta=10000.0,
                                                       tie_word_embeddings=False), 2101),
    "mistral": ("MistralConfig", "MistralForCausalLM", dict(rms_norm_eps=1e-5, rope_theta=1e6, sliding_window=None,
                                                             tie_word_embeddings=False), 2102),
    "qwen2": ("Qwen2Config", "Qwen2ForCausalLM", dict(rms_norm_eps=1e-6, rope_theta=10000.0,
                                                       tie_word_embeddings=True, use_sliding_window=False), 2103),
    "qwen3": ("Qwen3Config", "Qwen3ForCausalLM", dict(rms_norm_eps=1e-6, rope_theta=1e6, attention_bias=False,
                                                       tie_word_embeddings=True, use_sliding_window=False), 2104),
    "phi3": ("Phi3Config", "Phi3ForCausalLM", dict(rms_norm_eps=1e-5, rope_theta=10000.0, sliding_window=None,
                                                    original_max_position_embeddings=256, tie_word_embeddings=False,
                                                    pad_token_id=1), 2105),
}
# Every architecture: f16 + Q4_K_M.  llama additionally every type, --pure.
QUANTS_ALL = ["Q5_0", "Q5_1", "Q2_K", "Q3_K_S", "Q4_K_S", "Q5_K_S", "Q6_K"]
STD = {"embed_tokens": 0.25, "lm_head": 0.2, "q_proj": 0.15, "k_proj": 0.15, "qkv_proj": 0.15,
       "v_proj": 0.1, "o_proj": 0.1, "mlp": 0.1, "bias": 0.2}
SEQ_LENGTHS = [40, 72]

TOKENIZER_TEXT = (
    "GQLA is MLA with the K/V up-projection indexed by KV group instead of by query head. "
    "One set of weights then has two algebraically equal decoding paths. The quick brown fox "
    "jumps over the lazy dog; 0123456789 times. Existing GQA checkpoints are converted to GQLA "
    "without pre-training, and the paths must not disagree beyond float noise.\n") * 4


def init_weights(model, seed):
    """Every parameter from a fixed-seed generator (sorted names), rounded to f16."""
    import torch
    gen = torch.Generator().manual_seed(seed)
    params = dict(model.named_parameters())
    seen = set()
    for name in sorted(params):
        p = params[name]
        if id(p) in seen:
            continue
        seen.add(id(p))
        if name.endswith("norm.weight"):
            v = 0.6 + 0.8 * torch.rand(p.shape, generator=gen, dtype=torch.float32)
        elif name.endswith(".bias"):
            v = STD["bias"] * torch.randn(p.shape, generator=gen, dtype=torch.float32)
        else:
            key = next((k for k in STD if k in name), None)
            if key is None:
                raise RuntimeError(f"no init rule for {name}")
            v = STD[key] * torch.randn(p.shape, generator=gen, dtype=torch.float32)
        with torch.no_grad():
            p.copy_(v.half().float())


def make_tokenizer(d, phi3):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<s>", "</s>", "<|endoftext|>"], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([TOKENIZER_TEXT], trainer)
    assert tok.get_vocab_size() == 300, tok.get_vocab_size()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>")
    fast.save_pretrained(d)
    cfgp = os.path.join(d, "tokenizer_config.json")
    with open(cfgp) as f:
        tc = json.load(f)
    # convert_hf_to_gguf's Phi3 vocab path takes the GPT-2 route only for this class.
    tc["tokenizer_class"] = "GPT2Tokenizer" if phi3 else "PreTrainedTokenizerFast"
    with open(cfgp, "w") as f:
        json.dump(tc, f, indent=2)


def build_twin(arch, d):
    import torch
    import transformers
    cfg_cls, model_cls, kw, seed = ARCHS[arch]
    kwargs = dict(COMMON, **kw)
    if arch == "phi3":
        kwargs.pop("head_dim")  # Phi3 derives it from hidden / heads
    cfg = getattr(transformers, cfg_cls)(**kwargs)
    torch.manual_seed(0)
    model = getattr(transformers, model_cls)(cfg).eval()
    init_weights(model, seed)
    if os.path.isdir(d):
        shutil.rmtree(d)
    model.save_pretrained(d, safe_serialization=True)
    gc = os.path.join(d, "generation_config.json")
    if os.path.exists(gc):
        os.remove(gc)
    make_tokenizer(d, arch == "phi3")
    return seed


def convert(llama_cpp, twin, out):
    """convert_hf_to_gguf.py in a subprocess (it puts its own gguf-py first on sys.path)."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "import conversion.base as b; "
        "b.TextModel.get_vocab_base_pre = lambda self, tok: 'gpt-2'; "
        "sys.argv = ['convert_hf_to_gguf.py', sys.argv[2], '--outtype', 'f16', '--outfile', sys.argv[3]]; "
        "import convert_hf_to_gguf as c; c.main()"
    )
    r = subprocess.run([sys.executable, "-c", code, llama_cpp, twin, out], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"convert_hf_to_gguf.py failed on {twin}:\n{r.stderr[-4000:]}")


def quantize(binary, src, dst, qtype):
    args = [binary, "--pure"] if qtype != "Q4_K_M" else [binary]
    subprocess.run(args + [src, dst, qtype, "1"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def gguf_to_hf_name(name, arch):
    top = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
           "output.weight": "lm_head.weight"}
    if name in top:
        return top[name]
    parts = name.split(".")
    assert parts[0] == "blk", name
    layer, part, suffix = parts[1], parts[2], parts[3]
    blk = {"attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
           "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
           "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
           "ffn_down": "mlp.down_proj", "attn_q_norm": "self_attn.q_norm", "attn_k_norm": "self_attn.k_norm",
           "attn_qkv": "self_attn.qkv_proj"}
    hf = blk[part]
    if arch == "phi3" and part == "ffn_up":
        hf = "mlp.gate_up_proj"
    return f"model.layers.{layer}.{hf}.{suffix}"


def read_gguf(path, arch, cfg):
    """{hf name: float32 array} via the gguf package's dequantize, plus dequant.txt lines."""
    import numpy as np
    from gguf import GGUFReader
    from gguf.quants import dequantize
    r = GGUFReader(path)
    out, lines = {}, []
    H, Hkv = cfg.num_attention_heads, cfg.num_key_value_heads
    for t in r.tensors:
        w = dequantize(t.data, t.tensor_type).astype(np.float32, copy=False)
        w = np.ascontiguousarray(w.reshape([int(x) for x in reversed(t.shape.tolist())]))
        lines.append(f"{t.name} {t.tensor_type.name} {w.size} {hashlib.sha256(w.tobytes()).hexdigest()}")
        hf = gguf_to_hf_name(t.name, arch)
        if arch in ("llama", "mistral") and (hf.endswith("q_proj.weight") or hf.endswith("k_proj.weight")):
            n = H if "q_proj" in hf else Hkv
            d = w.shape[0] // n
            # GGUF row h*d + 2j + e holds HF row h*d + e*d/2 + j.
            w = w.reshape(n, d // 2, 2, -1).transpose(0, 2, 1, 3).reshape(n * d, -1)
        out[hf] = w
    return out, lines


def build(arch, args):
    import torch
    from transformers import AutoModelForCausalLM
    torch.set_num_threads(1)
    tmp = tempfile.mkdtemp(prefix=f"gguf-arch-{arch}-")
    try:
        twin = os.path.join(tmp, "twin")
        seed = build_twin(arch, twin)
        hf = AutoModelForCausalLM.from_pretrained(twin, dtype=torch.float32, attn_implementation="eager").eval()
        gen = torch.Generator().manual_seed(seed + 7777)
        seqs = [torch.randint(0, COMMON["vocab_size"], (n,), generator=gen).tolist() for n in SEQ_LENGTHS]
        f16 = os.path.join(tmp, "f16.gguf")
        convert(args.llama_cpp, twin, f16)
        types = ["F16"] + (["Q4_K_M"] + (QUANTS_ALL if arch == "llama" else []) if args.quantize else [])
        twin_sd = {k: v.detach().clone() for k, v in hf.state_dict().items()}
        for qt in types:
            d = os.path.join(args.out, f"{arch}-{qt.lower()}")
            os.makedirs(d, exist_ok=True)
            path = os.path.join(d, "model.gguf")
            if qt == "F16":
                shutil.copyfile(f16, path)
            else:
                quantize(args.quantize, f16, path, qt)
            weights, lines = read_gguf(path, arch, hf.config)
            with open(os.path.join(d, "dequant.txt"), "w") as f:
                f.write("gqla-gguf-dequant 1\n" + "\n".join(lines) + "\n")
            if qt == "F16":
                # The f16 GGUF holds the twin's weights exactly (asserted), so the
                # reference is transformers on the twin as saved.
                for k, v in weights.items():
                    assert torch.equal(torch.from_numpy(v), twin_sd[k]), k
                shutil.copyfile(os.path.join(twin, "config.json"), os.path.join(d, "twin_config.json"))
                model = hf
            else:
                sd = dict(twin_sd)
                for k, v in weights.items():
                    assert sd[k].shape == v.shape, (k, sd[k].shape, v.shape)
                    sd[k] = torch.from_numpy(v.copy())
                if "lm_head.weight" in sd and "lm_head.weight" not in weights:
                    sd["lm_head.weight"] = sd["model.embed_tokens.weight"]  # tied
                model = AutoModelForCausalLM.from_pretrained(twin, dtype=torch.float32,
                                                             attn_implementation="eager").eval()
                missing = model.load_state_dict(sd, strict=True)
                assert not missing.missing_keys and not missing.unexpected_keys
            rows = [score(model, s) for s in seqs]
            write_reference(os.path.join(d, "reference.txt"), f"{arch}-{qt.lower()}", qt.lower(), seqs, rows)
            kinds = sorted({ln.split()[1] for ln in lines})
            print(f"{arch}-{qt.lower()}: {os.path.getsize(path)} bytes, types {' '.join(kinds)}, "
                  f"log-probs {min(r[2] for rr in rows for r in rr):.2f}..{max(r[2] for rr in rows for r in rr):.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llama-cpp", required=True, help="llama.cpp source folder (has convert_hf_to_gguf.py)")
    ap.add_argument("--quantize", help="a built llama-quantize binary (without it: the f16 files only)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "fixtures", "gguf_arch"))
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args()
    for arch in ARCHS:
        if args.only and arch not in args.only:
            continue
        build(arch, args)


if __name__ == "__main__":
    main()
