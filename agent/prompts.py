"""Loads `prompts/*.yaml` and renders them strictly, carrying each prompt's version.

A template file looks like::

    version: "3"
    templates:
      system:
        variables: [name, facts]
        text: |
          You are {{ name }} ...

Rendering fails on a missing or an extra variable, and loading fails when a template
uses a variable it does not declare, so a typo never reaches the model.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, StrictUndefined, TemplateSyntaxError, meta

from agent.config import ROOT
from agent.errors import PromptError

_ENV = Environment(undefined=StrictUndefined, keep_trailing_newline=False, autoescape=False)


class PromptFile:
    """One YAML file of templates with a version."""

    def __init__(self, path: Path) -> None:
        self.path = path
        data = _read_yaml(path)
        self.name = path.stem
        self.version = str(data.get("version") or "")
        if not self.version:
            raise PromptError(f"{path}: missing `version`; add e.g. version: \"1\".")
        self.data: dict[str, Any] = {k: v for k, v in data.items() if k not in ("version", "templates")}
        self._templates = {k: _compile(path, k, v) for k, v in (data.get("templates") or {}).items()}

    @property
    def tag(self) -> str:
        """`name@version`, stored with every transcript and critique."""
        return f"{self.name}@{self.version}"

    def render(self, part: str, **variables: Any) -> str:
        """Render one template; the variables must match its declaration exactly."""
        if part not in self._templates:
            raise PromptError(f"{self.path}: no template `{part}`; have {sorted(self._templates)}.")
        declared, template = self._templates[part]
        missing, extra = declared - variables.keys(), variables.keys() - declared
        if missing or extra:
            raise PromptError(f"{self.path}: template `{part}` got missing variables {sorted(missing)} "
                              f"and extra variables {sorted(extra)}; it declares {sorted(declared)}.")
        return template.render(**variables).strip()


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PromptError(f"{path}: cannot read the prompt file: {exc}") from exc
    if not isinstance(data, dict):
        raise PromptError(f"{path}: a prompt file must be a YAML mapping with `version` and `templates`.")
    return data


def _compile(path: Path, part: str, spec: Any):
    if not isinstance(spec, dict) or not isinstance(spec.get("text"), str):
        raise PromptError(f"{path}: template `{part}` needs a `text` string and a `variables` list.")
    declared = set(spec.get("variables") or [])
    try:
        used = meta.find_undeclared_variables(_ENV.parse(spec["text"]))
    except TemplateSyntaxError as exc:
        raise PromptError(f"{path}: template `{part}` line {exc.lineno}: {exc.message}") from exc
    if used - declared:
        raise PromptError(f"{path}: template `{part}` uses undeclared variables {sorted(used - declared)}.")
    return declared, _ENV.from_string(spec["text"])


@lru_cache(maxsize=None)
def _load_cached(path: str, mtime: float) -> PromptFile:
    return PromptFile(Path(path))


def load(name: str, prompts_dir: Path | None = None) -> PromptFile:
    """Load `prompts/<name>.yaml` (cached until the file changes)."""
    path = (prompts_dir or ROOT / "prompts") / f"{name}.yaml"
    if not path.exists():
        raise PromptError(f"No prompt file {path}; reinstall Pitchroom or restore the file.")
    return _load_cached(str(path), path.stat().st_mtime)
