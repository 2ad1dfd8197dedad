"""eval_throughput: scripted candidates per minute at concurrency 1 and 4 against the local model server.

Runs the eval harness (agent/evaluate.py Evaluation.run_all, what `pitchroom eval` uses) on the shortest
scripted candidates in evals/candidates: every turn live against the model, then the critique. Each
concurrency level gets a fresh database; the model server is shared and started before timing.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from agent.config import ROOT
from agent.session import Pitchroom
from bench.common import bench_settings, machine_info, median, temp_dir, write_result

NAME = "eval_throughput"


def run(quick: bool = False, candidates: int | None = None, concurrency: tuple[int, ...] = (1, 4),
        out_dir: Path | None = None) -> dict[str, Any]:
    """Time the eval harness at each concurrency and write bench/results/eval_throughput.json."""
    n = candidates or 4
    levels, model = {}, ""
    for c in concurrency:
        with temp_dir(f"{NAME}-{c}") as tmp:
            app = Pitchroom(bench_settings(Path(tmp), quick=quick))
            picked = _shortest(app, n)
            levels[str(c)] = _level(app, picked, c)
            model = app.model.name
    rates = {c: v["candidates_per_min"] for c, v in levels.items()}
    result = {
        "candidates_per_min": rates, "levels": levels, "candidates": n, "quick": quick,
        "machine": machine_info(model),
        "method": "Evaluation.run_all over the n shortest scripted candidates (all turns live, then the critique); "
                  "candidates_per_min = finished runs / wall time after the packs are ingested and the model is up",
    }
    write_result(NAME, result, "candidates_per_min: " + ", ".join(f"{r:.2f} at concurrency {c}"
                                                                   for c, r in rates.items()) + f" ({n} candidates)",
                 out_dir)
    return result


def _shortest(app: Pitchroom, n: int):
    from agent import evalset

    cands = evalset.load_candidates([ROOT / "evals/candidates"], app.packs.path_of)
    scripted = [c for c in cands if c.persona is None]
    return sorted(scripted, key=lambda c: (sum(len(r.turns) for r in c.rounds), c.id))[:n]


def _level(app: Pitchroom, picked, concurrency: int) -> dict[str, Any]:
    from agent.evaluate import Evaluation

    evaluation = Evaluation(app)
    evaluation.prepare(picked)  # packs ingested, model started: not part of the rate
    start = time.perf_counter()
    records = evaluation.run_all(picked, concurrency=concurrency)
    seconds = time.perf_counter() - start
    latencies = [t["latency_s"] for r in records for t in r["turns"]]
    return {"concurrency": concurrency, "runs": len(records), "errors": sum(bool(r["error"]) for r in records),
            "error_messages": [r["error"][:200] for r in records if r["error"]], "wall_s": round(seconds, 2),
            "candidates_per_min": round(60 * len(records) / seconds, 3), "turns": len(latencies),
            "turn_latency_median_s": round(median(latencies), 3),
            "critique_s_median": round(median([r["critique_s"] for r in records if r["critique_s"]]), 3)}
