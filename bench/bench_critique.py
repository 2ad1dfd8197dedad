"""critique: seconds to critique a 20-turn, two-round transcript on the embedded default model.

The transcript is a realistic scripted session (ten candidate lines, each after an interviewer line,
split over a screen and a second round), written as an export file and critiqued with
Pitchroom.critique(path), the same call `pitchroom critique FILE` makes. The model server is started
and warmed before the clock starts; the critique's prompts are not in its cache (a cold, real critique).
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from agent.session import Pitchroom
from bench.common import (CANDIDATE_LINES, RecordingModel, bench_settings, machine_info, temp_dir,
                          transcript_export, write_result)

NAME = "critique"


class _Counting(RecordingModel):
    """Counts the critic's structured calls on top of the recording model."""

    structured_calls = 0

    def structured(self, messages, schema, *, max_tokens: int):
        self.structured_calls += 1
        return self.inner.structured(messages, schema, max_tokens=max_tokens)


def run(quick: bool = False, candidate_lines: int = 10, out_dir: Path | None = None) -> dict[str, Any]:
    """Time one critique and write bench/results/critique.json."""
    from agent.backend import build_chat_model

    export = transcript_export(CANDIDATE_LINES[:candidate_lines])
    turns = sum(len(r["turns"]) for r in export["rounds"])
    with temp_dir(NAME) as tmp:
        settings = bench_settings(Path(tmp), quick=quick)
        model = _Counting(build_chat_model(settings))
        model.inner.complete([{"role": "user", "content": "Say OK."}], max_tokens=2)  # server up and warm
        app = Pitchroom(settings, model=model)
        app.company(export["company"]["id"])  # ingest the pack before timing, as a real session would have
        path = Path(tmp) / "session.json"
        path.write_text(json.dumps(export), encoding="utf-8")
        start = time.perf_counter()
        critique = app.critique(str(path))
        seconds = time.perf_counter() - start
    methods = [c.method for c in critique.criteria]
    result = {
        "critique_s": round(seconds, 3), "turns": turns, "rounds": len(export["rounds"]),
        "model_calls": model.structured_calls, "criteria": len(methods),
        "criteria_by_method": {m: methods.count(m) for m in sorted(set(methods))},
        "score": critique.score, "sales_call": critique.sales_call, "quick": quick,
        "machine": machine_info(model.name),
        "method": "wall time of Pitchroom.critique(export file) after the model server is warm and the pack "
                  "ingested; one cold run (the critic's prompts are not cached)",
    }
    write_result(NAME, result, f"critique_s={seconds:.2f} for a {turns}-turn, {len(export['rounds'])}-round "
                 f"transcript ({model.structured_calls} model calls for {len(methods)} criteria)", out_dir)
    return result
