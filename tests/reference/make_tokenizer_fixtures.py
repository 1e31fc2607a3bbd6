#!/usr/bin/env python3
"""make_tokenizer_fixtures.py -- writes tests/fixtures/tokenizer/ for test_tokenizer*.

Run by hand with the reference environment (tokenizers, transformers, gguf):
    /work/venv-ref/py/bin/python tests/reference/make_tokenizer_fixtures.py [--models DIR]
Never run at test time.  Everything is deterministic (seeded generators).

What it writes:
  text.txt                  the test text: >= 2000 lines joined by "\n" (no final newline)
  smollm2/tokenizer.json.gz SmolLM2's tokenizer as transformers' GGUF loader builds it
  smollm2/tokenizer_config.json
  llama3/tokenizer.json     byte-level BPE, LLaMA-3 split regex, trained here
  spm/tokenizer.json        SentencePiece-style BPE (LLaMA-2 layout: Prepend+Replace
                            normalizer, byte fallback), trained here
  spm/tokenizer_config.json
  metaspace/tokenizer.json  the same model with a Metaspace(prepend_scheme=first)
                            pre-tokenizer instead of the normalizer (Mistral layout)
  expected_<name>.txt.gz    expected ids, one record a line:
                              L <line> <ids...>   line encoded with add_special_tokens=True
                              N <line> <ids...>   add_special_tokens=False (every 3rd line)
                              W <ids...>          the whole text, add_special_tokens=True
                                                  (smollm2, llama3 and spm only, for size)
                              D <line> <json>     decode(ids of L, skip_special_tokens=False)
                              S <line> <json>     decode(ids of L, skip_special_tokens=True)
                            (D/S every 7th line.)
  spm_gguf/tokenizer.gguf   the spm vocabulary as a GGUF "llama" tokenizer (tokens,
                            scores = -merge rank, token types; no tensors)
  expected_spm_gguf.txt.gz  its reference: the spm tokenizer.json with merges rebuilt
                            from the scores the way SentencePiece/transformers do
                            (every split of a token into two vocab pieces, by score),
                            which is what llama.cpp's score-based merging computes
  expected_smollm2_gguf.txt.gz  the SmolLM2 GGUF as llama.cpp reads it: the same
                            tokenizer.json with SmolLM2's real pre-tokenizer
                            (Digits(individual_digits) + ByteLevel), which
                            llama.cpp selects by tokenizer.ggml.pre = "smollm"
                            and transformers' GGUF converter drops.
"""
import argparse
import gzip
import json
import os
import random
import shutil
import sys
import tempfile

from tokenizers import Tokenizer, AddedToken, decoders, models, normalizers, pre_tokenizers, processors
from tokenizers.trainers import BpeTrainer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "tests", "fixtures", "tokenizer")

LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

# ---------------------------------------------------------------- text generator
WORDS = """the of and to in is that it was for on are as with his they at be this from have or
one had by word but not what all were we when your can said there use an each which she do how
their if will up other about out many then them these so some her would make like him into time
has look two more write go see number no way could people my than first water been call who oil
its now find long down day did get come made may part over new sound take only little work know
place year live me back give most very after thing our just name good sentence man think say
great where help through much before line right too mean old any same tell boy follow came want
show also around form three small set put end does another well large must big even such because
turn here why ask went men read need land different home us move try kind hand picture again
change off play spell air away animal house point page letter mother answer found study still
learn should America world tokenizer model attention latent grouped query cache matrix vector""".split()
CONTRACTIONS = ["don't", "I'm", "we've", "she'll", "he'd", "it's", "THEY'RE", "You'Ve", "can't",
                "won't", "I'D", "we'LL", "isn't", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d",
                "O'Brien", "rock'n'roll", "'tis", "y'all'd've", "IT'S", "She'S", "'S", "'T"]
ACCENTED = ["café", "naïve", "Ærøskøbing", "façade", "Müller", "Señor", "Łódź", "Ångström",
            "crème brûlée", "e\u0301cole", "Dvořák", "São Paulo", "Þórr", "straße", "ĳssel",
            "Œuvre", "résumé", "coöperate", "Ÿ", "ǅemal"]
CYRILLIC = ["Привет мир", "съешь же ещё этих мягких французских булок", "Ёлка", "ПРОВЕРКА",
            "да выпей чаю", "Україна", "Ђорђе", "щи"]
CJK = ["你好世界", "日本語のテキスト", "한국어 문장", "東京タワー", "中文，标点。", "ｶﾀｶﾅ",
       "漢字かな交じり文", "龘", "𠀋𡈽"]
OTHER_SCRIPTS = ["مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีครับ", "Γειά σου Κόσμε",
                 "ქართული", "Հայերեն", "ᚠᚢᚦ"]
EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "🇫🇷", "🧑🏿‍💻", "👩‍❤️‍💋‍👨", "🤷‍♀️",
         "✨", "🔥🔥🔥", "1️⃣", "🫠", "☕", "👋🏻👋🏼👋🏽👋🏾👋🏿"]
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<s>", "</s>", "<unk>",
            "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|start_header_id|>",
            "<|end_header_id|>", "<|mask|>", "<tool>", "<|im_sta", "</s", "<s >", "<<s>>",
            "<|im_start|>user\n"[:-1], "<|im_start|>assistant", "<|endoftext|><|endoftext|>"]
URLS = ["https://example.com/path?q=1&x=y#frag", "http://localhost:8080/api/v2/items",
        "ftp://files.example.org/pub/README.txt", "mailto:someone@example.com",
        "user.name+tag@sub.domain.co.uk", "www.example.com/über/straße", "C:\\Windows\\System32",
        "/usr/local/lib/libfoo.so.1.2.3", "git@github.com:owner/repo.git"]
CODE = ["def f(x):\treturn x**2  # comment", "for (int i = 0; i < n; ++i) {", "x->y = *p;",
        "{\"key\": [1, 2, 3], \"v\": null}", "if (a && b || !c) return -1;", "printf(\"%d\\n\", x);",
        "SELECT * FROM t WHERE id = 42;", "<div class=\"a\">Hi</div>", "a[i][j] += b[k]",
        "lambda x: x if x else None", "#include <stdio.h>", "std::vector<int> v{1,2,3};",
        "    return self.__dict__['_x']", "let s = `template ${x}`;", "$ ls -la | grep '^d'"]
PUNCT = ["!!!???", "...", "---", "===>", "''", "\"quoted\"", "«guillemets»", "—", "…", "(((",
         ")))", "?!", "~~~", "***bold***", "__init__", "@@", "#$%^&*", "„Anführung“", "¿Qué?",
         "¡Hola!", "、。", "‼", "·•·"]
WS = [" ", "  ", "   ", "\t", "\t\t", " \t ", "\r", "\u00a0", "\u2009", "\u3000", "\u0085",
      "\u200b", "\x0b", "\x0c", "        ", " \r", "\u2028", "\u180e", "\u202f", "\u205f"]
# Characters where regex engines or case folding tend to disagree
# (U+180E is \s for PCRE2 but not for Oniguruma; long s and Kelvin fold to s/k).
TRICKY = ["\u180e's", "'ſ", "'K", "İstanbul", "ﬁne", "ǅ", "a\u0308", "𝐀𝐁𝐂", "𝟘𝟙", "٣٤", "\ue000",
          "\U0010fffd", "\x7f", "\x01", "ǈ'LL", "ß'S"]


def digits(rng):
    k = rng.choice([1, 2, 3, 4, 5, 7, 10, 16, 25, 40])
    s = "".join(rng.choice("0123456789") for _ in range(k))
    return rng.choice([s, s, "3.14159", "1,000,000", "+1 (555) 123-4567", "2024-11-24", "0x" + s,
                       "v1.2.3", "١٢٣٤", "½", "²³", "Ⅻ", s + "th", "-" + s + "e-10"])


def prose(rng):
    n = rng.randint(3, 14)
    ws = []
    for _ in range(n):
        w = rng.choice(WORDS)
        r = rng.random()
        if r < 0.1:
            w = w.capitalize()
        elif r < 0.13:
            w = w.upper()
        elif r < 0.2:
            w = rng.choice(CONTRACTIONS)
        ws.append(w)
    s = " ".join(ws)
    return s[:1].upper() + s[1:] + rng.choice([".", ".", "!", "?", ",", ";", ":", "", " -"])


GENS = [(prose, 30), (lambda r: r.choice(CONTRACTIONS), 4), (lambda r: r.choice(ACCENTED), 6),
        (lambda r: r.choice(CYRILLIC), 5), (lambda r: r.choice(CJK), 5),
        (lambda r: r.choice(OTHER_SCRIPTS), 3), (lambda r: r.choice(EMOJI), 5), (digits, 6),
        (lambda r: r.choice(URLS), 3), (lambda r: r.choice(CODE), 5), (lambda r: r.choice(PUNCT), 5),
        (lambda r: r.choice(WS), 4), (lambda r: r.choice(TRICKY), 2)]


def fragment(rng, specials):
    if specials and rng.random() < 0.08:
        return rng.choice(SPECIALS)
    fs, ws = zip(*GENS)
    return rng.choices(fs, weights=ws)[0](rng)


def make_line(rng, specials=True):
    r = rng.random()
    if r < 0.03:
        return ""
    if r < 0.06:
        return "".join(rng.choice(WS) for _ in range(rng.randint(1, 6)))
    if r < 0.08:  # a long line
        k = rng.randint(30, 90)
    else:
        k = rng.randint(1, 7)
    out = []
    for _ in range(k):
        out.append(fragment(rng, specials))
        out.append(rng.choices([" ", "", "  ", "\t", "   ", " \t"], weights=[70, 12, 6, 4, 4, 4])[0])
    s = "".join(out)
    if rng.random() < 0.5:
        s = s.rstrip(" \t")
    return s


def make_text(seed, n, specials=True):
    rng = random.Random(seed)
    return [make_line(rng, specials) for _ in range(n)]


# ---------------------------------------------------------------- tokenizers
def train_llama3(corpus):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(pattern=__import__("tokenizers").Regex(LLAMA3_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
                "<|eot_id|>"] + ["<|reserved_special_token_%d|>" % i for i in range(6)]
    trainer = BpeTrainer(vocab_size=3000, special_tokens=specials, show_progress=False,
                         initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, trainer=trainer)
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.TemplateProcessing(
        single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|>:1 $B:1",
        special_tokens=[("<|begin_of_text|>", bos)])
    # Two added tokens with the flags common models use: a RoBERTa-style mask
    # (lstrip) and a non-special user token.
    tok.add_special_tokens([AddedToken("<|mask|>", lstrip=True, rstrip=False, normalized=False, special=True)])
    tok.add_tokens([AddedToken("<tool>", lstrip=False, rstrip=True, normalized=False, special=False)])
    j = json.loads(tok.to_str())
    j["model"]["ignore_merges"] = True  # as LLaMA-3's own tokenizer.json
    return j


def train_spm(corpus):
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="never", split=True)
    trainer = BpeTrainer(vocab_size=3000 - 256, special_tokens=["<unk>", "<s>", "</s>"],
                         show_progress=False, limit_alphabet=400)
    tok.train_from_iterator(corpus, trainer=trainer)
    j = json.loads(tok.to_str())
    # LLaMA-2 layout: <unk> <s> </s>, then <0x00>..<0xFF>, then the learned pieces.
    old = sorted(j["model"]["vocab"].items(), key=lambda kv: kv[1])
    vocab = {}
    for t, _ in old[:3]:
        vocab[t] = len(vocab)
    for b in range(256):
        vocab["<0x%02X>" % b] = len(vocab)
    for t, _ in old[3:]:
        if t not in vocab:
            vocab[t] = len(vocab)
    j["model"]["vocab"] = vocab
    for a in j["added_tokens"]:
        a["id"] = vocab[a["content"]]
    j["pre_tokenizer"] = None
    j["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                 {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [vocab["<s>"]], "tokens": ["<s>"]}}}
    j["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
        {"type": "ByteFallback"}, {"type": "Fuse"},
        {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    return j


def metaspace_variant(spm):
    j = json.loads(json.dumps(spm))
    j["normalizer"] = None
    j["pre_tokenizer"] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False}
    j["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False},
        {"type": "ByteFallback"}, {"type": "Fuse"}]}
    return j


def spm_scores(spm):
    """Score of each token: minus the rank of the merge that made it, 0 otherwise."""
    scores = {t: 0.0 for t in spm["model"]["vocab"]}
    for rank, m in enumerate(spm["model"]["merges"]):
        a, b = m if isinstance(m, list) else m.split(" ")
        scores[a + b] = -float(rank + 1)
    return scores


def spm_gguf_variant(spm, scores):
    """tokenizer.json whose merges are rebuilt from the scores: every split of a
    token into two vocabulary pieces, best score first (SentencePiece's rule)."""
    j = json.loads(json.dumps(spm))
    vocab = j["model"]["vocab"]
    merges = []
    for tok, tid in sorted(vocab.items(), key=lambda kv: kv[1]):
        if tid < 3 + 256:
            continue
        local = []
        for k in range(1, len(tok)):
            l, r = tok[:k], tok[k:]
            if l in vocab and r in vocab:
                local.append((l, r, scores[tok]))
        local.sort(key=lambda x: (vocab[x[0]], vocab[x[1]]))
        merges.extend(local)
    merges.sort(key=lambda x: -x[2])
    j["model"]["merges"] = [[l, r] for l, r, _ in merges]
    return j


def write_spm_gguf(path, spm, scores):
    import gguf
    vocab = sorted(spm["model"]["vocab"].items(), key=lambda kv: kv[1])
    types = []
    for t, i in vocab:
        if t == "<unk>":
            types.append(2)
        elif t in ("<s>", "</s>"):
            types.append(3)
        elif i < 3 + 256:
            types.append(6)
        else:
            types.append(1)
    w = gguf.GGUFWriter(path, arch="llama")
    w.add_tokenizer_model("llama")
    w.add_token_list([t for t, _ in vocab])
    w.add_token_scores([scores[t] for t, _ in vocab])
    w.add_token_types(types)
    w.add_bos_token_id(spm["model"]["vocab"]["<s>"])
    w.add_eos_token_id(spm["model"]["vocab"]["</s>"])
    w.add_unk_token_id(spm["model"]["vocab"]["<unk>"])
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_add_space_prefix(True)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_expected(path, tok, lines, text, whole=True):
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        def w(s):
            f.write(s.encode("utf-8"))
        for i, line in enumerate(lines):
            ids = tok.encode(line, add_special_tokens=True).ids
            w("L %d%s\n" % (i, "".join(" %d" % x for x in ids)))
            if i % 3 == 0:
                ids0 = tok.encode(line, add_special_tokens=False).ids
                w("N %d%s\n" % (i, "".join(" %d" % x for x in ids0)))
            if i % 7 == 0:
                w("D %d %s\n" % (i, json.dumps(tok.decode(ids, skip_special_tokens=False))))
                w("S %d %s\n" % (i, json.dumps(tok.decode(ids, skip_special_tokens=True))))
        if whole:
            ids = tok.encode(text, add_special_tokens=True).ids
            w("W%s\n" % "".join(" %d" % x for x in ids))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=os.path.join(ROOT, "models"))
    ap.add_argument("--gguf", default="SmolLM2-135M-Instruct.Q4_1.gguf")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)

    lines = make_text(20241124, 2200, specials=True)
    text = "\n".join(lines)
    with open(os.path.join(OUT, "text.txt"), "w", encoding="utf-8", newline="") as f:
        f.write(text)
    corpus = make_text(7, 6000, specials=False)

    # SmolLM2 through transformers' GGUF loader.
    from transformers import AutoTokenizer
    hf = AutoTokenizer.from_pretrained(args.models, gguf_file=args.gguf)
    tmp = tempfile.mkdtemp()
    hf.save_pretrained(tmp)
    d = os.path.join(OUT, "smollm2")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(tmp, "tokenizer.json"), encoding="utf-8") as src, \
            gzip.GzipFile(os.path.join(d, "tokenizer.json.gz"), "wb", mtime=0) as dst:
        # Re-serialised compactly (same content) to keep the fixture small.
        dst.write(json.dumps(json.load(src), ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    shutil.copy(os.path.join(tmp, "tokenizer_config.json"), os.path.join(d, "tokenizer_config.json"))
    smol = Tokenizer.from_file(os.path.join(tmp, "tokenizer.json"))
    write_expected(os.path.join(OUT, "expected_smollm2.txt.gz"), smol, lines, text)
    sj = json.loads(open(os.path.join(tmp, "tokenizer.json"), encoding="utf-8").read())
    sj["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True}, sj["pre_tokenizer"]]}
    smol_gguf = Tokenizer.from_str(json.dumps(sj))
    write_expected(os.path.join(OUT, "expected_smollm2_gguf.txt.gz"), smol_gguf, lines, text, whole=False)
    shutil.rmtree(tmp)

    l3 = train_llama3(corpus)
    spm = train_spm(corpus)
    ms = metaspace_variant(spm)
    for name, j, cfg in [("llama3", l3, None),
                         ("spm", spm, {"add_bos_token": True, "add_eos_token": False,
                                       "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}),
                         ("metaspace", ms, None)]:
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(j, f, ensure_ascii=False, separators=(",", ":"))
        if cfg:
            with open(os.path.join(d, "tokenizer_config.json"), "w", encoding="utf-8") as f:
                json.dump(cfg, f, indent=2)
        t = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
        write_expected(os.path.join(OUT, "expected_%s.txt.gz" % name), t, lines, text, whole=name != "metaspace")
    scores = spm_scores(spm)
    d = os.path.join(OUT, "spm_gguf")
    os.makedirs(d, exist_ok=True)
    write_spm_gguf(os.path.join(d, "tokenizer.gguf"), spm, scores)
    t = Tokenizer.from_str(json.dumps(spm_gguf_variant(spm, scores)))
    write_expected(os.path.join(OUT, "expected_spm_gguf.txt.gz"), t, lines, text, whole=False)
    print("wrote", OUT)


if __name__ == "__main__":
    sys.exit(main())
