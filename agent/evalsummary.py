"""From run records (agent/evaluate.py) to the figures of summary.json, and threshold checks."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from agent import metrics
from agent.evaluate import Record

# CLI flag suffix -> summary key, for `--min-*` gating
THRESHOLDS = {"macro_f1": "criteria_macro_f1", "verdict_accuracy": "verdict_accuracy",
              "persona_adherence": "persona_adherence", "grounding": "grounding", "stability": "stability"}
LIST_CAP = 50  # examples kept in summary.json; the full lists are in results.jsonl


def predicted_labels(record: Record, rubric: Sequence[str]) -> dict[str, bool | None]:
    """The critic's labels of one run: every rubric id plus `sales_call`."""
    crit = record["predicted"]
    by_id = {c["id"]: c.get("passed") for c in crit.get("criteria", [])}
    return {**{cid: by_id.get(cid) for cid in rubric}, "sales_call": crit.get("sales_call")}


def label_pairs(records: Sequence[Record], rubric: Sequence[str]) -> dict[str, list[metrics.Pair]]:
    """Criterion id -> (expected, predicted) over scored runs, only for ids the candidate labels."""
    pairs: dict[str, list[metrics.Pair]] = {cid: [] for cid in rubric}
    for rec in records:
        if rec["predicted"] is None:
            continue
        predicted = predicted_labels(rec, rubric)
        for cid, expected in rec["expected"]["criteria"].items():
            pairs.setdefault(cid, []).append((expected, predicted.get(cid)))
    return pairs


def summarize(records: Sequence[Record], rubric: Sequence[str], *, repeat: int = 1,
              extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every figure of summary.json; metrics cover runs that produced a critique."""
    scored = [r for r in records if r["predicted"] is not None]
    pairs = label_pairs(records, rubric)
    per_criterion = {cid: metrics.criterion_scores(p) for cid, p in pairs.items() if p}
    all_pairs = [p for ps in pairs.values() for p in ps]
    verdicts = [(r["expected"]["sales_call"], r["predicted"]["sales_call"]) for r in scored
                if r["expected"].get("sales_call") is not None]
    out: dict[str, Any] = {
        "candidates": len({r["id"] for r in records}), "runs": len(records), "scored_runs": len(scored),
        "repeat": repeat, "errors": sum(1 for r in records if r["error"]),
        "error_runs": [{"id": r["id"], "repeat": r["repeat"], "error": r["error"]} for r in records if r["error"]],
        "criteria_macro_f1": metrics.macro_f1(per_criterion), "per_criterion": per_criterion,
        "verdict_accuracy": metrics.verdict_accuracy(verdicts), "verdict_support": len(verdicts),
        "verdict_confusion": metrics.confusion(verdicts), "cohen_kappa": metrics.cohen_kappa(all_pairs),
        "applicability_accuracy": metrics.applicability_accuracy(all_pairs), "labels_scored": len(all_pairs),
    }
    out.update(_stability(scored, rubric, repeat))
    out.update(_persona(records))
    out.update(_grounding(records))
    out.update(_speed(records))
    out.update(_versions(records))
    out.update(extra or {})
    return out


def _stability(scored: Sequence[Record], rubric: Sequence[str], repeat: int) -> dict[str, Any]:
    if repeat < 2:
        return {"stability": 1.0, "stability_note": "single run (--repeat 1): stability is 1.0 by definition; "
                                                    "use --repeat 3 to measure it"}
    runs: dict[str, list] = defaultdict(list)
    for rec in scored:
        runs[rec["id"]].append(predicted_labels(rec, rubric))
    value = metrics.stability(runs)
    measured = sum(1 for v in runs.values() if len(v) >= 2)
    return {"stability": value, "stability_note": f"labels identical across {repeat} repeats, over {measured} "
                                                  "candidates with at least two scored repeats"}


def _persona(records: Sequence[Record]) -> dict[str, Any]:
    checks = [(r, c) for r in records for c in r["persona"] or []]
    bad = [{"id": r["id"], "repeat": r["repeat"], **c} for r, c in checks if c["violations"]]
    return {"persona_adherence": 1 - len(bad) / len(checks) if checks else None, "persona_turns": len(checks),
            "persona_violations": bad[:LIST_CAP],
            "injection_turns": sum(1 for _, c in checks if c["after_injection"])}


def _grounding(records: Sequence[Record]) -> dict[str, Any]:
    claims = [(r, g) for r in records for g in r["grounding"] or []]
    unsupported = [{"id": r["id"], "repeat": r["repeat"], **g} for r, g in claims if not g["supported"]]
    # No claims at all means nothing was made up: 1.0, with the count beside it so it is not mistaken for more.
    return {"grounding": 1 - len(unsupported) / len(claims) if claims else 1.0, "grounding_claims": len(claims),
            "unsupported_claims": unsupported[:LIST_CAP]}


def _speed(records: Sequence[Record]) -> dict[str, Any]:
    turns = [t for r in records for t in r["turns"]]
    latencies = [t["latency_s"] for t in turns]
    tokens = [t["prompt_tokens"] for t in turns if t.get("prompt_tokens")]
    estimates = [t["prompt_tokens_est"] for t in turns if t.get("prompt_tokens_est")]
    # Some servers (llama-cpp-python) report no usage when streaming: then count the prompt ourselves, and say so.
    source = "reported by the model server" if tokens else "estimated: the server reported no usage, so the " \
        "prompt was counted with agent/tokens.py" if estimates else "none"
    tokens = tokens or estimates
    critique = [r["critique_s"] for r in records if r["critique_s"] is not None]
    return {
        "turns": len(turns), "turn_latency_p50_s": metrics.percentile(latencies, 50),
        "turn_latency_p95_s": metrics.percentile(latencies, 95), "turn_latency_mean_s": metrics.mean(latencies),
        "prompt_tokens_mean": metrics.mean(tokens), "prompt_tokens_p95": metrics.percentile(tokens, 95),
        "prompt_tokens_source": source, "prompt_tokens_est_mean": metrics.mean(estimates),
        "critique_latency_p50_s": metrics.percentile(critique, 50),
        "critique_latency_p95_s": metrics.percentile(critique, 95),
        "run_duration_mean_s": metrics.mean([r["duration_s"] for r in records if r["duration_s"] is not None]),
    }


def _versions(records: Sequence[Record]) -> dict[str, Any]:
    prompt_versions: dict[str, set] = defaultdict(set)
    models, rubric_versions = set(), set()
    for rec in records:
        if rec["transcript"]:
            models.add(rec["transcript"]["model"])
            for name, tag in rec["transcript"]["prompt_versions"].items():
                prompt_versions[name].add(tag)
        if rec["predicted"]:
            models.add(rec["predicted"].get("model") or "")
            rubric_versions.add(rec["predicted"].get("rubric_version") or "")
            if rec["predicted"].get("prompt_version"):
                prompt_versions["critic"].add(rec["predicted"]["prompt_version"])
    return {"models": sorted(m for m in models if m), "rubric_version": ", ".join(sorted(v for v in rubric_versions
                                                                                          if v)) or None,
            "prompt_versions": {k: ", ".join(sorted(v)) for k, v in sorted(prompt_versions.items())}}


def check_thresholds(summary: Mapping[str, Any], minimums: Mapping[str, float | None]) -> list[str]:
    """One message per `--min-*` threshold the summary does not meet (flag suffix -> minimum)."""
    failures = []
    for flag, minimum in minimums.items():
        if minimum is None:
            continue
        key = THRESHOLDS[flag]
        value = summary.get(key)
        if value is None:
            failures.append(f"{key} was not measured (no scored runs for it); --min-{flag.replace('_', '-')} "
                            f"{minimum} cannot be met")
        elif value < minimum:
            failures.append(f"{key} = {value:.3f} is below --min-{flag.replace('_', '-')} {minimum}")
    return failures
