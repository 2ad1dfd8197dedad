"""What every benchmark shares: settings in a temp folder, machine info, a recording model, results."""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agent.config import Settings
from agent.llm import ChatModel, Message, Usage

RESULTS = Path(__file__).resolve().parent / "results"
COMPANY = "northwind-robotics"

# A candidate's lines for a long Northwind interview, in the benchmark author's own words.
# Mixed lengths and a few questions, so retrieval, doubts and answers all take turns.
CANDIDATE_LINES = [
    "Hi Priya, thanks for making time today. I read that you run marathons; did Chicago go to plan?",
    "I've sold warehouse automation for eleven years, mostly conveyors and sortation to distributors in Texas.",
    "Last year I closed $4.8M against a $4M quota, mostly with grocery and auto-parts distributors.",
    "What does the team look like today, and who would this person report to?",
    "I built a four-person team in Houston from nothing and two of them made the top ten within a year.",
    "I speak Spanish every day with distributors around Monterrey and Saltillo.",
    "How is the Monterrey office doing since it opened in January?",
    "I think the Refacciones Ortega pilot could become the reference account for the whole region.",
    "My cycles run six to nine months, so I build pipeline to three times quota by the end of Q2.",
    "I was laid off in a restructuring in March, so I've been looking for a few months now.",
    "What would you need this person to deliver in the first twelve months?",
    "At my last company I moved three Tern-sized fleets from pilot to full rollout in under a year.",
    "I don't have a degree, but I've been at or above quota for ten straight years.",
    "How do customers usually pay, by subscription or up front?",
    "I'd start by calling the five biggest auto-parts distributors I already know in Nuevo León.",
    "My manager would say I'm stubborn about forecasts and honest when a deal slips.",
    "What's the biggest thing holding back Kestrel sales to existing Tern customers?",
    "I like small teams where the numbers are visible to everyone every Monday.",
    "Outside work I coach my daughter's soccer team and fix old motorcycles.",
    "How will you decide between the final candidates, and when?",
    "I once lost a $2M deal because I never met the CFO; now I map every signer by week four.",
    "I want a role where Mexico is the main job, not a side project.",
    "What did the Series D change for the sales team?",
    "I'd like to send you a short plan for the first ninety days after this call, if that's useful.",
]


def candidate_line(i: int) -> str:
    """The i-th line of the script, cycling."""
    return CANDIDATE_LINES[i % len(CANDIDATE_LINES)]


INTERVIEWER_LINES = [
    "Thanks for coming in. So, tell me a bit about yourself.",
    "Walk me through your last role.",
    "What does a typical week look like for you right now?",
    "Fair enough. What are you looking for in your next job?",
    "I can't speak to that in detail. How would your last manager describe you?",
    "Why are you still looking, if your numbers were that good?",
    "What kind of team do you like working in?",
    "We're nearly out of time. Do you have any questions for me?",
]


def transcript_export(lines: list[str], company: str = COMPANY) -> dict[str, Any]:
    """A two-round session export: the interviewer speaks first, the candidate answers with `lines`."""
    half = (len(lines) + 1) // 2
    rounds = []
    for name, part in (("screen", lines[:half]), ("second", lines[half:])):
        turns = []
        for i, line in enumerate(part):
            turns.append({"role": "interviewer", "text": INTERVIEWER_LINES[i % len(INTERVIEWER_LINES)], "at": ""})
            turns.append({"role": "candidate", "text": line, "at": ""})
        rounds.append({"round": name, "turns": turns})
    return {"format": "pitchroom.session/1", "id": "bench-transcript", "role": "Regional Sales Director",
            "company": {"id": company, "name": "Northwind Robotics"}, "difficulty": "realistic",
            "status": "ended", "rounds": rounds}


def bench_settings(data_dir: Path, *, quick: bool, chroma_host: str | None = None,
                   chroma_port: int | None = None) -> Settings:
    """Settings over a fresh data folder; the model is the embedded default (SmolLM2 when quick)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PITCHROOM_DATABASE_URL", "CHROMA_HOST", "CHROMA_PORT")}
    env["PITCHROOM_DATA_DIR"] = str(data_dir)
    if chroma_host:
        env["CHROMA_HOST"], env["CHROMA_PORT"] = chroma_host, str(chroma_port)
    if not env.get("OPENAI_BASE_URL"):
        env["PITCHROOM_LOCAL_MODEL"] = str(local_model_path(quick))
    return Settings.from_env(env)


def local_model_path(quick: bool) -> Path:
    """SmolLM2 for --quick, else PITCHROOM_LOCAL_MODEL or the built-in default (assembled once, reused)."""
    from agent.local_model import default_model_path, smollm_path

    if quick:
        return smollm_path()
    if os.environ.get("PITCHROOM_LOCAL_MODEL"):
        return Path(os.environ["PITCHROOM_LOCAL_MODEL"])
    return default_model_path(Settings.from_env())  # the user's data dir: not a second 1.1 GB copy


def temp_dir(name: str) -> tempfile.TemporaryDirectory:
    """A scratch folder for one benchmark's database and Chroma."""
    return tempfile.TemporaryDirectory(prefix=f"pitchroom-bench-{name}-")


def machine_info(model: str) -> dict[str, Any]:
    """Where and when the figures were taken: noise on a shared box shows in load_avg."""
    return {
        "cores": os.cpu_count(), "memory_gb": round(_mem_total_kb() / 1048576, 1), "cpu": _cpu_model(),
        "platform": platform.platform(), "python": platform.python_version(), "model": model,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "load_avg_1m_at_start": round(os.getloadavg()[0], 2),
    }


def _mem_total_kb() -> int:
    try:
        with open("/proc/meminfo") as fh:
            return int(next(line for line in fh if line.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration, ValueError):
        return 0


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            return next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown"


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 20 samples is the 19th smallest)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    """The median, or 0.0 for no values."""
    return statistics.median(values) if values else 0.0


def write_result(name: str, result: dict[str, Any], headline: str, out_dir: Path | None = None) -> Path:
    """Write bench/results/<name>.json and print the one headline line."""
    folder = out_dir or Path(os.environ.get("PITCHROOM_BENCH_OUT") or RESULTS)  # tests write elsewhere
    folder.mkdir(parents=True, exist_ok=True)
    result = {"benchmark": name, "headline": headline, **result}
    path = folder / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{name}: {headline}", flush=True)
    return path


class RecordingModel:
    """Delegates to a real ChatModel; keeps the messages, usage and streamed piece count of every stream call."""

    def __init__(self, inner: ChatModel) -> None:
        self.inner, self.name = inner, inner.name
        self.calls: list[dict[str, Any]] = []

    def stream(self, messages: list[Message], *, max_tokens: int, temperature: float = 0.0,
               usage: Usage | None = None) -> Iterator[str]:
        """Record, then stream from the real model, counting pieces (one per token on llama.cpp)."""
        call = {"messages": [dict(m) for m in messages], "usage": usage if usage is not None else Usage(),
                "pieces": 0}
        self.calls.append(call)
        for piece in self.inner.stream(messages, max_tokens=max_tokens, temperature=temperature,
                                       usage=call["usage"]):
            call["pieces"] += 1
            yield piece

    def complete(self, messages: list[Message], *, max_tokens: int, temperature: float = 0.0):
        """Pass through."""
        return self.inner.complete(messages, max_tokens=max_tokens, temperature=temperature)

    def structured(self, messages: list[Message], schema, *, max_tokens: int):
        """Pass through."""
        return self.inner.structured(messages, schema, max_tokens=max_tokens)


def count_pieces(model: ChatModel, messages: list[Message], max_tokens: int) -> tuple[str, int]:
    """Stream a bare call to the end; return its text and how many pieces came."""
    text, n = [], 0
    for piece in model.stream(messages, max_tokens=max_tokens):
        text.append(piece)
        n += 1
    return "".join(text), n
