"""`pitchroom eval PATH... --out DIR`: thin I/O over agent/evaluate.py (runs), agent/evalsummary.py
(figures) and agent/evalreport.py (report.md)."""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from agent import evalreport, evalset, evalsummary, notes
from agent.errors import InputRejected
from agent.evaluate import Evaluation, Record, eval_settings
from agent.session import Pitchroom

PRINTED = ["criteria_macro_f1", "verdict_accuracy", "cohen_kappa", "applicability_accuracy", "stability",
           "persona_adherence", "grounding", "turn_latency_p50_s", "turn_latency_p95_s", "prompt_tokens_mean"]


def main(args: argparse.Namespace) -> int:
    """Entry point wired by agent/cli.py."""
    return run(args, Pitchroom(eval_settings(args.model)))


def run(args: argparse.Namespace, app: Pitchroom) -> int:
    """Run the candidates, write results.jsonl, summary.json and report.md; 1 when a threshold is missed."""
    if args.repeat < 1 or args.concurrency < 1:
        raise InputRejected("--repeat and --concurrency must be at least 1.")
    candidates = evalset.load_candidates(args.paths, app.packs.path_of)
    evalset.check_mode(candidates, simulate=args.simulate)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started, t0 = datetime.now(timezone.utc), time.perf_counter()
    records = _run_with_progress(Evaluation(app), candidates, args, out / "results.jsonl")
    rubric = notes.rubric_ids()
    summary = evalsummary.summarize(records, rubric, repeat=args.repeat, extra={
        "model": app.model_label(), "concurrency": args.concurrency, "simulate": bool(args.simulate),
        "paths": [str(p) for p in args.paths], "started_at": started.isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - t0, 3)})
    minimums = {flag: getattr(args, f"min_{flag}", None) for flag in evalsummary.THRESHOLDS}
    failures = evalsummary.check_thresholds(summary, minimums)
    summary["thresholds"] = {evalsummary.THRESHOLDS[f]: m for f, m in minimums.items() if m is not None}
    summary["thresholds_met"] = not failures
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    (out / "report.md").write_text(evalreport.render(summary, records, rubric, failures), encoding="utf-8")
    return _print_outcome(summary, failures, out)


def _run_with_progress(evaluation: Evaluation, candidates, args: argparse.Namespace, path: Path) -> list[Record]:
    from tqdm import tqdm

    lock, errors = threading.Lock(), [0]
    with path.open("w", encoding="utf-8") as fh, \
            tqdm(total=len(candidates) * args.repeat, desc="eval", unit="run", file=sys.stderr) as bar:
        def on_record(record: Record) -> None:
            with lock:  # worker threads finish in any order; one whole line each
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                fh.flush()
                errors[0] += bool(record["error"])
                bar.set_postfix(last=record["id"], errors=errors[0])
                bar.update(1)

        return evaluation.run_all(candidates, repeat=args.repeat, concurrency=args.concurrency, on_record=on_record)


def _print_outcome(summary: dict, failures: list[str], out: Path) -> int:
    for key in PRINTED:
        value = summary.get(key)
        shown = f"{value:.3f}" if isinstance(value, float) else "n/a" if value is None else str(value)
        print(f"{key:24} {shown}")
    print(f"{'candidates':24} {summary['candidates']} ({summary['runs']} runs, {summary['errors']} failed)")
    for err in summary["error_runs"]:
        print(f"failed: {err['id']} (repeat {err['repeat']}): {err['error'][:300]}", file=sys.stderr)
    print(f"Wrote {out / 'results.jsonl'}, {out / 'summary.json'}, {out / 'report.md'}")
    for failure in failures:
        print(f"THRESHOLD NOT MET: {failure}", file=sys.stderr)
    if summary["scored_runs"] == 0:
        print("No run produced a critique: nothing was scored.", file=sys.stderr)
        return 1
    return 1 if failures else 0
