#!/usr/bin/env python3
"""make_report_fixtures.py — expected outputs for tests/test_reports.c.

Run by hand (never at test time) from the repository root:

    /work/venv-ref/py/bin/python tests/reference/make_report_fixtures.py

Writes tests/fixtures/reports/:

  float_repr.txt     one double per line: 16 hex digits of its bits, then
                     json.dumps(x) and str(x) — a table of tricky values, every
                     power of two, and seeded random bit patterns
  strings.txt        hex(UTF-8 of a str) and hex(json.dumps(s, ensure_ascii=False))
  tree.json          a nested object (ensure_ascii=True, so any JSON parser
                     reads the same str), with tree_indent2.txt /
                     tree_compact.txt = json.dumps(obj[, indent=2],
                     ensure_ascii=False)
  sha256.txt         length, hashlib.sha256 hex of bytes(i % 251 for i < length)
  sanitize.txt       name <TAB> lm_eval.utils.sanitize_model_name(name)
  groups.txt         hand-made group aggregation cases, both Python sum rules
  run_input.json     a synthetic run (3 tasks + 3 MMLU subjects): documents,
                     log-likelihoods, per-task numbers, run fields
  run_results_plain.json, run_results_neumaier.json
                     the results file lm-eval's code path would write for that
                     run (groups with CPython <= 3.11 sum / >= 3.12 sum)
  run_samples_<task>.jsonl
                     the --log_samples file of each task

lm-eval 0.4.13 helpers used: lm_eval.utils.{handle_non_serializable,
sanitize_model_name, hash_string, sanitize_list} and lm_eval.api.metrics
{mean, mean_stderr, aggregate_subtask_metrics, pooled_sample_stderr}.  This
interpreter is CPython 3.11 (plain left-to-right float sum); the >= 3.12
(Neumaier) variants are computed with py312_sum below, a transcription of
CPython 3.12's builtin sum for a list of floats.
"""
import json
import math
import os
import random
import struct
import sys

import numpy as np
from lm_eval.api.metrics import aggregate_subtask_metrics, mean, mean_stderr, pooled_sample_stderr
from lm_eval.utils import handle_non_serializable, hash_string, sanitize_list, sanitize_model_name

assert sys.version_info[:2] <= (3, 11), "fixtures assume CPython <= 3.11 sum() for the plain variants"

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "reports")


def write(name, text):
    with open(os.path.join(OUT, name), "w", encoding="utf-8", newline="") as f:
        f.write(text)


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def from_bits(b):
    return struct.unpack("<d", struct.pack("<Q", b))[0]


# ---- Python sum rules ---------------------------------------------------------

def py312_sum(xs):
    """CPython >= 3.12 sum() of a list of floats (Neumaier compensation)."""
    s, c = 0.0, 0.0
    for x in xs:
        t = s + x
        if abs(s) >= abs(x):
            c += (s - t) + x
        else:
            c += (x - t) + s
        s = t
    if c and math.isfinite(c):
        s += c
    return s


def group_mean(values, sizes, neumaier):
    if not neumaier:
        return aggregate_subtask_metrics(values, sizes, True)
    return py312_sum([m * n for m, n in zip(values, sizes)]) / sum(sizes)


def group_stderr(stderrs, sizes, neumaier):
    if not neumaier:
        return float(pooled_sample_stderr(stderrs, sizes))
    v = py312_sum([(n - 1) * s**2 * n for n, s in zip(sizes, stderrs)]) / (sum(sizes) - len(sizes))
    return float(np.sqrt(v / sum(sizes)))


# ---- floats ---------------------------------------------------------------------

def float_table():
    tricky = [0.1, 0.2, 0.3, 1e-05, 1.5e-05, 0.0001, 0.00015, 123456789012345678.0, 1e16, 1e15,
              9999999999999998.0, 0.0, -0.0, 2 / 3, 1 / 3, 5e-324, -5e-324, 2.2250738585072014e-308,
              1.7976931348623157e308, 1.0, -1.0, 100.0, 1e22, 1e23, 12.3456789, 0.5, 0.25,
              -13.125, -0.0009765625, 9007199254740993.0, 0.30000000000000004, 1e-07, 123.0,
              1234567.0, 0.001, 1 / 7, 2 / 7, 37 / 100, 1 / 1172, 1171 / 1172, 2375 / 2376,
              1e300, 1e-300, float("nan"), float("inf"), float("-inf"), 4.35, 5e-05, 0.00001234]
    for c in range(0, 40):
        tricky.append(c / 37)
        tricky.append(c / 1267)
    rng = random.Random(20260821)
    vals = list(tricky)
    vals += [math.ldexp(1.0, e) for e in range(-1074, 1024)]
    for _ in range(3000):
        b = rng.getrandbits(64)
        x = from_bits(b)
        if math.isnan(x):
            continue
        vals.append(x)
    for _ in range(500):                      # "nice" short decimals
        vals.append(round(rng.uniform(-100, 100), rng.randint(0, 6)))
    lines = []
    for x in vals:
        lines.append("%016x %s %s\n" % (bits(x), json.dumps(x), str(x)))
    write("float_repr.txt", "".join(lines))


# ---- strings and trees ------------------------------------------------------------

STRINGS = [
    "", "plain", 'quote " and \\ backslash', "nl\ncr\rtab\tbs\bff\f",
    "".join(chr(i) for i in range(0, 32)) + "\x7f",
    "é ü ß 中文 日本語", "emoji 🙂 👍🏽 and U+2028 \u2028 U+2029 \u2029",
    "/ solidus is not escaped", "\u00a0nbsp", "Mixed: \"a\"\n\t\\u0041",
    "\ufeffbom", "\U0010ffff",
]


def strings_table():
    lines = []
    for s in STRINGS:
        lines.append("%s %s\n" % (s.encode("utf-8").hex() or "-", json.dumps(s, ensure_ascii=False).encode("utf-8").hex()))
    write("strings.txt", "".join(lines))


TREE = {
    "id": "Mercury_7175875",
    "question": "An astronomer observes that a planet rotates faster…\nWhy?",
    "choices": {"text": ["Planetary density", "Planetary gravity", "Ünïcödé", "🙂 emoji"],
                "label": ["A", "B", "C", "D"]},
    "answerKey": "C",
    "empty_obj": {},
    "empty_list": [],
    "nested": [[], [{}], [1, [2, [3, {"k": [True, False, None]}]]]],
    "ints": [0, -1, 2 ** 31, -(2 ** 40), 9007199254740992],
    "label": 3,
    "ctrl": "\x01\x1f\t",
    "u2028": "\u2028",
}


def trees():
    write("tree.json", json.dumps(TREE, ensure_ascii=True))
    write("tree_indent2.txt", json.dumps(TREE, indent=2, ensure_ascii=False))
    write("tree_compact.txt", json.dumps(TREE, ensure_ascii=False))


def sha_table():
    lines = []
    for n in list(range(0, 200)) + [1000, 4095, 4096, 4097, 100000]:
        data = bytes(i % 251 for i in range(n))
        import hashlib
        lines.append("%d %s\n" % (n, hashlib.sha256(data).hexdigest()))
    write("sha256.txt", "".join(lines))


def sanitize_table():
    names = ["meta-llama/Llama-2-7b-hf", "HuggingFaceTB/SmolLM2-135M-Instruct",
             "/abs/path/to/model", "a<b>c:d\"e|f\\g?h*i[j]k", "x//y::z", "plain", "trailing/",
             "./models/SmolLM2-135M-Instruct.Q4_1.gguf", "ünï/cödé"]
    write("sanitize.txt", "".join("%s\t%s\n" % (n, sanitize_model_name(n)) for n in names))


# ---- group cases ---------------------------------------------------------------------

def groups_table():
    rng = random.Random(7)
    cases = []
    # hand-made: three subjects of different size
    counts = [(37, 100), (12, 135), (250, 310)]
    cases.append(counts)
    # all 57 MMLU test sizes with random accuracies
    sizes = [100, 135, 152, 144, 100, 100, 100, 102, 100, 235, 145, 378, 310, 203, 100, 270, 151, 216, 112,
             100, 265, 173, 100, 223, 103, 234, 100, 783, 306, 282, 166, 272, 126, 198, 193, 390, 109, 545, 131,
             544, 110, 245, 201, 100, 126, 165, 204, 237, 163, 171, 108, 173, 346, 895, 311, 324, 1534]
    cases.append([(rng.randint(0, n), n) for n in sizes])
    cases.append([(1, 3), (2, 3)])
    # first seeded random cases where the two sum rules differ in the last
    # bit: one for the mean, one for the stderr (so the switch is exercised)
    want = {"mean": None, "stderr": None}
    while None in want.values():
        k = rng.randint(3, 12)
        case = []
        for _ in range(k):
            n = rng.randint(2, 400)
            case.append((rng.randint(0, n), n))
        vals = [c / n for c, n in case]
        ses = [mean_stderr([1.0] * c + [0.0] * (n - c)) for c, n in case]
        ns = [n for _, n in case]
        if want["mean"] is None and group_mean(vals, ns, 0) != group_mean(vals, ns, 1):
            want["mean"] = case
        if want["stderr"] is None and group_stderr(ses, ns, 0) != group_stderr(ses, ns, 1):
            want["stderr"] = case
    cases += [want["mean"], want["stderr"]]
    lines = []
    for case in cases:
        values, stderrs, ns = [], [], []
        for c, n in case:
            xs = [1.0] * c + [0.0] * (n - c)
            values.append(mean(xs))
            stderrs.append(mean_stderr(xs))
            ns.append(n)
        parts = [str(len(case))]
        for v, s, n in zip(values, stderrs, ns):
            parts.append("%s %s %d" % (repr(v), repr(s), n))
        for neu in (0, 1):
            parts.append("%s %s" % (repr(group_mean(values, ns, neu)), repr(group_stderr(stderrs, ns, neu))))
        lines.append(" ".join(parts) + "\n")
    write("groups.txt", "".join(lines))


# ---- the synthetic run ----------------------------------------------------------------

def argmax(xs):
    return int(np.argmax(np.array(xs)))


def make_docs(rng, kind, n):
    docs = []
    for i in range(n):
        if kind == "arc":
            choices = ["Planetary density", "Planetary gravity", "Ünïcödé spin", "🙂"]
            row = {"id": "Mercury_%d" % (7000 + i), "question": "Which one? (%d)\n\"quoted\"" % i,
                   "choices": {"text": choices, "label": ["A", "B", "C", "D"]}, "answerKey": "ABCD"[i % 4]}
            ctx = ["Question: %s\nAnswer:" % row["question"]] * 4
            cont = [" " + c for c in choices]
            gold = i % 4
            target = str(gold)
        elif kind == "winogrande":
            opts = ["Sarah", "Maria"]
            row = {"sentence": "%d: _ was late because the bus broke down." % i, "option1": opts[0],
                   "option2": opts[1], "answer": "1" if i % 2 == 0 else "2"}
            choices = [o + " was late because" for o in opts]
            ctx = ["%d: %s" % (i, o) for o in opts]
            cont = [" was late because the bus broke down."] * 2
            gold = int(row["answer"]) - 1
            target = "was late because the bus broke down."
        elif kind == "obqa":
            choices = ["a tree", "a rock", "sunlight\tand water", "the moon"]
            row = {"id": "7-%d" % i, "question_stem": "Plants need", "choices": {"text": choices, "label": list("ABCD")},
                   "answerKey": "C"}
            ctx = ["Plants need"] * 4
            cont = [" " + c for c in choices]
            gold = 2
            target = "2"
        else:  # mmlu
            choices = ["A", "B", "C", "D"]
            row = {"question": "What is %d + %d?" % (i, i), "subject": kind, "choices": ["1", "2", "3", str(2 * i)],
                   "answer": i % 4}
            ctx = ["The following are multiple choice questions (with answers) about %s.\n\n%s\nA. 1\nB. 2\nC. 3\nD. %d\nAnswer:"
                   % (kind.replace("_", " "), row["question"], 2 * i)] * 4
            cont = [" A", " B", " C", " D"]
            gold = i % 4
            target = str(gold)
        lls = []
        for r in range(len(cont)):
            pick = rng.random()
            if pick < 0.15:
                lls.append(-rng.randint(1, 4000) / 1024.0)          # short binary fractions
            elif pick < 0.2:
                lls.append(-1.5e-05)
            else:
                lls.append(-rng.uniform(0.01, 30.0))
        if kind == "arc" and i == 1:
            lls[3] = float("-inf")
        if kind == "obqa":
            lls[1] = -0.0
        greedy = [rng.random() < 0.3 for _ in cont]
        acc = 1.0 if argmax(lls) == gold else 0.0
        acc_norm = 1.0 if argmax([l / len(c) for l, c in zip(lls, choices)]) == gold else 0.0
        docs.append(dict(doc_id=i, doc=row, context=ctx, continuation=cont, choice=choices, gold=gold,
                         target=target, ll=lls, greedy=greedy, acc=acc, acc_norm=acc_norm))
    return docs


TASKS = [
    # name, alias, dataset_path, dataset_name, eval split, few-shot split, acc_norm, group, kind, n docs, n original
    ("arc_easy", "arc_easy", "allenai/ai2_arc", "ARC-Easy", "test", "train", True, None, "arc", 6, 2376),
    ("winogrande", "winogrande", "allenai/winogrande", "winogrande_xl", "validation", "train", False, None,
     "winogrande", 5, 1267),
    ("openbookqa", "openbookqa", "allenai/openbookqa", "main", "test", "train", True, None, "obqa", 1, 500),
    ("mmlu_business_ethics", "business_ethics", "cais/mmlu", "business_ethics", "test", "dev", False,
     "mmlu_other", "business_ethics", 4, 100),
    # out of order on purpose: lm-eval orders a group's leaves by subgroup,
    # then by name, whatever the evaluation order
    ("mmlu_anatomy", "anatomy", "cais/mmlu", "anatomy", "test", "dev", False, "mmlu_stem", "anatomy", 9, 135),
    ("mmlu_abstract_algebra", "abstract_algebra", "cais/mmlu", "abstract_algebra", "test", "dev", False,
     "mmlu_stem", "abstract_algebra", 7, 100),
]
GROUPS = [("mmlu", "mmlu", None), ("mmlu_stem", "stem", "mmlu"), ("mmlu_other", "other", "mmlu")]

RUN = dict(model_name="HuggingFaceTB/SmolLM2-135M-Instruct", model_args=None, model_path="/models/smollm2.gguf",
           model_dtype="torch.bfloat16", dtype="q4_1", n_params=134515008, decoding_path="gqa", device="cpu",
           batch_size=1, add_bos="auto", pad_text="<|im_end|>", pad_id=2, eos_text="<|im_end|>", eos_id=2,
           bos_text="<|im_start|>", bos_id=1, eot_token_id=2, max_length=8192, limit=7, bootstrap_iters=100000,
           random_seed=0, numpy_seed=1234, torch_seed=1234, fewshot_seed=1234, start_time=1755788214.123456,
           total_seconds=12.3456789, env_info="gqla-eval test environment\nline 2", num_fewshot=0)
SECONDS = {"arc_easy": 1.5, "winogrande": 0.25, "openbookqa": 0.125, "mmlu_abstract_algebra": 3.0625,
           "mmlu_business_ethics": 2.2, "mmlu_anatomy": 0.1}


def synthetic_run():
    rng = random.Random(1234)
    tasks = []
    for name, alias, path, cfg, es, fs, has_norm, group, kind, n, n_orig in TASKS:
        docs = make_docs(rng, kind, n)
        accs = [d["acc"] for d in docs]
        norms = [d["acc_norm"] for d in docs]
        t = dict(name=name, alias=alias, version="1.0", dataset_path=path, dataset_name=cfg, eval_split=es,
                 fewshot_split=fs, has_acc_norm=has_norm, group=group, num_fewshot=RUN["num_fewshot"],
                 n_original=n_orig, n_effective=n, seconds=SECONDS[name],
                 n_requests=sum(len(d["context"]) for d in docs), docs=docs)
        t["acc"] = mean(accs)
        t["acc_stderr"] = mean_stderr(accs) if n > 1 else "N/A"
        if has_norm:
            t["acc_norm"] = mean(norms)
            t["acc_norm_stderr"] = mean_stderr(norms) if n > 1 else "N/A"
        tasks.append(t)

    # ---- samples, as evaluator.py + EvaluationTracker.save_results_samples
    hashes = {}
    for t in tasks:
        lines = []
        sample_hashes = []
        for d in t["docs"]:
            metrics = {"acc": d["acc"]}
            if t["has_acc_norm"]:
                metrics["acc_norm"] = d["acc_norm"]
            example = {
                "doc_id": d["doc_id"],
                "doc": d["doc"],
                "target": d["target"],
                "arguments": [(c, k) for c, k in zip(d["context"], d["continuation"])],
                "resps": [[(l, g)] for l, g in zip(d["ll"], d["greedy"])],
                "filtered_resps": [(l, g) for l, g in zip(d["ll"], d["greedy"])],
                "filter": "none",
                "metrics": list(metrics.keys()),
                "doc_hash": hash_string(json.dumps(d["doc"], indent=2, default=handle_non_serializable,
                                                   ensure_ascii=False)),
                "prompt_hash": hash_string(d["context"][0]),
                "target_hash": hash_string(str(d["target"])),
            }
            example.update(metrics)
            sample_hashes.append(example["doc_hash"] + example["prompt_hash"] + example["target_hash"])
            arguments = {}
            for i, arg in enumerate(example["arguments"]):
                arguments[f"gen_args_{i}"] = {}
                for j, tmp in enumerate(arg):
                    arguments[f"gen_args_{i}"][f"arg_{j}"] = tmp
            example["resps"] = sanitize_list(example["resps"])
            example["filtered_resps"] = sanitize_list(example["filtered_resps"])
            example["arguments"] = arguments
            example["target"] = str(example["target"])
            lines.append(json.dumps(example, default=handle_non_serializable, ensure_ascii=False) + "\n")
        write("run_samples_%s.jsonl" % t["name"], "".join(lines))
        hashes[t["name"]] = hash_string("".join(sample_hashes))

    for neu in (0, 1):
        write("run_results_%s.json" % ("neumaier" if neu else "plain"), results_file(tasks, hashes, neu))

    # ---- the input file for the C test (floats as repr strings: exact through strtod)
    def fstr(x):
        return x if isinstance(x, str) else repr(x)

    inp = {"run": RUN, "tasks": []}
    for t in tasks:
        ti = {k: v for k, v in t.items() if k != "docs"}
        for k in ("acc", "acc_stderr", "acc_norm", "acc_norm_stderr"):
            if k in ti:
                ti[k] = fstr(ti[k])
        ti["task_hash"] = hashes[t["name"]]
        ti["docs"] = []
        for d in t["docs"]:
            dd = dict(d)
            dd["ll"] = [repr(x) for x in d["ll"]]
            ti["docs"].append(dd)
        inp["tasks"].append(ti)
    write("run_input.json", json.dumps(inp, indent=1, ensure_ascii=True))


def results_file(tasks, hashes, neu):
    """The dict lm-eval assembles (EvalAcc._to_eval_results, simple_evaluate,
    add_env_info, add_tokenizer_info, EvaluationTracker), dumped as it dumps it."""
    metrics = {}
    configs, versions, num_fewshot, hib, n_samples = {}, {}, {}, {}, {}
    for t in tasks:
        m = {"name": t["name"], "alias": t["alias"], "sample_len": t["n_effective"],
             "acc,none": t["acc"], "acc_stderr,none": t["acc_stderr"]}
        if t["has_acc_norm"]:
            m["acc_norm,none"] = t["acc_norm"]
            m["acc_norm_stderr,none"] = t["acc_norm_stderr"]
        metrics[t["name"]] = m
        cfg = {"task": t["name"]}
        if t["alias"] != t["name"]:
            cfg["task_alias"] = t["alias"]
        cfg["dataset_path"] = t["dataset_path"]
        cfg["dataset_name"] = t["dataset_name"]
        if t["fewshot_split"] == "train":
            cfg["training_split"] = "train"
        cfg["validation_split" if t["eval_split"] == "validation" else "test_split"] = t["eval_split"]
        if t["fewshot_split"] != "train":
            cfg["fewshot_split"] = t["fewshot_split"]
        cfg["target_delimiter"] = " "
        cfg["fewshot_delimiter"] = "\n\n"
        cfg["num_fewshot"] = t["num_fewshot"]
        cfg["metric_list"] = [{"metric": m_, "aggregation": "mean", "higher_is_better": True}
                              for m_ in (["acc", "acc_norm"] if t["has_acc_norm"] else ["acc"])]
        cfg["output_type"] = "multiple_choice"
        cfg["repeats"] = 1
        cfg["metadata"] = {"version": 1.0}
        configs[t["name"]] = cfg
        versions[t["name"]] = 1.0
        num_fewshot[t["name"]] = t["num_fewshot"]
        hib[t["name"]] = {"acc": True, "acc_norm": True} if t["has_acc_norm"] else {"acc": True}
        n_samples[t["name"]] = {"original": t["n_original"], "effective": t["n_effective"]}

    by_name = {t["name"]: t for t in tasks}
    children = {"mmlu": ["mmlu_stem", "mmlu_other"],
                "mmlu_stem": sorted(t["name"] for t in tasks if t["group"] == "mmlu_stem"),
                "mmlu_other": sorted(t["name"] for t in tasks if t["group"] == "mmlu_other")}

    def leaves(g):
        out = []
        for c in children.get(g, []):
            out += leaves(c) if c in children else [c]
        return out

    group_rows = {}
    for g, alias, _ in [("mmlu_stem", "stem", 0), ("mmlu_other", "other", 0), ("mmlu", "mmlu", 0)]:  # bottom-up
        ls = leaves(g)
        vals = [metrics[n]["acc,none"] for n in ls]
        sizes = [metrics[n]["sample_len"] for n in ls]
        ses = [metrics[n]["acc_stderr,none"] for n in ls]
        row = {"alias": alias, "name": g, "sample_len": sum(sizes)}
        row["acc,none"] = group_mean(vals, sizes, neu)
        row["acc_stderr,none"] = "N/A" if "N/A" in ses else group_stderr(ses, sizes, neu)
        row["sample_count"] = {"acc,none": sum(sizes)}
        group_rows[g] = row
        metrics[g] = row
        versions[g] = "2"
    # propagation: load order mmlu, mmlu_stem, mmlu_other; only already-filled children count
    for g in ["mmlu", "mmlu_stem", "mmlu_other"]:
        vs = {num_fewshot[c] for c in children[g] if c in num_fewshot}
        if len(vs) == 1:
            num_fewshot[g] = vs.pop()
        h = {}
        for c in children[g]:
            if c in hib:
                for m_, v in hib[c].items():
                    h.setdefault(m_, v)
        if h:
            hib[g] = h

    res = {
        "results": metrics,
        "groups": {g: group_rows[g] for g in ["mmlu_stem", "mmlu_other", "mmlu"]},
        "group_subtasks": {g: children[g] for g in ["mmlu", "mmlu_stem", "mmlu_other"]},
        "configs": dict(sorted(configs.items())),
        "versions": dict(sorted(versions.items())),
        "n-shot": dict(sorted(num_fewshot.items())),
        "higher_is_better": dict(sorted(hib.items())),
        "n-samples": n_samples,
    }
    r = RUN
    res["config"] = {"model": "gqla-eval", "model_args": r["model_args"] or "pretrained=" + r["model_name"],
                     "model_num_parameters": r["n_params"], "model_dtype": r["model_dtype"],
                     "model_revision": "main", "model_sha": "", "batch_size": r["batch_size"], "batch_sizes": [],
                     "device": r["device"], "use_cache": None, "limit": r["limit"],
                     "bootstrap_iters": r["bootstrap_iters"], "gen_kwargs": None, "random_seed": r["random_seed"],
                     "numpy_seed": r["numpy_seed"], "torch_seed": r["torch_seed"], "fewshot_seed": r["fewshot_seed"]}
    res["git_hash"] = None
    res["date"] = r["start_time"]
    res.update({"pretty_env_info": r["env_info"], "transformers_version": None,
                "lm_eval_version": "gqla-eval " + GQLA_VERSION, "upper_git_hash": None})
    res.update({"tokenizer_pad_token": [r["pad_text"], str(r["pad_id"])],
                "tokenizer_eos_token": [r["eos_text"], str(r["eos_id"])],
                "tokenizer_bos_token": [r["bos_text"], str(r["bos_id"])],
                "eot_token_id": r["eot_token_id"], "max_length": r["max_length"]})
    res["task_hashes"] = hashes
    res.update({"model_source": "gqla-eval", "model_name": r["model_name"],
                "model_name_sanitized": sanitize_model_name(r["model_name"]), "system_instruction": None,
                "system_instruction_sha": None, "fewshot_as_multiturn": False, "chat_template": None,
                "chat_template_sha": None, "total_evaluation_time_seconds": str(r["total_seconds"])})
    res["gqla_eval"] = {"version": GQLA_VERSION, "model": r["model_name"], "path": r["model_path"],
                        "dtype": r["dtype"], "decoding_path": r["decoding_path"], "device": r["device"],
                        "add_bos": r["add_bos"],
                        "python_sum": "neumaier (CPython >= 3.12)" if neu else "left-to-right (CPython <= 3.11)",
                        "tasks": {t["name"]: {"seconds": t["seconds"], "documents": t["n_effective"],
                                              "requests": t["n_requests"]} for t in tasks}}
    return json.dumps(res, indent=2, default=handle_non_serializable, ensure_ascii=False)


# The project version is a placeholder the C test replaces with GQLA_VERSION,
# so that a version bump does not stale the fixtures.
GQLA_VERSION = "@GQLA_VERSION@"

if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    float_table()
    strings_table()
    trees()
    sha_table()
    sanitize_table()
    groups_table()
    synthetic_run()
    print("wrote", sorted(os.listdir(OUT)))
