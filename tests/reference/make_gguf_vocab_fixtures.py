#!/usr/bin/env python3
"""make_gguf_vocab_fixtures.py -- writes tests/fixtures/tokenizer/gguf_vocab/ for test_tokenizer_gguf_vocab.

    /work/venv-ref/py/bin/python tests/reference/make_gguf_vocab_fixtures.py --vocab-dir DIR/llama.cpp/models

DIR: the unpacked PyPI sdist llama-cpp-python==0.3.36.  Its models/ggml-vocab-NAME.gguf files are
the tokenizers of real models as llama.cpp's converter writes them into GGUF files
(tokenizer.ggml.model, .pre, tokens, token types, merges or scores), and NAME.gguf.inp/.out hold test
strings with the ids the model's REAL Hugging Face tokenizer gives them (AutoTokenizer,
add_special_tokens=False; convert_hf_to_gguf_update.py).  Never run at test time; deterministic.

Each vocabulary is pruned to what the test strings reach and renumbered, so that the fixture stays
small: a normal token is kept when it is one character or a substring of a test string in the
tokenizer's own alphabet (byte-level chars for "gpt2" models, '▁' for spaces for "llama" ones); every
other token type (control, user-defined, unknown, byte) is kept; a merge when both sides and their
concatenation are kept (BPE only ever applies merges whose result is a substring of the word, and
removing merges that are never applied changes no result).  Ids are renumbered in their old order,
merges keep their relative ranks, and the expected ids are translated with the same map.
test_tokenizer_gguf_vocab checks the engine on the pruned files and, when GQ_LLAMACPP_VOCAB_DIR
points at DIR, on the full files against the untranslated ids too (run by hand: see the README).

Writes: NAME.gguf (tokenizer keys only, no tensors) and NAME.json {"tests": [{"text", "ids"}]}.
"""
import argparse
import json
import os
import sys

import gguf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_family_tokenizers as fam  # noqa: E402  (its GGUF vocabulary and llama.cpp test readers)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "tests", "fixtures", "tokenizer", "gguf_vocab")

# The vocabularies whose tokenizer.ggml.pre the engine knows, and their families.
NAMES = ["qwen2", "qwen35", "llama-bpe", "llama-spm", "phi-3", "deepseek-llm", "deepseek-coder", "gpt-2",
         "starcoder", "command-r", "mpt", "refact"]


def byte_char_map():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE = byte_char_map()


def fval(r, key):
    f = r.fields.get(key)
    if f is None:
        return None
    v = f.parts[f.data[0]]
    if f.types[0] == gguf.GGUFValueType.STRING:
        return bytes(v).decode("utf-8")
    return v[0].item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab-dir", required=True)
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    for name in NAMES:
        src = os.path.join(args.vocab_dir, f"ggml-vocab-{name}.gguf")
        tests = fam.llamacpp_tests(src)
        r = gguf.GGUFReader(src)
        model = fval(r, "tokenizer.ggml.model")
        v = fam.read_vocab(src)
        toks, types, scores, merges = v["tokens"], v["types"], v["scores"], v["merges"]
        if model == "gpt2":
            alph = ["".join(BYTE[b] for b in t.encode("utf-8")) for t, _ in tests]
        else:
            alph = ["▁" + t.replace(" ", "▁") for t, _ in tests]
        subs = set()
        for a in alph:
            for i in range(len(a)):
                for j in range(i + 1, min(len(a), i + 48) + 1):
                    subs.add(a[i:j])
        keep = [i for i, (t, ty) in enumerate(zip(toks, types)) if ty != 1 or len(t) == 1 or t in subs]
        # every id the real tokenizer produced must survive
        for _, ids in tests:
            for x in ids:
                if x not in set(keep):
                    keep.append(x)
        keep = sorted(set(keep))
        newid = {old: k for k, old in enumerate(keep)}
        kept_text = {toks[i] for i in keep}
        w = gguf.GGUFWriter(os.path.join(OUT, f"{name}.gguf"), arch=fval(r, "general.architecture") or "llama")
        w.add_tokenizer_model(model)
        pre = fval(r, "tokenizer.ggml.pre")
        if pre:
            w.add_tokenizer_pre(pre)
        w.add_token_list([toks[i] for i in keep])
        w.add_token_types([types[i] for i in keep])
        if scores:
            w.add_token_scores([scores[i] for i in keep])
        n_merges = 0
        if merges:
            km = []
            for m in merges:
                a, b = m.split(" ", 1)
                if a in kept_text and b in kept_text and a + b in kept_text and a + b in subs:
                    km.append(m)
            n_merges = len(km)
            w.add_token_merges(km)
        for key, adder in (("tokenizer.ggml.bos_token_id", w.add_bos_token_id),
                           ("tokenizer.ggml.eos_token_id", w.add_eos_token_id),
                           ("tokenizer.ggml.unknown_token_id", w.add_unk_token_id),
                           ("tokenizer.ggml.padding_token_id", w.add_pad_token_id)):
            v = fval(r, key)
            if v is not None and v in newid:
                adder(newid[v])
        for key, adder in (("tokenizer.ggml.add_bos_token", w.add_add_bos_token),
                           ("tokenizer.ggml.add_eos_token", w.add_add_eos_token),
                           ("tokenizer.ggml.add_space_prefix", w.add_add_space_prefix)):
            v = fval(r, key)
            if v is not None:
                adder(bool(v))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        with open(os.path.join(OUT, f"{name}.json"), "w", encoding="utf-8") as fo:
            json.dump({"source": f"ggml-vocab-{name}.gguf (+.inp/.out) of llama-cpp-python 0.3.36's llama.cpp",
                       "model": model, "pre": pre, "vocab_full": len(toks), "vocab_kept": len(keep),
                       "tests": [{"text": t, "ids": [newid[x] for x in ids], "ids_full": ids} for t, ids in tests]},
                      fo, ensure_ascii=True, indent=0)
            fo.write("\n")
        print(f"{name}: {model} pre={pre} vocab {len(toks)} -> {len(keep)}, merges "
              f"{len(merges) if merges else 0} -> {n_merges}, {len(tests)} tests", flush=True)


if __name__ == "__main__":
    sys.exit(main())
