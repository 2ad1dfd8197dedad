"""Reading user files with a size cap, so every front door refuses the same way."""
from __future__ import annotations

from pathlib import Path

from agent.errors import PitchroomError


def read_capped(path: Path, limit: int, error: type[PitchroomError], what: str) -> bytes:
    """The file's bytes, or `error` naming the file when it is unreadable or over `limit` bytes."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc.strerror}.") from exc
    if len(raw) > limit:
        raise error(f"{path}: the {what} is {len(raw)} bytes; the limit is {limit}. Trim it.")
    return raw
