"""Start the interviewer model in the background at launch and report its state to the page."""
from __future__ import annotations

import logging
import threading
import time

from agent.errors import PitchroomError
from agent.session import Pitchroom
from ui.web_render import e

log = logging.getLogger(__name__)


class Warmup:
    """Opens the model, the knowledge base and the store in a thread so the page is usable at once."""

    def __init__(self, app: Pitchroom) -> None:
        self.app = app
        self.state, self.step, self.error = "idle", "", ""
        self.started = self.finished = 0.0
        self._thread: threading.Thread | None = None
        self._done = threading.Event()

    def start(self) -> "Warmup":
        """Launch the background thread (once)."""
        if self._thread is None:
            self.state, self.started = "starting", time.monotonic()
            self._thread = threading.Thread(target=self._run, name="pitchroom-warmup", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.step = "Opening your session history"
            _ = self.app.store
            self.step = f"Starting the interviewer model ({self.app.model_label()})"
            _ = self.app.model  # the embedded llama.cpp server starts here
            self.step = "Loading the company knowledge base"
            _ = self.app.knowledge
            self.state = "ready"
        except PitchroomError as exc:
            self.state, self.error = "failed", str(exc)
        except Exception as exc:  # a crash here must reach the page as text, not kill the UI
            log.exception("warm-up failed")
            self.state, self.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            self.finished = time.monotonic()
            self._done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the warm-up ends; True when it ended."""
        return self._done.wait(timeout)

    @property
    def done(self) -> bool:
        """True once the warm-up succeeded or failed."""
        return self._done.is_set()

    def seconds(self) -> float:
        """Seconds spent so far (or in total, once done)."""
        end = self.finished if self.done else time.monotonic()
        return max(0.0, end - self.started) if self.started else 0.0

    def html(self) -> str:
        """A status pill for the page header."""
        if self.state == "ready":
            name = getattr(self.app.model, "name", "model")
            return (f'<div class="pr-status ready" id="pr-status">● Interviewer ready <span>{e(name)} · '
                    f"started in {self.seconds():.0f} s</span></div>")
        if self.state == "failed":
            return (f'<div class="pr-status failed" id="pr-status">● The interviewer model could not start'
                    f"<span>{e(self.error)}</span></div>")
        if self.state == "idle":
            return '<div class="pr-status" id="pr-status">● Model starts on first use</div>'
        return (f'<div class="pr-status starting" id="pr-status"><span class="pr-spin"></span>{e(self.step)}… '
                f"<span>{self.seconds():.0f} s — you can set up and prepare meanwhile</span></div>")
