"""Run an ASGI app with uvicorn in a background thread on a loopback port (tests and benchmarks)."""
from __future__ import annotations

import threading
import time

import uvicorn

from agent.local_model import free_port


class BackgroundServer:
    """A real uvicorn server on 127.0.0.1 in a daemon thread; use as a context manager."""

    def __init__(self, app, port: int | None = None) -> None:
        self.port = port or free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on",
                                timeout_graceful_shutdown=5)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name=f"uvicorn-{self.port}")

    @property
    def url(self) -> str:
        """Base URL, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "BackgroundServer":
        """Start and wait until the server accepts requests."""
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"The API server on port {self.port} did not start.")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Ask the server to exit and wait for it."""
        self.server.should_exit = True
        self.thread.join(timeout=15)

    def __enter__(self) -> "BackgroundServer":
        """Start on entering a with-block."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop on leaving it."""
        self.stop()
