"""Property-based run of schemathesis against /openapi.json of a live server (scripted model, real stores).

Every operation gets up to MAX_EXAMPLES generated requests, valid and invalid; session ids are drawn
both at random (404) and from real seeded sessions, so the message, critique and follow-up paths run.
"""
from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.config import Settings
from agent.session import Pitchroom
from agent.testing import ScriptedModel
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               response_headers_conformance, response_schema_conformance,
                                               status_code_conformance)
from ui.api import create_app
from ui.api_server import BackgroundServer

KEY = "schemathesis-key-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}
MAX_EXAMPLES = 25
LINES = ["Hi Jordan, thanks for having me.",
         "I ran dispatch at a regional carrier and brought manual touches per load from 4.1 to 2.3 by automating "
         "tendering.",
         "How is the touchless load working group doing against its 2.0 goal?"]
NOTE = ("Dear Jordan,\n\nThank you for the conversation today. It was good to hear how the touchless load working "
        "group is moving toward 2.0 manual touches per load.\n\nAt the carrier I brought touches down from 4.1 to "
        "2.3 by automating tendering, and I would bring that same approach to your automation work.\n\n"
        "Best regards,\nSam")
# Schema-valid requests the API must still refuse for what the schema cannot say (a pack that does not
# parse, a transcript without candidate lines, a history that does not end with the candidate's line).
SEMANTIC_422 = {"POST /api/v1/companies", "POST /api/v1/critique", "POST /v1/chat/completions"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, negative_data_rejection]


def scripted(messages: list[dict]) -> object:
    """One scripted answer for every kind of model call, told apart by the prompt it was sent."""
    text = " ".join(m["content"] for m in messages)
    if "<session_notes>" in text:  # the coach's data block: a follow-up draft
        return NOTE
    if messages[0]["role"] == "system" and "interview coach" in messages[0]["content"]:  # the critic's judge
        return {"answer": True, "quote": ""}
    return "Thanks. What would you change in your first ninety days?"


@pytest.fixture(scope="module")
def live_api(tmp_path_factory, shared_kb):
    env = {"PITCHROOM_DATA_DIR": str(tmp_path_factory.mktemp("schemathesis")), "PITCHROOM_API_KEY": KEY}
    app = Pitchroom(Settings.from_env(env), model=ScriptedModel(*[scripted] * 100_000), knowledge=shared_kb)
    with BackgroundServer(create_app(app)) as server:
        yield server, seed_sessions(server.url), app


def seed_sessions(url: str) -> list[str]:
    """Two sessions with real turns (one ended), so generated requests can reach them."""
    sids = []
    for end in (False, True):
        r = requests.post(f"{url}/api/v1/sessions", json={"company": "lumen-freight"}, headers=AUTH, timeout=30)
        sid = r.json()["id"]
        for line in LINES:
            requests.post(f"{url}/api/v1/sessions/{sid}/messages", json={"text": line}, headers=AUTH, timeout=30)
        if end:
            requests.post(f"{url}/api/v1/sessions/{sid}/end", headers=AUTH, timeout=30)
        sids.append(sid)
    return sids


def operation_labels() -> list[str]:
    """`METHOD /path` of every operation, read from the app's own schema (no server needed)."""
    paths = create_app(Pitchroom(Settings.from_env({"PITCHROOM_DATA_DIR": "/nonexistent"}))).openapi()["paths"]
    return [f"{method.upper()} {path}" for path, ops in paths.items() for method in ops]


@pytest.fixture(scope="module")
def live_schema(live_api):
    server = live_api[0]
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json")


def cases(operation, sessions: list[str]):
    """Valid and invalid requests; valid ones target a random or a real session."""
    def real_or_random(case):
        if "session_id" not in (case.path_parameters or {}):
            return st.just(case)
        return st.sampled_from([None, *sessions]).map(lambda sid: _with_session(case, sid))
    return st.one_of(operation.as_strategy(GenerationMode.POSITIVE).flatmap(real_or_random),
                     operation.as_strategy(GenerationMode.NEGATIVE))


def _with_session(case, sid: str | None):
    if sid is not None:
        case.path_parameters = {**case.path_parameters, "session_id": sid}
    return case


@pytest.mark.timeout(600)
@pytest.mark.parametrize("label", operation_labels())
def test_operation_conforms_to_its_schema(label, live_api, live_schema):
    operation = live_schema.find_operation_by_label(label)
    checks = CHECKS if label in SEMANTIC_422 else [*CHECKS, _positive_accepted]

    @given(case=cases(operation, live_api[1]))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        case.call_and_validate(headers=AUTH, checks=checks, timeout=60)

    run()


def _positive_accepted(ctx, response, case) -> bool | None:
    """A schema-valid request is never refused as invalid (400/422) unless its meaning is checked elsewhere."""
    if case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE:
        assert response.status_code not in (400, 422), f"valid request refused: {response.text[:300]}"
    return None


def test_the_run_reached_real_sessions_and_the_model(live_api):
    """Runs after the operations above: generated requests got past validation into real sessions."""
    _, sessions, app = live_api
    methods = {call.method for call in app.model.calls}
    assert {"stream", "complete"} <= methods, methods  # interviewer turns and follow-up drafts
    # generated messages were stored in real sessions (which seeded session a draw hits varies with its id)
    assert sum(len(app.store.turns(s)) for s in sessions) > 2 * len(LINES) * len(sessions)
    assert app.latest_critique(sessions[1]) is not None
