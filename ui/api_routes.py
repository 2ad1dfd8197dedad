"""/api/v1 companies and sessions: thin calls into the Pitchroom facade."""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Iterator

from fastapi import APIRouter, Depends, Path as PathParam, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from agent.errors import InputRejected, ModelUnavailable, PackError
from agent.packs import MAX_PACK_BYTES, Pack
from agent.session import Pitchroom
from agent.transcript import SessionExport
from ui.api_errors import responses
from ui.api_models import (PACK_ID, SESSION_ID, CompanyAdded, CompanyDetail, CompanySummary, CompanyUpload,
                           IngestStats, RoundCreate, RoundOut, SessionCreate, SessionDetail, SessionSummary, Turn)

router = APIRouter(prefix="/api/v1")
CompanyId = Annotated[str, PathParam(pattern=PACK_ID, description="Pack id.")]
SessionId = Annotated[str, PathParam(pattern=SESSION_ID, description="Session id (32 hex digits).")]


def pitchroom(request: Request) -> Pitchroom:
    """The facade this server wraps."""
    return request.app.state.pitchroom


Facade = Annotated[Pitchroom, Depends(pitchroom)]


class ModelGate:
    """At most `slots` model-bound requests at once; the rest wait in line, up to `wait` seconds.

    One local llama.cpp server answers one request at a time; queueing here (not there) keeps the
    model call's own timeout for the generation itself.
    """

    def __init__(self, slots: int, wait: float) -> None:
        self.slots, self.wait = slots, wait
        self._sem = threading.BoundedSemaphore(slots)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Wait for a free slot, or raise ModelUnavailable after `wait` seconds."""
        if not self._sem.acquire(timeout=self.wait):
            raise ModelUnavailable(f"All {self.slots} model slot(s) stayed busy for {self.wait:.0f}s; retry later.")
        try:
            yield
        finally:
            self._sem.release()


def gate(request: Request) -> ModelGate:
    """The server's model gate."""
    return request.app.state.gate


# --- companies -------------------------------------------------------------------------------
def company_summary(pack: Pack) -> CompanySummary:
    """A pack's public face."""
    return CompanySummary(id=pack.id, name=pack.name, role=pack.role, interviewer=pack.interviewer)


def company_detail(pack: Pack) -> CompanyDetail:
    """A pack with its sections."""
    return CompanyDetail(**company_summary(pack).model_dump(), sections=pack.sections)


@router.get("/companies", response_model=list[CompanySummary], tags=["companies"], responses=responses())
def list_companies(app: Facade) -> list[CompanySummary]:
    """Every company pack, built-in and added."""
    return [company_summary(p) for p in app.companies()]


@router.get("/companies/{company_id}", response_model=CompanyDetail, tags=["companies"], responses=responses(404))
def show_company(company_id: CompanyId, app: Facade) -> CompanyDetail:
    """One pack with its research sections."""
    return company_detail(app.packs.get(company_id))


UPLOAD_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": CompanyUpload.model_json_schema()},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "The pack file, e.g. acme-corp.md."}}}}}}}


@router.post("/companies", status_code=201, response_model=CompanyAdded, tags=["companies"],
             responses=responses(415), openapi_extra=UPLOAD_BODY)
async def add_company(request: Request, app: Facade) -> CompanyAdded:
    """Validate, store and ingest a pack sent as JSON {filename, text} or as a multipart `file`."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        name, text = await _from_form(request)
    elif ctype == "application/json" or ctype.endswith("+json"):
        name, text = await _from_json(request)
    else:
        raise _UnsupportedMedia()
    pack, stats = await run_in_threadpool(app.add_company, Path(name), text)
    return CompanyAdded(company=company_detail(pack), stats=IngestStats(**stats))


class _UnsupportedMedia(InputRejected):
    kind, status = "unsupported_media_type", 415

    def __init__(self) -> None:
        super().__init__("Send the pack as application/json {filename, text} or as multipart/form-data `file`.")


async def _from_json(request: Request) -> tuple[str, str]:
    try:
        data = json.loads(await request.body())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": str(exc)}]) from exc
    try:
        body = CompanyUpload.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from exc
    return body.filename, body.text


async def _from_form(request: Request) -> tuple[str, str]:
    form = await request.form(max_files=1, max_fields=4)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InputRejected("Send the pack as a multipart file field named `file`.")
    data = await upload.read(MAX_PACK_BYTES + 1)
    name = Path(upload.filename or "").name
    if len(data) > MAX_PACK_BYTES:
        raise PackError(f"{name}: the pack is over {MAX_PACK_BYTES} bytes. Trim it.")
    if b"\x00" in data:
        raise PackError(f"{name}: looks binary (NUL bytes); a pack is a UTF-8 Markdown text file.")
    try:
        return name, data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PackError(f"{name}: not UTF-8 (byte {exc.start}); save the file as UTF-8.") from exc


# --- sessions --------------------------------------------------------------------------------
def turn_out(row: dict[str, Any]) -> Turn:
    """A stored turn without its internal metadata (plan, facts)."""
    return Turn(round=row["round_idx"], idx=row["idx"], role=row["role"], text=row["text"], at=row["at"])


def session_summary(row: dict[str, Any]) -> SessionSummary:
    """A session row's public fields."""
    return SessionSummary(**{k: row[k] for k in SessionSummary.model_fields})


def session_detail(app: Pitchroom, sid: str) -> SessionDetail:
    """A session with its rounds and turns, read from the store."""
    row = app.store.session(sid)
    turns = app.store.turns(sid)
    rounds = [RoundOut(idx=r["idx"], name=r["name"], started_at=r["started_at"], ended_at=r["ended_at"],
                       turns=[turn_out(t) for t in turns if t["round_idx"] == r["idx"]])
              for r in app.store.rounds(sid)]
    return SessionDetail(**session_summary(row).model_dump(), key_points=row["key_points"], rounds=rounds)


@router.post("/sessions", status_code=201, response_model=SessionDetail, tags=["sessions"], responses=responses(404))
def create_session(body: SessionCreate, app: Facade) -> SessionDetail:
    """Start an interview against a company pack."""
    sid = app.start(body.company, role=body.role, round_name=body.round, difficulty=body.difficulty,
                    key_points=body.key_points)
    return session_detail(app, sid)


@router.get("/sessions", response_model=list[SessionSummary], tags=["sessions"], responses=responses())
def list_sessions(app: Facade, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[SessionSummary]:
    """Newest sessions first."""
    return [session_summary(s) for s in app.store.list_sessions(limit)]


@router.get("/sessions/{session_id}", response_model=SessionDetail, tags=["sessions"], responses=responses(404))
def get_session(session_id: SessionId, app: Facade) -> SessionDetail:
    """A session with every round and turn."""
    return session_detail(app, session_id)


@router.get("/sessions/{session_id}/export", response_model=SessionExport, tags=["sessions"],
            responses=responses(404))
def export_session(session_id: SessionId, app: Facade) -> SessionExport:
    """The session in the export format (what `pitchroom export` writes and the critic reads)."""
    return app.export(session_id)


@router.post("/sessions/{session_id}/end", response_model=SessionDetail, tags=["sessions"], responses=responses(404))
def end_session(session_id: SessionId, app: Facade) -> SessionDetail:
    """End the interview (ending twice is harmless)."""
    app.end(session_id)
    return session_detail(app, session_id)


@router.post("/sessions/{session_id}/rounds", status_code=201, response_model=SessionDetail, tags=["sessions"],
             responses=responses(404))
def next_round(session_id: SessionId, body: RoundCreate, app: Facade) -> SessionDetail:
    """Open a later round; the interviewer hears a summary of the earlier ones."""
    app.next_round(session_id, body.round)
    return session_detail(app, session_id)
