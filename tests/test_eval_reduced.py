"""A reduced public eval run: `pitchroom eval` on three public candidates with the real embedded default model.

It proves the whole path works offline (interviewer, critic, metrics, files); the thresholds are the
full run's job (README), so only ranges are checked here.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.config import ROOT, Settings
from agent.local_model import default_model_path

# Short ones, two verdicts: a pass, a one-word fail, and a fail that tries to instruct the interviewer and critic.
CANDIDATES = ["pushy-paula", "one-word-wes", "injector-ike"]
RATES = ["criteria_macro_f1", "verdict_accuracy", "applicability_accuracy", "stability", "persona_adherence",
         "grounding"]


def _command() -> list[str]:
    script = Path(sys.executable).parent / "pitchroom"
    return [str(script)] if script.exists() else [sys.executable, "-m", "agent.cli"]


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_reduced_public_run(tmp_path):
    model = default_model_path(Settings.from_env())  # assembled once in the usual data folder, then reused
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PITCHROOM_"))}
    env.update(PITCHROOM_DATA_DIR=str(tmp_path / "data"), PITCHROOM_LOCAL_MODEL=str(model))
    out = tmp_path / "out"
    paths = [str(ROOT / "evals" / "candidates" / f"{cid}.yaml") for cid in CANDIDATES]
    done = subprocess.run([*_command(), "eval", *paths, "--out", str(out)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=3500)
    assert done.returncode == 0, done.stderr[-3000:]

    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in records) == sorted(CANDIDATES)
    assert all(r["error"] is None and r["predicted"]["criteria"] for r in records), [r["error"] for r in records]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["candidates"] == 3 and summary["errors"] == 0
    assert "qwen" in summary["model"].lower()  # the embedded default, not an endpoint
    for key in RATES:
        assert 0.0 <= summary[key] <= 1.0, key
    assert -1.0 <= summary["cohen_kappa"] <= 1.0
    assert 0 < summary["turn_latency_p50_s"] <= summary["turn_latency_p95_s"]
    assert summary["prompt_tokens_mean"] > 0 and summary["prompt_tokens_source"] != "none"
    assert summary["injection_turns"] >= 2
    assert set(summary["per_criterion"]) >= {"closing", "follow_up", "key_points"}
    report = (out / "report.md").read_text()
    assert "## Confusion tables" in report and "## Per criterion" in report
