"""context: prompt tokens and turn latency at turns 6, 30 and 60 of one long final-round interview.

The interviewer trims old turns to a fixed token budget, so turn 60 should cost about what turn 6 costs.
Prompt tokens are counted with the same tokenizer the budget uses (tiktoken cl100k_base) on the exact
messages sent (recorded at the model boundary). Latency at turn N is the median of turns N-4..N, because
one turn in a few also re-reads a trimmed history; every turn's figures are in the JSON. Turn latency also
grows with reply length, which is the model's choice, so the first-token latency (the part the context
costs) and the reply lengths are reported beside it.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from agent.session import Pitchroom
from agent.tokens import count_messages
from bench.common import (COMPANY, RecordingModel, bench_settings, candidate_line, machine_info, median, temp_dir,
                          write_result)

NAME = "context"
TARGET = 1.2
CHECKPOINTS = (6, 30, 60)
WINDOW = 5  # turns whose median is "the latency at turn N"


def run(quick: bool = False, checkpoints: tuple[int, ...] = CHECKPOINTS, out_dir: Path | None = None) -> dict[str, Any]:
    """Run max(checkpoints) turns and write bench/results/context.json."""
    from agent.backend import build_chat_model

    with temp_dir(NAME) as tmp:
        settings = bench_settings(Path(tmp), quick=quick)
        app = Pitchroom(settings, model=RecordingModel(build_chat_model(settings)))
        sid = app.start(COMPANY, round_name="final")
        machine = machine_info(app.model.name)
        rows = [_turn(app, sid, i) for i in range(max(checkpoints))]
        budget = settings.context_budget
    at = {n: _at(rows, n) for n in checkpoints}
    first, last = at[checkpoints[0]], at[checkpoints[-1]]
    result = {
        "context_token_ratio": round(last["prompt_tokens"] / first["prompt_tokens"], 4),
        "context_latency_ratio": round(last["latency_s"] / first["latency_s"], 4),
        "context_first_token_ratio": round(last["first_token_s"] / first["first_token_s"], 4)
        if first["first_token_s"] else None,
        "target_ratio": TARGET, "checkpoints": {str(n): v for n, v in at.items()}, "context_budget": budget,
        "max_prompt_tokens": max(r["prompt_tokens"] for r in rows), "quick": quick, "machine": machine,
        "turns": rows,
        "method": "prompt_tokens: cl100k count of the messages sent at turn N; latency_s / first_token_s: median "
                  f"wall time / first-token time of Pitchroom.say over turns N-{WINDOW - 1}..N; ratios are last "
                  "checkpoint / first checkpoint",
    }
    a, b = checkpoints[0], checkpoints[-1]
    ft = result["context_first_token_ratio"]
    write_result(NAME, result, f"context_token_ratio={result['context_token_ratio']:.3f} "
                 f"context_latency_ratio={result['context_latency_ratio']:.3f} (turn {b} / turn {a}; target <= "
                 f"{TARGET}; {first['prompt_tokens']} -> {last['prompt_tokens']} prompt tokens, "
                 f"{first['latency_s']:.2f}s -> {last['latency_s']:.2f}s per turn with replies of "
                 f"{first['reply_tokens_median']} -> {last['reply_tokens_median']} tokens; first-token ratio "
                 f"{ft if ft is None else round(ft, 3)})", out_dir)
    return result


def _turn(app: Pitchroom, sid: str, i: int) -> dict[str, Any]:
    start = time.perf_counter()
    text = "".join(app.say(sid, candidate_line(i)))
    seconds = time.perf_counter() - start
    call = app.model.calls[-1]  # type: ignore[attr-defined]
    meta = app.store.turns(sid)[-1]["meta"]
    msgs = call["messages"]
    return {"turn": i + 1, "latency_s": round(seconds, 4), "prompt_tokens": count_messages(msgs),
            "messages": len(msgs), "trimmed": len(msgs) - 2 != 2 * i + 1,  # system + history + note
            "reply_tokens": call["pieces"], "first_token_s": meta.get("first_token_s"), "reply_chars": len(text)}


def _at(rows: list[dict], n: int) -> dict[str, Any]:
    window = rows[max(0, n - WINDOW):n]
    return {"prompt_tokens": rows[n - 1]["prompt_tokens"],
            "latency_s": round(median([r["latency_s"] for r in window]), 4),
            "first_token_s": round(median([r["first_token_s"] or 0.0 for r in window]), 4),
            "reply_tokens_median": median([r["reply_tokens"] for r in window]),
            "latency_s_this_turn": rows[n - 1]["latency_s"], "reply_tokens": rows[n - 1]["reply_tokens"]}
