"""Coaching notes and the rubric, read from `knowledge/` as data."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from agent.config import ROOT
from agent.errors import ConfigError


@lru_cache(maxsize=None)
def load(name: str, knowledge_dir: Path = ROOT / "knowledge") -> dict:
    """Load `knowledge/<name>.yaml` (e.g. `rubric`, `notes/doubts`)."""
    path = knowledge_dir / f"{name}.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot load coaching data: {exc}. Restore the file from the repository.") \
            from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a YAML mapping.")
    return data


def doubt_questions() -> dict[str, str]:
    """Doubt id -> how a manager would put it into words."""
    return {d["id"]: d["how_it_sounds"] for d in load("notes/doubts")["doubts"]}


def rubric_ids() -> list[str]:
    """The rubric's criterion ids, in order."""
    return [c["id"] for c in load("rubric")["criteria"]]
