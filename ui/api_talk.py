"""/api/v1 messages (JSON or Server-Sent Events), critique, prep brief and follow-up."""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sse_starlette import EventSourceResponse

from agent.errors import Conflict, InputRejected, NotFound, PitchroomError
from agent.packs import ID_RE
from agent.schemas import Critique, NoteCritique, PrepBrief
from agent.transcript import SessionExport, parse_export
from ui.api_errors import GENERIC_500, error_json, responses
from ui.api_models import SSE_DOC, FollowUpDraft, MessageIn, MessageOut, NoteIn, RetryIn
from ui.api_routes import CompanyId, Facade, ModelGate, SessionId, gate, turn_out

router = APIRouter(prefix="/api/v1")
log = logging.getLogger("pitchroom.api")
Gate = Annotated[ModelGate, Depends(gate)]
# Each event as schemathesis and SSE clients see it: an event name and its data line.
STREAM_DOC = {"responses": {"200": {"content": {"text/event-stream": {"schema": {
    "type": "object", "description": SSE_DOC, "required": ["data"],
    "properties": {"event": {"type": "string", "enum": ["token", "done", "error"]}, "data": {"type": "string"}}}}}}}}


def wants_stream(flag: bool, request: Request) -> bool:
    """Stream when asked in the body or by `Accept: text/event-stream`."""
    return flag or "text/event-stream" in request.headers.get("accept", "")


def message_out(app, sid: str, reply: str) -> MessageOut:
    """The reply with the turn it was stored as (the newest interviewer turn with that text)."""
    for row in reversed(app.store.turns(sid)):
        if row["role"] == "interviewer" and row["text"] == reply:
            return MessageOut(reply=reply, turn=turn_out(row))
    raise NotFound(f"The reply to session {sid} was not stored; fetch the session to see what was kept.")


def sse_reply(app, model_gate: ModelGate, sid: str, pieces: Callable[[], Iterator[str]]) -> EventSourceResponse:
    """Stream `token` events, then `done` with the stored turn, or `error` (the candidate line is kept)."""
    def events() -> Iterator[dict[str, str]]:
        parts: list[str] = []
        try:
            with model_gate.hold():
                for piece in pieces():
                    if piece:
                        parts.append(piece)
                        yield {"event": "token", "data": json.dumps({"text": piece})}
            yield {"event": "done", "data": message_out(app, sid, "".join(parts)).model_dump_json()}
        except PitchroomError as exc:
            yield {"event": "error", "data": json.dumps(error_json(exc.kind, str(exc)))}
        except Exception:  # headers are sent: the error can only travel as an event
            log.exception("Unhandled error while streaming session %s", sid)
            yield {"event": "error", "data": json.dumps(error_json("internal_error", GENERIC_500))}
    return EventSourceResponse(events(), ping=15)


def _check_open(app, sid: str) -> None:
    """Fail before streaming starts, so these errors keep their HTTP status."""
    if app.store.session(sid)["status"] == "ended":
        raise Conflict(f"Session {sid} has ended; open a new round (POST .../rounds) or start a new session.")


@router.post("/sessions/{session_id}/messages", response_model=MessageOut, tags=["messages"],
             responses=responses(404, 409), openapi_extra=STREAM_DOC)
def post_message(session_id: SessionId, body: MessageIn, request: Request, app: Facade, model_gate: Gate):
    """Say something to the interviewer; the reply comes whole or as Server-Sent Events."""
    if wants_stream(body.stream, request):
        _check_open(app, session_id)
        return sse_reply(app, model_gate, session_id, lambda: app.say(session_id, body.text))
    with model_gate.hold():
        reply = app.reply(session_id, body.text)
    return message_out(app, session_id, reply)


@router.post("/sessions/{session_id}/retry", response_model=MessageOut, tags=["messages"],
             responses=responses(404, 409), openapi_extra=STREAM_DOC)
def retry(session_id: SessionId, request: Request, app: Facade, model_gate: Gate, body: RetryIn | None = None):
    """Answer the last candidate line again (e.g. after the model was down)."""
    app.store.session(session_id)
    turns = app.store.turns(session_id, app.store.rounds(session_id)[-1]["idx"])
    if not turns or turns[-1]["role"] != "candidate":
        raise Conflict(f"Session {session_id} has no unanswered candidate line to retry.")
    if wants_stream(body.stream if body else False, request):
        return sse_reply(app, model_gate, session_id, lambda: app.retry(session_id))
    with model_gate.hold():
        reply = "".join(app.retry(session_id))
    return message_out(app, session_id, reply)


# --- after the interview ---------------------------------------------------------------------
@router.post("/sessions/{session_id}/critique", response_model=Critique, tags=["critique"],
             responses=responses(404))
def run_critique(session_id: SessionId, app: Facade, model_gate: Gate) -> Critique:
    """Judge the session as a sales call and store the critique."""
    app.store.session(session_id)
    with model_gate.hold():
        return app.critique(session_id)


@router.get("/sessions/{session_id}/critique", response_model=Critique, tags=["critique"], responses=responses(404))
def latest_critique(session_id: SessionId, app: Facade) -> Critique:
    """The newest stored critique of the session."""
    app.store.session(session_id)
    critique = app.latest_critique(session_id)
    if critique is None:
        raise NotFound(f"Session {session_id} has no critique yet; POST /api/v1/sessions/{session_id}/critique.")
    return critique


@router.post("/critique", response_model=Critique, tags=["critique"], responses=responses(404))
def critique_export(body: SessionExport, app: Facade, model_gate: Gate) -> Critique:
    """Judge a transcript recorded elsewhere, sent as a session export; nothing is stored."""
    export = parse_export(body.model_dump(), "request body")
    if not ID_RE.match(export.company.id):
        raise InputRejected("request body: field `company.id` must be a pack id (lowercase letters, digits, dashes).")
    with model_gate.hold():
        return app.critique_export(export)


@router.get("/companies/{company_id}/prep", response_model=PrepBrief, tags=["prep"], responses=responses(404))
def prep_brief(company_id: CompanyId, app: Facade,
               role: Annotated[str | None, Query(max_length=200)] = None) -> PrepBrief:
    """What to prepare before meeting this interviewer: points, doubts, questions, common ground."""
    return app.prep_brief(company_id, role)


@router.post("/sessions/{session_id}/follow-up/draft", response_model=FollowUpDraft, tags=["follow-up"],
             responses=responses(404))
def draft_follow_up(session_id: SessionId, app: Facade, model_gate: Gate) -> FollowUpDraft:
    """A thank-you note drafted from what was said in this session."""
    app.store.session(session_id)
    with model_gate.hold():
        return FollowUpDraft(note=app.follow_up_draft(session_id))


@router.post("/sessions/{session_id}/follow-up/check", response_model=NoteCritique, tags=["follow-up"],
             responses=responses(404))
def check_follow_up(session_id: SessionId, body: NoteIn, app: Facade) -> NoteCritique:
    """Critique a follow-up note the candidate wrote: prompt, specific, restates value, brief, not pushy."""
    return app.check_note(session_id, body.note)

