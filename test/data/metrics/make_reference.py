#!/usr/bin/python3
"""Reference numbers for the metric tests (test/eval/metrics-*.test.ts).

Run with Debian's Python (scikit-learn 1.2.1, scipy 1.10, numpy):
    /usr/bin/python3 test/data/metrics/make_reference.py
It writes reference.json beside itself.

- Sequence classification: scikit-learn's accuracy_score, f1_score, matthews_corrcoef,
  precision_recall_fscore_support, confusion_matrix; regression: scipy.stats.pearsonr/spearmanr and
  sklearn's mean_squared_error.
- seqeval (not installable here): its published semantics written out below from its source
  (seqeval/metrics/sequence_labeling.py get_entities for the default mode, seqeval/scheme.py for strict
  mode), then checked against the numbers its README prints.
- SQuAD (v1.1 and v2.0 official evaluation scripts, as Hugging Face `evaluate` ships them): their
  normalize_answer / f1 / exact match written out below, with Python's own `re` and `str` semantics.
- Question answering post-processing: transformers' examples/pytorch/question-answering/utils_qa.py
  postprocess_qa_predictions, written out below, on float32 logits.
- Causal LM perplexity: the sliding-window loop of transformers' perplexity guide, with labels
  masked to -100 and shifted inside the model as its causal-LM loss does.
"""
import collections
import json
import math
import os
import random
import re
import string

import numpy as np
import scipy
import scipy.stats
import sklearn
from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score, matthews_corrcoef,
                             mean_squared_error, precision_recall_fscore_support)

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20240210)
nprng = np.random.default_rng(20240210)


def fl(x):
    return float(x)


# ---------------------------------------------------------------- sequence classification
def single_label_case(name, n_labels, truth, pred):
    labels = list(range(n_labels))
    p, r, f, s = precision_recall_fscore_support(truth, pred, labels=labels, average=None, zero_division=0)
    case = {
        "name": name,
        "labels": [f"c{i}" for i in labels],
        "truth": [int(t) for t in truth],
        "predicted": [int(q) for q in pred],
        "accuracy": fl(accuracy_score(truth, pred)),
        "macro_f1": fl(f1_score(truth, pred, average="macro", zero_division=0)),
        "weighted_f1": fl(f1_score(truth, pred, average="weighted", zero_division=0)),
        "mcc": fl(matthews_corrcoef(truth, pred)),
        "per_class": [{"precision": fl(p[i]), "recall": fl(r[i]), "f1": fl(f[i]), "support": int(s[i])} for i in labels],
        "confusion": confusion_matrix(truth, pred, labels=labels).tolist(),
    }
    if n_labels == 2:
        case["f1"] = fl(f1_score(truth, pred, zero_division=0))
    return case


def noisy(truth, n_labels, right):
    return [t if rng.random() < right else rng.randrange(n_labels) for t in truth]


single = []
t = [rng.randrange(2) for _ in range(57)]
single.append(single_label_case("binary", 2, t, noisy(t, 2, 0.7)))
t = [rng.choice([0, 0, 0, 1]) for _ in range(40)]
single.append(single_label_case("binary, skewed", 2, t, noisy(t, 2, 0.5)))
single.append(single_label_case("binary, positive class never predicted", 2, [0, 1, 1, 0, 1], [0, 0, 0, 0, 0]))
t = [rng.randrange(3) for _ in range(300)]
single.append(single_label_case("three classes (MNLI-like)", 3, t, noisy(t, 3, 0.6)))
# A class absent from truth and predictions, a class only predicted, a class only true.
t = [rng.choice([0, 1, 2, 3]) for _ in range(80)]
pr = [q if q != 3 else 4 for q in noisy(t, 4, 0.5)]
single.append(single_label_case("absent, only-predicted and only-true classes", 6, t, pr))
t = [rng.randrange(12) for _ in range(500)]
single.append(single_label_case("twelve classes (pairwise sums of 8+)", 12, t, noisy(t, 12, 0.4)))
t = [rng.randrange(150) for _ in range(2000)]
single.append(single_label_case("150 classes (pairwise sums split in halves)", 150, t, noisy(t, 150, 0.3)))
single.append(single_label_case("all one class predicted: mcc 0", 3, [0, 1, 2, 1], [1, 1, 1, 1]))

# ---------------------------------------------------------------- multi-label
multi = []
for n, L, dens in [(30, 5, 0.3), (64, 9, 0.2), (12, 4, 0.0)]:
    truth = (nprng.random((n, L)) < dens).astype(int)
    flip = nprng.random((n, L)) < 0.25
    pred = np.where(flip, 1 - truth, truth)
    if dens == 0.0:
        pred[:, 2] = 0
    p, r, f, s = precision_recall_fscore_support(truth, pred, average=None, zero_division=0)
    multi.append({
        "labels": [f"l{i}" for i in range(L)],
        "truth": truth.tolist(),
        "predicted": pred.tolist(),
        "micro_f1": fl(f1_score(truth, pred, average="micro", zero_division=0)),
        "macro_f1": fl(f1_score(truth, pred, average="macro", zero_division=0)),
        "subset_accuracy": fl(accuracy_score(truth, pred)),
        "per_class": [{"precision": fl(p[i]), "recall": fl(r[i]), "f1": fl(f[i]), "support": int(s[i])} for i in range(L)],
    })

# ---------------------------------------------------------------- regression
regression = []
for n, ties in [(50, False), (200, True), (9, True)]:
    truth = nprng.random(n) * 5
    pred = truth + nprng.normal(0, 1.0, n)
    if ties:
        truth = np.round(truth * 2) / 2
        pred = np.round(pred, 1)
    regression.append({
        "truth": truth.tolist(),
        "predicted": pred.tolist(),
        "pearson": fl(scipy.stats.pearsonr(pred, truth)[0]),
        "spearman": fl(scipy.stats.spearmanr(pred, truth)[0]),
        "mse": fl(mean_squared_error(truth, pred)),
    })


# ---------------------------------------------------------------- seqeval, default mode
def _split(chunk, suffix):
    if suffix:
        return chunk[-1], chunk[:-1].rsplit("-", maxsplit=1)[0] or "_"
    return chunk[0], chunk[1:].split("-", maxsplit=1)[-1] or "_"


def _end_of_chunk(prev_tag, tag, prev_type, type_):
    end = False
    if prev_tag == "E": end = True
    if prev_tag == "S": end = True
    if prev_tag == "B" and tag == "B": end = True
    if prev_tag == "B" and tag == "S": end = True
    if prev_tag == "B" and tag == "O": end = True
    if prev_tag == "I" and tag == "B": end = True
    if prev_tag == "I" and tag == "S": end = True
    if prev_tag == "I" and tag == "O": end = True
    if prev_tag != "O" and prev_tag != "." and prev_type != type_: end = True
    return end


def _start_of_chunk(prev_tag, tag, prev_type, type_):
    start = False
    if tag == "B": start = True
    if tag == "S": start = True
    if prev_tag == "E" and tag == "E": start = True
    if prev_tag == "E" and tag == "I": start = True
    if prev_tag == "S" and tag == "E": start = True
    if prev_tag == "S" and tag == "I": start = True
    if prev_tag == "O" and tag == "E": start = True
    if prev_tag == "O" and tag == "I": start = True
    if tag != "O" and tag != "." and prev_type != type_: start = True
    return start


def get_entities(seqs, suffix=False):
    seq = [item for sub in seqs for item in sub + ["O"]]
    prev_tag, prev_type, begin, chunks = "O", "", 0, []
    for i, chunk in enumerate(seq + ["O"]):
        tag, type_ = _split(chunk, suffix)
        if _end_of_chunk(prev_tag, tag, prev_type, type_):
            chunks.append((prev_type, begin, i - 1))
        if _start_of_chunk(prev_tag, tag, prev_type, type_):
            begin = i
        prev_tag, prev_type = tag, type_
    return chunks


# ---------------------------------------------------------------- seqeval, strict mode (scheme.py)
SCHEMES = {
    # allowed prefixes, start, inside, end patterns: (prev prefixes, current prefixes, tag condition)
    "IOB1": ("IOB",
             [("O", "I", "ANY"), ("I", "I", "DIFF"), ("B", "I", "ANY"), ("I", "B", "SAME"), ("B", "B", "SAME")],
             [("B", "I", "SAME"), ("I", "I", "SAME")],
             [("I", "I", "DIFF"), ("I", "O", "ANY"), ("I", "B", "ANY"), ("B", "O", "ANY"), ("B", "I", "DIFF"), ("B", "B", "SAME")]),
    "IOE1": ("IOE",
             [("O", "I", "ANY"), ("I", "I", "DIFF"), ("E", "I", "ANY"), ("E", "E", "SAME")],
             [("I", "I", "SAME"), ("I", "E", "SAME")],
             [("I", "I", "DIFF"), ("I", "O", "ANY"), ("I", "E", "DIFF"), ("E", "I", "SAME"), ("E", "E", "SAME")]),
    "IOB2": ("IOB",
             [("IOBES", "B", "ANY")],
             [("B", "I", "SAME"), ("I", "I", "SAME")],
             [("I", "O", "ANY"), ("I", "I", "DIFF"), ("I", "B", "ANY"), ("B", "O", "ANY"), ("B", "I", "DIFF"), ("B", "B", "ANY")]),
    "IOE2": ("IOE",
             [("O", "I", "ANY"), ("O", "E", "ANY"), ("E", "I", "ANY"), ("E", "E", "ANY"), ("I", "I", "DIFF"), ("I", "E", "DIFF")],
             [("I", "E", "SAME"), ("I", "I", "SAME")],
             [("E", "IOBES", "ANY")]),
    "IOBES": ("IOBES",
              [("IOBES", "B", "ANY"), ("IOBES", "S", "ANY")],
              [("B", "I", "SAME"), ("B", "E", "SAME"), ("I", "I", "SAME"), ("I", "E", "SAME")],
              [("S", "IOBES", "ANY"), ("E", "IOBES", "ANY")]),
}


class Tok:
    def __init__(self, token, suffix=False):
        self.prefix = token[-1] if suffix else token[0]
        self.tag = (token[:-1] if suffix else token[1:]).strip("-") or "_"

    def check(self, prev, patterns):
        for pp, cp, cond in patterns:
            if prev.prefix in pp and self.prefix in cp and (
                    cond == "ANY" or (cond == "SAME" and prev.tag == self.tag) or (cond == "DIFF" and prev.tag != self.tag)):
                return True
        return False


def strict_entities(seq, scheme, suffix=False):
    allowed, start_p, inside_p, end_p = SCHEMES[scheme]
    tokens = [Tok(t, suffix) for t in seq] + [Tok("O")]
    for t in tokens:
        assert t.prefix in allowed, t.prefix

    def forward(start, prev):
        for i, token in enumerate(tokens[start:], start):
            if token.check(prev, inside_p):
                prev = token
            else:
                return i
        return len(tokens) - 2

    i, prev, out = 0, Tok("O"), []
    while i < len(tokens):
        token = tokens[i]
        if token.check(prev, start_p):
            end = forward(i + 1, token)
            if tokens[end].check(tokens[end - 1], end_p):
                out.append((token.tag, i, end))
            i = end
        else:
            i += 1
        prev = tokens[i - 1]
    return out


def seqeval(y_true, y_pred, mode=None, scheme=None, suffix=False):
    """What Hugging Face's seqeval metric returns (zero_division 0)."""
    if mode == "strict":
        def ents(ys):
            d = collections.defaultdict(set)
            for sid, seq in enumerate(ys):
                for tag, s, e in strict_entities(seq, scheme, suffix):
                    d[tag].add((sid, s, e))
            return d
    else:
        def ents(ys):
            d = collections.defaultdict(set)
            for tag, s, e in get_entities(ys, suffix):
                d[tag].add((s, e))
            return d
    et, ep = ents(y_true), ents(y_pred)
    names = sorted(set(et) | set(ep))
    tp = np.array([len(et[n] & ep[n]) for n in names], dtype=np.int64)
    ps = np.array([len(ep[n]) for n in names], dtype=np.int64)
    ts = np.array([len(et[n]) for n in names], dtype=np.int64)

    def prf(tp, ps, ts):
        p = tp / ps if ps else 0.0
        r = tp / ts if ts else 0.0
        d = p + r
        return p, r, (2 * p * r / d if d else 0.0)

    out = {"per_type": {}}
    for i, n in enumerate(names):
        p, r, f = prf(int(tp[i]), int(ps[i]), int(ts[i]))
        out["per_type"][n] = {"precision": fl(p), "recall": fl(r), "f1": fl(f), "number": int(ts[i])}
    p, r, f = prf(int(tp.sum()), int(ps.sum()), int(ts.sum()))
    flat_t = [t for s in y_true for t in s]
    flat_p = [t for s in y_pred for t in s]
    out.update(overall_precision=fl(p), overall_recall=fl(r), overall_f1=fl(f),
               overall_accuracy=sum(a == b for a, b in zip(flat_t, flat_p)) / len(flat_t))
    return out


token_cases = []
# seqeval's README example, and the numbers its README prints.
readme_true = [["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]
readme_pred = [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]
r = seqeval(readme_true, readme_pred)
assert r["overall_f1"] == 0.5 and r["overall_accuracy"] == 0.8, r
assert r["per_type"]["MISC"]["f1"] == 0.0 and r["per_type"]["PER"]["f1"] == 1.0
token_cases.append({"name": "seqeval README", "truth": readme_true, "predicted": readme_pred, **r})
# README: strict mode drops the ill-formed I-NP start that the default mode accepts.
strict_true, strict_pred = [["B-NP", "I-NP", "O"]], [["I-NP", "I-NP", "O"]]
r = seqeval(strict_true, strict_pred)
assert r["per_type"]["NP"]["f1"] == 1.0
token_cases.append({"name": "README: default mode", "truth": strict_true, "predicted": strict_pred, **r})
r = seqeval(strict_true, strict_pred, mode="strict", scheme="IOB2")
assert r["per_type"]["NP"]["f1"] == 0.0
token_cases.append({"name": "README: strict IOB2", "mode": "strict", "scheme": "IOB2", "truth": strict_true, "predicted": strict_pred, **r})


def random_tags(prefixes, types, n, p_o=0.45):
    return ["O" if rng.random() < p_o else rng.choice(prefixes) + "-" + rng.choice(types) for _ in range(n)]


for scheme, prefixes in [("IOB1", "IB"), ("IOB2", "IB"), ("IOE1", "IE"), ("IOE2", "IE"), ("IOBES", "IBES")]:
    types = ["PER", "LOC", "ORG", "MISC"]
    truth = [random_tags(prefixes, types, rng.randint(1, 14)) for _ in range(40)]
    pred = [[t if rng.random() < 0.7 else random_tags(prefixes, types, 1)[0] for t in s] for s in truth]
    for mode in (None, "strict"):
        r = seqeval(truth, pred, mode=mode, scheme=scheme)
        case = {"name": f"{scheme} tags, {mode or 'default'} mode", "truth": truth, "predicted": pred, **r}
        if mode:
            case.update(mode=mode, scheme=scheme)
        token_cases.append(case)
# Oddities of the default mode: bare prefixes (type '_'), types with dashes, an I- after O.
odd_true = [["B", "I", "O", "I-A-B", "I-A-B", "B-X", "E-X", "S-Y", "O"], ["I-PER", "O", "B-PER"]]
odd_pred = [["B", "B", "O", "I-A-B", "B-A-B", "B-X", "I-X", "S-Y", "S-Y"], ["I-PER", "I-PER", "I-PER"]]
token_cases.append({"name": "default-mode oddities", "truth": odd_true, "predicted": odd_pred, **seqeval(odd_true, odd_pred)})
suf_true = [["PER-B", "PER-I", "O", "LOC-B"]]
suf_pred = [["PER-B", "PER-I", "O", "LOC-I"]]
token_cases.append({"name": "suffix tags", "suffix": True, "truth": suf_true, "predicted": suf_pred, **seqeval(suf_true, suf_pred, suffix=True)})


# ---------------------------------------------------------------- SQuAD v1.1 / v2.0
def normalize_answer(s):
    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def v1_f1(prediction, ground_truth):
    p = normalize_answer(prediction).split()
    g = normalize_answer(ground_truth).split()
    common = collections.Counter(p) & collections.Counter(g)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(p)
    recall = 1.0 * num_same / len(g)
    return (2 * precision * recall) / (precision + recall)


def v1_em(prediction, ground_truth):
    return normalize_answer(prediction) == normalize_answer(ground_truth)


def squad_v1(items):
    em = f1 = 0
    for pred, golds in items:
        em += max(v1_em(pred, g) for g in golds)
        f1 += max(v1_f1(pred, g) for g in golds)
    return {"exact_match": em / len(items), "f1": f1 / len(items)}


def v2_tokens(s):
    return normalize_answer(s).split() if s else []


def v2_f1(gold, pred):
    g, p = v2_tokens(gold), v2_tokens(pred)
    common = collections.Counter(g) & collections.Counter(p)
    num_same = sum(common.values())
    if len(g) == 0 or len(p) == 0:
        return int(g == p)
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(p)
    recall = 1.0 * num_same / len(g)
    return (2 * precision * recall) / (precision + recall)


def squad_v2(items):
    exact, f1s, has = [], [], []
    for pred, answers in items:
        golds = [a for a in answers if normalize_answer(a)] or [""]
        exact.append(max(int(normalize_answer(a) == normalize_answer(pred)) for a in golds))
        f1s.append(max(v2_f1(a, pred) for a in golds))
        has.append(bool(answers))
    n = len(items)
    out = {"exact_match": sum(exact) / n, "f1": sum(f1s) / n,
           "has_answer_total": sum(has), "no_answer_total": n - sum(has)}
    if any(has):
        k = [i for i in range(n) if has[i]]
        out["has_answer_exact_match"] = sum(exact[i] for i in k) / len(k)
        out["has_answer_f1"] = sum(f1s[i] for i in k) / len(k)
    if not all(has):
        k = [i for i in range(n) if not has[i]]
        out["no_answer_exact_match"] = sum(exact[i] for i in k) / len(k)
        out["no_answer_f1"] = sum(f1s[i] for i in k) / len(k)
    return out


NORMALISATION = ["The Cat", "  a   cat!! ", "An apple, the pear.", "the", "theater", "éthe café", "Théâtre",
                 "x\u00a0the\u0085y", "\ufeffthe end", "\u2003an\u2003", "_the_", "1,000", "“quoted”", "Ünïcödé THE",
                 "İstanbul", "a-b c/d", "it's", "ANd", "the\tend\nof", "ς Σ", "x\x1cthe\x1fy", "the_cat the2 2the", "١the"]
normalisation = [{"text": s, "normalized": normalize_answer(s)} for s in NORMALISATION]
squad_pairs = [
    ("the Eiffel Tower", ["Eiffel Tower", "The Eiffel tower in Paris"]),
    ("in Paris", ["Eiffel Tower", "The Eiffel tower in Paris"]),
    ("1,000 people", ["1000 people", "a thousand"]),
    ("", ["something"]),
    ("Denver Broncos", ["Denver Broncos", "Denver Broncos", "Broncos"]),
    ("the the cat cat", ["cat the cat"]),
    ("éthe café", ["café"]),
    ("a", ["the"]),
]
squad_v2_pairs = squad_pairs + [("", []), ("something", []), ("", ["the"]), ("an", ["a"]), ("", ["", "x"])]
squad = {
    "normalisation": normalisation,
    "v1": {"items": [{"prediction": p, "answers": g} for p, g in squad_pairs], **squad_v1(squad_pairs)},
    "v2": {"items": [{"prediction": p, "answers": g} for p, g in squad_v2_pairs], **squad_v2(squad_v2_pairs)},
    "pairs": [{"prediction": p, "truth": g, "em": int(v1_em(p, g)), "f1": v1_f1(p, g), "f1_v2": v2_f1(g, p)}
              for p, gs in squad_v2_pairs for g in (gs or [""])],
}


# ---------------------------------------------------------------- QA post-processing (utils_qa)
def postprocess(context, features, v2, n_best=20, max_answer_length=30, threshold=0.0):
    min_null = None
    prelim = []
    for f in features:
        start_logits, end_logits, offsets = f["start"], f["end"], f["offsets"]
        feature_null_score = start_logits[0] + end_logits[0]
        if min_null is None or min_null["score"] > feature_null_score:
            min_null = {"offsets": (0, 0), "score": feature_null_score, "start_logit": start_logits[0], "end_logit": end_logits[0]}
        start_indexes = np.argsort(start_logits)[-1: -n_best - 1: -1].tolist()
        end_indexes = np.argsort(end_logits)[-1: -n_best - 1: -1].tolist()
        for si in start_indexes:
            for ei in end_indexes:
                if si >= len(offsets) or ei >= len(offsets) or offsets[si] is None or offsets[ei] is None:
                    continue
                if ei < si or ei - si + 1 > max_answer_length:
                    continue
                prelim.append({"offsets": (offsets[si][0], offsets[ei][1]), "score": start_logits[si] + end_logits[ei],
                               "start_logit": start_logits[si], "end_logit": end_logits[ei]})
    if v2:
        prelim.append(min_null)
        null_score = min_null["score"]
    preds = sorted(prelim, key=lambda x: x["score"], reverse=True)[:n_best]
    if v2 and not any(p["offsets"] == (0, 0) for p in preds):
        preds.append(min_null)
    for p in preds:
        o = p.pop("offsets")
        p["text"] = context[o[0]:o[1]]
    if len(preds) == 0 or (len(preds) == 1 and preds[0]["text"] == ""):
        preds.insert(0, {"text": "empty", "start_logit": 0.0, "end_logit": 0.0, "score": 0.0})
    if not v2:
        return {"text": preds[0]["text"]}
    i = 0
    while preds[i]["text"] == "":
        i += 1
    best = preds[i]
    diff = null_score - best["start_logit"] - best["end_logit"]
    return {"text": "" if diff > threshold else best["text"], "score_diff": float(diff)}


WORDS = "the quick brown fox jumps over a lazy dog near river bank while birds sing songs of early spring".split()


def qa_example(n_features, n_tokens):
    words = [rng.choice(WORDS) for _ in range(n_tokens + 5)]
    context = " ".join(words)
    spans, pos = [], 0
    for w in words:
        spans.append((pos, pos + len(w)))
        pos += len(w) + 1
    feats = []
    for k in range(n_features):
        q = rng.randint(2, 5)
        win = spans[k * 3: k * 3 + n_tokens]
        offsets = [None] * (q + 2) + [list(s) for s in win] + [None]
        L = len(offsets)
        feats.append({
            "start": nprng.normal(0, 2, L).astype(np.float32),
            "end": nprng.normal(0, 2, L).astype(np.float32),
            "offsets": offsets,
        })
    return context, feats


qa_cases = []
for k in range(24):
    v2 = k % 2 == 1
    context, feats = qa_example(rng.randint(1, 3), rng.choice([6, 12, 40]))
    if k % 6 == 5:
        feats[0]["start"][0] += 6  # a strong null answer
        feats[0]["end"][0] += 6
    opts = {"n_best": 20, "max_answer_length": rng.choice([30, 30, 3]), "threshold": rng.choice([0.0, 0.0, 1.5, -2.0])}
    res = postprocess(context, feats, v2, opts["n_best"], opts["max_answer_length"], opts["threshold"])
    qa_cases.append({
        "context": context, "v2": v2, **opts,
        "features": [{"start": [float(x) for x in f["start"]], "end": [float(x) for x in f["end"]], "offsets": f["offsets"]} for f in feats],
        **res,
    })
# A feature with no span inside the context: the made-up "empty" answer.
feats = [{"start": np.array([0.5, 2.0, 1.0], np.float32), "end": np.array([0.25, 1.0, 3.0], np.float32), "offsets": [None, None, None]}]
for v2 in (False, True):
    qa_cases.append({"context": "abc", "v2": v2, "n_best": 20, "max_answer_length": 30, "threshold": 0.0,
                     "features": [{"start": [float(x) for x in f["start"]], "end": [float(x) for x in f["end"]], "offsets": f["offsets"]} for f in feats],
                     **postprocess("abc", feats, v2)})


def windows(n, budget, stride):
    # tokenizers' Encoding::truncate (direction right): ranges of `budget` starting every budget-stride.
    if n <= budget:
        return [[0, n]]
    out = []
    for start in range(0, n, budget - stride):
        stop = min(start + budget, n)
        out.append([start, stop])
        if stop == n:
            break
    return out


qa_windows = [{"n": n, "budget": b, "stride": s, "windows": windows(n, b, s)}
              for n, b, s in [(10, 20, 5), (10, 10, 3), (11, 10, 3), (100, 30, 10), (384, 128, 64), (7, 3, 2), (50, 7, 0)]]


# ---------------------------------------------------------------- causal LM perplexity
def toy_logprob(ids, begin, t):
    """log p(ids[t] | ids[begin:t]) of a made-up model whose answer depends on its window."""
    return -math.log(2 + ((ids[t] * 7 + (t - begin) * 3 + ids[begin] + (t - begin) ** 2) % 11) + 0.25 * (t - begin))


def perplexity(texts, max_length, stride):
    nll_sum, n_tokens = 0.0, 0
    for ids in texts:
        seq_len = len(ids)
        prev_end = 0
        for begin in range(0, seq_len, stride):
            end = min(begin + max_length, seq_len)
            trg_len = end - prev_end
            input_ids = ids[begin:end]
            labels = list(input_ids)
            for j in range(len(labels) - trg_len):
                labels[j] = -100
            # the model shifts: position j's output is scored against labels[j + 1]
            for j in range(len(input_ids) - 1):
                if labels[j + 1] != -100:
                    nll_sum += -toy_logprob(ids, begin, begin + j + 1)
                    n_tokens += 1
            prev_end = end
            if end == seq_len:
                break
    return {"n_predicted_tokens": n_tokens, "mean_nll": nll_sum / n_tokens, "perplexity": math.exp(nll_sum / n_tokens)}


lm_cases = []
for max_length, stride in [(1024, 512), (8, 4), (8, 8), (6, 1), (5, 3)]:
    texts = [[rng.randrange(50) for _ in range(rng.choice([1, 2, 5, 8, 9, 17, 40]))] for _ in range(6)]
    lm_cases.append({"max_length": max_length, "stride": stride, "texts": texts, **perplexity(texts, max_length, stride)})

if __name__ == "__main__":
    out = {
        "_made_by": f"test/data/metrics/make_reference.py (scikit-learn {sklearn.__version__}, scipy {scipy.__version__}, numpy {np.__version__})",
        "single_label": single,
        "multi_label": multi,
        "regression": regression,
        "token_classification": token_cases,
        "squad": squad,
        "qa_postprocess": qa_cases,
        "qa_windows": qa_windows,
        "causal_lm": lm_cases,
    }
    with open(os.path.join(HERE, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=None, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.join(HERE, "reference.json"))
