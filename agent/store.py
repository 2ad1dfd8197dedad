"""Sessions, rounds, turns and critiques in any SQLAlchemy database (SQLite by default).

Every write is its own committed transaction, so a crash loses nothing that was said and
never leaves half a turn: a reply is written once, whole, after it has been produced.
"""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import (JSON, Column, Integer, MetaData, String, Table, Text, UniqueConstraint, create_engine,
                        event, select, update)
from sqlalchemy.exc import IntegrityError, OperationalError

from agent.errors import NotFound, StoreError

META = MetaData()
sessions = Table(
    "sessions", META,
    Column("id", String(32), primary_key=True),
    Column("company_id", String(200), nullable=False),
    Column("company_name", String(200), nullable=False),
    Column("role", String(200), nullable=False),
    Column("difficulty", String(20), nullable=False),
    Column("status", String(20), nullable=False, default="active"),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("key_points", JSON, nullable=False, default=list),
    Column("prompt_versions", JSON, nullable=False, default=dict),
    Column("model", String(200), nullable=False, default=""),
    Column("pack_path", Text, nullable=False, default=""),
)
rounds = Table(
    "rounds", META,
    Column("session_id", String(32), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("name", String(20), nullable=False),
    Column("length", Integer),  # planned candidate lines; None means the round's default
    Column("started_at", String(40), nullable=False),
    Column("ended_at", String(40)),
)
turns = Table(
    "turns", META,
    Column("session_id", String(32), nullable=False, index=True),
    Column("round_idx", Integer, nullable=False),
    Column("idx", Integer, nullable=False),
    Column("role", String(20), nullable=False),
    Column("text", Text, nullable=False),
    Column("at", String(40), nullable=False),
    Column("meta", JSON, nullable=False, default=dict),
    UniqueConstraint("session_id", "round_idx", "idx"),
)
critiques = Table(
    "critiques", META,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(32), nullable=False, index=True),
    Column("created_at", String(40), nullable=False),
    Column("prompt_version", String(100), nullable=False),
    Column("model", String(200), nullable=False),
    Column("body", JSON, nullable=False),
)

# Conversations carried by a client's own message list (the OpenAI-compatible API): a digest of the
# messages so far -> the session that holds exactly those turns.
threads = Table(
    "api_threads", META,
    Column("digest", String(64), primary_key=True),
    Column("session_id", String(32), nullable=False),
    Column("at", String(40), nullable=False),
)


def now() -> str:
    """UTC timestamp in ISO 8601."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class Store:
    """The session store behind a database URL."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.url = url
        self.engine = create_engine(url, connect_args=_connect_args(url))
        if url.startswith("sqlite"):
            _tune_sqlite(self.engine)
        try:
            META.create_all(self.engine)
            _migrate(self.engine)
        except OperationalError as exc:
            raise StoreError(f"Cannot open the database {_redact(url)}: {exc.orig}. "
                             "Check PITCHROOM_DATABASE_URL and that the folder is writable.") from exc

    def create_session(self, *, company_id: str, company_name: str, role: str, difficulty: str, round_name: str,
                       key_points: list[str], prompt_versions: dict, model: str, pack_path: str,
                       round_length: int | None = None) -> str:
        """Create a session with its first round; return its id."""
        sid, ts = uuid.uuid4().hex, now()
        with self.engine.begin() as c:
            c.execute(sessions.insert().values(
                id=sid, company_id=company_id, company_name=company_name, role=role, difficulty=difficulty,
                status="active", created_at=ts, updated_at=ts, key_points=key_points,
                prompt_versions=prompt_versions, model=model, pack_path=pack_path))
            c.execute(rounds.insert().values(session_id=sid, idx=0, name=round_name, length=round_length,
                                             started_at=ts))
        return sid

    def session(self, sid: str) -> dict[str, Any]:
        """One session row as a dict, or NotFound."""
        with self.engine.connect() as c:
            row = c.execute(select(sessions).where(sessions.c.id == sid)).mappings().first()
        if row is None:
            raise NotFound(f"No session {sid!r}; list sessions with `pitchroom sessions`.")
        return dict(row)

    def list_sessions(self, limit: int = 100) -> list[dict[str, Any]]:
        """Newest sessions first."""
        with self.engine.connect() as c:
            rows = c.execute(select(sessions).order_by(sessions.c.created_at.desc()).limit(limit)).mappings()
            return [dict(r) for r in rows]

    def rounds(self, sid: str) -> list[dict[str, Any]]:
        """The session's rounds in order."""
        with self.engine.connect() as c:
            rows = c.execute(select(rounds).where(rounds.c.session_id == sid).order_by(rounds.c.idx))
            return [dict(r) for r in rows.mappings()]

    def add_round(self, sid: str, name: str, length: int | None = None) -> int:
        """Close the current round and open the next; return its index."""
        cur = self.rounds(sid)[-1]
        ts = now()
        with self.engine.begin() as c:
            c.execute(update(rounds).where((rounds.c.session_id == sid) & (rounds.c.idx == cur["idx"]))
                      .values(ended_at=cur["ended_at"] or ts))
            c.execute(rounds.insert().values(session_id=sid, idx=cur["idx"] + 1, name=name, length=length,
                                             started_at=ts))
            c.execute(update(sessions).where(sessions.c.id == sid).values(status="active", updated_at=ts))
        return cur["idx"] + 1

    def set_status(self, sid: str, status: str) -> None:
        """Mark the session active or ended (ending also closes the round)."""
        ts = now()
        with self.engine.begin() as c:
            c.execute(update(sessions).where(sessions.c.id == sid).values(status=status, updated_at=ts))
            if status == "ended":
                c.execute(update(rounds).where((rounds.c.session_id == sid) & rounds.c.ended_at.is_(None))
                          .values(ended_at=ts))

    def update_session(self, sid: str, **values: Any) -> None:
        """Change stored session fields (key points, prompt versions)."""
        with self.engine.begin() as c:
            c.execute(update(sessions).where(sessions.c.id == sid).values(updated_at=now(), **values))

    def append_turn(self, sid: str, round_idx: int, role: str, text: str, meta: dict | None = None) -> int:
        """Commit one whole turn and return its index; retries when another writer got there first."""
        for attempt in range(20):
            try:
                with self.engine.begin() as c:
                    last = c.execute(select(turns.c.idx).where((turns.c.session_id == sid)
                                     & (turns.c.round_idx == round_idx)).order_by(turns.c.idx.desc())).first()
                    idx = 0 if last is None else last[0] + 1
                    c.execute(turns.insert().values(session_id=sid, round_idx=round_idx, idx=idx, role=role,
                                                    text=text, at=now(), meta=meta or {}))
                    c.execute(update(sessions).where(sessions.c.id == sid).values(updated_at=now()))
                return idx
            except IntegrityError:  # a concurrent writer took this index: take the next one
                time.sleep(0.01 * (attempt + 1))
        raise StoreError(f"Could not store a turn of session {sid} after 20 attempts; the database is overloaded.")

    def turns(self, sid: str, round_idx: int | None = None) -> list[dict[str, Any]]:
        """Turns in order, optionally of one round."""
        q = select(turns).where(turns.c.session_id == sid)
        if round_idx is not None:
            q = q.where(turns.c.round_idx == round_idx)
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(q.order_by(turns.c.round_idx, turns.c.idx)).mappings()]

    def save_critique(self, sid: str, body: dict, prompt_version: str, model: str) -> None:
        """Store a critique with the prompt version and model that produced it."""
        with self.engine.begin() as c:
            c.execute(critiques.insert().values(session_id=sid, created_at=now(), prompt_version=prompt_version,
                                                model=model, body=body))

    def latest_critique(self, sid: str) -> dict[str, Any] | None:
        """The newest critique of a session, if any."""
        with self.engine.connect() as c:
            row = c.execute(select(critiques).where(critiques.c.session_id == sid)
                            .order_by(critiques.c.id.desc())).mappings().first()
        return dict(row) if row else None

    def thread_session(self, digest: str) -> str | None:
        """The session a client's conversation digest points at, if any."""
        with self.engine.connect() as c:
            return c.execute(select(threads.c.session_id).where(threads.c.digest == digest)).scalar()

    def link_thread(self, digest: str, sid: str) -> None:
        """Point a conversation digest at a session (the newest one wins)."""
        try:
            with self.engine.begin() as c:
                c.execute(threads.insert().values(digest=digest, session_id=sid, at=now()))
        except IntegrityError:  # the same history was answered before
            with self.engine.begin() as c:
                c.execute(update(threads).where(threads.c.digest == digest).values(session_id=sid, at=now()))


def _migrate(engine) -> None:
    """Add columns that newer versions introduced to databases made by older ones."""
    from sqlalchemy import inspect, text

    if "length" not in {c["name"] for c in inspect(engine).get_columns("rounds")}:
        with engine.begin() as c:
            c.execute(text("ALTER TABLE rounds ADD COLUMN length INTEGER"))


def _connect_args(url: str) -> dict:
    # Long busy timeout: several processes may write one SQLite file at once.
    return {"timeout": 30, "check_same_thread": False} if url.startswith("sqlite") else {}


def _tune_sqlite(engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below be the only transaction start
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # take the write lock up front: no lost updates


def _redact(url: str) -> str:
    """Hide a password in a database URL before it reaches a message."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def dumps(obj: Any) -> str:
    """JSON for exports."""
    return json.dumps(obj, ensure_ascii=False, indent=2)
