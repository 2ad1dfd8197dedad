"""Request and response bodies of the HTTP API (the OpenAPI schema is generated from these)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.config import DIFFICULTIES, ROUNDS, Settings
from agent.packs import ID_RE, MAX_PACK_BYTES, Interviewer, Section

PACK_ID = ID_RE.pattern  # the pack id rule of agent/packs.py: never a path
SESSION_ID = r"^[0-9a-f]{32}$"
NOT_BLANK = r"\S"
Round = Literal[ROUNDS]
Difficulty = Literal[DIFFICULTIES]
MAX_MESSAGE_CHARS = Settings.model_fields["max_message_chars"].default


class Strict(BaseModel):
    """A request body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class ErrorDetail(BaseModel):
    """What went wrong and how to fix it."""

    type: str = Field(description="Machine-readable kind, e.g. not_found, conflict, validation_error.")
    message: str = Field(description="Human-readable message that says how to fix the problem.")


class ErrorBody(BaseModel):
    """Every error response has this shape."""

    error: ErrorDetail


class CompanySummary(BaseModel):
    """A company pack with the interviewer's public profile."""

    id: str = Field(description="Pack id (file name without .md).")
    name: str
    role: str = Field(description="The job being interviewed for.")
    interviewer: Interviewer


class CompanyDetail(CompanySummary):
    """A company pack with its research sections."""

    sections: list[Section]


class IngestStats(BaseModel):
    """How many chunks were embedded, kept unchanged and removed."""

    added: int
    kept: int
    removed: int


class CompanyAdded(BaseModel):
    """A pack that was validated, stored and ingested."""

    company: CompanyDetail
    stats: IngestStats


class CompanyUpload(Strict):
    """A pack sent as JSON: its file name (the id) and its Markdown text."""

    filename: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,80}\.md$", examples=["acme-corp.md"],
                          description="File name of the pack; its stem becomes the pack id.")
    text: str = Field(max_length=MAX_PACK_BYTES, description="Markdown with YAML front matter (see the README).")


class SessionCreate(Strict):
    """What a new interview session is about."""

    company: str = Field(pattern=PACK_ID, examples=["northwind-robotics"], description="Pack id.")
    role: str | None = Field(None, max_length=200, description="Job title; the pack's role when omitted.")
    round: Round = "screen"
    difficulty: Difficulty = "realistic"
    key_points: list[str] = Field(default_factory=list, max_length=10,
                                  description="Points the candidate means to convey (checked by the critic).")


class Turn(BaseModel):
    """One stored line of the interview."""

    round: int = Field(description="Round index, from 0.")
    idx: int = Field(description="Turn index within the round, from 0.")
    role: Literal["candidate", "interviewer"]
    text: str
    at: str = Field(description="ISO 8601 time it was stored.")


class RoundOut(BaseModel):
    """One round of a session with its turns."""

    idx: int
    name: Round
    started_at: str
    ended_at: str | None
    turns: list[Turn]


class SessionSummary(BaseModel):
    """A session without its turns."""

    id: str
    company_id: str
    company_name: str
    role: str
    difficulty: str
    status: Literal["active", "ended"]
    created_at: str
    updated_at: str
    model: str = Field(description="The model that plays the interviewer.")


class SessionDetail(SessionSummary):
    """A session with its key points, rounds and turns."""

    key_points: list[str]
    rounds: list[RoundOut]


class RoundCreate(Strict):
    """A later round of the same session."""

    round: Round


class MessageIn(Strict):
    """A candidate line."""

    text: str = Field(pattern=NOT_BLANK, max_length=MAX_MESSAGE_CHARS,
                      description="What the candidate says.")
    stream: bool = Field(False, description="Reply as Server-Sent Events (also when Accept: text/event-stream).")


class RetryIn(Strict):
    """Options of a retry."""

    stream: bool = False


class MessageOut(BaseModel):
    """The interviewer's reply, as stored."""

    reply: str
    turn: Turn


class NoteIn(Strict):
    """A follow-up note the candidate wrote."""

    note: str = Field(pattern=NOT_BLANK, max_length=8000)


class FollowUpDraft(BaseModel):
    """A drafted thank-you note."""

    note: str


SSE_DOC = ("Server-Sent Events when `stream` is true or the client sends `Accept: text/event-stream`: "
           "`token` events carry `{\"text\"}` pieces, a final `done` event carries the MessageOut JSON, "
           "an `error` event carries the error body.")
