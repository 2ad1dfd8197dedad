"""Event handlers for the steps before and during the interview: setup, preparation, chat."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import gradio as gr

from agent.errors import PitchroomError
from agent.session import Pitchroom
from ui import web_render as render
from ui.web_status import Warmup

log = logging.getLogger(__name__)
NO_SESSION = "No interview is running yet: pick a company in Setup, then press “Start the interview”."


@contextmanager
def readable_errors() -> Iterator[None]:
    """Turn any failure into a gr.Error with a readable message (never a stack trace in the page)."""
    try:
        yield
    except gr.Error:
        raise
    except PitchroomError as exc:
        raise gr.Error(str(exc), title="Pitchroom", print_exception=False) from exc
    except Exception as exc:  # unexpected: keep the detail in the server log, show a short message
        log.exception("web handler failed")
        raise gr.Error(f"Unexpected problem ({type(exc).__name__}: {exc}). Details are in the server log.",
                       title="Pitchroom", print_exception=False) from exc


def lines(text: str | None) -> list[str]:
    """Non-empty lines of a textbox (one key point per line)."""
    return [ln.strip(" -•\t") for ln in (text or "").splitlines() if ln.strip(" -•\t")]


class Flow:
    """Setup, preparation and interview handlers over one Pitchroom."""

    def __init__(self, app: Pitchroom, warmup: Warmup | None = None) -> None:
        self.app, self.warmup = app, warmup

    # --- setup ---------------------------------------------------------------------------
    def pack_choices(self) -> list[tuple[str, str]]:
        """(label, id) of every pack for the dropdown."""
        with readable_errors():
            return [(f"{p.name} — {p.role}", p.id) for p in self.app.companies()]

    def on_pack(self, pack_id: str | None) -> tuple[str, str]:
        """Show the chosen pack's interviewer profile and prefill the role."""
        if not pack_id:
            return '<p class="pr-muted">Pick a company to see who you will meet.</p>', ""
        with readable_errors():
            pack = self.app.packs.get(pack_id)
        return render.profile_card(pack), pack.role

    def add_pack(self, upload: str | None, pack_id: str, text: str, progress=gr.Progress()):
        """Validate, store and ingest an uploaded or pasted pack; select it."""
        if upload:
            path, body = Path(upload), None
        elif (text or "").strip():
            if not (pack_id or "").strip():
                raise gr.Error("Give the pasted pack an id (lowercase letters, digits and dashes, e.g. acme-corp).")
            path, body = Path(f"{pack_id.strip()}.md"), text
        else:
            raise gr.Error("Choose a .md pack file or paste your research, then press “Add this company”.")
        progress(0.3, desc="Reading and embedding your research…")
        with readable_errors():
            pack, stats = self.app.add_company(path, body)
        note = (f"Added **{pack.name}** ({pack.id}): {stats['added']} passages embedded, {stats['kept']} unchanged, "
                f"{stats['removed']} removed.")
        return gr.Dropdown(choices=self.pack_choices(), value=pack.id), note

    # --- preparation ---------------------------------------------------------------------
    def prepare(self, pack_id: str | None, role: str, points: str, progress=gr.Progress()):
        """Build the prep brief; offer its key points as a hint (the critic checks only what you write)."""
        if not pack_id:
            raise gr.Error("Pick a company first.")
        progress(0.3, desc="Reading the company pack and building your brief…")
        with readable_errors():
            brief = self.app.prep_brief(pack_id, (role or "").strip() or None)
        hint = "Write your own, in your words. Prompts from the brief:\n" + "\n".join(brief.key_points)
        return render.prep_brief_html(brief), gr.Textbox(value=points or "", placeholder=hint), gr.Tabs(selected="prep")

    def start(self, pack_id: str | None, role: str, round_name: str, difficulty: str, points: str,
              progress=gr.Progress()):
        """Open a session and move to the interview."""
        if not pack_id:
            raise gr.Error("Pick a company first.")
        progress(0.3, desc="Opening the interview…")
        with readable_errors():
            sid = self.app.start(pack_id, role=(role or "").strip() or None, round_name=round_name,
                                 difficulty=difficulty, key_points=lines(points))
            header = self.header(sid)
        return sid, [], header, gr.Tabs(selected="interview"), "Say hello to open the meeting."

    def header(self, sid: str) -> str:
        """The strip above the chat for a session."""
        s = self.app.store.session(sid)
        pack = self.app.packs.get(s["pack_path"] or s["company_id"])
        return render.interview_header(s["company_name"], s["role"], pack.interviewer.name,
                                       self.app.store.rounds(sid)[-1]["name"], s["difficulty"])

    # --- interview -----------------------------------------------------------------------
    def messages(self, sid: str) -> list[dict]:
        """The chat as stored (the store is the truth, not the widget)."""
        return render.chat_messages(self.app.export(sid)) if sid else []

    def _unanswered(self, sid: str, text: str) -> bool:
        """True when this exact line is stored but its reply failed: answer it instead of storing it twice."""
        round_idx = self.app.store.rounds(sid)[-1]["idx"]
        turns = self.app.store.turns(sid, round_idx)
        return bool(turns) and turns[-1]["role"] == "candidate" and turns[-1]["text"] == text.strip()

    def send(self, sid: str, text: str, history: list[dict]):
        """Stream the interviewer's reply; on error keep the typed text in the box and say why."""
        text = text or ""
        if not text.strip():
            yield history, text, ""
            return
        if not sid:
            gr.Warning(NO_SESSION)
            yield history, text, f"⚠️ {NO_SESSION}"
            return
        try:
            retry = self._unanswered(sid, text)
            shown = self.messages(sid) if retry else self.messages(sid) + [{"role": "user", "content": text.strip()}]
            waiting = self.warmup is not None and not self.warmup.done
            yield shown, text, ("Waiting for the interviewer model to finish starting…" if waiting
                                else "The interviewer is answering…")
            reply = ""
            for piece in (self.app.retry(sid) if retry else self.app.say(sid, text)):
                reply += piece
                yield shown + [{"role": "assistant", "content": reply}], "", ""
            final = self.messages(sid)
            done = sum(1 for m in final if m["role"] == "user")
            yield final, "", f"{done} of your lines so far. Press “End interview” when you would leave the room."
        except Exception as exc:  # any failure: say why, keep what was typed
            if not isinstance(exc, PitchroomError):
                log.exception("chat turn failed")
            why = str(exc) if isinstance(exc, PitchroomError) else f"Unexpected problem ({type(exc).__name__}: {exc})."
            gr.Warning(why)
            kept = f"⚠️ {why} Your text is still in the box; press Send to try again."
            yield self._safe_messages(sid, history), text, kept

    def _safe_messages(self, sid: str, fallback: list[dict]) -> list[dict]:
        try:
            return self.messages(sid)
        except PitchroomError:
            return fallback

    def end(self, sid: str):
        """End the interview and go to the critique."""
        if not sid:
            raise gr.Error(NO_SESSION)
        with readable_errors():
            self.app.end(sid)
        return "Interview ended. Your critique is being prepared…", gr.Tabs(selected="critique")

    def resume(self, sid: str | None):
        """Load a stored session into the interview tab."""
        if not sid:
            raise gr.Error("Pick a session from the list first.")
        with readable_errors():
            return self.messages(sid), self.header(sid), gr.Tabs(selected="interview")

    def next_round(self, sid: str, round_name: str):
        """Open a later round of the same session, keeping the history."""
        if not sid:
            raise gr.Error(NO_SESSION)
        with readable_errors():
            self.app.next_round(sid, round_name)
            return (self.messages(sid), self.header(sid), gr.Tabs(selected="interview"),
                    f"The {round_name} round has started; the interviewer remembers the earlier rounds.")
