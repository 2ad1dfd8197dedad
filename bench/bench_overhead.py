"""overhead: one interviewer turn end to end (Pitchroom.say) against a bare model call with the same prompt.

Both calls get the same messages, max_tokens, temperature 0 and seed, so they generate the same tokens.
The llama.cpp server reuses cached KV state (its last prompt and, with --cache, a RAM cache of earlier
ones), so whichever call ran second would find the whole prompt cached. To warm both equally, each
measured call is preceded by a one-token "prime" call with this turn's prompt: both then start from the
same fully cached prompt, and the ratio isolates Pitchroom's own work (retrieval, prompt building,
SQLite writes, the guard) against generation. Measured here: the first call after a prompt's new tokens
were evaluated runs slower (and at temperature 0 may even decode differently) than the next one, so one
unmeasured full call comes first. The prompt is known before Pitchroom runs because a twin
session with the same history is dry-run first; the order of the two measured calls alternates.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from agent.llm import Message
from agent.session import Pitchroom
from bench.common import (COMPANY, RecordingModel, bench_settings, candidate_line, count_pieces, machine_info,
                          median, temp_dir, write_result)

NAME = "overhead"
TARGET = 1.10


def run(quick: bool = False, turns: int | None = None, out_dir: Path | None = None) -> dict[str, Any]:
    """Measure `turns` paired turns and write bench/results/overhead.json."""
    from agent.backend import build_chat_model

    n = turns or (4 if quick else 8)
    with temp_dir(NAME) as tmp:
        settings = bench_settings(Path(tmp), quick=quick)
        real = build_chat_model(settings)
        app = Pitchroom(settings, model=RecordingModel(real))
        main, twin = (app.start(COMPANY, round_name="final") for _ in range(2))
        app.reply(main, candidate_line(0))  # warm-up: embedding model, Chroma, first prompt; not measured
        _copy_last_exchange(app, main, twin)
        rows = [_pair(app, real, main, twin, i, settings.reply_tokens) for i in range(1, n + 1)]
    result = _summarise(rows, machine_info(real.name), settings.reply_tokens, quick)
    write_result(NAME, result, f"overhead_ratio={result['overhead_ratio']:.3f} (target <= {TARGET}; "
                 f"median Pitchroom turn {result['pitchroom_turn_s_median']:.2f}s vs bare call "
                 f"{result['bare_call_s_median']:.2f}s, same prompt and output, {len(rows)} turns)", out_dir)
    return result


def _pair(app: Pitchroom, real, main: str, twin: str, i: int, max_tokens: int) -> dict[str, Any]:
    """One turn through Pitchroom.say and the same prompt as a bare call, each from the same cache state."""
    rec: RecordingModel = app.model  # type: ignore[assignment]
    line = candidate_line(i)
    msgs = _dry_run_messages(app, twin, line)
    _prime(real, msgs)
    count_pieces(real, msgs, max_tokens)  # unmeasured: the first call after new prompt tokens runs differently
    pitchroom_first = i % 2 == 1
    t: dict[str, float] = {}
    for which in (("pitchroom", "bare") if pitchroom_first else ("bare", "pitchroom")):
        _prime(real, msgs)
        start = time.perf_counter()
        if which == "pitchroom":
            text = "".join(app.say(main, line))
        else:
            _, bare_pieces = count_pieces(real, msgs, max_tokens)
        t[which] = time.perf_counter() - start
    call = rec.calls[-1]
    _copy_last_exchange(app, main, twin)
    return {"turn": i, "order": "pitchroom_first" if pitchroom_first else "bare_first",
            "pitchroom_s": round(t["pitchroom"], 4), "bare_s": round(t["bare"], 4),
            "ratio": round(t["pitchroom"] / t["bare"], 4), "same_prompt": call["messages"] == msgs,
            "pitchroom_tokens": call["pieces"], "bare_tokens": bare_pieces, "reply_chars": len(text)}


class _Captured(Exception):
    """Raised by the dry-run model once it has the prompt."""


def _dry_run_messages(app: Pitchroom, sid: str, line: str) -> list[Message]:
    """Say `line` in the twin session and capture the prompt Pitchroom builds, without a model call."""
    rec: RecordingModel = app.model  # type: ignore[assignment]
    inner = rec.inner

    class Capture:
        name = inner.name

        def stream(self, messages, **_kw):
            raise _Captured

    rec.inner = Capture()
    try:
        "".join(app.say(sid, line))
    except _Captured:
        pass
    finally:
        rec.inner = inner
    return rec.calls.pop()["messages"]


def _copy_last_exchange(app: Pitchroom, main: str, twin: str) -> None:
    """Give the twin the same history as the main session (its candidate line is already there)."""
    store = app.store
    have = len(store.turns(twin))
    for turn in store.turns(main)[have:]:
        store.append_turn(twin, turn["round_idx"], turn["role"], turn["text"], turn["meta"])


def _prime(real, messages: list[Message]) -> None:
    """Leave the server's KV cache holding `messages` (a one-token call)."""
    count_pieces(real, messages, 1)


def _summarise(rows: list[dict], machine: dict, max_tokens: int, quick: bool) -> dict[str, Any]:
    same = [r for r in rows if r["pitchroom_tokens"] == r["bare_tokens"] and r["same_prompt"]]
    used = same or rows
    by_order = {o: round(median([r["ratio"] for r in used if r["order"] == o]), 4)
                for o in ("pitchroom_first", "bare_first")}
    return {
        "overhead_ratio": round(median([r["ratio"] for r in used]), 4),
        "target_ratio": TARGET,
        "pitchroom_turn_s_median": round(median([r["pitchroom_s"] for r in used]), 4),
        "bare_call_s_median": round(median([r["bare_s"] for r in used]), 4),
        "overhead_ms_median": round(1000 * median([r["pitchroom_s"] - r["bare_s"] for r in used]), 1),
        "ratio_by_order": by_order, "turns_measured": len(rows), "turns_used": len(used),
        "max_tokens": max_tokens, "quick": quick, "machine": machine, "turns": rows,
        "method": "median over turns of Pitchroom.say wall time / bare ChatModel.stream wall time with the same "
                  "messages (checked), temperature 0, fixed seed, same token count (checked); both start from "
                  "the same KV cache (1-token prime with the turn's prompt, after one unmeasured full call, because "
                  "the first call after new prompt tokens is slower and may even decode differently); order "
                  "alternates per turn",
    }
