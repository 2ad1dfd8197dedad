"""Agreement metrics between expected and predicted labels (pure functions, no I/O).

A label is True (passed), False (failed) or None (does not apply). A pair is (expected, predicted).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

Label = bool | None
Pair = tuple[Label, Label]
CLASSES: tuple[bool, bool] = (True, False)
NAMES = {True: "true", False: "false", None: "null"}


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def class_scores(pairs: Sequence[Pair], cls: bool) -> dict[str, float]:
    """Precision, recall, F1 and support of one class over pairs whose expected label is not null.

    A predicted null where a class was expected is a miss for that class (it never counts as a hit).
    """
    scored = [(e, p) for e, p in pairs if e is not None]
    tp = sum(1 for e, p in scored if e is cls and p is cls)
    fp = sum(1 for e, p in scored if e is not cls and p is cls)
    fn = sum(1 for e, p in scored if e is cls and p is not cls)
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = _ratio(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}


def criterion_scores(pairs: Sequence[Pair]) -> dict:
    """One criterion: macro precision/recall/F1 over the classes that occur in its expected labels."""
    present = [c for c in CLASSES if any(e is c for e, _ in pairs)]
    per_class = {NAMES[c]: class_scores(pairs, c) for c in present}
    support = sum(s["support"] for s in per_class.values())

    def mean(key: str) -> float | None:
        return sum(s[key] for s in per_class.values()) / len(per_class) if per_class else None

    return {"precision": mean("precision"), "recall": mean("recall"), "f1": mean("f1"), "support": support,
            "classes": per_class, "confusion": confusion(pairs),
            "applicability_accuracy": applicability_accuracy(pairs)}


def macro_f1(per_criterion: Mapping[str, Mapping]) -> float | None:
    """Mean of the criteria's F1, over criteria that have non-null expected labels."""
    scores = [c["f1"] for c in per_criterion.values() if c.get("f1") is not None]
    return sum(scores) / len(scores) if scores else None


def confusion(pairs: Sequence[Pair]) -> dict[str, dict[str, int]]:
    """Counts by expected label (rows) and predicted label (columns), each true/false/null."""
    table = {NAMES[e]: {NAMES[p]: 0 for p in (True, False, None)} for e in (True, False, None)}
    for e, p in pairs:
        table[NAMES[e]][NAMES[p]] += 1
    return table


def accuracy(pairs: Sequence[Pair]) -> float | None:
    """Share of pairs whose expected label is set and equals the prediction."""
    scored = [(e, p) for e, p in pairs if e is not None]
    return _ratio(sum(1 for e, p in scored if e is p), len(scored)) if scored else None


def verdict_accuracy(pairs: Sequence[Pair]) -> float | None:
    """Overall verdict accuracy over candidates whose `sales_call` is labelled."""
    return accuracy(pairs)


def applicability_accuracy(pairs: Sequence[Pair]) -> float | None:
    """Share of labelled pairs where the critic agrees on whether the criterion applies (null or not)."""
    if not pairs:
        return None
    return _ratio(sum(1 for e, p in pairs if (e is None) == (p is None)), len(pairs))


def cohen_kappa(pairs: Sequence[Pair]) -> float | None:
    """Cohen's kappa over pairs where both labels are non-null; None when there are none."""
    scored = [(e, p) for e, p in pairs if e is not None and p is not None]
    if not scored:
        return None
    n = len(scored)
    observed = sum(1 for e, p in scored if e is p) / n
    chance = sum((sum(1 for e, _ in scored if e is c) / n) * (sum(1 for _, p in scored if p is c) / n)
                 for c in CLASSES)
    if math.isclose(chance, 1.0):  # both raters used one class only: agreement is total or nothing
        return 1.0 if math.isclose(observed, 1.0) else 0.0
    return (observed - chance) / (1 - chance)


def stability(repeats: Mapping[str, Sequence[Mapping[str, Label]]]) -> float | None:
    """Share of (candidate, label) whose prediction is identical in every repeat of that candidate.

    `repeats` maps a candidate id to its runs' predicted labels; candidates with fewer than two runs
    carry no information and are left out. None when no candidate has two runs.
    """
    same = total = 0
    for runs in repeats.values():
        if len(runs) < 2:
            continue
        for key in set().union(*runs):
            values = [run.get(key) for run in runs]
            total += 1
            same += all(v is values[0] for v in values)
    return same / total if total else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between closest ranks."""
    data = sorted(values)
    if not data:
        return None
    pos = (len(data) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean, None for no values."""
    return sum(values) / len(values) if values else None
