"""One error shape for the whole API, a body-size limit and bearer auth (pure ASGI, outermost)."""
from __future__ import annotations

import hmac
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent.errors import PitchroomError
from ui.api_models import ErrorBody

log = logging.getLogger("pitchroom.api")

MAX_BODY_BYTES = 1_000_000
PROTECTED_PREFIXES = ("/api", "/v1")
HTTP_KINDS = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
              409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type", 422: "validation_error",
              500: "internal_error", 503: "unavailable"}
GENERIC_500 = "Something went wrong on the server; the details were logged. Retry, or report the time of the request."


def error_json(kind: str, message: str) -> dict[str, Any]:
    """The error body every failure uses."""
    return {"error": {"type": kind, "message": message}}


def error_response(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON error response."""
    return JSONResponse(error_json(kind, message), status_code=status, headers=headers)


def _doc(status: int, text: str) -> dict[str, Any]:
    return {status: {"model": ErrorBody, "description": text}}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI error responses: the common ones plus the route's own (404, 409, 415)."""
    docs = {400: "Malformed request (e.g. a body that is not JSON).",
            401: "Missing or wrong `Authorization: Bearer` key (only when PITCHROOM_API_KEY is set).",
            404: "No such session, company, critique or model.",
            409: "The request does not fit the session's state (e.g. it has ended).",
            413: f"The request body is over {MAX_BODY_BYTES} bytes.",
            415: "Unsupported Content-Type.",
            422: "The request is invalid: a field, a pack or a transcript breaks a rule.",
            500: "Unexpected server error; nothing about it is in the response.",
            503: "The model backend or the database is unavailable; retry later."}
    out: dict[int | str, dict[str, Any]] = {}
    for status in (400, 401, 413, 422, 500, 503, *statuses):
        out.update(_doc(status, docs[status]))
    return out


def _validation_message(errors: list[dict[str, Any]]) -> tuple[int, str, str]:
    if any(e.get("type") == "json_invalid" for e in errors):
        return 400, "bad_request", "The request body is not valid JSON."
    parts = []
    for err in errors[:3]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "request"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return 422, "validation_error", "; ".join(parts) + more + ". Fix the field(s) named and resend."


def install_error_handlers(app: FastAPI) -> None:
    """Map every failure to `{"error": {"type", "message"}}` with the right status."""

    @app.exception_handler(PitchroomError)
    async def _pitchroom(request: Request, exc: PitchroomError) -> JSONResponse:
        if exc.status >= 500:
            log.warning("%s on %s %s: %s", exc.kind, request.method, request.url.path, exc)
        return error_response(exc.status, exc.kind, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, kind, message = _validation_message(list(exc.errors()))
        return error_response(status, kind, message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = HTTP_KINDS.get(exc.status_code, "http_error")
        return error_response(exc.status_code, kind, str(exc.detail), dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.error("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(500, "internal_error", GENERIC_500)


def reject_unknown_query(request: Request) -> None:
    """A query parameter the route does not know is an error (a typo must not be silently ignored)."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    known = {p.alias for p in dependant.query_params} if dependant else set()  # routes declare them directly
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise RequestValidationError([{"type": "extra_forbidden", "loc": ("query", unknown[0][:40]),
                                       "msg": "Unknown query parameter"}])


def is_protected(path: str) -> bool:
    """True for API paths that need the bearer key (the schema and docs stay open)."""
    return any(path == p or path.startswith(p + "/") for p in PROTECTED_PREFIXES)


class BearerAuth:
    """Require `Authorization: Bearer <key>` on /api and /v1; compare in constant time."""

    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app, self._key = app, key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_protected(scope["path"]) and not self._ok(scope):
            response = error_response(401, "unauthorized", "Send the API key as `Authorization: Bearer <key>` "
                                      "(the value of PITCHROOM_API_KEY on the server).",
                                      {"WWW-Authenticate": "Bearer"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _ok(self, scope: Scope) -> bool:
        header = dict(scope["headers"]).get(b"authorization", b"")
        scheme, _, token = header.partition(b" ")
        # compare_digest runs in time independent of where the strings differ
        return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self._key)


class BodyLimit:
    """Answer 413 before parsing when a body is over the limit (declared or streamed)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await error_response(400, "bad_request", "Invalid Content-Length header.")(scope, receive, send)
            elif int(declared) > self.limit:
                await self._too_large(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        await self._buffered(scope, receive, send)

    async def _buffered(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A chunked body: read it up to the limit, then hand it on whole."""
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                await self._too_large(scope, receive, send)
                return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(413, "payload_too_large", f"The request body is over the {self.limit}-byte limit. "
                             "Send a smaller pack or transcript.", {"Connection": "close"})(scope, receive, send)
