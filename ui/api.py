"""The HTTP API (FastAPI) over the Pitchroom facade, with the Gradio UI mounted at `/`.

`pitchroom serve` runs it: resources under /api/v1, an OpenAI-compatible face under /v1,
OpenAPI at /openapi.json, docs at /docs. State lives in the database, so workers share sessions.
"""
from __future__ import annotations

import argparse
import importlib.util
import ipaddress
import logging
import sys
import threading
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline
from starlette.routing import Match, Mount

from agent.session import Pitchroom
from ui import api_openai, api_routes, api_talk
from ui.api_errors import (MAX_BODY_BYTES, BearerAuth, BodyLimit, install_error_handlers, is_protected,
                           reject_unknown_query)
from ui.api_routes import ModelGate

log = logging.getLogger("pitchroom.api")
QUEUE_WAIT = 900.0  # seconds a request may wait for a model slot (20 queued turns on 2 cores fit)
DESCRIPTION = """Rehearse a job interview with an AI hiring manager, then get it critiqued as a sales call.

* `/api/v1/...`: companies, sessions, messages (JSON or Server-Sent Events), critique, prep brief, follow-up.
* `/v1/...`: an OpenAI-compatible face; `model` is `hiring-manager/<pack-id>[/<round>[/<difficulty>]]`.
* With `PITCHROOM_API_KEY` set, every `/api` and `/v1` call needs `Authorization: Bearer <key>`.
* Errors are `{"error": {"type", "message"}}`.
"""


def create_app(app: Pitchroom | None = None, *, ui: bool = False, warm_model: bool = False,
               model_slots: int | None = None, max_body: int = MAX_BODY_BYTES) -> FastAPI:
    """The API over `app` (a new Pitchroom from the environment when None); `ui` mounts the web UI."""
    pitchroom = app or Pitchroom()
    key = pitchroom.settings.api_key
    slots = model_slots or (1 if pitchroom.settings.uses_local_model else 4)
    # FastAPIOffline serves the /docs and /redoc assets from the package: no CDN, works offline
    api = FastAPIOffline(title="Pitchroom API", version="1.0.0", description=DESCRIPTION,
                         lifespan=_lifespan(pitchroom, warm_model and not ui),  # the UI warms its own
                         dependencies=[Depends(reject_unknown_query)])
    api.state.pitchroom, api.state.gate = pitchroom, ModelGate(slots, QUEUE_WAIT)
    install_error_handlers(api)
    for module in (api_routes, api_talk, api_openai):
        api.include_router(module.router)
    api.add_middleware(BodyLimit, limit=max_body)
    if key:
        api.add_middleware(BearerAuth, key=key)  # added last: runs first, before the body is read
    api.openapi = lambda: _openapi(api, bool(key))
    if ui:
        _warm(pitchroom)  # before the UI's own warm-up thread: the facade's lazy openers are not thread-safe
        mount_ui(api, pitchroom, key)
    return api


def _lifespan(pitchroom: Pitchroom, warm_model: bool):
    @asynccontextmanager
    async def lifespan(_api: FastAPI):
        import anyio.to_thread

        # Streams hold a worker thread each while they wait for the model: allow plenty.
        anyio.to_thread.current_default_thread_limiter().total_tokens = 200
        await run_in_threadpool(_warm, pitchroom)
        if warm_model:
            threading.Thread(target=_start_model, args=(pitchroom,), daemon=True, name="model-warmup").start()
        yield
    return lifespan


def _warm(pitchroom: Pitchroom) -> None:
    """Open the database and Chroma once, before requests race to do it."""
    pitchroom.store  # noqa: B018 - creates the tables
    pitchroom.knowledge  # noqa: B018 - opening is the point


def _start_model(pitchroom: Pitchroom) -> None:
    try:
        log.info("Model ready: %s", pitchroom.model.name)
    except Exception as exc:  # requests will report it with a proper status; here it is only logged
        log.warning("The model did not start yet: %s", exc)


def _openapi(api: FastAPI, secured: bool) -> dict:
    if api.openapi_schema is None:
        schema = get_openapi(title=api.title, version=api.version, description=api.description, routes=api.routes)
        if secured:
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer", "description": "The PITCHROOM_API_KEY value."}}
            for path, ops in schema["paths"].items():
                for op in ops.values():
                    if is_protected(path):
                        op["security"] = [{"bearer": []}]
        api.openapi_schema = schema
    return api.openapi_schema


class _UIMount(Mount):
    """The UI at `/` that leaves /api and /v1 to the API, so their 404 and 405 stay JSON."""

    def matches(self, scope):  # noqa: ANN001, ANN201 - Starlette's signature
        if scope["type"] == "http" and is_protected(scope["path"]):
            return Match.NONE, {}
        return super().matches(scope)


def mount_ui(api: FastAPI, pitchroom: Pitchroom, key: str | None) -> bool:
    """Mount ui/web.py's Gradio app at `/` when it exists; the API works without it."""
    if importlib.util.find_spec("ui.web") is None:
        log.warning("ui/web.py is not there: serving the API only.")
        return False
    import gradio as gr

    from ui.web import build_ui

    # With a key set the page asks for it too (user `pitchroom`): the API key protects the whole server.
    gr.mount_gradio_app(api, build_ui(pitchroom), path="/", auth=("pitchroom", key) if key else None)
    routes = api.router.routes
    for i, route in enumerate(routes):
        if isinstance(route, Mount) and route.path == "" and not isinstance(route, _UIMount):
            routes[i] = _UIMount("/", app=route.app, name=route.name)
    return True


def serve_factory() -> FastAPI:
    """The app each uvicorn worker builds (`--workers` > 1)."""
    return create_app(ui=True, warm_model=True)


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses; hostnames other than localhost count as public."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(args: argparse.Namespace) -> int:
    """`pitchroom serve`: refuse a public bind without a key, then run uvicorn."""
    import uvicorn

    from agent.config import Settings

    settings = Settings.from_env()
    if not is_loopback(args.host) and not settings.api_key:
        print(f"Refusing to serve on {args.host} without an API key: anyone who can reach it could use it.\n"
              "Set PITCHROOM_API_KEY to a long random secret (clients send `Authorization: Bearer <key>`), "
              "or serve on --host 127.0.0.1.", file=sys.stderr)
        return 2
    if getattr(args, "share", False):
        print("--share is not available with `pitchroom serve`; use `pitchroom ui --share`.", file=sys.stderr)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    workers = max(1, int(getattr(args, "workers", 1) or 1))
    if workers > 1:
        if settings.uses_local_model:
            log.warning("%d workers each start their own embedded model; point OPENAI_BASE_URL at one shared "
                        "model server to share it.", workers)
        uvicorn.run("ui.api:serve_factory", factory=True, host=args.host, port=args.port, workers=workers)
    else:
        uvicorn.run(create_app(ui=True, warm_model=True), host=args.host, port=args.port)
    return 0
