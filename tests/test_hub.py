#!/usr/bin/env python3
"""test_hub.py — models by Hub id (hub/), end to end through the gqla-eval
binary, against tests/fake_hub.py on 127.0.0.1 (started here, one per case).

The fake Hub serves repositories this script generates from the committed
tiny fixtures: a single-file safetensors model (tests/fixtures/forward/
llama-gqa-f32 plus a generation_config.json), the same model split into two
shards with an index, and a GGUF file.  Each case gets its own cache
(HF_HUB_CACHE), HOME and server, and checks exit status, messages, the cache
layout huggingface_hub writes (refs/main, relative links into blobs/,
.no_exist/) and the server's request log.

Usage: test_hub.py CASE   (tests/hub.cmake registers one ctest entry per case)
Environment: GQ_CLI (the binary), GQ_FIXTURES, GQ_TMP (scratch).
Exit: 0 pass, 1 fail.
"""
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CLI = os.environ.get("GQ_CLI", "")
FIX = os.environ.get("GQ_FIXTURES", os.path.join(HERE, "fixtures"))
TMP = os.environ.get("GQ_TMP", "/tmp")
TOKEN = "hf_SECRETtoken_9f8e7d6c5b4a"
WRONG = "hf_WRONGtoken_0a1b2c3d4e5f"
MODEL = "test-org/tiny-llama"

FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)
    return cond


def commit_of(repo):
    return hashlib.sha1(("commit:" + repo).encode()).hexdigest()


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# ---- the repositories ----------------------------------------------------------------

def split_safetensors(src, dst_dir):
    """model.safetensors -> two shards + model.safetensors.index.json."""
    with open(src, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    meta = header.pop("__metadata__", None)
    names = sorted(header)
    halves = [names[: len(names) // 2], names[len(names) // 2:]]
    weight_map = {}
    for i, part in enumerate(halves):
        fname = "model-%05d-of-00002.safetensors" % (i + 1)
        hdr, blobs, off = {}, [], 0
        for t in part:
            a, b = header[t]["data_offsets"]
            chunk = data[a:b]
            hdr[t] = dict(header[t], data_offsets=[off, off + len(chunk)])
            blobs.append(chunk)
            off += len(chunk)
            weight_map[t] = fname
        if meta:
            hdr["__metadata__"] = meta
        hj = json.dumps(hdr).encode()
        hj += b" " * ((8 - len(hj) % 8) % 8)
        with open(os.path.join(dst_dir, fname), "wb") as f:
            f.write(struct.pack("<Q", len(hj)) + hj + b"".join(blobs))
    with open(os.path.join(dst_dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": len(data)}, "weight_map": weight_map}, f, indent=2)


def bytes_to_unicode():
    """GPT-2's byte -> printable character map (the ByteLevel pre-tokenizer's)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + \
        list(range(ord("\xae"), ord("\xff") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def byte_tokenizer():
    """A byte-level BPE tokenizer.json with the 256 bytes as ids 0..255 and no
    merges (harness/demo_model.c writes the same one), for vocab_size 256."""
    m = bytes_to_unicode()
    return {"version": "1.0", "added_tokens": [], "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                              "use_regex": True},
            "post_processor": None, "decoder": {"type": "ByteLevel"},
            "model": {"type": "BPE", "vocab": {m[b]: b for b in range(256)}, "merges": []}}


def make_repos(root):
    src = os.path.join(FIX, "forward", "llama-gqa-f32")
    for name in ("tiny-llama", "private", "gated"):
        d = os.path.join(root, "test-org", name)
        os.makedirs(d)
        for fn in ("config.json", "model.safetensors"):
            shutil.copy(os.path.join(src, fn), d)
        with open(os.path.join(d, "generation_config.json"), "w") as f:
            json.dump({"bos_token_id": 1, "eos_token_id": 2}, f)
        with open(os.path.join(d, "tokenizer.json"), "w") as f:
            json.dump(byte_tokenizer(), f)
    d = os.path.join(root, "test-org", "tiny-sharded")
    os.makedirs(d)
    shutil.copy(os.path.join(src, "config.json"), d)
    split_safetensors(os.path.join(src, "model.safetensors"), d)
    d = os.path.join(root, "test-org", "tiny-gguf")
    os.makedirs(d)
    shutil.copy(os.path.join(FIX, "gguf_arch", "llama-f16", "model.gguf"), os.path.join(d, "tiny.gguf"))


# ---- one case's world -----------------------------------------------------------------

class World:
    def __init__(self, case):
        self.dir = os.path.join(TMP, "hub", case)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.root = os.path.join(self.dir, "hub_root")
        make_repos(self.root)
        self.cache = os.path.join(self.dir, "cache")
        self.home = os.path.join(self.dir, "home")
        os.makedirs(self.home)
        self.cfg = os.path.join(self.dir, "server.json")
        self.log = os.path.join(self.dir, "requests.jsonl")
        self.outputs = []  # (what, text) of every command, for the token check
        self.set_config({})
        open(self.log, "w").close()
        port_file = os.path.join(self.dir, "port")
        self.server = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "fake_hub.py"), "--root", self.root, "--config", self.cfg,
             "--log", self.log, "--port-file", port_file, "--deadline", "110"])
        for _ in range(200):
            if os.path.exists(port_file):
                break
            time.sleep(0.05)
        with open(port_file) as f:
            self.port = int(f.read())
        self.endpoint = "http://127.0.0.1:%d" % self.port

    def close(self):
        self.server.kill()
        self.server.wait()

    def set_config(self, cfg):
        with open(self.cfg, "w") as f:
            json.dump(cfg, f)

    def requests(self):
        with open(self.log) as f:
            return [json.loads(line) for line in f if line.strip()]

    def clear_log(self):
        open(self.log, "w").close()

    def run(self, *args, token=None, offline=False, env_extra=None):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("HF_") and k not in ("HUGGINGFACE_HUB_CACHE", "XDG_CACHE_HOME")}
        env.update({"HF_HUB_CACHE": self.cache, "HF_ENDPOINT": self.endpoint, "HOME": self.home,
                    "GQLA_HUB_BACKOFF_MS": "10"})
        if token:
            env["HF_TOKEN"] = token
        if offline:
            env["HF_HUB_OFFLINE"] = "1"
        env.update(env_extra or {})
        p = subprocess.run([CLI] + list(args), env=env, capture_output=True, text=True, timeout=90)
        self.outputs.append((" ".join(args), p.stdout + p.stderr))
        check("Sanitizer" not in p.stderr and "runtime error:" not in p.stderr,
              "no sanitizer report from gqla-eval %s" % " ".join(args))
        print("$ gqla-eval %s -> %d\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
        return p

    def repo_dir(self, repo=MODEL):
        return os.path.join(self.cache, "models--" + repo.replace("/", "--"))

    def snapshot(self, repo=MODEL):
        return os.path.join(self.repo_dir(repo), "snapshots", commit_of(repo))


def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def check_layout(w, repo, files):
    """The cache as huggingface_hub writes it, for `files` of repo."""
    rd = w.repo_dir(repo)
    ref = os.path.join(rd, "refs", "main")
    check(os.path.isfile(ref) and file_bytes(ref).decode() == commit_of(repo),
          "%s: refs/main holds the commit, no newline" % repo)
    for fn in files:
        link = os.path.join(w.snapshot(repo), fn)
        src = file_bytes(os.path.join(w.root, repo, fn))
        if fn.endswith(".safetensors") or fn.endswith(".gguf"):
            blob = sha256(src)
        else:
            blob = hashlib.sha1(b"blob %d\0" % len(src) + src).hexdigest()
        want = "../../" + "../" * fn.count("/") + "blobs/" + blob
        check(os.path.islink(link) and os.readlink(link) == want,
              "%s: snapshots/COMMIT/%s -> %s" % (repo, fn, want))
        check(os.path.isfile(link) and file_bytes(link) == src, "%s: %s has the served bytes" % (repo, fn))
    blobs = os.listdir(os.path.join(rd, "blobs"))
    check(not [b for b in blobs if b.endswith(".incomplete")], "%s: no .incomplete left in blobs/" % repo)


# ---- cases ------------------------------------------------------------------------------

def case_fresh(w):
    p = w.run("fetch", MODEL)
    check(p.returncode == 0, "fetch exits 0")
    check(w.snapshot() in p.stdout, "fetch prints the snapshot path")
    check_layout(w, MODEL, ["config.json", "generation_config.json", "tokenizer.json", "model.safetensors"])
    check(os.path.isfile(os.path.join(w.repo_dir(), ".no_exist", commit_of(MODEL), "tokenizer_config.json")),
          ".no_exist/COMMIT/tokenizer_config.json marks a file the repo lacks")
    check(re.search(r"model\.safetensors: [0-9.]+ [kMG]B of [0-9.]+ [kMG]B \(100%\), [0-9.]+ [kMG]B/s", p.stderr),
          "a progress line with bytes, total and rate")
    check("sha256 ok" in p.stderr, "the sha256 check is reported")
    p = w.run("info", MODEL)
    check(p.returncode == 0 and "llama" in p.stdout.lower(),
          "info MODEL_ID opens the cached model")
    gets = [r for r in w.requests() if r["method"] == "GET" and r["path"].endswith("model.safetensors")]
    check(len(gets) == 1, "the weights were downloaded once (got %d GETs)" % len(gets))
    p = w.run("cache", "list")
    check(p.returncode == 0 and MODEL in p.stdout and "kB" in p.stdout, "cache list shows the model with a size")
    p = w.run("fetch", "--help")
    check(p.returncode == 0 and "ORG/NAME" in p.stdout, "fetch --help documents model ids")


def case_sharded(w):
    repo = "test-org/tiny-sharded"
    p = w.run("fetch", repo)
    check(p.returncode == 0, "fetch of a sharded model exits 0")
    check_layout(w, repo, ["config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors",
                           "model-00002-of-00002.safetensors"])
    p = w.run("info", repo, "--offline")
    check(p.returncode == 0, "info opens the sharded snapshot offline")


def case_gguf(w):
    p = w.run("fetch", "test-org/tiny-gguf:tiny.gguf")
    check(p.returncode == 0 and p.stdout.strip().endswith("tiny.gguf"), "fetch ORG/NAME:FILE.gguf")
    check_layout(w, "test-org/tiny-gguf", ["tiny.gguf"])
    names = [r["path"] for r in w.requests()]
    check(not [n for n in names if "config.json" in n], "a GGUF fetch asks for nothing but the file")
    p = w.run("info", "test-org/tiny-gguf:tiny.gguf", "--offline")
    check(p.returncode == 0, "info opens the GGUF snapshot")


def case_resume(w):
    size = os.path.getsize(os.path.join(w.root, MODEL, "model.safetensors"))
    cut = 100000
    w.set_config({"cut": {MODEL + "/model.safetensors": cut}})
    p = w.run("fetch", MODEL)
    check(p.returncode == 0, "fetch succeeds after the connection is cut mid-file")
    reqs = [r for r in w.requests() if r["method"] == "GET" and r["path"].endswith("model.safetensors")]
    check(len(reqs) >= 2 and reqs[0]["status"] == "cut", "the first GET was cut")
    check(any(r["range"] == "bytes=%d-" % cut and r["status"] == 206 for r in reqs),
          "the retry asked for Range: bytes=%d- and got 206" % cut)
    check("resuming" in p.stderr, "stderr says it resumes")
    check_layout(w, MODEL, ["model.safetensors"])
    # An earlier run's partial file (no server cut this time): resumed from its length.
    shutil.rmtree(w.cache)
    w.clear_log()
    w.set_config({})
    data = file_bytes(os.path.join(w.root, MODEL, "model.safetensors"))
    blobs = os.path.join(w.repo_dir(), "blobs")
    os.makedirs(blobs)
    with open(os.path.join(blobs, sha256(data) + ".incomplete"), "wb") as f:
        f.write(data[:200000])
    p = w.run("fetch", MODEL)
    reqs = [r for r in w.requests() if r["method"] == "GET" and r["path"].endswith("model.safetensors")]
    check(p.returncode == 0 and len(reqs) == 1 and reqs[0]["range"] == "bytes=200000-",
          "a partial blobs/SHA.incomplete from an earlier run resumes at its length")
    check_layout(w, MODEL, ["model.safetensors"])
    check(size > cut, "the cut was mid-file")
    # A server that ignores Range: the file starts over and is still right.
    shutil.rmtree(w.cache)
    os.makedirs(blobs)
    with open(os.path.join(blobs, sha256(data) + ".incomplete"), "wb") as f:
        f.write(data[:200000])
    w.set_config({"ignore_range": True})
    p = w.run("fetch", MODEL)
    check(p.returncode == 0, "a server ignoring Range: the download restarts")
    check_layout(w, MODEL, ["model.safetensors"])


def case_sha_mismatch(w):
    w.set_config({"corrupt": [MODEL + "/model.safetensors"]})
    p = w.run("fetch", MODEL)
    check(p.returncode == 2, "a wrong sha256 exits 2")
    check("sha256 mismatch" in p.stderr and "model.safetensors" in p.stderr, "the message says sha256 mismatch")
    snap = w.snapshot()
    check(not os.path.lexists(os.path.join(snap, "model.safetensors")), "nothing in snapshots/ for the bad file")
    blobs = os.listdir(os.path.join(w.repo_dir(), "blobs"))
    data = file_bytes(os.path.join(w.root, MODEL, "model.safetensors"))
    check(sha256(data) not in blobs and not [b for b in blobs if b.endswith(".incomplete")],
          "the rejected bytes are deleted (no blob, no .incomplete)")
    p = w.run("info", MODEL, "--offline")
    check(p.returncode == 2, "the half-fetched model is not usable offline")


def case_unauthorized(w):
    w.set_config({"token": TOKEN, "private": ["test-org/private"]})
    p = w.run("fetch", "test-org/private")
    check(p.returncode == 2 and "401" in p.stderr and "set HF_TOKEN" in p.stderr,
          "401 without a token says to set HF_TOKEN")
    p = w.run("fetch", "test-org/private", token=WRONG)
    check(p.returncode == 2 and "401" in p.stderr and "refused" in p.stderr,
          "401 with a token says the token was refused")
    p = w.run("fetch", "test-org/private", token=TOKEN)
    check(p.returncode == 0, "the right token downloads the private model")
    resolves = [r for r in w.requests() if "/resolve/" in r["path"]]
    check(all(r["auth_ok"] for r in resolves[-3:]), "the bearer header reached the Hub")
    w.set_config({"token": TOKEN, "gated": ["test-org/gated"]})
    p = w.run("fetch", "test-org/gated")
    check(p.returncode == 2 and "403" in p.stderr and "licence" in p.stderr, "403 says to accept the licence")


def case_not_found(w):
    p = w.run("fetch", "test-org/no-such-model")
    check(p.returncode == 2 and "404" in p.stderr and "check the id" in p.stderr, "404 says to check the id")
    p = w.run("fetch", MODEL + "@no-such-branch")
    check(p.returncode == 2 and "no revision" in p.stderr, "an unknown revision is named")
    p = w.run("fetch", "test-org/tiny-gguf:other.gguf")
    check(p.returncode == 2 and "other.gguf" in p.stderr, "a missing GGUF file is named")
    p = w.run("fetch", "test-org/tiny-gguf")
    check(p.returncode == 2 and "config.json" in p.stderr and "FILE.gguf" in p.stderr,
          "a GGUF repo without a file name hints at ORG/NAME:FILE.gguf")


def case_redirect_cdn(w):
    w.set_config({"cdn": True, "token": TOKEN, "private": [MODEL]})
    p = w.run("fetch", MODEL, token=TOKEN)
    check(p.returncode == 0, "fetch through a CDN redirect exits 0")
    check_layout(w, MODEL, ["config.json", "model.safetensors"])
    reqs = w.requests()
    cdn = [r for r in reqs if r["path"].startswith("/cdn/")]
    heads = [r for r in reqs if r["method"] == "HEAD" and r["path"].endswith("model.safetensors")]
    check(len(cdn) == 1 and cdn[0]["method"] == "GET" and cdn[0]["host"].startswith("localhost"),
          "the weights came from the CDN origin, once")
    check(heads and heads[0]["status"] == 302, "the HEAD saw the 302 and did not follow it")
    check(not any(r["auth"] for r in cdn), "no Authorization header went to the CDN")


def case_offline_warm(w):
    p = w.run("fetch", MODEL)
    check(p.returncode == 0, "warm the cache")
    w.clear_log()
    p = w.run("info", MODEL, "--offline")
    check(p.returncode == 0, "info --offline works from the cache")
    p = w.run("info", MODEL, offline=True)
    check(p.returncode == 0, "HF_HUB_OFFLINE=1 works from the cache")
    p = w.run("info", MODEL + "@" + commit_of(MODEL))
    check(p.returncode == 0, "a cached commit revision opens without asking")
    check(len(w.requests()) == 0, "the server saw zero requests (got %d)" % len(w.requests()))
    p = w.run("fetch", MODEL, offline=True)
    check(p.returncode == 2 and "offline" in p.stderr, "fetch refuses to run offline")


def case_offline_cold(w):
    p = w.run("info", MODEL, "--offline")
    check(p.returncode == 2 and "not in the cache" in p.stderr and "gqla-eval fetch " + MODEL in p.stderr,
          "a cold cache offline says how to get the model")
    # The snapshot exists but a file is gone: named.
    w.run("fetch", MODEL)
    os.unlink(os.path.join(w.snapshot(), "model.safetensors"))
    w.clear_log()
    p = w.run("info", MODEL, offline=True)
    check(p.returncode == 2 and "model.safetensors" in p.stderr and "gqla-eval fetch" in p.stderr,
          "a missing file offline is named, with the fetch command")
    check(len(w.requests()) == 0, "offline: zero requests")


def case_escape(w):
    for bad in ("../../x", "org/..", "../org/name", "org/na$me", "org//name", "org/name/extra", ".org/name",
                "org/name-", "org/name@../../x", "org/name@main/../../x", "org/name:../../x.gguf",
                "org/name:sub/../x.gguf", "org/name:x.bin"):
        p = w.run("fetch", bad)
        check(p.returncode == 2 and ("refused" in p.stderr or "not a Hub model id" in p.stderr),
              "fetch %r is refused with exit 2" % bad)
    p = w.run("info", "org/missing.gguf")
    check(p.returncode == 2 and "no such file" in p.stderr and "ORG/NAME:FILE.gguf" in p.stderr,
          "a missing local .gguf is not taken for a Hub id")
    p = w.run("info", "../../x")
    check(p.returncode == 2 and "not a Hub model id" in p.stderr, "--model ../../x is refused")
    check(len(w.requests()) == 0, "refused ids send no request")
    check(not os.path.exists(w.cache), "refused ids create nothing in the cache")
    # A snapshot link that points outside the cache.
    outside = os.path.join(w.dir, "outside.json")
    shutil.copy(os.path.join(w.root, MODEL, "config.json"), outside)
    rd = w.repo_dir()
    os.makedirs(os.path.join(rd, "refs"))
    os.makedirs(w.snapshot())
    with open(os.path.join(rd, "refs", "main"), "w") as f:
        f.write(commit_of(MODEL))
    os.symlink(os.path.relpath(outside, w.snapshot()), os.path.join(w.snapshot(), "config.json"))
    shutil.copy(os.path.join(w.root, MODEL, "model.safetensors"), w.snapshot())
    p = w.run("info", MODEL, "--offline")
    check(p.returncode == 2 and "outside the model cache" in p.stderr, "a link out of the cache is refused")
    with open(os.path.join(rd, "refs", "main"), "w") as f:
        f.write("../../../../etc")
    p = w.run("info", MODEL, "--offline")
    check(p.returncode == 2 and "commit hash" in p.stderr, "a ref that is not a commit hash is refused")


def case_token_secret(w):
    """HF_TOKEN never appears in stdout, stderr, the cache or an eval's output files."""
    w.set_config({"token": TOKEN, "private": [MODEL], "cdn": True})
    w.run("fetch", MODEL, token=WRONG)
    w.run("fetch", "test-org/no-such-model", token=TOKEN)
    w.run("fetch", MODEL, token=TOKEN)
    w.run("info", MODEL, token=TOKEN)
    w.run("cache", "list", token=TOKEN)
    out = os.path.join(w.dir, "eval-out")
    samples = os.path.join(FIX, "..", "..", "datasets", "samples")
    p = w.run("--model", MODEL, "--tasks", "arc_easy", "--data-dir", samples, "--limit", "2", "--output-dir", out,
              "--log-samples", token=TOKEN)
    check(p.returncode in (0, 1), "an eval by Hub id runs (exit %d)" % p.returncode)
    leaks = [what for what, text in w.outputs if TOKEN in text or WRONG in text]
    check(not leaks, "the token is in no command's output (leaks: %s)" % leaks)
    files = 0
    for base in (w.cache, out, w.home):
        for dirpath, _, names in os.walk(base):
            for n in names:
                path = os.path.join(dirpath, n)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                files += 1
                data = file_bytes(path)
                check(TOKEN.encode() not in data and WRONG.encode() not in data, "no token in %s" % path)
    check(files > 3, "the token check read the cache and the eval's files (%d files)" % files)


CASES = {
    "fresh": case_fresh,
    "sharded": case_sharded,
    "gguf": case_gguf,
    "resume": case_resume,
    "sha_mismatch": case_sha_mismatch,
    "unauthorized": case_unauthorized,
    "not_found": case_not_found,
    "redirect_cdn": case_redirect_cdn,
    "offline_warm": case_offline_warm,
    "offline_cold": case_offline_cold,
    "escape": case_escape,
    "token_secret": case_token_secret,
}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        print("usage: test_hub.py CASE (%s)" % ", ".join(CASES))
        return 2
    if not CLI or not os.access(CLI, os.X_OK):
        print("GQ_CLI is not an executable: %r" % CLI)
        return 1
    w = World(sys.argv[1])
    try:
        CASES[sys.argv[1]](w)
    finally:
        w.close()
    print("%s: %d failure%s" % (sys.argv[1], len(FAILS), "" if len(FAILS) == 1 else "s"))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
