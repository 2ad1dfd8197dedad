"""first_token: seconds from sending a candidate line to the first piece of the reply, p50/p95 over 20 turns.

Measured where a front door sees it, at the Pitchroom.say generator (retrieval, prompt building and the
guard's short hold-back included), and at the model boundary (Usage.first_token_s, the server alone).
The 20 turns run through three rounds (screen, second, final) as a real candidate would.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from agent.session import Pitchroom
from bench.common import (COMPANY, bench_settings, candidate_line, machine_info, median, percentile, temp_dir,
                          write_result)

NAME = "first_token"
ROUND_PLAN = (("screen", 8), ("second", 10), ("final", 10))


def run(quick: bool = False, turns: int | None = None, out_dir: Path | None = None) -> dict[str, Any]:
    """Time `turns` replies and write bench/results/first_token.json."""
    n = turns or 20
    with temp_dir(NAME) as tmp:
        settings = bench_settings(Path(tmp), quick=quick)
        app = Pitchroom(settings)
        sid = app.start(COMPANY, round_name=ROUND_PLAN[0][0])
        machine = machine_info(app.model.name)  # starts the model server before any timing
        rows = []
        for i in range(n):
            _maybe_next_round(app, sid, i)
            rows.append(_turn(app, sid, i))
    ui = [r["first_piece_s"] for r in rows]
    model = [r["model_first_token_s"] for r in rows if r["model_first_token_s"] is not None]
    result = {
        "first_token_p50_s": round(percentile(ui, 50), 3), "first_token_p95_s": round(percentile(ui, 95), 3),
        "model_first_token_p50_s": round(percentile(model, 50), 3) if model else None,
        "model_first_token_p95_s": round(percentile(model, 95), 3) if model else None,
        "turn_s_median": round(median([r["turn_s"] for r in rows]), 3),
        "turns_measured": len(rows), "quick": quick, "machine": machine, "turns": rows,
        "method": "first_token_*: wall time from calling Pitchroom.say to its first non-empty piece (includes "
                  "retrieval, prompt building, the SQLite write of the candidate line and the guard's hold-back: "
                  "a whole first sentence before a planned question, else 48 characters); "
                  "model_first_token_*: Usage.first_token_s at the model boundary",
    }
    write_result(NAME, result, f"first_token_p50_s={result['first_token_p50_s']:.2f} "
                 f"first_token_p95_s={result['first_token_p95_s']:.2f} (user-visible, {len(rows)} turns; "
                 f"model alone p50 {result['model_first_token_p50_s']}s)", out_dir)
    return result


def _maybe_next_round(app: Pitchroom, sid: str, i: int) -> None:
    """Open the next round when this one has had its full length of candidate lines."""
    total = 0
    for idx, (_name, length) in enumerate(ROUND_PLAN[:-1]):
        total += length
        if i == total:
            app.next_round(sid, ROUND_PLAN[idx + 1][0])


def _turn(app: Pitchroom, sid: str, i: int) -> dict[str, Any]:
    start, first, pieces = time.perf_counter(), None, 0
    for piece in app.say(sid, candidate_line(i)):
        if piece and first is None:
            first = time.perf_counter() - start
        pieces += 1
    total = time.perf_counter() - start
    meta = app.store.turns(sid)[-1]["meta"]
    return {"turn": i + 1, "round": app.store.rounds(sid)[-1]["name"], "first_piece_s": round(first or total, 4),
            "model_first_token_s": meta.get("first_token_s"), "turn_s": round(total, 4), "plan": meta.get("plan")}
