"""Critique, prep brief and follow-up over a live server: what the model was sent, what was stored."""
from __future__ import annotations

from tests.test_api import Live, assert_error, live  # noqa: F401 - `live` is the live-server fixture


# --- after the interview -----------------------------------------------------------------------
LUMEN_LINES = [("Hi Jordan, thanks for having me.", "Glad you could come. Tell me about yourself."),
               ("I ran dispatch at a regional carrier and brought manual touches per load from 4.1 to 2.3 by "
                "automating tendering.", "Interesting. Anything you want to ask me?"),
               ("How is the touchless load working group doing against its 2.0 goal?", "We are close. Thanks.")]
NOTE = ("Dear Jordan,\n\nThank you for the conversation today. It was good to hear how the touchless load working "
        "group is moving toward 2.0 manual touches per load.\n\nAt the carrier I brought touches down from 4.1 to "
        "2.3 by automating tendering, and I would bring that same approach to your automation work.\n\n"
        "Best regards,\nSam")
JUDGE = [{"answer": True, "quote": ""}] * 20


def lumen_session(srv: Live) -> str:
    sid = srv.session(company="lumen-freight", key_points=["I cut manual touches by automating tendering"])
    for line, _ in LUMEN_LINES:
        assert srv.call("POST", f"/api/v1/sessions/{sid}/messages", json={"text": line}).status_code == 200
    return sid


def test_critique_runs_is_stored_and_fetched(live):
    srv = live(*[reply for _, reply in LUMEN_LINES], *JUDGE)
    sid = lumen_session(srv)
    assert_error(srv.call("GET", f"/api/v1/sessions/{sid}/critique"), 404, "not_found", "no critique")
    ran = srv.call("POST", f"/api/v1/sessions/{sid}/critique")
    assert ran.status_code == 200, ran.text
    body = ran.json()
    assert body["session_id"] == sid and body["company_id"] == "lumen-freight" and body["criteria"]
    assert body["key_points"][0]["point"] == "I cut manual touches by automating tendering"
    assert srv.app.latest_critique(sid).model_dump(mode="json") == body  # stored as returned
    assert srv.call("GET", f"/api/v1/sessions/{sid}/critique").json() == body
    judged = [c for c in srv.model.calls if c.method == "structured"]
    assert all(c.kwargs["schema"] == "JudgeAnswer" for c in judged)
    assert all("touchless load" in c.messages[-1]["content"] or "(no usable lines)" in c.messages[-1]["content"]
               or "tendering" in c.messages[-1]["content"] or "Jordan" in c.messages[-1]["content"] for c in judged)


def test_critique_of_a_transcript_recorded_elsewhere(live):
    srv = live(*JUDGE)
    export = {"id": "elsewhere-1", "company": {"id": "lumen-freight", "name": "Lumen Freight"}, "role": "PM",
              "rounds": [{"round": "screen", "turns": [
                  {"role": "interviewer", "text": "Tell me about yourself."},
                  {"role": "candidate", "text": "I automate freight tendering. What is your 2026 priority?"}]}]}
    r = srv.call("POST", "/api/v1/critique", json=export)
    assert r.status_code == 200, r.text
    assert r.json()["session_id"] == "elsewhere-1" and srv.app.store.list_sessions() == []  # nothing stored
    empty = {**export, "rounds": [{"round": "screen", "turns": [{"role": "interviewer", "text": "Hi."}]}]}
    assert_error(srv.call("POST", "/api/v1/critique", json=empty), 422, "input_rejected", "no candidate turns")
    sneaky = {**export, "company": {"id": "../../etc/passwd", "name": "x"}}
    assert_error(srv.call("POST", "/api/v1/critique", json=sneaky), 422, "input_rejected", "company.id")
    assert_error(srv.call("POST", "/api/v1/critique", json={**export, "format": "other/9"}), 422, "validation_error")


def test_prep_brief_and_follow_up(live):
    srv = live(*[reply for _, reply in LUMEN_LINES], NOTE)
    prep = srv.call("GET", "/api/v1/companies/lumen-freight/prep", params={"role": "Ops Lead"})
    assert prep.status_code == 200 and prep.json()["company_id"] == "lumen-freight"
    assert len(prep.json()["key_points"]) == 3 and prep.json()["doubts"] and prep.json()["questions"]
    assert_error(srv.call("GET", "/api/v1/companies/nope-inc/prep"), 404, "not_found")
    sid = lumen_session(srv)
    draft = srv.call("POST", f"/api/v1/sessions/{sid}/follow-up/draft")
    assert draft.status_code == 200, draft.text
    assert draft.json() == {"note": NOTE}
    assert "4.1 to 2.3" in srv.model.calls[-1].messages[-1]["content"]  # built from what was said
    checked = srv.call("POST", f"/api/v1/sessions/{sid}/follow-up/check", json={"note": NOTE}).json()
    assert checked["passed"] is True and {c["id"] for c in checked["checks"]} >= {"specific", "brief"}
    pushy = srv.call("POST", f"/api/v1/sessions/{sid}/follow-up/check",
                     json={"note": "Hi. When will you decide? I expect an offer by Friday."}).json()
    assert pushy["passed"] is False
    assert srv.model.remaining == 0
