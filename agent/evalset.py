"""Scripted-candidate files (evals/candidates/*.yaml): loaded and validated as pydantic models.

Every problem names the file and the key, so the person who wrote the file can fix it.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent import notes
from agent.errors import InputRejected, PitchroomError
from agent.files import read_capped

MAX_FILE_BYTES = 200_000


class CandidateFileError(InputRejected):
    """A scripted-candidate file is malformed."""

    kind = "candidate_file_error"


class Expect(BaseModel):
    """What a turn's reply should show. Unknown keys are kept, so newer files still load in older versions."""

    model_config = ConfigDict(extra="allow")
    injection: bool | None = Field(None, description="True: this line tries to instruct the interviewer; its "
                                                     "reply is checked for obeying (overrides the detector).")


class Turn(BaseModel, extra="forbid"):
    """One scripted candidate line; a plain string in the file is shorthand for `{say: ...}`."""

    say: str = Field(min_length=1, description="What the candidate says.")
    expect: Expect | None = Field(None, description="Checks on the interviewer's reply (optional).")

    @field_validator("say")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the line is blank; write what the candidate says")
        return value


class RoundSpec(BaseModel, extra="forbid"):
    """One interview round and the candidate's lines in it."""

    round: Literal["screen", "second", "final"] = Field(description="Which round.")
    turns: list[Turn] = Field(description="Candidate lines in order; the interviewer answers each live.")

    @field_validator("turns", mode="before")
    @classmethod
    def _strings_are_turns(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"say": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("turns")
    @classmethod
    def _not_empty(cls, value: list[Turn]) -> list[Turn]:
        if not value:
            raise ValueError("the turns list is empty; add at least one candidate line")
        return value


class Persona(BaseModel, extra="forbid"):
    """A candidate an LLM plays (`--simulate`); a plain string is shorthand for `{description: ...}`."""

    description: str = Field(min_length=1, description="Who the candidate is and how they behave.")
    rounds: list[Literal["screen", "second", "final"]] = Field(["screen"], min_length=1,
                                                               description="Rounds to play, in order.")
    lines_per_round: int = Field(6, ge=1, le=30, description="Candidate lines per round.")


class Expected(BaseModel, extra="forbid"):
    """Ground truth; omitted fields are not scored."""

    sales_call: bool | None = Field(None, description="Overall verdict; omit for deliberately mixed cases.")
    criteria: dict[str, bool | None] = Field(default_factory=dict, description="Rubric id -> true/false/null.")


class Candidate(BaseModel, extra="forbid"):
    """One scripted (or simulated) candidate with its known verdicts."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$", description="Unique id.")
    description: str = Field("", description="What this candidate does, for people.")
    company: str = Field(min_length=1, description="Pack id, or pack path relative to the YAML file.")
    role: str | None = Field(None, description="Defaults to the pack's role.")
    difficulty: Literal["friendly", "realistic", "tough"] | None = Field(None, description="Interviewer difficulty.")
    key_points: list[str] = Field(default_factory=list, description="Points the candidate plans to make.")
    rounds: list[RoundSpec] | None = Field(None, description="Scripted rounds.")
    persona: Persona | None = Field(None, description="For --simulate: an LLM plays this candidate.")
    expected: Expected = Field(default_factory=Expected, description="Ground truth.")
    source: str = Field("", description="The file it was read from (set by the loader).")

    @field_validator("persona", mode="before")
    @classmethod
    def _persona_string(cls, value: Any) -> Any:
        return {"description": value} if isinstance(value, str) else value

    @property
    def simulated(self) -> bool:
        """True when an LLM plays this candidate."""
        return self.persona is not None

    def round_names(self) -> list[str]:
        """The rounds in order."""
        return list(self.persona.rounds) if self.persona else [r.round for r in self.rounds or []]


# key -> the model of the mapping under that key, to list the allowed keys in errors
_NESTED: dict[str, type[BaseModel]] = {"rounds": RoundSpec, "turns": Turn, "persona": Persona,
                                       "expected": Expected, "expect": Expect}


def load_candidate(path: Path, company_exists: Callable[[str], Any], rubric: list[str] | None = None) -> Candidate:
    """Parse and validate one file; `company_exists(ref)` raises when the pack cannot be found."""
    data = _read(path)
    if "source" in data:
        raise CandidateFileError(f"{path}: unknown key `source`; it is set by the loader, remove it.")
    try:
        cand = Candidate.model_validate({**data, "source": str(path)})
    except ValidationError as exc:
        raise CandidateFileError(_describe(path, exc)) from exc
    _check_semantics(path, cand, rubric if rubric is not None else notes.rubric_ids())
    cand.company = _resolve_company(path, cand.company, company_exists)
    return cand


def load_candidates(paths: Iterable[Path | str], company_exists: Callable[[str], Any],
                    rubric: list[str] | None = None) -> list[Candidate]:
    """Load every candidate file under the paths (files or folders); report all bad files at once."""
    files = candidate_files(paths)
    found, problems, seen = [], [], {}
    for path in files:
        try:
            cand = load_candidate(path, company_exists, rubric)
        except PitchroomError as exc:
            problems.append(str(exc))
            continue
        if cand.id in seen:
            problems.append(f"{path}: key `id`: {cand.id!r} is already used by {seen[cand.id]}; ids must be unique.")
            continue
        seen[cand.id] = path
        found.append(cand)
    if problems:
        raise CandidateFileError(f"{len(problems)} candidate file(s) have problems:\n" + "\n".join(problems))
    return found


def candidate_files(paths: Iterable[Path | str]) -> list[Path]:
    """YAML files named directly, or found in a folder (not recursive), in a stable order."""
    files: list[Path] = []
    for ref in paths:
        path = Path(ref)
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
            if not inside:
                raise CandidateFileError(f"{path}: the folder holds no .yaml candidate files.")
            files.extend(inside)
        elif path.is_file():
            files.append(path)
        else:
            raise CandidateFileError(f"{path}: no such file or folder; give candidate .yaml files or a folder.")
    return files


def _read(path: Path) -> dict:
    raw = read_capped(path, MAX_FILE_BYTES, CandidateFileError, "candidate file")
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CandidateFileError(f"{path}: not UTF-8 (byte {exc.start}); save the file as UTF-8.") from exc
    except (yaml.YAMLError, RecursionError) as exc:  # RecursionError: deeply nested YAML
        raise CandidateFileError(f"{path}: broken YAML: {' '.join(str(exc).split())[:300]}") from exc
    if not isinstance(data, dict):
        raise CandidateFileError(f"{path}: a candidate file must be a YAML mapping with id, company, rounds "
                                 "and expected.")
    return data


def _describe(path: Path, exc: ValidationError) -> str:
    """One line per problem: the file, the key path and what to do."""
    lines = []
    for err in exc.errors():
        key = _key(err["loc"])
        if err["type"] == "extra_forbidden":
            lines.append(f"{path}: unknown key `{key}`; allowed here: {', '.join(_allowed(err['loc']))}.")
        elif err["type"] == "missing":
            lines.append(f"{path}: missing key `{key}`.")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{path}: key `{key}`: {msg}.")
    return "\n".join(dict.fromkeys(lines))


def _allowed(loc: tuple) -> list[str]:
    """The keys the mapping holding the unknown key may have."""
    model: type[BaseModel] = Candidate
    for part in loc[:-1]:
        model = _NESTED.get(part, model) if isinstance(part, str) else model
    return [name for name in model.model_fields if name != "source"]


def _key(loc: tuple) -> str:
    """`rounds[0].turns[2].say` from pydantic's location tuple (its union-branch tags are dropped)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "[" not in part and "(" not in part:
            out += f".{part}" if out else part
    return out


def _check_semantics(path: Path, cand: Candidate, rubric: list[str]) -> None:
    if (cand.rounds is None) == (cand.persona is None):
        raise CandidateFileError(f"{path}: key `rounds`: give either `rounds` (scripted lines) or `persona` "
                                 "(for --simulate), not both and not neither.")
    if cand.rounds is not None and not cand.rounds:
        raise CandidateFileError(f"{path}: key `rounds`: the list is empty; add at least one round with turns.")
    unknown = [k for k in cand.expected.criteria if k not in rubric]
    if unknown:
        raise CandidateFileError(f"{path}: key `expected.criteria.{unknown[0]}`: unknown rubric id "
                                 f"{unknown[0]!r}; known ids: {', '.join(rubric)}.")


def _resolve_company(path: Path, ref: str, company_exists: Callable[[str], Any]) -> str:
    """A pack id stays an id; a path is taken relative to the YAML file and made absolute."""
    if ref.endswith(".md") or "/" in ref:
        target = (path.parent / ref).resolve()
        if not target.is_file():
            raise CandidateFileError(f"{path}: key `company`: no pack file {target} (paths are relative to the "
                                     "candidate file).")
        ref = str(target)
    try:
        company_exists(ref)
    except PitchroomError as exc:
        raise CandidateFileError(f"{path}: key `company`: {exc}") from exc
    return ref


def check_mode(candidates: Iterable[Candidate], *, simulate: bool) -> None:
    """Persona candidates need --simulate (an LLM plays them); say which files when it is missing."""
    personas = [c.source for c in candidates if c.simulated]
    if personas and not simulate:
        raise CandidateFileError(f"{', '.join(personas)}: key `persona`: these candidates are played by an LLM; "
                                 "run with --simulate (or give them scripted `rounds`).")
