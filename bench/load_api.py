"""Load on the HTTP API: N concurrent sessions x T turns over Server-Sent Events, loopback only.

    python -m bench.load_api --sessions 20 --turns 5              # starts `pitchroom serve` (embedded default)
    python -m bench.load_api --url http://127.0.0.1:8080 --key K  # a server that is already running
    python -m bench.load_api --quick                              # the server on SmolLM2-135M

Checks that no request failed and no turn was lost (every session's export holds exactly the turns
sent and the replies received), then prints throughput and latency and writes bench/results/load_api.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import requests

from bench.common import COMPANY, candidate_line, local_model_path, machine_info, median, percentile, write_result
from ui.api import is_loopback
from ui.api_server import free_port


@dataclass
class SessionRun:
    """What one simulated candidate sent, got back, and how long each turn took."""

    sid: str = ""
    sent: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    latency: list[float] = field(default_factory=list)
    first_token: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Client:
    """The API seen from one load thread."""

    def __init__(self, url: str, key: str | None, deadline: float) -> None:
        self.url, self.deadline = url.rstrip("/"), deadline
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def left(self) -> float:
        """Seconds until the run's deadline (a request never outlives it)."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the run's --timeout passed")
        return left

    def post(self, path: str, body: dict | None = None, **kw) -> requests.Response:
        return requests.post(self.url + path, json=body, headers=self.headers, timeout=self.left(), **kw)

    def get(self, path: str) -> requests.Response:
        return requests.get(self.url + path, headers=self.headers, timeout=self.left())

    def turn(self, sid: str, text: str) -> tuple[str, float | None]:
        """Send one line, read the SSE reply; return (reply, seconds to first token)."""
        start, first = time.perf_counter(), None
        with self.post(f"/api/v1/sessions/{sid}/messages", {"text": text, "stream": True}, stream=True) as r:
            r.raise_for_status()
            event = ""
            for line in r.iter_lines(decode_unicode=True):
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data = json.loads(line[5:])
                    if event == "token" and first is None:
                        first = time.perf_counter() - start
                    elif event == "error":
                        raise RuntimeError(f"{data['error']['type']}: {data['error']['message'][:200]}")
                    elif event == "done":
                        return data["reply"], first
        raise RuntimeError("the stream ended without a done event")


def run_session(client: Client, index: int, turns: int) -> SessionRun:
    """One candidate: create a session, then `turns` lines in order."""
    run = SessionRun()
    try:
        r = client.post("/api/v1/sessions", {"company": COMPANY})
        r.raise_for_status()
        run.sid = r.json()["id"]
        for t in range(turns):
            text = candidate_line(index * turns + t)
            started = time.perf_counter()
            run.sent.append(text)
            reply, first = client.turn(run.sid, text)
            run.latency.append(time.perf_counter() - started)
            run.replies.append(reply)
            if first is not None:
                run.first_token.append(first)
    except Exception as exc:  # a failed request is a result here, counted and reported
        run.errors.append(f"{type(exc).__name__}: {str(exc)[:300]}")
    return run


def lost_turns(client: Client, run: SessionRun) -> int:
    """Lines sent and replies received that the export does not hold, verbatim and in order.

    A line whose reply failed may be stored on its own (it is kept before the model is called).
    """
    if not run.sid:
        return 0
    export = client.get(f"/api/v1/sessions/{run.sid}/export").json()
    stored = [(t["role"], t["text"]) for rnd in export["rounds"] for t in rnd["turns"]]
    expected = [pair for sent, reply in zip(run.sent, run.replies)
                for pair in (("candidate", sent), ("interviewer", reply))]
    lost = sum(1 for a, b in zip(stored, expected) if a != b) + max(0, len(expected) - len(stored))
    extra = stored[len(expected):]
    unanswered = [("candidate", run.sent[-1])] if len(run.sent) > len(run.replies) else []
    return lost + (0 if extra in ([], unanswered) else len(extra))


def load(url: str, key: str | None, sessions: int, turns: int, timeout: float) -> dict:
    """Warm up with one turn, then run every session at once; return the figures."""
    client = Client(url, key, time.monotonic() + timeout)
    warm = run_session(client, 999, 1)  # model start and caches: not counted
    if warm.errors:
        raise SystemExit(f"Warm-up failed: {warm.errors[0]}")
    model = client.get(f"/api/v1/sessions/{warm.sid}").json()["model"]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=sessions) as pool:
        runs = list(pool.map(lambda i: run_session(client, i, turns), range(sessions)))
    wall = time.perf_counter() - started
    latencies = [x for r in runs for x in r.latency]
    firsts = [x for r in runs for x in r.first_token]
    done = len(latencies)
    return {
        "url": url, "sessions": sessions, "turns_per_session": turns, "timeout_s": timeout,
        "turns_done": done, "failed_requests": sum(len(r.errors) for r in runs),
        "errors": [e for r in runs for e in r.errors][:10],
        "lost_turns": sum(lost_turns(client, r) for r in runs), "wall_s": round(wall, 2),
        "throughput_turns_per_s": round(done / wall, 4) if wall else 0.0,
        "latency_s": _stats(latencies), "first_token_s": _stats(firsts),
        "reply_words_median": median([len(x.split()) for r in runs for x in r.replies]),
        "machine": machine_info(model),
    }


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "max": 0.0}
    return {"p50": round(percentile(values, 50), 3), "p95": round(percentile(values, 95), 3),
            "max": round(max(values), 3)}


class LocalServe:
    """`pitchroom serve` in a subprocess on a free loopback port, over a scratch data folder."""

    def __init__(self, quick: bool) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="pitchroom-load-")
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("PITCHROOM_API_KEY", "PITCHROOM_DATABASE_URL")}
        env.update(PITCHROOM_DATA_DIR=self.tmp.name, TOKENIZERS_PARALLELISM="false")
        if not env.get("OPENAI_BASE_URL"):
            env["PITCHROOM_LOCAL_MODEL"] = str(local_model_path(quick))  # reuse the assembled model file
        self.log = Path(self.tmp.name) / "serve.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "serve", "--host", "127.0.0.1",
                                          "--port", str(self.port)], env=env, stdout=out, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"

    def wait(self, timeout: float = 300.0) -> "LocalServe":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"pitchroom serve exited ({self.proc.returncode}):\n{self.log.read_text()[-2000:]}")
            try:
                if requests.get(self.url + "/openapi.json", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.5)
        self.stop()
        raise SystemExit(f"pitchroom serve did not answer within {timeout:.0f}s.")

    def stop(self, keep_logs: bool = False) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        if keep_logs:  # the server's and the model's logs explain a failed run
            kept = Path(tempfile.mkdtemp(prefix="pitchroom-load-logs-"))
            for log in [self.log, *Path(self.tmp.name).glob("logs/*.log")]:
                shutil.copy(log, kept / log.name)
            print(f"Server logs kept in {kept}", file=sys.stderr)
        self.tmp.cleanup()


def main(argv: list[str] | None = None) -> int:
    """Run the load; exit 1 when a request failed or a turn was lost."""
    p = argparse.ArgumentParser(prog="python -m bench.load_api", description=__doc__.splitlines()[0])
    p.add_argument("--url", help="a running server (loopback only); default: start `pitchroom serve`")
    p.add_argument("--key", default=os.environ.get("PITCHROOM_API_KEY"), help="bearer key of that server")
    p.add_argument("--sessions", type=int, default=20, choices=range(1, 101), metavar="1..100")
    p.add_argument("--turns", type=int, default=5, choices=range(1, 51), metavar="1..50")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds for the whole run (hard bound)")
    p.add_argument("--quick", action="store_true", help="start the server on SmolLM2-135M")
    p.add_argument("--out", default="load_api", help="result name under bench/results/")
    args = p.parse_args(argv)
    if args.url and not is_loopback(urlparse(args.url).hostname or ""):
        print(f"Refusing {args.url}: the load script only targets loopback servers.", file=sys.stderr)
        return 2
    server = None if args.url else LocalServe(args.quick).wait()
    result: dict = {}
    try:
        result = load(args.url or server.url, args.key, args.sessions, args.turns, args.timeout)
        # the embedded server never runs llama.cpp's RAM prompt cache (agent/local_model.py says why)
        result["server_prompt_cache"] = "external" if args.url else "off"
    finally:
        if server:
            server.stop(keep_logs=not result or bool(result["failed_requests"] or result["lost_turns"]))
    lat = result["latency_s"]
    headline = (f"{result['turns_done']}/{args.sessions * args.turns} turns, {result['failed_requests']} failed, "
                f"{result['lost_turns']} lost; {result['throughput_turns_per_s']} turns/s; latency p50 "
                f"{lat['p50']}s p95 {lat['p95']}s; first token p50 {result['first_token_s']['p50']}s "
                f"({result['machine']['model']})")
    write_result(args.out, result, headline)
    return 0 if result["failed_requests"] == 0 and result["lost_turns"] == 0 else 1


if __name__ == "__main__":
    threading.current_thread().name = "load"
    sys.exit(main())
