#!/usr/bin/env python3
"""check_hf_cache_interop.py — the model cache gqla-eval writes is the one
huggingface_hub writes, both ways, against tests/fake_hub.py:

  A. `gqla-eval fetch` fills cache A; huggingface_hub reads it with
     snapshot_download(..., local_files_only=True) and
     hf_hub_download(..., local_files_only=True): same snapshot folder,
     same bytes.
  B. huggingface_hub's hf_hub_download (pointed at the same fake Hub)
     fills cache B; `gqla-eval info ID --offline` opens it, and the server
     sees no request from gqla-eval.

huggingface_hub is installed into a virtualenv this script makes
($GQLA_HF_VENV, default $GQ_TMP/hf-venv; reused when present).  When
python3 cannot make one, or pip cannot reach PyPI, the script says so and
exits 77 (ctest: skipped).  CI runs it through ctest (hub.interop, label
"slow"); by hand: GQ_CLI=build/gqla-eval python3 tests/reference/check_hf_cache_interop.py
"""
import os
import subprocess
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
os.environ.setdefault("GQ_FIXTURES", os.path.join(os.path.dirname(HERE), "fixtures"))
import test_hub as th  # noqa: E402  (the fake Hub's world and checks)

SKIP = 77


def venv_python():
    venv = os.environ.get("GQLA_HF_VENV") or os.path.join(th.TMP, "hf-venv")
    py = os.path.join(venv, "bin", "python")
    ok = os.path.exists(py) and subprocess.run(
        [py, "-c", "import huggingface_hub"], capture_output=True).returncode == 0
    if ok:
        return py
    try:
        subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True, timeout=120)
        subprocess.run([py, "-m", "pip", "install", "-q", "huggingface_hub"], check=True, capture_output=True,
                       timeout=300)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
        err = getattr(e, "stderr", b"") or b""
        print("skip: cannot make a virtualenv with huggingface_hub (%s)\n%s" % (e, err.decode(errors="replace")[-600:]))
        return None
    return py


def hf(py, w, code, cache, offline):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update({"HF_HUB_CACHE": cache, "HF_ENDPOINT": w.endpoint, "HOME": w.home, "HF_HUB_DISABLE_XET": "1",
                "HF_HUB_DISABLE_TELEMETRY": "1"})
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    p = subprocess.run([py, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=120)
    print("$ python (huggingface_hub) -> %d\n%s%s" % (p.returncode, p.stdout, p.stderr[-2000:]))
    return p


def main():
    if not th.CLI or not os.access(th.CLI, os.X_OK):
        print("GQ_CLI is not an executable: %r" % th.CLI)
        return 1
    py = venv_python()
    if not py:
        return SKIP
    w = th.World("interop")
    try:
        # A: gqla-eval writes, huggingface_hub reads.
        p = w.run("fetch", th.MODEL)
        th.check(p.returncode == 0, "A: gqla-eval fetch")
        snap = p.stdout.split("\t")[-1].strip()
        q = hf(py, w, """
            import os
            from huggingface_hub import snapshot_download, hf_hub_download
            p = snapshot_download("%s", local_files_only=True)
            print("SNAP", os.path.realpath(p))
            for fn in ("config.json", "model.safetensors", "tokenizer.json"):
                f = hf_hub_download("%s", fn, local_files_only=True)
                print("FILE", fn, os.path.realpath(f))
            """ % (th.MODEL, th.MODEL), w.cache, offline=True)
        th.check(q.returncode == 0, "A: huggingface_hub reads gqla-eval's cache offline")
        th.check("SNAP " + os.path.realpath(snap) in q.stdout, "A: the same snapshot folder")
        for fn in ("config.json", "model.safetensors", "tokenizer.json"):
            line = [ln for ln in q.stdout.splitlines() if ln.startswith("FILE " + fn + " ")]
            th.check(line and th.file_bytes(line[0].split(" ", 2)[2]) ==
                     th.file_bytes(os.path.join(w.root, th.MODEL, fn)), "A: %s has the served bytes" % fn)
        # B: huggingface_hub writes, gqla-eval reads.
        cache_b = os.path.join(w.dir, "cache-b")
        q = hf(py, w, """
            from huggingface_hub import hf_hub_download
            for fn in ("config.json", "tokenizer.json", "generation_config.json", "model.safetensors"):
                print(hf_hub_download("%s", fn))
            """ % th.MODEL, cache_b, offline=False)
        th.check(q.returncode == 0, "B: huggingface_hub downloads from the fake Hub")
        w.clear_log()
        w.cache = cache_b
        p = w.run("info", th.MODEL, "--offline")
        th.check(p.returncode == 0 and "llama" in p.stdout, "B: gqla-eval opens huggingface_hub's cache offline")
        th.check_layout(w, th.MODEL, ["config.json", "tokenizer.json", "model.safetensors"])
        th.check(len(w.requests()) == 0, "B: gqla-eval sent no request")
    finally:
        w.close()
    print("interop: %d failure%s" % (len(th.FAILS), "" if len(th.FAILS) == 1 else "s"))
    return 1 if th.FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
