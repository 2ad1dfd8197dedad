"""The HTTP API on a real uvicorn server on loopback: what the model was sent, what was stored."""
from __future__ import annotations

import json
from dataclasses import dataclass

import openai
import pytest
import requests

from agent.errors import ModelUnavailable
from agent.session import Pitchroom
from agent.testing import ScriptedModel
from ui.api import create_app
from ui.api_server import BackgroundServer

KEY = "k3y-for-tests-0123456789abcdef"
ACME = """---
name: Acme Lathes
role: Sales Engineer
interviewer:
  name: Dana Okafor
  title: Head of Sales
  age: 32
  background: "Rows on the river every Saturday; studied mechanical engineering in Leeds."
---
# Overview
Acme Lathes builds small CNC lathes for dental labs and sells about 300 machines a year.

# Priorities
Acme wants to open a distributor channel in Spain during 2026.
"""


@dataclass
class Live:
    """A running server over a Pitchroom with a scripted model."""

    url: str
    app: Pitchroom
    model: ScriptedModel
    key: str | None = None

    def call(self, method: str, path: str, **kw) -> requests.Response:
        headers = kw.pop("headers", {})
        if self.key:
            headers.setdefault("Authorization", f"Bearer {self.key}")
        return requests.request(method, self.url + path, headers=headers, timeout=60, **kw)

    def session(self, **body) -> str:
        r = self.call("POST", "/api/v1/sessions", json={"company": "northwind-robotics", **body})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def stored(self, sid: str) -> list[tuple[str, str]]:
        return [(t["role"], t["text"]) for t in self.app.store.turns(sid)]


@pytest.fixture
def live(make_app):
    servers = []

    def start(*replies, key: str | None = None, **create_kw) -> Live:
        app, model = make_app(*replies)
        if key:
            app.settings = app.settings.model_copy(update={"api_key": key})
        server = BackgroundServer(create_app(app, **create_kw)).start()
        servers.append(server)
        return Live(server.url, app, model, key)

    yield start
    for server in servers:
        server.stop()


def assert_error(r: requests.Response, status: int, kind: str, words: str = "") -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message"}
    assert body["error"]["type"] == kind and words in body["error"]["message"]
    assert "Traceback" not in r.text
    return body["error"]


def sse_events(r: requests.Response) -> list[tuple[str, dict]]:
    """Parse `event:`/`data:` pairs of a Server-Sent Events body (pings are comments)."""
    events, name = [], "message"
    for line in r.text.splitlines():
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            events.append((name, json.loads(line.split(":", 1)[1])))
            name = "message"
    return events


# --- companies -------------------------------------------------------------------------------
def test_companies_list_show_and_missing(live):
    srv = live()
    listed = srv.call("GET", "/api/v1/companies").json()
    north = next(c for c in listed if c["id"] == "northwind-robotics")
    assert north["interviewer"]["name"] == "Priya Raman" and "sections" not in north
    shown = srv.call("GET", "/api/v1/companies/lumen-freight").json()
    assert shown["interviewer"]["name"] == "Jordan Ellis" and any(s["title"] == "Overview" for s in shown["sections"])
    assert_error(srv.call("GET", "/api/v1/companies/no-such-co"), 404, "not_found", "no-such-co")
    assert_error(srv.call("GET", "/api/v1/companies/..%2Fsecret.md"), 404, "not_found")
    assert_error(srv.call("GET", "/api/v1/companies/Secret.md"), 422, "validation_error", "company_id")
    assert srv.model.calls == []


def test_add_company_as_json_then_as_upload(live):
    srv = live()
    r = srv.call("POST", "/api/v1/companies", json={"filename": "acme-lathes.md", "text": ACME})
    assert r.status_code == 201, r.text
    assert r.json()["company"]["interviewer"]["name"] == "Dana Okafor" and r.json()["stats"]["added"] >= 2
    assert srv.app.knowledge.count("acme-lathes") >= 2  # ingested into Chroma
    assert (srv.app.settings.data_dir / "companies" / "acme-lathes.md").read_text() == ACME
    up = srv.call("POST", "/api/v1/companies", files={"file": ("acme-two.md", ACME.encode(), "text/markdown")})
    assert up.status_code == 201 and up.json()["company"]["id"] == "acme-two"
    assert {"acme-lathes", "acme-two"} <= {c["id"] for c in srv.call("GET", "/api/v1/companies").json()}
    broken = srv.call("POST", "/api/v1/companies", json={"filename": "bad.md", "text": "no front matter"})
    assert_error(broken, 422, "pack_error", "front matter")
    binary = srv.call("POST", "/api/v1/companies", files={"file": ("bin.md", b"\xff\xfe\x00x", "text/plain")})
    assert_error(binary, 422, "pack_error", "binary")
    assert_error(srv.call("POST", "/api/v1/companies", data="x", headers={"Content-Type": "text/plain"}),
                 415, "unsupported_media_type")
    assert_error(srv.call("POST", "/api/v1/companies", json={"filename": "../x.md", "text": ACME}),
                 422, "validation_error", "filename")
    assert not (srv.app.settings.data_dir / "companies" / "bad.md").exists()


# --- sessions and messages -------------------------------------------------------------------
def test_session_lifecycle_and_message(live):
    srv = live("Hello. Tell me about your last role.")
    created = srv.call("POST", "/api/v1/sessions", json={
        "company": "northwind-robotics", "round": "second", "difficulty": "tough", "key_points": ["Monterrey"]})
    assert created.status_code == 201
    sid = created.json()["id"]
    assert created.json()["rounds"] == [{**created.json()["rounds"][0], "name": "second", "turns": []}]
    assert created.json()["key_points"] == ["Monterrey"] and created.json()["difficulty"] == "tough"
    r = srv.call("POST", f"/api/v1/sessions/{sid}/messages", json={"text": "Hi Priya, thanks for meeting."})
    assert r.status_code == 200, r.text
    reply = r.json()["reply"]
    assert reply.startswith("Hello. Tell me about your last role.")  # the core may append its planned question
    assert r.json()["turn"] | {"at": ""} == {"round": 0, "idx": 1, "role": "interviewer", "at": "", "text": reply}
    sent = srv.model.calls[-1].messages
    assert sent[-2] == {"role": "user", "content": "Hi Priya, thanks for meeting."}
    assert "Priya Raman" in sent[0]["content"]
    assert srv.stored(sid) == [("candidate", "Hi Priya, thanks for meeting."), ("interviewer", reply)]
    assert sid in [s["id"] for s in srv.call("GET", "/api/v1/sessions").json()]
    got = srv.call("GET", f"/api/v1/sessions/{sid}").json()
    assert [t["text"] for t in got["rounds"][0]["turns"]] == [t for _, t in srv.stored(sid)]
    assert "meta" not in json.dumps(got) and "facts" not in got["rounds"][0]["turns"][1]
    export = srv.call("GET", f"/api/v1/sessions/{sid}/export").json()
    assert export["format"] == "pitchroom.session/1" and export["rounds"][0]["turns"][0]["role"] == "candidate"
    nxt = srv.call("POST", f"/api/v1/sessions/{sid}/rounds", json={"round": "final"})
    assert nxt.status_code == 201 and [x["name"] for x in nxt.json()["rounds"]] == ["second", "final"]
    ended = srv.call("POST", f"/api/v1/sessions/{sid}/end")
    assert ended.json()["status"] == "ended" and srv.app.store.session(sid)["status"] == "ended"
    late = srv.call("POST", f"/api/v1/sessions/{sid}/messages", json={"text": "One more thing."})
    assert_error(late, 409, "conflict", "ended")
    assert srv.model.remaining == 0 and len(srv.model.calls) == 1


def test_message_streams_as_server_sent_events(live):
    srv = live("Fine. Good to meet you today.", "And that team sounds big.")
    sid = srv.session()
    r = srv.call("POST", f"/api/v1/sessions/{sid}/messages", json={"text": "Hello there.", "stream": True})
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r)
    tokens = [d["text"] for name, d in events if name == "token"]
    assert len(tokens) > 1 and "".join(tokens).startswith("Fine. Good to meet you today.")
    assert events[-1][0] == "done" and events[-1][1]["turn"]["idx"] == 1
    assert events[-1][1]["reply"] == "".join(tokens) == srv.stored(sid)[1][1]
    by_accept = srv.call("POST", f"/api/v1/sessions/{sid}/messages", json={"text": "Conveyors."},
                         headers={"Accept": "text/event-stream"})
    done = sse_events(by_accept)[-1][1]["reply"]
    assert done.startswith("And that team sounds big.")
    assert srv.stored(sid)[-2:] == [("candidate", "Conveyors."), ("interviewer", done)]


def test_model_down_keeps_the_line_then_retry_answers_it(live):
    down = ModelUnavailable("The model at http://127.0.0.1:9 did not answer; retry.")
    srv = live(down, down, "Sorry about that. Go on.")
    sid = srv.session()
    assert_error(srv.call("POST", f"/api/v1/sessions/{sid}/messages", json={"text": "Hi."}), 503,
                 "model_unavailable", "retry")
    assert srv.stored(sid) == [("candidate", "Hi.")]
    retry = srv.call("POST", f"/api/v1/sessions/{sid}/retry", json={"stream": True})
    assert sse_events(retry) == [("error", {"error": {"type": "model_unavailable", "message": str(down)}})]
    ok = srv.call("POST", f"/api/v1/sessions/{sid}/retry")
    assert ok.json()["reply"].startswith("Sorry about that. Go on.")
    assert srv.stored(sid) == [("candidate", "Hi."), ("interviewer", ok.json()["reply"])]
    assert srv.model.calls[-1].messages[-2] == {"role": "user", "content": "Hi."}
    assert_error(srv.call("POST", f"/api/v1/sessions/{sid}/retry"), 409, "conflict", "no unanswered")


def test_error_shapes(live):
    srv = live()
    sid = srv.session()
    missing = "0" * 32
    assert_error(srv.call("GET", f"/api/v1/sessions/{missing}"), 404, "not_found")
    assert_error(srv.call("GET", f"/api/v1/sessions/{missing}/export"), 404, "not_found")
    assert_error(srv.call("POST", f"/api/v1/sessions/{missing}/messages", json={"text": "x"}), 404, "not_found")
    assert_error(srv.call("POST", "/api/v1/sessions", json={"company": "nobody-inc"}), 404, "not_found", "nobody")
    assert_error(srv.call("POST", "/api/v1/sessions", json={"company": "northwind-robotics", "round": "fifth"}),
                 422, "validation_error", "round")
    assert_error(srv.call("POST", "/api/v1/sessions", json={"company": "northwind-robotics", "extra": 1}),
                 422, "validation_error", "extra")
    assert_error(srv.call("POST", f"/api/v1/sessions/{sid}/messages", json={"text": "   "}), 422, "validation_error")
    assert_error(srv.call("POST", f"/api/v1/sessions/{sid}/messages", json={"text": "x" * 4001}),
                 422, "validation_error", "4000")
    assert_error(srv.call("POST", "/api/v1/sessions", data="{not json", headers={"Content-Type": "application/json"}),
                 400, "bad_request", "JSON")
    assert_error(srv.call("GET", "/api/v1/nothing-here"), 404, "not_found")
    wrong = srv.call("DELETE", "/api/v1/sessions")
    assert_error(wrong, 405, "method_not_allowed") and "GET" in wrong.headers["allow"]
    assert srv.stored(sid) == [] and srv.model.calls == []


def test_bodies_over_the_limit_are_refused_before_parsing(live):
    srv = live(max_body=2000)
    sid = srv.session()
    assert_error(srv.call("POST", f"/api/v1/sessions/{sid}/messages", json={"text": "y" * 3000}),
                 413, "payload_too_large", "2000")
    chunked = srv.call("POST", "/api/v1/companies", data=iter([b'{"filename": "a.md", "text": "', b"z" * 3000, b'"}']),
                       headers={"Content-Type": "application/json"})
    assert_error(chunked, 413, "payload_too_large")
    assert srv.stored(sid) == []


def test_unexpected_errors_are_generic_500(live):
    srv = live()  # the script is empty: the scripted model raises UnexpectedCall
    sid = srv.session()
    err = assert_error(srv.call("POST", f"/api/v1/sessions/{sid}/messages", json={"text": "Hi."}), 500,
                       "internal_error", "logged")
    assert "UnexpectedCall" not in err["message"] and "scripted" not in err["message"]


# --- auth --------------------------------------------------------------------------------------
def test_api_key_is_required_and_checked(live):
    srv = live("Hi, good to meet you.", key=KEY)
    bare = requests.get(srv.url + "/api/v1/companies", timeout=10)
    assert_error(bare, 401, "unauthorized", "Bearer") and bare.headers["www-authenticate"] == "Bearer"
    wrong = requests.get(srv.url + "/v1/models", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert_error(wrong, 401, "unauthorized")
    assert KEY not in wrong.text
    assert srv.call("GET", "/api/v1/companies").status_code == 200
    schema = requests.get(srv.url + "/openapi.json", timeout=10).json()  # the schema and docs stay open
    docs = requests.get(srv.url + "/docs", timeout=10)
    assert docs.status_code == 200 and "cdn" not in docs.text and "/static-offline-docs/swagger-ui-bundle.js" in docs.text
    assert requests.get(srv.url + "/static-offline-docs/swagger-ui-bundle.js", timeout=10).status_code == 200
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=srv.url + "/v1", api_key="wrong", max_retries=0).models.list()
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key=KEY, max_retries=0)
    reply = client.chat.completions.create(model="hiring-manager/northwind-robotics",
                                           messages=[{"role": "user", "content": "Hello Priya."}])
    assert reply.choices[0].message.content.startswith("Hi, good to meet you.")


def test_serve_mounts_the_web_ui_beside_the_api(live):
    pytest.importorskip("ui.web")
    srv = live(key=KEY, ui=True)
    page = requests.get(srv.url + "/", timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert requests.get(srv.url + "/config", timeout=30).status_code == 401  # the key guards the UI too
    assert_error(srv.call("GET", "/api/v1/no-such-thing"), 404, "not_found")  # not swallowed by the UI mount
    assert_error(srv.call("DELETE", "/api/v1/sessions"), 405, "method_not_allowed")
    assert srv.call("GET", "/api/v1/companies").status_code == 200
