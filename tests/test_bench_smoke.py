"""CI checks that every benchmark runs end to end in a tiny mode and writes its headline figures.

Real parts throughout: SmolLM2 on the embedded llama.cpp server, Chroma (embedded and `chroma run`),
SQLite. Sizes are tiny, so the figures mean nothing here; `pitchroom bench` gives the real ones.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _scratch(tmp_path, monkeypatch):
    monkeypatch.setenv("PITCHROOM_DATA_DIR", str(tmp_path / "data"))  # embedding cache and the like
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("PITCHROOM_LOCAL_MODEL", raising=False)


def result(out: Path, name: str) -> dict:
    data = json.loads((out / f"{name}.json").read_text())
    assert data["benchmark"] == name and data["headline"]
    assert {"cores", "memory_gb", "model", "date"} <= data["machine"].keys()
    return data


def test_overhead(tmp_path):
    from bench import bench_overhead

    bench_overhead.run(quick=True, turns=2, out_dir=tmp_path)
    data = result(tmp_path, "overhead")
    assert data["overhead_ratio"] > 0 and len(data["turns"]) == 2
    assert all(t["same_prompt"] for t in data["turns"])  # the bare call really got Pitchroom's prompt


def test_first_token(tmp_path):
    from bench import bench_first_token

    bench_first_token.run(quick=True, turns=3, out_dir=tmp_path)
    data = result(tmp_path, "first_token")
    assert 0 < data["first_token_p50_s"] <= data["first_token_p95_s"]
    assert data["model_first_token_p50_s"] is not None


def test_context(tmp_path):
    from bench import bench_context

    bench_context.run(quick=True, checkpoints=(2, 3, 4), out_dir=tmp_path)
    data = result(tmp_path, "context")
    assert data["context_token_ratio"] > 0 and data["context_latency_ratio"] > 0
    assert set(data["checkpoints"]) == {"2", "3", "4"}


def test_retrieval(tmp_path):
    from bench import bench_retrieval

    bench_retrieval.run(sizes=(50, 270, 300), queries=10, out_dir=tmp_path)  # 270: a size below the largest
    data = result(tmp_path, "retrieval")
    assert set(data["query_p95_ms"]) == {"embedded", "server"}
    assert [r["embeddings_precomputed"] for r in data["rows"]] == [False, True, True] * 2


def test_critique(tmp_path):
    from bench import bench_critique

    bench_critique.run(quick=True, out_dir=tmp_path)
    data = result(tmp_path, "critique")
    assert data["critique_s"] > 0 and data["turns"] == 20 and data["rounds"] == 2


def test_eval_throughput(tmp_path):
    from bench import bench_eval_throughput

    bench_eval_throughput.run(quick=True, candidates=1, concurrency=(1, 2), out_dir=tmp_path)
    data = result(tmp_path, "eval_throughput")
    assert set(data["candidates_per_min"]) == {"1", "2"}
    assert all(level["errors"] == 0 for level in data["levels"].values()), data["levels"]


def test_the_cli_runs_a_benchmark_and_prints_one_line(tmp_path):
    env = {**os.environ, "PITCHROOM_BENCH_OUT": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "agent.cli", "bench", "overhead", "--quick"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert len(out.stdout.strip().splitlines()) == 1  # one line per benchmark
    assert out.stdout.startswith("overhead: overhead_ratio=")
    result(tmp_path, "overhead")


def test_an_unknown_benchmark_is_refused(capsys):
    import argparse

    from bench.run import main

    assert main(argparse.Namespace(name="nope", quick=True)) == 2
    err = capsys.readouterr().err
    assert "choose one of overhead, first_token, context, retrieval, critique, eval_throughput" in err
