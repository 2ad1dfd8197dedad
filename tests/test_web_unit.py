"""The web UI's render helpers and event handlers, called directly over a scripted model."""
from __future__ import annotations

import argparse
import json
import socket

import gradio as gr
import pytest

from agent.critic import JudgeAnswer
from agent.errors import ModelUnavailable, NotFound
from agent.session import Pitchroom
from agent.schemas import (Claim, CriterionResult, Critique, KeyPointCheck, NoteCheck, NoteCritique, Quote,
                           RoundTone)
from ui import web_charts as charts
from ui import web_render as render
from ui.web import build_ui, main
from ui.web_flow import Flow, readable_errors
from ui.web_review import Review
from ui.web_status import Warmup

HELLO = "Hi Priya, thanks for making time today."
RESULT = "At Stackline I grew regional revenue from $12 million to $19 million in two years."
JUDGE = [JudgeAnswer(answer=True)] * 12  # enough for every criterion the rules are unsure about


def critique(score: int = 40, passed=(True, False, None), **kw) -> Critique:
    q = Quote(round=0, turn=0, text="I grew revenue")
    crits = [CriterionResult(id=f"c{i}", title=f"Criterion {i}", passed=p, evidence=[q] if p else [],
                             reason=f"reason {i}", advice=f"advice {i}") for i, p in enumerate(passed)]
    return Critique(session_id="s1", company_id="northwind-robotics", sales_call=score >= 60, score=score,
                    criteria=crits, next_time=["Close the meeting", "Ask about doubts", "Bring numbers"], **kw)


def collect(gen) -> list[tuple]:
    return list(gen)


# --- render helpers ---------------------------------------------------------------------
def test_profile_card_shows_the_public_profile_escaped(make_app):
    app, _ = make_app()
    pack = app.packs.get("northwind-robotics")
    html = render.profile_card(pack.model_copy(update={"interviewer": pack.interviewer.model_copy(
        update={"background": "<script>alert(1)</script> runs marathons"})}))
    assert "Priya Raman" in html and "VP of Sales, Americas" in html and "Regional Sales Director" in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "runs marathons" in html


def test_verdict_and_details_render_every_part_of_a_critique():
    c = critique(claims=[Claim(quote=Quote(round=0, turn=1, text="you have 900 staff"), status="contradicted",
                               passage="Northwind employs about 420 people", section="Overview", reason="420 not 900")],
                 tone=[RoundTone(round="screen", tone="hard_sell", evidence=[])],
                 key_points=[KeyPointCheck(point="Own Mexico", conveyed=False)])
    head = render.verdict_html(c)
    assert "Sales call: not yet" in head and "--pct:40" in head and "1 passed · 1 failed · 1 not applicable" in head
    details = render.critique_details_html(c)
    for text in ("Criterion 0", "Criterion 2", "advice 1", "“I grew revenue”", "Contradicted", "420 people",
                 "Hard sell", "Own Mexico", "Not said."):
        assert text in details
    assert "Sales call: yes" in render.verdict_html(critique(score=80, passed=(True,)))


def test_criteria_frame_counts_and_names_each_result():
    frame = charts.criteria_frame(critique(passed=(True, True, False, None)))
    assert list(frame["Result"]) == ["Passed", "Failed", "Not applicable"]
    assert list(frame["Criteria"]) == [2, 1, 1]
    assert frame.iloc[0]["Which"] == "Criterion 0, Criterion 1"
    assert list(charts.criteria_frame(None)["Criteria"]) == [0, 0, 0]


def test_progress_frame_is_a_running_pass_rate_per_criterion():
    history = [("2026-01-02T10:00:00+00:00", critique(70, passed=(False,))),
               ("2026-01-01T10:00:00+00:00", critique(30, passed=(True,)))]  # out of order on purpose
    frame = charts.progress_frame(history)
    crit = frame[frame["Series"] == "Criterion 0"]
    assert list(crit["Score"]) == [100, 50]  # passed first, then failed: 1/1, then 1/2
    assert list(frame[frame["Series"] == "Overall score"]["Score"]) == [30, 70]
    assert list(frame["Session"].unique()) == ["01 · 01-01 10:00", "02 · 01-02 10:00"]
    grid = charts.progress_grid_html(history)
    assert grid.index("✓") < grid.index("✗") and "Criterion 0" in grid


def test_note_checks_render_as_a_checklist():
    html = render.note_checks_html(NoteCritique(passed=False, word_count=80, checks=[
        NoteCheck(id="brief", passed=True, detail="80 words"),
        NoteCheck(id="not_pushy", passed=False, detail="“I expect an offer” pressures them")]))
    assert "can be better" in html and "Not pushy" in html and "I expect an offer" in html and "80 words" in html


# --- setup and preparation ---------------------------------------------------------------
def test_pack_choice_shows_profile_and_prefills_role(make_app):
    flow = Flow(make_app()[0])
    assert {"northwind-robotics", "harborline-health", "lumen-freight"} <= {i for _, i in flow.pack_choices()}
    profile, role = flow.on_pack("harborline-health")
    assert "Marcus Delgado" in profile and role
    with pytest.raises(gr.Error, match="No company pack 'nope'"):
        flow.on_pack("nope")


def test_pasted_pack_is_added_and_selected_and_a_bad_one_names_the_field(make_app):
    app, _ = make_app()
    flow = Flow(app)
    text = app.packs.path_of("lumen-freight").read_text().replace("Lumen Freight", "Acme Freight")
    dropdown, note = flow.add_pack(None, "acme-freight", text)
    assert dropdown.value == "acme-freight" and "Acme Freight" in note and "passages embedded" in note
    assert "acme-freight" in {i for _, i in dropdown.choices}
    assert app.knowledge.count("acme-freight") > 0
    with pytest.raises(gr.Error, match="front matter field `role`"):
        flow.add_pack(None, "broken", text.replace("role:", "rolle:"))
    with pytest.raises(gr.Error, match="Give the pasted pack an id"):
        flow.add_pack(None, "", text)


def test_prepare_builds_the_brief_and_keeps_points_the_candidate_typed(make_app):
    flow = Flow(make_app()[0])
    html, points, tabs = flow.prepare("northwind-robotics", "", "")
    assert "Three points to get across" in html and "Counter:" in html and tabs.selected == "prep"
    # the brief's prompts are a hint only: the critic must judge the candidate's own points, not ours
    assert points.value == "" and len(points.placeholder.splitlines()) == 4
    _, kept, _ = flow.prepare("northwind-robotics", "", "My own point")
    assert kept.value == "My own point"


# --- interview ----------------------------------------------------------------------------
def test_start_stores_key_points_and_opens_the_interview(make_app):
    app, _ = make_app()
    points = "- Own Mexico\n\nHit $4.2M\n"
    sid, chat, header, tabs, _ = Flow(app).start("northwind-robotics", "", "second", "tough", points)
    s = app.store.session(sid)
    assert s["key_points"] == ["Own Mexico", "Hit $4.2M"] and s["difficulty"] == "tough"
    assert chat == [] and tabs.selected == "interview" and "Second round" in header and "Priya Raman" in header


def test_send_stores_the_turn_and_streams_the_reply(make_app):
    reply = ("Nice to meet you. Before we start, I should say we have had a lot of applicants for this role. "
             "So I will be direct. I care most about how you sell. Fit matters here too.")
    app, model = make_app(reply)
    flow = Flow(app)
    sid = flow.start("northwind-robotics", "", "screen", "realistic", "")[0]
    steps = collect(flow.send(sid, HELLO, []))
    assert steps[0][0] == [{"role": "user", "content": HELLO}] and steps[0][1] == HELLO  # shown before the reply
    partial = [s[0][-1]["content"] for s in steps[1:-1]]
    assert len(partial) > 3 and all(a in b for a, b in zip(partial, partial[1:]))  # streamed, growing
    history, box, status = steps[-1]
    stored = [t["text"] for t in app.store.turns(sid)]
    assert box == "" and status.startswith("1 of your lines") and stored[0] == HELLO and stored[1].startswith(reply)
    assert history == [{"role": "user", "content": HELLO}, {"role": "assistant", "content": stored[1]}]
    assert partial[-1] == stored[1]
    assert model.calls[0].messages[-2] == {"role": "user", "content": HELLO}


def test_a_model_failure_keeps_the_typed_text_and_send_again_retries_without_a_duplicate(make_app):
    app, model = make_app(ModelUnavailable("The model is down; start it."), "Welcome back. Go on.")
    flow = Flow(app)
    sid = flow.start("northwind-robotics", "", "screen", "realistic", "")[0]
    with pytest.warns(UserWarning, match="The model is down"):  # the toast the page shows
        history, box, status = collect(flow.send(sid, HELLO, []))[-1]
    assert box == HELLO and "The model is down; start it." in status and "Traceback" not in status
    assert history == [{"role": "user", "content": HELLO}]  # the line was stored before the call
    history, box, _ = collect(flow.send(sid, box, history))[-1]
    stored = [t["text"] for t in app.store.turns(sid)]
    assert box == "" and len(stored) == 2 and stored[0] == HELLO and stored[1].startswith("Welcome back. Go on.")
    assert history[-1] == {"role": "assistant", "content": stored[1]}
    assert model.remaining == 0


def test_a_rejected_message_is_kept_and_not_stored(make_app, settings):
    app, model = make_app()
    flow = Flow(app)
    sid = flow.start("northwind-robotics", "", "screen", "realistic", "")[0]
    long = "word " * settings.max_message_chars
    with pytest.warns(UserWarning, match="the limit is 4000"):
        _, box, status = collect(flow.send(sid, long, []))[-1]
    assert box == long and "the limit is 4000" in status
    assert app.store.turns(sid) == [] and model.calls == []
    with pytest.warns(UserWarning, match="No interview is running"):
        _, box, status = collect(flow.send("", HELLO, []))[-1]
    assert box == HELLO and "No interview is running" in status


def test_next_round_continues_the_same_history(make_app):
    app, model = make_app("Tell me more.", "Welcome to the second round.")
    flow = Flow(app)
    sid = flow.start("northwind-robotics", "", "screen", "realistic", "")[0]
    collect(flow.send(sid, RESULT, []))
    flow.end(sid)
    history, header, tabs, note = flow.next_round(sid, "second")
    assert "Second round" in header and "second round has started" in note and tabs.selected == "interview"
    assert history[-1]["content"] == "— Second round begins —" and history[0]["content"] == RESULT
    history = collect(flow.send(sid, "Hello again.", history))[-1][0]
    assert history[-1]["content"].startswith("Welcome to the second round.") and len(app.store.rounds(sid)) == 2
    assert any("In the screen round the candidate said" in m["content"] for m in model.calls[-1].messages)


def test_readable_errors_show_the_message_not_a_trace():
    with pytest.raises(gr.Error) as info, readable_errors():
        raise NotFound("No session 'x'; list sessions with `pitchroom sessions`.")
    assert info.value.message == "No session 'x'; list sessions with `pitchroom sessions`."
    with pytest.raises(gr.Error) as info, readable_errors():
        {}["missing"]
    assert info.value.message.startswith("Unexpected problem (KeyError") and "Traceback" not in info.value.message


# --- after the interview ------------------------------------------------------------------
def _interview(make_app, *extra):
    app, model = make_app("Go on.", "Interesting. And?", *extra)
    flow = Flow(app)
    sid = flow.start("northwind-robotics", "", "screen", "realistic", "Grow revenue in Mexico")[0]
    collect(flow.send(sid, HELLO, []))
    collect(flow.send(sid, RESULT + " Could I grow revenue in Mexico for Northwind the same way?", []))
    flow.end(sid)
    return app, model, sid


def test_critique_handler_shows_verdict_chart_details_and_stores_it(make_app):
    app, _, sid = _interview(make_app, *JUDGE)
    summary, frame, details, file = Review(app).critique(sid)
    stored = app.latest_critique(sid)
    assert stored is not None and f"--pct:{stored.score}" in summary and "Sales call" in summary
    assert frame["Criteria"].sum() == len(stored.criteria)
    assert all(render.e(c.title) in details for c in stored.criteria) and "Grow revenue in Mexico" in details
    assert json.loads(open(file).read())["id"] == sid


def test_past_sessions_list_scores_and_progress(make_app):
    app, _, sid = _interview(make_app, *JUDGE)
    review = Review(app)
    review.critique(sid)
    table, picker, line, grid = review.reload()
    score = app.latest_critique(sid).score
    assert table.iloc[0]["Score"] == score and table.iloc[0]["Company"] == "Northwind Robotics"
    assert picker.value == sid and table.iloc[0]["Rounds"] == "screen"
    assert score in list(line[line["Series"] == "Overall score"]["Score"]) and "pr-grid" in grid
    transcript, summary, _, _, file = review.open(sid)
    assert RESULT in transcript and "Sales call" in summary and file.endswith(".json")


def test_follow_up_draft_and_note_check(make_app):
    note = ("Dear Priya,\n\nThank you for the conversation today about the Regional Sales Director role. I enjoyed "
            "hearing about the Mexico territory, and I am confident my record of growing regional revenue from "
            "$12 million to $19 million would help Northwind reach its goals there.\n\nBest regards,\nSam")
    app, model, sid = _interview(make_app, note, note)
    review = Review(app)
    draft = review.draft(sid)
    assert "Priya" in draft and model.calls[-1].method == "complete"
    assert "$12 million" in model.calls[-1].messages[-1]["content"] or "$12 million" in str(model.calls[-1].messages)
    html = review.check(sid, "Hey, when do I get the offer? I expect an answer by Friday.")
    assert "pr-note-checks" in html and "✗" in html
    with pytest.raises(gr.Error, match="Paste your note"):
        review.check(sid, "  ")


# --- the page and the launcher ----------------------------------------------------------
def test_warmup_reports_ready_and_a_failure_as_text(make_app, settings):
    app, model = make_app()
    warm = Warmup(app).start()
    assert warm.wait(60) and warm.state == "ready" and "Interviewer ready" in warm.html()
    assert model.calls == []  # warming up opens the model; it asks it nothing
    missing = settings.model_copy(update={"local_model": settings.data_dir / "nope.gguf"})
    broken = Warmup(Pitchroom(missing, knowledge=app.knowledge)).start()
    assert broken.wait(60) and broken.state == "failed"
    assert "could not start" in broken.html() and "nope.gguf" in broken.html() and "Traceback" not in broken.html()


def test_build_ui_has_every_step_and_defaults_to_northwind(make_app):
    demo = build_ui(make_app()[0], warm=False)
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    assert {"pr-pack", "pr-prep-btn", "pr-start-btn", "pr-chat", "pr-end-btn", "crit-chart", "pr-draft-btn",
            "pr-sessions", "pr-progress"} <= ids
    pack = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "pr-pack")
    assert pack.value == "northwind-robotics"


def test_main_refuses_a_busy_port_with_a_readable_message(capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert main(argparse.Namespace(host="127.0.0.1", port=port, share=False)) == 2
    assert f"port {port} on 127.0.0.1 is in use" in capsys.readouterr().err
