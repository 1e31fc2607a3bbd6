#!/usr/bin/env python3
"""make_seeds.py — write the small seed corpora of tests/fuzz/corpus/<target>/
from the committed fixtures (tests/fixtures/, datasets/samples/).  Run by
hand after a format changes; the output is committed.  Standard library only.

Each seed stays small (a few KiB) so the fuzzer mutates structure, not bulk:
tokenizers are the fixture families cut to their first few hundred tokens and
the merges among them, models are a 1-layer llama of the sizes in
fuzz_safetensors.c's config, the GGUF files are the committed vocab-only ones
plus a tiny model written here.
"""
import gzip
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIX = os.path.join(ROOT, "tests", "fixtures")
SAMPLES = os.path.join(ROOT, "datasets", "samples")
SPLIT = b"\n#-#-#\n"


def out(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def rd(*p):
    with open(os.path.join(*p), "rb") as f:
        return f.read()


# ---- safetensors ------------------------------------------------------------------------

def f32(n, k=0):
    return struct.pack("<%df" % n, *[((i * 7 + k) % 13 - 6) / 16.0 for i in range(n)])


def bf16(n, k=0):
    raw = f32(n, k)
    return b"".join(raw[i + 2:i + 4] for i in range(0, len(raw), 4))


def f16(n, k=0):
    return struct.pack("<%de" % n, *[((i * 7 + k) % 13 - 6) / 16.0 for i in range(n)])


def safetensors(tensors, meta=True):
    """tensors: [(name, dtype, shape, bytes)]"""
    hdr, off, blob = {}, 0, b""
    if meta:
        hdr["__metadata__"] = {"format": "pt"}
    for name, dt, shape, data in tensors:
        hdr[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(data)]}
        off += len(data)
        blob += data
    h = json.dumps(hdr, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + blob


def llama_tensors(enc, dt, size):
    H, F, V, Hq, Hkv, D = 16, 24, 32, 4, 2, 4
    shapes = [("model.embed_tokens.weight", [V, H]), ("lm_head.weight", [V, H]), ("model.norm.weight", [H]),
              ("model.layers.0.input_layernorm.weight", [H]),
              ("model.layers.0.post_attention_layernorm.weight", [H]),
              ("model.layers.0.self_attn.q_proj.weight", [Hq * D, H]),
              ("model.layers.0.self_attn.k_proj.weight", [Hkv * D, H]),
              ("model.layers.0.self_attn.v_proj.weight", [Hkv * D, H]),
              ("model.layers.0.self_attn.o_proj.weight", [H, Hq * D]),
              ("model.layers.0.mlp.gate_proj.weight", [F, H]), ("model.layers.0.mlp.up_proj.weight", [F, H]),
              ("model.layers.0.mlp.down_proj.weight", [H, F])]
    res = []
    for k, (name, shape) in enumerate(shapes):
        n = 1
        for s in shape:
            n *= s
        res.append((name, dt, shape, enc(n, k)))
    return res


def seeds_safetensors():
    out("safetensors", "f32", b"\0" + safetensors(llama_tensors(f32, "F32", 4)))
    out("safetensors", "bf16", b"\0" + safetensors(llama_tensors(bf16, "BF16", 2)))
    out("safetensors", "f16_nometa", b"\0" + safetensors(llama_tensors(f16, "F16", 2), meta=False))
    # The real fixture's header with its data cut off (offsets past the end).
    real = rd(FIX, "forward", "llama-gqa-f32", "model.safetensors")
    n = struct.unpack("<Q", real[:8])[0]
    out("safetensors", "fixture_header_only", b"\0" + real[:8 + n] + real[8 + n:8 + n + 256])
    t = llama_tensors(bf16, "BF16", 2)
    shard = safetensors(t)
    index = json.dumps({"metadata": {"total_size": len(shard)},
                        "weight_map": {name: "a.safetensors" for name, _, _, _ in t}}, indent=1).encode()
    out("safetensors", "index", b"\1" + index + SPLIT + shard)


# ---- GGUF ------------------------------------------------------------------------------------

def gstr(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gkv(key, typ, val):
    b = gstr(key) + struct.pack("<I", typ)
    if typ == 4:
        b += struct.pack("<I", val)
    elif typ == 5:
        b += struct.pack("<i", val)
    elif typ == 6:
        b += struct.pack("<f", val)
    elif typ == 7:
        b += struct.pack("<B", val)
    elif typ == 8:
        b += gstr(val)
    elif typ == 9:
        et, items = val
        b += struct.pack("<IQ", et, len(items))
        for it in items:
            b += gstr(it) if et == 8 else struct.pack({5: "<i", 6: "<f"}[et], it)
    return b


def gguf_tiny():
    tokens = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % i for i in range(16)] + list("abcdefgh") + ["ab", "cd", "abcd", " a", " "]
    V = len(tokens)
    H, F, Hq, Hkv, D = 16, 24, 4, 2, 4
    kvs = [gkv("general.architecture", 8, "llama"), gkv("general.alignment", 4, 32),
           gkv("llama.block_count", 4, 1), gkv("llama.context_length", 4, 64),
           gkv("llama.embedding_length", 4, H), gkv("llama.feed_forward_length", 4, F),
           gkv("llama.attention.head_count", 4, Hq), gkv("llama.attention.head_count_kv", 4, Hkv),
           gkv("llama.rope.freq_base", 6, 10000.0), gkv("llama.attention.layer_norm_rms_epsilon", 6, 1e-5),
           gkv("llama.vocab_size", 4, V),
           gkv("tokenizer.ggml.model", 8, "llama"), gkv("tokenizer.ggml.tokens", 9, (8, tokens)),
           gkv("tokenizer.ggml.scores", 9, (6, [-float(i) for i in range(V)])),
           gkv("tokenizer.ggml.token_type", 9, (5, [3, 3, 3] + [6] * 16 + [1] * (V - 19))),
           gkv("tokenizer.ggml.bos_token_id", 4, 1), gkv("tokenizer.ggml.eos_token_id", 4, 2),
           gkv("tokenizer.ggml.add_bos_token", 7, 1)]
    # (name, ggml type, ne (innermost first), bytes)
    def q8_0(n):  # blocks of 32: f16 scale + 32 int8
        return b"".join(struct.pack("<e", 0.01) + bytes((i * 5) % 256 for i in range(32)) for _ in range(n // 32))
    tens = [("token_embd.weight", 0, [H, V], f32(H * V)), ("output_norm.weight", 0, [H], f32(H)),
            ("blk.0.attn_norm.weight", 0, [H], f32(H)), ("blk.0.ffn_norm.weight", 0, [H], f32(H)),
            ("blk.0.attn_q.weight", 1, [H, Hq * D], f16(H * Hq * D)),
            ("blk.0.attn_k.weight", 1, [H, Hkv * D], f16(H * Hkv * D)),
            ("blk.0.attn_v.weight", 8, [32, Hkv * D // 2], q8_0(32 * Hkv * D // 2)),
            ("blk.0.attn_output.weight", 0, [Hq * D, H], f32(H * Hq * D)),
            ("blk.0.ffn_gate.weight", 0, [H, F], f32(H * F)), ("blk.0.ffn_up.weight", 0, [H, F], f32(H * F)),
            ("blk.0.ffn_down.weight", 0, [F, H], f32(H * F))]
    info, data = b"", b""
    for name, typ, ne, raw in tens:
        data += b"\0" * (-len(data) % 32)
        info += gstr(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", x) for x in ne)
        info += struct.pack("<IQ", typ, len(data))
        data += raw
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tens), len(kvs)) + b"".join(kvs) + info
    head += b"\0" * (-len(head) % 32)
    return head + data


def seeds_gguf():
    out("gguf", "tiny_llama", gguf_tiny())
    for name in ("gpt-2", "deepseek-coder"):
        out("gguf", name, rd(FIX, "tokenizer", "gguf_vocab", name + ".gguf"))
    out("gguf", "fixture_tiny_head", rd(FIX, "gguf", "tiny.gguf")[:8192])


# ---- config.json -------------------------------------------------------------------------------

def seeds_config():
    fw = os.path.join(FIX, "forward")
    for d in sorted(os.listdir(fw)):
        p = os.path.join(fw, d, "config.json")
        if os.path.exists(p) and d.endswith("-f32"):
            out("config", d, rd(p))
    for d in sorted(os.listdir(os.path.join(FIX, "mla"))):
        p = os.path.join(FIX, "mla", d, "config.json")
        if os.path.exists(p):
            out("config", "mla_" + d, rd(p))
    meta = json.dumps({"source": {"num_key_value_heads": 2, "head_dim": 8}}).encode()
    out("config", "with_meta", rd(fw, "llama-gqa-f32", "config.json") + SPLIT + meta)


# ---- tokenizer.json ---------------------------------------------------------------------------

def shrink_tokenizer(tok, keep=300):
    m = tok["model"]
    vocab = m["vocab"]
    keep_ids = set(range(keep)) | {a["id"] for a in tok.get("added_tokens", [])}
    if isinstance(vocab, dict):
        nv = {k: v for k, v in vocab.items() if v in keep_ids}
        ids = sorted(set(nv.values()))
        remap = {old: new for new, old in enumerate(ids)}
        m["vocab"] = {k: remap[v] for k, v in nv.items()}
        for a in tok.get("added_tokens", []):
            a["id"] = remap.get(a["id"], a["id"])
        merges = []
        for mg in m.get("merges", []):
            a, b = mg.split(" ", 1) if isinstance(mg, str) else mg
            if a in nv and b in nv and a + b in nv:
                merges.append(mg)
        m["merges"] = merges
        pp = tok.get("post_processor")
        if pp:  # special token ids in templates follow the remap
            s = json.dumps(pp)
            for k, v in (pp.get("special_tokens") or {}).items():
                v["ids"] = [remap.get(i, i) for i in v.get("ids", [])]
            tok["post_processor"] = pp
    return tok


def seeds_tokenizer():
    fam = os.path.join(FIX, "tokenizer", "families")
    text = "Hello world! It's 2024: caf\u00e9 \u4e16\u754c  \n\ttabs<s> and </s> 12345".encode()
    for d in ("smollm2", "llama2", "llama3", "qwen2", "gemma2", "phi3", "deepseek_v3", "glm4",
              "norm_bert", "norm_nfkc_strip", "norm_precompiled", "norm_nfd_accents_lower"):
        p = os.path.join(fam, d, "tokenizer.json.gz")
        if not os.path.exists(p):
            continue
        tok = json.loads(gzip.decompress(rd(p)))
        tok = shrink_tokenizer(tok)
        if d == "norm_precompiled":  # the charsmap blob alone is ~100 KB
            continue
        body = json.dumps(tok, ensure_ascii=False, separators=(",", ":")).encode()
        if len(body) > 64 * 1024:  # deepseek_v3's hundreds of added tokens: not a small seed
            continue
        out("tokenizer", d, body + SPLIT + text)
    cfg = rd(FIX, "tokenizer", "smollm2", "tokenizer_config.json")
    tok = shrink_tokenizer(json.loads(gzip.decompress(rd(fam, "smollm2", "tokenizer.json.gz"))))
    out("tokenizer", "smollm2_with_config",
        json.dumps(tok, separators=(",", ":")).encode() + SPLIT + text + SPLIT + cfg)


# ---- datasets -----------------------------------------------------------------------------------

def cut_lines(data, n):
    return b"".join(data.splitlines(keepends=True)[:n])


def seeds_dataset():
    s = SAMPLES
    out("dataset", "arc", b"\0" + cut_lines(rd(s, "arc", "ARC-Challenge", "ARC-Challenge-Test.jsonl"), 3))
    out("dataset", "obqa", b"\1" + cut_lines(rd(s, "openbookqa", "Data", "Main", "test.jsonl"), 3))
    hf = json.loads(rd(s, "arc", "ARC-Easy_hf-export", "test.json"))
    out("dataset", "hf_array", b"\2" + json.dumps(hf[:3], indent=1).encode())
    out("dataset", "mmlu", b"\3" + cut_lines(rd(s, "mmlu", "data", "test", "abstract_algebra_test.csv"), 4))
    out("dataset", "piqa", b"\4" + cut_lines(rd(s, "piqa", "valid.jsonl"), 3) + SPLIT +
        cut_lines(rd(s, "piqa", "valid-labels.lst"), 3))
    out("dataset", "winogrande", b"\5" + cut_lines(rd(s, "winogrande", "winogrande_1.1", "dev.jsonl"), 3) + SPLIT +
        cut_lines(rd(s, "winogrande", "winogrande_1.1", "dev-labels.lst"), 3))
    out("dataset", "hellaswag_jsonl", b"\6" + cut_lines(rd(s, "hellaswag", "hellaswag_val.jsonl"), 2))
    out("dataset", "hellaswag_txt", b"\7" + cut_lines(rd(s, "hellaswag", "hellaswag_val_full.txt"), 12))


def seeds_hub_page():
    arc = json.loads(rd(SAMPLES, "arc", "ARC-Easy_hf-export", "test.json"))[:2]
    rows = {
        0: arc,
        1: [{"id": "7-980", "question_stem": "The sun is", "choices": {"text": ["hot", "cold", "wet", "blue"],
             "label": ["A", "B", "C", "D"]}, "answerKey": "A"}],
        2: [{"question": "1+1?", "subject": "abstract_algebra", "choices": ["1", "2", "3", "4"], "answer": 1}],
        3: [{"goal": "Open a jar", "sol1": "twist", "sol2": "pull", "label": 0}],
        4: [{"sentence": "Tom gave _ a cup.", "option1": "Ann", "option2": "it", "answer": "1"}],
        5: [{"ind": 4, "activity_label": "Cooking", "ctx_a": "A man", "ctx_b": "stirs", "ctx": "A man stirs",
             "endings": ["a", "b", "c", "d"], "source_id": "x", "split": "val", "split_type": "indomain",
             "label": "2"}],
    }
    for k, rs in rows.items():
        page = {"features": [], "rows": [{"row_idx": i, "row": r, "truncated_cells": []} for i, r in enumerate(rs)],
                "num_rows_total": len(rs), "num_rows_per_page": 100, "partial": False}
        out("hub_page", "page_%d" % k, bytes([0, k]) + json.dumps(page).encode())
        out("hub_page", "cache_%d" % k, bytes([1, k]) + json.dumps(rs, indent=1).encode())
    # A real cache container (gzip with the GQ extra field), as hub.c writes it.
    body = json.dumps(rows[3]).encode()
    import zlib
    crc = zlib.crc32(body) & 0xffffffff
    extra = b"GQ" + struct.pack("<H", 12) + struct.pack("<QI", len(body), crc)
    co = zlib.compressobj(6, zlib.DEFLATED, -15)
    deflated = co.compress(body) + co.flush()
    gz = b"\x1f\x8b\x08\x04" + b"\0\0\0\0" + b"\0\xff" + struct.pack("<H", len(extra)) + extra + deflated + \
        struct.pack("<II", crc, len(body) & 0xffffffff)
    out("hub_page", "container", bytes([2, 3]) + gz)


# ---- journal, clock, compare, report --------------------------------------------------------------

def fnv1a(b):
    h = 2166136261
    for x in b:
        h = ((h ^ x) * 16777619) & 0xffffffff
    return h


def seeds_journal():
    n_req = 12
    key = bytes(range(32))
    head = b"GQLAJRN1" + struct.pack("<IIQ", 1, 24, n_req) + key + b"\0" * 8
    recs = b""
    for i in range(7):
        r = struct.pack("<Qdi", i, -1.5 * i, i & 1)
        recs += r + struct.pack("<I", fnv1a(r))
    out("journal", "valid", head + recs)
    out("journal", "torn", head + recs[:-10])
    out("journal", "header_only", head)


def seeds_run_clock():
    out("run_clock", "clock", json.dumps({"format": "gqla-clock", "version": 1, "started_unix": 1796071535.39,
                                          "invocations": 2, "wall_seconds": 1234.5,
                                          "peak_rss_bytes": 1256132608}).encode())
    out("run_clock", "untimed", json.dumps({"format": "gqla-clock", "version": 1, "started_unix": 1.0,
                                            "invocations": 1, "wall_seconds": 0.5, "peak_rss_bytes": 0,
                                            "earlier_untimed": True}).encode())


def seeds_compare():
    r = os.path.join(FIX, "report")
    out("compare", "base_new", rd(r, "base.json") + SPLIT + rd(r, "new.json"))
    out("compare", "new_base_", rd(r, "new.json") + SPLIT + rd(r, "base.json") + b" ")


def seeds_report():
    out("report", "gqla_run", rd(FIX, "report", "run", "gqla_run.json"))


def main():
    seeds_safetensors()
    seeds_gguf()
    seeds_config()
    seeds_tokenizer()
    seeds_dataset()
    seeds_hub_page()
    seeds_journal()
    seeds_run_clock()
    seeds_compare()
    seeds_report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
