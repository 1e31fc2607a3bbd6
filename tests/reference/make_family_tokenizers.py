#!/usr/bin/env python3
"""make_family_tokenizers.py -- writes tests/fixtures/tokenizer/families/ for test_tokenizer_families.

Run by hand with the reference environment (tokenizers 0.23.3, transformers 5.23.0, gguf 0.19.0,
sentencepiece 0.2.1+protobuf for the Precompiled case):

    /work/venv-ref/py/bin/python tests/reference/make_family_tokenizers.py \
        --vocab-dir DIR/llama.cpp/models --smollm2 models/SmolLM2-135M-Instruct.Q4_1.gguf

DIR is the unpacked PyPI sdist llama-cpp-python==0.3.36 (vendor/llama.cpp/models holds llama.cpp's
ggml-vocab-*.gguf files: the real vocabularies and merges of each family, nothing else).  Never run
at test time.  Deterministic: a second run rewrites every file byte for byte.

Where each tokenizer.json comes from (no network here, so no Hub downloads):

  family       layout (normalizer / pre-tokenizer / decoder)            vocabulary + merges
  qwen2        transformers' Qwen2Tokenizer (Qwen2, Qwen2.5, Qwen3 use   ggml-vocab-qwen2.gguf (Qwen2's)
               it): NFC / Split(regex)+ByteLevel / ByteLevel
  qwen35       Qwen3.5's: - / Split(regex with \\p{M} in words)+       ggml-vocab-qwen35.gguf
               ByteLevel / ByteLevel (no NFC: its real ids keep e+U+0301)
  llama3       LLaMA-3's published tokenizer.json: - / Split(regex)+      ggml-vocab-llama-bpe.gguf (LLaMA-3's)
               ByteLevel / ByteLevel, ignore_merges, BOS template
  llama2       LLaMA-2's published tokenizer.json: Prepend+Replace /     ggml-vocab-llama-spm.gguf (LLaMA-2's),
               - / Replace+ByteFallback+Fuse+Strip, byte_fallback        merges rebuilt from the scores
  mistral      transformers' LlamaTokenizer (Mistral's current export):  ggml-vocab-llama-spm.gguf (STAND-IN:
               - / Metaspace(first) / Replace+ByteFallback+Fuse+Strip     Mistral's own vocab is not obtainable here)
  phi3         the LLaMA-2 layout (Phi-3's tokenizer.json; BOS by the    ggml-vocab-phi-3.gguf (Phi-3's)
               template, no tokenizer_config)
  smollm2      SmolLM2's: - / Digits(individual)+ByteLevel / ByteLevel   SmolLM2-135M-Instruct GGUF (its own)
  deepseek_v2  DeepSeek-V2 / DeepSeek-LLM's: - / 6 Splits+ByteLevel /    ggml-vocab-deepseek-llm.gguf (DeepSeek
               ByteLevel, BOS template                                    LLM's = DeepSeek-V2's 102400 tokens)
  deepseek_v3  DeepSeek-V3's: - / 3 Splits+ByteLevel / ByteLevel          ggml-vocab-deepseek-llm.gguf (STAND-IN
                                                                          for V3's 129280-token vocabulary)
  gemma2       transformers' GemmaTokenizer: Replace(' ','▁') /           ggml-vocab-gemma-4.gguf (Gemma 4's; Gemma-2's
               Split(' ', merged_with_previous) / Replace+ByteFallback+Fuse  256k vocab is not obtainable here; the
                                                                          layout gives Gemma 4's real ids on all 45
                                                                          llama.cpp test strings)
  glm4         GLM-4's: - / Split(LLaMA-3-style regex)+ByteLevel /        ggml-vocab-gpt-2.gguf (STAND-IN for
               ByteLevel (llama.cpp's chatglm-bpe pattern)                GLM-4's 151k vocabulary)
  norm_*       normalizers no family above uses, on the qwen2 vocabulary: NFD+StripAccents+Lowercase,
               NFKC+Strip, NFKD+Replace(Regex), BertNormalizer, Precompiled (SentencePiece nmt_nfkc charsmap
               of a model trained here by sentencepiece) + Replace(Regex ' {2,}')

Each vocabulary is PRUNED to what the text set reaches: a merge is kept when the concatenation of its
two sides is a substring of some pre-tokenized word of the text (every merge BPE applies is; removing
merges that are never applied changes no result), a token when it is such a substring, a single
character or byte token, or an added token.  Ids keep their original values (holes in between).  The
script asserts that the full and the pruned tokenizer give the same ids on every line, so the fixture
tests the real vocabulary on this text.

Writes (tests/fixtures/tokenizer/families/):
  <family>/text.txt.gz           the text set with the family's special tokens inside some lines,
                                 lines joined by "\\n" (no final newline)
  <family>/tokenizer.json.gz     the pruned tokenizer.json
  <family>/tokenizer_config.json BOS/EOS settings where the family has them
  expected_<family>.txt.gz       records as make_tokenizer_fixtures.py writes them (L/N/W/D/S)
  SOURCES.txt                    the table above with the sizes and sha256 of every source file
"""
import argparse
import base64
import gzip
import hashlib
import json
import os
import random
import sys
import tempfile
import unicodedata

import gguf
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "tests", "fixtures", "tokenizer", "families")
sys.path.insert(0, HERE)
import make_tokenizer_fixtures as base  # noqa: E402  (the text generator of the first tokenizer fixtures)

# ---------------------------------------------------------------- the text set
GREEK = ["Γειά σου Κόσμε", "ΟΔΥΣΣΕΥΣ", "ὁ λόγος", "Σίσυφος ΣΊΣΥΦΟΣ", "ἀρετή", "ΐΰ", "ς σ Σ"]
ARABIC = ["مرحبا بالعالم", "اللغة العربية", "كِتَابٌ", "١٢٣ و ٤٥٦", "ﷺ", "لا إله", "ﻻ"]
DEVANAGARI = ["नमस्ते दुनिया", "हिन्दी भाषा", "क्षत्रिय", "२०२४", "ॐ", "द्विवेदी", "ज़िन्दगी"]
COMBINING = ["e\u0301", "a\u0300\u0316", "Z\u0324\u0348\u0325a\u0351l\u0317g\u035co", "n\u0303o", "\u0301x",
             "q\u0307\u0323", "A\u030a", "\u1e9b\u0323", "ﬀ\u0301", "i\u0307", "\u0915\u093c"]
COMPAT = ["ﬁ", "ﬂ", "①②③", "ｶﾀｶﾅ", "㎏", "x²", "Ⅻ", "ﾊﾟ", "™", "½", "𝐇𝐞𝐥𝐥𝐨", "Ａｂｃ", "…", "ǆ", "㈱"]
CASE = ["İstanbul", "ΣΑΣ", "ǅemal", "ẞ", "ŉ", "ﬃ", "DŽ", "Ω", "K", "Å"]
EMOJI2 = ["👩🏽‍🔬", "🧑🏻‍🤝‍🧑🏿", "👨‍👨‍👧", "🏴‍☠️", "🙋🏾‍♂️", "👍🏻", "🇯🇵🇩🇪", "#️⃣", "🧔🏼‍♀️", "🫱🏼‍🫲🏿"]
CONTROL = ["a\x00b", "\ufffd", "x\u200dy", "\u00ad", "\ufeffbom", "a\x1fb", "\u202ertl\u202c", "\u2060"]


def family_specials(fam):
    return {
        "qwen2": ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|fim_prefix|>", "<|vision_start|>"],
        "qwen35": ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        "llama3": ["<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>"],
        "llama2": ["<s>", "</s>", "<unk>"], "mistral": ["<s>", "</s>", "<unk>"],
        "phi3": ["<s>", "</s>", "<|assistant|>", "<|user|>", "<|end|>", "<|endoftext|>"],
        "smollm2": ["<|im_start|>", "<|im_end|>", "<|endoftext|>"],
        "deepseek_v2": ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"],
        "deepseek_v3": ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"],
        "gemma2": ["<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>", "<pad>"],
        "glm4": ["<|endoftext|>"],
    }.get(fam, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])


def make_text(n=1600):
    """The base generator's lines (prose, contractions, accents, Cyrillic, CJK, scripts, emoji,
    digits, URLs, code, punctuation, whitespace runs, special-token look-alikes) mixed with lines of
    Greek, Arabic, Devanagari, combining marks, compatibility characters, case traps, ZWJ/skin-tone
    emoji and control characters; one line in six decomposed (NFD), one in twelve NFKD."""
    lines = base.make_text(20261203, n, specials=True)
    rng = random.Random(20261203)
    extra = GREEK + ARABIC + DEVANAGARI + COMBINING + COMPAT + CASE + EMOJI2 + CONTROL
    out = []
    for i, line in enumerate(lines):
        r = rng.random()
        if r < 0.35:
            k = rng.randint(1, 4)
            bits = [rng.choice(extra) for _ in range(k)]
            line = (line + " " if line and rng.random() < 0.7 else line) + rng.choice([" ", "", "  "]).join(bits)
        if i % 6 == 1:
            line = unicodedata.normalize("NFD", line)
        elif i % 12 == 5:
            line = unicodedata.normalize("NFKD", line)
        out.append(line)
    return out


def with_specials(lines, fam, seed):
    """Copies of the lines with the family's own special tokens put inside the text."""
    rng = random.Random(seed)
    sp = family_specials(fam)
    res = []
    for line in lines:
        if rng.random() < 0.12:
            pos = rng.randint(0, len(line))
            tok = rng.choice(sp)
            pad = rng.choice(["", " ", "\t", "  "])  # never "\n": lines are joined by it
            line = line[:pos] + pad + tok + rng.choice(["", " ", "\r"]) + line[pos:]
        res.append(line)
    return res


# ---------------------------------------------------------------- GGUF vocabularies
def field_str(r, key):
    f = r.fields.get(key)
    return None if f is None else bytes(f.parts[f.data[0]]).decode("utf-8")


def field_int(r, key):
    f = r.fields.get(key)
    return None if f is None else int(f.parts[f.data[0]][0])


def read_vocab(path):
    r = gguf.GGUFReader(path)
    f = r.fields["tokenizer.ggml.tokens"]
    toks = [bytes(f.parts[i]).decode("utf-8", errors="surrogateescape") for i in f.data]
    types = None
    if "tokenizer.ggml.token_type" in r.fields:
        ft = r.fields["tokenizer.ggml.token_type"]
        types = [int(ft.parts[i][0]) for i in ft.data]
    scores = None
    if "tokenizer.ggml.scores" in r.fields:
        fs = r.fields["tokenizer.ggml.scores"]
        scores = [float(fs.parts[i][0]) for i in fs.data]
    merges = None
    if "tokenizer.ggml.merges" in r.fields:
        fm = r.fields["tokenizer.ggml.merges"]
        merges = [bytes(fm.parts[i]).decode("utf-8") for i in fm.data]
    return dict(tokens=toks, types=types, scores=scores, merges=merges,
                bos=field_int(r, "tokenizer.ggml.bos_token_id"), eos=field_int(r, "tokenizer.ggml.eos_token_id"),
                unk=field_int(r, "tokenizer.ggml.unknown_token_id"), pre=field_str(r, "tokenizer.ggml.pre"))


def vocab_dict(v):
    d = {}
    for i, t in enumerate(v["tokens"]):
        if t not in d:
            d[t] = i
    return d


def control_tokens(v):
    """Control (3) and user-defined (4) tokens, as HF's added tokens."""
    out = []
    for i, (t, ty) in enumerate(zip(v["tokens"], v["types"] or [])):
        if ty in (3, 4) and t:
            out.append((i, t, ty == 3))
    return out


def spm_merges(v):
    """SentencePiece BPE merges from scores, as transformers' SentencePieceExtractor orders them:
    every split of a vocab piece into two vocab pieces, by the piece's score (then by id)."""
    d = vocab_dict(v)
    sc = v["scores"]
    out = []
    for tok, tid in d.items():
        if v["types"] and v["types"][tid] != 1:
            continue
        for k in range(1, len(tok)):
            l, r = tok[:k], tok[k:]
            if l in d and r in d and v["types"][d[l]] == 1 and v["types"][d[r]] == 1:
                out.append((sc[tid], tid, d[l], d[r], l, r))
    out.sort(key=lambda x: (-x[0], x[1], x[2], x[3]))
    return [(l, r) for _, _, _, _, l, r in out]


def pair_list(merges):
    return [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in merges]


# ---------------------------------------------------------------- family layouts
QWEN2_RE = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
QWEN35_RE = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
LLAMA3_RE = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
DSV3_RES = [r"\p{N}{1,3}", "[一-龥\u3040-ゟ゠-ヿ]+",
            r"""[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""]


def dsv2_res(llama_cpp_src):
    """DeepSeek-LLM's six split patterns, as llama.cpp's llama-vocab.cpp copies them from its
    tokenizer.json."""
    import re
    src = open(llama_cpp_src, encoding="utf-8").read()
    i = src.index("case LLAMA_VOCAB_PRE_TYPE_DEEPSEEK_LLM:")
    blk = src[i:src.index("break;", i)]
    lits = re.findall(r'"((?:[^"\\]|\\.)*)"', blk)
    return [l.encode("utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8") for l in lits]


def bytelevel_tok(vocab, merges, splits, normalizer=None, ignore_merges=False, digits=False):
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=ignore_merges, fuse_unk=False,
                               byte_fallback=False))
    pre = [pre_tokenizers.Digits(individual_digits=True)] if digits else []
    pre += [pre_tokenizers.Split(Regex(r), behavior="isolated", invert=False) for r in splits]
    pre.append(pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence(pre)
    tok.decoder = decoders.ByteLevel()
    if normalizer is not None:
        tok.normalizer = normalizer
    return tok


def spm_tok(vocab, merges, unk, layout):
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token=unk, fuse_unk=True, byte_fallback=True))
    dec = [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()]
    if layout == "legacy":  # LLaMA-2 / Phi-3 tokenizer.json
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
        dec.append(decoders.Strip(content=" ", left=1, right=0))
    elif layout == "metaspace":  # transformers 5's LlamaTokenizer (Mistral's export)
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
        dec.append(decoders.Strip(content=" ", left=1, right=0))
    elif layout == "gemma":
        tok.normalizer = normalizers.Replace(" ", "▁")
        tok.pre_tokenizer = pre_tokenizers.Split(" ", behavior="merged_with_previous", invert=False)
    tok.decoder = decoders.Sequence(dec)
    return tok


def bos_template(tok, bos_text, bos_id):
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos_text} $A", pair=f"{bos_text} $A {bos_text}:1 $B:1", special_tokens=[(bos_text, bos_id)])


def add_controls(tok, v, rstrip=()):
    sp = []
    for i, t, special in control_tokens(v):
        sp.append(AddedToken(t, special=special, normalized=not special, rstrip=t in rstrip, lstrip=False,
                             single_word=False))
    tok.add_tokens(sp)


def precompiled_charsmap(workdir, corpus):
    """nmt_nfkc's charsmap, from a tiny SentencePiece model trained here."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as pb
    txt = os.path.join(workdir, "spm.txt")
    with open(txt, "w", encoding="utf-8") as f:
        f.write("\n".join(corpus))
    prefix = os.path.join(workdir, "spm")
    spm.SentencePieceTrainer.train(input=txt, model_prefix=prefix, vocab_size=1000, model_type="bpe", hard_vocab_limit=False,
                                   normalization_rule_name="nmt_nfkc", character_coverage=1.0,
                                   minloglevel=2, num_threads=1)
    m = pb.ModelProto()
    m.ParseFromString(open(prefix + ".model", "rb").read())
    return base64.b64encode(m.normalizer_spec.precompiled_charsmap).decode("ascii")


def build(args, workdir, corpus, only):
    """{family: (tokenizer, tokenizer_config or None, gguf vocabulary)} for the families asked for."""
    vd = args.vocab_dir
    src, cache, fams = {}, {}, {}

    def vocab(name):
        if name not in cache:
            p = os.path.join(vd, f"ggml-vocab-{name}.gguf")
            src[name] = p
            cache[name] = read_vocab(p)
        return cache[name]

    def want(f):
        return not only or f in only

    if want("qwen2"):
        from transformers import Qwen2Tokenizer
        q = vocab("qwen2")
        qt = Qwen2Tokenizer(vocab=vocab_dict(q), merges=pair_list(q["merges"]))
        t = Tokenizer.from_str(qt.backend_tokenizer.to_str())
        add_controls(t, q)
        fams["qwen2"] = (t, None, q)
    if want("qwen35"):
        q35 = vocab("qwen35")
        # No normalizer: the real Qwen3.5 tokenizer keeps decomposed text as it is (its ids on llama.cpp's
        # tests 46-48, "e\u0301" etc., are the decomposed pieces).
        t = bytelevel_tok(vocab_dict(q35), pair_list(q35["merges"]), [QWEN35_RE])
        add_controls(t, q35)
        fams["qwen35"] = (t, None, q35)
    if want("llama3"):
        l3 = vocab("llama-bpe")
        t = bytelevel_tok(vocab_dict(l3), pair_list(l3["merges"]), [LLAMA3_RE], ignore_merges=True)
        add_controls(t, l3)
        bos_template(t, l3["tokens"][l3["bos"]], l3["bos"])
        fams["llama3"] = (t, None, l3)
    for fam, layout in (("llama2", "legacy"), ("mistral", "metaspace")):
        if not want(fam):
            continue
        l2 = vocab("llama-spm")
        if "spm_merges" not in l2:
            l2["spm_merges"] = spm_merges(l2)
        t = spm_tok(vocab_dict(l2), l2["spm_merges"], "<unk>", layout)
        t.add_special_tokens([AddedToken("<unk>", special=True, normalized=False),
                              AddedToken("<s>", special=True, normalized=False),
                              AddedToken("</s>", special=True, normalized=False)])
        bos_template(t, "<s>", l2["bos"])
        fams[fam] = (t, {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>"}, l2)
    if want("phi3"):
        p3 = vocab("phi-3")
        t = spm_tok(vocab_dict(p3), spm_merges(p3), "<unk>", "legacy")
        add_controls(t, p3, rstrip={"<|assistant|>", "<|user|>", "<|end|>", "<|endoftext|>"})
        bos_template(t, "<s>", p3["bos"])
        fams["phi3"] = (t, None, p3)
    if want("smollm2"):
        sm = read_vocab(args.smollm2)
        src["smollm2"] = args.smollm2
        t = bytelevel_tok(vocab_dict(sm), pair_list(sm["merges"]), [], digits=True)
        t.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                   pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
        add_controls(t, sm)
        fams["smollm2"] = (t, None, sm)
    lcpp = os.path.join(os.path.dirname(vd), "src", "llama-vocab.cpp")
    for fam in ("deepseek_v2", "deepseek_v3"):
        if not want(fam):
            continue
        ds = vocab("deepseek-llm")
        src["llama-vocab.cpp"] = lcpp
        t = bytelevel_tok(vocab_dict(ds), pair_list(ds["merges"]), dsv2_res(lcpp) if fam == "deepseek_v2" else DSV3_RES)
        add_controls(t, ds)
        bos_template(t, ds["tokens"][ds["bos"]], ds["bos"])
        fams[fam] = (t, None, ds)
    if want("gemma2"):
        from transformers import GemmaTokenizer
        gm = vocab("gemma-4")
        gt = GemmaTokenizer(vocab=vocab_dict(gm), merges=pair_list(gm["merges"]))
        t = Tokenizer.from_str(gt.backend_tokenizer.to_str())
        add_controls(t, gm)
        fams["gemma2"] = (t, None, gm)
    if want("glm4"):
        g2 = vocab("gpt-2")
        t = bytelevel_tok(vocab_dict(g2), pair_list(g2["merges"]), [LLAMA3_RE])
        add_controls(t, g2)
        fams["glm4"] = (t, None, g2)

    # Normalizers on the qwen2 vocabulary (byte-level, so every output is encodable).
    norm_cases = {
        "norm_nfd_accents_lower": lambda: normalizers.Sequence([normalizers.NFD(), normalizers.StripAccents(),
                                                                normalizers.Lowercase()]),
        "norm_nfkc_strip": lambda: normalizers.Sequence([normalizers.NFKC(), normalizers.Strip(left=True, right=True)]),
        "norm_nfkd_regex": lambda: normalizers.Sequence([normalizers.NFKD(), normalizers.Replace(Regex(r"\s+"), " "),
                                                         normalizers.Replace(Regex(r"[0-9]"), "#")]),
        "norm_bert": lambda: normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                                        lowercase=True),
        "norm_precompiled": None,
    }
    for fam, nz in norm_cases.items():
        if not want(fam):
            continue
        q = vocab("qwen2")
        t = bytelevel_tok(vocab_dict(q), pair_list(q["merges"]), [QWEN2_RE])
        if nz is None:
            j = json.loads(t.to_str())
            j["normalizer"] = {"type": "Sequence", "normalizers": [
                {"type": "Precompiled", "precompiled_charsmap": precompiled_charsmap(workdir, corpus)},
                {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]}
            t = Tokenizer.from_str(json.dumps(j))
        else:
            t.normalizer = nz()
        add_controls(t, q)
        fams[fam] = (t, None, q)
    return fams, src


# ---------------------------------------------------------------- pruning
def words_of(tok, lines):
    """Every pre-tokenized word of the lines (whole lines and the pieces between added tokens)."""
    specials = sorted((a.content for a in tok.get_added_tokens_decoder().values()), key=len, reverse=True)
    words = set()
    for line in lines:
        pieces = [line]
        for s in specials:
            pieces = [x for p in pieces for x in p.split(s)]
        # rstrip/lstrip added tokens swallow the whitespace beside them
        pieces = pieces + [x.strip() for x in pieces] + [x.lstrip() for x in pieces] + [x.rstrip() for x in pieces]
        for p in set(pieces + [line]):
            n = tok.normalizer.normalize_str(p) if tok.normalizer is not None else p
            if tok.pre_tokenizer is not None:
                ws = [w for w, _ in tok.pre_tokenizer.pre_tokenize_str(n)]
            else:
                ws = [n]
            words.update(ws)
            # Metaspace(first) prefixes only a line's first piece; keep both spellings.
            words.update("▁" + w for w in ws)
    return words


def prune(tok, lines):
    j = json.loads(tok.to_str())
    m = j["model"]
    subs = set()
    for w in words_of(tok, lines):
        for a in range(len(w)):
            for b in range(a + 1, min(len(w), a + 64) + 1):
                subs.add(w[a:b])
    added = {a["content"] for a in j["added_tokens"]}
    keep = {}
    for t, i in m["vocab"].items():
        if len(t) == 1 or t in subs or t in added or (t.startswith("<0x") and len(t) == 6) or t == m.get("unk_token"):
            keep[t] = i
    merges = []
    for mg in m["merges"]:
        l, r = mg if isinstance(mg, list) else mg.split(" ", 1)
        if l + r in subs and l in keep and r in keep and (l + r) in keep:
            merges.append([l, r])
    m["vocab"] = keep
    m["merges"] = merges
    return Tokenizer.from_str(json.dumps(j, ensure_ascii=False))


# ---------------------------------------------------------------- output
def write_expected(path, tok, lines, text):
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        def w(s):
            f.write((s + "\n").encode("utf-8"))
        for i, line in enumerate(lines):
            ids = tok.encode(line, add_special_tokens=True).ids
            w("L %d %s" % (i, " ".join(map(str, ids))))
            if i % 3 == 0:
                w("N %d %s" % (i, " ".join(map(str, tok.encode(line, add_special_tokens=False).ids))))
            if i % 7 == 0:
                w("D %d %s" % (i, json.dumps(tok.decode(ids, skip_special_tokens=False), ensure_ascii=True)))
                w("S %d %s" % (i, json.dumps(tok.decode(ids, skip_special_tokens=True), ensure_ascii=True)))
        w("W %s" % " ".join(map(str, tok.encode(text, add_special_tokens=True).ids)))


# The family's real tokenizer.json, as llama.cpp's convert_hf_to_gguf_update.py ran it: its test
# strings (ggml-vocab-NAME.gguf.inp) and the ids AutoTokenizer gave them with add_special_tokens=False
# (.out), from the Hub repositories that script names (Qwen1.5-7B, Qwen3.5-9B-Instruct,
# Meta-Llama-3-8B, Llama-2-7b-hf, Phi-3-mini-4k-instruct, deepseek-llm-7b-base).
REAL = {"qwen2": "qwen2", "qwen35": "qwen35", "llama3": "llama-bpe", "llama2": "llama-spm", "phi3": "phi-3",
        "deepseek_v2": "deepseek-llm", "gemma2": "gemma-4"}
# (not mistral: its layout is Mistral's, the llama-spm ids are LLaMA-2's layout)


def llamacpp_tests(gguf_path):
    """[(text, ids)] from GGUF_PATH.inp / .out."""
    inp = open(gguf_path + ".inp", encoding="utf-8").read().split("\n__ggml_vocab_test__\n")[:-1]
    out = open(gguf_path + ".out", encoding="utf-8").read().split("\n")[:len(inp)]
    return [(t, [int(x) for x in o.split()]) for t, o in zip(inp, out)]


def real_tests(vocab_dir, fam):
    if fam not in REAL:
        return []
    return llamacpp_tests(os.path.join(vocab_dir, f"ggml-vocab-{REAL[fam]}.gguf"))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab-dir", required=True, help="llama.cpp's models/ folder (ggml-vocab-*.gguf)")
    ap.add_argument("--smollm2", required=True, help="SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--only", default="", help="comma-separated families (default: all)")
    args = ap.parse_args()

    lines = make_text()
    os.makedirs(OUT, exist_ok=True)
    only = set(args.only.split(",")) - {""}
    with tempfile.TemporaryDirectory() as wd:
        fams, src = build(args, wd, lines, only)
    report = []
    for fam, (full, cfg, v) in fams.items():
        fl = with_specials(lines, fam, sum(map(ord, fam)))
        real = real_tests(args.vocab_dir, fam)
        pruned = prune(full, fl + ["\n".join(fl)] + [t for t, _ in real])
        bad = 0
        for line in fl:
            for sp in (True, False):
                if full.encode(line, add_special_tokens=sp).ids != pruned.encode(line, add_special_tokens=sp).ids:
                    bad += 1
        text = "\n".join(fl)
        if full.encode(text).ids != pruned.encode(text).ids:
            bad += 1
        if bad:
            sys.exit(f"{fam}: the pruned tokenizer differs from the full one on {bad} encodings")
        # The layout built here against the real tokenizer on llama.cpp's test strings.
        real_bad = [i for i, (t, ids) in enumerate(real) if full.encode(t, add_special_tokens=False).ids != ids]
        for i, (t, ids) in enumerate(real):
            if pruned.encode(t, add_special_tokens=False).ids != full.encode(t, add_special_tokens=False).ids:
                sys.exit(f"{fam}: the pruned tokenizer differs from the full one on real test {i}")
        d = os.path.join(OUT, fam)
        os.makedirs(d, exist_ok=True)
        if real:
            with open(os.path.join(d, "real.json"), "w", encoding="utf-8") as f:
                json.dump({"source": f"llama.cpp models/ggml-vocab-{REAL[fam]}.gguf.inp/.out (the real tokenizer's ids)",
                           "layout_differs": real_bad,
                           "tests": [{"text": t, "ids": ids} for t, ids in real]}, f, ensure_ascii=True, indent=0)
                f.write("\n")
        js = pruned.to_str()
        with gzip.GzipFile(os.path.join(d, "tokenizer.json.gz"), "wb", mtime=0) as f:
            f.write(js.encode("utf-8"))
        if cfg:
            with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
                json.dump(cfg, f, indent=1, sort_keys=True)
                f.write("\n")
        with gzip.GzipFile(os.path.join(d, "text.txt.gz"), "wb", mtime=0) as f:
            f.write(text.encode("utf-8"))
        write_expected(os.path.join(OUT, f"expected_{fam}.txt.gz"), pruned, fl, text)
        jm = json.loads(js)["model"]
        report.append(f"{fam}: vocab {len(v['tokens'])} -> {len(jm['vocab'])} kept, merges "
                      f"{len(full_merges(full))} -> {len(jm['merges'])} kept; full == pruned on "
                      f"{2 * len(fl) + 1} encodings; real tokenizer's ids on {len(real)} llama.cpp test strings: "
                      f"{len(real) - len(real_bad)} equal" + (f", differing: {real_bad}" if real_bad else ""))
        print(report[-1], flush=True)
    if only:
        return  # SOURCES.txt describes a full run only
    with open(os.path.join(OUT, "SOURCES.txt"), "w") as f:
        f.write("Made by tests/reference/make_family_tokenizers.py (its docstring says where each layout "
                "comes from).\n\n")
        for k, p in sorted(src.items()):
            f.write(f"{k}: {os.path.basename(p)} {os.path.getsize(p)} bytes sha256 {sha256(p)}\n")
        f.write("\n" + "\n".join(report) + "\n")


def full_merges(tok):
    return json.loads(tok.to_str())["model"]["merges"]


if __name__ == "__main__":
    main()
