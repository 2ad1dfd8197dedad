"""Event handlers after the interview: critique, follow-up note, past sessions and progress."""
from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr
import pandas as pd

from agent.schemas import Critique
from agent.session import Pitchroom
from ui import web_charts as charts
from ui import web_render as render
from ui.web_flow import NO_SESSION, readable_errors

EMPTY_CRITIQUE = '<p class="pr-muted">No critique yet: end an interview, or open a past session.</p>'


class Review:
    """Critique, follow-up and history handlers over one Pitchroom."""

    def __init__(self, app: Pitchroom) -> None:
        self.app = app
        self.export_dir = Path(tempfile.mkdtemp(prefix="pitchroom-exports-"))

    # --- critique ------------------------------------------------------------------------
    def critique(self, sid: str, progress=gr.Progress()):
        """Judge the session; return the summary, chart data, details and the transcript file."""
        if not sid:
            raise gr.Error(NO_SESSION)
        progress(0.2, desc="The critic is reading your transcript, criterion by criterion…")
        with readable_errors():
            result = self.app.critique(sid)
            file = self.export_file(sid)
        return (*self.show(result), file)

    def show(self, critique: Critique | None) -> tuple[str, pd.DataFrame, str]:
        """Summary HTML, chart frame and details HTML of a critique (or placeholders)."""
        if critique is None:
            return EMPTY_CRITIQUE, charts.criteria_frame(None), ""
        summary = render.verdict_html(critique) + render.next_time_html(critique.next_time)
        return summary, charts.criteria_frame(critique), render.critique_details_html(critique)

    def export_file(self, sid: str) -> str:
        """The session export JSON as a downloadable file."""
        path = self.export_dir / f"pitchroom-session-{sid}.json"
        path.write_text(self.app.export(sid).model_dump_json(indent=2), encoding="utf-8")
        return str(path)

    # --- follow-up -----------------------------------------------------------------------
    def draft(self, sid: str, progress=gr.Progress()) -> str:
        """A thank-you note drafted from this session."""
        if not sid:
            raise gr.Error(NO_SESSION)
        progress(0.3, desc="Drafting a note from what was said…")
        with readable_errors():
            return self.app.follow_up_draft(sid)

    def check(self, sid: str, note: str) -> str:
        """Critique the candidate's own note (against the session when there is one)."""
        if not (note or "").strip():
            raise gr.Error("Paste your note into the box first.")
        with readable_errors():
            return render.note_checks_html(self.app.check_note(sid or None, note))

    # --- past sessions -------------------------------------------------------------------
    def sessions(self):
        """The session list as a table, and the picker's choices."""
        with readable_errors():
            rows, choices = [], []
            for s in self.app.store.list_sessions():
                critique = self.app.latest_critique(s["id"])
                rounds = " → ".join(r["name"] for r in self.app.store.rounds(s["id"]))
                date = s["created_at"][:16].replace("T", " ")
                score = critique.score if critique else None
                rows.append({"Date": date, "Company": s["company_name"], "Role": s["role"], "Rounds": rounds,
                             "Status": s["status"], "Score": "—" if score is None else score})
                choices.append((f"{date} · {s['company_name']} · {rounds}", s["id"]))
        frame = pd.DataFrame(rows, columns=["Date", "Company", "Role", "Rounds", "Status", "Score"])
        return frame, gr.Dropdown(choices=choices, value=choices[0][1] if choices else None)

    def open(self, sid: str | None):
        """A past session's transcript and its latest critique."""
        if not sid:
            raise gr.Error("Pick a session from the list first.")
        with readable_errors():
            transcript = render.transcript_html(self.app.export(sid))
            return (transcript, *self.show(self.app.latest_critique(sid)), self.export_file(sid))

    def progress(self):
        """Score per criterion over time, as a line chart and a grid."""
        with readable_errors():
            history = []
            for s in self.app.store.list_sessions():
                critique = self.app.latest_critique(s["id"])
                if critique is not None:
                    history.append((s["created_at"], critique))
        return charts.progress_frame(history), charts.progress_grid_html(history)

    def reload(self):
        """Refresh the list and the progress view together."""
        return (*self.sessions(), *self.progress())
