#!/usr/bin/env python3
"""make_convert_fixture.py — the fixture of `gqla-eval convert` (issue 6):
a tiny random Qwen2-style GQA checkpoint, calibration token ids, and what the
TransGQLA conversion of conversion.md §3 must produce from them, computed by
the independent float64 NumPy implementation in transgqla_numpy.py.

Writes tests/fixtures/convert/tiny-qwen2/:
  source/config.json, source/model.safetensors    the GQA source (f32, q/k/v biases)
  calib_tokens.txt                                8 samples x 64 ids, one sample per line
  <setting>/args.txt                              the convert options of that setting
  <setting>/expected/config.json                  §5.2
  <setting>/expected/gqla_meta.json               the §5.3 numbers that follow from the conversion
  <setting>/expected/logprobs.txt                 log-probs of the converted model (the f32 weights as
                                                  written) on 48 fixed ids, float64 GQLA forward
  <setting>/expected/model.safetensors            the tensors the conversion computes
                                                  (q_proj or q_a/q_b_proj, kv_a_proj_with_mqa,
                                                  kv_b_proj, with biases); every other output
                                                  tensor is the source tensor, copied bit for bit
  selfcheck.txt                                   the numbers printed below
Settings: ropedim8-ff4-r40 (c = 2) and ropedim16-ff1-r24-rq48 (c = 1, q LoRA).

Before writing, the script checks its own math and exits 1 if any check fails:
  1. Q of RoRoPE is orthogonal; with c = ff = 1 and RoPE kept on every row,
     the rotated model equals the source (exact, §3.2.4).
  2. At full rank (r = 2Gd - d_r; r_q null and r_q = H*d) the converted GQLA
     model equals the partial-RoPE model, on both decoding paths (§6.2 3).
  3. On a RoPE-separable source (§6.2 4; (c, ff) = (1,1) (2,2) (1,2) (2,4),
     for ff > c with key energy only in the first frequency of each block),
     the full-rank conversion equals the source itself.
  4. For the fixture settings, the GQA and absorb paths agree (§2.3), also
     on the f32 weights read back from the written file.
  5. Conditioning: rounding every calibration activation to float32 (what a
     float32 forward pass would feed the statistics) moves no output tensor
     by more than 1e-5, so a correct converter computing its forward pass in
     float32 lands well inside the 1e-4 tolerance of the ctest.

Usage (numpy only; about 10 s):  python3 tests/reference/make_convert_fixture.py [--out DIR]
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import transgqla_numpy as tg  # noqa: E402

SEED = 20261130
D, H, G, d, N_LAYERS, INTER, VOCAB = 48, 4, 2, 16, 2, 8, 64
N_SAMPLES, SEQLEN = 8, 64

SETTINGS = [
    # (folder, rope_dim, freqfold, kv_lora_rank, q_lora_rank)
    ("ropedim8-ff4-r40", 8, 4, 40, None),
    ("ropedim16-ff1-r24-rq48", 16, 1, 24, 48),
]

TOL_EXACT = 1e-10      # float64 identities (measured ~1e-14)
TOL_F32_SENS = 1e-5    # output movement under float32-rounded calibration activations


def make_source(rng):
    """Random Qwen2-style weights, rounded to float32 (then used as float64)."""
    def n(shape, std):
        return rng.normal(0.0, std, size=shape)

    def gain(k):
        return rng.uniform(0.6, 1.4, size=k)

    W = {"model.embed_tokens.weight": n((VOCAB, D), 0.5)}
    for l in range(N_LAYERS):
        p = f"model.layers.{l}."
        W[p + "input_layernorm.weight"] = gain(D)
        W[p + "self_attn.q_proj.weight"] = n((H * d, D), 0.2)
        W[p + "self_attn.q_proj.bias"] = n(H * d, 0.2)
        W[p + "self_attn.k_proj.weight"] = n((G * d, D), 0.2)
        W[p + "self_attn.k_proj.bias"] = n(G * d, 0.2)
        W[p + "self_attn.v_proj.weight"] = n((G * d, D), 0.15)
        W[p + "self_attn.v_proj.bias"] = n(G * d, 0.1)
        W[p + "self_attn.o_proj.weight"] = n((D, H * d), 0.15)
        W[p + "post_attention_layernorm.weight"] = gain(D)
        W[p + "mlp.gate_proj.weight"] = n((INTER, D), 0.15)
        W[p + "mlp.up_proj.weight"] = n((INTER, D), 0.15)
        W[p + "mlp.down_proj.weight"] = n((D, INTER), 0.15)
    W["model.norm.weight"] = gain(D)
    W["lm_head.weight"] = n((VOCAB, D), 0.25)
    return {k: np.asarray(v, dtype=np.float32).astype(np.float64) for k, v in W.items()}


def source_config():
    return {
        "architectures": ["Qwen2ForCausalLM"],
        "model_type": "qwen2",
        "hidden_size": D,
        "intermediate_size": INTER,
        "num_hidden_layers": N_LAYERS,
        "num_attention_heads": H,
        "num_key_value_heads": G,
        "head_dim": d,
        "vocab_size": VOCAB,
        "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0,
        "max_position_embeddings": 256,
        "hidden_act": "silu",
        "tie_word_embeddings": False,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "torch_dtype": "float32",
    }


def rel_err(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def max_abs(a, b):
    return float(np.max(np.abs(a - b)))


def f32(x):
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def min_rel_gap(lam, k):
    """Smallest gap between eigenvalue i and its neighbours, over i < k,
    relative to the largest eigenvalue: how well determined the first k
    eigenvectors are."""
    gaps = []
    for i in range(k):
        g = []
        if i > 0:
            g.append(lam[i - 1] - lam[i])
        if i + 1 < len(lam):
            g.append(lam[i] - lam[i + 1])
        gaps.append(min(g))
    return float(min(gaps) / lam[0])


class Checks:
    def __init__(self):
        self.lines = []
        self.failed = 0

    def check(self, what, value, bound):
        ok = value <= bound
        line = f"{'ok  ' if ok else 'FAIL'} {what}: {value:.3e} (bound {bound:.0e})"
        print(line)
        self.lines.append(line)
        if not ok:
            self.failed += 1

    def note(self, line):
        print(line)
        self.lines.append(line)


def rope_separable(W, c, ff, rng):
    """§6.2 4, extended to ff > c: for every KV head g, frequency j = 0 (mod ff)
    and half eta, W_k[g d + eta d/2 + j] = a_j[g] w_{j,eta}, b_k likewise;
    all other rows zero.  With ff = c this is §6.2 4 as written.  With ff > c
    only the first frequency of each FreqFold block carries key energy (two
    kept frequencies of one block would have correlated amplitudes, and their
    eigenvectors would mix them: that is FreqFold's approximation), so the
    block's top eigenvector is rotated at its own frequency omega_{i ff} and
    the conversion is exact."""
    W2 = dict(W)
    for l in range(N_LAYERS):
        p = f"model.layers.{l}.self_attn."
        Wk = np.zeros((G * d, D))
        bk = np.zeros(G * d)
        for j in range(0, d // 2, ff):
            a = rng.normal(0, 1, size=G)
            for eta in range(2):
                w = rng.normal(0, 0.2, size=D)
                beta = rng.normal(0, 0.2)
                for g in range(G):
                    Wk[g * d + eta * d // 2 + j] = a[g] * w
                    bk[g * d + eta * d // 2 + j] = a[g] * beta
        W2[p + "k_proj.weight"] = Wk
        W2[p + "k_proj.bias"] = bk
    return W2


def log_softmax(z):
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def write_logprobs(path, ids, logits):
    """Format (version 1): a header line, the ids, then one line per scored
    position: pos id logprob, logprob = log P(ids[pos] | ids[<pos])."""
    lp = log_softmax(logits)
    with open(path, "w") as f:
        f.write("gqla-convert-logprobs 1\n")
        f.write("ids " + " ".join(str(int(t)) for t in ids) + "\n")
        for pos in range(1, len(ids)):
            f.write(f"{pos} {int(ids[pos])} {lp[pos - 1, ids[pos]]:.9e}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "fixtures", "convert", "tiny-qwen2"))
    args = ap.parse_args()

    rng = np.random.default_rng(SEED)
    W = make_source(rng)
    cfg = source_config()
    sc = tg.SourceConfig(cfg)
    calib = [rng.integers(0, VOCAB, size=SEQLEN) for _ in range(N_SAMPLES)]
    test_ids = rng.integers(0, VOCAB, size=40)
    score_ids = rng.integers(0, VOCAB, size=48)
    ck = Checks()

    src_logits = tg.source_logits(W, sc, test_ids)
    ck.note(f"source logits on the 40 test ids: max |logit| {np.max(np.abs(src_logits)):.3f}, "
            f"mean (max - min) logit per position {np.ptp(src_logits, axis=1).mean():.3f}")

    # 1. RoRoPE rotation alone, c = ff = 1, RoPE on every row: exact
    ks = [[] for _ in range(N_LAYERS)]
    for ids in calib:
        tg.decoder_forward(W, sc.n_layers, sc.eps, ids,
                           tg.source_attention(W, sc, record=lambda l, k: ks[l].append(k)))
    Qs11 = [tg.rororope_rotation(np.concatenate(ks[l]), d, G, 1, 1)[0] for l in range(N_LAYERS)]
    ck.check("Q (c=ff=1) orthogonal, max |Q^T Q - I|",
             max(max_abs(Q.T @ Q, np.eye(G * d)) for Q in Qs11), TOL_EXACT)
    all_rows_omega = np.tile(tg.rope_freqs(sc.theta, d), G)   # row g'd+2i+eta at omega_i
    rot = tg.partial_rope_logits(W, sc, Qs11, G * d, all_rows_omega, test_ids)
    ck.check("RoRoPE c=ff=1 with RoPE on all rows vs source logits, max abs", max_abs(rot, src_logits),
             TOL_EXACT)

    # 2. full-rank conversion == partial-RoPE model, both paths, r_q null and H*d
    for name, d_r, ff, _, _ in SETTINGS:
        c = d // d_r
        r_max = 2 * G * d - d_r
        for rq in (None, H * d):
            full, ocfg, info = tg.convert(W, cfg, calib, d_r, ff, r_max, rq)
            Qs = info["Q"]
            ck.check(f"[{name}] Q (c={c}, ff={ff}) orthogonal",
                     max(max_abs(Q.T @ Q, np.eye(G * d)) for Q in Qs), TOL_EXACT)
            pr = tg.partial_rope_logits(W, sc, Qs, d_r, tg.pair_frequencies(sc, d_r, c), test_ids)
            gc = tg.GqlaConfig(ocfg)
            for path in ("gqa", "absorb"):
                lg = tg.gqla_logits(full, gc, test_ids, path)
                ck.check(f"[{name}] full rank r={r_max} r_q={rq} {path} path vs partial-RoPE logits, max abs",
                         max_abs(lg, pr), TOL_EXACT)
        ck.note(f"[{name}] partial-RoPE vs source logits (RoPE removal, approximation), "
                f"relative: {rel_err(pr, src_logits):.3f}")

    # 3. RoPE-separable source: the full-rank conversion reproduces the source itself
    for c, ff in ((1, 1), (2, 2), (1, 2), (2, 4)):
        Wsep = rope_separable(W, c, ff, np.random.default_rng(SEED + 10 * c + ff))
        ref = tg.source_logits(Wsep, sc, test_ids)
        full, ocfg, info = tg.convert(Wsep, cfg, calib, d // c, ff, 2 * G * d - d // c, None)
        gc = tg.GqlaConfig(ocfg)
        for path in ("gqa", "absorb"):
            ck.check(f"RoPE-separable source c={c} ff={ff}: full-rank GQLA {path} path vs source logits, max abs",
                     max_abs(tg.gqla_logits(full, gc, test_ids, path), ref), TOL_EXACT)
        ck.note(f"RoPE-separable source c={c} ff={ff}: alpha per layer {info['alpha']} "
                f"(1.0 = the guard: no NoPE key energy)")

    # 4./5. the fixture settings
    outputs = {}
    for name, d_r, ff, r, rq in SETTINGS:
        c = d // d_r
        full, ocfg, info = tg.convert(W, cfg, calib, d_r, ff, r, rq)
        gc = tg.GqlaConfig(ocfg)
        lg = tg.gqla_logits(full, gc, test_ids, "gqa")
        la = tg.gqla_logits(full, gc, test_ids, "absorb")
        ck.check(f"[{name}] GQA vs absorb path logits (float64 weights), max abs", max_abs(lg, la), TOL_EXACT)
        full32 = {k: f32(v) for k, v in full.items()}
        lg32 = tg.gqla_logits(full32, gc, test_ids, "gqa")
        la32 = tg.gqla_logits(full32, gc, test_ids, "absorb")
        ck.check(f"[{name}] GQA vs absorb path logits (float32-rounded weights), max abs", max_abs(lg32, la32),
                 TOL_EXACT)
        pr = tg.partial_rope_logits(W, sc, info["Q"], d_r, tg.pair_frequencies(sc, d_r, c), test_ids)
        ck.note(f"[{name}] converted vs partial-RoPE logits, relative (PCA truncation): {rel_err(lg, pr):.3f}; "
                f"vs source: {rel_err(lg, src_logits):.3f}")
        ck.note(f"[{name}] alpha {['%.6f' % a for a in info['alpha']]}, kv energy retained "
                f"{['%.6f' % e for e in info['kv_energy_retained']]}"
                + (f", q energy retained {['%.6f' % e for e in info['q_energy_retained']]}" if rq else "")
                + f", rope energy retained {['%.6f' % e for e in info['rope_energy_retained']]}")
        gaps = [min_rel_gap(lam, len(lam)) for blocks in info["rope_block_eigenvalues"] for lam in blocks]
        gaps_kv = [min_rel_gap(lam, r) for lam in info["kv_eigenvalues"]]
        line = (f"[{name}] smallest relative eigen-gap: RoRoPE blocks {min(gaps):.2e}, "
                f"joint KV (first {r}) {min(gaps_kv):.2e}")
        if rq:
            line += f", query (first {rq}) {min(min_rel_gap(lam, rq) for lam in info['q_eigenvalues']):.2e}"
        ck.note(line)
        # conditioning: float32-rounded calibration activations
        full_r, _, _ = tg.convert(W, cfg, calib, d_r, ff, r, rq, act_round=f32)
        worst = max(((max_abs(full_r[k], full[k]), k) for k in full), key=lambda t: t[0])
        ck.check(f"[{name}] output movement under float32 calibration activations (worst {worst[1]})",
                 worst[0], TOL_F32_SENS)
        # log-probs of the converted model as written (f32 weights), both paths
        s_gqa = tg.gqla_logits(full32, gc, score_ids, "gqa")
        s_abs = tg.gqla_logits(full32, gc, score_ids, "absorb")
        ck.check(f"[{name}] log-prob reference: GQA vs absorb path on the 48 scoring ids, max abs",
                 max_abs(log_softmax(s_gqa), log_softmax(s_abs)), TOL_EXACT)
        outputs[name] = (full, ocfg, tg.meta_numbers(cfg, d_r, r, rq, info), s_gqa)

    ck.note(f"{ck.failed} check(s) failed")
    if ck.failed:
        sys.exit(1)

    # ------------------------------------------------------------------ write
    out = os.path.abspath(args.out)
    os.makedirs(os.path.join(out, "source"), exist_ok=True)
    with open(os.path.join(out, "source", "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    tg.save_safetensors(os.path.join(out, "source", "model.safetensors"), W)
    with open(os.path.join(out, "calib_tokens.txt"), "w") as f:
        for ids in calib:
            f.write(" ".join(str(int(t)) for t in ids) + "\n")
    for name, d_r, ff, r, rq in SETTINGS:
        full, ocfg, meta, score_logits = outputs[name]
        sdir = os.path.join(out, name)
        os.makedirs(os.path.join(sdir, "expected"), exist_ok=True)
        write_logprobs(os.path.join(sdir, "expected", "logprobs.txt"), score_ids, score_logits)
        opts = f"--rope-dim {d_r} --freqfold {ff} --kv-lora-rank {r}"
        if rq is not None:
            opts += f" --q-lora-rank {rq}"
        with open(os.path.join(sdir, "args.txt"), "w") as f:
            f.write(opts + "\n")
        with open(os.path.join(sdir, "expected", "config.json"), "w") as f:
            json.dump(ocfg, f, indent=2)
            f.write("\n")
        with open(os.path.join(sdir, "expected", "gqla_meta.json"), "w") as f:
            json.dump(meta, f, indent=2)
            f.write("\n")
        # the tensors the conversion computes: new names, and q_proj (same name, new rows)
        computed = {k: v for k, v in full.items() if k not in W or k.endswith(tg.ATTN_SOURCE_SUFFIXES)}
        tg.save_safetensors(os.path.join(sdir, "expected", "model.safetensors"), computed)
        # what was written reads back as the float32 rounding of what was computed
        back = tg.load_safetensors(os.path.join(sdir, "expected", "model.safetensors"))
        assert set(back) == set(computed)
        assert all(np.array_equal(back[k], f32(computed[k])) for k in back)
    with open(os.path.join(out, "selfcheck.txt"), "w") as f:
        f.write("# make_convert_fixture.py self-checks (float64), see tests/reference/README.md\n")
        for line in ck.lines:
            f.write(line + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
