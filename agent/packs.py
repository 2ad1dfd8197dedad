"""Company research packs: Markdown with YAML front matter, parsed and validated."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError

from agent.errors import NotFound, PackError
from agent.files import read_capped

MAX_PACK_BYTES = 512_000
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")


class Interviewer(BaseModel):
    """The hiring manager's public profile, as a candidate would find it."""

    name: str = Field(min_length=1, description="Full name.")
    title: str = Field(min_length=1, description="Job title.")
    age: int = Field(ge=18, le=90, description="Age in years (usually younger than the candidate).")
    background: str = Field(min_length=1, description="Public background useful for small talk.")


class Section(BaseModel):
    """One `#` section of facts."""

    title: str = Field(description="The heading text.")
    text: str = Field(description="The facts under the heading.")


class Pack(BaseModel):
    """A parsed company research pack."""

    id: str = Field(description="File name without `.md`.")
    name: str = Field(min_length=1, description="Company name.")
    role: str = Field(min_length=1, description="The job being interviewed for.")
    interviewer: Interviewer = Field(description="Who runs the interview.")
    sections: list[Section] = Field(description="Facts by heading, in file order.")
    path: str = Field("", description="Where the pack was read from.")

    def section(self, title: str) -> str:
        """Text of the first section whose title contains `title` (case-insensitive), or ''."""
        return next((s.text for s in self.sections if title.lower() in s.title.lower()), "")

    def full_text(self) -> str:
        """All facts as one text, used for claim checks."""
        return "\n\n".join(f"# {s.title}\n{s.text}" for s in self.sections)


class _FrontMatter(BaseModel, extra="forbid"):
    name: str = Field(min_length=1)
    role: str = Field(min_length=1)
    interviewer: Interviewer


def parse_pack(path: Path, text: str | None = None) -> Pack:
    """Parse a pack file; every problem names the file and what to fix."""
    raw = _read(path) if text is None else _check_text(path, text)
    pack_id = path.stem.lower()
    if not ID_RE.match(pack_id):
        raise PackError(f"{path}: the file name must be a pack id of lowercase letters, digits and dashes.")
    match = re.match(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", raw, re.S)
    if not match:
        raise PackError(f"{path}: no YAML front matter; start the file with a `---` line, the fields "
                        "name/role/interviewer, and a closing `---` line.")
    try:
        front = yaml.safe_load(match.group(1))
    except (yaml.YAMLError, RecursionError) as exc:  # deeply nested YAML exhausts the parser's stack
        raise PackError(f"{path}: broken YAML front matter: {str(exc).splitlines()[0]}") from exc
    if not isinstance(front, dict):
        raise PackError(f"{path}: the front matter must be a YAML mapping with name, role and interviewer.")
    try:
        meta = _FrontMatter.model_validate(front)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise PackError(f"{path}: front matter field `{field}`: {err['msg']}") from exc
    sections = _sections(match.group(2))
    if not sections:
        raise PackError(f"{path}: no `# Heading` sections of facts after the front matter.")
    return Pack(id=pack_id, sections=sections, path=str(path), **meta.model_dump())


def _read(path: Path) -> str:
    data = read_capped(path, MAX_PACK_BYTES, PackError, "pack")
    if b"\x00" in data:
        raise PackError(f"{path}: looks binary (NUL bytes); a pack is a UTF-8 Markdown text file.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PackError(f"{path}: not UTF-8 (byte {exc.start}); save the file as UTF-8.") from exc


def _check_text(path: Path, text: str) -> str:
    """Pasted or uploaded pack text gets the same limits as a file."""
    try:  # strict: a lone surrogate (e.g. "\ud800" in a JSON upload) would fail later, half-way through the write
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise PackError(f"{path}: the text is not valid Unicode (position {exc.start}); save it as UTF-8.") from exc
    if size > MAX_PACK_BYTES:
        raise PackError(f"{path}: the pack is {size} bytes; the limit is {MAX_PACK_BYTES}. Trim it.")
    if "\x00" in text:
        raise PackError(f"{path}: looks binary (NUL bytes); a pack is a UTF-8 Markdown text file.")
    return text


def _sections(body: str) -> list[Section]:
    found, title, lines = [], None, []
    for line in body.splitlines():
        heading = re.match(r"^#{1,3}\s+(.+?)\s*$", line)
        if heading:
            if title and "\n".join(lines).strip():
                found.append(Section(title=title, text="\n".join(lines).strip()))
            title, lines = heading.group(1), []
        elif title:
            lines.append(line)
    if title and "\n".join(lines).strip():
        found.append(Section(title=title, text="\n".join(lines).strip()))
    return found


class PackLibrary:
    """Built-in packs plus the user's own, found by id or by path."""

    def __init__(self, builtin_dir: Path, user_dir: Path) -> None:
        self.builtin_dir, self.user_dir = builtin_dir, user_dir

    def ids(self) -> list[str]:
        """All pack ids, user packs overriding built-in ones."""
        files = {p.stem for d in (self.builtin_dir, self.user_dir) if d.exists() for p in d.glob("*.md")}
        return sorted(files)

    def path_of(self, ref: str) -> Path:
        """Resolve an id or a path to a pack file."""
        path = Path(ref).expanduser()
        if path.suffix == ".md" or "/" in ref:
            if not path.exists():
                raise NotFound(f"No pack file {path}.")
            return path
        for folder in (self.user_dir, self.builtin_dir):
            if (folder / f"{ref}.md").exists():
                return folder / f"{ref}.md"
        raise NotFound(f"No company pack {ref!r}; known: {', '.join(self.ids()) or 'none'}. "
                       "Add one with `pitchroom company add FILE`.")

    def get(self, ref: str) -> Pack:
        """Load a pack by id or path."""
        return parse_pack(self.path_of(ref))

    def add(self, source: Path, text: str | None = None) -> Pack:
        """Validate a pack and copy it into the user's folder."""
        pack = parse_pack(source, text)
        self.user_dir.mkdir(parents=True, exist_ok=True)
        dest = self.user_dir / f"{pack.id}.md"
        if text is not None:
            dest.write_text(text, encoding="utf-8")
        elif source.resolve() != dest.resolve():
            shutil.copyfile(source, dest)
        return pack.model_copy(update={"path": str(dest)})
