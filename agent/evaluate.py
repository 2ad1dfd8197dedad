"""Run scripted (or simulated) candidates through a Pitchroom and record what happened.

Each run yields one JSON-ready record: expected labels, the critic's prediction, the transcript,
per-turn latencies and tokens, persona and grounding checks, and the error if the run failed.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from agent import grounding, persona, prompts
from agent.config import Settings
from agent.errors import ConfigError
from agent.evalset import Candidate
from agent.session import Pitchroom
from agent.simulate import SimulatedCandidate

Record = dict[str, Any]


def eval_settings(model: str | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Settings for an eval run; `model` names the endpoint's model (PITCHROOM_MODEL) or a local GGUF file."""
    env = dict(os.environ if env is None else env)
    if model:
        if env.get("OPENAI_BASE_URL"):
            env["PITCHROOM_MODEL"] = model
        elif Path(model).expanduser().is_file():
            env["PITCHROOM_LOCAL_MODEL"] = model
        else:
            raise ConfigError(f"--model {model!r}: without OPENAI_BASE_URL, --model must be a local .gguf file. "
                              "Set OPENAI_BASE_URL to an OpenAI-compatible server to pick one of its models.")
    return Settings.from_env(env)


class Evaluation:
    """Runs candidates against one Pitchroom (sessions live in its database, so threads can share it)."""

    def __init__(self, app: Pitchroom) -> None:
        self.app = app
        self.leaks = persona.prompt_shingles(app.settings.prompts_dir / "interviewer.yaml")
        self._simulator: SimulatedCandidate | None = None

    def prepare(self, candidates: Sequence[Candidate]) -> None:
        """Ingest the packs and start the model once, before any worker thread needs them."""
        for ref in dict.fromkeys(c.company for c in candidates):
            self.app.company(ref)
        _ = self.app.model

    def run_all(self, candidates: Sequence[Candidate], *, repeat: int = 1, concurrency: int = 1,
                on_record: Callable[[Record], None] | None = None) -> list[Record]:
        """Every candidate `repeat` times, `concurrency` at once; records arrive as runs finish."""
        self.prepare(candidates)
        jobs = [(cand, k) for k in range(repeat) for cand in candidates]
        records = []
        with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="eval") as pool:
            for future in as_completed([pool.submit(self.run, cand, k) for cand, k in jobs]):
                record = future.result()
                records.append(record)
                if on_record:
                    on_record(record)
        return sorted(records, key=lambda r: (r["repeat"], [c.id for c in candidates].index(r["id"])))

    def run(self, cand: Candidate, repeat: int = 0) -> Record:
        """One candidate, end to end; never raises: a failure is recorded in `error`."""
        record: Record = {"id": cand.id, "repeat": repeat, "source": cand.source, "company": cand.company,
                          "simulated": cand.simulated, "expected": cand.expected.model_dump(), "session_id": None,
                          "predicted": None, "transcript": None, "turns": [], "critique_s": None,
                          "duration_s": None, "persona": None, "grounding": None, "error": None}
        started = time.perf_counter()
        try:
            record["session_id"] = self._start(cand)
            self._play(cand, record["session_id"], record["turns"])
            self.app.end(record["session_id"])
            t0 = time.perf_counter()
            critique = self.app.critique(record["session_id"])
            record["critique_s"] = round(time.perf_counter() - t0, 3)
            record["predicted"] = critique.model_dump(mode="json")
        except Exception as exc:  # noqa: BLE001 - one candidate's failure must not stop the run
            record["error"] = f"{type(exc).__name__}: {exc}"
        record["duration_s"] = round(time.perf_counter() - started, 3)
        if record["session_id"]:
            self._inspect(cand, record)
        return record

    def _start(self, cand: Candidate) -> str:
        return self.app.start(cand.company, role=cand.role, round_name=cand.round_names()[0],
                              difficulty=cand.difficulty or "realistic", key_points=cand.key_points,
                              round_length=_planned(cand, 0))

    def _play(self, cand: Candidate, sid: str, turns: list[dict]) -> None:
        for r, name in enumerate(cand.round_names()):
            round_idx = self.app.next_round(sid, name, round_length=_planned(cand, r)) if r else 0
            count = _length(cand, r)
            for i in range(count):
                if cand.persona is None:
                    say, expect = cand.rounds[r].turns[i].say, cand.rounds[r].turns[i].expect
                else:
                    say, expect = self._simulate(cand, sid, round_idx, name, i), None
                turns.append(self._turn(sid, r, round_idx, name, say, expect))

    def _turn(self, sid: str, r: int, round_idx: int, name: str, say: str, expect) -> dict:
        t0 = time.perf_counter()
        reply = self.app.reply(sid, say)
        latency = time.perf_counter() - t0
        meta = self.app.store.turns(sid, round_idx)[-1]["meta"]
        return {"round": r, "round_name": name, "candidate": say, "reply": reply, "latency_s": round(latency, 3),
                # The interviewer falls back to its own count when the server reports no usage; keep only real ones.
                "prompt_tokens": meta.get("prompt_tokens") if meta.get("prompt_tokens_source") == "server" else None,
                "prompt_tokens_est": meta.get("prompt_tokens_est"),
                "completion_tokens": meta.get("completion_tokens"), "first_token_s": meta.get("first_token_s"),
                "plan": meta.get("plan"), "guard": meta.get("guard"),
                "expect": expect.model_dump(exclude_none=True) if expect is not None else None}

    def _simulate(self, cand: Candidate, sid: str, round_idx: int, name: str, i: int) -> str:
        if self._simulator is None:
            s = self.app.settings
            self._simulator = SimulatedCandidate(self.app.model, prompts.load("simulate", s.prompts_dir),
                                                 max_chars=s.max_message_chars)
        session = self.app.store.session(sid)
        history = [{"role": t["role"], "text": t["text"]} for t in self.app.store.turns(sid, round_idx)]
        return self._simulator.line(cand.persona.description, self.app.company(cand.company), session["role"],
                                    name, history, i + 1, cand.persona.lines_per_round)

    def _inspect(self, cand: Candidate, record: Record) -> None:
        """Attach the transcript and the persona and grounding checks of whatever the session holds."""
        try:
            export = self.app.export(record["session_id"])
            record["transcript"] = export.model_dump(mode="json")
            rounds = [[t.model_dump() for t in rnd.turns] for rnd in export.rounds]
            checks = persona.check_session(rounds, self.leaks, _injection_labels(cand, rounds))
            record["persona"] = [{"round": c.round, "turn": c.turn, "reply": c.reply, "after_injection":
                                  c.after_injection, "violations": c.violations} for c in checks]
            facts = grounding.PackIndex(self.app.company(cand.company))
            record["grounding"] = [vars(g) for g in grounding.session_grounding(rounds, facts)]
        except Exception as exc:  # noqa: BLE001 - keep the run's record even if the checks cannot run
            record["error"] = record["error"] or f"{type(exc).__name__} while checking the transcript: {exc}"


def _length(cand: Candidate, r: int) -> int:
    """Candidate lines in round r: the interviewer plans its invite-questions and wrap-up turns from it."""
    return cand.persona.lines_per_round if cand.persona else len(cand.rounds[r].turns)


def _planned(cand: Candidate, r: int) -> int | None:
    """The round length to plan with; a one-line round keeps the interviewer's default plan."""
    n = _length(cand, r)
    return n if n >= 2 else None


def _injection_labels(cand: Candidate, rounds: list[list[dict]]) -> dict[tuple[int, int], bool]:
    """(round, turn) of candidate lines whose `expect.injection` is set, matched in order."""
    labels: dict[tuple[int, int], bool] = {}
    if cand.rounds is None:
        return labels
    for r, turns in enumerate(rounds[:len(cand.rounds)]):
        said = [t for t, turn in enumerate(turns) if turn["role"] == "candidate"]
        for t, spec in zip(said, cand.rounds[r].turns):
            if spec.expect is not None and spec.expect.injection is not None:
                labels[(r, t)] = spec.expect.injection
    return labels
