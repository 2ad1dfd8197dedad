"""The session export format: settings, prompt versions and rounds of turns; the critic's input."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from agent.errors import InputRejected
from agent.files import read_capped

FORMAT = "pitchroom.session/1"
MAX_EXPORT_BYTES = 5_000_000


class Turn(BaseModel, extra="forbid"):
    """One line said in the meeting."""

    role: Literal["candidate", "interviewer"] = Field(description="Who said it.")
    text: str = Field(description="What was said, verbatim.")
    at: str = Field("", description="ISO 8601 time it was stored.")


class Round(BaseModel, extra="forbid"):
    """One interview round."""

    round: Literal["screen", "second", "final"] = Field(description="Which round.")
    turns: list[Turn] = Field(description="Turns in order.")


class Company(BaseModel, extra="forbid"):
    """The pack the session ran against."""

    id: str = Field(description="Pack id.")
    name: str = Field(description="Company name.")


class SessionExport(BaseModel, extra="forbid"):
    """A whole session as JSON: what `pitchroom export` writes and the critic reads."""

    format: Literal["pitchroom.session/1"] = Field(FORMAT, description="Format tag.")
    id: str = Field(description="Session id.")
    company: Company = Field(description="Company pack.")
    role: str = Field(description="Job interviewed for.")
    difficulty: str = Field("realistic", description="Interviewer difficulty.")
    status: str = Field("ended", description="active or ended.")
    created_at: str = Field("", description="When the session started.")
    key_points: list[str] = Field(default_factory=list, description="Points the candidate meant to convey.")
    prompt_versions: dict[str, str] = Field(default_factory=dict, description="Prompt name -> version tag.")
    model: str = Field("", description="Model that played the interviewer.")
    rounds: list[Round] = Field(description="Rounds in order.")

    def candidate_turns(self) -> list[tuple[int, int, str]]:
        """(round index, turn index, text) of every candidate line."""
        return [(r, t, turn.text) for r, rnd in enumerate(self.rounds)
                for t, turn in enumerate(rnd.turns) if turn.role == "candidate"]


def load_export(path: Path) -> SessionExport:
    """Read and validate a session export file, naming the file and the first problem."""
    raw = read_capped(path, MAX_EXPORT_BYTES, InputRejected, "transcript")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:  # RecursionError: deep nesting
        raise InputRejected(f"{path}: not a JSON session export ({exc}). Export one with `pitchroom export ID`.") \
            from exc
    return parse_export(data, str(path))


def parse_export(data: object, source: str = "transcript") -> SessionExport:
    """Validate an export object; an empty transcript is an error too."""
    try:
        export = SessionExport.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise InputRejected(f"{source}: field `{field}`: {err['msg']}.") from exc
    if not export.candidate_turns():
        raise InputRejected(f"{source}: the transcript has no candidate turns; there is nothing to critique.")
    return export
