"""The facade every front door uses: companies, sessions, turns, rounds, exports."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from agent import guard, notes, prompts
from agent.config import DIFFICULTIES, ROUNDS, Settings
from agent.errors import Conflict, InputRejected, NotFound
from agent.interviewer import Interviewer, Reply, TurnContext, first_sentence
from agent.llm import ChatModel
from agent.packs import Pack, PackLibrary
from agent.schemas import Critique, NoteCritique, PrepBrief
from agent.store import Store
from agent.transcript import FORMAT, SessionExport, parse_export


class Pitchroom:
    """One object per process; the model, Chroma and the database are opened on first use."""

    def __init__(self, settings: Settings | None = None, *, model: ChatModel | None = None,
                 knowledge=None, store: Store | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self._model, self._kb, self._store = model, knowledge, store
        s = self.settings
        self.packs = PackLibrary(s.knowledge_dir / "companies", s.data_dir / "companies")
        self._ingested: set[str] = set()
        # The UI's warm-up thread and request threads may open these at once; Chroma breaks if opened twice.
        self._open_lock = threading.RLock()

    @property
    def model(self) -> ChatModel:
        """The chat model (the embedded server starts here, on first use)."""
        with self._open_lock:
            if self._model is None:
                from agent.backend import build_chat_model

                self._model = build_chat_model(self.settings)
        return self._model

    @property
    def store(self) -> Store:
        """The session database."""
        with self._open_lock:
            if self._store is None:
                self._store = Store(self.settings.database_url)
        return self._store

    @property
    def knowledge(self):
        """The Chroma-backed fact store."""
        with self._open_lock:
            if self._kb is None:
                from agent.knowledge import KnowledgeBase

                self._kb = KnowledgeBase(self.settings)
        return self._kb

    # --- companies -------------------------------------------------------------------------
    def company(self, ref: str) -> Pack:
        """A pack by id or path, ingested into Chroma if its content changed."""
        pack = self.packs.get(ref)
        if pack.path not in self._ingested:
            self.knowledge.ingest(pack)
            self._ingested.add(pack.path)
        return pack

    def companies(self) -> list[Pack]:
        """Every known pack (not ingested until used)."""
        return [self.packs.get(i) for i in self.packs.ids()]

    def add_company(self, path: Path, text: str | None = None) -> tuple[Pack, dict[str, int]]:
        """Validate, store and ingest a new pack; return it with the ingest counts."""
        pack = self.packs.add(path, text)
        stats = self.knowledge.ingest(pack)
        self._ingested.add(pack.path)
        return pack, stats

    # --- sessions ----------------------------------------------------------------------------
    def start(self, company: str, *, role: str | None = None, round_name: str = "screen",
              difficulty: str = "realistic", key_points: list[str] | None = None,
              round_length: int | None = None) -> str:
        """Start a session against a pack; return its id. `round_length` plans the round's candidate lines."""
        _check_choice("round", round_name, ROUNDS)
        _check_choice("difficulty", difficulty, DIFFICULTIES)
        pack = self.company(company)
        versions = {"interviewer": prompts.load("interviewer", self.settings.prompts_dir).tag}
        return self.store.create_session(
            company_id=pack.id, company_name=pack.name, role=role or pack.role, difficulty=difficulty,
            round_name=round_name, key_points=[k.strip() for k in key_points or [] if k.strip()],
            prompt_versions=versions, model=self.model_label(), pack_path=pack.path,
            round_length=_check_length(round_length))

    def model_label(self) -> str:
        """Which model plays the interviewer, without starting it."""
        s = self.settings
        if self._model is not None:
            return self._model.name
        return s.model or "gpt-4o-mini" if s.openai_base_url else f"local:{(s.local_model or 'default').__str__()}"

    def say(self, sid: str, text: str) -> Iterator[str]:
        """Store the candidate's line, then stream the interviewer's reply and store it whole."""
        text = self._check_message(text)
        session = self.store.session(sid)
        if session["status"] == "ended":
            raise Conflict(f"Session {sid} has ended; start a new round with `next_round` or a new session.")
        round_idx = self.store.rounds(sid)[-1]["idx"]
        self.store.append_turn(sid, round_idx, "candidate", text)  # stored before any model call
        yield from self._reply(sid, session, round_idx)

    def reply(self, sid: str, text: str) -> str:
        """Non-streaming `say`."""
        return "".join(self.say(sid, text))

    def retry(self, sid: str) -> Iterator[str]:
        """Answer the last candidate line again, e.g. after the model was down."""
        session = self.store.session(sid)
        round_idx = self.store.rounds(sid)[-1]["idx"]
        history = self.store.turns(sid, round_idx)
        if not history or history[-1]["role"] != "candidate":
            raise Conflict(f"Session {sid} has no unanswered candidate line to retry.")
        yield from self._reply(sid, session, round_idx)

    def _reply(self, sid: str, session: dict, round_idx: int) -> Iterator[str]:
        ctx = self._context(sid, session, round_idx)
        result = Reply()
        interviewer = Interviewer(self.model, self.knowledge.retrieve,
                                  prompts.load("interviewer", self.settings.prompts_dir),
                                  budget=self.settings.context_budget, reply_tokens=self.settings.reply_tokens)
        yield from interviewer.stream(ctx, result)
        result.meta["model"] = self.model.name
        self.store.append_turn(sid, round_idx, "interviewer", result.text, result.meta)

    def _context(self, sid: str, session: dict, round_idx: int) -> TurnContext:
        all_turns = self.store.turns(sid)
        rounds = self.store.rounds(sid)
        pack = self.company(session["pack_path"] or session["company_id"])
        return TurnContext(
            pack=pack, round_name=rounds[-1]["name"], difficulty=session["difficulty"], round_length=rounds[-1]["length"],
            history=[t for t in all_turns if t["round_idx"] == round_idx],
            earlier=_earlier_summary(all_turns, rounds, round_idx),
            raised_doubts={t["meta"].get("doubt") for t in all_turns if t["meta"].get("doubt")},
            doubt_questions=notes.doubt_questions())

    def _check_message(self, text: str) -> str:
        limit = self.settings.max_message_chars
        if not isinstance(text, str) or not text.strip():
            raise InputRejected("The message is empty; type what you would say to the interviewer.")
        if len(text) > limit:
            raise InputRejected(f"The message is {len(text)} characters; the limit is {limit}. "
                                "Say it in fewer words, as you would in a real interview.")
        return text.strip()

    def next_round(self, sid: str, round_name: str, round_length: int | None = None) -> int:
        """Open a later round of the same session; the interviewer gets a summary of earlier ones."""
        _check_choice("round", round_name, ROUNDS)
        self.store.session(sid)
        return self.store.add_round(sid, round_name, _check_length(round_length))

    def end(self, sid: str) -> None:
        """End the interview."""
        self.store.session(sid)
        self.store.set_status(sid, "ended")

    def export(self, sid: str) -> SessionExport:
        """The session in the export format."""
        s = self.store.session(sid)
        turns = self.store.turns(sid)
        rounds = [{"round": r["name"], "turns": [{"role": t["role"], "text": t["text"], "at": t["at"]}
                                                 for t in turns if t["round_idx"] == r["idx"]]}
                  for r in self.store.rounds(sid)]
        return SessionExport.model_validate({
            "format": FORMAT, "id": s["id"], "company": {"id": s["company_id"], "name": s["company_name"]},
            "role": s["role"], "difficulty": s["difficulty"], "status": s["status"], "created_at": s["created_at"],
            "key_points": s["key_points"], "prompt_versions": s["prompt_versions"], "model": s["model"],
            "rounds": rounds})

    # --- after the interview -------------------------------------------------------------
    def critique(self, ref: str) -> Critique:
        """Judge a session id or an export file; a stored session also stores the critique."""
        export = self.load_transcript(ref)
        critique = self.critique_export(export)
        if not Path(ref).suffix and self._has_session(export.id):
            self.store.save_critique(export.id, critique.model_dump(), critique.prompt_version, critique.model)
        return critique

    def critique_export(self, export: SessionExport) -> Critique:
        """Judge a validated transcript (from any source); nothing is stored."""
        from agent.critic import Critic

        pack = self.company(self._pack_ref(export))
        return Critic(lambda: self.model, self.knowledge, self.settings).critique(export, pack)

    def latest_critique(self, sid: str) -> Critique | None:
        """The newest stored critique of a session."""
        row = self.store.latest_critique(sid)
        return Critique.model_validate(row["body"]) if row else None

    def prep_brief(self, company: str, role: str | None = None) -> PrepBrief:
        """What to prepare before this interview."""
        from agent.coach import prep_brief

        return prep_brief(self.company(company), role)

    def follow_up_draft(self, sid: str) -> str:
        """A thank-you note drafted from what was said in this session."""
        from agent.coach import draft_follow_up

        export = self.export(sid)
        return draft_follow_up(self.model, export, self.company(self._pack_ref(export)))

    def check_note(self, sid: str | None, note: str) -> NoteCritique:
        """Critique a follow-up note the candidate wrote (against the session when given)."""
        from agent.coach import check_note

        return check_note(note, self.export(sid) if sid else None)

    def _pack_ref(self, export: SessionExport) -> str:
        if self._has_session(export.id):
            return self.store.session(export.id)["pack_path"] or export.company.id
        return export.company.id

    def _has_session(self, sid: str) -> bool:
        try:
            self.store.session(sid)
            return True
        except NotFound:
            return False

    def load_transcript(self, ref: str) -> SessionExport:
        """A stored session id or an export file, validated."""
        from agent.transcript import load_export

        path = Path(ref)
        if path.suffix == ".json" or path.exists():
            return load_export(path)
        return parse_export(self.export(ref).model_dump(), f"session {ref}")


def _earlier_summary(turns: list[dict], rounds: list[dict], current: int) -> str:
    parts = []
    for rnd in rounds:
        if rnd["idx"] >= current:
            continue
        said = [first_sentence(guard.clean_candidate_text(t["text"]), 18) for t in turns  # goes in the system prompt:
                if t["round_idx"] == rnd["idx"] and t["role"] == "candidate"  # no control tokens, no instructions
                and not guard.looks_like_injection(t["text"])][:5]
        if said:
            parts.append(f"In the {rnd['name']} round the candidate said: " + " | ".join(said))
    return " ".join(parts)


def _check_length(length: int | None) -> int | None:
    if length is not None and not 2 <= length <= 200:
        raise InputRejected(f"round_length {length} is out of range; use 2 to 200 candidate lines.")
    return length


def _check_choice(field: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InputRejected(f"Unknown {field} {value!r}; choose one of {', '.join(allowed)}.")
