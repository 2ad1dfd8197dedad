"""The Gradio web UI: set up, prepare, interview, critique, follow up, review past sessions.

Thin by design: every widget event calls the `Pitchroom` facade; rendering lives in web_render /
web_charts, handlers in web_flow / web_review, looks in web_style. `pitchroom ui` runs `main`.
"""
from __future__ import annotations

import argparse
import socket
import sys

import gradio as gr

from agent.config import DIFFICULTIES, ROUNDS
from agent.errors import PitchroomError
from agent.session import Pitchroom
from ui import web_charts as charts
from ui.web_flow import Flow
from ui.web_review import EMPTY_CRITIQUE, Review
from ui.web_status import Warmup
from ui.web_style import CSS, theme

__all__ = ["CSS", "build_ui", "main", "theme"]

HEADER = """<div class="pr-top"><div><h1>Pitchroom</h1>
<p>Rehearse your interview the way a salesperson rehearses a sales call.</p>
<div class="pr-steps"><span>1 Set up</span><span>2 Prepare</span><span>3 Interview</span><span>4 Critique</span>
<span>5 Follow up</span></div></div></div>"""
DEFAULT_PACK = "northwind-robotics"  # the same default as `pitchroom chat`
CHAT_HINT = "Open the meeting: greet your interviewer, then steer toward the three points you prepared."


def build_ui(app: Pitchroom, *, warm: bool = True) -> gr.Blocks:
    """The whole page over one Pitchroom; `warm` starts the model in the background right away."""
    warmup = Warmup(app).start() if warm else Warmup(app)
    flow, review = Flow(app, warmup), Review(app)
    choices = flow.pack_choices()
    with gr.Blocks(title="Pitchroom — interview rehearsal", analytics_enabled=False) as demo:
        sid = gr.State("")
        with gr.Row(equal_height=True):
            gr.HTML(HEADER, scale=4)
            status = gr.HTML(warmup.html(), scale=2, elem_id="pr-status-box")
        timer = gr.Timer(1.0, active=warm)
        with gr.Tabs(selected="setup") as tabs:
            w = _setup_tab(choices) | _prep_tab() | _interview_tab() | _critique_tab() | _follow_tab() | _past_tab()
        _wire(demo, flow, review, warmup, sid, tabs, status, timer, w)
    demo.warmup = warmup  # the launcher and tests wait on it
    return demo


def _setup_tab(choices: list[tuple[str, str]]) -> dict:
    with gr.Tab("1 · Setup", id="setup"):
        with gr.Row():
            with gr.Column(scale=3):
                ids = [i for _, i in choices]
                first = DEFAULT_PACK if DEFAULT_PACK in ids else (ids[0] if ids else None)
                pack = gr.Dropdown(choices, value=first, label="Company",
                                   info="A built-in research pack, or one you add below.", elem_id="pr-pack")
                role = gr.Textbox(label="Role you are interviewing for", elem_id="pr-role")
                round_name = gr.Radio(list(ROUNDS), value="screen", label="Round",
                                      info="Screen: first call. Second: deeper. Final: the decision meeting.")
                difficulty = gr.Radio(list(DIFFICULTIES), value="realistic", label="Interviewer difficulty")
                with gr.Accordion("Add your own company research", open=False):
                    upload = gr.File(label="Upload a pack (.md)", file_types=[".md"], type="filepath")
                    pack_id = gr.Textbox(label="…or paste it — pack id", placeholder="acme-corp")
                    pasted = gr.Textbox(label="Pack text (YAML front matter, then # sections of facts)", lines=8)
                    add_btn = gr.Button("Add this company")
                    add_note = gr.Markdown()
            with gr.Column(scale=4):
                gr.Markdown("### Who you will meet")
                profile = gr.HTML(elem_id="pr-profile-box")
                prep_btn = gr.Button("Next: prepare for this interview →", variant="primary", elem_id="pr-prep-btn")
    return dict(pack=pack, role=role, round_name=round_name, difficulty=difficulty, upload=upload, pack_id=pack_id,
                pasted=pasted, add_btn=add_btn, add_note=add_note, profile=profile, prep_btn=prep_btn)


def _prep_tab() -> dict:
    with gr.Tab("2 · Prepare", id="prep"):
        brief = gr.HTML('<p class="pr-muted">Pick a company in Setup and press “Next: prepare”.</p>')
        points = gr.Textbox(label="Your key points — one per line. The critic checks whether you got them across.",
                            lines=4, elem_id="pr-points")
        start_btn = gr.Button("Start the interview →", variant="primary", elem_id="pr-start-btn")
    return dict(brief=brief, points=points, start_btn=start_btn)


def _interview_tab() -> dict:
    with gr.Tab("3 · Interview", id="interview"):
        header = gr.HTML('<p class="pr-muted">No interview yet.</p>', elem_id="pr-interview-head")
        chat = gr.Chatbot(label="Interview", show_label=False, height=460, placeholder=CHAT_HINT, feedback_options=None,
                          group_consecutive_messages=False,
                          elem_id="pr-chat")
        with gr.Row(equal_height=True):
            msg = gr.Textbox(show_label=False, placeholder="Type what you would say, then press Enter…", scale=6,
                             elem_id="pr-msg")
            send_btn = gr.Button("Send", variant="primary", scale=1, elem_id="pr-send")
        chat_status = gr.Markdown(elem_id="pr-chat-status")
        with gr.Row(equal_height=True):
            end_btn = gr.Button("End interview and get my critique", scale=2, elem_id="pr-end-btn",
                                elem_classes="pr-danger")
            next_choice = gr.Dropdown(list(ROUNDS[1:]), value=ROUNDS[1], label="Later round", scale=1)
            next_btn = gr.Button("Start that round (same history)", scale=1, elem_id="pr-next-btn")
    return dict(header=header, chat=chat, msg=msg, send_btn=send_btn, chat_status=chat_status, end_btn=end_btn,
                next_choice=next_choice, next_btn=next_btn)


def _critique_view(prefix: str) -> dict:
    with gr.Row():
        summary = gr.HTML(EMPTY_CRITIQUE)
        chart = gr.BarPlot(charts.criteria_frame(None), x="Result", y="Criteria", color="Result",
                           color_map=charts.COLORS, sort=list(charts.STATUSES), tooltip=["Result", "Criteria", "Which"],
                           title="Rubric criteria", y_title="criteria", x_title=" ", y_lim=[0, None],
                           height=280, elem_id=f"{prefix}-chart")
    details = gr.HTML()
    return {f"{prefix}_summary": summary, f"{prefix}_chart": chart, f"{prefix}_details": details}


def _critique_tab() -> dict:
    with gr.Tab("4 · Critique", id="critique"):
        view = _critique_view("crit")
        with gr.Row():
            again_btn = gr.Button("Critique this interview again", scale=1)
            download = gr.File(label="Transcript (JSON export)", interactive=False, scale=2)
    return view | dict(again_btn=again_btn, download=download)


def _follow_tab() -> dict:
    with gr.Tab("5 · Follow up", id="followup"):
        with gr.Row():
            with gr.Column():
                draft_btn = gr.Button("Draft my thank-you note", variant="primary", elem_id="pr-draft-btn")
                draft = gr.Textbox(label="Draft, built from what was said — edit before sending", lines=12,
                                   buttons=["copy"], elem_id="pr-draft")
            with gr.Column():
                own = gr.Textbox(label="Paste your own note to check it", lines=9, elem_id="pr-own")
                check_btn = gr.Button("Check my note", elem_id="pr-check-btn")
                checks = gr.HTML()
    return dict(draft_btn=draft_btn, draft=draft, own=own, check_btn=check_btn, checks=checks)


def _past_tab() -> dict:
    with gr.Tab("Past sessions", id="past"):
        table = gr.Dataframe(interactive=False, wrap=True, elem_id="pr-sessions")
        with gr.Row(equal_height=True):
            picker = gr.Dropdown(label="Open a session", choices=[], scale=3)
            open_btn = gr.Button("Open", variant="primary", scale=1)
            critique_btn = gr.Button("Critique it", scale=1)
            resume_btn = gr.Button("Continue it", scale=1)
            refresh_btn = gr.Button("Refresh list", scale=1)
        with gr.Accordion("Transcript", open=True):
            transcript = gr.HTML('<p class="pr-muted">Open a session to read it again.</p>')
        view = _critique_view("past")
        gr.Markdown("### Your progress across sessions")
        line = gr.LinePlot(x="Session", y="Score", color="Series", y_lim=[0, 100], height=320,
                           title="Overall score and each criterion's pass rate so far", elem_id="pr-progress")
        grid = gr.HTML()
        past_file = gr.File(label="Transcript (JSON export)", interactive=False)
    return view | dict(refresh_btn=refresh_btn, table=table, picker=picker, open_btn=open_btn,
                       critique_btn=critique_btn, resume_btn=resume_btn, transcript=transcript, line=line, grid=grid,
                       past_file=past_file)


def _wire(demo, flow: Flow, review: Review, warmup: Warmup, sid, tabs, status, timer, w: dict) -> None:
    """Connect widgets to handlers."""
    timer.tick(lambda: (warmup.html(), gr.Timer(active=not warmup.done)), None, [status, timer], show_progress="hidden")
    demo.load(flow.on_pack, w["pack"], [w["profile"], w["role"]])
    w["pack"].change(flow.on_pack, w["pack"], [w["profile"], w["role"]])
    w["add_btn"].click(flow.add_pack, [w["upload"], w["pack_id"], w["pasted"]], [w["pack"], w["add_note"]])
    w["prep_btn"].click(flow.prepare, [w["pack"], w["role"], w["points"]], [w["brief"], w["points"], tabs])
    w["start_btn"].click(flow.start, [w["pack"], w["role"], w["round_name"], w["difficulty"], w["points"]],
                         [sid, w["chat"], w["header"], tabs, w["chat_status"]])
    chat_io = dict(fn=flow.send, inputs=[sid, w["msg"], w["chat"]], outputs=[w["chat"], w["msg"], w["chat_status"]],
                   show_progress="hidden")
    w["msg"].submit(**chat_io)
    w["send_btn"].click(**chat_io)
    crit_out = [w["crit_summary"], w["crit_chart"], w["crit_details"], w["download"]]
    past_out = [w["table"], w["picker"], w["line"], w["grid"]]
    (w["end_btn"].click(flow.end, sid, [w["chat_status"], tabs])
     .success(review.critique, sid, crit_out).success(review.reload, None, past_out))
    w["next_btn"].click(flow.next_round, [sid, w["next_choice"]], [w["chat"], w["header"], tabs, w["chat_status"]])
    w["again_btn"].click(review.critique, sid, crit_out)
    w["draft_btn"].click(review.draft, sid, w["draft"])
    w["check_btn"].click(review.check, [sid, w["own"]], w["checks"])
    demo.load(review.reload, None, past_out)
    w["refresh_btn"].click(review.reload, None, past_out)
    past_view = [w["past_summary"], w["past_chart"], w["past_details"]]
    w["open_btn"].click(review.open, w["picker"], [w["transcript"], *past_view, w["past_file"]])
    (w["critique_btn"].click(review.critique, w["picker"], [*past_view, w["past_file"]])
     .success(review.reload, None, past_out))
    w["resume_btn"].click(lambda s: (s, *flow.resume(s)), w["picker"], [sid, w["chat"], w["header"], tabs])


def main(args: argparse.Namespace) -> int:
    """`pitchroom ui`: serve the page on --host/--port (127.0.0.1:7860), a share link only with --share."""
    host, port, share = getattr(args, "host", "127.0.0.1"), getattr(args, "port", 7860), getattr(args, "share", False)
    if not _port_free(host, port):  # fail before the model starts, not after
        print(f"Error: port {port} on {host} is in use (another Pitchroom?). Stop it or pass another --port.",
              file=sys.stderr)
        return 2
    try:
        demo = build_ui(Pitchroom())
    except PitchroomError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    try:
        _, local_url, share_url = demo.launch(server_name=host, server_port=port, share=bool(share), theme=theme(),
                                              css=CSS, prevent_thread_lock=True, quiet=True, footer_links=[],
                                              show_error=False)
    except OSError as exc:
        print(f"Error: cannot serve on {host}:{port} ({exc}). Pass another --port.", file=sys.stderr)
        return 2
    print(f"Pitchroom is running: open {local_url} in your browser (Ctrl+C to stop).", flush=True)
    if share_url:
        print(f"Public share link (anyone with it can use your Pitchroom): {share_url}", flush=True)
    demo.block_thread()
    return 0


def _port_free(host: str, port: int) -> bool:
    """True when host:port can be bound right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
            return True
        except OSError:
            return False
