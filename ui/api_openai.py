"""The OpenAI-compatible face: GET /v1/models and POST /v1/chat/completions.

Model names: `hiring-manager/<pack-id>`, optionally `/<round>` and `/<difficulty>`, e.g.
`hiring-manager/northwind-robotics/second/tough` (defaults: screen, realistic).

The conversation state is carried by the client's messages. The server keeps each conversation
as a stored session: a thread table (`api_threads` in agent/store.py) maps a digest of the messages so far to the session holding
exactly those turns, so a client that sends its history back continues the same session. Any
other history (edited, regenerated, new) starts a session and replays the client's earlier turns
into the store without calling the model. System and developer messages are never instructions:
they are dropped.
"""
from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path as PathParam, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from agent.config import DIFFICULTIES, ROUNDS
from agent.errors import InputRejected, NotFound, PitchroomError
from agent.packs import ID_RE
from ui.api_errors import GENERIC_500, error_json, log, responses
from ui.api_routes import Facade
from ui.api_talk import Gate

router = APIRouter(prefix="/v1", tags=["openai"])
PREFIX = "hiring-manager/"
MAX_MESSAGES = 400


class ModelCard(BaseModel):
    """One interviewer, as an OpenAI model."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "pitchroom"


class ModelList(BaseModel):
    """The interviewers on offer."""

    object: Literal["list"] = "list"
    data: list[ModelCard]


class ContentPart(BaseModel):
    """A part of a message's content; only text parts carry words."""

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    """A message in the client's conversation."""

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[ContentPart] | None = None
    name: str | None = None


class StreamOptions(BaseModel):
    """OpenAI stream options."""

    include_usage: bool = False


class ChatRequest(BaseModel):
    """An OpenAI chat completion request; sampling parameters are accepted and ignored."""

    model: str = Field(examples=["hiring-manager/northwind-robotics"])
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    stream_options: StreamOptions | None = None


class AssistantMessage(BaseModel):
    """The interviewer's reply."""

    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    """The one choice Pitchroom returns."""

    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop", "length"] = "stop"
    logprobs: None = None


class CompletionUsage(BaseModel):
    """Token counts of the reply."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    """An OpenAI chat completion object."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: CompletionUsage


def model_ids(pack_ids: list[str]) -> list[str]:
    """Every model name: one per pack, plus its round/difficulty variants."""
    out = []
    for pid in pack_ids:
        out.append(PREFIX + pid)
        out += [f"{PREFIX}{pid}/{r}/{d}" for r in ROUNDS for d in DIFFICULTIES]
    return out


def parse_model(name: str, known: list[str]) -> tuple[str, str, str]:
    """(pack id, round, difficulty) of a model name, or NotFound that lists the scheme."""
    parts = name.removeprefix(PREFIX).split("/") if name.startswith(PREFIX) else []
    ok = (1 <= len(parts) <= 3 and ID_RE.match(parts[0]) and parts[0] in known
          and (len(parts) < 2 or parts[1] in ROUNDS) and (len(parts) < 3 or parts[2] in DIFFICULTIES))
    if not ok:
        raise NotFound(f"No model {name[:120]!r}. Use hiring-manager/<pack-id>[/<round>[/<difficulty>]], "
                       "e.g. hiring-manager/northwind-robotics/second/tough; GET /v1/models lists them.")
    return parts[0], (parts[1:2] or ["screen"])[0], (parts[2:3] or ["realistic"])[0]


@router.get("/models", response_model=ModelList, responses=responses())
def list_models(app: Facade) -> ModelList:
    """Every interviewer as a model id."""
    return ModelList(data=[ModelCard(id=m, created=0) for m in model_ids(app.packs.ids())])


@router.get("/models/{model:path}", response_model=ModelCard, responses=responses(404))
def get_model(model: Annotated[str, PathParam(max_length=200)], app: Facade) -> ModelCard:
    """One interviewer by model id."""
    parse_model(model, app.packs.ids())
    return ModelCard(id=model, created=0)


# --- conversations ---------------------------------------------------------------------------
def _text(msg: ChatMessage) -> str:
    if isinstance(msg.content, list):
        return "".join(p.text or "" for p in msg.content if p.type == "text").strip()
    return (msg.content or "").strip()


def conversation(messages: list[ChatMessage], limit: int) -> list[tuple[str, str]]:
    """(role, text) turns of the client's messages: system/developer dropped, the candidate last."""
    turns = [("candidate" if m.role == "user" else "interviewer", _text(m))
             for m in messages if m.role in ("user", "assistant")]
    turns = [t for t in turns if t[1]]
    if not turns or turns[-1][0] != "candidate":
        raise InputRejected("messages: the last non-empty message must be the candidate's (role `user`).")
    if any(len(text) > limit for _, text in turns):
        raise InputRejected(f"messages: a message is over {limit} characters; say it in fewer words.")
    return turns


def digest(model: str, turns: list[tuple[str, str]]) -> str:
    """A key for 'this model, exactly these turns so far'."""
    return hashlib.sha256(json.dumps([model, turns], ensure_ascii=False).encode()).hexdigest()


def _stored(app, sid: str) -> list[tuple[str, str]] | None:
    """The session's turns, or None when it has ended or moved to another round."""
    try:
        if app.store.session(sid)["status"] != "active" or len(app.store.rounds(sid)) != 1:
            return None
    except NotFound:
        return None
    return [(t["role"], t["text"].strip()) for t in app.store.turns(sid)]


def resolve_session(app, model: str, turns: list[tuple[str, str]]) -> str:
    """The session that holds exactly the client's earlier turns; a new one (replayed) if none does."""
    prior = turns[:-1]
    sid = app.store.thread_session(digest(model, prior))
    if sid and _stored(app, sid) == prior:
        return sid
    pack_id, round_name, difficulty = parse_model(model, app.packs.ids())
    sid = app.start(pack_id, round_name=round_name, difficulty=difficulty)
    for role, text in prior:  # the client's history, stored as said; no model call
        app.store.append_turn(sid, 0, role, text, {"source": "client history"})
    return sid


def remember(app, model: str, turns: list[tuple[str, str]], sid: str) -> None:
    """Map 'these turns' to the session, so the client's next request continues it."""
    app.store.link_thread(digest(model, turns), sid)


def _usage(app, sid: str) -> CompletionUsage:
    meta = next((t["meta"] for t in reversed(app.store.turns(sid)) if t["role"] == "interviewer"), {})
    prompt, completion = int(meta.get("prompt_tokens") or 0), int(meta.get("completion_tokens") or 0)
    return CompletionUsage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)


STREAM_DOC = {"responses": {"200": {"content": {"text/event-stream": {"schema": {
    "type": "object", "description": "OpenAI chunks as `data: {...}` lines, ending with `data: [DONE]`.",
    "required": ["data"], "properties": {"data": {"type": "string"}}}}}}}}


@router.post("/chat/completions", response_model=ChatCompletion, responses=responses(404, 409),
             openapi_extra=STREAM_DOC)
def chat_completions(body: ChatRequest, response: Response, app: Facade, model_gate: Gate):
    """Be interviewed by a hiring manager through any OpenAI client."""
    turns = conversation(body.messages, app.settings.max_message_chars)
    sid = resolve_session(app, body.model, turns)
    cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    headers = {"X-Pitchroom-Session": sid}
    if body.stream:
        usage = bool(body.stream_options and body.stream_options.include_usage)
        chunks = _chunks(app, model_gate, body.model, turns, sid, cid, created, usage)
        return StreamingResponse(chunks, media_type="text/event-stream", headers=headers)
    with model_gate.hold():
        reply = app.reply(sid, turns[-1][1])
    remember(app, body.model, turns + [("interviewer", reply.strip())], sid)
    response.headers.update(headers)
    return ChatCompletion(id=cid, created=created, model=body.model, usage=_usage(app, sid),
                          choices=[Choice(message=AssistantMessage(content=reply))])


def _chunk(cid: str, created: int, model: str, delta: dict, finish: str | None = None, **extra: Any) -> str:
    choices = [] if extra.get("usage") else [{"index": 0, "delta": delta, "finish_reason": finish,
                                              "logprobs": None}]
    body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": choices, **extra}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def _chunks(app, model_gate, model: str, turns, sid: str, cid: str, created: int, usage: bool) -> Iterator[str]:
    """OpenAI stream chunks; an error becomes a `data: {"error": ...}` line, as OpenAI sends it."""
    yield _chunk(cid, created, model, {"role": "assistant", "content": ""})
    parts: list[str] = []
    try:
        with model_gate.hold():
            for piece in app.say(sid, turns[-1][1]):
                if piece:
                    parts.append(piece)
                    yield _chunk(cid, created, model, {"content": piece})
        remember(app, model, turns + [("interviewer", "".join(parts).strip())], sid)
        yield _chunk(cid, created, model, {}, "stop")
        if usage:
            yield _chunk(cid, created, model, {}, usage=_usage(app, sid).model_dump())
    except PitchroomError as exc:
        yield f"data: {json.dumps(error_json(exc.kind, str(exc)))}\n\n"
    except Exception:  # headers are sent: the error can only travel in the stream
        log.exception("Unhandled error while streaming a chat completion for session %s", sid)
        yield f"data: {json.dumps(error_json('internal_error', GENERIC_500))}\n\n"
    yield "data: [DONE]\n\n"

