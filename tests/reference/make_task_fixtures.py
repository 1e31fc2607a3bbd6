#!/usr/bin/env python3
"""make_task_fixtures.py -- expected prompts, metrics and few-shot draws for
tests/test_tasks.c, produced by lm-evaluation-harness's own task code, plus
the sample datasets under datasets/samples/.

Run by hand from the repository root with the reference environment (never
at build or test time; the Hugging Face Hub is not needed):
    HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 \
    /work/venv-ref/py/bin/python tests/reference/make_task_fixtures.py

How: lm_eval 0.4.13's TaskManager builds the real ConfigurableTask objects
(YAML templates, process_docs, samplers) for arc_easy, arc_challenge, piqa,
openbookqa, hellaswag, winogrande and a few mmlu_<subject> tasks;
ConfigurableTask.download is replaced so that the splits come from
datasets.Dataset.from_list over the rows invented below (no text from the
real datasets).  For every task and shot count the script seeds the task's
few-shot sampler with 1234 (as evaluator.py does), builds each document's
context with fewshot_context(), its requests with construct_requests(),
and its metrics with process_results() on made-up log-likelihoods.

Writes:
  tests/fixtures/tasks/tasks.json
    "cases":      [{task, k, rows, pool, docs: [{contexts, continuations,
                   choices, gold, target, doc, lls, acc, acc_norm}]}]
    "clean":      [[text, preprocess(text)]]          hellaswag utils.preprocess
    "capitalize": [[text, text.capitalize()]]
    "strip":      [[text, text.strip()]]
    "sample":     [{n, m, draws: [[...] x calls]}]   random.Random(1234).sample(range(n), m), repeated
    "aggregate":  [{xs, mean, stderr}], [{v, n, s, value, stderr}] (lm-eval's
                   mean / mean_stderr / aggregate_subtask_metrics /
                   pooled_sample_stderr under this CPython 3.11: plain sum)
  datasets/samples/...  the same invented items in each dataset's original
                        release format, laid out like ../shared/datasets.
"""
import csv
import io
import json
import os
import random
import sys

import datasets

from lm_eval.api import metrics as lm_metrics
from lm_eval.api.task import ConfigurableTask
from lm_eval.tasks import TaskManager, get_task_dict
from lm_eval.tasks.hellaswag.utils import preprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLES = os.path.join(ROOT, "datasets", "samples")
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "tasks", "tasks.json")

# --------------------------------------------------------------------------
# invented items (HF field names)

ARC_TEST = [
    {"id": "Inv_ARC_1", "question": "Which tool is best for measuring the mass of a small stone?",
     "choices": {"text": ["a ruler", "a balance", "a thermometer", "a stopwatch"], "label": ["A", "B", "C", "D"]},
     "answerKey": "B"},
    {"id": "Inv_ARC_2", "question": "A student heats water in a pot. What happens to the water molecules?",
     "choices": {"text": ["They move faster.", "They stop moving.", "They become heavier."], "label": ["A", "B", "C"]},
     "answerKey": "A"},
    {"id": "Inv_ARC_3", "question": "Which unit would a scientist use for the length of a leaf?",
     "choices": {"text": ["liters", "grams", "centimeters", "degrees"], "label": ["1", "2", "3", "4"]},
     "answerKey": "3"},
    {"id": "Inv_ARC_4", "question": "What do both a bicycle pump and a balloon hold when they are used?",
     "choices": {"text": ["air", "water", "sand", "light", "sound"], "label": ["A", "B", "C", "D", "E"]},
     "answerKey": "A"},
    {"id": "Inv_ARC_5", "question": "Which change is a \"physical\" change: melting, rusting or burning?",
     "choices": {"text": ["melting ice", "rusting nail", "burning wood", "souring milk"], "label": ["1", "2", "3", "4"]},
     "answerKey": "1"},
    {"id": "Inv_ARC_6", "question": "Quelle planète est la plus proche du Soleil ?",
     "choices": {"text": ["Vénus", "Mercure", "Mars", "Jupiter"], "label": ["A", "B", "C", "D"]},
     "answerKey": "B"},
]
ARC_TRAIN = [
    {"id": "Inv_ARCtr_1", "question": "Which sense do people use to hear a bell?",
     "choices": {"text": ["sight", "hearing", "touch", "smell"], "label": ["A", "B", "C", "D"]}, "answerKey": "B"},
    {"id": "Inv_ARCtr_2", "question": "What gives a green plant most of its energy?",
     "choices": {"text": ["soil", "sunlight", "rocks", "wind"], "label": ["A", "B", "C", "D"]}, "answerKey": "B"},
    {"id": "Inv_ARCtr_3", "question": "Which material lets light pass through it?",
     "choices": {"text": ["clear glass", "wood", "brick"], "label": ["1", "2", "3"]}, "answerKey": "1"},
    {"id": "Inv_ARCtr_4", "question": "Which season usually has the longest days?",
     "choices": {"text": ["winter", "spring", "summer", "autumn"], "label": ["A", "B", "C", "D"]}, "answerKey": "C"},
    {"id": "Inv_ARCtr_5", "question": "Which object is attracted by a magnet?",
     "choices": {"text": ["a paper clip", "a rubber band", "a plastic cup", "a cotton ball"],
                 "label": ["A", "B", "C", "D"]}, "answerKey": "A"},
]

PIQA_VALID = [
    {"goal": "How do you keep a paintbrush from drying out overnight?",
     "sol1": "Wrap the wet brush tightly in plastic film.", "sol2": "Leave the wet brush upright in the sun.", "label": 0},
    {"goal": "Make a quick ice pack.",
     "sol1": "Fill a bag with warm water and freeze it for a minute.",
     "sol2": "Fill a zip bag with ice cubes and a little water, then seal it.", "label": 1},
    {"goal": "To stop a door from squeaking,", "sol1": "oil the hinges lightly.", "sol2": "paint the handle red.",
     "label": 0},
    {"goal": "Cómo enfriar una bebida rápido", "sol1": "Envolverla en papel húmedo y meterla al congelador.",
     "sol2": "Dejarla junto a la ventana.", "label": 0},
    {"goal": "Remove a sticker without tearing it ", "sol1": "warm it with a hair dryer, then peel slowly",
     "sol2": "soak it in glue  then pull fast", "label": 0},
]
PIQA_TRAIN = [
    {"goal": "Soften hard butter.", "sol1": "Grate it onto a plate.", "sol2": "Put it in the freezer.", "label": 0},
    {"goal": "Find a small lost screw on carpet.", "sol1": "Vacuum with a sock over the nozzle.",
     "sol2": "Shake the carpet outside.", "label": 0},
    {"goal": "Keep cut apples from browning.", "sol1": "Leave them in the open air.",
     "sol2": "Brush them with lemon juice.", "label": 1},
    PIQA_VALID[2],  # a copy of an evaluated row: the sampler must drop it
]

OBQA_TEST = [
    {"id": "inv-1", "question_stem": "A magnet will stick to",
     "choices": {"text": ["a wooden spoon", "an iron nail", "a glass cup", "a paper towel"],
                 "label": ["A", "B", "C", "D"]}, "answerKey": "B"},
    {"id": "inv-2", "question_stem": "Plants need sunlight to",
     "choices": {"text": ["make food", "grow roots in the dark", "stay cold", "make noise"],
                 "label": ["A", "B", "C", "D"]}, "answerKey": " A"},
    {"id": "inv-3", "question_stem": "When a pond freezes, the water",
     "choices": {"text": ["turns to gas", "becomes solid", "gets warmer", "sinks"], "label": ["A", "B", "C", "D"]},
     "answerKey": "B"},
    {"id": "inv-4", "question_stem": "Which would be the best for keeping a drink hot?",
     "choices": {"text": ["a thin paper cup", "an open bowl", "an insulated bottle", "a metal sieve"],
                 "label": ["A", "B", "C", "D"]}, "answerKey": "C"},
    {"id": "inv-5", "question_stem": "An animal that hunts at night most likely has",
     "choices": {"text": ["large eyes", "no ears", "bright feathers", "short legs"], "label": ["A", "B", "C", "D"]},
     "answerKey": "A"},
]
OBQA_TRAIN = [
    {"id": "inv-tr-1", "question_stem": "Sound travels as",
     "choices": {"text": ["light", "vibrations", "heat", "dust"], "label": ["A", "B", "C", "D"]}, "answerKey": "B"},
    {"id": "inv-tr-2", "question_stem": "Rain comes from",
     "choices": {"text": ["clouds", "rocks", "roots", "sand"], "label": ["A", "B", "C", "D"]}, "answerKey": "A"},
    {"id": "inv-tr-3", "question_stem": "A seed grows into",
     "choices": {"text": ["a stone", "a plant", "a cloud", "a shell"], "label": ["A", "B", "C", "D"]},
     "answerKey": "B"},
]

def hs(ind, label, ctx_a, ctx_b, endings, gold, source="inv~1", split_type="indomain"):
    return {"ind": ind, "activity_label": label, "ctx_a": ctx_a, "ctx_b": ctx_b,
            "ctx": (ctx_a + " " + ctx_b) if ctx_b else ctx_a, "endings": endings, "source_id": source,
            "split": "val", "split_type": split_type, "label": str(gold)}

HELLASWAG_VAL = [
    hs(1, "Baking bread", "A woman sprinkles flour on a wooden board.", "she",
       ["kneads the dough with both hands.", "throws the board out of the window.",
        "paints the flour blue [step] with a brush.", "sings to the oven loudly."], 0),
    hs(2, "Home and Garden", "[header] How to water a cactus [title] Check the soil first.", "",
       ["[step] Push a finger into the soil. [substeps] If it is dry, water it.",
        "[title] Water it every hour. [step] Cacti love floods.",
        "Pour   sand on the leaves  [title]", "Move the pot into a dark box [unclosed bracket"], 0,
       source="wikihow~1", split_type="zeroshot"),
    hs(3, "Skateboarding", "A boy rolls down a ramp on a board.", "THE BOY",
       ["jumps and lands on the board.", "  falls asleep on the ramp.  ", "[x]  eats the wheels.",
        "flies [up] [into] the sky."], 0),
    hs(4, "Ελληνικά", "Μια γυναίκα γράφει ένα γράμμα.", "ΣΤΟ ΤΈΛΟΣ ΥΠΟΓΡΆΦΕΙ ΟΔΟΣ",
       ["το κλείνει σε φάκελο.", "το τρώει.", "το πετάει στη θάλασσα.", "το κρύβει [κάτω] από το χαλί."], 0),
    hs(5, "Русский", "Мужчина чистит картошку.", "ПОТОМ ОН",
       ["режет её на кусочки.", "бросает её в окно.", "поёт ей песню.", "[шаг] кладёт её в карман."], 0),
    hs(6, "Ice fishing", "A man drills a hole in the ice.", "ßhe then [pauses] and",
       ["lowers a line into the water.", "[title] jumps into the hole.", "melts the lake.", "builds a house."], 0),
    hs(7, "Cooking", "A chef chops onions [title]", "İSTANBUL style, then",
       ["fries them\nin oil [with\nbutter].", "[a][b]cries.", "[[nested]] leaves.", "dances."], 2),
]
HELLASWAG_TRAIN = [
    hs(101, "Washing dishes", "A boy fills the sink with water.", "he",
       ["adds soap and scrubs a plate.", "drinks the water.", "plants a tree.", "climbs into the sink."], 0),
    hs(102, "Walking the dog", "A woman clips a leash onto a collar.", "the dog",
       ["sits on the roof.", "wags its tail and heads out.", "reads a book.", "drives away."], 1),
    hs(103, "Home and Garden", "[header] How to clean a window [title] Mix the solution.", "",
       ["[step] Combine vinegar and water.", "[step] Break the glass.", "Paint it.", "Sell the house."], 0,
       source="wikihow~2", split_type="zeroshot"),
    HELLASWAG_VAL[0],  # a copy of an evaluated row
]

WINOGRANDE_DEV = [
    {"qID": "inv-wg-1", "sentence": "The ladder did not reach the shelf because _ was too short.",
     "option1": "the ladder", "option2": "the shelf", "answer": "1"},
    {"qID": "inv-wg-2", "sentence": "Anna lent her umbrella to Mia because _ was going out into the rain.",
     "option1": "Anna", "option2": "Mia", "answer": "2"},
    {"qID": "inv-wg-3", "sentence": "The soup was colder than the tea, so _, not the tea, had to be reheated.",
     "option1": "the soup", "option2": "the tea", "answer": "1"},
    {"qID": "inv-wg-4", "sentence": "Tom could not lift the box onto the truck; _?",
     "option1": "the box was too heavy", "option2": "the truck was too light", "answer": "1"},
    {"qID": "inv-wg-5", "sentence": "Léa préférait le vélo au bus car _\u00a0était plus rapide.\u3000",
     "option1": "le vélo", "option2": "le bus", "answer": "1"},
    {"qID": "inv-wg-6", "sentence": "After the race, the winner hugged the runner-up: _",
     "option1": "the winner", "option2": "the runner-up", "answer": "2"},
]
WINOGRANDE_TRAIN = [
    {"qID": "inv-wgt-1", "sentence": "The cup broke when it hit the floor because _ was fragile.",
     "option1": "the cup", "option2": "the floor", "answer": "1"},
    {"qID": "inv-wgt-2", "sentence": "Ben asked Sam for help since _ knew the way.",
     "option1": "Ben", "option2": "Sam", "answer": "2"},
    {"qID": "inv-wgt-3", "sentence": "The final word was _",
     "option1": "yes", "option2": "no", "answer": "1"},
    WINOGRANDE_DEV[1],  # a copy of an evaluated row
]

MMLU = {
    "abstract_algebra": {
        "test": [
            {"question": "  Find the number of elements of order 2 in the cyclic group of order 6. ",
             "choices": ["0", "1", "2", "3"], "answer": 1},
            {"question": "Statement 1 | Every group of order 4 is abelian. Statement 2 | Every abelian group is cyclic.",
             "choices": ["True, True", "False, False", "True, False", "False, True"], "answer": 2},
            {"question": "Which of the following is a \"field\", given the usual operations?\nChoose one.",
             "choices": ["Z_4", "Z_5", "Z_6", "Z_8"], "answer": 1},
        ],
        "dev": [
            {"question": "What is the order of the identity element in any group?",
             "choices": ["0", "1", "2", "infinite"], "answer": 1},
            {"question": "How many subgroups does a group of prime order have?",
             "choices": ["1", "2", "3", "it depends"], "answer": 1},
            {"question": "Is the set of even integers closed under addition?",
             "choices": ["Yes", "No", "Only for positives", "Only for zero"], "answer": 0},
            {"question": "The symmetric group on 3 letters has how many elements?",
             "choices": ["3", "6", "9", "27"], "answer": 1},
            {"question": "Compute 3 + 4 in Z_5.", "choices": ["0", "1", "2", "7"], "answer": 2},
        ],
    },
    "high_school_us_history": {
        "test": [
            {"question": "A letter says: \"We shall meet, as agreed, at noon, on the square.\"\nWhat is its tone?",
             "choices": ["hostile, angry", "calm, \"polite\"", "confused", "sad,\nweary"], "answer": 1},
            {"question": "Which invented event came first in this made-up timeline?",
             "choices": [" the first fair", "the second fair ", "the third fair", "the last fair"], "answer": 0},
        ],
        "dev": [
            {"question": "In this invented story, who founded the village?",
             "choices": ["a baker", "a miller", "a smith", "a weaver"], "answer": 3},
            {"question": "An imagined charter of 1800 granted what?",
             "choices": ["land", "ships", "roads", "bells"], "answer": 0},
            {"question": "Which made-up river did settlers cross first?",
             "choices": ["the Blue", "the Green", "the Red", "the Grey"], "answer": 2},
            {"question": "The fictional town council met how often?",
             "choices": ["daily", "weekly", "monthly", "yearly"], "answer": 1},
            {"question": "What did the pretend newspaper \"The Daily Lamp\" report?",
             "choices": ["a flood", "a fire", "a fair", "a feast"], "answer": 3},
        ],
    },
    "formal_logic": {
        "test": [
            {"question": "Which is the negation of 'all cats are grey'?",
             "choices": ["no cats are grey", "some cat is not grey", "all cats are black", "some cat is grey"],
             "answer": 1},
        ],
        "dev": [
            {"question": "If P then Q; P. Therefore?", "choices": ["Q", "not Q", "P and not Q", "nothing"],
             "answer": 0},
            {"question": "Which connective is 'and'?", "choices": ["∨", "∧", "→", "¬"], "answer": 1},
            {"question": "Is 'P or not P' a tautology?", "choices": ["yes", "no", "sometimes", "unknown"],
             "answer": 0},
            {"question": "'Some A are B' is which kind of statement?",
             "choices": ["universal", "particular", "singular", "empty"], "answer": 1},
            {"question": "How many rows has the truth table of 3 variables?", "choices": ["3", "6", "8", "9"],
             "answer": 2},
        ],
    },
}
for subj, splits in MMLU.items():
    for split in splits.values():
        for r in split:
            r["subject"] = subj
    for name in splits:
        splits[name] = [{"question": r["question"], "subject": r["subject"], "choices": r["choices"],
                         "answer": r["answer"]} for r in splits[name]]

# --------------------------------------------------------------------------
# run lm-eval's task code on them

DATA = {}


def fake_download(self, dataset_kwargs=None, **kwargs):
    self.dataset = datasets.DatasetDict(
        {split: datasets.Dataset.from_list(rows) for split, rows in DATA[self.config.task].items()})


ConfigurableTask.download = fake_download

CASES = [
    # (task, splits, eval split, few-shot pool split or None, shot counts)
    ("arc_easy", {"test": ARC_TEST, "train": ARC_TRAIN, "validation": ARC_TRAIN[:1]}, "test", "train", [0, 2]),
    ("arc_challenge", {"test": ARC_TEST[2:5], "train": ARC_TRAIN, "validation": ARC_TRAIN[:1]}, "test", "train", [0, 1]),
    ("piqa", {"validation": PIQA_VALID, "train": PIQA_TRAIN}, "validation", "train", [0, 2]),
    ("openbookqa", {"test": OBQA_TEST, "train": OBQA_TRAIN, "validation": OBQA_TRAIN[:1]}, "test", "train", [0, 1]),
    ("hellaswag", {"validation": HELLASWAG_VAL, "train": HELLASWAG_TRAIN}, "validation", "train", [0, 1]),
    ("winogrande", {"validation": WINOGRANDE_DEV, "train": WINOGRANDE_TRAIN}, "validation", "train", [0, 2]),
    # the evaluated row three times in the pool: sample(k+1) loses more than one
    # copy, and lm-eval redraws k from the pool without any copy of it
    ("winogrande", {"validation": [WINOGRANDE_DEV[0], WINOGRANDE_DEV[3], WINOGRANDE_DEV[0]],
                    "train": [WINOGRANDE_DEV[0]] * 3 + WINOGRANDE_TRAIN[:2]}, "validation", "train", [2]),
    ("mmlu_abstract_algebra", MMLU["abstract_algebra"], "test", "dev", [0, 5, 2]),
    ("mmlu_high_school_us_history", MMLU["high_school_us_history"], "test", "dev", [0, 5]),
    ("mmlu_formal_logic", MMLU["formal_logic"], "test", "dev", [0, 5]),
]


def lls_for(task, i, n):
    rnd = random.Random(len(task) * 1000 + i)
    lls = [round(-rnd.uniform(0.5, 30.0), 3) for _ in range(n)]
    if i % 3 == 1 and n > 1:
        lls[1] = lls[0]  # a tie: first index wins
    return lls


def run_cases(tm):
    out = []
    for name, splits, eval_split, pool_split, ks in CASES:
        DATA[name] = splits
        task = get_task_dict([name], tm)[name]
        for k in ks:
            task.set_fewshot_seed(1234)
            docs = []
            for i, doc in enumerate(task.eval_docs):
                ctx = task.fewshot_context(doc, k)
                reqs = task.construct_requests(doc, ctx, metadata=(name, i, 1))
                args = [r.arguments for r in reqs]
                choices = task.doc_to_choice(doc)
                gold = task.doc_to_text(doc) if task.multiple_input else task.doc_to_target(doc)
                lls = lls_for(name, i, len(args))
                res = task.process_results(doc, [(ll, False) for ll in lls])
                docs.append({
                    "contexts": [a[0] for a in args],
                    "continuations": [a[1] for a in args],
                    "choices": choices,
                    "gold": gold,
                    "target": str(task.doc_to_target(doc)),
                    # the logged doc does not depend on k: kept for k = 0 only
                    **({"doc": dict(doc)} if k == 0 else {}),
                    "lls": lls,
                    "acc": res["acc"],
                    "acc_norm": res.get("acc_norm"),
                })
            out.append({"task": name, "k": k, "rows": splits[eval_split],
                        "pool": splits[pool_split] if k > 0 else None, "docs": docs})
    return out


def preprocessed_hellaswag_case():
    """llama.cpp-style rows are taken as they are; expected strings by rule."""
    rows = [{"preprocessed": True, "query": "Roof work: A man climbs a ladder. he", "label": 2,
             "endings": ["falls.", " waves [at] us.", "starts pulling up tiles.", "sleeps."]},
            {"preprocessed": True, "query": "Cooking: A chef chops onions. ", "label": "0",
             "endings": ["fries them.", "cries.", "leaves.", "dances."]}]
    docs = []
    for r in rows:
        docs.append({"contexts": [r["query"]] * 4, "continuations": [" " + e for e in r["endings"]],
                     "choices": r["endings"], "gold": int(r["label"]), "target": str(int(r["label"])),
                     "doc": dict(r, choices=r["endings"], gold=int(r["label"])), "lls": None})
    return {"task": "hellaswag", "k": 0, "rows": rows, "pool": None, "docs": docs, "by_rule": True}


CLEAN_CASES = [
    "  leading and trailing  ", "Ends with [title]", "a [b] c [d", "x [unclosed\n] y", "[a][b]c",
    "three   spaces", "four    spaces", "five     spaces", "tab\t[x]\tend", "\u00a0nbsp strip\u3000",
    "[header] How to do it [title] Step one.", "a [x]\n[y] b", "[[nested]] x", "\u2028line sep\u2029",
    "\x1c odd space\x1f", "Ünïcödé [tag] ok", "[step] leading bracket", "end bracket [x]", " [title] [title]",
    "a ] b [ c", "", "   ", "x [title]y", "[]", "keep\r[x]\rcr", "\u200b zero width is not space \u200b",
]

CAPITALIZE_CASES = [
    "hello WORLD", "ßtraße", "ǆemal ǅ Ǆ", "İSTANBUL", "ΣΑΣ ΟΔΟΣ", "σ", "ΌΣΟΣ.", "ﬁne ﬃ", "élan ÉCOLE",
    "ПРИВЕТ мир", "'Σ", "AΣ'", "AΣ'B", "123abc", "", " leading space", "ΑΣ\u0301", "Σ", "ΑΣ\u0301Β",
    "ǈUDEVIT", "ΐ", "ŉ", "Ωmega ΩHM", "ǰ", "ꭰ", "ＡＢＣ", "𐐀𐐨", "ᾈ", "ΣΣΣ", "A.Σ", "AΣ.", "AΣ\u00adB",
    "the END", "THE BOY", "ΣΤΟ ΤΈΛΟΣ ΥΠΟΓΡΆΦΕΙ ΟΔΟΣ", "ПОТОМ ОН", "İstanbul İ", "Ⅻ ⓐⒶ",
]

STRIP_CASES = ["  a  ", "\u00a0b\u3000", "\x1cc\x1f", "\u2028d\u2029", "\u200be\u200b", "\t\n\v\f\rf\r\n",
               "\x85g\u1680\u2000\u200a\u202f\u205f", "", " ", "h i"]


def sample_cases():
    out = []
    for n, m, calls in [(5, 2, 6), (6, 5, 4), (21, 5, 4), (22, 5, 4), (21, 6, 3), (30, 6, 3), (100, 3, 5),
                        (1000, 26, 2), (40398, 6, 3), (16113, 1, 5), (2, 2, 3), (1, 1, 2), (1 << 20, 4, 2)]:
        r = random.Random(1234)
        out.append({"n": n, "m": m, "draws": [r.sample(range(n), m) for _ in range(calls)]})
    r = random.Random(1234)
    bits = [[k, r.getrandbits(k)] for k in (1, 2, 7, 16, 31, 32, 33, 48, 63, 64, 5, 32)]
    r = random.Random(2**40 + 7)
    big_seed = [r.getrandbits(32) for _ in range(3)]
    return out, bits, big_seed


def aggregate_cases():
    vecs = [[1.0, 0.0, 1.0], [1.0] * 7 + [0.0] * 6, [0.0, 1.0] * 50 + [1.0], [1.0, 1.0], [0.0, 0.0, 0.0, 1.0],
            [float(i % 3 == 0) for i in range(997)]]
    tasks = []
    for xs in vecs:
        tasks.append({"xs": xs, "mean": lm_metrics.mean(xs), "stderr": lm_metrics.mean_stderr(xs)})
    groups = []
    for leaves in [[[1.0, 0.0, 1.0], [0.0] * 4 + [1.0]], [vecs[1], vecs[2], vecs[5]], [vecs[0], vecs[4], vecs[3]]]:
        v = [lm_metrics.mean(x) for x in leaves]
        s = [lm_metrics.mean_stderr(x) for x in leaves]
        n = [len(x) for x in leaves]
        groups.append({"v": v, "n": n, "s": s, "value": lm_metrics.aggregate_subtask_metrics(v, n, True),
                       "stderr": float(lm_metrics.pooled_sample_stderr(s, n))})
    return tasks, groups


# --------------------------------------------------------------------------
# datasets/samples in the original release formats


def write(path, text):
    full = os.path.join(SAMPLES, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def jsonl(rows, compact=False):
    seps = (",", ":") if compact else (", ", ": ")
    return "".join(json.dumps(r, ensure_ascii=False, separators=seps) + "\n" for r in rows)


def arc_original(r):
    return {"id": r["id"], "question": {"stem": r["question"], "choices": [
        {"text": t, "label": l} for t, l in zip(r["choices"]["text"], r["choices"]["label"])]},
        "answerKey": r["answerKey"]}


def obqa_original(r):
    return {"id": r["id"], "question": {"stem": r["question_stem"], "choices": [
        {"text": t, "label": l} for t, l in zip(r["choices"]["text"], r["choices"]["label"])]},
        "answerKey": r["answerKey"]}


def llamacpp_clean(s):
    # llama.cpp's hellaswag_val_full.txt removes only the wikiHow markers
    for tag in ("[header] ", "[title] ", "[step] ", "[substeps] "):
        s = s.replace(tag, "")
    return s.strip()


def write_samples():
    write("arc/ARC-Challenge/ARC-Challenge-Test.jsonl", jsonl([arc_original(r) for r in ARC_TEST], compact=True))
    write("arc/ARC-Easy_hf-export/test.json", json.dumps(ARC_TEST, indent=2) + "\n")
    write("arc/ARC-Easy_hf-export/train.json", json.dumps(ARC_TRAIN, indent=2) + "\n")
    write("arc/ARC-Easy_hf-export/validation.json", json.dumps(ARC_TRAIN[:2], indent=2) + "\n")
    write("piqa/valid.jsonl", jsonl([{k: r[k] for k in ("goal", "sol1", "sol2")} for r in PIQA_VALID]))
    write("piqa/valid-labels.lst", "".join(f"{r['label']}\n" for r in PIQA_VALID))
    write("openbookqa/Data/Main/test.jsonl", jsonl([obqa_original(r) for r in OBQA_TEST]))
    write("openbookqa/Data/Main/train.jsonl", jsonl([obqa_original(r) for r in OBQA_TRAIN]))
    write("openbookqa/Data/Main/dev.jsonl", jsonl([obqa_original(r) for r in OBQA_TRAIN[:2]]))
    write("winogrande/winogrande_1.1/dev.jsonl", jsonl(WINOGRANDE_DEV))
    write("winogrande/winogrande_1.1/dev-labels.lst", "".join(f"{r['answer']}\n" for r in WINOGRANDE_DEV))
    orig = []
    for r in HELLASWAG_VAL:
        o = dict(r)
        o["label"] = int(r["label"])
        orig.append({k: o[k] for k in ("ind", "activity_label", "ctx_a", "ctx_b", "ctx", "split", "split_type",
                                       "label", "endings", "source_id")})
    write("hellaswag/hellaswag_val.jsonl", jsonl(orig))
    lines = []
    for r in HELLASWAG_VAL:
        lines.append(llamacpp_clean(r["activity_label"] + ": " + r["ctx"]).replace("\n", " "))
        lines.append(r["label"])
        lines.extend(llamacpp_clean(e).replace("\n", " ") for e in r["endings"])
    write("hellaswag/hellaswag_val_full.txt", "".join(l + "\n" for l in lines))
    for subj, splits in MMLU.items():
        for split in ("test", "dev"):
            buf = io.StringIO()
            # one subject with CRLF record ends, as 44 of the real files have
            w = csv.writer(buf, lineterminator="\r\n" if subj == "formal_logic" else "\n")
            for r in splits[split]:
                w.writerow([r["question"]] + r["choices"] + ["ABCD"[r["answer"]]])
            write(f"mmlu/data/{split}/{subj}_{split}.csv", buf.getvalue())
    write("README.md", SAMPLES_README)


SAMPLES_README = """# datasets/samples — invented items in the original release formats

Every item here was written for gqla-eval's tests and demo; none is taken
from the real datasets.  The layout mirrors `../shared/datasets`
(SOURCES.md there), so `gqla-eval --data-dir datasets/samples` runs offline.
Generated by `tests/reference/make_task_fixtures.py` together with the
expected prompts in `tests/fixtures/tasks/tasks.json`; edit the script, not
these files.

| path | format |
|---|---|
| `arc/ARC-Challenge/ARC-Challenge-Test.jsonl` | AllenAI ARC jsonl: `question.stem`, `question.choices[{text,label}]`, `answerKey` (numeric labels 1-4 included) |
| `arc/ARC-Easy_hf-export/{test,train,validation}.json` | JSON array of HF `allenai/ai2_arc` rows |
| `piqa/valid.jsonl`, `piqa/valid-labels.lst` | PIQA release: goal/sol1/sol2, one label a line |
| `openbookqa/Data/Main/{test,train,dev}.jsonl` | OpenBookQA release (one `answerKey` with a leading space) |
| `winogrande/winogrande_1.1/dev.jsonl`, `dev-labels.lst` | WinoGrande 1.1 (blanks before punctuation, at the end, Unicode spaces) |
| `hellaswag/hellaswag_val.jsonl` | original HellaSwag jsonl (brackets, `[title]`, Greek/Cyrillic `ctx_b` for capitalize()) |
| `hellaswag/hellaswag_val_full.txt` | llama.cpp's 6-lines-per-item text (context, label, 4 endings) |
| `mmlu/data/{test,dev}/<subject>_{test,dev}.csv` | headerless MMLU CSV (quotes, commas, newlines in quoted fields; `formal_logic` uses CRLF) |
"""


def main():
    tm = TaskManager()
    cases = run_cases(tm)
    cases.append(preprocessed_hellaswag_case())
    samples, bits, big_seed = sample_cases()
    agg_tasks, agg_groups = aggregate_cases()
    fixture = {
        "generator": "tests/reference/make_task_fixtures.py",
        "python": sys.version.split()[0],
        "cases": cases,
        "clean": [[s, preprocess(s)] for s in CLEAN_CASES],
        "capitalize": [[s, s.capitalize()] for s in CAPITALIZE_CASES],
        "strip": [[s, s.strip()] for s in STRIP_CASES],
        "sample": samples,
        "getrandbits_1234": bits,
        "seed_2p40_plus_7": big_seed,
        "aggregate_tasks": agg_tasks,
        "aggregate_groups": agg_groups,
    }
    os.makedirs(os.path.dirname(FIXTURE), exist_ok=True)
    with open(FIXTURE, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False, indent=1)
        f.write("\n")
    write_samples()
    print(f"wrote {FIXTURE} ({len(cases)} cases) and {SAMPLES}")


if __name__ == "__main__":
    main()
