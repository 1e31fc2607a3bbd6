"""transgqla_numpy.py — an independent float64 NumPy implementation of the
TransGQLA conversion of a GQA (Qwen2/LLaMA-style) checkpoint, written from
shared/spec/conversion.md §1, §2, §3, §5 alone (not from the C converter).

What is here:
  * a tiny safetensors reader/writer (F32 only; enough for fixtures),
  * the decoder skeleton (§1.1) with three kinds of attention:
      source GQA with NeoX RoPE (§1.3),
      the "partial-RoPE" model of §3.2.4 (the intermediate the conversion reproduces),
      GQLA attention (§1.4 with N_kv = G) on either decoding path (§2.1 GQA, §2.2 absorb),
  * the conversion itself (§3.1–§3.5, §3.8 passes 1 and 2): RoRoPE + FreqFold +
    collapse, balance, joint K/V PCA, query rope absorption + softmax-scale fix,
    optional query PCA (q LoRA), and the §5.2 config.

What is deliberately not here: latent RMSNorms (§3.6, not function-preserving),
freqfold auto search (§3.2.5), yarn/llama3 scaling (the fixture uses default
RoPE), pad tokens (calibration samples have equal length), bf16.

Numerics: everything in float64 (§3.7).  Eigenvectors: eigenvalues sorted
descending, each vector negated if needed so that its entry of largest
absolute value is positive (ties -> lowest index); damping 0.01*mean(diag)*I;
statistics uncentered.

Used by make_convert_fixture.py (which also runs the self-checks).
"""

import json
import struct

import numpy as np

# ---------------------------------------------------------------------------
# safetensors (F32 only)


def save_safetensors(path, tensors):
    """tensors: dict name -> np.ndarray (written as little-endian f32, in the
    dict's order).  Header padded with spaces to a multiple of 8 bytes."""
    header = {}
    blobs = []
    off = 0
    for name, arr in tensors.items():
        a = np.ascontiguousarray(np.asarray(arr, dtype="<f4"))
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    hj = json.dumps(header, separators=(",", ":")).encode()
    hj += b" " * ((8 - len(hj) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    """Returns dict name -> float64 array (F32 files only)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: {name}: dtype {info['dtype']}, only F32 handled")
        b, e = info["data_offsets"]
        arr = np.frombuffer(data[base + b:base + e], dtype="<f4").reshape(info["shape"])
        out[name] = arr.astype(np.float64)
    return out


# ---------------------------------------------------------------------------
# small math helpers


def rms_norm(x, gamma, eps):
    return gamma * x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)


def silu(z):
    return z / (1.0 + np.exp(-z))


def rope_freqs(theta, n):
    """Default RoPE frequencies omega_j = theta^(-2j/n), j = 0 .. n/2-1 (§1.2)."""
    return theta ** (-2.0 * np.arange(n // 2) / n)


def rope_neox(x, pos, omega):
    """x [..., T, n]: pairs (j, j+n/2) rotated by pos*omega_j (§1.2)."""
    n = x.shape[-1]
    h = n // 2
    ang = pos[:, None] * omega[None, :]          # [T, n/2]
    c, s = np.cos(ang), np.sin(ang)
    x0, x1 = x[..., :h], x[..., h:]
    return np.concatenate([x0 * c - x1 * s, x1 * c + x0 * s], axis=-1)


def rope_interleaved(x, pos, omega):
    """x [..., T, n]: pairs (2p, 2p+1) rotated by pos*omega_p (§1.2)."""
    ang = pos[:, None] * omega[None, :]
    c, s = np.cos(ang), np.sin(ang)
    x0, x1 = x[..., 0::2], x[..., 1::2]
    y = np.empty_like(x)
    y[..., 0::2] = x0 * c - x1 * s
    y[..., 1::2] = x1 * c + x0 * s
    return y


def causal_attention(scores, values):
    """scores [H, T, T] (already scaled), values [H, T, dv] -> [H, T, dv]."""
    T = scores.shape[-1]
    mask = np.triu(np.ones((T, T), dtype=bool), 1)
    s = np.where(mask, -np.inf, scores)
    s = s - s.max(axis=-1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(axis=-1, keepdims=True)
    return p @ values


def sorted_eigh(C):
    """Eigen-decomposition of a symmetric matrix: eigenvalues descending,
    each eigenvector signed so that its largest-|.| entry (lowest index on
    ties) is positive.  Returns (lam, U) with U[:, k] the k-th vector."""
    C = 0.5 * (C + C.T)
    lam, U = np.linalg.eigh(C)
    order = np.argsort(-lam, kind="stable")
    lam, U = lam[order], U[:, order]
    for k in range(U.shape[1]):
        i = int(np.argmax(np.abs(U[:, k])))
        if U[i, k] < 0:
            U[:, k] = -U[:, k]
    return lam, U


def damping(C):
    """The diagonal load 0.01 * mean(diag C) of §3.8."""
    return 0.01 * np.mean(np.diag(C))


def damp(C):
    """C + 0.01 * mean(diag C) * I (§3.8)."""
    return C + damping(C) * np.eye(C.shape[0])


def pca(C):
    """Eigenvectors of the damped statistic (sorted_eigh conventions) and the
    eigenvalues of the undamped one (damping shifts every eigenvalue by the
    same amount and leaves the vectors alone).  Energy fractions are reported
    from the undamped eigenvalues: they describe the data, not the regulariser."""
    lam, U = sorted_eigh(damp(C))
    return lam - damping(C), U


# ---------------------------------------------------------------------------
# the decoder skeleton (§1.1)


class SourceConfig:
    """The few numbers a Qwen2-style config.json gives the forward pass."""

    def __init__(self, cfg):
        self.D = cfg["hidden_size"]
        self.H = cfg["num_attention_heads"]
        self.G = cfg["num_key_value_heads"]
        self.d = cfg.get("head_dim") or self.D // self.H
        self.n_layers = cfg["num_hidden_layers"]
        self.eps = cfg["rms_norm_eps"]
        self.theta = cfg["rope_theta"]
        self.tied = cfg.get("tie_word_embeddings", False)


def decoder_forward(W, n_layers, eps, ids, attn_fn, tied=False):
    """ids [T] -> logits [T, V].  attn_fn(l, a, pos) -> [T, D] is the attention
    of layer l on the normalised input a [T, D] (it may record statistics)."""
    pos = np.arange(len(ids), dtype=np.float64)
    x = W["model.embed_tokens.weight"][ids]
    for l in range(n_layers):
        p = f"model.layers.{l}."
        a = rms_norm(x, W[p + "input_layernorm.weight"], eps)
        x = x + attn_fn(l, a, pos)
        m = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        gate = m @ W[p + "mlp.gate_proj.weight"].T
        up = m @ W[p + "mlp.up_proj.weight"].T
        x = x + (silu(gate) * up) @ W[p + "mlp.down_proj.weight"].T
    h = rms_norm(x, W["model.norm.weight"], eps)
    lm = W["model.embed_tokens.weight"] if tied else W["lm_head.weight"]
    return h @ lm.T


def linear(W, name, a):
    """a @ W[name.weight]^T (+ W[name.bias] if present)."""
    y = a @ W[name + ".weight"].T
    if name + ".bias" in W:
        y = y + W[name + ".bias"]
    return y


def heads(y, n, width):
    """[T, n*width] -> [n, T, width]."""
    T = y.shape[0]
    return y.reshape(T, n, width).transpose(1, 0, 2)


def merge_heads(o):
    """[n, T, width] -> [T, n*width]."""
    n, T, w = o.shape
    return o.transpose(1, 0, 2).reshape(T, n * w)


# ---------------------------------------------------------------------------
# source GQA attention (§1.3)


def source_attention(W, sc, record=None):
    """attn_fn for the source model; record(l, k_pre_rope [T, G*d]) if given."""
    omega = rope_freqs(sc.theta, sc.d)
    gs = sc.H // sc.G

    def fn(l, a, pos):
        p = f"model.layers.{l}.self_attn."
        q = linear(W, p + "q_proj", a)
        k = linear(W, p + "k_proj", a)
        v = linear(W, p + "v_proj", a)
        if record is not None:
            record(l, k)
        qh = rope_neox(heads(q, sc.H, sc.d), pos, omega)
        kh = rope_neox(heads(k, sc.G, sc.d), pos, omega)
        vh = heads(v, sc.G, sc.d)
        kh = np.repeat(kh, gs, axis=0)  # head h reads group h // gs
        vh = np.repeat(vh, gs, axis=0)
        o = causal_attention(qh @ kh.transpose(0, 2, 1) / np.sqrt(sc.d), vh)
        return linear(W, p + "o_proj", merge_heads(o))

    return fn


# ---------------------------------------------------------------------------
# RoRoPE with FreqFold (§3.2)


def block_features(d, G, ff, c, i):
    """Block i's features in order f = l*(G*ff/c) + g*(ff/c) + m: list of
    (source latent index for eta=0, for eta=1) (§3.2.2)."""
    nm = ff // c
    feats = [None] * (G * ff)
    for l_ in range(c):
        for g in range(G):
            for m in range(nm):
                j = i * ff + m * c + l_
                f = l_ * (G * nm) + g * nm + m
                feats[f] = (g * d + j, g * d + d // 2 + j)
    return feats


def rororope_rotation(k_samples, d, G, ff, c):
    """k_samples [N, G*d] pre-RoPE source keys of one layer (bias included).
    Returns the orthogonal Q [L, L] of §3.2.4 and the per-block (undamped)
    eigenvalues."""
    L = G * d
    nm = ff // c
    Q = np.zeros((L, L))
    lams = []
    for i in range(d // (2 * ff)):
        feats = block_features(d, G, ff, c, i)
        idx0 = [a for a, _ in feats]
        idx1 = [b for _, b in feats]
        z0 = k_samples[:, idx0]                   # [N, F], eta = 0
        z1 = k_samples[:, idx1]                   # eta = 1
        C = z0.T @ z0 + z1.T @ z1
        lam, U = pca(C)
        lams.append(lam)
        for o in range(G * ff):
            lp, rest = divmod(o, G * nm)
            gp, mp = divmod(rest, nm)
            for eta, idx in ((0, idx0), (1, idx1)):
                row = lp * (G * d // c) + gp * (d // c) + i * (2 * ff // c) + 2 * mp + eta
                Q[idx, row] = U[:, o]
    return Q, lams


# ---------------------------------------------------------------------------
# the partial-RoPE model (§3.2.4)


def partial_rope_attention(W, sc, Qs, n_rope, pair_omega, record=None):
    """attn_fn of the intermediate model: per layer l with rotation Qs[l],
    q'_h = Q[g(h)d:(g(h)+1)d, :]^T q_h, k' = Q^T k, interleaved RoPE on rows
    0..n_rope-1 (pair p at frequency pair_omega[p]), score q'.k'/sqrt(d),
    values unchanged.  record(l, k' [T, L], v [T, L], q [T, H*d]) if given."""
    gs = sc.H // sc.G
    d = sc.d

    def fn(l, a, pos):
        p = f"model.layers.{l}.self_attn."
        Q = Qs[l]
        q = linear(W, p + "q_proj", a)
        k = linear(W, p + "k_proj", a)
        v = linear(W, p + "v_proj", a)
        k2 = k @ Q                                   # k' = Q^T k, per token
        if record is not None:
            record(l, k2, v, q)
        qh = heads(q, sc.H, d)                       # [H, T, d]
        qp = np.stack([qh[h] @ Q[(h // gs) * d:(h // gs + 1) * d, :] for h in range(sc.H)])  # [H, T, L]
        kp = k2[None].copy()                         # [1, T, L], shared by all heads
        if n_rope:
            qp[..., :n_rope] = rope_interleaved(qp[..., :n_rope], pos, pair_omega)
            kp[..., :n_rope] = rope_interleaved(kp[..., :n_rope], pos, pair_omega)
        vh = np.repeat(heads(v, sc.G, d), gs, axis=0)
        o = causal_attention(qp @ kp.transpose(0, 2, 1) / np.sqrt(d), vh)
        return linear(W, p + "o_proj", merge_heads(o))

    return fn


# ---------------------------------------------------------------------------
# GQLA attention (§1.4, N_kv = G; no latent norms) on both paths (§2)


class GqlaConfig:
    def __init__(self, cfg):
        self.D = cfg["hidden_size"]
        self.H = cfg["num_attention_heads"]
        self.G = cfg["num_key_value_heads"]
        self.dn = cfg["qk_nope_head_dim"]
        self.dr = cfg["qk_rope_head_dim"]
        self.dv = cfg["v_head_dim"]
        self.r = cfg["kv_lora_rank"]
        self.rq = cfg.get("q_lora_rank")
        self.n_layers = cfg["num_hidden_layers"]
        self.eps = cfg["rms_norm_eps"]
        self.theta = cfg["rope_theta"]
        self.tied = cfg.get("tie_word_embeddings", False)
        assert cfg.get("qk_latent_layernorm") is False, "latent norms are not implemented here"
        assert cfg.get("rope_interleave") is True


def gqla_attention(W, gc, path):
    """attn_fn of a GQLA model; path 'gqa' (expanded per-group keys/values)
    or 'absorb' (latent cache, W_UK absorbed into q, W_UV into the output)."""
    omega = rope_freqs(gc.theta, gc.dr)      # interleaved, width d_r (from the config)
    tau = 1.0 / np.sqrt(gc.dn + gc.dr)
    gs = gc.H // gc.G
    dq = gc.dn + gc.dr

    def fn(l, a, pos):
        p = f"model.layers.{l}.self_attn."
        if gc.rq is None:
            q = linear(W, p + "q_proj", a)
        else:
            q = linear(W, p + "q_b_proj", linear(W, p + "q_a_proj", a))
        qh = heads(q, gc.H, dq)
        qn, qr = qh[..., :gc.dn], qh[..., gc.dn:]
        u = linear(W, p + "kv_a_proj_with_mqa", a)
        c, kr = u[:, :gc.r], u[:, gc.r:]
        qr = rope_interleaved(qr, pos, omega)
        kr = rope_interleaved(kr, pos, omega)
        kvb = W[p + "kv_b_proj.weight"]
        blocks = kvb.reshape(gc.G, gc.dn + gc.dv, gc.r)
        out = []
        for h in range(gc.H):
            g = h // gs
            Wuk, Wuv = blocks[g, :gc.dn], blocks[g, gc.dn:]
            if path == "gqa":
                kn = c @ Wuk.T                       # K^N_g(s) [T, dn]
                vg = c @ Wuv.T
                s = tau * (qn[h] @ kn.T + qr[h] @ kr.T)
                out.append(causal_attention(s[None], vg[None])[0])
            elif path == "absorb":
                qt = qn[h] @ Wuk                     # q~_h [T, r]
                s = tau * (qt @ c.T + qr[h] @ kr.T)
                ot = causal_attention(s[None], c[None])[0]   # o~_h [T, r]
                out.append(ot @ Wuv.T)
            else:
                raise ValueError(path)
        return linear(W, p + "o_proj", np.concatenate(out, axis=-1))

    return fn


def gqla_logits(W, gc, ids, path):
    return decoder_forward(W, gc.n_layers, gc.eps, ids, gqla_attention(W, gc, path), gc.tied)


def source_logits(W, sc, ids):
    return decoder_forward(W, sc.n_layers, sc.eps, ids, source_attention(W, sc), sc.tied)


def partial_rope_logits(W, sc, Qs, n_rope, pair_omega, ids):
    return decoder_forward(W, sc.n_layers, sc.eps, ids,
                           partial_rope_attention(W, sc, Qs, n_rope, pair_omega), sc.tied)


def pair_frequencies(sc, d_r, c):
    """Frequency of interleaved pair p of the kept rope rows: omega_{p*c}
    computed at the source width d (§3.2.4)."""
    return rope_freqs(sc.theta, sc.d)[::c][: d_r // 2]


# ---------------------------------------------------------------------------
# the conversion (§3)


ATTN_SOURCE_SUFFIXES = ("q_proj.weight", "q_proj.bias", "k_proj.weight", "k_proj.bias",
                        "v_proj.weight", "v_proj.bias")


def convert(W, cfg, calib, rope_dim, freqfold, kv_lora_rank, q_lora_rank=None,
            balance_kv_ratio=1.0, act_round=None):
    """W: source tensors (float64 arrays), cfg: source config dict, calib:
    list of id arrays.  Returns (out_tensors, out_config, info).
    act_round: optional function applied to every recorded activation
    (used by the self-check to imitate float32 calibration)."""
    sc = SourceConfig(cfg)
    D, H, G, d = sc.D, sc.H, sc.G, sc.d
    gs = H // G
    L = G * d
    d_r = rope_dim
    if H % G or d % d_r or (d // 2) % (d // d_r):
        raise ValueError("bad H/G or rope_dim")
    c = d // d_r
    ff = freqfold
    if ff % c or (d // 2) % ff:
        raise ValueError("freqfold must be a multiple of c dividing d/2")
    M = 2 * L - d_r
    r = kv_lora_rank
    if r > M:
        raise ValueError("kv_lora_rank > 2Gd - d_r")
    rq = q_lora_rank
    if rq is not None and rq > H * d:
        raise ValueError("q_lora_rank > H*d")
    rnd = act_round if act_round is not None else (lambda x: x)

    # pass 1: source model, pre-RoPE k_proj outputs per layer (§3.2.3)
    ks = [[] for _ in range(sc.n_layers)]
    for ids in calib:
        decoder_forward(W, sc.n_layers, sc.eps, ids,
                        source_attention(W, sc, record=lambda l, k: ks[l].append(rnd(k))), sc.tied)
    Qs, rope_lams = [], []
    for l in range(sc.n_layers):
        Q, lams = rororope_rotation(np.concatenate(ks[l]), d, G, ff, c)
        Qs.append(Q)
        rope_lams.append(lams)

    # pass 2: all layers in partial-RoPE form; rotated keys, values, queries
    K2s = [[] for _ in range(sc.n_layers)]
    V2s = [[] for _ in range(sc.n_layers)]
    Ys = [[] for _ in range(sc.n_layers)]

    def rec2(l, k2, v, q):
        K2s[l].append(rnd(k2))
        V2s[l].append(rnd(v))
        Ys[l].append(rnd(q))

    omega_pairs = pair_frequencies(sc, d_r, c)
    for ids in calib:
        decoder_forward(W, sc.n_layers, sc.eps, ids,
                        partial_rope_attention(W, sc, Qs, d_r, omega_pairs, record=rec2), sc.tied)

    s = np.sqrt((d + d_r) / d)           # softmax-scale fix folded into q (§3.5)
    out = {}
    info = {"alpha": [], "kv_energy_retained": [], "q_energy_retained": [], "kv_eigenvalues": [],
            "q_eigenvalues": [], "rope_block_eigenvalues": rope_lams, "Q": Qs,
            # share of the pass-1 key energy in the rows that keep RoPE (top ff/c eigen-ranks of each block)
            "rope_energy_retained": [sum(lam[:ff // c].sum() for lam in blocks) / sum(lam.sum() for lam in blocks)
                                     for blocks in rope_lams]}
    for l in range(sc.n_layers):
        p = f"model.layers.{l}.self_attn."
        Q = Qs[l]
        Wk, bk = W[p + "k_proj.weight"], W[p + "k_proj.bias"]
        Wv, bv = W[p + "v_proj.weight"], W[p + "v_proj.bias"]
        Wq, bq = W[p + "q_proj.weight"], W[p + "q_proj.bias"]
        Wk2 = Q.T @ Wk                   # W'_k  [L, D]
        bk2 = Q.T @ bk
        kup = [Q[g * d:(g + 1) * d, :].copy() for g in range(G)]   # k_up'^g [d, L]
        K2 = np.concatenate(K2s[l])      # [N, L]
        V2 = np.concatenate(V2s[l])
        Y = np.concatenate(Ys[l])

        # Step 2: balance (§3.3)
        nK = np.mean(np.linalg.norm(K2[:, d_r:L], axis=0))
        nV = np.mean(np.linalg.norm(V2[:, d_r:L], axis=0))
        alpha = nK / (balance_kv_ratio * nV)
        if nK < 1e-6 * nV:
            alpha = 1.0
        Wk2[d_r:] /= alpha
        bk2[d_r:] /= alpha
        for g in range(G):
            kup[g][:, d_r:] *= alpha
        info["alpha"].append(alpha)

        # Step 3: joint PCA of [K_nope; V] (§3.4)
        Z = np.concatenate([K2[:, d_r:L] / alpha, V2], axis=1)   # [N, M]
        lam, R = pca(Z.T @ Z)
        Rr = R[:, :r]
        A = np.concatenate([Wk2[d_r:], Wv], axis=0)              # [M, D]
        a_b = np.concatenate([bk2[d_r:], bv])
        out[p + "kv_a_proj_with_mqa.weight"] = np.concatenate([Rr.T @ A, Wk2[:d_r]], axis=0)
        out[p + "kv_a_proj_with_mqa.bias"] = np.concatenate([Rr.T @ a_b, bk2[:d_r]])
        nk = L - d_r
        kvb = np.zeros((G * 2 * d, r))
        for g in range(G):
            kvb[g * 2 * d:g * 2 * d + d] = kup[g][:, d_r:] @ Rr[:nk]
            kvb[g * 2 * d + d:(g + 1) * 2 * d] = Rr[nk + g * d:nk + (g + 1) * d]
        out[p + "kv_b_proj.weight"] = kvb
        info["kv_eigenvalues"].append(lam)
        info["kv_energy_retained"].append(lam[:r].sum() / lam.sum())

        # Step 4: query (§3.5)
        P = [kup[h // gs][:, :d_r] for h in range(H)]            # P_h [d, d_r]
        if rq is None:
            rows, brows = [], []
            for h in range(H):
                Wqh, bqh = Wq[h * d:(h + 1) * d], bq[h * d:(h + 1) * d]
                rows += [s * Wqh, s * (P[h].T @ Wqh)]
                brows += [s * bqh, s * (P[h].T @ bqh)]
            out[p + "q_proj.weight"] = np.concatenate(rows, axis=0)
            out[p + "q_proj.bias"] = np.concatenate(brows)
        else:
            lamq, Sfull = pca(Y.T @ Y)
            S = Sfull[:, :rq]                                     # [H*d, r_q]
            out[p + "q_a_proj.weight"] = S.T @ Wq
            rows, brows = [], []
            for h in range(H):
                Sh, bqh = S[h * d:(h + 1) * d], bq[h * d:(h + 1) * d]
                rows += [s * Sh, s * (P[h].T @ Sh)]
                brows += [s * bqh, s * (P[h].T @ bqh)]
            out[p + "q_b_proj.weight"] = np.concatenate(rows, axis=0)
            out[p + "q_b_proj.bias"] = np.concatenate(brows)
            info["q_eigenvalues"].append(lamq)
            info["q_energy_retained"].append(lamq[:rq].sum() / lamq.sum())

    # everything outside the replaced q/k/v projections is copied (§1.1, §3.5 o_proj)
    full = {}
    for name, t in W.items():
        if name.endswith(ATTN_SOURCE_SUFFIXES) and ".self_attn." in name:
            continue
        full[name] = t
    full.update(out)
    return full, output_config(cfg, d_r, r, rq), info


def meta_numbers(cfg, d_r, r, rq, info):
    """The numbers of gqla_meta.json (§5.3) that follow from the conversion
    (test_convert_reference compares them with the converter's file).
    Energy fractions are of the undamped eigenvalues (pca()).
    q_energy_retained only with a query PCA: without r_q the spec leaves it
    undefined (1.0 = nothing dropped, or null) and it is not checked."""
    sc = SourceConfig(cfg)
    G, H, d = sc.G, sc.H, sc.d
    tm = {"collapse": d // d_r,
          "alpha": [float(a) for a in info["alpha"]],
          "kv_energy_retained": [float(e) for e in info["kv_energy_retained"]],
          "rope_energy_retained": [float(e) for e in info["rope_energy_retained"]]}
    if rq is not None:
        tm["q_energy_retained"] = [float(e) for e in info["q_energy_retained"]]
    return {
        "dims": {"H": H, "G": G, "group_size": H // G, "d_n": d, "d_r": d_r, "d_v": d, "r": r, "r_q": rq},
        "softmax_scale": 1.0 / np.sqrt(d + d_r),
        "transmla": tm,
        "kv_cache_elements_per_token_per_layer": {   # §2.4
            "source": 2 * G * d,
            "absorb": r + d_r,
            "gqa": G * (d + d) + d_r,
            "gqa_kpe_per_group": G * (d + d_r + d),
        },
    }


def output_config(cfg, d_r, r, rq):
    """§5.2 for a GQA source (default RoPE, no latent norms, biases written)."""
    sc = SourceConfig(cfg)
    oc = dict(cfg)
    oc.update({
        "model_type": "deepseek_v3",
        "architectures": ["DeepseekV3ForCausalLM"],
        "num_attention_heads": sc.H,
        "num_key_value_heads": sc.G,
        "q_lora_rank": rq,
        "kv_lora_rank": r,
        "qk_nope_head_dim": sc.d,
        "qk_rope_head_dim": d_r,
        "v_head_dim": sc.d,
        "head_dim": d_r,
        "rope_interleave": True,
        "qk_latent_layernorm": False,
        "latent_norm_eps": sc.eps,
        "attention_bias": True,
        "first_k_dense_replace": sc.n_layers,
        "n_routed_experts": None,
        "n_shared_experts": None,
        "moe_intermediate_size": cfg["intermediate_size"],
        "torch_dtype": "float32",
    })
    return oc
