"""`pitchroom serve` as a real process: refusal to go public without a key, several workers sharing state."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from ui.api import is_loopback
from ui.api_server import free_port

ROOT = Path(__file__).resolve().parent.parent
KEY = "workers-key-0123456789abcdef"


def test_serve_refuses_a_public_host_without_a_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PITCHROOM_API_KEY"}
    env["PITCHROOM_DATA_DIR"] = str(tmp_path)
    run = subprocess.run([sys.executable, "-m", "agent.cli", "serve", "--host", "0.0.0.0", "--port",
                          str(free_port())], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "PITCHROOM_API_KEY" in run.stderr and "0.0.0.0" in run.stderr and "Traceback" not in run.stderr
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.org")


def test_workers_share_sessions_through_the_database(tmp_path):
    from agent.local_model import smollm_path

    port = free_port()
    env = {**os.environ, "PITCHROOM_DATA_DIR": str(tmp_path), "PITCHROOM_API_KEY": KEY,
           "PITCHROOM_LOCAL_MODEL": str(smollm_path()), "PITCHROOM_THREADS": "1"}
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "serve", "--port", str(port), "--workers", "2"],
                            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {KEY}"}
    try:
        _wait_until_up(url, proc)
        made = [requests.post(f"{url}/api/v1/sessions", json={"company": "harborline-health"}, headers=auth,
                              timeout=60).json()["id"] for _ in range(8)]
        # each request opens a new connection, so the two workers share the work
        assert all(requests.get(f"{url}/api/v1/sessions/{sid}", headers=auth, timeout=60).status_code == 200
                   for sid in made)
        listed = {s["id"] for s in requests.get(f"{url}/api/v1/sessions", headers=auth, timeout=60).json()}
        assert set(made) <= listed
        pids = set(re.findall(r"Started server process \[(\d+)\]", (tmp_path / "serve.log").read_text()))
        assert len(pids) == 2, pids
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()


def _wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "pitchroom serve exited early"
        try:
            if requests.get(url + "/openapi.json", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError("pitchroom serve did not come up")
