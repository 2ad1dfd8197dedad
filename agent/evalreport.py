"""report.md for an eval run: headline figures, a confusion table per criterion, worst disagreements."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agent.evalsummary import predicted_labels
from agent.evaluate import Record

NAMES = {True: "true", False: "false", None: "null"}
HEADLINE = ["criteria_macro_f1", "verdict_accuracy", "cohen_kappa", "applicability_accuracy", "stability",
            "persona_adherence", "grounding", "turn_latency_p50_s", "turn_latency_p95_s", "prompt_tokens_mean",
            "critique_latency_p50_s"]


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _quote(text: str, limit: int = 220) -> str:
    text = " ".join(str(text).split())
    return (text[:limit] + " ...") if len(text) > limit else text


def disagreements(record: Record, rubric: Sequence[str]) -> list[tuple[str, Any, Any]]:
    """(label, expected, predicted) for each label the critic got wrong in one scored run."""
    predicted = predicted_labels(record, rubric)
    wrong = [(cid, exp, predicted.get(cid)) for cid, exp in record["expected"]["criteria"].items()
             if predicted.get(cid) is not exp]
    verdict = record["expected"].get("sales_call")
    if verdict is not None and predicted["sales_call"] is not verdict:
        wrong.insert(0, ("sales_call", verdict, predicted["sales_call"]))
    return wrong


def worst_runs(records: Sequence[Record], rubric: Sequence[str], n: int = 5) -> list[tuple[Record, list]]:
    """The scored runs with the most wrong labels (a wrong overall verdict counts double)."""
    ranked = [(rec, disagreements(rec, rubric)) for rec in records if rec["predicted"] is not None]
    ranked = [(rec, wrong) for rec, wrong in ranked if wrong]
    ranked.sort(key=lambda rw: -(len(rw[1]) + sum(1 for label, _, _ in rw[1] if label == "sales_call")))
    return ranked[:n]


def render(summary: Mapping[str, Any], records: Sequence[Record], rubric: Sequence[str],
           failures: Sequence[str] = ()) -> str:
    """The whole report as Markdown."""
    parts = [_header(summary, failures), _criteria(summary), _confusions(summary, rubric),
             _worst(records, rubric), _persona(summary), _grounding(summary), _errors(summary)]
    return "\n\n".join(p for p in parts if p).rstrip() + "\n"


def _header(summary: Mapping[str, Any], failures: Sequence[str]) -> str:
    lines = ["# Pitchroom evaluation report", "",
             f"{summary['candidates']} candidates, {summary['runs']} runs ({summary['repeat']} repeat(s)), "
             f"{summary['scored_runs']} scored, {summary['errors']} failed. "
             f"Models: {', '.join(summary.get('models') or []) or 'n/a'}. "
             f"Rubric version: {summary.get('rubric_version') or 'n/a'}. Prompts: "
             + (", ".join(f"{k} {v}" for k, v in (summary.get("prompt_versions") or {}).items()) or "n/a") + ".",
             "", "| metric | value |", "|---|---|"]
    lines += [f"| {key} | {_fmt(summary.get(key))} |" for key in HEADLINE]
    lines += ["", f"Stability: {summary.get('stability_note', '')}.",
              f"Grounding over {summary.get('grounding_claims', 0)} claims; persona over "
              f"{summary.get('persona_turns', 0)} interviewer turns ({summary.get('injection_turns', 0)} after an "
              "injection attempt)."]
    if failures:
        lines += ["", "**Thresholds not met:**", *[f"- {f}" for f in failures]]
    return "\n".join(lines)


def _criteria(summary: Mapping[str, Any]) -> str:
    lines = ["## Per criterion", "", "| criterion | precision | recall | F1 | support | applicability |",
             "|---|---|---|---|---|---|"]
    for cid, s in summary["per_criterion"].items():
        lines.append(f"| {cid} | {_fmt(s['precision'])} | {_fmt(s['recall'])} | {_fmt(s['f1'])} | {s['support']} "
                     f"| {_fmt(s['applicability_accuracy'])} |")
    lines += ["", f"Overall verdict (`sales_call`) over {summary['verdict_support']} labelled runs: accuracy "
                  f"{_fmt(summary['verdict_accuracy'])}.", "", _table("sales_call", summary["verdict_confusion"])]
    return "\n".join(lines)


def _table(title: str, table: Mapping[str, Mapping[str, int]]) -> str:
    cols = ["true", "false", "null"]
    lines = [f"| {title}: expected \\ predicted | " + " | ".join(cols) + " |", "|---|---|---|---|"]
    for row in cols:
        if any(table[row].values()):
            lines.append(f"| {row} | " + " | ".join(str(table[row][c]) for c in cols) + " |")
    return "\n".join(lines)


def _confusions(summary: Mapping[str, Any], rubric: Sequence[str]) -> str:
    tables = [_table(cid, summary["per_criterion"][cid]["confusion"]) for cid in rubric
              if cid in summary["per_criterion"]]
    return "## Confusion tables\n\n" + "\n\n".join(tables) if tables else ""


def _worst(records: Sequence[Record], rubric: Sequence[str]) -> str:
    worst = worst_runs(records, rubric)
    if not worst:
        return "## Worst disagreements\n\nNone: every scored label matched."
    out = ["## Worst disagreements"]
    for rec, wrong in worst:
        said = [t["text"] for rnd in (rec["transcript"] or {}).get("rounds", []) for t in rnd["turns"]
                if t["role"] == "candidate"]
        out += ["", f"### {rec['id']} (repeat {rec['repeat']}): {len(wrong)} wrong", "", "The candidate said:"]
        out += [f"> {_quote(line)}" for line in said[:8]] + (["> ..."] if len(said) > 8 else [])
        by_id = {c["id"]: c for c in rec["predicted"].get("criteria", [])}
        for label, exp, pred in wrong:
            out.append(f"- **{label}**: expected {NAMES[exp]}, critic said {NAMES[pred]}.")
            crit = by_id.get(label)
            if crit:
                out.append(f"  - reason: {_quote(crit.get('reason') or '(none given)')}")
                out += [f"  - evidence: \"{_quote(q['text'], 160)}\" (round {q['round']}, turn {q['turn']})"
                        for q in crit.get("evidence", [])[:3]]
    return "\n".join(out)


def _persona(summary: Mapping[str, Any]) -> str:
    bad = summary.get("persona_violations") or []
    if not bad:
        return f"## Persona\n\nEvery one of {summary.get('persona_turns', 0)} interviewer turns stayed in character."
    out = ["## Persona: turns out of character", ""]
    out += [f"- {b['id']} r{b['round']} t{b['turn']}: {', '.join(b['violations'])}: \"{_quote(b['reply'], 160)}\""
            for b in bad[:20]]
    return "\n".join(out)


def _grounding(summary: Mapping[str, Any]) -> str:
    bad = summary.get("unsupported_claims") or []
    if not bad:
        return f"## Grounding\n\nAll {summary.get('grounding_claims', 0)} company claims are supported by the pack."
    out = ["## Grounding: claims the pack does not support", ""]
    out += [f"- {b['id']} r{b['round']} t{b['turn']}: \"{_quote(b['sentence'], 160)}\" (not in the pack: "
            f"{', '.join(b['missing'])})" for b in bad[:20]]
    return "\n".join(out)


def _errors(summary: Mapping[str, Any]) -> str:
    if not summary.get("error_runs"):
        return ""
    return "## Failed runs\n\n" + "\n".join(f"- {e['id']} (repeat {e['repeat']}): {_quote(e['error'], 300)}"
                                          for e in summary["error_runs"])
